// SPDX-License-Identifier: MIT
// IPC handles within one process (the opener maps the memory a second time,
// exactly as another process would) and the safety checks: every provider
// kind (OS memfd, OS named shm, file), the open cache (twice = one mapping,
// reference counted), interior pointers, unsupported providers, forged
// handles (each header and provider field altered, with and without a
// recomputed checksum), truncated handles, stale handles (allocation freed,
// provider destroyed, the process gone), a handle for another provider,
// puts, closes of foreign pointers, and opens from four threads. A refused
// handle must map nothing: the number of mappings of the process is
// compared before and after. Two real processes: tests/api/ipc.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <hetmem/provider_os_ext.h>
#include <umf/ipc.h>
#include <umf/pools/pool_proxy.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_fixed_memory.h>
#include <umf/providers/provider_os_memory.h>

#include "pools/pool.h"
#include "ipc/ipc_priv.h"
#include "os/os.h"
#include "ipc/ipc_backing.h"

#define OK UMF_RESULT_SUCCESS
#define INVAL UMF_RESULT_ERROR_INVALID_ARGUMENT

typedef enum kind_t { K_MEMFD, K_SHM, K_FILE, K_PRIVATE } kind_t;

static char shm_name[64], file_path[128], file_path2[128];

static umf_memory_pool_handle_t make_pool(kind_t k, const char *path) {
    umf_memory_provider_handle_t prov = NULL;
    if (k == K_FILE) {
        umf_file_memory_provider_params_handle_t p;
        assert_int_equal(umfFileMemoryProviderParamsCreate(&p, path), OK);
        assert_int_equal(umfFileMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
        assert_int_equal(umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &prov), OK);
        umfFileMemoryProviderParamsDestroy(p);
    } else {
        umf_os_memory_provider_params_handle_t p;
        assert_int_equal(umfOsMemoryProviderParamsCreate(&p), OK);
        if (k != K_PRIVATE)
            assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
        if (k == K_SHM)
            assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, shm_name), OK);
        assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov), OK);
        umfOsMemoryProviderParamsDestroy(p);
    }
    umf_memory_pool_handle_t pool = NULL;
    assert_int_equal(
        umfPoolCreate(umfProxyPoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool), OK);
    return pool;
}

static ipc_pdata_t *pdata(struct umf_ipc_data_t *c) {
    return (ipc_pdata_t *)c->provider_data;
}

static void *handler_of(umf_memory_pool_handle_t pool) {
    umf_ipc_handler_handle_t h = NULL;
    assert_int_equal(umfPoolGetIPCHandler(pool, &h), OK);
    return h;
}

// Shared mappings of the process (/proc/self/maps lines whose permissions
// end in "s"): every IPC mapping is one, and sanitizer allocators make
// none. A refused open must not change their number.
static int mappings(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4352]; // a path is at most PATH_MAX
    int n = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        char perms[8] = "";
        if (sscanf(line, "%*s %7s", perms) == 1 && perms[3] == 's')
            n++;
    }
    fclose(f);
    return n;
}

static void handle_sizes(void **state) {
    (void)state;
    umf_memory_pool_handle_t pool = make_pool(K_MEMFD, NULL), priv = make_pool(K_PRIVATE, NULL);
    size_t size = 0;
    assert_int_equal(umfPoolGetIPCHandleSize(pool, &size), OK);
    // A memfd handle: the body and the provider part's fixed fields and an
    // empty path (8 bytes), as umfGetIPCHandle makes it.
    assert_int_equal(size, sizeof(struct umf_ipc_data_t) + IPC_PDATA_FIXED + 8);
    assert_true(size <= 256);
    assert_int_equal(umfPoolGetIPCHandleSize(priv, &size), OK); // it can open handles
    assert_int_equal(umfPoolGetIPCHandleSize(NULL, &size), INVAL);
    assert_int_equal(umfPoolGetIPCHandleSize(pool, NULL), INVAL);
    umf_ipc_handler_handle_t h;
    assert_int_equal(umfPoolGetIPCHandler(NULL, &h), INVAL);
    assert_int_equal(umfPoolGetIPCHandler(pool, NULL), INVAL);

    // A provider without IPC (fixed): NOT_SUPPORTED, at every step.
    static char buf[1 << 16] __attribute__((aligned(4096)));
    umf_fixed_memory_provider_params_handle_t fp;
    umf_memory_provider_handle_t fixed;
    umf_memory_pool_handle_t fpool;
    assert_int_equal(umfFixedMemoryProviderParamsCreate(&fp, buf, sizeof buf), OK);
    assert_int_equal(umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fp, &fixed), OK);
    umfFixedMemoryProviderParamsDestroy(fp);
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), fixed, NULL,
                                   UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &fpool), OK);
    assert_int_equal(umfPoolGetIPCHandleSize(fpool, &size), UMF_RESULT_ERROR_NOT_SUPPORTED);
    void *m = umfPoolMalloc(fpool, 100);
    umf_ipc_handle_t ih;
    assert_non_null(m);
    assert_int_equal(umfGetIPCHandle(m, &ih, &size), UMF_RESULT_ERROR_NOT_SUPPORTED);
    umfPoolFree(fpool, m);
    umfPoolDestroy(fpool);

    // Private memory cannot be shared.
    m = umfPoolMalloc(priv, 100);
    assert_int_equal(umfGetIPCHandle(m, &ih, &size), UMF_RESULT_ERROR_NOT_SUPPORTED);
    umfPoolFree(priv, m);
    // Not pool memory, NULL arguments.
    assert_int_equal(umfGetIPCHandle(buf, &ih, &size), INVAL);
    assert_int_equal(umfGetIPCHandle(NULL, &ih, &size), INVAL);
    m = umfPoolMalloc(pool, 100);
    assert_int_equal(umfGetIPCHandle(m, NULL, &size), INVAL);
    assert_int_equal(umfGetIPCHandle(m, &ih, NULL), INVAL);
    umfPoolFree(pool, m);
    umfPoolDestroy(priv);
    umfPoolDestroy(pool);
}

// Producer writes, opener reads and writes back, through a second mapping.
static void roundtrip(kind_t k) {
    umf_memory_pool_handle_t pool = make_pool(k, file_path);
    umf_memory_pool_handle_t opener = make_pool(k == K_FILE ? K_FILE : K_PRIVATE, file_path2);
    size_t len = 3 * os_page_size() + 123;
    unsigned char *a = umfPoolMalloc(pool, len);
    assert_non_null(a);
    for (size_t i = 0; i < len; i++)
        a[i] = (unsigned char)(i * 7 + k);
    umf_ipc_handle_t h = NULL;
    size_t hs = 0;
    assert_int_equal(umfGetIPCHandle(a, &h, &hs), OK);
    size_t want;
    assert_int_equal(umfPoolGetIPCHandleSize(pool, &want), OK);
    assert_int_equal(hs, want);
    unsigned char *b = NULL;
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), h, (void **)&b), OK);
    assert_ptr_not_equal(a, b); // a second mapping of the same memory
    for (size_t i = 0; i < len; i++)
        assert_int_equal(b[i], (unsigned char)(i * 7 + k));
    memset(b, 0x5a, len);
    for (size_t i = 0; i < len; i++)
        assert_int_equal(a[i], 0x5a);
    assert_int_equal(umfCloseIPCHandle(b), OK);
    assert_int_equal(umfPutIPCHandle(h), OK);
    assert_int_equal(umfPoolFree(pool, a), OK);
    umfPoolDestroy(opener);
    umfPoolDestroy(pool);
}

static void roundtrip_memfd(void **state) { (void)state, roundtrip(K_MEMFD); }
static void roundtrip_shm(void **state) { (void)state, roundtrip(K_SHM); }
static void roundtrip_file(void **state) { (void)state, roundtrip(K_FILE); }

static long free_huge_2m(void) {
    FILE *f = fopen("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "r");
    long n = 0;
    if (f) {
        if (fscanf(f, "%ld", &n) != 1)
            n = 0;
        fclose(f);
    }
    return n;
}

// 2 MiB huge pages (a hugetlb memfd): the mapping must be huge-page-aligned
// and whole huge pages. Where the machine has 2 free 2 MiB pages (the tiers3
// guest, tests/vm/memspace) the round trip must work; where it has none
// (the build machine) the allocation must fail cleanly (NULL), which is
// asserted instead.
static void roundtrip_huge(void **state) {
    (void)state;
    const size_t huge = (size_t)2 << 20;
    long free_before = free_huge_2m();
    umf_os_memory_provider_params_handle_t p;
    umf_memory_provider_handle_t prov = NULL;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), OK);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
    assert_int_equal(hetmem_os_provider_params_set_huge_pages(p, huge), OK);
    umf_result_t r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov);
    umfOsMemoryProviderParamsDestroy(p);
    umf_memory_pool_handle_t pool = NULL;
    char *a = NULL;
    if (r == OK &&
        umfPoolCreate(umfProxyPoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool) == OK)
        a = umfPoolMalloc(pool, huge + 4096);
    if (free_before < 2) {
        print_message("%ld free 2 MiB huge pages here: the allocation must fail (got %p)\n",
                      free_before, (void *)a);
        assert_null(a);
        if (pool)
            umfPoolDestroy(pool);
        else if (prov)
            umfMemoryProviderDestroy(prov);
        return;
    }
    assert_int_equal(r, OK);
    assert_non_null(pool);
    assert_non_null(a); // free huge pages: the round trip must run
    umf_memory_pool_handle_t opener = make_pool(K_PRIVATE, NULL);
    a[huge + 100] = 'H';
    umf_ipc_handle_t h;
    size_t hs;
    char *b = NULL;
    assert_int_equal(umfGetIPCHandle(a, &h, &hs), OK);
    assert_int_equal(pdata(h)->align, huge);
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), h, (void **)&b), OK);
    assert_true(((uintptr_t)b & (huge - 1)) == 0);
    assert_int_equal(b[huge + 100], 'H');
    b[0] = 'h';
    assert_int_equal(a[0], 'h');
    assert_int_equal(umfCloseIPCHandle(b), OK);
    assert_int_equal(umfPutIPCHandle(h), OK);
    umfPoolFree(pool, a);
    umfPoolDestroy(opener);
    umfPoolDestroy(pool);
}

// Opening twice maps once; an interior pointer's handle shares the mapping;
// after the last close the mapping stays (idle) until its handler's pool goes.
static void open_cache_refcount(void **state) {
    (void)state;
    umf_memory_pool_handle_t pool = make_pool(K_MEMFD, NULL), opener = make_pool(K_PRIVATE, NULL);
    size_t len = 4 * os_page_size();
    char *a = umfPoolMalloc(pool, len);
    strcpy(a + 1000, "interior");
    umf_ipc_handle_t h1, h2;
    size_t s1, s2;
    assert_int_equal(umfGetIPCHandle(a, &h1, &s1), OK);
    assert_int_equal(umfGetIPCHandle(a + 1000, &h2, &s2), OK);
    size_t before = ipc_open_cache_count();
    int maps = mappings();
    char *p1, *p2, *p3;
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), h1, (void **)&p1), OK);
    int maps_after_one = mappings();
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), h1, (void **)&p2), OK);
    assert_ptr_equal(p1, p2);
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), h2, (void **)&p3), OK);
    assert_ptr_equal(p3, p1 + 1000);
    assert_string_equal(p3, "interior");
    assert_int_equal(ipc_open_cache_count(), before + 1);
    assert_int_equal(mappings(), maps_after_one);
    assert_true(maps_after_one >= maps);
    assert_int_equal(umfCloseIPCHandle(p3), OK); // any pointer into the mapping
    assert_int_equal(umfCloseIPCHandle(p1), OK);
    assert_string_equal(p2 + 1000, "interior"); // still mapped: one reference left
    assert_int_equal(umfCloseIPCHandle(p2), OK);
    // Idle, as UMF keeps it: still mapped, reopened without a new mapping,
    // closed with its handler's pool.
    assert_int_equal(ipc_open_cache_count(), before + 1);
    assert_string_equal(p2 + 1000, "interior");
    assert_int_equal(umfCloseIPCHandle(p2), INVAL); // nothing open to close
    char *p4;
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), h1, (void **)&p4), OK);
    assert_ptr_equal(p4, p1);
    assert_int_equal(mappings(), maps_after_one);
    assert_int_equal(umfCloseIPCHandle(p4), OK);
    assert_int_equal(umfCloseIPCHandle(NULL), INVAL);
    assert_int_equal(umfCloseIPCHandle(a), INVAL);  // the producer's memory is not an open
    // Closing at the provider level only what an open mapped.
    umf_memory_provider_handle_t prov;
    assert_int_equal(umfPoolGetMemoryProvider(opener, &prov), OK);
    assert_int_equal(umfMemoryProviderCloseIPCHandle(prov, a, len), INVAL);
    a[0] = 1; // still mapped
    assert_int_equal(umfPutIPCHandle(h1), OK);
    assert_int_equal(umfPutIPCHandle(h2), OK);
    umfPoolFree(pool, a);
    umfPoolDestroy(opener);
    assert_int_equal(ipc_open_cache_count(), before); // the idle mapping went with it
    umfPoolDestroy(pool);
}

// ---- forged and truncated handles ---------------------------------------------------

typedef struct forge_t {
    umf_memory_pool_handle_t pool, opener;
    char *mem;
    umf_ipc_handle_t h;
    size_t hs;
} forge_t;

static void forge_setup(forge_t *f, kind_t k) {
    f->pool = make_pool(k, file_path);
    f->opener = make_pool(k == K_FILE ? K_FILE : K_PRIVATE, file_path2);
    f->mem = umfPoolMalloc(f->pool, 2 * os_page_size());
    assert_non_null(f->mem);
    assert_int_equal(umfGetIPCHandle(f->mem, &f->h, &f->hs), OK);
}

static void forge_teardown(forge_t *f) {
    umfPutIPCHandle(f->h);
    umfPoolFree(f->pool, f->mem);
    umfPoolDestroy(f->opener);
    umfPoolDestroy(f->pool);
}

// A modifiable copy of the handle.
static struct umf_ipc_data_t *copy_of(const forge_t *f) {
    struct umf_ipc_data_t *c = malloc(f->hs);
    memcpy(c, f->h, f->hs);
    return c;
}


// Opens the copy: it must be refused with `want` and map nothing.
static void expect_refused(const forge_t *f, struct umf_ipc_data_t *c, bool fix_checksum,
                           umf_result_t want, const char *what) {
    if (fix_checksum) {
        c->header_check = ipc_header_check(c);
        c->checksum = ipc_checksum(c, f->hs);
    }
    int maps = mappings();
    size_t cached = ipc_open_cache_count();
    void *p = (void *)0x1;
    umf_result_t r = umfOpenIPCHandle(handler_of(f->opener), c, &p);
    if (r != want)
        fail_msg("%s: result %d, expected %d", what, (int)r, (int)want);
    assert_ptr_equal(p, (void *)0x1);
    assert_int_equal(mappings(), maps);
    assert_int_equal(ipc_open_cache_count(), cached);
    free(c);
}

#define FORGE(f, fix, stmt)                                                                        \
    do {                                                                                           \
        struct umf_ipc_data_t *c = copy_of(f);                                                     \
        stmt;                                                                                      \
        expect_refused(f, c, fix, INVAL, #stmt);                                                   \
    } while (0)

static void forged(kind_t k) {
    forge_t f;
    forge_setup(&f, k);
    size_t ps = os_page_size();
    // The untouched handle opens (the baseline of every case below).
    void *p;
    assert_int_equal(umfOpenIPCHandle(handler_of(f.opener), f.h, &p), OK);
    assert_int_equal(umfCloseIPCHandle(p), OK);

    // Header, checksum left stale: caught by the checks or the checksum.
    FORGE(&f, false, c->magic ^= 1);
    FORGE(&f, false, c->version = 9);
    FORGE(&f, true, c->version = 9); // the header check fixed below: still refused
    FORGE(&f, false, c->header_size = 100);
    FORGE(&f, false, c->provider_data_size -= 8);
    FORGE(&f, false, c->provider_data_size = 1u << 30);
    FORGE(&f, false, c->total_size -= 1);          // a size that was cut: the header check
    FORGE(&f, true, c->total_size -= 1);           // with a recomputed header check
    FORGE(&f, true, c->total_size -= 8);           // a valid-looking provider size
    FORGE(&f, true, c->total_size = 1u << 30);     // larger than any handle
    FORGE(&f, true, c->total_size = 20);           // smaller than the body
    FORGE(&f, false, c->header_check ^= 1);
    FORGE(&f, false, c->provider_data[100] ^= 0xff);
    FORGE(&f, false, c->offset = 1);
    // Header, checksum recomputed.
    FORGE(&f, true, c->offset = c->base_size);
    FORGE(&f, true, c->base_size += ps);
    FORGE(&f, true, c->base_size = 0);
    FORGE(&f, true, c->pid = 0);
    FORGE(&f, true, c->provider_id ^= 1);
    FORGE(&f, true, c->provider_id = ipc_provider_id(k == K_FILE ? "OS" : "FILE"));
    FORGE(&f, true, c->live_id += 1);
    FORGE(&f, true, c->live_slot += 1);
    FORGE(&f, true, c->live_digest ^= 1);
    FORGE(&f, true, c->live_fd = pdata(c)->fd);
    // Provider data, checksum recomputed: each one is refused by a check of
    // the provider (identity, bounds, the export table's id and digest).
    FORGE(&f, true, pdata(c)->magic = 0);
    FORGE(&f, true, pdata(c)->version = 9);
    FORGE(&f, true, pdata(c)->kind = 7);
    FORGE(&f, true, pdata(c)->kind = k == K_FILE ? PROVIDER_OBJ_MEMFD : PROVIDER_OBJ_FILE);
    FORGE(&f, true, pdata(c)->off += 1000 * ps);
    FORGE(&f, true, pdata(c)->off = UINT64_MAX - ps);
    FORGE(&f, true, (pdata(c)->size += ps, c->base_size += ps));
    FORGE(&f, true, pdata(c)->align = 1u << 21);
    FORGE(&f, true, pdata(c)->align = 3);
    FORGE(&f, true, pdata(c)->fd = 0);
    FORGE(&f, true, pdata(c)->fd = -1);
    FORGE(&f, true, pdata(c)->dev ^= 1);
    FORGE(&f, true, pdata(c)->ino ^= 1);
    FORGE(&f, true, pdata(c)->table_fd = pdata(c)->fd);
    FORGE(&f, true, pdata(c)->table_ino ^= 1);
    FORGE(&f, true, pdata(c)->slot += 1);
    FORGE(&f, true, pdata(c)->slot = 1u << 20);
    FORGE(&f, true, pdata(c)->export_id += 1);
    FORGE(&f, true, pdata(c)->digest ^= 1);
    FORGE(&f, true, (pdata(c)->pid = 1, c->pid = 1)); // init: alive, other descriptors
    FORGE(&f, true, memset(pdata(c)->path, 'x', pdata(c)->path_size));
    FORGE(&f, true, pdata(c)->path_size += 8);
    FORGE(&f, true, pdata(c)->path_size = 1u << 20);
    if (k == K_SHM) {
        FORGE(&f, true, strcpy(pdata(c)->path, "../etc/passwd"));
        FORGE(&f, true, strcpy(pdata(c)->path, "hetmem_no_such_shm"));
    }
    if (k == K_FILE) {
        // A path is only a way to the object: one that leads elsewhere is
        // not followed - the exporter's own file is opened (by its
        // descriptor) and checked, never /etc/passwd.
        struct umf_ipc_data_t *c = copy_of(&f);
        size_t n = strlen(pdata(c)->path); // the same length: the same handle size
        assert_true(n >= 11);
        memset(pdata(c)->path, '/', n);
        memcpy(pdata(c)->path, "/etc", 4);
        memcpy(pdata(c)->path + n - 6, "passwd", 6);
        c->checksum = ipc_checksum(c, f.hs);
        strcpy(f.mem, "exporter's file");
        char *m = NULL;
        assert_int_equal(umfOpenIPCHandle(handler_of(f.opener), c, (void **)&m), OK);
        assert_string_equal(m, "exporter's file");
        assert_int_equal(umfCloseIPCHandle(m), OK);
        free(c);
    }
    if (k == K_MEMFD)
        FORGE(&f, true, strcpy(pdata(c)->path, "x"));

    // Truncated: fewer bytes than the handle says (known length), or the
    // tail never arrived (zeros: the checksum).
    void *q = (void *)0x1;
    assert_int_equal(ipc_open_handle_sized(handler_of(f.opener), f.h, f.hs - 1, &q), INVAL);
    assert_int_equal(ipc_open_handle_sized(handler_of(f.opener), f.h, 50, &q), INVAL);
    assert_ptr_equal(q, (void *)0x1);
    FORGE(&f, false,
          memset(c->provider_data + 16, 0, f.hs - sizeof(struct umf_ipc_data_t) - 16));
    forge_teardown(&f);
}

static void forged_memfd(void **state) { (void)state, forged(K_MEMFD); }
static void forged_shm(void **state) { (void)state, forged(K_SHM); }
static void forged_file(void **state) { (void)state, forged(K_FILE); }

// ---- stale handles -----------------------------------------------------------------

static void stale_after_free(kind_t k) {
    umf_memory_pool_handle_t pool = make_pool(k, file_path);
    umf_memory_pool_handle_t opener = make_pool(k == K_FILE ? K_FILE : K_PRIVATE, file_path2);
    char *a = umfPoolMalloc(pool, os_page_size());
    umf_ipc_handle_t h, h2;
    size_t hs, hs2;
    void *p;
    assert_int_equal(umfGetIPCHandle(a, &h, &hs), OK);
    struct umf_ipc_data_t *keep = malloc(hs); // what was sent to another process
    memcpy(keep, h, hs);
    assert_int_equal(umfPutIPCHandle(h), OK);
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), keep, &p), OK); // put: still valid
    assert_int_equal(umfCloseIPCHandle(p), OK);
    assert_int_equal(umfPoolFree(pool, a), OK);
    int maps = mappings();
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), keep, &p), INVAL);
    assert_int_equal(mappings(), maps);
    // The file provider reuses offsets: a new allocation at the same place
    // does not revive the old handle, and its own handle works.
    char *b = umfPoolMalloc(pool, os_page_size());
    assert_int_equal(umfGetIPCHandle(b, &h2, &hs2), OK);
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), keep, &p), INVAL);
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), h2, &p), OK);
    assert_int_equal(umfCloseIPCHandle(p), OK);
    // Destroying the pool (and its provider) ends every export.
    struct umf_ipc_data_t *keep2 = malloc(hs2);
    memcpy(keep2, h2, hs2);
    assert_int_equal(umfPutIPCHandle(h2), OK);
    umfPoolDestroy(pool);
    maps = mappings();
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), keep2, &p), INVAL);
    assert_int_equal(mappings(), maps);
    free(keep);
    free(keep2);
    umfPoolDestroy(opener);
}

static void stale_memfd(void **state) { (void)state, stale_after_free(K_MEMFD); }
static void stale_shm(void **state) { (void)state, stale_after_free(K_SHM); }
static void stale_file(void **state) { (void)state, stale_after_free(K_FILE); }

// The exporting process exits: its handle is refused (memfd: its fd is
// gone; shm: the file is still there, but nobody holds it).
static void stale_owner_gone(kind_t k) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        umf_memory_pool_handle_t pool = make_pool(k, file_path);
        char *a = umfPoolMalloc(pool, os_page_size());
        umf_ipc_handle_t h;
        size_t hs;
        if (!a || umfGetIPCHandle(a, &h, &hs) != OK)
            _exit(1);
        _exit(write(fds[1], &hs, sizeof hs) == sizeof hs && write(fds[1], h, hs) == (ssize_t)hs
                  ? 0
                  : 1); // no cleanup: the process just goes
    }
    close(fds[1]);
    size_t hs = 0;
    assert_int_equal(read(fds[0], &hs, sizeof hs), sizeof hs);
    void *buf = malloc(hs);
    assert_int_equal(read(fds[0], buf, hs), (ssize_t)hs);
    close(fds[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    umf_memory_pool_handle_t opener = make_pool(k == K_FILE ? K_FILE : K_PRIVATE, file_path2);
    int maps = mappings();
    void *p = NULL;
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), buf, &p), INVAL);
    assert_int_equal(mappings(), maps);
    umfPoolDestroy(opener);
    free(buf);
    if (k == K_SHM)
        (void)os_shm_unlink(shm_name); // the child did not clean up
}

static void owner_gone_memfd(void **state) { (void)state, stale_owner_gone(K_MEMFD); }
static void owner_gone_shm(void **state) { (void)state, stale_owner_gone(K_SHM); }
static void owner_gone_file(void **state) { (void)state, stale_owner_gone(K_FILE); }

static void puts_and_tracking(void **state) {
    (void)state;
    umf_memory_pool_handle_t pool = make_pool(K_MEMFD, NULL);
    char *a = umfPoolMalloc(pool, 100);
    umf_ipc_handle_t h;
    size_t hs;
    assert_int_equal(umfGetIPCHandle(a, &h, &hs), OK);
    void *copy = malloc(hs);
    memcpy(copy, h, hs);
    assert_int_equal(umfPutIPCHandle(copy), INVAL); // not made by umfGetIPCHandle
    assert_int_equal(umfPutIPCHandle(NULL), INVAL);
    assert_int_equal(umfPutIPCHandle(h), OK);
    assert_int_equal(umfPutIPCHandle(h), INVAL);    // twice
    // Two handles of one allocation: the same provider data (same export).
    umf_ipc_handle_t h1, h2;
    assert_int_equal(umfGetIPCHandle(a, &h1, &hs), OK);
    assert_int_equal(umfGetIPCHandle(a, &h2, &hs), OK);
    assert_memory_equal(h1, h2, hs);
    assert_int_equal(umfPutIPCHandle(h1), OK);
    assert_int_equal(umfPutIPCHandle(h2), OK);
    // The provider's put refuses data of another process.
    umf_memory_provider_handle_t prov;
    assert_int_equal(umfPoolGetMemoryProvider(pool, &prov), OK);
    ((struct umf_ipc_data_t *)copy)->provider_data[12] ^= 0x40; // pid
    assert_int_equal(umfMemoryProviderPutIPCHandle(prov, ((struct umf_ipc_data_t *)copy)->provider_data), INVAL);
    free(copy);
    umfPoolFree(pool, a);
    umfPoolDestroy(pool);

    // An untracked pool has no address map entry to make a handle from.
    umf_os_memory_provider_params_handle_t p;
    umf_memory_provider_handle_t prov2;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), OK);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov2), OK);
    umfOsMemoryProviderParamsDestroy(p);
    umf_memory_pool_handle_t untracked;
    assert_int_equal(umfPoolCreate(umfProxyPoolOps(), prov2, NULL,
                                   UMF_POOL_CREATE_FLAG_OWN_PROVIDER |
                                       UMF_POOL_CREATE_FLAG_DISABLE_TRACKING,
                                   &untracked),
                     OK);
    void *u = umfPoolMalloc(untracked, 100);
    assert_non_null(u);
    assert_int_equal(umfGetIPCHandle(u, &h, &hs), INVAL);
    assert_int_equal(umfMemoryProviderFree(prov2, u, 100), OK);
    umfPoolDestroy(untracked);
}

// ---- threads ----------------------------------------------------------------------

typedef struct thr_t {
    void *handler;
    umf_ipc_handle_t h;
    void *first;
    int bad;
} thr_t;

static void *opener_thread(void *arg) {
    thr_t *t = arg;
    for (int i = 0; i < 200; i++) {
        void *p = NULL;
        if (umfOpenIPCHandle(t->handler, t->h, &p) != OK || !p) {
            t->bad++;
            continue;
        }
        if (!t->first)
            t->first = p;
        if (*(volatile char *)p != 'T')
            t->bad++;
        if (umfCloseIPCHandle(p) != OK)
            t->bad++;
    }
    return NULL;
}

static void concurrent_opens(void **state) {
    (void)state;
    umf_memory_pool_handle_t pool = make_pool(K_MEMFD, NULL), opener = make_pool(K_PRIVATE, NULL);
    char *a = umfPoolMalloc(pool, os_page_size());
    a[0] = 'T';
    umf_ipc_handle_t h;
    size_t hs;
    assert_int_equal(umfGetIPCHandle(a, &h, &hs), OK);
    void *hold; // one open kept across the threads: every open is a cache hit
    assert_int_equal(umfOpenIPCHandle(handler_of(opener), h, &hold), OK);
    pthread_t th[4];
    thr_t t[4];
    for (int i = 0; i < 4; i++) {
        t[i] = (thr_t){.handler = handler_of(opener), .h = h};
        assert_int_equal(pthread_create(&th[i], NULL, opener_thread, &t[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(t[i].bad, 0);
        assert_ptr_equal(t[i].first, hold);
    }
    size_t before = ipc_open_cache_count();
    assert_int_equal(umfCloseIPCHandle(hold), OK);
    assert_int_equal(ipc_open_cache_count(), before); // idle until its handler goes
    umfPutIPCHandle(h);
    umfPoolFree(pool, a);
    umfPoolDestroy(opener);
    assert_int_equal(ipc_open_cache_count(), before - 1);
    umfPoolDestroy(pool);
}

// Records of allocations end with their pool (slot hygiene: a destroyed
// pool leaves no live record in the export table), and each free ends one.
static void records_end_with_pool(void **state) {
    (void)state;
    umf_memory_provider_handle_t prov = NULL;
    umf_os_memory_provider_params_handle_t p;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), OK);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED), OK);
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov), OK);
    umfOsMemoryProviderParamsDestroy(p);
    umf_memory_pool_handle_t pool = NULL;
    assert_int_equal(umfPoolCreate(umfScalablePoolOps(), prov, NULL, 0, &pool), OK);
    size_t before = atomic_load(&pool_ipc_records);
    char *a = umfPoolMalloc(pool, 64), *b = umfPoolMalloc(pool, 64);
    umf_ipc_handle_t ha, hb, ha2;
    size_t hs;
    assert_int_equal(umfGetIPCHandle(a, &ha, &hs), OK);
    assert_int_equal(umfGetIPCHandle(a, &ha2, &hs), OK); // the same record
    assert_int_equal(umfGetIPCHandle(b, &hb, &hs), OK);
    assert_int_equal(atomic_load(&pool_ipc_records), before + 2);
    assert_int_equal(umfPutIPCHandle(ha), OK);
    assert_int_equal(umfPutIPCHandle(ha2), OK);
    assert_int_equal(umfPutIPCHandle(hb), OK);
    assert_int_equal(umfPoolFree(pool, a), OK);
    assert_int_equal(atomic_load(&pool_ipc_records), before + 1);
    umfPoolDestroy(pool); // b is still allocated: its record ends here
    assert_int_equal(atomic_load(&pool_ipc_records), before);
    umfMemoryProviderDestroy(prov);
}

static int group_setup(void **state) {
    (void)state;
    snprintf(shm_name, sizeof shm_name, "hetmem_test_ipc_%d", (int)getpid());
    snprintf(file_path, sizeof file_path, "/tmp/hetmem_test_ipc_%d.a", (int)getpid());
    snprintf(file_path2, sizeof file_path2, "/tmp/hetmem_test_ipc_%d.b", (int)getpid());
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    unlink(file_path);
    unlink(file_path2);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handle_sizes),
        cmocka_unit_test(roundtrip_memfd),
        cmocka_unit_test(roundtrip_shm),
        cmocka_unit_test(roundtrip_file),
        cmocka_unit_test(roundtrip_huge),
        cmocka_unit_test(open_cache_refcount),
        cmocka_unit_test(forged_memfd),
        cmocka_unit_test(forged_shm),
        cmocka_unit_test(forged_file),
        cmocka_unit_test(stale_memfd),
        cmocka_unit_test(stale_shm),
        cmocka_unit_test(stale_file),
        cmocka_unit_test(owner_gone_memfd),
        cmocka_unit_test(owner_gone_shm),
        cmocka_unit_test(owner_gone_file),
        cmocka_unit_test(puts_and_tracking),
        cmocka_unit_test(concurrent_opens),
        cmocka_unit_test(records_end_with_pool),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
