// SPDX-License-Identifier: MIT
// File-backed kinds' operations (memkind_pmem(3)); memkind_create_pmem's
// kinds have ops == &MEMKIND_PMEM_OPS.
// EXPERIMENTAL API, as in memkind (the names of memkind 1.14's
// memkind/internal/memkind_pmem.h).
#ifndef HETMEM_MEMKIND_PMEM_H
#define HETMEM_MEMKIND_PMEM_H 1

#include <memkind.h>
#include <memkind/internal/memkind_private.h>

#ifdef __cplusplus
extern "C" {
#endif

/// memkind_arena_create: a kind with these operations and no file yet
/// (it allocates once memkind_create_pmem made it).
int memkind_pmem_create(struct memkind *kind, struct memkind_ops *ops, const char *name);
/// Releases a pmem kind (memkind_destroy_kind for memkind_create_pmem's kinds).
int memkind_pmem_destroy(struct memkind *kind);
/// size bytes of the kind's file (page aligned), MAP_FAILED when it has no
/// file or no room.
void *memkind_pmem_mmap(struct memkind *kind, void *addr, size_t size);
/// MAP_SHARED.
int memkind_pmem_get_mmap_flags(struct memkind *kind, int *flags);

extern struct memkind_ops MEMKIND_PMEM_OPS;

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_PMEM_H
