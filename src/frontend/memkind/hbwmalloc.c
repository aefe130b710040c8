// SPDX-License-Identifier: MIT
// The hbwmalloc API (hbwmalloc(3)) over the memkind HBW kinds: the policy
// picks the kind, every call is the memkind call on it.
//
//   policy          4 KiB pages               2 MiB pages
//   BIND            MEMKIND_HBW               MEMKIND_HBW_HUGETLB
//   BIND_ALL        MEMKIND_HBW_ALL           MEMKIND_HBW_ALL_HUGETLB
//   PREFERRED       MEMKIND_HBW_PREFERRED     MEMKIND_HBW_PREFERRED_HUGETLB
//   INTERLEAVE      MEMKIND_HBW_INTERLEAVE    (EINVAL)
// PREFERRED, the default, falls back on MEMKIND_DEFAULT when the machine
// has no high bandwidth memory at all (as memkind does).
//
// The policy is set once: hbw_set_policy before the first allocation, or
// the default at the first allocation (an atomic state machine, not an
// unsynchronized test).
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <hbwmalloc.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_internal.h"
#include "os/os.h"
#include "topology/topo.h"

// 0: not fixed yet; else the hbw_policy_t in force.
static _Atomic int policy_state;

static hbw_policy_t fix_policy(void) {
    int p = atomic_load_explicit(&policy_state, memory_order_acquire);
    if (likely(p))
        return (hbw_policy_t)p;
    int expected = 0;
    atomic_compare_exchange_strong(&policy_state, &expected, HBW_POLICY_PREFERRED);
    return (hbw_policy_t)atomic_load(&policy_state);
}

HETMEM_EXPORT hbw_policy_t hbw_get_policy(void) {
    int p = atomic_load_explicit(&policy_state, memory_order_acquire);
    return p ? (hbw_policy_t)p : HBW_POLICY_PREFERRED;
}

HETMEM_EXPORT int hbw_set_policy(hbw_policy_t mode) {
    if (mode != HBW_POLICY_BIND && mode != HBW_POLICY_PREFERRED && mode != HBW_POLICY_INTERLEAVE &&
        mode != HBW_POLICY_BIND_ALL)
        return EINVAL;
    int expected = 0;
    if (!atomic_compare_exchange_strong(&policy_state, &expected, (int)mode)) {
        LOG_ERR("hbw_set_policy: the policy is already set (%d)", expected);
        return EPERM;
    }
    return 0;
}

HETMEM_EXPORT int hbw_check_available(void) {
    return memkind_check_available(MEMKIND_HBW) == MEMKIND_SUCCESS ? 0 : ENODEV;
}

// The kind of the policy and page size; NULL for an unsupported pair.
static memkind_t kind_for(hbw_pagesize_t psize) {
    bool huge = psize == HBW_PAGESIZE_2MB;
    switch (fix_policy()) {
        case HBW_POLICY_BIND: return huge ? MEMKIND_HBW_HUGETLB : MEMKIND_HBW;
        case HBW_POLICY_BIND_ALL: return huge ? MEMKIND_HBW_ALL_HUGETLB : MEMKIND_HBW_ALL;
        case HBW_POLICY_INTERLEAVE: return huge ? NULL : MEMKIND_HBW_INTERLEAVE;
        default:
            if (memkind_check_available(MEMKIND_HBW) != MEMKIND_SUCCESS)
                return huge ? MEMKIND_HUGETLB : MEMKIND_DEFAULT; // no HBW at all: standard memory
            return huge ? MEMKIND_HBW_PREFERRED_HUGETLB : MEMKIND_HBW_PREFERRED;
    }
}

HETMEM_EXPORT void *hbw_malloc(size_t size) {
    return memkind_malloc(kind_for(HBW_PAGESIZE_4KB), size);
}

HETMEM_EXPORT void *hbw_calloc(size_t num, size_t size) {
    return memkind_calloc(kind_for(HBW_PAGESIZE_4KB), num, size);
}

HETMEM_EXPORT void *hbw_realloc(void *ptr, size_t size) {
    return memkind_realloc(kind_for(HBW_PAGESIZE_4KB), ptr, size);
}

HETMEM_EXPORT void hbw_free(void *ptr) { memkind_free(NULL, ptr); }

HETMEM_EXPORT size_t hbw_malloc_usable_size(void *ptr) {
    return memkind_malloc_usable_size(NULL, ptr);
}

HETMEM_EXPORT int hbw_posix_memalign(void **memptr, size_t alignment, size_t size) {
    return memkind_posix_memalign(kind_for(HBW_PAGESIZE_4KB), memptr, alignment, size);
}

HETMEM_EXPORT int hbw_posix_memalign_psize(void **memptr, size_t alignment, size_t size,
                                           hbw_pagesize_t pagesize) {
    if (pagesize != HBW_PAGESIZE_4KB && pagesize != HBW_PAGESIZE_2MB) {
        LOG_ERR("hbw_posix_memalign_psize: page size %d is not supported (1 GiB pages are gone)",
                (int)pagesize);
        return EINVAL;
    }
    memkind_t kind = kind_for(pagesize);
    if (!kind)
        return EINVAL; // 2 MiB pages with HBW_POLICY_INTERLEAVE
    return memkind_posix_memalign(kind, memptr, alignment, size);
}

static int verify_region(void *addr, size_t size, int flags);

HETMEM_EXPORT int hbw_verify_memory_region(void *addr, size_t size, int flags) {
    if (!addr || size == 0 || (flags & ~HBW_TOUCH_PAGES)) {
        LOG_ERR("hbw_verify_memory_region: %s", !addr || !size ? "empty region" : "unknown flags");
        return EINVAL;
    }
    int saved = errno;
    int r = verify_region(addr, size, flags);
    errno = saved; // the result is the return value (the topology and page queries may set errno)
    return r;
}

static int verify_region(void *addr, size_t size, int flags) {
    int e = topo_init();
    if (e && e != EINVAL)
        return EFAULT;
    nodeset_t hbw;
    topo_nodes_of_class(TOPO_CLASS_HBM, &hbw);
    size_t page = os_page_size();
    uintptr_t start = (uintptr_t)addr & ~(uintptr_t)(page - 1);
    uintptr_t end;
    if (__builtin_add_overflow((uintptr_t)addr, size, &end)) {
        LOG_ERR("hbw_verify_memory_region(%p, %zu): the region wraps around (size overflow)", addr,
                size);
        return EINVAL;
    }
    enum { BATCH = 256 };
    void *pages[BATCH];
    int status[BATCH];
    for (uintptr_t p = start; p < end;) {
        size_t n = 0;
        for (; n < BATCH && p < end; n++, p += page) {
            if (flags & HBW_TOUCH_PAGES) { // read and write back the first byte of the page
                volatile char *c = (volatile char *)(p < (uintptr_t)addr ? (uintptr_t)addr : p);
                *c = *c;
            }
            pages[n] = (void *)p;
        }
        if (os_move_pages(n, pages, NULL, status))
            return EFAULT;
        for (size_t i = 0; i < n; i++)
            if (status[i] < 0 || !nodeset_isset(&hbw, (unsigned)status[i]))
                return -1; // not present, or not high bandwidth memory
    }
    return 0;
}
