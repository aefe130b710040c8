// SPDX-License-Identifier: MIT
// The decorator hooks (memkind(3), DECORATORS): weak symbols the program
// defines, called before and after each heap call, inputs by reference
// before and the result by reference after - so they can change both.
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <memkind.h>

// This project builds with -fvisibility=hidden; a program normally does not.
#define HOOK __attribute__((visibility("default")))

static int calls[10];
static memkind_t redirect; // malloc_pre moves allocations to this kind when set

HOOK void memkind_malloc_pre(memkind_t *kind, size_t *size) {
    calls[0]++;
    if (*size == 12345)
        *size = 1 << 20; // a pre hook may change the arguments
    if (redirect)
        *kind = redirect;
}
HOOK void memkind_malloc_post(memkind_t kind, size_t size, void **result) {
    (void)kind;
    calls[1]++;
    if (size == 777) // a post hook may change the result
        *result = NULL;
}
HOOK void memkind_calloc_pre(memkind_t *kind, size_t *nmemb, size_t *size) {
    (void)kind;
    (void)nmemb;
    (void)size;
    calls[2]++;
}
HOOK void memkind_calloc_post(memkind_t kind, size_t nmemb, size_t size, void **result) {
    (void)kind;
    (void)nmemb;
    (void)size;
    (void)result;
    calls[3]++;
}
HOOK void memkind_posix_memalign_pre(memkind_t *kind, void **memptr, size_t *alignment,
                                     size_t *size) {
    (void)kind;
    (void)memptr;
    (void)size;
    calls[4]++;
    if (*alignment == 3)
        *alignment = 64; // repaired by the hook
}
HOOK void memkind_posix_memalign_post(memkind_t kind, void **memptr, size_t alignment, size_t size,
                                      int *err) {
    (void)kind;
    (void)memptr;
    (void)alignment;
    (void)size;
    (void)err;
    calls[5]++;
}
HOOK void memkind_realloc_pre(memkind_t *kind, void **ptr, size_t *size) {
    (void)kind;
    (void)ptr;
    (void)size;
    calls[6]++;
}
HOOK void memkind_realloc_post(memkind_t kind, void *ptr, size_t size, void **result) {
    (void)kind;
    (void)ptr;
    (void)size;
    (void)result;
    calls[7]++;
}
HOOK void memkind_free_pre(memkind_t *kind, void **ptr) {
    (void)kind;
    (void)ptr;
    calls[8]++;
}
HOOK void memkind_free_post(memkind_t kind, void *ptr) {
    (void)kind;
    (void)ptr;
    calls[9]++;
}

static void test_hooks_called(void **state) {
    (void)state;
    memset(calls, 0, sizeof calls);
    void *p = memkind_malloc(MEMKIND_DEFAULT, 12345);
    assert_non_null(p);
    assert_true(memkind_malloc_usable_size(NULL, p) >= (1 << 20)); // the pre hook's size
    assert_int_equal(calls[0], 1);
    assert_int_equal(calls[1], 1);
    p = memkind_realloc(MEMKIND_DEFAULT, p, 100);
    assert_int_equal(calls[6], 1);
    assert_int_equal(calls[7], 1);
    memkind_free(MEMKIND_DEFAULT, p);
    assert_int_equal(calls[8], 1);
    assert_int_equal(calls[9], 1);
    p = memkind_calloc(MEMKIND_DEFAULT, 2, 8);
    assert_int_equal(calls[2], 1);
    assert_int_equal(calls[3], 1);
    memkind_free(NULL, p);
    void *q = NULL;
    assert_int_equal(memkind_posix_memalign(MEMKIND_DEFAULT, &q, 3, 8), 0); // hook fixed it
    assert_true((uintptr_t)q % 64 == 0);
    assert_int_equal(calls[4], 1);
    assert_int_equal(calls[5], 1);
    memkind_free(NULL, q);
    assert_null(memkind_malloc(MEMKIND_DEFAULT, 777)); // the post hook's result
    redirect = MEMKIND_REGULAR;
    p = memkind_malloc(MEMKIND_DEFAULT, 10);
    redirect = NULL;
    assert_ptr_equal(memkind_detect_kind(p), MEMKIND_REGULAR);
    memkind_free(NULL, p);
    memkind_free(NULL, NULL); // the hooks see NULL frees too
    assert_int_equal(calls[8], 5);
    assert_int_equal(calls[9], 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_hooks_called)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
