// SPDX-License-Identifier: MIT
// The jemalloc pool (umfJemallocPoolOps, umf/pools/pool_jemalloc.h): each
// pool is a few jemalloc arenas whose extent hooks take coarse memory from
// the pool's provider. This file loads libjemalloc at run time, creates and
// destroys the arenas and implements the pool operations, refusing
// pointers that are not live blocks of the pool (pool_jemalloc_map.c);
// pool_jemalloc_hooks.c holds the extent hooks, pool_jemalloc_tcache.c
// decides which arena and tcache a thread uses, and pool_jemalloc_chunks.c
// which ranges may go back to the provider.
//
// Why dlopen (docs/jemalloc-pool.md): Debian's libjemalloc.so.2 has no
// symbol prefix, so linking it would make it the whole process's malloc.
// Loaded RTLD_LOCAL it interposes nothing; RTLD_DEEPBIND keeps its own
// internal calls (mallctl, malloc_conf) bound to itself even when another
// jemalloc is in the global scope. Sanitizer runtimes refuse RTLD_DEEPBIND
// (google/sanitizers#611), so under one we load without it.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umf/memory_pool_ops.h>
#include <umf/pools/pool_jemalloc.h>

#include "base/log.h"
#include "base/util.h"
#include "os/meta.h"
#include "pools/pool.h"
#include "pools/pool_jemalloc_priv.h"

// ---- params (a hetmem extension; UMF 0.11 documents none) --------------------

#define PARAMS_MAGIC 0x6a656d70u // "jemp": tells our params from a stray pointer

struct hetmem_jemalloc_pool_params_t {
    uint32_t magic;
    size_t num_arenas; // 0: one per online CPU, at most POOL_JEMALLOC_DEFAULT_MAX_ARENAS
    bool tcache;       // explicit per-thread tcaches (default) or none
};

HETMEM_EXPORT umf_result_t
hetmem_jemalloc_pool_params_create(hetmem_jemalloc_pool_params_handle_t *hParams) {
    if (!hParams) {
        LOG_ERR("NULL hParams");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    struct hetmem_jemalloc_pool_params_t *p = meta_alloc(sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->magic = PARAMS_MAGIC;
    p->num_arenas = 0;
    p->tcache = true;
    *hParams = p;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
hetmem_jemalloc_pool_params_destroy(hetmem_jemalloc_pool_params_handle_t hParams) {
    if (!hParams)
        return UMF_RESULT_SUCCESS;
    hParams->magic = 0;
    meta_free(hParams, sizeof *hParams);
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t
hetmem_jemalloc_pool_params_set_num_arenas(hetmem_jemalloc_pool_params_handle_t hParams,
                                           size_t numArenas) {
    PARAMS_SET(hParams, num_arenas, numArenas, numArenas <= POOL_JEMALLOC_MAX_ARENAS,
               "too many arenas");
}

HETMEM_EXPORT umf_result_t
hetmem_jemalloc_pool_params_set_tcache(hetmem_jemalloc_pool_params_handle_t hParams,
                                       bool enable) {
    PARAMS_STORE(hParams, tcache, enable);
}

#if POOL_JEMALLOC_AVAILABLE

// ---- loading libjemalloc -----------------------------------------------------

#define JEMALLOC_SONAME "libjemalloc.so.2"

pool_jemalloc_api_t pool_jemalloc_api;
#define je pool_jemalloc_api

static int (*je_nametomib)(const char *name, size_t *mibp, size_t *miblenp);
static int (*je_bymib)(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
                       size_t newlen);

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static umf_result_t load_result = UMF_RESULT_ERROR_UNKNOWN; // written once, under load_once
static bool metadata_off_provider;   // experimental.arenas_create_ext is usable
static size_t destroy_mib[3];        // "arena.0.destroy"; [1] is the arena index
static size_t destroy_miblen;
static size_t purge_mib[3];          // "arena.0.purge"
static size_t purge_miblen;

// jemalloc 5.3's arena_config_t (include/jemalloc/internal/arena_types.h),
// the argument of experimental.arenas_create_ext. Used only when the loaded
// library reports version 5.3.
typedef struct je_arena_config_t {
    extent_hooks_t *extent_hooks;
    bool metadata_use_hooks;
} je_arena_config_t;

static bool sanitizer_runtime_present(void) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return true;
#else
    // The program may be sanitized even when hetmem is not.
    static const char *const rt[] = {"__asan_init", "__tsan_init", "__msan_init",
                                     "__hwasan_init"};
    for (size_t i = 0; i < ARRAY_SIZE(rt); i++)
        if (dlsym(RTLD_DEFAULT, rt[i]))
            return true;
    return false;
#endif
}

static bool resolve(void *h, const char *name, void *fnp) {
    void *f = dlsym(h, name);
    if (!f) {
        LOG_ERR("%s lacks %s", JEMALLOC_SONAME, name);
        return false;
    }
    memcpy(fnp, &f, sizeof f); // object pointer to function pointer, as POSIX allows
    return true;
}

// fork(2): jemalloc's own locks sit between our ranks (LOCK_RANK_JEMALLOC_
// INTERNAL): the tcache registry's lock is held around mallctl, and the
// extent hooks take provider, tracker and meta locks under jemalloc's. Its
// prefork handler, registered when it initialised (after lock.c's), runs
// before lock.c's; this one, registered after it, runs before it and takes
// the ranks below jemalloc's first, so no thread waits on the walk while
// holding a jemalloc lock the walk then needs, or the other way round.
static void fork_prepare_before_jemalloc(void) {
    lock_fork_prepare_below(LOCK_RANK_JEMALLOC_INTERNAL);
}

// The jemalloc hetmem installs beside its own library (scripts/
// build-jemalloc.sh: global-dynamic TLS, so it loads late without
// GLIBC_TUNABLES), when it is there; else Debian's.
#define PRIVATE_JEMALLOC "libhetmem-jemalloc.so.2"
static const char *default_library(void) {
    static char path[4096];
    Dl_info info;
    if (dladdr((void *)&pool_jemalloc_api, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        size_t dir = slash ? (size_t)(slash - info.dli_fname) + 1 : 0;
        if (dir + sizeof PRIVATE_JEMALLOC <= sizeof path) {
            memcpy(path, info.dli_fname, dir);
            memcpy(path + dir, PRIVATE_JEMALLOC, sizeof PRIVATE_JEMALLOC);
            if (dir && access(path, R_OK) == 0)
                return path;
        }
    }
    return JEMALLOC_SONAME;
}

static void load(void) {
    load_result = UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE;
    const char *path = secure_getenv("HETMEM_JEMALLOC_LIBRARY");
    if (!path || !*path)
        path = default_library();
    int flags = RTLD_NOW | RTLD_LOCAL;
    if (sanitizer_runtime_present())
        LOG_INFO("sanitizer runtime present: loading %s without RTLD_DEEPBIND", path);
    else
        flags |= RTLD_DEEPBIND;
    void *h = dlopen(path, flags);
    if (!h) {
        const char *err = dlerror();
        if (err && strstr(err, "static TLS"))
            LOG_ERR("cannot load %s: %s. Debian's jemalloc uses initial-exec TLS; run the "
                    "program with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=4096 "
                    "(docs/jemalloc-pool.md)",
                    path, err);
        else
            LOG_ERR("cannot load %s: %s (install libjemalloc2)", path, err ? err : "?");
        return;
    }
    // Never dlclose: jemalloc has registered fork handlers and a TSD key
    // destructor that must stay mapped for the life of the process.
    if (!resolve(h, "mallocx", &je.mallocx) || !resolve(h, "dallocx", &je.dallocx) ||
        !resolve(h, "rallocx", &je.rallocx) || !resolve(h, "xallocx", &je.xallocx) ||
        !resolve(h, "sallocx", &je.sallocx) || !resolve(h, "mallctl", &je.mallctl) ||
        !resolve(h, "mallctlnametomib", &je_nametomib) ||
        !resolve(h, "mallctlbymib", &je_bymib))
        return;
    const char *version = NULL;
    size_t sz = sizeof version;
    if (je.mallctl("version", &version, &sz, NULL, 0) != 0 || !version ||
        strncmp(version, "5.", 2) != 0) {
        LOG_ERR("%s: unsupported jemalloc version %s (need 5.x)", path,
                version ? version : "?");
        return;
    }
    if (!pool_jemalloc_map_init())
        return;
    // jemalloc is initialised now (the mallctl above): its fork handlers are in.
    if (pthread_atfork(fork_prepare_before_jemalloc, NULL, NULL) != 0)
        LOG_WARN("cannot register fork handlers: fork may deadlock with jemalloc pools");
    destroy_miblen = ARRAY_SIZE(destroy_mib);
    purge_miblen = ARRAY_SIZE(purge_mib);
    if (je_nametomib("arena.0.destroy", destroy_mib, &destroy_miblen) != 0 ||
        je_nametomib("arena.0.purge", purge_mib, &purge_miblen) != 0) {
        LOG_ERR("%s: no arena.<i>.destroy or arena.<i>.purge", path);
        return;
    }
    // Arena metadata (jemalloc's "base") off the provider's memory when the
    // library can: hetmem keeps bookkeeping out of the memory it manages
    // (DESIGN.md), and a small fixed buffer is not eaten by 2 MiB base blocks.
    size_t mib[2], miblen = ARRAY_SIZE(mib);
    metadata_off_provider =
        strncmp(version, "5.3.", 4) == 0 &&
        je_nametomib("experimental.arenas_create_ext", mib, &miblen) == 0;
    LOG_INFO("loaded jemalloc %s from %s (%s, metadata %s)", version, path,
             (flags & RTLD_DEEPBIND) ? "RTLD_LOCAL|RTLD_DEEPBIND" : "RTLD_LOCAL",
             metadata_off_provider ? "in host memory" : "in provider memory");
    load_result = UMF_RESULT_SUCCESS;
}

// ---- arenas --------------------------------------------------------------------

static int arena_create(pool_jemalloc_t *jp, unsigned *ind) {
    size_t sz = sizeof *ind;
    if (metadata_off_provider) {
        je_arena_config_t cfg = {&jp->hooks, false};
        return je.mallctl("experimental.arenas_create_ext", ind, &sz, &cfg, sizeof cfg);
    }
    extent_hooks_t *hp = &jp->hooks;
    return je.mallctl("arenas.create", ind, &sz, &hp, sizeof hp);
}

// Runs "arena.<ind>.<what>" through its mib (`mib0`: that of arena 0).
static void arena_do(const size_t mib0[3], size_t miblen, unsigned ind, const char *what) {
    size_t mib[3];
    memcpy(mib, mib0, sizeof mib);
    mib[1] = ind;
    int e = je_bymib(mib, miblen, NULL, NULL, NULL, 0);
    if (e)
        LOG_ERR("arena.%u.%s failed: %d", ind, what, e);
}

// Discards the arena's allocations, gives every extent back through the
// dalloc/destroy hooks and frees its metadata. Its tcaches must be gone.
static void arena_destroy(unsigned ind) { arena_do(destroy_mib, destroy_miblen, ind, "destroy"); }

// Returns the arena's unused pages to the provider now (dirty and muzzy
// extents are coalesced and go through the dalloc hook).
static void arena_purge(unsigned ind) { arena_do(purge_mib, purge_miblen, ind, "purge"); }

static unsigned default_num_arenas(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    return n > POOL_JEMALLOC_DEFAULT_MAX_ARENAS ? POOL_JEMALLOC_DEFAULT_MAX_ARENAS : (unsigned)n;
}

// ---- pool operations ---------------------------------------------------------------

// The calling thread's last allocation error, for the pool it names.
static __thread struct {
    uint64_t uid;
    umf_result_t result;
} last_error;

static void *fail(pool_jemalloc_t *jp, umf_result_t r) {
    last_error.uid = jp->uid;
    last_error.result = r;
    return NULL;
}

static umf_result_t jp_initialize(umf_memory_provider_handle_t provider, void *params,
                                  void **out) {
    const struct hetmem_jemalloc_pool_params_t *in = params;
    if (!provider || !out || (in && in->magic != PARAMS_MAGIC)) {
        LOG_ERR("%s", !provider || !out ? "NULL argument"
                                        : "params are not hetmem_jemalloc_pool_params");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    pthread_once(&load_once, load);
    if (load_result != UMF_RESULT_SUCCESS)
        return load_result;

    // The pool's state lives in meta memory: jemalloc keeps &jp->hooks for
    // the arenas' lifetime, and the hooks find the pool through it.
    umf_result_t r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    pool_jemalloc_t *jp = meta_alloc(sizeof *jp);
    if (!jp)
        return r;
    jp->hooks = pool_jemalloc_hooks_template;
    jp->provider = provider;
    if (pool_jemalloc_chunks_init(&jp->chunks) != 0)
        goto err_free;
    jp->use_tcache = in ? in->tcache : true;
    unsigned want = in && in->num_arenas ? (unsigned)in->num_arenas : default_num_arenas();
    for (jp->narenas = 0; jp->narenas < want; jp->narenas++) {
        int e = arena_create(jp, &jp->arenas[jp->narenas]);
        if (e) {
            // jemalloc has at most 4095 arenas in a process: settle for fewer.
            LOG_INFO("arena %u of %u not created: %d", jp->narenas + 1, want, e);
            break;
        }
    }
    if (jp->narenas == 0)
        goto err_chunks;
    if (pool_jemalloc_registry_add(jp) != 0)
        goto err_arenas;
    LOG_INFO("jemalloc pool: %u arenas, %s", jp->narenas,
             jp->use_tcache ? "explicit tcaches" : "no tcache");
    *out = jp;
    return UMF_RESULT_SUCCESS;

err_arenas:
    for (unsigned i = 0; i < jp->narenas; i++)
        arena_destroy(jp->arenas[i]);
err_chunks:
    pool_jemalloc_chunks_release(&jp->chunks, provider);
err_free:
    meta_free(jp, sizeof *jp);
    return r;
}

// The order matters: tcaches hold blocks of the arenas (jemalloc requires
// them flushed before arena.<i>.destroy), and the ranges jemalloc destroys
// piece by piece may go back to the provider only once no arena of the
// pool is left to be merged with (pool_jemalloc_chunks.c).
static void jp_finalize(void *pool) {
    pool_jemalloc_t *jp = pool;
    pool_jemalloc_registry_remove(jp); // flushes and destroys the tcaches
    for (unsigned i = 0; i < jp->narenas; i++)
        arena_destroy(jp->arenas[i]);
    pool_jemalloc_chunks_release(&jp->chunks, jp->provider);
    if (last_error.uid == jp->uid)
        last_error.uid = 0;
    meta_free(jp, sizeof *jp);
}

// When the provider ran out. jemalloc keeps freed extents dirty (for
// dirty_decay_ms, 10 s by default) and coalesces them only when it purges,
// and memory that an arena retains is reused by that arena only; so a
// request can fail while the pool holds plenty of free memory - with a
// fixed-size provider that is the normal case. Purge every arena of the
// pool (after flushing this thread's tcache), then try this thread's arena
// again and every other arena of the pool. Other threads' tcaches are
// theirs to flush.
static bool reclaim_after_refusal(pool_jemalloc_t *jp) {
    if (!pool_jemalloc_provider_refused)
        return false; // failed for another reason (size too large, no metadata)
    pool_jemalloc_provider_refused = false;
    pool_jemalloc_thread_flush(jp);
    for (unsigned i = 0; i < jp->narenas; i++)
        arena_purge(jp->arenas[i]);
    LOG_INFO("provider ran out: purged the pool's %u arenas and retrying", jp->narenas);
    return true;
}

static __attribute__((noinline)) void *alloc_slow(pool_jemalloc_t *jp, void *old, size_t size,
                                                  int extra) {
    void *p = NULL;
    int saved_errno = errno;
    if (reclaim_after_refusal(jp)) {
        for (unsigned i = 0; !p && i <= jp->narenas; i++) {
            int flags = i == 0 ? pool_jemalloc_thread_flags(jp)->alloc
                               : MALLOCX_ARENA(jp->arenas[i - 1]) | MALLOCX_TCACHE_NONE;
            p = old ? je.rallocx(old, size, flags | extra) : je.mallocx(size, flags | extra);
        }
    }
    if (!p)
        return fail(jp, UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    errno = saved_errno;
    return p;
}

// mallocx with this thread's arena and tcache of the pool, plus `extra`;
// the block is marked live in the map.
static inline void *pool_alloc(pool_jemalloc_t *jp, size_t size, int extra) {
    void *p = je.mallocx(size, pool_jemalloc_thread_flags(jp)->alloc | extra);
    if (unlikely(!p) && !(p = alloc_slow(jp, NULL, size, extra)))
        return NULL;
    pool_jemalloc_map_mark(p);
    return p;
}

// A pointer that is not the start of a live block of this pool (cold).
static __attribute__((noinline, cold)) void refuse(pool_jemalloc_t *jp, const void *ptr,
                                                   const char *op) {
    if (log_level() >= LOG_LEVEL_ERROR)
        log_write(LOG_LEVEL_ERROR, "jemalloc pool",
                  "%s of %p refused: not a live block of this pool (foreign, interior or already "
                  "freed)",
                  op, ptr);
    (void)jp;
}

// True when ptr starts a live block of jp (reads only).
static inline bool is_live(pool_jemalloc_t *jp, const void *ptr) {
    pool_jemalloc_region_t *r = pool_jemalloc_map_region(jp, ptr);
    if (unlikely(!r))
        return false;
    uint64_t bit;
    return atomic_load_explicit(pool_jemalloc_map_word(r, ptr, &bit), memory_order_relaxed) & bit;
}

// Clears ptr's live bit; true when this call did (it was live, of jp). A
// racing second free of the same block finds the bit clear: exactly one
// caller wins.
static inline bool claim(pool_jemalloc_t *jp, const void *ptr) {
    pool_jemalloc_region_t *r = pool_jemalloc_map_region(jp, ptr);
    if (unlikely(!r))
        return false;
    uint64_t bit;
    _Atomic uint64_t *w = pool_jemalloc_map_word(r, ptr, &bit);
    return atomic_fetch_and_explicit(w, ~bit, memory_order_relaxed) & bit;
}

static void *jp_malloc(void *pool, size_t size) {
    // mallocx(0) is undefined; like malloc(0), hand out a unique minimal block.
    return pool_alloc(pool, size ? size : 1, 0);
}

static void *jp_aligned_malloc(void *pool, size_t size, size_t alignment) {
    pool_jemalloc_t *jp = pool;
    if (alignment == 0)
        return pool_alloc(jp, size ? size : 1, 0);
    if (!is_pow2(alignment)) {
        LOG_ERR("alignment %zu is not a power of two", alignment);
        return fail(jp, UMF_RESULT_ERROR_INVALID_ALIGNMENT);
    }
    return pool_alloc(jp, size ? size : 1, MALLOCX_ALIGN(alignment));
}

static void *jp_calloc(void *pool, size_t num, size_t size) {
    pool_jemalloc_t *jp = pool;
    size_t total;
    if (!mul_checked(num, size, &total)) {
        LOG_ERR("calloc(%zu, %zu) overflows", num, size);
        return fail(jp, UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY);
    }
    return pool_alloc(jp, total ? total : 1, MALLOCX_ZERO);
}

static umf_result_t jp_free(void *pool, void *ptr) {
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    if (unlikely(!claim(pool, ptr))) {
        refuse(pool, ptr, "free");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    // dallocx finds the arena itself: frees from any thread work
    je.dallocx(ptr, pool_jemalloc_thread_flags(pool)->free);
    return UMF_RESULT_SUCCESS;
}

static void *jp_realloc(void *pool, void *ptr, size_t size) {
    pool_jemalloc_t *jp = pool;
    if (!ptr)
        return jp_malloc(pool, size);
    if (!is_live(jp, ptr)) {
        refuse(jp, ptr, "realloc");
        return fail(jp, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    }
    if (size == 0) { // UMF: realloc to 0 frees
        jp_free(pool, ptr);
        return NULL;
    }
    // In place when the block can stay: shrinking never moves (and never
    // copies, so it works on memory the host cannot touch), nor does a size
    // that still fits. Otherwise it moves within this thread's arena of the
    // pool; on failure the old block is untouched.
    if (je.xallocx(ptr, size, 0, 0) >= size)
        return ptr;
    // The old block's bit is cleared before jemalloc may free it: once
    // freed, another thread may get the same address and mark it.
    if (!claim(jp, ptr)) { // freed meanwhile by another thread
        refuse(jp, ptr, "realloc");
        return fail(jp, UMF_RESULT_ERROR_INVALID_ARGUMENT);
    }
    void *p = je.rallocx(ptr, size, pool_jemalloc_thread_flags(jp)->alloc);
    if (unlikely(!p))
        p = alloc_slow(jp, ptr, size, 0);
    pool_jemalloc_map_mark(p ? p : ptr); // the new block, or the old one that stays
    return p;
}

static size_t jp_malloc_usable_size(void *pool, void *ptr) {
    if (!ptr)
        return 0;
    if (!is_live(pool, ptr)) {
        refuse(pool, ptr, "usable size");
        return 0;
    }
    return je.sallocx(ptr, 0);
}

static umf_result_t jp_last_allocation_error(void *pool) {
    pool_jemalloc_t *jp = pool;
    return last_error.uid == jp->uid ? last_error.result : UMF_RESULT_SUCCESS;
}

#else // !POOL_JEMALLOC_AVAILABLE

// Built without jemalloc: the operations exist (umfJemallocPoolOps is API)
// but no pool can be created, so only initialize is ever called.

static umf_result_t jp_initialize(umf_memory_provider_handle_t provider, void *params,
                                  void **out) {
    (void)provider, (void)params, (void)out;
#if HETMEM_WITH_JEMALLOC
    LOG_ERR("hetmem was built without jemalloc/jemalloc.h (install libjemalloc-dev)");
    return UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE;
#else
    LOG_ERR("hetmem was built with HETMEM_WITH_JEMALLOC=OFF");
    return UMF_RESULT_ERROR_NOT_SUPPORTED;
#endif
}

static void jp_finalize(void *pool) { (void)pool; }
static void *jp_malloc(void *pool, size_t size) { return (void)pool, (void)size, NULL; }
static void *jp_aligned_malloc(void *pool, size_t size, size_t alignment) {
    return (void)pool, (void)size, (void)alignment, NULL;
}
static void *jp_calloc(void *pool, size_t num, size_t size) {
    return (void)pool, (void)num, (void)size, NULL;
}
static void *jp_realloc(void *pool, void *ptr, size_t size) {
    return (void)pool, (void)ptr, (void)size, NULL;
}
static size_t jp_malloc_usable_size(void *pool, void *ptr) { return (void)pool, (void)ptr, 0; }
static umf_result_t jp_free(void *pool, void *ptr) {
    return (void)pool, (void)ptr, UMF_RESULT_ERROR_NOT_SUPPORTED;
}
static umf_result_t jp_last_allocation_error(void *pool) {
    return (void)pool, UMF_RESULT_ERROR_NOT_SUPPORTED;
}

#endif // POOL_JEMALLOC_AVAILABLE

static umf_memory_pool_ops_t jemalloc_ops = POOL_OPS_TABLE(jp, jp_last_allocation_error);

POOL_OPS_DECLARE(jemalloc_ops, POOL_CAP_CHECKS_POINTERS, NULL) // its free checks ownership
HETMEM_EXPORT umf_memory_pool_ops_t *umfJemallocPoolOps(void) { return &jemalloc_ops; }
