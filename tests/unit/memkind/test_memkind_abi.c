// SPDX-License-Identifier: MIT
// memkind 1.14's internal ABI on the host (one NUMA node or more, no HBW):
// each static kind's own ops table and init_once, the nodemask functions
// against the node the kind's pages land on, tables used as templates
// (memkind_arena_create, a copy with an overridden member). The guest
// cases with HBW and KMEM nodes: tests/vm/memkind ("abi").
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>
#include <memkind.h>
#include <memkind/internal/memkind_arena.h>
#include <memkind/internal/memkind_capacity.h>
#include <memkind/internal/memkind_dax_kmem.h>
#include <memkind/internal/memkind_fixed.h>
#include <memkind/internal/memkind_gbtlb.h>
#include <memkind/internal/memkind_hbw.h>
#include <memkind/internal/memkind_hmat.h>
#include <memkind/internal/memkind_hugetlb.h>
#include <memkind/internal/memkind_interleave.h>
#include <memkind/internal/memkind_pmem.h>
#include <memkind/internal/memkind_regular.h>

#define MPOL_F_NODE_ (1 << 0)
#define MPOL_F_ADDR_ (1 << 1)

// The node of the page at p (touched first).
static int node_of(void *p) {
    *(volatile char *)p = 1;
    int node = -1;
    long r = syscall(SYS_get_mempolicy, &node, NULL, 0, p, MPOL_F_NODE_ | MPOL_F_ADDR_);
    assert_int_equal(r, 0);
    return node;
}

static void test_static_tables(void **state) {
    (void)state;
    struct {
        memkind_t kind;
        struct memkind_ops *ops;
    } rows[] = {
#define R(K) {MEMKIND_##K, &MEMKIND_##K##_OPS}
        R(DEFAULT), R(HBW), R(HBW_ALL), R(HBW_HUGETLB), R(HBW_ALL_HUGETLB), R(HBW_PREFERRED),
        R(HBW_PREFERRED_HUGETLB), R(HBW_INTERLEAVE), R(HBW_GBTLB), R(HBW_PREFERRED_GBTLB),
        R(GBTLB), R(HUGETLB), R(INTERLEAVE), R(REGULAR), R(DAX_KMEM), R(DAX_KMEM_ALL),
        R(DAX_KMEM_PREFERRED), R(DAX_KMEM_INTERLEAVE), R(HIGHEST_CAPACITY),
        R(HIGHEST_CAPACITY_PREFERRED), R(HIGHEST_CAPACITY_LOCAL),
        R(HIGHEST_CAPACITY_LOCAL_PREFERRED), R(LOWEST_LATENCY_LOCAL),
        R(LOWEST_LATENCY_LOCAL_PREFERRED), R(HIGHEST_BANDWIDTH_LOCAL),
        R(HIGHEST_BANDWIDTH_LOCAL_PREFERRED),
    };
    assert_int_equal(sizeof rows / sizeof rows[0], MEMKIND_NUM_BASE_KIND);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_ptr_equal(rows[i].kind->ops, rows[i].ops);
        assert_non_null(rows[i].ops->init_once);
        assert_non_null(rows[i].ops->get_mbind_nodemask);
        for (size_t j = 0; j < i; j++) // one table per kind
            assert_ptr_not_equal(rows[i].ops, rows[j].ops);
        // a table's check is its kind's
        assert_int_equal(rows[i].ops->check_available(rows[i].kind),
                         memkind_check_available(rows[i].kind));
    }
    assert_int_equal(memkind_hbw_check_available(NULL), memkind_check_available(MEMKIND_HBW));
    assert_int_equal(memkind_hugetlb_check_available_2mb(NULL),
                     memkind_check_available(MEMKIND_HUGETLB));
    assert_int_equal(memkind_hbw_hugetlb_check_available(NULL),
                     memkind_check_available(MEMKIND_HBW_HUGETLB));
    memkind_hbw_init_once();
    memkind_interleave_init_once();
    memkind_hugetlb_init_once();
    // created kinds: their own tables, no init_once
    static char area[1 << 20] __attribute__((aligned(4096)));
    memkind_t fk;
    assert_int_equal(memkind_create_fixed(area, sizeof area, &fk), 0);
    assert_ptr_equal(fk->ops, &MEMKIND_FIXED_OPS);
    assert_null(fk->ops->init_once);
    void *p = memkind_fixed_mmap(fk, NULL, 8192); // from the buffer, page aligned
    assert_true(p != MAP_FAILED && (char *)p >= area && (char *)p + 8192 <= area + sizeof area);
    assert_int_equal((uintptr_t)p % 4096, 0);
    memkind_free(fk, p);
    assert_true(memkind_pmem_mmap(fk, NULL, 4096) == MAP_FAILED); // not a pmem kind
    assert_int_equal(memkind_fixed_destroy(fk), 0);
    assert_int_equal(memkind_destroy_kind(fk), MEMKIND_ERROR_INVALID); // destroyed already
    int flags = 0;
    assert_int_equal(memkind_pmem_get_mmap_flags(NULL, &flags), 0);
    assert_int_equal(flags, MAP_SHARED);
    assert_int_equal(memkind_hugetlb_get_mmap_flags(NULL, &flags), 0);
    assert_int_equal(flags, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT));
}

static int mask_nodes(const unsigned long *mask, int *first) {
    int n = 0;
    *first = -1;
    for (int i = 0; i < 1024; i++) {
        if (mask[i / 64] >> (i % 64) & 1) {
            if (*first < 0)
                *first = i;
            n++;
        }
    }
    return n;
}

// The nodemask of REGULAR is where its pages land; HBW and KMEM fail as
// their kinds do (no such nodes on the host).
static void test_nodemasks(void **state) {
    (void)state;
    unsigned long mask[16];
    memset(mask, 0xff, sizeof mask);
    assert_int_equal(memkind_regular_all_get_mbind_nodemask(NULL, mask, 1024), 0);
    int first;
    int n = mask_nodes(mask, &first);
    assert_true(n >= 1);
    char *p = memkind_malloc(MEMKIND_REGULAR, 1 << 20);
    assert_non_null(p);
    int node = node_of(p);
    assert_true(node >= 0 && (mask[node / 64] >> (node % 64) & 1));
    memkind_free(MEMKIND_REGULAR, p);
    // maxnode bits only: the words they span are written, nothing beyond
    memset(mask, 0xff, sizeof mask);
    assert_int_equal(memkind_regular_all_get_mbind_nodemask(NULL, mask, (unsigned)first + 1), 0);
    assert_true(first < 64);
    assert_int_equal(mask[0], 1ul << first);
    assert_int_equal(mask[1], ~0ul);
    assert_int_equal(memkind_regular_all_get_mbind_nodemask(NULL, NULL, 64),
                     MEMKIND_ERROR_INVALID);
    int hbw = memkind_check_available(MEMKIND_HBW);
    assert_int_equal(memkind_hbw_get_mbind_nodemask(NULL, mask, 1024), hbw);
    assert_int_equal(memkind_hbw_all_get_mbind_nodemask(NULL, mask, 1024),
                     memkind_check_available(MEMKIND_HBW_ALL));
    assert_int_equal(memkind_dax_kmem_all_get_mbind_nodemask(NULL, mask, 1024),
                     memkind_check_available(MEMKIND_DAX_KMEM_ALL));
}

// A table as memkind_arena_create's template, and a copy that overrides a
// member: allocations go through the table's nodemask.
static int calls;
static int counting_nodemask(struct memkind *k, unsigned long *mask, unsigned long maxnode) {
    calls++;
    return memkind_regular_all_get_mbind_nodemask(k, mask, maxnode);
}

static void test_templates(void **state) {
    (void)state;
    static struct memkind direct;
    assert_int_equal(memkind_arena_create(&direct, &MEMKIND_REGULAR_OPS, "abi_regular"), 0);
    char *p = memkind_malloc(&direct, 3 << 20);
    assert_non_null(p);
    memset(p, 5, 3 << 20);
    assert_ptr_equal(memkind_detect_kind(p), &direct);
    memkind_free(&direct, p);
    p = memkind_malloc(&direct, 1 << 20);
    assert_int_equal(memkind_destroy_kind(&direct), 0); // the table's destroy: the heap goes
    assert_null(memkind_detect_kind(p));

    static struct memkind_ops ops;
    ops = MEMKIND_REGULAR_OPS;
    ops.get_mbind_nodemask = counting_nodemask;
    static struct memkind copy;
    assert_int_equal(ops.create(&copy, &ops, "abi_regular_copy"), 0);
    assert_int_equal(memkind_set_arena_map_len(&copy), 0);
    assert_true(copy.arena_map_len >= 1);
    p = memkind_malloc(&copy, 1 << 20);
    assert_non_null(p);
    assert_true(calls >= 1); // the copy's own member mapped the memory
    unsigned long mask[16];
    memkind_regular_all_get_mbind_nodemask(NULL, mask, 1024);
    int node = node_of(p);
    assert_true(mask[node / 64] >> (node % 64) & 1);
    memkind_free(&copy, p);
    assert_int_equal(memkind_destroy_kind(&copy), 0);

    // HBW's table without HBW memory: NULL and ENOMEM, as MEMKIND_HBW
    static struct memkind hbw;
    assert_int_equal(memkind_arena_create(&hbw, &MEMKIND_HBW_OPS, "abi_hbw"), 0);
    errno = 0;
    p = memkind_malloc(&hbw, 4096);
    if (memkind_check_available(MEMKIND_HBW) != 0) {
        assert_null(p);
        assert_int_equal(errno, ENOMEM);
    }
    memkind_free(&hbw, p);
    assert_int_equal(memkind_destroy_kind(&hbw), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_static_tables),
        cmocka_unit_test(test_nodemasks),
        cmocka_unit_test(test_templates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
