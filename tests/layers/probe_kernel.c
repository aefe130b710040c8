// SPDX-License-Identifier: MIT
// A probe for the symbol check (never run): code that calls the kernel
// through syscall() and mmap, as a layer above src/os must not.
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

void *layers_probe_kernel(size_t len);
void *layers_probe_kernel(size_t len) {
    if (syscall(SYS_getpid) < 0)
        return NULL;
    return mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
