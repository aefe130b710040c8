// SPDX-License-Identifier: MIT
// hetmem-info on fake sysfs trees: --json must be valid JSON (checked by a
// strict parser, mini_json.c) carrying every figure of the tree - class,
// tier, CPUs, capacity, free memory, HMAT read/write bandwidth and latency,
// initiator, huge pages, kmem device, distances - the table must name the
// classes, --help must succeed and a bad option must fail with a message.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fake_trees.h"
#include "mini_json.h"

#ifndef HETMEM_INFO_BIN
#error "HETMEM_INFO_BIN must name the hetmem-info program"
#endif

#define MB(x) ((long long)(x) << 20)

static char tree_dir[PATH_MAX];

typedef struct run_t {
    int status; // exit status, or -1 when it did not exit normally
    char *out;
    char *err;
} run_t;

static char *slurp(int fd) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return buf;
}

// Runs hetmem-info with up to two arguments; its output goes to temp files.
static run_t run_info(const char *a1, const char *a2) {
    char po[] = "/tmp/hetmem-info-out-XXXXXX", pe[] = "/tmp/hetmem-info-err-XXXXXX";
    int fo = mkstemp(po), fe = mkstemp(pe);
    assert_true(fo >= 0 && fe >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fo, STDOUT_FILENO);
        dup2(fe, STDERR_FILENO);
        execl(HETMEM_INFO_BIN, "hetmem-info", a1, a2, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    run_t r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(fo), slurp(fe)};
    close(fo);
    close(fe);
    unlink(po);
    unlink(pe);
    return r;
}

static void run_free(run_t *r) {
    free(r->out);
    free(r->err);
}

static void use(const fake_tree_t *t) {
    assert_int_equal(fake_tree_create(t, tree_dir, sizeof tree_dir), 0);
    setenv("HWLOC_FSROOT", tree_dir, 1);
}

static int teardown(void **state) {
    (void)state;
    fake_tree_destroy(tree_dir);
    tree_dir[0] = '\0';
    unsetenv("HWLOC_FSROOT");
    unsetenv("MEMKIND_HBW_NODES");
    return 0;
}

// hetmem-info --json, parsed; fails the test on invalid JSON.
static mj_value_t *info_json(void) {
    run_t r = run_info("--json", NULL);
    if (r.status != 0)
        fail_msg("hetmem-info --json exited %d: %s", r.status, r.err);
    char err[128];
    mj_value_t *doc = mj_parse(r.out, err, sizeof err);
    if (!doc)
        fail_msg("invalid JSON (%s):\n%s", err, r.out);
    run_free(&r);
    return doc;
}

static long long num(const mj_value_t *obj, const char *key) {
    const mj_value_t *v = mj_get(obj, key);
    if (!v || v->type != MJ_NUMBER || !v->is_integer)
        fail_msg("\"%s\" is not an integer", key);
    return v->integer;
}

static const char *str(const mj_value_t *obj, const char *key) {
    const mj_value_t *v = mj_get(obj, key);
    if (!v || v->type != MJ_STRING)
        fail_msg("\"%s\" is not a string", key);
    return v->string;
}

static bool is_null(const mj_value_t *obj, const char *key) {
    const mj_value_t *v = mj_get(obj, key);
    if (!v)
        fail_msg("\"%s\" is missing", key);
    return v->type == MJ_NULL;
}

static bool boolean(const mj_value_t *obj, const char *key) {
    const mj_value_t *v = mj_get(obj, key);
    if (!v || v->type != MJ_BOOL)
        fail_msg("\"%s\" is not a boolean", key);
    return v->boolean;
}

static void test_json_four_nodes(void **state) {
    (void)state;
    use(&tree_info);
    mj_value_t *doc = info_json();
    assert_true(boolean(doc, "hmat"));
    assert_int_equal(num(doc, "hbw_threshold_mbps"), 204800);
    assert_int_equal(mj_get(doc, "rejected_env")->count, 0);
    const mj_value_t *nodes = mj_get(doc, "nodes");
    assert_non_null(nodes);
    assert_int_equal(nodes->count, 4);

    const mj_value_t *n0 = mj_at(nodes, 0);
    assert_int_equal(num(n0, "id"), 0);
    assert_string_equal(str(n0, "class"), "DRAM");
    assert_int_equal(num(n0, "tier"), 4);
    assert_string_equal(str(n0, "tier_source"), "kernel");
    assert_string_equal(str(n0, "cpus"), "0-3");
    assert_int_equal(num(n0, "capacity_bytes"), MB(H3_MEM0_MB));
    assert_int_equal(num(n0, "free_bytes"), MB(8000));
    assert_int_equal(num(n0, "read_bandwidth_mbps"), H3_DRAM_RBW);
    assert_int_equal(num(n0, "write_latency_ns"), H3_DRAM_WLAT);
    assert_int_equal(num(n0, "hugepages_2m"), HP0_2M);
    assert_int_equal(num(n0, "hugepages_2m_free"), HP0_2M_FREE);
    assert_int_equal(num(n0, "hugepages_1g"), HP0_1G);
    assert_int_equal(num(n0, "hugepages_1g_free"), HP0_1G_FREE);
    assert_true(is_null(n0, "dax_kmem"));

    const mj_value_t *n1 = mj_at(nodes, 1);
    assert_string_equal(str(n1, "class"), "CXL");
    assert_int_equal(num(n1, "tier"), 12);
    assert_string_equal(str(n1, "cpus"), "");
    assert_int_equal(num(n1, "read_bandwidth_mbps"), H3_CXL_RBW);
    assert_int_equal(num(n1, "write_bandwidth_mbps"), H3_CXL_WBW);
    assert_int_equal(num(n1, "read_latency_ns"), H3_CXL_RLAT);
    assert_int_equal(num(n1, "write_latency_ns"), H3_CXL_WLAT);
    assert_int_equal(num(n1, "initiator"), 0);

    const mj_value_t *n2 = mj_at(nodes, 2);
    assert_string_equal(str(n2, "class"), "HBM");
    assert_int_equal(num(n2, "tier"), 2);
    assert_int_equal(num(n2, "read_bandwidth_mbps"), H3_HBM_RBW);
    assert_int_equal(num(n2, "capacity_bytes"), MB(H3_MEM2_MB));

    const mj_value_t *n3 = mj_at(nodes, 3);
    assert_string_equal(str(n3, "class"), "PMEM");
    assert_int_equal(num(n3, "tier"), 22);
    assert_string_equal(str(n3, "dax_kmem"), "dax0.0");
    assert_true(is_null(n3, "read_bandwidth_mbps"));
    assert_true(is_null(n3, "initiator"));
    assert_false(boolean(n3, "kmem_override"));

    const mj_value_t *classes = mj_get(doc, "classes");
    assert_string_equal(str(classes, "HBM"), "2");
    assert_string_equal(str(classes, "PMEM"), "3");

    // The distance matrix as the tree wrote it (rows follow "nodes").
    static const int want[4][4] = {{10, 20, 17, 30}, {20, 10, 28, 40}, {17, 28, 10, 40},
                                   {30, 40, 40, 10}};
    const mj_value_t *d = mj_get(doc, "distances");
    assert_non_null(d);
    assert_int_equal(d->count, 4);
    for (size_t i = 0; i < 4; i++)
        for (size_t k = 0; k < 4; k++) {
            const mj_value_t *v = mj_at(mj_at(d, i), k);
            assert_non_null(v);
            assert_int_equal(v->integer, want[i][k]);
        }
    mj_free(doc);
}

static void test_json_one_node_no_hmat(void **state) {
    (void)state;
    use(&tree_one_node);
    mj_value_t *doc = info_json();
    assert_false(boolean(doc, "hmat"));
    const mj_value_t *n0 = mj_at(mj_get(doc, "nodes"), 0);
    assert_non_null(n0);
    assert_string_equal(str(n0, "class"), "DRAM");
    assert_string_equal(str(n0, "tier_source"), "derived");
    assert_true(is_null(n0, "bandwidth_mbps"));
    assert_true(is_null(n0, "write_latency_ns"));
    assert_true(is_null(n0, "initiator"));
    assert_int_equal(num(n0, "hugepages_2m"), 0);
    assert_int_equal(mj_at(mj_at(mj_get(doc, "distances"), 0), 0)->integer, 10);
    mj_free(doc);
}

static void test_json_big(void **state) {
    (void)state;
    use(tree_big());
    mj_value_t *doc = info_json();
    const mj_value_t *nodes = mj_get(doc, "nodes");
    assert_int_equal(nodes->count, BIG_NODES);
    const mj_value_t *n70 = mj_at(nodes, 70);
    assert_int_equal(num(n70, "id"), 70);
    assert_string_equal(str(n70, "cpus"), "140-141");
    assert_int_equal(num(n70, "capacity_bytes"), MB(1024 + 70));
    const mj_value_t *d = mj_get(doc, "distances");
    assert_int_equal(d->count, BIG_NODES);
    assert_int_equal(mj_at(d, 70)->count, BIG_NODES);
    assert_int_equal(mj_at(mj_at(d, 70), 129)->integer, 10 + 59);
    assert_string_equal(str(mj_at(nodes, 129), "class"), "HBM");
    mj_free(doc);
}

static void test_rejected_override(void **state) {
    (void)state;
    use(&tree_info);
    setenv("MEMKIND_HBW_NODES", "1-", 1);
    mj_value_t *doc = info_json(); // still exits 0 with a usable answer
    const mj_value_t *rej = mj_get(doc, "rejected_env");
    assert_int_equal(rej->count, 1);
    assert_string_equal(mj_at(rej, 0)->string, "MEMKIND_HBW_NODES");
    assert_string_equal(str(mj_at(mj_get(doc, "nodes"), 2), "class"), "HBM");
    mj_free(doc);
    run_t r = run_info(NULL, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "MEMKIND_HBW_NODES is malformed"));
    run_free(&r);
}

static void test_text_table(void **state) {
    (void)state;
    use(&tree_info);
    run_t r = run_info(NULL, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "4 NUMA node(s)"));
    assert_non_null(strstr(r.out, "HMAT present"));
    assert_non_null(strstr(r.out, "HBM"));
    assert_non_null(strstr(r.out, "CXL"));
    assert_non_null(strstr(r.out, "PMEM"));
    assert_non_null(strstr(r.out, "dax0.0"));
    assert_non_null(strstr(r.out, "512/100")); // node 0's 2 MiB pages
    run_free(&r);
}

static void test_options(void **state) {
    (void)state;
    run_t r = run_info("--help", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "--json"));
    run_free(&r);
    r = run_info("--bogus", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--bogus"));
    assert_string_equal(r.out, "");
    run_free(&r);
    r = run_info("-q", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "-q"));
    run_free(&r);
    r = run_info("--json", "extra");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "extra"));
    run_free(&r);
}

int main(void) {
    unsetenv("MEMKIND_HBW_NODES");
    unsetenv("MEMKIND_DAX_KMEM_NODES");
    unsetenv("MEMKIND_HBW_THRESHOLD");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_json_four_nodes, teardown),
        cmocka_unit_test_teardown(test_json_one_node_no_hmat, teardown),
        cmocka_unit_test_teardown(test_json_big, teardown),
        cmocka_unit_test_teardown(test_rejected_override, teardown),
        cmocka_unit_test_teardown(test_text_table, teardown),
        cmocka_unit_test_teardown(test_options, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
