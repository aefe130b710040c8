// SPDX-License-Identifier: MIT
// A small streaming JSON writer for hetmem-info: it tracks nesting and
// commas, escapes strings, and writes integers exactly (no doubles), so
// that every section of the tool emits valid JSON without string pasting.
#ifndef HETMEM_TOOLS_JSON_OUT_H
#define HETMEM_TOOLS_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

typedef struct json_out_t {
    FILE *f;
    int depth;                       // open objects/arrays
    bool first[JSON_MAX_DEPTH];      // no member written yet at this depth
    bool after_key;                  // a key was written, its value is next
    bool compact[JSON_MAX_DEPTH];    // this array is written on one line
} json_out_t;

void json_init(json_out_t *j, FILE *f);
/// Ends the document with a newline.
void json_finish(json_out_t *j);

/// Member name inside an object; the next call writes its value.
void json_key(json_out_t *j, const char *key);

void json_begin_object(json_out_t *j);
void json_end_object(json_out_t *j);
/// compact: keep the array's elements on one line (numbers, short rows).
void json_begin_array(json_out_t *j, bool compact);
void json_end_array(json_out_t *j);

void json_string(json_out_t *j, const char *s); // NULL writes null
void json_u64(json_out_t *j, uint64_t v);
void json_i64(json_out_t *j, int64_t v);
void json_bool(json_out_t *j, bool v);
void json_null(json_out_t *j);

#endif // HETMEM_TOOLS_JSON_OUT_H
