// SPDX-License-Identifier: MIT
// The replay mode of the fuzz targets (a gcc build runs them as ctest
// tests): HETMEM_FUZZ_RUNS generated inputs from HETMEM_FUZZ_SEED (or the
// suite's HETMEM_TEST_SEED), the seed printed so that a run replays.
#ifndef HETMEM_FUZZ_REPLAY_H
#define HETMEM_FUZZ_REPLAY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t fuzz_rng;

static inline uint32_t fuzz_next(void) { // xorshift64*
    fuzz_rng ^= fuzz_rng >> 12;
    fuzz_rng ^= fuzz_rng << 25;
    fuzz_rng ^= fuzz_rng >> 27;
    return (uint32_t)((fuzz_rng * UINT64_C(2685821657736338717)) >> 32);
}

/// Seeds fuzz_next and returns the number of inputs to run; prints both.
static inline long fuzz_replay_start(const char *name, long default_runs) {
    const char *e = getenv("HETMEM_FUZZ_RUNS"), *s = getenv("HETMEM_FUZZ_SEED");
    if (!s)
        s = getenv("HETMEM_TEST_SEED");
    long runs = e ? atol(e) : default_runs;
    fuzz_rng = s ? strtoull(s, NULL, 0) : UINT64_C(0x9e3779b97f4a7c15);
    if (!fuzz_rng)
        fuzz_rng = 1;
    printf("%s: seed %llu, %ld runs (HETMEM_FUZZ_SEED=%llu replays it)\n", name,
           (unsigned long long)fuzz_rng, runs, (unsigned long long)fuzz_rng);
    fflush(stdout);
    return runs;
}

#endif
