// SPDX-License-Identifier: MIT
// The address map: one global map from address ranges to their owner
// (pool, provider, engine metadata). Every chunk a tracked pool gets from a
// provider (and every allocation of the proxy pool) is registered here, so
// that one lookup answers umfPoolByPtr, umfFree, memkind_free(NULL, p),
// memkind_detect_kind, hfree, usable sizes and "where is the heap engine's
// metadata for this block".
//
// Concurrency: lookups are lock-free (no lock, no write to shared memory)
// and may run concurrently with inserts and removes from any thread;
// inserts and removes are serialized internally. A lookup returns a copy of
// the entry that was consistent at one instant (validated with a sequence
// counter), so a concurrent remove can never hand out a torn or recycled
// entry. Ranges never overlap; sizes are > 0.
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

/// Registers [e->start, e->start + e->size). Returns 0, EINVAL (size 0 or
/// the range wraps), EEXIST (overlaps a registered range) or ENOMEM.
int tracker_add(const tracker_entry_t *e);

/// Unregisters the range that starts exactly at `start`; its entry is copied
/// to *removed when not NULL. Returns 0 or ENOENT.
int tracker_remove(uintptr_t start, tracker_entry_t *removed);

/// Finds the range containing ptr (start <= ptr < start + size). Lock-free.
/// Returns true and fills *out, or false for a pointer in no range.
bool tracker_find(const void *ptr, tracker_entry_t *out);

/// Replaces the size of the range that starts at `start` (used when a pool
/// grows or shrinks a range in place, or by split/merge). The new range must
/// not overlap another. Returns 0, ENOENT or EEXIST.
int tracker_resize(uintptr_t start, size_t new_size);

/// Calls fn for every range owned by `pool` (to release them at pool
/// destruction). fn must not call tracker functions. Returns the count.
size_t tracker_for_each_of_pool(void *pool, void (*fn)(const tracker_entry_t *e, void *arg),
                                void *arg);

/// Number of registered ranges (for tests and statistics).
size_t tracker_count(void);

#endif // HETMEM_TRACKER_TRACKER_H
