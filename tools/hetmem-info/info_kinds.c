// SPDX-License-Identifier: MIT
// The kinds section of hetmem-info: for every static memkind kind, whether
// memkind_check_available accepts it, its NUMA policy, the node(s) it
// allocates from - per CPU node for the kinds whose nodes depend on the
// calling CPU (HBW, DAX_KMEM, *_LOCAL) - and why it cannot allocate.
//
// Nothing here decides nodes: the answer is the memkind front end's own
// heap of the kind (mk_heap_get builds it from the kind's node rule, asked
// of memspace_nodes_select for every CPU node,
// as the first allocation would, without creating a pool), so the tool and
// a program that links libmemkind agree by construction. Availability is
// memkind_check_available itself, which answers for the CPU node the
// caller runs on; the heading (text) and "kinds_cpu_node" (JSON) name it.
//
//   text   kinds (memkind; availability as seen from CPU node 0):
//            kind              available policy     nodes
//            MEMKIND_HBW       yes       bind       cpu node 0 -> 2, cpu node 1 -> 3
//            MEMKIND_DAX_KMEM  no        bind       none: no DAX KMEM node (...)
//   JSON   "kinds_cpu_node": 0,
//          "kinds": [{"name": "MEMKIND_HBW", "available": true, "policy": "bind",
//                     "nodes": {"0": "2"}, "reason": null}, ...]
//          "nodes" is a node list string for the kinds whose nodes do not
//          depend on the CPU, an object {"<cpu node>": list or null} for the
//          others, and null when the kind cannot allocate at all (and for
//          MEMKIND_DEFAULT / MEMKIND_HUGETLB, which name no node: policy
//          "local"). "reason" is null unless the kind, or one CPU node's
//          share of it, cannot allocate.
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "frontend/memkind/mk_priv.h"
#include "hetmem_info.h"
#include "topology/topo.h"

#define LIST_LEN 8192  // 1024 nodes as "0,2,4,..." fit
#define ONE_LEN 768    // one share's reason (its node list cut to 512 bytes)
#define REASON_LEN 2048

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

// What the section reports of one kind.
typedef struct kind_info_t {
    const char *name;
    const mk_static_desc_t *desc;
    const mk_heap_t *heap; // NULL: no memory for the heap's bookkeeping
    bool available;        // memkind_check_available == MEMKIND_SUCCESS
    bool per_cpu;          // nodes given per CPU node
    bool has_nodes;        // false: "nodes" is null
    char reason[REASON_LEN];
} kind_info_t;

static const char *policy_name(umf_numa_mode_t mode) {
    switch (mode) {
        case UMF_NUMA_MODE_BIND: return "bind";
        case UMF_NUMA_MODE_PREFERRED: return "preferred";
        case UMF_NUMA_MODE_INTERLEAVE: return "interleave";
        default: return "local";
    }
}

static const char *code_name(int code) {
    switch (code) {
        case MEMKIND_ERROR_UNAVAILABLE: return "MEMKIND_ERROR_UNAVAILABLE";
        case MEMKIND_ERROR_ENVIRON: return "MEMKIND_ERROR_ENVIRON";
        case MEMKIND_ERROR_HUGETLB: return "MEMKIND_ERROR_HUGETLB";
        case MEMKIND_ERROR_RUNTIME: return "MEMKIND_ERROR_RUNTIME";
        case MEMKIND_ERROR_MALLOC: return "MEMKIND_ERROR_MALLOC";
        default: return "MEMKIND_ERROR";
    }
}

static void append(char *buf, size_t len, const char *sep, const char *s) {
    size_t n = strlen(buf);
    if (n < len)
        snprintf(buf + n, len - n, "%s%s", n ? sep : "", s);
}

// The environment variables behind MEMKIND_ERROR_ENVIRON, for a kind.
static void env_reason(const mk_static_desc_t *d, char *buf, size_t len) {
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
    unsigned topo_bad = topo_env_rejected(), mk_bad = mk_env()->malformed, count = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        bool bad = (vars[i].topo ? topo_bad : mk_bad) & vars[i].bit;
        bool used = vars[i].depends == 0 || (vars[i].depends == 1 && d->hbw_env) ||
                    (vars[i].depends == 2 && d->kmem_env);
        if (bad && used) {
            append(buf, len, ", ", vars[i].name);
            count++;
        }
    }
    if (count == 0)
        append(buf, len, "", "a MEMKIND_* variable");
    size_t n = strlen(buf);
    if (n < len)
        snprintf(buf + n, len - n, " %s malformed (%s)", count > 1 ? "are" : "is",
                 code_name(MEMKIND_ERROR_ENVIRON));
}

// Why one share of a kind (a slot: its nodes and status) cannot allocate.
static void slot_reason(const mk_static_desc_t *d, const mk_slot_t *s, char *buf, size_t len) {
    char list[512];
    nodeset_format(&s->nodes, list, sizeof list);
    const char *what;
    switch (s->status) {
        case MEMKIND_ERROR_UNAVAILABLE:
            switch (d->rule) {
                case MEMSPACE_RULE_HBW_CLOSEST:
                case MEMSPACE_RULE_HBW_ALL: what = "no high-bandwidth (HBM) node"; break;
                case MEMSPACE_RULE_KMEM_CLOSEST:
                case MEMSPACE_RULE_KMEM_ALL: what = "no DAX KMEM node"; break;
                case MEMSPACE_RULE_CPU: what = "no node with CPUs and memory"; break;
                case MEMSPACE_RULE_CAPACITY_LOCAL: what = "no memory in the local domain"; break;
                case MEMSPACE_RULE_LATENCY_LOCAL:
                    what = "no HMAT latency figures in the local domain";
                    break;
                case MEMSPACE_RULE_BANDWIDTH_LOCAL:
                    what = "no HMAT bandwidth figures in the local domain";
                    break;
                default: what = "no node with memory"; break;
            }
            snprintf(buf, len, "%s (%s)", what, code_name(s->status));
            return;
        case MEMKIND_ERROR_HUGETLB:
            if (d->mode == UMF_NUMA_MODE_BIND)
                snprintf(buf, len, "no 2 MiB huge pages on node(s) %s (%s)", list,
                         code_name(s->status));
            else
                snprintf(buf, len, "no 2 MiB huge pages on any node (%s)", code_name(s->status));
            return;
        case MEMKIND_ERROR_RUNTIME:
            if (d->single && nodeset_count(&s->nodes) > 1) {
                snprintf(buf, len, "nodes %s tie for the preferred node (%s)", list,
                         code_name(s->status));
                return;
            }
            break;
        default: break;
    }
    char msg[256];
    memkind_error_message(s->status, msg, sizeof msg);
    snprintf(buf, len, "%s (%s)", msg, code_name(s->status));
}

// The slot of a CPU node (the first slot for a heap that is not local).
static const mk_slot_t *slot_of(const mk_heap_t *h, unsigned cpu_node) {
    if (!h->local)
        return &h->slots[0];
    int i = h->slot_of_node[cpu_node % NODESET_MAX];
    return &h->slots[i >= 0 ? i : 0];
}

// The reason of a kind: the kind's own (environment), else each failing
// CPU node's share ("cpu node 1: ..."), said once when every CPU node fails
// the same way (huge pages missing on any of their nodes: one list).
static void kind_reason(kind_info_t *k) {
    const mk_heap_t *h = k->heap;
    k->reason[0] = '\0';
    if (!h) {
        snprintf(k->reason, sizeof k->reason, "no memory for the kind's heap (%s)",
                 code_name(MEMKIND_ERROR_MALLOC));
        return;
    }
    if (h->status == MEMKIND_ERROR_ENVIRON) {
        env_reason(k->desc, k->reason, sizeof k->reason);
        return;
    }
    if (!k->per_cpu) {
        if (h->slots[0].status != MEMKIND_SUCCESS)
            slot_reason(k->desc, &h->slots[0], k->reason, sizeof k->reason);
        else if (h->status != MEMKIND_SUCCESS)
            snprintf(k->reason, sizeof k->reason, "%s", code_name(h->status));
        return;
    }
    nodeset_t cpus;
    memspace_nodes_cpu(&cpus);
    char first[ONE_LEN] = "", one[ONE_LEN], line[ONE_LEN + 32];
    unsigned nfail = 0, nsame = 0, nsame_status = 0;
    mk_slot_t all = {.status = MEMKIND_SUCCESS}; // the failing shares together
    for (int c = nodeset_next(&cpus, 0); c >= 0; c = nodeset_next(&cpus, (unsigned)c + 1)) {
        const mk_slot_t *s = slot_of(h, (unsigned)c);
        if (s->status == MEMKIND_SUCCESS)
            continue;
        slot_reason(k->desc, s, one, sizeof one);
        if (nfail++ == 0) {
            snprintf(first, sizeof first, "%s", one);
            all.status = s->status;
        }
        nsame += strcmp(one, first) == 0;
        nsame_status += s->status == all.status;
        nodeset_or(&all.nodes, &all.nodes, &s->nodes);
        snprintf(line, sizeof line, "cpu node %d: %s", c, one);
        append(k->reason, sizeof k->reason, "; ", line);
    }
    if (nfail && nfail == nodeset_count(&cpus)) {
        if (nsame == nfail)
            snprintf(k->reason, sizeof k->reason, "%s", first);
        else if (nsame_status == nfail && all.status == MEMKIND_ERROR_HUGETLB)
            slot_reason(k->desc, &all, k->reason, sizeof k->reason);
    } else if (!nfail && h->status != MEMKIND_SUCCESS) {
        snprintf(k->reason, sizeof k->reason, "%s", code_name(h->status));
    }
}

static void kind_info(size_t i, kind_info_t *k) {
    memkind_t kind = *kinds[i].kind;
    k->name = kinds[i].name;
    k->desc = &mk_static_descs[kind - mk_static_kinds];
    k->available = memkind_check_available(kind) == MEMKIND_SUCCESS;
    k->heap = mk_heap_get(kind); // built by the call above; no pool is created
    k->per_cpu = memspace_rule_per_cpu(k->desc->rule);
    k->has_nodes = k->heap && k->heap->status == MEMKIND_SUCCESS &&
                   k->desc->rule != MEMSPACE_RULE_NONE;
    kind_reason(k);
}

// The text of a share: its node list, or "none".
static const char *share_text(const mk_slot_t *s, char *buf, size_t len) {
    if (s->status != MEMKIND_SUCCESS)
        snprintf(buf, len, "none");
    else
        nodeset_format(&s->nodes, buf, len);
    return buf;
}

void info_kinds_text(FILE *out) {
    fprintf(out, "\nkinds (memkind; availability as seen from CPU node %u):\n",
            topo_current_node());
    fprintf(out, "  %-41s %-9s %-10s %s\n", "kind", "available", "policy", "nodes");
    nodeset_t cpus;
    memspace_nodes_cpu(&cpus);
    for (size_t i = 0; i < NKINDS; i++) {
        kind_info_t k;
        kind_info(i, &k);
        fprintf(out, "  %-41s %-9s %-10s ", k.name, k.available ? "yes" : "no",
                policy_name(k.desc->mode));
        if (!k.has_nodes) {
            if (k.heap && k.heap->status == MEMKIND_SUCCESS && k.available)
                fprintf(out, "any node (the calling CPU's first)\n");
            else
                fprintf(out, "none: %s\n", k.reason);
            continue;
        }
        char list[LIST_LEN];
        if (!k.per_cpu) {
            fprintf(out, "%s\n", share_text(&k.heap->slots[0], list, sizeof list));
        } else {
            const char *sep = "";
            for (int c = nodeset_next(&cpus, 0); c >= 0;
                 c = nodeset_next(&cpus, (unsigned)c + 1), sep = ", ")
                fprintf(out, "%scpu node %d -> %s", sep, c,
                        share_text(slot_of(k.heap, (unsigned)c), list, sizeof list));
            fputc('\n', out);
        }
        if (k.reason[0])
            fprintf(out, "  %-41s %-9s %-10s (%s)\n", "", "", "", k.reason);
    }
}

void info_kinds_json(json_out_t *j) {
    json_key(j, "kinds_cpu_node");
    json_u64(j, topo_current_node());
    json_key(j, "kinds");
    json_begin_array(j, false);
    nodeset_t cpus;
    memspace_nodes_cpu(&cpus);
    char list[LIST_LEN];
    for (size_t i = 0; i < NKINDS; i++) {
        kind_info_t k;
        kind_info(i, &k);
        json_begin_object(j);
        json_key(j, "name");
        json_string(j, k.name);
        json_key(j, "available");
        json_bool(j, k.available);
        json_key(j, "policy");
        json_string(j, policy_name(k.desc->mode));
        json_key(j, "nodes");
        if (!k.has_nodes) {
            json_null(j);
        } else if (!k.per_cpu) {
            const mk_slot_t *s = &k.heap->slots[0];
            json_string(j, s->status == MEMKIND_SUCCESS ? share_text(s, list, sizeof list)
                                                        : NULL);
        } else {
            json_begin_object(j);
            for (int c = nodeset_next(&cpus, 0); c >= 0;
                 c = nodeset_next(&cpus, (unsigned)c + 1)) {
                const mk_slot_t *s = slot_of(k.heap, (unsigned)c);
                char key[16];
                snprintf(key, sizeof key, "%d", c);
                json_key(j, key);
                json_string(j, s->status == MEMKIND_SUCCESS ? share_text(s, list, sizeof list)
                                                            : NULL);
            }
            json_end_object(j);
        }
        json_key(j, "reason");
        json_string(j, k.reason[0] ? k.reason : NULL);
        json_end_object(j);
    }
    json_end_array(j);
}
