// SPDX-License-Identifier: MIT
// The churn of the one-pair cost benchmarks (pair_cost, mk_free_cost): the
// `small` workload's sizes (16-512 B, a fixed xorshift sequence) and the
// thread's CPU clock, on which other jobs on the machine only add time.
#ifndef HETMEM_BENCH_CHURN_H
#define HETMEM_BENCH_CHURN_H

#include <stdint.h>
#include <time.h>

#define CHURN_SLOTS 1000     ///< live blocks
#define CHURN_SIZES (1 << 16) ///< sizes in the sequence (indexed & 0xffff)

static inline double churn_cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline void churn_sizes(uint16_t sizes[CHURN_SIZES]) {
    uint64_t x = 88172645463325252ull;
    for (unsigned i = 0; i < CHURN_SIZES; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        sizes[i] = (uint16_t)(16 + x % 497);
    }
}

#endif
