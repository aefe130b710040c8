// SPDX-License-Identifier: MIT
// The memkind environment overrides and the node-string parser they use:
//   MEMKIND_HBW_NODES       nodes treated as high bandwidth (HBM)
//   MEMKIND_DAX_KMEM_NODES  nodes treated as PMEM / DAX KMEM
//   MEMKIND_HBW_THRESHOLD   MB/s from which HMAT bandwidth counts as HBM
// memkind(3) says the node lists use libnuma's numa_parse_nodestring()
// syntax. We parse that syntax here instead of calling libnuma, because
// libnuma 2.0.16 (checked against the Debian 12 library):
//   - validates node numbers against the real /sys/devices/system/node and
//     the task's Mems_allowed, not against the nodes hetmem found (so it
//     rejects node 70 of a fake HWLOC_FSROOT tree, or of a guest whose
//     sysfs hwloc is told to read);
//   - prints "libnuma: Warning: ..." to stderr on a malformed string, which
//     can only be silenced by defining numa_warn/numa_error with default
//     visibility in our shared library - that would hijack libnuma's error
//     reporting for the whole process, the application included;
//   - calls exit(1) from numa_bitmask_alloc on allocation failure;
//   - sends strings that start with a letter to its I/O-affinity resolver
//     ("netdev:eth0", "pci:...", "file:/path"), which opens device files.
// The grammar accepted below is libnuma's: "1-3,5", "all", "!" (invert),
// "+" (relative to the nodes that exist), numbers in C notation (strtoul
// base 0). Differences: a reversed range ("3-1") and an empty string are
// errors (libnuma quietly takes "3-1" as "3" and "" as no node), and the
// I/O-affinity names are not supported. docs/topology.md has the details.
#include "topology/topo_priv.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

// One flag per variable: a malformed value is reported once per process
// (until topo_reset_for_testing), however often topo_init is called.
static bool reported_hbw_nodes;
static bool reported_kmem_nodes;
static bool reported_threshold;

// The n-th (0-based) member of a set, or -1: "+n" relative node numbers.
static long nth_member(const nodeset_t *set, unsigned long n) {
    for (int m = nodeset_next(set, 0); m >= 0; m = nodeset_next(set, (unsigned)m + 1))
        if (n-- == 0)
            return m;
    return -1;
}

// One node number at *p: optional blanks, then digits in C notation (as
// strtoul base 0: 12, 0x1f, 017). No sign. Relative numbers are mapped to
// the node they name. Returns the node or -1.
static long parse_node(const char **p, const nodeset_t *valid, bool relative) {
    const char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno || end == s)
        return -1;
    *p = end;
    if (relative)
        return nth_member(valid, v);
    if (v >= NODESET_MAX || !nodeset_isset(valid, (unsigned)v))
        return -1;
    return (long)v;
}

int topo_nodestring_parse(const nodeset_t *valid, const char *str, nodeset_t *out) {
    if (!str || !valid || !out)
        return EINVAL;
    const char *p = str;
    bool invert = false, relative = false;
    nodeset_t set;
    nodeset_zero(&set);
    if (*p == '!') {
        invert = true;
        p++;
    }
    if (*p == '+') {
        relative = true;
        p++;
    }
    if (*p == '\0')
        return EINVAL; // "", "!" or "+": no node named
    for (;;) {
        if (strncmp(p, "all", 3) == 0 && (p[3] == '\0' || p[3] == ',')) {
            nodeset_or(&set, &set, valid);
            p += 3;
        } else {
            long a = parse_node(&p, valid, relative);
            if (a < 0)
                return EINVAL;
            long b = a;
            if (*p == '-') {
                p++;
                b = parse_node(&p, valid, relative);
                if (b < 0 || b < a)
                    return EINVAL;
            }
            // As libnuma: within a range, ids that are not nodes are skipped.
            for (long n = a; n <= b; n++)
                if (nodeset_isset(valid, (unsigned)n))
                    nodeset_set(&set, (unsigned)n);
        }
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '\0')
            return EINVAL; // trailing text, or blanks after a number
        break;
    }
    if (invert) {
        nodeset_t inv;
        nodeset_zero(&inv);
        for (int n = nodeset_next(valid, 0); n >= 0; n = nodeset_next(valid, (unsigned)n + 1))
            if (!nodeset_isset(&set, (unsigned)n))
                nodeset_set(&inv, (unsigned)n);
        set = inv;
    }
    *out = set;
    return 0;
}

// An unset or empty variable means "no override" (memkind reads it the same
// way: an empty list names no node).
static const char *env(const char *name) {
    const char *v = getenv(name);
    return v && v[0] ? v : NULL;
}

static int read_nodes(topo_state_t *st, const char *name, bool *reported, unsigned bit,
                      nodeset_t *set, bool *is_set) {
    const char *v = env(name);
    if (!v)
        return 0;
    if (topo_nodestring_parse(&st->all, v, set) != 0) {
        char have[256];
        nodeset_format(&st->all, have, sizeof have);
        // The node classes stay as discovered; memkind's kinds that depend
        // on the variable refuse to allocate (mk_nodes_env_status), as
        // memkind does: the message says both.
        log_write_once(reported, LOG_LEVEL_ERROR, "topo_init",
                       "%s=\"%.64s\" is malformed or names a node that does not exist "
                       "(nodes: %s): not applied; the memkind %s kinds report "
                       "MEMKIND_ERROR_ENVIRON",
                       name, v, have, bit == TOPO_ENV_HBW_NODES ? "HBW" : "DAX_KMEM");
        st->env_rejected |= bit;
        nodeset_zero(set);
        return EINVAL;
    }
    *is_set = true;
    return 0;
}

// MEMKIND_HBW_THRESHOLD: a decimal number of MB/s, >= 0 (memkind(3)).
static int read_threshold(topo_state_t *st) {
    st->hbw_threshold = TOPO_HBW_THRESHOLD_DEFAULT;
    const char *v = env("MEMKIND_HBW_THRESHOLD");
    if (!v)
        return 0;
    const char *p = v;
    bool ok = isdigit((unsigned char)*p);
    char *end = NULL;
    unsigned long long t = 0;
    if (ok) {
        errno = 0;
        t = strtoull(p, &end, 10);
        ok = errno == 0 && *end == '\0';
    }
    if (!ok) {
        log_write_once(&reported_threshold, LOG_LEVEL_ERROR, "topo_init",
                       "MEMKIND_HBW_THRESHOLD=\"%.64s\" is not a number of MB/s >= 0: node "
                       "classes use %u; the memkind HBW kinds report MEMKIND_ERROR_ENVIRON",
                       v, TOPO_HBW_THRESHOLD_DEFAULT);
        st->env_rejected |= TOPO_ENV_HBW_THRESHOLD;
        return EINVAL;
    }
    st->hbw_threshold = t;
    return 0;
}

int topo_env_read(topo_state_t *st) {
    int err = 0;
    if (read_threshold(st))
        err = EINVAL;
    if (read_nodes(st, "MEMKIND_HBW_NODES", &reported_hbw_nodes, TOPO_ENV_HBW_NODES,
                   &st->hbw_env, &st->hbw_env_set))
        err = EINVAL;
    if (read_nodes(st, "MEMKIND_DAX_KMEM_NODES", &reported_kmem_nodes, TOPO_ENV_DAX_KMEM_NODES,
                   &st->kmem_env, &st->kmem_env_set))
        err = EINVAL;
    return err;
}

#ifdef HETMEM_TEST_HOOKS
void topo_env_reset_reports(void) {
    reported_hbw_nodes = false;
    reported_kmem_nodes = false;
    reported_threshold = false;
}
#endif
