// SPDX-License-Identifier: MIT
// The tracking provider: sits between a tracked pool and the user's
// provider and keeps the address map (src/tracker) in step with every range
// the pool holds. This is how umfFree, umfPoolByPtr and, later,
// memkind_free(NULL, p) and hfree find a pointer's pool with one lookup.
#include <errno.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "pools/pool_internal.h"
#include "providers/provider_internal.h"
#include "tracker/tracker.h"

typedef struct tracking_t {
    umf_memory_provider_handle_t upstream; // the user's provider (not owned)
    umf_memory_pool_handle_t pool;         // the owner recorded in the map
} tracking_t;

typedef struct tracking_params_t {
    umf_memory_provider_handle_t upstream;
    umf_memory_pool_handle_t pool;
} tracking_params_t;

static umf_result_t t_initialize(void *params, void **out) {
    tracking_params_t *p = params;
    tracking_t *t = meta_alloc(sizeof *t);
    if (!t)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    t->upstream = p->upstream;
    t->pool = p->pool;
    *out = t;
    return UMF_RESULT_SUCCESS;
}

static void t_finalize(void *priv) { meta_free(priv, sizeof(tracking_t)); }

static umf_result_t t_alloc(void *priv, size_t size, size_t align, void **ptr) {
    tracking_t *t = priv;
    void *p = NULL;
    umf_result_t r = umfMemoryProviderAlloc(t->upstream, size, align, &p);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    if (!p) {
        *ptr = NULL;
        return UMF_RESULT_SUCCESS;
    }
    tracker_entry_t e = {(uintptr_t)p, size ? size : 1, t->pool, t->upstream, NULL};
    int err = tracker_add(&e);
    if (unlikely(err)) {
        LOG_ERR("cannot track %p+%zu: %s", p, size, LOG_STRERROR(err));
        umfMemoryProviderFree(t->upstream, p, size);
        return err == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY : UMF_RESULT_ERROR_UNKNOWN;
    }
    *ptr = p;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t t_free(void *priv, void *ptr, size_t size) {
    tracking_t *t = priv;
    tracker_entry_t e;
    if (!tracker_find(ptr, &e) || e.start != (uintptr_t)ptr || e.pool != t->pool) {
        LOG_ERR("free of %p: not a range of this pool", ptr);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (size == 0) // callers that do not know the size (the proxy pool)
        size = e.size;
    if (tracker_remove((uintptr_t)ptr, NULL) != 0)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT; // a racing double free lost
    umf_result_t r = umfMemoryProviderFree(t->upstream, ptr, size);
    if (r != UMF_RESULT_SUCCESS)
        tracker_add(&e); // the memory is still ours: keep it findable
    return r;
}

static void t_native_error(void *priv, const char **msg, int32_t *err) {
    umfMemoryProviderGetLastNativeError(((tracking_t *)priv)->upstream, msg, err);
}

static umf_result_t t_rec_page(void *priv, size_t size, size_t *ps) {
    return umfMemoryProviderGetRecommendedPageSize(((tracking_t *)priv)->upstream, size, ps);
}

static umf_result_t t_min_page(void *priv, void *ptr, size_t *ps) {
    return umfMemoryProviderGetMinPageSize(((tracking_t *)priv)->upstream, ptr, ps);
}

static const char *t_name(void *priv) {
    return umfMemoryProviderGetName(((tracking_t *)priv)->upstream);
}

static umf_result_t t_purge_lazy(void *priv, void *ptr, size_t size) {
    return umfMemoryProviderPurgeLazy(((tracking_t *)priv)->upstream, ptr, size);
}

static umf_result_t t_purge_force(void *priv, void *ptr, size_t size) {
    return umfMemoryProviderPurgeForce(((tracking_t *)priv)->upstream, ptr, size);
}

static umf_result_t t_split(void *priv, void *ptr, size_t total, size_t first) {
    tracking_t *t = priv;
    tracker_entry_t e;
    if (!tracker_find(ptr, &e) || e.start != (uintptr_t)ptr || e.size != total)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    umf_result_t r = umfMemoryProviderAllocationSplit(t->upstream, ptr, total, first);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    tracker_entry_t second = e;
    second.start = e.start + first;
    second.size = total - first;
    if (tracker_resize(e.start, first) != 0 || tracker_add(&second) != 0) {
        // Keep the map describing what the provider now holds as one range
        // at worst (both halves still belong to this pool).
        tracker_resize(e.start, total);
        umfMemoryProviderAllocationMerge(t->upstream, ptr, (char *)ptr + first, total);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    return UMF_RESULT_SUCCESS;
}

static umf_result_t t_merge(void *priv, void *low, void *high, size_t total) {
    tracking_t *t = priv;
    tracker_entry_t a, b;
    if (!tracker_find(low, &a) || a.start != (uintptr_t)low || !tracker_find(high, &b) ||
        b.start != (uintptr_t)high || a.start + a.size != b.start || a.size + b.size != total)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    umf_result_t r = umfMemoryProviderAllocationMerge(t->upstream, low, high, total);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    tracker_remove(b.start, NULL);
    tracker_resize(a.start, total);
    return UMF_RESULT_SUCCESS;
}

static umf_result_t t_ipc_size(void *priv, size_t *size) {
    return umfMemoryProviderGetIPCHandleSize(((tracking_t *)priv)->upstream, size);
}
static umf_result_t t_ipc_get(void *priv, const void *ptr, size_t size, void *data) {
    return umfMemoryProviderGetIPCHandle(((tracking_t *)priv)->upstream, ptr, size, data);
}
static umf_result_t t_ipc_put(void *priv, void *data) {
    return umfMemoryProviderPutIPCHandle(((tracking_t *)priv)->upstream, data);
}
static umf_result_t t_ipc_open(void *priv, void *data, void **ptr) {
    return umfMemoryProviderOpenIPCHandle(((tracking_t *)priv)->upstream, data, ptr);
}
static umf_result_t t_ipc_close(void *priv, void *ptr, size_t size) {
    return umfMemoryProviderCloseIPCHandle(((tracking_t *)priv)->upstream, ptr, size);
}

static const umf_memory_provider_ops_t tracking_ops = {
    .version = UMF_VERSION_CURRENT,
    .initialize = t_initialize,
    .finalize = t_finalize,
    .alloc = t_alloc,
    .free = t_free,
    .get_last_native_error = t_native_error,
    .get_recommended_page_size = t_rec_page,
    .get_min_page_size = t_min_page,
    .get_name = t_name,
    .ext = {t_purge_lazy, t_purge_force, t_merge, t_split},
    .ipc = {t_ipc_size, t_ipc_get, t_ipc_put, t_ipc_open, t_ipc_close},
};

umf_result_t pool_tracking_provider_create(umf_memory_provider_handle_t upstream,
                                           umf_memory_pool_handle_t pool,
                                           umf_memory_provider_handle_t *out) {
    tracking_params_t params = {upstream, pool};
    return umfMemoryProviderCreate(&tracking_ops, &params, out);
}
