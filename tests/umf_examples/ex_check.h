// SPDX-License-Identifier: MIT
// Reporting and the common pool of the UMF example scenarios
// (tests/umf_examples): one "ok"/"not ok" line per check (tests/test_report.h);
// ex_done() is the exit status.
#ifndef HETMEM_EX_CHECK_H
#define HETMEM_EX_CHECK_H

#include <umf/memory_pool.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#include "test_report.h"

static int ex_checks;

#define ex_check(...) (ex_checks++, report(__VA_ARGS__))

/// 0 when at least one check ran and none failed, else 1.
static inline int ex_done(void) {
    printf("%d checks, %d failed\n", ex_checks, report_failures);
    return ex_checks > 0 && report_failures == 0 ? 0 : 1;
}

/// A scalable pool that owns an OS provider of the given visibility; NULL
/// on any failure.
static inline umf_memory_pool_handle_t ex_os_pool(umf_memory_visibility_t visibility) {
    umf_os_memory_provider_params_handle_t p = NULL;
    umf_memory_provider_handle_t prov = NULL;
    umf_memory_pool_handle_t pool = NULL;
    if (umfOsMemoryProviderParamsCreate(&p) != UMF_RESULT_SUCCESS)
        return NULL;
    umf_result_t rc = umfOsMemoryProviderParamsSetVisibility(p, visibility);
    if (rc == UMF_RESULT_SUCCESS)
        rc = umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov);
    umfOsMemoryProviderParamsDestroy(p);
    if (rc == UMF_RESULT_SUCCESS)
        rc = umfPoolCreate(umfScalablePoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                           &pool);
    if (rc != UMF_RESULT_SUCCESS && prov)
        umfMemoryProviderDestroy(prov);
    return rc == UMF_RESULT_SUCCESS ? pool : NULL;
}

#endif
