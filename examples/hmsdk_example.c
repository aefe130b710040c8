// SPDX-License-Identifier: MIT
// hmsdk_example: the HMSDK hmalloc API in a few lines. It allocates memory
// with hmalloc (the hmalloc pool) and with malloc, touches every page, and
// reports on which NUMA nodes the pages landed. Run it under hmctl(8) to
// place the hmalloc memory; the malloc memory keeps the process's policy:
//
//   ./hmsdk_example 64                  # both on the local node
//   hmctl -m 2 ./hmsdk_example 64       # hmalloc pages on node 2
//   hmctl -i 0-2 ./hmsdk_example 64     # hmalloc pages interleaved over 0-2
//   numactl -p 1 hmctl -w 1,2 ./hmsdk_example
//
// Build: cc hmsdk_example.c $(pkg-config --cflags --libs hmalloc) -lnuma
// Output: one line per allocation, "hmalloc: 64 MiB, 16384 pages: node 2:
// 16384 (100.0%)".
#include <errno.h>
#include <numaif.h> // move_pages(2), from libnuma
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <hmalloc.h>

#define MAX_NODES 1024

// Prints how many of the pages of [p, p + size) each node holds.
static int report(const char *what, char *p, size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE), n = size / page;
    void **pages = malloc(n * sizeof *pages);
    int *status = malloc(n * sizeof *status);
    static size_t count[MAX_NODES];
    if (!pages || !status)
        return -1;
    for (size_t i = 0; i < n; i++)
        pages[i] = p + i * page;
    // With no target nodes, move_pages only says where each page is.
    if (move_pages(0, (unsigned long)n, pages, NULL, status, 0) != 0) {
        perror("move_pages");
        return -1;
    }
    memset(count, 0, sizeof count);
    size_t elsewhere = 0;
    for (size_t i = 0; i < n; i++) {
        if (status[i] >= 0 && status[i] < MAX_NODES)
            count[status[i]]++;
        else
            elsewhere++; // not present (-ENOENT) or unknown
    }
    printf("%-8s %zu MiB, %zu pages:", what, size >> 20, n);
    const char *sep = " ";
    for (int node = 0; node < MAX_NODES; node++) {
        if (!count[node])
            continue;
        printf("%snode %d: %zu (%.1f%%)", sep, node, count[node], 100.0 * count[node] / n);
        sep = ", ";
    }
    if (elsewhere)
        printf("%snot present: %zu", sep, elsewhere);
    printf("\n");
    free(pages);
    free(status);
    return 0;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
    if (mib == 0 || mib > (1u << 20)) {
        fprintf(stderr, "usage: %s [MiB]\n", argv[0]);
        return 2;
    }
    size_t size = mib << 20;

    // Transparent huge pages would place 512 pages at a time; counting is
    // clearer page by page. (Not needed for hmalloc itself.)
    prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);

    char *h = hmalloc(size);
    if (!h) {
        fprintf(stderr, "hmalloc(%zu MiB): %s\n", mib, strerror(errno));
        return 1;
    }
    char *m = malloc(size);
    if (!m) {
        fprintf(stderr, "malloc(%zu MiB): %s\n", mib, strerror(errno));
        return 1;
    }
    memset(h, 1, size); // the first touch places the pages
    memset(m, 1, size);

    const char *policy = getenv("HMALLOC_POLICY"), *nodes = getenv("HMALLOC_NODES");
    printf("hmctl policy: %s%s%s\n", policy && *policy ? policy : "none (default)",
           nodes && *nodes ? " " : "", nodes && *nodes ? nodes : "");
    int err = report("hmalloc:", h, size) || report("malloc:", m, size);

    hfree(h);
    free(m);
    return err ? 1 : 0;
}
