// SPDX-License-Identifier: MIT
// Ranked locks: every mutex of the core is a lock_t with a rank from the one
// table below, and a thread takes locks in strictly increasing rank. Debug
// builds (HETMEM_DEBUG > 0) check that order per thread, as jemalloc's
// witness does, and abort naming both locks. Every lock is registered by
// rank, so fork(2) takes them all in order (docs/architecture.md, "Locks").
//
// fork: lock.c registers its pthread_atfork handlers in a constructor of
// priority 101, before any other constructor of the core (and libhetmem.so
// runs its constructors before the front-end libraries that need it), so
// no hetmem subsystem registers a handler before it. Prepare handlers run
// in reverse order of registration, the others in order: a subsystem's own
// child handler (state resets: ipc, ipc_live, heap_tls, pool_purger) runs after
// lock.c's has released every lock, and may take locks. Only a handler
// registered before hetmem loaded (the program's own) runs before it.
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
/// them together, outside the check). Keep this the only table. The
/// registry's own mutex (lock.c) is a leaf above every rank: lock_init and
/// lock_fini may be called with locks held.
typedef enum lock_rank_t {
    LOCK_RANK_MEMTIER = 1,      ///< memtier: one tiered memory's threshold check
                                ///< (taken with lock_try; holds nothing else)
    LOCK_RANK_POOL_PURGER_CTL,  ///< pools: background purger start/stop
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
    LOCK_RANK_POOL_JEMALLOC,    ///< pools: jemalloc pools' registry and tcache lists
                                ///< (held around mallctl: below jemalloc's own locks)
    LOCK_RANK_JEMALLOC_INTERNAL, ///< no lock_t: where jemalloc's own locks sit. Its
                                ///< extent hooks take only ranks above; fork takes the
                                ///< ranks below before jemalloc's prefork handler
    LOCK_RANK_HEAP_REGISTRY,    ///< heap: heap registry
    LOCK_RANK_HEAP,             ///< heap: one heap
    LOCK_RANK_PROVIDER_GROW,    ///< providers: a file provider's growth
    LOCK_RANK_PROVIDER,         ///< providers: one provider's backing
    LOCK_RANK_RANGE_ALLOC,      ///< providers: one range allocator
    LOCK_RANK_IPC_LIVE,         ///< ipc: the export table (taken by frees under
                                ///< heap and provider locks: after them)
    LOCK_RANK_HEAP_PAGEMAP,     ///< heap: page-map leaf creation
    LOCK_RANK_TRACKER,          ///< tracker: address-map writers
    LOCK_RANK_JEMALLOC_CHUNKS,  ///< pools: one jemalloc pool's chunk table (in its hooks)
    LOCK_RANK_META,             ///< os: metadata allocator
    LOCK_RANK_HANDLE_GRAVES,    ///< base: handle graveyards (a leaf)
    LOCK_RANK_COUNT
} lock_rank_t;

typedef struct lock_t {
    pthread_mutex_t mutex;
    lock_rank_t rank;
    const char *name;
    struct lock_t *prev, *next; // the registry's list for this rank (registry mutex)
    bool registered;            // protected by: the registry mutex
    bool fork_held;             // taken by a fork walk (registry mutex)
} lock_t;

#define LOCK_INITIALIZER(r, n) {PTHREAD_MUTEX_INITIALIZER, (r), (n), NULL, NULL, false, false}

/// A file-scope lock, registered for fork before main runs.
#define LOCK_STATIC(var, r)                                                       \
    static lock_t var = LOCK_INITIALIZER(r, #var);                                \
    __attribute__((constructor)) static void var##_lock_register(void) {          \
        lock_register(&var);                                                      \
    }

/// Initialises and registers l. `name` (a string literal) names it in the
/// witness's messages.
void lock_init(lock_t *l, lock_rank_t rank, const char *name);
/// Unregisters l; it must not be held (by the caller or any other user: the
/// object that holds it is going away). A fork walk may hold it meanwhile:
/// lock_fini then leaves the mutex to the walk, which never touches it again.
void lock_fini(lock_t *l);
/// Registers a statically initialised lock (LOCK_STATIC does this).
void lock_register(lock_t *l);

#if HETMEM_DEBUG > 0
/// Records l as held by this thread; with `check`, first aborts when this
/// thread holds a lock of rank >= l's (a trylock cannot deadlock: no check).
void lock_witness_acquire(const lock_t *l, bool check);
void lock_witness_release(const lock_t *l);
/// A call into code outside the core (a user provider's callback, which may
/// allocate from another pool: nested pools) starts a new frame: its locks
/// are checked against each other, not against the locks the caller holds
/// (they form a chain, pool over pool, never a cycle). Returns the frame
/// to give back to lock_witness_frame_end.
int lock_witness_frame_begin(void);
void lock_witness_frame_end(int frame);
#else
static inline void lock_witness_acquire(const lock_t *l, bool check) { (void)l, (void)check; }
static inline void lock_witness_release(const lock_t *l) { (void)l; }
static inline int lock_witness_frame_begin(void) { return 0; }
static inline void lock_witness_frame_end(int frame) { (void)frame; }
#endif

/// Whether fn is code of the object the core is linked into (libhetmem.so.1;
/// a test program for the static test archive). A callback elsewhere is the
/// user's: calls into it are upcalls (a provider whose alloc allocates from
/// a pool: nested pools).
bool lock_code_is_core(const void *fn);
/// A witness frame around an upcall when `foreign`; give the value back to
/// lock_upcall_end.
static inline int lock_upcall_begin(bool foreign) {
    return foreign ? lock_witness_frame_begin() : -1;
}
static inline void lock_upcall_end(int frame) {
    if (frame >= 0)
        lock_witness_frame_end(frame);
}

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

/// fork(2): take every registered lock by rank; release them after. The
/// forking thread must hold none. A lock registered during the walk below
/// a rank already passed is not taken; the child re-initialises such locks
/// (their holder does not exist there). One walk at a time, per process.
void lock_fork_prepare(void);
/// The first part of the walk: every rank below `end`, for a library whose
/// own locks sit at `end` (LOCK_RANK_JEMALLOC_INTERNAL): registered as a
/// prepare handler after that library's, it runs before that library's
/// prepare handler; lock_fork_prepare then takes the ranks from `end` on.
void lock_fork_prepare_below(lock_rank_t end);
/// Release what the walk took (at most once per walk; a no-op otherwise).
void lock_fork_parent(void);
void lock_fork_child(void);

/// How many locks this thread holds (debug builds; 0 otherwise).
int lock_held_count(void);

#endif // HETMEM_BASE_LOCK_H
