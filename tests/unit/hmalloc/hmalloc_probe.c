// SPDX-License-Identifier: MIT
// hmalloc_probe: a program linked with libhmalloc.so that reports which
// kernel memory policy its memory got, for test_hmctl: one line each for
// an hmalloc block, an hmmap region, a malloc block and the process
//   hmalloc MODE MASK | hmmap MODE MASK | malloc MODE MASK | process MODE MASK
// (MODE: the kernel's MPOL_* number, MASK: nodes 0-63 in hex). Exit 1
// when an allocation fails.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <hmalloc.h>

#define MPOL_F_ADDR (1 << 1)

static void report(const char *what, void *addr) {
    int mode = -1;
    unsigned long mask[16] = {0};
    if (syscall(SYS_get_mempolicy, &mode, mask, 1024ul, addr, addr ? MPOL_F_ADDR : 0) != 0) {
        perror("get_mempolicy");
        exit(1);
    }
    printf("%s %d 0x%lx\n", what, mode & 0xff, mask[0]);
}

int main(void) {
    size_t len = 4 << 20;
    char *h = hmalloc(len);
    char *m = malloc(len);
    char *mm = hmmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!h || !m || mm == MAP_FAILED || !mm) {
        fprintf(stderr, "hmalloc_probe: allocation failed\n");
        return 1;
    }
    memset(h, 1, len);
    memset(m, 1, len);
    memset(mm, 1, len);
    report("hmalloc", h);
    report("hmmap", mm);
    report("malloc", m);
    report("process", NULL);
    hfree(h);
    free(m);
    return hmunmap(mm, len) == 0 ? 0 : 1;
}
