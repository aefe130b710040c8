// SPDX-License-Identifier: MIT
// The class (DRAM, HBM, CXL, PMEM) and tier of every node. The rule, in the
// order it is applied (docs/topology.md explains each step):
//   1. MEMKIND_HBW_NODES set: exactly those nodes are HBM (memkind replaces
//      its detection with the list; nodes outside it are never HBM).
//   2. MEMKIND_DAX_KMEM_NODES set: exactly those nodes are PMEM.
//   3. Without the DAX override, a node fed by a dax device bound to the
//      kmem driver is PMEM.
//   4. Without the HBW override, a node whose HMAT bandwidth from its best
//      initiator is >= MEMKIND_HBW_THRESHOLD is HBM (with or without CPUs:
//      an A64FX-like machine has only HBM nodes).
//   5. A node with CPUs is DRAM.
//   6. A CPU-less node with HMAT figures is CXL when its bandwidth is lower
//      or its latency higher than the reference DRAM node's, else DRAM.
//   7. A CPU-less node without HMAT figures is CXL ("far"): without HMAT
//      nothing is HBM, as in memkind. (If no node has CPUs at all, there is
//      nothing to be far from, and such a node is DRAM.)
// Tier: the kernel's memory_tiering id when it has one; else the id Linux
// 6.12 would give: nodes with CPUs 4; CPU-less nodes from HMAT against the
// reference DRAM node (mt_perf_to_adistance), or 22 for a dax kmem node
// without figures, or 4.
#include "topology/topo_priv.h"

#include "base/log.h"

bool topo_best_perf(const topo_state_t *st, unsigned target, topo_perf_t *perf,
                    unsigned *initiator) {
    const topo_perf_entry_t *best = NULL;
    for (unsigned k = 0; k < st->nperf; k++) {
        const topo_perf_entry_t *e = &st->perf[k];
        if (e->target != target)
            continue;
        if (!best) {
            best = e;
            continue;
        }
        // Higher bandwidth wins, then lower latency (0 = not reported).
        const topo_perf_t *a = &e->perf, *b = &best->perf;
        if (a->bw_mbps != b->bw_mbps) {
            if (a->bw_mbps > b->bw_mbps)
                best = e;
        } else if (a->lat_ns && (!b->lat_ns || a->lat_ns < b->lat_ns)) {
            best = e;
        }
    }
    if (!best)
        return false;
    *perf = best->perf;
    *initiator = (unsigned)nodeset_next(&best->initiators, 0);
    return true;
}

static bool has_figures(const topo_node_t *n) { return n->perf.bw_mbps || n->perf.lat_ns; }

// The reference DRAM figures, as the kernel's default_dram_perf: the first
// node (by id) with CPUs and HMAT figures. NULL when there is none.
static const topo_node_t *reference_node(const topo_state_t *st) {
    for (unsigned i = 0; i < st->count; i++)
        if (!nodeset_empty(&st->nodes[i].cpus) && has_figures(&st->nodes[i]))
            return &st->nodes[i];
    return NULL;
}

static bool slower_than(const topo_perf_t *p, const topo_perf_t *ref) {
    if (p->bw_mbps && ref->bw_mbps && p->bw_mbps < ref->bw_mbps)
        return true;
    return p->lat_ns && ref->lat_ns && p->lat_ns > ref->lat_ns;
}

static topo_class_t class_of(const topo_state_t *st, topo_node_t *n, const topo_node_t *ref,
                             bool any_cpus) {
    bool cpuless = nodeset_empty(&n->cpus);
    if (st->hbw_env_set && nodeset_isset(&st->hbw_env, n->id)) {
        n->hbw_override = true;
        return TOPO_CLASS_HBM;
    }
    if (st->kmem_env_set && nodeset_isset(&st->kmem_env, n->id)) {
        n->kmem_override = true;
        return TOPO_CLASS_PMEM;
    }
    if (!st->kmem_env_set && n->dax_kmem)
        return TOPO_CLASS_PMEM;
    if (!st->hbw_env_set && n->perf.bw_mbps && n->perf.bw_mbps >= st->hbw_threshold)
        return TOPO_CLASS_HBM;
    if (!cpuless || !any_cpus)
        return TOPO_CLASS_DRAM;
    if (has_figures(n) && ref)
        return slower_than(&n->perf, &ref->perf) ? TOPO_CLASS_CXL : TOPO_CLASS_DRAM;
    return TOPO_CLASS_CXL;
}

// Read + write sums of a perf record, as the kernel adds them; a record
// with only combined figures counts them for both.
static void rw(const topo_perf_t *p, uint64_t *bw, uint64_t *lat) {
    *bw = p->read_bw_mbps + p->write_bw_mbps;
    if (!*bw)
        *bw = 2 * p->bw_mbps;
    *lat = p->read_lat_ns + p->write_lat_ns;
    if (!*lat)
        *lat = 2 * p->lat_ns;
}

// Linux mt_perf_to_adistance(): the DRAM distance scaled by the latency
// ratio and the inverse bandwidth ratio, in its integer order of operations.
static bool perf_to_adistance(const topo_perf_t *p, const topo_perf_t *ref, uint64_t *adist) {
    uint64_t bw, lat, rbw, rlat;
    rw(p, &bw, &lat);
    rw(ref, &rbw, &rlat);
    if (!bw || !lat || !rbw || !rlat)
        return false;
    uint64_t a = (uint64_t)TOPO_ADIST_DRAM * lat;
    if (a / lat != TOPO_ADIST_DRAM)
        return false;
    a = a / rlat;
    if (a > UINT64_MAX / rbw)
        return false;
    *adist = a * rbw / bw;
    return true;
}

static int derived_tier(const topo_node_t *n, const topo_node_t *ref) {
    uint64_t adist = TOPO_ADIST_DRAM;
    if (nodeset_empty(&n->cpus)) {
        if (ref && has_figures(n) && perf_to_adistance(&n->perf, &ref->perf, &adist))
            ; // from HMAT
        else if (n->dax_kmem)
            adist = TOPO_ADIST_DAX_DEFAULT;
    }
    uint64_t tier = adist >> TOPO_MEMTIER_CHUNK_BITS;
    return tier > INT16_MAX ? INT16_MAX : (int)tier;
}

void topo_classify(topo_state_t *st) {
    bool any_cpus = false;
    for (unsigned i = 0; i < st->count; i++) {
        topo_node_t *n = &st->nodes[i];
        any_cpus |= !nodeset_empty(&n->cpus);
        if (!topo_best_perf(st, n->id, &n->perf, &n->perf_initiator))
            n->perf_initiator = TOPO_NODE_NONE;
    }
    const topo_node_t *ref = reference_node(st);
    for (unsigned i = 0; i < st->count; i++) {
        topo_node_t *n = &st->nodes[i];
        n->cls = class_of(st, n, ref, any_cpus);
        if (!n->tier_from_kernel)
            n->tier = derived_tier(n, ref);
        LOG_INFO("node %u: %s, tier %d%s, bw %llu MB/s, lat %llu ns", n->id,
                 topo_class_name(n->cls), n->tier, n->tier_from_kernel ? " (kernel)" : "",
                 (unsigned long long)n->perf.bw_mbps, (unsigned long long)n->perf.lat_ns);
    }
}
