// SPDX-License-Identifier: MIT
// The cost of one small malloc/free pair through the UMF API, as thread CPU
// time (docs/PERFORMANCE.md, "Cost of the free checks"). Made for a loaded
// machine: each repetition times the same windowed churn (16-512 B, 1000
// live slots, sizes from a fixed xorshift stream) on the thread's CPU
// clock, and the report is the fastest repetition, since other jobs can
// only add time. Usage: pair_cost [pool|umffree] [reps] [pairs per rep]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churn.h"

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#define SLOTS CHURN_SLOTS


int main(int argc, char **argv) {
    int use_umffree = argc > 1 && strcmp(argv[1], "umffree") == 0;
    int reps = argc > 2 ? atoi(argv[2]) : 50;
    long pairs = argc > 3 ? atol(argv[3]) : 2000000;
    umf_os_memory_provider_params_handle_t pp;
    umf_memory_provider_handle_t prov;
    umf_memory_pool_handle_t pool;
    if (umfOsMemoryProviderParamsCreate(&pp) != UMF_RESULT_SUCCESS ||
        umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &prov) != UMF_RESULT_SUCCESS ||
        umfPoolCreate(umfScalablePoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                      &pool) != UMF_RESULT_SUCCESS) {
        fprintf(stderr, "pool creation failed\n");
        return 1;
    }
    static void *slot[SLOTS];
    static uint16_t sizes[CHURN_SIZES];
    churn_sizes(sizes);
    for (unsigned i = 0; i < SLOTS; i++)
        slot[i] = umfPoolMalloc(pool, sizes[i]);
    double best = 1e300;
    unsigned k = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = churn_cpu_ns();
        for (long i = 0; i < pairs; i++) {
            unsigned s = (unsigned)(i % SLOTS);
            if (use_umffree)
                umfFree(slot[s]);
            else
                umfPoolFree(pool, slot[s]);
            slot[s] = umfPoolMalloc(pool, sizes[k++ & 0xffff]);
        }
        double t = churn_cpu_ns() - t0;
        if (t < best)
            best = t;
    }
    printf("%s %.3f ns/pair (fastest of %d x %ld)\n", use_umffree ? "umffree" : "pool",
           best / (double)pairs, reps, pairs);
    for (unsigned i = 0; i < SLOTS; i++)
        umfPoolFree(pool, slot[i]);
    umfPoolDestroy(pool);
    umfOsMemoryProviderParamsDestroy(pp);
    return 0;
}
