// SPDX-License-Identifier: MIT
// The address map: one global map from address ranges to their owner
// (pool, provider, engine metadata). Every chunk a tracked pool gets from a
// provider (and every allocation of the proxy pool) is registered here, so
// that one lookup answers umfPoolByPtr, umfFree, memkind_free(NULL, p),
// memkind_detect_kind, hfree, usable sizes and "where is the heap engine's
// metadata for this block".
//
// Concurrency: lookups are lock-free (no lock, no write to shared memory)
// and may run concurrently with inserts, removes and resizes from any
// thread; those are serialized internally by one mutex. A lookup returns a
// copy of one registered range's entry, never a torn or recycled one
// (recycling is validated with a generation counter; see tracker.c). A
// range that stays registered during a lookup is always found; a lookup
// racing with the add, remove or resize of the range that holds ptr returns
// either that range's entry (before or after the change) or nothing.
// Sizes are > 0; ranges lie below 2^56 (the x86-64 user address space,
// 5-level paging included).
//
// Nesting (UMF's rule, docs/providers-pools.md): memory a pool hands out
// may back another pool (a fixed provider over a block, a pool over memory
// a proxy library serves from a pool). A range that lies inside a
// registered range is registered one level deeper, up to TRACKER_LEVELS
// (8) levels; ranges of one level never overlap, and a range that overlaps
// another without lying inside it is refused. A lookup answers the
// innermost range that contains the pointer. A range is removed only when
// no nested range is left inside it (EBUSY otherwise).
#ifndef HETMEM_TRACKER_TRACKER_H
#define HETMEM_TRACKER_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// What the map stores for one range. The pointers are opaque to the map.
typedef struct tracker_entry_t {
    uintptr_t start; // first byte of the range
    size_t size;     // bytes in the range (> 0)
    void *pool;      // the owning umf_memory_pool_handle_t (or front-end object)
    void *provider;  // the umf_memory_provider_handle_t the range came from
    void *meta;      // the pool engine's own metadata for the range (may be NULL)
} tracker_entry_t;

/// Registers [e->start, e->start + e->size), nested in the ranges that
/// hold it. Returns 0, EINVAL (e NULL, size 0, or the range wraps or reaches
/// past 2^56), EEXIST (overlaps a registered range without lying inside it,
/// or would be a ninth level) or ENOMEM (the map is unchanged).
int tracker_add(const tracker_entry_t *e);

/// Unregisters the innermost range that starts exactly at `start` and
/// belongs to `owner` (its entry's pool; any when NULL); its entry is
/// copied to *removed when not NULL. Returns 0, ENOENT, or EBUSY (ranges
/// are still nested inside it; nothing changes).
int tracker_remove_of(uintptr_t start, const void *owner, tracker_entry_t *removed);
/// tracker_remove_of(start, NULL, removed).
int tracker_remove(uintptr_t start, tracker_entry_t *removed);

/// Under the writers' lock: the innermost range that starts exactly at
/// `start` and belongs to `owner` (any when NULL). False when none.
bool tracker_get_of(uintptr_t start, const void *owner, tracker_entry_t *out);

/// Finds the innermost range containing ptr (start <= ptr < start + size). Lock-free.
/// Returns true and fills *out, or false (and leaves *out alone) for a
/// pointer in no range, including any pointer >= 2^56.
bool tracker_find(const void *ptr, tracker_entry_t *out);

/// Replaces the size of the innermost range that starts at `start` and
/// belongs to `owner` (any when NULL): a pool grows or shrinks a range in
/// place, or split/merge. The new range must not overlap another of its
/// level, must stay inside the range it is nested in and keep the ranges
/// nested in it. Returns 0, ENOENT, EEXIST or EINVAL (new_size 0, or the
/// range would wrap or reach past 2^56); allocates nothing.
int tracker_resize_of(uintptr_t start, const void *owner, size_t new_size);
/// tracker_resize_of(start, NULL, new_size).
int tracker_resize(uintptr_t start, size_t new_size);

/// Calls fn (when not NULL) for every range owned by `pool`, innermost
/// level first, each level in address order (to release them at pool
/// destruction). O(number of ranges), under
/// the writers' lock: fn must not call tracker functions. Returns the count.
size_t tracker_for_each_of_pool(void *pool, void (*fn)(const tracker_entry_t *e, void *arg),
                                void *arg);

/// Whether a range was ever registered inside another (nesting exists in
/// the process). Lock-free, one load.
bool tracker_nested(void);

/// Number of registered ranges (for tests and statistics).
size_t tracker_count(void);

#endif // HETMEM_TRACKER_TRACKER_H
