// SPDX-License-Identifier: MIT
// hetmem-info's sections. Each section prints itself as text and as JSON
// members of the top-level object; main() (hetmem_info.c) runs them in the
// order of its table. Later sections (which kinds and memspaces resolve to
// which nodes) are added by appending to that table.
#ifndef HETMEM_TOOLS_HETMEM_INFO_H
#define HETMEM_TOOLS_HETMEM_INFO_H

#include <stdio.h>

#include "json_out.h"

typedef struct info_section_t {
    const char *name;
    void (*text)(FILE *out);
    void (*json)(json_out_t *j); // writes members ("key": value) of the top object
} info_section_t;

// info_topology.c: the machine summary, the node table, the distance matrix.
void info_machine_text(FILE *out);
void info_machine_json(json_out_t *j);
void info_nodes_text(FILE *out);
void info_nodes_json(json_out_t *j);
void info_distances_text(FILE *out);
void info_distances_json(json_out_t *j);
void info_memspaces_text(FILE *out);
void info_memspaces_json(json_out_t *j);
// info_kinds.c: the static memkind kinds (availability, policy, nodes).
void info_kinds_text(FILE *out);
void info_kinds_json(json_out_t *j);

#endif // HETMEM_TOOLS_HETMEM_INFO_H
