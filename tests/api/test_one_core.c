// SPDX-License-Identifier: MIT
// A process that uses UMF, memkind and hmalloc has one core: the blocks of
// every front end are in the same address map (umfPoolByPtr finds them),
// and each front end still frees its own.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <hmalloc.h>
#include <memkind.h>
#include <umf/memory_pool.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

static void one_address_map(void **state) {
    (void)state;
    void *m = memkind_malloc(MEMKIND_DEFAULT, 100);
    void *h = hmalloc(100);
    assert_non_null(m);
    assert_non_null(h);
    umf_memory_pool_handle_t pm = umfPoolByPtr(m), ph = umfPoolByPtr(h);
    assert_non_null(pm);
    assert_non_null(ph);
    assert_ptr_not_equal(pm, ph);
    assert_ptr_equal(memkind_detect_kind(m), MEMKIND_DEFAULT);

    umf_os_memory_provider_params_handle_t params;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&params), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), params, &prov),
                     UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(params);
    assert_int_equal(umfPoolCreate(umfScalablePoolOps(), prov, NULL,
                                   UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool),
                     UMF_RESULT_SUCCESS);
    void *u = umfPoolMalloc(pool, 100);
    assert_non_null(u);
    assert_ptr_equal(umfPoolByPtr(u), pool);
    assert_int_equal(umfFree(u), UMF_RESULT_SUCCESS);
    umfPoolDestroy(pool);

    memkind_free(NULL, m); // found through the same map
    hfree(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(one_address_map)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
