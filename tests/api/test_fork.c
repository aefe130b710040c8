// SPDX-License-Identifier: MIT
// fork(2) while other threads allocate: the child must be able to allocate
// from the core (heap engine, address map, metadata allocator) at once.
// Without the library's fork handlers a child sometimes inherits a lock
// held by a thread that does not exist in it and hangs; each child here
// must finish within a few seconds or the test fails.
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

static umf_memory_pool_handle_t engine_pool, proxy_pool;
static atomic_bool stop;

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
static void churn(unsigned *seed, int rounds) {
    void *v[16];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 16; i++) {
            size_t big = ((size_t)(rand_r(seed) % 64) + 1) << 16; // 64 KiB .. 4 MiB
            v[i] = i & 1 ? umfPoolMalloc(engine_pool, big) : umfPoolMalloc(proxy_pool, 100);
        }
        for (int i = 0; i < 16; i++)
            if (v[i])
                umfFree(v[i]);
    }
}

static void *worker(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop))
        churn(&seed, 1);
    return NULL;
}

static void fork_while_allocating(void **state) {
    (void)state;
    engine_pool = make_pool(umfScalablePoolOps());
    proxy_pool = make_pool(umfProxyPoolOps());
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)), 0);
    int hung = 0;
    for (int k = 0; k < 60; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(10); // a deadlocked child dies by SIGALRM
            unsigned seed = 7;
            churn(&seed, 4);
            _exit(0);
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            hung++;
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    umfPoolDestroy(engine_pool);
    umfPoolDestroy(proxy_pool);
    assert_int_equal(hung, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(fork_while_allocating)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
