// SPDX-License-Identifier: MIT
// Kind handles: the live/dead check of every public entry and the
// quarantine of destroyed created kinds (docs/memkind.md, "Errors and
// wrong use"; limits in docs/RELIABILITY.md).
#include <stddef.h>

#include "base/handle.h"
#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"
#include "os/meta.h"

void mk_kind_mark_live(struct memkind *kind) {
    kind->hetmem_self = mk_self_of(kind);
    __atomic_store_n(MK_STATE(kind), MK_KIND_LIVE, __ATOMIC_RELEASE);
}

bool mk_kind_check(const struct memkind *kind, const char *fn) {
    if (likely(mk_kind_live(kind)))
        return true;
    if (log_level() >= LOG_LEVEL_ERROR) {
        const char *why = !kind                      ? "a NULL kind"
                          : kind->hetmem_self != mk_self_of(kind) ? "not a memkind kind (garbage handle)"
                          : __atomic_load_n(MK_STATE(kind), __ATOMIC_RELAXED) == MK_KIND_DEAD
                              ? "a destroyed kind"
                              : "not a memkind kind (garbage handle)";
        log_write(LOG_LEVEL_ERROR, fn, "kind %p is %s; refused", (const void *)kind, why);
    }
    return false;
}

// Dead created kinds, oldest first (base/handle.h's FIFO, its one lock
// held across fork): a structure is reused only when MK_KIND_QUARANTINE
// newer ones wait behind it. Linked through priv, which a dead kind does
// not use: the ABI layout of struct memkind has no room for handle_hdr_t
// first (ops is), so kinds keep their own live check (self + state).
static handle_graveyard_t dead_kinds =
    HANDLE_GRAVEYARD_INIT_AT(offsetof(struct memkind, priv), MK_KIND_QUARANTINE);

struct memkind *mk_kind_alloc(void) {
    struct memkind *k = handle_graveyard_take(&dead_kinds, sizeof *k);
    return k ? k : meta_alloc(sizeof *k); // zeroed
}

void mk_kind_retire(struct memkind *kind) {
    __atomic_store_n(MK_STATE(kind), MK_KIND_DEAD, __ATOMIC_RELEASE);
    __atomic_store_n(MK_HEAP_SLOT(kind), NULL, __ATOMIC_RELEASE);
    handle_bury(&dead_kinds, kind);
}

// struct memkind is memkind 1.14's, byte for byte (memkind_private.h): a
// program that declares one with memkind's header gives hetmem 120 bytes.
_Static_assert(sizeof(struct memkind) == 120, "struct memkind: memkind 1.14's size");
_Static_assert(offsetof(struct memkind, name) == 12 && offsetof(struct memkind, init_once) == 76 &&
                   offsetof(struct memkind, arena_map) == 88 &&
                   offsetof(struct memkind, arena_key) == 96 && offsetof(struct memkind, priv) == 104 &&
                   offsetof(struct memkind, arena_zero) == 116,
               "struct memkind: memkind 1.14's offsets");
_Static_assert(sizeof(pthread_key_t) == sizeof(unsigned int), "the handle state fits arena_key");
