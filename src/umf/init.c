// SPDX-License-Identifier: MIT
// Library-wide entry points of the UMF API. hetmem initializes every layer
// lazily on first use, so umfInit only counts references (a program written
// for UMF calls it) and umfTearDown releases nothing that is still in use.
#include <stdatomic.h>

#include <umf.h>

#include "base/log.h"
#include "base/util.h"

static _Atomic long init_refs;

HETMEM_EXPORT umf_result_t umfInit(void) {
    atomic_fetch_add_explicit(&init_refs, 1, memory_order_relaxed);
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT void umfTearDown(void) {
    long before = atomic_load_explicit(&init_refs, memory_order_relaxed);
    while (before > 0 && !atomic_compare_exchange_weak(&init_refs, &before, before - 1))
        ;
    if (before <= 0)
        LOG_WARN("umfTearDown without a matching umfInit");
}

HETMEM_EXPORT int umfGetCurrentVersion(void) { return UMF_VERSION_CURRENT; }

// fork(2) safety lives with the locks: base/lock.c registers one set of
// handlers that takes every lock of the core by rank (docs/architecture.md,
// "Locks").
