// SPDX-License-Identifier: MIT
// memtier (memkind_memtier.h) through libmemkind.so.0, as a program uses it:
//   - STATIC_RATIO: thousands of random-size allocations over 2 and 3 tiers;
//     each block is in the kind the counters say, the counters equal the
//     sum of the blocks' usable sizes exactly, and the tiers' bytes keep the
//     ratio within one block (memkind's rule: docs/memkind.md, "memtier");
//   - DYNAMIC_THRESHOLD: placement by the default and by set thresholds, and
//     the thresholds moving so that equal-size blocks split by the ratio;
//   - memtier_ctl_set: every name, and every malformed one refused;
//   - realloc within the kind, realloc(.., 0), free, usable size, calloc,
//     posix_memalign, with the counters following exactly;
//   - threads allocating (both policies) and freeing each other's blocks:
//     the counters sum exactly to what is live;
//   - bad input (NULL or dead builder/memory, NULL kind, ratio 0, a kind
//     twice, unknown policy, overflow, foreign pointer): refused, logged.
// Seeds are printed (HETMEM_TEST_SEED replays).
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <memkind/internal/memkind_private.h>
#include <memkind_memtier.h>
#include <sys/mman.h>

#include "../../test_seed.h"
#include "../../test_threads.h"

static uint64_t rng;
static uint64_t next_rand(uint64_t *s) { // splitmix64
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#include "../../test_capture.h"

static void assert_logged(const char *log, const char *what) {
    if (!strstr(log, what))
        fail_msg("no log line with \"%s\"", what);
}

// ---- STATIC_RATIO -----------------------------------------------------------------

#define NBLK 6000
static void *blk[NBLK];

// Allocates NBLK random blocks (16 B .. 64 KiB) from a memory of `n` tiers
// with `ratio`, checks kinds, exact counters and the ratio; frees them.
static void static_ratio_case(memkind_t *kinds, const unsigned *ratio, unsigned n) {
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO);
    assert_non_null(b);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(memtier_builder_add_tier(b, kinds[i], ratio[i]), 0);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    assert_non_null(m);
    memtier_builder_delete(b); // the memory does not need it
    size_t base[3], mine[3] = {0}, maxblk = 0;
    for (unsigned i = 0; i < n; i++)
        base[i] = memtier_kind_allocated_size(kinds[i]);
    for (int j = 0; j < NBLK; j++) {
        size_t sz = 16 + next_rand(&rng) % (64 << 10);
        blk[j] = memtier_malloc(m, sz);
        assert_non_null(blk[j]);
        memset(blk[j], 0xa5, sz);
        memkind_t k = memkind_detect_kind(blk[j]);
        unsigned t = 0;
        while (t < n && kinds[t] != k)
            t++;
        if (t == n)
            fail_msg("block %d is in no tier's kind", j);
        size_t u = memtier_usable_size(blk[j]);
        assert_true(u >= sz);
        mine[t] += u;
        if (u > maxblk)
            maxblk = u;
    }
    double total = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(memtier_kind_allocated_size(kinds[i]) - base[i], mine[i]);
        total += (double)mine[i];
    }
    // memkind's rule keeps every tier within one block of its share relative
    // to tier 0: |bytes_i / ratio_i - bytes_0 / ratio_0| <= largest block.
    unsigned rsum = 0;
    for (unsigned i = 0; i < n; i++)
        rsum += ratio[i];
    for (unsigned i = 0; i < n; i++) {
        double lag = (double)mine[i] / ratio[i] - (double)mine[0] / ratio[0];
        printf("tier %u: %zu bytes (%.4f of all, want %.4f), lag %.0f\n", i, mine[i],
               mine[i] / total, (double)ratio[i] / rsum, lag);
        if (lag > (double)maxblk || -lag > (double)maxblk)
            fail_msg("tier %u lags tier 0 by %.0f bytes per ratio unit (max block %zu)", i, lag,
                     maxblk);
    }
    for (int j = 0; j < NBLK; j++)
        memtier_free(blk[j]);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(memtier_kind_allocated_size(kinds[i]), base[i]);
    memtier_delete_memtier_memory(m);
}

static void test_static_ratio_two(void **state) {
    (void)state;
    memkind_t k[] = {MEMKIND_DEFAULT, MEMKIND_REGULAR};
    static_ratio_case(k, (unsigned[]){1, 3}, 2);
    static_ratio_case(k, (unsigned[]){5, 2}, 2);
}

static void test_static_ratio_three(void **state) {
    (void)state;
    memkind_t k[] = {MEMKIND_DEFAULT, MEMKIND_REGULAR, MEMKIND_INTERLEAVE};
    static_ratio_case(k, (unsigned[]){1, 2, 4}, 3);
}

// ---- DYNAMIC_THRESHOLD ------------------------------------------------------------

static struct memtier_builder *dyn_builder(memkind_t k0, unsigned r0, memkind_t k1, unsigned r1) {
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_DYNAMIC_THRESHOLD);
    assert_non_null(b);
    assert_int_equal(memtier_builder_add_tier(b, k0, r0), 0);
    assert_int_equal(memtier_builder_add_tier(b, k1, r1), 0);
    return b;
}

static memkind_t kind_of_new(struct memtier_memory *m, size_t sz) {
    void *p = memtier_malloc(m, sz);
    assert_non_null(p);
    memkind_t k = memkind_detect_kind(p);
    memtier_free(p);
    return k;
}

static void test_dynamic_placement(void **state) {
    (void)state;
    // the default threshold is 1024; no check within these few operations
    struct memtier_builder *b = dyn_builder(MEMKIND_DEFAULT, 1, MEMKIND_REGULAR, 1);
    unsigned never = 1000000;
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.check_cnt", &never), 0);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    assert_non_null(m);
    assert_ptr_equal(kind_of_new(m, 1023), MEMKIND_DEFAULT);
    assert_ptr_equal(kind_of_new(m, 1024), MEMKIND_REGULAR);
    memtier_delete_memtier_memory(m);
    // thresholds[0] moved to 3000 within [2000, 4000]
    size_t v = 3000, lo = 2000, hi = 4000;
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].max", &hi), 0);
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].val", &v), 0);
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].min", &lo), 0);
    m = memtier_builder_construct_memtier_memory(b);
    assert_non_null(m);
    assert_ptr_equal(kind_of_new(m, 2999), MEMKIND_DEFAULT);
    assert_ptr_equal(kind_of_new(m, 3000), MEMKIND_REGULAR);
    memtier_delete_memtier_memory(m);
    // three tiers: thresholds 1024 and 2048
    assert_int_equal(memtier_builder_add_tier(b, MEMKIND_INTERLEAVE, 1), 0);
    v = 1024, lo = 512, hi = 1535;
    memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].min", &lo);
    memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].val", &v);
    memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].max", &hi);
    m = memtier_builder_construct_memtier_memory(b);
    assert_non_null(m);
    assert_ptr_equal(kind_of_new(m, 100), MEMKIND_DEFAULT);
    assert_ptr_equal(kind_of_new(m, 2047), MEMKIND_REGULAR);
    assert_ptr_equal(kind_of_new(m, 2048), MEMKIND_INTERLEAVE);
    memtier_delete_memtier_memory(m);
    memtier_builder_delete(b);
}

// Equal 1200-byte blocks at 1:1 start above the threshold (1024), all in
// tier 1; the checks raise the threshold past 1200, then keep moving it
// around 1200 so that both tiers grow: the bytes end near 1:1.
static void test_dynamic_adapts(void **state) {
    (void)state;
    struct memtier_builder *b = dyn_builder(MEMKIND_DEFAULT, 1, MEMKIND_REGULAR, 1);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    assert_non_null(m);
    memtier_builder_delete(b);
    size_t b0 = memtier_kind_allocated_size(MEMKIND_DEFAULT);
    size_t b1 = memtier_kind_allocated_size(MEMKIND_REGULAR);
    for (int j = 0; j < NBLK; j++) {
        blk[j] = memtier_malloc(m, 1200);
        assert_non_null(blk[j]);
    }
    double d0 = (double)(memtier_kind_allocated_size(MEMKIND_DEFAULT) - b0);
    double d1 = (double)(memtier_kind_allocated_size(MEMKIND_REGULAR) - b1);
    printf("dynamic 1:1 with 1200-byte blocks: %.0f / %.0f bytes (ratio %.3f)\n", d0, d1,
           d1 / d0);
    assert_true(d0 > 0 && d1 > 0);
    assert_true(d1 / d0 > 0.9 && d1 / d0 < 1.1);
    for (int j = 0; j < NBLK; j++)
        memtier_free(blk[j]);
    memtier_delete_memtier_memory(m);
}

static void test_ctl_set(void **state) {
    (void)state;
    struct memtier_builder *b = dyn_builder(MEMKIND_DEFAULT, 1, MEMKIND_REGULAR, 4);
    size_t sz = 700;
    unsigned cnt = 5, zero = 0;
    float f = 0.5f, neg = -0.1f, nan = __builtin_nanf("");
    const char *P = "policy.dynamic_threshold.";
    char name[128];
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].val", &sz), 0);
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.check_cnt", &cnt), 0);
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.trigger", &f), 0);
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.degree", &f), 0);
    capture_begin();
    static const char *bad[] = {"thresholds[1].val", "thresholds[0].value", "thresholds[-1].val",
                                "thresholds[].val",  "thresholds[0]val",    "thresholds[0].",
                                "thresholds0.val",   "check_cnt2",          "triggers",
                                "",                  "thresholds[ 0].min",  "degree.x"};
    int fails = 0;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(name, sizeof name, "%s%s", P, bad[i]);
        if (memtier_ctl_set(b, name, &sz) != -1) {
            fprintf(stderr, "accepted %s\n", name);
            fails++;
        }
    }
    fails += memtier_ctl_set(b, "policy.static.thresholds[0].val", &sz) != -1;
    fails += memtier_ctl_set(b, "policy.dynamic_threshold.check_cnt", &zero) != -1;
    fails += memtier_ctl_set(b, "policy.dynamic_threshold.trigger", &neg) != -1;
    fails += memtier_ctl_set(b, "policy.dynamic_threshold.degree", &nan) != -1;
    fails += memtier_ctl_set(b, "policy.dynamic_threshold.degree", NULL) != -1;
    fails += memtier_ctl_set(b, NULL, &f) != -1;
    fails += memtier_ctl_set(NULL, "policy.dynamic_threshold.degree", &f) != -1;
    struct memtier_builder *s = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO);
    fails += memtier_ctl_set(s, "policy.dynamic_threshold.check_cnt", &cnt) != -1;
    memtier_builder_delete(s);
    // inconsistent thresholds: refused when the memory is made
    size_t big = 5000;
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].val", &big), 0);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    const char *log = capture_end();
    assert_int_equal(fails, 0);
    assert_null(m);
    assert_logged(log, "thresholds[1].val\": threshold 1 needs 3 tiers");
    assert_logged(log, "unknown memtier property \"policy.dynamic_threshold.thresholds[0].value\"");
    assert_logged(log, "must be at least 1");
    assert_logged(log, "must be a finite value >= 0");
    assert_logged(log, "threshold 0: value 5000 outside [min 512, max 1535]");
    memtier_builder_delete(b);
}

// ---- realloc, free, usable size, calloc, memalign ---------------------------------

static void test_heap_calls(void **state) {
    (void)state;
    memkind_t k1 = MEMKIND_REGULAR;
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO);
    assert_int_equal(memtier_builder_add_tier(b, k1, 1), 0);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    memtier_builder_delete(b);
    size_t base = memtier_kind_allocated_size(k1);
    char *p = memtier_malloc(m, 100);
    assert_non_null(p);
    memset(p, 7, 100);
    size_t u = memtier_usable_size(p);
    assert_int_equal(u, memkind_malloc_usable_size(k1, p));
    assert_int_equal(memtier_kind_allocated_size(k1), base + u);
    char *q = memtier_realloc(m, p, 100000); // grows within its kind
    assert_non_null(q);
    assert_ptr_equal(memkind_detect_kind(q), k1);
    for (int i = 0; i < 100; i++)
        assert_int_equal(q[i], 7);
    assert_int_equal(memtier_kind_allocated_size(k1), base + memtier_usable_size(q));
    assert_null(memtier_realloc(m, q, 0)); // frees
    assert_int_equal(memtier_kind_allocated_size(k1), base);
    unsigned char *c = memtier_calloc(m, 1000, 3);
    assert_non_null(c);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(c[i], 0);
    assert_int_equal(memtier_kind_allocated_size(k1), base + memtier_usable_size(c));
    memtier_kind_free(k1, c);
    assert_int_equal(memtier_kind_allocated_size(k1), base);
    void *a = (void *)0x1234;
    assert_int_equal(memtier_posix_memalign(m, &a, 4096, 5000), 0);
    assert_int_equal((uintptr_t)a % 4096, 0);
    assert_int_equal(memtier_kind_allocated_size(k1), base + memtier_usable_size(a));
    void *keep = a;
    assert_int_equal(memtier_posix_memalign(m, &a, 3, 64), EINVAL);
    assert_ptr_equal(a, keep); // untouched on failure
    memtier_free(a);
    p = memtier_realloc(m, NULL, 64); // NULL: a new block where the policy says
    assert_ptr_equal(memkind_detect_kind(p), k1);
    p = memtier_kind_realloc(k1, p, 128);
    assert_int_equal(memtier_kind_allocated_size(k1), base + memtier_usable_size(p));
    assert_null(memtier_kind_realloc(k1, p, 0));
    assert_int_equal(memtier_kind_allocated_size(k1), base);
    assert_int_equal(memtier_usable_size(NULL), 0);
    memtier_free(NULL);
    memtier_delete_memtier_memory(m);
}

// ---- threads ----------------------------------------------------------------------

#define NTHR 8
#define PER_THR 20000
static struct memtier_memory *shared_mem, *shared_dyn; // STATIC_RATIO, DYNAMIC_THRESHOLD
static void *handoff[NTHR][64]; // blocks a thread leaves for the next one to free
static size_t live_bytes[NTHR][2];
static uint64_t thr_seed;

static void *thread_main(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg;
    uint64_t s = thr_seed + id * 0x9e3779b97f4a7c15ull;
    void *mine[256] = {0};
    memkind_t kinds[2] = {MEMKIND_DEFAULT, MEMKIND_REGULAR};
    for (int i = 0; i < PER_THR; i++) {
        unsigned slot = next_rand(&s) % 256;
        if (mine[slot]) {
            memkind_t k = memkind_detect_kind(mine[slot]);
            live_bytes[id][k == kinds[1]] -= memtier_usable_size(mine[slot]);
            memtier_free(mine[slot]);
            mine[slot] = NULL;
        } else {
            size_t sz = 1 + next_rand(&s) % 8192;
            mine[slot] = i % 3 == 0   ? memtier_malloc(shared_mem, sz)
                         : i % 3 == 1 ? memtier_malloc(shared_dyn, sz) // racing threshold checks
                                      : memtier_kind_malloc(kinds[i % 4 == 0], sz);
            if (!THREAD_CHECK(mine[slot] != NULL))
                return NULL;
            memkind_t k = memkind_detect_kind(mine[slot]);
            if (!THREAD_CHECK(k == kinds[0] || k == kinds[1]))
                return NULL;
            live_bytes[id][k == kinds[1]] += memtier_usable_size(mine[slot]);
        }
    }
    // keep 64 live for the next thread to free, free the rest
    unsigned kept = 0;
    for (int j = 0; j < 256; j++) {
        if (mine[j] && kept < 64)
            handoff[id][kept++] = mine[j];
        else if (mine[j]) {
            memkind_t k = memkind_detect_kind(mine[j]);
            live_bytes[id][k == kinds[1]] -= memtier_usable_size(mine[j]);
            memtier_free(mine[j]);
        }
    }
    return NULL;
}

static void *free_handoff(void *arg) {
    unsigned id = (unsigned)(uintptr_t)arg, from = (id + 1) % NTHR;
    for (int j = 0; j < 64; j++) {
        if (handoff[from][j]) {
            memkind_t k = memkind_detect_kind(handoff[from][j]);
            live_bytes[id][k == MEMKIND_REGULAR] -= memtier_usable_size(handoff[from][j]);
            memtier_kind_free(k, handoff[from][j]);
        }
    }
    return NULL;
}

static void run_threads(void *(*fn)(void *)) {
    pthread_t t[NTHR];
    for (unsigned i = 0; i < NTHR; i++)
        assert_int_equal(pthread_create(&t[i], NULL, fn, (void *)(uintptr_t)i), 0);
    for (unsigned i = 0; i < NTHR; i++)
        pthread_join(t[i], NULL);
    assert_thread_checks();
}

static void test_threads_exact(void **state) {
    (void)state;
    thr_seed = test_seed("memtier_threads");
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO);
    memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1);
    memtier_builder_add_tier(b, MEMKIND_REGULAR, 2);
    shared_mem = memtier_builder_construct_memtier_memory(b);
    assert_non_null(shared_mem);
    memtier_builder_delete(b);
    b = memtier_builder_new(MEMTIER_POLICY_DYNAMIC_THRESHOLD);
    memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1);
    memtier_builder_add_tier(b, MEMKIND_REGULAR, 1);
    unsigned often = 2;
    assert_int_equal(memtier_ctl_set(b, "policy.dynamic_threshold.check_cnt", &often), 0);
    shared_dyn = memtier_builder_construct_memtier_memory(b);
    assert_non_null(shared_dyn);
    memtier_builder_delete(b);
    size_t base0 = memtier_kind_allocated_size(MEMKIND_DEFAULT);
    size_t base1 = memtier_kind_allocated_size(MEMKIND_REGULAR);
    run_threads(thread_main);
    long long want0 = 0, want1 = 0;
    for (int i = 0; i < NTHR; i++)
        want0 += (long long)live_bytes[i][0], want1 += (long long)live_bytes[i][1];
    printf("live after the threads: %lld + %lld bytes\n", want0, want1);
    assert_true(want0 > 0 && want1 > 0);
    assert_int_equal(memtier_kind_allocated_size(MEMKIND_DEFAULT) - base0, (size_t)want0);
    assert_int_equal(memtier_kind_allocated_size(MEMKIND_REGULAR) - base1, (size_t)want1);
    run_threads(free_handoff); // every thread frees another's blocks
    assert_int_equal(memtier_kind_allocated_size(MEMKIND_DEFAULT), base0);
    assert_int_equal(memtier_kind_allocated_size(MEMKIND_REGULAR), base1);
    memtier_delete_memtier_memory(shared_mem);
    memtier_delete_memtier_memory(shared_dyn);
}

// ---- a destroyed kind's counts ----------------------------------------------------

// A kind destroyed with counted blocks: the next kind in its registry slot
// starts from 0 (memkind resets the slot's counts on destroy).
static void test_destroy_resets(void **state) {
    (void)state;
    size_t len = 32u << 20;
    void *area = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(area != MAP_FAILED);
    memkind_t k = NULL, k2 = NULL;
    assert_int_equal(memkind_create_fixed(area, len, &k), 0);
    unsigned slot = k->partition;
    void *p = memtier_kind_malloc(k, 100000);
    assert_non_null(p);
    assert_int_equal(memtier_kind_allocated_size(k), memtier_usable_size(p));
    assert_non_null(memtier_kind_malloc(k, 5000)); // left for the destroy
    assert_int_equal(memkind_destroy_kind(k), 0);
    assert_int_equal(memkind_create_fixed((char *)area + len, len, &k2), 0);
    assert_int_equal(k2->partition, slot); // the freed slot is reused
    assert_int_equal(memtier_kind_allocated_size(k2), 0);
    void *q = memtier_kind_malloc(k2, 64);
    assert_int_equal(memtier_kind_allocated_size(k2), memtier_usable_size(q));
    memtier_free(q);
    assert_int_equal(memtier_kind_allocated_size(k2), 0);
    assert_int_equal(memkind_destroy_kind(k2), 0);
    munmap(area, 2 * len);
}

// ---- bad input --------------------------------------------------------------------

static void test_bad_input(void **state) {
    (void)state;
    capture_begin();
    errno = 0;
    struct memtier_builder *hot = memtier_builder_new((memtier_policy_t)2);
    int e_hot = errno;
    struct memtier_builder *bad = memtier_builder_new((memtier_policy_t)77);
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO);
    int r_null_b = memtier_builder_add_tier(NULL, MEMKIND_DEFAULT, 1);
    int r_null_k = memtier_builder_add_tier(b, NULL, 1);
    int r_zero = memtier_builder_add_tier(b, MEMKIND_DEFAULT, 0);
    int r_ok = memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1);
    int r_twice = memtier_builder_add_tier(b, MEMKIND_DEFAULT, 2);
    struct memtier_memory *m_null = memtier_builder_construct_memtier_memory(NULL);
    struct memtier_builder *empty = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO);
    struct memtier_memory *m_empty = memtier_builder_construct_memtier_memory(empty);
    struct memtier_builder *one = memtier_builder_new(MEMTIER_POLICY_DYNAMIC_THRESHOLD);
    memtier_builder_add_tier(one, MEMKIND_DEFAULT, 1);
    struct memtier_memory *m_one = memtier_builder_construct_memtier_memory(one);
    errno = 0;
    void *p_null = memtier_malloc(NULL, 10);
    int e_null = errno;
    void *c_null = memtier_calloc(NULL, 1, 10);
    void *r_nullm = memtier_realloc(NULL, NULL, 10);
    void *a = (void *)0x77;
    int pm = memtier_posix_memalign(NULL, &a, 64, 64);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    errno = 0;
    void *ovf = memtier_calloc(m, SIZE_MAX / 2, 4);
    int e_ovf = errno;
    void *huge = memtier_malloc(m, SIZE_MAX - 100);
    int kpm = memtier_kind_posix_memalign(MEMKIND_DEFAULT, NULL, 64, 64);
    void *k_null = memtier_kind_malloc(NULL, 10);
    size_t as_null = memtier_kind_allocated_size(NULL);
    size_t before = memtier_kind_allocated_size(MEMKIND_DEFAULT);
    int on_stack = 0;
    memtier_free(&on_stack); // not a block: refused, nothing uncounted
    void *r_foreign = memtier_realloc(m, &on_stack, 100);
    size_t after = memtier_kind_allocated_size(MEMKIND_DEFAULT);
    memtier_delete_memtier_memory(NULL);
    memtier_builder_delete(NULL);
    const char *log = capture_end();
    assert_null(hot);
    assert_int_equal(e_hot, EINVAL);
    assert_null(bad);
    assert_int_equal(r_null_b, -1);
    assert_int_equal(r_null_k, -1);
    assert_int_equal(r_zero, -1);
    assert_int_equal(r_ok, 0);
    assert_int_equal(r_twice, -1);
    assert_null(m_null);
    assert_null(m_empty);
    assert_null(m_one);
    assert_null(p_null);
    assert_int_equal(e_null, EINVAL);
    assert_null(c_null);
    assert_null(r_nullm);
    assert_int_equal(pm, EINVAL);
    assert_ptr_equal(a, (void *)0x77);
    assert_non_null(m);
    assert_null(ovf);
    assert_int_equal(e_ovf, ENOMEM);
    assert_null(huge);
    assert_int_equal(kpm, EINVAL);
    assert_null(k_null);
    assert_int_equal(as_null, 0);
    assert_int_equal(after, before);
    assert_null(r_foreign);
    assert_logged(log, "DATA_HOTNESS is not supported");
    assert_logged(log, "policy 77 is not");
    assert_logged(log, "NULL builder");
    assert_logged(log, "NULL kind");
    assert_logged(log, "ratio 0");
    assert_logged(log, "is already tier 0");
    assert_logged(log, "the builder has no tier");
    assert_logged(log, "DYNAMIC_THRESHOLD needs at least 2 tiers");
    assert_logged(log, "NULL memory");
    assert_logged(log, "overflows");
    assert_logged(log, "NULL memptr");
    assert_logged(log, "is not a block of any kind");
    memtier_delete_memtier_memory(m);
    memtier_builder_delete(b);
    memtier_builder_delete(empty);
    memtier_builder_delete(one);
}

int main(void) {
    setenv("HETMEM_LOG", "error", 0); // the refusals' log lines are checked
    rng = test_seed("memtier");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_ratio_two), cmocka_unit_test(test_static_ratio_three),
        cmocka_unit_test(test_dynamic_placement), cmocka_unit_test(test_dynamic_adapts),
        cmocka_unit_test(test_ctl_set),           cmocka_unit_test(test_heap_calls),
        cmocka_unit_test(test_threads_exact),     cmocka_unit_test(test_destroy_resets),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
