// SPDX-License-Identifier: MIT
// Handle tags and the free lists of dead handles (handle_tag.h).
#include <pthread.h>
#include <string.h>

#include "base/log.h"
#include "os/meta.h"
#include "providers/handle_tag.h"

bool handle_check(const void *h, uint64_t live, const char *what, const char *fn) {
    if (!h) {
        LOG_ERR("%s: NULL %s handle", fn, what);
        return false;
    }
    uint64_t t = atomic_load_explicit((const _Atomic uint64_t *)h, memory_order_acquire);
    if (t == live)
        return true;
    if (t == HANDLE_DEAD(live))
        LOG_ERR("%s: %s handle %p was destroyed", fn, what, h);
    else
        LOG_ERR("%s: %p is not a %s handle (garbage, or memory reused)", fn, h, what);
    return false;
}

bool handle_kill(void *h, uint64_t live, const char *what, const char *fn) {
    if (!h) {
        LOG_ERR("%s: NULL %s handle", fn, what);
        return false;
    }
    uint64_t want = live;
    if (atomic_compare_exchange_strong_explicit((_Atomic uint64_t *)h, &want, HANDLE_DEAD(live),
                                                memory_order_acq_rel, memory_order_acquire))
        return true;
    if (want == HANDLE_DEAD(live))
        LOG_ERR("%s: %s handle %p was destroyed already: ignored", fn, what, h);
    else
        LOG_ERR("%s: %p is not a %s handle (garbage, or memory reused): ignored", fn, h, what);
    return false;
}

// fork(): the queues' locks are leaves (nothing else is taken while one is
// held), so the prepare handler may take them in any order with the
// library's others; parent and child release them, and the child's queues
// are consistent.
static pthread_mutex_t caches_lock = PTHREAD_MUTEX_INITIALIZER; // all queues
static void caches_prepare(void) { pthread_mutex_lock(&caches_lock); }
static void caches_release(void) { pthread_mutex_unlock(&caches_lock); }
static pthread_once_t caches_once = PTHREAD_ONCE_INIT;
static void caches_atfork(void) { (void)pthread_atfork(caches_prepare, caches_release, caches_release); }

static void *next_of(void *h) {
    void *n;
    memcpy(&n, (char *)h + sizeof(uint64_t), sizeof n);
    return n;
}

void *handle_cache_get(handle_cache_t *c) {
    void *h = NULL;
    (void)pthread_once(&caches_once, caches_atfork);
    pthread_mutex_lock(&caches_lock);
    if (c->n > HANDLE_CACHE_KEEP) {
        h = c->head;
        c->head = next_of(h);
        if (!c->head)
            c->tail = NULL;
        c->n--;
    }
    pthread_mutex_unlock(&caches_lock);
    if (!h)
        return meta_alloc(c->size); // zeroed
    memset(h, 0, c->size);
    return h;
}

void handle_cache_put(handle_cache_t *c, void *h) {
    void *none = NULL;
    memcpy((char *)h + sizeof(uint64_t), &none, sizeof none);
    pthread_mutex_lock(&caches_lock);
    if (c->tail)
        memcpy((char *)c->tail + sizeof(uint64_t), &h, sizeof h);
    else
        c->head = h;
    c->tail = h;
    c->n++;
    pthread_mutex_unlock(&caches_lock);
}
