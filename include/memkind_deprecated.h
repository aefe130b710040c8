// SPDX-License-Identifier: MIT
// Deprecated parts of the memkind API, kept so that memkind 1.14 programs
// build unchanged (memkind.h includes this header). The GBTLB kinds (1 GiB
// pages) are no longer supported: they exist, but are never available.
#ifndef HETMEM_MEMKIND_DEPRECATED_H
#define HETMEM_MEMKIND_DEPRECATED_H 1

// memkind.h includes this header after declaring memkind_t; a program that
// includes this one first gets memkind.h (and memkind_t) here.
#include "memkind.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MEMKIND_DEPRECATED
#if defined(__GNUC__)
#define MEMKIND_DEPRECATED(func) func __attribute__((deprecated))
#else
#define MEMKIND_DEPRECATED(func) func
#endif
#endif

/// Unsupported 1 GiB page kinds: memkind_check_available fails, allocations
/// return NULL with ENOMEM.
extern memkind_t MEMKIND_HBW_GBTLB;
extern memkind_t MEMKIND_HBW_PREFERRED_GBTLB;
extern memkind_t MEMKIND_GBTLB;

/// The kind registered under a partition number (the static kinds have the
/// numbers below; created kinds follow). MEMKIND_ERROR_UNAVAILABLE and NULL
/// for an unused number.
int MEMKIND_DEPRECATED(memkind_get_kind_by_partition(int partition, memkind_t *kind));

/// Partition numbers of the static kinds.
enum memkind_base_partition {
    MEMKIND_PARTITION_DEFAULT = 0,
    MEMKIND_PARTITION_HBW = 1,
    MEMKIND_PARTITION_HBW_HUGETLB = 2,
    MEMKIND_PARTITION_HBW_PREFERRED = 3,
    MEMKIND_PARTITION_HBW_PREFERRED_HUGETLB = 4,
    MEMKIND_PARTITION_HUGETLB = 5,
    MEMKIND_PARTITION_HBW_GBTLB = 6,
    MEMKIND_PARTITION_HBW_PREFERRED_GBTLB = 7,
    MEMKIND_PARTITION_GBTLB = 8,
    MEMKIND_PARTITION_HBW_INTERLEAVE = 9,
    MEMKIND_PARTITION_INTERLEAVE = 10,
    MEMKIND_PARTITION_REGULAR = 11,
    MEMKIND_PARTITION_HBW_ALL = 12,
    MEMKIND_PARTITION_HBW_ALL_HUGETLB = 13,
    MEMKIND_PARTITION_DAX_KMEM = 14,
    MEMKIND_PARTITION_DAX_KMEM_ALL = 15,
    MEMKIND_PARTITION_DAX_KMEM_PREFERRED = 16,
    MEMKIND_PARTITION_DAX_KMEM_INTERLEAVE = 17,
    MEMKIND_PARTITION_HIGHEST_CAPACITY = 18,
    MEMKIND_PARTITION_HIGHEST_CAPACITY_PREFERRED = 19,
    MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL = 20,
    MEMKIND_PARTITION_HIGHEST_CAPACITY_LOCAL_PREFERRED = 21,
    MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL = 22,
    MEMKIND_PARTITION_LOWEST_LATENCY_LOCAL_PREFERRED = 23,
    MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL = 24,
    MEMKIND_PARTITION_HIGHEST_BANDWIDTH_LOCAL_PREFERRED = 25,
    MEMKIND_NUM_BASE_KIND
};

#ifdef __cplusplus
}
#endif

#endif // HETMEM_MEMKIND_DEPRECATED_H
