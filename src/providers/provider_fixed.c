// SPDX-License-Identifier: MIT
// The fixed memory provider (umf/providers/provider_fixed_memory.h): hands
// out parts of one buffer that the caller owns - heap, stack, a mapping, a
// device window - through range_alloc. The provider never reads or writes
// the buffer (its bookkeeping is out of band, so the buffer may even be
// PROT_NONE); only purge_force touches its pages, through madvise.
//
// Semantics (decided here, tested in tests/unit/providers_coarse):
//   - alignment 0 means the OS page size; any other power of two is
//     honoured exactly (8 gives 8, not a page), so small buffers work.
//   - the buffer running out gives UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY, and
//     the provider serves again once ranges are freed.
//   - free of a pointer or size this provider did not hand out (foreign,
//     interior, double free, wrong size) gives INVALID_ARGUMENT and changes
//     nothing; size 0 frees the whole allocation at ptr (as UMF's coarse
//     allocator accepts).
//   - purge_lazy: NOT_SUPPORTED (left NULL), as in UMF.
//   - purge_force: see fixed_purge_force.
#include <errno.h>
#include <stdint.h>

#include <umf/memory_provider_ops.h>
#include <umf/providers/provider_fixed_memory.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "os/os.h"
#include "providers/provider_internal.h"
#include "providers/range_alloc.h"

/// Params: the buffer to manage. Plain data, owned by the caller.
struct umf_fixed_memory_provider_params_t {
    void *ptr;
    size_t size;
};

/// One provider: the buffer and the allocator of its ranges. Immutable
/// after initialize except through `ranges`, which has its own lock.
typedef struct fixed_provider_t {
    uintptr_t base;
    size_t size;
    range_alloc_t *ranges;
} fixed_provider_t;

// The calling thread's last native error of this provider family.
static __thread provider_native_error_t fixed_error;

// ---- params -----------------------------------------------------------------

static umf_result_t check_memory(void *ptr, size_t size) {
    if (!ptr || size == 0) {
        LOG_ERR("fixed provider: %s", !ptr ? "NULL buffer" : "buffer size 0");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    uintptr_t end;
    if (__builtin_add_overflow((uintptr_t)ptr, size, &end)) {
        LOG_ERR("fixed provider: buffer %p + %zu wraps around", ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfFixedMemoryProviderParamsCreate(umf_fixed_memory_provider_params_handle_t *hParams, void *ptr,
                                   size_t size) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    umf_result_t r = check_memory(ptr, size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    struct umf_fixed_memory_provider_params_t *p = meta_alloc(sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->ptr = ptr;
    p->size = size;
    *hParams = p;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfFixedMemoryProviderParamsSetMemory(
    umf_fixed_memory_provider_params_handle_t hParams, void *ptr, size_t size) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    umf_result_t r = check_memory(ptr, size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    hParams->ptr = ptr;
    hParams->size = size;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfFixedMemoryProviderParamsDestroy(umf_fixed_memory_provider_params_handle_t hParams) {
    meta_free(hParams, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

// ---- ops --------------------------------------------------------------------

static umf_result_t fixed_initialize(void *params, void **provider) {
    const struct umf_fixed_memory_provider_params_t *in = params;
    if (!in || !provider) {
        LOG_ERR("fixed provider: NULL params");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    umf_result_t r = check_memory(in->ptr, in->size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    fixed_provider_t *fp = meta_alloc(sizeof *fp);
    if (!fp)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    fp->base = (uintptr_t)in->ptr;
    fp->size = in->size;
    int e = range_alloc_create(fp->base, fp->size, &fp->ranges);
    if (e) {
        meta_free(fp, sizeof *fp);
        return provider_errno_to_result(e);
    }
    *provider = fp;
    return UMF_RESULT_SUCCESS;
}

static void fixed_finalize(void *provider) {
    fixed_provider_t *fp = provider;
    if (!fp)
        return;
    range_alloc_destroy(fp->ranges);
    meta_free(fp, sizeof *fp);
}

static umf_result_t fixed_alloc(void *provider, size_t size, size_t alignment, void **ptr) {
    fixed_provider_t *fp = provider;
    if (size == 0 || !ptr) {
        LOG_ERR("fixed provider: %s", size == 0 ? "size 0" : "NULL ptr");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (alignment & (alignment - 1))
        return UMF_RESULT_ERROR_INVALID_ALIGNMENT;
    if (alignment == 0)
        alignment = os_page_size();
    uintptr_t a;
    int e = range_alloc_alloc(fp->ranges, size, alignment, &a);
    if (e) {
        LOG_INFO("fixed provider: no room for %zu bytes aligned to %zu in %p+%zu", size,
                 alignment, (void *)fp->base, fp->size);
        return e == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                           : UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    *ptr = (void *)a;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t fixed_free(void *provider, void *ptr, size_t size) {
    fixed_provider_t *fp = provider;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    if (range_alloc_free(fp->ranges, (uintptr_t)ptr, size)) {
        LOG_ERR("fixed provider: %p (size %zu) is not an allocation of this provider", ptr,
                size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return UMF_RESULT_SUCCESS;
}

static void fixed_get_last_native_error(void *provider, const char **ppMessage,
                                        int32_t *pError) {
    (void)provider;
    provider_native_error_get(&fixed_error, ppMessage, pError);
}

// purge_force must leave the pages reading as zeros, and the buffer's kind
// is unknown: MADV_DONTNEED alone is wrong for shared or file-backed
// buffers (the old contents come back). So:
//   1. MADV_REMOVE frees the backing store of a shared mapping (shmem,
//      memfd, a MAP_SHARED file: the file gets a hole) - reads give zeros.
//   2. It fails with EINVAL on private anonymous memory (heap, stack,
//      anonymous mmap); there MADV_DONTNEED gives zero pages.
//   3. It fails with EACCES on a private file mapping, where DONTNEED would
//      bring back the file's bytes: no way to honour the contract without
//      writing, so PURGE_FORCE_FAILED (errno EACCES) is reported.
// Locked (mlock) ranges fail both and report PURGE_FORCE_FAILED too.
static umf_result_t fixed_purge_force(void *provider, void *ptr, size_t size) {
    fixed_provider_t *fp = provider;
    uintptr_t a = (uintptr_t)ptr;
    if (a < fp->base || size > fp->size || a - fp->base > fp->size - size) {
        LOG_ERR("fixed provider: purge range %p+%zu is outside the buffer", ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (size == 0)
        return UMF_RESULT_SUCCESS;
    int e = os_madvise(ptr, size, OS_ADV_REMOVE);
    if (e == EINVAL)
        e = os_madvise(ptr, size, OS_ADV_DONTNEED);
    if (e) {
        LOG_ERR("fixed provider: cannot purge %p+%zu (%s)", ptr, size, LOG_STRERROR(e));
        return provider_set_native_error(&fixed_error, UMF_FIXED_RESULT_ERROR_PURGE_FORCE_FAILED,
                                         e, "fixed provider: purge_force failed");
    }
    return UMF_RESULT_SUCCESS;
}

static const char *fixed_get_name(void *provider) {
    (void)provider;
    return "FIXED";
}

static umf_result_t fixed_allocation_split(void *provider, void *ptr, size_t totalSize,
                                          size_t firstSize) {
    return provider_ranges_split(((fixed_provider_t *)provider)->ranges, "fixed", ptr, totalSize, firstSize);
}

static umf_result_t fixed_allocation_merge(void *provider, void *lowPtr, void *highPtr,
                                          size_t totalSize) {
    return provider_ranges_merge(((fixed_provider_t *)provider)->ranges, "fixed", lowPtr, highPtr,
                                 totalSize);
}

static umf_memory_provider_ops_t fixed_ops = {
    .version = UMF_VERSION_CURRENT,
    .initialize = fixed_initialize,
    .finalize = fixed_finalize,
    .alloc = fixed_alloc,
    .free = fixed_free,
    .get_last_native_error = fixed_get_last_native_error,
    .get_recommended_page_size = provider_base_recommended_page_size,
    .get_min_page_size = provider_base_min_page_size,
    .get_name = fixed_get_name,
    .ext =
        {
            .purge_lazy = NULL, // NOT_SUPPORTED, as in UMF
            .purge_force = fixed_purge_force,
            .allocation_merge = fixed_allocation_merge,
            .allocation_split = fixed_allocation_split,
        },
};

HETMEM_EXPORT umf_memory_provider_ops_t *umfFixedMemoryProviderOps(void) { return &fixed_ops; }
