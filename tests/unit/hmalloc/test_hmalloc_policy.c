// SPDX-License-Identifier: MIT
// The hmalloc policy and the environment protocol (hm_policy.c) on fake
// topologies: mode names, node strings in numactl syntax against the
// machine's nodes (the messages that tell malformed from nonexistent),
// more than 64 nodes, the HMALLOC_POLICY/HMALLOC_NODES variables and
// HMSDK's HMALLOC_MPOL_MODE/HMALLOC_NODEMASK.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_trees.h"
#include "frontend/hmalloc/hm_policy.h"
#include "topology/topo.h"

static char dir_hmat3[PATH_MAX], dir_big[PATH_MAX], dir_holes[PATH_MAX];

static int setup(void **state) {
    (void)state;
    if (fake_tree_create(&tree_hmat3, dir_hmat3, sizeof dir_hmat3) != 0 ||
        fake_tree_create(tree_big(), dir_big, sizeof dir_big) != 0 ||
        fake_tree_create(&tree_holes, dir_holes, sizeof dir_holes) != 0)
        return -1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    fake_tree_destroy(dir_hmat3);
    fake_tree_destroy(dir_big);
    fake_tree_destroy(dir_holes);
    return 0;
}

static const char *fmt(const nodeset_t *s) {
    static char buf[512];
    nodeset_format(s, buf, sizeof buf);
    return buf;
}

static void test_mode_names(void **state) {
    (void)state;
    static const char *names[HM_MODE_COUNT] = {"default",    "membind",
                                               "preferred",  "preferred-many",
                                               "interleave", "weighted-interleave"};
    for (unsigned i = 0; i < HM_MODE_COUNT; i++) {
        hm_mode_t m;
        assert_string_equal(hm_mode_name((hm_mode_t)i), names[i]);
        assert_int_equal(hm_mode_parse(names[i], &m), 0);
        assert_int_equal(m, i);
    }
    hm_mode_t m = HM_MODE_BIND;
    static const char *bad[] = {"", "bind", "Membind", "membind ", "interleave,", "local", "6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(hm_mode_parse(bad[i], &m), EINVAL);
    assert_int_equal(hm_mode_parse(NULL, &m), EINVAL);
    assert_int_equal(m, HM_MODE_BIND); // untouched
    assert_string_equal(hm_mode_name((hm_mode_t)99), "?");
}

static void expect_make(hm_mode_t mode, const char *nodes, const char *want) {
    hm_policy_t p;
    char why[256] = "";
    int err = hm_policy_make(mode, nodes, &p, why, sizeof why);
    if (err)
        fail_msg("%s \"%s\" refused: %s", hm_mode_name(mode), nodes, why);
    assert_int_equal(p.mode, mode);
    if (strcmp(fmt(&p.nodes), want) != 0)
        fail_msg("%s \"%s\" -> \"%s\", want \"%s\"", hm_mode_name(mode), nodes, fmt(&p.nodes),
                 want);
}

static void expect_refused(hm_mode_t mode, const char *nodes, const char *reason) {
    hm_policy_t p = {.mode = HM_MODE_INTERLEAVE};
    nodeset_zero(&p.nodes);
    nodeset_set(&p.nodes, 77);
    char why[256] = "";
    if (hm_policy_make(mode, nodes, &p, why, sizeof why) != EINVAL)
        fail_msg("%s \"%s\" accepted", hm_mode_name(mode), nodes ? nodes : "(null)");
    if (!strstr(why, reason))
        fail_msg("%s \"%s\": \"%s\" does not say \"%s\"", hm_mode_name(mode),
                 nodes ? nodes : "(null)", why, reason);
    assert_int_equal(p.mode, HM_MODE_INTERLEAVE); // untouched
    assert_true(nodeset_isset(&p.nodes, 77));
}

static void test_make_tiers3(void **state) {
    (void)state;
    fake_tree_use(dir_hmat3); // nodes 0, 1, 2
    expect_make(HM_MODE_BIND, "2", "2");
    expect_make(HM_MODE_BIND, "0-2", "0-2");
    expect_make(HM_MODE_INTERLEAVE, "all", "0-2");
    expect_make(HM_MODE_INTERLEAVE, "!1", "0,2");
    expect_make(HM_MODE_PREFERRED_MANY, "1,2", "1-2");
    expect_make(HM_MODE_PREFERRED, "1", "1");
    expect_make(HM_MODE_PREFERRED, "+2", "2");
    expect_make(HM_MODE_WEIGHTED_INTERLEAVE, "2,1", "1-2");
    expect_make(HM_MODE_DEFAULT, NULL, "");
    expect_make(HM_MODE_DEFAULT, "", "");

    expect_refused(HM_MODE_BIND, "", "empty node list");
    expect_refused(HM_MODE_BIND, NULL, "empty node list");
    expect_refused(HM_MODE_BIND, "3", "node 3 does not exist (nodes with memory: 0-2)");
    expect_refused(HM_MODE_BIND, "0,5", "node 5 does not exist");
    expect_refused(HM_MODE_BIND, "1-7", "node 7 does not exist");
    expect_refused(HM_MODE_INTERLEAVE, "+3", "node +3 does not exist");
    expect_refused(HM_MODE_BIND, "1024", "node 1024 does not exist");
    static const char *malformed[] = {"0-", "-1", "a", "1,,2", "1,", ",1", "2-1", "0 x",
                                      "all1", "!!1", "1\n", "0x"};
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        expect_refused(HM_MODE_BIND, malformed[i], "is not a node list");
    expect_refused(HM_MODE_BIND, "!all", "names no node");
    expect_refused(HM_MODE_BIND, "!0-2", "names no node");
    expect_refused(HM_MODE_PREFERRED, "1,2", "takes one node");
    expect_refused(HM_MODE_PREFERRED, "all", "names 3");
    expect_refused(HM_MODE_DEFAULT, "1", "takes no node list");
}

// Ids with holes: within a range the holes are skipped; the ends must exist.
static void test_make_holes(void **state) {
    (void)state;
    fake_tree_use(dir_holes); // nodes 0, 1, 3, 5
    expect_make(HM_MODE_BIND, "0-5", "0-1,3,5");
    expect_make(HM_MODE_BIND, "+2", "3");
    expect_refused(HM_MODE_BIND, "2", "node 2 does not exist (nodes with memory: 0-1,3,5)");
    expect_refused(HM_MODE_BIND, "0-4", "node 4 does not exist");
}

// No 64-node limit (HMSDK's HMALLOC_NODEMASK is one unsigned long).
static void test_make_many_nodes(void **state) {
    (void)state;
    fake_tree_use(dir_big); // nodes 0-129
    expect_make(HM_MODE_INTERLEAVE, "0-3,70", "0-3,70");
    expect_make(HM_MODE_BIND, "129", "129");
    expect_make(HM_MODE_INTERLEAVE, "all", "0-129");
    expect_make(HM_MODE_WEIGHTED_INTERLEAVE, "64-127", "64-127");
    expect_refused(HM_MODE_BIND, "130", "node 130 does not exist (nodes with memory: 0-129)");
}

static int parse(const char *policy, const char *nodes, const char *mode, const char *mask,
                 hm_policy_t *out, char *why) {
    hm_env_t env = {policy, nodes, mode, mask};
    return hm_policy_parse(&env, out, why, 256);
}

static void expect_env(const char *policy, const char *nodes, const char *mode, const char *mask,
                       hm_mode_t want_mode, const char *want_nodes) {
    hm_policy_t p;
    char why[256] = "";
    if (parse(policy, nodes, mode, mask, &p, why) != 0)
        fail_msg("POLICY=%s NODES=%s MPOL_MODE=%s NODEMASK=%s refused: %s", policy, nodes, mode,
                 mask, why);
    assert_int_equal(p.mode, want_mode);
    assert_string_equal(fmt(&p.nodes), want_nodes);
}

static void expect_env_refused(const char *policy, const char *nodes, const char *mode,
                               const char *mask, const char *reason) {
    hm_policy_t p = {.mode = HM_MODE_INTERLEAVE};
    char why[256] = "";
    if (parse(policy, nodes, mode, mask, &p, why) != EINVAL)
        fail_msg("POLICY=%s NODES=%s MPOL_MODE=%s NODEMASK=%s accepted", policy, nodes, mode,
                 mask);
    if (!strstr(why, reason))
        fail_msg("\"%s\" does not say \"%s\"", why, reason);
    assert_int_equal(p.mode, HM_MODE_INTERLEAVE);
}

static void test_env(void **state) {
    (void)state;
    fake_tree_use(dir_hmat3);
    expect_env(NULL, NULL, NULL, NULL, HM_MODE_DEFAULT, "");
    expect_env("", "", "", "", HM_MODE_DEFAULT, ""); // empty is unset
    expect_env("default", NULL, NULL, NULL, HM_MODE_DEFAULT, "");
    expect_env("membind", "2", NULL, NULL, HM_MODE_BIND, "2");
    expect_env("preferred", "1", NULL, NULL, HM_MODE_PREFERRED, "1");
    expect_env("preferred-many", "1-2", NULL, NULL, HM_MODE_PREFERRED_MANY, "1-2");
    expect_env("interleave", "all", NULL, NULL, HM_MODE_INTERLEAVE, "0-2");
    expect_env("weighted-interleave", "1,2", NULL, NULL, HM_MODE_WEIGHTED_INTERLEAVE, "1-2");
    // HMALLOC_POLICY wins over HMSDK's variables.
    expect_env("interleave", "0,1", "2", "4", HM_MODE_INTERLEAVE, "0-1");

    expect_env_refused("bogus", "1", NULL, NULL, "HMALLOC_POLICY=\"bogus\" is not a policy");
    expect_env_refused("membind", NULL, NULL, NULL, "empty node list");
    expect_env_refused("membind", "", NULL, NULL, "empty node list");
    expect_env_refused("membind", "9", NULL, NULL, "node 9 does not exist");
    expect_env_refused("interleave", "0-", NULL, NULL, "is not a node list");
    expect_env_refused("preferred", "0,1", NULL, NULL, "takes one node");
    expect_env_refused("default", "1", NULL, NULL, "takes no node list");
    expect_env_refused(NULL, "1", NULL, NULL, "HMALLOC_NODES is set but HMALLOC_POLICY is not");
}

// HMSDK's hmctl: HMALLOC_MPOL_MODE is MPOL_* (1 preferred, 2 bind, 3
// interleave, 5 preferred many, 6 weighted), HMALLOC_NODEMASK decimal bits.
static void test_env_hmsdk(void **state) {
    (void)state;
    fake_tree_use(dir_hmat3);
    expect_env(NULL, NULL, "2", "4", HM_MODE_BIND, "2");
    expect_env(NULL, NULL, "1", "2", HM_MODE_PREFERRED, "1");
    expect_env(NULL, NULL, "1", "6", HM_MODE_PREFERRED, "1"); // the first node, as the kernel
    expect_env(NULL, NULL, "3", "7", HM_MODE_INTERLEAVE, "0-2");
    expect_env(NULL, NULL, "5", "6", HM_MODE_PREFERRED_MANY, "1-2");
    expect_env(NULL, NULL, "6", "6", HM_MODE_WEIGHTED_INTERLEAVE, "1-2");
    expect_env(NULL, NULL, "0", "6", HM_MODE_DEFAULT, "");
    expect_env(NULL, NULL, "2", "0", HM_MODE_DEFAULT, ""); // HMSDK binds nothing for mask 0
    expect_env(NULL, NULL, "2", NULL, HM_MODE_DEFAULT, "");

    expect_env_refused(NULL, NULL, "4", "1", "HMALLOC_MPOL_MODE=\"4\"");
    expect_env_refused(NULL, NULL, "7", "1", "HMALLOC_MPOL_MODE=\"7\"");
    expect_env_refused(NULL, NULL, "x", "1", "HMALLOC_MPOL_MODE=\"x\"");
    expect_env_refused(NULL, NULL, "-2", "1", "HMALLOC_MPOL_MODE");
    expect_env_refused(NULL, NULL, "2", "0x4", "HMALLOC_NODEMASK=\"0x4\"");
    expect_env_refused(NULL, NULL, "2", "99999999999999999999999", "HMALLOC_NODEMASK");
    expect_env_refused(NULL, NULL, "2", "8", "node 3 does not exist");
}

int main(void) {
    unsetenv("MEMKIND_HBW_NODES");
    unsetenv("MEMKIND_DAX_KMEM_NODES");
    unsetenv("MEMKIND_HBW_THRESHOLD");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_names),  cmocka_unit_test(test_make_tiers3),
        cmocka_unit_test(test_make_holes),  cmocka_unit_test(test_make_many_nodes),
        cmocka_unit_test(test_env),         cmocka_unit_test(test_env_hmsdk),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
