// SPDX-License-Identifier: MIT
// The predefined HighestCapacity memspace: the node(s) with the largest
// capacity (MemTotal, as the topology layer reads it; several nodes only on
// an exact tie). It needs no HMAT. On a one-node machine it is that node.
// (UMF keeps every node sorted by capacity and hands only the first to a
// provider; the result for allocations is the same node.)
#include "base/util.h"
#include "memspace/memspace_internal.h"

bool memspace_select_highest_capacity(nodeset_t *out, const char **reason) {
    unsigned count = topo_node_count();
    uint64_t best = 0;
    for (unsigned i = 0; i < count; i++)
        if (topo_node_at(i)->capacity > best)
            best = topo_node_at(i)->capacity;
    if (best == 0) {
        *reason = "no NUMA node reports a capacity";
        return false;
    }
    nodeset_zero(out);
    for (unsigned i = 0; i < count; i++)
        if (topo_node_at(i)->capacity == best)
            nodeset_set(out, topo_node_at(i)->id);
    return true;
}

HETMEM_EXPORT umf_const_memspace_handle_t umfMemspaceHighestCapacityGet(void) {
    return memspace_predefined_get(MEMSPACE_HIGHEST_CAPACITY);
}
