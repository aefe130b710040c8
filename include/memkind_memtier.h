// SPDX-License-Identifier: MIT
// The memtier API of memkind 1.14 (libmemtier(3); link with -lmemkind): one
// allocation interface over several kinds ("tiers"), each allocation placed
// on a tier by a policy so that the tiers' allocated bytes keep a ratio.
// Names, signatures and values are those of memkind's memkind_memtier.h
// (facts of the interface); the text and the implementation are hetmem's
// (docs/memkind.md, "memtier").
#ifndef HETMEM_MEMKIND_MEMTIER_H
#define HETMEM_MEMKIND_MEMTIER_H 1

#ifdef __cplusplus
extern "C" {
#endif

#include <memkind.h>
#include <stdlib.h>

/// A tier configuration being built (opaque).
struct memtier_builder;
/// A tiered memory: what memtier_malloc allocates from (opaque).
struct memtier_memory;

/// How a tiered memory picks the tier of an allocation.
typedef enum memtier_policy_t {
    /// The tier whose allocated bytes lag most behind its share of the ratio.
    MEMTIER_POLICY_STATIC_RATIO = 0,
    /// By size: thresholds between adjacent tiers, moved at run time so that
    /// the allocated bytes approach the ratio (memtier_ctl_set tunes them).
    MEMTIER_POLICY_DYNAMIC_THRESHOLD = 1,
    /// The number of policies.
    MEMTIER_POLICY_MAX_VALUE
} memtier_policy_t;

/// A new builder for `policy`; NULL (errno EINVAL) for an unknown policy.
struct memtier_builder *memtier_builder_new(memtier_policy_t policy);

/// Frees a builder (a memory constructed from it stays valid).
void memtier_builder_delete(struct memtier_builder *builder);

/// Adds `kind` as the next tier with weight `kind_ratio` (> 0). Tier 0 is
/// the first kind added. Returns 0, or -1 for a NULL builder or kind, a zero
/// ratio, or a kind already in the builder.
int memtier_builder_add_tier(struct memtier_builder *builder, memkind_t kind,
                             unsigned kind_ratio);

/// A tiered memory with the builder's tiers and settings; NULL when the
/// builder has no tier or its settings are inconsistent.
struct memtier_memory *memtier_builder_construct_memtier_memory(struct memtier_builder *builder);

/// Frees a tiered memory (the blocks allocated from it stay valid: they
/// belong to their kinds).
void memtier_delete_memtier_memory(struct memtier_memory *memory);

/// size bytes from the tier the policy picks.
void *memtier_malloc(struct memtier_memory *memory, size_t size);

/// memkind_malloc(kind, size), counted in the kind's allocated size.
void *memtier_kind_malloc(memkind_t kind, size_t size);

/// num * size zeroed bytes from the tier the policy picks.
void *memtier_calloc(struct memtier_memory *memory, size_t num, size_t size);

/// memkind_calloc(kind, num, size), counted.
void *memtier_kind_calloc(memkind_t kind, size_t num, size_t size);

/// Resizes ptr within the kind that holds it; ptr NULL: memtier_malloc.
void *memtier_realloc(struct memtier_memory *memory, void *ptr, size_t size);

/// memkind_realloc(kind, ptr, size), counted; size 0 frees ptr (NULL back).
void *memtier_kind_realloc(memkind_t kind, void *ptr, size_t size);

/// An aligned block from the tier the policy picks. Returns 0, EINVAL or
/// ENOMEM; *memptr is written only on success.
int memtier_posix_memalign(struct memtier_memory *memory, void **memptr, size_t alignment,
                           size_t size);

/// memkind_posix_memalign(kind, ...), counted.
int memtier_kind_posix_memalign(memkind_t kind, void **memptr, size_t alignment, size_t size);

/// The usable size of a block of any kind (0 for NULL).
size_t memtier_usable_size(void *ptr);

/// Frees ptr (kind NULL: the kind that holds it) and uncounts it.
void memtier_kind_free(memkind_t kind, void *ptr);

/// Frees a block of any kind (memtier_kind_free(NULL, ptr)).
static inline void memtier_free(void *ptr) {
    memtier_kind_free(NULL, ptr);
}

/// Bytes (usable sizes) allocated from `kind` through the memtier API and
/// not yet freed, over every thread and every tiered memory.
size_t memtier_kind_allocated_size(memkind_t kind);

/// Sets a property of a DYNAMIC_THRESHOLD builder (libmemtier(3)):
///   "policy.dynamic_threshold.thresholds[ID].val|min|max"  (size_t *)
///   "policy.dynamic_threshold.check_cnt"                    (unsigned *)
///   "policy.dynamic_threshold.trigger" / ".degree"          (float *)
/// Returns 0, or -1 for an unknown name, a missing threshold, a NULL value
/// or one out of range.
int memtier_ctl_set(struct memtier_builder *builder, const char *name, const void *val);

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_MEMTIER_H
