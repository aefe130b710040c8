// SPDX-License-Identifier: MIT
// The memory pool API (umfPool*, umfFree, umfPoolByPtr): creation with the
// tracking provider, argument checks that every pool gets (NULL handles,
// calloc overflow, alignments), dispatch to the pool implementation, and
// release of whatever a pool still holds when it is destroyed.
//
// Handles are validated on entry (base/handle.h): a NULL, destroyed or
// garbage handle gets UMF_RESULT_ERROR_INVALID_ARGUMENT (NULL or 0 from
// the calls that return memory or a size) and one log line. A destroyed
// pool's struct is kept, marked dead, for reuse by later pools only.
// No public function here changes errno when it succeeds.
#include <errno.h>
#include <stdatomic.h>

#include <string.h>

#include "base/handle.h"
#include "base/log.h"
#include "base/util.h"
#include "heap/heap.h"
#include "os/meta.h"
#include "pools/pool.h"
#include "providers/provider.h"
#include "tracker/tracker.h"

// IPC liveness records: the counter and the IPC layer's hooks.
_Atomic size_t pool_ipc_records;
static const pool_ipc_hooks_t *_Atomic ipc_hooks;

void pool_ipc_set_hooks(const pool_ipc_hooks_t *hooks) {
    atomic_store_explicit(&ipc_hooks, hooks, memory_order_release);
}

// Ends the records of ptr before its free or realloc. The fast path is one
// relaxed load (no record anywhere); the call stays out of line.
static __attribute__((noinline)) void ipc_alloc_freed_slow(umf_memory_pool_handle_t pool,
                                                           void *ptr) {
    const pool_ipc_hooks_t *h = atomic_load_explicit(&ipc_hooks, memory_order_acquire);
    if (h)
        h->alloc_freed(pool, ptr);
}

static inline void ipc_alloc_freed(umf_memory_pool_handle_t pool, void *ptr) {
    if (unlikely(atomic_load_explicit(&pool_ipc_records, memory_order_relaxed) != 0))
        ipc_alloc_freed_slow(pool, ptr);
}

void pool_ipc_range_freed(umf_memory_provider_handle_t provider, uintptr_t start, size_t size) {
    const pool_ipc_hooks_t *h = atomic_load_explicit(&ipc_hooks, memory_order_acquire);
    if (h && h->range_freed)
        h->range_freed(provider, start, size);
}

static void ipc_pool_destroyed(umf_memory_pool_handle_t pool) {
    const pool_ipc_hooks_t *h = atomic_load_explicit(&ipc_hooks, memory_order_acquire);
    if (h)
        h->pool_destroyed(pool);
}

// Errors found here, before the implementation is called, are reported by
// umfPoolGetLastAllocationError through this per-thread record. It is
// written only on failure paths; a NULL from the implementation clears it
// so that the implementation's own record speaks. umfPoolMalloc does not
// look at what a direct engine pool returns (it jumps straight into the
// engine): for engine pools, `seq` tells whether the engine has failed
// since (heap.h).
static __thread struct {
    umf_memory_pool_handle_t pool;
    umf_result_t result;
    uint64_t seq; // heap_error_seq() when recorded
} glue_error;

static void *fail(umf_memory_pool_handle_t pool, umf_result_t r) {
    glue_error.pool = pool;
    glue_error.result = r;
    glue_error.seq = heap_error_seq();
    return NULL;
}

static inline void *checked(umf_memory_pool_handle_t pool, void *p) {
    if (unlikely(!p))
        glue_error.pool = NULL;
    return p;
}

static handle_graveyard_t pool_graves = HANDLE_GRAVEYARD_INIT;

#define CHECK_POOL(h, ret)                                                                         \
    do {                                                                                           \
        if (unlikely(!pool_handle_check((h), __func__)))                                           \
            return ret;                                                                            \
    } while (0)

// A tracked pool of user-defined ops hands out memory of its provider,
// which the tracking provider registered as the pool's: a free, realloc or
// usable size of a pointer outside those ranges is refused here (block
// boundaries inside a range are the pool's own business).
static bool owned_by(umf_memory_pool_handle_t pool, const void *ptr, const char *fn) {
    tracker_entry_t e;
    if (tracker_find(ptr, &e) && e.pool == pool)
        return true;
    LOG_ERR("%s(%p): not memory of pool %p (foreign, or freed)", fn, ptr, (void *)pool);
    return false;
}

// ---- capabilities (pool.h, pool_caps_t) --------------------------------------------

// Written by load-time constructors only (POOL_OPS_DECLARE), before any
// pool can be created: read without synchronization.
static struct {
    const umf_memory_pool_ops_t *ops;
    const pool_caps_t *caps;
} declared[POOL_OPS_DECLARED_MAX];
static unsigned declared_n;

void pool_ops_declare(const umf_memory_pool_ops_t *ops, const pool_caps_t *caps) {
    if (declared_n == POOL_OPS_DECLARED_MAX) {
        LOG_ERR("too many pool ops tables declare capabilities (%u)", declared_n);
        return;
    }
    declared[declared_n].ops = ops;
    declared[declared_n++].caps = caps;
}

static const pool_caps_t *caps_of(const umf_memory_pool_ops_t *ops) {
    static const pool_caps_t none = {0, NULL};
    for (unsigned i = 0; i < declared_n; i++)
        if (declared[i].ops == ops)
            return declared[i].caps;
    return &none;
}

// Sets the pool's capabilities after its initialize: the engine heap, the
// tag its fast paths compare (POOL_TAG_DIRECT: straight into the engine)
// and whether the glue checks pointers against the address map.
static uint32_t apply_caps(umf_memory_pool_handle_t pool, const pool_caps_t *caps) {
    bool direct = false;
    pool->engine = (caps->flags & POOL_CAP_ENGINE) && caps->engine;
    pool->heap = pool->engine ? caps->engine(pool->priv, &direct) : NULL;
    if (!pool->heap)
        pool->engine = direct = false;
    bool tracked = pool->upstream != pool->provider;
    pool->check_owner = tracked && !(caps->flags & POOL_CAP_CHECKS_POINTERS);
    // Blocks of the heap engine are found through its page map (two loads)
    // rather than the address map's tree: umfFree and umfPoolByPtr. Only
    // tracked pools: untracked ones stay invisible to both.
    if (tracked)
        heap_set_owner_for_provider(pool->upstream, pool, direct);
    return direct ? POOL_TAG_DIRECT : POOL_TAG;
}

// ---- dispatch ---------------------------------------------------------------------------------

// The free of a live pool (any tag) by its ops, with the check that an
// engine makes itself (`check`, unless the caller found the pool by ptr):
// ptr lies in the pool's ranges. NULL goes to the pool, as in UMF.
static umf_result_t free_in(umf_memory_pool_handle_t pool, void *ptr, bool check) {
    if (ptr && check && pool->check_owner && !owned_by(pool, ptr, "umfPoolFree"))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    return pool->ops.free(pool->priv, ptr);
}

umf_result_t pool_params_new(size_t size, void **out) {
    if (!out) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    void *p = meta_alloc(size); // zeroed
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    *out = p;
    return UMF_RESULT_SUCCESS;
}

static bool pool_ops_valid(const umf_memory_pool_ops_t *ops) {
    if (UMF_MAJOR_VERSION(ops->version) != UMF_MAJOR_VERSION(UMF_VERSION_CURRENT) ||
        UMF_MINOR_VERSION(ops->version) < 10 ||
        UMF_MINOR_VERSION(ops->version) > UMF_MINOR_VERSION(UMF_VERSION_CURRENT)) {
        LOG_ERR("unsupported pool ops version %u.%u", UMF_MAJOR_VERSION(ops->version),
                UMF_MINOR_VERSION(ops->version));
        return false;
    }
    if (!ops->initialize || !ops->finalize || !ops->malloc || !ops->calloc || !ops->realloc ||
        !ops->aligned_malloc || !ops->malloc_usable_size || !ops->free ||
        !ops->get_last_allocation_error) {
        LOG_ERR("pool ops table lacks a required operation");
        return false;
    }
    return true;
}

HETMEM_EXPORT umf_result_t umfPoolCreate(const umf_memory_pool_ops_t *ops,
                                         umf_memory_provider_handle_t provider, void *params,
                                         umf_pool_create_flags_t flags,
                                         umf_memory_pool_handle_t *hPool) {
    if (!ops || !provider || !hPool) {
        LOG_ERR("NULL %s", !ops ? "ops" : !provider ? "provider" : "hPool");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (flags & ~(umf_pool_create_flags_t)(UMF_POOL_CREATE_FLAG_OWN_PROVIDER |
                                           UMF_POOL_CREATE_FLAG_DISABLE_TRACKING)) {
        LOG_ERR("unknown pool flags 0x%x", flags);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (!pool_ops_valid(ops))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;

    int saved_errno = errno; // first use may dlopen, read sysfs, map memory
    umf_result_t r;
    struct umf_memory_pool_t *pool = handle_graveyard_take(&pool_graves, sizeof *pool);
    if (!pool)
        pool = meta_alloc(sizeof *pool); // zeroed
    if (!pool)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    pool->ops = *ops;
    pool->provider = provider;
    pool->flags = flags;
    atomic_init(&pool->tag, NULL);
    if (flags & UMF_POOL_CREATE_FLAG_DISABLE_TRACKING) {
        pool->upstream = provider;
    } else {
        r = pool_tracking_provider_create(provider, pool, &pool->upstream);
        if (r != UMF_RESULT_SUCCESS)
            goto err_free_pool;
    }
    r = ops->initialize(pool->upstream, params, &pool->priv);
    if (r != UMF_RESULT_SUCCESS) {
        LOG_INFO("pool initialize failed: %d", (int)r);
        goto err_destroy_tracking;
    }
    uint32_t tag = apply_caps(pool, caps_of(ops));
    handle_set_live(&pool->hdr, tag);
    *hPool = pool;
    errno = saved_errno;
    return UMF_RESULT_SUCCESS;

err_destroy_tracking:
    if (pool->upstream != provider)
        umfMemoryProviderDestroy(pool->upstream);
err_free_pool:
    handle_retire(&pool_graves, &pool->hdr, POOL_TAG); // never live: any struct may go there
    return r;
}

typedef struct leftovers_t {
    tracker_entry_t *v;
    size_t n, cap;
} leftovers_t;

static void collect(const tracker_entry_t *e, void *arg) {
    leftovers_t *l = arg;
    if (l->n < l->cap)
        l->v[l->n++] = *e;
}

// Ranges the implementation did not give back (the proxy pool keeps no
// list of its allocations; a user pool may leak) go back to the provider
// here, so that destroying a pool with live allocations releases them.
static void release_leftovers(umf_memory_pool_handle_t pool) {
    size_t n = tracker_for_each_of_pool(pool, NULL, NULL);
    if (n == 0)
        return;
    leftovers_t l = {meta_alloc(n * sizeof(tracker_entry_t)), 0, n};
    if (!l.v) {
        LOG_ERR("out of memory releasing %zu ranges of a destroyed pool", n);
        return;
    }
    tracker_for_each_of_pool(pool, collect, &l);
    for (size_t i = 0; i < l.n; i++) {
        // A range another pool still lives in stays (and leaks) rather than
        // going back under that pool (tracker_remove_of logs it).
        if (tracker_remove_of(l.v[i].start, pool, NULL) == 0)
            umfMemoryProviderFree(pool->provider, (void *)l.v[i].start, l.v[i].size);
    }
    LOG_INFO("released %zu ranges still held by a destroyed pool", l.n);
    meta_free(l.v, n * sizeof(tracker_entry_t));
}

HETMEM_EXPORT void umfPoolDestroy(umf_memory_pool_handle_t hPool) {
    if (!hPool)
        return;
    // Marked first: a use racing with destroy is the caller's bug, but a
    // use after it returns is refused (the struct stays readable).
    // A direct or armed pool (pool_ipc_arm) is live too: it goes back to the
    // plain tag first, so that the one-shot kill below sees a live pool.
    uint32_t t = atomic_load_explicit(&hPool->hdr.tag, memory_order_relaxed);
    if (t == POOL_TAG_DIRECT || t == POOL_TAG_IPC)
        atomic_compare_exchange_strong_explicit(&hPool->hdr.tag, &t, POOL_TAG,
                                                memory_order_relaxed, memory_order_relaxed);
    if (unlikely(!handle_kill(hPool, POOL_TAG, "pool", __func__))) // twice, or garbage: ignored
        return;
    int saved_errno = errno;
    ipc_pool_destroyed(hPool); // its IPC handles go stale, its handler goes
    if (hPool->upstream != hPool->provider)
        heap_set_owner_for_provider(hPool->upstream, NULL, false);
    hPool->ops.finalize(hPool->priv);
    if (hPool->upstream != hPool->provider) {
        release_leftovers(hPool);
        umfMemoryProviderDestroy(hPool->upstream);
    }
    if (hPool->flags & UMF_POOL_CREATE_FLAG_OWN_PROVIDER)
        umfMemoryProviderDestroy(hPool->provider);
    if (glue_error.pool == hPool)
        glue_error.pool = NULL;
    handle_retire(&pool_graves, &hPool->hdr, POOL_TAG);
    errno = saved_errno;
}

// umfPoolMalloc of a pool that does not take the engine's fast path: the
// ops of a plain pool, a pool with IPC handles (pool_ipc_arm), or a bad
// handle.
static __attribute__((noinline)) void *malloc_other(umf_memory_pool_handle_t hPool,
                                                    size_t size) {
    if (!pool_handle_ok(hPool)) {
        handle_refuse(hPool, POOL_TAG, "pool", "umfPoolMalloc");
        return NULL;
    }
    return checked(hPool, hPool->ops.malloc(hPool->priv, size));
}

// The allocation fast path: one compare of the tag and one tail call into
// the engine, for pools that declare it (POOL_CAP_ENGINE, direct).
HETMEM_EXPORT void *umfPoolMalloc(umf_memory_pool_handle_t hPool, size_t size) {
    if (likely(pool_handle_is(hPool, POOL_TAG_DIRECT)))
        return heap_malloc(hPool->heap, size);
    return malloc_other(hPool, size);
}

HETMEM_EXPORT void *umfPoolAlignedMalloc(umf_memory_pool_handle_t hPool, size_t size,
                                         size_t alignment) {
    CHECK_POOL(hPool, NULL);
    // Every alignment goes to the pool, as in UMF (0: none; ours refuse
    // one that is not a power of two with INVALID_ALIGNMENT).
    return checked(hPool, hPool->ops.aligned_malloc(hPool->priv, size, alignment));
}

HETMEM_EXPORT void *umfPoolCalloc(umf_memory_pool_handle_t hPool, size_t num, size_t size) {
    CHECK_POOL(hPool, NULL);
    size_t total;
    if (!mul_checked(num, size, &total)) {
        LOG_ERR("calloc(%zu, %zu) overflows", num, size);
        return fail(hPool, UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    }
    return checked(hPool, hPool->ops.calloc(hPool->priv, num, size));
}

HETMEM_EXPORT void *umfPoolRealloc(umf_memory_pool_handle_t hPool, void *ptr, size_t size) {
    CHECK_POOL(hPool, NULL);
    if (ptr && hPool->check_owner && !owned_by(hPool, ptr, __func__))
        return fail(hPool, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    ipc_alloc_freed(hPool, ptr); // the block may move: its IPC handles go stale
    return checked(hPool, hPool->ops.realloc(hPool->priv, ptr, size));
}

HETMEM_EXPORT size_t umfPoolMallocUsableSize(umf_memory_pool_handle_t hPool, void *ptr) {
    CHECK_POOL(hPool, 0);
    if (ptr && hPool->check_owner && !owned_by(hPool, ptr, __func__))
        return 0;
    return hPool->ops.malloc_usable_size(hPool->priv, ptr);
}

// IPC liveness records and frees. A pool's allocations get records only
// after pool_ipc_arm has marked it (POOL_TAG_IPC), so the free fast paths
// need no IPC check of their own: umfPoolFree's tag compare sends an armed
// pool to free_other, and umfFree frees directly only the blocks of heaps
// whose direct_free pool_ipc_arm has not switched off.
void pool_ipc_arm(umf_memory_pool_handle_t pool) {
    uint32_t t = atomic_load_explicit(&pool->hdr.tag, memory_order_relaxed);
    if ((t != POOL_TAG && t != POOL_TAG_DIRECT) ||
        !atomic_compare_exchange_strong_explicit(&pool->hdr.tag, &t, POOL_TAG_IPC,
                                                 memory_order_relaxed, memory_order_relaxed))
        return; // armed already (or not live: the caller checked)
    if (pool->upstream != pool->provider) // tracked: umfFree no longer frees it directly
        heap_set_owner_for_provider(pool->upstream, pool, false);
}

// The free of `pool` when its tag is not POOL_TAG_DIRECT: a plain pool's
// ops, an armed pool (its IPC records end first: pool_ipc_hooks_t), or a handle
// that is not live. `found`: the caller found the pool by ptr (no owner check).
static __attribute__((noinline)) umf_result_t free_other(umf_memory_pool_handle_t pool,
                                                         void *ptr, bool found, const char *fn) {
    if (likely(pool_handle_is(pool, POOL_TAG)))
        return free_in(pool, ptr, !found);
    if (!pool_handle_ok(pool)) {
        handle_refuse(pool, POOL_TAG, "pool", fn);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    ipc_alloc_freed(pool, ptr);
    return free_in(pool, ptr, !found);
}

// The fast path: one compare of the tag and one tail call into the engine
// (heap_free checks that ptr is a live block of that heap).
HETMEM_EXPORT umf_result_t umfPoolFree(umf_memory_pool_handle_t hPool, void *ptr) {
    if (likely(pool_handle_is(hPool, POOL_TAG_DIRECT)))
        return heap_free(hPool->heap, ptr);
    return free_other(hPool, ptr, false, "umfPoolFree");
}

// The one lookup order of a pointer's pool (umfFree, umfPoolByPtr):
//  1. The engine's page map (heap_owner_of): two lock-free loads, and it
//     answers for every block of every tracked engine pool - slab, large
//     or direct - so the frees that dominate never reach the tree. umfFree
//     makes this step first of all, fused with the free itself, for slab
//     blocks of direct heaps (heap_free_direct): what comes here is the
//     rest (NULL, large and direct blocks, armed or wrapped engine pools,
//     other pools' memory).
//  2. The address map (tracker_find): a tree walk, which answers for every
//     range a tracking provider handed out, so for every other tracked
//     pool (jemalloc, proxy, user-defined ops). Engine chunks are in it
//     too, but step 1 has answered for them, cheaper.
// Memory of untracked pools, and foreign memory, is in neither: NULL.
static umf_memory_pool_handle_t pool_lookup(const void *ptr) {
    umf_memory_pool_handle_t owner = heap_owner_of(ptr);
    if (owner)
        return owner;
    tracker_entry_t e;
    return tracker_find(ptr, &e) ? e.pool : NULL;
}

// umfFree of what heap_free_direct did not free (pool_lookup, step 1).
static __attribute__((noinline)) umf_result_t free_general(void *ptr) {
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    umf_memory_pool_handle_t pool = pool_lookup(ptr);
    if (!pool) {
        // UMF: "does nothing otherwise"; nothing is done, and the caller
        // learns that the pointer was not freed.
        LOG_ERR("umfFree(%p): not memory of a tracked pool (foreign, or already freed)", ptr);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (pool_handle_is(pool, POOL_TAG_DIRECT))
        return heap_free(pool->heap, ptr); // a large or direct engine block
    return free_other(pool, ptr, true, "umfFree"); // the pool checks block starts and state
}

// The fast path: a slab block of a direct engine pool is freed in the
// engine with one page-map lookup (heap_free_direct); no frame, no IPC
// check (above). Everything else: free_general.
HETMEM_EXPORT umf_result_t umfFree(void *ptr) { return heap_free_direct(ptr, free_general); }

HETMEM_EXPORT umf_result_t umfPoolGetLastAllocationError(umf_memory_pool_handle_t hPool) {
    CHECK_POOL(hPool, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    if (glue_error.pool == hPool && (!hPool->engine || glue_error.seq == heap_error_seq()))
        return glue_error.result;
    return hPool->ops.get_last_allocation_error(hPool->priv);
}

HETMEM_EXPORT umf_memory_pool_handle_t umfPoolByPtr(const void *ptr) {
    return ptr ? pool_lookup(ptr) : NULL;
}

HETMEM_EXPORT umf_result_t umfPoolGetMemoryProvider(umf_memory_pool_handle_t hPool,
                                                    umf_memory_provider_handle_t *hProvider) {
    CHECK_POOL(hPool, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    if (!hProvider) {
        LOG_ERR("NULL hProvider");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    *hProvider = hPool->provider;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfPoolSetTag(umf_memory_pool_handle_t hPool, void *tag,
                                         void **oldTag) {
    CHECK_POOL(hPool, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    void *old = atomic_exchange_explicit(&hPool->tag, tag, memory_order_acq_rel);
    if (oldTag)
        *oldTag = old;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfPoolGetTag(umf_memory_pool_handle_t hPool, void **tag) {
    CHECK_POOL(hPool, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    if (!tag) {
        LOG_ERR("NULL tag");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    *tag = atomic_load_explicit(&hPool->tag, memory_order_acquire);
    return UMF_RESULT_SUCCESS;
}
