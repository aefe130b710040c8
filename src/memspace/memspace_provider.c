// SPDX-License-Identifier: MIT
// Providers and pools made from a memspace and a policy
// (umfMemoryProviderCreateFromMemspace, umfPoolCreateFromMemspace): an OS
// memory provider whose node list is the memspace's nodes, in memspace
// order, and whose NUMA mode is the policy's (table in mempolicy.c; HostAll
// without a policy: the default kernel policy, as in UMF). This
// file only fills the OS provider's params: the provider does the binding,
// so memory from a memspace behaves exactly like memory from an OS provider
// configured by hand.
//
// Pools: the scalable pool (the heap engine), so a memspace pool has the
// whole malloc API (UMF itself uses the proxy pool here, which lacks
// calloc, realloc and usable size); its chunks come from the provider, so
// their pages follow the memspace's policy.
#include <string.h>

#include <umf/pools/pool_scalable.h>
#include <hetmem/provider_os_ext.h>
#include <umf/providers/provider_os_memory.h>

#include "base/log.h"
#include "base/util.h"
#include "memspace/memspace_priv.h"
#include "memspace/memspace_nodes.h"
#include "providers/provider_os.h"
#include "os/meta.h"

static const umf_memory_pool_ops_t *memspace_pool_ops(void) { return umfScalablePoolOps(); }

// The policy's binding as an OS provider mode (the table in mempolicy.c).
static umf_numa_mode_t mode_of(umf_const_mempolicy_handle_t policy) {
    if (!policy)
        return UMF_NUMA_MODE_BIND; // one node or several: BIND to all of them
    switch (policy->type) {
    case UMF_MEMPOLICY_INTERLEAVE: return UMF_NUMA_MODE_INTERLEAVE;
    case UMF_MEMPOLICY_PREFERRED: return UMF_NUMA_MODE_PREFERRED;
    case UMF_MEMPOLICY_SPLIT: return UMF_NUMA_MODE_SPLIT;
    case UMF_MEMPOLICY_BIND: break;
    }
    return UMF_NUMA_MODE_BIND;
}

// Every target is a NUMA node (the only kind), and every partition of a
// SPLIT policy must name one of them: a share for a node outside the
// memspace would put memory where the memspace says it must not be.
static umf_result_t check(umf_const_memspace_handle_t ms, umf_const_mempolicy_handle_t policy) {
    if (ms->n == 0) {
        LOG_ERR("the memspace is empty");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < ms->n; i++) {
        if (ms->targets[i]->type != UMF_MEMTARGET_TYPE_NUMA) {
            LOG_ERR("memory target %zu is not a NUMA node", i);
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;
        }
    }
    if (ms->n > NODESET_MAX) {
        LOG_ERR("%zu targets (at most %u)", ms->n, NODESET_MAX);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (policy && policy->type == UMF_MEMPOLICY_SPLIT) {
        for (size_t i = 0; i < policy->parts_len; i++) {
            if (!memspace_has_node(ms, policy->parts[i].target)) {
                LOG_ERR("split partition %zu names NUMA node %u, which is not in the memspace", i,
                        policy->parts[i].target);
                return UMF_RESULT_ERROR_INVALID_ARGUMENT;
            }
        }
    }
    return UMF_RESULT_SUCCESS;
}

umf_result_t memspace_os_provider_create(const unsigned *list, unsigned n,
                                         const memspace_bind_t *b,
                                         umf_memory_provider_handle_t *out) {
    umf_os_memory_provider_params_handle_t params;
    umf_result_t r = umfOsMemoryProviderParamsCreate(&params);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    r = umfOsMemoryProviderParamsSetNumaMode(params, b->mode);
    if (r == UMF_RESULT_SUCCESS && n && b->mode != UMF_NUMA_MODE_DEFAULT &&
        b->mode != UMF_NUMA_MODE_LOCAL)
        r = umfOsMemoryProviderParamsSetNumaList(params, (unsigned *)list, n); // copied
    if (r == UMF_RESULT_SUCCESS && b->mode == UMF_NUMA_MODE_INTERLEAVE && b->part_size)
        r = umfOsMemoryProviderParamsSetPartSize(params, b->part_size);
    if (r == UMF_RESULT_SUCCESS && b->mode == UMF_NUMA_MODE_SPLIT && b->nparts)
        r = umfOsMemoryProviderParamsSetPartitions(params, (umf_numa_split_partition_t *)b->parts,
                                                   b->nparts);
    if (r == UMF_RESULT_SUCCESS && b->weighted)
        r = hetmem_os_provider_params_set_weighted_interleave(params, true);
    if (r == UMF_RESULT_SUCCESS && b->preferred_many)
        r = provider_os_params_set_preferred_many(params, true);
    if (r == UMF_RESULT_SUCCESS && b->huge_page)
        r = hetmem_os_provider_params_set_huge_pages(params, b->huge_page);
    if (r == UMF_RESULT_SUCCESS)
        r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), params, out);
    umfOsMemoryProviderParamsDestroy(params);
    return r;
}

umf_result_t memspace_os_provider_create_set(const nodeset_t *nodes, const memspace_bind_t *b,
                                             umf_memory_provider_handle_t *out) {
    unsigned list[NODESET_MAX], n = 0; // 4 KiB: providers are made rarely
    for (int i = nodeset_next(nodes, 0); i >= 0; i = nodeset_next(nodes, (unsigned)i + 1))
        list[n++] = (unsigned)i;
    return memspace_os_provider_create(list, n, b, out);
}

HETMEM_EXPORT umf_result_t umfMemoryProviderCreateFromMemspace(
    umf_const_memspace_handle_t hMemspace, umf_const_mempolicy_handle_t hPolicy,
    umf_memory_provider_handle_t *hProvider) {
    if (!memspace_ok(hMemspace, __func__) || (hPolicy && !mempolicy_ok(hPolicy, __func__)) ||
        !memspace_out_ok(hProvider, "hProvider", __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    umf_result_t r = check(hMemspace, hPolicy);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    unsigned *list = meta_alloc(hMemspace->n * sizeof *list);
    if (!list)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    for (size_t i = 0; i < hMemspace->n; i++)
        list[i] = hMemspace->targets[i]->id;
    memspace_bind_t b = {.mode = mode_of(hPolicy)};
    // HostAll without a policy: the task's own NUMA policy places it (as
    // UMF does; binding to every node would change where memory goes when
    // the local node is full, and override the task's policy).
    if (!hPolicy && hMemspace == umfMemspaceHostAllGet())
        b.mode = UMF_NUMA_MODE_DEFAULT;
    if (hPolicy) {
        b.part_size = hPolicy->part_size;
        b.parts = (const umf_numa_split_partition_t *)hPolicy->parts;
        b.nparts = (unsigned)hPolicy->parts_len;
    }
    r = memspace_os_provider_create(list, (unsigned)hMemspace->n, &b, hProvider);
    if (r != UMF_RESULT_SUCCESS)
        LOG_INFO("creating the OS provider for a memspace of %zu node(s) failed: %s",
                 hMemspace->n, log_umf_result(r));
    meta_free(list, hMemspace->n * sizeof *list);
    return r;
}

HETMEM_EXPORT umf_result_t umfPoolCreateFromMemspace(umf_const_memspace_handle_t hMemspace,
                                                     umf_const_mempolicy_handle_t hPolicy,
                                                     umf_memory_pool_handle_t *hPool) {
    if (!memspace_ok(hMemspace, __func__) || (hPolicy && !mempolicy_ok(hPolicy, __func__)) ||
        !memspace_out_ok(hPool, "hPool", __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    umf_memory_provider_handle_t provider = NULL;
    umf_result_t r = umfMemoryProviderCreateFromMemspace(hMemspace, hPolicy, &provider);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    // OWN_PROVIDER: umfPoolDestroy destroys the provider made here.
    r = umfPoolCreate(memspace_pool_ops(), provider, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                      hPool);
    if (r != UMF_RESULT_SUCCESS)
        umfMemoryProviderDestroy(provider);
    return r;
}
