// SPDX-License-Identifier: MIT
// Shared visibility of the OS memory provider: one backing fd per provider
// (a memfd, or /dev/shm/NAME created with mode 0600), allocations carved at
// increasing file offsets, and the extent map that remembers the file
// offset of every allocation (and of the parts allocation_split makes), so
// that the IPC layer can describe memory as (fd or name, offset, size).
// The second half of the file is IPC: the OS provider's IPC operations and
// what the file and devdax providers share with them (the export table,
// the checks of an opener, the registry of opened mappings; design in
// provider_os_internal.h).
//
// The extent map is a sorted array of disjoint extents in meta memory,
// guarded by the provider's mutex; lookups are binary searches. The same
// mutex serializes shared allocations from offset to file growth: growing
// the file commits pages, and they must not be committed before the range
// is bound (see alloc below). Offsets are never reused: a freed range is a
// hole punched in the file, which frees its memory.
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "providers/provider_os_internal.h"

#define EXT_MIN_CAP 16

// The fd starts empty: the file grows with each allocation (see grow).
// A hugetlb memfd (huge pages asked for) takes only huge-page-sized
// lengths and offsets, which unit guarantees.
umf_result_t provider_os_shared_init(provider_os_t *p, const char *shm_name) {
    int fd, err;
    if (shm_name) {
        // A file of that name left by a process that died is replaced, as
        // UMF does; O_EXCL then makes sure the file is this provider's own.
        err = os_shm_unlink(shm_name);
        if (err && err != ENOENT)
            LOG_WARN("cannot unlink a stale /dev/shm/%s: error %d", shm_name, err);
        err = os_shm_open(shm_name, true, true, &fd);
        if (err) {
            LOG_ERR("cannot create /dev/shm/%s: error %d", shm_name, err);
            return err == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                                 : provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err,
                                                            "creating the shm file failed");
        }
        p->shm_name = meta_strdup(shm_name);
        if (!p->shm_name) {
            (void)os_file_close(fd);
            (void)os_shm_unlink(shm_name);
            return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        }
    } else {
        err = os_memfd_create("hetmem_os_provider", p->huge_flags, &fd);
        if (err) {
            LOG_ERR("memfd_create failed: error %d", err);
            return err == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                                 : provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err,
                                                            "creating the memfd failed");
        }
    }
    p->fd = fd;
    pthread_mutex_init(&p->lock, NULL);
    return UMF_RESULT_SUCCESS;
}

void provider_os_shared_fini(provider_os_t *p) {
    provider_ipc_unexport(p, 0, SIZE_MAX); // handles of this provider are stale from now
    if (p->fd >= 0)
        (void)os_file_close(p->fd);
    p->fd = -1;
    if (p->shm_name) {
        // Processes that opened the file keep their mappings and fds.
        (void)os_shm_unlink(p->shm_name);
        meta_free(p->shm_name, strlen(p->shm_name) + 1);
        p->shm_name = NULL;
    }
    meta_free(p->ext, p->ext_cap * sizeof *p->ext);
    p->ext = NULL;
    p->ext_len = p->ext_cap = 0;
    pthread_mutex_destroy(&p->lock);
}

// ---- the extent map (all callers hold p->lock) ---------------------------------

// Index of the first extent that ends after addr (ext_len if none).
static size_t ext_find(const provider_os_t *p, uintptr_t addr) {
    size_t lo = 0, hi = p->ext_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->ext[mid].addr + p->ext[mid].size <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

// Index of the extent that starts exactly at addr, or -1.
static ptrdiff_t ext_at(const provider_os_t *p, uintptr_t addr) {
    size_t i = ext_find(p, addr);
    return i < p->ext_len && p->ext[i].addr == addr ? (ptrdiff_t)i : -1;
}

// Room for `extra` more extents.
static bool ext_reserve(provider_os_t *p, size_t extra) {
    if (p->ext_len + extra <= p->ext_cap)
        return true;
    size_t cap = p->ext_cap ? p->ext_cap : EXT_MIN_CAP;
    while (cap < p->ext_len + extra)
        cap *= 2;
    provider_os_extent_t *n = meta_alloc(cap * sizeof *n);
    if (!n)
        return false;
    if (p->ext_len)
        memcpy(n, p->ext, p->ext_len * sizeof *n);
    meta_free(p->ext, p->ext_cap * sizeof *p->ext);
    p->ext = n;
    p->ext_cap = cap;
    return true;
}

static void ext_insert(provider_os_t *p, size_t i, provider_os_extent_t e) {
    memmove(&p->ext[i + 1], &p->ext[i], (p->ext_len - i) * sizeof e);
    p->ext[i] = e;
    p->ext_len++;
}

static void ext_remove(provider_os_t *p, size_t i) {
    memmove(&p->ext[i], &p->ext[i + 1], (p->ext_len - i - 1) * sizeof *p->ext);
    p->ext_len--;
}

// True when extents cover [a, b) without a gap; *first gets the first one.
static bool ext_covers(const provider_os_t *p, uintptr_t a, uintptr_t b, size_t *first) {
    size_t i = ext_find(p, a);
    *first = i;
    uintptr_t cur = a;
    for (; i < p->ext_len && cur < b; i++) {
        if (p->ext[i].addr > cur)
            return false;
        cur = p->ext[i].addr + p->ext[i].size;
    }
    return cur >= b;
}

// Punches the file behind [a, b) (covered, see ext_covers).
static int punch(const provider_os_t *p, size_t i, uintptr_t a, uintptr_t b) {
    for (; i < p->ext_len && p->ext[i].addr < b; i++) {
        const provider_os_extent_t *e = &p->ext[i];
        uintptr_t s = e->addr > a ? e->addr : a;
        uintptr_t t = e->addr + e->size < b ? e->addr + e->size : b;
        int err = os_file_punch_hole(p->fd, e->off + (s - e->addr), t - s);
        if (err)
            return err;
    }
    return 0;
}

// ---- operations -------------------------------------------------------------------

// Grows the file to cover a new extent, sparsely (ftruncate): pages are
// committed on first touch, where the binding applies, as for private
// mappings, and holes punched by free/purge stay holes.
static int grow(provider_os_t *p, uint64_t end) { return os_file_truncate(p->fd, end); }

// Steps, all under the lock: take the next file offset, map the file there
// (over an aligned reservation when align > page), bind, grow the file,
// record the extent. On failure everything is undone and the offset range
// is skipped for good (its shared policy may already be set).
umf_result_t provider_os_shared_alloc(provider_os_t *p, size_t len, size_t align,
                                      umf_result_t (*bind)(void *ctx, void *addr, size_t len),
                                      void *ctx, void **out) {
    umf_result_t r;
    void *addr = NULL, *resv = NULL;
    int err;
    pthread_mutex_lock(&p->lock);
    uint64_t off = p->fd_next;
    if (off + len < off) {
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        goto out_unlock;
    }
    if (!ext_reserve(p, 1)) {
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        goto out_unlock;
    }
    // The file offset and the address need not be aligned alike: reserve an
    // aligned address range (PROT_NONE, nothing committed) and map the file
    // over it. Huge page mappings need a huge-page-aligned address too.
    if (align > os_page_size()) {
        err = os_map_anon(NULL, len, align, OS_PROT_NONE, OS_MAP_NORESERVE, &resv);
        if (err) {
            r = err == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                              : provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err,
                                                         "reserving address space failed");
            goto out_unlock;
        }
    }
    err = os_map_fd(resv, len, p->prot, OS_MAP_SHARED, p->fd, off, &addr);
    if (err) {
        LOG_ERR("mapping %zu bytes of the fd at offset %llu failed: error %d", len,
                (unsigned long long)off, err);
        r = provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err,
                                     "mapping shared memory failed");
        if (err == ENOMEM)
            r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY; // e.g. no huge pages to reserve
        if (resv)
            (void)os_unmap(resv, len);
        goto out_unlock;
    }
    // Bind first, grow second: the pages growth commits (and those faulted
    // later) follow the shared policy mbind records for these file offsets.
    r = bind(ctx, addr, len);
    if (r != UMF_RESULT_SUCCESS)
        goto out_unmap;
    err = grow(p, off + len);
    if (err) {
        LOG_ERR("growing the backing file to %llu bytes failed: error %d",
                (unsigned long long)(off + len), err);
        r = err == ENOMEM || err == ENOSPC
                ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                : provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err,
                                           "growing the shared memory file failed");
        goto out_unmap;
    }
    ext_insert(p, ext_find(p, (uintptr_t)addr),
               (provider_os_extent_t){.addr = (uintptr_t)addr, .size = len, .off = off});
    p->fd_next = off + len;
    pthread_mutex_unlock(&p->lock);
    *out = addr;
    return UMF_RESULT_SUCCESS;

out_unmap:
    (void)os_unmap(addr, len);
    (void)os_file_punch_hole(p->fd, off, len); // whatever growth committed
    p->fd_next = off + len; // the range may hold a policy: never reuse it
out_unlock:
    pthread_mutex_unlock(&p->lock);
    return r;
}

// Cuts [a, b) out of the extents that cover it (i: the first of them).
// Needs room for one more extent (a cut inside one extent leaves two).
static void ext_cut(provider_os_t *p, size_t i, uintptr_t a, uintptr_t b) {
    while (i < p->ext_len && p->ext[i].addr < b) {
        provider_os_extent_t *e = &p->ext[i];
        uintptr_t end = e->addr + e->size;
        if (e->addr >= a && end <= b) { // all of it
            ext_remove(p, i);
            continue;
        }
        if (e->addr < a && end > b) { // the middle: keep head and tail
            provider_os_extent_t tail = {.addr = b, .size = end - b, .off = e->off + (b - e->addr)};
            e->size = a - e->addr;
            ext_insert(p, i + 1, tail);
            return;
        }
        if (e->addr < a) { // its tail
            e->size = a - e->addr;
        } else { // its head
            e->off += b - e->addr;
            e->size = end - b;
            e->addr = b;
        }
        i++;
    }
}

// Any range made of whole extents or parts of them (a pool may give back
// part of an allocation without splitting it first). Checked before
// anything changes, so a bad free (twice, or memory not ours) is refused.
umf_result_t provider_os_shared_free(provider_os_t *p, void *addr, size_t len) {
    uintptr_t a = (uintptr_t)addr, b = a + len;
    size_t i;
    umf_result_t r = UMF_RESULT_SUCCESS;
    pthread_mutex_lock(&p->lock);
    if (b < a || !ext_covers(p, a, b, &i)) {
        LOG_ERR("free of %p+%zu: not memory of this provider", addr, len);
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        goto out;
    }
    if (!ext_reserve(p, 1)) {
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        goto out;
    }
    // IPC handles of any part of the range are stale before the range goes.
    provider_ipc_unexport(p, a, len);
    int err = os_unmap(addr, len);
    if (err) {
        r = provider_os_native_error(UMF_OS_RESULT_ERROR_FREE_FAILED, err,
                                     "unmapping shared memory failed");
        goto out;
    }
    // Unmapped: the range is gone whatever the punch says; a failed punch
    // only leaves the pages in the file until the provider is destroyed.
    err = punch(p, i, a, b);
    if (err)
        LOG_WARN("punching the freed range %p+%zu failed: error %d", addr, len, err);
    ext_cut(p, i, a, b);
out:
    pthread_mutex_unlock(&p->lock);
    return r;
}

umf_result_t provider_os_shared_purge(provider_os_t *p, void *addr, size_t len) {
    uintptr_t a = (uintptr_t)addr, b = a + len;
    size_t i;
    umf_result_t r = UMF_RESULT_SUCCESS;
    pthread_mutex_lock(&p->lock);
    if (b < a || !ext_covers(p, a, b, &i)) {
        LOG_ERR("purge of %p+%zu: not memory of this provider", addr, len);
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    } else {
        int err = punch(p, i, a, b);
        if (err)
            r = provider_os_native_error(UMF_OS_RESULT_ERROR_PURGE_FORCE_FAILED, err,
                                         "punching shared memory failed");
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

// total and first are whole units (checked by the caller); the extent must
// be exactly the allocation being split.
umf_result_t provider_os_shared_split(provider_os_t *p, void *addr, size_t total, size_t first) {
    umf_result_t r = UMF_RESULT_SUCCESS;
    pthread_mutex_lock(&p->lock);
    ptrdiff_t i = ext_at(p, (uintptr_t)addr);
    if (i < 0 || p->ext[i].size != total) {
        LOG_ERR("split of %p (%zu bytes): no such allocation", addr, total);
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    } else if (!ext_reserve(p, 1)) {
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    } else {
        provider_os_extent_t *e = &p->ext[i];
        provider_os_extent_t second = {
            .addr = e->addr + first, .size = e->size - first, .off = e->off + first};
        e->size = first;
        ext_insert(p, (size_t)i + 1, second);
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

umf_result_t provider_os_shared_merge(provider_os_t *p, void *low, void *high, size_t total) {
    umf_result_t r = UMF_RESULT_SUCCESS;
    pthread_mutex_lock(&p->lock);
    ptrdiff_t i = ext_at(p, (uintptr_t)low);
    if (i < 0 || (size_t)i + 1 >= p->ext_len || p->ext[i + 1].addr != (uintptr_t)high ||
        p->ext[i].addr + p->ext[i].size != (uintptr_t)high ||
        p->ext[i].size + p->ext[i + 1].size != total) {
        LOG_ERR("merge of %p and %p into %zu bytes: not two adjacent allocations", low, high,
                total);
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    } else if (p->ext[i].off + p->ext[i].size != p->ext[i + 1].off) {
        // Adjacent in memory by chance, not in the file: one (fd, offset,
        // size) could not describe the result, so the two stay apart.
        LOG_INFO("merge of %p and %p: not adjacent in the backing file", low, high);
        r = UMF_RESULT_ERROR_NOT_SUPPORTED;
    } else {
        p->ext[i].size = total;
        ext_remove(p, (size_t)i + 1);
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

// For the IPC layer: a handle for [ptr, ptr+size) is (fd or shm_name, off,
// size) when size <= avail. Takes the lock: lookups are rare (one per IPC
// handle made).
umf_result_t provider_os_shared_lookup(void *priv, const void *ptr,
                                       provider_os_shared_ref_t *out) {
    provider_os_t *p = priv;
    if (!p || !out || !p->shared)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    umf_result_t r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    uintptr_t a = (uintptr_t)ptr;
    pthread_mutex_lock(&p->lock);
    size_t i = ext_find(p, a);
    if (i < p->ext_len && p->ext[i].addr <= a) {
        const provider_os_extent_t *e = &p->ext[i];
        out->fd = p->fd;
        out->shm_name = p->shm_name;
        out->off = e->off + (a - e->addr);
        out->avail = e->size - (a - e->addr);
        r = UMF_RESULT_SUCCESS;
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

// ==== IPC ========================================================================
// (provider_os_internal.h, "IPC", has the design: data layout, export table,
// what an opener checks.) The OS provider's operations come last; the rest
// is shared with the file and devdax providers.

#define XT_SLOTS 32768u // live exports per process (512 KiB of table, sparse)

// One slot of the export table (shared memory, read by openers).
typedef struct xt_slot_t {
    _Atomic uint64_t id;     // 0: free; else the live export's id
    _Atomic uint64_t digest; // digest of the export's description
} xt_slot_t;

// Who holds slot i (private; ent[i] is valid while slots[i].id != 0).
typedef struct xt_entry_t {
    const void *owner; // the exporting provider's state
    uintptr_t start;
    size_t len;
    uint32_t next_free; // free list: index + 1; 0 ends it
} xt_entry_t;

// The table. Created on the first export; a fork child starts without one
// (the mapping is MADV_DONTFORK and the child closes the descriptor), so a
// child never ends its parent's exports.
static struct {
    pthread_mutex_t lock;   // protects everything but `live`
    bool ready;
    bool atfork;            // the fork handlers are registered
    int fd;
    uint64_t dev, ino;
    xt_slot_t *slots;       // XT_SLOTS slots, MAP_SHARED of fd
    xt_entry_t *ent;        // XT_SLOTS entries, meta memory (kept in a fork child)
    uint32_t hwm;           // slots used so far
    uint32_t free_head;
    uint64_t next_id;       // ids are never reused
    _Atomic size_t live;    // live exports: the unexport fast path reads it
} xt = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static void xt_prepare(void) { pthread_mutex_lock(&xt.lock); }
static void xt_parent(void) { pthread_mutex_unlock(&xt.lock); }
// Async-signal-safe work only: no meta calls (another thread may have held
// a meta lock at the fork); `ent` stays allocated for the child's own use.
static void xt_child(void) {
    if (xt.ready)
        (void)os_file_close(xt.fd);
    xt.ready = false;
    xt.fd = -1;
    xt.slots = NULL;
    xt.hwm = xt.free_head = 0;
    atomic_store_explicit(&xt.live, 0, memory_order_relaxed);
    pthread_mutex_init(&xt.lock, NULL);
}

// Called with xt.lock held. Returns 0 or an errno value.
static int xt_create(void) {
    const size_t bytes = (size_t)XT_SLOTS * sizeof(xt_slot_t);
    int fd, err;
    void *m = NULL;
    os_file_id_t id;
    if (!xt.ent && !(xt.ent = meta_alloc((size_t)XT_SLOTS * sizeof *xt.ent)))
        return ENOMEM;
    if ((err = os_memfd_create("hetmem_ipc_exports", 0, &fd)) != 0)
        return err;
    if ((err = os_file_truncate(fd, bytes)) != 0 || (err = os_file_identity(fd, &id)) != 0 ||
        (err = os_map_fd(NULL, bytes, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_SHARED, fd, 0, &m)) !=
            0) {
        (void)os_file_close(fd);
        return err;
    }
    (void)os_madvise(m, bytes, OS_ADV_DONTFORK);
    if (!xt.atfork && pthread_atfork(xt_prepare, xt_parent, xt_child) == 0)
        xt.atfork = true;
    xt.fd = fd;
    xt.dev = id.dev;
    xt.ino = id.ino;
    xt.slots = m;
    xt.ready = true;
    return 0;
}

// A 64-bit mix of what an export describes (a consistency check between a
// handle and the table, not a cryptographic seal).
static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2);
    h *= UINT64_C(0xff51afd7ed558ccd);
    return h ^ (h >> 32);
}

static uint64_t digest_of(const provider_ipc_data_t *d) {
    uint64_t h = mix(0, d->kind);
    h = mix(h, d->dev);
    h = mix(h, d->ino);
    h = mix(h, d->rdev);
    h = mix(h, d->off);
    h = mix(h, d->size);
    h = mix(h, d->align);
    return mix(h, (uint64_t)(uint32_t)d->pid);
}

umf_result_t provider_ipc_live_add(const void *owner, uintptr_t start, size_t len,
                                   uint64_t digest, provider_ipc_live_t *out, bool *fresh) {
    umf_result_t r = UMF_RESULT_SUCCESS;
    uint32_t i;
    uint64_t id;
    *fresh = false;
    pthread_mutex_lock(&xt.lock);
    if (!xt.ready) {
        int err = xt_create();
        if (err) {
            LOG_ERR("cannot create the IPC export table: error %d", err);
            r = err == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                              : provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err,
                                                         "creating the IPC export table failed");
            goto out;
        }
    }
    // The same range exported again with the same description: same record.
    for (i = 0; i < xt.hwm; i++) {
        id = atomic_load_explicit(&xt.slots[i].id, memory_order_relaxed);
        if (id && xt.ent[i].owner == owner && xt.ent[i].start == start && xt.ent[i].len == len &&
            atomic_load_explicit(&xt.slots[i].digest, memory_order_relaxed) == digest)
            goto fill;
    }
    if (xt.free_head) {
        i = xt.free_head - 1;
        xt.free_head = xt.ent[i].next_free;
    } else if (xt.hwm < XT_SLOTS) {
        i = xt.hwm++;
    } else {
        LOG_ERR("the IPC export table is full (%u live exports)", XT_SLOTS);
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        goto out;
    }
    id = ++xt.next_id;
    xt.ent[i] = (xt_entry_t){.owner = owner, .start = start, .len = len};
    atomic_store_explicit(&xt.slots[i].digest, digest, memory_order_relaxed);
    atomic_store_explicit(&xt.slots[i].id, id, memory_order_release); // publishes the digest
    atomic_fetch_add_explicit(&xt.live, 1, memory_order_relaxed);
    *fresh = true;
fill:
    *out = (provider_ipc_live_t){.pid = os_getpid(), .table_fd = xt.fd, .table_dev = xt.dev,
                                 .table_ino = xt.ino, .slot = i, .id = id, .digest = digest};
out:
    pthread_mutex_unlock(&xt.lock);
    return r;
}

umf_result_t provider_ipc_export(const void *owner, uintptr_t start, size_t len,
                                 provider_ipc_data_t *d) {
    provider_ipc_live_t l;
    bool fresh;
    umf_result_t r = provider_ipc_live_add(owner, start, len, digest_of(d), &l, &fresh);
    if (r == UMF_RESULT_SUCCESS) {
        d->table_fd = l.table_fd;
        d->table_dev = l.table_dev;
        d->table_ino = l.table_ino;
        d->slot = l.slot;
        d->export_id = l.id;
        d->digest = l.digest;
    }
    return r;
}

bool provider_ipc_exporting(void) {
    return atomic_load_explicit(&xt.live, memory_order_relaxed) != 0;
}

size_t provider_ipc_live_end(const void *owner, uintptr_t start, size_t len) {
    if (!provider_ipc_exporting())
        return 0;
    size_t n = 0;
    uintptr_t end = len > UINTPTR_MAX - start ? UINTPTR_MAX : start + len;
    pthread_mutex_lock(&xt.lock);
    for (uint32_t i = 0; xt.ready && i < xt.hwm; i++) {
        xt_entry_t *e = &xt.ent[i];
        if (!atomic_load_explicit(&xt.slots[i].id, memory_order_relaxed) || e->owner != owner ||
            e->start >= end || start >= e->start + e->len)
            continue;
        atomic_store_explicit(&xt.slots[i].id, 0, memory_order_release);
        e->owner = NULL;
        e->next_free = xt.free_head;
        xt.free_head = i + 1;
        atomic_fetch_sub_explicit(&xt.live, 1, memory_order_relaxed);
        n++;
    }
    pthread_mutex_unlock(&xt.lock);
    return n;
}

void provider_ipc_unexport(const void *owner, uintptr_t start, size_t len) {
    (void)provider_ipc_live_end(owner, start, len);
}

// ---- opening: checks ------------------------------------------------------------

umf_result_t provider_ipc_errno_result(int err) {
    switch (err) {
    case 0: return UMF_RESULT_SUCCESS;
    case ENOMEM: return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    case ENOSYS: return UMF_RESULT_ERROR_NOT_SUPPORTED;
    default: return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
}

static umf_result_t bad_handle(const char *why) {
    LOG_ERR("IPC handle refused: %s", why);
    return UMF_RESULT_ERROR_INVALID_ARGUMENT;
}

static bool shm_name_ok(const char *n) {
    size_t len = strlen(n);
    return len > 0 && len <= PROVIDER_OS_SHM_NAME_MAX && !strchr(n, '/') && strcmp(n, ".") &&
           strcmp(n, "..");
}

size_t provider_ipc_wire_size(const char *path) {
    size_t len = strnlen(path, PROVIDER_IPC_PATH_MAX);
    return len >= PROVIDER_IPC_PATH_MAX ? 0 : PROVIDER_IPC_FIXED + ALIGN_UP(len + 1, 8);
}

void provider_ipc_store(provider_ipc_data_t *d, void *out) {
    size_t len = strlen(d->path), path_size = ALIGN_UP(len + 1, 8);
    d->path_size = (uint32_t)path_size;
    d->reserved = 0;
    memcpy(out, d, PROVIDER_IPC_FIXED);
    char *p = (char *)out + PROVIDER_IPC_FIXED;
    memcpy(p, d->path, len);
    memset(p + len, 0, path_size - len);
}

umf_result_t provider_ipc_load(const void *raw, size_t size, unsigned kinds,
                               provider_ipc_data_t *out) {
    provider_ipc_data_t d;
    if (!raw || !out)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    if (size < PROVIDER_IPC_FIXED)
        return bad_handle("provider IPC data shorter than its fixed part");
    // A private copy (the sender's buffer may change): magic and version
    // first (8 bytes of a buffer that is not ours are read), then the fixed
    // part: path_size says how much more there is to read.
    memcpy(&d, raw, 8);
    if (d.magic != PROVIDER_IPC_MAGIC || d.version != PROVIDER_IPC_VERSION)
        return bad_handle("not hetmem provider IPC data (magic or version)");
    memcpy(&d, raw, PROVIDER_IPC_FIXED);
    if (d.path_size < 8 || d.path_size > PROVIDER_IPC_PATH_MAX || d.path_size % 8 || d.reserved)
        return bad_handle("invalid path size in provider IPC data");
    if (size != SIZE_MAX && size != PROVIDER_IPC_FIXED + d.path_size)
        return bad_handle("the provider IPC data is not the size its path needs");
    if (d.kind < PROVIDER_IPC_MEMFD || d.kind > PROVIDER_IPC_DEVDAX || !(kinds & (1u << d.kind)))
        return bad_handle("the backing object is of a kind this provider does not open");
    if (d.pid <= 0 || d.fd < 0 || d.table_fd < 0)
        return bad_handle("invalid process or descriptor numbers");
    if (d.size == 0 || d.off > (uint64_t)INT64_MAX || d.size > (uint64_t)INT64_MAX - d.off)
        return bad_handle("invalid offset or size");
    if (!is_pow2((size_t)d.align) || d.align < os_page_size() || d.align > ((uint64_t)1 << 30))
        return bad_handle("invalid mapping alignment");
    if (d.slot >= XT_SLOTS || d.export_id == 0)
        return bad_handle("invalid export slot");
    memcpy(d.path, (const char *)raw + PROVIDER_IPC_FIXED, d.path_size);
    size_t len = strnlen(d.path, d.path_size);
    if (len == d.path_size)
        return bad_handle("unterminated path");
    if (ALIGN_UP(len + 1, 8) != d.path_size)
        return bad_handle("the path does not fill the path size");
    for (size_t i = len; i < d.path_size; i++)
        if (d.path[i])
            return bad_handle("bytes after the path are not zero");
    bool ok;
    switch (d.kind) {
    case PROVIDER_IPC_MEMFD: ok = d.path[0] == 0; break;
    case PROVIDER_IPC_SHM: ok = shm_name_ok(d.path); break;
    default: ok = d.path[0] != 0; break; // FILE, DEVDAX: a path (maybe relative)
    }
    if (!ok)
        return bad_handle("the path does not fit the kind of object");
    memcpy(out, &d, PROVIDER_IPC_FIXED + d.path_size);
    return UMF_RESULT_SUCCESS;
}

static bool same_object(const provider_ipc_data_t *d, const os_file_id_t *id) {
    if (d->kind == PROVIDER_IPC_DEVDAX)
        return id->chardev && id->rdev == d->rdev; // the device, through any node of it
    return id->regular && id->dev == d->dev && id->ino == d->ino;
}

// The identity of descriptor fd of process pid: stat of /proc/PID/fd/N, or
// (where /proc is not readable) a duplicate taken with pidfd_getfd.
static int holder_identity(int pid, int fd, os_file_id_t *id) {
    int err = os_proc_fd_identity(pid, fd, id);
    if (err == 0 || err == ENOENT || err == ESRCH)
        return err;
    int dup;
    if ((err = os_fd_from_process(pid, fd, false, &dup)) != 0)
        return err;
    err = os_file_identity(dup, id);
    (void)os_file_close(dup);
    return err;
}

// The record's slot in the exporter's table: the table must be the one the
// record names (identity), large enough (its real size), and hold the id
// and digest (read id, digest, id: a slot recycled meanwhile fails).
umf_result_t provider_ipc_live_check(const provider_ipc_live_t *l) {
    if (l->pid <= 0 || l->table_fd < 0 || l->slot >= XT_SLOTS || l->id == 0)
        return bad_handle("invalid liveness record");
    int tfd, err = os_fd_from_process(l->pid, l->table_fd, false, &tfd);
    if (err) {
        LOG_ERR("IPC handle refused: cannot read the export table of process %d: error %d%s",
                l->pid, err, err == ESRCH ? " (the process is gone)" : "");
        return provider_ipc_errno_result(err);
    }
    umf_result_t r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    size_t ps = os_page_size();
    uint64_t at = l->slot * sizeof(xt_slot_t), page = ALIGN_DOWN(at, ps);
    os_file_id_t id;
    void *m = NULL;
    if (os_file_identity(tfd, &id) != 0 || !id.regular || id.dev != l->table_dev ||
        id.ino != l->table_ino || id.size < page + ps) {
        r = bad_handle("the export table is not the one the handle names");
    } else if ((err = os_map_fd(NULL, ps, OS_PROT_READ, OS_MAP_SHARED, tfd, page, &m)) != 0) {
        LOG_ERR("cannot map the export table of process %d: error %d", l->pid, err);
        r = provider_ipc_errno_result(err);
    } else {
        const xt_slot_t *s = (const xt_slot_t *)((char *)m + (at - page));
        uint64_t a = atomic_load_explicit(&s->id, memory_order_acquire);
        uint64_t dg = atomic_load_explicit(&s->digest, memory_order_relaxed);
        atomic_thread_fence(memory_order_acquire);
        uint64_t b = atomic_load_explicit(&s->id, memory_order_relaxed);
        if (a != l->id || b != a)
            r = bad_handle("stale: the exported memory was freed (or its pool or provider "
                           "destroyed)");
        else if (dg != l->digest)
            r = bad_handle("the handle does not describe the memory that was exported");
        else
            r = UMF_RESULT_SUCCESS;
        (void)os_unmap(m, ps);
    }
    (void)os_file_close(tfd);
    return r;
}

static umf_result_t check_slot(const provider_ipc_data_t *d) {
    if (d->digest != digest_of(d))
        return bad_handle("the handle does not describe the memory that was exported");
    provider_ipc_live_t l = {.pid = d->pid, .table_fd = d->table_fd, .table_dev = d->table_dev,
                             .table_ino = d->table_ino, .slot = d->slot, .id = d->export_id,
                             .digest = d->digest};
    return provider_ipc_live_check(&l);
}

umf_result_t provider_ipc_verify(const provider_ipc_data_t *d, const os_file_id_t *id) {
    if (!same_object(d, id))
        return bad_handle("the object opened is not the one the handle names");
    if (d->kind != PROVIDER_IPC_MEMFD) {
        // A name or path reaches whatever this process may open; require
        // the exporter to hold that very object, so that a handle can only
        // hand over memory its sender has.
        os_file_id_t held;
        int err = holder_identity(d->pid, d->fd, &held);
        if (err) {
            LOG_ERR("IPC handle refused: cannot see descriptor %d of process %d: error %d",
                    d->fd, d->pid, err);
            return provider_ipc_errno_result(err);
        }
        if (!same_object(d, &held))
            return bad_handle("the exporting process does not hold that object");
    }
    return check_slot(d);
}

// ---- opening: mapping, and the registry of what was mapped ----------------------

typedef struct opened_t {
    uintptr_t ptr;  // what open returned
    uintptr_t map;  // the mapping (ptr rounded down to the alignment)
    size_t len;
} opened_t;

static struct {
    pthread_mutex_t lock;
    opened_t *v; // protected by: lock
    size_t n, cap;
} opened = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool opened_add(opened_t o) {
    bool ok = true;
    pthread_mutex_lock(&opened.lock);
    if (opened.n == opened.cap) {
        size_t cap = opened.cap ? opened.cap * 2 : EXT_MIN_CAP;
        opened_t *v = meta_alloc(cap * sizeof *v);
        if (!v) {
            ok = false;
            goto out;
        }
        if (opened.n)
            memcpy(v, opened.v, opened.n * sizeof *v);
        meta_free(opened.v, opened.cap * sizeof *v);
        opened.v = v;
        opened.cap = cap;
    }
    opened.v[opened.n++] = o;
out:
    pthread_mutex_unlock(&opened.lock);
    return ok;
}

umf_result_t provider_ipc_map(const provider_ipc_data_t *d, int fd, uint64_t obj_size, int prot,
                              void **ptr) {
    if (d->off > obj_size || d->size > obj_size - d->off)
        return bad_handle("the range lies beyond the end of the object");
    uint64_t moff = ALIGN_DOWN(d->off, d->align), delta = d->off - moff;
    size_t len;
    if (delta + d->size > SIZE_MAX || !align_up_checked((size_t)(delta + d->size), d->align, &len))
        return bad_handle("the range is too large");
    void *m;
    int err = os_map_fd(NULL, len, prot, OS_MAP_SHARED, fd, moff, &m);
    if (err) {
        LOG_ERR("mapping %zu bytes of an IPC object at offset %llu failed: error %d", len,
                (unsigned long long)moff, err);
        return provider_ipc_errno_result(err);
    }
    // Huge page and device DAX mappings come aligned from the kernel; a
    // handle claiming an alignment the object does not have is refused.
    if (!IS_ALIGNED((uintptr_t)m, d->align)) {
        (void)os_unmap(m, len);
        return bad_handle("the object cannot be mapped at the handle's alignment");
    }
    opened_t o = {.ptr = (uintptr_t)m + (uintptr_t)delta, .map = (uintptr_t)m, .len = len};
    if (!opened_add(o)) {
        (void)os_unmap(m, len);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    *ptr = (void *)o.ptr;
    return UMF_RESULT_SUCCESS;
}

umf_result_t provider_ipc_unmap(void *ptr) {
    opened_t o = {0};
    bool found = false;
    pthread_mutex_lock(&opened.lock);
    for (size_t i = 0; i < opened.n; i++) {
        if (opened.v[i].ptr == (uintptr_t)ptr) {
            o = opened.v[i];
            opened.v[i] = opened.v[--opened.n];
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&opened.lock);
    if (!found) {
        LOG_ERR("close of %p: not memory opened from an IPC handle", ptr);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    int err = os_unmap((void *)o.map, o.len);
    if (err)
        return provider_os_native_error(UMF_OS_RESULT_ERROR_FREE_FAILED, err,
                                        "unmapping IPC memory failed");
    return UMF_RESULT_SUCCESS;
}

// Takes the object a handle names: the memfd from the exporter; the shm
// file by name; a file or device by path, or - when the path does not lead
// to that object here (a relative path, a renamed file) - from the
// exporter. Every way ends with the identity check of provider_ipc_verify.
static int obtain(const provider_ipc_data_t *d, bool writable, int *fd, os_file_id_t *id) {
    int err;
    switch (d->kind) {
    case PROVIDER_IPC_MEMFD: err = os_fd_from_process(d->pid, d->fd, writable, fd); break;
    case PROVIDER_IPC_SHM: err = os_shm_open(d->path, false, false, fd); break;
    default:
        err = os_file_open_existing(d->path, writable, fd);
        if (err == 0 && (os_file_identity(*fd, id) != 0 || !same_object(d, id))) {
            (void)os_file_close(*fd);
            err = ESTALE;
        }
        if (err)
            err = os_fd_from_process(d->pid, d->fd, writable, fd);
        break;
    }
    if (err)
        return err;
    if ((err = os_file_identity(*fd, id)) != 0)
        (void)os_file_close(*fd);
    return err;
}

umf_result_t provider_ipc_open(const void *raw, unsigned kinds, int prot, void **ptr) {
    provider_ipc_data_t d;
    umf_result_t r = provider_ipc_load(raw, SIZE_MAX, kinds, &d);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    int fd, err;
    os_file_id_t id;
    if ((err = obtain(&d, (prot & OS_PROT_WRITE) != 0, &fd, &id)) != 0) {
        LOG_ERR("IPC handle refused: cannot open %s of process %d: error %d%s",
                d.path[0] ? d.path : "the memfd", d.pid, err,
                err == ESRCH ? " (the process is gone)" : "");
        return provider_ipc_errno_result(err);
    }
    uint64_t size = id.size, align;
    r = provider_ipc_verify(&d, &id);
    if (r == UMF_RESULT_SUCCESS && d.kind == PROVIDER_IPC_DEVDAX) {
        // A device's size is not in stat: sysfs has it, and its alignment.
        if ((err = os_devdax_geometry(fd, &size, &align)) != 0)
            r = bad_handle("the device is not a device DAX");
        else if (d.align < align)
            r = bad_handle("the alignment is below the device's");
    }
    if (r == UMF_RESULT_SUCCESS)
        r = provider_ipc_map(&d, fd, size, prot, ptr);
    (void)os_file_close(fd);
    return r;
}

// ---- the operations the three providers share ------------------------------------


// The export lives until its memory is freed (UMF's semantics: handles sent
// earlier stay valid), so there is nothing to release; data made by another
// process is refused.
umf_result_t provider_ipc_put(void *provider, void *data) {
    (void)provider;
    provider_ipc_data_t d;
    umf_result_t r = provider_ipc_load(data, SIZE_MAX, ~0u, &d);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    if (d.pid != os_getpid())
        return bad_handle("put of IPC data made by another process");
    return UMF_RESULT_SUCCESS;
}

umf_result_t provider_ipc_close(void *provider, void *ptr, size_t size) {
    (void)provider;
    (void)size; // the registry knows what was mapped
    return provider_ipc_unmap(ptr);
}

bool provider_ipc_is_native(const struct umf_memory_provider_t *provider) {
    return provider && provider->ops.ipc.put_ipc_handle == provider_ipc_put;
}

// ---- the OS provider's operations --------------------------------------------------

// Shared visibility only: private memory has no object another process
// could map. The range must lie in one extent (an allocation, or a part of
// one that allocation_split made).
umf_result_t provider_os_ipc_get(void *provider, const void *ptr, size_t size, void *data) {
    provider_os_t *p = provider;
    if (!p->shared) {
        LOG_ERR("IPC needs shared visibility (UMF_MEM_MAP_SHARED); this OS provider is private");
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    provider_os_shared_ref_t ref;
    if (size == 0 || provider_os_shared_lookup(p, ptr, &ref) != UMF_RESULT_SUCCESS ||
        size > ref.avail) {
        LOG_ERR("IPC handle of %p+%zu: not an allocation of this provider", ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    os_file_id_t id;
    int err = os_file_identity(p->fd, &id);
    if (err)
        return provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err,
                                        "fstat of the shared memory file failed");
    provider_ipc_data_t d;
    memset(&d, 0, sizeof d);
    d.magic = PROVIDER_IPC_MAGIC;
    d.version = PROVIDER_IPC_VERSION;
    d.kind = p->shm_name ? PROVIDER_IPC_SHM : PROVIDER_IPC_MEMFD;
    d.pid = os_getpid();
    d.fd = p->fd;
    d.dev = id.dev;
    d.ino = id.ino;
    d.off = ref.off;
    d.size = size;
    d.align = p->unit;
    if (p->shm_name)
        memcpy(d.path, p->shm_name, strlen(p->shm_name) + 1); // <= PROVIDER_OS_SHM_NAME_MAX
    umf_result_t r = provider_ipc_export(p, (uintptr_t)ptr, size, &d);
    if (r == UMF_RESULT_SUCCESS)
        provider_ipc_store(&d, data);
    return r;
}

umf_result_t provider_os_ipc_size(void *provider, size_t *size) {
    provider_os_t *p = provider;
    if (!size)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    *size = provider_ipc_wire_size(p->shm_name ? p->shm_name : "");
    return UMF_RESULT_SUCCESS;
}

umf_result_t provider_os_ipc_open(void *provider, void *data, void **ptr) {
    provider_os_t *p = provider;
    return provider_ipc_open(data, 1u << PROVIDER_IPC_MEMFD | 1u << PROVIDER_IPC_SHM, p->prot,
                             ptr);
}
