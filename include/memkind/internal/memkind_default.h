// SPDX-License-Identifier: MIT
// Ready-made memkind operations (memkind_default(3)) for struct memkind_ops:
// allocation from the default heap, mapping and binding helpers that read
// the kind's get_mmap_flags / get_mbind_mode / get_mbind_nodemask.
// EXPERIMENTAL API, as in memkind.
#ifndef HETMEM_MEMKIND_DEFAULT_H
#define HETMEM_MEMKIND_DEFAULT_H 1

#include <stdbool.h>
#include <stddef.h>

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Fills kind->ops and kind->name (truncated to MEMKIND_NAME_LENGTH_PRIV - 1).
int memkind_default_create(struct memkind *kind, struct memkind_ops *ops, const char *name);
/// Nothing to release; returns 0.
int memkind_default_destroy(struct memkind *kind);
/// Allocation from MEMKIND_DEFAULT's heap, whatever the kind.
void *memkind_default_malloc(struct memkind *kind, size_t size);
void *memkind_default_calloc(struct memkind *kind, size_t num, size_t size);
int memkind_default_posix_memalign(struct memkind *kind, void **memptr, size_t alignment,
                                   size_t size);
void *memkind_default_realloc(struct memkind *kind, void *ptr, size_t size);
/// Frees a block of any memkind heap (found from ptr).
void memkind_default_free(struct memkind *kind, void *ptr);
/// Maps size bytes with the kind's get_mmap_flags (default: private
/// anonymous), then applies ops->mbind and ops->madvise when set.
/// @return the mapping, or MAP_FAILED
void *memkind_default_mmap(struct memkind *kind, void *addr, size_t size);
/// Binds [ptr, ptr + size) with the kind's get_mbind_mode and get_mbind_nodemask.
int memkind_default_mbind(struct memkind *kind, void *ptr, size_t size);
/// MAP_PRIVATE | MAP_ANONYMOUS.
int memkind_default_get_mmap_flags(struct memkind *kind, int *flags);
/// MPOL_BIND.
int memkind_default_get_mbind_mode(struct memkind *kind, int *mode);
/// Every node with memory.
int memkind_default_get_mbind_nodemask(struct memkind *kind, unsigned long *nodemask,
                                       unsigned long maxnode);
/// MPOL_PREFERRED.
int memkind_preferred_get_mbind_mode(struct memkind *kind, int *mode);
/// MPOL_INTERLEAVE.
int memkind_interleave_get_mbind_mode(struct memkind *kind, int *mode);
/// Disables transparent huge pages on the range.
int memkind_nohugepage_madvise(struct memkind *kind, void *addr, size_t size);
/// 0 for a power of two multiple of sizeof(void *), else EINVAL.
int memkind_posix_check_alignment(struct memkind *kind, size_t alignment);
/// Does nothing.
void memkind_default_init_once(void);
/// The usable size of any memkind block.
size_t memkind_default_malloc_usable_size(struct memkind *kind, void *ptr);

/// True for the sizes memkind refuses (0).
static inline bool size_out_of_bounds(size_t size) { return !size; }

/// The operations of MEMKIND_DEFAULT.
extern struct memkind_ops MEMKIND_DEFAULT_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_DEFAULT_H
