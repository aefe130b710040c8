// SPDX-License-Identifier: MIT
// Ranked locks: the registry fork walks, and the debug-build witness.
// See lock.h and docs/architecture.md ("Locks").
#include "base/lock.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__SANITIZE_THREAD__)
#include <dlfcn.h>
#endif

#include "base/assert.h"
#include "base/log.h"

// The registry: per rank, the locks a fork walk has not taken (`live`) and
// those it holds (`taken`). `registry` is a leaf above every rank: held only
// to link, unlink or move entries (with no other call inside), and by a walk
// from the end of prepare until parent/child. A walk never waits for a
// ranked lock while holding it, because lock_init and lock_fini may be
// called with ranked locks held.
static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static lock_t *live[LOCK_RANK_COUNT];  // protected by: registry
static lock_t *taken[LOCK_RANK_COUNT]; // protected by: registry

// One walk at a time (glibc serializes forks; this covers direct callers).
static pthread_mutex_t walker = PTHREAD_MUTEX_INITIALIZER;
static int walk_next;          // protected by: walker; the next rank to take
static bool walk_has_registry; // protected by: walker
static __thread bool walking;  // this thread holds `walker`

#if defined(__SANITIZE_THREAD__)
// TSan's deadlock detector aborts a thread that holds more than 64 locks,
// and the walk holds one per heap, provider and range allocator. So the
// walk takes the ranked locks through libc's own entry points, which TSan
// does not intercept: it does not see the walk, which touches no data the
// locks protect. Every other use of the locks stays visible to it.
typedef int (*mutex_fn)(pthread_mutex_t *);
static mutex_fn raw_trylock = pthread_mutex_trylock;
static mutex_fn raw_unlock = pthread_mutex_unlock;
static void raw_resolve(void) {
    void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
    mutex_fn t = libc ? (mutex_fn)dlsym(libc, "pthread_mutex_trylock") : NULL;
    mutex_fn u = libc ? (mutex_fn)dlsym(libc, "pthread_mutex_unlock") : NULL;
    if (t && u) {
        raw_trylock = t;
        raw_unlock = u;
    }
}
#else
#define raw_trylock pthread_mutex_trylock
#define raw_unlock pthread_mutex_unlock
static void raw_resolve(void) {}
#endif

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_register(void) {
    raw_resolve();
    if (pthread_atfork(lock_fork_prepare, lock_fork_parent, lock_fork_child) != 0)
        LOG_WARN("cannot register fork handlers: a fork child may deadlock in hetmem");
}

// Before every other constructor of the core, so before any subsystem can
// register a fork handler of its own (lock.h says why that matters).
__attribute__((constructor(101))) static void lock_atfork_init(void) {
    pthread_once(&atfork_once, atfork_register);
}

static void list_push(lock_t **head, lock_t *l) {
    l->prev = NULL;
    l->next = *head;
    if (*head)
        (*head)->prev = l;
    *head = l;
}

static void list_unlink(lock_t **head, lock_t *l) {
    HM_ASSERT(l->prev ? l->prev->next == l : *head == l);
    HM_ASSERT(!l->next || l->next->prev == l);
    if (l->prev)
        l->prev->next = l->next;
    else
        *head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

static bool rank_valid(lock_rank_t r) {
    return r > 0 && r < LOCK_RANK_COUNT && r != LOCK_RANK_JEMALLOC_INTERNAL;
}

void lock_register(lock_t *l) {
    pthread_once(&atfork_once, atfork_register);
    HM_ASSERT(rank_valid(l->rank));
    pthread_mutex_lock(&registry);
    if (!l->registered && rank_valid(l->rank)) {
        l->fork_held = false;
        list_push(&live[l->rank], l);
        l->registered = true;
    }
    pthread_mutex_unlock(&registry);
}

void lock_init(lock_t *l, lock_rank_t rank, const char *name) {
    pthread_mutex_init(&l->mutex, NULL);
    l->rank = rank;
    l->name = name;
    l->prev = l->next = NULL;
    l->registered = l->fork_held = false;
    lock_register(l);
}

#if HETMEM_DEBUG > 0
static bool witness_holds(const lock_t *l);
#else
static bool witness_holds(const lock_t *l) { return (void)l, false; }
#endif

void lock_fini(lock_t *l) {
    HM_ASSERT(!witness_holds(l)); // finishing a lock this thread holds
    bool walk_holds = false;
    pthread_mutex_lock(&registry);
    if (l->registered) {
        walk_holds = l->fork_held;
        list_unlink(walk_holds ? &taken[l->rank] : &live[l->rank], l);
        l->registered = l->fork_held = false;
    }
    pthread_mutex_unlock(&registry);
    if (!walk_holds) // else the walk holds the mutex and will never touch it again
        pthread_mutex_destroy(&l->mutex);
}

// ---- fork walk ------------------------------------------------------------------

static void walk_begin(void) {
    if (walking)
        return;
    HM_ASSERT(lock_held_count() == 0); // fork while holding a hetmem lock
    pthread_mutex_lock(&walker);
    walking = true;
    walk_next = 1;
    walk_has_registry = false;
}

// Takes every lock of rank r. A busy one is retried after the registry is
// released: its holder may be waiting for the registry (lock_init under a
// lock), and otherwise takes only ranks above r, which the walk does not
// hold yet, so it gets on and releases it.
static void take_rank(int r) {
    for (unsigned spins = 0;; spins++) {
        bool busy = false;
        pthread_mutex_lock(&registry);
        for (lock_t *l = live[r], *next; l; l = next) {
            next = l->next;
            if (raw_trylock(&l->mutex) != 0) {
                busy = true;
                continue;
            }
            list_unlink(&live[r], l);
            list_push(&taken[r], l);
            l->fork_held = true;
        }
        pthread_mutex_unlock(&registry);
        if (!busy)
            return;
        if (spins < 64)
            sched_yield();
        else
            nanosleep(&(struct timespec){0, 100 * 1000}, NULL);
    }
}

void lock_fork_prepare_below(lock_rank_t end) {
    walk_begin();
    for (; walk_next < (int)end && walk_next < LOCK_RANK_COUNT; walk_next++)
        take_rank(walk_next);
}

// Every rank in order, then the registry itself (held across fork: no lock
// is linked or unlinked while the address space is copied).
void lock_fork_prepare(void) {
    lock_fork_prepare_below(LOCK_RANK_COUNT);
    if (walk_has_registry) // this walk is complete already
        return;
    pthread_mutex_lock(&registry);
    walk_has_registry = true;
}

// In the child, a lock registered while the walk was past its rank was not
// taken; its holder, if any, is gone, so it is initialised afresh.
static void walk_end(bool child) {
    if (!walking)
        return;
    if (!walk_has_registry)
        pthread_mutex_lock(&registry);
    for (int r = LOCK_RANK_COUNT - 1; r >= 1; r--) {
        if (child)
            for (lock_t *l = live[r]; l; l = l->next)
                pthread_mutex_init(&l->mutex, NULL);
        while (taken[r]) {
            lock_t *l = taken[r];
            list_unlink(&taken[r], l);
            l->fork_held = false;
            raw_unlock(&l->mutex);
            list_push(&live[r], l);
        }
    }
    walk_next = 0;
    walk_has_registry = false;
    walking = false;
    pthread_mutex_unlock(&registry);
    pthread_mutex_unlock(&walker);
}

void lock_fork_parent(void) { walk_end(false); }

// The child is the forking thread alone and owns what the walk took.
void lock_fork_child(void) { walk_end(true); }

// The object's code: from its ELF header to the end of its text (symbols the
// linker defines; without etext, every callback counts as foreign).
extern const char __ehdr_start[] __attribute__((visibility("hidden")));
extern const char etext[] __attribute__((weak, visibility("hidden")));
bool lock_code_is_core(const void *fn) {
    return etext && (const char *)fn >= __ehdr_start && (const char *)fn < etext;
}

// ---- witness --------------------------------------------------------------------

#if HETMEM_DEBUG > 0
enum { WITNESS_MAX = 32 };
static __thread const lock_t *held[WITNESS_MAX];
static __thread int n_held;
static __thread int frame_base; // the first held lock of the current frame

static void __attribute__((noreturn)) witness_fail(const char *what, const lock_t *l,
                                                   const lock_t *top) {
    char msg[256];
    int n = snprintf(msg, sizeof msg,
                     "hetmem: lock order violation: %s \"%s\" (rank %d) while holding \"%s\" "
                     "(rank %d)\n",
                     what, l->name ? l->name : "?", (int)l->rank,
                     top && top->name ? top->name : "?", top ? (int)top->rank : 0);
    if (n > 0)
        (void)!write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    abort();
}

static bool witness_holds(const lock_t *l) {
    int top = n_held < WITNESS_MAX ? n_held : WITNESS_MAX;
    for (int i = 0; i < top; i++)
        if (held[i] == l)
            return true;
    return false;
}

void lock_witness_acquire(const lock_t *l, bool check) {
    if (check)
        for (int i = frame_base; i < n_held && i < WITNESS_MAX; i++)
            if (held[i]->rank >= l->rank)
                witness_fail("taking", l, held[i]);
    if (n_held < WITNESS_MAX)
        held[n_held] = l;
    n_held++;
}

void lock_witness_release(const lock_t *l) {
    int top = n_held < WITNESS_MAX ? n_held : WITNESS_MAX;
    for (int i = top - 1; i >= 0; i--)
        if (held[i] == l) {
            memmove(&held[i], &held[i + 1], (size_t)(top - i - 1) * sizeof held[0]);
            n_held--;
            return;
        }
    if (n_held > WITNESS_MAX) { // it was past the recorded window
        n_held--;
        return;
    }
    witness_fail("releasing a lock not held", l, NULL);
}

int lock_witness_frame_begin(void) {
    int old = frame_base;
    frame_base = n_held;
    return old;
}

void lock_witness_frame_end(int frame) { frame_base = frame; }

int lock_held_count(void) { return n_held; }
#else
int lock_held_count(void) { return 0; }
#endif
