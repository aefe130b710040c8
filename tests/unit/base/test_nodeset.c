// SPDX-License-Identifier: MIT
// nodeset_t: parsing, formatting, iteration and algebra, including node ids
// far above 64 (nothing in hetmem is limited to 64 nodes).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "base/nodeset.h"

static void parse_format_roundtrip(void **state) {
    (void)state;
    nodeset_t s;
    assert_int_equal(nodeset_parse_list("0-3,7,64-66,1023\n", &s), 0);
    assert_int_equal(nodeset_count(&s), 4 + 1 + 3 + 1);
    assert_true(nodeset_isset(&s, 65));
    assert_true(nodeset_isset(&s, 1023));
    assert_false(nodeset_isset(&s, 4));
    char buf[64];
    size_t n = nodeset_format(&s, buf, sizeof buf);
    assert_string_equal(buf, "0-3,7,64-66,1023");
    assert_int_equal(n, strlen("0-3,7,64-66,1023"));
}

static void parse_rejects_malformed(void **state) {
    (void)state;
    nodeset_t s;
    nodeset_zero(&s);
    nodeset_set(&s, 5);
    const char *bad[] = {"a", "1-", "-1", "3-1", "1,,2", "1024", "99999999999999999999", "1 2", "0x1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nodeset_parse_list(bad[i], &s), EINVAL);
        // untouched on error
        assert_int_equal(nodeset_count(&s), 1);
        assert_true(nodeset_isset(&s, 5));
    }
    assert_int_equal(nodeset_parse_list(NULL, &s), EINVAL);
    assert_int_equal(nodeset_parse_list("", &s), 0);
    assert_true(nodeset_empty(&s));
}

static void iterate_and_algebra(void **state) {
    (void)state;
    nodeset_t a, b, c;
    nodeset_zero(&a);
    nodeset_zero(&b);
    assert_int_equal(nodeset_next(&a, 0), -1);
    assert_int_equal(nodeset_last(&a), -1);
    assert_true(nodeset_set(&a, 1));
    assert_true(nodeset_set(&a, 70));
    assert_true(nodeset_set(&a, 130));
    assert_false(nodeset_set(&a, NODESET_MAX));
    assert_int_equal(nodeset_next(&a, 0), 1);
    assert_int_equal(nodeset_next(&a, 2), 70);
    assert_int_equal(nodeset_next(&a, 71), 130);
    assert_int_equal(nodeset_next(&a, 131), -1);
    assert_int_equal(nodeset_last(&a), 130);
    nodeset_set(&b, 70);
    nodeset_set(&b, 2);
    nodeset_and(&c, &a, &b);
    assert_int_equal(nodeset_count(&c), 1);
    assert_true(nodeset_isset(&c, 70));
    nodeset_or(&c, &a, &b);
    assert_int_equal(nodeset_count(&c), 4);
    nodeset_clear(&c, 2);
    assert_true(nodeset_equal(&c, &a));
}

static void to_ulongs_layout(void **state) {
    (void)state;
    nodeset_t s;
    nodeset_zero(&s);
    nodeset_set(&s, 0);
    nodeset_set(&s, 65);
    unsigned long w[4];
    nodeset_to_ulongs(&s, w, 4);
    assert_int_equal(w[0], 1ul);
    assert_int_equal(w[1], 2ul);
    assert_int_equal(w[2], 0ul);
}

static void format_truncates_safely(void **state) {
    (void)state;
    nodeset_t s;
    nodeset_parse_list("1,3,5,7,9,11", &s);
    char buf[6];
    memset(buf, 'x', sizeof buf);
    size_t n = nodeset_format(&s, buf, sizeof buf);
    assert_int_equal(n, strlen("1,3,5,7,9,11"));
    assert_true(memchr(buf, '\0', sizeof buf) != NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_format_roundtrip), cmocka_unit_test(parse_rejects_malformed),
        cmocka_unit_test(iterate_and_algebra),    cmocka_unit_test(to_ulongs_layout),
        cmocka_unit_test(format_truncates_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
