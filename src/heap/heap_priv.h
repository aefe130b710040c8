// SPDX-License-Identifier: MIT
// The heap engine's types and the inline pieces of its fast paths, shared by
// the files of src/heap (nothing outside src/heap includes this).
//
// Glossary
//   page     4 KiB, the unit of the page map and of every span, whatever
//            the provider's own page size (which only limits purging).
//   chunk    one provider allocation (heap_chunk_t). Its page-aligned part
//            is carved into spans; a chunk goes back to the provider whole.
//   span     a run of pages of one chunk with a descriptor (heap_span_t):
//            FREE (cached, in the page heap's bins), SLAB (blocks of one size
//            class), LARGE (one block of whole pages) or DIRECT (a chunk
//            that is one block, for sizes above max_pooled_size).
//   page map one process-wide radix table page -> span (heap_pagemap.c).
//            It is the engine's view of the address map: a free finds its
//            slab with two loads, whatever alignment the provider gave.
//   class    a block size; classes 0..44 run 8, 16..128 by 16, then four
//            per power of two up to 64 KiB.
//   local    heap_local_t: one thread's state in one heap: per class a
//            small LIFO cache of free blocks (the tcache), the current slab
//            and lists of its other slabs.
//   owner    the local that allocates from a slab. Only the owner thread
//            touches a slab's local bitmap; other threads free through the
//            slab's remote bitmap (heap_slab.c explains the protocol).
//   lcache   a local's cache of freed large extents (heap_lcache.c):
//            large blocks up to 1 MiB are freed and reused without h->lock.
//   orphan   a local whose thread exited; kept whole in its heap, adopted
//            by the next thread that needs a local there.
//
// Lock order (outer first): registry_lock (heap_tls.c) > heap_t.lock >
// pagemap lock > meta_alloc's locks. Provider calls happen under heap_t.lock.
#ifndef HETMEM_HEAP_HEAP_PRIV_H
#define HETMEM_HEAP_HEAP_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lock.h"
#include "base/util.h"
#include "heap/heap.h"

#define HEAP_PAGE_SHIFT 12
#define HEAP_PAGE ((size_t)1 << HEAP_PAGE_SHIFT)
#define HEAP_NCLASSES 45            // 8 B .. 64 KiB
#define HEAP_CLASS_NONE HEAP_NCLASSES // "not small": its bin never has a slab
#define HEAP_SMALL_TABLE_MAX 1024   // sizes served by the per-heap lookup table
#define HEAP_MAX_SLAB_BLOCKS 65536  // keeps the index math exact (heap_classes.c)
#define HEAP_FREE_BINS 64

// Relaxed atomics named by their order (STYLE.md 5). Counters that only
// their owner thread writes are bumped with a load and a store, which on
// x86-64 is a plain add to memory, yet stays a race-free atomic access for
// the readers that merge statistics.
#define load_relaxed(p) atomic_load_explicit((p), memory_order_relaxed)
#define store_relaxed(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)
#define load_acquire(p) atomic_load_explicit((p), memory_order_acquire)
#define store_release(p, v) atomic_store_explicit((p), (v), memory_order_release)
// On x86-64 (outside TSan, which must see the atomic accesses) the bump is
// one `add` to memory: a single aligned read-modify-write instruction that
// the readers' relaxed loads see whole, and no lock prefix (only the owner
// writes). gcc does not fuse an atomic load and store into it by itself.
static inline void counter_add(_Atomic uint64_t *c, uint64_t n) {
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
    __asm__ volatile("addq %1, %0" : "+m"(*(uint64_t *)c) : "er"(n));
#else
    store_relaxed(c, load_relaxed(c) + n);
#endif
}

/// Takes node n out of the doubly linked list (next/prev) that `head`
/// starts (spans in bins and avail lists, chunks).
#define HEAP_DLIST_REMOVE(head, n)                                                                 \
    do {                                                                                           \
        if ((n)->prev)                                                                             \
            (n)->prev->next = (n)->next;                                                           \
        else                                                                                       \
            (head) = (n)->next;                                                                    \
        if ((n)->next)                                                                             \
            (n)->next->prev = (n)->prev;                                                           \
    } while (0)

typedef enum heap_span_kind_t {
    HEAP_SPAN_FREE = 0,
    HEAP_SPAN_SLAB = 1,
    HEAP_SPAN_LARGE = 2,
    HEAP_SPAN_DIRECT = 3,
    HEAP_SPAN_DEAD = 4, // recycled descriptor: describes nothing
} heap_span_kind_t;

// Where a slab is in its owner's lists (owner thread only).
typedef enum heap_slab_state_t {
    HEAP_SLAB_CUR = 0,   // the bin's current slab
    HEAP_SLAB_AVAIL = 1, // in the bin's avail list: has free blocks
    HEAP_SLAB_FULL = 2,  // in no list: every block is out
    HEAP_SLAB_EMPTY = 3, // in the bin's empty cache: no block is out
} heap_slab_state_t;

// Free-span flags.
enum { HEAP_SPAN_ZEROED = 1, HEAP_SPAN_PURGED = 2 };

struct heap_local_t;
struct heap_chunk_t;
struct heap_bin_t;

/// A span descriptor (metadata memory, never in the managed memory).
/// Three cache lines: what the fast paths read (one line per malloc/free),
/// slow-path bookkeeping, and what remote freeing threads write - so that
/// remote frees do not bounce the owner's line.
/// Lifetime: descriptors are recycled within their heap and freed only by
/// heap_destroy, so a stale page-map slot always points to a descriptor of
/// the same heap (read only under the heap lock, see heap_pages.c).
typedef struct heap_span_t {
    // --- line 0: everything the malloc and free fast paths read ---
    uintptr_t base;            // first byte (page aligned)
    struct heap_t *slab_heap;  // the heap while a SLAB, else NULL (fast check)
    uint8_t kind;              // heap_span_kind_t; protected by heap lock
    uint8_t cls;               // SLAB: class index
    uint8_t state;             // SLAB: heap_slab_state_t (owner only)
    uint8_t flags;             // FREE/LARGE/DIRECT: HEAP_SPAN_ZEROED|PURGED (heap lock)
    uint32_t shift;            // SLAB: index = ror(off * inv, shift), heap_slab_index
    uint64_t cap;              // SLAB: blocks in the slab (64 bits: the free path
                               // compares the index with it in memory)
    uint64_t inv;              //       (heap_classes.c)
    _Atomic uint8_t *freed;    // SLAB: byte per block, 1 = free, in the slab or a bin
                               // (owner writes, anyone reads); see heap_bin_t
    _Atomic(struct heap_local_t *) owner; // SLAB: owning local (fixed while a slab)
    struct heap_bin_t *bin;    // SLAB: &owner->bins[cls] (the owner's free: one load
                               // to the bin, whose `thread` says whether we own it)
    // --- line 1: slow paths, owner / heap-lock bookkeeping ---
    struct heap_t *heap;        // the heap that owns the descriptor (immutable)
    uint64_t *local;            // SLAB: bit set = block free in the slab (owner only)
    struct heap_span_t *next;   // FREE: bin list (heap lock); SLAB: avail/empty list (owner)
    struct heap_span_t *prev;
    uint64_t *bits;             // local, freed, remote in one meta block (kept when recycled)
    uint32_t bits_words;        // words allocated at `bits`
    uint32_t npages;            // pages in the span; protected by heap lock
    uint32_t wi;                // SLAB: words below wi of `local` are all zero (owner)
    uint32_t nwords;            // SLAB: 64-bit words per bitmap
    uint32_t bsize;             // SLAB: block size
    int32_t used;               // SLAB: blocks not free in `local` (owner only)
    // --- line 2: written by threads that free blocks they do not own ---
    _Alignas(64) _Atomic int64_t remote_count;     // remote frees announced, not collected
    _Atomic(struct heap_span_t *) remote_next;      // link in the owner's remote list
    _Atomic int64_t remote_void; // refused racing remote frees that count in remote_count
    uint32_t roff;              // SLAB: the remote bitmap is roff bytes after `freed`
    // (slow paths only, here for room: no remote freer touches a span in
    // these states - FREE, LARGE, DIRECT, or a slab with no block out)
    struct heap_chunk_t *chunk; // the chunk the span lies in (heap lock)
    uint64_t stamp;             // FREE: ns when freed; SLAB in empty cache: ns when emptied
} heap_span_t;
_Static_assert(offsetof(heap_span_t, heap) == 64, "the fast paths read one line of a span");
_Static_assert(offsetof(heap_span_t, used) < 128, "line 1 holds the owner's bookkeeping");
_Static_assert(offsetof(heap_span_t, remote_count) == 128, "remote freers write line 2 only");
/// The block index of offset off in slab s, or >= s->cap when off is not a
/// block start (heap_classes.c proves it): one multiply and one rotate.
static inline uint64_t heap_slab_index(const heap_span_t *s, uint64_t off) {
    uint64_t x = off * s->inv;
    return (x >> s->shift) | (x << ((64 - s->shift) & 63));
}
/// Bytes of a span's pages.
static inline size_t heap_span_bytes(const heap_span_t *s) {
    return (size_t)s->npages << HEAP_PAGE_SHIFT;
}
/// The remote bitmap of a slab (in the same meta block as `freed`).
static inline _Atomic uint64_t *heap_span_remote(const heap_span_t *s) {
    return (_Atomic uint64_t *)((uintptr_t)s->freed + s->roff);
}

/// One provider allocation.
typedef struct heap_chunk_t {
    void *raw;               // what the provider returned (for its free)
    size_t raw_size;         // what was asked (for its free and the limit)
    uintptr_t base;          // first page used (page aligned, inside raw)
    size_t npages;           // pages used
    size_t free_pages;       // pages in FREE spans (== npages: the chunk is idle)
    struct heap_chunk_t *next, *prev; // the heap's chunk list (heap lock)
    bool direct;             // one DIRECT span
    uint32_t nsaved;         // page map entries the chunk covered (nesting)
    struct heap_pm_saved_t *saved; // put back when the chunk is released
} heap_chunk_t;

/// Per size class state of a local: one cache line (the fast paths index
/// bins with a shift and touch only this line, one entry of `items` and
/// one state byte of the block).
/// `items[0 .. top)` are free blocks of slabs this local owns, most recently
/// freed last (malloc pops the hottest); they are taken from the slabs'
/// `local` bitmaps in batches (refill) and given back in batches (flush),
/// so the slabs count them as in use. The cache is a stack: malloc pops
/// `*--top` while top != items, free pushes `*top++` while top != end. All
/// three are NULL until made: the cache reads as empty and full at once,
/// so both fast paths go slow.
///
/// Allocated state and the free checks (issue 11). Each slab keeps a state
/// byte per block, `freed`: 0 = live; HEAP_FREED = free, in the slab or in
/// its owner's cache; HEAP_FREED_REMOTE = freed by another thread, waiting
/// in the remote bitmap for the owner to collect it. The byte alone is the
/// block's state. Every free computes the block's index - exactly, which is
/// also the interior-pointer check (heap_slab_index) - and refuses the
/// block when its byte is not 0, whichever path freed it before (the
/// owner's cache, the slab, a remote free, an exited thread). The owner's
/// free sets the byte and pushes the block; malloc clears the byte of the
/// block it pops: so that malloc need not find the block's slab (a
/// page-map walk), each entry carries its byte's address, and clearing it
/// is one byte store that nothing waits on (no load). Other threads free
/// with a compare-and-swap of the byte 0 -> HEAP_FREED_REMOTE, so that of
/// two racing frees exactly one wins; heap_usable_size and heap_realloc
/// read it. Only a free by the owner racing another thread's free of the
/// same block (a data race in the program) is not refused at the call: the
/// owner's collection sees the byte changed and drops the remote bit
/// (logged), so the block is still free once.
/// Cost: 1 byte of metadata per block (12.5 % of an 8-byte class's slab,
/// 1.6 % from 64 bytes up), 16-byte cache entries, and on the small-object
/// bench (docs/PERFORMANCE.md, "Cost of the free checks") +3 instructions
/// per malloc and +10 per free in the engine (the exact index and the
/// byte's load and store; the span's `bin` and the bin's `thread` copy
/// took back one load and one line of the owner check). Measured and dropped: (a) a
/// bit per block instead of the byte (malloc then loads and rewrites the
/// word: slower); (b) borrowing one word of the slab bitmap as the bin, no
/// stack (the bitmap is then the only state; about 30 % slower: malloc's
/// result waits on the word's load, and blocks are no longer reused
/// hottest first); (c) a byte naming the cache slot the block was pushed
/// to, so that malloc writes nothing (free then loads that slot to tell a
/// stale byte from a cached block: about 30 % slower); (d) the byte for the
/// owner's states plus the remote bit read on every free (one more line
/// per free).
#define HEAP_FREED 1
#define HEAP_FREED_REMOTE 2
typedef struct heap_entry_t {
    void *p;        // the block
    uintptr_t code; // the address of its `freed` byte
} heap_entry_t;
typedef struct heap_bin_t {
    heap_entry_t *top;         // one past the hottest cached block
    heap_entry_t *items;       // LIFO of cached blocks (meta memory, made on first use)
    heap_entry_t *end;         // items + capacity
    _Atomic uint64_t n_alloc;  // blocks handed out (owner writes, stats read)
    _Atomic uint64_t n_free;   // blocks freed by this thread (local or remote)
    heap_span_t *cur;          // slab refills come from (or the sentinel); never NULL
    heap_span_t *avail;        // other owned slabs with free blocks (doubly linked)
    _Atomic(void *) thread;    // the local's `thread`, copied (heap_local_set_thread):
                               // the free path's owner check reads no other line
} heap_bin_t;
_Static_assert(sizeof(heap_bin_t) == 64, "heap_bin_t is one line, indexed by shifting");
/// Blocks cached in b, and its capacity (0 until made).
static inline uint32_t heap_bin_count(const heap_bin_t *b) {
    return (uint32_t)((uintptr_t)b->top - (uintptr_t)b->items) / sizeof(heap_entry_t);
}
static inline uint32_t heap_bin_cap(const heap_bin_t *b) {
    return (uint32_t)((uintptr_t)b->end - (uintptr_t)b->items) / sizeof(heap_entry_t);
}
/// Marks the block of an entry live (the owner's malloc): one byte store,
/// no load - nothing waits on the metadata line.
static inline void heap_entry_take(uintptr_t code) {
    store_relaxed((_Atomic uint8_t *)code, 0);
}

/// Cached empty slabs of one class (owner only).
typedef struct heap_empty_t {
    heap_span_t *list; // singly linked through next
    uint32_t n;
} heap_empty_t;

/// Per-thread cache of freed large extents (heap_lcache.c). Owner only,
/// like the bins; the counters are written by the owner (counter_add) and
/// read by heap_stats under h->lock. A cached span keeps kind LARGE, its
/// page-map slot and its place in h->active; `state` is HEAP_LARGE_CACHED
/// while it sits here (what catches a double free).
#define HEAP_LCACHE_N 32
#define HEAP_LARGE_CACHED 1 // heap_span_t.state of a LARGE span in a cache
typedef struct heap_lcache_t {
    heap_span_t *span[HEAP_LCACHE_N]; // oldest first
    uint64_t stamp[HEAP_LCACHE_N];    // coarse ns when cached
    uint32_t n;                       // entries
    uint64_t next_decay;              // ns: next look at the page heap's decay
    _Atomic uint64_t bytes;           // bytes cached now
    _Atomic uint64_t live_delta;      // bytes handed out - bytes freed here (wraps)
    _Atomic uint64_t allocs, frees;   // large allocs/frees served without the lock
} heap_lcache_t;

/// One thread's state in one heap. Created on a thread's first allocation
/// in the heap, orphaned at thread exit, adopted by a later thread, freed by
/// heap_destroy. Everything but `remote_slabs` and the counters' reads is
/// touched by the owner thread only (or, for an orphan, by whoever holds
/// the heap lock with the orphan taken off the orphan list).
typedef struct heap_local_t {
    heap_bin_t bins[HEAP_NCLASSES + 1]; // +1: HEAP_CLASS_NONE, always the sentinel
    heap_empty_t empty[HEAP_NCLASSES];  // empty slab caches
    struct heap_t *heap;
    _Atomic(void *) thread;             // owner's heap_thread_id(), NULL while orphaned
    struct heap_local_t *next_all;      // heap->locals (heap lock)
    struct heap_local_t *next_orphan;   // heap->orphans (heap lock)
    uint64_t next_decay;                // ns: next look at the empty caches
    heap_lcache_t lcache;               // freed large extents (heap_lcache.c)
    _Alignas(64) _Atomic(heap_span_t *) remote_slabs; // MPSC stack of slabs with remote frees
} heap_local_t;

/// The calling thread's identity as an owner: its thread pointer (%fs:0 on
/// x86-64), unique among live threads and read with one instruction that
/// the free path folds into its compare. A thread pointer is reused by a
/// later thread only after its thread exited, and exit orphans the locals
/// (thread NULL, heap_local_orphan_locked), so no live local names it; a
/// fork child orphans the locals of the parent's other threads, whose
/// stacks, and so thread pointers, the child's new threads may reuse
/// (heap_tls.c, fork_child_orphan).
static inline void *heap_thread_id(void) { return __builtin_thread_pointer(); }

/// Sets tl's owner thread (heap_thread_id(), or NULL while orphaned) in the
/// local and in each bin's copy.
static inline void heap_local_set_thread(heap_local_t *tl, void *t) {
    store_relaxed(&tl->thread, t);
    for (unsigned c = 0; c <= HEAP_NCLASSES; c++)
        store_relaxed(&tl->bins[c].thread, t);
}

/// Per class parameters of one heap (immutable after heap_create).
typedef struct heap_class_t {
    uint32_t bsize, recip, npages, cap, nwords, shift;
    uint64_t inv;
} heap_class_t;

struct heap_limit_t {
    _Atomic size_t used;
    size_t max;
};

/// A block of descriptors carved from one meta_alloc block.
typedef struct heap_desc_block_t {
    struct heap_desc_block_t *next;
} heap_desc_block_t;

struct heap_t {
    // --- read-only after creation: the fast paths read these ---
    uint32_t id;               // index in the registry and in threads' slot arrays
    uint64_t uid;              // unique for the process's life (slot validity)
    size_t max_small;          // largest small size (0: no small classes)
    uint8_t cls_small[HEAP_SMALL_TABLE_MAX + 1]; // size -> class (indexed by the size
                                                 // itself: no rounding on the fast path)
    uint8_t min_cls, max_cls;  // class range served (max_cls < min_cls: none)
    size_t max_pooled;         // above: direct
    heap_class_t cls[HEAP_NCLASSES];
    umf_memory_provider_handle_t provider;
    heap_config_t cfg;
    size_t prov_page;          // provider's minimum page size (purge granularity)
    size_t chunk_bytes;        // cfg.chunk_size rounded to pages
    uint64_t decay_ns;
    bool fresh_zero;           // fresh provider memory reads as zero (OS provider)
    _Atomic(void *) owner;     // heap_set_owner: the tracked UMF pool, or NULL
    _Atomic bool direct_free;  // heap_set_owner: umfFree may free here directly

    // --- everything below: protected by lock ---
    _Alignas(64) lock_t lock; // LOCK_RANK_HEAP
    heap_span_t *bins[HEAP_FREE_BINS]; // free spans by size
    uint64_t bins_nonempty;            // bit b: bins[b] has a span
    heap_chunk_t *chunks;              // every chunk held, direct ones included
    heap_span_t *free_descs;           // recycled descriptors
    heap_desc_block_t *desc_blocks;    // where descriptors come from
    heap_span_t *desc_bump;            // unused descriptors of the newest block
    size_t desc_left;
    heap_local_t *locals;              // all locals (for stats and destroy)
    heap_local_t *orphans;             // locals of exited threads
    bool misaligned_provider;          // the provider ignored an alignment once
    uint64_t next_decay;               // ns
    size_t resident, active, cached, purged, nchunks;
    size_t large_bytes, direct_bytes;  // usable bytes of live large/direct blocks
    uint64_t prov_allocs, prov_frees;
    uint64_t large_allocs, large_frees, direct_allocs, direct_frees;
    size_t slabs_now[HEAP_NCLASSES], slabs_peak[HEAP_NCLASSES];
    _Atomic uint64_t orphan_frees[HEAP_NCLASSES]; // remote frees by threads with no local
};

// ---- classes (heap_classes.c) ----
extern const uint32_t heap_class_size[HEAP_NCLASSES];
/// The class of a size in 1 .. 64 KiB (no per-heap clamp).
static inline unsigned heap_size_class(size_t size) {
    if (size <= 128)
        return size <= 8 ? 0 : (unsigned)((size + 15) >> 4);
    size_t s = size - 1;
    unsigned b = 63u - (unsigned)__builtin_clzll(s);
    return 9 + 4 * (b - 7) + (unsigned)((s >> (b - 2)) & 3);
}
/// Fills h->cls, h->cls_small, min/max_cls from h->cfg. false: bad config.
bool heap_classes_setup(heap_t *h);
/// The class for size in h, or HEAP_CLASS_NONE when it is not small.
static inline unsigned heap_class_of(const heap_t *h, size_t size) {
    if (size <= HEAP_SMALL_TABLE_MAX)
        return h->cls_small[size];
    if (size > h->max_small)
        return HEAP_CLASS_NONE;
    unsigned c = heap_size_class(size);
    return c < h->min_cls ? h->min_cls : c;
}

// ---- page map (heap_pagemap.c) ----
#define HEAP_PM_KEY_BITS 36 // 48-bit user addresses
#define HEAP_PM_L2_BITS 18
#define HEAP_PM_L2_MASK (((uintptr_t)1 << HEAP_PM_L2_BITS) - 1)
#define HEAP_PM_ROOT_ENTRIES ((size_t)1 << (HEAP_PM_KEY_BITS - HEAP_PM_L2_BITS))
// Hidden: the free paths index it without a GOT load (nothing outside
// libhetmem reads it).
extern _Atomic uintptr_t heap_pm_root[HEAP_PM_ROOT_ENTRIES] __attribute__((visibility("hidden")));
/// The span registered for the page holding `a`, or NULL. Lock-free.
static inline heap_span_t *heap_pagemap_get(uintptr_t a) {
    uintptr_t r = a >> (HEAP_PAGE_SHIFT + HEAP_PM_L2_BITS);
    if (unlikely(r >= HEAP_PM_ROOT_ENTRIES))
        return NULL;
    uintptr_t leaf = load_acquire(&heap_pm_root[r]);
    if (unlikely(!leaf))
        return NULL;
    return (heap_span_t *)load_relaxed(
        &((_Atomic uintptr_t *)leaf)[(a >> HEAP_PAGE_SHIFT) & HEAP_PM_L2_MASK]);
}
/// heap_pagemap_get for the free paths, one compare shorter: an address
/// above the 48-bit range aliases a page below it instead of giving NULL.
/// Only for callers that then check the pointer exactly against the span
/// (the block index, or base == p), which refuses any alias.
static inline heap_span_t *heap_pagemap_get_free(uintptr_t a) {
    uintptr_t r = (a >> (HEAP_PAGE_SHIFT + HEAP_PM_L2_BITS)) & (HEAP_PM_ROOT_ENTRIES - 1);
    uintptr_t leaf = load_acquire(&heap_pm_root[r]);
    if (unlikely(!leaf))
        return NULL;
    return (heap_span_t *)load_relaxed(
        &((_Atomic uintptr_t *)leaf)[(a >> HEAP_PAGE_SHIFT) & HEAP_PM_L2_MASK]);
}
/// Points pages [first, first+n) at s (NULL clears). false without memory
/// for a leaf (nothing is changed then) or outside the 48-bit range.
bool heap_pagemap_set(uintptr_t first_page_addr, size_t npages, heap_span_t *s);

/// A page map entry of another heap that a nested chunk covers: a pool
/// over memory of a pool (docs/providers-pools.md, "Nested allocations").
typedef struct heap_pm_saved_t {
    uintptr_t addr;
    heap_span_t *span;
} heap_pm_saved_t;

/// The set entries of [addr, addr + npages pages): their number, the first
/// `cap` of them written to out.
size_t heap_pagemap_collect(uintptr_t addr, size_t npages, heap_pm_saved_t *out, size_t cap);

// ---- threads (heap_tls.c) ----
typedef struct heap_slot_t {
    uint64_t uid;
    heap_local_t *tl;
} heap_slot_t;
/// Per thread: slot[id] is this thread's local in the heap with that id
/// while slot.uid matches the heap's uid. `last` caches the slot found
/// last: a uid names one heap for the life of the process, so last.uid ==
/// h->uid alone says that last.tl is ours in h (one compare instead of the
/// id bound, the indexing and the slot's uid; a thread mostly allocates
/// from one heap at a time). Owner thread only; zero (no heap has uid 0)
/// until the first slot is found, and in `tls_empty`, which is never written.
typedef struct heap_tls_t {
    uint32_t cap;
    uint32_t pad;
    heap_slot_t last;
    heap_slot_t slots[];
} heap_tls_t;
extern __thread heap_tls_t *heap_tls_self __attribute__((tls_model("initial-exec")));
/// The calling thread's local in h through the slot array (filling the
/// `last` cache), or NULL.
static inline heap_local_t *heap_local_find_slot(heap_tls_t *t, const heap_t *h) {
    uint32_t id = h->id;
    if (likely(id < t->cap)) { // cap 0: tls_empty, never written
        heap_slot_t *sl = &t->slots[id];
        if (likely(sl->uid == h->uid)) {
            t->last = *sl;
            return sl->tl;
        }
    }
    return NULL;
}
/// The calling thread's local in h, or NULL (then heap_local_acquire).
static inline heap_local_t *heap_local_find(const heap_t *h) {
    heap_tls_t *t = heap_tls_self;
    if (likely(t->last.uid == h->uid))
        return t->last.tl;
    return heap_local_find_slot(t, h);
}
heap_local_t *heap_local_acquire(heap_t *h);
int heap_registry_add(heap_t *h);
void heap_registry_remove(heap_t *h);

// ---- slabs (heap_slab.c) ----
extern heap_span_t heap_sentinel; // the empty slab every bin starts with
void *heap_small_refill(heap_t *h, heap_local_t *tl, unsigned cls);
umf_result_t heap_slab_remote_free(heap_t *h, heap_span_t *s, uint32_t idx);
/// Drains tl's remote list; `locked`: the caller holds h->lock.
void heap_local_collect(heap_t *h, heap_local_t *tl, bool locked);
/// Releases the empty slabs tl caches (all, or those idle past the decay).
void heap_local_trim(heap_t *h, heap_local_t *tl, bool all, bool locked);
/// Orphan handling at thread exit and in the decay pass (lock held).
void heap_local_orphan_locked(heap_t *h, heap_local_t *tl);
void heap_orphans_trim_locked(heap_t *h);

/// Cache refill and flush (heap_slab.c), behind the fast paths. Refill
/// returns one block, marked live; flush_push caches p (its bit is set).
void *heap_bin_refill(heap_t *h, heap_local_t *tl, unsigned cls);
umf_result_t heap_bin_flush_push(heap_local_t *tl, heap_bin_t *b, void *p, uintptr_t code);
/// Gives every cached block of tl back to its slab (thread exit, purge).
void heap_local_flush(heap_local_t *tl);
/// The refusal of a free (or realloc) of a block that is already free.
umf_result_t heap_double_free(const void *p, const heap_span_t *s, const char *what);

// ---- page heap (heap_pages.c); all with h->lock held ----
heap_span_t *heap_pages_alloc(heap_t *h, size_t npages, size_t align, umf_result_t *err);
void heap_pages_free(heap_t *h, heap_span_t *s);
bool heap_pages_grow(heap_t *h, heap_span_t *s, size_t npages);
void heap_pages_shrink(heap_t *h, heap_span_t *s, size_t npages);
heap_span_t *heap_direct_alloc(heap_t *h, size_t size, size_t align, umf_result_t *err);
umf_result_t heap_direct_free(heap_t *h, heap_span_t *s);
void heap_decay_locked(heap_t *h, uint64_t now, bool force); // heap_decay.c
/// Returns the chunks idle for at least min_idle_ns; the bytes returned.
size_t heap_release_idle_locked(heap_t *h, uint64_t now, uint64_t min_idle_ns);
void heap_purge_all_locked(heap_t *h, bool force);          // heap_decay.c
void heap_pages_release_all(heap_t *h); // heap_destroy
heap_span_t *heap_desc_new(heap_t *h);
void heap_desc_delete(heap_t *h, heap_span_t *s);
// ---- per-thread large cache (heap_lcache.c) ----
#define HEAP_LCACHE_MAX_PAGES 256u                // extents up to 1 MiB are cached
#define HEAP_LCACHE_MAX_BYTES ((size_t)8 << 20)   // per thread and heap
/// A cached extent of at least np pages (at most np + np/4) aligned to
/// align, or NULL. Lock-free (owner only).
heap_span_t *heap_lcache_take(heap_t *h, heap_local_t *tl, size_t np, size_t align);
/// Caches the LARGE span s freed by tl's thread; false when it does not fit
/// (the caller frees it to the page heap). May take h->lock to evict.
bool heap_lcache_put(heap_t *h, heap_local_t *tl, heap_span_t *s);
/// Gives every cached extent of tl back to the page heap (h->lock held).
void heap_lcache_flush_locked(heap_t *h, heap_local_t *tl);
/// Gives back the cached extent that starts at addr, if any (lock held).
bool heap_lcache_release_at_locked(heap_t *h, heap_local_t *tl, uintptr_t addr);
/// Totals over all locals (h->lock held): bytes cached, bytes live, counts.
void heap_lcache_totals_locked(heap_t *h, uint64_t *cached, uint64_t *live_delta,
                               uint64_t *allocs, uint64_t *frees);
/// heap_pages_free with the stamp the span got when its user freed it.
void heap_pages_free_stamped(heap_t *h, heap_span_t *s, uint64_t stamp);

/// Sets the calling thread's last allocation error.
void heap_set_error(umf_result_t r);

#endif // HETMEM_HEAP_HEAP_PRIV_H
