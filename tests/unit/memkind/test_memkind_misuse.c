// SPDX-License-Identifier: MIT
// The memkind and hbwmalloc APIs under wrong use (issue 11), through
// libmemkind.so.0 as a program uses it:
//   - errno: no call changes it on success, first use included;
//   - frees of foreign, interior and already freed pointers through
//     memkind_free (with the kind and with NULL), hbw_free and
//     memkind_realloc(.., 0), and memkind_realloc of such pointers, on
//     static, file-backed and fixed kinds: ignored (NULL/EINVAL for
//     realloc), and no later allocation overlaps a live block, no live
//     block changes, the kind's ALLOCATED statistic does not move;
//   - garbage kind handles (zeros, random bytes, a copy of a kind) and
//     destroyed kinds: refused by every call (NULL + EINVAL, EINVAL,
//     MEMKIND_ERROR_INVALID, 0, -1) with a log line, the handle's memory
//     never written;
//   - destroying a kind twice: MEMKIND_ERROR_INVALID;
//   - size overflows (create_pmem, create_fixed, calloc): refused with a
//     log line; log lines give errors in words.
// The double-free cases of small blocks rely on the heap engine's
// block-state check (src/heap); the rest on the front end alone.
// Run with MEMKIND_HEAP_MANAGER=JEMALLOC too (CMakeLists: the jemalloc pool).
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <hbwmalloc.h>
#include <memkind.h>
#include <memkind/internal/memkind_arena.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#define ERRNO_MARK 4242

// ---- stderr capture: tests/test_capture.h -----------------------------------------

#include "../../test_capture.h"

// ---- live blocks and the overlap check ---------------------------------------------

typedef struct {
    unsigned char *p;
    size_t n;
    unsigned char fill;
} blk_t;

#define MAX_LIVE 256
static blk_t live[MAX_LIVE];
static int nlive;

static void assert_no_overlap(const void *q, size_t n) {
    uintptr_t a = (uintptr_t)q, b = a + n;
    for (int i = 0; i < nlive; i++) {
        uintptr_t c = (uintptr_t)live[i].p, d = c + live[i].n;
        if (a < d && c < b)
            fail_msg("block %p+%zu overlaps live block %p+%zu", q, n, (void *)live[i].p,
                     live[i].n);
    }
}

static void live_add(void *p, size_t n) {
    assert_non_null(p);
    assert_true(nlive < MAX_LIVE);
    assert_no_overlap(p, n);
    unsigned char f = (unsigned char)(0x11 + 7 * nlive);
    memset(p, f, n);
    live[nlive++] = (blk_t){p, n, f};
}

static void live_check(void) {
    for (int i = 0; i < nlive; i++)
        for (size_t j = 0; j < live[i].n; j += 61)
            if (live[i].p[j] != live[i].fill)
                fail_msg("live block %p+%zu changed at byte %zu", (void *)live[i].p, live[i].n,
                         j);
}

static void live_free_all(void) {
    live_check();
    for (int i = 0; i < nlive; i++)
        memkind_free(NULL, live[i].p);
    nlive = 0;
}

// ---- kinds under test ------------------------------------------------------------------

static char pmem_dir[] = "/tmp/hetmem-mk-misuse-dir-XXXXXX";
static void *fixed_area;
#define FIXED_SIZE ((size_t)64 << 20)

typedef struct {
    const char *name;
    memkind_t kind;
} tkind_t;

static tkind_t kinds[4];
static int nkinds;

static size_t allocated_of(memkind_t k) {
    size_t v = 0;
    assert_int_equal(memkind_update_cached_stats(), 0);
    assert_int_equal(memkind_get_stat(k, MEMKIND_STAT_TYPE_ALLOCATED, &v), 0);
    return v;
}

// How a test gives a pointer back.
typedef enum { VIA_KIND, VIA_NULL, VIA_HBW, VIA_REALLOC0, VIA_COUNT } via_t;
static const char *const via_names[] = {"memkind_free(kind)", "memkind_free(NULL)", "hbw_free",
                                        "memkind_realloc(kind, p, 0)"};

static void give_back(memkind_t k, via_t via, void *p) {
    errno = ERRNO_MARK;
    switch (via) {
        case VIA_KIND: memkind_free(k, p); break;
        case VIA_NULL: memkind_free(NULL, p); break;
        case VIA_HBW: hbw_free(p); break;
        default: assert_null(memkind_realloc(k, p, 0)); break;
    }
    assert_int_equal(errno, ERRNO_MARK);
}

static const size_t small_sizes[] = {16, 100, 4096};
static const size_t large_sizes[] = {100000, (size_t)3 << 20};

// After a misuse on kind k: new blocks of `size` never overlap a live
// block, and no live block changed.
static void allocate_after(memkind_t k, size_t size) {
    for (int i = 0; i < 4; i++)
        live_add(memkind_malloc(k, size), size);
    live_check();
}

// ---- errno: first use and every success -------------------------------------------------

static void stats_sink(void *opaque, const char *s) {
    (void)opaque;
    (void)s;
}

// Runs first (cmocka keeps the order): nothing of the library was used yet.
static void test_errno_kept_on_success(void **state) {
    (void)state;
    errno = ERRNO_MARK;
    void *p = memkind_malloc(MEMKIND_DEFAULT, 100); // first use of the library
    assert_non_null(p);
    assert_int_equal(errno, ERRNO_MARK);
    memkind_t ks[] = {MEMKIND_REGULAR, MEMKIND_INTERLEAVE, MEMKIND_HIGHEST_CAPACITY};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        errno = ERRNO_MARK;
        assert_int_equal(memkind_check_available(ks[i]), 0);
        assert_int_equal(errno, ERRNO_MARK);
        void *q = memkind_calloc(ks[i], 3, 100); // first use of this kind
        assert_non_null(q);
        assert_int_equal(errno, ERRNO_MARK);
        q = memkind_realloc(ks[i], q, 5000);
        assert_non_null(q);
        assert_int_equal(errno, ERRNO_MARK);
        memkind_free(ks[i], q);
        assert_int_equal(errno, ERRNO_MARK);
        assert_true(memkind_get_capacity(ks[i]) > 0);
        assert_int_equal(errno, ERRNO_MARK);
    }
    void *h = hbw_malloc(64);
    assert_non_null(h);
    // The one exception, as in memkind 1.14: the first HBW detection that
    // finds none leaves EINVAL (docs/memkind.md, "Differences from memkind 1.14").
    int after = errno;
    errno = ERRNO_MARK;
    bool hbw = memkind_check_available(MEMKIND_HBW) == MEMKIND_SUCCESS;
    assert_int_equal(errno, ERRNO_MARK);
    assert_int_equal(after, hbw ? ERRNO_MARK : EINVAL);
    errno = ERRNO_MARK;
    hbw_free(h);
    h = hbw_malloc(64); // only once
    assert_non_null(h);
    assert_int_equal(errno, ERRNO_MARK);
    hbw_free(h);
    memkind_t pk = NULL, fk = NULL;
    assert_int_equal(memkind_create_pmem(pmem_dir, 0, &pk), 0);
    assert_int_equal(errno, ERRNO_MARK);
    assert_int_equal(memkind_create_fixed(fixed_area, 1 << 20, &fk), 0);
    assert_int_equal(errno, ERRNO_MARK);
    void *a = NULL;
    assert_int_equal(memkind_posix_memalign(pk, &a, 4096, 5000), 0);
    memkind_free(NULL, a);
    assert_non_null(a = memkind_malloc(fk, 1000));
    memkind_free(fk, a);
    assert_int_equal(errno, ERRNO_MARK);
    assert_int_equal(memkind_destroy_kind(pk), 0);
    assert_int_equal(memkind_destroy_kind(fk), 0);
    assert_int_equal(errno, ERRNO_MARK);
    memkind_free(MEMKIND_DEFAULT, p);
    assert_int_equal(errno, ERRNO_MARK);
    // statistics, their printing, background threads
    size_t v = 0;
    assert_int_equal(memkind_update_cached_stats(), 0);
    assert_int_equal(memkind_get_stat(MEMKIND_REGULAR, MEMKIND_STAT_TYPE_RESIDENT, &v), 0);
    assert_int_equal(memkind_get_stat(NULL, MEMKIND_STAT_TYPE_ALLOCATED, &v), 0);
    assert_int_equal(memkind_stats_print(stats_sink, NULL, MEMKIND_STAT_PRINT_JSON_FORMAT), 0);
    assert_int_equal(memkind_set_bg_threads(true), 0);
    assert_int_equal(memkind_set_bg_threads(false), 0);
    assert_int_equal(errno, ERRNO_MARK);
}

// *memptr as memkind(3) documents it: size 0 gives 0 and NULL; errors leave
// it alone (not documented otherwise; memkind's jemalloc path does so).
static void test_posix_memalign_memptr(void **state) {
    (void)state;
    void *p = (void *)(uintptr_t)0x99;
    assert_int_equal(hbw_posix_memalign(&p, 64, 0), 0);
    assert_null(p);
    p = (void *)(uintptr_t)0x99;
    assert_int_equal(memkind_posix_memalign(MEMKIND_REGULAR, &p, 64, 0), 0);
    assert_null(p);
    p = (void *)(uintptr_t)0x99;
    errno = ERRNO_MARK;
    assert_int_equal(hbw_posix_memalign(&p, 3, 64), EINVAL);
    assert_ptr_equal(p, (void *)(uintptr_t)0x99);
    assert_int_equal(hbw_posix_memalign_psize(&p, 64, 64, (hbw_pagesize_t)77), EINVAL);
    assert_ptr_equal(p, (void *)(uintptr_t)0x99);
    assert_int_equal(memkind_posix_memalign(MEMKIND_DEFAULT, &p, 64, SIZE_MAX / 2), ENOMEM);
    assert_ptr_equal(p, (void *)(uintptr_t)0x99);
    assert_int_equal(errno, ERRNO_MARK);
}

// ---- foreign, interior and double frees -------------------------------------------------

static void test_foreign_frees(void **state) {
    (void)state;
    char *libc = malloc(64);
    assert_non_null(libc);
    char stack[64];
    void *map = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(map != MAP_FAILED);
    void *foreign[] = {libc, stack, (char *)map + 128, (void *)(uintptr_t)0x1000};
    for (int k = 0; k < nkinds; k++) {
        memkind_t kind = kinds[k].kind;
        live_add(memkind_malloc(kind, 100), 100);
        size_t before = allocated_of(kind);
        for (size_t f = 0; f < sizeof foreign / sizeof foreign[0]; f++) {
            for (int v = 0; v < VIA_COUNT; v++)
                give_back(kind, (via_t)v, foreign[f]);
            errno = 0;
            assert_null(memkind_realloc(NULL, foreign[f], 10));
            assert_int_equal(errno, EINVAL);
            errno = 0;
            assert_null(memkind_realloc(kind, foreign[f], 10));
            assert_int_equal(errno, EINVAL);
            assert_int_equal(memkind_malloc_usable_size(NULL, foreign[f]), 0);
            assert_null(memkind_detect_kind(foreign[f]));
        }
        assert_int_equal(allocated_of(kind), before);
        allocate_after(kind, 100);
    }
    capture_begin();
    memkind_free(NULL, libc);
    const char *log = capture_end();
    assert_non_null(strstr(log, "not memory of a memkind kind"));
    live_free_all();
    free(libc);
    munmap(map, 1 << 16);
}

// A block of the program's own UMF pool whose tag is not a kind (the one
// library holds UMF and memkind: one address map finds both).
static void test_other_pool_frees(void **state) {
    (void)state;
    umf_os_memory_provider_params_handle_t params;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&params), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), params, &prov),
                     UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(params);
    assert_int_equal(
        umfPoolCreate(umfScalablePoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool),
        UMF_RESULT_SUCCESS);
    static char not_a_kind[8]; // the program's tag: anything but a kind
    assert_int_equal(umfPoolSetTag(pool, not_a_kind, NULL), UMF_RESULT_SUCCESS);
    for (size_t s = 0; s < 5; s++) {
        size_t n = s < 3 ? small_sizes[s] : large_sizes[s - 3];
        char *u = umfPoolMalloc(pool, n);
        live_add(u, n);
        assert_null(memkind_detect_kind(u));
        assert_int_equal(memkind_malloc_usable_size(NULL, u), 0);
        for (int v = 0; v < VIA_COUNT; v++)
            give_back(MEMKIND_DEFAULT, (via_t)v, u);
        errno = 0;
        assert_null(memkind_realloc(NULL, u, 2 * n));
        assert_int_equal(errno, EINVAL);
        assert_null(memkind_realloc(MEMKIND_DEFAULT, u, 2 * n));
        assert_ptr_equal(umfPoolByPtr(u), pool); // still the program's live block
        allocate_after(MEMKIND_DEFAULT, n);
    }
    live_check();
    for (int i = 0; i < nlive; i++)
        if (umfPoolByPtr(live[i].p) == pool)
            assert_int_equal(umfPoolFree(pool, live[i].p), UMF_RESULT_SUCCESS);
        else
            memkind_free(NULL, live[i].p);
    nlive = 0;
    umfPoolDestroy(pool);
}

static void interior_case(memkind_t kind, size_t size, via_t via) {
    char *q = memkind_malloc(kind, size);
    live_add(q, size);
    size_t before = allocated_of(kind);
    give_back(kind, via, q + 8);
    errno = 0;
    assert_null(memkind_realloc(kind, q + 8, size * 2)); // same kind
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(memkind_realloc(kind == MEMKIND_DEFAULT ? MEMKIND_REGULAR : MEMKIND_DEFAULT, q + 8,
                                size / 2 + 1)); // into another kind
    assert_int_equal(errno, EINVAL);
    assert_int_equal(allocated_of(kind), before);
    allocate_after(kind, size);
}

static void interior_frees(const size_t *sizes, size_t n) {
    for (int k = 0; k < nkinds; k++) {
        for (int v = 0; v < VIA_COUNT; v++) {
            for (size_t s = 0; s < n; s++)
                interior_case(kinds[k].kind, sizes[s], (via_t)v);
            live_free_all();
        }
    }
}

static void test_interior_free_large(void **state) {
    (void)state;
    interior_frees(large_sizes, 2);
}

// Needs the engine's block-start check on its small-block free path
// (issue 11, src/heap).
static void test_interior_free_small(void **state) {
    (void)state;
    interior_frees(small_sizes, 3);
}

static void double_case(memkind_t kind, size_t size, via_t via) {
    live_add(memkind_malloc(kind, size), size); // a neighbour
    char *p = memkind_malloc(kind, size);
    assert_non_null(p);
    memkind_free(kind, p);
    size_t before = allocated_of(kind);
    give_back(kind, via, p); // the second free
    assert_int_equal(allocated_of(kind), before);
    allocate_after(kind, size); // two of these were the same pointer before the fix
}

static void double_frees(const size_t *sizes, size_t n) {
    for (int k = 0; k < nkinds; k++) {
        for (int v = 0; v < VIA_COUNT; v++) {
            for (size_t s = 0; s < n; s++)
                double_case(kinds[k].kind, sizes[s], (via_t)v);
            live_free_all();
        }
    }
}

static void test_double_free_large(void **state) {
    (void)state;
    double_frees(large_sizes, 2);
}

// Needs the engine's per-block allocated state (issue 11, src/heap).
static void test_double_free_small(void **state) {
    (void)state;
    double_frees(small_sizes, 3);
}

// Needs the engine's per-block allocated state too: realloc of a freed
// block must not hand the block out again.
static void test_realloc_of_freed(void **state) {
    (void)state;
    for (int k = 0; k < nkinds; k++) {
        memkind_t kind = kinds[k].kind;
        const size_t sizes[] = {16, 100, 4096, 100000};
        for (size_t s = 0; s < 4; s++) {
            live_add(memkind_malloc(kind, sizes[s]), sizes[s]);
            char *p = memkind_malloc(kind, sizes[s]);
            assert_non_null(p);
            memkind_free(kind, p);
            errno = 0;
            void *r = memkind_realloc(kind, p, sizes[s] / 2); // "fits in place"
            assert_null(r);
            assert_int_equal(errno, EINVAL);
            errno = 0;
            r = memkind_realloc(NULL, p, sizes[s] * 2);
            assert_null(r);
            allocate_after(kind, sizes[s]);
        }
        live_free_all();
    }
}

// ---- garbage and destroyed kinds --------------------------------------------------------

// Every call with kind k is refused; k's memory is never written.
static void refused_everywhere(memkind_t k, const char *what, bool with_log) {
    print_message("kind handle: %s\n", what);
    unsigned char before[sizeof(struct memkind)];
    memcpy(before, k, sizeof before);
    char *p = memkind_malloc(MEMKIND_DEFAULT, 100); // a live block of another kind
    live_add(p, 100);

    errno = 0;
    assert_null(memkind_malloc(k, 100));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(memkind_calloc(k, 10, 10));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(memkind_realloc(k, NULL, 10));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(memkind_realloc(k, p, 200)); // the block stays where it is
    assert_int_equal(errno, EINVAL);
    void *m = (void *)(uintptr_t)0x77;
    errno = ERRNO_MARK;
    assert_int_equal(memkind_posix_memalign(k, &m, 64, 100), EINVAL);
    assert_ptr_equal(m, (void *)(uintptr_t)0x77);
    assert_int_equal(errno, ERRNO_MARK);
    assert_int_equal(memkind_malloc_usable_size(k, p), 0);
    memkind_free(k, NULL);
    assert_int_equal(memkind_check_available(k), MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_destroy_kind(k), MEMKIND_ERROR_INVALID);
    assert_int_equal(memkind_get_capacity(k), -1);
    size_t v = 12345;
    assert_int_equal(memkind_get_stat(k, MEMKIND_STAT_TYPE_ALLOCATED, &v), MEMKIND_ERROR_INVALID);
    assert_null(memkind_defrag_reallocate(k, p));
    memkind_set_allow_zero_allocs(k, true);
    memkind_init(k, true);
    errno = 0;
    assert_null(memkind_arena_malloc(k, 10));
    assert_int_equal(errno, EINVAL);
    assert_int_equal(memkind_arena_posix_memalign(k, &m, 64, 10), EINVAL);
    assert_memory_equal(before, k, sizeof before); // nothing was written there

    if (with_log) {
        capture_begin();
        errno = 0;
        void *r = memkind_malloc(k, 100);
        const char *log = capture_end();
        assert_null(r);
        assert_non_null(strstr(log, "memkind_malloc"));
        assert_non_null(strstr(log, "refused"));
    }

    live_check();
    allocate_after(MEMKIND_DEFAULT, 100);
    live_free_all();
}

static void test_garbage_kinds(void **state) {
    (void)state;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    if (getenv("HETMEM_TEST_SEED"))
        seed = (unsigned)strtoul(getenv("HETMEM_TEST_SEED"), NULL, 0);
    print_message("seed %u (HETMEM_TEST_SEED=%u repeats it)\n", seed, seed);
    srand(seed);
    // A buffer the size of struct memkind (and more, so that reading past
    // the structure would be in bounds too: the API must not need it).
    static union {
        struct memkind k;
        unsigned char b[2 * sizeof(struct memkind)];
    } buf;
    memset(&buf, 0, sizeof buf);
    refused_everywhere(&buf.k, "zeros", true);
    for (int round = 0; round < 8; round++) {
        for (size_t i = 0; i < sizeof buf.b; i++)
            buf.b[i] = (unsigned char)rand();
        refused_everywhere(&buf.k, "random bytes", round == 0);
    }
    memcpy(&buf.k, MEMKIND_DEFAULT, sizeof buf.k); // a copy is not the kind
    refused_everywhere(&buf.k, "a copy of MEMKIND_DEFAULT", false);

    memkind_t pk = NULL, fk = NULL;
    assert_int_equal(memkind_create_pmem(pmem_dir, 0, &pk), 0);
    char *q = memkind_malloc(pk, 100);
    assert_non_null(q);
    assert_int_equal(memkind_destroy_kind(pk), 0);
    refused_everywhere(pk, "a destroyed pmem kind", true);
    memkind_free(NULL, q); // its pool is gone: not memkind memory any more
    assert_int_equal(memkind_create_fixed(fixed_area, 1 << 20, &fk), 0);
    assert_int_equal(memkind_destroy_kind(fk), 0);
    refused_everywhere(fk, "a destroyed fixed kind", false);
}

static int user_destroys;
static int counting_destroy(struct memkind *kind) {
    user_destroys++;
    return memkind_arena_destroy(kind);
}

static void test_double_destroy(void **state) {
    (void)state;
    for (int i = 0; i < 3; i++) {
        memkind_t pk = NULL, fk = NULL;
        assert_int_equal(memkind_create_pmem(pmem_dir, 32 << 20, &pk), 0);
        assert_int_equal(memkind_create_fixed(fixed_area, 1 << 20, &fk), 0);
        assert_int_equal(memkind_destroy_kind(pk), 0);
        if (i == 0) {
            capture_begin();
            int second = memkind_destroy_kind(pk);
            const char *log = capture_end();
            assert_int_equal(second, MEMKIND_ERROR_INVALID);
            assert_non_null(strstr(log, "destroyed"));
            assert_null(strstr(log, "free of"));
        } else {
            assert_int_equal(memkind_destroy_kind(pk), MEMKIND_ERROR_INVALID);
        }
        assert_int_equal(memkind_destroy_kind(fk), 0);
        assert_int_equal(memkind_destroy_kind(fk), MEMKIND_ERROR_INVALID);
    }
    // A user kind: its destroy operation runs once.
    static struct memkind_ops ops;
    ops = MEMKIND_DEFAULT_OPS;
    ops.create = memkind_arena_create;
    ops.destroy = counting_destroy;
    ops.malloc = memkind_arena_malloc;
    ops.free = memkind_arena_free;
    ops.check_available = NULL;
    static struct memkind uk;
    assert_int_equal(memkind_arena_create(&uk, &ops, "misuse_user_kind"), 0);
    void *p = memkind_malloc(&uk, 100);
    assert_non_null(p);
    memkind_free(&uk, p);
    assert_int_equal(memkind_destroy_kind(&uk), 0);
    assert_int_equal(memkind_destroy_kind(&uk), MEMKIND_ERROR_INVALID);
    assert_int_equal(user_destroys, 1);
    assert_null(memkind_malloc(&uk, 100)); // destroyed: refused
    // Static kinds stay (memkind_create_kind hands them out).
    assert_int_equal(memkind_destroy_kind(MEMKIND_DEFAULT), 0);
    assert_int_equal(memkind_destroy_kind(MEMKIND_DEFAULT), 0);
    assert_int_equal(memkind_check_available(MEMKIND_DEFAULT), 0);
}

// ---- overflows and messages -------------------------------------------------------------

static void test_overflow_and_words(void **state) {
    (void)state;
    memkind_t k = (memkind_t)(uintptr_t)1;
    capture_begin();
    int r = memkind_create_pmem(pmem_dir, SIZE_MAX, &k);
    const char *log = capture_end();
    assert_int_equal(r, MEMKIND_ERROR_INVALID);
    assert_ptr_equal(k, (memkind_t)(uintptr_t)1);
    assert_non_null(strstr(log, "overflow"));
    capture_begin();
    r = memkind_create_pmem(pmem_dir, SIZE_MAX - (1 << 20), &k);
    log = capture_end();
    assert_int_equal(r, MEMKIND_ERROR_INVALID);
    assert_non_null(strstr(log, "overflow"));

    capture_begin();
    r = memkind_create_fixed((void *)(UINTPTR_MAX - 4095), 1 << 20, &k);
    log = capture_end();
    assert_int_equal(r, MEMKIND_ERROR_INVALID);
    assert_non_null(strstr(log, "overflow"));

    capture_begin();
    errno = 0;
    volatile size_t huge = SIZE_MAX / 2; // an overflow the compiler must not see
    void *p = memkind_calloc(MEMKIND_DEFAULT, huge, 3);
    log = capture_end();
    assert_null(p);
    assert_int_equal(errno, ENOMEM);
    assert_non_null(strstr(log, "overflow"));

    // Errors in words: the system's text, not "errno N".
    capture_begin();
    r = memkind_create_pmem("/nonexistent-hetmem-dir/x", 0, &k);
    log = capture_end();
    assert_int_not_equal(r, 0);
    assert_non_null(strstr(log, strerror(ENOENT)));
    assert_null(strstr(log, "errno"));
}

// ---- main -----------------------------------------------------------------------------

static int setup(void **state) {
    (void)state;
    if (!mkdtemp(pmem_dir))
        return -1;
    fixed_area = mmap(NULL, FIXED_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return fixed_area == MAP_FAILED ? -1 : 0;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < nkinds; i++)
        if (kinds[i].kind != MEMKIND_DEFAULT && kinds[i].kind != MEMKIND_REGULAR)
            memkind_destroy_kind(kinds[i].kind);
    munmap(fixed_area, FIXED_SIZE);
    rmdir(pmem_dir);
    return 0;
}

// The kinds the free tests run on (after the errno test's first use).
static int kinds_setup(void **state) {
    (void)state;
    nlive = 0; // a failed test leaves its blocks: forget them
    if (nkinds)
        return 0;
    memkind_t pk = NULL, fk = NULL;
    if (memkind_create_pmem(pmem_dir, 0, &pk) != 0)
        return -1;
    if (memkind_create_fixed((char *)fixed_area + (4 << 20), FIXED_SIZE - (4 << 20), &fk) != 0)
        return -1;
    kinds[nkinds++] = (tkind_t){"MEMKIND_DEFAULT", MEMKIND_DEFAULT};
    kinds[nkinds++] = (tkind_t){"MEMKIND_REGULAR", MEMKIND_REGULAR};
    kinds[nkinds++] = (tkind_t){"pmem", pk};
    kinds[nkinds++] = (tkind_t){"fixed", fk};
    return 0;
}

int main(void) {
    setenv("HETMEM_LOG", "error", 0); // the refusals' log lines are part of the contract
    (void)via_names;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errno_kept_on_success), // first: the library's first use
        cmocka_unit_test(test_posix_memalign_memptr),
        cmocka_unit_test_setup(test_foreign_frees, kinds_setup),
        cmocka_unit_test_setup(test_other_pool_frees, kinds_setup),
        cmocka_unit_test_setup(test_interior_free_large, kinds_setup),
        cmocka_unit_test_setup(test_interior_free_small, kinds_setup),
        cmocka_unit_test_setup(test_double_free_large, kinds_setup),
        cmocka_unit_test_setup(test_double_free_small, kinds_setup),
        cmocka_unit_test_setup(test_realloc_of_freed, kinds_setup),
        cmocka_unit_test_setup(test_garbage_kinds, kinds_setup),
        cmocka_unit_test_setup(test_double_destroy, kinds_setup),
        cmocka_unit_test_setup(test_overflow_and_words, kinds_setup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
