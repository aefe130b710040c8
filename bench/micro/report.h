// SPDX-License-Identifier: MIT
// The results of one benchmark run and their reports (report.c): the
// table on stdout, results.csv, results.json and results.md, and the
// issue's targets judged from the medians.
#ifndef HETMEM_BENCH_MICRO_REPORT_H
#define HETMEM_BENCH_MICRO_REPORT_H

#include "bench.h"

#define MAX_CFGS 48
#define MAX_ROUNDS 64

/// One measured configuration: a workload at a thread count.
typedef struct bench_cfg_t {
    bench_wl_t wl;
    unsigned threads; ///< threads (WL_XTHREAD: producers + consumers)
} bench_cfg_t;

/// Everything one run measured. val is Mops/s (WL_RSS: peak MiB above the
/// baseline); NaN where a pair was not run or failed.
typedef struct bench_results_t {
    bench_alloc_t alloc[BENCH_MAX_ALLOCS];
    unsigned nalloc;
    bench_cfg_t cfg[MAX_CFGS];
    unsigned ncfg;
    unsigned rounds, warmup;
    double val[MAX_CFGS][BENCH_MAX_ALLOCS][MAX_ROUNDS];
    // The RSS rows' extra figures (MiB), by allocator and round.
    double rss_after[BENCH_MAX_ALLOCS][MAX_ROUNDS];
    double rss_live[BENCH_MAX_ALLOCS][MAX_ROUNDS];
    double rss_base[BENCH_MAX_ALLOCS][MAX_ROUNDS];
    char failed[BENCH_MAX_ALLOCS][160]; ///< first failure of an allocator ("" none)
    // How and where it ran.
    char command[512];
    char cpu[128];
    unsigned nproc;
    char load_start[64], load_end[64];
    double load_round[MAX_ROUNDS]; ///< 1-minute load average after each measured round
    char started[32];
    double seconds;
    double time_ms;
    double rss_scale;
    bool quick;
} bench_results_t;

/// Index of an allocator by name, or -1.
int bench_find(const bench_results_t *r, const char *name);

/// Prints the tables and the targets, writes results.{csv,json,md} under
/// dir. Returns 0, or -1 when a file could not be written.
int bench_report(const bench_results_t *r, const char *dir);

#endif // HETMEM_BENCH_MICRO_REPORT_H
