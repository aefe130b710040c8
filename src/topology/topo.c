// SPDX-License-Identifier: MIT
// The topology layer's front: the once-only discovery (pthread_once, with a
// per-thread guard so that a discovery that allocates, and so re-enters the
// allocator, gets EDEADLK instead of deadlocking on its own once-flag), the
// read-only accessors of topo.h, and topo_reset_for_testing().
//
// Every accessor first calls topo_init(); before discovery has succeeded it
// answers "nothing" (0 nodes, NULL, -1, ENOENT) rather than failing hard.
#include "topology/topo_priv.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

// protected by: once (written only inside discover(); pthread_once orders
// those writes before every return from pthread_once)
static topo_state_t st;
static bool ready;    // discovery found at least one node
static int init_err;  // what topo_init returns
static pthread_once_t once = PTHREAD_ONCE_INIT;

// Set while this thread runs discover(): hwloc mallocs, and a malloc that
// needs the topology must not wait on the once-flag its own thread holds.
static __thread bool in_discovery;

static void state_clear(void) {
    free(st.nodes);
    free(st.dist);
    free(st.perf);
    memset(&st, 0, sizeof st);
    for (unsigned i = 0; i < NODESET_MAX; i++) {
        st.index[i] = -1;
        st.cpu_node[i] = -1;
    }
    st.hbw_threshold = TOPO_HBW_THRESHOLD_DEFAULT;
}

static void discover(void) {
    in_discovery = true;
    state_clear();
    topo_sysfs_set_root(&st);
    int err = topo_hwloc_discover(&st);
    if (err) {
        // Nothing usable: forget any partial result. The node lists of the
        // overrides cannot be checked against no nodes, so they are left
        // unread rather than reported as wrong.
        state_clear();
        init_err = err;
        in_discovery = false;
        return;
    }
    topo_sysfs_discover(&st);
    int env_err = topo_env_read(&st);
    topo_classify(&st);
    LOG_INFO("%u node(s), HMAT %s, HBW threshold %llu MB/s%s%s", st.count,
             st.has_hmat ? "present" : "absent", (unsigned long long)st.hbw_threshold,
             st.root[0] ? ", sysfs root " : "", st.root);
    ready = true;
    init_err = env_err;
    in_discovery = false;
}

int topo_init(void) {
    if (in_discovery)
        return EDEADLK;
    pthread_once(&once, discover);
    return init_err;
}

// The state when discovery succeeded, else NULL.
static const topo_state_t *state(void) {
    topo_init();
    return ready && !in_discovery ? &st : NULL;
}

static const topo_node_t *by_id(const topo_state_t *s, unsigned id) {
    if (!s || id >= NODESET_MAX || s->index[id] < 0)
        return NULL;
    return &s->nodes[s->index[id]];
}

unsigned topo_node_count(void) {
    const topo_state_t *s = state();
    return s ? s->count : 0;
}

const topo_node_t *topo_node_at(unsigned i) {
    const topo_state_t *s = state();
    return s && i < s->count ? &s->nodes[i] : NULL;
}

const topo_node_t *topo_node(unsigned id) { return by_id(state(), id); }

const nodeset_t *topo_all_nodes(void) {
    static const nodeset_t empty;
    const topo_state_t *s = state();
    return s ? &s->all : &empty;
}

int topo_node_free(unsigned id, uint64_t *free_bytes) {
    const topo_state_t *s = state();
    if (!free_bytes)
        return EINVAL;
    if (!by_id(s, id))
        return ENOENT;
    return topo_sysfs_node_meminfo(s, id, NULL, free_bytes);
}

int topo_node_hugepages_free(unsigned id, size_t page_size, uint64_t *free_pages) {
    const topo_state_t *s = state();
    if (!free_pages || (page_size != ((size_t)2 << 20) && page_size != ((size_t)1 << 30)))
        return EINVAL;
    if (!by_id(s, id))
        return ENOENT;
    return topo_sysfs_node_hugepages(s, id, (unsigned)(page_size >> 10), NULL, free_pages);
}

int topo_distance(unsigned from, unsigned to) {
    const topo_state_t *s = state();
    if (!by_id(s, from) || !by_id(s, to))
        return -1;
    uint16_t d = s->dist ? s->dist[(size_t)s->index[from] * s->count + (size_t)s->index[to]] : 0;
    if (!d && from == to)
        d = 10; // hwloc keeps no 1x1 matrix; SLIT's local distance is 10
    return d ? (int)d : -1;
}

int topo_perf(unsigned initiator, unsigned target, topo_perf_t *out) {
    const topo_state_t *s = state();
    if (!out)
        return EINVAL;
    if (!s || initiator >= NODESET_MAX)
        return ENOENT;
    const topo_perf_entry_t *best = NULL;
    for (unsigned k = 0; k < s->nperf; k++) {
        const topo_perf_entry_t *e = &s->perf[k];
        if (e->target != target || !nodeset_isset(&e->initiators, initiator))
            continue;
        // One cpuset per initiator is the rule; if several contain this
        // node, the one with the higher bandwidth describes it best.
        if (!best || e->perf.bw_mbps > best->perf.bw_mbps)
            best = e;
    }
    if (!best)
        return ENOENT;
    *out = best->perf;
    return 0;
}

bool topo_has_hmat(void) {
    const topo_state_t *s = state();
    return s && s->has_hmat;
}

uint64_t topo_hbw_threshold(void) {
    topo_init();
    return in_discovery ? TOPO_HBW_THRESHOLD_DEFAULT : st.hbw_threshold;
}

unsigned topo_env_rejected(void) {
    topo_init();
    return in_discovery ? 0 : st.env_rejected;
}

void topo_nodes_of_class(topo_class_t cls, nodeset_t *out) {
    const topo_state_t *s = state();
    nodeset_zero(out);
    for (unsigned i = 0; s && i < s->count; i++)
        if (s->nodes[i].cls == cls)
            nodeset_set(out, s->nodes[i].id);
}

int topo_cpu_node(unsigned cpu) {
    const topo_state_t *s = state();
    if (!s || cpu >= NODESET_MAX)
        return -1;
    return s->cpu_node[cpu];
}

unsigned topo_current_node(void) {
    const topo_state_t *s = state();
    if (!s)
        return 0;
    int cpu = sched_getcpu();
    if (cpu >= 0 && (unsigned)cpu < NODESET_MAX && s->cpu_node[cpu] >= 0)
        return (unsigned)s->cpu_node[cpu];
    // A CPU the topology does not know (a fake tree, or one beyond
    // NODESET_MAX): the first node with CPUs, else the first node.
    for (unsigned i = 0; i < s->count; i++)
        if (!nodeset_empty(&s->nodes[i].cpus))
            return s->nodes[i].id;
    return s->nodes[0].id;
}

int topo_parse_nodestring(const char *str, nodeset_t *out) {
    const topo_state_t *s = state();
    if (!s)
        return EINVAL;
    return topo_nodestring_parse(&s->all, str, out);
}

const char *topo_class_name(topo_class_t cls) {
    switch (cls) {
    case TOPO_CLASS_DRAM:
        return "DRAM";
    case TOPO_CLASS_HBM:
        return "HBM";
    case TOPO_CLASS_CXL:
        return "CXL";
    case TOPO_CLASS_PMEM:
        return "PMEM";
    }
    return "?";
}

#ifdef HETMEM_TEST_HOOKS
void topo_reset_for_testing(void) {
    state_clear();
    ready = false;
    init_err = 0;
    topo_env_reset_reports();
    // Re-arming a pthread_once_t is allowed while no thread is inside it,
    // which is this function's documented precondition.
    static const pthread_once_t fresh = PTHREAD_ONCE_INIT;
    once = fresh;
}
#endif
