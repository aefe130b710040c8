// SPDX-License-Identifier: MIT
// Shared pieces of the allocator micro-benchmark (bench/micro): the
// allocator table every workload calls through, the compiler barrier that
// keeps allocations alive (jemalloc test/include/test/bench.h), the clock
// and the deterministic generator that gives every allocator the same
// sequence of sizes and slots.
#ifndef HETMEM_BENCH_MICRO_BENCH_H
#define HETMEM_BENCH_MICRO_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/// Workloads (bit positions in bench_alloc_t.workloads).
typedef enum bench_wl_t {
    WL_SMALL,    ///< 16-512 B, random sizes, random free order over a window
    WL_MEDIUM,   ///< 1-64 KiB, same pattern
    WL_LARGE,    ///< 256 KiB-16 MiB, same pattern, one thread
    WL_LARGE64K, ///< 64 KiB-1 MiB, same pattern
    WL_XTHREAD,  ///< producer/consumer pairs: one thread allocates, the other frees
    WL_RSS,      ///< peak RSS of a mixed trace, each allocator in its own process
    WL_COUNT
} bench_wl_t;

#define WL_BIT(w) (1u << (w))
#define WL_ALL (WL_BIT(WL_COUNT) - 1)

/// One allocator as the workloads see it. Every allocator - ours and the
/// peers - is called through these two pointers, so each pays the same
/// indirect call (about what a PLT call into a shared library costs).
typedef struct bench_alloc_t {
    const char *name;                        ///< short name: table column, CSV/JSON key
    const char *api;                         ///< what is called, for the report
    void *(*alloc)(void *ctx, size_t size);  ///< never NULL when available
    void (*release)(void *ctx, void *p);     ///< frees p (aborts on a reported error)
    void *ctx;                               ///< pool handle, kind, ... (or NULL)
    unsigned workloads;                      ///< WL_BIT() mask of what it runs
    bool ours;                               ///< a hetmem pool
    char origin[192];                        ///< the object the code came from
    char skip[192];                          ///< why it is unavailable ("" if usable)
} bench_alloc_t;

#define BENCH_MAX_ALLOCS 16

/// Fills `out` with every allocator (unavailable ones carry a reason in
/// skip) and returns how many. only != NULL: set up just that one (the RSS
/// child loads nothing else). Never fails: a peer that does not load is
/// reported, not fatal.
unsigned bench_allocs_init(bench_alloc_t *out, const char *only);

/// Destroys the pools made by bench_allocs_init.
void bench_allocs_fini(bench_alloc_t *a, unsigned n);

/// Version strings of the peers that were loaded (for the report).
const char *bench_version(const char *name);

/// Aborts with a message: a benchmark that silently measures a failing
/// allocator would report nonsense.
__attribute__((noreturn, cold, format(printf, 1, 2))) void bench_die(const char *fmt, ...);

/// The compiler may not assume anything about *p after this, nor drop the
/// allocation that produced it.
static inline void no_opt_ptr(void *p) { __asm__ volatile("" : : "r"(p) : "memory"); }

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/// xorshift64*: cheap, and the same seed gives every allocator the same
/// sequence of sizes and slots.
static inline uint64_t rng_next(uint64_t *s) {
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/// A value in [0, n) from the high 32 bits of r (n < 2^32).
static inline uint32_t rng_below(uint64_t r, uint32_t n) {
    return (uint32_t)(((r >> 32) * (uint64_t)n) >> 32);
}

/// A size in [lo, hi], uniform, from the low 32 bits of r.
static inline size_t rng_size(uint64_t r, size_t lo, size_t hi) {
    return lo + (size_t)((((uint64_t)(uint32_t)r) * (uint64_t)(hi - lo + 1)) >> 32);
}

#endif // HETMEM_BENCH_MICRO_BENCH_H
