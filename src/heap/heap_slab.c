// SPDX-License-Identifier: MIT
// Slabs and their owners: slab set-up from the page heap, refill and flush
// of the per-thread block caches (the bins behind the malloc and free fast
// paths), slab state changes, remote frees and their collection, the
// per-thread cache of empty slabs, and the handling of orphaned locals
// (threads that exited).
//
// A slab keeps two bitmaps and a byte map in metadata memory:
//   local   bit set = the block is free in the slab; only the owner thread
//           reads or writes it. Refill takes the lowest set bits (from word
//           `wi` on) into the bin's cache; flush sets them again.
//   freed   a byte per block, 1 = the block is free, in the slab or in the
//           owner's cache. The owner writes it (relaxed atomic stores:
//           free sets it, malloc clears it), anyone reads it.
//   remote  bit set = another thread freed the block; written with
//           atomic_fetch_or, taken by the owner (load, set the local bits
//           and freed bytes, fetch_and to clear just those: a freer that
//           reads the remote bit clear with acquire then sees the byte set).
// `used` counts the blocks whose local bit is clear: live blocks, blocks
// in the owner's cache and remote frees not yet collected.
//
// Every free checks the block's freed byte and remote bit first: either set
// = the block is free already, and the free is refused with nothing
// changed (heap_priv.h, heap_bin_t). Remote freers check before F1
// below; two remote frees of one block racing past that check meet at F3's
// fetch_or (the loser finds the bit set and counts a `remote_void`, which
// is collected like a bit, so remote_count stays exact); an owner free
// racing a remote free of the same block is caught when the bits are
// collected (logged; the block is freed once). Those two races are data
// races in the program and the only double frees not refused at the call.
//
// Remote-free protocol (freeing thread F, owner O, slab S, local L):
//   F1  prev = fetch_add(S.remote_count, 1)          (acq_rel)
//   F2  if prev == 0: push S on L.remote_slabs        (CAS, release)
//   F3  fetch_or(S.remote[word], bit)                 (release; F's last touch of S)
//   O1  list = exchange(L.remote_slabs, NULL)         (acquire)
//   O2  for S in list: n = bits taken by exchange;  rest = fetch_sub(count, n) - n
//   O3  rest > 0 (a freer between F1 and F3): O pushes S back itself.
// Invariants: count >= bits set but not collected, so rest >= 0; S is on
// the list at most once (only the 0 -> 1 transition pushes, and only O
// brings the count back down); a freer between F1 and F3 frees a block
// that O still counts in `used`, so a slab with used == 0 has no freer in
// flight and may be recycled. The slab's owner never changes while it is a
// slab, so F may read it without a lock.
#include <string.h>

#include "base/log.h"
#include "heap/heap_priv.h"
#include "os/meta.h"
#include "os/os.h"

static uint64_t sentinel_word; // always 0: every pop from the sentinel fails
heap_span_t heap_sentinel = {.local = &sentinel_word, .nwords = 1, .state = HEAP_SLAB_CUR};

// ---- owner lists ------------------------------------------------------------------

static void avail_push(heap_bin_t *b, heap_span_t *s) {
    s->prev = NULL;
    s->next = b->avail;
    if (s->next)
        s->next->prev = s;
    b->avail = s;
}

static void avail_remove(heap_bin_t *b, heap_span_t *s) {
    HEAP_DLIST_REMOVE(b->avail, s);
    s->next = s->prev = NULL;
}

static void remote_push(heap_local_t *tl, heap_span_t *s) {
    heap_span_t *head = load_relaxed(&tl->remote_slabs);
    do {
        store_relaxed(&s->remote_next, head);
    } while (!atomic_compare_exchange_weak_explicit(&tl->remote_slabs, &head, s,
                                                    memory_order_release,
                                                    memory_order_relaxed));
}

// ---- slab life ---------------------------------------------------------------------

// A new slab of class cls owned by tl (h->lock held): pages from the page
// heap, bitmaps from metadata memory (kept with the descriptor when it is
// recycled, so a steady state allocates none), every page registered so
// that any block's page leads to the slab. slab_heap is set last: from
// then on the free fast path accepts the slab's blocks.
static heap_span_t *slab_new(heap_t *h, heap_local_t *tl, unsigned cls, umf_result_t *err) {
    const heap_class_t *k = &h->cls[cls];
    heap_span_t *s = heap_pages_alloc(h, k->npages, 0, err);
    if (!s)
        return NULL;
    // local words padded to a cache line so that remote frees do not
    // share a line with the owner's bitmap.
    uint32_t lw = (k->nwords + 7) & ~7u;
    uint32_t need = 10 * lw; // local, freed (a byte per block), remote
    if (s->bits_words < need) {
        meta_free(s->bits, s->bits_words * sizeof(uint64_t));
        s->bits = meta_alloc(need * sizeof(uint64_t));
        s->bits_words = s->bits ? need : 0;
        if (!s->bits) {
            heap_pages_free(h, s);
            *err = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
            return NULL;
        }
    }
    s->local = s->bits;
    s->freed = (_Atomic uint8_t *)(s->bits + lw);
    s->roff = 64 * lw;
    _Atomic uint64_t *remote = heap_span_remote(s);
    for (uint32_t w = 0; w < k->nwords; w++) {
        uint32_t left = k->cap - w * 64;
        s->local[w] = left >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << left) - 1;
        store_relaxed(&remote[w], 0);
    }
    for (uint32_t i = 0; i < k->cap; i++)
        store_relaxed(&s->freed[i], HEAP_FREED);
    s->kind = HEAP_SPAN_SLAB;
    s->cls = (uint8_t)cls;
    s->bsize = k->bsize;
    s->inv = k->inv;
    s->shift = k->shift;
    s->cap = k->cap;
    s->nwords = k->nwords;
    s->wi = 0;
    s->used = 0;
    s->state = HEAP_SLAB_CUR;
    s->next = s->prev = NULL;
    atomic_store_explicit(&s->remote_count, 0, memory_order_relaxed);
    atomic_store_explicit(&s->remote_void, 0, memory_order_relaxed);
    store_relaxed(&s->remote_next, NULL);
    store_relaxed(&s->owner, tl);
    s->bin = &tl->bins[cls];
    (void)heap_pagemap_set(s->base, s->npages, s); // leaves exist: the chunk set them
    s->slab_heap = h;
    if (++h->slabs_now[cls] > h->slabs_peak[cls])
        h->slabs_peak[cls] = h->slabs_now[cls];
    return s;
}

// Gives an empty slab back to the page heap (h->lock held).
static void slab_release_locked(heap_t *h, heap_span_t *s) {
    h->slabs_now[s->cls]--;
    s->slab_heap = NULL;
    store_relaxed(&s->owner, NULL);
    heap_pages_free(h, s);
}

// An empty slab that is not current: kept in the per-class empty cache of
// its owner (at most cfg.slab_cache, the disjoint pool's Capacity) for
// quick reuse, else given back to the page heap, where the decay applies.
static void slab_retire(heap_t *h, heap_local_t *tl, heap_span_t *s, bool locked) {
    heap_empty_t *e = &tl->empty[s->cls];
    if (e->n < h->cfg.slab_cache) {
        s->state = HEAP_SLAB_EMPTY;
        s->stamp = os_now_coarse_ns();
        s->next = e->list;
        e->list = s;
        e->n++;
        return;
    }
    if (!locked)
        lock_acquire(&h->lock);
    slab_release_locked(h, s);
    if (!locked)
        lock_release(&h->lock);
}

__attribute__((noinline, cold)) umf_result_t heap_double_free(const void *p,
                                                              const heap_span_t *s,
                                                              const char *what) {
    LOG_ERR("%s %p: the %u-byte block is free already (double free)", what, p, s->bsize);
    return UMF_RESULT_ERROR_INVALID_ARGUMENT;
}

// Gives cached block p of slab s back to s's local bitmap (owner only; its
// freed byte stays set).
static void slab_put(heap_t *h, heap_local_t *tl, heap_span_t *s, void *p, bool locked) {
    uint32_t idx = (uint32_t)heap_slab_index(s, (uintptr_t)p - s->base);
    uint32_t w = idx >> 6;
    uint64_t m = (uint64_t)1 << (idx & 63);
    if (unlikely(s->local[w] & m)) { // cannot happen: every free checks `freed` first
        LOG_ERR("block %p is free in its slab and cached (a %u-byte block)", p, s->bsize);
        return;
    }
    s->local[w] |= m;
    if (w < s->wi)
        s->wi = w;
    s->used--;
    heap_bin_t *b = &tl->bins[s->cls];
    if (s->state == HEAP_SLAB_FULL) {
        s->state = HEAP_SLAB_AVAIL;
        avail_push(b, s);
    }
    if (s->used == 0 && s->state == HEAP_SLAB_AVAIL) {
        avail_remove(b, s);
        slab_retire(h, tl, s, locked);
    }
}

// Returns the oldest half of a full cache to the slabs, then caches p.
umf_result_t heap_bin_flush_push(heap_local_t *tl, heap_bin_t *b, void *p, uintptr_t code) {
    uint32_t n = heap_bin_count(b), max = heap_bin_cap(b);
    uint32_t k = max / 2 ? max / 2 : 1;
    if (k > n)
        k = n;
    for (uint32_t i = 0; i < k; i++) {
        heap_span_t *s = heap_pagemap_get((uintptr_t)b->items[i].p);
        slab_put(tl->heap, tl, s, b->items[i].p, false);
    }
    if (n > k)
        memmove(b->items, b->items + k, (n - k) * sizeof(heap_entry_t));
    n -= k;
    counter_add(&b->n_free, 1);
    store_relaxed((_Atomic uint8_t *)code, HEAP_FREED);
    if (n < max) {
        b->items[n++] = (heap_entry_t){p, code};
        b->top = b->items + n;
    } else { // max 0 cannot happen for an owned slab, but stay safe
        b->top = b->items + n;
        slab_put(tl->heap, tl, heap_pagemap_get((uintptr_t)p), p, false);
    }
    return UMF_RESULT_SUCCESS;
}

// Empties every cache of tl into its slabs.
static void local_flush(heap_local_t *tl, bool locked) {
    for (unsigned c = 0; c < HEAP_NCLASSES; c++) {
        heap_bin_t *b = &tl->bins[c];
        uint32_t n = heap_bin_count(b);
        for (uint32_t i = 0; i < n; i++)
            slab_put(tl->heap, tl, heap_pagemap_get((uintptr_t)b->items[i].p), b->items[i].p,
                     locked);
        b->top = b->items;
    }
}

void heap_local_flush(heap_local_t *tl) { local_flush(tl, false); }

// ---- remote frees ------------------------------------------------------------------

// A free by a thread that does not own the slab: steps F1-F3 above, then
// the count for the statistics (in the freeing thread's own local, or the
// heap's orphan_frees when it has none - no local is made for a free).
umf_result_t heap_slab_remote_free(heap_t *h, heap_span_t *s, uint32_t idx) {
    unsigned cls = s->cls; // read before F3: S may be recycled after it
    heap_local_t *owner = load_relaxed(&s->owner);
    _Atomic uint64_t *rw = heap_span_remote(s) + (idx >> 6);
    uint64_t bit = (uint64_t)1 << (idx & 63);
    // The block's state byte 0 (live) -> HEAP_FREED_REMOTE, atomically:
    // of two threads freeing it, one wins; a block that is free already is
    // refused and left as it is.
    uint8_t live = 0;
    if (unlikely(!atomic_compare_exchange_strong_explicit(
            &s->freed[idx], &live, HEAP_FREED_REMOTE, memory_order_relaxed,
            memory_order_relaxed)))
        return heap_double_free((void *)(s->base + (uintptr_t)idx * s->bsize), s, "free of");
    if (atomic_fetch_add_explicit(&s->remote_count, 1, memory_order_acq_rel) == 0)
        remote_push(owner, s);
    uint64_t old = atomic_fetch_or_explicit(rw, bit, memory_order_release);
    if (unlikely(old & bit)) { // cannot happen (the byte decided), but stay exact
        atomic_fetch_add_explicit(&s->remote_void, 1, memory_order_release);
        return heap_double_free((void *)(s->base + (uintptr_t)idx * s->bsize), s, "free of");
    }
    heap_local_t *me = heap_local_find(h);
    if (me)
        counter_add(&me->bins[cls].n_free, 1);
    else
        atomic_fetch_add_explicit(&h->orphan_frees[cls], 1, memory_order_relaxed);
    return UMF_RESULT_SUCCESS;
}

// Steps O1-O3: takes tl's list of slabs with remote frees and moves their
// remote bits into the local bitmap and freed bytes; slabs that became non-full
// join the avail list, slabs that became empty are retired. A remote bit
// whose freed byte is set already is a double free that raced the owner's
// own free: logged, and the block stays free once.
void heap_local_collect(heap_t *h, heap_local_t *tl, bool locked) {
    heap_span_t *list = atomic_exchange_explicit(&tl->remote_slabs, NULL, memory_order_acquire);
    while (list) {
        heap_span_t *s = list;
        list = load_relaxed(&s->remote_next);
        _Atomic uint64_t *remote = heap_span_remote(s);
        int64_t n = 0, freed = 0;
        for (uint32_t w = 0; w < s->nwords; w++) {
            uint64_t x = load_acquire(&remote[w]);
            if (!x)
                continue;
            uint64_t fresh = 0;
            for (uint64_t y = x; y; y &= y - 1) {
                uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(y);
                if (load_relaxed(&s->freed[i]) != HEAP_FREED_REMOTE) {
                    // the owner freed or reallocated it meanwhile: a racing double free
                    LOG_ERR("double free of block %u of a %u-byte slab (racing frees)", i,
                            s->bsize);
                    continue;
                }
                store_relaxed(&s->freed[i], HEAP_FREED);
                fresh |= y & -y;
            }
            s->local[w] |= fresh;
            atomic_fetch_and_explicit(&remote[w], ~x, memory_order_release);
            n += __builtin_popcountll(x);
            freed += __builtin_popcountll(fresh);
            if (fresh && w < s->wi)
                s->wi = w;
        }
        n += atomic_exchange_explicit(&s->remote_void, 0, memory_order_acquire);
        s->used -= (int32_t)freed;
        int64_t rest =
            atomic_fetch_sub_explicit(&s->remote_count, n, memory_order_acq_rel) - n;
        if (rest > 0)
            remote_push(tl, s); // a freer is between F1 and F3: look again later
        heap_bin_t *b = &tl->bins[s->cls];
        if (freed && s->state == HEAP_SLAB_FULL) {
            s->state = HEAP_SLAB_AVAIL;
            avail_push(b, s);
        }
        if (s->used == 0 && rest == 0 && s->state == HEAP_SLAB_AVAIL) {
            avail_remove(b, s);
            slab_retire(h, tl, s, locked);
        }
    }
}

// ---- refill -----------------------------------------------------------------------

// Blocks a bin caches: about 16 KiB worth, 2 to 64.
static uint32_t bin_max(uint32_t bsize) {
    uint32_t m = (16u << 10) / bsize;
    return m < 2 ? 2 : m > 64 ? 64 : m;
}

// Moves up to `want` free blocks of s into b's cache (the lowest on top).
// Returns true when s ran out of free blocks.
static bool slab_take(heap_span_t *s, heap_bin_t *b, uint32_t want) {
    uint32_t wi = s->wi, n0 = heap_bin_count(b), n = n0;
    while (n < want && wi < s->nwords) {
        uint64_t w = s->local[wi];
        if (!w) {
            wi++;
            continue;
        }
        uint32_t idx = wi * 64 + (unsigned)__builtin_ctzll(w);
        s->local[wi] = w & (w - 1);
        b->items[n++] = (heap_entry_t){(void *)(s->base + (size_t)idx * s->bsize),
                                       (uintptr_t)&s->freed[idx]};
    }
    s->used += (int32_t)(n - n0);
    b->top = b->items + n;
    // The cache pops from the top: reversed, consecutive mallocs get
    // ascending addresses (as jemalloc's do: memkind's pmem_alignment example).
    for (uint32_t i = n0, j = n - 1; i < j && j != UINT32_MAX; i++, j--) {
        heap_entry_t t = b->items[i];
        b->items[i] = b->items[j];
        b->items[j] = t;
    }
    s->wi = wi < s->nwords ? wi : s->nwords - 1;
    return wi >= s->nwords;
}

// Fills half of an empty cache from the current slab (the blocks stay
// free in `freed`: they are cached); when the slab is
// exhausted: first the remote frees are collected (once), then the next
// slab with free blocks, a cached empty slab, or a new slab (the only step
// that takes the heap lock; it also runs the rate-limited decay and the
// trim of this thread's empty caches). Returns one block.
void *heap_bin_refill(heap_t *h, heap_local_t *tl, unsigned cls) {
    heap_bin_t *b = &tl->bins[cls];
    if (!b->items) {
        uint32_t max = bin_max(h->cls[cls].bsize);
        b->items = meta_alloc(max * sizeof(heap_entry_t));
        if (!b->items) {
            heap_set_error(UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
            return NULL;
        }
        b->top = b->items;
        b->end = b->items + max;
    }
    uint32_t want = heap_bin_cap(b) / 2 ? heap_bin_cap(b) / 2 : 1;
    bool collected = false;
    for (;;) {
        heap_span_t *s = b->cur;
        if (s != &heap_sentinel && (!slab_take(s, b, want) || b->top != b->items))
            break; // got blocks (the slab may have more)
        if (!collected && load_relaxed(&tl->remote_slabs)) {
            collected = true;
            heap_local_collect(h, tl, false);
            continue; // the current slab may have blocks again
        }
        if (s != &heap_sentinel)
            s->state = HEAP_SLAB_FULL;
        b->cur = &heap_sentinel;
        if ((s = b->avail) != NULL) {
            avail_remove(b, s);
        } else if ((s = tl->empty[cls].list) != NULL) {
            tl->empty[cls].list = s->next;
            s->next = NULL;
            tl->empty[cls].n--;
        } else {
            umf_result_t err = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
            uint64_t now = os_now_coarse_ns();
            lock_acquire(&h->lock);
            s = slab_new(h, tl, cls, &err);
            if (now >= tl->next_decay) {
                tl->next_decay = now + h->decay_ns / 2;
                heap_local_trim(h, tl, false, true);
            }
            heap_decay_locked(h, now, false);
            lock_release(&h->lock);
            if (!s) {
                heap_set_error(err);
                return NULL;
            }
        }
        s->state = HEAP_SLAB_CUR;
        b->cur = s;
    }
    heap_entry_t *e = --b->top;
    heap_entry_take(e->code);
    return e->p;
}

// ---- empty caches and orphans -------------------------------------------------------------

// Gives the page heap the empty slabs tl caches: all of them, or those
// idle for a decay period. Owner only (or an orphan under the lock).
void heap_local_trim(heap_t *h, heap_local_t *tl, bool all, bool locked) {
    uint64_t now = all ? 0 : os_now_coarse_ns();
    bool have_lock = locked;
    for (unsigned c = 0; c < HEAP_NCLASSES; c++) {
        heap_empty_t *e = &tl->empty[c];
        heap_span_t **pp = &e->list;
        while (*pp) {
            heap_span_t *s = *pp;
            if (!all && now - s->stamp < h->decay_ns) {
                pp = &s->next;
                continue;
            }
            *pp = s->next;
            e->n--;
            if (!have_lock) {
                lock_acquire(&h->lock);
                have_lock = true;
            }
            slab_release_locked(h, s);
        }
    }
    if (have_lock && !locked)
        lock_release(&h->lock);
}

// Thread exit: everything cached goes back to the slabs, remote frees are
// collected, empty slabs released; the slabs with live blocks stay with the
// local, which waits on h->orphans for a thread to adopt it.
void heap_local_orphan_locked(heap_t *h, heap_local_t *tl) {
    local_flush(tl, true);
    heap_local_collect(h, tl, true);
    heap_local_trim(h, tl, true, true);
    heap_local_set_thread(tl, NULL);
    tl->next_orphan = h->orphans;
    h->orphans = tl;
}

// Frees what the locals of exited threads no longer use: remote frees are
// collected, empty slabs (current ones included) go back to the page heap.
// The caller holds h->lock, which makes the orphans its own.
void heap_orphans_trim_locked(heap_t *h) {
    for (heap_local_t *tl = h->orphans; tl; tl = tl->next_orphan) {
        heap_local_collect(h, tl, true);
        heap_local_trim(h, tl, true, true);
        for (unsigned c = 0; c < HEAP_NCLASSES; c++) {
            heap_span_t *s = tl->bins[c].cur;
            if (s != &heap_sentinel && s->used == 0 && !load_relaxed(&tl->remote_slabs)) {
                tl->bins[c].cur = &heap_sentinel;
                slab_release_locked(h, s);
            }
        }
    }
}
