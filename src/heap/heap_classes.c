// SPDX-License-Identifier: MIT
// Size classes: the global class table, and per heap the classes it serves
// (min/max from the configuration), the size -> class lookup table for
// sizes up to 1 KiB, slab geometry per class and the reciprocal that turns
// a block offset into its index without a division.
//
// Index math. For a slab of cap <= 65536 blocks of size b <= 65536 and
// recip = ceil(2^32 / b) = (2^32 + e) / b with 0 <= e < b, the offset of
// block i is i*b and (i*b * recip) >> 32 = i + floor(i*e / 2^32) = i,
// because i*e < 2^16 * 2^16. An offset that is not a block start gives an
// index whose block does not start there.
//
// The free path uses an exact test that also rejects those: with b = m *
// 2^k (m odd) and inv the inverse of m modulo 2^64, x = ror(off * inv, k)
// equals off / b when b divides off, and exceeds (2^64 - 1) / b otherwise
// (the divisibility test of Granlund and Montgomery). Every slab has
// cap * b < 2^64, so x < cap holds exactly for the block starts: one
// multiply and a rotate, where the reciprocal needed a second multiply to
// check its result.
#include <string.h>

#include "heap/heap_priv.h"

// 8; 16..128 by 16; then 4 classes per power of two up to 64 KiB.
const uint32_t heap_class_size[HEAP_NCLASSES] = {
    8,     16,    32,    48,    64,    80,    96,    112,   128,   160,   192,   224,
    256,   320,   384,   448,   512,   640,   768,   896,   1024,  1280,  1536,  1792,
    2048,  2560,  3072,  3584,  4096,  5120,  6144,  7168,  8192,  10240, 12288, 14336,
    16384, 20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536};

_Static_assert(HEAP_NCLASSES == 45, "class table and HEAP_NCLASSES disagree");
_Static_assert(HEAP_NCLASSES < 255, "class indices are bytes");

// Pages of one slab of blocks of `bsize`: at least the target slab size and
// four blocks, grown (up to twice) while the unusable tail exceeds 1/8.
static uint32_t slab_pages(size_t bsize, size_t target) {
    size_t want = target > 4 * bsize ? target : 4 * bsize;
    size_t n0 = (want + HEAP_PAGE - 1) / HEAP_PAGE;
    size_t limit = ((size_t)HEAP_MAX_SLAB_BLOCKS * bsize) / HEAP_PAGE; // cap <= 65536
    if (n0 > limit)
        n0 = limit;
    for (size_t n = n0; n <= 2 * n0 && n <= limit; n++) {
        size_t bytes = n * HEAP_PAGE;
        if ((bytes % bsize) * 8 <= bytes)
            return (uint32_t)n;
    }
    return (uint32_t)n0;
}

bool heap_classes_setup(heap_t *h) {
    const heap_config_t *cfg = &h->cfg;
    size_t lo = cfg->min_class_size < 8 ? 8 : cfg->min_class_size;
    size_t hi = cfg->max_small_size;
    if (hi > cfg->max_pooled_size)
        hi = cfg->max_pooled_size;
    if (hi > heap_class_size[HEAP_NCLASSES - 1])
        hi = heap_class_size[HEAP_NCLASSES - 1];
    h->min_cls = lo > heap_class_size[HEAP_NCLASSES - 1] ? HEAP_NCLASSES
                                                        : (uint8_t)heap_size_class(lo);
    // The largest class whose size is <= hi.
    int maxc = -1;
    for (int c = 0; c < HEAP_NCLASSES; c++)
        if (heap_class_size[c] <= hi)
            maxc = c;
    if (maxc < (int)h->min_cls) {
        h->max_small = 0; // no small classes: everything is large or direct
        h->max_cls = 0;
        h->min_cls = 1;
    } else {
        h->max_cls = (uint8_t)maxc;
        h->max_small = heap_class_size[maxc];
    }
    size_t target = cfg->slab_size < HEAP_PAGE ? HEAP_PAGE : cfg->slab_size;
    for (unsigned c = 0; c < HEAP_NCLASSES; c++) {
        heap_class_t *k = &h->cls[c];
        k->bsize = heap_class_size[c];
        k->recip = (uint32_t)((((uint64_t)1 << 32) + k->bsize - 1) / k->bsize);
        k->shift = (uint32_t)__builtin_ctz(k->bsize);
        uint64_t m = k->bsize >> k->shift, inv = m; // Newton: 3 -> 6 -> ... -> 96 bits
        for (int i = 0; i < 5; i++)
            inv *= 2 - m * inv;
        k->inv = inv;
        k->npages = slab_pages(k->bsize, target);
        size_t cap = ((size_t)k->npages * HEAP_PAGE) / k->bsize;
        k->cap = (uint32_t)(cap > HEAP_MAX_SLAB_BLOCKS ? HEAP_MAX_SLAB_BLOCKS : cap);
        k->nwords = (k->cap + 63) / 64;
    }
    for (size_t i = 0; i <= HEAP_SMALL_TABLE_MAX; i++) {
        size_t s = i == 0 ? 1 : i; // entry i serves size i (0: as 1)
        unsigned c = HEAP_CLASS_NONE;
        if (h->max_small && s <= h->max_small) {
            c = heap_size_class(s);
            if (c < h->min_cls)
                c = h->min_cls;
        }
        h->cls_small[i] = (uint8_t)c;
    }
    return true;
}

unsigned heap_class_count(const heap_t *h) { return h->max_small ? h->max_cls + 1u : 0; }
