// SPDX-License-Identifier: MIT
// The sysfs files the topology layer reads itself, below the same root that
// hwloc uses (HWLOC_FSROOT), so that a fake tree fools both alike:
//   node/nodeN/{cpulist,cpumap,meminfo}            own CPUs, MemTotal, MemFree
//   node/nodeN/hugepages/hugepages-<kB>/{nr,free}_hugepages
//   /sys/bus/dax/devices/daxX.Y/{target_node,driver}  dax devices bound to kmem
//   /sys/devices/virtual/memory_tiering/memory_tierN/nodelist  kernel tiers
// Every reader returns 0 or an errno value and never allocates.
#include "topology/topo_priv.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

#define NODE_DIR "/sys/devices/system/node"
#define DAX_DIR "/sys/bus/dax/devices"
#define TIER_DIR "/sys/devices/virtual/memory_tiering"

void topo_sysfs_set_root(topo_state_t *st) {
    const char *r = getenv("HWLOC_FSROOT");
    st->root[0] = '\0';
    if (!r || !r[0])
        return;
    size_t n = strlen(r);
    while (n > 0 && r[n - 1] == '/') // "/" and "/x/" name the same roots as "" and "/x"
        n--;
    if (n >= sizeof st->root) {
        LOG_ERR("HWLOC_FSROOT is longer than %zu bytes; using /", sizeof st->root - 1);
        return;
    }
    memcpy(st->root, r, n);
    st->root[n] = '\0';
}

// Builds root + formatted path into out. Returns 0 or ENAMETOOLONG.
static int vpath(const topo_state_t *st, char *out, size_t len, const char *fmt, va_list ap) {
    int n = snprintf(out, len, "%s", st->root);
    if (n < 0 || (size_t)n >= len)
        return ENAMETOOLONG;
    int m = vsnprintf(out + n, len - (size_t)n, fmt, ap);
    if (m < 0 || (size_t)m >= len - (size_t)n)
        return ENAMETOOLONG;
    return 0;
}

static int path(const topo_state_t *st, char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int path(const topo_state_t *st, char *out, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int err = vpath(st, out, len, fmt, ap);
    va_end(ap);
    return err;
}

// read(2) of a whole small file; open/read errors become their errno.
static int read_file(const char *p, char *buf, size_t len) {
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            close(fd);
            return err;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    close(fd);
    return 0;
}

int topo_sysfs_read(const topo_state_t *st, char *buf, size_t len, const char *fmt, ...) {
    char p[1024];
    va_list ap;
    va_start(ap, fmt);
    int err = vpath(st, p, sizeof p, fmt, ap);
    va_end(ap);
    return err ? err : read_file(p, buf, len);
}

// Strict unsigned decimal with optional surrounding whitespace.
static int parse_u64(const char *s, uint64_t *out) {
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return EINVAL;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return EINVAL;
    *out = v;
    return 0;
}

int topo_sysfs_read_u64(const topo_state_t *st, uint64_t *out, const char *fmt, ...) {
    char p[1024], buf[64];
    va_list ap;
    va_start(ap, fmt);
    int err = vpath(st, p, sizeof p, fmt, ap);
    va_end(ap);
    if (!err)
        err = read_file(p, buf, sizeof buf);
    return err ? err : parse_u64(buf, out);
}

// The kernel's cpumap: 32-bit hex words, most significant first, separated
// by commas ("00000000,00000003"). CPUs >= NODESET_MAX are cut (*cut set).
static int parse_cpumap(const char *s, nodeset_t *cpus, bool *cut) {
    nodeset_t set;
    nodeset_zero(&set);
    *cut = false;
    const char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    if (end == s)
        return EINVAL;
    unsigned bit = 0; // CPU number of the current word's lowest bit
    const char *p = end;
    for (;;) {
        const char *q = p; // the word is [q, p)
        while (q > s && q[-1] != ',')
            q--;
        if (p == q || p - q > 8)
            return EINVAL;
        uint32_t w = 0;
        for (const char *c = q; c < p; c++) {
            if (!isxdigit((unsigned char)*c))
                return EINVAL;
            unsigned digit = isdigit((unsigned char)*c) ? (unsigned)(*c - '0')
                                                        : (unsigned)(tolower((unsigned char)*c) - 'a' + 10);
            w = w << 4 | digit;
        }
        for (unsigned b = 0; b < 32; b++)
            if (w >> b & 1u) {
                if (bit + b < NODESET_MAX)
                    nodeset_set(&set, bit + b);
                else
                    *cut = true;
            }
        if (q == s)
            break;
        p = q - 1; // the comma
        bit += 32;
    }
    *cpus = set;
    return 0;
}

int topo_sysfs_node_cpus(const topo_state_t *st, unsigned node, nodeset_t *cpus) {
    char buf[8192]; // a cpumap of 1024 CPUs is 288 bytes; a cpulist can be long
    // An empty cpulist (CPU-less node) is "\n", which nodeset_parse_list takes.
    int err = topo_sysfs_read(st, buf, sizeof buf, NODE_DIR "/node%u/cpulist", node);
    if (!err && !nodeset_parse_list(buf, cpus))
        return 0;
    // No cpulist (old kernels), or one naming CPUs >= NODESET_MAX: the cpumap.
    err = topo_sysfs_read(st, buf, sizeof buf, NODE_DIR "/node%u/cpumap", node);
    if (err)
        return err;
    bool cut;
    err = parse_cpumap(buf, cpus, &cut);
    if (err)
        LOG_WARN("node%u/cpumap unreadable", node);
    else if (cut)
        LOG_WARN("node%u has CPUs >= %u; hetmem ignores them", node, NODESET_MAX);
    return err;
}

// Finds "<key>: <n> kB" in a meminfo text ("Node 0 MemTotal:  123 kB").
static int meminfo_field(const char *text, const char *key, uint64_t *bytes) {
    size_t klen = strlen(key);
    for (const char *p = text; (p = strstr(p, key)) != NULL; p += klen) {
        if (p[klen] != ':' || (p > text && isalnum((unsigned char)p[-1])))
            continue;
        char *end;
        errno = 0;
        unsigned long long kb = strtoull(p + klen + 1, &end, 10);
        if (errno || end == p + klen + 1)
            return EINVAL;
        if (kb > UINT64_MAX / 1024)
            return ERANGE;
        *bytes = (uint64_t)kb * 1024;
        return 0;
    }
    return ENOENT;
}

int topo_sysfs_node_meminfo(const topo_state_t *st, unsigned node, uint64_t *total,
                            uint64_t *free_bytes) {
    char buf[4096];
    int err = topo_sysfs_read(st, buf, sizeof buf, NODE_DIR "/node%u/meminfo", node);
    if (err == ENOENT && node == 0) // a kernel without NUMA: one node, /proc/meminfo
        err = topo_sysfs_read(st, buf, sizeof buf, "/proc/meminfo");
    if (err)
        return err;
    uint64_t t = 0, f = 0;
    if (total && (err = meminfo_field(buf, "MemTotal", &t)))
        return err;
    if (free_bytes && (err = meminfo_field(buf, "MemFree", &f)))
        return err;
    if (total)
        *total = t;
    if (free_bytes)
        *free_bytes = f;
    return 0;
}

int topo_sysfs_node_hugepages(const topo_state_t *st, unsigned node, unsigned size_kb,
                              uint64_t *nr, uint64_t *free_pages) {
    int err = 0;
    uint64_t n = 0, f = 0;
    if (nr)
        err = topo_sysfs_read_u64(st, &n, NODE_DIR "/node%u/hugepages/hugepages-%ukB/nr_hugepages",
                                  node, size_kb);
    if (!err && free_pages)
        err = topo_sysfs_read_u64(st, &f,
                                  NODE_DIR "/node%u/hugepages/hugepages-%ukB/free_hugepages", node,
                                  size_kb);
    if (err)
        return err;
    if (nr)
        *nr = n;
    if (free_pages)
        *free_pages = f;
    return 0;
}

static topo_node_t *node_by_id(topo_state_t *st, long id) {
    if (id < 0 || id >= (long)NODESET_MAX || st->index[id] < 0)
        return NULL;
    return &st->nodes[st->index[id]];
}

// Is daxX.Y bound to the kmem driver? The driver link's last component says
// so; a tree without the link may still list the device under drivers/kmem.
static bool dax_bound_to_kmem(const topo_state_t *st, const char *dev) {
    char p[1024], target[1024];
    if (!path(st, p, sizeof p, DAX_DIR "/%s/driver", dev)) {
        ssize_t n = readlink(p, target, sizeof target - 1);
        if (n > 0) {
            target[n] = '\0';
            const char *base = strrchr(target, '/');
            return strcmp(base ? base + 1 : target, "kmem") == 0;
        }
    }
    if (!path(st, p, sizeof p, "/sys/bus/dax/drivers/kmem/%s", dev))
        return access(p, F_OK) == 0;
    return false;
}

// dax devices bound to kmem give their memory to target_node: that node is
// PMEM/KMEM memory (memkind's MEMKIND_DAX_KMEM auto-detection).
static void discover_dax(topo_state_t *st) {
    char p[1024];
    if (path(st, p, sizeof p, DAX_DIR))
        return;
    DIR *d = opendir(p);
    if (!d)
        return; // no dax bus: nothing to find
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (strncmp(de->d_name, "dax", 3) != 0 || len >= sizeof st->nodes[0].dax_device)
            continue;
        uint64_t target;
        if (topo_sysfs_read_u64(st, &target, DAX_DIR "/%s/target_node", de->d_name))
            continue;
        if (!dax_bound_to_kmem(st, de->d_name))
            continue;
        topo_node_t *n = node_by_id(st, (long)target);
        if (!n) {
            LOG_INFO("%s is bound to kmem but node %llu has no memory online", de->d_name,
                     (unsigned long long)target);
            continue;
        }
        // Several devices may feed one node; name the lowest one, stably.
        if (!n->dax_kmem || strcmp(de->d_name, n->dax_device) < 0)
            memcpy(n->dax_device, de->d_name, len + 1);
        n->dax_kmem = true;
    }
    closedir(d);
}

// memory_tierN/nodelist for every N: the kernel's own tier of each node.
static void discover_tiers(topo_state_t *st) {
    char p[1024], buf[8192];
    if (path(st, p, sizeof p, TIER_DIR))
        return;
    DIR *d = opendir(p);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        unsigned id;
        char tail;
        if (sscanf(de->d_name, "memory_tier%u%c", &id, &tail) != 1 || id > INT16_MAX)
            continue;
        nodeset_t set;
        if (topo_sysfs_read(st, buf, sizeof buf, TIER_DIR "/%s/nodelist", de->d_name) ||
            nodeset_parse_list(buf, &set)) {
            LOG_WARN("%s/nodelist unreadable; tier ignored", de->d_name);
            continue;
        }
        for (int n = nodeset_next(&set, 0); n >= 0; n = nodeset_next(&set, (unsigned)n + 1)) {
            topo_node_t *node = node_by_id(st, n);
            if (node) {
                node->tier = (int)id;
                node->tier_from_kernel = true;
            }
        }
    }
    closedir(d);
}

void topo_sysfs_discover(topo_state_t *st) {
    for (unsigned i = 0; i < st->count; i++) {
        topo_node_t *n = &st->nodes[i];
        uint64_t v;
        // A missing hugepages directory (size not supported) reads as 0 pages.
        if (!topo_sysfs_node_hugepages(st, n->id, 2048, &v, NULL))
            n->hugepages_2m = v;
        if (!topo_sysfs_node_hugepages(st, n->id, 1048576, &v, NULL))
            n->hugepages_1g = v;
    }
    discover_dax(st);
    discover_tiers(st);
}
