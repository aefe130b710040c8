// SPDX-License-Identifier: MIT
// Creating and destroying kinds from many threads at once never fails
// spuriously (issue 11): N threads x M iterations each create a
// file-backed kind in a temporary directory and a fixed kind over the
// thread's own buffer, allocate, check and free in both, and destroy both;
// some iterations also ask memkind_create_kind for a static kind. Names of
// created kinds once came from file descriptor numbers, which a destroy on
// another thread handed back to the OS before the name left the registry:
// creates failed with "a kind named pmemN exists already".
// Threads only record; main asserts (cmocka asserts on the main thread only).
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <memkind.h>

#define NTHREADS 8
#define FIXED_PER_THREAD ((size_t)4 << 20)

static char dir[] = "/tmp/hetmem-mk-mt-XXXXXX";
static unsigned iterations = 60;
static unsigned base_seed;
static char *fixed_areas;

typedef struct {
    unsigned id;
    unsigned failures;
    int first_error; ///< the first failing call's result
    char first_what[64];
} worker_t;

static void failed(worker_t *w, const char *what, int err) {
    if (w->failures++ == 0) {
        w->first_error = err;
        snprintf(w->first_what, sizeof w->first_what, "%s", what);
    }
}

// Allocates a few blocks in k, checks that they hold their contents, frees them.
static void use_kind(worker_t *w, memkind_t k, unsigned *seed, const char *what) {
    char *p[8];
    size_t n[8];
    for (int i = 0; i < 8; i++) {
        n[i] = 16 + (size_t)(rand_r(seed) % 20000);
        p[i] = memkind_malloc(k, n[i]);
        if (!p[i]) {
            failed(w, what, errno);
            n[i] = 0;
            continue;
        }
        memset(p[i], (int)(w->id + (unsigned)i), n[i]);
    }
    for (int i = 0; i < 8; i++) {
        if (!p[i])
            continue;
        if (p[i][0] != (char)(w->id + (unsigned)i) || p[i][n[i] - 1] != (char)(w->id + (unsigned)i))
            failed(w, "block contents changed", 0);
        memkind_free(i % 2 ? k : NULL, p[i]);
    }
}

static void *worker(void *arg) {
    worker_t *w = arg;
    unsigned seed = base_seed + w->id;
    char *area = fixed_areas + (size_t)w->id * FIXED_PER_THREAD;
    for (unsigned it = 0; it < iterations; it++) {
        memkind_t pk = NULL, fk = NULL;
        int r = memkind_create_pmem(dir, (rand_r(&seed) % 2) ? 0 : (size_t)64 << 20, &pk);
        if (r != MEMKIND_SUCCESS)
            failed(w, "memkind_create_pmem", r);
        r = memkind_create_fixed(area, FIXED_PER_THREAD, &fk);
        if (r != MEMKIND_SUCCESS)
            failed(w, "memkind_create_fixed", r);
        if (pk)
            use_kind(w, pk, &seed, "memkind_malloc(pmem)");
        if (fk)
            use_kind(w, fk, &seed, "memkind_malloc(fixed)");
        if (it % 8 == 0) {
            memkind_t sk = NULL;
            r = memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL, 0,
                                    &sk);
            if (r != MEMKIND_SUCCESS || !sk)
                failed(w, "memkind_create_kind", r);
            else if ((r = memkind_destroy_kind(sk)) != MEMKIND_SUCCESS)
                failed(w, "memkind_destroy_kind(static)", r);
        }
        if (pk && (r = memkind_destroy_kind(pk)) != MEMKIND_SUCCESS)
            failed(w, "memkind_destroy_kind(pmem)", r);
        if (fk && (r = memkind_destroy_kind(fk)) != MEMKIND_SUCCESS)
            failed(w, "memkind_destroy_kind(fixed)", r);
    }
    return NULL;
}

static void test_create_destroy_threads(void **state) {
    (void)state;
    const char *s = getenv("HETMEM_TEST_SEED");
    base_seed = s ? (unsigned)strtoul(s, NULL, 0) : (unsigned)time(NULL) ^ (unsigned)getpid();
    const char *it = getenv("HETMEM_MT_ITERATIONS");
    if (it)
        iterations = (unsigned)strtoul(it, NULL, 0);
    print_message("seed %u (HETMEM_TEST_SEED=%u repeats it), %d threads x %u iterations\n",
                  base_seed, base_seed, NTHREADS, iterations);
    assert_non_null(mkdtemp(dir));
    fixed_areas = mmap(NULL, NTHREADS * FIXED_PER_THREAD, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(fixed_areas != MAP_FAILED);
    pthread_t t[NTHREADS];
    worker_t w[NTHREADS];
    memset(w, 0, sizeof w);
    for (unsigned i = 0; i < NTHREADS; i++) {
        w[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    unsigned total = 0;
    for (unsigned i = 0; i < NTHREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        if (w[i].failures)
            print_error("thread %u: %u failures, first %s -> %d\n", i, w[i].failures,
                        w[i].first_what, w[i].first_error);
        total += w[i].failures;
    }
    munmap(fixed_areas, NTHREADS * FIXED_PER_THREAD);
    assert_int_equal(rmdir(dir), 0); // every temporary file went with its kind
    assert_int_equal(total, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_destroy_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
