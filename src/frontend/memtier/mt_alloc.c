// SPDX-License-Identifier: MIT
// memtier's HEAP MANAGEMENT (libmemtier(3)): the memtier_kind_* functions
// are memkind's, counted by usable size per kind (mt_count.c); the
// memtier_* ones ask the memory's policy for the kind first. Pointers are
// traced to their kind with memkind_detect_kind (hetmem's pool lookup).
#include <errno.h>
#include <stdint.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memtier/mt_priv.h"

static bool memory_ok(const struct memtier_memory *m, const char *fn) {
    if (likely(m && m->magic == MT_MEMORY_MAGIC))
        return true;
    if (log_level() >= LOG_LEVEL_ERROR)
        log_write(LOG_LEVEL_ERROR, fn, "%s memory %p; refused", m ? "not a live" : "NULL",
                  (const void *)m);
    return false;
}

// The kind of a block passed in, or NULL (logged) when no kind holds it.
static memkind_t kind_of(void *ptr, const char *fn) {
    memkind_t k = memkind_detect_kind(ptr);
    if (!k && log_level() >= LOG_LEVEL_ERROR)
        log_write(LOG_LEVEL_ERROR, fn, "%p is not a block of any kind; refused", ptr);
    return k;
}

static void *counted(memkind_t kind, void *p) {
    if (p)
        mt_count_add(kind, memkind_malloc_usable_size(kind, p));
    return p;
}

HETMEM_EXPORT void *memtier_kind_malloc(memkind_t kind, size_t size) {
    if (!mt_kind_ok(kind, __func__)) {
        errno = EINVAL;
        return NULL;
    }
    return counted(kind, memkind_malloc(kind, size));
}

HETMEM_EXPORT void *memtier_kind_calloc(memkind_t kind, size_t num, size_t size) {
    if (!mt_kind_ok(kind, __func__)) {
        errno = EINVAL;
        return NULL;
    }
    return counted(kind, memkind_calloc(kind, num, size));
}

HETMEM_EXPORT int memtier_kind_posix_memalign(memkind_t kind, void **memptr, size_t alignment,
                                              size_t size) {
    if (!mt_kind_ok(kind, __func__))
        return EINVAL;
    if (!memptr) {
        LOG_ERR("NULL memptr; refused");
        return EINVAL;
    }
    void *p = NULL;
    int r = memkind_posix_memalign(kind, &p, alignment, size);
    if (r == 0) {
        *memptr = counted(kind, p);
    }
    return r;
}

HETMEM_EXPORT void *memtier_kind_realloc(memkind_t kind, void *ptr, size_t size) {
    if (!ptr)
        return memtier_kind_malloc(kind, size);
    if (!kind && !(kind = kind_of(ptr, __func__))) {
        errno = EINVAL;
        return NULL;
    }
    if (!mt_kind_ok(kind, __func__)) {
        errno = EINVAL;
        return NULL;
    }
    size_t old = memkind_malloc_usable_size(kind, ptr);
    if (size == 0) {
        mt_count_sub(kind, old);
        memkind_free(kind, ptr);
        return NULL;
    }
    void *r = memkind_realloc(kind, ptr, size);
    if (r) { // on failure ptr is untouched and stays counted
        mt_count_sub(kind, old);
        mt_count_add(kind, memkind_malloc_usable_size(kind, r));
    }
    return r;
}

HETMEM_EXPORT void memtier_kind_free(memkind_t kind, void *ptr) {
    if (!ptr)
        return;
    if (!kind && !(kind = kind_of(ptr, __func__)))
        return;
    if (!mt_kind_ok(kind, __func__))
        return;
    mt_count_sub(kind, memkind_malloc_usable_size(kind, ptr));
    memkind_free(kind, ptr);
}

HETMEM_EXPORT size_t memtier_usable_size(void *ptr) {
    return memkind_malloc_usable_size(NULL, ptr);
}

HETMEM_EXPORT size_t memtier_kind_allocated_size(memkind_t kind) {
    if (!mt_kind_ok(kind, __func__))
        return 0;
    uint64_t n = mt_count_exact(kind);
    return n > SIZE_MAX ? SIZE_MAX : (size_t)n;
}

// ---- through a tiered memory ------------------------------------------------------

HETMEM_EXPORT void *memtier_malloc(struct memtier_memory *memory, size_t size) {
    if (!memory_ok(memory, __func__)) {
        errno = EINVAL;
        return NULL;
    }
    void *p = memtier_kind_malloc(mt_pick(memory, size), size);
    mt_after_op(memory);
    return p;
}

HETMEM_EXPORT void *memtier_calloc(struct memtier_memory *memory, size_t num, size_t size) {
    if (!memory_ok(memory, __func__)) {
        errno = EINVAL;
        return NULL;
    }
    size_t total;
    if (__builtin_mul_overflow(num, size, &total)) {
        LOG_ERR("calloc(%zu, %zu) overflows; refused", num, size);
        errno = ENOMEM;
        return NULL;
    }
    void *p = memtier_kind_calloc(mt_pick(memory, total), num, size);
    mt_after_op(memory);
    return p;
}

HETMEM_EXPORT void *memtier_realloc(struct memtier_memory *memory, void *ptr, size_t size) {
    if (!memory_ok(memory, __func__)) {
        errno = EINVAL;
        return NULL;
    }
    // A block stays in its kind; a new one goes where the policy says.
    void *p;
    if (ptr) {
        memkind_t k = kind_of(ptr, __func__);
        if (!k) {
            errno = EINVAL;
            return NULL;
        }
        p = memtier_kind_realloc(k, ptr, size);
    } else {
        p = memtier_kind_malloc(mt_pick(memory, size), size);
    }
    mt_after_op(memory);
    return p;
}

HETMEM_EXPORT int memtier_posix_memalign(struct memtier_memory *memory, void **memptr,
                                         size_t alignment, size_t size) {
    if (!memory_ok(memory, __func__))
        return EINVAL;
    int r = memtier_kind_posix_memalign(mt_pick(memory, size), memptr, alignment, size);
    mt_after_op(memory);
    return r;
}
