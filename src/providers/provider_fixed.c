// SPDX-License-Identifier: MIT
// The fixed memory provider (umf/providers/provider_fixed_memory.h): parts
// of one buffer the caller owns, carved by the coarse core as its one
// segment; the buffer is never read or written (only purge_force touches
// it). Semantics: docs/providers-pools.md, "The coarse providers".
#include <errno.h>
#include <stdint.h>

#include <umf/memory_provider_ops.h>
#include <umf/providers/provider_fixed_memory.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "os/os.h"
#include "providers/coarse.h"

/// Params: the buffer to manage. Plain data, owned by the caller.
struct umf_fixed_memory_provider_params_t {
    void *ptr;
    size_t size;
};

// The calling thread's last native error of this provider family.
static __thread provider_native_error_t fixed_error;
static provider_native_error_t *native_error(void) { return &fixed_error; }

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

HETMEM_EXPORT umf_result_t umfFixedMemoryProviderParamsSetMemory(
    umf_fixed_memory_provider_params_handle_t hParams, void *ptr, size_t size) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    umf_result_t r = check_memory(ptr, size);
    if (r == UMF_RESULT_SUCCESS) {
        hParams->ptr = ptr;
        hParams->size = size;
    }
    return r;
}

HETMEM_EXPORT umf_result_t
umfFixedMemoryProviderParamsCreate(umf_fixed_memory_provider_params_handle_t *hParams, void *ptr,
                                   size_t size) {
    struct umf_fixed_memory_provider_params_t tmp;
    umf_result_t r = umfFixedMemoryProviderParamsSetMemory(hParams ? &tmp : NULL, ptr, size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    if (!(*hParams = meta_alloc(sizeof tmp)))
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    **hParams = tmp;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfFixedMemoryProviderParamsDestroy(umf_fixed_memory_provider_params_handle_t hParams) {
    meta_free(hParams, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

// ---- backend --------------------------------------------------------------

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
static int fixed_purge(coarse_t *c, void *ptr, size_t len, uint64_t off) {
    (void)c, (void)off;
    int e = os_madvise(ptr, len, OS_ADV_REMOVE);
    return e == EINVAL ? os_madvise(ptr, len, OS_ADV_DONTNEED) : e;
}

static const coarse_backend_t fixed_backend = {
    .name = "fixed",
    .umf_name = "FIXED",
    .state_size = sizeof(coarse_t), // one segment: the caller's buffer
    .owns_mappings = false, // the buffer is the caller's
    .alloc_failed = UMF_FIXED_RESULT_ERROR_PURGE_FORCE_FAILED, // never: a buffer does not grow
    .purge_failed = UMF_FIXED_RESULT_ERROR_PURGE_FORCE_FAILED,
    .native_error = native_error,
    .grow = NULL,
    .purge = fixed_purge,
};

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
    coarse_t *c = meta_alloc(sizeof *c);
    if (!c)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    int e = coarse_init(c, &fixed_backend, os_page_size());
    if (e == 0)
        e = coarse_seg_add(c, (uintptr_t)in->ptr, in->size, in->size, 0);
    if (e) {
        coarse_destroy(c);
        return provider_errno_to_result(e);
    }
    *provider = c;
    return UMF_RESULT_SUCCESS;
}

static umf_memory_provider_ops_t fixed_ops = PROVIDER_OPS(coarse_op, fixed_initialize, NULL);

HETMEM_EXPORT umf_memory_provider_ops_t *umfFixedMemoryProviderOps(void) { return &fixed_ops; }
