// SPDX-License-Identifier: MIT
// The fixed and file providers' codes as UMF 0.11's coarse allocator gives
// them: bad alignments (not a power of two) INVALID_ALIGNMENT, huge sizes
// OUT_OF_HOST_MEMORY, frees of pointers not allocated INVALID_ARGUMENT, purges
// of partial pages INVALID_ALIGNMENT (UMF's documented contract; see
// docs/providers-pools.md, "Differences from UMF 0.11").
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_fixed_memory.h>

#include "os/os.h"

static void check_codes(umf_memory_provider_handle_t h) {
    size_t ps = os_page_size();
    const size_t bad_align[] = {3, 24, 3 * ps, ps + 1};
    void *m = (void *)0x1;
    for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++)
        assert_int_equal(umfMemoryProviderAlloc(h, ps, bad_align[i], &m),
                         UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    assert_ptr_equal(m, (void *)0x1);
    assert_int_equal(umfMemoryProviderAlloc(h, SIZE_MAX, 0, &m), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    assert_int_equal(umfMemoryProviderAlloc(h, SIZE_MAX - ps + 1, 0, &m),
                     UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    char *a = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * ps, 2 * ps, (void **)&a), UMF_RESULT_SUCCESS);
    assert_int_equal((uintptr_t)a % (2 * ps), 0);
    a[0] = 5;
    a[2 * ps - 1] = 6;
    assert_int_equal(umfMemoryProviderPurgeForce(h, a + 1, ps), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    assert_int_equal(umfMemoryProviderPurgeForce(h, a, ps + 1), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    assert_int_equal(a[0], 5); // refused purges touched nothing
    int local = 0;
    assert_int_equal(umfMemoryProviderFree(h, &local, 4), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, a + ps, ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, a, 2 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, a, 2 * ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);
}

static void fixed_codes(void **state) {
    (void)state;
    size_t len = 16 * os_page_size();
    void *buf = NULL;
    assert_int_equal(os_map_anon(NULL, len, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &buf), 0);
    umf_fixed_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&p, buf, len), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), p, &h), UMF_RESULT_SUCCESS);
    umfFixedMemoryProviderParamsDestroy(p);
    check_codes(h);
    umfMemoryProviderDestroy(h);
    assert_int_equal(os_unmap(buf, len), 0);
}

static void file_codes(void **state) {
    (void)state;
    char path[] = "/tmp/hetmem-codes-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    umf_file_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfFileMemoryProviderParamsCreate(&p, path), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &h), UMF_RESULT_SUCCESS);
    umfFileMemoryProviderParamsDestroy(p);
    check_codes(h);
    umfMemoryProviderDestroy(h);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_codes),
        cmocka_unit_test(file_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
