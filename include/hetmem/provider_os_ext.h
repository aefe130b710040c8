// SPDX-License-Identifier: MIT
// hetmem extensions of the UMF OS memory provider (umf/providers/
// provider_os_memory.h): settings UMF 0.11 has no parameter for. The
// memkind HUGETLB kinds are built on them.
#ifndef HETMEM_PROVIDER_OS_EXT_H
#define HETMEM_PROVIDER_OS_EXT_H 1

#include <stdbool.h>
#include <stddef.h>

#include <umf/providers/provider_os_memory.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Makes the OS provider map explicit huge pages (hugetlbfs pool, not THP).
///
/// With a huge page size set, every allocation is rounded up to that size
/// and aligned to it, umfMemoryProviderGetMinPageSize and
/// umfMemoryProviderGetRecommendedPageSize report it, NUMA parts (SPLIT,
/// INTERLEAVE part_size) are counted in huge pages, and shared visibility
/// uses a memfd created with MFD_HUGETLB (a shm name is then refused with
/// UMF_RESULT_ERROR_NOT_SUPPORTED at creation: /dev/shm holds no hugetlb
/// pages). When the kernel's pool has no free huge page of that size (on
/// the bound nodes, for BIND and SPLIT and INTERLEAVE with parts), the
/// allocation fails with UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY.
///
/// @param hParams the OS provider params
/// @param page_size 0 (no huge pages, the default), 2 MiB (2097152) or
///        1 GiB (1073741824)
/// @return UMF_RESULT_SUCCESS, or UMF_RESULT_ERROR_INVALID_ARGUMENT for a
///         NULL handle or another size
umf_result_t
hetmem_os_provider_params_set_huge_pages(umf_os_memory_provider_params_handle_t hParams,
                                         size_t page_size);

/// Makes UMF_NUMA_MODE_INTERLEAVE weighted: the provider binds its memory
/// with MPOL_WEIGHTED_INTERLEAVE (Linux 6.9+) instead of MPOL_INTERLEAVE,
/// so that pages are spread over the node list page by page in proportion
/// to the kernel's per-node weights,
/// /sys/kernel/mm/mempolicy/weighted_interleave/nodeN (system-wide values
/// that the administrator sets; they default to 1, or on kernels with the
/// "auto" mode (6.16+) to shares derived from HMAT bandwidth).
///
/// It applies to UMF_NUMA_MODE_INTERLEAVE with a part size of 0 (page-wise
/// interleave) only: with another mode or a part size, provider creation
/// fails with UMF_RESULT_ERROR_INVALID_ARGUMENT. On a kernel without
/// MPOL_WEIGHTED_INTERLEAVE (mbind answers EINVAL) the provider falls back
/// to plain interleave over the same nodes and logs a warning once.
///
/// @param hParams the OS provider params
/// @param weighted true for weighted interleave, false (the default) for
///        plain interleave
/// @return UMF_RESULT_SUCCESS, or UMF_RESULT_ERROR_INVALID_ARGUMENT for a
///         NULL handle
umf_result_t hetmem_os_provider_params_set_weighted_interleave(
    umf_os_memory_provider_params_handle_t hParams, bool weighted);

#ifdef __cplusplus
}
#endif

#endif // HETMEM_PROVIDER_OS_EXT_H
