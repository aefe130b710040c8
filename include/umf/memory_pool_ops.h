// SPDX-License-Identifier: MIT
// The memory pool operations table (UMF 0.11 layout). A pool - ours or a
// user's - is a umf_memory_pool_ops_t passed to umfPoolCreate.
#ifndef UMF_MEMORY_POOL_OPS_H
#define UMF_MEMORY_POOL_OPS_H 1

#include <umf/base.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The layout version of umf_memory_pool_ops_t these headers declare: the
/// UMF version that last changed the table. Set .version to it.
#define UMF_POOL_OPS_VERSION_CURRENT UMF_MAKE_VERSION(0, 11)

/// A memory pool implementation; every member is required. (The typedef
/// umf_memory_pool_ops_t is in memory_pool.h, so that C99 sees it once.)
struct umf_memory_pool_ops_t {
    /// UMF_POOL_OPS_VERSION_CURRENT of the headers the pool was built with.
    uint32_t version;
    /// Creates the pool's state over a provider.
    umf_result_t (*initialize)(umf_memory_provider_handle_t provider, void *params, void **pool);
    /// Destroys the pool's state (live allocations are released with it).
    void (*finalize)(void *pool);
    void *(*malloc)(void *pool, size_t size);
    void *(*calloc)(void *pool, size_t num, size_t size);
    void *(*realloc)(void *pool, void *ptr, size_t size);
    void *(*aligned_malloc)(void *pool, size_t size, size_t alignment);
    size_t (*malloc_usable_size)(void *pool, void *ptr);
    umf_result_t (*free)(void *pool, void *ptr);
    /// The calling thread's last allocation error in this pool.
    umf_result_t (*get_last_allocation_error)(void *pool);
};

#ifdef __cplusplus
}
#endif

#endif // UMF_MEMORY_POOL_OPS_H
