// SPDX-License-Identifier: MIT
// guest_sanity: runs inside a hetmem test guest (tests/vm/run-guest) and checks
// that the machine the kernel sees is the one /topology.topo describes: online
// nodes, CPUs per node, node sizes, HMAT access figures, per-node huge pages,
// the NVDIMM set-up of the guest's /init (devdax, fsdax, kmem; read from
// /run/topology.facts) and that MPOL_BIND really places pages on each node
// (checked with move_pages(2)).  Plain C, libnuma only.
//
// Usage: guest_sanity [--topology FILE] [--facts FILE]
//                     [--require-weighted-interleave] [--require-memory-tiers]
// Prints one "ok"/"not ok" line per check; exits 1 if any check failed.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_pages.h"

#ifndef MPOL_WEIGHTED_INTERLEAVE
#define MPOL_WEIGHTED_INTERLEAVE 6
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define MAXNODES 64
#define MAXLIST 64
#define SYSNODE "/sys/devices/system/node"

struct tnode {
    bool declared;
    long long mem_mib;
    unsigned long long cpus;  // bit mask of vCPUs
    char cls[16];
};
struct thmat { int init, target; long rbw, wbw, rlat, wlat; };
struct thuge { long size_kb; int node; long count; };
struct tnvdimm { int id, node; long long mib; char mode[16]; };

static struct tnode nodes[MAXNODES];
static struct thmat hmat[MAXLIST];
static struct thuge huge[MAXLIST];
static struct tnvdimm nvd[MAXLIST];
static int nhmat, nhuge, nnvd, npass, nfail;

static void result(bool ok, const char *fmt, ...)
{
    va_list ap;
    printf("%s %d - ", ok ? "ok" : "not ok", npass + nfail + 1);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
    if (ok)
        npass++;
    else
        nfail++;
}

static long long parse_mib(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    switch (*end) {
    case 'K': case 'k': return v / 1024;
    case 'G': case 'g': return v * 1024;
    case 'T': case 't': return v * 1024 * 1024;
    default: return v;  // M or none
    }
}

// "0-1,4" -> bit mask; returns false on a malformed list.
static bool parse_list(const char *s, unsigned long long *mask)
{
    *mask = 0;
    while (*s && *s != '\n') {
        char *end;
        long lo = strtol(s, &end, 10), hi = lo;
        if (end == s)
            return false;
        if (*end == '-')
            hi = strtol(end + 1, &end, 10);
        for (long i = lo; i <= hi && i < 64; i++)
            *mask |= 1ULL << i;
        s = end;
        if (*s == ',')
            s++;
    }
    return true;
}

static bool read_file(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = 0;
    fclose(f);
    return true;
}

static bool read_long(const char *path, long *v)
{
    char buf[64];
    if (!read_file(path, buf, sizeof buf))
        return false;
    *v = strtol(buf, NULL, 0);
    return true;
}

static bool read_mask(const char *path, unsigned long long *mask)
{
    char buf[512];
    return read_file(path, buf, sizeof buf) && parse_list(buf, mask);
}

static const char *kv(char *tok, const char *key)
{
    size_t n = strlen(key);
    return strncmp(tok, key, n) == 0 && tok[n] == '=' ? tok + n + 1 : NULL;
}

static void parse_topology(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    if (!f) {
        perror(path);
        exit(2);
    }
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#'), *save, *tok, *kw;
        if (hash)
            *hash = 0;
        kw = strtok_r(line, " \t\n", &save);
        if (!kw)
            continue;
        if (strcmp(kw, "node") == 0) {
            int id = atoi(strtok_r(NULL, " \t\n", &save));
            if (id < 0 || id >= MAXNODES)
                continue;
            struct tnode *n = &nodes[id];
            n->declared = true;
            strcpy(n->cls, "DRAM");
            while ((tok = strtok_r(NULL, " \t\n", &save))) {
                const char *v;
                if ((v = kv(tok, "mem")))
                    n->mem_mib = parse_mib(v);
                else if ((v = kv(tok, "cpus")))
                    parse_list(v, &n->cpus);
                else if ((v = kv(tok, "class")))
                    snprintf(n->cls, sizeof n->cls, "%s", v);
            }
        } else if (strcmp(kw, "hmat") == 0 && nhmat < MAXLIST) {
            struct thmat *h = &hmat[nhmat++];
            tok = strtok_r(NULL, " \t\n", &save);
            sscanf(tok, "%d->%d", &h->init, &h->target);
            while ((tok = strtok_r(NULL, " \t\n", &save))) {
                const char *v;
                if ((v = kv(tok, "read_bw"))) h->rbw = atol(v);
                else if ((v = kv(tok, "write_bw"))) h->wbw = atol(v);
                else if ((v = kv(tok, "read_lat"))) h->rlat = atol(v);
                else if ((v = kv(tok, "write_lat"))) h->wlat = atol(v);
            }
        } else if (strcmp(kw, "hugepages") == 0) {
            const char *size = strtok_r(NULL, " \t\n", &save);
            char *list = strtok_r(NULL, " \t\n", &save), *s2, *item;
            long kb = (size && (size[strlen(size) - 1] | 0x20) == 'g') ? 1048576 : 2048;
            for (item = strtok_r(list, ",", &s2); item && nhuge < MAXLIST; item = strtok_r(NULL, ",", &s2)) {
                struct thuge *h = &huge[nhuge++];
                h->size_kb = kb;
                sscanf(item, "%d:%ld", &h->node, &h->count);
            }
        } else if (strcmp(kw, "nvdimm") == 0 && nnvd < MAXLIST) {
            struct tnvdimm *d = &nvd[nnvd++];
            d->id = atoi(strtok_r(NULL, " \t\n", &save));
            while ((tok = strtok_r(NULL, " \t\n", &save))) {
                const char *v;
                if ((v = kv(tok, "node"))) d->node = atoi(v);
                else if ((v = kv(tok, "size"))) d->mib = parse_mib(v);
                else if ((v = kv(tok, "mode"))) snprintf(d->mode, sizeof d->mode, "%s", v);
            }
        }
    }
    fclose(f);
}

// The fact line "MODE ID key=value..." for nvdimm ID, value of key (or NULL).
static char facts_buf[8192];
static const char *fact(const char *mode, int id, const char *key, char *out, size_t len)
{
    char want[64];
    snprintf(want, sizeof want, "%s %d ", mode, id);
    for (char *l = facts_buf; l && *l;) {
        char *nl = strchr(l, '\n');
        size_t ll = nl ? (size_t)(nl - l) : strlen(l);
        if (strncmp(l, want, strlen(want)) == 0) {
            char k[64];
            snprintf(k, sizeof k, " %s=", key);
            char line[1024];
            snprintf(line, sizeof line, "%.*s", (int)ll, l);
            char *p = strstr(line, k);
            if (!p)
                return NULL;
            p += strlen(k);
            size_t n = strcspn(p, " ");
            snprintf(out, len, "%.*s", (int)n, p);
            return out;
        }
        l = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static long meminfo_kb(int node, const char *field)
{
    char path[128], buf[4096];
    snprintf(path, sizeof path, SYSNODE "/node%d/meminfo", node);
    if (!read_file(path, buf, sizeof buf))
        return -1;
    char *p = strstr(buf, field);
    if (!p)
        return -1;
    p += strlen(field);
    while (*p == ':' || *p == ' ')
        p++;
    return strtol(p, NULL, 10);
}

static bool kmem_node(int n)
{
    for (int i = 0; i < nnvd; i++)
        if (nvd[i].node == n && strcmp(nvd[i].mode, "kmem") == 0)
            return true;
    return false;
}

static void check_nodes(void)
{
    unsigned long long want_online = 0, want_cpu = 0, online = 0, has_cpu = 0;
    for (int n = 0; n < MAXNODES; n++) {
        if (!nodes[n].declared)
            continue;
        if (nodes[n].mem_mib > 0 || nodes[n].cpus || kmem_node(n))
            want_online |= 1ULL << n;
        if (nodes[n].cpus)
            want_cpu |= 1ULL << n;
    }
    bool ok = read_mask(SYSNODE "/online", &online);
    result(ok && online == want_online, "online nodes: mask %#llx, expected %#llx (%d nodes)", online,
           want_online, __builtin_popcountll(want_online));
    ok = read_mask(SYSNODE "/has_cpu", &has_cpu);
    result(ok && has_cpu == want_cpu, "nodes with CPUs: mask %#llx, expected %#llx", has_cpu, want_cpu);
    for (int n = 0; n < MAXNODES; n++) {
        if (!(want_online & (1ULL << n)))
            continue;
        char path[128];
        unsigned long long cpus = ~0ULL;
        snprintf(path, sizeof path, SYSNODE "/node%d/cpulist", n);
        ok = read_mask(path, &cpus);
        result(ok && cpus == nodes[n].cpus, "node %d cpus: mask %#llx, expected %#llx", n, cpus, nodes[n].cpus);
    }
}

static void check_sizes(void)
{
    for (int n = 0; n < MAXNODES; n++) {
        if (!nodes[n].declared)
            continue;
        long kb = meminfo_kb(n, "MemTotal");
        if (nodes[n].mem_mib > 0) {
            // Boot takes the kernel image, memmap, swiotlb, ... out of the node.
            long want = (long)nodes[n].mem_mib * 1024;
            long lo = want * 7 / 8 - 64 * 1024;
            result(kb <= want && kb >= lo, "node %d MemTotal %ld kB within [%ld, %ld] kB (mem=%lldM)", n, kb, lo,
                   want, nodes[n].mem_mib);
        } else if (kmem_node(n)) {
            long dimm = 0;
            for (int i = 0; i < nnvd; i++)
                if (nvd[i].node == n && strcmp(nvd[i].mode, "kmem") == 0)
                    dimm += (long)nvd[i].mib * 1024;
            // kmem onlines whole 128M memory blocks only.
            result(kb > 0 && kb <= dimm && kb >= dimm - 256 * 1024,
                   "kmem node %d MemTotal %ld kB within [%ld, %ld] kB", n, kb, dimm - 256 * 1024, dimm);
        }
    }
}

static void check_hmat(void)
{
    for (int t = 0; t < MAXNODES; t++) {
        long rbw = 0, wbw = 0, rlat = 0, wlat = 0;
        bool any = false;
        // access0 holds the best figures over all initiators.
        for (int i = 0; i < nhmat; i++) {
            if (hmat[i].target != t)
                continue;
            if (!any || hmat[i].rbw > rbw) rbw = hmat[i].rbw;
            if (!any || hmat[i].wbw > wbw) wbw = hmat[i].wbw;
            if (!any || hmat[i].rlat < rlat) rlat = hmat[i].rlat;
            if (!any || hmat[i].wlat < wlat) wlat = hmat[i].wlat;
            any = true;
        }
        if (!any)
            continue;
        const char *names[4] = {"read_bandwidth", "write_bandwidth", "read_latency", "write_latency"};
        long want[4] = {rbw, wbw, rlat, wlat};
        for (int k = 0; k < 4; k++) {
            char path[160];
            long got = -1;
            snprintf(path, sizeof path, SYSNODE "/node%d/access0/initiators/%s", t, names[k]);
            bool ok = read_long(path, &got);
            result(ok && got == want[k], "node %d HMAT access0 %s = %ld, expected %ld", t, names[k], got, want[k]);
        }
    }
}

static void check_hugepages(void)
{
    for (int i = 0; i < nhuge; i++) {
        char path[160];
        long got = -1;
        snprintf(path, sizeof path, SYSNODE "/node%d/hugepages/hugepages-%ldkB/nr_hugepages", huge[i].node,
                 huge[i].size_kb);
        bool ok = read_long(path, &got);
        result(ok && got == huge[i].count, "node %d has %ld huge pages of %ld kB, expected %ld", huge[i].node, got,
               huge[i].size_kb, huge[i].count);
    }
}

static void check_dax(void)
{
    char v[256], v2[256];
    if (nnvd == 0)
        return;
    bool have = read_file("/run/topology.facts", facts_buf, sizeof facts_buf);
    result(have, "facts file /run/topology.facts");
    for (int i = 0; i < nnvd; i++) {
        struct tnvdimm *d = &nvd[i];
        struct stat st;
        if (strcmp(d->mode, "devdax") == 0) {
            const char *dev = fact("devdax", d->id, "dev", v, sizeof v);
            bool ok = dev && stat(dev, &st) == 0 && S_ISCHR(st.st_mode);
            result(ok, "nvdimm %d: devdax character device %s", d->id, dev ? dev : "(no fact)");
            if (!ok)
                continue;
            int fd = open(dev, O_RDWR);
            void *p = fd >= 0 ? mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
            bool mapped = p != MAP_FAILED;
            if (mapped) {
                memset(p, 0x5a, 2 << 20);
                mapped = ((volatile char *)p)[12345] == 0x5a;
                munmap(p, 2 << 20);
            }
            if (fd >= 0)
                close(fd);
            result(mapped, "nvdimm %d: mmap and write 2 MiB of %s", d->id, dev);
        } else if (strcmp(d->mode, "fsdax") == 0) {
            const char *mnt = fact("fsdax", d->id, "mount", v, sizeof v);
            char mounts[8192], want[300];
            bool ok = mnt && read_file("/proc/mounts", mounts, sizeof mounts);
            if (ok) {
                snprintf(want, sizeof want, " %s ext4 ", mnt);
                char *l = strstr(mounts, want);
                char *eol = l ? strchr(l, '\n') : NULL;
                if (eol)
                    *eol = 0;
                ok = l && strstr(l, "dax");
            }
            result(ok, "nvdimm %d: fs-dax ext4 mounted with dax on %s", d->id, mnt ? mnt : "(no fact)");
            if (!ok)
                continue;
            // MAP_SYNC is accepted on DAX mappings only.
            snprintf(v2, sizeof v2, "%s/.guest_sanity", mnt);
            int fd = open(v2, O_RDWR | O_CREAT | O_TRUNC, 0600);
            bool sync_ok = fd >= 0 && ftruncate(fd, 1 << 20) == 0;
            void *p = sync_ok ? mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, fd, 0)
                              : MAP_FAILED;
            sync_ok = p != MAP_FAILED;
            if (sync_ok) {
                ((volatile char *)p)[0] = 1;
                munmap(p, 1 << 20);
            }
            if (fd >= 0) {
                close(fd);
                unlink(v2);
            }
            result(sync_ok, "nvdimm %d: MAP_SYNC mapping of a file on %s (%s)", d->id, mnt,
                   sync_ok ? "dax" : strerror(errno));
        } else if (strcmp(d->mode, "kmem") == 0) {
            const char *node = fact("kmem", d->id, "node", v, sizeof v);
            int n = node ? atoi(node) : -1;
            unsigned long long online = 0, cpus = ~0ULL;
            char path[128];
            snprintf(path, sizeof path, SYSNODE "/node%d/cpulist", n);
            bool ok = node && n == d->node && read_mask(SYSNODE "/online", &online) && (online & (1ULL << n)) &&
                      read_mask(path, &cpus) && cpus == 0;
            result(ok, "nvdimm %d: kmem node %d online and CPU-less (expected node %d)", d->id, n, d->node);
        }
    }
}

// mmap 64 pages, bind them to node n, touch them, ask move_pages where they are.
static void check_placement(void)
{
    unsigned long long mem = 0;
    long psz = sysconf(_SC_PAGESIZE);
    enum { NPAGES = 64 };
    read_mask(SYSNODE "/has_memory", &mem);
    for (int n = 0; n < MAXNODES; n++) {
        if (!(mem & (1ULL << n)))
            continue;
        char *p = mmap(NULL, NPAGES * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            result(false, "node %d placement: mmap: %s", n, strerror(errno));
            continue;
        }
        madvise(p, NPAGES * psz, MADV_NOHUGEPAGE);
        unsigned long nodemask[MAXNODES / (8 * sizeof(unsigned long))] = {0};
        nodemask[n / (8 * sizeof(unsigned long))] |= 1UL << (n % (8 * sizeof(unsigned long)));
        if (mbind(p, NPAGES * psz, MPOL_BIND, nodemask, MAXNODES + 1, 0) != 0) {
            result(false, "node %d placement: mbind: %s", n, strerror(errno));
            munmap(p, NPAGES * psz);
            continue;
        }
        for (int i = 0; i < NPAGES; i++)
            p[i * psz] = (char)i;
        gp_count_t c; // void (false) when move_pages fails or a page is absent
        bool counted = gp_count(p, NPAGES * psz, false, NULL, &c);
        result(counted && c.pages == NPAGES && c.on[n] == NPAGES,
               "node %d placement: %zu of %d MPOL_BIND pages on node %d (move_pages: %s)", n,
               c.on[n], NPAGES, n, gp_format(&c));
        munmap(p, NPAGES * psz);
    }
}

static void check_weighted_interleave(void)
{
    struct stat st;
    bool dir = stat("/sys/kernel/mm/mempolicy/weighted_interleave", &st) == 0 && S_ISDIR(st.st_mode);
    result(dir, "/sys/kernel/mm/mempolicy/weighted_interleave exists");
    unsigned long mask = 0;
    unsigned long long mem = 0;
    read_mask(SYSNODE "/has_memory", &mem);
    mask = (unsigned long)mem;
    long rc = set_mempolicy(MPOL_WEIGHTED_INTERLEAVE, &mask, 65);
    result(rc == 0, "set_mempolicy(MPOL_WEIGHTED_INTERLEAVE) %s", rc == 0 ? "accepted" : strerror(errno));
    set_mempolicy(MPOL_DEFAULT, NULL, 0);
}

// memory_tierN: a larger N is a slower tier.
static int tier_of(int node)
{
    char path[300], buf[256];
    for (int t = 0; t < 4096; t++) {
        unsigned long long m;
        snprintf(path, sizeof path, "/sys/devices/virtual/memory_tiering/memory_tier%d/nodelist", t);
        if (read_file(path, buf, sizeof buf) && parse_list(buf, &m) && (m & (1ULL << node)))
            return t;
    }
    return -1;
}

static void check_memory_tiers(void)
{
    struct stat st;
    bool dir = stat("/sys/devices/virtual/memory_tiering", &st) == 0;
    result(dir, "/sys/devices/virtual/memory_tiering exists");
    if (!dir)
        return;
    int dram = -1;
    for (int n = 0; n < MAXNODES; n++)
        if (nodes[n].declared && strcmp(nodes[n].cls, "DRAM") == 0 && dram < 0)
            dram = tier_of(n);
    for (int n = 0; n < MAXNODES; n++) {
        if (!nodes[n].declared)
            continue;
        int t = tier_of(n);
        result(t >= 0, "node %d (%s) is in memory tier %d", n, nodes[n].cls, t);
        if (dram < 0 || t < 0)
            continue;
        if (!strcmp(nodes[n].cls, "CXL") || !strcmp(nodes[n].cls, "PMEM") || !strcmp(nodes[n].cls, "KMEM"))
            result(t > dram, "node %d (%s) tier %d is slower than DRAM's tier %d", n, nodes[n].cls, t, dram);
        else if (!strcmp(nodes[n].cls, "HBM"))
            result(t <= dram, "node %d (HBM) tier %d is not slower than DRAM's tier %d", n, t, dram);
    }
}

int main(int argc, char **argv)
{
    const char *topo = "/topology.topo";
    bool want_wi = false, want_tiers = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--topology") && i + 1 < argc)
            topo = argv[++i];
        else if (!strcmp(argv[i], "--require-weighted-interleave"))
            want_wi = true;
        else if (!strcmp(argv[i], "--require-memory-tiers"))
            want_tiers = true;
        else {
            fprintf(stderr, "usage: %s [--topology FILE] [--require-weighted-interleave] [--require-memory-tiers]\n",
                    argv[0]);
            return 2;
        }
    }
    parse_topology(topo);
    if (numa_available() < 0) {
        result(false, "libnuma: numa_available()");
        return 1;
    }
    char release[128] = "?";
    read_file("/proc/sys/kernel/osrelease", release, sizeof release);
    release[strcspn(release, "\n")] = 0;
    printf("# guest_sanity: kernel %s, %d configured nodes, libnuma sees max node %d\n", release,
           numa_num_configured_nodes(), numa_max_node());
    check_nodes();
    check_sizes();
    check_hmat();
    check_hugepages();
    check_dax();
    check_placement();
    if (want_wi)
        check_weighted_interleave();
    if (want_tiers)
        check_memory_tiers();
    printf("guest_sanity: %d passed, %d failed\n", npass, nfail);
    return nfail ? 1 : 0;
}
