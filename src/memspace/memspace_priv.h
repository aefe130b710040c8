// SPDX-License-Identifier: MIT
// Internal view of the memspace layer (src/memspace): memory targets,
// memspaces, policies and the predefined memspaces, shared by the files of
// the layer and by hetmem-info and the tests.
//
// Glossary
//   target      a NUMA node with memory (the only kind of memory target)
//   memspace    an ordered set of targets, no node twice; the order is the
//               node list order of providers made from it
//   predefined  a memspace the library computes on first use with the
//               node-selection engine (memspace_nodes.h) and owns (HostAll,
//               HighestCapacity, HighestBandwidth, LowestLatency);
//               immutable, never freed before exit
//   initiator   the NUMA node of the CPU that first asked for a predefined
//               memspace: HMAT figures are read as seen from it
#ifndef HETMEM_MEMSPACE_MEMSPACE_PRIV_H
#define HETMEM_MEMSPACE_MEMSPACE_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umf/memspace.h>
#include <umf/mempolicy.h>
#include <umf/memtarget.h>

#include "base/handle.h"
#include "base/nodeset.h"
#include "topology/topo.h"

// Handles of the layer carry a tag first (base/handle.h): garbage and
// destroyed handles are refused on entry, and a destroyed handle's block
// stays in its type's graveyard.
#define MEMTARGET_TAG 0x5447544du // "MTGT" in memory order
#define MEMSPACE_TAG 0x4350534du  // "MSPC" in memory order
#define MEMPOLICY_TAG 0x4c4f504du // "MPOL" in memory order

/// A memory target. Each lives in its own block, so that a handle a caller
/// holds stays valid while other targets are added or removed.
struct umf_memtarget_t {
    handle_hdr_t hdr;          // MEMTARGET_TAG while in a memspace
    umf_memtarget_type_t type; // UMF_MEMTARGET_TYPE_NUMA
    unsigned id;               // the NUMA node id
};

/// A memspace: `n` targets in order (targets[0 .. n-1]), in an array of
/// `cap` slots in meta memory. Not thread-safe (as in UMF) except the
/// predefined ones, which never change after they are published.
struct umf_memspace_t {
    handle_hdr_t hdr; // MEMSPACE_TAG while it lives
    struct umf_memtarget_t **targets;
    size_t n;
    size_t cap;
    bool predefined; // owned by memspace_predefined.c: Destroy and changes refused
};

/// A policy: its binding and the settings that belong to it.
struct umf_mempolicy_t {
    handle_hdr_t hdr;                        // MEMPOLICY_TAG while it lives
    umf_mempolicy_membind_t type;
    size_t part_size;                        // INTERLEAVE: bytes per part, 0: pages
    umf_mempolicy_split_partition_t *parts;  // SPLIT: parts_len entries or NULL
    size_t parts_len;
};

/// Entry checks: true for a live handle; otherwise one log line naming `fn`.
bool memtarget_ok(umf_const_memtarget_handle_t t, const char *fn);
bool memspace_ok(umf_const_memspace_handle_t ms, const char *fn);
bool mempolicy_ok(umf_const_mempolicy_handle_t p, const char *fn);

/// A zeroed block for a new handle of the layer: a retired one of its type
/// (graveyard `g`) or fresh meta memory; NULL when out of memory.
void *memspace_handle_alloc(handle_graveyard_t *g, size_t size);

/// false, with one log line naming fn and `what`, when out is NULL.
bool memspace_out_ok(const void *out, const char *what, const char *fn);

// ---- memtarget.c ------------------------------------------------------------------

/// A NUMA target for node `id` (not checked against the topology).
umf_result_t memtarget_create_numa(unsigned id, struct umf_memtarget_t **out);

umf_result_t memtarget_clone(const struct umf_memtarget_t *t, struct umf_memtarget_t **out);

void memtarget_destroy(struct umf_memtarget_t *t);

/// Same kind and same node.
bool memtarget_equal(const struct umf_memtarget_t *a, const struct umf_memtarget_t *b);

// ---- memspace.c --------------------------------------------------------------------

/// An empty, non-predefined memspace.
umf_result_t memspace_create(struct umf_memspace_t **out);

/// A memspace of the nodes of `nodes`, in ascending id order.
umf_result_t memspace_from_nodeset(const nodeset_t *nodes, struct umf_memspace_t **out);

/// Frees a memspace whatever its kind (predefined ones at test reset only).
void memspace_free(struct umf_memspace_t *ms);

/// True when a target for node `id` is in the memspace.
bool memspace_has_node(const struct umf_memspace_t *ms, unsigned id);

#include "memspace/memspace_predefined.h" // the predefined memspaces

#endif // HETMEM_MEMSPACE_MEMSPACE_PRIV_H
