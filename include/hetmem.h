// SPDX-License-Identifier: MIT
// hetmem's own public extensions (prefix hetmem_). The compatible APIs are in
// umf.h / umf/*.h, memkind.h, hbwmalloc.h and hmalloc.h.
#ifndef HETMEM_H
#define HETMEM_H 1

#ifdef __cplusplus
extern "C" {
#endif

#define HETMEM_VERSION_MAJOR 0
#define HETMEM_VERSION_MINOR 1
#define HETMEM_VERSION_PATCH 0

/// The version of the library that is loaded, "MAJOR.MINOR.PATCH".
/// @return a static string; never NULL.
const char *hetmem_get_version(void);

#ifdef __cplusplus
}
#endif

#endif // HETMEM_H
