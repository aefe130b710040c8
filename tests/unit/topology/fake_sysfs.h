// SPDX-License-Identifier: MIT
// Fake sysfs trees for the topology tests, written at run time under
// $TMPDIR: exactly the files hwloc 2.9's Linux backend needs to build NUMA
// nodes (node/nodeN/{cpumap,meminfo,distance}, cpu/cpuN/topology/*) plus
// those hetmem reads itself (cpulist, hugepages, HMAT access0/access1,
// memory_tiering, dax devices). Point HWLOC_FSROOT at the directory.
#ifndef HETMEM_TESTS_FAKE_SYSFS_H
#define HETMEM_TESTS_FAKE_SYSFS_H

#include <stddef.h>
#include <stdint.h>

#define FAKE_NO_INITIATOR (-1)

typedef struct fake_node_t {
    unsigned id;
    const char *cpus;          // cpulist ("0-3"), "" for a CPU-less node
    uint64_t mem_mb, free_mb;  // MemTotal / MemFree
    unsigned hp2m, hp2m_free;  // 2 MiB huge pages (directory written when hp2m_dir)
    unsigned hp1g, hp1g_free;  // 1 GiB huge pages (directory written when hp1g_dir)
    int hp2m_dir, hp1g_dir;
    int initiator;             // HMAT access0/access1 initiator node, or FAKE_NO_INITIATOR
    uint64_t rbw, wbw, rlat, wlat; // MB/s and ns
} fake_node_t;

typedef struct fake_dax_t {
    const char *name;   // "dax0.0"
    unsigned target;    // target_node
    const char *driver; // "kmem", "device_dax", or NULL (unbound)
} fake_dax_t;

typedef struct fake_tier_t {
    unsigned id;          // memory_tier<id>
    const char *nodelist; // "0-1"
} fake_tier_t;

typedef struct fake_tree_t {
    const fake_node_t *nodes;
    unsigned nnodes;
    const unsigned *dist; // nnodes * nnodes, row-major in nodes order; NULL: 10 / 20
    const fake_dax_t *dax;
    unsigned ndax;
    const fake_tier_t *tiers;
    unsigned ntiers;
} fake_tree_t;

/// Writes the tree into a new directory, whose path goes to dir. 0 or -1.
int fake_tree_create(const fake_tree_t *t, char *dir, size_t len);

/// Removes a tree written by fake_tree_create.
void fake_tree_destroy(const char *dir);

/// Writes (or overwrites) one file of a tree: fake_write(dir, "x\n", "%s/y", ...).
int fake_write(const char *dir, const char *content, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/// Points HWLOC_FSROOT at dir and resets the topology layer.
void fake_tree_use(const char *dir);

#endif // HETMEM_TESTS_FAKE_SYSFS_H
