// SPDX-License-Identifier: MIT
// UMF-compatible base definitions: versions and the result type. Values are
// those of the UMF API (facts of the interface); the text is hetmem's.
#ifndef UMF_BASE_H
#define UMF_BASE_H 1

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Builds an API version number from a major and minor number.
#define UMF_MAKE_VERSION(_major, _minor) (((_major) << 16) | ((_minor)&0x0000ffff))
/// The major part of a version number.
#define UMF_MAJOR_VERSION(_ver) ((_ver) >> 16)
/// The minor part of a version number.
#define UMF_MINOR_VERSION(_ver) ((_ver)&0x0000ffff)
/// The version of these headers (the UMF API level hetmem implements).
#define UMF_VERSION_CURRENT UMF_MAKE_VERSION(0, 11)

/// Results of UMF operations.
typedef enum umf_result_t {
    UMF_RESULT_SUCCESS = 0,                        ///< success
    UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY = 1,       ///< not enough host memory
    UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC = 2, ///< see umfMemoryProviderGetLastNativeError
    UMF_RESULT_ERROR_INVALID_ARGUMENT = 3,         ///< an argument is invalid
    UMF_RESULT_ERROR_INVALID_ALIGNMENT = 4,        ///< an alignment is invalid
    UMF_RESULT_ERROR_NOT_SUPPORTED = 5,            ///< the operation is not supported
    UMF_RESULT_ERROR_USER_SPECIFIC = 6,            ///< a user-provided callback failed
    UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE = 7,   ///< a required library is missing
    UMF_RESULT_ERROR_OUT_OF_RESOURCES = 8,         ///< an internal resource ran out
    UMF_RESULT_ERROR_UNKNOWN = 0x7ffffffe          ///< unknown or internal error
} umf_result_t;

#ifdef __cplusplus
}
#endif

#endif // UMF_BASE_H
