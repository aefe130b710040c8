// SPDX-License-Identifier: MIT
// The memory provider operations table (UMF 0.11 layout). A provider - ours
// or a user's - is a umf_memory_provider_ops_t passed to
// umfMemoryProviderCreate; hetmem's own providers use no other entry point.
#ifndef UMF_MEMORY_PROVIDER_OPS_H
#define UMF_MEMORY_PROVIDER_OPS_H 1

#include <umf/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Optional operations: a provider may leave any of them NULL, in which
/// case the matching umfMemoryProvider* call returns
/// UMF_RESULT_ERROR_NOT_SUPPORTED. allocation_split and allocation_merge are
/// set together or not at all.
typedef struct umf_memory_provider_ext_ops_t {
    /// Lets the provider drop the pages of [ptr, ptr+size) whenever it likes.
    umf_result_t (*purge_lazy)(void *provider, void *ptr, size_t size);
    /// Drops the pages now; they read back as zeros.
    umf_result_t (*purge_force)(void *provider, void *ptr, size_t size);
    /// Makes two adjacent allocations one (lowPtr < highPtr).
    umf_result_t (*allocation_merge)(void *hProvider, void *lowPtr, void *highPtr,
                                     size_t totalSize);
    /// Makes one allocation two, the first of firstSize bytes.
    umf_result_t (*allocation_split)(void *hProvider, void *ptr, size_t totalSize,
                                     size_t firstSize);
} umf_memory_provider_ext_ops_t;

/// Optional IPC operations: all set or all NULL.
typedef struct umf_memory_provider_ipc_ops_t {
    /// Size of the provider's part of an IPC handle.
    umf_result_t (*get_ipc_handle_size)(void *provider, size_t *size);
    /// Fills providerIpcData (get_ipc_handle_size bytes) for [ptr, ptr+size).
    umf_result_t (*get_ipc_handle)(void *provider, const void *ptr, size_t size,
                                   void *providerIpcData);
    /// Releases what get_ipc_handle acquired.
    umf_result_t (*put_ipc_handle)(void *provider, void *providerIpcData);
    /// Maps the memory a handle describes into this process.
    umf_result_t (*open_ipc_handle)(void *provider, void *providerIpcData, void **ptr);
    /// Unmaps what open_ipc_handle mapped.
    umf_result_t (*close_ipc_handle)(void *provider, void *ptr, size_t size);
} umf_memory_provider_ipc_ops_t;

/// The layout version of umf_memory_provider_ops_t these headers declare:
/// the UMF version that last changed the table. Set .version to it.
#define UMF_PROVIDER_OPS_VERSION_CURRENT UMF_MAKE_VERSION(0, 11)

/// A memory provider implementation. Every non-ext, non-ipc member is required.
typedef struct umf_memory_provider_ops_t {
    /// UMF_PROVIDER_OPS_VERSION_CURRENT of the headers the provider was built with.
    uint32_t version;
    /// Creates the provider's state from its params.
    umf_result_t (*initialize)(void *params, void **provider);
    /// Destroys the provider's state.
    void (*finalize)(void *provider);
    /// Allocates size bytes aligned to alignment (0: the provider's page size).
    umf_result_t (*alloc)(void *provider, size_t size, size_t alignment, void **ptr);
    /// Frees an allocation (or a part that allocation_split made).
    umf_result_t (*free)(void *provider, void *ptr, size_t size);
    /// The thread's last provider-specific error (see memory_provider.h).
    void (*get_last_native_error)(void *provider, const char **ppMessage, int32_t *pError);
    /// The page size the provider recommends for an allocation of size bytes.
    umf_result_t (*get_recommended_page_size)(void *provider, size_t size, size_t *pageSize);
    /// The smallest page size at ptr (or of the provider when ptr is NULL).
    umf_result_t (*get_min_page_size)(void *provider, void *ptr, size_t *pageSize);
    /// The provider's name (a string literal).
    const char *(*get_name)(void *provider);
    umf_memory_provider_ext_ops_t ext;
    umf_memory_provider_ipc_ops_t ipc;
} umf_memory_provider_ops_t;

#ifdef __cplusplus
}
#endif

#endif // UMF_MEMORY_PROVIDER_OPS_H
