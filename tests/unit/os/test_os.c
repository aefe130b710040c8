// SPDX-License-Identifier: MIT
// The OS layer on this machine (one node is enough here; multi-node
// placement is proven in the guests): mappings and alignment, protection,
// advice, NUMA policy calls and their errors, memfd/shm/file helpers.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/os.h"

static void map_anon_aligned(void **state) {
    (void)state;
    size_t ps = os_page_size();
    assert_true(ps >= 4096);
    for (size_t align = ps; align <= ((size_t)64 << 20); align <<= 3) {
        void *p = NULL;
        assert_int_equal(os_map_anon(NULL, 3 * ps, align, OS_PROT_READ | OS_PROT_WRITE, 0, &p), 0);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % align, 0);
        memset(p, 0xa5, 3 * ps);
        assert_int_equal(os_unmap(p, 3 * ps), 0);
    }
}

static void map_anon_bad_args(void **state) {
    (void)state;
    void *p = (void *)0x1234;
    size_t ps = os_page_size();
    assert_int_equal(os_map_anon(NULL, 0, 0, OS_PROT_READ, 0, &p), EINVAL);
    assert_int_equal(os_map_anon(NULL, ps + 1, 0, OS_PROT_READ, 0, &p), EINVAL);
    assert_int_equal(os_map_anon(NULL, ps, ps + 1, OS_PROT_READ, 0, &p), EINVAL); // 3 pages: valid
    assert_int_equal(os_map_anon(NULL, ps, 0, 0x100, 0, &p), EINVAL);
    assert_int_equal(os_map_anon(NULL, ps, 0, OS_PROT_READ, 0, NULL), EINVAL);
    assert_ptr_equal(p, (void *)0x1234); // untouched on error
    // An impossible size is an error value, not a crash.
    int r = os_map_anon(NULL, SIZE_MAX & ~(ps - 1), 0, OS_PROT_READ, 0, &p);
    assert_true(r == ENOMEM || r == EINVAL);
    r = os_map_anon(NULL, ps, (size_t)1 << 63, OS_PROT_READ, 0, &p);
    assert_true(r == ENOMEM || r == EINVAL);
    assert_int_equal(os_unmap(NULL, ps), EINVAL);
    assert_int_equal(os_unmap((void *)(uintptr_t)1, ps), EINVAL);
}

static void protect_none_faults(void **state) {
    (void)state;
    size_t ps = os_page_size();
    void *p;
    assert_int_equal(os_map_anon(NULL, ps, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &p), 0);
    assert_int_equal(os_protect(p, ps, OS_PROT_NONE), 0);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL); // cmocka catches it otherwise
        *(volatile char *)p = 1; // must fault
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    assert_int_equal(os_protect(p, ps, OS_PROT_READ | OS_PROT_WRITE), 0);
    *(volatile char *)p = 1;
    assert_int_equal(os_unmap(p, ps), 0);
}

static void madvise_dontneed_zeroes(void **state) {
    (void)state;
    size_t ps = os_page_size();
    char *p;
    assert_int_equal(os_map_anon(NULL, 4 * ps, 0, OS_PROT_READ | OS_PROT_WRITE, 0, (void **)&p), 0);
    memset(p, 7, 4 * ps);
    assert_int_equal(os_madvise(p, 4 * ps, OS_ADV_DONTNEED), 0);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[4 * ps - 1], 0);
    memset(p, 7, 4 * ps);
    assert_int_equal(os_madvise(p, 4 * ps, OS_ADV_FREE), 0);
    assert_int_equal(os_madvise(p, ps, (os_advice_t)99), EINVAL);
    assert_int_equal(os_madvise(p + 1, ps, OS_ADV_DONTNEED), EINVAL);
    assert_int_equal(os_unmap(p, 4 * ps), 0);
}

static void numa_policy_calls(void **state) {
    (void)state;
    size_t ps = os_page_size();
    char *p;
    assert_int_equal(os_map_anon(NULL, 8 * ps, 0, OS_PROT_READ | OS_PROT_WRITE, 0, (void **)&p), 0);
    nodeset_t n0, far;
    nodeset_zero(&n0);
    nodeset_set(&n0, 0);
    nodeset_zero(&far);
    nodeset_set(&far, 1000); // no machine has this node
    assert_int_equal(os_mbind(p, 8 * ps, OS_MPOL_BIND, &n0, 0), 0);
    os_mpol_t mode;
    nodeset_t got;
    assert_int_equal(os_get_mempolicy(p, &mode, &got), 0);
    assert_int_equal(mode, OS_MPOL_BIND);
    assert_true(nodeset_equal(&got, &n0));
    memset(p, 1, 8 * ps);
    int node = -2;
    assert_int_equal(os_page_node(p, &node), 0);
    assert_int_equal(node, 0);
    void *pages[8];
    int status[8];
    for (int i = 0; i < 8; i++)
        pages[i] = p + (size_t)i * ps;
    assert_int_equal(os_move_pages(8, pages, NULL, status), 0);
    for (int i = 0; i < 8; i++)
        assert_int_equal(status[i], 0);
    // A node that does not exist is an error value.
    assert_int_equal(os_mbind(p, 8 * ps, OS_MPOL_BIND, &far, 0), EINVAL);
    assert_int_equal(os_mbind(p, 8 * ps, (os_mpol_t)42, &n0, 0), EINVAL);
    assert_int_equal(os_mbind(p + 1, ps, OS_MPOL_BIND, &n0, 0), EINVAL);
    assert_int_equal(os_set_mempolicy(OS_MPOL_INTERLEAVE, &far), EINVAL);
    assert_int_equal(os_set_mempolicy(OS_MPOL_PREFERRED, &n0), 0);
    assert_int_equal(os_get_mempolicy(NULL, &mode, NULL), 0);
    assert_int_equal(mode, OS_MPOL_PREFERRED);
    assert_int_equal(os_set_mempolicy(OS_MPOL_DEFAULT, NULL), 0);
    assert_int_equal(os_get_mempolicy(NULL, &mode, NULL), 0);
    assert_int_equal(mode, OS_MPOL_DEFAULT);
    // A page never touched is reported absent.
    assert_int_equal(os_madvise(p, ps, OS_ADV_DONTNEED), 0);
    assert_int_equal(os_page_node(p, &node), 0);
    assert_int_equal(node, -1);
    assert_int_equal(os_move_pages(0, pages, NULL, status), EINVAL);
    assert_int_equal(os_unmap(p, 8 * ps), 0);
}

static void memfd_shared_mapping(void **state) {
    (void)state;
    size_t ps = os_page_size();
    int fd;
    assert_int_equal(os_memfd_create("hetmem-test", 0, &fd), 0);
    assert_int_equal(os_file_extend(fd, 2 * ps), 0);
    uint64_t size;
    assert_int_equal(os_file_size(fd, &size), 0);
    assert_int_equal(size, 2 * ps);
    char *a, *b;
    assert_int_equal(os_map_fd(NULL, 2 * ps, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_SHARED, fd, 0, (void **)&a), 0);
    assert_int_equal(os_map_fd(NULL, ps, OS_PROT_READ, OS_MAP_SHARED, fd, ps, (void **)&b), 0);
    strcpy(a + ps, "shared");
    assert_string_equal(b, "shared"); // two views of one memory
    assert_int_equal(os_map_fd(NULL, ps, OS_PROT_READ, OS_MAP_SHARED, fd, 1, (void **)&b), EINVAL);
    assert_int_equal(os_map_fd(NULL, ps, OS_PROT_READ, OS_MAP_SHARED, -1, 0, (void **)&b), EINVAL);
    assert_int_equal(os_unmap(a, 2 * ps), 0);
    assert_int_equal(os_file_close(fd), 0);
    assert_int_equal(os_file_close(-1), EBADF);
    assert_int_equal(os_memfd_create(NULL, 0, &fd), EINVAL);
}

static void shm_and_files(void **state) {
    (void)state;
    char name[64];
    snprintf(name, sizeof name, "hetmem-test-%d", (int)getpid());
    int fd, fd2;
    assert_int_equal(os_shm_open(name, true, true, &fd), 0);
    assert_int_equal(os_shm_open(name, true, true, &fd2), EEXIST);
    assert_int_equal(os_shm_open("a/b", true, false, &fd2), EINVAL);
    assert_int_equal(os_shm_open("", true, false, &fd2), EINVAL);
    assert_int_equal(os_file_close(fd), 0);
    assert_int_equal(os_shm_unlink(name), 0);
    assert_int_equal(os_shm_unlink(name), ENOENT);

    char dir[] = "/tmp/hetmem-os-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_int_equal(os_file_tmp(dir, &fd), 0);
    assert_int_equal(os_file_extend(fd, 1 << 20), 0);
    assert_int_equal(os_file_punch_hole(fd, 0, 4096), 0);
    assert_int_equal(os_file_truncate(fd, 4 << 20), 0); // grows sparsely
    uint64_t sz = 0;
    assert_int_equal(os_file_size(fd, &sz), 0);
    assert_int_equal(sz, 4 << 20);
    assert_int_equal(os_file_truncate(fd, 1), 0); // never shrinks
    assert_int_equal(os_file_size(fd, &sz), 0);
    assert_int_equal(sz, 4 << 20);
    bool chr = true;
    assert_int_equal(os_file_is_chardev(fd, &chr), 0);
    assert_false(chr);
    assert_int_equal(os_file_close(fd), 0);
    assert_int_equal(os_file_tmp("/nonexistent-dir-hetmem", &fd), ENOENT);
    assert_int_equal(os_file_open_existing("/nonexistent-dir-hetmem/x", true, &fd), ENOENT);
    assert_int_equal(rmdir(dir), 0); // the temporary file left no name behind
}

static void misc(void **state) {
    (void)state;
    unsigned cpu = 9999, node = 9999;
    assert_int_equal(os_getcpu(&cpu, &node), 0);
    assert_true(cpu < 9999);
    assert_int_equal(node, 0);
    assert_true(os_gettid() > 0);
    uint64_t a = os_now_coarse_ns(), b = os_now_coarse_ns();
    assert_true(b >= a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(map_anon_aligned),    cmocka_unit_test(map_anon_bad_args),
        cmocka_unit_test(protect_none_faults), cmocka_unit_test(madvise_dontneed_zeroes),
        cmocka_unit_test(numa_policy_calls),   cmocka_unit_test(memfd_shared_mapping),
        cmocka_unit_test(shm_and_files),       cmocka_unit_test(misc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
