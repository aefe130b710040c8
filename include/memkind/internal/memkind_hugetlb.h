// SPDX-License-Identifier: MIT
// The 2 MiB huge-page kind's operations (memkind_hugetlb(3)).
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_hugetlb.h).
#ifndef HETMEM_MEMKIND_HUGETLB_H
#define HETMEM_MEMKIND_HUGETLB_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

/// MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB with 2 MiB pages.
int memkind_hugetlb_get_mmap_flags(struct memkind *kind, int *flags);
void memkind_hugetlb_init_once(void);
/// MEMKIND_SUCCESS when 2 MiB pages can be had, else MEMKIND_ERROR_HUGETLB.
int memkind_hugetlb_check_available_2mb(struct memkind *kind);

extern struct memkind_ops MEMKIND_HUGETLB_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_HUGETLB_H
