// SPDX-License-Identifier: MIT
// The JSON writer of hetmem-info (json_out.h): two-space indentation, one
// member per line, compact arrays on one line.
#include "json_out.h"

#include <inttypes.h>

void json_init(json_out_t *j, FILE *f) {
    j->f = f;
    j->depth = 0;
    j->after_key = false;
    j->first[0] = true;
    j->compact[0] = false;
}

// Writes the separator and indentation that come before a value or a key.
static void before_item(json_out_t *j) {
    if (j->after_key) { // "key": value - the value follows on the same line
        j->after_key = false;
        return;
    }
    if (j->depth == 0)
        return;
    bool was_first = j->first[j->depth];
    if (!was_first)
        fputc(',', j->f);
    j->first[j->depth] = false;
    if (j->compact[j->depth]) { // "[1, 2]" on one line
        if (!was_first)
            fputc(' ', j->f);
        return;
    }
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

static void write_escaped(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

void json_key(json_out_t *j, const char *key) {
    before_item(j);
    write_escaped(j->f, key);
    fputs(": ", j->f);
    j->after_key = true;
}

static void open_container(json_out_t *j, char c, bool compact) {
    before_item(j);
    fputc(c, j->f);
    if (j->depth + 1 < JSON_MAX_DEPTH) {
        j->depth++;
        j->first[j->depth] = true;
        // Everything inside a compact container stays on its line.
        j->compact[j->depth] = compact || j->compact[j->depth - 1];
    }
}

static void close_container(json_out_t *j, char c) {
    bool was_empty = j->first[j->depth];
    bool compact = j->compact[j->depth];
    if (j->depth > 0)
        j->depth--;
    if (!compact && !was_empty) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    fputc(c, j->f);
}

void json_begin_object(json_out_t *j) { open_container(j, '{', false); }
void json_end_object(json_out_t *j) { close_container(j, '}'); }
void json_begin_array(json_out_t *j, bool compact) { open_container(j, '[', compact); }
void json_end_array(json_out_t *j) { close_container(j, ']'); }

void json_string(json_out_t *j, const char *s) {
    if (!s) {
        json_null(j);
        return;
    }
    before_item(j);
    write_escaped(j->f, s);
}

void json_u64(json_out_t *j, uint64_t v) {
    before_item(j);
    fprintf(j->f, "%" PRIu64, v);
}

void json_i64(json_out_t *j, int64_t v) {
    before_item(j);
    fprintf(j->f, "%" PRId64, v);
}

void json_bool(json_out_t *j, bool v) {
    before_item(j);
    fputs(v ? "true" : "false", j->f);
}

void json_null(json_out_t *j) {
    before_item(j);
    fputs("null", j->f);
}

void json_finish(json_out_t *j) { fputc('\n', j->f); }
