// SPDX-License-Identifier: MIT
// The jemalloc pool's life cycle and its effect on the process: a fixed
// provider running out (NULL + OUT_OF_HOST_MEMORY, usable again after
// frees), destroy with live allocations returning every byte to the
// provider (counted, with and without the address map), short-lived
// threads, many pools created and destroyed, and the process's own malloc
// left alone (libjemalloc is loaded privately).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "jemalloc_test_util.h"

#define MiB ((size_t)1 << 20)

// ---- exhaustion ------------------------------------------------------------------------

#define EXH_BLOCK (64 * 1024)
#define EXH_MAX 4096

typedef struct exh_t {
    umf_memory_pool_handle_t pool;
    void *blocks[EXH_MAX];
    size_t n;
} exh_t;

static size_t fill_until_full(umf_memory_pool_handle_t pool, void **blocks, size_t max) {
    size_t n = 0;
    for (; n < max; n++) {
        blocks[n] = umfPoolMalloc(pool, EXH_BLOCK);
        if (!blocks[n])
            break;
        memset(blocks[n], 0x11, EXH_BLOCK);
    }
    return n;
}

static void *fill_in_thread(void *arg) {
    exh_t *e = arg;
    e->n = fill_until_full(e->pool, e->blocks, EXH_MAX);
    return NULL;
}

static void fixed_provider_exhaustion(void **state) {
    (void)state;
    // several arenas: memory one arena freed must serve the others too
    hetmem_jemalloc_pool_params_handle_t hp;
    assert_int_equal(hetmem_jemalloc_pool_params_create(&hp), UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_jemalloc_pool_params_set_num_arenas(hp, 4), UMF_RESULT_SUCCESS);
    test_pool_t t;
    assert_int_equal(test_pool_create(&t, TP_FIXED, 16 * MiB, hp), UMF_RESULT_SUCCESS);
    hetmem_jemalloc_pool_params_destroy(hp);
    static exh_t main_, other;
    size_t n = fill_until_full(t.pool, main_.blocks, EXH_MAX);
    assert_true(n < EXH_MAX);                  // it did run out
    assert_true(n * EXH_BLOCK >= 12 * MiB);    // after using most of the buffer
    assert_true(n * EXH_BLOCK <= 16 * MiB);
    assert_int_equal(umfPoolGetLastAllocationError(t.pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    // usable again after frees, from this thread ...
    for (size_t i = 0; i < n; i++)
        assert_int_equal(umfFree(main_.blocks[i]), UMF_RESULT_SUCCESS);
    size_t again = fill_until_full(t.pool, main_.blocks, EXH_MAX);
    assert_int_equal(again, n); // the same number fits again
    for (size_t i = 0; i < again; i++)
        umfPoolFree(t.pool, main_.blocks[i]);
    // ... and from a thread that may use another arena of the pool
    other.pool = t.pool;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, fill_in_thread, &other), 0);
    pthread_join(th, NULL);
    printf("  %zu blocks of 64 KiB, again %zu, from another thread %zu\n", n, again, other.n);
    assert_true(other.n * 10 >= n * 9);
    for (size_t i = 0; i < other.n; i++)
        umfPoolFree(t.pool, other.blocks[i]);
    // a larger block fits once the small ones are gone
    void *big = umfPoolMalloc(t.pool, 1 * MiB);
    assert_non_null(big);
    umfPoolFree(t.pool, big);
    test_pool_destroy(&t);
}

// ---- destroy returns everything ---------------------------------------------------------

static void *hold_blocks(void *arg) {
    umf_memory_pool_handle_t pool = arg;
    for (int i = 0; i < 500; i++) {
        void *p = umfPoolMalloc(pool, 16 + (size_t)i * 97);
        if (!p)
            return (void *)1;
        if (i % 3 == 0)
            umfPoolFree(pool, p); // some go to this thread's tcache
    }
    return NULL;
}

static void destroy_returns_all(umf_pool_create_flags_t flags) {
    static counting_t c;
    memset(&c, 0, sizeof c);
    umf_memory_provider_ops_t ops = counting_ops();
    umf_memory_provider_handle_t prov;
    assert_int_equal(umfMemoryProviderCreate(&ops, &c, &prov), UMF_RESULT_SUCCESS);
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfPoolCreate(umfJemallocPoolOps(), prov, NULL, flags, &pool),
                     UMF_RESULT_SUCCESS);
    // live allocations of every kind: small, large, huge, aligned, realloc'd
    for (int i = 0; i < 3000; i++) {
        void *p = umfPoolMalloc(pool, 1 + (size_t)(i * 131) % 5000);
        assert_non_null(p);
        if (i % 4 == 0)
            umfPoolFree(pool, p);
    }
    assert_non_null(umfPoolMalloc(pool, 3 * MiB));
    assert_non_null(umfPoolMalloc(pool, 40 * MiB));
    assert_non_null(umfPoolAlignedMalloc(pool, 100, 2 * MiB));
    void *r = umfPoolMalloc(pool, 100);
    assert_non_null(umfPoolRealloc(pool, r, 300000));
    // other threads leave blocks and tcaches behind
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hold_blocks, pool), 0);
    for (int i = 0; i < 3; i++) {
        void *res;
        pthread_join(th[i], &res);
        assert_null(res);
    }
    assert_true(atomic_load(&c.allocs) > 0);
    assert_true(atomic_load(&c.bytes_out) > atomic_load(&c.bytes_back));
    umfPoolDestroy(pool);
    printf("  provider: %zu allocs, %zu frees, %zu splits, %zu merges, %zu bytes out, %zu back\n",
           atomic_load(&c.allocs), atomic_load(&c.frees), atomic_load(&c.splits),
           atomic_load(&c.merges), atomic_load(&c.bytes_out), atomic_load(&c.bytes_back));
    assert_int_equal(atomic_load(&c.bytes_out), atomic_load(&c.bytes_back));
    // every piece the provider handed out or split off came back once
    assert_int_equal(atomic_load(&c.frees),
                     atomic_load(&c.allocs) + atomic_load(&c.splits) - atomic_load(&c.merges));
    umfMemoryProviderDestroy(prov);
}

// Without the address map the pool glue cannot clean up behind the pool:
// the arenas' destruction alone must give every byte back.
static void destroy_returns_all_untracked(void **state) {
    (void)state;
    destroy_returns_all(UMF_POOL_CREATE_FLAG_DISABLE_TRACKING);
}

static void destroy_returns_all_tracked(void **state) {
    (void)state;
    destroy_returns_all(0);
}

// ---- many pools, many threads --------------------------------------------------------

static void *short_lived(void *arg) {
    umf_memory_pool_handle_t *pools = arg;
    for (int k = 0; k < 3; k++) {
        void *p = umfPoolMalloc(pools[k], 64);
        if (!p)
            return (void *)1;
        umfPoolFree(pools[k], p);
    }
    return NULL;
}

static void pools_and_threads_churn(void **state) {
    (void)state;
    // threads come and go: their tcaches are handed back and reused
    test_pool_t t[3];
    umf_memory_pool_handle_t pools[3];
    for (int k = 0; k < 3; k++) {
        assert_int_equal(test_pool_create(&t[k], TP_OS, 0, NULL), UMF_RESULT_SUCCESS);
        pools[k] = t[k].pool;
    }
    for (int i = 0; i < 100; i++) {
        pthread_t th;
        void *res;
        assert_int_equal(pthread_create(&th, NULL, short_lived, pools), 0);
        pthread_join(th, &res);
        assert_null(res);
    }
    for (int k = 0; k < 3; k++)
        test_pool_destroy(&t[k]);
    // pools come and go: arenas are destroyed and their indices reused
    for (int i = 0; i < 200; i++) {
        test_pool_t x;
        assert_int_equal(test_pool_create(&x, TP_OS, 0, NULL), UMF_RESULT_SUCCESS);
        void *p = umfPoolMalloc(x.pool, 1000);
        assert_non_null(p);
        assert_ptr_equal(umfPoolByPtr(p), x.pool);
        if (i % 2)
            umfFree(p); // else left for destroy
        test_pool_destroy(&x);
    }
}

// ---- the process's malloc ------------------------------------------------------------------

static void process_malloc_untouched(void **state) {
    (void)state;
    test_pool_t t;
    assert_int_equal(test_pool_create(&t, TP_OS, 0, NULL), UMF_RESULT_SUCCESS);
    void *p = umfPoolMalloc(t.pool, 100);
    assert_non_null(p);
    // libjemalloc is loaded ...
    void *h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_NOLOAD);
    assert_non_null(h);
    dlclose(h);
    // ... but none of its symbols is in the global scope
    assert_null(dlsym(RTLD_DEFAULT, "mallocx"));
    assert_null(dlsym(RTLD_DEFAULT, "mallctl"));
    // and malloc/free are still libc's (or a sanitizer's), not jemalloc's
    static const char *const fns[] = {"malloc", "free", "calloc", "realloc", "posix_memalign"};
    for (size_t i = 0; i < ARRAY_SIZE_T(fns); i++) {
        Dl_info info;
        void *f = dlsym(RTLD_DEFAULT, fns[i]);
        assert_non_null(f);
        assert_true(dladdr(f, &info) != 0);
        assert_non_null(info.dli_fname);
        if (strstr(info.dli_fname, "jemalloc"))
            fail_msg("%s comes from %s", fns[i], info.dli_fname);
        if (!TEST_SANITIZED && !strstr(info.dli_fname, "libc.so"))
            fail_msg("%s comes from %s, not libc", fns[i], info.dli_fname);
    }
    // a pool block is not a malloc block and the other way round: glibc's
    // malloc still works and its usable size is its own
    char *m = malloc(100);
    assert_non_null(m);
    assert_true(malloc_usable_size(m) >= 100);
    assert_null(umfPoolByPtr(m));
    assert_int_equal(umfFree(m), UMF_RESULT_ERROR_INVALID_ARGUMENT); // not ours: ignored
    free(m);
    umfPoolFree(t.pool, p);
    test_pool_destroy(&t);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); // a crash keeps what was printed
    if (!test_jemalloc_usable())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_provider_exhaustion),
        cmocka_unit_test(destroy_returns_all_untracked),
        cmocka_unit_test(destroy_returns_all_tracked),
        cmocka_unit_test(pools_and_threads_churn),
        cmocka_unit_test(process_malloc_untouched),
    };
    return cmocka_run_group_tests_name("jemalloc pool life cycle", tests, NULL, NULL);
}
