// SPDX-License-Identifier: MIT
// The OS provider's weighted interleave extension (hetmem/provider_os_ext.h,
// hetmem_os_provider_params_set_weighted_interleave), which hmctl -w uses,
// on this one-node machine: the parameter checks, the kernel policy of the
// memory (get_mempolicy: MPOL_WEIGHTED_INTERLEAVE on Linux 6.9+), and the
// bind-failure path. The weights' effect on placement is proven in the
// guests (tests/vm/hmalloc).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <hetmem/provider_os_ext.h>
#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "os/os.h"
#include "providers/provider_os.h"

typedef umf_os_memory_provider_params_handle_t params_t;

static bool kernel_has_weighted(void) {
    return access("/sys/kernel/mm/mempolicy/weighted_interleave", F_OK) == 0;
}

static umf_result_t create(umf_numa_mode_t mode, bool list, size_t part, bool weighted,
                           umf_memory_provider_handle_t *h) {
    params_t p;
    unsigned node0[1] = {0};
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, mode), UMF_RESULT_SUCCESS);
    if (list)
        assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, node0, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetPartSize(p, part), UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_os_provider_params_set_weighted_interleave(p, weighted),
                     UMF_RESULT_SUCCESS);
    umf_result_t r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, h);
    umfOsMemoryProviderParamsDestroy(p);
    return r;
}

static void test_params(void **state) {
    (void)state;
    assert_int_equal(hetmem_os_provider_params_set_weighted_interleave(NULL, true),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umf_memory_provider_handle_t h = NULL;
    // Only page-wise INTERLEAVE can be weighted.
    assert_int_equal(create(UMF_NUMA_MODE_BIND, true, 0, true, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(create(UMF_NUMA_MODE_PREFERRED, true, 0, true, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(create(UMF_NUMA_MODE_DEFAULT, false, 0, true, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(create(UMF_NUMA_MODE_SPLIT, true, 0, true, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(create(UMF_NUMA_MODE_INTERLEAVE, true, 8192, true, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(h);
    // Turned off again, any mode goes.
    assert_int_equal(create(UMF_NUMA_MODE_BIND, true, 0, false, &h), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

static os_mpol_t policy_of(umf_memory_provider_handle_t h, size_t len) {
    void *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, len, 0, &m), UMF_RESULT_SUCCESS);
    memset(m, 1, len);
    int node = -1;
    assert_int_equal(os_page_node(m, &node), 0);
    assert_int_equal(node, 0);
    os_mpol_t mode;
    nodeset_t nodes;
    assert_int_equal(os_get_mempolicy(m, &mode, &nodes), 0);
    assert_true(nodeset_isset(&nodes, 0));
    assert_int_equal(nodeset_count(&nodes), 1);
    assert_int_equal(umfMemoryProviderFree(h, m, len), UMF_RESULT_SUCCESS);
    return mode;
}

static void test_policy(void **state) {
    (void)state;
    umf_memory_provider_handle_t h;
    assert_int_equal(create(UMF_NUMA_MODE_INTERLEAVE, true, 0, true, &h), UMF_RESULT_SUCCESS);
    os_mpol_t want = kernel_has_weighted() ? OS_MPOL_WEIGHTED_INTERLEAVE : OS_MPOL_INTERLEAVE;
    assert_int_equal(policy_of(h, 64 * 4096), want);
    assert_int_equal(policy_of(h, 4096), want); // and again (after a fallback too)
    umfMemoryProviderDestroy(h);
    assert_int_equal(create(UMF_NUMA_MODE_INTERLEAVE, true, 0, false, &h), UMF_RESULT_SUCCESS);
    assert_int_equal(policy_of(h, 16 * 4096), OS_MPOL_INTERLEAVE);
    umfMemoryProviderDestroy(h);
}

static void test_bind_failure(void **state) {
    (void)state;
    umf_memory_provider_handle_t h;
    assert_int_equal(create(UMF_NUMA_MODE_INTERLEAVE, true, 0, true, &h), UMF_RESULT_SUCCESS);
    void *m = NULL;
    provider_os_fail_next_bind_for_testing(EIO);
    assert_int_equal(umfMemoryProviderAlloc(h, 8 * 4096, 0, &m),
                     UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    assert_null(m);
    const char *msg = NULL;
    int32_t code = 0;
    umfMemoryProviderGetLastNativeError(h, &msg, &code);
    assert_int_equal(code, UMF_OS_RESULT_ERROR_BIND_FAILED);
    umfMemoryProviderDestroy(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_bind_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
