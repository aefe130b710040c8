// SPDX-License-Identifier: MIT
// Internal view of the OS memory provider, shared by its three files
// (provider_os_params.c: the params builder; provider_os.c: the ops and
// the NUMA modes; provider_os_shared.c: the backing fd of shared visibility
// and its address -> file offset map) and, later, the IPC layer, which
// builds IPC handles as (fd or shm name, offset, size).
//
// Glossary
//   unit     the provider's page: os_page_size(), or the huge page size when
//            huge pages were asked for. Every mapping length, alignment and
//            file offset is a multiple of it.
//   extent   one entry of the shared map: [addr, addr+size) is mapped from
//            the backing fd at file offset `off`. Allocations, and the parts
//            allocation_split makes of them, are extents.
#ifndef HETMEM_PROVIDERS_PROVIDER_OS_INTERNAL_H
#define HETMEM_PROVIDERS_PROVIDER_OS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umf/providers/provider_os_memory.h>

#include "base/nodeset.h"
#include "os/os.h"
#include "providers/provider_internal.h"

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
    // INTERLEAVE (page-wise) with MPOL_WEIGHTED_INTERLEAVE: set at initialize
    // when asked for, cleared once the kernel rejects the mode (before 6.9);
    // then plain MPOL_INTERLEAVE is used.
    atomic_bool weighted;

    // Shared visibility. fd and shm_name are immutable after initialize.
    int fd;                 // memfd or /dev/shm/NAME; -1 when private
    char *shm_name;         // NULL for a memfd; owned (meta memory)
    pthread_mutex_t lock;   // protects what follows, and orders a shared
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

// ---- provider_os_shared.c -------------------------------------------------

/// Creates the backing fd of a shared provider (a memfd, or /dev/shm/NAME
/// with mode 0600 after unlinking a stale file of that name) and its lock.
umf_result_t provider_os_shared_init(provider_os_t *p, const char *shm_name);

/// Closes the fd, unlinks the shm file (IPC peers keep what they mapped),
/// frees the extent map.
void provider_os_shared_fini(provider_os_t *p);

/// Allocates `len` bytes (multiple of unit) aligned to `align` (a power of
/// two >= unit) at a new offset of the fd; bind(ctx, addr, len) applies the
/// NUMA mode to the fresh mapping before the file is grown (so the pages
/// that growth commits follow the policy). Records the extent.
umf_result_t provider_os_shared_alloc(provider_os_t *p, size_t len, size_t align,
                                      umf_result_t (*bind)(void *ctx, void *addr, size_t len),
                                      void *ctx, void **out);

/// Unmaps [addr, addr+len), punches the file range behind it and drops it
/// from the extent map (any part of one or more extents).
umf_result_t provider_os_shared_free(provider_os_t *p, void *addr, size_t len);

/// Punches the file range behind [addr, addr+len) so that it reads back
/// zeros. INVALID_ARGUMENT when part of the range is not the provider's.
umf_result_t provider_os_shared_purge(provider_os_t *p, void *addr, size_t len);

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

// ---- provider_os.c --------------------------------------------------------

/// Records the calling thread's native error of the OS provider family and
/// returns UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC.
umf_result_t provider_os_native_error(int32_t code, int err, const char *what);

#ifdef HETMEM_TEST_HOOKS
/// Test support: the calling thread's next NUMA binding fails with `err`
/// (0 disarms). Lets single-node machines exercise the bind-failure path.
void provider_os_fail_next_bind_for_testing(int err);
#endif

// ---- IPC (provider_ipc.c, provider_ipc_open.c) --------------------------------
// The IPC operations of the OS provider (shared visibility), and what the
// file and devdax providers share with it: one layout of provider IPC data,
// the process-wide export table that tells an opener whether an export is
// still alive, the checks an opener makes, and the registry of mappings
// made by opens (so that a close unmaps exactly what an open mapped).
//
// Liveness: every export (get_ipc_handle) takes a slot of the export table,
// a memfd of 16-byte slots {id, digest}, readable by any process that may
// take the exporter's descriptors (only the exporter writes it). The slot holds
// the export's id (never reused) while the exported range lives; freeing
// any part of the range, or destroying the provider, clears it. An opener
// maps the exporter's table read-only and requires the id, and the digest
// of the handle's (kind, object, offset, size, alignment, pid) - so a stale
// or altered handle is refused before anything of it is mapped.

#define PROVIDER_IPC_MAGIC 0x43504948u // "HIPC"
#define PROVIDER_IPC_VERSION 2u        // 2: the path is variable-size
#define PROVIDER_IPC_PATH_MAX 4096u    // PATH_MAX, with the NUL
#define PROVIDER_IPC_SLOTS 32768u      // live records per process (512 KiB of table, sparse)

/// The backing object an IPC handle names.
typedef enum provider_ipc_kind_t {
    PROVIDER_IPC_MEMFD = 1,  // OS provider, shared, no shm name: the fd itself
    PROVIDER_IPC_SHM = 2,    // OS provider, shared, /dev/shm/NAME
    PROVIDER_IPC_FILE = 3,   // file provider, shared visibility
    PROVIDER_IPC_DEVDAX = 4, // devdax provider
} provider_ipc_kind_t;

/// The provider part of an IPC handle of the OS, file and devdax providers.
/// In memory it has room for any path; on the wire (what get_ipc_handle
/// writes, provider_ipc_store) it is the fields up to `path`
/// (PROVIDER_IPC_FIXED bytes) followed by `path_size` bytes: the path, its
/// NUL and zero padding to a multiple of 8. get_ipc_handle_size gives the
/// wire size of the provider's own path (8 bytes of path for a memfd), so
/// that a memfd handle's provider part is 128 bytes, not 4 KiB. Plain data in
/// the sender's byte order; the opener copies it and checks every field.
typedef struct provider_ipc_data_t {
    uint32_t magic;          // PROVIDER_IPC_MAGIC
    uint32_t version;        // PROVIDER_IPC_VERSION
    uint32_t kind;           // provider_ipc_kind_t
    int32_t pid;             // the exporting process
    int32_t fd;              // its descriptor of the backing object
    int32_t table_fd;        // its descriptor of the export table
    uint32_t path_size;      // bytes of `path` on the wire (8..PATH_MAX, multiple of 8)
    uint32_t reserved;       // 0
    uint64_t dev, ino, rdev; // identity of the object (rdev: of a device)
    uint64_t off;            // offset of the exported range in the object
    uint64_t size;           // bytes of the exported range (> 0)
    uint64_t align;          // mapping granularity: the page, the huge page
                             // or the device DAX alignment (a power of two)
    uint64_t table_dev, table_ino; // identity of the export table
    uint64_t slot;           // the export's slot in the table
    uint64_t export_id;      // what the slot holds while the export lives
    uint64_t digest;         // what the slot's digest word holds
    char path[PROVIDER_IPC_PATH_MAX]; // shm name, file path or device path; "" for memfd
} provider_ipc_data_t;

/// Bytes of the wire form before the path.
#define PROVIDER_IPC_FIXED offsetof(provider_ipc_data_t, path)

/// Wire size of provider IPC data naming `path` ("" for a memfd), or 0 when
/// the path is too long for a handle.
size_t provider_ipc_wire_size(const char *path);

/// Writes the wire form of *d (d->path set; path_size is filled in here) to
/// `out`, which has provider_ipc_wire_size(d->path) bytes.
void provider_ipc_store(provider_ipc_data_t *d, void *out);

/// A liveness record of the export table (see above), as a handle carries
/// it: where the exporter's table is, which slot, what the slot holds.
typedef struct provider_ipc_live_t {
    int32_t pid;        // the exporting process
    int32_t table_fd;   // its descriptor of the table
    uint64_t table_dev, table_ino;
    uint64_t slot, id, digest;
} provider_ipc_live_t;

/// Takes a slot for `owner`'s [start, start+len) with `digest` (a record of
/// the same owner, range and digest is reused: *fresh false) and fills *out.
/// The IPC layer uses it for pool allocations (owner: the pool), the
/// providers for their exports (owner: the provider's state).
umf_result_t provider_ipc_live_add(const void *owner, uintptr_t start, size_t len,
                                   uint64_t digest, provider_ipc_live_t *out, bool *fresh);

/// Whether the record is alive in its exporter's table and holds `digest`:
/// reads the slot from the exporter's table (this process's or another's).
/// INVALID_ARGUMENT (logged) when it ended, or does not match.
umf_result_t provider_ipc_live_check(const provider_ipc_live_t *l);

/// Ends every record of `owner` that overlaps [start, start+len) (len
/// SIZE_MAX: all of owner's) and returns how many ended. Cheap when nothing
/// is exported.
size_t provider_ipc_live_end(const void *owner, uintptr_t start, size_t len);

/// Registers the export of [start, start+len) of `owner` (a provider's
/// state) described by *d (kind, object identity, off, size filled in) and
/// fills the table fields of *d. An export of the same range with the same
/// description is reused (same id, so two handles of one allocation are the
/// same handle). OUT_OF_HOST_MEMORY when the table is full.
umf_result_t provider_ipc_export(const void *owner, uintptr_t start, size_t len,
                                 provider_ipc_data_t *d);

/// Ends every export of `owner` that overlaps [start, start+len): called
/// when that memory is freed (len SIZE_MAX: all of owner's, at finalize).
/// Cheap when nothing is exported.
void provider_ipc_unexport(const void *owner, uintptr_t start, size_t len);

/// True while this process has any live export (a relaxed read: for
/// skipping work on free paths, not for decisions that need the lock).
bool provider_ipc_exporting(void);

/// Copies provider IPC data from a handle (the fixed part first; the path
/// only once path_size checks out, so that nothing past the wire size is
/// read) and checks what can be checked without the kernel: magic, version,
/// a kind in `kinds` (a mask of 1 << kind), pid, descriptors, size and
/// offset ranges, a power-of-two alignment, a NUL-terminated path fitting
/// the kind and filling path_size. `size` is the bytes the caller has
/// (SIZE_MAX: unknown); a wire size other than `size` is refused.
/// INVALID_ARGUMENT (with the reason logged) otherwise.
umf_result_t provider_ipc_load(const void *raw, size_t size, unsigned kinds,
                               provider_ipc_data_t *out);

/// Whether the export *d names is alive in its exporter's table with the
/// digest of d's description (provider_ipc.c).
umf_result_t provider_ipc_export_check(const provider_ipc_data_t *d);

/// Whether the object behind descriptor d->fd of the exporting process is
/// `id` (the object this process opened), and the export is alive in the
/// exporter's table. INVALID_ARGUMENT for a process that is gone, a handle
/// that does not match or an export that ended.
umf_result_t provider_ipc_verify(const provider_ipc_data_t *d, const os_file_id_t *id);

/// Maps the exported range of `fd` (an object of `obj_size` bytes; the
/// range must lie inside it) with protection `prot` and returns the address
/// of its first byte; the mapping is rounded out to d->align. Recorded for
/// provider_ipc_unmap.
umf_result_t provider_ipc_map(const provider_ipc_data_t *d, int fd, uint64_t obj_size, int prot,
                              void **ptr);

/// The whole open of provider_ipc_data_t: load (kinds as for
/// provider_ipc_load), obtain the object, verify, map with `prot`.
umf_result_t provider_ipc_open(const void *raw, unsigned kinds, int prot, void **ptr);

/// Unmaps what provider_ipc_map mapped at ptr. INVALID_ARGUMENT for any
/// other pointer (nothing is unmapped).
umf_result_t provider_ipc_unmap(void *ptr);

/// An errno value of an open -> result: the handle's fault (INVALID_ARGUMENT)
/// for everything but ENOMEM and ENOSYS.
umf_result_t provider_ipc_errno_result(int err);

// The IPC operations the three providers share.
umf_result_t provider_ipc_put(void *provider, void *data);
umf_result_t provider_ipc_close(void *provider, void *ptr, size_t size);

/// True when the provider's IPC data is provider_ipc_data_t (one of ours):
/// the IPC layer then also checks the handle header against it.
bool provider_ipc_is_native(const struct umf_memory_provider_t *provider);

// The OS provider's own (provider_os_shared.c, at the end).
umf_result_t provider_os_ipc_size(void *provider, size_t *size);
umf_result_t provider_os_ipc_get(void *provider, const void *ptr, size_t size, void *data);
umf_result_t provider_os_ipc_open(void *provider, void *data, void **ptr);

#endif // HETMEM_PROVIDERS_PROVIDER_OS_INTERNAL_H
