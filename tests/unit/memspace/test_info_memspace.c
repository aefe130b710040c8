// SPDX-License-Identifier: MIT
// hetmem-info's memspace section (tools/hetmem-info/info_memspace.c, built
// into this test with the JSON writer) on fake machines: the text lines and
// the JSON members name the node(s) each predefined memspace resolves to,
// or say why it does not exist; the JSON is strict (mini_json of the
// topology tests) and wrapped in an object as hetmem-info wraps it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_sysfs.h"
#include "fake_trees.h"
#include "hetmem_info.h"
#include "memspace/memspace_priv.h"
#include "mini_json.h"
#include "test_skip.h"

// Also in hetmem_info.h once the section is in hetmem-info's table.
void info_memspaces_text(FILE *out);
void info_memspaces_json(json_out_t *j);

static char dir[512];

static void use_tree(const fake_tree_t *t) {
    if (dir[0])
        fake_tree_destroy(dir);
    assert_int_equal(fake_tree_create(t, dir, sizeof dir), 0);
    fake_tree_use(dir);
    memspace_predefined_reset_for_testing();
    assert_int_equal(topo_init(), 0);
}

// The output of one of the section's functions, as a string (caller frees).
static char *text_of(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    info_memspaces_text(f);
    fclose(f);
    return buf;
}

static mj_value_t *json_of(void) {
    char *buf = NULL, err[128];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    json_out_t j;
    json_init(&j, f);
    json_begin_object(&j);
    info_memspaces_json(&j);
    json_end_object(&j);
    json_finish(&j);
    fclose(f);
    mj_value_t *v = mj_parse(buf, err, sizeof err);
    if (!v)
        fail_msg("invalid JSON (%s): %s", err, buf);
    free(buf);
    return v;
}

static void assert_nodes(const mj_value_t *ms, const long long *want, size_t n) {
    const mj_value_t *nodes = mj_get(ms, "nodes");
    assert_non_null(nodes);
    assert_int_equal(nodes->type, MJ_ARRAY);
    assert_int_equal(nodes->count, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(mj_at(nodes, i)->integer, want[i]);
}

static void hmat3(void **state) {
    (void)state;
    use_tree(&tree_hmat3);
    char *t = text_of();
    assert_non_null(strstr(t, "memspaces (predefined; HMAT figures seen from node 0):"));
    assert_non_null(strstr(t, "  HostAll            0-2\n"));
    assert_non_null(strstr(t, "  HighestCapacity    1\n"));
    assert_non_null(strstr(t, "  HighestBandwidth   2\n"));
    assert_non_null(strstr(t, "  LowestLatency      2\n"));
    free(t);
    mj_value_t *v = json_of();
    const mj_value_t *ms = mj_get(v, "memspaces");
    assert_non_null(ms);
    assert_int_equal(mj_get(ms, "initiator")->integer, 0);
    assert_nodes(mj_get(ms, "HostAll"), (const long long[]){0, 1, 2}, 3);
    assert_nodes(mj_get(ms, "HighestCapacity"), (const long long[]){1}, 1);
    assert_nodes(mj_get(ms, "HighestBandwidth"), (const long long[]){2}, 1);
    assert_nodes(mj_get(ms, "LowestLatency"), (const long long[]){2}, 1);
    assert_null(mj_get(mj_get(ms, "HostAll"), "reason"));
    mj_free(v);
}

static void no_hmat(void **state) {
    (void)state;
    use_tree(&tree_no_hmat);
    char *t = text_of();
    assert_non_null(strstr(t, "memspaces (predefined):\n"));
    assert_non_null(strstr(t, "  HighestBandwidth   none: the machine reports no HMAT"));
    assert_non_null(strstr(t, "  LowestLatency      none: the machine reports no HMAT"));
    free(t);
    mj_value_t *v = json_of();
    const mj_value_t *ms = mj_get(v, "memspaces");
    assert_int_equal(mj_get(ms, "initiator")->type, MJ_NULL);
    assert_nodes(mj_get(ms, "HostAll"), (const long long[]){0, 1, 2}, 3);
    const mj_value_t *bw = mj_get(ms, "HighestBandwidth");
    assert_int_equal(mj_get(bw, "nodes")->type, MJ_NULL);
    assert_non_null(strstr(mj_get(bw, "reason")->string, "HMAT"));
    mj_free(v);
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
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        return test_skip_status("cannot run on CPU 0: %s", strerror(errno));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hmat3),
        cmocka_unit_test(no_hmat),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
