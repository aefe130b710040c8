// SPDX-License-Identifier: MIT
// Handle refusals (their log lines) and the graveyards of destroyed
// handles, under one lock (handle.h).
#include "base/handle.h"

#include <string.h>

#include "base/lock.h"
#include "base/log.h"

void handle_refuse(const void *h, uint32_t tag, const char *what, const char *fn) {
    if (log_level() < LOG_LEVEL_ERROR)
        return;
    if (!h) {
        log_write(LOG_LEVEL_ERROR, fn, "NULL %s handle", what);
        return;
    }
    uint32_t t = atomic_load_explicit(&((const handle_hdr_t *)h)->tag, memory_order_relaxed);
    if (t == handle_dead_tag(tag))
        log_write(LOG_LEVEL_ERROR, fn, "%s handle %p was destroyed", what, h);
    else if (t != tag) // (a live tag here: destroyed by another thread meanwhile)
        log_write(LOG_LEVEL_ERROR, fn,
                  "invalid %s handle %p (not a handle of this type: garbage, or memory reused)",
                  what, h);
    else
        log_write(LOG_LEVEL_ERROR, fn, "%s handle %p was destroyed (concurrently)", what, h);
}

bool handle_kill(void *h, uint32_t tag, const char *what, const char *fn) {
    uint32_t want = tag;
    if (h && atomic_compare_exchange_strong_explicit(&((handle_hdr_t *)h)->tag, &want,
                                                     handle_dead_tag(tag), memory_order_acq_rel,
                                                     memory_order_relaxed))
        return true;
    handle_refuse(h, tag, what, fn);
    return false;
}

// Every graveyard's lock. A leaf: nothing else is taken while it is held
// (the callers allocate and free outside it).
LOCK_STATIC(graves_lock, LOCK_RANK_HANDLE_GRAVES);

static void **link_of(const handle_graveyard_t *g, void *obj) {
    return (void **)((char *)obj + g->link);
}

void handle_bury(handle_graveyard_t *g, void *obj) {
    *link_of(g, obj) = NULL;
    lock_acquire(&graves_lock);
    if (g->newest)
        *link_of(g, g->newest) = obj;
    else
        g->oldest = obj;
    g->newest = obj;
    g->count++;
    lock_release(&graves_lock);
}

void *handle_graveyard_take(handle_graveyard_t *g, size_t size) {
    void *obj = NULL;
    lock_acquire(&graves_lock);
    if (g->count > g->keep) {
        obj = g->oldest;
        g->oldest = *link_of(g, obj);
        if (!g->oldest)
            g->newest = NULL;
        g->count--;
    }
    lock_release(&graves_lock);
    if (obj)
        memset(obj, 0, size);
    return obj;
}
