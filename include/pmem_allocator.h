// SPDX-License-Identifier: MIT
// libmemkind::pmem::allocator<T>: a C++11 standard-library allocator over a
// file-backed (pmem) kind (pmemallocator(3), STANDARD API), written for
// hetmem over memkind.h.
//
//   libmemkind::pmem::allocator<int> a("/mnt/pmem", 1 << 30);
//   std::vector<int, decltype(a)> v(a);
//
// The constructor creates a kind in `dir` (memkind_create_pmem_with_config;
// max_size 0: no limit); it throws std::invalid_argument when memkind answers
// MEMKIND_ERROR_INVALID (no such directory, max_size below
// MEMKIND_PMEM_MIN_SIZE, a bad policy) and std::runtime_error for any other
// error. Copies and rebinds share that kind (an atomic count, any thread);
// the last one destroys it. Copies compare equal; two allocators
// constructed separately have two kinds and compare unequal.
#ifndef HETMEM_PMEM_ALLOCATOR_H
#define HETMEM_PMEM_ALLOCATOR_H 1

#include <cstddef>
#include <stdexcept>
#include <string>

#include "memkind.h"
#include "memkind/kind_allocator.h"

namespace libmemkind {

/// The kind's memory usage policy (memkind_mem_usage_policy's values).
enum class allocation_policy {
    DEFAULT = MEMKIND_MEM_USAGE_POLICY_DEFAULT,
    CONSERVATIVE = MEMKIND_MEM_USAGE_POLICY_CONSERVATIVE,
    MAX
};

namespace hetmem_detail {
/// A new pmem kind, owned. @throw as the header comment says.
inline shared_kind create_pmem_kind(const char *dir, std::size_t max_size,
                                    allocation_policy policy) {
    struct memkind_config *cfg = memkind_config_new();
    if (cfg == nullptr)
        throw std::runtime_error("libmemkind: cannot allocate a pmem kind configuration");
    memkind_config_set_path(cfg, dir);
    memkind_config_set_size(cfg, max_size);
    memkind_config_set_memory_usage_policy(cfg, static_cast<memkind_mem_usage_policy>(policy));
    memkind_t kind = nullptr;
    int err = memkind_create_pmem_with_config(cfg, &kind);
    memkind_config_delete(cfg);
    if (err != MEMKIND_SUCCESS)
        throw_create_error(err, "pmem");
    return adopt_kind(kind);
}
} // namespace hetmem_detail

namespace pmem {

template <typename T>
class allocator : public hetmem_detail::kind_allocator_base<allocator, T, hetmem_detail::shared_kind> {
    typedef hetmem_detail::kind_allocator_base<allocator, T, hetmem_detail::shared_kind> base;

public:
    using base::base;
    using base::operator=;

    explicit allocator(const char *dir, std::size_t max_size)
        : allocator(dir, max_size, libmemkind::allocation_policy::DEFAULT) {}

    explicit allocator(const std::string &dir, std::size_t max_size)
        : allocator(dir.c_str(), max_size, libmemkind::allocation_policy::DEFAULT) {}

    explicit allocator(const char *dir, std::size_t max_size,
                       libmemkind::allocation_policy alloc_policy)
        : base(hetmem_detail::create_pmem_kind(dir, max_size, alloc_policy)) {}

    explicit allocator(const std::string &dir, std::size_t max_size,
                       libmemkind::allocation_policy alloc_policy)
        : allocator(dir.c_str(), max_size, alloc_policy) {}
};

} // namespace pmem
} // namespace libmemkind

#endif
