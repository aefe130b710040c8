// SPDX-License-Identifier: MIT
// memkind-hbw-nodes: prints the high bandwidth memory NUMA nodes as a
// comma-separated list ("2" or "4,5,6,7"), the nodes the MEMKIND_HBW kinds
// use: HMAT bandwidth at or above MEMKIND_HBW_THRESHOLD, or the nodes of
// MEMKIND_HBW_NODES. Usage: numactl --membind=$(memkind-hbw-nodes) prog.
// Exit status: 0 with at least one node, 1 when there is none or the
// environment is malformed (reason on stderr), 2 on a usage error.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "topology/topo.h"

static void usage(FILE *f) {
    fprintf(f, "Usage: memkind-hbw-nodes\n"
               "Prints a comma-separated list of the high bandwidth memory NUMA nodes.\n"
               "MEMKIND_HBW_NODES and MEMKIND_HBW_THRESHOLD are honoured (memkind(3)).\n");
}

int main(int argc, char **argv) {
    if (argc > 1) {
        bool help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    int e = topo_init();
    if (e && e != EINVAL) {
        fprintf(stderr, "memkind-hbw-nodes: no NUMA topology (%s)\n", strerror(e));
        return 1;
    }
    unsigned bad = topo_env_rejected();
    if (bad & (TOPO_ENV_HBW_NODES | TOPO_ENV_HBW_THRESHOLD)) {
        fprintf(stderr, "memkind-hbw-nodes: malformed %s\n",
                bad & TOPO_ENV_HBW_NODES ? "MEMKIND_HBW_NODES" : "MEMKIND_HBW_THRESHOLD");
        return 1;
    }
    nodeset_t hbw;
    topo_nodes_of_class(TOPO_CLASS_HBM, &hbw);
    if (nodeset_empty(&hbw)) {
        fprintf(stderr, "memkind-hbw-nodes: no high bandwidth memory on this machine\n");
        return 1;
    }
    const char *sep = "";
    for (int n = nodeset_next(&hbw, 0); n >= 0; n = nodeset_next(&hbw, (unsigned)n + 1)) {
        printf("%s%d", sep, n);
        sep = ",";
    }
    printf("\n");
    return 0;
}
