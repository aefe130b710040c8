// SPDX-License-Identifier: MIT
// Helpers of the heap engine tests: a counting provider over the OS
// provider or over malloc (which ignores alignment, as some user providers
// do), and a tiny xorshift generator.
#ifndef HETMEM_TEST_HEAP_UTIL_H
#define HETMEM_TEST_HEAP_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <umf/memory_provider.h>

typedef struct tp_t {
    umf_memory_provider_handle_t inner; // NULL: memory from malloc (16-byte aligned)
    atomic_long allocs, frees, purges;
    atomic_size_t live_bytes;
    atomic_int fail_frees; // the next this many frees fail (PROVIDER_SPECIFIC)
} tp_t;

/// A counting provider; inner NULL makes it a malloc-backed provider that
/// ignores alignment and has no purge.
umf_memory_provider_handle_t tp_create(tp_t *t, umf_memory_provider_handle_t inner);
/// An OS memory provider.
umf_memory_provider_handle_t tp_os(void);

static inline uint64_t tp_rand(uint64_t *s) {
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

#endif
