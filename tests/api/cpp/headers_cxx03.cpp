// SPDX-License-Identifier: MIT
// hbw_allocator.h compiles as C++03 (its man page's level) and serves a
// container there; built, not run.
#include <hbw_allocator.h>
#include <list>
#include <vector>

int hbw_allocator_cxx03(int n);
int hbw_allocator_cxx03(int n) {
    std::vector<int, hbw::allocator<int> > v(n, 1);
    std::list<double, hbw::allocator<double> > l(v.begin(), v.end());
    return static_cast<int>(l.size()) + (v.get_allocator() == hbw::allocator<char>());
}
