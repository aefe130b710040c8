// SPDX-License-Identifier: MIT
// The hmalloc pool: one UMF pool per process, created lazily and
// thread-safely (pthread_once) on the first allocation, over the OS
// provider with the NUMA mode that hm_policy() read from the environment
// (hmctl). Without hmctl the provider binds nothing and the pool behaves
// like malloc. The choice of pool engine is made here and nowhere else.
//
// The pool is never destroyed: other threads and atexit handlers may still
// allocate and free, and the process's exit returns its memory.
#include <pthread.h>
#include <stdatomic.h>

#include <umf/memory_provider.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/hmalloc/hm_priv.h"
#include "frontend/hmalloc/hm_policy.h"

// The engine of the hmalloc pool, chosen here only: the heap engine behind
// UMF's scalable pool, with its defaults (2 MiB requests to the provider,
// per-thread caches, cross-thread frees, decay that gives unused memory
// back). hmalloc(0) returns a unique pointer there, as malloc(0) does.
static const umf_memory_pool_ops_t *pool_ops(void) { return umfScalablePoolOps(); }

static void *pool_params(void) { return NULL; } // the engine's defaults

// The mode's row: the OS provider's mode over the binding's nodes
// (preferred-many: MPOL_PREFERRED_MANY for one node too, unless
// hm_binding() fell back to MPOL_PREFERRED).
static umf_result_t provider_create(const hm_policy_t *pol, umf_memory_provider_handle_t *out) {
    const hm_binding_t *hb = hm_binding();
    memspace_bind_t b = {.mode = hm_modes[pol->mode].numa,
                         .weighted = hm_modes[pol->mode].weighted,
                         .preferred_many = hb->mpol == OS_MPOL_PREFERRED_MANY};
    return memspace_os_provider_create_set(&hb->nodes, &b, out);
}

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
// Published once, by pool_init (release); read with acquire on every call.
static _Atomic(umf_memory_pool_handle_t) the_pool;

static void pool_init(void) {
    const hm_policy_t *pol = hm_policy();
    umf_memory_provider_handle_t provider;
    umf_memory_pool_handle_t pool;
    umf_result_t r = provider_create(pol, &provider);
    if (r != UMF_RESULT_SUCCESS) {
        LOG_ERR("cannot create the hmalloc pool's provider (%s policy): %s",
                hm_mode_name(pol->mode), log_umf_result(r));
        return;
    }
    // Tracked (the default), so that hfree finds the pool of a pointer in
    // the address map and can tell a foreign pointer.
    r = umfPoolCreate(pool_ops(), provider, pool_params(), UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                      &pool);
    if (r != UMF_RESULT_SUCCESS) {
        LOG_ERR("cannot create the hmalloc pool: %s", log_umf_result(r));
        umfMemoryProviderDestroy(provider);
        return;
    }
    atomic_store_explicit(&the_pool, pool, memory_order_release);
}

umf_memory_pool_handle_t hm_pool(void) {
    umf_memory_pool_handle_t pool = atomic_load_explicit(&the_pool, memory_order_acquire);
    if (likely(pool))
        return pool;
    pthread_once(&pool_once, pool_init);
    return atomic_load_explicit(&the_pool, memory_order_acquire);
}

umf_memory_pool_handle_t hm_pool_created(void) {
    return atomic_load_explicit(&the_pool, memory_order_acquire);
}
