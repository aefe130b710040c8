// SPDX-License-Identifier: MIT
// The provider IPC entry points (umfMemoryProvider*IPC*): argument checks,
// then our providers' operations over their describe hooks (ipc_backing.c)
// or a user provider's own ops.ipc. The pool-level handle and its cache are
// ipc.c and ipc_open.c.
#include <errno.h>

#include "base/log.h"
#include "base/util.h"
#include "ipc/ipc_backing.h"
#include "providers/provider_internal.h"

// errno is the caller's: a successful call leaves it as it was.
#define ERRNO_KEEP_BEGIN int saved_errno_ = errno
#define ERRNO_KEEP_END(r) ((r) == UMF_RESULT_SUCCESS ? (void)(errno = saved_errno_) : (void)0)

// One entry point: check the handle and the arguments, then call ours
// (NATIVE) or the provider's op (USER); NOT_SUPPORTED when it has none.
#define IPC_DISPATCH(h, args_ok, op, NATIVE, USER)                                          \
    do {                                                                                  \
        if (!provider_handle_ok(h, __func__))                                             \
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;                                     \
        if (!(args_ok))                                                                   \
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;                                     \
        const provider_ipc_hooks_t *hk = provider_ipc_hooks(h);                           \
        if (!hk && !(h)->ops.ipc.op)                                                      \
            return UMF_RESULT_ERROR_NOT_SUPPORTED;                                        \
        ERRNO_KEEP_BEGIN;                                                                 \
        umf_result_t r = hk ? (NATIVE) : (USER);                                          \
        ERRNO_KEEP_END(r);                                                                \
        return provider_note_result(h, r);                                                \
    } while (0)

HETMEM_EXPORT umf_result_t umfMemoryProviderGetIPCHandleSize(umf_memory_provider_handle_t hProvider,
                                                             size_t *size) {
    IPC_DISPATCH(hProvider, size, get_ipc_handle_size,
                 ipc_native_size(hk, hProvider->priv, size),
                 hProvider->ops.ipc.get_ipc_handle_size(hProvider->priv, size));
}

HETMEM_EXPORT umf_result_t umfMemoryProviderGetIPCHandle(umf_memory_provider_handle_t hProvider,
                                                         const void *ptr, size_t size,
                                                         void *providerIpcData) {
    IPC_DISPATCH(hProvider, ptr && providerIpcData, get_ipc_handle,
                 ipc_native_get(hk, hProvider->priv, ptr, size, providerIpcData),
                 hProvider->ops.ipc.get_ipc_handle(hProvider->priv, ptr, size, providerIpcData));
}

HETMEM_EXPORT umf_result_t umfMemoryProviderPutIPCHandle(umf_memory_provider_handle_t hProvider,
                                                         void *providerIpcData) {
    IPC_DISPATCH(hProvider, providerIpcData, put_ipc_handle, ipc_native_put(providerIpcData),
                 hProvider->ops.ipc.put_ipc_handle(hProvider->priv, providerIpcData));
}

HETMEM_EXPORT umf_result_t umfMemoryProviderOpenIPCHandle(umf_memory_provider_handle_t hProvider,
                                                          void *providerIpcData, void **ptr) {
    IPC_DISPATCH(hProvider, providerIpcData && ptr, open_ipc_handle,
                 ipc_native_open(hk, hProvider->priv, providerIpcData, ptr),
                 hProvider->ops.ipc.open_ipc_handle(hProvider->priv, providerIpcData, ptr));
}

HETMEM_EXPORT umf_result_t umfMemoryProviderCloseIPCHandle(umf_memory_provider_handle_t hProvider,
                                                           void *ptr, size_t size) {
    IPC_DISPATCH(hProvider, ptr, close_ipc_handle, ipc_native_close(ptr),
                 hProvider->ops.ipc.close_ipc_handle(hProvider->priv, ptr, size));
}
