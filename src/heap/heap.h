// SPDX-License-Identifier: MIT
// The heap engine: the whole interface of src/heap. A heap turns the coarse
// memory of one provider into malloc-style blocks: size-classed slabs with
// out-of-band bitmaps behind per-thread caches for small blocks, cached
// page extents (split/merge) for large ones, direct provider allocations
// above a configurable size, a decay policy that gives unused memory back,
// and statistics merged from per-thread counters. The disjoint and scalable
// UMF pools (src/pools) are thin parameter layers over it.
//
// Guarantees every caller may rely on:
//   - The engine never reads or writes the memory it manages, except
//     calloc (zeroing when the memory is not known to be zero) and a
//     realloc that must move a block (the copy). Memory may be PROT_NONE,
//     device memory, a file or a fixed user buffer.
//   - malloc(0) returns a unique, freeable pointer (as glibc malloc does).
//   - Block pointers are aligned to the largest power of two dividing their
//     size class (16 for classes >= 16); large blocks are page aligned.
//   - realloc never moves a block that fits where it is (shrinking never
//     moves), so it never touches memory it does not have to copy.
//   - All functions are thread-safe; a block may be freed by any thread.
#ifndef HETMEM_HEAP_HEAP_H
#define HETMEM_HEAP_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umf/base.h>
#include <umf/memory_pool_ops.h>
#include <umf/memory_provider.h>

/// One heap (one pool's engine state). Opaque.
typedef struct heap_t heap_t;

/// A byte budget shared by several heaps: the provider memory all of them
/// hold together never exceeds `max` (disjoint pool shared limits).
typedef struct heap_limit_t heap_limit_t;

/// Engine configuration; start from heap_config_default().
typedef struct heap_config_t {
    size_t chunk_size;      ///< bytes asked from the provider at a time (granularity)
    size_t slab_size;       ///< target bytes of one slab (a slab holds >= 4 blocks)
    size_t min_class_size;  ///< smallest block size; rounded up to a class, >= 8
    size_t max_small_size;  ///< largest slab-served size (<= 64 KiB); above: extents
    size_t max_pooled_size; ///< above this, one provider allocation per block
    size_t slab_cache;      ///< empty slabs kept per size class and thread
    bool keep_all_memory;   ///< never give memory back before heap_destroy
    uint64_t decay_ms;      ///< idle time after which free memory is returned
    size_t retain_max;      ///< free bytes kept cached before release is forced
    heap_limit_t *limit;    ///< shared budget or NULL
    void *user;             ///< opaque pointer for the owner (heap_user)
} heap_config_t;

/// Fills *cfg with the defaults (2 MiB chunks, 64 KiB slabs, 8 B to 32 KiB
/// small classes, everything pooled, one cached empty slab per class, 1 s
/// decay, 64 MiB retained).
void heap_config_default(heap_config_t *cfg);

/// Creates a heap over `provider` (not owned; it must outlive the heap).
/// @param [out] out the heap
/// @return SUCCESS, INVALID_ARGUMENT for a bad configuration, or
///         OUT_OF_HOST_MEMORY when metadata cannot be allocated
umf_result_t heap_create(umf_memory_provider_handle_t provider, const heap_config_t *cfg,
                         heap_t **out);

/// Destroys a heap: every chunk (live blocks included) goes back to the
/// provider and all metadata is freed. Other threads must not use it any
/// more. NULL is ignored.
void heap_destroy(heap_t *h);

/// The `user` pointer of the configuration.
void *heap_user(const heap_t *h);

void *heap_malloc(heap_t *h, size_t size);
void *heap_calloc(heap_t *h, size_t num, size_t size);
/// ptr NULL: malloc; size 0: free and NULL.
void *heap_realloc(heap_t *h, void *ptr, size_t size);
/// alignment: a power of two (0 or <= 8: plain malloc).
void *heap_aligned_malloc(heap_t *h, size_t size, size_t alignment);
/// The usable size of a block (0 for NULL or a pointer of another heap).
size_t heap_usable_size(heap_t *h, const void *ptr);
/// Frees a block. INVALID_ARGUMENT for a pointer that is not a block of this
/// heap (nothing changes); a provider error when a direct block could not
/// be returned (the block stays valid). NULL is SUCCESS.
umf_result_t heap_free(heap_t *h, void *ptr);

/// The calling thread's last allocation error (any heap).
umf_result_t heap_last_error(void);
/// How many allocation failures the calling thread has had in any heap
/// (changes whenever heap_last_error is set).
uint64_t heap_error_seq(void);

/// Gives free memory back now: releases empty cached slabs of the calling
/// thread and of exited threads, returns whole free chunks to the provider
/// (unless keep_all_memory) and purges the pages of the other free extents
/// (purge_force when `force`, else purge_lazy with purge_force as fallback).
void heap_purge(heap_t *h, bool force);

/// Whole-heap figures, merged from per-thread counters when read (so they
/// are a consistent sum only while no thread allocates).
typedef struct heap_stats_t {
    size_t allocated;   ///< bytes in live blocks (usable sizes)
    size_t active;      ///< bytes of slabs, extents and direct blocks in use
    size_t resident;    ///< bytes obtained from the provider and not returned
    size_t cached;      ///< free bytes kept in cached extents (part of resident)
    size_t purged;      ///< of `cached`, bytes whose pages were purged
    size_t chunks;      ///< provider allocations held (direct blocks included)
    uint64_t provider_allocs; ///< provider alloc calls that succeeded
    uint64_t provider_frees;  ///< provider free calls that succeeded
} heap_stats_t;

void heap_stats(heap_t *h, heap_stats_t *st);

/// Per size class figures (the disjoint pool's trace).
typedef struct heap_class_stats_t {
    size_t block_size; ///< the class's block size
    size_t slab_size;  ///< bytes of one slab of the class
    uint64_t allocs;   ///< blocks handed out so far
    uint64_t frees;    ///< blocks freed so far
    size_t slabs;      ///< slabs held now
    size_t peak_slabs; ///< most slabs held at once
} heap_class_stats_t;

/// Number of small classes the heap serves (indices 0 .. n-1).
unsigned heap_class_count(const heap_t *h);

/// True when the block at ptr sits in a sparsely used slab of the calling
/// thread (less than half used, not the one new blocks come from), so that
/// reallocating it elsewhere helps the slab empty (memkind_defrag_reallocate).
bool heap_defrag_hint(heap_t *h, const void *ptr);
void heap_class_stats(heap_t *h, unsigned cls, heap_class_stats_t *out);

/// Large and direct allocations (blocks above the small classes).
typedef struct heap_large_stats_t {
    uint64_t allocs, frees;   ///< pooled large blocks
    uint64_t direct_allocs, direct_frees; ///< blocks above max_pooled_size
} heap_large_stats_t;
void heap_large_stats(heap_t *h, heap_large_stats_t *out);

/// Creates a shared budget of max_bytes (NULL without memory).
heap_limit_t *heap_limit_create(size_t max_bytes);
/// Destroys a budget; the heaps using it must be destroyed first.
void heap_limit_destroy(heap_limit_t *l);
/// Bytes the heaps sharing the budget hold now.
size_t heap_limit_used(const heap_limit_t *l);

/// Records the object (a tracked UMF pool handle) that heap_owner_of returns
/// for this heap's blocks; NULL (the default) hides them from it.
/// With `direct`, the pool's free is the engine's own (no wrapper to run):
/// heap_free_direct may free the heap's blocks without going through it.
void heap_set_owner(heap_t *h, void *owner, bool direct);

/// umfFree's fast path: frees ptr with one page-map lookup when it is a
/// slab block of a heap whose owner was set with `direct`; otherwise
/// returns other(ptr) (a tail call, so that umfFree needs no frame).
/// NULL goes to other.
umf_result_t heap_free_direct(void *ptr, umf_result_t (*other)(void *ptr));

/// The owner set for h (heap_set_owner), or NULL.
void *heap_get_owner(const heap_t *h);

/// The owner set for the heap whose span holds ptr, or NULL when ptr is in
/// no engine span or its heap has none. Two loads through the engine's page
/// map: the fast path of umfFree and umfPoolByPtr for engine pools. Only
/// meaningful for pointers into live blocks (like free itself).
void *heap_owner_of(const void *ptr);

/// heap_set_owner for every live heap that allocates from `provider` (each
/// tracked pool has its own tracking provider, so this names the heaps of
/// one pool whatever pool implementation wraps them). Returns the count.
unsigned heap_set_owner_for_provider(umf_memory_provider_handle_t provider, void *owner,
                                     bool direct);

/// Fills the allocation members of a UMF pool ops table (malloc, calloc,
/// realloc, aligned_malloc, malloc_usable_size, free,
/// get_last_allocation_error) with functions whose pool state is a heap_t;
/// the pool sets version, initialize and finalize.
void heap_pool_ops_fill(umf_memory_pool_ops_t *ops);
/// The get_last_allocation_error op of every pool over the engine
/// (heap_last_error).
umf_result_t heap_pool_last_error(void *pool);

#endif // HETMEM_HEAP_HEAP_H
