// SPDX-License-Identifier: MIT
// The structures behind memkind_t, for programs that build their own kinds
// from a struct memkind_ops (memkind_arena(3), memkind_default(3)). The
// members, their order and the size (120 bytes on LP64) are those of memkind
// 1.14, so code written for it compiles unchanged and a struct memkind a
// program declares with memkind's own header is large enough for hetmem.
// hetmem's per-kind state lives in memkind's padding and in two members
// memkind uses for jemalloc arenas (docs/memkind.md, "struct memkind").
// EXPERIMENTAL API, as in memkind.
#ifndef HETMEM_MEMKIND_PRIVATE_H
#define HETMEM_MEMKIND_PRIVATE_H 1

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <memkind.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define MEMKIND_LIKELY(x) __builtin_expect(!!(x), 1)
#define MEMKIND_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define MEMKIND_LIKELY(x) (x)
#define MEMKIND_UNLIKELY(x) (x)
#endif

#ifndef MEMKIND_EXPORT
#define MEMKIND_EXPORT __attribute__((visibility("default")))
#endif

enum memkind_const_private {
    /// Size of struct memkind's name (with the NUL).
    MEMKIND_NAME_LENGTH_PRIV = 64
};

/// The operations of a kind. memkind_malloc and friends call them; the
/// memkind_arena_* and memkind_default_* functions are ready-made ones.
/// Required for a created kind: create, destroy, malloc, calloc,
/// posix_memalign, realloc and free.
struct memkind_ops {
    int (*create)(struct memkind *kind, struct memkind_ops *ops, const char *name);
    int (*destroy)(struct memkind *kind);
    void *(*malloc)(struct memkind *kind, size_t size);
    void *(*calloc)(struct memkind *kind, size_t num, size_t size);
    int (*posix_memalign)(struct memkind *kind, void **memptr, size_t alignment, size_t size);
    void *(*realloc)(struct memkind *kind, void *ptr, size_t size);
    void (*free)(struct memkind *kind, void *ptr);
    /// Maps size bytes for the kind's heap (MAP_FAILED on failure); NULL:
    /// memkind_default_mmap.
    void *(*mmap)(struct memkind *kind, void *addr, size_t size);
    int (*mbind)(struct memkind *kind, void *ptr, size_t size);
    int (*madvise)(struct memkind *kind, void *addr, size_t size);
    int (*get_mmap_flags)(struct memkind *kind, int *flags);
    int (*get_mbind_mode)(struct memkind *kind, int *mode);
    int (*get_mbind_nodemask)(struct memkind *kind, unsigned long *nodemask,
                              unsigned long maxnode);
    int (*get_arena)(struct memkind *kind, unsigned int *arena, size_t size);
    int (*check_available)(struct memkind *kind);
    /// Run once before the kind's first use (static kinds; NULL: nothing).
    void (*init_once)(void);
    int (*finalize)(struct memkind *kind);
    size_t (*malloc_usable_size)(struct memkind *kind, void *ptr);
    int (*update_memory_usage_policy)(struct memkind *kind, memkind_mem_usage_policy policy);
    int (*get_stat)(memkind_t kind, memkind_stat_type stat, size_t *value);
    void *(*defrag_reallocate)(struct memkind *kind, void *ptr);
};

/// A kind. Define one statically (zeroed) with .ops and .name, then give it
/// to memkind_arena_create, or create one with memkind_create_kind.
/// Members marked "hetmem" are the library's (zero in a static
/// initializer; do not touch): hetmem_self and hetmem_flags sit where
/// memkind's struct has padding; arena_map holds hetmem's heap of the kind
/// and arena_key its handle state (a kind is live while both hetmem_state
/// and hetmem_self say so, so that a garbage or destroyed handle is refused
/// instead of followed).
struct memkind {
    struct memkind_ops *ops;
    unsigned int partition;              ///< registry number (memkind_get_kind_by_partition)
    char name[MEMKIND_NAME_LENGTH_PRIV];
    pthread_once_t init_once;            ///< guards ops->init_once
    unsigned int arena_map_len;          ///< "arenas" of the kind (informative in hetmem)
    unsigned int hetmem_self;            ///< hetmem: the handle check (memkind: padding)
    unsigned int *arena_map;             ///< hetmem: the kind's heap
    pthread_key_t arena_key;             ///< hetmem: the handle state
    unsigned int hetmem_flags;           ///< hetmem: allow_zero_allocs (memkind: padding)
    void *priv;                          ///< the kind implementation's own data
    unsigned int arena_map_mask;         ///< arena_map_len - 1
    unsigned int arena_zero;             ///< first "arena" index of the kind
};

/// What memkind_config_* fill in (memkind_create_pmem_with_config).
struct memkind_config {
    const char *pmem_dir;            ///< directory of the file
    size_t pmem_size;                ///< size limit, 0 for none
    memkind_mem_usage_policy policy; ///< memory usage policy
};

/// Runs the kind's init_once (if any) once; check_numa is ignored.
void memkind_init(memkind_t kind, bool check_numa);

/// ops->mmap when set, else memkind_default_mmap.
void *kind_mmap(struct memkind *kind, void *addr, size_t size);

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_PRIVATE_H
