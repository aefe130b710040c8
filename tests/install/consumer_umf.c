/* SPDX-License-Identifier: MIT
 * A UMF program built through the installed CMake package (find_package(umf)). */
#include <stdio.h>
#include <string.h>

#include <umf/memory_pool.h>
#include <umf/pools/pool_jemalloc.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

// argv[1] "jemalloc": the jemalloc pool, in this default process (no
// GLIBC_TUNABLES), through the installed libhetmem-jemalloc.so.2.
int main(int argc, char **argv) {
    umf_os_memory_provider_params_handle_t pp;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    if (umfOsMemoryProviderParamsCreate(&pp) ||
        umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &prov) ||
        umfPoolCreate(argc > 1 && !strcmp(argv[1], "jemalloc") ? umfJemallocPoolOps()
                                                               : umfScalablePoolOps(),
                      prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool)) {
        printf("FAIL: pool creation\n");
        return 1;
    }
    umfOsMemoryProviderParamsDestroy(pp);
    char *p = umfPoolMalloc(pool, 100);
    if (!p || umfPoolByPtr(p) != pool) {
        printf("FAIL: allocation\n");
        return 1;
    }
    memset(p, 1, 100);
    umfFree(p);
    umfPoolDestroy(pool);
    return 0;
}
