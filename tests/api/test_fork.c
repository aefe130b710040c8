// SPDX-License-Identifier: MIT
// fork(2) while other threads allocate: the child must be able to allocate
// from the core (heap engine, address map, metadata allocator) at once.
// Without the library's fork handlers a child sometimes inherits a lock
// held by a thread that does not exist in it and hangs; each child here
// must finish within a few seconds or the test fails. The child also proves
// that its allocations work: through every pool the test uses it allocates,
// writes and reads back a pattern, checks the address map and frees, and
// reports the first failure in its exit status, which the parent asserts.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <umf/memory_pool.h>
#include <umf/pools/pool_proxy.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#include "test_seed.h"

static umf_memory_pool_handle_t engine_pool, proxy_pool;
static atomic_bool stop;
static atomic_long parent_failures; // allocations that failed in the threads

static umf_memory_pool_handle_t make_pool(const umf_memory_pool_ops_t *ops) {
    umf_os_memory_provider_params_handle_t params;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&params), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), params, &prov),
                     UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(params);
    assert_int_equal(umfPoolCreate(ops, prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool),
                     UMF_RESULT_SUCCESS);
    return pool;
}

// Churns the locks fork must not inherit: large engine blocks (heap lock,
// chunk registration), proxy allocations (address map writer lock, meta).
// Returns how many allocations or frees failed.
static long churn(unsigned *seed, int rounds) {
    void *v[16];
    long failed = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 16; i++) {
            size_t big = ((size_t)(rand_r(seed) % 64) + 1) << 16; // 64 KiB .. 4 MiB
            v[i] = i & 1 ? umfPoolMalloc(engine_pool, big) : umfPoolMalloc(proxy_pool, 100);
            failed += v[i] == NULL;
        }
        for (int i = 0; i < 16; i++)
            if (v[i])
                failed += umfFree(v[i]) != UMF_RESULT_SUCCESS;
    }
    return failed;
}

static void *worker(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop))
        atomic_fetch_add(&parent_failures, churn(&seed, 1));
    return NULL;
}

// Exit statuses of the child (0: every check passed).
enum { CHILD_OK = 0, CHILD_ALLOC = 2, CHILD_OWNER = 3, CHILD_DATA = 4, CHILD_FREE = 5,
       CHILD_CHURN = 6 };

// In the child: every pool allocates small and large blocks that hold what
// was written, belong to their pool, and free cleanly.
static int child_checks(unsigned seed) {
    umf_memory_pool_handle_t pools[] = {engine_pool, proxy_pool};
    const size_t sizes[] = {1, 100, 4096, 70000, (size_t)3 << 20};
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            unsigned char *p = umfPoolMalloc(pools[k], n);
            if (!p)
                return CHILD_ALLOC;
            if (umfPoolByPtr(p) != pools[k] || umfPoolByPtr(p + n - 1) != pools[k])
                return CHILD_OWNER;
            for (size_t j = 0; j < n; j++)
                p[j] = (unsigned char)(j * 31 + i + k);
            for (size_t j = 0; j < n; j++)
                if (p[j] != (unsigned char)(j * 31 + i + k))
                    return CHILD_DATA;
            if (umfFree(p) != UMF_RESULT_SUCCESS)
                return CHILD_FREE;
        }
    }
    return churn(&seed, 4) ? CHILD_CHURN : CHILD_OK;
}

static void fork_while_allocating(void **state) {
    (void)state;
    engine_pool = make_pool(umfScalablePoolOps());
    proxy_pool = make_pool(umfProxyPoolOps());
    unsigned seed = (unsigned)test_seed_or("fork_while_allocating", 7);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(seed + i + 1)),
                         0);
    int hung = 0, failed = 0, first_status = 0;
    for (int k = 0; k < 60; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(10); // a deadlocked child dies by SIGALRM
            _exit(child_checks(seed + 100 + (unsigned)k));
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st))
            hung++; // killed (SIGALRM: deadlocked)
        else if (WEXITSTATUS(st) != CHILD_OK && !failed++)
            first_status = WEXITSTATUS(st);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    umfPoolDestroy(engine_pool);
    umfPoolDestroy(proxy_pool);
    assert_int_equal(hung, 0);
    if (failed)
        fail_msg("%d of 60 children failed their allocation checks; first exit status %d "
                 "(2 alloc, 3 owner, 4 data, 5 free, 6 churn)",
                 failed, first_status);
    assert_int_equal(atomic_load(&parent_failures), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(fork_while_allocating)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
