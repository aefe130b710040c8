// SPDX-License-Identifier: MIT
// Node selection of the memkind static kinds (the memspace engine's rules,
// memspace_nodes.c, and the heaps memkind builds from them) on fake sysfs machines: the HBW / DAX KMEM
// nodes nearest to a CPU, the two-equidistant-nodes rule of the PREFERRED
// kinds, highest capacity, the *_LOCAL rules by capacity, latency and
// bandwidth (HMAT), per-CPU-node slots, huge page availability, and the
// MEMKIND_ERROR_ENVIRON of a malformed override. Expected values come from
// the trees (fake_trees.h), never from the code under test. No memory is
// allocated from the fake nodes.
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_trees.h"
#include "frontend/memkind/mk_priv.h"
#include "topology/topo.h"

static char tree_dir[PATH_MAX];

static void use(const fake_tree_t *t) {
    assert_int_equal(fake_tree_create(t, tree_dir, sizeof tree_dir), 0);
    fake_tree_use(tree_dir);
}

static int teardown(void **state) {
    (void)state;
    for (unsigned i = 0; i < MEMKIND_NUM_BASE_KIND; i++)
        mk_heap_destroy(&mk_static_kinds[i]); // rebuilt on the next use
    fake_tree_destroy(tree_dir);
    tree_dir[0] = '\0';
    unsetenv("MEMKIND_HBW_NODES");
    unsetenv("MEMKIND_DAX_KMEM_NODES");
    unsetenv("MEMKIND_HBW_THRESHOLD");
    unsetenv("HWLOC_FSROOT");
    topo_reset_for_testing();
    mk_env_reset_for_testing();
    return 0;
}

static void assert_set(const nodeset_t *s, const char *list) {
    char buf[256];
    nodeset_format(s, buf, sizeof buf);
    assert_string_equal(buf, list);
}

// The engine's answer as the memkind status a kind's slot gets.
static int status(memspace_pick_t p) {
    return p == MEMSPACE_PICK_OK     ? MEMKIND_SUCCESS
           : p == MEMSPACE_PICK_TIE ? MEMKIND_ERROR_RUNTIME
                                    : MEMKIND_ERROR_UNAVAILABLE;
}

// The nodes of a rule from CPU node `cpu` (status must be SUCCESS).
static void assert_rule(memspace_rule_t rule, unsigned cpu, bool single, const char *list) {
    nodeset_t s;
    assert_int_equal(status(memspace_nodes_select(rule, cpu, single, NULL, &s, NULL)), MEMKIND_SUCCESS);
    assert_set(&s, list);
}

static void assert_rule_fails(memspace_rule_t rule, unsigned cpu, bool single, int err) {
    nodeset_t s;
    assert_int_equal(status(memspace_nodes_select(rule, cpu, single, NULL, &s, NULL)), err);
}

// ---- hmat3: DRAM 0 (CPUs), CXL 1, HBM 2, HMAT from node 0 ----------------------

static void test_hmat3_rules(void **state) {
    (void)state;
    use(&tree_hmat3);
    assert_rule(MEMSPACE_RULE_ALL, 0, false, "0-2");
    assert_rule(MEMSPACE_RULE_CPU, 0, false, "0");
    assert_rule(MEMSPACE_RULE_HBW_CLOSEST, 0, true, "2");
    assert_rule(MEMSPACE_RULE_HBW_ALL, 0, false, "2");
    assert_rule_fails(MEMSPACE_RULE_KMEM_CLOSEST, 0, false, MEMKIND_ERROR_UNAVAILABLE);
    assert_rule_fails(MEMSPACE_RULE_KMEM_ALL, 0, false, MEMKIND_ERROR_UNAVAILABLE);
    assert_rule(MEMSPACE_RULE_HIGHEST_CAPACITY, 0, true, "1"); // H3_MEM1_MB is the largest
    nodeset_t dom;
    memspace_nodes_local_domain(0, &dom);
    assert_set(&dom, "0-2");
    assert_rule(MEMSPACE_RULE_CAPACITY_LOCAL, 0, true, "1");
    // latency max(read, write): DRAM 90, CXL 400, HBM 75 -> HBM
    assert_rule(MEMSPACE_RULE_LATENCY_LOCAL, 0, true, "2");
    // bandwidth min(read, write): DRAM 90000, CXL 20000, HBM 300000 -> HBM
    assert_rule(MEMSPACE_RULE_BANDWIDTH_LOCAL, 0, true, "2");
    nodeset_t all = *topo_all_nodes();
    assert_int_equal(memspace_nodes_capacity(&all), ((uint64_t)H3_MEM0_MB + H3_MEM1_MB + H3_MEM2_MB)
                                                  << 20);
}

// ---- two sockets: HBM 3 behind socket 0, CXL 2 behind socket 1 ------------------

static void test_two_sockets(void **state) {
    (void)state;
    use(&tree_two_sockets);
    assert_rule(MEMSPACE_RULE_HBW_CLOSEST, 0, true, "3");
    assert_rule(MEMSPACE_RULE_HBW_CLOSEST, 1, true, "3"); // the only HBM node, farther away
    nodeset_t dom;
    memspace_nodes_local_domain(0, &dom);
    assert_set(&dom, "0,3");
    memspace_nodes_local_domain(1, &dom);
    assert_set(&dom, "1-2");
    assert_rule(MEMSPACE_RULE_CAPACITY_LOCAL, 0, true, "0");
    assert_rule(MEMSPACE_RULE_CAPACITY_LOCAL, 1, true, "2");
    assert_rule(MEMSPACE_RULE_BANDWIDTH_LOCAL, 0, true, "3");
    assert_rule(MEMSPACE_RULE_BANDWIDTH_LOCAL, 1, true, "1");
    assert_rule(MEMSPACE_RULE_LATENCY_LOCAL, 0, true, "3");
    assert_rule(MEMSPACE_RULE_LATENCY_LOCAL, 1, true, "1");
    assert_rule(MEMSPACE_RULE_HIGHEST_CAPACITY, 0, true, "2");

    // The local kinds get a slot per CPU node.
    mk_heap_t *h = mk_heap_get(MEMKIND_HIGHEST_CAPACITY_LOCAL);
    assert_non_null(h);
    assert_int_equal(h->status, MEMKIND_SUCCESS);
    assert_true(h->local);
    assert_int_equal(h->nslots, 2);
    assert_set(&h->slots[h->slot_of_node[0]].nodes, "0");
    assert_set(&h->slots[h->slot_of_node[1]].nodes, "2");
    // HBW: both CPU nodes see node 3, so one slot serves both.
    h = mk_heap_get(MEMKIND_HBW);
    assert_int_equal(h->nslots, 1);
    assert_int_equal(h->slot_of_node[0], h->slot_of_node[1]);
    // Non-local kinds: one slot.
    h = mk_heap_get(MEMKIND_HBW_ALL);
    assert_false(h->local);
    assert_set(&h->slots[0].nodes, "3");
}

// ---- A64FX-like: every node is HBM with its own CPUs --------------------------------

static void test_all_hbm(void **state) {
    (void)state;
    use(&tree_all_hbm);
    for (unsigned c = 0; c < 4; c++) {
        char want[4];
        want[0] = (char)('0' + c);
        want[1] = '\0';
        assert_rule(MEMSPACE_RULE_HBW_CLOSEST, c, true, want);
    }
    assert_rule(MEMSPACE_RULE_HBW_ALL, 0, false, "0-3");
    mk_heap_t *h = mk_heap_get(MEMKIND_HBW_PREFERRED);
    assert_int_equal(h->status, MEMKIND_SUCCESS);
    assert_int_equal(h->nslots, 4);
    // four nodes of the same capacity: HIGHEST_CAPACITY_PREFERRED cannot choose
    assert_rule_fails(MEMSPACE_RULE_HIGHEST_CAPACITY, 0, true, MEMKIND_ERROR_RUNTIME);
    assert_rule(MEMSPACE_RULE_HIGHEST_CAPACITY, 0, false, "0-3");
    assert_int_equal(mk_heap_check(MEMKIND_HIGHEST_CAPACITY_PREFERRED), MEMKIND_ERROR_RUNTIME);
    assert_int_equal(mk_heap_check(MEMKIND_HIGHEST_CAPACITY), MEMKIND_SUCCESS);
}

// ---- the two-equidistant-nodes rule ------------------------------------------------

static void test_equidistant_hbw(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_NODES", "1,2", 1); // both CPU-less, both at distance 20
    use(&tree_no_hmat);
    assert_rule(MEMSPACE_RULE_HBW_CLOSEST, 0, false, "1-2");
    assert_rule_fails(MEMSPACE_RULE_HBW_CLOSEST, 0, true, MEMKIND_ERROR_RUNTIME);
    assert_int_equal(mk_heap_check(MEMKIND_HBW), MEMKIND_SUCCESS);
    assert_set(&mk_heap_get(MEMKIND_HBW)->slots[0].nodes, "1-2");
    assert_int_equal(mk_heap_check(MEMKIND_HBW_PREFERRED), MEMKIND_ERROR_RUNTIME);
    assert_int_not_equal(memkind_check_available(MEMKIND_HBW_PREFERRED), MEMKIND_SUCCESS);
    assert_null(mk_op_malloc(MEMKIND_HBW_PREFERRED, 64));
}

static void test_equidistant_kmem(void **state) {
    (void)state;
    setenv("MEMKIND_DAX_KMEM_NODES", "1,2", 1);
    use(&tree_dax);
    assert_rule(MEMSPACE_RULE_KMEM_CLOSEST, 0, false, "1-2");
    assert_int_equal(mk_heap_check(MEMKIND_DAX_KMEM_PREFERRED), MEMKIND_ERROR_RUNTIME);
    assert_int_equal(mk_heap_check(MEMKIND_DAX_KMEM_ALL), MEMKIND_SUCCESS);
}

static void test_dax_kmem(void **state) {
    (void)state;
    use(&tree_dax); // dax0.0 -> node 1 bound to kmem; the others are not kmem
    assert_rule(MEMSPACE_RULE_KMEM_CLOSEST, 0, true, "1");
    assert_rule(MEMSPACE_RULE_KMEM_ALL, 0, false, "1");
    assert_int_equal(mk_heap_check(MEMKIND_DAX_KMEM), MEMKIND_SUCCESS);
    assert_int_equal(mk_heap_check(MEMKIND_DAX_KMEM_PREFERRED), MEMKIND_SUCCESS);
    assert_int_equal(memkind_get_capacity(MEMKIND_DAX_KMEM), (ssize_t)16384 << 20);
    assert_int_equal(mk_heap_check(MEMKIND_HBW), MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE); // memkind 1.14's code
    assert_int_equal(mk_heap_check(MEMKIND_DAX_KMEM_INTERLEAVE), MEMKIND_SUCCESS);
}

// ---- no HMAT -----------------------------------------------------------------------------

static void test_no_hmat(void **state) {
    (void)state;
    use(&tree_no_hmat);
    assert_rule_fails(MEMSPACE_RULE_LATENCY_LOCAL, 0, true, MEMKIND_ERROR_UNAVAILABLE);
    assert_rule_fails(MEMSPACE_RULE_BANDWIDTH_LOCAL, 0, true, MEMKIND_ERROR_UNAVAILABLE);
    nodeset_t dom;
    memspace_nodes_local_domain(0, &dom);
    assert_set(&dom, "0-2"); // CPU-less nodes go to the nearest CPU node
    assert_rule(MEMSPACE_RULE_CAPACITY_LOCAL, 0, true, "1");
    assert_int_equal(mk_heap_check(MEMKIND_LOWEST_LATENCY_LOCAL), MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE);
    assert_int_equal(memkind_get_capacity(MEMKIND_HIGHEST_BANDWIDTH_LOCAL), -1);
    assert_int_equal(memkind_get_capacity(MEMKIND_HIGHEST_CAPACITY_LOCAL), (ssize_t)8192 << 20);
    assert_int_equal(memkind_get_capacity(MEMKIND_REGULAR), (ssize_t)4096 << 20);
    assert_int_equal(memkind_get_capacity(MEMKIND_DEFAULT), (ssize_t)(4096 + 8192 + 2048) << 20);
    assert_int_equal(memkind_get_capacity(MEMKIND_HBW_PREFERRED), -1); // not supported
}

// ---- huge pages ---------------------------------------------------------------------------

static void test_hugepages(void **state) {
    (void)state;
    use(&tree_hugepages); // node 0: HP0_2M pages; node 1: none
    assert_int_equal(mk_heap_check(MEMKIND_HUGETLB), MEMKIND_SUCCESS);
    assert_int_equal(memkind_get_capacity(MEMKIND_HUGETLB), (ssize_t)HP0_2M * (2 << 20));
    assert_int_equal(mk_heap_check(MEMKIND_HBW_HUGETLB), MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE); // no HBW
}

static void test_hugepages_none(void **state) {
    (void)state;
    use(&tree_one_node);
    assert_int_equal(mk_heap_check(MEMKIND_HUGETLB), MEMKIND_ERROR_HUGETLB);
    assert_int_equal(memkind_get_capacity(MEMKIND_HUGETLB), 0); // memkind 1.14: no pages, 0
    assert_int_equal(mk_heap_check(MEMKIND_GBTLB), MEMKIND_ERROR_HUGETLB);
    assert_int_equal(memkind_get_capacity(MEMKIND_GBTLB), 0);
    assert_int_equal(memkind_get_capacity(MEMKIND_HBW_GBTLB), -1);
}

// ---- malformed overrides -------------------------------------------------------------------

static void test_malformed_hbw_nodes(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_NODES", "1-x", 1);
    use(&tree_hmat3);
    assert_int_equal(mk_nodes_env_status(true), MEMKIND_ERROR_ENVIRON);
    assert_int_equal(mk_nodes_env_status(false), MEMKIND_SUCCESS);
    assert_int_equal(memkind_check_available(MEMKIND_HBW), MEMKIND_ERROR_ENVIRON);
    assert_int_equal(memkind_check_available(MEMKIND_HBW_INTERLEAVE), MEMKIND_ERROR_ENVIRON);
    assert_int_equal(memkind_check_available(MEMKIND_REGULAR), MEMKIND_SUCCESS);
    assert_null(mk_op_malloc(MEMKIND_HBW, 64));
}

static void test_malformed_threshold(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_THRESHOLD", "-5", 1);
    use(&tree_hmat3);
    assert_int_equal(memkind_check_available(MEMKIND_HBW_ALL), MEMKIND_ERROR_ENVIRON);
}

static void test_malformed_kmem_nodes(void **state) {
    (void)state;
    setenv("MEMKIND_DAX_KMEM_NODES", "99", 1); // no such node
    use(&tree_dax);
    assert_int_equal(memkind_check_available(MEMKIND_DAX_KMEM), MEMKIND_ERROR_ENVIRON);
    assert_int_equal(memkind_check_available(MEMKIND_DEFAULT), MEMKIND_SUCCESS);
}

static void test_threshold_moves_hbw(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_THRESHOLD", "50000", 1); // DRAM (90000) counts as HBW now
    use(&tree_hmat3);
    nodeset_t s;
    assert_int_equal(status(memspace_nodes_select(MEMSPACE_RULE_HBW_ALL, 0, false, NULL, &s, NULL)), MEMKIND_SUCCESS);
    assert_true(nodeset_isset(&s, 2));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hmat3_rules, teardown),
        cmocka_unit_test_teardown(test_two_sockets, teardown),
        cmocka_unit_test_teardown(test_all_hbm, teardown),
        cmocka_unit_test_teardown(test_equidistant_hbw, teardown),
        cmocka_unit_test_teardown(test_equidistant_kmem, teardown),
        cmocka_unit_test_teardown(test_dax_kmem, teardown),
        cmocka_unit_test_teardown(test_no_hmat, teardown),
        cmocka_unit_test_teardown(test_hugepages, teardown),
        cmocka_unit_test_teardown(test_hugepages_none, teardown),
        cmocka_unit_test_teardown(test_malformed_hbw_nodes, teardown),
        cmocka_unit_test_teardown(test_malformed_threshold, teardown),
        cmocka_unit_test_teardown(test_malformed_kmem_nodes, teardown),
        cmocka_unit_test_teardown(test_threshold_moves_hbw, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
