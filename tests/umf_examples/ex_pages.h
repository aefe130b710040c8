// SPDX-License-Identifier: MIT
// Where a pool's pages land, for the memspace scenarios: allocate, touch,
// count page by page with tests/vm/guest_pages.h (move_pages) and check
// that every page is on the expected nodes.
#ifndef HETMEM_EX_PAGES_H
#define HETMEM_EX_PAGES_H

#include <stdint.h>

#include <umf/memory_pool.h>

#include "ex_check.h"
#include "guest_pages.h"

#define EX_PAGES 64

/// EX_PAGES pages from pool, all on nodes of mask (bit n: node n).
static void ex_pages_on(umf_memory_pool_handle_t pool, uint64_t mask, const char *what) {
    size_t len = EX_PAGES * gp_page_size();
    char *p = umfPoolMalloc(pool, len);
    ex_check(p != NULL, "%s: %zu bytes from the pool", what, len);
    if (!p)
        return;
    gp_count_t c;
    bool valid = gp_count(p, len, true, NULL, &c);
    size_t in = gp_on_mask(&c, mask);
    ex_check(valid && in == c.pages && c.pages >= EX_PAGES,
             "%s: %zu of %zu pages on nodes of mask 0x%llx (%s)", what, in, c.pages,
             (unsigned long long)mask, gp_format(&c));
    umfFree(p);
}

#endif
