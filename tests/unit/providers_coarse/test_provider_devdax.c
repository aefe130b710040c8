// SPDX-License-Identifier: MIT
// The devdax memory provider on a machine without device DAX: params
// checks, a missing path and a regular file are refused at initialize, and
// /dev/zero - a character device that maps MAP_SHARED but refuses MAP_SYNC -
// stands in for a device to exercise the fallback mapping, allocation,
// exhaustion at the given size, reuse, split/merge, bad frees and the
// offset lookup. The real device is tested in a guest (tests/vm/devdax).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_devdax_memory.h>

#include "base/log.h"
#include "os/os.h"
#include "providers/provider.h"
#include "coarse_probe.h"
#include "providers/range_alloc.h"

#define MiB ((size_t)1 << 20)

static umf_result_t try_make(const char *path, size_t size, umf_memory_provider_handle_t *h) {
    umf_devdax_memory_provider_params_handle_t p = NULL;
    umf_result_t r = umfDevDaxMemoryProviderParamsCreate(&p, path, size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    *h = NULL;
    r = umfMemoryProviderCreate(umfDevDaxMemoryProviderOps(), p, h);
    umfDevDaxMemoryProviderParamsDestroy(p);
    return r;
}

static void params(void **state) {
    (void)state;
    umf_devdax_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfDevDaxMemoryProviderParamsCreate(&p, NULL, MiB),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    // Size 0: taken by the params (UMF), refused by the provider's creation.
    assert_int_equal(umfDevDaxMemoryProviderParamsCreate(&p, "/dev/dax0.0", 0), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h0 = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfDevDaxMemoryProviderOps(), p, &h0),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(h0);
    umfDevDaxMemoryProviderParamsDestroy(p);
    p = NULL;
    assert_int_equal(umfDevDaxMemoryProviderParamsCreate(NULL, "/dev/dax0.0", MiB),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(p);
    assert_int_equal(umfDevDaxMemoryProviderParamsCreate(&p, "/dev/dax0.0", MiB),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfDevDaxMemoryProviderParamsSetDeviceDax(p, NULL, MiB),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfDevDaxMemoryProviderParamsSetDeviceDax(p, "/dev/dax1.0", 0),
                     UMF_RESULT_SUCCESS); // refused at creation (above)
    assert_int_equal(umfDevDaxMemoryProviderParamsSetDeviceDax(NULL, "/dev/dax1.0", MiB),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfDevDaxMemoryProviderParamsSetDeviceDax(p, "/dev/dax1.0", 2 * MiB),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfDevDaxMemoryProviderParamsSetProtection(p, 0),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfDevDaxMemoryProviderParamsSetProtection(
                         p, UMF_PROTECTION_NONE | UMF_PROTECTION_READ),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfDevDaxMemoryProviderParamsSetProtection(p, UMF_PROTECTION_READ),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfDevDaxMemoryProviderParamsDestroy(p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfDevDaxMemoryProviderParamsDestroy(NULL), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfDevDaxMemoryProviderOps(), NULL, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
}

// The refusal's log line names the error in words, not as a number.
static void missing_device(void **state) {
    (void)state;
    umf_memory_provider_handle_t h = NULL;
    char path[] = "/tmp/hetmem-devdax-log-XXXXXX";
    int cap = mkstemp(path);
    assert_true(cap >= 0);
    log_level_t level = log_level();
    log_set_level(LOG_LEVEL_ERROR);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    dup2(cap, 2);
    umf_result_t r = try_make("/dev/hetmem-no-such-dax9.9", 2 * MiB, &h);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    log_set_level(level);
    char log[4096] = {0};
    assert_true(lseek(cap, 0, SEEK_SET) == 0);
    ssize_t n = read(cap, log, sizeof log - 1);
    close(cap);
    unlink(path);
    fprintf(stderr, "%s", log); // still visible in the test's output
    assert_int_not_equal(r, UMF_RESULT_SUCCESS);
    assert_int_equal(r, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(h);
    assert_true(n > 0);
    assert_non_null(strstr(log, "/dev/hetmem-no-such-dax9.9"));
    assert_non_null(strstr(log, strerror(ENOENT)));
    assert_null(strstr(log, "errno"));
}

static void regular_file_refused(void **state) {
    (void)state;
    char path[] = "/tmp/hetmem-devdax-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4 * MiB), 0);
    close(fd);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(try_make(path, 2 * MiB, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(h);
    unlink(path);
    // A directory is not a device either.
    assert_int_not_equal(try_make("/tmp", 2 * MiB, &h), UMF_RESULT_SUCCESS);
    // A size that is not a page multiple cannot be mapped.
    assert_int_equal(try_make("/dev/zero", 2 * MiB + 1, &h), UMF_RESULT_ERROR_INVALID_ARGUMENT);
}

// /dev/zero as a stand-in device: MAP_SYNC is refused (EOPNOTSUPP), the
// provider falls back to MAP_SHARED and works on the mapping.
static void zero_device_stand_in(void **state) {
    (void)state;
    size_t size = 32 * MiB;
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(try_make("/dev/zero", size, &h), UMF_RESULT_SUCCESS);
    assert_string_equal(umfMemoryProviderGetName(h), "DEVDAX");
    size_t ps = 0;
    assert_int_equal(umfMemoryProviderGetMinPageSize(h, NULL, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, 2 * MiB);
    assert_int_equal(umfMemoryProviderGetRecommendedPageSize(h, 4096, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, 2 * MiB);

    // Fill the device with 2 MiB-aligned allocations (alignment 0).
    unsigned char *p[16];
    for (int i = 0; i < 16; i++) {
        assert_int_equal(umfMemoryProviderAlloc(h, 2 * MiB, 0, (void **)&p[i]),
                         UMF_RESULT_SUCCESS);
        assert_int_equal((uintptr_t)p[i] % (2 * MiB), 0);
        memset(p[i], i + 1, 2 * MiB);
        coarse_probe_t b;
        assert_int_equal(coarse_probe(h, p[i] + 5, &b), 0);
        assert_string_equal(b.path, "/dev/zero");
        assert_true(b.shared);
        assert_int_equal(b.offset, (uint64_t)(p[i] - p[0]));
        assert_int_equal(b.offset % (2 * MiB), 0);
    }
    void *x;
    assert_int_equal(umfMemoryProviderAlloc(h, 1, 1, &x), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    for (int i = 0; i < 16; i++)
        assert_int_equal(p[i][12345], i + 1);
    // Free, allocate again: the same memory comes back.
    assert_int_equal(umfMemoryProviderFree(h, p[3], 2 * MiB), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, p[3], 2 * MiB), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * MiB, 0, &x), UMF_RESULT_SUCCESS);
    assert_ptr_equal(x, p[3]);
    // Foreign and wrong-size frees change nothing.
    int other;
    assert_int_equal(umfMemoryProviderFree(h, &other, 4), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, p[4], MiB), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    // Split and merge.
    assert_int_equal(umfMemoryProviderAllocationSplit(h, p[5], 2 * MiB, MiB), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, p[5] + MiB, MiB), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, p[5], p[5] + MiB, 2 * MiB),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, p[5], MiB), UMF_RESULT_SUCCESS);
    for (int i = 0; i < 16; i++)
        if (i != 5)
            assert_int_equal(umfMemoryProviderFree(h, p[i], 2 * MiB), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, size, 0, &x), UMF_RESULT_SUCCESS);
    assert_ptr_equal(x, p[0]);
    assert_int_equal(umfMemoryProviderPurgeLazy(h, x, 2 * MiB), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfMemoryProviderPurgeForce(h, (char *)x + 4096, 2 * MiB),
                     UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    umfMemoryProviderDestroy(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params),
        cmocka_unit_test(missing_device),
        cmocka_unit_test(regular_file_refused),
        cmocka_unit_test(zero_device_stand_in),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
