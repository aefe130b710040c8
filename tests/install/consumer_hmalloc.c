/* SPDX-License-Identifier: MIT
 * An HMSDK user's program against an installed hetmem (libhmalloc.so.0,
 * which needs libhetmem.so.1). */
#include <hmalloc.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char *p = hmalloc(4096);
    if (!p) {
        printf("FAIL: hmalloc returned NULL\n");
        return 1;
    }
    memset(p, 0x5a, 4096);
    int ok = p[4095] == 0x5a && hmalloc_usable_size(p) >= 4096;
    hfree(p);
    if (!ok) {
        printf("FAIL: hmalloc block\n");
        return 1;
    }
    printf("hmalloc consumer: ok\n");
    return 0;
}
