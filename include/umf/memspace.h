// SPDX-License-Identifier: MIT
// Memory spaces (UMF 0.11 memspace.h): sets of memory targets (NUMA nodes),
// made by hand or predefined from the machine's topology, and the
// providers and pools made from a memspace and a policy.
//
// The predefined memspaces are computed once, on first use, from the
// topology hetmem discovers (docs/memspaces-ipc.md):
//   HostAll           every NUMA node with memory
//   HighestCapacity   the node(s) with the largest capacity
//   HighestBandwidth  the node(s) with the highest HMAT bandwidth seen from
//                     the initiator of the calling CPU (NULL without HMAT)
//   LowestLatency     the node(s) with the lowest HMAT latency seen from it
//                     (NULL without HMAT)
// They are owned by the library: never destroy them.
#ifndef UMF_MEMSPACE_H
#define UMF_MEMSPACE_H 1

#include <stddef.h>
#include <stdint.h>

#include <umf/base.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/mempolicy.h>
#include <umf/memtarget.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct umf_memspace_t *umf_memspace_handle_t;
typedef const struct umf_memspace_t *umf_const_memspace_handle_t;

/// Creates a pool over a provider made from the memspace and the policy
/// (umfMemoryProviderCreateFromMemspace); the pool owns that provider.
/// @param hMemspace a memspace with at least one target
/// @param hPolicy the policy, or NULL (BIND to every node of the memspace)
/// @param [out] hPool the new pool
/// @return UMF_RESULT_SUCCESS or an error of the provider or pool creation
umf_result_t umfPoolCreateFromMemspace(umf_const_memspace_handle_t hMemspace,
                                       umf_const_mempolicy_handle_t hPolicy,
                                       umf_memory_pool_handle_t *hPool);

/// Creates an OS memory provider (private, read/write) whose node list is
/// the memspace's nodes in memspace order and whose NUMA mode is the
/// policy's: BIND, INTERLEAVE (with its part size), PREFERRED or SPLIT
/// (with its partitions); with no policy, BIND.
/// @param hMemspace a memspace with at least one target
/// @param hPolicy the policy, or NULL
/// @param [out] hProvider the new provider
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL, an empty memspace, a
///         split partition naming a node outside the memspace) or an error
///         of the OS provider
umf_result_t umfMemoryProviderCreateFromMemspace(umf_const_memspace_handle_t hMemspace,
                                                 umf_const_mempolicy_handle_t hPolicy,
                                                 umf_memory_provider_handle_t *hProvider);

/// Creates a memspace from NUMA node ids (in that order).
/// @param nodeIds node ids of nodes with memory, without repetition
/// @param numIds their number (> 0)
/// @param [out] hMemspace the new memspace
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL, 0 ids, a node that
///         does not exist or has no memory, a repeated id) or OUT_OF_HOST_MEMORY
umf_result_t umfMemspaceCreateFromNumaArray(unsigned *nodeIds, size_t numIds,
                                            umf_memspace_handle_t *hMemspace);

/// Destroys a memspace and its targets. NULL and predefined memspaces are
/// ignored.
void umfMemspaceDestroy(umf_memspace_handle_t hMemspace);

/// The predefined memspace of every NUMA node with memory.
/// @return the memspace, or NULL when the topology cannot be read
umf_const_memspace_handle_t umfMemspaceHostAllGet(void);

/// The predefined memspace of the node(s) with the largest capacity.
/// @return the memspace, or NULL when the topology cannot be read
umf_const_memspace_handle_t umfMemspaceHighestCapacityGet(void);

/// The predefined memspace of the node(s) with the highest bandwidth seen
/// from the NUMA node of the CPU that first asks.
/// @return the memspace, or NULL when the machine reports no HMAT figures
///         (the reason is logged: HETMEM_LOG=warn)
umf_const_memspace_handle_t umfMemspaceHighestBandwidthGet(void);

/// The predefined memspace of the node(s) with the lowest latency seen
/// from the NUMA node of the CPU that first asks.
/// @return the memspace, or NULL when the machine reports no HMAT figures
umf_const_memspace_handle_t umfMemspaceLowestLatencyGet(void);

/// Creates an empty memspace (fill it with umfMemspaceMemtargetAdd).
/// @param [out] hMemspace the new memspace
umf_result_t umfMemspaceNew(umf_memspace_handle_t *hMemspace);

/// The number of targets in a memspace (0 for NULL).
size_t umfMemspaceMemtargetNum(umf_const_memspace_handle_t hMemspace);

/// The target at index targetNum (0 .. umfMemspaceMemtargetNum - 1).
/// @return the target, or NULL for NULL or an index out of range
umf_const_memtarget_handle_t umfMemspaceMemtargetGet(umf_const_memspace_handle_t hMemspace,
                                                     unsigned targetNum);

/// Adds a copy of a target (from any memspace) at the end of a memspace.
/// The copy is a new handle: find it with umfMemspaceMemtargetGet.
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL, a predefined
///         memspace, the node is already in the memspace) or OUT_OF_HOST_MEMORY
umf_result_t umfMemspaceMemtargetAdd(umf_memspace_handle_t hMemspace,
                                     umf_const_memtarget_handle_t hMemtarget);

/// Removes the target for the same node as hMemtarget (which may come from
/// another memspace) from a memspace; that target's handle becomes invalid.
/// @return UMF_RESULT_SUCCESS, or INVALID_ARGUMENT (NULL, a predefined
///         memspace, the node is not in the memspace)
umf_result_t umfMemspaceMemtargetRemove(umf_memspace_handle_t hMemspace,
                                        umf_const_memtarget_handle_t hMemtarget);

/// Copies a memspace (predefined ones too; the copy is the caller's).
/// @param [out] hNewMemspace the copy
umf_result_t umfMemspaceClone(umf_const_memspace_handle_t hMemspace,
                              umf_memspace_handle_t *hNewMemspace);

/// A filter for umfMemspaceUserFilter.
/// @return 0 to remove hMemtarget, > 0 to keep it, < 0 for an error
typedef int (*umf_memspace_filter_func_t)(umf_const_memspace_handle_t hMemspace,
                                          umf_const_memtarget_handle_t hMemtarget, void *args);

/// Keeps only the targets whose node id is in ids. The memspace may end up
/// empty. On an error it is left unchanged (hetmem never returns
/// UMF_RESULT_ERROR_UNKNOWN, UMF's code for "half filtered").
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL, size 0) or OUT_OF_HOST_MEMORY
umf_result_t umfMemspaceFilterById(umf_memspace_handle_t hMemspace, unsigned *ids, size_t size);

/// Keeps only the targets with a capacity of at least size bytes.
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL, size < 0: reserved)
///         or OUT_OF_HOST_MEMORY
umf_result_t umfMemspaceFilterByCapacity(umf_memspace_handle_t hMemspace, int64_t size);

/// Keeps the targets for which filter returns > 0.
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL), USER_SPECIFIC (the
///         filter returned < 0; nothing was removed) or OUT_OF_HOST_MEMORY
umf_result_t umfMemspaceUserFilter(umf_memspace_handle_t hMemspace,
                                   umf_memspace_filter_func_t filter, void *args);

#ifdef __cplusplus
}
#endif

#endif // UMF_MEMSPACE_H
