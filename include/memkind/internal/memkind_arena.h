// SPDX-License-Identifier: MIT
// The memkind "arena" operations (memkind_arena(3)): ready-made
// struct memkind_ops members for kinds whose heap is hetmem's heap engine
// over memory that the kind's own mmap/mbind operations (or jemalloc-style
// extent hooks) supply. In memkind they drive jemalloc arenas; in hetmem
// each kind gets one heap (a UMF pool) whose provider calls the kind's
// operations, so the arena indices below are informative only.
// EXPERIMENTAL API, as in memkind.
//
// extent_hooks_t is jemalloc's type (jemalloc 5 layout). When
// <jemalloc/jemalloc.h> is available it is used; otherwise this header
// declares the same structure, so that a program filling in hooks compiles
// either way. If you include both, either order works when jemalloc's
// header is installed.
#ifndef HETMEM_MEMKIND_ARENA_H
#define HETMEM_MEMKIND_ARENA_H 1

#include <stdbool.h>
#include <stddef.h>

#include <memkind.h>
#include <memkind/internal/memkind_default.h>
#include <memkind/internal/memkind_private.h>

#if !defined(JEMALLOC_H_) && defined(__has_include)
#if __has_include(<jemalloc/jemalloc.h>)
#include <jemalloc/jemalloc.h>
#endif
#endif

#if !defined(JEMALLOC_H_) && !defined(HETMEM_EXTENT_HOOKS_DECLARED)
#define HETMEM_EXTENT_HOOKS_DECLARED 1
typedef struct extent_hooks_s extent_hooks_t;
typedef void *(extent_alloc_t)(extent_hooks_t *, void *, size_t, size_t, bool *, bool *,
                               unsigned);
typedef bool(extent_dalloc_t)(extent_hooks_t *, void *, size_t, bool, unsigned);
typedef void(extent_destroy_t)(extent_hooks_t *, void *, size_t, bool, unsigned);
typedef bool(extent_commit_t)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
typedef bool(extent_decommit_t)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
typedef bool(extent_purge_t)(extent_hooks_t *, void *, size_t, size_t, size_t, unsigned);
typedef bool(extent_split_t)(extent_hooks_t *, void *, size_t, size_t, size_t, bool, unsigned);
typedef bool(extent_merge_t)(extent_hooks_t *, void *, size_t, void *, size_t, bool, unsigned);
/// jemalloc's extent hooks: each returns false on success (alloc: non-NULL).
struct extent_hooks_s {
    extent_alloc_t *alloc;
    extent_dalloc_t *dalloc;
    extent_destroy_t *destroy;
    extent_commit_t *commit;
    extent_decommit_t *decommit;
    extent_purge_t *purge_lazy;
    extent_purge_t *purge_forced;
    extent_split_t *split;
    extent_merge_t *merge;
};
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// The kind that owns "arena" index arena_ind, or NULL.
struct memkind *get_kind_by_arena(unsigned arena_ind);
/// The kind whose memory holds ptr, or NULL.
struct memkind *memkind_arena_detect_kind(void *ptr);
/// memkind_default_create, then memkind_arena_create_map(kind, NULL).
int memkind_arena_create(struct memkind *kind, struct memkind_ops *ops, const char *name);
/// Creates the kind's heap. hooks NULL: memory comes from kind_mmap (the
/// kind's mmap operation, or memkind_default_mmap with its flags, mbind
/// and madvise operations); else from the hooks (alloc, dalloc, purge,
/// split, merge). The heap is created on the kind's first allocation.
int memkind_arena_create_map(struct memkind *kind, extent_hooks_t *hooks);
/// Releases the kind's heap and all memory in it.
int memkind_arena_destroy(struct memkind *kind);
void *memkind_arena_malloc(struct memkind *kind, size_t size);
void *memkind_arena_calloc(struct memkind *kind, size_t num, size_t size);
/// calloc for file-backed kinds (same as memkind_arena_calloc in hetmem).
void *memkind_arena_pmem_calloc(struct memkind *kind, size_t num, size_t size);
/// posix_memalign that leaves errno untouched.
int memkind_arena_posix_memalign(struct memkind *kind, void **memptr, size_t alignment,
                                 size_t size);
void *memkind_arena_realloc(struct memkind *kind, void *ptr, size_t size);
/// realloc in the kind that owns ptr.
void *memkind_arena_realloc_with_kind_detect(void *ptr, size_t size);
/// An arena index hashed from the calling thread (arena_zero + 0..len-1).
int memkind_thread_get_arena(struct memkind *kind, unsigned int *arena, size_t size);
/// Sets kind->arena_map_len (and mask): 1 when ops->get_arena is
/// memkind_bijective_get_arena, else MEMKIND_ARENA_NUM_PER_KIND or 4 per CPU.
int memkind_set_arena_map_len(struct memkind *kind);
/// The kind's single arena index (arena_zero).
int memkind_bijective_get_arena(struct memkind *kind, unsigned int *arena, size_t size);
/// Releases the kind's heap (at exit, or by the program).
int memkind_arena_finalize(struct memkind *kind);
/// memkind_arena_create_map(kind, NULL) for a kind defined statically.
void memkind_arena_init(struct memkind *kind);
void memkind_arena_free(struct memkind *kind, void *ptr);
void memkind_arena_free_with_kind_detect(void *ptr);
size_t memkind_arena_malloc_usable_size(void *ptr);
/// How fast the kind's heap gives unused memory back.
int memkind_arena_update_memory_usage_policy(struct memkind *kind,
                                             memkind_mem_usage_policy policy);

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_ARENA_H
