// SPDX-License-Identifier: MIT
// The provider API with a user-defined provider: ops validation, argument
// errors, dispatch, the last failed provider, native errors, optional ops
// reported as unsupported, purge alignment.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>

#include "test_helpers.h"

static umf_result_t ipc_size_only(void *p, size_t *s) {
    (void)p;
    *s = 8;
    return UMF_RESULT_SUCCESS;
}

static void create_validates_ops(void **state) {
    (void)state;
    test_provider_t tp = {0};
    umf_memory_provider_ops_t ops = test_provider_ops();
    umf_memory_provider_handle_t h = (void *)0x1;
    assert_int_equal(umfMemoryProviderCreate(NULL, &tp, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umf_memory_provider_ops_t bad = ops;
    bad.alloc = NULL;
    assert_int_equal(umfMemoryProviderCreate(&bad, &tp, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    bad = ops;
    bad.version = UMF_MAKE_VERSION(7, 0);
    assert_int_equal(umfMemoryProviderCreate(&bad, &tp, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    bad = ops;
    bad.ipc.get_ipc_handle_size = ipc_size_only; // IPC ops: all or none
    assert_int_equal(umfMemoryProviderCreate(&bad, &tp, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_ptr_equal(h, (void *)0x1); // untouched on error
    // initialize's own error comes back
    assert_int_equal(umfMemoryProviderCreate(&ops, NULL, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, &h), UMF_RESULT_SUCCESS);
    assert_string_equal(umfMemoryProviderGetName(h), "test");
    umfMemoryProviderDestroy(h);
    assert_int_equal(tp.finalized, 1);
    umfMemoryProviderDestroy(NULL); // no crash
    assert_null(umfMemoryProviderGetName(NULL));
}

static void alloc_free_and_errors(void **state) {
    (void)state;
    test_provider_t tp = {0};
    umf_memory_provider_ops_t ops = test_provider_ops();
    umf_memory_provider_handle_t h;
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, &h), UMF_RESULT_SUCCESS);
    void *p = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 8192, 4096, &p), UMF_RESULT_SUCCESS);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 4096, 0);
    assert_int_equal(umfMemoryProviderFree(h, p, 8192), UMF_RESULT_SUCCESS);
    assert_int_equal(tp.allocs, 1);
    assert_int_equal(tp.frees, 1);
    assert_int_equal(umfMemoryProviderAlloc(NULL, 1, 0, &p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAlloc(h, 1, 0, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAlloc(h, 1, 3, &p), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    assert_ptr_equal(umfGetLastFailedMemoryProvider(), h);
    assert_int_equal(umfMemoryProviderFree(NULL, p, 1), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    size_t ps = 0;
    assert_int_equal(umfMemoryProviderGetRecommendedPageSize(h, 100, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, 4096);
    assert_int_equal(umfMemoryProviderGetMinPageSize(h, NULL, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderGetMinPageSize(h, NULL, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderGetRecommendedPageSize(NULL, 1, &ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);

    // A provider-specific failure: the native error is readable.
    tp.fail_alloc = UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC;
    assert_int_equal(umfMemoryProviderAlloc(h, 4096, 0, &p), UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    const char *msg = NULL;
    int32_t code = 0;
    umfMemoryProviderGetLastNativeError(h, &msg, &code);
    assert_int_equal(code, 42);
    assert_string_equal(msg, "test provider failure");
    umfMemoryProviderGetLastNativeError(h, NULL, &code); // reaches tp_err, which ignores it
    umfMemoryProviderDestroy(h);
}

static void optional_ops_unsupported(void **state) {
    (void)state;
    test_provider_t tp = {0};
    umf_memory_provider_ops_t ops = test_provider_ops();
    umf_memory_provider_handle_t h;
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, &h), UMF_RESULT_SUCCESS);
    char buf[8192] __attribute__((aligned(4096)));
    assert_int_equal(umfMemoryProviderPurgeLazy(h, buf, 4096), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderPurgeForce(h, buf, 4096), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, buf, 8192, 4096), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, buf, buf + 4096, 8192), UMF_RESULT_ERROR_NOT_SUPPORTED);
    // Bad split/merge arguments are errors before anything else.
    assert_int_equal(umfMemoryProviderAllocationSplit(h, buf, 4096, 4096), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, buf, 4096, 0), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, buf + 4096, buf, 8192), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, buf, buf + 8192, 8192), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    size_t sz;
    char data[64];
    void *p;
    assert_int_equal(umfMemoryProviderGetIPCHandleSize(h, &sz), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderGetIPCHandle(h, buf, 4096, data), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderPutIPCHandle(h, data), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderOpenIPCHandle(h, data, &p), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderCloseIPCHandle(h, buf, 4096), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderGetIPCHandleSize(h, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderOpenIPCHandle(h, NULL, &p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umfMemoryProviderDestroy(h);
}

static umf_result_t purge_ok(void *p, void *ptr, size_t size) {
    (void)p, (void)ptr, (void)size;
    return UMF_RESULT_SUCCESS;
}

static void purge_checks_alignment(void **state) {
    (void)state;
    test_provider_t tp = {0};
    umf_memory_provider_ops_t ops = test_provider_ops();
    ops.ext.purge_lazy = purge_ok;
    ops.ext.purge_force = purge_ok;
    umf_memory_provider_handle_t h;
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, &h), UMF_RESULT_SUCCESS);
    static char buf[3 * 4096] __attribute__((aligned(4096)));
    assert_int_equal(umfMemoryProviderPurgeLazy(h, buf, 4096), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderPurgeForce(h, buf + 1, 4096), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    assert_int_equal(umfMemoryProviderPurgeForce(h, buf, 100), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    assert_int_equal(umfMemoryProviderPurgeForce(h, NULL, 4096), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umfMemoryProviderDestroy(h);
}

static void *fail_in_thread(void *arg) {
    umf_memory_provider_handle_t h = arg;
    void *p;
    umfMemoryProviderAlloc(h, 1, 5, &p); // fails: alignment
    return umfGetLastFailedMemoryProvider();
}

static void last_failed_is_per_thread(void **state) {
    (void)state;
    test_provider_t tp = {0};
    umf_memory_provider_ops_t ops = test_provider_ops();
    umf_memory_provider_handle_t h;
    assert_int_equal(umfMemoryProviderCreate(&ops, &tp, &h), UMF_RESULT_SUCCESS);
    // A fresh thread has no failed provider until one fails there.
    pthread_t t;
    void *ret;
    assert_int_equal(pthread_create(&t, NULL, fail_in_thread, h), 0);
    pthread_join(t, &ret);
    assert_ptr_equal(ret, h);
    umfMemoryProviderDestroy(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_validates_ops),   cmocka_unit_test(alloc_free_and_errors),
        cmocka_unit_test(optional_ops_unsupported), cmocka_unit_test(purge_checks_alignment),
        cmocka_unit_test(last_failed_is_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
