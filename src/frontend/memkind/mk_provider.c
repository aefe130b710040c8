// SPDX-License-Identifier: MIT
// The memkind front end's providers. mk_provider_create builds the core
// provider a heap gets memory from (OS, file, fixed, or the kind's own
// operations) and wraps it in a guard: a UMF provider of our own that
// forwards every call and adds what memkind promises beyond the core:
//
//   - ENOMEM instead of the OOM killer (bound kinds). The kernel answers an
//     MPOL_BIND mapping that overfills its nodes with the OOM killer, not
//     with an error (docs/vm.md). Before a chunk is mapped for a bound
//     kind, the guard reads the bound nodes' free memory (topology layer,
//     fresh from sysfs) and refuses the chunk unless the nodes can hold it
//     plus a reserve (mk_provider_reserve: the kernel's watermarks and the
//     pages of earlier chunks not yet touched). The pool then fails the
//     allocation and memkind_malloc returns NULL with ENOMEM. Freed memory
//     is purged at once (purge_lazy becomes purge_force), so that it shows
//     as free again. The check is per chunk, not per page: concurrent users
//     of the same nodes can still exhaust them between the check and the
//     first touch. This lives here rather than in the OS provider because it
//     is memkind's contract, not UMF's (a UMF BIND pool behaves as UMF's).
//   - The size limit of file-backed kinds (memkind_create_pmem max_size):
//     bytes held from the file provider never exceed it.
//   - THP off for the interleave kinds (memkind: "transparent huge pages
//     disabled"): MADV_NOHUGEPAGE on every new chunk.
//   - Byte counts (held, peak, refused) for statistics.
#include <stdatomic.h>
#include <string.h>

#include <umf/memory_provider_ops.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_fixed_memory.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_internal.h"
#include "os/meta.h"
#include "os/os.h"
#include "providers/provider_internal.h"

typedef struct guard_t {
    umf_memory_provider_handle_t inner; // owned
    bool check_free;
    nodeset_t nodes; // bound nodes (check_free)
    size_t reserve;
    size_t limit; // 0: none
    bool nohugepage;
    _Atomic size_t held;
    _Atomic size_t peak;
    _Atomic uint64_t refused;
} guard_t;

typedef struct guard_params_t {
    umf_memory_provider_handle_t inner;
    const mk_provider_cfg_t *cfg;
} guard_params_t;

// The kernel keeps each zone's free memory above its watermarks; an
// MPOL_BIND fault that would take a node below its "min" watermark ends in
// the OOM killer. With transparent huge pages, min_free_kbytes gives every
// populated zone about 11 pageblocks (22 MiB on x86-64) as "min", capped at
// 5% of memory, and "high" is 1.5 x min. The topology layer does not
// report watermarks (TODO(#8): topo_node_watermark), so the reserve is
// 1/16 of the nodes' capacity, at most 64 MiB, plus 8 MiB for the pages of
// earlier chunks not touched yet: above "high" on the nodes we run on.
size_t mk_provider_reserve(const nodeset_t *nodes) {
    uint64_t cap = memspace_nodes_capacity(nodes) / 16;
    if (cap > ((uint64_t)64 << 20))
        cap = (uint64_t)64 << 20;
    return ((size_t)8 << 20) + (size_t)cap;
}

static umf_result_t guard_initialize(void *params, void **provider) {
    const guard_params_t *gp = params;
    if (!gp || !gp->inner || !gp->cfg || !provider)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    guard_t *g = meta_alloc(sizeof *g);
    if (!g)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    g->inner = gp->inner;
    g->check_free = gp->cfg->check_free && gp->cfg->src == MK_SRC_OS;
    g->nodes = gp->cfg->nodes;
    g->reserve = g->check_free ? mk_provider_reserve(&g->nodes) : 0;
    g->limit = gp->cfg->limit;
    g->nohugepage = gp->cfg->nohugepage;
    *provider = g;
    return UMF_RESULT_SUCCESS;
}

static void guard_finalize(void *provider) {
    guard_t *g = provider;
    umfMemoryProviderDestroy(g->inner);
    meta_free(g, sizeof *g);
}

static void note_peak(guard_t *g, size_t now) {
    size_t p = atomic_load_explicit(&g->peak, memory_order_relaxed);
    while (now > p && !atomic_compare_exchange_weak_explicit(
                          &g->peak, &p, now, memory_order_relaxed, memory_order_relaxed))
        ;
}

static umf_result_t refuse(guard_t *g) {
    atomic_fetch_add_explicit(&g->refused, 1, memory_order_relaxed);
    return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
}

static umf_result_t guard_alloc(void *provider, size_t size, size_t alignment, void **ptr) {
    guard_t *g = provider;
    size_t held = atomic_fetch_add_explicit(&g->held, size, memory_order_relaxed) + size;
    if (g->limit && (held > g->limit || held < size)) {
        atomic_fetch_sub_explicit(&g->held, size, memory_order_relaxed);
        LOG_INFO("kind limit of %zu bytes reached (%zu asked)", g->limit, size);
        return refuse(g);
    }
    if (g->check_free) {
        uint64_t free_bytes = memspace_nodes_free(&g->nodes);
        if (free_bytes < (uint64_t)size + g->reserve) {
            atomic_fetch_sub_explicit(&g->held, size, memory_order_relaxed);
            LOG_INFO("bound nodes have %llu bytes free, %zu + %zu reserve needed: ENOMEM",
                     (unsigned long long)free_bytes, size, g->reserve);
            return refuse(g);
        }
    }
    umf_result_t r = umfMemoryProviderAlloc(g->inner, size, alignment, ptr);
    if (r != UMF_RESULT_SUCCESS) {
        atomic_fetch_sub_explicit(&g->held, size, memory_order_relaxed);
        return r;
    }
    if (g->nohugepage)
        (void)os_madvise(*ptr, size, OS_ADV_NOHUGEPAGE); // advice only
    note_peak(g, held);
    return UMF_RESULT_SUCCESS;
}

static umf_result_t guard_free(void *provider, void *ptr, size_t size) {
    guard_t *g = provider;
    umf_result_t r = umfMemoryProviderFree(g->inner, ptr, size);
    if (r == UMF_RESULT_SUCCESS && ptr)
        atomic_fetch_sub_explicit(&g->held, size, memory_order_relaxed);
    return r;
}

static void guard_last_native_error(void *provider, const char **msg, int32_t *err) {
    guard_t *g = provider;
    umfMemoryProviderGetLastNativeError(g->inner, msg, err);
}

static umf_result_t guard_recommended_page_size(void *provider, size_t size, size_t *ps) {
    return umfMemoryProviderGetRecommendedPageSize(((guard_t *)provider)->inner, size, ps);
}

static umf_result_t guard_min_page_size(void *provider, void *ptr, size_t *ps) {
    return umfMemoryProviderGetMinPageSize(((guard_t *)provider)->inner, ptr, ps);
}

static const char *guard_name(void *provider) {
    (void)provider;
    return "memkind";
}

static umf_result_t guard_purge_force(void *provider, void *ptr, size_t size) {
    return umfMemoryProviderPurgeForce(((guard_t *)provider)->inner, ptr, size);
}

static umf_result_t guard_purge_lazy(void *provider, void *ptr, size_t size) {
    guard_t *g = provider;
    if (g->check_free) // lazily freed pages do not show as free: drop them now
        return umfMemoryProviderPurgeForce(g->inner, ptr, size);
    return umfMemoryProviderPurgeLazy(g->inner, ptr, size);
}

static umf_result_t guard_split(void *provider, void *ptr, size_t total, size_t first) {
    return umfMemoryProviderAllocationSplit(((guard_t *)provider)->inner, ptr, total, first);
}

static umf_result_t guard_merge(void *provider, void *low, void *high, size_t total) {
    return umfMemoryProviderAllocationMerge(((guard_t *)provider)->inner, low, high, total);
}

static umf_memory_provider_ops_t guard_ops = {
    .version = UMF_VERSION_CURRENT,
    .initialize = guard_initialize,
    .finalize = guard_finalize,
    .alloc = guard_alloc,
    .free = guard_free,
    .get_last_native_error = guard_last_native_error,
    .get_recommended_page_size = guard_recommended_page_size,
    .get_min_page_size = guard_min_page_size,
    .get_name = guard_name,
    .ext = {.purge_lazy = guard_purge_lazy,
            .purge_force = guard_purge_force,
            .allocation_merge = guard_merge,
            .allocation_split = guard_split},
};

bool mk_provider_is_guard(umf_memory_provider_handle_t p) {
    return p && p->ops.initialize == guard_initialize;
}

void mk_provider_counts(umf_memory_provider_handle_t guard, mk_provider_counts_t *out) {
    memset(out, 0, sizeof *out);
    if (!guard || guard->ops.initialize != guard_initialize)
        return; // not one of our guards
    const guard_t *g = guard->priv;
    out->held = atomic_load_explicit(&g->held, memory_order_relaxed);
    out->peak = atomic_load_explicit(&g->peak, memory_order_relaxed);
    out->refused = atomic_load_explicit(&g->refused, memory_order_relaxed);
}

// ---- the inner providers ----------------------------------------------------

static umf_result_t os_inner(const mk_provider_cfg_t *cfg, umf_memory_provider_handle_t *out) {
    memspace_bind_t b = {.mode = cfg->mode, .huge_page = cfg->huge_page};
    return memspace_os_provider_create_set(&cfg->nodes, &b, out);
}

static umf_result_t file_inner(const mk_provider_cfg_t *cfg, umf_memory_provider_handle_t *out) {
    umf_file_memory_provider_params_handle_t p;
    umf_result_t r = umfFileMemoryProviderParamsCreate(&p, cfg->path);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    // Shared: purging punches holes, which gives the file space back.
    r = umfFileMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED);
    if (r == UMF_RESULT_SUCCESS)
        r = umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, out);
    umfFileMemoryProviderParamsDestroy(p);
    return r;
}

static umf_result_t fixed_inner(const mk_provider_cfg_t *cfg, umf_memory_provider_handle_t *out) {
    umf_fixed_memory_provider_params_handle_t p;
    umf_result_t r = umfFixedMemoryProviderParamsCreate(&p, cfg->addr, cfg->size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    r = umfMemoryProviderCreate(umfFixedMemoryProviderOps(), p, out);
    umfFixedMemoryProviderParamsDestroy(p);
    return r;
}

umf_result_t mk_provider_create(const mk_provider_cfg_t *cfg, umf_memory_provider_handle_t *out) {
    umf_memory_provider_handle_t inner = NULL;
    umf_result_t r;
    switch (cfg->src) {
        case MK_SRC_OS: r = os_inner(cfg, &inner); break;
        case MK_SRC_FILE: r = file_inner(cfg, &inner); break;
        case MK_SRC_FIXED: r = fixed_inner(cfg, &inner); break;
        case MK_SRC_KIND_OPS:
            r = umfMemoryProviderCreate(mk_kindops_provider_ops(), (void *)cfg, &inner);
            break;
        default: r = UMF_RESULT_ERROR_INVALID_ARGUMENT; break;
    }
    if (r != UMF_RESULT_SUCCESS) {
        LOG_INFO("creating the kind's provider (source %d) failed: %s", (int)cfg->src,
                 log_umf_result(r));
        return r;
    }
    guard_params_t gp = {.inner = inner, .cfg = cfg};
    r = umfMemoryProviderCreate(&guard_ops, &gp, out);
    if (r != UMF_RESULT_SUCCESS)
        umfMemoryProviderDestroy(inner);
    return r;
}
