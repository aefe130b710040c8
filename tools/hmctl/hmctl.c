// SPDX-License-Identifier: MIT
// hmctl(8): runs a command with a memory policy for its hmalloc pool.
//
//   hmctl [-m NODES | -p NODE | -P NODES | -i NODES | -w NODES] COMMAND [ARG...]
//
// hmctl checks its options (one policy at most, a node list in numactl
// syntax that names existing nodes), writes the policy into the command's
// environment (HMALLOC_POLICY, HMALLOC_NODES: the protocol is
// src/frontend/hmalloc/hm_policy.h) and executes the command in its place,
// so the command's exit status is hmctl's. It never changes a memory policy
// itself: the process policy the command inherits stays whatever started
// hmctl set (`numactl -p 1 hmctl -m 2 prog`: numactl's policy for prog's
// other memory, membind 2 for its hmalloc pool).
//
// Node lists are checked by the topology layer's topo_parse_nodestring, the
// same parser the library uses: libnuma's syntax, validated against
// hetmem's topology. libnuma's own numa_parse_nodestring prints warnings to
// stderr and checks the real /sys even where hetmem's topology comes from
// HWLOC_FSROOT (the fake trees of the tests), and its bitmask is what made
// HMSDK's hmctl pass one unsigned long (64 nodes) to the library.
//
// Exit status: the command's; 125 when hmctl itself fails (bad options),
// 126 when the command cannot be executed, 127 when it is not found (as
// env(1) and the shell); 0 for --help and --usage.
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/nodeset.h"
#include "frontend/hmalloc/hm_policy.h"

#define EXIT_HMCTL 125
#define EXIT_CANNOT_RUN 126
#define EXIT_NOT_FOUND 127

enum { OPT_USAGE = 256 };

static const struct option long_options[] = {
    {"membind", required_argument, NULL, 'm'},
    {"preferred", required_argument, NULL, 'p'},
    {"preferred-many", required_argument, NULL, 'P'},
    {"interleave", required_argument, NULL, 'i'},
    {"weighted-interleave", required_argument, NULL, 'w'},
    {"help", no_argument, NULL, 'h'},
    {"usage", no_argument, NULL, OPT_USAGE},
    {NULL, 0, NULL, 0},
};

// '+': stop at the command (its options are its own); ':': hmctl reports
// unknown options and missing arguments itself. -? is not listed: getopt
// reports it as an unknown option '?', which is how it is told from others.
static const char short_options[] = "+:m:p:P:i:w:h";

static void help(void) {
    printf("Usage: hmctl [OPTION...] COMMAND [ARG...]\n"
           "Run COMMAND with a memory policy for its hmalloc pool: the memory of\n"
           "hmalloc, hcalloc, hrealloc, haligned_alloc, hposix_memalign and hmmap\n"
           "(libhmalloc.so). The rest of COMMAND's memory is not affected.\n"
           "\n"
           "  -m, --membind=NODES          allocate only from NODES\n"
           "  -p, --preferred=NODE         allocate from NODE first, from other nodes\n"
           "                               when it is full\n"
           "  -P, --preferred-many=NODES   allocate from NODES first, from other nodes\n"
           "                               when they are full\n"
           "  -i, --interleave=NODES       interleave pages round-robin over NODES\n"
           "  -w, --weighted-interleave=NODES\n"
           "                               interleave pages over NODES in proportion to\n"
           "                               the kernel's weights in\n"
           "                               /sys/kernel/mm/mempolicy/weighted_interleave\n"
           "  -?, --help                   give this help list\n"
           "      --usage                  give a short usage message\n"
           "\n"
           "NODES is a node list as numactl(8) takes it: N, N-M, N,M-K, all, !NODES.\n"
           "Give one policy at most; without one the hmalloc pool has the default\n"
           "policy (as malloc). The exit status is COMMAND's, or 125 when hmctl\n"
           "fails, 126 when COMMAND cannot be executed, 127 when it is not found.\n");
}

static void usage(FILE *f) {
    fprintf(f, "Usage: hmctl [-?] [-m NODES] [-p NODE] [-P NODES] [-i NODES] [-w NODES]\n"
               "             [--membind=NODES] [--preferred=NODE] [--preferred-many=NODES]\n"
               "             [--interleave=NODES] [--weighted-interleave=NODES] [--help]\n"
               "             [--usage] COMMAND [ARG...]\n");
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("hmctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\nTry 'hmctl --help' or 'hmctl --usage' for more information.\n", stderr);
    va_end(ap);
    return EXIT_HMCTL;
}

static bool mode_of(int opt, hm_mode_t *mode) {
    switch (opt) {
    case 'm': *mode = HM_MODE_BIND; return true;
    case 'p': *mode = HM_MODE_PREFERRED; return true;
    case 'P': *mode = HM_MODE_PREFERRED_MANY; return true;
    case 'i': *mode = HM_MODE_INTERLEAVE; return true;
    case 'w': *mode = HM_MODE_WEIGHTED_INTERLEAVE; return true;
    }
    return false;
}

// The option's long name, for messages ("--membind").
static const char *opt_name(int opt) {
    for (const struct option *o = long_options; o->name; o++)
        if (o->val == opt)
            return o->name;
    return "?";
}

// Exports the policy for the command. Returns 0 or an exit status.
static int export_policy(const hm_policy_t *pol) {
    static char list[8 * NODESET_MAX]; // "0,2,4,...": at most 5 bytes a node
    if (nodeset_format(&pol->nodes, list, sizeof list) >= sizeof list)
        return fail("node list too long"); // cannot happen for NODESET_MAX nodes
    if (setenv(HM_ENV_POLICY, hm_mode_name(pol->mode), 1) != 0 ||
        (pol->mode == HM_MODE_DEFAULT ? unsetenv(HM_ENV_NODES)
                                      : setenv(HM_ENV_NODES, list, 1)) != 0)
        return fail("cannot set the environment: %s", strerror(errno));
    return 0;
}

int main(int argc, char **argv) {
    int policy_opt = 0;
    const char *nodes = NULL;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        hm_mode_t mode;
        if (mode_of(opt, &mode)) {
            if (policy_opt == opt)
                return fail("--%s given twice: give one memory policy", opt_name(opt));
            if (policy_opt)
                return fail("--%s conflicts with --%s: give one memory policy", opt_name(opt),
                            opt_name(policy_opt));
            policy_opt = opt;
            nodes = optarg;
            continue;
        }
        switch (opt) {
        case 'h': help(); return 0;
        case OPT_USAGE: usage(stdout); return 0;
        case ':':
            return fail("option '%s' needs an argument", argv[optind - 1]);
        case '?':
            if (optopt == '?') { // -?: not in short_options, so it comes as unknown
                help();
                return 0;
            }
            if (optopt)
                return fail("invalid option -- '%c'", optopt);
            return fail("unrecognized option '%s'", argv[optind - 1]);
        default: return fail("invalid option");
        }
    }
    if (optind >= argc)
        return fail("missing command");

    hm_policy_t pol = {.mode = HM_MODE_DEFAULT};
    if (policy_opt) {
        hm_mode_t mode;
        (void)mode_of(policy_opt, &mode);
        char why[256];
        if (hm_policy_make(mode, nodes, &pol, why, sizeof why) != 0) {
            if (policy_opt == 'p' && strstr(why, "takes one node"))
                return fail("--preferred=%s: %s (use -P/--preferred-many for several)", nodes,
                            why);
            return fail("--%s=%s: %s", opt_name(policy_opt), nodes, why);
        }
    }
    int st = export_policy(&pol);
    if (st)
        return st;

    execvp(argv[optind], &argv[optind]);
    int err = errno;
    fprintf(stderr, "hmctl: cannot run '%s': %s\n", argv[optind], strerror(err));
    return err == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN;
}
