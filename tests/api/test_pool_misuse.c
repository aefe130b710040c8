// SPDX-License-Identifier: MIT
// Wrong use of the pool API (issue 11) on the proxy, disjoint and scalable
// pools and a user-defined pool: garbage handles, handles used after
// umfPoolDestroy, double destroy, foreign / interior / double frees
// through umfPoolFree and umfFree, errno left alone by calls that succeed.
// Every refusal is UMF_RESULT_ERROR_INVALID_ARGUMENT (NULL or 0 where the
// call returns memory or a size) plus one log line; nothing changes.
// The jemalloc pool's share is tests/api/jemalloc/test_jemalloc_misuse.c.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <umf.h>
#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_proxy.h>
#include <umf/pools/pool_scalable.h>

#include "misuse_helpers.h"
#include "test_helpers.h"

static unsigned seed;

// ---- pools of every kind over the counting test provider ----------------------

typedef enum kind_t { K_PROXY, K_PROXY_UNTRACKED, K_DISJOINT, K_SCALABLE, K_USER, K_COUNT } kind_t;
static const char *const kind_name[K_COUNT] = {"proxy", "proxy untracked", "disjoint",
                                               "scalable", "user-defined"};

// A user-defined pool: fixed 64-byte blocks from one provider allocation,
// with a free list; counts the frees its op receives.
#define U_BLOCK 64
#define U_SPAN (1 << 16)
typedef struct upool_t {
    umf_memory_provider_handle_t prov;
    char *base;
    void *free_list;
    size_t next;
    int free_calls;
} upool_t;
static upool_t upool_state;
static umf_result_t u_init(umf_memory_provider_handle_t prov, void *params, void **out) {
    (void)params;
    upool_t *u = &upool_state;
    memset(u, 0, sizeof *u);
    u->prov = prov;
    *out = u;
    return umfMemoryProviderAlloc(prov, U_SPAN, 4096, (void **)&u->base);
}
static void u_fini(void *pool) {
    upool_t *u = pool;
    umfMemoryProviderFree(u->prov, u->base, U_SPAN);
}
static void *u_malloc(void *pool, size_t size) {
    upool_t *u = pool;
    if (size > U_BLOCK)
        return NULL;
    if (u->free_list) {
        void *p = u->free_list;
        u->free_list = *(void **)p;
        return p;
    }
    if (u->next + U_BLOCK > U_SPAN)
        return NULL;
    u->next += U_BLOCK;
    return u->base + u->next - U_BLOCK;
}
static void *u_calloc(void *pool, size_t n, size_t s) {
    void *p = u_malloc(pool, n * s);
    if (p)
        memset(p, 0, n * s);
    return p;
}
static void *u_realloc(void *pool, void *p, size_t s) {
    return s <= U_BLOCK ? p : ((void)pool, NULL);
}
static void *u_aligned(void *pool, size_t s, size_t a) { return a <= U_BLOCK ? u_malloc(pool, s) : NULL; }
static size_t u_usable(void *pool, void *p) { return (void)pool, (void)p, U_BLOCK; }
static umf_result_t u_free(void *pool, void *p) {
    upool_t *u = pool;
    u->free_calls++;
    if (p) {
        *(void **)p = u->free_list;
        u->free_list = p;
    }
    return UMF_RESULT_SUCCESS;
}
static umf_result_t u_err(void *pool) { return (void)pool, UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY; }
static umf_memory_pool_ops_t user_ops = {UMF_VERSION_CURRENT, u_init, u_fini, u_malloc,
                                         u_calloc, u_realloc, u_aligned, u_usable,
                                         u_free, u_err};

typedef struct fix_t {
    test_provider_t tp;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
} fix_t;

// Creates provider + pool (OWN_PROVIDER); errno is not looked at here.
static void fix_create(fix_t *f, kind_t k) {
    memset(f, 0, sizeof *f);
    umf_memory_provider_ops_t ops = test_provider_ops();
    assert_int_equal(umfMemoryProviderCreate(&ops, &f->tp, &f->prov), UMF_RESULT_SUCCESS);
    const umf_memory_pool_ops_t *pops = umfProxyPoolOps();
    void *params = NULL;
    umf_disjoint_pool_params_handle_t dp = NULL;
    umf_pool_create_flags_t flags = UMF_POOL_CREATE_FLAG_OWN_PROVIDER;
    if (k == K_PROXY_UNTRACKED)
        flags |= UMF_POOL_CREATE_FLAG_DISABLE_TRACKING;
    if (k == K_DISJOINT) {
        assert_int_equal(umfDisjointPoolParamsCreate(&dp), UMF_RESULT_SUCCESS);
        pops = umfDisjointPoolOps();
        params = dp;
    } else if (k == K_SCALABLE) {
        pops = umfScalablePoolOps();
    } else if (k == K_USER) {
        pops = &user_ops;
    }
    assert_int_equal(umfPoolCreate(pops, f->prov, params, flags, &f->pool), UMF_RESULT_SUCCESS);
    if (dp)
        umfDisjointPoolParamsDestroy(dp);
}

// ---- bad handles --------------------------------------------------------------------

static void garbage_handles(void **state) {
    (void)state;
    unsigned char zeros[512] = {0}, rnd[512], copy[512];
    srand(seed);
    for (size_t i = 0; i < sizeof rnd; i++)
        rnd[i] = (unsigned char)rand();
    memcpy(copy, rnd, sizeof rnd);
    const char *bad = pool_entry_points_refuse((umf_memory_pool_handle_t)zeros);
    if (bad)
        fail_msg("zeroed handle: %s was not refused", bad);
    bad = pool_entry_points_refuse((umf_memory_pool_handle_t)rnd);
    if (bad)
        fail_msg("random handle (seed %u): %s was not refused", seed, bad);
    // nothing was written through the handles
    for (size_t i = 0; i < sizeof zeros; i++)
        assert_int_equal(zeros[i], 0);
    assert_memory_equal(rnd, copy, sizeof rnd);
    // a handle of another type (a provider) is garbage to the pool API
    fix_t f;
    fix_create(&f, K_PROXY);
    bad = pool_entry_points_refuse((umf_memory_pool_handle_t)f.prov);
    if (bad)
        fail_msg("provider handle as pool: %s was not refused", bad);
    assert_int_equal(f.tp.finalized, 0);
    void *p = umfPoolMalloc(f.pool, 32); // both still work
    assert_non_null(p);
    assert_int_equal(umfPoolFree(f.pool, p), UMF_RESULT_SUCCESS);
    umfPoolDestroy(f.pool);
    assert_int_equal(f.tp.finalized, 1);
}

// After umfPoolDestroy every entry point refuses the handle, destroy again
// included (the provider is not destroyed twice), for every pool kind.
static void use_after_destroy(void **state) {
    (void)state;
    for (kind_t k = 0; k < K_COUNT; k++) {
        fix_t f;
        fix_create(&f, k);
        void *p = umfPoolMalloc(f.pool, 40);
        assert_non_null(p);
        assert_int_equal(umfPoolFree(f.pool, p), UMF_RESULT_SUCCESS);
        umfPoolDestroy(f.pool);
        assert_int_equal(f.tp.finalized, 1);
        assert_int_equal(f.tp.allocs, f.tp.frees);
        const char *bad = pool_entry_points_refuse(f.pool); // ends with a second destroy
        if (bad)
            fail_msg("%s pool: %s of a destroyed handle was not refused", kind_name[k], bad);
        umfPoolDestroy(f.pool); // a third time
        assert_int_equal(f.tp.finalized, 1);
        // a new pool works, and the old handle stays refused
        fix_t g;
        fix_create(&g, k);
        void *q = umfPoolMalloc(g.pool, 40);
        assert_non_null(q);
        assert_null(umfPoolMalloc(f.pool, 40));
        assert_int_equal(umfPoolFree(g.pool, q), UMF_RESULT_SUCCESS);
        umfPoolDestroy(g.pool);
    }
}

// Destroyed handles are not reused for the next pools (a quarantine of
// recently destroyed structs), so they stay refused while new pools live.
static void destroyed_handles_stay_refused(void **state) {
    (void)state;
    enum { N = 48 };
    umf_memory_pool_handle_t dead[N];
    fix_t live[N];
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            fix_t f;
            fix_create(&f, K_PROXY);
            dead[i] = f.pool;
            umfPoolDestroy(f.pool);
        }
        for (int i = 0; i < N; i++)
            fix_create(&live[i], K_PROXY);
        for (int i = 0; i < N; i++) {
            for (int j = 0; j < N; j++)
                if (live[j].pool == dead[i])
                    fail_msg("round %d: destroyed handle %d reused at once by pool %d", round, i,
                             j);
            assert_null(umfPoolMalloc(dead[i], 8));
            assert_int_equal(umfPoolFree(dead[i], NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        }
        for (int i = 0; i < N; i++)
            umfPoolDestroy(live[i].pool);
    }
}

// ---- frees ----------------------------------------------------------------------------

// Allocates n blocks of `size` and checks they overlap neither each other
// nor the `live` spans; frees them.
static void no_overlap_after(umf_memory_pool_handle_t pool, size_t size, const span_t *live,
                             int nlive) {
    enum { N = 64 };
    span_t v[N + 8];
    void *blocks[N];
    assert_true(nlive <= 8);
    memcpy(v, live, (size_t)nlive * sizeof *v);
    for (int i = 0; i < N; i++) {
        blocks[i] = umfPoolMalloc(pool, size);
        assert_non_null(blocks[i]);
        v[nlive + i] = (span_t){(uintptr_t)blocks[i], (uintptr_t)blocks[i] + size};
    }
    int j, i = find_overlap(v, nlive + N, &j);
    if (i >= 0)
        fail_msg("blocks %d [%#lx, %#lx) and %d [%#lx, %#lx) overlap", i, (unsigned long)v[i].start,
                 (unsigned long)v[i].end, j, (unsigned long)v[j].start, (unsigned long)v[j].end);
    for (int k = 0; k < N; k++)
        assert_int_equal(umfPoolFree(pool, blocks[k]), UMF_RESULT_SUCCESS);
}

static void proxy_bad_frees(void **state) {
    (void)state;
    for (kind_t k = K_PROXY; k <= K_PROXY_UNTRACKED; k++) {
        fix_t f, other;
        fix_create(&f, k);
        fix_create(&other, K_PROXY);
        char *p = umfPoolMalloc(f.pool, 100), *keep = umfPoolMalloc(f.pool, 100);
        char *o = umfPoolMalloc(other.pool, 100);
        char *m = malloc(100);
        char local[32];
        assert_true(p && keep && o && m);
        int frees = f.tp.frees;
        assert_int_equal(umfPoolFree(f.pool, p + 8), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(f.pool, m), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(f.pool, local), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(f.pool, o), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(f.tp.frees, frees); // the provider saw none of them
        assert_int_equal(umfPoolFree(f.pool, p), UMF_RESULT_SUCCESS);
        assert_int_equal(f.tp.frees, frees + 1);
        assert_int_equal(umfPoolFree(f.pool, p), UMF_RESULT_ERROR_INVALID_ARGUMENT); // double
        assert_int_equal(umfFree(p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(f.tp.frees, frees + 1);
        span_t live[] = {{(uintptr_t)keep, (uintptr_t)keep + 100},
                         {(uintptr_t)o, (uintptr_t)o + 100}};
        memset(keep, 0x5a, 100);
        no_overlap_after(f.pool, 100, live, 2);
        for (int i = 0; i < 100; i++)
            assert_int_equal((unsigned char)keep[i], 0x5a);
        assert_int_equal(umfPoolFree(f.pool, keep), UMF_RESULT_SUCCESS);
        assert_int_equal(umfPoolFree(other.pool, o), UMF_RESULT_SUCCESS); // still live there
        free(m);
        umfPoolDestroy(f.pool);
        umfPoolDestroy(other.pool);
        assert_int_equal(f.tp.allocs, f.tp.frees);
    }
}

// umfFree of a foreign, interior or freed pointer: INVALID_ARGUMENT and
// nothing changes; of a live block: freed. Large engine blocks (the engine
// refuses their double free itself) pass the refusal through.
static void umf_free_bad_pointers(void **state) {
    (void)state;
    char local[16];
    char *m = malloc(64);
    assert_non_null(m);
    assert_int_equal(umfFree(local), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFree(m), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    free(m); // still glibc's, untouched
    fix_t f;
    fix_create(&f, K_PROXY);
    char *p = umfPoolMalloc(f.pool, 256);
    assert_non_null(p);
    int frees = f.tp.frees;
    assert_int_equal(umfFree(p + 16), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFree(p + 255), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(f.tp.frees, frees);
    assert_ptr_equal(umfPoolByPtr(p), f.pool); // still live
    assert_int_equal(umfFree(p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFree(p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(f.tp.frees, frees + 1);
    umfPoolDestroy(f.pool);
    for (kind_t k = K_DISJOINT; k <= K_SCALABLE; k++) {
        fix_create(&f, k);
        char *big = umfPoolMalloc(f.pool, 1 << 20);
        assert_non_null(big);
        assert_int_equal(umfFree(big), UMF_RESULT_SUCCESS);
        assert_int_equal(umfFree(big), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(f.pool, big), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(f.pool, local), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        umfPoolDestroy(f.pool);
    }
}

// A user-defined pool: the glue refuses pointers outside the pool's tracked
// ranges before the pool's own op sees them.
static void user_pool_foreign(void **state) {
    (void)state;
    fix_t f, other;
    fix_create(&f, K_USER);
    fix_create(&other, K_PROXY);
    char local[16];
    char *o = umfPoolMalloc(other.pool, 64);
    void *a = umfPoolMalloc(f.pool, 32);
    assert_true(o && a);
    int calls = upool_state.free_calls;
    assert_int_equal(umfPoolFree(f.pool, local), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolFree(f.pool, o), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(umfPoolRealloc(f.pool, o, 16));
    assert_int_equal(umfPoolGetLastAllocationError(f.pool), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolMallocUsableSize(f.pool, local), 0);
    assert_int_equal(upool_state.free_calls, calls); // the op never saw them
    assert_int_equal(umfPoolMallocUsableSize(f.pool, a), U_BLOCK);
    assert_int_equal(umfPoolFree(f.pool, a), UMF_RESULT_SUCCESS);
    assert_int_equal(upool_state.free_calls, calls + 1);
    assert_int_equal(umfPoolFree(other.pool, o), UMF_RESULT_SUCCESS);
    umfPoolDestroy(f.pool);
    umfPoolDestroy(other.pool);
}

// ---- one log line per refusal -----------------------------------------------------

static void one_log_line_each(void **state) {
    (void)state;
    fix_t f;
    fix_create(&f, K_PROXY);
    char *p = umfPoolMalloc(f.pool, 64);
    assert_non_null(p);
    unsigned char junk[256];
    memset(junk, 0xa5, sizeof junk);
    umf_memory_pool_handle_t dead;
    {
        fix_t d;
        fix_create(&d, K_SCALABLE);
        dead = d.pool;
        umfPoolDestroy(d.pool);
    }
    char buf[4096];
    struct {
        const char *what, *must_say;
    } cases[] = {
        {"garbage handle", "invalid"},   {"destroyed handle", "destroyed"},
        {"double destroy", "destroyed"}, {"proxy interior free", "not a live allocation"},
        {"umfFree foreign", "umfFree"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        capture_t c;
        capture_start(&c);
        switch (i) {
        case 0: assert_null(umfPoolMalloc((umf_memory_pool_handle_t)junk, 8)); break;
        case 1: assert_int_equal(umfPoolFree(dead, p), UMF_RESULT_ERROR_INVALID_ARGUMENT); break;
        case 2: umfPoolDestroy(dead); break;
        case 3:
            assert_int_equal(umfPoolFree(f.pool, p + 8), UMF_RESULT_ERROR_INVALID_ARGUMENT);
            break;
        default: assert_int_equal(umfFree(junk), UMF_RESULT_ERROR_INVALID_ARGUMENT); break;
        }
        int n = capture_stop(&c, buf, sizeof buf);
        if (n != 1 || !strstr(buf, cases[i].must_say))
            fail_msg("%s: %d ERROR lines, want 1 saying \"%s\":\n%s", cases[i].what, n,
                     cases[i].must_say, buf);
    }
    assert_int_equal(umfPoolFree(f.pool, p), UMF_RESULT_SUCCESS);
    umfPoolDestroy(f.pool);
}

// ---- errno --------------------------------------------------------------------------

#define SENTINEL 4242
#define KEEPS_ERRNO(call)                                                                          \
    do {                                                                                           \
        errno = SENTINEL;                                                                          \
        call;                                                                                      \
        if (errno != SENTINEL)                                                                     \
            fail_msg("%s pool: %s set errno to %d", kind_name[k], #call, errno);                   \
    } while (0)

static void errno_untouched_on_success(void **state) {
    (void)state;
    kind_t k = K_PROXY;
    KEEPS_ERRNO(assert_int_equal(umfInit(), UMF_RESULT_SUCCESS));
    for (k = 0; k < K_COUNT; k++) {
        fix_t f;
        memset(&f, 0, sizeof f);
        umf_memory_provider_ops_t ops = test_provider_ops();
        assert_int_equal(umfMemoryProviderCreate(&ops, &f.tp, &f.prov), UMF_RESULT_SUCCESS);
        umf_disjoint_pool_params_handle_t dp = NULL;
        assert_int_equal(umfDisjointPoolParamsCreate(&dp), UMF_RESULT_SUCCESS);
        const umf_memory_pool_ops_t *pops = k == K_DISJOINT   ? umfDisjointPoolOps()
                                            : k == K_SCALABLE ? umfScalablePoolOps()
                                            : k == K_USER     ? &user_ops
                                                              : umfProxyPoolOps();
        umf_pool_create_flags_t flags = UMF_POOL_CREATE_FLAG_OWN_PROVIDER;
        if (k == K_PROXY_UNTRACKED)
            flags |= UMF_POOL_CREATE_FLAG_DISABLE_TRACKING;
        KEEPS_ERRNO(assert_int_equal(umfPoolCreate(pops, f.prov, k == K_DISJOINT ? dp : NULL,
                                                   flags, &f.pool),
                                     UMF_RESULT_SUCCESS));
        umfDisjointPoolParamsDestroy(dp);
        void *a = NULL, *b = NULL, *c = NULL, *t = NULL;
        umf_memory_provider_handle_t prov;
        KEEPS_ERRNO(assert_non_null(a = umfPoolMalloc(f.pool, 48)));
        KEEPS_ERRNO(assert_non_null(b = umfPoolAlignedMalloc(f.pool, 48, 64)));
        if (k != K_PROXY && k != K_PROXY_UNTRACKED) { // calloc, realloc: not supported there
            KEEPS_ERRNO(assert_non_null(c = umfPoolCalloc(f.pool, 4, 8)));
            KEEPS_ERRNO(assert_non_null(c = umfPoolRealloc(f.pool, c, 60)));
            KEEPS_ERRNO(assert_true(umfPoolMallocUsableSize(f.pool, c) >= 60));
        }
        KEEPS_ERRNO(umfPoolGetLastAllocationError(f.pool));
        KEEPS_ERRNO(assert_int_equal(umfPoolGetMemoryProvider(f.pool, &prov), UMF_RESULT_SUCCESS));
        KEEPS_ERRNO(assert_int_equal(umfPoolSetTag(f.pool, &f, NULL), UMF_RESULT_SUCCESS));
        KEEPS_ERRNO(assert_int_equal(umfPoolGetTag(f.pool, &t), UMF_RESULT_SUCCESS));
        if (k != K_PROXY_UNTRACKED) {
            KEEPS_ERRNO(assert_ptr_equal(umfPoolByPtr(a), f.pool));
            KEEPS_ERRNO(assert_int_equal(umfFree(a), UMF_RESULT_SUCCESS));
        } else {
            KEEPS_ERRNO(assert_int_equal(umfPoolFree(f.pool, a), UMF_RESULT_SUCCESS));
        }
        KEEPS_ERRNO(assert_int_equal(umfPoolFree(f.pool, b), UMF_RESULT_SUCCESS));
        KEEPS_ERRNO(assert_int_equal(umfPoolFree(f.pool, c), UMF_RESULT_SUCCESS));
        KEEPS_ERRNO(umfPoolDestroy(f.pool));
        assert_int_equal(f.tp.finalized, 1);
    }
    k = K_PROXY;
    KEEPS_ERRNO(assert_int_equal(umfGetCurrentVersion(), UMF_VERSION_CURRENT));
    KEEPS_ERRNO(umfTearDown());
}

int main(void) {
    misuse_log_on();
    seed = (unsigned)time(NULL);
    if (getenv("TEST_SEED"))
        seed = (unsigned)strtoul(getenv("TEST_SEED"), NULL, 0);
    printf("test_pool_misuse: seed %u (TEST_SEED=%u reproduces)\n", seed, seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errno_untouched_on_success), // first: first-use paths included
        cmocka_unit_test(garbage_handles),
        cmocka_unit_test(use_after_destroy),
        cmocka_unit_test(destroyed_handles_stay_refused),
        cmocka_unit_test(proxy_bad_frees),
        cmocka_unit_test(umf_free_bad_pointers),
        cmocka_unit_test(user_pool_foreign),
        cmocka_unit_test(one_log_line_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
