// SPDX-License-Identifier: MIT
// Private to src/topology (no other layer includes it): the cached state of
// the discovered machine and the functions the topology files share. The
// discovery steps run in this order, all under topo.c's once-flag:
//   topo_hwloc_discover  nodes, capacity, own CPUs, distances, HMAT figures
//   topo_sysfs_*         hugepages, dax/kmem, kernel memory tiers
//   topo_env_*           MEMKIND_* overrides (parsed against the nodes found)
//   topo_classify        class and tier of every node
// After that the state is read-only until topo_reset_for_testing().
#ifndef HETMEM_TOPOLOGY_TOPO_PRIV_H
#define HETMEM_TOPOLOGY_TOPO_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/nodeset.h"
#include "topology/topo.h"

// Abstract distances on the Linux memory-tiering scale (mm/memory-tiers.c):
// a tier id is adistance >> 7; DRAM (nodes with CPUs) is 576, tier 4; a dax
// kmem node without HMAT figures is 5 * 576, tier 22.
#define TOPO_MEMTIER_CHUNK_BITS 7
#define TOPO_ADIST_DRAM 576u
#define TOPO_ADIST_DAX_DEFAULT (5u * TOPO_ADIST_DRAM)

#define TOPO_HBW_THRESHOLD_DEFAULT 204800u // MB/s, memkind's default (200 GB/s)

/// HMAT figures for one target seen from one initiator location. hwloc
/// reports an initiator as a cpuset; `initiators` holds every node whose own
/// CPUs lie inside that cpuset (usually one node).
typedef struct topo_perf_entry_t {
    nodeset_t initiators;
    unsigned target;
    topo_perf_t perf;
} topo_perf_entry_t;

/// The whole discovered machine. Owned by topo.c; `nodes`, `dist` and `perf`
/// are heap arrays freed by topo_state_free().
typedef struct topo_state_t {
    topo_node_t *nodes;            // nodes with memory, sorted by id
    unsigned count;                // entries in nodes
    int16_t index[NODESET_MAX];    // node id -> index in nodes, -1 if none
    int16_t cpu_node[NODESET_MAX]; // cpu -> node id with memory, -1 if none
    nodeset_t all;                 // ids of every node in nodes
    uint16_t *dist;                // count * count SLIT values by index, 0 = unknown
    topo_perf_entry_t *perf;       // HMAT figures, grouped by nothing in particular
    unsigned nperf;
    bool has_hmat;                 // any bandwidth or latency figure seen
    uint64_t hbw_threshold;        // MB/s in force
    unsigned env_rejected;         // TOPO_ENV_* bits of rejected overrides
    nodeset_t hbw_env;             // parsed MEMKIND_HBW_NODES (when accepted)
    nodeset_t kmem_env;            // parsed MEMKIND_DAX_KMEM_NODES (when accepted)
    bool hbw_env_set;
    bool kmem_env_set;
    char root[512];                // sysfs root prefix from HWLOC_FSROOT, "" = real root
} topo_state_t;

// ---- topo_hwloc.c ---------------------------------------------------------

/// Loads hwloc (with HWLOC_FSROOT honoured by hwloc itself) and fills nodes,
/// count, index, cpu_node, all, dist, perf, has_hmat. Returns 0, ENOENT (no
/// NUMA node with memory), ENOMEM, or EIO (hwloc failed to load).
int topo_hwloc_discover(topo_state_t *st);

// ---- topo_sysfs.c ---------------------------------------------------------

/// Sets st->root from HWLOC_FSROOT ("" for the real root, trailing '/' cut).
void topo_sysfs_set_root(topo_state_t *st);

/// Reads a sysfs file below st->root into buf (NUL-terminated, cut at len-1).
/// Returns 0 or an errno value.
int topo_sysfs_read(const topo_state_t *st, char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/// Reads a file holding one unsigned decimal number.
int topo_sysfs_read_u64(const topo_state_t *st, uint64_t *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/// The CPUs of a node from nodeN/cpulist (or nodeN/cpumap). ENOENT when the
/// node has no such file (a kernel without NUMA).
int topo_sysfs_node_cpus(const topo_state_t *st, unsigned node, nodeset_t *cpus);

/// MemTotal / MemFree of nodeN/meminfo in bytes (either pointer may be NULL).
int topo_sysfs_node_meminfo(const topo_state_t *st, unsigned node, uint64_t *total,
                            uint64_t *free_bytes);

/// nr_hugepages / free_hugepages of a node for a page size in kB.
int topo_sysfs_node_hugepages(const topo_state_t *st, unsigned node, unsigned size_kb,
                              uint64_t *nr, uint64_t *free_pages);

/// Fills hugepages_2m/1g, dax_kmem/dax_device and kernel tiers of every node.
void topo_sysfs_discover(topo_state_t *st);

// ---- topo_env.c -----------------------------------------------------------

/// Parses a node string (libnuma numa_parse_nodestring syntax) against the
/// set of nodes that exist. Returns 0 or EINVAL; *out untouched on error.
int topo_nodestring_parse(const nodeset_t *valid, const char *str, nodeset_t *out);

/// Reads MEMKIND_HBW_THRESHOLD, MEMKIND_HBW_NODES, MEMKIND_DAX_KMEM_NODES into
/// st, reporting a malformed value once. Returns 0 or EINVAL.
int topo_env_read(topo_state_t *st);

#ifdef HETMEM_TEST_HOOKS
/// Forgets that the env errors were reported (topo_reset_for_testing).
void topo_env_reset_reports(void);
#endif

// ---- topo_classify.c ------------------------------------------------------

/// Sets cls, hbw_override, kmem_override and (where the kernel gave none)
/// tier of every node. Needs everything above.
void topo_classify(topo_state_t *st);

/// Best (highest bandwidth, then lowest latency) HMAT figures for a target,
/// and the initiator node they were measured from. False when none.
bool topo_best_perf(const topo_state_t *st, unsigned target, topo_perf_t *perf,
                    unsigned *initiator);

#endif // HETMEM_TOPOLOGY_TOPO_PRIV_H
