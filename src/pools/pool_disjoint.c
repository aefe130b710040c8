// SPDX-License-Identifier: MIT
// The disjoint pool (umf/pools/pool_disjoint.h): its parameters, shared
// limits and trace, over the heap engine (src/heap). Parameters map onto
// the engine as follows:
//   SlabMinSize      slab size of every bucket, and the least provider request
//                    (requests are max(SlabMinSize, 2 MiB), falling back to
//                    exactly what is needed when a limit or the provider
//                    refuses the full request)
//   MaxPoolableSize  larger allocations are one provider allocation each
//                    (tracked in the address map, never cached)
//   Capacity         empty slabs each bucket keeps per thread before
//                    releasing them to the pool's page cache (which decays)
//   MinBucketSize    the smallest size class (8 at least)
//   SharedLimits     every provider request is charged to the limit first;
//                    over it, the allocation fails with OUT_OF_HOST_MEMORY.
//                    A pool with limits asks the provider for one slab (or
//                    one large block) at a time, as UMF does, and returns
//                    idle memory at once, so that what one pool frees
//                    (beyond Capacity cached slabs) another pool can use
//   PoolTrace, Name  see umfDisjointPoolParamsSetTrace; printed through the
//                    non-allocating logger (src/base/log.h)
// malloc(0) returns a unique pointer (UMF's disjoint pool returns NULL;
// hetmem chose malloc's behaviour for every engine pool).
#include <string.h>

#include <umf/pools/pool_disjoint.h>

#include "base/log.h"
#include "base/util.h"
#include "heap/heap.h"
#include "os/meta.h"
#include "pools/pool.h"

#define DISJOINT_NAME_MAX 64

/// Shared limits: the handle is the engine's byte budget itself
/// (heap_limit_t, an atomic counter charged before every provider request);
/// struct umf_disjoint_pool_shared_limits_t is never defined.
static heap_limit_t *limit_of(umf_disjoint_pool_shared_limits_handle_t h) {
    return (heap_limit_t *)h;
}

/// Parameters: plain data owned by the caller; initialize copies what it
/// needs, so they may be destroyed while pools made from them live.
struct umf_disjoint_pool_params_t {
    size_t slab_min_size;
    size_t max_poolable_size;
    size_t capacity;
    size_t min_bucket_size;
    int trace;
    umf_disjoint_pool_shared_limits_handle_t limits;
    char name[DISJOINT_NAME_MAX];
};

/// One disjoint pool: the engine heap plus what the trace needs. Immutable
/// after initialize.
typedef struct disjoint_t {
    heap_t *heap;
    int trace;
    char name[DISJOINT_NAME_MAX];
} disjoint_t;

// ---- shared limits and params -------------------------------------------------------------

HETMEM_EXPORT umf_disjoint_pool_shared_limits_handle_t
umfDisjointPoolSharedLimitsCreate(size_t MaxSize) {
    return (umf_disjoint_pool_shared_limits_handle_t)heap_limit_create(MaxSize);
}

HETMEM_EXPORT void
umfDisjointPoolSharedLimitsDestroy(umf_disjoint_pool_shared_limits_handle_t hSharedLimits) {
    if (!hSharedLimits)
        return;
    size_t used = heap_limit_used(limit_of(hSharedLimits));
    if (used)
        LOG_WARN("shared limits destroyed while pools still hold %zu bytes", used);
    heap_limit_destroy(limit_of(hSharedLimits));
}

HETMEM_EXPORT umf_result_t umfDisjointPoolParamsCreate(umf_disjoint_pool_params_handle_t *hParams) {
    umf_result_t r = pool_params_new(sizeof **hParams, (void **)hParams);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    struct umf_disjoint_pool_params_t *p = *hParams; // trace 0, no limits
    p->slab_min_size = (size_t)64 << 10;
    p->max_poolable_size = (size_t)2 << 20;
    p->capacity = 4;
    p->min_bucket_size = UMF_DISJOINT_POOL_MIN_BUCKET_DEFAULT_SIZE;
    strcpy(p->name, "disjoint_pool");
    return UMF_RESULT_SUCCESS;
}

#define CHECK_PARAMS(h) POOL_PARAMS_CHECK(h, "disjoint")

HETMEM_EXPORT umf_result_t umfDisjointPoolParamsDestroy(umf_disjoint_pool_params_handle_t hParams) {
    CHECK_PARAMS(hParams);
    meta_free(hParams, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfDisjointPoolParamsSetSlabMinSize(umf_disjoint_pool_params_handle_t hParams, size_t slabMinSize) {
    PARAMS_SET(hParams, slab_min_size, slabMinSize, slabMinSize > 0, "slabMinSize must be > 0");
}

HETMEM_EXPORT umf_result_t umfDisjointPoolParamsSetMaxPoolableSize(
    umf_disjoint_pool_params_handle_t hParams, size_t maxPoolableSize) {
    PARAMS_STORE(hParams, max_poolable_size, maxPoolableSize);
}

HETMEM_EXPORT umf_result_t
umfDisjointPoolParamsSetCapacity(umf_disjoint_pool_params_handle_t hParams, size_t maxCapacity) {
    PARAMS_STORE(hParams, capacity, maxCapacity);
}

HETMEM_EXPORT umf_result_t umfDisjointPoolParamsSetMinBucketSize(
    umf_disjoint_pool_params_handle_t hParams, size_t minBucketSize) {
    PARAMS_SET(hParams, min_bucket_size, minBucketSize, is_pow2(minBucketSize),
               "minBucketSize %zu is not a power of two", minBucketSize);
}

HETMEM_EXPORT umf_result_t umfDisjointPoolParamsSetTrace(umf_disjoint_pool_params_handle_t hParams,
                                                         int poolTrace) {
    PARAMS_STORE(hParams, trace, poolTrace);
}

HETMEM_EXPORT umf_result_t umfDisjointPoolParamsSetSharedLimits(
    umf_disjoint_pool_params_handle_t hParams,
    umf_disjoint_pool_shared_limits_handle_t hSharedLimits) {
    PARAMS_STORE(hParams, limits, hSharedLimits);
}

HETMEM_EXPORT umf_result_t umfDisjointPoolParamsSetName(umf_disjoint_pool_params_handle_t hParams,
                                                        const char *name) {
    CHECK_PARAMS(hParams);
    if (!name) {
        LOG_ERR("NULL name");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    size_t n = strlen(name);
    if (n >= DISJOINT_NAME_MAX)
        n = DISJOINT_NAME_MAX - 1;
    memcpy(hParams->name, name, n);
    hParams->name[n] = '\0';
    return UMF_RESULT_SUCCESS;
}

// ---- trace ------------------------------------------------------------------------------------

// Prints the pool's statistics: a summary (level >= 1) and one line per
// bucket that was used (level >= 2) - allocs, frees, slabs held now and at
// the peak - plus the large and unpooled blocks. Runs at finalize; level 3
// adds a line per call (trace_call).
static void disjoint_print_trace(const disjoint_t *d) {
    heap_stats_t st;
    heap_stats(d->heap, &st);
    heap_large_stats_t ls;
    heap_large_stats(d->heap, &ls);
    uint64_t allocs = ls.allocs + ls.direct_allocs, frees = ls.frees + ls.direct_frees;
    unsigned n = heap_class_count(d->heap);
    for (unsigned c = 0; c < n; c++) {
        heap_class_stats_t cs;
        heap_class_stats(d->heap, c, &cs);
        allocs += cs.allocs;
        frees += cs.frees;
        if (d->trace >= 2 && (cs.allocs || cs.peak_slabs))
            log_write(LOG_LEVEL_INFO, d->name,
                      "bucket %zu B: allocs %llu frees %llu slabs %zu peak slabs %zu (slab %zu B)",
                      cs.block_size, (unsigned long long)cs.allocs,
                      (unsigned long long)cs.frees, cs.slabs, cs.peak_slabs, cs.slab_size);
    }
    if (d->trace >= 2 && (ls.allocs || ls.direct_allocs))
        log_write(LOG_LEVEL_INFO, d->name,
                  "large: allocs %llu frees %llu; unpooled: allocs %llu frees %llu",
                  (unsigned long long)ls.allocs, (unsigned long long)ls.frees,
                  (unsigned long long)ls.direct_allocs, (unsigned long long)ls.direct_frees);
    log_write(LOG_LEVEL_INFO, d->name,
              "allocs %llu frees %llu live %zu B; provider allocs %llu frees %llu, "
              "held %zu B (cached %zu B)",
              (unsigned long long)allocs, (unsigned long long)frees, st.allocated,
              (unsigned long long)st.provider_allocs, (unsigned long long)st.provider_frees,
              st.resident, st.cached);
}

static void trace_call(const disjoint_t *d, const char *op, size_t size, const void *p) {
    log_write(LOG_LEVEL_INFO, d->name, "%s(%zu) = %p", op, size, p);
}

// ---- pool ops -----------------------------------------------------------------------------------

// NULL params: the defaults (UMF 0.11 requires params; accepting NULL is
// a hetmem convenience).
static umf_result_t dj_initialize(umf_memory_provider_handle_t provider, void *params,
                                  void **out) {
    struct umf_disjoint_pool_params_t defaults, *p = params;
    if (!p) {
        umf_disjoint_pool_params_handle_t h;
        umf_result_t r = umfDisjointPoolParamsCreate(&h);
        if (r != UMF_RESULT_SUCCESS)
            return r;
        defaults = *h;
        umfDisjointPoolParamsDestroy(h);
        p = &defaults;
    }
    disjoint_t *d = meta_alloc(sizeof *d);
    if (!d)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    heap_config_t cfg;
    heap_config_default(&cfg);
    cfg.slab_size = p->slab_min_size;
    cfg.chunk_size = p->slab_min_size > cfg.chunk_size ? p->slab_min_size : cfg.chunk_size;
    cfg.min_class_size = p->min_bucket_size;
    cfg.max_pooled_size = p->max_poolable_size;
    if (cfg.max_small_size > p->max_poolable_size)
        cfg.max_small_size = p->max_poolable_size;
    cfg.slab_cache = p->capacity;
    cfg.limit = limit_of(p->limits);
    if (cfg.limit) {
        cfg.chunk_size = p->slab_min_size;
        cfg.retain_max = 0;
    }
    cfg.user = d;
    umf_result_t r = heap_create(provider, &cfg, &d->heap);
    if (r != UMF_RESULT_SUCCESS) {
        meta_free(d, sizeof *d);
        return r;
    }
    d->trace = p->trace;
    memcpy(d->name, p->name, sizeof d->name);
    *out = d;
    return UMF_RESULT_SUCCESS;
}

// The trace is printed before the engine is destroyed: it reads its counters.
static void dj_finalize(void *pool) {
    disjoint_t *d = pool;
    if (d->trace > 0)
        disjoint_print_trace(d);
    heap_destroy(d->heap);
    meta_free(d, sizeof *d);
}

// The ops add only the trace-level test (one predictable branch) to the
// engine's fast paths.
// The traced variants are out of line, so that the plain ops need no stack
// frame: a test and a tail call into the engine.
__attribute__((noinline, cold)) static void *dj_malloc_traced(disjoint_t *d, size_t size) {
    void *p = heap_malloc(d->heap, size);
    trace_call(d, "malloc", size, p);
    return p;
}

static void *dj_malloc(void *pool, size_t size) {
    disjoint_t *d = pool;
    if (unlikely(d->trace >= 3))
        return dj_malloc_traced(d, size);
    return heap_malloc(d->heap, size);
}

static void *dj_calloc(void *pool, size_t num, size_t size) {
    disjoint_t *d = pool;
    void *p = heap_calloc(d->heap, num, size);
    if (unlikely(d->trace >= 3))
        trace_call(d, "calloc", num * size, p);
    return p;
}

static void *dj_realloc(void *pool, void *ptr, size_t size) {
    disjoint_t *d = pool;
    void *p = heap_realloc(d->heap, ptr, size);
    if (unlikely(d->trace >= 3))
        trace_call(d, "realloc", size, p);
    return p;
}

static void *dj_aligned_malloc(void *pool, size_t size, size_t alignment) {
    disjoint_t *d = pool;
    void *p = heap_aligned_malloc(d->heap, size, alignment);
    if (unlikely(d->trace >= 3))
        trace_call(d, "aligned_malloc", size, p);
    return p;
}

static size_t dj_malloc_usable_size(void *pool, void *ptr) {
    return heap_usable_size(((disjoint_t *)pool)->heap, ptr);
}

__attribute__((noinline, cold)) static umf_result_t dj_free_traced(disjoint_t *d, void *ptr) {
    if (ptr) // the glue passes NULL on (engine pool)
        trace_call(d, "free", heap_usable_size(d->heap, ptr), ptr);
    return heap_free(d->heap, ptr);
}

static umf_result_t dj_free(void *pool, void *ptr) {
    disjoint_t *d = pool;
    if (unlikely(d->trace >= 3))
        return dj_free_traced(d, ptr);
    return heap_free(d->heap, ptr);
}

static umf_memory_pool_ops_t disjoint_ops = POOL_OPS_TABLE(dj, heap_pool_last_error);

// An engine pool; its malloc and free ops are the engine's own unless the
// pool traces every call (then umfPoolMalloc, umfPoolFree and umfFree go
// through dj_malloc/dj_free).
static struct heap_t *dj_engine(void *pool, bool *direct) {
    disjoint_t *d = pool;
    *direct = d->trace < 3;
    return d->heap;
}
POOL_OPS_DECLARE(disjoint_ops, POOL_CAP_ENGINE | POOL_CAP_CHECKS_POINTERS, dj_engine)

HETMEM_EXPORT umf_memory_pool_ops_t *umfDisjointPoolOps(void) { return &disjoint_ops; }
