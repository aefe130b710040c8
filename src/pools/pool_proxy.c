// SPDX-License-Identifier: MIT
// The proxy pool: each allocation is one provider allocation. As the UMF
// documentation states, calloc, realloc and usable size are not supported
// (NULL with UMF_RESULT_ERROR_NOT_SUPPORTED, and 0). Frees pass size 0:
// the tracking provider knows each range's size, so the proxy pool needs
// tracking (with UMF_POOL_CREATE_FLAG_DISABLE_TRACKING, frees fail with the
// provider's error for a zero size).
#include <umf/pools/pool_proxy.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "pools/pool_internal.h"

typedef struct proxy_t {
    umf_memory_provider_handle_t provider;
} proxy_t;

static __thread umf_result_t proxy_last_error;

static umf_result_t proxy_initialize(umf_memory_provider_handle_t provider, void *params,
                                     void **out) {
    (void)params;
    proxy_t *p = meta_alloc(sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->provider = provider;
    *out = p;
    return UMF_RESULT_SUCCESS;
}

static void proxy_finalize(void *pool) { meta_free(pool, sizeof(proxy_t)); }

static void *proxy_aligned_malloc(void *pool, size_t size, size_t alignment) {
    proxy_t *p = pool;
    void *ptr = NULL;
    umf_result_t r = umfMemoryProviderAlloc(p->provider, size ? size : 1, alignment, &ptr);
    if (r != UMF_RESULT_SUCCESS) {
        proxy_last_error = r;
        return NULL;
    }
    return ptr;
}

static void *proxy_malloc(void *pool, size_t size) { return proxy_aligned_malloc(pool, size, 0); }

static void *proxy_calloc(void *pool, size_t num, size_t size) {
    (void)pool, (void)num, (void)size;
    proxy_last_error = UMF_RESULT_ERROR_NOT_SUPPORTED;
    return NULL;
}

static void *proxy_realloc(void *pool, void *ptr, size_t size) {
    (void)pool, (void)ptr, (void)size;
    proxy_last_error = UMF_RESULT_ERROR_NOT_SUPPORTED;
    return NULL;
}

static size_t proxy_usable_size(void *pool, void *ptr) {
    (void)pool, (void)ptr;
    return 0;
}

static umf_result_t proxy_free(void *pool, void *ptr) {
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    return umfMemoryProviderFree(((proxy_t *)pool)->provider, ptr, 0);
}

static umf_result_t proxy_last_allocation_error(void *pool) {
    (void)pool;
    return proxy_last_error;
}

static umf_memory_pool_ops_t proxy_ops = {
    .version = UMF_VERSION_CURRENT,
    .initialize = proxy_initialize,
    .finalize = proxy_finalize,
    .malloc = proxy_malloc,
    .calloc = proxy_calloc,
    .realloc = proxy_realloc,
    .aligned_malloc = proxy_aligned_malloc,
    .malloc_usable_size = proxy_usable_size,
    .free = proxy_free,
    .get_last_allocation_error = proxy_last_allocation_error,
};

HETMEM_EXPORT umf_memory_pool_ops_t *umfProxyPoolOps(void) { return &proxy_ops; }
