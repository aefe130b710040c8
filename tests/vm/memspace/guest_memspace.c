// SPDX-License-Identifier: MIT
// guest_memspace: runs inside a hetmem test guest (tests/vm/run-guest) and
// checks the predefined memspaces and the policies against the machine the
// guest really is:
//   HostAll            every node with memory (sysfs has_memory)
//   HighestCapacity    the node(s) with the largest MemTotal (sysfs meminfo)
//   HighestBandwidth   the node the topology file labels HBM (tiers3), the
//                      CPU's own node (allhbm: every node is HBM, each its
//                      own initiator), none without HMAT (flat1)
//   LowestLatency      node 0, the DRAM node with the CPUs (tiers3), the
//                      CPU's own node (allhbm), none (flat1)
// The HMAT rules are relative to the CPU that asks first: each CPU is
// checked in a child process pinned to it (the memspaces are computed once
// per process). Then pools from each memspace put their pages on its nodes,
// and the policies are counted page by page (move_pages): BIND, PREFERRED,
// INTERLEAVE (page by page, and in parts), SPLIT (even, and weighted).
//
// Usage: guest_memspace tiers3|flat1|allhbm. Prints one "ok"/"not ok" line
// per check; exits 1 if any failed.
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umf/memspace.h>

#include "base/nodeset.h"
#include "os/os.h"

#include "guest_pages.h"

#define NPAGES 96 // divisible by 1, 2, 3 and 4: even shares are exact

static size_t ps;
static int failures;
static char topo_name[32];

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s%s: ", ok ? "ok - " : "not ok - ", topo_name);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    failures += !ok;
}

// ---- the machine, as the guest kernel and the topology file describe it ------------

static nodeset_t sysfs_list(const char *path) {
    nodeset_t s;
    char buf[256] = "";
    nodeset_zero(&s);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    if (nodeset_parse_list(buf, &s) != 0)
        nodeset_zero(&s);
    return s;
}

static unsigned long long mem_total_kb(unsigned node) {
    char path[96], line[256];
    unsigned long long kb = 0;
    snprintf(path, sizeof path, "/sys/devices/system/node/node%u/meminfo", node);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (strstr(line, "MemTotal:"))
            sscanf(strstr(line, "MemTotal:") + 9, "%llu", &kb);
    if (f)
        fclose(f);
    return kb;
}

// The nodes whose `node ID ... class=CLASS` line in /topology.topo names CLASS.
static nodeset_t topo_class(const char *cls) {
    nodeset_t s;
    char line[512], want[64];
    nodeset_zero(&s);
    snprintf(want, sizeof want, "class=%s", cls);
    const char *path = getenv("HETMEM_VM_TOPOLOGY");
    FILE *f = fopen(path ? path : "/topology.topo", "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned id;
        if (sscanf(line, "node %u", &id) == 1 && strstr(line, want))
            nodeset_set(&s, id);
    }
    if (f)
        fclose(f);
    return s;
}

static nodeset_t largest_nodes(const nodeset_t *mem) {
    nodeset_t s;
    unsigned long long best = 0;
    nodeset_zero(&s);
    for (int n = nodeset_next(mem, 0); n >= 0; n = nodeset_next(mem, (unsigned)n + 1))
        best = mem_total_kb((unsigned)n) > best ? mem_total_kb((unsigned)n) : best;
    for (int n = nodeset_next(mem, 0); n >= 0; n = nodeset_next(mem, (unsigned)n + 1))
        if (mem_total_kb((unsigned)n) == best)
            nodeset_set(&s, (unsigned)n);
    return s;
}

static nodeset_t one(unsigned n) {
    nodeset_t s;
    nodeset_zero(&s);
    nodeset_set(&s, n);
    return s;
}

static const char *fmt(const nodeset_t *s) {
    static char buf[4][64];
    static int k;
    char *b = buf[k++ % 4];
    nodeset_format(s, b, 64);
    return b[0] ? b : "(none)";
}

static nodeset_t ms_nodes(umf_const_memspace_handle_t ms) {
    nodeset_t s;
    nodeset_zero(&s);
    for (unsigned i = 0; ms && i < umfMemspaceMemtargetNum(ms); i++) {
        unsigned id;
        if (umfMemtargetGetId(umfMemspaceMemtargetGet(ms, i), &id) == UMF_RESULT_SUCCESS)
            nodeset_set(&s, id);
    }
    return s;
}

// ---- pages ---------------------------------------------------------------------------

static int status[NPAGES];

// Touches n pages (no THP: it would place 512 at a time) and reads their
// nodes (guest_pages.h): false, with the reason printed, when move_pages
// fails or any page has no node.
static bool place(char *m, size_t n) {
    void *pages[NPAGES];
    (void)os_madvise(m, n * ps, OS_ADV_NOHUGEPAGE);
    for (size_t i = 0; i < n; i++) {
        m[i * ps] = (char)i;
        pages[i] = m + i * ps;
    }
    gp_count_t c;
    if (!gp_query(pages, n, status, &c)) {
        printf("# page count void: %s\n", c.why);
        return false;
    }
    return true;
}

static const char *where(size_t n) {
    static char buf[512];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 8 < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%d", status[i]);
    return buf;
}

static size_t count_on(size_t n, unsigned node) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += status[i] == (int)node;
    return c;
}

// ---- the predefined memspaces -----------------------------------------------------------

// What HighestBandwidth / LowestLatency must be for a CPU of node `local`.
static void expected_hmat(const char *topo, unsigned local, nodeset_t *bw, nodeset_t *lat) {
    nodeset_zero(bw);
    nodeset_zero(lat);
    if (!strcmp(topo, "tiers3")) {
        *bw = topo_class("HBM");  // node 2: 400000 MB/s
        *lat = topo_class("DRAM"); // node 0: 80 ns
    } else if (!strcmp(topo, "allhbm")) {
        *bw = one(local); // only the local figures are reported per initiator
        *lat = one(local);
    } // flat1: no HMAT, both none
}

// In a child pinned to `cpu`: the HMAT memspaces seen from its node.
static void hmat_from_cpu(const char *topo, unsigned cpu) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0)
            _exit(2);
        unsigned node = 0;
        (void)os_getcpu(NULL, &node);
        nodeset_t bw, lat;
        expected_hmat(topo, node, &bw, &lat);
        nodeset_t gbw = ms_nodes(umfMemspaceHighestBandwidthGet());
        nodeset_t glat = ms_nodes(umfMemspaceLowestLatencyGet());
        check(nodeset_equal(&gbw, &bw), "CPU %u (node %u): HighestBandwidth = %s, want %s", cpu,
              node, fmt(&gbw), fmt(&bw));
        check(nodeset_equal(&glat, &lat), "CPU %u (node %u): LowestLatency = %s, want %s", cpu,
              node, fmt(&glat), fmt(&lat));
        if (nodeset_empty(&bw))
            check(!umfMemspaceHighestBandwidthGet() && !umfMemspaceLowestLatencyGet(),
                  "CPU %u: no HMAT: both HMAT memspaces are NULL", cpu);
        _exit(failures ? 1 : 0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        failures++;
        printf("not ok - %s: the CPU %u child failed (0x%x)\n", topo, cpu, st);
    }
}

static void predefined(const char *topo, const nodeset_t *mem) {
    nodeset_t all = ms_nodes(umfMemspaceHostAllGet());
    nodeset_t cap = ms_nodes(umfMemspaceHighestCapacityGet()), big = largest_nodes(mem);
    check(nodeset_equal(&all, mem), "HostAll = %s, nodes with memory %s", fmt(&all), fmt(mem));
    check(nodeset_equal(&cap, &big), "HighestCapacity = %s, largest MemTotal %s", fmt(&cap),
          fmt(&big));
    nodeset_t cpus = sysfs_list("/sys/devices/system/cpu/online");
    for (int c = nodeset_next(&cpus, 0); c >= 0; c = nodeset_next(&cpus, (unsigned)c + 1))
        hmat_from_cpu(topo, (unsigned)c);
}

// A pool from each predefined memspace puts every page on its nodes.
static void pools(const char *topo) {
    static const char *names[] = {"HostAll", "HighestCapacity", "HighestBandwidth",
                                  "LowestLatency"};
    umf_const_memspace_handle_t ms[] = {umfMemspaceHostAllGet(), umfMemspaceHighestCapacityGet(),
                                        umfMemspaceHighestBandwidthGet(),
                                        umfMemspaceLowestLatencyGet()};
    for (int i = 0; i < 4; i++) {
        if (!ms[i]) { // documented NULL: only the HMAT memspaces, only without HMAT (flat1)
            check(i >= 2 && !strcmp(topo, "flat1"), "%s is NULL on %s", names[i], topo);
            continue;
        }
        nodeset_t want = ms_nodes(ms[i]);
        umf_memory_pool_handle_t pool = NULL;
        umf_result_t r = umfPoolCreateFromMemspace(ms[i], NULL, &pool);
        char *m = r == UMF_RESULT_SUCCESS ? umfPoolMalloc(pool, NPAGES * ps) : NULL;
        bool ok = m && place(m, NPAGES);
        for (size_t p = 0; ok && p < NPAGES; p++)
            ok = status[p] >= 0 && nodeset_isset(&want, (unsigned)status[p]);
        check(ok, "pool from %s: %d pages on %s (pages: %s)", names[i], NPAGES, fmt(&want),
              m ? where(NPAGES) : "no memory");
        if (m)
            umfPoolFree(pool, m);
        umfPoolDestroy(pool);
    }
}

// ---- policies, page by page -------------------------------------------------------------

typedef struct policy_case_t {
    const char *what;
    umf_mempolicy_membind_t bind;
    unsigned nodes[4];
    unsigned nnodes;
    size_t part_pages;                      // INTERLEAVE parts (0: page by page)
    umf_mempolicy_split_partition_t parts[4]; // SPLIT weights (none: even)
    unsigned nparts;
    unsigned want[4];                       // pages expected on nodes[i]
} policy_case_t;

static void policy(const policy_case_t *c) {
    umf_memspace_handle_t ms = NULL;
    umf_mempolicy_handle_t pol = NULL;
    umf_memory_provider_handle_t prov = NULL;
    char *m = NULL;
    umf_result_t r = umfMemspaceCreateFromNumaArray((unsigned *)c->nodes, c->nnodes, &ms);
    if (r == UMF_RESULT_SUCCESS)
        r = umfMempolicyCreate(c->bind, &pol);
    if (r == UMF_RESULT_SUCCESS && c->part_pages)
        r = umfMempolicySetInterleavePartSize(pol, c->part_pages * ps);
    if (r == UMF_RESULT_SUCCESS && c->nparts)
        r = umfMempolicySetCustomSplitPartitions(pol, (umf_mempolicy_split_partition_t *)c->parts,
                                                 c->nparts);
    if (r == UMF_RESULT_SUCCESS)
        r = umfMemoryProviderCreateFromMemspace(ms, pol, &prov);
    if (r == UMF_RESULT_SUCCESS)
        r = umfMemoryProviderAlloc(prov, NPAGES * ps, 0, (void **)&m);
    bool ok = r == UMF_RESULT_SUCCESS && place(m, NPAGES);
    for (unsigned i = 0; ok && i < c->nnodes; i++)
        ok = count_on(NPAGES, c->nodes[i]) == c->want[i];
    // Interleave rotates: consecutive pages (parts) on consecutive nodes.
    size_t run = c->part_pages ? c->part_pages : 1;
    for (size_t p = run; ok && c->bind == UMF_MEMPOLICY_INTERLEAVE && p < NPAGES; p++)
        ok = (p % run == 0) ? status[p] != status[p - 1] : status[p] == status[p - 1];
    check(ok, "%s: pages %s (result %d)", c->what, m ? where(NPAGES) : "-", (int)r);
    if (m)
        umfMemoryProviderFree(prov, m, NPAGES * ps);
    umfMemoryProviderDestroy(prov);
    if (pol)
        umfMempolicyDestroy(pol);
    umfMemspaceDestroy(ms);
}

static void policies(const char *topo) {
    if (!strcmp(topo, "tiers3")) {
        const policy_case_t cases[] = {
            {"BIND to the CXL node", UMF_MEMPOLICY_BIND, {1}, 1, 0, {{0}}, 0, {NPAGES}},
            {"PREFERRED the HBM node", UMF_MEMPOLICY_PREFERRED, {2}, 1, 0, {{0}}, 0, {NPAGES}},
            {"INTERLEAVE over 0,1,2 page by page", UMF_MEMPOLICY_INTERLEAVE, {0, 1, 2}, 3, 0,
             {{0}}, 0, {32, 32, 32}},
            {"INTERLEAVE over 0,1,2 in parts of 4 pages", UMF_MEMPOLICY_INTERLEAVE, {0, 1, 2}, 3,
             4, {{0}}, 0, {32, 32, 32}},
            {"SPLIT evenly over 0,1,2", UMF_MEMPOLICY_SPLIT, {0, 1, 2}, 3, 0, {{0}}, 0,
             {32, 32, 32}},
            {"SPLIT 1:3 over DRAM and HBM", UMF_MEMPOLICY_SPLIT, {0, 2}, 2, 0, {{1, 0}, {3, 2}}, 2,
             {24, 72}},
            {"SPLIT 1:2:3 over 2,1,0", UMF_MEMPOLICY_SPLIT, {2, 1, 0}, 3, 0,
             {{1, 2}, {2, 1}, {3, 0}}, 3, {16, 32, 48}},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            policy(&cases[i]);
    } else if (!strcmp(topo, "allhbm")) {
        const policy_case_t cases[] = {
            {"BIND to node 1", UMF_MEMPOLICY_BIND, {1}, 1, 0, {{0}}, 0, {NPAGES}},
            {"INTERLEAVE over 0,1", UMF_MEMPOLICY_INTERLEAVE, {0, 1}, 2, 0, {{0}}, 0, {48, 48}},
            {"SPLIT 3:1 over 0,1", UMF_MEMPOLICY_SPLIT, {0, 1}, 2, 0, {{3, 0}, {1, 1}}, 2,
             {72, 24}},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            policy(&cases[i]);
    } else {
        const policy_case_t cases[] = {
            {"BIND to node 0", UMF_MEMPOLICY_BIND, {0}, 1, 0, {{0}}, 0, {NPAGES}},
            {"SPLIT on one node", UMF_MEMPOLICY_SPLIT, {0}, 1, 0, {{0}}, 0, {NPAGES}},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            policy(&cases[i]);
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 2 || (strcmp(argv[1], "tiers3") && strcmp(argv[1], "flat1") &&
                      strcmp(argv[1], "allhbm"))) {
        fprintf(stderr, "usage: %s tiers3|flat1|allhbm\n", argv[0]);
        return 2;
    }
    snprintf(topo_name, sizeof topo_name, "%s", argv[1]);
    ps = os_page_size();
    nodeset_t mem = sysfs_list("/sys/devices/system/node/has_memory");
    predefined(argv[1], &mem);
    pools(argv[1]);
    policies(argv[1]);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
