// SPDX-License-Identifier: MIT
// IPC between two real processes, public API only. For each provider that
// supports IPC - the OS provider with shared visibility (memfd, and named
// shm), the file provider with shared visibility, and the devdax provider
// when a device is given (the `dax` guest, tests/vm/memspace) - the
// producer allocates from a pool, writes a pattern and sends the handle
// over a socket to a consumer it forks and execs (a fresh process image).
// The consumer opens the handle, checks the pattern, opens it again (the
// same pointer: mapped once), writes its own pattern into the second half
// and closes both opens; the producer checks that write. Then the producer
// frees the allocation and the consumer must be refused (stale), as must a
// handle given to a handler of another provider kind. In the other
// direction, a child exports and exits: its handle must be refused then
// (owner gone).
//
// The "disjoint" kind is memfd memory through a disjoint pool, which keeps
// freed blocks: only the allocation's own liveness record can refuse its
// handle after the free (issue 11).
//
// Usage: test_ipc_procs                      memfd, shm, file and disjoint
//        test_ipc_procs devdax PATH SIZE     the devdax provider on PATH
//        test_ipc_procs --consumer KIND [PATH SIZE]   (internal: the exec'd child)
//        test_ipc_procs --exporter KIND [PATH SIZE]   (internal)
// Prints one "ok"/"not ok" line per check; exits 0 when all pass, 1
// otherwise, 77 when the devdax device cannot be used.
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umf.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_proxy.h>
#include <umf/providers/provider_devdax_memory.h>
#include <umf/providers/provider_file_memory.h>
#include <umf/providers/provider_os_memory.h>
#include "test_skip.h"

#define SOCK_FD 3        // the consumer's end of the socket (after exec)
#define PAGE 4096
#define LEN (4 * PAGE + 100)
#define OFFSET 64        // the handle is of ptr + OFFSET: interior pointers work

static int failures;
static const char *me = "producer";

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%s%s: ", ok ? "ok - " : "not ok - ", me);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (!ok)
        failures++;
}

// ---- the pools ----------------------------------------------------------------------

typedef struct cfg_t {
    const char *kind;     // memfd, shm, file, devdax
    const char *dev;      // devdax: the device
    size_t dev_size;      // devdax: bytes to map
    char path[128];       // file: this process's file; shm: the name
} cfg_t;

// An exporting pool (export = true) or a handler pool for `kind`. The
// handler of the OS kinds is a private OS provider: any OS provider opens.
static umf_memory_pool_handle_t make_pool(cfg_t *c, bool export) {
    umf_memory_provider_handle_t prov = NULL;
    umf_result_t r;
    if (!strcmp(c->kind, "file")) {
        umf_file_memory_provider_params_handle_t p;
        snprintf(c->path, sizeof c->path, "/tmp/hetmem_ipc_procs_%d.%s", (int)getpid(),
                 export ? "exp" : "open");
        umfFileMemoryProviderParamsCreate(&p, c->path);
        umfFileMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED);
        r = umfMemoryProviderCreate(umfFileMemoryProviderOps(), p, &prov);
        umfFileMemoryProviderParamsDestroy(p);
    } else if (!strcmp(c->kind, "devdax")) {
        umf_devdax_memory_provider_params_handle_t p;
        umfDevDaxMemoryProviderParamsCreate(&p, c->dev, c->dev_size);
        r = umfMemoryProviderCreate(umfDevDaxMemoryProviderOps(), p, &prov);
        umfDevDaxMemoryProviderParamsDestroy(p);
    } else {
        umf_os_memory_provider_params_handle_t p;
        umfOsMemoryProviderParamsCreate(&p);
        if (export) {
            umfOsMemoryProviderParamsSetVisibility(p, UMF_MEM_MAP_SHARED);
            if (!strcmp(c->kind, "shm")) {
                snprintf(c->path, sizeof c->path, "hetmem_ipc_procs_%d", (int)getpid());
                umfOsMemoryProviderParamsSetShmName(p, c->path);
            }
        }
        r = umfMemoryProviderCreate(umfOsMemoryProviderOps(), p, &prov);
        umfOsMemoryProviderParamsDestroy(p);
    }
    if (r != UMF_RESULT_SUCCESS) {
        check(false, "%s provider creation (%d)", c->kind, (int)r);
        return NULL;
    }
    umf_memory_pool_handle_t pool = NULL;
    if (export && !strcmp(c->kind, "disjoint")) {
        umf_disjoint_pool_params_handle_t dp = NULL;
        umfDisjointPoolParamsCreate(&dp);
        r = umfPoolCreate(umfDisjointPoolOps(), prov, dp, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                          &pool);
        umfDisjointPoolParamsDestroy(dp);
    } else {
        r = umfPoolCreate(umfProxyPoolOps(), prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER,
                          &pool);
    }
    if (r != UMF_RESULT_SUCCESS) {
        check(false, "%s pool creation (%d)", c->kind, (int)r);
        umfMemoryProviderDestroy(prov);
        return NULL;
    }
    return pool;
}

static void drop_pool(cfg_t *c, umf_memory_pool_handle_t pool) {
    umfPoolDestroy(pool);
    if (!strcmp(c->kind, "file"))
        unlink(c->path);
}

// ---- the socket -----------------------------------------------------------------------

static bool send_all(int fd, const void *buf, size_t len) {
    for (const char *p = buf; len;) {
        ssize_t n = write(fd, p, len);
        if (n <= 0 && errno != EINTR)
            return false;
        if (n > 0)
            p += n, len -= (size_t)n;
    }
    return true;
}

static bool recv_all(int fd, void *buf, size_t len) {
    for (char *p = buf; len;) {
        ssize_t n = read(fd, p, len);
        if (n == 0 || (n < 0 && errno != EINTR))
            return false;
        if (n > 0)
            p += n, len -= (size_t)n;
    }
    return true;
}

// A handle on the wire: its size, then its bytes.
static bool send_handle(int fd, umf_ipc_handle_t h, size_t size) {
    uint64_t s = size;
    return send_all(fd, &s, sizeof s) && send_all(fd, h, size);
}

static void *recv_handle(int fd) {
    uint64_t s = 0;
    if (!recv_all(fd, &s, sizeof s) || s == 0 || s > (1u << 20))
        return NULL;
    void *h = malloc(s);
    if (h && !recv_all(fd, h, s)) {
        free(h);
        return NULL;
    }
    return h;
}

static bool send_byte(int fd, char c) { return send_all(fd, &c, 1); }
static char recv_byte(int fd) {
    char c = 0;
    return recv_all(fd, &c, 1) ? c : 0;
}

static unsigned char pattern(size_t i, unsigned seed) { return (unsigned char)(i * 31 + seed); }

// Forks and execs this program as `role` for cfg; returns the pid and our
// end of the socket.
static pid_t spawn(const char *role, const cfg_t *c, int *sock) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    char size[32];
    snprintf(size, sizeof size, "%zu", c->dev_size);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(sv[1], SOCK_FD); // dup2 clears close-on-exec on the copy
        char *argv[] = {"test_ipc_procs", (char *)role, (char *)c->kind,
                        (char *)(c->dev ? c->dev : "-"), size, NULL};
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    close(sv[1]);
    *sock = sv[0];
    return pid;
}

static bool wait_ok(pid_t pid, const char *who) {
    int st = 0;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        check(false, "%s exited with status 0x%x", who, st);
        return false;
    }
    return true;
}

// ---- producer -> consumer --------------------------------------------------------------

static void produce(cfg_t *c) {
    umf_memory_pool_handle_t pool = make_pool(c, true);
    if (!pool)
        return;
    unsigned seed = (unsigned)getpid();
    unsigned char *m = umfPoolMalloc(pool, LEN);
    check(m != NULL, "%s: allocation", c->kind);
    if (!m)
        goto out_pool;
    for (size_t i = 0; i < LEN; i++)
        m[i] = pattern(i, seed);
    umf_ipc_handle_t h = NULL;
    size_t hs = 0;
    umf_result_t r = umfGetIPCHandle(m + OFFSET, &h, &hs);
    check(r == UMF_RESULT_SUCCESS, "%s: umfGetIPCHandle (%d, %zu bytes)", c->kind, (int)r, hs);
    if (r != UMF_RESULT_SUCCESS)
        goto out_free;
    int sock;
    pid_t pid = spawn("--consumer", c, &sock);
    uint32_t s32 = seed;
    bool sent = pid > 0 && send_handle(sock, h, hs) && send_all(sock, &s32, sizeof s32);
    check(sent, "%s: handle sent to process %d", c->kind, (int)pid);
    // The consumer has written the second half: check it from here.
    if (recv_byte(sock) == 'W') {
        bool same = true;
        for (size_t i = OFFSET + LEN / 2; i < LEN; i++)
            same &= m[i] == (unsigned char)~pattern(i, seed);
        check(same, "%s: the consumer's writes are visible to the producer", c->kind);
    } else {
        check(false, "%s: the consumer did not report its writes", c->kind);
    }
    // Free the allocation: the consumer's next open must be refused.
    umfPutIPCHandle(h);
    umfPoolFree(pool, m);
    m = NULL;
    send_byte(sock, 'F');
    check(recv_byte(sock) == 'D', "%s: consumer done", c->kind);
    close(sock);
    wait_ok(pid, "consumer");
out_free:
    if (m)
        umfPoolFree(pool, m);
out_pool:
    drop_pool(c, pool);
}

static int consume(cfg_t *c) {
    me = "consumer";
    umf_memory_pool_handle_t pool = make_pool(c, false);
    void *h = recv_handle(SOCK_FD);
    uint32_t seed = 0;
    if (!pool || !h || !recv_all(SOCK_FD, &seed, sizeof seed)) {
        check(false, "%s: set-up", c->kind);
        return 1;
    }
    umf_ipc_handler_handle_t handler;
    umfPoolGetIPCHandler(pool, &handler);
    unsigned char *p = NULL, *q = NULL;
    umf_result_t r = umfOpenIPCHandle(handler, h, (void **)&p);
    check(r == UMF_RESULT_SUCCESS && p, "%s: umfOpenIPCHandle in process %d (%d)", c->kind,
          (int)getpid(), (int)r);
    if (r == UMF_RESULT_SUCCESS) {
        bool same = true; // p is the producer's m + OFFSET
        for (size_t i = OFFSET; i < LEN; i++)
            same &= p[i - OFFSET] == pattern(i, seed);
        check(same, "%s: the producer's data is visible", c->kind);
        r = umfOpenIPCHandle(handler, h, (void **)&q);
        check(r == UMF_RESULT_SUCCESS && q == p, "%s: a second open maps once (%p, %p)",
              c->kind, (void *)p, (void *)q);
        for (size_t i = OFFSET + LEN / 2; i < LEN; i++)
            p[i - OFFSET] = (unsigned char)~pattern(i, seed);
        check(umfCloseIPCHandle(q) == UMF_RESULT_SUCCESS, "%s: first close", c->kind);
        check(p[0] == pattern(OFFSET, seed), "%s: still mapped after the first close", c->kind);
        check(umfCloseIPCHandle(p) == UMF_RESULT_SUCCESS, "%s: last close", c->kind);
        check(umfCloseIPCHandle(p) == UMF_RESULT_ERROR_INVALID_ARGUMENT,
              "%s: a third close is refused", c->kind);
    }
    send_byte(SOCK_FD, 'W');

    // A handler of another provider kind refuses the handle.
    cfg_t other = {.kind = strcmp(c->kind, "file") ? "file" : "memfd"};
    umf_memory_pool_handle_t wrong = make_pool(&other, false);
    umf_ipc_handler_handle_t wh;
    umfPoolGetIPCHandler(wrong, &wh);
    void *w = NULL;
    r = umfOpenIPCHandle(wh, h, &w);
    check(r == UMF_RESULT_ERROR_INVALID_ARGUMENT && !w,
          "%s: refused by a handler of the %s provider (%d)", c->kind,
          strcmp(c->kind, "file") ? "FILE" : "OS", (int)r);
    drop_pool(&other, wrong);

    // After the producer freed the allocation: stale.
    if (recv_byte(SOCK_FD) == 'F') {
        void *s = NULL;
        r = umfOpenIPCHandle(handler, h, &s);
        check(r == UMF_RESULT_ERROR_INVALID_ARGUMENT && !s,
              "%s: refused once the producer freed the allocation (%d)", c->kind, (int)r);
    } else {
        check(false, "%s: no word from the producer", c->kind);
    }
    send_byte(SOCK_FD, 'D');
    free(h);
    drop_pool(c, pool);
    return failures ? 1 : 0;
}

// ---- exporter (child) -> parent: owner gone ----------------------------------------------

static int export_and_exit(cfg_t *c) {
    me = "exporter";
    umf_memory_pool_handle_t pool = make_pool(c, true);
    unsigned char *m = pool ? umfPoolMalloc(pool, LEN) : NULL;
    umf_ipc_handle_t h;
    size_t hs;
    if (!m || umfGetIPCHandle(m, &h, &hs) != UMF_RESULT_SUCCESS)
        return 1;
    memset(m, 0xa5, LEN);
    if (!send_handle(SOCK_FD, h, hs) || recv_byte(SOCK_FD) != 'O')
        return 1;
    if (!strcmp(c->kind, "file"))
        unlink(c->path); // the parent still has it open; the name goes now
    _exit(0); // no cleanup: the process just goes
}

static void owner_gone(cfg_t *c) {
    int sock;
    pid_t pid = spawn("--exporter", c, &sock);
    void *h = pid > 0 ? recv_handle(sock) : NULL;
    check(h != NULL, "%s: handle received from exporter %d", c->kind, (int)pid);
    if (!h)
        return;
    cfg_t mine = *c;
    umf_memory_pool_handle_t pool = make_pool(&mine, false);
    umf_ipc_handler_handle_t handler;
    umfPoolGetIPCHandler(pool, &handler);
    unsigned char *p = NULL;
    umf_result_t r = umfOpenIPCHandle(handler, h, (void **)&p);
    check(r == UMF_RESULT_SUCCESS && p && p[0] == 0xa5 && p[LEN - 1] == 0xa5,
          "%s: the exporter's memory opened in its parent (%d)", c->kind, (int)r);
    send_byte(sock, 'O');
    close(sock);
    wait_ok(pid, "exporter");
    if (r == UMF_RESULT_SUCCESS) {
        // What was mapped stays valid after its exporter exits.
        check(p[100] == 0xa5, "%s: a mapping outlives its exporter", c->kind);
        umfCloseIPCHandle(p);
    }
    void *s = NULL;
    r = umfOpenIPCHandle(handler, h, &s);
    check(r == UMF_RESULT_ERROR_INVALID_ARGUMENT && !s,
          "%s: refused once the exporter is gone (%d)", c->kind, (int)r);
    if (!strcmp(c->kind, "shm")) { // the exporter did not unlink its shm file
        char name[128];
        snprintf(name, sizeof name, "/dev/shm/hetmem_ipc_procs_%d", (int)pid);
        unlink(name);
    }
    free(h);
    drop_pool(&mine, pool);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    cfg_t c = {0};
    if (argc >= 3 && (!strcmp(argv[1], "--consumer") || !strcmp(argv[1], "--exporter"))) {
        c.kind = argv[2];
        if (argc >= 5 && strcmp(argv[3], "-"))
            c.dev = argv[3], c.dev_size = strtoull(argv[4], NULL, 0);
        return !strcmp(argv[1], "--consumer") ? consume(&c) : export_and_exit(&c);
    }
    const char *kinds[] = {"memfd", "shm", "file", "disjoint"};
    size_t nkinds = 4;
    if (argc == 4 && !strcmp(argv[1], "devdax")) {
        c.dev = argv[2];
        c.dev_size = strtoull(argv[3], NULL, 0);
        if (access(c.dev, R_OK | W_OK) != 0) {
            return test_skip_status("cannot use %s: %s", c.dev, strerror(errno));
        }
        kinds[0] = "devdax";
        nkinds = 1;
    } else if (argc != 1) {
        fprintf(stderr, "usage: %s [devdax PATH SIZE]\n", argv[0]);
        return 2;
    }
    for (size_t i = 0; i < nkinds; i++) {
        c.kind = kinds[i];
        produce(&c);
        owner_gone(&c);
    }
    printf("%s\n", failures ? "FAILED" : "PASSED");
    return failures ? 1 : 0;
}
