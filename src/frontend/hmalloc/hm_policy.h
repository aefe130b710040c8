// SPDX-License-Identifier: MIT
// The hmalloc pool's memory policy and the environment protocol between
// hmctl(8) and libhmalloc. hmctl validates its options and exports
//
//   HMALLOC_POLICY  default | membind | preferred | preferred-many |
//                   interleave | weighted-interleave
//   HMALLOC_NODES   the node list, "0-3,70" (ids up to NODESET_MAX - 1; the
//                   numactl syntax, "all" and "!LIST" included, is accepted
//                   too); empty or unset for "default"
//
// and the library reads them once, on first use. A list string carries any
// number of nodes, unlike HMSDK's HMALLOC_NODEMASK (one unsigned long, 64
// nodes). The HMSDK variables HMALLOC_MPOL_MODE (the kernel's MPOL_*
// number) and HMALLOC_NODEMASK (decimal bit mask) are read when
// HMALLOC_POLICY is unset, so that a program started by HMSDK's hmctl gets
// the policy it asked for. Both sides validate the nodes against the
// topology layer (topo_parse_nodestring: libnuma's syntax, our topology;
// libnuma's own parser prints warnings to stderr and checks the real /sys,
// which fake topologies and the guests' HWLOC_FSROOT would not see).
#ifndef HETMEM_FRONTEND_HMALLOC_HM_POLICY_H
#define HETMEM_FRONTEND_HMALLOC_HM_POLICY_H

#include <stddef.h>

#include <umf/providers/provider_os_memory.h>

#include "base/nodeset.h"
#include "memspace/memspace_nodes.h"
#include "os/os.h"

#define HM_ENV_POLICY "HMALLOC_POLICY"
#define HM_ENV_NODES "HMALLOC_NODES"
#define HM_ENV_LEGACY_MODE "HMALLOC_MPOL_MODE"   // HMSDK hmctl
#define HM_ENV_LEGACY_MASK "HMALLOC_NODEMASK"    // HMSDK hmctl

/// The policies hmctl offers, one per option.
typedef enum hm_mode_t {
    HM_MODE_DEFAULT,             ///< no binding: the thread's policy (as malloc)
    HM_MODE_BIND,                ///< -m: only the nodes (MPOL_BIND)
    HM_MODE_PREFERRED,           ///< -p: one node first (MPOL_PREFERRED)
    HM_MODE_PREFERRED_MANY,      ///< -P: the nodes first (MPOL_PREFERRED_MANY)
    HM_MODE_INTERLEAVE,          ///< -i: page by page over the nodes
    HM_MODE_WEIGHTED_INTERLEAVE, ///< -w: by the kernel's per-node weights
} hm_mode_t;

#define HM_MODE_COUNT 6

/// A mode as a row (memspace rule, mempolicy, pool configuration): hmctl's
/// nodes are checked by the node-selection engine (RULE_GIVEN), the pool's
/// OS provider binds with `numa` (plus weighted interleave), and the pool
/// is the heap engine's (hm_pool.c).
typedef struct hm_mode_row_t {
    const char *name;     ///< as HMALLOC_POLICY spells it
    memspace_rule_t rule; ///< NONE (default) or GIVEN
    umf_numa_mode_t numa; ///< the OS provider's mode
    os_mpol_t mpol;       ///< the kernel's mode (hmmap, and what the pool applies)
    bool weighted;        ///< weighted interleave (the kernel's node weights)
    bool single;          ///< exactly one node (preferred)
} hm_mode_row_t;

/// The rows, indexed by hm_mode_t.
extern const hm_mode_row_t hm_modes[HM_MODE_COUNT];

/// A policy: a mode and its nodes (empty for HM_MODE_DEFAULT; exactly one
/// for HM_MODE_PREFERRED; at least one otherwise; all exist).
typedef struct hm_policy_t {
    hm_mode_t mode;
    nodeset_t nodes;
} hm_policy_t;

/// The values of the variables (NULL: unset).
typedef struct hm_env_t {
    const char *policy;      // HMALLOC_POLICY
    const char *nodes;       // HMALLOC_NODES
    const char *legacy_mode; // HMALLOC_MPOL_MODE
    const char *legacy_mask; // HMALLOC_NODEMASK
} hm_env_t;

/// The name of a mode as HMALLOC_POLICY spells it ("membind", ...).
const char *hm_mode_name(hm_mode_t mode);

/// The mode a name spells. Returns 0 or EINVAL (*out untouched).
int hm_mode_parse(const char *name, hm_mode_t *out);

/// Builds a policy from a mode and a node string in numactl syntax (N,
/// N-M, N,M-K, all, !LIST, +N), checked against the topology. Returns 0,
/// or an errno value (EINVAL: malformed, no node, a node that does not
/// exist, several nodes for HM_MODE_PREFERRED; another value when the
/// topology cannot be discovered) with a one-line reason in why (which
/// may be NULL). *out is written only on success.
int hm_policy_make(hm_mode_t mode, const char *nodes, hm_policy_t *out, char *why, size_t len);

/// The policy the variables describe (see the file comment); unset
/// variables give HM_MODE_DEFAULT. Returns 0 or EINVAL with the reason,
/// naming the variable, in why. *out is written only on success.
int hm_policy_parse(const hm_env_t *env, hm_policy_t *out, char *why, size_t len);

/// The policy of this process: the environment read once, thread-safely,
/// on first call. A malformed setting is logged once (HETMEM_LOG=error
/// shows it) and gives HM_MODE_DEFAULT.
const hm_policy_t *hm_policy(void);

/// What the hmalloc pool and hmmap bind with: the kernel's mode and nodes.
typedef struct hm_binding_t {
    os_mpol_t mpol; ///< OS_MPOL_DEFAULT: no binding
    nodeset_t nodes;
} hm_binding_t;

/// The binding of hm_policy(), decided once per process: the row's mode,
/// except that preferred-many (one node or several) becomes MPOL_PREFERRED
/// on its first node, with one warning, where the kernel lacks
/// MPOL_PREFERRED_MANY (os_mpol_supported; before Linux 5.15).
const hm_binding_t *hm_binding(void);

#endif // HETMEM_FRONTEND_HMALLOC_HM_POLICY_H
