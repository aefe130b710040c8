// SPDX-License-Identifier: MIT
// Memory pools: malloc-like allocation from memory that a provider supplies.
#ifndef UMF_MEMORY_POOL_H
#define UMF_MEMORY_POOL_H 1

#include <umf/base.h>
#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A memory pool instance.
typedef struct umf_memory_pool_t *umf_memory_pool_handle_t;

/// The operations of a pool implementation (umf/memory_pool_ops.h).
typedef struct umf_memory_pool_ops_t umf_memory_pool_ops_t;

/// Pool creation flags.
typedef enum umf_pool_create_flag_t {
    UMF_POOL_CREATE_FLAG_NONE = 0,                   ///< no flag
    UMF_POOL_CREATE_FLAG_OWN_PROVIDER = (1 << 0),    ///< umfPoolDestroy destroys the provider
    UMF_POOL_CREATE_FLAG_DISABLE_TRACKING = (1 << 1), ///< allocations are not in the address map
    UMF_POOL_CREATE_FLAG_FORCE_UINT32 = 0x7fffffff    ///< keeps the enum 32 bits wide
} umf_pool_create_flag_t;

/// A combination of umf_pool_create_flag_t.
typedef uint32_t umf_pool_create_flags_t;

#if defined(__GNUC__)
#define UMF_ALLOC_ATTR(...) __attribute__((malloc, warn_unused_result, __VA_ARGS__))
#define UMF_ALLOC_ATTR0 __attribute__((malloc, warn_unused_result))
#else
#define UMF_ALLOC_ATTR(...)
#define UMF_ALLOC_ATTR0
#endif

/// Creates a pool of implementation ops over provider.
/// @param params pool-specific parameters (may be NULL where allowed)
/// @param flags umf_pool_create_flag_t values
/// @param [out] hPool the new pool
umf_result_t umfPoolCreate(const umf_memory_pool_ops_t *ops, umf_memory_provider_handle_t provider,
                           void *params, umf_pool_create_flags_t flags,
                           umf_memory_pool_handle_t *hPool);

/// Destroys a pool (and its provider with OWN_PROVIDER). NULL is ignored; so
/// is (with a log line) a handle already destroyed or not a pool handle.
void umfPoolDestroy(umf_memory_pool_handle_t hPool);

/// Allocates size bytes; NULL on failure (see umfPoolGetLastAllocationError).
void *umfPoolMalloc(umf_memory_pool_handle_t hPool, size_t size) UMF_ALLOC_ATTR(alloc_size(2));

/// Allocates size bytes aligned to alignment (a power of two).
void *umfPoolAlignedMalloc(umf_memory_pool_handle_t hPool, size_t size, size_t alignment)
    UMF_ALLOC_ATTR(alloc_size(2), alloc_align(3));

/// Allocates num * size zeroed bytes; NULL when the product overflows.
void *umfPoolCalloc(umf_memory_pool_handle_t hPool, size_t num, size_t size)
    UMF_ALLOC_ATTR(alloc_size(2, 3));

/// Resizes an allocation (malloc with ptr NULL; free with size 0).
void *umfPoolRealloc(umf_memory_pool_handle_t hPool, void *ptr, size_t size);

/// The usable size of an allocation of the pool (0 for NULL).
size_t umfPoolMallocUsableSize(umf_memory_pool_handle_t hPool, void *ptr);

/// Frees an allocation of the pool (NULL is a no-op).
umf_result_t umfPoolFree(umf_memory_pool_handle_t hPool, void *ptr);

/// Frees ptr if it belongs to a tracked UMF pool; does nothing otherwise and
/// returns UMF_RESULT_ERROR_INVALID_ARGUMENT (foreign, interior or freed pointers).
umf_result_t umfFree(void *ptr);

/// The calling thread's last allocation error of the pool.
umf_result_t umfPoolGetLastAllocationError(umf_memory_pool_handle_t hPool);

/// The tracked pool whose allocation contains ptr, or NULL.
umf_memory_pool_handle_t umfPoolByPtr(const void *ptr);

/// The provider of a pool.
/// @param [out] hProvider the provider
umf_result_t umfPoolGetMemoryProvider(umf_memory_pool_handle_t hPool,
                                      umf_memory_provider_handle_t *hProvider);

/// Sets a user tag on the pool; the previous one goes to oldTag if not NULL.
umf_result_t umfPoolSetTag(umf_memory_pool_handle_t hPool, void *tag, void **oldTag);

/// The pool's user tag (NULL if none).
umf_result_t umfPoolGetTag(umf_memory_pool_handle_t hPool, void **tag);

#ifdef __cplusplus
}
#endif

#endif // UMF_MEMORY_POOL_H
