// SPDX-License-Identifier: MIT
// memkind-auto-dax-kmem-nodes: prints the persistent memory NUMA nodes that
// are detected automatically - nodes whose memory is a DAX device bound to
// the kmem driver (daxctl reconfigure-device --mode=system-ram) - as a
// comma-separated list. MEMKIND_DAX_KMEM_NODES is not consulted: it is
// what a user sets when detection is not enough.
// Exit status: 0 with at least one node, 1 when there is none, 2 on a
// usage error.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "topology/topo.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: memkind-auto-dax-kmem-nodes\n"
               "Prints a comma-separated list of the automatically detected persistent\n"
               "memory (DAX KMEM) NUMA nodes.\n");
}

int main(int argc, char **argv) {
    if (argc > 1) {
        bool help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    int e = topo_init();
    if (e && e != EINVAL) {
        fprintf(stderr, "memkind-auto-dax-kmem-nodes: no NUMA topology (%s)\n", strerror(e));
        return 1;
    }
    const char *sep = "";
    for (unsigned i = 0; i < topo_node_count(); i++) {
        const topo_node_t *n = topo_node_at(i);
        if (n->dax_kmem) {
            printf("%s%u", sep, n->id);
            sep = ",";
        }
    }
    if (!*sep) {
        fprintf(stderr, "memkind-auto-dax-kmem-nodes: no DAX KMEM node on this machine\n");
        return 1;
    }
    printf("\n");
    return 0;
}
