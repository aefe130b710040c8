// SPDX-License-Identifier: MIT
// User kinds: memkind_arena_* (memkind_arena(3)), memkind_default_*
// (memkind_default(3)), and the provider that maps a user kind's memory
// through its own operations or extent hooks (docs/memkind.md, "User kinds").
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <umf/memory_provider_ops.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"
#include "os/meta.h"
#include "os/os.h"
#include "topology/topo.h"

// ---- memkind_default_* ---------------------------------------------------------------

// MAP_* flags as the OS layer's flags (private anonymous is the default).
static int os_flags_of(int flags) {
    int f = 0;
    if (flags & MAP_SHARED)
        f |= OS_MAP_SHARED;
    if (flags & MAP_HUGETLB)
        f |= ((flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK) == 30 ? OS_MAP_HUGE_1G : OS_MAP_HUGE_2M;
    if (flags & MAP_NORESERVE)
        f |= OS_MAP_NORESERVE;
    if (flags & MAP_POPULATE)
        f |= OS_MAP_POPULATE;
    return f;
}

static size_t kind_page(struct memkind *kind) {
    int flags = 0;
    if (kind && kind->ops && kind->ops->get_mmap_flags &&
        kind->ops->get_mmap_flags(kind, &flags) == 0 && (flags & MAP_HUGETLB))
        return ((flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK) == 30 ? (size_t)1 << 30 : MK_HUGE_2M;
    return os_page_size();
}

// A kind's own operation, through a local pointer (the calls are the
// kind's, not the kernel's: scripts/check_layers.sh looks for the latter).
static int run_op(int (*op)(struct memkind *, void *, size_t), struct memkind *kind, void *p,
                  size_t size) {
    return op ? op(kind, p, size) : 0;
}

static void *run_map_op(struct memkind *kind, void *addr, size_t size) {
    void *(*op)(struct memkind *, void *, size_t) = kind->ops->mmap;
    return op(kind, addr, size);
}

// memkind_default_mmap with an alignment (the provider's requests).
static void *default_mmap(struct memkind *kind, void *addr, size_t size, size_t align) {
    int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    const struct memkind_ops *ops = kind ? kind->ops : NULL;
    if (ops && ops->get_mmap_flags && ops->get_mmap_flags(kind, &flags))
        return MAP_FAILED;
    void *p;
    if (os_map_anon(addr, size, align, OS_PROT_READ | OS_PROT_WRITE, os_flags_of(flags), &p))
        return MAP_FAILED;
    if (ops && (run_op(ops->mbind, kind, p, size) || run_op(ops->madvise, kind, p, size))) {
        os_unmap(p, size);
        return MAP_FAILED;
    }
    return p;
}

HETMEM_EXPORT void *memkind_default_mmap(struct memkind *kind, void *addr, size_t size) {
    return default_mmap(kind, addr, size, 0);
}

HETMEM_EXPORT void *kind_mmap(struct memkind *kind, void *addr, size_t size) {
    return kind && kind->ops && kind->ops->mmap ? run_map_op(kind, addr, size)
                                                : default_mmap(kind, addr, size, 0);
}

HETMEM_EXPORT int memkind_default_mbind(struct memkind *kind, void *ptr, size_t size) {
    if (!kind || !kind->ops || !kind->ops->get_mbind_mode || !kind->ops->get_mbind_nodemask)
        return MEMKIND_ERROR_BADOPS;
    unsigned long mask[NODESET_WORDS] = {0};
    int mode;
    int err = kind->ops->get_mbind_nodemask(kind, mask, NODESET_MAX);
    if (err == 0)
        err = kind->ops->get_mbind_mode(kind, &mode);
    if (err)
        return err;
    nodeset_t set;
    nodeset_zero(&set);
    for (unsigned n = 0; n < NODESET_MAX; n++)
        if (mask[n / (8 * sizeof(long))] >> (n % (8 * sizeof(long))) & 1ul)
            nodeset_set(&set, n);
    if (os_mbind(ptr, size, (os_mpol_t)mode, &set, 0)) {
        LOG_ERR("kind %s: binding %p+%zu (mode %d) failed", kind->name, ptr, size, mode);
        return MEMKIND_ERROR_MBIND;
    }
    return MEMKIND_SUCCESS;
}

static int set_mode(int *mode, int m) {
    if (!mode)
        return MEMKIND_ERROR_INVALID;
    *mode = m;
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_default_get_mmap_flags(struct memkind *kind, int *flags) {
    (void)kind;
    return set_mode(flags, MAP_PRIVATE | MAP_ANONYMOUS);
}

HETMEM_EXPORT int memkind_default_get_mbind_mode(struct memkind *kind, int *mode) {
    (void)kind;
    return set_mode(mode, OS_MPOL_BIND);
}

HETMEM_EXPORT int memkind_preferred_get_mbind_mode(struct memkind *kind, int *mode) {
    (void)kind;
    return set_mode(mode, OS_MPOL_PREFERRED);
}

HETMEM_EXPORT int memkind_interleave_get_mbind_mode(struct memkind *kind, int *mode) {
    (void)kind;
    return set_mode(mode, OS_MPOL_INTERLEAVE);
}

HETMEM_EXPORT int memkind_default_get_mbind_nodemask(struct memkind *kind, unsigned long *nodemask,
                                                     unsigned long maxnode) {
    (void)kind;
    if (!nodemask)
        return MEMKIND_ERROR_INVALID;
    int e = topo_init();
    if (e && e != EINVAL)
        return MEMKIND_ERROR_UNAVAILABLE;
    mk_nodemask_fill(topo_all_nodes(), nodemask, maxnode);
    return MEMKIND_SUCCESS;
}

void mk_nodemask_fill(const nodeset_t *nodes, unsigned long *mask, unsigned long maxnode) {
    const unsigned bits = 8 * sizeof(unsigned long);
    // maxnode / bits rounded up without maxnode + bits - 1 (it may be ULONG_MAX)
    memset(mask, 0, (maxnode / bits + (maxnode % bits != 0)) * sizeof(unsigned long));
    for (int n = nodeset_next(nodes, 0); n >= 0 && (unsigned long)n < maxnode;
         n = nodeset_next(nodes, (unsigned)n + 1))
        mask[(unsigned)n / bits] |= 1ul << ((unsigned)n % bits);
}

HETMEM_EXPORT int memkind_nohugepage_madvise(struct memkind *kind, void *addr, size_t size) {
    (void)kind;
    return os_madvise(addr, size, OS_ADV_NOHUGEPAGE) ? MEMKIND_ERROR_OPERATION_FAILED
                                                     : MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_posix_check_alignment(struct memkind *kind, size_t alignment) {
    (void)kind;
    return mk_alignment_ok(alignment) ? 0 : EINVAL;
}

HETMEM_EXPORT void memkind_default_init_once(void) {}

HETMEM_EXPORT int memkind_default_create(struct memkind *kind, struct memkind_ops *ops,
                                         const char *name) {
    if (!kind || !ops || !name)
        return MEMKIND_ERROR_INVALID;
    kind->ops = ops;
    snprintf(kind->name, sizeof kind->name, "%s", name);
    mk_kind_mark_live(kind); // a handle the API accepts from now on
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_default_destroy(struct memkind *kind) {
    (void)kind;
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT void *memkind_default_malloc(struct memkind *kind, size_t size) {
    (void)kind;
    return mk_op_malloc(MEMKIND_DEFAULT, size);
}

HETMEM_EXPORT void *memkind_default_calloc(struct memkind *kind, size_t num, size_t size) {
    (void)kind;
    return mk_op_calloc(MEMKIND_DEFAULT, num, size);
}

HETMEM_EXPORT int memkind_default_posix_memalign(struct memkind *kind, void **memptr,
                                                 size_t alignment, size_t size) {
    (void)kind;
    return mk_op_posix_memalign(MEMKIND_DEFAULT, memptr, alignment, size);
}

HETMEM_EXPORT void *memkind_default_realloc(struct memkind *kind, void *ptr, size_t size) {
    (void)kind;
    return mk_op_realloc(MEMKIND_DEFAULT, ptr, size);
}

HETMEM_EXPORT void memkind_default_free(struct memkind *kind, void *ptr) { mk_op_free(kind, ptr); }

HETMEM_EXPORT size_t memkind_default_malloc_usable_size(struct memkind *kind, void *ptr) {
    return mk_op_usable_size(kind, ptr);
}

// ---- the provider over a kind's operations ---------------------------------------------

typedef struct kindops_t {
    struct memkind *kind;
    extent_hooks_t *hooks; // NULL: kind_mmap
    size_t page;
    unsigned arena;
} kindops_t;

static umf_result_t kindops_initialize(void *params, void **provider) {
    const kindops_t *cfg = params;
    kindops_t *k = meta_alloc(sizeof *k);
    if (!k)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    *k = *cfg;
    *provider = k;
    return UMF_RESULT_SUCCESS;
}

static void kindops_finalize(void *provider) { meta_free(provider, sizeof(kindops_t)); }

static umf_result_t kindops_alloc(void *provider, size_t size, size_t alignment, void **ptr) {
    kindops_t *k = provider;
    if (!size || !ptr || (alignment & (alignment - 1)))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    size_t align = alignment > k->page ? alignment : k->page;
    bool zero = false, commit = true;
    void *p = k->hooks ? (k->hooks->alloc ? k->hooks->alloc(k->hooks, NULL, size, align, &zero,
                                                            &commit, k->arena)
                                          : NULL)
              : k->kind->ops->mmap ? run_map_op(k->kind, NULL, size)
                                   : default_mmap(k->kind, NULL, size, align);
    if (!p || p == MAP_FAILED)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    if (!k->hooks && (uintptr_t)p % align) { // the kind's own mmap knows no alignment
        LOG_ERR("kind %s: its mmap returned %p, not aligned to %zu", k->kind->name, p, align);
        os_unmap(p, size);
        return UMF_RESULT_ERROR_INVALID_ALIGNMENT;
    }
    *ptr = p;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t kindops_free(void *provider, void *ptr, size_t size) {
    kindops_t *k = provider;
    if (!ptr)
        return UMF_RESULT_SUCCESS;
    if (k->hooks) {
        // dalloc returning true opts out (jemalloc retains the extent): then
        // destroy is the hook that gives it back.
        if ((!k->hooks->dalloc || k->hooks->dalloc(k->hooks, ptr, size, true, k->arena)) &&
            k->hooks->destroy)
            k->hooks->destroy(k->hooks, ptr, size, true, k->arena);
        return UMF_RESULT_SUCCESS;
    }
    return os_unmap(ptr, size) ? UMF_RESULT_ERROR_INVALID_ARGUMENT : UMF_RESULT_SUCCESS;
}

static void kindops_last_native_error(void *provider, const char **msg, int32_t *err) {
    (void)provider;
    if (msg && err) {
        *msg = "memkind kind operation failed";
        *err = 0;
    }
}

static umf_result_t kindops_page_size(void *provider, size_t size, size_t *ps) {
    (void)size;
    *ps = ((kindops_t *)provider)->page;
    return UMF_RESULT_SUCCESS;
}

static umf_result_t kindops_min_page_size(void *provider, void *ptr, size_t *ps) {
    (void)ptr;
    return kindops_page_size(provider, 0, ps);
}

static const char *kindops_name(void *provider) {
    (void)provider;
    return "memkind_kind_ops";
}

static umf_result_t purge(kindops_t *k, void *ptr, size_t size, bool force) {
    extent_purge_t *f = !k->hooks ? NULL : force ? k->hooks->purge_forced : k->hooks->purge_lazy;
    bool failed = k->hooks ? !f || f(k->hooks, ptr, size, 0, size, k->arena)
                           : os_madvise(ptr, size, force ? OS_ADV_DONTNEED : OS_ADV_FREE) != 0;
    return failed ? UMF_RESULT_ERROR_NOT_SUPPORTED : UMF_RESULT_SUCCESS;
}

static umf_result_t kindops_purge_lazy(void *provider, void *ptr, size_t size) {
    return purge(provider, ptr, size, false);
}

static umf_result_t kindops_purge_force(void *provider, void *ptr, size_t size) {
    return purge(provider, ptr, size, true);
}

// Without hooks, mappings split and merge freely; with hooks, the hooks decide.
static umf_result_t kindops_split(void *provider, void *ptr, size_t total, size_t first) {
    kindops_t *k = provider;
    extent_hooks_t *h = k->hooks;
    bool failed = h && (!h->split || h->split(h, ptr, total, first, total - first, true, k->arena));
    return failed ? UMF_RESULT_ERROR_NOT_SUPPORTED : UMF_RESULT_SUCCESS;
}

static umf_result_t kindops_merge(void *provider, void *low, void *high, size_t total) {
    kindops_t *k = provider;
    extent_hooks_t *h = k->hooks;
    size_t first = (size_t)((char *)high - (char *)low);
    bool failed =
        h && (!h->merge || h->merge(h, low, first, high, total - first, true, k->arena));
    return failed ? UMF_RESULT_ERROR_NOT_SUPPORTED : UMF_RESULT_SUCCESS;
}

static umf_memory_provider_ops_t kindops_ops = {
    .version = UMF_VERSION_CURRENT, .initialize = kindops_initialize,
    .finalize = kindops_finalize, .alloc = kindops_alloc, .free = kindops_free,
    .get_last_native_error = kindops_last_native_error,
    .get_recommended_page_size = kindops_page_size, .get_min_page_size = kindops_min_page_size,
    .get_name = kindops_name,
    .ext = {kindops_purge_lazy, kindops_purge_force, kindops_merge, kindops_split},
};

umf_result_t mk_kindops_provider_create(struct memkind *kind, extent_hooks_t *hooks,
                                        umf_memory_provider_handle_t *out) {
    kindops_t k = {kind, hooks, kind_page(kind), kind->arena_zero};
    return umfMemoryProviderCreate(&kindops_ops, &k, out);
}

// ---- memkind_arena_* -----------------------------------------------------------------------

HETMEM_EXPORT int memkind_arena_create_map(struct memkind *kind, extent_hooks_t *hooks) {
    if (!kind || !kind->ops) {
        LOG_ERR("memkind_arena_create_map: %s", !kind ? "NULL kind" : "the kind has no ops");
        return MEMKIND_ERROR_INVALID;
    }
    if (!mk_kind_live(kind)) {
        // A structure the program filled in itself (zeroed, ops set) or a
        // destroyed kind created again becomes a live kind; anything else
        // is not a structure whose heap pointer may be followed.
        unsigned state = __atomic_load_n(MK_STATE(kind), __ATOMIC_RELAXED);
        bool fresh = !kind->hetmem_self && !state && !*MK_HEAP_SLOT(kind);
        bool dead = kind->hetmem_self == mk_self_of(kind) && state == MK_KIND_DEAD;
        if (!fresh && !dead)
            return mk_kind_check(kind, __func__), MEMKIND_ERROR_INVALID;
        if (dead)
            __atomic_store_n(MK_HEAP_SLOT(kind), NULL, __ATOMIC_RELEASE);
        mk_kind_mark_live(kind);
    }
    int err = mk_env_status();
    if (err != MEMKIND_SUCCESS)
        return err;
    if (kind->arena_map_len == 0) {
        kind->arena_map_len = 1;
        kind->arena_map_mask = 0;
    }
    mk_heap_t *h = mk_heap_peek(kind);
    if (h) { // created before (lazily, or a second call): new hooks before first use only
        if (h->type == MK_TYPE_ARENA && !mk_slot_pool(&h->slots[0]))
            h->hooks = hooks;
        return MEMKIND_SUCCESS;
    }
    h = mk_heap_new(kind, MK_TYPE_ARENA);
    if (!h)
        return MEMKIND_ERROR_ARENAS_CREATE;
    h->hooks = hooks;
    if (!mk_heap_install(kind, h))
        mk_heap_free(h); // another thread was first
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_arena_create(struct memkind *kind, struct memkind_ops *ops,
                                       const char *name) {
    int err = memkind_default_create(kind, ops, name);
    if (err == MEMKIND_SUCCESS)
        err = memkind_arena_create_map(kind, NULL);
    return err;
}

HETMEM_EXPORT int memkind_arena_destroy(struct memkind *kind) {
    if (kind)
        mk_heap_destroy(kind);
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_arena_finalize(struct memkind *kind) {
    return memkind_arena_destroy(kind);
}

HETMEM_EXPORT void memkind_arena_init(struct memkind *kind) {
    int err = memkind_arena_create_map(kind, NULL);
    if (err != MEMKIND_SUCCESS)
        LOG_ERR("memkind_arena_init(%s): %s", kind ? kind->name : "NULL", mk_error_name(err));
}

// The memkind_arena_* calls follow the kind's heap: a bad handle is refused
// first (memkind_malloc checked it already when it calls them as ops).
#define ARENA_KIND_OK(kind) likely(mk_kind_live(kind) || mk_kind_check((kind), __func__))

static void *einval(void) {
    errno = EINVAL;
    return NULL;
}

HETMEM_EXPORT void *memkind_arena_malloc(struct memkind *kind, size_t size) {
    return ARENA_KIND_OK(kind) ? mk_op_malloc(kind, size) : einval();
}

HETMEM_EXPORT void *memkind_arena_calloc(struct memkind *kind, size_t num, size_t size) {
    return ARENA_KIND_OK(kind) ? mk_op_calloc(kind, num, size) : einval();
}

HETMEM_EXPORT void *memkind_arena_pmem_calloc(struct memkind *kind, size_t num, size_t size) {
    return ARENA_KIND_OK(kind) ? mk_op_calloc(kind, num, size) : einval();
}

HETMEM_EXPORT int memkind_arena_posix_memalign(struct memkind *kind, void **memptr,
                                               size_t alignment, size_t size) {
    return ARENA_KIND_OK(kind) ? mk_op_posix_memalign(kind, memptr, alignment, size) : EINVAL;
}

HETMEM_EXPORT void *memkind_arena_realloc(struct memkind *kind, void *ptr, size_t size) {
    return ARENA_KIND_OK(kind) ? mk_op_realloc(kind, ptr, size) : einval();
}

HETMEM_EXPORT void *memkind_arena_realloc_with_kind_detect(void *ptr, size_t size) {
    struct memkind *kind = mk_kind_of(ptr, NULL);
    return kind ? mk_op_realloc(kind, ptr, size) : einval();
}

HETMEM_EXPORT void memkind_arena_free(struct memkind *kind, void *ptr) { mk_op_free(kind, ptr); }

HETMEM_EXPORT void memkind_arena_free_with_kind_detect(void *ptr) { mk_op_free(NULL, ptr); }

HETMEM_EXPORT size_t memkind_arena_malloc_usable_size(void *ptr) {
    return mk_op_usable_size(NULL, ptr);
}

HETMEM_EXPORT struct memkind *memkind_arena_detect_kind(void *ptr) { return mk_kind_of(ptr, NULL); }

HETMEM_EXPORT int memkind_thread_get_arena(struct memkind *kind, unsigned int *arena, size_t size) {
    (void)size;
    if (!kind || !arena)
        return MEMKIND_ERROR_INVALID;
    // Fibonacci hash of the thread id over the kind's arena count.
    unsigned h = (unsigned)((uint64_t)(unsigned)os_gettid() * 0x9E3779B97F4A7C15ull >> 40);
    *arena = kind->arena_zero + (h & kind->arena_map_mask);
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_bijective_get_arena(struct memkind *kind, unsigned int *arena,
                                              size_t size) {
    (void)size;
    if (!kind || !arena)
        return MEMKIND_ERROR_INVALID;
    *arena = kind->arena_zero;
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_arena_update_memory_usage_policy(struct memkind *kind,
                                                           memkind_mem_usage_policy policy) {
    if (!kind)
        return MEMKIND_ERROR_INVALID;
    return mk_op_update_policy(kind, policy);
}
