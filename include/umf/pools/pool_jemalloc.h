// SPDX-License-Identifier: MIT
// The jemalloc pool: malloc-like allocation by jemalloc arenas whose memory
// comes from the pool's provider. libjemalloc.so.2 is loaded at run time,
// privately: it never becomes the process's malloc (docs/jemalloc-pool.md).
#ifndef UMF_JEMALLOC_POOL_H
#define UMF_JEMALLOC_POOL_H 1

#include <stdbool.h>
#include <stddef.h>

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The jemalloc pool's operations.
///
/// params of umfPoolCreate: NULL (defaults: one arena per online CPU, at
/// most 8; explicit per-thread tcaches) or a
/// hetmem_jemalloc_pool_params_handle_t. umfPoolCreate fails with
/// UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE when libjemalloc.so.2 cannot be
/// loaded and UMF_RESULT_ERROR_NOT_SUPPORTED when hetmem was built without
/// jemalloc support.
umf_memory_pool_ops_t *umfJemallocPoolOps(void);

/// Parameters of a jemalloc pool (a hetmem extension: UMF 0.11 documents
/// none). The handle may be destroyed once umfPoolCreate has returned.
typedef struct hetmem_jemalloc_pool_params_t *hetmem_jemalloc_pool_params_handle_t;

/// Creates parameters with the defaults.
/// @param [out] hParams the new parameters
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT for NULL, OUT_OF_HOST_MEMORY
umf_result_t hetmem_jemalloc_pool_params_create(hetmem_jemalloc_pool_params_handle_t *hParams);

/// Destroys parameters (NULL is ignored).
umf_result_t hetmem_jemalloc_pool_params_destroy(hetmem_jemalloc_pool_params_handle_t hParams);

/// Sets how many jemalloc arenas the pool spreads its threads over.
/// @param numArenas 1..64, or 0 for the default (one per online CPU, at most 8)
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t
hetmem_jemalloc_pool_params_set_num_arenas(hetmem_jemalloc_pool_params_handle_t hParams,
                                           size_t numArenas);

/// Enables (default) or disables the per-thread explicit tcaches. Without
/// them every malloc and free takes an arena bin lock.
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t hetmem_jemalloc_pool_params_set_tcache(hetmem_jemalloc_pool_params_handle_t hParams,
                                                    bool enable);

#ifdef __cplusplus
}
#endif

#endif // UMF_JEMALLOC_POOL_H
