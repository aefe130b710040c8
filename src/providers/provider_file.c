// SPDX-License-Identifier: MIT
// The file memory provider (umf/providers/provider_file_memory.h): memory
// mapped from a regular file that grows as allocations need it.
//
// Mapping design
//   At initialize the provider reserves one large span of address space
//   (PROT_NONE, MAP_NORESERVE: no memory, no commit charge) and keeps the
//   file mapped at its start: file offset X always lives at base + X. To
//   grow, it extends the file (os_file_extend) and maps the new part of the
//   file over the reservation with MAP_FIXED, so the mapped part stays one
//   contiguous run and one range_alloc region that is extended in place.
//   Hence:
//     - an allocation's file offset is just ptr - base (no per-allocation
//       record to keep; provider_file_backing looks it up for IPC),
//     - neighbouring allocations are contiguous in the file too, so free
//       ranges coalesce and allocation_merge works across growth steps,
//     - the kernel merges the successive file mappings into one VMA.
//   The reservation is RESERVE_BYTES (halved while the OS refuses it, never
//   below what the file already holds); a request beyond it gives
//   OUT_OF_HOST_MEMORY. Growth happens in GROW_MIN (2 MiB) steps at least.
//   An existing file is kept as it is (never truncated): its bytes are what
//   the first allocations see.
//
// Visibility: SHARED maps with MAP_SHARED (writes reach the file and other
// mappings of it), PRIVATE (the UMF default) with MAP_PRIVATE (writes stay
// in this process; the file is never modified through the provider).
//
// Purge: see file_purge_force; purge_lazy is NOT_SUPPORTED (MADV_FREE only
// works on private anonymous memory, and a file mapping has no lazy discard).
//
// IPC (shared visibility only): a handle names the file by path and by the
// exporter's descriptor, an offset and a size; the opener maps the same
// file range (provider_os_shared.c has the checks). Freeing a range ends
// the exports of it: offsets are reused by later allocations.
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
#include "providers/provider_internal.h"
#include "providers/range_alloc.h"

#define RESERVE_BYTES ((size_t)64 << 30) // address space reserved per provider
#define GROW_MIN ((size_t)2 << 20)       // smallest growth of the file and mapping

/// Params: owned by the caller; path is our copy (meta_strdup).
struct umf_file_memory_provider_params_t {
    char *path;
    unsigned protection;               // umf_mem_protection_flags_t bits
    umf_memory_visibility_t visibility;
};

/// One provider. base/reserve/fd/prot/shared/orig_size are immutable after
/// initialize; `mapped` only grows (written under grow_lock, read without).
typedef struct file_provider_t {
    char *path;
    int fd;
    int prot;                 // OS_PROT_* of every mapping
    bool shared;              // MAP_SHARED (visibility SHARED)
    uintptr_t base;           // reservation start; file offset X is at base + X
    size_t reserve;           // bytes reserved from base
    uint64_t orig_size;       // the file's size when it was opened
    pthread_mutex_t grow_lock; // serializes growth (file extension + mapping)
    _Atomic size_t mapped;    // bytes of the file mapped at base (<= reserve)
    range_alloc_t *ranges;    // one region [base, base + mapped)
} file_provider_t;

static __thread provider_native_error_t file_error;

// ---- params -----------------------------------------------------------------

static umf_result_t set_path(struct umf_file_memory_provider_params_t *p, const char *path) {
    if (!path || !path[0]) {
        LOG_ERR("file provider: %s path", !path ? "NULL" : "empty");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    char *copy = meta_strdup(path);
    if (!copy)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    if (p->path)
        meta_free(p->path, strlen(p->path) + 1);
    p->path = copy;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfFileMemoryProviderParamsCreate(umf_file_memory_provider_params_handle_t *hParams,
                                  const char *path) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    struct umf_file_memory_provider_params_t *p = meta_alloc(sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->protection = UMF_PROTECTION_READ | UMF_PROTECTION_WRITE;
    p->visibility = UMF_MEM_MAP_PRIVATE;
    umf_result_t r = set_path(p, path);
    if (r != UMF_RESULT_SUCCESS) {
        meta_free(p, sizeof *p);
        return r;
    }
    *hParams = p;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
umfFileMemoryProviderParamsDestroy(umf_file_memory_provider_params_handle_t hParams) {
    if (!hParams)
        return UMF_RESULT_SUCCESS;
    if (hParams->path)
        meta_free(hParams->path, strlen(hParams->path) + 1);
    meta_free(hParams, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfFileMemoryProviderParamsSetPath(
    umf_file_memory_provider_params_handle_t hParams, const char *path) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return set_path(hParams, path);
}

HETMEM_EXPORT umf_result_t umfFileMemoryProviderParamsSetProtection(
    umf_file_memory_provider_params_handle_t hParams, unsigned protection) {
    int os_prot;
    if (!hParams || !provider_protection_to_os(protection, &os_prot)) {
        LOG_ERR("file provider: %s", !hParams ? "NULL hParams" : "invalid protection");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    hParams->protection = protection;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfFileMemoryProviderParamsSetVisibility(
    umf_file_memory_provider_params_handle_t hParams, umf_memory_visibility_t visibility) {
    if (!hParams || (visibility != UMF_MEM_MAP_PRIVATE && visibility != UMF_MEM_MAP_SHARED)) {
        LOG_ERR("file provider: %s", !hParams ? "NULL hParams" : "invalid visibility");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    hParams->visibility = visibility;
    return UMF_RESULT_SUCCESS;
}

// ---- mapping ----------------------------------------------------------------

static int map_flags(const file_provider_t *fp) {
    return fp->shared ? OS_MAP_SHARED : OS_MAP_PRIVATE;
}

// Reserves the address span: RESERVE_BYTES (or more for a big existing
// file), halved while the OS refuses (RLIMIT_AS, small address spaces),
// but never below `need`.
static int reserve_span(size_t need, uintptr_t *base, size_t *size) {
    size_t want = RESERVE_BYTES;
    if (need > want / 2 && !align_up_checked(need + RESERVE_BYTES / 2, GROW_MIN, &want))
        return ENOMEM;
    for (;;) {
        void *p;
        int e = os_map_anon(NULL, want, GROW_MIN, OS_PROT_NONE, OS_MAP_NORESERVE, &p);
        if (e == 0) {
            *base = (uintptr_t)p;
            *size = want;
            return 0;
        }
        if (want / 2 < need || want / 2 < GROW_MIN)
            return e;
        want /= 2;
    }
}

// Maps file bytes [mapped, mapped + grow) at base + mapped, extending the
// file first, and hands the new part to the range allocator. Called with
// grow_lock held. Returns 0, ENOMEM (reservation exhausted) or the errno of
// the extension or the mapping.
static int grow(file_provider_t *fp, size_t grow) {
    size_t mapped = atomic_load_explicit(&fp->mapped, memory_order_relaxed);
    if (grow > fp->reserve - mapped) {
        LOG_ERR("file provider: %s: the reserved %zu bytes of address space are used up",
                fp->path, fp->reserve);
        return ENOMEM;
    }
    int e = os_file_extend(fp->fd, (uint64_t)mapped + grow);
    if (e) {
        LOG_ERR("file provider: cannot extend %s to %zu bytes (%s)", fp->path,
                mapped + grow, LOG_STRERROR(e));
        return e;
    }
    void *p;
    e = os_map_fd((void *)(fp->base + mapped), grow, fp->prot, map_flags(fp), fp->fd, mapped, &p);
    if (e) {
        LOG_ERR("file provider: cannot map %s at offset %zu (%s)", fp->path, mapped,
                LOG_STRERROR(e));
        return e;
    }
    e = mapped ? range_alloc_extend(fp->ranges, fp->base + mapped, grow)
               : range_alloc_add_region(fp->ranges, fp->base, grow);
    if (e) {
        // The new pages stay mapped but unused; `mapped` does not count them,
        // so a later growth maps the same file range again over them.
        return e;
    }
    atomic_store_explicit(&fp->mapped, mapped + grow, memory_order_release);
    LOG_DEBUG("file provider: %s grown to %zu bytes", fp->path, mapped + grow);
    return 0;
}

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

static void destroy(file_provider_t *fp) {
    provider_memory_freed(fp, 0, SIZE_MAX);
    if (fp->ranges)
        range_alloc_destroy(fp->ranges);
    if (fp->base)
        os_unmap((void *)fp->base, fp->reserve);
    if (fp->fd >= 0)
        os_file_close(fp->fd);
    if (fp->path)
        meta_free(fp->path, strlen(fp->path) + 1);
    pthread_mutex_destroy(&fp->grow_lock);
    meta_free(fp, sizeof *fp);
}

static umf_result_t file_initialize(void *params, void **provider) {
    const struct umf_file_memory_provider_params_t *in = params;
    int prot;
    if (!in || !provider || !in->path) {
        LOG_ERR("file provider: NULL params or path");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (!provider_protection_to_os(in->protection, &prot) ||
        (in->visibility != UMF_MEM_MAP_PRIVATE && in->visibility != UMF_MEM_MAP_SHARED)) {
        LOG_ERR("file provider: invalid protection or visibility");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    file_provider_t *fp = meta_alloc(sizeof *fp);
    if (!fp)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    fp->fd = -1;
    fp->prot = prot;
    fp->shared = in->visibility == UMF_MEM_MAP_SHARED;
    pthread_mutex_init(&fp->grow_lock, NULL);
    umf_result_t r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    if (!(fp->path = meta_strdup(in->path)))
        goto err_destroy;

    int e = os_file_open(fp->path, true, &fp->fd);
    if (e) {
        LOG_ERR("file provider: cannot open or create %s (%s)", fp->path, LOG_STRERROR(e));
        r = open_error(e);
        goto err_destroy;
    }
    bool chr = false;
    if ((e = os_file_is_chardev(fp->fd, &chr)) == 0 && chr)
        e = ENODEV;
    if (e == 0)
        e = os_file_size(fp->fd, &fp->orig_size);
    if (e) {
        LOG_ERR("file provider: %s is not a usable regular file (%s)", fp->path, LOG_STRERROR(e));
        r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        goto err_destroy;
    }

    // Map what the file already holds (rounded up to a page, which extends
    // the file by less than a page when its size is not a page multiple).
    size_t initial;
    if (fp->orig_size > SIZE_MAX / 2 ||
        !align_up_checked((size_t)fp->orig_size, os_page_size(), &initial) ||
        (e = reserve_span(initial + GROW_MIN, &fp->base, &fp->reserve)) != 0) {
        LOG_ERR("file provider: cannot reserve address space for %s", fp->path);
        goto err_destroy;
    }
    if ((e = range_alloc_create(0, 0, &fp->ranges)) != 0)
        goto err_destroy;
    if (initial) {
        pthread_mutex_lock(&fp->grow_lock);
        e = grow(fp, initial);
        pthread_mutex_unlock(&fp->grow_lock);
        if (e) {
            r = provider_errno_to_result(e);
            goto err_destroy;
        }
    }
    LOG_INFO("file provider: %s (%s, %llu bytes present), %zu bytes of address space at %p",
             fp->path, fp->shared ? "shared" : "private", (unsigned long long)fp->orig_size,
             fp->reserve, (void *)fp->base);
    *provider = fp;
    return UMF_RESULT_SUCCESS;

err_destroy:
    destroy(fp);
    return r;
}

static void file_finalize(void *provider) {
    if (provider)
        destroy(provider);
}

static umf_result_t file_alloc(void *provider, size_t size, size_t alignment, void **ptr) {
    file_provider_t *fp = provider;
    if (size == 0 || !ptr) {
        LOG_ERR("file provider: %s", size == 0 ? "size 0" : "NULL ptr");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (alignment & (alignment - 1))
        return UMF_RESULT_ERROR_INVALID_ALIGNMENT;
    if (alignment == 0)
        alignment = os_page_size();
    uintptr_t a;
    int e = range_alloc_alloc(fp->ranges, size, alignment, &a);
    if (e == ENOMEM) {
        // Grow by enough for any placement of the request (the free tail of
        // the mapping may hold part of it; the rest stays free for later).
        size_t need, step;
        if (__builtin_add_overflow(size, alignment, &need) ||
            !align_up_checked(need > GROW_MIN ? need : GROW_MIN, GROW_MIN, &step))
            return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        pthread_mutex_lock(&fp->grow_lock);
        // Another thread may have grown the mapping while we waited.
        e = range_alloc_alloc(fp->ranges, size, alignment, &a);
        if (e == ENOMEM) {
            e = grow(fp, step);
            if (e == 0)
                e = range_alloc_alloc(fp->ranges, size, alignment, &a);
        }
        pthread_mutex_unlock(&fp->grow_lock);
    }
    if (e == ENOMEM)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    if (e)
        return provider_set_native_error(&file_error, UMF_FILE_RESULT_ERROR_ALLOC_FAILED, e,
                                         "file provider: cannot grow the file mapping");
    *ptr = (void *)a;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t file_free(void *provider, void *ptr, size_t size) {
    file_provider_t *fp = provider;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    // IPC handles of the range become stale before the range can be reused.
    if (provider_freed_hook_set()) {
        size_t len = size;
        if (len == 0 && range_alloc_find(fp->ranges, (uintptr_t)ptr, NULL, &len) != 0)
            len = 1;
        provider_memory_freed(fp, (uintptr_t)ptr, len);
    }
    if (range_alloc_free(fp->ranges, (uintptr_t)ptr, size)) {
        LOG_ERR("file provider: %p (size %zu) is not an allocation of this provider", ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return UMF_RESULT_SUCCESS;
}

static void file_get_last_native_error(void *provider, const char **ppMessage,
                                        int32_t *pError) {
    (void)provider;
    provider_native_error_get(&file_error, ppMessage, pError);
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
static umf_result_t file_purge_force(void *provider, void *ptr, size_t size) {
    file_provider_t *fp = provider;
    uintptr_t a = (uintptr_t)ptr;
    size_t mapped = atomic_load_explicit(&fp->mapped, memory_order_acquire);
    if (a < fp->base || size > mapped || a - fp->base > mapped - size) {
        LOG_ERR("file provider: purge range %p+%zu is outside the mapping", ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (size == 0)
        return UMF_RESULT_SUCCESS;
    uint64_t off = a - fp->base;
    int e;
    if (fp->shared) {
        e = os_file_punch_hole(fp->fd, off, size);
    } else if (off < fp->orig_size) {
        LOG_INFO("file provider: purge_force of %p+%zu would need to modify the file under a "
                 "private mapping",
                 ptr, size);
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    } else {
        e = os_madvise(ptr, size, OS_ADV_DONTNEED);
    }
    if (e) {
        LOG_ERR("file provider: cannot purge %p+%zu of %s (%s)", ptr, size, fp->path,
                LOG_STRERROR(e));
        return provider_set_native_error(&file_error, UMF_FILE_RESULT_ERROR_PURGE_FORCE_FAILED, e,
                                         "file provider: purge_force failed");
    }
    return UMF_RESULT_SUCCESS;
}

static const char *file_get_name(void *provider) {
    (void)provider;
    return "FILE";
}

static umf_result_t file_allocation_split(void *provider, void *ptr, size_t totalSize,
                                          size_t firstSize) {
    return provider_ranges_split(((file_provider_t *)provider)->ranges, "file", ptr, totalSize, firstSize);
}

static umf_result_t file_allocation_merge(void *provider, void *lowPtr, void *highPtr,
                                          size_t totalSize) {
    return provider_ranges_merge(((file_provider_t *)provider)->ranges, "file", lowPtr, highPtr,
                                 totalSize);
}

// ---- IPC describe hook (src/ipc makes the handle) ------------------------------

// [ptr, ptr+size) must lie in one allocation (or a part of one that
// allocation_split made); file offset X is at base + X.
static umf_result_t file_describe(void *priv, const void *ptr, size_t size,
                                  provider_ipc_desc_t *out) {
    file_provider_t *fp = priv;
    *out = (provider_ipc_desc_t){.kind = PROVIDER_OBJ_FILE, .fd = fp->fd, .path = fp->path,
                                 .align = os_page_size(), .prot = fp->prot, .owner = fp};
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    if (!fp->shared) {
        LOG_ERR("file provider: IPC needs shared visibility (UMF_MEM_MAP_SHARED)");
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    uintptr_t a = (uintptr_t)ptr, start;
    size_t len;
    if (size == 0 || range_alloc_find(fp->ranges, a, &start, &len) != 0 ||
        size > start + len - a) {
        LOG_ERR("file provider: IPC handle of %p+%zu: not an allocation of this provider", ptr,
                size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    out->off = a - fp->base;
    return UMF_RESULT_SUCCESS;
}

static umf_memory_provider_ops_t file_ops = {
    .version = UMF_VERSION_CURRENT,
    .initialize = file_initialize,
    .finalize = file_finalize,
    .alloc = file_alloc,
    .free = file_free,
    .get_last_native_error = file_get_last_native_error,
    .get_recommended_page_size = provider_base_recommended_page_size,
    .get_min_page_size = provider_base_min_page_size,
    .get_name = file_get_name,
    .ext =
        {
            .purge_lazy = NULL, // NOT_SUPPORTED: no lazy discard for file pages
            .purge_force = file_purge_force,
            .allocation_merge = file_allocation_merge,
            .allocation_split = file_allocation_split,
        },
    // .ipc: NULL; src/ipc drives the describe hook (provider_file_ipc_hooks)
};

HETMEM_EXPORT umf_memory_provider_ops_t *umfFileMemoryProviderOps(void) { return &file_ops; }

const provider_ipc_hooks_t provider_file_ipc_hooks = {
    .initialize = file_initialize,
    .opens = 1u << PROVIDER_OBJ_FILE,
    .describe = file_describe,
};

int provider_file_backing(struct umf_memory_provider_t *provider, const void *ptr,
                          provider_backing_t *out) {
    if (!provider || !out || provider->ops.initialize != file_initialize)
        return EINVAL;
    file_provider_t *fp = provider->priv;
    uintptr_t start;
    size_t size;
    int e = range_alloc_find(fp->ranges, (uintptr_t)ptr, &start, &size);
    if (e)
        return e;
    *out = (provider_backing_t){.path = fp->path,
                                .fd = fp->fd,
                                .offset = start - fp->base,
                                .start = start,
                                .size = size,
                                .shared = fp->shared};
    return 0;
}
