// SPDX-License-Identifier: MIT
// nodeset_t operations: list formatting and parsing (sysfs "0-3,7" lists),
// iteration and set algebra on the fixed bitmap.
#include "base/nodeset.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

unsigned nodeset_count(const nodeset_t *s) {
    unsigned c = 0;
    for (unsigned i = 0; i < NODESET_WORDS; i++)
        c += (unsigned)__builtin_popcountll(s->w[i]);
    return c;
}

int nodeset_next(const nodeset_t *s, unsigned from) {
    for (unsigned i = from / 64; i < NODESET_WORDS; i++) {
        uint64_t w = s->w[i];
        if (i == from / 64)
            w &= ~UINT64_C(0) << (from % 64);
        if (w)
            return (int)(i * 64 + (unsigned)__builtin_ctzll(w));
    }
    return -1;
}

int nodeset_last(const nodeset_t *s) {
    for (unsigned i = NODESET_WORDS; i-- > 0;)
        if (s->w[i])
            return (int)(i * 64 + 63 - (unsigned)__builtin_clzll(s->w[i]));
    return -1;
}

void nodeset_or(nodeset_t *dst, const nodeset_t *a, const nodeset_t *b) {
    for (unsigned i = 0; i < NODESET_WORDS; i++)
        dst->w[i] = a->w[i] | b->w[i];
}

void nodeset_and(nodeset_t *dst, const nodeset_t *a, const nodeset_t *b) {
    for (unsigned i = 0; i < NODESET_WORDS; i++)
        dst->w[i] = a->w[i] & b->w[i];
}

bool nodeset_equal(const nodeset_t *a, const nodeset_t *b) {
    return memcmp(a->w, b->w, sizeof a->w) == 0;
}

size_t nodeset_format(const nodeset_t *s, char *buf, size_t len) {
    size_t used = 0;
    if (len)
        buf[0] = '\0';
    for (int n = nodeset_next(s, 0); n >= 0;) {
        int end = n;
        while (nodeset_isset(s, (unsigned)end + 1))
            end++;
        char item[32];
        int k = end > n ? snprintf(item, sizeof item, "%s%d-%d", used ? "," : "", n, end)
                        : snprintf(item, sizeof item, "%s%d", used ? "," : "", n);
        if (used + (size_t)k < len)
            memcpy(buf + used, item, (size_t)k + 1);
        else if (len)
            buf[len - 1] = '\0';
        used += (size_t)k;
        n = nodeset_next(s, (unsigned)end + 1);
    }
    return used;
}

static int parse_num(const char **p, unsigned long *out) {
    while (**p == ' ' || **p == '\t')
        (*p)++;
    if (!isdigit((unsigned char)**p))
        return EINVAL;
    char *end;
    errno = 0;
    unsigned long v = strtoul(*p, &end, 10);
    if (errno || v >= NODESET_MAX)
        return EINVAL;
    *p = end;
    while (**p == ' ' || **p == '\t')
        (*p)++;
    *out = v;
    return 0;
}

int nodeset_parse_list(const char *str, nodeset_t *out) {
    if (!str)
        return EINVAL;
    nodeset_t s;
    nodeset_zero(&s);
    const char *p = str;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0' || *p == '\n') {
        *out = s;
        return 0;
    }
    for (;;) {
        unsigned long a, b;
        if (parse_num(&p, &a))
            return EINVAL;
        b = a;
        if (*p == '-') {
            p++;
            if (parse_num(&p, &b) || b < a)
                return EINVAL;
        }
        for (unsigned long n = a; n <= b; n++)
            nodeset_set(&s, (unsigned)n);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\n')
            p++;
        if (*p != '\0')
            return EINVAL;
        break;
    }
    *out = s;
    return 0;
}

void nodeset_to_ulongs(const nodeset_t *s, unsigned long *out, size_t nwords) {
    const size_t per = sizeof(unsigned long) * 8;
    memset(out, 0, nwords * sizeof *out);
    for (int n = nodeset_next(s, 0); n >= 0; n = nodeset_next(s, (unsigned)n + 1))
        if ((size_t)n / per < nwords)
            out[(size_t)n / per] |= 1ul << ((size_t)n % per);
}
