// SPDX-License-Identifier: MIT
// Memory policies (UMF 0.11 mempolicy.h): how a provider or pool made from
// a memspace spreads its pages over the memspace's nodes. Each policy maps
// onto one NUMA mode of the OS memory provider (umf/providers/
// provider_os_memory.h); docs/memspaces-ipc.md has the table.
#ifndef UMF_MEMPOLICY_H
#define UMF_MEMPOLICY_H 1

#include <stddef.h>

#include <umf/base.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct umf_mempolicy_t *umf_mempolicy_handle_t;
typedef const struct umf_mempolicy_t *umf_const_mempolicy_handle_t;

/// The binding of a policy.
typedef enum umf_mempolicy_membind_t {
    /// Pages go round-robin over the memspace's nodes (UMF_NUMA_MODE_INTERLEAVE);
    /// page by page, or in parts of umfMempolicySetInterleavePartSize bytes.
    UMF_MEMPOLICY_INTERLEAVE,
    /// Pages come only from the memspace's nodes (UMF_NUMA_MODE_BIND).
    UMF_MEMPOLICY_BIND,
    /// Pages come from the memspace's nodes while they have free memory, from
    /// other nodes after that (UMF_NUMA_MODE_PREFERRED).
    UMF_MEMPOLICY_PREFERRED,
    /// Each allocation is split over the nodes: evenly, or by the weights of
    /// umfMempolicySetCustomSplitPartitions (UMF_NUMA_MODE_SPLIT).
    UMF_MEMPOLICY_SPLIT,
} umf_mempolicy_membind_t;

/// One part of an allocation under UMF_MEMPOLICY_SPLIT (the layout of the
/// OS provider's umf_numa_split_partition_t).
typedef struct umf_mempolicy_split_partition_t {
    unsigned weight; ///< share of the allocation, relative to the other weights (> 0)
    unsigned target; ///< the NUMA node id of this share; must be in the memspace
} umf_mempolicy_split_partition_t;

/// Creates a policy.
/// @param bind the binding
/// @param [out] hPolicy the new policy
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL hPolicy, unknown bind)
///         or OUT_OF_HOST_MEMORY
umf_result_t umfMempolicyCreate(umf_mempolicy_membind_t bind, umf_mempolicy_handle_t *hPolicy);

/// Destroys a policy. Providers and pools made with it keep their settings.
/// @return UMF_RESULT_SUCCESS, or INVALID_ARGUMENT for NULL
umf_result_t umfMempolicyDestroy(umf_mempolicy_handle_t hPolicy);

/// Sets the part size of an INTERLEAVE policy.
/// @param hPolicy an INTERLEAVE policy
/// @param partSize bytes per part (rounded up to pages by the provider), or
///        0 for page-by-page interleave (the default)
/// @return UMF_RESULT_SUCCESS, or INVALID_ARGUMENT (NULL, not INTERLEAVE)
umf_result_t umfMempolicySetInterleavePartSize(umf_mempolicy_handle_t hPolicy, size_t partSize);

/// Sets the partitions of a SPLIT policy (copied). Without them a SPLIT
/// policy gives every node of the memspace an equal share.
/// @param hPolicy a SPLIT policy
/// @param partList the partitions, in address order of the allocation
/// @param partListLen their number (> 0)
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL, not SPLIT, an empty
///         list, a weight of 0) or OUT_OF_HOST_MEMORY. Whether each target
///         is in the memspace is checked when a provider is created.
umf_result_t umfMempolicySetCustomSplitPartitions(umf_mempolicy_handle_t hPolicy,
                                                  umf_mempolicy_split_partition_t *partList,
                                                  size_t partListLen);

#ifdef __cplusplus
}
#endif

#endif // UMF_MEMPOLICY_H
