// SPDX-License-Identifier: MIT
// The kinds: the static kinds of memkind(3) (KINDS) with the symbols memkind
// exports, how each gets its memory (node rule, NUMA mode, page size), the
// registry of kinds (partition numbers, MEMKIND_MAX_KIND), and kind
// management: memkind_create_kind, memkind_destroy_kind,
// memkind_check_available, memkind_get_capacity, memkind_get_version.
//
// A static kind's heap is built on its first use (mk_static_heap_build):
// its status (why it cannot allocate, if so) and its slots (the nodes of
// each locality domain) are decided then, once; its pools are created when
// a thread of that domain first allocates.
#include <errno.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_internal.h"
#include "os/meta.h"
#include "os/os.h"
#include "topology/topo.h"

#define BIND UMF_NUMA_MODE_BIND
#define PREF UMF_NUMA_MODE_PREFERRED
#define INTL UMF_NUMA_MODE_INTERLEAVE
#define DFLT UMF_NUMA_MODE_DEFAULT

// Partition order (memkind_deprecated.h). Node rules: mk_nodes.c.
const mk_static_desc_t mk_static_descs[MEMKIND_NUM_BASE_KIND] = {
    [MEMKIND_PARTITION_DEFAULT] = {"memkind_default", MK_RULE_NONE, DFLT, .capacity = true},
    [MEMKIND_PARTITION_HBW] = {"memkind_hbw", MK_RULE_HBW_CLOSEST, BIND, .hbw_env = true,
                               .capacity = true},
    [MEMKIND_PARTITION_HBW_HUGETLB] = {"memkind_hbw_hugetlb", MK_RULE_HBW_CLOSEST, BIND,
                                       .hugetlb = true, .hbw_env = true},
    [MEMKIND_PARTITION_HBW_PREFERRED] = {"memkind_hbw_preferred", MK_RULE_HBW_CLOSEST, PREF,
                                         .single = true, .hbw_env = true},
    [MEMKIND_PARTITION_HBW_PREFERRED_HUGETLB] = {"memkind_hbw_preferred_hugetlb",
                                                 MK_RULE_HBW_CLOSEST, PREF, .hugetlb = true,
                                                 .single = true, .hbw_env = true},
    [MEMKIND_PARTITION_HUGETLB] = {"memkind_hugetlb", MK_RULE_NONE, DFLT, .hugetlb = true,
                                   .capacity = true},
    [MEMKIND_PARTITION_HBW_GBTLB] = {"memkind_hbw_gbtlb", MK_RULE_NONE, DFLT, .unsupported = true},
    [MEMKIND_PARTITION_HBW_PREFERRED_GBTLB] = {"memkind_hbw_preferred_gbtlb", MK_RULE_NONE, DFLT,
                                               .unsupported = true},
    [MEMKIND_PARTITION_GBTLB] = {"memkind_gbtlb", MK_RULE_NONE, DFLT, .unsupported = true},
    [MEMKIND_PARTITION_HBW_INTERLEAVE] = {"memkind_hbw_interleave", MK_RULE_HBW_ALL, INTL,
                                          .hbw_env = true, .capacity = true},
    [MEMKIND_PARTITION_INTERLEAVE] = {"memkind_interleave", MK_RULE_ALL, INTL, .capacity = true},
    [MEMKIND_PARTITION_REGULAR] = {"memkind_regular", MK_RULE_CPU, BIND, .capacity = true},
    [MEMKIND_PARTITION_HBW_ALL] = {"memkind_hbw_all", MK_RULE_HBW_ALL, BIND, .hbw_env = true,
                                   .capacity = true},
    [MEMKIND_PARTITION_HBW_ALL_HUGETLB] = {"memkind_hbw_all_hugetlb", MK_RULE_HBW_ALL, BIND,
                                           .hugetlb = true, .hbw_env = true},
    [MEMKIND_PARTITION_DAX_KMEM] = {"memkind_dax_kmem", MK_RULE_KMEM_CLOSEST, BIND,
                                    .kmem_env = true, .capacity = true},
    [MEMKIND_PARTITION_DAX_KMEM_ALL] = {"memkind_dax_kmem_all", MK_RULE_KMEM_ALL, BIND,
                                        .kmem_env = true, .capacity = true},
    [MEMKIND_PARTITION_DAX_KMEM_PREFERRED] = {"memkind_dax_kmem_preferred", MK_RULE_KMEM_CLOSEST,
                                              PREF, .single = true, .kmem_env = true},
    [MEMKIND_PARTITION_DAX_KMEM_INTERLEAVE] = {"memkind_dax_kmem_interleave", MK_RULE_KMEM_ALL,
                                               INTL, .kmem_env = true, .capacity = true},
    [MEMKIND_PARTITION_HIGHEST_CAPACITY] = {"memkind_highest_capacity", MK_RULE_CAPACITY, BIND,
                                            .capacity = true},
    [MEMKIND_PARTITION_HIGHEST_CAPACITY_PREFERRED] = {"memkind_highest_capacity_preferred",
                                                      MK_RULE_CAPACITY, PREF, .single = true},
    [MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL] = {"memkind_highest_capacity_local",
                                                  MK_RULE_CAPACITY_LOCAL, BIND, .capacity = true},
    [MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL_PREFERRED] =
        {"memkind_highest_capacity_local_preferred", MK_RULE_CAPACITY_LOCAL, PREF},
    [MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL] = {"memkind_lowest_latency_local",
                                                MK_RULE_LATENCY_LOCAL, BIND, .capacity = true},
    [MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL_PREFERRED] = {"memkind_lowest_latency_local_preferred",
                                                          MK_RULE_LATENCY_LOCAL, PREF},
    [MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL] = {"memkind_highest_bandwidth_local",
                                                   MK_RULE_BANDWIDTH_LOCAL, BIND, .capacity = true},
    [MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL_PREFERRED] =
        {"memkind_highest_bandwidth_local_preferred", MK_RULE_BANDWIDTH_LOCAL, PREF},
};

static int static_destroy(struct memkind *kind) {
    (void)kind; // memkind_create_kind returns static kinds: they stay usable
    return MEMKIND_SUCCESS;
}

static int op_check_available(struct memkind *kind) { return mk_heap_check(kind); }

/// The operations of every static kind (exported under memkind's name).
HETMEM_EXPORT struct memkind_ops MEMKIND_DEFAULT_OPS = {
    .create = memkind_arena_create,
    .destroy = static_destroy,
    .malloc = mk_op_malloc,
    .calloc = mk_op_calloc,
    .posix_memalign = mk_op_posix_memalign,
    .realloc = mk_op_realloc,
    .free = mk_op_free,
    .check_available = op_check_available,
    .malloc_usable_size = mk_op_usable_size,
    .update_memory_usage_policy = mk_op_update_policy,
    .get_stat = mk_op_get_stat,
    .defrag_reallocate = mk_op_defrag,
};

#define STATIC_KIND(P, NAME)                                                                       \
    [P] = {.ops = &MEMKIND_DEFAULT_OPS,                                                            \
           .partition = (P),                                                                       \
           .name = NAME,                                                                           \
           .init_once = PTHREAD_ONCE_INIT,                                                         \
           .arena_map_len = 1,                                                                     \
           .arena_zero = 1 + (P)*1024u,                                                            \
           .hetmem_self = &mk_static_kinds[P],                                                     \
           .hetmem_state = MK_KIND_LIVE}

struct memkind mk_static_kinds[MEMKIND_NUM_BASE_KIND] = {
    STATIC_KIND(MEMKIND_PARTITION_DEFAULT, "memkind_default"),
    STATIC_KIND(MEMKIND_PARTITION_HBW, "memkind_hbw"),
    STATIC_KIND(MEMKIND_PARTITION_HBW_HUGETLB, "memkind_hbw_hugetlb"),
    STATIC_KIND(MEMKIND_PARTITION_HBW_PREFERRED, "memkind_hbw_preferred"),
    STATIC_KIND(MEMKIND_PARTITION_HBW_PREFERRED_HUGETLB, "memkind_hbw_preferred_hugetlb"),
    STATIC_KIND(MEMKIND_PARTITION_HUGETLB, "memkind_hugetlb"),
    STATIC_KIND(MEMKIND_PARTITION_HBW_GBTLB, "memkind_hbw_gbtlb"),
    STATIC_KIND(MEMKIND_PARTITION_HBW_PREFERRED_GBTLB, "memkind_hbw_preferred_gbtlb"),
    STATIC_KIND(MEMKIND_PARTITION_GBTLB, "memkind_gbtlb"),
    STATIC_KIND(MEMKIND_PARTITION_HBW_INTERLEAVE, "memkind_hbw_interleave"),
    STATIC_KIND(MEMKIND_PARTITION_INTERLEAVE, "memkind_interleave"),
    STATIC_KIND(MEMKIND_PARTITION_REGULAR, "memkind_regular"),
    STATIC_KIND(MEMKIND_PARTITION_HBW_ALL, "memkind_hbw_all"),
    STATIC_KIND(MEMKIND_PARTITION_HBW_ALL_HUGETLB, "memkind_hbw_all_hugetlb"),
    STATIC_KIND(MEMKIND_PARTITION_DAX_KMEM, "memkind_dax_kmem"),
    STATIC_KIND(MEMKIND_PARTITION_DAX_KMEM_ALL, "memkind_dax_kmem_all"),
    STATIC_KIND(MEMKIND_PARTITION_DAX_KMEM_PREFERRED, "memkind_dax_kmem_preferred"),
    STATIC_KIND(MEMKIND_PARTITION_DAX_KMEM_INTERLEAVE, "memkind_dax_kmem_interleave"),
    STATIC_KIND(MEMKIND_PARTITION_HIGHEST_CAPACITY, "memkind_highest_capacity"),
    STATIC_KIND(MEMKIND_PARTITION_HIGHEST_CAPACITY_PREFERRED, "memkind_highest_capacity_preferred"),
    STATIC_KIND(MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL, "memkind_highest_capacity_local"),
    STATIC_KIND(MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL_PREFERRED,
                "memkind_highest_capacity_local_preferred"),
    STATIC_KIND(MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL, "memkind_lowest_latency_local"),
    STATIC_KIND(MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL_PREFERRED,
                "memkind_lowest_latency_local_preferred"),
    STATIC_KIND(MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL, "memkind_highest_bandwidth_local"),
    STATIC_KIND(MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL_PREFERRED,
                "memkind_highest_bandwidth_local_preferred"),
};

#define KIND_SYMBOL(NAME, P) HETMEM_EXPORT memkind_t NAME = &mk_static_kinds[P]
KIND_SYMBOL(MEMKIND_DEFAULT, MEMKIND_PARTITION_DEFAULT);
KIND_SYMBOL(MEMKIND_HBW, MEMKIND_PARTITION_HBW);
KIND_SYMBOL(MEMKIND_HBW_HUGETLB, MEMKIND_PARTITION_HBW_HUGETLB);
KIND_SYMBOL(MEMKIND_HBW_PREFERRED, MEMKIND_PARTITION_HBW_PREFERRED);
KIND_SYMBOL(MEMKIND_HBW_PREFERRED_HUGETLB, MEMKIND_PARTITION_HBW_PREFERRED_HUGETLB);
KIND_SYMBOL(MEMKIND_HUGETLB, MEMKIND_PARTITION_HUGETLB);
KIND_SYMBOL(MEMKIND_HBW_GBTLB, MEMKIND_PARTITION_HBW_GBTLB);
KIND_SYMBOL(MEMKIND_HBW_PREFERRED_GBTLB, MEMKIND_PARTITION_HBW_PREFERRED_GBTLB);
KIND_SYMBOL(MEMKIND_GBTLB, MEMKIND_PARTITION_GBTLB);
KIND_SYMBOL(MEMKIND_HBW_INTERLEAVE, MEMKIND_PARTITION_HBW_INTERLEAVE);
KIND_SYMBOL(MEMKIND_INTERLEAVE, MEMKIND_PARTITION_INTERLEAVE);
KIND_SYMBOL(MEMKIND_REGULAR, MEMKIND_PARTITION_REGULAR);
KIND_SYMBOL(MEMKIND_HBW_ALL, MEMKIND_PARTITION_HBW_ALL);
KIND_SYMBOL(MEMKIND_HBW_ALL_HUGETLB, MEMKIND_PARTITION_HBW_ALL_HUGETLB);
KIND_SYMBOL(MEMKIND_DAX_KMEM, MEMKIND_PARTITION_DAX_KMEM);
KIND_SYMBOL(MEMKIND_DAX_KMEM_ALL, MEMKIND_PARTITION_DAX_KMEM_ALL);
KIND_SYMBOL(MEMKIND_DAX_KMEM_PREFERRED, MEMKIND_PARTITION_DAX_KMEM_PREFERRED);
KIND_SYMBOL(MEMKIND_DAX_KMEM_INTERLEAVE, MEMKIND_PARTITION_DAX_KMEM_INTERLEAVE);
KIND_SYMBOL(MEMKIND_HIGHEST_CAPACITY, MEMKIND_PARTITION_HIGHEST_CAPACITY);
KIND_SYMBOL(MEMKIND_HIGHEST_CAPACITY_PREFERRED, MEMKIND_PARTITION_HIGHEST_CAPACITY_PREFERRED);
KIND_SYMBOL(MEMKIND_HIGHEST_CAPACITY_LOCAL, MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL);
KIND_SYMBOL(MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED,
            MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL_PREFERRED);
KIND_SYMBOL(MEMKIND_LOWEST_LATENCY_LOCAL, MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL);
KIND_SYMBOL(MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED,
            MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL_PREFERRED);
KIND_SYMBOL(MEMKIND_HIGHEST_BANDWIDTH_LOCAL, MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL);
KIND_SYMBOL(MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED,
            MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL_PREFERRED);

bool mk_kind_is_static(const struct memkind *kind) {
    return kind >= &mk_static_kinds[0] && kind < &mk_static_kinds[MEMKIND_NUM_BASE_KIND];
}

// ---- static heaps --------------------------------------------------------------

static int kind_env_status(const mk_static_desc_t *d) {
    if (d->unsupported)
        return MEMKIND_ERROR_UNAVAILABLE;
    int st = mk_env_status();
    if (st == MEMKIND_SUCCESS && d->hbw_env)
        st = mk_nodes_env_status(true);
    if (st == MEMKIND_SUCCESS && d->kmem_env)
        st = mk_nodes_env_status(false);
    return st;
}

// The slot for a node set and status, added when new.
static int slot_for(mk_heap_t *h, const nodeset_t *nodes, int status) {
    for (unsigned i = 0; i < h->nslots; i++)
        if (h->slots[i].status == status && nodeset_equal(&h->slots[i].nodes, nodes))
            return (int)i;
    if (h->nslots == MK_MAX_SLOTS)
        return (int)h->nslots - 1; // more domains than slots: share the last
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
    nodeset_t cpus, nodes;
    mk_nodes_cpu_nodes(&cpus);
    h->nslots = 0;
    h->local = mk_rule_is_local(d->rule) && nodeset_count(&cpus) > 1;
    if (!h->local) {
        int c = nodeset_next(&cpus, 0);
        int st = mk_nodes_select(d->rule, c >= 0 ? (unsigned)c : 0, d->single, &nodes);
        slot_for(h, &nodes, st);
    } else {
        for (int c = nodeset_next(&cpus, 0); c >= 0; c = nodeset_next(&cpus, (unsigned)c + 1)) {
            int st = mk_nodes_select(d->rule, (unsigned)c, d->single, &nodes);
            h->slot_of_node[c] = (int16_t)slot_for(h, &nodes, st);
        }
    }
    // Huge pages must exist where the kind may take them from.
    if (d->hugetlb) {
        for (unsigned i = 0; i < h->nslots; i++) {
            mk_slot_t *s = &h->slots[i];
            const nodeset_t *where = d->mode == BIND ? &s->nodes : topo_all_nodes();
            if (s->status == MEMKIND_SUCCESS && mk_nodes_hugepages_2m(where) == 0)
                s->status = MEMKIND_ERROR_HUGETLB;
        }
    }
    // A PREFERRED kind fails as a whole when any CPU the process may run on
    // sees two candidates at the same distance (memkind(3)); a kind fails
    // when no domain can allocate.
    bool any_ok = false;
    for (unsigned i = 0; i < h->nslots; i++) {
        if (d->single && h->slots[i].status == MEMKIND_ERROR_RUNTIME)
            h->status = MEMKIND_ERROR_RUNTIME;
        any_ok |= h->slots[i].status == MEMKIND_SUCCESS;
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

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct memkind *reg[MEMKIND_MAX_KIND]; // protected by: reg_lock
static unsigned reg_count;                    // protected by: reg_lock

static void reg_init_locked(void) {
    if (reg_count)
        return;
    for (unsigned i = 0; i < MEMKIND_NUM_BASE_KIND; i++)
        reg[i] = &mk_static_kinds[i];
    reg_count = MEMKIND_NUM_BASE_KIND;
}

// "Arenas" of a kind (informative: our heaps have per-thread caches): the
// count memkind would create, MEMKIND_ARENA_NUM_PER_KIND or 4 per CPU,
// rounded up to a power of two and capped at the index stride.
static unsigned arena_count(void) {
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
    pthread_mutex_lock(&reg_lock);
    reg_init_locked();
    int free_slot = -1;
    for (unsigned i = 0; i < MEMKIND_MAX_KIND; i++) {
        if (!reg[i]) {
            if (free_slot < 0)
                free_slot = (int)i;
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
        kind->arena_map_len = arena_count();
        kind->arena_map_mask = kind->arena_map_len - 1;
        kind->arena_zero = 1 + (unsigned)free_slot * 1024u;
        err = MEMKIND_SUCCESS;
    } else if (err == MEMKIND_ERROR_TOOMANY) {
        LOG_ERR("more than MEMKIND_MAX_KIND (%d) kinds", MEMKIND_MAX_KIND);
    }
    pthread_mutex_unlock(&reg_lock);
    return err;
}

void mk_registry_remove(struct memkind *kind) {
    if (mk_kind_is_static(kind))
        return;
    pthread_mutex_lock(&reg_lock);
    if (kind->partition < MEMKIND_MAX_KIND && reg[kind->partition] == kind) {
        reg[kind->partition] = NULL;
        reg_count--;
    }
    pthread_mutex_unlock(&reg_lock);
}

unsigned mk_registry_count(void) {
    pthread_mutex_lock(&reg_lock);
    reg_init_locked();
    unsigned n = reg_count;
    pthread_mutex_unlock(&reg_lock);
    return n;
}

static struct memkind *registry_at(unsigned partition) {
    pthread_mutex_lock(&reg_lock);
    reg_init_locked();
    struct memkind *k = partition < MEMKIND_MAX_KIND ? reg[partition] : NULL;
    pthread_mutex_unlock(&reg_lock);
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
static const struct {
    memkind_memtype_t memtype;
    memkind_policy_t policy;
    bool huge;
    unsigned partition;
} create_table[] = {
    {MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_LOCAL, false, MEMKIND_PARTITION_HBW},
    {MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_LOCAL, true,
     MEMKIND_PARTITION_HBW_HUGETLB},
    {MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_ALL, false, MEMKIND_PARTITION_HBW_ALL},
    {MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_ALL, true,
     MEMKIND_PARTITION_HBW_ALL_HUGETLB},
    {MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_PREFERRED_LOCAL, false,
     MEMKIND_PARTITION_HBW_PREFERRED},
    {MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_PREFERRED_LOCAL, true,
     MEMKIND_PARTITION_HBW_PREFERRED_HUGETLB},
    {MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_INTERLEAVE_ALL, false,
     MEMKIND_PARTITION_HBW_INTERLEAVE},
    {MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL, false, MEMKIND_PARTITION_DEFAULT},
    {MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL, true, MEMKIND_PARTITION_HUGETLB},
    {MEMKIND_MEMTYPE_DEFAULT | MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_INTERLEAVE_ALL, false,
     MEMKIND_PARTITION_INTERLEAVE},
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
static int created_destroy(struct memkind *kind) {
    mk_heap_destroy(kind);
    mk_registry_remove(kind);
    mk_kind_retire(kind); // stays readable and dead (a stale handle is refused)
    return MEMKIND_SUCCESS;
}

/// The operations of the kinds memkind_create_pmem* and memkind_create_fixed make.
struct memkind_ops mk_created_ops = {
    .create = memkind_arena_create,
    .destroy = created_destroy,
    .malloc = mk_op_malloc,
    .calloc = mk_op_calloc,
    .posix_memalign = mk_op_posix_memalign,
    .realloc = mk_op_realloc,
    .free = mk_op_free,
    .check_available = op_check_available,
    .malloc_usable_size = mk_op_usable_size,
    .update_memory_usage_policy = mk_op_update_policy,
    .get_stat = mk_op_get_stat,
    .defrag_reallocate = mk_op_defrag,
};

static ssize_t kind_capacity(memkind_t kind);

HETMEM_EXPORT int memkind_destroy_kind(memkind_t kind) {
    if (!mk_kind_check(kind, __func__) || !kind->ops)
        return MEMKIND_ERROR_INVALID;
    if (mk_kind_is_static(kind))
        return MEMKIND_SUCCESS; // memkind_create_kind hands out static kinds: they stay
    int saved = errno;
    // Live -> dead once: of two destroys (in a row or at once), one wins and
    // the other gets MEMKIND_ERROR_INVALID.
    unsigned live = MK_KIND_LIVE;
    if (!__atomic_compare_exchange_n(&kind->hetmem_state, &live, MK_KIND_DEAD, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        LOG_ERR("kind %p is destroyed already; refused", (void *)kind);
        return MEMKIND_ERROR_INVALID;
    }
    int err;
    if (kind->ops == &mk_created_ops) {
        err = created_destroy(kind);
    } else {
        err = kind->ops->destroy ? kind->ops->destroy(kind) : MEMKIND_SUCCESS;
        if (err == MEMKIND_SUCCESS)
            mk_registry_remove(kind);
        else // the kind's own destroy failed: it is still there
            __atomic_store_n(&kind->hetmem_state, MK_KIND_LIVE, __ATOMIC_RELEASE);
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

HETMEM_EXPORT ssize_t memkind_get_capacity(memkind_t kind) {
    if (!mk_kind_check(kind, __func__))
        return -1;
    int saved = errno;
    ssize_t r = kind_capacity(kind);
    errno = saved;
    return r;
}

static ssize_t kind_capacity(memkind_t kind) {
    mk_heap_t *h = mk_kind_is_static(kind) ? mk_heap_get(kind) : mk_heap_peek(kind);
    if (!h || h->status != MEMKIND_SUCCESS)
        return -1;
    switch (h->type) {
        case MK_TYPE_STATIC: {
            if (!h->desc->capacity)
                return -1;
            if (h->desc->hugetlb)
                return (ssize_t)(mk_nodes_hugepages_2m(topo_all_nodes()) * MK_HUGE_2M);
            if (h->desc->rule == MK_RULE_NONE)
                return (ssize_t)mk_nodes_capacity(topo_all_nodes());
            const mk_slot_t *s = mk_heap_slot(h);
            if (s->status != MEMKIND_SUCCESS)
                return -1;
            return (ssize_t)mk_nodes_capacity(&s->nodes);
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

HETMEM_EXPORT int memkind_get_version(void) {
    return MK_VERSION_MAJOR * 1000000 + MK_VERSION_MINOR * 1000 + MK_VERSION_PATCH;
}
