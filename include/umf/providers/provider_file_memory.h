// SPDX-License-Identifier: MIT
// The file memory provider: memory mapped from a regular file that grows as
// needed (shared: what is written reaches the file).
#ifndef UMF_FILE_MEMORY_PROVIDER_H
#define UMF_FILE_MEMORY_PROVIDER_H 1

#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UMF_FILE_RESULTS_START_FROM 3000

typedef enum umf_file_memory_provider_native_error {
    UMF_FILE_RESULT_SUCCESS = UMF_FILE_RESULTS_START_FROM,
    UMF_FILE_RESULT_ERROR_ALLOC_FAILED,
    UMF_FILE_RESULT_ERROR_FREE_FAILED,
    UMF_FILE_RESULT_ERROR_PURGE_FORCE_FAILED,
} umf_file_memory_provider_native_error_t;

typedef struct umf_file_memory_provider_params_t *umf_file_memory_provider_params_handle_t;

umf_result_t umfFileMemoryProviderParamsCreate(umf_file_memory_provider_params_handle_t *hParams,
                                               const char *path);
umf_result_t umfFileMemoryProviderParamsDestroy(umf_file_memory_provider_params_handle_t hParams);
umf_result_t umfFileMemoryProviderParamsSetPath(umf_file_memory_provider_params_handle_t hParams,
                                                const char *path);
umf_result_t umfFileMemoryProviderParamsSetProtection(umf_file_memory_provider_params_handle_t hParams,
                                                      unsigned protection);
umf_result_t umfFileMemoryProviderParamsSetVisibility(umf_file_memory_provider_params_handle_t hParams,
                                                      umf_memory_visibility_t visibility);

/// The file provider's operations.
umf_memory_provider_ops_t *umfFileMemoryProviderOps(void);

#ifdef __cplusplus
}
#endif

#endif // UMF_FILE_MEMORY_PROVIDER_H
