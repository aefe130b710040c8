// SPDX-License-Identifier: MIT
// Library-wide entry points of the UMF API. hetmem initializes every layer
// lazily on first use, so umfInit only counts references (a program written
// for UMF calls it) and umfTearDown releases nothing that is still in use.
#include <stdatomic.h>

#include <umf.h>

#include <pthread.h>

#include "base/handle.h"
#include "base/log.h"
#include "base/util.h"
#include "heap/heap.h"
#include "os/meta.h"
#include "tracker/tracker.h"

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

// fork(2) safety: a child inherits only the forking thread, so a lock that
// another thread held at fork time would stay locked forever there. The
// core's allocation locks are taken before fork and released on both sides,
// in the one order every path uses: heap registry and heaps, the address
// map's writer lock, the metadata allocator; last the handle graveyards'
// lock (base/handle.h: a leaf, taken with none of the others held, so it
// comes after them all). (Providers' own locks and the IPC caches are not
// covered yet.)
static void fork_prepare(void) {
    heap_fork_prepare();
    tracker_fork_prepare();
    meta_fork_prepare();
    handle_fork_prepare();
}

static void fork_parent(void) {
    handle_fork_parent();
    meta_fork_parent();
    tracker_fork_parent();
    heap_fork_parent();
}

static void fork_child(void) {
    handle_fork_child();
    meta_fork_child();
    tracker_fork_child();
    heap_fork_child();
}

__attribute__((constructor)) static void register_fork_handlers(void) {
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0)
        LOG_WARN("cannot register fork handlers: a child may deadlock in hetmem");
}
