// SPDX-License-Identifier: MIT
// The C++ allocators (hbw_allocator.h, memkind_allocator.h, pmem_allocator.h,
// fixed_allocator.h; docs in their headers): standard containers with each,
// memory checked to come from the allocator's kind, copy/rebind/move and
// equality, the kind's lifetime, and the exceptions on failure. Built as
// C++11 and as C++17.
#include <cstdint>
#include <utility>
#include <vector>

#include <fixed_allocator.h>
#include <hbw_allocator.h>
#include <memkind_allocator.h>
#include <pmem_allocator.h>
#include <sys/mman.h>

#include "cpp_check.h"
#include "cpp_containers.h"

using libmemkind::kinds;
namespace sk = libmemkind::static_kind;
namespace pm = libmemkind::pmem;
namespace fx = libmemkind::fixed;

static const std::size_t pmem_size = 64u << 20;

// The kind's handle, by name from memkind.h: the oracle for the enum.
static const struct {
    kinds k;
    memkind_t *handle;
} static_kinds[] = {
    {kinds::DEFAULT, &MEMKIND_DEFAULT},
    {kinds::HUGETLB, &MEMKIND_HUGETLB},
    {kinds::INTERLEAVE, &MEMKIND_INTERLEAVE},
    {kinds::HBW, &MEMKIND_HBW},
    {kinds::HBW_ALL, &MEMKIND_HBW_ALL},
    {kinds::HBW_HUGETLB, &MEMKIND_HBW_HUGETLB},
    {kinds::HBW_ALL_HUGETLB, &MEMKIND_HBW_ALL_HUGETLB},
    {kinds::HBW_PREFERRED, &MEMKIND_HBW_PREFERRED},
    {kinds::HBW_PREFERRED_HUGETLB, &MEMKIND_HBW_PREFERRED_HUGETLB},
    {kinds::HBW_INTERLEAVE, &MEMKIND_HBW_INTERLEAVE},
    {kinds::REGULAR, &MEMKIND_REGULAR},
    {kinds::DAX_KMEM, &MEMKIND_DAX_KMEM},
    {kinds::DAX_KMEM_ALL, &MEMKIND_DAX_KMEM_ALL},
    {kinds::DAX_KMEM_PREFERRED, &MEMKIND_DAX_KMEM_PREFERRED},
    {kinds::DAX_KMEM_INTERLEAVE, &MEMKIND_DAX_KMEM_INTERLEAVE},
    {kinds::HIGHEST_CAPACITY, &MEMKIND_HIGHEST_CAPACITY},
    {kinds::HIGHEST_CAPACITY_PREFERRED, &MEMKIND_HIGHEST_CAPACITY_PREFERRED},
    {kinds::HIGHEST_CAPACITY_LOCAL, &MEMKIND_HIGHEST_CAPACITY_LOCAL},
    {kinds::HIGHEST_CAPACITY_LOCAL_PREFERRED, &MEMKIND_HIGHEST_CAPACITY_LOCAL_PREFERRED},
    {kinds::LOWEST_LATENCY_LOCAL, &MEMKIND_LOWEST_LATENCY_LOCAL},
    {kinds::LOWEST_LATENCY_LOCAL_PREFERRED, &MEMKIND_LOWEST_LATENCY_LOCAL_PREFERRED},
    {kinds::HIGHEST_BANDWIDTH_LOCAL, &MEMKIND_HIGHEST_BANDWIDTH_LOCAL},
    {kinds::HIGHEST_BANDWIDTH_LOCAL_PREFERRED, &MEMKIND_HIGHEST_BANDWIDTH_LOCAL_PREFERRED},
};

// Every libmemkind::kinds value names its kind: the allocator succeeds
// exactly where memkind_malloc on that kind does, and its memory is that
// kind's.
static void test_static_kind_table(void) {
    int usable = 0;
    for (const auto &row : static_kinds) {
        memkind_t kind = *row.handle;
        void *c = memkind_malloc(kind, 64);
        bool works = c != nullptr;
        memkind_free(kind, c);
        sk::allocator<int> a(row.k);
        int *p = nullptr;
        try {
            p = a.allocate(16);
        } catch (const std::bad_alloc &) {
        }
        if ((p != nullptr) != works || (p && memkind_detect_kind(p) != kind)) {
            std::fprintf(stderr, "kinds value %d: C API %s, allocator %p (kind %p, want %p)\n",
                         static_cast<int>(row.k), works ? "allocates" : "fails",
                         static_cast<void *>(p), p ? (void *)memkind_detect_kind(p) : nullptr,
                         (void *)kind);
            ++check_failures;
        }
        if (p) {
            usable++;
            a.deallocate(p, 16);
        }
    }
    CHECK(usable >= 4); // DEFAULT, REGULAR, INTERLEAVE, HIGHEST_CAPACITY at least
    CHECK_THROWS(std::runtime_error, sk::allocator<int>(static_cast<kinds>(23)));
    CHECK_THROWS(std::runtime_error, sk::allocator<int>(static_cast<kinds>(-1)));
}

static void test_static_containers(void) {
    const kinds each[] = {kinds::DEFAULT, kinds::REGULAR, kinds::INTERLEAVE,
                          kinds::HIGHEST_CAPACITY};
    for (kinds k : each) {
        memkind_t kind = *static_kinds[static_cast<int>(k)].handle;
        auto owns = [kind](const void *p) { return memkind_detect_kind(const_cast<void *>(p)) == kind; };
        sk::allocator<char> a(k);
        exercise_containers(a, owns);
        exercise_alignment(a, owns);
    }
}

static void test_hbw_containers(void) {
    // hbw_malloc's kind under the current policy (no HBW node here: the
    // preferred policy falls back to the default kind); never libc's.
    void *probe = hbw_malloc(16);
    memkind_t hbw_kind = memkind_detect_kind(probe);
    hbw_free(probe);
    CHECK(probe != nullptr && hbw_kind != nullptr);
    auto owns = [hbw_kind](const void *p) {
        return memkind_detect_kind(const_cast<void *>(p)) == hbw_kind;
    };
    hbw::allocator<int> a;
    exercise_containers(a, owns);
    exercise_alignment(a, owns);
    hbw::allocator<long> b(a);
    CHECK(a == b && !(a != b));
    CHECK(a.max_size() == SIZE_MAX / sizeof(int));
    CHECK_THROWS(std::bad_alloc, a.allocate(0));
    CHECK_THROWS(std::bad_alloc, a.allocate(a.max_size() + 1));
    CHECK_THROWS(std::bad_alloc, a.allocate(a.max_size()));
    // One frees what the other allocated.
    long *p = b.allocate(4);
    hbw::allocator<long>().deallocate(p, 4);
    int x = 5;
    CHECK(a.address(x) == &x);
}

static void test_pmem_containers(void) {
    std::string dir = scratch_dir("containers");
    pm::allocator<char> a(dir, pmem_size);
    char *first = a.allocate(8);
    memkind_t kind = memkind_detect_kind(first);
    CHECK(mapped_under(first, dir) && kind != nullptr && kind != MEMKIND_DEFAULT);
    a.deallocate(first, 8);
    auto owns = [kind, dir](const void *p) {
        return memkind_detect_kind(const_cast<void *>(p)) == kind && mapped_under(p, dir);
    };
    exercise_containers(a, owns);
    exercise_alignment(a, owns);
    pm::allocator<int> c(dir.c_str(), pmem_size, libmemkind::allocation_policy::CONSERVATIVE);
    std::vector<int, pm::allocator<int>> v(c);
    v.assign(4096, 9);
    CHECK(mapped_under(v.data(), dir) && memkind_detect_kind(v.data()) != kind && v[4095] == 9);
}

static void test_fixed_containers(void) {
    std::size_t size = 32u << 20;
    void *area = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(area != MAP_FAILED);
    char *lo = static_cast<char *>(area), *hi = lo + size;
    {
        fx::allocator<int> a(area, size);
        auto owns = [lo, hi](const void *p) {
            const char *c = static_cast<const char *>(p);
            return c >= lo && c < hi;
        };
        exercise_containers(a, owns);
        exercise_alignment(a, owns);
    }
    {
        // An area that starts off a page: blocks are aligned only if asked.
        fx::allocator<int> a(lo + 4096 + 48, size / 2);
        exercise_alignment(a, [lo, hi](const void *p) { return p >= lo && p < hi; });
    }
    munmap(area, size);
}

// Copies, rebinds and moves share the kind and compare equal; separately
// made allocators of created kinds do not; equal allocators free each
// other's memory. A moved-from allocator keeps its kind (C++17 rule).
template <class A>
static void check_copies(A &a, A &other_kind) {
    typedef rebound<A, long> B;
    A copy(a);
    B rebound_copy(a);
    A back(rebound_copy);
    CHECK(copy == a && rebound_copy == a && back == a && a == rebound_copy);
    CHECK(!(copy != a) && !(rebound_copy != a));
    CHECK(a != other_kind && !(a == other_kind) && rebound_copy != other_kind);

    int *p = a.allocate(10);
    back.deallocate(p, 10);
    long *q = rebound_copy.allocate(3);
    B(copy).deallocate(q, 3);

    A moved(std::move(copy));
    CHECK(moved == a && copy == a);
    p = copy.allocate(2);
    moved.deallocate(p, 2);

    A assigned(other_kind);
    CHECK(assigned != a);
    assigned = a;
    CHECK(assigned == a);
    assigned = std::move(other_kind);
    CHECK(assigned != a && other_kind == assigned);
    B rebound_assigned(other_kind);
    rebound_assigned = a;
    CHECK(rebound_assigned == a);
}

static void test_copy_rebind_equality(void) {
    sk::allocator<int> d(kinds::DEFAULT), r(kinds::REGULAR);
    check_copies(d, r);
    sk::allocator<int> d2(kinds::DEFAULT);
    CHECK(d2 == d); // one static kind: one allocator's memory is the other's

    std::string dir = scratch_dir("equality");
    pm::allocator<int> p1(dir, pmem_size), p2(dir, pmem_size);
    check_copies(p1, p2);

    static char area1[4 << 20], area2[4 << 20];
    fx::allocator<int> f1(area1, sizeof area1), f2(area2, sizeof area2);
    check_copies(f1, f2);
    fx::allocator<int> f1_again(area1 + (2 << 20), 2 << 20);
    CHECK(f1_again != f1);
}

// The kind lives while any copy does, and goes with the last one.
static void test_kind_lifetime(void) {
    std::string dir = scratch_dir("lifetime");
    std::vector<int, pm::allocator<int>> *kept;
    {
        pm::allocator<int> original(dir, pmem_size);
        kept = new std::vector<int, pm::allocator<int>>(100, 42, pm::allocator<long>(original));
    }
    CHECK(mappings_under(dir) > 0 && mapped_under(kept->data(), dir));
    kept->resize(100000, 43);
    CHECK((*kept)[99] == 42 && (*kept)[99999] == 43 && mapped_under(kept->data(), dir));
    delete kept;
    CHECK(mappings_under(dir) == 0);

    // Each allocator's kind is destroyed: far more of them than
    // MEMKIND_MAX_KIND can exist at once.
    static char area[1 << 20];
    int made = 0;
    try {
        for (; made < 2 * MEMKIND_MAX_KIND; made++) {
            fx::allocator<long> a(area, sizeof area);
            std::vector<long, fx::allocator<long>> v(10, made, a);
            if (v[9] != made || (char *)v.data() < area || (char *)v.data() >= area + sizeof area)
                break;
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "fixed allocator %d: %s\n", made, e.what());
    }
    CHECK(made == 2 * MEMKIND_MAX_KIND);
}

static void test_exceptions(void) {
    std::string dir = scratch_dir("exceptions");
    // Creation: what memkind answers MEMKIND_ERROR_INVALID for.
    CHECK_THROWS(std::invalid_argument, pm::allocator<int>(dir + "/no/such/dir", pmem_size));
    CHECK_THROWS(std::invalid_argument, pm::allocator<int>(dir, MEMKIND_PMEM_MIN_SIZE - 1));
    CHECK_THROWS(std::invalid_argument,
                 pm::allocator<int>(dir, pmem_size, libmemkind::allocation_policy::MAX));
    std::string file = dir + "/plain-file";
    std::FILE *f = std::fopen(file.c_str(), "w");
    CHECK(f != nullptr);
    if (f)
        std::fclose(f);
    CHECK_THROWS(std::invalid_argument, pm::allocator<int>(file, pmem_size));
    // memkind 1.14 crashes here; hetmem refuses the missing path.
    CHECK_THROWS(std::invalid_argument, pm::allocator<int>((const char *)nullptr, pmem_size));

    // Allocation: beyond the kind's size, n == 0, n * sizeof(T) overflowing.
    pm::allocator<char> small(dir, MEMKIND_PMEM_MIN_SIZE);
    CHECK_THROWS(std::bad_alloc, small.allocate(2 * MEMKIND_PMEM_MIN_SIZE));
    std::vector<char, pm::allocator<char>> v(64, 'x', small);
    CHECK_THROWS(std::bad_alloc, v.reserve(2 * MEMKIND_PMEM_MIN_SIZE));
    CHECK(v.size() == 64 && v[63] == 'x' && mapped_under(v.data(), dir));
    v.resize(1 << 20, 'y'); // the kind still serves what fits
    CHECK(v[(1 << 20) - 1] == 'y' && mapped_under(v.data(), dir));
    CHECK_THROWS(std::bad_alloc, small.allocate(0));
    CHECK_THROWS(std::bad_alloc, pm::allocator<long>(small).allocate(SIZE_MAX / 4));

    sk::allocator<long> d(kinds::DEFAULT);
    CHECK_THROWS(std::bad_alloc, d.allocate(0));
    CHECK_THROWS(std::bad_alloc, d.allocate(SIZE_MAX / 4));
    CHECK_THROWS(std::bad_alloc, d.allocate(SIZE_MAX / 16));

    // A fixed area too small for what is asked.
    alignas(4096) static char tiny[4096];
    fx::allocator<int> t(tiny, sizeof tiny);
    CHECK_THROWS(std::bad_alloc, t.allocate(1 << 20));
    std::vector<int, fx::allocator<int>> tv(t);
    CHECK_THROWS(std::bad_alloc, tv.resize(100000));
    CHECK(tv.empty());
    CHECK_THROWS(std::bad_alloc, t.allocate(0));
}

int main() {
    RUN(test_static_kind_table);
    RUN(test_static_containers);
    RUN(test_hbw_containers);
    RUN(test_pmem_containers);
    RUN(test_fixed_containers);
    RUN(test_copy_rebind_equality);
    RUN(test_kind_lifetime);
    RUN(test_exceptions);
    return check_result("test_cpp_allocators");
}
