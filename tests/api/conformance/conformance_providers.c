// SPDX-License-Identifier: MIT
// The providers the conformance suite runs on, and the counting wrapper.
// Every provider is linked for real (no weak declarations): a provider
// that is missing fails to link, and one that cannot be created fails the
// test. The PROT_NONE provider is a user-defined one: any access to its
// memory faults, which proves that a pool never touches what it manages.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <umf/memory_provider_ops.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_fixed_memory.h>
#include <umf/providers/provider_os_memory.h>

#include "conformance.h"

#define FIXED_SIZE ((size_t)256 << 20)

// ---- counting wrapper ----------------------------------------------------------------

static umf_result_t c_init(void *params, void **out) {
    *out = params;
    return UMF_RESULT_SUCCESS;
}
static void c_fini(void *p) { (void)p; }
static umf_result_t c_alloc(void *p, size_t size, size_t align, void **ptr) {
    counting_t *c = p;
    umf_result_t r = umfMemoryProviderAlloc(c->inner, size, align, ptr);
    if (r == UMF_RESULT_SUCCESS) {
        size_t now = atomic_fetch_add(&c->live_bytes, size) + size;
        size_t peak = atomic_load(&c->peak_bytes);
        while (now > peak && !atomic_compare_exchange_weak(&c->peak_bytes, &peak, now))
            ;
        atomic_fetch_add(&c->live_ranges, 1);
        atomic_fetch_add(&c->allocs, 1);
    }
    return r;
}
static umf_result_t c_free(void *p, void *ptr, size_t size) {
    counting_t *c = p;
    umf_result_t r = umfMemoryProviderFree(c->inner, ptr, size);
    if (r == UMF_RESULT_SUCCESS) {
        atomic_fetch_sub(&c->live_bytes, size);
        atomic_fetch_sub(&c->live_ranges, 1);
        atomic_fetch_add(&c->frees, 1);
    }
    return r;
}
static void c_err(void *p, const char **msg, int32_t *code) {
    umfMemoryProviderGetLastNativeError(((counting_t *)p)->inner, msg, code);
}
static umf_result_t c_rps(void *p, size_t s, size_t *ps) {
    return umfMemoryProviderGetRecommendedPageSize(((counting_t *)p)->inner, s, ps);
}
static umf_result_t c_mps(void *p, void *ptr, size_t *ps) {
    return umfMemoryProviderGetMinPageSize(((counting_t *)p)->inner, ptr, ps);
}
static const char *c_name(void *p) { return umfMemoryProviderGetName(((counting_t *)p)->inner); }
static umf_result_t c_purge_lazy(void *p, void *ptr, size_t size) {
    return umfMemoryProviderPurgeLazy(((counting_t *)p)->inner, ptr, size);
}
static umf_result_t c_purge_force(void *p, void *ptr, size_t size) {
    return umfMemoryProviderPurgeForce(((counting_t *)p)->inner, ptr, size);
}
static umf_result_t c_merge(void *p, void *lo, void *hi, size_t total) {
    counting_t *c = p;
    umf_result_t r = umfMemoryProviderAllocationMerge(c->inner, lo, hi, total);
    if (r == UMF_RESULT_SUCCESS)
        atomic_fetch_sub(&c->live_ranges, 1);
    return r;
}
static umf_result_t c_split(void *p, void *ptr, size_t total, size_t first) {
    counting_t *c = p;
    umf_result_t r = umfMemoryProviderAllocationSplit(c->inner, ptr, total, first);
    if (r == UMF_RESULT_SUCCESS)
        atomic_fetch_add(&c->live_ranges, 1);
    return r;
}

umf_result_t counting_create(umf_memory_provider_handle_t inner, counting_t *c,
                             umf_memory_provider_handle_t *out) {
    memset(c, 0, sizeof *c);
    c->inner = inner;
    umf_memory_provider_ops_t ops;
    memset(&ops, 0, sizeof ops);
    ops.version = UMF_VERSION_CURRENT;
    ops.initialize = c_init;
    ops.finalize = c_fini;
    ops.alloc = c_alloc;
    ops.free = c_free;
    ops.get_last_native_error = c_err;
    ops.get_recommended_page_size = c_rps;
    ops.get_min_page_size = c_mps;
    ops.get_name = c_name;
    ops.ext.purge_lazy = c_purge_lazy;
    ops.ext.purge_force = c_purge_force;
    ops.ext.allocation_merge = c_merge;
    ops.ext.allocation_split = c_split;
    return umfMemoryProviderCreate(&ops, c, out);
}

// ---- PROT_NONE provider ----------------------------------------------------------------

static umf_result_t pn_init(void *params, void **out) {
    (void)params;
    *out = NULL;
    return UMF_RESULT_SUCCESS;
}
static void pn_fini(void *p) { (void)p; }
static size_t page(void) { return (size_t)sysconf(_SC_PAGESIZE); }
static umf_result_t pn_alloc(void *p, size_t size, size_t align, void **ptr) {
    (void)p;
    size_t ps = page();
    if (align < ps)
        align = ps;
    size_t len = (size + ps - 1) / ps * ps;
    char *m = mmap(NULL, len + align, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (m == MAP_FAILED)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    char *a = (char *)(((uintptr_t)m + align - 1) & ~(uintptr_t)(align - 1));
    if (a > m)
        munmap(m, (size_t)(a - m));
    if (a + len < m + len + align)
        munmap(a + len, (size_t)(m + len + align - (a + len)));
    *ptr = a;
    return UMF_RESULT_SUCCESS;
}
static umf_result_t pn_free(void *p, void *ptr, size_t size) {
    (void)p;
    size_t ps = page();
    if (!size)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    return munmap(ptr, (size + ps - 1) / ps * ps) == 0 ? UMF_RESULT_SUCCESS
                                                      : UMF_RESULT_ERROR_INVALID_ARGUMENT;
}
static void pn_err(void *p, const char **msg, int32_t *code) {
    (void)p;
    *msg = "protnone";
    *code = 0;
}
static umf_result_t pn_ps(void *p, size_t s, size_t *ps) {
    (void)p, (void)s;
    *ps = page();
    return UMF_RESULT_SUCCESS;
}
static umf_result_t pn_mps(void *p, void *ptr, size_t *ps) {
    (void)p, (void)ptr;
    *ps = page();
    return UMF_RESULT_SUCCESS;
}
static const char *pn_name(void *p) {
    (void)p;
    return "protnone";
}

// ---- the suite's providers ----------------------------------------------------------------

static void *fixed_buf;
static char file_path[64];

int conf_fixed_create(size_t size, void **buf, umf_memory_provider_handle_t *out) {
    void *b = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (b == MAP_FAILED)
        return -1;
    umf_fixed_memory_provider_params_handle_t fp;
    if (umfFixedMemoryProviderParamsCreate(&fp, b, size) != UMF_RESULT_SUCCESS)
        return -1;
    umf_result_t r = umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fp, out);
    umfFixedMemoryProviderParamsDestroy(fp);
    if (r != UMF_RESULT_SUCCESS) {
        munmap(b, size);
        return -1;
    }
    *buf = b;
    return 0;
}

void conf_fixed_destroy(void *buf, size_t size, umf_memory_provider_handle_t p) {
    umfMemoryProviderDestroy(p);
    munmap(buf, size);
}

int conf_provider_create(const char *name, umf_memory_provider_handle_t *out) {
    if (strcmp(name, "os") == 0) {
        umf_os_memory_provider_params_handle_t pp;
        if (umfOsMemoryProviderParamsCreate(&pp) != UMF_RESULT_SUCCESS)
            return -1;
        umf_result_t r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, out);
        umfOsMemoryProviderParamsDestroy(pp);
        return r == UMF_RESULT_SUCCESS ? 0 : -1;
    }
    if (strcmp(name, "fixed") == 0)
        return conf_fixed_create(FIXED_SIZE, &fixed_buf, out);
    if (strcmp(name, "file") == 0) {
        snprintf(file_path, sizeof file_path, "/tmp/hetmem_conf_XXXXXX");
        int fd = mkstemp(file_path);
        if (fd < 0)
            return -1;
        close(fd);
        umf_file_memory_provider_params_handle_t fp;
        if (umfFileMemoryProviderParamsCreate(&fp, file_path) != UMF_RESULT_SUCCESS)
            return -1;
        umf_result_t r = umfFileMemoryProviderParamsSetVisibility(fp, UMF_MEM_MAP_SHARED);
        if (r == UMF_RESULT_SUCCESS)
            r = umfMemoryProviderCreate(umfFileMemoryProviderOps(), fp, out);
        umfFileMemoryProviderParamsDestroy(fp);
        if (r != UMF_RESULT_SUCCESS)
            unlink(file_path);
        return r == UMF_RESULT_SUCCESS ? 0 : -1;
    }
    if (strcmp(name, "protnone") == 0) {
        umf_memory_provider_ops_t ops;
        memset(&ops, 0, sizeof ops);
        ops.version = UMF_VERSION_CURRENT;
        ops.initialize = pn_init;
        ops.finalize = pn_fini;
        ops.alloc = pn_alloc;
        ops.free = pn_free;
        ops.get_last_native_error = pn_err;
        ops.get_recommended_page_size = pn_ps;
        ops.get_min_page_size = pn_mps;
        ops.get_name = pn_name;
        return umfMemoryProviderCreate(&ops, NULL, out) == UMF_RESULT_SUCCESS ? 0 : -1;
    }
    fprintf(stderr, "unknown provider %s\n", name);
    return -1;
}

void conf_provider_destroy(const char *name, umf_memory_provider_handle_t p) {
    if (strcmp(name, "fixed") == 0) {
        conf_fixed_destroy(fixed_buf, FIXED_SIZE, p);
        return;
    }
    umfMemoryProviderDestroy(p);
    if (strcmp(name, "file") == 0)
        unlink(file_path);
}
