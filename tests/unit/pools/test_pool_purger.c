// SPDX-License-Identifier: MIT
// The background purger (pool_purger_set): it calls its function about
// once a period while on, not at all once off, replaces the function when
// set on again, refuses a missing function or period, and a forked child
// starts without it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pools/pool.h"

static _Atomic int calls_a, calls_b;
static void count_a(void *arg) { atomic_fetch_add((_Atomic int *)arg, 1); }
static void count_b(void *arg) { atomic_fetch_add((_Atomic int *)arg, 1); }

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

// Waits up to 2 s for *c to reach n.
static int wait_for(_Atomic int *c, int n) {
    for (int i = 0; i < 200 && atomic_load(c) < n; i++)
        sleep_ms(10);
    return atomic_load(c);
}

static void test_purger(void **state) {
    (void)state;
    assert_false(pool_purger_running());
    assert_int_equal(pool_purger_set(true, 10, NULL, NULL), EINVAL);
    assert_int_equal(pool_purger_set(true, 0, count_a, &calls_a), EINVAL);
    assert_false(pool_purger_running());

    assert_int_equal(pool_purger_set(true, 10, count_a, &calls_a), 0);
    assert_true(pool_purger_running());
    assert_true(wait_for(&calls_a, 3) >= 3);

    assert_int_equal(pool_purger_set(true, 10, count_b, &calls_b), 0); // replaces fn
    assert_true(wait_for(&calls_b, 2) >= 2);
    int a = atomic_load(&calls_a);
    sleep_ms(50);
    assert_int_equal(atomic_load(&calls_a), a); // count_a no longer called

    assert_int_equal(pool_purger_set(false, 0, NULL, NULL), 0);
    assert_false(pool_purger_running());
    int b = atomic_load(&calls_b);
    sleep_ms(50);
    assert_int_equal(atomic_load(&calls_b), b); // stopped
    assert_int_equal(pool_purger_set(false, 0, NULL, NULL), 0); // off twice: nothing
}

static void test_fork_child(void **state) {
    (void)state;
    assert_int_equal(pool_purger_set(true, 10, count_a, &calls_a), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) // the child: no thread, nothing to join (threads after a
                  // multi-threaded fork are not for sanitizers)
        _exit(pool_purger_running() ? 1 : pool_purger_set(false, 0, NULL, NULL) != 0 ? 2 : 0);
    int st = -1;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_true(pool_purger_running()); // the parent's thread is untouched
    assert_int_equal(pool_purger_set(false, 0, NULL, NULL), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_purger),
                                       cmocka_unit_test(test_fork_child)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
