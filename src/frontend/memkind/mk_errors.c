// SPDX-License-Identifier: MIT
// The memkind front end's one error conversion table (STYLE.md 4): core
// results and errno values in, memkind codes and errno out, and the text of
// every code for memkind_error_message.
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"

int mk_error_from_umf(umf_result_t r) {
    switch (r) {
        case UMF_RESULT_SUCCESS: return MEMKIND_SUCCESS;
        case UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY:
        case UMF_RESULT_ERROR_OUT_OF_RESOURCES: return MEMKIND_ERROR_MALLOC;
        case UMF_RESULT_ERROR_INVALID_ARGUMENT:
        case UMF_RESULT_ERROR_INVALID_ALIGNMENT: return MEMKIND_ERROR_INVALID;
        case UMF_RESULT_ERROR_NOT_SUPPORTED:
        case UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE: return MEMKIND_ERROR_UNAVAILABLE;
        case UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC: return MEMKIND_ERROR_MMAP;
        case UMF_RESULT_ERROR_USER_SPECIFIC: return MEMKIND_ERROR_OPERATION_FAILED;
        default: return MEMKIND_ERROR_RUNTIME;
    }
}

int mk_error_from_errno(int err) {
    switch (err) {
        case 0: return MEMKIND_SUCCESS;
        case ENOMEM: return MEMKIND_ERROR_MALLOC;
        case EINVAL:
        case ENOENT:
        case ENOTDIR:
        case EACCES:
        case EPERM:
        case EROFS:
        case ENAMETOOLONG:
        case ELOOP:
        case EISDIR: return MEMKIND_ERROR_INVALID;
        case ENODEV:
        case EOPNOTSUPP: return MEMKIND_ERROR_UNAVAILABLE;
        default: return MEMKIND_ERROR_RUNTIME;
    }
}

int mk_errno_from_umf(umf_result_t r) {
    bool inval = r == UMF_RESULT_ERROR_INVALID_ALIGNMENT || r == UMF_RESULT_ERROR_INVALID_ARGUMENT;
    return inval ? EINVAL : ENOMEM;
}

// Every memkind code: its name (for log lines) and memkind's message
// (TOOMANY's is formatted; EINVAL and ENOMEM are errno values memkind
// reports too and have no name of their own).
#define E(code, text) {code, #code, text}
static const struct {
    int code;
    const char *name, *text;
} errors[] = {
    E(MEMKIND_SUCCESS, "<memkind> Success"),
    E(MEMKIND_ERROR_UNAVAILABLE, "<memkind> Requested memory kind is not available"),
    E(MEMKIND_ERROR_MBIND, "<memkind> Binding memory to NUMA nodes (mbind) failed"),
    E(MEMKIND_ERROR_MMAP, "<memkind> Mapping memory (mmap) failed"),
    E(MEMKIND_ERROR_MALLOC, "<memkind> Allocating internal memory failed"),
    E(MEMKIND_ERROR_ENVIRON, "<memkind> Error parsing environment variable (MEMKIND_*)"),
    E(MEMKIND_ERROR_INVALID, "<memkind> Invalid input arguments to memkind routine"),
    E(MEMKIND_ERROR_TOOMANY, NULL),
    E(MEMKIND_ERROR_BADOPS, "<memkind> memkind_ops structure is missing or malformed"),
    E(MEMKIND_ERROR_HUGETLB, "<memkind> Unable to allocate huge pages"),
    E(MEMKIND_ERROR_MEMTYPE_NOT_AVAILABLE, "<memkind> Requested memory type is not available"),
    E(MEMKIND_ERROR_OPERATION_FAILED, "<memkind> Operation failed"),
    E(MEMKIND_ERROR_ARENAS_CREATE, "<memkind> Creating the kind's heap (arenas) failed"),
    E(MEMKIND_ERROR_RUNTIME, "<memkind> Unspecified run-time error"),
    {EINVAL, NULL, "<memkind> Alignment must be a power of two and a multiple of sizeof(void *)"},
    {ENOMEM, NULL, "<memkind> Not enough memory of the kind to satisfy the request"},
};

int mk_log_error(const char *fn, int err) {
    LOG_ERR("%s: %s%s", fn, err == MEMKIND_ERROR_ENVIRON ? "a MEMKIND_* variable is malformed: " : "",
            mk_error_name(err));
    return err;
}

const char *mk_error_name(int err) {
    for (size_t i = 0; i < ARRAY_SIZE(errors); i++)
        if (errors[i].code == err && errors[i].name)
            return errors[i].name;
    return "an unknown memkind error";
}

HETMEM_EXPORT void memkind_error_message(int err, char *msg, size_t size) {
    if (!msg || size == 0)
        return;
    if (err == MEMKIND_ERROR_TOOMANY) {
        snprintf(msg, size,
                 "<memkind> Attempted to initialize more than maximum (%d) number of kinds",
                 MEMKIND_MAX_KIND);
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
        if (errors[i].code == err && errors[i].text) {
            snprintf(msg, size, "%s", errors[i].text);
            return;
        }
    }
    snprintf(msg, size, "<memkind> Undefined error number: %d", err);
}
