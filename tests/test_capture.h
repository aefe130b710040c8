// SPDX-License-Identifier: MIT
// stderr of a cmocka test, captured around the calls whose log lines are
// checked (main thread only):
//
//   capture_begin();
//   ... calls that must log ...
//   const char *log = capture_end(); // also echoed to the real stderr
//   assert_non_null(strstr(log, "refused"));
//
// The logger drops lines beyond 200 a second (src/base/log.c), so a capture
// starts in a fresh one-second window; keep each under 200 lines.
#ifndef HETMEM_TEST_CAPTURE_H
#define HETMEM_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static char captured[32768];
static int cap_fd = -1, cap_saved = -1;
static char cap_path[64];

static inline void fresh_log_window(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    struct timespec rest = {0, 1000000000L - now.tv_nsec + 20000000L};
    if (rest.tv_nsec >= 1000000000L)
        rest = (struct timespec){1, rest.tv_nsec - 1000000000L};
    nanosleep(&rest, NULL);
}

static inline void capture_begin(void) {
    fresh_log_window();
    snprintf(cap_path, sizeof cap_path, "/tmp/hetmem-capture-XXXXXX");
    cap_fd = mkstemp(cap_path);
    assert_true(cap_fd >= 0);
    fflush(stderr);
    cap_saved = dup(2);
    dup2(cap_fd, 2);
}

static inline const char *capture_end(void) {
    fflush(stderr);
    dup2(cap_saved, 2);
    close(cap_saved);
    lseek(cap_fd, 0, SEEK_SET);
    ssize_t n = read(cap_fd, captured, sizeof captured - 1);
    captured[n > 0 ? n : 0] = '\0';
    close(cap_fd);
    unlink(cap_path);
    fputs(captured, stderr); // still visible in the test's output
    return captured;
}

#endif // HETMEM_TEST_CAPTURE_H
