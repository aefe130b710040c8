// SPDX-License-Identifier: MIT
// The hbwmalloc API (hbwmalloc(3)): the policy, fixed once (an atomic
// state machine), picks an HBW kind; docs/memkind.md, "hbwmalloc".
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>

#include <hbwmalloc.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"
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

// Whether HBW memory exists. memkind 1.14's first detection that finds none
// leaves errno EINVAL, which programs then print (its hello_hbw_example's
// perror after a failed 2 MiB allocation): done once here too.
static bool hbw_available(void) {
    static atomic_bool told;
    if (memkind_check_available(MEMKIND_HBW) == MEMKIND_SUCCESS)
        return true;
    if (!atomic_load_explicit(&told, memory_order_relaxed) && !atomic_exchange(&told, true))
        errno = EINVAL;
    return false;
}

HETMEM_EXPORT int hbw_check_available(void) { return hbw_available() ? 0 : ENODEV; }

// The kind of the policy and page size; NULL for an unsupported pair.
static memkind_t kind_for(hbw_pagesize_t psize) {
    bool huge = psize == HBW_PAGESIZE_2MB;
    switch (fix_policy()) {
        case HBW_POLICY_BIND: return huge ? MEMKIND_HBW_HUGETLB : MEMKIND_HBW;
        case HBW_POLICY_BIND_ALL: return huge ? MEMKIND_HBW_ALL_HUGETLB : MEMKIND_HBW_ALL;
        case HBW_POLICY_INTERLEAVE: return huge ? NULL : MEMKIND_HBW_INTERLEAVE;
        default:
            if (!hbw_available())
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

HETMEM_EXPORT int hbw_verify_memory_region(void *addr, size_t size, int flags) {
    if (!addr || size == 0 || (flags & ~HBW_TOUCH_PAGES)) {
        LOG_ERR("hbw_verify_memory_region: %s", !addr || !size ? "empty region" : "unknown flags");
        return EINVAL;
    }
    int saved = errno; // the result is the return value (topology and page queries set errno)
    int e = topo_init();
    nodeset_t hbw;
    bool on = false;
    if (!e || e == EINVAL) {
        topo_nodes_of_class(TOPO_CLASS_HBM, &hbw);
        e = memspace_range_on_nodes(addr, size, &hbw, flags & HBW_TOUCH_PAGES, &on);
    }
    errno = saved;
    if (e == EINVAL)
        LOG_ERR("hbw_verify_memory_region(%p, %zu): the region wraps around", addr, size);
    return e == EINVAL ? EINVAL : e ? EFAULT : on ? 0 : -1; // -1: not (all) HBW memory
}
