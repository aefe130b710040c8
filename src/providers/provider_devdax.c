// SPDX-License-Identifier: MIT
// The devdax memory provider (umf/providers/provider_devdax_memory.h): a
// device DAX (/dev/daxX.Y) mapped once at initialize (MAP_SYNC where the
// kernel takes it, over a reservation aligned for any device alignment) and
// carved by the coarse core as its one segment. Mapping, pages, purge and
// IPC: docs/providers-pools.md, "The coarse providers".
#include <errno.h>
#include <string.h>

#include <umf/memory_provider_ops.h>
#include <umf/providers/provider_devdax_memory.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "os/os.h"
#include "providers/coarse.h"

#define DEVDAX_PAGE ((size_t)2 << 20)
#define DEVDAX_GIGA ((size_t)1 << 30)

/// Params: owned by the caller.
struct umf_devdax_memory_provider_params_t {
    coarse_params_t base; // first: path, protection
    size_t size;
};

static __thread provider_native_error_t devdax_error;
static provider_native_error_t *native_error(void) { return &devdax_error; }

// ---- params -----------------------------------------------------------------

HETMEM_EXPORT umf_result_t
umfDevDaxMemoryProviderParamsCreate(umf_devdax_memory_provider_params_handle_t *hParams,
                                    const char *path, size_t size) {
    // Any size here, as UMF: size 0 is refused when the provider is created.
    umf_result_t r = coarse_params_create(sizeof **hParams, path, "devdax", (void **)hParams);
    if (r == UMF_RESULT_SUCCESS)
        (*hParams)->size = size;
    return r;
}

HETMEM_EXPORT umf_result_t
umfDevDaxMemoryProviderParamsDestroy(umf_devdax_memory_provider_params_handle_t hParams) {
    coarse_params_destroy(hParams ? &hParams->base : NULL, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfDevDaxMemoryProviderParamsSetDeviceDax(
    umf_devdax_memory_provider_params_handle_t hParams, const char *path, size_t size) {
    umf_result_t r = coarse_params_set_path(hParams ? &hParams->base : NULL, path, "devdax");
    if (r == UMF_RESULT_SUCCESS)
        hParams->size = size;
    return r;
}

HETMEM_EXPORT umf_result_t umfDevDaxMemoryProviderParamsSetProtection(
    umf_devdax_memory_provider_params_handle_t hParams, unsigned protection) {
    return coarse_params_set_protection(hParams ? &hParams->base : NULL, protection, "devdax");
}

// ---- backend ----------------------------------------------------------------

// Device DAX cannot discard pages (docs/providers-pools.md); the kernel's
// answer to MADV_REMOVE is passed on.
static int devdax_purge(coarse_t *c, void *ptr, size_t len, uint64_t off) {
    (void)c, (void)off;
    return os_madvise(ptr, len, OS_ADV_REMOVE);
}

static const coarse_backend_t devdax_backend = {
    .name = "devdax",
    .umf_name = "DEVDAX",
    .state_size = sizeof(coarse_t), // one segment: device offset X at base + X
    .owns_mappings = true,
    .alloc_failed = UMF_DEVDAX_RESULT_ERROR_ALLOC_FAILED,
    .purge_failed = UMF_DEVDAX_RESULT_ERROR_PURGE_FORCE_FAILED,
    .native_error = native_error,
    .grow = NULL, // the device's size is fixed at initialize
    .purge = devdax_purge,
};

// Maps the device over a reservation aligned to the largest of 1 GiB, 2 MiB
// or the page that divides size: every device alignment is met unknown.
static int map_device(coarse_t *c, size_t size, uintptr_t *base) {
    size_t align = size % DEVDAX_GIGA == 0   ? DEVDAX_GIGA
                   : size % DEVDAX_PAGE == 0 ? DEVDAX_PAGE
                                             : os_page_size();
    void *res, *p;
    int e = os_map_anon(NULL, size, align, OS_PROT_NONE, OS_MAP_NORESERVE, &res);
    if (e)
        return e;
    e = os_map_fd(res, size, c->prot, OS_MAP_SHARED | OS_MAP_SYNC, c->fd, 0, &p);
    if (e == EINVAL || e == EOPNOTSUPP) {
        LOG_INFO("devdax provider: %s refuses MAP_SYNC (%s), mapping it MAP_SHARED", c->path,
                 LOG_STRERROR(e));
        e = os_map_fd(res, size, c->prot, OS_MAP_SHARED, c->fd, 0, &p);
    }
    if (e) {
        os_unmap(res, size);
        return e;
    }
    *base = (uintptr_t)p;
    return 0;
}

static umf_result_t devdax_initialize(void *params, void **provider) {
    const struct umf_devdax_memory_provider_params_t *in = params;
    if (in && (in->size == 0 || !IS_ALIGNED(in->size, os_page_size()))) {
        LOG_ERR("devdax provider: size %zu is not a page multiple", in->size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    size_t page = in && in->size % DEVDAX_PAGE == 0 ? DEVDAX_PAGE : os_page_size();
    coarse_t *c;
    umf_result_t r = coarse_create(&devdax_backend, in ? &in->base : NULL, page,
                                   PROVIDER_OBJ_DEVDAX, &c);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    c->shared = true;
    int e = os_file_open_existing(c->path, (c->prot & OS_PROT_WRITE) != 0, &c->fd);
    if (e) {
        LOG_ERR("devdax provider: cannot open %s (%s)", c->path, LOG_STRERROR(e));
        r = e == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY : UMF_RESULT_ERROR_INVALID_ARGUMENT;
        goto err_destroy;
    }
    bool chr = false;
    if ((e = os_file_is_chardev(c->fd, &chr)) != 0 || !chr) {
        LOG_ERR("devdax provider: %s is not a character device (device DAX)", c->path);
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        goto err_destroy;
    }
    // An opener maps at the device's alignment (sysfs), where it is known.
    uint64_t dev_size, align;
    if (os_devdax_geometry(c->fd, &dev_size, &align) == 0)
        c->ipc_align = align;
    uintptr_t base;
    if ((e = map_device(c, in->size, &base)) != 0) {
        LOG_ERR("devdax provider: cannot map %zu bytes of %s (%s): the size must be a "
                "multiple of the device alignment",
                in->size, c->path, LOG_STRERROR(e));
        r = e == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                        : coarse_native_error(c, UMF_DEVDAX_RESULT_ERROR_ALLOC_FAILED, e,
                                              "devdax provider: mapping failed");
        goto err_destroy;
    }
    if ((e = coarse_seg_add(c, base, in->size, in->size, 0)) != 0) {
        (void)os_unmap((void *)base, in->size);
        r = provider_errno_to_result(e);
        goto err_destroy;
    }
    LOG_INFO("devdax provider: %s, %zu bytes at %p", c->path, in->size, (void *)base);
    *provider = c;
    return UMF_RESULT_SUCCESS;

err_destroy:
    coarse_destroy(c);
    return r;
}

COARSE_FAMILY(devdax, PROVIDER_OBJ_DEVDAX, umfDevDaxMemoryProviderOps)
