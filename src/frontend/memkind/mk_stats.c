// SPDX-License-Identifier: MIT
// Statistics (memkind_update_cached_stats, memkind_get_stat,
// memkind_stats_print) and the background purging thread
// (docs/memkind.md, "Statistics, decorators, threads").
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"
#include "heap/heap.h"
#include "os/meta.h"
#include "pools/pool.h"

// ---- cached statistics -----------------------------------------------------------

static void heap_live(mk_heap_t *h, mk_pool_stats_t *sum) {
    *sum = (mk_pool_stats_t){0};
    for (unsigned i = 0; i < h->nslots; i++) {
        mk_pool_stats_t st;
        if (!mk_slot_pool(&h->slots[i]))
            continue;
        mk_pool_stats(mk_slot_pool(&h->slots[i]), &st);
        sum->allocated += st.allocated;
        sum->active += st.active;
        sum->resident += st.resident;
    }
}

static void update_one(mk_heap_t *h, void *arg) {
    (void)arg;
    mk_pool_stats_t st;
    heap_live(h, &st);
    __atomic_store_n(&h->cached[MEMKIND_STAT_TYPE_ALLOCATED], st.allocated, __ATOMIC_RELAXED);
    __atomic_store_n(&h->cached[MEMKIND_STAT_TYPE_ACTIVE], st.active, __ATOMIC_RELAXED);
    __atomic_store_n(&h->cached[MEMKIND_STAT_TYPE_RESIDENT], st.resident, __ATOMIC_RELAXED);
}

HETMEM_EXPORT int memkind_update_cached_stats(void) {
    int saved = errno; // resident pages come from the kernel: errno stays the caller's
    mk_heaps_for_each(update_one, NULL);
    errno = saved;
    return MEMKIND_SUCCESS;
}

static size_t cached(const mk_heap_t *h, memkind_stat_type stat) {
    return __atomic_load_n(&h->cached[stat], __ATOMIC_RELAXED);
}

int mk_op_get_stat(memkind_t kind, memkind_stat_type stat, size_t *value) {
    if ((unsigned)stat >= MEMKIND_STAT_TYPE_MAX_VALUE || !value)
        return MEMKIND_ERROR_INVALID;
    mk_heap_t *h = mk_heap_peek(kind);
    *value = h ? cached(h, stat) : 0;
    return MEMKIND_SUCCESS;
}

typedef struct sum_arg_t {
    memkind_stat_type stat;
    size_t sum;
} sum_arg_t;

static void sum_one(mk_heap_t *h, void *arg) {
    sum_arg_t *a = arg;
    a->sum += cached(h, a->stat);
}

HETMEM_EXPORT int memkind_get_stat(memkind_t kind, memkind_stat_type stat, size_t *value) {
    if ((unsigned)stat >= MEMKIND_STAT_TYPE_MAX_VALUE || !value) {
        LOG_ERR("memkind_get_stat: invalid %s", !value ? "value pointer" : "statistic");
        return MEMKIND_ERROR_INVALID;
    }
    if (!kind) {
        sum_arg_t a = {.stat = stat};
        mk_heaps_for_each(sum_one, &a);
        *value = a.sum;
        return MEMKIND_SUCCESS;
    }
    if (!mk_kind_check(kind, "memkind_get_stat") || !kind->ops)
        return MEMKIND_ERROR_INVALID;
    int saved = errno;
    int err = kind->ops->get_stat ? kind->ops->get_stat(kind, stat, value)
                                  : mk_op_get_stat(kind, stat, value);
    if (err == MEMKIND_SUCCESS)
        errno = saved;
    return err;
}

// ---- printing -----------------------------------------------------------------------

#define MAX_BINS 64

typedef struct kind_snap_t {
    char name[MEMKIND_NAME_LENGTH_PRIV];
    mk_pool_stats_t st;
    unsigned pools, nbins;
    heap_class_stats_t bins[MAX_BINS];
    bool have_large;
    uint64_t large_allocs, large_frees;
    pool_guard_counts_t prov;
} kind_snap_t;

typedef struct snap_t {
    kind_snap_t *v;
    size_t n, cap;
} snap_t;

static void count_one(mk_heap_t *h, void *arg) {
    (void)h;
    (*(size_t *)arg)++;
}

// Adds one pool's engine figures (per size class, large) and counts.
static void snap_pool(kind_snap_t *k, umf_memory_pool_handle_t p) {
    heap_t *e = pool_engine_heap(p);
    unsigned n = e ? heap_class_count(e) : 0;
    for (unsigned c = 0; c < n && c < MAX_BINS; c++) {
        heap_class_stats_t cs;
        heap_class_stats(e, c, &cs);
        k->bins[c].block_size = cs.block_size;
        k->bins[c].slabs += cs.slabs;
        k->bins[c].allocs += cs.allocs;
        k->bins[c].frees += cs.frees;
        k->nbins = c + 1 > k->nbins ? c + 1 : k->nbins;
    }
    if (e) {
        heap_large_stats_t ls;
        heap_large_stats(e, &ls);
        k->have_large = true;
        k->large_allocs += ls.allocs + ls.direct_allocs;
        k->large_frees += ls.frees + ls.direct_frees;
    }
    pool_guard_counts_t c;
    pool_guard_counts(p, &c);
    k->prov.held += c.held;
    k->prov.peak += c.peak;
    k->prov.refused += c.refused;
}

static void snap_one(mk_heap_t *h, void *arg) {
    snap_t *s = arg;
    if (s->n == s->cap)
        return;
    kind_snap_t *k = &s->v[s->n++];
    snprintf(k->name, sizeof k->name, "%s", h->kind->name);
    heap_live(h, &k->st);
    for (unsigned i = 0; i < h->nslots; i++) {
        umf_memory_pool_handle_t p = mk_slot_pool(&h->slots[i]);
        if (p) {
            k->pools++;
            snap_pool(k, p);
        }
    }
}

typedef struct out_t {
    void (*cb)(void *, const char *);
    void *opaque;
    bool json;
} out_t;

static void emit(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(out_t *o, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (buf[0])
        o->cb(o->opaque, buf);
}

// The default writer: stderr, with write(2) (no stdio inside the library).
static void write_stderr(void *opaque, const char *s) {
    (void)opaque;
    size_t len = strlen(s);
    while (len) {
        ssize_t w = write(2, s, len);
        if (w <= 0)
            return;
        s += w;
        len -= (size_t)w;
    }
}

// Kind names are [A-Za-z0-9_] (ours) or user text: escape for JSON.
static void json_name(char *dst, size_t len, const char *src) {
    size_t j = 0;
    for (size_t i = 0; src[i] && j + 7 < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '"' || c == '\\') {
            dst[j++] = '\\';
            dst[j++] = (char)c;
        } else if (c < 0x20) {
            j += (size_t)snprintf(dst + j, len - j, "\\u%04x", c);
        } else {
            dst[j++] = (char)c;
        }
    }
    dst[j] = '\0';
}

// One kind's figures (OMIT_PER_ARENA unset).
static void print_kind(out_t *o, const kind_snap_t *k, bool first, unsigned opts) {
    bool j = o->json;
    char name[MEMKIND_NAME_LENGTH_PRIV * 6 + 8];
    json_name(name, sizeof name, k->name);
    emit(o,
         j ? "%s{\"name\": \"%s\", \"pools\": %u, \"allocated\": %zu, \"active\": %zu, "
             "\"resident\": %zu"
           : "%skind %s: pools: %u, allocated: %zu, active: %zu, resident: %zu\n",
         j && !first ? ", " : "", j ? name : k->name, k->pools, k->st.allocated, k->st.active,
         k->st.resident);
    if (!(opts & MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_BINS) && (j || k->nbins)) {
        emit(o, "%s", j ? ", \"bins\": [" : "  bins:      size     allocs      frees      slabs\n");
        const char *sep = "";
        for (unsigned c = 0; c < k->nbins; c++) {
            if (!k->bins[c].allocs)
                continue;
            emit(o,
                 j ? "%s{\"size\": %zu, \"allocs\": %llu, \"frees\": %llu, \"slabs\": %zu}"
                   : "%s  %14zu %10llu %10llu %10zu\n",
                 sep, k->bins[c].block_size, (unsigned long long)k->bins[c].allocs,
                 (unsigned long long)k->bins[c].frees, k->bins[c].slabs);
            sep = j ? ", " : "";
        }
        emit(o, "%s", j ? "]" : "");
    }
    if (!(opts & MEMKIND_STAT_PRINT_OMIT_PER_SIZE_CLASS_LARGE) && (j || k->have_large))
        emit(o,
             j ? ", \"large\": {\"allocs\": %llu, \"frees\": %llu}"
               : "  large: allocs: %llu, frees: %llu\n",
             (unsigned long long)k->large_allocs, (unsigned long long)k->large_frees);
    if (!(opts & MEMKIND_STAT_PRINT_OMIT_EXTENT))
        emit(o,
             j ? ", \"extents\": {\"held\": %zu, \"peak\": %zu, \"refused\": %llu}"
               : "  extents: held from provider: %zu, peak: %zu, refused: %llu\n",
             k->prov.held, k->prov.peak, (unsigned long long)k->prov.refused);
    emit(o, "%s", j ? "}" : "");
}

// Text (memkind's sections as lines) or JSON (one object), each section
// unless its MEMKIND_STAT_PRINT_OMIT_* option is set.
static void print(out_t *o, const snap_t *s, unsigned opts) {
    const mk_env_t *env = mk_env();
    bool j = o->json;
    const char *sep = ""; // JSON: between members
    emit(o, "%s", j ? "{\"memkind\": {" : "___ Begin memkind statistics (hetmem) ___\n");
    if (!(opts & MEMKIND_STAT_PRINT_OMIT_GENERAL)) {
        emit(o,
             j ? "\"version\": \"%d.%d.%d\", \"heap_manager\": \"%s\", \"kinds_registered\": %u, "
                 "\"arenas_per_kind\": %u, \"hog_memory\": %s, \"background_thread\": %s"
               : "Version: %d.%d.%d (memkind API), heap manager: %s\nKinds registered: %u, "
                 "arenas per kind: %u, hog memory: %s, background thread: %s\n",
             MK_VERSION_MAJOR, MK_VERSION_MINOR, MK_VERSION_PATCH, mk_pool_manager_name(),
             mk_registry_count(), env->arena_num,
             env->hog_memory ? (j ? "true" : "yes") : (j ? "false" : "no"),
             pool_purger_running() ? (j ? "true" : "on") : (j ? "false" : "off"));
        sep = ", ";
    }
    if (!(opts & MEMKIND_STAT_PRINT_OMIT_MERGED_ARENA)) { // every kind together
        mk_pool_stats_t t = {0};
        for (size_t i = 0; i < s->n; i++) {
            t.allocated += s->v[i].st.allocated;
            t.active += s->v[i].st.active;
            t.resident += s->v[i].st.resident;
        }
        emit(o,
             j ? "%s\"merged\": {\"allocated\": %zu, \"active\": %zu, \"resident\": %zu}"
               : "%sMerged (all kinds): allocated: %zu, active: %zu, resident: %zu\n",
             j ? sep : "", t.allocated, t.active, t.resident);
        sep = ", ";
    }
    if (!(opts & MEMKIND_STAT_PRINT_OMIT_DESTROYED_MERGED_ARENA)) {
        emit(o, "%s%s", j ? sep : "",
             j ? "\"destroyed_merged\": {\"allocated\": 0, \"active\": 0, \"resident\": 0}"
               : "Destroyed kinds: their memory was returned at destruction (nothing "
                 "retained)\n");
        sep = ", ";
    }
    if (!(opts & MEMKIND_STAT_PRINT_OMIT_PER_ARENA)) {
        emit(o, "%s%s", j ? sep : "", j ? "\"kinds\": [" : "");
        for (size_t i = 0; i < s->n; i++)
            print_kind(o, &s->v[i], i == 0, opts);
        emit(o, "%s", j ? "]" : "");
        sep = ", ";
    }
    if (!(opts & MEMKIND_STAT_PRINT_OMIT_MUTEX))
        emit(o, "%s%s", j ? sep : "",
             j ? "\"mutexes\": {}" : "Mutexes: no lock statistics are kept (fast paths take no "
                                     "lock)\n");
    emit(o, "%s", j ? "}}\n" : "--- End memkind statistics ---\n");
}

#define ALL_OPTS 0x1ffu

static int stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                       memkind_stat_print_opt opts) {
    if ((unsigned)opts & ~ALL_OPTS) {
        LOG_ERR("memkind_stats_print: unknown options 0x%x", (unsigned)opts);
        return MEMKIND_ERROR_INVALID;
    }
    size_t n = 0;
    mk_heaps_for_each(count_one, &n);
    snap_t s = {.cap = n + 8};
    s.v = meta_alloc(s.cap * sizeof *s.v);
    if (!s.v)
        return MEMKIND_ERROR_MALLOC;
    mk_heaps_for_each(snap_one, &s);
    out_t o = {write_cb ? write_cb : write_stderr, cbopaque, opts & MEMKIND_STAT_PRINT_JSON_FORMAT};
    print(&o, &s, (unsigned)opts);
    meta_free(s.v, s.cap * sizeof *s.v);
    return MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                                      memkind_stat_print_opt opts) {
    int saved = errno;
    int err = stats_print(write_cb, cbopaque, opts);
    if (err == MEMKIND_SUCCESS)
        errno = saved;
    return err;
}

// ---- background thread ------------------------------------------------------------
// The core's background purger gives cached free memory of every heap back
// once a second, the job jemalloc's background threads do for memkind.

static void purge_one(mk_heap_t *h, void *arg) {
    (void)arg;
    for (unsigned i = 0; i < h->nslots; i++) {
        umf_memory_pool_handle_t p = mk_slot_pool(&h->slots[i]);
        if (p)
            mk_pool_purge(p);
    }
}

static void purge_all(void *arg) {
    if (!mk_env()->hog_memory)
        mk_heaps_for_each(purge_one, arg);
}

int mk_bg_threads_set(bool on) {
    return pool_purger_set(on, 1000, purge_all, NULL) ? MEMKIND_ERROR_OPERATION_FAILED
                                                      : MEMKIND_SUCCESS;
}

HETMEM_EXPORT int memkind_set_bg_threads(bool state) {
    int saved = errno;
    int err = mk_env_status();
    if (err != MEMKIND_SUCCESS)
        return mk_log_error("memkind_set_bg_threads", err);
    err = mk_bg_threads_set(state);
    if (err == MEMKIND_SUCCESS)
        errno = saved;
    return err;
}
