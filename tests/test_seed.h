// SPDX-License-Identifier: MIT
// Seeds of the randomised tests: every one is printed, and HETMEM_TEST_SEED
// (decimal or 0x hex) replays it.
//
//   uint64_t s = test_seed("mt_random");          // a fresh seed each run
//   uint64_t s = test_seed_or("stress", 12345);   // a fixed default seed
//
// A thread derives its own stream from the seed and its index (e.g.
// seed + id * 0x9e3779b97f4a7c15); the main thread prints and asserts.
#ifndef HETMEM_TEST_SEED_H
#define HETMEM_TEST_SEED_H

#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline uint64_t test_seed_pick(const char *what, uint64_t fallback, int fixed) {
    const char *e = getenv("HETMEM_TEST_SEED");
    uint64_t s = fallback;
    const char *from = fixed ? "fixed default" : "fresh";
    if (e && *e) {
        char *end;
        s = strtoull(e, &end, 0);
        from = "from HETMEM_TEST_SEED";
        if (*end) {
            fprintf(stderr, "HETMEM_TEST_SEED=%s is not a number\n", e);
            abort();
        }
    }
    printf("%s: seed %" PRIu64 " (%s; HETMEM_TEST_SEED=%" PRIu64 " replays it)\n", what, s,
           from, s);
    fflush(stdout);
    return s;
}

/// A fresh seed (time and pid), unless HETMEM_TEST_SEED is set; printed.
static inline uint64_t test_seed(const char *what) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t fresh = (uint64_t)ts.tv_sec * 1000000007u ^ (uint64_t)ts.tv_nsec ^
                     (uint64_t)getpid() << 40;
    return test_seed_pick(what, fresh, 0);
}

/// `fixed`, unless HETMEM_TEST_SEED is set; printed.
static inline uint64_t test_seed_or(const char *what, uint64_t fixed) {
    return test_seed_pick(what, fixed, 1);
}

/// The base seed of a test file whose random streams have fixed seeds: 0
/// (the streams the tests always used) unless HETMEM_TEST_SEED is set;
/// printed once per file. Safe to call from any thread.
static inline uint64_t test_seed_base(const char *what) {
    static atomic_int state; // 0 unset, 1 being set, 2 set
    static _Atomic uint64_t base;
    int expected = 0;
    if (atomic_load(&state) != 2) {
        if (atomic_compare_exchange_strong(&state, &expected, 1)) {
            atomic_store(&base, test_seed_or(what, 0));
            atomic_store(&state, 2);
        } else {
            while (atomic_load(&state) != 2)
                ;
        }
    }
    return atomic_load(&base);
}

/// One step of a xorshift64* stream: a small generator whose whole state is
/// *s (seed it with a non-zero value from test_seed*), so a run replays.
static inline uint32_t test_rng_next(uint64_t *s) {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * UINT64_C(2685821657736338717)) >> 32);
}

#endif // HETMEM_TEST_SEED_H
