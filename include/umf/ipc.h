// SPDX-License-Identifier: MIT
// Inter-process communication (UMF 0.11 ipc.h): a handle for an allocation
// of a pool, which another process opens to map the same memory. The
// pool's provider must support IPC: the OS provider with shared visibility
// (memfd or named shm), the file provider with shared visibility, the
// devdax provider, or a user provider with IPC operations.
//
// A handle is plain data (send its `size` bytes over a pipe or socket). It
// stays valid while the allocation and its process live; opening a handle
// that is forged, truncated, stale (its process gone, the allocation freed)
// or meant for another provider fails and maps nothing. docs/memspaces-ipc.md
// describes the format, the checks and the permissions the opener needs.
#ifndef UMF_IPC_H
#define UMF_IPC_H 1

#include <stddef.h>

#include <umf/base.h>
#include <umf/memory_pool.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An IPC handle: a block of umfPoolGetIPCHandleSize bytes.
typedef struct umf_ipc_data_t *umf_ipc_handle_t;

/// Opens handles into the calling process: get one from a pool whose
/// provider is of the same kind as the handle's (umfPoolGetIPCHandler).
typedef void *umf_ipc_handler_handle_t;

/// The size of the IPC handles of a pool.
/// @param hPool the pool
/// @param [out] size bytes
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL) or NOT_SUPPORTED
///         (the provider has no IPC)
umf_result_t umfPoolGetIPCHandleSize(umf_memory_pool_handle_t hPool, size_t *size);

/// Makes an IPC handle for the allocation that holds ptr.
/// @param ptr memory of a tracked pool
/// @param [out] ipcHandle the handle (release it with umfPutIPCHandle)
/// @param [out] size its size in bytes
/// @return UMF_RESULT_SUCCESS, INVALID_ARGUMENT (NULL, not memory of a
///         tracked pool), NOT_SUPPORTED (the provider has no IPC, or its
///         memory is private) or OUT_OF_HOST_MEMORY
umf_result_t umfGetIPCHandle(const void *ptr, umf_ipc_handle_t *ipcHandle, size_t *size);

/// Releases a handle made by umfGetIPCHandle in this process. Processes
/// that opened it keep their mapping; it can still be opened while the
/// allocation lives (the copies that were sent remain valid).
/// @return UMF_RESULT_SUCCESS, or INVALID_ARGUMENT (NULL, not a handle
///         made here)
umf_result_t umfPutIPCHandle(umf_ipc_handle_t ipcHandle);

/// Maps the memory of a handle (from another process, or this one).
/// Opening the same allocation again gives the same mapping (reference
/// counted); close each open with umfCloseIPCHandle.
/// @param hIPCHandler the handler of a pool whose provider is of the
///        handle's kind
/// @param ipcHandle the handle as received: at least as many bytes as
///        umfPoolGetIPCHandleSize gives (the handle says how many it has)
/// @param [out] ptr the allocation's address in this process
/// @return UMF_RESULT_SUCCESS; INVALID_ARGUMENT for a malformed, truncated
///         or forged handle, one for another provider, a process that is
///         gone, an allocation that was freed, or a descriptor or mapping
///         the kernel refuses to this process (the reason is logged);
///         NOT_SUPPORTED when the provider has no IPC; OUT_OF_HOST_MEMORY
umf_result_t umfOpenIPCHandle(umf_ipc_handler_handle_t hIPCHandler, umf_ipc_handle_t ipcHandle,
                              void **ptr);

/// Closes one umfOpenIPCHandle; the last close of a mapping unmaps it.
/// @param ptr the pointer umfOpenIPCHandle gave
/// @return UMF_RESULT_SUCCESS, or INVALID_ARGUMENT (not an open handle)
umf_result_t umfCloseIPCHandle(void *ptr);

/// The IPC handler of a pool. Close every handle opened through it before
/// the pool is destroyed.
/// @param [out] hIPCHandler the handler
umf_result_t umfPoolGetIPCHandler(umf_memory_pool_handle_t hPool,
                                  umf_ipc_handler_handle_t *hIPCHandler);

#ifdef __cplusplus
}
#endif

#endif // UMF_IPC_H
