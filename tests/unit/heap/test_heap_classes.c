// SPDX-License-Identifier: MIT
// Size classes and index math of the heap engine: the class table against a
// reference search, per-heap tables with min/max classes, slab geometry, and
// an exhaustive check that the reciprocal multiply gives every block's
// index exactly and flags every offset that is not a block start.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "heap/heap_priv.h"

// The smallest class that holds `size` (reference: a linear search).
static unsigned ref_class(size_t size) {
    for (unsigned c = 0; c < HEAP_NCLASSES; c++)
        if (heap_class_size[c] >= size)
            return c;
    return HEAP_NCLASSES;
}

static void table_is_sorted_and_aligned(void **state) {
    (void)state;
    for (unsigned c = 1; c < HEAP_NCLASSES; c++) {
        assert_true(heap_class_size[c] > heap_class_size[c - 1]);
        assert_int_equal(heap_class_size[c] % 8, 0);
        // at most 25% internal fragmentation above 16 bytes
        if (heap_class_size[c] > 32)
            assert_true(heap_class_size[c] - heap_class_size[c - 1] <= heap_class_size[c] / 4 + 16);
    }
    assert_int_equal(heap_class_size[HEAP_NCLASSES - 1], 65536);
}

static void size_class_matches_reference(void **state) {
    (void)state;
    for (size_t s = 1; s <= 65536; s++)
        if (heap_size_class(s) != ref_class(s))
            fail_msg("size %zu: class %u, expected %u", s, heap_size_class(s), ref_class(s));
}

static heap_t *fake_heap(size_t min, size_t max_small, size_t max_pooled, size_t slab) {
    static heap_t h;
    memset(&h, 0, sizeof h);
    heap_config_default(&h.cfg);
    h.cfg.min_class_size = min;
    h.cfg.max_small_size = max_small;
    h.cfg.max_pooled_size = max_pooled;
    h.cfg.slab_size = slab;
    assert_true(heap_classes_setup(&h));
    return &h;
}

static void per_heap_tables(void **state) {
    (void)state;
    const size_t mins[] = {1, 8, 16, 64, 100, 4096};
    const size_t maxs[] = {0, 8, 100, 1024, 2000, 32768, 65536, 1 << 20};
    for (size_t i = 0; i < sizeof mins / sizeof mins[0]; i++) {
        for (size_t j = 0; j < sizeof maxs / sizeof maxs[0]; j++) {
            heap_t *h = fake_heap(mins[i], maxs[j], SIZE_MAX, 65536);
            unsigned minc = ref_class(mins[i] < 8 ? 8 : mins[i]);
            for (size_t s = 0; s <= 70000; s++) {
                unsigned c = heap_class_of(h, s);
                size_t want = ref_class(s ? s : 1);
                if (want < minc)
                    want = minc;
                if (want >= HEAP_NCLASSES || heap_class_size[want] > maxs[j] ||
                    heap_class_size[want] > h->max_small || !h->max_small)
                    want = HEAP_CLASS_NONE;
                if (c != want)
                    fail_msg("min %zu max %zu size %zu: class %u, expected %zu", mins[i],
                             maxs[j], s, c, want);
                if (c != HEAP_CLASS_NONE)
                    assert_true(heap_class_size[c] >= s);
            }
        }
    }
    // max_pooled below max_small bounds the small classes too
    heap_t *h = fake_heap(8, 32768, 500, 65536);
    assert_int_equal(h->max_small, 448);
    assert_int_equal(heap_class_of(h, 449), HEAP_CLASS_NONE);
    h = fake_heap(8, 32768, 0, 65536); // nothing pooled: no small class at all
    assert_int_equal(h->max_small, 0);
    assert_int_equal(heap_class_of(h, 0), HEAP_CLASS_NONE);
    assert_int_equal(heap_class_count(h), 0);
}

static void slab_geometry(void **state) {
    (void)state;
    const size_t targets[] = {1, 1024, 4096, 65536, 1 << 20, (size_t)64 << 20};
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        heap_t *h = fake_heap(8, 65536, SIZE_MAX, targets[t]);
        for (unsigned c = 0; c < HEAP_NCLASSES; c++) {
            const heap_class_t *k = &h->cls[c];
            size_t bytes = (size_t)k->npages * HEAP_PAGE;
            assert_true(k->cap >= 1 && k->cap <= HEAP_MAX_SLAB_BLOCKS);
            assert_true((size_t)k->cap * k->bsize <= bytes);
            assert_int_equal(k->nwords, (k->cap + 63) / 64);
            if (k->cap < HEAP_MAX_SLAB_BLOCKS) {
                assert_true(k->cap >= 4); // at least four blocks a slab
                assert_true(bytes >= targets[t] || bytes >= ((size_t)HEAP_MAX_SLAB_BLOCKS * k->bsize) / 2);
            }
        }
    }
}

// Every block start maps to its index; every other offset is caught.
static void reciprocal_index_exact(void **state) {
    (void)state;
    heap_t *h = fake_heap(8, 65536, SIZE_MAX, 65536);
    for (unsigned c = 0; c < HEAP_NCLASSES; c++) {
        const heap_class_t *k = &h->cls[c];
        // the worst case capacity for this block size, not just the default
        uint64_t cap = HEAP_MAX_SLAB_BLOCKS;
        for (uint64_t i = 0; i < cap; i++) {
            uint64_t off = i * k->bsize;
            uint32_t idx = (uint32_t)((off * k->recip) >> 32);
            if (idx != i)
                fail_msg("class %u (%u B): block %llu gives index %u", c, k->bsize,
                         (unsigned long long)i, idx);
            // interior offsets never pass the start check
            uint64_t offs[] = {off + 1, off + k->bsize / 2, off + k->bsize - 1};
            for (int j = 0; j < 3; j++) {
                uint32_t x = (uint32_t)((offs[j] * k->recip) >> 32);
                assert_true((uint64_t)x * k->bsize != offs[j]);
            }
            // the free path's test (heap_slab_index): the index of a start,
            // >= any capacity for anything else, below the base included
            heap_span_t s = {.inv = k->inv, .shift = k->shift};
            if (heap_slab_index(&s, off) != i)
                fail_msg("class %u: rotate index of block %llu", c, (unsigned long long)i);
            uint64_t bad[] = {off + 1, off + k->bsize / 2, off + k->bsize - 1, (uint64_t)0 - off - 1,
                              (uint64_t)0 - off - k->bsize, (uint64_t)0 - 8};
            for (int j = 0; j < 6; j++)
                if (heap_slab_index(&s, bad[j]) < HEAP_MAX_SLAB_BLOCKS &&
                    heap_slab_index(&s, bad[j]) * k->bsize != bad[j])
                    fail_msg("class %u: offset %#llx passes", c, (unsigned long long)bad[j]);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_is_sorted_and_aligned),
        cmocka_unit_test(size_class_matches_reference),
        cmocka_unit_test(per_heap_tables),
        cmocka_unit_test(slab_geometry),
        cmocka_unit_test(reciprocal_index_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
