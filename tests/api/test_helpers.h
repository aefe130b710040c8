// SPDX-License-Identifier: MIT
// A user-defined provider for API tests ("a program written for UMF"):
// memory from aligned_alloc, counters for every call, switchable failures.
#ifndef HETMEM_TEST_HELPERS_H
#define HETMEM_TEST_HELPERS_H

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <umf/memory_provider.h>
#include <umf/memory_provider_ops.h>

typedef struct test_provider_t {
    atomic_int allocs, frees, finalized;
    atomic_size_t live_bytes;
    int fail_alloc; // return this result from alloc when non-zero
} test_provider_t;

static __thread int32_t test_native_code;

static umf_result_t tp_init(void *params, void **out) {
    if (!params)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    *out = params;
    return UMF_RESULT_SUCCESS;
}
static void tp_fini(void *p) { atomic_fetch_add(&((test_provider_t *)p)->finalized, 1); }
static umf_result_t tp_alloc(void *p, size_t size, size_t align, void **ptr) {
    test_provider_t *t = p;
    if (t->fail_alloc) {
        test_native_code = 42;
        return (umf_result_t)t->fail_alloc;
    }
    if (align & (align - 1)) // the wrapper passes every alignment (UMF's rule)
        return UMF_RESULT_ERROR_INVALID_ALIGNMENT;
    if (align < 64)
        align = 64;
    void *m = aligned_alloc(align, (size + align - 1) / align * align);
    if (!m)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    atomic_fetch_add(&t->allocs, 1);
    atomic_fetch_add(&t->live_bytes, size);
    *ptr = m;
    return UMF_RESULT_SUCCESS;
}
static umf_result_t tp_free(void *p, void *ptr, size_t size) {
    test_provider_t *t = p;
    atomic_fetch_add(&t->frees, 1);
    atomic_fetch_sub(&t->live_bytes, size);
    free(ptr);
    return UMF_RESULT_SUCCESS;
}
static void tp_err(void *p, const char **msg, int32_t *code) {
    (void)p;
    if (!msg || !code) // the wrapper passes NULL arguments (UMF's rule)
        return;
    *msg = "test provider failure";
    *code = test_native_code;
}
static umf_result_t tp_rps(void *p, size_t s, size_t *ps) {
    (void)p, (void)s;
    *ps = 4096;
    return UMF_RESULT_SUCCESS;
}
static umf_result_t tp_mps(void *p, void *ptr, size_t *ps) {
    (void)p, (void)ptr;
    *ps = 4096;
    return UMF_RESULT_SUCCESS;
}
static const char *tp_name(void *p) {
    (void)p;
    return "test";
}

static umf_memory_provider_ops_t test_provider_ops(void) {
    umf_memory_provider_ops_t ops;
    memset(&ops, 0, sizeof ops);
    ops.version = UMF_VERSION_CURRENT;
    ops.initialize = tp_init;
    ops.finalize = tp_fini;
    ops.alloc = tp_alloc;
    ops.free = tp_free;
    ops.get_last_native_error = tp_err;
    ops.get_recommended_page_size = tp_rps;
    ops.get_min_page_size = tp_mps;
    ops.get_name = tp_name;
    return ops;
}

#endif
