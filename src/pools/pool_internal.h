// SPDX-License-Identifier: MIT
// Internal view of pool handles (pool.c, the tracking provider, the IPC
// layer and the front ends that build on pools).
#ifndef HETMEM_POOLS_POOL_INTERNAL_H
#define HETMEM_POOLS_POOL_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>

#include "base/handle.h"
#include "base/util.h"

/// The tag of a live pool handle (base/handle.h); a destroyed one carries
/// handle_dead_tag(POOL_TAG).
#define POOL_TAG 0xb7e1a5c3u

/// A pool handle. Everything but `tag` is immutable between umfPoolCreate
/// and umfPoolDestroy, so the fast paths read it without synchronization.
/// umfPoolDestroy marks `hdr` destroyed and keeps the struct for new pools
/// only (base/handle.h), so a destroyed handle is refused, not followed.
struct umf_memory_pool_t {
    handle_hdr_t hdr; // POOL_TAG while live; first, in the fast paths' cache line
    // The malloc and free fast paths (umfPoolMalloc, umfPoolFree, umfFree)
    // jump to these with fast_ctx. Engine pools (pool.c: engine): the ops
    // themselves with priv. Other pools: glue functions with the handle,
    // which add the checks the ops may not make (free(NULL), error record).
    void *(*fast_malloc)(void *ctx, size_t size);
    umf_result_t (*fast_free)(void *ctx, void *ptr);
    void *fast_ctx;
    bool engine;                             // ops over the heap engine (heap.h)
    void *priv;                              // the implementation's state
    umf_memory_pool_ops_t ops;               // copied at creation
    umf_memory_provider_handle_t provider;   // the provider the user gave
    umf_memory_provider_handle_t upstream;   // what the implementation allocates from:
                                             // the tracking wrapper, or `provider`
                                             // with UMF_POOL_CREATE_FLAG_DISABLE_TRACKING
    umf_pool_create_flags_t flags;
    bool check_owner;                        // a tracked pool of user-defined ops: the
                                             // glue refuses frees outside its ranges
    _Atomic(void *) tag;                     // umfPoolSetTag / umfPoolGetTag
};

/// True when h is a live pool handle: one load and one compare.
static inline bool pool_handle_ok(umf_memory_pool_handle_t h) { return handle_live(h, POOL_TAG); }

/// The entry check of the pool API: pool_handle_ok, or one log line
/// naming `fn` (base/handle.h) and false.
static inline bool pool_handle_check(umf_memory_pool_handle_t h, const char *fn) {
    return handle_ok(h, POOL_TAG, "pool", fn);
}

/// Wraps `upstream` in a provider that registers every range it hands out
/// in the address map (tracker) as owned by `pool`, and unregisters it on
/// free; split/merge keep the map in step. Returns a provider handle.
umf_result_t pool_tracking_provider_create(umf_memory_provider_handle_t upstream,
                                           umf_memory_pool_handle_t pool,
                                           umf_memory_provider_handle_t *out);

#endif // HETMEM_POOLS_POOL_INTERNAL_H
