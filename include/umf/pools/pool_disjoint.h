// SPDX-License-Identifier: MIT
// The disjoint pool (UMF 0.11 API): allocations are served from slabs of
// provider memory while all of the pool's bookkeeping stays in host memory
// (nothing is ever written into the provider's memory), so it suits device,
// file and fixed memory. In hetmem it is a parameter layer over the heap
// engine: per-thread caches, remote frees, cached large extents and decay.
#ifndef UMF_DISJOINT_POOL_H
#define UMF_DISJOINT_POOL_H 1

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The default smallest bucket (size class) of a disjoint pool, in bytes.
#define UMF_DISJOINT_POOL_MIN_BUCKET_DEFAULT_SIZE ((size_t)8)

/// A byte budget shared by several disjoint pools: the provider memory held
/// by all pools that use it together never exceeds its MaxSize.
typedef struct umf_disjoint_pool_shared_limits_t *umf_disjoint_pool_shared_limits_handle_t;

/// Disjoint pool parameters (opaque).
typedef struct umf_disjoint_pool_params_t *umf_disjoint_pool_params_handle_t;

/// Creates shared limits.
/// @param MaxSize the most bytes of provider memory the pools may hold together
/// @return the limits, or NULL without memory
umf_disjoint_pool_shared_limits_handle_t umfDisjointPoolSharedLimitsCreate(size_t MaxSize);

/// Destroys shared limits (every pool using them must be destroyed first).
/// @param hSharedLimits the limits (NULL is ignored)
void umfDisjointPoolSharedLimitsDestroy(umf_disjoint_pool_shared_limits_handle_t hSharedLimits);

/// Creates parameters with the defaults: 64 KiB slabs, 2 MiB max poolable
/// size, capacity 4, min bucket 8, no trace, no shared limits, name
/// "disjoint_pool".
/// @param [out] hParams the new parameters
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL) or OUT_OF_HOST_MEMORY
umf_result_t umfDisjointPoolParamsCreate(umf_disjoint_pool_params_handle_t *hParams);

/// Destroys parameters (a pool created from them keeps its own copy).
/// @param hParams the parameters
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfDisjointPoolParamsDestroy(umf_disjoint_pool_params_handle_t hParams);

/// Sets the minimum size of a slab (and of a request to the provider).
/// @param hParams the parameters
/// @param slabMinSize bytes (> 0)
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfDisjointPoolParamsSetSlabMinSize(umf_disjoint_pool_params_handle_t hParams,
                                                 size_t slabMinSize);

/// Sets the largest size that is pooled; larger allocations go to the
/// provider directly (one provider allocation each, still tracked).
/// @param hParams the parameters
/// @param maxPoolableSize bytes (0: nothing is pooled)
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfDisjointPoolParamsSetMaxPoolableSize(umf_disjoint_pool_params_handle_t hParams,
                                                     size_t maxPoolableSize);

/// Sets how many free slabs each bucket keeps before releasing them.
/// @param hParams the parameters
/// @param maxCapacity slabs per bucket
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfDisjointPoolParamsSetCapacity(umf_disjoint_pool_params_handle_t hParams,
                                              size_t maxCapacity);

/// Sets the smallest bucket size.
/// @param hParams the parameters
/// @param minBucketSize a power of two (sizes below 8 are served as 8)
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT (0 or not a power of two)
umf_result_t umfDisjointPoolParamsSetMinBucketSize(umf_disjoint_pool_params_handle_t hParams,
                                                   size_t minBucketSize);

/// Sets the trace level: 0 none, 1 a summary at destruction, 2 also
/// per-bucket statistics (allocs, frees, slabs, peak), 3 also every
/// allocation and free. Traces go to stderr.
/// @param hParams the parameters
/// @param poolTrace the level
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfDisjointPoolParamsSetTrace(umf_disjoint_pool_params_handle_t hParams,
                                           int poolTrace);

/// Makes the pool share a byte budget with other pools.
/// @param hParams the parameters
/// @param hSharedLimits the limits (NULL: none)
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfDisjointPoolParamsSetSharedLimits(
    umf_disjoint_pool_params_handle_t hParams,
    umf_disjoint_pool_shared_limits_handle_t hSharedLimits);

/// Sets the name used in traces (copied; longer than 63 bytes is truncated).
/// @param hParams the parameters
/// @param name the name (not NULL)
/// @return UMF_RESULT_SUCCESS or INVALID_ARGUMENT
umf_result_t umfDisjointPoolParamsSetName(umf_disjoint_pool_params_handle_t hParams,
                                          const char *name);

/// The disjoint pool's operations (params: a umf_disjoint_pool_params_handle_t,
/// or NULL for the defaults).
umf_memory_pool_ops_t *umfDisjointPoolOps(void);

#ifdef __cplusplus
}
#endif

#endif // UMF_DISJOINT_POOL_H
