// SPDX-License-Identifier: MIT
// topo_parse_nodestring against libnuma's own numa_parse_nodestring_all on
// this (real) machine: for strings both are meant to read alike, both must
// accept with the same nodes or both reject. libnuma validates against the
// real sysfs, so this runs without HWLOC_FSROOT and is skipped when
// libnuma's node set differs from hetmem's (e.g. memoryless nodes).
// numa_warn/numa_error are replaced here (in the test program only) to
// keep libnuma quiet and to count its complaints.
#include <errno.h>
#include <numa.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "topology/topo.h"
#include "test_skip.h"

static int numa_complaints;

// Default visibility: the build hides symbols, and libnuma.so can only bind
// to an exported numa_warn/numa_error.
__attribute__((visibility("default"))) void numa_warn(int num, char *fmt, ...) {
    (void)num;
    (void)fmt;
    numa_complaints++;
}

__attribute__((visibility("default"))) void numa_error(char *where) {
    (void)where;
    numa_complaints++;
}

// libnuma's answer as a nodeset; false when it rejects the string.
static bool libnuma_parse(const char *s, nodeset_t *out) {
    struct bitmask *b = numa_parse_nodestring_all(s);
    if (!b)
        return false;
    nodeset_zero(out);
    for (unsigned i = 0; i < b->size && i < NODESET_MAX; i++)
        if (numa_bitmask_isbitset(b, i))
            nodeset_set(out, i);
    numa_bitmask_free(b);
    return true;
}

static void test_same_as_libnuma(void **state) {
    (void)state;
    unsetenv("HWLOC_FSROOT");
    topo_reset_for_testing();
    if (topo_init() != 0 || numa_available() < 0)
        TEST_SKIP("no NUMA topology here (topo_init or numa_available failed)");
    nodeset_t theirs, ours;
    if (!libnuma_parse("all", &theirs) || !nodeset_equal(&theirs, topo_all_nodes()))
        TEST_SKIP("libnuma counts nodes hetmem does not (memoryless, offline)");
    int last = nodeset_last(topo_all_nodes());
    int first = nodeset_next(topo_all_nodes(), 0);
    char beyond[16], firsts[16], range[32];
    snprintf(beyond, sizeof beyond, "%d", last + 1);
    snprintf(firsts, sizeof firsts, "%d", first);
    snprintf(range, sizeof range, "%d-%d", first, last);
    const char *cases[] = {firsts, range, beyond, "all", "!all", "+0", "0x0", " 0",
                           "00",   "0,0", "0,",   ",0",  "0-",   "x",  "0 ",  "-1",
                           "!",    "+",   "1-",   "0--1", "!0",  "+1", "0x", "0,x"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool lib_ok = libnuma_parse(cases[i], &theirs);
        bool our_ok = topo_parse_nodestring(cases[i], &ours) == 0;
        if (lib_ok != our_ok)
            fail_msg("\"%s\": libnuma %s, hetmem %s", cases[i], lib_ok ? "accepts" : "rejects",
                     our_ok ? "accepts" : "rejects");
        if (lib_ok && !nodeset_equal(&theirs, &ours)) {
            char a[256], b[256];
            nodeset_format(&theirs, a, sizeof a);
            nodeset_format(&ours, b, sizeof b);
            fail_msg("\"%s\": libnuma {%s}, hetmem {%s}", cases[i], a, b);
        }
    }
    assert_true(numa_complaints > 0); // libnuma did reject some, quietly
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_as_libnuma),
    };
    return test_skip_result(cmocka_run_group_tests(tests, NULL, NULL));
}
