// SPDX-License-Identifier: MIT
// The file memory provider: bad paths fail at initialize, private writes
// never reach the file, shared writes outlive the process that made them
// (a child writes and exits, the parent reads the file), an existing file's
// contents are kept, growth far past the first mapping, thousands of
// allocations with reuse, purge semantics, split/merge, bad frees, the
// offsets (tests/coarse_probe.h) and four threads at once.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_fixed_memory.h>

#include "os/os.h"
#include "providers/provider.h"
#include "coarse_probe.h"
#include "range_alloc_check.h"
#include "providers/range_alloc.h"
#include "test_seed.h"

#define MiB ((size_t)1 << 20)

static char dir[] = "/tmp/hetmem-file-test-XXXXXX";
static int file_no;

// A fresh path in the test directory.
static const char *new_path(char *buf, size_t n) {
    snprintf(buf, n, "%s/f%d", dir, file_no++);
    return buf;
}

static umf_memory_provider_handle_t make(const char *path, umf_memory_visibility_t vis) {
    umf_file_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfFileMemoryProviderParamsCreate(&p, path), UMF_RESULT_SUCCESS);
    if (vis)
        assert_int_equal(umfFileMemoryProviderParamsSetVisibility(p, vis), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &h),
                     UMF_RESULT_SUCCESS);
    umfFileMemoryProviderParamsDestroy(p);
    return h;
}

static umf_result_t try_make(const char *path) {
    umf_file_memory_provider_params_handle_t p = NULL;
    umf_result_t r = umfFileMemoryProviderParamsCreate(&p, path);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    umf_memory_provider_handle_t h = NULL;
    r = umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &h);
    umfFileMemoryProviderParamsDestroy(p);
    if (h)
        umfMemoryProviderDestroy(h);
    return r;
}

static uint64_t file_size(const char *path) {
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static void read_file(const char *path, uint64_t off, void *buf, size_t n) {
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, buf, n, (off_t)off), (ssize_t)n);
    close(fd);
}

static bool all_byte(const unsigned char *p, size_t n, unsigned char v) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

static int setup(void **state) {
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void bad_paths(void **state) {
    (void)state;
    umf_file_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfFileMemoryProviderParamsCreate(&p, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFileMemoryProviderParamsCreate(&p, ""), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFileMemoryProviderParamsCreate(NULL, "/tmp/x"),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_null(p);
    assert_int_equal(umfFileMemoryProviderParamsCreate(&p, "/tmp/x"), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFileMemoryProviderParamsSetPath(p, NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFileMemoryProviderParamsSetVisibility(p, (umf_memory_visibility_t)7),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFileMemoryProviderParamsSetProtection(p, 0),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfFileMemoryProviderParamsSetProtection(p, 1u << 20),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umfFileMemoryProviderParamsDestroy(p);

    char path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/file", dir);
    assert_int_equal(try_make(path), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(try_make(dir), UMF_RESULT_ERROR_INVALID_ARGUMENT); // a directory
    assert_int_equal(try_make("/dev/null"), UMF_RESULT_ERROR_INVALID_ARGUMENT); // a device
    // Unwritable: sysfs refuses to create files even for root (EACCES).
    assert_int_equal(try_make("/sys/kernel/hetmem-file-provider-test"),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    if (geteuid() != 0) { // root ignores the mode bits
        char ro[200];
        snprintf(ro, sizeof ro, "%s/ro", dir);
        assert_int_equal(mkdir(ro, 0500), 0);
        snprintf(path, sizeof path, "%s/file", ro);
        assert_int_equal(try_make(path), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    }
}

static void basics(void **state) {
    (void)state;
    char path[256];
    umf_memory_provider_handle_t h = make(new_path(path, sizeof path), 0);
    assert_string_equal(umfMemoryProviderGetName(h), "FILE");
    size_t ps = 0;
    assert_int_equal(umfMemoryProviderGetMinPageSize(h, NULL, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, os_page_size());
    assert_int_equal(umfMemoryProviderGetRecommendedPageSize(h, MiB, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, os_page_size());
    // The file is created with mode 0600 and nothing mapped until needed.
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, 0);
    void *a;
    assert_int_equal(umfMemoryProviderAlloc(h, 0, 0, &a), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAlloc(h, 100, 0, &a), UMF_RESULT_SUCCESS);
    assert_int_equal((uintptr_t)a % ps, 0);
    assert_int_equal(umfMemoryProviderFree(h, a, 100), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderPurgeLazy(h, a, ps), UMF_RESULT_ERROR_NOT_SUPPORTED);
    umfMemoryProviderDestroy(h);
}

// Default (private) visibility: writes stay in the process.
static void private_not_in_file(void **state) {
    (void)state;
    char path[256];
    umf_memory_provider_handle_t h = make(new_path(path, sizeof path), 0);
    unsigned char *a;
    assert_int_equal(umfMemoryProviderAlloc(h, MiB, 0, (void **)&a), UMF_RESULT_SUCCESS);
    memset(a, 0xab, MiB);
    coarse_probe_t b;
    assert_int_equal(coarse_probe(h, a + 10, &b), 0);
    assert_false(b.shared);
    umfMemoryProviderDestroy(h);
    static unsigned char buf[MiB];
    assert_true(file_size(path) >= b.offset + MiB);
    read_file(path, b.offset, buf, MiB);
    assert_true(all_byte(buf, MiB, 0));
}

// Shared visibility: a child writes through the provider and exits without
// any cleanup; the parent finds the bytes in the file.
static void shared_persists_after_child_exit(void **state) {
    (void)state;
    char path[256];
    new_path(path, sizeof path);
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        umf_memory_provider_handle_t h = make(path, UMF_MEM_MAP_SHARED);
        uint64_t off[2] = {0, 0};
        for (int i = 0; i < 2; i++) {
            unsigned char *a;
            if (umfMemoryProviderAlloc(h, 3 * MiB, 0, (void **)&a) != UMF_RESULT_SUCCESS)
                _exit(2);
            memset(a, 0xc0 + i, 3 * MiB);
            coarse_probe_t b;
            if (coarse_probe(h, a, &b) || !b.shared || b.start != (uintptr_t)a)
                _exit(3);
            off[i] = b.offset;
        }
        if (write(pipefd[1], off, sizeof off) != (ssize_t)sizeof off)
            _exit(4);
        _exit(0); // no destroy, no msync
    }
    close(pipefd[1]);
    uint64_t off[2];
    assert_int_equal(read(pipefd[0], off, sizeof off), (ssize_t)sizeof off);
    close(pipefd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_not_equal(off[0], off[1]);
    static unsigned char buf[3 * MiB];
    for (int i = 0; i < 2; i++) {
        read_file(path, off[i], buf, 3 * MiB);
        assert_true(all_byte(buf, 3 * MiB, (unsigned char)(0xc0 + i)));
    }
    // A new shared provider over the same file sees them too (existing
    // contents are kept and mapped first).
    umf_memory_provider_handle_t h = make(path, UMF_MEM_MAP_SHARED);
    unsigned char *a;
    assert_int_equal(umfMemoryProviderAlloc(h, 4096, 0, (void **)&a), UMF_RESULT_SUCCESS);
    coarse_probe_t b;
    assert_int_equal(coarse_probe(h, a, &b), 0);
    assert_int_equal(b.offset, 0);
    assert_int_equal(a[0], off[0] == 0 ? 0xc0 : 0xc1);
    umfMemoryProviderDestroy(h);
}

// An existing file is neither truncated nor changed by a private provider.
static void existing_contents_kept(void **state) {
    (void)state;
    char path[256];
    new_path(path, sizeof path);
    static unsigned char data[10000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, sizeof data, f), sizeof data);
    fclose(f);
    umf_memory_provider_handle_t h = make(path, 0);
    assert_true(file_size(path) >= sizeof data);
    unsigned char *a;
    assert_int_equal(umfMemoryProviderAlloc(h, sizeof data, 0, (void **)&a), UMF_RESULT_SUCCESS);
    assert_memory_equal(a, data, sizeof data);
    memset(a, 0, sizeof data);
    // purge_force over the original contents cannot zero them privately.
    assert_int_equal(umfMemoryProviderPurgeForce(h, a, os_page_size()),
                     UMF_RESULT_ERROR_NOT_SUPPORTED);
    umfMemoryProviderDestroy(h);
    static unsigned char back[sizeof data];
    read_file(path, 0, back, sizeof back);
    assert_memory_equal(back, data, sizeof data);
}

// Growth far past the first mapping; every allocation is where the lookup
// says it is in the file.
static void growth(void **state) {
    (void)state;
    char path[256];
    umf_memory_provider_handle_t h = make(new_path(path, sizeof path), UMF_MEM_MAP_SHARED);
    enum { N = 40 };
    unsigned char *p[N];
    size_t sz = MiB + 1;
    for (int i = 0; i < N; i++) {
        assert_int_equal(umfMemoryProviderAlloc(h, sz, 0, (void **)&p[i]), UMF_RESULT_SUCCESS);
        memset(p[i], i + 1, sz);
    }
    assert_true(file_size(path) >= (uint64_t)N * sz);
    static unsigned char buf[MiB + 1];
    for (int i = 0; i < N; i++) {
        coarse_probe_t b;
        assert_int_equal(coarse_probe(h, p[i] + sz - 1, &b), 0);
        assert_int_equal(b.start, (uintptr_t)p[i]);
        assert_int_equal(b.size, sz);
        read_file(path, b.offset, buf, sz);
        assert_true(all_byte(buf, sz, (unsigned char)(i + 1)));
    }
    // Within a reservation (a coarse segment) allocations made across growth
    // steps are contiguous in the file: once all are freed, each segment is
    // one free range, and the largest is reused whole, without growth.
    for (int i = 0; i < N; i++)
        assert_int_equal(umfMemoryProviderFree(h, p[i], sz), UMF_RESULT_SUCCESS);
    coarse_t *c = h->priv;
    range_alloc_stats_t st;
    range_alloc_stats(c->ranges, &st);
    size_t segs = 0, mapped = 0, reserved = 0, largest = 0;
    for (coarse_seg_t *s = coarse_seg_newest(c); s; s = s->older, segs++)
        largest = s->mapped > largest ? s->mapped : largest;
    coarse_totals(c, &mapped, &reserved);
    printf("growth: %zu segments, %zu bytes mapped, %zu reserved\n", segs, mapped, reserved);
    assert_int_equal(st.free_ranges, segs);
    assert_int_equal(st.total, mapped);
    assert_true(mapped >= (size_t)N * sz);
    assert_true(reserved <= 2 * mapped + ((size_t)4 << 20)); // in proportion to the use
    assert_true(segs <= 8);
    uint64_t before = file_size(path);
    void *big;
    assert_int_equal(umfMemoryProviderAlloc(h, st.largest_free, 1, &big), UMF_RESULT_SUCCESS);
    assert_int_equal(st.largest_free, largest);
    assert_int_equal(file_size(path), before); // reused, not grown
    // A request past the provider's limit (64 GiB of file) fails cleanly.
    void *huge;
    assert_int_equal(umfMemoryProviderAlloc(h, (size_t)1 << 46, 0, &huge),
                     UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    umfMemoryProviderDestroy(h);
}

static void many_allocations(void **state) {
    (void)state;
    char path[256];
    umf_memory_provider_handle_t h = make(new_path(path, sizeof path), UMF_MEM_MAP_SHARED);
    enum { N = 3000 };
    static unsigned char *p[N];
    static size_t sz[N];
    uint64_t s = 777 + test_seed_base("test_provider_file");
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            sz[i] = 1 + s % (64 * 1024);
            size_t align = (size_t)8 << ((s >> 32) % 10);
            assert_int_equal(umfMemoryProviderAlloc(h, sz[i], align, (void **)&p[i]),
                             UMF_RESULT_SUCCESS);
            assert_int_equal((uintptr_t)p[i] % align, 0);
            p[i][0] = p[i][sz[i] - 1] = (unsigned char)i;
        }
        for (int i = 0; i < N; i++)
            assert_true(p[i][0] == (unsigned char)i && p[i][sz[i] - 1] == (unsigned char)i);
        uint64_t grown = file_size(path);
        for (int i = 0; i < N; i += 2)
            assert_int_equal(umfMemoryProviderFree(h, p[i], sz[i]), UMF_RESULT_SUCCESS);
        for (int i = 1; i < N; i += 2)
            assert_int_equal(umfMemoryProviderFree(h, p[i], sz[i]), UMF_RESULT_SUCCESS);
        // The second round fits in what the first one mapped.
        if (round == 1)
            assert_int_equal(file_size(path), grown);
        s = 777 + test_seed_base("test_provider_file");
    }
    umfMemoryProviderDestroy(h);
}

static void purge_force(void **state) {
    (void)state;
    size_t ps = os_page_size();
    char path[256];
    // Shared: a hole is punched; mapping and file read zeros.
    umf_memory_provider_handle_t h = make(new_path(path, sizeof path), UMF_MEM_MAP_SHARED);
    unsigned char *a;
    assert_int_equal(umfMemoryProviderAlloc(h, 4 * ps, 0, (void **)&a), UMF_RESULT_SUCCESS);
    memset(a, 0x3c, 4 * ps);
    assert_int_equal(umfMemoryProviderPurgeForce(h, a + ps, 2 * ps), UMF_RESULT_SUCCESS);
    assert_true(all_byte(a + ps, 2 * ps, 0));
    assert_true(all_byte(a, ps, 0x3c));
    assert_true(all_byte(a + 3 * ps, ps, 0x3c));
    coarse_probe_t b;
    assert_int_equal(coarse_probe(h, a, &b), 0);
    static unsigned char buf[4 * 65536];
    read_file(path, b.offset, buf, 4 * ps);
    assert_true(all_byte(buf + ps, 2 * ps, 0));
    assert_true(all_byte(buf, ps, 0x3c));
    assert_int_equal(umfMemoryProviderPurgeForce(h, a + 1, ps), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    assert_int_equal(umfMemoryProviderPurgeForce(h, (void *)(uintptr_t)ps, ps),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umfMemoryProviderDestroy(h);
    // Private, past the file's original size: our copies are dropped and the
    // zero-filled file shows through.
    h = make(new_path(path, sizeof path), UMF_MEM_MAP_PRIVATE);
    assert_int_equal(umfMemoryProviderAlloc(h, 4 * ps, 0, (void **)&a), UMF_RESULT_SUCCESS);
    memset(a, 0x3c, 4 * ps);
    assert_int_equal(umfMemoryProviderPurgeForce(h, a, 2 * ps), UMF_RESULT_SUCCESS);
    assert_true(all_byte(a, 2 * ps, 0));
    assert_true(all_byte(a + 2 * ps, 2 * ps, 0x3c));
    umfMemoryProviderDestroy(h);
}

static void split_merge_bad_frees(void **state) {
    (void)state;
    size_t ps = os_page_size();
    char path[256];
    umf_memory_provider_handle_t h = make(new_path(path, sizeof path), UMF_MEM_MAP_SHARED);
    char *a;
    assert_int_equal(umfMemoryProviderAlloc(h, 4 * ps, 0, (void **)&a), UMF_RESULT_SUCCESS);
    int other;
    assert_int_equal(umfMemoryProviderFree(h, &other, 4), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, a + ps, ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, a, ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, a, 4 * ps, ps), UMF_RESULT_SUCCESS);
    coarse_probe_t b0, b1;
    assert_int_equal(coarse_probe(h, a, &b0), 0);
    assert_int_equal(coarse_probe(h, a + ps, &b1), 0);
    assert_int_equal(b0.size, ps);
    assert_int_equal(b1.size, 3 * ps);
    assert_int_equal(b1.offset, b0.offset + ps);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, a, a + ps, 5 * ps),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, a, a + ps, 4 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, a, 4 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, a, 4 * ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(coarse_probe(h, a, &b0), ENOENT);
    // A fixed provider has no backing object.
    char fixed_buf[64];
    umf_fixed_memory_provider_params_handle_t fpar;
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&fpar, fixed_buf, sizeof fixed_buf),
                     UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t fixed;
    assert_int_equal(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fpar, &fixed),
                     UMF_RESULT_SUCCESS);
    void *fa;
    assert_int_equal(umfMemoryProviderAlloc(fixed, 8, 8, &fa), UMF_RESULT_SUCCESS);
    assert_int_equal(coarse_probe(fixed, fa, &b0), 0);
    assert_int_equal(b0.kind, 0);
    assert_false(b0.shared);
    assert_int_equal(umfMemoryProviderFree(fixed, fa, 8), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(fixed);
    umfFixedMemoryProviderParamsDestroy(fpar);
    umfMemoryProviderDestroy(h);
}

// Four threads allocate, fill with their id, verify and free at once, while
// the file keeps growing under them.
static umf_memory_provider_handle_t mt_h;

static void *mt_worker(void *arg) {
    int id = (int)(intptr_t)arg;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(id + 1) + test_seed_base("test_provider_file");
    unsigned char *mine[32] = {0};
    size_t msz[32];
    for (int op = 0; op < 3000; op++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        int i = (int)(s % 32);
        if (mine[i]) {
            // Sampled (every 61st byte and the last): full scans make the
            // sanitizer builds crawl; any overlap shows on the samples.
            for (size_t k = 0; k < msz[i]; k += 61)
                if (mine[i][k] != (unsigned char)id)
                    return (void *)1;
            if (mine[i][msz[i] - 1] != (unsigned char)id)
                return (void *)1;
            if (umfMemoryProviderFree(mt_h, mine[i], msz[i]) != UMF_RESULT_SUCCESS)
                return (void *)2;
            mine[i] = NULL;
        } else {
            msz[i] = 1 + (s >> 20) % (256 * 1024);
            if (umfMemoryProviderAlloc(mt_h, msz[i], 0, (void **)&mine[i]) != UMF_RESULT_SUCCESS)
                return (void *)3;
            memset(mine[i], id, msz[i]);
        }
    }
    for (int i = 0; i < 32; i++)
        if (mine[i] && umfMemoryProviderFree(mt_h, mine[i], msz[i]) != UMF_RESULT_SUCCESS)
            return (void *)2;
    return NULL;
}

static void four_threads(void **state) {
    (void)state;
    char path[256];
    mt_h = make(new_path(path, sizeof path), UMF_MEM_MAP_SHARED);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, mt_worker, (void *)(intptr_t)(i + 1)), 0);
    for (int i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    umfMemoryProviderDestroy(mt_h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_paths),
        cmocka_unit_test(basics),
        cmocka_unit_test(private_not_in_file),
        cmocka_unit_test(shared_persists_after_child_exit),
        cmocka_unit_test(existing_contents_kept),
        cmocka_unit_test(growth),
        cmocka_unit_test(many_allocations),
        cmocka_unit_test(purge_force),
        cmocka_unit_test(split_merge_bad_frees),
        cmocka_unit_test(four_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
