// SPDX-License-Identifier: MIT
// The memkind front end's internal interface (src/frontend/memkind). The
// front end maps memkind onto the core: a kind is a node rule and a NUMA
// policy (or a file, a fixed buffer, or the kind's own mmap operations)
// plus a pool configuration; each kind owns one UMF pool per locality
// domain, created on first use, whose pool tag is the kind, so that one
// address-map lookup (umfPoolByPtr) answers memkind_free(NULL, p) and
// memkind_detect_kind.
//
// Glossary
//   kind     a struct memkind (memkind/internal/memkind_private.h); ours
//            carry our ops tables, user kinds carry theirs
//   heap     mk_heap_t, hetmem's state of one kind (kind->hetmem_heap):
//            its slots, its configuration, its cached statistics
//   slot     one pool of a heap, for one locality domain: kinds whose
//            nodes depend on the calling CPU (HBW, DAX_KMEM, *_LOCAL...)
//            have one slot per CPU node with a distinct node set; the
//            others have one slot
//   rule     how a static kind picks its nodes: a rule of the memspace
//            layer's engine (memspace_nodes_select), asked per CPU node
//   guard    the core's pool guard (pool_guard_t) a kind's pools carry:
//            free-memory check of bound kinds, size limit, THP advice
#ifndef HETMEM_FRONTEND_MEMKIND_MK_INTERNAL_H
#define HETMEM_FRONTEND_MEMKIND_MK_INTERNAL_H

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
#include "pools/pool_internal.h"

/// The memkind API level we implement (memkind_get_version).
#define MK_VERSION_MAJOR 1
#define MK_VERSION_MINOR 14
#define MK_VERSION_PATCH 0

#define MK_HUGE_2M ((size_t)2 << 20)

// ---- environment (mk_env.c) -------------------------------------------------

typedef enum mk_heap_manager_t {
    MK_HEAP_ENGINE = 0, ///< unset: hetmem's heap engine (scalable pool)
    MK_HEAP_JEMALLOC,   ///< MEMKIND_HEAP_MANAGER=JEMALLOC: the jemalloc pool
    MK_HEAP_TBB,        ///< MEMKIND_HEAP_MANAGER=TBB: the scalable pool
} mk_heap_manager_t;

/// Bits of mk_env_t.malformed.
enum {
    MK_ENV_ARENA_NUM = 1u << 0,
    MK_ENV_HOG_MEMORY = 1u << 1,
    MK_ENV_HEAP_MANAGER = 1u << 2,
    MK_ENV_BG_THREAD_LIMIT = 1u << 3,
};

/// The MEMKIND_* variables the front end reads itself (the topology layer
/// reads MEMKIND_HBW_NODES, MEMKIND_HBW_THRESHOLD, MEMKIND_DAX_KMEM_NODES;
/// the log layer MEMKIND_DEBUG). Parsed once; immutable afterwards.
typedef struct mk_env_t {
    unsigned malformed; ///< MK_ENV_* bits of the variables that were rejected
    unsigned arena_num; ///< MEMKIND_ARENA_NUM_PER_KIND, 0 when unset
    bool hog_memory;    ///< MEMKIND_HOG_MEMORY=1
    mk_heap_manager_t heap_manager;
    long bg_thread_limit; ///< MEMKIND_BACKGROUND_THREAD_LIMIT, -1 unset (0: CPU count)
} mk_env_t;

/// The parsed environment (first call parses and logs malformed values).
const mk_env_t *mk_env(void);
/// MEMKIND_SUCCESS, or MEMKIND_ERROR_ENVIRON when a variable that every
/// heap depends on is malformed.
int mk_env_status(void);
#ifdef HETMEM_TEST_HOOKS
/// Test support: parse again on the next mk_env call.
void mk_env_reset_for_testing(void);
#endif

// ---- errors (mk_errors.c): the front end's one conversion table --------------

/// A core result as a memkind error code (kind creation and the like).
int mk_error_from_umf(umf_result_t r);
/// Logs "fn: <why>" for a memkind error code and returns it.
int mk_log_error(const char *fn, int err);
/// The name of a memkind error code ("MEMKIND_ERROR_ENVIRON"), for log lines.
const char *mk_error_name(int err);
/// An errno value (os layer) as a memkind error code.
int mk_error_from_errno(int err);
/// The errno an allocation failure reports (ENOMEM or EINVAL).
int mk_errno_from_umf(umf_result_t r);

// ---- nodes: the memspace layer's engine (memspace/memspace_nodes.h) ----------

/// MEMKIND_SUCCESS, or MEMKIND_ERROR_ENVIRON when the topology layer
/// rejected MEMKIND_HBW_NODES / MEMKIND_HBW_THRESHOLD (hbw true) or
/// MEMKIND_DAX_KMEM_NODES (hbw false); MEMKIND_ERROR_UNAVAILABLE when no
/// topology could be discovered.
int mk_nodes_env_status(bool hbw);

// ---- providers ------------------------------------------------------------------

/// The provider that maps memory through a kind's own operations, or
/// through extent hooks when hooks is not NULL (mk_arena.c).
umf_result_t mk_kindops_provider_create(struct memkind *kind, extent_hooks_t *hooks,
                                        umf_memory_provider_handle_t *out);

// ---- pools (mk_pool.c): the one place that chooses the pool --------------------

/// What a pool is for (its tuning).
typedef struct mk_pool_cfg_t {
    memkind_mem_usage_policy policy; ///< CONSERVATIVE: give memory back at once
    bool keep_all;                   ///< never give memory back (HOG_MEMORY, fixed kinds)
    size_t granularity;              ///< provider request size, 0: default
    pool_guard_t guard;              ///< limit, bound-node reserve, THP advice
} mk_pool_cfg_t;

/// Engine figures of a pool (mk_pool_stats).
typedef struct mk_pool_stats_t {
    size_t allocated, active, resident;
} mk_pool_stats_t;

/// Creates the pool of a heap over provider (owned by the pool afterwards)
/// with the heap manager of MEMKIND_HEAP_MANAGER; its tag is `kind`.
umf_result_t mk_pool_create(const mk_pool_cfg_t *cfg, umf_memory_provider_handle_t provider,
                            struct memkind *kind, umf_memory_pool_handle_t *out);
/// True when pool is a kind's pool (its guard's owner mark is ours): the
/// pool's tag is then a kind. Other pools (the program's own UMF pools,
/// hmalloc's) carry tags that are not ours to follow.
bool mk_pool_is_ours(umf_memory_pool_handle_t pool);
/// The name of the pool implementation in use ("scalable", "jemalloc", ...).
const char *mk_pool_manager_name(void);
/// Engine statistics of a pool (from the heap engine when the pool is one
/// of its pools, else from the guard's counts).
void mk_pool_stats(umf_memory_pool_handle_t pool, mk_pool_stats_t *out);
/// 1 when moving the block at ptr would reduce fragmentation, else 0.
int mk_pool_defrag_hint(umf_memory_pool_handle_t pool, void *ptr);
/// Gives cached free memory of the pool back to the provider.
void mk_pool_purge(umf_memory_pool_handle_t pool);

// ---- heaps (mk_heap.c / mk_kinds.c) -----------------------------------------------

typedef enum mk_type_t {
    MK_TYPE_STATIC = 0, ///< a static kind of the KINDS table
    MK_TYPE_PMEM,       ///< memkind_create_pmem*
    MK_TYPE_FIXED,      ///< memkind_create_fixed
    MK_TYPE_ARENA,      ///< a user kind (memkind_arena_* operations)
} mk_type_t;

/// How a static kind gets its memory.
typedef struct mk_static_desc_t {
    const char *name;     ///< kind->name, as memkind names it
    memspace_rule_t rule; ///< which nodes (the engine's rule)
    umf_numa_mode_t mode; ///< how (DEFAULT, BIND, PREFERRED, INTERLEAVE)
    bool hugetlb;         ///< 2 MiB pages
    bool single;          ///< PREFERRED kinds: exactly one node (ties fail)
    bool hbw_env;         ///< depends on MEMKIND_HBW_NODES / _THRESHOLD
    bool kmem_env;        ///< depends on MEMKIND_DAX_KMEM_NODES
    bool unsupported;     ///< GBTLB: never available
    bool capacity;        ///< memkind_get_capacity supports it
} mk_static_desc_t;

/// One pool of a heap (a locality domain).
typedef struct mk_slot_t {
    nodeset_t nodes; ///< the nodes the slot's pool binds to
    int status;      ///< MEMKIND_SUCCESS or why the slot cannot allocate
    _Atomic(umf_memory_pool_handle_t)
        pool; ///< NULL until first use; protected by: heap->lock (writes)
} mk_slot_t;

/// hetmem's state of one kind. Immutable after mk_heap_get returns it,
/// except the slots' pools (created once under `lock`), the cached stats
/// and `policy` (before the first pool exists).
typedef struct mk_heap_t {
    struct memkind *kind;
    mk_type_t type;
    const mk_static_desc_t *desc; ///< MK_TYPE_STATIC only
    int status;                   ///< MEMKIND_SUCCESS, or why the kind cannot allocate
    lock_t lock;                  ///< serializes pool creation (rank MK_POOL)
    unsigned nslots;
    bool local;       ///< slot chosen by the calling CPU's node
    mk_slot_t *slots; ///< nslots of them: &slot0, or (local heaps) one per CPU node in meta
    unsigned slot_cap;
    mk_slot_t slot0;
    int16_t slot_of_node[NODESET_MAX]; ///< CPU node -> slot (local heaps), -1 none
    memkind_mem_usage_policy policy;
    // sources
    int fd;           ///< pmem: the unlinked temporary file (-1 none)
    char path[64];    ///< pmem: /proc/self/fd/N
    size_t limit;     ///< pmem: max_size (0: none)
    char dir[256];    ///< pmem: the directory (capacity)
    void *fixed_addr; ///< fixed: the buffer
    size_t fixed_size;
    extent_hooks_t *hooks; ///< arena kinds: NULL for kind_mmap
    // statistics snapshot (memkind_update_cached_stats)
    mk_pool_stats_t cached;
} mk_heap_t;

/// The heap of a kind, created on the kind's first use (NULL without
/// memory). Thread-safe.
mk_heap_t *mk_heap_get(struct memkind *kind);
/// The heap of a kind if it exists, else NULL (no creation).
mk_heap_t *mk_heap_peek(struct memkind *kind);
/// Installs a heap created by a constructor (pmem, fixed, arena); false
/// when the kind has one already.
bool mk_heap_install(struct memkind *kind, mk_heap_t *h);
/// A zeroed heap of a type (meta memory).
mk_heap_t *mk_heap_new(struct memkind *kind, mk_type_t type);
/// Frees a heap that was never installed (mk_heap_new's undo).
void mk_heap_free(mk_heap_t *h);
/// Destroys every pool of a heap and the heap; kind->hetmem_heap becomes NULL.
void mk_heap_destroy(struct memkind *kind);
/// The pool for the calling thread, created on first use; NULL with
/// *err set (MEMKIND_ERROR_*) when the kind cannot allocate.
umf_memory_pool_handle_t mk_heap_pool(mk_heap_t *h, int *err);
/// The slot of the calling thread (its CPU's node for local heaps).
mk_slot_t *mk_heap_slot(mk_heap_t *h);
/// The pool of a slot if it exists.
static inline umf_memory_pool_handle_t mk_slot_pool(mk_slot_t *s) {
    return atomic_load_explicit(&s->pool, memory_order_acquire);
}
/// The kind's availability (memkind_check_available for our kinds).
int mk_heap_check(struct memkind *kind);

/// Builds the heap of a static kind: its status and slots (mk_kinds.c).
mk_heap_t *mk_static_heap_build(struct memkind *kind);
/// Calls fn for every heap, under the lock that heap destruction takes.
void mk_heaps_for_each(void (*fn)(mk_heap_t *h, void *arg), void *arg);

/// The kind that owns ptr's memory (tag of its pool), and the pool.
struct memkind *mk_kind_of(const void *ptr, umf_memory_pool_handle_t *pool);

// Operations shared by our kinds and the memkind_arena_* functions: they
// allocate from the kind's heap (any kind whose ops call them).
void *mk_op_malloc(struct memkind *kind, size_t size);
void *mk_op_calloc(struct memkind *kind, size_t num, size_t size);
int mk_op_posix_memalign(struct memkind *kind, void **memptr, size_t alignment, size_t size);
void *mk_op_realloc(struct memkind *kind, void *ptr, size_t size);
void mk_op_free(struct memkind *kind, void *ptr);
size_t mk_op_usable_size(struct memkind *kind, void *ptr);
void *mk_op_defrag(struct memkind *kind, void *ptr);
int mk_op_get_stat(memkind_t kind, memkind_stat_type stat, size_t *value);
int mk_op_update_policy(struct memkind *kind, memkind_mem_usage_policy policy);
/// Frees ptr into pool (owner's); a refusal is logged under fn and ignored.
umf_result_t mk_pool_free_logged(umf_memory_pool_handle_t pool, struct memkind *owner, void *ptr,
                                 const char *fn);
/// What follows a free: the CONSERVATIVE policy purges the pool.
void mk_heap_after_free(umf_memory_pool_handle_t pool, struct memkind *kind);
/// Logs (under fn) that ptr is no kind's memory.
void mk_log_not_ours(const char *fn, const void *ptr);

// ---- kind handles (mk_kinds.c) ------------------------------------------------------
// A kind is live while kind->hetmem_self == kind and hetmem_state is
// MK_KIND_LIVE. Every public entry checks that before it follows anything
// in the structure, so that a garbage handle (random bytes, zeros, a copy
// of a kind) or a destroyed one is refused with a log line as long as its
// memory is readable. Destroyed created kinds keep their structure (it is
// reused for a later created kind only after MK_KIND_QUARANTINE more
// destructions), so that a stale handle reads a dead kind, not something
// else.

#define MK_KIND_LIVE 0x4b494e44u ///< "KIND"
#define MK_KIND_DEAD 0x44454144u ///< "DEAD"
#define MK_KIND_QUARANTINE 256u

static inline bool mk_kind_live(const struct memkind *kind) {
    return kind && kind->hetmem_self == kind &&
           __atomic_load_n(&kind->hetmem_state, __ATOMIC_RELAXED) == MK_KIND_LIVE;
}
/// Marks a kind live (its structure is the caller's: a user kind).
void mk_kind_mark_live(struct memkind *kind);
/// false (and a log line naming fn) unless the kind is live: NULL, a
/// garbage handle or a destroyed kind.
bool mk_kind_check(const struct memkind *kind, const char *fn);
/// A zeroed kind structure for memkind_create_pmem / _fixed (meta memory,
/// possibly a long-dead kind's), or NULL.
struct memkind *mk_kind_alloc(void);
/// Puts a dead created kind's structure in quarantine (it stays readable
/// and dead).
void mk_kind_retire(struct memkind *kind);

// ---- registry (mk_kinds.c) -------------------------------------------------------

/// The static kinds (partition order) and their descriptions.
extern struct memkind mk_static_kinds[MEMKIND_NUM_BASE_KIND];
extern const mk_static_desc_t mk_static_descs[MEMKIND_NUM_BASE_KIND];
/// True for one of mk_static_kinds.
bool mk_kind_is_static(const struct memkind *kind);
/// Registers a created kind under a free partition number. Returns
/// MEMKIND_SUCCESS, MEMKIND_ERROR_TOOMANY or MEMKIND_ERROR_INVALID (name taken).
int mk_registry_add(struct memkind *kind);
/// Unregisters a created kind (nothing for static or unregistered kinds).
void mk_registry_remove(struct memkind *kind);
/// Number of registered kinds.
unsigned mk_registry_count(void);

/// The operations of the kinds memkind_create_pmem* and
/// memkind_create_fixed make (mk_kinds.c); the static kinds use
/// MEMKIND_DEFAULT_OPS.
extern struct memkind_ops mk_created_ops;

// ---- background threads (mk_stats.c) --------------------------------------------

/// Starts or stops the purging thread. Returns MEMKIND_SUCCESS or an error.
int mk_bg_threads_set(bool on);

#endif // HETMEM_FRONTEND_MEMKIND_MK_INTERNAL_H
