// SPDX-License-Identifier: MIT
// Memory targets (UMF 0.11 memtarget.h): one place memory can come from. In
// hetmem every memory target is a NUMA node with memory, as the topology
// layer discovers it; memspaces (umf/memspace.h) are sets of them.
#ifndef UMF_MEMTARGET_H
#define UMF_MEMTARGET_H 1

#include <stddef.h>

#include <umf/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A memory target. Targets belong to the memspace they were taken from
/// (umfMemspaceMemtargetGet) and live as long as it does.
typedef struct umf_memtarget_t *umf_memtarget_handle_t;
typedef const struct umf_memtarget_t *umf_const_memtarget_handle_t;

/// The kinds of memory target.
typedef enum umf_memtarget_type_t {
    UMF_MEMTARGET_TYPE_UNKNOWN = 0, ///< not a kind hetmem knows
    UMF_MEMTARGET_TYPE_NUMA = 1,    ///< a NUMA node (its id is the kernel's node id)
} umf_memtarget_type_t;

/// The kind of a memory target.
/// @param hMemtarget the memory target
/// @param [out] type its kind (always UMF_MEMTARGET_TYPE_NUMA in hetmem)
/// @return UMF_RESULT_SUCCESS, or UMF_RESULT_ERROR_INVALID_ARGUMENT for NULL
umf_result_t umfMemtargetGetType(umf_const_memtarget_handle_t hMemtarget,
                                 umf_memtarget_type_t *type);

/// The size of a memory target: the node's total memory (MemTotal).
/// @param hMemtarget the memory target
/// @param [out] capacity bytes
/// @return UMF_RESULT_SUCCESS, or UMF_RESULT_ERROR_INVALID_ARGUMENT for NULL
umf_result_t umfMemtargetGetCapacity(umf_const_memtarget_handle_t hMemtarget, size_t *capacity);

/// The physical id of a memory target: the NUMA node id.
/// @param hMemtarget the memory target
/// @param [out] id the node id
/// @return UMF_RESULT_SUCCESS, or UMF_RESULT_ERROR_INVALID_ARGUMENT for NULL
umf_result_t umfMemtargetGetId(umf_const_memtarget_handle_t hMemtarget, unsigned *id);

#ifdef __cplusplus
}
#endif

#endif // UMF_MEMTARGET_H
