// SPDX-License-Identifier: MIT
// The pool API through the proxy pool over a user-defined provider: the
// address map (umfFree, umfPoolByPtr for pointers inside, at the end of and
// outside allocations), flags (OWN_PROVIDER, DISABLE_TRACKING), tags,
// documented unsupported calls, argument errors, destroy with live
// allocations, a user-defined pool.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>

#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>
#include <umf/pools/pool_proxy.h>

#include "test_helpers.h"

typedef struct fixture_t {
    test_provider_t tp;
    umf_memory_provider_handle_t provider;
    umf_memory_pool_handle_t pool;
} fixture_t;

static int setup(void **state) {
    static fixture_t f;
    memset(&f, 0, sizeof f);
    umf_memory_provider_ops_t ops = test_provider_ops();
    if (umfMemoryProviderCreate(&ops, &f.tp, &f.provider) != UMF_RESULT_SUCCESS)
        return -1;
    if (umfPoolCreate(umfProxyPoolOps(), f.provider, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                      &f.pool) != UMF_RESULT_SUCCESS)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    umfPoolDestroy(f->pool);
    return f->tp.finalized == 1 ? 0 : -1; // OWN_PROVIDER destroyed the provider
}

static void malloc_free_and_lookup(void **state) {
    fixture_t *f = *state;
    char *p = umfPoolMalloc(f->pool, 1000);
    assert_non_null(p);
    memset(p, 1, 1000);
    assert_ptr_equal(umfPoolByPtr(p), f->pool);
    assert_ptr_equal(umfPoolByPtr(p + 500), f->pool);
    assert_ptr_equal(umfPoolByPtr(p + 999), f->pool);
    assert_null(umfPoolByPtr(p + 1000)); // one past the end is not in it
    int local;
    assert_null(umfPoolByPtr(&local));
    assert_null(umfPoolByPtr(NULL));
    umf_memory_provider_handle_t prov = NULL;
    assert_int_equal(umfPoolGetMemoryProvider(f->pool, &prov), UMF_RESULT_SUCCESS);
    assert_ptr_equal(prov, f->provider);
    assert_int_equal(umfPoolFree(f->pool, p), UMF_RESULT_SUCCESS);
    assert_null(umfPoolByPtr(p));
    assert_int_equal(f->tp.live_bytes, 0); // the size reached the provider
    // umfFree finds the pool itself
    p = umfPoolAlignedMalloc(f->pool, 64, 4096);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 4096, 0);
    assert_int_equal(umfFree(p), UMF_RESULT_SUCCESS);
    assert_int_equal(f->tp.allocs, f->tp.frees);
    // umfFree of a foreign pointer does nothing, and says so (issue 11)
    assert_int_equal(umfFree(&local), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFree(NULL), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolFree(f->pool, NULL), UMF_RESULT_SUCCESS);
}

static void proxy_unsupported_calls(void **state) {
    fixture_t *f = *state;
    assert_null(umfPoolCalloc(f->pool, 2, 8));
    assert_int_equal(umfPoolGetLastAllocationError(f->pool), UMF_RESULT_ERROR_NOT_SUPPORTED);
    void *p = umfPoolMalloc(f->pool, 8);
    assert_non_null(p);
    assert_null(umfPoolRealloc(f->pool, p, 16));
    assert_int_equal(umfPoolGetLastAllocationError(f->pool), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfPoolMallocUsableSize(f->pool, p), 0);
    assert_int_equal(umfPoolFree(f->pool, p), UMF_RESULT_SUCCESS);
}

static void argument_errors(void **state) {
    fixture_t *f = *state;
    assert_null(umfPoolMalloc(NULL, 8));
    assert_null(umfPoolCalloc(NULL, 1, 8));
    assert_null(umfPoolRealloc(NULL, NULL, 8));
    assert_null(umfPoolAlignedMalloc(NULL, 8, 8));
    assert_int_equal(umfPoolMallocUsableSize(NULL, (void *)8), 0);
    assert_int_equal(umfPoolFree(NULL, (void *)8), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(umfPoolAlignedMalloc(f->pool, 8, 3));
    assert_int_equal(umfPoolGetLastAllocationError(f->pool), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    volatile size_t huge = SIZE_MAX / 2; // hidden from the compiler's size warnings
    assert_null(umfPoolCalloc(f->pool, huge, 3)); // overflow
    assert_int_equal(umfPoolGetLastAllocationError(f->pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    // the provider's own failure is reported after a glue failure
    f->tp.fail_alloc = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    assert_null(umfPoolMalloc(f->pool, 8));
    assert_int_equal(umfPoolGetLastAllocationError(f->pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    f->tp.fail_alloc = UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC;
    assert_null(umfPoolMalloc(f->pool, 8));
    assert_int_equal(umfPoolGetLastAllocationError(f->pool), UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    f->tp.fail_alloc = 0;
    assert_int_equal(umfPoolGetLastAllocationError(NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolGetMemoryProvider(f->pool, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolGetMemoryProvider(NULL, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umf_memory_pool_handle_t h = (void *)0x1;
    assert_int_equal(umfPoolCreate(NULL, f->provider, NULL, 0, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), NULL, NULL, 0, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), f->provider, NULL, 0, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), f->provider, NULL, 0x80, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umf_memory_pool_ops_t bad = *umfProxyPoolOps();
    bad.free = NULL;
    assert_int_equal(umfPoolCreate(&bad, f->provider, NULL, 0, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_ptr_equal(h, (void *)0x1);
    umfPoolDestroy(NULL);
}

static void tags(void **state) {
    fixture_t *f = *state;
    void *t = (void *)0x1;
    assert_int_equal(umfPoolGetTag(f->pool, &t), UMF_RESULT_SUCCESS);
    assert_null(t);
    void *old = (void *)0x1;
    assert_int_equal(umfPoolSetTag(f->pool, (void *)0xabc, &old), UMF_RESULT_SUCCESS);
    assert_null(old);
    assert_int_equal(umfPoolSetTag(f->pool, (void *)0xdef, NULL), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolSetTag(f->pool, NULL, &old), UMF_RESULT_SUCCESS);
    assert_ptr_equal(old, (void *)0xdef);
    assert_int_equal(umfPoolGetTag(f->pool, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfPoolSetTag(NULL, NULL, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
}

static void disable_tracking(void **state) {
    (void)state;
    test_provider_t tp = {0};
    umf_memory_provider_ops_t ops = test_provider_ops();
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, &prov), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), prov, NULL,
                                   UMF_POOL_CREATE_FLAG_DISABLE_TRACKING, &pool),
                     UMF_RESULT_SUCCESS);
    void *p = umfPoolMalloc(pool, 64);
    assert_non_null(p);
    assert_null(umfPoolByPtr(p)); // not in the map
    // foreign to the map: nothing is done, INVALID_ARGUMENT says so
    assert_int_equal(umfFree(p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(tp.frees, 0);
    assert_int_equal(umfPoolFree(pool, p), UMF_RESULT_SUCCESS); // the proxy pool knows the size
    assert_int_equal(tp.live_bytes, 0);
    umfPoolDestroy(pool);
    assert_int_equal(tp.finalized, 0); // not owned
    umfMemoryProviderDestroy(prov);
}

static void destroy_releases_live_allocations(void **state) {
    (void)state;
    test_provider_t tp = {0};
    umf_memory_provider_ops_t ops = test_provider_ops();
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, &prov), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), prov, NULL, 0, &pool), UMF_RESULT_SUCCESS);
    void *v[10];
    for (int i = 0; i < 10; i++)
        assert_non_null(v[i] = umfPoolMalloc(pool, 100 + (size_t)i));
    umfPoolDestroy(pool);
    assert_int_equal(tp.frees, 10);
    assert_int_equal(tp.live_bytes, 0);
    for (int i = 0; i < 10; i++)
        assert_null(umfPoolByPtr(v[i]));
    umfMemoryProviderDestroy(prov);
}

// A user-defined pool: a bump allocator over one provider allocation.
typedef struct bump_t {
    umf_memory_provider_handle_t prov;
    char *base;
    size_t used;
} bump_t;
static umf_result_t b_init(umf_memory_provider_handle_t prov, void *params, void **out) {
    static bump_t b;
    (void)params;
    b.prov = prov;
    b.used = 0;
    umf_result_t r = umfMemoryProviderAlloc(prov, 1 << 16, 4096, (void **)&b.base);
    *out = &b;
    return r;
}
static void b_fini(void *pool) {
    bump_t *b = pool;
    umfMemoryProviderFree(b->prov, b->base, 1 << 16);
}
static void *b_malloc(void *pool, size_t size) {
    bump_t *b = pool;
    if (b->used + size > (1 << 16))
        return NULL;
    void *p = b->base + b->used;
    b->used += (size + 15) & ~(size_t)15;
    return p;
}
static void *b_calloc(void *pool, size_t n, size_t s) { return b_malloc(pool, n * s); }
static void *b_realloc(void *pool, void *p, size_t s) { (void)p; return b_malloc(pool, s); }
static void *b_aligned(void *pool, size_t s, size_t a) { (void)a; return b_malloc(pool, s); }
static size_t b_usable(void *pool, void *p) { (void)pool, (void)p; return 16; }
static umf_result_t b_free(void *pool, void *p) { (void)pool, (void)p; return UMF_RESULT_SUCCESS; }
static umf_result_t b_err(void *pool) { (void)pool; return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY; }

static void user_defined_pool(void **state) {
    (void)state;
    test_provider_t tp = {0};
    umf_memory_provider_ops_t ops = test_provider_ops();
    umf_memory_provider_handle_t prov;
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, &prov), UMF_RESULT_SUCCESS);
    umf_memory_pool_ops_t pops = {UMF_VERSION_CURRENT, b_init, b_fini, b_malloc, b_calloc,
                                  b_realloc, b_aligned, b_usable, b_free, b_err};
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfPoolCreate(&pops, prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool),
                     UMF_RESULT_SUCCESS);
    char *a = umfPoolMalloc(pool, 10), *b = umfPoolMalloc(pool, 10);
    assert_non_null(a);
    assert_ptr_equal(b, a + 16);
    // Both come from the pool's one tracked chunk.
    assert_ptr_equal(umfPoolByPtr(a), pool);
    assert_ptr_equal(umfPoolByPtr(b + 5), pool);
    assert_int_equal(umfPoolMallocUsableSize(pool, a), 16);
    assert_null(umfPoolMalloc(pool, 1 << 20));
    assert_int_equal(umfPoolGetLastAllocationError(pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    umfPoolDestroy(pool);
    assert_int_equal(tp.allocs, tp.frees);
    assert_int_equal(tp.finalized, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(malloc_free_and_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(proxy_unsupported_calls, setup, teardown),
        cmocka_unit_test_setup_teardown(argument_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(tags, setup, teardown),
        cmocka_unit_test(disable_tracking),
        cmocka_unit_test(destroy_releases_live_allocations),
        cmocka_unit_test(user_defined_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
