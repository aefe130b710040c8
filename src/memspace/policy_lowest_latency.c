// SPDX-License-Identifier: MIT
// The predefined LowestLatency memspace: the node(s) with the lowest HMAT
// access latency as seen from the NUMA node of the CPU that first asks -
// usually the DRAM node local to that CPU. The figure is the combined
// access latency (the higher of read and write where only those are given).
// Without HMAT it does not exist: NULL, and the reason is logged.
#include "base/util.h"
#include "memspace/memspace_internal.h"

static uint64_t latency(const topo_perf_t *p) { return p->lat_ns; }

bool memspace_select_lowest_latency(nodeset_t *out, const char **reason) {
    return memspace_select_by_perf(false, latency, out, reason);
}

HETMEM_EXPORT umf_const_memspace_handle_t umfMemspaceLowestLatencyGet(void) {
    return memspace_predefined_get(MEMSPACE_LOWEST_LATENCY);
}
