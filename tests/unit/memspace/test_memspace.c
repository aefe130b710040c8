// SPDX-License-Identifier: MIT
// Memspaces, memory targets and policies on the real topology of the build
// machine (any number of nodes; one is enough): target getters, the target
// list operations, clone, the filters, the predefined memspaces (HostAll =
// every node, HighestCapacity = the largest; HighestBandwidth and
// LowestLatency exist iff the machine has HMAT - on the usual one-node
// build machine they are NULL), concurrent first use, policies, and the OS
// provider a memspace and a policy make (mode, node list, part size,
// partitions) with its pages where the memspace says.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <umf/memspace.h>
#include <umf/pools/pool_proxy.h>

#include "base/util.h"
#include "memspace/memspace_priv.h"
#include "os/os.h"
#include "pools/pool.h"
#include "providers/provider_os.h"
#include "topology/topo.h"
#include "test_skip.h"

#define OK UMF_RESULT_SUCCESS
#define INVAL UMF_RESULT_ERROR_INVALID_ARGUMENT

static unsigned first_node(void) { return topo_node_at(0)->id; }

static unsigned ms_id(umf_const_memspace_handle_t ms, unsigned i) {
    unsigned id = ~0u;
    assert_int_equal(umfMemtargetGetId(umfMemspaceMemtargetGet(ms, i), &id), OK);
    return id;
}

// The node ids of a memspace as a set.
static nodeset_t ms_nodes(umf_const_memspace_handle_t ms) {
    nodeset_t s;
    nodeset_zero(&s);
    for (unsigned i = 0; i < umfMemspaceMemtargetNum(ms); i++)
        nodeset_set(&s, ms_id(ms, i));
    return s;
}

static void memtarget_getters(void **state) {
    (void)state;
    umf_const_memspace_handle_t all = umfMemspaceHostAllGet();
    assert_non_null(all);
    umf_const_memtarget_handle_t t = umfMemspaceMemtargetGet(all, 0);
    assert_non_null(t);
    umf_memtarget_type_t type = UMF_MEMTARGET_TYPE_UNKNOWN;
    size_t cap = 0;
    unsigned id = ~0u;
    assert_int_equal(umfMemtargetGetType(t, &type), OK);
    assert_int_equal(type, UMF_MEMTARGET_TYPE_NUMA);
    assert_int_equal(umfMemtargetGetId(t, &id), OK);
    assert_int_equal(id, first_node());
    assert_int_equal(umfMemtargetGetCapacity(t, &cap), OK);
    assert_int_equal(cap, topo_node(id)->capacity);
    assert_true(cap > 0);
    assert_int_equal(umfMemtargetGetType(NULL, &type), INVAL);
    assert_int_equal(umfMemtargetGetType(t, NULL), INVAL);
    assert_int_equal(umfMemtargetGetCapacity(NULL, &cap), INVAL);
    assert_int_equal(umfMemtargetGetId(t, NULL), INVAL);
}

static void create_from_numa_array(void **state) {
    (void)state;
    unsigned ids[2] = {first_node(), first_node()};
    umf_memspace_handle_t ms = NULL;
    assert_int_equal(umfMemspaceCreateFromNumaArray(ids, 1, &ms), OK);
    assert_int_equal(umfMemspaceMemtargetNum(ms), 1);
    assert_int_equal(ms_id(ms, 0), first_node());
    umfMemspaceDestroy(ms);
    ms = (umf_memspace_handle_t)0x1;
    assert_int_equal(umfMemspaceCreateFromNumaArray(ids, 2, &ms), INVAL); // repeated
    assert_ptr_equal(ms, (void *)0x1); // outputs only on success
    unsigned bad = NODESET_MAX - 1;    // no machine has this node with memory here
    assert_int_equal(umfMemspaceCreateFromNumaArray(&bad, 1, &ms), INVAL);
    bad = 1u << 30;
    assert_int_equal(umfMemspaceCreateFromNumaArray(&bad, 1, &ms), INVAL);
    assert_int_equal(umfMemspaceCreateFromNumaArray(NULL, 1, &ms), INVAL);
    assert_int_equal(umfMemspaceCreateFromNumaArray(ids, 0, &ms), INVAL);
    assert_int_equal(umfMemspaceCreateFromNumaArray(ids, 1, NULL), INVAL);
    // Every node, in reverse order: the order is kept.
    unsigned n = topo_node_count(), rev[NODESET_MAX];
    for (unsigned i = 0; i < n; i++)
        rev[i] = topo_node_at(n - 1 - i)->id;
    assert_int_equal(umfMemspaceCreateFromNumaArray(rev, n, &ms), OK);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(ms_id(ms, i), rev[i]);
    umfMemspaceDestroy(ms);
    umfMemspaceDestroy(NULL);
}

static void target_list(void **state) {
    (void)state;
    umf_memspace_handle_t ms = NULL, other = NULL;
    assert_int_equal(umfMemspaceNew(&ms), OK);
    assert_int_equal(umfMemspaceNew(NULL), INVAL);
    assert_int_equal(umfMemspaceMemtargetNum(ms), 0);
    assert_null(umfMemspaceMemtargetGet(ms, 0));
    assert_int_equal(umfMemspaceMemtargetNum(NULL), 0);
    assert_null(umfMemspaceMemtargetGet(NULL, 0));

    umf_const_memtarget_handle_t t0 = umfMemspaceMemtargetGet(umfMemspaceHostAllGet(), 0);
    assert_int_equal(umfMemspaceMemtargetAdd(ms, t0), OK);
    assert_int_equal(umfMemspaceMemtargetNum(ms), 1);
    umf_const_memtarget_handle_t copy = umfMemspaceMemtargetGet(ms, 0);
    assert_ptr_not_equal(copy, t0); // a copy, as UMF documents
    assert_int_equal(ms_id(ms, 0), first_node());
    assert_int_equal(umfMemspaceMemtargetAdd(ms, t0), INVAL);   // already there
    assert_int_equal(umfMemspaceMemtargetAdd(ms, copy), INVAL); // the same node
    assert_int_equal(umfMemspaceMemtargetAdd(NULL, t0), INVAL);
    assert_int_equal(umfMemspaceMemtargetAdd(ms, NULL), INVAL);
    assert_null(umfMemspaceMemtargetGet(ms, 1));

    // Remove by a target of another memspace for the same node.
    assert_int_equal(umfMemspaceNew(&other), OK);
    assert_int_equal(umfMemspaceMemtargetRemove(other, t0), INVAL); // not in it
    assert_int_equal(umfMemspaceMemtargetRemove(ms, t0), OK);
    assert_int_equal(umfMemspaceMemtargetNum(ms), 0);
    assert_int_equal(umfMemspaceMemtargetRemove(ms, t0), INVAL);
    assert_int_equal(umfMemspaceMemtargetRemove(NULL, t0), INVAL);

    // Many adds and removes keep order and earlier handles valid.
    unsigned n = topo_node_count();
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(umfMemspaceMemtargetAdd(ms, umfMemspaceMemtargetGet(umfMemspaceHostAllGet(), i)), OK);
    umf_const_memtarget_handle_t last = umfMemspaceMemtargetGet(ms, n - 1);
    if (n > 1)
        assert_int_equal(umfMemspaceMemtargetRemove(ms, umfMemspaceMemtargetGet(ms, 0)), OK);
    unsigned id;
    assert_int_equal(umfMemtargetGetId(last, &id), OK);
    assert_int_equal(id, topo_node_at(n - 1)->id);
    umfMemspaceDestroy(other);
    umfMemspaceDestroy(ms);
}

static void clone_and_predefined_immutable(void **state) {
    (void)state;
    umf_const_memspace_handle_t all = umfMemspaceHostAllGet();
    umf_memspace_handle_t c = NULL;
    assert_int_equal(umfMemspaceClone(all, &c), OK);
    assert_int_equal(umfMemspaceMemtargetNum(c), umfMemspaceMemtargetNum(all));
    nodeset_t a = ms_nodes(all), b = ms_nodes(c);
    assert_true(nodeset_equal(&a, &b));
    assert_int_equal(umfMemspaceMemtargetRemove(c, umfMemspaceMemtargetGet(c, 0)), OK);
    assert_int_equal(umfMemspaceMemtargetNum(all), topo_node_count()); // untouched
    umfMemspaceDestroy(c);
    assert_int_equal(umfMemspaceClone(NULL, &c), INVAL);
    assert_int_equal(umfMemspaceClone(all, NULL), INVAL);

    // A predefined memspace refuses changes even with the const cast away,
    // and Destroy leaves it alone.
    umf_memspace_handle_t mut = (umf_memspace_handle_t)all;
    unsigned id = first_node();
    assert_int_equal(umfMemspaceMemtargetRemove(mut, umfMemspaceMemtargetGet(all, 0)), INVAL);
    assert_int_equal(umfMemspaceFilterById(mut, &id, 1), INVAL);
    assert_int_equal(umfMemspaceFilterByCapacity(mut, 0), INVAL);
    umfMemspaceDestroy(mut);
    assert_ptr_equal(umfMemspaceHostAllGet(), all);
    assert_int_equal(umfMemspaceMemtargetNum(all), topo_node_count());
}

static int keep_none(umf_const_memspace_handle_t ms, umf_const_memtarget_handle_t t, void *a) {
    (void)ms, (void)t;
    (*(int *)a)++;
    return 0;
}
static int keep_all(umf_const_memspace_handle_t ms, umf_const_memtarget_handle_t t, void *a) {
    (void)ms, (void)t, (void)a;
    return 7;
}
static int fail_second(umf_const_memspace_handle_t ms, umf_const_memtarget_handle_t t, void *a) {
    (void)ms, (void)t;
    return ++(*(int *)a) == 2 ? -5 : 0;
}

static void filters(void **state) {
    (void)state;
    umf_memspace_handle_t ms;
    unsigned n = topo_node_count(), id = first_node(), none = NODESET_MAX - 1;
    assert_int_equal(umfMemspaceClone(umfMemspaceHostAllGet(), &ms), OK);
    assert_int_equal(umfMemspaceFilterById(ms, &id, 1), OK);
    assert_int_equal(umfMemspaceMemtargetNum(ms), 1);
    assert_int_equal(ms_id(ms, 0), id);
    assert_int_equal(umfMemspaceFilterById(ms, &none, 1), OK); // may end empty, as UMF
    assert_int_equal(umfMemspaceMemtargetNum(ms), 0);
    assert_int_equal(umfMemspaceFilterById(ms, NULL, 1), INVAL);
    assert_int_equal(umfMemspaceFilterById(ms, &id, 0), INVAL);
    assert_int_equal(umfMemspaceFilterById(NULL, &id, 1), INVAL);
    umfMemspaceDestroy(ms);

    // Capacity: the exact capacity of the smallest node keeps all; one byte
    // more than the largest keeps none.
    uint64_t small = UINT64_MAX, big = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t c = topo_node_at(i)->capacity;
        small = c < small ? c : small;
        big = c > big ? c : big;
    }
    assert_int_equal(umfMemspaceClone(umfMemspaceHostAllGet(), &ms), OK);
    assert_int_equal(umfMemspaceFilterByCapacity(ms, (int64_t)small), OK);
    assert_int_equal(umfMemspaceMemtargetNum(ms), n);
    assert_int_equal(umfMemspaceFilterByCapacity(ms, -1), INVAL);
    assert_int_equal(umfMemspaceFilterByCapacity(ms, (int64_t)big + 1), OK);
    assert_int_equal(umfMemspaceMemtargetNum(ms), 0);
    assert_int_equal(umfMemspaceFilterByCapacity(NULL, 0), INVAL);
    umfMemspaceDestroy(ms);

    // User filters: every target is asked; an error changes nothing.
    int calls = 0;
    assert_int_equal(umfMemspaceClone(umfMemspaceHostAllGet(), &ms), OK);
    assert_int_equal(umfMemspaceUserFilter(ms, keep_all, NULL), OK);
    assert_int_equal(umfMemspaceMemtargetNum(ms), n);
    if (n >= 2) {
        assert_int_equal(umfMemspaceUserFilter(ms, fail_second, &calls), UMF_RESULT_ERROR_USER_SPECIFIC);
        assert_int_equal(umfMemspaceMemtargetNum(ms), n);
    }
    calls = 0;
    assert_int_equal(umfMemspaceUserFilter(ms, keep_none, &calls), OK);
    assert_int_equal(calls, (int)n);
    assert_int_equal(umfMemspaceMemtargetNum(ms), 0);
    assert_int_equal(umfMemspaceUserFilter(ms, NULL, NULL), INVAL);
    assert_int_equal(umfMemspaceUserFilter(NULL, keep_all, NULL), INVAL);
    umfMemspaceDestroy(ms);
}

// On this machine, from the topology's own figures (docs/memspaces-ipc.md).
static void predefined_on_this_machine(void **state) {
    (void)state;
    umf_const_memspace_handle_t all = umfMemspaceHostAllGet(), cap = umfMemspaceHighestCapacityGet();
    assert_non_null(all);
    assert_non_null(cap);
    nodeset_t got = ms_nodes(all);
    assert_true(nodeset_equal(&got, topo_all_nodes()));
    uint64_t big = 0;
    for (unsigned i = 0; i < topo_node_count(); i++)
        big = topo_node_at(i)->capacity > big ? topo_node_at(i)->capacity : big;
    for (unsigned i = 0; i < umfMemspaceMemtargetNum(cap); i++)
        assert_int_equal(topo_node(ms_id(cap, i))->capacity, big);
    if (topo_node_count() == 1) {
        assert_int_equal(umfMemspaceMemtargetNum(all), 1);
        assert_int_equal(umfMemspaceMemtargetNum(cap), 1);
        assert_int_equal(ms_id(cap, 0), first_node());
    }
    umf_const_memspace_handle_t bw = umfMemspaceHighestBandwidthGet(),
                                lat = umfMemspaceLowestLatencyGet();
    if (!topo_has_hmat()) { // the usual build machine
        assert_null(bw);
        assert_null(lat);
        assert_non_null(memspace_predefined_reason(MEMSPACE_HIGHEST_BANDWIDTH));
        assert_non_null(strstr(memspace_predefined_reason(MEMSPACE_LOWEST_LATENCY), "HMAT"));
    } else {
        assert_non_null(bw);
        assert_non_null(lat);
    }
    assert_null(memspace_predefined_reason(MEMSPACE_HOST_ALL));
    // Computed once: the same handle every time.
    assert_ptr_equal(umfMemspaceHostAllGet(), all);
    assert_ptr_equal(umfMemspaceHighestCapacityGet(), cap);
    assert_ptr_equal(umfMemspaceHighestBandwidthGet(), bw);
}

#define THREADS 8
static pthread_barrier_t barrier;
static void *first_use(void *arg) {
    umf_const_memspace_handle_t *out = arg;
    pthread_barrier_wait(&barrier);
    out[0] = umfMemspaceHostAllGet();
    out[1] = umfMemspaceHighestCapacityGet();
    out[2] = umfMemspaceLowestLatencyGet();
    return NULL;
}

// Many threads ask first at once: one computation, one handle for all.
static void predefined_concurrent_first_use(void **state) {
    (void)state;
    memspace_predefined_reset_for_testing();
    pthread_t th[THREADS];
    umf_const_memspace_handle_t got[THREADS][3];
    pthread_barrier_init(&barrier, NULL, THREADS);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, first_use, got[i]), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&barrier);
    for (int i = 0; i < THREADS; i++) {
        assert_non_null(got[i][0]);
        for (int k = 0; k < 3; k++)
            assert_ptr_equal(got[i][k], got[0][k]);
    }
}

static void mempolicy_api(void **state) {
    (void)state;
    umf_mempolicy_handle_t p = NULL;
    umf_mempolicy_split_partition_t parts[2] = {{1, first_node()}, {3, first_node()}};
    assert_int_equal(umfMempolicyCreate(UMF_MEMPOLICY_BIND, NULL), INVAL);
    assert_int_equal(umfMempolicyCreate((umf_mempolicy_membind_t)42, &p), INVAL);
    assert_int_equal(umfMempolicyCreate(UMF_MEMPOLICY_BIND, &p), OK);
    assert_int_equal(umfMempolicySetInterleavePartSize(p, 4096), INVAL); // not INTERLEAVE
    assert_int_equal(umfMempolicySetCustomSplitPartitions(p, parts, 2), INVAL); // not SPLIT
    assert_int_equal(umfMempolicyDestroy(p), OK);
    assert_int_equal(umfMempolicyDestroy(NULL), INVAL);

    assert_int_equal(umfMempolicyCreate(UMF_MEMPOLICY_INTERLEAVE, &p), OK);
    assert_int_equal(umfMempolicySetInterleavePartSize(p, 3 * 4096), OK);
    assert_int_equal(p->part_size, 3 * 4096);
    assert_int_equal(umfMempolicySetInterleavePartSize(NULL, 1), INVAL);
    umfMempolicyDestroy(p);

    assert_int_equal(umfMempolicyCreate(UMF_MEMPOLICY_SPLIT, &p), OK);
    assert_int_equal(umfMempolicySetCustomSplitPartitions(p, parts, 2), OK);
    parts[0].weight = 99; // copied: the caller's array may change
    assert_int_equal(p->parts[0].weight, 1);
    parts[1].weight = 0;
    assert_int_equal(umfMempolicySetCustomSplitPartitions(p, parts, 2), INVAL);
    assert_int_equal(p->parts_len, 2); // the refused list left the old one
    assert_int_equal(umfMempolicySetCustomSplitPartitions(p, NULL, 2), INVAL);
    assert_int_equal(umfMempolicySetCustomSplitPartitions(p, parts, 0), INVAL);
    umfMempolicyDestroy(p);
}

static provider_os_t *os_priv(umf_memory_provider_handle_t h) { return h->priv; }

// Every policy becomes the OS provider's mode over the memspace's nodes.
// HostAll without a policy leaves placement to the kernel's default policy
// (UMF: no mbind); with a policy, the policy binds. Read back from a page.
static void hostall_default_policy(void **state) {
    (void)state;
    umf_mempolicy_handle_t bind;
    assert_int_equal(umfMempolicyCreate(UMF_MEMPOLICY_BIND, &bind), OK);
    const struct {
        umf_const_mempolicy_handle_t policy;
        umf_numa_mode_t mode;
        os_mpol_t kernel;
    } cases[] = {{NULL, UMF_NUMA_MODE_DEFAULT, OS_MPOL_DEFAULT}, {bind, UMF_NUMA_MODE_BIND, OS_MPOL_BIND}};
    for (size_t i = 0; i < 2; i++) {
        umf_memory_provider_handle_t h = NULL;
        assert_int_equal(umfMemoryProviderCreateFromMemspace(umfMemspaceHostAllGet(), cases[i].policy, &h), OK);
        assert_int_equal(os_priv(h)->mode, cases[i].mode);
        void *p = NULL;
        size_t ps = os_page_size();
        assert_int_equal(umfMemoryProviderAlloc(h, ps, 0, &p), OK);
        *(volatile char *)p = 1;
        os_mpol_t mode;
        assert_int_equal(os_get_mempolicy(p, &mode, NULL), 0);
        assert_int_equal(mode, cases[i].kernel);
        assert_int_equal(umfMemoryProviderFree(h, p, ps), OK);
        umfMemoryProviderDestroy(h);
    }
    umfMempolicyDestroy(bind);
}

static void provider_from_memspace(void **state) {
    (void)state;
    unsigned n0 = first_node();
    umf_memspace_handle_t ms, empty;
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemspaceCreateFromNumaArray(&n0, 1, &ms), OK);
    assert_int_equal(umfMemoryProviderCreateFromMemspace(ms, NULL, &h), OK);
    assert_int_equal(os_priv(h)->mode, UMF_NUMA_MODE_BIND);
    assert_int_equal(os_priv(h)->list_len, 1);
    assert_int_equal(os_priv(h)->list[0], n0);
    assert_false(os_priv(h)->shared);
    umfMemoryProviderDestroy(h);

    static const struct {
        umf_mempolicy_membind_t bind;
        umf_numa_mode_t mode;
    } map[] = {{UMF_MEMPOLICY_BIND, UMF_NUMA_MODE_BIND},
               {UMF_MEMPOLICY_INTERLEAVE, UMF_NUMA_MODE_INTERLEAVE},
               {UMF_MEMPOLICY_PREFERRED, UMF_NUMA_MODE_PREFERRED},
               {UMF_MEMPOLICY_SPLIT, UMF_NUMA_MODE_SPLIT}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        umf_mempolicy_handle_t p;
        assert_int_equal(umfMempolicyCreate(map[i].bind, &p), OK);
        if (map[i].bind == UMF_MEMPOLICY_INTERLEAVE)
            assert_int_equal(umfMempolicySetInterleavePartSize(p, 5000), OK);
        if (map[i].bind == UMF_MEMPOLICY_SPLIT) {
            umf_mempolicy_split_partition_t part = {2, n0};
            assert_int_equal(umfMempolicySetCustomSplitPartitions(p, &part, 1), OK);
        }
        assert_int_equal(umfMemoryProviderCreateFromMemspace(ms, p, &h), OK);
        provider_os_t *os = os_priv(h);
        assert_int_equal(os->mode, map[i].mode);
        assert_int_equal(os->list[0], n0);
        if (map[i].bind == UMF_MEMPOLICY_INTERLEAVE)
            assert_int_equal(os->part_size, ALIGN_UP(5000, os_page_size()));
        if (map[i].bind == UMF_MEMPOLICY_SPLIT) {
            assert_int_equal(os->parts_len, 1);
            assert_int_equal(os->parts[0].weight, 2);
            assert_int_equal(os->parts[0].node, n0);
        }
        // Memory from it is on the memspace's node.
        char *m = NULL;
        size_t len = 8 * os_page_size();
        assert_int_equal(umfMemoryProviderAlloc(h, len, 0, (void **)&m), OK);
        memset(m, 1, len);
        int node = -1;
        assert_int_equal(os_page_node(m, &node), 0);
        assert_int_equal(node, (int)n0);
        assert_int_equal(umfMemoryProviderFree(h, m, len), OK);
        umfMemoryProviderDestroy(h);
        umfMempolicyDestroy(p);
    }

    // A split share for a node outside the memspace, an empty memspace.
    umf_mempolicy_handle_t p;
    umf_mempolicy_split_partition_t out = {1, NODESET_MAX - 1};
    assert_int_equal(umfMempolicyCreate(UMF_MEMPOLICY_SPLIT, &p), OK);
    assert_int_equal(umfMempolicySetCustomSplitPartitions(p, &out, 1), OK);
    h = (umf_memory_provider_handle_t)0x1;
    assert_int_equal(umfMemoryProviderCreateFromMemspace(ms, p, &h), INVAL);
    assert_ptr_equal(h, (void *)0x1);
    umfMempolicyDestroy(p);
    assert_int_equal(umfMemspaceNew(&empty), OK);
    assert_int_equal(umfMemoryProviderCreateFromMemspace(empty, NULL, &h), INVAL);
    assert_int_equal(umfMemoryProviderCreateFromMemspace(NULL, NULL, &h), INVAL);
    assert_int_equal(umfMemoryProviderCreateFromMemspace(ms, NULL, NULL), INVAL);
    umfMemspaceDestroy(empty);
    umfMemspaceDestroy(ms);
}

// Pools from the predefined memspaces: memory lands on their nodes.
static void pool_from_memspace(void **state) {
    (void)state;
    umf_const_memspace_handle_t spaces[] = {umfMemspaceHostAllGet(),
                                            umfMemspaceHighestCapacityGet(),
                                            umfMemspaceHighestBandwidthGet(),
                                            umfMemspaceLowestLatencyGet()};
    for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++) {
        if (!spaces[i]) { // documented: NULL only for the HMAT ones, without HMAT
            assert_true(i >= 2 && !topo_has_hmat());
            continue;
        }
        umf_memory_pool_handle_t pool = NULL;
        assert_int_equal(umfPoolCreateFromMemspace(spaces[i], NULL, &pool), OK);
        umf_memory_provider_handle_t prov = NULL;
        assert_int_equal(umfPoolGetMemoryProvider(pool, &prov), OK);
        assert_string_equal(umfMemoryProviderGetName(prov), "OS");
        size_t len = 16 * os_page_size();
        char *m = umfPoolMalloc(pool, len);
        assert_non_null(m);
        memset(m, 2, len);
        nodeset_t want = ms_nodes(spaces[i]);
        for (size_t off = 0; off < len; off += os_page_size()) {
            int node = -1;
            assert_int_equal(os_page_node(m + off, &node), 0);
            assert_true(nodeset_isset(&want, (unsigned)node));
        }
        assert_int_equal(umfPoolFree(pool, m), OK);
        umfPoolDestroy(pool); // destroys the provider too (OWN_PROVIDER)
    }
    umf_memory_pool_handle_t pool;
    assert_int_equal(umfPoolCreateFromMemspace(NULL, NULL, &pool), INVAL);
    assert_int_equal(umfPoolCreateFromMemspace(umfMemspaceHostAllGet(), NULL, NULL), INVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memtarget_getters),
        cmocka_unit_test(create_from_numa_array),
        cmocka_unit_test(target_list),
        cmocka_unit_test(clone_and_predefined_immutable),
        cmocka_unit_test(filters),
        cmocka_unit_test(predefined_on_this_machine),
        cmocka_unit_test(predefined_concurrent_first_use),
        cmocka_unit_test(mempolicy_api),
        cmocka_unit_test(provider_from_memspace),
        cmocka_unit_test(hostall_default_policy),
        cmocka_unit_test(pool_from_memspace),
    };
    int e = topo_init();
    if ((e && e != EINVAL) || topo_node_count() == 0) {
        return test_skip_status("no memory topology (topo_init error %d, %u nodes)", e,
                                topo_node_count());
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
