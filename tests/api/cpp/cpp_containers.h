// SPDX-License-Identifier: MIT
// exercise_containers(a, owns): the standard containers with allocator `a`
// (rebound as each needs), every value read back, and every block they hold
// checked with owns(p): did it come from a's kind?
#ifndef HETMEM_TEST_CPP_CONTAINERS_H
#define HETMEM_TEST_CPP_CONTAINERS_H

#include <deque>
#include <forward_list>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <scoped_allocator>
#include <string>
#include <vector>

#include "cpp_check.h"

template <class A, class U>
using rebound = typename std::allocator_traits<A>::template rebind_alloc<U>;

template <class A>
using kind_string = std::basic_string<char, std::char_traits<char>, rebound<A, char>>;

// Longer than any short-string buffer, so the characters are allocated.
static inline std::string long_text(int i) {
    return "value number " + std::to_string(i) + " of a string that does not fit inline";
}

template <class A, class Owns>
void exercise_sequences(const A &a, Owns owns) {
    std::vector<int, rebound<A, int>> v(a);
    for (int i = 0; i < 1000; i++)
        v.push_back(i * 7 + 3);
    long sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += v[i] == i * 7 + 3;
    CHECK(sum == 1000);
    CHECK(owns(v.data()));
    CHECK(v.get_allocator() == rebound<A, int>(a));

    std::list<long, rebound<A, long>> l(a);
    for (long i = 0; i < 200; i++)
        l.push_back(i * i);
    long expect = 0, bad = 0;
    for (const long &x : l) {
        bad += x != expect * expect || !owns(&x);
        expect++;
    }
    CHECK(expect == 200 && bad == 0);

    std::deque<int, rebound<A, int>> d(a);
    for (int i = 0; i < 5000; i++) {
        d.push_back(i);
        d.push_front(-i);
    }
    CHECK(d.size() == 10000 && d.front() == -4999 && d.back() == 4999 && d[5000] == 0);
    CHECK(owns(&d.front()) && owns(&d.back()) && owns(&d[5000]));

    std::forward_list<short, rebound<A, short>> f(a);
    for (short i = 0; i < 100; i++)
        f.push_front(i);
    short next = 99;
    bad = 0;
    for (const short &x : f)
        bad += x != next-- || !owns(&x);
    CHECK(next == -1 && bad == 0);
}

template <class A, class Owns>
void exercise_strings(const A &a, Owns owns) {
    typedef kind_string<A> str;
    str s(long_text(1).c_str(), rebound<A, char>(a));
    s += long_text(2).c_str();
    CHECK(std::string(s.c_str()) == long_text(1) + long_text(2));
    CHECK(owns(s.data()));

    std::map<int, int, std::less<int>, rebound<A, std::pair<const int, int>>> m(a);
    for (int i = 0; i < 300; i++)
        m[i * 3] = -i;
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        auto it = m.find(i * 3);
        bad += it == m.end() || it->second != -i || !owns(&it->second);
    }
    CHECK(m.size() == 300 && bad == 0 && m.count(1) == 0);

    // The adaptor hands the outer allocator to each element: the strings'
    // characters come from the kind too.
    typedef std::scoped_allocator_adaptor<rebound<A, str>> outer;
    std::vector<str, outer> vs{outer(rebound<A, str>(a))};
    for (int i = 0; i < 50; i++)
        vs.emplace_back(long_text(i).c_str());
    bad = 0;
    for (int i = 0; i < 50; i++)
        bad += std::string(vs[i].c_str()) != long_text(i) || !owns(vs[i].data()) ||
               vs[i].get_allocator() != rebound<A, char>(a);
    CHECK(vs.size() == 50 && bad == 0 && owns(vs.data()));

    typedef std::scoped_allocator_adaptor<rebound<A, std::pair<const int, str>>> map_outer;
    std::map<int, str, std::less<int>, map_outer> ms{map_outer(a)};
    ms.emplace(7, long_text(7).c_str());
    ms[8] = str(long_text(8).c_str(), rebound<A, char>(a));
    CHECK(ms.size() == 2 && std::string(ms[7].c_str()) == long_text(7) &&
          std::string(ms[8].c_str()) == long_text(8));
    CHECK(owns(ms[7].data()) && owns(ms[8].data()));
}

template <class A, class Owns>
void exercise_containers(const A &a, Owns owns) {
    exercise_sequences(a, owns);
    exercise_strings(a, owns);
}

// Over-aligned types get their alignment from every allocator.
struct alignas(64) line64 {
    char bytes[64];
};
struct alignas(256) line256 {
    char bytes[40];
};
struct alignas(16384) page16k { // beyond a page: no allocator gets it by chance
    char bytes[100];
};

template <class A, class Owns>
void exercise_alignment(const A &a, Owns owns) {
    std::vector<line64, rebound<A, line64>> v64(a);
    std::vector<line256, rebound<A, line256>> v256(a);
    std::vector<page16k, rebound<A, page16k>> v16k(a);
    int bad = 0;
    for (int i = 0; i < 20; i++) {
        v64.emplace_back();
        v256.emplace_back();
        v16k.emplace_back();
        v64.shrink_to_fit();
        v256.shrink_to_fit();
        v16k.shrink_to_fit();
        bad += reinterpret_cast<unsigned long>(v64.data()) % 64 != 0;
        bad += reinterpret_cast<unsigned long>(v256.data()) % 256 != 0;
        bad += reinterpret_cast<unsigned long>(v16k.data()) % 16384 != 0;
    }
    CHECK(bad == 0 && owns(v64.data()) && owns(v256.data()) && owns(v16k.data()));
}

#endif
