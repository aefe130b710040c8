// SPDX-License-Identifier: MIT
// Wrong frees on the heap engine (issue 11): for every small class and a
// large (cached and uncached) and a direct size, a double free - by the
// owner, by another thread, across threads in both orders, after the
// owner's word was given back (purge), after the owner thread exited -
// an interior pointer, a block of another heap, realloc and usable_size of
// a freed block, and the same through umfFree and umfPoolFree of the
// scalable and disjoint pools. Each refused call must return
// UMF_RESULT_ERROR_INVALID_ARGUMENT and change nothing: the statistics are
// the same, and many allocations afterwards never overlap each other or a
// live block (checked against the set of live intervals).
// Threads record their results; only the main thread asserts.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <umf/memory_pool.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_scalable.h>

#include "heap/heap_priv.h"
#include "test_heap_util.h"

#define MAX_SMALL ((size_t)32 << 10)
#define LARGE_CACHED ((size_t)40 << 10)  // a thread's large cache takes it back
#define LARGE_PAGES ((size_t)2 << 20)    // above the cache: back to the page heap
#define DIRECT_SIZE ((size_t)8 << 20)    // above max_pooled: one provider block
#define MAX_POOLED ((size_t)4 << 20)

static tp_t TP;
static umf_memory_provider_handle_t OS, PROV;
static uint64_t seed;

static heap_t *make_heap(void) {
    heap_config_t cfg;
    heap_config_default(&cfg);
    cfg.max_small_size = MAX_SMALL;
    cfg.max_pooled_size = MAX_POOLED;
    heap_t *h = NULL;
    assert_int_equal(heap_create(PROV, &cfg, &h), UMF_RESULT_SUCCESS);
    return h;
}

static int setup(void **state) {
    (void)state;
    OS = tp_os();
    PROV = tp_create(&TP, OS);
    const char *e = getenv("HEAP_MISUSE_SEED");
    seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + 1;
    printf("heap misuse: seed %llu (HEAP_MISUSE_SEED=)\n", (unsigned long long)seed);
    return OS && PROV ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    long live = (long)atomic_load(&TP.live_bytes);
    umfMemoryProviderDestroy(PROV);
    umfMemoryProviderDestroy(OS);
    if (live) {
        fprintf(stderr, "%ld bytes not returned to the provider\n", live);
        return -1;
    }
    return 0;
}

// ---- what must not change ---------------------------------------------------------

typedef struct snap_t {
    heap_stats_t st;
    heap_large_stats_t ls;
    uint64_t allocs[HEAP_NCLASSES], frees[HEAP_NCLASSES];
} snap_t;

static void take_snap(heap_t *h, snap_t *s) {
    memset(s, 0, sizeof *s);
    heap_stats(h, &s->st);
    heap_large_stats(h, &s->ls);
    for (unsigned c = 0; c < heap_class_count(h); c++) {
        heap_class_stats_t cs;
        heap_class_stats(h, c, &cs);
        s->allocs[c] = cs.allocs;
        s->frees[c] = cs.frees;
    }
}

static void assert_same(const snap_t *a, const snap_t *b) {
    assert_int_equal(a->st.allocated, b->st.allocated);
    assert_int_equal(a->st.active, b->st.active);
    assert_int_equal(a->st.cached, b->st.cached);
    assert_int_equal(a->ls.allocs, b->ls.allocs);
    assert_int_equal(a->ls.frees, b->ls.frees);
    assert_int_equal(a->ls.direct_frees, b->ls.direct_frees);
    assert_memory_equal(a->allocs, b->allocs, sizeof a->allocs);
    assert_memory_equal(a->frees, b->frees, sizeof a->frees);
}

// ---- live intervals ---------------------------------------------------------------

typedef struct iv_t {
    uintptr_t lo, hi;
} iv_t;

#define MAX_LIVE 4096
static iv_t live[MAX_LIVE];
static int nlive;

static void live_add(heap_t *h, void *p) {
    assert_non_null(p);
    size_t us = heap_usable_size(h, p);
    assert_true(us > 0); // a block just handed out is live
    assert_true(nlive < MAX_LIVE);
    live[nlive++] = (iv_t){(uintptr_t)p, (uintptr_t)p + us};
}

static int iv_cmp(const void *a, const void *b) {
    const iv_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void assert_no_overlap(void) {
    static iv_t s[MAX_LIVE];
    memcpy(s, live, (size_t)nlive * sizeof *s);
    qsort(s, (size_t)nlive, sizeof *s, iv_cmp);
    for (int i = 1; i < nlive; i++)
        if (s[i].lo < s[i - 1].hi)
            fail_msg("blocks overlap: [%#lx, %#lx) and [%#lx, %#lx)", (unsigned long)s[i - 1].lo,
                     (unsigned long)s[i - 1].hi, (unsigned long)s[i].lo,
                     (unsigned long)s[i].hi);
}

// After a refused call: the statistics are as before, then many blocks of
// the victim's size (and random others) are allocated next to the blocks
// the scenario keeps live; none may overlap. The extra blocks are freed.
static void check_heap(heap_t *h, const snap_t *before, size_t size) {
    snap_t now;
    take_snap(h, &now);
    assert_same(before, &now);
    int keep = nlive;
    int n = size <= 1024 ? 200 : size <= MAX_SMALL ? 40 : size <= LARGE_PAGES ? 6 : 3;
    for (int i = 0; i < n; i++)
        live_add(h, heap_malloc(h, size));
    for (int i = 0; i < 40; i++)
        live_add(h, heap_malloc(h, 1 + tp_rand(&seed) % 2048));
    assert_no_overlap();
    for (int i = nlive - 1; i >= keep; i--)
        assert_int_equal(heap_free(h, (void *)live[i].lo), UMF_RESULT_SUCCESS);
    nlive = keep;
}

static void free_live(heap_t *h) {
    for (int i = 0; i < nlive; i++)
        assert_int_equal(heap_free(h, (void *)live[i].lo), UMF_RESULT_SUCCESS);
    nlive = 0;
}

// ---- threads ----------------------------------------------------------------------

typedef enum { OP_FREE, OP_MALLOC_FREE_EXIT, OP_MALLOC_EXIT } op_t;
typedef struct job_t {
    heap_t *h;
    op_t op;
    void *p;            // OP_FREE: the block; else the block allocated
    size_t size;
    umf_result_t r;     // OP_FREE: the result
} job_t;

static void *job_run(void *arg) {
    job_t *j = arg;
    switch (j->op) {
    case OP_FREE:
        j->r = heap_free(j->h, j->p);
        break;
    case OP_MALLOC_FREE_EXIT: // the block is freed by its owner, which then exits
        j->p = heap_malloc(j->h, j->size);
        j->r = j->p ? heap_free(j->h, j->p) : UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        break;
    case OP_MALLOC_EXIT: // the block stays live in an orphaned local
        j->p = heap_malloc(j->h, j->size);
        j->r = j->p ? UMF_RESULT_SUCCESS : UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        break;
    }
    return NULL;
}

// Runs one job in a new thread and waits for it (the join orders it).
static job_t in_thread(heap_t *h, op_t op, void *p, size_t size) {
    job_t j = {h, op, p, size, UMF_RESULT_ERROR_UNKNOWN};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, job_run, &j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    return j;
}

static umf_result_t free_in_thread(heap_t *h, void *p) { return in_thread(h, OP_FREE, p, 0).r; }

// ---- scenarios --------------------------------------------------------------------

static const size_t big_sizes[] = {LARGE_CACHED, LARGE_PAGES, DIRECT_SIZE};

// Every size the test runs: each small class's exact size and one byte
// above the previous class (its first size), then the large and direct ones.
static size_t nth_size(unsigned i, unsigned nclasses) {
    if (i < 2 * nclasses) {
        unsigned c = i / 2;
        return i % 2 ? heap_class_size[c] : (c ? heap_class_size[c - 1] + 1 : 1);
    }
    return big_sizes[i - 2 * nclasses];
}

// A second free by the same thread: at once, after more traffic of the
// class, and after heap_purge gave the thread's word back.
static void double_free_owner(heap_t *h, size_t size, int variant) {
    void *keep = heap_malloc(h, size);
    live_add(h, keep);
    void *p = heap_malloc(h, size);
    assert_non_null(p);
    assert_int_equal(heap_free(h, p), UMF_RESULT_SUCCESS);
    if (variant == 1) { // other blocks of the class come and go
        void *q[8];
        for (int i = 0; i < 8; i++)
            q[i] = heap_malloc(h, size);
        for (int i = 0; i < 8; i++)
            assert_int_equal(heap_free(h, q[i]), UMF_RESULT_SUCCESS);
        // (p may have been one of the q: handed out and freed again, so
        // it is free either way)
    } else if (variant == 2) {
        heap_purge(h, false);
    }
    snap_t s;
    take_snap(h, &s);
    assert_int_equal(heap_free(h, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(heap_free(h, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    check_heap(h, &s, size);
    free_live(h);
}

// Frees by other threads: remote twice; owner then remote; remote then
// owner; remote, the owner collects the remote frees, remote again.
static void double_free_threads(heap_t *h, size_t size, int variant) {
    void *keep = heap_malloc(h, size);
    live_add(h, keep);
    void *p = heap_malloc(h, size);
    assert_non_null(p);
    assert_int_equal(variant == 1 ? heap_free(h, p) : free_in_thread(h, p), UMF_RESULT_SUCCESS);
    if (variant == 3)
        heap_purge(h, false); // collects the remote bits into the owner's bitmap
    snap_t s;
    take_snap(h, &s);
    umf_result_t r2 = variant == 2 ? heap_free(h, p) : free_in_thread(h, p);
    assert_int_equal(r2, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(heap_free(h, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(free_in_thread(h, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    check_heap(h, &s, size);
    free_live(h);
}

// The owner thread exits: a block it freed, and a block it left live.
static void double_free_orphan(heap_t *h, size_t size) {
    job_t j = in_thread(h, OP_MALLOC_FREE_EXIT, NULL, size);
    assert_int_equal(j.r, UMF_RESULT_SUCCESS);
    snap_t s;
    take_snap(h, &s);
    assert_int_equal(heap_free(h, j.p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(free_in_thread(h, j.p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    check_heap(h, &s, size);

    j = in_thread(h, OP_MALLOC_EXIT, NULL, size);
    assert_int_equal(j.r, UMF_RESULT_SUCCESS);
    assert_int_equal(heap_free(h, j.p), UMF_RESULT_SUCCESS);
    take_snap(h, &s);
    assert_int_equal(heap_free(h, j.p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(free_in_thread(h, j.p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    check_heap(h, &s, size);
    free_live(h);
}

// Interior pointers, by the owner and by another thread; the block stays
// live and is freed once afterwards.
static void interior(heap_t *h, size_t size) {
    char *p = heap_malloc(h, size);
    live_add(h, p);
    size_t us = heap_usable_size(h, p);
    size_t offs[] = {1, 8, 16, us / 2, us - 8};
    snap_t s;
    take_snap(h, &s);
    for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) {
        if (offs[i] == 0 || offs[i] >= us)
            continue;
        assert_int_equal(heap_free(h, p + offs[i]), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(free_in_thread(h, p + offs[i]), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(heap_usable_size(h, p + offs[i]), 0);
    }
    check_heap(h, &s, size);
    assert_int_equal(heap_usable_size(h, p), us);
    free_live(h);
}

// A block of another heap is refused by both paths.
static void foreign(heap_t *h, heap_t *other, size_t size) {
    void *p = heap_malloc(other, size);
    assert_non_null(p);
    snap_t s, so;
    take_snap(h, &s);
    take_snap(other, &so);
    assert_int_equal(heap_free(h, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(free_in_thread(h, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(heap_usable_size(h, p), 0);
    check_heap(h, &s, size);
    snap_t so2;
    take_snap(other, &so2);
    assert_same(&so, &so2);
    assert_true(heap_usable_size(other, p) >= size);
    assert_int_equal(heap_free(other, p), UMF_RESULT_SUCCESS);
}

// realloc and usable_size of a freed block: NULL with INVALID_ARGUMENT, 0.
static void realloc_freed(heap_t *h, size_t size) {
    void *p = heap_malloc(h, size);
    assert_non_null(p);
    assert_int_equal(heap_free(h, p), UMF_RESULT_SUCCESS);
    snap_t s;
    take_snap(h, &s);
    assert_int_equal(heap_usable_size(h, p), 0);
    size_t to[] = {1, size, size + 1, 2 * size};
    for (unsigned i = 0; i < 4; i++) {
        assert_null(heap_realloc(h, p, to[i]));
        assert_int_equal(heap_last_error(), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    }
    assert_null(heap_realloc(h, p, 0)); // realloc to 0 frees: refused as a free
    assert_int_equal(heap_last_error(), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    check_heap(h, &s, size);
}

static void each_size(void (*fn)(heap_t *, size_t, int), int variants) {
    nlive = 0; // a failed test before this one may have left entries
    heap_t *h = make_heap();
    unsigned nc = heap_class_count(h);
    unsigned n = 2 * nc + sizeof big_sizes / sizeof big_sizes[0];
    for (unsigned i = 0; i < n; i++)
        for (int v = 0; v < variants; v++)
            fn(h, nth_size(i, nc), v);
    heap_destroy(h);
}

static void owner_v(heap_t *h, size_t size, int v) { double_free_owner(h, size, v); }
static void threads_v(heap_t *h, size_t size, int v) { double_free_threads(h, size, v); }
static void orphan_v(heap_t *h, size_t size, int v) {
    (void)v;
    double_free_orphan(h, size);
}
static void interior_v(heap_t *h, size_t size, int v) {
    (void)v;
    interior(h, size);
}
static void realloc_v(heap_t *h, size_t size, int v) {
    (void)v;
    realloc_freed(h, size);
}

static void test_double_free_owner(void **state) {
    (void)state;
    each_size(owner_v, 3);
}
static void test_double_free_threads(void **state) {
    (void)state;
    each_size(threads_v, 4);
}
static void test_double_free_orphan(void **state) {
    (void)state;
    each_size(orphan_v, 1);
}
static void test_interior(void **state) {
    (void)state;
    each_size(interior_v, 1);
}
static void test_realloc_usable_freed(void **state) {
    (void)state;
    each_size(realloc_v, 1);
}

static void test_foreign(void **state) {
    (void)state;
    nlive = 0;
    heap_t *h = make_heap(), *other = make_heap();
    unsigned nc = heap_class_count(h);
    for (unsigned i = 0; i < 2 * nc + 3; i++)
        foreign(h, other, nth_size(i, nc));
    heap_destroy(other);
    heap_destroy(h);
}

// A whole word of blocks freed twice in a random order, then a refill:
// the word the bin borrows must not hand a block out twice.
static void test_double_free_batch(void **state) {
    (void)state;
    nlive = 0;
    heap_t *h = make_heap();
    enum { N = 300 };
    void *p[N];
    for (size_t size = 16; size <= 512; size *= 2) {
        for (int i = 0; i < N; i++)
            p[i] = heap_malloc(h, size);
        for (int i = N - 1; i > 0; i--) { // shuffle
            int k = (int)(tp_rand(&seed) % (uint64_t)(i + 1));
            void *t = p[i];
            p[i] = p[k];
            p[k] = t;
        }
        for (int i = 0; i < N; i++)
            assert_int_equal(heap_free(h, p[i]), UMF_RESULT_SUCCESS);
        snap_t s;
        take_snap(h, &s);
        int refused = 0;
        for (int i = 0; i < N; i++)
            refused += heap_free(h, p[(i * 7) % N]) == UMF_RESULT_ERROR_INVALID_ARGUMENT;
        assert_int_equal(refused, N);
        check_heap(h, &s, size);
    }
    heap_destroy(h);
}

// Two threads free the same blocks at the same time (a data race in the
// program): every block is freed exactly once, whichever wins.
enum { RACE_N = 4000 };
typedef struct race_t {
    heap_t *h;
    void **blocks;
    pthread_barrier_t *go;
    int ok; // frees that succeeded
    int bad; // results other than SUCCESS or INVALID_ARGUMENT
} race_t;

static void *race_run(void *arg) {
    race_t *r = arg;
    pthread_barrier_wait(r->go);
    for (int i = 0; i < RACE_N; i++) {
        umf_result_t x = heap_free(r->h, r->blocks[i]);
        r->ok += x == UMF_RESULT_SUCCESS;
        r->bad += x != UMF_RESULT_SUCCESS && x != UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return NULL;
}

static void test_double_free_racing(void **state) {
    (void)state;
    nlive = 0;
    heap_t *h = make_heap();
    static void *blocks[RACE_N];
    for (int round = 0; round < 4; round++) {
        size_t size = 16 << round;
        for (int i = 0; i < RACE_N; i++)
            blocks[i] = heap_malloc(h, size);
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        race_t r[2] = {{h, blocks, &go, 0, 0}, {h, blocks, &go, 0, 0}};
        pthread_t t[2];
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_create(&t[k], NULL, race_run, &r[k]), 0);
        for (int k = 0; k < 2; k++)
            assert_int_equal(pthread_join(t[k], NULL), 0);
        pthread_barrier_destroy(&go);
        assert_int_equal(r[0].bad + r[1].bad, 0);
        assert_int_equal(r[0].ok + r[1].ok, RACE_N);
        heap_class_stats_t cs;
        heap_class_stats(h, heap_size_class(size), &cs);
        assert_int_equal(cs.allocs - cs.frees, 0);
        snap_t s;
        take_snap(h, &s);
        check_heap(h, &s, size);
    }
    heap_destroy(h);
}

// ---- through the pools and umfFree -----------------------------------------------------

static void pool_misuse(umf_memory_pool_ops_t *ops) {
    umf_memory_pool_handle_t pool, other;
    assert_int_equal(umfPoolCreate(ops, PROV, NULL, 0, &pool), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolCreate(ops, PROV, NULL, 0, &other), UMF_RESULT_SUCCESS);
    size_t sizes[] = {8, 64, 4096, 40000};
    for (unsigned i = 0; i < 4; i++) {
        char *p = umfPoolMalloc(pool, sizes[i]);
        char *q = umfPoolMalloc(other, sizes[i]);
        assert_non_null(p);
        assert_non_null(q);
        assert_int_equal(umfPoolFree(pool, p + 8), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfFree(p + 8), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(pool, q), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfFree(p), UMF_RESULT_SUCCESS);
        assert_int_equal(umfFree(p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolFree(pool, p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
        assert_int_equal(umfPoolMallocUsableSize(pool, p), 0);
        void *a = umfPoolMalloc(pool, sizes[i]), *b = umfPoolMalloc(pool, sizes[i]);
        assert_ptr_not_equal(a, b);
        assert_int_equal(umfPoolFree(pool, a), UMF_RESULT_SUCCESS);
        assert_int_equal(umfPoolFree(pool, b), UMF_RESULT_SUCCESS);
        assert_int_equal(umfPoolFree(other, q), UMF_RESULT_SUCCESS);
    }
    umfPoolDestroy(other);
    umfPoolDestroy(pool);
}

static void test_pools(void **state) {
    (void)state;
    pool_misuse(umfScalablePoolOps());
    pool_misuse(umfDisjointPoolOps());
    // A copy of an engine table declares no capability (pool_caps_t): its
    // pools take the generic path through the glue, with the same refusals.
    static umf_memory_pool_ops_t copy;
    copy = *umfScalablePoolOps();
    pool_misuse(&copy);
    copy = *umfDisjointPoolOps();
    pool_misuse(&copy);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_double_free_owner),
        cmocka_unit_test(test_double_free_threads),
        cmocka_unit_test(test_double_free_orphan),
        cmocka_unit_test(test_double_free_batch),
        cmocka_unit_test(test_double_free_racing),
        cmocka_unit_test(test_interior),
        cmocka_unit_test(test_foreign),
        cmocka_unit_test(test_realloc_usable_freed),
        cmocka_unit_test(test_pools),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
