// SPDX-License-Identifier: MIT
// The proxy pool: each allocation is one provider allocation. As the UMF
// documentation states, calloc, realloc and usable size are not supported
// (NULL with UMF_RESULT_ERROR_NOT_SUPPORTED, and 0).
//
// The pool keeps its own table of live allocations (start -> size, open
// addressing; each allocation is a provider call anyway). One lock
// (LOCK_RANK_POOL_PROXY, below meta_alloc's: see table_add) serves every
// proxy pool's table; fork's registry walk takes it like any other. So
// a free passes the provider the right size, tracked or not, and a free of
// a pointer that is not the start of a live allocation of this pool - a
// foreign pointer, an interior one, one already freed - is refused with
// UMF_RESULT_ERROR_INVALID_ARGUMENT and a log line; the provider never
// sees it.
#include <errno.h>

#include <umf/pools/pool_proxy.h>

#include "base/lock.h"
#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "pools/pool.h"

typedef struct proxy_block_t {
    uintptr_t start; // EMPTY or GONE when the slot holds none
    size_t size;
} proxy_block_t;

typedef struct proxy_t {
    umf_memory_provider_handle_t provider;
    proxy_block_t *table;   // protected by: table_lock; capacity a power of two,
    size_t cap, used, live; // at most half full counting tombstones
} proxy_t;

LOCK_STATIC(table_lock, LOCK_RANK_POOL_PROXY);

#define EMPTY ((uintptr_t)0)
#define GONE ((uintptr_t)1) // provider allocations are never at address 1

static size_t slot_of(uintptr_t key, size_t cap) {
    return (size_t)((key >> 4) * 0x9e3779b97f4a7c15ull >> 20) & (cap - 1);
}

// protected by: table_lock
static bool table_grow(proxy_t *p) {
    size_t cap = p->cap ? 2 * p->cap : 64;
    if (p->live * 4 < p->cap) // mostly tombstones: rehash at the same size
        cap = p->cap;
    proxy_block_t *t = meta_alloc(cap * sizeof *t); // zeroed: all EMPTY
    if (!t)
        return false;
    for (size_t i = 0; i < p->cap; i++) {
        uintptr_t k = p->table[i].start;
        if (k == EMPTY || k == GONE)
            continue;
        size_t j = slot_of(k, cap);
        while (t[j].start != EMPTY)
            j = (j + 1) & (cap - 1);
        t[j] = p->table[i];
    }
    if (p->cap)
        meta_free(p->table, p->cap * sizeof *p->table);
    p->table = t;
    p->cap = cap;
    p->used = p->live;
    return true;
}

static bool table_add(proxy_t *p, void *ptr, size_t size) {
    uintptr_t k = (uintptr_t)ptr;
    bool ok = true;
    lock_acquire(&table_lock);
    if ((p->used + 1) * 2 > p->cap && !table_grow(p)) {
        ok = false;
    } else {
        size_t j = slot_of(k, p->cap);
        while (p->table[j].start != EMPTY && p->table[j].start != GONE)
            j = (j + 1) & (p->cap - 1);
        if (p->table[j].start == EMPTY)
            p->used++;
        p->table[j] = (proxy_block_t){k, size};
        p->live++;
    }
    lock_release(&table_lock);
    return ok;
}

// Removes the block that starts at ptr; its size in *size. False if none.
static bool table_take(proxy_t *p, const void *ptr, size_t *size) {
    uintptr_t k = (uintptr_t)ptr;
    bool found = false;
    lock_acquire(&table_lock);
    if (p->cap && k != EMPTY && k != GONE) {
        for (size_t j = slot_of(k, p->cap); p->table[j].start != EMPTY;
             j = (j + 1) & (p->cap - 1)) {
            if (p->table[j].start == k) {
                *size = p->table[j].size;
                p->table[j].start = GONE;
                p->live--;
                found = true;
                break;
            }
        }
    }
    lock_release(&table_lock);
    return found;
}

static __thread umf_result_t proxy_last_error;

static umf_result_t proxy_initialize(umf_memory_provider_handle_t provider, void *params,
                                     void **out) {
    (void)params;
    proxy_t *p = meta_alloc(sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->provider = provider;
    *out = p;
    return UMF_RESULT_SUCCESS;
}

// Live blocks left at destroy: with tracking, the pool glue gives them back
// (pool.c, release_leftovers); untracked, they are the user's leak.
static void proxy_finalize(void *pool) {
    proxy_t *p = pool;
    if (p->cap)
        meta_free(p->table, p->cap * sizeof *p->table);
    meta_free(p, sizeof *p);
}

static void *proxy_aligned_malloc(void *pool, size_t size, size_t alignment) {
    proxy_t *p = pool;
    void *ptr = NULL;
    int saved_errno = errno;
    size = size ? size : 1;
    if (alignment & (alignment - 1)) { // the glue passes every alignment (UMF's rule)
        LOG_ERR("alignment %zu is not a power of two", alignment);
        proxy_last_error = UMF_RESULT_ERROR_INVALID_ALIGNMENT;
        return NULL;
    }
    umf_result_t r = umfMemoryProviderAlloc(p->provider, size, alignment, &ptr);
    if (r != UMF_RESULT_SUCCESS || !ptr) {
        proxy_last_error = r != UMF_RESULT_SUCCESS ? r : UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    if (!table_add(p, ptr, size)) {
        umfMemoryProviderFree(p->provider, ptr, size);
        proxy_last_error = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    errno = saved_errno;
    return ptr;
}

static void *proxy_malloc(void *pool, size_t size) { return proxy_aligned_malloc(pool, size, 0); }

static void *proxy_calloc(void *pool, size_t num, size_t size) {
    (void)pool, (void)num, (void)size;
    proxy_last_error = UMF_RESULT_ERROR_NOT_SUPPORTED;
    return NULL;
}

static void *proxy_realloc(void *pool, void *ptr, size_t size) {
    (void)pool, (void)ptr, (void)size;
    proxy_last_error = UMF_RESULT_ERROR_NOT_SUPPORTED;
    return NULL;
}

static size_t proxy_malloc_usable_size(void *pool, void *ptr) {
    (void)pool, (void)ptr;
    return 0;
}

static umf_result_t proxy_free(void *pool, void *ptr) {
    proxy_t *p = pool;
    size_t size;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    if (!table_take(p, ptr, &size)) {
        LOG_ERR("free of %p: not a live allocation of this proxy pool (foreign, interior or "
                "already freed)",
                ptr);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    int saved_errno = errno;
    umf_result_t r = umfMemoryProviderFree(p->provider, ptr, size);
    if (r != UMF_RESULT_SUCCESS)
        table_add(p, ptr, size); // still allocated (a failure here only forgets it)
    else
        errno = saved_errno;
    return r;
}

static umf_result_t proxy_last_allocation_error(void *pool) {
    (void)pool;
    return proxy_last_error;
}

static umf_memory_pool_ops_t proxy_ops = POOL_OPS_TABLE(proxy, proxy_last_allocation_error);

POOL_OPS_DECLARE(proxy_ops, POOL_CAP_CHECKS_POINTERS, NULL) // its live table checks pointers
HETMEM_EXPORT umf_memory_pool_ops_t *umfProxyPoolOps(void) { return &proxy_ops; }
