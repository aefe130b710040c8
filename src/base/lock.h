// SPDX-License-Identifier: MIT
// Ranked locks: every mutex of the core is a lock_t with a rank from the one
// table below, and a thread takes locks in strictly increasing rank. Debug
// builds (HETMEM_DEBUG > 0) check that order per thread, as jemalloc's
// witness does, and abort naming both locks. Every lock is registered by
// rank, so fork(2) takes them all in order (docs/architecture.md, "Locks").
//
// Usage:
//   LOCK_STATIC(table_lock, LOCK_RANK_POOL_PROXY);   // file-scope lock
//   lock_init(&obj->lock, LOCK_RANK_HEAP, "heap");   // lock inside an object
//   lock_acquire(&obj->lock); ... lock_release(&obj->lock);
//   lock_fini(&obj->lock);                            // before freeing obj
#ifndef HETMEM_BASE_LOCK_H
#define HETMEM_BASE_LOCK_H

#include <pthread.h>
#include <stdbool.h>

/// The lock order, outermost first: a thread holding a lock of rank r may
/// take only locks of a rank above r. Equal ranks never nest (fork takes
/// them together, outside the check). Keep this the only table.
typedef enum lock_rank_t {
    LOCK_RANK_POOL_PURGER_CTL = 1, ///< pools: background purger start/stop
    LOCK_RANK_POOL_PURGER,      ///< pools: background purger's wake-up
    LOCK_RANK_MK_REGISTRY,      ///< memkind: the kind registry
    LOCK_RANK_MK_POOL,          ///< memkind: one kind's pool creation
    LOCK_RANK_MK_HEAPS,         ///< memkind: heap-manager table
    LOCK_RANK_MEMSPACE,         ///< memspace: predefined memspaces
    LOCK_RANK_IPC_HANDLERS,     ///< ipc: opened-handle handlers
    LOCK_RANK_IPC_CACHE,        ///< ipc: open-handle cache
    LOCK_RANK_IPC_SENT,         ///< ipc: handles given out (liveness records)
    LOCK_RANK_IPC_PROVIDER,     ///< ipc: the registry of regions opened from handles
    LOCK_RANK_POOL_PROXY,       ///< pools: proxy pool's live table
    LOCK_RANK_POOL_JEMALLOC,    ///< pools: jemalloc pool registry / one pool
    LOCK_RANK_JEMALLOC_TCACHE,  ///< pools: jemalloc pool tcache registry
    LOCK_RANK_HEAP_REGISTRY,    ///< heap: heap registry
    LOCK_RANK_HEAP,             ///< heap: one heap
    LOCK_RANK_PROVIDER_GROW,    ///< providers: a file provider's growth
    LOCK_RANK_PROVIDER,         ///< providers: one provider's backing
    LOCK_RANK_RANGE_ALLOC,      ///< providers: one range allocator
    LOCK_RANK_IPC_LIVE,         ///< ipc: the export table (taken by frees under
                                ///< heap and provider locks: after them)
    LOCK_RANK_HEAP_PAGEMAP,     ///< heap: page-map leaf creation
    LOCK_RANK_TRACKER,          ///< tracker: address-map writers
    LOCK_RANK_META,             ///< os: metadata allocator
    LOCK_RANK_HANDLE_GRAVES,    ///< base: handle graveyards (a leaf)
    LOCK_RANK_COUNT
} lock_rank_t;

typedef struct lock_t {
    pthread_mutex_t mutex;
    lock_rank_t rank;
    const char *name;
    struct lock_t *prev, *next; // the registry's list for this rank
    bool registered;
} lock_t;

#define LOCK_INITIALIZER(r, n) {PTHREAD_MUTEX_INITIALIZER, (r), (n), NULL, NULL, false}

/// A file-scope lock, registered for fork before main runs.
#define LOCK_STATIC(var, r)                                                       \
    static lock_t var = LOCK_INITIALIZER(r, #var);                                \
    __attribute__((constructor)) static void var##_lock_register(void) {          \
        lock_register(&var);                                                      \
    }

/// Initialises and registers l. `name` (a string literal) names it in the
/// witness's messages.
void lock_init(lock_t *l, lock_rank_t rank, const char *name);
/// Unregisters l; it must not be held.
void lock_fini(lock_t *l);
/// Registers a statically initialised lock (LOCK_STATIC does this).
void lock_register(lock_t *l);

#if HETMEM_DEBUG > 0
/// Records l as held by this thread; with `check`, first aborts when this
/// thread holds a lock of rank >= l's (a trylock cannot deadlock: no check).
void lock_witness_acquire(const lock_t *l, bool check);
void lock_witness_release(const lock_t *l);
#else
static inline void lock_witness_acquire(const lock_t *l, bool check) { (void)l, (void)check; }
static inline void lock_witness_release(const lock_t *l) { (void)l; }
#endif

static inline void lock_acquire(lock_t *l) {
    lock_witness_acquire(l, true);
    pthread_mutex_lock(&l->mutex);
}

/// True when l was free and is now held.
static inline bool lock_try(lock_t *l) {
    if (pthread_mutex_trylock(&l->mutex) != 0)
        return false;
    lock_witness_acquire(l, false);
    return true;
}

static inline void lock_release(lock_t *l) {
    lock_witness_release(l);
    pthread_mutex_unlock(&l->mutex);
}

/// Waits on c, releasing l meanwhile (pthread_cond_timedwait); l's place in
/// the order is unchanged.
static inline int lock_cond_timedwait(pthread_cond_t *c, lock_t *l, const struct timespec *ts) {
    return pthread_cond_timedwait(c, &l->mutex, ts);
}

/// fork(2): take every registered lock by rank; release them after.
void lock_fork_prepare(void);
void lock_fork_parent(void);
void lock_fork_child(void);

/// How many locks this thread holds (debug builds; 0 otherwise).
int lock_held_count(void);

#endif // HETMEM_BASE_LOCK_H
