// SPDX-License-Identifier: MIT
// The coarse core (see coarse.h): the provider operations of the fixed,
// file and devdax providers over range_alloc and a list of segments.
#include "providers/coarse.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "os/os.h"

// ---- params and creation ------------------------------------------------------

umf_result_t coarse_params_set_path(coarse_params_t *p, const char *path, const char *who) {
    if (!p || !path || !path[0]) {
        LOG_ERR("%s provider: %s", who, !p ? "NULL hParams" : !path ? "NULL path" : "empty path");
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

umf_result_t coarse_params_create(size_t size, const char *path, const char *who, void **out) {
    if (!out) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    coarse_params_t *p = meta_alloc(size);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->protection = UMF_PROTECTION_READ | UMF_PROTECTION_WRITE;
    umf_result_t r = coarse_params_set_path(p, path, who);
    if (r != UMF_RESULT_SUCCESS) {
        meta_free(p, size);
        return r;
    }
    *out = p;
    return UMF_RESULT_SUCCESS;
}

umf_result_t coarse_params_set_protection(coarse_params_t *p, unsigned protection,
                                          const char *who) {
    int os_prot;
    PARAMS_SET(p, protection, protection, provider_protection_to_os(protection, &os_prot),
               "%s provider: invalid protection 0x%x", who, protection);
}

void coarse_params_destroy(coarse_params_t *p, size_t size) {
    if (!p)
        return;
    if (p->path)
        meta_free(p->path, strlen(p->path) + 1);
    meta_free(p, size);
}

umf_result_t coarse_create(const coarse_backend_t *be, const coarse_params_t *in, size_t page,
                           provider_object_t kind, coarse_t **out) {
    int prot;
    if (!in || !out || !in->path || !provider_protection_to_os(in->protection, &prot)) {
        LOG_ERR("%s provider: NULL params, no path or an invalid protection", be->name);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    coarse_t *c = meta_alloc(be->state_size);
    if (!c)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    int e = coarse_init(c, be, page);
    c->kind = kind;
    c->prot = prot;
    c->ipc_align = page;
    if (e || !(c->path = meta_strdup(in->path))) {
        coarse_destroy(c);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    *out = c;
    return UMF_RESULT_SUCCESS;
}

// ---- the core ---------------------------------------------------------------------

int coarse_init(coarse_t *c, const coarse_backend_t *be, size_t page) {
    c->be = be;
    c->page = page;
    c->fd = -1;
    atomic_init(&c->segs, NULL);
    lock_init(&c->grow_lock, LOCK_RANK_PROVIDER_GROW, "coarse grow");
    return range_alloc_create(0, 0, &c->ranges);
}

coarse_seg_t *coarse_seg_newest(coarse_t *c) {
    return atomic_load_explicit(&c->segs, memory_order_acquire);
}

void coarse_totals(coarse_t *c, size_t *mapped, size_t *reserved) {
    size_t m = 0, r = 0;
    for (coarse_seg_t *s = coarse_seg_newest(c); s; s = s->older) {
        m += atomic_load_explicit(&s->mapped, memory_order_acquire);
        r += s->reserved;
    }
    if (mapped)
        *mapped = m;
    if (reserved)
        *reserved = r;
}

int coarse_seg_add(coarse_t *c, uintptr_t base, size_t reserved, size_t mapped, uint64_t off) {
    coarse_seg_t *s = meta_alloc(sizeof *s);
    if (!s)
        return ENOMEM;
    int e = mapped ? range_alloc_add_region(c->ranges, base, mapped) : 0;
    if (e) {
        meta_free(s, sizeof *s);
        return e;
    }
    s->base = base;
    s->reserved = reserved;
    s->off = off;
    atomic_init(&s->mapped, mapped);
    s->older = coarse_seg_newest(c);
    atomic_store_explicit(&c->segs, s, memory_order_release);
    return 0;
}

int coarse_seg_extend(coarse_t *c, size_t extra) {
    coarse_seg_t *s = coarse_seg_newest(c);
    size_t mapped = atomic_load_explicit(&s->mapped, memory_order_relaxed);
    if (extra > s->reserved - mapped)
        return EINVAL;
    int e = mapped ? range_alloc_extend(c->ranges, s->base + mapped, extra)
                   : range_alloc_add_region(c->ranges, s->base, extra);
    if (e == 0)
        atomic_store_explicit(&s->mapped, mapped + extra, memory_order_release);
    return e;
}

// The segment whose mapped part holds [a, a+len) (len may be 0), or NULL.
static coarse_seg_t *seg_of(coarse_t *c, uintptr_t a, size_t len) {
    for (coarse_seg_t *s = coarse_seg_newest(c); s; s = s->older) {
        size_t mapped = atomic_load_explicit(&s->mapped, memory_order_acquire);
        if (a >= s->base && a - s->base <= mapped && len <= mapped - (a - s->base))
            return s;
    }
    return NULL;
}

void coarse_destroy(coarse_t *c) {
    provider_memory_freed(c, 0, SIZE_MAX); // IPC handles of this provider are stale now
    for (coarse_seg_t *s = coarse_seg_newest(c), *older; s; s = older) {
        older = s->older;
        if (c->be->owns_mappings)
            (void)os_unmap((void *)s->base, s->reserved);
        meta_free(s, sizeof *s);
    }
    range_alloc_destroy(c->ranges);
    if (c->fd >= 0)
        (void)os_file_close(c->fd);
    if (c->path)
        meta_free(c->path, strlen(c->path) + 1);
    lock_fini(&c->grow_lock);
    meta_free(c, c->be->state_size);
}

umf_result_t coarse_native_error(coarse_t *c, int32_t code, int err, const char *what) {
    return provider_set_native_error(c->be->native_error(), code, err, what);
}

// ---- operations -------------------------------------------------------------

void coarse_op_finalize(void *provider) {
    if (provider)
        coarse_destroy(provider);
}

umf_result_t coarse_op_alloc(void *provider, size_t size, size_t alignment, void **ptr) {
    coarse_t *c = provider;
    if (size == 0 || !ptr) {
        LOG_ERR("%s provider: %s", c->be->name, size == 0 ? "size 0" : "NULL ptr");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (alignment & (alignment - 1))
        return UMF_RESULT_ERROR_INVALID_ALIGNMENT;
    if (alignment == 0)
        alignment = c->page;
    uintptr_t a;
    int e = range_alloc_alloc(c->ranges, size, alignment, &a);
    if (e == ENOMEM && c->be->grow) {
        lock_acquire(&c->grow_lock);
        // Another thread may have grown the provider while we waited.
        e = range_alloc_alloc(c->ranges, size, alignment, &a);
        if (e == ENOMEM) {
            e = c->be->grow(c, size, alignment);
            if (e == 0)
                e = range_alloc_alloc(c->ranges, size, alignment, &a);
        }
        lock_release(&c->grow_lock);
    }
    if (e == ENOMEM) {
        LOG_INFO("%s provider: no room for %zu bytes aligned to %zu", c->be->name, size,
                 alignment);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    if (e)
        return coarse_native_error(c, c->be->alloc_failed, e, "growing the provider failed");
    *ptr = (void *)a;
    return UMF_RESULT_SUCCESS;
}

// size 0 frees the whole allocation at ptr (as UMF's coarse allocator
// accepts). IPC handles of the range end before the range can be reused.
umf_result_t coarse_op_free(void *provider, void *ptr, size_t size) {
    coarse_t *c = provider;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    if (provider_freed_hook_set()) {
        size_t len = size;
        if (len == 0 && range_alloc_find(c->ranges, (uintptr_t)ptr, NULL, &len) != 0)
            len = 1;
        provider_memory_freed(c, (uintptr_t)ptr, len);
    }
    if (range_alloc_free(c->ranges, (uintptr_t)ptr, size)) {
        LOG_ERR("%s provider: %p (size %zu) is not an allocation of this provider", c->be->name,
                ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return UMF_RESULT_SUCCESS;
}

void coarse_op_get_last_native_error(void *provider, const char **ppMessage, int32_t *pError) {
    coarse_t *c = provider;
    provider_native_error_get(c->be->native_error(), ppMessage, pError);
}

umf_result_t coarse_op_get_recommended_page_size(void *provider, size_t size, size_t *pageSize) {
    (void)size;
    if (!pageSize)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    *pageSize = ((coarse_t *)provider)->page;
    return UMF_RESULT_SUCCESS;
}

umf_result_t coarse_op_get_min_page_size(void *provider, void *ptr, size_t *pageSize) {
    (void)ptr;
    return coarse_op_get_recommended_page_size(provider, 0, pageSize);
}

const char *coarse_op_get_name(void *provider) {
    return provider ? ((coarse_t *)provider)->be->umf_name : NULL;
}

// The range must lie in the mapped part of one segment; the backend zeroes
// it (each backend's comment says how).
umf_result_t coarse_op_purge_force(void *provider, void *ptr, size_t size) {
    coarse_t *c = provider;
    coarse_seg_t *s = seg_of(c, (uintptr_t)ptr, size);
    if (!s) {
        LOG_ERR("%s provider: purge range %p+%zu is outside its memory", c->be->name, ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (size == 0)
        return UMF_RESULT_SUCCESS;
    int e = c->be->purge(c, ptr, size, s->off + ((uintptr_t)ptr - s->base));
    if (e == COARSE_PURGE_UNSUPPORTED)
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    if (e) {
        LOG_INFO("%s provider: cannot purge %p+%zu (%s)", c->be->name, ptr, size,
                 LOG_STRERROR(e));
        return coarse_native_error(c, c->be->purge_failed, e, "purge_force failed");
    }
    return UMF_RESULT_SUCCESS;
}

umf_result_t coarse_op_allocation_split(void *provider, void *ptr, size_t totalSize, size_t firstSize) {
    coarse_t *c = provider;
    int e = range_alloc_split(c->ranges, (uintptr_t)ptr, totalSize, firstSize);
    if (e) {
        LOG_ERR("%s provider: cannot split %p (%zu into %zu)", c->be->name, ptr, totalSize,
                firstSize);
        return e == ENOMEM ? UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY
                           : UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return UMF_RESULT_SUCCESS;
}

// Ranges of two segments are never merged (range_alloc keeps regions
// apart): their backing offsets need not be adjacent.
umf_result_t coarse_op_allocation_merge(void *provider, void *lowPtr, void *highPtr, size_t totalSize) {
    coarse_t *c = provider;
    if (range_alloc_merge(c->ranges, (uintptr_t)lowPtr, (uintptr_t)highPtr, totalSize)) {
        LOG_ERR("%s provider: cannot merge %p and %p into %zu bytes", c->be->name, lowPtr,
                highPtr, totalSize);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return UMF_RESULT_SUCCESS;
}

// [ptr, ptr+size) must lie in one allocation (or a part of one that
// allocation_split made); its offset comes from its segment.
umf_result_t coarse_describe(void *provider, const void *ptr, size_t size,
                             provider_ipc_desc_t *out) {
    coarse_t *c = provider;
    *out = (provider_ipc_desc_t){.kind = c->kind, .fd = c->fd, .path = c->path ? c->path : "",
                                 .align = c->ipc_align, .prot = c->prot, .owner = c};
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    if (!c->shared) {
        LOG_ERR("%s provider: IPC needs shared visibility (UMF_MEM_MAP_SHARED)", c->be->name);
        return UMF_RESULT_ERROR_NOT_SUPPORTED;
    }
    uintptr_t a = (uintptr_t)ptr, start;
    size_t len;
    coarse_seg_t *s;
    if (size == 0 || range_alloc_find(c->ranges, a, &start, &len) != 0 ||
        size > start + len - a || !(s = seg_of(c, a, size))) {
        LOG_ERR("%s provider: IPC handle of %p+%zu: not an allocation of this provider",
                c->be->name, ptr, size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    out->off = s->off + (a - s->base);
    return UMF_RESULT_SUCCESS;
}
