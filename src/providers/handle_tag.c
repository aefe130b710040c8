// SPDX-License-Identifier: MIT
// Handle tags and the free lists of dead handles (handle_tag.h).
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

static void *next_of(void *h) {
    void *n;
    memcpy(&n, (char *)h + sizeof(uint64_t), sizeof n);
    return n;
}

void *handle_cache_get(handle_cache_t *c) {
    void *h = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->n > HANDLE_CACHE_KEEP) {
        h = c->head;
        c->head = next_of(h);
        if (!c->head)
            c->tail = NULL;
        c->n--;
    }
    pthread_mutex_unlock(&c->lock);
    if (!h)
        return meta_alloc(c->size); // zeroed
    memset(h, 0, c->size);
    return h;
}

void handle_cache_put(handle_cache_t *c, void *h) {
    void *none = NULL;
    memcpy((char *)h + sizeof(uint64_t), &none, sizeof none);
    pthread_mutex_lock(&c->lock);
    if (c->tail)
        memcpy((char *)c->tail + sizeof(uint64_t), &h, sizeof h);
    else
        c->head = h;
    c->tail = h;
    c->n++;
    pthread_mutex_unlock(&c->lock);
}
