// SPDX-License-Identifier: MIT
// hbw::allocator<T>: a standard-library allocator over hbw_malloc/hbw_free
// (hbwallocator(3), EXPERIMENTAL API in memkind), written for hetmem over
// hbwmalloc.h. C++03 and later.
//
//   std::vector<double, hbw::allocator<double> > v;
//
// Memory comes from high-bandwidth memory under the hbw policy
// (hbw_set_policy). allocate throws std::bad_alloc when n is 0, when n is
// above max_size(), or when there is no memory. Every hbw::allocator can free
// what any other allocated (hbw_free): all compare equal.
#ifndef HETMEM_HBW_ALLOCATOR_H
#define HETMEM_HBW_ALLOCATOR_H 1

#include <cstddef>
#include <new>

#include "hbwmalloc.h"

#if __cplusplus >= 201103L
#define HETMEM_HBW_NOEXCEPT noexcept
#define HETMEM_HBW_ALIGNOF(T) alignof(T)
#else
#define HETMEM_HBW_NOEXCEPT throw()
#define HETMEM_HBW_ALIGNOF(T) __alignof__(T)
#endif

namespace hbw {

template <class T>
class allocator {
public:
    typedef std::size_t size_type;
    typedef std::ptrdiff_t difference_type;
    typedef T *pointer;
    typedef const T *const_pointer;
    typedef T &reference;
    typedef const T &const_reference;
    typedef T value_type;

    template <class U>
    struct rebind {
        typedef allocator<U> other;
    };

    allocator() HETMEM_HBW_NOEXCEPT {}
    allocator(const allocator &) HETMEM_HBW_NOEXCEPT {}
    template <class U>
    allocator(const allocator<U> &) HETMEM_HBW_NOEXCEPT {}
    ~allocator() HETMEM_HBW_NOEXCEPT {}

    // The object's address even when T overloads unary &.
    pointer address(reference x) const {
        return reinterpret_cast<pointer>(
            &const_cast<char &>(reinterpret_cast<const volatile char &>(x)));
    }
    const_pointer address(const_reference x) const {
        return reinterpret_cast<const_pointer>(
            &const_cast<char &>(reinterpret_cast<const volatile char &>(x)));
    }

    /// n objects of high-bandwidth memory (hbw_malloc, or hbw_posix_memalign
    /// for a T aligned beyond 16). @throw std::bad_alloc as said above.
    pointer allocate(size_type n, const void * /*hint*/ = 0) {
        if (n == 0 || n > max_size())
            throw std::bad_alloc();
        void *p = 0;
        if (HETMEM_HBW_ALIGNOF(T) <= 16)
            p = hbw_malloc(n * sizeof(T));
        else if (hbw_posix_memalign(&p, HETMEM_HBW_ALIGNOF(T), n * sizeof(T)) != 0)
            p = 0;
        if (p == 0)
            throw std::bad_alloc();
        return static_cast<pointer>(p);
    }

    void deallocate(pointer p, size_type) { hbw_free(static_cast<void *>(p)); }

    size_type max_size() const HETMEM_HBW_NOEXCEPT {
        return static_cast<size_type>(-1) / sizeof(T);
    }

    void construct(pointer p, const_reference val) { ::new (static_cast<void *>(p)) T(val); }
    void destroy(pointer p) { p->~T(); }
};

template <class T, class U>
bool operator==(const allocator<T> &, const allocator<U> &) {
    return true;
}

template <class T, class U>
bool operator!=(const allocator<T> &, const allocator<U> &) {
    return false;
}

} // namespace hbw

#undef HETMEM_HBW_NOEXCEPT
#undef HETMEM_HBW_ALIGNOF

#endif
