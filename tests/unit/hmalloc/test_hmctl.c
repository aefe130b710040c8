// SPDX-License-Identifier: MIT
// hmctl(8) as a user runs it: help and usage, every argument error (exit
// 125 and a message naming the problem, the command not run), exec
// failures (127, 126), the command's exit status passed through, the
// environment it exports (any node count: a fake 130-node topology), and,
// with hmalloc_probe, the policy a program's hmalloc pool really gets -
// while malloc memory and the process policy stay untouched, also under
// numactl and with malformed variables set by hand.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_trees.h"
#include "test_skip.h"

#ifndef HMCTL_BIN
#error "HMCTL_BIN must name the hmctl program"
#endif
#ifndef PROBE_BIN
#error "PROBE_BIN must name the hmalloc_probe program"
#endif

#define EXIT_HMCTL 125

static char tree_dir[PATH_MAX];
static char work_dir[PATH_MAX];

typedef struct run_t {
    int status; // exit status, or -1 when it did not exit normally
    char *out;
    char *err;
} run_t;

static char *slurp(int fd) {
    size_t cap = 1 << 14, n = 0;
    char *buf = malloc(cap);
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (n + 1 >= cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return buf;
}

// Runs argv (argv[0] a path) with extra NAME=VALUE settings in env (NULL
// ends both lists; "NAME=" with no value unsets NAME).
static run_t run_env(const char *const *env, const char *const *argv) {
    char po[] = "/tmp/hmctl-out-XXXXXX", pe[] = "/tmp/hmctl-err-XXXXXX";
    int fo = mkstemp(po), fe = mkstemp(pe);
    assert_true(fo >= 0 && fe >= 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (; env && *env; env++) {
            char name[128];
            const char *eq = strchr(*env, '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq - *env), *env);
            if (eq[1])
                setenv(name, eq + 1, 1);
            else
                unsetenv(name);
        }
        dup2(fo, STDOUT_FILENO);
        dup2(fe, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(99);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    run_t r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp(fo), slurp(fe)};
    close(fo);
    close(fe);
    unlink(po);
    unlink(pe);
    return r;
}

#define HMCTL(...) ((const char *const[]){HMCTL_BIN, __VA_ARGS__, NULL})
#define ENV(...) ((const char *const[]){__VA_ARGS__, NULL})

static void run_free(run_t *r) {
    free(r->out);
    free(r->err);
}

static void expect_contains(const char *text, const char *what, const char *where) {
    if (!strstr(text, what))
        fail_msg("%s lacks \"%s\":\n%s", where, what, text);
}

// hmctl refused its arguments: 125, a message with `reason`, a hint at
// --help, and the command (touch MARKER) not run.
static void expect_refused(const char *const *env, const char *const *argv, const char *reason) {
    char marker[PATH_MAX + 16];
    snprintf(marker, sizeof marker, "%s/ran", work_dir);
    unlink(marker);
    run_t r = run_env(env, argv);
    if (r.status != EXIT_HMCTL)
        fail_msg("%s %s ...: exit %d, want %d; stderr:\n%s", argv[1], argv[2] ? argv[2] : "",
                 r.status, EXIT_HMCTL, r.err);
    expect_contains(r.err, reason, "stderr");
    expect_contains(r.err, "hmctl: ", "stderr");
    expect_contains(r.err, "Try 'hmctl --help'", "stderr");
    assert_string_equal(r.out, "");
    assert_int_equal(access(marker, F_OK), -1);
    run_free(&r);
}

static const char *marker_cmd(void) {
    static char cmd[PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "touch %s/ran", work_dir);
    return cmd;
}

static int setup(void **state) {
    (void)state;
    snprintf(work_dir, sizeof work_dir, "/tmp/hmctl-test-XXXXXX");
    if (!mkdtemp(work_dir))
        return -1;
    if (fake_tree_create(tree_big(), tree_dir, sizeof tree_dir) != 0)
        return -1;
    unsetenv("HMALLOC_POLICY");
    unsetenv("HMALLOC_NODES");
    unsetenv("HMALLOC_MPOL_MODE");
    unsetenv("HMALLOC_NODEMASK");
    unsetenv("HWLOC_FSROOT");
    unsetenv("HETMEM_LOG");
    return 0;
}

static int teardown(void **state) {
    (void)state;
    fake_tree_destroy(tree_dir);
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/ran", work_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/noexec", work_dir);
    unlink(p);
    rmdir(work_dir);
    return 0;
}

// ---- help -------------------------------------------------------------------------------

static void test_help(void **state) {
    (void)state;
    static const char *flags[] = {"--help", "-?", "-h"};
    for (size_t i = 0; i < 3; i++) {
        run_t r = run_env(NULL, HMCTL(flags[i]));
        assert_int_equal(r.status, 0);
        expect_contains(r.out, "Usage: hmctl [OPTION...] COMMAND [ARG...]", flags[i]);
        static const char *opts[] = {"-m, --membind=NODES", "-p, --preferred=NODE",
                                     "-P, --preferred-many=NODES", "-i, --interleave=NODES",
                                     "-w, --weighted-interleave=NODES", "-?, --help", "--usage"};
        for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
            expect_contains(r.out, opts[k], flags[i]);
        run_free(&r);
    }
    run_t r = run_env(NULL, HMCTL("--usage"));
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "Usage: hmctl [-?] [-m NODES] [-p NODE] [-P NODES]", "--usage");
    expect_contains(r.out, "COMMAND [ARG...]", "--usage");
    run_free(&r);
}

// ---- argument errors ----------------------------------------------------------------------

static void test_missing_command(void **state) {
    (void)state;
    expect_refused(NULL, (const char *const[]){HMCTL_BIN, NULL}, "missing command");
    expect_refused(NULL, HMCTL("-m", "0"), "missing command");
    expect_refused(NULL, HMCTL("--interleave=0"), "missing command");
}

static void test_conflicts(void **state) {
    (void)state;
    static const char *shorts[] = {"-m", "-p", "-P", "-i", "-w"};
    static const char *longs[] = {"--membind", "--preferred", "--preferred-many", "--interleave",
                                  "--weighted-interleave"};
    for (int a = 0; a < 5; a++) {
        for (int b = 0; b < 5; b++) {
            char why[128];
            if (a == b)
                snprintf(why, sizeof why, "%s given twice", longs[a]);
            else
                snprintf(why, sizeof why, "%s conflicts with %s", longs[b], longs[a]);
            expect_refused(NULL, HMCTL(shorts[a], "0", shorts[b], "0", "sh", "-c", marker_cmd()),
                           why);
        }
    }
    expect_refused(NULL, HMCTL("--membind=0", "--preferred=0", "sh", "-c", marker_cmd()),
                   "conflicts");
}

static void test_bad_nodes(void **state) {
    (void)state;
    const char *cmd = marker_cmd();
    expect_refused(NULL, HMCTL("-m", "", "sh", "-c", cmd), "--membind=: empty node list");
    expect_refused(NULL, HMCTL("-m", "0-", "sh", "-c", cmd), "\"0-\" is not a node list");
    expect_refused(NULL, HMCTL("-i", "0,,1", "sh", "-c", cmd), "is not a node list");
    expect_refused(NULL, HMCTL("-w", "zero", "sh", "-c", cmd), "is not a node list");
    expect_refused(NULL, HMCTL("-i", "5", "sh", "-c", cmd),
                   "node 5 does not exist (nodes with memory: 0");
    expect_refused(NULL, HMCTL("-P", "1024", "sh", "-c", cmd), "node 1024 does not exist");
    expect_refused(NULL, HMCTL("--preferred=0-3", "sh", "-c", cmd), "node 3 does not exist");
    expect_refused(NULL, HMCTL("-w", "!0", "sh", "-c", cmd), "names no node");
    expect_refused(NULL, HMCTL("-m", "!all", "sh", "-c", cmd), "names no node");
}

static void test_bad_options(void **state) {
    (void)state;
    const char *cmd = marker_cmd();
    expect_refused(NULL, HMCTL("-x", "sh", "-c", cmd), "invalid option -- 'x'");
    expect_refused(NULL, HMCTL("--bogus", "sh", "-c", cmd), "unrecognized option '--bogus'");
    expect_refused(NULL, HMCTL("-m"), "option '-m' needs an argument");
    expect_refused(NULL, HMCTL("--membind"), "needs an argument");
}

// ---- running the command -------------------------------------------------------------------

static void test_exec(void **state) {
    (void)state;
    run_t r = run_env(NULL, HMCTL("/nonexistent/hmctl-test-command"));
    assert_int_equal(r.status, 127);
    expect_contains(r.err, "hmctl: cannot run '/nonexistent/hmctl-test-command'", "stderr");
    run_free(&r);
    r = run_env(NULL, HMCTL("hmctl-no-such-command-on-path", "-m", "0"));
    assert_int_equal(r.status, 127);
    run_free(&r);

    char noexec[PATH_MAX + 16];
    snprintf(noexec, sizeof noexec, "%s/noexec", work_dir);
    int fd = open(noexec, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    r = run_env(NULL, HMCTL("-m", "0", noexec));
    assert_int_equal(r.status, 126);
    expect_contains(r.err, "cannot run", "stderr");
    run_free(&r);

    // The command's status is hmctl's (exec: hmctl is the command).
    r = run_env(NULL, HMCTL("-i", "0", "sh", "-c", "exit 42"));
    assert_int_equal(r.status, 42);
    run_free(&r);
    r = run_env(NULL, HMCTL("sh", "-c", "exit 0"));
    assert_int_equal(r.status, 0);
    run_free(&r);

    // Options after the command are the command's.
    r = run_env(NULL, HMCTL("-m", "0", "sh", "-c", "echo \"$@\"", "x", "-m", "5", "--help", "-?"));
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "-m 5 --help -?\n");
    run_free(&r);
}

// ---- the environment --------------------------------------------------------------------------

static void test_environment(void **state) {
    (void)state;
    static const struct {
        const char *opt, *policy;
    } cases[] = {{"-m", "membind"},
                 {"-p", "preferred"},
                 {"-P", "preferred-many"},
                 {"-i", "interleave"},
                 {"-w", "weighted-interleave"},
                 {"--membind=0", "membind"},
                 {"--weighted-interleave=all", "weighted-interleave"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool joined = strchr(cases[i].opt, '=') != NULL;
        run_t r = joined ? run_env(ENV("HMALLOC_NODES=77"), HMCTL(cases[i].opt, "env"))
                         : run_env(ENV("HMALLOC_NODES=77"), HMCTL(cases[i].opt, "0", "env"));
        assert_int_equal(r.status, 0);
        char want[128];
        snprintf(want, sizeof want, "\nHMALLOC_POLICY=%s\n", cases[i].policy);
        char *out = malloc(strlen(r.out) + 2); // "\n" first: match whole lines
        sprintf(out, "\n%s", r.out);
        expect_contains(out, want, cases[i].opt);
        expect_contains(out, "\nHMALLOC_NODES=0\n", cases[i].opt);
        free(out);
        run_free(&r);
    }
    // No policy option: the default, and no node list left from outside.
    run_t r = run_env(ENV("HMALLOC_POLICY=interleave", "HMALLOC_NODES=0"), HMCTL("env"));
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "HMALLOC_POLICY=default\n", "env");
    assert_null(strstr(r.out, "HMALLOC_NODES="));
    run_free(&r);
}

// More than 64 nodes cross the environment (a fake 130-node machine).
static void test_many_nodes(void **state) {
    (void)state;
    char fsroot[PATH_MAX + 16];
    snprintf(fsroot, sizeof fsroot, "HWLOC_FSROOT=%s", tree_dir);
    run_t r = run_env(ENV(fsroot), HMCTL("-i", "0-3,70", "env"));
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "HMALLOC_POLICY=interleave\nHMALLOC_NODES=0-3,70\n", "env");
    run_free(&r);
    r = run_env(ENV(fsroot), HMCTL("-w", "all", "env"));
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "HMALLOC_NODES=0-129\n", "env");
    run_free(&r);
    r = run_env(ENV(fsroot), HMCTL("-P", "!0-127", "env"));
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "HMALLOC_NODES=128-129\n", "env");
    run_free(&r);
    expect_refused(ENV(fsroot), HMCTL("-m", "130", "true"),
                   "node 130 does not exist (nodes with memory: 0-129)");
    expect_refused(ENV(fsroot), HMCTL("-p", "0,70", "true"),
                   "takes one node; \"0,70\" names 2 (use -P/--preferred-many for several)");
}

// ---- what a program gets ----------------------------------------------------------------------

typedef struct probe_t {
    int hmalloc, hmmap, malloc, process; // MPOL_* of each
    unsigned long hmalloc_mask, hmmap_mask;
} probe_t;

static probe_t parse_probe(const run_t *r) {
    probe_t p = {-1, -1, -1, -1, 0, 0};
    unsigned long mask;
    const char *s;
    if ((s = strstr(r->out, "hmalloc ")))
        sscanf(s, "hmalloc %d 0x%lx", &p.hmalloc, &p.hmalloc_mask);
    if ((s = strstr(r->out, "hmmap ")))
        sscanf(s, "hmmap %d 0x%lx", &p.hmmap, &p.hmmap_mask);
    if ((s = strstr(r->out, "\nmalloc ")))
        sscanf(s + 1, "malloc %d 0x%lx", &p.malloc, &mask);
    if ((s = strstr(r->out, "process ")))
        sscanf(s, "process %d 0x%lx", &p.process, &mask);
    return p;
}

static bool kernel_has_weighted(void) {
    return access("/sys/kernel/mm/mempolicy/weighted_interleave", F_OK) == 0;
}

// MPOL_PREFERRED_MANY is Linux 5.15+ (uname's release).
static bool kernel_has_preferred_many(void) {
    struct utsname u;
    unsigned a = 0, b = 0;
    return uname(&u) == 0 && sscanf(u.release, "%u.%u", &a, &b) == 2 &&
           (a > 5 || (a == 5 && b >= 15));
}

enum { MPOL_DEFAULT_ = 0, MPOL_PREFERRED_ = 1, MPOL_BIND_ = 2, MPOL_INTERLEAVE_ = 3,
       MPOL_PREFERRED_MANY_ = 5, MPOL_WEIGHTED_INTERLEAVE_ = 6 };

static void test_probe_policies(void **state) {
    (void)state;
    int weighted = kernel_has_weighted() ? MPOL_WEIGHTED_INTERLEAVE_ : MPOL_INTERLEAVE_;
    static const char *opts[] = {NULL, "-m", "-p", "-P", "-i", "-w"};
    // -P with one node is still MPOL_PREFERRED_MANY (hmctl(8)), where the kernel has it.
    int many = kernel_has_preferred_many() ? MPOL_PREFERRED_MANY_ : MPOL_PREFERRED_;
    int want[] = {MPOL_DEFAULT_, MPOL_BIND_, MPOL_PREFERRED_, many, MPOL_INTERLEAVE_, weighted};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        run_t r = opts[i] ? run_env(NULL, HMCTL(opts[i], "0", PROBE_BIN))
                          : run_env(NULL, (const char *const[]){PROBE_BIN, NULL});
        if (r.status != 0)
            fail_msg("%s: exit %d\n%s%s", opts[i] ? opts[i] : "(no hmctl)", r.status, r.out,
                     r.err);
        probe_t p = parse_probe(&r);
        if (p.hmalloc != want[i] || p.hmmap != want[i])
            fail_msg("%s: hmalloc policy %d, hmmap %d, want %d\n%s", opts[i] ? opts[i] : "-",
                     p.hmalloc, p.hmmap, want[i], r.out);
        if (want[i] != MPOL_DEFAULT_) {
            assert_int_equal(p.hmalloc_mask, 1);
            assert_int_equal(p.hmmap_mask, 1);
        }
        // Only the hmalloc pool follows hmctl.
        assert_int_equal(p.malloc, MPOL_DEFAULT_);
        assert_int_equal(p.process, MPOL_DEFAULT_);
        run_free(&r);
    }
}

// Variables set by hand: a malformed value is reported (HETMEM_LOG=error)
// and gives the default policy; the program runs on.
static void test_probe_hand_set(void **state) {
    (void)state;
    static const struct {
        const char *env[4];
        int want;
        const char *msg;
    } cases[] = {
        {{"HMALLOC_POLICY=bogus", "HMALLOC_NODES=0"}, MPOL_DEFAULT_, "is not a policy"},
        {{"HMALLOC_POLICY=membind", "HMALLOC_NODES=99"}, MPOL_DEFAULT_, "node 99 does not exist"},
        {{"HMALLOC_POLICY=membind"}, MPOL_DEFAULT_, "empty node list"},
        {{"HMALLOC_POLICY=interleave", "HMALLOC_NODES=0-"}, MPOL_DEFAULT_, "is not a node list"},
        {{"HMALLOC_NODES=0"}, MPOL_DEFAULT_, "HMALLOC_POLICY is not"},
        {{"HMALLOC_MPOL_MODE=2", "HMALLOC_NODEMASK=junk"}, MPOL_DEFAULT_, "HMALLOC_NODEMASK"},
        {{"HMALLOC_MPOL_MODE=2", "HMALLOC_NODEMASK=1"}, MPOL_BIND_, NULL}, // HMSDK's hmctl
        {{"HMALLOC_MPOL_MODE=3", "HMALLOC_NODEMASK=1"}, MPOL_INTERLEAVE_, NULL},
        {{"HMALLOC_POLICY=membind", "HMALLOC_NODES=all"}, MPOL_BIND_, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *env[6] = {"HETMEM_LOG=error"};
        for (int k = 0; k < 4 && cases[i].env[k]; k++)
            env[k + 1] = cases[i].env[k];
        run_t r = run_env(env, (const char *const[]){PROBE_BIN, NULL});
        if (r.status != 0)
            fail_msg("case %zu: exit %d\n%s", i, r.status, r.err);
        probe_t p = parse_probe(&r);
        if (p.hmalloc != cases[i].want || p.hmmap != cases[i].want)
            fail_msg("case %zu (%s): hmalloc %d, hmmap %d, want %d", i, cases[i].env[0],
                     p.hmalloc, p.hmmap, cases[i].want);
        if (cases[i].msg) {
            expect_contains(r.err, cases[i].msg, "stderr");
            expect_contains(r.err, "the hmalloc pool uses the default policy", "stderr");
        } else {
            assert_string_equal(r.err, "");
        }
        run_free(&r);
    }
    // Logging off (the default): the same fallback, silently.
    run_t r = run_env(ENV("HMALLOC_POLICY=bogus"), (const char *const[]){PROBE_BIN, NULL});
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    run_free(&r);
}

// numactl sets the process policy, hmctl the pool's: each keeps its own
// (hmctl never calls set_mempolicy).
static void test_numactl(void **state) {
    (void)state;
#ifndef NUMACTL_BIN
    TEST_SKIP("numactl was not found at configure time (package numactl)");
#else
    run_t r = run_env(NULL, (const char *const[]){NUMACTL_BIN, "-p", "0", HMCTL_BIN, "-m", "0",
                                                  PROBE_BIN, NULL});
    if (r.status != 0)
        fail_msg("numactl -p 0 hmctl -m 0: exit %d\n%s", r.status, r.err);
    probe_t p = parse_probe(&r);
    assert_int_equal(p.process, MPOL_PREFERRED_);
    assert_int_equal(p.hmalloc, MPOL_BIND_);
    assert_int_equal(p.hmmap, MPOL_BIND_);
    assert_int_equal(p.malloc, MPOL_DEFAULT_); // no VMA policy: the process's applies
    run_free(&r);

    r = run_env(NULL, (const char *const[]){NUMACTL_BIN, "-i", "0", HMCTL_BIN, PROBE_BIN, NULL});
    assert_int_equal(r.status, 0);
    p = parse_probe(&r);
    assert_int_equal(p.process, MPOL_INTERLEAVE_);
    assert_int_equal(p.hmalloc, MPOL_DEFAULT_); // no hmctl policy: as malloc
    run_free(&r);
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),          cmocka_unit_test(test_missing_command),
        cmocka_unit_test(test_conflicts),     cmocka_unit_test(test_bad_nodes),
        cmocka_unit_test(test_bad_options),   cmocka_unit_test(test_exec),
        cmocka_unit_test(test_environment),   cmocka_unit_test(test_many_nodes),
        cmocka_unit_test(test_probe_policies), cmocka_unit_test(test_probe_hand_set),
        cmocka_unit_test(test_numactl),
    };
    return test_skip_result(cmocka_run_group_tests(tests, setup, teardown));
}
