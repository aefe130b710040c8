// SPDX-License-Identifier: MIT
// hetmem-info on fake sysfs trees: --json must be valid JSON (checked by a
// strict parser, mini_json.c) carrying every figure of the tree - class,
// tier, CPUs, capacity, free memory, HMAT read/write bandwidth and latency,
// initiator, huge pages, kmem device, distances - the table must name the
// classes, --help must succeed and a bad option must fail with a message.
// The kinds section must resolve each memkind kind to the nodes the tree's
// figures imply (HBM node, kmem node, largest node, best node of each CPU
// node's local domain) and say why a kind is unavailable.
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

static const mj_value_t *kind(const mj_value_t *doc, const char *name); // the kinds section

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
    // The HBW kinds report MEMKIND_ERROR_ENVIRON and name the variable; the
    // others are unaffected.
    const mj_value_t *hbw = kind(doc, "MEMKIND_HBW");
    assert_false(boolean(hbw, "available"));
    assert_true(is_null(hbw, "nodes"));
    assert_non_null(strstr(str(hbw, "reason"), "MEMKIND_HBW_NODES"));
    assert_non_null(strstr(str(hbw, "reason"), "MEMKIND_ERROR_ENVIRON"));
    assert_true(boolean(kind(doc, "MEMKIND_DEFAULT"), "available"));
    assert_true(boolean(kind(doc, "MEMKIND_DAX_KMEM"), "available"));
    mj_free(doc);
    run_t r = run_info(NULL, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "MEMKIND_HBW_NODES is malformed"));
    run_free(&r);
}

// ---- the kinds section -------------------------------------------------------
// Expected nodes come from the fake tree (its figures), never from the tool.

#define HBW_THRESHOLD 204800u // memkind's default, MB/s

static const mj_value_t *kind(const mj_value_t *doc, const char *name) {
    const mj_value_t *ks = mj_get(doc, "kinds");
    if (!ks || ks->type != MJ_ARRAY)
        fail_msg("\"kinds\" is not an array");
    for (size_t i = 0; i < ks->count; i++) {
        const mj_value_t *v = mj_get(mj_at(ks, i), "name");
        if (v && v->type == MJ_STRING && strcmp(v->string, name) == 0)
            return mj_at(ks, i);
    }
    fail_msg("kind %s is not listed", name);
    return NULL;
}

// A node-id mask as a node list ("2", "0-3", "0,2").
static const char *list_of(unsigned long long mask, char *buf, size_t len) {
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 64; i++) {
        if (!(mask >> i & 1))
            continue;
        unsigned j = i;
        while (j + 1 < 64 && (mask >> (j + 1) & 1))
            j++;
        n += (size_t)snprintf(buf + n, len - n, "%s%u", n ? "," : "", i);
        if (j > i)
            n += (size_t)snprintf(buf + n, len - n, "-%u", j);
        i = j;
    }
    return buf;
}

// The tree's HBM nodes (both bandwidths at or above the threshold).
static unsigned long long tree_hbm(const fake_tree_t *t) {
    unsigned long long m = 0;
    for (unsigned i = 0; i < t->nnodes; i++)
        if (t->nodes[i].rbw >= HBW_THRESHOLD && t->nodes[i].wbw >= HBW_THRESHOLD)
            m |= 1ull << t->nodes[i].id;
    return m;
}

// The tree's nodes of the largest MemTotal.
static unsigned long long tree_largest(const fake_tree_t *t) {
    uint64_t max = 0;
    unsigned long long m = 0;
    for (unsigned i = 0; i < t->nnodes; i++)
        if (t->nodes[i].mem_mb > max)
            max = t->nodes[i].mem_mb;
    for (unsigned i = 0; i < t->nnodes; i++)
        if (t->nodes[i].mem_mb == max)
            m |= 1ull << t->nodes[i].id;
    return m;
}

// The node of CPU node c's local domain (itself and the CPU-less nodes
// whose HMAT initiator it is) with the best figure: 'c' capacity, 'l'
// latency, 'b' bandwidth. The trees used have no ties.
static unsigned tree_best_local(const fake_tree_t *t, unsigned c, char by) {
    int best = -1;
    for (unsigned i = 0; i < t->nnodes; i++) {
        const fake_node_t *n = &t->nodes[i];
        bool mine = n->cpus[0] ? n->id == c : n->initiator == (int)c;
        if (!mine)
            continue;
        const fake_node_t *b = best >= 0 ? &t->nodes[best] : NULL;
        if (!b || (by == 'c' && n->mem_mb > b->mem_mb) || (by == 'l' && n->rlat < b->rlat) ||
            (by == 'b' && n->rbw > b->rbw))
            best = (int)i;
    }
    assert_true(best >= 0);
    return t->nodes[best].id;
}

static void expect_kind(const mj_value_t *doc, const char *name, bool available,
                        const char *policy) {
    const mj_value_t *k = kind(doc, name);
    if (boolean(k, "available") != available)
        fail_msg("%s: available is %d, want %d", name, !available, available);
    assert_string_equal(str(k, "policy"), policy);
    if (available)
        assert_true(is_null(k, "reason"));
    else
        assert_non_null(str(k, "reason"));
}

// "nodes" of a kind whose nodes do not depend on the CPU.
static const char *kind_nodes(const mj_value_t *doc, const char *name) {
    return str(kind(doc, name), "nodes");
}

// "nodes" of a per-CPU kind, for CPU node c.
static const char *kind_nodes_of_cpu(const mj_value_t *doc, const char *name, unsigned c) {
    const mj_value_t *map = mj_get(kind(doc, name), "nodes");
    if (!map || map->type != MJ_OBJECT)
        fail_msg("%s: \"nodes\" is not a per-CPU-node object", name);
    char key[16];
    snprintf(key, sizeof key, "%u", c);
    return str(map, key);
}

// tree_hmat3: DRAM node 0 with the CPUs, CXL node 1, HBM node 2; no kmem,
// no huge pages.
static void test_kinds_hbm(void **state) {
    (void)state;
    const fake_tree_t *t = &tree_hmat3;
    use(t);
    char want[64];
    mj_value_t *doc = info_json();
    assert_int_equal(mj_get(doc, "kinds")->count, 23);
    assert_int_equal(num(doc, "kinds_cpu_node"), 0);
    for (size_t i = 0; i < 23; i++) { // every kind has every member
        const mj_value_t *k = mj_at(mj_get(doc, "kinds"), i);
        assert_non_null(mj_get(k, "nodes"));
        assert_non_null(mj_get(k, "reason"));
        (void)str(k, "name");
        (void)str(k, "policy");
        (void)boolean(k, "available");
    }

    unsigned long long hbm = tree_hbm(t);
    assert_int_equal(__builtin_popcountll(hbm), 1);
    expect_kind(doc, "MEMKIND_HBW", true, "bind");
    assert_string_equal(kind_nodes_of_cpu(doc, "MEMKIND_HBW", 0), list_of(hbm, want, sizeof want));
    expect_kind(doc, "MEMKIND_HBW_ALL", true, "bind");
    assert_string_equal(kind_nodes(doc, "MEMKIND_HBW_ALL"), want);
    expect_kind(doc, "MEMKIND_HBW_PREFERRED", true, "preferred");
    assert_string_equal(kind_nodes_of_cpu(doc, "MEMKIND_HBW_PREFERRED", 0), want);
    expect_kind(doc, "MEMKIND_HBW_INTERLEAVE", true, "interleave");
    assert_string_equal(kind_nodes(doc, "MEMKIND_HBW_INTERLEAVE"), want);
    // No huge pages anywhere: the HUGETLB kinds cannot allocate.
    expect_kind(doc, "MEMKIND_HBW_HUGETLB", false, "bind");
    assert_true(is_null(kind(doc, "MEMKIND_HBW_HUGETLB"), "nodes"));
    assert_non_null(strstr(str(kind(doc, "MEMKIND_HBW_HUGETLB"), "reason"), "huge pages"));
    expect_kind(doc, "MEMKIND_HUGETLB", false, "local");

    // No kmem device: no DAX KMEM kind.
    static const char *const dax_kinds[] = {"MEMKIND_DAX_KMEM", "MEMKIND_DAX_KMEM_ALL",
                                            "MEMKIND_DAX_KMEM_PREFERRED",
                                            "MEMKIND_DAX_KMEM_INTERLEAVE"};
    for (size_t i = 0; i < 4; i++) {
        const mj_value_t *k = kind(doc, dax_kinds[i]);
        assert_false(boolean(k, "available"));
        assert_true(is_null(k, "nodes"));
        assert_non_null(strstr(str(k, "reason"), "MEMKIND_ERROR_UNAVAILABLE"));
    }

    expect_kind(doc, "MEMKIND_HIGHEST_CAPACITY", true, "bind");
    assert_string_equal(kind_nodes(doc, "MEMKIND_HIGHEST_CAPACITY"),
                        list_of(tree_largest(t), want, sizeof want));
    expect_kind(doc, "MEMKIND_HIGHEST_CAPACITY_PREFERRED", true, "preferred");
    assert_string_equal(kind_nodes(doc, "MEMKIND_HIGHEST_CAPACITY_PREFERRED"), want);

    expect_kind(doc, "MEMKIND_DEFAULT", true, "local");
    assert_true(is_null(kind(doc, "MEMKIND_DEFAULT"), "nodes"));
    expect_kind(doc, "MEMKIND_REGULAR", true, "bind");
    assert_string_equal(kind_nodes(doc, "MEMKIND_REGULAR"), "0"); // the node with CPUs
    expect_kind(doc, "MEMKIND_INTERLEAVE", true, "interleave");
    assert_string_equal(kind_nodes(doc, "MEMKIND_INTERLEAVE"), "0-2");
    mj_free(doc);

    run_t r = run_info(NULL, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\nkinds "));
    char hbm_list[32];
    snprintf(want, sizeof want, "cpu node 0 -> %s", list_of(hbm, hbm_list, sizeof hbm_list));
    const char *line = strstr(r.out, "  MEMKIND_HBW ");
    assert_non_null(line);
    assert_true(strstr(line, want) && strstr(line, want) < strchr(line, '\n'));
    line = strstr(r.out, "  MEMKIND_DAX_KMEM ");
    assert_non_null(line);
    assert_true(strstr(line, "none: ") && strstr(line, "none: ") < strchr(line, '\n'));
    run_free(&r);
}

// tree_info: the kmem node is fed by the tree's dax device.
static void test_kinds_kmem(void **state) {
    (void)state;
    const fake_tree_t *t = &tree_info;
    use(t);
    char want[16];
    snprintf(want, sizeof want, "%u", t->dax[0].target);
    mj_value_t *doc = info_json();
    expect_kind(doc, "MEMKIND_DAX_KMEM", true, "bind");
    assert_string_equal(kind_nodes_of_cpu(doc, "MEMKIND_DAX_KMEM", 0), want);
    expect_kind(doc, "MEMKIND_DAX_KMEM_ALL", true, "bind");
    assert_string_equal(kind_nodes(doc, "MEMKIND_DAX_KMEM_ALL"), want);
    expect_kind(doc, "MEMKIND_DAX_KMEM_INTERLEAVE", true, "interleave");
    // Node 0 has the tree's 2 MiB pages: the HUGETLB kind can allocate.
    expect_kind(doc, "MEMKIND_HUGETLB", true, "local");
    mj_free(doc);
}

// tree_two_sockets: two CPU nodes, each with its own local domain.
static void test_kinds_per_cpu(void **state) {
    (void)state;
    const fake_tree_t *t = &tree_two_sockets;
    use(t);
    char want[64], a[16], b[16];
    mj_value_t *doc = info_json();
    long long cur = num(doc, "kinds_cpu_node");
    assert_true(cur == 0 || cur == 1);
    unsigned long long hbm = tree_hbm(t);
    assert_int_equal(__builtin_popcountll(hbm), 1);
    list_of(hbm, want, sizeof want);
    for (unsigned c = 0; c < 2; c++) // one HBM node: the nearest from both sockets
        assert_string_equal(kind_nodes_of_cpu(doc, "MEMKIND_HBW", c), want);
    static const struct {
        const char *name;
        char by;
    } local[] = {
        {"MEMKIND_HIGHEST_CAPACITY_LOCAL", 'c'},
        {"MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED", 'c'},
        {"MEMKIND_LOWEST_LATENCY_LOCAL", 'l'},
        {"MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED", 'l'},
        {"MEMKIND_HIGHEST_BANDWIDTH_LOCAL", 'b'},
        {"MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED", 'b'},
    };
    for (size_t i = 0; i < sizeof local / sizeof local[0]; i++) {
        expect_kind(doc, local[i].name, true, strstr(local[i].name, "PREFERRED") ? "preferred"
                                                                                 : "bind");
        for (unsigned c = 0; c < 2; c++) {
            snprintf(a, sizeof a, "%u", tree_best_local(t, c, local[i].by));
            assert_string_equal(kind_nodes_of_cpu(doc, local[i].name, c), a);
        }
    }
    assert_string_equal(kind_nodes(doc, "MEMKIND_HIGHEST_CAPACITY"),
                        list_of(tree_largest(t), want, sizeof want));
    assert_string_equal(kind_nodes(doc, "MEMKIND_REGULAR"), "0-1");
    mj_free(doc);

    run_t r = run_info(NULL, NULL);
    assert_int_equal(r.status, 0);
    snprintf(a, sizeof a, "%u", tree_best_local(t, 0, 'b'));
    snprintf(b, sizeof b, "%u", tree_best_local(t, 1, 'b'));
    snprintf(want, sizeof want, "cpu node 0 -> %s, cpu node 1 -> %s", a, b);
    const char *line = strstr(r.out, "  MEMKIND_HIGHEST_BANDWIDTH_LOCAL ");
    assert_non_null(line);
    assert_true(strstr(line, want) && strstr(line, want) < strchr(line, '\n'));
    run_free(&r);
}

// tree_all_hbm: four nodes of the same capacity. HIGHEST_CAPACITY takes
// them all; its PREFERRED form needs exactly one and fails on the tie.
static void test_kinds_tie(void **state) {
    (void)state;
    const fake_tree_t *t = &tree_all_hbm;
    use(t);
    char want[64];
    mj_value_t *doc = info_json();
    unsigned long long largest = tree_largest(t);
    assert_int_equal(__builtin_popcountll(largest), 4);
    expect_kind(doc, "MEMKIND_HIGHEST_CAPACITY", true, "bind");
    assert_string_equal(kind_nodes(doc, "MEMKIND_HIGHEST_CAPACITY"),
                        list_of(largest, want, sizeof want));
    expect_kind(doc, "MEMKIND_HIGHEST_CAPACITY_PREFERRED", false, "preferred");
    assert_true(is_null(kind(doc, "MEMKIND_HIGHEST_CAPACITY_PREFERRED"), "nodes"));
    const char *why = str(kind(doc, "MEMKIND_HIGHEST_CAPACITY_PREFERRED"), "reason");
    assert_non_null(strstr(why, "tie"));
    assert_non_null(strstr(why, want));
    // Every node is HBM and has CPUs: each CPU node's nearest is itself.
    for (unsigned c = 0; c < 4; c++) {
        char self[16];
        snprintf(self, sizeof self, "%u", t->nodes[c].id);
        assert_string_equal(kind_nodes_of_cpu(doc, "MEMKIND_HBW_PREFERRED", c), self);
    }
    mj_free(doc);
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
        cmocka_unit_test_teardown(test_kinds_hbm, teardown),
        cmocka_unit_test_teardown(test_kinds_kmem, teardown),
        cmocka_unit_test_teardown(test_kinds_per_cpu, teardown),
        cmocka_unit_test_teardown(test_kinds_tie, teardown),
        cmocka_unit_test_teardown(test_text_table, teardown),
        cmocka_unit_test_teardown(test_options, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
