// SPDX-License-Identifier: MIT
// The part hetmem's C++ kind allocators share (memkind_allocator.h,
// pmem_allocator.h, fixed_allocator.h); not an interface of its own: include
// those headers instead. Written for hetmem over the C API of memkind.h.
//
// - allocate(n): n objects from the kind; std::bad_alloc for n == 0 (as the
//   allocators' man pages say), for n * sizeof(T) overflowing, and when the
//   kind has no memory. Types aligned beyond std::max_align_t get
//   memkind_posix_memalign.
// - A created kind (pmem, fixed) is owned by a shared_kind: every copy and
//   rebind of an allocator holds the same one, counted atomically, and the
//   last one destroys the kind. A move copies, so the source keeps its kind
//   (the C++17 allocator requirement: a moved-from allocator is unchanged).
// - Equality: two allocators are equal when one can free what the other
//   allocated, that is when they use the same kind.
#ifndef HETMEM_MEMKIND_KIND_ALLOCATOR_H
#define HETMEM_MEMKIND_KIND_ALLOCATOR_H 1

#if __cplusplus < 201103L
#error "hetmem's libmemkind allocators need C++11 or later"
#endif

#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "../memkind.h"

namespace libmemkind {
namespace hetmem_detail {

/// Memory for n objects of `size` bytes aligned to `align`, from `kind`.
/// @throw std::bad_alloc when n is 0, the byte count overflows, or the kind
/// has no memory for it.
inline void *kind_allocate(memkind_t kind, std::size_t n, std::size_t size,
                           std::size_t align) {
    if (n == 0 || n > static_cast<std::size_t>(-1) / size)
        throw std::bad_alloc();
    void *p = nullptr;
    if (align <= alignof(std::max_align_t))
        p = memkind_malloc(kind, n * size);
    else if (memkind_posix_memalign(kind, &p, align, n * size) != 0)
        p = nullptr;
    if (p == nullptr)
        throw std::bad_alloc();
    return p;
}

/// Throws for a memkind_create_* error `err` of a `what` ("pmem", "fixed")
/// kind: std::invalid_argument for MEMKIND_ERROR_INVALID (as memkind's
/// allocators), std::runtime_error for any other code.
[[noreturn]] inline void throw_create_error(int err, const char *what) {
    std::string msg = std::string("libmemkind: cannot create the ") + what +
                      " kind (memkind error " + std::to_string(err) + ")";
    if (err == MEMKIND_ERROR_INVALID)
        throw std::invalid_argument(msg);
    throw std::runtime_error(msg);
}

/// A created kind, destroyed with its last owner.
class kind_owner {
public:
    explicit kind_owner(memkind_t kind) noexcept : kind_(kind) {}
    ~kind_owner() { memkind_destroy_kind(kind_); }
    kind_owner(const kind_owner &) = delete;
    kind_owner &operator=(const kind_owner &) = delete;
    memkind_t get() const noexcept { return kind_; }

private:
    memkind_t kind_;
};

/// The count of owners is std::shared_ptr's: atomic, so copies of one
/// allocator may be made, used and dropped by any threads at once.
typedef std::shared_ptr<const kind_owner> shared_kind;

/// Takes ownership of a kind just created; destroys it if that fails.
inline shared_kind adopt_kind(memkind_t kind) {
    try {
        return std::make_shared<const kind_owner>(kind);
    } catch (...) {
        memkind_destroy_kind(kind);
        throw;
    }
}

inline memkind_t kind_of(memkind_t kind) noexcept { return kind; }
inline memkind_t kind_of(const shared_kind &kind) noexcept { return kind->get(); }

struct kind_allocator_tag {}; // what the equality operators accept

/// The allocator over a kind reference `Ref` (memkind_t for the static
/// kinds, shared_kind for created ones): everything but the constructors
/// that make a kind. Derived<T> (static_kind::allocator<T>, ...) derives
/// from it, adds those and inherits the rest (`using base::base`).
template <template <typename> class Derived, typename T, typename Ref>
class kind_allocator_base : public kind_allocator_tag {
    template <template <typename> class, typename, typename>
    friend class kind_allocator_base;
    friend struct kind_allocator_access;

public:
    typedef T value_type;
    typedef T *pointer;
    typedef const T *const_pointer;
    typedef T &reference;
    typedef const T &const_reference;
    typedef std::size_t size_type;
    typedef std::ptrdiff_t difference_type;

    template <class U>
    struct rebind {
        typedef Derived<U> other;
    };

    /// A rebind: the same kind.
    template <typename U>
    kind_allocator_base(const Derived<U> &other) noexcept : ref_(ref_of(other)) {}

    template <typename U>
    Derived<T> &operator=(const Derived<U> &other) noexcept {
        ref_ = ref_of(other);
        return static_cast<Derived<T> &>(*this);
    }

    /// @throw std::bad_alloc (kind_allocate).
    T *allocate(size_type n) const {
        return static_cast<T *>(kind_allocate(kind_of(ref_), n, sizeof(T), alignof(T)));
    }

    void deallocate(T *p, size_type) const noexcept {
        memkind_free(kind_of(ref_), static_cast<void *>(p));
    }

    template <class U, class... Args>
    void construct(U *p, Args &&...args) const {
        ::new (static_cast<void *>(p)) U(std::forward<Args>(args)...);
    }

    template <class U>
    void destroy(U *p) const {
        p->~U();
    }

protected:
    explicit kind_allocator_base(const Ref &ref) : ref_(ref) {}
    // Copies only: no move constructor, so a move copies and the source
    // keeps its kind.
    kind_allocator_base(const kind_allocator_base &) = default;
    kind_allocator_base &operator=(const kind_allocator_base &) = default;
    ~kind_allocator_base() = default;

private:
    template <typename U>
    static const Ref &ref_of(const Derived<U> &other) noexcept {
        return static_cast<const kind_allocator_base<Derived, U, Ref> &>(other).ref_;
    }

    Ref ref_;
};

struct kind_allocator_access {
    template <template <typename> class D, typename T, typename Ref>
    static memkind_t kind(const kind_allocator_base<D, T, Ref> &a) noexcept {
        return kind_of(a.ref_);
    }
};

/// Equal: the same kind, so either frees what the other allocated. For
/// two allocators of one family (D), found by argument-dependent lookup.
template <template <typename> class D, typename T, typename U>
typename std::enable_if<std::is_base_of<kind_allocator_tag, D<T>>::value, bool>::type
operator==(const D<T> &a, const D<U> &b) noexcept {
    return kind_allocator_access::kind(a) == kind_allocator_access::kind(b);
}

template <template <typename> class D, typename T, typename U>
typename std::enable_if<std::is_base_of<kind_allocator_tag, D<T>>::value, bool>::type
operator!=(const D<T> &a, const D<U> &b) noexcept {
    return !(a == b);
}

} // namespace hetmem_detail
} // namespace libmemkind

#endif
