// SPDX-License-Identifier: MIT
// The heap engine through its own interface (heap.h) and a few internals:
// small/large/direct blocks and statistics, remote-free collection, thread
// exit and orphan adoption, large extents (split, merge, realloc in place),
// decay and purge (time, retained bytes, keep-all), shared limits, a
// provider that ignores alignment, invalid frees, the page map, many heaps
// per thread, unpooled blocks (and a provider whose free fails), a tiny
// granularity, and the disjoint pool's trace.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umf/memory_pool.h>
#include <umf/pools/pool_disjoint.h>

#include "heap/heap_priv.h"
#include "test_heap_util.h"

typedef struct fx_t {
    tp_t tp;
    umf_memory_provider_handle_t os, prov;
    heap_t *h;
    heap_config_t cfg;
} fx_t;

static fx_t F;

static heap_t *make(heap_config_t *cfg) {
    heap_t *h = NULL;
    assert_int_equal(heap_create(F.prov, cfg, &h), UMF_RESULT_SUCCESS);
    return h;
}

static int setup(void **state) {
    memset(&F, 0, sizeof F);
    F.os = tp_os();
    F.prov = tp_create(&F.tp, F.os);
    heap_config_default(&F.cfg);
    *state = &F;
    return F.os && F.prov ? 0 : -1;
}

// Every test destroys its heaps; the provider must have everything back.
static int teardown(void **state) {
    (void)state;
    long live = (long)atomic_load(&F.tp.live_bytes);
    umfMemoryProviderDestroy(F.prov);
    umfMemoryProviderDestroy(F.os);
    if (live) {
        fprintf(stderr, "%ld bytes not returned to the provider\n", live);
        return -1;
    }
    return 0;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

// ---- basics and statistics ----------------------------------------------------------------

static void blocks_and_stats(void **state) {
    (void)state;
    F.cfg.max_pooled_size = (size_t)4 << 20;
    heap_t *h = make(&F.cfg);
    const size_t sizes[] = {0, 1, 8, 9, 100, 1024, 1025, 5000, 32768, 32769, 100000,
                            (size_t)1 << 20, (size_t)4 << 20, ((size_t)4 << 20) + 1,
                            (size_t)9 << 20};
    enum { N = sizeof sizes / sizeof sizes[0] };
    void *p[N];
    size_t sum = 0;
    for (int i = 0; i < N; i++) {
        p[i] = heap_malloc(h, sizes[i]);
        assert_non_null(p[i]);
        size_t u = heap_usable_size(h, p[i]);
        assert_true(u >= sizes[i]);
        sum += u;
        memset(p[i], 0x5a, sizes[i]);
    }
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.allocated, sum);
    assert_true(st.active >= st.allocated);
    assert_true(st.resident >= st.active);
    assert_int_equal(st.resident, atomic_load(&F.tp.live_bytes));
    heap_large_stats_t ls;
    heap_large_stats(h, &ls);
    assert_int_equal(ls.direct_allocs, 2); // above max_pooled
    for (int i = 0; i < N; i++)
        assert_int_equal(heap_free(h, p[i]), UMF_RESULT_SUCCESS);
    heap_stats(h, &st);
    assert_int_equal(st.allocated, 0);
    heap_class_stats_t cs;
    heap_class_stats(h, heap_size_class(100), &cs);
    assert_int_equal(cs.allocs, 1);
    assert_int_equal(cs.frees, 1);
    assert_int_equal(cs.block_size, 112);
    assert_true(cs.peak_slabs >= 1);
    // unique pointers for size 0
    void *a = heap_malloc(h, 0), *b = heap_malloc(h, 0);
    assert_true(a && b && a != b);
    heap_free(h, a);
    heap_free(h, b);
    heap_destroy(h);
}

static void aligned_and_calloc(void **state) {
    (void)state;
    heap_t *h = make(&F.cfg);
    for (size_t a = 1; a <= ((size_t)4 << 20); a *= 2) {
        for (size_t s = 1; s < ((size_t)1 << 23); s = s * 5 + 3) {
            void *p = heap_aligned_malloc(h, s, a);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % a, 0);
            assert_true(heap_usable_size(h, p) >= s);
            heap_free(h, p);
        }
    }
    assert_null(heap_aligned_malloc(h, 10, 24));
    assert_int_equal(heap_last_error(), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    for (size_t s = 1; s < ((size_t)4 << 20); s = s * 3 + 1) {
        unsigned char *d = heap_malloc(h, s);
        memset(d, 0xff, s);
        heap_free(h, d);
        unsigned char *z = heap_calloc(h, 1, s);
        for (size_t i = 0; i < s; i++)
            if (z[i])
                fail_msg("calloc(%zu) byte %zu is %u", s, i, z[i]);
        heap_free(h, z);
    }
    assert_null(heap_calloc(h, SIZE_MAX / 2, 3));
    assert_int_equal(heap_last_error(), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    heap_destroy(h);
}

// ---- remote frees and thread exit ----------------------------------------------------------

typedef struct rf_t {
    heap_t *h;
    void *v[4000];
    pthread_mutex_t m;
    pthread_cond_t c;
    int phase;
    size_t slabs_before, slabs_after;
} rf_t;

static void rf_wait(rf_t *r, int phase) {
    pthread_mutex_lock(&r->m);
    while (r->phase < phase)
        pthread_cond_wait(&r->c, &r->m);
    pthread_mutex_unlock(&r->m);
}

static void rf_set(rf_t *r, int phase) {
    pthread_mutex_lock(&r->m);
    r->phase = phase;
    pthread_cond_broadcast(&r->c);
    pthread_mutex_unlock(&r->m);
}

static void *rf_owner(void *arg) {
    rf_t *r = arg;
    for (int i = 0; i < 4000; i++)
        r->v[i] = heap_malloc(r->h, 64);
    heap_class_stats_t cs;
    heap_class_stats(r->h, heap_size_class(64), &cs);
    r->slabs_before = cs.slabs;
    rf_set(r, 1);
    rf_wait(r, 2); // the main thread freed them all, remotely
    for (int i = 0; i < 4000; i++)
        r->v[i] = heap_malloc(r->h, 64);
    heap_class_stats(r->h, heap_size_class(64), &cs);
    r->slabs_after = cs.slabs;
    for (int i = 0; i < 4000; i++)
        heap_free(r->h, r->v[i]);
    return NULL;
}

static void remote_free_collection(void **state) {
    (void)state;
    static rf_t r;
    memset(&r, 0, sizeof r);
    pthread_mutex_init(&r.m, NULL);
    pthread_cond_init(&r.c, NULL);
    r.h = make(&F.cfg);
    pthread_t t;
    pthread_create(&t, NULL, rf_owner, &r);
    rf_wait(&r, 1);
    for (int i = 0; i < 4000; i++) // remote: this thread owns none of them
        assert_int_equal(heap_free(r.h, r.v[i]), UMF_RESULT_SUCCESS);
    heap_stats_t st;
    heap_stats(r.h, &st);
    assert_int_equal(st.allocated, 0); // counted at once, before collection
    rf_set(&r, 2);
    pthread_join(t, NULL);
    // The owner got its blocks back through the remote channel: no new slab.
    assert_true(r.slabs_before > 0);
    assert_int_equal(r.slabs_after, r.slabs_before);
    heap_destroy(r.h);
}

static void *alloc_and_exit(void *arg) {
    rf_t *r = arg;
    for (int i = 0; i < 4000; i++)
        r->v[i] = heap_malloc(r->h, 16 + (size_t)(i % 40) * 16);
    return NULL;
}

static size_t count_locals(heap_t *h) {
    size_t n = 0;
    lock_acquire(&h->lock);
    for (heap_local_t *tl = h->locals; tl; tl = tl->next_all)
        n++;
    lock_release(&h->lock);
    return n;
}

static void thread_exit_orphans(void **state) {
    (void)state;
    static rf_t r;
    memset(&r, 0, sizeof r);
    F.cfg.decay_ms = 0;
    r.h = make(&F.cfg);
    pthread_t t;
    pthread_create(&t, NULL, alloc_and_exit, &r);
    pthread_join(t, NULL); // its local is an orphan now, its blocks live
    assert_int_equal(count_locals(r.h), 1);
    for (int i = 0; i < 4000; i++)
        assert_int_equal(heap_free(r.h, r.v[i]), UMF_RESULT_SUCCESS);
    heap_purge(r.h, false); // collects the orphan's remote frees, frees its slabs
    heap_stats_t st;
    heap_stats(r.h, &st);
    assert_int_equal(st.allocated, 0);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.resident, 0); // every chunk went back
    for (unsigned c = 0; c < heap_class_count(r.h); c++) {
        heap_class_stats_t cs;
        heap_class_stats(r.h, c, &cs);
        assert_int_equal(cs.slabs, 0);
    }
    // Threads that come later adopt the orphan instead of making locals.
    for (int k = 0; k < 3; k++) {
        pthread_create(&t, NULL, alloc_and_exit, &r);
        pthread_join(t, NULL);
        for (int i = 0; i < 4000; i++)
            heap_free(r.h, r.v[i]);
    }
    assert_int_equal(count_locals(r.h), 1);
    heap_destroy(r.h);
}

// ---- large extents --------------------------------------------------------------------------

static void large_split_merge_realloc(void **state) {
    (void)state;
    F.cfg.chunk_size = (size_t)4 << 20;
    heap_t *h = make(&F.cfg);
    const size_t K = 256 << 10;
    char *a = heap_malloc(h, K), *b = heap_malloc(h, K), *c = heap_malloc(h, K);
    assert_ptr_equal(b, a + K); // carved one after another from one chunk
    assert_ptr_equal(c, b + K);
    memset(a, 1, K);
    heap_free(h, b);
    char *a2 = heap_realloc(h, a, 2 * K); // grows into b's pages
    assert_ptr_equal(a2, a);
    assert_int_equal(heap_usable_size(h, a), 2 * K);
    assert_int_equal(a[K - 1], 1);
    a2 = heap_realloc(h, a, 100 << 10); // shrinks in place, the tail is freed
    assert_ptr_equal(a2, a);
    assert_int_equal(heap_usable_size(h, a), 100 << 10);
    char *d = heap_malloc(h, K); // reuses the freed tail (b's old place)
    assert_true(d >= a + (100 << 10) && d < c);
    heap_free(h, d);
    a2 = heap_realloc(h, a, 3 * K); // cannot grow into c: moves
    assert_ptr_not_equal(a2, a);
    assert_int_equal(a2[0], 1);
    heap_free(h, a2);
    heap_free(h, c);
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.cached, st.resident); // all merged back, cached
    heap_purge(h, true);
    heap_stats(h, &st);
    assert_int_equal(st.resident, 0);
    heap_destroy(h);
}

// ---- decay --------------------------------------------------------------------------------------

static void decay_by_time(void **state) {
    (void)state;
    F.cfg.decay_ms = 30;
    heap_t *h = make(&F.cfg);
    void *big = heap_malloc(h, (size_t)4 << 20);
    void *x = heap_malloc(h, (size_t)1 << 20);
    void *y = heap_malloc(h, (size_t)512 << 10); // same chunk as x
    heap_free(h, big);                         // its chunk is idle now
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.provider_frees, 0); // cached, not returned at once
    long purges0 = atomic_load(&F.tp.purges);
    sleep_ms(100);
    heap_free(h, x); // a slow path: the decay looks at the idle chunk
    heap_stats(h, &st);
    assert_int_equal(st.provider_frees, 1);
    assert_int_equal(st.resident, (size_t)2 << 20);
    sleep_ms(100);
    void *z = heap_malloc(h, (size_t)300 << 10); // slow path again: x's pages purge
    heap_stats(h, &st);
    assert_true(atomic_load(&F.tp.purges) > purges0);
    assert_true(st.purged > 0);
    heap_free(h, z);
    heap_free(h, y);
    heap_purge(h, false);
    heap_stats(h, &st);
    assert_int_equal(st.resident, 0);
    heap_destroy(h);
}

static void decay_by_retained_bytes(void **state) {
    (void)state;
    F.cfg.retain_max = 0; // nothing kept: idle chunks go back at once
    heap_t *h = make(&F.cfg);
    void *p = heap_malloc(h, (size_t)8 << 20);
    heap_free(h, p);
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.resident, 0);
    assert_int_equal(st.provider_frees, 1);
    heap_destroy(h);
}

static void keep_all_memory(void **state) {
    (void)state;
    F.cfg.keep_all_memory = true;
    F.cfg.decay_ms = 0;
    F.cfg.retain_max = 0;
    heap_t *h = make(&F.cfg);
    for (int i = 0; i < 20; i++) {
        void *p = heap_malloc(h, (size_t)(i + 1) << 20);
        void *q = heap_malloc(h, 100);
        heap_free(h, p);
        heap_free(h, q);
    }
    heap_purge(h, true);
    assert_int_equal(atomic_load(&F.tp.frees), 0); // nothing before destroy
    heap_destroy(h);
    assert_true(atomic_load(&F.tp.frees) > 0);
}

// ---- limits and odd providers ----------------------------------------------------------------

static void shared_limit(void **state) {
    (void)state;
    heap_limit_t *l = heap_limit_create((size_t)6 << 20);
    F.cfg.limit = l;
    F.cfg.retain_max = 0;
    heap_t *a = make(&F.cfg), *b = make(&F.cfg);
    void *va[64], *vb[64];
    int na = 0, nb = 0;
    while (na < 64 && (va[na] = heap_malloc(a, (size_t)1 << 20)) != NULL)
        na++;
    assert_int_equal(heap_last_error(), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    while (nb < 64 && (vb[nb] = heap_malloc(b, 100000)) != NULL)
        nb++;
    assert_true(na > 0 && na < 64 && nb < 64);
    assert_true(heap_limit_used(l) <= ((size_t)6 << 20));
    assert_true(atomic_load(&F.tp.live_bytes) <= ((size_t)6 << 20));
    for (int i = 0; i < na; i++)
        heap_free(a, va[i]);
    void *x = heap_malloc(b, 100000); // what a gave back, b may use
    assert_non_null(x);
    heap_free(b, x);
    for (int i = 0; i < nb; i++)
        heap_free(b, vb[i]);
    heap_destroy(a);
    heap_destroy(b);
    assert_int_equal(heap_limit_used(l), 0);
    heap_limit_destroy(l);
}

static void misaligned_provider(void **state) {
    (void)state;
    tp_t mt;
    umf_memory_provider_handle_t mp = tp_create(&mt, NULL); // malloc, ignores alignment
    heap_t *h = NULL;
    F.cfg.max_pooled_size = (size_t)1 << 20;
    assert_int_equal(heap_create(mp, &F.cfg, &h), UMF_RESULT_SUCCESS);
    void *v[200];
    for (int i = 0; i < 200; i++) {
        size_t s = 1 + (size_t)(i * 7919) % 3000000;
        v[i] = i % 3 ? heap_malloc(h, s) : heap_aligned_malloc(h, s, (size_t)64 << (i % 10));
        assert_non_null(v[i]);
        assert_true(heap_usable_size(h, v[i]) >= s);
        memset(v[i], i, s < 4096 ? s : 4096);
    }
    for (int i = 0; i < 200; i++)
        assert_int_equal(heap_free(h, v[i]), UMF_RESULT_SUCCESS);
    heap_destroy(h);
    assert_int_equal(atomic_load(&mt.live_bytes), 0);
    umfMemoryProviderDestroy(mp);
}

static void invalid_frees(void **state) {
    (void)state;
    heap_t *h = make(&F.cfg), *g = make(&F.cfg);
    int local;
    assert_int_equal(heap_free(h, &local), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(heap_usable_size(h, &local), 0);
    char *big = heap_malloc(h, 300000);
    assert_int_equal(heap_free(h, big + 4096), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(heap_free(g, big), UMF_RESULT_ERROR_INVALID_ARGUMENT); // not g's
    char *small = heap_malloc(h, 40);
    assert_int_equal(heap_free(g, small), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(heap_usable_size(g, small), 0);
    assert_null(heap_realloc(g, small, 100));
    assert_int_equal(heap_last_error(), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(heap_free(h, big), UMF_RESULT_SUCCESS);
    assert_int_equal(heap_free(h, big), UMF_RESULT_ERROR_INVALID_ARGUMENT); // double
    assert_int_equal(heap_free(h, small), UMF_RESULT_SUCCESS);
    assert_int_equal(heap_free(h, NULL), UMF_RESULT_SUCCESS);
    heap_destroy(h);
    heap_destroy(g);
}

static void pagemap(void **state) {
    (void)state;
    static heap_span_t s1, s2;
    uintptr_t base = (uintptr_t)0x7e0000000000ull; // synthetic: nothing is touched
    assert_true(heap_pagemap_set(base, 3, &s1));
    assert_ptr_equal(heap_pagemap_get(base), &s1);
    assert_ptr_equal(heap_pagemap_get(base + 3 * HEAP_PAGE - 1), &s1);
    assert_null(heap_pagemap_get(base + 3 * HEAP_PAGE));
    assert_null(heap_pagemap_get(base - 1));
    // across a leaf boundary (1 GiB)
    uintptr_t edge = (uintptr_t)0x7f0000000000ull - 2 * HEAP_PAGE;
    assert_true(heap_pagemap_set(edge, 4, &s2));
    assert_ptr_equal(heap_pagemap_get(edge + 3 * HEAP_PAGE), &s2);
    assert_true(heap_pagemap_set(edge, 4, NULL));
    assert_true(heap_pagemap_set(base, 3, NULL));
    assert_null(heap_pagemap_get(base));
    assert_null(heap_pagemap_get(edge + HEAP_PAGE));
    assert_false(heap_pagemap_set((uintptr_t)1 << 50, 1, &s1)); // beyond 48 bits
    assert_null(heap_pagemap_get((uintptr_t)1 << 50));
}

static void many_heaps_one_thread(void **state) {
    (void)state;
    enum { N = 100 };
    heap_t *h[N];
    void *p[N];
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            h[i] = make(&F.cfg);
            p[i] = heap_malloc(h[i], 24); // slot arrays grow past 16, 32, 64 ids
            assert_non_null(p[i]);
        }
        for (int i = 0; i < N; i++) {
            void *q = heap_malloc(h[i], 24);
            assert_int_equal(heap_free(h[i], q), UMF_RESULT_SUCCESS);
            assert_int_equal(heap_free(h[i], p[i]), UMF_RESULT_SUCCESS); // still local
        }
        for (int i = 0; i < N; i += 2) // destroy some: their ids are reused next round
            heap_destroy(h[i]);
        for (int i = 1; i < N; i += 2)
            heap_destroy(h[i]);
    }
}

// ---- unpooled blocks and small granularity -------------------------------------------------

static void direct_only(void **state) {
    (void)state;
    F.cfg.max_pooled_size = 0; // the disjoint pool's MaxPoolableSize 0: nothing pooled
    heap_t *h = make(&F.cfg);
    char *p = heap_malloc(h, 1024);
    assert_non_null(p);
    assert_int_equal(heap_usable_size(h, p), 4096);
    assert_ptr_equal(heap_realloc(h, p, 4000), p); // fits its page
    char *q = heap_realloc(h, p, 10000);           // moves to a new provider block
    assert_non_null(q);
    heap_large_stats_t ls;
    heap_large_stats(h, &ls);
    assert_int_equal(ls.direct_allocs, 2);
    assert_int_equal(ls.direct_frees, 1);
    // A provider free that fails: the error reaches the caller and the
    // block stays valid, so freeing it again works (UMF behaviour).
    atomic_store(&F.tp.fail_frees, 1);
    assert_int_equal(heap_free(h, q), UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    assert_int_equal(heap_usable_size(h, q), 12288);
    assert_int_equal(heap_free(h, q), UMF_RESULT_SUCCESS);
    assert_int_equal(atomic_load(&F.tp.live_bytes), 0); // nothing cached
    heap_destroy(h);
}

static void small_granularity(void **state) {
    (void)state;
    F.cfg.chunk_size = 4096; // smaller than any slab: chunks are what is needed
    heap_t *h = make(&F.cfg);
    void *v[300];
    for (int i = 0; i < 300; i++) {
        v[i] = heap_malloc(h, 1 + (size_t)(i * 4099) % 200000);
        assert_non_null(v[i]);
    }
    for (int i = 0; i < 300; i++)
        heap_free(h, v[i]);
    heap_destroy(h);
}

// ---- the disjoint pool's trace ------------------------------------------------------------------

static void disjoint_trace(void **state) {
    (void)state;
    umf_disjoint_pool_params_handle_t dp;
    assert_int_equal(umfDisjointPoolParamsCreate(&dp), UMF_RESULT_SUCCESS);
    assert_int_equal(umfDisjointPoolParamsSetTrace(dp, 2), UMF_RESULT_SUCCESS);
    assert_int_equal(umfDisjointPoolParamsSetName(dp, "tracetest"), UMF_RESULT_SUCCESS);
    assert_int_equal(umfDisjointPoolParamsSetMinBucketSize(dp, 3),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfDisjointPoolParamsSetMinBucketSize(NULL, 8),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfPoolCreate(umfDisjointPoolOps(), F.prov, dp, 0, &pool),
                     UMF_RESULT_SUCCESS);
    for (int i = 0; i < 100; i++)
        umfFree(umfPoolMalloc(pool, 100));
    void *keep = umfPoolMalloc(pool, 5000);
    char path[] = "/tmp/hetmem_trace_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    umfPoolDestroy(pool); // prints the trace
    dup2(saved, 2);
    close(saved);
    char buf[8192] = {0};
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlink(path);
    (void)keep;
    assert_true(n > 0);
    assert_non_null(strstr(buf, "[tracetest] bucket 112 B: allocs 100 frees 100"));
    assert_non_null(strstr(buf, "[tracetest] bucket 5120 B: allocs 1 frees 0"));
    assert_non_null(strstr(buf, "[tracetest] allocs 101 frees 100"));
    umfDisjointPoolParamsDestroy(dp);
}

// A fork child has only the forking thread: the locals of the parent's
// other threads become orphans there (heap_tls.c, fork_child_orphan), since
// the child's new threads may get those threads' thread pointers, which
// the free path takes as the owner's identity (heap_thread_id). The child
// reports through its exit status (cmocka asserts on the main thread only).
typedef struct fork_arg_t {
    heap_t *h;
    void *p;
    pthread_barrier_t ready, done;
} fork_arg_t;

static void *fork_holder(void *arg) {
    fork_arg_t *a = arg;
    a->p = heap_malloc(a->h, 48);
    pthread_barrier_wait(&a->ready);
    pthread_barrier_wait(&a->done);
    return NULL;
}

static int fork_child_check(heap_t *h, void *theirs) {
    int others = 0, mine = 0;
    for (heap_local_t *tl = h->locals; tl; tl = tl->next_all) {
        void *owner = atomic_load(&tl->thread);
        others += owner && owner != heap_thread_id();
        mine += owner == heap_thread_id();
    }
    if (others || mine != 1)
        return 1 + others;
    // The orphan's block frees once (a remote free), and the child allocates.
    if (heap_free(h, theirs) != UMF_RESULT_SUCCESS ||
        heap_free(h, theirs) != UMF_RESULT_ERROR_INVALID_ARGUMENT)
        return 10;
    return heap_malloc(h, 48) ? 0 : 11;
}

static void fork_orphans_other_threads(void **state) {
    (void)state;
    heap_t *h = make(&F.cfg);
    void *mine = heap_malloc(h, 48);
    assert_non_null(mine);
    fork_arg_t a = {.h = h};
    pthread_barrier_init(&a.ready, NULL, 2);
    pthread_barrier_init(&a.done, NULL, 2);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fork_holder, &a), 0);
    pthread_barrier_wait(&a.ready);
    assert_non_null(a.p);
    pid_t pid = fork();
    if (pid == 0)
        _exit(fork_child_check(h, a.p));
    int st = -1;
    pid_t w = pid > 0 ? waitpid(pid, &st, 0) : -1;
    pthread_barrier_wait(&a.done);
    pthread_join(t, NULL);
    assert_int_equal(w, pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(heap_free(h, a.p), UMF_RESULT_SUCCESS);
    assert_int_equal(heap_free(h, mine), UMF_RESULT_SUCCESS);
    heap_destroy(h);
    pthread_barrier_destroy(&a.ready);
    pthread_barrier_destroy(&a.done);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(blocks_and_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(aligned_and_calloc, setup, teardown),
        cmocka_unit_test_setup_teardown(remote_free_collection, setup, teardown),
        cmocka_unit_test_setup_teardown(thread_exit_orphans, setup, teardown),
        cmocka_unit_test_setup_teardown(large_split_merge_realloc, setup, teardown),
        cmocka_unit_test_setup_teardown(decay_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(decay_by_retained_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(keep_all_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(shared_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(misaligned_provider, setup, teardown),
        cmocka_unit_test_setup_teardown(invalid_frees, setup, teardown),
        cmocka_unit_test(pagemap),
        cmocka_unit_test_setup_teardown(many_heaps_one_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(direct_only, setup, teardown),
        cmocka_unit_test_setup_teardown(small_granularity, setup, teardown),
        cmocka_unit_test_setup_teardown(disjoint_trace, setup, teardown),
        cmocka_unit_test_setup_teardown(fork_orphans_other_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
