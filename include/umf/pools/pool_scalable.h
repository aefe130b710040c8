// SPDX-License-Identifier: MIT
// The scalable pool (UMF 0.11 API): a general-purpose, thread-scalable
// pool over any provider. In hetmem it is the heap engine with its own
// defaults: per-thread caches, remote frees, cached large extents, decay.
#ifndef UMF_SCALABLE_POOL_H
#define UMF_SCALABLE_POOL_H 1

#include <stdbool.h>

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Scalable pool parameters (opaque).
typedef struct umf_scalable_pool_params_t *umf_scalable_pool_params_handle_t;

/// Creates parameters with the defaults (2 MiB granularity, memory is given
/// back to the provider when unused).
/// @param [out] hParams the new parameters
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL) or OUT_OF_HOST_MEMORY
umf_result_t umfScalablePoolParamsCreate(umf_scalable_pool_params_handle_t *hParams);

/// Destroys parameters.
/// @param hParams the parameters
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfScalablePoolParamsDestroy(umf_scalable_pool_params_handle_t hParams);

/// Sets the granularity of the pool's requests to the provider.
/// @param hParams the parameters
/// @param granularity bytes (> 0)
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfScalablePoolParamsSetGranularity(umf_scalable_pool_params_handle_t hParams,
                                                 size_t granularity);

/// Sets whether the pool keeps all provider memory until it is destroyed
/// (no umfMemoryProviderFree and no purging before umfPoolDestroy).
/// @param hParams the parameters
/// @param keepAllMemory true to keep everything
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfScalablePoolParamsSetKeepAllMemory(umf_scalable_pool_params_handle_t hParams,
                                                   bool keepAllMemory);

/// The scalable pool's operations (params: a umf_scalable_pool_params_handle_t,
/// or NULL for the defaults).
umf_memory_pool_ops_t *umfScalablePoolOps(void);

#ifdef __cplusplus
}
#endif

#endif // UMF_SCALABLE_POOL_H
