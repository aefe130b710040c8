// SPDX-License-Identifier: MIT
// The address map (tracker.h): a path-compressed 16-way radix tree over the
// 56-bit user address space, keyed by range start. This file owns lookup
// (lock-free, validated by a generation counter) and the writers' tree
// surgery (add, remove, resize). Object pools and recycling, the per-pool
// walk and the debug checks live in tracker_nodes.c.
//
// Why this shape. A lookup is "greatest key <= ptr" followed by one range
// check. The tree has at most 14 levels (one per 4-bit digit of a 56-bit
// key), but path compression makes its depth about log16(n) + 1 (5 nodes
// and a leaf for 4096 chunks 2 MiB apart). A lookup prefetches the two other
// lines of each 3-line node while it reads the node's header, so a level
// costs about one miss, not two. Each inner node has >= 2 children, so
// memory is O(n) (fewer nodes than leaves: <= 192 + 64 bytes per range)
// however sparse the keys are; a fixed 7 x 8-bit tree would spend up to
// seven 2 KiB nodes on an isolated range. A 16-bit occupancy bitmap per
// node turns the backtracking of find_le into bit scans. add and remove
// touch one root-to-leaf path (O(key length)) and never rebuild anything.
//
// Concurrency argument (readers take no lock and store nothing shared):
//  1. Inserts only publish. An insert stores one slot (then sets its bitmap
//     bit) with release stores; a new node is fully written before the
//     release store that links it. An edge split puts the new node M above
//     the old child C, which stays unchanged and reachable. So a reader that
//     misses a concurrent insert sees the tree as it was before it.
//  2. Removes only unlink. A remove clears one slot and its bit, and may
//     replace a node left with one child by that child in the grandparent
//     (one release store). Unlinked objects are not modified, not even their
//     slots: a reader still walking them sees a consistent older tree, and a
//     key that stays registered stays reachable from every object that could
//     reach it before (no bit of a remaining child is ever cleared). So a
//     range that stays registered during a lookup is always found (ranges
//     never overlap: its start is the greatest key <= ptr all along), and a
//     lookup returns nothing or a leaf whose fields are one registered
//     range's (tracker_resize changes only size, with one atomic store).
//  3. Reuse is what needs validation. Unlinked objects wait in limbo and are
//     reused only after a writer increments tracker_map.gen (a release store
//     sequenced after their unlinks; every store into a reused object comes
//     after it in the writers' lock order). Every writer store is a release
//     store and every reader load an acquire load, so a reader that loads
//     any value written after a bump B happens-after B, and its final load
//     of gen sees B or later: it starts over. A reader whose first gen load
//     (acquire) already saw B happens-after every unlink made before B, so
//     by coherence it cannot load a stale pointer to an object recycled at
//     B. Either way a recycled object's old and new contents never mix in a
//     result. A bump happens only when a writer needs an object, its free
//     list is empty and limbo holds TRACKER_LIMBO_BATCH objects (or
//     meta_alloc fails): at most once per 64 unlinks. Ordinary inserts,
//     removes and resizes never make a reader retry, and a reader never
//     waits for a writer (there is no odd "write in progress" state).
//  4. Stale walks are memory-safe: objects come from meta blocks that are
//     never unmapped and never change kind (node or leaf, told apart by the
//     slot tag); a child's shift must be below its parent's (checked, so a
//     torn walk ends within 14 levels); whatever a torn walk returns is
//     discarded by step 3's check.
// On x86-64 the acquire loads and release stores are plain moves; the
// validation costs one load of a line that changes at most once per 64
// removals.
//
// Measured (RelWithDebInfo, gcc 12, 2-core AMD EPYC VM, quiet machine;
// test_tracker's tt_lookup_cost lines), tracker_find at random interior
// pointers of chunk-like ranges 2 MiB apart: 15 ns with 256 ranges, 17 ns
// with 1024, 22 ns with 4096, 27 ns with 16384; with 101k small ranges side
// by side (12 MiB of nodes and leaves, beyond L2) 55-80 ns. tracker_add
// 45-75 ns and tracker_remove about 18 ns (warm pools, no contention).
#include "tracker/tracker.h"

#include <errno.h>
#include <string.h>

#include "base/assert.h"
#include "base/log.h"
#include "tracker/tracker_priv.h"

tracker_map_t tracker_map = {
    .root = {[0 ... TRACKER_LEVELS - 1] = {.word = TRACKER_ROOT_SHIFT / 4}},
    .levels = 1,
    .lock = LOCK_INITIALIZER(LOCK_RANK_TRACKER, "tracker map"),
    .nodes = {.objsize = ALIGN_UP(sizeof(tracker_node_t), CACHE_LINE),
              .link_off = offsetof(tracker_node_t, next_free)},
    .leaves = {.objsize = ALIGN_UP(sizeof(tracker_leaf_t), CACHE_LINE),
               .link_off = offsetof(tracker_leaf_t, next_free)},
    .fail_after = -1,
};

__attribute__((constructor)) static void tracker_lock_register(void) {
    lock_register(&tracker_map.lock);
}

/// One level of a find_le walk: the node and the digits below `below` that
/// are still candidates for the greatest key <= the search key.
typedef struct walk_frame_t {
    const tracker_node_t *node;
    unsigned shift;
    unsigned below; // digits 0 .. below-1 are left to scan (16 = all)
} walk_frame_t;

/// Greatest key <= key, or NULL. Lock-free: every load is an acquire load,
/// and it stores nothing shared. Sets *torn when the walk met a shape that
/// cannot happen in a consistent tree (only a racing reuse can cause it);
/// the caller then starts over.
static const tracker_leaf_t *find_le(const tracker_node_t *root, uintptr_t key, bool *torn) {
    walk_frame_t stack[TRACKER_MAX_DEPTH];
    unsigned depth = 0;
    const tracker_node_t *n = root;
    unsigned shift = TRACKER_ROOT_SHIFT;

    // Descend along key's digits while the prefixes match.
    for (;;) {
        unsigned d = tracker_digit(key, shift);
        stack[depth++] = (walk_frame_t){n, shift, d};
        uintptr_t c = atomic_load_explicit(&n->slot[d], memory_order_acquire);
        if (c == 0)
            break; // nothing at d: the answer is below d (or higher up)
        if (tracker_slot_is_leaf(c)) {
            const tracker_leaf_t *l = tracker_slot_leaf(c);
            if (atomic_load_explicit(&l->start, memory_order_acquire) <= key)
                return l;
            break;
        }
        const tracker_node_t *child = tracker_slot_node(c);
        // The slot we need next is in one of these lines; fetch them while
        // the header's line arrives (see "Why this shape").
        __builtin_prefetch((const char *)child + CACHE_LINE);
        __builtin_prefetch((const char *)child + 2 * CACHE_LINE);
        uint64_t w = atomic_load_explicit(&child->word, memory_order_acquire);
        unsigned cshift = tracker_word_shift(w);
        if (unlikely(cshift >= shift)) {
            *torn = true;
            return NULL;
        }
        uint64_t kp = tracker_prefix_of(key, cshift);
        uint64_t cp = tracker_word_prefix(w);
        if (kp == cp) {
            n = child;
            shift = cshift;
            continue;
        }
        if (kp > cp) { // the whole subtree is below key: take its maximum
            stack[depth++] = (walk_frame_t){child, cshift, TRACKER_FANOUT};
            break;
        }
        break; // the whole subtree is above key
    }

    // Backtrack: the highest occupied digit below `below` on the deepest
    // frame, then the maximum of that subtree (frames with below = 16).
    while (depth > 0) {
        walk_frame_t *f = &stack[depth - 1];
        uint32_t bm = atomic_load_explicit(&f->node->bitmap, memory_order_acquire);
        bm &= ((uint32_t)1 << f->below) - 1;
        uintptr_t c = 0;
        unsigned i = 0;
        while (bm) {
            i = 31 - (unsigned)__builtin_clz(bm);
            c = atomic_load_explicit(&f->node->slot[i], memory_order_acquire);
            if (c)
                break;
            bm &= ~((uint32_t)1 << i); // a remove is clearing it
        }
        if (!c) {
            depth--;
            continue;
        }
        f->below = i;
        if (tracker_slot_is_leaf(c))
            return tracker_slot_leaf(c);
        const tracker_node_t *child = tracker_slot_node(c);
        unsigned cshift =
            tracker_word_shift(atomic_load_explicit(&child->word, memory_order_acquire));
        if (unlikely(cshift >= f->shift)) {
            *torn = true;
            return NULL;
        }
        stack[depth++] = (walk_frame_t){child, cshift, TRACKER_FANOUT};
    }
    return NULL;
}

static void leaf_copy(const tracker_leaf_t *l, tracker_entry_t *e) {
    e->start = atomic_load_explicit(&l->start, memory_order_acquire);
    e->size = atomic_load_explicit(&l->size, memory_order_acquire);
    e->pool = (void *)atomic_load_explicit(&l->pool, memory_order_acquire);
    e->provider = (void *)atomic_load_explicit(&l->provider, memory_order_acquire);
    e->meta = (void *)atomic_load_explicit(&l->meta, memory_order_acquire);
}

/// The innermost range containing key: level 0, then the next level while
/// the range found holds nested ones (tracker.h, "Nesting").
static bool find_innermost(uintptr_t key, tracker_entry_t *e, bool *torn) {
    bool found = false;
    for (unsigned lv = 0; lv < TRACKER_LEVELS; lv++) {
        const tracker_leaf_t *l = find_le(&tracker_map.root[lv], key, torn);
        if (!l)
            break;
        tracker_entry_t x;
        leaf_copy(l, &x);
        if (key - x.start >= x.size) // also when start > key
            break;
        *e = x;
        found = true;
        if (!atomic_load_explicit(&l->nested, memory_order_acquire))
            break;
    }
    return found;
}

bool tracker_find(const void *ptr, tracker_entry_t *out) {
    uintptr_t key = (uintptr_t)ptr;
    if (unlikely(key >= TRACKER_ADDR_LIMIT))
        return false; // no range reaches past 2^56
    for (;;) {
        uint64_t g = atomic_load_explicit(&tracker_map.gen, memory_order_acquire);
        bool torn = false;
        tracker_entry_t e;
        bool found = find_innermost(key, &e, &torn);
        // Ordered after the acquire loads above: see the argument at the top.
        if (likely(atomic_load_explicit(&tracker_map.gen, memory_order_relaxed) == g && !torn)) {
            if (found)
                *out = e;
            return found;
        }
    }
}

static void lock_map(void) { lock_acquire(&tracker_map.lock); }
static void unlock_map(void) { lock_release(&tracker_map.lock); }

/// Valid range [start, start + size) for the map: size > 0, no wrap, below 2^56.
static bool range_ok(uintptr_t start, size_t size) {
    return size > 0 && start < TRACKER_ADDR_LIMIT && size <= TRACKER_ADDR_LIMIT - start;
}

/// Under the lock: the leaf whose range overlaps [start, start + size), or
/// NULL. The greatest key <= the last byte is the only candidate: a range
/// starting at or after start overlaps, and one starting before start
/// overlaps iff it ends past start (ranges never overlap each other).
static tracker_leaf_t *overlapping(unsigned lv, uintptr_t start, size_t size) {
    bool torn = false;
    tracker_leaf_t *l = (tracker_leaf_t *)find_le(&tracker_map.root[lv], start + size - 1, &torn);
    if (!l)
        return NULL;
    uintptr_t ls = atomic_load_explicit(&l->start, memory_order_relaxed);
    size_t lsz = atomic_load_explicit(&l->size, memory_order_relaxed);
    return ls >= start || ls + lsz > start ? l : NULL;
}

static void leaf_init(tracker_leaf_t *l, const tracker_entry_t *e, unsigned lv) {
    l->level = lv;
    atomic_store_explicit(&l->nested, 0, memory_order_release);
    atomic_store_explicit(&l->start, e->start, memory_order_release);
    atomic_store_explicit(&l->size, e->size, memory_order_release);
    atomic_store_explicit(&l->pool, (uintptr_t)e->pool, memory_order_release);
    atomic_store_explicit(&l->provider, (uintptr_t)e->provider, memory_order_release);
    atomic_store_explicit(&l->meta, (uintptr_t)e->meta, memory_order_release);
}

/// Writes a new inner node at `shift` holding two children (digits differ).
static void node_init(tracker_node_t *m, uint64_t key, unsigned shift, unsigned da, uintptr_t a,
                      unsigned db, uintptr_t b) {
    atomic_store_explicit(&m->word, tracker_prefix_of(key, shift) | shift / 4,
                          memory_order_release);
    for (unsigned i = 0; i < TRACKER_FANOUT; i++)
        atomic_store_explicit(&m->slot[i], i == da ? a : i == db ? b : 0, memory_order_release);
    atomic_store_explicit(&m->bitmap, (1u << da) | (1u << db), memory_order_release);
}

/// The shift of the highest digit where a and b differ (a != b).
static unsigned split_shift(uint64_t a, uint64_t b) {
    return (unsigned)(63 - __builtin_clzll(a ^ b)) & ~3u;
}

/// Under the lock, with no overlap: links a new leaf for e. Finds the slot
/// first, then allocates (at most one leaf and one node), then publishes
/// with one release store, so ENOMEM leaves the tree untouched.
static int insert_locked(unsigned lv, const tracker_entry_t *e) {
    uint64_t key = e->start;
    tracker_node_t *n = &tracker_map.root[lv];
    unsigned shift = TRACKER_ROOT_SHIFT;
    unsigned d;
    uintptr_t c;
    for (;;) {
        d = tracker_digit(key, shift);
        c = atomic_load_explicit(&n->slot[d], memory_order_relaxed);
        if (c == 0 || tracker_slot_is_leaf(c))
            break;
        tracker_node_t *child = tracker_slot_node(c);
        uint64_t w = atomic_load_explicit(&child->word, memory_order_relaxed);
        if (tracker_prefix_of(key, tracker_word_shift(w)) != tracker_word_prefix(w))
            break; // key leaves the compressed path above child: split here
        n = child;
        shift = tracker_word_shift(w);
    }

    tracker_leaf_t *l = tracker_obj_get(&tracker_map.leaves);
    if (!l)
        return ENOMEM;
    tracker_node_t *m = NULL;
    if (c != 0) {
        m = tracker_obj_get(&tracker_map.nodes);
        if (!m) {
            tracker_obj_put_free(&tracker_map.leaves, l);
            return ENOMEM;
        }
    }
    leaf_init(l, e, lv);
    uintptr_t lslot = (uintptr_t)l | TRACKER_LEAF_TAG;
    if (c == 0) {
        atomic_store_explicit(&n->slot[d], lslot, memory_order_release);
        uint32_t bm = atomic_load_explicit(&n->bitmap, memory_order_relaxed);
        atomic_store_explicit(&n->bitmap, bm | (1u << d), memory_order_release);
        return 0;
    }
    // Split: m goes between n and the old child, which keeps its place
    // (and its bitmap bit in n) below m.
    uint64_t other = tracker_slot_is_leaf(c)
                         ? atomic_load_explicit(&tracker_slot_leaf(c)->start, memory_order_relaxed)
                         : tracker_word_prefix(atomic_load_explicit(&tracker_slot_node(c)->word,
                                                                    memory_order_relaxed));
    unsigned ms = split_shift(key, other);
    node_init(m, key, ms, tracker_digit(key, ms), lslot, tracker_digit(other, ms), c);
    atomic_store_explicit(&n->slot[d], (uintptr_t)m, memory_order_release);
    return 0;
}

int tracker_add(const tracker_entry_t *e) {
    if (!e || !range_ok(e->start, e->size)) {
        LOG_ERR("invalid range %p + %zu", e ? (void *)e->start : NULL, e ? e->size : 0);
        return EINVAL;
    }
    lock_map();
    // The first level where nothing overlaps the range; at every level
    // above it, the range must lie inside the one range it overlaps.
    int ret = EEXIST;
    tracker_leaf_t *parent = NULL;
    unsigned lv = 0;
    for (; lv < TRACKER_LEVELS; lv++) {
        tracker_leaf_t *o = overlapping(lv, e->start, e->size);
        if (!o)
            break;
        uintptr_t os = atomic_load_explicit(&o->start, memory_order_relaxed);
        size_t osz = atomic_load_explicit(&o->size, memory_order_relaxed);
        if (e->start < os || e->size > osz - (e->start - os))
            break; // overlaps without nesting
        parent = o;
    }
    if (lv == TRACKER_LEVELS)
        LOG_ERR("range %p + %zu: nested deeper than %d levels", (void *)e->start, e->size,
                TRACKER_LEVELS);
    else if (!overlapping(lv, e->start, e->size))
        ret = insert_locked(lv, e);
    if (ret == 0) {
        HM_ASSERT(overlapping(lv, e->start, e->size) != NULL);
        if (parent)
            atomic_store_explicit(&parent->nested,
                                  atomic_load_explicit(&parent->nested, memory_order_relaxed) + 1,
                                  memory_order_release);
        if (lv >= tracker_map.levels)
            __atomic_store_n(&tracker_map.levels, lv + 1, __ATOMIC_RELEASE); // tracker_nested
        atomic_store_explicit(&tracker_map.count,
                              atomic_load_explicit(&tracker_map.count, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    }
    unlock_map();
    return ret;
}

/// Under the lock: the leaf with exactly this key, with its parent, the
/// digit in the parent, and the grandparent with its digit (NULL when the
/// parent is the root).
typedef struct leaf_path_t {
    tracker_leaf_t *leaf;
    tracker_node_t *parent, *grand;
    unsigned pd, gd;
} leaf_path_t;

static bool find_exact(unsigned lv, uint64_t key, leaf_path_t *p) {
    if (key >= TRACKER_ADDR_LIMIT)
        return false;
    tracker_node_t *n = &tracker_map.root[lv], *g = NULL;
    unsigned shift = TRACKER_ROOT_SHIFT, gd = 0;
    for (;;) {
        unsigned d = tracker_digit(key, shift);
        uintptr_t c = atomic_load_explicit(&n->slot[d], memory_order_relaxed);
        if (c == 0)
            return false;
        if (tracker_slot_is_leaf(c)) {
            tracker_leaf_t *l = tracker_slot_leaf(c);
            if (atomic_load_explicit(&l->start, memory_order_relaxed) != key)
                return false;
            *p = (leaf_path_t){l, n, g, d, gd};
            return true;
        }
        tracker_node_t *child = tracker_slot_node(c);
        uint64_t w = atomic_load_explicit(&child->word, memory_order_relaxed);
        if (tracker_prefix_of(key, tracker_word_shift(w)) != tracker_word_prefix(w))
            return false;
        g = n;
        gd = d;
        n = child;
        shift = tracker_word_shift(w);
    }
}

/// Under the lock: the innermost range that starts at `start` and belongs
/// to `owner` (any owner when NULL), with its path and level.
static bool find_owned(uintptr_t start, const void *owner, leaf_path_t *p, unsigned *lv) {
    for (unsigned i = tracker_map.levels; i-- > 0;) {
        if (find_exact(i, start, p) &&
            (!owner || (void *)atomic_load_explicit(&p->leaf->pool, memory_order_relaxed) == owner)) {
            *lv = i;
            return true;
        }
    }
    return false;
}

/// Under the lock: the range of level lv - 1 that holds a range of level
/// lv starting at start.
static tracker_leaf_t *parent_of(unsigned lv, uintptr_t start) {
    return lv ? overlapping(lv - 1, start, 1) : NULL;
}

int tracker_remove(uintptr_t start, tracker_entry_t *removed) {
    return tracker_remove_of(start, NULL, removed);
}

bool tracker_get_of(uintptr_t start, const void *owner, tracker_entry_t *out) {
    lock_map();
    leaf_path_t p;
    unsigned lv;
    bool found = find_owned(start, owner, &p, &lv);
    if (found)
        leaf_copy(p.leaf, out);
    unlock_map();
    return found;
}

int tracker_remove_of(uintptr_t start, const void *owner, tracker_entry_t *removed) {
    lock_map();
    leaf_path_t p;
    unsigned lv;
    if (!find_owned(start, owner, &p, &lv)) {
        unlock_map();
        return ENOENT;
    }
    if (atomic_load_explicit(&p.leaf->nested, memory_order_relaxed)) {
        unlock_map();
        LOG_ERR("range %p: %u nested ranges still inside it", (void *)start,
                atomic_load_explicit(&p.leaf->nested, memory_order_relaxed));
        return EBUSY;
    }
    tracker_leaf_t *parent = parent_of(lv, start);
    HM_ASSERT(lv == 0 || parent != NULL);
    if (parent)
        atomic_store_explicit(&parent->nested,
                              atomic_load_explicit(&parent->nested, memory_order_relaxed) - 1,
                              memory_order_release);
    if (removed)
        leaf_copy(p.leaf, removed);
    tracker_node_t *n = p.parent;
    HM_ASSERT(atomic_load_explicit(&tracker_map.count, memory_order_relaxed) > 0);
    HM_ASSERT(atomic_load_explicit(&n->bitmap, memory_order_relaxed) & (1u << p.pd));
    atomic_store_explicit(&n->slot[p.pd], 0, memory_order_release);
    uint32_t bm = atomic_load_explicit(&n->bitmap, memory_order_relaxed) & ~(1u << p.pd);
    atomic_store_explicit(&n->bitmap, bm, memory_order_release);
    tracker_obj_put_limbo(&tracker_map.leaves, p.leaf);
    if (p.grand && is_pow2(bm)) {
        // n is left with one child: hoist it into the grandparent's slot
        // (the bit there stays set). n keeps its slot and bit, so a reader
        // still inside n reaches the same subtree.
        uintptr_t only = atomic_load_explicit(&n->slot[__builtin_ctz(bm)], memory_order_relaxed);
        atomic_store_explicit(&p.grand->slot[p.gd], only, memory_order_release);
        tracker_obj_put_limbo(&tracker_map.nodes, n);
    }
    atomic_store_explicit(&tracker_map.count,
                          atomic_load_explicit(&tracker_map.count, memory_order_relaxed) - 1,
                          memory_order_relaxed);
    unlock_map();
    return 0;
}

int tracker_resize(uintptr_t start, size_t new_size) {
    return tracker_resize_of(start, NULL, new_size);
}

/// Under the lock: whether the range at level lv may become [start, start
/// + size): no other range of its level in it, inside its parent, and no
/// nested range left outside it.
static bool resize_ok(const leaf_path_t *p, unsigned lv, uintptr_t start, size_t size) {
    // The only range that can start inside the new extent is this one.
    if (overlapping(lv, start, size) != p->leaf)
        return false;
    tracker_leaf_t *parent = parent_of(lv, start);
    if (parent) {
        uintptr_t ps = atomic_load_explicit(&parent->start, memory_order_relaxed);
        if (size > atomic_load_explicit(&parent->size, memory_order_relaxed) - (start - ps))
            return false;
    }
    size_t old = atomic_load_explicit(&p->leaf->size, memory_order_relaxed);
    return size >= old || lv + 1 >= TRACKER_LEVELS ||
           !atomic_load_explicit(&p->leaf->nested, memory_order_relaxed) ||
           !overlapping(lv + 1, start + size, old - size);
}

int tracker_resize_of(uintptr_t start, const void *owner, size_t new_size) {
    if (!range_ok(start, new_size))
        return EINVAL;
    lock_map();
    leaf_path_t p;
    unsigned lv;
    int ret = ENOENT;
    if (find_owned(start, owner, &p, &lv)) {
        ret = EEXIST;
        if (resize_ok(&p, lv, start, new_size)) {
            atomic_store_explicit(&p.leaf->size, new_size, memory_order_release);
            ret = 0;
        }
    }
    unlock_map();
    return ret;
}

bool tracker_nested(void) { return __atomic_load_n(&tracker_map.levels, __ATOMIC_ACQUIRE) > 1; }

size_t tracker_count(void) {
    return atomic_load_explicit(&tracker_map.count, memory_order_relaxed);
}
