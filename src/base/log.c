// SPDX-License-Identifier: MIT
// The non-allocating logger (see log.h). The level is parsed once from the
// environment; a malformed value is itself reported once and leaves logging
// at ERROR so that the user sees why their setting had no effect.
#include "base/log.h"
#include "base/assert.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int level_cached = -1;
static pthread_once_t level_once = PTHREAD_ONCE_INIT;
static bool level_env_bad;
static char level_env_bad_name[32];

// Rate limit: at most LOG_BURST lines in any one-second window.
#define LOG_BURST 200
static _Atomic long window_start;
static _Atomic int window_count;
static _Atomic bool window_warned;

static __thread bool in_log; // recursion guard

static int parse_level(const char *s, bool *ok) {
    static const struct {
        const char *name;
        int level;
    } names[] = {{"off", 0},   {"none", 0},    {"error", 1}, {"err", 1},  {"warn", 2},
                 {"warning", 2}, {"info", 3}, {"debug", 4}, {"all", 4}};
    *ok = true;
    if (s[0] >= '0' && s[0] <= '9' && s[1] == '\0')
        return s[0] - '0' > 4 ? 4 : s[0] - '0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].level;
    *ok = false;
    return LOG_LEVEL_ERROR;
}

static void level_init(void) {
    int lvl = LOG_LEVEL_OFF;
    bool ok = true;
    const char *v;
    if ((v = getenv("MEMKIND_DEBUG")) && v[0]) {
        if (strcmp(v, "1") == 0)
            lvl = LOG_LEVEL_INFO;
        else if (strcmp(v, "0") != 0) {
            ok = false;
            snprintf(level_env_bad_name, sizeof level_env_bad_name, "MEMKIND_DEBUG");
        }
    }
    if ((v = getenv("UMF_LOG")) && v[0]) {
        // UMF syntax: "level:debug;flush:info;output:stderr" - we read level.
        const char *l = strstr(v, "level:");
        char buf[16] = {0};
        if (l) {
            l += 6;
            size_t n = strcspn(l, ";");
            if (n < sizeof buf)
                memcpy(buf, l, n);
            bool ok2;
            int u = parse_level(buf, &ok2);
            if (ok2 && u > lvl)
                lvl = u;
            if (!ok2) {
                ok = false;
                snprintf(level_env_bad_name, sizeof level_env_bad_name, "UMF_LOG");
            }
        } else if (lvl < LOG_LEVEL_ERROR)
            lvl = LOG_LEVEL_ERROR; // UMF_LOG set without a level: errors only
    }
    if ((v = getenv("HETMEM_LOG")) && v[0]) {
        bool ok2;
        int h = parse_level(v, &ok2);
        if (ok2)
            lvl = h;
        else {
            ok = false;
            snprintf(level_env_bad_name, sizeof level_env_bad_name, "HETMEM_LOG");
        }
    }
    if (!ok) {
        level_env_bad = true;
        if (lvl < LOG_LEVEL_ERROR)
            lvl = LOG_LEVEL_ERROR;
    }
    if (atomic_load(&level_cached) < 0)
        atomic_store(&level_cached, lvl);
}

log_level_t log_level(void) {
    int l = atomic_load_explicit(&level_cached, memory_order_relaxed);
    if (__builtin_expect(l >= 0, 1))
        return (log_level_t)l;
    pthread_once(&level_once, level_init);
    if (level_env_bad) {
        static bool once;
        log_write_once(&once, LOG_LEVEL_ERROR, "log_level",
                       "malformed %s value ignored (use off|error|warn|info|debug)",
                       level_env_bad_name);
    }
    return (log_level_t)atomic_load(&level_cached);
}

void log_set_level(log_level_t level) {
    pthread_once(&level_once, level_init);
    atomic_store(&level_cached, (int)level);
}

static bool rate_ok(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    long now = (long)ts.tv_sec;
    long start = atomic_load_explicit(&window_start, memory_order_relaxed);
    if (now != start &&
        atomic_compare_exchange_strong(&window_start, &start, now)) {
        atomic_store(&window_count, 0);
        atomic_store(&window_warned, false);
    }
    return atomic_fetch_add_explicit(&window_count, 1, memory_order_relaxed) < LOG_BURST;
}

static void vwrite(log_level_t level, const char *func, const char *fmt, va_list ap) {
    static const char *const names[] = {"OFF", "ERROR", "WARN", "INFO", "DEBUG"};
    if (in_log)
        return;
    in_log = true;
    if (!rate_ok()) {
        bool was = false;
        if (atomic_compare_exchange_strong(&window_warned, &was, true)) {
            static const char m[] = "hetmem WARN [log] too many messages, some dropped\n";
            ssize_t r = write(STDERR_FILENO, m, sizeof m - 1);
            (void)r;
        }
        in_log = false;
        return;
    }
    char buf[512];
    int n = snprintf(buf, sizeof buf, "hetmem %s [%s] ", names[level], func);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof buf) {
        int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
        if (m > 0)
            n += m;
    }
    if ((size_t)n >= sizeof buf - 1)
        n = sizeof buf - 2;
    buf[n++] = '\n';
    ssize_t r = write(STDERR_FILENO, buf, (size_t)n);
    (void)r;
    in_log = false;
}

// The caller's errno survives the write.
#define WRITE_VARARGS(level, func, fmt)                                                            \
    do {                                                                                           \
        int saved = errno;                                                                         \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        vwrite(level, func, fmt, ap);                                                              \
        va_end(ap);                                                                                \
        errno = saved;                                                                             \
    } while (0)

void log_write(log_level_t level, const char *func, const char *fmt, ...) {
    WRITE_VARARGS(level, func, fmt);
}

const char *log_strerror(int err, char *buf, unsigned len) {
    if (!buf || len == 0)
        return "unknown error";
    int saved = errno;
    // GNU strerror_r (_GNU_SOURCE): returns the text, in buf or static.
    const char *s = strerror_r(err, buf, len);
    errno = saved;
    return s ? s : "unknown error";
}

const char *log_umf_result(int result) {
    switch (result) {
    case 0: return "UMF_RESULT_SUCCESS";
    case 1: return "UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY";
    case 2: return "UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC";
    case 3: return "UMF_RESULT_ERROR_INVALID_ARGUMENT";
    case 4: return "UMF_RESULT_ERROR_INVALID_ALIGNMENT";
    case 5: return "UMF_RESULT_ERROR_NOT_SUPPORTED";
    case 6: return "UMF_RESULT_ERROR_USER_SPECIFIC";
    case 7: return "UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE";
    case 8: return "UMF_RESULT_ERROR_OUT_OF_RESOURCES";
    case 0x7ffffffe: return "UMF_RESULT_ERROR_UNKNOWN";
    default: return "unknown UMF result";
    }
}

void log_write_once(bool *once, log_level_t level, const char *func, const char *fmt, ...) {
    if (__atomic_exchange_n(once, true, __ATOMIC_ACQ_REL))
        return;
    if (log_level() >= level)
        WRITE_VARARGS(level, func, fmt);
}

void log_assert_fail(const char *cond, const char *file, int line, const char *func) {
    char buf[512];
    int n = snprintf(buf, sizeof buf, "hetmem: %s:%d: %s: assertion `%s' failed\n", file, line,
                     func, cond);
    if (n > 0)
        (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
    abort();
}
