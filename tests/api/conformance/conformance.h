// SPDX-License-Identifier: MIT
// Shared pieces of the pool conformance suite: the providers it runs on
// (conformance_providers.c) and the counting wrapper every pool sits on.
#ifndef HETMEM_TEST_CONFORMANCE_H
#define HETMEM_TEST_CONFORMANCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include <umf/memory_provider.h>

/// A provider that forwards to `inner` and counts what passes through, so
/// a test can check that a destroyed pool gave the provider everything back.
typedef struct counting_t {
    umf_memory_provider_handle_t inner;
    atomic_size_t live_bytes;  // allocated and not freed
    atomic_size_t peak_bytes;  // most live bytes at once
    atomic_long live_ranges;   // allocations (and split parts) not freed
    atomic_long allocs, frees; // successful calls
} counting_t;

/// Wraps inner (not owned) in a counting provider.
umf_result_t counting_create(umf_memory_provider_handle_t inner, counting_t *c,
                             umf_memory_provider_handle_t *out);

/// The providers of the suite by name: "os", "fixed" (a 256 MiB buffer),
/// "file" (a temporary file, shared visibility) and "protnone" (a user
/// provider whose memory is mapped PROT_NONE). Returns 0, or -1 on failure
/// (every provider is linked: there is no "not built" answer).
int conf_provider_create(const char *name, umf_memory_provider_handle_t *out);
void conf_provider_destroy(const char *name, umf_memory_provider_handle_t p);

/// A fixed provider over a fresh buffer of `size` bytes (for exhaustion);
/// 0, or -1 on failure.
int conf_fixed_create(size_t size, void **buf, umf_memory_provider_handle_t *out);
void conf_fixed_destroy(void *buf, size_t size, umf_memory_provider_handle_t p);

#endif
