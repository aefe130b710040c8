// SPDX-License-Identifier: MIT
// Memory policies (umfMempolicy*): a binding plus the settings that belong
// to it - the part size of INTERLEAVE, the partitions of SPLIT. A policy is
// only a description; memspace_provider.c turns it into the OS provider's
// NUMA mode when a provider or pool is made from a memspace:
//
//   UMF_MEMPOLICY_BIND        UMF_NUMA_MODE_BIND        (MPOL_BIND)
//   UMF_MEMPOLICY_INTERLEAVE  UMF_NUMA_MODE_INTERLEAVE  (MPOL_INTERLEAVE, or
//                             parts of part_size bytes bound round-robin)
//   UMF_MEMPOLICY_PREFERRED   UMF_NUMA_MODE_PREFERRED   (MPOL_PREFERRED, or
//                             MPOL_PREFERRED_MANY for several nodes)
//   UMF_MEMPOLICY_SPLIT       UMF_NUMA_MODE_SPLIT       (pieces MPOL_BIND)
//   no policy                 UMF_NUMA_MODE_BIND over every node
//
// Settings that do not belong to the binding are refused rather than
// ignored (UMF ignores them), so that a policy never silently differs from
// what its creator wrote.
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "memspace/memspace_priv.h"
#include "os/meta.h"

static handle_graveyard_t mempolicy_graves = HANDLE_GRAVEYARD_INIT;

bool mempolicy_ok(umf_const_mempolicy_handle_t p, const char *fn) {
    return handle_ok(p, MEMPOLICY_TAG, "memory policy", fn);
}

// The partitions are handed to the OS provider as its own partition type:
// the two layouts must stay the same (both are UMF's).
#include <umf/providers/provider_os_memory.h>
_Static_assert(sizeof(umf_mempolicy_split_partition_t) == sizeof(umf_numa_split_partition_t),
               "split partition layouts differ");
_Static_assert(offsetof(umf_mempolicy_split_partition_t, weight) ==
                       offsetof(umf_numa_split_partition_t, weight) &&
                   offsetof(umf_mempolicy_split_partition_t, target) ==
                       offsetof(umf_numa_split_partition_t, target),
               "split partition layouts differ");

// Whatever count fits the OS provider's unsigned partition count and its
// node-set size: more partitions than nodes can exist serve no purpose.
#define MEMPOLICY_MAX_PARTS NODESET_MAX

HETMEM_EXPORT umf_result_t umfMempolicyCreate(umf_mempolicy_membind_t bind,
                                              umf_mempolicy_handle_t *hPolicy) {
    if (!hPolicy) {
        LOG_ERR("NULL hPolicy");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    switch (bind) {
    case UMF_MEMPOLICY_INTERLEAVE:
    case UMF_MEMPOLICY_BIND:
    case UMF_MEMPOLICY_PREFERRED:
    case UMF_MEMPOLICY_SPLIT: break;
    default:
        LOG_ERR("unknown policy binding %d", (int)bind);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    struct umf_mempolicy_t *p = memspace_handle_alloc(&mempolicy_graves, sizeof *p);
    if (!p)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    p->type = bind;
    handle_set_live(&p->hdr, MEMPOLICY_TAG);
    *hPolicy = p;
    return UMF_RESULT_SUCCESS;
}

static void free_parts(struct umf_mempolicy_t *p) {
    meta_free(p->parts, p->parts_len * sizeof *p->parts);
    p->parts = NULL;
    p->parts_len = 0;
}

HETMEM_EXPORT umf_result_t umfMempolicyDestroy(umf_mempolicy_handle_t hPolicy) {
    if (!handle_kill(hPolicy, MEMPOLICY_TAG, "memory policy", __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT; // NULL, destroyed twice, garbage
    free_parts(hPolicy);
    handle_retire(&mempolicy_graves, &hPolicy->hdr, MEMPOLICY_TAG);
    return UMF_RESULT_SUCCESS;
}

// 0 restores page-by-page interleave. Any other value is rounded up to the
// provider's page size when the provider is made (so 1 means one page).
HETMEM_EXPORT umf_result_t umfMempolicySetInterleavePartSize(umf_mempolicy_handle_t hPolicy,
                                                             size_t partSize) {
    if (!mempolicy_ok(hPolicy, __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    if (hPolicy->type != UMF_MEMPOLICY_INTERLEAVE) {
        LOG_ERR("a part size belongs to UMF_MEMPOLICY_INTERLEAVE policies only");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    hPolicy->part_size = partSize;
    return UMF_RESULT_SUCCESS;
}

// The new list replaces the old one only once it is fully checked and
// copied: a refused call leaves the policy as it was.
HETMEM_EXPORT umf_result_t
umfMempolicySetCustomSplitPartitions(umf_mempolicy_handle_t hPolicy,
                                     umf_mempolicy_split_partition_t *partList,
                                     size_t partListLen) {
    if (!mempolicy_ok(hPolicy, __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    if (!partList || partListLen == 0) {
        LOG_ERR("invalid arguments: hPolicy %p, partList %p, partListLen %zu", (void *)hPolicy,
                (void *)partList, partListLen);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (hPolicy->type != UMF_MEMPOLICY_SPLIT) {
        LOG_ERR("partitions belong to UMF_MEMPOLICY_SPLIT policies only");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    if (partListLen > MEMPOLICY_MAX_PARTS) {
        LOG_ERR("%zu partitions (at most %u)", partListLen, MEMPOLICY_MAX_PARTS);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    for (size_t i = 0; i < partListLen; i++) {
        if (partList[i].weight == 0) {
            LOG_ERR("partition %zu has weight 0", i);
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;
        }
    }
    umf_mempolicy_split_partition_t *copy = meta_alloc(partListLen * sizeof *copy);
    if (!copy)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    memcpy(copy, partList, partListLen * sizeof *copy);
    free_parts(hPolicy);
    hPolicy->parts = copy;
    hPolicy->parts_len = partListLen;
    return UMF_RESULT_SUCCESS;
}
