// SPDX-License-Identifier: MIT
// The hbwmalloc API (hbwmalloc(3)): malloc-style allocation from high
// bandwidth memory, with a process-wide fallback policy. A thin layer over
// the memkind HBW kinds (link with -lmemkind). Values are those of the
// memkind 1.14 hbwmalloc.h (facts of the interface); the text is hetmem's.
// STANDARD API.
#ifndef HETMEM_HBWMALLOC_H
#define HETMEM_HBWMALLOC_H 1

#ifdef __cplusplus
extern "C" {
#endif

#include <stdlib.h>

/// What happens when high bandwidth memory runs out (hbw_set_policy).
typedef enum {
    /// The closest HBW nodes only; NULL / ENOMEM when they are full.
    HBW_POLICY_BIND = 1,
    /// HBW first, standard memory when it is full or missing (the default).
    HBW_POLICY_PREFERRED = 2,
    /// Pages interleaved over all HBW nodes.
    HBW_POLICY_INTERLEAVE = 3,
    /// Any HBW node; NULL / ENOMEM when all are full.
    HBW_POLICY_BIND_ALL = 4
} hbw_policy_t;

/// Page sizes of hbw_posix_memalign_psize.
typedef enum {
    HBW_PAGESIZE_4KB = 1,        ///< standard pages
    HBW_PAGESIZE_2MB = 2,        ///< 2 MiB huge pages (hugetlbfs pool)
    HBW_PAGESIZE_1GB_STRICT = 3, ///< 1 GiB pages: no longer supported (EINVAL)
    HBW_PAGESIZE_1GB = 4,        ///< 1 GiB pages: no longer supported (EINVAL)
    HBW_PAGESIZE_MAX_VALUE
} hbw_pagesize_t;

/// Flags of hbw_verify_memory_region.
enum {
    /// Touch (read and write back) the first byte of every page before
    /// checking, so that pages not yet present are faulted in.
    HBW_TOUCH_PAGES = (1 << 0)
};

/// The policy in force (HBW_POLICY_PREFERRED unless set).
hbw_policy_t hbw_get_policy(void);

/// Sets the policy, once, before the first hbw allocation.
/// @return 0, EPERM (already set, or an allocation already fixed the
///         default) or EINVAL (not a policy)
int hbw_set_policy(hbw_policy_t mode);

/// @return 0 when high bandwidth memory is present, else ENODEV
int hbw_check_available(void);

/// Whether every page of [addr, addr + size) is in high bandwidth memory.
/// @return 0 (all HBW), -1 (some page is not, or not present), EINVAL (addr
///         NULL, size 0 or an unknown flag) or EFAULT (cannot be checked)
int hbw_verify_memory_region(void *addr, size_t size, int flags);

/// size bytes of HBW memory under the policy (NULL for size 0).
void *hbw_malloc(size_t size);
/// num * size zeroed bytes (NULL when either is 0 or on overflow).
void *hbw_calloc(size_t num, size_t size);
/// @return 0, ENOMEM, or EINVAL (alignment not a power of two multiple of
///         sizeof(void *)); *memptr is untouched on error
int hbw_posix_memalign(void **memptr, size_t alignment, size_t size);
/// hbw_posix_memalign with a page size (2 MiB pages: the HBW hugetlb kinds;
/// not with HBW_POLICY_INTERLEAVE).
/// @return 0, ENOMEM or EINVAL
int hbw_posix_memalign_psize(void **memptr, size_t alignment, size_t size,
                             hbw_pagesize_t pagesize);
/// Resizes a block of hbw memory (ptr NULL: hbw_malloc; size 0: hbw_free).
void *hbw_realloc(void *ptr, size_t size);
/// Frees a block of hbw memory (NULL: nothing).
void hbw_free(void *ptr);
/// The usable size of a block (0 for NULL).
size_t hbw_malloc_usable_size(void *ptr);

#ifdef __cplusplus
}
#endif

#endif // HETMEM_HBWMALLOC_H
