// SPDX-License-Identifier: MIT
// Linux implementation of os.h: mappings, protection, advice, NUMA policy
// system calls (issued directly with syscall(2), so no libnuma is needed on
// this path), memfd/shm/file descriptors. Converts errno to return values.
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mman.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << MAP_HUGE_SHIFT)
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#define KERNEL_MPOL_F_NODE (1 << 0)
#define KERNEL_MPOL_F_ADDR (1 << 1)

// The nodemask arguments: NODESET_MAX bits, passed with maxnode = bits + 1
// (the kernel counts one past the last bit, as libnuma does).
#define MASK_LONGS (NODESET_MAX / (8 * sizeof(unsigned long)))

static _Atomic size_t page_size_cached;

size_t os_page_size(void) {
    size_t p = atomic_load_explicit(&page_size_cached, memory_order_relaxed);
    if (likely(p))
        return p;
    long v = sysconf(_SC_PAGESIZE);
    p = v > 0 ? (size_t)v : 4096;
    atomic_store_explicit(&page_size_cached, p, memory_order_relaxed);
    return p;
}

static int to_prot(int prot) {
    int p = PROT_NONE;
    if (prot & OS_PROT_READ)
        p |= PROT_READ;
    if (prot & OS_PROT_WRITE)
        p |= PROT_WRITE;
    if (prot & OS_PROT_EXEC)
        p |= PROT_EXEC;
    return p;
}

static bool prot_valid(int prot) {
    return (prot & ~(OS_PROT_READ | OS_PROT_WRITE | OS_PROT_EXEC)) == 0;
}

static int to_map_flags(int flags) {
    int f = (flags & OS_MAP_SHARED) ? MAP_SHARED : MAP_PRIVATE;
    if (flags & OS_MAP_HUGE_2M)
        f |= MAP_HUGETLB | MAP_HUGE_2MB;
    else if (flags & OS_MAP_HUGE_1G)
        f |= MAP_HUGETLB | MAP_HUGE_1GB;
    if (flags & OS_MAP_NORESERVE)
        f |= MAP_NORESERVE;
    if (flags & OS_MAP_POPULATE)
        f |= MAP_POPULATE;
    if (flags & OS_MAP_SYNC)
        f = (f & ~MAP_SHARED) | MAP_SHARED_VALIDATE | MAP_SYNC;
    return f;
}

static size_t huge_size(int flags) {
    if (flags & OS_MAP_HUGE_1G)
        return (size_t)1 << 30;
    if (flags & OS_MAP_HUGE_2M)
        return (size_t)2 << 20;
    return os_page_size();
}

int os_map_anon(void *hint, size_t len, size_t align, int prot, int flags, void **out) {
    size_t unit = huge_size(flags);
    if (!out || len == 0 || !IS_ALIGNED(len, unit) || !prot_valid(prot))
        return EINVAL;
    if (align && align % unit && unit % align)
        return EINVAL; // neither a multiple nor a divider of the page
    int mflags = to_map_flags(flags) | MAP_ANONYMOUS;
    if (flags & OS_MAP_SYNC)
        return EINVAL; // MAP_SYNC needs a DAX file
    if (align <= unit) {
        void *p = mmap(hint, len, to_prot(prot), mflags, -1, 0);
        if (p == MAP_FAILED)
            return errno;
        *out = p;
        return 0;
    }
    // Over-map by `align` (any multiple of `unit`) and trim both ends. Huge
    // page mappings can't be trimmed at arbitrary points, but both ends are
    // multiples of `unit`.
    size_t total;
    if (__builtin_add_overflow(len, align, &total))
        return ENOMEM;
    char *p = mmap(hint, total, to_prot(prot), mflags, -1, 0);
    if (p == MAP_FAILED)
        return errno;
    char *a = p + (align - (uintptr_t)p % align) % align;
    size_t head = (size_t)(a - p), tail = total - head - len;
    if (head)
        munmap(p, head);
    if (tail)
        munmap(a + len, tail);
    *out = a;
    return 0;
}

int os_map_fd(void *fixed_addr, size_t len, int prot, int flags, int fd, uint64_t off,
              void **out) {
    if (!out || len == 0 || fd < 0 || !prot_valid(prot) || off % os_page_size())
        return EINVAL;
    if (fixed_addr && !IS_ALIGNED((uintptr_t)fixed_addr, os_page_size()))
        return EINVAL;
    int mflags = to_map_flags(flags & ~(OS_MAP_HUGE_2M | OS_MAP_HUGE_1G));
    if (fixed_addr)
        mflags |= MAP_FIXED;
    void *p = mmap(fixed_addr, len, to_prot(prot), mflags, fd, (off_t)off);
    if (p == MAP_FAILED)
        return errno;
    *out = p;
    return 0;
}

int os_unmap(void *addr, size_t len) {
    if (!addr || len == 0 || !IS_ALIGNED((uintptr_t)addr, os_page_size()))
        return EINVAL;
    return munmap(addr, len) ? errno : 0;
}

int os_protect(void *addr, size_t len, int prot) {
    if (!addr || !prot_valid(prot) || !IS_ALIGNED((uintptr_t)addr, os_page_size()))
        return EINVAL;
    return mprotect(addr, len, to_prot(prot)) ? errno : 0;
}

int os_madvise(void *addr, size_t len, os_advice_t advice) {
    int a;
    switch (advice) {
    case OS_ADV_DONTNEED: a = MADV_DONTNEED; break;
    case OS_ADV_FREE: a = MADV_FREE; break;
    case OS_ADV_REMOVE: a = MADV_REMOVE; break;
    case OS_ADV_NOHUGEPAGE: a = MADV_NOHUGEPAGE; break;
    case OS_ADV_HUGEPAGE: a = MADV_HUGEPAGE; break;
    case OS_ADV_DONTDUMP: a = MADV_DONTDUMP; break;
    case OS_ADV_DODUMP: a = MADV_DODUMP; break;
    case OS_ADV_DONTFORK: a = MADV_DONTFORK; break;
    default: return EINVAL;
    }
    if (!addr || !IS_ALIGNED((uintptr_t)addr, os_page_size()))
        return EINVAL;
    if (madvise(addr, len, a) == 0)
        return 0;
    int e = errno;
    // MADV_FREE exists since 4.5 and only for private anonymous memory: fall
    // back to DONTNEED, which is always correct (just not lazy).
    if (advice == OS_ADV_FREE && e == EINVAL)
        return madvise(addr, len, MADV_DONTNEED) ? errno : 0;
    return e;
}

static bool mode_valid(os_mpol_t mode) {
    return mode >= OS_MPOL_DEFAULT && mode <= OS_MPOL_WEIGHTED_INTERLEAVE;
}

// The kernel's node mask (*mp, in `mask`) and maxnode for `nodes` under
// `mode`; none for DEFAULT and LOCAL.
static unsigned long policy_mask(os_mpol_t mode, const nodeset_t *nodes, unsigned long *mask,
                                 unsigned long **mp) {
    *mp = NULL;
    if (!nodes || mode == OS_MPOL_DEFAULT || mode == OS_MPOL_LOCAL)
        return 0;
    nodeset_to_ulongs(nodes, mask, MASK_LONGS);
    *mp = mask;
    return NODESET_MAX + 1;
}

int os_mbind(void *addr, size_t len, os_mpol_t mode, const nodeset_t *nodes, unsigned flags) {
    if (!addr || len == 0 || !mode_valid(mode) || !IS_ALIGNED((uintptr_t)addr, os_page_size()))
        return EINVAL;
    unsigned long mask[MASK_LONGS], *mp;
    unsigned long maxnode = policy_mask(mode, nodes, mask, &mp);
    unsigned kflags = 0;
    if (flags & OS_MBIND_STRICT)
        kflags |= 1; // MPOL_MF_STRICT
    if (flags & OS_MBIND_MOVE)
        kflags |= 2; // MPOL_MF_MOVE
    if (syscall(SYS_mbind, addr, len, (unsigned long)mode, mp, maxnode, kflags) == 0)
        return 0;
    return errno;
}

int os_set_mempolicy(os_mpol_t mode, const nodeset_t *nodes) {
    if (!mode_valid(mode))
        return EINVAL;
    unsigned long mask[MASK_LONGS], *mp;
    unsigned long maxnode = policy_mask(mode, nodes, mask, &mp);
    if (syscall(SYS_set_mempolicy, (unsigned long)mode, mp, maxnode) == 0)
        return 0;
    return errno;
}

int os_get_mempolicy(void *addr, os_mpol_t *mode, nodeset_t *nodes) {
    unsigned long mask[MASK_LONGS];
    int m = 0;
    memset(mask, 0, sizeof mask);
    if (syscall(SYS_get_mempolicy, &m, mask, (unsigned long)(NODESET_MAX + 1), addr,
                addr ? (unsigned long)KERNEL_MPOL_F_ADDR : 0ul) != 0)
        return errno;
    if (mode)
        *mode = (os_mpol_t)(m & 0xff); // strip MPOL_F_* mode flags
    if (nodes) {
        nodeset_zero(nodes);
        for (unsigned n = 0; n < NODESET_MAX; n++)
            if (mask[n / (8 * sizeof(unsigned long))] >> (n % (8 * sizeof(unsigned long))) & 1ul)
                nodeset_set(nodes, n);
    }
    return 0;
}

int os_move_pages(size_t count, void **pages, const int *nodes, int *status) {
    if (!pages || !status || count == 0)
        return EINVAL;
    long r = syscall(SYS_move_pages, 0, (unsigned long)count, pages, nodes, status,
                     nodes ? 2 /* MPOL_MF_MOVE */ : 0);
    if (r < 0)
        return errno;
    return 0;
}

int os_page_node(void *addr, int *node) {
    if (!node)
        return EINVAL;
    void *page = (void *)ALIGN_DOWN((uintptr_t)addr, os_page_size());
    int status = -1;
    int r = os_move_pages(1, &page, NULL, &status);
    if (r)
        return r;
    *node = status >= 0 ? status : -1;
    return 0;
}

int os_memfd_create(const char *name, int map_flags, int *fd) {
    if (!name || !fd)
        return EINVAL;
    unsigned f = MFD_CLOEXEC;
    if (map_flags & OS_MAP_HUGE_2M)
        f |= MFD_HUGETLB | MAP_HUGE_2MB;
    else if (map_flags & OS_MAP_HUGE_1G)
        f |= MFD_HUGETLB | MAP_HUGE_1GB;
    int r = (int)syscall(SYS_memfd_create, name, f);
    if (r < 0)
        return errno;
    *fd = r;
    return 0;
}

static int shm_path(const char *name, char *buf, size_t len) {
    if (!name || !name[0] || strchr(name, '/') || strlen(name) > 200)
        return EINVAL;
    snprintf(buf, len, "/dev/shm/%s", name);
    return 0;
}

int os_shm_open(const char *name, bool create, bool exclusive, int *fd) {
    char path[256];
    if (!fd || shm_path(name, path, sizeof path))
        return EINVAL;
    int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW;
    if (create)
        flags |= O_CREAT;
    if (exclusive)
        flags |= O_EXCL;
    int r = open(path, flags, 0600);
    if (r < 0)
        return errno;
    *fd = r;
    return 0;
}

int os_shm_unlink(const char *name) {
    char path[256];
    if (shm_path(name, path, sizeof path))
        return EINVAL;
    return unlink(path) ? errno : 0;
}

int os_file_open(const char *path, bool create, int *fd) {
    if (!path || !path[0] || !fd)
        return EINVAL;
    int r = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
    if (r < 0)
        return errno;
    *fd = r;
    return 0;
}

int os_file_open_existing(const char *path, bool writable, int *fd) {
    if (!path || !path[0] || !fd)
        return EINVAL;
    int r = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (r < 0)
        return errno;
    *fd = r;
    return 0;
}

int os_file_tmp(const char *dir, int *fd) {
    if (!dir || !dir[0] || !fd)
        return EINVAL;
    int r = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (r >= 0) {
        *fd = r;
        return 0;
    }
    int e = errno;
    if (e != EOPNOTSUPP && e != EISDIR && e != EINVAL)
        return e;
    char tmpl[4096];
    if ((size_t)snprintf(tmpl, sizeof tmpl, "%s/hetmem.XXXXXX", dir) >= sizeof tmpl)
        return ENAMETOOLONG;
    r = mkostemp(tmpl, O_CLOEXEC);
    if (r < 0)
        return errno;
    unlink(tmpl);
    *fd = r;
    return 0;
}

int os_file_close(int fd) {
    if (fd < 0)
        return EBADF;
    return close(fd) ? errno : 0;
}

int os_file_size(int fd, uint64_t *size) {
    struct stat st;
    if (!size)
        return EINVAL;
    if (fstat(fd, &st))
        return errno;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        // A device's size comes from its sysfs (the topology layer), not stat.
        *size = 0;
        return 0;
    }
    *size = (uint64_t)st.st_size;
    return 0;
}

int os_file_is_chardev(int fd, bool *is_chr) {
    struct stat st;
    if (!is_chr)
        return EINVAL;
    if (fstat(fd, &st))
        return errno;
    *is_chr = S_ISCHR(st.st_mode);
    return 0;
}

// Grows the file to `size` bytes (never shrinks it): allocated blocks
// (fallocate, where the file system has it) or a sparse tail (ftruncate).
static int file_grow(int fd, uint64_t size, bool allocate) {
    uint64_t cur;
    int r = os_file_size(fd, &cur);
    if (r)
        return r;
    if (cur >= size)
        return 0;
    if (size > (uint64_t)INT64_MAX)
        return EFBIG;
    if (allocate && fallocate(fd, 0, 0, (off_t)size) == 0)
        return 0;
    if (allocate && errno != EOPNOTSUPP && errno != ENOSYS)
        return errno;
    return ftruncate(fd, (off_t)size) ? errno : 0;
}

int os_file_extend(int fd, uint64_t size) { return file_grow(fd, size, true); }

int os_file_truncate(int fd, uint64_t size) { return file_grow(fd, size, false); }

int os_file_punch_hole(int fd, uint64_t off, uint64_t len) {
    if (len == 0)
        return 0;
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    return errno;
}

int os_getcpu(unsigned *cpu, unsigned *node) {
    unsigned c = 0, n = 0;
    if (syscall(SYS_getcpu, &c, &n, NULL) != 0)
        return errno;
    if (cpu)
        *cpu = c;
    if (node)
        *node = n;
    return 0;
}

int os_gettid(void) { return (int)syscall(SYS_gettid); }

uint64_t os_now_coarse_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// ---- processes and descriptors of other processes -------------------------

int os_getpid(void) { return (int)getpid(); }

int os_process_alive(int pid) {
    if (pid <= 0)
        return EINVAL;
    if (kill((pid_t)pid, 0) == 0)
        return 0;
    return errno == EPERM ? 0 : errno;
}

int os_pidfd_open(int pid, int *pidfd) {
    if (pid <= 0 || !pidfd)
        return EINVAL;
#ifdef SYS_pidfd_open
    long r = syscall(SYS_pidfd_open, (pid_t)pid, 0u); // pidfds are close-on-exec
    if (r < 0)
        return errno;
    *pidfd = (int)r;
    return 0;
#else
    return ENOSYS;
#endif
}

int os_pidfd_getfd(int pidfd, int targetfd, int *fd) {
    if (pidfd < 0 || targetfd < 0 || !fd)
        return EINVAL;
#ifdef SYS_pidfd_getfd
    long r = syscall(SYS_pidfd_getfd, pidfd, targetfd, 0u); // the new fd is close-on-exec
    if (r < 0)
        return errno;
    *fd = (int)r;
    return 0;
#else
    return ENOSYS;
#endif
}

int os_proc_fd_open(int pid, int fd, bool writable, int *out) {
    char path[64];
    if (pid <= 0 || fd < 0 || !out)
        return EINVAL;
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    int r = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (r < 0)
        return errno;
    *out = r;
    return 0;
}

int os_fd_from_process(int pid, int fd, bool writable, int *out) {
    int pidfd = -1, err;
    if (pid <= 0 || fd < 0 || !out)
        return EINVAL;
    err = os_pidfd_open(pid, &pidfd);
    if (err == 0) {
        err = os_pidfd_getfd(pidfd, fd, out);
        close(pidfd);
        if (err == 0 || (err != EPERM && err != ENOSYS && err != EACCES))
            return err;
    } else if (err != ENOSYS && err != EPERM) {
        return err; // ESRCH: the process is gone
    }
    return os_proc_fd_open(pid, fd, writable, out);
}

static void file_id_of(const struct stat *st, os_file_id_t *out) {
    out->dev = (uint64_t)st->st_dev;
    out->ino = (uint64_t)st->st_ino;
    out->rdev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? (uint64_t)st->st_rdev : 0;
    out->regular = S_ISREG(st->st_mode);
    out->chardev = S_ISCHR(st->st_mode);
    out->size = out->regular ? (uint64_t)st->st_size : 0;
}

int os_file_identity(int fd, os_file_id_t *out) {
    struct stat st;
    if (!out)
        return EINVAL;
    if (fstat(fd, &st))
        return errno;
    file_id_of(&st, out);
    return 0;
}

int os_proc_fd_identity(int pid, int fd, os_file_id_t *out) {
    char path[64];
    struct stat st;
    if (pid <= 0 || fd < 0 || !out)
        return EINVAL;
    snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
    if (stat(path, &st))
        return errno;
    file_id_of(&st, out);
    return 0;
}

// One unsigned decimal number from a sysfs file.
static int read_u64_file(const char *path, uint64_t *v) {
    char buf[64];
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0)
        return errno;
    ssize_t n = read(f, buf, sizeof buf - 1);
    int e = n < 0 ? errno : 0;
    close(f);
    if (e)
        return e;
    buf[n > 0 ? n : 0] = 0;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 0);
    if (end == buf || errno)
        return EINVAL;
    *v = x;
    return 0;
}

int os_devdax_geometry(int fd, uint64_t *size, uint64_t *align) {
    struct stat st;
    char path[96];
    if (!size || !align)
        return EINVAL;
    if (fstat(fd, &st))
        return errno;
    if (!S_ISCHR(st.st_mode))
        return EINVAL;
    unsigned ma = major(st.st_rdev), mi = minor(st.st_rdev);
    snprintf(path, sizeof path, "/sys/dev/char/%u:%u/size", ma, mi);
    uint64_t s, a = (uint64_t)2 << 20;
    int e = read_u64_file(path, &s);
    if (e)
        return e == ENOENT ? ENOENT : e;
    snprintf(path, sizeof path, "/sys/dev/char/%u:%u/align", ma, mi);
    if (read_u64_file(path, &a) != 0 || a == 0 || !is_pow2((size_t)a))
        a = (uint64_t)2 << 20;
    *size = s;
    *align = a;
    return 0;
}
