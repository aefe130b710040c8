// SPDX-License-Identifier: MIT
// Shared visibility of the OS memory provider: the backing fd, its extent
// map (addr -> file offset) and the IPC describe hook. The design:
// docs/providers-pools.md, "The OS provider".
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "providers/provider_os.h"

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
            LOG_WARN("cannot unlink a stale /dev/shm/%s: %s", shm_name, LOG_STRERROR(err));
        if ((err = os_shm_open(shm_name, true, true, &fd)) != 0) {
            LOG_ERR("creating /dev/shm/%s failed: %s", shm_name, LOG_STRERROR(err));
            return provider_os_native_error(UMF_OS_RESULT_ERROR_ALLOC_FAILED, err,
                                            "creating the shm file failed");
        }
        p->shm_name = meta_strdup(shm_name);
        if (!p->shm_name) {
            (void)os_file_close(fd);
            (void)os_shm_unlink(shm_name);
            return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        }
    } else {
        if ((err = os_memfd_create("hetmem_os_provider", p->huge_flags, &fd)) != 0)
            return provider_os_alloc_error(err, "creating the memfd failed");
    }
    p->fd = fd;
    lock_init(&p->lock, LOCK_RANK_PROVIDER, "os provider shared");
    return UMF_RESULT_SUCCESS;
}

void provider_os_shared_fini(provider_os_t *p) {
    provider_memory_freed(p, 0, SIZE_MAX); // handles of this provider are stale from now
    (void)os_file_close(p->fd);
    if (p->shm_name) {
        // Processes that opened the file keep their mappings and fds.
        (void)os_shm_unlink(p->shm_name);
        meta_free(p->shm_name, strlen(p->shm_name) + 1);
    }
    meta_free(p->ext, p->ext_cap * sizeof *p->ext);
    lock_fini(&p->lock); // the caller frees p next
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
    lock_acquire(&p->lock);
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
            r = provider_os_alloc_error(err, "reserving address space failed");
            goto out_unlock;
        }
    }
    err = os_map_fd(resv, len, p->prot, OS_MAP_SHARED, p->fd, off, &addr);
    if (err) {
        r = provider_os_alloc_error(err, "mapping shared memory failed"); // ENOMEM: no huge pages
        if (resv)
            (void)os_unmap(resv, len);
        goto out_unlock;
    }
    // Bind first, grow second: the pages growth commits (and those faulted
    // later) follow the shared policy mbind records for these file offsets.
    r = bind(ctx, addr, len);
    if (r != UMF_RESULT_SUCCESS)
        goto out_unmap;
    // Sparse growth (ftruncate): pages are committed on first touch, where
    // the binding applies, and holes punched by free/purge stay holes.
    if ((err = os_file_truncate(p->fd, off + len)) != 0) {
        r = provider_os_alloc_error(err, "growing the shared memory file failed");
        goto out_unmap;
    }
    ext_insert(p, ext_find(p, (uintptr_t)addr),
               (provider_os_extent_t){.addr = (uintptr_t)addr, .size = len, .off = off});
    p->fd_next = off + len;
    lock_release(&p->lock);
    *out = addr;
    return UMF_RESULT_SUCCESS;

out_unmap:
    (void)os_unmap(addr, len);
    (void)os_file_punch_hole(p->fd, off, len); // whatever growth committed
    p->fd_next = off + len; // the range may hold a policy: never reuse it
out_unlock:
    lock_release(&p->lock);
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

// Free (`release`) or purge (punch) any range made of whole extents or parts of
// them (a pool may give back part of an allocation without splitting it
// first). Checked before anything changes, so a bad free (twice, or memory
// not ours) is refused. A free unmaps, then punches the file: a failed
// punch only leaves the pages in the file until the provider is destroyed.
umf_result_t provider_os_shared_drop(provider_os_t *p, void *addr, size_t len, bool release) {
    uintptr_t a = (uintptr_t)addr, b = a + len;
    size_t i;
    int err;
    umf_result_t r = UMF_RESULT_SUCCESS;
    lock_acquire(&p->lock);
    if (b < a || !ext_covers(p, a, b, &i)) {
        LOG_ERR("%s of %p+%zu: not memory of this provider", release ? "free" : "purge", addr,
                len);
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    } else if (!release) {
        if ((err = punch(p, i, a, b)) != 0)
            r = provider_os_native_error(UMF_OS_RESULT_ERROR_PURGE_FORCE_FAILED, err,
                                         "punching shared memory failed");
    } else if (!ext_reserve(p, 1)) {
        r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    } else {
        provider_memory_freed(p, a, len); // IPC handles of the range are stale first
        if ((err = os_unmap(addr, len)) != 0) {
            r = provider_os_native_error(UMF_OS_RESULT_ERROR_FREE_FAILED, err,
                                         "unmapping shared memory failed");
        } else {
            if ((err = punch(p, i, a, b)) != 0)
                LOG_WARN("punching the freed range %p+%zu failed: %s", addr, len,
                         LOG_STRERROR(err));
            ext_cut(p, i, a, b);
        }
    }
    lock_release(&p->lock);
    return r;
}

// total and first are whole units (checked by the caller); the extent must
// be exactly the allocation being split.
umf_result_t provider_os_shared_split(provider_os_t *p, void *addr, size_t total, size_t first) {
    umf_result_t r = UMF_RESULT_SUCCESS;
    lock_acquire(&p->lock);
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
    lock_release(&p->lock);
    return r;
}

umf_result_t provider_os_shared_merge(provider_os_t *p, void *low, void *high, size_t total) {
    umf_result_t r = UMF_RESULT_SUCCESS;
    lock_acquire(&p->lock);
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
    lock_release(&p->lock);
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
    lock_acquire(&p->lock);
    size_t i = ext_find(p, a);
    if (i < p->ext_len && p->ext[i].addr <= a) {
        const provider_os_extent_t *e = &p->ext[i];
        out->fd = p->fd;
        out->shm_name = p->shm_name;
        out->off = e->off + (a - e->addr);
        out->avail = e->size - (a - e->addr);
        r = UMF_RESULT_SUCCESS;
    }
    lock_release(&p->lock);
    return r;
}

// ---- the IPC describe hook -----------------------------------------------------

// Shared visibility only: private memory has no object another process
// could map. The range must lie in one extent (an allocation, or a part of
// one that allocation_split made).
umf_result_t provider_os_describe(void *priv, const void *ptr, size_t size,
                                  provider_ipc_desc_t *out) {
    provider_os_t *p = priv;
    *out = (provider_ipc_desc_t){.kind = p->shm_name ? PROVIDER_OBJ_SHM : PROVIDER_OBJ_MEMFD,
                                 .fd = p->fd, .path = p->shm_name ? p->shm_name : "",
                                 .align = p->unit, .prot = p->prot, .owner = p};
    if (!ptr)
        return UMF_RESULT_SUCCESS;
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
    out->off = ref.off;
    return UMF_RESULT_SUCCESS;
}
