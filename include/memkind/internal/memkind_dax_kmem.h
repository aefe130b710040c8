// SPDX-License-Identifier: MIT
// The DAX KMEM kinds' operations (memkind_dax_kmem(3)).
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_dax_kmem.h).
#ifndef HETMEM_MEMKIND_DAX_KMEM_H
#define HETMEM_MEMKIND_DAX_KMEM_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Fills nodemask (maxnode bits) with every DAX KMEM node (MEMKIND_DAX_KMEM_ALL).
int memkind_dax_kmem_all_get_mbind_nodemask(struct memkind *kind, unsigned long *nodemask,
                                            unsigned long maxnode);

extern struct memkind_ops MEMKIND_DAX_KMEM_OPS;
extern struct memkind_ops MEMKIND_DAX_KMEM_ALL_OPS;
extern struct memkind_ops MEMKIND_DAX_KMEM_PREFERRED_OPS;
extern struct memkind_ops MEMKIND_DAX_KMEM_INTERLEAVE_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_DAX_KMEM_H
