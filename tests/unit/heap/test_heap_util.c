// SPDX-License-Identifier: MIT
// Helpers of the heap engine tests (test_heap_util.h).
#include <stdlib.h>
#include <string.h>

#include <umf/memory_provider_ops.h>
#include <umf/providers/provider_os_memory.h>

#include "test_heap_util.h"

static umf_result_t t_init(void *params, void **out) {
    *out = params;
    return UMF_RESULT_SUCCESS;
}
static void t_fini(void *p) { (void)p; }
static umf_result_t t_alloc(void *p, size_t size, size_t align, void **ptr) {
    tp_t *t = p;
    umf_result_t r = UMF_RESULT_SUCCESS;
    if (t->inner) {
        r = umfMemoryProviderAlloc(t->inner, size, align, ptr);
    } else {
        (void)align; // deliberately ignored
        *ptr = malloc(size);
        if (!*ptr)
            r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    if (r == UMF_RESULT_SUCCESS) {
        atomic_fetch_add(&t->allocs, 1);
        atomic_fetch_add(&t->live_bytes, size);
    }
    return r;
}
static umf_result_t t_free(void *p, void *ptr, size_t size) {
    tp_t *t = p;
    umf_result_t r = UMF_RESULT_SUCCESS;
    int f = atomic_load(&t->fail_frees);
    if (f > 0 && atomic_compare_exchange_strong(&t->fail_frees, &f, f - 1))
        return UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC;
    if (t->inner)
        r = umfMemoryProviderFree(t->inner, ptr, size);
    else
        free(ptr);
    if (r == UMF_RESULT_SUCCESS) {
        atomic_fetch_add(&t->frees, 1);
        atomic_fetch_sub(&t->live_bytes, size);
    }
    return r;
}
static void t_err(void *p, const char **m, int32_t *c) {
    (void)p;
    *m = "test";
    *c = 0;
}
static umf_result_t t_ps(void *p, size_t s, size_t *ps) {
    (void)p, (void)s;
    *ps = 4096;
    return UMF_RESULT_SUCCESS;
}
static umf_result_t t_mps(void *p, void *ptr, size_t *ps) {
    tp_t *t = p;
    if (!t->inner) {
        *ps = 1; // a malloc provider has no page size to speak of
        return UMF_RESULT_SUCCESS;
    }
    return umfMemoryProviderGetMinPageSize(t->inner, ptr, ps);
}
static const char *t_name(void *p) {
    tp_t *t = p;
    return t->inner ? "test-counting" : "test-malloc";
}
static umf_result_t t_purge(void *p, void *ptr, size_t size) {
    tp_t *t = p;
    atomic_fetch_add(&t->purges, 1);
    return t->inner ? umfMemoryProviderPurgeLazy(t->inner, ptr, size)
                    : UMF_RESULT_ERROR_NOT_SUPPORTED;
}

umf_memory_provider_handle_t tp_create(tp_t *t, umf_memory_provider_handle_t inner) {
    memset(t, 0, sizeof *t);
    t->inner = inner;
    umf_memory_provider_ops_t ops;
    memset(&ops, 0, sizeof ops);
    ops.version = UMF_VERSION_CURRENT;
    ops.initialize = t_init;
    ops.finalize = t_fini;
    ops.alloc = t_alloc;
    ops.free = t_free;
    ops.get_last_native_error = t_err;
    ops.get_recommended_page_size = t_ps;
    ops.get_min_page_size = t_mps;
    ops.get_name = t_name;
    if (inner)
        ops.ext.purge_lazy = t_purge;
    umf_memory_provider_handle_t h = NULL;
    umfMemoryProviderCreate(&ops, t, &h);
    return h;
}

umf_memory_provider_handle_t tp_os(void) {
    umf_os_memory_provider_params_handle_t pp;
    umf_memory_provider_handle_t h = NULL;
    if (umfOsMemoryProviderParamsCreate(&pp) != UMF_RESULT_SUCCESS)
        return NULL;
    umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &h);
    umfOsMemoryProviderParamsDestroy(pp);
    return h;
}
