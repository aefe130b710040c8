// SPDX-License-Identifier: MIT
// Tests of the coarse providers (fixed, file, devdax): where an allocation
// lives, read from the coarse core's own records (src/providers/coarse.h).
#ifndef HETMEM_TESTS_COARSE_PROBE_H
#define HETMEM_TESTS_COARSE_PROBE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "providers/coarse.h"

typedef struct coarse_probe_t {
    const char *path;    // the file or device ("" for fixed)
    provider_object_t kind; // 0 for fixed
    uint64_t offset;     // backing offset of the allocation's first byte
    uintptr_t start;     // the allocation's first byte
    size_t size;         // its size
    bool shared;
} coarse_probe_t;

/// The allocation of coarse provider `h` that holds p: 0, ENOENT (none) or
/// EINVAL (not a coarse provider).
static inline int coarse_probe(umf_memory_provider_handle_t h, const void *p, coarse_probe_t *b) {
    if (h->ops.finalize != coarse_op_finalize)
        return EINVAL;
    coarse_t *c = h->priv;
    if (range_alloc_find(c->ranges, (uintptr_t)p, &b->start, &b->size) != 0)
        return ENOENT;
    for (coarse_seg_t *s = coarse_seg_newest(c); s; s = s->older) {
        if (b->start >= s->base && b->start - s->base < s->mapped) {
            b->offset = s->off + (b->start - s->base);
            b->path = c->path ? c->path : "";
            b->kind = c->kind;
            b->shared = c->shared;
            return 0;
        }
    }
    return ENOENT;
}

#endif // HETMEM_TESTS_COARSE_PROBE_H
