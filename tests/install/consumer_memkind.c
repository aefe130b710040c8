/* SPDX-License-Identifier: MIT
 * A memkind user's program against an installed hetmem (libmemkind.so.0,
 * which needs libhetmem.so.1). */
#include <memkind.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char *p = memkind_malloc(MEMKIND_DEFAULT, 4096);
    if (!p) {
        printf("FAIL: memkind_malloc returned NULL\n");
        return 1;
    }
    memset(p, 0x5a, 4096);
    int ok = p[4095] == 0x5a && memkind_malloc_usable_size(MEMKIND_DEFAULT, p) >= 4096;
    memkind_free(MEMKIND_DEFAULT, p);
    if (!ok) {
        printf("FAIL: memkind block\n");
        return 1;
    }
    printf("memkind consumer: ok\n");
    return 0;
}
