// SPDX-License-Identifier: MIT
// memkind_free(kind, p) against memkind_free(NULL, p): the CPU time of one
// small malloc/free pair on a memkind library loaded by path, so that the
// same binary measures hetmem's libmemkind.so.0 and Debian's memkind 1.14
// (docs/PERFORMANCE.md, "memkind_free with and without the kind"). The
// churn and the timing are pair_cost's: 16-512 B from a fixed xorshift
// stream, 1000 live slots, thread CPU time, fastest repetition.
// Usage: mk_free_cost LIBMEMKIND [default|pmem:DIR] [reps] [pairs per rep] [both|kind|null]
// (kind or null: that loop only, for `perf stat -e instructions:u`).
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churn.h"

#define SLOTS CHURN_SLOTS
#define ROUNDS 6

typedef struct memkind *memkind_t;
static void *(*mk_malloc)(memkind_t, size_t);
static void (*mk_free)(memkind_t, void *);


// The fastest repetition of `pairs` frees (with kind, or NULL) and mallocs.
static double run(memkind_t kind, memkind_t free_kind, int reps, long pairs) {
    static void *slot[SLOTS];
    static uint16_t sizes[CHURN_SIZES];
    churn_sizes(sizes);
    for (unsigned i = 0; i < SLOTS; i++)
        slot[i] = mk_malloc(kind, sizes[i]);
    double best = 1e300;
    unsigned k = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = churn_cpu_ns();
        for (long i = 0; i < pairs; i++) {
            unsigned s = (unsigned)(i % SLOTS);
            mk_free(free_kind, slot[s]);
            slot[s] = mk_malloc(kind, sizes[k++ & 0xffff]);
        }
        double t = churn_cpu_ns() - t0;
        if (t < best)
            best = t;
    }
    for (unsigned i = 0; i < SLOTS; i++)
        mk_free(kind, slot[i]);
    return best / (double)pairs;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIBMEMKIND [default|pmem:DIR] [reps] [pairs] [both|kind|null]\n",
                argv[0]);
        return 2;
    }
    const char *which = argc > 2 ? argv[2] : "default";
    int reps = argc > 3 ? atoi(argv[3]) : 30;
    long pairs = argc > 4 ? atol(argv[4]) : 1000000;
    const char *only = argc > 5 ? argv[5] : "both";
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "%s\n", dlerror());
        return 1;
    }
    mk_malloc = (void *(*)(memkind_t, size_t))dlsym(lib, "memkind_malloc");
    mk_free = (void (*)(memkind_t, void *))dlsym(lib, "memkind_free");
    memkind_t *deflt = (memkind_t *)dlsym(lib, "MEMKIND_DEFAULT");
    int (*create_pmem)(const char *, size_t, memkind_t *) =
        (int (*)(const char *, size_t, memkind_t *))dlsym(lib, "memkind_create_pmem");
    if (!mk_malloc || !mk_free || !deflt || !create_pmem) {
        fprintf(stderr, "%s: not a memkind library\n", argv[1]);
        return 1;
    }
    memkind_t kind = *deflt;
    if (strncmp(which, "pmem:", 5) == 0 && create_pmem(which + 5, 0, &kind) != 0) {
        fprintf(stderr, "memkind_create_pmem(%s) failed\n", which + 5);
        return 1;
    }
    // Alternated, each first in turn, so that a change of the machine's
    // load and the order hit both.
    if (strcmp(only, "both") != 0) {
        int k = strcmp(only, "kind") == 0;
        printf("memkind_free(%s) %.2f ns/pair\n", k ? "kind" : "NULL",
               run(kind, k ? kind : NULL, reps, pairs));
        return 0;
    }
    double with = 1e300, without = 1e300;
    for (int round = 0; round < ROUNDS; round++) {
        double a, b;
        if (round & 1) {
            b = run(kind, NULL, reps, pairs);
            a = run(kind, kind, reps, pairs);
        } else {
            a = run(kind, kind, reps, pairs);
            b = run(kind, NULL, reps, pairs);
        }
        with = a < with ? a : with;
        without = b < without ? b : without;
    }
    printf("%s %s: memkind_free(kind) %.2f ns/pair, memkind_free(NULL) %.2f ns/pair "
           "(fastest of %d x %d x %ld)\n",
           argv[1], which, with, without, ROUNDS, reps, pairs);
    return 0;
}
