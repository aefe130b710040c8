// SPDX-License-Identifier: MIT
// The export table of IPC (design: ipc_backing.h): a memfd of slots
// {id, digest} that tells an opener, in any process, whether an export - a
// provider range (ipc_export) or a pool allocation (ipc.c) - is still
// alive. Records end when the memory is freed: pools tell ipc.c, our
// providers call provider_memory_freed, whose hook is installed here.
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "base/lock.h"
#include "ipc/ipc_backing.h"
#include "providers/provider_os.h"

static umf_result_t bad_handle(const char *why) {
    LOG_ERR("IPC handle refused: %s", why);
    return UMF_RESULT_ERROR_INVALID_ARGUMENT;
}

#define XT_SLOTS IPC_LIVE_SLOTS

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
LOCK_STATIC(xt_lock, LOCK_RANK_IPC_LIVE) // protects xt but for `live`
static struct {
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
} xt = {.fd = -1};

// The child handler runs after lock.c's registry walk has released every
// lock (xt_lock too) and resets what the child must not keep: the parent's
// table (the child restarts with no slots; its frees never end the
// parent's exports). Async-signal-safe work only: no meta calls; `ent`
// stays allocated for the child's own use.
static void xt_child(void) {
    if (xt.ready)
        (void)os_file_close(xt.fd);
    xt.ready = false;
    xt.fd = -1;
    xt.slots = NULL;
    xt.hwm = xt.free_head = 0;
    atomic_store_explicit(&xt.live, 0, memory_order_relaxed);
}

// Our providers' frees and finalizes (provider_memory_freed).
static void provider_freed(const void *owner, uintptr_t start, size_t len) {
    (void)ipc_live_end(owner, start, len);
}

// Called with xt_lock held. Returns 0 or an errno value.
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
    if (!xt.atfork && pthread_atfork(NULL, NULL, xt_child) == 0)
        xt.atfork = true;
    provider_set_freed_hook(provider_freed);
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

static uint64_t digest_of(const ipc_pdata_t *d) {
    uint64_t h = mix(0, d->kind);
    h = mix(h, d->dev);
    h = mix(h, d->ino);
    h = mix(h, d->rdev);
    h = mix(h, d->off);
    h = mix(h, d->size);
    h = mix(h, d->align);
    return mix(h, (uint64_t)(uint32_t)d->pid);
}

umf_result_t ipc_live_add(const void *owner, uintptr_t start, size_t len,
                                   uint64_t digest, ipc_live_t *out, bool *fresh) {
    umf_result_t r = UMF_RESULT_SUCCESS;
    uint32_t i;
    uint64_t id;
    *fresh = false;
    lock_acquire(&xt_lock);
    if (!xt.ready) {
        int err = xt_create();
        if (err) {
            LOG_ERR("cannot create the IPC export table: %s", LOG_STRERROR(err));
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
    *out = (ipc_live_t){.pid = os_getpid(), .table_fd = xt.fd, .table_dev = xt.dev,
                                 .table_ino = xt.ino, .slot = i, .id = id, .digest = digest};
out:
    lock_release(&xt_lock);
    return r;
}

umf_result_t ipc_export(const void *owner, uintptr_t start, size_t len,
                                 ipc_pdata_t *d) {
    ipc_live_t l;
    bool fresh;
    umf_result_t r = ipc_live_add(owner, start, len, digest_of(d), &l, &fresh);
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

static bool exporting(void) { return atomic_load_explicit(&xt.live, memory_order_relaxed) != 0; }

size_t ipc_live_end(const void *owner, uintptr_t start, size_t len) {
    if (!exporting())
        return 0;
    size_t n = 0;
    uintptr_t end = len > UINTPTR_MAX - start ? UINTPTR_MAX : start + len;
    lock_acquire(&xt_lock);
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
    lock_release(&xt_lock);
    return n;
}


// The record's slot in the exporter's table: the table must be the one the
// record names (identity), large enough (its real size), and hold the id
// and digest (read id, digest, id: a slot recycled meanwhile fails).
umf_result_t ipc_live_check(const ipc_live_t *l) {
    if (l->pid <= 0 || l->table_fd < 0 || l->slot >= XT_SLOTS || l->id == 0)
        return bad_handle("invalid liveness record");
    int tfd, err = os_fd_from_process(l->pid, l->table_fd, false, &tfd);
    if (err) {
        LOG_ERR("IPC handle refused: cannot read the export table of process %d: %s%s",
                l->pid, LOG_STRERROR(err), err == ESRCH ? " (the process is gone)" : "");
        return ipc_errno_result(err);
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
        LOG_ERR("cannot map the export table of process %d: %s", l->pid, LOG_STRERROR(err));
        r = ipc_errno_result(err);
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

umf_result_t ipc_export_check(const ipc_pdata_t *d) {
    if (d->digest != digest_of(d))
        return bad_handle("the handle does not describe the memory that was exported");
    ipc_live_t l = {.pid = d->pid, .table_fd = d->table_fd, .table_dev = d->table_dev,
                             .table_ino = d->table_ino, .slot = d->slot, .id = d->export_id,
                             .digest = d->digest};
    return ipc_live_check(&l);
}

