// SPDX-License-Identifier: MIT
// Where pages are: the one page counter of every guest test (tests/vm/*).
//
// gp_count() and gp_query() ask move_pages(2) (query mode: no node list)
// which node holds each page and count the pages per node. The count is
// valid only when every page was found: it is void (the functions return
// false and say why in c->why) when move_pages itself fails, when any page
// has a negative status (-ENOENT: not faulted in, -EFAULT: not mapped, ...)
// or a node number out of range, and when the per-node counts do not sum to
// the number of pages asked about. A caller that checks placement must
// treat false as a failure - never as "no page is on a wrong node".
//
// Header only, raw syscall: guests link libnuma or hetmem's os layer, not
// both.
#ifndef HETMEM_GUEST_PAGES_H
#define HETMEM_GUEST_PAGES_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define GP_MAXNODES 64

typedef struct gp_count_t {
    size_t pages;           // pages asked about
    size_t on[GP_MAXNODES]; // pages found on each node
    char why[192];          // "" when the count is valid, else why it is not
} gp_count_t;

static inline size_t gp_page_size(void) {
    static size_t ps;
    if (!ps)
        ps = (size_t)sysconf(_SC_PAGESIZE);
    return ps;
}

/// Asks for the node of each of the n pages (addresses inside the pages) and
/// counts them in *c. status (n entries) receives each page's move_pages
/// status, or may be NULL. True when the count is valid (see above).
static inline bool gp_query(void *const *pages, size_t n, int *status, gp_count_t *c) {
    enum { BATCH = 1024 };
    int buf[BATCH];
    memset(c, 0, sizeof *c);
    c->pages = n;
    size_t absent = 0;
    for (size_t i = 0; i < n; i += BATCH) {
        size_t k = n - i < BATCH ? n - i : BATCH;
        int *st = status ? status + i : buf;
        for (size_t j = 0; j < k; j++)
            st[j] = INT32_MIN; // what the kernel did not write is caught below
        errno = 0;
        long rc = syscall(SYS_move_pages, 0, (unsigned long)k, pages + i, NULL, st, 0);
        if (rc != 0) {
            snprintf(c->why, sizeof c->why, "move_pages(%zu pages) returned %ld: %s", k, rc,
                     rc < 0 ? strerror(errno) : "pages not queried");
            return false;
        }
        for (size_t j = 0; j < k; j++) {
            if (st[j] >= 0 && st[j] < GP_MAXNODES) {
                c->on[st[j]]++;
                continue;
            }
            if (!absent++)
                snprintf(c->why, sizeof c->why, "page %zu (%p) has status %d (%s)", i + j,
                         pages[i + j], st[j],
                         st[j] < 0 && st[j] != INT32_MIN ? strerror(-st[j]) : "no node");
        }
    }
    if (absent) {
        size_t o = strlen(c->why);
        snprintf(c->why + o, sizeof c->why - o, "; %zu of %zu pages without a node", absent, n);
        return false;
    }
    size_t sum = 0;
    for (int node = 0; node < GP_MAXNODES; node++)
        sum += c->on[node];
    if (sum != n) {
        snprintf(c->why, sizeof c->why, "per-node counts sum to %zu, %zu pages asked", sum, n);
        return false;
    }
    return true;
}

/// Every page of [p, p + len): with touch, each page is first faulted in for
/// writing without changing its contents; then gp_query(). status, when not
/// NULL, holds one entry per page of the range.
static inline bool gp_count(void *p, size_t len, bool touch, int *status, gp_count_t *c) {
    size_t ps = gp_page_size();
    uintptr_t start = (uintptr_t)p & ~(uintptr_t)(ps - 1), end = (uintptr_t)p + len;
    size_t n = len ? (end - start + ps - 1) / ps : 0;
    enum { BATCH = 1024 };
    void *pages[BATCH];
    gp_count_t part;
    memset(c, 0, sizeof *c);
    if (touch)
        for (uintptr_t a = start; a < end; a += ps) {
            volatile char *b = (volatile char *)(a < (uintptr_t)p ? (uintptr_t)p : a);
            *b = *b;
        }
    for (size_t i = 0; i < n; i += BATCH) {
        size_t k = n - i < BATCH ? n - i : BATCH;
        for (size_t j = 0; j < k; j++)
            pages[j] = (void *)(start + (i + j) * ps);
        bool ok = gp_query(pages, k, status ? status + i : NULL, &part);
        for (int node = 0; node < GP_MAXNODES; node++)
            c->on[node] += part.on[node];
        c->pages += k;
        if (!ok) {
            snprintf(c->why, sizeof c->why, "%.120s (pages %zu-%zu of %zu)", part.why, i, i + k - 1,
                     n);
            return false;
        }
    }
    if (c->pages != n) {
        snprintf(c->why, sizeof c->why, "%zu of %zu pages counted", c->pages, n);
        return false;
    }
    return true;
}

/// Pages on the nodes whose bit is set in mask (nodes 0-63).
static inline size_t gp_on_mask(const gp_count_t *c, uint64_t mask) {
    size_t s = 0;
    for (int node = 0; node < GP_MAXNODES; node++)
        if (mask >> node & 1)
            s += c->on[node];
    return s;
}

/// "node0=12 node2=4" (a static buffer), then " - why" when the count is void.
static inline const char *gp_format(const gp_count_t *c) {
    static char buf[512];
    size_t o = 0;
    buf[0] = '\0';
    for (int node = 0; node < GP_MAXNODES && o < sizeof buf; node++)
        if (c->on[node])
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%snode%d=%zu", o ? " " : "", node,
                                  c->on[node]);
    if (c->why[0] && o < sizeof buf)
        snprintf(buf + o, sizeof buf - o, "%s(count void: %s)", o ? " " : "", c->why);
    return buf;
}

#endif // HETMEM_GUEST_PAGES_H
