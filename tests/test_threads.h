// SPDX-License-Identifier: MIT
// Checks made on other threads than the main one. cmocka's assert_*() and
// fail() may only run on the thread that runs the test (they longjmp into
// its frame), so a thread records what went wrong and the main thread,
// after pthread_join, asserts that nothing did:
//
//   static void *worker(void *arg) {
//       void *p = umfPoolMalloc(pool, 64);
//       if (!THREAD_CHECK(p != NULL))
//           return NULL;
//       ...
//   }
//   ... pthread_join(...) ...;
//   assert_thread_checks(); // fails with the count and the first message
#ifndef HETMEM_TEST_THREADS_H
#define HETMEM_TEST_THREADS_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct thread_checks_t {
    atomic_long failed;
    atomic_flag first_taken;
    char first[400]; // the first failure's "file:line: what"
} thread_checks_t;

static thread_checks_t test_thread_checks_ = {0, ATOMIC_FLAG_INIT, ""};

static inline void thread_check_failed(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void thread_check_failed(const char *file, int line, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: thread check failed: %s\n", file, line, msg);
    if (!atomic_flag_test_and_set(&test_thread_checks_.first_taken))
        snprintf(test_thread_checks_.first, sizeof test_thread_checks_.first, "%s:%d: %s", file,
                 line, msg);
    atomic_fetch_add(&test_thread_checks_.failed, 1); // after `first` (release)
}

/// On any thread: true when cond holds; otherwise records the failure and is false.
#define THREAD_CHECK(cond)                                                                        \
    ((cond) ? true : (thread_check_failed(__FILE__, __LINE__, "%s", #cond), false))

/// As THREAD_CHECK, with a printf-style message.
#define THREAD_CHECK_MSG(cond, ...)                                                               \
    ((cond) ? true : (thread_check_failed(__FILE__, __LINE__, __VA_ARGS__), false))

/// Failures recorded so far (and forgets them).
static inline long thread_checks_take(char *first, size_t len) {
    long n = atomic_load(&test_thread_checks_.failed);
    if (first && len)
        snprintf(first, len, "%s", n ? test_thread_checks_.first : "");
    atomic_store(&test_thread_checks_.failed, 0);
    atomic_flag_clear(&test_thread_checks_.first_taken);
    return n;
}

#ifdef cmocka_unit_test
/// Main thread, after joining the threads: fails the test if any check failed.
#define assert_thread_checks()                                                                    \
    do {                                                                                          \
        char first_[400];                                                                         \
        long n_ = thread_checks_take(first_, sizeof first_);                                      \
        if (n_)                                                                                   \
            fail_msg("%ld check(s) failed on other threads; first: %s", n_, first_);              \
    } while (0)
#endif

#endif // HETMEM_TEST_THREADS_H
