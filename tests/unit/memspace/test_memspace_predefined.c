// SPDX-License-Identifier: MIT
// The predefined memspaces on fake machines (fake sysfs trees of the
// topology tests, tests/unit/topology/fake_trees.h): what each resolves to
// is asserted against the tree's own figures - the HBM node for the highest
// bandwidth, the lowest-latency node, the largest node - relative to the
// initiator of the CPU this test runs on (CPUs 0-1 are node 0 in every tree
// used here); NULL with a reason without HMAT; the fallback to each node's
// own initiator when the calling CPU's node has no figures at all.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umf/memspace.h>

#include "fake_sysfs.h"
#include "fake_trees.h"
#include "memspace/memspace_priv.h"
#include "test_skip.h"

static char dir[512];

// Writes the tree, points the topology at it and forgets the predefined
// memspaces. Runs pinned to CPU 0, a CPU of node 0 in every tree here.
static void use_tree(const fake_tree_t *t) {
    if (dir[0])
        fake_tree_destroy(dir);
    assert_int_equal(fake_tree_create(t, dir, sizeof dir), 0);
    fake_tree_use(dir);
    memspace_predefined_reset_for_testing();
    assert_int_equal(topo_init(), 0);
}

static nodeset_t nodes(umf_const_memspace_handle_t ms) {
    nodeset_t s;
    nodeset_zero(&s);
    assert_non_null(ms);
    for (unsigned i = 0; i < umfMemspaceMemtargetNum(ms); i++) {
        unsigned id;
        assert_int_equal(umfMemtargetGetId(umfMemspaceMemtargetGet(ms, i), &id), 0);
        nodeset_set(&s, id);
    }
    return s;
}

// "0-2" etc.: the memspace's nodes as a list, for readable assertions.
static const char *list(umf_const_memspace_handle_t ms) {
    static char buf[8][64];
    static int k;
    nodeset_t s = nodes(ms);
    char *b = buf[k++ % 8];
    nodeset_format(&s, b, 64);
    return b;
}

static void hmat3(void **state) {
    (void)state;
    use_tree(&tree_hmat3);
    assert_string_equal(list(umfMemspaceHostAllGet()), "0-2");
    assert_string_equal(list(umfMemspaceHighestCapacityGet()), "1"); // H3_MEM1_MB, the largest
    // Bandwidth: min(read, write) per node: HBM 300000 > DRAM 90000 > CXL 20000.
    assert_string_equal(list(umfMemspaceHighestBandwidthGet()), "2");
    // Latency: max(read, write): HBM 75 < DRAM 90 < CXL 400.
    assert_string_equal(list(umfMemspaceLowestLatencyGet()), "2");
    assert_int_equal(memspace_predefined_initiator(), 0);
}

// Per initiator: from node 0, nodes 1 and 2 have no figures (their HMAT
// initiator is node 1), node 3 (HBM, 500000 MB/s, 60 ns) beats node 0.
static void two_sockets(void **state) {
    (void)state;
    use_tree(&tree_two_sockets);
    assert_string_equal(list(umfMemspaceHostAllGet()), "0-3");
    assert_string_equal(list(umfMemspaceHighestCapacityGet()), "2");
    assert_string_equal(list(umfMemspaceHighestBandwidthGet()), "3");
    assert_string_equal(list(umfMemspaceLowestLatencyGet()), "3");
}

// Every node HBM, each its own initiator: from node 0 only node 0 has
// figures, so both HMAT memspaces are the local node; equal capacities tie.
static void all_hbm(void **state) {
    (void)state;
    use_tree(&tree_all_hbm);
    assert_string_equal(list(umfMemspaceHighestBandwidthGet()), "0");
    assert_string_equal(list(umfMemspaceLowestLatencyGet()), "0");
    assert_string_equal(list(umfMemspaceHighestCapacityGet()), "0-3");
}

static void no_hmat(void **state) {
    (void)state;
    use_tree(&tree_no_hmat);
    assert_string_equal(list(umfMemspaceHostAllGet()), "0-2");
    assert_string_equal(list(umfMemspaceHighestCapacityGet()), "1");
    assert_null(umfMemspaceHighestBandwidthGet());
    assert_null(umfMemspaceLowestLatencyGet());
    assert_non_null(strstr(memspace_predefined_reason(MEMSPACE_HIGHEST_BANDWIDTH), "no HMAT"));
    assert_non_null(strstr(memspace_predefined_reason(MEMSPACE_LOWEST_LATENCY), "no HMAT"));
    assert_null(memspace_predefined_reason(MEMSPACE_HOST_ALL));
    // Asking again gives the same answer (computed once).
    assert_null(umfMemspaceHighestBandwidthGet());
}

// The one-node machine: HostAll = HighestCapacity = {0}, no HMAT memspaces.
static void one_node(void **state) {
    (void)state;
    use_tree(&tree_one_node);
    assert_string_equal(list(umfMemspaceHostAllGet()), "0");
    assert_string_equal(list(umfMemspaceHighestCapacityGet()), "0");
    assert_null(umfMemspaceHighestBandwidthGet());
    assert_null(umfMemspaceLowestLatencyGet());
}

// Node 0 (our CPUs) has no HMAT figures; nodes 1 and 2 are measured from
// node 3 (CPUs 2-3): the fallback takes each node's own figures.
#define NOHP 0, 0, 0, 0, 0, 0
static const fake_node_t fallback_nodes[] = {
    {0, "0-1", 4096, 2048, NOHP, FAKE_NO_INITIATOR, 0, 0, 0, 0},
    {1, "", 2048, 2048, NOHP, 3, 250000, 250000, 120, 120},
    {2, "", 2048, 2048, NOHP, 3, 50000, 50000, 200, 200},
    {3, "2-3", 1024, 512, NOHP, 3, 100000, 100000, 70, 70},
};
static const fake_tree_t tree_fallback = {fallback_nodes, 4, NULL, NULL, 0, NULL, 0};

static void fallback_to_own_initiator(void **state) {
    (void)state;
    use_tree(&tree_fallback);
    assert_string_equal(list(umfMemspaceHighestBandwidthGet()), "1");
    assert_string_equal(list(umfMemspaceLowestLatencyGet()), "3");
    assert_string_equal(list(umfMemspaceHighestCapacityGet()), "0");
}

// Memspaces made by hand on a fake machine: its nodes exist, others do not;
// filters work on a clone of a predefined memspace.
static void by_hand_on_fake_machine(void **state) {
    (void)state;
    use_tree(&tree_hmat3);
    umf_memspace_handle_t c;
    assert_int_equal(umfMemspaceClone(umfMemspaceHostAllGet(), &c), 0);
    unsigned keep[2] = {0, 2};
    assert_int_equal(umfMemspaceFilterById(c, keep, 2), 0);
    assert_string_equal(list(c), "0,2");
    assert_int_equal(umfMemspaceFilterByCapacity(c, (int64_t)H3_MEM0_MB << 20), 0);
    assert_string_equal(list(c), "0"); // node 2 (HBM) is the smaller one
    umfMemspaceDestroy(c);
    unsigned one = 1, three = 3;
    assert_int_equal(umfMemspaceCreateFromNumaArray(&one, 1, &c), 0);
    size_t cap = 0;
    assert_int_equal(umfMemtargetGetCapacity(umfMemspaceMemtargetGet(c, 0), &cap), 0);
    assert_int_equal(cap, (size_t)H3_MEM1_MB << 20);
    umfMemspaceDestroy(c);
    assert_int_equal(umfMemspaceCreateFromNumaArray(&three, 1, &c),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
}

static int teardown(void **state) {
    (void)state;
    if (dir[0])
        fake_tree_destroy(dir);
    return 0;
}

int main(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(0, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        return test_skip_status("cannot run on CPU 0: %s", strerror(errno));
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hmat3),
        cmocka_unit_test(two_sockets),
        cmocka_unit_test(all_hbm),
        cmocka_unit_test(no_hmat),
        cmocka_unit_test(one_node),
        cmocka_unit_test(fallback_to_own_initiator),
        cmocka_unit_test(by_hand_on_fake_machine),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
