// SPDX-License-Identifier: MIT
// The OS memory provider (umfOsMemoryProviderOps): the ops table,
// initialize/finalize, the NUMA modes and private mappings. Shared
// visibility is provider_os_shared.c, the params builder
// provider_os_params.c; the NUMA modes as the kernel sees them:
// docs/providers-pools.md, "The OS provider".
#include <errno.h>
#include <string.h>

#include <hetmem/provider_os_ext.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "providers/provider_os.h"
#include "topology/topo.h"

// The calling thread's last native error of this provider family
// (umfMemoryProviderGetLastNativeError is per thread and lock-free). Before
// any error the record reads UMF_OS_RESULT_SUCCESS.
static __thread provider_native_error_t native_err = {.code = UMF_OS_RESULT_SUCCESS,
                                                       .msg = "success"};

#ifdef HETMEM_TEST_HOOKS
// Test support: the errno the calling thread's next binding fails with.
static __thread int fail_bind_err;
void provider_os_fail_next_bind_for_testing(int err) { fail_bind_err = err; }
#define bind_error_injected() unlikely(fail_bind_err)
static int bind_error_take(void) {
    int err = fail_bind_err;
    fail_bind_err = 0;
    return err;
}
#else
#define bind_error_injected() false // release: no test hook, no TLS load
#define bind_error_take() 0
#endif

umf_result_t provider_os_native_error(int32_t code, int err, const char *what) {
    return provider_set_native_error(&native_err, code, err, what);
}

// ---- binding ---------------------------------------------------------------

// One mbind over [addr, addr+len). Returns SUCCESS, or records BIND_FAILED
// and returns MEMORY_PROVIDER_SPECIFIC (the caller undoes the mapping).
static umf_result_t bind(void *addr, size_t len, os_mpol_t mode, const nodeset_t *nodes) {
    int err;
    if (bind_error_injected()) {
        err = bind_error_take();
    } else {
        err = os_mbind(addr, len, mode, nodes, OS_MBIND_STRICT);
    }
    if (likely(err == 0))
        return UMF_RESULT_SUCCESS;
    LOG_ERR("binding %p+%zu (policy %d) failed: %s", addr, len, (int)mode, LOG_STRERROR(err));
    return provider_os_native_error(UMF_OS_RESULT_ERROR_BIND_FAILED, err,
                                    "binding memory to NUMA nodes failed");
}

static nodeset_t one_node(unsigned node) {
    nodeset_t s;
    nodeset_zero(&s);
    nodeset_set(&s, node);
    return s;
}

// The pieces of an allocation of `len` bytes that go to single nodes
// (INTERLEAVE with parts, SPLIT). Calls fn(ctx, offset, length, node) for
// each non-empty piece in address order and stops at the first failure.
// `first` is the list index of the first INTERLEAVE part.
typedef umf_result_t (*piece_fn)(void *ctx, size_t off, size_t len, unsigned node);

static umf_result_t for_each_piece(const provider_os_t *p, size_t len, unsigned first,
                                   piece_fn fn, void *ctx) {
    if (p->mode == UMF_NUMA_MODE_INTERLEAVE) {
        unsigned idx = first % p->list_len;
        for (size_t off = 0; off < len; off += p->part_size) {
            size_t l = len - off < p->part_size ? len - off : p->part_size;
            umf_result_t r = fn(ctx, off, l, p->list[idx]);
            if (r != UMF_RESULT_SUCCESS)
                return r;
            idx = idx + 1 == p->list_len ? 0 : idx + 1;
        }
        return UMF_RESULT_SUCCESS;
    }
    // SPLIT: cumulative boundaries, so the pieces add up to exactly P pages
    // and each partition's share is within one page of its weight.
    size_t pages = len / p->unit, start = 0;
    uint64_t cum = 0;
    for (unsigned i = 0; i < p->parts_len; i++) {
        cum += p->parts[i].weight;
        size_t end = (size_t)((unsigned __int128)pages * cum / p->parts_weight);
        if (end > start) {
            umf_result_t r =
                fn(ctx, start * p->unit, (end - start) * p->unit, p->parts[i].node);
            if (r != UMF_RESULT_SUCCESS)
                return r;
        }
        start = end;
    }
    return UMF_RESULT_SUCCESS;
}

static umf_result_t bind_piece(void *ctx, size_t off, size_t len, unsigned node) {
    nodeset_t s = one_node(node);
    return bind((char *)ctx + off, len, OS_MPOL_BIND, &s);
}

static bool has_pieces(const provider_os_t *p) {
    return p->mode == UMF_NUMA_MODE_SPLIT ||
           (p->mode == UMF_NUMA_MODE_INTERLEAVE && p->part_size != 0);
}

// The list index of an INTERLEAVE allocation's first part: the allocations
// together walk the list part by part (UMF does the same), so that many
// allocations smaller than a part still spread over the nodes.
static unsigned interleave_first(provider_os_t *p, size_t len) {
    if (p->mode != UMF_NUMA_MODE_INTERLEAVE || p->part_size == 0)
        return 0;
    uint64_t pos = atomic_fetch_add_explicit(&p->interleave_pos, len, memory_order_relaxed);
    return (unsigned)((pos / p->part_size) % p->list_len);
}

// Binds with a mode that newer kernels have (`mode`, while *have); EINVAL
// says the kernel lacks it: if it takes `old` over `old_nodes`, *have is
// cleared and `old` is used from now on (the caller checks *have).
static umf_result_t bind_newer(void *addr, size_t len, int mode, const nodeset_t *nodes,
                               atomic_bool *have, int old, const nodeset_t *old_nodes) {
    if (bind_error_injected())
        return bind(addr, len, mode, nodes); // takes the test error
    int err = os_mbind(addr, len, mode, nodes, OS_MBIND_STRICT);
    if (err != EINVAL)
        return err ? bind(addr, len, mode, nodes) /* records it */ : UMF_RESULT_SUCCESS;
    umf_result_t r = bind(addr, len, old, old_nodes);
    if (r == UMF_RESULT_SUCCESS && atomic_exchange(have, false))
        LOG_WARN("NUMA policy %d unsupported by the kernel; using %d instead", mode, old);
    return r;
}

// Page-wise INTERLEAVE: MPOL_WEIGHTED_INTERLEAVE when asked for
// (hetmem_os_provider_params_set_weighted_interleave) and the kernel has it
// (6.9+), else MPOL_INTERLEAVE. The weights are the kernel's (sysfs), not ours.
static umf_result_t bind_interleave(provider_os_t *p, void *addr, size_t len) {
    if (!atomic_load_explicit(&p->weighted, memory_order_relaxed))
        return bind(addr, len, OS_MPOL_INTERLEAVE, &p->nodes);
    return bind_newer(addr, len, OS_MPOL_WEIGHTED_INTERLEAVE, &p->nodes, &p->weighted,
                      OS_MPOL_INTERLEAVE, &p->nodes);
}

// Applies the provider's NUMA mode to a fresh mapping (no page present).
static umf_result_t apply_policy(provider_os_t *p, void *addr, size_t len, unsigned first) {
    switch (p->mode) {
    case UMF_NUMA_MODE_DEFAULT: return UMF_RESULT_SUCCESS;
    case UMF_NUMA_MODE_BIND: return bind(addr, len, OS_MPOL_BIND, &p->nodes);
    case UMF_NUMA_MODE_INTERLEAVE:
        if (p->part_size == 0)
            return bind_interleave(p, addr, len);
        return for_each_piece(p, len, first, bind_piece, addr);
    case UMF_NUMA_MODE_SPLIT: return for_each_piece(p, len, 0, bind_piece, addr);
    case UMF_NUMA_MODE_LOCAL: return bind(addr, len, OS_MPOL_LOCAL, NULL);
    case UMF_NUMA_MODE_PREFERRED: break;
    }
    if (p->list_len == 0)
        return bind(addr, len, OS_MPOL_LOCAL, NULL);
    nodeset_t first_node = one_node(p->list[0]);
    if ((nodeset_count(&p->nodes) == 1 && !p->many_always) ||
        !atomic_load_explicit(&p->preferred_many, memory_order_relaxed))
        return bind(addr, len, OS_MPOL_PREFERRED, &first_node);
    // Before 5.15 (no MPOL_PREFERRED_MANY): the first node is preferred.
    return bind_newer(addr, len, OS_MPOL_PREFERRED_MANY, &p->nodes, &p->preferred_many,
                      OS_MPOL_PREFERRED, &first_node);
}

// The shared path binds from inside provider_os_shared_alloc.
typedef struct bind_ctx_t {
    provider_os_t *p;
    unsigned first;
} bind_ctx_t;

static umf_result_t apply_policy_cb(void *ctx, void *addr, size_t len) {
    bind_ctx_t *c = ctx;
    return apply_policy(c->p, addr, len, c->first);
}

// ---- huge pages ------------------------------------------------------------

typedef struct huge_need_t {
    unsigned node;
    uint64_t bytes;
} huge_need_t;

static umf_result_t count_node(void *ctx, size_t off, size_t len, unsigned node) {
    (void)off;
    huge_need_t *n = ctx;
    if (node == n->node)
        n->bytes += len;
    return UMF_RESULT_SUCCESS;
}

// With huge pages and a binding that allows no fallback (BIND, SPLIT,
// INTERLEAVE parts), a fault that finds no free huge page on its nodes
// raises SIGBUS: mmap only reserves from the global pool. Check the nodes'
// free huge pages first so that the common case is a clean OUT_OF_HOST_MEMORY.
// Best effort: another process may take the pages between this check and
// the first touch (TODO(#os-provider): populate with MADV_POPULATE_WRITE
// once src/os offers it, which fails with ENOMEM instead of SIGBUS).
static umf_result_t huge_check(provider_os_t *p, size_t len, unsigned first) {
    if (!p->huge_flags || (p->mode != UMF_NUMA_MODE_BIND && !has_pieces(p)))
        return UMF_RESULT_SUCCESS;
    (void)topo_init();
    if (topo_node_count() == 0)
        return UMF_RESULT_SUCCESS; // no topology: cannot tell, let the kernel decide
    uint64_t total_free = 0;
    for (int n = nodeset_next(&p->nodes, 0); n >= 0; n = nodeset_next(&p->nodes, (unsigned)n + 1)) {
        uint64_t free_pages = 0;
        if (topo_node_hugepages_free((unsigned)n, p->unit, &free_pages) != 0)
            return UMF_RESULT_SUCCESS;
        total_free += free_pages;
        if (p->mode == UMF_NUMA_MODE_BIND)
            continue;
        huge_need_t need = {(unsigned)n, 0};
        (void)for_each_piece(p, len, first, count_node, &need);
        if (need.bytes / p->unit > free_pages) {
            LOG_INFO("node %d has %llu free huge pages, %llu needed", n,
                     (unsigned long long)free_pages, (unsigned long long)(need.bytes / p->unit));
            return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        }
    }
    if (p->mode == UMF_NUMA_MODE_BIND && len / p->unit > total_free) {
        LOG_INFO("the bound nodes have %llu free huge pages, %zu needed",
                 (unsigned long long)total_free, len / p->unit);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    return UMF_RESULT_SUCCESS;
}

// ---- initialize / finalize ---------------------------------------------------

// Every listed node must exist (and have memory). The topology layer knows;
// where it cannot tell (not discovered), the kernel is asked: binding a
// scratch page to a node that is not online fails with EINVAL.
static umf_result_t check_nodes(const unsigned *list, unsigned len) {
    if (len == 0)
        return UMF_RESULT_SUCCESS;
    (void)topo_init();
    if (topo_node_count() > 0) {
        for (unsigned i = 0; i < len; i++) {
            if (!topo_node(list[i])) {
                LOG_ERR("NUMA node %u does not exist (or has no memory)", list[i]);
                return UMF_RESULT_ERROR_INVALID_ARGUMENT;
            }
        }
        return UMF_RESULT_SUCCESS;
    }
    size_t ps = os_page_size();
    void *probe;
    int err = os_map_anon(NULL, ps, 0, OS_PROT_NONE, OS_MAP_NORESERVE, &probe);
    if (err)
        return provider_errno_to_result(err);
    umf_result_t r = UMF_RESULT_SUCCESS;
    for (unsigned i = 0; i < len && r == UMF_RESULT_SUCCESS; i++) {
        nodeset_t s = one_node(list[i]);
        if (os_mbind(probe, ps, OS_MPOL_BIND, &s, 0) != 0) {
            LOG_ERR("NUMA node %u is not usable", list[i]);
            r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        }
    }
    (void)os_unmap(probe, ps);
    return r;
}

static void provider_free(provider_os_t *p) {
    meta_free(p->list, (size_t)p->list_len * sizeof *p->list);
    meta_free(p->parts, (size_t)p->parts_len * sizeof *p->parts);
    meta_free(p, sizeof *p);
}

// SPLIT partitions: the given ones, or the list with weight 1 each.
static umf_result_t init_parts(provider_os_t *p, const struct umf_os_memory_provider_params_t *in) {
    unsigned n = in->partitions_len ? in->partitions_len : in->numa_list_len;
    p->parts = meta_alloc((size_t)n * sizeof *p->parts);
    if (!p->parts)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->parts_len = n;
    for (unsigned i = 0; i < n; i++) {
        p->parts[i].weight = in->partitions_len ? in->partitions[i].weight : 1;
        p->parts[i].node = in->partitions_len ? in->partitions[i].target : in->numa_list[i];
        p->parts_weight += p->parts[i].weight;
    }
    return UMF_RESULT_SUCCESS;
}

static umf_result_t provider_os_initialize(void *params, void **provider) {
    if (!params || !provider) {
        LOG_ERR("NULL %s", !params ? "params" : "provider");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    const struct umf_os_memory_provider_params_t *in = params;
    umf_result_t r = provider_os_params_check(in);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    r = check_nodes(in->numa_list, in->numa_list_len);
    if (r != UMF_RESULT_SUCCESS)
        return r;

    provider_os_t *p = meta_alloc(sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->fd = -1;
    (void)provider_protection_to_os(in->protection, &p->prot); // checked by the setter
    p->unit = in->huge_page_size ? in->huge_page_size : os_page_size();
    p->huge_flags = in->huge_page_size == 0                ? 0
                    : in->huge_page_size == ((size_t)2 << 20) ? OS_MAP_HUGE_2M
                                                              : OS_MAP_HUGE_1G;
    p->mode = in->numa_mode;
    atomic_init(&p->interleave_pos, 0);
    atomic_init(&p->preferred_many, true);
    p->many_always = in->numa_mode == UMF_NUMA_MODE_PREFERRED && in->preferred_many;
    atomic_init(&p->weighted, in->weighted_interleave);
    nodeset_zero(&p->nodes);
    if (in->numa_list_len) {
        p->list = meta_alloc((size_t)in->numa_list_len * sizeof *p->list);
        if (!p->list) {
            r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
            goto err_free;
        }
        p->list_len = in->numa_list_len;
        memcpy(p->list, in->numa_list, (size_t)p->list_len * sizeof *p->list);
        for (unsigned i = 0; i < p->list_len; i++)
            nodeset_set(&p->nodes, p->list[i]);
    }
    // part_size matters to INTERLEAVE only (UMF ignores it elsewhere too).
    if (p->mode == UMF_NUMA_MODE_INTERLEAVE && in->part_size &&
        !align_up_checked(in->part_size, p->unit, &p->part_size)) {
        LOG_ERR("part size %zu cannot be rounded up to %zu", in->part_size, p->unit);
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        goto err_free;
    }
    if (p->mode == UMF_NUMA_MODE_SPLIT && (r = init_parts(p, in)) != UMF_RESULT_SUCCESS)
        goto err_free;
    if (in->visibility == UMF_MEM_MAP_SHARED) {
        p->shared = true;
        r = provider_os_shared_init(p, in->shm_name);
        if (r != UMF_RESULT_SUCCESS)
            goto err_free;
    }
    LOG_INFO("OS provider: mode %d, %u node(s), unit %zu, %s", (int)p->mode, p->list_len, p->unit,
             p->shared ? "shared" : "private");
    *provider = p;
    return UMF_RESULT_SUCCESS;

err_free:
    provider_free(p);
    return r;
}

static void os_finalize(void *provider) {
    provider_os_t *p = provider;
    if (!p)
        return;
    if (p->shared)
        provider_os_shared_fini(p);
    provider_free(p);
}

// ---- allocation ----------------------------------------------------------------

umf_result_t provider_os_alloc_error(int err, const char *what) {
    LOG_ERR("%s: %s", what, LOG_STRERROR(err));
    umf_result_t r = provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err, what);
    // Running out of memory (or of huge pages, or tmpfs space) is not provider-specific.
    return err == ENOMEM || err == ENOSPC ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY : r;
}

// Lengths are whole units and alignments at least one unit, so that any part
// of an allocation can later be freed, purged or split at unit boundaries.
// Private memory takes no lock (the interleave position is one atomic add).
static umf_result_t os_alloc(void *provider, size_t size, size_t alignment, void **resultPtr) {
    provider_os_t *p = provider;
    if (!resultPtr || size == 0) {
        LOG_ERR("invalid allocation of %zu bytes", size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (alignment && alignment % p->unit && p->unit % alignment) {
        LOG_ERR("alignment %zu is neither a multiple nor a divider of %zu", alignment, p->unit);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT; // UMF's code
    }
    size_t len, align = alignment > p->unit ? alignment : p->unit;
    if (!align_up_checked(size, p->unit, &len))
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    unsigned first = interleave_first(p, len);
    umf_result_t r = huge_check(p, len, first);
    if (r != UMF_RESULT_SUCCESS)
        return r;

    void *addr;
    if (p->shared) {
        bind_ctx_t ctx = {p, first};
        r = provider_os_shared_alloc(p, len, align, apply_policy_cb, &ctx, &addr);
        if (r != UMF_RESULT_SUCCESS)
            return r;
    } else {
        int err = os_map_anon(NULL, len, align, p->prot, p->huge_flags, &addr);
        if (err)
            return provider_os_alloc_error(err, "mapping memory failed");
        r = apply_policy(p, addr, len, first);
        if (r != UMF_RESULT_SUCCESS) {
            (void)os_unmap(addr, len);
            return r;
        }
    }
    if (unlikely((uintptr_t)addr % align)) {
        // The OS layer guarantees it; a wrong address must never escape.
        LOG_ERR("mapping %p is not aligned to %zu", addr, align);
        if (p->shared)
            (void)provider_os_shared_drop(p, addr, len, true);
        else
            (void)os_unmap(addr, len);
        return provider_os_native_error(UMF_OS_RESULT_ERROR_ADDRESS_NOT_ALIGNED, 0,
                                        "allocated address is not aligned");
    }
    *resultPtr = addr;
    return UMF_RESULT_SUCCESS;
}

// [ptr, ptr+size) rounded out to whole units; false when ptr is not the
// start of a unit (no allocation of ours starts there).
static bool unit_range(const provider_os_t *p, const void *ptr, size_t size, size_t *len) {
    return size && IS_ALIGNED((uintptr_t)ptr, p->unit) && align_up_checked(size, p->unit, len);
}

static umf_result_t os_free(void *provider, void *ptr, size_t size) {
    provider_os_t *p = provider;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    size_t len;
    if (!unit_range(p, ptr, size, &len)) { // munmap's answer, as in UMF
        LOG_ERR("invalid free of %p, %zu bytes", ptr, size);
        return provider_os_native_error(UMF_OS_RESULT_ERROR_FREE_FAILED, EINVAL, "invalid free");
    }
    if (p->shared)
        return provider_os_shared_drop(p, ptr, len, true);
    int err = os_unmap(ptr, len);
    if (err)
        return provider_os_native_error(UMF_OS_RESULT_ERROR_FREE_FAILED, err,
                                        "unmapping memory failed");
    return UMF_RESULT_SUCCESS;
}

static void os_get_last_native_error(void *provider, const char **ppMessage, int32_t *pError) {
    (void)provider;
    provider_native_error_get(&native_err, ppMessage, pError);
}

// Both page sizes are the unit: the base page, or the huge page size when
// huge pages were asked for (hetmem_os_provider_params_set_huge_pages).
static umf_result_t os_get_recommended_page_size(void *provider, size_t size, size_t *pageSize) {
    (void)size;
    if (!pageSize)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    *pageSize = ((provider_os_t *)provider)->unit;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t os_get_min_page_size(void *provider, void *ptr, size_t *pageSize) {
    (void)ptr;
    return os_get_recommended_page_size(provider, 0, pageSize);
}

static const char *os_get_name(void *provider) {
    (void)provider;
    return "OS";
}

// ---- purge, split, merge ------------------------------------------------------------
// Shared memory lives in the fd, so dropping PTEs frees nothing: both purges
// punch the file range (reads back zeros). For purge_lazy that is allowed -
// "may discard whenever it likes" includes now - and it returns the memory,
// which is what the caller purges for.

static umf_result_t purge(provider_os_t *p, void *ptr, size_t size, os_advice_t adv,
                          int32_t code, const char *what) {
    size_t len;
    if (!unit_range(p, ptr, size, &len) || len != size) {
        LOG_ERR("purge of %p+%zu is not aligned to %zu", ptr, size, p->unit);
        return UMF_RESULT_ERROR_INVALID_ALIGNMENT;
    }
    if (p->shared)
        return provider_os_shared_drop(p, ptr, len, false);
    int err = os_madvise(ptr, len, adv);
    if (err)
        return provider_os_native_error(code, err, what);
    return UMF_RESULT_SUCCESS;
}

static umf_result_t os_purge_lazy(void *provider, void *ptr, size_t size) {
    return purge(provider, ptr, size, OS_ADV_FREE, UMF_OS_RESULT_ERROR_PURGE_LAZY_FAILED,
                 "lazy purging failed");
}

static umf_result_t os_purge_force(void *provider, void *ptr, size_t size) {
    return purge(provider, ptr, size, OS_ADV_DONTNEED, UMF_OS_RESULT_ERROR_PURGE_FORCE_FAILED,
                 "forced purging failed");
}

// Private memory keeps no record per allocation: a split or merge at unit
// boundaries is always valid (munmap works on any such range). Shared memory
// updates the extent map.
static umf_result_t os_allocation_split(void *provider, void *ptr, size_t totalSize,
                                        size_t firstSize) {
    provider_os_t *p = provider;
    size_t len;
    if (!unit_range(p, ptr, totalSize, &len) || !IS_ALIGNED(firstSize, p->unit) ||
        firstSize == 0 || firstSize >= len) {
        LOG_ERR("cannot split %p (%zu bytes) after %zu bytes", ptr, totalSize, firstSize);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return p->shared ? provider_os_shared_split(p, ptr, len, firstSize) : UMF_RESULT_SUCCESS;
}

static umf_result_t os_allocation_merge(void *provider, void *lowPtr, void *highPtr,
                                        size_t totalSize) {
    provider_os_t *p = provider;
    size_t len;
    uintptr_t low = (uintptr_t)lowPtr, high = (uintptr_t)highPtr;
    if (!unit_range(p, lowPtr, totalSize, &len) || !IS_ALIGNED(high, p->unit) || high <= low ||
        high - low >= len) {
        LOG_ERR("cannot merge %p and %p into %zu bytes", lowPtr, highPtr, totalSize);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return p->shared ? provider_os_shared_merge(p, lowPtr, highPtr, len) : UMF_RESULT_SUCCESS;
}

// ---- the ops table ---------------------------------------------------------------------

static umf_memory_provider_ops_t os_ops =
    PROVIDER_OPS(os, provider_os_initialize, os_purge_lazy);

// IPC handles of shared memory name the memfd (taken from the exporter) or
// the shm file, an offset and a size; any OS provider opens them, with its
// own protection.
const provider_ipc_hooks_t provider_os_ipc_hooks = {
    .ops = &os_ops,
    .opens = 1u << PROVIDER_OBJ_MEMFD | 1u << PROVIDER_OBJ_SHM,
    .describe = provider_os_describe,
};

HETMEM_EXPORT umf_memory_provider_ops_t *umfOsMemoryProviderOps(void) { return &os_ops; }
