// SPDX-License-Identifier: MIT
// os_mpol_supported: the answer for each mode against the running kernel's
// version (MPOL_PREFERRED_MANY since 5.15, MPOL_WEIGHTED_INTERLEAVE since
// 6.9), modes out of range, and the test hook that forces "not supported".
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <sys/utsname.h>

#include "os/os.h"

// The running kernel is at least major.minor (uname's release).
static bool kernel_at_least(unsigned major, unsigned minor) {
    struct utsname u;
    unsigned a = 0, b = 0;
    assert_int_equal(uname(&u), 0);
    assert_int_equal(sscanf(u.release, "%u.%u", &a, &b), 2);
    return a > major || (a == major && b >= minor);
}

static void modes_by_kernel_version(void **state) {
    (void)state;
    assert_true(os_mpol_supported(OS_MPOL_DEFAULT));
    assert_true(os_mpol_supported(OS_MPOL_PREFERRED));
    assert_true(os_mpol_supported(OS_MPOL_BIND));
    assert_true(os_mpol_supported(OS_MPOL_INTERLEAVE));
    assert_int_equal(os_mpol_supported(OS_MPOL_PREFERRED_MANY), kernel_at_least(5, 15));
    assert_int_equal(os_mpol_supported(OS_MPOL_WEIGHTED_INTERLEAVE), kernel_at_least(6, 9));
    // Asked again: the same (cached) answer.
    assert_int_equal(os_mpol_supported(OS_MPOL_PREFERRED_MANY), kernel_at_least(5, 15));
}

static void out_of_range(void **state) {
    (void)state;
    assert_false(os_mpol_supported((os_mpol_t)7));
    assert_false(os_mpol_supported((os_mpol_t)-1));
}

static void hook_forces_unsupported(void **state) {
    (void)state;
    os_mpol_unsupported_for_testing(OS_MPOL_PREFERRED_MANY, true);
    assert_false(os_mpol_supported(OS_MPOL_PREFERRED_MANY));
    assert_true(os_mpol_supported(OS_MPOL_BIND)); // other modes untouched
    os_mpol_unsupported_for_testing(OS_MPOL_PREFERRED_MANY, false);
    assert_int_equal(os_mpol_supported(OS_MPOL_PREFERRED_MANY), kernel_at_least(5, 15));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(modes_by_kernel_version),
        cmocka_unit_test(out_of_range),
        cmocka_unit_test(hook_forces_unsupported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
