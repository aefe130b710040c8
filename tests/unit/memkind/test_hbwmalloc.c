// SPDX-License-Identifier: MIT
// hbwmalloc(3) through libmemkind.so.0. The policy is process-wide and set
// once, so this program runs twice (ctest): "default" never sets it (the
// first allocation fixes HBW_POLICY_PREFERRED), "bind" sets HBW_POLICY_BIND
// first. What depends on HBW memory being present is checked against
// hbw_check_available (the VM tests check placement).
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <hbwmalloc.h>
#include <memkind.h>

static const char *mode;

static void test_policy(void **state) {
    (void)state;
    if (strcmp(mode, "bind") == 0) {
        assert_int_equal(hbw_get_policy(), HBW_POLICY_PREFERRED); // not set yet
        assert_int_equal(hbw_set_policy((hbw_policy_t)0), EINVAL);
        assert_int_equal(hbw_set_policy((hbw_policy_t)5), EINVAL);
        assert_int_equal(hbw_set_policy(HBW_POLICY_BIND), 0);
        assert_int_equal(hbw_set_policy(HBW_POLICY_BIND), EPERM); // once only
        assert_int_equal(hbw_set_policy(HBW_POLICY_INTERLEAVE), EPERM);
        assert_int_equal(hbw_get_policy(), HBW_POLICY_BIND);
    } else {
        void *p = hbw_malloc(10); // fixes the default
        hbw_free(p);
        assert_int_equal(hbw_set_policy(HBW_POLICY_BIND), EPERM);
        assert_int_equal(hbw_get_policy(), HBW_POLICY_PREFERRED);
    }
}

static void test_allocations(void **state) {
    (void)state;
    bool hbw = hbw_check_available() == 0;
    assert_true(hbw || hbw_check_available() == ENODEV);
    bool bind = hbw_get_policy() == HBW_POLICY_BIND;
    errno = 0;
    char *p = hbw_malloc(1000);
    if (!hbw && bind) { // BIND without HBW memory: nothing to fall back on
        assert_null(p);
        assert_int_equal(errno, ENOMEM);
        return;
    }
    assert_non_null(p); // HBW memory, or standard memory under PREFERRED
    memset(p, 1, 1000);
    assert_true(hbw_malloc_usable_size(p) >= 1000);
    p = hbw_realloc(p, 100000);
    assert_int_equal(p[999], 1);
    int v = hbw_verify_memory_region(p, 100000, HBW_TOUCH_PAGES);
    // BIND: on HBW memory (0); no HBW node: not (-1); PREFERRED with HBW: either
    assert_true(hbw && bind ? v == 0 : hbw ? (v == 0 || v == -1) : v == -1);
    hbw_free(p);
    unsigned char *z = hbw_calloc(100, 10);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(z[i], 0);
    hbw_free(z);
    assert_null(hbw_malloc(0));
    assert_null(hbw_calloc(0, 5));
    hbw_free(NULL);
    assert_int_equal(hbw_malloc_usable_size(NULL), 0);
}

static void test_memalign(void **state) {
    (void)state;
    void *p = (void *)0x77;
    errno = 1234;
    assert_int_equal(hbw_posix_memalign(&p, 3, 64), EINVAL);
    assert_ptr_equal(p, (void *)0x77);
    assert_int_equal(errno, 1234);
    assert_int_equal(hbw_posix_memalign_psize(&p, 64, 64, HBW_PAGESIZE_1GB), EINVAL);
    assert_int_equal(hbw_posix_memalign_psize(&p, 64, 64, HBW_PAGESIZE_1GB_STRICT), EINVAL);
    assert_int_equal(hbw_posix_memalign_psize(&p, 64, 64, (hbw_pagesize_t)0), EINVAL);
    assert_ptr_equal(p, (void *)0x77);
    if (hbw_check_available() == 0 || hbw_get_policy() == HBW_POLICY_PREFERRED) {
        assert_int_equal(hbw_posix_memalign(&p, 4096, 5000), 0);
        assert_true((uintptr_t)p % 4096 == 0);
        hbw_free(p);
        int r = hbw_posix_memalign_psize(&p, 64, 5000, HBW_PAGESIZE_4KB);
        assert_int_equal(r, 0);
        hbw_free(p);
        // 2 MiB pages need huge pages in the kernel's pool
        r = hbw_posix_memalign_psize(&p, 64, 5000, HBW_PAGESIZE_2MB);
        assert_true(r == 0 || r == ENOMEM);
        if (r == 0)
            hbw_free(p);
    } else { // BIND without HBW memory: the documented refusal
        assert_int_equal(hbw_posix_memalign(&p, 4096, 5000), ENOMEM);
    }
}

static void test_verify_errors(void **state) {
    (void)state;
    char buf[64];
    assert_int_equal(hbw_verify_memory_region(NULL, 10, 0), EINVAL);
    assert_int_equal(hbw_verify_memory_region(buf, 0, 0), EINVAL);
    assert_int_equal(hbw_verify_memory_region(buf, 10, 2), EINVAL);
    if (hbw_check_available() != 0)
        assert_int_equal(hbw_verify_memory_region(buf, sizeof buf, HBW_TOUCH_PAGES), -1);
}

int main(int argc, char **argv) {
    mode = argc > 1 ? argv[1] : "default";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_allocations),
        cmocka_unit_test(test_memalign),
        cmocka_unit_test(test_verify_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
