// SPDX-License-Identifier: MIT
// Nested allocations (issue 14, item 3; UMF's rule): a pool whose memory
// came from another pool. umfPoolByPtr and umfFree answer for the
// innermost pool, up to 8 levels; once an inner pool is gone, the outer
// block is found and freed again (the address map and the engine's page
// map both put the outer owner back). Stacks: fixed provider over a block
// of a pool, and a pool over a user provider that allocates from a pool.
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>
#include <umf/memory_provider.h>
#include <umf/memory_provider_ops.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_fixed_memory.h>
#include <umf/providers/provider_os_memory.h>

static umf_memory_pool_handle_t os_pool(void) {
    umf_os_memory_provider_params_handle_t pp;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&pp), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &prov), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(pp);
    assert_int_equal(umfPoolCreate(umfScalablePoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                                   &pool),
                     UMF_RESULT_SUCCESS);
    return pool;
}

// A scalable pool over a fixed provider over [buf, buf + size); untracked:
// UMF_POOL_CREATE_FLAG_DISABLE_TRACKING (the address map never sees it).
static umf_memory_pool_handle_t fixed_pool_flags(void *buf, size_t size, umf_pool_create_flags_t f) {
    umf_fixed_memory_provider_params_handle_t fp;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&fp, buf, size), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fp, &prov), UMF_RESULT_SUCCESS);
    umfFixedMemoryProviderParamsDestroy(fp);
    umf_scalable_pool_params_handle_t sp;
    assert_int_equal(umfScalablePoolParamsCreate(&sp), UMF_RESULT_SUCCESS);
    assert_int_equal(umfScalablePoolParamsSetGranularity(sp, 64 << 10), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolCreate(umfScalablePoolOps(), prov, sp, UMF_POOL_CREATE_FLAG_OWN_PROVIDER | f, &pool),
                     UMF_RESULT_SUCCESS);
    umfScalablePoolParamsDestroy(sp);
    return pool;
}

static umf_memory_pool_handle_t fixed_pool(void *buf, size_t size) {
    return fixed_pool_flags(buf, size, 0);
}

// First in this process, before any tracked nesting: an untracked pool over
// a block of a pool. The address map knows nothing of it, so the outer
// block's page map entry is kept because the inner chunk's first page has
// an owner; once the inner pool is gone the outer block frees.
static void untracked_over_pool(void **state) {
    (void)state;
    umf_memory_pool_handle_t a = os_pool();
    const size_t bsz = 2 << 20;
    char *b = umfPoolAlignedMalloc(a, bsz, 4096);
    assert_non_null(b);
    umf_memory_pool_handle_t inner = fixed_pool_flags(b, bsz, UMF_POOL_CREATE_FLAG_DISABLE_TRACKING);
    char *x = umfPoolMalloc(inner, 5000);
    assert_true(x >= b && x < b + bsz);
    memset(x, 3, 5000);
    assert_int_equal(umfPoolFree(inner, x), UMF_RESULT_SUCCESS);
    umfPoolDestroy(inner);
    assert_ptr_equal(umfPoolByPtr(b), a);
    assert_int_equal(umfFree(b), UMF_RESULT_SUCCESS);
    umfPoolDestroy(a);
}

static void fixed_over_pool(void **state) {
    (void)state;
    umf_memory_pool_handle_t a = os_pool();
    const size_t bsz = 4 << 20;
    char *b = umfPoolAlignedMalloc(a, bsz, 4096);
    assert_non_null(b);
    assert_ptr_equal(umfPoolByPtr(b), a);
    umf_memory_pool_handle_t inner = fixed_pool(b, bsz);
    char *x[64];
    for (int i = 0; i < 64; i++) {
        x[i] = umfPoolMalloc(inner, 100 + 1000 * (size_t)i);
        assert_non_null(x[i]);
        assert_true(x[i] >= b && x[i] < b + bsz);
        assert_ptr_equal(umfPoolByPtr(x[i]), inner); // the innermost pool
        memset(x[i], i, 100);
    }
    for (int i = 0; i < 64; i += 2)
        assert_int_equal(umfFree(x[i]), UMF_RESULT_SUCCESS); // found through the inner pool
    for (int i = 1; i < 64; i += 2)
        assert_int_equal(umfPoolFree(inner, x[i]), UMF_RESULT_SUCCESS);
    // The outer block cannot go back while the inner pool lives in it...
    umfPoolDestroy(inner);
    // ...and once it is gone, the outer pool answers for it and frees it.
    assert_ptr_equal(umfPoolByPtr(b), a);
    assert_ptr_equal(umfPoolByPtr(b + bsz - 1), a);
    assert_int_equal(umfFree(b), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFree(b), UMF_RESULT_ERROR_INVALID_ARGUMENT); // freed already
    char *again = umfPoolMalloc(a, 1000); // the outer pool still works
    assert_non_null(again);
    assert_int_equal(umfFree(again), UMF_RESULT_SUCCESS);
    umfPoolDestroy(a);
}

// A user provider that takes its memory from a pool.
static umf_result_t pp_init(void *params, void **out) { return *out = params, UMF_RESULT_SUCCESS; }
static void pp_fini(void *p) { (void)p; }
static umf_result_t pp_alloc(void *p, size_t size, size_t align, void **ptr) {
    *ptr = umfPoolAlignedMalloc(p, size, align < 4096 ? 4096 : align);
    return *ptr ? UMF_RESULT_SUCCESS : UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
}
static umf_result_t pp_free(void *p, void *ptr, size_t size) {
    (void)size;
    return ptr ? umfPoolFree(p, ptr) : UMF_RESULT_SUCCESS;
}
static void pp_err(void *p, const char **m, int32_t *c) { (void)p, (void)m, (void)c; }
static umf_result_t pp_ps(void *p, size_t s, size_t *ps) { return (void)p, (void)s, *ps = 4096, UMF_RESULT_SUCCESS; }
static umf_result_t pp_mps(void *p, void *ptr, size_t *ps) { return (void)p, (void)ptr, *ps = 4096, UMF_RESULT_SUCCESS; }
static const char *pp_name(void *p) { return (void)p, "pool-backed"; }

static void pool_over_pool(void **state) {
    (void)state;
    umf_memory_pool_handle_t a = os_pool();
    umf_memory_provider_ops_t ops;
    memset(&ops, 0, sizeof ops);
    ops.version = UMF_PROVIDER_OPS_VERSION_CURRENT;
    ops.initialize = pp_init, ops.finalize = pp_fini, ops.alloc = pp_alloc, ops.free = pp_free;
    ops.get_last_native_error = pp_err, ops.get_recommended_page_size = pp_ps;
    ops.get_min_page_size = pp_mps, ops.get_name = pp_name;
    umf_memory_provider_handle_t prov;
    assert_int_equal(umfMemoryProviderCreate(&ops, a, &prov), UMF_RESULT_SUCCESS);
    umf_disjoint_pool_params_handle_t dp;
    assert_int_equal(umfDisjointPoolParamsCreate(&dp), UMF_RESULT_SUCCESS);
    umf_memory_pool_handle_t b;
    assert_int_equal(umfPoolCreate(umfDisjointPoolOps(), prov, dp, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &b),
                     UMF_RESULT_SUCCESS);
    umfDisjointPoolParamsDestroy(dp);
    enum { N = 2000 };
    static void *v[N];
    for (int i = 0; i < N; i++) {
        size_t sz = (size_t)(i % 7 == 0 ? 100000 : 16 + i % 500);
        v[i] = umfPoolMalloc(b, sz);
        assert_non_null(v[i]);
        assert_ptr_equal(umfPoolByPtr(v[i]), b);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(umfFree(v[i]), UMF_RESULT_SUCCESS);
    umfPoolDestroy(b);
    // Every block b took from a went back: a's memory is found as a's or
    // not at all, and a keeps serving.
    void *p = umfPoolMalloc(a, 64);
    assert_ptr_equal(umfPoolByPtr(p), a);
    assert_int_equal(umfFree(p), UMF_RESULT_SUCCESS);
    umfPoolDestroy(a);
}

// Eight pools, each over a block of the one before; a ninth level is
// refused (its pool cannot register memory); tearing down frees every block.
static void eight_levels(void **state) {
    (void)state;
    enum { LEVELS = 8 };
    umf_memory_pool_handle_t pool[LEVELS + 1];
    char *block[LEVELS + 1];
    size_t bsz[LEVELS + 1];
    pool[0] = os_pool();
    for (int i = 1; i <= LEVELS; i++) {
        bsz[i] = ((size_t)64 << 20) >> i; // 32 MiB .. 256 KiB
        block[i] = umfPoolAlignedMalloc(pool[i - 1], bsz[i], 4096);
        assert_non_null(block[i]);
        assert_ptr_equal(umfPoolByPtr(block[i]), pool[i - 1]);
        pool[i] = fixed_pool(block[i], bsz[i]);
    }
    // pool[7]'s memory is the eighth level; pool[8] would be a ninth.
    void *x = umfPoolMalloc(pool[LEVELS - 1], 64);
    assert_non_null(x);
    assert_ptr_equal(umfPoolByPtr(x), pool[LEVELS - 1]);
    assert_null(umfPoolMalloc(pool[LEVELS], 64));
    assert_int_equal(umfFree(x), UMF_RESULT_SUCCESS);
    for (int i = LEVELS; i >= 1; i--) {
        umfPoolDestroy(pool[i]);
        assert_ptr_equal(umfPoolByPtr(block[i]), pool[i - 1]);
        assert_int_equal(umfFree(block[i]), UMF_RESULT_SUCCESS);
    }
    umfPoolDestroy(pool[0]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(untracked_over_pool), // first: no tracked nesting yet
        cmocka_unit_test(fixed_over_pool),
        cmocka_unit_test(pool_over_pool),
        cmocka_unit_test(eight_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
