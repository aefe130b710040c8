// SPDX-License-Identifier: MIT
// Small helpers every layer uses: branch hints, alignment arithmetic,
// overflow-checked multiplication, array length.
#ifndef HETMEM_BASE_UTIL_H
#define HETMEM_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CACHE_LINE 64

/// Marks a definition as part of a library's public ABI (the build hides
/// everything else; the layer's *.exports file must list it too).
#define HETMEM_EXPORT __attribute__((visibility("default")))

static inline bool is_pow2(size_t x) { return x && !(x & (x - 1)); }

/// Rounds up to a power-of-two alignment; false on overflow.
static inline bool align_up_checked(size_t x, size_t align, size_t *out) {
    size_t r;
    if (__builtin_add_overflow(x, align - 1, &r))
        return false;
    *out = r & ~(align - 1);
    return true;
}

#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((size_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((size_t)(a)-1))
#define IS_ALIGNED(x, a) (((x) & ((size_t)(a)-1)) == 0)

/// nmemb * size, false on overflow (calloc-style callers).
static inline bool mul_checked(size_t a, size_t b, size_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}

#endif // HETMEM_BASE_UTIL_H
