// SPDX-License-Identifier: MIT
// Memory providers: coarse-grained memory (pages) from the OS, a file, a
// device or a fixed buffer. Pools carve fine-grained allocations from them.
#ifndef UMF_MEMORY_PROVIDER_H
#define UMF_MEMORY_PROVIDER_H 1

#include <umf/base.h>
#include <umf/memory_provider_ops.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Memory visibility of a provider's mappings.
typedef enum umf_memory_visibility_t {
    UMF_MEM_MAP_PRIVATE = 1, ///< private mapping
    UMF_MEM_MAP_SHARED,      ///< shared mapping (other processes can map it: IPC)
} umf_memory_visibility_t;

/// Protection of a provider's allocations (combine with |).
typedef enum umf_mem_protection_flags_t {
    UMF_PROTECTION_NONE = (1 << 0),  ///< no access
    UMF_PROTECTION_READ = (1 << 1),  ///< readable
    UMF_PROTECTION_WRITE = (1 << 2), ///< writable
    UMF_PROTECTION_EXEC = (1 << 3),  ///< executable
    UMF_PROTECTION_MAX
} umf_mem_protection_flags_t;

/// A memory provider instance.
typedef struct umf_memory_provider_t *umf_memory_provider_handle_t;

/// Creates a provider from an ops table and its params.
/// @param ops the implementation (copied; it need not outlive the call)
/// @param params provider-specific parameters (may be NULL where allowed)
/// @param [out] hProvider the new provider
/// @return UMF_RESULT_SUCCESS or an error (INVALID_ARGUMENT for NULL
///         arguments, a missing required op or an unsupported ops version)
umf_result_t umfMemoryProviderCreate(const umf_memory_provider_ops_t *ops, void *params,
                                     umf_memory_provider_handle_t *hProvider);

/// Destroys a provider (NULL is ignored).
void umfMemoryProviderDestroy(umf_memory_provider_handle_t hProvider);

/// Allocates size bytes aligned to alignment (0, or a multiple or divisor of
/// the minimum page size).
/// @param [out] ptr the allocation
umf_result_t umfMemoryProviderAlloc(umf_memory_provider_handle_t hProvider, size_t size,
                                    size_t alignment, void **ptr);

/// Frees size bytes at ptr, which the provider allocated.
umf_result_t umfMemoryProviderFree(umf_memory_provider_handle_t hProvider, void *ptr,
                                   size_t size);

/// The provider-specific message and code of the calling thread's last call
/// that returned UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC.
void umfMemoryProviderGetLastNativeError(umf_memory_provider_handle_t hProvider,
                                         const char **ppMessage, int32_t *pError);

/// The recommended page size for allocations of size bytes.
/// @param [out] pageSize the page size
umf_result_t umfMemoryProviderGetRecommendedPageSize(umf_memory_provider_handle_t hProvider,
                                                     size_t size, size_t *pageSize);

/// The smallest page size at ptr, or of the provider when ptr is NULL.
/// @param [out] pageSize the page size
umf_result_t umfMemoryProviderGetMinPageSize(umf_memory_provider_handle_t hProvider, void *ptr,
                                             size_t *pageSize);

/// Lets the provider discard the pages of a range whenever it likes.
/// @return INVALID_ALIGNMENT when ptr or size are not page-aligned,
///         NOT_SUPPORTED when the provider cannot purge
umf_result_t umfMemoryProviderPurgeLazy(umf_memory_provider_handle_t hProvider, void *ptr,
                                        size_t size);

/// Discards the pages of a range now; they read back as zeros.
umf_result_t umfMemoryProviderPurgeForce(umf_memory_provider_handle_t hProvider, void *ptr,
                                         size_t size);

/// The size of the provider's IPC data. NOT_SUPPORTED without IPC.
/// @param [out] size the size in bytes
umf_result_t umfMemoryProviderGetIPCHandleSize(umf_memory_provider_handle_t hProvider,
                                               size_t *size);

/// Fills providerIpcData for an allocation of the provider.
umf_result_t umfMemoryProviderGetIPCHandle(umf_memory_provider_handle_t hProvider,
                                           const void *ptr, size_t size, void *providerIpcData);

/// Releases IPC data filled by umfMemoryProviderGetIPCHandle.
umf_result_t umfMemoryProviderPutIPCHandle(umf_memory_provider_handle_t hProvider,
                                           void *providerIpcData);

/// Maps the memory described by providerIpcData into this process.
/// @param [out] ptr where it is mapped
umf_result_t umfMemoryProviderOpenIPCHandle(umf_memory_provider_handle_t hProvider,
                                            void *providerIpcData, void **ptr);

/// Unmaps memory mapped by umfMemoryProviderOpenIPCHandle.
umf_result_t umfMemoryProviderCloseIPCHandle(umf_memory_provider_handle_t hProvider, void *ptr,
                                             size_t size);

/// The provider's name, or NULL for a NULL handle.
const char *umfMemoryProviderGetName(umf_memory_provider_handle_t hProvider);

/// The last provider that returned an error on the calling thread (NULL if none).
umf_memory_provider_handle_t umfGetLastFailedMemoryProvider(void);

/// Splits an allocation in two that can be freed separately.
umf_result_t umfMemoryProviderAllocationSplit(umf_memory_provider_handle_t hProvider, void *ptr,
                                              size_t totalSize, size_t firstSize);

/// Merges two adjacent allocations into one (highPtr == lowPtr + first size).
umf_result_t umfMemoryProviderAllocationMerge(umf_memory_provider_handle_t hProvider,
                                              void *lowPtr, void *highPtr, size_t totalSize);

#ifdef __cplusplus
}
#endif

#endif // UMF_MEMORY_PROVIDER_H
