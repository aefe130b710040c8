// SPDX-License-Identifier: MIT
// The file provider reserves address space in proportion to what it hands
// out (issue 12): 500 file providers, as memkind creates for 500 file-backed
// kinds, each given a few small allocations, must together reserve far less
// than memkind 1.14's 8 GiB for the same (before: 64 GiB each, 31 TiB), and
// two of them grown to 32 MiB must reserve about twice that, not more.
// Every allocation keeps its own bytes, and destroying the providers gives
// the address space back. Measured as the change of VmSize. IPC handles of
// memory in a later reservation name the right file offset.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_file_memory.h>

#include "coarse_probe.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define NPROV 500
#define NPIECES 3

static const size_t piece[NPIECES] = {64 * KiB, 128 * KiB, 256 * KiB};

static char dir[] = "/tmp/hetmem-reserve-test-XXXXXX";

// The process's address space (VmSize) in bytes.
static size_t vm_size(void) {
    FILE *f = fopen("/proc/self/status", "r");
    assert_non_null(f);
    char line[256];
    size_t kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kb) == 1)
            break;
    fclose(f);
    assert_true(kb > 0);
    return kb * KiB;
}

static umf_memory_provider_handle_t make(int i) {
    char path[256];
    snprintf(path, sizeof path, "%s/kind%d", dir, i);
    umf_file_memory_provider_params_handle_t p = NULL;
    assert_int_equal(umfFileMemoryProviderParamsCreate(&p, path), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFileMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED),
                     UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &h),
                     UMF_RESULT_SUCCESS);
    umfFileMemoryProviderParamsDestroy(p);
    return h;
}

static unsigned char tag(int prov, int k) { return (unsigned char)(1 + (prov * 7 + k) % 251); }

static int all_byte(const unsigned char *p, size_t n, unsigned char v) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

static void many_small_providers(void **state) {
    (void)state;
    static umf_memory_provider_handle_t h[NPROV];
    static unsigned char *a[NPROV][NPIECES];
    size_t before = vm_size();
    for (int i = 0; i < NPROV; i++) {
        h[i] = make(i);
        for (int k = 0; k < NPIECES; k++) {
            assert_int_equal(umfMemoryProviderAlloc(h[i], piece[k], 0, (void **)&a[i][k]),
                             UMF_RESULT_SUCCESS);
            memset(a[i][k], tag(i, k), piece[k]);
        }
    }
    size_t small = vm_size() - before;
    printf("%d file providers with %d allocations each: %zu MiB of address space\n", NPROV,
           NPIECES, small / MiB);
    // 8 MiB a provider: memkind 1.14's 16 MiB, halved (the core reserves 4).
    assert_true(small <= (size_t)NPROV * 8 * MiB);
    for (int i = 0; i < NPROV; i++)
        for (int k = 0; k < NPIECES; k++)
            assert_true(all_byte(a[i][k], piece[k], tag(i, k)));

    // Two providers grown to 32 MiB in 1 MiB pieces: about twice that.
    size_t mid = vm_size();
    enum { BIG = 32 };
    static unsigned char *b[2][BIG];
    for (int j = 0; j < 2; j++) {
        for (int k = 0; k < BIG; k++) {
            assert_int_equal(umfMemoryProviderAlloc(h[j], MiB, 0, (void **)&b[j][k]),
                             UMF_RESULT_SUCCESS);
            memset(b[j][k], tag(j, k + NPIECES), MiB);
        }
    }
    size_t grown = vm_size() - mid;
    printf("two providers grown by %d MiB each: %zu MiB more address space\n", BIG,
           grown / MiB);
    assert_true(grown <= 2 * (2 * BIG * MiB + 8 * MiB));
    for (int j = 0; j < 2; j++)
        for (int k = 0; k < BIG; k++)
            assert_true(all_byte(b[j][k], MiB, tag(j, k + NPIECES)));
    for (int i = 0; i < NPROV; i++)
        for (int k = 0; k < NPIECES; k++)
            assert_true(all_byte(a[i][k], piece[k], tag(i, k)));
    // The grown providers span several reservations: an IPC handle of the
    // last allocation names its file offset, and opening it shows its bytes.
    for (int j = 0; j < 2; j++) {
        coarse_probe_t pb;
        size_t segs = 0;
        for (coarse_seg_t *g = coarse_seg_newest(h[j]->priv); g; g = g->older)
            segs++;
        assert_int_equal(coarse_probe(h[j], b[j][BIG - 1], &pb), 0);
        printf("provider %d: %zu reservations, last allocation at file offset %llu\n", j, segs,
               (unsigned long long)pb.offset);
        assert_true(segs >= 2);
        size_t hs;
        assert_int_equal(umfMemoryProviderGetIPCHandleSize(h[j], &hs), UMF_RESULT_SUCCESS);
        void *data = calloc(1, hs), *q = NULL;
        assert_non_null(data);
        assert_int_equal(umfMemoryProviderGetIPCHandle(h[j], b[j][BIG - 1], MiB, data),
                         UMF_RESULT_SUCCESS);
        assert_int_equal(umfMemoryProviderOpenIPCHandle(h[j], data, &q), UMF_RESULT_SUCCESS);
        assert_ptr_not_equal(q, b[j][BIG - 1]);
        assert_true(all_byte(q, MiB, tag(j, BIG - 1 + NPIECES)));
        assert_int_equal(umfMemoryProviderCloseIPCHandle(h[j], q, MiB), UMF_RESULT_SUCCESS);
        assert_int_equal(umfMemoryProviderPutIPCHandle(h[j], data), UMF_RESULT_SUCCESS);
        free(data);
    }

    for (int j = 0; j < 2; j++)
        for (int k = 0; k < BIG; k++)
            assert_int_equal(umfMemoryProviderFree(h[j], b[j][k], MiB), UMF_RESULT_SUCCESS);
    for (int i = 0; i < NPROV; i++) {
        for (int k = 0; k < NPIECES; k++)
            assert_int_equal(umfMemoryProviderFree(h[i], a[i][k], piece[k]), UMF_RESULT_SUCCESS);
        umfMemoryProviderDestroy(h[i]);
    }
    size_t after = vm_size();
    printf("after destroying them: %+lld MiB\n", ((long long)after - (long long)before) / (1 << 20));
    assert_true(after <= before + 64 * MiB);
}

int main(void) {
    // One descriptor per provider, and some to spare.
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < NPROV + 100) {
        rl.rlim_cur = rl.rlim_max < NPROV + 100 ? rl.rlim_max : NPROV + 100;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(many_small_providers)};
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return r;
}
