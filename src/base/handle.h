// SPDX-License-Identifier: MIT
// Handle validation for public handle types (pools, providers, kinds...):
// a tag word at the start of the handle's struct says "a live object of
// this type"; destroy rewrites it to the type's "destroyed" tag; and the
// struct's memory is never given back for other uses, so that a destroyed
// handle stays readable and recognisably dead.
//
// Usage (pool.c is the first user):
//   struct thing { handle_hdr_t hdr; ... };          // hdr first
//   #define THING_TAG 0x....u                         // 32 bits, unique per type
//   static handle_graveyard_t graves = HANDLE_GRAVEYARD_INIT;
//   create:  t = handle_graveyard_take(&graves);       // a retired struct, or NULL
//            if (!t) t = meta_alloc(sizeof *t);
//            memset-to-zero what needs it, then handle_set_live(&t->hdr, THING_TAG);
//   entry:   handle_state_t s = handle_check(h, THING_TAG);
//            if (unlikely(s != HANDLE_LIVE)) { LOG_ERR("%s thing handle %p",
//                handle_state_name(s), h); return INVALID_ARGUMENT; }
//   destroy: (check as above), tear down, then handle_retire(&graves, &t->hdr, THING_TAG);
//
// The limit: the check reads the handle's first 4 bytes, so it catches a
// destroyed handle and a pointer to readable memory of another kind; a
// pointer to unmapped memory still faults, and a destroyed handle whose
// struct was reused for a new object of the same type (after
// HANDLE_QUARANTINE later destroys) is taken for that new object.
#ifndef HETMEM_BASE_HANDLE_H
#define HETMEM_BASE_HANDLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/// Put first in every validated handle struct.
/// 32 bits: the live check compiles to one compare with an immediate
/// (cmpl $tag, (reg)); garbage passes it with odds of 2^-32.
typedef struct handle_hdr_t {
    _Atomic uint32_t tag;       // the type's tag while live, its dead tag once destroyed
    uint32_t pad;
    struct handle_hdr_t *grave; // the graveyard's FIFO link (destroyed handles only)
} handle_hdr_t;

typedef enum handle_state_t {
    HANDLE_LIVE = 0,
    HANDLE_NULL,
    HANDLE_DESTROYED,
    HANDLE_GARBAGE,
} handle_state_t;

/// The tag a destroyed handle of type `tag` carries.
static inline uint32_t handle_dead_tag(uint32_t tag) { return ~tag; }

/// One load and one compare on the live path.
static inline handle_state_t handle_check(const void *h, uint32_t tag) {
    if (__builtin_expect(!h, 0))
        return HANDLE_NULL;
    uint32_t t = atomic_load_explicit(&((const handle_hdr_t *)h)->tag, memory_order_relaxed);
    if (__builtin_expect(t == tag, 1))
        return HANDLE_LIVE;
    return t == handle_dead_tag(tag) ? HANDLE_DESTROYED : HANDLE_GARBAGE;
}

/// Words for log lines: "NULL", "destroyed", "invalid".
static inline const char *handle_state_name(handle_state_t s) {
    switch (s) {
    case HANDLE_LIVE: return "live";
    case HANDLE_NULL: return "NULL";
    case HANDLE_DESTROYED: return "destroyed";
    case HANDLE_GARBAGE: break;
    }
    return "invalid (not a handle of this type)";
}

static inline void handle_set_live(handle_hdr_t *h, uint32_t tag) {
    h->grave = NULL;
    atomic_store_explicit(&h->tag, tag, memory_order_release);
}

/// Destroyed structs wait here: they are reused, oldest first, for new
/// handles of the same type only, and only once more than
/// HANDLE_QUARANTINE are waiting, so a recently destroyed handle stays
/// recognisable for the next HANDLE_QUARANTINE destroys of its type.
#define HANDLE_QUARANTINE 64

typedef struct handle_graveyard_t {
    pthread_mutex_t lock;
    handle_hdr_t *oldest, *newest;
    size_t count;
} handle_graveyard_t;

#define HANDLE_GRAVEYARD_INIT {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0}

/// Marks h destroyed and keeps its memory (never freed).
static inline void handle_retire(handle_graveyard_t *g, handle_hdr_t *h, uint32_t tag) {
    atomic_store_explicit(&h->tag, handle_dead_tag(tag), memory_order_release);
    h->grave = NULL;
    pthread_mutex_lock(&g->lock);
    if (g->newest)
        g->newest->grave = h;
    else
        g->oldest = h;
    g->newest = h;
    g->count++;
    pthread_mutex_unlock(&g->lock);
}

/// The oldest retired struct once more than HANDLE_QUARANTINE wait, else
/// NULL (allocate a new one). The caller reinitialises it and then calls
/// handle_set_live.
static inline void *handle_graveyard_take(handle_graveyard_t *g) {
    handle_hdr_t *h = NULL;
    pthread_mutex_lock(&g->lock);
    if (g->count > HANDLE_QUARANTINE) {
        h = g->oldest;
        g->oldest = h->grave;
        if (!g->oldest)
            g->newest = NULL;
        g->count--;
    }
    pthread_mutex_unlock(&g->lock);
    return h;
}

#endif // HETMEM_BASE_HANDLE_H
