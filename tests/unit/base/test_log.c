// SPDX-License-Identifier: MIT
// The logger: levels from the environment (HETMEM_LOG, MEMKIND_DEBUG,
// UMF_LOG), malformed values, the once-only helper. Output goes to a pipe
// that replaces stderr, so the test reads what a user would see.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"

// Runs fn in a child with the given environment variable; returns what it
// wrote to stderr.
static void run_child(const char *var, const char *val, void (*fn)(void), char *out, size_t len) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsetenv("HETMEM_LOG");
        unsetenv("MEMKIND_DEBUG");
        unsetenv("UMF_LOG");
        if (var)
            setenv(var, val, 1);
        dup2(p[1], 2);
        fn();
        _exit(0);
    }
    close(p[1]);
    size_t n = 0;
    ssize_t r;
    while (n < len - 1 && (r = read(p[0], out + n, len - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(p[0]);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void emit(void) {
    LOG_ERR("err %d", 1);
    LOG_WARN("warn %d", 2);
    LOG_INFO("info %d", 3);
}

static void emit_once(void) {
    static bool once;
    for (int i = 0; i < 5; i++)
        log_write_once(&once, LOG_LEVEL_ERROR, "x", "only once %d", i);
}

static void off_by_default(void **state) {
    (void)state;
    char buf[4096];
    run_child(NULL, NULL, emit, buf, sizeof buf);
    assert_string_equal(buf, "");
}

static void hetmem_log_levels(void **state) {
    (void)state;
    char buf[4096];
    run_child("HETMEM_LOG", "warn", emit, buf, sizeof buf);
    assert_non_null(strstr(buf, "hetmem ERROR [emit] err 1"));
    assert_non_null(strstr(buf, "warn 2"));
    assert_null(strstr(buf, "info 3"));
    run_child("HETMEM_LOG", "4", emit, buf, sizeof buf);
    assert_non_null(strstr(buf, "info 3"));
}

static void memkind_debug_and_umf_log(void **state) {
    (void)state;
    char buf[4096];
    run_child("MEMKIND_DEBUG", "1", emit, buf, sizeof buf);
    assert_non_null(strstr(buf, "info 3"));
    run_child("UMF_LOG", "level:error;flush:error;output:stderr", emit, buf, sizeof buf);
    assert_non_null(strstr(buf, "err 1"));
    assert_null(strstr(buf, "warn 2"));
}

static void malformed_is_reported(void **state) {
    (void)state;
    char buf[4096];
    run_child("HETMEM_LOG", "loud", emit, buf, sizeof buf);
    assert_non_null(strstr(buf, "malformed HETMEM_LOG"));
    assert_non_null(strstr(buf, "err 1")); // falls back to errors
    run_child("MEMKIND_DEBUG", "yes", emit, buf, sizeof buf);
    assert_non_null(strstr(buf, "malformed MEMKIND_DEBUG"));
}

static void once_is_once(void **state) {
    (void)state;
    char buf[4096];
    run_child("HETMEM_LOG", "error", emit_once, buf, sizeof buf);
    char *first = strstr(buf, "only once 0");
    assert_non_null(first);
    assert_null(strstr(first + 1, "only once"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_by_default),          cmocka_unit_test(hetmem_log_levels),
        cmocka_unit_test(memkind_debug_and_umf_log), cmocka_unit_test(malformed_is_reported),
        cmocka_unit_test(once_is_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
