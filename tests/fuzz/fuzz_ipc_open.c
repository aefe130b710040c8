// SPDX-License-Identifier: MIT
// Fuzz target: random IPC handles fed to umfOpenIPCHandle. An input either
// is a handle as it is (raw bytes, its length known) or says how to damage
// one of two real, live handles of this process (an OS memfd allocation and
// a file allocation): bytes to XOR in at chosen places, whether to
// recompute the checksum (so that the providers' own checks are reached),
// how much of the tail to drop. The property: an open either fails, or it
// returned memory that really is the exported allocation - its bytes are
// the allocation's known pattern at the handle's offset - and then it
// closes cleanly. A forged handle that mapped anything else, a crash, a
// sanitizer report or a leaked mapping fails the target.
//
// Built two ways (tests/fuzz/CMakeLists.txt): with clang, a libFuzzer
// target (-fsanitize=fuzzer; HETMEM_LIBFUZZER defined); always, a replay
// program that generates HETMEM_FUZZ_RUNS (default 3000) inputs from a
// fixed seed (HETMEM_FUZZ_SEED) and runs them as a ctest test. The replay
// also checks that the process's mappings are as many after each refused
// input as before, the open cache's idle mappings apart.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umf.h>
#include <umf/pools/pool_proxy.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_os_memory.h>

#include "ipc/ipc_priv.h"

#define LEN (3 * 4096 + 77)

typedef struct seed_t {
    umf_memory_pool_handle_t pool; // exporter
    unsigned char *mem;            // LEN bytes of pattern(i)
    umf_ipc_handle_t handle;
    size_t size;
} seed_t;

static struct {
    bool ready;
    seed_t seeds[2];                      // 0: OS memfd, 1: FILE
    umf_ipc_handler_handle_t handlers[2]; // 0: OS (private), 1: FILE
    char path[2][64];
} st;

static unsigned long opens_ok, opens_refused; // replay statistics

static unsigned char pattern(size_t i) { return (unsigned char)(i * 13 + 7); }

static umf_memory_pool_handle_t pool_over(umf_memory_provider_handle_t prov) {
    umf_memory_pool_handle_t pool = NULL;
    if (!prov || umfPoolCreate(umfProxyPoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                               &pool) != UMF_RESULT_SUCCESS)
        abort();
    return pool;
}

static umf_memory_pool_handle_t os_pool(bool shared) {
    umf_os_memory_provider_params_handle_t p;
    umf_memory_provider_handle_t prov = NULL;
    umfOsMemoryProviderParamsCreate(&p);
    if (shared)
        umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED);
    umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov);
    umfOsMemoryProviderParamsDestroy(p);
    return pool_over(prov);
}

static umf_memory_pool_handle_t file_pool(const char *path) {
    umf_file_memory_provider_params_handle_t p;
    umf_memory_provider_handle_t prov = NULL;
    umfFileMemoryProviderParamsCreate(&p, path);
    umfFileMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED);
    umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &prov);
    umfFileMemoryProviderParamsDestroy(p);
    return pool_over(prov);
}

static void cleanup(void) {
    unlink(st.path[0]);
    unlink(st.path[1]);
}

static void init(void) {
    snprintf(st.path[0], sizeof st.path[0], "/tmp/hetmem_fuzz_ipc_%d.exp", (int)getpid());
    snprintf(st.path[1], sizeof st.path[1], "/tmp/hetmem_fuzz_ipc_%d.open", (int)getpid());
    atexit(cleanup);
    st.seeds[0].pool = os_pool(true);
    st.seeds[1].pool = file_pool(st.path[0]);
    if (umfPoolGetIPCHandler(os_pool(false), &st.handlers[0]) != UMF_RESULT_SUCCESS ||
        umfPoolGetIPCHandler(file_pool(st.path[1]), &st.handlers[1]) != UMF_RESULT_SUCCESS)
        abort();
    for (int s = 0; s < 2; s++) {
        seed_t *e = &st.seeds[s];
        e->mem = umfPoolMalloc(e->pool, LEN);
        if (!e->mem)
            abort();
        for (size_t i = 0; i < LEN; i++)
            e->mem[i] = pattern(i);
        if (umfGetIPCHandle(e->mem, &e->handle, &e->size) != UMF_RESULT_SUCCESS)
            abort();
    }
    st.ready = true;
}

// An open succeeded: the memory must be the allocation at the handle's
// offset (offsets inside the allocation are legitimate), then it closes.
static void verify_and_close(const struct umf_ipc_data_t *h, const unsigned char *p) {
    uint64_t off = h->offset;
    if (off >= LEN)
        abort(); // an offset beyond the allocation was accepted
    for (size_t i = 0; off + i < LEN && i < 64; i++)
        if (p[i] != pattern(off + i))
            abort(); // mapped something that is not the exported allocation
    if (umfCloseIPCHandle((void *)p) != UMF_RESULT_SUCCESS)
        abort();
}

// Input layout (mutation mode, first byte odd):
//   [0] bit0 = 1: mutate; bit1: seed; bit2: handler; bit3: fix the checksum
//   [1] bytes to drop from the tail (0: none)
//   then pairs (position lo, position hi, xor) applied to the copy
// Raw mode (first byte even): bit2 picks the handler; the rest is the handle.
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!st.ready)
        init();
    if (size < 1)
        return 0;
    umf_ipc_handler_handle_t handler = st.handlers[(data[0] >> 2) & 1];
    size_t cached = ipc_open_cache_open(), all = ipc_open_cache_count();
    void *p = NULL;
    umf_result_t r;
    if (!(data[0] & 1)) { // raw: the handle is the input, its length known
        unsigned char *copy = malloc(size > 1 ? size - 1 : 1);
        memcpy(copy, data + 1, size - 1);
        r = ipc_open_handle_sized(handler, copy, size - 1, &p);
        if (r == UMF_RESULT_SUCCESS)
            verify_and_close((const struct umf_ipc_data_t *)copy, p);
        free(copy);
    } else {
        const seed_t *e = &st.seeds[(data[0] >> 1) & 1];
        unsigned char *copy = malloc(e->size);
        memcpy(copy, e->handle, e->size);
        size_t len = e->size;
        for (size_t i = 2; i + 2 < size; i += 3) {
            size_t at = ((size_t)data[i] | (size_t)data[i + 1] << 8) % e->size;
            // Most damage where the fields are: the header, the body and
            // the provider part's fixed fields (the rest is the path).
            if (data[i + 1] & 0x80)
                at %= sizeof(struct umf_ipc_data_t) + 120;
            copy[at] ^= data[i + 2];
        }
        struct umf_ipc_data_t *h = (struct umf_ipc_data_t *)copy;
        if (data[0] & 8) {
            h->header_check = ipc_header_check(h);
            h->checksum = ipc_checksum(h, e->size);
        }
        if (size > 1 && data[1]) // a truncated handle: its length is known
            len = e->size > data[1] ? e->size - data[1] : 0;
        r = ipc_open_handle_sized(handler, copy, len, &p);
        if (r == UMF_RESULT_SUCCESS)
            verify_and_close(h, p);
        free(copy);
    }
    if (ipc_open_cache_open() != cached)
        abort(); // a failed open left an open entry, or a close did not end one
    if (r != UMF_RESULT_SUCCESS && ipc_open_cache_count() != all)
        abort(); // a refused open left a cache entry
    if (r == UMF_RESULT_SUCCESS)
        opens_ok++;
    else
        opens_refused++;
    return 0;
}

#ifndef HETMEM_LIBFUZZER
// Shared mappings of the process (/proc/self/maps lines whose permissions
// end in "s"): every IPC mapping is one, and sanitizer allocators make none.
static int mappings(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4352]; // a path is at most PATH_MAX
    int n = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        char perms[8] = "";
        if (sscanf(line, "%*s %7s", perms) == 1 && perms[3] == 's')
            n++;
    }
    fclose(f);
    return n;
}

#include "fuzz_replay.h"

int main(void) {
    long runs = fuzz_replay_start("fuzz_ipc_open", 3000);
    init();
    unsigned char in[6000];
    // Idle mappings of the open cache (an opened handle stays mapped after
    // its close, as in UMF) are counted apart: one mapping each.
    int base = mappings() - (int)ipc_open_cache_count();
    for (long n = 0; n < runs; n++) {
        size_t len;
        unsigned kind = fuzz_next() % 8;
        if (kind < 5) { // mutate a live handle: 1-8 damaged bytes
            len = 2 + 3 * (1 + fuzz_next() % 8);
            for (size_t i = 0; i < len; i++)
                in[i] = (unsigned char)fuzz_next();
            in[0] |= 1;
            if (kind == 0)
                in[1] = 0; // no truncation, checksum per bit 3
            else if (kind < 4)
                in[1] = 0, in[0] |= 8; // the checksum fixed: the providers decide
            else
                in[1] = (unsigned char)(fuzz_next() % 2 ? 0 : in[1]);
        } else if (kind < 7) { // a live handle, raw, maybe cut short
            const seed_t *sd = &st.seeds[fuzz_next() % 2];
            len = 1 + sd->size - (fuzz_next() % 4 ? 0 : fuzz_next() % sd->size);
            in[0] = (unsigned char)(fuzz_next() & 4);
            memcpy(in + 1, sd->handle, len - 1);
        } else { // random bytes
            len = 1 + fuzz_next() % sizeof in;
            len = len > sizeof in ? sizeof in : len;
            for (size_t i = 0; i < len; i++)
                in[i] = (unsigned char)fuzz_next();
            in[0] &= ~1u;
        }
        LLVMFuzzerTestOneInput(in, len);
        if (n % 64 == 0 && mappings() - (int)ipc_open_cache_count() != base) {
            fprintf(stderr, "input %ld: the process has %d mappings (%zu cached), %d before\n", n,
                    mappings(), ipc_open_cache_count(), base);
            return 1;
        }
    }
    printf("fuzz_ipc_open: %ld inputs, %lu opened (the real allocation), %lu refused; no "
           "forged open, no leaked mapping\n",
           runs, opens_ok, opens_refused);
    return 0;
}
#endif
