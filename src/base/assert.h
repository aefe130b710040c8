// SPDX-License-Identifier: MIT
// HM_ASSERT(cond): an internal invariant, checked in debug builds
// (HETMEM_DEBUG > 0: logs "file:line: function: assertion `cond' failed"
// to stderr with one write(2), then aborts) and compiled to nothing
// otherwise (cond is not evaluated). For invariants of the core's own
// data, never for checks of what a caller passed: those are refused with
// an error (STYLE.md section 4).
#ifndef HETMEM_BASE_ASSERT_H
#define HETMEM_BASE_ASSERT_H

/// Reports a failed HM_ASSERT and aborts (log.c; never allocates).
void log_assert_fail(const char *cond, const char *file, int line, const char *func)
    __attribute__((noreturn, cold));

#if HETMEM_DEBUG > 0
#define HM_ASSERT(cond)                                                                            \
    do {                                                                                           \
        if (__builtin_expect(!(cond), 0))                                                          \
            log_assert_fail(#cond, __FILE__, __LINE__, __func__);                                  \
    } while (0)
#else
#define HM_ASSERT(cond)                                                                            \
    do {                                                                                           \
        (void)sizeof(cond);                                                                        \
    } while (0)
#endif

#endif // HETMEM_BASE_ASSERT_H
