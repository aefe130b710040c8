// SPDX-License-Identifier: MIT
// memtier_kind_allocated_size's counters: one signed counter per kind in
// each of MT_SLOTS thread slots (a thread takes a slot once, round robin),
// flushed into the kind's global count when it passes +-MT_FLUSH bytes, so
// an allocation touches only its own slot's cache line in the common case.
// Reading the exact count drains every slot; a destroyed kind's counts are
// reset (docs/memkind.md, "memtier").
#include <memkind/internal/memkind_private.h>

#include "base/log.h"
#include "frontend/memkind/mk_hooks.h"
#include "frontend/memtier/mt_priv.h"

#define MT_SLOTS 64u
#define MT_FLUSH (50 * 1024LL)

// [slot][kind]: a thread's counters for different kinds are neighbours, and
// two slots are MEMKIND_MAX_KIND * 8 bytes apart (no false sharing).
static _Atomic long long slot_bytes[MT_SLOTS][MEMKIND_MAX_KIND];
static _Atomic long long global_bytes[MEMKIND_MAX_KIND];
static atomic_uint next_slot;
static __thread unsigned my_slot_plus1; // 0: none taken yet

static inline unsigned my_slot(void) {
    if (__builtin_expect(my_slot_plus1 == 0, 0))
        my_slot_plus1 = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed) %
                            MT_SLOTS + 1;
    return my_slot_plus1 - 1;
}

bool mt_kind_ok(memkind_t kind, const char *fn) {
    if (!kind) {
        if (log_level() >= LOG_LEVEL_ERROR)
            log_write(LOG_LEVEL_ERROR, fn, "NULL kind; refused");
        return false;
    }
    if (kind->partition >= MEMKIND_MAX_KIND) {
        if (log_level() >= LOG_LEVEL_ERROR)
            log_write(LOG_LEVEL_ERROR, fn, "kind %p has partition %u (>= %d): not a kind; refused",
                      (void *)kind, kind->partition, MEMKIND_MAX_KIND);
        return false;
    }
    return true;
}

static void add(memkind_t kind, long long delta) {
    _Atomic long long *c = &slot_bytes[my_slot()][kind->partition];
    long long now = atomic_fetch_add_explicit(c, delta, memory_order_relaxed) + delta;
    if (now > MT_FLUSH || now < -MT_FLUSH) {
        long long moved = atomic_exchange_explicit(c, 0, memory_order_relaxed);
        atomic_fetch_add_explicit(&global_bytes[kind->partition], moved, memory_order_relaxed);
    }
}

void mt_count_add(memkind_t kind, size_t bytes) {
    add(kind, (long long)bytes);
}

void mt_count_sub(memkind_t kind, size_t bytes) {
    add(kind, -(long long)bytes);
}

static uint64_t clamp(long long v) {
    return v < 0 ? 0 : (uint64_t)v; // a free counted before its malloc's flush
}

uint64_t mt_count_peek(memkind_t kind) {
    unsigned k = kind->partition;
    return clamp(atomic_load_explicit(&global_bytes[k], memory_order_relaxed) +
                 atomic_load_explicit(&slot_bytes[my_slot()][k], memory_order_relaxed));
}

uint64_t mt_count_exact(memkind_t kind) {
    unsigned k = kind->partition;
    long long sum = 0;
    for (unsigned s = 0; s < MT_SLOTS; s++)
        sum += atomic_exchange_explicit(&slot_bytes[s][k], 0, memory_order_relaxed);
    return clamp(atomic_fetch_add_explicit(&global_bytes[k], sum, memory_order_relaxed) + sum);
}

// A destroyed kind's slot starts from zero for the next kind (as memkind).
static void slot_freed(unsigned k) {
    for (unsigned s = 0; s < MT_SLOTS; s++)
        atomic_store_explicit(&slot_bytes[s][k], 0, memory_order_relaxed);
    atomic_store_explicit(&global_bytes[k], 0, memory_order_relaxed);
}

__attribute__((constructor)) static void mt_count_init(void) {
    mk_set_slot_freed_hook(slot_freed);
}
