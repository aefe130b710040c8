// SPDX-License-Identifier: MIT
// Heaps (a kind's pools, one per locality domain, created on first use)
// and the operations of our kinds (mk_op_*). A block is freed by its
// address: the pool's tag is its kind (docs/memkind.md, "Design").
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_fixed_memory.h>

#include "base/lock.h"
#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"
#include "heap/heap.h"
#include "os/meta.h"
#include "os/os.h"
#include "pools/pool.h"
#include "topology/topo.h"

// ---- heaps ----------------------------------------------------------------------

// Every heap, for statistics and the background purge. protected by: heaps_lock
LOCK_STATIC(heaps_lock, LOCK_RANK_MK_HEAPS);
static mk_heap_t *heaps;

static inline mk_heap_t *load_heap(struct memkind *kind) {
    return (mk_heap_t *)__atomic_load_n(MK_HEAP_SLOT(kind), __ATOMIC_ACQUIRE);
}

mk_heap_t *mk_heap_peek(struct memkind *kind) { return kind ? load_heap(kind) : NULL; }

mk_heap_t *mk_heap_new(struct memkind *kind, mk_type_t type) {
    mk_heap_t *h = meta_alloc(sizeof *h);
    if (!h)
        return NULL;
    h->kind = kind;
    h->type = type;
    h->fd = -1;
    h->nslots = 1;
    h->slots = &h->slot0;
    h->slot_cap = 1;
    lock_init(&h->lock, LOCK_RANK_MK_POOL, "mk_heap.lock");
    for (unsigned i = 0; i < NODESET_MAX; i++)
        h->slot_of_node[i] = -1;
    return h;
}

void mk_heap_free(mk_heap_t *h) {
    lock_fini(&h->lock);
    if (h->slots != &h->slot0)
        meta_free(h->slots, h->slot_cap * sizeof *h->slots);
    meta_free(h, sizeof *h);
}

bool mk_heap_install(struct memkind *kind, mk_heap_t *h) {
    lock_acquire(&heaps_lock);
    void *exp = NULL;
    bool ok = __atomic_compare_exchange_n(MK_HEAP_SLOT(kind), &exp, (void *)h, false,
                                          __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    if (ok) {
        h->next = heaps;
        heaps = h;
    }
    lock_release(&heaps_lock);
    return ok;
}

mk_heap_t *mk_heap_get(struct memkind *kind) {
    mk_heap_t *h = load_heap(kind);
    if (likely(h))
        return h;
    if (mk_kind_is_static(kind)) {
        h = mk_static_heap_build(kind);
    } else {
        // A user kind whose operations call ours without having created a
        // heap (memkind_arena_create_map): a heap over kind_mmap.
        h = mk_heap_new(kind, MK_TYPE_ARENA);
        if (h)
            h->status = mk_env_status();
    }
    if (h && !mk_heap_install(kind, h))
        mk_heap_free(h); // another thread installed one first
    return load_heap(kind);
}

void mk_heap_destroy(struct memkind *kind) {
    lock_acquire(&heaps_lock);
    mk_heap_t *h = load_heap(kind);
    if (!h) {
        lock_release(&heaps_lock);
        return;
    }
    for (mk_heap_t **pp = &heaps; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            break;
        }
    }
    __atomic_store_n(MK_HEAP_SLOT(kind), NULL, __ATOMIC_RELEASE);
    lock_release(&heaps_lock);
    for (unsigned i = 0; i < h->nslots; i++) {
        umf_memory_pool_handle_t p = atomic_exchange(&h->slots[i].pool, NULL);
        if (p)
            umfPoolDestroy(p);
    }
    if (h->fd >= 0)
        os_file_close(h->fd); // a pmem kind's temporary file: its space goes back now
    mk_heap_free(h);
}

void mk_heaps_for_each(void (*fn)(mk_heap_t *h, void *arg), void *arg) {
    lock_acquire(&heaps_lock);
    for (mk_heap_t *h = heaps; h; h = h->next)
        fn(h, arg);
    lock_release(&heaps_lock);
}

// Reserve kept free on bound nodes (pool_guard_t.reserve): above the
// kernel's "high" watermark, so that the OOM killer stays away (1/16 of the
// nodes' capacity, at most 64 MiB, plus 8 MiB; docs/memkind.md, "ENOMEM
// instead of the OOM killer"; watermarks from topology: TODO(#8)).
static size_t bound_reserve(const nodeset_t *nodes) {
    uint64_t cap = memspace_nodes_capacity(nodes) / 16;
    return ((size_t)8 << 20) + (size_t)(cap > ((uint64_t)64 << 20) ? (uint64_t)64 << 20 : cap);
}

// A pmem kind's file provider (shared: purging punches holes, which gives
// file space back) or a fixed kind's provider over the caller's buffer.
static umf_result_t file_or_fixed_provider(const mk_heap_t *h, umf_memory_provider_handle_t *out) {
    umf_file_memory_provider_params_handle_t file = NULL;
    umf_fixed_memory_provider_params_handle_t fixed = NULL;
    umf_result_t r = h->type == MK_TYPE_PMEM
                         ? umfFileMemoryProviderParamsCreate(&file, h->path)
                         : umfFixedMemoryProviderParamsCreate(&fixed, h->fixed_addr, h->fixed_size);
    if (r == UMF_RESULT_SUCCESS && file)
        r = umfFileMemoryProviderParamsSetVisibility(file, UMF_MEM_MAP_SHARED);
    if (r == UMF_RESULT_SUCCESS)
        r = file ? umfMemoryProviderCreate(umfFileMemoryProviderOps(), file, out)
                 : umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fixed, out);
    if (file)
        umfFileMemoryProviderParamsDestroy(file);
    if (fixed)
        umfFixedMemoryProviderParamsDestroy(fixed);
    return r;
}

// The provider and pool configuration of a heap's slot. The pool guard
// keeps memkind's promises beyond UMF's (docs/memkind.md): ENOMEM instead of
// the OOM killer for bound kinds, pmem's max_size, THP off for interleave.
static umf_result_t slot_provider(const mk_heap_t *h, const mk_slot_t *s, mk_pool_cfg_t *cfg,
                                  pool_guard_t *guard, umf_memory_provider_handle_t *out) {
    *cfg = (mk_pool_cfg_t){0};
    *guard = (pool_guard_t){0};
    switch (h->type) {
        case MK_TYPE_STATIC: {
            memspace_bind_t b = {.mode = h->desc->mode,
                                 .huge_page = h->desc->hugetlb ? MK_HUGE_2M : 0};
            guard->nohugepage = h->desc->mode == UMF_NUMA_MODE_INTERLEAVE;
            if (h->desc->mode == UMF_NUMA_MODE_BIND && !h->desc->hugetlb) {
                guard->nodes = s->nodes;
                guard->reserve = bound_reserve(&s->nodes);
            }
            return memspace_os_provider_create_set(&s->nodes, &b, out);
        }
        case MK_TYPE_PMEM: guard->limit = h->limit; return file_or_fixed_provider(h, out);
        case MK_TYPE_FIXED:
            cfg->keep_all = true; // never purge (madvise) the caller's buffer
            cfg->granularity =
                h->fixed_size >= ((size_t)4 << 20) ? (size_t)256 << 10 : (size_t)64 << 10;
            return file_or_fixed_provider(h, out);
        case MK_TYPE_ARENA: return mk_kindops_provider_create(h->kind, h->hooks, out);
    }
    return UMF_RESULT_ERROR_INVALID_ARGUMENT;
}

// Creates a slot's pool (first use). Returns the pool or NULL with *err.
static umf_memory_pool_handle_t slot_create(mk_heap_t *h, mk_slot_t *s, int *err) {
    bool start_bg = false;
    lock_acquire(&h->lock);
    umf_memory_pool_handle_t pool = mk_slot_pool(s);
    if (!pool) {
        mk_pool_cfg_t cfg;
        pool_guard_t guard;
        umf_memory_provider_handle_t prov;
        umf_result_t r = slot_provider(h, s, &cfg, &guard, &prov);
        if (r == UMF_RESULT_SUCCESS)
            r = mk_pool_create(&cfg, &guard, prov, h->kind, &pool);
        if (r == UMF_RESULT_SUCCESS) {
            atomic_store_explicit(&s->pool, pool, memory_order_release);
            LOG_INFO("kind %s: pool created (%s)", h->kind->name, mk_pool_manager_name());
            start_bg = mk_env()->bg_thread_limit >= 0; // MEMKIND_BACKGROUND_THREAD_LIMIT
        } else {
            pool = NULL;
            *err = mk_error_from_umf(r);
            if (h->type == MK_TYPE_STATIC && h->desc->hugetlb &&
                *err == MEMKIND_ERROR_UNAVAILABLE)
                *err = MEMKIND_ERROR_HUGETLB;
            LOG_INFO("kind %s: creating its pool failed: %s (%s)", h->kind->name,
                     mk_error_name(*err), log_umf_result(r));
        }
    }
    lock_release(&h->lock);
    // After the heap's lock: the background thread's locks rank before it.
    if (start_bg)
        mk_bg_threads_set(true);
    return pool;
}

mk_slot_t *mk_heap_slot(mk_heap_t *h) {
    if (likely(!h->local))
        return &h->slots[0];
    int i = h->slot_of_node[topo_current_node() % NODESET_MAX];
    return &h->slots[i >= 0 ? i : 0];
}

umf_memory_pool_handle_t mk_heap_pool(mk_heap_t *h, int *err) {
    mk_slot_t *s = mk_heap_slot(h);
    umf_memory_pool_handle_t pool = mk_slot_pool(s);
    if (likely(pool))
        return pool;
    *err = h->status != MEMKIND_SUCCESS ? h->status : s->status;
    return *err == MEMKIND_SUCCESS ? slot_create(h, s, err) : NULL;
}

int mk_heap_check(struct memkind *kind) {
    mk_heap_t *h = mk_heap_get(kind);
    if (!h)
        return MEMKIND_ERROR_MALLOC;
    int err = h->status != MEMKIND_SUCCESS ? h->status : mk_heap_slot(h)->status;
    return h->type == MK_TYPE_STATIC ? mk_abi_code(h->desc, err) : err;
}

static struct memkind *kind_of_pool(umf_memory_pool_handle_t p, umf_memory_pool_handle_t *pool) {
    void *tag = NULL;
    if (p && mk_pool_is_ours(p)) // another pool's tag is not a kind
        umfPoolGetTag(p, &tag);
    if (pool)
        *pool = tag ? p : NULL;
    return tag;
}

struct memkind *mk_kind_of(const void *ptr, umf_memory_pool_handle_t *pool) {
    return kind_of_pool(ptr ? umfPoolByPtr(ptr) : NULL, pool);
}

struct memkind *mk_kind_of_hinted(const void *ptr, struct memkind *hint,
                                  umf_memory_pool_handle_t *pool) {
    umf_memory_pool_handle_t p = umfPoolByPtr(ptr);
    mk_heap_t *h = load_heap(hint);
    // One of the hint's own pools (slots are fixed once the heap is
    // installed): its tag is the hint, no need to ask the pool.
    if (likely(p && h))
        for (unsigned i = 0; i < h->nslots; i++)
            if (mk_slot_pool(&h->slots[i]) == p) {
                *pool = p;
                return hint;
            }
    return kind_of_pool(p, pool);
}

// ---- the operations of our kinds (and of memkind_arena_*) -----------------------

// The pool to allocate from, or NULL with errno set.
static inline umf_memory_pool_handle_t pool_for(struct memkind *kind) {
    mk_heap_t *h = mk_heap_get(kind);
    int err = MEMKIND_ERROR_MALLOC;
    umf_memory_pool_handle_t pool = h ? mk_heap_pool(h, &err) : NULL;
    if (unlikely(!pool)) {
        LOG_INFO("kind %s cannot allocate: %s", kind->name, mk_error_name(err));
        errno = ENOMEM;
    }
    return pool;
}

// memkind's size classes (jemalloc's): up to 16 KiB the engine's classes are
// the same sizes; above, four classes per doubling (5 MiB + 1 -> 6 MiB), so
// usable sizes and the memory reserved follow memkind 1.14 (docs/memkind.md,
// "Differences from memkind 1.14"). A size that would overflow is kept.
static inline size_t mk_size_class(size_t size) {
    if (likely(size <= ((size_t)16 << 10)))
        return size;
    size_t delta = (size_t)1 << (61 - __builtin_clzll(size - 1)); // 2^(floor(log2(size-1)) - 2)
    size_t r = (size + delta - 1) & ~(delta - 1);
    return r >= size ? r : size;
}

static inline void *failed(umf_memory_pool_handle_t pool) {
    errno = mk_errno_from_umf(umfPoolGetLastAllocationError(pool)); // ENOMEM or EINVAL
    return NULL;
}

void *mk_op_malloc(struct memkind *kind, size_t size) {
    if (unlikely(size == 0) && !mk_allow_zero(kind))
        return NULL;
    umf_memory_pool_handle_t pool = pool_for(kind);
    if (unlikely(!pool))
        return NULL;
    void *p = umfPoolMalloc(pool, size ? mk_size_class(size) : 1);
    return likely(p) ? p : failed(pool);
}

void *mk_op_calloc(struct memkind *kind, size_t num, size_t size) {
    size_t total;
    if (!mul_checked(num, size, &total)) {
        LOG_ERR("calloc(%zu, %zu) on kind %s: the size overflows", num, size, kind->name);
        errno = ENOMEM;
        return NULL;
    }
    if (unlikely(total == 0)) {
        if (!mk_allow_zero(kind))
            return NULL;
        num = size = 1;
    }
    umf_memory_pool_handle_t pool = pool_for(kind);
    if (unlikely(!pool))
        return NULL;
    void *p = total > ((size_t)16 << 10) ? umfPoolCalloc(pool, 1, mk_size_class(total))
                                          : umfPoolCalloc(pool, num, size);
    return likely(p) ? p : failed(pool);
}

int mk_op_posix_memalign(struct memkind *kind, void **memptr, size_t alignment, size_t size) {
    int saved = errno;
    int err = 0;
    if (!memptr || !mk_alignment_ok(alignment)) {
        err = EINVAL;
    } else if (size == 0 && !mk_allow_zero(kind)) {
        *memptr = NULL;
    } else {
        umf_memory_pool_handle_t pool = pool_for(kind);
        void *p = pool ? umfPoolAlignedMalloc(pool, size ? mk_size_class(size) : 1, alignment)
                       : NULL;
        if (p)
            *memptr = p;
        else
            err = ENOMEM;
    }
    errno = saved;
    return err;
}

// What follows a free: the CONSERVATIVE policy purges the pool.
static void after_free(umf_memory_pool_handle_t pool, struct memkind *kind) {
    mk_heap_t *h = load_heap(kind);
    if (h && __atomic_load_n(&h->policy, __ATOMIC_RELAXED) == MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE)
        mk_pool_purge(pool); // minimize memory usage at all costs
}

// Frees ptr into its pool; a refusal (the pool logs it too) is logged
// under fn and ignored. Returns the pool's answer.
umf_result_t mk_pool_free_logged(umf_memory_pool_handle_t pool, struct memkind *owner, void *ptr,
                                 const char *fn) {
    umf_result_t r = umfPoolFree(pool, ptr);
    if (unlikely(r != UMF_RESULT_SUCCESS)) {
        if (log_level() >= LOG_LEVEL_ERROR)
            log_write(LOG_LEVEL_ERROR, fn,
                      "%p: kind %s refused the free (%s: freed already or not the start of a "
                      "block); ignored",
                      ptr, owner->name, log_umf_result(r));
        return r;
    }
    after_free(pool, owner);
    return r;
}

__attribute__((cold, noinline)) void mk_log_not_ours(const char *fn, const void *ptr) {
    if (log_level() >= LOG_LEVEL_ERROR)
        log_write(LOG_LEVEL_ERROR, fn, "%p is not memory of a memkind kind; ignored", ptr);
}

void mk_op_free(struct memkind *kind, void *ptr) {
    (void)kind; // the block's own pool frees it, whatever kind was given
    if (!ptr)
        return;
    umf_memory_pool_handle_t pool;
    struct memkind *owner = mk_kind_of(ptr, &pool);
    if (unlikely(!owner)) {
        mk_log_not_ours("memkind_free", ptr);
        return;
    }
    (void)mk_pool_free_logged(pool, owner, ptr, "memkind_free");
}

void *mk_op_realloc(struct memkind *kind, void *ptr, size_t size) {
    if (!ptr)
        return mk_op_malloc(kind, size);
    if (size == 0) {
        mk_op_free(kind, ptr);
        return NULL;
    }
    umf_memory_pool_handle_t old_pool;
    struct memkind *owner = mk_kind_of(ptr, &old_pool);
    if (unlikely(!owner)) {
        mk_log_not_ours("memkind_realloc", ptr);
        errno = EINVAL;
        return NULL;
    }
    if (owner == kind) { // in place when the pool can (any of the kind's pools)
        void *p = umfPoolRealloc(old_pool, ptr, mk_size_class(size));
        return p ? p : failed(old_pool);
    }
    // Into another kind: allocate there, copy, free here. A pointer that is
    // not a block start (usable size 0) is refused before anything moves;
    // one the pool refuses to free (freed already) gives the copy back.
    size_t old = umfPoolMallocUsableSize(old_pool, ptr);
    if (unlikely(old == 0)) {
        LOG_ERR("memkind_realloc: %p is not a live block of kind %s; refused", ptr, owner->name);
        errno = EINVAL;
        return NULL;
    }
    void *p = mk_op_malloc(kind, size);
    if (!p)
        return NULL;
    memcpy(p, ptr, old < size ? old : size);
    if (unlikely(mk_pool_free_logged(old_pool, owner, ptr, "memkind_realloc") != UMF_RESULT_SUCCESS)) {
        mk_op_free(kind, p);
        errno = EINVAL;
        return NULL;
    }
    return p;
}

size_t mk_op_usable_size(struct memkind *kind, void *ptr) {
    (void)kind;
    umf_memory_pool_handle_t pool;
    if (!ptr || !mk_kind_of(ptr, &pool))
        return 0;
    return umfPoolMallocUsableSize(pool, ptr);
}

void *mk_op_defrag(struct memkind *kind, void *ptr) {
    (void)kind;
    umf_memory_pool_handle_t pool;
    heap_t *e = ptr && mk_kind_of(ptr, &pool) ? pool_engine_heap(pool) : NULL;
    if (!e || !heap_defrag_hint(e, ptr))
        return NULL;
    size_t size = umfPoolMallocUsableSize(pool, ptr);
    if (size == 0)
        return NULL; // not a block start
    void *p = umfPoolMalloc(pool, size);
    if (!p)
        return NULL;
    memcpy(p, ptr, size);
    if (umfPoolFree(pool, ptr) != UMF_RESULT_SUCCESS) { // freed already: keep nothing new
        umfPoolFree(pool, p);
        return NULL;
    }
    return p;
}

int mk_op_update_policy(struct memkind *kind, memkind_mem_usage_policy policy) {
    if ((unsigned)policy >= MEMKIND_MEM_USAGE_POLICY_MAX_VALUE)
        return MEMKIND_ERROR_INVALID;
    mk_heap_t *h = mk_heap_get(kind);
    if (!h)
        return MEMKIND_ERROR_MALLOC;
    __atomic_store_n(&h->policy, policy, __ATOMIC_RELAXED); // read by every free
    return MEMKIND_SUCCESS;
}
