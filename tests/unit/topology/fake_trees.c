// SPDX-License-Identifier: MIT
// The fake machines of fake_trees.h.
#include "fake_trees.h"

#include <stdio.h>
#include <stdlib.h>

#define NOHMAT FAKE_NO_INITIATOR, 0, 0, 0, 0
#define NOHP 0, 0, 0, 0, 0, 0

static const fake_node_t one_node[] = {
    {0, "0-3", 8192, 6000, NOHP, NOHMAT},
};
const fake_tree_t tree_one_node = {one_node, 1, NULL, NULL, 0, NULL, 0};

static const fake_node_t hmat3[] = {
    {0, "0-3", H3_MEM0_MB, 8000, NOHP, 0, H3_DRAM_RBW, H3_DRAM_WBW, H3_DRAM_RLAT, H3_DRAM_WLAT},
    {1, "", H3_MEM1_MB, 30000, NOHP, 0, H3_CXL_RBW, H3_CXL_WBW, H3_CXL_RLAT, H3_CXL_WLAT},
    {2, "", H3_MEM2_MB, 4000, NOHP, 0, H3_HBM_RBW, H3_HBM_WBW, H3_HBM_RLAT, H3_HBM_WLAT},
};
const unsigned h3_dist[9] = {10, 20, 17, 20, 10, 28, 17, 28, 10};
const fake_tree_t tree_hmat3 = {hmat3, 3, h3_dist, NULL, 0, NULL, 0};
static const fake_tier_t hmat3_tiers[] = {{2, "2"}, {4, "0"}, {12, "1"}};
const fake_tree_t tree_hmat3_tiers = {hmat3, 3, h3_dist, NULL, 0, hmat3_tiers, 3};

static const fake_node_t two_sockets[] = {
    {0, "0-1", 4096, 2048, NOHP, 0, 100000, 100000, 80, 80},
    {1, "2-3", 4096, 2048, NOHP, 1, 100000, 100000, 80, 80},
    {2, "", 8192, 8192, NOHP, 1, 20000, 20000, 250, 250},
    {3, "", 1024, 1024, NOHP, 0, 500000, 500000, 60, 60},
};
static const unsigned two_sockets_dist[16] = {10, 21, 31, 14, 21, 10, 14, 31,
                                              31, 14, 10, 41, 14, 31, 41, 10};
const fake_tree_t tree_two_sockets = {two_sockets, 4, two_sockets_dist, NULL, 0, NULL, 0};

static const fake_node_t no_hmat[] = {
    {0, "0-1", 4096, 2048, NOHP, NOHMAT},
    {1, "", 8192, 8192, NOHP, NOHMAT},
    {2, "", 2048, 2048, NOHP, NOHMAT},
};
const fake_tree_t tree_no_hmat = {no_hmat, 3, NULL, NULL, 0, NULL, 0};

static const fake_node_t all_hbm[] = {
    {0, "0-11", 8192, 8000, NOHP, 0, A64_RBW, A64_WBW, 90, 95},
    {1, "12-23", 8192, 8000, NOHP, 1, A64_RBW, A64_WBW, 90, 95},
    {2, "24-35", 8192, 8000, NOHP, 2, A64_RBW, A64_WBW, 90, 95},
    {3, "36-47", 8192, 8000, NOHP, 3, A64_RBW, A64_WBW, 90, 95},
};
const fake_tree_t tree_all_hbm = {all_hbm, 4, NULL, NULL, 0, NULL, 0};

static const fake_node_t dax_nodes[] = {
    {0, "0-1", 4096, 2048, NOHP, NOHMAT},
    {1, "", 16384, 16000, NOHP, NOHMAT},
    {2, "", 16384, 16000, NOHP, NOHMAT},
    {3, "", 16384, 16000, NOHP, NOHMAT},
};
static const fake_dax_t dax_devs[] = {
    {"dax0.0", 1, "kmem"},
    {"dax1.0", 2, "device_dax"},
    {"dax2.0", 3, NULL},
};
const fake_tree_t tree_dax = {dax_nodes, 4, NULL, dax_devs, 3, NULL, 0};

static const fake_node_t hugepages[] = {
    {0, "0-1", 8192, 4096, HP0_2M, HP0_2M_FREE, HP0_1G, HP0_1G_FREE, 1, 1, NOHMAT},
    {1, "2-3", 8192, 4096, 0, 0, 0, 0, 1, 0, NOHMAT},
};
const fake_tree_t tree_hugepages = {hugepages, 2, NULL, NULL, 0, NULL, 0};

static const fake_node_t holes[] = {
    {0, "0-1", 1024, 512, NOHP, NOHMAT},
    {1, "2-3", 1024, 512, NOHP, NOHMAT},
    {3, "", 1024, 512, NOHP, NOHMAT},
    {5, "", 1024, 512, NOHP, NOHMAT},
};
const fake_tree_t tree_holes = {holes, 4, NULL, NULL, 0, NULL, 0};

static const fake_node_t memoryless[] = {
    {0, "0-1", 4096, 2048, NOHP, NOHMAT},
    {1, "2-3", 4096, 2048, NOHP, NOHMAT},
    {2, "4-5", 0, 0, NOHP, NOHMAT},
};
static const unsigned memoryless_dist[9] = {10, 20, 20, 20, 10, 12, 20, 12, 10};
const fake_tree_t tree_memoryless = {memoryless, 3, memoryless_dist, NULL, 0, NULL, 0};

const fake_tree_t *tree_big(void) {
    static fake_node_t nodes[BIG_NODES];
    static char cpus[BIG_NODES][16];
    static unsigned dist[BIG_NODES * BIG_NODES];
    static fake_tree_t t;
    for (unsigned i = 0; i < BIG_NODES; i++) {
        fake_node_t *n = &nodes[i];
        if (i % 2 == 0)
            snprintf(cpus[i], sizeof cpus[i], "%u-%u", 2 * i, 2 * i + 1);
        else
            cpus[i][0] = '\0';
        *n = (fake_node_t){i, cpus[i], 1024 + i, 512, NOHP, NOHMAT};
        for (unsigned j = 0; j < BIG_NODES; j++)
            dist[i * BIG_NODES + j] = i == j ? 10 : 10 + (i > j ? i - j : j - i);
    }
    nodes[128].initiator = 128;
    nodes[128].rbw = nodes[128].wbw = 100000;
    nodes[128].rlat = nodes[128].wlat = 80;
    nodes[129].initiator = 128;
    nodes[129].rbw = nodes[129].wbw = 500000;
    nodes[129].rlat = nodes[129].wlat = 60;
    t = (fake_tree_t){nodes, BIG_NODES, dist, NULL, 0, NULL, 0};
    return &t;
}

static const fake_node_t info_nodes[] = {
    {0, "0-3", H3_MEM0_MB, 8000, HP0_2M, HP0_2M_FREE, HP0_1G, HP0_1G_FREE, 1, 1, 0, H3_DRAM_RBW,
     H3_DRAM_WBW, H3_DRAM_RLAT, H3_DRAM_WLAT},
    {1, "", H3_MEM1_MB, 30000, NOHP, 0, H3_CXL_RBW, H3_CXL_WBW, H3_CXL_RLAT, H3_CXL_WLAT},
    {2, "", H3_MEM2_MB, 4000, NOHP, 0, H3_HBM_RBW, H3_HBM_WBW, H3_HBM_RLAT, H3_HBM_WLAT},
    {3, "", 65536, 65536, NOHP, NOHMAT},
};
static const unsigned info_dist[16] = {10, 20, 17, 30, 20, 10, 28, 40,
                                       17, 28, 10, 40, 30, 40, 40, 10};
static const fake_dax_t info_dax[] = {{"dax0.0", 3, "kmem"}};
static const fake_tier_t info_tiers[] = {{2, "2"}, {4, "0"}, {12, "1"}, {22, "3"}};
const fake_tree_t tree_info = {info_nodes, 4, info_dist, info_dax, 1, info_tiers, 4};
