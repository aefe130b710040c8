// SPDX-License-Identifier: MIT
// The allocators the benchmark compares: hetmem's disjoint, scalable, proxy
// and jemalloc pools (umfPoolMalloc/umfPoolFree over an OS provider, and
// umfFree through the address map), and as peers glibc malloc, Debian's
// jemalloc 5.3 (mallocx/dallocx), mimalloc (mi_malloc/mi_free) and real
// memkind (memkind_malloc/memkind_free on MEMKIND_DEFAULT).
//
// The peers are dlopen()ed RTLD_LOCAL|RTLD_DEEPBIND: jemalloc and mimalloc
// export malloc itself, and linking them would silently make them the
// process's malloc (so the "glibc" column would measure them). memkind is
// loaded by its full path so that hetmem's own libmemkind.so.0 (the memkind
// front end, never linked into the benchmark) can never stand in for it.
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <umf.h>
#include <umf/memory_pool.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_jemalloc.h>
#include <umf/pools/pool_proxy.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#include "bench.h"

#ifdef BENCH_NO_DEEPBIND // sanitizer runtimes refuse RTLD_DEEPBIND
#define PEER_DLFLAGS (RTLD_NOW | RTLD_LOCAL)
#else
#define PEER_DLFLAGS (RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)
#endif

#define MEMKIND_PATH "/usr/lib/x86_64-linux-gnu/libmemkind.so.0"

void bench_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("alloc_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

// ---- peers ----------------------------------------------------------------------------

static void *(*je_mallocx)(size_t, int);
static void (*je_dallocx)(void *, int);
static void *(*mi_malloc_fn)(size_t);
static void (*mi_free_fn)(void *);
static void *(*mk_malloc)(void *, size_t);
static void (*mk_free)(void *, void *);

static char je_version[64] = "", mi_version[32] = "", mk_version[32] = "";

static void *glibc_alloc(void *c, size_t s) { return malloc(s); }
static void glibc_release(void *c, void *p) { free(p); }
static void *je_alloc(void *c, size_t s) { return je_mallocx(s, 0); }
static void je_release(void *c, void *p) { je_dallocx(p, 0); }
static void *mi_alloc(void *c, size_t s) { return mi_malloc_fn(s); }
static void mi_release(void *c, void *p) { mi_free_fn(p); }
static void *mk_alloc(void *kind, size_t s) { return mk_malloc(kind, s); }
static void mk_release(void *kind, void *p) { mk_free(kind, p); }
static void mk_release_detect(void *kind, void *p) { mk_free(NULL, p); }

/// The file a loaded symbol lives in (proves which library answered).
static void origin_of(void *sym, char *out, size_t n) {
    Dl_info di;
    if (sym && dladdr(sym, &di) && di.dli_fname)
        snprintf(out, n, "%s", di.dli_fname);
}

/// dlopen + dlsym of every name; false (and the reason in skip) when any fails.
static void *peer_open(bench_alloc_t *a, const char *lib) {
    void *h = dlopen(lib, PEER_DLFLAGS);
    if (!h)
        snprintf(a->skip, sizeof a->skip, "dlopen: %s", dlerror());
    return h;
}

static bool peer_sym(bench_alloc_t *a, void *h, const char *name, void **out) {
    *out = dlsym(h, name);
    if (!*out)
        snprintf(a->skip, sizeof a->skip, "dlsym(%s) failed", name);
    return *out != NULL;
}

static void setup_glibc(bench_alloc_t *a) {
    a->api = "malloc/free";
    a->alloc = glibc_alloc;
    a->release = glibc_release;
    origin_of((void *)gnu_get_libc_version, a->origin, sizeof a->origin);
}

// Debian's libjemalloc.so.2 uses initial-exec TLS: a late dlopen needs
// GLIBC_TUNABLES=glibc.rtld.optional_static_tls=... (main() re-executes
// itself with it when it is missing).
static void setup_jemalloc(bench_alloc_t *a) {
    a->api = "mallocx(size,0)/dallocx(p,0)";
    void *h = peer_open(a, "libjemalloc.so.2");
    if (!h || !peer_sym(a, h, "mallocx", (void **)&je_mallocx) ||
        !peer_sym(a, h, "dallocx", (void **)&je_dallocx))
        return;
    int (*mallctl)(const char *, void *, size_t *, void *, size_t) = dlsym(h, "mallctl");
    const char *v = NULL;
    size_t len = sizeof v;
    if (mallctl && mallctl("version", &v, &len, NULL, 0) == 0 && v)
        snprintf(je_version, sizeof je_version, "%.40s", v);
    a->alloc = je_alloc;
    a->release = je_release;
    origin_of((void *)je_mallocx, a->origin, sizeof a->origin);
}

static void setup_mimalloc(bench_alloc_t *a) {
    a->api = "mi_malloc/mi_free";
    void *h = peer_open(a, "libmimalloc.so.2");
    if (!h || !peer_sym(a, h, "mi_malloc", (void **)&mi_malloc_fn) ||
        !peer_sym(a, h, "mi_free", (void **)&mi_free_fn))
        return;
    int (*ver)(void) = dlsym(h, "mi_version");
    if (ver)
        snprintf(mi_version, sizeof mi_version, "%d.%d.%d", ver() / 100, ver() / 10 % 10,
                 ver() % 10);
    a->alloc = mi_alloc;
    a->release = mi_release;
    origin_of((void *)mi_malloc_fn, a->origin, sizeof a->origin);
}

// MEMKIND_DEFAULT is a variable (memkind_t, a pointer): dlsym gives its address.
static void setup_memkind(bench_alloc_t *a, bool detect) {
    a->api = detect ? "memkind_malloc(MEMKIND_DEFAULT)/memkind_free(NULL,p)"
                    : "memkind_malloc/memkind_free(MEMKIND_DEFAULT)";
    void *h = peer_open(a, MEMKIND_PATH);
    void **kind;
    if (!h || !peer_sym(a, h, "memkind_malloc", (void **)&mk_malloc) ||
        !peer_sym(a, h, "memkind_free", (void **)&mk_free) ||
        !peer_sym(a, h, "MEMKIND_DEFAULT", (void **)&kind))
        return;
    int (*ver)(void) = dlsym(h, "memkind_get_version");
    if (ver)
        snprintf(mk_version, sizeof mk_version, "%d.%d.%d", ver() / 1000000,
                 ver() / 1000 % 1000, ver() % 1000);
    a->ctx = *kind;
    a->alloc = mk_alloc;
    a->release = detect ? mk_release_detect : mk_release;
    origin_of((void *)mk_malloc, a->origin, sizeof a->origin);
}

// ---- hetmem pools ---------------------------------------------------------------------

static void *umf_alloc(void *pool, size_t s) { return umfPoolMalloc(pool, s); }

static void umf_release(void *pool, void *p) {
    umf_result_t r = umfPoolFree(pool, p);
    if (__builtin_expect(r != UMF_RESULT_SUCCESS, 0))
        bench_die("umfPoolFree(%p) failed: %d", p, (int)r);
}

static void umf_release_global(void *pool, void *p) {
    umf_result_t r = umfFree(p);
    if (__builtin_expect(r != UMF_RESULT_SUCCESS, 0))
        bench_die("umfFree(%p) failed: %d", p, (int)r);
}

/// A pool of `ops` over its own OS provider (default parameters: private
/// anonymous memory, no NUMA binding); the pool owns the provider.
static void setup_pool(bench_alloc_t *a, umf_memory_pool_ops_t *ops, void *params,
                       bool global_free) {
    a->api = global_free ? "umfPoolMalloc/umfFree(p)" : "umfPoolMalloc/umfPoolFree";
    a->ours = true;
    umf_os_memory_provider_params_handle_t pp = NULL;
    umf_memory_provider_handle_t prov = NULL;
    umf_memory_pool_handle_t pool = NULL;
    umf_result_t r = umfOsMemoryProviderParamsCreate(&pp);
    if (r == UMF_RESULT_SUCCESS)
        r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &prov);
    if (pp)
        umfOsMemoryProviderParamsDestroy(pp);
    if (r == UMF_RESULT_SUCCESS) {
        r = umfPoolCreate(ops, prov, params, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &pool);
        if (r != UMF_RESULT_SUCCESS)
            umfMemoryProviderDestroy(prov);
    }
    if (r != UMF_RESULT_SUCCESS) {
        snprintf(a->skip, sizeof a->skip, "umfPoolCreate failed: %d", (int)r);
        return;
    }
    a->ctx = pool;
    a->alloc = umf_alloc;
    a->release = global_free ? umf_release_global : umf_release;
    origin_of((void *)umfPoolMalloc, a->origin, sizeof a->origin);
}

// ---- the table ------------------------------------------------------------------------

/// Which workloads each allocator runs. The proxy pool maps (and tracks)
/// one provider allocation per malloc, so it only runs the block sizes
/// where that is a sensible design (>= 64 KiB). The umfFree and
/// memkind_free(NULL, p) variants differ from their base only in the free
/// path and run the small and medium workloads, where that path matters.
enum {
    SMALL_MED = WL_BIT(WL_SMALL) | WL_BIT(WL_MEDIUM),
    TIMED = WL_ALL & ~WL_BIT(WL_RSS),
    LARGE_ONLY = WL_BIT(WL_LARGE) | WL_BIT(WL_LARGE64K),
};

static const struct {
    const char *name;
    unsigned workloads;
} table[] = {
    {"jemalloc", WL_ALL},          // the baseline of every ratio
    {"glibc", WL_ALL},
    {"mimalloc", WL_ALL},
    {"memkind", WL_ALL},
    {"memkind-fnull", SMALL_MED},
    {"scalable", WL_ALL},
    {"scalable-umffree", SMALL_MED},
    {"disjoint", WL_ALL},
    {"disjoint-umffree", SMALL_MED},
    {"jemalloc-pool", WL_ALL},
    {"proxy", LARGE_ONLY},
};

static void setup_one(bench_alloc_t *a, const char *name) {
    if (!strcmp(name, "jemalloc"))
        setup_jemalloc(a);
    else if (!strcmp(name, "glibc"))
        setup_glibc(a);
    else if (!strcmp(name, "mimalloc"))
        setup_mimalloc(a);
    else if (!strcmp(name, "memkind"))
        setup_memkind(a, false);
    else if (!strcmp(name, "memkind-fnull"))
        setup_memkind(a, true);
    else if (!strcmp(name, "scalable"))
        setup_pool(a, umfScalablePoolOps(), NULL, false);
    else if (!strcmp(name, "scalable-umffree"))
        setup_pool(a, umfScalablePoolOps(), NULL, true);
    else if (!strcmp(name, "disjoint"))
        setup_pool(a, umfDisjointPoolOps(), NULL, false);
    else if (!strcmp(name, "disjoint-umffree"))
        setup_pool(a, umfDisjointPoolOps(), NULL, true);
    else if (!strcmp(name, "jemalloc-pool"))
        setup_pool(a, umfJemallocPoolOps(), NULL, false);
    else if (!strcmp(name, "proxy"))
        setup_pool(a, umfProxyPoolOps(), NULL, false);
    else
        snprintf(a->skip, sizeof a->skip, "unknown allocator");
}

unsigned bench_allocs_init(bench_alloc_t *out, const char *only) {
    unsigned n = 0;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (only && strcmp(only, table[i].name))
            continue;
        bench_alloc_t *a = &out[n++];
        memset(a, 0, sizeof *a);
        a->name = table[i].name;
        a->workloads = table[i].workloads;
        setup_one(a, a->name);
        if (!a->skip[0] && !a->alloc)
            snprintf(a->skip, sizeof a->skip, "not set up");
    }
    return n;
}

void bench_allocs_fini(bench_alloc_t *a, unsigned n) {
    for (unsigned i = 0; i < n; i++)
        if (a[i].ours && a[i].ctx && !a[i].skip[0])
            umfPoolDestroy(a[i].ctx);
}

const char *bench_version(const char *name) {
    static char hetmem_version[32];
    if (!strcmp(name, "jemalloc"))
        return je_version;
    if (!strcmp(name, "mimalloc"))
        return mi_version;
    if (!strcmp(name, "memkind"))
        return mk_version;
    if (!strcmp(name, "glibc"))
        return gnu_get_libc_version();
    if (!strcmp(name, "hetmem")) {
        int v = umfGetCurrentVersion();
        snprintf(hetmem_version, sizeof hetmem_version, "UMF API %d.%d", v >> 16, v & 0xffff);
        return hetmem_version;
    }
    return "";
}
