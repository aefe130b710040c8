// SPDX-License-Identifier: MIT
// libmemkind::fixed::allocator<T>: a C++11 standard-library allocator over a
// fixed kind, one made on a memory area the caller supplies and keeps alive
// (fixedallocator(3), STANDARD API), written for hetmem over memkind.h.
//
//   static char area[64 << 20];
//   libmemkind::fixed::allocator<int> a(area, sizeof area);
//   std::vector<int, decltype(a)> v(a);
//
// The constructor creates the kind (memkind_create_fixed); it throws
// std::invalid_argument when memkind answers MEMKIND_ERROR_INVALID and
// std::runtime_error for any other error. An area too small for a request
// makes allocate throw std::bad_alloc. Copies and rebinds share the kind (an
// atomic count, any thread); the last one destroys it, never the area.
// Copies compare equal; two allocators constructed separately compare
// unequal, even over the same area.
#ifndef HETMEM_FIXED_ALLOCATOR_H
#define HETMEM_FIXED_ALLOCATOR_H 1

#include <cstddef>

#include "memkind.h"
#include "memkind/kind_allocator.h"

namespace libmemkind {

namespace hetmem_detail {
/// A new fixed kind on [addr, addr + size), owned. @throw as above.
inline shared_kind create_fixed_kind(void *addr, std::size_t size) {
    memkind_t kind = nullptr;
    int err = memkind_create_fixed(addr, size, &kind);
    if (err != MEMKIND_SUCCESS)
        throw_create_error(err, "fixed");
    return adopt_kind(kind);
}
} // namespace hetmem_detail

namespace fixed {

template <typename T>
class allocator : public hetmem_detail::kind_allocator_base<allocator, T, hetmem_detail::shared_kind> {
    typedef hetmem_detail::kind_allocator_base<allocator, T, hetmem_detail::shared_kind> base;

public:
    using base::base;
    using base::operator=;

    explicit allocator(void *addr, std::size_t size)
        : base(hetmem_detail::create_fixed_kind(addr, size)) {}
};

} // namespace fixed
} // namespace libmemkind

#endif
