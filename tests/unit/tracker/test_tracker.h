// SPDX-License-Identifier: MIT
// Shared by the address map's tests: entry values derived from the start
// (so a torn or misattributed entry is detectable), random numbers, the
// sanitizer scale, and the tests that live in test_tracker_mt.c.
#ifndef HETMEM_TEST_TRACKER_H
#define HETMEM_TEST_TRACKER_H

#include <stdint.h>
#include <stdlib.h>

#include "tracker/tracker.h"

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define TT_SANITIZED 1
#else
#define TT_SANITIZED 0
#endif

// Values every test stores for a range starting at s.
static inline void *tt_pool_of(uintptr_t s) { return (void *)(s ^ 0x5a5a000000000005ull); }
static inline void *tt_prov_of(uintptr_t s) { return (void *)(s ^ 0xa5a5000000000007ull); }
static inline void *tt_meta_of(uintptr_t s) { return (void *)~s; }

static inline tracker_entry_t tt_entry(uintptr_t start, size_t size) {
    return (tracker_entry_t){start, size, tt_pool_of(start), tt_prov_of(start), tt_meta_of(start)};
}

// xorshift64*: fast, per-thread state, never 0.
static inline uint64_t tt_rand(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

// A scale factor for run time and sizes: 1 in plain builds, smaller under
// sanitizers; TRACKER_TEST_SCALE (percent) overrides it.
static inline double tt_scale(void) {
    const char *e = getenv("TRACKER_TEST_SCALE");
    if (e && *e)
        return atof(e) / 100.0;
    return TT_SANITIZED ? 0.25 : 1.0;
}

void tt_concurrent_churn(void **state);
void tt_concurrent_churn_sparse(void **state);
void tt_lookup_cost(void **state);

#endif // HETMEM_TEST_TRACKER_H
