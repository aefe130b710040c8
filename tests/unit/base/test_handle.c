// SPDX-License-Identifier: MIT
// base/handle.h: the live check, the one-shot kill, the refusal's log line
// (one, named after the API function), the graveyards (FIFO, zeroed reuse
// only after `keep` later retires, a link at any offset), their lock under
// fork and under threads.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/handle.h"
#include "base/log.h"

#define THING_TAG 0x54484e47u // "GNHT"

struct thing {
    handle_hdr_t hdr;
    int value;
};

// A layout without handle_hdr_t: the link elsewhere (as memkind kinds).
struct other {
    int state;
    void *link;
    int value;
};

static unsigned seed;

// ---- check, kill ------------------------------------------------------------------

static void live_dead_garbage(void **state) {
    (void)state;
    struct thing t = {0};
    assert_false(handle_live(NULL, THING_TAG));
    assert_false(handle_live(&t, THING_TAG)); // zeros
    handle_set_live(&t.hdr, THING_TAG);
    assert_true(handle_live(&t, THING_TAG));
    assert_false(handle_live(&t, THING_TAG ^ 1u)); // another type
    for (int bit = 0; bit < 32; bit++) {           // one bit of the tag damaged
        struct thing c = t;
        atomic_store(&c.hdr.tag, THING_TAG ^ (1u << bit));
        assert_false(handle_live(&c, THING_TAG));
    }
    log_set_level(LOG_LEVEL_OFF);
    assert_true(handle_kill(&t, THING_TAG, "thing", "test"));
    assert_false(handle_live(&t, THING_TAG));
    assert_int_equal(atomic_load(&t.hdr.tag), handle_dead_tag(THING_TAG));
    assert_false(handle_kill(&t, THING_TAG, "thing", "test")); // twice
    assert_false(handle_kill(NULL, THING_TAG, "thing", "test"));
    struct thing g;
    memset(&g, 0xa5, sizeof g);
    assert_false(handle_kill(&g, THING_TAG, "thing", "test")); // garbage stays as it was
    assert_int_equal(atomic_load(&g.hdr.tag), 0xa5a5a5a5u);
    assert_false(handle_ok(&t, THING_TAG, "thing", "test"));
}

// ---- log lines ----------------------------------------------------------------------

// What one refusal of h writes to stderr (a temporary file in its place).
static void refusal_text(const void *h, bool kill, char *out, size_t len) {
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stderr);
    int saved = dup(2);
    dup2(fileno(f), 2);
    log_set_level(LOG_LEVEL_ERROR);
    if (kill)
        handle_kill((void *)h, THING_TAG, "thing", "thingDestroy");
    else
        handle_ok(h, THING_TAG, "thing", "thingUse");
    log_set_level(LOG_LEVEL_OFF);
    dup2(saved, 2);
    close(saved);
    rewind(f);
    out[fread(out, 1, len - 1, f)] = '\0';
    fclose(f);
}

static int count(const char *s, const char *what) {
    int n = 0;
    for (; (s = strstr(s, what)); s++)
        n++;
    return n;
}

static void log_lines(void **state) {
    (void)state;
    struct thing live = {0}, dead = {0}, junk;
    handle_set_live(&live.hdr, THING_TAG);
    handle_set_live(&dead.hdr, THING_TAG);
    log_set_level(LOG_LEVEL_OFF);
    assert_true(handle_kill(&dead, THING_TAG, "thing", "test"));
    memset(&junk, 0x5c, sizeof junk);
    const struct {
        const void *h;
        bool kill;
        const char *fn, *must_say;
    } cases[] = {
        {NULL, false, "[thingUse]", "NULL thing handle"},
        {&dead, false, "[thingUse]", "was destroyed"},
        {&junk, false, "[thingUse]", "invalid thing handle"},
        {NULL, true, "[thingDestroy]", "NULL thing handle"},
        {&dead, true, "[thingDestroy]", "was destroyed"},
        {&junk, true, "[thingDestroy]", "invalid thing handle"},
        {&live, false, "", NULL}, // accepted: no line
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[1024];
        refusal_text(cases[i].h, cases[i].kill, buf, sizeof buf);
        int lines = count(buf, "hetmem ERROR ");
        if (!cases[i].must_say) {
            if (lines != 0)
                fail_msg("case %zu: a live handle logged:\n%s", i, buf);
            continue;
        }
        if (lines != 1 || !strstr(buf, cases[i].fn) || !strstr(buf, cases[i].must_say))
            fail_msg("case %zu: %d ERROR lines, want 1 with %s and \"%s\":\n%s", i, lines,
                     cases[i].fn, cases[i].must_say, buf);
    }
}

// ---- graveyards ---------------------------------------------------------------------

static void fifo_after_keep(void **state) {
    (void)state;
    enum { N = HANDLE_QUARANTINE + 10 };
    static struct thing v[N];
    handle_graveyard_t g = HANDLE_GRAVEYARD_INIT;
    assert_null(handle_graveyard_take(&g, sizeof(struct thing)));
    for (int i = 0; i < N; i++) {
        handle_set_live(&v[i].hdr, THING_TAG);
        v[i].value = i + 1;
        handle_retire(&g, &v[i].hdr, THING_TAG);
        assert_false(handle_live(&v[i], THING_TAG));
        // A retired struct is not handed out while keep or fewer wait.
        if (i < HANDLE_QUARANTINE) {
            assert_null(handle_graveyard_take(&g, sizeof(struct thing)));
        }
    }
    // Every struct still reads dead: its memory is kept as it was.
    for (int i = 0; i < N; i++) {
        assert_int_equal(atomic_load(&v[i].hdr.tag), handle_dead_tag(THING_TAG));
        assert_int_equal(v[i].value, i + 1);
    }
    // Oldest first, zeroed, and only the ones beyond keep.
    for (int i = 0; i < N - HANDLE_QUARANTINE; i++) {
        struct thing *t = handle_graveyard_take(&g, sizeof *t);
        assert_ptr_equal(t, &v[i]);
        assert_int_equal(t->value, 0);
        assert_int_equal(atomic_load(&t->hdr.tag), 0);
    }
    assert_null(handle_graveyard_take(&g, sizeof(struct thing)));
    assert_int_equal(g.count, HANDLE_QUARANTINE);
}

static void link_elsewhere(void **state) {
    (void)state;
    enum { KEEP = 3, N = 8 };
    struct other v[N];
    handle_graveyard_t g = HANDLE_GRAVEYARD_INIT_AT(offsetof(struct other, link), KEEP);
    for (int i = 0; i < N; i++) {
        v[i] = (struct other){.state = 7, .value = 100 + i};
        handle_bury(&g, &v[i]);
    }
    for (int i = 0; i < N; i++) // only the link is written while buried
        assert_true(v[i].state == 7 && v[i].value == 100 + i);
    for (int i = 0; i < N - KEEP; i++) {
        struct other *o = handle_graveyard_take(&g, sizeof *o);
        assert_ptr_equal(o, &v[i]);
        assert_true(o->state == 0 && o->value == 0 && o->link == NULL);
    }
    assert_null(handle_graveyard_take(&g, sizeof(struct other)));
}

// ---- fork, threads ------------------------------------------------------------------

// fork(2) while another thread keeps taking the graveyards' lock: the
// registry walk (base/lock.c) holds it across fork and releases it on both
// sides, so every child can use the graveyards at once.
static atomic_bool burying;
static void *bury_loop(void *arg) {
    static struct thing w[2];
    handle_graveyard_t *g = arg;
    while (atomic_load(&burying))
        for (int i = 0; i < 2; i++) {
            handle_bury(g, &w[i]);
            (void)handle_graveyard_take(g, sizeof w[i]);
        }
    return NULL;
}

static void fork_releases(void **state) {
    (void)state;
    static struct thing v[4];
    static handle_graveyard_t g = HANDLE_GRAVEYARD_INIT_AT(offsetof(handle_hdr_t, grave), 0);
    static handle_graveyard_t other = HANDLE_GRAVEYARD_INIT_AT(offsetof(handle_hdr_t, grave), 0);
    pthread_t t;
    atomic_store(&burying, true);
    assert_int_equal(pthread_create(&t, NULL, bury_loop, &other), 0);
    int failed = 0;
    for (int k = 0; k < 20; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10); // a lock left held would hang here
            handle_bury(&g, &v[0]);
            _exit(handle_graveyard_take(&g, sizeof v[0]) == &v[0] ? 0 : 1);
        }
        assert_true(pid > 0);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            printf("child %d: %s %d\n", k, WIFEXITED(st) ? "exit" : "signal",
                   WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
            failed++;
        }
    }
    atomic_store(&burying, false);
    assert_int_equal(pthread_join(t, NULL), 0);
    handle_bury(&g, &v[1]);
    assert_ptr_equal(handle_graveyard_take(&g, sizeof v[1]), &v[1]);
    assert_int_equal(failed, 0);
}

enum { THREADS = 4, PER_THREAD = 40, ROUNDS = 2000 };
static struct thing pool_of[THREADS][PER_THREAD];
static handle_graveyard_t shared_g = HANDLE_GRAVEYARD_INIT;
static int bad[THREADS]; // written by each thread, read by main after join

// Each thread retires and takes structs of one shared graveyard: a taken
// struct must be dead-then-zeroed, never one that is live in another thread.
static void *churn(void *arg) {
    int id = (int)(intptr_t)arg;
    struct thing *mine[PER_THREAD];
    int n = 0;
    unsigned r = seed + (unsigned)id;
    for (int i = 0; i < PER_THREAD; i++) {
        mine[n] = &pool_of[id][i];
        handle_set_live(&mine[n++]->hdr, THING_TAG);
    }
    for (int round = 0; round < ROUNDS; round++) {
        r = r * 1103515245u + 12345u;
        if (n > 0 && (r >> 16) % 2) {
            struct thing *t = mine[--n];
            handle_retire(&shared_g, &t->hdr, THING_TAG);
        } else {
            struct thing *t = handle_graveyard_take(&shared_g, sizeof *t);
            if (!t)
                continue;
            if (atomic_load(&t->hdr.tag) != 0 || t->value != 0)
                bad[id]++;
            t->value = id + 1;
            handle_set_live(&t->hdr, THING_TAG);
            if (n < PER_THREAD)
                mine[n++] = t;
            else
                handle_retire(&shared_g, &t->hdr, THING_TAG);
        }
    }
    for (int i = 0; i < n; i++) {
        if (!handle_live(mine[i], THING_TAG))
            bad[id]++;
        handle_retire(&shared_g, &mine[i]->hdr, THING_TAG);
    }
    return NULL;
}

static void threads_share(void **state) {
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)(intptr_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(bad[i], 0);
    // Every struct ends in the graveyard, once.
    assert_int_equal(shared_g.count, THREADS * PER_THREAD);
    size_t n = 0;
    for (void *o = shared_g.oldest; o; o = ((handle_hdr_t *)o)->grave)
        n++;
    assert_int_equal(n, THREADS * PER_THREAD);
}

int main(void) {
    const char *s = getenv("HETMEM_TEST_SEED");
    seed = s ? (unsigned)strtoul(s, NULL, 0) : (unsigned)getpid();
    printf("test_handle: seed %u (HETMEM_TEST_SEED to replay)\n", seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(live_dead_garbage), cmocka_unit_test(log_lines),
        cmocka_unit_test(fifo_after_keep),   cmocka_unit_test(link_elsewhere),
        cmocka_unit_test(fork_releases),     cmocka_unit_test(threads_share),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
