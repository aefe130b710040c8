// SPDX-License-Identifier: MIT
// The topology layer: the machine's memory as hetmem sees it. Discovered
// once, lazily and thread-safely (hwloc over sysfs, plus sysfs files hwloc
// does not read: memory tiers, hugepages per node, dax/kmem), then cached
// and read-only. Nothing of hwloc leaks through this header.
//
// Glossary
//   node       a NUMA node as the kernel numbers it (0..NODESET_MAX-1)
//   initiator  a node with CPUs from which accesses are measured (HMAT)
//   class      what kind of memory a node is: DRAM, HBM, CXL/far, PMEM/KMEM
//              (rule: docs/topology.md and topo_classify.c)
//   tier       the kernel's memory tier (memory_tiering), lower is faster;
//              where the kernel has none, derived the way Linux 6.12 derives
//              it (nodes with CPUs 4, others from HMAT; docs/topology.md)
#ifndef HETMEM_TOPOLOGY_TOPO_H
#define HETMEM_TOPOLOGY_TOPO_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/nodeset.h"

/// "No node": perf_initiator of a node without HMAT figures.
#define TOPO_NODE_NONE UINT_MAX

typedef enum topo_class_t {
    TOPO_CLASS_DRAM = 0,
    TOPO_CLASS_HBM = 1,
    TOPO_CLASS_CXL = 2,  // far memory: CPU-less, slower than the local DRAM
    TOPO_CLASS_PMEM = 3, // persistent memory / DAX KMEM node
} topo_class_t;

/// Access figures of one target node seen from one initiator (HMAT access0
/// or hwloc memattrs). 0 means "not reported".
typedef struct topo_perf_t {
    uint64_t read_bw_mbps;  // MB/s
    uint64_t write_bw_mbps; // MB/s
    uint64_t bw_mbps;       // combined access bandwidth, MB/s (min of read/write when only those exist)
    uint64_t read_lat_ns;
    uint64_t write_lat_ns;
    uint64_t lat_ns;        // combined access latency, ns (max of read/write when only those exist)
} topo_perf_t;

typedef struct topo_node_t {
    unsigned id;
    topo_class_t cls;
    int tier;                  // kernel memory tier id, or derived (see above); -1 unknown
    bool tier_from_kernel;     // true when read from /sys/devices/virtual/memory_tiering
    nodeset_t cpus;            // CPUs of the node (empty for CPU-less nodes)
    uint64_t capacity;         // bytes (MemTotal of the node)
    topo_perf_t perf;          // from the best (closest) initiator; zeros without HMAT
    unsigned perf_initiator;   // the initiator node perf was measured from, or
                               // TOPO_NODE_NONE without figures
    uint64_t hugepages_2m;     // nr_hugepages of 2 MiB pages on this node
    uint64_t hugepages_1g;     // nr_hugepages of 1 GiB pages on this node
    bool dax_kmem;             // memory of a dax device bound to the kmem driver
    char dax_device[32];       // e.g. "dax0.0" when dax_kmem, else ""
    bool hbw_override;         // classed HBM because of MEMKIND_HBW_NODES
    bool kmem_override;        // classed PMEM because of MEMKIND_DAX_KMEM_NODES
} topo_node_t;

/// Discovers the topology on first call (later calls return the cached
/// result). Returns 0 or an errno value (ENOENT: no NUMA node found; EIO:
/// hwloc failed to load; ENOMEM; EDEADLK: called from inside the discovery
/// itself, e.g. by an allocation hwloc makes; EINVAL: a
/// malformed MEMKIND_HBW_NODES / MEMKIND_DAX_KMEM_NODES / MEMKIND_HBW_THRESHOLD,
/// logged once; the topology is still usable, without that override).
int topo_init(void);

/// Number of nodes with memory, and the i-th of them in id order.
unsigned topo_node_count(void);
const topo_node_t *topo_node_at(unsigned i);

/// The node with kernel id `id`, or NULL when there is no such node.
const topo_node_t *topo_node(unsigned id);

/// Every node with memory, as a set.
const nodeset_t *topo_all_nodes(void);

/// Current free bytes of a node (read fresh from sysfs each call: it changes).
/// Returns 0 or an errno value.
int topo_node_free(unsigned id, uint64_t *free_bytes);

/// Free hugepages of a node for page size 2 MiB or 1 GiB (fresh read).
int topo_node_hugepages_free(unsigned id, size_t page_size, uint64_t *free_pages);

/// SLIT distance between two nodes (10 = local), or -1 when unknown.
int topo_distance(unsigned from, unsigned to);

/// HMAT figures of `target` seen from initiator `initiator`. Returns 0, or
/// ENOENT when HMAT gives nothing for that pair.
int topo_perf(unsigned initiator, unsigned target, topo_perf_t *out);

/// True when any HMAT figure was found on this machine.
bool topo_has_hmat(void);

/// The HBW threshold in MB/s in force (MEMKIND_HBW_THRESHOLD, default 204800).
uint64_t topo_hbw_threshold(void);

/// Overrides that topo_init rejected as malformed (and ignored), as a set of
/// TOPO_ENV_* bits, so that tools can say which one; 0 when all were fine.
#define TOPO_ENV_HBW_NODES 1u
#define TOPO_ENV_DAX_KMEM_NODES 2u
#define TOPO_ENV_HBW_THRESHOLD 4u
unsigned topo_env_rejected(void);

/// Nodes of a class (HBM nodes include MEMKIND_HBW_NODES; PMEM nodes include
/// MEMKIND_DAX_KMEM_NODES).
void topo_nodes_of_class(topo_class_t cls, nodeset_t *out);

/// The node the calling thread runs on (its CPU's node), for *_LOCAL rules.
unsigned topo_current_node(void);

/// The node that a CPU belongs to, or -1.
int topo_cpu_node(unsigned cpu);

/// Parses a node string in libnuma's numa_parse_nodestring syntax ("0-3,7",
/// "all", "!2", "+1") into a set. Returns 0 or EINVAL (malformed string or a
/// node that does not exist).
int topo_parse_nodestring(const char *str, nodeset_t *out);

/// "DRAM", "HBM", "CXL", "PMEM".
const char *topo_class_name(topo_class_t cls);

#ifdef HETMEM_TEST_HOOKS
/// Test support: forget everything (next call rediscovers). Not thread-safe;
/// used by unit tests that switch HWLOC_FSROOT / the sysfs root between cases.
/// Only in the test flavour (cmake/HetmemLayers.cmake).
void topo_reset_for_testing(void);
#endif

#endif // HETMEM_TOPOLOGY_TOPO_H
