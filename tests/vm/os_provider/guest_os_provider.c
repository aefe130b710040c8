// SPDX-License-Identifier: MIT
// guest_os_provider: runs inside a hetmem test guest (tests/vm/run-guest)
// and proves where the OS provider's pages land for every NUMA mode: it
// creates a provider, allocates, marks the range MADV_NOHUGEPAGE (THP would
// place 512 pages at a time), touches every page and asks move_pages(2)
// (os_move_pages) which node holds each one.
//
// Usage: guest_os_provider CASE...   (see `cases` below; "tiers3" and
// "wide" run every case of that topology). Prints one "ok"/"not ok" line
// per case with the node of every page on mismatch; exits 1 if any case
// failed, 2 on a usage error.
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hetmem/provider_os_ext.h>
#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "os/os.h"

#include "guest_pages.h"

#define MAXPAGES 4096

static size_t ps;
static int status[MAXPAGES];
static char why[512]; // the reason a case failed

static bool failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool failf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return false;
}

// ---- provider set-up ----------------------------------------------------------

typedef struct setup_t {
    umf_numa_mode_t mode;
    unsigned list[8];
    unsigned list_len;
    umf_numa_split_partition_t parts[8];
    unsigned parts_len;
    size_t part_size;
    bool shared;
    const char *shm_name;
    size_t huge;
} setup_t;

static umf_memory_provider_handle_t create(const setup_t *s) {
    umf_os_memory_provider_params_handle_t p = NULL;
    umf_memory_provider_handle_t h = NULL;
    umf_result_t r = umfOsMemoryProviderParamsCreate(&p);
    if (r == UMF_RESULT_SUCCESS)
        r = umfOsMemoryProviderParamsSetNumaMode(p, s->mode);
    if (r == UMF_RESULT_SUCCESS && s->list_len)
        r = umfOsMemoryProviderParamsSetNumaList(p, (unsigned *)s->list, s->list_len);
    if (r == UMF_RESULT_SUCCESS && s->parts_len)
        r = umfOsMemoryProviderParamsSetPartitions(p, (umf_numa_split_partition_t *)s->parts,
                                                   s->parts_len);
    if (r == UMF_RESULT_SUCCESS)
        r = umfOsMemoryProviderParamsSetPartSize(p, s->part_size);
    if (r == UMF_RESULT_SUCCESS && s->shared)
        r = umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED);
    if (r == UMF_RESULT_SUCCESS && s->shm_name)
        r = umfOsMemoryProviderParamsSetShmName(p, s->shm_name);
    if (r == UMF_RESULT_SUCCESS && s->huge)
        r = hetmem_os_provider_params_set_huge_pages(p, s->huge);
    if (r == UMF_RESULT_SUCCESS)
        r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h);
    umfOsMemoryProviderParamsDestroy(p);
    if (r != UMF_RESULT_SUCCESS) {
        failf("creating the provider failed: %d", (int)r);
        return NULL;
    }
    return h;
}

// Allocates n pages, touches them and fills status[] with their nodes.
static char *alloc_touch(umf_memory_provider_handle_t h, size_t n) {
    char *m = NULL;
    umf_result_t r = umfMemoryProviderAlloc(h, n * ps, 0, (void **)&m);
    if (r != UMF_RESULT_SUCCESS) {
        const char *msg = "";
        int32_t code = 0;
        if (r == UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC)
            umfMemoryProviderGetLastNativeError(h, &msg, &code);
        failf("alloc of %zu pages failed: %d %s", n, (int)r, msg);
        return NULL;
    }
    (void)os_madvise(m, n * ps, OS_ADV_NOHUGEPAGE);
    for (size_t i = 0; i < n; i++)
        m[i * ps] = (char)i;
    static void *pages[MAXPAGES];
    for (size_t i = 0; i < n; i++)
        pages[i] = m + i * ps;
    gp_count_t c; // void when move_pages fails or a page has no node
    if (!gp_query(pages, n, status, &c)) {
        failf("page count void: %s", c.why);
        (void)umfMemoryProviderFree(h, m, n * ps);
        return NULL;
    }
    return m;
}

// "p0:1 p1:1 ..." of the first pages, for failure messages.
static const char *where(size_t n) {
    static char buf[256];
    size_t o = 0;
    for (size_t i = 0; i < n && o + 12 < sizeof buf; i++)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%d ", status[i]);
    if (n * 3 > sizeof buf - 16)
        snprintf(buf + o, sizeof buf - o, "...");
    return buf;
}

// ---- checks -----------------------------------------------------------------------

static bool in(const unsigned *set, unsigned len, int node) {
    for (unsigned i = 0; i < len; i++)
        if ((int)set[i] == node)
            return true;
    return false;
}

// Every page on a node of `set`.
static bool all_in(const setup_t *s, size_t n, const unsigned *set, unsigned len) {
    umf_memory_provider_handle_t h = create(s);
    if (!h)
        return false;
    char *m = alloc_touch(h, n);
    bool ok = m != NULL;
    for (size_t i = 0; ok && i < n; i++)
        if (!in(set, len, status[i]))
            ok = failf("page %zu is on node %d; pages: %s", i, status[i], where(n));
    if (m)
        (void)umfMemoryProviderFree(h, m, n * ps);
    umfMemoryProviderDestroy(h);
    return ok;
}

// INTERLEAVE page by page: consecutive pages rotate over the set in node
// order and every node gets n/len pages, +-1.
static bool interleaved(const setup_t *s, size_t n) {
    umf_memory_provider_handle_t h = create(s);
    if (!h)
        return false;
    char *m = alloc_touch(h, n);
    bool ok = m != NULL;
    size_t count[8] = {0};
    unsigned len = s->list_len; // sorted in the cases below: the kernel's order
    int prev = -1;
    for (size_t i = 0; ok && i < n; i++) {
        int k = -1;
        for (unsigned j = 0; j < len; j++)
            if ((int)s->list[j] == status[i])
                k = (int)j;
        if (k < 0) {
            ok = failf("page %zu is on node %d; pages: %s", i, status[i], where(n));
            break;
        }
        if (prev >= 0 && k != (prev + 1) % (int)len)
            ok = failf("page %zu on node %d follows node %d; pages: %s", i, status[i],
                       status[i - 1], where(n));
        count[k]++;
        prev = k;
    }
    for (unsigned j = 0; ok && j < len; j++)
        if (count[j] + 1 < n / len || count[j] > n / len + 1)
            ok = failf("node %u holds %zu of %zu pages", s->list[j], count[j], n);
    if (m)
        (void)umfMemoryProviderFree(h, m, n * ps);
    umfMemoryProviderDestroy(h);
    return ok;
}

// INTERLEAVE with parts of `part` pages: part k is on one node, and part k+1
// on the next node of the list (list order, wrapping).
static bool parts_rotate(const setup_t *s, size_t n, size_t part) {
    umf_memory_provider_handle_t h = create(s);
    if (!h)
        return false;
    char *m = alloc_touch(h, n);
    bool ok = m != NULL;
    int idx = -1;
    for (unsigned j = 0; ok && j < s->list_len; j++)
        if ((int)s->list[j] == status[0])
            idx = (int)j;
    if (ok && idx < 0)
        ok = failf("page 0 is on node %d, not in the list", status[0]);
    for (size_t i = 0; ok && i < n; i++) {
        int want = (int)s->list[((size_t)idx + i / part) % s->list_len];
        if (status[i] != want)
            ok = failf("page %zu (part %zu) is on node %d, want %d; pages: %s", i, i / part,
                       status[i], want, where(n));
    }
    if (m)
        (void)umfMemoryProviderFree(h, m, n * ps);
    umfMemoryProviderDestroy(h);
    return ok;
}

// Pages [from[k], from[k+1]) on node[k], exactly.
static bool ranges(const setup_t *s, size_t n, const size_t *from, const int *node, int k) {
    umf_memory_provider_handle_t h = create(s);
    if (!h)
        return false;
    char *m = alloc_touch(h, n);
    bool ok = m != NULL;
    for (int r = 0; ok && r < k; r++) {
        size_t end = r + 1 < k ? from[r + 1] : n;
        for (size_t i = from[r]; ok && i < end; i++)
            if (status[i] != node[r])
                ok = failf("page %zu is on node %d, want %d; pages: %s", i, status[i], node[r],
                           where(n));
    }
    if (m)
        (void)umfMemoryProviderFree(h, m, n * ps);
    umfMemoryProviderDestroy(h);
    return ok;
}

// ---- the cases ----------------------------------------------------------------------

static bool c_bind1(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_BIND, .list = {1}, .list_len = 1};
    return all_in(&s, 128, (unsigned[]){1}, 1);
}

static bool c_bind12(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_BIND, .list = {1, 2}, .list_len = 2};
    return all_in(&s, 128, (unsigned[]){1, 2}, 2);
}

static bool c_interleave012(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_INTERLEAVE, .list = {0, 1, 2}, .list_len = 3};
    return interleaved(&s, 192);
}

static bool c_interleave_parts(void) {
    // list order (2, 0, 1), not node order, decides the rotation
    setup_t s = {.mode = UMF_NUMA_MODE_INTERLEAVE, .list = {2, 0, 1}, .list_len = 3};
    s.part_size = 4 * ps;
    if (!parts_rotate(&s, 96, 4))
        return false;
    s.part_size = 3 * ps - 100; // rounded up to 3 pages
    return parts_rotate(&s, 90, 3);
}

static bool c_preferred2(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_PREFERRED, .list = {2}, .list_len = 1};
    return all_in(&s, 128, (unsigned[]){2}, 1);
}

// PREFERRED over {1, 2}: MPOL_PREFERRED_MANY keeps pages on those nodes.
static bool c_preferred12(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_PREFERRED, .list = {1, 2}, .list_len = 2};
    return all_in(&s, 128, (unsigned[]){1, 2}, 2);
}

// PREFERRED 2 beyond node 2's size: the allocation still succeeds, node 2
// gets most of it, the rest falls back to other nodes.
static bool c_preferred_fallback(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_PREFERRED, .list = {2}, .list_len = 1};
    umf_memory_provider_handle_t h = create(&s);
    if (!h)
        return false;
    size_t n = (size_t)640 << 20, pages = n / ps;
    char *m = NULL;
    bool ok = umfMemoryProviderAlloc(h, n, 0, (void **)&m) == UMF_RESULT_SUCCESS ||
              failf("alloc of 640 MiB failed");
    if (ok) {
        (void)os_madvise(m, n, OS_ADV_NOHUGEPAGE);
        for (size_t i = 0; i < pages; i++)
            m[i * ps] = 1;
        gp_count_t c; // void when move_pages fails or a page has no node
        ok = gp_count(m, n, false, NULL, &c) || failf("page count void: %s", c.why);
        size_t on2 = c.on[2], other = c.pages - on2;
        if (ok && (on2 < pages / 2 || other == 0))
            ok = failf("%zu pages on node 2, %zu elsewhere", on2, other);
        (void)umfMemoryProviderFree(h, m, n);
    }
    umfMemoryProviderDestroy(h);
    return ok;
}

static bool c_split13(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_SPLIT, .list = {1, 2}, .list_len = 2,
                 .parts = {{1, 1}, {3, 2}}, .parts_len = 2};
    if (!ranges(&s, 256, (size_t[]){0, 64}, (int[]){1, 2}, 2))
        return false;
    // Without partitions: evenly over the list, in list order.
    setup_t e = {.mode = UMF_NUMA_MODE_SPLIT, .list = {2, 0, 1}, .list_len = 3};
    return ranges(&e, 96, (size_t[]){0, 32, 64}, (int[]){2, 0, 1}, 3);
}

static bool c_local(void) {
    unsigned node = 99;
    if (os_getcpu(NULL, &node) != 0 || node != 0)
        return failf("the CPU is on node %u, expected 0", node);
    setup_t s = {.mode = UMF_NUMA_MODE_LOCAL};
    return all_in(&s, 128, (unsigned[]){0}, 1);
}

static bool c_default(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_DEFAULT};
    return all_in(&s, 128, (unsigned[]){0}, 1);
}

static bool c_shared_bind2(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_BIND, .list = {2}, .list_len = 1, .shared = true};
    if (!all_in(&s, 128, (unsigned[]){2}, 1))
        return false;
    setup_t n = {.mode = UMF_NUMA_MODE_BIND, .list = {1}, .list_len = 1, .shared = true,
                 .shm_name = "hetmem-vm-os-provider"};
    if (!all_in(&n, 64, (unsigned[]){1}, 1))
        return false;
    setup_t sp = {.mode = UMF_NUMA_MODE_SPLIT, .list = {1, 2}, .list_len = 2, .shared = true,
                  .parts = {{1, 1}, {3, 2}}, .parts_len = 2};
    return ranges(&sp, 128, (size_t[]){0, 32}, (int[]){1, 2}, 2);
}

// One shared SPLIT provider through alloc, free, alloc...: each new block
// (at new file offsets) has its first quarter on node 1, the rest on node 2.
static bool c_shared_reuse(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_SPLIT, .list = {1, 2}, .list_len = 2, .shared = true,
                 .parts = {{1, 1}, {3, 2}}, .parts_len = 2};
    umf_memory_provider_handle_t h = create(&s);
    if (!h)
        return false;
    static const size_t sizes[] = {128, 64, 96, 128};
    bool ok = true;
    for (size_t r = 0; ok && r < sizeof sizes / sizeof sizes[0]; r++) {
        size_t n = sizes[r];
        char *m = alloc_touch(h, n);
        ok = m != NULL;
        for (size_t i = 0; ok && i < n; i++)
            if (status[i] != (i < n / 4 ? 1 : 2))
                ok = failf("round %zu: page %zu is on node %d; pages: %s", r, i, status[i],
                           where(n));
        if (m && umfMemoryProviderFree(h, m, n * ps) != UMF_RESULT_SUCCESS)
            ok = failf("round %zu: free failed", r);
    }
    umfMemoryProviderDestroy(h);
    return ok;
}

static long free_huge(unsigned node) {
    char path[128];
    snprintf(path, sizeof path,
             "/sys/devices/system/node/node%u/hugepages/hugepages-2048kB/free_hugepages", node);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

// One 2 MiB huge page bound to node 1: the page is on node 1 and node 1's
// free huge pages drop by one; too many for node 2 is a clean error.
static bool huge_on(bool shared) {
    const size_t huge = (size_t)2 << 20;
    setup_t s = {.mode = UMF_NUMA_MODE_BIND, .list = {1}, .list_len = 1, .huge = huge,
                 .shared = shared};
    umf_memory_provider_handle_t h = create(&s);
    if (!h)
        return false;
    long before = free_huge(1), before0 = free_huge(0);
    char *m = NULL;
    umf_result_t r = umfMemoryProviderAlloc(h, 4096, 0, (void **)&m);
    bool ok = r == UMF_RESULT_SUCCESS || failf("alloc failed: %d", (int)r);
    if (ok) {
        memset(m, 1, huge);
        gp_count_t c; // every base page of the huge page: node 1
        ok = gp_count(m, huge, false, NULL, &c) || failf("page count void: %s", c.why);
        if (ok && c.on[1] != huge / ps)
            ok = failf("the huge page is not on node 1: %s", gp_format(&c));
        long after = free_huge(1);
        if (ok && (before < 1 || after != before - 1 || free_huge(0) != before0))
            ok = failf("node 1 free huge pages %ld -> %ld (node 0: %ld -> %ld)", before, after,
                       before0, free_huge(0));
        (void)umfMemoryProviderFree(h, m, 4096);
    }
    umfMemoryProviderDestroy(h);
    if (!ok)
        return false;
    // Node 2 has fewer free huge pages than asked for: OUT_OF_HOST_MEMORY.
    setup_t t = {.mode = UMF_NUMA_MODE_BIND, .list = {2}, .list_len = 1, .huge = huge,
                 .shared = shared};
    h = create(&t);
    if (!h)
        return false;
    long f2 = free_huge(2);
    m = NULL;
    r = umfMemoryProviderAlloc(h, (size_t)(f2 + 1) * huge, 0, (void **)&m);
    if (r != UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY)
        ok = failf("alloc of %ld huge pages on node 2 (%ld free): %d, want OUT_OF_HOST_MEMORY",
                   f2 + 1, f2, (int)r);
    if (r == UMF_RESULT_SUCCESS)
        (void)umfMemoryProviderFree(h, m, (size_t)(f2 + 1) * huge);
    umfMemoryProviderDestroy(h);
    return ok;
}

static bool c_huge_bind1(void) { return huge_on(false); }
static bool c_huge_shared_bind1(void) { return huge_on(true); }

static bool c_wide_bind7(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_BIND, .list = {7}, .list_len = 1};
    if (!all_in(&s, 128, (unsigned[]){7}, 1))
        return false;
    s.shared = true;
    return all_in(&s, 64, (unsigned[]){7}, 1);
}

static bool c_wide_interleave(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_INTERLEAVE, .list = {0, 1, 2, 3, 4, 5, 6, 7},
                 .list_len = 8};
    return interleaved(&s, 256);
}

static bool c_wide_split(void) {
    setup_t s = {.mode = UMF_NUMA_MODE_SPLIT, .list = {3, 5, 7}, .list_len = 3,
                 .parts = {{1, 7}, {2, 3}, {1, 5}}, .parts_len = 3};
    return ranges(&s, 64, (size_t[]){0, 16, 48}, (int[]){7, 3, 5}, 3);
}

typedef struct case_t {
    const char *name;
    const char *topo;
    bool (*fn)(void);
} case_t;

static const case_t cases[] = {
    {"bind1", "tiers3", c_bind1},
    {"bind12", "tiers3", c_bind12},
    {"interleave012", "tiers3", c_interleave012},
    {"interleave_parts", "tiers3", c_interleave_parts},
    {"preferred2", "tiers3", c_preferred2},
    {"preferred12", "tiers3", c_preferred12},
    {"split13", "tiers3", c_split13},
    {"local", "tiers3", c_local},
    {"default", "tiers3", c_default},
    {"shared_bind2", "tiers3", c_shared_bind2},
    {"shared_reuse", "tiers3", c_shared_reuse},
    {"huge_bind1", "tiers3", c_huge_bind1},
    {"huge_shared_bind1", "tiers3", c_huge_shared_bind1},
    {"preferred_fallback", "tiers3-big", c_preferred_fallback},
    {"wide_bind7", "wide", c_wide_bind7},
    {"wide_interleave", "wide", c_wide_interleave},
    {"wide_split", "wide", c_wide_split},
};

int main(int argc, char **argv) {
    ps = os_page_size();
    if (argc < 2) {
        fprintf(stderr, "usage: %s CASE... (or a topology: tiers3, tiers3-big, wide)\n", argv[0]);
        return 2;
    }
    int failed = 0, run = 0;
    for (int a = 1; a < argc; a++) {
        bool found = false;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            if (strcmp(argv[a], cases[i].name) && strcmp(argv[a], cases[i].topo))
                continue;
            found = true;
            why[0] = '\0';
            bool ok = cases[i].fn();
            run++;
            printf("%s %d - %s%s%s\n", ok ? "ok" : "not ok", run, cases[i].name, ok ? "" : ": ",
                   ok ? "" : why);
            fflush(stdout);
            failed += !ok;
        }
        if (!found) {
            fprintf(stderr, "%s: no case or topology \"%s\"\n", argv[0], argv[a]);
            return 2;
        }
    }
    printf("%d of %d cases failed\n", failed, run);
    return failed ? 1 : 0;
}
