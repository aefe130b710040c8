// SPDX-License-Identifier: MIT
// hmalloc paths that need the internal test hooks (the front end linked in
// statically): hmmap's documented return when the binding fails (NULL,
// errno from mbind, the mapping undone), the error table, and the lazy
// pool (created once, by the first allocation, not by hfree).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hmalloc.h>

#include "frontend/hmalloc/hm_priv.h"
#include "frontend/hmalloc/hm_policy.h"

static bool mapped(void *addr, size_t len) { return msync(addr, len, MS_ASYNC) == 0; }

static void test_pool_lazy(void **state) {
    (void)state;
    char buf[16];
    hfree(buf);
    assert_int_equal(hmalloc_usable_size(buf), 0);
    assert_null(hm_pool_created()); // a foreign free builds no pool
    void *p = hmalloc(10);
    assert_non_null(p);
    umf_memory_pool_handle_t pool = hm_pool_created();
    assert_non_null(pool);
    assert_ptr_equal(hm_pool(), pool);
    assert_ptr_equal(umfPoolByPtr(p), pool);
    hfree(p);
    assert_ptr_equal(hm_pool(), pool); // once
}

// hmmap(3): "If mmap(2) is successful but mbind(2) fails, then it unmaps the
// area again and returns NULL with errno set by mbind(2)."
static void test_hmmap_bind_fails(void **state) {
    (void)state;
    size_t len = 8 * (size_t)sysconf(_SC_PAGESIZE);
    static const int errs[] = {EIO, EINVAL, ENOMEM, EPERM};
    for (size_t i = 0; i < sizeof errs / sizeof errs[0]; i++) {
        // Find where the kernel will put the next mapping, to see it undone.
        void *probe = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_true(probe != MAP_FAILED);
        munmap(probe, len);
        hm_fail_next_mbind_for_testing(errs[i]);
        errno = 0;
        void *p = hmmap(probe, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        assert_null(p);
        assert_int_equal(errno, errs[i]);
        assert_false(mapped(probe, len));
    }
    // The hook is one-shot: the next hmmap works.
    void *p = hmmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(p != NULL && p != MAP_FAILED);
    assert_int_equal(hmunmap(p, len), 0);
}

// A failed mapping never reaches the binding (MAP_FAILED, not NULL).
static void test_hmmap_map_fails_first(void **state) {
    (void)state;
    hm_fail_next_mbind_for_testing(EIO);
    errno = 0;
    void *p = hmmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_ptr_equal(p, MAP_FAILED);
    assert_int_equal(errno, EINVAL);
    hm_fail_next_mbind_for_testing(0);
}

static void test_errno_table(void **state) {
    (void)state;
    static const umf_result_t all[] = {
        UMF_RESULT_SUCCESS,
        UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY,
        UMF_RESULT_ERROR_MEMORY_PROVIDER_SPECIFIC,
        UMF_RESULT_ERROR_INVALID_ARGUMENT,
        UMF_RESULT_ERROR_INVALID_ALIGNMENT,
        UMF_RESULT_ERROR_NOT_SUPPORTED,
        UMF_RESULT_ERROR_USER_SPECIFIC,
        UMF_RESULT_ERROR_DEPENDENCY_UNAVAILABLE,
        UMF_RESULT_ERROR_UNKNOWN,
    };
    // malloc(3) and friends know one failure once arguments are valid.
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        assert_int_equal(hm_errno_of(all[i]), ENOMEM);
}

static void test_policy_default(void **state) {
    (void)state;
    const hm_policy_t *p = hm_policy();
    assert_int_equal(p->mode, HM_MODE_DEFAULT);
    assert_true(nodeset_empty(&p->nodes));
    assert_ptr_equal(hm_policy(), p);
}

int main(void) {
    unsetenv("HMALLOC_POLICY");
    unsetenv("HMALLOC_NODES");
    unsetenv("HMALLOC_MPOL_MODE");
    unsetenv("HMALLOC_NODEMASK");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_lazy),         cmocka_unit_test(test_hmmap_bind_fails),
        cmocka_unit_test(test_hmmap_map_fails_first), cmocka_unit_test(test_errno_table),
        cmocka_unit_test(test_policy_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
