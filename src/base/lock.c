// SPDX-License-Identifier: MIT
// Ranked locks: the registry fork walks, and the debug-build witness.
// See lock.h and docs/architecture.md ("Locks").
#include "base/lock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// One list per rank. `registry` is a plain mutex below every rank: it is
// only held to link or unlink (with no other call inside) and across fork.
static pthread_mutex_t registry = PTHREAD_MUTEX_INITIALIZER;
static lock_t *by_rank[LOCK_RANK_COUNT];
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void register_atfork(void) {
    // Registered before any subsystem's own child handler (a subsystem
    // creates its lock first), so those handlers run with the locks free.
    (void)pthread_atfork(lock_fork_prepare, lock_fork_parent, lock_fork_child);
}

void lock_register(lock_t *l) {
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&registry);
    if (!l->registered && l->rank > 0 && l->rank < LOCK_RANK_COUNT) {
        l->prev = NULL;
        l->next = by_rank[l->rank];
        if (l->next)
            l->next->prev = l;
        by_rank[l->rank] = l;
        l->registered = true;
    }
    pthread_mutex_unlock(&registry);
}

void lock_init(lock_t *l, lock_rank_t rank, const char *name) {
    pthread_mutex_init(&l->mutex, NULL);
    l->rank = rank;
    l->name = name;
    l->prev = l->next = NULL;
    l->registered = false;
    lock_register(l);
}

void lock_fini(lock_t *l) {
    pthread_mutex_lock(&registry);
    if (l->registered) {
        if (l->prev)
            l->prev->next = l->next;
        else
            by_rank[l->rank] = l->next;
        if (l->next)
            l->next->prev = l->prev;
        l->registered = false;
    }
    pthread_mutex_unlock(&registry);
    pthread_mutex_destroy(&l->mutex);
}

// fork: every lock, outermost rank first, so that no other thread holds one
// when the address space is copied. Within a rank the order is the list's;
// equal ranks never nest elsewhere, so no thread waits on one of them while
// holding another.
void lock_fork_prepare(void) {
    pthread_mutex_lock(&registry);
    for (int r = 1; r < LOCK_RANK_COUNT; r++)
        for (lock_t *l = by_rank[r]; l; l = l->next)
            pthread_mutex_lock(&l->mutex);
}

void lock_fork_parent(void) {
    for (int r = LOCK_RANK_COUNT - 1; r >= 1; r--)
        for (lock_t *l = by_rank[r]; l; l = l->next)
            pthread_mutex_unlock(&l->mutex);
    pthread_mutex_unlock(&registry);
}

// The child is the forking thread alone; it owns every lock (prepare took
// them), so unlocking is valid.
void lock_fork_child(void) { lock_fork_parent(); }

#if HETMEM_DEBUG > 0
enum { WITNESS_MAX = 32 };
static __thread const lock_t *held[WITNESS_MAX];
static __thread int n_held;

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

void lock_witness_acquire(const lock_t *l, bool check) {
    if (check)
        for (int i = 0; i < n_held; i++)
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

int lock_held_count(void) { return n_held; }
#else
int lock_held_count(void) { return 0; }
#endif
