// SPDX-License-Identifier: MIT
// A memtier program built against Debian's memkind 1.14 headers
// (memkind_memtier.h, whose memtier_free is inline), run on hetmem's
// libmemkind.so.0: both policies, memtier_ctl_set, the heap calls and the
// counters, checked with real numbers. Prints "ok"/"not ok" lines; exits 1
// on any failure.
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <memkind_memtier.h>

#include "../../test_report.h"

#define N 3000

static void static_ratio(void) {
    static void *p[N];
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO);
    report(b && memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1) == 0 &&
              memtier_builder_add_tier(b, MEMKIND_REGULAR, 3) == 0,
          "static builder with DEFAULT:REGULAR = 1:3");
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    memtier_builder_delete(b);
    size_t base0 = memtier_kind_allocated_size(MEMKIND_DEFAULT);
    size_t base1 = memtier_kind_allocated_size(MEMKIND_REGULAR);
    size_t in0 = 0, in1 = 0;
    for (int i = 0; i < N; i++) {
        p[i] = memtier_malloc(m, 64 + (size_t)(i * 7919) % 16384);
        if (!p[i])
            break;
        if (memkind_detect_kind(p[i]) == MEMKIND_DEFAULT)
            in0 += memtier_usable_size(p[i]);
        else
            in1 += memtier_usable_size(p[i]);
    }
    size_t got0 = memtier_kind_allocated_size(MEMKIND_DEFAULT) - base0;
    size_t got1 = memtier_kind_allocated_size(MEMKIND_REGULAR) - base1;
    report(got0 == in0 && got1 == in1, "counters %zu + %zu == blocks %zu + %zu", got0, got1, in0,
          in1);
    double share = (double)in1 / (double)(in0 + in1);
    report(share > 0.74 && share < 0.76, "REGULAR holds %.4f of the bytes (3/4 wanted)", share);
    for (int i = 0; i < N; i++)
        memtier_free(p[i]); // inline in Debian's header: memtier_kind_free(NULL, p)
    report(memtier_kind_allocated_size(MEMKIND_DEFAULT) == base0 &&
              memtier_kind_allocated_size(MEMKIND_REGULAR) == base1,
          "memtier_free uncounts every block");
    memtier_delete_memtier_memory(m);
}

static void dynamic_threshold(void) {
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_DYNAMIC_THRESHOLD);
    memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1);
    memtier_builder_add_tier(b, MEMKIND_REGULAR, 1);
    size_t val = 1500;
    unsigned cnt = 100000;
    report(memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[0].val", &val) == 0 &&
              memtier_ctl_set(b, "policy.dynamic_threshold.check_cnt", &cnt) == 0,
          "ctl_set thresholds[0].val and check_cnt");
    report(memtier_ctl_set(b, "policy.dynamic_threshold.thresholds[1].val", &val) != 0,
          "ctl_set of a threshold that does not exist fails");
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    memtier_builder_delete(b);
    void *small = memtier_malloc(m, 1499), *big = memtier_calloc(m, 1, 1500);
    report(memkind_detect_kind(small) == MEMKIND_DEFAULT && memkind_detect_kind(big) == MEMKIND_REGULAR,
          "1499 bytes in tier 0, 1500 in tier 1");
    void *r = memtier_realloc(m, small, 10000);
    report(r && memkind_detect_kind(r) == MEMKIND_DEFAULT, "realloc stays in its kind");
    void *a = NULL;
    report(memtier_posix_memalign(m, &a, 4096, 64) == 0 && ((size_t)a & 4095) == 0,
          "posix_memalign 4096");
    memtier_free(r);
    memtier_free(big);
    memtier_kind_free(NULL, a);
    memtier_delete_memtier_memory(m);
}

// DYNAMIC_THRESHOLD over 60000 allocations of 512..2047 bytes at 1:1: the
// bytes ratio every 5000 ("trace" lines: the run-memtier-abi-test compares
// them between memkind's library and ours, same algorithm, same numbers).
static void dynamic_trace(void) {
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_DYNAMIC_THRESHOLD);
    memtier_builder_add_tier(b, MEMKIND_DEFAULT, 1);
    memtier_builder_add_tier(b, MEMKIND_REGULAR, 1);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    memtier_builder_delete(b);
    static void *p[60000];
    size_t b0 = memtier_kind_allocated_size(MEMKIND_DEFAULT);
    size_t b1 = memtier_kind_allocated_size(MEMKIND_REGULAR);
    unsigned long long x = 12345;
    for (int i = 0; i < 60000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = memtier_malloc(m, 512 + (size_t)(x >> 33) % 1536);
        if ((i + 1) % 5000 == 0) {
            double d0 = (double)(memtier_kind_allocated_size(MEMKIND_DEFAULT) - b0);
            double d1 = (double)(memtier_kind_allocated_size(MEMKIND_REGULAR) - b1);
            printf("trace %d %.2f\n", i + 1, d1 / d0);
        }
    }
    for (int i = 0; i < 60000; i++)
        memtier_free(p[i]);
    memtier_delete_memtier_memory(m);
}

int main(void) {
    static_ratio();
    dynamic_trace();
    dynamic_threshold();
    errno = 0;
    report(memtier_builder_new(MEMTIER_POLICY_MAX_VALUE) == NULL, "an unknown policy is refused");
    void *k = memtier_kind_malloc(MEMKIND_DEFAULT, 100);
    report(k && memtier_kind_allocated_size(MEMKIND_DEFAULT) >= 100, "memtier_kind_malloc counted");
    memtier_kind_free(MEMKIND_DEFAULT, k);
    return report_failures ? 1 : 0;
}
