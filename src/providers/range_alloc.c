// SPDX-License-Identifier: MIT
// range_alloc (see range_alloc.h): address ranges of one or more regions,
// kept in two treaps of out-of-band nodes.
//
//   free tree  the free ranges, ordered by address, each node augmented
//              with the largest free size in its subtree (`max`). First fit
//              walks it in address order and skips every subtree whose max
//              is too small, so finding the lowest range that can hold
//              `size` costs O(log n); coalescing looks up the neighbours of
//              a freed range by address, also O(log n).
//   used tree  the allocated ranges, ordered by address: frees, splits and
//              merges are validated against it (a pointer or size the
//              allocator did not hand out is refused without a change).
//
// A treap (a search tree whose nodes also form a heap of random
// priorities) stays balanced in expectation with short code: insert and
// erase are a split and a merge. Nodes are 48-byte structs carved from
// 4 KiB meta_alloc chunks and recycled through a spare list; every change
// reserves the nodes it needs before it touches the trees, so ENOMEM never
// leaves a half-done operation behind.
#include "providers/range_alloc_priv.h"

#include <errno.h>
#include <string.h>

#include "base/util.h"
#include "os/meta.h"

// ---- nodes ----------------------------------------------------------------

static uint32_t next_prio(range_alloc_t *ra) {
    uint32_t x = ra->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    ra->rng = x;
    return x;
}

// Makes sure at least n nodes are on the spare list.
static int reserve_nodes(range_alloc_t *ra, unsigned n) {
    unsigned have = 0;
    for (node_t *s = ra->spare; s && have < n; s = s->r)
        have++;
    while (have < n) {
        chunk_t *c = meta_alloc(CHUNK_BYTES);
        if (!c)
            return ENOMEM;
        c->next = ra->chunks;
        ra->chunks = c;
        // Nodes start one node-size in, keeping them aligned after the header.
        node_t *nodes = (node_t *)((char *)c + sizeof(node_t));
        for (size_t i = 0; i < NODES_PER_CHUNK; i++) {
            nodes[i].r = ra->spare;
            ra->spare = &nodes[i];
        }
        have += NODES_PER_CHUNK;
    }
    return 0;
}

// Takes a node from the spare list (reserve_nodes must have been called).
static node_t *node_get(range_alloc_t *ra, uintptr_t addr, size_t size) {
    node_t *n = ra->spare;
    ra->spare = n->r;
    n->addr = addr;
    n->size = n->max = size;
    n->l = n->r = NULL;
    n->prio = next_prio(ra);
    return n;
}

static void node_put(range_alloc_t *ra, node_t *n) {
    n->l = NULL;
    n->r = ra->spare;
    ra->spare = n;
}

// ---- treap ----------------------------------------------------------------

size_t range_alloc_max3(size_t a, size_t b, size_t c) {
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

static void update(node_t *t) {
    t->max = range_alloc_max3(t->size, t->l ? t->l->max : 0, t->r ? t->r->max : 0);
}

// Splits t into *lo (addr < key) and *hi (addr >= key).
static void split(node_t *t, uintptr_t key, node_t **lo, node_t **hi) {
    if (!t) {
        *lo = *hi = NULL;
    } else if (t->addr < key) {
        split(t->r, key, &t->r, hi);
        update(t);
        *lo = t;
    } else {
        split(t->l, key, lo, &t->l);
        update(t);
        *hi = t;
    }
}

// Joins two treaps where every address of a is below every address of b.
static node_t *join(node_t *a, node_t *b) {
    if (!a)
        return b;
    if (!b)
        return a;
    if (a->prio >= b->prio) {
        a->r = join(a->r, b);
        update(a);
        return a;
    }
    b->l = join(a, b->l);
    update(b);
    return b;
}

static void insert(node_t **root, node_t *n) {
    node_t *lo, *hi;
    split(*root, n->addr, &lo, &hi);
    n->l = n->r = NULL;
    update(n);
    *root = join(join(lo, n), hi);
}

// Unlinks the node at exactly addr (which must exist) and returns the new
// subtree; the augmented max is refreshed on the way back up.
static node_t *erase_rec(node_t *t, uintptr_t addr) {
    if (t->addr == addr)
        return join(t->l, t->r);
    if (addr < t->addr)
        t->l = erase_rec(t->l, addr);
    else
        t->r = erase_rec(t->r, addr);
    update(t);
    return t;
}

static void erase(node_t **root, uintptr_t addr) { *root = erase_rec(*root, addr); }

static node_t *find_exact(node_t *t, uintptr_t addr) {
    while (t && t->addr != addr)
        t = addr < t->addr ? t->l : t->r;
    return t;
}

// The node with the largest addr <= key, or NULL.
node_t *range_alloc_floor(node_t *t, uintptr_t key) {
    node_t *best = NULL;
    while (t) {
        if (t->addr <= key) {
            best = t;
            t = t->r;
        } else {
            t = t->l;
        }
    }
    return best;
}

// The node with the smallest addr >= key, or NULL.
static node_t *ceil_node(node_t *t, uintptr_t key) {
    node_t *best = NULL;
    while (t) {
        if (t->addr >= key) {
            best = t;
            t = t->l;
        } else {
            t = t->r;
        }
    }
    return best;
}

// ---- first fit ------------------------------------------------------------

// Bytes to skip at the start of t so that the range starts aligned, or
// SIZE_MAX when [t->addr, +size) cannot hold `size` bytes that way.
static size_t fit_pad(const node_t *t, size_t size, size_t align) {
    size_t pad = (align - (t->addr & (align - 1))) & (align - 1);
    if (pad > t->size || t->size - pad < size)
        return SIZE_MAX;
    return pad;
}

// The lowest-addressed free range that holds `size` bytes at an `align`
// boundary. Subtrees whose max is below `size` are skipped. A candidate that
// is large enough but misses the alignment costs one unit of *budget; when
// the budget runs out the search gives up and sets *exhausted.
static node_t *fit_walk(node_t *t, size_t size, size_t align, int *budget, bool *exhausted) {
    while (t && t->max >= size && !*exhausted) {
        node_t *n = fit_walk(t->l, size, align, budget, exhausted);
        if (n || *exhausted)
            return n;
        if (t->size >= size) {
            if (fit_pad(t, size, align) != SIZE_MAX)
                return t;
            if (--*budget <= 0) {
                *exhausted = true;
                return NULL;
            }
        }
        t = t->r; // tail call by hand
    }
    return NULL;
}

// Address-ordered first fit. Many misaligned candidates below a fitting
// range (small ranges with a huge alignment) would make the walk linear, so
// after FIT_BUDGET misses it takes the lowest range of at least
// size + align - 1 bytes (which always fits, found in O(log n)), and only
// when there is none walks everything.
static node_t *find_fit(node_t *root, size_t size, size_t align) {
    int budget = FIT_BUDGET;
    bool exhausted = false;
    node_t *n = fit_walk(root, size, align, &budget, &exhausted);
    if (n || !exhausted)
        return n;
    size_t sure;
    if (!__builtin_add_overflow(size, align - 1, &sure)) {
        int unlimited = INT32_MAX;
        bool never = false;
        n = fit_walk(root, sure, 1, &unlimited, &never);
        if (n)
            return n;
    }
    int big = INT32_MAX;
    exhausted = false;
    return fit_walk(root, size, align, &big, &exhausted);
}

// ---- regions --------------------------------------------------------------

// Index of the first region whose base is > addr (0..nregions).
size_t range_alloc_region_upper(const range_alloc_t *ra, uintptr_t addr) {
    size_t lo = 0, hi = ra->nregions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ra->regions[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

// True when addr is the first byte of a region: ranges that meet there
// belong to different regions and are never joined.
bool range_alloc_is_region_base(const range_alloc_t *ra, uintptr_t addr) {
    size_t i = range_alloc_region_upper(ra, addr);
    return i > 0 && ra->regions[i - 1].base == addr;
}

static bool wraps(uintptr_t base, size_t size) {
    uintptr_t end;
    return __builtin_add_overflow(base, size, &end);
}

// Puts [addr, addr+size) in the free tree, joined with free neighbours of
// the same region. Consumes `n` (a node already holding nothing) when the
// range does not join an existing free node; returns n to the spare list
// otherwise.
static void free_insert(range_alloc_t *ra, node_t *n, uintptr_t addr, size_t size) {
    uintptr_t end = addr + size;
    node_t *prev = range_alloc_floor(ra->free_root, addr);
    if (prev && (prev->addr + prev->size != addr || range_alloc_is_region_base(ra, addr)))
        prev = NULL;
    node_t *next = ceil_node(ra->free_root, end);
    if (next && (next->addr != end || range_alloc_is_region_base(ra, end)))
        next = NULL;
    if (prev) {
        erase(&ra->free_root, prev->addr);
        size += prev->size;
        addr = prev->addr;
        node_put(ra, prev);
        ra->nfree--;
    }
    if (next) {
        erase(&ra->free_root, next->addr);
        size += next->size;
        node_put(ra, next);
        ra->nfree--;
    }
    n->addr = addr;
    n->size = size;
    n->prio = next_prio(ra);
    insert(&ra->free_root, n);
    ra->nfree++;
}

// Inserts a region record, keeping the array sorted; the caller has checked
// that it overlaps nothing.
static int region_insert(range_alloc_t *ra, uintptr_t base, size_t size) {
    if (ra->nregions == ra->cap_regions) {
        size_t cap = ra->cap_regions ? 2 * ra->cap_regions : 4;
        region_t *r = meta_alloc(cap * sizeof *r);
        if (!r)
            return ENOMEM;
        if (ra->nregions)
            memcpy(r, ra->regions, ra->nregions * sizeof *r);
        meta_free(ra->regions, ra->cap_regions * sizeof *r);
        ra->regions = r;
        ra->cap_regions = cap;
    }
    size_t i = range_alloc_region_upper(ra, base);
    memmove(&ra->regions[i + 1], &ra->regions[i], (ra->nregions - i) * sizeof *ra->regions);
    ra->regions[i] = (region_t){base, size};
    ra->nregions++;
    ra->total += size;
    return 0;
}

// ---- public ---------------------------------------------------------------

int range_alloc_create(uintptr_t base, size_t size, range_alloc_t **out) {
    if (!out || (size && (base == 0 || wraps(base, size))))
        return EINVAL;
    range_alloc_t *ra = meta_alloc(sizeof *ra);
    if (!ra)
        return ENOMEM;
    lock_init(&ra->lock, LOCK_RANK_RANGE_ALLOC, "range_alloc");
    ra->rng = (uint32_t)((uintptr_t)ra >> 4) ^ (uint32_t)base ^ 0x9e3779b9u;
    if (!ra->rng)
        ra->rng = 1;
    if (size) {
        int r = range_alloc_add_region(ra, base, size);
        if (r) {
            range_alloc_destroy(ra);
            return r;
        }
    }
    *out = ra;
    return 0;
}

void range_alloc_destroy(range_alloc_t *ra) {
    if (!ra)
        return;
    for (chunk_t *c = ra->chunks; c;) {
        chunk_t *next = c->next;
        meta_free(c, CHUNK_BYTES);
        c = next;
    }
    meta_free(ra->regions, ra->cap_regions * sizeof *ra->regions);
    lock_fini(&ra->lock);
    meta_free(ra, sizeof *ra);
}

int range_alloc_add_region(range_alloc_t *ra, uintptr_t base, size_t size) {
    if (!ra || size == 0 || base == 0 || wraps(base, size))
        return EINVAL;
    lock_acquire(&ra->lock);
    int r = EINVAL;
    size_t i = range_alloc_region_upper(ra, base);
    if (i > 0 && ra->regions[i - 1].base + ra->regions[i - 1].size > base)
        goto out; // overlaps the region below
    if (i < ra->nregions && ra->regions[i].base < base + size)
        goto out; // overlaps the region above
    if ((r = reserve_nodes(ra, 1)) != 0)
        goto out;
    if ((r = region_insert(ra, base, size)) != 0)
        goto out;
    free_insert(ra, node_get(ra, base, size), base, size);
out:
    lock_release(&ra->lock);
    return r;
}

int range_alloc_extend(range_alloc_t *ra, uintptr_t end, size_t extra) {
    if (!ra || extra == 0 || wraps(end, extra))
        return EINVAL;
    lock_acquire(&ra->lock);
    int r = EINVAL;
    size_t i = range_alloc_region_upper(ra, end - 1);
    if (i == 0 || ra->regions[i - 1].base + ra->regions[i - 1].size != end)
        goto out; // no region ends at `end`
    if (i < ra->nregions && ra->regions[i].base < end + extra)
        goto out; // would run into the next region
    if ((r = reserve_nodes(ra, 1)) != 0)
        goto out;
    ra->regions[i - 1].size += extra;
    ra->total += extra;
    free_insert(ra, node_get(ra, end, extra), end, extra);
out:
    lock_release(&ra->lock);
    return r;
}

int range_alloc_alloc(range_alloc_t *ra, size_t size, size_t align, uintptr_t *out) {
    if (!ra || !out || size == 0 || (align & (align - 1)))
        return EINVAL;
    if (align == 0)
        align = 1;
    lock_acquire(&ra->lock);
    int r = ENOMEM;
    node_t *n = find_fit(ra->free_root, size, align);
    if (!n)
        goto out;
    size_t pad = fit_pad(n, size, align);
    size_t tail = n->size - pad - size;
    // n becomes the allocated range; the head and tail stay free.
    if ((r = reserve_nodes(ra, (pad != 0) + (tail != 0))) != 0)
        goto out;
    uintptr_t base = n->addr, start = base + pad;
    erase(&ra->free_root, base);
    ra->nfree--;
    if (pad) {
        insert(&ra->free_root, node_get(ra, base, pad));
        ra->nfree++;
    }
    if (tail) {
        insert(&ra->free_root, node_get(ra, start + size, tail));
        ra->nfree++;
    }
    n->addr = start;
    n->size = size;
    insert(&ra->used_root, n);
    ra->nused++;
    ra->allocated += size;
    *out = start;
out:
    lock_release(&ra->lock);
    return r;
}

int range_alloc_free(range_alloc_t *ra, uintptr_t addr, size_t size) {
    if (!ra)
        return EINVAL;
    lock_acquire(&ra->lock);
    int r = EINVAL;
    node_t *u = find_exact(ra->used_root, addr);
    if (!u || (size && size != u->size))
        goto out;
    size = u->size;
    erase(&ra->used_root, addr);
    ra->nused--;
    ra->allocated -= size;
    free_insert(ra, u, addr, size);
    r = 0;
out:
    lock_release(&ra->lock);
    return r;
}

int range_alloc_split(range_alloc_t *ra, uintptr_t addr, size_t total, size_t first) {
    if (!ra || first == 0 || first >= total)
        return EINVAL;
    lock_acquire(&ra->lock);
    int r = EINVAL;
    node_t *u = find_exact(ra->used_root, addr);
    if (!u || u->size != total)
        goto out;
    if ((r = reserve_nodes(ra, 1)) != 0)
        goto out;
    // The used tree is ordered by address only, so resizing u in place keeps
    // it valid (its `max` is not used).
    u->size = first;
    insert(&ra->used_root, node_get(ra, addr + first, total - first));
    ra->nused++;
out:
    lock_release(&ra->lock);
    return r;
}

int range_alloc_merge(range_alloc_t *ra, uintptr_t low, uintptr_t high, size_t total) {
    if (!ra || high <= low)
        return EINVAL;
    lock_acquire(&ra->lock);
    int r = EINVAL;
    node_t *lo = find_exact(ra->used_root, low);
    node_t *hi = find_exact(ra->used_root, high);
    if (!lo || !hi || lo->addr + lo->size != high || range_alloc_is_region_base(ra, high))
        goto out;
    size_t sum;
    if (__builtin_add_overflow(lo->size, hi->size, &sum) || sum != total)
        goto out;
    erase(&ra->used_root, high);
    node_put(ra, hi);
    lo->size = total;
    ra->nused--;
    r = 0;
out:
    lock_release(&ra->lock);
    return r;
}

int range_alloc_find(range_alloc_t *ra, uintptr_t addr, uintptr_t *start, size_t *size) {
    if (!ra)
        return EINVAL;
    lock_acquire(&ra->lock);
    int r = ENOENT;
    node_t *u = range_alloc_floor(ra->used_root, addr);
    if (u && addr - u->addr < u->size) {
        if (start)
            *start = u->addr;
        if (size)
            *size = u->size;
        r = 0;
    }
    lock_release(&ra->lock);
    return r;
}
