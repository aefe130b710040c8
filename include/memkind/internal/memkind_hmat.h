// SPDX-License-Identifier: MIT
// The kinds chosen by HMAT attributes (latency, bandwidth): operations.
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_hmat.h).
#ifndef HETMEM_MEMKIND_HMAT_H
#define HETMEM_MEMKIND_HMAT_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

extern struct memkind_ops MEMKIND_LOWEST_LATENCY_LOCAL_OPS;
extern struct memkind_ops MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED_OPS;
extern struct memkind_ops MEMKIND_HIGHEST_BANDWIDTH_LOCAL_OPS;
extern struct memkind_ops MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_HMAT_H
