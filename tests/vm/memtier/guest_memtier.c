// SPDX-License-Identifier: MIT
// guest_memtier: memtier (memkind_memtier.h) in the tiers3 guest, linked to
// libmemkind.so.0 as a program is. Three tiers on three nodes:
//   tier 0  MEMKIND_DEFAULT       node 0 (DRAM, the CPUs' node)
//   tier 1  MEMKIND_HBW           node 2 (HBM-like)
//   tier 2  a fixed kind over memory mbind()-ed to node 1 (CXL-like)
// and the pages of each tier are counted with move_pages(2) (guest_pages.h):
//   static     STATIC_RATIO 1:2:1, page-aligned blocks of 64 KiB..1 MiB: every
//              page of a tier is on its node, and the tiers' pages keep the
//              ratio within one block (+1 page of rounding) - the bound of
//              memkind's rule: a tier gets a block only while it is behind
//              tier 0, and tier 0 only while no tier is;
//   dynamic    DYNAMIC_THRESHOLD 1:1 over nodes 0 and 2, sizes 1000..1399
//              (the default threshold, 1024, must move up to split them):
//              every block on its tier's node, bytes within 10 % of 1:1
//              (the host run of the same sequence ends 1-2 % off; memkind
//              1.14 gives the same numbers, memkind_abi_memtier).
// Prints "ok"/"not ok" lines; exits 1 if anything failed, 2 on usage.
#include <errno.h>
#include <numaif.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <memkind_memtier.h>

#include "guest_pages.h"

#include "../../test_report.h"

static uint64_t rng = 0x5eed1234abcdull;
static uint64_t next_rand(void) {
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#define MB (1u << 20)
#define FIXED_SIZE (128u * MB)

// A fixed kind over FIXED_SIZE bytes bound to `node`.
static memkind_t fixed_kind_on(int node) {
    void *a = mmap(NULL, FIXED_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned long mask = 1ul << node;
    memkind_t k = NULL;
    if (a == MAP_FAILED || mbind(a, FIXED_SIZE, MPOL_BIND, &mask, 64, 0) != 0 ||
        madvise(a, FIXED_SIZE, MADV_NOHUGEPAGE) != 0 ||
        memkind_create_fixed(a, FIXED_SIZE, &k) != 0) {
        report(false, "fixed kind on node %d: %s", node, strerror(errno));
        return NULL;
    }
    return k;
}

#define NTIERS 3
static const int tier_node[NTIERS] = {0, 2, 1};

// The tier of p, or -1.
static int tier_of(memkind_t *kinds, unsigned n, void *p) {
    memkind_t k = memkind_detect_kind(p);
    for (unsigned t = 0; t < n; t++)
        if (kinds[t] == k)
            return (int)t;
    return -1;
}

#define NBLK 400
static void *blk[NBLK];

static void case_static(void) {
    memkind_t kinds[NTIERS] = {MEMKIND_DEFAULT, MEMKIND_HBW, fixed_kind_on(1)};
    const unsigned ratio[NTIERS] = {1, 2, 1};
    if (!kinds[2])
        return;
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_STATIC_RATIO);
    for (unsigned t = 0; t < NTIERS; t++)
        if (memtier_builder_add_tier(b, kinds[t], ratio[t]) != 0)
            report(false, "add tier %u", t);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    memtier_builder_delete(b);
    if (!m) {
        report(false, "construct the static memory");
        return;
    }
    size_t ps = gp_page_size(), pages[NTIERS] = {0}, bytes[NTIERS] = {0}, maxpages = 0;
    size_t wrong[NTIERS] = {0}, base[NTIERS];
    bool counted = true;
    for (unsigned t = 0; t < NTIERS; t++)
        base[t] = memtier_kind_allocated_size(kinds[t]);
    for (int i = 0; i < NBLK; i++) {
        size_t sz = (16 + next_rand() % 241) * ps; // 64 KiB .. 1 MiB
        blk[i] = NULL;
        if (memtier_posix_memalign(m, &blk[i], ps, sz) != 0) {
            report(false, "block %d of %zu bytes: %s", i, sz, strerror(errno));
            break;
        }
        int t = tier_of(kinds, NTIERS, blk[i]);
        size_t u = memtier_usable_size(blk[i]);
        if (t < 0) {
            report(false, "block %d is in no tier's kind", i);
            continue;
        }
        memset(blk[i], 0x5a, u);
        gp_count_t c;
        if (!gp_count(blk[i], u, false, NULL, &c)) {
            report(false, "page count void: %s", c.why);
            counted = false;
            continue;
        }
        pages[t] += c.pages;
        wrong[t] += c.pages - c.on[tier_node[t]];
        bytes[t] += u;
        if (c.pages > maxpages)
            maxpages = c.pages;
    }
    for (unsigned t = 0; t < NTIERS; t++) {
        size_t acc = memtier_kind_allocated_size(kinds[t]) - base[t];
        report(wrong[t] == 0 && counted, "tier %u: %zu pages, all on node %d (%zu elsewhere)", t,
               pages[t], tier_node[t], wrong[t]);
        report(acc == bytes[t], "tier %u: allocated size %zu == its blocks' %zu", t, acc,
               bytes[t]);
    }
    size_t total = pages[0] + pages[1] + pages[2];
    for (unsigned t = 1; t < NTIERS; t++) {
        double lag = (double)pages[t] / ratio[t] - (double)pages[0] / ratio[0];
        report(lag <= (double)maxpages + 1 && -lag <= (double)maxpages + 1,
               "tier %u: %zu of %zu pages (%.3f, want %.3f); lag %.1f pages <= %zu", t, pages[t],
               total, (double)pages[t] / total, ratio[t] / 4.0, lag, maxpages + 1);
    }
    for (int i = 0; i < NBLK; i++)
        memtier_free(blk[i]);
    for (unsigned t = 0; t < NTIERS; t++)
        report(memtier_kind_allocated_size(kinds[t]) == base[t], "tier %u: freed, count back", t);
    memtier_delete_memtier_memory(m);
    memkind_destroy_kind(kinds[2]);
}

#define NSMALL 20000
static void *small[NSMALL];

static void case_dynamic(void) {
    memkind_t kinds[2] = {MEMKIND_DEFAULT, MEMKIND_HBW};
    struct memtier_builder *b = memtier_builder_new(MEMTIER_POLICY_DYNAMIC_THRESHOLD);
    memtier_builder_add_tier(b, kinds[0], 1);
    memtier_builder_add_tier(b, kinds[1], 1);
    struct memtier_memory *m = memtier_builder_construct_memtier_memory(b);
    memtier_builder_delete(b);
    if (!m) {
        report(false, "construct the dynamic memory");
        return;
    }
    size_t base0 = memtier_kind_allocated_size(kinds[0]);
    size_t base1 = memtier_kind_allocated_size(kinds[1]);
    size_t misplaced = 0, pages = 0;
    for (int i = 0; i < NSMALL; i++) {
        size_t sz = 1000 + next_rand() % 400;
        small[i] = memtier_malloc(m, sz);
        int t = small[i] ? tier_of(kinds, 2, small[i]) : -1;
        if (t < 0) {
            report(false, "small block %d: %s", i, small[i] ? "in no tier" : strerror(errno));
            break;
        }
        memset(small[i], 0x3c, sz);
        gp_count_t c;
        if (!gp_count(small[i], sz, false, NULL, &c)) {
            report(false, "page count void: %s", c.why);
            misplaced++;
            continue;
        }
        pages += c.pages;
        misplaced += c.pages - c.on[tier_node[t]];
    }
    double d0 = (double)(memtier_kind_allocated_size(kinds[0]) - base0);
    double d1 = (double)(memtier_kind_allocated_size(kinds[1]) - base1);
    report(misplaced == 0, "dynamic: %zu pages of %d blocks, %zu off their tier's node", pages,
           NSMALL, misplaced);
    report(d0 > 0 && d1 / d0 > 0.9 && d1 / d0 < 1.1,
           "dynamic 1:1: %.0f bytes on node 0, %.0f on node 2 (%.3f)", d0, d1, d1 / d0);
    for (int i = 0; i < NSMALL; i++)
        memtier_free(small[i]);
    memtier_delete_memtier_memory(m);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: guest_memtier static|dynamic|all\n");
        return 2;
    }
    bool all = strcmp(argv[1], "all") == 0;
    if (all || strcmp(argv[1], "static") == 0)
        case_static();
    if (all || strcmp(argv[1], "dynamic") == 0)
        case_dynamic();
    if (!all && strcmp(argv[1], "static") != 0 && strcmp(argv[1], "dynamic") != 0) {
        fprintf(stderr, "unknown case %s\n", argv[1]);
        return 2;
    }
    printf("%s\n", report_failures ? "FAILED" : "PASSED");
    return report_failures ? 1 : 0;
}
