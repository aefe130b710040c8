// SPDX-License-Identifier: MIT
// Internal view of provider handles, shared by the provider glue
// (provider.c), the pools layer and the providers themselves.
#ifndef HETMEM_PROVIDERS_PROVIDER_H
#define HETMEM_PROVIDERS_PROVIDER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <umf/memory_provider.h>

#include "base/handle.h"

/// A provider handle: its tag (base/handle.h: PROVIDER_TAG while it lives),
/// the ops table (copied at creation, so the caller's table need not
/// outlive the provider) and the implementation's state. Immutable after
/// umfMemoryProviderCreate returns, but for the tag; safe to share.
struct umf_memory_provider_t {
    handle_hdr_t hdr; // first: PROVIDER_TAG while it lives
    umf_memory_provider_ops_t ops;
    void *priv;
    bool foreign;     // its ops are not libhetmem's: calls open a witness frame
};

#define PROVIDER_TAG 0x50524f56u // "VORP" in memory order

/// True for a live provider handle; otherwise one log line naming `fn`.
bool provider_handle_ok(umf_memory_provider_handle_t h, const char *fn);

// The provider API's errno rule: errno is the caller's, a successful call
// leaves it as it was (the providers' system calls may set it on paths that
// end well). Used by provider.c and src/ipc/ipc_provider.c.
#define ERRNO_KEEP_BEGIN int saved_errno_ = errno
#define ERRNO_KEEP_END(r) ((r) == UMF_RESULT_SUCCESS ? (void)(errno = saved_errno_) : (void)0)

/// Records `provider` as the calling thread's last failed provider when
/// `r` is not success (umfGetLastFailedMemoryProvider), and returns r.
umf_result_t provider_note_result(umf_memory_provider_handle_t provider, umf_result_t r);

/// Per-thread native error record that each of our providers keeps for
/// get_last_native_error: a provider-specific code, the errno behind it
/// and a message built on demand.
typedef struct provider_native_error_t {
    int32_t code;
    int err; // errno value, 0 if none
    char msg[128];
} provider_native_error_t;

/// Sets the calling thread's native error of one provider family (`slot`
/// is a static per family) and returns UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC.
umf_result_t provider_set_native_error(provider_native_error_t *slot, int32_t code, int err,
                                       const char *what);

/// get_last_native_error of a provider family: reads the calling thread's
/// record (NULL outputs are ignored).
void provider_native_error_get(const provider_native_error_t *slot, const char **ppMessage,
                               int32_t *pError);

/// Maps an errno value from the OS layer to a umf_result_t (ENOMEM ->
/// OUT_OF_HOST_MEMORY, EINVAL -> INVALID_ARGUMENT, ...).
umf_result_t provider_errno_to_result(int err);

/// umf_mem_protection_flags_t -> OS_PROT_* (src/os). Returns false for
/// an invalid combination (0, unknown bits, or NONE with other bits).
int provider_protection_to_os(unsigned protection, int *os_prot);

/// The ops table of a provider whose operations are named P_finalize,
/// P_alloc, P_free, P_get_last_native_error, P_get_recommended_page_size,
/// P_get_min_page_size, P_get_name, P_purge_force, P_allocation_merge and
/// P_allocation_split (`ipc` NULL: see below).
#define PROVIDER_OPS(P, initialize_fn, purge_lazy_fn)                                             \
    {                                                                                              \
        .version = UMF_VERSION_CURRENT, .initialize = (initialize_fn), .finalize = P##_finalize,   \
        .alloc = P##_alloc, .free = P##_free, .get_last_native_error = P##_get_last_native_error, \
        .get_recommended_page_size = P##_get_recommended_page_size,                                \
        .get_min_page_size = P##_get_min_page_size, .get_name = P##_get_name,                      \
        .ext = {.purge_lazy = (purge_lazy_fn), .purge_force = P##_purge_force,                     \
                .allocation_merge = P##_allocation_merge,                                          \
                .allocation_split = P##_allocation_split},                                         \
    }

// ---- IPC: the backing hooks that the IPC layer (src/ipc) drives ----------
// Our ops tables leave `ipc` NULL; src/ipc fills it at load with operations
// over the family's hooks, and its entry points reach them through
// provider_ipc_hooks for a table of ours without `ipc` (docs/architecture.md).

/// The object behind memory of our providers, as an IPC handle names it.
typedef enum provider_object_t {
    PROVIDER_OBJ_MEMFD = 1,  // OS provider, shared, no shm name: the fd itself
    PROVIDER_OBJ_SHM = 2,    // OS provider, shared, /dev/shm/NAME
    PROVIDER_OBJ_FILE = 3,   // file provider, shared visibility
    PROVIDER_OBJ_DEVDAX = 4, // devdax provider
} provider_object_t;

/// What describe fills in (pointers owned by the provider).
typedef struct provider_ipc_desc_t {
    provider_object_t kind;
    int fd;            // the provider's descriptor of the object
    const char *path;  // shm name, file or device path; "" for a memfd
    uint64_t off;      // object offset of ptr (describe with a range only)
    uint64_t align;    // mapping granularity: page, huge page, device alignment
    int prot;          // OS_PROT_* the provider maps with (and opens with)
    const void *owner; // whose exports provider_memory_freed ends
} provider_ipc_desc_t;

/// One provider family's hooks.
typedef struct provider_ipc_hooks_t {
    /// The family's ops table (its initialize identifies its providers),
    /// which the public getter returns; src/ipc fills its `ipc` at load.
    umf_memory_provider_ops_t *ops;
    /// Mask of 1 << provider_object_t that the family's providers open.
    unsigned opens;
    /// Describes the object behind [ptr, ptr+size), which must lie in one
    /// allocation (or a part allocation_split made): NOT_SUPPORTED for
    /// private memory, INVALID_ARGUMENT for memory that is not the
    /// provider's or size 0. ptr NULL: the object only (kind, path, prot;
    /// no off), for every provider of the family, private ones too.
    umf_result_t (*describe)(void *priv, const void *ptr, size_t size, provider_ipc_desc_t *out);
} provider_ipc_hooks_t;

/// Our families' hooks (provider_os_shared.c, provider_file.c, provider_devdax.c).
extern const provider_ipc_hooks_t provider_os_ipc_hooks, provider_file_ipc_hooks,
    provider_devdax_ipc_hooks;

/// The hooks of `provider`'s family, or NULL for a provider not ours.
const provider_ipc_hooks_t *provider_ipc_hooks(const struct umf_memory_provider_t *provider);

/// Called by our providers when [start, start+len) of `owner` is freed (len
/// SIZE_MAX: all of it, at finalize): the IPC layer's hook ends the exports
/// of that memory. A relaxed load while the IPC layer installed none.
typedef void (*provider_freed_hook_t)(const void *owner, uintptr_t start, size_t len);
void provider_set_freed_hook(provider_freed_hook_t hook);
bool provider_freed_hook_set(void);
void provider_memory_freed(const void *owner, uintptr_t start, size_t len);

#endif // HETMEM_PROVIDERS_PROVIDER_H
