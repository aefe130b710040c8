// SPDX-License-Identifier: MIT
// UMF scenario "memspace HMAT": the predefined HighestBandwidth and
// LowestLatency memspaces, which come from the firmware's HMAT figures, and
// pools from them; the pages must land on the node the figures name.
//
// Usage: memspace_hmat host     a machine without HMAT figures (checked in
//                               sysfs): both memspaces are NULL, as documented
//        memspace_hmat tiers3   in the guest (tests/vm, topology tiers3):
//                               highest bandwidth is node 2 (HBM), lowest
//                               latency is node 0 (DRAM with the CPUs)
#include <string.h>
#include <unistd.h>

#include <umf/memory_pool.h>
#include <umf/memspace.h>

#include "ex_pages.h"
#include "test_skip.h"

static void hmat_scenario(umf_const_memspace_handle_t ms, unsigned node, const char *what) {
    ex_check(ms != NULL, "%s memspace exists", what);
    if (!ms)
        return;
    ex_check(umfMemspaceMemtargetNum(ms) == 1, "%s: one memtarget (%zu)", what,
             umfMemspaceMemtargetNum(ms));
    umf_memory_pool_handle_t pool = NULL;
    umf_result_t rc = umfPoolCreateFromMemspace(ms, NULL, &pool);
    ex_check(rc == UMF_RESULT_SUCCESS && pool, "%s: umfPoolCreateFromMemspace: %d", what, rc);
    if (rc)
        return;
    char buf[64];
    snprintf(buf, sizeof buf, "%s (node %u)", what, node);
    ex_pages_on(pool, 1ull << node, buf);
    umfPoolDestroy(pool);
}

int main(int argc, char **argv) {
    if (argc != 2 || (strcmp(argv[1], "host") && strcmp(argv[1], "tiers3"))) {
        fprintf(stderr, "usage: %s host|tiers3\n", argv[0]);
        return 2;
    }
    umf_const_memspace_handle_t bw = umfMemspaceHighestBandwidthGet();
    umf_const_memspace_handle_t lat = umfMemspaceLowestLatencyGet();
    if (strcmp(argv[1], "tiers3") == 0) {
        hmat_scenario(bw, 2, "HighestBandwidth");
        hmat_scenario(lat, 0, "LowestLatency");
        return ex_done();
    }
    // The host mode needs a machine whose kernel reports no HMAT figures.
    bool figures =
        access("/sys/devices/system/node/node0/access0/initiators/read_bandwidth", F_OK) == 0;
    if (figures)
        return test_skip_status("memspace_hmat host: this machine reports HMAT figures "
                                "(the guest run checks them)");
    ex_check(bw == NULL, "HighestBandwidth is NULL without HMAT");
    ex_check(lat == NULL, "LowestLatency is NULL without HMAT");
    // HostAll still works and its pages are on node 0 (one node).
    umf_const_memspace_handle_t all = umfMemspaceHostAllGet();
    ex_check(all != NULL && umfMemspaceMemtargetNum(all) >= 1, "HostAll memspace exists");
    umf_memory_pool_handle_t pool = NULL;
    if (all && umfPoolCreateFromMemspace(all, NULL, &pool) == UMF_RESULT_SUCCESS) {
        ex_pages_on(pool, 1, "HostAll on a one-node machine");
        umfPoolDestroy(pool);
    } else {
        ex_check(false, "a pool from HostAll");
    }
    return ex_done();
}
