// SPDX-License-Identifier: MIT
// range_alloc: the allocator of address ranges under the coarse core
// (coarse.h). It hands out [addr, addr+size) ranges of one or more regions,
// frees them with coalescing, and splits and merges allocated ranges
// (umfMemoryProviderAllocationSplit/Merge).
//
// Glossary
//   region  an address range given to the allocator (range_alloc_create,
//           range_alloc_add_region). Ranges never cross a region boundary:
//           neither coalescing nor merging joins two regions, because their
//           backing may differ (two mappings, two file segments).
//   range   a free or allocated [addr, addr+size) inside one region; sizes
//           are in bytes, exact (never rounded), and > 0.
//
// Metadata out of band (DESIGN.md): every node lives in meta_alloc memory;
// the allocator never reads or writes the managed addresses, so a region may
// be PROT_NONE, a device, a file mapping or memory the CPU cannot touch.
//
// Thread-safe: one lock per allocator (LOCK_RANK_RANGE_ALLOC; providers are
// the slow path).
// All functions return 0 or a positive errno value and write outputs only
// on success.
#ifndef HETMEM_PROVIDERS_RANGE_ALLOC_H
#define HETMEM_PROVIDERS_RANGE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct range_alloc_t range_alloc_t;

/// Creates an allocator whose first region is [base, base+size). size may
/// be 0 (no region yet: add one with range_alloc_add_region). EINVAL when
/// the region wraps around the address space or base is 0 with size > 0;
/// ENOMEM when metadata cannot be allocated.
int range_alloc_create(uintptr_t base, size_t size, range_alloc_t **out);

/// Destroys the allocator and its metadata (allocated ranges are forgotten;
/// the managed memory itself is never touched). NULL is ignored.
void range_alloc_destroy(range_alloc_t *ra);

/// Adds a separate region [base, base+size), all free. EINVAL for size 0,
/// a wrapping range or a range overlapping an existing region.
int range_alloc_add_region(range_alloc_t *ra, uintptr_t base, size_t size);

/// Grows the region that ends at `end` by `extra` bytes (the new part is
/// free and coalesces with a free range at the old end). Used by providers
/// that extend a mapping in place. EINVAL when no region ends at `end`, or
/// the grown region would overlap another or wrap.
int range_alloc_extend(range_alloc_t *ra, uintptr_t end, size_t extra);

/// Allocates `size` bytes (> 0) at an address that is a multiple of `align`
/// (a power of two; 0 or 1 means no constraint). The lowest-addressed range
/// that fits is used (address-ordered first fit). ENOMEM when no free range
/// fits (or metadata is exhausted), EINVAL for size 0 or a bad alignment.
int range_alloc_alloc(range_alloc_t *ra, size_t size, size_t align, uintptr_t *out);

/// Frees the allocated range that starts at addr. size must be the range's
/// size, or 0 for "the whole range at addr". EINVAL (state unchanged) when
/// no allocated range starts at addr or the size differs: double frees,
/// foreign pointers and interior pointers are all caught.
int range_alloc_free(range_alloc_t *ra, uintptr_t addr, size_t size);

/// Makes the allocated range [addr, addr+total) two allocated ranges of
/// `first` and `total - first` bytes (0 < first < total). EINVAL when no
/// allocated range [addr, addr+total) exists; ENOMEM without metadata.
int range_alloc_split(range_alloc_t *ra, uintptr_t addr, size_t total, size_t first);

/// Joins the adjacent allocated ranges at low and high (high == low + size
/// of low) into one of `total` bytes (the sum of both). EINVAL when they are
/// not two adjacent allocated ranges of one region or total is not the sum.
int range_alloc_merge(range_alloc_t *ra, uintptr_t low, uintptr_t high, size_t total);

/// Finds the allocated range containing addr (start <= addr < start+size).
/// Returns 0 and its start and size (either output may be NULL), or ENOENT.
int range_alloc_find(range_alloc_t *ra, uintptr_t addr, uintptr_t *start, size_t *size);

#endif // HETMEM_PROVIDERS_RANGE_ALLOC_H
