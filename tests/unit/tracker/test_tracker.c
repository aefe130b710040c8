// SPDX-License-Identifier: MIT
// The address map, single-threaded: lookups at and around range edges,
// foreign pointers, adjacency, overlap and argument errors, remove, resize,
// per-pool walks, allocation failure, tree shapes, and 100k random ranges
// against a sorted-array reference. The concurrent tests and the cost
// measurement are in test_tracker_mt.c. Addresses are synthetic: the map
// never touches the memory it describes.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "test_tracker.h"
#include "tracker/tracker_priv.h"
#include "test_seed.h"

#define BASE ((uintptr_t)0x200000000000ull)
#define LIMIT ((uintptr_t)1 << 56)

static void assert_entry(const tracker_entry_t *e, uintptr_t start, size_t size) {
    assert_int_equal(e->start, start);
    assert_int_equal(e->size, size);
    assert_ptr_equal(e->pool, tt_pool_of(start));
    assert_ptr_equal(e->provider, tt_prov_of(start));
    assert_ptr_equal(e->meta, tt_meta_of(start));
}

static void add_ok(uintptr_t start, size_t size) {
    tracker_entry_t e = tt_entry(start, size);
    assert_int_equal(tracker_add(&e), 0);
}

static void expect_in(uintptr_t p, uintptr_t start, size_t size) {
    tracker_entry_t e;
    memset(&e, 0xcc, sizeof(e));
    assert_true(tracker_find((const void *)p, &e));
    assert_entry(&e, start, size);
}

static void expect_none(uintptr_t p) {
    tracker_entry_t e = tt_entry(1, 1);
    assert_false(tracker_find((const void *)p, &e));
    assert_int_equal(e.start, 1); // untouched on a miss
}

// Every test leaves the map empty and consistent.
static int teardown_empty(void **state) {
    (void)state;
    if (tracker_count() != 0 || !tracker_debug_check())
        return -1;
    tracker_debug_stats_t st;
    tracker_debug_stats(&st);
    return st.nodes_live == 0 && st.leaves_live == 0 ? 0 : -1;
}

static void empty_map(void **state) {
    (void)state;
    assert_int_equal(tracker_count(), 0);
    expect_none(0);
    expect_none(BASE);
    expect_none(UINTPTR_MAX);
    assert_true(tracker_debug_check());
}

static void lookup_edges(void **state) {
    (void)state;
    add_ok(BASE + 0x1000, 0x1000);
    expect_in(BASE + 0x1000, BASE + 0x1000, 0x1000); // first byte
    expect_in(BASE + 0x1001, BASE + 0x1000, 0x1000); // inside
    expect_in(BASE + 0x17ff, BASE + 0x1000, 0x1000);
    expect_in(BASE + 0x1fff, BASE + 0x1000, 0x1000); // last byte
    expect_none(BASE + 0x2000);                      // one past the end
    expect_none(BASE + 0xfff);                       // just before
    expect_none(BASE);
    expect_none(0);
    int local = 0;
    expect_none((uintptr_t)&local); // a stack address
    expect_none((uintptr_t)&lookup_edges);
    expect_none(LIMIT - 1);
    expect_none(LIMIT);
    expect_none(UINTPTR_MAX);
    assert_int_equal(tracker_count(), 1);
    tracker_entry_t r;
    assert_int_equal(tracker_remove(BASE + 0x1000, &r), 0);
    assert_entry(&r, BASE + 0x1000, 0x1000);
    expect_none(BASE + 0x1000);
}

static void adjacent_and_between(void **state) {
    (void)state;
    add_ok(BASE + 0x100, 0x100);
    add_ok(BASE + 0x200, 0x200);  // touches the first
    add_ok(BASE + 0x1000, 0x10);  // after a gap
    add_ok(BASE + 0x10000, 0x10); // another digit higher up
    expect_in(BASE + 0x1ff, BASE + 0x100, 0x100);
    expect_in(BASE + 0x200, BASE + 0x200, 0x200);
    expect_in(BASE + 0x3ff, BASE + 0x200, 0x200);
    expect_none(BASE + 0x400); // between
    expect_none(BASE + 0xfff);
    expect_in(BASE + 0x100f, BASE + 0x1000, 0x10);
    expect_none(BASE + 0x1010);
    expect_none(BASE + 0xffff);
    expect_in(BASE + 0x10000, BASE + 0x10000, 0x10);
    expect_none(BASE + 0x10010);
    expect_none(BASE + 0xff); // before the first range
    assert_true(tracker_debug_check());
    uintptr_t starts[] = {BASE + 0x200, BASE + 0x100, BASE + 0x10000, BASE + 0x1000};
    for (size_t i = 0; i < ARRAY_SIZE(starts); i++)
        assert_int_equal(tracker_remove(starts[i], NULL), 0);
}

// Overlapping without lying inside: refused (a range inside one nests:
// nesting_levels below).
static void overlap_is_eexist(void **state) {
    (void)state;
    add_ok(BASE + 0x1000, 0x1000);
    struct {
        uintptr_t s;
        size_t n;
    } bad[] = {
        {BASE + 0x0800, 0x1000}, {BASE + 0x0fff, 2}, {BASE + 0x1800, 0x1000},
        {BASE, 0x10000},         {BASE + 0xfff, 0x1002},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        tracker_entry_t e = tt_entry(bad[i].s, bad[i].n);
        assert_int_equal(tracker_add(&e), EEXIST);
    }
    assert_int_equal(tracker_count(), 1);
    expect_in(BASE + 0x1800, BASE + 0x1000, 0x1000);
    add_ok(BASE + 0x0fff, 1);  // touching on the left
    add_ok(BASE + 0x2000, 1);  // touching on the right
    tracker_entry_t e = tt_entry(BASE + 0x2000, 1);
    assert_int_equal(tracker_add(&e), 0); // the same range twice: nested
    assert_int_equal(tracker_count(), 4);
    assert_true(tracker_debug_check());
    assert_int_equal(tracker_remove(BASE + 0x2000, NULL), 0); // the inner one
    assert_int_equal(tracker_count(), 3);
    assert_int_equal(tracker_remove(BASE + 0x0fff, NULL), 0);
    assert_int_equal(tracker_remove(BASE + 0x1000, NULL), 0);
    assert_int_equal(tracker_remove(BASE + 0x2000, NULL), 0);
}

static tracker_entry_t owned(uintptr_t start, size_t size, uintptr_t pool) {
    tracker_entry_t e = tt_entry(start, size);
    e.pool = (void *)pool;
    return e;
}

static void expect_pool(uintptr_t p, uintptr_t start, size_t size, uintptr_t pool) {
    tracker_entry_t e;
    assert_true(tracker_find((const void *)p, &e));
    assert_int_equal(e.start, start);
    assert_int_equal(e.size, size);
    assert_int_equal((uintptr_t)e.pool, pool);
}

// Ranges inside ranges (UMF's nested allocations): the innermost answers,
// up to 8 levels; removal goes innermost first and by owner.
static void nesting_levels(void **state) {
    (void)state;
    tracker_entry_t e = owned(BASE, 0x10000, 0xa0);
    assert_int_equal(tracker_add(&e), 0);
    e = owned(BASE + 0x1000, 0x1000, 0xa1);
    assert_int_equal(tracker_add(&e), 0);
    e = owned(BASE + 0x1000, 0x100, 0xa2); // same start, one level deeper
    assert_int_equal(tracker_add(&e), 0);
    e = owned(BASE + 0x3000, 0x1000, 0xa3); // a sibling of 0xa1
    assert_int_equal(tracker_add(&e), 0);
    assert_true(tracker_debug_check());
    expect_pool(BASE + 0x1010, BASE + 0x1000, 0x100, 0xa2);
    expect_pool(BASE + 0x1800, BASE + 0x1000, 0x1000, 0xa1);
    expect_pool(BASE + 0x3fff, BASE + 0x3000, 0x1000, 0xa3);
    expect_pool(BASE + 0x2000, BASE, 0x10000, 0xa0);
    expect_pool(BASE + 0xffff, BASE, 0x10000, 0xa0);
    expect_none(BASE + 0x10000);
    // Partly over a nested range: refused at its level.
    e = owned(BASE + 0x1800, 0x1000, 0xbad);
    assert_int_equal(tracker_add(&e), EEXIST);
    // Resizes keep the nesting: an inner range stays inside its outer one,
    // an outer one keeps its inner ones.
    assert_int_equal(tracker_resize_of(BASE + 0x3000, (void *)0xa3, 0xe000), EEXIST);
    assert_int_equal(tracker_resize_of(BASE + 0x3000, (void *)0xa3, 0xd000), 0);
    assert_int_equal(tracker_resize_of(BASE, (void *)0xa0, 0x8000), EEXIST);
    assert_int_equal(tracker_resize_of(BASE + 0x1000, (void *)0xa1, 0x80), EEXIST);
    assert_int_equal(tracker_resize_of(BASE + 0x3000, (void *)0xa3, 0x1000), 0);
    assert_int_equal(tracker_resize_of(BASE, (void *)0xa0, 0x8000), 0);
    expect_none(BASE + 0x8000);
    assert_true(tracker_debug_check());
    // Removal: not while ranges are nested inside; by owner; innermost first.
    assert_int_equal(tracker_remove_of(BASE, (void *)0xa0, NULL), EBUSY);
    assert_int_equal(tracker_remove_of(BASE + 0x1000, (void *)0xa1, NULL), EBUSY);
    assert_int_equal(tracker_remove_of(BASE + 0x1000, (void *)0xa9, NULL), ENOENT);
    assert_int_equal(tracker_count(), 4);
    tracker_entry_t r;
    assert_int_equal(tracker_remove(BASE + 0x1000, &r), 0);
    assert_int_equal((uintptr_t)r.pool, 0xa2);
    expect_pool(BASE + 0x1010, BASE + 0x1000, 0x1000, 0xa1);
    assert_int_equal(tracker_get_of(BASE + 0x1000, (void *)0xa1, &r), true);
    assert_int_equal(tracker_get_of(BASE + 0x1000, (void *)0xa2, &r), false);
    size_t of_a1 = tracker_for_each_of_pool((void *)0xa1, NULL, NULL);
    assert_int_equal(of_a1, 1);
    assert_int_equal(tracker_remove_of(BASE + 0x1000, (void *)0xa1, NULL), 0);
    assert_int_equal(tracker_remove_of(BASE + 0x3000, (void *)0xa3, NULL), 0);
    assert_true(tracker_debug_check());
    assert_int_equal(tracker_remove_of(BASE, (void *)0xa0, NULL), 0);

    // Eight levels, all starting at BASE; a ninth is refused.
    for (uintptr_t lv = 0; lv < TRACKER_LEVELS; lv++) {
        e = owned(BASE, 0x10000 - lv * 0x100, 0xc0 + lv);
        assert_int_equal(tracker_add(&e), 0);
        expect_pool(BASE + 0x10, BASE, 0x10000 - lv * 0x100, 0xc0 + lv);
    }
    e = owned(BASE, 0x100, 0xcf);
    assert_int_equal(tracker_add(&e), EEXIST);
    assert_int_equal(tracker_count(), TRACKER_LEVELS);
    assert_true(tracker_debug_check());
    expect_pool(BASE + 0xffff, BASE, 0x10000, 0xc0); // only the outermost reaches it
    for (uintptr_t lv = TRACKER_LEVELS; lv-- > 0;) {
        assert_int_equal(tracker_remove(BASE, &r), 0);
        assert_int_equal((uintptr_t)r.pool, 0xc0 + lv);
    }
}

static void invalid_ranges(void **state) {
    (void)state;
    tracker_entry_t e = tt_entry(BASE, 0);
    assert_int_equal(tracker_add(&e), EINVAL); // size 0
    e = tt_entry(UINTPTR_MAX - 10, 100);
    assert_int_equal(tracker_add(&e), EINVAL); // wraps
    e = tt_entry(LIMIT, 16);
    assert_int_equal(tracker_add(&e), EINVAL); // starts at 2^56
    e = tt_entry(LIMIT - 0x10, 0x11);
    assert_int_equal(tracker_add(&e), EINVAL); // ends past 2^56
    e = tt_entry(BASE, SIZE_MAX);
    assert_int_equal(tracker_add(&e), EINVAL);
    assert_int_equal(tracker_add(NULL), EINVAL);
    assert_int_equal(tracker_count(), 0);
    // The extremes of the key space are fine.
    add_ok(LIMIT - 0x10, 0x10);
    add_ok(0, 0x10);
    expect_in(LIMIT - 1, LIMIT - 0x10, 0x10);
    expect_none(LIMIT);
    expect_in(0, 0, 0x10); // NULL is inside [0, 16) here
    expect_in(0xf, 0, 0x10);
    expect_none(0x10);
    assert_true(tracker_debug_check());
    assert_int_equal(tracker_remove(0, NULL), 0);
    assert_int_equal(tracker_remove(LIMIT - 0x10, NULL), 0);
    expect_none(0);
}

static void remove_twice(void **state) {
    (void)state;
    add_ok(BASE + 0x40, 0x40);
    add_ok(BASE + 0x80, 0x40);
    assert_int_equal(tracker_remove(BASE + 0x41, NULL), ENOENT); // not a start
    assert_int_equal(tracker_remove(BASE + 0xc0, NULL), ENOENT); // end, unregistered
    assert_int_equal(tracker_remove(LIMIT + 0x40, NULL), ENOENT);
    tracker_entry_t r;
    assert_int_equal(tracker_remove(BASE + 0x40, &r), 0);
    assert_entry(&r, BASE + 0x40, 0x40);
    assert_int_equal(tracker_remove(BASE + 0x40, &r), ENOENT);
    expect_none(BASE + 0x40);
    expect_in(BASE + 0x80, BASE + 0x80, 0x40);
    assert_int_equal(tracker_count(), 1);
    assert_int_equal(tracker_remove(BASE + 0x80, NULL), 0);
    assert_int_equal(tracker_remove(BASE + 0x80, NULL), ENOENT);
}

static void resize_in_place(void **state) {
    (void)state;
    add_ok(BASE + 0x1000, 0x1000);
    add_ok(BASE + 0x4000, 0x1000);
    assert_int_equal(tracker_resize(BASE + 0x1000, 0x2000), 0); // grow into the gap
    expect_in(BASE + 0x2fff, BASE + 0x1000, 0x2000);
    assert_int_equal(tracker_resize(BASE + 0x1000, 0x3001), EEXIST); // into the next
    expect_in(BASE + 0x2fff, BASE + 0x1000, 0x2000);
    expect_none(BASE + 0x3000);
    assert_int_equal(tracker_resize(BASE + 0x1000, 0x3000), 0); // exactly touching
    expect_in(BASE + 0x3fff, BASE + 0x1000, 0x3000);
    expect_in(BASE + 0x4000, BASE + 0x4000, 0x1000);
    assert_int_equal(tracker_resize(BASE + 0x1000, 0x10), 0); // shrink
    expect_none(BASE + 0x1010);
    expect_in(BASE + 0x100f, BASE + 0x1000, 0x10);
    assert_int_equal(tracker_resize(BASE + 0x1001, 0x10), ENOENT);
    assert_int_equal(tracker_resize(BASE + 0x9000, 0x10), ENOENT);
    assert_int_equal(tracker_resize(BASE + 0x1000, 0), EINVAL);
    assert_int_equal(tracker_resize(BASE + 0x1000, SIZE_MAX), EINVAL);
    assert_int_equal(tracker_resize(BASE + 0x4000, LIMIT), EINVAL);
    // Split: shrink, then add the tail as its own range.
    assert_int_equal(tracker_resize(BASE + 0x4000, 0x800), 0);
    add_ok(BASE + 0x4800, 0x800);
    expect_in(BASE + 0x47ff, BASE + 0x4000, 0x800);
    expect_in(BASE + 0x4800, BASE + 0x4800, 0x800);
    // Merge: remove the tail, grow the head.
    assert_int_equal(tracker_remove(BASE + 0x4800, NULL), 0);
    assert_int_equal(tracker_resize(BASE + 0x4000, 0x1000), 0);
    expect_in(BASE + 0x4fff, BASE + 0x4000, 0x1000);
    assert_true(tracker_debug_check());
    assert_int_equal(tracker_remove(BASE + 0x1000, NULL), 0);
    assert_int_equal(tracker_remove(BASE + 0x4000, NULL), 0);
}

typedef struct seen_t {
    void *pool;
    size_t n;
    uintptr_t last;
    int bad;
} seen_t;

static void on_range(const tracker_entry_t *e, void *arg) {
    seen_t *s = arg;
    if (e->pool != s->pool || e->provider != tt_prov_of(e->start) ||
        e->meta != tt_meta_of(e->start) || (s->n && e->start <= s->last))
        s->bad++;
    s->last = e->start;
    s->n++;
}

static void for_each_of_pool_counts(void **state) {
    (void)state;
    // Three owners, interleaved: pool k owns every third range.
    void *pools[3] = {(void *)0x1000, (void *)0x2000, (void *)0x3000};
    for (uintptr_t i = 0; i < 300; i++) {
        uintptr_t s = BASE + i * 0x10000 + (i % 7) * 0x10;
        tracker_entry_t e = tt_entry(s, 0x100);
        e.pool = pools[i % 3];
        assert_int_equal(tracker_add(&e), 0);
    }
    for (int k = 0; k < 3; k++) {
        seen_t s = {pools[k], 0, 0, 0};
        assert_int_equal(tracker_for_each_of_pool(pools[k], on_range, &s), 100);
        assert_int_equal(s.n, 100);
        assert_int_equal(s.bad, 0);
    }
    assert_int_equal(tracker_for_each_of_pool((void *)0x4000, on_range, NULL), 0);
    assert_int_equal(tracker_for_each_of_pool(pools[1], NULL, NULL), 100);
    for (uintptr_t i = 0; i < 300; i += 3)
        assert_int_equal(tracker_remove(BASE + i * 0x10000 + (i % 7) * 0x10, NULL), 0);
    assert_int_equal(tracker_for_each_of_pool(pools[0], NULL, NULL), 0);
    assert_int_equal(tracker_for_each_of_pool(pools[2], NULL, NULL), 100);
    for (uintptr_t i = 0; i < 300; i++)
        if (i % 3)
            assert_int_equal(tracker_remove(BASE + i * 0x10000 + (i % 7) * 0x10, NULL), 0);
}

static void enomem_keeps_map(void **state) {
    (void)state;
    add_ok(BASE + 0x100, 0x10);
    tracker_debug_fail_allocs_after(0); // not even the leaf
    tracker_entry_t e = tt_entry(BASE + 0x200, 0x10);
    assert_int_equal(tracker_add(&e), ENOMEM);
    // The leaf succeeds, the node for the split fails: the leaf goes back.
    tracker_debug_fail_allocs_after(1);
    assert_int_equal(tracker_add(&e), ENOMEM);
    tracker_debug_fail_allocs_after(-1);
    assert_int_equal(tracker_count(), 1);
    assert_true(tracker_debug_check());
    expect_none(BASE + 0x200);
    expect_in(BASE + 0x10f, BASE + 0x100, 0x10);
    add_ok(BASE + 0x200, 0x10);
    expect_in(BASE + 0x200, BASE + 0x200, 0x10);
    assert_true(tracker_debug_check());
    // Remove and resize allocate nothing.
    tracker_debug_fail_allocs_after(0);
    assert_int_equal(tracker_resize(BASE + 0x200, 0x20), 0);
    assert_int_equal(tracker_remove(BASE + 0x200, NULL), 0);
    assert_int_equal(tracker_remove(BASE + 0x100, NULL), 0);
    tracker_debug_fail_allocs_after(-1);
}

// Keys that differ in exactly one digit, for every digit position, inserted
// and removed in both orders: exercises splits and collapses at every shift.
static void every_digit(void **state) {
    (void)state;
    uintptr_t k0 = 0x00123456789abcd0ull;
    for (unsigned sh = 4; sh < 56; sh += 4) {
        uintptr_t k1 = k0 ^ ((uintptr_t)8 << sh); // another digit at shift sh
        uintptr_t lo = k0 < k1 ? k0 : k1, hi = k0 ^ k1 ^ lo;
        add_ok(lo, 0x10);
        add_ok(hi, 0x10);
        add_ok(lo + 0x10, 0x10); // differs from lo at shift 4
        assert_true(tracker_debug_check());
        expect_in(lo + 0x1f, lo + 0x10, 0x10);
        expect_none(lo + 0x20);
        expect_none(hi - 1);
        expect_in(hi + 0xf, hi, 0x10);
        expect_none(hi + 0x10);
        expect_none(lo - 1);
        assert_int_equal(tracker_remove(sh & 4 ? lo : hi, NULL), 0);
        assert_true(tracker_debug_check());
        assert_int_equal(tracker_remove(sh & 4 ? hi : lo, NULL), 0);
        assert_int_equal(tracker_remove(lo + 0x10, NULL), 0);
        assert_true(tracker_debug_check());
    }
}

// The reference: a sorted array of non-overlapping ranges.
typedef struct ref_t {
    uintptr_t start;
    size_t size;
    bool live;
} ref_t;

static int ref_cmp(const void *a, const void *b) {
    uintptr_t x = ((const ref_t *)a)->start, y = ((const ref_t *)b)->start;
    return x < y ? -1 : x > y;
}

// Index of the live range containing p, or -1 (binary search + live scan).
static long ref_find(const ref_t *r, size_t n, uintptr_t p) {
    size_t lo = 0, hi = n; // first start > p
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (r[mid].start <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const ref_t *x = &r[lo - 1];
    return x->live && p - x->start < x->size ? (long)(lo - 1) : -1;
}

static void check_queries(const ref_t *r, size_t n, uint64_t *rng, size_t queries) {
    for (size_t q = 0; q < queries; q++) {
        size_t i = tt_rand(rng) % n;
        uintptr_t p;
        switch (tt_rand(rng) % 6) {
        case 0: p = r[i].start; break;
        case 1: p = r[i].start + r[i].size - 1; break;
        case 2: p = r[i].start + r[i].size; break;
        case 3: p = r[i].start - 1; break;
        case 4: p = r[i].start + tt_rand(rng) % (2 * r[i].size); break;
        default: p = BASE + tt_rand(rng) % ((uintptr_t)1 << 40); break;
        }
        long want = ref_find(r, n, p);
        tracker_entry_t e;
        bool got = tracker_find((const void *)p, &e);
        if (got != (want >= 0))
            fail_msg("query %#lx: found %d, reference %ld", (unsigned long)p, got, want);
        if (got)
            assert_entry(&e, r[want].start, r[want].size);
    }
}

static void random_vs_reference(void **state) {
    (void)state;
    size_t n = (size_t)(100000 * tt_scale());
    if (n < 1000)
        n = 1000;
    ref_t *r = calloc(n, sizeof(*r));
    assert_non_null(r);
    uint64_t rng = 0x9e3779b97f4a7c15ull + test_seed_base("test_tracker");
    // Distinct random starts (multiples of 16) in 2^40 bytes; each range
    // gets a random size that stays below the next start.
    for (size_t i = 0; i < n; i++)
        r[i].start = BASE + (tt_rand(&rng) % ((uintptr_t)1 << 36)) * 16;
    qsort(r, n, sizeof(*r), ref_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || r[i].start != r[m - 1].start)
            r[m++] = r[i];
    n = m;
    for (size_t i = 0; i < n; i++) {
        size_t gap = i + 1 < n ? r[i + 1].start - r[i].start : 1 << 20;
        r[i].size = 1 + tt_rand(&rng) % (gap < 4096 ? gap : 4096);
        if (tt_rand(&rng) % 4 == 0)
            r[i].size = gap; // adjacent to the next
    }
    // Insert in a random order (a shuffled index array).
    size_t *order = malloc(n * sizeof(*order));
    assert_non_null(order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = tt_rand(&rng) % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (size_t k = 0; k < n; k++) {
        ref_t *x = &r[order[k]];
        add_ok(x->start, x->size);
        x->live = true;
    }
    assert_int_equal(tracker_count(), n);
    assert_true(tracker_debug_check());
    check_queries(r, n, &rng, 4 * n);

    // Remove half (random), shrink a few of the rest, query again.
    for (size_t k = 0; k < n / 2; k++) {
        ref_t *x = &r[order[k]];
        tracker_entry_t e;
        assert_int_equal(tracker_remove(x->start, &e), 0);
        assert_entry(&e, x->start, x->size);
        x->live = false;
    }
    for (size_t k = n / 2; k < n; k += 5) {
        ref_t *x = &r[order[k]];
        size_t ns = 1 + tt_rand(&rng) % x->size;
        assert_int_equal(tracker_resize(x->start, ns), 0);
        x->size = ns;
    }
    assert_int_equal(tracker_count(), n - n / 2);
    assert_true(tracker_debug_check());
    check_queries(r, n, &rng, 4 * n);

    tracker_debug_stats_t st;
    tracker_debug_stats(&st);
    printf("[ info ] %zu ranges after removals: %zu nodes, %zu leaves, %zu KiB, %llu bumps\n",
           n - n / 2, st.nodes_live, st.leaves_live, st.bytes >> 10,
           (unsigned long long)st.generation);
    assert_true(st.nodes_live < st.leaves_live); // compressed: < one node per leaf

    for (size_t k = n / 2; k < n; k++)
        assert_int_equal(tracker_remove(r[order[k]].start, NULL), 0);
    free(order);
    free(r);
}

int main(void) {
    // The concurrent tests run first, while few recycled objects are
    // waiting: then every 64 removals make a generation bump (recycling)
    // and readers race with reuse all the time.
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(tt_concurrent_churn, teardown_empty),
        cmocka_unit_test_teardown(tt_concurrent_churn_sparse, teardown_empty),
        cmocka_unit_test_teardown(empty_map, teardown_empty),
        cmocka_unit_test_teardown(lookup_edges, teardown_empty),
        cmocka_unit_test_teardown(adjacent_and_between, teardown_empty),
        cmocka_unit_test_teardown(overlap_is_eexist, teardown_empty),
        cmocka_unit_test_teardown(nesting_levels, teardown_empty),
        cmocka_unit_test_teardown(invalid_ranges, teardown_empty),
        cmocka_unit_test_teardown(remove_twice, teardown_empty),
        cmocka_unit_test_teardown(resize_in_place, teardown_empty),
        cmocka_unit_test_teardown(for_each_of_pool_counts, teardown_empty),
        cmocka_unit_test_teardown(enomem_keeps_map, teardown_empty),
        cmocka_unit_test_teardown(every_digit, teardown_empty),
        cmocka_unit_test_teardown(random_vs_reference, teardown_empty),
        cmocka_unit_test_teardown(tt_lookup_cost, teardown_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
