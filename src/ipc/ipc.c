// SPDX-License-Identifier: MIT
// Making and releasing IPC handles (umfPoolGetIPCHandleSize, umfGetIPCHandle,
// umfPutIPCHandle, umfPoolGetIPCHandler): the sender's side. A handle
// describes the allocation that holds the pointer - the range the pool got
// from its provider, as the address map (src/tracker) knows it - and the
// pointer's offset in it; the provider fills its part (ours: ipc_backing.c).
//
// Handles made here are remembered until they are put, so that a put of
// anything else (a handle received from another process, a stray pointer)
// is refused without reading memory that is not a handle.
//
// The provider's part is cached per provider range, as UMF does (the
// export cache): the first handle of a range asks the provider, later ones
// copy, and umfPutIPCHandle only releases the handle. The provider's put
// runs when the range goes back to the provider, is split or merged
// (pool_ipc_hooks_t.range_freed, from the tracking provider), or its pool
// is destroyed.
//
// Every handle carries a liveness record of its allocation (owner: the
// pool that owns the pointer, umfPoolByPtr; range: the pointer). The pool
// layer ends it when the allocation is freed or reallocated, or the pool
// destroyed (pool_ipc_hooks_t, installed below), so that a handle of
// memory that is gone is refused by any opener, although the pool may keep the memory (a disjoint
// or jemalloc pool does). Handlers (umfPoolGetIPCHandler) are remembered
// by pointer until their pool is destroyed.
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "base/lock.h"
#include "base/log.h"
#include "base/util.h"
#include "ipc/ipc_priv.h"
#include "os/meta.h"
#include "os/os.h"
#include "pools/pool.h"
#include "providers/provider.h"
#include "ipc/ipc_backing.h"
#include "tracker/tracker.h"

// One handle made by umfGetIPCHandle and not yet put.
typedef struct sent_t {
    struct sent_t *next;
    struct umf_ipc_data_t *handle;          // meta block of `total` bytes
    size_t total;
    umf_memory_provider_handle_t provider;  // whose put_ipc_handle releases it
} sent_t;

LOCK_STATIC(sent_lock, LOCK_RANK_IPC_SENT)
static sent_t *sent; // protected by: sent_lock

// The export cache: one provider part per provider range.
typedef struct exported_t {
    struct exported_t *next;
    umf_memory_provider_handle_t provider;
    umf_memory_pool_handle_t pool; // whose range (the address map's owner)
    uintptr_t start;
    size_t size, part;
    unsigned char data[]; // the provider's get_ipc_handle output
} exported_t;
static exported_t *exported;        // protected by: sent_lock
static _Atomic size_t exported_n;   // entries (read without the lock: a skip test)

// Copies the cached part of [start, start + size) of provider into out:
// true on a hit.
static bool export_cached(umf_memory_provider_handle_t provider, uintptr_t start, size_t size,
                          void *out, size_t part) {
    bool hit = false;
    lock_acquire(&sent_lock);
    for (exported_t *x = exported; x && !hit; x = x->next) {
        if (x->provider == provider && x->start == start && x->size == size && x->part == part) {
            memcpy(out, x->data, part);
            hit = true;
        }
    }
    lock_release(&sent_lock);
    return hit;
}

// Caches a part the provider just made. Without memory the part is given
// back at once after use (put_now).
static bool export_keep(umf_memory_provider_handle_t provider, umf_memory_pool_handle_t pool,
                        uintptr_t start, size_t size, const void *data, size_t part) {
    exported_t *x = meta_alloc(sizeof *x + part);
    if (!x)
        return false;
    *x = (exported_t){.provider = provider, .pool = pool, .start = start, .size = size, .part = part};
    memcpy(x->data, data, part);
    lock_acquire(&sent_lock);
    x->next = exported;
    exported = x;
    atomic_fetch_add_explicit(&exported_n, 1, memory_order_relaxed);
    lock_release(&sent_lock);
    return true;
}

// Releases (provider put, outside the lock) the cached parts that match:
// a provider's range overlapping [start, start + size), or all of a pool's.
static void export_drop(umf_memory_provider_handle_t provider, umf_memory_pool_handle_t pool,
                        uintptr_t start, size_t size) {
    if (!atomic_load_explicit(&exported_n, memory_order_relaxed))
        return;
    exported_t *gone = NULL;
    lock_acquire(&sent_lock);
    for (exported_t **pp = &exported; *pp;) {
        exported_t *x = *pp;
        bool match = pool ? x->pool == pool
                          : x->provider == provider && x->start < start + size &&
                                start < x->start + x->size;
        if (match) {
            *pp = x->next;
            x->next = gone;
            gone = x;
            atomic_fetch_sub_explicit(&exported_n, 1, memory_order_relaxed);
        } else {
            pp = &x->next;
        }
    }
    lock_release(&sent_lock);
    while (gone) {
        exported_t *x = gone;
        gone = x->next;
        (void)umfMemoryProviderPutIPCHandle(x->provider, x->data);
        meta_free(x, sizeof *x + x->part);
    }
}

static void range_freed(umf_memory_provider_handle_t provider, uintptr_t start, size_t size) {
    export_drop(provider, NULL, start, size);
}

// Handlers given out (pool pointers), under handlers_lock.
LOCK_STATIC(handlers_lock, LOCK_RANK_IPC_HANDLERS)
static umf_memory_pool_handle_t *handlers; // protected by: handlers_lock
static size_t handlers_n, handlers_cap;    // protected by: handlers_lock

static uint64_t fnv64(uint64_t x, const void *p, size_t n, size_t skip_at, size_t skip_len) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        x = (x ^ (i - skip_at < skip_len ? 0 : c[i])) * UINT64_C(0x100000001b3);
    return x;
}
#define FNV64_INIT UINT64_C(0xcbf29ce484222325)

// Byte by byte over the whole handle; the checksum field's own bytes count
// as zeros, so that the same function makes and checks it.
uint64_t ipc_checksum(const struct umf_ipc_data_t *h, size_t total) {
    return fnv64(FNV64_INIT, h, total, offsetof(struct umf_ipc_data_t, checksum),
                 sizeof h->checksum);
}

uint32_t ipc_header_check(const struct umf_ipc_data_t *h) {
    const unsigned char *p = (const unsigned char *)h;
    uint32_t x = 0x811c9dc5u;
    for (size_t i = 0; i < offsetof(struct umf_ipc_data_t, header_check); i++)
        x = (x ^ p[i]) * 0x01000193u;
    return x;
}

uint64_t ipc_provider_id(const char *name) {
    return fnv64(FNV64_INIT, name, strlen(name), 0, 0);
}

uint64_t ipc_live_digest(const struct umf_ipc_data_t *h) {
    uint64_t v[6] = {(uint64_t)(uint32_t)h->pid, h->base, h->base_size, h->offset,
                     h->provider_id, h->provider_data_size};
    return fnv64(FNV64_INIT ^ 0x1ull, v, sizeof v, 0, 0);
}

// A fork child has no records of its own (its export table starts empty):
// its frees need not look.
static void child_reset(void) { atomic_store_explicit(&pool_ipc_records, 0, memory_order_relaxed); }
static void register_atfork(void) { (void)pthread_atfork(NULL, NULL, child_reset); }
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void alloc_freed(umf_memory_pool_handle_t pool, void *ptr) {
    if (!ptr)
        return;
    umf_memory_pool_handle_t owner = umfPoolByPtr(ptr);
    if (!owner)
        return;
    // Pools over the heap engine tell the block's size safely for any
    // pointer (0 when ptr is not a block start): handles of pointers inside
    // the block end too. Other pools: handles of ptr itself (a handle of an
    // interior pointer ends when its provider range goes back).
    size_t len = 1;
    if (pool == owner && pool->engine) {
        size_t usable = pool->ops.malloc_usable_size(pool->priv, ptr);
        if (usable > len)
            len = usable;
    }
    size_t n = ipc_live_end(owner, (uintptr_t)ptr, len);
    if (n)
        atomic_fetch_sub_explicit(&pool_ipc_records, n, memory_order_relaxed);
}

static void pool_destroyed(umf_memory_pool_handle_t pool) {
    export_drop(NULL, pool, 0, 0);
    ipc_open_pool_destroyed(pool);
    if (atomic_load_explicit(&pool_ipc_records, memory_order_relaxed)) {
        size_t n = ipc_live_end(pool, 0, SIZE_MAX);
        if (n)
            atomic_fetch_sub_explicit(&pool_ipc_records, n, memory_order_relaxed);
    }
    lock_acquire(&handlers_lock);
    for (size_t i = 0; i < handlers_n; i++) {
        if (handlers[i] == pool) {
            handlers[i] = handlers[--handlers_n];
            break;
        }
    }
    lock_release(&handlers_lock);
}

// The pool layer calls these through its hooks (pools never call up). They
// are in place before main, so before any record exists.
static const pool_ipc_hooks_t pool_hooks = {alloc_freed, pool_destroyed, range_freed};
__attribute__((constructor)) static void install_pool_hooks(void) {
    pool_ipc_set_hooks(&pool_hooks);
}

bool ipc_handler_known(umf_ipc_handler_handle_t handler) {
    bool found = false;
    lock_acquire(&handlers_lock);
    for (size_t i = 0; i < handlers_n && !found; i++)
        found = (void *)handlers[i] == (void *)handler;
    lock_release(&handlers_lock);
    return found;
}

static umf_result_t handler_add(umf_memory_pool_handle_t pool) {
    umf_result_t r = UMF_RESULT_SUCCESS;
    lock_acquire(&handlers_lock);
    for (size_t i = 0; i < handlers_n; i++)
        if (handlers[i] == pool)
            goto out;
    if (handlers_n == handlers_cap) {
        size_t cap = handlers_cap ? handlers_cap * 2 : 16;
        umf_memory_pool_handle_t *v = meta_alloc(cap * sizeof *v);
        if (!v) {
            r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
            goto out;
        }
        if (handlers_n)
            memcpy(v, handlers, handlers_n * sizeof *v);
        meta_free(handlers, handlers_cap * sizeof *v);
        handlers = v;
        handlers_cap = cap;
    }
    handlers[handlers_n++] = pool;
out:
    lock_release(&handlers_lock);
    return r;
}

// A live pool and a non-NULL output (one log line otherwise).
static bool pool_args_ok(umf_memory_pool_handle_t pool, const void *out, const char *out_name,
                         const char *fn) {
    if (!pool || !out) {
        LOG_ERR("NULL %s", !pool ? "hPool" : out_name);
        return false;
    }
    return pool_handle_check(pool, fn);
}

// The provider part's size, refused when it would make a handle too large
// to be accepted by an opener.
static umf_result_t provider_part(umf_memory_provider_handle_t provider, size_t *size) {
    umf_result_t r = umfMemoryProviderGetIPCHandleSize(provider, size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    if (*size > IPC_PROVIDER_DATA_MAX) {
        LOG_ERR("the provider's IPC data (%zu bytes) is larger than %u", *size,
                IPC_PROVIDER_DATA_MAX);
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    return UMF_RESULT_SUCCESS;
}

// The header plus the provider's part: what umfGetIPCHandle gives for any
// allocation of the pool, and the buffer a receiver should have.
HETMEM_EXPORT umf_result_t umfPoolGetIPCHandleSize(umf_memory_pool_handle_t hPool,
                                                   size_t *size) {
    if (!pool_args_ok(hPool, size, "size", __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    size_t part;
    umf_result_t r = provider_part(hPool->provider, &part);
    if (r == UMF_RESULT_SUCCESS)
        *size = sizeof(struct umf_ipc_data_t) + part;
    return r;
}

// Steps: find the allocation in the address map, ask its provider for its
// part (ours register the export: ipc_backing.c), fill the header, seal
// it with the checksum, remember the handle for umfPutIPCHandle.
HETMEM_EXPORT umf_result_t umfGetIPCHandle(const void *ptr, umf_ipc_handle_t *ipcHandle,
                                           size_t *size) {
    if (!ptr || !ipcHandle || !size) {
        LOG_ERR("NULL %s", !ptr ? "ptr" : !ipcHandle ? "ipcHandle" : "size");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    tracker_entry_t e;
    if (!tracker_find(ptr, &e) || !e.provider) {
        LOG_ERR("%p is not memory of a tracked pool", ptr);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    umf_memory_provider_handle_t provider = e.provider; // the pool's own (untracked) provider
    size_t part;
    umf_result_t r = provider_part(provider, &part);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    const char *name = umfMemoryProviderGetName(provider);
    if (!name) {
        LOG_ERR("the provider of %p has no name", ptr);
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    umf_memory_pool_handle_t owner = umfPoolByPtr(ptr);
    if (!owner)
        owner = e.pool;
    size_t total = sizeof(struct umf_ipc_data_t) + part;
    struct umf_ipc_data_t *h = meta_alloc(total);
    sent_t *s = meta_alloc(sizeof *s);
    if (!h || !s) {
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        goto err_free;
    }
    memset(h, 0, sizeof *h);
    h->magic = IPC_HANDLE_MAGIC;
    h->version = IPC_HANDLE_VERSION;
    h->header_size = IPC_HEADER_SIZE;
    h->total_size = (uint32_t)total;
    h->header_check = ipc_header_check(h);
    h->provider_data_size = (uint32_t)part;
    h->pid = os_getpid();
    h->base = e.start;
    h->base_size = e.size;
    h->offset = (uintptr_t)ptr - e.start;
    h->provider_id = ipc_provider_id(name);
    bool put_now = false;
    if (!export_cached(provider, e.start, e.size, h->provider_data, part)) {
        r = umfMemoryProviderGetIPCHandle(provider, (void *)e.start, e.size, h->provider_data);
        if (r != UMF_RESULT_SUCCESS) {
            LOG_INFO("the %s provider made no IPC data for %p: %d", name, ptr, (int)r);
            goto err_free;
        }
        put_now = !export_keep(provider, e.pool, e.start, e.size, h->provider_data, part);
    }
    // The allocation's liveness record (ended by ipc_alloc_freed). Its pool's
    // frees end records from now on (pool_ipc_arm), before the record exists.
    pool_ipc_arm(owner);
    ipc_live_t live;
    bool fresh;
    r = ipc_live_add(owner, (uintptr_t)ptr, 1, ipc_live_digest(h), &live, &fresh);
    if (r != UMF_RESULT_SUCCESS)
        goto err_free;
    if (fresh) {
        (void)pthread_once(&atfork_once, register_atfork);
        atomic_fetch_add_explicit(&pool_ipc_records, 1, memory_order_relaxed);
    }
    h->live_fd = live.table_fd;
    h->live_slot = (uint32_t)live.slot;
    h->live_dev = live.table_dev;
    h->live_ino = live.table_ino;
    h->live_id = live.id;
    h->live_digest = live.digest;
    h->checksum = ipc_checksum(h, total);
    *s = (sent_t){.handle = h, .total = total, .provider = put_now ? provider : NULL};
    lock_acquire(&sent_lock);
    s->next = sent;
    sent = s;
    lock_release(&sent_lock);
    *ipcHandle = h;
    *size = total;
    return UMF_RESULT_SUCCESS;

err_free:
    meta_free(s, sizeof *s);
    meta_free(h, total);
    return r;
}

// Only handles in the list are released (their memory is ours): a handle
// received from another process, or a copy, is refused without being read.
HETMEM_EXPORT umf_result_t umfPutIPCHandle(umf_ipc_handle_t ipcHandle) {
    if (!ipcHandle) {
        LOG_ERR("NULL ipcHandle");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    sent_t *s = NULL;
    lock_acquire(&sent_lock);
    for (sent_t **pp = &sent; *pp; pp = &(*pp)->next) {
        if ((*pp)->handle == ipcHandle) {
            s = *pp;
            *pp = s->next;
            break;
        }
    }
    lock_release(&sent_lock);
    if (!s) {
        LOG_ERR("%p is not an IPC handle made by umfGetIPCHandle in this process",
                (void *)ipcHandle);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    // The provider's part stays cached (export cache) unless it could not be
    // kept; the provider's put may fail (its provider destroyed: a caller
    // error), the handle is released either way.
    umf_result_t r = UMF_RESULT_SUCCESS;
    if (s->provider)
        r = umfMemoryProviderPutIPCHandle(s->provider, s->handle->provider_data);
    meta_free(s->handle, s->total);
    meta_free(s, sizeof *s);
    return r;
}

// The handler of a pool is the pool itself: handles opened through it are
// opened by its provider and cached per provider (ipc_open.c).
HETMEM_EXPORT umf_result_t umfPoolGetIPCHandler(umf_memory_pool_handle_t hPool,
                                                umf_ipc_handler_handle_t *hIPCHandler) {
    if (!pool_args_ok(hPool, hIPCHandler, "hIPCHandler", __func__)) // never a garbage pool
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    umf_result_t r = handler_add(hPool);
    if (r == UMF_RESULT_SUCCESS)
        *hIPCHandler = hPool;
    return r;
}
