// SPDX-License-Identifier: MIT
// Helpers of the jemalloc pool tests: a counting provider (a user-defined
// provider that forwards to umfOsMemoryProviderOps and counts every byte
// that goes out and comes back), pools over the OS and the fixed provider,
// and the "is jemalloc expected to load here" switch.
#ifndef HETMEM_TEST_JEMALLOC_UTIL_H
#define HETMEM_TEST_JEMALLOC_UTIL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/memory_provider_ops.h>
#include <umf/pools/pool_jemalloc.h>
#include <umf/providers/provider_fixed_memory.h>
#include <umf/providers/provider_os_memory.h>

#include "test_skip.h"

// Set by CMake when hetmem was built with jemalloc support; then a pool
// that cannot be created is a failure, not a skip.
#ifndef HETMEM_TEST_JEMALLOC
#define HETMEM_TEST_JEMALLOC 0
#endif

#define ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TEST_SANITIZED 1
#else
#define TEST_SANITIZED 0
#endif

/// An OS provider with default params.
static inline umf_result_t test_os_provider(umf_memory_provider_handle_t *out) {
    umf_os_memory_provider_params_handle_t op = NULL;
    umf_result_t r = umfOsMemoryProviderParamsCreate(&op);
    if (r == UMF_RESULT_SUCCESS)
        r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), op, out);
    umfOsMemoryProviderParamsDestroy(op);
    return r;
}

// ---- the counting provider ------------------------------------------------------

typedef struct counting_t {
    umf_memory_provider_handle_t inner; // an OS provider, owned
    atomic_size_t allocs, frees, splits, merges;
    atomic_size_t bytes_out, bytes_back;
} counting_t;

static umf_result_t cnt_init(void *params, void **out) {
    counting_t *c = params;
    if (!c)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    umf_result_t r = test_os_provider(&c->inner);
    if (r == UMF_RESULT_SUCCESS)
        *out = c;
    return r;
}
static void cnt_fini(void *p) { umfMemoryProviderDestroy(((counting_t *)p)->inner); }
static umf_result_t cnt_alloc(void *p, size_t size, size_t align, void **ptr) {
    counting_t *c = p;
    umf_result_t r = umfMemoryProviderAlloc(c->inner, size, align, ptr);
    if (r == UMF_RESULT_SUCCESS) {
        atomic_fetch_add(&c->allocs, 1);
        atomic_fetch_add(&c->bytes_out, size);
    }
    return r;
}
static umf_result_t cnt_free(void *p, void *ptr, size_t size) {
    counting_t *c = p;
    umf_result_t r = umfMemoryProviderFree(c->inner, ptr, size);
    if (r == UMF_RESULT_SUCCESS) {
        atomic_fetch_add(&c->frees, 1);
        atomic_fetch_add(&c->bytes_back, size);
    }
    return r;
}
static void cnt_err(void *p, const char **msg, int32_t *code) {
    umfMemoryProviderGetLastNativeError(((counting_t *)p)->inner, msg, code);
}
static umf_result_t cnt_rps(void *p, size_t s, size_t *ps) {
    return umfMemoryProviderGetRecommendedPageSize(((counting_t *)p)->inner, s, ps);
}
static umf_result_t cnt_mps(void *p, void *ptr, size_t *ps) {
    return umfMemoryProviderGetMinPageSize(((counting_t *)p)->inner, ptr, ps);
}
static const char *cnt_name(void *p) {
    (void)p;
    return "counting";
}
static umf_result_t cnt_purge_lazy(void *p, void *ptr, size_t size) {
    return umfMemoryProviderPurgeLazy(((counting_t *)p)->inner, ptr, size);
}
static umf_result_t cnt_purge_force(void *p, void *ptr, size_t size) {
    return umfMemoryProviderPurgeForce(((counting_t *)p)->inner, ptr, size);
}
static umf_result_t cnt_merge(void *p, void *lo, void *hi, size_t total) {
    counting_t *c = p;
    umf_result_t r = umfMemoryProviderAllocationMerge(c->inner, lo, hi, total);
    if (r == UMF_RESULT_SUCCESS)
        atomic_fetch_add(&c->merges, 1);
    return r;
}
static umf_result_t cnt_split(void *p, void *ptr, size_t total, size_t first) {
    counting_t *c = p;
    umf_result_t r = umfMemoryProviderAllocationSplit(c->inner, ptr, total, first);
    if (r == UMF_RESULT_SUCCESS)
        atomic_fetch_add(&c->splits, 1);
    return r;
}

static inline umf_memory_provider_ops_t counting_ops(void) {
    umf_memory_provider_ops_t ops;
    memset(&ops, 0, sizeof ops);
    ops.version = UMF_VERSION_CURRENT;
    ops.initialize = cnt_init;
    ops.finalize = cnt_fini;
    ops.alloc = cnt_alloc;
    ops.free = cnt_free;
    ops.get_last_native_error = cnt_err;
    ops.get_recommended_page_size = cnt_rps;
    ops.get_min_page_size = cnt_mps;
    ops.get_name = cnt_name;
    ops.ext.purge_lazy = cnt_purge_lazy;
    ops.ext.purge_force = cnt_purge_force;
    ops.ext.allocation_merge = cnt_merge;
    ops.ext.allocation_split = cnt_split;
    return ops;
}

// ---- pools over the OS and the fixed provider -------------------------------------

typedef enum test_provider_kind_t { TP_OS, TP_FIXED } test_provider_kind_t;

typedef struct test_pool_t {
    umf_memory_provider_handle_t provider;
    umf_memory_pool_handle_t pool;
    void *buf; // the fixed provider's buffer (an anonymous mapping)
    size_t buf_size;
} test_pool_t;

/// Creates provider + jemalloc pool (OWN_PROVIDER). buf_size only for TP_FIXED.
/// Returns the result of umfPoolCreate (or of the provider's creation).
static inline umf_result_t test_pool_create(test_pool_t *t, test_provider_kind_t kind,
                                            size_t buf_size, void *pool_params) {
    memset(t, 0, sizeof *t);
    umf_result_t r;
    if (kind == TP_OS) {
        r = test_os_provider(&t->provider);
    } else {
        t->buf = mmap(NULL, buf_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (t->buf == MAP_FAILED)
            return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        t->buf_size = buf_size;
        umf_fixed_memory_provider_params_handle_t fp = NULL;
        r = umfFixedMemoryProviderParamsCreate(&fp, t->buf, buf_size);
        if (r == UMF_RESULT_SUCCESS)
            r = umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fp, &t->provider);
        umfFixedMemoryProviderParamsDestroy(fp);
    }
    if (r != UMF_RESULT_SUCCESS)
        return r;
    r = umfPoolCreate(umfJemallocPoolOps(), t->provider, pool_params,
                      UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &t->pool);
    if (r != UMF_RESULT_SUCCESS) {
        umfMemoryProviderDestroy(t->provider);
        t->provider = NULL;
    }
    return r;
}

static inline void test_pool_destroy(test_pool_t *t) {
    umfPoolDestroy(t->pool); // destroys the provider too
    if (t->buf)
        munmap(t->buf, t->buf_size);
    memset(t, 0, sizeof *t);
}

/// For a test binary's main: when jemalloc is not expected (built without
/// it), checks that pool creation fails as documented and skips (77; a
/// failure under HETMEM_REQUIRE_ALL=1, tests/test_skip.h);
/// when it is expected but cannot load, reports why and returns false.
static inline bool test_jemalloc_usable(void) {
    test_pool_t t;
    umf_result_t r = test_pool_create(&t, TP_OS, 0, NULL);
    if (r == UMF_RESULT_SUCCESS) {
        test_pool_destroy(&t);
        return true;
    }
    if (!HETMEM_TEST_JEMALLOC) {
        bool documented = r == UMF_RESULT_ERROR_NOT_SUPPORTED ||
                          r == UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE;
        if (!documented) {
            printf("FAIL: hetmem built without jemalloc; umfPoolCreate gave %d, not "
                   "NOT_SUPPORTED or DEPENDENCY_UNAVAILABLE\n",
                   (int)r);
            fflush(stdout);
            _Exit(1);
        }
        // 77, or a failure under HETMEM_REQUIRE_ALL=1 (CI installs libjemalloc-dev)
        test_skip_exit("hetmem built without jemalloc (HETMEM_WITH_JEMALLOC off or no "
                       "jemalloc.h); umfPoolCreate gave %d as documented",
                       (int)r);
    }
    printf("FAIL: jemalloc pool cannot be created: %d (HETMEM_LOG=info tells why; "
           "GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096 is needed for Debian's "
           "libjemalloc)\n",
           (int)r);
    return false;
}

#endif // HETMEM_TEST_JEMALLOC_UTIL_H
