// SPDX-License-Identifier: MIT
// The memkind-compatible API of hetmem (link with -lmemkind; libmemkind.so.0).
//
// A kind is a kind of memory: which NUMA nodes, which page size, what
// happens when the memory runs out. hetmem implements the memkind 1.14 API:
// the same functions, the same enum and error values and the same exported
// kind symbols, so a program built against memkind runs on hetmem unchanged
// (memkind(3), docs/memkind.md). Values are those of the memkind API (facts
// of the interface); the text is hetmem's.
//
// API levels as memkind(3) defines them: STANDARD (stable), EXPERIMENTAL
// (memkind_create_kind, memkind_posix_memalign: may change).
#ifndef HETMEM_MEMKIND_H
#define HETMEM_MEMKIND_H 1

#ifdef __cplusplus
extern "C" {
#endif

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/// memkind lets a program define this to `const` (as jemalloc's
/// malloc_usable_size); the default is empty, as in memkind.
#ifndef MEMKIND_MALLOC_USABLE_SIZE_CONST
#define MEMKIND_MALLOC_USABLE_SIZE_CONST
#endif

#if defined(__GNUC__)
#define MEMKIND_HETMEM_MALLOC_ATTR(...) __attribute__((malloc, alloc_size(__VA_ARGS__)))
#define MEMKIND_HETMEM_SIZE_ATTR(...) __attribute__((alloc_size(__VA_ARGS__)))
#else
#define MEMKIND_HETMEM_MALLOC_ATTR(...)
#define MEMKIND_HETMEM_SIZE_ATTR(...)
#endif

/// Memory types for memkind_create_kind (bit flags). EXPERIMENTAL.
typedef enum memkind_memtype_t {
    /// The memory the process normally uses.
    MEMKIND_MEMTYPE_DEFAULT = 1,
    /// High bandwidth memory (needs two memories of different bandwidth, or
    /// MEMKIND_HBW_NODES, to tell which one it is).
    MEMKIND_MEMTYPE_HIGH_BANDWIDTH = 2
} memkind_memtype_t;

/// Binding policies for memkind_create_kind. EXPERIMENTAL.
typedef enum memkind_policy_t {
    /// Local memory only; NULL and ENOMEM when it is full.
    MEMKIND_POLICY_BIND_LOCAL = 0,
    /// Any memory of the type, locality ignored; NULL and ENOMEM when full.
    MEMKIND_POLICY_BIND_ALL,
    /// Local memory of the type first, any other memory when it is full.
    MEMKIND_POLICY_PREFERRED_LOCAL,
    /// Pages interleaved over the local memory of the types.
    MEMKIND_POLICY_INTERLEAVE_LOCAL,
    /// Pages interleaved over all memory of the types.
    MEMKIND_POLICY_INTERLEAVE_ALL,
    /// The number of policies.
    MEMKIND_POLICY_MAX_VALUE
} memkind_policy_t;

/// Flags for memkind_create_kind. EXPERIMENTAL.
typedef enum memkind_bits_t {
    /// Back the allocations with 2 MiB pages (the value is log2 of the size).
    MEMKIND_MASK_PAGE_SIZE_2MB = 21ull
} memkind_bits_t;

/// A kind of memory (opaque here; memkind/internal/memkind_private.h has the
/// structure for programs that build their own kinds).
typedef struct memkind *memkind_t;

enum memkind_const {
    /// Most kinds that may exist at once (the static kinds included).
    MEMKIND_MAX_KIND = 512,
    /// Size of a buffer that holds any memkind_error_message text.
    MEMKIND_ERROR_MESSAGE_SIZE = 128,
    /// Smallest non-zero max_size of memkind_create_pmem.
    MEMKIND_PMEM_MIN_SIZE = (1024 * 1024 * 16)
};

/// Results of the functions that return int (memkind_posix_memalign
/// returns EINVAL/ENOMEM instead).
enum {
    MEMKIND_SUCCESS = 0,
    /// The kind's memory is not present on this machine.
    MEMKIND_ERROR_UNAVAILABLE = -1,
    /// Binding memory to NUMA nodes failed.
    MEMKIND_ERROR_MBIND = -2,
    /// Mapping memory failed.
    MEMKIND_ERROR_MMAP = -3,
    /// The library could not allocate its own bookkeeping.
    MEMKIND_ERROR_MALLOC = -6,
    /// A MEMKIND_* environment variable is malformed.
    MEMKIND_ERROR_ENVIRON = -12,
    /// An argument is invalid.
    MEMKIND_ERROR_INVALID = -13,
    /// MEMKIND_MAX_KIND kinds exist already.
    MEMKIND_ERROR_TOOMANY = -15,
    /// A struct memkind_ops lacks an operation or is malformed.
    MEMKIND_ERROR_BADOPS = -17,
    /// Huge pages could not be allocated.
    MEMKIND_ERROR_HUGETLB = -18,
    /// The requested memory type is not present.
    MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE = -20,
    /// The operation failed.
    MEMKIND_ERROR_OPERATION_FAILED = -21,
    /// A heap (arena) could not be created for the kind.
    MEMKIND_ERROR_ARENAS_CREATE = -22,
    /// Any other run-time error.
    MEMKIND_ERROR_RUNTIME = -255
};

/// How eagerly freed memory goes back to the system (file-backed kinds:
/// how fast file space is given back).
typedef enum memkind_mem_usage_policy {
    /// Keep freed memory cached for a while (the default).
    MEMKIND_MEM_USAGE_POLICY_DEFAULT = 0,
    /// Give freed memory back at once: least memory, more CPU time.
    MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE = 1,
    /// The number of policies.
    MEMKIND_MEM_USAGE_POLICY_MAX_VALUE
} memkind_mem_usage_policy;

/// Statistics of memkind_get_stat.
typedef enum memkind_stat_type {
    /// Bytes of pages mapped and physically resident (held from the system).
    MEMKIND_STAT_TYPE_RESIDENT = 0,
    /// Bytes of pages in active use (slabs and extents holding blocks).
    MEMKIND_STAT_TYPE_ACTIVE = 1,
    /// Bytes in allocated blocks.
    MEMKIND_STAT_TYPE_ALLOCATED = 2,
    /// The number of statistics.
    MEMKIND_STAT_TYPE_MAX_VALUE
} memkind_stat_type;

/// Options of memkind_stats_print (combine with |).
typedef enum memkind_stat_print_opt {
    MEMKIND_STAT_PRINT_ALL = 0,                              ///< everything, as text
    MEMKIND_STAT_PRINT_JSON_FORMAT = 1U << 0,                ///< JSON instead of text
    MEMKIND_STAT_PRINT_OMIT_GENERAL = 1U << 1,               ///< no constant information
    MEMKIND_STAT_PRINT_OMIT_MERGED_ARENA = 1U << 2,          ///< no totals over all kinds
    MEMKIND_STAT_PRINT_OMIT_DESTROYED_MERGED_ARENA = 1U << 3, ///< no totals of destroyed kinds
    MEMKIND_STAT_PRINT_OMIT_PER_ARENA = 1U << 4,             ///< no per-kind statistics
    MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_BINS = 1U << 5,   ///< no small size classes
    MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_LARGE = 1U << 6,  ///< no large sizes
    MEMKIND_STAT_PRINT_OMIT_MUTEX = 1U << 7,                 ///< no lock statistics
    MEMKIND_STAT_PRINT_OMIT_EXTENT = 1U << 8,                ///< no extent statistics
} memkind_stat_print_opt;

// ---- kind configuration (file-backed kinds) --------------------------------

struct memkind_config;

/// A new configuration: no path, size 0, MEMKIND_MEM_USAGE_POLICY_DEFAULT.
/// @return the configuration, or NULL without memory
struct memkind_config *memkind_config_new(void);
/// Deletes a configuration of memkind_config_new (NULL is ignored).
void memkind_config_delete(struct memkind_config *cfg);
/// Sets the directory of the file (the string is not copied: keep it until
/// the kind is created). Not validated here.
void memkind_config_set_path(struct memkind_config *cfg, const char *pmem_dir);
/// Sets the size limit (0: the file system's capacity). Not validated here.
void memkind_config_set_size(struct memkind_config *cfg, size_t pmem_size);
/// Sets the memory usage policy. Not validated here.
void memkind_config_set_memory_usage_policy(struct memkind_config *cfg,
                                            memkind_mem_usage_policy policy);

// ---- kind management --------------------------------------------------------

/// Returns the kind for memory types, a binding policy and flags (one of the
/// static kinds; see memkind(3)). EXPERIMENTAL.
/// @param [out] kind the kind
/// @return MEMKIND_SUCCESS, MEMKIND_ERROR_INVALID (unsupported combination)
///         or MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE
int memkind_create_kind(memkind_memtype_t memtype_flags, memkind_policy_t policy,
                        memkind_bits_t flags, memkind_t *kind);
/// Destroys a kind of memkind_create_pmem*, memkind_create_fixed or
/// memkind_create_kind (the static kinds stay usable).
int memkind_destroy_kind(memkind_t kind);
/// The kind whose memory holds ptr, or NULL (ptr NULL, or not memkind memory).
memkind_t memkind_detect_kind(void *ptr);

#include "memkind_deprecated.h"

/// The static kinds (memkind(3), KINDS).
extern memkind_t MEMKIND_REGULAR;
extern memkind_t MEMKIND_DEFAULT;
extern memkind_t MEMKIND_HUGETLB;
extern memkind_t MEMKIND_HBW;
extern memkind_t MEMKIND_HBW_ALL;
extern memkind_t MEMKIND_HBW_PREFERRED;
extern memkind_t MEMKIND_HBW_HUGETLB;
extern memkind_t MEMKIND_HBW_ALL_HUGETLB;
extern memkind_t MEMKIND_HBW_PREFERRED_HUGETLB;
extern memkind_t MEMKIND_HBW_INTERLEAVE;
extern memkind_t MEMKIND_INTERLEAVE;
extern memkind_t MEMKIND_DAX_KMEM;
extern memkind_t MEMKIND_DAX_KMEM_ALL;
extern memkind_t MEMKIND_DAX_KMEM_PREFERRED;
extern memkind_t MEMKIND_DAX_KMEM_INTERLEAVE;
extern memkind_t MEMKIND_HIGHEST_CAPACITY;
extern memkind_t MEMKIND_HIGHEST_CAPACITY_PREFERRED;
extern memkind_t MEMKIND_HIGHEST_CAPACITY_LOCAL;
extern memkind_t MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED;
extern memkind_t MEMKIND_LOWEST_LATENCY_LOCAL;
extern memkind_t MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED;
extern memkind_t MEMKIND_HIGHEST_BANDWIDTH_LOCAL;
extern memkind_t MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED;

/// The memkind API level implemented: major * 1000000 + minor * 1000 + patch.
int memkind_get_version(void);

/// The text of an error code (MEMKIND_ERROR_*, or EINVAL/ENOMEM of
/// memkind_posix_memalign) into msg, at most size bytes, NUL-terminated.
void memkind_error_message(int err, char *msg, size_t size);

/// Creates a file-backed kind: an unlinked temporary file in dir, limited to
/// max_size bytes (0: the file system's capacity; else at least
/// MEMKIND_PMEM_MIN_SIZE).
/// @param [out] kind the kind
int memkind_create_pmem(const char *dir, size_t max_size, memkind_t *kind);
/// memkind_create_pmem with a configuration (path, size, usage policy).
/// @param [out] kind the kind
int memkind_create_pmem_with_config(struct memkind_config *cfg, memkind_t *kind);
/// Creates a kind over the caller's memory [addr, addr + size).
/// @param [out] kind the kind
int memkind_create_fixed(void *addr, size_t size, memkind_t *kind);
/// 0 when the kind's memory is present and usable, else an error code.
int memkind_check_available(memkind_t kind);
/// Bytes of memory the kind may use (see memkind(3) for the kinds), or -1.
ssize_t memkind_get_capacity(memkind_t kind);

/// Takes a snapshot of the statistics that memkind_get_stat reports.
int memkind_update_cached_stats(void);
/// A statistic of a kind, or of every kind together when kind is NULL, as
/// of the last memkind_update_cached_stats.
/// @param [out] value the statistic in bytes
int memkind_get_stat(memkind_t kind, memkind_stat_type stat, size_t *value);
/// Prints the statistics through write_cb (NULL: stderr), text or JSON.
int memkind_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                        memkind_stat_print_opt opts);

// ---- heap management ----------------------------------------------------------

/// size bytes of the kind (NULL for size 0 unless zero allocations are allowed).
void *memkind_malloc(memkind_t kind, size_t size) MEMKIND_HETMEM_MALLOC_ATTR(2);
/// The usable size of the block at ptr (0 for NULL); kind may be NULL.
size_t memkind_malloc_usable_size(memkind_t kind, MEMKIND_MALLOC_USABLE_SIZE_CONST void *ptr);
/// num * size zeroed bytes; NULL when either is 0 or the product overflows.
void *memkind_calloc(memkind_t kind, size_t num, size_t size) MEMKIND_HETMEM_MALLOC_ATTR(2, 3);
/// Aligned allocation. EXPERIMENTAL.
/// @return 0, EINVAL (alignment not a power of two multiple of
///         sizeof(void *)) or ENOMEM; *memptr and errno are untouched on error
int memkind_posix_memalign(memkind_t kind, void **memptr, size_t alignment, size_t size);
/// Resizes the block at ptr (kind may be NULL: found from ptr).
void *memkind_realloc(memkind_t kind, void *ptr, size_t size) MEMKIND_HETMEM_SIZE_ATTR(3);
/// Frees the block at ptr (kind may be NULL: found from ptr; ptr NULL: nothing).
void memkind_free(memkind_t kind, void *ptr);
/// Moves the block when that reduces fragmentation; NULL when it stays.
void *memkind_defrag_reallocate(memkind_t kind, void *ptr);
/// 0 when files in pmem_dir can be mapped with DAX, else an error code.
int memkind_check_dax_path(const char *pmem_dir);
/// Enables or disables the background threads that return unused memory.
int memkind_set_bg_threads(bool state);
/// Whether malloc-like calls of size 0 on the kind return a pointer (true)
/// or NULL (false, the default).
void memkind_set_allow_zero_allocs(memkind_t kind, bool allow_zero_allocs);

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_H
