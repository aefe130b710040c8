// SPDX-License-Identifier: MIT
// Opening and closing IPC handles (umfOpenIPCHandle, umfCloseIPCHandle): the
// receiver's side. A handle is data from another process, so everything in
// it is checked before the provider sees it, in this order, and nothing is
// read past what the checks so far allow:
//
//   handler   one that umfPoolGetIPCHandler gave, its pool not destroyed
//             (compared by pointer: a garbage handler is never read)
//   magic     the first 4 bytes, one at a time (a buffer that is not a
//             handle is read up to its first byte that differs)
//   header    version, header size, the header check (16 bytes read)
//   size      total_size is what the handler's provider needs: its
//             get_ipc_handle_size, or for our providers a part of 128 to
//             PATH_MAX + 120 bytes; only then are total_size bytes copied
//             (a private copy: the caller's buffer may be shared memory
//             that changes under us)
//   body      the checksum over total_size bytes, pid, base_size > 0,
//             offset < base_size, the provider id (a FILE handle is never
//             given to the OS provider); for our providers the part's wire
//             size and its own size equal the header's
//   liveness  the allocation's record in the exporter's export table (the
//             allocation was not freed, its pool not destroyed, the sender
//             alive), and for our providers the range's export (the range
//             is still the provider's), on every open, cached or not
//
// The open cache (as UMF keeps it): one mapping per (provider, sender pid,
// base, base_size, provider data), reference counted. A second open of the
// same allocation - the same handle, or another handle of it with another
// offset - returns the same mapping, and it stays mapped after its last
// umfCloseIPCHandle (idle), so that opening a handle again costs no
// provider open, until the handler's pool is destroyed or more than
// IPC_OPEN_IDLE_MAX mappings are idle (the oldest idle one is closed).
// The liveness checks run on every open, cached or not. A list under one
// lock (LOCK_RANK_IPC_CACHE), held across the provider's open, so that two
// threads opening the same handle map it once (opens are rare and slow
// anyway: system calls); provider closes run outside it.
#include <errno.h>
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

// One mapping of the cache.
typedef struct opened_t {
    struct opened_t *next;
    umf_memory_provider_handle_t provider; // opened it; closes it
    struct umf_ipc_data_t *key;            // the handle's copy (offset, checksum ignored)
    size_t key_size;
    uintptr_t map;                         // the allocation's first byte here
    size_t refs;                           // opens not closed; 0: idle
    umf_memory_pool_handle_t handler;      // whose pool's destruction ends it
    bool doomed;                           // that pool is gone: close at refs 0
} opened_t;

#define IPC_OPEN_IDLE_MAX 256

LOCK_STATIC(cache_lock, LOCK_RANK_IPC_CACHE)
static opened_t *cache; // protected by: cache_lock (newest first)
static size_t idle_n;   // protected by: cache_lock

static void opened_close(opened_t *o) {
    (void)umfMemoryProviderCloseIPCHandle(o->provider, (void *)o->map, o->key->base_size);
    meta_free(o->key, o->key_size);
    meta_free(o, sizeof *o);
}

// Under cache_lock: unlinks the oldest idle mapping when too many are
// idle; the caller closes it outside the lock.
static opened_t *idle_trim_locked(void) {
    if (idle_n <= IPC_OPEN_IDLE_MAX)
        return NULL;
    opened_t **oldest = NULL;
    for (opened_t **pp = &cache; *pp; pp = &(*pp)->next)
        if ((*pp)->refs == 0)
            oldest = pp;
    if (!oldest)
        return NULL;
    opened_t *o = *oldest;
    *oldest = o->next;
    idle_n--;
    return o;
}

static umf_result_t refuse(const char *why) {
    LOG_ERR("IPC handle refused: %s", why);
    return UMF_RESULT_ERROR_INVALID_ARGUMENT;
}

// The body checks of the file comment, on the copy `h` of `total` bytes.
static umf_result_t check(umf_memory_provider_handle_t provider, const struct umf_ipc_data_t *h,
                          size_t total) {
    if (h->checksum != ipc_checksum(h, total))
        return refuse("checksum mismatch (a truncated or corrupted handle)");
    if (h->pid <= 0)
        return refuse("no sender process");
    if (h->base_size == 0 || h->offset >= h->base_size || h->base + h->base_size < h->base)
        return refuse("the offset is outside the allocation");
    const char *name = umfMemoryProviderGetName(provider);
    if (!name || ipc_provider_id(name) != h->provider_id) {
        LOG_ERR("IPC handle refused: it is not a handle of the handler's provider (%s)",
                name ? name : "unnamed");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (ipc_provider_ours(provider)) {
        ipc_pdata_t d;
        umf_result_t r = ipc_pdata_load(h->provider_data, h->provider_data_size, ~0u, &d);
        if (r != UMF_RESULT_SUCCESS)
            return r;
        if (d.size != h->base_size)
            return refuse("the header and the provider data disagree on the size");
        // The provider's own export (ended when the range went back to the
        // provider): checked here too, because a cached mapping is reused
        // without asking the provider.
        if ((r = ipc_export_check(&d)) != UMF_RESULT_SUCCESS)
            return r;
    }
    if (h->live_digest != ipc_live_digest(h))
        return refuse("the liveness record does not describe the handle");
    ipc_live_t l = {.pid = h->pid, .table_fd = h->live_fd, .table_dev = h->live_dev,
                             .table_ino = h->live_ino, .slot = h->live_slot, .id = h->live_id,
                             .digest = h->live_digest};
    return ipc_live_check(&l);
}

// Whether a provider part of `part` bytes (declared by a header) is what
// `provider` makes: our providers' size depends on the path in the part
// (the sender's file or shm name), others' is fixed.
static umf_result_t part_size_ok(umf_memory_provider_handle_t provider, size_t part) {
    if (ipc_provider_ours(provider)) {
        if (part < IPC_PDATA_FIXED + 8 || part > IPC_PDATA_FIXED + IPC_PDATA_PATH_MAX ||
            (part - IPC_PDATA_FIXED) % 8)
            return refuse("the declared size is not one of this provider's handle sizes");
        return UMF_RESULT_SUCCESS;
    }
    size_t want;
    umf_result_t r = umfMemoryProviderGetIPCHandleSize(provider, &want);
    if (r != UMF_RESULT_SUCCESS)
        return r; // NOT_SUPPORTED: the handler's provider has no IPC
    if (part != want || want > IPC_PROVIDER_DATA_MAX)
        return refuse("the declared size is not this provider's handle size (truncated, or "
                      "another provider)");
    return UMF_RESULT_SUCCESS;
}

// Same allocation: everything but the offset (and the checksum, which
// covers the offset).
static bool same_key(const opened_t *o, umf_memory_provider_handle_t provider,
                     const struct umf_ipc_data_t *h, size_t total) {
    if (o->provider != provider || o->key_size != total)
        return false;
    const struct umf_ipc_data_t *k = o->key;
    return k->pid == h->pid && k->base == h->base && k->base_size == h->base_size &&
           memcmp(k->provider_data, h->provider_data, h->provider_data_size) == 0;
}

umf_result_t ipc_open_handle_sized(umf_ipc_handler_handle_t handler, const void *handle,
                                   size_t len, void **ptr) {
    if (!handler || !handle || !ptr) {
        LOG_ERR("NULL %s", !handler ? "handler" : !handle ? "handle" : "ptr");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (!ipc_handler_known(handler))
        return refuse("the handler is not one umfPoolGetIPCHandler gave (or its pool was "
                      "destroyed)");
    umf_memory_provider_handle_t provider = ((umf_memory_pool_handle_t)handler)->provider;
    struct umf_ipc_data_t hdr;
    // The magic byte by byte first: a buffer that is not a handle is read no
    // further than its first byte that differs from the magic.
    const uint32_t magic = IPC_HANDLE_MAGIC;
    for (size_t i = 0; i < sizeof magic; i++) {
        if (i >= len)
            return refuse("shorter than a handle's magic");
        if (((const volatile unsigned char *)handle)[i] != ((const unsigned char *)&magic)[i])
            return refuse("not a hetmem IPC handle (magic)");
    }
    if (len < IPC_HEADER_SIZE)
        return refuse("shorter than a handle header");
    memcpy(&hdr, handle, IPC_HEADER_SIZE);
    if (hdr.version != IPC_HANDLE_VERSION || hdr.header_size != IPC_HEADER_SIZE ||
        hdr.header_check != ipc_header_check(&hdr))
        return refuse("not a hetmem IPC handle of this version (version, header size, header "
                      "check)");
    if (hdr.total_size < sizeof hdr || hdr.total_size - sizeof hdr > IPC_PROVIDER_DATA_MAX)
        return refuse("the declared size is out of range");
    size_t total = hdr.total_size;
    umf_result_t r = part_size_ok(provider, total - sizeof hdr);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    if (len < total)
        return refuse("truncated: fewer bytes than the handle says it has");
    struct umf_ipc_data_t *h = meta_alloc(total);
    if (!h)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    memcpy(h, handle, total);
    if (memcmp(h, &hdr, IPC_HEADER_SIZE) != 0) { // the buffer changed while we copied it
        r = refuse("the handle changed while it was read");
        goto out_free;
    }
    if (h->provider_data_size != total - sizeof hdr) {
        r = refuse("the provider part size disagrees with the declared size");
        goto out_free;
    }
    if ((r = check(provider, h, total)) != UMF_RESULT_SUCCESS)
        goto out_free;

    lock_acquire(&cache_lock);
    for (opened_t *o = cache; o; o = o->next) {
        if (!o->doomed && same_key(o, provider, h, total)) {
            if (o->refs++ == 0)
                idle_n--;
            *ptr = (void *)(o->map + (uintptr_t)h->offset);
            lock_release(&cache_lock);
            r = UMF_RESULT_SUCCESS;
            goto out_free;
        }
    }
    opened_t *o = meta_alloc(sizeof *o);
    void *map = NULL;
    if (!o) {
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    } else if ((r = umfMemoryProviderOpenIPCHandle(provider, h->provider_data, &map)) ==
               UMF_RESULT_SUCCESS) {
        *o = (opened_t){.next = cache, .provider = provider, .key = h, .key_size = total,
                        .map = (uintptr_t)map, .refs = 1,
                        .handler = (umf_memory_pool_handle_t)handler};
        cache = o;
        *ptr = (char *)map + h->offset;
        h = NULL; // the cache keeps the copy as its key
    } else {
        meta_free(o, sizeof *o);
    }
    lock_release(&cache_lock);
out_free:
    if (h)
        meta_free(h, total);
    return r;
}

HETMEM_EXPORT umf_result_t umfOpenIPCHandle(umf_ipc_handler_handle_t hIPCHandler,
                                            umf_ipc_handle_t ipcHandle, void **ptr) {
    // The length is not part of UMF's call: the handle's own sizes are
    // trusted once its header checks out (docs/memspaces-ipc.md).
    return ipc_open_handle_sized(hIPCHandler, ipcHandle, SIZE_MAX, ptr);
}

HETMEM_EXPORT umf_result_t umfCloseIPCHandle(void *ptr) {
    if (!ptr) {
        LOG_ERR("NULL ptr");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    uintptr_t p = (uintptr_t)ptr;
    opened_t *gone = NULL;
    bool found = false;
    lock_acquire(&cache_lock);
    for (opened_t **pp = &cache; *pp; pp = &(*pp)->next) {
        opened_t *o = *pp;
        if (o->refs && p >= o->map && p - o->map < o->key->base_size) {
            found = true;
            if (--o->refs == 0) { // idle: stays mapped, unless its handler is gone
                if (o->doomed) {
                    *pp = o->next;
                    gone = o;
                } else {
                    idle_n++;
                    gone = idle_trim_locked();
                }
            }
            break;
        }
    }
    lock_release(&cache_lock);
    if (!found) {
        LOG_ERR("%p is not memory of an open IPC handle", ptr);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (gone)
        opened_close(gone);
    return UMF_RESULT_SUCCESS;
}

void ipc_open_pool_destroyed(umf_memory_pool_handle_t pool) {
    opened_t *gone = NULL;
    lock_acquire(&cache_lock);
    for (opened_t **pp = &cache; *pp;) {
        opened_t *o = *pp;
        if (o->handler == pool && o->refs == 0) {
            *pp = o->next;
            o->next = gone;
            gone = o;
            idle_n--;
            continue;
        }
        if (o->handler == pool)
            o->doomed = true; // closed at its last umfCloseIPCHandle
        pp = &o->next;
    }
    lock_release(&cache_lock);
    while (gone) {
        opened_t *o = gone;
        gone = o->next;
        opened_close(o);
    }
}

size_t ipc_open_cache_open(void) {
    size_t n = 0;
    lock_acquire(&cache_lock);
    for (opened_t *o = cache; o; o = o->next)
        n += o->refs != 0;
    lock_release(&cache_lock);
    return n;
}

size_t ipc_open_cache_count(void) {
    size_t n = 0;
    lock_acquire(&cache_lock);
    for (opened_t *o = cache; o; o = o->next)
        n++;
    lock_release(&cache_lock);
    return n;
}
