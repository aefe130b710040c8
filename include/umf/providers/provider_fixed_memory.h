// SPDX-License-Identifier: MIT
// The fixed memory provider: hands out parts of a buffer the caller owns.
#ifndef UMF_FIXED_MEMORY_PROVIDER_H
#define UMF_FIXED_MEMORY_PROVIDER_H 1

#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UMF_FIXED_RESULTS_START_FROM 4000

typedef enum umf_fixed_memory_provider_native_error {
    UMF_FIXED_RESULT_SUCCESS = UMF_FIXED_RESULTS_START_FROM,
    UMF_FIXED_RESULT_ERROR_PURGE_FORCE_FAILED,
} umf_fixed_memory_provider_native_error_t;

typedef struct umf_fixed_memory_provider_params_t *umf_fixed_memory_provider_params_handle_t;

/// Params for a buffer [ptr, ptr+size) (neither NULL nor 0).
umf_result_t umfFixedMemoryProviderParamsCreate(umf_fixed_memory_provider_params_handle_t *hParams,
                                                void *ptr, size_t size);
/// Replaces the buffer of the params.
umf_result_t umfFixedMemoryProviderParamsSetMemory(umf_fixed_memory_provider_params_handle_t hParams,
                                                   void *ptr, size_t size);
umf_result_t umfFixedMemoryProviderParamsDestroy(umf_fixed_memory_provider_params_handle_t hParams);

/// The fixed provider's operations.
umf_memory_provider_ops_t *umfFixedMemoryProviderOps(void);

#ifdef __cplusplus
}
#endif

#endif // UMF_FIXED_MEMORY_PROVIDER_H
