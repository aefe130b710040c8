// SPDX-License-Identifier: MIT
// guest_memkind: runs inside a hetmem test guest (tests/vm/run-guest) as a
// memkind program would, linked to libmemkind.so.0, and proves where each
// kind's pages land (move_pages(2)), that PREFERRED kinds fall back when
// their node is full, that bound kinds answer NULL + ENOMEM instead of the
// OOM killer when their node is full, interleave counts, huge pages, the
// locality of the *_LOCAL and HBW kinds per CPU, DAX KMEM, file-backed
// kinds on tmpfs and fs-dax, and memkind's internal ABI (nodemask
// functions, kinds built from the ops tables).
//
// Usage: guest_memkind CASE   (see `cases` at the bottom). Prints "ok" /
// "not ok" lines; exits 1 if anything failed, 2 on a usage error.

#include <errno.h>
#include <numaif.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hbwmalloc.h>
#include <memkind.h>
#include <memkind/internal/memkind_arena.h>
#include <memkind/internal/memkind_capacity.h>
#include <memkind/internal/memkind_dax_kmem.h>
#include <memkind/internal/memkind_hbw.h>
#include <memkind/internal/memkind_interleave.h>
#include <memkind/internal/memkind_regular.h>

#include "guest_pages.h"

#include "../../test_report.h"

static size_t ps;

// ---- the machine ----------------------------------------------------------------

static uint64_t node_meminfo(int node, const char *field) {
    char path[128], line[256];
    snprintf(path, sizeof path, "/sys/devices/system/node/node%d/meminfo", node);
    FILE *f = fopen(path, "r");
    uint64_t kb = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *p = strstr(line, field);
        if (p && p[strlen(field)] == ':')
            kb = strtoull(p + strlen(field) + 1, NULL, 10);
    }
    if (f)
        fclose(f);
    return kb << 10;
}

static long hugepages_free(int node) {
    char path[160];
    snprintf(path, sizeof path,
             "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB/free_hugepages", node);
    FILE *f = fopen(path, "r");
    long n = -1;
    if (f && fscanf(f, "%ld", &n) != 1)
        n = -1;
    if (f)
        fclose(f);
    return n;
}

static void pin_cpu(int cpu) {
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (sched_setaffinity(0, sizeof s, &s))
        perror("sched_setaffinity");
}

// ---- placement --------------------------------------------------------------------

#define MAXNODES 16

// Touches every page of [p, p+len) (writes 0xa5) and counts the pages per
// node (guest_pages.h). A count that is void (move_pages failed, a page is
// absent, a node beyond MAXNODES) is a failure of its own ("not ok" line),
// and false makes the caller's check fail too.
static bool count_pages(void *p, size_t len, long counts[MAXNODES]) {
    memset(counts, 0, MAXNODES * sizeof(long));
    if (!p) {
        report(false, "page count: NULL block");
        return false;
    }
    memset(p, 0xa5, len);
    gp_count_t c;
    bool ok = gp_count(p, len, false, NULL, &c);
    for (int i = 0; i < MAXNODES; i++)
        counts[i] = (long)c.on[i];
    if (ok && gp_on_mask(&c, ~((UINT64_C(1) << MAXNODES) - 1)) != 0) {
        snprintf(c.why, sizeof c.why, "pages on nodes beyond %d", MAXNODES - 1);
        ok = false;
    }
    if (!ok)
        report(false, "page count of %p (%zu bytes) void: %s", p, len, c.why);
    return ok;
}

static const char *fmt_counts(const long c[MAXNODES]) {
    static char buf[256];
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < MAXNODES; i++)
        if (c[i])
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%snode%d:%ld", o ? " " : "", i, c[i]);
    return buf;
}

// Allocates len bytes of the kind and checks every page is on a node of `want`
// (a bitmask); NULL with ENOMEM when want is 0 (the kind must be unavailable).
static void expect_on(const char *name, memkind_t kind, size_t len, unsigned want) {
    errno = 0;
    void *p = memkind_malloc(kind, len);
    if (!want) {
        report(!p && errno == ENOMEM && memkind_check_available(kind) != 0,
               "%s: unavailable (check %d, errno %d)", name, memkind_check_available(kind), errno);
        memkind_free(kind, p);
        return;
    }
    if (!p) {
        report(false, "%s: NULL (errno %d, check %d)", name, errno, memkind_check_available(kind));
        return;
    }
    long c[MAXNODES];
    madvise((void *)((uintptr_t)p & ~(uintptr_t)(ps - 1)), len, MADV_NOHUGEPAGE);
    bool ok = count_pages(p, len, c);
    for (int i = 0; i < MAXNODES; i++)
        if (c[i] && !(want & (1u << i)))
            ok = false;
    report(ok && memkind_detect_kind(p) == kind, "%s: %s", name, fmt_counts(c));
    memkind_free(NULL, p);
}

// ---- cases ----------------------------------------------------------------------------

#define MB (1u << 20)

static void case_tiers3(void) {
    // node 0 DRAM + CPUs, node 1 CXL, node 2 HBM
    expect_on("DEFAULT", MEMKIND_DEFAULT, 8 * MB, 1u << 0);
    expect_on("REGULAR", MEMKIND_REGULAR, 8 * MB, 1u << 0);
    expect_on("HBW", MEMKIND_HBW, 8 * MB, 1u << 2);
    expect_on("HBW_ALL", MEMKIND_HBW_ALL, 8 * MB, 1u << 2);
    expect_on("HBW_PREFERRED", MEMKIND_HBW_PREFERRED, 8 * MB, 1u << 2);
    expect_on("HBW_INTERLEAVE", MEMKIND_HBW_INTERLEAVE, 8 * MB, 1u << 2);
    // node 2 has 8 huge pages; each kind's pool keeps what it took
    expect_on("HBW_HUGETLB", MEMKIND_HBW_HUGETLB, 2 * MB, 1u << 2);
    expect_on("HBW_ALL_HUGETLB", MEMKIND_HBW_ALL_HUGETLB, 2 * MB, 1u << 2);
    expect_on("HBW_PREFERRED_HUGETLB", MEMKIND_HBW_PREFERRED_HUGETLB, 2 * MB, 1u << 2);
    expect_on("HUGETLB", MEMKIND_HUGETLB, 2 * MB, 7u);
    expect_on("HIGHEST_CAPACITY", MEMKIND_HIGHEST_CAPACITY, 8 * MB, 1u << 0);
    expect_on("HIGHEST_CAPACITY_PREFERRED", MEMKIND_HIGHEST_CAPACITY_PREFERRED, 8 * MB, 1u << 0);
    expect_on("HIGHEST_CAPACITY_LOCAL", MEMKIND_HIGHEST_CAPACITY_LOCAL, 8 * MB, 1u << 0);
    expect_on("HIGHEST_CAPACITY_LOCAL_PREFERRED", MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED, 8 * MB,
              1u << 0);
    expect_on("LOWEST_LATENCY_LOCAL", MEMKIND_LOWEST_LATENCY_LOCAL, 8 * MB, 1u << 0);
    expect_on("LOWEST_LATENCY_LOCAL_PREFERRED", MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED, 8 * MB,
              1u << 0);
    expect_on("HIGHEST_BANDWIDTH_LOCAL", MEMKIND_HIGHEST_BANDWIDTH_LOCAL, 8 * MB, 1u << 2);
    expect_on("HIGHEST_BANDWIDTH_LOCAL_PREFERRED", MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED,
              8 * MB, 1u << 2);
    expect_on("DAX_KMEM", MEMKIND_DAX_KMEM, MB, 0);
    expect_on("DAX_KMEM_ALL", MEMKIND_DAX_KMEM_ALL, MB, 0);
    expect_on("DAX_KMEM_PREFERRED", MEMKIND_DAX_KMEM_PREFERRED, MB, 0);
    expect_on("DAX_KMEM_INTERLEAVE", MEMKIND_DAX_KMEM_INTERLEAVE, MB, 0);
    expect_on("GBTLB", MEMKIND_GBTLB, MB, 0);

    // interleave over the three nodes: about a third each
    void *p = memkind_malloc(MEMKIND_INTERLEAVE, 24 * MB);
    long c[MAXNODES];
    bool even = count_pages(p, 24 * MB, c);
    long total = c[0] + c[1] + c[2];
    even &= total == (long)(24 * MB / ps);
    for (int i = 0; i < 3; i++)
        even &= c[i] * 4 > total && c[i] * 2 < total;
    report(even, "INTERLEAVE spreads evenly: %s", fmt_counts(c));
    memkind_free(MEMKIND_INTERLEAVE, p);

    // capacities: the kinds' nodes' MemTotal
    report(memkind_get_capacity(MEMKIND_HBW) == (ssize_t)node_meminfo(2, "MemTotal"),
           "capacity HBW %zd == node 2 MemTotal %llu", memkind_get_capacity(MEMKIND_HBW),
           (unsigned long long)node_meminfo(2, "MemTotal"));
    uint64_t all =
        node_meminfo(0, "MemTotal") + node_meminfo(1, "MemTotal") + node_meminfo(2, "MemTotal");
    report(memkind_get_capacity(MEMKIND_INTERLEAVE) == (ssize_t)all, "capacity INTERLEAVE %zd",
           memkind_get_capacity(MEMKIND_INTERLEAVE));
    report(memkind_get_capacity(MEMKIND_HUGETLB) == (ssize_t)(40 * 2 * MB),
           "capacity HUGETLB %zd (40 huge pages)", memkind_get_capacity(MEMKIND_HUGETLB));

    // hbwmalloc: default policy PREFERRED -> node 2; verify
    char *h = hbw_malloc(4 * MB);
    bool counted = count_pages(h, 4 * MB, c);
    report(counted && c[2] == (long)(4 * MB / ps) && hbw_verify_memory_region(h, 4 * MB, 0) == 0,
           "hbw_malloc on HBM: %s", fmt_counts(c));
    char *d = memkind_malloc(MEMKIND_DEFAULT, MB);
    report(hbw_verify_memory_region(d, MB, HBW_TOUCH_PAGES) == -1,
           "hbw_verify_memory_region on DRAM: -1");
    hbw_free(h);
    memkind_free(NULL, d);
}

// The HBM node (2) runs out: a bound kind answers NULL + ENOMEM, and the
// space can be used again after frees.
static void fill_bound(const char *name, memkind_t kind, int node, size_t block) {
    uint64_t size = node_meminfo(node, "MemTotal");
    size_t max = (size_t)(size / block) + 16;
    void **v = calloc(max, sizeof *v);
    size_t n = 0;
    errno = 0;
    bool verbose = getenv("GUEST_MK_VERBOSE") != NULL;
    while (n < max && (v[n] = memkind_malloc(kind, block))) {
        if (verbose && n % 8 == 0)
            printf("#   %zu blocks, node %d MemFree %llu KiB\n", n, node,
                   (unsigned long long)(node_meminfo(node, "MemFree") >> 10));
        memset(v[n++], 1, block);
    }
    int err = errno;
    uint64_t got = (uint64_t)n * block;
    long c[MAXNODES] = {0};
    bool counted = n && count_pages(v[n / 2], block, c);
    report(counted && n < max && err == ENOMEM && got * 10 >= size * 6 && c[node] == (long)(block / ps),
           "%s fill node %d (%llu MiB) with %zu KiB blocks: %llu MiB, then NULL/errno %d; "
           "middle block %s",
           name, node, (unsigned long long)(size >> 20), block >> 10,
           (unsigned long long)(got >> 20), err, fmt_counts(c));
    for (size_t i = 0; i < n; i++)
        memkind_free(kind, v[i]);
    void *again = memkind_malloc(kind, 64 * MB);
    report(again != NULL, "%s: memory usable again after frees", name);
    memkind_free(kind, again);
    free(v);
}

static void case_fill_bind(void) {
    fill_bound("HBW", MEMKIND_HBW, 2, 4 * MB);
    fill_bound("HBW (64 KiB blocks)", MEMKIND_HBW, 2, 64 << 10);
    fill_bound("HIGHEST_BANDWIDTH_LOCAL", MEMKIND_HIGHEST_BANDWIDTH_LOCAL, 2, 8 * MB);
}

// HBW_PREFERRED beyond the HBM node's size: the rest comes from elsewhere.
static void case_fill_preferred(void) {
    uint64_t hbm = node_meminfo(2, "MemTotal");
    size_t block = 4 * MB, n = (size_t)((hbm + 160 * MB) / block);
    void **v = calloc(n, sizeof *v);
    long total[MAXNODES] = {0};
    bool all = true;
    for (size_t i = 0; i < n; i++) {
        v[i] = memkind_malloc(MEMKIND_HBW_PREFERRED, block);
        if (!v[i]) {
            all = false;
            break;
        }
        long c[MAXNODES];
        if (!count_pages(v[i], block, c))
            all = false;
        for (int k = 0; k < MAXNODES; k++)
            total[k] += c[k];
    }
    long on_hbm = total[2], elsewhere = total[0] + total[1];
    report(all && (uint64_t)on_hbm * ps * 10 >= hbm * 7 && elsewhere > 0,
           "HBW_PREFERRED %zu MiB: %s (falls back when node 2 is full)", n * block >> 20,
           fmt_counts(total));
    for (size_t i = 0; i < n; i++)
        memkind_free(NULL, v[i]);
    free(v);
}

static void case_hugetlb(void) {
    // free_hugepages drops when the pages are touched (mmap only reserves)
    long before = hugepages_free(2);
    void *p = memkind_malloc(MEMKIND_HBW_HUGETLB, 6 * MB);
    if (p)
        memset(p, 1, 6 * MB);
    long during = hugepages_free(2);
    report(p && before - during >= 3, "HBW_HUGETLB takes node 2's huge pages (%ld -> %ld)", before,
           during);
    memkind_free(NULL, p);
    errno = 0;
    p = memkind_malloc(MEMKIND_HBW_HUGETLB, 64 * MB); // node 2 has 8 huge pages
    report(!p && errno == ENOMEM, "HBW_HUGETLB beyond node 2's huge pages: NULL, ENOMEM");
    memkind_free(NULL, p);
    void *q = NULL;
    int r = hbw_posix_memalign_psize(&q, 4096, 2 * MB, HBW_PAGESIZE_2MB);
    long c[MAXNODES] = {0};
    bool counted = q && count_pages(q, 2 * MB, c);
    report(r == 0 && counted && c[2] == (long)(2 * MB / ps), "hbw_posix_memalign_psize 2MB on node 2: %s",
           fmt_counts(c));
    hbw_free(q);
    before = hugepages_free(0) + hugepages_free(1) + hugepages_free(2);
    p = memkind_malloc(MEMKIND_HUGETLB, 10 * MB);
    if (p)
        memset(p, 1, 10 * MB);
    during = hugepages_free(0) + hugepages_free(1) + hugepages_free(2);
    report(p && before - during >= 5, "HUGETLB uses huge pages (%ld -> %ld free)", before, during);
    memkind_free(NULL, p);
}

// MEMKIND_HBW_NODES=1,2: two HBW nodes at the same distance from the CPUs.
static void case_equidistant(void) {
    report(memkind_check_available(MEMKIND_HBW_PREFERRED) != 0,
           "HBW_PREFERRED unavailable with two equidistant HBW nodes (%d)",
           memkind_check_available(MEMKIND_HBW_PREFERRED));
    errno = 0;
    void *p = memkind_malloc(MEMKIND_HBW_PREFERRED, MB);
    report(!p && errno == ENOMEM, "HBW_PREFERRED malloc: NULL, ENOMEM");
    expect_on("HBW on nodes 1,2", MEMKIND_HBW, 8 * MB, (1u << 1) | (1u << 2));
    expect_on("HBW_INTERLEAVE on nodes 1,2", MEMKIND_HBW_INTERLEAVE, 8 * MB, (1u << 1) | (1u << 2));
    report(hbw_check_available() == 0, "hbw_check_available");
}

// allhbm: each CPU has its own HBM node; the kinds follow the CPU.
static void case_allhbm(void) {
    for (int cpu = 0; cpu < 2; cpu++) {
        pin_cpu(cpu);
        char name[64];
        snprintf(name, sizeof name, "HBW from cpu %d", cpu);
        expect_on(name, MEMKIND_HBW, 8 * MB, 1u << cpu);
        snprintf(name, sizeof name, "HBW_PREFERRED from cpu %d", cpu);
        expect_on(name, MEMKIND_HBW_PREFERRED, 8 * MB, 1u << cpu);
        snprintf(name, sizeof name, "LOWEST_LATENCY_LOCAL from cpu %d", cpu);
        expect_on(name, MEMKIND_LOWEST_LATENCY_LOCAL, 8 * MB, 1u << cpu);
        snprintf(name, sizeof name, "HIGHEST_BANDWIDTH_LOCAL from cpu %d", cpu);
        expect_on(name, MEMKIND_HIGHEST_BANDWIDTH_LOCAL, 8 * MB, 1u << cpu);
        snprintf(name, sizeof name, "HIGHEST_CAPACITY_LOCAL from cpu %d", cpu);
        expect_on(name, MEMKIND_HIGHEST_CAPACITY_LOCAL, 8 * MB, 1u << cpu);
        report(memkind_get_capacity(MEMKIND_HBW) == (ssize_t)node_meminfo(cpu, "MemTotal"),
               "capacity HBW from cpu %d", cpu);
    }
    // HBW_ALL binds to both nodes and the first touch picks the CPU's own;
    // blocks stay allocated so that the second CPU gets fresh pages
    void *b[2];
    long c[MAXNODES];
    for (int cpu = 0; cpu < 2; cpu++) {
        pin_cpu(cpu);
        b[cpu] = memkind_malloc(MEMKIND_HBW_ALL, 8 * MB);
        bool counted = count_pages(b[cpu], 8 * MB, c);
        report(counted && c[cpu] == (long)(8 * MB / ps), "HBW_ALL first touch from cpu %d: %s", cpu,
               fmt_counts(c));
    }
    memkind_free(NULL, b[0]);
    memkind_free(NULL, b[1]);
    expect_on("HBW_INTERLEAVE", MEMKIND_HBW_INTERLEAVE, 8 * MB, 3u);
    expect_on("REGULAR", MEMKIND_REGULAR, 8 * MB, 3u);
}

// dax: node 1 is a KMEM node (NVDIMM as system RAM); fs-dax on /mnt/pmem.
static void case_dax(void) {
    expect_on("DAX_KMEM", MEMKIND_DAX_KMEM, 8 * MB, 1u << 1);
    expect_on("DAX_KMEM_ALL", MEMKIND_DAX_KMEM_ALL, 8 * MB, 1u << 1);
    expect_on("DAX_KMEM_PREFERRED", MEMKIND_DAX_KMEM_PREFERRED, 8 * MB, 1u << 1);
    expect_on("DAX_KMEM_INTERLEAVE", MEMKIND_DAX_KMEM_INTERLEAVE, 8 * MB, 1u << 1);
    expect_on("HBW", MEMKIND_HBW, MB, 0);
    report(memkind_get_capacity(MEMKIND_DAX_KMEM) == (ssize_t)node_meminfo(1, "MemTotal"),
           "capacity DAX_KMEM == node 1 MemTotal");
    fill_bound("DAX_KMEM", MEMKIND_DAX_KMEM, 1, 4 * MB);

    report(memkind_check_dax_path("/mnt/pmem") == 0, "memkind_check_dax_path(/mnt/pmem) == 0");
    report(memkind_check_dax_path("/tmp") != 0, "memkind_check_dax_path(/tmp) != 0 (tmpfs)");
    const char *dirs[] = {"/mnt/pmem", "/tmp"};
    for (int d = 0; d < 2; d++) {
        memkind_t k;
        int r = memkind_create_pmem(dirs[d], 64 * MB, &k);
        report(r == 0, "memkind_create_pmem(%s, 64 MiB) = %d", dirs[d], r);
        if (r)
            continue;
        void *v[32];
        int n = 0;
        while (n < 32 && (v[n] = memkind_malloc(k, 4 * MB)))
            memset(v[n++], 0x3c, 4 * MB);
        report(n >= 12 && n <= 16, "%s: %d x 4 MiB within 64 MiB, then NULL", dirs[d], n);
        for (int i = 0; i < n; i++)
            memkind_free(k, v[i]);
        report(memkind_destroy_kind(k) == 0, "%s: destroyed", dirs[d]);
    }
}

// wide: 8 nodes, no HMAT.
static void case_wide(void) {
    void *p = memkind_malloc(MEMKIND_INTERLEAVE, 32 * MB);
    long c[MAXNODES];
    bool counted = count_pages(p, 32 * MB, c);
    int used = 0;
    for (int i = 0; i < 8; i++)
        used += c[i] > 0;
    report(counted && used == 8, "INTERLEAVE over the 8 nodes: %s", fmt_counts(c));
    memkind_free(NULL, p);
    expect_on("REGULAR (nodes with CPUs)", MEMKIND_REGULAR, 8 * MB, 3u);
    expect_on("HIGHEST_CAPACITY", MEMKIND_HIGHEST_CAPACITY, 8 * MB, 1u << 0);
    expect_on("LOWEST_LATENCY_LOCAL (no HMAT)", MEMKIND_LOWEST_LATENCY_LOCAL, MB, 0);
    expect_on("HBW (none)", MEMKIND_HBW, MB, 0);
}

// ---- memkind's internal ABI --------------------------------------------------------------

typedef int nodemask_fn(struct memkind *, unsigned long *, unsigned long);

// The function's nodes are `want` (0: it fails), and the kind's pages land
// on them.
static void expect_mask(const char *name, nodemask_fn *fn, memkind_t kind, unsigned want) {
    unsigned long mask[1024 / 64] = {0};
    int err = fn(NULL, mask, 1024);
    report(want ? err == 0 && mask[0] == want : err != 0 && err == memkind_check_available(kind),
           "%s nodemask: %d, 0x%lx", name, err, mask[0]);
    if (err == 0)
        expect_on(name, kind, 8 * MB, (unsigned)mask[0]);
}

// A kind built from a table (memkind_arena_create) allocates on `want`.
static void expect_template(const char *name, struct memkind_ops *table, unsigned want) {
    static struct memkind kinds[16];
    static unsigned n;
    struct memkind *k = &kinds[n++ % 16];
    int err = memkind_arena_create(k, table, name);
    report(err == 0, "%s: memkind_arena_create %d", name, err);
    if (err == 0) {
        expect_on(name, k, 8 * MB, want);
        report(memkind_destroy_kind(k) == 0, "%s: destroyed", name);
    }
}

static void case_abi_tiers3(void) {
    expect_mask("hbw", memkind_hbw_get_mbind_nodemask, MEMKIND_HBW, 1u << 2);
    expect_mask("hbw_all", memkind_hbw_all_get_mbind_nodemask, MEMKIND_HBW_ALL, 1u << 2);
    expect_mask("regular_all", memkind_regular_all_get_mbind_nodemask, MEMKIND_REGULAR, 1u << 0);
    expect_mask("dax_kmem_all", memkind_dax_kmem_all_get_mbind_nodemask, MEMKIND_DAX_KMEM_ALL, 0);
    expect_template("copy of HBW", &MEMKIND_HBW_OPS, 1u << 2);
    expect_template("copy of HBW_ALL", &MEMKIND_HBW_ALL_OPS, 1u << 2);
    expect_template("copy of HBW_PREFERRED", &MEMKIND_HBW_PREFERRED_OPS, 1u << 2);
    expect_template("copy of REGULAR", &MEMKIND_REGULAR_OPS, 1u << 0);
    expect_template("copy of HIGHEST_CAPACITY", &MEMKIND_HIGHEST_CAPACITY_OPS, 1u << 0);
    expect_template("copy of INTERLEAVE", &MEMKIND_INTERLEAVE_OPS, 7u);
    expect_template("copy of DAX_KMEM", &MEMKIND_DAX_KMEM_OPS, 0);
}

static void case_abi_dax(void) {
    expect_mask("dax_kmem_all", memkind_dax_kmem_all_get_mbind_nodemask, MEMKIND_DAX_KMEM_ALL,
                1u << 1);
    expect_mask("hbw", memkind_hbw_get_mbind_nodemask, MEMKIND_HBW, 0);
    expect_template("copy of DAX_KMEM", &MEMKIND_DAX_KMEM_OPS, 1u << 1);
    expect_template("copy of DAX_KMEM_ALL", &MEMKIND_DAX_KMEM_ALL_OPS, 1u << 1);
    expect_template("copy of HBW", &MEMKIND_HBW_OPS, 0);
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"abi_tiers3", case_abi_tiers3},
    {"abi_dax", case_abi_dax},
    {"tiers3", case_tiers3},
    {"fill_bind", case_fill_bind},
    {"fill_preferred", case_fill_preferred},
    {"hugetlb", case_hugetlb},
    {"equidistant", case_equidistant},
    {"allhbm", case_allhbm},
    {"dax", case_dax},
    {"wide", case_wide},
};

int main(int argc, char **argv) {
    ps = (size_t)sysconf(_SC_PAGESIZE);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: guest_memkind CASE...\n");
        return 2;
    }
    for (int a = 1; a < argc; a++) {
        bool found = false;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            if (strcmp(argv[a], cases[i].name) == 0) {
                printf("# %s\n", cases[i].name);
                cases[i].fn();
                found = true;
            }
        }
        if (!found) {
            fprintf(stderr, "unknown case %s\n", argv[a]);
            return 2;
        }
    }
    printf("%s: %d failure(s)\n", report_failures ? "FAILED" : "PASSED", report_failures);
    return report_failures ? 1 : 0;
}
