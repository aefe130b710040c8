// SPDX-License-Identifier: MIT
// UMF scenario "custom file provider": the program defines its own memory
// provider (a umf_memory_provider_ops_t) that maps a file and hands out
// pieces of it with a bump allocator, and puts a disjoint pool on it. The
// data written through the pool must be in the file, at the offset the
// provider gave, and stay there after the pool is gone.
//
// Usage: custom_file_provider DIR   (the file is created in DIR)
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/memory_provider_ops.h>
#include <umf/pools/pool_disjoint.h>

#include "ex_check.h"

#define FILE_CAPACITY (64u << 20)

typedef struct file_params_t {
    const char *path;
} file_params_t;

typedef struct file_provider_t {
    int fd;
    char *base;
    size_t used;     // bump pointer
    size_t live;     // allocations not freed
    unsigned allocs; // calls of alloc that succeeded
    int last_errno;
} file_provider_t;

static int finalized; // set by file_finalize: the pool destroyed its provider
static char *g_base;  // where the provider mapped the file (the program's own record)

static umf_result_t file_initialize(void *params, void **out) {
    const file_params_t *p = params;
    if (!p || !p->path || !out)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    file_provider_t *fp = calloc(1, sizeof *fp);
    if (!fp)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    fp->fd = open(p->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fp->fd < 0 || ftruncate(fp->fd, FILE_CAPACITY) != 0) {
        if (fp->fd >= 0)
            close(fp->fd);
        free(fp);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    fp->base = mmap(NULL, FILE_CAPACITY, PROT_READ | PROT_WRITE, MAP_SHARED, fp->fd, 0);
    if (fp->base == MAP_FAILED) {
        close(fp->fd);
        free(fp);
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    }
    g_base = fp->base;
    *out = fp;
    return UMF_RESULT_SUCCESS;
}

static void file_finalize(void *provider) {
    file_provider_t *fp = provider;
    munmap(fp->base, FILE_CAPACITY);
    close(fp->fd);
    free(fp);
    finalized++;
}

static umf_result_t file_alloc(void *provider, size_t size, size_t alignment, void **ptr) {
    file_provider_t *fp = provider;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (alignment == 0)
        alignment = page;
    if (!ptr || (alignment & (alignment - 1)))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    size_t start = (fp->used + alignment - 1) & ~(alignment - 1);
    size_t len = (size + page - 1) & ~(page - 1);
    if (size == 0 || start > FILE_CAPACITY || len > FILE_CAPACITY - start) {
        fp->last_errno = 28; // ENOSPC, reported as the native error
        *ptr = NULL;
        return UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC;
    }
    fp->used = start + len;
    fp->live++;
    fp->allocs++;
    *ptr = fp->base + start;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t file_free(void *provider, void *ptr, size_t size) {
    file_provider_t *fp = provider;
    (void)size;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    if ((char *)ptr < fp->base || (char *)ptr >= fp->base + FILE_CAPACITY)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    if (--fp->live == 0)
        fp->used = 0; // all returned: the file is reused from its start
    return UMF_RESULT_SUCCESS;
}

static void file_last_error(void *provider, const char **msg, int32_t *err) {
    file_provider_t *fp = provider;
    if (msg)
        *msg = "file is full";
    if (err)
        *err = fp->last_errno;
}

static umf_result_t file_page_size(void *provider, size_t size, size_t *page) {
    (void)provider;
    (void)size;
    *page = (size_t)sysconf(_SC_PAGESIZE);
    return UMF_RESULT_SUCCESS;
}

static umf_result_t file_min_page_size(void *provider, void *ptr, size_t *page) {
    (void)ptr;
    return file_page_size(provider, 0, page);
}

static const char *file_name(void *provider) {
    (void)provider;
    return "example_file_provider";
}

static umf_memory_provider_ops_t file_ops = {
    .version = UMF_PROVIDER_OPS_VERSION_CURRENT,
    .initialize = file_initialize,
    .finalize = file_finalize,
    .alloc = file_alloc,
    .free = file_free,
    .get_last_native_error = file_last_error,
    .get_recommended_page_size = file_page_size,
    .get_min_page_size = file_min_page_size,
    .get_name = file_name,
};

// The file's bytes at off equal want (read with pread, not through the map).
static bool file_has(const char *path, size_t off, const unsigned char *want, size_t n) {
    unsigned char *buf = malloc(n);
    int fd = open(path, O_RDONLY);
    bool same = buf && fd >= 0 && pread(fd, buf, n, (off_t)off) == (ssize_t)n &&
                memcmp(buf, want, n) == 0;
    if (fd >= 0)
        close(fd);
    free(buf);
    return same;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/umf_example_file_provider.%d", argv[1], (int)getpid());
    unsigned seed = (unsigned)getpid();
    printf("seed %u\n", seed);
    srand(seed);

    file_params_t params = {.path = path};
    umf_memory_provider_handle_t provider = NULL;
    umf_result_t rc = umfMemoryProviderCreate(&file_ops, &params, &provider);
    ex_check(rc == UMF_RESULT_SUCCESS && provider, "user provider created: %d", rc);
    if (rc)
        return ex_done();
    ex_check(strcmp(umfMemoryProviderGetName(provider), "example_file_provider") == 0,
             "umfMemoryProviderGetName is the user's name");

    umf_disjoint_pool_params_handle_t dp = NULL;
    rc = umfDisjointPoolParamsCreate(&dp);
    if (!rc)
        rc = umfDisjointPoolParamsSetSlabMinSize(dp, 64 * 1024);
    if (!rc)
        rc = umfDisjointPoolParamsSetMaxPoolableSize(dp, 1 << 20);
    if (!rc)
        rc = umfDisjointPoolParamsSetCapacity(dp, 4);
    if (!rc)
        rc = umfDisjointPoolParamsSetMinBucketSize(dp, 64);
    ex_check(rc == UMF_RESULT_SUCCESS, "disjoint pool params: %d", rc);
    umf_memory_pool_handle_t pool = NULL;
    rc = umfPoolCreate(umfDisjointPoolOps(), provider, dp, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                       &pool);
    umfDisjointPoolParamsDestroy(dp);
    ex_check(rc == UMF_RESULT_SUCCESS && pool, "disjoint pool over the user provider: %d", rc);
    if (rc) {
        umfMemoryProviderDestroy(provider);
        unlink(path);
        return ex_done();
    }

    // Small (pooled) and large (straight from the provider) blocks.
    enum { N = 6 };
    const size_t sizes[N] = {64, 200, 4096, 50000, 300000, 3u << 20};
    unsigned char *blk[N];
    unsigned char *pattern[N];
    for (int i = 0; i < N; i++) {
        blk[i] = umfPoolMalloc(pool, sizes[i]);
        pattern[i] = malloc(sizes[i]);
        ex_check(blk[i] != NULL, "umfPoolMalloc(%zu)", sizes[i]);
        if (!blk[i] || !pattern[i])
            continue;
        for (size_t j = 0; j < sizes[i]; j++)
            pattern[i][j] = (unsigned char)rand();
        memcpy(blk[i], pattern[i], sizes[i]);
        ex_check(umfPoolByPtr(blk[i]) == pool, "umfPoolByPtr(block %d) is the pool", i);
    }
    // Each block's bytes are in the file at its offset from the mapping.
    for (int i = 0; i < N; i++) {
        if (!blk[i])
            continue;
        size_t off = (size_t)((char *)blk[i] - g_base);
        bool inside = (char *)blk[i] >= g_base && off + sizes[i] <= FILE_CAPACITY;
        ex_check(inside, "block %d lies in the provider's mapping", i);
        if (inside)
            ex_check(file_has(path, off, pattern[i], sizes[i]),
                     "block %d (%zu bytes) reads back with pread at offset %zu", i, sizes[i], off);
    }
    // Free and allocate again: the pool reuses, the data of the others stays.
    umfPoolFree(pool, blk[1]);
    unsigned char *again = umfPoolMalloc(pool, sizes[1]);
    ex_check(again != NULL && umfPoolByPtr(again) == pool, "re-allocation after a free");
    bool kept = true;
    for (int i = 2; i < N; i++)
        kept = kept && blk[i] && memcmp(blk[i], pattern[i], sizes[i]) == 0;
    ex_check(kept, "the other blocks kept their data");

    // A request larger than the file fails with the provider's error.
    void *huge = umfPoolMalloc(pool, (size_t)FILE_CAPACITY * 2);
    ex_check(huge == NULL, "a block larger than the file is refused");
    rc = umfPoolGetLastAllocationError(pool);
    ex_check(rc == UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC,
             "last allocation error is MEMORY_PROVIDER_SPECIFIC (%d)", rc);
    const char *msg = NULL;
    int32_t native = 0;
    umfMemoryProviderGetLastNativeError(provider, &msg, &native);
    ex_check(native == 28 && msg && strcmp(msg, "file is full") == 0,
             "native error is the provider's (%d, %s)", native, msg ? msg : "(null)");

    for (int i = 0; i < N; i++)
        if (i != 1 && blk[i])
            umfFree(blk[i]);
    umfFree(again);
    umfPoolDestroy(pool);
    ex_check(finalized == 1, "destroying the pool finalized the user provider once (%d)",
             finalized);
    // The data stays in the file after the provider unmapped it.
    if (blk[5])
        ex_check(file_has(path, (size_t)((char *)blk[5] - g_base), pattern[5], sizes[5]),
                 "the large block's bytes are in the file after the pool is gone");
    for (int i = 0; i < N; i++)
        free(pattern[i]);
    unlink(path);
    return ex_done();
}
