// SPDX-License-Identifier: MIT
// The jemalloc pool's extent hooks: every pool's arenas get their coarse
// memory from the pool's provider through these (pool_jemalloc.c installs
// pool_jemalloc_hooks_template in each pool), record it in the chunk table
// (pool_jemalloc_chunks.c) and in the live map (pool_jemalloc_map.c), and
// give it back only as whole chunks.
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "pools/pool_jemalloc_priv.h"

#if POOL_JEMALLOC_AVAILABLE

// jemalloc calls these with its own locks held and marks itself reentrant;
// they call only the provider (and through it the tracker). A bool hook
// returns false on success, as jemalloc expects.

static inline pool_jemalloc_t *pool_of(extent_hooks_t *h) { return (pool_jemalloc_t *)h; }

// Set when the provider refused memory to a hook running in this thread
// (hooks run synchronously in the allocating thread).
__thread bool pool_jemalloc_provider_refused;

// Large zeroed extents: a forced purge makes the pages read back as zeros
// without touching them (the provider contract); otherwise write zeros.
#define ZERO_BY_PURGE_MIN (2u << 20)

static void *hook_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t alignment,
                        bool *zero, bool *commit, unsigned arena_ind) {
    (void)arena_ind;
    if (new_addr) // growing in place: a provider cannot place memory at an address
        return NULL;
    pool_jemalloc_t *jp = pool_of(h);
    void *p = NULL;
    int saved_errno = errno; // a provider may leave errno changed on success
    umf_result_t r = umfMemoryProviderAlloc(jp->provider, size, alignment, &p);
    if (r != UMF_RESULT_SUCCESS || !p) {
        LOG_DEBUG("provider refused %zu bytes aligned %zu: %d", size, alignment, (int)r);
        pool_jemalloc_provider_refused = true;
        return NULL;
    }
    if (pool_jemalloc_map_add(jp, p, size) != 0) {
        umfMemoryProviderFree(jp->provider, p, size);
        return NULL;
    }
    if (pool_jemalloc_chunk_add(&jp->chunks, p, size) != 0) {
        pool_jemalloc_map_remove(p, size);
        umfMemoryProviderFree(jp->provider, p, size);
        return NULL;
    }
    if (*zero && (size < ZERO_BY_PURGE_MIN ||
                  umfMemoryProviderPurgeForce(jp->provider, p, size) != UMF_RESULT_SUCCESS))
        memset(p, 0, size);
    *commit = true; // provider memory is always committed
    errno = saved_errno;
    return p;
}

// Only whole chunks go back (pool_jemalloc_chunks.c says why); refusing
// ("opt out") makes jemalloc purge the range and keep it for reuse.
static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
                        unsigned arena_ind) {
    (void)committed, (void)arena_ind;
    pool_jemalloc_t *jp = pool_of(h);
    if (!pool_jemalloc_chunk_take(&jp->chunks, addr, size))
        return true;
    int saved_errno = errno;
    pool_jemalloc_map_remove(addr, size); // no live block is left in it
    if (umfMemoryProviderFree(jp->provider, addr, size) == UMF_RESULT_SUCCESS) {
        errno = saved_errno;
        return false;
    }
    pool_jemalloc_map_add(jp, addr, size);            // still ours: it was mapped before
    pool_jemalloc_chunk_add(&jp->chunks, addr, size); // still ours; a failure here is harmless
    errno = saved_errno;
    return true;
}

// Called piece by piece while an arena is torn down; the pieces are freed
// once the arena is gone (jp_finalize).
static void hook_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed,
                         unsigned arena_ind) {
    (void)committed, (void)arena_ind;
    pool_jemalloc_t *jp = pool_of(h);
    if (pool_jemalloc_chunk_defer(&jp->chunks, addr, size) != 0) {
        pool_jemalloc_map_remove(addr, size);
        if (umfMemoryProviderFree(jp->provider, addr, size) != UMF_RESULT_SUCCESS)
            LOG_ERR("provider did not take back %p+%zu at arena destroy", addr, size);
    }
}

static bool hook_commit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
                        size_t length, unsigned arena_ind) {
    (void)h, (void)addr, (void)size, (void)offset, (void)length, (void)arena_ind;
    return false; // nothing was ever decommitted
}

// Opting out (true) makes jemalloc purge instead; a provider has no way to
// decommit and recommit a range while keeping it allocated.
static bool hook_decommit(extent_hooks_t *h, void *addr, size_t size, size_t offset,
                          size_t length, unsigned arena_ind) {
    (void)h, (void)addr, (void)size, (void)offset, (void)length, (void)arena_ind;
    return true;
}

static bool hook_purge_lazy(extent_hooks_t *h, void *addr, size_t size, size_t offset,
                            size_t length, unsigned arena_ind) {
    (void)size, (void)arena_ind;
    return umfMemoryProviderPurgeLazy(pool_of(h)->provider, (char *)addr + offset, length) !=
           UMF_RESULT_SUCCESS;
}

static bool hook_purge_forced(extent_hooks_t *h, void *addr, size_t size, size_t offset,
                              size_t length, unsigned arena_ind) {
    (void)size, (void)arena_ind;
    return umfMemoryProviderPurgeForce(pool_of(h)->provider, (char *)addr + offset, length) !=
           UMF_RESULT_SUCCESS;
}

static bool hook_split(extent_hooks_t *h, void *addr, size_t size, size_t size_a, size_t size_b,
                       bool committed, unsigned arena_ind) {
    (void)size_b, (void)committed, (void)arena_ind;
    return umfMemoryProviderAllocationSplit(pool_of(h)->provider, addr, size, size_a) !=
           UMF_RESULT_SUCCESS;
}

static bool hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
                       size_t size_b, bool committed, unsigned arena_ind) {
    (void)committed, (void)arena_ind;
    return umfMemoryProviderAllocationMerge(pool_of(h)->provider, addr_a, addr_b,
                                            size_a + size_b) != UMF_RESULT_SUCCESS;
}

const extent_hooks_t pool_jemalloc_hooks_template = {
    .alloc = hook_alloc,
    .dalloc = hook_dalloc,
    .destroy = hook_destroy,
    .commit = hook_commit,
    .decommit = hook_decommit,
    .purge_lazy = hook_purge_lazy,
    .purge_forced = hook_purge_forced,
    .split = hook_split,
    .merge = hook_merge,
};

#endif // POOL_JEMALLOC_AVAILABLE
