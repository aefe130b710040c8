// SPDX-License-Identifier: MIT
// Ranked locks (src/base/lock.c): the witness and the registry fork walks.
// This test is built in every build with its own copy of lock.c compiled
// with HETMEM_DEBUG=1 (tests/unit/base/CMakeLists.txt), so the witness is
// tested in release builds too. Violations run in a forked child, which
// must die by SIGABRT after printing both locks' names.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/assert.h"
#include "base/lock.h"

#if HETMEM_DEBUG < 1
#error "test_lock is compiled with HETMEM_DEBUG=1 (the witness under test)"
#endif

static lock_t reg_lock, heap_a, heap_b, tracker_lock, meta_lock;

static int setup(void **state) {
    (void)state;
    lock_init(&reg_lock, LOCK_RANK_HEAP_REGISTRY, "test registry");
    lock_init(&heap_a, LOCK_RANK_HEAP, "test heap A");
    lock_init(&heap_b, LOCK_RANK_HEAP, "test heap B");
    lock_init(&tracker_lock, LOCK_RANK_TRACKER, "test tracker");
    lock_init(&meta_lock, LOCK_RANK_META, "test meta");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    lock_fini(&meta_lock);
    lock_fini(&tracker_lock);
    lock_fini(&heap_b);
    lock_fini(&heap_a);
    lock_fini(&reg_lock);
    return 0;
}

// Runs fn in a child with stderr captured; returns its wait status and
// what it wrote (NUL-terminated, truncated to n - 1).
static int run_child(void (*fn)(void), char *out, size_t n) {
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd[1], 2);
        close(fd[0]);
        alarm(10);
        fn();
        _exit(0); // fn was expected to abort
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < n && (r = read(fd[0], out + len, n - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    close(fd[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static void expect_abort(void (*fn)(void), const char *const *needles) {
    char out[1024];
    int st = run_child(fn, out, sizeof out);
    if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGABRT)
        fail_msg("child did not abort: %s %d; stderr: %s", WIFEXITED(st) ? "exit" : "signal",
                 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), out);
    for (; *needles; needles++)
        if (!strstr(out, *needles))
            fail_msg("stderr lacks \"%s\": %s", *needles, out);
}

// ---- the witness ------------------------------------------------------------------

static void lower_under_higher(void) {
    lock_acquire(&heap_a);
    lock_acquire(&reg_lock); // HEAP_REGISTRY is below HEAP
}

static void taking_lower_rank_aborts(void **state) {
    (void)state;
    const char *const want[] = {"lock order violation", "\"test registry\"", "\"test heap A\"",
                                NULL};
    expect_abort(lower_under_higher, want);
}

static void equal_ranks_nest(void) {
    lock_acquire(&heap_a);
    lock_acquire(&heap_b);
}

static void equal_ranks_abort(void **state) {
    (void)state;
    const char *const want[] = {"\"test heap B\"", "\"test heap A\"", NULL};
    expect_abort(equal_ranks_nest, want);
}

static void deep_violation(void) {
    lock_acquire(&reg_lock);
    lock_acquire(&heap_a);
    lock_acquire(&meta_lock);
    lock_acquire(&tracker_lock); // below meta, above the others
}

static void violation_names_the_higher_lock(void **state) {
    (void)state;
    const char *const want[] = {"\"test tracker\"", "\"test meta\"", NULL};
    expect_abort(deep_violation, want);
}

static void release_unheld(void) { lock_release(&tracker_lock); }

static void releasing_unheld_aborts(void **state) {
    (void)state;
    const char *const want[] = {"releasing a lock not held", "\"test tracker\"", NULL};
    expect_abort(release_unheld, want);
}

static void fini_held(void) {
    lock_acquire(&meta_lock);
    lock_fini(&meta_lock);
}

static void finishing_a_held_lock_aborts(void **state) {
    (void)state;
    const char *const want[] = {"assertion", "lock.c", NULL};
    expect_abort(fini_held, want);
}

static void assert_false_cond(void) {
    int two = 2;
    HM_ASSERT(two == 3);
}

static void hm_assert_aborts_with_file_and_line(void **state) {
    (void)state;
    const char *const want[] = {"test_lock.c:", "assertion `two == 3' failed", NULL};
    expect_abort(assert_false_cond, want);
}

static void in_order_passes_and_counts(void **state) {
    (void)state;
    assert_int_equal(lock_held_count(), 0);
    lock_acquire(&reg_lock);
    lock_acquire(&heap_a);
    lock_acquire(&tracker_lock);
    lock_acquire(&meta_lock);
    assert_int_equal(lock_held_count(), 4);
    lock_release(&heap_a); // not last-in-first-out: fine
    assert_int_equal(lock_held_count(), 3);
    lock_release(&meta_lock);
    lock_release(&tracker_lock);
    lock_acquire(&heap_b); // a HEAP lock again: only the registry is held
    assert_int_equal(lock_held_count(), 2);
    lock_release(&heap_b);
    lock_release(&reg_lock);
    assert_int_equal(lock_held_count(), 0);
}

static void trylock_out_of_order_passes(void **state) {
    (void)state;
    lock_acquire(&meta_lock);
    assert_true(lock_try(&reg_lock)); // a trylock cannot deadlock: not checked
    assert_true(lock_try(&heap_a));
    assert_int_equal(lock_held_count(), 3);
    lock_release(&heap_a);
    lock_release(&reg_lock);
    lock_release(&meta_lock);
    assert_int_equal(lock_held_count(), 0);
}

// ---- fork walks ---------------------------------------------------------------------

static atomic_int probe_result;
static lock_t *probe_target;
static void *probe(void *arg) {
    (void)arg;
    bool got = lock_try(probe_target);
    if (got)
        lock_release(probe_target);
    atomic_store(&probe_result, got);
    return NULL;
}

// Whether another thread can take l now.
static bool free_for_others(lock_t *l) {
    pthread_t t;
    probe_target = l;
    assert_int_equal(pthread_create(&t, NULL, probe, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    return atomic_load(&probe_result);
}

// The walk in two parts (a library's locks between two ranks: jemalloc).
static void walk_stops_below_a_rank(void **state) {
    (void)state;
    lock_fork_prepare_below(LOCK_RANK_TRACKER);
    assert_false(free_for_others(&reg_lock));
    assert_false(free_for_others(&heap_a));
    assert_false(free_for_others(&heap_b));
    assert_true(free_for_others(&tracker_lock));
    assert_true(free_for_others(&meta_lock));
    lock_fork_prepare();
    assert_false(free_for_others(&tracker_lock));
    assert_false(free_for_others(&meta_lock));
    lock_fork_parent();
    lock_fork_parent(); // a second release is a no-op
    assert_true(free_for_others(&reg_lock));
    assert_true(free_for_others(&heap_a));
    assert_true(free_for_others(&meta_lock));
    assert_int_equal(lock_held_count(), 0);
}

// Threads that hold locks across lock_init/lock_fini (a pool created under a
// front end's lock) and take every rank, while the main thread forks: the
// walk must neither deadlock with them nor leave a child a held lock.
enum { FORKS = 40, MANY = 150 };
static atomic_bool stop;
static lock_t many[MANY]; // more than TSan's 64 held locks

static void *churn(void *arg) {
    unsigned r = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop)) {
        r = r * 1103515245u + 12345u;
        lock_acquire(&reg_lock);
        lock_t *h = (r >> 16) & 1 ? &heap_a : &heap_b;
        lock_acquire(h);
        lock_t *m = &many[(r >> 8) % MANY];
        lock_acquire(m);
        lock_t tmp; // created and destroyed with three locks held
        lock_init(&tmp, LOCK_RANK_RANGE_ALLOC, "test tmp");
        lock_acquire(&tmp);
        lock_release(&tmp);
        lock_fini(&tmp);
        lock_release(m);
        lock_release(h);
        lock_release(&reg_lock);
        lock_acquire(&tracker_lock);
        lock_acquire(&meta_lock);
        lock_release(&meta_lock);
        lock_release(&tracker_lock);
    }
    return NULL;
}

static int child_takes_all(void) {
    lock_t *all[] = {&reg_lock, &heap_a, &heap_b, &tracker_lock, &meta_lock};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!lock_try(all[i]))
            return 10 + (int)i;
        lock_release(all[i]);
    }
    for (int i = 0; i < MANY; i++) {
        if (!lock_try(&many[i]))
            return 2;
        lock_release(&many[i]);
    }
    return lock_held_count() == 0 ? 0 : 3;
}

static void fork_while_threads_hold_locks(void **state) {
    (void)state;
    for (int i = 0; i < MANY; i++)
        lock_init(&many[i], LOCK_RANK_PROVIDER, "test many");
    unsigned seed = (unsigned)time(NULL);
    const char *s = getenv("HETMEM_TEST_SEED");
    if (s)
        seed = (unsigned)strtoul(s, NULL, 0);
    printf("fork_while_threads_hold_locks: seed %u (HETMEM_TEST_SEED to replay)\n", seed);
    pthread_t t[3];
    atomic_store(&stop, false);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(seed + i)), 0);
    int hung = 0, failed = 0, first = 0;
    for (int k = 0; k < FORKS; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            alarm(10); // a lock inherited held: the child dies by SIGALRM
            _exit(child_takes_all());
        }
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st))
            hung++;
        else if (WEXITSTATUS(st) && !failed++)
            first = WEXITSTATUS(st);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < MANY; i++)
        lock_fini(&many[i]);
    assert_int_equal(hung, 0);
    if (failed)
        fail_msg("%d of %d children found a lock held (first status %d)", failed, FORKS, first);
}

int main(void) {
    printf("test_lock: witness compiled in (HETMEM_DEBUG=1 here; the library's build has "
           "HETMEM_DEBUG=%d)\n",
           HETMEM_LIB_DEBUG);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(taking_lower_rank_aborts),
        cmocka_unit_test(equal_ranks_abort),
        cmocka_unit_test(violation_names_the_higher_lock),
        cmocka_unit_test(releasing_unheld_aborts),
        cmocka_unit_test(finishing_a_held_lock_aborts),
        cmocka_unit_test(hm_assert_aborts_with_file_and_line),
        cmocka_unit_test(in_order_passes_and_counts),
        cmocka_unit_test(trylock_out_of_order_passes),
        cmocka_unit_test(walk_stops_below_a_rank),
        cmocka_unit_test(fork_while_threads_hold_locks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
