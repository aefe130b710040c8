// SPDX-License-Identifier: MIT
// The devdax memory provider (umf/providers/provider_devdax_memory.h):
// memory of a device DAX character device (/dev/daxX.Y), mapped once and
// carved into allocations by range_alloc.
//
// Mapping
//   The whole `size` given in the params is mapped at initialize, shared,
//   with MAP_SYNC (MAP_SHARED_VALIDATE | MAP_SYNC: stores are durable once
//   flushed from the CPU caches, no msync needed); a kernel or device that
//   refuses MAP_SYNC (EINVAL/EOPNOTSUPP) gets a plain MAP_SHARED mapping and
//   an INFO log line. A device DAX mapping must start and end on the
//   device's alignment (sysfs .../daxX.Y/align: 4 KiB, 2 MiB or 1 GiB). The
//   sysfs read belongs to the topology layer, so instead the provider
//   reserves address space aligned to the largest of 1 GiB, 2 MiB or the
//   page size that divides `size` (a device's size is a multiple of its
//   alignment) and maps the device over it with MAP_FIXED: every possible
//   alignment is met without knowing it, and a `size` that does not suit
//   the device fails at initialize with the kernel's EINVAL.
//   The device's size is not checked (os_file_size gives 0 for devices):
//   a `size` beyond it maps, but touching the excess raises SIGBUS, as with
//   UMF. Offsets: device offset X is at base + X (provider_devdax_backing).
//
// Pages: allocations are aligned to 2 MiB when alignment is 0 (the device
// page; the page size when `size` is not a 2 MiB multiple), which is also
// what get_min_page_size / get_recommended_page_size report.
//
// Purge: purge_lazy is NOT_SUPPORTED (MADV_FREE is for private anonymous
// memory). Device DAX memory is the device's, so nothing can be handed back
// and zeros could only be written: purge_force asks the kernel for
// MADV_REMOVE (a hole punch), which device DAX does not implement, and
// reports the kernel's refusal as UMF_DEVDAX_RESULT_ERROR_PURGE_FORCE_FAILED
// with its errno: ENODEV on Linux 6.12 (vfs_fallocate refuses character
// devices; checked in the `dax` guest, tests/vm/devdax). MADV_DONTNEED
// would "succeed" and the old bytes would come back on the next touch.
//
// IPC: a handle names the device by path and by the exporter's descriptor
// (identity: its device number), an offset and a size; the opener maps the
// device range rounded out to the device's alignment, bounded by the size
// sysfs gives (provider_os_shared.c has the checks).
#include <errno.h>
#include <string.h>

#include <umf/memory_provider_ops.h>
#include <umf/providers/provider_devdax_memory.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "os/os.h"
#include "providers/provider_internal.h"
#include "providers/range_alloc.h"

#define DEVDAX_PAGE ((size_t)2 << 20)
#define DEVDAX_GIGA ((size_t)1 << 30)

/// Params: path is our copy (meta_strdup).
struct umf_devdax_memory_provider_params_t {
    char *path;
    size_t size;
    unsigned protection; // umf_mem_protection_flags_t bits
};

/// One provider; immutable after initialize except `ranges` (own lock).
typedef struct devdax_provider_t {
    char *path;
    int fd;
    uintptr_t base;  // device offset X is at base + X
    size_t size;     // bytes mapped
    size_t page;     // allocation alignment for alignment 0, min page size
    int prot;        // OS_PROT_* of the mapping (and of IPC mappings it opens)
    range_alloc_t *ranges;
} devdax_provider_t;

static __thread provider_native_error_t devdax_error;

// ---- params -----------------------------------------------------------------

static umf_result_t set_device(struct umf_devdax_memory_provider_params_t *p, const char *path,
                               size_t size) {
    if (!path || !path[0] || size == 0) {
        LOG_ERR("devdax provider: %s", !path || !path[0] ? "no device path" : "size 0");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    char *copy = meta_strdup(path);
    if (!copy)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    if (p->path)
        meta_free(p->path, strlen(p->path) + 1);
    p->path = copy;
    p->size = size;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfDevDaxMemoryProviderParamsCreate(umf_devdax_memory_provider_params_handle_t *hParams,
                                    const char *path, size_t size) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    struct umf_devdax_memory_provider_params_t *p = meta_alloc(sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->protection = UMF_PROTECTION_READ | UMF_PROTECTION_WRITE;
    umf_result_t r = set_device(p, path, size);
    if (r != UMF_RESULT_SUCCESS) {
        meta_free(p, sizeof *p);
        return r;
    }
    *hParams = p;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfDevDaxMemoryProviderParamsDestroy(umf_devdax_memory_provider_params_handle_t hParams) {
    if (!hParams)
        return UMF_RESULT_SUCCESS;
    if (hParams->path)
        meta_free(hParams->path, strlen(hParams->path) + 1);
    meta_free(hParams, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfDevDaxMemoryProviderParamsSetDeviceDax(
    umf_devdax_memory_provider_params_handle_t hParams, const char *path, size_t size) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return set_device(hParams, path, size);
}

HETMEM_EXPORT umf_result_t umfDevDaxMemoryProviderParamsSetProtection(
    umf_devdax_memory_provider_params_handle_t hParams, unsigned protection) {
    int os_prot;
    if (!hParams || !provider_protection_to_os(protection, &os_prot)) {
        LOG_ERR("devdax provider: %s", !hParams ? "NULL hParams" : "invalid protection");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    hParams->protection = protection;
    return UMF_RESULT_SUCCESS;
}

// ---- ops --------------------------------------------------------------------

static void destroy(devdax_provider_t *dp) {
    provider_memory_freed(dp, 0, SIZE_MAX);
    if (dp->ranges)
        range_alloc_destroy(dp->ranges);
    if (dp->base)
        os_unmap((void *)dp->base, dp->size);
    if (dp->fd >= 0)
        os_file_close(dp->fd);
    if (dp->path)
        meta_free(dp->path, strlen(dp->path) + 1);
    meta_free(dp, sizeof *dp);
}

// Maps the device over an aligned reservation (see the file comment).
static int map_device(devdax_provider_t *dp, int prot) {
    size_t align = dp->size % DEVDAX_GIGA == 0   ? DEVDAX_GIGA
                   : dp->size % DEVDAX_PAGE == 0 ? DEVDAX_PAGE
                                                 : os_page_size();
    void *res, *p;
    int e = os_map_anon(NULL, dp->size, align, OS_PROT_NONE, OS_MAP_NORESERVE, &res);
    if (e)
        return e;
    e = os_map_fd(res, dp->size, prot, OS_MAP_SHARED | OS_MAP_SYNC, dp->fd, 0, &p);
    if (e == EINVAL || e == EOPNOTSUPP) {
        LOG_INFO("devdax provider: %s refuses MAP_SYNC (%s), mapping it MAP_SHARED",
                 dp->path, LOG_STRERROR(e));
        e = os_map_fd(res, dp->size, prot, OS_MAP_SHARED, dp->fd, 0, &p);
    }
    if (e) {
        os_unmap(res, dp->size);
        return e;
    }
    dp->base = (uintptr_t)p;
    return 0;
}

static umf_result_t devdax_initialize(void *params, void **provider) {
    const struct umf_devdax_memory_provider_params_t *in = params;
    int prot;
    if (!in || !provider || !in->path || in->size == 0) {
        LOG_ERR("devdax provider: NULL params, no path or size 0");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (!provider_protection_to_os(in->protection, &prot) ||
        !IS_ALIGNED(in->size, os_page_size())) {
        LOG_ERR("devdax provider: invalid protection or size %zu not a page multiple", in->size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    devdax_provider_t *dp = meta_alloc(sizeof *dp);
    if (!dp)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    dp->fd = -1;
    dp->prot = prot;
    dp->size = in->size;
    dp->page = in->size % DEVDAX_PAGE == 0 ? DEVDAX_PAGE : os_page_size();
    umf_result_t r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    if (!(dp->path = meta_strdup(in->path)))
        goto err_destroy;

    int e = os_file_open_existing(dp->path, (prot & OS_PROT_WRITE) != 0, &dp->fd);
    if (e) {
        LOG_ERR("devdax provider: cannot open %s (%s)", dp->path, LOG_STRERROR(e));
        r = e == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY : UMF_RESULT_ERROR_INVALID_ARGUMENT;
        goto err_destroy;
    }
    bool chr = false;
    if ((e = os_file_is_chardev(dp->fd, &chr)) != 0 || !chr) {
        LOG_ERR("devdax provider: %s is not a character device (device DAX)", dp->path);
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        goto err_destroy;
    }
    if ((e = map_device(dp, prot)) != 0) {
        LOG_ERR("devdax provider: cannot map %zu bytes of %s (%s): the size must be a "
                "multiple of the device alignment",
                dp->size, dp->path, LOG_STRERROR(e));
        r = e == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                        : provider_set_native_error(&devdax_error,
                                                    UMF_DEVDAX_RESULT_ERROR_ALLOC_FAILED, e,
                                                    "devdax provider: mapping failed");
        goto err_destroy;
    }
    if ((e = range_alloc_create(dp->base, dp->size, &dp->ranges)) != 0)
        goto err_destroy;
    LOG_INFO("devdax provider: %s, %zu bytes at %p", dp->path, dp->size, (void *)dp->base);
    *provider = dp;
    return UMF_RESULT_SUCCESS;

err_destroy:
    destroy(dp);
    return r;
}

static void devdax_finalize(void *provider) {
    if (provider)
        destroy(provider);
}

static umf_result_t devdax_alloc(void *provider, size_t size, size_t alignment, void **ptr) {
    devdax_provider_t *dp = provider;
    if (size == 0 || !ptr) {
        LOG_ERR("devdax provider: %s", size == 0 ? "size 0" : "NULL ptr");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (alignment & (alignment - 1))
        return UMF_RESULT_ERROR_INVALID_ALIGNMENT;
    if (alignment == 0)
        alignment = dp->page;
    uintptr_t a;
    int e = range_alloc_alloc(dp->ranges, size, alignment, &a);
    if (e) {
        LOG_INFO("devdax provider: no room for %zu bytes aligned to %zu in %s", size, alignment,
                 dp->path);
        return e == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                           : UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    *ptr = (void *)a;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t devdax_free(void *provider, void *ptr, size_t size) {
    devdax_provider_t *dp = provider;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    // IPC handles of the range become stale before the range can be reused.
    if (provider_freed_hook_set()) {
        size_t len = size;
        if (len == 0 && range_alloc_find(dp->ranges, (uintptr_t)ptr, NULL, &len) != 0)
            len = 1;
        provider_memory_freed(dp, (uintptr_t)ptr, len);
    }
    if (range_alloc_free(dp->ranges, (uintptr_t)ptr, size)) {
        LOG_ERR("devdax provider: %p (size %zu) is not an allocation of this provider", ptr,
                size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return UMF_RESULT_SUCCESS;
}

static void devdax_get_last_native_error(void *provider, const char **ppMessage,
                                        int32_t *pError) {
    (void)provider;
    provider_native_error_get(&devdax_error, ppMessage, pError);
}

static umf_result_t devdax_get_recommended_page_size(void *provider, size_t size,
                                                     size_t *pageSize) {
    devdax_provider_t *dp = provider;
    (void)size;
    if (!pageSize)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    *pageSize = dp->page;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t devdax_get_min_page_size(void *provider, void *ptr, size_t *pageSize) {
    (void)ptr;
    return devdax_get_recommended_page_size(provider, 0, pageSize);
}

// See the file comment: device DAX cannot discard pages; the kernel's
// answer to MADV_REMOVE is passed on.
static umf_result_t devdax_purge_force(void *provider, void *ptr, size_t size) {
    devdax_provider_t *dp = provider;
    uintptr_t a = (uintptr_t)ptr;
    if (a < dp->base || size > dp->size || a - dp->base > dp->size - size) {
        LOG_ERR("devdax provider: purge range %p+%zu is outside the device mapping", ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (size == 0)
        return UMF_RESULT_SUCCESS;
    int e = os_madvise(ptr, size, OS_ADV_REMOVE);
    if (e) {
        LOG_INFO("devdax provider: %s cannot purge %p+%zu (%s)", dp->path, ptr, size,
                 LOG_STRERROR(e));
        return provider_set_native_error(&devdax_error,
                                         UMF_DEVDAX_RESULT_ERROR_PURGE_FORCE_FAILED, e,
                                         "devdax provider: purge_force failed");
    }
    return UMF_RESULT_SUCCESS;
}

static const char *devdax_get_name(void *provider) {
    (void)provider;
    return "DEVDAX";
}

static umf_result_t devdax_allocation_split(void *provider, void *ptr, size_t totalSize,
                                          size_t firstSize) {
    return provider_ranges_split(((devdax_provider_t *)provider)->ranges, "devdax", ptr, totalSize, firstSize);
}

static umf_result_t devdax_allocation_merge(void *provider, void *lowPtr, void *highPtr,
                                          size_t totalSize) {
    return provider_ranges_merge(((devdax_provider_t *)provider)->ranges, "devdax", lowPtr, highPtr,
                                 totalSize);
}

// ---- IPC describe hook (src/ipc makes the handle) ------------------------------

// [ptr, ptr+size) must lie in one allocation; device offset X is at base + X.
// The mapping granularity is the device's alignment (sysfs), else the page
// the provider assumed.
static umf_result_t devdax_describe(void *priv, const void *ptr, size_t size,
                                    provider_ipc_desc_t *out) {
    devdax_provider_t *dp = priv;
    *out = (provider_ipc_desc_t){.kind = PROVIDER_OBJ_DEVDAX, .fd = dp->fd, .path = dp->path,
                                 .align = dp->page, .prot = dp->prot, .owner = dp};
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    uintptr_t a = (uintptr_t)ptr, start;
    size_t len;
    if (size == 0 || range_alloc_find(dp->ranges, a, &start, &len) != 0 ||
        size > start + len - a) {
        LOG_ERR("devdax provider: IPC handle of %p+%zu: not an allocation of this provider",
                ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    uint64_t dev_size, align;
    if (os_devdax_geometry(dp->fd, &dev_size, &align) == 0)
        out->align = align;
    out->off = a - dp->base;
    return UMF_RESULT_SUCCESS;
}

static umf_memory_provider_ops_t devdax_ops = {
    .version = UMF_VERSION_CURRENT,
    .initialize = devdax_initialize,
    .finalize = devdax_finalize,
    .alloc = devdax_alloc,
    .free = devdax_free,
    .get_last_native_error = devdax_get_last_native_error,
    .get_recommended_page_size = devdax_get_recommended_page_size,
    .get_min_page_size = devdax_get_min_page_size,
    .get_name = devdax_get_name,
    .ext =
        {
            .purge_lazy = NULL, // NOT_SUPPORTED
            .purge_force = devdax_purge_force,
            .allocation_merge = devdax_allocation_merge,
            .allocation_split = devdax_allocation_split,
        },
    // .ipc: NULL; src/ipc drives the describe hook (provider_devdax_ipc_hooks)
};

HETMEM_EXPORT umf_memory_provider_ops_t *umfDevDaxMemoryProviderOps(void) { return &devdax_ops; }

const provider_ipc_hooks_t provider_devdax_ipc_hooks = {
    .initialize = devdax_initialize,
    .opens = 1u << PROVIDER_OBJ_DEVDAX,
    .describe = devdax_describe,
};

int provider_devdax_backing(struct umf_memory_provider_t *provider, const void *ptr,
                            provider_backing_t *out) {
    if (!provider || !out || provider->ops.initialize != devdax_initialize)
        return EINVAL;
    devdax_provider_t *dp = provider->priv;
    uintptr_t start;
    size_t size;
    int e = range_alloc_find(dp->ranges, (uintptr_t)ptr, &start, &size);
    if (e)
        return e;
    *out = (provider_backing_t){.path = dp->path,
                                .fd = dp->fd,
                                .offset = start - dp->base,
                                .start = start,
                                .size = size,
                                .shared = true};
    return 0;
}
