// SPDX-License-Identifier: MIT
// IPC under wrong use, public API only (issue 11): buffers that are not
// handles (1 to 16 bytes of malloc'd memory: ASan sees any read past them;
// the opener reads the magic byte by byte and stops at the first wrong
// one, then the 16-byte header), a
// declared size that was cut or altered, every byte of a handle flipped in
// turn, handles of allocations that are gone - freed, reallocated, their
// pool destroyed - opened in this process and in a forked child, and IPC
// handlers that are garbage or belong to a destroyed pool. Every one must
// be refused with UMF_RESULT_ERROR_INVALID_ARGUMENT and map nothing.
//
// The pools are caching ones (disjoint, scalable, jemalloc): a freed block
// stays in the pool, so only the allocation's own liveness record can tell
// that a handle of it is stale. Random bytes use a seed printed at start
// (HETMEM_TEST_SEED to replay).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umf.h>
#include <umf/ipc.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_jemalloc.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#include "test_seed.h"

#define OK UMF_RESULT_SUCCESS
#define INVAL UMF_RESULT_ERROR_INVALID_ARGUMENT

typedef enum pool_kind_t { P_DISJOINT, P_SCALABLE, P_JEMALLOC, P_COUNT } pool_kind_t;
static const char *const pool_names[P_COUNT] = {"disjoint", "scalable", "jemalloc"};

static uint64_t rng;
static uint32_t rnd(void) { return test_rng_next(&rng); }

static umf_memory_provider_handle_t os_provider(bool shared) {
    umf_os_memory_provider_params_handle_t p;
    umf_memory_provider_handle_t prov = NULL;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), OK);
    if (shared)
        assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov), OK);
    umfOsMemoryProviderParamsDestroy(p);
    return prov;
}

// A pool of `kind` over `prov` (owned when own); NULL when jemalloc is not
// available (its documented failure codes).
static umf_memory_pool_handle_t make_pool(pool_kind_t kind, umf_memory_provider_handle_t prov,
                                          bool own) {
    umf_memory_pool_handle_t pool = NULL;
    umf_pool_create_flags_t fl = own ? UMF_POOL_CREATE_FLAG_OWN_PROVIDER : 0;
    umf_result_t r;
    if (kind == P_DISJOINT) {
        umf_disjoint_pool_params_handle_t dp;
        assert_int_equal(umfDisjointPoolParamsCreate(&dp), OK);
        r = umfPoolCreate(umfDisjointPoolOps(), prov, dp, fl, &pool);
        umfDisjointPoolParamsDestroy(dp);
    } else {
        umf_memory_pool_ops_t *ops = kind == P_SCALABLE ? umfScalablePoolOps() : umfJemallocPoolOps();
        if (!ops)
            return NULL;
        r = umfPoolCreate(ops, prov, NULL, fl, &pool);
        if (kind == P_JEMALLOC && (r == UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE ||
                                   r == UMF_RESULT_ERROR_NOT_SUPPORTED)) {
            // The documented answers when jemalloc is missing.
            print_message("jemalloc pool unavailable here (%d)\n", (int)r);
            if (!own)
                return NULL;
            umfMemoryProviderDestroy(prov);
            return NULL;
        }
    }
    if (r != OK)
        fail_msg("%s pool creation failed: %d", pool_names[kind], (int)r);
    return pool;
}

static umf_ipc_handler_handle_t handler_of(umf_memory_pool_handle_t pool) {
    umf_ipc_handler_handle_t h = NULL;
    assert_int_equal(umfPoolGetIPCHandler(pool, &h), OK);
    return h;
}

// The exporter (a caching pool over shared memory) and an opener (any OS
// provider opens OS handles).
typedef struct env_t {
    umf_memory_pool_handle_t pool, opener;
    umf_ipc_handler_handle_t handler;
} env_t;

static void env_up(env_t *e, pool_kind_t kind) {
    e->pool = make_pool(kind, os_provider(true), true);
    assert_non_null(e->pool);
    e->opener = make_pool(P_DISJOINT, os_provider(false), true);
    e->handler = handler_of(e->opener);
}

static void env_down(env_t *e) {
    umfPoolDestroy(e->opener);
    if (e->pool)
        umfPoolDestroy(e->pool);
}

// A copy of a fresh handle of p (what another process would receive); the
// handle itself is put.
static void *sent_copy(const void *p, size_t *size) {
    umf_ipc_handle_t h;
    size_t hs = 0;
    assert_int_equal(umfGetIPCHandle(p, &h, &hs), OK);
    void *c = malloc(hs);
    memcpy(c, h, hs);
    assert_int_equal(umfPutIPCHandle(h), OK);
    if (size)
        *size = hs;
    return c;
}

static umf_result_t try_open(umf_ipc_handler_handle_t handler, void *h) {
    void *p = (void *)0x1;
    umf_result_t r = umfOpenIPCHandle(handler, h, &p);
    if (r == OK)
        assert_int_equal(umfCloseIPCHandle(p), OK);
    else
        assert_ptr_equal(p, (void *)0x1); // nothing returned
    return r;
}

// FNV-1a 32 of the first 12 bytes: the header check (the layout is
// documented in src/ipc/ipc_priv.h: magic, version, header size,
// total size, header check).
static uint32_t header_check(const unsigned char *h) {
    uint32_t x = 0x811c9dc5u;
    for (int i = 0; i < 12; i++)
        x = (x ^ h[i]) * 0x01000193u;
    return x;
}

// ---- buffers that are not handles ------------------------------------------------

static void not_a_handle(void **state) {
    (void)state;
    env_t e;
    env_up(&e, P_DISJOINT);
    for (size_t len = 1; len <= 16; len++) {
        unsigned char *b = malloc(len); // ASan: any read past len is reported
        memset(b, 0, len);
        assert_int_equal(try_open(e.handler, b), INVAL);
        for (size_t i = 0; i < len; i++)
            b[i] = (unsigned char)rnd();
        if (b[0] == 'H')
            b[0] = 'h'; // never "HMI2"
        assert_int_equal(try_open(e.handler, b), INVAL);
        // The magic's first bytes, then a wrong one: read up to that byte.
        if (len >= 2) {
            memcpy(b, "HMI2", len < 4 ? len : 4);
            b[len < 4 ? len - 1 : 3] ^= 0x20;
            assert_int_equal(try_open(e.handler, b), INVAL);
        }
        free(b);
    }
    env_down(&e);
}

// ---- a declared size that was cut or altered; every byte flipped -----------------

static void cut_and_altered(void **state) {
    (void)state;
    env_t e;
    env_up(&e, P_DISJOINT);
    char *m = umfPoolMalloc(e.pool, 256);
    assert_non_null(m);
    size_t hs;
    unsigned char *h = sent_copy(m, &hs);
    assert_true(hs >= 16 && hs <= 512); // a small handle (was 4320 bytes)
    size_t pool_hs = 0;
    assert_int_equal(umfPoolGetIPCHandleSize(e.pool, &pool_hs), OK);
    assert_int_equal(pool_hs, hs);
    assert_int_equal(try_open(e.handler, h), OK); // the baseline

    // Cut: the first n bytes, the declared size made n (header check
    // recomputed) - refused, and nothing read past n (ASan).
    for (size_t n = 16; n < hs; n += (n < hs - 16 ? 8 : 1)) {
        unsigned char *c = malloc(n);
        memcpy(c, h, n);
        uint32_t total = (uint32_t)n, chk;
        memcpy(c + 8, &total, 4);
        chk = header_check(c);
        memcpy(c + 12, &chk, 4);
        if (try_open(e.handler, c) != INVAL)
            fail_msg("a handle cut to %zu of %zu bytes was not refused", n, hs);
        free(c);
    }
    // The real header alone, in a 16-byte buffer, one field damaged (the
    // header check left stale): refused after the 16 bytes - ASan sees any
    // read of the declared size.
    for (int f = 0; f < 5; f++) {
        unsigned char *c = malloc(16);
        memcpy(c, h, 16);
        switch (f) {
        case 0: c[8] ^= 8; break;  // total size
        case 1: c[4] ^= 1; break;  // version
        case 2: c[6] ^= 1; break;  // header size
        case 3: c[12] ^= 1; break; // header check
        case 4: c[11] ^= 1; break; // total size, high byte
        }
        if (try_open(e.handler, c) != INVAL)
            fail_msg("a 16-byte header with field %d damaged was not refused", f);
        free(c);
    }
    // Altered size field, header check left alone or recomputed.
    const uint32_t sizes[] = {(uint32_t)hs - 1, (uint32_t)hs + 8, (uint32_t)hs - 8, 16, 0,
                              1u << 30, UINT32_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        for (int fix = 0; fix < 2; fix++) {
            unsigned char *c = malloc(hs + 8);
            memcpy(c, h, hs);
            memset(c + hs, 0, 8);
            memcpy(c + 8, &sizes[i], 4);
            if (fix) {
                uint32_t chk = header_check(c);
                memcpy(c + 12, &chk, 4);
            }
            if (try_open(e.handler, c) != INVAL)
                fail_msg("declared size %u (handle %zu bytes, check %s) was not refused",
                         sizes[i], hs, fix ? "fixed" : "stale");
            free(c);
        }
    }
    // Every byte flipped in turn (the checksums are not recomputed).
    for (size_t i = 0; i < hs; i++) {
        unsigned char *c = malloc(hs);
        memcpy(c, h, hs);
        c[i] ^= (unsigned char)(1u << (rnd() % 8));
        if (try_open(e.handler, c) != INVAL)
            fail_msg("a handle with byte %zu flipped was not refused", i);
        free(c);
    }
    free(h);
    assert_int_equal(umfPoolFree(e.pool, m), OK);
    env_down(&e);
}

// ---- allocations that are gone ------------------------------------------------------

static void freed_in_process(void **state) {
    (void)state;
    for (pool_kind_t k = 0; k < P_COUNT; k++) {
        env_t e;
        e.pool = make_pool(k, os_provider(true), true);
        if (!e.pool) {
            assert_int_equal(k, P_JEMALLOC); // only jemalloc may be missing
            continue;
        }
        e.opener = make_pool(P_DISJOINT, os_provider(false), true);
        e.handler = handler_of(e.opener);
        char *a = umfPoolMalloc(e.pool, 128);
        assert_non_null(a);
        strcpy(a, "live");
        void *h = sent_copy(a, NULL);
        void *hi = sent_copy(a + 64, NULL); // an interior pointer
        char *p = NULL;
        assert_int_equal(umfOpenIPCHandle(e.handler, h, (void **)&p), OK);
        assert_string_equal(p, "live");
        assert_int_equal(umfCloseIPCHandle(p), OK);
        assert_int_equal(try_open(e.handler, hi), OK);

        assert_int_equal(umfPoolFree(e.pool, a), OK);
        if (try_open(e.handler, h) != INVAL)
            fail_msg("%s: a handle of a freed allocation opened", pool_names[k]);
        if (k != P_JEMALLOC && try_open(e.handler, hi) != INVAL)
            fail_msg("%s: a handle of an interior pointer of a freed block opened",
                     pool_names[k]);
        // The pool hands the same block out again: the old handle stays
        // refused, a new handle of the new allocation opens.
        char *b = umfPoolMalloc(e.pool, 128);
        assert_non_null(b);
        void *hb = sent_copy(b, NULL);
        assert_int_equal(try_open(e.handler, h), INVAL);
        assert_int_equal(try_open(e.handler, hb), OK);
        // umfFree ends it too.
        assert_int_equal(umfFree(b), OK);
        if (try_open(e.handler, hb) != INVAL)
            fail_msg("%s: a handle opened after umfFree", pool_names[k]);
        // realloc: the block may move; its handles end either way.
        char *c = umfPoolMalloc(e.pool, 64);
        void *hc = sent_copy(c, NULL);
        char *c2 = umfPoolRealloc(e.pool, c, 100000);
        assert_non_null(c2);
        if (try_open(e.handler, hc) != INVAL)
            fail_msg("%s: a handle opened after umfPoolRealloc", pool_names[k]);
        assert_int_equal(umfPoolFree(e.pool, c2), OK);
        free(h), free(hi), free(hb), free(hc);
        env_down(&e);
    }
}

// Pool destroyed while its provider lives on (not owned): its handles end.
static void pool_destroyed(void **state) {
    (void)state;
    umf_memory_provider_handle_t prov = os_provider(true);
    umf_memory_pool_handle_t pool = make_pool(P_DISJOINT, prov, false);
    umf_memory_pool_handle_t opener = make_pool(P_DISJOINT, os_provider(false), true);
    umf_ipc_handler_handle_t handler = handler_of(opener);
    char *a = umfPoolMalloc(pool, 100);
    void *h = sent_copy(a, NULL);
    assert_int_equal(try_open(handler, h), OK);
    umfPoolDestroy(pool);
    assert_int_equal(try_open(handler, h), INVAL);
    free(h);
    umfPoolDestroy(opener);
    umfMemoryProviderDestroy(prov);
}

// A forked child opens the parent's handle before and after the parent
// frees the allocation; it reports the two results through a pipe (the
// parent asserts).
static void freed_in_child(void **state) {
    (void)state;
    env_t e;
    env_up(&e, P_DISJOINT);
    char *a = umfPoolMalloc(e.pool, 200);
    assert_non_null(a);
    strcpy(a, "parent");
    size_t hs;
    void *h = sent_copy(a, &hs);
    int to_child[2], to_parent[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(to_parent), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        // A fresh opener in the child (the parent's pools are the parent's).
        umf_memory_provider_handle_t prov = os_provider(false);
        umf_memory_pool_handle_t op = NULL;
        umf_ipc_handler_handle_t hd = NULL;
        int res[3] = {-1, -1, -1};
        if (umfPoolCreate(umfScalablePoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                          &op) == OK &&
            umfPoolGetIPCHandler(op, &hd) == OK) {
            char *p = NULL;
            res[0] = umfOpenIPCHandle(hd, h, (void **)&p);
            res[1] = res[0] == OK && strcmp(p, "parent") == 0;
            if (res[0] == OK)
                umfCloseIPCHandle(p);
            char go;
            if (write(to_parent[1], "o", 1) == 1 && read(to_child[0], &go, 1) == 1) {
                p = NULL;
                res[2] = umfOpenIPCHandle(hd, h, (void **)&p);
            }
            umfPoolDestroy(op);
        }
        _exit(write(to_parent[1], res, sizeof res) == sizeof res ? 0 : 1);
    }
    close(to_child[0]);
    close(to_parent[1]);
    char c = 0;
    assert_int_equal(read(to_parent[0], &c, 1), 1); // the child's first open is done
    assert_int_equal(umfPoolFree(e.pool, a), OK);
    assert_int_equal(write(to_child[1], "f", 1), 1);
    int res[3] = {0};
    assert_int_equal(read(to_parent[0], res, sizeof res), (ssize_t)sizeof res);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(res[0], OK);    // opened while the allocation lived
    assert_int_equal(res[1], 1);     // and saw the parent's data
    assert_int_equal(res[2], INVAL); // refused once the parent freed it
    close(to_child[1]);
    close(to_parent[0]);
    free(h);
    env_down(&e);
}

// ---- handlers ------------------------------------------------------------------------

static void garbage_handlers(void **state) {
    (void)state;
    env_t e;
    env_up(&e, P_DISJOINT);
    char *a = umfPoolMalloc(e.pool, 64);
    void *h = sent_copy(a, NULL);
    // Buffers the size of a pool handle and more: zeros, random bytes.
    enum { N = 1024 };
    unsigned char *junk = malloc(N);
    memset(junk, 0, N);
    assert_int_equal(try_open((umf_ipc_handler_handle_t)junk, h), INVAL);
    for (int round = 0; round < 16; round++) {
        for (size_t i = 0; i < N; i++)
            junk[i] = (unsigned char)rnd();
        assert_int_equal(try_open((umf_ipc_handler_handle_t)junk, h), INVAL);
    }
    // A real handler opens; once its pool is destroyed, it is refused.
    umf_memory_pool_handle_t other = make_pool(P_SCALABLE, os_provider(false), true);
    umf_ipc_handler_handle_t oh = handler_of(other);
    assert_int_equal(try_open(oh, h), OK);
    umfPoolDestroy(other);
    assert_int_equal(try_open(oh, h), INVAL);
    free(junk);
    free(h);
    umfPoolFree(e.pool, a);
    env_down(&e);
}

// Successful IPC calls leave errno as it was (issue 11).
static void errno_kept(void **state) {
    (void)state;
    env_t e;
    env_up(&e, P_DISJOINT);
    char *a = umfPoolMalloc(e.pool, 300);
    assert_non_null(a);
    umf_ipc_handle_t h;
    size_t hs, ps;
    void *p = NULL;
    umf_ipc_handler_handle_t hd;
#define KEEPS_ERRNO(call)                                                                          \
    do {                                                                                           \
        errno = 4242;                                                                              \
        umf_result_t r_ = (call);                                                                  \
        if (r_ != OK)                                                                              \
            fail_msg("%s failed: %d", #call, (int)r_);                                             \
        if (errno != 4242)                                                                         \
            fail_msg("%s changed errno to %d", #call, errno);                                      \
    } while (0)
    KEEPS_ERRNO(umfPoolGetIPCHandleSize(e.pool, &ps));
    KEEPS_ERRNO(umfGetIPCHandle(a, &h, &hs));
    KEEPS_ERRNO(umfPoolGetIPCHandler(e.opener, &hd));
    KEEPS_ERRNO(umfOpenIPCHandle(hd, h, &p));
    KEEPS_ERRNO(umfCloseIPCHandle(p));
    KEEPS_ERRNO(umfPutIPCHandle(h));
    KEEPS_ERRNO(umfPoolFree(e.pool, a));
#undef KEEPS_ERRNO
    env_down(&e);
}

int main(void) {
    const char *s = getenv("HETMEM_TEST_SEED");
    rng = s ? strtoull(s, NULL, 0) : (uint64_t)getpid() * UINT64_C(0x9e3779b97f4a7c15);
    if (!rng)
        rng = 1;
    printf("test_ipc_misuse: seed 0x%llx (HETMEM_TEST_SEED to replay)\n",
           (unsigned long long)rng);
    // freed_in_child first: the library's fork handler takes one lock per
    // heap it knows, and TSan's deadlock detector stops at 64 held locks.
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(freed_in_child),   cmocka_unit_test(not_a_handle),
        cmocka_unit_test(cut_and_altered),  cmocka_unit_test(freed_in_process),
        cmocka_unit_test(pool_destroyed),   cmocka_unit_test(garbage_handlers),
        cmocka_unit_test(errno_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
