// SPDX-License-Identifier: MIT
// memtier (memkind_memtier.h) over the memkind front end: builders, tiered
// memories, their policies and the per-kind allocated-size counters
// (docs/memkind.md, "memtier").
#ifndef HETMEM_FRONTEND_MEMTIER_MT_PRIV_H
#define HETMEM_FRONTEND_MEMTIER_MT_PRIV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memkind_memtier.h>

#include "base/lock.h"

/// Most tiers of one builder (each is a distinct kind).
#define MT_MAX_TIERS 64u

// DYNAMIC_THRESHOLD defaults (libmemtier(3)): check every 20 operations,
// move a threshold when the ratio is 2 % off, by 15 % of its value;
// threshold i starts at 1024 * (i + 1) within [1024 * i + 512, 1024 * i + 1535].
#define MT_CHECK_CNT 20u
#define MT_TRIGGER 0.02f
#define MT_DEGREE 0.15f
#define MT_STEP 1024u

typedef struct mt_tier_t {
    memkind_t kind;
    unsigned ratio; ///< the weight given to memtier_builder_add_tier (> 0)
} mt_tier_t;

/// A threshold between tier i and tier i + 1: a size below `val` goes to
/// tier i (or lower), at or above it to a higher tier.
typedef struct mt_threshold_t {
    _Atomic size_t val; ///< moved by mt_dynamic_update; read by any thread
    size_t min, max;
    float diff;         ///< |current - expected ratio| at the last check (update lock)
} mt_threshold_t;

typedef struct mt_config_t {
    memtier_policy_t policy;
    unsigned ntiers;
    mt_tier_t tiers[MT_MAX_TIERS];
    mt_threshold_t thresholds[MT_MAX_TIERS - 1]; ///< ntiers - 1 used (DYNAMIC_THRESHOLD)
    unsigned check_cnt;
    float trigger, degree;
} mt_config_t;

struct memtier_builder {
    uint64_t magic; ///< MT_BUILDER_MAGIC while alive
    mt_config_t cfg;
};

struct memtier_memory {
    uint64_t magic; ///< MT_MEMORY_MAGIC while alive
    mt_config_t cfg;
    atomic_uint countdown; ///< operations until the next threshold check
    lock_t update;         ///< one threshold check at a time (lock_try: others skip)
};

#define MT_BUILDER_MAGIC 0x6d746275696c6421ull // "mtbuild!"
#define MT_MEMORY_MAGIC 0x6d746d656d6f7279ull  // "mtmemory"

/// The kind a tiered memory gives a request of `size` bytes.
memkind_t mt_pick(struct memtier_memory *m, size_t size);
/// After each operation on m: the DYNAMIC_THRESHOLD check every check_cnt.
void mt_after_op(struct memtier_memory *m);
/// Checks a builder's thresholds before a memory is made of it; false
/// (logged) when they are inconsistent.
bool mt_thresholds_valid(const mt_config_t *cfg);

/// The per-kind counters of memtier_kind_allocated_size.
void mt_count_add(memkind_t kind, size_t bytes);
void mt_count_sub(memkind_t kind, size_t bytes);
/// The kind's count as the policies see it: flushed bytes plus this
/// thread's own share (cheap; other threads' unflushed bytes are missing).
uint64_t mt_count_peek(memkind_t kind);
/// The exact count: every thread's share flushed first.
uint64_t mt_count_exact(memkind_t kind);
/// A kind the counters can index (its registry number is in range).
bool mt_kind_ok(memkind_t kind, const char *fn);

#endif // HETMEM_FRONTEND_MEMTIER_MT_PRIV_H
