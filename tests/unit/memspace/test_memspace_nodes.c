// SPDX-License-Identifier: MIT
// The node-selection engine (src/memspace/memspace_nodes.c) against an
// oracle computed in this file from the fake machine's own table (capacity,
// HMAT figures, initiators, SLIT distances, the HBW / DAX KMEM overrides),
// never from the topology layer: every rule, for every CPU node, on the
// fixed fake machines and on random ones (seed printed, HETMEM_TEST_SEED
// replays it). Then the two front ends against the engine: memkind's static
// kinds (one slot per CPU node) and UMF's predefined memspaces (computed for
// the first caller's CPU node) name the same nodes as the engine for the
// same rule and CPU node.
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_trees.h"
#include "frontend/memkind/mk_priv.h"
#include "memspace/memspace_priv.h"
#include "memspace/memspace_nodes.h"
#include "test_seed.h"
#include "topology/topo.h"

static char tree_dir[PATH_MAX];
static const fake_tree_t *tree;
static nodeset_t hbw_set, kmem_set; // the overrides in force (the HBW / KMEM classes)

static void reset(void) {
    for (unsigned i = 0; i < MEMKIND_NUM_BASE_KIND; i++)
        mk_heap_destroy(&mk_static_kinds[i]);
    if (tree_dir[0])
        fake_tree_destroy(tree_dir);
    tree_dir[0] = '\0';
    unsetenv("MEMKIND_HBW_NODES");
    unsetenv("MEMKIND_DAX_KMEM_NODES");
    unsetenv("HWLOC_FSROOT");
    topo_reset_for_testing();
    mk_env_reset_for_testing();
    memspace_predefined_reset_for_testing();
}

static void set_env_nodes(const char *var, const nodeset_t *s) {
    char buf[512];
    nodeset_format(s, buf, sizeof buf);
    setenv(var, buf, 1);
}

// Uses t with HBW nodes `hbw` and DAX KMEM nodes `kmem`. A node in both
// overrides is HBW (the topology classifies HBW first).
static void use(const fake_tree_t *t, const nodeset_t *hbw, const nodeset_t *kmem) {
    reset();
    tree = t;
    hbw_set = *hbw;
    kmem_set = *kmem;
    for (int n = nodeset_next(hbw, 0); n >= 0; n = nodeset_next(hbw, (unsigned)n + 1))
        nodeset_clear(&kmem_set, (unsigned)n);
    set_env_nodes("MEMKIND_HBW_NODES", hbw);
    set_env_nodes("MEMKIND_DAX_KMEM_NODES", &kmem_set);
    assert_int_equal(fake_tree_create(t, tree_dir, sizeof tree_dir), 0);
    fake_tree_use(tree_dir);
    assert_int_equal(memspace_nodes_topology(), 0);
    assert_int_equal(topo_node_count(), t->nnodes);
}

// ---- the oracle: the fake table only -----------------------------------------------

static const fake_node_t *node(unsigned id) {
    for (unsigned i = 0; i < tree->nnodes; i++)
        if (tree->nodes[i].id == id)
            return &tree->nodes[i];
    fail_msg("no fake node %u", id);
    return NULL;
}

static unsigned idx(unsigned id) { return (unsigned)(node(id) - tree->nodes); }

static unsigned fdist(unsigned a, unsigned b) {
    if (!tree->dist)
        return a == b ? 10 : 20;
    return tree->dist[idx(a) * tree->nnodes + idx(b)];
}

static bool has_cpus(const fake_node_t *n) { return n->cpus[0] != '\0'; }

// The HMAT figure of n seen from c (0: none): bandwidth min(read, write),
// latency max(read, write); the fake writes figures for the node's own
// initiator only.
static uint64_t fig(const fake_node_t *n, unsigned c, bool lat) {
    if (n->initiator < 0 || (unsigned)n->initiator != c)
        return 0;
    if (lat)
        return n->rlat > n->wlat ? n->rlat : n->wlat;
    return n->rbw < n->wbw ? n->rbw : n->wbw;
}

static uint64_t own_fig(const fake_node_t *n, bool lat) {
    return n->initiator < 0 ? 0 : fig(n, (unsigned)n->initiator, lat);
}

// The CPU node that owns n: itself, its initiator if that has CPUs, else
// the nearest CPU node (lowest id on a tie).
static unsigned owner(const fake_node_t *n) {
    if (has_cpus(n))
        return n->id;
    if (n->initiator >= 0 && has_cpus(node((unsigned)n->initiator)))
        return (unsigned)n->initiator;
    unsigned best = UINT_MAX, best_d = UINT_MAX;
    for (unsigned i = 0; i < tree->nnodes; i++) {
        const fake_node_t *c = &tree->nodes[i];
        if (has_cpus(c) && (fdist(c->id, n->id) < best_d ||
                            (fdist(c->id, n->id) == best_d && c->id < best))) {
            best = c->id;
            best_d = fdist(c->id, n->id);
        }
    }
    return best;
}

static void nearest_of(const nodeset_t *cands, unsigned c, nodeset_t *out) {
    unsigned best = UINT_MAX;
    nodeset_zero(out);
    for (unsigned i = 0; i < tree->nnodes; i++)
        if (nodeset_isset(cands, tree->nodes[i].id) && fdist(c, tree->nodes[i].id) < best)
            best = fdist(c, tree->nodes[i].id);
    for (unsigned i = 0; i < tree->nnodes; i++)
        if (nodeset_isset(cands, tree->nodes[i].id) && fdist(c, tree->nodes[i].id) == best)
            nodeset_set(out, tree->nodes[i].id);
}

// UMF's global HMAT rules: every node with the best figure from c; from
// each node's own initiator when c sees none.
static void best_all(unsigned c, bool lat, nodeset_t *out) {
    nodeset_zero(out);
    for (int own = 0; own < 2 && nodeset_empty(out); own++) {
        uint64_t best = 0;
        for (unsigned i = 0; i < tree->nnodes; i++) {
            uint64_t v = own ? own_fig(&tree->nodes[i], lat) : fig(&tree->nodes[i], c, lat);
            if (v && (!best || (lat ? v < best : v > best)))
                best = v;
        }
        for (unsigned i = 0; best && i < tree->nnodes; i++) {
            uint64_t v = own ? own_fig(&tree->nodes[i], lat) : fig(&tree->nodes[i], c, lat);
            if (v == best)
                nodeset_set(out, tree->nodes[i].id);
        }
    }
}

// memkind's *_LOCAL rules: in c's domain, the node of the lexicographically
// best key (capacity: (mem max, latency max); latency: (lat min, mem min);
// bandwidth: (bw max, mem min)), the lowest id on a full tie.
static void best_local(unsigned c, int key, nodeset_t *out) {
    const fake_node_t *best = NULL;
    int64_t bk1 = 0, bk2 = 0;
    nodeset_zero(out);
    for (unsigned i = 0; i < tree->nnodes; i++) {
        const fake_node_t *n = &tree->nodes[i];
        if (owner(n) != c || n->mem_mb == 0)
            continue;
        int64_t k1, k2; // larger is better
        if (key == 0) {
            k1 = (int64_t)n->mem_mb;
            k2 = (int64_t)fig(n, c, true);
        } else {
            uint64_t v = fig(n, c, key == 1);
            if (!v)
                continue;
            k1 = key == 1 ? -(int64_t)v : (int64_t)v;
            k2 = -(int64_t)n->mem_mb;
        }
        if (!best || k1 > bk1 || (k1 == bk1 && k2 > bk2) ||
            (k1 == bk1 && k2 == bk2 && n->id < best->id)) {
            best = n;
            bk1 = k1;
            bk2 = k2;
        }
    }
    if (best)
        nodeset_set(out, best->id);
}

static void oracle(memspace_rule_t r, unsigned c, nodeset_t *out) {
    nodeset_zero(out);
    uint64_t max = 0;
    switch (r) {
    case MEMSPACE_RULE_NONE: break;
    case MEMSPACE_RULE_GIVEN: fail_msg("not an oracle rule"); break;
    case MEMSPACE_RULE_ALL:
    case MEMSPACE_RULE_CPU:
        for (unsigned i = 0; i < tree->nnodes; i++)
            if (tree->nodes[i].mem_mb && (r == MEMSPACE_RULE_ALL || has_cpus(&tree->nodes[i])))
                nodeset_set(out, tree->nodes[i].id);
        break;
    case MEMSPACE_RULE_HIGHEST_CAPACITY:
        for (unsigned i = 0; i < tree->nnodes; i++)
            max = tree->nodes[i].mem_mb > max ? tree->nodes[i].mem_mb : max;
        for (unsigned i = 0; i < tree->nnodes; i++)
            if (tree->nodes[i].mem_mb == max)
                nodeset_set(out, tree->nodes[i].id);
        break;
    case MEMSPACE_RULE_HIGHEST_BANDWIDTH: best_all(c, false, out); break;
    case MEMSPACE_RULE_LOWEST_LATENCY: best_all(c, true, out); break;
    case MEMSPACE_RULE_HBW_CLOSEST: nearest_of(&hbw_set, c, out); break;
    case MEMSPACE_RULE_HBW_ALL: *out = hbw_set; break;
    case MEMSPACE_RULE_KMEM_CLOSEST: nearest_of(&kmem_set, c, out); break;
    case MEMSPACE_RULE_KMEM_ALL: *out = kmem_set; break;
    case MEMSPACE_RULE_CAPACITY_LOCAL: best_local(c, 0, out); break;
    case MEMSPACE_RULE_LATENCY_LOCAL: best_local(c, 1, out); break;
    case MEMSPACE_RULE_BANDWIDTH_LOCAL: best_local(c, 2, out); break;
    default: fail_msg("rule %d", (int)r);
    }
}

static void assert_same(const nodeset_t *got, const nodeset_t *want, const char *what,
                        unsigned rule, unsigned c) {
    char g[512], w[512];
    nodeset_format(got, g, sizeof g);
    nodeset_format(want, w, sizeof w);
    if (strcmp(g, w) != 0)
        fail_msg("%s: rule %u, CPU node %u: got %s, want %s", what, rule, c, g, w);
}

// Every rule, for every CPU node of the machine, with and without `single`.
// Returns the number of (rule, CPU node) answers checked.
static unsigned check_engine(void) {
    unsigned checked = 0;
    for (unsigned i = 0; i < tree->nnodes; i++) {
        if (!has_cpus(&tree->nodes[i]))
            continue;
        unsigned c = tree->nodes[i].id;
        for (unsigned r = MEMSPACE_RULE_NONE; r < MEMSPACE_RULE_COUNT; r++) {
            if (r == MEMSPACE_RULE_GIVEN)
                continue;
            nodeset_t got, want;
            oracle((memspace_rule_t)r, c, &want);
            memspace_pick_t p = memspace_nodes_select(r, c, false, NULL, &got, NULL);
            memspace_pick_t want_p = r != MEMSPACE_RULE_NONE && nodeset_empty(&want)
                                         ? MEMSPACE_PICK_NONE
                                         : MEMSPACE_PICK_OK;
            if (p != want_p)
                fail_msg("rule %u, CPU node %u: pick %d, want %d", r, c, (int)p, (int)want_p);
            assert_same(&got, &want, "engine", r, c);
            memspace_pick_t one = memspace_nodes_select(r, c, true, NULL, &got, NULL);
            if (want_p == MEMSPACE_PICK_OK && nodeset_count(&want) > 1)
                assert_int_equal(one, MEMSPACE_PICK_TIE);
            else
                assert_int_equal(one, want_p);
            checked++;
        }
    }
    return checked;
}

// ---- the front ends against the engine ---------------------------------------------------

static void memspace_nodes_of(umf_const_memspace_handle_t ms, nodeset_t *out) {
    nodeset_zero(out);
    for (size_t i = 0; i < ms->n; i++)
        nodeset_set(out, ms->targets[i]->id);
}

// memkind: every static kind's slot for every CPU node holds the engine's
// nodes for the kind's rule (and one-node requirement) from that CPU node.
static void check_memkind(void) {
    for (unsigned p = 0; p < MEMKIND_NUM_BASE_KIND; p++) {
        const mk_static_desc_t *d = &mk_static_descs[p];
        mk_heap_t *h = mk_heap_get(&mk_static_kinds[p]);
        assert_non_null(h);
        if (d->unsupported || d->rule == MEMSPACE_RULE_NONE)
            continue;
        for (unsigned i = 0; i < tree->nnodes; i++) {
            if (!has_cpus(&tree->nodes[i]))
                continue;
            unsigned c = tree->nodes[i].id;
            // One slot (not per CPU): the first CPU node's answer, node 0 here.
            nodeset_t want;
            oracle(d->rule, h->local ? c : 0, &want);
            const mk_slot_t *s = &h->slots[h->local ? h->slot_of_node[c] : 0];
            memspace_pick_t pk = nodeset_empty(&want)                          ? MEMSPACE_PICK_NONE
                                 : d->single && nodeset_count(&want) > 1 ? MEMSPACE_PICK_TIE
                                                                          : MEMSPACE_PICK_OK;
            assert_same(&s->nodes, &want, d->name, d->rule, c);
            if (pk == MEMSPACE_PICK_OK && !d->hugetlb)
                assert_int_equal(s->status, MEMKIND_SUCCESS);
            else if (pk == MEMSPACE_PICK_NONE)
                assert_int_equal(s->status, MEMKIND_ERROR_UNAVAILABLE);
            else if (pk == MEMSPACE_PICK_TIE)
                assert_int_equal(s->status, MEMKIND_ERROR_RUNTIME);
        }
    }
}

// UMF: the predefined memspaces are the engine's answer for the CPU node
// they were computed for, and agree with the memkind kind of the same rule.
static void check_umf(void) {
    static const struct {
        memspace_predefined_t which;
        memspace_rule_t rule;
        unsigned partition; // memkind's kind of the same rule, or MEMKIND_MAX_KIND
    } pairs[] = {
        {MEMSPACE_HOST_ALL, MEMSPACE_RULE_ALL, MEMKIND_PARTITION_INTERLEAVE},
        {MEMSPACE_HIGHEST_CAPACITY, MEMSPACE_RULE_HIGHEST_CAPACITY,
         MEMKIND_PARTITION_HIGHEST_CAPACITY},
        {MEMSPACE_HIGHEST_BANDWIDTH, MEMSPACE_RULE_HIGHEST_BANDWIDTH, MEMKIND_MAX_KIND},
        {MEMSPACE_LOWEST_LATENCY, MEMSPACE_RULE_LOWEST_LATENCY, MEMKIND_MAX_KIND},
    };
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        umf_const_memspace_handle_t ms = memspace_predefined_get(pairs[k].which);
        unsigned c = memspace_predefined_initiator();
        if (c == TOPO_NODE_NONE)
            c = topo_current_node();
        nodeset_t want, got;
        oracle(pairs[k].rule, c, &want);
        if (nodeset_empty(&want)) {
            assert_null(ms);
            continue;
        }
        assert_non_null(ms);
        memspace_nodes_of(ms, &got);
        assert_same(&got, &want, memspace_predefined_name(pairs[k].which), pairs[k].rule, c);
        if (pairs[k].partition < MEMKIND_MAX_KIND) {
            mk_heap_t *h = mk_heap_get(&mk_static_kinds[pairs[k].partition]);
            assert_same(&h->slots[0].nodes, &got, "memkind vs UMF", pairs[k].rule, c);
        }
    }
}

static void check_all(void) {
    assert_true(check_engine() > 0);
    check_memkind();
    check_umf();
}

// ---- fixed machines ---------------------------------------------------------------

// Uses t with the HBW and DAX KMEM nodes of two node lists.
static void use_lists(const fake_tree_t *t, const char *hbw, const char *kmem) {
    nodeset_t h, k;
    assert_int_equal(nodeset_parse_list(hbw, &h), 0);
    assert_int_equal(nodeset_parse_list(kmem, &k), 0);
    use(t, &h, &k);
}

static void test_fixed_machines(void **state) {
    (void)state;
    use_lists(&tree_hmat3, "2", "1");
    check_all();
    use_lists(&tree_hmat3, "1-2", "0"); // classes by override, not by figures
    check_all();
    use_lists(&tree_two_sockets, "3", "2"); // HBM behind socket 0, CXL behind socket 1
    check_all();
    use_lists(&tree_two_sockets, "2-3", "0-1"); // one HBW node per socket
    check_all();
    use_lists(&tree_all_hbm, "0-3", "1"); // HBW by override overrides KMEM
    check_all();
    use_lists(&tree_no_hmat, "1-2", "0");
    check_all();
}

static void test_big_machine(void **state) {
    (void)state;
    nodeset_t hbw, kmem;
    nodeset_zero(&hbw);
    nodeset_zero(&kmem);
    nodeset_set(&hbw, 129);
    nodeset_set(&hbw, 3);
    nodeset_set(&kmem, 64);
    nodeset_set(&kmem, 65);
    use(tree_big(), &hbw, &kmem); // 65 CPU nodes
    check_all();
}

// ---- random machines ---------------------------------------------------------------

static uint64_t rng;
static unsigned rnd(unsigned n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

#define RMAX 10u

static void test_random_machines(void **state) {
    (void)state;
    rng = test_seed("test_memspace_nodes random machines") | 1;
    static fake_node_t nodes[RMAX];
    static char cpus[RMAX][16];
    static unsigned dist[RMAX * RMAX];
    for (unsigned round = 0; round < 12; round++) {
        unsigned n = 3 + rnd(RMAX - 2), cpu = 0;
        nodeset_t hbw, kmem;
        nodeset_zero(&hbw);
        nodeset_zero(&kmem);
        for (unsigned i = 0; i < n; i++) {
            bool with_cpus = i == 0 || rnd(3) == 0;
            if (with_cpus) {
                snprintf(cpus[i], sizeof cpus[i], "%u-%u", cpu, cpu + 1);
                cpu += 2;
            } else {
                cpus[i][0] = '\0';
            }
            // Few distinct values, so that ties happen.
            nodes[i] = (fake_node_t){.id = i, .cpus = cpus[i], .mem_mb = 1024u << rnd(3),
                                     .free_mb = 512, .initiator = FAKE_NO_INITIATOR};
            for (unsigned j = 0; j <= i; j++) {
                unsigned d = i == j ? 10 : 12 + 2 * rnd(4);
                dist[i * n + j] = dist[j * n + i] = d;
            }
            nodeset_set(rnd(2) ? &hbw : &kmem, i);
        }
        // HMAT: most nodes get figures from one CPU node (themselves when
        // they have CPUs, else a random one).
        for (unsigned i = 0; i < n; i++) {
            if (rnd(5) == 0)
                continue;
            unsigned ini = i;
            while (!nodes[ini].cpus[0])
                ini = rnd(n);
            nodes[i].initiator = (int)ini;
            // Read = write: how hwloc combines differing ones is the
            // topology layer's business (tests/unit/topology).
            nodes[i].rbw = nodes[i].wbw = 10000u * (1 + rnd(4));
            nodes[i].rlat = nodes[i].wlat = 50u + 50u * rnd(4);
        }
        if (nodeset_empty(&hbw))
            nodeset_set(&hbw, n - 1);
        if (nodeset_empty(&kmem))
            nodeset_set(&kmem, n - 1);
        fake_tree_t t = {nodes, n, dist, NULL, 0, NULL, 0};
        printf("round %u: %u nodes, %u with CPUs\n", round, n, cpu / 2);
        for (unsigned i = 0; i < n; i++)
            printf("  node %u cpus \"%s\" %" PRIu64 " MiB initiator %d bw %" PRIu64 "/%" PRIu64
                   " lat %" PRIu64 "/%" PRIu64 "\n",
                   i, nodes[i].cpus, nodes[i].mem_mb, nodes[i].initiator, nodes[i].rbw,
                   nodes[i].wbw, nodes[i].rlat, nodes[i].wlat);
        use(&t, &hbw, &kmem);
        check_all();
    }
}

static int teardown(void **state) {
    (void)state;
    reset();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fixed_machines, teardown),
        cmocka_unit_test_teardown(test_big_machine, teardown),
        cmocka_unit_test_teardown(test_random_machines, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
