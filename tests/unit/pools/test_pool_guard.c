// SPDX-License-Identifier: MIT
// The pool guard (pool_guard_set, src/pools/tracking_provider.c): byte
// counts of every tracked pool, the byte limit, the free-memory reserve of
// a node set, the THP advice, the owner mark; untracked pools have none.
// A proxy pool asks its provider for each block, so every malloc below is
// one range the guard sees.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <umf/memory_pool.h>
#include <umf/pools/pool_proxy.h>
#include <umf/providers/provider_os_memory.h>

#include "pools/pool.h"
#include "topology/topo.h"

#define K64 ((size_t)64 << 10)

static umf_memory_pool_handle_t make_pool(umf_pool_create_flags_t extra) {
    umf_os_memory_provider_params_handle_t pp = NULL;
    umf_memory_provider_handle_t prov = NULL;
    umf_memory_pool_handle_t pool = NULL;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&pp), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &prov),
                     UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(pp);
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), prov, NULL,
                                   UMF_POOL_CREATE_FLAG_OWN_PROVIDER | extra, &pool),
                     UMF_RESULT_SUCCESS);
    return pool;
}

static size_t held(umf_memory_pool_handle_t pool, uint64_t *refused, size_t *peak) {
    pool_guard_counts_t c;
    pool_guard_counts(pool, &c);
    if (refused)
        *refused = c.refused;
    if (peak)
        *peak = c.peak;
    return c.held;
}

static void test_limit_and_counts(void **state) {
    (void)state;
    static const int mark = 1;
    umf_memory_pool_handle_t pool = make_pool(0);
    uint64_t refused = 9;
    size_t peak = 0;
    assert_int_equal(held(pool, NULL, NULL), 0);
    assert_null(pool_guard_owner(pool));
    pool_guard_t g = {.limit = 4 * K64, .owner = &mark};
    assert_int_equal(pool_guard_set(pool, &g), UMF_RESULT_SUCCESS);
    assert_ptr_equal(pool_guard_owner(pool), &mark);

    void *a = umfPoolMalloc(pool, 2 * K64), *b = umfPoolMalloc(pool, 2 * K64);
    assert_true(a && b);
    memset(a, 1, 2 * K64);
    assert_int_equal(held(pool, &refused, NULL), 4 * K64);
    assert_int_equal(refused, 0);
    assert_null(umfPoolMalloc(pool, K64)); // over the limit
    assert_int_equal(held(pool, &refused, NULL), 4 * K64);
    assert_int_equal(refused, 1);

    assert_int_equal(umfPoolFree(pool, a), UMF_RESULT_SUCCESS);
    assert_int_equal(held(pool, NULL, &peak), 2 * K64);
    assert_int_equal(peak, 4 * K64);
    void *d = umfPoolMalloc(pool, K64); // room again
    assert_non_null(d);
    assert_int_equal(held(pool, NULL, NULL), 3 * K64);
    assert_int_equal(umfPoolFree(pool, b) | umfPoolFree(pool, d), UMF_RESULT_SUCCESS);
    assert_int_equal(held(pool, NULL, NULL), 0);
    umfPoolDestroy(pool);
}

static void test_node_reserve(void **state) {
    (void)state;
    assert_true(topo_init() == 0 || topo_node_count() > 0);
    const nodeset_t *all = topo_all_nodes();
    uint64_t free_total = 0, f;
    for (int n = nodeset_next(all, 0); n >= 0; n = nodeset_next(all, (unsigned)n + 1))
        if (topo_node_free((unsigned)n, &f) == 0)
            free_total += f;
    assert_true(free_total > 4 * K64);
    printf("free on all nodes: %llu bytes\n", (unsigned long long)free_total);

    umf_memory_pool_handle_t pool = make_pool(0);
    pool_guard_t g = {.nodes = *all, .reserve = (size_t)free_total}; // cannot keep it
    assert_int_equal(pool_guard_set(pool, &g), UMF_RESULT_SUCCESS);
    assert_null(umfPoolMalloc(pool, K64));
    uint64_t refused = 0;
    assert_int_equal(held(pool, &refused, NULL), 0);
    assert_int_equal(refused, 1);

    g.reserve = 0; // any node set with room admits the range
    assert_int_equal(pool_guard_set(pool, &g), UMF_RESULT_SUCCESS);
    void *p = umfPoolMalloc(pool, K64);
    assert_non_null(p);
    umfPoolFree(pool, p);
    umfPoolDestroy(pool);
}

// The VmFlags of the mapping holding p contain " nh" (MADV_NOHUGEPAGE).
static int nohugepage_flag(const void *p) {
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in = 0, found = -1;
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        else if (in && strncmp(line, "VmFlags:", 8) == 0)
            found = strstr(line, " nh") != NULL;
    }
    fclose(f);
    return found;
}

static void test_nohugepage(void **state) {
    (void)state;
    umf_memory_pool_handle_t pool = make_pool(0);
    void *plain = umfPoolMalloc(pool, 4 * K64);
    pool_guard_t g = {.nohugepage = true};
    assert_int_equal(pool_guard_set(pool, &g), UMF_RESULT_SUCCESS);
    void *advised = umfPoolMalloc(pool, 4 * K64);
    assert_non_null(plain);
    assert_non_null(advised);
    assert_int_equal(nohugepage_flag(plain), 0);
    assert_int_equal(nohugepage_flag(advised), 1);
    umfPoolFree(pool, plain);
    umfPoolFree(pool, advised);
    umfPoolDestroy(pool);
}

static void test_untracked(void **state) {
    (void)state;
    umf_memory_pool_handle_t pool = make_pool(UMF_POOL_CREATE_FLAG_DISABLE_TRACKING);
    pool_guard_t g = {.limit = 1};
    assert_int_equal(pool_guard_set(pool, &g), UMF_RESULT_ERROR_NOT_SUPPORTED);
    void *p = umfPoolMalloc(pool, K64); // no limit applies
    assert_non_null(p);
    pool_guard_counts_t c = {.held = 7};
    pool_guard_counts(pool, &c);
    assert_int_equal(c.held, 0);
    assert_null(pool_guard_owner(pool));
    umfPoolFree(pool, p);
    umfPoolDestroy(pool);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_and_counts), cmocka_unit_test(test_node_reserve),
        cmocka_unit_test(test_nohugepage), cmocka_unit_test(test_untracked)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
