// SPDX-License-Identifier: MIT
// The static kinds (MK_STATIC_KINDS: node rule, mempolicy, pool flags), the
// kind registry and kind management (docs/memkind.md, "Node selection per
// kind").
#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/lock.h"
#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_hooks.h"
#include "frontend/memkind/mk_priv.h"
#include "memkind/internal/memkind_fixed.h"
#include "memkind/internal/memkind_hugetlb.h"
#include "memkind/internal/memkind_pmem.h"
#include "os/meta.h"
#include "topology/topo.h"

// The static kinds in partition order (memkind_deprecated.h): kind, name,
// node rule (memspace engine), mempolicy, pool flags (HUGE: 2 MiB pages;
// ONE: exactly one node, ties fail; HBW / KMEM: depends on MEMKIND_HBW_* /
// MEMKIND_DAX_KMEM_NODES; NEVER: GBTLB; CAP: memkind_get_capacity answers).
#define HUGE 1u
#define ONE 2u
#define HBW 4u
#define KMEM 8u
#define NEVER 16u
#define CAP 32u
#define MK_STATIC_KINDS(X)                                                                         \
    X(DEFAULT, "memkind_default", NONE, DEFAULT, CAP)                                              \
    X(HBW, "memkind_hbw", HBW_CLOSEST, BIND, HBW | CAP)                                            \
    X(HBW_HUGETLB, "memkind_hbw_hugetlb", HBW_CLOSEST, BIND, HUGE | HBW)                           \
    X(HBW_PREFERRED, "memkind_hbw_preferred", HBW_CLOSEST, PREFERRED, ONE | HBW)                   \
    X(HBW_PREFERRED_HUGETLB, "memkind_hbw_preferred_hugetlb", HBW_CLOSEST, PREFERRED,              \
      HUGE | ONE | HBW)                                                                            \
    X(HUGETLB, "memkind_hugetlb", NONE, DEFAULT, HUGE | CAP)                                       \
    X(HBW_GBTLB, "memkind_hbw_gbtlb", NONE, DEFAULT, NEVER)                                        \
    X(HBW_PREFERRED_GBTLB, "memkind_hbw_preferred_gbtlb", NONE, DEFAULT, NEVER)                    \
    X(GBTLB, "memkind_gbtlb", NONE, DEFAULT, NEVER | CAP)                                          \
    X(HBW_INTERLEAVE, "memkind_hbw_interleave", HBW_ALL, INTERLEAVE, HBW | CAP)                    \
    X(INTERLEAVE, "memkind_interleave", ALL, INTERLEAVE, CAP)                                      \
    X(REGULAR, "memkind_regular", CPU, BIND, CAP)                                                  \
    X(HBW_ALL, "memkind_hbw_all", HBW_ALL, BIND, HBW | CAP)                                        \
    X(HBW_ALL_HUGETLB, "memkind_hbw_all_hugetlb", HBW_ALL, BIND, HUGE | HBW)                       \
    X(DAX_KMEM, "memkind_dax_kmem", KMEM_CLOSEST, BIND, KMEM | CAP)                                \
    X(DAX_KMEM_ALL, "memkind_dax_kmem_all", KMEM_ALL, BIND, KMEM | CAP)                            \
    X(DAX_KMEM_PREFERRED, "memkind_dax_kmem_preferred", KMEM_CLOSEST, PREFERRED, ONE | KMEM)       \
    X(DAX_KMEM_INTERLEAVE, "memkind_dax_kmem_interleave", KMEM_ALL, INTERLEAVE, KMEM | CAP)        \
    X(HIGHEST_CAPACITY, "memkind_highest_capacity", HIGHEST_CAPACITY, BIND, CAP)                   \
    X(HIGHEST_CAPACITY_PREFERRED, "memkind_highest_capacity_preferred", HIGHEST_CAPACITY,          \
      PREFERRED, ONE)                                                                              \
    X(HIGHEST_CAPACITY_LOCAL, "memkind_highest_capacity_local", CAPACITY_LOCAL, BIND, CAP)         \
    X(HIGHEST_CAPACITY_LOCAL_PREFERRED, "memkind_highest_capacity_local_preferred",                \
      CAPACITY_LOCAL, PREFERRED, 0)                                                                \
    X(LOWEST_LATENCY_LOCAL, "memkind_lowest_latency_local", LATENCY_LOCAL, BIND, CAP)              \
    X(LOWEST_LATENCY_LOCAL_PREFERRED, "memkind_lowest_latency_local_preferred", LATENCY_LOCAL,     \
      PREFERRED, 0)                                                                                \
    X(HIGHEST_BANDWIDTH_LOCAL, "memkind_highest_bandwidth_local", BANDWIDTH_LOCAL, BIND, CAP)      \
    X(HIGHEST_BANDWIDTH_LOCAL_PREFERRED, "memkind_highest_bandwidth_local_preferred",              \
      BANDWIDTH_LOCAL, PREFERRED, 0)

#define DESC(P, NAME, RULE, MODE, F)                                                               \
    [MEMKIND_PARTITION_##P] = {NAME, MEMSPACE_RULE_##RULE, UMF_NUMA_MODE_##MODE,                   \
                               .hugetlb = (F)&HUGE, .single = (F)&ONE, .hbw_env = (F)&HBW,         \
                               .kmem_env = (F)&KMEM, .unsupported = (F)&NEVER, .capacity = (F)&CAP},
const mk_static_desc_t mk_static_descs[MEMKIND_NUM_BASE_KIND] = {MK_STATIC_KINDS(DESC)};

// The static tables' destroy: a static kind stays usable (memkind_create_kind
// returns them); a kind built from the table loses its heap.
static int static_destroy(struct memkind *kind) {
    return mk_kind_is_static(kind) ? MEMKIND_SUCCESS : memkind_arena_destroy(kind);
}

// The operations of our kinds; static kinds, pmem and fixed kinds differ in
// create, destroy and the mapping operations a copied table uses.
#define MK_KIND_OPS(create_fn, destroy_fn, ...)                                                    \
    {.create = (create_fn),                                                                        \
     .destroy = (destroy_fn),                                                                      \
     .malloc = mk_op_malloc,                                                                       \
     .calloc = mk_op_calloc,                                                                       \
     .posix_memalign = mk_op_posix_memalign,                                                       \
     .realloc = mk_op_realloc,                                                                     \
     .free = mk_op_free,                                                                           \
     .malloc_usable_size = mk_op_usable_size,                                                      \
     .update_memory_usage_policy = mk_op_update_policy,                                            \
     .get_stat = mk_op_get_stat,                                                                   \
     .defrag_reallocate = mk_op_defrag,                                                            \
     __VA_ARGS__}

// Per row: the kind's own nodemask, availability and init_once (mk_abi.c),
// which a copied table keeps (a user kind maps through them: kind_mmap).
#define ROW_FNS(P, ...)                                                                            \
    static int nodemask_##P(struct memkind *k, unsigned long *mask, unsigned long maxnode) {       \
        (void)k;                                                                                   \
        return mk_abi_nodemask(MEMKIND_PARTITION_##P, mask, maxnode);                              \
    }                                                                                              \
    static int check_##P(struct memkind *k) {                                                      \
        return mk_kind_is_static(k) ? mk_heap_check(k) : mk_abi_check(MEMKIND_PARTITION_##P);      \
    }                                                                                              \
    static void init_##P(void) { mk_abi_init(MEMKIND_PARTITION_##P); }
MK_STATIC_KINDS(ROW_FNS)

// How a copied table maps and binds (memkind_default_mmap): the row's
// mempolicy and page size.
#define MBIND_DEFAULT NULL
#define MBIND_BIND memkind_default_mbind
#define MBIND_PREFERRED memkind_default_mbind
#define MBIND_INTERLEAVE memkind_default_mbind
#define MODE_DEFAULT memkind_default_get_mbind_mode
#define MODE_BIND memkind_default_get_mbind_mode
#define MODE_PREFERRED memkind_preferred_get_mbind_mode
#define MODE_INTERLEAVE memkind_interleave_get_mbind_mode

/// The operations of each static kind, MEMKIND_<KIND>_OPS (memkind's names).
#define STATIC_OPS(P, NAME, RULE, MODE, F)                                                         \
    HETMEM_EXPORT struct memkind_ops MEMKIND_##P##_OPS = MK_KIND_OPS(                              \
        memkind_arena_create, static_destroy, .mbind = MBIND_##MODE,                               \
        .get_mmap_flags = ((F)&HUGE) ? memkind_hugetlb_get_mmap_flags                              \
                                     : memkind_default_get_mmap_flags,                             \
        .get_mbind_mode = MODE_##MODE, .get_mbind_nodemask = nodemask_##P,                         \
        .check_available = check_##P, .init_once = init_##P);
MK_STATIC_KINDS(STATIC_OPS)

#define STATIC_KIND(P, NAME, ...)                                                                  \
    [MEMKIND_PARTITION_##P] = {.ops = &MEMKIND_##P##_OPS,                                          \
                               .partition = MEMKIND_PARTITION_##P,                                 \
                               .name = NAME,                                                       \
                               .init_once = PTHREAD_ONCE_INIT,                                     \
                               .arena_map_len = 1,                                                 \
                               .arena_zero = 1 + MEMKIND_PARTITION_##P * 1024u,                    \
                               .arena_key = MK_KIND_LIVE},
struct memkind mk_static_kinds[MEMKIND_NUM_BASE_KIND] = {MK_STATIC_KINDS(STATIC_KIND)};

// The static kinds' self checks (an address hash: not a constant). Priority
// 101: before any constructor of a library or program that uses
// libmemkind.so.0 (those run after it) and before the rest of the front end.
__attribute__((constructor(101))) static void static_kinds_self(void) {
    for (unsigned i = 0; i < MEMKIND_NUM_BASE_KIND; i++)
        mk_static_kinds[i].hetmem_self = mk_self_of(&mk_static_kinds[i]);
}

// The exported kind symbols (MEMKIND_HBW, ...).
#define KIND_SYMBOL(P, ...) HETMEM_EXPORT memkind_t MEMKIND_##P = &mk_static_kinds[MEMKIND_PARTITION_##P];
MK_STATIC_KINDS(KIND_SYMBOL)

bool mk_kind_is_static(const struct memkind *kind) {
    return kind >= &mk_static_kinds[0] && kind < &mk_static_kinds[MEMKIND_NUM_BASE_KIND];
}

// ---- static heaps --------------------------------------------------------------

int mk_nodes_env_status(bool hbw) {
    if (memspace_nodes_topology() != 0)
        return MEMKIND_ERROR_UNAVAILABLE;
    unsigned mask = hbw ? (TOPO_ENV_HBW_NODES | TOPO_ENV_HBW_THRESHOLD) : TOPO_ENV_DAX_KMEM_NODES;
    return (topo_env_rejected() & mask) ? MEMKIND_ERROR_ENVIRON : MEMKIND_SUCCESS;
}

static int kind_env_status(const mk_static_desc_t *d) {
    int st = d->unsupported ? MEMKIND_ERROR_UNAVAILABLE : mk_env_status();
    if (st == MEMKIND_SUCCESS && (d->hbw_env || d->kmem_env))
        st = mk_nodes_env_status(d->hbw_env);
    return st;
}

// The slot for a node set and status, added when new.
static int slot_for(mk_heap_t *h, const nodeset_t *nodes, int status) {
    for (unsigned i = 0; i < h->nslots; i++)
        if (h->slots[i].status == status && nodeset_equal(&h->slots[i].nodes, nodes))
            return (int)i;
    h->slots[h->nslots].nodes = *nodes;
    h->slots[h->nslots].status = status;
    return (int)h->nslots++;
}

mk_heap_t *mk_static_heap_build(struct memkind *kind) {
    const mk_static_desc_t *d = &mk_static_descs[kind - mk_static_kinds];
    mk_heap_t *h = mk_heap_new(kind, MK_TYPE_STATIC);
    if (!h)
        return NULL;
    h->desc = d;
    h->status = kind_env_status(d);
    if (h->status != MEMKIND_SUCCESS) {
        h->slots[0].status = h->status;
        return h;
    }
    // The engine, once per CPU node for the rules that depend on it.
    nodeset_t cpus, nodes;
    memspace_nodes_cpu(&cpus);
    h->nslots = 0;
    h->local = memspace_rule_per_cpu(d->rule) && nodeset_count(&cpus) > 1;
    if (h->local) { // at most one slot per CPU node
        mk_slot_t *slots = meta_alloc(nodeset_count(&cpus) * sizeof *slots);
        if (!slots) {
            mk_heap_free(h);
            return NULL;
        }
        h->slots = slots;
        h->slot_cap = nodeset_count(&cpus);
    }
    for (int c = nodeset_next(&cpus, 0); c >= 0 || !h->nslots;
         c = nodeset_next(&cpus, (unsigned)c + 1)) {
        unsigned cpu = c >= 0 ? (unsigned)c : 0;
        static const int status_of[] = {[MEMSPACE_PICK_OK] = MEMKIND_SUCCESS,
                                        [MEMSPACE_PICK_NONE] = MEMKIND_ERROR_UNAVAILABLE,
                                        [MEMSPACE_PICK_TIE] = MEMKIND_ERROR_RUNTIME};
        int st = status_of[memspace_nodes_select(d->rule, cpu, d->single, NULL, &nodes, NULL)];
        int slot = slot_for(h, &nodes, st);
        if (!h->local)
            break;
        h->slot_of_node[cpu] = (int16_t)slot;
    }
    // Huge pages must exist where the kind may take them from. A PREFERRED
    // kind fails as a whole when any CPU the process may run on sees two
    // candidates at the same distance (memkind(3)); a kind fails when no
    // domain can allocate.
    bool any_ok = false;
    for (unsigned i = 0; i < h->nslots; i++) {
        mk_slot_t *s = &h->slots[i];
        const nodeset_t *where = d->mode == UMF_NUMA_MODE_BIND ? &s->nodes : topo_all_nodes();
        if (d->hugetlb && s->status == MEMKIND_SUCCESS && memspace_nodes_hugepages_2m(where) == 0)
            s->status = MEMKIND_ERROR_HUGETLB;
        if (d->single && s->status == MEMKIND_ERROR_RUNTIME)
            h->status = MEMKIND_ERROR_RUNTIME;
        any_ok |= s->status == MEMKIND_SUCCESS;
    }
    if (h->status == MEMKIND_SUCCESS && !any_ok)
        h->status = h->slots[0].status;
    char buf[128];
    nodeset_format(&h->slots[0].nodes, buf, sizeof buf);
    LOG_INFO("kind %s: %s, %u slot(s), first on nodes %s", d->name, mk_error_name(h->status),
             h->nslots, buf);
    return h;
}

// ---- registry ---------------------------------------------------------------------

LOCK_STATIC(reg_lock, LOCK_RANK_MK_REGISTRY);
#define REG(P, ...) [MEMKIND_PARTITION_##P] = &mk_static_kinds[MEMKIND_PARTITION_##P],
// The static kinds first, under their partition numbers. protected by: reg_lock
static struct memkind *reg[MEMKIND_MAX_KIND] = {MK_STATIC_KINDS(REG)};
static unsigned reg_count = MEMKIND_NUM_BASE_KIND; // protected by: reg_lock

// "Arenas" of a kind (informative: our heaps have per-thread caches): the
// count memkind would create, MEMKIND_ARENA_NUM_PER_KIND or 4 per CPU,
// rounded up to a power of two and capped at the index stride.
unsigned mk_arena_count(void) {
    unsigned n = mk_env()->arena_num;
    if (n == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        n = 4u * (unsigned)(cpus > 0 ? cpus : 1);
    }
    unsigned p = 1;
    while (p < n && p < 1024)
        p <<= 1;
    return p;
}

int mk_registry_add(struct memkind *kind) {
    int err = MEMKIND_ERROR_TOOMANY;
    lock_acquire(&reg_lock);
    int free_slot = -1;
    for (unsigned i = 0; i < MEMKIND_MAX_KIND; i++) {
        if (!reg[i]) {
            free_slot = free_slot < 0 ? (int)i : free_slot;
        } else if (strcmp(reg[i]->name, kind->name) == 0) {
            err = MEMKIND_ERROR_INVALID;
            free_slot = -1;
            LOG_ERR("a kind named %s exists already", kind->name);
            break;
        }
    }
    if (free_slot >= 0) {
        reg[free_slot] = kind;
        reg_count++;
        kind->partition = (unsigned)free_slot;
        kind->arena_map_len = mk_arena_count();
        kind->arena_map_mask = kind->arena_map_len - 1;
        kind->arena_zero = 1 + (unsigned)free_slot * 1024u;
        err = MEMKIND_SUCCESS;
    } else if (err == MEMKIND_ERROR_TOOMANY) {
        LOG_ERR("more than MEMKIND_MAX_KIND (%d) kinds", MEMKIND_MAX_KIND);
    }
    lock_release(&reg_lock);
    return err;
}

static _Atomic(mk_slot_freed_hook_t) slot_freed_hook;

void mk_set_slot_freed_hook(mk_slot_freed_hook_t hook) {
    atomic_store_explicit(&slot_freed_hook, hook, memory_order_release);
}

void mk_registry_remove(struct memkind *kind) {
    if (mk_kind_is_static(kind))
        return;
    lock_acquire(&reg_lock);
    if (kind->partition < MEMKIND_MAX_KIND && reg[kind->partition] == kind) {
        mk_slot_freed_hook_t hook = atomic_load_explicit(&slot_freed_hook, memory_order_acquire);
        if (hook)
            hook(kind->partition); // memtier's counts of the slot (mk_hooks.h)
        reg[kind->partition] = NULL;
        reg_count--;
    }
    lock_release(&reg_lock);
}

unsigned mk_registry_count(void) {
    lock_acquire(&reg_lock);
    unsigned n = reg_count;
    lock_release(&reg_lock);
    return n;
}

static struct memkind *registry_at(unsigned partition) {
    lock_acquire(&reg_lock);
    struct memkind *k = partition < MEMKIND_MAX_KIND ? reg[partition] : NULL;
    lock_release(&reg_lock);
    return k;
}

HETMEM_EXPORT int memkind_get_kind_by_partition(int partition, memkind_t *kind) {
    struct memkind *k = partition >= 0 ? registry_at((unsigned)partition) : NULL;
    if (kind)
        *kind = k;
    return k ? MEMKIND_SUCCESS : MEMKIND_ERROR_UNAVAILABLE;
}

HETMEM_EXPORT struct memkind *get_kind_by_arena(unsigned arena_ind) {
    if (arena_ind == 0)
        return MEMKIND_DEFAULT;
    struct memkind *k = registry_at((arena_ind - 1) / 1024u);
    if (k && arena_ind - k->arena_zero < (k->arena_map_len ? k->arena_map_len : 1))
        return k;
    return NULL;
}

// ---- kind management ---------------------------------------------------------------

// memkind's supported combinations (memkind(3), memkind_create_kind).
#define HBW_T MEMKIND_MEMTYPE_HIGH_BANDWIDTH
#define DEF_T MEMKIND_MEMTYPE_DEFAULT
#define ROW(T, POL, HUGE, P) {T, MEMKIND_POLICY_##POL, HUGE, MEMKIND_PARTITION_##P}
static const struct {
    memkind_memtype_t memtype;
    memkind_policy_t policy;
    bool huge;
    unsigned partition;
} create_table[] = {
    ROW(HBW_T, BIND_LOCAL, false, HBW),          ROW(HBW_T, BIND_LOCAL, true, HBW_HUGETLB),
    ROW(HBW_T, BIND_ALL, false, HBW_ALL),        ROW(HBW_T, BIND_ALL, true, HBW_ALL_HUGETLB),
    ROW(HBW_T, PREFERRED_LOCAL, false, HBW_PREFERRED),
    ROW(HBW_T, PREFERRED_LOCAL, true, HBW_PREFERRED_HUGETLB),
    ROW(HBW_T, INTERLEAVE_ALL, false, HBW_INTERLEAVE),
    ROW(DEF_T, PREFERRED_LOCAL, false, DEFAULT), ROW(DEF_T, PREFERRED_LOCAL, true, HUGETLB),
    ROW(DEF_T | HBW_T, INTERLEAVE_ALL, false, INTERLEAVE),
};

HETMEM_EXPORT int memkind_create_kind(memkind_memtype_t memtype_flags, memkind_policy_t policy,
                                      memkind_bits_t flags, memkind_t *kind) {
    unsigned mt = (unsigned)memtype_flags;
    if (mt == 0 || (mt & ~(unsigned)(MEMKIND_MEMTYPE_DEFAULT | MEMKIND_MEMTYPE_HIGH_BANDWIDTH))) {
        LOG_ERR("memkind_create_kind: invalid memory types 0x%x", mt);
        return MEMKIND_ERROR_INVALID;
    }
    if ((unsigned)flags != 0 && flags != MEMKIND_MASK_PAGE_SIZE_2MB) {
        LOG_ERR("memkind_create_kind: invalid flags 0x%x", (unsigned)flags);
        return MEMKIND_ERROR_INVALID;
    }
    if ((unsigned)policy >= MEMKIND_POLICY_MAX_VALUE || !kind) {
        LOG_ERR("memkind_create_kind: invalid %s", !kind ? "kind pointer" : "policy");
        return MEMKIND_ERROR_INVALID;
    }
    bool huge = flags == MEMKIND_MASK_PAGE_SIZE_2MB;
    for (size_t i = 0; i < ARRAY_SIZE(create_table); i++) {
        if ((unsigned)create_table[i].memtype != mt || create_table[i].policy != policy ||
            create_table[i].huge != huge)
            continue;
        struct memkind *k = &mk_static_kinds[create_table[i].partition];
        if (memkind_check_available(k) == MEMKIND_SUCCESS) {
            *kind = k;
            return MEMKIND_SUCCESS;
        }
        if (policy == MEMKIND_POLICY_PREFERRED_LOCAL) { // preferred falls back on any memory
            *kind = MEMKIND_DEFAULT;
            return MEMKIND_SUCCESS;
        }
        LOG_ERR("memkind_create_kind: the memory type is not available");
        return MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE;
    }
    LOG_ERR("memkind_create_kind: unsupported combination (types 0x%x, policy %d, flags %u)", mt,
            (int)policy, (unsigned)flags);
    return MEMKIND_ERROR_INVALID;
}

// Destroys a kind created by mk_pmem.c (pmem, fixed): its heap, its
// registry entry and the structure.
int mk_created_destroy(struct memkind *kind) {
    mk_heap_destroy(kind);
    mk_registry_remove(kind);
    mk_kind_retire(kind); // stays readable and dead (a stale handle is refused)
    return MEMKIND_SUCCESS;
}

/// The operations of the kinds memkind_create_pmem* and memkind_create_fixed make.
HETMEM_EXPORT struct memkind_ops MEMKIND_PMEM_OPS =
    MK_KIND_OPS(memkind_pmem_create, memkind_pmem_destroy, .mmap = memkind_pmem_mmap,
                .get_mmap_flags = memkind_pmem_get_mmap_flags, .check_available = mk_heap_check);
HETMEM_EXPORT struct memkind_ops MEMKIND_FIXED_OPS =
    MK_KIND_OPS(memkind_fixed_create, memkind_fixed_destroy, .mmap = memkind_fixed_mmap,
                .check_available = mk_heap_check);

bool mk_ops_created(const struct memkind_ops *ops) {
    return ops == &MEMKIND_PMEM_OPS || ops == &MEMKIND_FIXED_OPS;
}

HETMEM_EXPORT int memkind_destroy_kind(memkind_t kind) {
    if (!mk_kind_check(kind, __func__) || !kind->ops)
        return MEMKIND_ERROR_INVALID;
    if (mk_kind_is_static(kind))
        return MEMKIND_SUCCESS; // memkind_create_kind hands out static kinds: they stay
    int saved = errno;
    // Live -> dead once: of two destroys (in a row or at once), one wins and
    // the other gets MEMKIND_ERROR_INVALID.
    unsigned live = MK_KIND_LIVE;
    if (!__atomic_compare_exchange_n(MK_STATE(kind), &live, MK_KIND_DEAD, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        LOG_ERR("kind %p is destroyed already; refused", (void *)kind);
        return MEMKIND_ERROR_INVALID;
    }
    int err;
    if (mk_ops_created(kind->ops)) {
        err = mk_created_destroy(kind);
    } else {
        err = kind->ops->destroy ? kind->ops->destroy(kind) : MEMKIND_SUCCESS;
        if (err == MEMKIND_SUCCESS)
            mk_registry_remove(kind);
        else // the kind's own destroy failed: it is still there
            __atomic_store_n(MK_STATE(kind), MK_KIND_LIVE, __ATOMIC_RELEASE);
    }
    if (err == MEMKIND_SUCCESS)
        errno = saved;
    return err;
}

HETMEM_EXPORT int memkind_check_available(memkind_t kind) {
    if (!mk_kind_check(kind, __func__) || !kind->ops)
        return MEMKIND_ERROR_INVALID;
    int saved = errno;
    int err = kind->ops->check_available ? kind->ops->check_available(kind) : MEMKIND_SUCCESS;
    errno = saved; // a query: errno stays as it was (first use reads sysfs)
    return err;
}

static ssize_t kind_capacity(memkind_t kind) {
    mk_heap_t *h = mk_kind_is_static(kind) ? mk_heap_get(kind) : mk_heap_peek(kind);
    // memkind 1.14: a huge-page kind's capacity is its pages (0 when none; 1 GiB pages: never)
    if (h && h->type == MK_TYPE_STATIC && h->desc->capacity &&
        (h->desc->hugetlb || h->desc->unsupported))
        return h->desc->unsupported
                   ? 0
                   : (ssize_t)(memspace_nodes_hugepages_2m(topo_all_nodes()) * MK_HUGE_2M);
    if (!h || h->status != MEMKIND_SUCCESS)
        return -1;
    switch (h->type) {
        case MK_TYPE_STATIC: {
            if (!h->desc->capacity)
                return -1;
            if (h->desc->rule == MEMSPACE_RULE_NONE)
                return (ssize_t)memspace_nodes_capacity(topo_all_nodes());
            const mk_slot_t *s = mk_heap_slot(h);
            if (s->status != MEMKIND_SUCCESS)
                return -1;
            return (ssize_t)memspace_nodes_capacity(&s->nodes);
        }
        case MK_TYPE_PMEM: {
            if (h->limit)
                return (ssize_t)h->limit;
            struct statvfs st;
            if (statvfs(h->dir, &st) != 0)
                return -1;
            return (ssize_t)((uint64_t)st.f_blocks * st.f_frsize);
        }
        case MK_TYPE_FIXED: return (ssize_t)h->fixed_size;
        default: return -1;
    }
}

HETMEM_EXPORT ssize_t memkind_get_capacity(memkind_t kind) {
    if (!mk_kind_check(kind, __func__))
        return -1;
    int saved = errno;
    ssize_t r = kind_capacity(kind);
    errno = saved;
    return r;
}

HETMEM_EXPORT int memkind_get_version(void) {
    return MK_VERSION_MAJOR * 1000000 + MK_VERSION_MINOR * 1000 + MK_VERSION_PATCH;
}
