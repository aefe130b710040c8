// SPDX-License-Identifier: MIT
// The heap engine's entry points (heap.h): creation and destruction, the
// malloc and free fast paths, large and direct blocks, aligned allocation,
// calloc, realloc in place, usable size, the UMF pool ops and the owner
// lookups of umfFree (purge and statistics: heap_stats.c).
//
// Fast paths. malloc of up to 1 KiB: find the thread's local (TLS pointer,
// slot[id], uid check), class from a per-heap table, pop a block from the
// class's cache, clear its `freed` byte and bump a thread-owned counter -
// no atomic RMW, no lock, no shared line. free: page map (two loads) ->
// span; the block's index (exact, or the pointer is refused); if the
// span's bin (its owner's, s->bin) names this thread, the block's freed
// byte (set: a double free, refused), then set the byte and push the block
// on that bin, else hand it to the slab's remote channel (heap_slab.c),
// which refuses it by the same byte.
#include <string.h>

#include "base/log.h"
#include "heap/heap_priv.h"
#include "os/meta.h"
#include "os/os.h"

// The calling thread's last allocation error, for every heap at once (as
// UMF's pools keep it): written on failure paths only. error_seq counts the
// failures, so that the pool glue can tell whether an error it recorded
// itself is older than the engine's (pool.c, umfPoolGetLastAllocationError).
static __thread umf_result_t last_error;
static __thread uint64_t error_seq;

void heap_set_error(umf_result_t r) {
    last_error = r;
    error_seq++;
}
umf_result_t heap_last_error(void) { return last_error; }
uint64_t heap_error_seq(void) { return error_seq; }

static void *fail(umf_result_t r) {
    heap_set_error(r);
    return NULL;
}

void heap_config_default(heap_config_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->chunk_size = (size_t)2 << 20;
    cfg->slab_size = (size_t)64 << 10;
    cfg->min_class_size = 8;
    cfg->max_small_size = (size_t)32 << 10;
    cfg->max_pooled_size = SIZE_MAX;
    cfg->slab_cache = 1;
    cfg->keep_all_memory = false;
    cfg->decay_ms = 1000;
    cfg->retain_max = (size_t)64 << 20;
}

// ---- creation ------------------------------------------------------------------------

// The provider's minimum page size bounds what can be purged (purges are
// rounded inwards to it); chunks are rounded up to it so that the provider
// always gets whole pages. The heap registers itself last, so that no
// thread can find a half-made heap through its id.
umf_result_t heap_create(umf_memory_provider_handle_t provider, const heap_config_t *cfg,
                         heap_t **out) {
    if (!provider || !cfg || !out)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    heap_t *h = meta_alloc(sizeof *h);
    if (!h)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    h->cfg = *cfg;
    h->provider = provider;
    size_t ps = 0;
    if (umfMemoryProviderGetMinPageSize(provider, NULL, &ps) != UMF_RESULT_SUCCESS ||
        ps < HEAP_PAGE)
        ps = HEAP_PAGE;
    while (!is_pow2(ps))
        ps += ps & -ps; // round up to a power of two
    h->prov_page = ps;
    size_t cb = cfg->chunk_size ? cfg->chunk_size : (size_t)2 << 20;
    if (!align_up_checked(cb, ps, &h->chunk_bytes)) {
        meta_free(h, sizeof *h);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    h->decay_ns = cfg->decay_ms * 1000000u;
    h->max_pooled = cfg->max_pooled_size;
    // Only the OS provider is known to hand out zeroed memory; fixed, file
    // and user providers may return old contents.
    const char *name = umfMemoryProviderGetName(provider);
    h->fresh_zero = name && strcmp(name, "OS") == 0;
    heap_classes_setup(h);
    for (unsigned c = 0; c < HEAP_NCLASSES; c++)
        atomic_init(&h->orphan_frees[c], 0);
    lock_init(&h->lock, LOCK_RANK_HEAP, "heap");
    if (heap_registry_add(h) != 0) {
        lock_fini(&h->lock);
        meta_free(h, sizeof *h);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    *out = h;
    return UMF_RESULT_SUCCESS;
}

// Locals of live threads are freed here too: their slot (uid) no longer
// matches any heap, so those threads never follow it again.
void heap_destroy(heap_t *h) {
    if (!h)
        return;
    heap_registry_remove(h); // exiting threads no longer find its locals
    lock_acquire(&h->lock);
    heap_pages_release_all(h);
    for (heap_local_t *tl = h->locals, *next; tl; tl = next) {
        next = tl->next_all;
        for (unsigned c = 0; c < HEAP_NCLASSES; c++)
            meta_free(tl->bins[c].items, heap_bin_cap(&tl->bins[c]) * sizeof(heap_entry_t));
        meta_free(tl, sizeof *tl);
    }
    lock_release(&h->lock);
    lock_fini(&h->lock);
    meta_free(h, sizeof *h);
}

void *heap_user(const heap_t *h) { return h->cfg.user; }

// ---- allocation --------------------------------------------------------------------------

// Blocks above the small classes: a page-heap extent, or a direct chunk
// above max_pooled. `zero`: the caller wants zeroed memory.
// Extents up to 1 MiB come from the thread's large cache first, without
// the lock (heap_lcache.c); a miss takes the lock and the page heap.
static void *large_alloc(heap_t *h, size_t size, size_t align, bool zero) {
    umf_result_t err = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    heap_span_t *s;
    size_t bytes;
    heap_local_t *tl = NULL;
    if (size <= h->max_pooled && size <= ((size_t)HEAP_LCACHE_MAX_PAGES << HEAP_PAGE_SHIFT)) {
        tl = heap_local_find(h);
        if (!tl)
            tl = heap_local_acquire(h); // NULL: no metadata; the locked path still works
        if (tl && (s = heap_lcache_take(h, tl, ALIGN_UP(size ? size : 1, HEAP_PAGE) >>
                                                    HEAP_PAGE_SHIFT, align))) {
            if (zero)
                memset((void *)s->base, 0, size); // cached extents are dirty
            return (void *)s->base;
        }
    }
    lock_acquire(&h->lock);
    if (size > h->max_pooled) {
        s = heap_direct_alloc(h, size, align, &err);
    } else {
        size_t np;
        if (!align_up_checked(size ? size : 1, HEAP_PAGE, &np) ||
            (np >> HEAP_PAGE_SHIFT) > UINT32_MAX) {
            lock_release(&h->lock);
            return fail(UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
        }
        s = heap_pages_alloc(h, np >> HEAP_PAGE_SHIFT, align, &err);
        if (!s && tl && tl->lcache.n) { // the pages may sit in our cache
            heap_lcache_flush_locked(h, tl);
            s = heap_pages_alloc(h, np >> HEAP_PAGE_SHIFT, align, &err);
        }
        if (s) {
            s->state = 0; // a recycled slab descriptor may carry a slab state
            s->kind = HEAP_SPAN_LARGE;
            (void)heap_pagemap_set(s->base, 1, s);
            h->large_bytes += (size_t)s->npages << HEAP_PAGE_SHIFT;
            h->large_allocs++;
        }
        heap_decay_locked(h, os_now_coarse_ns(), false);
    }
    bool zeroed = s && (s->flags & HEAP_SPAN_ZEROED);
    if (s)
        s->flags &= (uint8_t)~HEAP_SPAN_ZEROED; // handed out: dirty from now on
    lock_release(&h->lock);
    if (!s)
        return fail(err);
    bytes = size;
    if (zero && !zeroed)
        memset((void *)s->base, 0, bytes);
    return (void *)s->base;
}

// A block of class cls from tl's cache, refilled from the slabs when empty.
static void *small_alloc(heap_t *h, heap_local_t *tl, unsigned cls) {
    heap_bin_t *b = &tl->bins[cls];
    void *p;
    if (likely(b->top != b->items)) {
        heap_entry_t *e = --b->top;
        heap_entry_take(e->code);
        p = e->p;
    } else if (!(p = heap_bin_refill(h, tl, cls))) {
        return NULL;
    }
    counter_add(&b->n_alloc, 1);
    return p;
}

// Everything the malloc fast path does not do: the first allocation of a
// thread in this heap (makes or adopts a local), sizes above 1 KiB, an
// empty cache, large and direct blocks, calloc. Kept out of line so that
// heap_malloc needs no stack frame.
__attribute__((noinline)) static void *alloc_slow(heap_t *h, heap_local_t *tl, size_t size,
                                                  bool zero) {
    unsigned cls = heap_class_of(h, size);
    if (cls == HEAP_CLASS_NONE)
        return large_alloc(h, size, 0, zero);
    if (!tl && !(tl = heap_local_acquire(h)))
        return fail(UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    void *p = small_alloc(h, tl, cls);
    if (p && zero)
        memset(p, 0, size);
    return p;
}

// The fast path: the thread's last-used slot (heap_tls_t.last) names the
// local; a matching slot always holds one (slots start with uid 0, which
// no heap has). (Inlined into heap_malloc and op_malloc: heap_malloc is an
// exported, interposable symbol of the test builds, which gcc never inlines.)
static inline __attribute__((always_inline)) void *malloc_fast(heap_t *h, size_t size) {
    heap_tls_t *t = heap_tls_self;
    if (likely(size <= HEAP_SMALL_TABLE_MAX)) {
        heap_local_t *tl;
        if (likely(t->last.uid == h->uid))
            tl = t->last.tl; // never NULL: only found slots are cached
        else if ((tl = heap_local_find_slot(t, h)) == NULL)
            return alloc_slow(h, NULL, size, false);
        heap_bin_t *b = &tl->bins[h->cls_small[size]];
        heap_entry_t *top = b->top;
        if (likely(top != b->items)) {
            b->top = --top;
            counter_add(&b->n_alloc, 1);
            void *p = top->p;
            heap_entry_take(top->code); // the block is live from here
            return p;
        }
        return alloc_slow(h, tl, size, false);
    }
    return alloc_slow(h, heap_local_find(h), size, false);
}

void *heap_malloc(heap_t *h, size_t size) { return malloc_fast(h, size); }

// Small blocks are always cleared (they are reused without a record of
// what they held); large and direct ones only when their pages are not
// known to be zero (fresh from the OS provider, or purged with
// purge_force).
void *heap_calloc(heap_t *h, size_t num, size_t size) {
    size_t total;
    if (!mul_checked(num, size, &total))
        return fail(UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    return alloc_slow(h, heap_local_find(h), total, true);
}

// Alignments up to a page come from a small class whose size is a
// multiple of the alignment (no over-allocation, the pointer is a block
// start); larger ones from an aligned extent (the page heap carves an
// aligned run, or asks the provider for an aligned chunk).
void *heap_aligned_malloc(heap_t *h, size_t size, size_t align) {
    if (align && !is_pow2(align)) // 0: none
        return fail(UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    if (align <= 8)
        return heap_malloc(h, size);
    if (align <= HEAP_PAGE && size <= h->max_small) {
        // Slabs are page aligned: a class whose size is a multiple of the
        // alignment gives aligned blocks.
        unsigned c = heap_class_of(h, size ? size : 1);
        while (c <= h->max_cls && (heap_class_size[c] & (align - 1)))
            c++;
        if (c <= h->max_cls) {
            heap_local_t *tl = heap_local_find(h);
            if (!tl && !(tl = heap_local_acquire(h)))
                return fail(UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
            return small_alloc(h, tl, c);
        }
    }
    return large_alloc(h, size, align, false);
}

// ---- free ------------------------------------------------------------------------------

__attribute__((noinline, cold)) static umf_result_t bad_pointer(const void *p,
                                                                   const char *what) {
    LOG_ERR("%s %p: not a live block of this pool", what, p);
    return UMF_RESULT_ERROR_INVALID_ARGUMENT;
}

// The block index of p in slab s, or UINT32_MAX when p is not a block start.
// Exact for any p (heap_classes.c): an offset inside a block, past the last
// block or below the base (off wraps) gives an index >= cap.
static inline uint32_t slab_index(const heap_span_t *s, const void *p) {
    uint64_t idx = heap_slab_index(s, (uintptr_t)p - s->base);
    if (unlikely(idx >= s->cap))
        return UINT32_MAX;
    return (uint32_t)idx;
}

// Whether block idx of slab s is live: its state byte is 0 (any thread).
static inline bool slab_block_live(const heap_span_t *s, uint32_t idx) {
    return !load_relaxed(&s->freed[idx]);
}

// Frees that are not slab blocks: large extents go back to the page heap
// (merged with free neighbours), direct blocks to the provider. The kind
// and base are re-read under the lock, so a racing double free of a large
// block is caught, not applied twice.
// (The span is looked up again: the fast path need not keep it.)
__attribute__((noinline)) static umf_result_t free_slow(heap_t *h, void *p) {
    if (!p)
        return UMF_RESULT_SUCCESS;
    heap_span_t *s = heap_pagemap_get((uintptr_t)p);
    if (!s || s->heap != h)
        return bad_pointer(p, "free of");
    umf_result_t r = UMF_RESULT_SUCCESS;
    // A large extent of up to 1 MiB goes to the thread's cache, without the
    // lock (heap_lcache.c). Reading kind and state unlocked is safe: only
    // the block's user (this call) changes them while the block is live.
    if (s->kind == HEAP_SPAN_LARGE && s->base == (uintptr_t)p && s->state != HEAP_LARGE_CACHED) {
        heap_local_t *tl = heap_local_find(h);
        if (tl && heap_lcache_put(h, tl, s))
            return UMF_RESULT_SUCCESS;
    }
    lock_acquire(&h->lock);
    if (s->kind == HEAP_SPAN_LARGE && s->base == (uintptr_t)p && s->state == HEAP_LARGE_CACHED) {
        r = bad_pointer(p, "free of"); // in a thread's large cache: freed already
    } else if (s->kind == HEAP_SPAN_LARGE && s->base == (uintptr_t)p) {
        h->large_bytes -= (size_t)s->npages << HEAP_PAGE_SHIFT;
        h->large_frees++;
        (void)heap_pagemap_set(s->base, 1, NULL);
        heap_pages_free(h, s); // registers the merged free span's edges
        heap_decay_locked(h, os_now_coarse_ns(), false);
    } else if (s->kind == HEAP_SPAN_DIRECT && s->base == (uintptr_t)p) {
        r = heap_direct_free(h, s);
    } else {
        r = bad_pointer(p, "free of");
    }
    lock_release(&h->lock);
    return r;
}

// slab_heap == h is the one test that both recognises a slab block and
// checks that it belongs to this heap. Then the block index, exact (an
// interior pointer is refused), and the block's state byte: not 0 = free
// already (refused). The owner check reads the span's bin (its owner's bin
// of the class) and that bin's copy of the owner's thread: equal to this
// thread's identity only for the thread that owns the slab (orphans have
// NULL). The owner's free sets the block's freed byte and caches it.
// (free_fast: free_span after the page map; heap_free_direct reads the
// entry itself.)
static inline __attribute__((always_inline)) umf_result_t free_span(heap_t *h, void *p,
                                                                   heap_span_t *s) {
    if (likely(s != NULL && s->slab_heap == h)) {
        uint64_t idx = heap_slab_index(s, (uintptr_t)p - s->base);
        if (unlikely(idx >= s->cap)) // not a block start (heap_slab_index)
            return bad_pointer(p, "free of");
        heap_bin_t *b = s->bin;
        if (likely(load_relaxed(&b->thread) == heap_thread_id())) {
            _Atomic uint8_t *fp = s->freed + idx;
            if (unlikely(load_relaxed(fp))) // free already, wherever (heap_bin_t)
                return heap_double_free(p, s, "free of");
            heap_entry_t *top = b->top;
            if (unlikely(top == b->end)) // a tail call: no frame here
                return heap_bin_flush_push(load_relaxed(&s->owner), b, p, (uintptr_t)fp);
            store_relaxed(fp, HEAP_FREED);
            *top = (heap_entry_t){p, (uintptr_t)fp};
            b->top = top + 1;
            counter_add(&b->n_free, 1);
            return UMF_RESULT_SUCCESS;
        }
        return heap_slab_remote_free(h, s, (uint32_t)idx);
    }
    return free_slow(h, p);
}

static inline __attribute__((always_inline)) umf_result_t free_fast(heap_t *h, void *p) {
    return free_span(h, p, heap_pagemap_get_free((uintptr_t)p));
}

umf_result_t heap_free(heap_t *h, void *p) { return free_fast(h, p); }

size_t heap_usable_size(heap_t *h, const void *p) {
    heap_span_t *s = p ? heap_pagemap_get((uintptr_t)p) : NULL;
    if (!s || s->heap != h)
        return 0;
    if (s->slab_heap == h) {
        uint32_t idx = slab_index(s, p);
        return idx != UINT32_MAX && slab_block_live(s, idx) ? s->bsize : 0;
    }
    if (((s->kind == HEAP_SPAN_LARGE && s->state != HEAP_LARGE_CACHED) ||
         s->kind == HEAP_SPAN_DIRECT) &&
        s->base == (uintptr_t)p)
        return (size_t)s->npages << HEAP_PAGE_SHIFT;
    return 0;
}

// ---- realloc ------------------------------------------------------------------------------

// Resizes a large block in place (lock taken here). true when it now holds
// `size` bytes.
static bool large_resize(heap_t *h, heap_span_t *s, size_t size) {
    size_t np = ALIGN_UP(size, HEAP_PAGE) >> HEAP_PAGE_SHIFT;
    if (np == s->npages)
        return true;
    bool ok = true;
    lock_acquire(&h->lock);
    size_t before = (size_t)s->npages << HEAP_PAGE_SHIFT;
    if (np < s->npages) {
        heap_pages_shrink(h, s, np);
    } else {
        // The pages right after s may sit in this thread's large cache:
        // give them back first so that s can grow into them.
        heap_local_t *tl = heap_local_find(h);
        if (tl && tl->lcache.n)
            (void)heap_lcache_release_at_locked(h, tl, s->base + before);
        ok = np <= UINT32_MAX && heap_pages_grow(h, s, np);
    }
    h->large_bytes = h->large_bytes - before + ((size_t)s->npages << HEAP_PAGE_SHIFT);
    lock_release(&h->lock);
    return ok;
}

// In place whenever possible: a slab block keeps its block while the new
// size fits the class (shrinking never moves); a large extent grows into a
// free neighbour or gives its tail back; a direct block stays while the new
// size fits its pages. Only a move touches the memory (the copy).
void *heap_realloc(heap_t *h, void *p, size_t size) {
    if (!p)
        return heap_malloc(h, size);
    if (size == 0) {
        if (heap_free(h, p) != UMF_RESULT_SUCCESS)
            heap_set_error(UMF_RESULT_ERROR_INVALID_ARGUMENT);
        return NULL;
    }
    if (unlikely(size > (size_t)PTRDIFF_MAX)) // no object can be that large; also keeps
        return fail(UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY); // the page rounding below exact
    heap_span_t *s = heap_pagemap_get((uintptr_t)p);
    if (!s || s->heap != h) {
        bad_pointer(p, "realloc of");
        return fail(UMF_RESULT_ERROR_INVALID_ARGUMENT);
    }
    size_t old;
    if (s->slab_heap == h) {
        uint32_t idx = slab_index(s, p);
        if (idx == UINT32_MAX) {
            bad_pointer(p, "realloc of");
            return fail(UMF_RESULT_ERROR_INVALID_ARGUMENT);
        }
        if (!slab_block_live(s, idx)) {
            heap_double_free(p, s, "realloc of");
            return fail(UMF_RESULT_ERROR_INVALID_ARGUMENT);
        }
        old = s->bsize;
        if (size <= old)
            return p; // fits (shrinking never moves: no copy, no touch)
    } else if (s->kind == HEAP_SPAN_LARGE && s->base == (uintptr_t)p &&
               s->state != HEAP_LARGE_CACHED) {
        old = (size_t)s->npages << HEAP_PAGE_SHIFT;
        if (size <= h->max_pooled && large_resize(h, s, size))
            return p;
    } else if (s->kind == HEAP_SPAN_DIRECT && s->base == (uintptr_t)p) {
        old = (size_t)s->npages << HEAP_PAGE_SHIFT;
        if (size <= old)
            return p;
    } else {
        bad_pointer(p, "realloc of");
        return fail(UMF_RESULT_ERROR_INVALID_ARGUMENT);
    }
    void *q = heap_malloc(h, size);
    if (!q)
        return NULL; // p stays valid
    memcpy(q, p, old < size ? old : size);
    (void)heap_free(h, p);
    return q;
}

// ---- UMF pool ops over the engine ----------------------------------------------------------

// Each op is a tail call into the engine (one jmp on the way in); malloc
// and free, which umfPoolMalloc/umfPoolFree jump to, hold the fast paths
// themselves (their slow paths stay out of line).
static void *op_malloc(void *pool, size_t size) { return malloc_fast(pool, size); }
static void *op_calloc(void *pool, size_t n, size_t size) { return heap_calloc(pool, n, size); }
static void *op_realloc(void *pool, void *p, size_t size) { return heap_realloc(pool, p, size); }
static void *op_aligned(void *pool, size_t size, size_t align) {
    return heap_aligned_malloc(pool, size, align);
}
static size_t op_usable(void *pool, void *p) { return heap_usable_size(pool, p); }
static umf_result_t op_free(void *pool, void *p) { return free_fast(pool, p); }
umf_result_t heap_pool_last_error(void *pool) {
    (void)pool;
    return heap_last_error();
}

void heap_pool_ops_fill(umf_memory_pool_ops_t *ops) {
    ops->malloc = op_malloc;
    ops->calloc = op_calloc;
    ops->realloc = op_realloc;
    ops->aligned_malloc = op_aligned;
    ops->malloc_usable_size = op_usable;
    ops->free = op_free;
    ops->get_last_allocation_error = heap_pool_last_error;
}

// ---- owner lookup (umfFree / umfPoolByPtr fast path) ----------------------------------------

void heap_set_owner(heap_t *h, void *owner, bool direct) {
    atomic_store_explicit(&h->direct_free, owner && direct, memory_order_relaxed);
    atomic_store_explicit(&h->owner, owner, memory_order_release);
}

// Only slab blocks (slab_heap, line 0 of the span: the line free_span reads
// anyway); large and direct blocks take the caller's general path.
umf_result_t heap_free_direct(void *ptr, umf_result_t (*other)(void *ptr)) {
    heap_span_t *s = heap_pagemap_get_free((uintptr_t)ptr);
    heap_t *h;
    if (likely(s != NULL && (h = s->slab_heap) != NULL &&
               atomic_load_explicit(&h->direct_free, memory_order_relaxed)))
        return free_span(h, ptr, s); // the page-map entry read once
    return other(ptr);               // a tail call: no frame here
}

void *heap_get_owner(const heap_t *h) {
    return atomic_load_explicit(&((heap_t *)h)->owner, memory_order_acquire);
}

void *heap_owner_of(const void *ptr) {
    heap_span_t *s = heap_pagemap_get((uintptr_t)ptr);
    if (!s)
        return NULL;
    return atomic_load_explicit(&s->heap->owner, memory_order_acquire);
}
