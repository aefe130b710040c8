// SPDX-License-Identifier: MIT
// Provider handles under wrong use (issue 11): every umfMemoryProvider*
// entry point called with a garbage handle (zeros, random bytes and a copy
// of a live provider's bytes with the tag damaged, in a buffer the size of
// the handle), with a destroyed handle, and destroy called twice. Each must
// answer UMF_RESULT_ERROR_INVALID_ARGUMENT (NULL from GetName; outputs
// untouched by the void GetLastNativeError) and never crash. Also: a
// successful call leaves errno as it was (sentinel). Random bytes come from
// a seed printed at start (HETMEM_TEST_SEED to replay).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_fixed_memory.h>
#include <umf/providers/provider_os_memory.h>

#include "providers/provider.h"

#include "test_seed.h"

#define OK UMF_RESULT_SUCCESS
#define INVAL UMF_RESULT_ERROR_INVALID_ARGUMENT
#define SENTINEL 4242

static uint64_t rng;
static uint32_t rnd(void) { return test_rng_next(&rng); }

static umf_memory_provider_handle_t os_provider(bool shared) {
    umf_os_memory_provider_params_handle_t p;
    umf_memory_provider_handle_t prov = NULL;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), OK);
    if (shared)
        assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov), OK);
    umfOsMemoryProviderParamsDestroy(p);
    return prov;
}

// Every entry point with handle h must refuse it. `what` names the case.
static void expect_refused(umf_memory_provider_handle_t h, const char *what) {
    static char buf[8192] __attribute__((aligned(4096)));
    void *ptr = (void *)0x1;
    size_t sz = 77;
    int failures = 0;
#define REFUSED(call)                                                                              \
    do {                                                                                           \
        umf_result_t r_ = (call);                                                                  \
        if (r_ != INVAL) {                                                                         \
            print_error("%s: %s returned %d\n", what, #call, (int)r_);                             \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)
    REFUSED(umfMemoryProviderAlloc(h, 4096, 0, &ptr));
    REFUSED(umfMemoryProviderFree(h, buf, 4096));
    REFUSED(umfMemoryProviderGetRecommendedPageSize(h, 4096, &sz));
    REFUSED(umfMemoryProviderGetMinPageSize(h, buf, &sz));
    REFUSED(umfMemoryProviderPurgeLazy(h, buf, 4096));
    REFUSED(umfMemoryProviderPurgeForce(h, buf, 4096));
    REFUSED(umfMemoryProviderGetIPCHandleSize(h, &sz));
    REFUSED(umfMemoryProviderGetIPCHandle(h, buf, 4096, buf + 4096));
    REFUSED(umfMemoryProviderPutIPCHandle(h, buf));
    REFUSED(umfMemoryProviderOpenIPCHandle(h, buf, &ptr));
    REFUSED(umfMemoryProviderCloseIPCHandle(h, buf, 4096));
    REFUSED(umfMemoryProviderAllocationSplit(h, buf, 8192, 4096));
    REFUSED(umfMemoryProviderAllocationMerge(h, buf, buf + 4096, 8192));
#undef REFUSED
    if (umfMemoryProviderGetName(h) != NULL) {
        print_error("%s: umfMemoryProviderGetName gave a name\n", what);
        failures++;
    }
    const char *msg = "untouched";
    int32_t code = 4711;
    umfMemoryProviderGetLastNativeError(h, &msg, &code);
    if (strcmp(msg, "untouched") != 0 || code != 4711) {
        print_error("%s: umfMemoryProviderGetLastNativeError wrote its outputs\n", what);
        failures++;
    }
    if (ptr != (void *)0x1 || sz != 77) {
        print_error("%s: an output was written\n", what);
        failures++;
    }
    umfMemoryProviderDestroy(h); // ignored (a log line), no crash
    if (failures)
        fail_msg("%s: %d entry point(s) did not refuse the handle", what, failures);
}

static void garbage_handles(void **state) {
    (void)state;
    const size_t n = sizeof(struct umf_memory_provider_t);
    unsigned char *b = malloc(n);
    memset(b, 0, n);
    expect_refused((umf_memory_provider_handle_t)b, "zeros");
    memset(b, 0xff, n);
    expect_refused((umf_memory_provider_handle_t)b, "0xff bytes");
    for (int round = 0; round < 32; round++) {
        for (size_t i = 0; i < n; i++)
            b[i] = (unsigned char)rnd();
        expect_refused((umf_memory_provider_handle_t)b, "random bytes");
    }
    // A live provider's bytes (working ops, working state) with one bit of
    // the tag flipped: the tag alone decides.
    umf_memory_provider_handle_t live = os_provider(false);
    memcpy(b, live, n);
    b[rnd() % sizeof(uint32_t)] ^= (unsigned char)(1u << (rnd() % 8)); // the 32-bit tag
    expect_refused((umf_memory_provider_handle_t)b, "a live provider's copy, tag damaged");
    // The live provider itself still works after all that.
    void *p = NULL;
    assert_int_equal(umfMemoryProviderAlloc(live, 4096, 0, &p), OK);
    assert_int_equal(umfMemoryProviderFree(live, p, 4096), OK);
    umfMemoryProviderDestroy(live);
    free(b);
}

static void destroyed_handles(void **state) {
    (void)state;
    umf_memory_provider_handle_t a = os_provider(true), b = os_provider(false);
    umfMemoryProviderDestroy(a);
    expect_refused(a, "destroyed (shared OS provider)"); // destroys it a second time too
    umfMemoryProviderDestroy(a);                          // and a third
    // Providers made after that are new handles; the old one stays dead.
    umf_memory_provider_handle_t c = os_provider(false);
    expect_refused(a, "destroyed, after another create");
    assert_string_equal(umfMemoryProviderGetName(b), "OS");
    assert_string_equal(umfMemoryProviderGetName(c), "OS");
    umfMemoryProviderDestroy(b);
    umfMemoryProviderDestroy(c);
    expect_refused(b, "destroyed b");
    expect_refused(c, "destroyed c");
    // Destroys and creates: a destroyed block is reused only once
    // HANDLE_QUARANTINE (64) newer providers were destroyed after it; 4
    // were destroyed before (garbage_handles' and this test's), 40 + 20
    // more here: none may come back, and each still reads dead.
    umf_memory_provider_handle_t v[40];
    for (int i = 0; i < 40; i++)
        v[i] = os_provider(false);
    for (int i = 0; i < 40; i++)
        umfMemoryProviderDestroy(v[i]);
    for (int i = 0; i < 20; i++) {
        umf_memory_provider_handle_t w = os_provider(false);
        for (int j = 0; j < 40; j++)
            if (w == v[j] || w == a || w == b || w == c)
                fail_msg("a destroyed provider's block came back after %d creates", i + 1);
        umfMemoryProviderDestroy(w);
    }
    for (int i = 0; i < 40; i++)
        assert_null(umfMemoryProviderGetName(v[i]));
}

// errno is the caller's: successful calls leave the sentinel in place.
#define KEEPS_ERRNO(call)                                                                          \
    do {                                                                                           \
        errno = SENTINEL;                                                                          \
        umf_result_t r_ = (call);                                                                  \
        if (r_ != OK)                                                                              \
            fail_msg("%s failed: %d", #call, (int)r_);                                             \
        if (errno != SENTINEL)                                                                     \
            fail_msg("%s changed errno to %d", #call, errno);                                      \
    } while (0)

static void errno_sentinel(void **state) {
    (void)state;
    char path[64];
    snprintf(path, sizeof path, "/tmp/hetmem_test_provider_misuse_%d", (int)getpid());
    umf_file_memory_provider_params_handle_t fp;
    assert_int_equal(umfFileMemoryProviderParamsCreate(&fp, path), OK);
    assert_int_equal(umfFileMemoryProviderParamsSetVisibility(fp, UMF_MEM_MAP_SHARED), OK);
    umf_os_memory_provider_params_handle_t op;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&op), OK);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(op, UMF_MEM_MAP_SHARED), OK);
    umf_memory_provider_handle_t provs[2];
    KEEPS_ERRNO(umfMemoryProviderCreate(umfOsMemoryProviderOps(), op, &provs[0]));
    KEEPS_ERRNO(umfMemoryProviderCreate(umfFileMemoryProviderOps(), fp, &provs[1]));
    umf_memory_provider_handle_t opener = os_provider(false);
    for (int i = 0; i < 2; i++) {
        umf_memory_provider_handle_t h = provs[i];
        void *p = NULL, *q = NULL;
        size_t ps, hs;
        KEEPS_ERRNO(umfMemoryProviderAlloc(h, 8192, 0, &p));
        KEEPS_ERRNO(umfMemoryProviderGetRecommendedPageSize(h, 8192, &ps));
        KEEPS_ERRNO(umfMemoryProviderGetMinPageSize(h, p, &ps));
        KEEPS_ERRNO(umfMemoryProviderPurgeForce(h, p, 4096));
        KEEPS_ERRNO(umfMemoryProviderGetIPCHandleSize(h, &hs));
        void *data = malloc(hs);
        KEEPS_ERRNO(umfMemoryProviderGetIPCHandle(h, p, 8192, data));
        KEEPS_ERRNO(umfMemoryProviderOpenIPCHandle(i == 0 ? opener : h, data, &q));
        KEEPS_ERRNO(umfMemoryProviderCloseIPCHandle(i == 0 ? opener : h, q, 8192));
        KEEPS_ERRNO(umfMemoryProviderPutIPCHandle(h, data));
        KEEPS_ERRNO(umfMemoryProviderFree(h, p, 8192));
        free(data);
        errno = SENTINEL;
        assert_non_null(umfMemoryProviderGetName(h));
        umfMemoryProviderDestroy(h);
        assert_int_equal(errno, SENTINEL);
    }
    umfMemoryProviderDestroy(opener);
    umfOsMemoryProviderParamsDestroy(op);
    umfFileMemoryProviderParamsDestroy(fp);
    unlink(path);
}

int main(void) {
    const char *s = getenv("HETMEM_TEST_SEED");
    rng = s ? strtoull(s, NULL, 0) : (uint64_t)getpid() * UINT64_C(0x9e3779b97f4a7c15);
    if (!rng)
        rng = 1;
    printf("test_provider_misuse: seed 0x%llx (HETMEM_TEST_SEED to replay)\n",
           (unsigned long long)rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(garbage_handles),
        cmocka_unit_test(destroyed_handles),
        cmocka_unit_test(errno_sentinel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
