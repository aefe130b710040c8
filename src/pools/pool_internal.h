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
#define POOL_TAG 0xb7e1a5c3u // bit 2 clear: POOL_TAG_IPC_BIT
#define POOL_TAG_IPC_BIT 0x4u   // set in a live pool's tag by pool_ipc_arm
#define POOL_TAG_IPC (POOL_TAG | POOL_TAG_IPC_BIT)
_Static_assert(!(POOL_TAG & POOL_TAG_IPC_BIT), "POOL_TAG_IPC differs from POOL_TAG");

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

/// True when h is a live pool handle: one load, a mask and one compare.
/// (A live pool is POOL_TAG or, once it has had an IPC handle, POOL_TAG_IPC.)
static inline bool pool_handle_ok(umf_memory_pool_handle_t h) {
    return likely(h) &&
           likely((atomic_load_explicit(&h->hdr.tag, memory_order_relaxed) & ~POOL_TAG_IPC_BIT) ==
                  POOL_TAG);
}

/// The entry check of the pool API: pool_handle_ok, or one log line
/// naming `fn` (base/handle.h) and false.
static inline bool pool_handle_check(umf_memory_pool_handle_t h, const char *fn) {
    if (likely(pool_handle_ok(h)))
        return true;
    handle_refuse(h, POOL_TAG, "pool", fn);
    return false;
}

/// The fast paths' check (umfPoolMalloc, umfPoolFree): h is a live pool
/// that has never had an IPC handle - one compare of the tag with an
/// immediate. Anything else takes the caller's slow path, which tells an
/// armed pool (pool_ipc_arm) from a bad handle.
static inline bool pool_handle_plain(umf_memory_pool_handle_t h) {
#if defined(__SANITIZE_THREAD__)
    return likely(h) && likely(atomic_load_explicit(&h->hdr.tag, memory_order_relaxed) == POOL_TAG);
#else
    // The same relaxed load written as a plain aligned 4-byte read (what the
    // atomic load is on every target built), so that gcc folds it into the
    // compare (cmpl $imm, (reg)); TSan builds keep the atomic access.
    return likely(h) && likely(*(const uint32_t *)&h->hdr.tag == POOL_TAG);
#endif
}

/// Called by umfGetIPCHandle before the first liveness record of one of
/// `pool`'s allocations exists: the pool's tag becomes POOL_TAG_IPC for
/// the rest of its life, so that umfPoolFree takes its slow path, which
/// ends the records of the block freed, and umfFree no longer frees the
/// pool's blocks directly. Frees of pools that never had an IPC handle pay
/// nothing for IPC.
void pool_ipc_arm(umf_memory_pool_handle_t pool);


/// Wraps `upstream` in a provider that registers every range it hands out
/// in the address map (tracker) as owned by `pool`, and unregisters it on
/// free; split/merge keep the map in step. Returns a provider handle.
umf_result_t pool_tracking_provider_create(umf_memory_provider_handle_t upstream,
                                           umf_memory_pool_handle_t pool,
                                           umf_memory_provider_handle_t *out);

#endif // HETMEM_POOLS_POOL_INTERNAL_H
