// SPDX-License-Identifier: MIT
// Internal view of the jemalloc pool, shared by pool_jemalloc.c (loading
// libjemalloc, arenas, extent hooks, the ops table) and
// pool_jemalloc_tcache.c (per-thread arena choice and explicit tcaches).
//
// Glossary:
//   arena   - a jemalloc arena created by arenas.create for one pool; its
//             extent hooks get coarse memory from the pool's provider.
//   tcache  - an explicit jemalloc thread cache (tcache.create). It is not
//             thread-safe: one thread at a time uses it, with one pool only
//             (a tcache hands out whatever it caches, whatever the arena).
//   slot    - a thread's cached choice for one pool: arena + tcache, as the
//             mallocx/dallocx flags. The fast path is one TLS compare.
#ifndef HETMEM_POOLS_POOL_JEMALLOC_PRIV_H
#define HETMEM_POOLS_POOL_JEMALLOC_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umf/memory_provider.h>

#include "base/lock.h"

#if HETMEM_WITH_JEMALLOC && HETMEM_HAVE_JEMALLOC_H
#define POOL_JEMALLOC_AVAILABLE 1
#include <jemalloc/jemalloc.h>
#else
#define POOL_JEMALLOC_AVAILABLE 0
#endif

/// Most arenas one pool may have (hetmem_jemalloc_pool_params_set_num_arenas).
#define POOL_JEMALLOC_MAX_ARENAS 64
/// Arenas per pool by default: one per online CPU, at most this many.
#define POOL_JEMALLOC_DEFAULT_MAX_ARENAS 8
/// The "no explicit tcache" marker in a slot and in tcache arrays.
#define POOL_JEMALLOC_NO_TCACHE UINT32_MAX

#if POOL_JEMALLOC_AVAILABLE

/// The jemalloc entry points, resolved with dlsym from the library loaded
/// RTLD_LOCAL (never from the global scope). Written once, under
/// pthread_once, before any pool exists; read-only afterwards.
typedef struct pool_jemalloc_api_t {
    void *(*mallocx)(size_t size, int flags);
    void (*dallocx)(void *ptr, int flags);
    void *(*rallocx)(void *ptr, size_t size, int flags);
    size_t (*xallocx)(void *ptr, size_t size, size_t extra, int flags);
    size_t (*sallocx)(const void *ptr, int flags);
    int (*mallctl)(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
} pool_jemalloc_api_t;

extern pool_jemalloc_api_t pool_jemalloc_api __attribute__((visibility("hidden")));

/// A range of provider memory (pool_jemalloc_chunks.c).
typedef struct pool_jemalloc_chunk_t {
    uintptr_t start;
    size_t size;
} pool_jemalloc_chunk_t;

/// The chunks a pool's arenas hold, as the alloc hook got them, and the
/// pieces that arena destruction handed back. protected by: lock
/// (LOCK_RANK_JEMALLOC_CHUNKS: taken inside jemalloc's hooks, never around
/// a jemalloc call)
typedef struct pool_jemalloc_chunks_t {
    lock_t lock;
    pool_jemalloc_chunk_t *table; // open addressing by start; see the .c
    size_t cap, used, live;
    pool_jemalloc_chunk_t *dead; // destroyed pieces, freed after the arenas
    size_t ndead, dead_cap;
} pool_jemalloc_chunks_t;

int pool_jemalloc_chunks_init(pool_jemalloc_chunks_t *c);
/// Records a chunk the provider gave. 0 or ENOMEM.
int pool_jemalloc_chunk_add(pool_jemalloc_chunks_t *c, void *start, size_t size);
/// True (and forgets it) when [start, start+size) is exactly a recorded chunk.
bool pool_jemalloc_chunk_take(pool_jemalloc_chunks_t *c, void *start, size_t size);
/// Records a range destroyed with its arena, to free later. 0 or ENOMEM.
int pool_jemalloc_chunk_defer(pool_jemalloc_chunks_t *c, void *start, size_t size);
/// Frees the recorded destroyed ranges to `provider` and the record itself.
void pool_jemalloc_chunks_release(pool_jemalloc_chunks_t *c,
                                  umf_memory_provider_handle_t provider);

// ---- the live map (pool_jemalloc_map.c) ----------------------------------------
// For every page that a pool's extent hooks got from its provider: the
// pool; for every 8-byte granule of that memory: one bit, set while a
// block returned by mallocx/rallocx starts there. Frees, reallocs and
// usable sizes check both before jemalloc sees the pointer, so a foreign,
// interior or already freed pointer is refused instead of corrupting an
// arena. Out of band: two-level table by address, 1 GiB per region,
// regions mapped on demand (2 MiB of owners + 16 MiB of bits, virtual;
// pages materialise as pools use the address range) and never unmapped.

struct pool_jemalloc_t;

#define PJM_ADDR_BITS 48 // addresses at or above 2^48 (5-level paging) are not served
#define PJM_REGION_SHIFT 30
#define PJM_PAGE_SHIFT 12
#define PJM_GRANULE_SHIFT 3 // jemalloc's smallest alignment (the 8-byte class)

typedef struct pool_jemalloc_region_t {
    _Atomic uintptr_t owner[1u << (PJM_REGION_SHIFT - PJM_PAGE_SHIFT)];
    _Atomic uint64_t live[1u << (PJM_REGION_SHIFT - PJM_GRANULE_SHIFT - 6)];
} pool_jemalloc_region_t;

/// The region table (1 << (PJM_ADDR_BITS - PJM_REGION_SHIFT) entries).
/// Hidden: the fast paths load it PC-relative, without a GOT indirection.
extern _Atomic(pool_jemalloc_region_t *) *pool_jemalloc_regions
    __attribute__((visibility("hidden")));

/// Maps the region table (once, from the loader). False without memory.
bool pool_jemalloc_map_init(void);
/// Records [start, start+size) (page-aligned) as memory of jp. 0, ENOMEM
/// or EINVAL (unaligned, or beyond PJM_ADDR_BITS).
int pool_jemalloc_map_add(struct pool_jemalloc_t *jp, void *start, size_t size);
/// Forgets a range before it goes back to the provider: owner and bits.
void pool_jemalloc_map_remove(void *start, size_t size);

/// The region of a pointer of pool jp, or NULL when ptr is not in memory
/// of jp or not granule-aligned (so it cannot be the start of a block).
static inline pool_jemalloc_region_t *pool_jemalloc_map_region(const struct pool_jemalloc_t *jp,
                                                               const void *ptr) {
    uintptr_t a = (uintptr_t)ptr;
    if (__builtin_expect((a >> PJM_ADDR_BITS) != 0 ||
                             (a & ((1u << PJM_GRANULE_SHIFT) - 1)) != 0,
                         0))
        return NULL;
    pool_jemalloc_region_t *r =
        atomic_load_explicit(&pool_jemalloc_regions[a >> PJM_REGION_SHIFT], memory_order_acquire);
    if (__builtin_expect(!r, 0))
        return NULL;
    uintptr_t o = atomic_load_explicit(
        &r->owner[(a >> PJM_PAGE_SHIFT) & ((1u << (PJM_REGION_SHIFT - PJM_PAGE_SHIFT)) - 1)],
        memory_order_relaxed);
    return __builtin_expect(o == (uintptr_t)jp, 1) ? r : NULL;
}

static inline _Atomic uint64_t *pool_jemalloc_map_word(pool_jemalloc_region_t *r, const void *ptr,
                                                       uint64_t *bit) {
    uintptr_t g = ((uintptr_t)ptr & ((1ull << PJM_REGION_SHIFT) - 1)) >> PJM_GRANULE_SHIFT;
    *bit = 1ull << (g & 63);
    return &r->live[g >> 6];
}

/// Marks a block returned by jemalloc live (its memory is in a registered range).
static inline void pool_jemalloc_map_mark(const void *ptr) {
    uintptr_t a = (uintptr_t)ptr;
    pool_jemalloc_region_t *r =
        atomic_load_explicit(&pool_jemalloc_regions[a >> PJM_REGION_SHIFT], memory_order_acquire);
    uint64_t bit;
    _Atomic uint64_t *w = pool_jemalloc_map_word(r, ptr, &bit);
    atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
}

/// One pool. `hooks` comes first: jemalloc keeps the pointer we give to
/// arenas.create and passes it back to every hook, so the hook finds its
/// pool by a cast. Everything but the tcache lists is immutable between
/// initialize and finalize.
typedef struct pool_jemalloc_t {
    extent_hooks_t hooks;                  // must stay the first member
    umf_memory_provider_handle_t provider; // the tracking wrapper (or the user's)
    uint64_t uid;                          // never reused: stale TLS slots cannot match
    bool use_tcache;                       // explicit tcaches, or MALLOCX_TCACHE_NONE
    unsigned narenas;
    unsigned arenas[POOL_JEMALLOC_MAX_ARENAS];
    pool_jemalloc_chunks_t chunks; // what may go back to the provider, and when

    // Explicit tcaches created for this pool. `all` lists every one (pool
    // destroy flushes and destroys them), `idle` those no thread holds.
    // protected by: the registry lock (pool_jemalloc_tcache.c)
    uint32_t *tc_all, *tc_idle;
    size_t tc_count, tc_idle_count, tc_cap;
    struct pool_jemalloc_t *reg_prev, *reg_next; // the live-pool registry
} pool_jemalloc_t;

/// The extent hooks every pool's arenas use (pool_jemalloc_hooks.c).
extern const extent_hooks_t pool_jemalloc_hooks_template;
/// Set when the provider refused memory to a hook running in this thread
/// (hooks run synchronously in the allocating thread); the pool clears it.
extern __thread bool pool_jemalloc_provider_refused;

/// A thread's mallocx / dallocx flags for a pool (arena and tcache).
typedef struct pool_jemalloc_flags_t {
    int alloc; // MALLOCX_ARENA(a) | MALLOCX_TCACHE(t) or MALLOCX_TCACHE_NONE
    int free;  // MALLOCX_TCACHE(t) or MALLOCX_TCACHE_NONE
} pool_jemalloc_flags_t;

/// A thread's slot: which pool it serves (uid, 0 when empty), the flags to
/// use, and the explicit tcache the thread borrowed from that pool.
/// Direct-mapped by uid; a thread owns its slots (no synchronization).
typedef struct pool_jemalloc_slot_t {
    uint64_t uid;
    pool_jemalloc_flags_t flags;
    uint32_t tcache; // POOL_JEMALLOC_NO_TCACHE when none
} pool_jemalloc_slot_t;

#define POOL_JEMALLOC_SLOTS 8 // a power of two
/// The calling thread's slots (POOL_JEMALLOC_SLOTS of them). Until the
/// thread first uses a jemalloc pool, a shared read-only array whose slots
/// match no pool; then an array of its own (pool_jemalloc_slot_fill), freed
/// at thread exit. Initial-exec: one %fs-relative load, no __tls_get_addr
/// call on the fast path (8 bytes of static TLS).
extern __thread pool_jemalloc_slot_t *pool_jemalloc_tls __attribute__((tls_model("initial-exec")));

/// Registers a new pool (assigns its uid). Returns 0 or ENOMEM.
int pool_jemalloc_registry_add(pool_jemalloc_t *jp);

/// Unregisters a pool, then flushes and destroys all of its tcaches; after
/// this no thread's slot can hand it out again. Call before destroying the
/// pool's arenas (jemalloc requires tcaches flushed before arena.<i>.destroy).
void pool_jemalloc_registry_remove(pool_jemalloc_t *jp);

/// Flushes the calling thread's tcache of `jp` (if it holds one): its
/// cached blocks go back to their arenas.
void pool_jemalloc_thread_flush(pool_jemalloc_t *jp);

/// Slow path of pool_jemalloc_thread_flags: gives the slot back to the pool
/// it served (if that pool is alive), picks this thread's arena of `jp` and
/// borrows or creates a tcache. Never fails: without a tcache the flags say
/// MALLOCX_TCACHE_NONE.
const pool_jemalloc_flags_t *pool_jemalloc_slot_fill(pool_jemalloc_t *jp,
                                                     pool_jemalloc_slot_t *slot);

/// The calling thread's flags for `jp`: one TLS compare when the thread has
/// used the pool before.
static inline const pool_jemalloc_flags_t *pool_jemalloc_thread_flags(pool_jemalloc_t *jp) {
    pool_jemalloc_slot_t *s = &pool_jemalloc_tls[jp->uid & (POOL_JEMALLOC_SLOTS - 1)];
    if (__builtin_expect(s->uid == jp->uid, 1))
        return &s->flags;
    return pool_jemalloc_slot_fill(jp, s);
}

#endif // POOL_JEMALLOC_AVAILABLE

#endif // HETMEM_POOLS_POOL_JEMALLOC_PRIV_H
