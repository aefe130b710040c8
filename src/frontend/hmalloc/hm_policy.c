// SPDX-License-Identifier: MIT
// The hmalloc pool's policy: mode names, node strings checked against the
// topology, and the environment protocol that hmctl(8) writes and the
// library reads (hm_policy.h has the protocol). hmctl and the library use
// these same functions, so that a value hmctl accepts is one the library
// accepts, and hand-set values get the same checks.
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "frontend/hmalloc/hm_policy.h"
#include "topology/topo.h"

// Indexed by hm_mode_t; the names are hmctl's long options (membind, not
// bind, as numactl spells it). -p is MPOL_PREFERRED (one node), -P
// MPOL_PREFERRED_MANY for one node or several (hmctl(8)); both are the OS
// provider's PREFERRED mode, -P with its preferred_many setting (hm_pool.c).
const hm_mode_row_t hm_modes[HM_MODE_COUNT] = {
    [HM_MODE_DEFAULT] = {"default", MEMSPACE_RULE_NONE, UMF_NUMA_MODE_DEFAULT, OS_MPOL_DEFAULT,
                         false, false},
    [HM_MODE_BIND] = {"membind", MEMSPACE_RULE_GIVEN, UMF_NUMA_MODE_BIND, OS_MPOL_BIND, false,
                      false},
    [HM_MODE_PREFERRED] = {"preferred", MEMSPACE_RULE_GIVEN, UMF_NUMA_MODE_PREFERRED,
                           OS_MPOL_PREFERRED, false, true},
    [HM_MODE_PREFERRED_MANY] = {"preferred-many", MEMSPACE_RULE_GIVEN, UMF_NUMA_MODE_PREFERRED,
                                OS_MPOL_PREFERRED_MANY, false, false},
    [HM_MODE_INTERLEAVE] = {"interleave", MEMSPACE_RULE_GIVEN, UMF_NUMA_MODE_INTERLEAVE,
                            OS_MPOL_INTERLEAVE, false, false},
    [HM_MODE_WEIGHTED_INTERLEAVE] = {"weighted-interleave", MEMSPACE_RULE_GIVEN,
                                     UMF_NUMA_MODE_INTERLEAVE, OS_MPOL_WEIGHTED_INTERLEAVE, true,
                                     false},
};

const char *hm_mode_name(hm_mode_t mode) {
    return (unsigned)mode < HM_MODE_COUNT ? hm_modes[mode].name : "?";
}

int hm_mode_parse(const char *name, hm_mode_t *out) {
    if (!name || !out)
        return EINVAL;
    for (unsigned i = 0; i < HM_MODE_COUNT; i++) {
        if (strcmp(name, hm_modes[i].name) == 0) {
            *out = (hm_mode_t)i;
            return 0;
        }
    }
    return EINVAL;
}

static void say(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t len, const char *fmt, ...) {
    if (!why || len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

// ---- node strings ------------------------------------------------------------

// One number of a node string at *p (blanks, then C notation as strtoul
// base 0, the topology parser's rule). Returns false when there is none.
static bool number_at(const char **p, unsigned long *v) {
    const char *s = *p;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    *v = strtoul(s, &end, 0);
    if (errno || end == s)
        return false;
    *p = end;
    return true;
}

static bool node_exists(unsigned long v, bool relative, const nodeset_t *all) {
    if (relative)
        return v < nodeset_count(all);
    return v < NODESET_MAX && nodeset_isset(all, (unsigned)v);
}

// topo_parse_nodestring refused `str`: tell a malformed string from one
// that names a node the machine lacks, for the message. Returns true and
// the first such node in *missing, or false when the string is malformed.
// The grammar is the topology parser's: [!][+]ITEM{,ITEM}, ITEM = all | N | N-M.
static bool find_missing(const char *str, const nodeset_t *all, unsigned long *missing,
                         bool *relative) {
    const char *p = str;
    bool found = false;
    *relative = false;
    if (*p == '!')
        p++;
    if (*p == '+') {
        *relative = true;
        p++;
    }
    for (;;) {
        if (strncmp(p, "all", 3) == 0 && (p[3] == '\0' || p[3] == ',')) {
            p += 3;
        } else {
            unsigned long a, b;
            if (!number_at(&p, &a))
                return false;
            b = a;
            if (*p == '-') {
                p++;
                if (!number_at(&p, &b) || b < a)
                    return false;
            }
            // Inside a range, ids that are not nodes are skipped (libnuma's
            // rule); the two ends must be nodes.
            if (!found && !node_exists(a, *relative, all)) {
                *missing = a;
                found = true;
            } else if (!found && !node_exists(b, *relative, all)) {
                *missing = b;
                found = true;
            }
        }
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '\0')
            return false;
        return found;
    }
}

int hm_policy_make(hm_mode_t mode, const char *nodes, hm_policy_t *out, char *why, size_t len) {
    if ((unsigned)mode >= HM_MODE_COUNT || !out) {
        say(why, len, "invalid policy");
        return EINVAL;
    }
    if (mode == HM_MODE_DEFAULT) {
        if (nodes && nodes[0]) {
            say(why, len, "the default policy takes no node list");
            return EINVAL;
        }
        out->mode = mode;
        nodeset_zero(&out->nodes);
        return 0;
    }
    if (!nodes || !nodes[0]) {
        say(why, len, "empty node list");
        return EINVAL;
    }
    int err = topo_init();
    if (err != 0 && err != EINVAL) { // EINVAL: a MEMKIND_* override ignored; nodes are fine
        say(why, len, "cannot discover the machine's NUMA nodes: %s", strerror(err));
        return err;
    }
    const nodeset_t *all = topo_all_nodes();
    char have[128];
    nodeset_format(all, have, sizeof have);
    nodeset_t set;
    if (topo_parse_nodestring(nodes, &set) != 0) {
        unsigned long missing = 0;
        bool relative;
        if (find_missing(nodes, all, &missing, &relative))
            say(why, len, "node %s%lu does not exist (nodes with memory: %s)",
                relative ? "+" : "", missing, have);
        else
            say(why, len,
                "\"%.64s\" is not a node list (N, N-M, N,M-K, all, !LIST; nodes: %s)", nodes,
                have);
        return EINVAL;
    }
    // The node-selection engine checks the nodes against the mode's row.
    nodeset_t chosen;
    switch (memspace_nodes_select(hm_modes[mode].rule, topo_current_node(), hm_modes[mode].single,
                                  &set, &chosen, NULL)) {
    case MEMSPACE_PICK_OK: break;
    case MEMSPACE_PICK_TIE:
        say(why, len, "the preferred policy takes one node; \"%.64s\" names %u", nodes,
            nodeset_count(&set));
        return EINVAL;
    default: say(why, len, "\"%.64s\" names no node (nodes: %s)", nodes, have); return EINVAL;
    }
    out->mode = mode;
    out->nodes = chosen;
    return 0;
}

// ---- the environment ----------------------------------------------------------

static bool set(const char *v) { return v && v[0]; }

// A decimal number, the whole string (HMSDK's hmctl writes %d and %lu).
static bool decimal(const char *s, unsigned long *v) {
    if (!isdigit((unsigned char)s[0]))
        return false;
    char *end;
    errno = 0;
    *v = strtoul(s, &end, 10);
    return errno == 0 && *end == '\0';
}

// HMSDK's variables: HMALLOC_MPOL_MODE is the kernel's MPOL_* number,
// HMALLOC_NODEMASK one unsigned long of node bits. HMSDK binds nothing
// when the mask is 0; MPOL_PREFERRED with several nodes prefers the first
// (the kernel's rule).
static int parse_legacy(const hm_env_t *env, hm_policy_t *out, char *why, size_t len) {
    unsigned long mode, mask = 0;
    if (!decimal(env->legacy_mode, &mode) || mode > 6 || mode == 4) {
        say(why, len, HM_ENV_LEGACY_MODE "=\"%.32s\" is not 0, 1, 2, 3, 5 or 6",
            env->legacy_mode);
        return EINVAL;
    }
    if (set(env->legacy_mask) && !decimal(env->legacy_mask, &mask)) {
        say(why, len, HM_ENV_LEGACY_MASK "=\"%.32s\" is not a decimal node mask",
            env->legacy_mask);
        return EINVAL;
    }
    if (mode == 0 || mask == 0) {
        out->mode = HM_MODE_DEFAULT;
        nodeset_zero(&out->nodes);
        return 0;
    }
    static const hm_mode_t modes[7] = {HM_MODE_DEFAULT,     HM_MODE_PREFERRED,
                                       HM_MODE_BIND,        HM_MODE_INTERLEAVE,
                                       HM_MODE_DEFAULT,     HM_MODE_PREFERRED_MANY,
                                       HM_MODE_WEIGHTED_INTERLEAVE};
    if (mode == 1)
        mask &= ~mask + 1; // the lowest node
    // As a list string, so that hm_policy_make checks it like any other.
    char list[8 * sizeof mask * 4] = "";
    size_t used = 0;
    for (unsigned b = 0; b < 8 * sizeof mask; b++)
        if (mask >> b & 1ul)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%u", used ? "," : "", b);
    char inner[160];
    int err = hm_policy_make(modes[mode], list, out, inner, sizeof inner);
    if (err)
        say(why, len, HM_ENV_LEGACY_MASK "=%s: %s", env->legacy_mask, inner);
    return err;
}

int hm_policy_parse(const hm_env_t *env, hm_policy_t *out, char *why, size_t len) {
    if (!env || !out) {
        say(why, len, "invalid arguments");
        return EINVAL;
    }
    if (!set(env->policy)) {
        if (set(env->legacy_mode))
            return parse_legacy(env, out, why, len);
        if (set(env->nodes)) {
            say(why, len, HM_ENV_NODES " is set but " HM_ENV_POLICY " is not");
            return EINVAL;
        }
        out->mode = HM_MODE_DEFAULT;
        nodeset_zero(&out->nodes);
        return 0;
    }
    hm_mode_t mode;
    if (hm_mode_parse(env->policy, &mode) != 0) {
        say(why, len,
            HM_ENV_POLICY "=\"%.32s\" is not a policy (default, membind, preferred, "
                          "preferred-many, interleave, weighted-interleave)",
            env->policy);
        return EINVAL;
    }
    char inner[200];
    int err = hm_policy_make(mode, env->nodes, out, inner, sizeof inner);
    if (err)
        say(why, len, HM_ENV_POLICY "=%s " HM_ENV_NODES "=\"%.64s\": %s", env->policy,
            env->nodes ? env->nodes : "", inner);
    return err ? EINVAL : 0;
}

// ---- the process's policy --------------------------------------------------------

static pthread_once_t policy_once = PTHREAD_ONCE_INIT;
static hm_policy_t policy; // written once, inside policy_once

static void policy_init(void) {
    hm_env_t env = {getenv(HM_ENV_POLICY), getenv(HM_ENV_NODES), getenv(HM_ENV_LEGACY_MODE),
                    getenv(HM_ENV_LEGACY_MASK)};
    char why[320];
    if (hm_policy_parse(&env, &policy, why, sizeof why) != 0) {
        static bool reported;
        log_write_once(&reported, LOG_LEVEL_ERROR, "hmalloc",
                       "%s; the hmalloc pool uses the default policy", why);
        policy.mode = HM_MODE_DEFAULT;
        nodeset_zero(&policy.nodes);
    }
    if (policy.mode != HM_MODE_DEFAULT) {
        char list[256];
        nodeset_format(&policy.nodes, list, sizeof list);
        LOG_INFO("hmalloc pool policy: %s %s", hm_mode_name(policy.mode), list);
    }
}

const hm_policy_t *hm_policy(void) {
    pthread_once(&policy_once, policy_init);
    return &policy;
}

// ---- the binding ------------------------------------------------------------------

static pthread_once_t binding_once = PTHREAD_ONCE_INIT;
static hm_binding_t binding; // written once, inside binding_once

static void binding_init(void) {
    const hm_policy_t *pol = hm_policy();
    binding.mpol = hm_modes[pol->mode].mpol;
    binding.nodes = pol->nodes;
    if (binding.mpol != OS_MPOL_PREFERRED_MANY || os_mpol_supported(OS_MPOL_PREFERRED_MANY))
        return;
    unsigned first = (unsigned)nodeset_next(&pol->nodes, 0);
    nodeset_zero(&binding.nodes);
    nodeset_set(&binding.nodes, first);
    binding.mpol = OS_MPOL_PREFERRED;
    LOG_WARN("the kernel lacks MPOL_PREFERRED_MANY (Linux 5.15+); the hmalloc pool and hmmap "
             "prefer node %u only (MPOL_PREFERRED)",
             first);
}

const hm_binding_t *hm_binding(void) {
    pthread_once(&binding_once, binding_init);
    return &binding;
}
