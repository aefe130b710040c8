// SPDX-License-Identifier: MIT
// Internal view of pool handles (pool.c, the tracking provider, the IPC
// layer and the front ends that build on pools).
#ifndef HETMEM_POOLS_POOL_H
#define HETMEM_POOLS_POOL_H

#include <stdatomic.h>
#include <stdbool.h>

#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>

#include "base/handle.h"
#include "base/log.h"
#include "base/nodeset.h"
#include "base/util.h"

/// The tag of a live pool handle (base/handle.h); a destroyed one carries
/// handle_dead_tag(POOL_TAG). A live pool's tag also says which path its
/// umfPoolMalloc/umfPoolFree take, so that one compare decides it:
///   POOL_TAG_DIRECT  the engine fast path (POOL_CAP_ENGINE, direct heap)
///   POOL_TAG         the ops through the glue (pool.c: generic path)
///   POOL_TAG_IPC     armed by pool_ipc_arm (any pool): the slow path
#define POOL_TAG 0xb7e1a5c3u       // bits 2 and 3 clear
#define POOL_TAG_IPC_BIT 0x4u      // set in a live pool's tag by pool_ipc_arm
#define POOL_TAG_DIRECT_BIT 0x8u   // set in a live engine pool's tag (pool_caps_t)
#define POOL_TAG_IPC (POOL_TAG | POOL_TAG_IPC_BIT)
#define POOL_TAG_DIRECT (POOL_TAG | POOL_TAG_DIRECT_BIT)
#define POOL_TAG_LIVE_MASK (~(POOL_TAG_IPC_BIT | POOL_TAG_DIRECT_BIT))
_Static_assert(!(POOL_TAG & (POOL_TAG_IPC_BIT | POOL_TAG_DIRECT_BIT)), "POOL_TAG has both bits clear");

struct heap_t;

/// Pool capabilities: what an implementation lets pool.c do besides calling
/// its ops. The UMF ops table has no room for them, so the implementation
/// declares them for the table it hands out (POOL_OPS_DECLARE, once, at
/// load); umfPoolCreate looks the table up and copies them into the pool.
/// A copy of a table, or a user's table, declares nothing: its pools take
/// the generic path (ops through the glue, with the address-map check).
enum {
    /// The pool's blocks are blocks of one heap-engine heap (src/heap):
    /// the engine's page map names their heap and pool (heap_owner_of),
    /// and its usable size is safe for any pointer. When `engine` also
    /// says `direct` (the pool's malloc and free ops are exactly the
    /// engine's heap_malloc/heap_free: free(NULL) is SUCCESS, failures set
    /// heap_last_error), umfPoolMalloc, umfPoolFree and umfFree call the
    /// engine straight: docs/architecture.md, "Fast paths".
    POOL_CAP_ENGINE = 1u << 0,
    /// The ops refuse, themselves, a free, realloc or usable size of a
    /// pointer that is not theirs: the glue adds no address-map check.
    POOL_CAP_CHECKS_POINTERS = 1u << 1,
};
typedef struct pool_caps_t {
    unsigned flags; // POOL_CAP_*
    /// POOL_CAP_ENGINE: the heap of the pool state `priv`, and whether the
    /// pool's malloc/free ops are the engine's own (*direct).
    struct heap_t *(*engine)(void *priv, bool *direct);
} pool_caps_t;

/// Records `caps` for the ops table `ops` (POOL_OPS_DECLARE). At most
/// POOL_OPS_DECLARED_MAX tables; called by load-time constructors only.
void pool_ops_declare(const umf_memory_pool_ops_t *ops, const pool_caps_t *caps);
#define POOL_OPS_DECLARED_MAX 8
/// Declares the capabilities of the file-scope ops table `ops`.
#define POOL_OPS_DECLARE(ops, cap_flags, engine_fn)                                                \
    __attribute__((constructor)) static void ops##_declare(void) {                                 \
        static const pool_caps_t caps = {(cap_flags), (engine_fn)};                                \
        pool_ops_declare(&(ops), &caps);                                                           \
    }

/// The ops table of a pool whose operations are named P_initialize,
/// P_finalize, P_malloc, P_calloc, P_realloc, P_aligned_malloc,
/// P_malloc_usable_size and P_free.
#define POOL_OPS_TABLE(P, last_error_fn)                                                          \
    {                                                                                              \
        .version = UMF_VERSION_CURRENT, .initialize = P##_initialize, .finalize = P##_finalize,    \
        .malloc = P##_malloc, .calloc = P##_calloc, .realloc = P##_realloc,                        \
        .aligned_malloc = P##_aligned_malloc, .malloc_usable_size = P##_malloc_usable_size,        \
        .free = P##_free, .get_last_allocation_error = (last_error_fn),                            \
    }

/// A pool handle. Everything but `tag` is immutable between umfPoolCreate
/// and umfPoolDestroy, so the fast paths read it without synchronization.
/// umfPoolDestroy marks `hdr` destroyed and keeps the struct for new pools
/// only (base/handle.h), so a destroyed handle is refused, not followed.
struct umf_memory_pool_t {
    handle_hdr_t hdr;       // POOL_TAG_DIRECT/POOL_TAG/POOL_TAG_IPC while live; first,
                            // in the fast paths' cache line
    struct heap_t *heap;    // POOL_CAP_ENGINE: the pool's heap (the direct path's
                            // argument while the tag is POOL_TAG_DIRECT), else NULL
    bool engine;            // POOL_CAP_ENGINE declared for the ops
    bool check_owner;       // a tracked pool without POOL_CAP_CHECKS_POINTERS:
                            // the glue refuses pointers outside its ranges
    void *priv;                              // the implementation's state
    umf_memory_pool_ops_t ops;               // copied at creation
    umf_memory_provider_handle_t provider;   // the provider the user gave
    umf_memory_provider_handle_t upstream;   // what the implementation allocates from:
                                             // the tracking wrapper, or `provider`
                                             // with UMF_POOL_CREATE_FLAG_DISABLE_TRACKING
    umf_pool_create_flags_t flags;
    _Atomic(void *) tag;                     // umfPoolSetTag / umfPoolGetTag
};

/// True when h is a live pool handle: one load, a mask and one compare.
static inline bool pool_handle_ok(umf_memory_pool_handle_t h) {
    return likely(h) &&
           likely((atomic_load_explicit(&h->hdr.tag, memory_order_relaxed) & POOL_TAG_LIVE_MASK) ==
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

/// Whether h's tag is `tag`: one compare of the tag with an immediate.
static inline bool pool_handle_is(umf_memory_pool_handle_t h, uint32_t tag) {
#if defined(__SANITIZE_THREAD__)
    return likely(h) && atomic_load_explicit(&h->hdr.tag, memory_order_relaxed) == tag;
#else
    // The same relaxed load written as a plain aligned 4-byte read (what the
    // atomic load is on every target built), so that gcc folds it into the
    // compare (cmpl $imm, (reg)); TSan builds keep the atomic access.
    return likely(h) && *(const uint32_t *)&h->hdr.tag == tag;
#endif
}

/// Called by umfGetIPCHandle before the first liveness record of one of
/// `pool`'s allocations exists: the pool's tag becomes POOL_TAG_IPC for
/// the rest of its life, so that umfPoolFree takes its slow path, which
/// ends the records of the block freed, and umfFree no longer frees the
/// pool's blocks directly. Frees of pools that never had an IPC handle pay
/// nothing for IPC.
void pool_ipc_arm(umf_memory_pool_handle_t pool);

/// What the IPC layer, above this one, has the pool layer call (pools
/// never call up): it installs them before any liveness record exists
/// (ipc.c, a constructor), so that a NULL table means "no IPC in this
/// program". alloc_freed ends the records of the allocation at ptr (of
/// `pool`: before its free or realloc); pool_destroyed ends every record of
/// the pool's allocations and forgets its IPC handler.
typedef struct pool_ipc_hooks_t {
    void (*alloc_freed)(umf_memory_pool_handle_t pool, void *ptr);
    void (*pool_destroyed)(umf_memory_pool_handle_t pool);
    /// A provider range of the pool's goes back to (or is split or merged
    /// by) `provider`: its cached IPC data is released first.
    void (*range_freed)(umf_memory_provider_handle_t provider, uintptr_t start, size_t size);
} pool_ipc_hooks_t;
void pool_ipc_set_hooks(const pool_ipc_hooks_t *hooks);
/// Calls the hook's range_freed when installed (the tracking provider).
void pool_ipc_range_freed(umf_memory_provider_handle_t provider, uintptr_t start, size_t size);

/// Live liveness records of allocations (the IPC layer counts them; a fork
/// child starts at 0). Hidden: the free paths read it with one instruction.
extern _Atomic size_t pool_ipc_records __attribute__((visibility("hidden")));


/// The built-in pools' params handles: a zeroed struct of `size` bytes in
/// *out (INVALID_ARGUMENT with a log line for a NULL out), and the NULL
/// check of the Set/Destroy calls (`what` names the pool in the line).
umf_result_t pool_params_new(size_t size, void **out);
#define POOL_PARAMS_CHECK(h, what)                                                                 \
    do {                                                                                           \
        if (!(h)) {                                                                                \
            LOG_ERR("NULL %s pool params handle", what);                                           \
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;                                              \
        }                                                                                          \
    } while (0)

/// Wraps `upstream` in a provider that registers every range it hands out
/// in the address map (tracker) as owned by `pool`, and unregisters it on
/// free; split/merge keep the map in step. Returns a provider handle.
umf_result_t pool_tracking_provider_create(umf_memory_provider_handle_t upstream,
                                           umf_memory_pool_handle_t pool,
                                           umf_memory_provider_handle_t *out);

/// A tracked pool's guard (pool_guard_set): what the tracking provider
/// checks before the pool gets a new range from its provider, and does to
/// the range. docs/providers-pools.md, "Pool guard".
typedef struct pool_guard_t {
    size_t limit;      ///< most bytes the pool may hold from its provider, 0: none
    nodeset_t nodes;   ///< non-empty: refuse a range unless these nodes keep
                       ///< `reserve` bytes free beyond it (ENOMEM instead of the
                       ///< OOM killer for bound memory); lazy purges become forced
    size_t reserve;
    bool nohugepage;   ///< advise against transparent huge pages on each new range
    const void *owner; ///< the caller's mark, read back by pool_guard_owner
} pool_guard_t;

/// Bytes a tracked pool holds from its provider (counted for every tracked
/// pool), the most it held at once, and the ranges its guard refused.
typedef struct pool_guard_counts_t {
    size_t held, peak;
    uint64_t refused;
} pool_guard_counts_t;

/// Sets the guard of a tracked pool; call it before the pool is shared
/// between threads (ranges taken by the pool's initialize were counted but
/// not checked). NOT_SUPPORTED for an untracked pool.
umf_result_t pool_guard_set(umf_memory_pool_handle_t pool, const pool_guard_t *guard);
/// The owner mark of a tracked pool's guard (NULL: none, or untracked).
const void *pool_guard_owner(umf_memory_pool_handle_t pool);
/// A tracked pool's counts (zeros for an untracked pool).
void pool_guard_counts(umf_memory_pool_handle_t pool, pool_guard_counts_t *out);

/// The background purger (pool_purger.c): one thread that calls fn(arg)
/// every period_ms while on. Setting it on again replaces fn, arg and the
/// period; off stops and joins the thread. fn runs without the purger's
/// locks. A forked child starts without the thread. Returns 0, EINVAL (on
/// without fn or period) or pthread_create's error.
typedef void (*pool_purger_fn_t)(void *arg);
int pool_purger_set(bool on, unsigned period_ms, pool_purger_fn_t fn, void *arg);
bool pool_purger_running(void);

/// The heap-engine heap of a pool whose ops declared POOL_CAP_ENGINE, else NULL.
static inline struct heap_t *pool_engine_heap(umf_memory_pool_handle_t pool) {
    return pool_handle_ok(pool) && pool->engine ? pool->heap : NULL;
}

#endif // HETMEM_POOLS_POOL_H
