// SPDX-License-Identifier: MIT
// memkind_kinds: allocates with hbw_malloc and several memkind kinds and
// prints, for each allocation, on which NUMA node every page landed
// (move_pages(2)). On the tiers3 guest (DRAM node 0, CXL node 1, HBM node 2)
// HBW memory lands on node 2, MEMKIND_INTERLEAVE spreads over 0-2 and the
// regular kinds stay on node 0.
//
//   cc memkind_kinds.c $(pkg-config --cflags --libs memkind) -lnuma
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hbwmalloc.h>
#include <memkind.h>

#define SIZE (4u << 20) // 4 MiB: 1024 pages of 4 KiB
#define MAXNODE 64

// Touches the block and prints "node:pages" for every node holding a page.
static void where(const char *what, void *p, size_t size) {
    if (!p) {
        printf("%-34s not available here\n", what);
        return;
    }
    long ps = sysconf(_SC_PAGESIZE);
    madvise(p, size, MADV_NOHUGEPAGE); // count 4 KiB pages, not 2 MiB ones
    memset(p, 0, size);
    int counts[MAXNODE] = {0};
    for (size_t off = 0; off < size; off += (size_t)ps) {
        void *page = (char *)p + off;
        int node = -1;
        if (move_pages(0, 1, &page, NULL, &node, 0) == 0 && node >= 0 && node < MAXNODE)
            counts[node]++;
    }
    printf("%-34s", what);
    for (int n = 0; n < MAXNODE; n++)
        if (counts[n])
            printf(" node%d:%d", n, counts[n]);
    printf("  (pages per node)\n");
}

int main(void) {
    printf("memkind API %d, HBW memory %s\n", memkind_get_version(),
           hbw_check_available() == 0 ? "present" : "absent (hbw_malloc falls back)");

    void *h = hbw_malloc(SIZE); // HBW_POLICY_PREFERRED: HBM first
    where("hbw_malloc", h, SIZE);
    hbw_free(h);

    struct {
        const char *name;
        memkind_t kind;
    } kinds[] = {
        {"MEMKIND_DEFAULT", MEMKIND_DEFAULT},
        {"MEMKIND_REGULAR", MEMKIND_REGULAR},
        {"MEMKIND_HBW", MEMKIND_HBW},
        {"MEMKIND_HBW_PREFERRED", MEMKIND_HBW_PREFERRED},
        {"MEMKIND_INTERLEAVE", MEMKIND_INTERLEAVE},
        {"MEMKIND_HIGHEST_CAPACITY", MEMKIND_HIGHEST_CAPACITY},
        {"MEMKIND_LOWEST_LATENCY_LOCAL", MEMKIND_LOWEST_LATENCY_LOCAL},
        {"MEMKIND_HIGHEST_BANDWIDTH_LOCAL", MEMKIND_HIGHEST_BANDWIDTH_LOCAL},
        {"MEMKIND_DAX_KMEM", MEMKIND_DAX_KMEM},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        void *p = memkind_malloc(kinds[i].kind, SIZE);
        where(kinds[i].name, p, SIZE);
        memkind_free(NULL, p); // the kind is found from the pointer
    }
    return 0;
}
