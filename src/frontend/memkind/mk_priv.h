// SPDX-License-Identifier: MIT
// The memkind front end's internal interface. Glossary and design:
// docs/memkind.md ("Design": kind, heap, slot, rule, guard).
#ifndef HETMEM_FRONTEND_MEMKIND_MK_PRIV_H
#define HETMEM_FRONTEND_MEMKIND_MK_PRIV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <memkind.h>
#include <memkind/internal/memkind_arena.h>
#include <memkind/internal/memkind_private.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "base/lock.h"
#include "base/nodeset.h"
#include "memspace/memspace_nodes.h"

#define MK_VERSION_MAJOR 1 ///< the memkind API level we implement
#define MK_VERSION_MINOR 14
#define MK_VERSION_PATCH 0
#define MK_HUGE_2M ((size_t)2 << 20)

// ---- environment (mk_env.c) -------------------------------------------------

/// MEMKIND_HEAP_MANAGER: unset (the heap engine), JEMALLOC, TBB (the engine).
typedef enum mk_heap_manager_t { MK_HEAP_ENGINE, MK_HEAP_JEMALLOC, MK_HEAP_TBB } mk_heap_manager_t;

/// Bits of mk_env_t.malformed.
enum {
    MK_ENV_ARENA_NUM = 1u << 0,
    MK_ENV_HOG_MEMORY = 1u << 1,
    MK_ENV_HEAP_MANAGER = 1u << 2,
    MK_ENV_BG_THREAD_LIMIT = 1u << 3,
};

/// The MEMKIND_* variables the front end reads itself; parsed once.
typedef struct mk_env_t {
    unsigned malformed;   ///< MK_ENV_* bits of the variables that were rejected
    unsigned arena_num;   ///< MEMKIND_ARENA_NUM_PER_KIND, 0 when unset
    bool hog_memory;      ///< MEMKIND_HOG_MEMORY=1
    mk_heap_manager_t heap_manager;
    long bg_thread_limit; ///< MEMKIND_BACKGROUND_THREAD_LIMIT, -1 unset (0: CPU count)
} mk_env_t;

const mk_env_t *mk_env(void);
/// MEMKIND_ERROR_ENVIRON when a variable every heap depends on is malformed.
int mk_env_status(void);
#ifdef HETMEM_TEST_HOOKS
void mk_env_reset_for_testing(void); ///< parse again on the next mk_env call
#endif

// ---- errors (mk_errors.c): the front end's one conversion table --------------

int mk_error_from_umf(umf_result_t r);
int mk_error_from_errno(int err);
int mk_errno_from_umf(umf_result_t r);   ///< ENOMEM or EINVAL
int mk_log_error(const char *fn, int err); ///< logs "fn: <why>", returns err
/// posix_memalign's rule: a power of two and a multiple of sizeof(void *).
static inline bool mk_alignment_ok(size_t a) {
    return a && !(a & (a - 1)) && a % sizeof(void *) == 0;
}
const char *mk_error_name(int err);      ///< "MEMKIND_ERROR_ENVIRON", for log lines

// ---- nodes, providers, pools -------------------------------------------------------

/// MEMKIND_ERROR_ENVIRON when the topology layer rejected MEMKIND_HBW_NODES /
/// _THRESHOLD (hbw) or MEMKIND_DAX_KMEM_NODES (!hbw); UNAVAILABLE without topology.
int mk_nodes_env_status(bool hbw);

/// A provider over a kind's own mmap operations, or its extent hooks (mk_arena.c).
umf_result_t mk_kindops_provider_create(struct memkind *kind, extent_hooks_t *hooks,
                                        umf_memory_provider_handle_t *out);

/// A pool's tuning (mk_pool.c).
typedef struct mk_pool_cfg_t {
    bool keep_all;      ///< never give memory back (HOG_MEMORY, fixed kinds)
    size_t granularity; ///< provider request size, 0: default
} mk_pool_cfg_t;
struct pool_guard_t;

typedef struct mk_pool_stats_t {
    size_t allocated, active, resident;
} mk_pool_stats_t;

/// The pool of a heap over provider (which it owns from then on), of the
/// MEMKIND_HEAP_MANAGER implementation, tagged with `kind`, with `guard`
/// (limit, bound-node reserve, THP advice; pools/pool.h).
umf_result_t mk_pool_create(const mk_pool_cfg_t *cfg, const struct pool_guard_t *guard,
                            umf_memory_provider_handle_t provider, struct memkind *kind,
                            umf_memory_pool_handle_t *out);
/// True for a kind's pool (its tag is a kind; other pools' tags are not ours).
bool mk_pool_is_ours(umf_memory_pool_handle_t pool);
const char *mk_pool_manager_name(void);
/// The engine's figures of a pool, or for another pool the bytes it holds.
void mk_pool_stats(umf_memory_pool_handle_t pool, mk_pool_stats_t *out);
void mk_pool_purge(umf_memory_pool_handle_t pool);

// ---- heaps (mk_heap.c / mk_kinds.c) -----------------------------------------------

typedef enum mk_type_t { MK_TYPE_STATIC, MK_TYPE_PMEM, MK_TYPE_FIXED, MK_TYPE_ARENA } mk_type_t;

/// A row of MK_STATIC_KINDS: how a static kind gets its memory.
typedef struct mk_static_desc_t {
    const char *name;
    memspace_rule_t rule; ///< which nodes
    umf_numa_mode_t mode; ///< how (DEFAULT, BIND, PREFERRED, INTERLEAVE)
    bool hugetlb, single, hbw_env, kmem_env, unsupported, capacity; ///< MK_STATIC_KINDS flags
} mk_static_desc_t;

/// One pool of a heap (a locality domain).
typedef struct mk_slot_t {
    nodeset_t nodes; ///< the nodes the slot's pool binds to
    int status;      ///< MEMKIND_SUCCESS or why the slot cannot allocate
    _Atomic(umf_memory_pool_handle_t) pool; ///< NULL until first use; written under heap->lock
} mk_slot_t;

/// hetmem's state of one kind. Immutable once installed, except the slots'
/// pools (created once under `lock`), `cached` and `policy`.
typedef struct mk_heap_t {
    struct memkind *kind;
    struct mk_heap_t *next; ///< the list of every heap (mk_heap.c)
    mk_type_t type;
    const mk_static_desc_t *desc; ///< MK_TYPE_STATIC only
    int status;                   ///< MEMKIND_SUCCESS, or why the kind cannot allocate
    lock_t lock;                  ///< serializes pool creation
    unsigned nslots, slot_cap;
    bool local;       ///< slot chosen by the calling CPU's node
    mk_slot_t *slots; ///< &slot0, or (local heaps) one per CPU node in meta memory
    mk_slot_t slot0;
    int16_t slot_of_node[NODESET_MAX]; ///< CPU node -> slot (local heaps), -1 none
    memkind_mem_usage_policy policy;
    int fd;           ///< pmem: the unlinked temporary file (-1 none)
    char path[64];    ///< pmem: /proc/self/fd/N
    size_t limit;     ///< pmem: max_size (0: none)
    char dir[256];    ///< pmem: the directory (capacity)
    void *fixed_addr; ///< fixed: the buffer
    size_t fixed_size;
    extent_hooks_t *hooks;  ///< arena kinds: NULL for kind_mmap
    size_t cached[MEMKIND_STAT_TYPE_MAX_VALUE]; ///< memkind_update_cached_stats
} mk_heap_t;

mk_heap_t *mk_heap_get(struct memkind *kind);  ///< created on first use; NULL without memory
mk_heap_t *mk_heap_peek(struct memkind *kind); ///< NULL when none (no creation)
mk_heap_t *mk_heap_new(struct memkind *kind, mk_type_t type);
bool mk_heap_install(struct memkind *kind, mk_heap_t *h); ///< false: the kind has one
void mk_heap_free(mk_heap_t *h);                           ///< undoes mk_heap_new
void mk_heap_destroy(struct memkind *kind);
/// The calling thread's pool, created on first use; NULL with *err set.
umf_memory_pool_handle_t mk_heap_pool(mk_heap_t *h, int *err);
mk_slot_t *mk_heap_slot(mk_heap_t *h); ///< the calling thread's slot
static inline umf_memory_pool_handle_t mk_slot_pool(mk_slot_t *s) {
    return atomic_load_explicit(&s->pool, memory_order_acquire);
}
int mk_heap_check(struct memkind *kind); ///< memkind_check_available of our kinds
/// memkind 1.14's code for a static kind's status (mk_abi.c).
int mk_abi_code(const mk_static_desc_t *d, int err);
mk_heap_t *mk_static_heap_build(struct memkind *kind); ///< status and slots (mk_kinds.c)
/// Calls fn for every heap, under the lock that heap destruction takes.
void mk_heaps_for_each(void (*fn)(mk_heap_t *h, void *arg), void *arg);
/// The kind that owns ptr's memory (its pool's tag), and the pool.
struct memkind *mk_kind_of(const void *ptr, umf_memory_pool_handle_t *pool);
/// mk_kind_of for a non-NULL ptr, faster when the block is the live kind `hint`'s.
struct memkind *mk_kind_of_hinted(const void *ptr, struct memkind *hint,
                                  umf_memory_pool_handle_t *pool);

// The operations of our kinds, also behind memkind_arena_*.
void *mk_op_malloc(struct memkind *kind, size_t size);
void *mk_op_calloc(struct memkind *kind, size_t num, size_t size);
int mk_op_posix_memalign(struct memkind *kind, void **memptr, size_t alignment, size_t size);
void *mk_op_realloc(struct memkind *kind, void *ptr, size_t size);
void mk_op_free(struct memkind *kind, void *ptr);
size_t mk_op_usable_size(struct memkind *kind, void *ptr);
void *mk_op_defrag(struct memkind *kind, void *ptr);
int mk_op_get_stat(memkind_t kind, memkind_stat_type stat, size_t *value);
int mk_op_update_policy(struct memkind *kind, memkind_mem_usage_policy policy);
/// Frees ptr into its owner's pool; a refusal is logged under fn and ignored.
umf_result_t mk_pool_free_logged(umf_memory_pool_handle_t pool, struct memkind *owner, void *ptr,
                                 const char *fn);
void mk_log_not_ours(const char *fn, const void *ptr);

// ---- kind handles (mk_handle.c; docs/memkind.md, "Errors and wrong use") --------

#define MK_KIND_LIVE 0x4b494e44u ///< "KIND"
#define MK_KIND_DEAD 0x44454144u ///< "DEAD"
#define MK_KIND_QUARANTINE 256u

// hetmem's state inside memkind 1.14's 120-byte struct memkind
// (memkind_private.h): the heap in arena_map, the handle state in
// arena_key, the self check and the flags in memkind's padding. The alias
// types keep the compiler from assuming these members hold only their
// declared types.
typedef void *mk_ptr_alias_t __attribute__((may_alias));
typedef unsigned int mk_uint_alias_t __attribute__((may_alias));
#define MK_HEAP_SLOT(k) ((mk_ptr_alias_t *)&(k)->arena_map)
#define MK_STATE(k) ((mk_uint_alias_t *)&(k)->arena_key)
#define MK_FLAG_ZERO_ALLOCS 1u ///< hetmem_flags: memkind_set_allow_zero_allocs

/// The self check of a kind at this address (32 bits of it, salted).
static inline unsigned mk_self_of(const struct memkind *kind) {
    uint64_t x = (uint64_t)(uintptr_t)kind ^ UINT64_C(0x9e3779b97f4a7c15);
    return (unsigned)(x ^ (x >> 32)) | 1u; // never 0: 0 is a fresh structure's
}

static inline bool mk_kind_live(const struct memkind *kind) {
    return kind && __atomic_load_n(MK_STATE(kind), __ATOMIC_RELAXED) == MK_KIND_LIVE &&
           kind->hetmem_self == mk_self_of(kind);
}

static inline bool mk_allow_zero(const struct memkind *kind) {
    return __atomic_load_n(&kind->hetmem_flags, __ATOMIC_RELAXED) & MK_FLAG_ZERO_ALLOCS;
}
void mk_kind_mark_live(struct memkind *kind);
/// false, with a log line naming fn, unless the kind is live.
bool mk_kind_check(const struct memkind *kind, const char *fn);
struct memkind *mk_kind_alloc(void);      ///< zeroed, possibly a long-dead kind's
void mk_kind_retire(struct memkind *kind); ///< into quarantine: readable and dead

// ---- registry (mk_kinds.c) -------------------------------------------------------

extern struct memkind mk_static_kinds[MEMKIND_NUM_BASE_KIND]; ///< partition order
extern const mk_static_desc_t mk_static_descs[MEMKIND_NUM_BASE_KIND];
bool mk_kind_is_static(const struct memkind *kind);
/// MEMKIND_SUCCESS, MEMKIND_ERROR_TOOMANY or MEMKIND_ERROR_INVALID (name taken).
int mk_registry_add(struct memkind *kind);
void mk_registry_remove(struct memkind *kind);
unsigned mk_registry_count(void);
/// True for MEMKIND_PMEM_OPS and MEMKIND_FIXED_OPS (memkind_create_pmem*/_fixed's kinds).
bool mk_ops_created(const struct memkind_ops *ops);
/// Destroys a pmem or fixed kind: heap, registry entry, structure (quarantined).
int mk_created_destroy(struct memkind *kind);
/// The "arenas" memkind would give a kind (MEMKIND_ARENA_NUM_PER_KIND or 4 per CPU).
unsigned mk_arena_count(void);

// ---- the rest of memkind 1.14's ABI (mk_abi.c) -------------------------------------

/// Fills mask (maxnode bits) with the nodes a static kind allocates on for
/// the calling thread; its status when it cannot allocate.
int mk_abi_nodemask(unsigned partition, unsigned long *mask, unsigned long maxnode);
int mk_abi_check(unsigned partition); ///< memkind_check_available of a static kind
void mk_abi_init(unsigned partition); ///< builds a static kind's heap
/// Writes nodes into mask as maxnode bits (mbind's layout).
void mk_nodemask_fill(const nodeset_t *nodes, unsigned long *mask, unsigned long maxnode);

int mk_bg_threads_set(bool on); ///< the purging thread (mk_stats.c)

#endif // HETMEM_FRONTEND_MEMKIND_MK_PRIV_H
