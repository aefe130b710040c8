// SPDX-License-Identifier: MIT
// Memspace, memtarget and mempolicy handles under wrong use (issue 11):
// every entry point called with a garbage handle (zeros, random bytes, a
// live handle's copy with its tag damaged, in a buffer the size of the
// handle), with a destroyed handle (a target removed from its memspace or
// gone with it, a destroyed memspace or policy), destroy called twice, and
// the predefined memspaces, which cannot be destroyed or changed and keep
// working. Refusals are UMF_RESULT_ERROR_INVALID_ARGUMENT (0 / NULL from
// the queries), never a crash. Successful calls leave errno as it was.
// Random bytes come from a seed printed at start (HETMEM_TEST_SEED).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umf/memory_pool.h>
#include <umf/memspace.h>
#include <umf/mempolicy.h>
#include <umf/memtarget.h>

#include "memspace/memspace_priv.h"

#include "test_seed.h"

#define OK UMF_RESULT_SUCCESS
#define INVAL UMF_RESULT_ERROR_INVALID_ARGUMENT
#define SENTINEL 4242

static uint64_t rng;
static uint32_t rnd(void) { return test_rng_next(&rng); }

static int failures;

#define REFUSED(call, what)                                                                        \
    do {                                                                                           \
        umf_result_t r_ = (call);                                                                  \
        if (r_ != INVAL) {                                                                         \
            print_error("%s: %s returned %d\n", what, #call, (int)r_);                             \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static int keep_all(umf_const_memspace_handle_t ms, umf_const_memtarget_handle_t t, void *a) {
    (void)ms, (void)t, (void)a;
    return 1;
}

// A memspace of the first node of HostAll (always exists).
static umf_memspace_handle_t one_node(void) {
    umf_const_memspace_handle_t all = umfMemspaceHostAllGet();
    assert_non_null(all);
    unsigned id;
    assert_int_equal(umfMemtargetGetId(umfMemspaceMemtargetGet(all, 0), &id), OK);
    umf_memspace_handle_t ms = NULL;
    assert_int_equal(umfMemspaceCreateFromNumaArray(&id, 1, &ms), OK);
    return ms;
}

static void memspace_refused(umf_memspace_handle_t ms, const char *what) {
    umf_memspace_handle_t good = one_node();
    umf_const_memtarget_handle_t t = umfMemspaceMemtargetGet(good, 0);
    unsigned ids[1] = {0};
    umf_memspace_handle_t clone = (umf_memspace_handle_t)0x1;
    umf_memory_provider_handle_t prov = (umf_memory_provider_handle_t)0x1;
    umf_memory_pool_handle_t pool = (umf_memory_pool_handle_t)0x1;
    if (umfMemspaceMemtargetNum(ms) != 0) {
        print_error("%s: umfMemspaceMemtargetNum gave a count\n", what);
        failures++;
    }
    if (umfMemspaceMemtargetGet(ms, 0) != NULL) {
        print_error("%s: umfMemspaceMemtargetGet gave a target\n", what);
        failures++;
    }
    REFUSED(umfMemspaceMemtargetAdd(ms, t), what);
    REFUSED(umfMemspaceMemtargetRemove(ms, t), what);
    REFUSED(umfMemspaceClone(ms, &clone), what);
    REFUSED(umfMemspaceFilterById(ms, ids, 1), what);
    REFUSED(umfMemspaceFilterByCapacity(ms, 0), what);
    REFUSED(umfMemspaceUserFilter(ms, keep_all, NULL), what);
    REFUSED(umfMemoryProviderCreateFromMemspace(ms, NULL, &prov), what);
    REFUSED(umfPoolCreateFromMemspace(ms, NULL, &pool), what);
    umfMemspaceDestroy(ms); // ignored, a log line
    if (clone != (umf_memspace_handle_t)0x1 || prov != (umf_memory_provider_handle_t)0x1 ||
        pool != (umf_memory_pool_handle_t)0x1) {
        print_error("%s: an output was written\n", what);
        failures++;
    }
    umfMemspaceDestroy(good);
}

static void memtarget_refused(umf_const_memtarget_handle_t t, const char *what) {
    umf_memtarget_type_t type = (umf_memtarget_type_t)77;
    size_t cap = 77;
    unsigned id = 77;
    REFUSED(umfMemtargetGetType(t, &type), what);
    REFUSED(umfMemtargetGetCapacity(t, &cap), what);
    REFUSED(umfMemtargetGetId(t, &id), what);
    umf_memspace_handle_t ms = one_node();
    REFUSED(umfMemspaceMemtargetAdd(ms, t), what);
    REFUSED(umfMemspaceMemtargetRemove(ms, t), what);
    assert_int_equal(umfMemspaceMemtargetNum(ms), 1);
    umfMemspaceDestroy(ms);
    if ((int)type != 77 || cap != 77 || id != 77) {
        print_error("%s: an output was written\n", what);
        failures++;
    }
}

static void mempolicy_refused(umf_mempolicy_handle_t p, const char *what) {
    umf_mempolicy_split_partition_t parts[1] = {{.weight = 1, .target = 0}};
    REFUSED(umfMempolicySetInterleavePartSize(p, 4096), what);
    REFUSED(umfMempolicySetCustomSplitPartitions(p, parts, 1), what);
    umf_memspace_handle_t ms = one_node();
    umf_memory_provider_handle_t prov = NULL;
    umf_memory_pool_handle_t pool = NULL;
    REFUSED(umfMemoryProviderCreateFromMemspace(ms, p, &prov), what);
    REFUSED(umfPoolCreateFromMemspace(ms, p, &pool), what);
    umfMemspaceDestroy(ms);
    REFUSED(umfMempolicyDestroy(p), what);
}

// Buffers of the handle's size: zeros, random bytes, a live copy with a
// damaged tag (its 32 bits).
static void garbage(void **state) {
    (void)state;
    failures = 0;
    unsigned char *b = malloc(512);
    for (int kind = 0; kind < 3; kind++) {
        for (int round = 0; round < (kind == 1 ? 16 : 1); round++) {
            memset(b, 0, 512);
            if (kind == 1)
                for (size_t i = 0; i < 512; i++)
                    b[i] = (unsigned char)rnd();
            const char *what = kind == 0 ? "zeros" : kind == 1 ? "random bytes" : "damaged copy";
            umf_memspace_handle_t live_ms = one_node();
            umf_mempolicy_handle_t live_p = NULL;
            assert_int_equal(umfMempolicyCreate(UMF_MEMPOLICY_INTERLEAVE, &live_p), OK);
            if (kind == 2)
                memcpy(b, live_ms, sizeof(struct umf_memspace_t));
            b[kind == 2 ? rnd() % 4 : 0] ^= kind == 2 ? (unsigned char)(1u << (rnd() % 8)) : 0;
            memspace_refused((umf_memspace_handle_t)b, what);
            if (kind == 2) {
                memcpy(b, umfMemspaceMemtargetGet(live_ms, 0), sizeof(struct umf_memtarget_t));
                b[rnd() % 4] ^= (unsigned char)(1u << (rnd() % 8));
            }
            memtarget_refused((umf_const_memtarget_handle_t)b, what);
            if (kind == 2) {
                memcpy(b, live_p, sizeof(struct umf_mempolicy_t));
                b[rnd() % 4] ^= (unsigned char)(1u << (rnd() % 8));
            }
            mempolicy_refused((umf_mempolicy_handle_t)b, what);
            // The live handles are untouched.
            assert_int_equal(umfMemspaceMemtargetNum(live_ms), 1);
            assert_int_equal(umfMempolicySetInterleavePartSize(live_p, 8192), OK);
            assert_int_equal(umfMempolicyDestroy(live_p), OK);
            umfMemspaceDestroy(live_ms);
        }
    }
    free(b);
    assert_int_equal(failures, 0);
}

static void destroyed(void **state) {
    (void)state;
    failures = 0;
    // A memspace and its target, destroyed (the target with it).
    umf_memspace_handle_t ms = one_node();
    umf_const_memtarget_handle_t t = umfMemspaceMemtargetGet(ms, 0);
    assert_non_null(t);
    umfMemspaceDestroy(ms);
    memspace_refused(ms, "destroyed memspace"); // destroys it again, too
    memtarget_refused(t, "target of a destroyed memspace");
    // A target removed from its memspace.
    umf_memspace_handle_t ms2 = one_node(), ms3 = one_node();
    umf_const_memtarget_handle_t t2 = umfMemspaceMemtargetGet(ms2, 0);
    assert_int_equal(umfMemspaceMemtargetRemove(ms2, umfMemspaceMemtargetGet(ms3, 0)), OK);
    assert_int_equal(umfMemspaceMemtargetNum(ms2), 0);
    memtarget_refused(t2, "removed target");
    umfMemspaceDestroy(ms2);
    umfMemspaceDestroy(ms3);
    // A policy destroyed, then destroyed again.
    umf_mempolicy_handle_t p = NULL;
    assert_int_equal(umfMempolicyCreate(UMF_MEMPOLICY_SPLIT, &p), OK);
    assert_int_equal(umfMempolicyDestroy(p), OK);
    mempolicy_refused(p, "destroyed policy");
    assert_int_equal(umfMempolicyDestroy(p), INVAL);
    assert_int_equal(failures, 0);
}

// The predefined memspaces: Destroy is ignored, changes are refused, and
// they keep working.
static void predefined(void **state) {
    (void)state;
    umf_const_memspace_handle_t all = umfMemspaceHostAllGet();
    assert_non_null(all);
    size_t n = umfMemspaceMemtargetNum(all);
    assert_true(n > 0);
    umf_memspace_handle_t m = (umf_memspace_handle_t)all; // the const cast a caller might make
    umfMemspaceDestroy(m);
    umfMemspaceDestroy(m);
    unsigned ids[1] = {0};
    assert_int_equal(umfMemspaceFilterById(m, ids, 1), INVAL);
    assert_int_equal(umfMemspaceMemtargetRemove(m, umfMemspaceMemtargetGet(all, 0)), INVAL);
    assert_ptr_equal(umfMemspaceHostAllGet(), all);
    assert_int_equal(umfMemspaceMemtargetNum(all), n);
    umf_memory_pool_handle_t pool = NULL;
    assert_int_equal(umfPoolCreateFromMemspace(all, NULL, &pool), OK);
    void *x = umfPoolMalloc(pool, 100);
    assert_non_null(x);
    assert_int_equal(umfPoolFree(pool, x), OK);
    umfPoolDestroy(pool);
    umf_const_memspace_handle_t cap = umfMemspaceHighestCapacityGet();
    if (cap) {
        umfMemspaceDestroy((umf_memspace_handle_t)cap);
        assert_true(umfMemspaceMemtargetNum(cap) > 0);
    }
}

#define KEEPS_ERRNO(call)                                                                          \
    do {                                                                                           \
        errno = SENTINEL;                                                                          \
        umf_result_t r_ = (call);                                                                  \
        if (r_ != OK)                                                                              \
            fail_msg("%s failed: %d", #call, (int)r_);                                             \
        if (errno != SENTINEL)                                                                     \
            fail_msg("%s changed errno to %d", #call, errno);                                      \
    } while (0)

#define KEEPS_ERRNO_V(stmt)                                                                        \
    do {                                                                                           \
        errno = SENTINEL;                                                                          \
        stmt;                                                                                      \
        if (errno != SENTINEL)                                                                     \
            fail_msg("%s changed errno to %d", #stmt, errno);                                      \
    } while (0)

static void errno_sentinel(void **state) {
    (void)state;
    umf_const_memspace_handle_t all;
    KEEPS_ERRNO_V(all = umfMemspaceHostAllGet());
    assert_non_null(all);
    KEEPS_ERRNO_V((void)umfMemspaceHighestCapacityGet());
    KEEPS_ERRNO_V((void)umfMemspaceHighestBandwidthGet());
    KEEPS_ERRNO_V((void)umfMemspaceLowestLatencyGet());
    umf_const_memtarget_handle_t t;
    KEEPS_ERRNO_V(t = umfMemspaceMemtargetGet(all, 0));
    unsigned id;
    size_t cap;
    umf_memtarget_type_t type;
    KEEPS_ERRNO(umfMemtargetGetId(t, &id));
    KEEPS_ERRNO(umfMemtargetGetType(t, &type));
    KEEPS_ERRNO(umfMemtargetGetCapacity(t, &cap));
    umf_memspace_handle_t ms, nw, cl;
    KEEPS_ERRNO(umfMemspaceCreateFromNumaArray(&id, 1, &ms));
    KEEPS_ERRNO(umfMemspaceNew(&nw));
    KEEPS_ERRNO(umfMemspaceMemtargetAdd(nw, t));
    KEEPS_ERRNO(umfMemspaceClone(nw, &cl));
    KEEPS_ERRNO(umfMemspaceMemtargetRemove(cl, t));
    KEEPS_ERRNO(umfMemspaceFilterById(ms, &id, 1));
    KEEPS_ERRNO(umfMemspaceFilterByCapacity(ms, 0));
    KEEPS_ERRNO(umfMemspaceUserFilter(ms, keep_all, NULL));
    umf_mempolicy_handle_t p;
    KEEPS_ERRNO(umfMempolicyCreate(UMF_MEMPOLICY_INTERLEAVE, &p));
    KEEPS_ERRNO(umfMempolicySetInterleavePartSize(p, 0));
    umf_memory_provider_handle_t prov;
    KEEPS_ERRNO(umfMemoryProviderCreateFromMemspace(ms, p, &prov));
    KEEPS_ERRNO_V(umfMemoryProviderDestroy(prov));
    KEEPS_ERRNO(umfMempolicyDestroy(p));
    KEEPS_ERRNO_V(umfMemspaceDestroy(ms));
    KEEPS_ERRNO_V(umfMemspaceDestroy(nw));
    KEEPS_ERRNO_V(umfMemspaceDestroy(cl));
}

int main(void) {
    const char *s = getenv("HETMEM_TEST_SEED");
    rng = s ? strtoull(s, NULL, 0) : (uint64_t)getpid() * UINT64_C(0x9e3779b97f4a7c15);
    if (!rng)
        rng = 1;
    printf("test_memspace_misuse: seed 0x%llx (HETMEM_TEST_SEED to replay)\n",
           (unsigned long long)rng);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(errno_sentinel), // first: the topology is read on first use
        cmocka_unit_test(garbage),
        cmocka_unit_test(destroyed),
        cmocka_unit_test(predefined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
