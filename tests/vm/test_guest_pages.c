// SPDX-License-Identifier: MIT
// The guest tests' page counter (guest_pages.h), on the host: a count is
// valid only when every page has a node; pages never touched (-ENOENT) or
// not mapped (-EFAULT) make it void, and the per-node counts of a valid
// count sum to the pages asked about.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sys/mman.h>

#include "guest_pages.h"

#define NPAGES 40

static char *map(void) {
    char *p = mmap(NULL, NPAGES * gp_page_size(), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED);
    return p;
}

static size_t sum(const gp_count_t *c) {
    size_t s = 0;
    for (int n = 0; n < GP_MAXNODES; n++)
        s += c->on[n];
    return s;
}

static void touched_pages_count(void **state) {
    (void)state;
    char *p = map();
    p[5] = 42;
    gp_count_t c;
    assert_true(gp_count(p, NPAGES * gp_page_size(), true, NULL, &c));
    assert_string_equal(c.why, "");
    assert_int_equal(c.pages, NPAGES);
    assert_int_equal(sum(&c), NPAGES);
    assert_int_equal(gp_on_mask(&c, ~UINT64_C(0)), NPAGES);
    assert_int_equal(p[5], 42); // the touch keeps the contents
    // an unaligned range covers the pages it touches
    assert_true(gp_count(p + 100, gp_page_size(), false, NULL, &c));
    assert_int_equal(c.pages, 2);
    munmap(p, NPAGES * gp_page_size());
}

static void untouched_page_voids_the_count(void **state) {
    (void)state;
    char *p = map();
    for (int i = 0; i < NPAGES; i++)
        if (i != 17)
            p[i * gp_page_size()] = 1;
    gp_count_t c;
    int status[NPAGES];
    assert_false(gp_count(p, NPAGES * gp_page_size(), false, status, &c));
    assert_int_equal(status[17], -ENOENT);
    assert_non_null(strstr(c.why, "page 17"));
    assert_int_equal(sum(&c), NPAGES - 1); // what was found is still there to print
    assert_non_null(strstr(gp_format(&c), "count void"));
    munmap(p, NPAGES * gp_page_size());
}

static void unmapped_page_voids_the_count(void **state) {
    (void)state;
    char *p = map();
    memset(p, 1, NPAGES * gp_page_size());
    munmap(p + 3 * gp_page_size(), gp_page_size());
    void *pages[NPAGES];
    for (int i = 0; i < NPAGES; i++)
        pages[i] = p + i * gp_page_size();
    gp_count_t c;
    assert_false(gp_query(pages, NPAGES, NULL, &c));
    assert_non_null(strstr(c.why, "page 3"));
    munmap(p, NPAGES * gp_page_size());
}

static void nothing_counted_is_not_a_pass(void **state) {
    (void)state;
    gp_count_t c;
    char *p = map(); // nothing touched: every page absent
    assert_false(gp_count(p, NPAGES * gp_page_size(), false, NULL, &c));
    assert_int_equal(sum(&c), 0);
    munmap(p, NPAGES * gp_page_size());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(touched_pages_count),
        cmocka_unit_test(untouched_page_voids_the_count),
        cmocka_unit_test(unmapped_page_voids_the_count),
        cmocka_unit_test(nothing_counted_is_not_a_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
