// SPDX-License-Identifier: MIT
// The jemalloc pool's record of the chunks its arenas got from the
// provider, so that memory goes back to the provider only as whole chunks.
//
// Why: with opt.retain (Debian's default) jemalloc assumes that two
// neighbouring extents of different arenas can never merge, because every
// chunk an extent hook returns starts with a "head" extent and jemalloc
// never merges across a head. If a hook gave back only part of a chunk
// (jemalloc asks for that: it deallocates whatever extent decayed), the
// provider could hand the hole to another arena - of this pool or of
// another one - as a new chunk whose end touches a non-head piece of the
// old chunk; jemalloc would then merge extents of two arenas and corrupt
// both arenas' extent heaps (seen as crashes in eset_remove). So:
//   - dalloc gives a range back only when it is exactly a chunk the alloc
//     hook handed out; any other range is refused (jemalloc keeps it as
//     "retained", purged, and reuses it);
//   - destroy, which jemalloc calls piece by piece while it tears an arena
//     down, only records the pieces; they go back to the provider after
//     arena.<i>.destroy has returned and no extent of the arena is left.
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "pools/pool_jemalloc_priv.h"

#if POOL_JEMALLOC_AVAILABLE

// Open addressing over chunk start addresses (page-aligned, so never the
// EMPTY or GONE markers). Capacity is a power of two, at most half full
// counting tombstones.
#define EMPTY ((uintptr_t)0)
#define GONE ((uintptr_t)1)

int pool_jemalloc_chunks_init(pool_jemalloc_chunks_t *c) {
    memset(c, 0, sizeof *c);
    lock_init(&c->lock, LOCK_RANK_JEMALLOC_CHUNKS, "jemalloc pool chunks");
    return 0;
}

static size_t slot_of(uintptr_t key, size_t cap) {
    return (size_t)((key >> 12) * 0x9e3779b97f4a7c15ull) & (cap - 1);
}

// protected by: c->lock
static bool table_grow(pool_jemalloc_chunks_t *c) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    if (c->live * 4 < c->cap) // mostly tombstones: rehash at the same size
        cap = c->cap;
    pool_jemalloc_chunk_t *t = meta_alloc(cap * sizeof *t); // zeroed: all EMPTY
    if (!t)
        return false;
    for (size_t i = 0; i < c->cap; i++) {
        uintptr_t k = c->table[i].start;
        if (k == EMPTY || k == GONE)
            continue;
        size_t j = slot_of(k, cap);
        while (t[j].start != EMPTY)
            j = (j + 1) & (cap - 1);
        t[j] = c->table[i];
    }
    if (c->cap)
        meta_free(c->table, c->cap * sizeof *c->table);
    c->table = t;
    c->cap = cap;
    c->used = c->live;
    return true;
}

int pool_jemalloc_chunk_add(pool_jemalloc_chunks_t *c, void *start, size_t size) {
    uintptr_t k = (uintptr_t)start;
    int err = 0;
    lock_acquire(&c->lock);
    if ((c->used + 1) * 2 > c->cap && !table_grow(c)) {
        err = ENOMEM;
    } else {
        size_t j = slot_of(k, c->cap);
        while (c->table[j].start != EMPTY && c->table[j].start != GONE)
            j = (j + 1) & (c->cap - 1);
        if (c->table[j].start == EMPTY)
            c->used++;
        c->table[j].start = k;
        c->table[j].size = size;
        c->live++;
    }
    lock_release(&c->lock);
    return err;
}

bool pool_jemalloc_chunk_take(pool_jemalloc_chunks_t *c, void *start, size_t size) {
    uintptr_t k = (uintptr_t)start;
    bool whole = false;
    lock_acquire(&c->lock);
    if (c->cap) {
        for (size_t j = slot_of(k, c->cap); c->table[j].start != EMPTY;
             j = (j + 1) & (c->cap - 1)) {
            if (c->table[j].start == k) {
                whole = c->table[j].size == size;
                if (whole) {
                    c->table[j].start = GONE;
                    c->live--;
                }
                break;
            }
        }
    }
    lock_release(&c->lock);
    return whole;
}

int pool_jemalloc_chunk_defer(pool_jemalloc_chunks_t *c, void *start, size_t size) {
    int err = 0;
    lock_acquire(&c->lock);
    if (c->ndead == c->dead_cap) {
        size_t cap = c->dead_cap ? 2 * c->dead_cap : 64;
        pool_jemalloc_chunk_t *d = meta_alloc(cap * sizeof *d);
        if (!d) {
            err = ENOMEM;
            goto out;
        }
        if (c->dead_cap) {
            memcpy(d, c->dead, c->ndead * sizeof *d);
            meta_free(c->dead, c->dead_cap * sizeof *d);
        }
        c->dead = d;
        c->dead_cap = cap;
    }
    c->dead[c->ndead].start = (uintptr_t)start;
    c->dead[c->ndead].size = size;
    c->ndead++;
out:
    lock_release(&c->lock);
    return err;
}

void pool_jemalloc_chunks_release(pool_jemalloc_chunks_t *c,
                                  umf_memory_provider_handle_t provider) {
    size_t failed = 0;
    for (size_t i = 0; i < c->ndead; i++)
        pool_jemalloc_map_remove((void *)c->dead[i].start, c->dead[i].size);
    for (size_t i = 0; i < c->ndead; i++)
        if (umfMemoryProviderFree(provider, (void *)c->dead[i].start, c->dead[i].size) !=
            UMF_RESULT_SUCCESS)
            failed++;
    if (failed)
        LOG_ERR("provider did not take back %zu of %zu ranges of a destroyed pool", failed,
                c->ndead);
    // Chunks still listed were given back above as the pieces jemalloc
    // destroyed them in.
    if (c->dead_cap)
        meta_free(c->dead, c->dead_cap * sizeof *c->dead);
    if (c->cap)
        meta_free(c->table, c->cap * sizeof *c->table);
    lock_fini(&c->lock);
    memset(c, 0, sizeof *c);
}

#endif // POOL_JEMALLOC_AVAILABLE
