// SPDX-License-Identifier: MIT
// A per-thread cache of freed large extents (PERFORMANCE.md, "Where the
// engine is slow", item 1): every block above max_small used to take the
// heap's one lock for its allocation and again for its free, which at two
// threads made the engine spend a third of its time in futex calls.
//
// Each local keeps up to HEAP_LCACHE_N freed extents of at most 1 MiB,
// HEAP_LCACHE_MAX_BYTES in all (at most retain_max; nothing in a heap
// under a shared limit, whose freed memory other heaps may need). A large
// free by a thread with a local puts the extent here; a large allocation
// first looks here for an extent of np .. np + np/4 pages (best fit; the
// slack is at most what jemalloc's four size classes per doubling waste)
// with the alignment asked. Both run without any lock: only the owner
// thread touches its cache.
//
// What a cached extent is: still a LARGE span of the page heap - counted in
// h->active, registered at its first page, not merged with its free
// neighbours - whose `state` is HEAP_LARGE_CACHED (a second free of it is
// refused). heap_stats moves its bytes from `active` to `cached` and the
// per-local counters below keep `allocated` and the large counts exact.
//
// Where the extents go back to the page heap (all under h->lock):
//   - overflow: a free that does not fit evicts the oldest entries, down to
//     half of the entries and bytes, in one lock hold (amortised);
//   - decay: every decay/8 the owner flushes the entries idle for decay_ms
//     (with the stamp of their free, so the page heap purges or releases
//     them on its usual schedule) and runs the page heap's decay pass,
//     which no longer runs on every large operation;
//   - thread exit (heap_tls.c, before the local is orphaned), heap_purge
//     (the calling thread's cache, as for its small-block caches), an
//     allocation the page heap cannot serve (flush, then one retry), and a
//     realloc that wants to grow into an extent this thread caches.
// heap_destroy needs nothing: cached extents lie in the heap's chunks.
// A thread that stops allocating keeps at most HEAP_LCACHE_MAX_BYTES here
// until it exits (the same bound as its empty-slab and block caches).
#include <string.h>

#include "heap/heap_priv.h"
#include "os/os.h"

static size_t span_bytes(const heap_span_t *s) { return (size_t)s->npages << HEAP_PAGE_SHIFT; }

// Removes entry i (order kept: oldest first).
static void remove_at(heap_lcache_t *c, uint32_t i) {
    c->n--;
    memmove(&c->span[i], &c->span[i + 1], (c->n - i) * sizeof c->span[0]);
    memmove(&c->stamp[i], &c->stamp[i + 1], (c->n - i) * sizeof c->stamp[0]);
}

// Entry i back to the page heap (lock held).
static void release_locked(heap_t *h, heap_lcache_t *c, uint32_t i) {
    heap_span_t *s = c->span[i];
    uint64_t stamp = c->stamp[i];
    store_relaxed(&c->bytes, load_relaxed(&c->bytes) - span_bytes(s));
    remove_at(c, i);
    s->state = 0;
    (void)heap_pagemap_set(s->base, 1, NULL);
    heap_pages_free_stamped(h, s, stamp); // registers the merged span's edges
}

void heap_lcache_flush_locked(heap_t *h, heap_local_t *tl) {
    heap_lcache_t *c = &tl->lcache;
    while (c->n)
        release_locked(h, c, c->n - 1);
}

bool heap_lcache_release_at_locked(heap_t *h, heap_local_t *tl, uintptr_t addr) {
    heap_lcache_t *c = &tl->lcache;
    for (uint32_t i = 0; i < c->n; i++)
        if (c->span[i]->base == addr) {
            release_locked(h, c, i);
            return true;
        }
    return false;
}

// The owner's periodic look (every decay/8): stale entries back, then the
// page heap's own decay pass.
static void tick(heap_t *h, heap_lcache_t *c, uint64_t now) {
    if (likely(now < c->next_decay))
        return;
    c->next_decay = now + (h->decay_ns / 8 ? h->decay_ns / 8 : 1);
    lock_acquire(&h->lock);
    for (uint32_t i = 0; i < c->n;)
        if (now - c->stamp[i] >= h->decay_ns)
            release_locked(h, c, i);
        else
            i++;
    heap_decay_locked(h, now, false);
    lock_release(&h->lock);
}

heap_span_t *heap_lcache_take(heap_t *h, heap_local_t *tl, size_t np, size_t align) {
    heap_lcache_t *c = &tl->lcache;
    tick(h, c, os_now_coarse_ns());
    size_t hi = np + np / 4, best = SIZE_MAX;
    uint32_t bi = 0;
    for (uint32_t i = c->n; i-- > 0;) { // newest first: warm pages win ties
        heap_span_t *s = c->span[i];
        size_t m = s->npages;
        if (m >= np && m <= hi && m < best && (align <= HEAP_PAGE || !(s->base & (align - 1)))) {
            best = m;
            bi = i;
            if (m == np)
                break;
        }
    }
    if (best == SIZE_MAX)
        return NULL;
    heap_span_t *s = c->span[bi];
    remove_at(c, bi);
    size_t bytes = span_bytes(s);
    s->state = 0;
    store_relaxed(&c->bytes, load_relaxed(&c->bytes) - bytes);
    counter_add(&c->live_delta, bytes);
    counter_add(&c->allocs, 1);
    return s;
}

// The bytes one thread may cache: none in a heap under a shared limit
// (what it frees must be there for the other heaps, heap_pages_free's rule),
// never more than the heap may retain.
static size_t cache_max(const heap_t *h) {
    if (h->cfg.limit)
        return 0;
    return h->cfg.retain_max < HEAP_LCACHE_MAX_BYTES ? h->cfg.retain_max : HEAP_LCACHE_MAX_BYTES;
}

bool heap_lcache_put(heap_t *h, heap_local_t *tl, heap_span_t *s) {
    size_t bytes = span_bytes(s), max = cache_max(h);
    if (s->npages > HEAP_LCACHE_MAX_PAGES || bytes > max)
        return false;
    heap_lcache_t *c = &tl->lcache;
    uint64_t now = os_now_coarse_ns();
    tick(h, c, now);
    if (c->n == HEAP_LCACHE_N || load_relaxed(&c->bytes) + bytes > max) {
        // Evict the oldest down to half the entries and half the bytes, so
        // that the next frees find room without the lock again.
        lock_acquire(&h->lock);
        while (c->n && (c->n > HEAP_LCACHE_N / 2 || load_relaxed(&c->bytes) + bytes > max / 2))
            release_locked(h, c, 0);
        lock_release(&h->lock);
    }
    s->state = HEAP_LARGE_CACHED;
    c->span[c->n] = s;
    c->stamp[c->n] = now;
    c->n++;
    store_relaxed(&c->bytes, load_relaxed(&c->bytes) + bytes);
    counter_add(&c->live_delta, (uint64_t)0 - bytes);
    counter_add(&c->frees, 1);
    return true;
}

void heap_lcache_totals_locked(heap_t *h, uint64_t *cached, uint64_t *live_delta,
                               uint64_t *allocs, uint64_t *frees) {
    uint64_t b = 0, d = 0, a = 0, f = 0;
    for (heap_local_t *tl = h->locals; tl; tl = tl->next_all) {
        b += load_relaxed(&tl->lcache.bytes);
        d += load_relaxed(&tl->lcache.live_delta);
        a += load_relaxed(&tl->lcache.allocs);
        f += load_relaxed(&tl->lcache.frees);
    }
    *cached = b;
    *live_delta = d;
    *allocs = a;
    *frees = f;
}
