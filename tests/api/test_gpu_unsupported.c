// SPDX-License-Identifier: MIT
// UMF 0.11's CUDA and Level Zero entry points are exported and answer as
// UMF built without GPU support: NOT_SUPPORTED from every call (NULL and
// non-NULL arguments alike), NULL ops, and a provider cannot be made from
// them. (The GPU providers themselves are issue 18.)
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>
#include <umf/memory_provider.h>
#include <umf/providers/provider_cuda.h>
#include <umf/providers/provider_level_zero.h>

#define NS UMF_RESULT_ERROR_NOT_SUPPORTED

static void cuda_not_supported(void **state) {
    (void)state;
    umf_cuda_memory_provider_params_handle_t p = (umf_cuda_memory_provider_params_handle_t)0x1;
    assert_int_equal(umfCUDAMemoryProviderParamsCreate(&p), NS);
    assert_int_equal(umfCUDAMemoryProviderParamsCreate(NULL), NS);
    assert_int_equal(umfCUDAMemoryProviderParamsSetContext(p, NULL), NS);
    assert_int_equal(umfCUDAMemoryProviderParamsSetDevice(p, 0), NS);
    assert_int_equal(umfCUDAMemoryProviderParamsSetMemoryType(p, UMF_MEMORY_TYPE_DEVICE), NS);
    assert_int_equal(umfCUDAMemoryProviderParamsSetAllocFlags(p, 1), NS);
    assert_int_equal(umfCUDAMemoryProviderParamsDestroy(p), NS);
    assert_null(umfCUDAMemoryProviderOps());
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfCUDAMemoryProviderOps(), NULL, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(h);
}

static void level_zero_not_supported(void **state) {
    (void)state;
    umf_level_zero_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfLevelZeroMemoryProviderParamsCreate(&p), NS);
    assert_int_equal(umfLevelZeroMemoryProviderParamsSetContext(p, NULL), NS);
    assert_int_equal(umfLevelZeroMemoryProviderParamsSetDevice(p, NULL), NS);
    assert_int_equal(umfLevelZeroMemoryProviderParamsSetMemoryType(p, UMF_MEMORY_TYPE_HOST), NS);
    ze_device_handle_t devs[1] = {NULL};
    assert_int_equal(umfLevelZeroMemoryProviderParamsSetResidentDevices(p, devs, 1), NS);
    assert_int_equal(umfLevelZeroMemoryProviderParamsSetFreePolicy(
                         p, UMF_LEVEL_ZERO_MEMORY_PROVIDER_FREE_POLICY_DEFER_FREE),
                     NS);
    assert_int_equal(umfLevelZeroMemoryProviderParamsSetDeviceOrdinal(p, 0), NS);
    assert_int_equal(umfLevelZeroMemoryProviderParamsDestroy(p), NS);
    assert_null(umfLevelZeroMemoryProviderOps());
    // UMF 0.11's values of the enums.
    assert_int_equal(UMF_MEMORY_TYPE_SHARED, 3);
    assert_int_equal(UMF_LEVEL_ZERO_MEMORY_PROVIDER_FREE_POLICY_DEFER_FREE, 2);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(cuda_not_supported),
                                       cmocka_unit_test(level_zero_not_supported)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
