// SPDX-License-Identifier: MIT
// The address map's insides, shared by tracker.c (lookup and the writers'
// tree surgery) and tracker_nodes.c (object pools, recycling, walks and the
// debug checks). Nothing outside src/tracker and its unit test includes it.
//
// Glossary
//   key      a range's start address; every key is < TRACKER_ADDR_LIMIT.
//   digit    4 bits of a key. A node at shift s branches on digit
//            (key >> s) & 15; shifts are multiples of 4 in 0..52.
//   prefix   the key bits above a node's digit (bits >= s + 4), the same for
//            every key below that node. Path compression: a child's shift
//            may be any multiple of 4 below its parent's, the skipped digits
//            being fixed by the child's prefix.
//   slot     a tagged child word: 0 (empty), a node pointer, or a leaf
//            pointer with TRACKER_LEAF_TAG set.
//   leaf     one registered range (a tracker_entry_t's fields, atomically).
//   limbo    objects unlinked from the tree that racing readers may still
//            hold; they are reused only after a generation bump.
//   gen      the generation counter; it changes exactly when limbo objects
//            become reusable, and only then must readers start over.
#ifndef HETMEM_TRACKER_TRACKER_PRIV_H
#define HETMEM_TRACKER_TRACKER_PRIV_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/lock.h"
#include "base/util.h"
#include "tracker/tracker.h"

#define TRACKER_ADDR_BITS 56
#define TRACKER_ADDR_LIMIT ((uintptr_t)1 << TRACKER_ADDR_BITS)
#define TRACKER_FANOUT 16
#define TRACKER_ROOT_SHIFT 52 // the root branches on bits 52..55
#define TRACKER_MAX_DEPTH 14  // one node per shift 52, 48, ..., 0
#define TRACKER_LEAF_TAG ((uintptr_t)1)
// Nesting levels (tracker.h): a range registered inside a range of level L
// goes to level L + 1, each level a tree of its own over the same objects.
#define TRACKER_LEVELS 8
// Limbo objects (of both kinds together) that trigger a generation bump
// when a writer needs a fresh object: a reader retries at most once per this
// many removals, and at most this many objects wait unreused.
#define TRACKER_LIMBO_BATCH 64

/// An inner node: 16 child slots over one digit of the key.
/// Invariants (for a node reachable from the root):
///   - word = prefix | (shift / 4); prefix has bits below shift + 4 clear;
///     word never changes while the node is allocated (reuse rewrites it).
///   - bitmap bit d is set iff slot[d] != 0, except transiently inside one
///     writer operation (a reader treats a set bit over an empty slot as
///     empty).
///   - every key below slot[d] has the node's prefix and digit d; a child
///     node's shift is strictly below the node's shift.
///   - a node other than the root has at least two children.
/// Readers load every field with memory_order_acquire; writers (holding
/// tracker_map.lock) store them with memory_order_release.
/// 192 bytes, 64-aligned: the header and slots 0..5 share the first line.
typedef struct tracker_node_t {
    _Atomic uint64_t word;                    // prefix | shift / 4
    _Atomic uint32_t bitmap;                  // occupancy of slot[]
    uint32_t unused;
    _Atomic uintptr_t slot[TRACKER_FANOUT];   // tagged children
    struct tracker_node_t *next_free;         // protected by: lock; free/limbo link
} tracker_node_t;

/// A registered range. start never changes while the leaf is allocated;
/// size changes only through tracker_resize (a single release store).
/// nested counts the ranges of the next level inside this one (a reader
/// looks deeper only when it is not 0). 64 bytes, one cache line.
/// next_free is not read by readers, so putting a leaf in limbo leaves
/// every field a reader copies untouched.
typedef struct tracker_leaf_t {
    _Atomic uintptr_t start;
    _Atomic size_t size;
    _Atomic uintptr_t pool;
    _Atomic uintptr_t provider;
    _Atomic uintptr_t meta;
    _Atomic uint32_t nested;          // written under lock (release)
    uint32_t level;                   // protected by: lock
    struct tracker_leaf_t *next_free; // protected by: lock; free/limbo link
} tracker_leaf_t;

/// Object pool for one kind (nodes or leaves). Objects are carved from
/// 4 KiB meta_alloc blocks that are never given back, so any pointer a
/// racing reader ever loaded stays mapped and keeps its type. All fields are
/// protected by: tracker_map.lock.
typedef struct tracker_objpool_t {
    void *free;      // reusable now (unlinked before the last generation bump)
    void *limbo;     // unlinked since the last bump; readers may hold them
    void *limbo_tail; // last object of limbo (for an O(1) splice)
    size_t nlimbo;
    size_t nfree;
    size_t live;     // handed out and not returned
    size_t blocks;   // 4 KiB meta blocks carved so far
    char *bump;      // next uncarved byte of the current block
    char *end;
    size_t objsize;
    size_t link_off; // offset of next_free in the object
} tracker_objpool_t;

/// The map (one per process). The root and gen are what every reader
/// touches; they sit on their own cache lines, away from the writer state
/// that changes on every add/remove.
typedef struct tracker_map_t {
    alignas(CACHE_LINE) tracker_node_t root[TRACKER_LEVELS]; // a tree per level; never freed
    alignas(CACHE_LINE) _Atomic uint64_t gen; // written under lock (release)
    alignas(CACHE_LINE) lock_t lock;          // serializes every writer (LOCK_RANK_TRACKER)
    _Atomic size_t count;                     // leaves in the trees; written under lock
    unsigned levels; // levels ever used: written under lock (atomic store), tracker_nested
    tracker_objpool_t nodes;                  // protected by: lock
    tracker_objpool_t leaves;                 // protected by: lock
    long fail_after;                          // protected by: lock; test hook, < 0 = off
} tracker_map_t;

extern tracker_map_t tracker_map;

static inline unsigned tracker_word_shift(uint64_t word) { return (unsigned)(word & 15) * 4; }
static inline uint64_t tracker_word_prefix(uint64_t word) { return word & ~(uint64_t)15; }

/// The bits of key above the digit at `shift` (what a node's prefix holds).
static inline uint64_t tracker_prefix_of(uint64_t key, unsigned shift) {
    return key & ~(((uint64_t)TRACKER_FANOUT << shift) - 1);
}

static inline unsigned tracker_digit(uint64_t key, unsigned shift) {
    return (unsigned)(key >> shift) & (TRACKER_FANOUT - 1);
}

static inline bool tracker_slot_is_leaf(uintptr_t s) { return s & TRACKER_LEAF_TAG; }
static inline tracker_leaf_t *tracker_slot_leaf(uintptr_t s) {
    return (tracker_leaf_t *)(s & ~TRACKER_LEAF_TAG);
}
static inline tracker_node_t *tracker_slot_node(uintptr_t s) { return (tracker_node_t *)s; }

// Object pools (tracker_nodes.c); every call needs tracker_map.lock held.

/// A node or leaf ready to initialize, or NULL (ENOMEM). Its reader-visible
/// fields hold stale values: the caller stores every one of them (release)
/// before publishing the object.
void *tracker_obj_get(tracker_objpool_t *p);

/// Returns an object that was never published (no reader can hold it).
void tracker_obj_put_free(tracker_objpool_t *p, void *obj);

/// Parks an object just unlinked from the tree until the next bump.
void tracker_obj_put_limbo(tracker_objpool_t *p, void *obj);

// Test and statistics hooks (tests/unit/tracker).

typedef struct tracker_debug_stats_t {
    size_t nodes_live;   // inner nodes in the tree (the root not counted)
    size_t leaves_live;  // leaves in the tree
    size_t limbo;        // objects waiting for a bump
    size_t free;         // objects reusable now
    size_t bytes;        // meta memory held by the map
    uint64_t generation; // bumps so far
} tracker_debug_stats_t;

void tracker_debug_stats(tracker_debug_stats_t *out);

/// Walks the whole tree under the lock and checks every invariant above,
/// plus ascending, non-overlapping ranges and count == number of leaves.
/// Returns true when all hold (logs the first violation at ERROR level).
bool tracker_debug_check(void);

#ifdef HETMEM_TEST_HOOKS
/// Makes object allocation fail after n more successes (n < 0: never), to
/// test the ENOMEM paths as if meta_alloc had failed. Test flavour only.
void tracker_debug_fail_allocs_after(long n);
#endif

#endif // HETMEM_TRACKER_TRACKER_PRIV_H
