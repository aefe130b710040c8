// SPDX-License-Identifier: MIT
// The heap management API (memkind(3), HEAP MANAGEMENT) and the decorator
// hooks: check the kind, run its init_once, call its operation (errno and
// wrong-use rules: docs/memkind.md, "Errors and wrong use").
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"

// ---- decorators (memkind(3), DECORATORS) ------------------------------------
// Weak references: called when the program defines them. The kind is passed
// by value to the _post hooks, as memkind's library does.
extern void memkind_malloc_pre(struct memkind **, size_t *) __attribute__((weak));
extern void memkind_malloc_post(struct memkind *, size_t, void **) __attribute__((weak));
extern void memkind_calloc_pre(struct memkind **, size_t *, size_t *) __attribute__((weak));
extern void memkind_calloc_post(struct memkind *, size_t, size_t, void **) __attribute__((weak));
extern void memkind_posix_memalign_pre(struct memkind **, void **, size_t *, size_t *)
    __attribute__((weak));
extern void memkind_posix_memalign_post(struct memkind *, void **, size_t, size_t, int *)
    __attribute__((weak));
extern void memkind_realloc_pre(struct memkind **, void **, size_t *) __attribute__((weak));
extern void memkind_realloc_post(struct memkind *, void *, size_t, void **) __attribute__((weak));
extern void memkind_free_pre(struct memkind **, void **) __attribute__((weak));
extern void memkind_free_post(struct memkind *, void *) __attribute__((weak));

static inline void run_init_once(struct memkind *kind) {
    if (kind->ops->init_once)
        pthread_once(&kind->init_once, kind->ops->init_once);
}

// A live kind with the operation; else false, logged under fn.
#define KIND_HAS(kind, op, fn) (likely(mk_kind_live(kind) && (kind)->ops && (kind)->ops->op) || \
                                bad_kind((kind), fn))

__attribute__((cold, noinline)) static bool bad_kind(const struct memkind *kind, const char *fn) {
    if (mk_kind_check(kind, fn)) { // live, but without the operation (a user kind)
        if (log_level() >= LOG_LEVEL_ERROR)
            log_write(LOG_LEVEL_ERROR, fn, "kind %s has no such operation; refused", kind->name);
    }
    return false;
}

HETMEM_EXPORT void *memkind_malloc(memkind_t kind, size_t size) {
    void *r = NULL;
    if (memkind_malloc_pre)
        memkind_malloc_pre(&kind, &size);
    if (unlikely(!KIND_HAS(kind, malloc, "memkind_malloc"))) {
        errno = EINVAL;
    } else if (likely(size != 0 || mk_allow_zero(kind))) {
        int saved = errno;
        run_init_once(kind);
        r = kind->ops->malloc(kind, size);
        if (likely(r))
            errno = saved;
    }
    if (memkind_malloc_post)
        memkind_malloc_post(kind, size, &r);
    return r;
}

HETMEM_EXPORT void *memkind_calloc(memkind_t kind, size_t num, size_t size) {
    void *r = NULL;
    if (memkind_calloc_pre)
        memkind_calloc_pre(&kind, &num, &size);
    size_t total;
    if (unlikely(!KIND_HAS(kind, calloc, "memkind_calloc"))) {
        errno = EINVAL;
    } else if (!mul_checked(num, size, &total)) {
        LOG_ERR("memkind_calloc(%s, %zu, %zu): the size overflows", kind->name, num, size);
        errno = ENOMEM;
    } else if (likely(total != 0 || mk_allow_zero(kind))) {
        int saved = errno;
        run_init_once(kind);
        r = kind->ops->calloc(kind, num, size);
        if (likely(r))
            errno = saved;
    }
    if (memkind_calloc_post)
        memkind_calloc_post(kind, num, size, &r);
    return r;
}

HETMEM_EXPORT int memkind_posix_memalign(memkind_t kind, void **memptr, size_t alignment,
                                         size_t size) {
    int saved = errno;
    int err;
    if (memkind_posix_memalign_pre)
        memkind_posix_memalign_pre(&kind, memptr, &alignment, &size);
    if (!KIND_HAS(kind, posix_memalign, "memkind_posix_memalign")) {
        err = EINVAL;
    } else if (!memptr || !mk_alignment_ok(alignment)) {
        LOG_ERR("memkind_posix_memalign: %s", !memptr ? "NULL memptr"
                                                      : "the alignment is not a power of two "
                                                        "multiple of sizeof(void *)");
        err = EINVAL;
    } else if (size == 0 && !mk_allow_zero(kind)) {
        *memptr = NULL; // memkind(3): 0 with NULL in *memptr
        err = 0;
    } else {
        run_init_once(kind);
        err = kind->ops->posix_memalign(kind, memptr, alignment, size);
    }
    if (memkind_posix_memalign_post)
        memkind_posix_memalign_post(kind, memptr, alignment, size, &err);
    errno = saved;
    return err;
}

HETMEM_EXPORT void *memkind_realloc(memkind_t kind, void *ptr, size_t size) {
    void *r = NULL;
    if (memkind_realloc_pre)
        memkind_realloc_pre(&kind, &ptr, &size);
    struct memkind *k = kind;
    if (!k && ptr) {
        k = mk_kind_of(ptr, NULL); // NULL kind: the block's own kind
        if (!k) {
            mk_log_not_ours("memkind_realloc", ptr);
            errno = EINVAL;
            goto out;
        }
    }
    if (unlikely(!KIND_HAS(k, realloc, "memkind_realloc"))) {
        errno = EINVAL; // both NULL, or a garbage or destroyed kind
    } else {
        int saved = errno;
        run_init_once(k);
        r = k->ops->realloc(k, ptr, size);
        if (r || size == 0) // size 0: a free, or malloc(0) without allow_zero_allocs
            errno = saved;
    }
out:
    if (memkind_realloc_post)
        memkind_realloc_post(kind, ptr, size, &r);
    return r;
}

// Whether a free operation is one of ours (they all free by address).
static inline bool free_is_ours(void (*f)(struct memkind *, void *)) {
    return f == mk_op_free || f == memkind_arena_free || f == memkind_default_free;
}

// Frees through the owner's own free operation when it has one of its own
// (a user kind), else straight into the block's pool.
// `hint`: a live kind whose free is ours (checked by the caller) or NULL.
static inline void free_any(void *ptr, struct memkind *hint) {
    umf_memory_pool_handle_t pool;
    struct memkind *owner = hint ? mk_kind_of_hinted(ptr, hint, &pool) : mk_kind_of(ptr, &pool);
    if (unlikely(!owner)) {
        mk_log_not_ours("memkind_free", ptr);
        return;
    }
    void (*f)(struct memkind *, void *) = owner == hint ? NULL : owner->ops ? owner->ops->free : NULL;
    if (f && !free_is_ours(f)) {
        f(owner, ptr);
        return;
    }
    (void)mk_pool_free_logged(pool, owner, ptr, "memkind_free");
}

HETMEM_EXPORT void memkind_free(memkind_t kind, void *ptr) {
    if (memkind_free_pre)
        memkind_free_pre(&kind, &ptr);
    if (ptr) {
        int saved = errno;
        // A kind whose free is ours frees by address as NULL does, by the
        // same path, and the owner's operations need no second look when the
        // kind is the owner: a free with the kind is never slower
        // (docs/PERFORMANCE.md, "memkind_free with and without the kind").
        if (!kind) {
            free_any(ptr, NULL);
        } else if (unlikely(!mk_kind_live(kind))) {
            (void)mk_kind_check(kind, "memkind_free"); // logs; the address decides
            free_any(ptr, NULL);
        } else if (!kind->ops || !kind->ops->free) {
            free_any(ptr, NULL);
        } else if (free_is_ours(kind->ops->free)) {
            free_any(ptr, kind);
        } else {
            run_init_once(kind);
            kind->ops->free(kind, ptr);
        }
        errno = saved;
    }
    if (memkind_free_post)
        memkind_free_post(kind, ptr);
}

HETMEM_EXPORT size_t memkind_malloc_usable_size(memkind_t kind, void *ptr) {
    if (!ptr)
        return 0;
    if (kind && !mk_kind_check(kind, "memkind_malloc_usable_size"))
        return 0;
    if (kind && kind->ops && kind->ops->malloc_usable_size &&
        kind->ops->malloc_usable_size != mk_op_usable_size)
        return kind->ops->malloc_usable_size(kind, ptr);
    return mk_op_usable_size(kind, ptr);
}

HETMEM_EXPORT void *memkind_defrag_reallocate(memkind_t kind, void *ptr) {
    if (!ptr)
        return NULL;
    if (kind && !mk_kind_check(kind, "memkind_defrag_reallocate"))
        return NULL;
    if (!kind)
        kind = mk_kind_of(ptr, NULL);
    if (!kind || !kind->ops)
        return NULL;
    int saved = errno;
    void *r = kind->ops->defrag_reallocate ? kind->ops->defrag_reallocate(kind, ptr)
                                           : mk_op_defrag(kind, ptr);
    errno = saved; // NULL is "not worth moving", not an error
    return r;
}

HETMEM_EXPORT memkind_t memkind_detect_kind(void *ptr) { return mk_kind_of(ptr, NULL); }

HETMEM_EXPORT void memkind_set_allow_zero_allocs(memkind_t kind, bool allow_zero_allocs) {
    if (mk_kind_check(kind, "memkind_set_allow_zero_allocs"))
        (void)(allow_zero_allocs
                   ? __atomic_fetch_or(&kind->hetmem_flags, MK_FLAG_ZERO_ALLOCS, __ATOMIC_RELAXED)
                   : __atomic_fetch_and(&kind->hetmem_flags, ~MK_FLAG_ZERO_ALLOCS, __ATOMIC_RELAXED));
}

HETMEM_EXPORT void memkind_init(memkind_t kind, bool check_numa) {
    (void)check_numa;
    if (mk_kind_check(kind, "memkind_init") && kind->ops) {
        int saved = errno;
        run_init_once(kind);
        errno = saved;
    }
}
