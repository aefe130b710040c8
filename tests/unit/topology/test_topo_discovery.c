// SPDX-License-Identifier: MIT
// The topology layer on fake sysfs trees (fake_trees.h): nodes, CPUs,
// capacity, free memory, distances, HMAT figures per initiator, classes and
// tiers for one node, DRAM+CXL+HBM with and without kernel tiers, two
// sockets, no HMAT, all-HBM, dax kmem, huge pages, a memoryless node, 130
// nodes, no sysfs at all, and concurrent first calls.
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_trees.h"
#include "topology/topo.h"

#define MB(x) ((uint64_t)(x) << 20)

static char tree_dir[PATH_MAX];

static void use(const fake_tree_t *t) {
    assert_int_equal(fake_tree_create(t, tree_dir, sizeof tree_dir), 0);
    fake_tree_use(tree_dir);
}

static int teardown(void **state) {
    (void)state;
    fake_tree_destroy(tree_dir);
    tree_dir[0] = '\0';
    unsetenv("MEMKIND_HBW_NODES");
    unsetenv("MEMKIND_DAX_KMEM_NODES");
    unsetenv("MEMKIND_HBW_THRESHOLD");
    unsetenv("HWLOC_FSROOT");
    topo_reset_for_testing();
    return 0;
}

// The set as a list ("0-3,7"), to compare with the list the tree names.
static void assert_set(const nodeset_t *s, const char *list) {
    char buf[1024];
    nodeset_format(s, buf, sizeof buf);
    assert_string_equal(buf, list);
}

static void assert_class_set(topo_class_t c, const char *list) {
    nodeset_t s;
    topo_nodes_of_class(c, &s);
    assert_set(&s, list);
}

static const topo_node_t *node(unsigned id) {
    const topo_node_t *n = topo_node(id);
    assert_non_null(n);
    assert_int_equal(n->id, id);
    return n;
}

static void test_one_node(void **state) {
    (void)state;
    use(&tree_one_node);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(topo_node_count(), 1);
    const topo_node_t *n = node(0);
    assert_ptr_equal(topo_node_at(0), n);
    assert_null(topo_node_at(1));
    assert_null(topo_node(1));
    assert_int_equal(n->cls, TOPO_CLASS_DRAM);
    assert_int_equal(n->tier, 4); // derived: a node with CPUs is the DRAM tier
    assert_false(n->tier_from_kernel);
    assert_set(&n->cpus, "0-3");
    assert_int_equal(n->capacity, MB(8192));
    uint64_t f = 0;
    assert_int_equal(topo_node_free(0, &f), 0);
    assert_int_equal(f, MB(6000));
    assert_false(topo_has_hmat());
    assert_int_equal(n->perf_initiator, TOPO_NODE_NONE);
    assert_int_equal(n->perf.bw_mbps, 0);
    topo_perf_t p;
    assert_int_equal(topo_perf(0, 0, &p), ENOENT);
    assert_int_equal(topo_distance(0, 0), 10);
    assert_int_equal(topo_distance(0, 1), -1);
    assert_int_equal(topo_cpu_node(3), 0);
    assert_int_equal(topo_cpu_node(4), -1);
    assert_int_equal(topo_current_node(), 0);
    assert_int_equal(n->hugepages_2m, 0);
    assert_false(n->dax_kmem);
    assert_set(topo_all_nodes(), "0");
    assert_class_set(TOPO_CLASS_DRAM, "0");
    assert_class_set(TOPO_CLASS_HBM, "");
    assert_int_equal(topo_hbw_threshold(), 204800);
    assert_int_equal(topo_env_rejected(), 0);
}

// The 3-node machine without kernel tiers; also checks the HMAT figures.
static void test_hmat3(void **state) {
    (void)state;
    use(&tree_hmat3);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(topo_node_count(), 3);
    assert_true(topo_has_hmat());
    assert_int_equal(node(0)->cls, TOPO_CLASS_DRAM);
    assert_int_equal(node(1)->cls, TOPO_CLASS_CXL);
    assert_int_equal(node(2)->cls, TOPO_CLASS_HBM);
    assert_class_set(TOPO_CLASS_HBM, "2");
    assert_class_set(TOPO_CLASS_CXL, "1");
    assert_class_set(TOPO_CLASS_DRAM, "0");
    assert_set(&node(1)->cpus, "");
    assert_int_equal(node(1)->capacity, MB(H3_MEM1_MB));
    assert_int_equal(node(2)->capacity, MB(H3_MEM2_MB));

    // Figures of each target from initiator 0, as the tree wrote them; the
    // combined ones are hwloc's mean of read and write.
    const topo_node_t *cxl = node(1);
    assert_int_equal(cxl->perf_initiator, 0);
    assert_int_equal(cxl->perf.read_bw_mbps, H3_CXL_RBW);
    assert_int_equal(cxl->perf.write_bw_mbps, H3_CXL_WBW);
    assert_int_equal(cxl->perf.read_lat_ns, H3_CXL_RLAT);
    assert_int_equal(cxl->perf.write_lat_ns, H3_CXL_WLAT);
    assert_int_equal(cxl->perf.bw_mbps, (H3_CXL_RBW + H3_CXL_WBW) / 2);
    assert_int_equal(cxl->perf.lat_ns, (H3_CXL_RLAT + H3_CXL_WLAT) / 2);
    topo_perf_t p;
    assert_int_equal(topo_perf(0, 2, &p), 0);
    assert_int_equal(p.read_bw_mbps, H3_HBM_RBW);
    assert_int_equal(p.write_bw_mbps, H3_HBM_WBW);
    assert_int_equal(p.read_lat_ns, H3_HBM_RLAT);
    assert_int_equal(p.write_lat_ns, H3_HBM_WLAT);
    assert_int_equal(topo_perf(0, 0, &p), 0);
    assert_int_equal(p.read_bw_mbps, H3_DRAM_RBW);
    assert_int_equal(topo_perf(1, 2, &p), ENOENT); // node 1 is no initiator
    assert_int_equal(topo_perf(0, 7, &p), ENOENT);

    // Distances as written, both directions.
    for (unsigned i = 0; i < 3; i++)
        for (unsigned k = 0; k < 3; k++)
            assert_int_equal(topo_distance(i, k), (int)h3_dist[i * 3 + k]);

    // Derived tiers, by Linux's mt_perf_to_adistance against node 0
    // (read+write sums: DRAM bw 190000, lat 170), tier = adist >> 7:
    //   CXL: 576 * 700 / 170 = 2371; 2371 * 190000 / 50000 = 9009 -> 70
    //   HBM: 576 * 145 / 170 = 491;  491 * 190000 / 700000 = 133  -> 1
    assert_int_equal(node(0)->tier, 4);
    assert_int_equal(node(1)->tier, 70);
    assert_int_equal(node(2)->tier, 1);
    assert_false(node(1)->tier_from_kernel);
}

static void test_hmat3_kernel_tiers(void **state) {
    (void)state;
    use(&tree_hmat3_tiers);
    assert_int_equal(topo_init(), 0);
    // The tree's memory_tier2 {2}, memory_tier4 {0}, memory_tier12 {1}.
    assert_int_equal(node(0)->tier, 4);
    assert_int_equal(node(1)->tier, 12);
    assert_int_equal(node(2)->tier, 2);
    for (unsigned i = 0; i < 3; i++)
        assert_true(node(i)->tier_from_kernel);
    assert_int_equal(node(2)->cls, TOPO_CLASS_HBM);
}

static void test_two_sockets(void **state) {
    (void)state;
    use(&tree_two_sockets);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(node(0)->cls, TOPO_CLASS_DRAM);
    assert_int_equal(node(1)->cls, TOPO_CLASS_DRAM);
    assert_int_equal(node(2)->cls, TOPO_CLASS_CXL);
    assert_int_equal(node(3)->cls, TOPO_CLASS_HBM);
    // Each far node is measured from its own socket only.
    assert_int_equal(node(2)->perf_initiator, 1);
    assert_int_equal(node(3)->perf_initiator, 0);
    topo_perf_t p;
    assert_int_equal(topo_perf(1, 2, &p), 0);
    assert_int_equal(p.read_bw_mbps, 20000);
    assert_int_equal(p.read_lat_ns, 250);
    assert_int_equal(topo_perf(0, 2, &p), ENOENT);
    assert_int_equal(topo_perf(0, 3, &p), 0);
    assert_int_equal(p.write_bw_mbps, 500000);
    assert_int_equal(topo_perf(1, 3, &p), ENOENT);
    assert_int_equal(topo_cpu_node(2), 1);
    assert_int_equal(topo_distance(2, 1), 14);
    assert_int_equal(topo_distance(3, 2), 41);
}

static void test_no_hmat(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_THRESHOLD", "0", 1); // even so: no figures, no HBM
    use(&tree_no_hmat);
    assert_int_equal(topo_init(), 0);
    assert_false(topo_has_hmat());
    assert_int_equal(node(0)->cls, TOPO_CLASS_DRAM);
    assert_int_equal(node(1)->cls, TOPO_CLASS_CXL);
    assert_int_equal(node(2)->cls, TOPO_CLASS_CXL);
    assert_class_set(TOPO_CLASS_HBM, "");
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(node(i)->tier, 4); // Linux: no HMAT, the default tier
        assert_int_equal(node(i)->perf_initiator, TOPO_NODE_NONE);
    }
    assert_int_equal(topo_distance(1, 2), 20);
}

static void test_all_hbm(void **state) {
    (void)state;
    use(&tree_all_hbm);
    assert_int_equal(topo_init(), 0);
    assert_class_set(TOPO_CLASS_HBM, "0-3");
    assert_class_set(TOPO_CLASS_DRAM, "");
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(node(i)->perf_initiator, i);
        assert_int_equal(node(i)->perf.bw_mbps, (A64_RBW + A64_WBW) / 2);
        assert_int_equal(node(i)->tier, 4);
    }
    assert_set(&node(3)->cpus, "36-47");
    assert_int_equal(topo_cpu_node(47), 3);
}

static void test_dax_kmem(void **state) {
    (void)state;
    use(&tree_dax);
    assert_int_equal(topo_init(), 0);
    const topo_node_t *n = node(1);
    assert_true(n->dax_kmem);
    assert_string_equal(n->dax_device, "dax0.0");
    assert_int_equal(n->cls, TOPO_CLASS_PMEM);
    assert_false(n->kmem_override);
    assert_int_equal(n->tier, 22); // Linux's default for dax kmem without HMAT
    assert_false(node(2)->dax_kmem); // bound to device_dax
    assert_string_equal(node(2)->dax_device, "");
    assert_int_equal(node(2)->cls, TOPO_CLASS_CXL);
    assert_false(node(3)->dax_kmem); // unbound
    assert_class_set(TOPO_CLASS_PMEM, "1");
}

static void test_hugepages(void **state) {
    (void)state;
    use(&tree_hugepages);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(node(0)->hugepages_2m, HP0_2M);
    assert_int_equal(node(0)->hugepages_1g, HP0_1G);
    assert_int_equal(node(1)->hugepages_2m, 0);
    assert_int_equal(node(1)->hugepages_1g, 0);
    uint64_t f = 99;
    assert_int_equal(topo_node_hugepages_free(0, 2u << 20, &f), 0);
    assert_int_equal(f, HP0_2M_FREE);
    assert_int_equal(topo_node_hugepages_free(0, 1u << 30, &f), 0);
    assert_int_equal(f, HP0_1G_FREE);
    assert_int_equal(topo_node_hugepages_free(1, 1u << 30, &f), ENOENT); // no 1G pool
    assert_int_equal(topo_node_hugepages_free(0, 4096, &f), EINVAL);
    assert_int_equal(topo_node_hugepages_free(9, 2u << 20, &f), ENOENT);
    // Free counts are read fresh: change the tree under the cached topology.
    assert_int_equal(fake_write(tree_dir, "37\n",
                                "sys/devices/system/node/node0/hugepages/hugepages-2048kB/"
                                "free_hugepages"),
                     0);
    assert_int_equal(topo_node_hugepages_free(0, 2u << 20, &f), 0);
    assert_int_equal(f, 37);
    assert_int_equal(fake_write(tree_dir, "Node 0 MemTotal: 8388608 kB\nNode 0 MemFree: 1024 kB\n",
                                "sys/devices/system/node/node0/meminfo"),
                     0);
    assert_int_equal(topo_node_free(0, &f), 0);
    assert_int_equal(f, 1024 * 1024);
    assert_int_equal(topo_node_free(5, &f), ENOENT);
}

static void test_memoryless_node(void **state) {
    (void)state;
    use(&tree_memoryless);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(topo_node_count(), 2);
    assert_null(topo_node(2));
    assert_set(topo_all_nodes(), "0-1");
    // Its CPUs count as the nearest memory node's (distance 12 to node 1).
    assert_int_equal(topo_cpu_node(4), 1);
    assert_int_equal(topo_cpu_node(5), 1);
    assert_int_equal(topo_cpu_node(0), 0);
}

// More than 64 (and more than 128) nodes, and CPUs beyond 256.
static void test_big_machine(void **state) {
    (void)state;
    use(tree_big());
    assert_int_equal(topo_init(), 0);
    assert_int_equal(topo_node_count(), BIG_NODES);
    const topo_node_t *n = node(70);
    assert_int_equal(n->cls, TOPO_CLASS_DRAM);
    assert_int_equal(n->capacity, MB(1024 + 70));
    assert_set(&n->cpus, "140-141");
    assert_int_equal(topo_cpu_node(141), 70);
    assert_int_equal(topo_cpu_node(257), 128);
    assert_int_equal(topo_distance(70, 3), 10 + 67);
    assert_int_equal(topo_distance(3, 70), 10 + 67);
    assert_int_equal(topo_distance(70, 129), 10 + 59);
    assert_int_equal(topo_distance(129, 0), 10 + 129);
    assert_int_equal(topo_distance(70, 70), 10);
    assert_int_equal(node(71)->cls, TOPO_CLASS_CXL);
    assert_int_equal(node(129)->cls, TOPO_CLASS_HBM);
    assert_int_equal(node(129)->perf_initiator, 128);
    assert_int_equal(node(129)->capacity, MB(1024 + 129));
    topo_perf_t p;
    assert_int_equal(topo_perf(128, 129, &p), 0);
    assert_int_equal(p.read_bw_mbps, 500000);
    assert_int_equal(p.read_lat_ns, 60);
    nodeset_t s;
    topo_nodes_of_class(TOPO_CLASS_DRAM, &s);
    assert_int_equal(nodeset_count(&s), 65); // the even nodes 0..128
    assert_true(nodeset_isset(&s, 128));
    topo_nodes_of_class(TOPO_CLASS_CXL, &s);
    assert_int_equal(nodeset_count(&s), 64); // the odd nodes but 129
    assert_class_set(TOPO_CLASS_HBM, "129");
    assert_int_equal(topo_parse_nodestring("!0-127", &s), 0);
    assert_set(&s, "128-129");
}

static void test_big_machine_override(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_NODES", "70,100-101", 1);
    use(tree_big());
    assert_int_equal(topo_init(), 0);
    assert_class_set(TOPO_CLASS_HBM, "70,100-101");
    assert_true(node(101)->hbw_override);
    assert_int_equal(node(129)->cls, TOPO_CLASS_DRAM); // the list replaces detection
}

// No tree at that root: nothing is found, and every accessor says so calmly.
static void test_no_sysfs(void **state) {
    (void)state;
    snprintf(tree_dir, sizeof tree_dir, "%s", "");
    fake_tree_use("/nonexistent/hetmem-no-sysfs");
    int err = topo_init();
    assert_true(err == ENOENT || err == EIO);
    assert_int_equal(topo_init(), err); // the cached answer
    assert_int_equal(topo_node_count(), 0);
    assert_null(topo_node(0));
    assert_null(topo_node_at(0));
    assert_int_equal(topo_distance(0, 0), -1);
    assert_int_equal(topo_cpu_node(0), -1);
    assert_int_equal(topo_current_node(), 0);
    assert_false(topo_has_hmat());
    assert_true(nodeset_empty(topo_all_nodes()));
    nodeset_t s;
    assert_int_equal(topo_parse_nodestring("0", &s), EINVAL);
    uint64_t f;
    assert_int_equal(topo_node_free(0, &f), ENOENT);
}

static void *first_call(void *arg) {
    (void)arg;
    if (topo_init() != 0)
        return NULL;
    return (void *)topo_node(2);
}

// Many threads racing to the first topo_init see one discovery.
static void test_concurrent_init(void **state) {
    (void)state;
    use(&tree_hmat3);
    pthread_t th[8];
    void *res[8];
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_create(&th[i], NULL, first_call, NULL), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(pthread_join(th[i], &res[i]), 0);
    assert_non_null(res[0]);
    for (int i = 1; i < 8; i++)
        assert_ptr_equal(res[i], res[0]);
    assert_int_equal(((const topo_node_t *)res[0])->cls, TOPO_CLASS_HBM);
}

// Switching trees in one process: every reset forgets the previous machine.
static void test_reset_switches_tree(void **state) {
    (void)state;
    use(&tree_no_hmat);
    assert_int_equal(topo_node_count(), 3);
    assert_false(topo_has_hmat());
    fake_tree_destroy(tree_dir);
    use(&tree_one_node);
    assert_int_equal(topo_node_count(), 1);
    fake_tree_destroy(tree_dir);
    // A trailing '/' names the same root.
    assert_int_equal(fake_tree_create(&tree_hmat3, tree_dir, sizeof tree_dir - 1), 0);
    char slash[PATH_MAX + 2];
    snprintf(slash, sizeof slash, "%s/", tree_dir);
    fake_tree_use(slash);
    assert_int_equal(topo_node_count(), 3);
    uint64_t f;
    assert_int_equal(topo_node_free(1, &f), 0);
    assert_int_equal(f, MB(30000));
}

int main(void) {
    unsetenv("MEMKIND_HBW_NODES");
    unsetenv("MEMKIND_DAX_KMEM_NODES");
    unsetenv("MEMKIND_HBW_THRESHOLD");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_one_node, teardown),
        cmocka_unit_test_teardown(test_hmat3, teardown),
        cmocka_unit_test_teardown(test_hmat3_kernel_tiers, teardown),
        cmocka_unit_test_teardown(test_two_sockets, teardown),
        cmocka_unit_test_teardown(test_no_hmat, teardown),
        cmocka_unit_test_teardown(test_all_hbm, teardown),
        cmocka_unit_test_teardown(test_dax_kmem, teardown),
        cmocka_unit_test_teardown(test_hugepages, teardown),
        cmocka_unit_test_teardown(test_memoryless_node, teardown),
        cmocka_unit_test_teardown(test_big_machine, teardown),
        cmocka_unit_test_teardown(test_big_machine_override, teardown),
        cmocka_unit_test_teardown(test_no_sysfs, teardown),
        cmocka_unit_test_teardown(test_concurrent_init, teardown),
        cmocka_unit_test_teardown(test_reset_switches_tree, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
