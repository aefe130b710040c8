// SPDX-License-Identifier: MIT
// range_alloc: alignment, exhaustion, coalescing back to one range, split
// and merge, refused bad frees, regions, random operations checked against
// a reference bitmap, and four threads at once. The managed addresses are
// never touched (they are mostly not even mapped), which is the point:
// the allocator's metadata is out of band.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/range_alloc.h"
#include "range_alloc_check.h"
#include "test_seed.h"

// An address range nothing is mapped at (the allocator never dereferences).
#define FAKE_BASE ((uintptr_t)0x7e0000000000ull)
#define MiB ((size_t)1 << 20)

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static range_alloc_stats_t stats(range_alloc_t *ra) {
    range_alloc_stats_t st;
    memset(&st, 0xff, sizeof st);
    range_alloc_stats(ra, &st);
    return st;
}

static void assert_pristine(range_alloc_t *ra, size_t total) {
    range_alloc_stats_t st = stats(ra);
    assert_true(range_alloc_check(ra));
    assert_int_equal(st.total, total);
    assert_int_equal(st.allocated, 0);
    assert_int_equal(st.used_ranges, 0);
    assert_int_equal(st.free_ranges, st.regions);
    if (st.regions == 1)
        assert_int_equal(st.largest_free, total);
}

static void create_bad_args(void **state) {
    (void)state;
    range_alloc_t *ra = (range_alloc_t *)0x1;
    assert_int_equal(range_alloc_create(0, 4096, &ra), EINVAL);
    assert_int_equal(range_alloc_create(UINTPTR_MAX - 10, 4096, &ra), EINVAL);
    assert_int_equal(range_alloc_create(FAKE_BASE, 4096, NULL), EINVAL);
    assert_ptr_equal(ra, (range_alloc_t *)0x1);
    assert_int_equal(range_alloc_create(FAKE_BASE, 4096, &ra), 0);
    uintptr_t a = 7;
    assert_int_equal(range_alloc_alloc(ra, 0, 0, &a), EINVAL);
    assert_int_equal(range_alloc_alloc(ra, 16, 3, &a), EINVAL);
    assert_int_equal(range_alloc_alloc(ra, 16, 0, NULL), EINVAL);
    assert_int_equal(a, 7);
    range_alloc_destroy(ra);
    range_alloc_destroy(NULL);
}

static void alignment(void **state) {
    (void)state;
    range_alloc_t *ra;
    // An odd base: every alignment must be produced by padding.
    uintptr_t base = FAKE_BASE + 8;
    size_t total = 64 * MiB;
    assert_int_equal(range_alloc_create(base, total, &ra), 0);
    uintptr_t got[32];
    int n = 0;
    for (size_t align = 1; align <= 16 * MiB; align <<= 1) {
        uintptr_t a;
        assert_int_equal(range_alloc_alloc(ra, 100, align, &a), 0);
        assert_int_equal(a % align, 0);
        assert_true(a >= base && a + 100 <= base + total);
        got[n++] = a;
        assert_true(range_alloc_check(ra));
    }
    // First fit: the unaligned allocation comes first, at the very base.
    assert_int_equal(got[0], base);
    for (int i = n - 1; i >= 0; i--)
        assert_int_equal(range_alloc_free(ra, got[i], 100), 0);
    assert_pristine(ra, total);
    // An alignment the region cannot meet.
    range_alloc_t *small;
    assert_int_equal(range_alloc_create(FAKE_BASE + 1, 4096, &small), 0);
    uintptr_t a;
    assert_int_equal(range_alloc_alloc(small, 4095, 4096, &a), ENOMEM);
    assert_int_equal(range_alloc_alloc(small, 1, 8192, &a), ENOMEM);
    assert_int_equal(range_alloc_alloc(small, 4095, 4096 * 0 + 1, &a), 0);
    range_alloc_destroy(small);
    range_alloc_destroy(ra);
}

// Many free ranges that are large enough but misaligned lie below the only
// place that fits: the bounded first-fit walk must fall back, not fail.
static void alignment_fallback(void **state) {
    (void)state;
    range_alloc_t *ra;
    assert_int_equal(range_alloc_create(FAKE_BASE, 64 * MiB, &ra), 0);
    uintptr_t filler, r[400];
    assert_int_equal(range_alloc_alloc(ra, 4096, 1, &filler), 0);
    for (int i = 0; i < 400; i++)
        assert_int_equal(range_alloc_alloc(ra, 8192, 1, &r[i]), 0);
    for (int i = 0; i < 400; i += 2)
        assert_int_equal(range_alloc_free(ra, r[i], 8192), 0);
    // 200 holes of 8 KiB at 4 KiB (not 8 KiB) boundaries.
    uintptr_t a;
    assert_int_equal(range_alloc_alloc(ra, 8192, 8192, &a), 0);
    assert_int_equal(a % 8192, 0);
    assert_true(a > r[399]);
    assert_true(range_alloc_check(ra));
    // Without the alignment the lowest hole is taken.
    uintptr_t b;
    assert_int_equal(range_alloc_alloc(ra, 8192, 1, &b), 0);
    assert_int_equal(b, r[0]);
    range_alloc_destroy(ra);
}

static void exhaustion(void **state) {
    (void)state;
    range_alloc_t *ra;
    assert_int_equal(range_alloc_create(FAKE_BASE, MiB, &ra), 0);
    uintptr_t a[4], x;
    for (int i = 0; i < 4; i++)
        assert_int_equal(range_alloc_alloc(ra, MiB / 4, 0, &a[i]), 0);
    assert_int_equal(range_alloc_alloc(ra, 1, 0, &x), ENOMEM);
    assert_int_equal(stats(ra).free_ranges, 0);
    assert_int_equal(range_alloc_free(ra, a[2], MiB / 4), 0);
    assert_int_equal(range_alloc_alloc(ra, MiB / 4 + 1, 0, &x), ENOMEM);
    assert_int_equal(range_alloc_alloc(ra, MiB / 4, 0, &x), 0);
    assert_int_equal(x, a[2]);
    for (int i = 0; i < 4; i++)
        assert_int_equal(range_alloc_free(ra, a[i], 0), 0); // size 0: whole range
    assert_pristine(ra, MiB);
    assert_int_equal(range_alloc_alloc(ra, MiB + 1, 0, &x), ENOMEM);
    assert_int_equal(range_alloc_alloc(ra, SIZE_MAX, 0, &x), ENOMEM);
    assert_int_equal(range_alloc_alloc(ra, MiB, 0, &x), 0);
    assert_int_equal(x, FAKE_BASE);
    range_alloc_destroy(ra);
}

static void coalesce_random_order(void **state) {
    (void)state;
    range_alloc_t *ra;
    size_t total = 256 * MiB;
    assert_int_equal(range_alloc_create(FAKE_BASE, total, &ra), 0);
    enum { N = 3000 };
    static uintptr_t addr[N];
    static size_t size[N];
    int n = 0;
    while (n < N) {
        size[n] = 1 + rnd() % 100000;
        size_t align = (size_t)1 << (rnd() % 13);
        if (range_alloc_alloc(ra, size[n], align, &addr[n]))
            break;
        n++;
    }
    assert_true(n > 1000);
    assert_true(range_alloc_check(ra));
    for (int i = n - 1; i > 0; i--) { // shuffle
        int j = (int)(rnd() % (uint64_t)(i + 1));
        uintptr_t ta = addr[i];
        size_t ts = size[i];
        addr[i] = addr[j];
        size[i] = size[j];
        addr[j] = ta;
        size[j] = ts;
    }
    for (int i = 0; i < n; i++) {
        assert_int_equal(range_alloc_free(ra, addr[i], size[i]), 0);
        if (i % 97 == 0)
            assert_true(range_alloc_check(ra));
    }
    assert_pristine(ra, total);
    range_alloc_destroy(ra);
}

static void split_merge(void **state) {
    (void)state;
    range_alloc_t *ra;
    assert_int_equal(range_alloc_create(FAKE_BASE, MiB, &ra), 0);
    uintptr_t a, b;
    assert_int_equal(range_alloc_alloc(ra, 3 * 4096, 4096, &a), 0);
    // Bad splits change nothing.
    assert_int_equal(range_alloc_split(ra, a, 2 * 4096, 4096), EINVAL);  // wrong total
    assert_int_equal(range_alloc_split(ra, a, 3 * 4096, 0), EINVAL);
    assert_int_equal(range_alloc_split(ra, a, 3 * 4096, 3 * 4096), EINVAL);
    assert_int_equal(range_alloc_split(ra, a + 4096, 2 * 4096, 4096), EINVAL); // interior
    assert_int_equal(range_alloc_split(ra, a + 3 * 4096, 4096, 100), EINVAL);  // free range
    assert_int_equal(stats(ra).used_ranges, 1);
    // 3 pages -> 1 + 2 -> 1 + 1 + 1.
    assert_int_equal(range_alloc_split(ra, a, 3 * 4096, 4096), 0);
    assert_int_equal(range_alloc_split(ra, a + 4096, 2 * 4096, 4096), 0);
    assert_int_equal(stats(ra).used_ranges, 3);
    assert_true(range_alloc_check(ra));
    // The old whole size no longer frees anything.
    assert_int_equal(range_alloc_free(ra, a, 3 * 4096), EINVAL);
    // Bad merges.
    assert_int_equal(range_alloc_merge(ra, a, a + 2 * 4096, 2 * 4096), EINVAL); // not adjacent
    assert_int_equal(range_alloc_merge(ra, a, a + 4096, 3 * 4096), EINVAL);     // wrong total
    assert_int_equal(range_alloc_merge(ra, a + 4096, a, 2 * 4096), EINVAL);     // reversed
    assert_int_equal(range_alloc_merge(ra, a + 2 * 4096, a + 3 * 4096, 2 * 4096), EINVAL); // free
    // Merge the last two back, free the first alone, then the merged pair.
    assert_int_equal(range_alloc_merge(ra, a + 4096, a + 2 * 4096, 2 * 4096), 0);
    assert_int_equal(stats(ra).used_ranges, 2);
    assert_int_equal(range_alloc_free(ra, a + 4096, 4096), EINVAL); // old size
    assert_int_equal(range_alloc_free(ra, a, 4096), 0);
    assert_int_equal(range_alloc_free(ra, a + 4096, 2 * 4096), 0);
    assert_pristine(ra, MiB);
    // Split at an odd byte: both halves are exact.
    assert_int_equal(range_alloc_alloc(ra, 1000, 0, &b), 0);
    assert_int_equal(range_alloc_split(ra, b, 1000, 333), 0);
    uintptr_t s;
    size_t sz;
    assert_int_equal(range_alloc_find(ra, b + 333, &s, &sz), 0);
    assert_int_equal(s, b + 333);
    assert_int_equal(sz, 667);
    assert_int_equal(range_alloc_free(ra, b + 333, 667), 0);
    assert_int_equal(range_alloc_free(ra, b, 333), 0);
    assert_pristine(ra, MiB);
    range_alloc_destroy(ra);
}

static void bad_frees(void **state) {
    (void)state;
    range_alloc_t *ra;
    assert_int_equal(range_alloc_create(FAKE_BASE, MiB, &ra), 0);
    uintptr_t a, b;
    assert_int_equal(range_alloc_alloc(ra, 8192, 0, &a), 0);
    assert_int_equal(range_alloc_alloc(ra, 8192, 0, &b), 0);
    range_alloc_stats_t before = stats(ra);
    assert_int_equal(range_alloc_free(ra, a + 1, 8191), EINVAL);        // interior
    assert_int_equal(range_alloc_free(ra, a, 4096), EINVAL);            // wrong size
    assert_int_equal(range_alloc_free(ra, a, 16384), EINVAL);           // spans two
    assert_int_equal(range_alloc_free(ra, FAKE_BASE + MiB, 4096), EINVAL); // outside
    assert_int_equal(range_alloc_free(ra, 0x1000, 4096), EINVAL);       // foreign
    assert_int_equal(range_alloc_free(ra, b + 8192, 4096), EINVAL);     // free space
    range_alloc_stats_t after = stats(ra);
    assert_memory_equal(&before, &after, sizeof before);
    assert_true(range_alloc_check(ra));
    assert_int_equal(range_alloc_free(ra, a, 8192), 0);
    assert_int_equal(range_alloc_free(ra, a, 8192), EINVAL); // double free
    assert_int_equal(range_alloc_find(ra, a, NULL, NULL), ENOENT);
    assert_int_equal(range_alloc_find(ra, b + 100, NULL, NULL), 0);
    assert_int_equal(range_alloc_free(ra, b, 8192), 0);
    assert_pristine(ra, MiB);
    range_alloc_destroy(ra);
}

static void regions(void **state) {
    (void)state;
    range_alloc_t *ra;
    assert_int_equal(range_alloc_create(0, 0, &ra), 0);
    uintptr_t a, b, c;
    assert_int_equal(range_alloc_alloc(ra, 1, 0, &a), ENOMEM);
    assert_int_equal(range_alloc_add_region(ra, FAKE_BASE + MiB, MiB), 0);
    // Overlapping regions are refused; an adjacent one is separate.
    assert_int_equal(range_alloc_add_region(ra, FAKE_BASE + MiB + 4096, MiB), EINVAL);
    assert_int_equal(range_alloc_add_region(ra, FAKE_BASE + 4096, MiB), EINVAL);
    assert_int_equal(range_alloc_add_region(ra, FAKE_BASE, MiB), 0);
    assert_int_equal(stats(ra).free_ranges, 2); // adjacent but not coalesced
    // Nothing spans the boundary: 2 MiB do not fit although 2 MiB are free.
    assert_int_equal(range_alloc_alloc(ra, 2 * MiB, 0, &a), ENOMEM);
    assert_int_equal(range_alloc_alloc(ra, MiB, 0, &a), 0);
    assert_int_equal(range_alloc_alloc(ra, MiB, 0, &b), 0);
    assert_int_equal(a, FAKE_BASE);
    assert_int_equal(b, FAKE_BASE + MiB);
    assert_int_equal(range_alloc_merge(ra, a, b, 2 * MiB), EINVAL); // across regions
    // Extend the upper region; its free tail coalesces with the new part.
    assert_int_equal(range_alloc_extend(ra, FAKE_BASE + 3 * MiB, MiB), EINVAL); // no such end
    assert_int_equal(range_alloc_extend(ra, FAKE_BASE + MiB, MiB), EINVAL); // runs into next
    assert_int_equal(range_alloc_extend(ra, FAKE_BASE + 2 * MiB, MiB), 0);
    assert_int_equal(range_alloc_alloc(ra, MiB, 0, &c), 0);
    assert_int_equal(c, FAKE_BASE + 2 * MiB);
    assert_int_equal(range_alloc_merge(ra, b, c, 2 * MiB), 0); // same region
    assert_int_equal(range_alloc_free(ra, b, 2 * MiB), 0);
    assert_int_equal(range_alloc_free(ra, a, MiB), 0);
    assert_pristine(ra, 3 * MiB);
    assert_int_equal(stats(ra).regions, 2);
    for (int i = 0; i < 40; i++) // many regions: the array grows
        assert_int_equal(range_alloc_add_region(ra, FAKE_BASE + (size_t)(10 + i) * MiB, 4096), 0);
    assert_pristine(ra, 3 * MiB + 40 * 4096);
    range_alloc_destroy(ra);
}

// Random alloc/free/split/merge against a bitmap of the region's bytes,
// including the claim that ENOMEM means no aligned fit exists anywhere.
#define BM_SIZE (64 * 1024)
static unsigned char owner[BM_SIZE]; // 1 = allocated

static bool fits_anywhere(size_t size, size_t align) {
    for (size_t s = 0; s + size <= BM_SIZE; s++) {
        if ((FAKE_BASE + s) % align)
            continue;
        size_t k = 0;
        while (k < size && !owner[s + k])
            k++;
        if (k == size)
            return true;
        s += k; // skip past the allocated byte
    }
    return false;
}

static void random_vs_bitmap(void **state) {
    (void)state;
    range_alloc_t *ra;
    assert_int_equal(range_alloc_create(FAKE_BASE, BM_SIZE, &ra), 0);
    memset(owner, 0, sizeof owner);
    enum { MAXA = 512 };
    uintptr_t addr[MAXA];
    size_t size[MAXA];
    int n = 0, enomem = 0;
    for (int op = 0; op < 30000; op++) {
        unsigned what = (unsigned)(rnd() % 10);
        if (what < 5 && n < MAXA) {
            size_t sz = 1 + rnd() % (rnd() % 4 ? 300 : 4000);
            size_t align = (size_t)1 << (rnd() % 10);
            uintptr_t a;
            int e = range_alloc_alloc(ra, sz, align, &a);
            if (e) {
                assert_int_equal(e, ENOMEM);
                assert_false(fits_anywhere(sz, align));
                enomem++;
                continue;
            }
            assert_int_equal(a % align, 0);
            assert_true(a >= FAKE_BASE && a + sz <= FAKE_BASE + BM_SIZE);
            for (size_t k = 0; k < sz; k++) {
                assert_int_equal(owner[a - FAKE_BASE + k], 0);
                owner[a - FAKE_BASE + k] = 1;
            }
            addr[n] = a;
            size[n++] = sz;
        } else if (what < 8 && n) {
            int i = (int)(rnd() % (uint64_t)n);
            assert_int_equal(range_alloc_free(ra, addr[i], size[i]), 0);
            memset(&owner[addr[i] - FAKE_BASE], 0, size[i]);
            addr[i] = addr[--n];
            size[i] = size[n];
        } else if (what == 8 && n && n < MAXA) {
            int i = (int)(rnd() % (uint64_t)n);
            if (size[i] < 2)
                continue;
            size_t first = 1 + rnd() % (size[i] - 1);
            assert_int_equal(range_alloc_split(ra, addr[i], size[i], first), 0);
            addr[n] = addr[i] + first;
            size[n++] = size[i] - first;
            size[i] = first;
        } else if (what == 9 && n > 1) {
            // Merge i with the allocation right after it, when there is one.
            int i = (int)(rnd() % (uint64_t)n), j = -1;
            for (int k = 0; k < n; k++)
                if (addr[k] == addr[i] + size[i])
                    j = k;
            if (j < 0) {
                assert_int_equal(range_alloc_merge(ra, addr[i], addr[i] + size[i] + 1,
                                                   size[i] + 1), EINVAL);
                continue;
            }
            assert_int_equal(range_alloc_merge(ra, addr[i], addr[j], size[i] + size[j]), 0);
            size[i] += size[j];
            addr[j] = addr[--n];
            size[j] = size[n];
        }
        if (op % 500 == 0) {
            assert_true(range_alloc_check(ra));
            range_alloc_stats_t st = stats(ra);
            size_t used = 0;
            for (int k = 0; k < n; k++)
                used += size[k];
            assert_int_equal(st.allocated, used);
            assert_int_equal(st.used_ranges, (size_t)n);
        }
    }
    assert_true(enomem > 0); // the test did reach exhaustion
    while (n) {
        n--;
        assert_int_equal(range_alloc_free(ra, addr[n], size[n]), 0);
    }
    assert_pristine(ra, BM_SIZE);
    range_alloc_destroy(ra);
}

// Four threads allocate and free at once. Every 64-byte unit has an owner
// slot that a thread claims with a compare-and-swap: a range handed out
// twice would find a unit already owned.
#define MT_UNITS 16384
#define MT_UNIT 64
static _Atomic int mt_owner[MT_UNITS];
static range_alloc_t *mt_ra;

static void *mt_worker(void *arg) {
    int id = (int)(intptr_t)arg;
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)id + test_seed_base("test_range_alloc");
    uintptr_t mine[64];
    size_t msz[64];
    int n = 0;
    bool ok = true;
    for (int op = 0; op < 20000 && ok; op++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        if ((s & 1) && n < 64) {
            size_t units = 1 + (s >> 8) % 32;
            uintptr_t a;
            if (range_alloc_alloc(mt_ra, units * MT_UNIT, MT_UNIT, &a))
                continue;
            size_t u0 = (a - FAKE_BASE) / MT_UNIT;
            for (size_t k = 0; k < units; k++) {
                int expect = 0;
                if (!atomic_compare_exchange_strong(&mt_owner[u0 + k], &expect, id))
                    ok = false;
            }
            mine[n] = a;
            msz[n++] = units * MT_UNIT;
        } else if (n) {
            int i = (int)((s >> 16) % (uint64_t)n);
            size_t u0 = (mine[i] - FAKE_BASE) / MT_UNIT;
            for (size_t k = 0; k < msz[i] / MT_UNIT; k++)
                atomic_store(&mt_owner[u0 + k], 0);
            if (range_alloc_free(mt_ra, mine[i], msz[i]))
                ok = false;
            mine[i] = mine[--n];
            msz[i] = msz[n];
        }
    }
    while (n--) {
        size_t u0 = (mine[n] - FAKE_BASE) / MT_UNIT;
        for (size_t k = 0; k < msz[n] / MT_UNIT; k++)
            atomic_store(&mt_owner[u0 + k], 0);
        if (range_alloc_free(mt_ra, mine[n], msz[n]))
            ok = false;
    }
    return ok ? NULL : (void *)1;
}

static void four_threads(void **state) {
    (void)state;
    // Small enough that the threads run out and contend for ranges.
    assert_int_equal(range_alloc_create(FAKE_BASE, (size_t)MT_UNITS * MT_UNIT, &mt_ra), 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, mt_worker, (void *)(intptr_t)(i + 1)), 0);
    for (int i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    assert_pristine(mt_ra, (size_t)MT_UNITS * MT_UNIT);
    range_alloc_destroy(mt_ra);
}

// Thousands of ranges: operations stay fast (a linear structure would
// make this test crawl under the sanitizers).
static void many_ranges(void **state) {
    (void)state;
    range_alloc_t *ra;
    enum { N = 50000 };
    assert_int_equal(range_alloc_create(FAKE_BASE, (size_t)N * 2 * 4096, &ra), 0);
    static uintptr_t a[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(range_alloc_alloc(ra, 4096, 4096, &a[i]), 0);
    for (int i = 0; i < N; i += 2) // N/2 separate holes
        assert_int_equal(range_alloc_free(ra, a[i], 4096), 0);
    assert_int_equal(stats(ra).free_ranges, N / 2 + 1);
    // Each of these must skip all the 4 KiB holes: O(log n) with the max.
    for (int i = 0; i < 1000; i++) {
        uintptr_t x;
        assert_int_equal(range_alloc_alloc(ra, 8192, 4096, &x), 0);
        assert_true(x > a[N - 1]);
    }
    assert_true(range_alloc_check(ra));
    range_alloc_destroy(ra);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_bad_args),   cmocka_unit_test(alignment),
        cmocka_unit_test(alignment_fallback), cmocka_unit_test(exhaustion),
        cmocka_unit_test(coalesce_random_order), cmocka_unit_test(split_merge),
        cmocka_unit_test(bad_frees),         cmocka_unit_test(regions),
        cmocka_unit_test(random_vs_bitmap),  cmocka_unit_test(four_threads),
        cmocka_unit_test(many_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
