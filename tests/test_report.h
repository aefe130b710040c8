// SPDX-License-Identifier: MIT
// "ok - ..." / "not ok - ..." lines of the test programs that are not cmocka
// tests (guest programs, ABI programs): report() prints one and counts the
// failures in report_failures; the program exits 1 when it is not 0.
#ifndef HETMEM_TEST_REPORT_H
#define HETMEM_TEST_REPORT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int report_failures;

static void report(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static void report(bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s - ", ok ? "ok" : "not ok");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    if (!ok)
        report_failures++;
}

#endif // HETMEM_TEST_REPORT_H
