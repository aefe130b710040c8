// SPDX-License-Identifier: MIT
// Guest test (topology `dax`): the devdax provider on a real device DAX
// namespace, and the file provider on the fs-dax mount. The guest's /init
// writes what it set up to $HETMEM_VM_FACTS (/run/topology.facts):
//   devdax <id> dev=/dev/daxX.Y ... size=<bytes> ...
//   fsdax  <id> dev=/dev/pmemN mount=/mnt/pmem ...
// HETMEM_DEVDAX_PATH / HETMEM_DEVDAX_SIZE override the device (to run this
// program by hand on a machine with device DAX).
//
// Checks: the whole device maps with MAP_SYNC (smaps flag "sf"); patterns
// written through allocations read back; freed ranges are reused and keep
// their bytes (device memory); exhaustion exactly at the device size; a
// second provider on the same device sees the first one's bytes at the same
// offsets; a size the device cannot map fails cleanly; purge_force reports
// what the kernel does; four threads; file provider over fs-dax.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_devdax_memory.h>
#include <umf/providers/provider_file_memory.h>

#include "providers/provider.h"
#include "coarse_probe.h"
#include "providers/range_alloc.h"
#include "test_seed.h"
#include "test_skip.h"

#define MiB ((size_t)1 << 20)

static char dax_path[256];
static size_t dax_size;
static char pmem_mount[256];

// Reads key=value from the first facts line starting with `kind`.
static bool fact(const char *kind, const char *key, char *out, size_t n) {
    const char *path = getenv("HETMEM_VM_FACTS");
    FILE *f = fopen(path ? path : "/run/topology.facts", "r");
    if (!f)
        return false;
    char line[512];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        size_t kl = strlen(kind);
        if (strncmp(line, kind, kl) != 0 || line[kl] != ' ')
            continue;
        for (char *tok = strtok(line, " \n"); tok; tok = strtok(NULL, " \n")) {
            size_t keyl = strlen(key);
            if (strncmp(tok, key, keyl) == 0 && tok[keyl] == '=') {
                snprintf(out, n, "%s", tok + keyl + 1);
                found = true;
                break;
            }
        }
    }
    fclose(f);
    return found;
}

static umf_result_t make_dax(const char *path, size_t size, umf_memory_provider_handle_t *h) {
    umf_devdax_memory_provider_params_handle_t p = NULL;
    umf_result_t r = umfDevDaxMemoryProviderParamsCreate(&p, path, size);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    *h = NULL;
    r = umfMemoryProviderCreate(umfDevDaxMemoryProviderOps(), p, h);
    umfDevDaxMemoryProviderParamsDestroy(p);
    return r;
}

// The VmFlags line of the smaps entry that contains addr.
static bool vmflags_of(const void *addr, char *out, size_t n) {
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return false;
    char line[512];
    bool in = false, found = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
            continue;
        }
        if (in && strncmp(line, "VmFlags:", 8) == 0) {
            size_t l = strlen(line + 8);
            l = l < n ? l : n - 1;
            memcpy(out, line + 8, l);
            out[l] = 0;
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

static uint64_t pattern(uint64_t off, uint64_t seed) { return (off * 0x9e3779b97f4a7c15ull) ^ seed; }

static void fill(void *p, size_t n, uint64_t off, uint64_t seed) {
    uint64_t *q = p;
    for (size_t i = 0; i < n / 8; i++)
        q[i] = pattern(off + 8 * i, seed);
}

static bool check(const void *p, size_t n, uint64_t off, uint64_t seed) {
    const uint64_t *q = p;
    for (size_t i = 0; i < n / 8; i++)
        if (q[i] != pattern(off + 8 * i, seed))
            return false;
    return true;
}

static int setup(void **state) {
    (void)state;
    const char *ep = getenv("HETMEM_DEVDAX_PATH"), *es = getenv("HETMEM_DEVDAX_SIZE");
    char size_s[64];
    if (ep && es) {
        snprintf(dax_path, sizeof dax_path, "%s", ep);
        snprintf(size_s, sizeof size_s, "%s", es);
    } else if (!fact("devdax", "dev", dax_path, sizeof dax_path) ||
               !fact("devdax", "size", size_s, sizeof size_s)) {
        fprintf(stderr, "no devdax device in the facts file (is the topology `dax`?)\n");
        return -1;
    }
    dax_size = (size_t)strtoull(size_s, NULL, 0);
    if (!fact("fsdax", "mount", pmem_mount, sizeof pmem_mount))
        pmem_mount[0] = 0;
    printf("# devdax %s, %zu bytes; fsdax mount %s\n", dax_path, dax_size,
           pmem_mount[0] ? pmem_mount : "(none)");
    return dax_size >= 4 * MiB ? 0 : -1;
}

static void maps_whole_device_with_map_sync(void **state) {
    (void)state;
    umf_memory_provider_handle_t h;
    assert_int_equal(make_dax(dax_path, dax_size, &h), UMF_RESULT_SUCCESS);
    assert_string_equal(umfMemoryProviderGetName(h), "DEVDAX");
    size_t ps;
    assert_int_equal(umfMemoryProviderGetMinPageSize(h, NULL, &ps), UMF_RESULT_SUCCESS);
    assert_int_equal(ps, 2 * MiB);
    void *all;
    assert_int_equal(umfMemoryProviderAlloc(h, dax_size, 0, &all), UMF_RESULT_SUCCESS);
    assert_int_equal((uintptr_t)all % (2 * MiB), 0);
    char flags[256];
    assert_true(vmflags_of(all, flags, sizeof flags));
    printf("# VmFlags of the device mapping:%s", flags);
    assert_non_null(strstr(flags, " sh")); // shared
    assert_non_null(strstr(flags, " sf")); // synchronous faults: MAP_SYNC took
    // The last byte of the device is usable.
    ((volatile char *)all)[dax_size - 1] = 1;
    assert_int_equal(((volatile char *)all)[dax_size - 1], 1);
    umfMemoryProviderDestroy(h);
}

static void patterns_reuse_exhaustion(void **state) {
    (void)state;
    umf_memory_provider_handle_t h;
    assert_int_equal(make_dax(dax_path, dax_size, &h), UMF_RESULT_SUCCESS);
    size_t chunk = 2 * MiB, n = dax_size / chunk;
    void **p = calloc(n, sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(umfMemoryProviderAlloc(h, chunk, 0, &p[i]), UMF_RESULT_SUCCESS);
        coarse_probe_t b;
        assert_int_equal(coarse_probe(h, p[i], &b), 0);
        assert_string_equal(b.path, dax_path);
        assert_int_equal(b.size, chunk);
        fill(p[i], chunk, b.offset, 1);
    }
    // Exactly at the device size: nothing more, not even a byte.
    void *x;
    assert_int_equal(umfMemoryProviderAlloc(h, 1, 1, &x), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    for (size_t i = 0; i < n; i++) {
        coarse_probe_t b;
        assert_int_equal(coarse_probe(h, p[i], &b), 0);
        assert_true(check(p[i], chunk, b.offset, 1));
    }
    // Free every other chunk; allocating again reuses them and the device
    // still holds the old bytes (nothing is zeroed behind our back).
    for (size_t i = 0; i < n; i += 2)
        assert_int_equal(umfMemoryProviderFree(h, p[i], chunk), UMF_RESULT_SUCCESS);
    for (size_t i = 0; i < n; i += 2) {
        void *q;
        assert_int_equal(umfMemoryProviderAlloc(h, chunk, 0, &q), UMF_RESULT_SUCCESS);
        assert_ptr_equal(q, p[i]);
        coarse_probe_t b;
        assert_int_equal(coarse_probe(h, q, &b), 0);
        assert_true(check(q, chunk, b.offset, 1));
    }
    assert_int_equal(umfMemoryProviderAlloc(h, chunk, 0, &x), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(umfMemoryProviderFree(h, p[i], chunk), UMF_RESULT_SUCCESS);
    // Whole again after all frees.
    assert_int_equal(umfMemoryProviderAlloc(h, dax_size, 0, &x), UMF_RESULT_SUCCESS);
    assert_ptr_equal(x, p[0]);
    free(p);
    umfMemoryProviderDestroy(h);
}

// Two providers on one device map the same bytes: what one writes at an
// offset, the other reads at that offset (and a new provider finds it).
static void two_providers_share_the_device(void **state) {
    (void)state;
    umf_memory_provider_handle_t a, b;
    assert_int_equal(make_dax(dax_path, dax_size, &a), UMF_RESULT_SUCCESS);
    assert_int_equal(make_dax(dax_path, dax_size, &b), UMF_RESULT_SUCCESS);
    void *pa, *pb;
    assert_int_equal(umfMemoryProviderAlloc(a, 4 * MiB, 0, &pa), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(b, 4 * MiB, 0, &pb), UMF_RESULT_SUCCESS);
    assert_ptr_not_equal(pa, pb);
    coarse_probe_t ba, bb;
    assert_int_equal(coarse_probe(a, pa, &ba), 0);
    assert_int_equal(coarse_probe(b, pb, &bb), 0);
    assert_int_equal(ba.offset, bb.offset); // both first fits at offset 0
    fill(pa, 4 * MiB, ba.offset, 77);
    assert_true(check(pb, 4 * MiB, bb.offset, 77));
    umfMemoryProviderDestroy(a);
    umfMemoryProviderDestroy(b);
    assert_int_equal(make_dax(dax_path, dax_size, &a), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(a, 4 * MiB, 0, &pa), UMF_RESULT_SUCCESS);
    assert_true(check(pa, 4 * MiB, 0, 77));
    umfMemoryProviderDestroy(a);
}

static void bad_sizes_and_frees(void **state) {
    (void)state;
    umf_memory_provider_handle_t h = NULL;
    // Not a multiple of the device alignment (2 MiB): the kernel refuses.
    assert_int_not_equal(make_dax(dax_path, 2 * MiB + 4096, &h), UMF_RESULT_SUCCESS);
    assert_null(h);
    assert_int_equal(make_dax("/dev/dax-no-such-device", 2 * MiB, &h),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    // A part of the device is fine.
    assert_int_equal(make_dax(dax_path, 4 * MiB, &h), UMF_RESULT_SUCCESS);
    void *p, *x;
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * MiB, 0, &p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, (char *)p + 4096, 4096),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, p, 4096), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, p, 2 * MiB, MiB), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, p, (char *)p + MiB, 2 * MiB),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * MiB, 0, &x), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * MiB, 0, &x), UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    assert_int_equal(umfMemoryProviderFree(h, p, 2 * MiB), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

// Device DAX cannot give pages back; purge_force passes on the kernel's
// refusal of MADV_REMOVE as PURGE_FORCE_FAILED and leaves the bytes.
static void purge_force_is_refused(void **state) {
    (void)state;
    umf_memory_provider_handle_t h;
    assert_int_equal(make_dax(dax_path, dax_size, &h), UMF_RESULT_SUCCESS);
    void *p;
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * MiB, 0, &p), UMF_RESULT_SUCCESS);
    fill(p, 2 * MiB, 0, 5);
    assert_int_equal(umfMemoryProviderPurgeLazy(h, p, 2 * MiB), UMF_RESULT_ERROR_NOT_SUPPORTED);
    umf_result_t r = umfMemoryProviderPurgeForce(h, p, 2 * MiB);
    const char *msg = "";
    int32_t code = 0;
    if (r == UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC)
        umfMemoryProviderGetLastNativeError(h, &msg, &code);
    printf("# purge_force on device DAX: result %d, native %d \"%s\"\n", (int)r, (int)code, msg);
    assert_int_equal(r, UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC);
    assert_int_equal(code, UMF_DEVDAX_RESULT_ERROR_PURGE_FORCE_FAILED);
    assert_true(check(p, 2 * MiB, 0, 5));
    umfMemoryProviderDestroy(h);
}

static umf_memory_provider_handle_t mt_h;

static uint64_t mt_seed; // printed; HETMEM_TEST_SEED replays it

// No cmocka assert here: the status goes back through pthread_join.
static void *mt_worker(void *arg) {
    uint64_t id = (uint64_t)(intptr_t)arg, s = mt_seed + 0x9e3779b97f4a7c15ull * id;
    void *mine[8] = {0};
    size_t msz[8];
    for (int op = 0; op < 2000; op++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        int i = (int)(s % 8);
        if (mine[i]) {
            if (!check(mine[i], msz[i], (uintptr_t)mine[i], id))
                return (void *)1;
            if (umfMemoryProviderFree(mt_h, mine[i], msz[i]) != UMF_RESULT_SUCCESS)
                return (void *)2;
            mine[i] = NULL;
        } else {
            msz[i] = 4096 * (1 + (s >> 20) % 64);
            umf_result_t r = umfMemoryProviderAlloc(mt_h, msz[i], 4096, &mine[i]);
            if (r == UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY) {
                mine[i] = NULL;
                continue;
            }
            if (r != UMF_RESULT_SUCCESS)
                return (void *)3;
            fill(mine[i], msz[i], (uintptr_t)mine[i], id);
        }
    }
    for (int i = 0; i < 8; i++)
        if (mine[i])
            umfMemoryProviderFree(mt_h, mine[i], msz[i]);
    return NULL;
}

static void four_threads(void **state) {
    (void)state;
    assert_int_equal(make_dax(dax_path, 4 * MiB, &mt_h), UMF_RESULT_SUCCESS); // contended
    pthread_t t[4];
    mt_seed = test_seed_or("four_threads", 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, mt_worker, (void *)(intptr_t)(i + 1)), 0);
    for (int i = 0; i < 4; i++) {
        void *ret;
        assert_int_equal(pthread_join(t[i], &ret), 0);
        assert_null(ret);
    }
    void *all;
    assert_int_equal(umfMemoryProviderAlloc(mt_h, 4 * MiB, 0, &all), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(mt_h);
}

// The file provider on fs-dax (ext4 -o dax): shared writes land in the
// file, purge_force punches a hole that reads back zero.
static void file_provider_on_fsdax(void **state) {
    (void)state;
    if (!pmem_mount[0])
        TEST_SKIP("no fs-dax mount in $HETMEM_VM_FACTS (the dax guest's /init makes one)");
    char path[300];
    snprintf(path, sizeof path, "%s/hetmem-file-provider", pmem_mount);
    unlink(path);
    umf_file_memory_provider_params_handle_t p;
    assert_int_equal(umfFileMemoryProviderParamsCreate(&p, path), UMF_RESULT_SUCCESS);
    assert_int_equal(umfFileMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED),
                     UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h;
    assert_int_equal(umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &h),
                     UMF_RESULT_SUCCESS);
    umfFileMemoryProviderParamsDestroy(p);
    char *a;
    assert_int_equal(umfMemoryProviderAlloc(h, 8 * MiB, 0, (void **)&a), UMF_RESULT_SUCCESS);
    coarse_probe_t b;
    assert_int_equal(coarse_probe(h, a, &b), 0);
    fill(a, 8 * MiB, b.offset, 9);
    assert_int_equal(umfMemoryProviderPurgeForce(h, a + 2 * MiB, 2 * MiB), UMF_RESULT_SUCCESS);
    for (size_t i = 0; i < 2 * MiB; i++)
        assert_int_equal(a[2 * MiB + i], 0);
    umfMemoryProviderDestroy(h);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    static uint64_t buf[2 * MiB / 8];
    assert_int_equal(pread(fd, buf, 2 * MiB, (off_t)b.offset), (ssize_t)(2 * MiB));
    assert_true(check(buf, 2 * MiB, b.offset, 9));
    assert_int_equal(pread(fd, buf, 2 * MiB, (off_t)(b.offset + 2 * MiB)), (ssize_t)(2 * MiB));
    for (size_t i = 0; i < 2 * MiB / 8; i++)
        assert_int_equal(buf[i], 0);
    close(fd);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maps_whole_device_with_map_sync),
        cmocka_unit_test(patterns_reuse_exhaustion),
        cmocka_unit_test(two_providers_share_the_device),
        cmocka_unit_test(bad_sizes_and_frees),
        cmocka_unit_test(purge_force_is_refused),
        cmocka_unit_test(four_threads),
        cmocka_unit_test(file_provider_on_fsdax),
    };
    return test_skip_result(cmocka_run_group_tests(tests, setup, NULL));
}
