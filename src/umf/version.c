// SPDX-License-Identifier: MIT
// hetmem_get_version: the library's own version string.
#include "hetmem.h"

#include "base/util.h"

#define STR2(x) #x
#define STR(x) STR2(x)

HETMEM_EXPORT const char *hetmem_get_version(void) {
    return STR(HETMEM_VERSION_MAJOR) "." STR(HETMEM_VERSION_MINOR) "." STR(HETMEM_VERSION_PATCH);
}
