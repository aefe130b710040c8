// SPDX-License-Identifier: MIT
// The predefined HostAll memspace: every NUMA node with memory, in id order
// (CPU-less nodes included, as in UMF). It exists whenever the topology can
// be read, HMAT or not. A provider made from it with no policy binds to all
// nodes (MPOL_BIND over every node: the kernel still serves a page from the
// node nearest to the faulting CPU first).
#include "base/util.h"
#include "memspace/memspace_internal.h"

bool memspace_select_host_all(nodeset_t *out, const char **reason) {
    const nodeset_t *all = topo_all_nodes();
    if (!all || nodeset_empty(all)) {
        *reason = "the topology lists no NUMA node with memory";
        return false;
    }
    *out = *all;
    return true;
}

HETMEM_EXPORT umf_const_memspace_handle_t umfMemspaceHostAllGet(void) {
    return memspace_predefined_get(MEMSPACE_HOST_ALL);
}
