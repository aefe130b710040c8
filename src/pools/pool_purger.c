// SPDX-License-Identifier: MIT
// The background purger: one thread that calls a purge function once a
// period, the job of jemalloc's background threads (docs/providers-pools.md,
// "Background purger").
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "base/lock.h"
#include "pools/pool.h"

LOCK_STATIC(purger_ctl_lock, LOCK_RANK_POOL_PURGER_CTL); // serializes start/stop
LOCK_STATIC(purger_lock, LOCK_RANK_POOL_PURGER);
static pthread_cond_t purger_cond = PTHREAD_COND_INITIALIZER;
static pthread_t purger_thread;
static bool purger_on, purger_stop; // protected by: purger_lock
static pool_purger_fn_t purger_fn;  // protected by: purger_lock
static void *purger_arg;
static unsigned purger_period_ms;

bool pool_purger_running(void) {
    lock_acquire(&purger_lock);
    bool on = purger_on;
    lock_release(&purger_lock);
    return on;
}

static void *purger_main(void *unused) {
    (void)unused;
    lock_acquire(&purger_lock);
    while (!purger_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += purger_period_ms / 1000;
        ts.tv_nsec += (long)(purger_period_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        lock_cond_timedwait(&purger_cond, &purger_lock, &ts);
        if (purger_stop)
            break;
        pool_purger_fn_t fn = purger_fn;
        void *arg = purger_arg;
        lock_release(&purger_lock); // fn takes the locks it needs, outside ours
        fn(arg);
        lock_acquire(&purger_lock);
    }
    lock_release(&purger_lock);
    return NULL;
}

// A forked child has no purger thread (only the forking thread is copied).
static void purger_atfork_child(void) { purger_on = purger_stop = false; }
static void purger_atfork_register(void) { pthread_atfork(NULL, NULL, purger_atfork_child); }

int pool_purger_set(bool on, unsigned period_ms, pool_purger_fn_t fn, void *arg) {
    static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
    if (on && (!fn || !period_ms))
        return EINVAL;
    pthread_once(&atfork_once, purger_atfork_register);
    int err = 0;
    lock_acquire(&purger_ctl_lock);
    lock_acquire(&purger_lock);
    if (on) {
        purger_fn = fn;
        purger_arg = arg;
        purger_period_ms = period_ms;
        purger_stop = false;
        if (!purger_on)
            err = pthread_create(&purger_thread, NULL, purger_main, NULL);
        purger_on = purger_on || err == 0;
    } else if (purger_on) {
        purger_stop = true;
        pthread_cond_broadcast(&purger_cond);
        lock_release(&purger_lock);
        pthread_join(purger_thread, NULL);
        lock_acquire(&purger_lock);
        purger_on = false;
    }
    lock_release(&purger_lock);
    lock_release(&purger_ctl_lock);
    return err;
}
