// SPDX-License-Identifier: MIT
// What the GPU memory providers (CUDA, Level Zero) share: the memory type.
// Values are those of UMF 0.11 (facts of the interface).
#ifndef UMF_MEMORY_PROVIDER_GPU_H
#define UMF_MEMORY_PROVIDER_GPU_H 1

#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Where a GPU provider's memory lives.
typedef enum umf_usm_memory_type_t {
    UMF_MEMORY_TYPE_UNKNOWN = 0, ///< not set
    UMF_MEMORY_TYPE_HOST,        ///< host memory the device can reach
    UMF_MEMORY_TYPE_DEVICE,      ///< device memory
    UMF_MEMORY_TYPE_SHARED       ///< migrating between host and device
} umf_usm_memory_type_t;

#ifdef __cplusplus
}
#endif

#endif // UMF_MEMORY_PROVIDER_GPU_H
