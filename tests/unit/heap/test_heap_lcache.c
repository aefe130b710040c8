// SPDX-License-Identifier: MIT
// The per-thread cache of freed large extents (heap_lcache.c): a free and
// the next allocation of a like size take no lock (checked with the heap
// lock held by another thread), statistics stay exact with extents in the
// cache, a second free of a cached extent is refused, overflow evicts,
// decay, heap_purge and thread exit give the extents back to the page heap,
// and a heap destroyed with cached extents returns everything.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "heap/heap_priv.h"
#include "test_heap_util.h"

static tp_t tp;
static umf_memory_provider_handle_t os_prov, prov;
static heap_config_t cfg;

static int setup(void **state) {
    (void)state;
    memset(&tp, 0, sizeof tp);
    os_prov = tp_os();
    prov = tp_create(&tp, os_prov);
    heap_config_default(&cfg);
    cfg.decay_ms = 100000; // no decay pass during a test unless it asks
    return os_prov && prov ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    long live = (long)atomic_load(&tp.live_bytes);
    umfMemoryProviderDestroy(prov);
    umfMemoryProviderDestroy(os_prov);
    if (live) {
        fprintf(stderr, "%ld bytes not returned to the provider\n", live);
        return -1;
    }
    return 0;
}

static heap_t *make(void) {
    heap_t *h = NULL;
    assert_int_equal(heap_create(prov, &cfg, &h), UMF_RESULT_SUCCESS);
    return h;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static uint64_t lc_allocs(heap_t *h) { return atomic_load(&heap_local_find(h)->lcache.allocs); }

// ---- no lock on a hit ------------------------------------------------------------------------

typedef struct hit_t {
    heap_t *h;
    void *p;
    atomic_int done;
    uint64_t hits;
} hit_t;

static void *hit_worker(void *arg) {
    hit_t *w = arg;
    for (int i = 0; i < 100; i++) { // free to the cache, allocate from it
        assert_int_equal(heap_free(w->h, w->p), UMF_RESULT_SUCCESS);
        w->p = heap_malloc(w->h, (size_t)300 << 10);
    }
    w->hits = lc_allocs(w->h);
    atomic_store(&w->done, 1);
    return NULL;
}

static void *warm_worker(void *arg) {
    hit_t *w = arg;
    w->p = heap_malloc(w->h, (size_t)300 << 10); // makes the local, ticks once
    void *q = heap_malloc(w->h, (size_t)300 << 10);
    heap_free(w->h, q);
    atomic_store(&w->done, 1);
    while (atomic_load(&w->done) != 2) // wait for the main thread to take the lock
        sleep_ms(1);
    return hit_worker(arg);
}

static void hit_without_lock(void **state) {
    (void)state;
    heap_t *h = make();
    hit_t w = {.h = h};
    pthread_t t;
    pthread_create(&t, NULL, warm_worker, &w);
    while (atomic_load(&w.done) != 1)
        sleep_ms(1);
    lock_acquire(&h->lock); // every locked path of the worker would wait now
    atomic_store(&w.done, 2);
    for (int i = 0; i < 5000 && atomic_load(&w.done) != 1; i++)
        sleep_ms(1);
    int finished = atomic_load(&w.done) == 1;
    lock_release(&h->lock);
    pthread_join(t, NULL);
    assert_true(finished); // 100 frees and 100 allocations with the lock held elsewhere
    assert_true(w.hits >= 100);
    heap_large_stats_t ls;
    heap_large_stats(h, &ls);
    assert_int_equal(ls.allocs, 102);
    assert_int_equal(ls.frees, 101);
    heap_free(h, w.p);
    heap_destroy(h);
}

// ---- statistics, double free, overflow -------------------------------------------------------

static void stats_stay_exact(void **state) {
    (void)state;
    heap_t *h = make();
    void *v[40];
    size_t live = 0;
    for (int i = 0; i < 40; i++) {
        size_t sz = ((size_t)40 << 10) + (size_t)i * 24576; // 40 KiB .. ~1 MiB
        v[i] = heap_malloc(h, sz);
        assert_non_null(v[i]);
        memset(v[i], i, sz);
        live += heap_usable_size(h, v[i]);
    }
    for (int i = 0; i < 40; i += 2) {
        live -= heap_usable_size(h, v[i]);
        assert_int_equal(heap_free(h, v[i]), UMF_RESULT_SUCCESS);
    }
    heap_local_t *tl = heap_local_find(h);
    assert_true(tl->lcache.n > 0);
    assert_true(tl->lcache.n <= HEAP_LCACHE_N);
    assert_true(atomic_load(&tl->lcache.bytes) <= HEAP_LCACHE_MAX_BYTES);
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.allocated, live);
    assert_int_equal(st.active, live); // only large blocks: their extents
    assert_true(st.cached >= atomic_load(&tl->lcache.bytes));
    assert_int_equal(st.active + st.cached, st.resident);
    heap_large_stats_t ls;
    heap_large_stats(h, &ls);
    assert_int_equal(ls.allocs, 40);
    assert_int_equal(ls.frees, 20);
    // A second free of a cached extent is refused (nothing changes).
    void *last = tl->lcache.span[tl->lcache.n - 1] ? (void *)tl->lcache.span[tl->lcache.n - 1]->base
                                                    : NULL;
    assert_int_equal(heap_free(h, last), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    heap_stats(h, &st);
    assert_int_equal(st.allocated, live);
    // Allocations of like sizes come from the cache; stats follow.
    uint64_t hits0 = lc_allocs(h);
    for (int i = 0; i < 40; i += 2) {
        v[i] = heap_malloc(h, ((size_t)40 << 10) + (size_t)i * 24576);
        live += heap_usable_size(h, v[i]);
    }
    assert_true(lc_allocs(h) > hits0);
    heap_stats(h, &st);
    assert_int_equal(st.allocated, live);
    assert_int_equal(st.active, live);
    assert_int_equal(st.active + st.cached, st.resident);
    for (int i = 0; i < 40; i++)
        heap_free(h, v[i]);
    heap_stats(h, &st);
    assert_int_equal(st.allocated, 0);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.cached, st.resident);
    heap_large_stats(h, &ls);
    assert_int_equal(ls.allocs, 60);
    assert_int_equal(ls.frees, 60);
    heap_destroy(h); // with extents still cached
}

// calloc from the cache gets zeroes; aligned allocations get their alignment.
static void calloc_and_aligned_hits(void **state) {
    (void)state;
    heap_t *h = make();
    unsigned char *p = heap_malloc(h, (size_t)200 << 10);
    memset(p, 0xab, (size_t)200 << 10);
    heap_free(h, p);
    uint64_t hits0 = lc_allocs(h);
    unsigned char *z = heap_calloc(h, 1, (size_t)200 << 10);
    assert_ptr_equal(z, p); // the cached extent
    assert_int_equal(lc_allocs(h), hits0 + 1);
    for (size_t i = 0; i < ((size_t)200 << 10); i++)
        if (z[i])
            fail_msg("byte %zu is %u", i, z[i]);
    heap_free(h, z);
    for (size_t a = (size_t)8 << 10; a <= ((size_t)1 << 20); a *= 2) {
        void *q = heap_aligned_malloc(h, (size_t)200 << 10, a);
        assert_non_null(q);
        assert_int_equal((uintptr_t)q % a, 0);
        heap_free(h, q);
    }
    heap_destroy(h);
}

// ---- giving extents back ---------------------------------------------------------------------

static void purge_returns_cached(void **state) {
    (void)state;
    heap_t *h = make();
    void *v[8];
    for (int i = 0; i < 8; i++)
        v[i] = heap_malloc(h, (size_t)256 << 10);
    for (int i = 0; i < 8; i++)
        heap_free(h, v[i]);
    assert_int_equal(heap_local_find(h)->lcache.n, 8);
    heap_purge(h, true);
    assert_int_equal(heap_local_find(h)->lcache.n, 0);
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.resident, 0);
    assert_int_equal(st.cached, 0);
    heap_destroy(h);
}

static void decay_flushes(void **state) {
    (void)state;
    cfg.decay_ms = 30;
    heap_t *h = make();
    void *a = heap_malloc(h, (size_t)256 << 10), *b = heap_malloc(h, (size_t)512 << 10);
    heap_free(h, a);
    assert_int_equal(heap_local_find(h)->lcache.n, 1);
    sleep_ms(100);
    void *c = heap_malloc(h, (size_t)900 << 10); // a miss; the look at the cache
    assert_int_equal(heap_local_find(h)->lcache.n, 0); // a was idle past the decay
    heap_free(h, b);
    heap_free(h, c);
    heap_purge(h, false);
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.resident, 0);
    heap_destroy(h);
}

static void *free_and_exit(void *arg) {
    heap_t *h = arg;
    void *v[6];
    for (int i = 0; i < 6; i++)
        v[i] = heap_malloc(h, (size_t)(100 + 50 * i) << 10);
    for (int i = 0; i < 6; i++)
        heap_free(h, v[i]);
    return (void *)(uintptr_t)heap_local_find(h)->lcache.n;
}

static void thread_exit_flushes(void **state) {
    (void)state;
    heap_t *h = make();
    pthread_t t;
    void *n;
    pthread_create(&t, NULL, free_and_exit, h);
    pthread_join(t, &n);
    assert_int_equal((uintptr_t)n, 6); // cached while the thread lived
    lock_acquire(&h->lock);
    assert_non_null(h->orphans);
    assert_int_equal(h->orphans->lcache.n, 0); // flushed at exit
    assert_int_equal(atomic_load(&h->orphans->lcache.bytes), 0);
    lock_release(&h->lock);
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.allocated, 0);
    assert_int_equal(st.active, 0);
    assert_int_equal(st.cached, st.resident);
    heap_purge(h, false); // this thread has no local; the page heap has it all
    heap_stats(h, &st);
    assert_int_equal(st.resident, 0);
    heap_destroy(h);
}

// Frees by a thread that has no local in the heap (it never allocated
// there) take the locked path; the counts stay exact either way.
static void *cross_free(void *arg) {
    void **a = arg;
    heap_t *h = a[0];
    long bad = 0; // returned to the main thread, which asserts
    for (int i = 1; i < 9; i++)
        bad += heap_free(h, a[i]) != UMF_RESULT_SUCCESS;
    return (void *)bad;
}

static void cross_thread_frees(void **state) {
    (void)state;
    heap_t *h = make();
    void *a[9] = {h};
    for (int i = 1; i < 9; i++)
        a[i] = heap_malloc(h, (size_t)128 << 10);
    pthread_t t;
    void *bad = (void *)1;
    assert_int_equal(pthread_create(&t, NULL, cross_free, a), 0);
    assert_int_equal(pthread_join(t, &bad), 0);
    assert_null(bad); // every heap_free on the other thread succeeded
    heap_stats_t st;
    heap_stats(h, &st);
    assert_int_equal(st.allocated, 0);
    assert_int_equal(st.active, 0);
    heap_large_stats_t ls;
    heap_large_stats(h, &ls);
    assert_int_equal(ls.allocs, 8);
    assert_int_equal(ls.frees, 8);
    heap_purge(h, true);
    heap_stats(h, &st);
    assert_int_equal(st.resident, 0);
    heap_destroy(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hit_without_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_stay_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(calloc_and_aligned_hits, setup, teardown),
        cmocka_unit_test_setup_teardown(purge_returns_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(decay_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(thread_exit_flushes, setup, teardown),
        cmocka_unit_test_setup_teardown(cross_thread_frees, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
