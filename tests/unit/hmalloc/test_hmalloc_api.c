// SPDX-License-Identifier: MIT
// The hmalloc API through libhmalloc.so, as a program sees it (no internal
// symbol): malloc(3)-family semantics and every error path - hmalloc(0),
// hfree(NULL) and foreign pointers, stale errno, calloc overflow, bad
// alignments (EINVAL, *memptr untouched, errno kept), ENOMEM, realloc
// corner cases, usable sizes, and hmmap/hmunmap return values and flags.
// The environment is clean (no hmctl): the pool has the default policy.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hmalloc.h>

// The sizes that must fail are meant: no warning for them.
#pragma GCC diagnostic ignored "-Walloc-size-larger-than="

static size_t page;

// A value errno never takes by itself, to see whether a call changed it.
#define ERRNO_MARK 12345

static bool mapped(void *addr, size_t len) {
    // msync answers ENOMEM for a range that is not (all) mapped.
    return msync(addr, len, MS_ASYNC) == 0;
}

// ---- the first call of the process ---------------------------------------------

// hfree and hmalloc_usable_size of foreign pointers before any allocation:
// nothing to look up yet, nothing must be created or crash. In a child, so
// that this process's pool state does not matter.
static void test_foreign_before_first_use(void **state) {
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char stack_buf[64];
        void *m = malloc(100);
        errno = ERRNO_MARK;
        hfree(m);
        hfree(stack_buf);
        if (errno != ERRNO_MARK || hmalloc_usable_size(m) != 0)
            _exit(1);
        free(m); // still the heap's: hfree left it alone
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

// ---- hmalloc / hfree -------------------------------------------------------------

static void test_malloc_zero(void **state) {
    (void)state;
    void *a = hmalloc(0), *b = hmalloc(0);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b); // unique, as glibc's malloc(0)
    hfree(a);
    hfree(b);
}

static void test_malloc_sizes(void **state) {
    (void)state;
    static const size_t sizes[] = {1, 7, 8, 16, 24, 100, 4096, 4097, 65536, 1 << 20, 5 << 20};
    void *p[sizeof sizes / sizeof sizes[0]];
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        p[i] = hmalloc(sizes[i]);
        assert_non_null(p[i]);
        assert_true((uintptr_t)p[i] % 8 == 0);
        assert_true(hmalloc_usable_size(p[i]) >= sizes[i]);
        memset(p[i], (int)i, sizes[i]);
    }
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        assert_int_equal(((unsigned char *)p[i])[sizes[i] - 1], (unsigned char)i);
        hfree(p[i]);
    }
}

static void test_free_null(void **state) {
    (void)state;
    errno = ERRNO_MARK;
    hfree(NULL);
    assert_int_equal(errno, ERRNO_MARK);
}

// Pointers the pool did not hand out: logged and ignored, errno kept, the
// memory stays its owner's.
static void test_free_foreign(void **state) {
    (void)state;
    void *keep = hmalloc(64); // the pool exists now
    assert_non_null(keep);
    char *m = malloc(256);
    static char static_buf[64];
    char stack_buf[64];
    void *mm = hmmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(mm != MAP_FAILED && mm != NULL);
    errno = ERRNO_MARK;
    hfree(m);
    hfree(static_buf);
    hfree(stack_buf);
    hfree(mm); // hmmap memory is not the pool's
    hfree((void *)(uintptr_t)4096);              // nothing is mapped there
    hfree((void *)(uintptr_t)0xffff800000000000); // beyond the user address space
    assert_int_equal(errno, ERRNO_MARK);
    assert_int_equal(hmalloc_usable_size(m), 0);
    assert_int_equal(hmalloc_usable_size(static_buf), 0);
    memset(m, 1, 256); // still valid
    free(m);
    memset(mm, 1, page);
    assert_int_equal(hmunmap(mm, page), 0);
    hfree(keep);
}

// HMSDK's hmalloc returns NULL whenever errno is ENOMEM on entry; ours
// decides from the pool's answer and leaves errno alone on success.
static void test_stale_errno(void **state) {
    (void)state;
    errno = ENOMEM;
    void *p = hmalloc(32);
    assert_non_null(p);
    assert_int_equal(errno, ENOMEM);
    errno = ENOMEM;
    void *q = hcalloc(4, 8);
    assert_non_null(q);
    assert_int_equal(errno, ENOMEM);
    errno = ENOMEM;
    void *r = hrealloc(p, 4096);
    assert_non_null(r);
    assert_int_equal(errno, ENOMEM);
    errno = ENOMEM;
    void *s = haligned_alloc(64, 64);
    assert_non_null(s);
    assert_int_equal(errno, ENOMEM);
    hfree(q);
    hfree(r);
    hfree(s);
}

static void test_malloc_enomem(void **state) {
    (void)state;
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 4096, (size_t)PTRDIFF_MAX + 1,
                                  (size_t)1 << 62};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        errno = 0;
        assert_null(hmalloc(huge[i]));
        assert_int_equal(errno, ENOMEM);
    }
}

// ---- hcalloc -------------------------------------------------------------------------

static void test_calloc_overflow(void **state) {
    (void)state;
    errno = 0;
    assert_null(hcalloc(SIZE_MAX / 2 + 1, 2));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(hcalloc(2, SIZE_MAX / 2 + 1));
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(hcalloc((size_t)1 << 33, (size_t)1 << 33)); // 2^66
    assert_int_equal(errno, ENOMEM);
    void *z = hcalloc(0, 100); // a unique pointer, as calloc(0, n)
    assert_non_null(z);
    hfree(z);
}

static void test_calloc_zeroes(void **state) {
    (void)state;
    static const size_t sizes[] = {16, 1000, 70000, 3 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        // Dirty memory of the same size first, so that reuse is likely.
        unsigned char *d = hmalloc(sizes[i]);
        assert_non_null(d);
        memset(d, 0xa5, sizes[i]);
        hfree(d);
        unsigned char *c = hcalloc(1, sizes[i]);
        assert_non_null(c);
        for (size_t k = 0; k < sizes[i]; k++)
            if (c[k])
                fail_msg("hcalloc(1, %zu): byte %zu is %u", sizes[i], k, c[k]);
        hfree(c);
    }
}

// ---- hrealloc --------------------------------------------------------------------------

static void test_hrealloc(void **state) {
    (void)state;
    char *p = hrealloc(NULL, 100); // as hmalloc
    assert_non_null(p);
    for (int i = 0; i < 100; i++)
        p[i] = (char)i;
    p = hrealloc(p, 1 << 20); // grow: content kept
    assert_non_null(p);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], (char)i);
    assert_true(hmalloc_usable_size(p) >= (1 << 20));
    p = hrealloc(p, 10); // shrink
    assert_non_null(p);
    for (int i = 0; i < 10; i++)
        assert_int_equal(p[i], (char)i);

    // Failure keeps the block (p may still be the large block it grew to).
    static const size_t huge[] = {SIZE_MAX, SIZE_MAX - 4096, (size_t)PTRDIFF_MAX + 1,
                                  (size_t)1 << 50};
    for (size_t k = 0; k < sizeof huge / sizeof huge[0]; k++) {
        errno = 0;
        assert_null(hrealloc(p, huge[k]));
        assert_int_equal(errno, ENOMEM);
        for (int i = 0; i < 10; i++)
            assert_int_equal(p[i], (char)i);
        assert_true(hmalloc_usable_size(p) >= 10);
    }

    // Size 0 frees (glibc) and leaves errno alone.
    errno = ERRNO_MARK;
    assert_null(hrealloc(p, 0));
    assert_int_equal(errno, ERRNO_MARK);
}

static void test_hrealloc_foreign(void **state) {
    (void)state;
    void *keep = hmalloc(8);
    char *m = malloc(32);
    strcpy(m, "foreign");
    errno = 0;
    assert_null(hrealloc(m, 64));
    assert_int_equal(errno, EINVAL);
    assert_string_equal(m, "foreign"); // left alone
    free(m);
    hfree(keep);
}

// ---- haligned_alloc / hposix_memalign -----------------------------------------------

static void test_aligned_alloc(void **state) {
    (void)state;
    for (size_t a = 1; a <= ((size_t)4 << 20); a <<= 1) {
        static const size_t sizes[] = {0, 1, 100, 4096, 100000};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = haligned_alloc(a, sizes[i]);
            if (!p)
                fail_msg("haligned_alloc(%zu, %zu) failed: %s", a, sizes[i], strerror(errno));
            assert_true((uintptr_t)p % a == 0);
            assert_true(hmalloc_usable_size(p) >= sizes[i]);
            memset(p, 1, sizes[i]);
            hfree(p);
        }
    }
}

static void test_aligned_alloc_einval(void **state) {
    (void)state;
    static const size_t bad[] = {0, 3, 6, 24, 100, 4097, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_null(haligned_alloc(bad[i], 64));
        assert_int_equal(errno, EINVAL);
    }
    errno = 0;
    assert_null(haligned_alloc(64, SIZE_MAX - 32));
    assert_int_equal(errno, ENOMEM);
}

static void test_posix_memalign(void **state) {
    (void)state;
    for (size_t a = sizeof(void *); a <= ((size_t)4 << 20); a <<= 1) {
        void *p = NULL;
        errno = ERRNO_MARK;
        assert_int_equal(hposix_memalign(&p, a, 1000), 0);
        assert_int_equal(errno, ERRNO_MARK);
        assert_non_null(p);
        assert_true((uintptr_t)p % a == 0);
        memset(p, 2, 1000);
        hfree(p);
    }
    void *z = NULL;
    assert_int_equal(hposix_memalign(&z, 64, 0), 0); // size 0: a unique pointer
    assert_non_null(z);
    hfree(z);
}

// EINVAL and ENOMEM: the result is returned, *memptr is NULL (as HMSDK's
// hposix_memalign writes it; issue 11), errno kept.
static void test_posix_memalign_errors(void **state) {
    (void)state;
    void *const sentinel = (void *)(uintptr_t)0x5a5a5a5a;
    static const size_t bad[] = {0, 1, 2, 4, 3, 12, 24, 48, 4095, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bad[i] == 4 && sizeof(void *) == 4)
            continue;
        void *p = sentinel;
        errno = ERRNO_MARK;
        assert_int_equal(hposix_memalign(&p, bad[i], 64), EINVAL);
        assert_null(p);
        assert_int_equal(errno, ERRNO_MARK);
    }
    void *p = sentinel;
    errno = ERRNO_MARK;
    assert_int_equal(hposix_memalign(&p, 64, SIZE_MAX - 64), ENOMEM);
    assert_null(p);
    assert_int_equal(errno, ERRNO_MARK);
    // errno 0 stays 0 as well (no "restore" of a stale value).
    errno = 0;
    assert_int_equal(hposix_memalign(&p, 64, SIZE_MAX), ENOMEM);
    assert_int_equal(errno, 0);
    assert_int_equal(hposix_memalign(NULL, 64, 64), EINVAL);
}

static void test_usable_size(void **state) {
    (void)state;
    assert_int_equal(hmalloc_usable_size(NULL), 0);
    for (size_t s = 1; s < (1u << 22); s = s * 3 + 1) {
        char *p = hmalloc(s);
        assert_non_null(p);
        size_t u = hmalloc_usable_size(p);
        assert_true(u >= s);
        memset(p, 3, u); // all of it is usable
        hfree(p);
    }
}

// ---- hmmap / hmunmap ----------------------------------------------------------------------

static void test_hmmap_anon(void **state) {
    (void)state;
    size_t len = 1 << 20;
    errno = ERRNO_MARK;
    char *p = hmmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED && p != NULL);
    assert_int_equal(errno, ERRNO_MARK);
    assert_true((uintptr_t)p % page == 0);
    for (size_t i = 0; i < len; i += page)
        assert_int_equal(p[i], 0);
    memset(p, 7, len);
    assert_int_equal(hmunmap(p, len), 0);
    assert_false(mapped(p, len));

    // An odd length is rounded up to pages, as mmap does.
    p = hmmap(NULL, 10, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED && p != NULL);
    memset(p, 1, page);
    assert_int_equal(hmunmap(p, 10), 0);

    p = hmmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_NORESERVE, -1, 0);
    assert_true(p != MAP_FAILED && p != NULL);
    memset(p, 1, 4 * page);
    assert_int_equal(hmunmap(p, 4 * page), 0);

    p = hmmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    assert_true(p != MAP_FAILED && p != NULL);
    assert_int_equal(hmunmap(p, page), 0);
}

static void test_hmmap_file(void **state) {
    (void)state;
    char path[] = "/tmp/hmalloc-hmmap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    char buf[8192];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(i * 7);
    assert_int_equal(write(fd, buf, sizeof buf), (ssize_t)sizeof buf);

    char *p = hmmap(NULL, sizeof buf, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(p != MAP_FAILED && p != NULL);
    assert_memory_equal(p, buf, sizeof buf);
    assert_int_equal(hmunmap(p, sizeof buf), 0);

    // From an offset, private (copy on write: the file stays as it was).
    p = hmmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 4096);
    assert_true(p != MAP_FAILED && p != NULL);
    assert_memory_equal(p, buf + 4096, 4096);
    p[0] = 'x';
    char c;
    assert_int_equal(pread(fd, &c, 1, 4096), 1);
    assert_int_equal(c, buf[4096]);

    // MAP_FIXED over our own mapping: the file replaces it at that address.
    char *q = hmmap(p, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    assert_ptr_equal(q, p);
    assert_memory_equal(q, buf, 4096);
    assert_int_equal(hmunmap(q, 4096), 0);
    close(fd);
}

static void expect_map_failed(void *p, int err) {
    assert_ptr_equal(p, MAP_FAILED);
    assert_int_equal(errno, err);
}

// The mapping's own failures: MAP_FAILED with errno (hmmap(3)).
static void test_hmmap_errors(void **state) {
    (void)state;
    int rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
    errno = 0;
    expect_map_failed(hmmap(NULL, 0, rw, anon, -1, 0), EINVAL); // length 0
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, MAP_ANONYMOUS, -1, 0), EINVAL); // no type
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, anon | MAP_GROWSDOWN, -1, 0), EINVAL);
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, anon | MAP_FIXED, -1, 0), EINVAL); // TODO(#6)
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw | 0x10, anon, -1, 0), EINVAL); // unknown prot
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, MAP_PRIVATE, -1, 0), EBADF); // no file
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, anon | MAP_HUGETLB | (12 << MAP_HUGE_SHIFT), -1, 0),
                      EINVAL); // no 4 KiB huge pages
    errno = 0;
    expect_map_failed(hmmap(NULL, SIZE_MAX - 10, rw, anon, -1, 0), ENOMEM);
    errno = 0;
    expect_map_failed(hmmap(NULL, (size_t)1 << 60, rw, anon, -1, 0), ENOMEM); // too large

    int fd = open("/dev/zero", O_RDONLY);
    assert_true(fd >= 0);
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, MAP_PRIVATE, fd, 100), EINVAL); // unaligned offset
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, MAP_PRIVATE, fd, -4096), EINVAL);
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, MAP_SHARED, fd, 0), EACCES); // read-only fd
    close(fd);
    errno = 0;
    expect_map_failed(hmmap(NULL, page, rw, MAP_SHARED, 1000000, 0), EBADF);

    // MAP_FIXED_NOREPLACE over a mapping: EEXIST, the mapping untouched.
    char *p = hmmap(NULL, page, rw, anon, -1, 0);
    assert_true(p != MAP_FAILED && p != NULL);
    *p = 42;
    errno = 0;
    expect_map_failed(hmmap(p, page, rw, anon | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    assert_int_equal(*p, 42);
    assert_int_equal(hmunmap(p, page), 0);
    // ... and on a free range: exactly there.
    char *q = hmmap(p, page, rw, anon | MAP_FIXED_NOREPLACE, -1, 0);
    assert_ptr_equal(q, p);
    assert_int_equal(hmunmap(q, page), 0);
}

static void test_hmunmap_errors(void **state) {
    (void)state;
    char *p = hmmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != MAP_FAILED && p != NULL);
    errno = 0;
    assert_int_equal(hmunmap(p + 1, page), -1);
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_int_equal(hmunmap(p, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(hmunmap(p + page, page), 0); // a part, as munmap
    assert_true(mapped(p, page));
    assert_false(mapped(p + page, page));
    assert_int_equal(hmunmap(p, page), 0);
    assert_int_equal(hmunmap(p, page), 0); // nothing mapped there: still 0, as munmap
}

int main(void) {
    unsetenv("HMALLOC_POLICY");
    unsetenv("HMALLOC_NODES");
    unsetenv("HMALLOC_MPOL_MODE");
    unsetenv("HMALLOC_NODEMASK");
    page = (size_t)sysconf(_SC_PAGESIZE);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign_before_first_use),
        cmocka_unit_test(test_malloc_zero),
        cmocka_unit_test(test_malloc_sizes),
        cmocka_unit_test(test_free_null),
        cmocka_unit_test(test_free_foreign),
        cmocka_unit_test(test_stale_errno),
        cmocka_unit_test(test_malloc_enomem),
        cmocka_unit_test(test_calloc_overflow),
        cmocka_unit_test(test_calloc_zeroes),
        cmocka_unit_test(test_hrealloc),
        cmocka_unit_test(test_hrealloc_foreign),
        cmocka_unit_test(test_aligned_alloc),
        cmocka_unit_test(test_aligned_alloc_einval),
        cmocka_unit_test(test_posix_memalign),
        cmocka_unit_test(test_posix_memalign_errors),
        cmocka_unit_test(test_usable_size),
        cmocka_unit_test(test_hmmap_anon),
        cmocka_unit_test(test_hmmap_file),
        cmocka_unit_test(test_hmmap_errors),
        cmocka_unit_test(test_hmunmap_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
