// SPDX-License-Identifier: MIT
// The memkind overrides on fake trees: MEMKIND_HBW_NODES, MEMKIND_DAX_KMEM_NODES
// and MEMKIND_HBW_THRESHOLD change the classes; a malformed value makes
// topo_init return EINVAL, is reported exactly once on stderr, and leaves
// the topology answering without that override. Also topo_parse_nodestring
// (libnuma's syntax) on a machine whose node ids have holes.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "fake_trees.h"
#include "topology/topo.h"

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

static topo_class_t cls(unsigned id) {
    const topo_node_t *n = topo_node(id);
    assert_non_null(n);
    return n->cls;
}

// ---- overrides that are well-formed -------------------------------------

static void test_hbw_nodes(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_NODES", "1", 1);
    use(&tree_hmat3);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(cls(1), TOPO_CLASS_HBM);
    assert_true(topo_node(1)->hbw_override);
    // The list replaces detection (as in memkind): node 2 is no longer HBM,
    // and as it is not slower than node 0 it counts as DRAM.
    assert_int_equal(cls(2), TOPO_CLASS_DRAM);
    assert_false(topo_node(2)->hbw_override);
    assert_class_set(TOPO_CLASS_HBM, "1");
}

static void test_dax_kmem_nodes(void **state) {
    (void)state;
    setenv("MEMKIND_DAX_KMEM_NODES", "2", 1);
    use(&tree_dax);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(cls(2), TOPO_CLASS_PMEM);
    assert_true(topo_node(2)->kmem_override);
    // Node 1 still is a dax kmem node, but the list replaces detection.
    assert_true(topo_node(1)->dax_kmem);
    assert_int_equal(cls(1), TOPO_CLASS_CXL);
    assert_class_set(TOPO_CLASS_PMEM, "2");
}

static void test_both_lists(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_NODES", "2", 1);
    setenv("MEMKIND_DAX_KMEM_NODES", "1-2", 1); // 2 in both: HBM wins
    use(&tree_hmat3);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(cls(2), TOPO_CLASS_HBM);
    assert_int_equal(cls(1), TOPO_CLASS_PMEM);
    assert_int_equal(cls(0), TOPO_CLASS_DRAM);
}

static void test_threshold_low(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_THRESHOLD", "20000", 1);
    use(&tree_hmat3);
    assert_int_equal(topo_init(), 0);
    assert_int_equal(topo_hbw_threshold(), 20000);
    // Combined bandwidths 95000, 25000, 350000 MB/s: all >= 20000.
    assert_class_set(TOPO_CLASS_HBM, "0-2");
}

static void test_threshold_high(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_THRESHOLD", "350001", 1);
    use(&tree_hmat3);
    assert_int_equal(topo_init(), 0);
    assert_class_set(TOPO_CLASS_HBM, "");
    assert_int_equal(cls(2), TOPO_CLASS_DRAM); // faster than node 0, but not HBM
    assert_int_equal(cls(1), TOPO_CLASS_CXL);
}

static void test_threshold_equal(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_THRESHOLD", "350000", 1); // node 2's figure: >= counts
    use(&tree_hmat3);
    assert_int_equal(topo_init(), 0);
    assert_class_set(TOPO_CLASS_HBM, "2");
}

static void test_threshold_all_hbm_machine(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_THRESHOLD", "500000", 1);
    use(&tree_all_hbm);
    assert_int_equal(topo_init(), 0);
    assert_class_set(TOPO_CLASS_HBM, "");
    assert_class_set(TOPO_CLASS_DRAM, "0-3");
}

// ---- malformed overrides --------------------------------------------------

// stderr goes to a file while fn runs; returns how many lines name `what`.
static int stderr_lines(void (*fn)(void), const char *what) {
    char path[] = "/tmp/hetmem-topo-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    char buf[8192] = {0};
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    int lines = 0;
    for (char *p = buf; n > 0 && (p = strstr(p, what)) != NULL; p += strlen(what))
        lines++;
    return lines;
}

static int init_results[3];

// topo_init three times and a few accessors: all may log, only one may.
static void init_thrice(void) {
    for (int i = 0; i < 3; i++)
        init_results[i] = topo_init();
    (void)topo_node_count();
    (void)topo_hbw_threshold();
    nodeset_t s;
    topo_nodes_of_class(TOPO_CLASS_HBM, &s);
}

// The classes of tree_hmat3 without any override.
static void assert_default_hmat3(void) {
    assert_int_equal(topo_node_count(), 3);
    assert_int_equal(cls(0), TOPO_CLASS_DRAM);
    assert_int_equal(cls(1), TOPO_CLASS_CXL);
    assert_int_equal(cls(2), TOPO_CLASS_HBM);
    assert_int_equal(topo_hbw_threshold(), 204800);
}

static void check_malformed(const char *var, const char *value, unsigned bit) {
    setenv(var, value, 1);
    use(&tree_hmat3);
    log_set_level(LOG_LEVEL_ERROR);
    assert_int_equal(stderr_lines(init_thrice, var), 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(init_results[i], EINVAL);
    assert_int_equal(topo_env_rejected(), bit);
    assert_default_hmat3();
    assert_false(topo_node(1)->hbw_override || topo_node(1)->kmem_override);
    log_set_level(LOG_LEVEL_OFF);
    fake_tree_destroy(tree_dir);
    unsetenv(var);
    topo_reset_for_testing();
}

static void test_malformed_hbw_nodes(void **state) {
    (void)state;
    static const char *bad[] = {"1-", "7", "x", "1,,2", " ", "1 ", "2-1", "-1", "!", "0x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_malformed("MEMKIND_HBW_NODES", bad[i], TOPO_ENV_HBW_NODES);
}

static void test_malformed_dax_kmem_nodes(void **state) {
    (void)state;
    static const char *bad[] = {"abc", "0-9", "3", "1;2", "+5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_malformed("MEMKIND_DAX_KMEM_NODES", bad[i], TOPO_ENV_DAX_KMEM_NODES);
}

static void test_malformed_threshold(void **state) {
    (void)state;
    static const char *bad[] = {"12x", "-5", "0x10", " 5", "5 ", "1e6",
                                "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_malformed("MEMKIND_HBW_THRESHOLD", bad[i], TOPO_ENV_HBW_THRESHOLD);
}

// Two bad variables: two reports, one each; a good third one still applies.
static void test_two_malformed_one_good(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_NODES", "nope", 1);
    setenv("MEMKIND_HBW_THRESHOLD", "fast", 1);
    setenv("MEMKIND_DAX_KMEM_NODES", "1", 1);
    use(&tree_hmat3);
    log_set_level(LOG_LEVEL_ERROR);
    assert_int_equal(stderr_lines(init_thrice, "hetmem ERROR"), 2);
    log_set_level(LOG_LEVEL_OFF);
    assert_int_equal(init_results[2], EINVAL);
    assert_int_equal(topo_env_rejected(), TOPO_ENV_HBW_NODES | TOPO_ENV_HBW_THRESHOLD);
    assert_int_equal(cls(1), TOPO_CLASS_PMEM);
    assert_int_equal(cls(2), TOPO_CLASS_HBM); // default threshold, no HBW list
}

// An empty variable is no override (and no error).
static void test_empty_is_unset(void **state) {
    (void)state;
    setenv("MEMKIND_HBW_NODES", "", 1);
    setenv("MEMKIND_HBW_THRESHOLD", "", 1);
    use(&tree_hmat3);
    assert_int_equal(topo_init(), 0);
    assert_default_hmat3();
}

// ---- topo_parse_nodestring -------------------------------------------------

static void test_nodestring_valid(void **state) {
    (void)state;
    use(&tree_holes); // nodes 0, 1, 3, 5
    static const struct {
        const char *in, *out;
    } ok[] = {
        {"0", "0"},        {"5", "5"},          {"1,3", "1,3"},    {"0-5", "0-1,3,5"},
        {"3-3", "3"},      {"all", "0-1,3,5"},  {"!1", "0,3,5"},   {"!0-3", "5"},
        {"!all", ""},      {"+0", "0"},         {"+2", "3"},       {"+1-3", "1,3,5"},
        {"!+0", "1,3,5"},  {"0x3", "3"},        {"05", "5"},       {" 1, 3", "1,3"},
        {"1,1", "1"},      {"5,all", "0-1,3,5"}, {"1-3,5", "1,3,5"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        nodeset_t s;
        int err = topo_parse_nodestring(ok[i].in, &s);
        if (err)
            fail_msg("\"%s\" rejected", ok[i].in);
        char buf[64];
        nodeset_format(&s, buf, sizeof buf);
        if (strcmp(buf, ok[i].out) != 0)
            fail_msg("\"%s\" -> \"%s\", want \"%s\"", ok[i].in, buf, ok[i].out);
    }
}

static void test_nodestring_invalid(void **state) {
    (void)state;
    use(&tree_holes);
    static const char *bad[] = {"",   "!",    "+",     "2",    "4",     "1-",  "-1",
                                "a",  "1,,3", "1 ",    "3-1",  "0-6",   "1,",  ",1",
                                "all,x", "+4", "08",   "0x",   "1-2-3", "!!1", "1\n",
                                "999999999999999999999", "1024", "all1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nodeset_t s;
        nodeset_zero(&s);
        nodeset_set(&s, 77); // must stay untouched
        if (topo_parse_nodestring(bad[i], &s) != EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_true(nodeset_isset(&s, 77));
        assert_int_equal(nodeset_count(&s), 1);
    }
    nodeset_t s;
    assert_int_equal(topo_parse_nodestring(NULL, &s), EINVAL);
}

int main(void) {
    unsetenv("MEMKIND_HBW_NODES");
    unsetenv("MEMKIND_DAX_KMEM_NODES");
    unsetenv("MEMKIND_HBW_THRESHOLD");
    unsetenv("HETMEM_LOG");
    unsetenv("MEMKIND_DEBUG");
    unsetenv("UMF_LOG");
    log_set_level(LOG_LEVEL_OFF);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hbw_nodes, teardown),
        cmocka_unit_test_teardown(test_dax_kmem_nodes, teardown),
        cmocka_unit_test_teardown(test_both_lists, teardown),
        cmocka_unit_test_teardown(test_threshold_low, teardown),
        cmocka_unit_test_teardown(test_threshold_high, teardown),
        cmocka_unit_test_teardown(test_threshold_equal, teardown),
        cmocka_unit_test_teardown(test_threshold_all_hbm_machine, teardown),
        cmocka_unit_test_teardown(test_malformed_hbw_nodes, teardown),
        cmocka_unit_test_teardown(test_malformed_dax_kmem_nodes, teardown),
        cmocka_unit_test_teardown(test_malformed_threshold, teardown),
        cmocka_unit_test_teardown(test_two_malformed_one_good, teardown),
        cmocka_unit_test_teardown(test_empty_is_unset, teardown),
        cmocka_unit_test_teardown(test_nodestring_valid, teardown),
        cmocka_unit_test_teardown(test_nodestring_invalid, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
