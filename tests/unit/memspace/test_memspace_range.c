// SPDX-License-Identifier: MIT
// memspace_range_on_nodes: where the pages of a range live. Untouched
// pages are absent (not on any node) until touched; touched pages are on
// some node of the machine and on no node of an empty set; a range that
// wraps around is EINVAL.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>

#include "memspace/memspace_nodes.h"
#include "os/os.h"
#include "topology/topo.h"

static void test_range_on_nodes(void **state) {
    (void)state;
    int e = topo_init();
    assert_true(e == 0 || e == EINVAL);
    const nodeset_t *all = topo_all_nodes();
    nodeset_t none;
    nodeset_zero(&none);
    size_t page = os_page_size(), size = 4 * page;
    void *p = NULL;
    assert_int_equal(os_map_anon(NULL, size, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &p), 0);
    bool on = true;
    assert_int_equal(memspace_range_on_nodes(p, size, all, false, &on), 0);
    assert_false(on); // nothing faulted in yet
    on = false;
    assert_int_equal(memspace_range_on_nodes((char *)p + 1, size - 1, all, true, &on), 0);
    assert_true(on);
    assert_int_equal(((char *)p)[0], 0); // the first byte of the range was read and written back
    assert_int_equal(memspace_range_on_nodes(p, size, &none, false, &on), 0);
    assert_false(on);
    // Only the first page touched: the range is not all present.
    void *q = NULL;
    assert_int_equal(os_map_anon(NULL, size, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &q), 0);
    ((char *)q)[0] = 1;
    assert_int_equal(memspace_range_on_nodes(q, page, all, false, &on), 0);
    assert_true(on);
    assert_int_equal(memspace_range_on_nodes(q, size, all, false, &on), 0);
    assert_false(on);
    assert_int_equal(memspace_range_on_nodes((void *)(UINTPTR_MAX - page), 2 * page, all, false,
                                             &on),
                     EINVAL);
    os_unmap(p, size);
    os_unmap(q, size);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_range_on_nodes)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
