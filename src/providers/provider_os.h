// SPDX-License-Identifier: MIT
// Internal view of the OS memory provider, shared by its three files
// (docs/providers-pools.md, "The OS provider").
//
// Glossary
//   unit     the provider's page: os_page_size(), or the huge page size when
//            huge pages were asked for. Every mapping length, alignment and
//            file offset is a multiple of it.
//   extent   one entry of the shared map: [addr, addr+size) is mapped from
//            the backing fd at file offset `off`. Allocations, and the parts
//            allocation_split makes of them, are extents.
#ifndef HETMEM_PROVIDERS_PROVIDER_OS_H
#define HETMEM_PROVIDERS_PROVIDER_OS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umf/providers/provider_os_memory.h>

#include "base/lock.h"
#include "base/nodeset.h"
#include "os/os.h"
#include "providers/provider.h"

/// Longest shm name accepted (without the leading '/'); the OS layer builds
/// "/dev/shm/NAME" in a 256-byte buffer.
#define PROVIDER_OS_SHM_NAME_MAX 200u

/// The params builder (umf_os_memory_provider_params_handle_t). Arrays and
/// the name are owned copies in meta memory. Not thread-safe: a params
/// object belongs to the thread that builds it.
struct umf_os_memory_provider_params_t {
    unsigned protection;                    // umf_mem_protection_flags_t bits
    umf_memory_visibility_t visibility;
    char *shm_name;                         // NULL: memfd; without a leading '/'
    unsigned *numa_list;                    // numa_list_len entries, or NULL
    unsigned numa_list_len;
    umf_numa_mode_t numa_mode;
    size_t part_size;                       // INTERLEAVE only; 0: page by page
    umf_numa_split_partition_t *partitions; // partitions_len entries, or NULL
    unsigned partitions_len;
    size_t huge_page_size;                  // 0, 2 MiB or 1 GiB (hetmem extension)
    bool weighted_interleave;               // INTERLEAVE as MPOL_WEIGHTED_INTERLEAVE
                                            // (hetmem extension)
    bool preferred_many;                    // PREFERRED_MANY for one node too
};

/// One extent of shared memory (see the glossary).
typedef struct provider_os_extent_t {
    uintptr_t addr;
    size_t size;
    uint64_t off;
} provider_os_extent_t;

/// One part of a SPLIT allocation: `weight` shares go to node `node`.
typedef struct provider_os_part_t {
    unsigned weight;
    unsigned node;
} provider_os_part_t;

/// The provider's state (the `priv` of its umf_memory_provider_t). Every
/// field but those marked otherwise is written by initialize only, so
/// alloc/free of private memory take no lock.
typedef struct provider_os_t {
    int prot;               // OS_PROT_* bits
    bool shared;            // UMF_MEM_MAP_SHARED: mappings of `fd`
    size_t unit;            // see the glossary
    int huge_flags;         // OS_MAP_HUGE_2M / OS_MAP_HUGE_1G / 0

    umf_numa_mode_t mode;
    nodeset_t nodes;        // the node list as a set (empty: no list)
    unsigned *list;         // the ordered node list (INTERLEAVE parts)
    unsigned list_len;
    size_t part_size;       // INTERLEAVE parts in bytes (multiple of unit); 0: page-wise
    provider_os_part_t *parts; // SPLIT partitions in order
    unsigned parts_len;
    uint64_t parts_weight;  // sum of the weights
    // INTERLEAVE parts: bytes handed out so far; picks the node of the first
    // part of the next allocation, so that small allocations rotate too.
    _Atomic uint64_t interleave_pos;
    // PREFERRED with several nodes: cleared once the kernel rejects
    // MPOL_PREFERRED_MANY (before 5.15); then the first node is preferred.
    atomic_bool preferred_many;
    bool many_always;       // PREFERRED_MANY for one node too (params' preferred_many)
    // INTERLEAVE (page-wise) with MPOL_WEIGHTED_INTERLEAVE: set at initialize
    // when asked for, cleared once the kernel rejects the mode (before 6.9);
    // then plain MPOL_INTERLEAVE is used.
    atomic_bool weighted;

    // Shared visibility. fd and shm_name are immutable after initialize.
    int fd;                 // memfd or /dev/shm/NAME; -1 when private
    char *shm_name;         // NULL for a memfd; owned (meta memory)
    lock_t lock;            // LOCK_RANK_PROVIDER; protects what follows, and orders a shared
                            // allocation's offset, binding and file growth
    uint64_t fd_next;       // protected by: lock; next free file offset
    provider_os_extent_t *ext; // protected by: lock; sorted by addr, disjoint
    size_t ext_len;         // protected by: lock
    size_t ext_cap;         // protected by: lock
} provider_os_t;

/// What provider_os_shared_lookup finds for an address.
typedef struct provider_os_shared_ref_t {
    int fd;               // the provider's backing fd (owned by the provider)
    const char *shm_name; // NULL for a memfd (then only fd can be passed on)
    uint64_t off;         // file offset of the address
    size_t avail;         // bytes of the extent from the address on
} provider_os_shared_ref_t;

// ---- provider_os_params.c ------------------------------------------------

/// Checks a params object as a whole (mode against list, partitions,
/// huge pages against visibility). Node existence is checked by
/// initialize. Returns UMF_RESULT_SUCCESS or INVALID_ARGUMENT/NOT_SUPPORTED.
umf_result_t provider_os_params_check(const struct umf_os_memory_provider_params_t *p);

/// PREFERRED as MPOL_PREFERRED_MANY for one node too (hmctl -P; UMF: plain
/// PREFERRED for one node), for the front ends, which checked the kernel has
/// it (os_mpol_supported); else the usual fallback: the first node.
umf_result_t provider_os_params_set_preferred_many(umf_os_memory_provider_params_handle_t hParams,
                                                   bool many);

// ---- provider_os_shared.c -------------------------------------------------

/// Creates the backing fd of a shared provider (a memfd, or /dev/shm/NAME
/// with mode 0600 after unlinking a stale file of that name) and its lock.
umf_result_t provider_os_shared_init(provider_os_t *p, const char *shm_name);

/// Closes the fd, unlinks the shm file (IPC peers keep what they mapped),
/// frees the extent map; p is freed next.
void provider_os_shared_fini(provider_os_t *p);

/// Allocates `len` bytes (multiple of unit) aligned to `align` (a power of
/// two >= unit) at a new offset of the fd; bind(ctx, addr, len) applies the
/// NUMA mode to the fresh mapping before the file is grown (so the pages
/// that growth commits follow the policy). Records the extent.
umf_result_t provider_os_shared_alloc(provider_os_t *p, size_t len, size_t align,
                                      umf_result_t (*bind)(void *ctx, void *addr, size_t len),
                                      void *ctx, void **out);

/// release: unmaps [addr, addr+len) (any part of one or more extents),
/// punches the file range behind it and drops it from the extent map.
/// Else (purge) only punches it, so that it reads back zeros.
/// INVALID_ARGUMENT when part of the range is not the provider's.
umf_result_t provider_os_shared_drop(provider_os_t *p, void *addr, size_t len, bool release);

/// The extent at addr becomes two, the first of `first` bytes.
umf_result_t provider_os_shared_split(provider_os_t *p, void *addr, size_t total, size_t first);

/// Two adjacent extents become one. NOT_SUPPORTED when their file ranges
/// are not adjacent too (one (fd, offset, size) could not describe them).
umf_result_t provider_os_shared_merge(provider_os_t *p, void *low, void *high, size_t total);

/// The file offset behind `ptr` (any address inside an extent). Returns
/// UMF_RESULT_SUCCESS, or INVALID_ARGUMENT when the provider is private or
/// ptr is not in one of its extents. `priv` is the provider's state
/// (umf_memory_provider_t.priv of an OS provider).
umf_result_t provider_os_shared_lookup(void *priv, const void *ptr,
                                       provider_os_shared_ref_t *out);

/// The describe hook of provider_os_ipc_hooks (provider_ipc_hooks_t).
umf_result_t provider_os_describe(void *priv, const void *ptr, size_t size,
                                  provider_ipc_desc_t *out);

// ---- provider_os.c --------------------------------------------------------

/// Records the calling thread's native error of the OS provider family and
/// returns UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC.
umf_result_t provider_os_native_error(int32_t code, int err, const char *what);

/// A failed mapping or file operation of an allocation: logs, records
/// ALLOC_FAILED and returns OUT_OF_HOST_MEMORY for ENOMEM or ENOSPC (not
/// provider-specific), else MEMORY_PROVIDER_SPECIFIC.
umf_result_t provider_os_alloc_error(int err, const char *what);

#ifdef HETMEM_TEST_HOOKS
/// Test support: the calling thread's next NUMA binding fails with `err`
/// (0 disarms). Lets single-node machines exercise the bind-failure path.
void provider_os_fail_next_bind_for_testing(int err);
#endif

#endif // HETMEM_PROVIDERS_PROVIDER_OS_H
