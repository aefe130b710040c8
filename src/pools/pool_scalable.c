// SPDX-License-Identifier: MIT
// The scalable pool (umf/pools/pool_scalable.h): the heap engine with the
// engine's defaults, the provider request granularity and keep-all-memory
// as parameters. Granularity is the chunk size asked from the provider
// (rounded up to its page size; larger blocks get larger chunks); keep all
// memory turns decay and purging off, so the provider sees frees only at
// umfPoolDestroy. malloc(0) returns a unique pointer.
#include <pthread.h>

#include <umf/pools/pool_scalable.h>

#include "base/log.h"
#include "base/util.h"
#include "heap/heap.h"
#include "os/meta.h"
#include "pools/pool.h"

/// Parameters: plain data owned by the caller, copied into the engine's
/// configuration by initialize.
struct umf_scalable_pool_params_t {
    size_t granularity;
    bool keep_all_memory;
};

#define SCALABLE_DEFAULT_GRANULARITY ((size_t)2 << 20)

HETMEM_EXPORT umf_result_t umfScalablePoolParamsCreate(umf_scalable_pool_params_handle_t *hParams) {
    umf_result_t r = pool_params_new(sizeof **hParams, (void **)hParams);
    if (r == UMF_RESULT_SUCCESS)
        (*hParams)->granularity = SCALABLE_DEFAULT_GRANULARITY; // keep_all_memory: false
    return r;
}

HETMEM_EXPORT umf_result_t umfScalablePoolParamsDestroy(umf_scalable_pool_params_handle_t hParams) {
    POOL_PARAMS_CHECK(hParams, "scalable");
    meta_free(hParams, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfScalablePoolParamsSetGranularity(umf_scalable_pool_params_handle_t hParams, size_t granularity) {
    POOL_PARAMS_CHECK(hParams, "scalable");
    if (granularity == 0) {
        LOG_ERR("granularity 0");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    hParams->granularity = granularity;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfScalablePoolParamsSetKeepAllMemory(umf_scalable_pool_params_handle_t hParams,
                                      bool keepAllMemory) {
    POOL_PARAMS_CHECK(hParams, "scalable");
    hParams->keep_all_memory = keepAllMemory;
    return UMF_RESULT_SUCCESS;
}

// The pool state is the engine heap itself: the ops are the engine's.
// NULL params: the defaults.
static umf_result_t scalable_initialize(umf_memory_provider_handle_t provider, void *params,
                                        void **out) {
    const struct umf_scalable_pool_params_t *p = params;
    heap_config_t cfg;
    heap_config_default(&cfg);
    if (p) {
        cfg.chunk_size = p->granularity;
        cfg.keep_all_memory = p->keep_all_memory;
    }
    return heap_create(provider, &cfg, (heap_t **)out);
}

static void scalable_finalize(void *pool) { heap_destroy(pool); }

// Filled once (the allocation members come from the engine, heap.h).
static umf_memory_pool_ops_t scalable_ops;
static pthread_once_t scalable_once = PTHREAD_ONCE_INIT;

// The pool state is the heap, and the ops are the engine's own.
static struct heap_t *scalable_engine(void *pool, bool *direct) {
    *direct = true;
    return pool;
}
POOL_OPS_DECLARE(scalable_ops, POOL_CAP_ENGINE | POOL_CAP_CHECKS_POINTERS, scalable_engine)

static void scalable_ops_init(void) {
    scalable_ops.version = UMF_VERSION_CURRENT;
    scalable_ops.initialize = scalable_initialize;
    scalable_ops.finalize = scalable_finalize;
    heap_pool_ops_fill(&scalable_ops);
}

HETMEM_EXPORT umf_memory_pool_ops_t *umfScalablePoolOps(void) {
    pthread_once(&scalable_once, scalable_ops_init);
    return &scalable_ops;
}
