// SPDX-License-Identifier: MIT
// Helpers of the misuse tests (issue 11): the log lines a refusal writes
// (stderr captured into a file, hetmem's ERROR lines counted), a check that
// blocks handed out after a refusal overlap no live block, and the list of
// every umfPool* entry point run against a handle that must be refused.
#ifndef HETMEM_TEST_MISUSE_HELPERS_H
#define HETMEM_TEST_MISUSE_HELPERS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <umf/ipc.h>
#include <umf/memory_pool.h>

// ---- log lines ---------------------------------------------------------------

/// Call first in main: hetmem reads its log level once.
static inline void misuse_log_on(void) { setenv("HETMEM_LOG", "error", 1); }

typedef struct capture_t {
    int saved, fd;
} capture_t;

// hetmem rate-limits its log to a burst per one-second window: start a
// capture in a fresh window so that earlier refusals cannot eat the lines.
static inline void capture_start(capture_t *c) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t0);
    do {
        usleep(2000);
        clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    } while (t.tv_sec == t0.tv_sec);
    char path[] = "/tmp/hetmem-misuse-XXXXXX";
    fflush(stderr);
    c->fd = mkstemp(path);
    if (c->fd >= 0)
        unlink(path);
    c->saved = dup(2);
    if (c->fd >= 0)
        dup2(c->fd, 2);
}

/// Stops capturing; the text (NUL-terminated) in buf; returns the number
/// of hetmem ERROR lines, or -1 when the capture failed.
static inline int capture_stop(capture_t *c, char *buf, size_t cap) {
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    if (c->fd < 0)
        return -1;
    lseek(c->fd, 0, SEEK_SET);
    ssize_t n = read(c->fd, buf, cap - 1);
    close(c->fd);
    buf[n > 0 ? n : 0] = 0;
    int lines = 0;
    for (const char *s = buf; (s = strstr(s, "hetmem ERROR ")); s++)
        lines++;
    return lines;
}

// ---- no overlap -------------------------------------------------------------

typedef struct span_t {
    uintptr_t start, end;
} span_t;

/// The first pair of overlapping spans, or -1 (O(n^2): n is small).
static inline int find_overlap(const span_t *v, int n, int *other) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (v[i].start < v[j].end && v[j].start < v[i].end) {
                *other = j;
                return i;
            }
    return -1;
}

// ---- every entry point with a bad pool handle ---------------------------------

#define MISUSE_SENTINEL ((void *)0x5e47)

/// Runs every umfPool* function (and umfPoolDestroy last) on h, which must
/// be refused; returns the first that was not, or NULL.
static inline const char *pool_entry_points_refuse(umf_memory_pool_handle_t h) {
    char local[64];
    if (umfPoolMalloc(h, 16))
        return "umfPoolMalloc";
    if (umfPoolGetLastAllocationError(h) != UMF_RESULT_ERROR_INVALID_ARGUMENT)
        return "umfPoolGetLastAllocationError";
    if (umfPoolAlignedMalloc(h, 16, 64))
        return "umfPoolAlignedMalloc";
    if (umfPoolCalloc(h, 2, 8))
        return "umfPoolCalloc";
    if (umfPoolRealloc(h, NULL, 16))
        return "umfPoolRealloc(NULL)";
    if (umfPoolRealloc(h, local, 16))
        return "umfPoolRealloc";
    if (umfPoolMallocUsableSize(h, local) != 0)
        return "umfPoolMallocUsableSize";
    if (umfPoolFree(h, local) != UMF_RESULT_ERROR_INVALID_ARGUMENT)
        return "umfPoolFree";
    if (umfPoolFree(h, NULL) != UMF_RESULT_ERROR_INVALID_ARGUMENT)
        return "umfPoolFree(NULL)";
    umf_memory_provider_handle_t prov = MISUSE_SENTINEL;
    if (umfPoolGetMemoryProvider(h, &prov) != UMF_RESULT_ERROR_INVALID_ARGUMENT ||
        prov != MISUSE_SENTINEL)
        return "umfPoolGetMemoryProvider";
    void *old = MISUSE_SENTINEL;
    if (umfPoolSetTag(h, local, &old) != UMF_RESULT_ERROR_INVALID_ARGUMENT ||
        old != MISUSE_SENTINEL)
        return "umfPoolSetTag";
    void *tag = MISUSE_SENTINEL;
    if (umfPoolGetTag(h, &tag) != UMF_RESULT_ERROR_INVALID_ARGUMENT || tag != MISUSE_SENTINEL)
        return "umfPoolGetTag";
    size_t hsize = 12345;
    if (umfPoolGetIPCHandleSize(h, &hsize) != UMF_RESULT_ERROR_INVALID_ARGUMENT || hsize != 12345)
        return "umfPoolGetIPCHandleSize";
    umf_ipc_handler_handle_t handler = MISUSE_SENTINEL;
    if (umfPoolGetIPCHandler(h, &handler) != UMF_RESULT_ERROR_INVALID_ARGUMENT ||
        handler != MISUSE_SENTINEL)
        return "umfPoolGetIPCHandler";
    umfPoolDestroy(h); // ignored (void): must not crash nor destroy anything
    return NULL;
}

#endif // HETMEM_TEST_MISUSE_HELPERS_H
