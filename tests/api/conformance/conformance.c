// SPDX-License-Identifier: MIT
// The pool conformance suite: `pool_conformance POOL PROVIDER` runs every
// check below against one pool (conformance_pools.h) over one provider
// (conformance_providers.c). Each test creates its pool over a counting
// wrapper of the provider, and its teardown proves that destroying the
// pool gave the provider back every byte (no leak, live blocks included).
//
// Behaviour this suite pins down (documented in the pool headers):
//   - malloc(0) returns a unique, freeable pointer for every pool (the
//     engine pools serve the smallest class; the proxy pool allocates one
//     byte from the provider).
//   - realloc(p, 0) frees p and returns NULL; realloc never moves a block
//     it can keep (shrinking never moves), so it never touches memory that
//     it does not have to copy.
//   - With the "protnone" provider nothing may touch the memory: only the
//     checks that do not write or read blocks run (no calloc, no growing
//     realloc, no patterns).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umf/memory_pool.h>
#include <umf/memory_pool_ops.h>
#include <umf/pools/pool_disjoint.h>

#include "conformance.h"
#include "test_seed.h"

enum { CAP_PROXY = 1, CAP_FULL = 2 };
enum { PARAMS_none, PARAMS_disjoint_defaults };

// No weak declarations: every pool of conformance_pools.h and every
// function used here is linked for real, so a missing one fails the build.
#define POOL(name, fn, params, caps) umf_memory_pool_ops_t *fn(void);
#include "conformance_pools.h"
#undef POOL

typedef struct pool_entry_t {
    const char *name;
    umf_memory_pool_ops_t *(*ops)(void);
    int params;
    int caps;
} pool_entry_t;

static const pool_entry_t pools[] = {
#define POOL(name, fn, params, caps) {#name, fn, PARAMS_##params, caps},
#include "conformance_pools.h"
#undef POOL
};

// The instance under test.
static const pool_entry_t *P;
static const char *prov_name;
static umf_memory_provider_handle_t base_provider;
static bool touch;             // the memory may be read and written
static bool full;              // calloc, realloc and usable size are supported

typedef struct fixture_t {
    counting_t count;
    umf_memory_provider_handle_t provider; // the counting wrapper
    umf_memory_pool_handle_t pool;
    void *params;
} fixture_t;

static void *params_create(void) {
    if (P->params == PARAMS_disjoint_defaults) {
        umf_disjoint_pool_params_handle_t h = NULL;
        assert_int_equal(umfDisjointPoolParamsCreate(&h), UMF_RESULT_SUCCESS);
        return h;
    }
    return NULL;
}

static void params_destroy(void *p) {
    if (p && P->params == PARAMS_disjoint_defaults)
        umfDisjointPoolParamsDestroy(p);
}

static umf_result_t pool_create(fixture_t *f, umf_memory_provider_handle_t provider,
                                void *params, umf_memory_pool_handle_t *out) {
    (void)f;
    return umfPoolCreate(P->ops(), provider, params, 0, out);
}

static int setup(void **state) {
    static fixture_t f;
    memset(&f, 0, sizeof f);
    if (counting_create(base_provider, &f.count, &f.provider) != UMF_RESULT_SUCCESS)
        return -1;
    f.params = params_create();
    if (pool_create(&f, f.provider, f.params, &f.pool) != UMF_RESULT_SUCCESS)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state) {
    fixture_t *f = *state;
    umfPoolDestroy(f->pool);
    params_destroy(f->params);
    size_t live = atomic_load(&f->count.live_bytes);
    long ranges = atomic_load(&f->count.live_ranges);
    umfMemoryProviderDestroy(f->provider);
    if (live || ranges) {
        fprintf(stderr, "pool destroy left %zu bytes in %ld ranges with the provider\n", live,
                ranges);
        return -1;
    }
    return 0;
}

// ---- block patterns ------------------------------------------------------------------

// Positions written in a block of n bytes: all of the first 4 KiB, then
// every 4093rd byte (keeps the TSan build fast). They do not depend on n, so a block that shrank can be
// checked against what was written when it was bigger.
#define DENSE_MAX ((size_t)4 << 10)
static size_t next_pos(size_t i) { return i < DENSE_MAX ? i + 1 : i + 4093; }

static void fill(void *p, size_t n, unsigned seed) {
    if (!touch || !p)
        return;
    unsigned char *c = p;
    for (size_t i = 0; i < n; i = next_pos(i))
        c[i] = (unsigned char)(seed + i * 7);
}

// Whether the first n bytes of a block filled with `seed` (when it had at
// least n bytes) are intact; prints the first bad byte. Threads call these
// and count; the main thread asserts (check, check_zero).
static bool same(const void *p, size_t n, unsigned seed) {
    if (!touch || !p)
        return true;
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i = next_pos(i))
        if (c[i] != (unsigned char)(seed + i * 7)) {
            fprintf(stderr, "block %p (%zu bytes, seed %u): byte %zu is %u\n", p, n, seed, i,
                    c[i]);
            return false;
        }
    return true;
}

static bool zeroed(const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i = next_pos(i))
        if (c[i]) {
            fprintf(stderr, "calloc block %p (%zu bytes): byte %zu is %u\n", p, n, i, c[i]);
            return false;
        }
    if (n && c[n - 1]) {
        fprintf(stderr, "calloc block %p (%zu bytes): last byte is %u\n", p, n, c[n - 1]);
        return false;
    }
    return true;
}

#define check(p, n, seed) assert_true(same((p), (n), (seed))) // main thread only
#define check_zero(p, n) assert_true(zeroed((p), (n)))         // main thread only

static void check_block(umf_memory_pool_handle_t pool, void *p, size_t size) {
    assert_non_null(p);
    assert_ptr_equal(umfPoolByPtr(p), pool);
    if (size)
        assert_ptr_equal(umfPoolByPtr((char *)p + size - 1), pool);
    if (full)
        assert_true(umfPoolMallocUsableSize(pool, p) >= size);
}

// ---- single-thread checks ---------------------------------------------------------------

static volatile size_t huge_count = SIZE_MAX / 2; // calloc overflow, hidden from the compiler

static const size_t sizes[] = {
    1,     2,      3,      7,       8,       9,       15,      16,      17,       31,
    32,    33,     48,     63,      64,      65,      100,     127,     128,      129,
    255,   256,    257,    500,     511,     512,     513,     1000,    1023,     1024,
    1025,  2047,   2048,   2049,    4095,    4096,    4097,    8191,    8192,     8193,
    12345, 16384,  32767,  32768,   32769,   65535,   65536,   65537,   100000,   131072,
    262143, 262144, 262145, 1 << 20, (1 << 20) + 1, (2 << 20) - 1, 2 << 20, (2 << 20) + 1,
    (4 << 20) + 1, 16 << 20, 64 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void malloc_sizes(void **state) {
    fixture_t *f = *state;
    void *p[NSIZES];
    for (size_t i = 0; i < NSIZES; i++) {
        p[i] = umfPoolMalloc(f->pool, sizes[i]);
        check_block(f->pool, p[i], sizes[i]);
        fill(p[i], sizes[i], (unsigned)i);
    }
    for (size_t i = 0; i < NSIZES; i++) {
        check(p[i], sizes[i], (unsigned)i);
        // half through the pool, half through the address map
        assert_int_equal(i % 2 ? umfPoolFree(f->pool, p[i]) : umfFree(p[i]), UMF_RESULT_SUCCESS);
    }
    // Many live blocks of one small size, freed in a scrambled order.
    enum { N = 5000 };
    void **v = malloc(N * sizeof *v);
    for (int i = 0; i < N; i++) {
        v[i] = umfPoolMalloc(f->pool, 24);
        check_block(f->pool, v[i], 24);
        fill(v[i], 24, (unsigned)i);
    }
    for (int i = 0; i < N; i++) {
        int k = (i * 7919) % N;
        check(v[k], 24, (unsigned)k);
        assert_int_equal(umfFree(v[k]), UMF_RESULT_SUCCESS);
    }
    free(v);
    assert_int_equal(umfPoolFree(f->pool, NULL), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFree(NULL), UMF_RESULT_SUCCESS);
}

static void zero_size(void **state) {
    fixture_t *f = *state;
    void *a = umfPoolMalloc(f->pool, 0);
    void *b = umfPoolMalloc(f->pool, 0);
    assert_non_null(a); // malloc(0): a unique pointer (see the file header)
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_ptr_equal(umfPoolByPtr(a), f->pool);
    assert_int_equal(umfPoolFree(f->pool, a), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFree(b), UMF_RESULT_SUCCESS);
}

static void aligned(void **state) {
    fixture_t *f = *state;
    for (size_t a = 8; a <= ((size_t)4 << 20); a *= 2) {
        const size_t sz[] = {1, a - 1, a, a + 1, 3 * a};
        void *p[5];
        for (int i = 0; i < 5; i++) {
            p[i] = umfPoolAlignedMalloc(f->pool, sz[i], a);
            check_block(f->pool, p[i], sz[i]);
            if ((uintptr_t)p[i] % a)
                fail_msg("aligned_malloc(%zu, %zu) = %p", sz[i], a, p[i]);
            fill(p[i], sz[i], (unsigned)(a + (size_t)i));
        }
        for (int i = 0; i < 5; i++) {
            check(p[i], sz[i], (unsigned)(a + (size_t)i));
            assert_int_equal(umfFree(p[i]), UMF_RESULT_SUCCESS);
        }
    }
    // Not a power of two: an error the caller can read back.
    assert_null(umfPoolAlignedMalloc(f->pool, 64, 48));
    assert_int_equal(umfPoolGetLastAllocationError(f->pool), UMF_RESULT_ERROR_INVALID_ALIGNMENT);
}

// The proxy pool's documented subset: calloc and realloc answer NULL with
// NOT_SUPPORTED, usable size is 0, and the block passed to realloc stays
// live and untouched.
static void proxy_refuses(umf_memory_pool_handle_t pool) {
    void *p = umfPoolMalloc(pool, 100);
    assert_non_null(p);
    assert_null(umfPoolCalloc(pool, 1, 100));
    assert_int_equal(umfPoolGetLastAllocationError(pool), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_null(umfPoolRealloc(pool, p, 200));
    assert_int_equal(umfPoolGetLastAllocationError(pool), UMF_RESULT_ERROR_NOT_SUPPORTED);
    assert_int_equal(umfPoolMallocUsableSize(pool, p), 0);
    assert_ptr_equal(umfPoolByPtr(p), pool); // still live
    assert_int_equal(umfPoolFree(pool, p), UMF_RESULT_SUCCESS);
}

static void realloc_grow_shrink(void **state) {
    fixture_t *f = *state;
    if (!full) {
        proxy_refuses(f->pool);
        return;
    }
    if (!touch) {
        // Only what must not touch memory: shrinking and same-block growth.
        const size_t s[] = {100, 5000, 100000, 3 << 20};
        for (int i = 0; i < 4; i++) {
            void *p = umfPoolMalloc(f->pool, s[i]);
            assert_non_null(p);
            void *q = umfPoolRealloc(f->pool, p, s[i] / 2);
            assert_ptr_equal(q, p); // shrinking never moves
            assert_true(umfPoolMallocUsableSize(f->pool, q) >= s[i] / 2);
            size_t u = umfPoolMallocUsableSize(f->pool, q);
            assert_ptr_equal(umfPoolRealloc(f->pool, q, u), q); // fits: stays
            assert_null(umfPoolRealloc(f->pool, q, 0));          // frees
        }
        return;
    }
    size_t n = 1;
    char *p = umfPoolRealloc(f->pool, NULL, n); // realloc(NULL) is malloc
    fill(p, n, 7);
    while (n < ((size_t)8 << 20)) {
        size_t m = n * 3 + 5;
        char *q = umfPoolRealloc(f->pool, p, m);
        check_block(f->pool, q, m);
        check(q, n, 7);
        fill(q, m, 7);
        p = q, n = m;
    }
    while (n > 1) {
        size_t m = n / 5 + 1;
        char *q = umfPoolRealloc(f->pool, p, m);
        assert_ptr_equal(q, p); // shrinking never moves
        check_block(f->pool, q, m);
        check(q, m, 7);
        p = q, n = m;
    }
    assert_null(umfPoolRealloc(f->pool, p, 0));
}

static void calloc_zeroes(void **state) {
    fixture_t *f = *state;
    if (!full) {
        proxy_refuses(f->pool);
        return;
    }
    if (!touch) { // protnone: calloc would write; only the overflow answer
        assert_null(umfPoolCalloc(f->pool, huge_count, 4));
        assert_int_equal(umfPoolGetLastAllocationError(f->pool),
                         UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
        return;
    }
    const size_t s[] = {1, 24, 100, 4096, 40000, 100000, 1 << 20, 3 << 20};
    for (int i = 0; i < 8; i++) {
        for (int round = 0; round < 3; round++) { // dirty a block, free it, calloc again
            char *d = umfPoolMalloc(f->pool, s[i]);
            assert_non_null(d);
            memset(d, 0xff, s[i]);
            umfFree(d);
            char *z = umfPoolCalloc(f->pool, 1, s[i]);
            check_block(f->pool, z, s[i]);
            check_zero(z, s[i]);
            umfFree(z);
        }
    }
    char *z = umfPoolCalloc(f->pool, 1000, 33);
    check_zero(z, 33000);
    umfFree(z);
    assert_null(umfPoolCalloc(f->pool, huge_count, 4)); // overflow
    assert_int_equal(umfPoolGetLastAllocationError(f->pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
}

// ---- threads -----------------------------------------------------------------------------

typedef struct xfer_t {
    umf_memory_pool_handle_t pool;
    void **v;
    size_t *sz;
    int n;
} xfer_t;

static void *free_all(void *arg) {
    xfer_t *x = arg;
    for (int i = 0; i < x->n; i++) {
        if (!same(x->v[i], x->sz[i], (unsigned)i) || umfFree(x->v[i]) != UMF_RESULT_SUCCESS)
            return (void *)1;
    }
    return NULL;
}

static void *alloc_all(void *arg) {
    xfer_t *x = arg;
    for (int i = 0; i < x->n; i++) {
        x->sz[i] = 1 + (size_t)(i * 37) % 3000 + (i % 50 == 0 ? 300000 : 0);
        x->v[i] = umfPoolMalloc(x->pool, x->sz[i]);
        if (!x->v[i])
            return (void *)1;
        fill(x->v[i], x->sz[i], (unsigned)i);
    }
    return NULL;
}

static void cross_thread_free(void **state) {
    fixture_t *f = *state;
    enum { N = 1500 };
    xfer_t x = {f->pool, malloc(N * sizeof(void *)), malloc(N * sizeof(size_t)), N};
    void *ret;
    for (int round = 0; round < 2; round++) {
        // here -> there
        assert_null(alloc_all(&x));
        pthread_t t;
        pthread_create(&t, NULL, free_all, &x);
        pthread_join(t, &ret);
        assert_null(ret);
        // there -> here (the other thread has exited: its cache is orphaned)
        pthread_create(&t, NULL, alloc_all, &x);
        pthread_join(t, &ret);
        assert_null(ret);
        assert_null(free_all(&x));
    }
    free(x.v);
    free(x.sz);
}

#define MT_THREADS 8
#define MT_LIVE 64
#define MT_XCHG 64

typedef struct mt_block_t {
    void *p;
    size_t n;
    unsigned seed;
} mt_block_t;

typedef struct mt_t {
    umf_memory_pool_handle_t pool;
    uint64_t seed;                       // printed; HETMEM_TEST_SEED replays it
    atomic_int next_id;
    _Atomic(mt_block_t *) xchg[MT_XCHG]; // blocks handed between threads
    atomic_int errors;
} mt_t;

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static size_t rnd_size(uint64_t *s) {
    unsigned bits = (unsigned)(rnd(s) % 19); // 1 B .. 512 KiB, log-uniform
    return 1 + (size_t)(rnd(s) % ((size_t)1 << bits));
}

static bool mt_release(mt_t *m, mt_block_t *b) {
    if (!same(b->p, b->n, b->seed))
        atomic_fetch_add(&m->errors, 1);
    if (umfFree(b->p) != UMF_RESULT_SUCCESS) {
        atomic_fetch_add(&m->errors, 1);
        return false;
    }
    free(b);
    return true;
}

static void *mt_worker(void *arg) {
    mt_t *m = arg;
    uint64_t id = (uint64_t)atomic_fetch_add(&m->next_id, 1);
    uint64_t s = (m->seed + id * 0x9e3779b97f4a7c15ull) | 1;
    mt_block_t *live[MT_LIVE] = {0};
    unsigned seed = (unsigned)s;
    for (int op = 0; op < 2000; op++) {
        int k = (int)(rnd(&s) % MT_LIVE);
        unsigned r = (unsigned)(rnd(&s) % 100);
        mt_block_t *b = live[k];
        if (b && r < 30) { // free here
            mt_release(m, b);
            live[k] = NULL;
        } else if (b && r < 50) { // hand to another thread through the exchange
            mt_block_t *old = atomic_exchange(&m->xchg[rnd(&s) % MT_XCHG], b);
            live[k] = NULL;
            if (old)
                mt_release(m, old);
        } else if (b && r < 65 && full && touch) { // realloc
            size_t n = rnd_size(&s);
            void *q = umfPoolRealloc(m->pool, b->p, n);
            if (!q) {
                atomic_fetch_add(&m->errors, 1);
                continue;
            }
            if (!same(q, n < b->n ? n : b->n, b->seed))
                atomic_fetch_add(&m->errors, 1);
            b->p = q, b->n = n;
            fill(q, n, b->seed);
        } else if (!b) {
            b = malloc(sizeof *b);
            b->n = rnd_size(&s);
            b->seed = seed++;
            if (r < 15 && full && touch) {
                b->p = umfPoolCalloc(m->pool, 1, b->n);
                if (b->p && !zeroed(b->p, b->n))
                    atomic_fetch_add(&m->errors, 1);
            } else if (r < 30) {
                b->p = umfPoolAlignedMalloc(m->pool, b->n, (size_t)16 << (rnd(&s) % 13));
            } else {
                b->p = umfPoolMalloc(m->pool, b->n);
            }
            if (!b->p || umfPoolByPtr(b->p) != m->pool ||
                (full && umfPoolMallocUsableSize(m->pool, b->p) < b->n)) {
                atomic_fetch_add(&m->errors, 1);
                free(b);
                continue;
            }
            fill(b->p, b->n, b->seed);
            live[k] = b;
        }
    }
    for (int k = 0; k < MT_LIVE; k++)
        if (live[k])
            mt_release(m, live[k]);
    return NULL;
}

static void mt_random(void **state) {
    fixture_t *f = *state;
    static mt_t m;
    memset(&m, 0, sizeof m);
    m.pool = f->pool;
    m.seed = test_seed("mt_random");
    pthread_t t[MT_THREADS];
    for (int i = 0; i < MT_THREADS; i++)
        pthread_create(&t[i], NULL, mt_worker, &m);
    for (int i = 0; i < MT_THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < MT_XCHG; i++) {
        mt_block_t *b = atomic_load(&m.xchg[i]);
        if (b)
            mt_release(&m, b);
    }
    assert_int_equal(atomic_load(&m.errors), 0);
}

static void destroy_with_live_blocks(void **state) {
    fixture_t *f = *state;
    // Small, large and (for the disjoint pool) unpooled blocks, never freed:
    // the teardown checks that destroying the pool returns all of them.
    for (int i = 0; i < 2000; i++)
        assert_non_null(umfPoolMalloc(f->pool, 1 + (size_t)(i * 53) % 2000));
    for (int i = 0; i < 10; i++)
        assert_non_null(umfPoolMalloc(f->pool, (size_t)(i + 1) * 300000));
    assert_non_null(umfPoolAlignedMalloc(f->pool, 100, (size_t)1 << 20));
    pthread_t t;
    xfer_t x = {f->pool, malloc(100 * sizeof(void *)), malloc(100 * sizeof(size_t)), 100};
    pthread_create(&t, NULL, alloc_all, &x); // blocks of a thread that exited
    pthread_join(t, NULL);
    free(x.v);
    free(x.sz);
    assert_true(atomic_load(&f->count.live_bytes) > 0);
}

// ---- limits --------------------------------------------------------------------------------

typedef struct err_t {
    umf_memory_pool_handle_t pool;
    umf_result_t seen;
} err_t;

static void *other_thread_error(void *arg) {
    err_t *e = arg;
    void *p = umfPoolAlignedMalloc(e->pool, 8, 3); // fails here, in this thread only
    if (p)
        umfFree(p);
    e->seen = umfPoolGetLastAllocationError(e->pool);
    return NULL;
}

// Allocates blocks of `size` until the pool fails; returns how many.
static int fill_pool(umf_memory_pool_handle_t pool, size_t size, void **v, int max) {
    int n = 0;
    while (n < max && (v[n] = umfPoolMalloc(pool, size)) != NULL)
        n++;
    return n;
}

// Registered for the fixed provider instance only (main).
static void exhaustion(void **state) {
    (void)state;
    const size_t buf_size = (size_t)16 << 20;
    void *buf;
    umf_memory_provider_handle_t fixed;
    assert_int_equal(conf_fixed_create(buf_size, &buf, &fixed), 0);
    counting_t c;
    umf_memory_provider_handle_t prov;
    assert_int_equal(counting_create(fixed, &c, &prov), UMF_RESULT_SUCCESS);
    void *params = params_create();
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfPoolCreate(P->ops(), prov, params, 0, &pool), UMF_RESULT_SUCCESS);
    enum { MAX = 1 << 19 };
    void **v = malloc(MAX * sizeof *v);
    const size_t bs[] = {64 << 10, 100, 3000, (size_t)1 << 20};
    for (int round = 0; round < 4; round++) {
        size_t size = bs[round];
        int n = fill_pool(pool, size, v, MAX);
        assert_true(n > 0 && n < MAX);
        assert_true(n * size <= buf_size);
        assert_int_equal(umfPoolGetLastAllocationError(pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
        err_t e = {pool, UMF_RESULT_SUCCESS};
        pthread_t t; // another thread's error is its own
        pthread_create(&t, NULL, other_thread_error, &e);
        pthread_join(t, NULL);
        assert_int_equal(e.seen, UMF_RESULT_ERROR_INVALID_ALIGNMENT);
        assert_int_equal(umfPoolGetLastAllocationError(pool), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
        for (int i = 0; i < n; i += 2) // free half: the pool serves again
            assert_int_equal(umfFree(v[i]), UMF_RESULT_SUCCESS);
        void *again = umfPoolMalloc(pool, size);
        assert_non_null(again);
        umfFree(again);
        for (int i = 1; i < n; i += 2)
            assert_int_equal(umfFree(v[i]), UMF_RESULT_SUCCESS);
    }
    free(v);
    umfPoolDestroy(pool);
    params_destroy(params);
    assert_int_equal(atomic_load(&c.live_bytes), 0);
    umfMemoryProviderDestroy(prov);
    conf_fixed_destroy(buf, buf_size, fixed);
}

// A disjoint pool feature: registered for the disjoint pool only (main).
static void shared_limits(void **state) {
    fixture_t *f = *state;
    const size_t max = (size_t)8 << 20;
    umf_disjoint_pool_shared_limits_handle_t lim = umfDisjointPoolSharedLimitsCreate(max);
    assert_non_null(lim);
    umf_disjoint_pool_params_handle_t params;
    assert_int_equal(umfDisjointPoolParamsCreate(&params), UMF_RESULT_SUCCESS);
    assert_int_equal(umfDisjointPoolParamsSetSharedLimits(params, lim), UMF_RESULT_SUCCESS);
    counting_t c;
    umf_memory_provider_handle_t prov;
    assert_int_equal(counting_create(f->provider, &c, &prov), UMF_RESULT_SUCCESS);
    umf_memory_pool_handle_t p1, p2;
    assert_int_equal(umfPoolCreate(P->ops(), prov, params, 0, &p1), UMF_RESULT_SUCCESS);
    assert_int_equal(umfPoolCreate(P->ops(), prov, params, 0, &p2), UMF_RESULT_SUCCESS);
    enum { MAX = 1 << 15 };
    void **v1 = malloc(MAX * sizeof(void *)), **v2 = malloc(MAX * sizeof(void *));
    const size_t bs[] = {256 << 10, 1000, 3 << 20};
    for (int round = 0; round < 3; round++) {
        size_t size = bs[round];
        int n1 = 0, n2 = 0;
        bool more1 = true, more2 = true;
        while ((more1 || more2) && n1 < MAX && n2 < MAX) { // the pools take turns
            if (more1 && !(more1 = (v1[n1] = umfPoolMalloc(p1, size)) != NULL))
                assert_int_equal(umfPoolGetLastAllocationError(p1),
                                 UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
            n1 += more1;
            if (more2 && !(more2 = (v2[n2] = umfPoolMalloc(p2, size)) != NULL))
                assert_int_equal(umfPoolGetLastAllocationError(p2),
                                 UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
            n2 += more2;
            assert_true(atomic_load(&c.live_bytes) <= max);
        }
        assert_true(n1 > 0 && n2 > 0 && n1 < MAX && n2 < MAX);
        assert_true(atomic_load(&c.peak_bytes) <= max);
        // Memory pool 1 gives back lets pool 2 grow.
        for (int i = 0; i < n1; i++)
            umfFree(v1[i]);
        void *x = umfPoolMalloc(p2, size);
        assert_non_null(x);
        umfFree(x);
        for (int i = 0; i < n2; i++)
            umfFree(v2[i]);
    }
    umfPoolDestroy(p1);
    umfPoolDestroy(p2);
    assert_int_equal(atomic_load(&c.live_bytes), 0);
    umfMemoryProviderDestroy(prov);
    umfDisjointPoolParamsDestroy(params);
    umfDisjointPoolSharedLimitsDestroy(lim);
    free(v1);
    free(v2);
}

// ---- main -------------------------------------------------------------------------------------

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s POOL PROVIDER\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < sizeof pools / sizeof pools[0]; i++)
        if (strcmp(pools[i].name, argv[1]) == 0)
            P = &pools[i];
    if (!P) {
        fprintf(stderr, "unknown pool %s\n", argv[1]);
        return 2;
    }
    prov_name = argv[2];
    int rc = conf_provider_create(prov_name, &base_provider);
    if (rc)
        return rc;
    // Every pool registered by CMake must work here: a pool whose dependency
    // is missing (jemalloc without its library) fails the test; CMake does
    // not register the jemalloc pool when hetmem is built without it.
    umf_memory_pool_handle_t probe;
    void *params = NULL;
    if (P->params == PARAMS_disjoint_defaults &&
        umfDisjointPoolParamsCreate((umf_disjoint_pool_params_handle_t *)&params) !=
            UMF_RESULT_SUCCESS) {
        fprintf(stderr, "FAIL: umfDisjointPoolParamsCreate failed\n");
        return 1;
    }
    umf_result_t r = umfPoolCreate(P->ops(), base_provider, params, 0, &probe);
    params_destroy(params);
    if (r != UMF_RESULT_SUCCESS) {
        fprintf(stderr, "FAIL: cannot create a %s pool over the %s provider: %d\n", P->name,
                prov_name, (int)r);
        conf_provider_destroy(prov_name, base_provider);
        return 1;
    }
    umfPoolDestroy(probe);
    touch = strcmp(prov_name, "protnone") != 0;
    full = P->caps == CAP_FULL;

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(malloc_sizes, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_size, setup, teardown),
        cmocka_unit_test_setup_teardown(aligned, setup, teardown),
        cmocka_unit_test_setup_teardown(realloc_grow_shrink, setup, teardown),
        cmocka_unit_test_setup_teardown(calloc_zeroes, setup, teardown),
        cmocka_unit_test_setup_teardown(cross_thread_free, setup, teardown),
        cmocka_unit_test_setup_teardown(mt_random, setup, teardown),
        cmocka_unit_test_setup_teardown(destroy_with_live_blocks, setup, teardown),
        // the last two only where they apply (below), never as a silent skip
        cmocka_unit_test(exhaustion),
        cmocka_unit_test_setup_teardown(shared_limits, setup, teardown),
    };
    size_t ntests = sizeof tests / sizeof tests[0] - 2;
    struct CMUnitTest run[sizeof tests / sizeof tests[0]];
    memcpy(run, tests, ntests * sizeof tests[0]);
    if (strcmp(prov_name, "fixed") == 0)
        run[ntests++] = tests[sizeof tests / sizeof tests[0] - 2];
    if (P->params == PARAMS_disjoint_defaults)
        run[ntests++] = tests[sizeof tests / sizeof tests[0] - 1];
    if (getenv("CONFORMANCE_FILTER")) // e.g. CONFORMANCE_FILTER=mt_random
        cmocka_set_test_filter(getenv("CONFORMANCE_FILTER"));
    char group[96];
    snprintf(group, sizeof group, "conformance %s/%s", P->name, prov_name);
    rc = _cmocka_run_group_tests(group, run, ntests, NULL, NULL);
    conf_provider_destroy(prov_name, base_provider);
    return rc;
}
