// SPDX-License-Identifier: MIT
// A quick measurement, printed and never asserted: random 16..512 B
// malloc/free pairs at 1 and 2 threads through umfPoolMalloc/umfPoolFree on
// the jemalloc pool (with explicit tcaches, and without any tcache) against
// bare mallocx/dallocx calls into the same libjemalloc (automatic arena and
// tcache). The test fails only if an allocation fails.
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "jemalloc_test_util.h"

#define SLOTS 1024

typedef enum mode_t_ { M_POOL, M_DIRECT } mode_kind_t;

typedef struct run_t {
    mode_kind_t mode;
    umf_memory_pool_handle_t pool;
    void *(*mallocx)(size_t, int);
    void (*dallocx)(void *, int);
    int (*mallctl)(const char *, void *, size_t *, void *, size_t);
    unsigned arena; // M_DIRECT with explicit flags: an arena and per-thread tcaches
    int explicit_flags;
    long ops;
    double secs;
    int failed;
} run_t;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

// Each step frees the slot's block if there is one, else allocates 16..512
// bytes into it: about half the operations are mallocs, half frees.
static void *worker(void *arg) {
    run_t *r = arg;
    void *slot[SLOTS] = {0};
    uint32_t x = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
    int aflags = 0, fflags = 0;
    if (r->mode == M_DIRECT && r->explicit_flags) { // what the pool passes to jemalloc
        unsigned tc;
        size_t sz = sizeof tc;
        if (r->mallctl("tcache.create", &tc, &sz, NULL, 0) != 0) {
            r->failed = 1;
            return NULL;
        }
        fflags = (int)(((tc) + 2) << 8);                       // MALLOCX_TCACHE(tc)
        aflags = fflags | (int)((r->arena + 1) << 20);         // | MALLOCX_ARENA(arena)
    }
    double t0 = now();
    for (long i = 0; i < r->ops; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        unsigned k = x % SLOTS;
        if (slot[k]) {
            if (r->mode == M_POOL)
                umfPoolFree(r->pool, slot[k]);
            else
                r->dallocx(slot[k], fflags);
            slot[k] = NULL;
        } else {
            size_t n = 16 + (x >> 16) % 497;
            slot[k] = r->mode == M_POOL ? umfPoolMalloc(r->pool, n) : r->mallocx(n, aflags);
            if (!slot[k])
                r->failed = 1;
            else
                *(volatile char *)slot[k] = 1;
        }
    }
    r->secs = now() - t0;
    for (unsigned k = 0; k < SLOTS; k++)
        if (slot[k]) {
            if (r->mode == M_POOL)
                umfPoolFree(r->pool, slot[k]);
            else
                r->dallocx(slot[k], fflags);
        }
    return NULL;
}

// Runs `threads` workers and returns the total Mops/s (sum over threads).
static double measure_once(run_t proto, int threads, int *failed) {
    run_t r[2];
    pthread_t th[2];
    for (int i = 0; i < threads; i++) {
        r[i] = proto;
        pthread_create(&th[i], NULL, worker, &r[i]);
    }
    double mops = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        mops += (double)r[i].ops / r[i].secs / 1e6;
        *failed |= r[i].failed;
    }
    return mops;
}

// Best of three: the machine may be shared, and the best run is the one
// least disturbed.
static double measure(run_t proto, int threads, int *failed) {
    double best = 0;
    for (int i = 0; i < 3; i++) {
        double m = measure_once(proto, threads, failed);
        best = m > best ? m : best;
    }
    return best;
}

int main(void) {
    if (!test_jemalloc_usable())
        return 1;
    long ops = TEST_SANITIZED ? 300000 : 2000000;
    test_pool_t tc, notc;
    hetmem_jemalloc_pool_params_handle_t hp;
    if (test_pool_create(&tc, TP_OS, 0, NULL) != UMF_RESULT_SUCCESS ||
        hetmem_jemalloc_pool_params_create(&hp) != UMF_RESULT_SUCCESS ||
        hetmem_jemalloc_pool_params_set_tcache(hp, false) != UMF_RESULT_SUCCESS ||
        test_pool_create(&notc, TP_OS, 0, hp) != UMF_RESULT_SUCCESS)
        return 1;
    hetmem_jemalloc_pool_params_destroy(hp);
    // the very library the pool loaded (RTLD_NOLOAD: no second copy)
    void *h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
    if (!h)
        return 1;
    run_t direct = {.mode = M_DIRECT, .ops = ops};
    *(void **)&direct.mallocx = dlsym(h, "mallocx");
    *(void **)&direct.dallocx = dlsym(h, "dallocx");
    *(void **)&direct.mallctl = dlsym(h, "mallctl");
    if (!direct.mallocx || !direct.dallocx || !direct.mallctl)
        return 1;
    run_t direct_explicit = direct;
    size_t asz = sizeof direct_explicit.arena;
    if (direct.mallctl("arenas.create", &direct_explicit.arena, &asz, NULL, 0) != 0)
        return 1;
    direct_explicit.explicit_flags = 1;
    run_t pool_tc = {.mode = M_POOL, .pool = tc.pool, .ops = ops};
    run_t pool_notc = {.mode = M_POOL, .pool = notc.pool, .ops = ops};
    int failed = 0;
    measure_once(pool_tc, 1, &failed); // warm up: arenas, tcaches, extents
    measure_once(direct, 1, &failed);
    printf("jemalloc pool, 16..512 B random malloc/free, %ld ops per thread, best of 3%s\n", ops,
           TEST_SANITIZED ? " (sanitizer build: not representative)" : "");
    printf("%-48s %14s %14s\n", "", "1 thread", "2 threads");
    const struct {
        const char *name;
        run_t *run;
    } rows[] = {
        {"umfPoolMalloc/Free, jemalloc pool (tcache)", &pool_tc},
        {"umfPoolMalloc/Free, jemalloc pool (no tcache)", &pool_notc},
        {"mallocx/dallocx direct (auto arena+tcache)", &direct},
        {"mallocx/dallocx direct (explicit arena+tcache)", &direct_explicit},
    };
    for (size_t i = 0; i < ARRAY_SIZE_T(rows); i++) {
        double m1 = measure(*rows[i].run, 1, &failed);
        double m2 = measure(*rows[i].run, 2, &failed);
        printf("%-48s %7.1f Mops/s %7.1f Mops/s\n", rows[i].name, m1, m2);
    }
    dlclose(h);
    test_pool_destroy(&tc);
    test_pool_destroy(&notc);
    if (failed)
        printf("FAIL: an allocation failed\n");
    return failed;
}
