// SPDX-License-Identifier: MIT
// meta_alloc: the allocator for hetmem's own bookkeeping (provider and pool
// structs, tracker nodes, heap metadata). It never calls libc malloc - the
// memory allocator must not depend on the one it may replace - and never
// touches memory managed for users. Blocks come from 64 KiB OS mappings
// split into power-of-two classes (16 B .. 4 KiB); larger blocks are their
// own mapping. Thread-safe (one lock per class, off every fast path).
#ifndef HETMEM_OS_META_H
#define HETMEM_OS_META_H

#include <stddef.h>

/// Zeroed block of at least size bytes, aligned to 16 (64 for size >= 64).
/// NULL when the OS refuses memory or size is 0.
void *meta_alloc(size_t size);

/// Returns a block from meta_alloc (NULL is ignored). size must be the size
/// given to meta_alloc.
void meta_free(void *p, size_t size);

/// Duplicates a string into meta memory (NULL for NULL or no memory); free
/// it with meta_free(s, strlen(s) + 1).
char *meta_strdup(const char *s);

#endif // HETMEM_OS_META_H
