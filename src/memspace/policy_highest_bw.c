// SPDX-License-Identifier: MIT
// The predefined HighestBandwidth memspace: the node(s) with the highest
// HMAT access bandwidth as seen from the NUMA node of the CPU that first
// asks (its initiator) - the HBM-like node on a DRAM+CXL+HBM machine, the
// local node where every node is HBM. The figure is the combined access
// bandwidth (the lower of read and write where only those are given).
// Without HMAT it does not exist: NULL, and the reason is logged.
#include "base/util.h"
#include "memspace/memspace_internal.h"

static uint64_t bandwidth(const topo_perf_t *p) { return p->bw_mbps; }

bool memspace_select_highest_bw(nodeset_t *out, const char **reason) {
    return memspace_select_by_perf(true, bandwidth, out, reason);
}

HETMEM_EXPORT umf_const_memspace_handle_t umfMemspaceHighestBandwidthGet(void) {
    return memspace_predefined_get(MEMSPACE_HIGHEST_BANDWIDTH);
}
