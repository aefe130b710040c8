// SPDX-License-Identifier: MIT
// The proxy pool: every call goes straight to the provider (one provider
// allocation per malloc). Useful for tests and for providers whose memory
// needs no pooling. Usable size is not supported (it returns 0).
#ifndef UMF_PROXY_POOL_H
#define UMF_PROXY_POOL_H 1

#include <umf/memory_pool.h>
#include <umf/memory_provider.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The proxy pool's operations (params: NULL).
umf_memory_pool_ops_t *umfProxyPoolOps(void);

#ifdef __cplusplus
}
#endif

#endif // UMF_PROXY_POOL_H
