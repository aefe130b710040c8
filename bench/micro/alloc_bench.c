// SPDX-License-Identifier: MIT
// alloc_bench: hetmem's pools against glibc, jemalloc, mimalloc and memkind
// in one run. Rounds are interleaved (every round runs every configuration
// for every allocator, in an order rotated per round) so that a burst of
// load on a shared machine hits all allocators alike; the report gives the
// median over rounds and ratios to jemalloc. This file owns the command
// line, the schedule and the peak-RSS child processes.
//
//   alloc_bench [--quick] [--rounds N] [--warmup N] [--time-ms T]
//               [--threads 1,2,...] [--only a,b,...] [--workloads w,...]
//               [--rss-scale X]
//               [--seed S] [--out DIR]
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"
#include "workloads.h"

#define TUNABLE "glibc.rtld.optional_static_tls=4096"
#define RSS_ROUNDS 3

static bench_results_t R; // large: static

typedef struct options_t {
    unsigned rounds, warmup;
    double time_ms, rss_scale;
    unsigned threads[16], nthreads;
    const char *only;
    const char *workloads; // names, comma separated (NULL: all)
    const char *out;
    uint64_t seed;
    bool quick;
} options_t;

// Debian's libjemalloc.so.2 uses initial-exec TLS, which a dlopen after
// start-up can only get from glibc's optional static TLS reserve; the
// tunable that enlarges it is read at exec. Without it in the environment,
// run again with it (once: the second exec finds it set).
static void ensure_static_tls(char **argv) {
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.rtld.optional_static_tls"))
        return;
    char v[1024];
    snprintf(v, sizeof v, "%s%s%s", t ? t : "", t && *t ? ":" : "", TUNABLE);
    setenv("GLIBC_TUNABLES", v, 1);
    execv("/proc/self/exe", argv);
    fprintf(stderr, "alloc_bench: re-exec with GLIBC_TUNABLES failed (%s); jemalloc may not load\n",
            strerror(errno));
}

static void usage(void) {
    fputs("usage: alloc_bench [--quick] [--rounds N] [--warmup N] [--time-ms T]\n"
          "                   [--threads 1,2,...] [--only a,b,...] [--rss-scale X]\n"
          "                   [--seed S] [--out DIR]\n"
          "  --quick      smoke run: 1 round, 5 ms trials, small RSS trace\n"
          "  --rounds     measured rounds (default 9); the median is reported\n"
          "  --warmup     unreported rounds first (default 1, at a quarter of the time)\n"
          "  --time-ms    length of one trial (default 60)\n"
          "  --threads    thread counts (default 1, 2, 4, ... up to nproc, and nproc)\n"
          "  --only       allocators to run (include jemalloc: it is the baseline of the ratios)\n"
          "  --workloads  small,medium,large,large64k,xthread,rss (default all)\n"
          "  --out        folder for results.csv, rounds.csv, results.json, results.md\n",
          stderr);
    exit(1);
}

static unsigned parse_list(const char *s, unsigned *out, unsigned max) {
    unsigned n = 0;
    while (*s && n < max) {
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || v == 0 || v > 256)
            usage();
        out[n++] = (unsigned)v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static void parse_args(int argc, char **argv, options_t *o) {
    *o = (options_t){.rounds = 9, .warmup = 1, .time_ms = 60, .rss_scale = 1.0, .out = ".",
                     .seed = 0x5eed};
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--quick")) {
            o->quick = true;
            o->rounds = 1;
            o->time_ms = 5;
            o->rss_scale = 0.05;
        }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick"))
            continue;
        if (!v)
            usage();
        if (!strcmp(a, "--rounds"))
            o->rounds = (unsigned)atoi(v);
        else if (!strcmp(a, "--warmup"))
            o->warmup = (unsigned)atoi(v);
        else if (!strcmp(a, "--time-ms"))
            o->time_ms = atof(v);
        else if (!strcmp(a, "--threads"))
            o->nthreads = parse_list(v, o->threads, 16);
        else if (!strcmp(a, "--only"))
            o->only = v;
        else if (!strcmp(a, "--workloads"))
            o->workloads = v;
        else if (!strcmp(a, "--out"))
            o->out = v;
        else if (!strcmp(a, "--rss-scale"))
            o->rss_scale = atof(v);
        else if (!strcmp(a, "--seed"))
            o->seed = strtoull(v, NULL, 0);
        else
            usage();
        i++;
    }
    if (o->rounds < 1 || o->rounds > MAX_ROUNDS || o->time_ms <= 0 || o->rss_scale <= 0)
        usage();
}

// ---- machine --------------------------------------------------------------------------

static void read_loadavg(char *out, size_t n) {
    FILE *f = fopen("/proc/loadavg", "r");
    double a = 0, b = 0, c = 0;
    if (f && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
        snprintf(out, n, "%.2f %.2f %.2f", a, b, c);
    else
        snprintf(out, n, "unknown");
    if (f)
        fclose(f);
}

static double load1(void) {
    char s[64];
    read_loadavg(s, sizeof s);
    return atof(s);
}

static void read_cpu_model(char *out, size_t n) {
    snprintf(out, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c += 1 + (c[1] == ' ');
                c[strcspn(c, "\n")] = 0;
                snprintf(out, n, "%s", c);
            }
            break;
        }
    fclose(f);
}

// ---- peak RSS: one fresh process per allocator and round ----------------------------------

/// The child side: set up only `name`, run the trace, print one line.
static int rss_child(const char *name, double scale, uint64_t seed) {
    bench_alloc_t a;
    memset(&a, 0, sizeof a);
    if (bench_allocs_init(&a, name) != 1 || a.skip[0]) {
        printf("SKIP %s\n", a.skip[0] ? a.skip : "unknown allocator");
        return 0;
    }
    rss_result_t r;
    int rc = wl_rss_trace(&a, scale, seed, &r);
    if (rc != 0) {
        printf("FAIL NULL from malloc in the mixed trace\n");
        return 3;
    }
    printf("RSS %ld %ld %ld %ld %d\n", r.base_kib, r.hwm_kib, r.after_kib, r.live_kib,
           r.hwm_reset);
    fflush(stdout);
    bench_allocs_fini(&a, 1);
    return 0;
}

/// Runs the child for allocator ai; fills round `round` of the RSS row.
static void run_rss(unsigned ci, unsigned ai, int round, const options_t *o) {
    char scale[32], seed[32], line[256] = "";
    snprintf(scale, sizeof scale, "%g", o->rss_scale);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    char *args[] = {"alloc_bench", "--rss-child", (char *)R.alloc[ai].name, "--rss-scale", scale,
                    "--seed", seed, NULL};
    int fd[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(fd) != 0)
        bench_die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        bench_die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execv("/proc/self/exe", args);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    if (!f || !fgets(line, sizeof line, f))
        line[0] = 0;
    if (f)
        fclose(f);
    int status = 0;
    waitpid(pid, &status, 0);
    long base, hwm, after, live;
    int reset;
    if (sscanf(line, "RSS %ld %ld %ld %ld %d", &base, &hwm, &after, &live, &reset) == 5 &&
        WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (round < 0)
            return;
        // Without the peak reset VmHWM includes the set-up: subtract nothing
        // then (the base is reported on its own).
        R.val[ci][ai][round] = (double)(reset ? hwm - base : hwm) / 1024.0;
        R.rss_base[ai][round] = (double)base / 1024.0;
        R.rss_after[ai][round] = (double)(after - base) / 1024.0;
        R.rss_live[ai][round] = (double)live / 1024.0;
    } else if (!R.failed[ai][0]) {
        line[strcspn(line, "\n")] = 0;
        snprintf(R.failed[ai], sizeof R.failed[ai], "rss child: %.120s (status %d)",
                 line[0] ? line : "no output", status);
    }
}

// ---- the schedule -------------------------------------------------------------------------

/// name is one of the comma-separated items of list.
static bool in_list(const char *list, const char *name) {
    size_t len = strlen(name);
    for (const char *s = list; (s = strstr(s, name)); s += len)
        if ((s == list || s[-1] == ',') && (s[len] == 0 || s[len] == ','))
            return true;
    return false;
}

static const char *wl_filter;

static void add_cfg(bench_wl_t wl, unsigned threads) {
    if (wl_filter && !in_list(wl_filter, wl_shapes[wl].name))
        return;
    if (R.ncfg < MAX_CFGS)
        R.cfg[R.ncfg++] = (bench_cfg_t){wl, threads};
}

static void plan(const options_t *o, unsigned *max_threads) {
    unsigned *t = (unsigned *)o->threads, n = o->nthreads;
    unsigned m = 2; // the cross-thread pair needs two
    for (unsigned i = 0; i < n; i++)
        add_cfg(WL_SMALL, t[i]);
    for (unsigned i = 0; i < n; i++)
        add_cfg(WL_MEDIUM, t[i]);
    add_cfg(WL_LARGE, 1);
    for (unsigned i = 0; i < n; i++)
        add_cfg(WL_LARGE64K, t[i]);
    bool pair = false;
    for (unsigned i = 0; i < n; i++)
        if (t[i] >= 2 && t[i] % 2 == 0) {
            add_cfg(WL_XTHREAD, t[i]);
            pair = true;
        }
    if (!pair)
        add_cfg(WL_XTHREAD, 2);
    add_cfg(WL_RSS, 1);
    for (unsigned i = 0; i < n; i++)
        m = t[i] > m ? t[i] : m;
    *max_threads = m;
}

static bool selected(const options_t *o, const char *name) {
    return !o->only || in_list(o->only, name);
}

static void run_rounds(const options_t *o) {
    uint64_t t_start = now_ns();
    int first = -(int)o->warmup;
    for (int round = first; round < (int)o->rounds; round++) {
        double ms = round < 0 ? o->time_ms / 4 : o->time_ms;
        unsigned rot = (unsigned)(round - first);
        for (unsigned ci = 0; ci < R.ncfg; ci++) {
            const bench_cfg_t *c = &R.cfg[ci];
            for (unsigned j = 0; j < R.nalloc; j++) {
                unsigned ai = (j + rot) % R.nalloc;
                bench_alloc_t *a = &R.alloc[ai];
                if (a->skip[0] || R.failed[ai][0] || !(a->workloads & WL_BIT(c->wl)))
                    continue;
                if (c->wl == WL_RSS) {
                    // Deterministic (same trace, fresh process): three rounds are plenty.
                    if (round >= 0 && round < RSS_ROUNDS)
                        run_rss(ci, ai, round, o);
                    continue;
                }
                uint64_t seed = o->seed + 7919u * ci + (unsigned)(round - first);
                double v = wl_run(c->wl, a, c->threads, (uint64_t)(ms * 1e6), seed,
                                  R.failed[ai], sizeof R.failed[ai]);
                if (v >= 0 && round >= 0)
                    R.val[ci][ai][round] = v;
            }
        }
        double load = load1();
        if (round >= 0)
            R.load_round[round] = load;
        fprintf(stderr, "alloc_bench: %s round %d/%u done (%.1f s, load %.2f)\n",
                round < 0 ? "warmup" : "measured", round < 0 ? round - first + 1 : round + 1,
                round < 0 ? o->warmup : o->rounds, (double)(now_ns() - t_start) / 1e9, load);
    }
}

int main(int argc, char **argv) {
    if (argc >= 3 && !strcmp(argv[1], "--rss-child")) {
        options_t o;
        parse_args(argc - 2, argv + 2, &o);
        return rss_child(argv[2], o.rss_scale, o.seed);
    }
    ensure_static_tls(argv);
    options_t o;
    parse_args(argc, argv, &o);

    long np = sysconf(_SC_NPROCESSORS_ONLN);
    R.nproc = np > 0 ? (unsigned)np : 1;
    if (!o.nthreads) {
        for (unsigned t = 1; t <= R.nproc && o.nthreads < 15; t *= 2)
            o.threads[o.nthreads++] = t;
        if (o.threads[o.nthreads - 1] != R.nproc)
            o.threads[o.nthreads++] = R.nproc;
    }
    size_t off = 0;
    for (int i = 0; i < argc && off < sizeof R.command - 1; i++)
        off += (size_t)snprintf(R.command + off, sizeof R.command - off, "%s%s", i ? " " : "",
                                i ? argv[i] : "alloc_bench");
    read_cpu_model(R.cpu, sizeof R.cpu);
    read_loadavg(R.load_start, sizeof R.load_start);
    time_t now = time(NULL);
    strftime(R.started, sizeof R.started, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    R.rounds = o.rounds;
    R.warmup = o.warmup;
    R.time_ms = o.time_ms;
    R.rss_scale = o.rss_scale;
    R.quick = o.quick;
    for (unsigned ci = 0; ci < MAX_CFGS; ci++)
        for (unsigned ai = 0; ai < BENCH_MAX_ALLOCS; ai++)
            for (unsigned r = 0; r < MAX_ROUNDS; r++)
                R.val[ci][ai][r] = __builtin_nan("");
    for (unsigned ai = 0; ai < BENCH_MAX_ALLOCS; ai++)
        for (unsigned r = 0; r < MAX_ROUNDS; r++)
            R.rss_after[ai][r] = R.rss_live[ai][r] = R.rss_base[ai][r] = __builtin_nan("");

    R.nalloc = bench_allocs_init(R.alloc, NULL);
    for (unsigned i = 0; i < R.nalloc; i++)
        if (!selected(&o, R.alloc[i].name) && !R.alloc[i].skip[0])
            snprintf(R.alloc[i].skip, sizeof R.alloc[i].skip, "not selected (--only)");
    unsigned max_threads;
    wl_filter = o.workloads;
    plan(&o, &max_threads);
    if (!R.ncfg)
        usage();
    wl_workers_start(max_threads);
    fprintf(stderr, "alloc_bench: %u configurations x %u allocators, %u+%u rounds of %g ms\n",
            R.ncfg, R.nalloc, o.warmup, o.rounds, o.time_ms);

    uint64_t t0 = now_ns();
    run_rounds(&o);
    R.seconds = (double)(now_ns() - t0) / 1e9;
    read_loadavg(R.load_end, sizeof R.load_end);
    int rc = bench_report(&R, o.out);
    bench_allocs_fini(R.alloc, R.nalloc);
    return rc == 0 ? 0 : 1;
}
