/* SPDX-License-Identifier: MIT
 * A UMF program built through the installed CMake package (find_package(umf)). */
#include <stdio.h>
#include <string.h>

#include <umf/memory_pool.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

int main(void) {
    umf_os_memory_provider_params_handle_t pp;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    if (umfOsMemoryProviderParamsCreate(&pp) ||
        umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &prov) ||
        umfPoolCreate(umfScalablePoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool)) {
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
