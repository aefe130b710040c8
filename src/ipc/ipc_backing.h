// SPDX-License-Identifier: MIT
// The provider part of IPC handles of our providers (OS shared, file,
// devdax), the export table that keeps them alive, and the checks and the
// mapping an opener makes. The providers only describe their memory
// (provider_ipc_hooks_t, providers/provider.h); everything else
// is here. Design: docs/memspaces-ipc.md, "IPC".
//
// Liveness: every export (get_ipc_handle) takes a slot of the export table,
// a memfd of 16-byte slots {id, digest}, readable by any process that may
// take the exporter's descriptors (only the exporter writes it). The slot
// holds the export's id (never reused) while the exported range lives;
// freeing any part of the range, or destroying the provider, clears it
// (provider_memory_freed -> ipc_live_end). An opener maps the exporter's
// table read-only and requires the id, and the digest of the handle's
// (kind, object, offset, size, alignment, pid) - so a stale or altered
// handle is refused before anything of it is mapped.
#ifndef HETMEM_IPC_IPC_BACKING_H
#define HETMEM_IPC_IPC_BACKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umf/memory_provider.h>

#include "os/os.h"
#include "providers/provider.h"

#define IPC_PDATA_MAGIC 0x43504948u // "HIPC"
#define IPC_PDATA_VERSION 2u        // 2: the path is variable-size
#define IPC_PDATA_PATH_MAX 4096u    // PATH_MAX, with the NUL
#define IPC_LIVE_SLOTS 32768u       // live records per process (512 KiB of table, sparse)

/// The provider part of an IPC handle of our providers. In memory it has
/// room for any path; on the wire (ipc_pdata_store) it is the fields up to
/// `path` (IPC_PDATA_FIXED bytes) followed by `path_size` bytes: the path,
/// its NUL and zero padding to a multiple of 8, so that a memfd handle's
/// provider part is 128 bytes, not 4 KiB. Plain data in the sender's byte
/// order; the opener copies it and checks every field (ipc_pdata_load).
typedef struct ipc_pdata_t {
    uint32_t magic;          // IPC_PDATA_MAGIC
    uint32_t version;        // IPC_PDATA_VERSION
    uint32_t kind;           // provider_object_t
    int32_t pid;             // the exporting process
    int32_t fd;              // its descriptor of the backing object
    int32_t table_fd;        // its descriptor of the export table
    uint32_t path_size;      // bytes of `path` on the wire (8..PATH_MAX, multiple of 8)
    uint32_t reserved;       // 0
    uint64_t dev, ino, rdev; // identity of the object (rdev: of a device)
    uint64_t off;            // offset of the exported range in the object
    uint64_t size;           // bytes of the exported range (> 0)
    uint64_t align;          // mapping granularity (a power of two)
    uint64_t table_dev, table_ino; // identity of the export table
    uint64_t slot;           // the export's slot in the table
    uint64_t export_id;      // what the slot holds while the export lives
    uint64_t digest;         // what the slot's digest word holds
    char path[IPC_PDATA_PATH_MAX]; // shm name, file path or device path; "" for memfd
} ipc_pdata_t;

/// Bytes of the wire form before the path.
#define IPC_PDATA_FIXED offsetof(ipc_pdata_t, path)

/// A liveness record of the export table, as a handle carries it.
typedef struct ipc_live_t {
    int32_t pid;        // the exporting process
    int32_t table_fd;   // its descriptor of the table
    uint64_t table_dev, table_ino;
    uint64_t slot, id, digest;
} ipc_live_t;

// ---- ipc_live.c: the export table -----------------------------------------

/// Takes a slot for `owner`'s [start, start+len) with `digest` (a record of
/// the same owner, range and digest is reused: *fresh false) and fills *out.
/// Owners: a pool (pool allocations, ipc.c) or a provider's state.
umf_result_t ipc_live_add(const void *owner, uintptr_t start, size_t len, uint64_t digest,
                          ipc_live_t *out, bool *fresh);

/// Whether the record is alive in its exporter's table and holds its
/// digest. INVALID_ARGUMENT (logged) when it ended or does not match.
umf_result_t ipc_live_check(const ipc_live_t *l);

/// Ends every record of `owner` that overlaps [start, start+len) (len
/// SIZE_MAX: all of owner's) and returns how many ended. Cheap when nothing
/// is exported.
size_t ipc_live_end(const void *owner, uintptr_t start, size_t len);

/// Registers the export of [start, start+len) of `owner` described by *d
/// (kind, identity, off, size, align, pid set) and fills its table fields.
/// An export of the same range and description is reused.
umf_result_t ipc_export(const void *owner, uintptr_t start, size_t len, ipc_pdata_t *d);

/// Whether the export *d names is alive with the digest of d's description.
umf_result_t ipc_export_check(const ipc_pdata_t *d);

// ---- ipc_backing.c: wire form, checks, opening ------------------------------

/// Wire size of provider data naming `path` ("" for a memfd), 0 when the
/// path is too long for a handle.
size_t ipc_pdata_wire_size(const char *path);

/// Copies provider data from a handle (the fixed part first, the path only
/// once path_size checks out) and checks what can be checked without the
/// kernel: magic, version, a kind in `kinds` (mask of 1 << kind), pid,
/// descriptors, ranges, alignment, a path that fits the kind. `size`: the
/// bytes the caller has (SIZE_MAX: unknown). INVALID_ARGUMENT otherwise.
umf_result_t ipc_pdata_load(const void *raw, size_t size, unsigned kinds, ipc_pdata_t *out);

/// An errno value of an open -> result: the handle's fault (INVALID_ARGUMENT)
/// for everything but ENOMEM and ENOSYS.
umf_result_t ipc_errno_result(int err);

/// The IPC operations of our providers, driven through their hooks
/// (ipc_provider.c dispatches the public entry points here).
umf_result_t ipc_native_size(const provider_ipc_hooks_t *hk, void *priv, size_t *size);
umf_result_t ipc_native_get(const provider_ipc_hooks_t *hk, void *priv, const void *ptr,
                            size_t size, void *data);
umf_result_t ipc_native_put(void *data);
umf_result_t ipc_native_open(const provider_ipc_hooks_t *hk, void *priv, void *data, void **ptr);
umf_result_t ipc_native_close(void *ptr);

/// Whether `provider` is one of ours (its handles are ipc_pdata_t): made
/// from a family's table, or from a table whose IPC operations are ours (a
/// getter's table, copied, perhaps with initialize overridden).
bool ipc_provider_ours(const struct umf_memory_provider_t *provider);

#endif // HETMEM_IPC_IPC_BACKING_H
