// SPDX-License-Identifier: MIT
// The OS memory provider's params builder (umfOsMemoryProviderParams*, UMF
// 0.11 provider_os_memory.h) and the hetmem huge page and weighted
// interleave extensions (hetmem/provider_os_ext.h). Setters check what a
// value alone can tell; provider_os_params_check checks the combination
// when the provider is created (the setters may be called in any order).
#include <string.h>

#include <hetmem/provider_os_ext.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "providers/provider_os.h"

// The huge page sizes of x86-64 (and arm64 with 4 KiB base pages) that
// hugetlbfs offers; MAP_HUGE_2MB / MAP_HUGE_1GB in src/os.
#define HUGE_2M ((size_t)2 << 20)
#define HUGE_1G ((size_t)1 << 30)

#define CHECK_PARAMS(h)                                                                            \
    do {                                                                                           \
        if (unlikely(!(h))) {                                                                      \
            LOG_ERR("NULL params handle");                                                         \
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;                                              \
        }                                                                                          \
    } while (0)

HETMEM_EXPORT umf_result_t
umfOsMemoryProviderParamsCreate(umf_os_memory_provider_params_handle_t *hParams) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    struct umf_os_memory_provider_params_t *p = meta_alloc(sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    // The UMF defaults: read/write, private, no NUMA binding.
    p->protection = UMF_PROTECTION_READ | UMF_PROTECTION_WRITE;
    p->visibility = UMF_MEM_MAP_PRIVATE;
    p->numa_mode = UMF_NUMA_MODE_DEFAULT;
    *hParams = p;
    return UMF_RESULT_SUCCESS;
}

// The owned copies (two arrays and the name). Each setter builds its new
// copy first and frees the old one only on success, so a refused value
// leaves the params as they were. replace_array: *arr has *len elements of
// `size` bytes; (NULL, 0) is "none", a pointer needs a length and a length
// a pointer, n <= NODESET_MAX.
static umf_result_t replace_array(void *arr, unsigned *len, size_t size, const void *src,
                                  unsigned n, const char *what) {
    if ((n && !src) || n > NODESET_MAX) { // length 0 clears, whatever the pointer (UMF)
        LOG_ERR("%s %p with length %u (at most %u)", what, src, n, NODESET_MAX);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    void *copy = NULL;
    if (n && !(copy = meta_alloc((size_t)n * size)))
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    if (n)
        memcpy(copy, src, (size_t)n * size);
    void **old = arr;
    meta_free(*old, (size_t)*len * size);
    *old = copy;
    *len = n;
    return UMF_RESULT_SUCCESS;
}

static void free_name(struct umf_os_memory_provider_params_t *p) {
    if (p->shm_name)
        meta_free(p->shm_name, strlen(p->shm_name) + 1);
    p->shm_name = NULL;
}

// Destroying NULL is allowed, as free(NULL) is.
HETMEM_EXPORT umf_result_t
umfOsMemoryProviderParamsDestroy(umf_os_memory_provider_params_handle_t hParams) {
    if (!hParams)
        return UMF_RESULT_SUCCESS;
    (void)replace_array(&hParams->numa_list, &hParams->numa_list_len, sizeof(unsigned), NULL, 0,
                        "numa_list");
    (void)replace_array(&hParams->partitions, &hParams->partitions_len,
                        sizeof(umf_numa_split_partition_t), NULL, 0, "partitions");
    free_name(hParams);
    meta_free(hParams, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

// Any combination of READ, WRITE and EXEC, or NONE alone (mappings that
// fault on every access: guard regions, memory made accessible later).
HETMEM_EXPORT umf_result_t umfOsMemoryProviderParamsSetProtection(
    umf_os_memory_provider_params_handle_t hParams, unsigned protection) {
    int os_prot;
    PARAMS_SET(hParams, protection, protection, provider_protection_to_os(protection, &os_prot),
               "invalid protection flags 0x%x", protection);
}

// SHARED maps a memfd (or the shm file of SetShmName): other processes can
// map the same pages (IPC), and fork children share them.
HETMEM_EXPORT umf_result_t umfOsMemoryProviderParamsSetVisibility(
    umf_os_memory_provider_params_handle_t hParams, umf_memory_visibility_t visibility) {
    PARAMS_SET(hParams, visibility, visibility,
               visibility == UMF_MEM_MAP_PRIVATE || visibility == UMF_MEM_MAP_SHARED,
               "invalid visibility %d", (int)visibility);
}

// The name may start with one '/' (shm_open(3) spelling); it is stored
// without it. NULL or "" means none (UMF); any other '/', "/" alone, or a
// name too long is refused.
HETMEM_EXPORT umf_result_t umfOsMemoryProviderParamsSetShmName(
    umf_os_memory_provider_params_handle_t hParams, const char *shm_name) {
    CHECK_PARAMS(hParams);
    if (!shm_name || !shm_name[0]) {
        free_name(hParams);
        return UMF_RESULT_SUCCESS;
    }
    const char *n = shm_name[0] == '/' ? shm_name + 1 : shm_name;
    size_t len = strnlen(n, PROVIDER_OS_SHM_NAME_MAX + 1);
    if (len == 0 || len > PROVIDER_OS_SHM_NAME_MAX || strchr(n, '/') || !strcmp(n, ".") ||
        !strcmp(n, "..")) {
        LOG_ERR("invalid shm name \"%.*s\"", 64, shm_name);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    char *copy = meta_strdup(n);
    if (!copy)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    free_name(hParams);
    hParams->shm_name = copy;
    return UMF_RESULT_SUCCESS;
}

// A length of 0 clears the list (UMF); a length needs a pointer.
HETMEM_EXPORT umf_result_t umfOsMemoryProviderParamsSetNumaList(
    umf_os_memory_provider_params_handle_t hParams, unsigned *numa_list, unsigned numa_list_len) {
    CHECK_PARAMS(hParams);
    return replace_array(&hParams->numa_list, &hParams->numa_list_len, sizeof *numa_list,
                         numa_list, numa_list_len, "numa_list");
}

// Whether the mode fits the node list is decided at creation (the list may
// be set after the mode).
HETMEM_EXPORT umf_result_t umfOsMemoryProviderParamsSetNumaMode(
    umf_os_memory_provider_params_handle_t hParams, umf_numa_mode_t numa_mode) {
    PARAMS_SET(hParams, numa_mode, numa_mode, (unsigned)numa_mode <= (unsigned)UMF_NUMA_MODE_LOCAL,
               "invalid NUMA mode %d", (int)numa_mode);
}

// Any value: it is rounded up to the page (or huge page) size when the
// provider is created, and used by UMF_NUMA_MODE_INTERLEAVE only.
HETMEM_EXPORT umf_result_t umfOsMemoryProviderParamsSetPartSize(
    umf_os_memory_provider_params_handle_t hParams, size_t part_size) {
    PARAMS_STORE(hParams, part_size, part_size);
}

// A length of 0 clears the partitions. Targets must be in the node list
// and weights > 0: both checked at creation (the setter takes what UMF's
// does, and the list may be set after the partitions).
HETMEM_EXPORT umf_result_t umfOsMemoryProviderParamsSetPartitions(
    umf_os_memory_provider_params_handle_t hParams, umf_numa_split_partition_t *partitions,
    unsigned partitions_len) {
    CHECK_PARAMS(hParams);
    return replace_array(&hParams->partitions, &hParams->partitions_len, sizeof *partitions,
                         partitions, partitions_len, "partitions");
}

// hetmem extension (hetmem/provider_os_ext.h): UMF 0.11 has no huge page
// parameter; the memkind HUGETLB kinds need one.
HETMEM_EXPORT umf_result_t
hetmem_os_provider_params_set_huge_pages(umf_os_memory_provider_params_handle_t hParams,
                                         size_t page_size) {
    PARAMS_SET(hParams, huge_page_size, page_size,
               page_size == 0 || page_size == HUGE_2M || page_size == HUGE_1G,
               "huge page size %zu is not 0, 2 MiB or 1 GiB", page_size);
}

// hetmem extension (hetmem/provider_os_ext.h): UMF 0.11 has no weighted
// interleave (Linux 6.9+); hmctl -w needs one. Checked against the mode
// and part size by provider_os_params_check.
HETMEM_EXPORT umf_result_t hetmem_os_provider_params_set_weighted_interleave(
    umf_os_memory_provider_params_handle_t hParams, bool weighted) {
    PARAMS_STORE(hParams, weighted_interleave, weighted);
}

// Internal (provider_os.h): hmctl -P's one-node MPOL_PREFERRED_MANY.
umf_result_t provider_os_params_set_preferred_many(umf_os_memory_provider_params_handle_t hParams,
                                                   bool many) {
    PARAMS_STORE(hParams, preferred_many, many);
}

static bool in_list(const struct umf_os_memory_provider_params_t *p, unsigned node) {
    for (unsigned i = 0; i < p->numa_list_len; i++)
        if (p->numa_list[i] == node)
            return true;
    return false;
}

// Protection and visibility need no check here: their setters refuse bad
// values. The rules of UMF's provider_os_memory.h: DEFAULT and LOCAL take no node
// list, BIND, INTERLEAVE and SPLIT need one, PREFERRED may have one (none:
// the local node). Partitions belong to SPLIT and name nodes of the list.
umf_result_t provider_os_params_check(const struct umf_os_memory_provider_params_t *p) {
    bool has_list = p->numa_list_len > 0;
    switch (p->numa_mode) {
    case UMF_NUMA_MODE_DEFAULT:
    case UMF_NUMA_MODE_LOCAL:
        // UMF: "nodemask must be NULL and maxnode must be 0".
        if (has_list) {
            LOG_ERR("NUMA mode %d takes no node list", (int)p->numa_mode);
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;
        }
        break;
    case UMF_NUMA_MODE_BIND:
    case UMF_NUMA_MODE_INTERLEAVE:
    case UMF_NUMA_MODE_SPLIT:
        if (!has_list) {
            LOG_ERR("NUMA mode %d needs a node list", (int)p->numa_mode);
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;
        }
        break;
    case UMF_NUMA_MODE_PREFERRED: break; // no list: the local node
    default:
        LOG_ERR("invalid NUMA mode %d", (int)p->numa_mode);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    for (unsigned i = 0; i < p->numa_list_len; i++) {
        if (p->numa_list[i] >= NODESET_MAX) {
            LOG_ERR("node %u is out of range", p->numa_list[i]);
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;
        }
    }
    if (p->partitions_len && p->numa_mode != UMF_NUMA_MODE_SPLIT) {
        LOG_ERR("partitions are for UMF_NUMA_MODE_SPLIT only");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    for (unsigned i = 0; i < p->partitions_len; i++) {
        if (p->partitions[i].weight == 0 || !in_list(p, p->partitions[i].target)) {
            LOG_ERR("partition %u: weight %u, target %u (must be > 0 and in the node list)", i,
                    p->partitions[i].weight, p->partitions[i].target);
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;
        }
    }
    if (p->weighted_interleave &&
        (p->numa_mode != UMF_NUMA_MODE_INTERLEAVE || p->part_size != 0)) {
        // The kernel's weighted interleave is page by page over a node set.
        LOG_ERR("weighted interleave needs UMF_NUMA_MODE_INTERLEAVE with part size 0");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (p->huge_page_size && p->visibility == UMF_MEM_MAP_SHARED && p->shm_name) {
        // /dev/shm is tmpfs: a named shm file cannot hold hugetlb pages.
        LOG_ERR("huge pages with a shm name are not supported (use a memfd: no name)");
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    return UMF_RESULT_SUCCESS;
}
