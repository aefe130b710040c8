// SPDX-License-Identifier: MIT
// The address map's object pools and whole-tree walks: nodes and leaves
// carved from never-freed meta blocks, the limbo/free lists and the
// generation bump that recycles limbo (see the concurrency argument at the
// top of tracker.c), tracker_for_each_of_pool, and the debug hooks the unit
// test uses (statistics, the invariant checker, allocation failure).
// Memory is kept at its peak: freed objects are recycled by the map, never
// handed back to meta_alloc (a racing reader may still read them).
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "os/meta.h"
#include "tracker/tracker_priv.h"

#define TRACKER_BLOCK 4096 // meta_alloc's largest class: never unmapped

// Objects of one pool are chained through their next_free field (at
// link_off), which no reader ever loads.
static void **link_of(const tracker_objpool_t *p, void *obj) {
    return (void **)((char *)obj + p->link_off);
}

/// Makes every limbo object reusable: one generation bump, then each pool's
/// limbo list is spliced onto its free list in O(1). The release store of
/// gen comes after every unlink of those objects (earlier, under the lock),
/// and every later store into a reused object is a release store, so a
/// reader that sees a reused object's new contents also sees the new gen.
static void recycle(void) {
    uint64_t g = atomic_load_explicit(&tracker_map.gen, memory_order_relaxed);
    atomic_store_explicit(&tracker_map.gen, g + 1, memory_order_release);
    tracker_objpool_t *pools[] = {&tracker_map.nodes, &tracker_map.leaves};
    for (size_t i = 0; i < ARRAY_SIZE(pools); i++) {
        tracker_objpool_t *p = pools[i];
        if (!p->limbo)
            continue;
        *link_of(p, p->limbo_tail) = p->free;
        p->free = p->limbo;
        p->nfree += p->nlimbo;
        p->limbo = p->limbo_tail = NULL;
        p->nlimbo = 0;
    }
}

static size_t limbo_total(void) { return tracker_map.nodes.nlimbo + tracker_map.leaves.nlimbo; }

static void *pop_free(tracker_objpool_t *p) {
    void *obj = p->free;
    if (obj) {
        p->free = *link_of(p, obj);
        p->nfree--;
        p->live++;
    }
    return obj;
}

// Order of preference: a free object; a limbo object, when enough of them
// wait to make the bump (which costs racing readers a retry) worth it; a
// fresh object carved from the current block; a new block; and when the
// system is out of memory, any limbo object at all.
void *tracker_obj_get(tracker_objpool_t *p) {
#ifdef HETMEM_TEST_HOOKS
    if (tracker_map.fail_after >= 0) { // test hook: fail as if out of memory
        if (tracker_map.fail_after == 0)
            return NULL;
        tracker_map.fail_after--;
    }
#endif
    if (p->free)
        return pop_free(p);
    if (limbo_total() >= TRACKER_LIMBO_BATCH && p->nlimbo > 0) {
        recycle();
        return pop_free(p);
    }
    if (!p->bump || p->bump + p->objsize > p->end) {
        char *blk = meta_alloc(TRACKER_BLOCK); // zeroed, 64-aligned
        if (!blk) {
            if (p->nlimbo == 0)
                return NULL;
            recycle();
            return pop_free(p);
        }
        p->bump = blk; // the rest of the old block (< objsize) is dropped
        p->end = blk + TRACKER_BLOCK;
        p->blocks++;
    }
    void *obj = p->bump;
    p->bump += p->objsize;
    p->live++;
    return obj;
}

void tracker_obj_put_free(tracker_objpool_t *p, void *obj) {
    *link_of(p, obj) = p->free;
    p->free = obj;
    p->nfree++;
    p->live--;
}

void tracker_obj_put_limbo(tracker_objpool_t *p, void *obj) {
    *link_of(p, obj) = p->limbo;
    if (!p->limbo)
        p->limbo_tail = obj;
    p->limbo = obj;
    p->nlimbo++;
    p->live--;
}

/// Depth-first walk of a subtree in ascending key order, under the lock.
/// node_fn sees each node with the key interval [lo, hi] of the parent slot
/// that holds it; leaf_fn sees each leaf.
typedef struct walk_t {
    void (*leaf_fn)(const tracker_leaf_t *l, void *arg);
    void (*node_fn)(const tracker_node_t *n, unsigned shift, uint64_t lo, uint64_t hi, void *arg);
    void *arg;
} walk_t;

static void walk(const walk_t *w, const tracker_node_t *n, unsigned shift, uint64_t lo,
                 uint64_t hi) {
    if (w->node_fn)
        w->node_fn(n, shift, lo, hi, w->arg);
    uint64_t prefix = tracker_word_prefix(atomic_load_explicit(&n->word, memory_order_relaxed));
    for (unsigned d = 0; d < TRACKER_FANOUT; d++) {
        uintptr_t c = atomic_load_explicit(&n->slot[d], memory_order_relaxed);
        if (!c)
            continue;
        if (tracker_slot_is_leaf(c)) {
            if (w->leaf_fn)
                w->leaf_fn(tracker_slot_leaf(c), w->arg);
            continue;
        }
        // The key interval this slot covers: [clo, chi].
        uint64_t clo = prefix | ((uint64_t)d << shift);
        uint64_t chi = clo | (((uint64_t)1 << shift) - 1);
        const tracker_node_t *child = tracker_slot_node(c);
        unsigned cs =
            tracker_word_shift(atomic_load_explicit(&child->word, memory_order_relaxed));
        if (cs >= shift)
            continue; // the checker reports it; a walk never loops
        walk(w, child, cs, clo, chi);
    }
}

typedef struct pool_walk_t {
    void *pool;
    void (*fn)(const tracker_entry_t *e, void *arg);
    void *arg;
    size_t n;
} pool_walk_t;

static void pool_leaf(const tracker_leaf_t *l, void *arg) {
    pool_walk_t *pw = arg;
    if ((void *)atomic_load_explicit(&l->pool, memory_order_relaxed) != pw->pool)
        return;
    tracker_entry_t e = {
        .start = atomic_load_explicit(&l->start, memory_order_relaxed),
        .size = atomic_load_explicit(&l->size, memory_order_relaxed),
        .pool = (void *)atomic_load_explicit(&l->pool, memory_order_relaxed),
        .provider = (void *)atomic_load_explicit(&l->provider, memory_order_relaxed),
        .meta = (void *)atomic_load_explicit(&l->meta, memory_order_relaxed),
    };
    pw->n++;
    if (pw->fn)
        pw->fn(&e, pw->arg);
}

size_t tracker_for_each_of_pool(void *pool, void (*fn)(const tracker_entry_t *e, void *arg),
                                void *arg) {
    pool_walk_t pw = {pool, fn, arg, 0};
    walk_t w = {pool_leaf, NULL, &pw};
    lock_acquire(&tracker_map.lock);
    for (unsigned lv = tracker_map.levels; lv-- > 0;) // innermost first
        walk(&w, &tracker_map.root[lv], TRACKER_ROOT_SHIFT, 0, TRACKER_ADDR_LIMIT - 1);
    lock_release(&tracker_map.lock);
    return pw.n;
}

void tracker_debug_stats(tracker_debug_stats_t *out) {
    lock_acquire(&tracker_map.lock);
    const tracker_objpool_t *n = &tracker_map.nodes, *l = &tracker_map.leaves;
    *out = (tracker_debug_stats_t){
        .nodes_live = n->live,
        .leaves_live = l->live,
        .limbo = n->nlimbo + l->nlimbo,
        .free = n->nfree + l->nfree,
        .bytes = (n->blocks + l->blocks) * TRACKER_BLOCK,
        .generation = atomic_load_explicit(&tracker_map.gen, memory_order_relaxed),
    };
    lock_release(&tracker_map.lock);
}

#ifdef HETMEM_TEST_HOOKS
void tracker_debug_fail_allocs_after(long n) {
    lock_acquire(&tracker_map.lock);
    tracker_map.fail_after = n;
    lock_release(&tracker_map.lock);
}
#endif

/// State of the invariant checker: the first violation, and the last range
/// seen in key order.
typedef struct check_t {
    const char *bad;
    uint64_t bad_key;
    size_t leaves, nodes;
    bool have_prev;
    uint64_t prev_end;
    unsigned level;     // of the tree being walked
    size_t nested_sum;  // the nested counts of the walked level's leaves
    size_t level_count; // leaves of the walked level
    const tracker_node_t *root;
} check_t;

static void check_fail(check_t *ck, const char *why, uint64_t key) {
    if (!ck->bad) {
        ck->bad = why;
        ck->bad_key = key;
    }
}

static void check_leaf(const tracker_leaf_t *l, void *arg) {
    check_t *ck = arg;
    uint64_t s = atomic_load_explicit(&l->start, memory_order_relaxed);
    size_t sz = atomic_load_explicit(&l->size, memory_order_relaxed);
    ck->leaves++;
    ck->level_count++;
    ck->nested_sum += atomic_load_explicit(&l->nested, memory_order_relaxed);
    if (l->level != ck->level)
        check_fail(ck, "leaf in another level's tree", s);
    if (sz == 0 || s >= TRACKER_ADDR_LIMIT || sz > TRACKER_ADDR_LIMIT - s)
        check_fail(ck, "leaf range invalid", s);
    if (ck->have_prev && s < ck->prev_end)
        check_fail(ck, "ranges unsorted or overlapping", s);
    ck->have_prev = true;
    ck->prev_end = s + sz;
}

// One node's own invariants and its children's placement (tracker_priv.h).
static void check_node(const tracker_node_t *n, unsigned shift, uint64_t lo, uint64_t hi,
                       void *arg) {
    check_t *ck = arg;
    uint64_t w = atomic_load_explicit(&n->word, memory_order_relaxed);
    uint64_t prefix = tracker_word_prefix(w);
    uint32_t bm = atomic_load_explicit(&n->bitmap, memory_order_relaxed);
    uint32_t occ = 0;
    for (unsigned d = 0; d < TRACKER_FANOUT; d++) {
        uintptr_t c = atomic_load_explicit(&n->slot[d], memory_order_relaxed);
        if (c)
            occ |= 1u << d;
        if (c && tracker_slot_is_leaf(c)) {
            uint64_t s = atomic_load_explicit(&tracker_slot_leaf(c)->start, memory_order_relaxed);
            if (tracker_prefix_of(s, shift) != prefix || tracker_digit(s, shift) != d)
                check_fail(ck, "leaf in the wrong slot", s);
        }
        if (c && !tracker_slot_is_leaf(c)) {
            uint64_t cw = atomic_load_explicit(&tracker_slot_node(c)->word, memory_order_relaxed);
            if (tracker_word_shift(cw) >= shift)
                check_fail(ck, "child shift not below parent", prefix);
            if (tracker_prefix_of(tracker_word_prefix(cw), shift) != prefix ||
                tracker_digit(tracker_word_prefix(cw), shift) != d)
                check_fail(ck, "child prefix outside its slot", tracker_word_prefix(cw));
        }
    }
    if (shift % 4 || shift > TRACKER_ROOT_SHIFT)
        check_fail(ck, "bad shift", prefix);
    if (prefix != tracker_prefix_of(prefix, shift))
        check_fail(ck, "prefix has bits below its digit", prefix);
    if (prefix < tracker_prefix_of(lo, shift) || prefix > hi)
        check_fail(ck, "node outside its parent slot", prefix);
    if (bm != occ)
        check_fail(ck, "bitmap does not match slots", prefix);
    if (n != ck->root) {
        ck->nodes++;
        if (__builtin_popcount(occ) < 2)
            check_fail(ck, "inner node with fewer than two children", prefix);
    }
}

bool tracker_debug_check(void) {
    check_t ck = {0};
    walk_t w = {check_leaf, check_node, &ck};
    lock_acquire(&tracker_map.lock);
    // Level by level: each tree sorted and without overlaps, its leaves'
    // nested counts summing to the next level's leaves.
    size_t above_nested = 0;
    for (unsigned lv = 0; lv < TRACKER_LEVELS; lv++) {
        const tracker_node_t *root = &tracker_map.root[lv];
        uint64_t rw = atomic_load_explicit(&root->word, memory_order_relaxed);
        if (rw != TRACKER_ROOT_SHIFT / 4)
            check_fail(&ck, "root word changed", rw);
        ck.root = root, ck.level = lv, ck.have_prev = false;
        ck.nested_sum = ck.level_count = 0;
        walk(&w, root, TRACKER_ROOT_SHIFT, 0, TRACKER_ADDR_LIMIT - 1);
        if (lv > 0 && ck.level_count != above_nested)
            check_fail(&ck, "nested counts differ from the next level's ranges", lv);
        if (ck.level_count && lv >= tracker_map.levels)
            check_fail(&ck, "ranges above the levels in use", lv);
        above_nested = ck.nested_sum;
    }
    if (above_nested)
        check_fail(&ck, "nested count in the innermost level", above_nested);
    size_t count = atomic_load_explicit(&tracker_map.count, memory_order_relaxed);
    if (!ck.bad && ck.leaves != count)
        check_fail(&ck, "count differs from the leaves in the tree", ck.leaves);
    if (!ck.bad && ck.leaves != tracker_map.leaves.live)
        check_fail(&ck, "leaf pool live count differs", tracker_map.leaves.live);
    if (!ck.bad && ck.nodes != tracker_map.nodes.live)
        check_fail(&ck, "node pool live count differs", tracker_map.nodes.live);
    lock_release(&tracker_map.lock);
    if (ck.bad)
        LOG_ERR("tracker invariant broken: %s (0x%llx)", ck.bad, (unsigned long long)ck.bad_key);
    return !ck.bad;
}
