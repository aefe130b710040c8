// SPDX-License-Identifier: MIT
// A UMF 0.11 program for the ABI test (run-umf-abi-test): built against a
// stub libumf.so.0 with UMF's version nodes, run on hetmem's. It uses
// functions of both nodes (UMF_0.10: the OS provider, pools, umfPoolByPtr;
// UMF_0.11: the fixed provider, pool tags) and checks their answers.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <umf.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_fixed_memory.h>
#include <umf/providers/provider_os_memory.h>

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "umf_program: FAILED %s (line %d)\n", #c, __LINE__);                   \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

static int os_disjoint(void) {
    umf_os_memory_provider_params_handle_t pp;
    CHECK(umfOsMemoryProviderParamsCreate(&pp) == UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t prov;
    CHECK(umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &prov) == UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(pp);
    umf_disjoint_pool_params_handle_t dp;
    CHECK(umfDisjointPoolParamsCreate(&dp) == UMF_RESULT_SUCCESS);
    umf_memory_pool_handle_t pool;
    CHECK(umfPoolCreate(umfDisjointPoolOps(), prov, dp, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool) ==
          UMF_RESULT_SUCCESS);
    umfDisjointPoolParamsDestroy(dp);
    char *p = umfPoolMalloc(pool, 1000);
    CHECK(p != NULL);
    memset(p, 0x5a, 1000);
    CHECK(umfPoolByPtr(p + 999) == pool);
    int tag = 7;
    void *old = &tag;
    CHECK(umfPoolSetTag(pool, &tag, &old) == UMF_RESULT_SUCCESS && old == NULL);
    void *got = NULL;
    CHECK(umfPoolGetTag(pool, &got) == UMF_RESULT_SUCCESS && got == &tag);
    CHECK(umfFree(p) == UMF_RESULT_SUCCESS);
    umfPoolDestroy(pool);
    printf("ok - OS provider, disjoint pool, umfPoolByPtr, pool tags\n");
    return 0;
}

static int fixed_scalable(void) {
    static char buf[4 << 20] __attribute__((aligned(4096)));
    umf_fixed_memory_provider_params_handle_t fp;
    CHECK(umfFixedMemoryProviderParamsCreate(&fp, buf, sizeof buf) == UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t prov;
    CHECK(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fp, &prov) == UMF_RESULT_SUCCESS);
    umfFixedMemoryProviderParamsDestroy(fp);
    umf_memory_pool_handle_t pool;
    CHECK(umfPoolCreate(umfScalablePoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool) ==
          UMF_RESULT_SUCCESS);
    char *p = umfPoolMalloc(pool, 4096);
    CHECK(p != NULL && p >= buf && p + 4096 <= buf + sizeof buf);
    CHECK(umfPoolFree(pool, p) == UMF_RESULT_SUCCESS);
    umfPoolDestroy(pool);
    printf("ok - fixed provider, scalable pool: the block lies in the buffer\n");
    return 0;
}

int main(void) {
    CHECK(umfGetCurrentVersion() == UMF_VERSION_CURRENT);
    return os_disjoint() || fixed_scalable();
}
