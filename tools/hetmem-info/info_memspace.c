// SPDX-License-Identifier: MIT
// The memspace section of hetmem-info: which NUMA node(s) each predefined
// memspace (umf/memspace.h) resolves to on this machine, or why it does not
// exist (HighestBandwidth and LowestLatency need HMAT), and the initiator
// node the HMAT figures were read from - the node of the CPU hetmem-info
// runs on, as for any program that asks first.
//
//   text   memspaces (predefined; HMAT figures seen from node 0):
//            HostAll            0-2
//            HighestBandwidth   none: the machine reports no HMAT ...
//   JSON   "memspaces": {"initiator": 0, "HostAll": {"nodes": [0, 1, 2]},
//                        "LowestLatency": {"nodes": null, "reason": "..."}, ...}
#include <stdint.h>

#include <umf/memspace.h>

#include "hetmem_info.h"
#include "base/nodeset.h"
#include "memspace/memspace_predefined.h"
#include "topology/topo.h"

// The memspace's node ids in set form (predefined memspaces are in
// ascending order and without repetition).
static void nodes_of(umf_const_memspace_handle_t ms, nodeset_t *out) {
    nodeset_zero(out);
    for (unsigned i = 0; i < umfMemspaceMemtargetNum(ms); i++) {
        unsigned id;
        if (umfMemtargetGetId(umfMemspaceMemtargetGet(ms, i), &id) == UMF_RESULT_SUCCESS)
            nodeset_set(out, id);
    }
}

// Resolves all four first, so that the initiator is known for the heading.
static void resolve(umf_const_memspace_handle_t ms[MEMSPACE_PREDEFINED_COUNT]) {
    for (int i = 0; i < MEMSPACE_PREDEFINED_COUNT; i++)
        ms[i] = memspace_predefined_get((memspace_predefined_t)i);
}

void info_memspaces_text(FILE *out) {
    umf_const_memspace_handle_t ms[MEMSPACE_PREDEFINED_COUNT];
    resolve(ms);
    unsigned init = memspace_predefined_initiator();
    if (init == TOPO_NODE_NONE)
        fprintf(out, "\nmemspaces (predefined):\n");
    else
        fprintf(out, "\nmemspaces (predefined; HMAT figures seen from node %u):\n", init);
    for (int i = 0; i < MEMSPACE_PREDEFINED_COUNT; i++) {
        const char *name = memspace_predefined_name((memspace_predefined_t)i);
        if (!ms[i]) {
            fprintf(out, "  %-18s none: %s\n", name,
                    memspace_predefined_reason((memspace_predefined_t)i));
            continue;
        }
        nodeset_t set;
        char list[8192]; // 1024 nodes as "0,2,4,..." fit
        nodes_of(ms[i], &set);
        nodeset_format(&set, list, sizeof list);
        fprintf(out, "  %-18s %s\n", name, list);
    }
}

void info_memspaces_json(json_out_t *j) {
    umf_const_memspace_handle_t ms[MEMSPACE_PREDEFINED_COUNT];
    resolve(ms);
    unsigned init = memspace_predefined_initiator();
    json_key(j, "memspaces");
    json_begin_object(j);
    json_key(j, "initiator");
    if (init == TOPO_NODE_NONE)
        json_null(j);
    else
        json_u64(j, init);
    for (int i = 0; i < MEMSPACE_PREDEFINED_COUNT; i++) {
        json_key(j, memspace_predefined_name((memspace_predefined_t)i));
        json_begin_object(j);
        json_key(j, "nodes");
        if (!ms[i]) {
            json_null(j);
            json_key(j, "reason");
            json_string(j, memspace_predefined_reason((memspace_predefined_t)i));
        } else {
            json_begin_array(j, true);
            for (unsigned t = 0; t < umfMemspaceMemtargetNum(ms[i]); t++) {
                unsigned id = 0;
                (void)umfMemtargetGetId(umfMemspaceMemtargetGet(ms[i], t), &id);
                json_u64(j, id);
            }
            json_end_array(j);
        }
        json_end_object(j);
    }
    json_end_object(j);
}
