// SPDX-License-Identifier: MIT
// The memkind front end's read-only view of its static kinds, for
// hetmem-info (tools/hetmem-info/info_kinds.c): each kind's node rule and
// policy, its status, and the nodes it allocates from for a CPU node, as
// the front end's own heap of the kind has them (built as the first
// allocation would, without creating a pool). Nothing here decides nodes.
#ifndef HETMEM_FRONTEND_MEMKIND_MEMKIND_QUERY_H
#define HETMEM_FRONTEND_MEMKIND_MEMKIND_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <memkind.h>
#include <umf/providers/provider_os_memory.h>

#include "base/nodeset.h"
#include "memspace/memspace_nodes.h"

#define MK_QUERY_ENV_MAX 8

/// One static kind as hetmem-info reports it.
typedef struct mk_query_kind_t {
    const char *name;     ///< "MEMKIND_HBW"
    memkind_t kind;
    memspace_rule_t rule; ///< which nodes (memspace_nodes_select's rule)
    umf_numa_mode_t mode; ///< DEFAULT, BIND, PREFERRED or INTERLEAVE
    bool single;          ///< preferred kinds: exactly one node
    bool available;       ///< memkind_check_available == MEMKIND_SUCCESS
    bool built;           ///< false: no memory for the kind's heap (status MALLOC)
    int status;           ///< MEMKIND_SUCCESS, or why the kind cannot allocate
    /// status MEMKIND_ERROR_ENVIRON: the malformed variables the kind reads
    /// (MEMKIND_HBW_NODES for HBW kinds only...), NULL-terminated; may be empty.
    const char *bad_env[MK_QUERY_ENV_MAX];
} mk_query_kind_t;

/// The number of static kinds (memkind(3)'s list without the GBTLB kinds,
/// which were never supported).
size_t mk_query_count(void);

/// Kind i (0 .. mk_query_count() - 1, in memkind(3)'s order): calls
/// memkind_check_available, which builds the kind's heap. Returns 0, or
/// EINVAL for i out of range.
int mk_query_kind(size_t i, mk_query_kind_t *out);

/// The share of kind k for a thread on CPU node cpu_node (-1: the kind's
/// first share, the one kinds whose nodes do not depend on the CPU have):
/// its nodes in *nodes and its status (MEMKIND_SUCCESS or why that share
/// cannot allocate). MEMKIND_ERROR_MALLOC when the kind has no heap.
int mk_query_share(const mk_query_kind_t *k, int cpu_node, nodeset_t *nodes);

#endif // HETMEM_FRONTEND_MEMKIND_MEMKIND_QUERY_H
