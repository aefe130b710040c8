// SPDX-License-Identifier: MIT
// Test support for range_alloc (range_alloc_check.c): a consistency check
// and counters, read from the allocator's internals.
#ifndef HETMEM_TESTS_RANGE_ALLOC_CHECK_H
#define HETMEM_TESTS_RANGE_ALLOC_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "providers/range_alloc.h"

/// Counters of one allocator (taken under its lock, so consistent).
typedef struct range_alloc_stats_t {
    size_t total;         // bytes in all regions
    size_t allocated;     // bytes in allocated ranges
    size_t free;          // bytes in free ranges (total - allocated)
    size_t free_ranges;   // number of free ranges
    size_t used_ranges;   // number of allocated ranges
    size_t largest_free;  // size of the largest free range (0 if none)
    size_t regions;       // number of regions
} range_alloc_stats_t;

/// Fills *st with the allocator's counters.
void range_alloc_stats(range_alloc_t *ra, range_alloc_stats_t *st);

/// Checks every internal invariant (tree order, augmented sizes, no overlap,
/// full coalescing, counters); true when consistent.
bool range_alloc_check(range_alloc_t *ra);

#endif // HETMEM_TESTS_RANGE_ALLOC_CHECK_H
