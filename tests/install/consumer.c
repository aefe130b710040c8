/* SPDX-License-Identifier: MIT
 * A program a user would write against an installed hetmem. */
#include <hetmem.h>
#include <stdio.h>
#include <string.h>

int main(void) {
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", HETMEM_VERSION_MAJOR, HETMEM_VERSION_MINOR,
             HETMEM_VERSION_PATCH);
    if (strcmp(hetmem_get_version(), want) != 0) {
        printf("FAIL: library %s, headers %s\n", hetmem_get_version(), want);
        return 1;
    }
    return 0;
}
