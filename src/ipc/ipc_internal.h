// SPDX-License-Identifier: MIT
// Internal view of the IPC layer (src/ipc): the layout of an IPC handle and
// the functions its two files and the tests share.
//
// A handle is a header followed by the provider's IPC data:
//
//   offset  size  field
//        0     4  magic               IPC_HANDLE_MAGIC ("HMIP")
//        4     2  version             IPC_HANDLE_VERSION
//        6     2  header_size         sizeof(struct umf_ipc_data_t) (112)
//        8     4  provider_data_size  bytes after the header
//       12     4  pid                 the process that made the handle
//       16     8  base                its address of the allocation (a key, never used as an address)
//       24     8  base_size           bytes of the allocation
//       32     8  offset              of the handle's pointer in the allocation (< base_size)
//       40     8  checksum            FNV-1a 64 of the whole handle with this field 0
//       48    64  provider_name       NUL-terminated (umfMemoryProviderGetName)
//      112     n  provider_data       the provider's get_ipc_handle output
//
// Integers are in the sender's byte order: handles go between processes of
// one machine. The checksum catches truncation and corruption, not forgery
// (a forger recomputes it): forgery is what the providers' checks are for.
#ifndef HETMEM_IPC_IPC_INTERNAL_H
#define HETMEM_IPC_IPC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <umf/ipc.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>

#define IPC_HANDLE_MAGIC 0x50494d48u // "HMIP" in memory order
#define IPC_HANDLE_VERSION 1u
#define IPC_PROVIDER_NAME_MAX 64u
#define IPC_PROVIDER_DATA_MAX (64u << 10) // larger provider data is refused

/// The handle (umf_ipc_handle_t points to one). See the table above.
struct umf_ipc_data_t {
    uint32_t magic;
    uint16_t version;
    uint16_t header_size;
    uint32_t provider_data_size;
    int32_t pid;
    uint64_t base;
    uint64_t base_size;
    uint64_t offset;
    uint64_t checksum;
    char provider_name[IPC_PROVIDER_NAME_MAX];
    unsigned char provider_data[];
};

_Static_assert(sizeof(struct umf_ipc_data_t) == 112, "the handle header layout changed");

/// FNV-1a 64 of a handle of `total` bytes, its checksum field counted as 0.
uint64_t ipc_checksum(const struct umf_ipc_data_t *h, size_t total);

/// umfOpenIPCHandle with the number of bytes the caller has (`len`; SIZE_MAX
/// when unknown, as umfOpenIPCHandle has it): a handle that claims more is
/// refused before it is read past `len`. For receivers that know the length
/// (and the fuzz target).
umf_result_t ipc_open_handle_sized(umf_ipc_handler_handle_t handler, const void *handle,
                                   size_t len, void **ptr);

/// Number of mappings in the open cache (tests).
size_t ipc_open_cache_count(void);

#endif // HETMEM_IPC_IPC_INTERNAL_H
