// SPDX-License-Identifier: MIT
// The page map: one process-wide two-level radix table from a 4 KiB page
// number to the span descriptor that owns the page (tcmalloc's pagemap).
// It is how a free finds its slab in two dependent loads with no lock,
// whatever alignment the provider gave: the engine only registers pages it
// owns whole (heap_pages.c keeps every span page aligned inside its chunk).
//
// Layout: 48-bit addresses give 36-bit page numbers; the root holds 2^18
// leaf pointers (a 2 MiB zero-initialised static array: zero pages until
// touched, and one load less than a mapped root), each leaf 2^18 slots
// (2 MiB reserved, covering 1 GiB of addresses). Leaves are created on
// first use and never freed, so a reader may always dereference a leaf
// pointer it loaded.
//
// Concurrency: readers load the leaf pointer with acquire (it is published
// with release) and the slot relaxed: the descriptor a valid pointer leads
// to was set up before the block was handed out, which the program's own
// synchronisation orders before any free of it. Writers set the slots of
// pages their heap owns (under that heap's lock), so no two heaps ever
// write one slot concurrently; leaf creation takes `pm_lock`.
#include "heap/heap_priv.h"
#include "os/os.h"

#define PM_LEAF_ENTRIES ((size_t)1 << HEAP_PM_L2_BITS)

_Atomic uintptr_t heap_pm_root[HEAP_PM_ROOT_ENTRIES];
LOCK_STATIC(pm_lock, LOCK_RANK_HEAP_PAGEMAP); // leaf creation

// The leaf for root index r, created when missing. NULL without memory.
static _Atomic uintptr_t *leaf_get(size_t r) {
    uintptr_t leaf = load_acquire(&heap_pm_root[r]);
    if (likely(leaf))
        return (_Atomic uintptr_t *)leaf;
    lock_acquire(&pm_lock);
    leaf = load_relaxed(&heap_pm_root[r]);
    if (!leaf) {
        void *p;
        if (os_map_anon(NULL, PM_LEAF_ENTRIES * sizeof(uintptr_t), 0,
                        OS_PROT_READ | OS_PROT_WRITE, OS_MAP_NORESERVE, &p) == 0) {
            leaf = (uintptr_t)p;
            store_release(&heap_pm_root[r], leaf);
        }
    }
    lock_release(&pm_lock);
    return (_Atomic uintptr_t *)leaf;
}

bool heap_pagemap_set(uintptr_t addr, size_t npages, heap_span_t *s) {
    uintptr_t k = addr >> HEAP_PAGE_SHIFT;
    if (npages == 0)
        return true;
    if ((k >> HEAP_PM_KEY_BITS) || ((k + npages - 1) >> HEAP_PM_KEY_BITS))
        return false;
    // Create every leaf first so that a failure changes nothing.
    for (uintptr_t r = k >> HEAP_PM_L2_BITS; r <= (k + npages - 1) >> HEAP_PM_L2_BITS; r++)
        if (s && !leaf_get(r))
            return false;
    for (size_t i = 0; i < npages; i++) {
        uintptr_t key = k + i;
        _Atomic uintptr_t *leaf =
            (_Atomic uintptr_t *)load_acquire(&heap_pm_root[key >> HEAP_PM_L2_BITS]);
        if (!leaf)
            continue; // clearing a page that was never set
        store_relaxed(&leaf[key & HEAP_PM_L2_MASK], (uintptr_t)s);
    }
    return true;
}

// A nested chunk (a pool over memory of another pool) covers pages whose
// entries are another heap's; chunk_get keeps them and the chunk's release
// puts them back, so the outer block stays findable once the inner pool is
// gone. Leaves that were never made hold no entry.
size_t heap_pagemap_collect(uintptr_t addr, size_t npages, heap_pm_saved_t *out, size_t cap) {
    uintptr_t k = addr >> HEAP_PAGE_SHIFT;
    size_t n = 0;
    for (size_t i = 0; i < npages; i++) {
        uintptr_t key = k + i;
        if (key >> HEAP_PM_KEY_BITS)
            break;
        _Atomic uintptr_t *leaf =
            (_Atomic uintptr_t *)load_acquire(&heap_pm_root[key >> HEAP_PM_L2_BITS]);
        if (!leaf) { // a whole leaf's worth of pages holds nothing
            i += PM_LEAF_ENTRIES - 1 - (key & HEAP_PM_L2_MASK);
            continue;
        }
        uintptr_t v = load_relaxed(&leaf[key & HEAP_PM_L2_MASK]);
        if (!v)
            continue;
        if (n < cap)
            out[n] = (heap_pm_saved_t){key << HEAP_PAGE_SHIFT, (heap_span_t *)v};
        n++;
    }
    return n;
}
