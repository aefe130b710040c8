// SPDX-License-Identifier: MIT
// The kinds section of hetmem-info: for every static memkind kind, whether
// memkind_check_available accepts it, its NUMA policy, the node(s) it
// allocates from - per CPU node for the kinds whose nodes depend on the
// calling CPU (HBW, DAX_KMEM, *_LOCAL) - and why it cannot allocate.
//
// Nothing here decides nodes: the answer is the memkind front end's own
// heap of the kind, read through its query interface (memkind_query.h: the
// heap is built from the kind's node rule, asked of memspace_nodes_select
// for every CPU node, as the first allocation would, without creating a
// pool), so the tool and a program that links libmemkind agree by
// construction. Availability is
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

#include "frontend/memkind/memkind_query.h"
#include "hetmem_info.h"
#include "topology/topo.h"

#define LIST_LEN 8192  // 1024 nodes as "0,2,4,..." fit
#define ONE_LEN 768    // one share's reason (its node list cut to 512 bytes)
#define REASON_LEN 2048

// What the section reports of one kind.
typedef struct kind_info_t {
    mk_query_kind_t q;     // name, rule, policy, availability, status
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
static void env_reason(const mk_query_kind_t *q, char *buf, size_t len) {
    unsigned count = 0;
    buf[0] = '\0';
    for (; count < MK_QUERY_ENV_MAX && q->bad_env[count]; count++)
        append(buf, len, ", ", q->bad_env[count]);
    if (count == 0)
        append(buf, len, "", "a MEMKIND_* variable");
    size_t n = strlen(buf);
    if (n < len)
        snprintf(buf + n, len - n, " %s malformed (%s)", count > 1 ? "are" : "is",
                 code_name(MEMKIND_ERROR_ENVIRON));
}

// One share of a kind: its nodes and status (mk_query_share).
typedef struct share_t {
    nodeset_t nodes;
    int status;
} share_t;

// Why one share of a kind cannot allocate.
static void slot_reason(const mk_query_kind_t *d, const share_t *s, char *buf, size_t len) {
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

// The share of a CPU node (-1: the first share).
static share_t share_of(const mk_query_kind_t *q, int cpu_node) {
    share_t s;
    s.status = mk_query_share(q, cpu_node, &s.nodes);
    return s;
}

// The reason of a kind: the kind's own (environment), else each failing
// CPU node's share ("cpu node 1: ..."), said once when every CPU node fails
// the same way (huge pages missing on any of their nodes: one list).
static void kind_reason(kind_info_t *k) {
    const mk_query_kind_t *q = &k->q;
    k->reason[0] = '\0';
    if (!q->built) {
        snprintf(k->reason, sizeof k->reason, "no memory for the kind's heap (%s)",
                 code_name(MEMKIND_ERROR_MALLOC));
        return;
    }
    if (q->status == MEMKIND_ERROR_ENVIRON) {
        env_reason(q, k->reason, sizeof k->reason);
        return;
    }
    if (!k->per_cpu) {
        share_t s0 = share_of(q, -1);
        if (s0.status != MEMKIND_SUCCESS)
            slot_reason(q, &s0, k->reason, sizeof k->reason);
        else if (q->status != MEMKIND_SUCCESS)
            snprintf(k->reason, sizeof k->reason, "%s", code_name(q->status));
        return;
    }
    nodeset_t cpus;
    memspace_nodes_cpu(&cpus);
    char first[ONE_LEN] = "", one[ONE_LEN], line[ONE_LEN + 32];
    unsigned nfail = 0, nsame = 0, nsame_status = 0;
    share_t all = {.status = MEMKIND_SUCCESS}; // the failing shares together
    for (int c = nodeset_next(&cpus, 0); c >= 0; c = nodeset_next(&cpus, (unsigned)c + 1)) {
        share_t s = share_of(q, c);
        if (s.status == MEMKIND_SUCCESS)
            continue;
        slot_reason(q, &s, one, sizeof one);
        if (nfail++ == 0) {
            snprintf(first, sizeof first, "%s", one);
            all.status = s.status;
        }
        nsame += strcmp(one, first) == 0;
        nsame_status += s.status == all.status;
        nodeset_or(&all.nodes, &all.nodes, &s.nodes);
        snprintf(line, sizeof line, "cpu node %d: %s", c, one);
        append(k->reason, sizeof k->reason, "; ", line);
    }
    if (nfail && nfail == nodeset_count(&cpus)) {
        if (nsame == nfail)
            snprintf(k->reason, sizeof k->reason, "%s", first);
        else if (nsame_status == nfail && all.status == MEMKIND_ERROR_HUGETLB)
            slot_reason(q, &all, k->reason, sizeof k->reason);
    } else if (!nfail && q->status != MEMKIND_SUCCESS) {
        snprintf(k->reason, sizeof k->reason, "%s", code_name(q->status));
    }
}

static void kind_info(size_t i, kind_info_t *k) {
    (void)mk_query_kind(i, &k->q); // i < mk_query_count()
    k->per_cpu = memspace_rule_per_cpu(k->q.rule);
    k->has_nodes = k->q.built && k->q.status == MEMKIND_SUCCESS &&
                   k->q.rule != MEMSPACE_RULE_NONE;
    kind_reason(k);
}

// The text of a share: its node list, or "none".
static const char *share_text(const share_t *s, char *buf, size_t len) {
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
    for (size_t i = 0; i < mk_query_count(); i++) {
        kind_info_t k;
        kind_info(i, &k);
        fprintf(out, "  %-41s %-9s %-10s ", k.q.name, k.q.available ? "yes" : "no",
                policy_name(k.q.mode));
        if (!k.has_nodes) {
            if (k.q.built && k.q.status == MEMKIND_SUCCESS && k.q.available)
                fprintf(out, "any node (the calling CPU's first)\n");
            else
                fprintf(out, "none: %s\n", k.reason);
            continue;
        }
        char list[LIST_LEN];
        if (!k.per_cpu) {
            share_t s0 = share_of(&k.q, -1);
            fprintf(out, "%s\n", share_text(&s0, list, sizeof list));
        } else {
            const char *sep = "";
            for (int c = nodeset_next(&cpus, 0); c >= 0;
                 c = nodeset_next(&cpus, (unsigned)c + 1), sep = ", ") {
                share_t s = share_of(&k.q, c);
                fprintf(out, "%scpu node %d -> %s", sep, c, share_text(&s, list, sizeof list));
            }
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
    for (size_t i = 0; i < mk_query_count(); i++) {
        kind_info_t k;
        kind_info(i, &k);
        json_begin_object(j);
        json_key(j, "name");
        json_string(j, k.q.name);
        json_key(j, "available");
        json_bool(j, k.q.available);
        json_key(j, "policy");
        json_string(j, policy_name(k.q.mode));
        json_key(j, "nodes");
        if (!k.has_nodes) {
            json_null(j);
        } else if (!k.per_cpu) {
            share_t s = share_of(&k.q, -1);
            json_string(j, s.status == MEMKIND_SUCCESS ? share_text(&s, list, sizeof list)
                                                       : NULL);
        } else {
            json_begin_object(j);
            for (int c = nodeset_next(&cpus, 0); c >= 0;
                 c = nodeset_next(&cpus, (unsigned)c + 1)) {
                share_t s = share_of(&k.q, c);
                char key[16];
                snprintf(key, sizeof key, "%d", c);
                json_key(j, key);
                json_string(j, s.status == MEMKIND_SUCCESS ? share_text(&s, list, sizeof list)
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
