// SPDX-License-Identifier: MIT
// Wrong use of the jemalloc pool (issue 11): frees, reallocs and usable
// sizes of foreign pointers (glibc's malloc, the stack, another jemalloc
// pool, a disjoint pool), of interior pointers and of freed blocks, small
// and large, tracked and untracked, through umfPoolFree and umfFree. Each
// is refused with UMF_RESULT_ERROR_INVALID_ARGUMENT and one log line before
// jemalloc sees the pointer (before the fix: a crash inside jemalloc, or a
// block handed out twice). Afterwards new blocks overlap no live block.
// Also: a racing double free from two threads succeeds exactly once, a
// destroyed jemalloc pool refuses every entry point, and errno is left
// alone by calls that succeed (first pool creation, which loads
// libjemalloc, included).
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <umf/pools/pool_disjoint.h>

#include "../misuse_helpers.h"
#include "jemalloc_test_util.h"

static const size_t sizes[] = {8, 16, 48, 100, 512, 4096, 20000, 300000, 3u << 20};

static umf_memory_pool_handle_t create_pool(test_pool_t *t, bool tracked) {
    memset(t, 0, sizeof *t);
    assert_int_equal(test_os_provider(&t->provider), UMF_RESULT_SUCCESS);
    umf_pool_create_flags_t flags = UMF_POOL_CREATE_FLAG_OWN_PROVIDER;
    if (!tracked)
        flags |= UMF_POOL_CREATE_FLAG_DISABLE_TRACKING;
    assert_int_equal(umfPoolCreate(umfJemallocPoolOps(), t->provider, NULL, flags, &t->pool),
                     UMF_RESULT_SUCCESS);
    return t->pool;
}

// `n` new blocks of `size` overlap neither each other nor `live`; freed after.
static void no_overlap_after(umf_memory_pool_handle_t pool, size_t size, const span_t *live,
                             int nlive) {
    enum { N = 32 };
    span_t v[N + 4];
    void *b[N];
    memcpy(v, live, (size_t)nlive * sizeof *v);
    for (int i = 0; i < N; i++) {
        b[i] = umfPoolMalloc(pool, size);
        assert_non_null(b[i]);
        v[nlive + i] = (span_t){(uintptr_t)b[i], (uintptr_t)b[i] + size};
    }
    int j, i = find_overlap(v, nlive + N, &j);
    if (i >= 0)
        fail_msg("size %zu: blocks %d and %d overlap (%#lx, %#lx)", size, i, j,
                 (unsigned long)v[i].start, (unsigned long)v[j].start);
    for (int k = 0; k < N; k++)
        assert_int_equal(umfPoolFree(pool, b[k]), UMF_RESULT_SUCCESS);
}

static void bad_frees(bool tracked) {
    test_pool_t t, other;
    umf_memory_pool_handle_t pool = create_pool(&t, tracked);
    create_pool(&other, true);
    char local[64];
    for (size_t s = 0; s < ARRAY_SIZE_T(sizes); s++) {
        size_t size = sizes[s];
        char *p = umfPoolMalloc(pool, size), *keep = umfPoolMalloc(pool, size);
        char *o = umfPoolMalloc(other.pool, size);
        char *m = malloc(size);
        assert_true(p && keep && o && m);
        memset(keep, 0x3c, size);
        // foreign: glibc, the stack, another jemalloc pool
        assert_int_equal(umfPoolFree(pool, m), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(pool, local), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(pool, o), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_null(umfPoolRealloc(pool, m, size * 2));
        assert_int_equal(umfPoolGetLastAllocationError(pool), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolMallocUsableSize(pool, o), 0);
        // interior
        size_t offs[] = {8, size / 2 & ~(size_t)7, 1};
        for (size_t k = 0; k < ARRAY_SIZE_T(offs); k++) {
            if (offs[k] == 0 || offs[k] >= size)
                continue;
            assert_int_equal(umfPoolFree(pool, p + offs[k]), UMF_RESULT_ERROR_INVALID_ARGUMENT);
            assert_null(umfPoolRealloc(pool, p + offs[k], size * 2));
            assert_int_equal(umfPoolMallocUsableSize(pool, p + offs[k]), 0);
            if (tracked)
                assert_int_equal(umfFree(p + offs[k]), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        }
        assert_true(umfPoolMallocUsableSize(pool, p) >= size); // p is still live
        // double
        assert_int_equal(umfPoolFree(pool, p), UMF_RESULT_SUCCESS);
        assert_int_equal(umfPoolFree(pool, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfFree(p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_null(umfPoolRealloc(pool, p, size + 1));
        assert_int_equal(umfPoolMallocUsableSize(pool, p), 0);
        // and through umfFree (tracked only: untracked memory is not in the map)
        if (tracked) {
            char *q = umfPoolMalloc(pool, size);
            assert_non_null(q);
            assert_int_equal(umfFree(q), UMF_RESULT_SUCCESS);
            assert_int_equal(umfFree(q), UMF_RESULT_ERROR_INVALID_ARGUMENT);
            assert_int_equal(umfPoolFree(pool, q), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        }
        span_t live[] = {{(uintptr_t)keep, (uintptr_t)keep + size},
                         {(uintptr_t)o, (uintptr_t)o + size}};
        no_overlap_after(pool, size, live, 2);
        for (size_t i = 0; i < size; i += 8)
            assert_int_equal((unsigned char)keep[i], 0x3c);
        assert_int_equal(umfPoolFree(pool, keep), UMF_RESULT_SUCCESS);
        assert_int_equal(umfPoolFree(other.pool, o), UMF_RESULT_SUCCESS); // untouched there
        free(m); // untouched: glibc takes it back
    }
    test_pool_destroy(&t);
    test_pool_destroy(&other);
}

static void bad_frees_tracked(void **state) {
    (void)state;
    bad_frees(true);
}

static void bad_frees_untracked(void **state) {
    (void)state;
    bad_frees(false);
}

// A block of an engine pool is foreign to the jemalloc pool and the other
// way round; realloc of a live block keeps working after refusals.
static void engine_pool_pointers(void **state) {
    (void)state;
    test_pool_t t;
    umf_memory_pool_handle_t pool = create_pool(&t, true);
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t dj;
    umf_disjoint_pool_params_handle_t dp;
    assert_int_equal(test_os_provider(&prov), UMF_RESULT_SUCCESS);
    assert_int_equal(umfDisjointPoolParamsCreate(&dp), UMF_RESULT_SUCCESS);
    assert_int_equal(
        umfPoolCreate(umfDisjointPoolOps(), prov, dp, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &dj),
        UMF_RESULT_SUCCESS);
    umfDisjointPoolParamsDestroy(dp);
    char *d = umfPoolMalloc(dj, 64), *j = umfPoolMalloc(pool, 64);
    assert_true(d && j);
    assert_int_equal(umfPoolFree(pool, d), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolFree(dj, j), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    memset(j, 7, 64);
    char *j2 = umfPoolRealloc(pool, j, 100000); // moves: the old block is freed
    assert_non_null(j2);
    assert_int_equal(j2[63], 7);
    if (j2 != j) {
        assert_int_equal(umfPoolFree(pool, j), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_null(umfPoolRealloc(pool, j, 10));
    }
    assert_int_equal(umfFree(j2), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFree(d), UMF_RESULT_SUCCESS);
    umfPoolDestroy(dj);
    test_pool_destroy(&t);
}

// Two threads free the same blocks at once: each block is freed once.
typedef struct race_t {
    umf_memory_pool_handle_t pool;
    void **blocks;
    int n;
    pthread_barrier_t *go;
    int ok, refused, other;
} race_t;

static void *race_worker(void *arg) {
    race_t *r = arg;
    pthread_barrier_wait(r->go);
    for (int i = 0; i < r->n; i++) {
        umf_result_t res = umfPoolFree(r->pool, r->blocks[i]);
        if (res == UMF_RESULT_SUCCESS)
            r->ok++;
        else if (res == UMF_RESULT_ERROR_INVALID_ARGUMENT)
            r->refused++;
        else
            r->other++;
    }
    return NULL;
}

static void racing_double_free(void **state) {
    (void)state;
    enum { N = 4000 };
    test_pool_t t;
    umf_memory_pool_handle_t pool = create_pool(&t, true);
    static void *blocks[N];
    for (int round = 0; round < 25; round++) {
        for (int i = 0; i < N; i++)
            assert_non_null(blocks[i] = umfPoolMalloc(pool, 16 + (size_t)(i % 7) * 24));
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        race_t r[2] = {{pool, blocks, N, &go, 0, 0, 0}, {pool, blocks, N, &go, 0, 0, 0}};
        pthread_t th[2];
        for (int i = 0; i < 2; i++)
            pthread_create(&th[i], NULL, race_worker, &r[i]);
        for (int i = 0; i < 2; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&go);
        assert_int_equal(r[0].ok + r[1].ok, N);
        assert_int_equal(r[0].refused + r[1].refused, N);
        assert_int_equal(r[0].other + r[1].other, 0);
    }
    // the pool is sound: distinct blocks again
    span_t none[1];
    no_overlap_after(pool, 40, none, 0);
    test_pool_destroy(&t);
}

// A destroyed pool's memory goes back to the provider with its live state
// forgotten: a new pool over the same memory (two fixed providers over one
// buffer, one after the other) must not take the old pool's leaked block
// starts for its own, so interior pointers of its blocks stay refused.
static umf_memory_pool_handle_t fixed_pool(void *buf, size_t size, bool tracked) {
    umf_fixed_memory_provider_params_handle_t fp = NULL;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&fp, buf, size), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fp, &prov),
                     UMF_RESULT_SUCCESS);
    umfFixedMemoryProviderParamsDestroy(fp);
    umf_pool_create_flags_t flags = UMF_POOL_CREATE_FLAG_OWN_PROVIDER;
    if (!tracked)
        flags |= UMF_POOL_CREATE_FLAG_DISABLE_TRACKING;
    assert_int_equal(umfPoolCreate(umfJemallocPoolOps(), prov, NULL, flags, &pool),
                     UMF_RESULT_SUCCESS);
    return pool;
}

static void stale_state_after_destroy(void **state) {
    (void)state;
    enum { SMALL = 20000, BIG = 4 };
    size_t size = 64u << 20;
    char *buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(buf != MAP_FAILED);
    for (int round = 0; round < 2; round++) {
        umf_memory_pool_handle_t pa = fixed_pool(buf, size, round == 0);
        for (int i = 0; i < SMALL; i++) // leaked: most granules of their slabs start one
            assert_non_null(umfPoolMalloc(pa, 8 + (size_t)(i % 2) * 8));
        for (int i = 0; i < BIG; i++)
            assert_non_null(umfPoolMalloc(pa, 1 << 20));
        umfPoolDestroy(pa);
        umf_memory_pool_handle_t pb = fixed_pool(buf, size, round == 0);
        for (int i = 0; i < 400; i++) {
            size_t n = i % 2 ? 4096 : 256;
            char *p = umfPoolMalloc(pb, n);
            assert_non_null(p);
            assert_true(p >= buf && p < buf + size);
            for (size_t off = 8; off < n; off += 120)
                if (umfPoolFree(pb, p + off) != UMF_RESULT_ERROR_INVALID_ARGUMENT)
                    fail_msg("round %d: interior pointer %p+%zu of a new pool's block was taken "
                             "for a block start",
                             round, (void *)p, off);
        }
        umfPoolDestroy(pb);
    }
    munmap(buf, size);
}

static void use_after_destroy(void **state) {
    (void)state;
    test_pool_t t;
    umf_memory_pool_handle_t pool = create_pool(&t, true);
    void *p = umfPoolMalloc(pool, 100);
    assert_non_null(p);
    umfPoolDestroy(pool);
    const char *bad = pool_entry_points_refuse(pool); // ends with a second destroy
    if (bad)
        fail_msg("%s of a destroyed jemalloc pool was not refused", bad);
    assert_int_equal(umfFree(p), UMF_RESULT_ERROR_INVALID_ARGUMENT); // its memory is gone
}

static void one_log_line_each(void **state) {
    (void)state;
    test_pool_t t;
    umf_memory_pool_handle_t pool = create_pool(&t, true);
    char *p = umfPoolMalloc(pool, 64), *m = malloc(64);
    assert_true(p && m);
    char buf[4096];
    for (int i = 0; i < 3; i++) {
        capture_t c;
        capture_start(&c);
        if (i == 0)
            assert_int_equal(umfPoolFree(pool, m), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        else if (i == 1)
            assert_int_equal(umfPoolFree(pool, p + 8), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        else {
            assert_int_equal(umfPoolFree(pool, p), UMF_RESULT_SUCCESS);
            assert_int_equal(umfPoolFree(pool, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        }
        int n = capture_stop(&c, buf, sizeof buf);
        if (n != 1 || !strstr(buf, "not a live block"))
            fail_msg("case %d: %d ERROR lines, want 1:\n%s", i, n, buf);
    }
    free(m);
    test_pool_destroy(&t);
}

#define SENTINEL 4242
#define KEEPS_ERRNO(call)                                                                          \
    do {                                                                                           \
        errno = SENTINEL;                                                                          \
        call;                                                                                      \
        if (errno != SENTINEL)                                                                     \
            fail_msg("%s set errno to %d", #call, errno);                                          \
    } while (0)

// Runs first: the first umfPoolCreate loads libjemalloc.
static void errno_untouched_on_success(void **state) {
    (void)state;
    test_pool_t t;
    memset(&t, 0, sizeof t);
    assert_int_equal(test_os_provider(&t.provider), UMF_RESULT_SUCCESS);
    KEEPS_ERRNO(assert_int_equal(umfPoolCreate(umfJemallocPoolOps(), t.provider, NULL,
                                               UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &t.pool),
                                 UMF_RESULT_SUCCESS));
    void *a, *b, *c;
    KEEPS_ERRNO(assert_non_null(a = umfPoolMalloc(t.pool, 48)));
    KEEPS_ERRNO(assert_non_null(b = umfPoolAlignedMalloc(t.pool, 5000, 4096)));
    KEEPS_ERRNO(assert_non_null(c = umfPoolCalloc(t.pool, 1000, 1000)));
    KEEPS_ERRNO(assert_non_null(c = umfPoolRealloc(t.pool, c, 8u << 20)));
    KEEPS_ERRNO(assert_true(umfPoolMallocUsableSize(t.pool, c) >= (8u << 20)));
    KEEPS_ERRNO(assert_ptr_equal(umfPoolByPtr(a), t.pool));
    KEEPS_ERRNO(assert_int_equal(umfFree(a), UMF_RESULT_SUCCESS));
    KEEPS_ERRNO(assert_int_equal(umfPoolFree(t.pool, b), UMF_RESULT_SUCCESS));
    KEEPS_ERRNO(assert_int_equal(umfPoolFree(t.pool, c), UMF_RESULT_SUCCESS));
    KEEPS_ERRNO(umfPoolDestroy(t.pool));
}

int main(void) {
    misuse_log_on();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errno_untouched_on_success),
        cmocka_unit_test(bad_frees_tracked),
        cmocka_unit_test(bad_frees_untracked),
        cmocka_unit_test(engine_pool_pointers),
        cmocka_unit_test(racing_double_free),
        cmocka_unit_test(stale_state_after_destroy),
        cmocka_unit_test(use_after_destroy),
        cmocka_unit_test(one_log_line_each),
    };
    // test_jemalloc_usable creates a pool: the errno test would miss the load
    if (!HETMEM_TEST_JEMALLOC) {
        if (!test_jemalloc_usable())
            return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
