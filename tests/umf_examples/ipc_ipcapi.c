// SPDX-License-Identifier: MIT
// UMF scenario "IPC through the IPC API": a producer allocates from a pool
// over a shared OS provider, fills the block, takes an IPC handle
// (umfGetIPCHandle) and sends it over a socket to a consumer process (forked
// and exec'd: a fresh image). The consumer opens it through its own pool's
// IPC handler (umfPoolGetIPCHandler, umfOpenIPCHandle), checks the data,
// writes its answer into the second half and closes it; the producer then
// sees the consumer's write in its own block.
//
// Usage: ipc_ipcapi   (runs both sides; `--consumer FD` is the child)
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <umf/ipc.h>
#include <umf/memory_pool.h>
#include <umf/memory_provider.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_os_memory.h>

#include "ex_check.h"

#define WORDS (1u << 18) // 1 MiB of uint32_t: half the producer's, half the consumer's
#define PRODUCER_WORD(i) ((uint32_t)(i) * 2654435761u + 17u)
#define CONSUMER_WORD(i) ((uint32_t)(i) ^ 0xc0ffee00u)

static bool send_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static bool recv_all(int fd, void *buf, size_t n) {
    char *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static int consumer(int fd) {
    umf_memory_pool_handle_t pool = ex_os_pool(UMF_MEM_MAP_SHARED);
    ex_check(pool != NULL, "consumer: pool over a shared OS provider");
    umf_ipc_handler_handle_t handler = NULL;
    umf_result_t rc = pool ? umfPoolGetIPCHandler(pool, &handler) : UMF_RESULT_ERROR_UNKNOWN;
    ex_check(rc == UMF_RESULT_SUCCESS && handler, "consumer: umfPoolGetIPCHandler: %d", rc);
    size_t size = 0;
    void *handle = NULL;
    bool got = recv_all(fd, &size, sizeof size) && size > 0 && size < (1u << 20) &&
               (handle = malloc(size)) != NULL && recv_all(fd, handle, size);
    ex_check(got, "consumer: received a handle of %zu bytes", size);
    uint32_t *w = NULL;
    rc = got && handler ? umfOpenIPCHandle(handler, handle, (void **)&w) : UMF_RESULT_ERROR_UNKNOWN;
    ex_check(rc == UMF_RESULT_SUCCESS && w, "consumer: umfOpenIPCHandle: %d", rc);
    char answer = 'x';
    if (rc == UMF_RESULT_SUCCESS && w) {
        size_t bad = 0;
        for (size_t i = 0; i < WORDS / 2; i++)
            bad += w[i] != PRODUCER_WORD(i);
        ex_check(bad == 0, "consumer: the producer's %u words read back (%zu differ)", WORDS / 2,
                 bad);
        for (size_t i = WORDS / 2; i < WORDS; i++)
            w[i] = CONSUMER_WORD(i);
        rc = umfCloseIPCHandle(w);
        ex_check(rc == UMF_RESULT_SUCCESS, "consumer: umfCloseIPCHandle: %d", rc);
        answer = 'k';
    }
    ex_check(send_all(fd, &answer, 1), "consumer: answered the producer");
    free(handle);
    if (pool)
        umfPoolDestroy(pool);
    return ex_done();
}

static int producer(const char *self) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
        perror("socketpair");
        return 1;
    }
    umf_memory_pool_handle_t pool = ex_os_pool(UMF_MEM_MAP_SHARED);
    ex_check(pool != NULL, "producer: pool over a shared OS provider");
    uint32_t *w = pool ? umfPoolMalloc(pool, WORDS * sizeof *w) : NULL;
    ex_check(w != NULL, "producer: %zu bytes from the pool", WORDS * sizeof *w);
    if (!w)
        return ex_done();
    for (size_t i = 0; i < WORDS; i++)
        w[i] = i < WORDS / 2 ? PRODUCER_WORD(i) : 0;
    umf_ipc_handle_t handle = NULL;
    size_t size = 0;
    umf_result_t rc = umfGetIPCHandle(w, &handle, &size);
    ex_check(rc == UMF_RESULT_SUCCESS && handle && size > 0, "producer: umfGetIPCHandle: %d (%zu bytes)",
             rc, size);
    if (rc != UMF_RESULT_SUCCESS)
        return ex_done();

    pid_t pid = fork();
    if (pid == 0) {
        char fdarg[16];
        close(sv[0]);
        snprintf(fdarg, sizeof fdarg, "%d", sv[1]);
        execl(self, self, "--consumer", fdarg, (char *)NULL);
        _exit(127);
    }
    close(sv[1]);
    char answer = 0;
    bool sent = send_all(sv[0], &size, sizeof size) && send_all(sv[0], handle, size);
    ex_check(sent, "producer: sent the handle");
    bool heard = recv_all(sv[0], &answer, 1);
    ex_check(heard && answer == 'k', "producer: consumer answered '%c'", heard ? answer : '?');
    int status = -1;
    waitpid(pid, &status, 0);
    ex_check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "producer: consumer exited with 0 (%d)",
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    size_t bad = 0;
    for (size_t i = WORDS / 2; i < WORDS; i++)
        bad += w[i] != CONSUMER_WORD(i);
    ex_check(bad == 0, "producer: the consumer's %u words are in the block (%zu differ)", WORDS / 2,
             bad);
    ex_check(umfPutIPCHandle(handle) == UMF_RESULT_SUCCESS, "producer: umfPutIPCHandle");
    ex_check(umfFree(w) == UMF_RESULT_SUCCESS, "producer: umfFree");
    umfPoolDestroy(pool);
    close(sv[0]);
    return ex_done();
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--consumer") == 0)
        return consumer(atoi(argv[2]));
    return producer("/proc/self/exe");
}
