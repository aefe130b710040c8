// SPDX-License-Identifier: MIT
// The coarse core under the fixed, file and devdax providers: every provider
// operation once, over range_alloc and segments; a backend (coarse_backend_t)
// supplies growth, purge, names and native error codes. Overview:
// docs/providers-pools.md, "The coarse providers".
//
// Glossary
//   segment  [base, base+reserved) of address space, of which the first
//            `mapped` bytes are usable; they are one range_alloc region, and
//            byte base+X is backing offset off+X (file or device offset; the
//            buffer offset for fixed). Segments only grow and are freed at
//            finalize. Fixed and devdax have one; a file provider adds one
//            each time its reservation runs out (docs/providers-pools.md).
//
// A provider's state begins with its coarse_t, so `priv` is both.
#ifndef HETMEM_PROVIDERS_COARSE_H
#define HETMEM_PROVIDERS_COARSE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umf/memory_provider.h>

#include "base/lock.h"
#include "providers/provider.h"
#include "providers/range_alloc.h"

typedef struct coarse_t coarse_t;

/// What purge returns for "this backend cannot zero that range"
/// (NOT_SUPPORTED, no native error recorded).
#define COARSE_PURGE_UNSUPPORTED (-1)

typedef struct coarse_backend_t {
    const char *name;     // "fixed", "file", "devdax": log lines
    const char *umf_name; // get_name: "FIXED", "FILE", "DEVDAX"
    size_t state_size;    // bytes of the provider state (freed at finalize)
    bool owns_mappings;   // finalize unmaps every segment's reservation
    int32_t alloc_failed; // native codes of a failed growth / purge
    int32_t purge_failed;
    /// The calling thread's native error record of the family.
    provider_native_error_t *(*native_error)(void);
    /// Makes room for `size` bytes at `align` (coarse_seg_add or
    /// coarse_seg_extend). Called with the grow lock held; NULL: the
    /// provider cannot grow. Returns 0 or an errno value.
    int (*grow)(coarse_t *c, size_t size, size_t align);
    /// purge_force of [ptr, ptr+len) at backing offset `off`: 0, an errno
    /// value or COARSE_PURGE_UNSUPPORTED.
    int (*purge)(coarse_t *c, void *ptr, size_t len, uint64_t off);
} coarse_backend_t;

typedef struct coarse_seg_t {
    uintptr_t base;
    size_t reserved;
    _Atomic size_t mapped;      // written under the grow lock, read without
    uint64_t off;
    struct coarse_seg_t *older; // the list is published newest first
} coarse_seg_t;

struct coarse_t {
    const coarse_backend_t *be;
    range_alloc_t *ranges;
    size_t page;                 // alignment 0 means this; the page-size queries
    lock_t grow_lock;            // serialises growth (LOCK_RANK_PROVIDER_GROW)
    _Atomic(coarse_seg_t *) segs; // newest first; appended under grow_lock
    // What an IPC handle names (provider_ipc_desc_t); kind 0: no IPC.
    provider_object_t kind;
    int fd;                      // owned: closed at finalize (-1: none)
    char *path;                  // owned (meta memory), or NULL
    int prot;                    // OS_PROT_* of the mappings
    bool shared;                 // other processes may map the same bytes
    uint64_t ipc_align;          // mapping granularity of an opener
};

/// The params of the file and devdax providers begin with this (the rest
/// is the family's). Owned by the caller; path is a meta copy.
typedef struct coarse_params_t {
    char *path;
    unsigned protection; // umf_mem_protection_flags_t bits
} coarse_params_t;

/// Params of `size` bytes for `path` with read/write protection: *out, or
/// INVALID_ARGUMENT (NULL out, NULL or empty path) / OUT_OF_HOST_MEMORY.
umf_result_t coarse_params_create(size_t size, const char *path, const char *who, void **out);
/// Replaces the path with a copy of `path` (not NULL or empty).
umf_result_t coarse_params_set_path(coarse_params_t *p, const char *path, const char *who);
umf_result_t coarse_params_set_protection(coarse_params_t *p, unsigned protection,
                                          const char *who);
/// Frees params of `size` bytes (NULL is ignored).
void coarse_params_destroy(coarse_params_t *p, size_t size);

/// Initialises the core of a fresh, zeroed state (fd -1). ENOMEM.
int coarse_init(coarse_t *c, const coarse_backend_t *be, size_t page);

/// A new provider state for params `in` (NULL or a bad protection:
/// INVALID_ARGUMENT): be->state_size zeroed bytes, the core initialised
/// with kind, prot, the path copied, ipc_align = page.
umf_result_t coarse_create(const coarse_backend_t *be, const coarse_params_t *in, size_t page,
                           provider_object_t kind, coarse_t **out);

/// Adds a segment; its mapped part becomes a free region. 0 or errno.
int coarse_seg_add(coarse_t *c, uintptr_t base, size_t reserved, size_t mapped, uint64_t off);

/// Makes `extra` more bytes of the newest segment usable (within its
/// reservation). 0 or errno.
int coarse_seg_extend(coarse_t *c, size_t extra);

/// The newest segment (NULL before the first), and the bytes mapped and
/// reserved in all segments.
coarse_seg_t *coarse_seg_newest(coarse_t *c);
void coarse_totals(coarse_t *c, size_t *mapped, size_t *reserved);

/// Ends IPC exports, unmaps (owns_mappings), closes fd, frees path, the
/// segments and the state itself (be->state_size bytes).
void coarse_destroy(coarse_t *c);

/// Records a native error of c's family and returns PROVIDER_SPECIFIC.
umf_result_t coarse_native_error(coarse_t *c, int32_t code, int err, const char *what);

/// The provider operations; `provider` is the state (a coarse_t first).
void coarse_op_finalize(void *provider);
umf_result_t coarse_op_alloc(void *provider, size_t size, size_t alignment, void **ptr);
umf_result_t coarse_op_free(void *provider, void *ptr, size_t size);
void coarse_op_get_last_native_error(void *provider, const char **ppMessage, int32_t *pError);
umf_result_t coarse_op_get_recommended_page_size(void *provider, size_t size, size_t *pageSize);
umf_result_t coarse_op_get_min_page_size(void *provider, void *ptr, size_t *pageSize);
const char *coarse_op_get_name(void *provider);
umf_result_t coarse_op_purge_force(void *provider, void *ptr, size_t size);
umf_result_t coarse_op_allocation_split(void *provider, void *ptr, size_t totalSize, size_t firstSize);
umf_result_t coarse_op_allocation_merge(void *provider, void *lowPtr, void *highPtr, size_t totalSize);

/// The describe hook of provider_ipc_hooks_t for every coarse family.
umf_result_t coarse_describe(void *provider, const void *ptr, size_t size,
                             provider_ipc_desc_t *out);

/// A coarse family's ops table (`fam`_ops, with `fam`_initialize), its IPC
/// hooks (provider_`fam`_ipc_hooks, opening handles of object kind `obj`)
/// and the public getter `getter` of the table.
#define COARSE_FAMILY(fam, obj, getter)                                                                    \
    static umf_memory_provider_ops_t fam##_ops =                                                   \
        PROVIDER_OPS(coarse_op, fam##_initialize, NULL);                                           \
    const provider_ipc_hooks_t provider_##fam##_ipc_hooks = {                                      \
        .ops = &fam##_ops, .opens = 1u << (obj), .describe = coarse_describe};                     \
    HETMEM_EXPORT umf_memory_provider_ops_t *getter(void) { return &fam##_ops; }

#endif // HETMEM_PROVIDERS_COARSE_H
