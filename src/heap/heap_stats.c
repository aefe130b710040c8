// SPDX-License-Identifier: MIT
// The heap engine's read side and maintenance (heap.h): purge, statistics
// merged from the per-thread counters, and the defragmentation hint.
#include <string.h>

#include "heap/heap_priv.h"

// ---- purge and statistics -------------------------------------------------------------

void heap_purge(heap_t *h, bool force) {
    heap_local_t *tl = heap_local_find(h);
    if (tl) {
        heap_local_flush(tl);
        heap_local_collect(h, tl, false);
        heap_local_trim(h, tl, true, false);
    }
    lock_acquire(&h->lock);
    if (tl)
        heap_lcache_flush_locked(h, tl); // the calling thread's cached large extents
    heap_purge_all_locked(h, force);
    lock_release(&h->lock);
}

// Blocks of class c handed out minus freed, over all locals (lock held).
static int64_t class_live(heap_t *h, unsigned c, uint64_t *allocs, uint64_t *frees) {
    uint64_t a = 0, f = load_relaxed(&h->orphan_frees[c]);
    for (heap_local_t *tl = h->locals; tl; tl = tl->next_all) {
        a += load_relaxed(&tl->bins[c].n_alloc);
        f += load_relaxed(&tl->bins[c].n_free);
    }
    if (allocs)
        *allocs = a;
    if (frees)
        *frees = f;
    return (int64_t)(a - f);
}

// Small blocks are counted per thread and class (n_alloc by the owner,
// n_free by whichever thread freed) and summed here; the sum is exact once
// the threads are quiet. Frees by threads without a local in the heap go to
// the per-heap orphan_frees atomics.
void heap_stats(heap_t *h, heap_stats_t *st) {
    memset(st, 0, sizeof *st);
    lock_acquire(&h->lock);
    int64_t small = 0;
    for (unsigned c = 0; c < HEAP_NCLASSES; c++)
        small += class_live(h, c, NULL, NULL) * (int64_t)heap_class_size[c];
    // Extents in threads' large caches are active for the page heap, but
    // free for the user: they count as cached here.
    uint64_t lc_bytes, lc_live, lc_allocs, lc_frees;
    heap_lcache_totals_locked(h, &lc_bytes, &lc_live, &lc_allocs, &lc_frees);
    st->allocated = (small > 0 ? (size_t)small : 0) + (size_t)(h->large_bytes + lc_live) +
                    h->direct_bytes;
    st->active = h->active - (size_t)lc_bytes;
    st->resident = h->resident;
    st->cached = h->cached + (size_t)lc_bytes;
    st->purged = h->purged;
    st->chunks = h->nchunks;
    st->provider_allocs = h->prov_allocs;
    st->provider_frees = h->prov_frees;
    lock_release(&h->lock);
}

void heap_class_stats(heap_t *h, unsigned cls, heap_class_stats_t *out) {
    memset(out, 0, sizeof *out);
    if (cls >= HEAP_NCLASSES)
        return;
    lock_acquire(&h->lock);
    out->block_size = h->cls[cls].bsize;
    out->slab_size = (size_t)h->cls[cls].npages << HEAP_PAGE_SHIFT;
    (void)class_live(h, cls, &out->allocs, &out->frees);
    out->slabs = h->slabs_now[cls];
    out->peak_slabs = h->slabs_peak[cls];
    lock_release(&h->lock);
}

void heap_large_stats(heap_t *h, heap_large_stats_t *out) {
    lock_acquire(&h->lock);
    uint64_t lc_bytes, lc_live, lc_allocs, lc_frees;
    heap_lcache_totals_locked(h, &lc_bytes, &lc_live, &lc_allocs, &lc_frees);
    out->allocs = h->large_allocs + lc_allocs;
    out->frees = h->large_frees + lc_frees;
    out->direct_allocs = h->direct_allocs;
    out->direct_frees = h->direct_frees;
    lock_release(&h->lock);
}

// ---- defragmentation hint ----------------------------------------------------------------

// A block is worth moving when it sits in a slab of the calling thread that
// is less than half used and is not the slab new blocks of its class come
// from: moving its blocks elsewhere lets the slab empty and return to the
// provider (memkind_defrag_reallocate, jemalloc's utilization hint). Only
// the owner reads `used` exactly, so other threads' slabs are never hinted.
bool heap_defrag_hint(heap_t *h, const void *ptr) {
    heap_span_t *s = heap_pagemap_get((uintptr_t)ptr);
    if (!s || s->heap != h || s->slab_heap != h)
        return false; // large and direct blocks are not in slabs
    heap_local_t *tl = heap_local_find(h);
    if (!tl || atomic_load_explicit(&s->owner, memory_order_relaxed) != tl)
        return false;
    if (tl->bins[s->cls].cur == s)
        return false;
    return (uint32_t)s->used * 2 < s->cap;
}
