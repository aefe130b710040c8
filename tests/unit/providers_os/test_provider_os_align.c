// SPDX-License-Identifier: MIT
// The OS provider's alignment rule, as UMF 0.11's: 0, any divider of the page
// size or any multiple of it (3 and 5 pages included), for private and shared
// memory; anything else is INVALID_ARGUMENT. Trimmed over-mappings leave no
// mapping behind (/proc/self/maps counted before and after).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "os/os.h"

static umf_memory_provider_handle_t create(umf_memory_visibility_t vis) {
    umf_os_memory_provider_params_handle_t p;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, vis), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(p);
    return h;
}

// Mappings within 1 GiB of where mmap puts ours (a probe mapping's address),
// as lines plus bytes (a leaked private piece may merge into its neighbour);
// sanitizers' shadow mappings, made as memory is touched, lie far away.
static size_t count_mappings(void) {
    static uintptr_t center;
    if (!center) {
        void *probe = NULL;
        assert_int_equal(os_map_anon(NULL, os_page_size(), 0, OS_PROT_READ, 0, &probe), 0);
        center = (uintptr_t)probe;
        assert_int_equal(os_unmap(probe, os_page_size()), 0);
    }
    const uintptr_t lo = center - ((uintptr_t)1 << 30), hi = center + ((uintptr_t)1 << 30);
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    size_t n = 0;
    unsigned long start, end;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start < hi && end > lo)
            n += 1 + (end - start);
    fclose(f);
    return n;
}

// Aligned blocks of 2 pages + 1 byte: address, contents, and no mapping left.
static void check_good(umf_memory_provider_handle_t h) {
    size_t ps = os_page_size(), size = 2 * ps + 1;
    const size_t aligns[] = {3 * ps, 5 * ps, 6 * ps, 7 * ps + 7 * ps, ps / 2, 3 * ps, 1, 8};
    (void)count_mappings(); // let stdio settle its buffers
    size_t before = count_mappings();
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        size_t a = aligns[i];
        char *m = NULL;
        assert_int_equal(umfMemoryProviderAlloc(h, size, a, (void **)&m), UMF_RESULT_SUCCESS);
        assert_int_equal((uintptr_t)m % (a > ps ? a : ps), 0);
        memset(m, (int)i + 1, size);
        assert_int_equal(m[0], (char)(i + 1));
        assert_int_equal(m[size - 1], (char)(i + 1));
        assert_int_equal(umfMemoryProviderFree(h, m, size), UMF_RESULT_SUCCESS);
    }
    assert_int_equal(count_mappings(), before);
}

static void check_bad(umf_memory_provider_handle_t h) {
    size_t ps = os_page_size();
    const size_t bad[] = {3, ps + 1, 3 * ps / 2, 5 * ps + 8, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        void *m = (void *)0x1;
        assert_int_equal(umfMemoryProviderAlloc(h, ps, bad[i], &m), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_ptr_equal(m, (void *)0x1);
    }
}

static void private_alignments(void **state) {
    (void)state;
    umf_memory_provider_handle_t h = create(UMF_MEM_MAP_PRIVATE);
    check_good(h);
    check_bad(h);
    umfMemoryProviderDestroy(h);
}

static void shared_alignments(void **state) {
    (void)state;
    umf_memory_provider_handle_t h = create(UMF_MEM_MAP_SHARED);
    check_good(h);
    check_bad(h);
    umfMemoryProviderDestroy(h);
}

// The OS layer itself: a 3-page alignment trims to exactly len bytes.
static void os_layer(void **state) {
    (void)state;
    size_t ps = os_page_size();
    void *m = NULL;
    size_t before = count_mappings();
    assert_int_equal(os_map_anon(NULL, 4 * ps, 3 * ps, OS_PROT_READ | OS_PROT_WRITE, 0, &m), 0);
    assert_int_equal((uintptr_t)m % (3 * ps), 0);
    memset(m, 9, 4 * ps);
    assert_int_equal(os_unmap(m, 4 * ps), 0);
    assert_int_equal(count_mappings(), before);
    assert_int_equal(os_map_anon(NULL, ps, ps + 1, OS_PROT_READ, 0, &m), EINVAL);
    assert_int_equal(os_map_anon(NULL, ps, 3, OS_PROT_READ, 0, &m), EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(private_alignments),
        cmocka_unit_test(shared_alignments),
        cmocka_unit_test(os_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
