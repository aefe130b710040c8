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

static umf_memory_pool_handle_t fsdax_pool(const char *path) {
    umf_file_memory_provider_params_handle_t p = NULL;
    umf_memory_provider_handle_t prov = NULL;
    umf_memory_pool_handle_t pool = NULL;
    if (umfFileMemoryProviderParamsCreate(&p, path) != UMF_RESULT_SUCCESS)
        return NULL;
    // Shared: the stores reach the file (a DAX mapping is shared by nature).
    umf_result_t rc = umfFileMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED);
    if (rc == UMF_RESULT_SUCCESS)
        rc = umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &prov);
    umfFileMemoryProviderParamsDestroy(p);
    if (rc == UMF_RESULT_SUCCESS)
        rc = umfPoolCreate(umfDisjointPoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                           &pool);
    if (rc != UMF_RESULT_SUCCESS && prov)
        umfMemoryProviderDestroy(prov);
    return rc == UMF_RESULT_SUCCESS ? pool : NULL;
}

// The file's whole contents contain the n bytes of want.
static bool file_contains(const char *path, const void *want, size_t n) {
    struct stat st;
    int fd = open(path, O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    bool found = buf && pread(fd, buf, (size_t)st.st_size, 0) == st.st_size &&
                 memmem(buf, (size_t)st.st_size, want, n) != NULL;
    free(buf);
    close(fd);
    return found;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/umf_example_fsdax.%d", argv[1], (int)getpid());
    unsigned seed = (unsigned)getpid();
    printf("seed %u\n", seed);
    srand(seed);

    umf_memory_pool_handle_t dram = ex_os_pool(UMF_MEM_MAP_PRIVATE);
    ex_check(dram != NULL, "DRAM pool (OS provider, scalable pool)");
    umf_memory_pool_handle_t dax = fsdax_pool(path);
    ex_check(dax != NULL, "FS-DAX pool (file provider on %s, disjoint pool)", path);
    if (!dram || !dax) {
        if (dram)
            umfPoolDestroy(dram);
        if (dax)
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
    umf_result_t rc = umfPoolGetMemoryProvider(dax, &prov);
    const char *name = rc == UMF_RESULT_SUCCESS && prov ? umfMemoryProviderGetName(prov) : "";
    ex_check(strstr(name, "FILE") != NULL, "the FS-DAX pool's provider is the file provider (%s)",
             name);
    umfPoolDestroy(dax);
    umfPoolDestroy(dram);
    unlink(path);
    return ex_done();
}
