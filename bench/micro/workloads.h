// SPDX-License-Identifier: MIT
// The timed workloads (workloads.c) and the mixed trace of the peak-RSS
// measurement, as the driver (alloc_bench.c) calls them.
#ifndef HETMEM_BENCH_MICRO_WORKLOADS_H
#define HETMEM_BENCH_MICRO_WORKLOADS_H

#include "bench.h"

/// Size range and live window of a windowed workload.
typedef struct wl_shape_t {
    const char *name;  ///< CSV/JSON key
    const char *desc;  ///< for the report
    size_t lo, hi;     ///< sizes, uniform in [lo, hi]
    uint32_t window;   ///< live slots per thread
} wl_shape_t;

extern const wl_shape_t wl_shapes[WL_COUNT];

/// Starts the persistent worker threads (once; at most `n`). Every trial
/// runs on these same threads, so thread caches stay warm between trials,
/// as in a long-running program, and no trial pays thread exit.
void wl_workers_start(unsigned n);

/// Runs one trial of `wl` (not WL_RSS) for `time_ns` on `threads` threads
/// (WL_XTHREAD: threads/2 producer/consumer pairs, at least one). Every
/// allocator gets the same sizes and slots for the same seed. Returns
/// Mops/s, one op being one malloc or one free, or a negative value when
/// the allocator returned NULL (failed is then filled).
double wl_run(bench_wl_t wl, const bench_alloc_t *a, unsigned threads, uint64_t time_ns,
              uint64_t seed, char *failed, size_t failed_len);

/// Result of the mixed trace (KiB from /proc/self/status).
typedef struct rss_result_t {
    long base_kib;   ///< VmRSS after set-up, before the trace
    long hwm_kib;    ///< VmHWM at the end of the trace (reset to base first)
    long after_kib;  ///< VmRSS once every block is freed again
    long live_kib;   ///< most bytes live at once (requested sizes)
    bool hwm_reset;  ///< /proc/self/clear_refs accepted the peak reset
} rss_result_t;

/// The mixed trace, in the calling (freshly executed) process: grow to
/// `16384 * scale` live blocks of mixed sizes (90% 16-512 B, 9.5% 1-64 KiB,
/// 0.5% 64 KiB-1 MiB; one byte written per page), free 90% of them and
/// churn over the rest, then regrow with larger small sizes. Returns 0, or
/// -1 when the allocator returned NULL.
int wl_rss_trace(const bench_alloc_t *a, double scale, uint64_t seed, rss_result_t *out);

#endif // HETMEM_BENCH_MICRO_WORKLOADS_H
