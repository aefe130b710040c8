// SPDX-License-Identifier: MIT
// The MEMKIND_* variables the front end reads itself, parsed once; a
// malformed one makes the kinds that depend on it fail with
// MEMKIND_ERROR_ENVIRON (docs/memkind.md, "Environment").
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "frontend/memkind/mk_priv.h"

static mk_env_t env;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

// A decimal number with nothing around it; false for anything else.
static bool parse_ulong(const char *s, unsigned long *out) {
    size_t n = strspn(s, "0123456789");
    if (n == 0 || s[n] || n > 19)
        return false;
    *out = strtoul(s, NULL, 10);
    return true;
}

static void bad(unsigned bit, const char *name, const char *value, const char *expected) {
    env.malformed |= bit; // parsed once per process: each message appears once
    LOG_ERR("malformed %s=\"%s\" (expected %s): memkind kinds report MEMKIND_ERROR_ENVIRON", name,
            value, expected);
}

static void parse(void) {
    env = (mk_env_t){.bg_thread_limit = -1};
    const char *v;
    unsigned long n;

    if ((v = getenv("MEMKIND_ARENA_NUM_PER_KIND"))) {
        if (parse_ulong(v, &n) && n >= 1 && n <= INT_MAX)
            env.arena_num = (unsigned)n;
        else
            bad(MK_ENV_ARENA_NUM, "MEMKIND_ARENA_NUM_PER_KIND", v, "1..INT_MAX");
    }
    if ((v = getenv("MEMKIND_HOG_MEMORY"))) {
        if (strcmp(v, "1") == 0)
            env.hog_memory = true;
        else if (strcmp(v, "0") != 0)
            bad(MK_ENV_HOG_MEMORY, "MEMKIND_HOG_MEMORY", v, "0 or 1");
    }
    if ((v = getenv("MEMKIND_HEAP_MANAGER"))) {
        if (strcmp(v, "JEMALLOC") == 0)
            env.heap_manager = MK_HEAP_JEMALLOC;
        else if (strcmp(v, "TBB") == 0)
            env.heap_manager = MK_HEAP_TBB;
        else // memkind takes any other value as unset: so do we, but say so
            LOG_ERR("MEMKIND_HEAP_MANAGER=\"%.64s\" is not JEMALLOC or TBB: ignored, the "
                    "default heap manager serves",
                    v);
    }
    if ((v = getenv("MEMKIND_BACKGROUND_THREAD_LIMIT"))) {
        long cpus = sysconf(_SC_NPROCESSORS_CONF);
        if (parse_ulong(v, &n) && (long)n <= (cpus > 0 ? cpus : 1))
            env.bg_thread_limit = (long)n;
        else
            bad(MK_ENV_BG_THREAD_LIMIT, "MEMKIND_BACKGROUND_THREAD_LIMIT", v,
                "0..the number of CPUs");
    }
    if (env.malformed == 0)
        LOG_INFO("memkind environment: arenas per kind %u, hog memory %d, heap manager %d, "
                 "background thread limit %ld",
                 env.arena_num, env.hog_memory, (int)env.heap_manager, env.bg_thread_limit);
}

const mk_env_t *mk_env(void) {
    pthread_once(&env_once, parse);
    return &env;
}

int mk_env_status(void) { return mk_env()->malformed ? MEMKIND_ERROR_ENVIRON : MEMKIND_SUCCESS; }

#ifdef HETMEM_TEST_HOOKS
void mk_env_reset_for_testing(void) {
    pthread_once_t fresh = PTHREAD_ONCE_INIT;
    env_once = fresh;
}
#endif
