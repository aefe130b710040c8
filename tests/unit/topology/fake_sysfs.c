// SPDX-License-Identifier: MIT
// Writes the fake sysfs trees of fake_sysfs.h. Each CPU gets a topology
// directory with thread_siblings (hwloc aborts its Linux discovery without
// one), core/package ids; each node its cpumap (what hwloc reads), cpulist
// (what hetmem reads), meminfo, distance and, when asked, hugepages and
// HMAT figures in access0 and access1 (initiators/nodeX links included).
#include "fake_sysfs.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/nodeset.h"
#include "topology/topo.h"

#define NODE "sys/devices/system/node"
#define CPU "sys/devices/system/cpu"

// mkdir -p of every directory above (and including) the path's last '/'.
static int mkdirs(const char *path) {
    char p[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof p)
        return -1;
    memcpy(p, path, n + 1);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return 0;
}

static int vwrite_file(const char *dir, const char *content, const char *fmt, va_list ap) {
    char rel[PATH_MAX], p[2 * PATH_MAX];
    vsnprintf(rel, sizeof rel, fmt, ap);
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    if (strlen(p) >= PATH_MAX || mkdirs(p) != 0)
        return -1;
    FILE *f = fopen(p, "w");
    if (!f)
        return -1;
    fputs(content, f);
    return fclose(f) == 0 ? 0 : -1;
}

int fake_write(const char *dir, const char *content, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int r = vwrite_file(dir, content, fmt, ap);
    va_end(ap);
    return r;
}

static int symlink_at(const char *dir, const char *target, const char *rel) {
    char p[2 * PATH_MAX];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    if (strlen(p) >= PATH_MAX || mkdirs(p) != 0)
        return -1;
    return symlink(target, p);
}

// The kernel's cpumap format: 32-bit hex words, most significant first.
static void format_cpumap(const nodeset_t *cpus, char *buf, size_t len) {
    int last = nodeset_last(cpus);
    unsigned words = last < 0 ? 1 : (unsigned)last / 32 + 1;
    size_t used = 0;
    for (unsigned w = words; w-- > 0;) {
        uint32_t v = 0;
        for (unsigned b = 0; b < 32; b++)
            if (nodeset_isset(cpus, w * 32 + b))
                v |= 1u << b;
        used += (size_t)snprintf(buf + used, len - used, "%08x%s", v, w ? "," : "\n");
    }
}

static int write_u64(const char *dir, uint64_t v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int write_u64(const char *dir, uint64_t v, const char *fmt, ...) {
    char content[32];
    snprintf(content, sizeof content, "%llu\n", (unsigned long long)v);
    va_list ap;
    va_start(ap, fmt);
    int r = vwrite_file(dir, content, fmt, ap);
    va_end(ap);
    return r;
}

static int write_node(const char *dir, const fake_tree_t *t, unsigned i, nodeset_t *allcpus) {
    const fake_node_t *n = &t->nodes[i];
    nodeset_t cpus;
    char buf[4096];
    if (nodeset_parse_list(n->cpus, &cpus) != 0)
        return -1;
    nodeset_or(allcpus, allcpus, &cpus);
    format_cpumap(&cpus, buf, sizeof buf);
    if (fake_write(dir, buf, NODE "/node%u/cpumap", n->id))
        return -1;
    snprintf(buf, sizeof buf, "%s\n", n->cpus);
    if (fake_write(dir, buf, NODE "/node%u/cpulist", n->id))
        return -1;
    snprintf(buf, sizeof buf,
             "Node %u MemTotal:       %llu kB\nNode %u MemFree:        %llu kB\n"
             "Node %u MemUsed:        %llu kB\n",
             n->id, (unsigned long long)n->mem_mb * 1024, n->id,
             (unsigned long long)n->free_mb * 1024, n->id,
             (unsigned long long)(n->mem_mb - n->free_mb) * 1024);
    if (fake_write(dir, buf, NODE "/node%u/meminfo", n->id))
        return -1;
    size_t used = 0;
    for (unsigned k = 0; k < t->nnodes; k++) {
        unsigned d = t->dist ? t->dist[i * t->nnodes + k] : (k == i ? 10 : 20);
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%u%s", d,
                                 k + 1 < t->nnodes ? " " : "\n");
    }
    if (fake_write(dir, buf, NODE "/node%u/distance", n->id))
        return -1;
    if (n->hp2m_dir &&
        (write_u64(dir, n->hp2m, NODE "/node%u/hugepages/hugepages-2048kB/nr_hugepages", n->id) ||
         write_u64(dir, n->hp2m_free, NODE "/node%u/hugepages/hugepages-2048kB/free_hugepages",
                   n->id)))
        return -1;
    if (n->hp1g_dir &&
        (write_u64(dir, n->hp1g, NODE "/node%u/hugepages/hugepages-1048576kB/nr_hugepages",
                   n->id) ||
         write_u64(dir, n->hp1g_free,
                   NODE "/node%u/hugepages/hugepages-1048576kB/free_hugepages", n->id)))
        return -1;
    if (n->initiator == FAKE_NO_INITIATOR)
        return 0;
    // access0 (best initiator of any kind) and access1 (best CPU initiator)
    // carry the same figures here, as in a QEMU guest with hmat-lb.
    for (int a = 0; a < 2; a++) {
        char rel[256], target[64];
        snprintf(rel, sizeof rel, NODE "/node%u/access%d/initiators/node%d", n->id, a,
                 n->initiator);
        snprintf(target, sizeof target, "../../../node%d", n->initiator);
        if (symlink_at(dir, target, rel) ||
            write_u64(dir, n->rbw, NODE "/node%u/access%d/initiators/read_bandwidth", n->id, a) ||
            write_u64(dir, n->wbw, NODE "/node%u/access%d/initiators/write_bandwidth", n->id, a) ||
            write_u64(dir, n->rlat, NODE "/node%u/access%d/initiators/read_latency", n->id, a) ||
            write_u64(dir, n->wlat, NODE "/node%u/access%d/initiators/write_latency", n->id, a))
            return -1;
    }
    return 0;
}

// One directory per CPU: each CPU is its own core, one package per node.
static int write_cpus(const char *dir, const fake_tree_t *t, const nodeset_t *allcpus) {
    char buf[512];
    for (int c = nodeset_next(allcpus, 0); c >= 0; c = nodeset_next(allcpus, (unsigned)c + 1)) {
        nodeset_t self;
        nodeset_zero(&self);
        nodeset_set(&self, (unsigned)c);
        format_cpumap(&self, buf, sizeof buf);
        if (fake_write(dir, buf, CPU "/cpu%d/topology/thread_siblings", c) ||
            write_u64(dir, (uint64_t)c, CPU "/cpu%d/topology/core_id", c))
            return -1;
        for (unsigned i = 0; i < t->nnodes; i++) {
            nodeset_t nc;
            if (nodeset_parse_list(t->nodes[i].cpus, &nc) || !nodeset_isset(&nc, (unsigned)c))
                continue;
            format_cpumap(&nc, buf, sizeof buf);
            if (fake_write(dir, buf, CPU "/cpu%d/topology/core_siblings", c) ||
                write_u64(dir, t->nodes[i].id, CPU "/cpu%d/topology/physical_package_id", c))
                return -1;
        }
    }
    nodeset_format(allcpus, buf, sizeof buf - 1);
    strcat(buf, "\n");
    if (fake_write(dir, buf, CPU "/online") || fake_write(dir, buf, CPU "/possible") ||
        fake_write(dir, buf, CPU "/present"))
        return -1;
    return 0;
}

int fake_tree_create(const fake_tree_t *t, char *dir, size_t len) {
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, len, "%s/hetmem-fake-sysfs-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    nodeset_t allcpus, nodes;
    nodeset_zero(&allcpus);
    nodeset_zero(&nodes);
    for (unsigned i = 0; i < t->nnodes; i++) {
        if (write_node(dir, t, i, &allcpus))
            return -1;
        nodeset_set(&nodes, t->nodes[i].id);
    }
    char buf[4096];
    nodeset_format(&nodes, buf, sizeof buf - 1);
    strcat(buf, "\n");
    if (fake_write(dir, buf, NODE "/online") || fake_write(dir, buf, NODE "/possible") ||
        fake_write(dir, buf, NODE "/has_memory"))
        return -1;
    if (write_cpus(dir, t, &allcpus))
        return -1;
    for (unsigned i = 0; i < t->ntiers; i++) {
        snprintf(buf, sizeof buf, "%s\n", t->tiers[i].nodelist);
        if (fake_write(dir, buf, "sys/devices/virtual/memory_tiering/memory_tier%u/nodelist",
                       t->tiers[i].id))
            return -1;
    }
    for (unsigned i = 0; i < t->ndax; i++) {
        const fake_dax_t *d = &t->dax[i];
        char rel[256], target[256];
        if (write_u64(dir, d->target, "sys/bus/dax/devices/%s/target_node", d->name))
            return -1;
        if (!d->driver)
            continue;
        snprintf(rel, sizeof rel, "sys/bus/dax/devices/%s/driver", d->name);
        snprintf(target, sizeof target, "../../../../bus/dax/drivers/%s", d->driver);
        snprintf(buf, sizeof buf, "sys/bus/dax/drivers/%s/uevent", d->driver);
        if (fake_write(dir, "", "%s", buf) || symlink_at(dir, target, rel))
            return -1;
    }
    return 0;
}

static int rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw) {
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(p);
}

void fake_tree_destroy(const char *dir) {
    if (dir && dir[0])
        nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

void fake_tree_use(const char *dir) {
    setenv("HWLOC_FSROOT", dir, 1);
    topo_reset_for_testing();
}
