// SPDX-License-Identifier: MIT
// UMF scenario "basic": an OS memory provider under a scalable pool;
// malloc, calloc, realloc and free through the pool, umfPoolByPtr finds the
// pool of each pointer, and the bytes written are the bytes read.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#include "ex_check.h"

int main(void) {
    umf_os_memory_provider_params_handle_t params = NULL;
    umf_memory_provider_handle_t provider = NULL;
    umf_memory_pool_handle_t pool = NULL;

    umf_result_t rc = umfOsMemoryProviderParamsCreate(&params);
    ex_check(rc == UMF_RESULT_SUCCESS, "umfOsMemoryProviderParamsCreate: %d", rc);
    if (rc)
        return ex_done();
    rc = umfMemoryProviderCreate(umfOsMemoryProviderOps(), params, &provider);
    umfOsMemoryProviderParamsDestroy(params);
    ex_check(rc == UMF_RESULT_SUCCESS && provider, "OS provider created: %d", rc);
    if (rc)
        return ex_done();
    rc = umfPoolCreate(umfScalablePoolOps(), provider, NULL, 0, &pool);
    ex_check(rc == UMF_RESULT_SUCCESS && pool, "scalable pool created: %d", rc);
    if (rc) {
        umfMemoryProviderDestroy(provider);
        return ex_done();
    }

    // A string written into pool memory reads back.
    const char *msg = "Hello from hetmem's UMF";
    char *s = umfPoolMalloc(pool, 64);
    ex_check(s != NULL, "umfPoolMalloc(64)");
    if (s) {
        strcpy(s, msg);
        ex_check(strcmp(s, msg) == 0, "string reads back");
        ex_check(umfPoolByPtr(s) == pool, "umfPoolByPtr(string) is the pool");
        ex_check(umfPoolByPtr(s + 63) == pool, "umfPoolByPtr(last byte) is the pool");
    }

    // calloc gives zeros even over memory the pool reused.
    uint32_t *z = umfPoolCalloc(pool, 1000, sizeof *z);
    ex_check(z != NULL, "umfPoolCalloc(1000, 4)");
    size_t nonzero = 0;
    for (size_t i = 0; z && i < 1000; i++)
        nonzero += z[i] != 0;
    ex_check(z && nonzero == 0, "calloc'd words that are not zero: %zu", nonzero);

    // realloc keeps the contents when it grows the block.
    for (size_t i = 0; z && i < 1000; i++)
        z[i] = (uint32_t)(i * 2654435761u);
    uint32_t *g = z ? umfPoolRealloc(pool, z, 1000000 * sizeof *g) : NULL;
    size_t bad = 0;
    for (size_t i = 0; g && i < 1000; i++)
        bad += g[i] != (uint32_t)(i * 2654435761u);
    ex_check(g && bad == 0, "realloc to 4 MB kept the first 1000 words (%zu differ)", bad);
    if (g) {
        g[999999] = 0xfeedface;
        ex_check(umfPoolByPtr(g + 999999) == pool, "umfPoolByPtr(end of grown block) is the pool");
        ex_check(umfPoolMallocUsableSize(pool, g) >= 1000000 * sizeof *g,
                 "usable size %zu >= 4000000", umfPoolMallocUsableSize(pool, g));
    }

    // Memory not from any pool belongs to none.
    int on_stack = 0;
    char *heap = malloc(16);
    ex_check(umfPoolByPtr(&on_stack) == NULL, "umfPoolByPtr(stack) is NULL");
    ex_check(umfPoolByPtr(heap) == NULL, "umfPoolByPtr(malloc) is NULL");
    free(heap);

    ex_check(umfFree(s) == UMF_RESULT_SUCCESS, "umfFree(string)");
    ex_check(umfPoolFree(pool, g) == UMF_RESULT_SUCCESS, "umfPoolFree(grown block)");
    umf_memory_provider_handle_t got = NULL;
    ex_check(umfPoolGetMemoryProvider(pool, &got) == UMF_RESULT_SUCCESS && got == provider,
             "umfPoolGetMemoryProvider gives the provider");
    umfPoolDestroy(pool);
    umfMemoryProviderDestroy(provider);
    return ex_done();
}
