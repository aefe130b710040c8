// SPDX-License-Identifier: MIT
// UMF scenario "memspace NUMA": a memspace made from a list of NUMA nodes
// (umfMemspaceCreateFromNumaArray), a provider and a pool from it; the
// pages must be on the listed nodes (counted with move_pages).
//
// Usage: memspace_numa host     one node: node 0 works, bad lists are refused
//        memspace_numa tiers3   in the guest (tests/vm, topology tiers3):
//                               each of nodes 0, 1, 2 alone, and {1, 2}
#include <stdlib.h>
#include <string.h>

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/memspace.h>
#include <umf/pools/pool_scalable.h>

#include "ex_pages.h"

// A memspace of the nodes, a provider and a scalable pool from it, and its
// pages on exactly those nodes.
static void nodes_scenario(unsigned *nodes, size_t n) {
    char what[64];
    uint64_t mask = 0;
    int o = snprintf(what, sizeof what, "nodes");
    for (size_t i = 0; i < n; i++) {
        mask |= 1ull << nodes[i];
        o += snprintf(what + o, sizeof what - (size_t)o, "%s%u", i ? "," : " ", nodes[i]);
    }
    umf_memspace_handle_t ms = NULL;
    umf_result_t rc = umfMemspaceCreateFromNumaArray(nodes, n, &ms);
    ex_check(rc == UMF_RESULT_SUCCESS && ms, "%s: umfMemspaceCreateFromNumaArray: %d", what, rc);
    if (rc)
        return;
    ex_check(umfMemspaceMemtargetNum(ms) == n, "%s: %zu memtargets", what,
             umfMemspaceMemtargetNum(ms));
    umf_memory_provider_handle_t prov = NULL;
    rc = umfMemoryProviderCreateFromMemspace(ms, NULL, &prov);
    ex_check(rc == UMF_RESULT_SUCCESS && prov, "%s: umfMemoryProviderCreateFromMemspace: %d", what,
             rc);
    umf_memory_pool_handle_t pool = NULL;
    if (rc == UMF_RESULT_SUCCESS) {
        rc = umfPoolCreate(umfScalablePoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                           &pool);
        ex_check(rc == UMF_RESULT_SUCCESS, "%s: scalable pool over it: %d", what, rc);
    }
    if (pool) {
        ex_pages_on(pool, mask, what);
        umfPoolDestroy(pool);
    } else if (prov) {
        umfMemoryProviderDestroy(prov);
    }
    // The pool made by umfPoolCreateFromMemspace binds the same way.
    rc = umfPoolCreateFromMemspace(ms, NULL, &pool);
    ex_check(rc == UMF_RESULT_SUCCESS, "%s: umfPoolCreateFromMemspace: %d", what, rc);
    if (rc == UMF_RESULT_SUCCESS) {
        ex_pages_on(pool, mask, what);
        umfPoolDestroy(pool);
    }
    umfMemspaceDestroy(ms);
}

static void refused(unsigned *nodes, size_t n, const char *what) {
    umf_memspace_handle_t ms = NULL;
    umf_result_t rc = umfMemspaceCreateFromNumaArray(nodes, n, &ms);
    ex_check(rc == UMF_RESULT_ERROR_INVALID_ARGUMENT && ms == NULL,
             "%s is refused with INVALID_ARGUMENT (%d)", what, rc);
    if (rc == UMF_RESULT_SUCCESS && ms)
        umfMemspaceDestroy(ms);
}

int main(int argc, char **argv) {
    if (argc != 2 || (strcmp(argv[1], "host") && strcmp(argv[1], "tiers3"))) {
        fprintf(stderr, "usage: %s host|tiers3\n", argv[0]);
        return 2;
    }
    unsigned zero[] = {0}, absent[] = {63};
    nodes_scenario(zero, 1);
    refused(NULL, 1, "a NULL node list");
    refused(zero, 0, "an empty node list");
    refused(absent, 1, "node 63 (absent)");
    if (strcmp(argv[1], "tiers3") == 0) {
        unsigned one[] = {1}, two[] = {2}, both[] = {1, 2};
        nodes_scenario(one, 1);
        nodes_scenario(two, 1);
        nodes_scenario(both, 2);
    }
    return ex_done();
}
