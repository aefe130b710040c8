// SPDX-License-Identifier: MIT
// hmalloc under wrong use (issue 11), through libhmalloc.so: hfree and
// hrealloc of interior pointers, of blocks freed already and of foreign
// pointers are ignored (hrealloc: NULL + EINVAL, the block untouched), errno
// never changes on those void calls, and no later allocation overlaps a
// live block nor changes one. The small-block cases rely on the heap
// engine's block-start and block-state checks (src/heap).
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <hmalloc.h>

#define ERRNO_MARK 4243
#define MAX_LIVE 128

typedef struct {
    unsigned char *p;
    size_t n;
    unsigned char fill;
} blk_t;
static blk_t live[MAX_LIVE];
static int nlive;

static void live_add(void *p, size_t n) {
    assert_non_null(p);
    assert_true(nlive < MAX_LIVE);
    uintptr_t a = (uintptr_t)p, b = a + n;
    for (int i = 0; i < nlive; i++) {
        uintptr_t c = (uintptr_t)live[i].p, d = c + live[i].n;
        if (a < d && c < b)
            fail_msg("block %p+%zu overlaps live block %p+%zu", p, n, (void *)live[i].p,
                     live[i].n);
    }
    unsigned char f = (unsigned char)(0x21 + 5 * nlive);
    memset(p, f, n);
    live[nlive++] = (blk_t){p, n, f};
}

static void live_check_and_free(void) {
    for (int i = 0; i < nlive; i++) {
        for (size_t j = 0; j < live[i].n; j += 61)
            if (live[i].p[j] != live[i].fill)
                fail_msg("live block %p+%zu changed at byte %zu", (void *)live[i].p, live[i].n,
                         j);
        hfree(live[i].p);
    }
    nlive = 0;
}

static const size_t small_sizes[] = {16, 100, 4096};
static const size_t large_sizes[] = {100000, (size_t)3 << 20};

static void allocate_after(size_t n) {
    for (int i = 0; i < 4; i++)
        live_add(hmalloc(n), n);
}

static void hfree_kept_errno(void *p) {
    errno = ERRNO_MARK;
    hfree(p);
    assert_int_equal(errno, ERRNO_MARK);
}

static void interior(const size_t *sizes, size_t count) {
    nlive = 0;
    for (size_t s = 0; s < count; s++) {
        char *q = hmalloc(sizes[s]);
        live_add(q, sizes[s]);
        hfree_kept_errno(q + 8);
        errno = 0;
        assert_null(hrealloc(q + 8, 2 * sizes[s]));
        assert_int_equal(errno, EINVAL);
        errno = 0;
        assert_null(hrealloc(q + 8, sizes[s] / 2 + 1));
        assert_int_equal(errno, EINVAL);
        assert_int_equal(hmalloc_usable_size(q + 8), 0);
        allocate_after(sizes[s]);
    }
    live_check_and_free();
}

static void twice(const size_t *sizes, size_t count) {
    nlive = 0;
    for (size_t s = 0; s < count; s++) {
        live_add(hmalloc(sizes[s]), sizes[s]);
        char *p = hmalloc(sizes[s]);
        assert_non_null(p);
        hfree(p);
        hfree_kept_errno(p); // the second free
        allocate_after(sizes[s]);
    }
    live_check_and_free();
}

static void test_interior_free_large(void **state) {
    (void)state;
    interior(large_sizes, 2);
}

static void test_double_free_large(void **state) {
    (void)state;
    twice(large_sizes, 2);
}

// Needs the engine's checks on its small-block free path (src/heap).
static void test_interior_free_small(void **state) {
    (void)state;
    interior(small_sizes, 3);
}

// Needs the engine's per-block allocated state (src/heap).
static void test_double_free_small(void **state) {
    (void)state;
    twice(small_sizes, 3);
}

// Needs the engine's per-block allocated state: hrealloc of a freed block
// must not hand it out again (in place or moved).
static void test_realloc_of_freed(void **state) {
    (void)state;
    nlive = 0;
    const size_t sizes[] = {16, 100, 4096, 100000};
    for (size_t s = 0; s < 4; s++) {
        live_add(hmalloc(sizes[s]), sizes[s]);
        char *p = hmalloc(sizes[s]);
        assert_non_null(p);
        hfree(p);
        errno = 0;
        assert_null(hrealloc(p, sizes[s] / 2));
        assert_int_equal(errno, EINVAL);
        assert_null(hrealloc(p, sizes[s] * 2));
        allocate_after(sizes[s]);
    }
    live_check_and_free();
}

static void test_foreign_keeps_errno(void **state) {
    (void)state;
    nlive = 0;
    char *m = malloc(32);
    char stack[32];
    live_add(hmalloc(64), 64);
    hfree_kept_errno(m);
    hfree_kept_errno(stack);
    hfree_kept_errno((void *)(uintptr_t)0x1000);
    errno = 0;
    assert_null(hrealloc(stack, 64));
    assert_int_equal(errno, EINVAL);
    allocate_after(64);
    live_check_and_free();
    free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign_keeps_errno),
        cmocka_unit_test(test_interior_free_large),
        cmocka_unit_test(test_double_free_large),
        cmocka_unit_test(test_interior_free_small),
        cmocka_unit_test(test_double_free_small),
        cmocka_unit_test(test_realloc_of_freed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
