// SPDX-License-Identifier: MIT
// The regular kind's operations (memkind_regular(3)).
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_regular.h).
#ifndef HETMEM_MEMKIND_REGULAR_H
#define HETMEM_MEMKIND_REGULAR_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Fills nodemask (maxnode bits) with the nodes MEMKIND_REGULAR allocates on.
int memkind_regular_all_get_mbind_nodemask(struct memkind *kind, unsigned long *nodemask,
                                           unsigned long maxnode);

extern struct memkind_ops MEMKIND_REGULAR_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_REGULAR_H
