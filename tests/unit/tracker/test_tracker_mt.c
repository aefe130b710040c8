// SPDX-License-Identifier: MIT
// The address map under concurrency, and what a lookup costs.
// Writers add, resize and remove ranges in slots they own while readers
// look up pointers in stable ranges (always found, exact entry), in gaps no
// range ever covers (never found) and in the churning slots (that slot's
// current range with self-consistent values, or nothing; never a torn,
// recycled or foreign entry). Enough removals happen that nodes and leaves
// are recycled many times while readers run. Two layouts: dense (slots
// side by side, deep trees) and sparse (slots spread over high digits, so
// splits and collapses happen near the root). Thread failures are counted
// and reported by the main thread (cmocka asserts only there).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "test_tracker.h"
#include "tracker/tracker_priv.h"
#include "test_seed.h"

// Each slot is 4 KiB. A stable slot holds one stable range in its first
// STABLE_SPAN bytes, followed by a gap that no range ever covers. Every slot
// has SUBS churn sub-slots after that, each holding at most one range at a
// time, owned by one writer. So stable leaves share their nodes with
// churning ones: inner nodes above them are split, collapsed and recycled
// all the time, which is what a racing reader must survive.
#define SLOT 0x1000u
#define STABLE_SPAN 0x400u
#define SUBS 4
#define SUB ((SLOT - STABLE_SPAN) / SUBS) // 0x300
#define NSLOTS 512
#define WRITERS 2
#define READERS 3

typedef struct churn_t {
    bool sparse;
    atomic_bool stop;
    atomic_long failures;
    atomic_flag have_msg;
    char msg[256];
    atomic_long churn_found, churn_missed, writer_ops;
} churn_t;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Dense: slots side by side (one deep subtree). Sparse: slots scattered
// over 2^40 bytes (i * odd mod 2^16 is a bijection), so each slot hangs
// alone near the top and emptying it collapses nodes at high shifts.
static uintptr_t slot_base(const churn_t *c, unsigned i) {
    if (!c->sparse)
        return 0x300000000000ull + (uintptr_t)i * SLOT;
    return 0x310000000000ull + (((uintptr_t)i * 0x9e37u) & 0xffff) * ((uintptr_t)1 << 24);
}

static bool is_stable(unsigned i) { return i % 3 == 0; }
static uintptr_t stable_start(const churn_t *c, unsigned i) { return slot_base(c, i) + 16 * (i % 16); }
static size_t stable_size(unsigned i) { return 0x200 - 16 * (i % 7); }
static uintptr_t sub_base(const churn_t *c, unsigned i, unsigned k) {
    return slot_base(c, i) + STABLE_SPAN + k * SUB;
}
static unsigned owner_of(unsigned i, unsigned k) { return (i * SUBS + k) % WRITERS; }

static void failf(churn_t *c, const char *fmt, ...) {
    if (atomic_fetch_add_explicit(&c->failures, 1, memory_order_relaxed) == 0 &&
        !atomic_flag_test_and_set(&c->have_msg)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
        va_end(ap);
    }
}

static bool values_ok(const tracker_entry_t *e) {
    return e->pool == tt_pool_of(e->start) && e->provider == tt_prov_of(e->start) &&
           e->meta == tt_meta_of(e->start);
}

typedef struct writer_arg_t {
    churn_t *c;
    unsigned id;
    uint64_t deadline;
} writer_arg_t;

// Adds (p = 0.4 when empty), resizes (1/4) or removes (3/4) the range of a
// random sub-slot it owns: about a third of the sub-slots are occupied. It
// checks that its own changes are visible to its own lookups at once.
static void *writer(void *argp) {
    writer_arg_t *a = argp;
    churn_t *c = a->c;
    uint64_t rng = 0x1234567ull + test_seed_base("test_tracker_mt") + a->id * 0x9e3779b97f4a7c15ull;
    struct {
        uintptr_t base, start;
        size_t size;
    } st[NSLOTS * SUBS];
    unsigned n = 0;
    for (unsigned i = 0; i < NSLOTS; i++)
        for (unsigned k = 0; k < SUBS; k++)
            if (owner_of(i, k) == a->id)
                st[n++].base = sub_base(c, i, k), st[n - 1].size = 0;
    long ops = 0;
    for (;;) {
        if ((ops & 255) == 0 && now_ns() > a->deadline)
            break;
        ops++;
        unsigned k = (unsigned)(tt_rand(&rng) % n);
        uintptr_t base = st[k].base;
        uint64_t r = tt_rand(&rng);
        tracker_entry_t e;
        if (!st[k].size) {
            if (r % 5 >= 2)
                continue;
            uintptr_t s = base + 16 * ((r >> 8) % (SUB / 32));
            size_t sz = 16 * (1 + (r >> 24) % ((base + SUB - s) / 16));
            e = tt_entry(s, sz);
            int ret = tracker_add(&e);
            if (ret) {
                failf(c, "writer add %#lx+%zu: %d", (unsigned long)s, sz, ret);
                continue;
            }
            st[k].start = s;
            st[k].size = sz;
            uintptr_t p = s + (r >> 40) % sz;
            if (!tracker_find((void *)p, &e) || e.start != s || e.size != sz || !values_ok(&e))
                failf(c, "writer lost its own range %#lx after add", (unsigned long)s);
        } else if (r % 4 == 0) {
            size_t sz = 16 * (1 + (r >> 8) % ((base + SUB - st[k].start) / 16));
            int ret = tracker_resize(st[k].start, sz);
            if (ret)
                failf(c, "writer resize: %d", ret);
            st[k].size = sz;
            if (!tracker_find((void *)(st[k].start + sz - 1), &e) || e.size != sz)
                failf(c, "writer resize not visible to itself");
            if (st[k].start + sz < base + SUB && tracker_find((void *)(st[k].start + sz), &e))
                failf(c, "writer finds past its shrunk range");
        } else {
            int ret = tracker_remove(st[k].start, &e);
            if (ret || e.start != st[k].start || e.size != st[k].size || !values_ok(&e))
                failf(c, "writer remove %#lx: %d", (unsigned long)st[k].start, ret);
            if (tracker_find((void *)st[k].start, &e))
                failf(c, "writer still finds %#lx after removing it", (unsigned long)st[k].start);
            st[k].size = 0;
        }
    }
    for (unsigned k = 0; k < n; k++)
        if (st[k].size && tracker_remove(st[k].start, NULL))
            failf(c, "writer cleanup");
    atomic_fetch_add_explicit(&c->writer_ops, ops, memory_order_relaxed);
    return NULL;
}

static void *reader(void *argp) {
    churn_t *c = argp;
    static atomic_uint reader_ids;
    uint64_t rng = (test_seed_base("test_tracker_mt") ^ 0xa0761d6478bd642full) +
                   0x9e3779b97f4a7c15ull * (1 + atomic_fetch_add(&reader_ids, 1));
    rng |= 1;
    long found = 0, missed = 0;
    while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
        for (int b = 0; b < 64; b++) {
            unsigned i = (unsigned)(tt_rand(&rng) % NSLOTS);
            uintptr_t base = slot_base(c, i);
            uint64_t r = tt_rand(&rng);
            tracker_entry_t e;
            if (is_stable(i) && r % 2) {
                uintptr_t s = stable_start(c, i);
                size_t sz = stable_size(i);
                uintptr_t p = s + (r >> 8) % sz;
                if (!tracker_find((void *)p, &e) || e.start != s || e.size != sz || !values_ok(&e))
                    failf(c, "stable %#lx: wrong or missing entry for %#lx", (unsigned long)s,
                          (unsigned long)p);
                uintptr_t gap = s + sz + (r >> 32) % (base + STABLE_SPAN - s - sz);
                if (tracker_find((void *)gap, &e))
                    failf(c, "gap pointer %#lx found in %#lx", (unsigned long)gap,
                          (unsigned long)e.start);
                continue;
            }
            unsigned k = (unsigned)(r % SUBS);
            uintptr_t sb = sub_base(c, i, k);
            uintptr_t p = sb + (r >> 8) % SUB;
            if (!tracker_find((void *)p, &e)) {
                missed++;
                continue;
            }
            found++;
            if (e.start < sb || e.start > p || (e.start - sb) % 16 || e.size % 16 ||
                p - e.start >= e.size || e.start + e.size > sb + SUB || !values_ok(&e))
                failf(c, "churn %#lx: torn or foreign entry %#lx+%zu", (unsigned long)p,
                      (unsigned long)e.start, e.size);
        }
    }
    atomic_fetch_add_explicit(&c->churn_found, found, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->churn_missed, missed, memory_order_relaxed);
    return NULL;
}

static void run_churn(bool sparse) {
    static churn_t c; // large message buffer: keep it off the stack
    memset(&c, 0, sizeof(c));
    c.sparse = sparse;
    atomic_flag_clear(&c.have_msg);
    for (unsigned i = 0; i < NSLOTS; i += 3) {
        tracker_entry_t e = tt_entry(stable_start(&c, i), stable_size(i));
        assert_int_equal(tracker_add(&e), 0);
    }
    assert_true(tracker_debug_check());
    tracker_debug_stats_t before, after;
    tracker_debug_stats(&before);
    uint64_t ms = (uint64_t)(600 * tt_scale());
    uint64_t deadline = now_ns() + (ms ? ms : 1) * 1000000u;
    pthread_t w[WRITERS], r[READERS];
    writer_arg_t wa[WRITERS];
    for (unsigned k = 0; k < READERS; k++)
        assert_int_equal(pthread_create(&r[k], NULL, reader, &c), 0);
    for (unsigned k = 0; k < WRITERS; k++) {
        wa[k] = (writer_arg_t){&c, k, deadline};
        assert_int_equal(pthread_create(&w[k], NULL, writer, &wa[k]), 0);
    }
    for (unsigned k = 0; k < WRITERS; k++)
        pthread_join(w[k], NULL);
    atomic_store_explicit(&c.stop, true, memory_order_relaxed);
    for (unsigned k = 0; k < READERS; k++)
        pthread_join(r[k], NULL);
    tracker_debug_stats(&after);
    long fails = atomic_load(&c.failures);
    printf("[ info ] %s churn: %ld writer ops, %llu recycling bumps, reader churn lookups %ld "
           "found / %ld missed\n",
           sparse ? "sparse" : "dense", atomic_load(&c.writer_ops),
           (unsigned long long)(after.generation - before.generation), atomic_load(&c.churn_found),
           atomic_load(&c.churn_missed));
    if (fails)
        fail_msg("%ld failures, first: %s", fails, c.msg);
    assert_true(tracker_debug_check());
    assert_int_equal(tracker_count(), (NSLOTS + 2) / 3);
    // The run must have exercised what it claims to.
    assert_true(after.generation - before.generation >= (TT_SANITIZED ? 1 : 10));
    assert_true(atomic_load(&c.churn_found) > 0);
    assert_true(atomic_load(&c.churn_missed) > 0);
    for (unsigned i = 0; i < NSLOTS; i += 3)
        assert_int_equal(tracker_remove(stable_start(&c, i), NULL), 0);
}

void tt_concurrent_churn(void **state) {
    (void)state;
    run_churn(false);
}

void tt_concurrent_churn_sparse(void **state) {
    (void)state;
    run_churn(true);
}

// Times `n` lookups of the pointers in q (cycled; nq is a power of two);
// returns ns per lookup.
static double time_lookups(const uintptr_t *q, size_t nq, size_t n, size_t *hits) {
    tracker_entry_t e;
    size_t h = 0;
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++)
        h += tracker_find((const void *)q[i & (nq - 1)], &e);
    uint64_t t1 = now_ns();
    *hits = h;
    return (double)(t1 - t0) / (double)n;
}

// n chunk-like ranges (the heap engine's case): 2 MiB apart, up to 2 MiB
// each, looked up at random interior pointers. Prints the cost of a lookup,
// an add and a remove.
static void chunk_cost(size_t n, uintptr_t *q, size_t nq, size_t nlook) {
    uintptr_t *cs = malloc(n * sizeof(*cs));
    size_t *csz = malloc(n * sizeof(*csz));
    assert_true(cs && csz);
    uint64_t rng = 42 + n + test_seed_base("test_tracker_mt"), hits;
    for (size_t i = 0; i < n; i++) {
        cs[i] = 0x7f0000000000ull + i * ((size_t)2 << 20);
        csz[i] = 4096 * (1 + tt_rand(&rng) % 512);
    }
    uint64_t t0 = 0, t1 = 0;
    for (int round = 0; round < 2; round++) { // the first one maps fresh meta memory
        if (round)
            for (size_t i = 0; i < n; i++)
                assert_int_equal(tracker_remove(cs[i], NULL), 0);
        t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            tracker_entry_t e = tt_entry(cs[i], csz[i]);
            assert_int_equal(tracker_add(&e), 0);
        }
        t1 = now_ns();
    }
    for (size_t i = 0; i < nq; i++) {
        size_t k = tt_rand(&rng) % n;
        q[i] = cs[k] + tt_rand(&rng) % csz[k];
    }
    size_t h;
    time_lookups(q, nq, nq, &h); // warm up
    double ns = time_lookups(q, nq, nlook, &h);
    hits = h;
    assert_int_equal(hits, nlook);
    uint64_t t2 = now_ns();
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tracker_remove(cs[i], NULL), 0);
    uint64_t t3 = now_ns();
    printf("[ info ] tracker_find %5.1f ns with %6zu chunk ranges; add %4.0f ns, remove %4.0f ns%s\n",
           ns, n, (double)(t1 - t0) / (double)n, (double)(t3 - t2) / (double)n,
           TT_SANITIZED ? " [sanitized build]" : "");
    free(cs);
    free(csz);
}

// Not asserted: prints what a lookup, an add and a remove cost here.
void tt_lookup_cost(void **state) {
    (void)state;
    double sc = tt_scale();
    // Sanitized builds only show that the code runs: their figures mean little.
    size_t nq = TT_SANITIZED ? 1 << 12 : 1 << 16, hits;
    size_t nlook = (size_t)((TT_SANITIZED ? 200000 : 1000000) * sc) + 1;
    uintptr_t *q = malloc(nq * sizeof(*q));
    assert_non_null(q);
    uint64_t rng = 42 + test_seed_base("test_tracker_mt");
    for (size_t n = 256; n <= 16384; n *= 4)
        chunk_cost(n, q, nq, nlook);

    // Many small ranges packed side by side (the proxy pool's case).
    size_t nsmall = (size_t)(100000 * sc) + 1000;
    uintptr_t *ss = malloc(nsmall * sizeof(*ss));
    assert_non_null(ss);
    uintptr_t p = 0x7e0000000000ull;
    for (size_t i = 0; i < nsmall; i++) {
        size_t sz = 16 * (1 + tt_rand(&rng) % 64);
        tracker_entry_t e = tt_entry(p, sz);
        assert_int_equal(tracker_add(&e), 0);
        ss[i] = p;
        p += sz;
    }
    for (size_t i = 0; i < nq; i++)
        q[i] = ss[tt_rand(&rng) % nsmall] + tt_rand(&rng) % 16;
    time_lookups(q, nq, nq, &hits);
    double ns_small = time_lookups(q, nq, nlook, &hits);
    assert_int_equal(hits, nlook);
    for (size_t i = 0; i < nsmall; i++)
        assert_int_equal(tracker_remove(ss[i], NULL), 0);
    printf("[ info ] tracker_find %5.1f ns with %6zu small ranges side by side%s\n", ns_small,
           nsmall, TT_SANITIZED ? " [sanitized build]" : "");
    free(ss);
    free(q);
}
