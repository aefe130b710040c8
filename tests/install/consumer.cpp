// SPDX-License-Identifier: MIT
// A C++ program a memkind user would write, built against the installed
// allocator headers with `pkg-config memkind`: each allocator fills a
// container and reads it back. Usage: consumer-cpp PMEM_DIR
#include <fixed_allocator.h>
#include <hbw_allocator.h>
#include <memkind_allocator.h>
#include <pmem_allocator.h>

#include <cstdio>
#include <list>
#include <map>
#include <string>
#include <vector>

template <class V>
static int check(const char *what, const V &v) {
    int i = 0;
    for (auto x : v)
        if (x != i++ * 3) {
            std::printf("FAIL: %s holds %d at %d\n", what, int(x), i - 1);
            return 1;
        }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2)
        return 2;
    static char area[8 << 20];
    std::vector<int, hbw::allocator<int>> h;
    std::vector<int, libmemkind::static_kind::allocator<int>> s{
        libmemkind::static_kind::allocator<int>(libmemkind::kinds::REGULAR)};
    std::list<int, libmemkind::pmem::allocator<int>> p(
        libmemkind::pmem::allocator<int>(std::string(argv[1]), 32 << 20));
    std::vector<long, libmemkind::fixed::allocator<long>> f(
        libmemkind::fixed::allocator<long>(area, sizeof area));
    for (int i = 0; i < 1000; i++) {
        h.push_back(i * 3);
        s.push_back(i * 3);
        p.push_back(i * 3);
        f.push_back(i * 3);
    }
    if (memkind_detect_kind(s.data()) != MEMKIND_REGULAR ||
        (char *)f.data() < area || (char *)f.data() >= area + sizeof area) {
        std::printf("FAIL: a container's memory is not its kind's\n");
        return 1;
    }
    return check("hbw", h) | check("static", s) | check("pmem", p) | check("fixed", f);
}
