// SPDX-License-Identifier: MIT
// High-bandwidth kinds' operations (memkind_hbw(3)): ready-made tables,
// the nodes of MEMKIND_HBW / MEMKIND_HBW_ALL and the kinds' init_once.
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_hbw.h).
#ifndef HETMEM_MEMKIND_HBW_H
#define HETMEM_MEMKIND_HBW_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

/// MEMKIND_SUCCESS when the kind can allocate, else why not.
int memkind_hbw_check_available(struct memkind *kind);
int memkind_hbw_hugetlb_check_available(struct memkind *kind);
/// Fills nodemask (maxnode bits) with the nodes MEMKIND_HBW allocates on for
/// the calling thread (MEMKIND_HBW_ALL: every high-bandwidth node).
int memkind_hbw_get_mbind_nodemask(struct memkind *kind, unsigned long *nodemask,
                                   unsigned long maxnode);
int memkind_hbw_all_get_mbind_nodemask(struct memkind *kind, unsigned long *nodemask,
                                       unsigned long maxnode);
/// Prepare the kind (its nodes) once; memkind_malloc runs them itself.
void memkind_hbw_init_once(void);
void memkind_hbw_all_init_once(void);
void memkind_hbw_hugetlb_init_once(void);
void memkind_hbw_all_hugetlb_init_once(void);
void memkind_hbw_preferred_init_once(void);
void memkind_hbw_preferred_hugetlb_init_once(void);
void memkind_hbw_interleave_init_once(void);

extern struct memkind_ops MEMKIND_HBW_OPS;
extern struct memkind_ops MEMKIND_HBW_ALL_OPS;
extern struct memkind_ops MEMKIND_HBW_HUGETLB_OPS;
extern struct memkind_ops MEMKIND_HBW_ALL_HUGETLB_OPS;
extern struct memkind_ops MEMKIND_HBW_PREFERRED_OPS;
extern struct memkind_ops MEMKIND_HBW_PREFERRED_HUGETLB_OPS;
extern struct memkind_ops MEMKIND_HBW_INTERLEAVE_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_HBW_H
