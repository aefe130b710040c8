// SPDX-License-Identifier: MIT
// The OS memory provider: anonymous or shared (memfd / named shm) memory
// from the kernel, with protection and every NUMA mode.
#ifndef UMF_OS_MEMORY_PROVIDER_H
#define UMF_OS_MEMORY_PROVIDER_H 1

#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UMF_OS_RESULTS_START_FROM 1000

/// How the NUMA node list is used.
typedef enum umf_numa_mode_t {
    UMF_NUMA_MODE_DEFAULT,    ///< the thread's policy (MPOL_DEFAULT); no node list
    UMF_NUMA_MODE_BIND,       ///< only the listed nodes (MPOL_BIND)
    UMF_NUMA_MODE_INTERLEAVE, ///< pages (or part_size parts) round-robin over the list
    UMF_NUMA_MODE_PREFERRED,  ///< the listed node first, others when it is full
    UMF_NUMA_MODE_SPLIT,      ///< each allocation split over the nodes by weight
    UMF_NUMA_MODE_LOCAL,      ///< the node of the CPU that touches the page; no node list
} umf_numa_mode_t;

/// One part of an allocation in UMF_NUMA_MODE_SPLIT.
typedef struct umf_numa_split_partition_t {
    unsigned weight; ///< share of the allocation (relative to the other weights)
    unsigned target; ///< the NUMA node of this share
} umf_numa_split_partition_t;

/// Provider-specific errors (umfMemoryProviderGetLastNativeError).
typedef enum umf_os_memory_provider_native_error {
    UMF_OS_RESULT_SUCCESS = UMF_OS_RESULTS_START_FROM,
    UMF_OS_RESULT_ERROR_ALLOC_FAILED,
    UMF_OS_RESULT_ERROR_ADDRESS_NOT_ALIGNED,
    UMF_OS_RESULT_ERROR_BIND_FAILED,
    UMF_OS_RESULT_ERROR_FREE_FAILED,
    UMF_OS_RESULT_ERROR_PURGE_LAZY_FAILED,
    UMF_OS_RESULT_ERROR_PURGE_FORCE_FAILED,
    UMF_OS_RESULT_ERROR_TOPO_DISCOVERY_FAILED,
} umf_os_memory_provider_native_error_t;

typedef struct umf_os_memory_provider_params_t *umf_os_memory_provider_params_handle_t;

/// Creates params with the defaults: read/write, private, no NUMA binding.
umf_result_t umfOsMemoryProviderParamsCreate(umf_os_memory_provider_params_handle_t *hParams);
umf_result_t umfOsMemoryProviderParamsDestroy(umf_os_memory_provider_params_handle_t hParams);
/// protection: umf_mem_protection_flags_t values.
umf_result_t umfOsMemoryProviderParamsSetProtection(umf_os_memory_provider_params_handle_t hParams,
                                                    unsigned protection);
umf_result_t umfOsMemoryProviderParamsSetVisibility(umf_os_memory_provider_params_handle_t hParams,
                                                    umf_memory_visibility_t visibility);
/// A name for the shared memory object (/dev/shm/NAME) used with
/// UMF_MEM_MAP_SHARED instead of an anonymous memfd; NULL clears it.
umf_result_t umfOsMemoryProviderParamsSetShmName(umf_os_memory_provider_params_handle_t hParams,
                                                 const char *shm_name);
/// The ordered NUMA node list (copied).
umf_result_t umfOsMemoryProviderParamsSetNumaList(umf_os_memory_provider_params_handle_t hParams,
                                                  unsigned *numa_list, unsigned numa_list_len);
umf_result_t umfOsMemoryProviderParamsSetNumaMode(umf_os_memory_provider_params_handle_t hParams,
                                                  umf_numa_mode_t numa_mode);
/// Part size of UMF_NUMA_MODE_INTERLEAVE (0: page by page); rounded up to pages.
umf_result_t umfOsMemoryProviderParamsSetPartSize(umf_os_memory_provider_params_handle_t hParams,
                                                  size_t part_size);
/// Partitions of UMF_NUMA_MODE_SPLIT (copied).
umf_result_t umfOsMemoryProviderParamsSetPartitions(umf_os_memory_provider_params_handle_t hParams,
                                                    umf_numa_split_partition_t *partitions,
                                                    unsigned partitions_len);

/// The OS provider's operations (params: umf_os_memory_provider_params_handle_t).
umf_memory_provider_ops_t *umfOsMemoryProviderOps(void);

#ifdef __cplusplus
}
#endif

#endif // UMF_OS_MEMORY_PROVIDER_H
