// SPDX-License-Identifier: MIT
// nodeset_t: a set of NUMA node ids (or CPU ids), a fixed bitmap of
// NODESET_MAX bits. Linux caps MAX_NUMNODES at 1 << CONFIG_NODES_SHIFT
// (at most 1024), so a fixed size carries every node a kernel can have
// without allocating; nothing in hetmem is limited to 64 nodes.
#ifndef HETMEM_BASE_NODESET_H
#define HETMEM_BASE_NODESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define NODESET_MAX 1024u
#define NODESET_WORDS (NODESET_MAX / 64u)

typedef struct nodeset_t {
    uint64_t w[NODESET_WORDS];
} nodeset_t;

static inline void nodeset_zero(nodeset_t *s) { memset(s, 0, sizeof *s); }

static inline bool nodeset_set(nodeset_t *s, unsigned n) {
    if (n >= NODESET_MAX)
        return false;
    s->w[n / 64] |= UINT64_C(1) << (n % 64);
    return true;
}

static inline void nodeset_clear(nodeset_t *s, unsigned n) {
    if (n < NODESET_MAX)
        s->w[n / 64] &= ~(UINT64_C(1) << (n % 64));
}

static inline bool nodeset_isset(const nodeset_t *s, unsigned n) {
    return n < NODESET_MAX && (s->w[n / 64] >> (n % 64)) & 1u;
}

/// Number of members.
unsigned nodeset_count(const nodeset_t *s);

/// Smallest member >= from, or -1 when there is none. Iterate with
///   for (int n = nodeset_next(s, 0); n >= 0; n = nodeset_next(s, n + 1))
int nodeset_next(const nodeset_t *s, unsigned from);

/// Highest member, or -1 for the empty set.
int nodeset_last(const nodeset_t *s);

static inline bool nodeset_empty(const nodeset_t *s) { return nodeset_next(s, 0) < 0; }

void nodeset_or(nodeset_t *dst, const nodeset_t *a, const nodeset_t *b);
void nodeset_and(nodeset_t *dst, const nodeset_t *a, const nodeset_t *b);
bool nodeset_equal(const nodeset_t *a, const nodeset_t *b);

/// Formats as a list with ranges, "0-3,7" ("" for the empty set). Returns the
/// length it needed (snprintf-like; the output is cut at len - 1).
size_t nodeset_format(const nodeset_t *s, char *buf, size_t len);

/// Parses a plain list ("0-3,7", whitespace and a trailing newline allowed),
/// the format of sysfs nodelist/cpulist files. Returns 0 or EINVAL (also for
/// an id >= NODESET_MAX), leaving *s untouched on error. For the numactl
/// syntax of user-given node strings ("all", "!", "+") use the topology
/// layer's topo_parse_nodestring (libnuma's parser).
int nodeset_parse_list(const char *str, nodeset_t *s);

/// Copies the set into an array of unsigned long words, the layout of the
/// nodemask arguments of the mbind and set_mempolicy system calls, with
/// maxnode = NODESET_MAX + 1.
void nodeset_to_ulongs(const nodeset_t *s, unsigned long *out, size_t nwords);

#endif // HETMEM_BASE_NODESET_H
