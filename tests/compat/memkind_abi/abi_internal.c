// SPDX-License-Identifier: MIT
// A memkind 1.14 program that uses the internal ABI (the names of memkind's
// memkind/internal/*.h, declared here: Debian ships no internal headers).
// Linked with -z now against Debian's libmemkind.so.0, so it does not start
// when a symbol is missing; run on Debian's library and on ours, the two
// outputs must be identical (run-abi-test), so the codes printed are
// memkind's. Usage: abi_internal WORK_DIR [limit]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memkind.h>

// memkind 1.14's struct memkind_ops (21 members) and struct memkind, exactly
// (120 bytes): an implementation must keep its own state inside it. Each
// kind below is followed by guard bytes that must stay untouched.
struct memkind_ops {
    int (*create)(struct memkind *, struct memkind_ops *, const char *);
    int (*destroy)(struct memkind *);
    void *f2[10]; // malloc ... get_mbind_mode
    int (*get_mbind_nodemask)(struct memkind *, unsigned long *, unsigned long);
    void *get_arena;
    int (*check_available)(struct memkind *);
    void (*init_once)(void);
    void *f16[5]; // finalize ... defrag_reallocate
};
struct memkind {
    struct memkind_ops *ops;
    unsigned int partition;
    char name[64];
    pthread_once_t init_once;
    unsigned int arena_map_len;
    unsigned int *arena_map;
    pthread_key_t arena_key;
    void *priv;
    unsigned int arena_map_mask;
    unsigned int arena_zero;
};
_Static_assert(sizeof(struct memkind) == 120, "memkind 1.14's struct memkind is 120 bytes");
#define GUARD 0xa5

#define NODEMASKS(X) X(hbw) X(hbw_all) X(dax_kmem_all) X(regular_all)
#define DECL_NODEMASK(n)                                                                           \
    int memkind_##n##_get_mbind_nodemask(struct memkind *, unsigned long *, unsigned long);
NODEMASKS(DECL_NODEMASK)
#define KINDS(X)                                                                                   \
    X(DEFAULT) X(HBW) X(HBW_ALL) X(HBW_HUGETLB) X(HBW_ALL_HUGETLB) X(HBW_PREFERRED)                \
    X(HBW_PREFERRED_HUGETLB) X(HBW_INTERLEAVE) X(HBW_GBTLB) X(HBW_PREFERRED_GBTLB) X(GBTLB)        \
    X(HUGETLB) X(INTERLEAVE) X(REGULAR) X(DAX_KMEM) X(DAX_KMEM_ALL) X(DAX_KMEM_PREFERRED)          \
    X(DAX_KMEM_INTERLEAVE) X(HIGHEST_CAPACITY) X(HIGHEST_CAPACITY_PREFERRED)                       \
    X(HIGHEST_CAPACITY_LOCAL) X(HIGHEST_CAPACITY_LOCAL_PREFERRED) X(LOWEST_LATENCY_LOCAL)          \
    X(LOWEST_LATENCY_LOCAL_PREFERRED) X(HIGHEST_BANDWIDTH_LOCAL)                                   \
    X(HIGHEST_BANDWIDTH_LOCAL_PREFERRED)
#define DECL_OPS(K) extern struct memkind_ops MEMKIND_##K##_OPS;
KINDS(DECL_OPS)
extern struct memkind_ops MEMKIND_PMEM_OPS, MEMKIND_FIXED_OPS;
void memkind_hbw_init_once(void);
void memkind_interleave_init_once(void);
int memkind_hbw_check_available(struct memkind *);
int memkind_hugetlb_get_mmap_flags(struct memkind *, int *);
int memkind_pmem_get_mmap_flags(struct memkind *, int *);
int memkind_set_arena_map_len(struct memkind *);
int memkind_arena_create(struct memkind *, struct memkind_ops *, const char *);

#include "abi_check.h"

// Each static kind: its own table, init_once, capacity, available or not.
static void kinds(void) {
#define KIND(K)                                                                                    \
    {                                                                                              \
        struct memkind *k = MEMKIND_##K;                                                           \
        CHECK(k->ops == &MEMKIND_##K##_OPS);                                                       \
        printf("%s: init_once %d", #K, k->ops->init_once != NULL);                                 \
        printf(" available %d", memkind_check_available(k)); /* the code: memkind 1.14 answer */ \
        printf(" capacity %zd\n", memkind_get_capacity(k));                                       \
    }
    KINDS(KIND)
    CHECK(MEMKIND_PMEM_OPS.init_once == NULL && MEMKIND_FIXED_OPS.init_once == NULL);
}

// The nodemask functions, after the kind's first use; and a kind copied
// from a table allocates (REGULAR) or fails as its table's kind does (HBW).
static void templates(void) {
    memkind_free(MEMKIND_REGULAR, memkind_malloc(MEMKIND_REGULAR, 64));
    memkind_free(MEMKIND_HBW, memkind_malloc(MEMKIND_HBW, 64));
    memkind_hbw_init_once();
    memkind_interleave_init_once();
#define NODEMASK(n)                                                                                \
    {                                                                                              \
        unsigned long mask[16] = {0};                                                              \
        int err = memkind_##n##_get_mbind_nodemask(NULL, mask, 1024);                              \
        printf("%s nodemask: %s %s\n", #n, err ? "fails" : "ok", mask[0] ? "nodes" : "empty");     \
    }
    NODEMASKS(NODEMASK)
    CHECK((memkind_hbw_check_available(MEMKIND_HBW) == 0) ==
          (memkind_check_available(MEMKIND_HBW) == 0));
    int flags = 0;
    CHECK(memkind_hugetlb_get_mmap_flags(MEMKIND_HUGETLB, &flags) == 0 && (flags & MAP_HUGETLB));
    CHECK(memkind_pmem_get_mmap_flags(NULL, &flags) == 0 && flags == MAP_SHARED);
    static struct memkind_ops ops[2];
    static struct {
        struct memkind kind;
        unsigned char guard[64];
    } g[2];
    memset(g, GUARD, sizeof g);
    memset(&g[0].kind, 0, sizeof g[0].kind);
    memset(&g[1].kind, 0, sizeof g[1].kind);
    ops[0] = MEMKIND_REGULAR_OPS;
    ops[1] = MEMKIND_HBW_OPS;
    for (int i = 0; i < 2; i++) {
        struct memkind *kind = &g[i].kind;
        CHECK(ops[i].create(kind, &ops[i], i ? "abi_hbw_copy" : "abi_regular_copy") == 0);
        CHECK(memkind_set_arena_map_len(kind) == 0);
        char *p = memkind_malloc(kind, 1 << 20);
        printf("copy of %s: %s\n", i ? "HBW" : "REGULAR", p ? "allocates" : "fails");
        if (p) {
            memset(p, 7, 1 << 20);
            CHECK(p[(1 << 20) - 1] == 7);
            memkind_free(kind, p);
        }
        for (size_t b = 0; b < sizeof g[i].guard; b++)
            CHECK(g[i].guard[b] == GUARD); // nothing written past memkind's struct
    }
}

// Error codes (docs/memkind.md: memkind 1.14's).
static void codes(const char *work) {
    char dir[4096], file[4096];
    snprintf(dir, sizeof dir, "%s/not_dax", work);
    snprintf(file, sizeof file, "%s/not_dax/file", work);
    mkdir(dir, 0700);
    close(open(file, O_CREAT | O_WRONLY, 0600));
    printf("check_dax_path: missing %d, not DAX %d, a file %d\n",
           memkind_check_dax_path("/nonexistent/hetmem"), memkind_check_dax_path(dir),
           memkind_check_dax_path(file));
    static char area[1 << 16] __attribute__((aligned(4096)));
    memkind_t k = NULL;
    int err = memkind_create_fixed(area, 0, &k);
    printf("create_fixed size 0: %d\n", err);
    if (err == 0) {
        errno = 0;
        void *p = memkind_malloc(k, 16);
        printf("  capacity %zd, malloc %s errno %d\n", memkind_get_capacity(k),
               p ? "ok" : "NULL", errno);
        CHECK(memkind_destroy_kind(k) == 0);
    }
}

// Kinds beyond MEMKIND_MAX_KIND (with MEMKIND_ARENA_NUM_PER_KIND=1: memkind
// then runs out of kinds before arenas).
static void limit(void) {
    enum { PIECE = 1 << 16 };
    static char area[MEMKIND_MAX_KIND * PIECE] __attribute__((aligned(4096)));
    static memkind_t k[MEMKIND_MAX_KIND];
    int n = 0, err = 0;
    while (n < MEMKIND_MAX_KIND &&
           (err = memkind_create_fixed(area + (size_t)n * PIECE, PIECE, &k[n])) == 0)
        n++;
    printf("created %d kinds, then %d\n", n, err);
    while (n > 0)
        CHECK(memkind_destroy_kind(k[--n]) == 0);
    CHECK(memkind_create_fixed(area, PIECE, &k[0]) == 0 && memkind_destroy_kind(k[0]) == 0);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 2 && strcmp(argv[2], "limit") == 0) {
        limit();
    } else {
        kinds();
        templates();
        codes(argc > 1 ? argv[1] : "/tmp");
    }
    if (failures)
        printf("%d checks FAILED\n", failures);
    return failures != 0;
}
