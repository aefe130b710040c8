// SPDX-License-Identifier: MIT
// Logging for every layer: off by default, switched on by HETMEM_LOG=level
// (error|warn|info|debug or 0..4), MEMKIND_DEBUG=1 (info) or UMF_LOG
// (level:error|warning|info|debug, as UMF spells it). Messages never allocate
// (formatted on the stack, one write(2) each), are rate-limited and have a
// recursion guard, so the allocator itself may log.
#ifndef HETMEM_BASE_LOG_H
#define HETMEM_BASE_LOG_H

#include <stdbool.h>

typedef enum log_level_t {
    LOG_LEVEL_OFF = 0,
    LOG_LEVEL_ERROR = 1,
    LOG_LEVEL_WARN = 2,
    LOG_LEVEL_INFO = 3,
    LOG_LEVEL_DEBUG = 4,
} log_level_t;

/// The level in force, read from the environment once (thread-safe).
log_level_t log_level(void);

/// Overrides the level (tests, tools with a -v flag).
void log_set_level(log_level_t level);

/// Writes one line "hetmem <LEVEL> [func] message" to stderr. errno is
/// left as the caller had it (logging never changes errno).
void log_write(log_level_t level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/// Like log_write, but once per process for a given `once` flag: for
/// configuration errors (a malformed environment variable) that would
/// otherwise repeat on every call.
void log_write_once(bool *once, log_level_t level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/// The text of an errno value ("No such file or directory"), thread-safe
/// (strerror_r into buf); never NULL. For log lines: "(errno N)" tells a
/// user nothing.
const char *log_strerror(int err, char *buf, unsigned len);

/// The name of a UMF result code ("UMF_RESULT_ERROR_INVALID_ARGUMENT"),
/// or "unknown UMF result" for a value outside the table (int, so that
/// layers without the UMF headers can use it).
const char *log_umf_result(int result);

/// errno text for a log line, formatted on the caller's stack:
///   LOG_ERR("open %s: %s", path, LOG_STRERROR(e));
#define LOG_STRERROR(e) log_strerror((e), (char[96]){0}, 96)

#define LOG_AT(lvl, ...)                                                                          \
    do {                                                                                           \
        if (log_level() >= (lvl))                                                                  \
            log_write((lvl), __func__, __VA_ARGS__);                                               \
    } while (0)

#define LOG_ERR(...) LOG_AT(LOG_LEVEL_ERROR, __VA_ARGS__)
#define LOG_WARN(...) LOG_AT(LOG_LEVEL_WARN, __VA_ARGS__)
#define LOG_INFO(...) LOG_AT(LOG_LEVEL_INFO, __VA_ARGS__)
#if HETMEM_DEBUG > 0
#define LOG_DEBUG(...) LOG_AT(LOG_LEVEL_DEBUG, __VA_ARGS__)
#else
#define LOG_DEBUG(...)                                                                             \
    do {                                                                                           \
    } while (0)
#endif

/// The body of a params setter (umf*ParamsSet*): a NULL handle `h`, or a
/// value for which `ok` is false (logged with the printf-style rest), is
/// UMF_RESULT_ERROR_INVALID_ARGUMENT; otherwise h->field = value. PARAMS_STORE:
/// any value.
#define PARAMS_SET(h, field, value, ok, ...)                                                      \
    do {                                                                                           \
        if (!(h) || !(ok)) {                                                                       \
            if (!(h))                                                                              \
                LOG_ERR("NULL params handle");                                                     \
            else                                                                                   \
                LOG_ERR(__VA_ARGS__);                                                              \
            return UMF_RESULT_ERROR_INVALID_ARGUMENT;                                              \
        }                                                                                          \
        (h)->field = (value);                                                                      \
        return UMF_RESULT_SUCCESS;                                                                 \
    } while (0)
#define PARAMS_STORE(h, field, value) PARAMS_SET(h, field, value, true, "unreachable")

#endif // HETMEM_BASE_LOG_H
