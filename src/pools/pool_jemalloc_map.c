// SPDX-License-Identifier: MIT
// The jemalloc pool's live map (pool_jemalloc_priv.h says what it
// holds): which pool owns each page its extent hooks got from a provider,
// and which 8-byte granules start a live block. The extent hooks add and
// remove ranges; the pool operations read the owner and flip the bits
// (inline, in the header).
//
// Cost: registering a range writes one word per page (8 bytes per 4 KiB);
// forgetting it clears those and the range's bits (one bit per 8 bytes),
// giving whole pages of the map back to the OS with MADV_DONTNEED. Lookups
// take no lock: the region table and region pointers are published with
// release stores and never change afterwards.
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "os/os.h"
#include "pools/pool_jemalloc_priv.h"

#if POOL_JEMALLOC_AVAILABLE

#define NREGIONS (1ull << (PJM_ADDR_BITS - PJM_REGION_SHIFT))
#define REGION_SIZE (1ull << PJM_REGION_SHIFT)
#define OS_PAGE 4096u

_Atomic(pool_jemalloc_region_t *) *pool_jemalloc_regions;

// Zeroed, lazily backed memory from the OS layer (NULL on failure).
static void *map_anon(size_t size) {
    void *p = NULL;
    if (os_map_anon(NULL, ALIGN_UP(size, OS_PAGE), 0, OS_PROT_READ | OS_PROT_WRITE,
                    OS_MAP_PRIVATE | OS_MAP_NORESERVE, &p) != 0)
        return NULL;
    return p;
}

bool pool_jemalloc_map_init(void) {
    int saved_errno = errno;
    pool_jemalloc_regions = map_anon(NREGIONS * sizeof *pool_jemalloc_regions);
    if (!pool_jemalloc_regions) {
        LOG_ERR("cannot map the jemalloc pool's region table (%zu KiB)",
                (size_t)(NREGIONS * sizeof *pool_jemalloc_regions >> 10));
        return false;
    }
    errno = saved_errno;
    return true;
}

static pool_jemalloc_region_t *region_get(size_t i) {
    pool_jemalloc_region_t *r =
        atomic_load_explicit(&pool_jemalloc_regions[i], memory_order_acquire);
    if (r)
        return r;
    int saved_errno = errno;
    pool_jemalloc_region_t *n = map_anon(sizeof *n);
    if (!n) {
        LOG_ERR("cannot map %zu MiB (virtual) for the jemalloc pool's live map",
                sizeof *n >> 20);
        return NULL;
    }
    errno = saved_errno;
    if (atomic_compare_exchange_strong_explicit(&pool_jemalloc_regions[i], &r, n,
                                                memory_order_acq_rel, memory_order_acquire))
        return n;
    (void)os_unmap(n, ALIGN_UP(sizeof *n, OS_PAGE)); // another thread won; r is its region
    errno = saved_errno;
    return r;
}

// Stores 0 in n words: whole OS pages of them go back with MADV_DONTNEED
// (they read as zero afterwards), the edges word by word, writing only
// words that are not zero already (untouched pages stay untouched).
static void zero_words(_Atomic uint64_t *w, size_t n) {
    uintptr_t lo = ALIGN_UP((uintptr_t)w, OS_PAGE), hi = ALIGN_DOWN((uintptr_t)(w + n), OS_PAGE);
    _Atomic uint64_t *end = w + n;
    if (hi > lo && hi - lo >= 4 * OS_PAGE) {
        int saved_errno = errno;
        if (os_madvise((void *)lo, hi - lo, OS_ADV_DONTNEED) == 0) {
            for (; w < (_Atomic uint64_t *)lo; w++)
                if (atomic_load_explicit(w, memory_order_relaxed))
                    atomic_store_explicit(w, 0, memory_order_relaxed);
            w = (_Atomic uint64_t *)hi;
        }
        errno = saved_errno;
    }
    for (; w < end; w++)
        if (atomic_load_explicit(w, memory_order_relaxed))
            atomic_store_explicit(w, 0, memory_order_relaxed);
}

// Page-aligned, not empty, not wrapping, below 2^PJM_ADDR_BITS.
static bool range_ok(uintptr_t a, size_t size) {
    return size && IS_ALIGNED(a, OS_PAGE) && IS_ALIGNED(size, OS_PAGE) &&
           a + size > a && ((a + size - 1) >> PJM_ADDR_BITS) == 0;
}

int pool_jemalloc_map_add(struct pool_jemalloc_t *jp, void *start, size_t size) {
    uintptr_t a = (uintptr_t)start, end = a + size;
    if (!range_ok(a, size)) {
        LOG_ERR("range %p+%zu from the provider is not page-aligned or lies above 2^%d", start,
                size, PJM_ADDR_BITS);
        return EINVAL;
    }
    for (uintptr_t p = a; p < end;) {
        pool_jemalloc_region_t *r = region_get(p >> PJM_REGION_SHIFT);
        if (!r) {
            pool_jemalloc_map_remove(start, p - a);
            return ENOMEM;
        }
        uintptr_t stop = ALIGN_DOWN(p, REGION_SIZE) + REGION_SIZE;
        if (stop > end || stop == 0)
            stop = end;
        size_t i = (p & (REGION_SIZE - 1)) >> PJM_PAGE_SHIFT;
        for (; p < stop; p += OS_PAGE, i++)
            atomic_store_explicit(&r->owner[i], (uintptr_t)jp, memory_order_relaxed);
    }
    return 0;
}

void pool_jemalloc_map_remove(void *start, size_t size) {
    uintptr_t a = (uintptr_t)start, end = a + size;
    if (!range_ok(a, size))
        return; // never added
    for (uintptr_t p = a; p < end;) {
        uintptr_t stop = ALIGN_DOWN(p, REGION_SIZE) + REGION_SIZE;
        if (stop > end || stop == 0)
            stop = end;
        pool_jemalloc_region_t *r = atomic_load_explicit(
            &pool_jemalloc_regions[p >> PJM_REGION_SHIFT], memory_order_acquire);
        if (r) {
            uintptr_t off = p & (REGION_SIZE - 1), len = stop - p;
            _Static_assert(sizeof(_Atomic uintptr_t) == sizeof(_Atomic uint64_t), "word size");
            zero_words((_Atomic uint64_t *)&r->owner[off >> PJM_PAGE_SHIFT],
                       len >> PJM_PAGE_SHIFT);
            zero_words(&r->live[off >> (PJM_GRANULE_SHIFT + 6)],
                       len >> (PJM_GRANULE_SHIFT + 6));
        }
        p = stop;
    }
}

#endif // POOL_JEMALLOC_AVAILABLE
