// SPDX-License-Identifier: MIT
// hmmap and hmunmap (hmmap(3)): a mapping made through the OS layer
// (os_map_anon, os_map_fd), then bound with the hmalloc pool's policy
// (os_mbind), as HMSDK's hmmap maps and then mbinds. The return values are
// the documented ones: MAP_FAILED with errno when the mapping fails, NULL
// with errno when the binding fails (the mapping is undone first).
//
// The MAP_* flags of mmap are translated into the OS layer's, one by one; a flag
// that the OS layer cannot express is refused with EINVAL rather than
// dropped silently:
//   MAP_SHARED, MAP_PRIVATE, MAP_SHARED_VALIDATE (with MAP_SYNC), MAP_ANONYMOUS,
//   MAP_HUGETLB with MAP_HUGE_2MB / MAP_HUGE_1GB (or no size: 2 MiB, the
//   x86-64 default), MAP_NORESERVE, MAP_POPULATE, MAP_FIXED for files,
//   MAP_FIXED_NOREPLACE for anonymous memory (the address as a hint, then
//   EEXIST when the kernel placed it elsewhere);
//   MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FILE, MAP_NONBLOCK, MAP_STACK are
//   accepted and ignored (as Linux ignores them, MAP_STACK before 6.7);
//   refused: MAP_FIXED for anonymous memory, MAP_FIXED_NOREPLACE for files
//   (TODO(#6): the OS layer has no fixed anonymous mapping and no file
//   hint yet), MAP_LOCKED, MAP_GROWSDOWN, MAP_32BIT, MAP_UNINITIALIZED.
// MAP_POPULATE faults the pages in before the policy exists, so the binding
// then moves them (MPOL_MF_MOVE), which plain mmap + mbind would not.
#include <errno.h>
#include <stdbool.h>
#include <linux/mman.h> // MAP_HUGE_*, MAP_SHARED_VALIDATE, MAP_SYNC, MAP_FIXED_NOREPLACE
#include <sys/mman.h>

#include <hmalloc.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/hmalloc/hm_priv.h"
#include "frontend/hmalloc/hm_policy.h"
#include "os/os.h"

#ifndef MAP_TYPE
#define MAP_TYPE 0x0f
#endif

#define SUPPORTED_FLAGS                                                                            \
    (MAP_ANONYMOUS | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_HUGETLB | MAP_NORESERVE |              \
     MAP_POPULATE | MAP_SYNC | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_NONBLOCK | MAP_STACK)

#ifdef HETMEM_TEST_HOOKS
// Test support: the errno the calling thread's next binding fails with.
static __thread int fail_mbind_err;

void hm_fail_next_mbind_for_testing(int err) { fail_mbind_err = err; }
#endif

// ---- translation -------------------------------------------------------------------

typedef struct map_req_t {
    int prot;       // OS_PROT_*
    int flags;      // OS_MAP_*
    bool anon;
    bool fixed;     // MAP_FIXED (files)
    bool noreplace; // MAP_FIXED_NOREPLACE (anonymous)
    bool populate;
    size_t unit;    // the page size of the mapping
} map_req_t;

// Translates prot and flags; 0 or EINVAL.
static int translate(int prot, int flags, map_req_t *req) {
    if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) {
        LOG_ERR("hmmap: protection 0x%x is not supported", prot);
        return EINVAL;
    }
    req->prot = (prot & PROT_READ ? OS_PROT_READ : 0) | (prot & PROT_WRITE ? OS_PROT_WRITE : 0) |
                (prot & PROT_EXEC ? OS_PROT_EXEC : 0);
    int type = flags & MAP_TYPE;
    if (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE)
        return EINVAL; // as mmap: neither private nor shared
    req->flags = type == MAP_PRIVATE ? OS_MAP_PRIVATE : OS_MAP_SHARED;
    unsigned huge = ((unsigned)flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
    unsigned rest = (unsigned)flags & ~(unsigned)MAP_TYPE &
                    ~((unsigned)MAP_HUGE_MASK << MAP_HUGE_SHIFT);
    if (rest & ~(unsigned)SUPPORTED_FLAGS) {
        LOG_ERR("hmmap: flags 0x%x are not supported", rest & ~(unsigned)SUPPORTED_FLAGS);
        return EINVAL;
    }
    req->anon = rest & MAP_ANONYMOUS;
    req->noreplace = rest & MAP_FIXED_NOREPLACE;
    req->fixed = (rest & MAP_FIXED) && !req->noreplace; // NOREPLACE wins, as in the kernel
    req->populate = rest & MAP_POPULATE;
    req->unit = os_page_size();
    if ((req->anon && req->fixed) || (!req->anon && req->noreplace)) {
        LOG_ERR("hmmap: %s is not supported for %s mappings",
                req->fixed ? "MAP_FIXED" : "MAP_FIXED_NOREPLACE", req->anon ? "anonymous" : "file");
        return EINVAL;
    }
    if ((rest & MAP_HUGETLB) && req->anon) {
        if (huge == 0 || huge == 21) {
            req->flags |= OS_MAP_HUGE_2M;
            req->unit = (size_t)2 << 20;
        } else if (huge == 30) {
            req->flags |= OS_MAP_HUGE_1G;
            req->unit = (size_t)1 << 30;
        } else {
            LOG_ERR("hmmap: huge page size 2^%u is not supported", huge);
            return EINVAL;
        }
    } // a file's huge pages come from its filesystem (hugetlbfs)
    if (rest & MAP_NORESERVE)
        req->flags |= OS_MAP_NORESERVE;
    if (req->populate)
        req->flags |= OS_MAP_POPULATE;
    if ((rest & MAP_SYNC) && type == MAP_SHARED_VALIDATE) // ignored otherwise, as by Linux
        req->flags |= OS_MAP_SYNC;
    return 0;
}

// ---- binding --------------------------------------------------------------------------

static bool fallback_reported;

// Binds [addr, addr+len) with the process's hmalloc binding (hm_binding:
// preferred-many's fallback is decided there, once), as the pool's provider
// does, and falls back to plain interleave where the kernel lacks weighted
// interleave. Returns 0 or the errno of mbind.
static int bind_region(const hm_binding_t *hb, void *addr, size_t len, bool move) {
#ifdef HETMEM_TEST_HOOKS
    if (unlikely(fail_mbind_err)) {
        int err = fail_mbind_err;
        fail_mbind_err = 0;
        return err;
    }
#endif
    if (hb->mpol == OS_MPOL_DEFAULT)
        return 0;
    unsigned flags = move ? OS_MBIND_MOVE : 0;
    int err = os_mbind(addr, len, hb->mpol, &hb->nodes, flags);
    if (err != EINVAL || hb->mpol != OS_MPOL_WEIGHTED_INTERLEAVE)
        return err;
    // EINVAL for valid nodes: the kernel lacks the mode (before 6.9).
    err = os_mbind(addr, len, OS_MPOL_INTERLEAVE, &hb->nodes, flags);
    if (err == 0)
        log_write_once(&fallback_reported, LOG_LEVEL_WARN, "hmmap",
                       "the kernel lacks the weighted-interleave policy; hmmap uses interleave");
    return err;
}

// ---- the API ------------------------------------------------------------------------------

HETMEM_EXPORT void *hmmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset) {
    map_req_t req;
    int err = translate(prot, flags, &req);
    size_t len = 0;
    if (!err && (length == 0 || (!req.anon && offset < 0)))
        err = EINVAL;
    if (!err && !req.anon && fd < 0)
        err = EBADF; // as mmap
    if (!err && !align_up_checked(length, req.unit, &len)) {
        LOG_ERR("hmmap: length %zu overflows when rounded up to the page size %zu", length,
                req.unit);
        err = ENOMEM; // as mmap: no room for the rounded length
    }
    void *p = NULL;
    if (!err && req.anon) {
        err = os_map_anon(addr, len, 0, req.prot, req.flags, &p); // addr: a hint
        if (!err && req.noreplace && p != addr) {
            (void)os_unmap(p, len);
            err = EEXIST; // the range was taken (or the address was not usable)
        }
    } else if (!err) {
        err = os_map_fd(req.fixed ? addr : NULL, len, req.prot, req.flags, fd, (uint64_t)offset,
                        &p);
    }
    if (err) {
        errno = err;
        return MAP_FAILED;
    }
    err = bind_region(hm_binding(), p, len, req.populate);
    if (unlikely(err)) {
        LOG_ERR("hmmap: binding %p+%zu with the %s policy failed: %s", p, len,
                hm_mode_name(hm_policy()->mode), LOG_STRERROR(err));
        (void)os_unmap(p, len);
        errno = err;
        return NULL; // documented (hmmap(3)): NULL when mbind fails
    }
    return p;
}

HETMEM_EXPORT int hmunmap(void *addr, size_t length) {
    int err = os_unmap(addr, length);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
