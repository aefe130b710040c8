// SPDX-License-Identifier: MIT
// A probe for the symbol check (never run): a call into the heap engine,
// which a layer below src/heap must not make. Declared here, not included,
// as code that dodges the include rule would.
#include <stddef.h>

size_t heap_usable_size(void *heap, const void *ptr);
size_t layers_probe_upward(void *heap, const void *ptr);
size_t layers_probe_upward(void *heap, const void *ptr) { return heap_usable_size(heap, ptr); }
