// SPDX-License-Identifier: MIT
// What the pool layer tells the IPC layer (src/pools/pool.c calls these):
// an allocation is about to be freed or reallocated, a pool is being
// destroyed. IPC handles of an allocation carry a liveness record (a slot
// of the export table, src/ipc/ipc_backing.h) that ends
// here, so that a handle of freed memory is refused in every process even
// though the pool keeps the memory it came from. The free fast paths pay
// nothing: only pools that have had a handle look (pool_ipc_arm), and
// they pay one relaxed load while no handle is live.
#ifndef HETMEM_IPC_IPC_HOOKS_H
#define HETMEM_IPC_IPC_HOOKS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <umf/memory_pool.h>

/// Live liveness records of allocations (umfGetIPCHandle made them).
/// Hidden: the free paths read it with one instruction.
extern _Atomic size_t ipc_allocs_live __attribute__((visibility("hidden")));

/// Ends the records of the allocation at `ptr` (of `pool`; NULL: the pool
/// that owns ptr): records of handles of ptr itself and, for pools over the
/// heap engine, of pointers inside the block.
void ipc_alloc_freed_slow(umf_memory_pool_handle_t pool, void *ptr);

/// Whether any allocation has a live record (a relaxed load: the free
/// paths branch to a slow path that calls ipc_alloc_freed_slow, so that the
/// fast path stays a tail call).
static inline bool ipc_allocs_exist(void) {
    return __builtin_expect(atomic_load_explicit(&ipc_allocs_live, memory_order_relaxed) != 0, 0);
}

static inline void ipc_alloc_freed(umf_memory_pool_handle_t pool, void *ptr) {
    if (ipc_allocs_exist())
        ipc_alloc_freed_slow(pool, ptr);
}

/// Ends every record of `pool`'s allocations and forgets its IPC handler
/// (umfOpenIPCHandle refuses it from now on).
void ipc_pool_destroyed(umf_memory_pool_handle_t pool);

#endif // HETMEM_IPC_IPC_HOOKS_H
