// SPDX-License-Identifier: MIT
// The one reporting helper of the UMF example scenarios (tests/umf_examples):
// one "ok"/"not ok" line per check; ex_done() is the exit status.
#ifndef HETMEM_EX_CHECK_H
#define HETMEM_EX_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int ex_failures;
static int ex_checks;

static void ex_check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ex_check(bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s", ok ? "ok - " : "not ok - ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    ex_failures += !ok;
    ex_checks++;
}

/// 0 when at least one check ran and none failed, else 1.
static int ex_done(void) {
    printf("%d checks, %d failed\n", ex_checks, ex_failures);
    return ex_checks > 0 && ex_failures == 0 ? 0 : 1;
}

#endif
