// SPDX-License-Identifier: MIT
// The API wrappers pass every documented call to user-defined providers and
// pools with UMF 0.11's argument rules (issue 14, item 5): a NULL pointer
// to free and usable size, NULL out-parameters of the native error, any
// alignment (0 included: aligned_malloc, not malloc). The callbacks record
// what they received and answer with values the wrappers must hand back
// unchanged. Also the UMF 0.11 header names programs use (item 2).
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>
#include <umf/memory_provider.h>
#include <umf/memory_provider_ops.h>

// ---- a recording provider ----------------------------------------------------------

typedef struct rec_t {
    int calls;            // every callback increments it
    void *ptr;            // the last pointer argument
    size_t size, align;   // the last size and alignment
    const void *p1, *p2;  // the native error's out-parameters as received
    umf_result_t answer;  // what free answers
} rec_t;

static rec_t rp; // provider callbacks
static rec_t rl; // pool callbacks

static umf_result_t rp_init(void *params, void **out) { return *out = params, UMF_RESULT_SUCCESS; }
static void rp_fini(void *p) { (void)p; }
static umf_result_t rp_alloc(void *p, size_t size, size_t align, void **ptr) {
    (void)p;
    rp.calls++, rp.size = size, rp.align = align;
    *ptr = NULL;
    return UMF_RESULT_ERROR_USER_SPECIFIC; // a value only the callback gives
}
static umf_result_t rp_free(void *p, void *ptr, size_t size) {
    (void)p;
    rp.calls++, rp.ptr = ptr, rp.size = size;
    return rp.answer;
}
static void rp_err(void *p, const char **msg, int32_t *code) {
    (void)p;
    rp.calls++, rp.p1 = msg, rp.p2 = code;
}
static umf_result_t rp_ps(void *p, size_t s, size_t *ps) { return (void)p, (void)s, *ps = 4096, UMF_RESULT_SUCCESS; }
static umf_result_t rp_mps(void *p, void *ptr, size_t *ps) { return (void)p, (void)ptr, *ps = 4096, UMF_RESULT_SUCCESS; }
static const char *rp_name(void *p) { return (void)p, "recording"; }

static umf_memory_provider_ops_t provider_ops(void) {
    umf_memory_provider_ops_t o;
    memset(&o, 0, sizeof o);
    o.version = UMF_PROVIDER_OPS_VERSION_CURRENT;
    o.initialize = rp_init, o.finalize = rp_fini, o.alloc = rp_alloc, o.free = rp_free;
    o.get_last_native_error = rp_err, o.get_recommended_page_size = rp_ps;
    o.get_min_page_size = rp_mps, o.get_name = rp_name;
    return o;
}

static void provider_calls_pass_through(void **state) {
    (void)state;
    umf_memory_provider_ops_t ops = provider_ops();
    umf_memory_provider_handle_t h;
    assert_int_equal(umfMemoryProviderCreate(&ops, NULL, &h), UMF_RESULT_SUCCESS);

    memset(&rp, 0, sizeof rp);
    rp.ptr = &rp, rp.answer = UMF_RESULT_ERROR_USER_SPECIFIC;
    assert_int_equal(umfMemoryProviderFree(h, NULL, 123), UMF_RESULT_ERROR_USER_SPECIFIC);
    assert_int_equal(rp.calls, 1);
    assert_null(rp.ptr);
    assert_int_equal(rp.size, 123);

    rp.p1 = rp.p2 = &rp;
    umfMemoryProviderGetLastNativeError(h, NULL, NULL);
    assert_int_equal(rp.calls, 2);
    assert_null(rp.p1);
    assert_null(rp.p2);
    const char *msg;
    int32_t code;
    umfMemoryProviderGetLastNativeError(h, &msg, NULL);
    assert_int_equal(rp.calls, 3);
    assert_ptr_equal(rp.p1, &msg);
    assert_null(rp.p2);
    (void)code;

    // Any alignment reaches the provider: a multiple of the page that is
    // not a power of two, and one that is neither.
    void *p = &rp;
    assert_int_equal(umfMemoryProviderAlloc(h, 8192, 3 * 4096, &p), UMF_RESULT_ERROR_USER_SPECIFIC);
    assert_int_equal(rp.calls, 4);
    assert_int_equal(rp.align, 3 * 4096);
    assert_int_equal(umfMemoryProviderAlloc(h, 1, 3, &p), UMF_RESULT_ERROR_USER_SPECIFIC);
    assert_int_equal(rp.align, 3);
    assert_int_equal(rp.calls, 5);
    umfMemoryProviderDestroy(h);
}

// ---- a recording pool over malloc -------------------------------------------------------

static umf_result_t rl_init(umf_memory_provider_handle_t prov, void *params, void **out) {
    (void)prov;
    return *out = params, UMF_RESULT_SUCCESS;
}
static void rl_fini(void *p) { (void)p; }
static void *rl_malloc(void *p, size_t size) { return (void)p, rl.calls += 100, rl.size = size, NULL; }
static void *rl_calloc(void *p, size_t n, size_t s) { return (void)p, (void)n, (void)s, NULL; }
static void *rl_realloc(void *p, void *ptr, size_t s) { return (void)p, (void)ptr, (void)s, NULL; }
static void *rl_aligned(void *p, size_t size, size_t align) {
    (void)p;
    rl.calls++, rl.size = size, rl.align = align;
    return NULL;
}
static size_t rl_usable(void *p, void *ptr) {
    (void)p;
    rl.calls++, rl.ptr = ptr;
    return 77;
}
static umf_result_t rl_free(void *p, void *ptr) {
    (void)p;
    rl.calls++, rl.ptr = ptr;
    return rl.answer;
}
static umf_result_t rl_last(void *p) { return (void)p, UMF_RESULT_ERROR_USER_SPECIFIC; }

static void pool_calls_pass_through(void **state) {
    (void)state;
    umf_memory_provider_ops_t pops = provider_ops();
    umf_memory_provider_handle_t prov;
    assert_int_equal(umfMemoryProviderCreate(&pops, NULL, &prov), UMF_RESULT_SUCCESS);
    umf_memory_pool_ops_t ops;
    memset(&ops, 0, sizeof ops);
    ops.version = UMF_POOL_OPS_VERSION_CURRENT;
    ops.initialize = rl_init, ops.finalize = rl_fini, ops.malloc = rl_malloc;
    ops.calloc = rl_calloc, ops.realloc = rl_realloc, ops.aligned_malloc = rl_aligned;
    ops.malloc_usable_size = rl_usable, ops.free = rl_free, ops.get_last_allocation_error = rl_last;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfPoolCreate(&ops, prov, NULL, 0, &pool), UMF_RESULT_SUCCESS);

    memset(&rl, 0, sizeof rl);
    rl.ptr = &rl;
    assert_int_equal(umfPoolMallocUsableSize(pool, NULL), 77);
    assert_int_equal(rl.calls, 1);
    assert_null(rl.ptr);

    rl.align = 99;
    assert_null(umfPoolAlignedMalloc(pool, 100, 0));
    assert_int_equal(rl.calls, 2); // aligned_malloc, not malloc (+100)
    assert_int_equal(rl.align, 0);
    assert_int_equal(rl.size, 100);
    assert_null(umfPoolAlignedMalloc(pool, 100, 24));
    assert_int_equal(rl.calls, 3);
    assert_int_equal(rl.align, 24);

    rl.ptr = &rl, rl.answer = UMF_RESULT_ERROR_USER_SPECIFIC;
    assert_int_equal(umfPoolFree(pool, NULL), UMF_RESULT_ERROR_USER_SPECIFIC);
    assert_int_equal(rl.calls, 4);
    assert_null(rl.ptr);
    umfPoolDestroy(pool);
    umfMemoryProviderDestroy(prov);
}

// The UMF 0.11 names programs use, with UMF's values.
static void umf_011_header_names(void **state) {
    (void)state;
    assert_int_equal(UMF_RESULT_ERROR_OUT_OF_RESOURCES, 8);
    assert_int_equal(UMF_POOL_CREATE_FLAG_FORCE_UINT32, 0x7fffffff);
    assert_int_equal(sizeof(umf_pool_create_flag_t), 4);
    assert_int_equal(UMF_POOL_OPS_VERSION_CURRENT, UMF_MAKE_VERSION(0, 11));
    assert_int_equal(UMF_PROVIDER_OPS_VERSION_CURRENT, UMF_MAKE_VERSION(0, 11));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(provider_calls_pass_through),
        cmocka_unit_test(pool_calls_pass_through),
        cmocka_unit_test(umf_011_header_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
