// SPDX-License-Identifier: MIT
// The node-selection engine (memspace_nodes.h): every rule by which
// hetmem chooses NUMA nodes, computed from the topology layer. UMF's
// predefined memspaces ask it once, for the first caller's CPU node;
// memkind asks it for every CPU node (one pool per distinct answer);
// hmalloc asks it to check the nodes hmctl gave.
//
// Locality: the local domain of a CPU node is itself plus the CPU-less
// nodes whose initiator it is - the HMAT initiator the node's figures
// were measured from, else the nearest node with CPUs by SLIT distance.
// HMAT figures: bandwidth is the combined access bandwidth (the lower of
// read and write), latency the combined latency (the higher); 0 means "no
// figure". A machine without HMAT has no answer for the HMAT rules.
#include <errno.h>
#include <limits.h>

#include "base/log.h"
#include "os/os.h"
#include "memspace/memspace_nodes.h"
#include "topology/topo.h"

int memspace_nodes_topology(void) {
    int e = topo_init();
    return e == EINVAL ? 0 : e; // EINVAL: a malformed override was ignored
}

void memspace_nodes_cpu(nodeset_t *out) {
    nodeset_zero(out);
    if (memspace_nodes_topology() != 0)
        return;
    for (unsigned i = 0; i < topo_node_count(); i++) {
        const topo_node_t *n = topo_node_at(i);
        if (!nodeset_empty(&n->cpus))
            nodeset_set(out, n->id);
    }
}

#define FOR_EACH_NODE(n, set)                                                                      \
    for (int n = nodeset_next((set), 0); n >= 0; n = nodeset_next((set), (unsigned)n + 1))

// SLIT distance, "unknown" the largest, so known distances win.
static int dist(unsigned from, unsigned to) {
    int d = topo_distance(from, to);
    return d < 0 ? INT_MAX : d;
}

// The CPU node a node belongs to for locality (see the file comment).
static int owner(const topo_node_t *n, const nodeset_t *cpus) {
    if (!nodeset_empty(&n->cpus))
        return (int)n->id;
    if (n->perf_initiator != TOPO_NODE_NONE && nodeset_isset(cpus, n->perf_initiator))
        return (int)n->perf_initiator;
    int best = -1, best_d = INT_MAX;
    FOR_EACH_NODE(c, cpus) {
        int d = dist((unsigned)c, n->id);
        if (best < 0 || d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

void memspace_nodes_local_domain(unsigned cpu_node, nodeset_t *out) {
    nodeset_t cpus;
    memspace_nodes_cpu(&cpus);
    nodeset_zero(out);
    for (unsigned i = 0; i < topo_node_count() && !nodeset_empty(&cpus); i++)
        if (owner(topo_node_at(i), &cpus) == (int)cpu_node)
            nodeset_set(out, topo_node_at(i)->id);
}

typedef enum { SUM_CAPACITY, SUM_FREE, SUM_HUGE_2M } sum_t;

static uint64_t sum(const nodeset_t *nodes, sum_t what) {
    uint64_t total = 0;
    FOR_EACH_NODE(n, nodes) {
        const topo_node_t *t = topo_node((unsigned)n);
        uint64_t f = 0;
        if (what == SUM_FREE)
            total += topo_node_free((unsigned)n, &f) == 0 ? f : 0;
        else if (t)
            total += what == SUM_CAPACITY ? t->capacity : t->hugepages_2m;
    }
    return total;
}

uint64_t memspace_nodes_capacity(const nodeset_t *nodes) { return sum(nodes, SUM_CAPACITY); }
uint64_t memspace_nodes_free(const nodeset_t *nodes) { return sum(nodes, SUM_FREE); }
uint64_t memspace_nodes_hugepages_2m(const nodeset_t *nodes) { return sum(nodes, SUM_HUGE_2M); }

int memspace_range_on_nodes(void *addr, size_t size, const nodeset_t *nodes, bool touch,
                            bool *on) {
    size_t page = os_page_size();
    uintptr_t p = (uintptr_t)addr & ~(uintptr_t)(page - 1), end;
    if (__builtin_add_overflow((uintptr_t)addr, size, &end))
        return EINVAL;
    enum { BATCH = 256 };
    void *pages[BATCH];
    int status[BATCH];
    bool ok = true;
    while (p < end && ok) {
        size_t n = 0;
        for (; n < BATCH && p < end; n++, p += page) {
            if (touch) { // read and write back the first byte of the page in the range
                volatile char *c = (volatile char *)(p < (uintptr_t)addr ? (uintptr_t)addr : p);
                *c = *c;
            }
            pages[n] = (void *)p;
        }
        int e = os_move_pages(n, pages, NULL, status);
        if (e)
            return e;
        for (size_t i = 0; i < n && ok; i++)
            ok = status[i] >= 0 && nodeset_isset(nodes, (unsigned)status[i]);
    }
    *on = ok;
    return 0;
}

// The members of `cands` at the shortest distance from cpu_node.
static void nearest(const nodeset_t *cands, unsigned cpu_node, nodeset_t *out) {
    int best = INT_MAX;
    nodeset_zero(out);
    FOR_EACH_NODE(n, cands) {
        int d = dist(cpu_node, (unsigned)n);
        if (d < best) {
            nodeset_zero(out);
            best = d;
        }
        if (d == best)
            nodeset_set(out, (unsigned)n);
    }
}

typedef enum { BY_CAPACITY, BY_LATENCY, BY_BANDWIDTH } perf_key_t;

static uint64_t metric(const topo_perf_t *p, perf_key_t key) {
    return key == BY_LATENCY ? p->lat_ns : p->bw_mbps;
}

// Figures of target seen from initiator; with `own`, the target's figures
// from its own best initiator (when `own_any`) or only when that initiator
// is `initiator`. False when there are none.
static bool perf_of(unsigned initiator, unsigned target, bool own_any, topo_perf_t *p) {
    const topo_node_t *t = topo_node(target);
    if (!own_any && topo_perf(initiator, target, p) == 0)
        return true;
    if (t && t->perf_initiator != TOPO_NODE_NONE &&
        (own_any || t->perf_initiator == initiator)) {
        *p = t->perf;
        return true;
    }
    return false;
}

// UMF's HighestBandwidth / LowestLatency: every node with the best figure
// (ties all kept) as seen from cpu_node; where cpu_node has no figures at
// all (HMAT leaves it out), each node's figures from its own best
// initiator are used instead.
static memspace_pick_t best_of_all(unsigned cpu_node, perf_key_t key, nodeset_t *out,
                                   const char **why) {
    if (!topo_has_hmat()) {
        *why = "the machine reports no HMAT bandwidth/latency figures (no ACPI HMAT table, or "
               "a kernel without CONFIG_HMEM_REPORTING)";
        return MEMSPACE_PICK_NONE;
    }
    for (int pass = 0; pass < 2; pass++) {
        bool own = pass == 1, any = false;
        uint64_t best = 0, v[NODESET_MAX];
        for (unsigned i = 0; i < topo_node_count(); i++) {
            topo_perf_t p;
            unsigned id = topo_node_at(i)->id;
            v[id] = perf_of(cpu_node, id, own, &p) ? metric(&p, key) : 0;
            if (v[id] && (!any || (key == BY_LATENCY ? v[id] < best : v[id] > best))) {
                best = v[id];
                any = true;
            }
        }
        if (!any)
            continue;
        if (own)
            LOG_INFO("HMAT has no figures from initiator node %u: using each node's best "
                     "initiator", cpu_node);
        for (unsigned i = 0; i < topo_node_count(); i++)
            if (v[topo_node_at(i)->id] == best)
                nodeset_set(out, topo_node_at(i)->id);
        return MEMSPACE_PICK_OK;
    }
    *why = "HMAT gives no figure of this kind for any node";
    return MEMSPACE_PICK_NONE;
}

// memkind's *_LOCAL rules: the one best node of the local domain by `key`,
// with the ties of memspace_nodes_select.
static memspace_pick_t best_local(unsigned cpu_node, perf_key_t key, nodeset_t *out,
                                  const char **why) {
    nodeset_t dom;
    memspace_nodes_local_domain(cpu_node, &dom);
    int best = -1;
    uint64_t best_v = 0, best_cap = 0, best_lat = 0;
    FOR_EACH_NODE(n, &dom) {
        const topo_node_t *t = topo_node((unsigned)n);
        if (!t || t->capacity == 0)
            continue;
        topo_perf_t p = {0};
        bool have = perf_of(cpu_node, (unsigned)n, false, &p);
        uint64_t v = key == BY_CAPACITY ? t->capacity : have ? metric(&p, key) : 0;
        bool better;
        if (key == BY_CAPACITY) // tie: worse latency (unknown counts as best)
            better = best < 0 || v > best_v || (v == best_v && have && p.lat_ns > best_lat);
        else if (v == 0)
            continue;
        else if (v == best_v)
            better = t->capacity < best_cap;
        else
            better = best < 0 || (key == BY_LATENCY ? v < best_v : v > best_v);
        if (better) {
            best = n;
            best_v = v;
            best_cap = t->capacity;
            best_lat = have ? p.lat_ns : 0;
        }
    }
    if (best < 0) {
        *why = key == BY_CAPACITY ? "no memory in the CPU node's local domain"
                                  : "no HMAT figure for the CPU node's local domain";
        return MEMSPACE_PICK_NONE;
    }
    nodeset_set(out, (unsigned)best);
    return MEMSPACE_PICK_OK;
}

bool memspace_rule_per_cpu(memspace_rule_t rule) {
    switch (rule) {
    case MEMSPACE_RULE_HIGHEST_BANDWIDTH:
    case MEMSPACE_RULE_LOWEST_LATENCY:
    case MEMSPACE_RULE_HBW_CLOSEST:
    case MEMSPACE_RULE_KMEM_CLOSEST:
    case MEMSPACE_RULE_CAPACITY_LOCAL:
    case MEMSPACE_RULE_LATENCY_LOCAL:
    case MEMSPACE_RULE_BANDWIDTH_LOCAL: return true;
    default: return false;
    }
}

static memspace_pick_t pick(memspace_rule_t rule, unsigned cpu_node, const nodeset_t *given,
                            nodeset_t *out, const char **why) {
    nodeset_t cands;
    uint64_t max = 0;
    switch (rule) {
    case MEMSPACE_RULE_NONE: return MEMSPACE_PICK_OK;
    case MEMSPACE_RULE_GIVEN:
        if (!given)
            break;
        for (int n = nodeset_next(given, 0); n >= 0; n = nodeset_next(given, (unsigned)n + 1))
            if (!topo_node((unsigned)n)) {
                *why = "a given node does not exist";
                return MEMSPACE_PICK_NONE;
            }
        *out = *given;
        *why = "no node given";
        break;
    case MEMSPACE_RULE_ALL:
        *out = *topo_all_nodes();
        *why = "the topology lists no NUMA node with memory";
        break;
    case MEMSPACE_RULE_CPU:
        memspace_nodes_cpu(out);
        *why = "no node with CPUs and memory";
        break;
    case MEMSPACE_RULE_HIGHEST_CAPACITY:
        for (unsigned i = 0; i < topo_node_count(); i++)
            if (topo_node_at(i)->capacity > max)
                max = topo_node_at(i)->capacity;
        for (unsigned i = 0; i < topo_node_count() && max; i++)
            if (topo_node_at(i)->capacity == max)
                nodeset_set(out, topo_node_at(i)->id);
        *why = "no NUMA node reports a capacity";
        break;
    case MEMSPACE_RULE_HIGHEST_BANDWIDTH: return best_of_all(cpu_node, BY_BANDWIDTH, out, why);
    case MEMSPACE_RULE_LOWEST_LATENCY: return best_of_all(cpu_node, BY_LATENCY, out, why);
    case MEMSPACE_RULE_HBW_CLOSEST:
    case MEMSPACE_RULE_HBW_ALL:
        topo_nodes_of_class(TOPO_CLASS_HBM, &cands);
        *why = "no high-bandwidth (HBM) node";
        goto class;
    case MEMSPACE_RULE_KMEM_CLOSEST:
    case MEMSPACE_RULE_KMEM_ALL:
        topo_nodes_of_class(TOPO_CLASS_PMEM, &cands);
        *why = "no DAX KMEM node";
    class:
        if (rule == MEMSPACE_RULE_HBW_CLOSEST || rule == MEMSPACE_RULE_KMEM_CLOSEST)
            nearest(&cands, cpu_node, out);
        else
            *out = cands;
        break;
    case MEMSPACE_RULE_CAPACITY_LOCAL: return best_local(cpu_node, BY_CAPACITY, out, why);
    case MEMSPACE_RULE_LATENCY_LOCAL: return best_local(cpu_node, BY_LATENCY, out, why);
    case MEMSPACE_RULE_BANDWIDTH_LOCAL: return best_local(cpu_node, BY_BANDWIDTH, out, why);
    default: *why = "unknown rule"; return MEMSPACE_PICK_NONE;
    }
    return nodeset_empty(out) ? MEMSPACE_PICK_NONE : MEMSPACE_PICK_OK;
}

memspace_pick_t memspace_nodes_select(memspace_rule_t rule, unsigned cpu_node, bool single,
                                      const nodeset_t *given, nodeset_t *out,
                                      const char **reason) {
    const char *why = NULL;
    nodeset_t nodes;
    nodeset_zero(&nodes);
    memspace_pick_t r = MEMSPACE_PICK_NONE;
    if (memspace_nodes_topology() != 0)
        why = "the memory topology cannot be read (see HETMEM_LOG=info)";
    else
        r = pick(rule, cpu_node, given, &nodes, &why);
    if (r == MEMSPACE_PICK_OK && single && nodeset_count(&nodes) > 1) {
        char buf[128];
        nodeset_format(&nodes, buf, sizeof buf);
        LOG_INFO("nodes %s tie for the one node of CPU node %u", buf, cpu_node);
        why = "several nodes qualify equally for a one-node policy";
        r = MEMSPACE_PICK_TIE;
    }
    *out = nodes;
    if (reason)
        *reason = r == MEMSPACE_PICK_OK ? NULL : why;
    return r;
}
