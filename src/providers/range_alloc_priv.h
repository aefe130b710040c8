// SPDX-License-Identifier: MIT
// Inside range_alloc (range_alloc.c: the trees and the public functions;
// tests/unit/providers_coarse/range_alloc_check.c: the consistency check).
#ifndef HETMEM_PROVIDERS_RANGE_ALLOC_PRIV_H
#define HETMEM_PROVIDERS_RANGE_ALLOC_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lock.h"
#include "providers/range_alloc.h"

typedef struct node_t {
    uintptr_t addr;       // first byte of the range
    size_t size;          // bytes (> 0)
    size_t max;           // free tree: max size in this subtree; unused in the used tree
    struct node_t *l, *r; // children: lower / higher addresses
    uint32_t prio;        // heap priority: a parent's is >= its children's
} node_t;

// Nodes come in chunks of CHUNK_BYTES from meta_alloc; the chunk header
// links them so that destroy can return them all.
#define CHUNK_BYTES 4096
typedef struct chunk_t {
    struct chunk_t *next;
} chunk_t;
#define NODES_PER_CHUNK ((CHUNK_BYTES - sizeof(node_t)) / sizeof(node_t))

typedef struct region_t {
    uintptr_t base;
    size_t size;
} region_t;

// After this many lowest-address candidates that are large enough but miss
// the alignment, the search falls back to the first range that fits with
// any alignment padding (see find_fit).
#define FIT_BUDGET 64

struct range_alloc_t {
    lock_t lock;          // LOCK_RANK_RANGE_ALLOC
    // Everything below is protected by: lock.
    node_t *free_root;
    node_t *used_root;
    node_t *spare;      // recycled nodes, linked through ->r
    chunk_t *chunks;    // every chunk, for destroy
    region_t *regions;  // sorted by base, non-overlapping
    size_t nregions;
    size_t cap_regions;
    size_t total;       // bytes in all regions
    size_t allocated;   // bytes in allocated ranges
    size_t nfree;       // number of free ranges
    size_t nused;       // number of allocated ranges
    uint32_t rng;       // xorshift state for priorities
};

size_t range_alloc_max3(size_t a, size_t b, size_t c);
/// The node with the largest addr <= key, or NULL.
node_t *range_alloc_floor(node_t *t, uintptr_t key);
/// Index of the first region whose base is > addr (0..nregions).
size_t range_alloc_region_upper(const range_alloc_t *ra, uintptr_t addr);
/// True when addr is the first byte of a region.
bool range_alloc_is_region_base(const range_alloc_t *ra, uintptr_t addr);

#endif // HETMEM_PROVIDERS_RANGE_ALLOC_PRIV_H
