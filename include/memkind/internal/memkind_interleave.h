// SPDX-License-Identifier: MIT
// The interleaved kind's operations (memkind_interleave(3)).
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_interleave.h).
#ifndef HETMEM_MEMKIND_INTERLEAVE_H
#define HETMEM_MEMKIND_INTERLEAVE_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

void memkind_interleave_init_once(void);

extern struct memkind_ops MEMKIND_INTERLEAVE_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_INTERLEAVE_H
