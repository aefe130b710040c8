// SPDX-License-Identifier: MIT
// The one place that chooses and tunes a kind's pool (MEMKIND_HEAP_MANAGER,
// MEMKIND_HOG_MEMORY; docs/memkind.md, "Design", pool choice).
#include <stdatomic.h>
#include <string.h>

#include <umf/pools/pool_jemalloc.h>
#include <umf/pools/pool_scalable.h>

#include "base/log.h"
#include "frontend/memkind/mk_priv.h"
#include "heap/heap.h"
#include "pools/pool.h"

// The mark of a kind's pools (pool_guard_t.owner).
static const char mk_owner[] = "memkind";

typedef enum { POOL_SCALABLE, POOL_JEMALLOC } pool_kind_t;

static pool_kind_t choose(void) {
    return mk_env()->heap_manager == MK_HEAP_JEMALLOC ? POOL_JEMALLOC : POOL_SCALABLE;
}

// The implementation the last pool was created with (-1: none yet).
static _Atomic int last_used = -1;

const char *mk_pool_manager_name(void) {
    static const char *const names[] = {"scalable (hetmem heap engine)", "jemalloc"};
    int used = atomic_load_explicit(&last_used, memory_order_relaxed);
    return names[used >= 0 ? used : (int)choose()];
}

static umf_result_t create_with(pool_kind_t which, const mk_pool_cfg_t *cfg,
                                umf_memory_provider_handle_t provider,
                                umf_memory_pool_handle_t *pool) {
    const umf_pool_create_flags_t flags = UMF_POOL_CREATE_FLAG_OWN_PROVIDER;
    umf_result_t r;
    if (which == POOL_JEMALLOC) {
        // MEMKIND_ARENA_NUM_PER_KIND is jemalloc's arena count (at most 64 here).
        hetmem_jemalloc_pool_params_handle_t p = NULL;
        unsigned arenas = mk_env()->arena_num;
        if (arenas && hetmem_jemalloc_pool_params_create(&p) == UMF_RESULT_SUCCESS)
            hetmem_jemalloc_pool_params_set_num_arenas(p, arenas > 64 ? 64 : arenas);
        r = umfPoolCreate(umfJemallocPoolOps(), provider, p, flags, pool);
        if (p)
            hetmem_jemalloc_pool_params_destroy(p);
        return r;
    }
    umf_scalable_pool_params_handle_t p;
    r = umfScalablePoolParamsCreate(&p);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    if (cfg->keep_all || mk_env()->hog_memory)
        r = umfScalablePoolParamsSetKeepAllMemory(p, true);
    if (r == UMF_RESULT_SUCCESS && cfg->granularity)
        r = umfScalablePoolParamsSetGranularity(p, cfg->granularity);
    if (r == UMF_RESULT_SUCCESS)
        r = umfPoolCreate(umfScalablePoolOps(), provider, p, flags, pool);
    umfScalablePoolParamsDestroy(p);
    return r;
}

umf_result_t mk_pool_create(const mk_pool_cfg_t *cfg, const pool_guard_t *guard,
                            umf_memory_provider_handle_t provider, struct memkind *kind,
                            umf_memory_pool_handle_t *out) {
    umf_memory_pool_handle_t pool = NULL;
    pool_kind_t which = choose();
    umf_result_t r = create_with(which, cfg, provider, &pool);
    if (which == POOL_JEMALLOC &&
        (r == UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE || r == UMF_RESULT_ERROR_NOT_SUPPORTED)) {
        static bool once;
        log_write_once(&once, LOG_LEVEL_INFO, __func__,
                       "MEMKIND_HEAP_MANAGER=JEMALLOC: the jemalloc pool is unavailable (%d); "
                       "using the heap engine",
                       (int)r);
        which = POOL_SCALABLE;
        r = create_with(which, cfg, provider, &pool);
    }
    if (r != UMF_RESULT_SUCCESS) {
        // umfPoolCreate owns the provider only once it succeeds
        umfMemoryProviderDestroy(provider);
        return r;
    }
    atomic_store_explicit(&last_used, (int)which, memory_order_relaxed);
    pool_guard_t g = *guard;
    g.owner = mk_owner;
    pool_guard_set(pool, &g); // tracked: cannot fail
    umfPoolSetTag(pool, kind, NULL);
    *out = pool;
    return UMF_RESULT_SUCCESS;
}

bool mk_pool_is_ours(umf_memory_pool_handle_t pool) { return pool_guard_owner(pool) == mk_owner; }

void mk_pool_stats(umf_memory_pool_handle_t pool, mk_pool_stats_t *out) {
    heap_t *h = pool_engine_heap(pool);
    heap_stats_t st;
    pool_guard_counts_t c; // another pool: what it holds from its provider
    if (h)
        heap_stats(h, &st);
    else
        pool_guard_counts(pool, &c);
    *out = h ? (mk_pool_stats_t){st.allocated, st.active, st.resident}
             : (mk_pool_stats_t){c.held, c.held, c.held};
}

void mk_pool_purge(umf_memory_pool_handle_t pool) {
    heap_t *h = pool_engine_heap(pool);
    if (h)
        heap_purge(h, false);
}
