// SPDX-License-Identifier: MIT
// libhmalloc.so under threads (run under TSan by `make test-tsan`): the
// first allocation of the process made by many threads at once (the lazy,
// once-only pool creation), then blocks freed by other threads than their
// allocators and every API call mixed concurrently.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <hmalloc.h>

#include "test_threads.h" // threads record failures, the main thread asserts

#define THREADS 8
#define ROUNDS 2000

static pthread_barrier_t start;

// ---- the first call, from every thread at once ---------------------------------------

static void *first_use(void *arg) {
    void **out = arg;
    pthread_barrier_wait(&start);
    char *p = hmalloc(48);
    if (p)
        memset(p, 1, 48);
    *out = p;
    return NULL;
}

static void test_first_use_races(void **state) {
    (void)state;
    pthread_t t[THREADS];
    void *ptrs[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, first_use, &ptrs[i]), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < THREADS; i++) {
        assert_non_null(ptrs[i]);
        assert_true(hmalloc_usable_size(ptrs[i]) >= 48); // one pool knows them all
        for (int k = 0; k < i; k++)
            assert_ptr_not_equal(ptrs[i], ptrs[k]);
    }
    for (int i = 0; i < THREADS; i++)
        hfree(ptrs[i]);
}

// ---- cross-thread frees ------------------------------------------------------------------

// A one-slot mailbox per thread pair: producer i hands blocks to consumer i.
typedef struct mailbox_t {
    _Atomic(void *) slot;
    atomic_bool done;
} mailbox_t;

static mailbox_t boxes[THREADS / 2];

static void *producer(void *arg) {
    mailbox_t *b = arg;
    for (int r = 0; r < ROUNDS; r++) {
        size_t size = (size_t)(r % 13) * 97 + 1;
        char *p = (r % 3) ? hmalloc(size) : hcalloc(1, size);
        if (!THREAD_CHECK(p != NULL))
            continue;
        memset(p, 0x5a, size);
        void *expected = NULL;
        while (!atomic_compare_exchange_weak(&b->slot, &expected, p))
            expected = NULL;
    }
    atomic_store(&b->done, true);
    return NULL;
}

static void *consumer(void *arg) {
    mailbox_t *b = arg;
    for (;;) {
        void *p = atomic_exchange(&b->slot, NULL);
        if (p) {
            THREAD_CHECK(*(unsigned char *)p == 0x5a);
            if ((uintptr_t)p & 64) {
                void *q = hrealloc(p, 300); // realloc of another thread's block
                if (THREAD_CHECK(q != NULL))
                    p = q;
            }
            hfree(p);
        } else if (atomic_load(&b->done) && !atomic_load(&b->slot)) {
            return NULL;
        }
    }
}

static void test_cross_thread_free(void **state) {
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS / 2; i++) {
        atomic_init(&boxes[i].slot, NULL);
        atomic_init(&boxes[i].done, false);
        assert_int_equal(pthread_create(&t[2 * i], NULL, producer, &boxes[i]), 0);
        assert_int_equal(pthread_create(&t[2 * i + 1], NULL, consumer, &boxes[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_thread_checks();
}

// ---- everything at once ----------------------------------------------------------------------

static void *mixed(void *arg) {
    (void)arg;
    for (int r = 0; r < ROUNDS / 4; r++) {
        void *a = haligned_alloc(256, 1000), *b = NULL;
        THREAD_CHECK(a != NULL && (uintptr_t)a % 256 == 0);
        THREAD_CHECK(hposix_memalign(&b, 4096, 5000) == 0 && (uintptr_t)b % 4096 == 0);
        char *c = hmalloc(70000);
        if (THREAD_CHECK(c != NULL))
            c[69999] = 1;
        char *m = hmmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (THREAD_CHECK(m && m != MAP_FAILED)) {
            m[0] = 1;
            THREAD_CHECK(hmunmap(m, 8192) == 0);
        }
        hfree(a);
        hfree(b);
        hfree(c);
    }
    return NULL;
}

static void test_mixed(void **state) {
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, mixed, NULL), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_thread_checks();
}

int main(void) {
    unsetenv("HMALLOC_POLICY");
    unsetenv("HMALLOC_NODES");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_use_races), // must be first: the pool is not made yet
        cmocka_unit_test(test_cross_thread_free),
        cmocka_unit_test(test_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
