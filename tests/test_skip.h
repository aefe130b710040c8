// SPDX-License-Identifier: MIT
// The one way a C test skips (tests/test_skip.sh is the shell twin).
//
// A skip always prints its reason: "SKIP: <reason>". In strict mode
// (HETMEM_REQUIRE_ALL=1, which .ci/run exports) a skip is a failure instead:
// the build expects every dependency a test needs, so the test prints
// "REQUIRED but skipped: <reason>" and fails.
//
//   return test_skip_status("no devdax device %s", dev);   // from main: 77, or 1
//   TEST_SKIP("numactl not found");   // inside a cmocka test (include cmocka.h first):
//                                     // cmocka's skip(), or fail_msg() when strict
//   return test_skip_result(cmocka_run_group_tests(tests, NULL, NULL));
//                                     // main: 77 when all passed but one skipped
//
// A cmocka skip() alone is invisible to ctest (the binary still exits 0), which is
// why tests use TEST_SKIP and test_skip_result, never skip() directly.
#ifndef HETMEM_TEST_SKIP_H
#define HETMEM_TEST_SKIP_H

#include <errno.h> // for callers that print strerror(errno)
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// True when HETMEM_REQUIRE_ALL is set to anything but "" or "0".
static inline bool test_require_all(void) {
    const char *v = getenv("HETMEM_REQUIRE_ALL");
    return v && *v && strcmp(v, "0") != 0;
}

/// Prints the reason (stdout and stderr, flushed) and returns true when the
/// skip must fail the test (strict mode).
static inline bool test_skip_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline bool test_skip_note(const char *fmt, ...) {
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    bool strict = test_require_all();
    const char *tag = strict ? "REQUIRED but skipped" : "SKIP";
    fflush(stdout);
    printf("%s: %s%s\n", tag, why, strict ? " (HETMEM_REQUIRE_ALL=1)" : "");
    fflush(stdout);
    fprintf(stderr, "%s: %s\n", tag, why);
    return strict;
}

/// For main(): the exit status of a skipped test binary: 77 (ctest's
/// SKIP_RETURN_CODE), or 1 in strict mode.
#define test_skip_status(...) (test_skip_note(__VA_ARGS__) ? 1 : 77)

/// Exits the process as a skip (77, or 1 in strict mode); for helpers that run
/// outside cmocka's test functions.
#define test_skip_exit(...)                                                                        \
    do {                                                                                           \
        int test_skip_rc_ = test_skip_status(__VA_ARGS__);                                         \
        fflush(NULL);                                                                              \
        exit(test_skip_rc_);                                                                       \
    } while (0)

#ifdef cmocka_unit_test
static int test_skips_; // TEST_SKIPs of this run (main thread only)

/// Inside a cmocka test function (main thread only).
#define TEST_SKIP(...)                                                                             \
    do {                                                                                           \
        if (test_skip_note(__VA_ARGS__))                                                           \
            fail_msg("REQUIRED but skipped (HETMEM_REQUIRE_ALL=1)");                                \
        test_skips_++;                                                                             \
        skip();                                                                                    \
    } while (0)

/// main()'s status from cmocka's: 77 (ctest shows "Skipped") when every test
/// passed but some skipped, so that a skip is visible in the summary too.
static inline int test_skip_result(int cmocka_rc) {
    return cmocka_rc == 0 && test_skips_ ? 77 : cmocka_rc;
}
#endif

#endif // HETMEM_TEST_SKIP_H
