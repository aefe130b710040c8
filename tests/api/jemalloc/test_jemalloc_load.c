// SPDX-License-Identifier: MIT
// How the jemalloc pool behaves when libjemalloc cannot be loaded. ctest
// runs this program twice:
//   missing    HETMEM_JEMALLOC_LIBRARY names a file that does not exist:
//              umfPoolCreate must fail with DEPENDENCY_UNAVAILABLE, every
//              time, and leave nothing behind (the provider survives).
//   plain-tls  no GLIBC_TUNABLES: with hetmem's own jemalloc (built with
//              global-dynamic TLS) creation must succeed; with Debian's
//              libjemalloc.so.2, which needs more static TLS than glibc
//              reserves for dlopen, it may fail, cleanly with
//              DEPENDENCY_UNAVAILABLE, never a crash.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jemalloc_test_util.h"

static int check_failure_is_clean(umf_result_t want) {
    umf_memory_provider_handle_t prov;
    if (test_os_provider(&prov) != UMF_RESULT_SUCCESS)
        return 1;
    for (int i = 0; i < 2; i++) { // the load is tried once; the answer stays
        umf_memory_pool_handle_t pool = NULL;
        umf_result_t r = umfPoolCreate(umfJemallocPoolOps(), prov, NULL, 0, &pool);
        if (r != want || pool != NULL) {
            printf("FAIL: umfPoolCreate gave %d (want %d)\n", (int)r, (int)want);
            return 1;
        }
    }
    void *p = NULL; // the provider is intact
    if (umfMemoryProviderAlloc(prov, 4096, 0, &p) != UMF_RESULT_SUCCESS ||
        umfMemoryProviderFree(prov, p, 4096) != UMF_RESULT_SUCCESS)
        return 1;
    umfMemoryProviderDestroy(prov);
    char *m = malloc(64); // and so is the process's malloc
    if (!m)
        return 1;
    free(m);
    return 0;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    umf_result_t unavailable = HETMEM_TEST_JEMALLOC ? UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE
                                                    : UMF_RESULT_ERROR_NOT_SUPPORTED;
    if (!HETMEM_TEST_JEMALLOC) {
        // Built without jemalloc: both modes see the documented refusal
        // (NOT_SUPPORTED with the option off, DEPENDENCY_UNAVAILABLE
        // without the header).
        test_jemalloc_usable(); // exits 77 when the refusal is documented
        return 1;
    }
    if (strcmp(mode, "missing") == 0) {
        const char *lib = getenv("HETMEM_JEMALLOC_LIBRARY");
        if (!lib || !*lib) {
            printf("FAIL: run with HETMEM_JEMALLOC_LIBRARY=/nonexistent\n");
            return 1;
        }
        int rc = check_failure_is_clean(unavailable);
        printf("%s: library %s -> DEPENDENCY_UNAVAILABLE\n", rc ? "FAIL" : "ok", lib);
        return rc;
    }
    if (strcmp(mode, "plain-tls") == 0) {
        test_pool_t t;
        umf_result_t r = test_pool_create(&t, TP_OS, 0, NULL);
        if (r == UMF_RESULT_SUCCESS) {
            void *p = umfPoolMalloc(t.pool, 100);
            int bad = p == NULL || umfPoolByPtr(p) != t.pool;
            umfFree(p);
            test_pool_destroy(&t);
            printf("%s: libjemalloc loaded without a static TLS tunable (GLIBC_TUNABLES=%s)\n",
                   bad ? "FAIL" : "ok", getenv("GLIBC_TUNABLES") ? getenv("GLIBC_TUNABLES") : "");
            return bad;
        }
        if (r != UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE || HETMEM_TEST_JEMALLOC_PRIVATE) {
            printf("FAIL: umfPoolCreate gave %d%s\n", (int)r,
                   HETMEM_TEST_JEMALLOC_PRIVATE ? " with hetmem's own jemalloc" : "");
            return 1;
        }
        int rc = check_failure_is_clean(UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE);
        printf("%s: without GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096 the pool is "
               "unavailable (DEPENDENCY_UNAVAILABLE), cleanly\n",
               rc ? "FAIL" : "ok");
        return rc;
    }
    printf("usage: %s missing|plain-tls\n", argv[0]);
    return 2;
}
