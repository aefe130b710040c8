// SPDX-License-Identifier: MIT
// The predefined memspaces (memspace_predefined.c): computed once, on first
// use, from the node-selection engine. Cross-layer: hetmem-info reports them.
#ifndef HETMEM_MEMSPACE_MEMSPACE_PREDEFINED_H
#define HETMEM_MEMSPACE_MEMSPACE_PREDEFINED_H

#include <umf/memspace.h>

typedef enum memspace_predefined_t {
    MEMSPACE_HOST_ALL,
    MEMSPACE_HIGHEST_CAPACITY,
    MEMSPACE_HIGHEST_BANDWIDTH,
    MEMSPACE_LOWEST_LATENCY,
    MEMSPACE_PREDEFINED_COUNT
} memspace_predefined_t;

/// The predefined memspace `which`, computed on first call (thread-safe,
/// once per process; a call made while computing - from an allocation the
/// topology discovery makes - gets NULL), or NULL with the reason logged.
umf_const_memspace_handle_t memspace_predefined_get(memspace_predefined_t which);

/// "HostAll", "HighestCapacity", "HighestBandwidth", "LowestLatency".
const char *memspace_predefined_name(memspace_predefined_t which);

/// Why `which` is NULL (after memspace_predefined_get), or NULL when it exists.
const char *memspace_predefined_reason(memspace_predefined_t which);

/// The initiator node HighestBandwidth and LowestLatency were computed for
/// (valid once either was computed), or TOPO_NODE_NONE.
unsigned memspace_predefined_initiator(void);

#ifdef HETMEM_TEST_HOOKS
/// Test support: forgets every predefined memspace (the next call computes
/// it again, e.g. on another fake topology). Not thread-safe; handles
/// returned before become invalid.
void memspace_predefined_reset_for_testing(void);
#endif

#endif // HETMEM_MEMSPACE_MEMSPACE_PREDEFINED_H
