// SPDX-License-Identifier: MIT
// The CUDA memory provider (UMF 0.11's entry points). hetmem exports them;
// until the GPU providers land (docs/umf-abi.md) every call answers
// UMF_RESULT_ERROR_NOT_SUPPORTED and umfCUDAMemoryProviderOps NULL, as UMF
// built without CUDA does.
#ifndef UMF_PROVIDER_CUDA_H
#define UMF_PROVIDER_CUDA_H 1

#include <umf/memory_provider_gpu.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct umf_cuda_memory_provider_params_t *umf_cuda_memory_provider_params_handle_t;

/// Params with the current context and device.
umf_result_t umfCUDAMemoryProviderParamsCreate(umf_cuda_memory_provider_params_handle_t *hParams);
umf_result_t umfCUDAMemoryProviderParamsDestroy(umf_cuda_memory_provider_params_handle_t hParams);
/// A CUcontext.
umf_result_t umfCUDAMemoryProviderParamsSetContext(umf_cuda_memory_provider_params_handle_t hParams,
                                                   void *hContext);
/// A CUdevice.
umf_result_t umfCUDAMemoryProviderParamsSetDevice(umf_cuda_memory_provider_params_handle_t hParams,
                                                  int hDevice);
umf_result_t umfCUDAMemoryProviderParamsSetMemoryType(
    umf_cuda_memory_provider_params_handle_t hParams, umf_usm_memory_type_t memoryType);
/// CUDA allocation flags (cuMemHostAlloc / cuMemAllocManaged).
umf_result_t umfCUDAMemoryProviderParamsSetAllocFlags(
    umf_cuda_memory_provider_params_handle_t hParams, unsigned int flags);
umf_memory_provider_ops_t *umfCUDAMemoryProviderOps(void);

#ifdef __cplusplus
}
#endif

#endif // UMF_PROVIDER_CUDA_H
