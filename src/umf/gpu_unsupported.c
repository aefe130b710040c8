// SPDX-License-Identifier: MIT
// UMF 0.11's CUDA and Level Zero provider entry points, exported so that a
// UMF program that names them loads (docs/umf-abi.md). hetmem has no GPU
// providers yet (issue 18): every call answers NOT_SUPPORTED, the ops
// functions NULL, as UMF built without GPU support does. One log line per
// process says why.
#include <stdbool.h>

#include <umf/providers/provider_cuda.h>
#include <umf/providers/provider_level_zero.h>

#include "base/log.h"
#include "base/util.h"

static bool said;

static umf_result_t unsupported(const char *fn) {
    log_write_once(&said, LOG_LEVEL_WARN, fn,
                   "hetmem has no CUDA or Level Zero provider yet: NOT_SUPPORTED");
    return UMF_RESULT_ERROR_NOT_SUPPORTED;
}

#define GPU_STUB(name, ...)                                                                        \
    HETMEM_EXPORT umf_result_t name(__VA_ARGS__) { return unsupported(__func__); }

typedef umf_cuda_memory_provider_params_handle_t cuda_p;
typedef umf_level_zero_memory_provider_params_handle_t ze_p;

GPU_STUB(umfCUDAMemoryProviderParamsCreate, cuda_p *h)
GPU_STUB(umfCUDAMemoryProviderParamsDestroy, cuda_p h)
GPU_STUB(umfCUDAMemoryProviderParamsSetContext, cuda_p h, void *c)
GPU_STUB(umfCUDAMemoryProviderParamsSetDevice, cuda_p h, int d)
GPU_STUB(umfCUDAMemoryProviderParamsSetMemoryType, cuda_p h, umf_usm_memory_type_t t)
GPU_STUB(umfCUDAMemoryProviderParamsSetAllocFlags, cuda_p h, unsigned int f)
GPU_STUB(umfLevelZeroMemoryProviderParamsCreate, ze_p *h)
GPU_STUB(umfLevelZeroMemoryProviderParamsDestroy, ze_p h)
GPU_STUB(umfLevelZeroMemoryProviderParamsSetContext, ze_p h, ze_context_handle_t c)
GPU_STUB(umfLevelZeroMemoryProviderParamsSetDevice, ze_p h, ze_device_handle_t d)
GPU_STUB(umfLevelZeroMemoryProviderParamsSetMemoryType, ze_p h, umf_usm_memory_type_t t)
GPU_STUB(umfLevelZeroMemoryProviderParamsSetResidentDevices, ze_p h, ze_device_handle_t *d,
         uint32_t n)
GPU_STUB(umfLevelZeroMemoryProviderParamsSetFreePolicy, ze_p h,
         umf_level_zero_memory_provider_free_policy_t p)
GPU_STUB(umfLevelZeroMemoryProviderParamsSetDeviceOrdinal, ze_p h, uint32_t o)

HETMEM_EXPORT umf_memory_provider_ops_t *umfCUDAMemoryProviderOps(void) {
    (void)unsupported(__func__);
    return NULL;
}

HETMEM_EXPORT umf_memory_provider_ops_t *umfLevelZeroMemoryProviderOps(void) {
    (void)unsupported(__func__);
    return NULL;
}
