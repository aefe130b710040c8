// SPDX-License-Identifier: MIT
// The page heap of one heap: chunks from the provider, carved into
// page-aligned spans (slabs and large extents) with split and merge, the
// cache of free spans, direct (unpooled) blocks, shared byte limits, the
// decay policy that gives memory back, and span descriptor recycling.
// Every function here runs with h->lock held.
//
// Free spans are kept in 64 bins (exact page counts 1..32, then one bin
// per power of two) and registered in the page map at their first and last
// page, so that a freed span finds its free neighbours in O(1) and merges
// with them (never across chunks: a chunk goes back to the provider whole).
// A neighbour is recognised by exact arithmetic - kind FREE, same chunk,
// ending (or starting) exactly at our edge - so stale slots are harmless:
// every slot of a live chunk was written by this heap (all of them when the
// chunk arrived), and descriptors are only recycled within the heap.
//
// Providers that ignore alignment (a user provider returning malloc memory)
// are handled by asking for a little more and using the page-aligned part.
//
// Decay and purge: heap_decay.c.
#include <string.h>

#include "base/log.h"
#include "heap/heap_priv.h"
#include "os/meta.h"
#include "os/os.h"
#include "tracker/tracker.h"

#define DESC_BLOCK ((size_t)64 << 10)

// ---- descriptors -------------------------------------------------------------

// Descriptors come from 64 KiB metadata blocks, 340 at a time, and are
// recycled through free_descs; they are freed only with the heap (so stale
// page-map slots always point into this heap's descriptors).
heap_span_t *heap_desc_new(heap_t *h) {
    heap_span_t *s = h->free_descs;
    if (s) {
        h->free_descs = s->next;
    } else {
        if (h->desc_left == 0) {
            heap_desc_block_t *b = meta_alloc(DESC_BLOCK);
            if (!b)
                return NULL;
            b->next = h->desc_blocks;
            h->desc_blocks = b;
            // The first descriptor-sized slot holds the block header.
            h->desc_bump = (heap_span_t *)b + 1;
            h->desc_left = DESC_BLOCK / sizeof(heap_span_t) - 1;
        }
        s = h->desc_bump++;
        h->desc_left--;
    }
    // Keep the bitmaps of a recycled descriptor; clear the rest.
    uint64_t *bits = s->bits;
    uint32_t bits_words = s->bits_words;
    memset(s, 0, offsetof(heap_span_t, remote_count));
    s->kind = HEAP_SPAN_DEAD;
    atomic_init(&s->remote_count, 0);
    atomic_init(&s->remote_next, NULL);
    s->bits = bits;
    s->bits_words = bits_words;
    s->heap = h;
    return s;
}

void heap_desc_delete(heap_t *h, heap_span_t *s) {
    s->kind = HEAP_SPAN_DEAD; // stale page-map slots may still point here
    s->slab_heap = NULL;
    s->npages = 0;
    s->next = h->free_descs;
    h->free_descs = s;
}

// ---- free span bins ------------------------------------------------------------

// Bins 0..31 hold spans of exactly 1..32 pages; bin 32 + k holds spans of
// [2^(k+5), 2^(k+6)) pages.
static unsigned bin_of(size_t npages) {
    if (npages <= 32)
        return (unsigned)npages - 1;
    unsigned b = 63u - (unsigned)__builtin_clzll(npages);
    unsigned i = 32 + b - 5;
    return i < HEAP_FREE_BINS ? i : HEAP_FREE_BINS - 1;
}

// Makes s a cached free span: bins, page map edges, counters.
static void free_add(heap_t *h, heap_span_t *s) {
    s->kind = HEAP_SPAN_FREE;
    s->slab_heap = NULL;
    unsigned b = bin_of(s->npages);
    s->prev = NULL;
    s->next = h->bins[b];
    if (s->next)
        s->next->prev = s;
    h->bins[b] = s;
    h->bins_nonempty |= (uint64_t)1 << b;
    // The chunk's leaves exist (set when the chunk arrived): cannot fail.
    (void)heap_pagemap_set(s->base, 1, s);
    (void)heap_pagemap_set(s->base + heap_span_bytes(s) - HEAP_PAGE, 1, s);
    s->chunk->free_pages += s->npages;
    h->cached += heap_span_bytes(s);
    if (s->flags & HEAP_SPAN_PURGED)
        h->purged += heap_span_bytes(s);
}

static void free_del(heap_t *h, heap_span_t *s) {
    unsigned b = bin_of(s->npages);
    HEAP_DLIST_REMOVE(h->bins[b], s);
    if (!h->bins[b])
        h->bins_nonempty &= ~((uint64_t)1 << b);
    s->next = s->prev = NULL;
    s->chunk->free_pages -= s->npages;
    h->cached -= heap_span_bytes(s);
    if (s->flags & HEAP_SPAN_PURGED)
        h->purged -= heap_span_bytes(s);
}

// The free span that ends exactly at `addr` (left neighbour) in chunk c.
static heap_span_t *free_ending_at(heap_t *h, heap_chunk_t *c, uintptr_t addr) {
    if (addr <= c->base)
        return NULL;
    heap_span_t *l = heap_pagemap_get(addr - HEAP_PAGE);
    if (l && l->heap == h && l->kind == HEAP_SPAN_FREE && l->chunk == c &&
        l->base + heap_span_bytes(l) == addr)
        return l;
    return NULL;
}

// The free span that starts exactly at `addr` (right neighbour) in chunk c.
static heap_span_t *free_starting_at(heap_t *h, heap_chunk_t *c, uintptr_t addr) {
    if (addr >= c->base + (c->npages << HEAP_PAGE_SHIFT))
        return NULL;
    heap_span_t *r = heap_pagemap_get(addr);
    if (r && r->heap == h && r->kind == HEAP_SPAN_FREE && r->chunk == c && r->base == addr)
        return r;
    return NULL;
}

// Splits free span s into [off pages free][n pages returned][rest free].
static heap_span_t *carve(heap_t *h, heap_span_t *s, size_t off, size_t n) {
    size_t tail = s->npages - off - n;
    heap_span_t *a = s, *t = NULL;
    if (off || tail) {
        a = heap_desc_new(h);
        if (!a)
            return NULL;
        if (tail) {
            t = off ? heap_desc_new(h) : s;
            if (!t) {
                heap_desc_delete(h, a);
                return NULL;
            }
        }
    }
    uintptr_t base = s->base;
    uint8_t flags = s->flags;
    uint64_t stamp = s->stamp;
    heap_chunk_t *c = s->chunk;
    free_del(h, s);
    if (off) {
        s->npages = (uint32_t)off; // s stays the head
        free_add(h, s);
    }
    if (tail) {
        t->base = base + ((off + n) << HEAP_PAGE_SHIFT);
        t->npages = (uint32_t)tail;
        t->chunk = c;
        t->flags = flags;
        t->stamp = stamp;
        free_add(h, t);
    }
    a->base = base + (off << HEAP_PAGE_SHIFT);
    a->npages = (uint32_t)n;
    a->chunk = c;
    a->flags = flags & HEAP_SPAN_ZEROED;
    a->kind = HEAP_SPAN_LARGE; // the caller sets the real kind
    return a;
}

// A cached span of n pages whose start is a multiple of ap pages. Bins
// below bin_of(n) hold only smaller spans; the first bin may hold smaller
// ones too (log bins), so its list is walked; any span of a higher exact
// bin fits when ap == 1. Most recently freed spans come first (warm pages).
static heap_span_t *take(heap_t *h, size_t n, size_t ap) {
    for (unsigned b = bin_of(n); b < HEAP_FREE_BINS; b++) {
        uint64_t mask = h->bins_nonempty & (~(uint64_t)0 << b);
        if (!mask)
            return NULL;
        b = (unsigned)__builtin_ctzll(mask);
        for (heap_span_t *s = h->bins[b]; s; s = s->next) {
            uintptr_t page = s->base >> HEAP_PAGE_SHIFT;
            size_t off = ALIGN_UP(page, ap) - page;
            if (s->npages >= n && off <= s->npages - n)
                return carve(h, s, off, n);
        }
    }
    return NULL;
}

// ---- limits --------------------------------------------------------------------------

heap_limit_t *heap_limit_create(size_t max_bytes) {
    heap_limit_t *l = meta_alloc(sizeof *l);
    if (!l)
        return NULL;
    atomic_init(&l->used, 0);
    l->max = max_bytes;
    return l;
}

void heap_limit_destroy(heap_limit_t *l) { meta_free(l, sizeof *l); }

size_t heap_limit_used(const heap_limit_t *l) {
    return l ? atomic_load_explicit(&((heap_limit_t *)l)->used, memory_order_relaxed) : 0;
}

// Charges n bytes to a shared limit before the provider is asked, so that
// concurrent heaps can never overshoot it together (a CAS loop, relaxed:
// the counter orders nothing else).
static bool limit_reserve(heap_limit_t *l, size_t n) {
    if (!l)
        return true;
    size_t u = atomic_load_explicit(&l->used, memory_order_relaxed);
    do {
        if (n > l->max || u > l->max - n)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(&l->used, &u, u + n, memory_order_relaxed,
                                                    memory_order_relaxed));
    return true;
}

static void limit_release(heap_limit_t *l, size_t n) {
    if (l)
        atomic_fetch_sub_explicit(&l->used, n, memory_order_relaxed);
}

// ---- chunks ----------------------------------------------------------------------------

// Nesting (docs/providers-pools.md): a chunk from memory another pool
// handed out covers that pool's page map entries; kept here, put back when
// the chunk goes (while it lives, its own entries answer). Fresh memory
// covers none: the pages are scanned only once the address map has nested
// ranges, or when the first page has an owner (an untracked inner pool).
static bool chunk_save_covered(heap_chunk_t *c, uintptr_t base, size_t npages) {
    c->saved = NULL;
    c->nsaved = 0;
    if (!tracker_nested() && !heap_pagemap_get(base))
        return true;
    size_t n = heap_pagemap_collect(base, npages, NULL, 0);
    if (n == 0)
        return true;
    if (n > UINT32_MAX || !(c->saved = meta_alloc(n * sizeof *c->saved)))
        return false;
    c->nsaved = (uint32_t)heap_pagemap_collect(base, npages, c->saved, n);
    return true;
}

static void chunk_restore_covered(const heap_chunk_t *c) {
    for (uint32_t i = 0; i < c->nsaved; i++)
        (void)heap_pagemap_set(c->saved[i].addr, 1, c->saved[i].span);
}

static void chunk_saved_free(heap_chunk_t *c) {
    if (c->saved)
        meta_free(c->saved, c->nsaved * sizeof *c->saved);
    c->saved = NULL;
    c->nsaved = 0;
}

// One provider allocation of `size` bytes whose page-aligned part starts at
// a multiple of `align` and holds at least min_pages pages. The chunk is
// linked; `first` describes all of its usable pages (kind FREE, not yet in
// a bin) and is registered at every page (all: pooled) or the first only.
static umf_result_t chunk_get(heap_t *h, size_t size, size_t align, size_t min_pages,
                              bool all_pages, heap_span_t **first) {
    size_t pa = align > HEAP_PAGE ? align : HEAP_PAGE;
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t raw_size = size;
        if (h->misaligned_provider && __builtin_add_overflow(size, pa, &raw_size))
            return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        raw_size = ALIGN_UP(raw_size, h->prov_page);
        if (!limit_reserve(h->cfg.limit, raw_size))
            return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        void *raw = NULL;
        umf_result_t r = umfMemoryProviderAlloc(h->provider, raw_size, pa, &raw);
        if (r != UMF_RESULT_SUCCESS || !raw) {
            limit_release(h->cfg.limit, raw_size);
            return r != UMF_RESULT_SUCCESS ? r : UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        }
        uintptr_t base = ALIGN_UP((uintptr_t)raw, pa);
        uintptr_t end = ALIGN_DOWN((uintptr_t)raw + raw_size, HEAP_PAGE);
        size_t npages = end > base ? (end - base) >> HEAP_PAGE_SHIFT : 0;
        if (npages < min_pages) {
            // The provider ignored the alignment: ask for more from now on.
            (void)umfMemoryProviderFree(h->provider, raw, raw_size);
            limit_release(h->cfg.limit, raw_size);
            if (!h->misaligned_provider)
                LOG_INFO("provider %s ignores alignment %zu; over-allocating",
                         umfMemoryProviderGetName(h->provider), pa);
            h->misaligned_provider = true;
            continue;
        }
        heap_chunk_t *c = meta_alloc(sizeof *c);
        heap_span_t *s = c ? heap_desc_new(h) : NULL;
        if (!s || !chunk_save_covered(c, base, npages) ||
            !heap_pagemap_set(base, all_pages ? npages : 1, s)) {
            if (s)
                heap_desc_delete(h, s);
            if (c)
                chunk_saved_free(c);
            meta_free(c, sizeof *c);
            (void)umfMemoryProviderFree(h->provider, raw, raw_size);
            limit_release(h->cfg.limit, raw_size);
            return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        }
        c->raw = raw;
        c->raw_size = raw_size;
        c->base = base;
        c->npages = npages;
        c->free_pages = 0;
        c->prev = NULL;
        c->next = h->chunks;
        if (c->next)
            c->next->prev = c;
        h->chunks = c;
        s->base = base;
        s->npages = (uint32_t)npages;
        s->chunk = c;
        s->flags = h->fresh_zero ? HEAP_SPAN_ZEROED : 0;
        s->stamp = os_now_coarse_ns();
        h->resident += raw_size;
        h->nchunks++;
        h->prov_allocs++;
        *first = s;
        return UMF_RESULT_SUCCESS;
    }
    return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
}

// A chunk the provider took back: unlinked, uncounted, its record freed.
static void chunk_forget(heap_t *h, heap_chunk_t *c) {
    chunk_saved_free(c);
    HEAP_DLIST_REMOVE(h->chunks, c);
    limit_release(h->cfg.limit, c->raw_size);
    h->resident -= c->raw_size;
    h->nchunks--;
    h->prov_frees++;
    meta_free(c, sizeof *c);
}

// Returns an idle chunk (one free span covering it) to the provider. The
// page map forgets a range before the provider has it back (here, in
// heap_direct_free and heap_pages_release_all): once freed, the range may go
// to another heap at once, whose page map entries a later clear would wipe.
static bool chunk_release(heap_t *h, heap_chunk_t *c) {
    heap_span_t *s = heap_pagemap_get(c->base);
    (void)heap_pagemap_set(c->base, c->npages, NULL);
    chunk_restore_covered(c);
    umf_result_t r = umfMemoryProviderFree(h->provider, c->raw, c->raw_size);
    if (r != UMF_RESULT_SUCCESS) {
        LOG_WARN("provider free of %p (%zu bytes) failed: %d; keeping it", c->raw, c->raw_size,
                 (int)r);
        (void)heap_pagemap_set(s->base, 1, s); // the free span's edges, as free_add sets them
        (void)heap_pagemap_set(s->base + heap_span_bytes(s) - HEAP_PAGE, 1, s);
        s->stamp = os_now_coarse_ns(); // do not retry at once
        return false;
    }
    free_del(h, s);
    heap_desc_delete(h, s);
    chunk_forget(h, c);
    return true;
}

static bool chunk_idle(const heap_chunk_t *c) { return !c->direct && c->free_pages == c->npages; }

// Releases idle chunks idle for at least min_idle_ns. Returns bytes freed.
size_t heap_release_idle_locked(heap_t *h, uint64_t now, uint64_t min_idle_ns) {
    size_t freed = 0;
    for (heap_chunk_t *c = h->chunks, *next; c; c = next) {
        next = c->next;
        if (!chunk_idle(c))
            continue;
        heap_span_t *s = heap_pagemap_get(c->base);
        size_t raw = c->raw_size;
        if (now - s->stamp >= min_idle_ns && chunk_release(h, c))
            freed += raw;
    }
    return freed;
}

// Releases the least recently used idle chunks while more than `keep`
// bytes are cached.
static void release_over(heap_t *h, size_t keep) {
    while (h->cached > keep) {
        heap_chunk_t *oldest = NULL;
        uint64_t t = UINT64_MAX;
        for (heap_chunk_t *c = h->chunks; c; c = c->next) {
            if (!chunk_idle(c))
                continue;
            uint64_t st = heap_pagemap_get(c->base)->stamp;
            if (st < t) {
                t = st;
                oldest = c;
            }
        }
        if (!oldest || !chunk_release(h, oldest))
            return;
    }
}

// Chunk sizing: the configured granularity for anything that fits, a
// multiple of it up to four times, exactly what is needed beyond (a huge
// block should not drag a mostly empty chunk along).
heap_span_t *heap_pages_alloc(heap_t *h, size_t npages, size_t align, umf_result_t *err) {
    size_t ap = align > HEAP_PAGE ? align >> HEAP_PAGE_SHIFT : 1;
    heap_span_t *s = take(h, npages, ap);
    if (s)
        goto done;
    size_t need = npages << HEAP_PAGE_SHIFT;
    size_t cb = h->chunk_bytes;
    size_t want = need <= cb ? cb : need <= 4 * cb ? ALIGN_UP(need, cb) : need;
    umf_result_t r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    heap_span_t *first = NULL;
    // The full granularity first, then only what is needed (a tight limit or
    // a nearly full fixed provider), then the same after giving back what
    // this heap caches.
    for (int attempt = 0; attempt < 3 && !first; attempt++) {
        if (attempt == 2) {
            if (h->cfg.keep_all_memory)
                break;
            heap_orphans_trim_locked(h); // exited threads' empty slabs first
            if (h->cached == 0)
                break;
            heap_release_idle_locked(h, os_now_coarse_ns(), 0);
        }
        size_t sz = attempt == 0 ? want : need;
        if (attempt == 1 && want == need)
            continue;
        r = chunk_get(h, sz, align, npages, true, &first);
    }
    if (!first) {
        *err = r;
        return NULL;
    }
    free_add(h, first);
    s = take(h, npages, ap);
    if (!s) { // only metadata can be missing here
        *err = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        return NULL;
    }
done:
    h->active += heap_span_bytes(s);
    return s;
}

// s (a slab or large extent) becomes free: merged with free neighbours of
// its chunk, stamped for the decay (with `stamp`: when its user freed it;
// a thread's large cache hands extents back later), put in a bin. s
// survives as the descriptor of the merged span; the neighbours'
// descriptors are recycled.
void heap_pages_free_stamped(heap_t *h, heap_span_t *s, uint64_t stamp) {
    heap_chunk_t *c = s->chunk;
    h->active -= heap_span_bytes(s);
    s->flags = 0; // used pages are dirty
    heap_span_t *l = free_ending_at(h, c, s->base);
    if (l) {
        free_del(h, l);
        s->base = l->base;
        s->npages += l->npages;
        heap_desc_delete(h, l);
    }
    heap_span_t *r = free_starting_at(h, c, s->base + heap_span_bytes(s));
    if (r) {
        free_del(h, r);
        s->npages += r->npages;
        heap_desc_delete(h, r);
    }
    s->stamp = stamp;
    free_add(h, s);
    // A chunk that just became idle may push the cache over its budget. A
    // heap under a shared limit keeps only retain_max: other heaps may need
    // the bytes.
    if (!h->cfg.keep_all_memory && chunk_idle(c)) {
        size_t keep = h->cfg.retain_max;
        if (!h->cfg.limit && keep < h->active / 4)
            keep = h->active / 4;
        if (h->cached > keep)
            release_over(h, keep);
    }
}

void heap_pages_free(heap_t *h, heap_span_t *s) {
    heap_pages_free_stamped(h, s, os_now_coarse_ns());
}

// Grows a large extent in place into the free span right after it.
bool heap_pages_grow(heap_t *h, heap_span_t *s, size_t npages) {
    size_t extra = npages - s->npages;
    heap_span_t *r = free_starting_at(h, s->chunk, s->base + heap_span_bytes(s));
    if (!r || r->npages < extra)
        return false;
    free_del(h, r);
    if (r->npages == extra) {
        heap_desc_delete(h, r);
    } else {
        r->base += extra << HEAP_PAGE_SHIFT;
        r->npages -= (uint32_t)extra;
        free_add(h, r);
    }
    s->npages = (uint32_t)npages;
    s->flags = 0;
    h->active += extra << HEAP_PAGE_SHIFT;
    return true;
}

// Gives the tail of a large extent back (it merges with what follows).
void heap_pages_shrink(heap_t *h, heap_span_t *s, size_t npages) {
    heap_span_t *t = heap_desc_new(h);
    if (!t)
        return; // keep the pages; the block stays valid and usable
    t->base = s->base + (npages << HEAP_PAGE_SHIFT);
    t->npages = s->npages - (uint32_t)npages;
    t->chunk = s->chunk;
    t->kind = HEAP_SPAN_LARGE;
    s->npages = (uint32_t)npages;
    heap_pages_free(h, t);
}

// ---- direct blocks -------------------------------------------------------------------

// A block above max_pooled: one provider allocation of its own, registered
// at its first page only (frees and usable size look there), never cached.
heap_span_t *heap_direct_alloc(heap_t *h, size_t size, size_t align, umf_result_t *err) {
    size_t need;
    if (!align_up_checked(size ? size : 1, HEAP_PAGE, &need)) {
        *err = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    heap_span_t *s = NULL;
    umf_result_t r = chunk_get(h, need, align, need >> HEAP_PAGE_SHIFT, false, &s);
    if (r != UMF_RESULT_SUCCESS && !h->cfg.keep_all_memory && h->cached) {
        heap_release_idle_locked(h, os_now_coarse_ns(), 0);
        r = chunk_get(h, need, align, need >> HEAP_PAGE_SHIFT, false, &s);
    }
    if (r != UMF_RESULT_SUCCESS) {
        *err = r;
        return NULL;
    }
    s->chunk->direct = true;
    s->kind = HEAP_SPAN_DIRECT;
    h->active += heap_span_bytes(s);
    h->direct_bytes += heap_span_bytes(s);
    h->direct_allocs++;
    return s;
}

umf_result_t heap_direct_free(heap_t *h, heap_span_t *s) {
    heap_chunk_t *c = s->chunk;
    (void)heap_pagemap_set(c->base, 1, NULL); // before the free (chunk_release)
    chunk_restore_covered(c);
    umf_result_t r = umfMemoryProviderFree(h->provider, c->raw, c->raw_size);
    if (r != UMF_RESULT_SUCCESS) {
        (void)heap_pagemap_set(c->base, 1, s);
        return r; // the block stays valid (UMF: the free error propagates)
    }
    h->active -= heap_span_bytes(s);
    h->direct_bytes -= heap_span_bytes(s);
    h->direct_frees++;
    heap_desc_delete(h, s);
    chunk_forget(h, c);
    return UMF_RESULT_SUCCESS;
}

// heap_destroy: every chunk back to the provider, live blocks included,
// then every descriptor block and bitmap.
void heap_pages_release_all(heap_t *h) {
    for (heap_chunk_t *c = h->chunks, *next; c; c = next) {
        next = c->next;
        (void)heap_pagemap_set(c->base, c->direct ? 1 : c->npages, NULL); // first (chunk_release)
        chunk_restore_covered(c);
        umf_result_t r = umfMemoryProviderFree(h->provider, c->raw, c->raw_size);
        if (r != UMF_RESULT_SUCCESS)
            LOG_ERR("provider free of %p (%zu bytes) failed at destroy: %d", c->raw,
                    c->raw_size, (int)r);
        limit_release(h->cfg.limit, c->raw_size);
        chunk_saved_free(c);
        meta_free(c, sizeof *c);
    }
    h->chunks = NULL;
    for (heap_desc_block_t *b = h->desc_blocks, *next; b; b = next) {
        next = b->next;
        heap_span_t *d = (heap_span_t *)b + 1;
        for (size_t i = 0; i < DESC_BLOCK / sizeof(heap_span_t) - 1; i++)
            if (d[i].bits)
                meta_free(d[i].bits, d[i].bits_words * sizeof(uint64_t));
        meta_free(b, DESC_BLOCK);
    }
    h->desc_blocks = NULL;
}
