// SPDX-License-Identifier: MIT
// libmemkind::static_kind::allocator<T>: a C++11 standard-library allocator
// over one of memkind's static kinds (memkindallocator(3), STANDARD API),
// written for hetmem over memkind.h.
//
//   libmemkind::static_kind::allocator<int> a(libmemkind::kinds::HBW);
//   std::vector<int, decltype(a)> v(a);
//
// The constructor throws std::runtime_error for a value that is not one of
// libmemkind::kinds; allocate throws std::bad_alloc (memkind/kind_allocator.h).
// Copies and rebinds use the same kind and compare equal; allocators of two
// different kinds compare unequal.
#ifndef HETMEM_MEMKIND_ALLOCATOR_H
#define HETMEM_MEMKIND_ALLOCATOR_H 1

#include <cstddef>
#include <stdexcept>
#include <string>

#include "memkind.h"
#include "memkind/kind_allocator.h"

namespace libmemkind {

/// The static kinds, numbered as in memkind (the value is the interface).
enum class kinds {
    DEFAULT = 0,
    HUGETLB = 1,
    INTERLEAVE = 2,
    HBW = 3,
    HBW_ALL = 4,
    HBW_HUGETLB = 5,
    HBW_ALL_HUGETLB = 6,
    HBW_PREFERRED = 7,
    HBW_PREFERRED_HUGETLB = 8,
    HBW_INTERLEAVE = 9,
    REGULAR = 10,
    DAX_KMEM = 11,
    DAX_KMEM_ALL = 12,
    DAX_KMEM_PREFERRED = 13,
    DAX_KMEM_INTERLEAVE = 14,
    HIGHEST_CAPACITY = 15,
    HIGHEST_CAPACITY_PREFERRED = 16,
    HIGHEST_CAPACITY_LOCAL = 17,
    HIGHEST_CAPACITY_LOCAL_PREFERRED = 18,
    LOWEST_LATENCY_LOCAL = 19,
    LOWEST_LATENCY_LOCAL_PREFERRED = 20,
    HIGHEST_BANDWIDTH_LOCAL = 21,
    HIGHEST_BANDWIDTH_LOCAL_PREFERRED = 22
};

namespace hetmem_detail {
/// The kind handle of `k`. @throw std::runtime_error for another value.
inline memkind_t static_kind_handle(kinds k) {
    // Indexed by the enum's value: the order above.
    memkind_t *const handles[] = {
        &MEMKIND_DEFAULT, &MEMKIND_HUGETLB, &MEMKIND_INTERLEAVE, &MEMKIND_HBW,
        &MEMKIND_HBW_ALL, &MEMKIND_HBW_HUGETLB, &MEMKIND_HBW_ALL_HUGETLB,
        &MEMKIND_HBW_PREFERRED, &MEMKIND_HBW_PREFERRED_HUGETLB,
        &MEMKIND_HBW_INTERLEAVE, &MEMKIND_REGULAR, &MEMKIND_DAX_KMEM,
        &MEMKIND_DAX_KMEM_ALL, &MEMKIND_DAX_KMEM_PREFERRED,
        &MEMKIND_DAX_KMEM_INTERLEAVE, &MEMKIND_HIGHEST_CAPACITY,
        &MEMKIND_HIGHEST_CAPACITY_PREFERRED, &MEMKIND_HIGHEST_CAPACITY_LOCAL,
        &MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED, &MEMKIND_LOWEST_LATENCY_LOCAL,
        &MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED, &MEMKIND_HIGHEST_BANDWIDTH_LOCAL,
        &MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED};
    static_assert(sizeof handles / sizeof handles[0] ==
                      static_cast<std::size_t>(kinds::HIGHEST_BANDWIDTH_LOCAL_PREFERRED) + 1,
                  "one handle per libmemkind::kinds value");
    std::size_t i = static_cast<std::size_t>(static_cast<int>(k));
    if (i >= sizeof handles / sizeof handles[0])
        throw std::runtime_error("libmemkind::static_kind::allocator: " +
                                 std::to_string(static_cast<int>(k)) +
                                 " is not a libmemkind::kinds value");
    return *handles[i];
}
} // namespace hetmem_detail

namespace static_kind {

template <typename T>
class allocator : public hetmem_detail::kind_allocator_base<allocator, T, memkind_t> {
    typedef hetmem_detail::kind_allocator_base<allocator, T, memkind_t> base;

public:
    using base::base;
    using base::operator=;

    /// @throw std::runtime_error when `kind` is not a libmemkind::kinds value.
    explicit allocator(libmemkind::kinds kind)
        : base(hetmem_detail::static_kind_handle(kind)) {}
};

} // namespace static_kind
} // namespace libmemkind

#endif
