// SPDX-License-Identifier: MIT
// Internal interface of the hmalloc front end (libhmalloc.so): the hmalloc
// pool (hm_pool.c), the error table and the test hooks. The public API is
// include/hmalloc.h; the policy and the environment protocol with hmctl
// are hm_policy.h.
//
// Glossary
//   hmalloc pool  the one UMF pool behind hmalloc, hcalloc, hrealloc,
//                 haligned_alloc and hposix_memalign: an OS provider with the
//                 policy of hm_policy() under the pool engine of hm_pool.c
//   foreign       a pointer the hmalloc pool did not hand out (the address
//                 map knows no hmalloc range holding it): hfree logs and
//                 ignores it
#ifndef HETMEM_FRONTEND_HMALLOC_HM_PRIV_H
#define HETMEM_FRONTEND_HMALLOC_HM_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <umf/base.h>
#include <umf/memory_pool.h>

/// The hmalloc pool, created on the first call (thread-safely, once).
/// NULL when it could not be created (logged; every later call gets NULL
/// too).
umf_memory_pool_handle_t hm_pool(void);

/// The hmalloc pool if it was created already, else NULL; never creates
/// it (hfree and hmalloc_usable_size of a foreign pointer before the
/// first allocation must not build a pool).
umf_memory_pool_handle_t hm_pool_created(void);

/// The errno value for a failed allocation of the pool (the front end's
/// one conversion table).
int hm_errno_of(umf_result_t result);

#ifdef HETMEM_TEST_HOOKS
/// Test support: the calling thread's next binding of an hmmap region
/// fails with `err` (0 disarms), so that the documented "mbind failed"
/// return of hmmap can be exercised on a one-node machine.
void hm_fail_next_mbind_for_testing(int err);
#endif

#endif // HETMEM_FRONTEND_HMALLOC_HM_PRIV_H
