// SPDX-License-Identifier: MIT
// A memkind 1.14 program: built against Debian's memkind headers only (and
// linked against Debian's libmemkind.so.0 or ours), run with hetmem's
// libmemkind.so.0 first on LD_LIBRARY_PATH. It uses every exported kind
// symbol and the whole public API with the headers' enum values, and checks
// that the library it runs on is the one named on the command line.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hbwmalloc.h>
#include <memkind.h>

#include "abi_check.h"

static void sink(void *opaque, const char *s) { *(size_t *)opaque += strlen(s); }

int main(int argc, char **argv) {
    // the library we run on
    Dl_info info;
    CHECK(dladdr((void *)memkind_malloc, &info) != 0);
    printf("memkind_malloc from %s\n", info.dli_fname);
    if (argc > 1) {
        char *want = realpath(argv[1], NULL), *got = realpath(info.dli_fname, NULL);
        CHECK(want && got && strcmp(want, got) == 0);
        free(want);
        free(got);
    }
    CHECK(memkind_get_version() / 1000 == 1014);

    // every exported kind, by symbol and by partition number
    struct {
        memkind_t *sym;
        int partition;
    } kinds[] = {
        {&MEMKIND_DEFAULT, MEMKIND_PARTITION_DEFAULT},
        {&MEMKIND_HBW, MEMKIND_PARTITION_HBW},
        {&MEMKIND_HBW_HUGETLB, MEMKIND_PARTITION_HBW_HUGETLB},
        {&MEMKIND_HBW_PREFERRED, MEMKIND_PARTITION_HBW_PREFERRED},
        {&MEMKIND_HBW_PREFERRED_HUGETLB, MEMKIND_PARTITION_HBW_PREFERRED_HUGETLB},
        {&MEMKIND_HUGETLB, MEMKIND_PARTITION_HUGETLB},
        {&MEMKIND_HBW_GBTLB, MEMKIND_PARTITION_HBW_GBTLB},
        {&MEMKIND_HBW_PREFERRED_GBTLB, MEMKIND_PARTITION_HBW_PREFERRED_GBTLB},
        {&MEMKIND_GBTLB, MEMKIND_PARTITION_GBTLB},
        {&MEMKIND_HBW_INTERLEAVE, MEMKIND_PARTITION_HBW_INTERLEAVE},
        {&MEMKIND_INTERLEAVE, MEMKIND_PARTITION_INTERLEAVE},
        {&MEMKIND_REGULAR, MEMKIND_PARTITION_REGULAR},
        {&MEMKIND_HBW_ALL, MEMKIND_PARTITION_HBW_ALL},
        {&MEMKIND_HBW_ALL_HUGETLB, MEMKIND_PARTITION_HBW_ALL_HUGETLB},
        {&MEMKIND_DAX_KMEM, MEMKIND_PARTITION_DAX_KMEM},
        {&MEMKIND_DAX_KMEM_ALL, MEMKIND_PARTITION_DAX_KMEM_ALL},
        {&MEMKIND_DAX_KMEM_PREFERRED, MEMKIND_PARTITION_DAX_KMEM_PREFERRED},
        {&MEMKIND_DAX_KMEM_INTERLEAVE, MEMKIND_PARTITION_DAX_KMEM_INTERLEAVE},
        {&MEMKIND_HIGHEST_CAPACITY, MEMKIND_PARTITION_HIGHEST_CAPACITY},
        {&MEMKIND_HIGHEST_CAPACITY_PREFERRED, MEMKIND_PARTITION_HIGHEST_CAPACITY_PREFERRED},
        {&MEMKIND_HIGHEST_CAPACITY_LOCAL, MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL},
        {&MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED,
         MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL_PREFERRED},
        {&MEMKIND_LOWEST_LATENCY_LOCAL, MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL},
        {&MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED, MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL_PREFERRED},
        {&MEMKIND_HIGHEST_BANDWIDTH_LOCAL, MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL},
        {&MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED,
         MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL_PREFERRED},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        memkind_t k = NULL;
        CHECK(*kinds[i].sym != NULL);
        CHECK(memkind_get_kind_by_partition(kinds[i].partition, &k) == MEMKIND_SUCCESS);
        CHECK(k == *kinds[i].sym);
        int avail = memkind_check_available(k);
        errno = 0;
        void *p = memkind_malloc(k, 1000);
        CHECK(avail == 0 ? p != NULL || errno == ENOMEM : p == NULL && errno == ENOMEM);
        memkind_free(k, p);
    }

    // heap management with the headers' values
    char *p = memkind_malloc(MEMKIND_DEFAULT, 100);
    CHECK(p && memkind_detect_kind(p) == MEMKIND_DEFAULT);
    CHECK(memkind_malloc_usable_size(MEMKIND_DEFAULT, p) >= 100);
    p = memkind_realloc(NULL, p, 5000);
    CHECK(p != NULL);
    memkind_free(NULL, p);
    p = memkind_calloc(MEMKIND_REGULAR, 10, 10);
    CHECK(p && p[99] == 0);
    memkind_free(MEMKIND_REGULAR, p);
    void *q = (void *)1;
    CHECK(memkind_posix_memalign(MEMKIND_DEFAULT, &q, 3, 10) == EINVAL && q == (void *)1);
    CHECK(memkind_posix_memalign(MEMKIND_DEFAULT, &q, 64, 10) == 0);
    memkind_free(NULL, q);
    CHECK(memkind_defrag_reallocate(MEMKIND_DEFAULT, NULL) == NULL);

    // kind management
    memkind_t k;
    CHECK(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_PREFERRED_LOCAL, 0, &k) ==
              MEMKIND_SUCCESS &&
          k == MEMKIND_DEFAULT);
    CHECK(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT | MEMKIND_MEMTYPE_HIGH_BANDWIDTH,
                              MEMKIND_POLICY_INTERLEAVE_ALL, 0, &k) == MEMKIND_SUCCESS &&
          k == MEMKIND_INTERLEAVE);
    CHECK(memkind_create_kind(MEMKIND_MEMTYPE_DEFAULT, MEMKIND_POLICY_BIND_ALL, 0, &k) ==
          MEMKIND_ERROR_INVALID);
    CHECK(memkind_create_kind(MEMKIND_MEMTYPE_HIGH_BANDWIDTH, MEMKIND_POLICY_BIND_LOCAL,
                              MEMKIND_MASK_PAGE_SIZE_2MB, &k) == MEMKIND_SUCCESS ||
          memkind_check_available(MEMKIND_HBW_HUGETLB) != 0);
    CHECK(memkind_get_capacity(MEMKIND_DEFAULT) > 0);

    memkind_t pk;
    CHECK(memkind_create_pmem("/tmp", MEMKIND_PMEM_MIN_SIZE - 1, &pk) == MEMKIND_ERROR_INVALID);
    struct memkind_config *cfg = memkind_config_new();
    memkind_config_set_path(cfg, "/tmp");
    memkind_config_set_size(cfg, MEMKIND_PMEM_MIN_SIZE);
    memkind_config_set_memory_usage_policy(cfg, MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE);
    CHECK(memkind_create_pmem_with_config(cfg, &pk) == MEMKIND_SUCCESS);
    memkind_config_delete(cfg);
    p = memkind_malloc(pk, 1 << 20);
    CHECK(p != NULL && memkind_detect_kind(p) == pk);
    memkind_free(pk, p);
    CHECK(memkind_get_capacity(pk) == MEMKIND_PMEM_MIN_SIZE);
    CHECK(memkind_destroy_kind(pk) == MEMKIND_SUCCESS);
    CHECK(memkind_check_dax_path("/nonexistent") != 0);
    static char area[1 << 20] __attribute__((aligned(4096)));
    CHECK(memkind_create_fixed(area, sizeof area, &k) == MEMKIND_SUCCESS);
    p = memkind_malloc(k, 1000);
    CHECK(p >= area && p < area + sizeof area);
    memkind_free(k, p);
    CHECK(memkind_destroy_kind(k) == MEMKIND_SUCCESS);

    // errors, statistics, enhancements
    char msg[MEMKIND_ERROR_MESSAGE_SIZE];
    memkind_error_message(MEMKIND_ERROR_INVALID, msg, sizeof msg);
    CHECK(strncmp(msg, "<memkind>", 9) == 0);
    size_t v = 0, printed = 0;
    p = memkind_malloc(MEMKIND_DEFAULT, 1 << 20);
    CHECK(memkind_update_cached_stats() == MEMKIND_SUCCESS);
    CHECK(memkind_get_stat(MEMKIND_DEFAULT, MEMKIND_STAT_TYPE_ALLOCATED, &v) == 0 && v >= 1 << 20);
    CHECK(memkind_get_stat(NULL, MEMKIND_STAT_TYPE_RESIDENT, &v) == 0 && v >= 1 << 20);
    CHECK(memkind_get_stat(NULL, MEMKIND_STAT_TYPE_MAX_VALUE, &v) == MEMKIND_ERROR_INVALID);
    CHECK(memkind_stats_print(sink, &printed,
                              MEMKIND_STAT_PRINT_JSON_FORMAT | MEMKIND_STAT_PRINT_OMIT_MUTEX) ==
              0 &&
          printed > 0);
    memkind_free(MEMKIND_DEFAULT, p);
    CHECK(memkind_set_bg_threads(false) == MEMKIND_SUCCESS);

    // hbwmalloc
    CHECK(hbw_set_policy(HBW_POLICY_PREFERRED) == 0);
    CHECK(hbw_get_policy() == HBW_POLICY_PREFERRED);
    CHECK(hbw_set_policy(HBW_POLICY_BIND) == EPERM);
    int hbw = hbw_check_available();
    CHECK(hbw == 0 || hbw == ENODEV);
    p = hbw_malloc(100);
    CHECK(p != NULL);
    CHECK(hbw_malloc_usable_size(p) >= 100);
    p = hbw_realloc(p, 200);
    CHECK(hbw_verify_memory_region(p, 200, HBW_TOUCH_PAGES) == (hbw == 0 ? 0 : -1));
    hbw_free(p);
    p = hbw_calloc(2, 2);
    hbw_free(p);
    CHECK(hbw_posix_memalign(&q, 64, 64) == 0);
    hbw_free(q);
    CHECK(hbw_posix_memalign_psize(&q, 64, 64, HBW_PAGESIZE_1GB) == EINVAL);

    printf("%s: %d failure(s)\n", failures ? "FAILED" : "PASSED", failures);
    return failures ? 1 : 0;
}
