// SPDX-License-Identifier: MIT
// The memkind environment variables, one process per setting (ctest sets
// the variable; the first argument says what must happen, the second a
// text stderr must show with MEMKIND_DEBUG=1, the third one more - so that
// the message and the behaviour agree, e.g. "MEMKIND_ERROR_ENVIRON" when
// the kinds report it). Never a crash:
//   ok              every kind behaves as without the variable
//   environ         MEMKIND_ERROR_ENVIRON from check_available, create_pmem,
//                   create_fixed and set_bg_threads; allocations NULL/ENOMEM
//   hbw-environ     the HBW kinds report MEMKIND_ERROR_ENVIRON, the others work
//   kmem-environ    the DAX_KMEM kinds report MEMKIND_ERROR_ENVIRON, the others work
//   hog / nohog     freed memory stays held (MEMKIND_HOG_MEMORY=1) or goes back
//   manager=NAME    the heap manager in use (memkind_stats_print) contains NAME
//   manager-ignored an unknown MEMKIND_HEAP_MANAGER: every kind works with the
//                   default manager (hbw_malloc too), the message appears once
//   arenas=N        a created kind has N arenas (MEMKIND_ARENA_NUM_PER_KIND)
//   bg              the background thread runs after the first allocation
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <hbwmalloc.h>
#include <memkind.h>
#include <memkind/internal/memkind_arena.h>

static int failures;
#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stdout, "FAILED %s:%d: %s\n", __FILE__, __LINE__, #c);                         \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void sink(void *opaque, const char *s) {
    char *buf = opaque;
    strncat(buf, s, 65535 - strlen(buf));
}

static char printed[65536];

static void stats_text(void) {
    printed[0] = '\0';
    memkind_stats_print(sink, printed, MEMKIND_STAT_PRINT_JSON_FORMAT);
}

static size_t resident(memkind_t k) {
    size_t v = 0;
    memkind_update_cached_stats();
    memkind_get_stat(k, MEMKIND_STAT_TYPE_RESIDENT, &v);
    return v;
}

int main(int argc, char **argv) {
    const char *expect = argc > 1 ? argv[1] : "ok";
    const char *want_msg = argc > 2 ? argv[2] : NULL;
    const char *want_msg2 = argc > 3 ? argv[3] : NULL;

    // stderr into a file, to look for the MEMKIND_DEBUG message
    char errpath[] = "/tmp/hetmem-mk-env-XXXXXX";
    int errfd = mkstemp(errpath);
    int saved = dup(2);
    dup2(errfd, 2);

    static char area[1 << 20] __attribute__((aligned(4096)));
    memkind_t pk = NULL, fk = NULL;
    int pmem = memkind_create_pmem("/tmp", 0, &pk);
    int fixed = memkind_create_fixed(area, sizeof area, &fk);
    errno = 0;
    void *p = memkind_malloc(MEMKIND_DEFAULT, 100);
    int malloc_errno = errno;

    if (strcmp(expect, "environ") == 0) {
        CHECK(memkind_check_available(MEMKIND_DEFAULT) == MEMKIND_ERROR_ENVIRON);
        CHECK(memkind_check_available(MEMKIND_REGULAR) == MEMKIND_ERROR_ENVIRON);
        CHECK(pmem == MEMKIND_ERROR_ENVIRON);
        CHECK(fixed == MEMKIND_ERROR_ENVIRON);
        CHECK(p == NULL && malloc_errno == ENOMEM);
        CHECK(memkind_set_bg_threads(true) == MEMKIND_ERROR_ENVIRON);
        CHECK(hbw_malloc(10) == NULL);
    } else {
        CHECK(memkind_check_available(MEMKIND_DEFAULT) == 0);
        CHECK(pmem == 0 && fixed == 0);
        CHECK(p != NULL);
        memkind_free(NULL, p);
    }
    if (strcmp(expect, "hbw-environ") == 0) {
        memkind_t hbw[] = {MEMKIND_HBW, MEMKIND_HBW_ALL, MEMKIND_HBW_PREFERRED,
                           MEMKIND_HBW_INTERLEAVE, MEMKIND_HBW_HUGETLB};
        for (size_t i = 0; i < sizeof hbw / sizeof hbw[0]; i++) {
            CHECK(memkind_check_available(hbw[i]) == MEMKIND_ERROR_ENVIRON);
            errno = 0;
            CHECK(memkind_malloc(hbw[i], 10) == NULL && errno == ENOMEM);
        }
        CHECK(hbw_check_available() == ENODEV);
        CHECK(memkind_check_available(MEMKIND_DAX_KMEM) != MEMKIND_ERROR_ENVIRON);
    }
    if (strcmp(expect, "kmem-environ") == 0) {
        CHECK(memkind_check_available(MEMKIND_DAX_KMEM) == MEMKIND_ERROR_ENVIRON);
        CHECK(memkind_check_available(MEMKIND_DAX_KMEM_ALL) == MEMKIND_ERROR_ENVIRON);
        CHECK(memkind_check_available(MEMKIND_HBW) != MEMKIND_ERROR_ENVIRON);
    }
    if (strcmp(expect, "hog") == 0 || strcmp(expect, "nohog") == 0) {
        size_t big = 256u << 20;
        size_t before = resident(MEMKIND_INTERLEAVE);
        char *b = memkind_malloc(MEMKIND_INTERLEAVE, big);
        CHECK(b != NULL);
        if (b)
            memset(b, 1, big);
        memkind_free(MEMKIND_INTERLEAVE, b);
        size_t after = resident(MEMKIND_INTERLEAVE);
        if (expect[0] == 'h')
            CHECK(after >= before + big); // kept for reuse
        else
            CHECK(after < before + big); // given back
    }
    if (strncmp(expect, "manager=", 8) == 0) {
        stats_text();
        CHECK(strstr(printed, expect + 8) != NULL);
        void *v[100];
        for (int i = 0; i < 100; i++)
            CHECK((v[i] = memkind_malloc(MEMKIND_REGULAR, 100 * (size_t)i + 1)) != NULL);
        for (int i = 0; i < 100; i++)
            memkind_free(NULL, v[i]);
    }
    if (strncmp(expect, "arenas=", 7) == 0) {
        unsigned n = (unsigned)atoi(expect + 7), pow2 = 1;
        while (pow2 < n)
            pow2 <<= 1;
        CHECK(fk && fk->arena_map_len == pow2);
        unsigned a;
        CHECK(memkind_thread_get_arena(fk, &a, 0) == 0 && a >= fk->arena_zero &&
              a < fk->arena_zero + pow2);
    }
    if (strcmp(expect, "manager-ignored") == 0) {
        stats_text();
        CHECK(strstr(printed, "scalable") != NULL); // the default heap manager
        memkind_t kinds[] = {MEMKIND_DEFAULT, MEMKIND_REGULAR, MEMKIND_INTERLEAVE, pk, fk};
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            CHECK(kinds[i] && memkind_check_available(kinds[i]) == 0);
            void *q = kinds[i] ? memkind_malloc(kinds[i], 1000) : NULL;
            CHECK(q != NULL);
            memkind_free(NULL, q);
        }
        void *h = hbw_malloc(100); // PREFERRED: HBW or, without it, standard memory
        CHECK(h != NULL);
        hbw_free(h);
    }
    if (strcmp(expect, "bg") == 0) {
        stats_text();
        CHECK(strstr(printed, "\"background_thread\": true") != NULL);
    }
    if (pk)
        memkind_destroy_kind(pk);
    if (fk)
        memkind_destroy_kind(fk);

    dup2(saved, 2);
    char log[8192] = {0};
    lseek(errfd, 0, SEEK_SET);
    ssize_t n = read(errfd, log, sizeof log - 1);
    close(errfd);
    unlink(errpath);
    if (n > 0)
        fprintf(stderr, "%s", log);
    if (want_msg)
        CHECK(strstr(log, want_msg) != NULL);
    if (strcmp(expect, "manager-ignored") == 0 && want_msg) { // reported once
        const char *first = strstr(log, want_msg);
        CHECK(first && strstr(first + 1, want_msg) == NULL);
    }
    if (want_msg && want_msg2) { // one line names the variable and the answer
        bool agree = false;
        for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
            if (strstr(line, want_msg) && strstr(line, want_msg2))
                agree = true;
        CHECK(agree);
    }

    printf("%s: %s\n", expect, failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
