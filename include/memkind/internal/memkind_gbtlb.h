// SPDX-License-Identifier: MIT
// The 1 GiB page kinds (deprecated; never available in hetmem or memkind 1.14).
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_gbtlb.h).
#ifndef HETMEM_MEMKIND_GBTLB_H
#define HETMEM_MEMKIND_GBTLB_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

extern struct memkind_ops MEMKIND_GBTLB_OPS;
extern struct memkind_ops MEMKIND_HBW_GBTLB_OPS;
extern struct memkind_ops MEMKIND_HBW_PREFERRED_GBTLB_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_GBTLB_H
