// SPDX-License-Identifier: MIT
// Example: an OS memory provider bound to one NUMA node (e.g. the HBM-like
// node of the emulated tiers3 machine), a pool on it, and a check of where
// the pool's pages really are (move_pages(2)).
//
//   umf_numa_bind NODE [MIB]      default 8 MiB
//
// Build against an installed hetmem:
//   cc umf_numa_bind.c $(pkg-config --cflags --libs umf) -lnuma
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <umf.h>
#include <umf/pools/pool_proxy.h>
#include <umf/providers/provider_os_memory.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s NODE [MIB]\n", argv[0]);
        return 2;
    }
    unsigned node = (unsigned)strtoul(argv[1], NULL, 10);
    size_t size = (argc > 2 ? strtoul(argv[2], NULL, 10) : 8) << 20;

    // 1. A provider: OS memory bound to `node`.
    umf_os_memory_provider_params_handle_t params;
    umf_memory_provider_handle_t provider;
    if (umfOsMemoryProviderParamsCreate(&params) != UMF_RESULT_SUCCESS)
        return 1;
    umfOsMemoryProviderParamsSetNumaList(params, &node, 1);
    umfOsMemoryProviderParamsSetNumaMode(params, UMF_NUMA_MODE_BIND);
    umf_result_t r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), params, &provider);
    umfOsMemoryProviderParamsDestroy(params);
    if (r != UMF_RESULT_SUCCESS) {
        fprintf(stderr, "cannot create an OS provider bound to node %u (error %d)\n", node, r);
        return 1;
    }

    // 2. A pool on it (the pool owns the provider from now on).
    umf_memory_pool_handle_t pool;
    r = umfPoolCreate(umfProxyPoolOps(), provider, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool);
    if (r != UMF_RESULT_SUCCESS) {
        umfMemoryProviderDestroy(provider);
        return 1;
    }

    // 3. Allocate and touch. (MADV_NOHUGEPAGE only so that pages are counted
    // one by one; it is not needed for placement.)
    char *buf = umfPoolMalloc(pool, size);
    if (!buf) {
        fprintf(stderr, "allocation of %zu bytes failed (error %d)\n", size,
                umfPoolGetLastAllocationError(pool));
        umfPoolDestroy(pool);
        return 1;
    }
    madvise(buf, size, MADV_NOHUGEPAGE);
    memset(buf, 0x5a, size);

    // 4. Where did the pages land?
    long psz = sysconf(_SC_PAGESIZE);
    size_t npages = size / (size_t)psz;
    void **pages = calloc(npages, sizeof *pages);
    int *status = calloc(npages, sizeof *status);
    for (size_t i = 0; i < npages; i++)
        pages[i] = buf + i * (size_t)psz;
    int counts[64] = {0}, elsewhere = 0;
    if (move_pages(0, npages, pages, NULL, status, 0) != 0) {
        perror("move_pages");
        return 1;
    }
    for (size_t i = 0; i < npages; i++) {
        if (status[i] >= 0 && status[i] < 64)
            counts[status[i]]++;
        else
            elsewhere++;
    }
    printf("umf_numa_bind: %zu MiB from a pool bound to node %u (pool is %s)\n", size >> 20,
           node, umfPoolByPtr(buf) == pool ? "found by umfPoolByPtr" : "NOT FOUND");
    int ok = elsewhere == 0 && counts[node] == (int)npages;
    for (int n = 0; n < 64; n++)
        if (counts[n])
            printf("  node %d: %d pages\n", n, counts[n]);
    printf("  => %s\n", ok ? "all pages on the requested node" : "MISPLACED pages");
    umfFree(buf);
    umfPoolDestroy(pool);
    free(pages);
    free(status);
    return ok ? 0 : 1;
}
