// SPDX-License-Identifier: MIT
// Handle validation for the public handle types (pools, providers,
// memspaces, memtargets, mempolicies): a 32-bit tag at the start of the
// handle's struct says "a live object of this type"; destroy rewrites it
// to the type's dead tag; and the struct's memory is never given back for
// other uses (it waits in its type's quarantine FIFO), so that a destroyed
// handle stays readable and recognisably dead.
//
// Usage:
//   struct thing { handle_hdr_t hdr; ... };          // hdr first
//   #define THING_TAG 0x....u                         // 32 bits, unique per type
//   static handle_graveyard_t graves = HANDLE_GRAVEYARD_INIT;
//   create:  t = handle_graveyard_take(&graves, sizeof *t); // zeroed, or NULL:
//            if (!t) t = meta_alloc(sizeof *t);              // then allocate
//            ... then handle_set_live(&t->hdr, THING_TAG);
//   entry:   if (!handle_ok(h, THING_TAG, "thing", __func__)) return INVALID_ARGUMENT;
//   destroy: if (!handle_kill(h, THING_TAG, "thing", __func__)) return ...;
//            tear down, then handle_retire(&graves, &t->hdr, THING_TAG);
//
// Refusals log one ERROR line named after the API function (`fn`):
//   "NULL <what> handle", "<what> handle <p> was destroyed",
//   "invalid <what> handle <p> (not a handle of this type: garbage, or memory reused)".
//
// The limit: the check reads the handle's first 4 bytes, so it catches a
// destroyed handle and a pointer to readable memory of another kind; a
// pointer to unmapped memory still faults, and a destroyed handle whose
// struct was reused for a new object of the same type (after the
// graveyard's `keep` later destroys) is taken for that new object.
#ifndef HETMEM_BASE_HANDLE_H
#define HETMEM_BASE_HANDLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Put first in every validated handle struct.
/// 32 bits: the live check compiles to one compare with an immediate
/// (cmpl $tag, (reg)); garbage passes it with odds of 2^-32.
typedef struct handle_hdr_t {
    _Atomic uint32_t tag; // the type's tag while live, its dead tag once destroyed
    uint32_t pad;
    void *grave;          // the graveyard's FIFO link (destroyed handles only)
} handle_hdr_t;

/// The tag a destroyed handle of type `tag` carries.
static inline uint32_t handle_dead_tag(uint32_t tag) { return ~tag; }

/// True when h is a live handle of type `tag`: one load and one compare.
static inline bool handle_live(const void *h, uint32_t tag) {
    return __builtin_expect(h != NULL, 1) &&
           __builtin_expect(atomic_load_explicit(&((const handle_hdr_t *)h)->tag,
                                                 memory_order_relaxed) == tag,
                            1);
}

/// Logs the refusal of h (NULL, destroyed or garbage) as one ERROR line
/// named after `fn`; `what` names the type ("pool", "memory provider").
void handle_refuse(const void *h, uint32_t tag, const char *what, const char *fn)
    __attribute__((cold, noinline));

/// The entry check: true for a live handle of type `tag`; otherwise one
/// log line (handle_refuse) and false. The live path is handle_live.
static inline bool handle_ok(const void *h, uint32_t tag, const char *what, const char *fn) {
    if (__builtin_expect(handle_live(h, tag), 1))
        return true;
    handle_refuse(h, tag, what, fn);
    return false;
}

/// LIVE -> dead, once (an atomic exchange of the tag): false, with
/// handle_refuse's line, when h is NULL, already destroyed or garbage.
bool handle_kill(void *h, uint32_t tag, const char *what, const char *fn);

/// Publishes a (re)initialised struct as a live handle of type `tag`.
static inline void handle_set_live(handle_hdr_t *h, uint32_t tag) {
    h->grave = NULL;
    atomic_store_explicit(&h->tag, tag, memory_order_release);
}

/// Destroyed structs of one type wait here: they are reused, oldest first,
/// for new handles of the same type only, and only once more than `keep`
/// are waiting, so that a recently destroyed handle stays recognisable for
/// the next `keep` destroys of its type. The FIFO is linked through a
/// pointer at offset `link` of each struct (handle_hdr_t.grave for tagged
/// types). One lock (handle.c, LOCK_RANK_HANDLE_GRAVES) guards every
/// graveyard; it is a leaf.
typedef struct handle_graveyard_t {
    void *oldest, *newest; // protected by: the graveyards' lock
    size_t count;          // protected by: the graveyards' lock
    size_t link;           // offset of the FIFO link in a retired struct
    size_t keep;           // retired structs kept before the oldest is reused
} handle_graveyard_t;

/// Destroyed handles kept per type before one is reused.
#define HANDLE_QUARANTINE 64

/// A graveyard of handle_hdr_t-tagged structs.
#define HANDLE_GRAVEYARD_INIT {NULL, NULL, 0, offsetof(handle_hdr_t, grave), HANDLE_QUARANTINE}
/// A graveyard of structs of another layout (link: offset of a void * that
/// is free while the struct is dead; keep: the quarantine length).
#define HANDLE_GRAVEYARD_INIT_AT(link_offset, keep_n) {NULL, NULL, 0, (link_offset), (keep_n)}

/// Appends obj (already marked dead by its owner) to the graveyard.
void handle_bury(handle_graveyard_t *g, void *obj);

/// Marks h destroyed and keeps its memory (never freed) in g.
static inline void handle_retire(handle_graveyard_t *g, handle_hdr_t *h, uint32_t tag) {
    atomic_store_explicit(&h->tag, handle_dead_tag(tag), memory_order_release);
    handle_bury(g, h);
}

/// The oldest retired struct, zeroed (`size` bytes), once more than g->keep
/// wait; else NULL (the caller allocates a new one). The caller then
/// initialises it and calls handle_set_live (or its own equivalent).
void *handle_graveyard_take(handle_graveyard_t *g, size_t size);

#endif // HETMEM_BASE_HANDLE_H
