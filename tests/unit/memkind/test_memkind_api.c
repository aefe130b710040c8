// SPDX-License-Identifier: MIT
// The memkind API through libmemkind.so.0, as a program uses it: heap
// management with every documented NULL-kind, zero-size and error case,
// memkind_create_kind's table, error messages, version, file-backed kinds
// (unlinked temporary file, size limit, configuration, DAX check), fixed
// kinds, MEMKIND_ERROR_TOOMANY, statistics and their printing (text and
// JSON, every option), user kinds built from memkind_arena/memkind_default
// operations and extent hooks, background threads, and several threads
// allocating and freeing across kinds. Runs on any machine: what depends
// on HBW/PMEM/huge pages is checked against memkind_check_available.
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#define MEMKIND_DEPRECATED(func) func /* the tests call the deprecated API on purpose */
#include <memkind.h>
#include <memkind/internal/memkind_arena.h>

#include "mini_json.h"
#include "test_seed.h"
#include "test_threads.h"

static memkind_t basic_kinds[4];

static int setup(void **state) {
    (void)state;
    basic_kinds[0] = MEMKIND_DEFAULT;
    basic_kinds[1] = MEMKIND_REGULAR;
    basic_kinds[2] = MEMKIND_INTERLEAVE;
    basic_kinds[3] = MEMKIND_HIGHEST_CAPACITY;
    return 0;
}

// ---- heap management ---------------------------------------------------------------

static void test_malloc_free(void **state) {
    (void)state;
    for (int i = 0; i < 4; i++) {
        memkind_t k = basic_kinds[i];
        assert_int_equal(memkind_check_available(k), MEMKIND_SUCCESS);
        size_t sizes[] = {1, 8, 100, 4096, 100000, 3 << 20};
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            char *p = memkind_malloc(k, sizes[s]);
            assert_non_null(p);
            assert_true((uintptr_t)p % 8 == 0);
            memset(p, 0x5a, sizes[s]);
            assert_true(memkind_malloc_usable_size(k, p) >= sizes[s]);
            assert_true(memkind_malloc_usable_size(NULL, p) >= sizes[s]);
            assert_ptr_equal(memkind_detect_kind(p), k);
            if (s % 2)
                memkind_free(k, p);
            else
                memkind_free(NULL, p); // found through the address map
        }
    }
}

static void test_zero_size(void **state) {
    (void)state;
    memkind_t k = MEMKIND_DEFAULT;
    assert_null(memkind_malloc(k, 0));
    assert_null(memkind_calloc(k, 0, 8));
    assert_null(memkind_calloc(k, 8, 0));
    void *p = (void *)0x1;
    assert_int_equal(memkind_posix_memalign(k, &p, 64, 0), 0);
    assert_null(p);
    memkind_set_allow_zero_allocs(k, true);
    p = memkind_malloc(k, 0);
    assert_non_null(p);
    void *q = memkind_calloc(k, 0, 8);
    assert_non_null(q);
    void *r = NULL;
    assert_int_equal(memkind_posix_memalign(k, &r, 64, 0), 0);
    assert_non_null(r);
    assert_true((uintptr_t)r % 64 == 0);
    memkind_free(k, p);
    memkind_free(k, q);
    memkind_free(k, r);
    memkind_set_allow_zero_allocs(k, false);
    assert_null(memkind_malloc(k, 0));
    memkind_set_allow_zero_allocs(NULL, true); // ignored
}

static void test_null_kind(void **state) {
    (void)state;
    errno = 0;
    assert_null(memkind_malloc(NULL, 8));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(memkind_calloc(NULL, 1, 8));
    assert_int_equal(errno, EINVAL);
    void *p = (void *)0x1;
    assert_int_equal(memkind_posix_memalign(NULL, &p, 64, 8), EINVAL);
    assert_ptr_equal(p, (void *)0x1);
    errno = 0;
    assert_null(memkind_realloc(NULL, NULL, 8)); // both NULL: EINVAL
    assert_int_equal(errno, EINVAL);
    memkind_free(NULL, NULL);
    assert_int_equal(memkind_malloc_usable_size(NULL, NULL), 0);
    assert_null(memkind_detect_kind(NULL));
    assert_null(memkind_defrag_reallocate(NULL, NULL));
    assert_null(memkind_defrag_reallocate(MEMKIND_DEFAULT, NULL));

    // NULL kind with a pointer: the block's own kind
    char *q = memkind_malloc(MEMKIND_REGULAR, 100);
    assert_non_null(q);
    memset(q, 7, 100);
    q = memkind_realloc(NULL, q, 200000);
    assert_non_null(q);
    assert_ptr_equal(memkind_detect_kind(q), MEMKIND_REGULAR);
    for (int i = 0; i < 100; i++)
        assert_int_equal(q[i], 7);
    memkind_free(NULL, q);

    // memory that is not memkind's
    int on_stack;
    assert_null(memkind_detect_kind(&on_stack));
    assert_int_equal(memkind_malloc_usable_size(NULL, &on_stack), 0);
    errno = 0;
    assert_null(memkind_realloc(NULL, &on_stack, 8));
    assert_int_equal(errno, EINVAL);
    memkind_free(NULL, &on_stack); // ignored, not a crash
}

static void test_calloc_cases(void **state) {
    (void)state;
    volatile size_t big = SIZE_MAX / 2; // hidden from the compiler's alloc_size check
    errno = 0;
    assert_null(memkind_calloc(MEMKIND_DEFAULT, big, 3)); // overflow
    assert_int_equal(errno, ENOMEM);
    unsigned char *p = memkind_calloc(MEMKIND_DEFAULT, 1000, 1000);
    assert_non_null(p);
    for (size_t i = 0; i < 1000000; i += 997)
        assert_int_equal(p[i], 0);
    memset(p, 0xff, 1000000);
    memkind_free(MEMKIND_DEFAULT, p);
    p = memkind_calloc(MEMKIND_DEFAULT, 100, 10); // reuse must still be zeroed
    for (size_t i = 0; i < 1000; i++)
        assert_int_equal(p[i], 0);
    memkind_free(MEMKIND_DEFAULT, p);
}

static void test_posix_memalign(void **state) {
    (void)state;
    void *p = (void *)0x1234;
    size_t bad[] = {0, 1, 3, 4, 12, 24, 100};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 4321;
        assert_int_equal(memkind_posix_memalign(MEMKIND_DEFAULT, &p, bad[i], 64), EINVAL);
        assert_ptr_equal(p, (void *)0x1234); // untouched
        assert_int_equal(errno, 4321);       // untouched
    }
    assert_int_equal(memkind_posix_memalign(MEMKIND_DEFAULT, NULL, 64, 64), EINVAL);
    errno = 4321;
    assert_int_equal(memkind_posix_memalign(MEMKIND_DEFAULT, &p, 64, SIZE_MAX / 2), ENOMEM);
    assert_ptr_equal(p, (void *)0x1234);
    assert_int_equal(errno, 4321);
    size_t good[] = {8, 16, 64, 4096, 1 << 20};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        void *q = NULL;
        assert_int_equal(memkind_posix_memalign(MEMKIND_REGULAR, &q, good[i], 1000), 0);
        assert_non_null(q);
        assert_true((uintptr_t)q % good[i] == 0);
        memset(q, 1, 1000);
        memkind_free(NULL, q);
    }
}

static void test_realloc_cases(void **state) {
    (void)state;
    char *p = memkind_realloc(MEMKIND_DEFAULT, NULL, 64); // malloc
    assert_non_null(p);
    for (int i = 0; i < 64; i++)
        p[i] = (char)i;
    p = memkind_realloc(MEMKIND_DEFAULT, p, 1 << 20); // grow
    assert_non_null(p);
    for (int i = 0; i < 64; i++)
        assert_int_equal(p[i], (char)i);
    p = memkind_realloc(MEMKIND_DEFAULT, p, 16); // shrink
    for (int i = 0; i < 16; i++)
        assert_int_equal(p[i], (char)i);
    // into another kind: the data follows, the block is the new kind's
    p = memkind_realloc(MEMKIND_INTERLEAVE, p, 5000);
    assert_non_null(p);
    assert_ptr_equal(memkind_detect_kind(p), MEMKIND_INTERLEAVE);
    for (int i = 0; i < 16; i++)
        assert_int_equal(p[i], (char)i);
    assert_null(memkind_realloc(MEMKIND_INTERLEAVE, p, 0)); // free
    assert_null(memkind_realloc(MEMKIND_DEFAULT, NULL, 0)); // malloc(0)
    errno = 0;
    p = memkind_malloc(MEMKIND_DEFAULT, 10);
    assert_null(memkind_realloc(MEMKIND_DEFAULT, p, SIZE_MAX / 2));
    assert_int_equal(errno, ENOMEM);
    memkind_free(MEMKIND_DEFAULT, p); // the block survived the failed realloc
}

static void test_free_with_other_kind(void **state) {
    (void)state;
    // A block freed with the wrong kind still goes back to its own pool.
    memkind_update_cached_stats();
    size_t before;
    assert_int_equal(memkind_get_stat(MEMKIND_REGULAR, MEMKIND_STAT_TYPE_ALLOCATED, &before), 0);
    void *p = memkind_malloc(MEMKIND_REGULAR, 1 << 20);
    assert_non_null(p);
    memkind_free(MEMKIND_DEFAULT, p);
    memkind_update_cached_stats();
    size_t after;
    assert_int_equal(memkind_get_stat(MEMKIND_REGULAR, MEMKIND_STAT_TYPE_ALLOCATED, &after), 0);
    assert_true(after <= before);
}

static void test_defrag(void **state) {
    (void)state;
    char *p = memkind_malloc(MEMKIND_DEFAULT, 48);
    memset(p, 3, 48);
    char *q = memkind_defrag_reallocate(MEMKIND_DEFAULT, p);
    if (q) { // moved: the data came along and p is gone
        for (int i = 0; i < 48; i++)
            assert_int_equal(q[i], 3);
        p = q;
    }
    q = memkind_defrag_reallocate(NULL, p);
    memkind_free(NULL, q ? q : p);

    // Sparse slabs: of 16384 blocks keep one in 16; the survivors sit in
    // slabs that are mostly free, so defragmentation moves some of them,
    // and every moved block keeps its contents.
    enum { N = 16384 };
    static char *v[N];
    for (int i = 0; i < N; i++) {
        v[i] = memkind_malloc(MEMKIND_DEFAULT, 48);
        assert_non_null(v[i]);
        memset(v[i], i & 0x7f, 48);
    }
    for (int i = 0; i < N; i++)
        if (i % 16) {
            memkind_free(MEMKIND_DEFAULT, v[i]);
            v[i] = NULL;
        }
    int moved = 0;
    for (int i = 0; i < N; i += 16) {
        char *m = memkind_defrag_reallocate(MEMKIND_DEFAULT, v[i]);
        if (m) {
            moved++;
            v[i] = m;
        }
        for (int k = 0; k < 48; k++)
            assert_int_equal(v[i][k], i & 0x7f);
    }
    assert_true(moved > 0);
    for (int i = 0; i < N; i += 16)
        memkind_free(NULL, v[i]);
}

// ---- kinds ----------------------------------------------------------------------------

static void test_create_kind(void **state) {
    (void)state;
    memkind_t k = NULL;
    assert_int_equal(
        memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL, 0, &k), 0);
    assert_ptr_equal(k, MEMKIND_DEFAULT);
    assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT | MEMKIND_MEMTYPE_HIGH_BANDWIDTH,
                                         MEMKIND_POLICY_INTERLEAVE_ALL, 0, &k),
                     0);
    assert_ptr_equal(k, MEMKIND_INTERLEAVE);
    assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL,
                                         MEMKIND_MASK_PAGE_SIZE_2MB, &k),
                     0);
    assert_ptr_equal(k, memkind_check_available(MEMKIND_HUGETLB) == 0 ? MEMKIND_HUGETLB
                                                                      : MEMKIND_DEFAULT);
    bool hbw = memkind_check_available(MEMKIND_HBW) == 0;
    int r = memkind_create_kind(MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_LOCAL, 0, &k);
    if (hbw) {
        assert_int_equal(r, 0);
        assert_ptr_equal(k, MEMKIND_HBW);
    } else {
        assert_int_equal(r, MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE);
    }
    r = memkind_create_kind(MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_PREFERRED_LOCAL, 0, &k);
    assert_int_equal(r, 0);
    assert_ptr_equal(k, memkind_check_available(MEMKIND_HBW_PREFERRED) == 0 ? MEMKIND_HBW_PREFERRED
                                                                            : MEMKIND_DEFAULT);
    // invalid arguments and unsupported combinations
    assert_int_equal(memkind_create_kind(0, MEMKIND_POLICY_BIND_LOCAL, 0, &k),
                     MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_create_kind((memkind_memtype_t)4, MEMKIND_POLICY_BIND_LOCAL, 0, &k),
                     MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_MAX_VALUE, 0, &k),
                     MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL,
                                         (memkind_bits_t)1, &k),
                     MEMKIND_ERROR_INVALID);
    assert_int_equal(
        memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL, 0, NULL),
        MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_BIND_LOCAL, 0, &k),
                     MEMKIND_ERROR_INVALID);
    // a kind from memkind_create_kind may be destroyed; the static kind stays
    assert_int_equal(memkind_destroy_kind(MEMKIND_DEFAULT), 0);
    void *p = memkind_malloc(MEMKIND_DEFAULT, 10);
    assert_non_null(p);
    memkind_free(NULL, p);
    assert_int_equal(memkind_destroy_kind(NULL), MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_check_available(NULL), MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_get_capacity(NULL), -1);
}

static void test_static_kinds(void **state) {
    (void)state;
    // Every static kind answers; an unavailable one refuses with ENOMEM, an
    // available one allocates.
    for (int i = 0; i < MEMKIND_NUM_BASE_KIND; i++) {
        memkind_t k;
        assert_int_equal(memkind_get_kind_by_partition(i, &k), 0);
        int avail = memkind_check_available(k);
        errno = 0;
        void *p = memkind_malloc(k, 4096);
        if (avail != 0) {
            assert_null(p);
            assert_int_equal(errno, ENOMEM);
        } else {
            if (!p)
                fail_msg("kind %d (%s) is available but memkind_malloc(4096) gave NULL, errno %d",
                         i, k->name, errno);
            memset(p, 1, 4096);
            assert_ptr_equal(memkind_detect_kind(p), k);
            memkind_free(k, p);
        }
    }
    memkind_t k = (memkind_t)0x1;
    assert_int_equal(memkind_get_kind_by_partition(MEMKIND_MAX_KIND - 1, &k),
                     MEMKIND_ERROR_UNAVAILABLE);
    assert_null(k);
    assert_int_equal(memkind_get_kind_by_partition(-1, &k), MEMKIND_ERROR_UNAVAILABLE);
    assert_int_equal(memkind_check_available(MEMKIND_GBTLB), MEMKIND_ERROR_HUGETLB); // memkind 1.14's codes
    assert_int_equal(memkind_check_available(MEMKIND_HBW_GBTLB), MEMKIND_ERROR_HUGETLB);
    assert_true(memkind_get_capacity(MEMKIND_DEFAULT) > 0);
    assert_true(memkind_get_capacity(MEMKIND_REGULAR) > 0);
    assert_int_equal(memkind_get_capacity(MEMKIND_HBW_PREFERRED), -1); // not supported
}

static void test_error_messages(void **state) {
    (void)state;
    int codes[] = {MEMKIND_ERROR_UNAVAILABLE,
                   MEMKIND_ERROR_MBIND,
                   MEMKIND_ERROR_MMAP,
                   MEMKIND_ERROR_MALLOC,
                   MEMKIND_ERROR_ENVIRON,
                   MEMKIND_ERROR_INVALID,
                   MEMKIND_ERROR_TOOMANY,
                   MEMKIND_ERROR_BADOPS,
                   MEMKIND_ERROR_HUGETLB,
                   MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE,
                   MEMKIND_ERROR_OPERATION_FAILED,
                   MEMKIND_ERROR_ARENAS_CREATE,
                   MEMKIND_ERROR_RUNTIME,
                   EINVAL,
                   ENOMEM};
    char seen[sizeof codes / sizeof codes[0]][MEMKIND_ERROR_MESSAGE_SIZE];
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        char msg[MEMKIND_ERROR_MESSAGE_SIZE];
        memkind_error_message(codes[i], msg, sizeof msg);
        assert_true(strncmp(msg, "<memkind>", 9) == 0);
        assert_null(strstr(msg, "Undefined"));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(msg, seen[j]); // each code its own text
        strcpy(seen[i], msg);
    }
    char msg[MEMKIND_ERROR_MESSAGE_SIZE];
    memkind_error_message(MEMKIND_ERROR_TOOMANY, msg, sizeof msg);
    assert_non_null(strstr(msg, "512"));
    memkind_error_message(-9999, msg, sizeof msg);
    assert_non_null(strstr(msg, "-9999"));
    char small[10];
    memset(small, 'x', sizeof small);
    memkind_error_message(MEMKIND_ERROR_INVALID, small, sizeof small);
    assert_int_equal(small[9], '\0');
    memkind_error_message(MEMKIND_ERROR_INVALID, small, 0); // nothing written
    memkind_error_message(MEMKIND_ERROR_INVALID, NULL, 10);
}

static void test_version(void **state) {
    (void)state;
    assert_int_equal(memkind_get_version(), 1014000);
}

// ---- file-backed kinds -------------------------------------------------------------------

static char pmem_dir[64];

static int pmem_setup(void **state) {
    (void)state;
    snprintf(pmem_dir, sizeof pmem_dir, "/tmp/hetmem-mk-XXXXXX");
    return mkdtemp(pmem_dir) ? 0 : -1;
}

static int pmem_teardown(void **state) {
    (void)state;
    rmdir(pmem_dir);
    return 0;
}

static int dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (d)
        closedir(d);
    return n;
}

static void test_pmem(void **state) {
    (void)state;
    memkind_t k = NULL;
    assert_int_equal(memkind_create_pmem(pmem_dir, 0, &k), 0);
    assert_non_null(k);
    assert_int_equal(dir_entries(pmem_dir), 0); // the file is unlinked
    assert_int_equal(memkind_check_available(k), 0);
    assert_true(memkind_get_capacity(k) > 0); // the file system's size
    char *p = memkind_malloc(k, 1 << 20);
    assert_non_null(p);
    memset(p, 9, 1 << 20);
    assert_ptr_equal(memkind_detect_kind(p), k);
    p = memkind_realloc(k, p, 3 << 20);
    assert_int_equal(p[12345], 9);
    void *q = memkind_calloc(k, 10, 10);
    assert_non_null(q);
    memkind_free(NULL, q);
    memkind_free(k, p);
    assert_int_equal(memkind_destroy_kind(k), 0);

    // the size limit: MEMKIND_PMEM_MIN_SIZE bytes, no more
    assert_int_equal(memkind_create_pmem(pmem_dir, MEMKIND_PMEM_MIN_SIZE, &k), 0);
    assert_int_equal(memkind_get_capacity(k), MEMKIND_PMEM_MIN_SIZE);
    void *v[64];
    int n = 0;
    errno = 0;
    while (n < 64 && (v[n] = memkind_malloc(k, 1 << 20)))
        memset(v[n++], 1, 1 << 20);
    assert_int_equal(errno, ENOMEM);
    assert_true(n >= 12 && n <= 16);
    for (int i = 0; i < n; i++)
        memkind_free(k, v[i]);
    v[0] = memkind_malloc(k, 8 << 20); // the space came back
    assert_non_null(v[0]);
    memkind_free(k, v[0]);
    assert_int_equal(memkind_destroy_kind(k), 0);
}

static void test_pmem_errors(void **state) {
    (void)state;
    memkind_t k = NULL;
    assert_int_equal(memkind_create_pmem(pmem_dir, MEMKIND_PMEM_MIN_SIZE - 1, &k),
                     MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_create_pmem(NULL, 0, &k), MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_create_pmem(pmem_dir, 0, NULL), MEMKIND_ERROR_INVALID);
    errno = 0;
    assert_int_equal(memkind_create_pmem("/nonexistent/hetmem", 0, &k), MEMKIND_ERROR_INVALID);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(memkind_create_pmem_with_config(NULL, &k), MEMKIND_ERROR_INVALID);
}

static void test_pmem_config(void **state) {
    (void)state;
    struct memkind_config *cfg = memkind_config_new();
    assert_non_null(cfg);
    memkind_config_set_path(cfg, pmem_dir);
    memkind_config_set_size(cfg, 32 << 20);
    memkind_config_set_memory_usage_policy(cfg, MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE);
    memkind_t k;
    assert_int_equal(memkind_create_pmem_with_config(cfg, &k), 0);
    assert_int_equal(memkind_get_capacity(k), 32 << 20);
    for (int i = 0; i < 100; i++) { // conservative: freed memory is given back at once
        void *p = memkind_malloc(k, 4 << 20);
        assert_non_null(p);
        memset(p, 1, 4 << 20);
        memkind_free(k, p);
    }
    assert_int_equal(memkind_destroy_kind(k), 0);
    memkind_config_set_memory_usage_policy(cfg, MEMKIND_MEM_USAGE_POLICY_MAX_VALUE);
    assert_int_equal(memkind_create_pmem_with_config(cfg, &k), MEMKIND_ERROR_INVALID);
    memkind_config_set_memory_usage_policy(cfg, MEMKIND_MEM_USAGE_POLICY_DEFAULT);
    memkind_config_set_size(cfg, 1);
    assert_int_equal(memkind_create_pmem_with_config(cfg, &k), MEMKIND_ERROR_INVALID);
    memkind_config_delete(cfg);
    memkind_config_delete(NULL);
    memkind_config_set_path(NULL, "x"); // ignored
}

static void test_check_dax_path(void **state) {
    (void)state;
    assert_int_equal(memkind_check_dax_path(NULL), MEMKIND_ERROR_INVALID);
    // memkind 1.14's codes: no temporary file there, no MAP_SYNC mapping
    assert_int_equal(memkind_check_dax_path("/nonexistent/hetmem"), MEMKIND_ERROR_RUNTIME);
    assert_int_equal(memkind_check_dax_path("/proc/self/status"), MEMKIND_ERROR_RUNTIME);
    assert_int_equal(memkind_check_dax_path(pmem_dir), MEMKIND_ERROR_MMAP); // /tmp is not DAX
    assert_int_equal(dir_entries(pmem_dir), 0);
}

// ---- fixed kinds and the kind limit ---------------------------------------------------------

static void test_fixed(void **state) {
    (void)state;
    size_t size = 8 << 20;
    char *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(buf != MAP_FAILED);
    memkind_t k;
    assert_int_equal(memkind_create_fixed(buf, size, &k), 0);
    assert_int_equal(memkind_get_capacity(k), (ssize_t)size);
    void *v[64];
    int n = 0;
    while (n < 64 && (v[n] = memkind_malloc(k, 256 << 10))) {
        assert_true((char *)v[n] >= buf && (char *)v[n] + (256 << 10) <= buf + size);
        assert_ptr_equal(memkind_detect_kind(v[n]), k);
        memset(v[n++], 2, 256 << 10);
    }
    assert_true(n >= 16 && n < 64); // the area runs out: NULL and ENOMEM
    assert_int_equal(errno, ENOMEM);
    for (int i = 0; i < n; i++)
        memkind_free(NULL, v[i]);
    assert_int_equal(memkind_destroy_kind(k), 0);
    assert_int_equal(memkind_create_fixed(NULL, size, &k), MEMKIND_ERROR_INVALID);
    // memkind 1.14: size 0 makes a kind of capacity 0 that never allocates
    assert_int_equal(memkind_create_fixed(buf, 0, &k), MEMKIND_SUCCESS);
    assert_int_equal(memkind_get_capacity(k), 0);
    errno = 0;
    assert_null(memkind_malloc(k, 16));
    assert_int_equal(errno, ENOMEM);
    assert_int_equal(memkind_destroy_kind(k), 0);
    assert_int_equal(memkind_create_fixed(buf, size, NULL), MEMKIND_ERROR_INVALID);
    munmap(buf, size);
}

static void test_toomany(void **state) {
    (void)state;
    const size_t each = 1 << 20;
    size_t total = each * MEMKIND_MAX_KIND;
    char *buf = mmap(NULL, total, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    assert_true(buf != MAP_FAILED);
    memkind_t *kinds = calloc(MEMKIND_MAX_KIND, sizeof *kinds);
    int n = 0, r;
    while ((r = memkind_create_fixed(buf + (size_t)n * each, each, &kinds[n])) == 0)
        n++;
    assert_int_equal(r, MEMKIND_ERROR_TOOMANY);
    assert_int_equal(n, MEMKIND_MAX_KIND - MEMKIND_NUM_BASE_KIND); // the static kinds count
    memkind_t found;
    assert_int_equal(memkind_get_kind_by_partition(MEMKIND_NUM_BASE_KIND, &found), 0);
    assert_ptr_equal(found, kinds[0]);
    assert_int_equal(memkind_destroy_kind(kinds[--n]), 0);
    assert_int_equal(memkind_create_fixed(buf + (size_t)n * each, each, &kinds[n]),
                     0); // room again
    n++;
    for (int i = 0; i < n; i++)
        assert_int_equal(memkind_destroy_kind(kinds[i]), 0);
    free(kinds);
    munmap(buf, total);
}

// ---- statistics --------------------------------------------------------------------------------

static void test_stats(void **state) {
    (void)state;
    size_t a0, a1, r1, act1, total;
    assert_int_equal(memkind_update_cached_stats(), 0);
    assert_int_equal(memkind_get_stat(MEMKIND_INTERLEAVE, MEMKIND_STAT_TYPE_ALLOCATED, &a0), 0);
    void *p = memkind_malloc(MEMKIND_INTERLEAVE, 3 << 20);
    assert_non_null(p);
    // cached: nothing changes until the next update
    assert_int_equal(memkind_get_stat(MEMKIND_INTERLEAVE, MEMKIND_STAT_TYPE_ALLOCATED, &a1), 0);
    assert_int_equal(a1, a0);
    assert_int_equal(memkind_update_cached_stats(), 0);
    assert_int_equal(memkind_get_stat(MEMKIND_INTERLEAVE, MEMKIND_STAT_TYPE_ALLOCATED, &a1), 0);
    assert_int_equal(memkind_get_stat(MEMKIND_INTERLEAVE, MEMKIND_STAT_TYPE_ACTIVE, &act1), 0);
    assert_int_equal(memkind_get_stat(MEMKIND_INTERLEAVE, MEMKIND_STAT_TYPE_RESIDENT, &r1), 0);
    assert_true(a1 >= a0 + (3 << 20));
    assert_true(act1 >= a1);
    assert_true(r1 >= act1);
    assert_int_equal(memkind_get_stat(NULL, MEMKIND_STAT_TYPE_ALLOCATED, &total), 0);
    assert_true(total >= a1);
    memkind_free(MEMKIND_INTERLEAVE, p);
    memkind_update_cached_stats();
    assert_int_equal(memkind_get_stat(MEMKIND_INTERLEAVE, MEMKIND_STAT_TYPE_ALLOCATED, &a1), 0);
    assert_int_equal(a1, a0);
    assert_int_equal(memkind_get_stat(MEMKIND_DEFAULT, MEMKIND_STAT_TYPE_MAX_VALUE, &a1),
                     MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_get_stat(MEMKIND_DEFAULT, MEMKIND_STAT_TYPE_ALLOCATED, NULL),
                     MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_get_stat(NULL, (memkind_stat_type)-1, &a1), MEMKIND_ERROR_INVALID);
}

typedef struct sink_t {
    char *buf;
    size_t len, cap;
} sink_t;

static void sink_write(void *opaque, const char *s) {
    sink_t *k = opaque;
    size_t l = strlen(s);
    if (k->len + l + 1 > k->cap) {
        k->cap = (k->len + l + 1) * 2;
        k->buf = realloc(k->buf, k->cap);
    }
    memcpy(k->buf + k->len, s, l + 1);
    k->len += l;
}

static char *print(unsigned opts, int *ret) {
    sink_t k = {0};
    *ret = memkind_stats_print(sink_write, &k, (memkind_stat_print_opt)opts);
    return k.buf;
}

static void test_stats_print(void **state) {
    (void)state;
    void *p = memkind_malloc(MEMKIND_DEFAULT, 100);
    int r;
    char *t = print(MEMKIND_STAT_PRINT_ALL, &r);
    assert_int_equal(r, 0);
    assert_non_null(strstr(t, "memkind_default"));
    assert_non_null(strstr(t, "Version"));
    assert_non_null(strstr(t, "Merged"));
    assert_non_null(strstr(t, "bins"));
    assert_non_null(strstr(t, "extents"));
    assert_non_null(strstr(t, "Mutexes"));
    free(t);
    struct {
        unsigned opt;
        const char *gone;
    } omit[] = {
        {MEMKIND_STAT_PRINT_OMIT_GENERAL, "Version"},
        {MEMKIND_STAT_PRINT_OMIT_MERGED_ARENA, "Merged"},
        {MEMKIND_STAT_PRINT_OMIT_DESTROYED_MERGED_ARENA, "Destroyed"},
        {MEMKIND_STAT_PRINT_OMIT_PER_ARENA, "memkind_default"},
        {MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_BINS, "bins"},
        {MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_LARGE, "large"},
        {MEMKIND_STAT_PRINT_OMIT_MUTEX, "Mutexes"},
        {MEMKIND_STAT_PRINT_OMIT_EXTENT, "extents"},
    };
    for (size_t i = 0; i < sizeof omit / sizeof omit[0]; i++) {
        t = print(omit[i].opt, &r);
        assert_int_equal(r, 0);
        assert_null(strstr(t, omit[i].gone));
        free(t);
    }
    // JSON: a valid document with every option combination
    for (unsigned o = 0; o < 0x200; o += 2) {
        t = print(o | MEMKIND_STAT_PRINT_JSON_FORMAT, &r);
        assert_int_equal(r, 0);
        char err[128];
        mj_value_t *doc = mj_parse(t, err, sizeof err);
        if (!doc)
            fail_msg("invalid JSON (opts 0x%x): %s\n%s", o, err, t);
        const mj_value_t *mk = mj_get(doc, "memkind");
        assert_non_null(mk);
        assert_true((mj_get(mk, "kinds") != NULL) == !(o & MEMKIND_STAT_PRINT_OMIT_PER_ARENA));
        assert_true((mj_get(mk, "version") != NULL) == !(o & MEMKIND_STAT_PRINT_OMIT_GENERAL));
        assert_true((mj_get(mk, "merged") != NULL) == !(o & MEMKIND_STAT_PRINT_OMIT_MERGED_ARENA));
        mj_free(doc);
        free(t);
    }
    t = print(1u << 12, &r);
    assert_int_equal(r, MEMKIND_ERROR_INVALID);
    free(t);
    memkind_free(MEMKIND_DEFAULT, p);
}

// ---- user kinds (memkind_arena / memkind_default operations) ------------------------------------

static int mmap_calls;

static void *counting_mmap(struct memkind *kind, void *addr, size_t size) {
    __atomic_fetch_add(&mmap_calls, 1, __ATOMIC_RELAXED);
    return memkind_default_mmap(kind, addr, size);
}

static int all_nodes_check(struct memkind *kind) {
    (void)kind;
    return 0;
}

static struct memkind_ops user_ops = {
    .create = memkind_arena_create,
    .destroy = memkind_arena_destroy,
    .malloc = memkind_arena_malloc,
    .calloc = memkind_arena_calloc,
    .posix_memalign = memkind_arena_posix_memalign,
    .realloc = memkind_arena_realloc,
    .free = memkind_arena_free,
    .mmap = counting_mmap,
    .mbind = memkind_default_mbind,
    .get_mmap_flags = memkind_default_get_mmap_flags,
    .get_mbind_mode = memkind_preferred_get_mbind_mode,
    .get_mbind_nodemask = memkind_default_get_mbind_nodemask,
    .get_arena = memkind_thread_get_arena,
    .check_available = all_nodes_check,
    .malloc_usable_size = memkind_default_malloc_usable_size,
    .finalize = memkind_arena_finalize,
    .update_memory_usage_policy = memkind_arena_update_memory_usage_policy,
};

static void test_user_kind(void **state) {
    (void)state;
    static struct memkind kind;
    assert_int_equal(memkind_arena_create(&kind, &user_ops, "user_kind"), 0);
    assert_string_equal(kind.name, "user_kind");
    char *p = memkind_malloc(&kind, 1000);
    assert_non_null(p);
    memset(p, 4, 1000);
    assert_true(mmap_calls >= 1);
    assert_ptr_equal(memkind_detect_kind(p), &kind);
    assert_ptr_equal(memkind_arena_detect_kind(p), &kind);
    assert_true(memkind_arena_malloc_usable_size(p) >= 1000);
    p = memkind_arena_realloc_with_kind_detect(p, 5000);
    assert_non_null(p);
    assert_int_equal(p[999], 4);
    void *q = NULL;
    assert_int_equal(memkind_posix_memalign(&kind, &q, 4096, 100), 0);
    assert_true((uintptr_t)q % 4096 == 0);
    memkind_free(NULL, q);
    memkind_arena_free_with_kind_detect(p);
    unsigned arena = 0;
    assert_int_equal(memkind_thread_get_arena(&kind, &arena, 0), 0);
    assert_true(arena >= kind.arena_zero && arena < kind.arena_zero + kind.arena_map_len);
    assert_int_equal(memkind_bijective_get_arena(&kind, &arena, 0), 0);
    assert_int_equal(arena, kind.arena_zero);
    assert_int_equal(
        memkind_arena_update_memory_usage_policy(&kind, MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE), 0);
    assert_int_equal(memkind_arena_update_memory_usage_policy(&kind, (memkind_mem_usage_policy)9),
                     MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_check_available(&kind), 0);
    assert_int_equal(memkind_destroy_kind(&kind), 0);
    assert_ptr_equal(get_kind_by_arena(0), MEMKIND_DEFAULT);
    int mode;
    assert_int_equal(memkind_interleave_get_mbind_mode(&kind, &mode), 0);
    assert_int_equal(memkind_posix_check_alignment(&kind, 3), EINVAL);
    assert_int_equal(memkind_posix_check_alignment(&kind, 64), 0);
}

// extent hooks: the kind's memory comes from the program's hooks
static int hook_allocs, hook_frees;

static void *hook_alloc(extent_hooks_t *h, void *addr, size_t size, size_t align, bool *zero,
                        bool *commit, unsigned arena) {
    (void)h;
    (void)addr;
    (void)arena;
    void *p = mmap(NULL, size + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
    *zero = true;
    *commit = true;
    __atomic_fetch_add(&hook_allocs, 1, __ATOMIC_RELAXED);
    return (void *)a; // the slack stays mapped (a test)
}

static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed,
                        unsigned arena) {
    (void)h;
    (void)committed;
    (void)arena;
    __atomic_fetch_add(&hook_frees, 1, __ATOMIC_RELAXED);
    munmap(addr, size);
    return false;
}

static extent_hooks_t hooks = {.alloc = hook_alloc, .dalloc = hook_dalloc};

static void test_user_kind_hooks(void **state) {
    (void)state;
    static struct memkind kind;
    assert_int_equal(memkind_default_create(&kind, &user_ops, "hooked"), 0);
    assert_int_equal(memkind_arena_create_map(&kind, &hooks), 0);
    void *p = memkind_malloc(&kind, 100000);
    assert_non_null(p);
    memset(p, 1, 100000);
    assert_true(hook_allocs >= 1);
    memkind_free(&kind, p);
    assert_int_equal(memkind_arena_finalize(&kind), 0);
    assert_int_equal(hook_frees, hook_allocs); // everything went back through the hooks
}

static void test_default_ops(void **state) {
    (void)state;
    static struct memkind kind;
    assert_int_equal(memkind_default_create(&kind, &MEMKIND_DEFAULT_OPS, "copy_of_default"), 0);
    void *p = memkind_default_malloc(&kind, 64);
    assert_ptr_equal(memkind_detect_kind(p), MEMKIND_DEFAULT);
    p = memkind_default_realloc(&kind, p, 128);
    assert_true(memkind_default_malloc_usable_size(&kind, p) >= 128);
    memkind_default_free(&kind, p);
    p = memkind_default_calloc(&kind, 2, 2);
    memkind_default_free(&kind, p);
    void *q = (void *)1;
    assert_int_equal(memkind_default_posix_memalign(&kind, &q, 3, 8), EINVAL);
    assert_ptr_equal(q, (void *)1);
    assert_int_equal(memkind_default_destroy(&kind), 0);
    assert_int_equal(memkind_default_create(NULL, &MEMKIND_DEFAULT_OPS, "x"),
                     MEMKIND_ERROR_INVALID);
    int flags = 0;
    assert_int_equal(memkind_default_get_mmap_flags(&kind, &flags), 0);
    assert_int_equal(flags, MAP_PRIVATE | MAP_ANONYMOUS);
    memkind_default_init_once();
}

// ---- background threads and threads
// ----------------------------------------------------------------

static void test_bg_threads(void **state) {
    (void)state;
    assert_int_equal(memkind_set_bg_threads(true), 0);
    assert_int_equal(memkind_set_bg_threads(true), 0);
    for (int i = 0; i < 100; i++)
        memkind_free(NULL, memkind_malloc(MEMKIND_DEFAULT, 1 << 16));
    usleep(1200 * 1000);
    assert_int_equal(memkind_set_bg_threads(false), 0);
    assert_int_equal(memkind_set_bg_threads(false), 0);
}

#define NTHREADS 4
#define NITER 20000
static void *shared_slots[NTHREADS][64];

static uint64_t threads_seed; // printed; HETMEM_TEST_SEED replays it

// Each block holds its size in its first 4 bytes and its writer's id in its
// last byte (sizes are >= 8); whoever frees it checks both (THREAD_CHECK: the
// main thread asserts).
static bool block_intact(const char *b) {
    uint32_t size;
    memcpy(&size, b, sizeof size);
    return size >= 8 && size < 8 + 5000 && (unsigned char)b[size - 1] < NTHREADS &&
           memkind_malloc_usable_size(NULL, (void *)b) >= size;
}

static void *worker(void *arg) {
    int id = (int)(intptr_t)arg;
    memkind_t kinds[3] = {MEMKIND_DEFAULT, MEMKIND_REGULAR, MEMKIND_INTERLEAVE};
    unsigned seed = (unsigned)(threads_seed + (uint64_t)id * 7919u) | 1;
    for (int i = 0; i < NITER; i++) {
        seed = seed * 1103515245u + 12345u;
        memkind_t k = kinds[seed % 3];
        size_t size = 8 + (seed >> 8) % 5000;
        char *p = memkind_malloc(k, size);
        if (!THREAD_CHECK_MSG(p != NULL, "memkind_malloc(%zu) failed", size))
            continue;
        uint32_t size32 = (uint32_t)size;
        memcpy(p, &size32, sizeof size32);
        p[size - 1] = (char)id;
        // swap into a slot another thread frees: cross-thread frees
        int victim = (int)((seed >> 4) % NTHREADS);
        void *old = __atomic_exchange_n(&shared_slots[victim][seed % 64], p, __ATOMIC_ACQ_REL);
        if (old) {
            THREAD_CHECK_MSG(block_intact(old), "block %p changed under its owner", old);
            THREAD_CHECK(memkind_detect_kind(old) != NULL);
            memkind_free(seed & 1 ? NULL : memkind_detect_kind(old), old);
        }
    }
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    pthread_t t[NTHREADS];
    threads_seed = test_seed_or("test_threads", 0);
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_thread_checks();
    for (int i = 0; i < NTHREADS; i++)
        for (int j = 0; j < 64; j++)
            if (shared_slots[i][j]) {
                assert_true(block_intact(shared_slots[i][j]));
                memkind_free(NULL, shared_slots[i][j]);
            }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_malloc_free),
        cmocka_unit_test(test_zero_size),
        cmocka_unit_test(test_null_kind),
        cmocka_unit_test(test_calloc_cases),
        cmocka_unit_test(test_posix_memalign),
        cmocka_unit_test(test_realloc_cases),
        cmocka_unit_test(test_free_with_other_kind),
        cmocka_unit_test(test_defrag),
        cmocka_unit_test(test_create_kind),
        cmocka_unit_test(test_static_kinds),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_version),
        cmocka_unit_test_setup_teardown(test_pmem, pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_errors, pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_pmem_config, pmem_setup, pmem_teardown),
        cmocka_unit_test_setup_teardown(test_check_dax_path, pmem_setup, pmem_teardown),
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_toomany),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_stats_print),
        cmocka_unit_test(test_user_kind),
        cmocka_unit_test(test_user_kind_hooks),
        cmocka_unit_test(test_default_ops),
        cmocka_unit_test(test_bg_threads),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
