// SPDX-License-Identifier: MIT
// The UMF-compatible API of hetmem (link with -lumf or -lhetmem).
#ifndef UMF_UNIFIED_MEMORY_FRAMEWORK_H
#define UMF_UNIFIED_MEMORY_FRAMEWORK_H 1

#include <umf/base.h>
#include <umf/ipc.h>
#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>
#include <umf/memory_provider.h>
#include <umf/memory_provider_ops.h>
#include <umf/mempolicy.h>
#include <umf/memspace.h>
#include <umf/memtarget.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Initializes the library (reference counted; optional: every entry point
/// initializes what it needs lazily).
umf_result_t umfInit(void);

/// Drops one umfInit reference.
void umfTearDown(void);

/// UMF_VERSION_CURRENT of the loaded library.
int umfGetCurrentVersion(void);

#ifdef __cplusplus
}
#endif

#endif // UMF_UNIFIED_MEMORY_FRAMEWORK_H
