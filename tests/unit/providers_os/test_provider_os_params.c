// SPDX-License-Identifier: MIT
// The OS provider's params builder and the checks made when a provider is
// created: every setter with good and bad values, bad combinations (mode
// against node list, partitions, huge pages with a shm name) and nodes
// that do not exist - all errors as values, nothing created.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include <hetmem/provider_os_ext.h>
#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "base/nodeset.h"
#include "providers/provider_os.h"

typedef umf_os_memory_provider_params_handle_t params_t;

static params_t new_params(void) {
    params_t p = NULL;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
    assert_non_null(p);
    return p;
}

// umfMemoryProviderCreate's result for these params (destroying what it made).
static umf_result_t try_create(params_t p) {
    umf_memory_provider_handle_t h = NULL;
    umf_result_t r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h);
    if (r == UMF_RESULT_SUCCESS) {
        assert_non_null(h);
        umfMemoryProviderDestroy(h);
    } else {
        assert_null(h);
    }
    return r;
}

static void create_destroy(void **state) {
    (void)state;
    assert_int_equal(umfOsMemoryProviderParamsCreate(NULL), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    params_t p = new_params();
    assert_int_equal(try_create(p), UMF_RESULT_SUCCESS); // the defaults work
    assert_int_equal(umfOsMemoryProviderParamsDestroy(p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsDestroy(NULL), UMF_RESULT_SUCCESS);
}

static void null_handle(void **state) {
    (void)state;
    unsigned n0 = 0;
    umf_numa_split_partition_t part = {1, 0};
    const umf_result_t bad = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    assert_int_equal(umfOsMemoryProviderParamsSetProtection(NULL, UMF_PROTECTION_READ), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(NULL, UMF_MEM_MAP_SHARED), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetShmName(NULL, "x"), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(NULL, &n0, 1), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(NULL, UMF_NUMA_MODE_BIND), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetPartSize(NULL, 4096), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetPartitions(NULL, &part, 1), bad);
    assert_int_equal(hetmem_os_provider_params_set_huge_pages(NULL, 0), bad);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), NULL, &h), bad);
    assert_null(h);
}

static void protection(void **state) {
    (void)state;
    params_t p = new_params();
    const unsigned good[] = {UMF_PROTECTION_NONE, UMF_PROTECTION_READ, UMF_PROTECTION_WRITE,
                             UMF_PROTECTION_READ | UMF_PROTECTION_WRITE,
                             UMF_PROTECTION_READ | UMF_PROTECTION_EXEC,
                             UMF_PROTECTION_READ | UMF_PROTECTION_WRITE | UMF_PROTECTION_EXEC};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(umfOsMemoryProviderParamsSetProtection(p, good[i]), UMF_RESULT_SUCCESS);
    const unsigned bad[] = {0, UMF_PROTECTION_NONE | UMF_PROTECTION_READ, UMF_PROTECTION_MAX,
                            1u << 10, ~0u};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(umfOsMemoryProviderParamsSetProtection(p, bad[i]),
                         UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umfOsMemoryProviderParamsDestroy(p);
}

static void visibility_and_name(void **state) {
    (void)state;
    params_t p = new_params();
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_PRIVATE),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, (umf_memory_visibility_t)0),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, (umf_memory_visibility_t)7),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);

    assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, "hetmem-ok"), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, "/hetmem-ok"), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, NULL), UMF_RESULT_SUCCESS);
    assert_null(p->shm_name);
    assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, "hetmem-ok"), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, ""), UMF_RESULT_SUCCESS); // none (UMF)
    assert_null(p->shm_name);
    const char *bad[] = {"/", "a/b", "..", "."};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, bad[i]),
                         UMF_RESULT_ERROR_INVALID_ARGUMENT);
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, longname),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    umfOsMemoryProviderParamsDestroy(p);
}

static void numa_list_and_mode(void **state) {
    (void)state;
    params_t p = new_params();
    unsigned list[2] = {0, 0};
    const umf_result_t bad = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, NULL, 1), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, list, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, list, 0), UMF_RESULT_SUCCESS); // clears (UMF)
    assert_int_equal(p->numa_list_len, 0);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, list, NODESET_MAX + 1), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, list, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, list, 2), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, NULL, 0), UMF_RESULT_SUCCESS);

    for (int m = UMF_NUMA_MODE_DEFAULT; m <= UMF_NUMA_MODE_LOCAL; m++)
        assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, (umf_numa_mode_t)m),
                         UMF_RESULT_SUCCESS);
    umf_numa_mode_t past_last = (umf_numa_mode_t)(UMF_NUMA_MODE_LOCAL + 1);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, past_last), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, (umf_numa_mode_t)-1), bad);

    assert_int_equal(umfOsMemoryProviderParamsSetPartSize(p, 0), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetPartSize(p, 12345), UMF_RESULT_SUCCESS);

    umf_numa_split_partition_t parts[2] = {{1, 0}, {3, 0}};
    assert_int_equal(umfOsMemoryProviderParamsSetPartitions(p, NULL, 2), bad);
    assert_int_equal(umfOsMemoryProviderParamsSetPartitions(p, parts, 2), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetPartitions(p, parts, 0), UMF_RESULT_SUCCESS); // clears
    assert_int_equal(p->partitions_len, 0);
    // A zero weight: taken by the setter (UMF), refused when the provider is created.
    parts[1].weight = 0;
    assert_int_equal(umfOsMemoryProviderParamsSetPartitions(p, parts, 2), UMF_RESULT_SUCCESS);
    unsigned node0 = 0;
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, &node0, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, UMF_NUMA_MODE_SPLIT), UMF_RESULT_SUCCESS);
    assert_int_equal(try_create(p), bad);
    parts[1].weight = 3;
    assert_int_equal(umfOsMemoryProviderParamsSetPartitions(p, parts, 2), UMF_RESULT_SUCCESS);
    assert_int_equal(try_create(p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, UMF_NUMA_MODE_DEFAULT), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetPartitions(p, NULL, 0), UMF_RESULT_SUCCESS);

    assert_int_equal(hetmem_os_provider_params_set_huge_pages(p, 0), UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_os_provider_params_set_huge_pages(p, (size_t)2 << 20),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_os_provider_params_set_huge_pages(p, (size_t)1 << 30),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_os_provider_params_set_huge_pages(p, 4096), bad);
    assert_int_equal(hetmem_os_provider_params_set_huge_pages(p, (size_t)4 << 20), bad);
    umfOsMemoryProviderParamsDestroy(p);
}

// A setter refusing a value leaves the earlier one in force.
static void refused_value_keeps_old(void **state) {
    (void)state;
    params_t p = new_params();
    unsigned n0 = 0;
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, &n0, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, UMF_NUMA_MODE_BIND),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, NULL, 3),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, (umf_numa_mode_t)99),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(try_create(p), UMF_RESULT_SUCCESS); // BIND {0}
    umfOsMemoryProviderParamsDestroy(p);
}

typedef struct combo_t {
    const char *what;
    umf_numa_mode_t mode;
    unsigned list_len;  // of {0, 1000}: 0, 1 ({0}) or 2 ({0, 1000})
    bool partitions;    // {1 -> target}
    unsigned target;
    umf_result_t want;
} combo_t;

static void create_combinations(void **state) {
    (void)state;
    const umf_result_t bad = UMF_RESULT_ERROR_INVALID_ARGUMENT;
    const combo_t c[] = {
        {"DEFAULT with a list", UMF_NUMA_MODE_DEFAULT, 1, false, 0, bad},
        {"LOCAL with a list", UMF_NUMA_MODE_LOCAL, 1, false, 0, bad},
        {"BIND without a list", UMF_NUMA_MODE_BIND, 0, false, 0, bad},
        {"INTERLEAVE without a list", UMF_NUMA_MODE_INTERLEAVE, 0, false, 0, bad},
        {"SPLIT without a list", UMF_NUMA_MODE_SPLIT, 0, false, 0, bad},
        {"partitions without SPLIT", UMF_NUMA_MODE_BIND, 1, true, 0, bad},
        {"partition target not in the list", UMF_NUMA_MODE_SPLIT, 1, true, 1, bad},
        {"node 1000 (BIND)", UMF_NUMA_MODE_BIND, 2, false, 0, bad},
        {"node 1000 (PREFERRED)", UMF_NUMA_MODE_PREFERRED, 2, false, 0, bad},
        {"node 1000 (SPLIT)", UMF_NUMA_MODE_SPLIT, 2, false, 0, bad},
        {"PREFERRED without a list", UMF_NUMA_MODE_PREFERRED, 0, false, 0, UMF_RESULT_SUCCESS},
        {"SPLIT {0} with partitions", UMF_NUMA_MODE_SPLIT, 1, true, 0, UMF_RESULT_SUCCESS},
        {"DEFAULT", UMF_NUMA_MODE_DEFAULT, 0, false, 0, UMF_RESULT_SUCCESS},
        {"LOCAL", UMF_NUMA_MODE_LOCAL, 0, false, 0, UMF_RESULT_SUCCESS},
    };
    unsigned list[2] = {0, 1000};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        params_t p = new_params();
        umf_numa_split_partition_t part = {1, c[i].target};
        if (c[i].list_len)
            assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, list, c[i].list_len),
                             UMF_RESULT_SUCCESS);
        assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, c[i].mode), UMF_RESULT_SUCCESS);
        if (c[i].partitions)
            assert_int_equal(umfOsMemoryProviderParamsSetPartitions(p, &part, 1),
                             UMF_RESULT_SUCCESS);
        umf_result_t r = try_create(p);
        if (r != c[i].want)
            fail_msg("%s: got %d, want %d", c[i].what, (int)r, (int)c[i].want);
        umfOsMemoryProviderParamsDestroy(p);
    }
}

static void huge_pages_with_shm_name(void **state) {
    (void)state;
    params_t p = new_params();
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, "hetmem-test-huge"),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(hetmem_os_provider_params_set_huge_pages(p, (size_t)2 << 20),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(try_create(p), UMF_RESULT_ERROR_NOT_SUPPORTED);
    // A private provider ignores the name.
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_PRIVATE),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(try_create(p), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(p);
}

// part_size that cannot be rounded up to a page is refused at creation.
static void part_size_overflow(void **state) {
    (void)state;
    params_t p = new_params();
    unsigned n0 = 0;
    assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, &n0, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, UMF_NUMA_MODE_INTERLEAVE),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetPartSize(p, SIZE_MAX), UMF_RESULT_SUCCESS);
    assert_int_equal(try_create(p), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfOsMemoryProviderParamsSetPartSize(p, 1), UMF_RESULT_SUCCESS);
    assert_int_equal(try_create(p), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_destroy),
        cmocka_unit_test(null_handle),
        cmocka_unit_test(protection),
        cmocka_unit_test(visibility_and_name),
        cmocka_unit_test(numa_list_and_mode),
        cmocka_unit_test(refused_value_keeps_old),
        cmocka_unit_test(create_combinations),
        cmocka_unit_test(huge_pages_with_shm_name),
        cmocka_unit_test(part_size_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
