// SPDX-License-Identifier: MIT
// Kinds over a caller's buffer (memkind_fixed(3)); memkind_create_fixed's
// kinds have ops == &MEMKIND_FIXED_OPS.
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_fixed.h).
#ifndef HETMEM_MEMKIND_FIXED_H
#define HETMEM_MEMKIND_FIXED_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

/// memkind_arena_create: a kind with these operations and no buffer yet.
int memkind_fixed_create(struct memkind *kind, struct memkind_ops *ops, const char *name);
/// Releases a fixed kind (memkind_destroy_kind for memkind_create_fixed's kinds).
int memkind_fixed_destroy(struct memkind *kind);
/// size bytes of the kind's buffer (page aligned), MAP_FAILED when it has
/// none or no room.
void *memkind_fixed_mmap(struct memkind *kind, void *addr, size_t size);

extern struct memkind_ops MEMKIND_FIXED_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_FIXED_H
