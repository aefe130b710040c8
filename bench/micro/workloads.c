// SPDX-License-Identifier: MIT
// The workloads: windowed random alloc/free (small, medium, large, 64 KiB-
// 1 MiB) on a pool of persistent worker threads, cross-thread free through
// single-producer/single-consumer rings, and the mixed trace whose peak RSS
// is measured in a process of its own.
//
// A timed trial: the driver releases the workers through a barrier, sleeps
// for the trial time, raises `stop`, and divides the ops the workers did
// before they saw it by the time between release and stop. Blocks still
// live when a worker stops are freed after that, outside the timing.
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads.h"

const wl_shape_t wl_shapes[WL_COUNT] = {
    [WL_SMALL] = {"small", "16-512 B, 1000 live slots/thread", 16, 512, 1000},
    [WL_MEDIUM] = {"medium", "1-64 KiB, 500 live slots/thread", 1024, 64 << 10, 500},
    [WL_LARGE] = {"large", "256 KiB-16 MiB, 16 live slots/thread", 256 << 10, 16 << 20, 16},
    [WL_LARGE64K] = {"large64k", "64 KiB-1 MiB, 64 live slots/thread", 64 << 10, 1 << 20, 64},
    [WL_XTHREAD] = {"xthread", "16-512 B, producer allocs / consumer frees, 256-slot ring", 16,
                    512, 0},
    [WL_RSS] = {"rss", "mixed trace, peak RSS (MiB) in a fresh process", 16, 1 << 20, 0},
};

// ---- the worker pool -------------------------------------------------------------------

#define MAX_WORKERS 256
#define MAX_WINDOW 1000
#define XRING_CAP 256 // a power of two
#define XBATCH 16     // ring indices are published every XBATCH items

/// One producer/consumer ring. head is written by the consumer only, tail
/// by the producer only; each sits on its own line, and each side keeps a
/// private copy of the other's index so that it reads the shared line only
/// when its copy says full (producer) or empty (consumer).
typedef struct xring_t {
    _Alignas(64) _Atomic uint32_t head;
    _Alignas(64) _Atomic uint32_t tail;
    _Atomic int prod_done; // the producer stopped; tail is final
    _Alignas(64) void *buf[XRING_CAP];
} xring_t;

/// A worker's own state (one line of results, written before `done`).
typedef struct worker_t {
    _Alignas(64) unsigned idx;
    pthread_t tid;
    void **slots;       // MAX_WINDOW live blocks of the windowed workloads
    uint64_t ops;       // mallocs + frees done before stop was seen
    size_t failed_size; // the size whose malloc returned NULL (0: none)
} worker_t;

static struct {
    pthread_barrier_t start, done; // workers + the driver
    unsigned n;                    // workers started
    bool quit;
    // The current trial (written by the driver before `start`).
    bench_wl_t wl;
    const bench_alloc_t *a;
    unsigned active; // workers that take part
    uint64_t seed;
    _Alignas(64) _Atomic int stop;
    worker_t w[MAX_WORKERS];
    xring_t *rings; // MAX_WORKERS / 2
} pool;

static inline bool stopped(void) { return atomic_load_explicit(&pool.stop, memory_order_relaxed); }

static inline void backoff(unsigned *spins) {
    if (++*spins < 64)
        __builtin_ia32_pause();
    else
        sched_yield(); // a noisy shared machine: do not burn the other side's core
}

static uint64_t thread_seed(unsigned idx) {
    uint64_t s = pool.seed ^ (0x9E3779B97F4A7C15ull * (idx + 1));
    return s ? s : 1;
}

// Random slot, random size: free what the slot holds, put a new block
// there and write its first byte. Same seed: same sequence for everyone.
static void run_window(worker_t *w) {
    const wl_shape_t *s = &wl_shapes[pool.wl];
    const bench_alloc_t *a = pool.a;
    void **slot = w->slots;
    uint64_t rng = thread_seed(w->idx), ops = 0;
    memset(slot, 0, s->window * sizeof *slot);
    while (!stopped()) {
        for (int j = 0; j < 8; j++) {
            uint64_t r = rng_next(&rng);
            uint32_t k = rng_below(r, s->window);
            size_t size = rng_size(r, s->lo, s->hi);
            if (slot[k]) {
                a->release(a->ctx, slot[k]);
                ops++;
            }
            void *p = a->alloc(a->ctx, size);
            slot[k] = p;
            if (__builtin_expect(!p, 0)) {
                w->failed_size = size;
                goto out;
            }
            *(volatile char *)p = (char)r;
            no_opt_ptr(p);
            ops++;
        }
    }
out:
    w->ops = ops;
    for (uint32_t k = 0; k < s->window; k++)
        if (slot[k])
            a->release(a->ctx, slot[k]);
}

static void run_producer(worker_t *w, xring_t *q) {
    const wl_shape_t *s = &wl_shapes[WL_XTHREAD];
    const bench_alloc_t *a = pool.a;
    uint64_t rng = thread_seed(w->idx), ops = 0;
    uint32_t tail = 0, head = 0;
    unsigned spins = 0;
    while (!stopped()) {
        if (tail - head > XRING_CAP - XBATCH) {
            head = atomic_load_explicit(&q->head, memory_order_acquire);
            if (tail - head > XRING_CAP - XBATCH) {
                backoff(&spins);
                continue;
            }
        }
        spins = 0;
        for (int j = 0; j < XBATCH; j++) {
            uint64_t r = rng_next(&rng);
            void *p = a->alloc(a->ctx, rng_size(r, s->lo, s->hi));
            if (__builtin_expect(!p, 0)) {
                w->failed_size = rng_size(r, s->lo, s->hi);
                goto out;
            }
            *(volatile char *)p = (char)r;
            q->buf[tail++ & (XRING_CAP - 1)] = p;
        }
        ops += XBATCH;
        atomic_store_explicit(&q->tail, tail, memory_order_release);
    }
out:
    atomic_store_explicit(&q->tail, tail, memory_order_release);
    atomic_store_explicit(&q->prod_done, 1, memory_order_release);
    w->ops = ops;
}

// Reads the first byte of each block (the consumer "uses" it), then frees
// it. Frees after stop are the drain: done, but not counted.
static void run_consumer(worker_t *w, xring_t *q) {
    const bench_alloc_t *a = pool.a;
    uint64_t ops = 0;
    uint32_t head = 0, tail = 0;
    unsigned spins = 0;
    bool counting = true;
    for (;;) {
        if (head == tail) {
            atomic_store_explicit(&q->head, head, memory_order_release);
            int done = atomic_load_explicit(&q->prod_done, memory_order_acquire);
            tail = atomic_load_explicit(&q->tail, memory_order_acquire);
            if (head == tail) {
                if (done)
                    break;
                backoff(&spins);
                continue;
            }
            spins = 0;
        }
        while (head != tail) {
            void *p = q->buf[head++ & (XRING_CAP - 1)];
            (void)*(volatile char *)p; // the consumer reads what it was sent
            a->release(a->ctx, p);
            ops += counting;
            if ((head & (XBATCH - 1)) == 0) {
                atomic_store_explicit(&q->head, head, memory_order_release);
                counting = counting && !stopped();
            }
        }
    }
    w->ops = ops;
}

static void *worker_main(void *arg) {
    worker_t *w = arg;
    for (;;) {
        pthread_barrier_wait(&pool.start);
        if (pool.quit)
            return NULL;
        w->ops = 0;
        w->failed_size = 0;
        if (w->idx < pool.active) {
            if (pool.wl == WL_XTHREAD) {
                xring_t *q = &pool.rings[w->idx / 2];
                if (w->idx % 2 == 0)
                    run_producer(w, q);
                else
                    run_consumer(w, q);
            } else {
                run_window(w);
            }
        }
        pthread_barrier_wait(&pool.done);
    }
}

void wl_workers_start(unsigned n) {
    if (pool.n)
        return;
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    pool.rings = aligned_alloc(64, sizeof(xring_t) * (MAX_WORKERS / 2));
    if (!pool.rings)
        bench_die("out of memory");
    pthread_barrier_init(&pool.start, NULL, n + 1);
    pthread_barrier_init(&pool.done, NULL, n + 1);
    for (unsigned i = 0; i < n; i++) {
        worker_t *w = &pool.w[i];
        w->idx = i;
        w->slots = calloc(MAX_WINDOW, sizeof(void *));
        if (!w->slots || pthread_create(&w->tid, NULL, worker_main, w))
            bench_die("cannot start worker %u", i);
    }
    pool.n = n;
}

double wl_run(bench_wl_t wl, const bench_alloc_t *a, unsigned threads, uint64_t time_ns,
              uint64_t seed, char *failed, size_t failed_len) {
    unsigned active = threads;
    if (wl == WL_XTHREAD) {
        active = threads / 2 * 2;
        if (active < 2)
            active = 2;
        for (unsigned i = 0; i < active / 2; i++) {
            atomic_store(&pool.rings[i].head, 0);
            atomic_store(&pool.rings[i].tail, 0);
            atomic_store(&pool.rings[i].prod_done, 0);
        }
    }
    if (active > pool.n)
        bench_die("%u threads asked, %u workers started", active, pool.n);
    pool.wl = wl;
    pool.a = a;
    pool.active = active;
    pool.seed = seed;
    atomic_store(&pool.stop, 0);

    pthread_barrier_wait(&pool.start);
    uint64_t t0 = now_ns();
    struct timespec until = {(time_t)((t0 + time_ns) / 1000000000u),
                             (long)((t0 + time_ns) % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) != 0) {
    }
    atomic_store_explicit(&pool.stop, 1, memory_order_relaxed);
    uint64_t t1 = now_ns();
    pthread_barrier_wait(&pool.done);

    uint64_t ops = 0;
    for (unsigned i = 0; i < active; i++) {
        ops += pool.w[i].ops;
        if (pool.w[i].failed_size) {
            snprintf(failed, failed_len, "NULL from malloc(%zu) in %s", pool.w[i].failed_size,
                     wl_shapes[wl].name);
            return -1;
        }
    }
    return (double)ops * 1e3 / (double)(t1 - t0);
}

// ---- the mixed trace (peak RSS) ---------------------------------------------------------

/// A value from /proc/self/status ("VmRSS:", "VmHWM:") in KiB, or -1.
static long status_kib(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n)) {
            v = strtol(line + n, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/// The trace's size mix; `shift` moves the small range up in the last phase.
static size_t mixed_size(uint64_t r, bool shifted) {
    uint32_t pick = rng_below(r, 1000);
    if (pick < 900)
        return shifted ? rng_size(r, 256, 2048) : rng_size(r, 16, 512);
    if (pick < 995)
        return rng_size(r, 1 << 10, 64 << 10);
    return rng_size(r, 64 << 10, 1 << 20);
}

/// Writes one byte in every page of the block (it becomes resident, as if
/// the program had filled it) and in its last byte.
static void touch_pages(char *p, size_t size, char v) {
    for (size_t off = 0; off < size; off += 4096)
        ((volatile char *)p)[off] = v;
    ((volatile char *)p)[size - 1] = v;
}

typedef struct trace_t {
    const bench_alloc_t *a;
    void **slot;
    size_t *size;
    size_t live, live_peak;
    uint64_t rng;
} trace_t;

static void trace_free(trace_t *t, uint32_t k) {
    if (t->slot[k]) {
        t->a->release(t->a->ctx, t->slot[k]);
        t->live -= t->size[k];
        t->slot[k] = NULL;
    }
}

// `steps` replacements in slots [0, range).
static int trace_churn(trace_t *t, uint32_t range, size_t steps, bool shifted) {
    for (size_t i = 0; i < steps; i++) {
        uint64_t r = rng_next(&t->rng);
        uint32_t k = rng_below(rng_next(&t->rng), range);
        trace_free(t, k);
        size_t size = mixed_size(r, shifted);
        void *p = t->a->alloc(t->a->ctx, size);
        if (!p)
            return -1;
        touch_pages(p, size, (char)r);
        t->slot[k] = p;
        t->size[k] = size;
        t->live += size;
        if (t->live > t->live_peak)
            t->live_peak = t->live;
    }
    return 0;
}

int wl_rss_trace(const bench_alloc_t *a, double scale, uint64_t seed, rss_result_t *out) {
    uint32_t n = (uint32_t)(16384 * scale);
    if (n < 256)
        n = 256;
    trace_t t = {.a = a, .rng = seed ? seed : 1};
    t.slot = calloc(n, sizeof *t.slot);
    t.size = calloc(n, sizeof *t.size);
    if (!t.slot || !t.size)
        bench_die("out of memory");
    // Set-up costs (first-use metadata, the provider's topology) are not
    // the trace's: one block first, then the baseline and the peak reset.
    a->release(a->ctx, a->alloc(a->ctx, 64));
    memset(out, 0, sizeof *out);
    out->base_kib = status_kib("VmRSS:");
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        out->hwm_reset = fputs("5", f) >= 0;
        out->hwm_reset = (fclose(f) == 0) && out->hwm_reset;
    }
    int rc = trace_churn(&t, n, (size_t)n * 3, false); // grow to n live, churn
    // Free 90% at random: the 10% left pin whatever they sit in.
    for (uint32_t k = 0; rc == 0 && k < n; k++)
        if (rng_below(rng_next(&t.rng), 10) != 0)
            trace_free(&t, k);
    if (rc == 0)
        rc = trace_churn(&t, n / 10, (size_t)n * 3, false); // churn over the remainder
    if (rc == 0)
        rc = trace_churn(&t, n, (size_t)n * 3, true); // regrow with other small sizes
    out->hwm_kib = status_kib("VmHWM:");
    for (uint32_t k = 0; k < n; k++)
        trace_free(&t, k);
    out->after_kib = status_kib("VmRSS:");
    out->live_kib = (long)(t.live_peak >> 10);
    free(t.slot);
    free(t.size);
    return rc;
}
