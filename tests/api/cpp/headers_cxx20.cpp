// SPDX-License-Identifier: MIT
// The four allocator headers compile together as C++20 and serve
// containers there; built, not run.
#include <fixed_allocator.h>
#include <hbw_allocator.h>
#include <memkind_allocator.h>
#include <pmem_allocator.h>

#include <map>
#include <string>
#include <vector>

int allocators_cxx20(char *area, std::size_t size);
int allocators_cxx20(char *area, std::size_t size) {
    std::vector<int, hbw::allocator<int>> h(3);
    std::vector<int, libmemkind::static_kind::allocator<int>> s{
        libmemkind::static_kind::allocator<int>(libmemkind::kinds::DEFAULT)};
    libmemkind::pmem::allocator<std::pair<const int, int>> p("/tmp", 1 << 30);
    std::map<int, int, std::less<int>, decltype(p)> m(p);
    libmemkind::fixed::allocator<char> f(area, size);
    std::basic_string<char, std::char_traits<char>, decltype(f)> str("text", f);
    m[1] = static_cast<int>(str.size());
    return static_cast<int>(h.size() + s.size()) + m[1];
}
