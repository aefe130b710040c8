// SPDX-License-Identifier: MIT
// The rest of memkind 1.14's ABI: the per-kind functions its internal
// headers name (nodemasks, availability, init_once, pmem and fixed
// operations). The ops tables themselves are rows of MK_STATIC_KINDS
// (mk_kinds.c); docs/memkind.md, "User kinds".
#include <errno.h>
#include <sys/mman.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"
#include "memkind/internal/memkind_dax_kmem.h"
#include "memkind/internal/memkind_fixed.h"
#include "memkind/internal/memkind_hbw.h"
#include "memkind/internal/memkind_hugetlb.h"
#include "memkind/internal/memkind_interleave.h"
#include "memkind/internal/memkind_pmem.h"
#include "memkind/internal/memkind_regular.h"
#include "os/os.h"
#include "topology/topo.h"

// ---- static kinds by partition ------------------------------------------------------

void mk_abi_init(unsigned partition) { (void)mk_heap_get(&mk_static_kinds[partition]); }

int mk_abi_check(unsigned partition) { return mk_heap_check(&mk_static_kinds[partition]); }

// memkind 1.14's code for a static kind without memory: HBW and HMAT kinds
// MEMTYPE_NOT_AVAILABLE, 1 GiB page kinds HUGETLB, the others UNAVAILABLE.
int mk_abi_code(const mk_static_desc_t *d, int err) {
    if (err != MEMKIND_ERROR_UNAVAILABLE)
        return err;
    if (d->unsupported)
        return MEMKIND_ERROR_HUGETLB;
    switch (d->rule) {
        case MEMSPACE_RULE_HBW_CLOSEST:
        case MEMSPACE_RULE_HBW_ALL:
        case MEMSPACE_RULE_HIGHEST_BANDWIDTH:
        case MEMSPACE_RULE_LOWEST_LATENCY:
        case MEMSPACE_RULE_LATENCY_LOCAL:
        case MEMSPACE_RULE_BANDWIDTH_LOCAL: return MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE;
        default: return d->hbw_env ? MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE : err;
    }
}

int mk_abi_nodemask(unsigned partition, unsigned long *mask, unsigned long maxnode) {
    if (!mask)
        return MEMKIND_ERROR_INVALID;
    int saved = errno; // a query: errno stays (the first use reads sysfs)
    mk_heap_t *h = mk_heap_get(&mk_static_kinds[partition]);
    errno = saved;
    if (!h)
        return MEMKIND_ERROR_MALLOC;
    int err = h->status != MEMKIND_SUCCESS ? h->status : mk_heap_slot(h)->status;
    if (err != MEMKIND_SUCCESS)
        return mk_abi_code(h->desc, err);
    // The slot's nodes are the pool's; a kind without a node rule takes any node.
    const nodeset_t *nodes =
        h->desc->rule == MEMSPACE_RULE_NONE ? topo_all_nodes() : &mk_heap_slot(h)->nodes;
    mk_nodemask_fill(nodes, mask, maxnode);
    return MEMKIND_SUCCESS;
}

// The exported names memkind 1.14 gives some of the rows' functions.
#define NODEMASK_FN(name, P)                                                                       \
    HETMEM_EXPORT int name(struct memkind *kind, unsigned long *nodemask, unsigned long maxnode) { \
        (void)kind;                                                                                \
        return mk_abi_nodemask(MEMKIND_PARTITION_##P, nodemask, maxnode);                          \
    }
NODEMASK_FN(memkind_hbw_get_mbind_nodemask, HBW)
NODEMASK_FN(memkind_hbw_all_get_mbind_nodemask, HBW_ALL)
NODEMASK_FN(memkind_dax_kmem_all_get_mbind_nodemask, DAX_KMEM_ALL)
NODEMASK_FN(memkind_regular_all_get_mbind_nodemask, REGULAR)

#define CHECK_FN(name, P)                                                                          \
    HETMEM_EXPORT int name(struct memkind *kind) {                                                 \
        (void)kind;                                                                                \
        return mk_abi_check(MEMKIND_PARTITION_##P);                                                \
    }
CHECK_FN(memkind_hbw_check_available, HBW)
CHECK_FN(memkind_hbw_hugetlb_check_available, HBW_HUGETLB)
CHECK_FN(memkind_hugetlb_check_available_2mb, HUGETLB)

#define INIT_FN(name, P)                                                                           \
    HETMEM_EXPORT void name(void) { mk_abi_init(MEMKIND_PARTITION_##P); }
INIT_FN(memkind_hbw_init_once, HBW)
INIT_FN(memkind_hbw_all_init_once, HBW_ALL)
INIT_FN(memkind_hbw_hugetlb_init_once, HBW_HUGETLB)
INIT_FN(memkind_hbw_all_hugetlb_init_once, HBW_ALL_HUGETLB)
INIT_FN(memkind_hbw_preferred_init_once, HBW_PREFERRED)
INIT_FN(memkind_hbw_preferred_hugetlb_init_once, HBW_PREFERRED_HUGETLB)
INIT_FN(memkind_hbw_interleave_init_once, HBW_INTERLEAVE)
INIT_FN(memkind_hugetlb_init_once, HUGETLB)
INIT_FN(memkind_interleave_init_once, INTERLEAVE)

HETMEM_EXPORT int memkind_hugetlb_get_mmap_flags(struct memkind *kind, int *flags) {
    (void)kind;
    if (!flags)
        return MEMKIND_ERROR_INVALID;
    *flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT);
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_set_arena_map_len(struct memkind *kind) {
    if (!kind || !kind->ops)
        return MEMKIND_ERROR_INVALID;
    // memkind: one arena for bijective kinds, else the per-kind count.
    kind->arena_map_len = kind->ops->get_arena == memkind_bijective_get_arena ? 1 : mk_arena_count();
    kind->arena_map_mask = kind->arena_map_len - 1;
    return MEMKIND_SUCCESS;
}

// ---- pmem and fixed operations ---------------------------------------------------------

HETMEM_EXPORT int memkind_pmem_create(struct memkind *kind, struct memkind_ops *ops,
                                      const char *name) {
    return memkind_arena_create(kind, ops, name);
}

HETMEM_EXPORT int memkind_fixed_create(struct memkind *kind, struct memkind_ops *ops,
                                       const char *name) {
    return memkind_arena_create(kind, ops, name);
}

// A created kind's destroy: memkind_destroy_kind when called on its own;
// a user kind that copied the table releases its heap.
static int created_destroy_op(struct memkind *kind) {
    if (!mk_kind_check(kind, "memkind_pmem_destroy/memkind_fixed_destroy"))
        return MEMKIND_ERROR_INVALID;
    if (mk_ops_created(kind->ops))
        return memkind_destroy_kind(kind);
    mk_heap_destroy(kind);
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_pmem_destroy(struct memkind *kind) { return created_destroy_op(kind); }

HETMEM_EXPORT int memkind_fixed_destroy(struct memkind *kind) { return created_destroy_op(kind); }

// size bytes of a created kind's own backing (file or buffer), page
// aligned; MAP_FAILED for any other kind (a user kind's copy of the table
// has no backing: kind_mmap would come back here).
static void *backing_mmap(struct memkind *kind, mk_type_t type, size_t size, const char *fn) {
    mk_heap_t *h = mk_kind_live(kind) ? mk_heap_peek(kind) : NULL;
    void *p = NULL;
    if (!h || h->type != type) {
        LOG_ERR("%s: kind %s has no %s", fn, kind ? kind->name : "(null)",
                type == MK_TYPE_PMEM ? "file" : "buffer");
        return MAP_FAILED;
    }
    if (mk_op_posix_memalign(kind, &p, os_page_size(), size) != 0)
        return MAP_FAILED;
    return p;
}

HETMEM_EXPORT void *memkind_pmem_mmap(struct memkind *kind, void *addr, size_t size) {
    (void)addr;
    return backing_mmap(kind, MK_TYPE_PMEM, size, "memkind_pmem_mmap");
}

HETMEM_EXPORT void *memkind_fixed_mmap(struct memkind *kind, void *addr, size_t size) {
    (void)addr;
    return backing_mmap(kind, MK_TYPE_FIXED, size, "memkind_fixed_mmap");
}

HETMEM_EXPORT int memkind_pmem_get_mmap_flags(struct memkind *kind, int *flags) {
    (void)kind;
    if (!flags)
        return MEMKIND_ERROR_INVALID;
    *flags = MAP_SHARED;
    return MEMKIND_SUCCESS;
}
