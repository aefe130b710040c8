// SPDX-License-Identifier: MIT
// The memory provider API (umfMemoryProvider*): validates arguments, checks
// the ops table, dispatches to the implementation and records the calling
// thread's last failed provider. Helpers shared by our providers (native
// error records, errno and protection conversion) live here too.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/handle.h"
#include "base/lock.h"
#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "os/os.h"
#include "providers/provider.h"

static __thread umf_memory_provider_handle_t last_failed;

// Destroyed provider handles, kept for new providers (base/handle.h).
static handle_graveyard_t provider_graves = HANDLE_GRAVEYARD_INIT;

_Static_assert(offsetof(struct umf_memory_provider_t, hdr) == 0, "the tag comes first");

bool provider_handle_ok(umf_memory_provider_handle_t h, const char *fn) {
    return handle_ok(h, PROVIDER_TAG, "memory provider", fn);
}

umf_result_t provider_note_result(umf_memory_provider_handle_t provider, umf_result_t r) {
    if (unlikely(r != UMF_RESULT_SUCCESS))
        last_failed = provider;
    return r;
}

umf_result_t provider_set_native_error(provider_native_error_t *slot, int32_t code, int err,
                                       const char *what) {
    slot->code = code;
    slot->err = err;
    if (err)
        snprintf(slot->msg, sizeof slot->msg, "%s: %s", what, strerror(err));
    else
        snprintf(slot->msg, sizeof slot->msg, "%s", what);
    return UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC;
}

void provider_native_error_get(const provider_native_error_t *slot, const char **ppMessage,
                               int32_t *pError) {
    if (!ppMessage || !pError)
        return;
    *ppMessage = slot->msg;
    *pError = slot->code;
}

umf_result_t provider_errno_to_result(int err) {
    switch (err) {
    case 0: return UMF_RESULT_SUCCESS;
    case ENOMEM: return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    case EINVAL:
    case EBADF:
    case ENOENT:
    case ENODEV:
    case EACCES:
    case EPERM:
    case EEXIST: return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    case EOPNOTSUPP:
    case ENOSYS: return UMF_RESULT_ERROR_NOT_SUPPORTED;
    default: return UMF_RESULT_ERROR_UNKNOWN;
    }
}

int provider_protection_to_os(unsigned protection, int *os_prot) {
    const unsigned all =
        UMF_PROTECTION_NONE | UMF_PROTECTION_READ | UMF_PROTECTION_WRITE | UMF_PROTECTION_EXEC;
    if (protection == 0 || (protection & ~all) ||
        ((protection & UMF_PROTECTION_NONE) && protection != UMF_PROTECTION_NONE))
        return 0;
    int p = OS_PROT_NONE;
    if (protection & UMF_PROTECTION_READ)
        p |= OS_PROT_READ;
    if (protection & UMF_PROTECTION_WRITE)
        p |= OS_PROT_WRITE;
    if (protection & UMF_PROTECTION_EXEC)
        p |= OS_PROT_EXEC;
    *os_prot = p;
    return 1;
}

// The ops versions we accept: any 0.x table from 0.10 on has this layout.
static bool ops_valid(const umf_memory_provider_ops_t *ops) {
    if (UMF_MAJOR_VERSION(ops->version) != UMF_MAJOR_VERSION(UMF_VERSION_CURRENT) ||
        UMF_MINOR_VERSION(ops->version) < 10 ||
        UMF_MINOR_VERSION(ops->version) > UMF_MINOR_VERSION(UMF_VERSION_CURRENT)) {
        LOG_ERR("unsupported provider ops version %u.%u", UMF_MAJOR_VERSION(ops->version),
                UMF_MINOR_VERSION(ops->version));
        return false;
    }
    if (!ops->initialize || !ops->finalize || !ops->alloc || !ops->free ||
        !ops->get_last_native_error || !ops->get_recommended_page_size ||
        !ops->get_min_page_size || !ops->get_name) {
        LOG_ERR("provider ops table lacks a required operation");
        return false;
    }
    if (!ops->ext.allocation_split != !ops->ext.allocation_merge) {
        LOG_ERR("provider ops: allocation_split and allocation_merge must be set together");
        return false;
    }
    const umf_memory_provider_ipc_ops_t *i = &ops->ipc;
    int n = !!i->get_ipc_handle_size + !!i->get_ipc_handle + !!i->put_ipc_handle +
            !!i->open_ipc_handle + !!i->close_ipc_handle;
    if (n != 0 && n != 5) {
        LOG_ERR("provider ops: the IPC operations must be all set or all NULL");
        return false;
    }
    return true;
}

HETMEM_EXPORT umf_result_t umfMemoryProviderCreate(const umf_memory_provider_ops_t *ops,
                                                   void *params,
                                                   umf_memory_provider_handle_t *hProvider) {
    if (!ops || !hProvider) {
        LOG_ERR("NULL %s", !ops ? "ops" : "hProvider");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (!ops_valid(ops))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    ERRNO_KEEP_BEGIN;
    struct umf_memory_provider_t *p = handle_graveyard_take(&provider_graves, sizeof *p);
    if (!p)
        p = meta_alloc(sizeof *p); // zeroed
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->ops = *ops;
    p->foreign = !lock_code_is_core((const void *)ops->alloc);
    umf_result_t r = ops->initialize(params, &p->priv);
    if (r != UMF_RESULT_SUCCESS) {
        LOG_INFO("provider initialize failed: %d", (int)r);
        handle_retire(&provider_graves, &p->hdr, PROVIDER_TAG); // never live
        return r;
    }
    handle_set_live(&p->hdr, PROVIDER_TAG);
    *hProvider = p;
    ERRNO_KEEP_END(r);
    return UMF_RESULT_SUCCESS;
}

// NULL is ignored (UMF); a destroyed or garbage handle is ignored with a
// log line. The handle's memory stays a provider handle (provider_graves).
HETMEM_EXPORT void umfMemoryProviderDestroy(umf_memory_provider_handle_t hProvider) {
    if (!hProvider)
        return;
    if (!handle_kill(hProvider, PROVIDER_TAG, "memory provider", __func__))
        return;
    int saved = errno;
    hProvider->ops.finalize(hProvider->priv);
    if (last_failed == hProvider)
        last_failed = NULL;
    handle_retire(&provider_graves, &hProvider->hdr, PROVIDER_TAG);
    errno = saved;
}

#define CHECK_PROVIDER(h)                                                                          \
    do {                                                                                           \
        if (unlikely(!provider_handle_ok((h), __func__)))                                          \
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;                                              \
    } while (0)

HETMEM_EXPORT umf_result_t umfMemoryProviderAlloc(umf_memory_provider_handle_t hProvider,
                                                  size_t size, size_t alignment, void **ptr) {
    CHECK_PROVIDER(hProvider);
    if (unlikely(!ptr)) {
        LOG_ERR("NULL ptr");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    ERRNO_KEEP_BEGIN; // every alignment goes to the provider, as in UMF (ours check it)
    int frame = lock_upcall_begin(hProvider->foreign);
    umf_result_t r = hProvider->ops.alloc(hProvider->priv, size, alignment, ptr);
    lock_upcall_end(frame);
    ERRNO_KEEP_END(r);
    return provider_note_result(hProvider, r);
}

HETMEM_EXPORT umf_result_t umfMemoryProviderFree(umf_memory_provider_handle_t hProvider,
                                                 void *ptr, size_t size) {
    CHECK_PROVIDER(hProvider);
    ERRNO_KEEP_BEGIN; // ptr NULL too: the provider decides (ours: success)
    int frame = lock_upcall_begin(hProvider->foreign);
    umf_result_t r = hProvider->ops.free(hProvider->priv, ptr, size);
    lock_upcall_end(frame);
    ERRNO_KEEP_END(r);
    return provider_note_result(hProvider, r);
}

HETMEM_EXPORT void umfMemoryProviderGetLastNativeError(umf_memory_provider_handle_t hProvider,
                                                       const char **ppMessage, int32_t *pError) {
    if (!provider_handle_ok(hProvider, __func__))
        return;
    // NULL arguments too, as UMF passes them: ours ignore them.
    hProvider->ops.get_last_native_error(hProvider->priv, ppMessage, pError);
}

HETMEM_EXPORT umf_result_t umfMemoryProviderGetRecommendedPageSize(
    umf_memory_provider_handle_t hProvider, size_t size, size_t *pageSize) {
    CHECK_PROVIDER(hProvider);
    if (!pageSize)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    return provider_note_result(
        hProvider, hProvider->ops.get_recommended_page_size(hProvider->priv, size, pageSize));
}

HETMEM_EXPORT umf_result_t umfMemoryProviderGetMinPageSize(umf_memory_provider_handle_t hProvider,
                                                           void *ptr, size_t *pageSize) {
    CHECK_PROVIDER(hProvider);
    if (!pageSize)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    return provider_note_result(hProvider,
                                hProvider->ops.get_min_page_size(hProvider->priv, ptr, pageSize));
}

// Purge: page alignment is checked against the provider's minimum page
// size before the implementation sees the range (documented contract).
static umf_result_t purge(umf_memory_provider_handle_t h, void *ptr, size_t size, bool lazy) {
    if (!ptr)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    umf_result_t (*fn)(void *, void *, size_t) = lazy ? h->ops.ext.purge_lazy : h->ops.ext.purge_force;
    if (!fn)
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    size_t ps = 0;
    if (h->ops.get_min_page_size(h->priv, ptr, &ps) != UMF_RESULT_SUCCESS || ps == 0)
        ps = os_page_size();
    if (!IS_ALIGNED((uintptr_t)ptr, ps) || !IS_ALIGNED(size, ps)) {
        LOG_ERR("purge range %p+%zu is not aligned to the page size %zu", ptr, size, ps);
        return provider_note_result(h, UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    }
    ERRNO_KEEP_BEGIN;
    int frame = lock_upcall_begin(h->foreign);
    umf_result_t r = fn(h->priv, ptr, size);
    lock_upcall_end(frame);
    ERRNO_KEEP_END(r);
    return provider_note_result(h, r);
}

HETMEM_EXPORT umf_result_t umfMemoryProviderPurgeLazy(umf_memory_provider_handle_t hProvider,
                                                      void *ptr, size_t size) {
    CHECK_PROVIDER(hProvider);
    return purge(hProvider, ptr, size, true);
}

HETMEM_EXPORT umf_result_t umfMemoryProviderPurgeForce(umf_memory_provider_handle_t hProvider,
                                                       void *ptr, size_t size) {
    CHECK_PROVIDER(hProvider);
    return purge(hProvider, ptr, size, false);
}

HETMEM_EXPORT const char *umfMemoryProviderGetName(umf_memory_provider_handle_t hProvider) {
    if (!provider_handle_ok(hProvider, __func__))
        return NULL;
    return hProvider->ops.get_name(hProvider->priv);
}

HETMEM_EXPORT umf_memory_provider_handle_t umfGetLastFailedMemoryProvider(void) {
    return last_failed;
}

HETMEM_EXPORT umf_result_t umfMemoryProviderAllocationSplit(umf_memory_provider_handle_t hProvider,
                                                            void *ptr, size_t totalSize,
                                                            size_t firstSize) {
    CHECK_PROVIDER(hProvider);
    if (!ptr || firstSize == 0 || firstSize >= totalSize) {
        LOG_ERR("invalid split of %p: total %zu, first %zu", ptr, totalSize, firstSize);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (!hProvider->ops.ext.allocation_split)
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    return provider_note_result(
        hProvider, hProvider->ops.ext.allocation_split(hProvider->priv, ptr, totalSize, firstSize));
}

HETMEM_EXPORT umf_result_t umfMemoryProviderAllocationMerge(umf_memory_provider_handle_t hProvider,
                                                            void *lowPtr, void *highPtr,
                                                            size_t totalSize) {
    CHECK_PROVIDER(hProvider);
    if (!lowPtr || !highPtr || (uintptr_t)highPtr <= (uintptr_t)lowPtr ||
        (uintptr_t)highPtr - (uintptr_t)lowPtr >= totalSize) {
        LOG_ERR("invalid merge of %p and %p into %zu bytes", lowPtr, highPtr, totalSize);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (!hProvider->ops.ext.allocation_merge)
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    return provider_note_result(hProvider, hProvider->ops.ext.allocation_merge(
                                               hProvider->priv, lowPtr, highPtr, totalSize));
}

// ---- IPC backing hooks (provider.h) --------------------------------

const provider_ipc_hooks_t *provider_ipc_hooks(const struct umf_memory_provider_t *provider) {
    static const provider_ipc_hooks_t *const families[] = {
        &provider_os_ipc_hooks, &provider_file_ipc_hooks, &provider_devdax_ipc_hooks};
    for (size_t i = 0; provider && i < sizeof families / sizeof *families; i++)
        if (provider->ops.initialize == families[i]->ops->initialize)
            return families[i];
    return NULL;
}

static _Atomic(provider_freed_hook_t) freed_hook;

void provider_set_freed_hook(provider_freed_hook_t hook) {
    atomic_store_explicit(&freed_hook, hook, memory_order_release);
}

bool provider_freed_hook_set(void) {
    return atomic_load_explicit(&freed_hook, memory_order_relaxed) != NULL;
}

void provider_memory_freed(const void *owner, uintptr_t start, size_t len) {
    provider_freed_hook_t h = atomic_load_explicit(&freed_hook, memory_order_acquire);
    if (h)
        h(owner, start, len);
}
