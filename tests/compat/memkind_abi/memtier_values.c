// SPDX-License-Identifier: MIT
// Prints the constants of memkind_memtier.h. Built against Debian's memkind
// 1.14 headers and against hetmem's: the outputs must be identical.
#include <stdio.h>

#include <memkind_memtier.h>

#define V(x) printf("%s %lld\n", #x, (long long)(x))

int main(void) {
    V(MEMTIER_POLICY_STATIC_RATIO);
    V(MEMTIER_POLICY_DYNAMIC_THRESHOLD);
    V(MEMTIER_POLICY_MAX_VALUE);
    V(sizeof(memtier_policy_t));
    return 0;
}
