// SPDX-License-Identifier: MIT
// Making and releasing IPC handles (umfPoolGetIPCHandleSize, umfGetIPCHandle,
// umfPutIPCHandle, umfPoolGetIPCHandler): the sender's side. A handle
// describes the allocation that holds the pointer - the range the pool got
// from its provider, as the address map (src/tracker) knows it - and the
// pointer's offset in it; the provider fills its part (src/providers).
//
// Handles made here are remembered until they are put, so that a put of
// anything else (a handle received from another process, a stray pointer)
// is refused without reading memory that is not a handle.
#include <pthread.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "ipc/ipc_internal.h"
#include "os/meta.h"
#include "os/os.h"
#include "pools/pool_internal.h"
#include "providers/provider_internal.h"
#include "tracker/tracker.h"

// One handle made by umfGetIPCHandle and not yet put.
typedef struct sent_t {
    struct sent_t *next;
    struct umf_ipc_data_t *handle;          // meta block of `total` bytes
    size_t total;
    umf_memory_provider_handle_t provider;  // whose put_ipc_handle releases it
} sent_t;

static pthread_mutex_t sent_lock = PTHREAD_MUTEX_INITIALIZER;
static sent_t *sent; // protected by: sent_lock

// Byte by byte over the whole handle; the checksum field's own bytes count
// as zeros, so that the same function makes and checks it.
uint64_t ipc_checksum(const struct umf_ipc_data_t *h, size_t total) {
    const unsigned char *p = (const unsigned char *)h;
    const size_t at = offsetof(struct umf_ipc_data_t, checksum);
    uint64_t x = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < total; i++) {
        unsigned char c = i - at < sizeof h->checksum ? 0 : p[i];
        x = (x ^ c) * UINT64_C(0x100000001b3);
    }
    return x;
}

// The provider part's size, refused when it would make a handle too large
// to be accepted by an opener.
static umf_result_t provider_part(umf_memory_provider_handle_t provider, size_t *size) {
    umf_result_t r = umfMemoryProviderGetIPCHandleSize(provider, size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    if (*size > IPC_PROVIDER_DATA_MAX) {
        LOG_ERR("the provider's IPC data (%zu bytes) is larger than %u", *size,
                IPC_PROVIDER_DATA_MAX);
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    return UMF_RESULT_SUCCESS;
}

// The header plus the provider's part: what umfGetIPCHandle gives for any
// allocation of the pool, and the buffer a receiver should have.
HETMEM_EXPORT umf_result_t umfPoolGetIPCHandleSize(umf_memory_pool_handle_t hPool,
                                                   size_t *size) {
    if (!hPool || !size) {
        LOG_ERR("NULL %s", !hPool ? "hPool" : "size");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    size_t part;
    umf_result_t r = provider_part(hPool->provider, &part);
    if (r == UMF_RESULT_SUCCESS)
        *size = sizeof(struct umf_ipc_data_t) + part;
    return r;
}

// Steps: find the allocation in the address map, ask its provider for its
// part (which registers the export: src/providers), fill the header, seal
// it with the checksum, remember the handle for umfPutIPCHandle.
HETMEM_EXPORT umf_result_t umfGetIPCHandle(const void *ptr, umf_ipc_handle_t *ipcHandle,
                                           size_t *size) {
    if (!ptr || !ipcHandle || !size) {
        LOG_ERR("NULL %s", !ptr ? "ptr" : !ipcHandle ? "ipcHandle" : "size");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    tracker_entry_t e;
    if (!tracker_find(ptr, &e) || !e.provider) {
        LOG_ERR("%p is not memory of a tracked pool", ptr);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    umf_memory_provider_handle_t provider = e.provider; // the pool's own (untracked) provider
    size_t part;
    umf_result_t r = provider_part(provider, &part);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    const char *name = umfMemoryProviderGetName(provider);
    if (!name || strnlen(name, IPC_PROVIDER_NAME_MAX) >= IPC_PROVIDER_NAME_MAX) {
        LOG_ERR("the provider's name does not fit an IPC handle");
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    size_t total = sizeof(struct umf_ipc_data_t) + part;
    struct umf_ipc_data_t *h = meta_alloc(total);
    sent_t *s = meta_alloc(sizeof *s);
    if (!h || !s) {
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        goto err_free;
    }
    h->magic = IPC_HANDLE_MAGIC;
    h->version = IPC_HANDLE_VERSION;
    h->header_size = (uint16_t)sizeof *h;
    h->provider_data_size = (uint32_t)part;
    h->pid = os_getpid();
    h->base = e.start;
    h->base_size = e.size;
    h->offset = (uintptr_t)ptr - e.start;
    memcpy(h->provider_name, name, strlen(name) + 1);
    r = umfMemoryProviderGetIPCHandle(provider, (void *)e.start, e.size, h->provider_data);
    if (r != UMF_RESULT_SUCCESS) {
        LOG_INFO("the %s provider made no IPC data for %p: %d", name, ptr, (int)r);
        goto err_free;
    }
    h->checksum = ipc_checksum(h, total);
    *s = (sent_t){.handle = h, .total = total, .provider = provider};
    pthread_mutex_lock(&sent_lock);
    s->next = sent;
    sent = s;
    pthread_mutex_unlock(&sent_lock);
    *ipcHandle = h;
    *size = total;
    return UMF_RESULT_SUCCESS;

err_free:
    meta_free(s, sizeof *s);
    meta_free(h, total);
    return r;
}

// Only handles in the list are released (their memory is ours): a handle
// received from another process, or a copy, is refused without being read.
HETMEM_EXPORT umf_result_t umfPutIPCHandle(umf_ipc_handle_t ipcHandle) {
    if (!ipcHandle) {
        LOG_ERR("NULL ipcHandle");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    sent_t *s = NULL;
    pthread_mutex_lock(&sent_lock);
    for (sent_t **pp = &sent; *pp; pp = &(*pp)->next) {
        if ((*pp)->handle == ipcHandle) {
            s = *pp;
            *pp = s->next;
            break;
        }
    }
    pthread_mutex_unlock(&sent_lock);
    if (!s) {
        LOG_ERR("%p is not an IPC handle made by umfGetIPCHandle in this process",
                (void *)ipcHandle);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    // The provider's put may fail (its provider destroyed: a caller error);
    // the handle is released either way.
    umf_result_t r = umfMemoryProviderPutIPCHandle(s->provider, s->handle->provider_data);
    meta_free(s->handle, s->total);
    meta_free(s, sizeof *s);
    return r;
}

// The handler of a pool is the pool itself: handles opened through it are
// opened by its provider and cached per provider (ipc_open.c).
HETMEM_EXPORT umf_result_t umfPoolGetIPCHandler(umf_memory_pool_handle_t hPool,
                                                umf_ipc_handler_handle_t *hIPCHandler) {
    if (!hPool || !hIPCHandler) {
        LOG_ERR("NULL %s", !hPool ? "hPool" : "hIPCHandler");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    *hIPCHandler = hPool;
    return UMF_RESULT_SUCCESS;
}
