// SPDX-License-Identifier: MIT
// The OS provider on this (one-node) machine: every NUMA mode with node 0
// (placement checked with move_pages, the policy with get_mempolicy),
// alignment, protection, purge, native errors after a forced bind failure,
// huge pages failing cleanly. Shared visibility is test_provider_os_shared.c;
// multi-node placement is proven in the guests (tests/vm/os_provider).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hetmem/provider_os_ext.h>
#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "os/os.h"
#include "providers/provider.h"
#include "providers/provider_os.h"

typedef umf_os_memory_provider_params_handle_t params_t;

static umf_memory_provider_handle_t create(umf_numa_mode_t mode, unsigned list_len,
                                          unsigned protection) {
    params_t p;
    unsigned list[1] = {0};
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, mode), UMF_RESULT_SUCCESS);
    if (list_len)
        assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, list, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetProtection(p, protection), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h), UMF_RESULT_SUCCESS);
    assert_false(h->foreign); // the core's own: its locks stay in the witness's one frame
    umfOsMemoryProviderParamsDestroy(p); // the provider keeps its own copy
    return h;
}

#define RW (UMF_PROTECTION_READ | UMF_PROTECTION_WRITE)

// Every page of [p, p+len) is present and on node 0.
static void assert_on_node0(char *p, size_t len) {
    size_t ps = os_page_size(), n = len / ps;
    void **pages = calloc(n, sizeof *pages);
    int *status = calloc(n, sizeof *status);
    assert_non_null(pages);
    assert_non_null(status);
    for (size_t i = 0; i < n; i++)
        pages[i] = p + i * ps;
    assert_int_equal(os_move_pages(n, pages, NULL, status), 0);
    for (size_t i = 0; i < n; i++)
        if (status[i] != 0)
            fail_msg("page %zu of %p is on node %d", i, (void *)p, status[i]);
    free(pages);
    free(status);
}

static void name_and_page_sizes(void **state) {
    (void)state;
    umf_memory_provider_handle_t h = create(UMF_NUMA_MODE_DEFAULT, 0, RW);
    assert_string_equal(umfMemoryProviderGetName(h), "OS");
    size_t ps = 0;
    assert_int_equal(umfMemoryProviderGetRecommendedPageSize(h, 12345, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, os_page_size());
    ps = 0;
    assert_int_equal(umfMemoryProviderGetMinPageSize(h, NULL, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, os_page_size());
    umfMemoryProviderDestroy(h);
}

typedef struct mode_case_t {
    const char *what;
    umf_numa_mode_t mode;
    unsigned list_len;
    size_t part_size;
    bool partitions;
    os_mpol_t want; // the VMA policy get_mempolicy reports for the first page
} mode_case_t;

// Each mode with node 0: allocate, touch, all pages on node 0, the policy
// of the mapping is the one the mode promises, free.
static void each_mode_on_node0(void **state) {
    (void)state;
    const mode_case_t c[] = {
        {"DEFAULT", UMF_NUMA_MODE_DEFAULT, 0, 0, false, OS_MPOL_DEFAULT},
        {"BIND", UMF_NUMA_MODE_BIND, 1, 0, false, OS_MPOL_BIND},
        {"INTERLEAVE", UMF_NUMA_MODE_INTERLEAVE, 1, 0, false, OS_MPOL_INTERLEAVE},
        {"INTERLEAVE parts", UMF_NUMA_MODE_INTERLEAVE, 1, 3 * 4096 + 1, false, OS_MPOL_BIND},
        {"PREFERRED {0}", UMF_NUMA_MODE_PREFERRED, 1, 0, false, OS_MPOL_PREFERRED},
        {"PREFERRED {}", UMF_NUMA_MODE_PREFERRED, 0, 0, false, OS_MPOL_LOCAL},
        {"SPLIT", UMF_NUMA_MODE_SPLIT, 1, 0, false, OS_MPOL_BIND},
        {"SPLIT partitions", UMF_NUMA_MODE_SPLIT, 1, 0, true, OS_MPOL_BIND},
        {"LOCAL", UMF_NUMA_MODE_LOCAL, 0, 0, false, OS_MPOL_LOCAL},
    };
    size_t ps = os_page_size();
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        params_t p;
        unsigned n0 = 0;
        umf_numa_split_partition_t part = {5, 0};
        assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
        assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, c[i].mode), UMF_RESULT_SUCCESS);
        if (c[i].list_len)
            assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, &n0, 1), UMF_RESULT_SUCCESS);
        assert_int_equal(umfOsMemoryProviderParamsSetPartSize(p, c[i].part_size),
                         UMF_RESULT_SUCCESS);
        if (c[i].partitions)
            assert_int_equal(umfOsMemoryProviderParamsSetPartitions(p, &part, 1),
                             UMF_RESULT_SUCCESS);
        umf_memory_provider_handle_t h = NULL;
        umf_result_t r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h);
        if (r != UMF_RESULT_SUCCESS)
            fail_msg("%s: create returned %d", c[i].what, (int)r);
        umfOsMemoryProviderParamsDestroy(p);

        const size_t sizes[] = {1, ps, 64 * ps, 64 * ps + 17};
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            char *m = NULL;
            r = umfMemoryProviderAlloc(h, sizes[s], 0, (void **)&m);
            if (r != UMF_RESULT_SUCCESS)
                fail_msg("%s: alloc(%zu) returned %d", c[i].what, sizes[s], (int)r);
            assert_int_equal((uintptr_t)m % ps, 0);
            size_t len = (sizes[s] + ps - 1) / ps * ps;
            memset(m, 0x5a, len);
            assert_on_node0(m, len);
            os_mpol_t mode;
            assert_int_equal(os_get_mempolicy(m, &mode, NULL), 0);
            // Kernels before 5.x report MPOL_LOCAL as MPOL_PREFERRED with no node.
            bool ok = mode == c[i].want ||
                      (c[i].want == OS_MPOL_LOCAL && mode == OS_MPOL_PREFERRED);
            if (!ok)
                fail_msg("%s: policy %d, want %d", c[i].what, (int)mode, (int)c[i].want);
            assert_int_equal(umfMemoryProviderFree(h, m, sizes[s]), UMF_RESULT_SUCCESS);
        }
        umfMemoryProviderDestroy(h);
    }
}

static void alignment(void **state) {
    (void)state;
    umf_memory_provider_handle_t h = create(UMF_NUMA_MODE_BIND, 1, RW);
    size_t ps = os_page_size();
    for (size_t a = 1; a <= ((size_t)64 << 20); a <<= 1) {
        char *m = NULL;
        assert_int_equal(umfMemoryProviderAlloc(h, 3 * ps, a, (void **)&m), UMF_RESULT_SUCCESS);
        assert_int_equal((uintptr_t)m % (a > ps ? a : ps), 0);
        memset(m, 1, 3 * ps);
        assert_on_node0(m, 3 * ps);
        assert_int_equal(umfMemoryProviderFree(h, m, 3 * ps), UMF_RESULT_SUCCESS);
    }
    void *m = (void *)0x1;
    assert_int_equal(umfMemoryProviderAlloc(h, ps, ps + 1, &m), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_ptr_equal(m, (void *)0x1);
    umfMemoryProviderDestroy(h);
}

static void bad_sizes(void **state) {
    (void)state;
    umf_memory_provider_handle_t h = create(UMF_NUMA_MODE_DEFAULT, 0, RW);
    void *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 0, 0, &m), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAlloc(h, SIZE_MAX, 0, &m),
                     UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    assert_int_equal(umfMemoryProviderAlloc(h, SIZE_MAX - os_page_size() + 1, 0, &m),
                     UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    assert_int_equal(umfMemoryProviderAlloc(h, SIZE_MAX / 2, 0, &m),
                     UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    assert_null(m);
    assert_ptr_equal(umfGetLastFailedMemoryProvider(), h);
    assert_int_equal(umfMemoryProviderAlloc(h, 4096, 0, &m), UMF_RESULT_SUCCESS);
    // Invalid frees answer what munmap answers in UMF 0.11: FREE_FAILED, EINVAL.
    const char *msg = NULL;
    int32_t native = 0;
    assert_int_equal(umfMemoryProviderFree(h, (char *)m + 1, 4096),
                     UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    umfMemoryProviderGetLastNativeError(h, &msg, &native);
    assert_int_equal(native, UMF_OS_RESULT_ERROR_FREE_FAILED);
    assert_non_null(strstr(msg, strerror(EINVAL)));
    assert_int_equal(umfMemoryProviderFree(h, m, 0), UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    assert_int_equal(umfMemoryProviderFree(h, m, SIZE_MAX), UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    assert_int_equal(umfMemoryProviderFree(h, m, 4096), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, NULL, 4096), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

// Runs fn(p) in a child and returns how the child ended (the signal, or 0).
static int child_signal(void (*fn)(volatile char *), volatile char *p) {
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); // cmocka installs its own handler
        signal(SIGBUS, SIG_DFL);
        fn(p);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void do_read(volatile char *p) { (void)p[0]; }
static void do_write(volatile char *p) { p[0] = 1; }

static void protection_none_and_read(void **state) {
    (void)state;
    size_t ps = os_page_size();
    umf_memory_provider_handle_t h = create(UMF_NUMA_MODE_DEFAULT, 0, UMF_PROTECTION_NONE);
    char *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, ps, 0, (void **)&m), UMF_RESULT_SUCCESS);
    assert_int_equal(child_signal(do_read, m), SIGSEGV);
    assert_int_equal(child_signal(do_write, m), SIGSEGV);
    assert_int_equal(umfMemoryProviderFree(h, m, ps), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);

    h = create(UMF_NUMA_MODE_BIND, 1, UMF_PROTECTION_READ);
    assert_int_equal(umfMemoryProviderAlloc(h, ps, 0, (void **)&m), UMF_RESULT_SUCCESS);
    assert_int_equal(m[0], 0); // readable, zero
    assert_int_equal(child_signal(do_read, m), 0);
    assert_int_equal(child_signal(do_write, m), SIGSEGV);
    assert_int_equal(umfMemoryProviderFree(h, m, ps), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

static void purge_private(void **state) {
    (void)state;
    size_t ps = os_page_size();
    umf_memory_provider_handle_t h = create(UMF_NUMA_MODE_BIND, 1, RW);
    char *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 8 * ps, 0, (void **)&m), UMF_RESULT_SUCCESS);
    memset(m, 7, 8 * ps);
    assert_int_equal(umfMemoryProviderPurgeForce(h, m + 2 * ps, 4 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(m[2 * ps], 0);
    assert_int_equal(m[6 * ps - 1], 0);
    assert_int_equal(m[2 * ps - 1], 7);
    assert_int_equal(m[6 * ps], 7);
    assert_int_equal(umfMemoryProviderPurgeLazy(h, m, 8 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderPurgeForce(h, m + 1, ps), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    assert_int_equal(umfMemoryProviderPurgeLazy(h, m, ps + 1), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    memset(m, 3, 8 * ps); // still usable, still on node 0
    assert_on_node0(m, 8 * ps);
    assert_int_equal(umfMemoryProviderFree(h, m, 8 * ps), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

static void split_merge_private(void **state) {
    (void)state;
    size_t ps = os_page_size();
    umf_memory_provider_handle_t h = create(UMF_NUMA_MODE_DEFAULT, 0, RW);
    char *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 8 * ps, 0, (void **)&m), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, m, 8 * ps, 3 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, m, 8 * ps, 100),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT); // not at a page boundary
    assert_int_equal(umfMemoryProviderAllocationMerge(h, m, m + 3 * ps, 8 * ps),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, m, 8 * ps, 5 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, m + 5 * ps, 3 * ps), UMF_RESULT_SUCCESS);
    memset(m, 1, 5 * ps);
    assert_int_equal(umfMemoryProviderFree(h, m, 5 * ps), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

// A binding that fails undoes the mapping and leaves a native error that
// names it, for the failing thread only.
static void bind_failure_native_error(void **state) {
    (void)state;
    for (int shared = 0; shared <= 1; shared++) {
        params_t p;
        unsigned n0 = 0;
        assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
        assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, UMF_NUMA_MODE_BIND),
                         UMF_RESULT_SUCCESS);
        assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, &n0, 1), UMF_RESULT_SUCCESS);
        if (shared)
            assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED),
                             UMF_RESULT_SUCCESS);
        umf_memory_provider_handle_t h = NULL;
        assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h),
                         UMF_RESULT_SUCCESS);
        umfOsMemoryProviderParamsDestroy(p);

        void *m = NULL;
        provider_os_fail_next_bind_for_testing(EIO);
        assert_int_equal(umfMemoryProviderAlloc(h, 16 * 4096, 0, &m),
                         UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
        assert_null(m);
        assert_ptr_equal(umfGetLastFailedMemoryProvider(), h);
        const char *msg = NULL;
        int32_t code = 0;
        umfMemoryProviderGetLastNativeError(h, &msg, &code);
        assert_int_equal(code, UMF_OS_RESULT_ERROR_BIND_FAILED);
        assert_non_null(msg);
        assert_non_null(strstr(msg, "NUMA"));
        assert_non_null(strstr(msg, strerror(EIO)));
        if (shared) {
            // The failed range is in no extent: nothing to look up.
            provider_os_shared_ref_t ref;
            assert_int_equal(provider_os_shared_lookup(h->priv, m, &ref),
                             UMF_RESULT_ERROR_INVALID_ARGUMENT);
        }
        // The next allocation works (the test error was for one call).
        assert_int_equal(umfMemoryProviderAlloc(h, 16 * 4096, 0, &m), UMF_RESULT_SUCCESS);
        memset(m, 1, 16 * 4096);
        assert_int_equal(umfMemoryProviderFree(h, m, 16 * 4096), UMF_RESULT_SUCCESS);
        umfMemoryProviderDestroy(h);
    }
}

// INTERLEAVE with parts binds part by part; a failing part undoes it all.
static void bind_failure_interleave_parts(void **state) {
    (void)state;
    params_t p;
    unsigned n0[2] = {0, 0};
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, UMF_NUMA_MODE_INTERLEAVE),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, n0, 2), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetPartSize(p, 4096), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(p);
    void *m = NULL;
    provider_os_fail_next_bind_for_testing(ENOMEM);
    assert_int_equal(umfMemoryProviderAlloc(h, 8 * 4096, 0, &m),
                     UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    const char *msg;
    int32_t code;
    umfMemoryProviderGetLastNativeError(h, &msg, &code);
    assert_int_equal(code, UMF_OS_RESULT_ERROR_BIND_FAILED);
    assert_int_equal(umfMemoryProviderAlloc(h, 8 * 4096, 0, &m), UMF_RESULT_SUCCESS);
    memset(m, 1, 8 * 4096);
    assert_on_node0(m, 8 * 4096);
    assert_int_equal(umfMemoryProviderFree(h, m, 8 * 4096), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

static long read_long(const char *path) {
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

// Huge pages: the page sizes report 2 MiB; without free huge pages an
// allocation fails cleanly with OUT_OF_HOST_MEMORY (never SIGBUS), with them
// it succeeds and sizes are rounded to 2 MiB.
static void huge_pages(void **state) {
    (void)state;
    const size_t huge = (size_t)2 << 20;
    long free_huge =
        read_long("/sys/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages");
    for (int mode = 0; mode < 2; mode++) {
        for (int shared = 0; shared <= 1; shared++) {
            params_t p;
            unsigned n0 = 0;
            assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
            if (mode) {
                assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, UMF_NUMA_MODE_BIND),
                                 UMF_RESULT_SUCCESS);
                assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, &n0, 1),
                                 UMF_RESULT_SUCCESS);
            }
            if (shared)
                assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED),
                                 UMF_RESULT_SUCCESS);
            assert_int_equal(hetmem_os_provider_params_set_huge_pages(p, huge), UMF_RESULT_SUCCESS);
            umf_memory_provider_handle_t h = NULL;
            umf_result_t r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h);
            umfOsMemoryProviderParamsDestroy(p);
            if (r != UMF_RESULT_SUCCESS) {
                // A kernel without hugetlbfs refuses MFD_HUGETLB: an error value.
                assert_true(shared);
                continue;
            }
            size_t ps = 0;
            assert_int_equal(umfMemoryProviderGetMinPageSize(h, NULL, &ps), UMF_RESULT_SUCCESS);
            assert_int_equal(ps, huge);
            assert_int_equal(umfMemoryProviderGetRecommendedPageSize(h, 1, &ps),
                             UMF_RESULT_SUCCESS);
            assert_int_equal(ps, huge);
            char *m = NULL;
            r = umfMemoryProviderAlloc(h, 4096, 0, (void **)&m);
            if (free_huge <= 0) {
                assert_int_equal(r, UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
                assert_null(m);
            } else {
                assert_int_equal(r, UMF_RESULT_SUCCESS);
                assert_int_equal((uintptr_t)m % huge, 0);
                memset(m, 1, huge);
                assert_int_equal(umfMemoryProviderFree(h, m, 4096), UMF_RESULT_SUCCESS);
            }
            umfMemoryProviderDestroy(h);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_and_page_sizes),
        cmocka_unit_test(each_mode_on_node0),
        cmocka_unit_test(alignment),
        cmocka_unit_test(bad_sizes),
        cmocka_unit_test(protection_none_and_read),
        cmocka_unit_test(purge_private),
        cmocka_unit_test(split_merge_private),
        cmocka_unit_test(bind_failure_native_error),
        cmocka_unit_test(bind_failure_interleave_parts),
        cmocka_unit_test(huge_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
