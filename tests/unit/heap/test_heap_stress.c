// SPDX-License-Identifier: MIT
// Stress: 6 threads allocate random sizes (1 B .. 1 MiB, log-uniform),
// write a checksum into every block, and free at random - their own
// blocks, or blocks other threads put into a shared exchange array (so a
// large share of frees cross threads). Every block's contents are checked
// before it is freed. Runs for a fixed wall time per pool (so that the
// ASan and TSan builds, several times slower, stay within a few seconds)
// against the scalable and the disjoint pool over the OS provider, and then
// checks that destroying the pools returned every byte to the provider.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <time.h>

#include <umf/memory_pool.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_scalable.h>

#include "test_heap_util.h"
#include "test_seed.h"

#define THREADS 6
#define LIVE 128
#define XCHG 256
#define RUN_NS 1500000000ull // per pool

/// The header written at the start of every block of >= 24 bytes; the
/// last 8 bytes hold a checksum of the header and the pattern.
typedef struct block_t {
    uint64_t size;
    uint64_t seed;
} block_t;
#define MIN_CHECKED (sizeof(block_t) + 8)

typedef struct xslot_t {
    _Atomic(void *) p;
} xslot_t;

typedef struct run_t {
    umf_memory_pool_handle_t pool;
    xslot_t xchg[XCHG];
    uint64_t deadline;
    uint64_t seed; // printed; HETMEM_TEST_SEED replays each thread's stream
    atomic_long ops, cross, errors, next_id;
} run_t;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Up to 64 pattern words spread over the block between header and checksum.
static uint64_t pattern(void *p, size_t size, uint64_t seed, bool write, bool *ok) {
    unsigned char *c = p;
    size_t words = (size - MIN_CHECKED) / 8;
    size_t step = words > 64 ? words / 64 : 1;
    uint64_t sum = seed ^ size;
    for (size_t w = 0; w < words; w += step) {
        uint64_t v = seed * 0x9E3779B97F4A7C15ull + w, got;
        if (write) {
            memcpy(c + sizeof(block_t) + w * 8, &v, 8);
        } else {
            memcpy(&got, c + sizeof(block_t) + w * 8, 8);
            if (got != v)
                *ok = false;
        }
        sum = (sum ^ v) * 0x100000001B3ull;
    }
    return sum;
}

static void write_block(void *p, size_t size, uint64_t seed) {
    unsigned char *c = p;
    if (size < MIN_CHECKED) {
        for (size_t i = 0; i < size; i++)
            c[i] = (unsigned char)(0xa5 ^ size ^ i);
        return;
    }
    block_t b = {size, seed};
    memcpy(p, &b, sizeof b);
    uint64_t sum = pattern(p, size, seed, true, NULL);
    memcpy(c + size - 8, &sum, 8);
}

// Checks a block written by write_block; `size` 0: read it from the header.
static bool check_block(void *p, size_t size) {
    unsigned char *c = p;
    block_t b;
    if (size && size < MIN_CHECKED) {
        for (size_t i = 0; i < size; i++)
            if (c[i] != (unsigned char)(0xa5 ^ size ^ i))
                return false;
        return true;
    }
    memcpy(&b, p, sizeof b);
    if ((size && b.size != size) || b.size < MIN_CHECKED || b.size > ((size_t)2 << 20))
        return false;
    bool ok = true;
    uint64_t sum = pattern(p, b.size, b.seed, false, &ok), stored;
    memcpy(&stored, c + b.size - 8, 8);
    return ok && sum == stored;
}

typedef struct mine_t {
    void *p;
    size_t size;
} mine_t;

static size_t rnd_size(uint64_t *s) {
    unsigned bits = (unsigned)(tp_rand(s) % 21); // 1 B .. 1 MiB
    return 1 + (size_t)(tp_rand(s) % ((size_t)1 << bits));
}

static void release(run_t *r, void *p) {
    if (umfFree(p) != UMF_RESULT_SUCCESS)
        atomic_fetch_add(&r->errors, 1);
}

static void *worker(void *arg) {
    run_t *r = arg;
    uint64_t id = (uint64_t)atomic_fetch_add(&r->next_id, 1);
    uint64_t s = (r->seed + id * 0x9e3779b97f4a7c15ull) | 1;
    mine_t live[LIVE] = {{0}};
    long ops = 0, cross = 0;
    while ((ops & 255) || now_ns() < r->deadline) {
        ops++;
        unsigned k = (unsigned)(tp_rand(&s) % LIVE);
        unsigned what = (unsigned)(tp_rand(&s) % 100);
        if (live[k].p) {
            if (!check_block(live[k].p, live[k].size)) {
                fprintf(stderr, "block %p (%zu bytes) corrupted\n", live[k].p, live[k].size);
                atomic_fetch_add(&r->errors, 1);
            }
            if (what < 50 || live[k].size < MIN_CHECKED) { // free it here
                release(r, live[k].p);
            } else { // give it to whoever takes this exchange slot next
                void *old = atomic_exchange(&r->xchg[tp_rand(&s) % XCHG].p, live[k].p);
                if (old) {
                    if (!check_block(old, 0)) { // exchanged blocks carry a header
                        fprintf(stderr, "exchanged block %p corrupted\n", old);
                        atomic_fetch_add(&r->errors, 1);
                    }
                    release(r, old);
                    cross++;
                }
            }
            live[k].p = NULL;
            continue;
        }
        size_t size = rnd_size(&s);
        void *p = what % 4 == 0 ? umfPoolAlignedMalloc(r->pool, size, (size_t)16 << (what % 9))
                                : umfPoolMalloc(r->pool, size);
        if (!p || umfPoolByPtr(p) != r->pool || umfPoolMallocUsableSize(r->pool, p) < size) {
            atomic_fetch_add(&r->errors, 1);
            continue;
        }
        write_block(p, size, tp_rand(&s));
        live[k].p = p;
        live[k].size = size;
    }
    for (unsigned k = 0; k < LIVE; k++)
        if (live[k].p) {
            if (!check_block(live[k].p, live[k].size))
                atomic_fetch_add(&r->errors, 1);
            release(r, live[k].p);
        }
    atomic_fetch_add(&r->ops, ops);
    atomic_fetch_add(&r->cross, cross);
    return NULL;
}

static void stress_pool(umf_memory_pool_ops_t *ops, void *params, const char *name) {
    tp_t tp;
    umf_memory_provider_handle_t os = tp_os();
    umf_memory_provider_handle_t prov = tp_create(&tp, os);
    static run_t r;
    memset(&r, 0, sizeof r);
    assert_int_equal(umfPoolCreate(ops, prov, params, 0, &r.pool), UMF_RESULT_SUCCESS);
    r.deadline = now_ns() + RUN_NS;
    r.seed = test_seed(name);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, worker, &r);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < XCHG; i++) {
        void *p = atomic_load(&r.xchg[i].p);
        if (p)
            release(&r, p);
    }
    printf("%s: %ld ops, %ld cross-thread frees, %ld errors\n", name, atomic_load(&r.ops),
           atomic_load(&r.cross), atomic_load(&r.errors));
    assert_int_equal(atomic_load(&r.errors), 0);
    assert_true(atomic_load(&r.cross) > 0);
    umfPoolDestroy(r.pool);
    assert_int_equal(atomic_load(&tp.live_bytes), 0);
    umfMemoryProviderDestroy(prov);
    umfMemoryProviderDestroy(os);
}

static void stress_scalable(void **state) {
    (void)state;
    stress_pool(umfScalablePoolOps(), NULL, "scalable");
}

static void stress_disjoint(void **state) {
    (void)state;
    umf_disjoint_pool_params_handle_t p;
    assert_int_equal(umfDisjointPoolParamsCreate(&p), UMF_RESULT_SUCCESS);
    umfDisjointPoolParamsSetCapacity(p, 2);
    stress_pool(umfDisjointPoolOps(), p, "disjoint");
    umfDisjointPoolParamsDestroy(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stress_scalable),
        cmocka_unit_test(stress_disjoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
