// SPDX-License-Identifier: MIT
// The tracking provider: sits between a tracked pool and the user's
// provider and keeps the address map (src/tracker) in step with every range
// the pool holds. This is how umfFree, umfPoolByPtr and, later,
// memkind_free(NULL, p) and hfree find a pointer's pool with one lookup.
// It also counts the bytes its pool holds and applies the pool's guard
// (pool_guard_set, docs/providers-pools.md "Pool guard").
#include <errno.h>
#include <stdatomic.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "os/os.h"
#include "pools/pool.h"
#include "providers/provider.h"
#include "topology/topo.h"
#include "tracker/tracker.h"

typedef struct tracking_t {
    umf_memory_provider_handle_t upstream; // the user's provider (not owned)
    umf_memory_pool_handle_t pool;         // the owner recorded in the map
    pool_guard_t guard;                    // set before the pool is shared
    bool bound_check;                      // guard.nodes is not empty
    _Atomic size_t held, peak;             // bytes held from upstream
    _Atomic uint64_t refused;              // ranges the guard refused
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

// Free bytes of a node set, fresh from the topology layer.
static uint64_t nodes_free(const nodeset_t *nodes) {
    uint64_t total = 0, f;
    for (int n = nodeset_next(nodes, 0); n >= 0; n = nodeset_next(nodes, (unsigned)n + 1))
        total += topo_node_free((unsigned)n, &f) == 0 ? f : 0;
    return total;
}

// Counts `size` more bytes held unless the guard refuses them.
static umf_result_t admit(tracking_t *t, size_t size) {
    size_t held = atomic_fetch_add_explicit(&t->held, size, memory_order_relaxed) + size;
    uint64_t free_bytes = 0;
    bool over = t->guard.limit && (held > t->guard.limit || held < size);
    if (!over && t->bound_check) {
        free_bytes = nodes_free(&t->guard.nodes);
        over = free_bytes < (uint64_t)size + t->guard.reserve;
    }
    if (over) {
        atomic_fetch_sub_explicit(&t->held, size, memory_order_relaxed);
        atomic_fetch_add_explicit(&t->refused, 1, memory_order_relaxed);
        LOG_INFO("pool guard refuses %zu bytes (held %zu, limit %zu, nodes free %llu, reserve %zu)",
                 size, held - size, t->guard.limit, (unsigned long long)free_bytes,
                 t->guard.reserve);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    size_t peak = atomic_load_explicit(&t->peak, memory_order_relaxed);
    while (held > peak && !atomic_compare_exchange_weak_explicit(&t->peak, &peak, held,
                                                                 memory_order_relaxed,
                                                                 memory_order_relaxed))
        ;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t t_alloc(void *priv, size_t size, size_t align, void **ptr) {
    tracking_t *t = priv;
    void *p = NULL;
    umf_result_t r = admit(t, size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    r = umfMemoryProviderAlloc(t->upstream, size, align, &p);
    if (r != UMF_RESULT_SUCCESS || !p) {
        atomic_fetch_sub_explicit(&t->held, size, memory_order_relaxed);
        if (r == UMF_RESULT_SUCCESS)
            *ptr = NULL;
        return r;
    }
    tracker_entry_t e = {(uintptr_t)p, size ? size : 1, t->pool, t->upstream, NULL};
    int err = tracker_add(&e);
    if (unlikely(err)) {
        LOG_ERR("cannot track %p+%zu: %s", p, size, LOG_STRERROR(err));
        umfMemoryProviderFree(t->upstream, p, size);
        atomic_fetch_sub_explicit(&t->held, size, memory_order_relaxed);
        return err == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY : UMF_RESULT_ERROR_UNKNOWN;
    }
    if (t->guard.nohugepage)
        (void)os_madvise(p, size, OS_ADV_NOHUGEPAGE); // advice only
    *ptr = p;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t t_free(void *priv, void *ptr, size_t size) {
    tracking_t *t = priv;
    tracker_entry_t e;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    // This pool's range at ptr (ranges of pools nested in it may start
    // there too); a racing double free finds none.
    int err = tracker_remove_of((uintptr_t)ptr, t->pool, &e);
    if (err) {
        LOG_ERR("free of %p: %s", ptr,
                err == EBUSY ? "another pool's memory still lies in it" : "not a range of this pool");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (size == 0) // callers that do not know the size (the proxy pool)
        size = e.size;
    pool_ipc_range_freed(t->upstream, e.start, e.size); // its cached IPC data first
    umf_result_t r = umfMemoryProviderFree(t->upstream, ptr, size);
    if (r != UMF_RESULT_SUCCESS)
        tracker_add(&e); // the memory is still ours: keep it findable
    else
        atomic_fetch_sub_explicit(&t->held, size, memory_order_relaxed);
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
    tracking_t *t = priv;
    if (t->bound_check) // lazily freed pages do not show as free: drop them now
        return umfMemoryProviderPurgeForce(t->upstream, ptr, size);
    return umfMemoryProviderPurgeLazy(t->upstream, ptr, size);
}

static umf_result_t t_purge_force(void *priv, void *ptr, size_t size) {
    return umfMemoryProviderPurgeForce(((tracking_t *)priv)->upstream, ptr, size);
}

static umf_result_t t_split(void *priv, void *ptr, size_t total, size_t first) {
    tracking_t *t = priv;
    tracker_entry_t e;
    if (!tracker_get_of((uintptr_t)ptr, t->pool, &e) || e.size != total)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    pool_ipc_range_freed(t->upstream, e.start, e.size); // the range changes
    umf_result_t r = umfMemoryProviderAllocationSplit(t->upstream, ptr, total, first);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    tracker_entry_t second = e;
    second.start = e.start + first;
    second.size = total - first;
    if (tracker_resize_of(e.start, t->pool, first) != 0 || tracker_add(&second) != 0) {
        // Keep the map describing what the provider now holds as one range
        // at worst (both halves still belong to this pool).
        tracker_resize_of(e.start, t->pool, total);
        umfMemoryProviderAllocationMerge(t->upstream, ptr, (char *)ptr + first, total);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    return UMF_RESULT_SUCCESS;
}

static umf_result_t t_merge(void *priv, void *low, void *high, size_t total) {
    tracking_t *t = priv;
    tracker_entry_t a, b;
    if (!tracker_get_of((uintptr_t)low, t->pool, &a) || !tracker_get_of((uintptr_t)high, t->pool, &b) ||
        a.start + a.size != b.start || a.size + b.size != total)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    pool_ipc_range_freed(t->upstream, a.start, a.size); // the ranges change
    pool_ipc_range_freed(t->upstream, b.start, b.size);
    umf_result_t r = umfMemoryProviderAllocationMerge(t->upstream, low, high, total);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    tracker_remove_of(b.start, t->pool, NULL);
    tracker_resize_of(a.start, t->pool, total);
    return UMF_RESULT_SUCCESS;
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
    // No .ipc: the IPC layer asks the pool's own provider (pool->provider,
    // or the address map's record), never this wrapper.
};

umf_result_t pool_tracking_provider_create(umf_memory_provider_handle_t upstream,
                                           umf_memory_pool_handle_t pool,
                                           umf_memory_provider_handle_t *out) {
    tracking_params_t params = {upstream, pool};
    return umfMemoryProviderCreate(&tracking_ops, &params, out);
}

// The tracking state of a tracked pool, or NULL (untracked, or a handle
// that is not a live pool).
static tracking_t *tracking_of(umf_memory_pool_handle_t pool) {
    if (!pool_handle_ok(pool) || pool->upstream == pool->provider)
        return NULL;
    return pool->upstream->priv;
}

umf_result_t pool_guard_set(umf_memory_pool_handle_t pool, const pool_guard_t *guard) {
    tracking_t *t = tracking_of(pool);
    if (!t || !guard)
        return t ? UMF_RESULT_ERROR_INVALID_ARGUMENT : UMF_RESULT_ERROR_NOT_SUPPORTED;
    t->guard = *guard;
    t->bound_check = !nodeset_empty(&guard->nodes);
    return UMF_RESULT_SUCCESS;
}

const void *pool_guard_owner(umf_memory_pool_handle_t pool) {
    tracking_t *t = tracking_of(pool);
    return t ? t->guard.owner : NULL;
}

void pool_guard_counts(umf_memory_pool_handle_t pool, pool_guard_counts_t *out) {
    tracking_t *t = tracking_of(pool);
    *out = (pool_guard_counts_t){0};
    if (!t)
        return;
    out->held = atomic_load_explicit(&t->held, memory_order_relaxed);
    out->peak = atomic_load_explicit(&t->peak, memory_order_relaxed);
    out->refused = atomic_load_explicit(&t->refused, memory_order_relaxed);
}
