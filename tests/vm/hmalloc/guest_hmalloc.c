// SPDX-License-Identifier: MIT
// guest_hmalloc: runs inside a hetmem test guest, usually under hmctl, and
// proves where the pages of every hmalloc API land. It allocates with
// hmalloc (large and small blocks), hcalloc, hrealloc, haligned_alloc,
// hposix_memalign and hmmap (anonymous private and shared, populated, a
// tmpfs file, 2 MiB huge pages), touches every page, asks move_pages(2)
// which node holds each one, and checks that against --expect; the pages
// of a malloc block against --malloc-expect (hmctl must not move them).
//
// Usage: guest_hmalloc [--expect SPEC] [--malloc-expect SPEC]
//                      [--weights NODE=W,...] [--mib N] [--no-huge]
//   SPEC  POLICY:NODES (POLICY: membind, preferred, preferred-many,
//         interleave, weighted-interleave; NODES: "1,2" or "0-7"), or
//         "default": the hmalloc pages land as the malloc ones
//         (--malloc-expect, itself "membind:0" by default: the process runs
//         on CPU 0, whose node is 0 in every topology).
//   --weights  writes /sys/kernel/mm/mempolicy/weighted_interleave/nodeN
//         before allocating (and gives the shares weighted-interleave
//         expects; without it they are read from there).
// Prints one "ok"/"not ok" line per allocation with its node counts; exits
// 1 if any check failed, 2 on a usage or set-up error.
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <hmalloc.h>

#include "guest_pages.h"

#define MAX_NODES 64
#define WI_DIR "/sys/kernel/mm/mempolicy/weighted_interleave"

typedef enum { P_DEFAULT, P_BIND, P_PREFERRED, P_PREFERRED_MANY, P_INTERLEAVE, P_WEIGHTED } pol_t;

typedef struct spec_t {
    pol_t pol;
    bool nodes[MAX_NODES];
    unsigned weight[MAX_NODES]; // P_INTERLEAVE: 1 each; P_WEIGHTED: the weights
} spec_t;

static size_t page;
static int failures;

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "guest_hmalloc: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    exit(2);
}

// "1,2" / "0-7" / "0,2-3"
static void parse_nodes(const char *s, bool *nodes) {
    memset(nodes, 0, MAX_NODES * sizeof *nodes);
    const char *p = s;
    while (*p) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (end == p)
            die("bad node list \"%s\"", s);
        if (*end == '-')
            b = strtoul(end + 1, &end, 10);
        if (b >= MAX_NODES || b < a)
            die("bad node list \"%s\"", s);
        for (unsigned long n = a; n <= b; n++)
            nodes[n] = true;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            die("bad node list \"%s\"", s);
    }
}

static unsigned read_weight(unsigned node) {
    char path[128];
    snprintf(path, sizeof path, WI_DIR "/node%u", node);
    FILE *f = fopen(path, "r");
    unsigned w = 1;
    if (f) {
        if (fscanf(f, "%u", &w) != 1)
            w = 1;
        fclose(f);
    }
    return w;
}

static void parse_spec(const char *s, spec_t *spec) {
    static const struct {
        const char *name;
        pol_t pol;
    } names[] = {{"membind", P_BIND},         {"preferred", P_PREFERRED},
                 {"preferred-many", P_PREFERRED_MANY}, {"interleave", P_INTERLEAVE},
                 {"weighted-interleave", P_WEIGHTED}};
    memset(spec, 0, sizeof *spec);
    if (strcmp(s, "default") == 0) {
        spec->pol = P_DEFAULT;
        return;
    }
    const char *colon = strchr(s, ':');
    if (!colon)
        die("bad spec \"%s\" (POLICY:NODES)", s);
    size_t len = (size_t)(colon - s);
    bool found = false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strlen(names[i].name) == len && strncmp(s, names[i].name, len) == 0) {
            spec->pol = names[i].pol;
            found = true;
        }
    }
    if (!found)
        die("bad policy in \"%s\"", s);
    parse_nodes(colon + 1, spec->nodes);
    for (unsigned n = 0; n < MAX_NODES; n++)
        if (spec->nodes[n])
            spec->weight[n] = spec->pol == P_WEIGHTED ? read_weight(n) : 1;
}

// --weights 1=1,2=3: written to sysfs now (the kernel reads them at fault time).
static void set_weights(const char *s) {
    char *copy = strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        unsigned node, w;
        if (sscanf(t, "%u=%u", &node, &w) != 2 || node >= MAX_NODES || w == 0 || w > 255)
            die("bad weight \"%s\"", t);
        char path[128], val[16];
        snprintf(path, sizeof path, WI_DIR "/node%u", node);
        snprintf(val, sizeof val, "%u\n", w);
        int fd = open(path, O_WRONLY);
        if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
            die("cannot write %s", path);
        close(fd);
    }
    free(copy);
}

// ---- page collection ------------------------------------------------------------------------

typedef struct pages_t {
    void **v;
    size_t n, cap;
} pages_t;

static void add_range(pages_t *pg, void *p, size_t len) {
    uintptr_t a = (uintptr_t)p & ~(page - 1), end = (uintptr_t)p + len;
    for (; a < end; a += page) {
        if (pg->n == pg->cap) {
            pg->cap = pg->cap ? 2 * pg->cap : 1024;
            pg->v = realloc(pg->v, pg->cap * sizeof *pg->v);
        }
        pg->v[pg->n++] = (void *)a;
    }
}

static int cmp_ptr(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (void *const *)a, y = (uintptr_t) * (void *const *)b;
    return x < y ? -1 : x > y;
}

// Counts the pages per node (duplicates, from small blocks that share a
// page, are counted once) and checks them against spec. `ratio`: the
// interleave shares are checked too (enough pages for a fair count).
static void check(const char *what, pages_t *pg, const spec_t *spec, bool ratio) {
    qsort(pg->v, pg->n, sizeof *pg->v, cmp_ptr);
    size_t u = 0;
    for (size_t i = 0; i < pg->n; i++)
        if (u == 0 || pg->v[i] != pg->v[u - 1])
            pg->v[u++] = pg->v[i];
    pg->n = u;
    gp_count_t c = {0}; // void when move_pages fails or any page is absent
    size_t *count = c.on, wrong = 0;
    char why[256] = "";
    if (pg->n == 0) {
        snprintf(why, sizeof why, "no pages to count");
    } else if (!gp_query(pg->v, pg->n, NULL, &c)) {
        snprintf(why, sizeof why, "%s", c.why);
    } else {
        for (unsigned n = 0; n < MAX_NODES; n++)
            if (!spec->nodes[n])
                wrong += count[n];
        if (wrong)
            snprintf(why, sizeof why, "%zu pages outside the expected nodes", wrong);
    }
    if (!why[0] && ratio && (spec->pol == P_INTERLEAVE || spec->pol == P_WEIGHTED)) {
        unsigned total_w = 0;
        for (unsigned n = 0; n < MAX_NODES; n++)
            total_w += spec->nodes[n] ? spec->weight[n] : 0;
        for (unsigned n = 0; n < MAX_NODES && !why[0]; n++) {
            if (!spec->nodes[n])
                continue;
            double want = (double)pg->n * spec->weight[n] / total_w;
            double tol = want * 0.10 + 8;
            if ((double)count[n] < want - tol || (double)count[n] > want + tol)
                snprintf(why, sizeof why, "node %u has %zu pages, want %.0f +- %.0f", n,
                         count[n], want, tol);
        }
    }
    printf("%s %s: %zu pages:", why[0] ? "not ok" : "ok", what, pg->n);
    for (unsigned n = 0; n < MAX_NODES; n++)
        if (count[n])
            printf(" node%u=%zu", n, count[n]);
    printf("%s%s\n", why[0] ? " - " : "", why);
    if (why[0])
        failures++;
    pg->n = 0;
}

static void touch(void *p, size_t len) {
    for (size_t i = 0; i < len; i += page)
        ((volatile char *)p)[i] = 1;
    if (len)
        ((volatile char *)p)[len - 1] = 1;
}

static bool huge_pages_free(void) {
    FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
    unsigned long n = 0;
    if (f) {
        if (fscanf(f, "%lu", &n) != 1)
            n = 0;
        fclose(f);
    }
    return n > 0;
}

static void *must(void *p, const char *what) {
    if (!p || p == MAP_FAILED) {
        printf("not ok %s: allocation failed: %s\n", what, strerror(errno));
        exit(1);
    }
    return p;
}

int main(int argc, char **argv) {
    const char *expect = "default", *malloc_expect = "membind:0", *weights = NULL;
    size_t mib = 8;
    bool huge = true;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--expect") && i + 1 < argc)
            expect = argv[++i];
        else if (!strcmp(argv[i], "--malloc-expect") && i + 1 < argc)
            malloc_expect = argv[++i];
        else if (!strcmp(argv[i], "--weights") && i + 1 < argc)
            weights = argv[++i];
        else if (!strcmp(argv[i], "--mib") && i + 1 < argc)
            mib = strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-huge"))
            huge = false;
        else
            die("unknown argument %s", argv[i]);
    }
    page = (size_t)sysconf(_SC_PAGESIZE);
    // CPU 0 (node 0) for "local"; no THP, which places 512 pages at a time.
    cpu_set_t cpus;
    CPU_ZERO(&cpus);
    CPU_SET(0, &cpus);
    if (sched_setaffinity(0, sizeof cpus, &cpus) != 0)
        die("sched_setaffinity: %s", strerror(errno));
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0)
        die("PR_SET_THP_DISABLE: %s", strerror(errno));
    if (weights)
        set_weights(weights);

    spec_t spec, mspec;
    parse_spec(malloc_expect, &mspec);
    parse_spec(expect, &spec);
    if (spec.pol == P_DEFAULT)
        spec = mspec; // hmalloc without a policy: where malloc's pages go
    printf("# HMALLOC_POLICY=%s HMALLOC_NODES=%s, expect %s, malloc %s\n",
           getenv("HMALLOC_POLICY") ? getenv("HMALLOC_POLICY") : "",
           getenv("HMALLOC_NODES") ? getenv("HMALLOC_NODES") : "", expect, malloc_expect);

    size_t big = mib << 20;
    pages_t pg = {0};

    char *large = must(hmalloc(big), "hmalloc large");
    touch(large, big);
    add_range(&pg, large, big);
    check("hmalloc-large", &pg, &spec, true);

    enum { SMALL = 4096 };
    static void *small[SMALL];
    for (int i = 0; i < SMALL; i++) {
        size_t s = 16 + (size_t)(i % 29) * 24;
        small[i] = must(hmalloc(s), "hmalloc small");
        touch(small[i], s);
        add_range(&pg, small[i], s);
    }
    check("hmalloc-small", &pg, &spec, false);

    char *c = must(hcalloc(256, 4096), "hcalloc");
    touch(c, 1 << 20);
    add_range(&pg, c, 1 << 20);
    check("hcalloc", &pg, &spec, false);

    char *r = must(hmalloc(64 << 10), "hrealloc");
    touch(r, 64 << 10);
    r = must(hrealloc(r, 4 << 20), "hrealloc");
    touch(r, 4 << 20);
    add_range(&pg, r, 4 << 20);
    check("hrealloc", &pg, &spec, false);

    char *a = must(haligned_alloc(2 << 20, 1 << 20), "haligned_alloc");
    touch(a, 1 << 20);
    add_range(&pg, a, 1 << 20);
    void *pm = NULL;
    if (hposix_memalign(&pm, 4096, 1 << 20) != 0)
        must(NULL, "hposix_memalign");
    touch(pm, 1 << 20);
    add_range(&pg, pm, 1 << 20);
    check("haligned_alloc+hposix_memalign", &pg, &spec, false);

    int rw = PROT_READ | PROT_WRITE;
    char *m = must(hmmap(NULL, big, rw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), "hmmap");
    touch(m, big);
    add_range(&pg, m, big);
    check("hmmap-private", &pg, &spec, true);
    char *ms = must(hmmap(NULL, 1 << 20, rw, MAP_SHARED | MAP_ANONYMOUS, -1, 0), "hmmap shared");
    touch(ms, 1 << 20);
    add_range(&pg, ms, 1 << 20);
    check("hmmap-shared", &pg, &spec, false);
    // Populated before the policy exists: hmmap moves the pages.
    char *mp = must(hmmap(NULL, 1 << 20, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0),
                    "hmmap populate");
    add_range(&pg, mp, 1 << 20);
    check("hmmap-populate", &pg, &spec, false);
    // A tmpfs file: its pages follow the mapping's (shared) policy.
    char path[] = "/tmp/guest-hmalloc-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, 1 << 20) != 0)
        die("tmpfs file: %s", strerror(errno));
    unlink(path);
    char *mf = must(hmmap(NULL, 1 << 20, rw, MAP_SHARED, fd, 0), "hmmap file");
    touch(mf, 1 << 20);
    add_range(&pg, mf, 1 << 20);
    check("hmmap-tmpfs", &pg, &spec, false);
    if (huge && huge_pages_free()) {
        char *mh = must(hmmap(NULL, 2 << 20, rw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0),
                        "hmmap hugetlb");
        touch(mh, 2 << 20);
        add_range(&pg, mh, page); // one 2 MiB page: its head tells the node
        check("hmmap-hugetlb", &pg, &spec, false);
        hmunmap(mh, 2 << 20);
    }

    char *plain = must(malloc(big), "malloc");
    touch(plain, big);
    add_range(&pg, plain, big);
    check("malloc", &pg, &mspec, mspec.pol == P_INTERLEAVE);

    hfree(large);
    for (int i = 0; i < SMALL; i++)
        hfree(small[i]);
    hfree(c);
    hfree(r);
    hfree(a);
    hfree(pm);
    hmunmap(m, big);
    hmunmap(ms, 1 << 20);
    hmunmap(mp, 1 << 20);
    hmunmap(mf, 1 << 20);
    close(fd);
    free(plain);
    free(pg.v);
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
