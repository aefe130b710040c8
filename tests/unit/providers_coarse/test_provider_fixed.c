// SPDX-License-Identifier: MIT
// The fixed memory provider through the public provider API: params
// checks, buffers on the heap and in a mapping, alignments 8..1 MiB,
// exhaustion and recovery, refused foreign frees, split/merge, a PROT_NONE
// buffer (the provider never touches the memory it manages), purge
// semantics for anonymous, shared and private-file buffers, and the
// per-thread native error.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_fixed_memory.h>

#include "os/os.h"

#define MiB ((size_t)1 << 20)

static umf_memory_provider_handle_t make(void *buf, size_t size) {
    umf_fixed_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&p, buf, size), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), p, &h),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfFixedMemoryProviderParamsDestroy(p), UMF_RESULT_SUCCESS);
    return h;
}

static void params(void **state) {
    (void)state;
    char buf[64];
    umf_fixed_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&p, NULL, 4096),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&p, buf, 0),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFixedMemoryProviderParamsCreate(NULL, buf, 64),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(p);
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&p, buf, sizeof buf), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFixedMemoryProviderParamsSetMemory(p, NULL, 64),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFixedMemoryProviderParamsSetMemory(p, buf, 0),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFixedMemoryProviderParamsSetMemory(NULL, buf, 64),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFixedMemoryProviderParamsSetMemory(p, (void *)(UINTPTR_MAX - 8), 64),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFixedMemoryProviderParamsSetMemory(p, buf, 32), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    // initialize refuses NULL params.
    assert_int_equal(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), NULL, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(h);
    // A small, unaligned stack buffer works with small alignments.
    assert_int_equal(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), p, &h),
                     UMF_RESULT_SUCCESS);
    assert_string_equal(umfMemoryProviderGetName(h), "FIXED");
    size_t ps = 0;
    assert_int_equal(umfMemoryProviderGetMinPageSize(h, NULL, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, os_page_size());
    assert_int_equal(umfMemoryProviderGetRecommendedPageSize(h, 12345, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, os_page_size());
    void *a;
    assert_int_equal(umfMemoryProviderAlloc(h, 32, 1, &a), UMF_RESULT_SUCCESS);
    assert_ptr_equal(a, buf);
    assert_int_equal(umfMemoryProviderFree(h, a, 32), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, 0, 8, &a), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAlloc(h, 8, 24, &a), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    umfMemoryProviderDestroy(h);
    umfFixedMemoryProviderParamsDestroy(p);
}

// Alignments 8 .. 1 MiB inside the buffer, each allocation written whole.
static void alignments_in(char *buf, size_t size) {
    umf_memory_provider_handle_t h = make(buf, size);
    void *p[32];
    size_t n = 0;
    for (size_t align = 8; align <= MiB; align <<= 1) {
        size_t sz = align + 123;
        assert_int_equal(umfMemoryProviderAlloc(h, sz, align, &p[n]), UMF_RESULT_SUCCESS);
        assert_int_equal((uintptr_t)p[n] % align, 0);
        assert_true((char *)p[n] >= buf && (char *)p[n] + sz <= buf + size);
        memset(p[n], (int)n + 1, sz);
        n++;
    }
    // alignment 0 is the page size
    void *z;
    assert_int_equal(umfMemoryProviderAlloc(h, 10, 0, &z), UMF_RESULT_SUCCESS);
    assert_int_equal((uintptr_t)z % os_page_size(), 0);
    // No allocation overwrote another.
    n = 0;
    for (size_t align = 8; align <= MiB; align <<= 1, n++) {
        unsigned char *c = p[n];
        for (size_t k = 0; k < align + 123; k += 61)
            assert_int_equal(c[k], n + 1);
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(umfMemoryProviderFree(h, p[i], 0), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, z, 10), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

static void heap_buffer(void **state) {
    (void)state;
    size_t size = 8 * MiB;
    char *buf = malloc(size + 8);
    assert_non_null(buf);
    alignments_in(buf + 8, size); // deliberately not page-aligned
    free(buf);
}

static void mmap_buffer(void **state) {
    (void)state;
    size_t size = 8 * MiB;
    void *buf;
    assert_int_equal(os_map_anon(NULL, size, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &buf), 0);
    alignments_in(buf, size);
    os_unmap(buf, size);
}

static void exhaustion_and_recovery(void **state) {
    (void)state;
    size_t size = MiB, chunk = 64 * 1024;
    void *buf;
    assert_int_equal(os_map_anon(NULL, size, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &buf), 0);
    umf_memory_provider_handle_t h = make(buf, size);
    void *p[16], *x = NULL;
    for (int i = 0; i < 16; i++)
        assert_int_equal(umfMemoryProviderAlloc(h, chunk, 0, &p[i]), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, 1, 0, &x), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    assert_ptr_equal(umfGetLastFailedMemoryProvider(), h);
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * size, 0, &x),
                     UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    // Free two neighbours: a double-sized request fits again.
    assert_int_equal(umfMemoryProviderFree(h, p[5], chunk), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, p[6], chunk), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * chunk, 0, &x), UMF_RESULT_SUCCESS);
    assert_ptr_equal(x, p[5]);
    assert_int_equal(umfMemoryProviderFree(h, x, 2 * chunk), UMF_RESULT_SUCCESS);
    for (int i = 0; i < 16; i++)
        if (i != 5 && i != 6)
            assert_int_equal(umfMemoryProviderFree(h, p[i], chunk), UMF_RESULT_SUCCESS);
    // Everything is back: the whole buffer in one piece.
    assert_int_equal(umfMemoryProviderAlloc(h, size, 0, &x), UMF_RESULT_SUCCESS);
    assert_ptr_equal(x, buf);
    assert_int_equal(umfMemoryProviderFree(h, x, size), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
    os_unmap(buf, size);
}

static void foreign_free(void **state) {
    (void)state;
    size_t size = MiB;
    void *buf;
    assert_int_equal(os_map_anon(NULL, size, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &buf), 0);
    umf_memory_provider_handle_t h = make(buf, size);
    void *a, *b;
    assert_int_equal(umfMemoryProviderAlloc(h, 8192, 0, &a), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, 8192, 0, &b), UMF_RESULT_SUCCESS);
    int other;
    assert_int_equal(umfMemoryProviderFree(h, &other, sizeof other),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, (char *)a + 4096, 4096),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, a, 4096), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, (char *)buf + size / 2, 4096),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, NULL, 10), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, a, 8192), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, a, 8192), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    // State is intact: b is still allocated, the rest is free in one piece
    // after b (a's place is reused first).
    void *c;
    assert_int_equal(umfMemoryProviderAlloc(h, 8192, 0, &c), UMF_RESULT_SUCCESS);
    assert_ptr_equal(c, a);
    assert_int_equal(umfMemoryProviderAlloc(h, size - 16384, 0, &c), UMF_RESULT_SUCCESS);
    assert_ptr_equal(c, (char *)b + 8192);
    umfMemoryProviderDestroy(h);
    os_unmap(buf, size);
}

static void split_merge(void **state) {
    (void)state;
    size_t size = MiB, ps = os_page_size();
    void *buf;
    assert_int_equal(os_map_anon(NULL, size, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &buf), 0);
    umf_memory_provider_handle_t h = make(buf, size);
    char *a;
    assert_int_equal(umfMemoryProviderAlloc(h, 4 * ps, 0, (void **)&a), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, a, 3 * ps, ps),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, a, 4 * ps, ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, a + ps, 3 * ps, 2 * ps),
                     UMF_RESULT_SUCCESS);
    // a: 1 page, a+ps: 2 pages, a+3ps: 1 page
    assert_int_equal(umfMemoryProviderAllocationMerge(h, a, a + 3 * ps, 2 * ps),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, a, a + ps, 2 * ps),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, a, a + ps, 3 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, a + 3 * ps, ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, a, ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, a, 3 * ps), UMF_RESULT_SUCCESS);
    void *x;
    assert_int_equal(umfMemoryProviderAlloc(h, size, 0, &x), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
    os_unmap(buf, size);
}

// The provider manages memory it can neither read nor write: any access
// of its own would fault and kill the test.
static void prot_none_buffer(void **state) {
    (void)state;
    size_t size = 16 * MiB;
    void *buf;
    assert_int_equal(os_map_anon(NULL, size, 0, OS_PROT_NONE, OS_MAP_NORESERVE, &buf), 0);
    umf_memory_provider_handle_t h = make(buf, size);
    enum { N = 256 };
    void *p[N] = {0};
    size_t sz[N];
    uint64_t s = 12345;
    for (int op = 0; op < 20000; op++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        int i = (int)(s % N);
        if (p[i]) {
            assert_int_equal(umfMemoryProviderFree(h, p[i], sz[i]), UMF_RESULT_SUCCESS);
            p[i] = NULL;
        } else {
            sz[i] = 1 + (s >> 20) % (64 * 1024);
            size_t align = (size_t)1 << ((s >> 40) % 16);
            umf_result_t r = umfMemoryProviderAlloc(h, sz[i], align, &p[i]);
            assert_true(r == UMF_RESULT_SUCCESS || r == UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
            if (r != UMF_RESULT_SUCCESS)
                p[i] = NULL;
            else if (op % 7 == 0 && sz[i] > 1) {
                assert_int_equal(umfMemoryProviderAllocationSplit(h, p[i], sz[i], 1),
                                 UMF_RESULT_SUCCESS);
                assert_int_equal(umfMemoryProviderAllocationMerge(h, p[i], (char *)p[i] + 1,
                                                                  sz[i]),
                                 UMF_RESULT_SUCCESS);
            }
        }
    }
    for (int i = 0; i < N; i++)
        if (p[i])
            assert_int_equal(umfMemoryProviderFree(h, p[i], sz[i]), UMF_RESULT_SUCCESS);
    void *all;
    assert_int_equal(umfMemoryProviderAlloc(h, size, 0, &all), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
    os_unmap(buf, size);
}

static bool all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

// Private anonymous (heap-like) buffer: DONTNEED, reads zero.
// Shared memory (memfd): MADV_REMOVE, reads zero.
static void purge_zeroes(void **state) {
    (void)state;
    size_t ps = os_page_size(), size = 64 * ps;
    void *bufs[2];
    int fd = -1;
    assert_int_equal(os_map_anon(NULL, size, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &bufs[0]), 0);
    assert_int_equal(os_memfd_create("fixed-purge", 0, &fd), 0);
    assert_int_equal(os_file_extend(fd, size), 0);
    assert_int_equal(
        os_map_fd(NULL, size, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_SHARED, fd, 0, &bufs[1]), 0);
    for (int k = 0; k < 2; k++) {
        umf_memory_provider_handle_t h = make(bufs[k], size);
        unsigned char *a;
        assert_int_equal(umfMemoryProviderAlloc(h, 8 * ps, 0, (void **)&a), UMF_RESULT_SUCCESS);
        memset(a, 0x5a, 8 * ps);
        assert_int_equal(umfMemoryProviderPurgeLazy(h, a, 8 * ps),
                         UMF_RESULT_ERROR_NOT_SUPPORTED);
        assert_int_equal(umfMemoryProviderPurgeForce(h, a + ps, 2 * ps), UMF_RESULT_SUCCESS);
        assert_true(all_zero(a + ps, 2 * ps));
        assert_int_equal(a[0], 0x5a);
        assert_int_equal(a[3 * ps], 0x5a);
        assert_int_equal(umfMemoryProviderPurgeForce(h, a + 1, ps),
                         UMF_RESULT_ERROR_INVALID_ALIGNMENT);
        assert_int_equal(umfMemoryProviderPurgeForce(h, (char *)bufs[k] + size, ps),
                         UMF_RESULT_ERROR_INVALID_ARGUMENT);
        umfMemoryProviderDestroy(h);
        os_unmap(bufs[k], size);
    }
    os_file_close(fd);
}

// A private file mapping: DONTNEED would bring the file back, so purge
// reports PURGE_FORCE_FAILED and leaves the bytes alone.
static void purge_private_file_fails(void **state) {
    (void)state;
    size_t ps = os_page_size(), size = 16 * ps;
    char path[] = "/tmp/hetmem-fixed-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(os_file_extend(fd, size), 0);
    void *buf;
    assert_int_equal(
        os_map_fd(NULL, size, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_PRIVATE, fd, 0, &buf), 0);
    umf_memory_provider_handle_t h = make(buf, size);
    unsigned char *a;
    assert_int_equal(umfMemoryProviderAlloc(h, 4 * ps, 0, (void **)&a), UMF_RESULT_SUCCESS);
    memset(a, 0x77, 4 * ps);
    assert_int_equal(umfMemoryProviderPurgeForce(h, a, ps),
                     UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    const char *msg = NULL;
    int32_t code = 0;
    umfMemoryProviderGetLastNativeError(h, &msg, &code);
    assert_int_equal(code, UMF_FIXED_RESULT_ERROR_PURGE_FORCE_FAILED);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "purge"));
    assert_int_equal(a[0], 0x77); // not silently reverted to the file
    umfMemoryProviderDestroy(h);
    os_unmap(buf, size);
    close(fd);
}

// Native errors are per thread: another thread sees its own (none).
static void *other_thread_error(void *arg) {
    const char *msg = NULL;
    int32_t code = -1;
    umfMemoryProviderGetLastNativeError(arg, &msg, &code);
    return (void *)(intptr_t)(code == UMF_FIXED_RESULT_ERROR_PURGE_FORCE_FAILED);
}

static void native_error_per_thread(void **state) {
    (void)state;
    // Reuse the private-file failure to set this thread's error first.
    purge_private_file_fails(state);
    char buf[64];
    umf_memory_provider_handle_t h = make(buf, sizeof buf);
    pthread_t t;
    void *ret;
    assert_int_equal(pthread_create(&t, NULL, other_thread_error, h), 0);
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_null(ret);
    umfMemoryProviderDestroy(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(params),
        cmocka_unit_test(heap_buffer),
        cmocka_unit_test(mmap_buffer),
        cmocka_unit_test(exhaustion_and_recovery),
        cmocka_unit_test(foreign_free),
        cmocka_unit_test(split_merge),
        cmocka_unit_test(prot_none_buffer),
        cmocka_unit_test(purge_zeroes),
        cmocka_unit_test(purge_private_file_fails),
        cmocka_unit_test(native_error_per_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
