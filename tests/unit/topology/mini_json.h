// SPDX-License-Identifier: MIT
// A strict little JSON parser for the hetmem-info test: it rejects anything
// RFC 8259 does not allow (trailing commas, bare words, control characters
// in strings, trailing text) and builds a tree the test can query.
#ifndef HETMEM_TESTS_MINI_JSON_H
#define HETMEM_TESTS_MINI_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mj_type_t { MJ_NULL, MJ_BOOL, MJ_NUMBER, MJ_STRING, MJ_ARRAY, MJ_OBJECT } mj_type_t;

typedef struct mj_value_t {
    mj_type_t type;
    bool boolean;
    bool is_integer;          // a number without fraction or exponent
    long long integer;        // its value when is_integer
    char *string;             // MJ_STRING (decoded)
    size_t count;             // members of an array or object
    struct mj_value_t **items;
    char **keys;              // MJ_OBJECT member names
} mj_value_t;

/// Parses a whole document; NULL on any syntax error (message in err).
mj_value_t *mj_parse(const char *text, char *err, size_t errlen);
void mj_free(mj_value_t *v);

/// Member of an object (NULL when absent or not an object).
const mj_value_t *mj_get(const mj_value_t *obj, const char *key);
/// Element of an array (NULL when out of range or not an array).
const mj_value_t *mj_at(const mj_value_t *arr, size_t i);

#endif // HETMEM_TESTS_MINI_JSON_H
