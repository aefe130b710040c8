// SPDX-License-Identifier: MIT
// memkind_query.h over the front end's own heaps (mk_priv.h): the static
// kinds' rows (MK_STATIC_KINDS), their heaps' status and shares.
#include <errno.h>
#include <string.h>

#include "frontend/memkind/memkind_query.h"
#include "frontend/memkind/mk_priv.h"
#include "topology/topo.h"

// The static kinds of memkind(3), in the order of its KINDS list (the
// GBTLB kinds, never supported, are left out).
static const struct {
    const char *name;
    memkind_t *kind;
} kinds[] = {
    {"MEMKIND_DEFAULT", &MEMKIND_DEFAULT},
    {"MEMKIND_REGULAR", &MEMKIND_REGULAR},
    {"MEMKIND_HUGETLB", &MEMKIND_HUGETLB},
    {"MEMKIND_INTERLEAVE", &MEMKIND_INTERLEAVE},
    {"MEMKIND_HBW", &MEMKIND_HBW},
    {"MEMKIND_HBW_ALL", &MEMKIND_HBW_ALL},
    {"MEMKIND_HBW_HUGETLB", &MEMKIND_HBW_HUGETLB},
    {"MEMKIND_HBW_ALL_HUGETLB", &MEMKIND_HBW_ALL_HUGETLB},
    {"MEMKIND_HBW_PREFERRED", &MEMKIND_HBW_PREFERRED},
    {"MEMKIND_HBW_PREFERRED_HUGETLB", &MEMKIND_HBW_PREFERRED_HUGETLB},
    {"MEMKIND_HBW_INTERLEAVE", &MEMKIND_HBW_INTERLEAVE},
    {"MEMKIND_DAX_KMEM", &MEMKIND_DAX_KMEM},
    {"MEMKIND_DAX_KMEM_ALL", &MEMKIND_DAX_KMEM_ALL},
    {"MEMKIND_DAX_KMEM_PREFERRED", &MEMKIND_DAX_KMEM_PREFERRED},
    {"MEMKIND_DAX_KMEM_INTERLEAVE", &MEMKIND_DAX_KMEM_INTERLEAVE},
    {"MEMKIND_HIGHEST_CAPACITY", &MEMKIND_HIGHEST_CAPACITY},
    {"MEMKIND_HIGHEST_CAPACITY_PREFERRED", &MEMKIND_HIGHEST_CAPACITY_PREFERRED},
    {"MEMKIND_HIGHEST_CAPACITY_LOCAL", &MEMKIND_HIGHEST_CAPACITY_LOCAL},
    {"MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED", &MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED},
    {"MEMKIND_LOWEST_LATENCY_LOCAL", &MEMKIND_LOWEST_LATENCY_LOCAL},
    {"MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED", &MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED},
    {"MEMKIND_HIGHEST_BANDWIDTH_LOCAL", &MEMKIND_HIGHEST_BANDWIDTH_LOCAL},
    {"MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED", &MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED},
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

size_t mk_query_count(void) { return NKINDS; }

// The malformed variables behind MEMKIND_ERROR_ENVIRON that kind d reads.
static void bad_env(const mk_static_desc_t *d, const char **out) {
    static const struct {
        unsigned bit;
        bool topo;    // a TOPO_ENV_* bit (else MK_ENV_*, which every kind depends on)
        int depends;  // 0: every kind, 1: the HBW kinds, 2: the DAX KMEM kinds
        const char *name;
    } vars[] = {
        {MK_ENV_ARENA_NUM, false, 0, "MEMKIND_ARENA_NUM_PER_KIND"},
        {MK_ENV_HOG_MEMORY, false, 0, "MEMKIND_HOG_MEMORY"},
        {MK_ENV_HEAP_MANAGER, false, 0, "MEMKIND_HEAP_MANAGER"},
        {MK_ENV_BG_THREAD_LIMIT, false, 0, "MEMKIND_BACKGROUND_THREAD_LIMIT"},
        {TOPO_ENV_HBW_NODES, true, 1, "MEMKIND_HBW_NODES"},
        {TOPO_ENV_HBW_THRESHOLD, true, 1, "MEMKIND_HBW_THRESHOLD"},
        {TOPO_ENV_DAX_KMEM_NODES, true, 2, "MEMKIND_DAX_KMEM_NODES"},
    };
    _Static_assert(sizeof vars / sizeof vars[0] < MK_QUERY_ENV_MAX, "bad_env[] too small");
    unsigned topo_bad = topo_env_rejected(), mk_bad = mk_env()->malformed, n = 0;
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        bool bad = (vars[i].topo ? topo_bad : mk_bad) & vars[i].bit;
        bool used = vars[i].depends == 0 || (vars[i].depends == 1 && d->hbw_env) ||
                    (vars[i].depends == 2 && d->kmem_env);
        if (bad && used)
            out[n++] = vars[i].name;
    }
    out[n] = NULL;
}

int mk_query_kind(size_t i, mk_query_kind_t *out) {
    if (i >= NKINDS || !out)
        return EINVAL;
    memkind_t kind = *kinds[i].kind;
    const mk_static_desc_t *d = &mk_static_descs[kind - mk_static_kinds];
    memset(out, 0, sizeof *out);
    out->name = kinds[i].name;
    out->kind = kind;
    out->rule = d->rule;
    out->mode = d->mode;
    out->single = d->single;
    out->available = memkind_check_available(kind) == MEMKIND_SUCCESS;
    const mk_heap_t *h = mk_heap_get(kind); // built by the call above; no pool is created
    out->built = h != NULL;
    out->status = h ? h->status : MEMKIND_ERROR_MALLOC;
    if (out->status == MEMKIND_ERROR_ENVIRON)
        bad_env(d, out->bad_env);
    return 0;
}

int mk_query_share(const mk_query_kind_t *k, int cpu_node, nodeset_t *nodes) {
    const mk_heap_t *h = k ? mk_heap_peek(k->kind) : NULL;
    nodeset_zero(nodes);
    if (!h)
        return MEMKIND_ERROR_MALLOC;
    const mk_slot_t *s = &h->slots[0];
    if (h->local && cpu_node >= 0) {
        int i = h->slot_of_node[(unsigned)cpu_node % NODESET_MAX];
        s = &h->slots[i >= 0 ? i : 0];
    }
    *nodes = s->nodes;
    return s->status;
}
