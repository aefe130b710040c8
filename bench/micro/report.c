// SPDX-License-Identifier: MIT
// Reports of a benchmark run: medians over rounds, ratios to jemalloc
// (paired: the median of the per-round ratios, so that a round slowed down
// by other load on the machine counts against every allocator alike), the
// console tables, results.csv (one row per workload, threads, allocator),
// rounds.csv (every measurement), results.json and results.md, and the
// issue's targets judged from the medians.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "workloads.h"

#ifndef BENCH_BUILD_TYPE
#define BENCH_BUILD_TYPE "unknown"
#endif
#ifndef HETMEM_DEBUG
#define HETMEM_DEBUG -1
#endif

int bench_find(const bench_results_t *r, const char *name) {
    for (unsigned i = 0; i < r->nalloc; i++)
        if (!strcmp(r->alloc[i].name, name))
            return (int)i;
    return -1;
}

// ---- statistics -------------------------------------------------------------------------

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/// Median of the finite values among v[0..n) (NaN when none).
static double median(const double *v, unsigned n) {
    double s[MAX_ROUNDS];
    unsigned m = 0;
    for (unsigned i = 0; i < n; i++)
        if (isfinite(v[i]))
            s[m++] = v[i];
    if (!m)
        return NAN;
    qsort(s, m, sizeof *s, cmp_double);
    return m % 2 ? s[m / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
}

static double vmin(const double *v, unsigned n) {
    double m = NAN;
    for (unsigned i = 0; i < n; i++)
        if (isfinite(v[i]) && !(v[i] >= m))
            m = v[i];
    return m;
}

static double vmax(const double *v, unsigned n) {
    double m = NAN;
    for (unsigned i = 0; i < n; i++)
        if (isfinite(v[i]) && !(v[i] <= m))
            m = v[i];
    return m;
}

/// Median over rounds of val[a]/val[b] (rounds where both ran).
static double paired_ratio(const bench_results_t *r, unsigned ci, int a, int b) {
    if (a < 0 || b < 0)
        return NAN;
    double q[MAX_ROUNDS];
    for (unsigned k = 0; k < r->rounds; k++)
        q[k] = r->val[ci][a][k] / r->val[ci][b][k];
    return median(q, r->rounds);
}

static double med(const bench_results_t *r, unsigned ci, int a) {
    return a < 0 ? NAN : median(r->val[ci][a], r->rounds);
}

static const char *unit(bench_wl_t wl) { return wl == WL_RSS ? "MiB" : "Mops/s"; }

static void cfg_label(const bench_cfg_t *c, char *out, size_t n) {
    if (c->wl == WL_RSS)
        snprintf(out, n, "rss MiB");
    else
        snprintf(out, n, "%s/%ut", wl_shapes[c->wl].name, c->threads);
}

/// An allocator with at least one result.
static bool ran(const bench_results_t *r, unsigned ai) {
    for (unsigned ci = 0; ci < r->ncfg; ci++)
        if (isfinite(med(r, ci, (int)ai)))
            return true;
    return false;
}

static int cfg_index(const bench_results_t *r, bench_wl_t wl, unsigned threads) {
    for (unsigned ci = 0; ci < r->ncfg; ci++)
        if (r->cfg[ci].wl == wl && (wl == WL_RSS || r->cfg[ci].threads == threads))
            return (int)ci;
    return -1;
}

// ---- targets ------------------------------------------------------------------------------

typedef struct target_t {
    char what[160];
    double measured, threshold;
    bool lower_is_better;
    const char *status; // MET, NOT MET, NOT MEASURABLE HERE
    char note[96];
} target_t;

#define MAX_TARGETS 128 // per pool at most 4 + MAX_CFGS

static target_t *new_target(target_t *t, unsigned *n) {
    target_t *x = &t[(*n)++];
    memset(x, 0, sizeof *x);
    return x;
}

static void judge(target_t *t) {
    if (!isfinite(t->measured))
        t->status = "NOT MEASURABLE HERE";
    else if (t->lower_is_better ? t->measured <= t->threshold : t->measured >= t->threshold)
        t->status = "MET";
    else
        t->status = "NOT MET";
}

/// The targets for each of our engine pools (scalable, disjoint).
static unsigned targets(const bench_results_t *r, target_t *t) {
    static const char *pools[] = {"scalable", "disjoint"};
    unsigned n = 0;
    int je = bench_find(r, "jemalloc"), mi = bench_find(r, "mimalloc");
    unsigned tl[] = {1, 2, 16};
    for (unsigned p = 0; p < 2; p++) {
        int a = bench_find(r, pools[p]);
        for (unsigned i = 0; i < 3; i++) {
            int ci = cfg_index(r, WL_SMALL, tl[i]);
            target_t *x = new_target(t, &n);
            snprintf(x->what, sizeof x->what, "%s small objects, %u thread(s): >= 0.8x mi_malloc",
                     pools[p], tl[i]);
            x->threshold = 0.8;
            x->measured = ci < 0 ? NAN : paired_ratio(r, (unsigned)ci, a, mi);
            if (tl[i] > r->nproc)
                snprintf(x->note, sizeof x->note, "needs %u cores, this machine has %u", tl[i],
                         r->nproc);
        }
        for (unsigned ci = 0; ci < r->ncfg; ci++)
            if (r->cfg[ci].wl == WL_XTHREAD) {
                target_t *x = new_target(t, &n);
                snprintf(x->what, sizeof x->what,
                         "%s cross-thread free, %u threads: >= 1.0x jemalloc", pools[p],
                         r->cfg[ci].threads);
                x->threshold = 1.0;
                x->measured = paired_ratio(r, ci, a, je);
            }
        char gname[32];
        snprintf(gname, sizeof gname, "%s-umffree", pools[p]);
        int g = bench_find(r, gname);
        for (unsigned ci = 0; ci < r->ncfg; ci++)
            if (r->cfg[ci].wl == WL_SMALL || r->cfg[ci].wl == WL_MEDIUM) {
                target_t *x = new_target(t, &n);
                snprintf(x->what, sizeof x->what,
                         "%s umfFree(p) >= 0.95x umfPoolFree(pool,p), %s %u thread(s)", pools[p],
                         wl_shapes[r->cfg[ci].wl].name, r->cfg[ci].threads);
                x->threshold = 0.95;
                x->measured = paired_ratio(r, ci, g, a);
            }
        int ci = cfg_index(r, WL_RSS, 1);
        target_t *x = new_target(t, &n);
        snprintf(x->what, sizeof x->what, "%s peak RSS, mixed trace: <= 1.1x jemalloc", pools[p]);
        x->threshold = 1.1;
        x->lower_is_better = true;
        x->measured = ci < 0 ? NAN : paired_ratio(r, (unsigned)ci, a, je);
        for (unsigned c = 0; c < r->ncfg; c++)
            if (r->cfg[c].wl == WL_LARGE64K) {
                x = new_target(t, &n);
                snprintf(x->what, sizeof x->what,
                         "%s large blocks 64 KiB-1 MiB, %u thread(s): >= 1.0x jemalloc", pools[p],
                         r->cfg[c].threads);
                x->threshold = 1.0;
                x->measured = paired_ratio(r, c, a, je);
            }
    }
    for (unsigned i = 0; i < n; i++)
        judge(&t[i]);
    return n;
}

// ---- console -------------------------------------------------------------------------------

static void print_matrix(const bench_results_t *r, bool ratio, FILE *f, bool md) {
    int je = bench_find(r, "jemalloc");
    char lab[32];
    if (md) {
        fprintf(f, "| %s |", ratio ? "ratio to jemalloc" : "Mops/s (rss: MiB)");
        for (unsigned ci = 0; ci < r->ncfg; ci++) {
            cfg_label(&r->cfg[ci], lab, sizeof lab);
            fprintf(f, " %s |", lab);
        }
        fprintf(f, "\n|---|");
        for (unsigned ci = 0; ci < r->ncfg; ci++)
            fprintf(f, "---:|");
        fputc('\n', f);
    } else {
        fprintf(f, "%-17s", ratio ? "x jemalloc" : "Mops/s | rss MiB");
        for (unsigned ci = 0; ci < r->ncfg; ci++) {
            cfg_label(&r->cfg[ci], lab, sizeof lab);
            fprintf(f, " %11s", lab);
        }
        fputc('\n', f);
    }
    for (unsigned ai = 0; ai < r->nalloc; ai++) {
        if (!ran(r, ai))
            continue;
        fprintf(f, md ? "| %s |" : "%-17s", r->alloc[ai].name);
        for (unsigned ci = 0; ci < r->ncfg; ci++) {
            double v = ratio ? paired_ratio(r, ci, (int)ai, je) : med(r, ci, (int)ai);
            if (md)
                fprintf(f, isfinite(v) ? " %.2f |" : " - |", v);
            else if (isfinite(v))
                fprintf(f, " %11.2f", v);
            else
                fprintf(f, " %11s", "-");
        }
        fputc('\n', f);
    }
}

static void print_rss(const bench_results_t *r, FILE *f, bool md) {
    int ci = cfg_index(r, WL_RSS, 1);
    if (ci < 0)
        return;
    if (md)
        fprintf(f, "| allocator | peak RSS MiB | x jemalloc | live peak MiB | after free MiB | "
                   "baseline MiB |\n|---|---:|---:|---:|---:|---:|\n");
    else
        fprintf(f, "%-17s %12s %10s %13s %14s %12s\n", "mixed trace", "peak RSS MiB",
                "x jemalloc", "live peak MiB", "after free MiB", "baseline MiB");
    int je = bench_find(r, "jemalloc");
    for (unsigned ai = 0; ai < r->nalloc; ai++) {
        double v = med(r, (unsigned)ci, (int)ai);
        if (!isfinite(v))
            continue;
        double q = paired_ratio(r, (unsigned)ci, (int)ai, je);
        double live = median(r->rss_live[ai], r->rounds);
        double after = median(r->rss_after[ai], r->rounds);
        double base = median(r->rss_base[ai], r->rounds);
        fprintf(f, md ? "| %s | %.1f | %.2f | %.1f | %.1f | %.1f |\n"
                      : "%-17s %12.1f %10.2f %13.1f %14.1f %12.1f\n",
                r->alloc[ai].name, v, q, live, after, base);
    }
}

static void print_targets(const target_t *t, unsigned n, FILE *f, bool md) {
    if (md)
        fprintf(f, "| target | measured | status |\n|---|---:|---|\n");
    for (unsigned i = 0; i < n; i++) {
        char m[32];
        if (isfinite(t[i].measured))
            snprintf(m, sizeof m, "%.2f", t[i].measured);
        else
            snprintf(m, sizeof m, "-");
        if (md)
            fprintf(f, "| %s | %s | %s%s%s%s |\n", t[i].what, m, t[i].status,
                    t[i].note[0] ? " (" : "", t[i].note, t[i].note[0] ? ")" : "");
        else
            fprintf(f, "  %-72s %6s  %s%s%s%s\n", t[i].what, m, t[i].status,
                    t[i].note[0] ? " (" : "", t[i].note, t[i].note[0] ? ")" : "");
    }
}

static void print_header(const bench_results_t *r, FILE *f, bool md) {
    const char *b = md ? "- " : "";
    fprintf(f, "%scommand: %s\n", b, r->command);
    fprintf(f, "%smachine: %u CPUs online, %s; load average %s at start, %s at end\n", b,
            r->nproc, r->cpu, r->load_start, r->load_end);
    fprintf(f, "%s1-minute load after each measured round:", b);
    for (unsigned k = 0; k < r->rounds; k++)
        fprintf(f, " %.2f", r->load_round[k]);
    fputc('\n', f);
    fprintf(f, "%srun: %s, %.0f s, %u measured rounds + %u warmup, %g ms per trial%s; "
               "hetmem build %s, HETMEM_DEBUG=%d\n",
            b, r->started, r->seconds, r->rounds, r->warmup, r->time_ms,
            r->quick ? " (--quick)" : "", BENCH_BUILD_TYPE, HETMEM_DEBUG);
    for (unsigned i = 0; i < r->nalloc; i++) {
        const bench_alloc_t *a = &r->alloc[i];
        const char *v = bench_version(a->ours ? "hetmem" : a->name);
        fprintf(f, "%s%-17s %s%s%s%s%s%s%s\n", b, a->name, a->api, a->origin[0] ? " from " : "",
                a->origin, v[0] ? " " : "", v, a->skip[0] ? " SKIPPED: " : "", a->skip);
        if (r->failed[i][0])
            fprintf(f, "%s%-17s FAILED: %s\n", b, a->name, r->failed[i]);
    }
}

// ---- files -------------------------------------------------------------------------------

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v) {
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static FILE *open_out(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "alloc_bench: cannot write %s\n", path);
    return f;
}

static int write_csv(const bench_results_t *r, const char *dir) {
    FILE *f = open_out(dir, "results.csv"), *g = open_out(dir, "rounds.csv");
    if (!f || !g) {
        if (f)
            fclose(f);
        if (g)
            fclose(g);
        return -1;
    }
    int je = bench_find(r, "jemalloc");
    fprintf(f, "workload,threads,allocator,unit,median,min,max,ratio_jemalloc,rounds\n");
    fprintf(g, "workload,threads,allocator,unit,round,value\n");
    for (unsigned ci = 0; ci < r->ncfg; ci++)
        for (unsigned ai = 0; ai < r->nalloc; ai++) {
            const double *v = r->val[ci][ai];
            double m = median(v, r->rounds);
            if (!isfinite(m))
                continue;
            unsigned n = 0;
            for (unsigned k = 0; k < r->rounds; k++) {
                n += isfinite(v[k]);
                if (isfinite(v[k]))
                    fprintf(g, "%s,%u,%s,%s,%u,%.6g\n", wl_shapes[r->cfg[ci].wl].name,
                            r->cfg[ci].threads, r->alloc[ai].name, unit(r->cfg[ci].wl), k, v[k]);
            }
            fprintf(f, "%s,%u,%s,%s,%.6g,%.6g,%.6g,%.6g,%u\n", wl_shapes[r->cfg[ci].wl].name,
                    r->cfg[ci].threads, r->alloc[ai].name, unit(r->cfg[ci].wl), m,
                    vmin(v, r->rounds), vmax(v, r->rounds), paired_ratio(r, ci, (int)ai, je), n);
        }
    int bad = ferror(f) | ferror(g);
    bad |= fclose(f) | fclose(g);
    return bad ? -1 : 0;
}

static int write_json(const bench_results_t *r, const char *dir, const target_t *t, unsigned nt) {
    FILE *f = open_out(dir, "results.json");
    if (!f)
        return -1;
    int je = bench_find(r, "jemalloc");
    fprintf(f, "{\n  \"schema\": \"hetmem-alloc-bench/1\",\n  \"command\": ");
    json_str(f, r->command);
    fprintf(f, ",\n  \"started\": ");
    json_str(f, r->started);
    fprintf(f, ",\n  \"seconds\": %.1f,\n  \"quick\": %s,\n", r->seconds,
            r->quick ? "true" : "false");
    fprintf(f, "  \"machine\": {\"nproc\": %u, \"cpu\": ", r->nproc);
    json_str(f, r->cpu);
    fprintf(f, ", \"loadavg_start\": ");
    json_str(f, r->load_start);
    fprintf(f, ", \"loadavg_end\": ");
    json_str(f, r->load_end);
    fprintf(f, ", \"load1_after_each_round\": [");
    for (unsigned k = 0; k < r->rounds; k++)
        fprintf(f, "%s%.2f", k ? ", " : "", r->load_round[k]);
    fprintf(f, "]},\n  \"settings\": {\"rounds\": %u, \"warmup\": %u, \"time_ms\": %g, "
               "\"rss_scale\": %g, \"build_type\": ",
            r->rounds, r->warmup, r->time_ms, r->rss_scale);
    json_str(f, BENCH_BUILD_TYPE);
    fprintf(f, ", \"hetmem_debug\": %d},\n  \"allocators\": [", HETMEM_DEBUG);
    for (unsigned i = 0; i < r->nalloc; i++) {
        const bench_alloc_t *a = &r->alloc[i];
        fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
        json_str(f, a->name);
        fprintf(f, ", \"api\": ");
        json_str(f, a->api);
        fprintf(f, ", \"origin\": ");
        json_str(f, a->origin);
        fprintf(f, ", \"version\": ");
        json_str(f, bench_version(a->ours ? "hetmem" : a->name));
        fprintf(f, ", \"available\": %s, \"skip\": ", a->skip[0] ? "false" : "true");
        json_str(f, a->skip);
        fprintf(f, ", \"failed\": ");
        json_str(f, r->failed[i]);
        fputc('}', f);
    }
    fprintf(f, "\n  ],\n  \"workloads\": [");
    for (unsigned w = 0; w < WL_COUNT; w++) {
        fprintf(f, "%s\n    {\"name\": ", w ? "," : "");
        json_str(f, wl_shapes[w].name);
        fprintf(f, ", \"desc\": ");
        json_str(f, wl_shapes[w].desc);
        fprintf(f, ", \"unit\": ");
        json_str(f, unit((bench_wl_t)w));
        fputc('}', f);
    }
    fprintf(f, "\n  ],\n  \"results\": [");
    bool first = true;
    for (unsigned ci = 0; ci < r->ncfg; ci++)
        for (unsigned ai = 0; ai < r->nalloc; ai++) {
            const double *v = r->val[ci][ai];
            if (!isfinite(median(v, r->rounds)))
                continue;
            fprintf(f, "%s\n    {\"workload\": \"%s\", \"threads\": %u, \"allocator\": ",
                    first ? "" : ",", wl_shapes[r->cfg[ci].wl].name, r->cfg[ci].threads);
            first = false;
            json_str(f, r->alloc[ai].name);
            fprintf(f, ", \"unit\": \"%s\", \"median\": ", unit(r->cfg[ci].wl));
            json_num(f, median(v, r->rounds));
            fprintf(f, ", \"min\": ");
            json_num(f, vmin(v, r->rounds));
            fprintf(f, ", \"max\": ");
            json_num(f, vmax(v, r->rounds));
            fprintf(f, ", \"ratio_jemalloc\": ");
            json_num(f, paired_ratio(r, ci, (int)ai, je));
            fprintf(f, ", \"rounds\": [");
            for (unsigned k = 0; k < r->rounds; k++) {
                fprintf(f, "%s", k ? ", " : "");
                json_num(f, v[k]);
            }
            fputc(']', f);
            if (r->cfg[ci].wl == WL_RSS) {
                fprintf(f, ", \"live_peak_mib\": ");
                json_num(f, median(r->rss_live[ai], r->rounds));
                fprintf(f, ", \"after_free_mib\": ");
                json_num(f, median(r->rss_after[ai], r->rounds));
                fprintf(f, ", \"baseline_mib\": ");
                json_num(f, median(r->rss_base[ai], r->rounds));
            }
            fputc('}', f);
        }
    fprintf(f, "\n  ],\n  \"targets\": [");
    for (unsigned i = 0; i < nt; i++) {
        fprintf(f, "%s\n    {\"target\": ", i ? "," : "");
        json_str(f, t[i].what);
        fprintf(f, ", \"measured\": ");
        json_num(f, t[i].measured);
        fprintf(f, ", \"threshold\": %g, \"status\": ", t[i].threshold);
        json_str(f, t[i].status);
        fprintf(f, ", \"note\": ");
        json_str(f, t[i].note);
        fputc('}', f);
    }
    fprintf(f, "\n  ]\n}\n");
    int bad = ferror(f) | fclose(f);
    return bad ? -1 : 0;
}

static int write_md(const bench_results_t *r, const char *dir, const target_t *t, unsigned nt) {
    FILE *f = open_out(dir, "results.md");
    if (!f)
        return -1;
    print_header(r, f, true);
    fprintf(f, "\nMedian Mops/s (one op = one malloc or one free); rss: peak MiB above the "
               "baseline\n\n");
    print_matrix(r, false, f, true);
    fprintf(f, "\nRatio to jemalloc (median of per-round ratios; rss: lower is better)\n\n");
    print_matrix(r, true, f, true);
    fprintf(f, "\nPeak RSS of the mixed trace\n\n");
    print_rss(r, f, true);
    fprintf(f, "\nTargets\n\n");
    print_targets(t, nt, f, true);
    int bad = ferror(f) | fclose(f);
    return bad ? -1 : 0;
}

int bench_report(const bench_results_t *r, const char *dir) {
    target_t t[MAX_TARGETS];
    unsigned nt = targets(r, t);
    print_header(r, stdout, false);
    printf("\nMedian Mops/s over %u rounds (one op = one malloc or one free); rss: peak MiB\n",
           r->rounds);
    print_matrix(r, false, stdout, false);
    printf("\nRatio to jemalloc (median of per-round ratios; rss: lower is better)\n");
    print_matrix(r, true, stdout, false);
    printf("\n");
    print_rss(r, stdout, false);
    printf("\nTargets (from the medians; noise on this machine is several percent)\n");
    print_targets(t, nt, stdout, false);
    int rc = write_csv(r, dir);
    rc |= write_json(r, dir, t, nt);
    rc |= write_md(r, dir, t, nt);
    printf("\nwrote %s/results.csv, rounds.csv, results.json, results.md\n", dir);
    return rc ? -1 : 0;
}
