// SPDX-License-Identifier: MIT
// guest_hmalloc_mpol: runs in a test guest under hmctl and reads back the
// memory policy the hmalloc pool and hmmap applied (get_mempolicy with
// MPOL_F_ADDR): the mode and the exact node mask, then where the touched
// pages landed (move_pages): all on the policy's nodes.
//
// Usage: guest_hmalloc_mpol --expect MODE:NODES [--probe-unsupported]
//   MODE  preferred | preferred-many; NODES "1,2" or "3-5"
//   --probe-unsupported  the test flavour's hook makes the kernel-mode
//         probe (os_mpol_supported) answer "no MPOL_PREFERRED_MANY" before
//         the first allocation, so that hmctl -P's fallback runs here.
// Linked with the test flavour (hetmem_hmalloc_internal) for that hook.
// Prints one "ok"/"not ok" line per check; exits 1 if any failed, 2 on a
// usage error.
#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <hmalloc.h>

#include "guest_pages.h"
#include "os/os.h"

#ifndef MPOL_PREFERRED_MANY
#define MPOL_PREFERRED_MANY 5
#endif

#define BLOCK ((size_t)8 << 20)

static int failures;

static void check(bool ok, const char *what, const char *detail) {
    printf("%s - %s%s%s\n", ok ? "ok" : "not ok", what, detail[0] ? ": " : "", detail);
    if (!ok)
        failures++;
}

// "1,2" / "3-5" as a bit mask (nodes 0-63).
static bool parse_mask(const char *s, uint64_t *mask) {
    *mask = 0;
    while (*s) {
        char *end;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (end == s)
            return false;
        if (*end == '-')
            b = strtoul(end + 1, &end, 10);
        if (b >= 64 || b < a || (*end && *end != ','))
            return false;
        for (unsigned long n = a; n <= b; n++)
            *mask |= 1ull << n;
        s = *end ? end + 1 : end;
    }
    return *mask != 0;
}

// The policy at p must be `mode` over exactly `mask`; its touched pages
// must all lie on `mask`.
static void check_region(const char *what, void *p, size_t len, int mode, uint64_t mask) {
    char detail[256];
    int got = -1;
    unsigned long nm[1024 / (8 * sizeof(unsigned long))] = {0};
    if (get_mempolicy(&got, nm, 1024, p, MPOL_F_ADDR) != 0) {
        snprintf(detail, sizeof detail, "get_mempolicy: %s", strerror(errno));
        check(false, what, detail);
        return;
    }
    bool rest_zero = true;
    for (size_t i = 1; i < sizeof nm / sizeof nm[0]; i++)
        rest_zero = rest_zero && nm[i] == 0;
    snprintf(detail, sizeof detail, "mode %d (want %d), nodemask 0x%lx (want 0x%llx)", got, mode,
             nm[0], (unsigned long long)mask);
    char name[96];
    snprintf(name, sizeof name, "%s: policy read back", what);
    check(got == mode && nm[0] == mask && rest_zero, name, detail);
    gp_count_t c;
    snprintf(name, sizeof name, "%s: pages on the preferred nodes", what);
    bool counted = gp_count(p, len, true, NULL, &c);
    size_t on = counted ? gp_on_mask(&c, mask) : 0;
    snprintf(detail, sizeof detail, "%zu of %zu pages, %s", on, c.pages, gp_format(&c));
    check(counted && c.pages > 0 && on == c.pages, name, detail);
}

int main(int argc, char **argv) {
    const char *expect = NULL;
    bool unsupported = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc)
            expect = argv[++i];
        else if (strcmp(argv[i], "--probe-unsupported") == 0)
            unsupported = true;
        else
            expect = NULL, i = argc;
    }
    const char *colon = expect ? strchr(expect, ':') : NULL;
    uint64_t mask;
    if (!colon || !parse_mask(colon + 1, &mask)) {
        fprintf(stderr, "usage: guest_hmalloc_mpol --expect MODE:NODES [--probe-unsupported]\n");
        return 2;
    }
    int mode;
    if ((size_t)(colon - expect) == strlen("preferred-many") &&
        strncmp(expect, "preferred-many", strlen("preferred-many")) == 0)
        mode = MPOL_PREFERRED_MANY;
    else if ((size_t)(colon - expect) == strlen("preferred") &&
             strncmp(expect, "preferred", strlen("preferred")) == 0)
        mode = MPOL_PREFERRED;
    else {
        fprintf(stderr, "guest_hmalloc_mpol: mode must be preferred or preferred-many\n");
        return 2;
    }
    if (unsupported)
        os_mpol_unsupported_for_testing(OS_MPOL_PREFERRED_MANY, true);
    void *h = hmalloc(BLOCK);
    if (!h) {
        check(false, "hmalloc", "returned NULL");
        return 1;
    }
    check_region("hmalloc", h, BLOCK, mode, mask);
    void *m = hmmap(NULL, BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || !m) {
        check(false, "hmmap", "failed");
    } else {
        check_region("hmmap", m, BLOCK, mode, mask);
        hmunmap(m, BLOCK);
    }
    hfree(h);
    printf(failures ? "FAILED (%d)\n" : "PASSED\n", failures);
    return failures ? 1 : 0;
}
