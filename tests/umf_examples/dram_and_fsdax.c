// SPDX-License-Identifier: MIT
// UMF scenario "DRAM and FS-DAX": two pools side by side, one over the OS
// provider (DRAM) and one over the file provider on a file of a DAX file
// system (here any directory stands in: the file provider does the same
// calls). Data goes into both, umfPoolByPtr tells them apart, and what was
// written to the FS-DAX pool is in the file.
//
// Usage: dram_and_fsdax DIR   (a file is created in DIR)
#define _GNU_SOURCE // memmem
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_os_memory.h>

#include "ex_check.h"

static umf_memory_pool_handle_t dram_pool(void) {
    umf_os_memory_provider_params_handle_t p = NULL;
    umf_memory_provider_handle_t prov = NULL;
    umf_result_t rc = umfPoolGetMemoryProvider(dax, &prov);
    const char *name = rc == UMF_RESULT_SUCCESS && prov ? umfMemoryProviderGetName(prov) : "";
    ex_check(strstr(name, "FILE") != NULL, "the FS-DAX pool's provider is the file provider (%s)",
             name);
    umfPoolDestroy(dax);
        unlink(path);
        return ex_done();
    }

    enum { N = 3 };
    const size_t sizes[N] = {100, 8192, 1 << 20};
    for (int i = 0; i < N; i++) {
        unsigned char *want = malloc(sizes[i]);
        for (size_t j = 0; want && j < sizes[i]; j++)
            want[j] = (unsigned char)rand();
        unsigned char *d = umfPoolMalloc(dram, sizes[i]);
        unsigned char *x = umfPoolMalloc(dax, sizes[i]);
        ex_check(d && x && want, "%zu bytes from each pool", sizes[i]);
        if (!d || !x || !want) {
            umfFree(d);
            umfFree(x);
            free(want);
            continue;
        }
        memcpy(d, want, sizes[i]);
        memcpy(x, want, sizes[i]);
        ex_check(umfPoolByPtr(d) == dram && umfPoolByPtr(d + sizes[i] - 1) == dram,
                 "umfPoolByPtr: the DRAM block is DRAM's");
        ex_check(umfPoolByPtr(x) == dax && umfPoolByPtr(x + sizes[i] - 1) == dax,
                 "umfPoolByPtr: the FS-DAX block is FS-DAX's");
        ex_check(memcmp(d, want, sizes[i]) == 0 && memcmp(x, want, sizes[i]) == 0,
                 "both blocks read back (%zu bytes)", sizes[i]);
        ex_check(file_contains(path, want, sizes[i]),
                 "the FS-DAX block's %zu bytes are in the file", sizes[i]);
        // umfFree finds each pool by the pointer alone.
        ex_check(umfFree(d) == UMF_RESULT_SUCCESS && umfFree(x) == UMF_RESULT_SUCCESS,
                 "umfFree of both blocks");
        free(want);
    }
    umf_memory_provider_handle_t prov = NULL;
    ex_check(umfPoolGetMemoryProvider(dax, &prov) == UMF_RESULT_SUCCESS && prov &&
                 strstr(umfMemoryProviderGetName(prov), "FILE") != NULL,
             "the FS-DAX pool's provider is the file provider (%s)",
             prov ? umfMemoryProviderGetName(prov) : "none");
    umfPoolDestroy(dax);
    umfPoolDestroy(dram);
    unlink(path);
    return ex_done();
}
