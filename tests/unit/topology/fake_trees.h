// SPDX-License-Identifier: MIT
// The machines the topology tests run on, described once so that the tests
// assert against these numbers (what the tree says), never against values
// computed by the code under test.
#ifndef HETMEM_TESTS_FAKE_TREES_H
#define HETMEM_TESTS_FAKE_TREES_H

#include "fake_sysfs.h"

// One node with 4 CPUs, no HMAT, no memory tiers.
extern const fake_tree_t tree_one_node;

// DRAM (node 0, CPUs 0-3) + CXL (node 1) + HBM (node 2), HMAT from node 0.
// tree_hmat3_tiers is the same machine with kernel memory tiers 4, 12, 2.
#define H3_DRAM_RBW 100000u
#define H3_DRAM_WBW 90000u
#define H3_DRAM_RLAT 80u
#define H3_DRAM_WLAT 90u
#define H3_CXL_RBW 30000u
#define H3_CXL_WBW 20000u
#define H3_CXL_RLAT 300u
#define H3_CXL_WLAT 400u
#define H3_HBM_RBW 400000u
#define H3_HBM_WBW 300000u
#define H3_HBM_RLAT 70u
#define H3_HBM_WLAT 75u
#define H3_MEM0_MB 16384u
#define H3_MEM1_MB 32768u
#define H3_MEM2_MB 4096u
extern const unsigned h3_dist[9];
extern const fake_tree_t tree_hmat3;
extern const fake_tree_t tree_hmat3_tiers;

// Two sockets (nodes 0, 1 with CPUs), a CXL node 2 behind socket 1 and an
// HBM node 3 behind socket 0.
extern const fake_tree_t tree_two_sockets;

// Node 0 with CPUs, nodes 1 and 2 CPU-less, no HMAT at all.
extern const fake_tree_t tree_no_hmat;

// A64FX-like: four nodes with CPUs, each its own initiator with HBM figures.
#define A64_RBW 460000u
#define A64_WBW 430000u
extern const fake_tree_t tree_all_hbm;

// Node 0 DRAM; node 1 fed by dax0.0 bound to kmem; node 2 by dax1.0 bound
// to device_dax (not kmem); node 3 by dax2.0, unbound.
extern const fake_tree_t tree_dax;

// Node 0 with 2 MiB and 1 GiB pools; node 1 with an empty 2 MiB pool only.
#define HP0_2M 512u
#define HP0_2M_FREE 100u
#define HP0_1G 4u
#define HP0_1G_FREE 2u
extern const fake_tree_t tree_hugepages;

// Nodes 0, 1, 3, 5 (ids with holes) for the node-string parser.
extern const fake_tree_t tree_holes;

// Node 2 has CPUs 4-5 but no memory; it is nearer to node 1 than to node 0.
extern const fake_tree_t tree_memoryless;

// 130 nodes: node i has CPUs 2i,2i+1 when i is even (CPU-less when odd),
// (1024 + i) MiB, distance 10 + |i - j|; node 129 is HBM seen from node 128.
#define BIG_NODES 130u
const fake_tree_t *tree_big(void);

// For hetmem-info: DRAM (node 0, huge pages), CXL, HBM and a dax kmem node.
extern const fake_tree_t tree_info;

#endif // HETMEM_TESTS_FAKE_TREES_H
