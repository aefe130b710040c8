// SPDX-License-Identifier: MIT
// The only file that talks to hwloc. One call, topo_hwloc_discover(), loads
// a topology (HWLOC_FSROOT is read by hwloc itself), copies what hetmem needs
// into topo_state_t - the NUMA nodes with memory and their capacity, their
// own CPUs, the SLIT distance matrix and the HMAT figures per initiator - and
// destroys the hwloc topology again, so no hwloc object outlives the call.
//
// hwloc gives a CPU-less node the cpuset of its closest CPUs (its locality),
// not its own CPUs, so the node's own CPUs come from sysfs (topo_sysfs.c).
// hwloc may allocate: discovery must not run from inside malloc (topo.c has
// the recursion guard).
#include "topology/topo_priv.h"

#include <errno.h>
#include <hwloc.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

// One hwloc NUMA node, memory or not, before the nodes are compacted.
typedef struct raw_node_t {
    hwloc_obj_t obj;
    unsigned id;
    uint64_t capacity;
    nodeset_t cpus;
} raw_node_t;

// One (target, initiator cpuset) pair while the memattrs are collected.
typedef struct raw_perf_t {
    nodeset_t cpus; // the initiator's cpuset
    unsigned target;
    topo_perf_t perf;
} raw_perf_t;

static void bitmap_to_nodeset(hwloc_const_bitmap_t b, nodeset_t *out) {
    nodeset_zero(out);
    int i = hwloc_bitmap_first(b);
    while (i >= 0 && (unsigned)i < NODESET_MAX) {
        nodeset_set(out, (unsigned)i);
        i = hwloc_bitmap_next(b, i);
    }
}

static bool nodeset_subset(const nodeset_t *a, const nodeset_t *b) {
    for (unsigned i = 0; i < NODESET_WORDS; i++)
        if (a->w[i] & ~b->w[i])
            return false;
    return true;
}

static hwloc_topology_t load_topology(const topo_state_t *st) {
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0)
        return NULL;
    // Disallowed (cgroup-restricted) and CPU-less nodes are still nodes of
    // the machine; whether a process may use them is the OS layer's answer.
    hwloc_topology_set_flags(t, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
    // Only NUMA nodes, PUs and the memory attributes matter here.
    hwloc_topology_set_cache_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_icache_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE);
    hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_NONE);
    // No Groups: hwloc would build them from the distance matrix, and on
    // some matrices (e.g. 10 + |i - j|) reports "intersection without
    // inclusion" on stderr while doing so; hetmem reads the matrix itself.
    hwloc_topology_set_type_filter(t, HWLOC_OBJ_GROUP, HWLOC_TYPE_FILTER_KEEP_NONE);
    // With a foreign sysfs root the CPUID of the CPU we run on describes
    // another machine: keep the x86 backend from mixing it in.
    if (st->root[0])
        hwloc_topology_set_components(t, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "x86");
    if (hwloc_topology_load(t) != 0) {
        hwloc_topology_destroy(t);
        return NULL;
    }
    return t;
}

// Collects every hwloc NUMA node. A node's CPUs come from sysfs; when the
// kernel has no node directory (no NUMA) hwloc's single node owns all CPUs.
static int collect_raw(const topo_state_t *st, hwloc_topology_t t, raw_node_t **out,
                       unsigned *nout) {
    int nb = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
    if (nb <= 0)
        return ENOENT;
    raw_node_t *raw = calloc((size_t)nb, sizeof *raw);
    if (!raw)
        return ENOMEM;
    unsigned n = 0;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, o));) {
        if (o->os_index >= NODESET_MAX) {
            LOG_WARN("node %u is beyond %u nodes; ignored", o->os_index, NODESET_MAX);
            continue;
        }
        raw_node_t *r = &raw[n++];
        r->obj = o;
        r->id = o->os_index;
        r->capacity = o->attr ? o->attr->numanode.local_memory : 0;
        int err = topo_sysfs_node_cpus(st, r->id, &r->cpus);
        if (err == ENOENT && nb == 1 && o->cpuset)
            bitmap_to_nodeset(o->cpuset, &r->cpus);
        else if (err)
            nodeset_zero(&r->cpus);
    }
    *out = raw;
    *nout = n;
    return 0;
}

// SLIT distances between the hwloc objects (memoryless nodes included, for
// the mapping of their CPUs). Returns a malloc'd nraw*nraw matrix or NULL.
static uint16_t *raw_distances(hwloc_topology_t t, const raw_node_t *raw, unsigned nraw) {
    struct hwloc_distances_s *d = NULL;
    unsigned nr = 1;
    if (hwloc_distances_get_by_type(t, HWLOC_OBJ_NUMANODE, &nr, &d,
                                    HWLOC_DISTANCES_KIND_MEANS_LATENCY, 0) != 0 ||
        nr == 0 || !d)
        return NULL;
    uint16_t *m = calloc((size_t)nraw * nraw, sizeof *m);
    if (m) {
        // d->objs is in hwloc's order; map each object to its raw index.
        int *pos = malloc(d->nbobjs * sizeof *pos);
        if (!pos) {
            free(m);
            m = NULL;
        } else {
            for (unsigned i = 0; i < d->nbobjs; i++) {
                pos[i] = -1;
                for (unsigned k = 0; k < nraw; k++)
                    if (raw[k].obj == d->objs[i])
                        pos[i] = (int)k;
            }
            for (unsigned i = 0; i < d->nbobjs; i++)
                for (unsigned j = 0; j < d->nbobjs; j++)
                    if (pos[i] >= 0 && pos[j] >= 0) {
                        uint64_t v = d->values[i * d->nbobjs + j];
                        m[(size_t)pos[i] * nraw + (size_t)pos[j]] =
                            v > UINT16_MAX ? UINT16_MAX : (uint16_t)v;
                    }
            free(pos);
        }
    }
    hwloc_distances_release(t, d);
    return m;
}

// Fills nodes/index/all/cpu_node/dist from the raw list: nodes with memory
// are kept; the CPUs of a memoryless node count as the nearest memory
// node's for topo_cpu_node (ties: the lowest id).
static int build_nodes(topo_state_t *st, const raw_node_t *raw, unsigned nraw,
                       const uint16_t *rdist) {
    int raw_of_id[NODESET_MAX];
    for (unsigned i = 0; i < NODESET_MAX; i++)
        raw_of_id[i] = -1;
    for (unsigned k = 0; k < nraw; k++)
        if (raw[k].capacity > 0)
            raw_of_id[raw[k].id] = (int)k;
    unsigned count = 0;
    for (unsigned i = 0; i < NODESET_MAX; i++)
        count += raw_of_id[i] >= 0;
    if (count == 0)
        return ENOENT;
    st->nodes = calloc(count, sizeof *st->nodes);
    if (!st->nodes)
        return ENOMEM;
    int rk_of_index[NODESET_MAX];
    unsigned c = 0;
    for (unsigned id = 0; id < NODESET_MAX; id++) {
        if (raw_of_id[id] < 0)
            continue;
        const raw_node_t *r = &raw[raw_of_id[id]];
        topo_node_t *n = &st->nodes[c];
        n->id = id;
        n->capacity = r->capacity;
        n->cpus = r->cpus;
        n->tier = -1;
        n->perf_initiator = TOPO_NODE_NONE;
        st->index[id] = (int16_t)c;
        nodeset_set(&st->all, id);
        for (int cpu = nodeset_next(&r->cpus, 0); cpu >= 0;
             cpu = nodeset_next(&r->cpus, (unsigned)cpu + 1))
            st->cpu_node[cpu] = (int16_t)id;
        rk_of_index[c++] = raw_of_id[id];
    }
    st->count = count;
    if (rdist) {
        st->dist = calloc((size_t)count * count, sizeof *st->dist);
        if (!st->dist)
            return ENOMEM;
        for (unsigned i = 0; i < count; i++)
            for (unsigned j = 0; j < count; j++)
                st->dist[(size_t)i * count + j] =
                    rdist[(size_t)rk_of_index[i] * nraw + (size_t)rk_of_index[j]];
    }
    for (unsigned k = 0; k < nraw; k++) {
        if (raw[k].capacity > 0 || nodeset_empty(&raw[k].cpus))
            continue;
        unsigned best = TOPO_NODE_NONE, bestd = UINT16_MAX + 1u;
        for (unsigned i = 0; i < count && rdist; i++) {
            unsigned d = rdist[(size_t)k * nraw + (size_t)rk_of_index[i]];
            if (d && d < bestd) {
                bestd = d;
                best = st->nodes[i].id;
            }
        }
        if (best == TOPO_NODE_NONE)
            best = st->nodes[0].id; // no distances: the first node
        for (int cpu = nodeset_next(&raw[k].cpus, 0); cpu >= 0;
             cpu = nodeset_next(&raw[k].cpus, (unsigned)cpu + 1))
            st->cpu_node[cpu] = (int16_t)best;
        LOG_INFO("node %u has CPUs but no memory; its CPUs count as node %u's", raw[k].id, best);
    }
    return 0;
}

// Which topo_perf_t field an hwloc memory attribute fills.
static uint64_t *perf_field(topo_perf_t *p, hwloc_memattr_id_t attr) {
    switch (attr) {
    case HWLOC_MEMATTR_ID_BANDWIDTH:
        return &p->bw_mbps;
    case HWLOC_MEMATTR_ID_READ_BANDWIDTH:
        return &p->read_bw_mbps;
    case HWLOC_MEMATTR_ID_WRITE_BANDWIDTH:
        return &p->write_bw_mbps;
    case HWLOC_MEMATTR_ID_LATENCY:
        return &p->lat_ns;
    case HWLOC_MEMATTR_ID_READ_LATENCY:
        return &p->read_lat_ns;
    case HWLOC_MEMATTR_ID_WRITE_LATENCY:
        return &p->write_lat_ns;
    default:
        return NULL;
    }
}

// Appends the values of one attribute for one target to the raw list,
// merging values that share an initiator cpuset.
static int collect_attr(hwloc_topology_t t, hwloc_memattr_id_t attr, hwloc_obj_t target,
                        unsigned target_id, raw_perf_t **list, unsigned *n, unsigned *cap) {
    unsigned nr = 0;
    if (hwloc_memattr_get_initiators(t, attr, target, 0, &nr, NULL, NULL) != 0 || nr == 0)
        return 0;
    struct hwloc_location *locs = calloc(nr, sizeof *locs);
    hwloc_uint64_t *vals = calloc(nr, sizeof *vals);
    int err = 0;
    if (!locs || !vals) {
        err = ENOMEM;
        goto out;
    }
    unsigned got = nr;
    if (hwloc_memattr_get_initiators(t, attr, target, 0, &got, locs, vals) != 0)
        goto out;
    if (got > nr)
        got = nr;
    for (unsigned i = 0; i < got; i++) {
        hwloc_const_cpuset_t cs = NULL;
        if (locs[i].type == HWLOC_LOCATION_TYPE_CPUSET)
            cs = locs[i].location.cpuset;
        else if (locs[i].type == HWLOC_LOCATION_TYPE_OBJECT && locs[i].location.object)
            cs = locs[i].location.object->cpuset;
        if (!cs || vals[i] == 0)
            continue; // an initiator without CPUs (a GPU): not a node of ours
        nodeset_t cpus;
        bitmap_to_nodeset(cs, &cpus);
        raw_perf_t *e = NULL;
        for (unsigned k = 0; k < *n && !e; k++)
            if ((*list)[k].target == target_id && nodeset_equal(&(*list)[k].cpus, &cpus))
                e = &(*list)[k];
        if (!e) {
            if (*n == *cap) {
                unsigned ncap = *cap ? *cap * 2 : 16;
                raw_perf_t *nl = realloc(*list, ncap * sizeof *nl);
                if (!nl) {
                    err = ENOMEM;
                    goto out;
                }
                *list = nl;
                *cap = ncap;
            }
            e = &(*list)[(*n)++];
            memset(e, 0, sizeof *e);
            e->cpus = cpus;
            e->target = target_id;
        }
        *perf_field(&e->perf, attr) = vals[i];
    }
out:
    free(locs);
    free(vals);
    return err;
}

// Turns the initiator cpusets into initiator nodes and fills st->perf.
static int build_perf(topo_state_t *st, raw_perf_t *list, unsigned n) {
    if (n == 0)
        return 0;
    st->perf = calloc(n, sizeof *st->perf);
    if (!st->perf)
        return ENOMEM;
    for (unsigned k = 0; k < n; k++) {
        topo_perf_entry_t *e = &st->perf[st->nperf];
        nodeset_zero(&e->initiators);
        for (unsigned i = 0; i < st->count; i++) {
            const nodeset_t *c = &st->nodes[i].cpus;
            if (!nodeset_empty(c) && nodeset_subset(c, &list[k].cpus))
                nodeset_set(&e->initiators, st->nodes[i].id);
        }
        if (nodeset_empty(&e->initiators)) {
            // CPUs of memoryless nodes only: name the node they count as.
            int cpu = nodeset_next(&list[k].cpus, 0);
            if (cpu < 0 || st->cpu_node[cpu] < 0)
                continue;
            nodeset_set(&e->initiators, (unsigned)st->cpu_node[cpu]);
        }
        topo_perf_t *p = &list[k].perf;
        // Combined figures where hwloc only had read/write ones (topo.h).
        if (!p->bw_mbps && (p->read_bw_mbps || p->write_bw_mbps))
            p->bw_mbps = !p->read_bw_mbps    ? p->write_bw_mbps
                         : !p->write_bw_mbps ? p->read_bw_mbps
                         : p->read_bw_mbps < p->write_bw_mbps ? p->read_bw_mbps
                                                              : p->write_bw_mbps;
        if (!p->lat_ns && (p->read_lat_ns || p->write_lat_ns))
            p->lat_ns = p->read_lat_ns > p->write_lat_ns ? p->read_lat_ns : p->write_lat_ns;
        e->target = list[k].target;
        e->perf = *p;
        st->nperf++;
    }
    st->has_hmat = st->nperf > 0;
    return 0;
}

static int collect_perf(topo_state_t *st, hwloc_topology_t t, const raw_node_t *raw,
                        unsigned nraw) {
    static const hwloc_memattr_id_t attrs[] = {
        HWLOC_MEMATTR_ID_BANDWIDTH,       HWLOC_MEMATTR_ID_READ_BANDWIDTH,
        HWLOC_MEMATTR_ID_WRITE_BANDWIDTH, HWLOC_MEMATTR_ID_LATENCY,
        HWLOC_MEMATTR_ID_READ_LATENCY,    HWLOC_MEMATTR_ID_WRITE_LATENCY,
    };
    raw_perf_t *list = NULL;
    unsigned n = 0, cap = 0;
    int err = 0;
    for (unsigned k = 0; k < nraw && !err; k++) {
        if (raw[k].capacity == 0)
            continue;
        for (unsigned a = 0; a < sizeof attrs / sizeof attrs[0] && !err; a++)
            err = collect_attr(t, attrs[a], raw[k].obj, raw[k].id, &list, &n, &cap);
    }
    if (!err)
        err = build_perf(st, list, n);
    free(list);
    return err;
}

int topo_hwloc_discover(topo_state_t *st) {
    hwloc_topology_t t = load_topology(st);
    if (!t) {
        LOG_ERR("hwloc could not load the topology%s%s", st->root[0] ? " from " : "", st->root);
        return EIO;
    }
    raw_node_t *raw = NULL;
    unsigned nraw = 0;
    uint16_t *rdist = NULL;
    int err = collect_raw(st, t, &raw, &nraw);
    if (err)
        goto out;
    rdist = raw_distances(t, raw, nraw);
    err = build_nodes(st, raw, nraw, rdist);
    if (err)
        goto out;
    err = collect_perf(st, t, raw, nraw);
out:
    free(rdist);
    free(raw);
    hwloc_topology_destroy(t);
    return err;
}
