// SPDX-License-Identifier: MIT
// The hmalloc allocation API (hmalloc.h): hmalloc, hfree, hcalloc,
// hrealloc, haligned_alloc, hposix_memalign, hmalloc_usable_size on the
// hmalloc pool (hm_pool.c). Each call maps onto one pool call; what is
// decided here is only what malloc(3) and friends promise callers:
//   - failure is decided from the returned pointer, never from errno (HMSDK
//     hmalloc returns NULL whenever errno happens to be ENOMEM, a stale
//     value from any earlier call);
//   - errno is set on failure only, from the one table below, and left as
//     it was on success (free(3) and posix_memalign(3) never change it);
//   - hcalloc checks nmemb * size for overflow (HMSDK's does not);
//   - bad alignments are EINVAL, and hposix_memalign writes NULL to *memptr
//     on failure, as HMSDK does (glibc leaves it alone: a caller that reads
//     it after an error sees NULL, never a stale pointer);
//   - hfree(NULL) does nothing, and a pointer the pool did not hand out is
//     found through the address map (umfPoolByPtr, the lookup every free
//     makes) and ignored with an error log instead of crashing.
#include <errno.h>
#include <stdint.h>

#include <hmalloc.h>
#include <umf/memory_pool.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/hmalloc/hm_priv.h"

// The front end's one conversion table (STYLE.md 4). malloc(3), calloc(3),
// realloc(3), aligned_alloc(3) and posix_memalign(3) have one error once
// their arguments are valid, ENOMEM, and the arguments (alignments) are
// checked before the pool is asked, so every pool failure is ENOMEM:
int hm_errno_of(umf_result_t result) {
    switch (result) {
    case UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY:       // no memory (or address space)
    case UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC: // mapping or binding the pages failed
    case UMF_RESULT_ERROR_INVALID_ARGUMENT:         // a size too large for the engine
    case UMF_RESULT_ERROR_INVALID_ALIGNMENT:        // an alignment too large for it
    case UMF_RESULT_ERROR_NOT_SUPPORTED:
    case UMF_RESULT_ERROR_USER_SPECIFIC:
    case UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE:
    case UMF_RESULT_ERROR_OUT_OF_RESOURCES:
    case UMF_RESULT_ERROR_UNKNOWN:
    case UMF_RESULT_SUCCESS:                        // NULL with no error recorded
    default: return ENOMEM;
    }
}

// The end of every allocating call: success leaves errno as the caller
// had it (the pool's system calls may have changed it on their way), and
// failure sets it from the table.
static inline void *finish(umf_memory_pool_handle_t pool, void *p, int saved_errno) {
    if (likely(p)) {
        if (unlikely(errno != saved_errno))
            errno = saved_errno;
        return p;
    }
    umf_result_t r = pool ? umfPoolGetLastAllocationError(pool) : UMF_RESULT_ERROR_UNKNOWN;
    LOG_INFO("allocation from the hmalloc pool failed: %s", log_umf_result(r));
    errno = hm_errno_of(r);
    return NULL;
}

// The pool that owns ptr, or NULL (logged) for a foreign pointer. One
// lock-free address map lookup.
static inline umf_memory_pool_handle_t owner(const char *fn, void *ptr) {
    umf_memory_pool_handle_t pool = umfPoolByPtr(ptr);
    if (likely(pool && pool == hm_pool_created()))
        return pool;
    if (log_level() >= LOG_LEVEL_ERROR) // under the caller's name, not owner's
        log_write(LOG_LEVEL_ERROR, fn, "%p is not memory of the hmalloc pool; ignored", ptr);
    return NULL;
}

HETMEM_EXPORT void *hmalloc(size_t size) {
    int saved = errno;
    umf_memory_pool_handle_t pool = hm_pool();
    return finish(pool, pool ? umfPoolMalloc(pool, size) : NULL, saved);
}

HETMEM_EXPORT void hfree(void *ptr) {
    if (!ptr)
        return;
    int saved = errno;
    umf_memory_pool_handle_t pool = owner("hfree", ptr);
    if (likely(pool)) {
        umf_result_t r = umfPoolFree(pool, ptr);
        if (unlikely(r != UMF_RESULT_SUCCESS))
            LOG_ERR("hfree(%p): the pool refused it (%s: not a live block, freed twice or "
                    "an interior pointer); ignored",
                    ptr, log_umf_result(r));
    }
    if (unlikely(errno != saved))
        errno = saved;
}

HETMEM_EXPORT void *hcalloc(size_t nmemb, size_t size) {
    size_t total;
    if (unlikely(!mul_checked(nmemb, size, &total))) {
        LOG_ERR("hcalloc(%zu, %zu): the size overflows", nmemb, size);
        errno = ENOMEM;
        return NULL;
    }
    int saved = errno;
    umf_memory_pool_handle_t pool = hm_pool();
    return finish(pool, pool ? umfPoolCalloc(pool, nmemb, size) : NULL, saved);
}

HETMEM_EXPORT void *hrealloc(void *ptr, size_t size) {
    if (!ptr)
        return hmalloc(size);
    umf_memory_pool_handle_t pool = owner("hrealloc", ptr);
    if (unlikely(!pool)) {
        errno = EINVAL; // undefined for realloc(3) (glibc aborts); ptr is left alone
        return NULL;
    }
    if (size == 0) {
        // glibc's realloc(ptr, 0): free and return NULL, errno unchanged.
        hfree(ptr);
        return NULL;
    }
    if (unlikely(size > PTRDIFF_MAX)) {
        // glibc refuses objects larger than PTRDIFF_MAX (pointer differences
        // must fit); the block stays as it is.
        errno = ENOMEM;
        return NULL;
    }
    int saved = errno;
    void *p = umfPoolRealloc(pool, ptr, size);
    if (unlikely(!p) && umfPoolGetLastAllocationError(pool) == UMF_RESULT_ERROR_INVALID_ARGUMENT &&
        umfPoolMallocUsableSize(pool, ptr) == 0) {
        // Not a live block of the pool (an interior pointer, a freed
        // block): the argument is wrong, not the memory short.
        LOG_ERR("hrealloc(%p): not a live block of the hmalloc pool; refused", ptr);
        errno = EINVAL;
        return NULL;
    }
    return finish(pool, p, saved);
}

// aligned_alloc(3): the alignment must be a power of two (glibc 2.38 and
// C17 DR 460: any size, not only multiples of the alignment).
HETMEM_EXPORT void *haligned_alloc(size_t alignment, size_t size) {
    if (unlikely(!is_pow2(alignment))) {
        LOG_INFO("haligned_alloc: alignment %zu is not a power of two", alignment);
        errno = EINVAL;
        return NULL;
    }
    int saved = errno;
    umf_memory_pool_handle_t pool = hm_pool();
    return finish(pool, pool ? umfPoolAlignedMalloc(pool, size, alignment) : NULL, saved);
}

// posix_memalign(3): the result is the return value and errno is left
// alone; on any error *memptr is set to NULL (HMSDK hposix_memalign does).
HETMEM_EXPORT int hposix_memalign(void **memptr, size_t alignment, size_t size) {
    if (unlikely(!memptr))
        return EINVAL;
    if (unlikely(!is_pow2(alignment) || alignment % sizeof(void *) != 0)) {
        LOG_INFO("hposix_memalign: alignment %zu is not a power of two multiple of %zu",
                 alignment, sizeof(void *));
        *memptr = NULL;
        return EINVAL;
    }
    int saved = errno;
    umf_memory_pool_handle_t pool = hm_pool();
    void *p = pool ? umfPoolAlignedMalloc(pool, size, alignment) : NULL;
    int err = p ? 0 : hm_errno_of(pool ? umfPoolGetLastAllocationError(pool)
                                       : UMF_RESULT_ERROR_UNKNOWN);
    if (unlikely(errno != saved))
        errno = saved;
    *memptr = p; // NULL on failure
    return err;
}

HETMEM_EXPORT size_t hmalloc_usable_size(void *ptr) {
    if (!ptr)
        return 0;
    umf_memory_pool_handle_t pool = owner("hmalloc_usable_size", ptr);
    return pool ? umfPoolMallocUsableSize(pool, ptr) : 0;
}
