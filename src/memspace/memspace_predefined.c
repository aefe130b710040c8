// SPDX-License-Identifier: MIT
// The predefined memspaces: computed once per process, on first use, from
// the topology layer, then published and never changed. This file owns the
// once-machinery, the reasons a memspace may not exist, and the HMAT rule
// that HighestBandwidth and LowestLatency share; each memspace's own rule
// is one policy_*.c file.
//
// Once: an atomic "done" flag per memspace read with acquire on the fast
// path; the first caller computes under one mutex and publishes with
// release. A thread that re-enters while computing (an allocation made by
// the topology discovery, routed back into hetmem by a front end) gets
// NULL instead of a deadlock. The result, NULL included, is final for the
// process (a machine does not grow HMAT tables at run time).
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/log.h"
#include "base/util.h"
#include "memspace/memspace_internal.h"

typedef struct predefined_t {
    const char *name;
    memspace_select_fn select;
    atomic_bool done;             // written once under `lock`, with release
    struct umf_memspace_t *ms;    // valid once done; NULL: see reason
    const char *reason;           // why ms is NULL (a string literal)
} predefined_t;

static predefined_t predefined[MEMSPACE_PREDEFINED_COUNT] = {
    [MEMSPACE_HOST_ALL] = {.name = "HostAll", .select = memspace_select_host_all},
    [MEMSPACE_HIGHEST_CAPACITY] = {.name = "HighestCapacity",
                                   .select = memspace_select_highest_capacity},
    [MEMSPACE_HIGHEST_BANDWIDTH] = {.name = "HighestBandwidth",
                                    .select = memspace_select_highest_bw},
    [MEMSPACE_LOWEST_LATENCY] = {.name = "LowestLatency", .select = memspace_select_lowest_latency},
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static __thread bool computing;                 // this thread holds `lock` in compute()
static _Atomic unsigned perf_initiator = TOPO_NODE_NONE; // see memspace_predefined_initiator

// Called with `lock` held, once per memspace.
static void compute(predefined_t *p) {
    nodeset_t nodes;
    const char *reason = NULL;
    int err = topo_init();
    // EINVAL: a malformed MEMKIND_* override was ignored; the topology is usable.
    if (err && err != EINVAL) {
        reason = "the memory topology cannot be read (see HETMEM_LOG=info)";
    } else if (!p->select(&nodes, &reason)) {
        if (!reason)
            reason = "no node qualifies";
    } else if (memspace_from_nodeset(&nodes, &p->ms) != UMF_RESULT_SUCCESS) {
        reason = "out of memory while building it";
    } else {
        p->ms->predefined = true;
        char list[128];
        nodeset_format(&nodes, list, sizeof list);
        LOG_INFO("predefined memspace %s: NUMA node(s) %s", p->name, list);
    }
    if (!p->ms) {
        p->reason = reason;
        // A documented, expected answer on machines without HMAT: a warning
        // (logging is off unless HETMEM_LOG / UMF_LOG asks), once.
        LOG_WARN("predefined memspace %s is not available: %s", p->name, reason);
    }
}

umf_const_memspace_handle_t memspace_predefined_get(memspace_predefined_t which) {
    if ((unsigned)which >= MEMSPACE_PREDEFINED_COUNT)
        return NULL;
    predefined_t *p = &predefined[which];
    if (likely(atomic_load_explicit(&p->done, memory_order_acquire)))
        return p->ms;
    if (computing)
        return NULL; // re-entered from inside compute(): see the file comment
    int saved = errno; // the topology's reads set it on paths that end well
    pthread_mutex_lock(&lock);
    if (!atomic_load_explicit(&p->done, memory_order_relaxed)) {
        computing = true;
        compute(p);
        computing = false;
        atomic_store_explicit(&p->done, true, memory_order_release);
    }
    pthread_mutex_unlock(&lock);
    if (p->ms)
        errno = saved;
    return p->ms;
}

const char *memspace_predefined_name(memspace_predefined_t which) {
    return (unsigned)which < MEMSPACE_PREDEFINED_COUNT ? predefined[which].name : "?";
}

const char *memspace_predefined_reason(memspace_predefined_t which) {
    if ((unsigned)which >= MEMSPACE_PREDEFINED_COUNT)
        return "no such memspace";
    const predefined_t *p = &predefined[which];
    if (!atomic_load_explicit(&p->done, memory_order_acquire))
        return "not computed yet";
    return p->ms ? NULL : p->reason;
}

unsigned memspace_predefined_initiator(void) {
    return atomic_load_explicit(&perf_initiator, memory_order_relaxed);
}

#ifdef HETMEM_TEST_HOOKS
void memspace_predefined_reset_for_testing(void) {
    pthread_mutex_lock(&lock);
    for (unsigned i = 0; i < MEMSPACE_PREDEFINED_COUNT; i++) {
        predefined_t *p = &predefined[i];
        memspace_free(p->ms);
        p->ms = NULL;
        p->reason = NULL;
        atomic_store_explicit(&p->done, false, memory_order_relaxed);
    }
    atomic_store_explicit(&perf_initiator, TOPO_NODE_NONE, memory_order_relaxed);
    pthread_mutex_unlock(&lock);
}
#endif

// ---- the HMAT rule -----------------------------------------------------------------

// The figure of node i seen from `init`, or from its own best initiator
// when `own` (the fallback); 0 when there is none.
static uint64_t figure(unsigned i, unsigned init, bool own,
                       uint64_t (*metric)(const topo_perf_t *p)) {
    const topo_node_t *n = topo_node_at(i);
    if (own)
        return n->perf_initiator == TOPO_NODE_NONE ? 0 : metric(&n->perf);
    topo_perf_t perf;
    return topo_perf(init, n->id, &perf) == 0 ? metric(&perf) : 0;
}

static bool better(bool highest, uint64_t v, uint64_t best) {
    return highest ? v > best : v < best;
}

// Two passes over the nodes: the best figure, then every node that has it
// (ties are all kept: two identical HBM stacks are both "the highest").
bool memspace_select_by_perf(bool highest, uint64_t (*metric)(const topo_perf_t *p),
                             nodeset_t *out, const char **reason) {
    if (!topo_has_hmat()) {
        *reason = "the machine reports no HMAT bandwidth/latency figures (no ACPI HMAT table, "
                  "or a kernel without CONFIG_HMEM_REPORTING)";
        return false;
    }
    unsigned init = topo_current_node(), count = topo_node_count();
    atomic_store_explicit(&perf_initiator, init, memory_order_relaxed);
    for (int pass = 0; pass < 2; pass++) {
        bool own = pass == 1; // the fallback: no figure at all from `init`
        bool any = false;
        uint64_t best = 0;
        for (unsigned i = 0; i < count; i++) {
            uint64_t v = figure(i, init, own, metric);
            if (v && (!any || better(highest, v, best))) {
                best = v;
                any = true;
            }
        }
        if (!any)
            continue;
        if (own)
            LOG_INFO("HMAT has no figures from initiator node %u: using each node's best "
                     "initiator",
                     init);
        nodeset_zero(out);
        for (unsigned i = 0; i < count; i++)
            if (figure(i, init, own, metric) == best)
                nodeset_set(out, topo_node_at(i)->id);
        return true;
    }
    *reason = "HMAT gives no figure of this kind for any node";
    return false;
}
