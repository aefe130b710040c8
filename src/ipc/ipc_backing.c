// SPDX-License-Identifier: MIT
// The IPC operations of our providers (OS shared, file, devdax), driven
// through their describe hooks (design: ipc_backing.h): the wire form of
// ipc_pdata_t and its checks, making a handle from a description, taking
// the object a handle names, the checks against the exporter (it holds the
// object, the export is live), the mapping and the registry of what opens
// mapped.
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "base/lock.h"
#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "ipc/ipc_backing.h"
#include "providers/provider_os.h"

#define EXT_MIN_CAP 16

// ---- opening: checks ------------------------------------------------------------

umf_result_t ipc_errno_result(int err) {
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

size_t ipc_pdata_wire_size(const char *path) {
    size_t len = strnlen(path, IPC_PDATA_PATH_MAX);
    return len >= IPC_PDATA_PATH_MAX ? 0 : IPC_PDATA_FIXED + ALIGN_UP(len + 1, 8);
}

static void pdata_store(ipc_pdata_t *d, void *out) {
    size_t len = strlen(d->path), path_size = ALIGN_UP(len + 1, 8);
    d->path_size = (uint32_t)path_size;
    d->reserved = 0;
    memcpy(out, d, IPC_PDATA_FIXED);
    char *p = (char *)out + IPC_PDATA_FIXED;
    memcpy(p, d->path, len);
    memset(p + len, 0, path_size - len);
}

umf_result_t ipc_pdata_load(const void *raw, size_t size, unsigned kinds,
                               ipc_pdata_t *out) {
    ipc_pdata_t d;
    if (!raw || !out)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    if (size < IPC_PDATA_FIXED)
        return bad_handle("provider IPC data shorter than its fixed part");
    // A private copy (the sender's buffer may change): magic and version
    // first (8 bytes of a buffer that is not ours are read), then the fixed
    // part: path_size says how much more there is to read.
    memcpy(&d, raw, 8);
    if (d.magic != IPC_PDATA_MAGIC || d.version != IPC_PDATA_VERSION)
        return bad_handle("not hetmem provider IPC data (magic or version)");
    memcpy(&d, raw, IPC_PDATA_FIXED);
    if (d.path_size < 8 || d.path_size > IPC_PDATA_PATH_MAX || d.path_size % 8 || d.reserved)
        return bad_handle("invalid path size in provider IPC data");
    if (size != SIZE_MAX && size != IPC_PDATA_FIXED + d.path_size)
        return bad_handle("the provider IPC data is not the size its path needs");
    if (d.kind < PROVIDER_OBJ_MEMFD || d.kind > PROVIDER_OBJ_DEVDAX || !(kinds & (1u << d.kind)))
        return bad_handle("the backing object is of a kind this provider does not open");
    if (d.pid <= 0 || d.fd < 0 || d.table_fd < 0)
        return bad_handle("invalid process or descriptor numbers");
    if (d.size == 0 || d.off > (uint64_t)INT64_MAX || d.size > (uint64_t)INT64_MAX - d.off)
        return bad_handle("invalid offset or size");
    if (!is_pow2((size_t)d.align) || d.align < os_page_size() || d.align > ((uint64_t)1 << 30))
        return bad_handle("invalid mapping alignment");
    if (d.slot >= IPC_LIVE_SLOTS || d.export_id == 0)
        return bad_handle("invalid export slot");
    memcpy(d.path, (const char *)raw + IPC_PDATA_FIXED, d.path_size);
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
    case PROVIDER_OBJ_MEMFD: ok = d.path[0] == 0; break;
    case PROVIDER_OBJ_SHM: ok = shm_name_ok(d.path); break;
    default: ok = d.path[0] != 0; break; // FILE, DEVDAX: a path (maybe relative)
    }
    if (!ok)
        return bad_handle("the path does not fit the kind of object");
    memcpy(out, &d, IPC_PDATA_FIXED + d.path_size);
    return UMF_RESULT_SUCCESS;
}

static bool same_object(const ipc_pdata_t *d, const os_file_id_t *id) {
    if (d->kind == PROVIDER_OBJ_DEVDAX)
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

static umf_result_t verify(const ipc_pdata_t *d, const os_file_id_t *id) {
    if (!same_object(d, id))
        return bad_handle("the object opened is not the one the handle names");
    if (d->kind != PROVIDER_OBJ_MEMFD) {
        // A name or path reaches whatever this process may open; require
        // the exporter to hold that very object, so that a handle can only
        // hand over memory its sender has.
        os_file_id_t held;
        int err = holder_identity(d->pid, d->fd, &held);
        if (err) {
            LOG_ERR("IPC handle refused: cannot see descriptor %d of process %d: %s",
                    d->fd, d->pid, LOG_STRERROR(err));
            return ipc_errno_result(err);
        }
        if (!same_object(d, &held))
            return bad_handle("the exporting process does not hold that object");
    }
    return ipc_export_check(d);
}

// ---- opening: mapping, and the registry of what was mapped ----------------------

typedef struct opened_t {
    uintptr_t ptr;  // what open returned
    uintptr_t map;  // the mapping (ptr rounded down to the alignment)
    size_t len;
} opened_t;

LOCK_STATIC(opened_lock, LOCK_RANK_IPC_PROVIDER)
static struct {
    opened_t *v; // protected by: opened_lock
    size_t n, cap;
} opened;

static bool opened_add(opened_t o) {
    bool ok = true;
    lock_acquire(&opened_lock);
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
    lock_release(&opened_lock);
    return ok;
}

static umf_result_t map_range(const ipc_pdata_t *d, int fd, uint64_t obj_size, int prot,
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
        LOG_ERR("mapping %zu bytes of an IPC object at offset %llu failed: %s", len,
                (unsigned long long)moff, LOG_STRERROR(err));
        return ipc_errno_result(err);
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

umf_result_t ipc_native_close(void *ptr) {
    opened_t o = {0};
    bool found = false;
    lock_acquire(&opened_lock);
    for (size_t i = 0; i < opened.n; i++) {
        if (opened.v[i].ptr == (uintptr_t)ptr) {
            o = opened.v[i];
            opened.v[i] = opened.v[--opened.n];
            found = true;
            break;
        }
    }
    lock_release(&opened_lock);
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
// exporter. Every way ends with the identity check of verify.
static int obtain(const ipc_pdata_t *d, bool writable, int *fd, os_file_id_t *id) {
    int err;
    switch (d->kind) {
    case PROVIDER_OBJ_MEMFD: err = os_fd_from_process(d->pid, d->fd, writable, fd); break;
    case PROVIDER_OBJ_SHM: err = os_shm_open(d->path, false, false, fd); break;
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

static umf_result_t open_object(const void *raw, unsigned kinds, int prot, void **ptr) {
    ipc_pdata_t d;
    umf_result_t r = ipc_pdata_load(raw, SIZE_MAX, kinds, &d);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    int fd, err;
    os_file_id_t id;
    if ((err = obtain(&d, (prot & OS_PROT_WRITE) != 0, &fd, &id)) != 0) {
        LOG_ERR("IPC handle refused: cannot open %s of process %d: %s%s",
                d.path[0] ? d.path : "the memfd", d.pid, LOG_STRERROR(err),
                err == ESRCH ? " (the process is gone)" : "");
        return ipc_errno_result(err);
    }
    uint64_t size = id.size, align;
    r = verify(&d, &id);
    if (r == UMF_RESULT_SUCCESS && d.kind == PROVIDER_OBJ_DEVDAX) {
        // A device's size is not in stat: sysfs has it, and its alignment.
        if ((err = os_devdax_geometry(fd, &size, &align)) != 0)
            r = bad_handle("the device is not a device DAX");
        else if (d.align < align)
            r = bad_handle("the alignment is below the device's");
    }
    if (r == UMF_RESULT_SUCCESS)
        r = map_range(&d, fd, size, prot, ptr);
    (void)os_file_close(fd);
    return r;
}

// ---- the operations, over the providers' describe hooks ------------------------

umf_result_t ipc_native_size(const provider_ipc_hooks_t *hk, void *priv, size_t *size) {
    provider_ipc_desc_t o;
    umf_result_t r = hk->describe(priv, NULL, 0, &o);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    size_t n = ipc_pdata_wire_size(o.path);
    if (n == 0) {
        LOG_ERR("the path %.64s... is too long for an IPC handle", o.path);
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    *size = n;
    return UMF_RESULT_SUCCESS;
}

// The handle names the object (path, the exporter's descriptor, identity),
// the range's offset in it, its size and the mapping granularity; the
// export is registered under the provider's state as owner.
umf_result_t ipc_native_get(const provider_ipc_hooks_t *hk, void *priv, const void *ptr,
                            size_t size, void *data) {
    provider_ipc_desc_t o;
    umf_result_t r = hk->describe(priv, ptr, size, &o);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    size_t plen = strlen(o.path);
    if (plen >= IPC_PDATA_PATH_MAX)
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    os_file_id_t id;
    int err = os_file_identity(o.fd, &id);
    if (err)
        return provider_errno_to_result(err);
    ipc_pdata_t d;
    memset(&d, 0, IPC_PDATA_FIXED);
    d.magic = IPC_PDATA_MAGIC;
    d.version = IPC_PDATA_VERSION;
    d.kind = o.kind;
    d.pid = os_getpid();
    d.fd = o.fd;
    d.dev = id.dev;
    d.ino = id.ino;
    d.rdev = o.kind == PROVIDER_OBJ_DEVDAX ? id.rdev : 0;
    d.off = o.off;
    d.size = size;
    d.align = o.align;
    memcpy(d.path, o.path, plen + 1);
    r = ipc_export(o.owner, (uintptr_t)ptr, size, &d);
    if (r == UMF_RESULT_SUCCESS)
        pdata_store(&d, data);
    return r;
}

// The export lives until its memory is freed (UMF's semantics: handles sent
// earlier stay valid), so there is nothing to release; data made by another
// process is refused.
umf_result_t ipc_native_put(void *data) {
    ipc_pdata_t d;
    umf_result_t r = ipc_pdata_load(data, SIZE_MAX, ~0u, &d);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    if (d.pid != os_getpid())
        return bad_handle("put of IPC data made by another process");
    return UMF_RESULT_SUCCESS;
}

// The opener's own protection applies; its own object is not involved.
umf_result_t ipc_native_open(const provider_ipc_hooks_t *hk, void *priv, void *data, void **ptr) {
    provider_ipc_desc_t o;
    umf_result_t r = hk->describe(priv, NULL, 0, &o);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    return open_object(data, hk->opens, o.prot, ptr);
}
