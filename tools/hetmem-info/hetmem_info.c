// SPDX-License-Identifier: MIT
// hetmem-info: the machine's memory as hetmem sees it. Options and the
// section table live here; each section prints itself (info_*.c). Exit
// status: 0, 1 when no topology could be read, 2 on a bad option.
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hetmem.h"
#include "hetmem_info.h"
#include "topology/topo.h"

// The sections, in output order. A new section (kinds, memspaces) is one
// more line here and a text and a JSON function.
static const info_section_t sections[] = {
    {"machine", info_machine_text, info_machine_json},
    {"nodes", info_nodes_text, info_nodes_json},
    {"distances", info_distances_text, info_distances_json},
    {"memspaces", info_memspaces_text, info_memspaces_json},
    {"kinds", info_kinds_text, info_kinds_json},
};

static void usage(FILE *out, const char *prog) {
    fprintf(out,
            "Usage: %s [--json] [--help] [--version]\n"
            "Shows the machine's memory as hetmem sees it: every NUMA node with its\n"
            "class (DRAM, HBM, CXL, PMEM), memory tier, CPUs, capacity and free memory,\n"
            "HMAT bandwidth and latency from the best initiator, huge pages (2 MiB and\n"
            "1 GiB, total/free), the dax device of a DAX KMEM node, the distances, the\n"
            "nodes each predefined UMF memspace resolves to, and the static memkind\n"
            "kinds: whether each is available (memkind_check_available), its policy\n"
            "(bind, preferred, interleave, local), its nodes (per CPU node for the kinds\n"
            "that depend on the CPU: \"cpu node 0 -> 2\") and, if unavailable, why.\n"
            "\n"
            "  -j, --json     print one JSON object instead of tables\n"
            "  -h, --help     print this help and exit\n"
            "  -V, --version  print the hetmem version and exit\n"
            "\n"
            "Environment: MEMKIND_HBW_NODES, MEMKIND_DAX_KMEM_NODES, MEMKIND_HBW_THRESHOLD\n"
            "override the classification (docs/topology.md); HWLOC_FSROOT reads another\n"
            "sysfs tree; HETMEM_LOG=info explains the discovery on stderr.\n",
            prog);
}

int main(int argc, char **argv) {
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    bool json = false;
    int c;
    opterr = 0; // our own message below
    while ((c = getopt_long(argc, argv, "jhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = true;
            break;
        case 'h':
            usage(stdout, argv[0]);
            return 0;
        case 'V':
            printf("hetmem-info %s\n", hetmem_get_version());
            return 0;
        default:
            // A long option names itself; a short one is optopt.
            if (optind > 0 && strncmp(argv[optind - 1], "--", 2) == 0)
                fprintf(stderr, "%s: bad option '%s' (try --help)\n", argv[0], argv[optind - 1]);
            else
                fprintf(stderr, "%s: bad option '-%c' (try --help)\n", argv[0], optopt);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", argv[0], argv[optind]);
        return 2;
    }

    int err = topo_init();
    if (err && err != EINVAL) { // EINVAL: an override was ignored; still usable
        fprintf(stderr, "%s: cannot read the memory topology: %s\n", argv[0], strerror(err));
        return 1;
    }
    const size_t nsec = sizeof sections / sizeof sections[0];
    if (json) {
        json_out_t j;
        json_init(&j, stdout);
        json_begin_object(&j);
        for (size_t i = 0; i < nsec; i++)
            sections[i].json(&j);
        json_end_object(&j);
        json_finish(&j);
    } else {
        for (size_t i = 0; i < nsec; i++)
            sections[i].text(stdout);
    }
    if (topo_env_rejected())
        fprintf(stderr, "%s: an override in the environment is malformed and was ignored "
                        "(see \"rejected_env\" / the warning above)\n", argv[0]);
    return fflush(stdout) == 0 ? 0 : 1;
}
