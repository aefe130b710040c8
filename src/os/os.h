// SPDX-License-Identifier: MIT
// The OS layer: the whole contract between hetmem and the kernel in one
// header (after mimalloc's prim.h). Only src/os and src/topology talk to the
// kernel; every other layer calls these functions.
//
// Conventions
//   - Each function returns 0 on success or a positive errno value; outputs
//     are written only on success. Nothing else in hetmem reads errno.
//   - Lengths given to mapping calls must be multiples of os_page_size()
//     unless stated otherwise; a misaligned or zero length gives EINVAL.
//   - Node sets are nodeset_t (up to NODESET_MAX nodes, no 64-node limit).
//   - The functions are thread-safe (they keep no state but the page size
//     and os_mpol_supported's answers).
#ifndef HETMEM_OS_OS_H
#define HETMEM_OS_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/nodeset.h"

// Protection bits (combine with |). OS_PROT_NONE is 0.
enum { OS_PROT_NONE = 0, OS_PROT_READ = 1, OS_PROT_WRITE = 2, OS_PROT_EXEC = 4 };

// Mapping flags for os_map_anon / os_map_fd.
enum {
    OS_MAP_PRIVATE = 0,
    OS_MAP_SHARED = 1 << 0,   // MAP_SHARED (anonymous shared or file shared)
    OS_MAP_HUGE_2M = 1 << 1,  // MAP_HUGETLB | MAP_HUGE_2MB (hugetlbfs pool)
    OS_MAP_HUGE_1G = 1 << 2,  // MAP_HUGETLB | MAP_HUGE_1GB
    OS_MAP_NORESERVE = 1 << 3,
    OS_MAP_POPULATE = 1 << 4,
    OS_MAP_SYNC = 1 << 5,     // MAP_SHARED_VALIDATE | MAP_SYNC (fs-dax / devdax)
};

// Memory policy modes, the kernel's MPOL_* numbering.
typedef enum os_mpol_t {
    OS_MPOL_DEFAULT = 0,
    OS_MPOL_PREFERRED = 1,
    OS_MPOL_BIND = 2,
    OS_MPOL_INTERLEAVE = 3,
    OS_MPOL_LOCAL = 4,
    OS_MPOL_PREFERRED_MANY = 5,     // Linux 5.15+
    OS_MPOL_WEIGHTED_INTERLEAVE = 6 // Linux 6.9+
} os_mpol_t;

// Flags for os_mbind.
enum {
    OS_MBIND_STRICT = 1 << 0, // MPOL_MF_STRICT: fail if pages are elsewhere
    OS_MBIND_MOVE = 1 << 1,   // MPOL_MF_MOVE: migrate pages already present
};

// Advice for os_madvise.
typedef enum os_advice_t {
    OS_ADV_DONTNEED,  // drop the pages now (purge force); anon reads back zeros
    OS_ADV_FREE,      // MADV_FREE: the kernel may drop them lazily (purge lazy)
    OS_ADV_REMOVE,    // MADV_REMOVE: free the backing store of shared/file memory
    OS_ADV_NOHUGEPAGE,
    OS_ADV_HUGEPAGE,
    OS_ADV_DONTDUMP,
    OS_ADV_DODUMP,
    OS_ADV_DONTFORK,
} os_advice_t;

/// The base page size (sysconf, read once).
size_t os_page_size(void);

/// Maps `len` bytes of anonymous memory aligned to `align`: 0, a divider of
/// the page size (page-aligned) or any multiple of it (EINVAL otherwise). Larger alignments
/// are obtained by mapping more and trimming. `hint` is a hint only.
int os_map_anon(void *hint, size_t len, size_t align, int prot, int flags, void **out);

/// Maps `len` bytes of a file descriptor from offset `off` (a multiple of
/// the page size), shared when flags has OS_MAP_SHARED. With `fixed_addr`
/// non-NULL the mapping replaces what is at that address (MAP_FIXED).
int os_map_fd(void *fixed_addr, size_t len, int prot, int flags, int fd, uint64_t off,
              void **out);

int os_unmap(void *addr, size_t len);
int os_protect(void *addr, size_t len, int prot);
int os_madvise(void *addr, size_t len, os_advice_t advice);

/// mbind(2) over [addr, addr+len) (page-aligned).
int os_mbind(void *addr, size_t len, os_mpol_t mode, const nodeset_t *nodes, unsigned flags);

/// Whether the running kernel has policy `mode` (MPOL_PREFERRED_MANY needs
/// Linux 5.15, MPOL_WEIGHTED_INTERLEAVE 6.9): probed once per mode and
/// process with a scratch page (os_mpol.c), so callers choose a fallback
/// once. DEFAULT..LOCAL are always there.
bool os_mpol_supported(os_mpol_t mode);

#ifdef HETMEM_TEST_HOOKS
/// Test support: makes os_mpol_supported(mode) answer false (true: again
/// the kernel's answer), so that fallbacks run on a kernel that has the mode.
void os_mpol_unsupported_for_testing(os_mpol_t mode, bool unsupported);
#endif

/// set_mempolicy(2) for the calling thread.
int os_set_mempolicy(os_mpol_t mode, const nodeset_t *nodes);

/// get_mempolicy(2): the calling thread's policy (addr NULL) or the policy
/// of the mapping at addr. Either output may be NULL.
int os_get_mempolicy(void *addr, os_mpol_t *mode, nodeset_t *nodes);

/// The node holding the page at `addr`, or -1 in *node when the page is not
/// present (move_pages status query; nothing is faulted in).
int os_page_node(void *addr, int *node);

/// move_pages(2) for the calling process. With nodes NULL it only queries:
/// status[i] gets the node of pages[i] or a negative errno (-ENOENT: not
/// present). With nodes set it moves the pages (OS_MBIND_MOVE semantics).
int os_move_pages(size_t count, void **pages, const int *nodes, int *status);

/// memfd_create(2) with MFD_CLOEXEC (and MFD_HUGETLB for huge page flags).
int os_memfd_create(const char *name, int map_flags, int *fd);

/// Opens (creating with mode 0600 when `create`) a POSIX shm object
/// /dev/shm/NAME read-write. `exclusive` adds O_EXCL.
int os_shm_open(const char *name, bool create, bool exclusive, int *fd);
int os_shm_unlink(const char *name);

/// Opens a file read-write (creating with mode 0600 when `create`).
int os_file_open(const char *path, bool create, int *fd);
/// Opens read-only or read-write without creating.
int os_file_open_existing(const char *path, bool writable, int *fd);
/// Creates an unlinked temporary file in directory `dir` (O_TMPFILE, or
/// mkstemp + unlink where the filesystem lacks O_TMPFILE).
int os_file_tmp(const char *dir, int *fd);
int os_file_close(int fd);
int os_file_size(int fd, uint64_t *size);
/// True when fd is a character device (e.g. /dev/daxX.Y).
int os_file_is_chardev(int fd, bool *is_chr);
/// Grows the file to at least `size` bytes: fallocate(2), falling back to
/// ftruncate(2) where the filesystem does not support fallocate.
int os_file_extend(int fd, uint64_t size);
/// Grows the file to at least `size` bytes with ftruncate(2) only: the new
/// range stays sparse (no blocks are allocated, punched holes stay holes).
/// Never shrinks.
int os_file_truncate(int fd, uint64_t size);
/// Frees the blocks of [off, off+len) (FALLOC_FL_PUNCH_HOLE|KEEP_SIZE).
int os_file_punch_hole(int fd, uint64_t off, uint64_t len);

/// The CPU and node the calling thread runs on (getcpu(2)); either may be NULL.
int os_getcpu(unsigned *cpu, unsigned *node);

/// The calling thread id (gettid).
int os_gettid(void);

/// Monotonic clock in nanoseconds at the kernel tick's resolution (a few
/// ms; CLOCK_MONOTONIC_COARSE): several times cheaper, for time stamps that
/// only need to tell seconds apart (decay).
uint64_t os_now_coarse_ns(void);

// ---- processes and descriptors of other processes (the IPC layer) --------

/// The calling process id (getpid).
int os_getpid(void);

/// Whether process `pid` exists: kill(pid, 0). Returns 0 when it does (also
/// when the kernel answers EPERM: it exists but is not ours to signal),
/// ESRCH when it does not, EINVAL for pid <= 0.
int os_process_alive(int pid);

/// pidfd_open(2) (Linux 5.3+): a descriptor (close-on-exec) that refers to
/// process `pid` for as long as it is open, even if the pid is reused.
/// ESRCH: no such process; ENOSYS: an older kernel.
int os_pidfd_open(int pid, int *pidfd);

/// pidfd_getfd(2) (Linux 5.6+): a duplicate (close-on-exec) of descriptor
/// `targetfd` of the process `pidfd` refers to: the same open file, with the
/// access mode that process opened it with. Needs ptrace-attach permission
/// over that process (the same user, unless Yama's ptrace_scope restricts
/// it to descendants; root; CAP_SYS_PTRACE): EPERM otherwise. EBADF: the
/// process has no such descriptor. ENOSYS: an older kernel.
int os_pidfd_getfd(int pidfd, int targetfd, int *fd);

/// Opens /proc/PID/fd/N: the object descriptor N of process `pid` refers to,
/// opened anew (read-write when `writable`, close-on-exec) with the caller's
/// credentials checked against it. Needs ptrace-read permission over the
/// process (the same user or root; Yama does not restrict reads). ENOENT:
/// no such process or descriptor.
int os_proc_fd_open(int pid, int fd, bool writable, int *out);

/// A duplicate of descriptor `fd` of process `pid`: pidfd_getfd first
/// (race-free: the pidfd pins the process), then /proc/PID/fd/N when that is
/// refused (EPERM, ENOSYS). Returns 0, ESRCH (no such process) or the
/// error of the last way tried.
int os_fd_from_process(int pid, int fd, bool writable, int *out);

/// What an open descriptor is (fstat): its identity and type.
typedef struct os_file_id_t {
    uint64_t dev;  // st_dev: the filesystem
    uint64_t ino;  // st_ino: the file in it
    uint64_t rdev; // st_rdev: the device number of a device file (else 0)
    uint64_t size; // st_size (0 for devices: see os_devdax_geometry)
    bool regular;  // S_ISREG (regular files, memfds, /dev/shm files)
    bool chardev;  // S_ISCHR (device DAX)
} os_file_id_t;

int os_file_identity(int fd, os_file_id_t *out);

/// The identity of the object descriptor N of process `pid` refers to, by
/// stat(2) of /proc/PID/fd/N (ptrace-read permission, as os_proc_fd_open).
int os_proc_fd_identity(int pid, int fd, os_file_id_t *out);

/// The size and the mapping alignment of a device DAX character device,
/// read from sysfs (/sys/dev/char/MAJ:MIN/size and .../align; a kernel
/// without the align file gives 2 MiB, the devdax default). EINVAL: fd is
/// not a character device; ENOENT: not a device DAX.
int os_devdax_geometry(int fd, uint64_t *size, uint64_t *align);

#endif // HETMEM_OS_OS_H
