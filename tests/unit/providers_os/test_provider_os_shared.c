// SPDX-License-Identifier: MIT
// Shared visibility of the OS provider: memfd and named shm backing, the
// extent map (file offset of every allocation, split and merge), purge
// zeroing through the file, protection of shared mappings, and alloc/free
// from four threads at once (run under TSan too).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umf/memory_provider.h>
#include <umf/providers/provider_os_memory.h>

#include "os/os.h"
#include "providers/provider_os.h"
#include "test_seed.h"

typedef umf_os_memory_provider_params_handle_t params_t;

static umf_memory_provider_handle_t create_shared(const char *shm_name, bool bind0,
                                                  unsigned protection) {
    params_t p;
    unsigned n0 = 0;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED),
                     UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetShmName(p, shm_name), UMF_RESULT_SUCCESS);
    assert_int_equal(umfOsMemoryProviderParamsSetProtection(p, protection), UMF_RESULT_SUCCESS);
    if (bind0) {
        assert_int_equal(umfOsMemoryProviderParamsSetNumaMode(p, UMF_NUMA_MODE_BIND),
                         UMF_RESULT_SUCCESS);
        assert_int_equal(umfOsMemoryProviderParamsSetNumaList(p, &n0, 1), UMF_RESULT_SUCCESS);
    }
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(p);
    return h;
}

#define RW (UMF_PROTECTION_READ | UMF_PROTECTION_WRITE)

static provider_os_shared_ref_t lookup(umf_memory_provider_handle_t h, const void *ptr) {
    provider_os_shared_ref_t ref;
    memset(&ref, 0, sizeof ref);
    assert_int_equal(provider_os_shared_lookup(h->priv, ptr, &ref), UMF_RESULT_SUCCESS);
    return ref;
}

// The bytes at [ref.off, +len) of the backing fd, seen through a second
// mapping: proves the bookkeeping names the memory the allocation uses.
static void assert_file_holds(const provider_os_shared_ref_t *ref, const char *want, size_t len) {
    void *view = NULL;
    assert_int_equal(os_map_fd(NULL, len, OS_PROT_READ, OS_MAP_SHARED, ref->fd, ref->off, &view),
                     0);
    assert_memory_equal(view, want, len);
    assert_int_equal(os_unmap(view, len), 0);
}

static void memfd_two_allocations(void **state) {
    (void)state;
    size_t ps = os_page_size();
    umf_memory_provider_handle_t h = create_shared(NULL, true, RW);
    char *a = NULL, *b = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 3 * ps, 0, (void **)&a), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * ps, 0, (void **)&b), UMF_RESULT_SUCCESS);
    memset(a, 'a', 3 * ps);
    memset(b, 'b', 2 * ps);
    provider_os_shared_ref_t ra = lookup(h, a), rb = lookup(h, b);
    assert_true(ra.fd >= 0);
    assert_int_equal(ra.fd, rb.fd);
    assert_null(ra.shm_name);
    assert_int_equal(ra.avail, 3 * ps);
    assert_int_equal(rb.avail, 2 * ps);
    assert_true(ra.off + 3 * ps <= rb.off || rb.off + 2 * ps <= ra.off); // disjoint
    assert_int_equal(ra.off % ps, 0);
    assert_file_holds(&ra, a, 3 * ps);
    assert_file_holds(&rb, b, 2 * ps);
    provider_os_shared_ref_t mid = lookup(h, a + ps + 5);
    assert_int_equal(mid.off, ra.off + ps + 5);
    assert_int_equal(mid.avail, 2 * ps - 5);
    // Pages of a shared BIND provider are where they were bound, too.
    int node = -1;
    assert_int_equal(os_page_node(a, &node), 0);
    assert_int_equal(node, 0);

    assert_int_equal(umfMemoryProviderFree(h, a, 3 * ps), UMF_RESULT_SUCCESS);
    provider_os_shared_ref_t gone;
    assert_int_equal(provider_os_shared_lookup(h->priv, a, &gone),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    // A second free of the same range is refused, not a crash.
    assert_int_equal(umfMemoryProviderFree(h, a, 3 * ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, b, 2 * ps), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

static void shm_name_file(void **state) {
    (void)state;
    size_t ps = os_page_size();
    char name[64], path[96];
    snprintf(name, sizeof name, "hetmem-test-os-%d", (int)getpid());
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    umf_memory_provider_handle_t h = create_shared(name, false, RW);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *a = NULL, *b = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, ps, 0, (void **)&a), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAlloc(h, 4 * ps, 0, (void **)&b), UMF_RESULT_SUCCESS);
    strcpy(a, "hello");
    strcpy(b + ps, "world");
    provider_os_shared_ref_t ra = lookup(h, a), rb = lookup(h, b);
    assert_non_null(ra.shm_name);
    assert_string_equal(ra.shm_name, name);
    assert_int_not_equal(ra.off, rb.off);
    assert_int_equal(stat(path, &st), 0);
    assert_true((uint64_t)st.st_size >= rb.off + 4 * ps);
    // Another open of the file by name sees the data at the offsets.
    int fd2 = -1;
    assert_int_equal(os_shm_open(name, false, false, &fd2), 0);
    provider_os_shared_ref_t rb2 = rb;
    rb2.fd = fd2;
    rb2.off += ps;
    assert_file_holds(&rb2, "world", 6);
    assert_int_equal(os_file_close(fd2), 0);
    assert_int_equal(umfMemoryProviderFree(h, a, ps), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderFree(h, b, 4 * ps), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
    assert_int_equal(stat(path, &st), -1); // the provider removed its file

    // A stale file of that name is replaced (and private to us again).
    int fd = -1;
    assert_int_equal(os_shm_open(name, true, false, &fd), 0);
    assert_int_equal(os_file_close(fd), 0);
    h = create_shared(name, false, RW);
    umfMemoryProviderDestroy(h);
    assert_int_equal(stat(path, &st), -1);
    // The shm_open(3) spelling "/NAME" names the same file.
    char slashed[72];
    snprintf(slashed, sizeof slashed, "/%s", name);
    h = create_shared(slashed, false, RW);
    assert_int_equal(stat(path, &st), 0);
    umfMemoryProviderDestroy(h);
    assert_int_equal(stat(path, &st), -1);
}

static void split_merge_bookkeeping(void **state) {
    (void)state;
    size_t ps = os_page_size();
    umf_memory_provider_handle_t h = create_shared(NULL, false, RW);
    char *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 8 * ps, 0, (void **)&m), UMF_RESULT_SUCCESS);
    provider_os_shared_ref_t r0 = lookup(h, m);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, m, 8 * ps, 3 * ps), UMF_RESULT_SUCCESS);
    provider_os_shared_ref_t r1 = lookup(h, m), r2 = lookup(h, m + 3 * ps);
    assert_int_equal(r1.off, r0.off);
    assert_int_equal(r1.avail, 3 * ps);
    assert_int_equal(r2.off, r0.off + 3 * ps);
    assert_int_equal(r2.avail, 5 * ps);
    // Splitting with the wrong total or at a page that starts no extent fails.
    assert_int_equal(umfMemoryProviderAllocationSplit(h, m, 8 * ps, ps),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationSplit(h, m + ps, 2 * ps, ps),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, m, m + 3 * ps, 8 * ps),
                     UMF_RESULT_SUCCESS);
    provider_os_shared_ref_t r3 = lookup(h, m);
    assert_int_equal(r3.off, r0.off);
    assert_int_equal(r3.avail, 8 * ps);
    // Split again and free the parts one by one.
    assert_int_equal(umfMemoryProviderAllocationSplit(h, m, 8 * ps, 5 * ps), UMF_RESULT_SUCCESS);
    memset(m, 9, 8 * ps);
    assert_int_equal(umfMemoryProviderFree(h, m + 5 * ps, 3 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(lookup(h, m + 4 * ps).avail, ps);
    provider_os_shared_ref_t gone;
    assert_int_equal(provider_os_shared_lookup(h->priv, m + 5 * ps, &gone),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, m, 5 * ps), UMF_RESULT_SUCCESS);

    // Two allocations next to each other in memory but not in the file
    // cannot become one (an IPC handle could not describe them).
    char *x = NULL, *y = NULL;
    for (int tries = 0; tries < 16; tries++) {
        assert_int_equal(umfMemoryProviderAlloc(h, ps, 0, (void **)&x), UMF_RESULT_SUCCESS);
        assert_int_equal(umfMemoryProviderAlloc(h, ps, 0, (void **)&y), UMF_RESULT_SUCCESS);
        if (y + ps == x || x + ps == y)
            break;
        assert_int_equal(umfMemoryProviderFree(h, x, ps), UMF_RESULT_SUCCESS);
        assert_int_equal(umfMemoryProviderFree(h, y, ps), UMF_RESULT_SUCCESS);
        x = y = NULL;
    }
    if (x) {
        char *lo = x < y ? x : y, *hi = x < y ? y : x;
        provider_os_shared_ref_t rl = lookup(h, lo), rh = lookup(h, hi);
        umf_result_t want = rl.off + ps == rh.off ? UMF_RESULT_SUCCESS
                                                  : UMF_RESULT_ERROR_NOT_SUPPORTED;
        assert_int_equal(umfMemoryProviderAllocationMerge(h, lo, hi, 2 * ps), want);
        if (want == UMF_RESULT_SUCCESS) {
            assert_int_equal(umfMemoryProviderFree(h, lo, 2 * ps), UMF_RESULT_SUCCESS);
        } else {
            assert_int_equal(umfMemoryProviderFree(h, lo, ps), UMF_RESULT_SUCCESS);
            assert_int_equal(umfMemoryProviderFree(h, hi, ps), UMF_RESULT_SUCCESS);
        }
    }
    // Merging what is not two adjacent allocations is refused.
    assert_int_equal(umfMemoryProviderAlloc(h, 2 * ps, 0, (void **)&x), UMF_RESULT_SUCCESS);
    assert_int_equal(umfMemoryProviderAllocationMerge(h, x, x + ps, 2 * ps),
                     UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, x, 2 * ps), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

// Purges punch the file: the range reads back zeros through the
// allocation and through the fd (memory returned); the rest is kept.
static void purge_shared_zeroes(void **state) {
    (void)state;
    size_t ps = os_page_size();
    umf_memory_provider_handle_t h = create_shared(NULL, true, RW);
    char *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 6 * ps, 0, (void **)&m), UMF_RESULT_SUCCESS);
    memset(m, 7, 6 * ps);
    assert_int_equal(umfMemoryProviderPurgeForce(h, m + ps, 2 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(m[ps], 0);
    assert_int_equal(m[3 * ps - 1], 0);
    assert_int_equal(m[ps - 1], 7);
    assert_int_equal(m[3 * ps], 7);
    char *zeros = calloc(1, 2 * ps);
    provider_os_shared_ref_t r = lookup(h, m + ps);
    assert_file_holds(&r, zeros, 2 * ps);
    // Lazy purge of shared memory punches too (documented fallback).
    assert_int_equal(umfMemoryProviderPurgeLazy(h, m + 4 * ps, 2 * ps), UMF_RESULT_SUCCESS);
    assert_int_equal(m[4 * ps], 0);
    assert_int_equal(m[6 * ps - 1], 0);
    assert_int_equal(m[3 * ps], 7);
    // Memory of no allocation is refused.
    char *other = NULL;
    assert_int_equal(os_map_anon(NULL, ps, 0, OS_PROT_READ | OS_PROT_WRITE, 0, (void **)&other), 0);
    assert_int_equal(umfMemoryProviderPurgeForce(h, other, ps), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(os_unmap(other, ps), 0);
    memset(m, 1, 6 * ps); // writable again, faulted back in
    assert_int_equal(umfMemoryProviderFree(h, m, 6 * ps), UMF_RESULT_SUCCESS);
    free(zeros);
    umfMemoryProviderDestroy(h);
}

static void alignment_shared(void **state) {
    (void)state;
    size_t ps = os_page_size();
    umf_memory_provider_handle_t h = create_shared(NULL, true, RW);
    for (size_t a = ps; a <= ((size_t)64 << 20); a <<= 2) {
        char *m = NULL;
        assert_int_equal(umfMemoryProviderAlloc(h, 2 * ps + 1, a, (void **)&m), UMF_RESULT_SUCCESS);
        assert_int_equal((uintptr_t)m % a, 0);
        memset(m, 3, 3 * ps);
        provider_os_shared_ref_t r = lookup(h, m);
        assert_int_equal(r.avail, 3 * ps);
        assert_file_holds(&r, m, 3 * ps);
        assert_int_equal(umfMemoryProviderFree(h, m, 2 * ps + 1), UMF_RESULT_SUCCESS);
    }
    umfMemoryProviderDestroy(h);
}

static void do_write(volatile char *p) { p[0] = 1; }

static void protection_shared(void **state) {
    (void)state;
    size_t ps = os_page_size();
    umf_memory_provider_handle_t h = create_shared(NULL, false, UMF_PROTECTION_READ);
    char *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, ps, 0, (void **)&m), UMF_RESULT_SUCCESS);
    assert_int_equal(m[0], 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGSEGV, SIG_DFL);
        do_write(m);
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV);
    assert_int_equal(umfMemoryProviderFree(h, m, ps), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

// private providers have no extents
static void lookup_private(void **state) {
    (void)state;
    params_t p;
    assert_int_equal(umfOsMemoryProviderParamsCreate(&p), UMF_RESULT_SUCCESS);
    umf_memory_provider_handle_t h = NULL;
    assert_int_equal(umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &h), UMF_RESULT_SUCCESS);
    umfOsMemoryProviderParamsDestroy(p);
    void *m = NULL;
    assert_int_equal(umfMemoryProviderAlloc(h, 4096, 0, &m), UMF_RESULT_SUCCESS);
    provider_os_shared_ref_t r;
    assert_int_equal(provider_os_shared_lookup(h->priv, m, &r), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(provider_os_shared_lookup(NULL, m, &r), UMF_RESULT_ERROR_INVALID_ARGUMENT);
    assert_int_equal(umfMemoryProviderFree(h, m, 4096), UMF_RESULT_SUCCESS);
    umfMemoryProviderDestroy(h);
}

// ---- four threads ---------------------------------------------------------------

#define THREADS 4
#define ROUNDS 200
#define LIVE 8

typedef struct worker_t {
    umf_memory_provider_handle_t h;
    unsigned seed;
    int failures;
} worker_t;

static void *worker(void *arg) {
    worker_t *w = arg;
    size_t ps = os_page_size();
    char *live[LIVE] = {0};
    size_t size[LIVE] = {0};
    for (int i = 0; i < ROUNDS; i++) {
        int k = rand_r(&w->seed) % LIVE;
        if (live[k]) {
            // The memory still holds this thread's pattern and its offset.
            provider_os_shared_ref_t r;
            if (provider_os_shared_lookup(w->h->priv, live[k], &r) != UMF_RESULT_SUCCESS ||
                r.avail != size[k] || live[k][0] != (char)k || live[k][size[k] - 1] != (char)k)
                w->failures++;
            if (umfMemoryProviderFree(w->h, live[k], size[k]) != UMF_RESULT_SUCCESS)
                w->failures++;
            live[k] = NULL;
            continue;
        }
        size[k] = (size_t)(1 + rand_r(&w->seed) % 8) * ps;
        size_t align = rand_r(&w->seed) % 4 == 0 ? (size_t)64 << 10 : 0;
        if (umfMemoryProviderAlloc(w->h, size[k], align, (void **)&live[k]) != UMF_RESULT_SUCCESS) {
            w->failures++;
            live[k] = NULL;
            continue;
        }
        memset(live[k], k, size[k]);
        if (rand_r(&w->seed) % 8 == 0 && size[k] > ps) {
            // split, free the tail, keep the head
            if (umfMemoryProviderAllocationSplit(w->h, live[k], size[k], ps) !=
                    UMF_RESULT_SUCCESS ||
                umfMemoryProviderFree(w->h, live[k] + ps, size[k] - ps) != UMF_RESULT_SUCCESS)
                w->failures++;
            size[k] = ps;
        }
    }
    for (int k = 0; k < LIVE; k++)
        if (live[k] && umfMemoryProviderFree(w->h, live[k], size[k]) != UMF_RESULT_SUCCESS)
            w->failures++;
    return NULL;
}

static void concurrent_shared(void **state) {
    (void)state;
    umf_memory_provider_handle_t h = create_shared(NULL, true, RW);
    pthread_t t[THREADS];
    worker_t w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){.h = h, .seed = 1234u + (unsigned)i + (unsigned)test_seed_base("test_provider_os_shared"), .failures = 0};
        assert_int_equal(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(((provider_os_t *)h->priv)->ext_len, 0); // every extent freed
    umfMemoryProviderDestroy(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memfd_two_allocations),
        cmocka_unit_test(shm_name_file),
        cmocka_unit_test(split_merge_bookkeeping),
        cmocka_unit_test(purge_shared_zeroes),
        cmocka_unit_test(alignment_shared),
        cmocka_unit_test(protection_shared),
        cmocka_unit_test(lookup_private),
        cmocka_unit_test(concurrent_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
