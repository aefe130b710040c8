// SPDX-License-Identifier: MIT
// A copy of a built-in provider's ops table keeps IPC (UMF's own tests and
// users copy the table to override one operation). For the OS provider
// (shared: memfd and named shm) and the file provider (shared), a copy
// with initialize and alloc wrapped makes the exporter's provider and the
// opener's; a pool's IPC handle of an allocation opens through the
// opener's pool to the same bytes, and writes are seen both ways. The
// devdax table (no device here) must carry the five IPC operations too.
// Random bytes use a printed seed (HETMEM_TEST_SEED to replay).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umf.h>
#include <umf/ipc.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/providers/provider_devdax_memory.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_os_memory.h>

#include "test_seed.h"

#define OK UMF_RESULT_SUCCESS
#define SIZE (96 * 1024)

static uint64_t rng;

// The wrapped operations call the original table's and count.
static const umf_memory_provider_ops_t *orig;
static int inits, allocs;

static umf_result_t wrapped_initialize(void *params, void **provider) {
    inits++;
    return orig->initialize(params, provider);
}

static umf_result_t wrapped_alloc(void *provider, size_t size, size_t align, void **ptr) {
    allocs++;
    return orig->alloc(provider, size, align, ptr);
}

static void ipc_ops_all_set(const umf_memory_provider_ops_t *ops) {
    assert_non_null(ops->ipc.get_ipc_handle_size);
    assert_non_null(ops->ipc.get_ipc_handle);
    assert_non_null(ops->ipc.put_ipc_handle);
    assert_non_null(ops->ipc.open_ipc_handle);
    assert_non_null(ops->ipc.close_ipc_handle);
}

static umf_memory_pool_handle_t pool_on(const umf_memory_provider_ops_t *ops, void *params) {
    umf_memory_provider_handle_t prov = NULL;
    assert_int_equal(umfMemoryProviderCreate(ops, params, &prov), OK);
    umf_disjoint_pool_params_handle_t dp;
    umf_memory_pool_handle_t pool = NULL;
    assert_int_equal(umfDisjointPoolParamsCreate(&dp), OK);
    assert_int_equal(
        umfPoolCreate(umfDisjointPoolOps(), prov, dp, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool),
        OK);
    umfDisjointPoolParamsDestroy(dp);
    return pool;
}

// Exporter and opener pools over providers made from `copy` (with the
// exporter's and opener's params); one allocation travels by handle.
static void round_trip(const umf_memory_provider_ops_t *table, void *exp_params,
                       void *open_params) {
    ipc_ops_all_set(table);
    umf_memory_provider_ops_t copy = *table;
    orig = table;
    copy.initialize = wrapped_initialize;
    copy.alloc = wrapped_alloc;
    inits = allocs = 0;
    umf_memory_pool_handle_t pool = pool_on(&copy, exp_params);
    umf_memory_pool_handle_t opener = pool_on(&copy, open_params);
    assert_int_equal(inits, 2);

    unsigned char *p = umfPoolMalloc(pool, SIZE);
    assert_non_null(p);
    assert_true(allocs >= 1);
    for (size_t i = 0; i < SIZE; i++)
        p[i] = (unsigned char)test_rng_next(&rng);

    umf_ipc_handle_t h = NULL;
    size_t hs = 0;
    assert_int_equal(umfGetIPCHandle(p, &h, &hs), OK);
    assert_true(hs > 0);
    umf_ipc_handler_handle_t handler = NULL;
    assert_int_equal(umfPoolGetIPCHandler(opener, &handler), OK);
    unsigned char *q = NULL;
    assert_int_equal(umfOpenIPCHandle(handler, h, (void **)&q), OK);
    assert_non_null(q);
    assert_ptr_not_equal(q, p); // a mapping of its own
    assert_memory_equal(q, p, SIZE);
    q[0] ^= 0xff; // the same memory both ways
    assert_int_equal(p[0], q[0]);
    p[SIZE - 1] ^= 0x5a;
    assert_int_equal(q[SIZE - 1], p[SIZE - 1]);
    assert_int_equal(umfCloseIPCHandle(q), OK);
    assert_int_equal(umfPutIPCHandle(h), OK);

    assert_int_equal(umfPoolFree(pool, p), OK);
    umfPoolDestroy(opener);
    umfPoolDestroy(pool);
}

static umf_os_memory_provider_params_handle_t os_params(bool shared, const char *shm) {
    umf_os_memory_provider_params_handle_t p;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), OK);
    if (shared)
        assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
    if (shm)
        assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, shm), OK);
    return p;
}

static void os_memfd(void **state) {
    (void)state;
    umf_os_memory_provider_params_handle_t e = os_params(true, NULL), o = os_params(false, NULL);
    round_trip(umfOsMemoryProviderOps(), e, o);
    umfOsMemoryProviderParamsDestroy(e);
    umfOsMemoryProviderParamsDestroy(o);
}

static void os_shm(void **state) {
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "hetmem_ops_copy_%d", (int)getpid());
    umf_os_memory_provider_params_handle_t e = os_params(true, name), o = os_params(false, NULL);
    round_trip(umfOsMemoryProviderOps(), e, o);
    umfOsMemoryProviderParamsDestroy(e);
    umfOsMemoryProviderParamsDestroy(o);
    char path[96];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    (void)unlink(path);
}

static umf_file_memory_provider_params_handle_t file_params(const char *path) {
    umf_file_memory_provider_params_handle_t p;
    assert_int_equal(umfFileMemoryProviderParamsCreate(&p, path), OK);
    assert_int_equal(umfFileMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
    return p;
}

static void file_shared(void **state) {
    (void)state;
    char a[64], b[64];
    snprintf(a, sizeof a, "/tmp/hetmem_ops_copy_%d.exp", (int)getpid());
    snprintf(b, sizeof b, "/tmp/hetmem_ops_copy_%d.open", (int)getpid());
    umf_file_memory_provider_params_handle_t e = file_params(a), o = file_params(b);
    round_trip(umfFileMemoryProviderOps(), e, o);
    umfFileMemoryProviderParamsDestroy(e);
    umfFileMemoryProviderParamsDestroy(o);
    (void)unlink(a);
    (void)unlink(b);
}

// No device to map here: the table itself must carry IPC.
static void devdax_table(void **state) {
    (void)state;
    ipc_ops_all_set(umfDevDaxMemoryProviderOps());
    assert_ptr_equal(umfDevDaxMemoryProviderOps(), umfDevDaxMemoryProviderOps());
}

int main(void) {
    rng = test_seed("test_ipc_ops_copy");
    if (!rng)
        rng = 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(os_memfd),
        cmocka_unit_test(os_shm),
        cmocka_unit_test(file_shared),
        cmocka_unit_test(devdax_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
