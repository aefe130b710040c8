// SPDX-License-Identifier: MIT
// check_hetmem_info: runs inside a hetmem test guest (tests/vm/run-guest) and
// checks that hetmem-info describes the machine that /topology.topo describes.
// It links nothing of hetmem: it runs `hetmem-info --json` and `hetmem-info`
// (found on PATH) and compares their output with the topology file, the
// guest's /run/topology.facts (DAX KMEM) and the guest kernel's sysfs.
//
// Usage: check_hetmem_info [--topology FILE] [--facts FILE] [--hetmem-info PROG]
//                          [--all-class CLASS] [--node-count N]
//                          [--require-hmat] [--require-kmem]
//
//   --topology      the expected machine (default $HETMEM_VM_TOPOLOGY, else /topology.topo)
//   --facts         the NVDIMM set-up (default $HETMEM_VM_FACTS, else /run/topology.facts)
//   --all-class C   every node must be of hetmem class C (allhbm: HBM)
//   --node-count N  hetmem must find exactly N nodes (flat1: 1)
//   --require-hmat  the topology must have hmat lines (so the figure and tier
//                   order checks cannot pass vacuously)
//   --require-kmem  the facts must name a kmem node (dax)
//
// For every node of the file (with memory) it checks: hetmem lists it; its
// class is the file's (DRAM, HBM, CXL, PMEM; the file's KMEM is hetmem's PMEM);
// its CPUs are the file's and the kernel's; capacity_bytes is the kernel's
// MemTotal exactly and mem= loosely; read/write bandwidth and latency are the
// file's hmat figures from the best initiator (none without hmat lines);
// the tier is the kernel's memory_tierN and the tiers are ordered as the
// classes imply (HBM <= DRAM < CXL, PMEM where HMAT figures exist); the huge
// page counts are the file's; dax_kmem names the facts' kmem device. Also:
// "hmat", "classes", "rejected_env", and the text table's class and tier.
//
// Prints one "ok"/"not ok" line per check; exits 1 if any check failed, 2 when
// it cannot run (no topology file, hetmem-info missing or unparsable output).
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mini_json.h"

#define MAXNODES 64
#define MAXLIST 64
#define MIB (1024LL * 1024)
#define SYSNODE "/sys/devices/system/node"
#define SYSTIER "/sys/devices/virtual/memory_tiering"

typedef unsigned long long mask_t; // bit i = CPU (or node) i; the guests have < 64

struct tnode {
    bool declared;
    long long mem_mib;
    mask_t cpus;
    char cls[16];     // the file's label (DRAM when absent, as run-guest reads it)
};
struct thmat {
    int init, target;
    long long rbw, wbw, rlat, wlat;
};
struct thuge {
    long long size_kb;
    int node;
    long long count;
};
struct tkmem {
    int node;
    long long size;   // bytes, from the facts
    char dev[64];     // daxX.Y
};

static struct tnode tnodes[MAXNODES];
static struct thmat hmat[MAXLIST];
static struct thuge huge[MAXLIST];
static struct tkmem kmem[MAXLIST];
static int nhmat, nhuge, nkmem, npass, nfail;
static const char *topo_path, *facts_path;

static void result(bool ok, const char *fmt, ...) {
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

static _Noreturn void die(const char *fmt, ...) {
    va_list ap;
    fputs("check_hetmem_info: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

// ---- the topology file and the facts ----------------------------------------

static long long parse_mib(const char *s) {
    char *end;
    long long v = strtoll(s, &end, 10);
    switch (*end) {
    case 'K': case 'k': return v / 1024;
    case 'G': case 'g': return v * 1024;
    case 'T': case 't': return v * 1024 * 1024;
    default: return v; // M or none
    }
}

// "0-1,4" -> bit mask ("" -> 0); false on a malformed list.
static bool parse_list(const char *s, mask_t *mask) {
    *mask = 0;
    while (*s && *s != '\n') {
        char *end;
        long lo = strtol(s, &end, 10), hi = lo;
        if (end == s || lo < 0)
            return false;
        if (*end == '-') {
            const char *h = end + 1;
            hi = strtol(h, &end, 10);
            if (end == h || hi < lo)
                return false;
        }
        for (long i = lo; i <= hi && i < 64; i++)
            *mask |= 1ULL << i;
        s = end;
        if (*s == ',')
            s++;
        else if (*s && *s != '\n')
            return false;
    }
    return true;
}

static const char *kv(const char *tok, const char *key) {
    size_t n = strlen(key);
    return strncmp(tok, key, n) == 0 && tok[n] == '=' ? tok + n + 1 : NULL;
}

static void parse_topology(const char *path) {
    FILE *f = fopen(path, "r");
    char line[512];
    if (!f)
        die("cannot open the topology file %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#'), *save, *tok, *kw;
        if (hash)
            *hash = 0;
        kw = strtok_r(line, " \t\n", &save);
        if (!kw)
            continue;
        if (strcmp(kw, "node") == 0) {
            tok = strtok_r(NULL, " \t\n", &save);
            int id = tok ? atoi(tok) : -1;
            if (id < 0 || id >= MAXNODES)
                die("%s: bad node line", path);
            struct tnode *n = &tnodes[id];
            n->declared = true;
            strcpy(n->cls, "DRAM");
            while ((tok = strtok_r(NULL, " \t\n", &save))) {
                const char *v;
                if ((v = kv(tok, "mem")))
                    n->mem_mib = parse_mib(v);
                else if ((v = kv(tok, "cpus"))) {
                    if (!parse_list(v, &n->cpus))
                        die("%s: node %d: bad cpus=%s", path, id, v);
                } else if ((v = kv(tok, "class")))
                    snprintf(n->cls, sizeof n->cls, "%s", v);
            }
        } else if (strcmp(kw, "hmat") == 0) {
            if (nhmat == MAXLIST)
                die("%s: too many hmat lines", path);
            struct thmat *h = &hmat[nhmat++];
            tok = strtok_r(NULL, " \t\n", &save);
            if (!tok || sscanf(tok, "%d->%d", &h->init, &h->target) != 2 || h->target < 0 ||
                h->target >= MAXNODES)
                die("%s: bad hmat line", path);
            while ((tok = strtok_r(NULL, " \t\n", &save))) {
                const char *v;
                if ((v = kv(tok, "read_bw")))
                    h->rbw = atoll(v);
                else if ((v = kv(tok, "write_bw")))
                    h->wbw = atoll(v);
                else if ((v = kv(tok, "read_lat")))
                    h->rlat = atoll(v);
                else if ((v = kv(tok, "write_lat")))
                    h->wlat = atoll(v);
            }
        } else if (strcmp(kw, "hugepages") == 0) {
            const char *size = strtok_r(NULL, " \t\n", &save);
            char *list = strtok_r(NULL, " \t\n", &save), *s2, *item;
            if (!size || !list)
                die("%s: bad hugepages line", path);
            long long kb = (size[strlen(size) - 1] | 0x20) == 'g' ? 1048576 : 2048;
            for (item = strtok_r(list, ",", &s2); item; item = strtok_r(NULL, ",", &s2)) {
                if (nhuge == MAXLIST)
                    die("%s: too many hugepages entries", path);
                struct thuge *h = &huge[nhuge++];
                h->size_kb = kb;
                if (sscanf(item, "%d:%lld", &h->node, &h->count) != 2)
                    die("%s: bad hugepages entry %s", path, item);
            }
        }
        // nvdimm, cmdline, name: what the guest made of an nvdimm is in the facts
    }
    fclose(f);
}

// "kmem ID dev=daxX.Y node=N size=BYTES ..." lines of /run/topology.facts.
static void parse_facts(const char *path) {
    FILE *f = fopen(path, "r");
    char line[512];
    if (!f)
        return; // no NVDIMMs in this topology
    while (fgets(line, sizeof line, f)) {
        char *save, *tok, *kw = strtok_r(line, " \t\n", &save);
        if (!kw || strcmp(kw, "kmem") != 0)
            continue;
        if (nkmem == MAXLIST)
            die("%s: too many kmem lines", path);
        struct tkmem *k = &kmem[nkmem++];
        k->node = -1;
        strtok_r(NULL, " \t\n", &save); // the nvdimm id
        while ((tok = strtok_r(NULL, " \t\n", &save))) {
            const char *v;
            if ((v = kv(tok, "dev"))) {
                if (strncmp(v, "/dev/", 5) == 0)
                    v += 5;
                snprintf(k->dev, sizeof k->dev, "%s", v);
            } else if ((v = kv(tok, "node")))
                k->node = atoi(v);
            else if ((v = kv(tok, "size")))
                k->size = atoll(v);
        }
        if (k->node < 0 || k->node >= MAXNODES || !k->dev[0])
            die("%s: kmem line without node= or dev=", path);
    }
    fclose(f);
}

// The file's class label as hetmem names it; NULL when hetmem has no such class.
static const char *hetmem_class(const char *file_cls) {
    static const struct {
        const char *file, *hetmem;
    } map[] = {
        {"DRAM", "DRAM"}, {"HBM", "HBM"}, {"CXL", "CXL"}, {"PMEM", "PMEM"}, {"KMEM", "PMEM"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(file_cls, map[i].file) == 0)
            return map[i].hetmem;
    return NULL;
}

static const struct tkmem *kmem_of(int node) {
    for (int i = 0; i < nkmem; i++)
        if (kmem[i].node == node)
            return &kmem[i];
    return NULL;
}

// A node hetmem must list: boot memory, or memory a kmem NVDIMM gave it.
static bool has_memory(int id) {
    return tnodes[id].declared && (tnodes[id].mem_mib > 0 || kmem_of(id));
}

static bool file_has_hmat(int target) {
    for (int i = 0; i < nhmat; i++)
        if (hmat[i].target == target)
            return true;
    return false;
}

// The best initiator's figures for `target`, as docs/topology.md defines it:
// highest (mean) bandwidth, then lowest (mean) latency, then lowest id.
static const struct thmat *best_hmat(int target) {
    const struct thmat *best = NULL;
    for (int i = 0; i < nhmat; i++) {
        const struct thmat *h = &hmat[i];
        if (h->target != target)
            continue;
        long long bw = h->rbw + h->wbw, lat = h->rlat + h->wlat;
        if (!best || bw > best->rbw + best->wbw ||
            (bw == best->rbw + best->wbw &&
             (lat < best->rlat + best->wlat ||
              (lat == best->rlat + best->wlat && h->init < best->init))))
            best = h;
    }
    return best;
}

// ---- the guest's sysfs ------------------------------------------------------

static bool read_text(const char *path, char *buf, size_t len) {
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, len - 1, f);
    buf[n] = 0;
    fclose(f);
    return true;
}

// MemTotal of a node in kB; -1 when unreadable.
static long long node_memtotal_kb(int id) {
    char path[128], buf[4096];
    snprintf(path, sizeof path, SYSNODE "/node%d/meminfo", id);
    if (!read_text(path, buf, sizeof buf))
        return -1;
    const char *p = strstr(buf, "MemTotal:");
    return p ? atoll(p + strlen("MemTotal:")) : -1;
}

// The memory_tierN directory that lists `node`: N, or -1.
static int kernel_tier(int node) {
    DIR *d = opendir(SYSTIER);
    struct dirent *e;
    int tier = -1;
    if (!d)
        return -1;
    while ((e = readdir(d))) {
        int t;
        char path[512], buf[256];
        mask_t m;
        if (sscanf(e->d_name, "memory_tier%d", &t) != 1)
            continue;
        snprintf(path, sizeof path, SYSTIER "/%s/nodelist", e->d_name);
        if (read_text(path, buf, sizeof buf) && parse_list(buf, &m) && (m >> node & 1))
            tier = t;
    }
    closedir(d);
    return tier;
}

// ---- hetmem-info ------------------------------------------------------------

// Runs `cmd` and returns its whole stdout (malloc'd); dies unless it exits 0.
static char *run_capture(const char *cmd) {
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!p || !buf)
        die("cannot run '%s': %s", cmd, strerror(errno));
    for (;;) {
        if (cap - n < 4096 && !(buf = realloc(buf, cap *= 2)))
            die("out of memory");
        size_t r = fread(buf + n, 1, cap - n - 1, p);
        if (r == 0)
            break;
        n += r;
    }
    buf[n] = 0;
    int st = pclose(p);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("---- output of '%s' ----\n%s---- end ----\n", cmd, buf);
        die("'%s' failed (status %d%s)", cmd, WIFEXITED(st) ? WEXITSTATUS(st) : -1,
            WIFEXITED(st) && WEXITSTATUS(st) == 127 ? ": not found on PATH" : "");
    }
    return buf;
}

// A member that must be a non-negative integer; -1 (and a failed check) otherwise.
static long long jint(const mj_value_t *obj, const char *key, int node) {
    const mj_value_t *v = mj_get(obj, key);
    if (!v || v->type != MJ_NUMBER || !v->is_integer || v->integer < 0) {
        result(false, "node %d: \"%s\" is a non-negative integer", node, key);
        return -1;
    }
    return v->integer;
}

static bool jnull(const mj_value_t *obj, const char *key) {
    const mj_value_t *v = mj_get(obj, key);
    return v && v->type == MJ_NULL;
}

static const char *jstr(const mj_value_t *obj, const char *key) {
    const mj_value_t *v = mj_get(obj, key);
    return v && v->type == MJ_STRING ? v->string : NULL;
}

static const mj_value_t *json_node(const mj_value_t *nodes, int id) {
    for (size_t i = 0; nodes && i < nodes->count; i++) {
        const mj_value_t *n = mj_at(nodes, i), *v = mj_get(n, "id");
        if (v && v->type == MJ_NUMBER && v->is_integer && v->integer == id)
            return n;
    }
    return NULL;
}

// ---- the checks -------------------------------------------------------------

static void check_figure(const mj_value_t *n, int id, const char *key, long long want) {
    long long got = jint(n, key, id);
    if (got >= 0)
        result(got == want, "node %d: %s = %lld (topology: %lld)", id, key, got, want);
}

static void check_perf(const mj_value_t *n, int id) {
    static const char *const keys[] = {"bandwidth_mbps",  "read_bandwidth_mbps",
                                       "write_bandwidth_mbps", "latency_ns",
                                       "read_latency_ns", "write_latency_ns", "initiator"};
    const struct thmat *h = best_hmat(id);
    if (!h) {
        bool all_null = true;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (!jnull(n, keys[i])) {
                result(false, "node %d: \"%s\" is null (the topology has no hmat line for it)",
                       id, keys[i]);
                all_null = false;
            }
        if (all_null)
            result(true, "node %d: no bandwidth/latency figures, no initiator (no hmat line)", id);
        return;
    }
    check_figure(n, id, "read_bandwidth_mbps", h->rbw);
    check_figure(n, id, "write_bandwidth_mbps", h->wbw);
    check_figure(n, id, "read_latency_ns", h->rlat);
    check_figure(n, id, "write_latency_ns", h->wlat);
    long long init = jint(n, "initiator", id);
    if (init >= 0)
        result(init == h->init, "node %d: initiator = %lld (best initiator in the topology: %d)",
               id, init, h->init);
    // On Linux hwloc's combined Bandwidth/Latency are the mean of read and
    // write (docs/topology.md); rule 4 compares that bandwidth.
    long long bw = jint(n, "bandwidth_mbps", id), lat = jint(n, "latency_ns", id);
    long long bsum = h->rbw + h->wbw, lsum = h->rlat + h->wlat;
    if (bw >= 0)
        result(bw == bsum / 2 || bw == (bsum + 1) / 2,
               "node %d: bandwidth_mbps = %lld (mean of %lld and %lld)", id, bw, h->rbw, h->wbw);
    if (lat >= 0)
        result(lat == lsum / 2 || lat == (lsum + 1) / 2,
               "node %d: latency_ns = %lld (mean of %lld and %lld)", id, lat, h->rlat, h->wlat);
}

static long long file_hugepages(int id, long long size_kb) {
    long long c = 0;
    for (int i = 0; i < nhuge; i++)
        if (huge[i].node == id && huge[i].size_kb == size_kb)
            c += huge[i].count;
    return c;
}

static void check_capacity(const mj_value_t *n, int id) {
    long long cap = jint(n, "capacity_bytes", id), kb = node_memtotal_kb(id);
    if (cap < 0)
        return;
    if (kb < 0)
        result(false, "node %d: the kernel's %s/node%d/meminfo is readable", id, SYSNODE, id);
    else
        result(cap == kb * 1024, "node %d: capacity_bytes = %lld, the kernel's MemTotal %lld kB",
               id, cap, kb);
    // Loosely against the file: boot memory shrinks by the kernel, memmap and
    // swiotlb (guest_sanity's bound); a kmem NVDIMM gives whole 128 MiB blocks.
    long long lo = 0, hi = 0, mem = tnodes[id].mem_mib * MIB;
    const struct tkmem *k = kmem_of(id);
    if (mem > 0) {
        lo += mem / 8 * 7 - 64 * MIB;
        hi += mem;
    }
    if (k) {
        long long blocks = k->size / (128 * MIB);
        lo += blocks > 1 ? (blocks - 1) * 128 * MIB : 1;
        hi += k->size;
    }
    result(cap >= lo && cap <= hi,
           "node %d: capacity %lld MiB within [%lld, %lld] MiB (mem=%lldM%s)", id, cap / MIB,
           lo / MIB, hi / MIB, tnodes[id].mem_mib, k ? " + kmem NVDIMM" : "");
}

static void check_cpus(const mj_value_t *n, int id) {
    const char *s = jstr(n, "cpus");
    mask_t m, sys = 0;
    char path[128], buf[512];
    if (!s || !parse_list(s, &m)) {
        result(false, "node %d: \"cpus\" is a CPU list (got %s)", id, s ? s : "no string");
        return;
    }
    result(m == tnodes[id].cpus, "node %d: cpus \"%s\" (topology: %#llx as a mask)", id, s,
           tnodes[id].cpus);
    snprintf(path, sizeof path, SYSNODE "/node%d/cpulist", id);
    if (read_text(path, buf, sizeof buf) && parse_list(buf, &sys))
        result(m == sys, "node %d: cpus \"%s\" are the kernel's cpulist", id, s);
}

// Order of the classes in speed, for the tier check: HBM, DRAM, then far memory.
static int class_rank(const char *cls) {
    if (!strcmp(cls, "HBM"))
        return 0;
    if (!strcmp(cls, "DRAM"))
        return 1;
    return 2; // CXL, PMEM
}

static void check_tiers(const mj_value_t *nodes) {
    bool have_tiers = access(SYSTIER, F_OK) == 0;
    result(have_tiers, "the kernel has memory tiers (%s)", SYSTIER);
    long long tier[MAXNODES];
    for (int id = 0; id < MAXNODES; id++) {
        tier[id] = -1;
        const mj_value_t *n = has_memory(id) ? json_node(nodes, id) : NULL;
        if (!n)
            continue;
        const mj_value_t *t = mj_get(n, "tier");
        const char *src = jstr(n, "tier_source");
        if (!t || t->type != MJ_NUMBER || !t->is_integer) {
            result(false, "node %d: \"tier\" is an integer", id);
            continue;
        }
        tier[id] = t->integer;
        if (!have_tiers)
            continue;
        int kt = kernel_tier(id);
        if (kt < 0) {
            result(false, "node %d: the kernel lists it in a memory_tierN/nodelist", id);
            continue;
        }
        result(t->integer == kt && src && !strcmp(src, "kernel"),
               "node %d: tier %lld (%s) is the kernel's memory_tier%d", id, t->integer,
               src ? src : "no tier_source", kt);
    }
    // The order the classes imply, between nodes that both have HMAT figures
    // (without them the kernel puts every node with DRAM, in tier 4).
    for (int a = 0; a < MAXNODES; a++)
        for (int b = 0; b < MAXNODES; b++) {
            if (tier[a] < 0 || tier[b] < 0 || !file_has_hmat(a) || !file_has_hmat(b))
                continue;
            const char *ca = hetmem_class(tnodes[a].cls), *cb = hetmem_class(tnodes[b].cls);
            if (!ca || !cb || class_rank(ca) >= class_rank(cb))
                continue;
            if (class_rank(ca) == 0 && class_rank(cb) == 1)
                result(tier[a] <= tier[b], "tier order: node %d (%s) tier %lld <= node %d (%s) "
                       "tier %lld", a, ca, tier[a], b, cb, tier[b]);
            else
                result(tier[a] < tier[b], "tier order: node %d (%s) tier %lld < node %d (%s) "
                       "tier %lld", a, ca, tier[a], b, cb, tier[b]);
        }
}

static void check_node(const mj_value_t *n, int id) {
    const struct tnode *t = &tnodes[id];
    const char *want = hetmem_class(t->cls), *cls = jstr(n, "class");
    if (!want)
        result(false, "node %d: the topology's class=%s is one of DRAM, HBM, CXL, PMEM, KMEM", id,
               t->cls);
    else if (cls && !strcmp(cls, want))
        result(true, "node %d: class %s (topology: %s)", id, cls, t->cls);
    else
        result(false, "node %d: hetmem-info says class %s, the topology file says class=%s "
               "(expected %s): the file's label or hetmem's classification (docs/topology.md, "
               "Classes) is wrong", id, cls ? cls : "missing", t->cls, want);
    check_cpus(n, id);
    check_capacity(n, id);
    check_perf(n, id);

    long long h2 = jint(n, "hugepages_2m", id), h1 = jint(n, "hugepages_1g", id);
    long long w2 = file_hugepages(id, 2048), w1 = file_hugepages(id, 1048576);
    if (h2 >= 0)
        result(h2 == w2, "node %d: hugepages_2m = %lld (topology: %lld)", id, h2, w2);
    if (h1 >= 0)
        result(h1 == w1, "node %d: hugepages_1g = %lld (topology: %lld)", id, h1, w1);

    const struct tkmem *k = kmem_of(id);
    const char *dax = jstr(n, "dax_kmem");
    if (k) {
        result(cls && !strcmp(cls, "PMEM"), "node %d: a DAX KMEM node (facts: %s) is class PMEM "
               "(got %s)", id, k->dev, cls ? cls : "missing");
        result(dax && !strcmp(dax, k->dev), "node %d: dax_kmem = %s (facts: %s)", id,
               dax ? dax : "null", k->dev);
    } else {
        result(jnull(n, "dax_kmem"), "node %d: dax_kmem is null (no kmem device feeds it; got %s)",
               id, dax ? dax : "null");
    }
    const mj_value_t *ho = mj_get(n, "hbw_override"), *ko = mj_get(n, "kmem_override");
    result(ho && ho->type == MJ_BOOL && !ho->boolean && ko && ko->type == MJ_BOOL && !ko->boolean,
           "node %d: no class override (hbw_override, kmem_override false)", id);
}

// "classes": {"DRAM": "0", ...} must name exactly the nodes of each class.
static void check_classes(const mj_value_t *root, const mj_value_t *nodes) {
    static const char *const names[] = {"DRAM", "HBM", "CXL", "PMEM"};
    const mj_value_t *classes = mj_get(root, "classes");
    for (size_t c = 0; c < sizeof names / sizeof names[0]; c++) {
        const char *list = jstr(classes, names[c]);
        mask_t got, want = 0;
        for (size_t i = 0; nodes && i < nodes->count; i++) {
            const mj_value_t *n = mj_at(nodes, i), *id = mj_get(n, "id");
            const char *cls = jstr(n, "class");
            if (id && id->is_integer && id->integer < 64 && cls && !strcmp(cls, names[c]))
                want |= 1ULL << id->integer;
        }
        result(list && parse_list(list, &got) && got == want,
               "\"classes\".%s = \"%s\" lists the nodes of class %s", names[c],
               list ? list : "(missing)", names[c]);
    }
}

// The text table: a line per node, "ID CLASS TIER ...".
static void check_text(const char *text, const mj_value_t *nodes) {
    bool hmat_any = nhmat > 0;
    result(strstr(text, hmat_any ? "HMAT present" : "HMAT absent") != NULL,
           "text: the summary line says HMAT %s", hmat_any ? "present" : "absent");
    result(strstr(text, "\nnode class tier") != NULL, "text: the node table has its header");
    for (size_t i = 0; nodes && i < nodes->count; i++) {
        const mj_value_t *n = mj_at(nodes, i), *idv = mj_get(n, "id"), *tv = mj_get(n, "tier");
        const char *src = jstr(n, "tier_source");
        if (!idv || !idv->is_integer || !tv || !tv->is_integer)
            continue;
        int id = (int)idv->integer;
        const char *want = id < MAXNODES ? hetmem_class(tnodes[id].cls) : NULL;
        char tier[32];
        snprintf(tier, sizeof tier, "%lld%s", tv->integer,
                 src && !strcmp(src, "kernel") ? "" : "*");
        bool found = false, ok = false;
        char got_cls[32] = "", got_tier[32] = "";
        // Find the table line that starts with the node id, after the header.
        const char *p = strstr(text, "\nnode class tier");
        for (p = p ? strchr(p + 1, '\n') : NULL; p && !found; p = strchr(p + 1, '\n')) {
            int lid;
            if (sscanf(p + 1, "%d %31s %31s", &lid, got_cls, got_tier) == 3 && lid == id)
                found = true;
            if (p[1] == '\n' || p[1] == 0)
                break; // end of the table
        }
        ok = found && want && !strcmp(got_cls, want) && !strcmp(got_tier, tier);
        result(ok, "text: node %d's line says class %s tier %s (expected %s, tier %s)", id,
               found ? got_cls : "(no line)", found ? got_tier : "-", want ? want : "?", tier);
    }
}

static void usage(void) {
    fprintf(stderr, "usage: check_hetmem_info [--topology FILE] [--facts FILE] "
                    "[--hetmem-info PROG] [--all-class CLASS] [--node-count N] "
                    "[--require-hmat] [--require-kmem]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *prog = "hetmem-info", *all_class = NULL;
    int node_count = -1;
    bool require_hmat = false, require_kmem = false;
    topo_path = getenv("HETMEM_VM_TOPOLOGY") ? getenv("HETMEM_VM_TOPOLOGY") : "/topology.topo";
    facts_path = getenv("HETMEM_VM_FACTS") ? getenv("HETMEM_VM_FACTS") : "/run/topology.facts";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--topology") && more)
            topo_path = argv[++i];
        else if (!strcmp(a, "--facts") && more)
            facts_path = argv[++i];
        else if (!strcmp(a, "--hetmem-info") && more)
            prog = argv[++i];
        else if (!strcmp(a, "--all-class") && more)
            all_class = argv[++i];
        else if (!strcmp(a, "--node-count") && more)
            node_count = atoi(argv[++i]);
        else if (!strcmp(a, "--require-hmat"))
            require_hmat = true;
        else if (!strcmp(a, "--require-kmem"))
            require_kmem = true;
        else
            usage();
    }
    parse_topology(topo_path);
    parse_facts(facts_path);
    printf("# topology %s, facts %s, %d hmat line(s), %d kmem node(s)\n", topo_path, facts_path,
           nhmat, nkmem);

    char cmd[1024], err[256] = "";
    snprintf(cmd, sizeof cmd, "%s --json", prog);
    char *json_text = run_capture(cmd);
    mj_value_t *root = mj_parse(json_text, err, sizeof err);
    if (!root) {
        printf("---- %s ----\n%s---- end ----\n", cmd, json_text);
        die("'%s' printed invalid JSON: %s", cmd, err);
    }
    char *text = run_capture(prog);

    const mj_value_t *nodes = mj_get(root, "nodes"), *hm = mj_get(root, "hmat"),
                     *rej = mj_get(root, "rejected_env");
    if (!nodes || nodes->type != MJ_ARRAY)
        die("'%s' has no \"nodes\" array", cmd);
    result(hm && hm->type == MJ_BOOL && hm->boolean == (nhmat > 0),
           "\"hmat\" is %s (the topology has %d hmat line(s))", nhmat > 0 ? "true" : "false",
           nhmat);
    result(rej && rej->type == MJ_ARRAY && rej->count == 0, "\"rejected_env\" is empty");
    if (require_hmat)
        result(nhmat > 0, "the topology has hmat lines (--require-hmat)");
    if (require_kmem)
        result(nkmem > 0, "the facts name a kmem node (--require-kmem; %s)", facts_path);

    // The node set: every node of the file with memory, and no other.
    int n_expected = 0;
    for (int id = 0; id < MAXNODES; id++) {
        if (!has_memory(id))
            continue;
        n_expected++;
        const mj_value_t *n = json_node(nodes, id);
        result(n != NULL, "node %d (%s, mem=%lldM) is listed by hetmem-info", id, tnodes[id].cls,
               tnodes[id].mem_mib);
        if (n)
            check_node(n, id);
    }
    for (size_t i = 0; i < nodes->count; i++) {
        const mj_value_t *idv = mj_get(mj_at(nodes, i), "id");
        long long id = idv && idv->is_integer ? idv->integer : -1;
        if (id < 0 || id >= MAXNODES || !has_memory((int)id))
            result(false, "hetmem-info lists node %lld, which the topology does not have (with "
                   "memory)", id);
    }
    result((int)nodes->count == n_expected, "hetmem-info lists %zu node(s), the topology %d",
           nodes->count, n_expected);
    if (node_count >= 0)
        result((int)nodes->count == node_count, "exactly %d node(s) (--node-count; got %zu)",
               node_count, nodes->count);
    if (all_class)
        for (size_t i = 0; i < nodes->count; i++) {
            const mj_value_t *n = mj_at(nodes, i), *idv = mj_get(n, "id");
            const char *cls = jstr(n, "class");
            result(cls && !strcmp(cls, all_class), "node %lld is %s (--all-class; got %s)",
                   idv && idv->is_integer ? idv->integer : -1, all_class, cls ? cls : "missing");
        }
    check_tiers(nodes);
    check_classes(root, nodes);
    check_text(text, nodes);

    printf("# %d passed, %d failed\n", npass, nfail);
    if (nfail)
        printf("# FAIL: hetmem-info disagrees with %s in %d check(s) (the \"not ok\" lines)\n",
               topo_path, nfail);
    mj_free(root);
    free(json_text);
    free(text);
    return nfail ? 1 : 0;
}
