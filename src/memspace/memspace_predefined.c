// SPDX-License-Identifier: MIT
// The predefined memspaces (umfMemspace*Get): rows of a table, each naming
// a rule of the node-selection engine (memspace_nodes.c). UMF's documented
// behaviour: a predefined memspace is computed once per process, on first
// use, for the CPU node of the thread that first asks, then published and
// never changed (memkind asks the same engine per CPU node instead).
//
// Once: an atomic "done" flag per memspace read with acquire on the fast
// path; the first caller computes under one lock and publishes with
// release. A thread that re-enters while computing (an allocation made by
// the topology discovery, routed back into hetmem by a front end) gets
// NULL instead of a deadlock. The result, NULL included, is final for the
// process (a machine does not grow HMAT tables at run time).
#include <errno.h>
#include <stdatomic.h>

#include "base/lock.h"
#include "base/log.h"
#include "base/util.h"
#include "memspace/memspace_priv.h"
#include "memspace/memspace_nodes.h"

typedef struct predefined_t {
    const char *name;
    memspace_rule_t rule;
    atomic_bool done;             // written once under `lock`, with release
    struct umf_memspace_t *ms;    // valid once done; NULL: see reason
    const char *reason;           // why ms is NULL (a string literal)
} predefined_t;

static predefined_t predefined[MEMSPACE_PREDEFINED_COUNT] = {
    [MEMSPACE_HOST_ALL] = {"HostAll", MEMSPACE_RULE_ALL},
    [MEMSPACE_HIGHEST_CAPACITY] = {"HighestCapacity", MEMSPACE_RULE_HIGHEST_CAPACITY},
    [MEMSPACE_HIGHEST_BANDWIDTH] = {"HighestBandwidth", MEMSPACE_RULE_HIGHEST_BANDWIDTH},
    [MEMSPACE_LOWEST_LATENCY] = {"LowestLatency", MEMSPACE_RULE_LOWEST_LATENCY},
};

LOCK_STATIC(lock, LOCK_RANK_MEMSPACE);
static __thread bool computing;                 // this thread holds `lock` in compute()
static _Atomic unsigned perf_initiator = TOPO_NODE_NONE; // see memspace_predefined_initiator

// Called with `lock` held, once per memspace: the engine, for this thread's
// CPU node.
static void compute(predefined_t *p) {
    nodeset_t nodes;
    const char *reason = NULL;
    (void)memspace_nodes_topology(); // the engine reports a failure below
    unsigned cpu_node = topo_current_node();
    if (memspace_rule_per_cpu(p->rule) && topo_has_hmat())
        atomic_store_explicit(&perf_initiator, cpu_node, memory_order_relaxed);
    if (memspace_nodes_select(p->rule, cpu_node, false, NULL, &nodes, &reason) !=
        MEMSPACE_PICK_OK) {
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
    lock_acquire(&lock);
    if (!atomic_load_explicit(&p->done, memory_order_relaxed)) {
        computing = true;
        compute(p);
        computing = false;
        atomic_store_explicit(&p->done, true, memory_order_release);
    }
    lock_release(&lock);
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
    lock_acquire(&lock);
    for (unsigned i = 0; i < MEMSPACE_PREDEFINED_COUNT; i++) {
        predefined_t *p = &predefined[i];
        memspace_free(p->ms);
        p->ms = NULL;
        p->reason = NULL;
        atomic_store_explicit(&p->done, false, memory_order_relaxed);
    }
    atomic_store_explicit(&perf_initiator, TOPO_NODE_NONE, memory_order_relaxed);
    lock_release(&lock);
}
#endif

// The UMF entry points.
HETMEM_EXPORT umf_const_memspace_handle_t umfMemspaceHostAllGet(void) {
    return memspace_predefined_get(MEMSPACE_HOST_ALL);
}

HETMEM_EXPORT umf_const_memspace_handle_t umfMemspaceHighestCapacityGet(void) {
    return memspace_predefined_get(MEMSPACE_HIGHEST_CAPACITY);
}

HETMEM_EXPORT umf_const_memspace_handle_t umfMemspaceHighestBandwidthGet(void) {
    return memspace_predefined_get(MEMSPACE_HIGHEST_BANDWIDTH);
}

HETMEM_EXPORT umf_const_memspace_handle_t umfMemspaceLowestLatencyGet(void) {
    return memspace_predefined_get(MEMSPACE_LOWEST_LATENCY);
}
