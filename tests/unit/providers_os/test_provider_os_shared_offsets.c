// SPDX-License-Identifier: MIT
// The constraints any bookkeeping of the OS provider's shared backing must
// keep (docs/providers-pools.md, "The OS provider"): file offsets of freed
// memory are never handed out again (an IPC opener may still map them, and
// their shared NUMA policy must not reach a new allocation), each checked
// three ways (the kernel's /proc/self/maps, the IPC describe hook, the
// provider's lookup); and purge returns memory (RSS and file blocks fall,
// counted in pages).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "os/os.h"
#include "providers/provider_os.h"
#include "test_seed.h"

#define RW (UMF_PROTECTION_READ | UMF_PROTECTION_WRITE)
#define ROUNDS 48

static umf_memory_provider_handle_t create_shared(void) {
    umf_os_memory_provider_params_handle_t p;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetProtection(p, RW), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(p);
    return h;
}

// The line of /proc/self/maps (or the smaps entry) holding p: its file
// offset of p, and the Rss of that mapping in KiB (smaps only).
typedef struct vma_t {
    uint64_t off;
    long rss_kib;
    char path[128];
} vma_t;

static vma_t vma_of(const void *p, bool smaps) {
    FILE *f = fopen(smaps ? "/proc/self/smaps" : "/proc/self/maps", "r");
    assert_non_null(f);
    char line[4352];
    vma_t v = {.off = UINT64_MAX, .rss_kib = -1};
    bool in = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        unsigned long long off;
        char path[128] = "";
        int n = sscanf(line, "%lx-%lx %*s %llx %*s %*s %127s", &lo, &hi, &off, path);
        if (n >= 3 && strchr(line, '-') < strchr(line, ' ')) {
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
            if (in) {
                v.off = off + ((uintptr_t)p - lo);
                snprintf(v.path, sizeof v.path, "%s", path);
            }
        } else if (in && sscanf(line, "Rss: %ld kB", &v.rss_kib) == 1) {
            in = false;
        }
    }
    fclose(f);
    assert_true(v.off != UINT64_MAX);
    return v;
}

// Allocate, free, allocate... with sizes from a seeded sequence: every new
// block's file offset range is disjoint from all earlier ones, though each
// would fit in the space freed before it.
static void offsets_never_reused(void **state) {
    (void)state;
    size_t ps = os_page_size();
    unsigned seed = (unsigned)test_seed_base("test_provider_os_shared_offsets");
    umf_memory_provider_handle_t h = create_shared();
    uint64_t lo[ROUNDS], hi[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        size_t len = (size_t)(1 + rand_r(&seed) % 4) * ps;
        char *m = NULL;
        assert_int_equal(umfMemoryProviderAlloc(h, len, 0, (void **)&m), UMF_RESULT_SUCCESS);
        memset(m, i, len);
        vma_t v = vma_of(m, false);
        assert_non_null(strstr(v.path, "/memfd:hetmem_os_provider")); // the shared backing
        provider_ipc_desc_t d;
        assert_int_equal(provider_os_ipc_hooks.describe(h->priv, m, len, &d), UMF_RESULT_SUCCESS);
        provider_os_shared_ref_t ref;
        assert_int_equal(provider_os_shared_lookup(h->priv, m, &ref), UMF_RESULT_SUCCESS);
        assert_true(d.off == v.off && ref.off == v.off); // the three views agree
        lo[i] = v.off;
        hi[i] = v.off + len;
        for (int j = 0; j < i; j++)
            if (lo[i] < hi[j] && lo[j] < hi[i])
                fail_msg("round %d: offsets [%llu, %llu) reuse round %d's [%llu, %llu)", i,
                         (unsigned long long)lo[i], (unsigned long long)hi[i], j,
                         (unsigned long long)lo[j], (unsigned long long)hi[j]);
        assert_int_equal(umfMemoryProviderFree(h, m, len), UMF_RESULT_SUCCESS);
    }
    umfMemoryProviderDestroy(h);
}

// 64 pages written: the mapping's Rss and the file's blocks are 64 pages;
// purging 48 leaves 16 (both numbers), the rest of the data intact; a free
// gives the file's pages back too.
static void purge_returns_pages(void **state) {
    (void)state;
    size_t ps = os_page_size();
    long page_kib = (long)(ps / 1024);
    umf_memory_provider_handle_t h = create_shared();
    char *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 64 * ps, 0, (void **)&m), UMF_RESULT_SUCCESS);
    (void)os_madvise(m, 64 * ps, OS_ADV_NOHUGEPAGE);
    memset(m, 5, 64 * ps);
    provider_os_shared_ref_t ref;
    assert_int_equal(provider_os_shared_lookup(h->priv, m, &ref), UMF_RESULT_SUCCESS);
    struct stat st;
    assert_int_equal(fstat(ref.fd, &st), 0);
    assert_int_equal((long)st.st_blocks * 512, 64 * (long)ps);
    assert_int_equal(vma_of(m, true).rss_kib, 64 * page_kib);

    assert_int_equal(umfMemoryProviderPurgeForce(h, m + 8 * ps, 48 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(fstat(ref.fd, &st), 0);
    assert_int_equal((long)st.st_blocks * 512, 16 * (long)ps);
    assert_int_equal(vma_of(m, true).rss_kib, 16 * page_kib);
    assert_int_equal(m[8 * ps - 1], 5);
    assert_int_equal(m[56 * ps], 5);

    assert_int_equal(umfMemoryProviderFree(h, m, 64 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(fstat(ref.fd, &st), 0);
    assert_int_equal(st.st_blocks, 0);
    umfMemoryProviderDestroy(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offsets_never_reused),
        cmocka_unit_test(purge_returns_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
