// SPDX-License-Identifier: MIT
// The node-selection engine: the one place in hetmem that decides which
// NUMA nodes memory comes from. memspace_nodes_select answers "which nodes,
// for a thread on this CPU node, under this rule"; the UMF predefined
// memspaces (memspace_predefined.c), memkind's static kinds (mk_kinds.c)
// and hmalloc's policy modes (hm_policy.c) are rows of tables that name a
// rule, and they all ask this function. docs/architecture.md, "Node
// selection", has the rule table and the per-CPU-node semantics.
#ifndef HETMEM_MEMSPACE_MEMSPACE_NODES_H
#define HETMEM_MEMSPACE_MEMSPACE_NODES_H

#include <stdbool.h>
#include <stdint.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "base/nodeset.h"

/// How nodes are chosen. "From the CPU node" rules depend on the
/// cpu_node argument (memspace_rule_per_cpu).
typedef enum memspace_rule_t {
    MEMSPACE_RULE_NONE = 0,          ///< no node list: the thread's own policy
    MEMSPACE_RULE_GIVEN,             ///< the caller's nodes, checked against the topology
    MEMSPACE_RULE_ALL,               ///< every node with memory (HostAll, interleave kinds)
    MEMSPACE_RULE_CPU,               ///< the nodes with CPUs (memkind REGULAR)
    MEMSPACE_RULE_HIGHEST_CAPACITY,  ///< the node(s) of the highest capacity
    MEMSPACE_RULE_HIGHEST_BANDWIDTH, ///< highest HMAT bandwidth of all nodes, from the CPU node
    MEMSPACE_RULE_LOWEST_LATENCY,    ///< lowest HMAT latency of all nodes, from the CPU node
    MEMSPACE_RULE_HBW_CLOSEST,       ///< the HBW nodes nearest to the CPU node (SLIT)
    MEMSPACE_RULE_HBW_ALL,           ///< every HBW node
    MEMSPACE_RULE_KMEM_CLOSEST,      ///< the DAX KMEM nodes nearest to the CPU node
    MEMSPACE_RULE_KMEM_ALL,          ///< every DAX KMEM node
    MEMSPACE_RULE_CAPACITY_LOCAL,    ///< highest capacity in the CPU node's local domain
    MEMSPACE_RULE_LATENCY_LOCAL,     ///< lowest HMAT latency in the local domain
    MEMSPACE_RULE_BANDWIDTH_LOCAL,   ///< highest HMAT bandwidth in the local domain
    MEMSPACE_RULE_COUNT
} memspace_rule_t;

/// The engine's answer.
typedef enum memspace_pick_t {
    MEMSPACE_PICK_OK = 0, ///< *out holds the nodes (empty only for RULE_NONE)
    MEMSPACE_PICK_NONE,   ///< no node qualifies here (no such memory, no HMAT, bad GIVEN)
    MEMSPACE_PICK_TIE,    ///< `single`, and several nodes qualify equally
} memspace_pick_t;

/// The nodes of `rule` for a thread on CPU node `cpu_node` (ignored by the
/// rules that do not depend on it). With `single` (preferred policies) the
/// answer must be exactly one node: a tie is MEMSPACE_PICK_TIE. `given` is
/// RULE_GIVEN's input (NULL otherwise). Ties: the closest and
/// highest/lowest-of-all rules keep every tied node; the *_LOCAL rules
/// name one node (capacity: worse latency, then lower id; latency and
/// bandwidth: smaller capacity, then lower id). On a result other than
/// OK, *reason (when not NULL) gets a string literal saying why. Discovers
/// the topology on first use; thread-safe.
memspace_pick_t memspace_nodes_select(memspace_rule_t rule, unsigned cpu_node, bool single,
                                      const nodeset_t *given, nodeset_t *out,
                                      const char **reason);

/// True when the rule's answer depends on the CPU node.
bool memspace_rule_per_cpu(memspace_rule_t rule);

/// 0 when the topology is usable (a rejected MEMKIND_* override leaves it
/// usable), else the errno of its discovery.
int memspace_nodes_topology(void);

/// The nodes with CPUs (the CPU nodes a thread may run on).
void memspace_nodes_cpu(nodeset_t *out);

/// The local domain of a CPU node: itself and the CPU-less nodes whose
/// initiator it is (HMAT's, else the nearest CPU node by SLIT distance,
/// lowest id on a tie).
void memspace_nodes_local_domain(unsigned cpu_node, nodeset_t *out);

/// Sums over a set: capacity (bytes), free bytes now (0 where unreadable),
/// configured 2 MiB huge pages.
uint64_t memspace_nodes_capacity(const nodeset_t *nodes);
uint64_t memspace_nodes_free(const nodeset_t *nodes);
uint64_t memspace_nodes_hugepages_2m(const nodeset_t *nodes);

/// Whether every page of [addr, addr+size) is present on a node of `nodes`
/// (*on; false as soon as one page is absent or elsewhere). With `touch`,
/// each page's first byte (of the range) is read and written back first,
/// so that untouched pages fault in. Returns 0, EINVAL (the range wraps),
/// or the kernel's error of the page query.
int memspace_range_on_nodes(void *addr, size_t size, const nodeset_t *nodes, bool touch,
                            bool *on);

// ---- from nodes to memory (memspace_provider.c) -----------------------------------

/// How memory of chosen nodes is bound: the OS provider settings that a
/// row's mempolicy becomes (UMF mempolicy, memkind kind, hmalloc mode).
typedef struct memspace_bind_t {
    umf_numa_mode_t mode; ///< DEFAULT / LOCAL take no node list
    size_t part_size;     ///< INTERLEAVE: bytes per part, 0: pages
    size_t huge_page;     ///< 0, or a huge page size
    bool weighted;        ///< weighted interleave (the kernel's node weights)
    bool preferred_many;  ///< PREFERRED: MPOL_PREFERRED_MANY for one node too
    const umf_numa_split_partition_t *parts; ///< SPLIT: nparts entries, or NULL
    unsigned nparts;
} memspace_bind_t;

/// The OS provider over nodes list[0 .. n-1] (in that order) bound as `b`
/// says; its result on failure.
umf_result_t memspace_os_provider_create(const unsigned *list, unsigned n,
                                         const memspace_bind_t *b,
                                         umf_memory_provider_handle_t *out);

/// The same over a node set (ascending ids).
umf_result_t memspace_os_provider_create_set(const nodeset_t *nodes, const memspace_bind_t *b,
                                             umf_memory_provider_handle_t *out);

#endif // HETMEM_MEMSPACE_MEMSPACE_NODES_H
