// SPDX-License-Identifier: MIT
// The jemalloc pool's thread side: which of a pool's arenas a thread uses
// and which explicit tcache, kept in a thread-local slot so that malloc and
// free cost one TLS compare more than a bare mallocx/dallocx.
//
// Arenas: every thread gets an ordinal on first use (1, 2, 3, ...) and uses
// arena (ordinal - 1) % narenas of every pool, so N threads spread evenly
// over a pool's arenas and no arena lock is shared by more threads than
// needed.
//
// Tcaches: jemalloc's automatic per-thread tcache cannot serve pools - it
// would hand a block of pool A to a malloc of pool B, and keep blocks of a
// destroyed arena. So each (thread, pool) pair borrows an explicit tcache
// (tcache.create) of that pool. Explicit tcaches are not thread-safe, hence
// "borrow": a tcache is held by one thread at a time; when the thread exits
// (or its slot is needed for another pool) the tcache goes back to its
// pool's idle list for the next thread. Pool destroy flushes and destroys
// every tcache the pool ever created, then the arenas.
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "pools/pool_jemalloc_priv.h"

#if POOL_JEMALLOC_AVAILABLE

// Slots of a thread that has not used a pool yet: uid 0 matches no pool,
// so the first call takes the slow path, which gives the thread its own.
static const pool_jemalloc_slot_t no_slots[POOL_JEMALLOC_SLOTS];
__thread pool_jemalloc_slot_t *pool_jemalloc_tls __attribute__((tls_model("initial-exec"))) =
    (pool_jemalloc_slot_t *)no_slots;
// Flags for a thread whose slot array could not be allocated (no tcache).
static __thread pool_jemalloc_flags_t fallback_flags;

// The live pools. A slot names its pool by uid only (the pool may be gone);
// giving a tcache back looks the uid up here, under the lock, so that it
// can never touch a destroyed pool. Only slow paths take the lock: a
// thread's first call into a pool, slot eviction, thread exit, pool
// create/destroy.
LOCK_STATIC(registry_lock, LOCK_RANK_POOL_JEMALLOC); // held around mallctl
static pool_jemalloc_t *registry_head; // protected by: registry_lock
static uint64_t next_uid = 1;          // protected by: registry_lock

static atomic_uint next_thread_ordinal;
static __thread unsigned thread_ordinal; // 0 until the thread first uses a pool

// A pthread key whose destructor gives the exiting thread's tcaches back.
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t exit_key;
static bool exit_key_ok;
static __thread bool exit_armed;

int pool_jemalloc_registry_add(pool_jemalloc_t *jp) {
    lock_acquire(&registry_lock);
    jp->uid = next_uid++;
    jp->reg_prev = NULL;
    jp->reg_next = registry_head;
    if (registry_head)
        registry_head->reg_prev = jp;
    registry_head = jp;
    lock_release(&registry_lock);
    return 0;
}

// protected by: registry_lock
static pool_jemalloc_t *registry_find(uint64_t uid) {
    for (pool_jemalloc_t *p = registry_head; p; p = p->reg_next)
        if (p->uid == uid)
            return p;
    return NULL;
}

static void tcache_ctl(const char *name, uint32_t tc) {
    unsigned ind = tc;
    int e = pool_jemalloc_api.mallctl(name, NULL, NULL, &ind, sizeof ind);
    if (e)
        LOG_ERR("%s(%u) failed: %d", name, ind, e);
}

void pool_jemalloc_registry_remove(pool_jemalloc_t *jp) {
    lock_acquire(&registry_lock);
    if (jp->reg_prev)
        jp->reg_prev->reg_next = jp->reg_next;
    else
        registry_head = jp->reg_next;
    if (jp->reg_next)
        jp->reg_next->reg_prev = jp->reg_prev;
    lock_release(&registry_lock);
    // Unlinked: no thread can give a tcache back to jp any more, and by the
    // pool contract none is using jp. Destroying a tcache flushes its
    // cached blocks to their arenas, which must happen before the arenas go.
    for (size_t i = 0; i < jp->tc_count; i++)
        tcache_ctl("tcache.destroy", jp->tc_all[i]);
    if (jp->tc_cap) {
        meta_free(jp->tc_all, jp->tc_cap * sizeof *jp->tc_all);
        meta_free(jp->tc_idle, jp->tc_cap * sizeof *jp->tc_idle);
    }
    jp->tc_all = jp->tc_idle = NULL;
    jp->tc_count = jp->tc_idle_count = jp->tc_cap = 0;
    // The caller's own slot would never match again (uids are not reused);
    // clearing it just saves a registry lookup later.
    pool_jemalloc_slot_t *s = &pool_jemalloc_tls[jp->uid & (POOL_JEMALLOC_SLOTS - 1)];
    if (s->uid == jp->uid) // never true for no_slots (uid 0)
        s->uid = 0;
}

// Makes room for one more tcache in both lists. protected by: registry_lock
static bool tcache_lists_grow(pool_jemalloc_t *jp) {
    if (jp->tc_count < jp->tc_cap)
        return true;
    size_t cap = jp->tc_cap ? 2 * jp->tc_cap : 16;
    uint32_t *all = meta_alloc(cap * sizeof *all);
    uint32_t *idle = meta_alloc(cap * sizeof *idle);
    if (!all || !idle) {
        meta_free(all, cap * sizeof *all);
        meta_free(idle, cap * sizeof *idle);
        return false;
    }
    if (jp->tc_cap) {
        memcpy(all, jp->tc_all, jp->tc_count * sizeof *all);
        memcpy(idle, jp->tc_idle, jp->tc_idle_count * sizeof *idle);
        meta_free(jp->tc_all, jp->tc_cap * sizeof *all);
        meta_free(jp->tc_idle, jp->tc_cap * sizeof *idle);
    }
    jp->tc_all = all;
    jp->tc_idle = idle;
    jp->tc_cap = cap;
    return true;
}

// An idle tcache of jp, or a new one; POOL_JEMALLOC_NO_TCACHE when jemalloc
// has no more (it allows about 4093 explicit tcaches per process) or host
// memory ran out: the thread then allocates without a tcache.
static uint32_t tcache_borrow(pool_jemalloc_t *jp) {
    uint32_t tc = POOL_JEMALLOC_NO_TCACHE;
    lock_acquire(&registry_lock);
    if (jp->tc_idle_count > 0) {
        tc = jp->tc_idle[--jp->tc_idle_count];
    } else if (tcache_lists_grow(jp)) {
        unsigned ind;
        size_t sz = sizeof ind;
        int e = pool_jemalloc_api.mallctl("tcache.create", &ind, &sz, NULL, 0);
        if (e == 0) {
            tc = ind;
            jp->tc_all[jp->tc_count++] = tc;
        } else {
            LOG_INFO("tcache.create failed (%d): this thread allocates without a tcache", e);
        }
    }
    lock_release(&registry_lock);
    return tc;
}

// Gives the slot's tcache back to its pool if the pool still exists; with
// `flush`, its cached blocks first go back to their arenas (thread exit:
// nobody may use this tcache for a while). Empties the slot.
static void slot_release(pool_jemalloc_slot_t *s, bool flush) {
    if (s->tcache != POOL_JEMALLOC_NO_TCACHE) {
        lock_acquire(&registry_lock);
        pool_jemalloc_t *jp = registry_find(s->uid);
        if (jp) {
            if (flush)
                tcache_ctl("tcache.flush", s->tcache);
            jp->tc_idle[jp->tc_idle_count++] = s->tcache; // idle <= all <= cap
        }
        lock_release(&registry_lock);
    }
    s->uid = 0;
    s->tcache = POOL_JEMALLOC_NO_TCACHE;
}

void pool_jemalloc_thread_flush(pool_jemalloc_t *jp) {
    pool_jemalloc_slot_t *s = &pool_jemalloc_tls[jp->uid & (POOL_JEMALLOC_SLOTS - 1)];
    if (s->uid == jp->uid && s->tcache != POOL_JEMALLOC_NO_TCACHE)
        tcache_ctl("tcache.flush", s->tcache);
}

static void thread_exit(void *arg) {
    (void)arg;
    exit_armed = false;
    pool_jemalloc_slot_t *slots = pool_jemalloc_tls;
    if (slots == no_slots)
        return;
    for (size_t i = 0; i < POOL_JEMALLOC_SLOTS; i++)
        if (slots[i].uid)
            slot_release(&slots[i], true);
    pool_jemalloc_tls = (pool_jemalloc_slot_t *)no_slots;
    meta_free(slots, POOL_JEMALLOC_SLOTS * sizeof *slots);
}

static void exit_key_create(void) { exit_key_ok = pthread_key_create(&exit_key, thread_exit) == 0; }

// Makes sure thread_exit runs when this thread ends (a key destructor runs
// only for a non-NULL value).
static void arm_thread_exit(void) {
    if (exit_armed)
        return;
    pthread_once(&exit_key_once, exit_key_create);
    if (exit_key_ok && pthread_setspecific(exit_key, (void *)1) == 0)
        exit_armed = true;
    else
        LOG_INFO("no thread-exit hook: this thread's tcaches stay with their pools");
}

const pool_jemalloc_flags_t *pool_jemalloc_slot_fill(pool_jemalloc_t *jp,
                                                     pool_jemalloc_slot_t *s) {
    int saved_errno = errno; // tcache.create and pthread calls: a slow path that succeeds
    if (pool_jemalloc_tls == no_slots) { // the thread's first use: its own slots
        pool_jemalloc_slot_t *mine = meta_alloc(POOL_JEMALLOC_SLOTS * sizeof *mine);
        if (!mine) {
            LOG_ERR("no memory for this thread's jemalloc pool slots: allocating without "
                    "a tcache");
            unsigned arena = jp->arenas[0];
            fallback_flags.alloc = MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE;
            fallback_flags.free = MALLOCX_TCACHE_NONE;
            errno = saved_errno;
            return &fallback_flags;
        }
        pool_jemalloc_tls = mine;
        arm_thread_exit(); // frees them
        s = &mine[jp->uid & (POOL_JEMALLOC_SLOTS - 1)];
    }
    if (s->uid)
        slot_release(s, false);
    if (thread_ordinal == 0)
        thread_ordinal = atomic_fetch_add_explicit(&next_thread_ordinal, 1,
                                                   memory_order_relaxed) + 1;
    unsigned arena = jp->arenas[(thread_ordinal - 1) % jp->narenas];
    uint32_t tc = jp->use_tcache ? tcache_borrow(jp) : POOL_JEMALLOC_NO_TCACHE;
    if (tc != POOL_JEMALLOC_NO_TCACHE)
        arm_thread_exit();
    int tflag = tc == POOL_JEMALLOC_NO_TCACHE ? MALLOCX_TCACHE_NONE : MALLOCX_TCACHE(tc);
    s->flags.alloc = MALLOCX_ARENA(arena) | tflag;
    s->flags.free = tflag;
    s->tcache = tc;
    s->uid = jp->uid;
    errno = saved_errno;
    return &s->flags;
}

#endif // POOL_JEMALLOC_AVAILABLE
