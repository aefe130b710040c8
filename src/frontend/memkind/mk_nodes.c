// SPDX-License-Identifier: MIT
// Which NUMA nodes a static kind uses (memkind(3), KINDS), computed from the
// topology layer: HBW and DAX KMEM nodes nearest to a CPU (SLIT distance),
// the nodes of highest capacity, and the best node of a CPU's local domain
// by capacity, latency or bandwidth (HMAT). This is the one file that
// answers "which nodes" for the front end; when the memspace layer
// (src/memspace: HighestCapacity / HighestBandwidth / LowestLatency) is
// available, the *_LOCAL and CAPACITY rules can ask it instead without any
// other file changing.
//
// Rules and ties (memkind(3)):
//   HBW/KMEM closest   every node of the class at the shortest distance from
//                      the CPU's node; the PREFERRED kinds need exactly one,
//                      and two at the same shortest distance make them fail
//   CAPACITY           every node of the highest capacity; PREFERRED: one
//   CAPACITY_LOCAL     highest capacity in the local domain; a tie goes to
//                      the node with the worse (higher) latency, then the
//                      lower id
//   LATENCY_LOCAL      lowest HMAT latency; a tie goes to the smaller node
//   BANDWIDTH_LOCAL    highest HMAT bandwidth; a tie goes to the smaller node
// The local domain of a CPU node is itself plus the CPU-less nodes whose
// initiator it is: the HMAT initiator the node's figures were measured
// from, else the nearest node with CPUs by SLIT distance (lowest id on a
// tie). A machine without HMAT has no LATENCY/BANDWIDTH answer
// (MEMKIND_ERROR_UNAVAILABLE), as memkind requires HMAT for them.
#include <errno.h>
#include <limits.h>

#include "base/log.h"
#include "frontend/memkind/mk_internal.h"
#include "topology/topo.h"

// The topology, discovered on first need. A malformed memkind override
// (EINVAL) leaves it usable; the kinds that depend on the override learn
// that from mk_nodes_env_status.
static bool topo_ok(void) {
    int e = topo_init();
    if (e && e != EINVAL) {
        LOG_ERR("no NUMA topology (%s): memkind kinds are unavailable", LOG_STRERROR(e));
        return false;
    }
    return true;
}

int mk_nodes_env_status(bool hbw) {
    if (!topo_ok())
        return MEMKIND_ERROR_UNAVAILABLE;
    unsigned bad = topo_env_rejected();
    unsigned mask = hbw ? (TOPO_ENV_HBW_NODES | TOPO_ENV_HBW_THRESHOLD) : TOPO_ENV_DAX_KMEM_NODES;
    return (bad & mask) ? MEMKIND_ERROR_ENVIRON : MEMKIND_SUCCESS;
}

void mk_nodes_cpu_nodes(nodeset_t *out) {
    nodeset_zero(out);
    if (!topo_ok())
        return;
    for (unsigned i = 0; i < topo_node_count(); i++) {
        const topo_node_t *n = topo_node_at(i);
        if (!nodeset_empty(&n->cpus))
            nodeset_set(out, n->id);
    }
}

// SLIT distance with "unknown" as the largest value, so that known
// distances win and unknown ones tie among themselves.
static int dist(unsigned from, unsigned to) {
    int d = topo_distance(from, to);
    return d < 0 ? INT_MAX : d;
}

// The CPU node a node belongs to for locality (see the file comment).
static int owner(const topo_node_t *n) {
    if (!nodeset_empty(&n->cpus))
        return (int)n->id;
    if (n->perf_initiator != TOPO_NODE_NONE) {
        const topo_node_t *i = topo_node(n->perf_initiator);
        if (i && !nodeset_empty(&i->cpus))
            return (int)i->id;
    }
    nodeset_t cpus;
    mk_nodes_cpu_nodes(&cpus);
    int best = -1, best_d = INT_MAX;
    for (int c = nodeset_next(&cpus, 0); c >= 0; c = nodeset_next(&cpus, (unsigned)c + 1)) {
        int d = dist((unsigned)c, n->id);
        if (best < 0 || d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

void mk_nodes_local_domain(unsigned cpu_node, nodeset_t *out) {
    nodeset_zero(out);
    if (!topo_ok())
        return;
    for (unsigned i = 0; i < topo_node_count(); i++) {
        const topo_node_t *n = topo_node_at(i);
        if (owner(n) == (int)cpu_node)
            nodeset_set(out, n->id);
    }
}

uint64_t mk_nodes_capacity(const nodeset_t *nodes) {
    uint64_t sum = 0;
    for (int n = nodeset_next(nodes, 0); n >= 0; n = nodeset_next(nodes, (unsigned)n + 1)) {
        const topo_node_t *t = topo_node((unsigned)n);
        if (t)
            sum += t->capacity;
    }
    return sum;
}

uint64_t mk_nodes_free(const nodeset_t *nodes) {
    uint64_t sum = 0;
    for (int n = nodeset_next(nodes, 0); n >= 0; n = nodeset_next(nodes, (unsigned)n + 1)) {
        uint64_t f;
        if (topo_node_free((unsigned)n, &f) == 0)
            sum += f;
    }
    return sum;
}

uint64_t mk_nodes_hugepages_2m(const nodeset_t *nodes) {
    uint64_t sum = 0;
    for (int n = nodeset_next(nodes, 0); n >= 0; n = nodeset_next(nodes, (unsigned)n + 1)) {
        const topo_node_t *t = topo_node((unsigned)n);
        if (t)
            sum += t->hugepages_2m;
    }
    return sum;
}

// The members of `cands` at the shortest distance from cpu_node.
static void nearest(const nodeset_t *cands, unsigned cpu_node, nodeset_t *out) {
    nodeset_zero(out);
    int best = INT_MAX;
    for (int n = nodeset_next(cands, 0); n >= 0; n = nodeset_next(cands, (unsigned)n + 1)) {
        int d = dist(cpu_node, (unsigned)n);
        if (d < best) {
            nodeset_zero(out);
            best = d;
        }
        if (d == best)
            nodeset_set(out, (unsigned)n);
    }
}

// HMAT figures of target seen from initiator, or false.
static bool perf_of(unsigned initiator, unsigned target, topo_perf_t *p) {
    if (topo_perf(initiator, target, p) == 0)
        return true;
    const topo_node_t *t = topo_node(target);
    if (t && t->perf_initiator == initiator) {
        *p = t->perf;
        return true;
    }
    return false;
}

typedef enum { BY_CAPACITY, BY_LATENCY, BY_BANDWIDTH } local_key_t;

// The best node of the local domain by `key`, with the ties of the file
// comment. Returns MEMKIND_SUCCESS or MEMKIND_ERROR_UNAVAILABLE.
static int best_local(unsigned cpu_node, local_key_t key, nodeset_t *out) {
    nodeset_t dom;
    mk_nodes_local_domain(cpu_node, &dom);
    int best = -1;
    uint64_t best_v = 0, best_cap = 0, best_lat = 0;
    for (int n = nodeset_next(&dom, 0); n >= 0; n = nodeset_next(&dom, (unsigned)n + 1)) {
        const topo_node_t *t = topo_node((unsigned)n);
        if (!t || t->capacity == 0)
            continue;
        topo_perf_t p = {0};
        bool have = perf_of(cpu_node, (unsigned)n, &p);
        uint64_t v;
        bool better;
        switch (key) {
            case BY_CAPACITY:
                v = t->capacity;
                // higher capacity; tie: worse latency (unknown counts as best)
                better = best < 0 || v > best_v || (v == best_v && have && p.lat_ns > best_lat);
                break;
            case BY_LATENCY:
                if (!have || p.lat_ns == 0)
                    continue;
                v = p.lat_ns;
                better = best < 0 || v < best_v || (v == best_v && t->capacity < best_cap);
                break;
            default:
                if (!have || p.bw_mbps == 0)
                    continue;
                v = p.bw_mbps;
                better = best < 0 || v > best_v || (v == best_v && t->capacity < best_cap);
                break;
        }
        if (better) {
            best = n;
            best_v = v;
            best_cap = t->capacity;
            best_lat = have ? p.lat_ns : 0;
        }
    }
    nodeset_zero(out);
    if (best < 0)
        return MEMKIND_ERROR_UNAVAILABLE;
    nodeset_set(out, (unsigned)best);
    return MEMKIND_SUCCESS;
}

bool mk_rule_is_local(mk_rule_t rule) {
    switch (rule) {
        case MK_RULE_HBW_CLOSEST:
        case MK_RULE_KMEM_CLOSEST:
        case MK_RULE_CAPACITY_LOCAL:
        case MK_RULE_LATENCY_LOCAL:
        case MK_RULE_BANDWIDTH_LOCAL: return true;
        default: return false;
    }
}

int mk_nodes_select(mk_rule_t rule, unsigned cpu_node, bool single, nodeset_t *out) {
    nodeset_zero(out);
    if (!topo_ok())
        return MEMKIND_ERROR_UNAVAILABLE;
    nodeset_t cands;
    switch (rule) {
        case MK_RULE_NONE: return MEMKIND_SUCCESS;
        case MK_RULE_ALL: *out = *topo_all_nodes(); break;
        case MK_RULE_CPU: mk_nodes_cpu_nodes(out); break;
        case MK_RULE_HBW_CLOSEST:
        case MK_RULE_KMEM_CLOSEST:
            topo_nodes_of_class(rule == MK_RULE_HBW_CLOSEST ? TOPO_CLASS_HBM : TOPO_CLASS_PMEM,
                                &cands);
            nearest(&cands, cpu_node, out);
            break;
        case MK_RULE_HBW_ALL: topo_nodes_of_class(TOPO_CLASS_HBM, out); break;
        case MK_RULE_KMEM_ALL: topo_nodes_of_class(TOPO_CLASS_PMEM, out); break;
        case MK_RULE_CAPACITY: {
            uint64_t max = 0;
            for (unsigned i = 0; i < topo_node_count(); i++)
                if (topo_node_at(i)->capacity > max)
                    max = topo_node_at(i)->capacity;
            for (unsigned i = 0; i < topo_node_count() && max; i++)
                if (topo_node_at(i)->capacity == max)
                    nodeset_set(out, topo_node_at(i)->id);
            break;
        }
        case MK_RULE_CAPACITY_LOCAL: return best_local(cpu_node, BY_CAPACITY, out);
        case MK_RULE_LATENCY_LOCAL: return best_local(cpu_node, BY_LATENCY, out);
        case MK_RULE_BANDWIDTH_LOCAL: return best_local(cpu_node, BY_BANDWIDTH, out);
    }
    unsigned n = nodeset_count(out);
    if (n == 0)
        return MEMKIND_ERROR_UNAVAILABLE;
    if (single && n > 1) {
        char buf[128];
        nodeset_format(out, buf, sizeof buf);
        LOG_INFO("nodes %s tie for the preferred node of CPU node %u: the kind cannot allocate",
                 buf, cpu_node);
        return MEMKIND_ERROR_RUNTIME;
    }
    return MEMKIND_SUCCESS;
}
