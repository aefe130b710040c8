// SPDX-License-Identifier: MIT
// IPC caching as UMF does it (issue 14, item 4), counted at the provider:
//  - the sender asks its provider for a range's IPC data once; later
//    umfGetIPCHandle calls copy it, umfPutIPCHandle releases only the
//    handle, and the provider's put runs when the range goes back (here:
//    when the pool is destroyed);
//  - the receiver maps an allocation once: 100 opens and closes of one
//    handle cost one provider open, the mapping stays until the handler's
//    pool is destroyed (one provider close then);
//  - the safety checks stay: a handle of a freed allocation is refused
//    although its mapping is cached.
// The providers are user providers that forward to an OS provider and count.
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <umf/ipc.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/memory_provider_ops.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_proxy.h>
#include <umf/providers/provider_os_memory.h>

typedef struct counting_t {
    umf_memory_provider_handle_t inner;
    int get, put, open, close;
} counting_t;

static umf_result_t c_init(void *params, void **out) { return *out = params, UMF_RESULT_SUCCESS; }
static void c_fini(void *p) { (void)p; }
#define INNER(p) (((counting_t *)(p))->inner)
static umf_result_t c_alloc(void *p, size_t s, size_t a, void **r) { return umfMemoryProviderAlloc(INNER(p), s, a, r); }
static umf_result_t c_free(void *p, void *ptr, size_t s) { return umfMemoryProviderFree(INNER(p), ptr, s); }
static void c_err(void *p, const char **m, int32_t *c) { umfMemoryProviderGetLastNativeError(INNER(p), m, c); }
static umf_result_t c_rps(void *p, size_t s, size_t *ps) { return umfMemoryProviderGetRecommendedPageSize(INNER(p), s, ps); }
static umf_result_t c_mps(void *p, void *ptr, size_t *ps) { return umfMemoryProviderGetMinPageSize(INNER(p), ptr, ps); }
static const char *c_name(void *p) { return umfMemoryProviderGetName(INNER(p)); }
static umf_result_t c_size(void *p, size_t *s) { return umfMemoryProviderGetIPCHandleSize(INNER(p), s); }
static umf_result_t c_get(void *p, const void *ptr, size_t s, void *d) {
    ((counting_t *)p)->get++;
    return umfMemoryProviderGetIPCHandle(INNER(p), ptr, s, d);
}
static umf_result_t c_put(void *p, void *d) {
    ((counting_t *)p)->put++;
    return umfMemoryProviderPutIPCHandle(INNER(p), d);
}
static umf_result_t c_open(void *p, void *d, void **ptr) {
    ((counting_t *)p)->open++;
    return umfMemoryProviderOpenIPCHandle(INNER(p), d, ptr);
}
static umf_result_t c_close(void *p, void *ptr, size_t s) {
    ((counting_t *)p)->close++;
    return umfMemoryProviderCloseIPCHandle(INNER(p), ptr, s);
}

static umf_memory_provider_handle_t counting(counting_t *c, bool shared) {
    umf_os_memory_provider_params_handle_t pp;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&pp), UMF_RESULT_SUCCESS);
    if (shared)
        assert_int_equal(umfOsMemoryProviderParamsSetVisibility(pp, UMF_MEM_MAP_SHARED), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &c->inner), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(pp);
    umf_memory_provider_ops_t o;
    memset(&o, 0, sizeof o);
    o.version = UMF_PROVIDER_OPS_VERSION_CURRENT;
    o.initialize = c_init, o.finalize = c_fini, o.alloc = c_alloc, o.free = c_free;
    o.get_last_native_error = c_err, o.get_recommended_page_size = c_rps;
    o.get_min_page_size = c_mps, o.get_name = c_name;
    o.ipc.get_ipc_handle_size = c_size, o.ipc.get_ipc_handle = c_get, o.ipc.put_ipc_handle = c_put;
    o.ipc.open_ipc_handle = c_open, o.ipc.close_ipc_handle = c_close;
    umf_memory_provider_handle_t h;
    assert_int_equal(umfMemoryProviderCreate(&o, c, &h), UMF_RESULT_SUCCESS);
    return h;
}

static void get_and_open_are_cached(void **state) {
    (void)state;
    counting_t cs = {0}, cr = {0};
    umf_memory_provider_handle_t sp = counting(&cs, true), rp = counting(&cr, false);
    umf_disjoint_pool_params_handle_t dp;
    assert_int_equal(umfDisjointPoolParamsCreate(&dp), UMF_RESULT_SUCCESS);
    umf_memory_pool_handle_t sender, receiver;
    assert_int_equal(umfPoolCreate(umfDisjointPoolOps(), sp, dp, 0, &sender), UMF_RESULT_SUCCESS);
    umfDisjointPoolParamsDestroy(dp);
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), rp, NULL, 0, &receiver), UMF_RESULT_SUCCESS);
    umf_ipc_handler_handle_t handler;
    assert_int_equal(umfPoolGetIPCHandler(receiver, &handler), UMF_RESULT_SUCCESS);

    char *a = umfPoolMalloc(sender, 5000);
    assert_non_null(a);
    strcpy(a + 100, "cached");
    char *first = NULL;
    for (int i = 0; i < 100; i++) {
        umf_ipc_handle_t h;
        size_t hs;
        assert_int_equal(umfGetIPCHandle(a + 100, &h, &hs), UMF_RESULT_SUCCESS);
        char *m;
        assert_int_equal(umfOpenIPCHandle(handler, h, (void **)&m), UMF_RESULT_SUCCESS);
        assert_string_equal(m, "cached");
        if (!first)
            first = m;
        assert_ptr_equal(m, first); // the same mapping every time
        assert_int_equal(umfCloseIPCHandle(m), UMF_RESULT_SUCCESS);
        assert_int_equal(umfPutIPCHandle(h), UMF_RESULT_SUCCESS);
    }
    assert_int_equal(cs.get, 1);  // one provider handle for the range
    assert_int_equal(cs.put, 0);  // kept while the range is the pool's
    assert_int_equal(cr.open, 1); // one mapping for 100 opens
    assert_int_equal(cr.close, 0);

    // A handle of a freed allocation is refused, cached mapping or not.
    umf_ipc_handle_t h;
    size_t hs;
    assert_int_equal(umfGetIPCHandle(a + 100, &h, &hs), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolFree(sender, a), UMF_RESULT_SUCCESS);
    char *m = NULL;
    assert_int_equal(umfOpenIPCHandle(handler, h, (void **)&m), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(m);
    assert_int_equal(umfPutIPCHandle(h), UMF_RESULT_SUCCESS);
    assert_int_equal(cs.get, 1);

    umfPoolDestroy(receiver); // the idle mapping goes with its handler's pool
    assert_int_equal(cr.close, 1);
    umfPoolDestroy(sender); // the range's IPC data goes back with its pool
    assert_int_equal(cs.put, 1);
    umfMemoryProviderDestroy(sp);
    umfMemoryProviderDestroy(rp);
    umfMemoryProviderDestroy(cs.inner);
    umfMemoryProviderDestroy(cr.inner);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(get_and_open_are_cached)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
