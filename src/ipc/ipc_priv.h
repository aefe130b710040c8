// SPDX-License-Identifier: MIT
// Internal view of the IPC layer (src/ipc): the layout of an IPC handle and
// the functions its two files and the tests share.
//
// A handle is a 16-byte header, a fixed body and the provider's IPC data:
//
//   offset  size  field
//   header (IPC_HEADER_SIZE = 16 bytes; an opener reads the magic byte by
//   byte up to the first byte that differs, then the rest of the header, and
//   nothing else until the header checks out)
//        0     4  magic               IPC_HANDLE_MAGIC ("HMI2")
//        4     2  version             IPC_HANDLE_VERSION
//        6     2  header_size         IPC_HEADER_SIZE
//        8     4  total_size          bytes of the whole handle (header included)
//       12     4  header_check        FNV-1a 32 of bytes 0..11
//   body (checked against the checksum before use)
//       16     4  pid                 the process that made the handle
//       20     4  provider_data_size  bytes after the body (total_size - 104)
//       24     8  base                its address of the allocation (a key, never used as an address)
//       32     8  base_size           bytes of the provider range holding it
//       40     8  offset              of the handle's pointer in that range (< base_size)
//       48     8  provider_id         FNV-1a 64 of the provider's name
//       56     8  checksum            FNV-1a 64 of the whole handle with this field 0
//       64    40  live                the allocation's liveness record (ipc_live_t
//                                     minus pid: table fd, slot, table identity, id, digest)
//      104     n  provider_data       the provider's get_ipc_handle output
//
// A memfd handle of the OS provider is 104 + 128 = 232 bytes. The opener
// refuses a total_size that is not what the handler's provider needs (its
// get_ipc_handle_size; for our providers, a provider part of 128 bytes up
// to PATH_MAX + 120) before it reads past the header, and never reads past
// total_size. Integers are in the sender's byte order: handles go between
// processes of one machine. The checksums catch truncation and corruption,
// not forgery (a forger recomputes them): forgery is what the liveness
// records and the providers' checks are for.
#ifndef HETMEM_IPC_IPC_PRIV_H
#define HETMEM_IPC_IPC_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umf/ipc.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>

#define IPC_HANDLE_MAGIC 0x32494d48u // "HMI2" in memory order
#define IPC_HANDLE_VERSION 2u
#define IPC_HEADER_SIZE 16u
#define IPC_PROVIDER_DATA_MAX (64u << 10) // larger provider data is refused

/// The handle (umf_ipc_handle_t points to one). See the table above.
struct umf_ipc_data_t {
    uint32_t magic;
    uint16_t version;
    uint16_t header_size;
    uint32_t total_size;
    uint32_t header_check;
    int32_t pid;
    uint32_t provider_data_size;
    uint64_t base;
    uint64_t base_size;
    uint64_t offset;
    uint64_t provider_id;
    uint64_t checksum;
    int32_t live_fd;     // the exporter's descriptor of its export table
    uint32_t live_slot;  // the allocation's slot there
    uint64_t live_dev, live_ino; // identity of the table
    uint64_t live_id;    // what the slot holds while the allocation lives
    uint64_t live_digest;
    unsigned char provider_data[];
};

_Static_assert(offsetof(struct umf_ipc_data_t, pid) == IPC_HEADER_SIZE, "the header changed");
_Static_assert(sizeof(struct umf_ipc_data_t) == 104, "the handle body layout changed");

/// FNV-1a 64 of a handle of `total` bytes, its checksum field counted as 0.
uint64_t ipc_checksum(const struct umf_ipc_data_t *h, size_t total);

/// FNV-1a 32 of the header's first 12 bytes (the header_check field).
uint32_t ipc_header_check(const struct umf_ipc_data_t *h);

/// FNV-1a 64 of a provider name (the provider_id field).
uint64_t ipc_provider_id(const char *name);

/// The digest of a handle's liveness record: its pid, base, base_size,
/// offset, provider id and provider data size.
uint64_t ipc_live_digest(const struct umf_ipc_data_t *h);

/// umfOpenIPCHandle with the number of bytes the caller has (`len`; SIZE_MAX
/// when unknown, as umfOpenIPCHandle has it): a handle that claims more is
/// refused before it is read past `len`. For receivers that know the length
/// (and the fuzz target).
umf_result_t ipc_open_handle_sized(umf_ipc_handler_handle_t handler, const void *handle,
                                   size_t len, void **ptr);

/// Number of mappings in the open cache (tests).
size_t ipc_open_cache_count(void);     ///< mappings in the open cache, idle ones included
size_t ipc_open_cache_open(void);      ///< of them, those open (not idle)
/// The pool (a handler) is being destroyed: its provider's idle mappings
/// are closed, open ones are closed at their last umfCloseIPCHandle.
void ipc_open_pool_destroyed(umf_memory_pool_handle_t pool);

/// Whether `handler` is a handler that umfPoolGetIPCHandler gave and whose
/// pool is not destroyed. Compares the pointer only: never reads *handler.
bool ipc_handler_known(umf_ipc_handler_handle_t handler);

#endif // HETMEM_IPC_IPC_PRIV_H
