// SPDX-License-Identifier: MIT
// range_alloc_check: every invariant of the two trees and the regions,
// walked in order, and the counters (test code: it reads range_alloc's
// internals).
#include "range_alloc_check.h"

#include "providers/range_alloc_priv.h"

// ---- consistency check (tests) ---------------------------------------------

typedef struct walk_t {
    const range_alloc_t *ra;
    bool is_free;
    bool ok;
    size_t count;
    size_t bytes;
    uintptr_t last_end; // end of the previous range in address order
    bool have_last;
} walk_t;

// The region containing [addr, addr+size), or NULL.
static const region_t *region_of(const range_alloc_t *ra, uintptr_t addr, size_t size) {
    size_t i = range_alloc_region_upper(ra, addr);
    if (i == 0)
        return NULL;
    const region_t *g = &ra->regions[i - 1];
    if (addr - g->base >= g->size || size > g->size - (addr - g->base))
        return NULL;
    return g;
}

// In-order walk: order, no overlap, heap property, augmented max, ranges
// inside a region, and (free tree) no two free ranges that should have
// been coalesced.
static void walk(node_t *t, walk_t *w) {
    if (!t || !w->ok)
        return;
    if ((t->l && t->l->prio > t->prio) || (t->r && t->r->prio > t->prio))
        w->ok = false;
    if (w->is_free && t->max != range_alloc_max3(t->size, t->l ? t->l->max : 0, t->r ? t->r->max : 0))
        w->ok = false;
    walk(t->l, w);
    if (t->size == 0 || !region_of(w->ra, t->addr, t->size))
        w->ok = false;
    if (w->have_last && t->addr < w->last_end)
        w->ok = false;
    if (w->is_free && w->have_last && t->addr == w->last_end && !range_alloc_is_region_base(w->ra, t->addr))
        w->ok = false; // two free neighbours left apart
    w->last_end = t->addr + t->size;
    w->have_last = true;
    w->count++;
    w->bytes += t->size;
    walk(t->r, w);
}

// True when no used range overlaps a free one (both trees sorted: walk the
// used ranges and look up the free range at or below each).
static bool used_vs_free(node_t *u, node_t *free_root) {
    if (!u)
        return true;
    node_t *f = range_alloc_floor(free_root, u->addr + u->size - 1);
    if (f && f->addr + f->size > u->addr)
        return false;
    return used_vs_free(u->l, free_root) && used_vs_free(u->r, free_root);
}

bool range_alloc_check(range_alloc_t *ra) {
    if (!ra)
        return false;
    lock_acquire(&ra->lock);
    walk_t wf = {.ra = ra, .is_free = true, .ok = true};
    walk_t wu = {.ra = ra, .is_free = false, .ok = true};
    walk(ra->free_root, &wf);
    walk(ra->used_root, &wu);
    bool ok = wf.ok && wu.ok && wf.count == ra->nfree && wu.count == ra->nused &&
              wu.bytes == ra->allocated && wf.bytes + wu.bytes == ra->total &&
              used_vs_free(ra->used_root, ra->free_root);
    size_t sum = 0;
    for (size_t i = 0; i < ra->nregions; i++) {
        sum += ra->regions[i].size;
        if (i && ra->regions[i - 1].base + ra->regions[i - 1].size > ra->regions[i].base)
            ok = false;
    }
    ok = ok && sum == ra->total;
    lock_release(&ra->lock);
    return ok;
}

void range_alloc_stats(range_alloc_t *ra, range_alloc_stats_t *st) {
    if (!ra || !st)
        return;
    lock_acquire(&ra->lock);
    st->total = ra->total;
    st->allocated = ra->allocated;
    st->free = ra->total - ra->allocated;
    st->free_ranges = ra->nfree;
    st->used_ranges = ra->nused;
    st->largest_free = ra->free_root ? ra->free_root->max : 0;
    st->regions = ra->nregions;
    lock_release(&ra->lock);
}

