// SPDX-License-Identifier: MIT
// CHECK for the ABI programs (compiled against Debian's headers, no cmocka):
// prints the failed condition and counts it in `failures`.
#ifndef HETMEM_ABI_CHECK_H
#define HETMEM_ABI_CHECK_H
#include <stdio.h>

static int failures;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            printf("FAILED line %d: %s\n", __LINE__, #c);                                          \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif // HETMEM_ABI_CHECK_H
