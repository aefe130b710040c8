// SPDX-License-Identifier: MIT
// The provider IPC entry points (umfMemoryProvider*IPC*): argument checks,
// then the provider's ops.ipc or, for a provider of ours whose table has
// none (static links without this file's load-time fill), the same
// operations over its family's hooks (ipc_backing.c). Those operations go
// into our providers' ops tables at load (below). The pool-level handle and its cache are ipc.c and
// ipc_open.c.
#include <errno.h>

#include "base/log.h"
#include "base/util.h"
#include "ipc/ipc_backing.h"
#include "providers/provider.h"

// One entry point: check the handle and the arguments, then call the
// provider's op (USER: a user's, or ours from a getter's table, perhaps
// wrapped by the user) or, without one, ours over the hooks (NATIVE);
// NOT_SUPPORTED when it has neither.
#define IPC_DISPATCH(h, args_ok, op, NATIVE, USER)                                          \
    do {                                                                                  \
        if (!provider_handle_ok(h, __func__))                                             \
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;                                     \
        if (!(args_ok))                                                                   \
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;                                     \
        const provider_ipc_hooks_t *hk = (h)->ops.ipc.op ? NULL : provider_ipc_hooks(h);  \
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

// ---- the public ops tables of our providers with IPC -------------------------------

static umf_result_t put_op(void *priv, void *data) {
    (void)priv;
    return ipc_native_put(data);
}

static umf_result_t close_op(void *priv, void *ptr, size_t size) {
    (void)priv, (void)size;
    return ipc_native_close(ptr);
}

bool ipc_provider_ours(const struct umf_memory_provider_t *provider) {
    return provider_ipc_hooks(provider) || provider->ops.ipc.put_ipc_handle == put_op;
}

// The IPC operations of the family of HOOKS, over its hooks.
#define FAMILY_IPC_OPS(fam, HOOKS)                                                              \
    static umf_result_t fam##_size(void *p, size_t *size) {                                   \
        return ipc_native_size(&HOOKS, p, size);                                              \
    }                                                                                         \
    static umf_result_t fam##_get(void *p, const void *ptr, size_t size, void *data) {        \
        return ipc_native_get(&HOOKS, p, ptr, size, data);                                    \
    }                                                                                         \
    static umf_result_t fam##_open(void *p, void *data, void **ptr) {                         \
        return ipc_native_open(&HOOKS, p, data, ptr);                                         \
    }                                                                                         \
    static const umf_memory_provider_ipc_ops_t fam##_ipc = {                                  \
        .get_ipc_handle_size = fam##_size, .get_ipc_handle = fam##_get,                       \
        .put_ipc_handle = put_op, .open_ipc_handle = fam##_open, .close_ipc_handle = close_op}

FAMILY_IPC_OPS(os, provider_os_ipc_hooks);
FAMILY_IPC_OPS(file, provider_file_ipc_hooks);
FAMILY_IPC_OPS(devdax, provider_devdax_ipc_hooks);

// At load, before any caller can copy them: the tables that the public
// getters (umfOsMemoryProviderOps, umfFileMemoryProviderOps,
// umfDevDaxMemoryProviderOps) return get these operations, so that a copy
// of a table, perhaps with an operation overridden (as UMF's own tests do),
// keeps IPC. The providers never call up: this layer fills their tables.
__attribute__((constructor)) static void ipc_ops_install(void) {
    provider_os_ipc_hooks.ops->ipc = os_ipc;
    provider_file_ipc_hooks.ops->ipc = file_ipc;
    provider_devdax_ipc_hooks.ops->ipc = devdax_ipc;
}
