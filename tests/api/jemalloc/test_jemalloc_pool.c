// SPDX-License-Identifier: MIT
// The jemalloc pool over the OS provider and over a fixed provider: sizes
// 0..64 MiB, alignments 8..4 MiB, calloc (zeroing, overflow), realloc,
// usable size, the address map (umfPoolByPtr, umfFree), two pools at once,
// four threads freeing each other's blocks, per-thread last errors, params.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "jemalloc_test_util.h"
#include "test_seed.h"

#define MiB ((size_t)1 << 20)
#define FIXED_BUF (512 * MiB)

static int setup_os(void **state) {
    static test_pool_t t;
    if (test_pool_create(&t, TP_OS, 0, NULL) != UMF_RESULT_SUCCESS)
        return -1;
    *state = &t;
    return 0;
}

static int setup_fixed(void **state) {
    static test_pool_t t;
    if (test_pool_create(&t, TP_FIXED, FIXED_BUF, NULL) != UMF_RESULT_SUCCESS)
        return -1;
    *state = &t;
    return 0;
}

static int teardown(void **state) {
    test_pool_destroy(*state);
    return 0;
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed + i * 7);
}

static bool check(const unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(seed + i * 7))
            return false;
    return true;
}

// ---- sizes, alignment, usable size, the address map ---------------------------------

static void malloc_sizes(void **state) {
    test_pool_t *t = *state;
    static const size_t sizes[] = {0,        1,        7,           8,       15,      16,
                                   17,       100,      512,         1000,    4096,    4097,
                                   16384,    32769,    100000,      MiB,     2 * MiB + 3,
                                   8 * MiB,  64 * MiB};
    void *ptrs[ARRAY_SIZE_T(sizes)];
    for (size_t i = 0; i < ARRAY_SIZE_T(sizes); i++) {
        size_t n = sizes[i];
        unsigned char *p = umfPoolMalloc(t->pool, n);
        assert_non_null(p);
        assert_true(umfPoolMallocUsableSize(t->pool, p) >= n);
        assert_ptr_equal(umfPoolByPtr(p), t->pool);
        if (n) {
            assert_ptr_equal(umfPoolByPtr(p + n - 1), t->pool);
            fill(p, n < MiB ? n : 4096, (unsigned)i);
            p[n - 1] = 0x5a;
        }
        ptrs[i] = p;
    }
    for (size_t i = 0; i < ARRAY_SIZE_T(sizes); i++) {
        size_t n = sizes[i];
        unsigned char *p = ptrs[i];
        if (n) {
            assert_true(check(p, n < MiB ? (n > 1 ? n - 1 : 0) : 4096, (unsigned)i));
            assert_int_equal(p[n - 1], 0x5a);
        }
        // half through the pool, half found through the address map
        if (i % 2)
            assert_int_equal(umfPoolFree(t->pool, p), UMF_RESULT_SUCCESS);
        else
            assert_int_equal(umfFree(p), UMF_RESULT_SUCCESS);
    }
    assert_int_equal(umfPoolFree(t->pool, NULL), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolMallocUsableSize(t->pool, NULL), 0);
}

static void aligned_sizes(void **state) {
    test_pool_t *t = *state;
    for (size_t align = 8; align <= 4 * MiB; align *= 2) {
        size_t sizes[] = {1, 100, align, align + align / 2};
        for (size_t k = 0; k < ARRAY_SIZE_T(sizes); k++) {
            unsigned char *p = umfPoolAlignedMalloc(t->pool, sizes[k], align);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % align, 0);
            assert_true(umfPoolMallocUsableSize(t->pool, p) >= sizes[k]);
            assert_ptr_equal(umfPoolByPtr(p + sizes[k] - 1), t->pool);
            p[0] = 1;
            p[sizes[k] - 1] = 2;
            assert_int_equal(umfFree(p), UMF_RESULT_SUCCESS);
        }
    }
    // alignment 0 is plain malloc; a non-power of two is refused
    void *p = umfPoolAlignedMalloc(t->pool, 64, 0);
    assert_non_null(p);
    umfPoolFree(t->pool, p);
    assert_null(umfPoolAlignedMalloc(t->pool, 64, 24));
    assert_int_equal(umfPoolGetLastAllocationError(t->pool), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
}

static void calloc_zeroes_and_overflow(void **state) {
    test_pool_t *t = *state;
    static const size_t sizes[] = {8, 64, 4096, 40000, MiB, 4 * MiB, 16 * MiB};
    for (size_t i = 0; i < ARRAY_SIZE_T(sizes); i++) {
        size_t n = sizes[i];
        // dirty memory of this size class first, so calloc may reuse it
        for (int rep = 0; rep < 3; rep++) {
            unsigned char *d = umfPoolMalloc(t->pool, n);
            assert_non_null(d);
            memset(d, 0xab, n);
            umfPoolFree(t->pool, d);
        }
        unsigned char *z = umfPoolCalloc(t->pool, n / 8, 8);
        assert_non_null(z);
        for (size_t j = 0; j < n; j++)
            if (z[j]) {
                fail_msg("calloc(%zu) byte %zu is 0x%x", n, j, z[j]);
            }
        umfPoolFree(t->pool, z);
    }
    volatile size_t huge = SIZE_MAX / 2; // hide the overflow from -Walloc-size-larger-than
    assert_null(umfPoolCalloc(t->pool, huge, 3));
    assert_int_equal(umfPoolGetLastAllocationError(t->pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    void *p = umfPoolCalloc(t->pool, 0, 16);
    assert_non_null(p);
    umfPoolFree(t->pool, p);
}

static void realloc_keeps_contents(void **state) {
    test_pool_t *t = *state;
    unsigned char *p = umfPoolRealloc(t->pool, NULL, 16); // NULL: malloc
    assert_non_null(p);
    fill(p, 16, 3);
    size_t n = 16;
    for (size_t m = 40; m <= 8 * MiB; m = m * 3 + 1) { // grow across classes
        p = umfPoolRealloc(t->pool, p, m);
        assert_non_null(p);
        assert_true(check(p, n, 3));
        assert_true(umfPoolMallocUsableSize(t->pool, p) >= m);
        assert_ptr_equal(umfPoolByPtr(p + m - 1), t->pool);
        fill(p, m, 3);
        n = m;
    }
    for (size_t m = n / 5; m >= 8; m /= 5) { // and shrink, in place
        unsigned char *q = umfPoolRealloc(t->pool, p, m);
        assert_ptr_equal(q, p);
        assert_true(check(p, m, 3));
        assert_true(umfPoolMallocUsableSize(t->pool, p) >= m);
    }
    assert_null(umfPoolRealloc(t->pool, p, 0)); // size 0 frees
}

static void huge_request_fails_cleanly(void **state) {
    test_pool_t *t = *state;
    assert_null(umfPoolMalloc(t->pool, SIZE_MAX / 2));
    assert_int_equal(umfPoolGetLastAllocationError(t->pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    void *p = umfPoolMalloc(t->pool, 100);
    assert_non_null(p);
    assert_int_equal(umfFree(p), UMF_RESULT_SUCCESS);
}

// ---- two pools ----------------------------------------------------------------------

static void two_pools(void **state) {
    test_pool_t *a = *state, b;
    assert_int_equal(test_pool_create(&b, TP_OS, 0, NULL), UMF_RESULT_SUCCESS);
    enum { N = 2000 };
    static void *pa[N], *pb[N];
    for (int i = 0; i < N; i++) {
        size_t n = 16 + (size_t)(i * 37) % 70000;
        pa[i] = umfPoolMalloc(a->pool, n);
        pb[i] = umfPoolMalloc(b.pool, n);
        assert_non_null(pa[i]);
        assert_non_null(pb[i]);
        memset(pa[i], 0xaa, 16);
        memset(pb[i], 0xbb, 16);
    }
    for (int i = 0; i < N; i++) {
        assert_ptr_equal(umfPoolByPtr(pa[i]), a->pool);
        assert_ptr_equal(umfPoolByPtr(pb[i]), b.pool);
        assert_int_equal(umfFree(pa[i]), UMF_RESULT_SUCCESS);
        assert_int_equal(umfFree(pb[i]), UMF_RESULT_SUCCESS);
    }
    // A block freed into pool A is reused by A and never handed out by B.
    void *x = umfPoolMalloc(a->pool, 48);
    assert_non_null(x);
    assert_int_equal(umfFree(x), UMF_RESULT_SUCCESS);
    void *y = umfPoolMalloc(b.pool, 48);
    assert_ptr_not_equal(y, x);
    assert_ptr_equal(umfPoolByPtr(y), b.pool);
    void *z = umfPoolMalloc(a->pool, 48);
    assert_ptr_equal(z, x); // jemalloc reuses the freed region (tcache LIFO / lowest region)
    umfFree(y);
    umfFree(z);
    test_pool_destroy(&b);
}

// ---- threads -----------------------------------------------------------------------------

#define NTHREADS 4
#define PER_THREAD 3000
#define ROUNDS 4

typedef struct mt_t {
    umf_memory_pool_handle_t pool;
    pthread_barrier_t barrier;
    unsigned char *blocks[NTHREADS][PER_THREAD];
    size_t sizes[NTHREADS][PER_THREAD];
    atomic_int errors;
} mt_t;

typedef struct mt_arg_t {
    mt_t *mt;
    int id;
} mt_arg_t;

static void *mt_worker(void *arg) {
    mt_arg_t *a = arg;
    mt_t *mt = a->mt;
    unsigned seed = 77u * (unsigned)a->id + 1 + (unsigned)test_seed_base("test_jemalloc_pool");
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < PER_THREAD; i++) {
            seed = seed * 1103515245u + 12345u;
            size_t n = (seed >> 8) % 4 == 0 ? 1 + (seed >> 12) % 200000 : 1 + (seed >> 12) % 600;
            unsigned char *p = (seed >> 4) % 3 == 0 ? umfPoolCalloc(mt->pool, 1, n)
                                                    : umfPoolMalloc(mt->pool, n);
            if (!p) {
                atomic_fetch_add(&mt->errors, 1);
                continue;
            }
            memset(p, a->id + 1, n);
            mt->blocks[a->id][i] = p;
            mt->sizes[a->id][i] = n;
        }
        pthread_barrier_wait(&mt->barrier);
        // free the blocks of the next thread (its arena, maybe its tcache's)
        int victim = (a->id + 1) % NTHREADS;
        for (int i = 0; i < PER_THREAD; i++) {
            unsigned char *p = mt->blocks[victim][i];
            if (!p)
                continue;
            size_t n = mt->sizes[victim][i];
            if (p[0] != victim + 1 || p[n - 1] != victim + 1 ||
                umfPoolByPtr(p) != mt->pool)
                atomic_fetch_add(&mt->errors, 1);
            umf_result_t r = i % 2 ? umfFree(p) : umfPoolFree(mt->pool, p);
            if (r != UMF_RESULT_SUCCESS)
                atomic_fetch_add(&mt->errors, 1);
            mt->blocks[victim][i] = NULL;
        }
        pthread_barrier_wait(&mt->barrier);
    }
    return NULL;
}

static void threads_cross_free(void **state) {
    test_pool_t *t = *state;
    static mt_t mt;
    memset(&mt, 0, sizeof mt);
    mt.pool = t->pool;
    pthread_barrier_init(&mt.barrier, NULL, NTHREADS);
    pthread_t th[NTHREADS];
    mt_arg_t args[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        args[i] = (mt_arg_t){&mt, i};
        assert_int_equal(pthread_create(&th[i], NULL, mt_worker, &args[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&mt.barrier);
    assert_int_equal(atomic_load(&mt.errors), 0);
    // the exited threads gave their tcaches back; the pool still works
    void *p = umfPoolMalloc(t->pool, 100);
    assert_non_null(p);
    umfFree(p);
}

// The last allocation error is that of the thread's last failed allocation
// in the pool: a failure in one thread is not seen by another.
static void *fail_in_thread(void *arg) {
    umf_memory_pool_handle_t pool = arg;
    void *p = umfPoolMalloc(pool, SIZE_MAX / 2);
    return (void *)(uintptr_t)(p == NULL && umfPoolGetLastAllocationError(pool) ==
                                                UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
}

static void *succeed_in_thread(void *arg) {
    umf_memory_pool_handle_t pool = arg;
    void *p = umfPoolMalloc(pool, 10);
    umfFree(p);
    return (void *)(uintptr_t)(p != NULL &&
                               umfPoolGetLastAllocationError(pool) == UMF_RESULT_SUCCESS);
}

static void last_error_per_thread(void **state) {
    test_pool_t *t = *state;
    pthread_t a, b;
    void *ok_a = NULL, *ok_b = NULL;
    assert_int_equal(pthread_create(&a, NULL, fail_in_thread, t->pool), 0);
    pthread_join(a, &ok_a);
    assert_int_equal(pthread_create(&b, NULL, succeed_in_thread, t->pool), 0);
    pthread_join(b, &ok_b);
    assert_true(ok_a != NULL);
    assert_true(ok_b != NULL);
    // another pool's failure is not this pool's error
    test_pool_t other;
    assert_int_equal(test_pool_create(&other, TP_OS, 0, NULL), UMF_RESULT_SUCCESS);
    assert_int_equal(pthread_create(&b, NULL, succeed_in_thread, other.pool), 0);
    pthread_join(b, &ok_b);
    assert_true(ok_b != NULL);
    assert_null(umfPoolMalloc(t->pool, SIZE_MAX / 2));
    assert_int_equal(umfPoolGetLastAllocationError(other.pool), UMF_RESULT_SUCCESS);
    test_pool_destroy(&other);
}

// ---- params -----------------------------------------------------------------------------

static void params(void **state) {
    (void)state;
    hetmem_jemalloc_pool_params_handle_t hp = NULL;
    assert_int_equal(hetmem_jemalloc_pool_params_create(NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(hetmem_jemalloc_pool_params_create(&hp), UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_jemalloc_pool_params_set_num_arenas(hp, 65),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(hetmem_jemalloc_pool_params_set_num_arenas(NULL, 1),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(hetmem_jemalloc_pool_params_set_tcache(NULL, false),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    // one arena, no tcache: every call goes to the arena's bins
    assert_int_equal(hetmem_jemalloc_pool_params_set_num_arenas(hp, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_jemalloc_pool_params_set_tcache(hp, false), UMF_RESULT_SUCCESS);
    test_pool_t t;
    assert_int_equal(test_pool_create(&t, TP_OS, 0, hp), UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_jemalloc_pool_params_destroy(hp), UMF_RESULT_SUCCESS);
    void *a = umfPoolMalloc(t.pool, 100), *b = umfPoolMalloc(t.pool, 1 << 20);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_equal(umfPoolByPtr(b), t.pool);
    umfFree(a);
    umfFree(b);
    test_pool_destroy(&t);
    // 64 arenas
    assert_int_equal(hetmem_jemalloc_pool_params_create(&hp), UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_jemalloc_pool_params_set_num_arenas(hp, 64), UMF_RESULT_SUCCESS);
    assert_int_equal(test_pool_create(&t, TP_OS, 0, hp), UMF_RESULT_SUCCESS);
    hetmem_jemalloc_pool_params_destroy(hp);
    a = umfPoolMalloc(t.pool, 100);
    assert_non_null(a);
    umfFree(a);
    test_pool_destroy(&t);
    // something that is not our params is refused
    int junk[8] = {0};
    assert_int_equal(test_pool_create(&t, TP_OS, 0, junk), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(hetmem_jemalloc_pool_params_destroy(NULL), UMF_RESULT_SUCCESS);
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0); // a crash keeps what was printed
    if (!test_jemalloc_usable())
        return 1;
#define PER_PROVIDER(s)                                                                            \
    cmocka_unit_test(malloc_sizes), cmocka_unit_test(aligned_sizes),                               \
        cmocka_unit_test(calloc_zeroes_and_overflow), cmocka_unit_test(realloc_keeps_contents),    \
        cmocka_unit_test(huge_request_fails_cleanly), cmocka_unit_test(two_pools),                 \
        cmocka_unit_test(threads_cross_free), cmocka_unit_test(last_error_per_thread)
    const struct CMUnitTest over_os[] = {PER_PROVIDER(os)};
    const struct CMUnitTest over_fixed[] = {PER_PROVIDER(fixed)};
    const struct CMUnitTest misc[] = {cmocka_unit_test(params)};
    int fails = cmocka_run_group_tests_name("jemalloc pool over the OS provider", over_os,
                                            setup_os, teardown);
    fails += cmocka_run_group_tests_name("jemalloc pool over a fixed provider", over_fixed,
                                         setup_fixed, teardown);
    fails += cmocka_run_group_tests_name("jemalloc pool params", misc, NULL, NULL);
    return fails ? 1 : 0;
}
