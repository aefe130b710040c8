// SPDX-License-Identifier: MIT
// The file memory provider (umf/providers/provider_file_memory.h): a
// regular file mapped in reservations that grow with use (file offset
// off+X at base+X of each), carved by the coarse core. Mapping, growth,
// visibility, purge and IPC: docs/providers-pools.md, "The coarse providers".
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include <umf/memory_provider_ops.h>
#include <umf/providers/provider_file_memory.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "os/os.h"
#include "providers/coarse.h"

#define RESERVE_MIN ((size_t)4 << 20)  // smallest reservation of address space
#define RESERVE_ALIGN ((size_t)2 << 20) // reservations are aligned and sized to this
#define GROW_FIRST ((size_t)64 << 10)   // first growth step of the file and mapping
#define GROW_MAX ((size_t)2 << 20)      // growth steps double up to this
#define FILE_MAX ((uint64_t)64 << 30)   // the file grows to this (or twice its first size)

/// Params: owned by the caller.
struct umf_file_memory_provider_params_t {
    coarse_params_t base; // first: path, protection
    umf_memory_visibility_t visibility;
};

/// One provider: the core and the file. orig_size is immutable after
/// initialize; file_end only grows (under the core's grow lock).
typedef struct file_provider_t {
    coarse_t core;      // first; core.fd / core.path are the file's
    uint64_t orig_size; // the file's size when it was opened
    uint64_t file_end;  // bytes of the file mapped in all segments
} file_provider_t;

static __thread provider_native_error_t file_error;
static provider_native_error_t *native_error(void) { return &file_error; }

// ---- params -----------------------------------------------------------------

HETMEM_EXPORT umf_result_t
umfFileMemoryProviderParamsCreate(umf_file_memory_provider_params_handle_t *hParams,
                                  const char *path) {
    umf_result_t r = coarse_params_create(sizeof **hParams, path, "file", (void **)hParams);
    if (r == UMF_RESULT_SUCCESS)
        (*hParams)->visibility = UMF_MEM_MAP_PRIVATE; // the UMF default
    return r;
}

HETMEM_EXPORT umf_result_t
umfFileMemoryProviderParamsDestroy(umf_file_memory_provider_params_handle_t hParams) {
    coarse_params_destroy(hParams ? &hParams->base : NULL, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfFileMemoryProviderParamsSetPath(
    umf_file_memory_provider_params_handle_t hParams, const char *path) {
    return coarse_params_set_path(hParams ? &hParams->base : NULL, path, "file");
}

HETMEM_EXPORT umf_result_t umfFileMemoryProviderParamsSetProtection(
    umf_file_memory_provider_params_handle_t hParams, unsigned protection) {
    return coarse_params_set_protection(hParams ? &hParams->base : NULL, protection, "file");
}

HETMEM_EXPORT umf_result_t umfFileMemoryProviderParamsSetVisibility(
    umf_file_memory_provider_params_handle_t hParams, umf_memory_visibility_t visibility) {
    PARAMS_SET(hParams, visibility, visibility,
               visibility == UMF_MEM_MAP_PRIVATE || visibility == UMF_MEM_MAP_SHARED,
               "file provider: invalid visibility %d", (int)visibility);
}

// ---- backend: growth and purge ---------------------------------------------

// Maps file bytes [file_end, file_end + len) at `at`, extending the file
// first. 0 or the errno of the extension or the mapping.
static int map_file(file_provider_t *fp, uintptr_t at, size_t len) {
    coarse_t *c = &fp->core;
    int e = os_file_extend(c->fd, fp->file_end + len);
    if (e) {
        LOG_ERR("file provider: cannot extend %s to %llu bytes (%s)", c->path,
                (unsigned long long)(fp->file_end + len), LOG_STRERROR(e));
        return e;
    }
    void *p;
    e = os_map_fd((void *)at, len, c->prot, c->shared ? OS_MAP_SHARED : OS_MAP_PRIVATE, c->fd,
                  fp->file_end, &p);
    if (e)
        LOG_ERR("file provider: cannot map %s at offset %llu (%s)", c->path,
                (unsigned long long)fp->file_end, LOG_STRERROR(e));
    return e;
}

// Reserves `want` bytes right after the newest segment, which then holds
// them (its file range stays contiguous). False when that space is taken.
static bool reserve_after(coarse_seg_t *s, size_t want) {
    void *hint = (void *)(s->base + s->reserved), *p;
    if (os_map_anon(hint, want, 0, OS_PROT_NONE, OS_MAP_NORESERVE, &p) != 0)
        return false;
    if (p != hint) {
        (void)os_unmap(p, want);
        return false;
    }
    s->reserved += want;
    return true;
}

// Maps `len` more bytes (a page multiple): at the end of the newest
// segment while its reservation has room (grown in place when the address
// space after it is free), else in a new reservation of at least
// everything reserved so far. Called with the grow lock held.
static int grow_by(file_provider_t *fp, size_t len) {
    coarse_t *c = &fp->core;
    coarse_seg_t *s = coarse_seg_newest(c);
    uint64_t cap = fp->orig_size > FILE_MAX / 2 ? 2 * fp->orig_size : FILE_MAX;
    size_t reserved, want;
    int e;
    if (len > cap - fp->file_end) {
        LOG_ERR("file provider: %s would grow past %llu bytes", c->path, (unsigned long long)cap);
        return ENOMEM;
    }
    coarse_totals(c, NULL, &reserved);
    want = len > reserved ? len : reserved;
    if (want < RESERVE_MIN)
        want = RESERVE_MIN;
    if (!align_up_checked(want, RESERVE_ALIGN, &want))
        return ENOMEM;
    if (s && s->reserved - s->mapped < len)
        (void)reserve_after(s, want);
    if (s && s->reserved - s->mapped >= len) {
        if ((e = map_file(fp, s->base + s->mapped, len)) != 0)
            return e;
        // On failure the new pages stay mapped but unused: a later growth
        // maps the same file range over them again.
        if ((e = coarse_seg_extend(c, len)) != 0)
            return e;
    } else {
        void *base;
        if ((e = os_map_anon(NULL, want, RESERVE_ALIGN, OS_PROT_NONE, OS_MAP_NORESERVE, &base)))
            return e;
        if ((e = map_file(fp, (uintptr_t)base, len)) != 0 ||
            (e = coarse_seg_add(c, (uintptr_t)base, want, len, fp->file_end)) != 0) {
            (void)os_unmap(base, want);
            return e;
        }
        LOG_DEBUG("file provider: %s: %zu bytes of address space more at %p", c->path, want,
                  base);
    }
    fp->file_end += len;
    return 0;
}

// coarse_backend_t.grow: enough for any placement of the request, and at
// least the next growth step (which doubles, GROW_FIRST..GROW_MAX).
static int file_grow(coarse_t *c, size_t size, size_t align) {
    file_provider_t *fp = (file_provider_t *)c;
    size_t need, step = fp->file_end < GROW_FIRST ? GROW_FIRST
                        : fp->file_end > GROW_MAX ? GROW_MAX
                                                  : (size_t)fp->file_end;
    if (__builtin_add_overflow(size, align, &need) ||
        !align_up_checked(need > step ? need : step, os_page_size(), &need))
        return ENOMEM;
    return grow_by(fp, need);
}

// purge_force (the range then reads as zeros):
//   shared  punch a hole in the file (FALLOC_FL_PUNCH_HOLE|KEEP_SIZE): the
//           blocks are freed, every mapping of them is zapped and reads
//           give zeros - in this process, others, and the file itself.
//   private MADV_DONTNEED drops our private copies, so the pages show the
//           file again. That is zero for every byte past the file's size
//           when the provider opened it (the provider extended the file
//           with zeros and private writes never reach it), so DONTNEED is
//           used there; a range overlapping the file's original contents
//           cannot be zeroed without modifying the file, which private
//           visibility promises not to do: NOT_SUPPORTED.
static int file_purge(coarse_t *c, void *ptr, size_t len, uint64_t off) {
    file_provider_t *fp = (file_provider_t *)c;
    if (c->shared)
        return os_file_punch_hole(c->fd, off, len);
    if (off < fp->orig_size) {
        LOG_INFO("file provider: purge_force of %p+%zu would need to modify the file under a "
                 "private mapping", ptr, len);
        return COARSE_PURGE_UNSUPPORTED;
    }
    return os_madvise(ptr, len, OS_ADV_DONTNEED);
}

static const coarse_backend_t file_backend = {
    .name = "file",
    .umf_name = "FILE",
    .state_size = sizeof(file_provider_t),
    .owns_mappings = true,
    .alloc_failed = UMF_FILE_RESULT_ERROR_ALLOC_FAILED,
    .purge_failed = UMF_FILE_RESULT_ERROR_PURGE_FORCE_FAILED,
    .native_error = native_error,
    .grow = file_grow,
    .purge = file_purge,
};

// ---- ops --------------------------------------------------------------------

// errno of opening the path -> result: every "this path cannot be used"
// case is an invalid argument.
static umf_result_t open_error(int e) {
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case EACCES:
    case EPERM:
    case EROFS:
    case ELOOP:
    case ENAMETOOLONG:
    case ENXIO:
    case ETXTBSY: return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    default: return provider_errno_to_result(e);
    }
}

static umf_result_t file_initialize(void *params, void **provider) {
    const struct umf_file_memory_provider_params_t *in = params;
    if (in && in->visibility != UMF_MEM_MAP_PRIVATE && in->visibility != UMF_MEM_MAP_SHARED) {
        LOG_ERR("file provider: invalid visibility");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    coarse_t *c;
    umf_result_t r = coarse_create(&file_backend, in ? &in->base : NULL, os_page_size(),
                                   PROVIDER_OBJ_FILE, &c);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    file_provider_t *fp = (file_provider_t *)c;
    c->shared = in->visibility == UMF_MEM_MAP_SHARED;
    int e;
    if ((e = os_file_open(c->path, true, &c->fd)) != 0) {
        LOG_ERR("file provider: cannot open or create %s (%s)", c->path, LOG_STRERROR(e));
        r = open_error(e);
        goto err_destroy;
    }
    bool chr = false;
    if ((e = os_file_is_chardev(c->fd, &chr)) == 0 && chr)
        e = ENODEV;
    if (e == 0)
        e = os_file_size(c->fd, &fp->orig_size);
    if (e) {
        LOG_ERR("file provider: %s is not a usable regular file (%s)", c->path, LOG_STRERROR(e));
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        goto err_destroy;
    }
    // Map what the file already holds (rounded up to a page, which extends
    // the file by less than a page when its size is not a page multiple).
    size_t initial;
    r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    if (fp->orig_size > SIZE_MAX / 2 ||
        !align_up_checked((size_t)fp->orig_size, os_page_size(), &initial)) {
        LOG_ERR("file provider: %s is too large to map", c->path);
        goto err_destroy;
    }
    if (initial) {
        lock_acquire(&c->grow_lock);
        e = grow_by(fp, initial);
        lock_release(&c->grow_lock);
        if (e) {
            r = provider_errno_to_result(e);
            goto err_destroy;
        }
    }
    LOG_INFO("file provider: %s (%s, %llu bytes present)", c->path,
             c->shared ? "shared" : "private", (unsigned long long)fp->orig_size);
    *provider = fp;
    return UMF_RESULT_SUCCESS;

err_destroy:
    coarse_destroy(c);
    return r;
}

COARSE_FAMILY(file, PROVIDER_OBJ_FILE, umfFileMemoryProviderOps)
