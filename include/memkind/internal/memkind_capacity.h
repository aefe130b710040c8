// SPDX-License-Identifier: MIT
// The highest-capacity kinds' operations.
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_capacity.h).
#ifndef HETMEM_MEMKIND_CAPACITY_H
#define HETMEM_MEMKIND_CAPACITY_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

extern struct memkind_ops MEMKIND_HIGHEST_CAPACITY_OPS;
extern struct memkind_ops MEMKIND_HIGHEST_CAPACITY_PREFERRED_OPS;
extern struct memkind_ops MEMKIND_HIGHEST_CAPACITY_LOCAL_OPS;
extern struct memkind_ops MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_CAPACITY_H
