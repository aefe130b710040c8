// SPDX-License-Identifier: MIT
// File-backed and fixed kinds: memkind_config_*, memkind_create_pmem*,
// memkind_check_dax_path, memkind_create_fixed (docs/memkind.md,
// "File-backed and fixed kinds").
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memkind/mk_priv.h"
#include "memkind/internal/memkind_fixed.h"
#include "memkind/internal/memkind_pmem.h"
#include "os/meta.h"
#include "os/os.h"

// ---- configuration -------------------------------------------------------------

HETMEM_EXPORT struct memkind_config *memkind_config_new(void) {
    struct memkind_config *cfg = meta_alloc(sizeof *cfg);
    if (cfg)
        cfg->policy = MEMKIND_MEM_USAGE_POLICY_DEFAULT;
    return cfg;
}

HETMEM_EXPORT void memkind_config_delete(struct memkind_config *cfg) {
    if (cfg)
        meta_free(cfg, sizeof *cfg);
}

HETMEM_EXPORT void memkind_config_set_path(struct memkind_config *cfg, const char *pmem_dir) {
    if (cfg)
        cfg->pmem_dir = pmem_dir;
}

HETMEM_EXPORT void memkind_config_set_size(struct memkind_config *cfg, size_t pmem_size) {
    if (cfg)
        cfg->pmem_size = pmem_size;
}

HETMEM_EXPORT void memkind_config_set_memory_usage_policy(struct memkind_config *cfg,
                                                          memkind_mem_usage_policy policy) {
    if (cfg)
        cfg->policy = policy;
}

// ---- created kinds -----------------------------------------------------------------

// Created kinds are named from one process-wide counter, never reused
// (file descriptors, used once, come back as soon as a destroy closes them).
static _Atomic unsigned long long kind_ids;

// A new kind with our created-kind operations, registered and live, and
// its heap of `type` (not installed yet).
static int new_kind(const char *prefix, mk_type_t type, struct memkind **out, mk_heap_t **heap) {
    struct memkind *k = mk_kind_alloc();
    if (!k)
        return MEMKIND_ERROR_MALLOC;
    k->ops = type == MK_TYPE_PMEM ? &MEMKIND_PMEM_OPS : &MEMKIND_FIXED_OPS;
    pthread_once_t once = PTHREAD_ONCE_INIT;
    k->init_once = once;
    snprintf(k->name, sizeof k->name, "%s%08llx", prefix, atomic_fetch_add(&kind_ids, 1));
    int err = mk_registry_add(k);
    mk_heap_t *h = err == MEMKIND_SUCCESS ? mk_heap_new(k, type) : NULL;
    if (!h) {
        if (err == MEMKIND_SUCCESS) {
            mk_registry_remove(k);
            err = MEMKIND_ERROR_MALLOC;
        }
        mk_kind_retire(k);
        return err;
    }
    mk_kind_mark_live(k);
    *out = k;
    *heap = h;
    return MEMKIND_SUCCESS;
}

// Installs the heap and creates its pool (when make_pool); on failure undoes everything.
static int finish(struct memkind *k, mk_heap_t *h, bool make_pool, memkind_t *kind) {
    if (!mk_heap_install(k, h)) {
        if (h->fd >= 0)
            os_file_close(h->fd);
        mk_heap_free(h);
        mk_registry_remove(k);
        mk_kind_retire(k);
        return MEMKIND_ERROR_MALLOC;
    }
    int err = MEMKIND_SUCCESS;
    if (make_pool && !mk_heap_pool(h, &err)) {
        memkind_destroy_kind(k);
        return err != MEMKIND_SUCCESS ? err : MEMKIND_ERROR_RUNTIME;
    }
    *kind = k;
    return MEMKIND_SUCCESS;
}

static int create_pmem(const char *dir, size_t max_size, memkind_mem_usage_policy policy,
                       memkind_t *kind) {
    if (!dir || !kind || (max_size && max_size < MEMKIND_PMEM_MIN_SIZE) ||
        (unsigned)policy >= MEMKIND_MEM_USAGE_POLICY_MAX_VALUE || strlen(dir) >= 256) {
        LOG_ERR("memkind_create_pmem: invalid %s",
                !dir || !kind                                            ? "NULL argument"
                : (unsigned)policy >= MEMKIND_MEM_USAGE_POLICY_MAX_VALUE ? "policy"
                : strlen(dir) >= 256                                     ? "directory (too long)"
                                     : "size (below MEMKIND_PMEM_MIN_SIZE)");
        return MEMKIND_ERROR_INVALID;
    }
    int err = mk_env_status();
    if (err != MEMKIND_SUCCESS)
        return mk_log_error("memkind_create_pmem", err);
    int saved = errno;
    size_t limit = 0;
    if (max_size && !align_up_checked(max_size, MK_HUGE_2M, &limit)) {
        LOG_ERR("memkind_create_pmem: max_size %zu overflows when rounded up to 2 MiB", max_size);
        return MEMKIND_ERROR_INVALID;
    }
    int fd;
    int e = os_file_tmp(dir, &fd);
    if (e) {
        LOG_ERR("memkind_create_pmem: cannot create a temporary file in %s: %s", dir,
                LOG_STRERROR(e));
        errno = e; // memkind(3): the system call's errno is kept
        return mk_error_from_errno(e);
    }
    struct memkind *k;
    mk_heap_t *h;
    if ((err = new_kind("pmem", MK_TYPE_PMEM, &k, &h)) != MEMKIND_SUCCESS) {
        os_file_close(fd);
        errno = saved;
        return err;
    }
    h->fd = fd;
    snprintf(h->path, sizeof h->path, "/proc/self/fd/%d", fd);
    snprintf(h->dir, sizeof h->dir, "%s", dir);
    h->limit = limit;
    h->policy = policy;
    err = finish(k, h, true, kind);
    if (err == MEMKIND_SUCCESS)
        errno = saved; // no public call changes errno on success
    return err;
}

HETMEM_EXPORT int memkind_create_pmem(const char *dir, size_t max_size, memkind_t *kind) {
    return create_pmem(dir, max_size, MEMKIND_MEM_USAGE_POLICY_DEFAULT, kind);
}

HETMEM_EXPORT int memkind_create_pmem_with_config(struct memkind_config *cfg, memkind_t *kind) {
    if (!cfg)
        return MEMKIND_ERROR_INVALID;
    return create_pmem(cfg->pmem_dir, cfg->pmem_size, cfg->policy, kind);
}

HETMEM_EXPORT int memkind_create_fixed(void *addr, size_t size, memkind_t *kind) {
    uintptr_t end;
    // memkind 1.14 accepts size 0: a kind of capacity 0 that never allocates.
    if ((!addr && size) || !kind || __builtin_add_overflow((uintptr_t)addr, size, &end)) {
        LOG_ERR("memkind_create_fixed: %s", !kind   ? "NULL kind"
                                            : !addr ? "NULL area"
                                                    : "the area wraps around the "
                                                      "address space (size overflow)");
        return MEMKIND_ERROR_INVALID;
    }
    int err = mk_env_status();
    if (err != MEMKIND_SUCCESS)
        return mk_log_error("memkind_create_fixed", err);
    int saved = errno;
    struct memkind *k;
    mk_heap_t *h;
    if ((err = new_kind("fixed", MK_TYPE_FIXED, &k, &h)) != MEMKIND_SUCCESS)
        return err;
    h->fixed_addr = addr;
    h->fixed_size = size;
    err = finish(k, h, size != 0, kind); // size 0: no pool, allocations fail with ENOMEM
    if (err == MEMKIND_SUCCESS)
        errno = saved;
    return err;
}

// ---- DAX ---------------------------------------------------------------------------

// A file in the directory is on a DAX mapping when the kernel accepts
// MAP_SYNC for it (fs-dax only), which is what memkind checks too.
static int check_dax_path(const char *pmem_dir) {
    int fd;
    int e = os_file_tmp(pmem_dir, &fd);
    if (e) {
        LOG_INFO("memkind_check_dax_path(%s): no temporary file: %s", pmem_dir, LOG_STRERROR(e));
        return MEMKIND_ERROR_RUNTIME; // memkind 1.14's code (a missing directory, a file)
    }
    size_t len = os_page_size();
    void *p = NULL;
    e = os_file_extend(fd, len);
    if (e == 0)
        e = os_map_fd(NULL, len, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_SHARED | OS_MAP_SYNC, fd, 0,
                      &p);
    if (e == 0)
        os_unmap(p, len);
    os_file_close(fd);
    LOG_INFO("memkind_check_dax_path(%s): %s%s", pmem_dir, e ? "not DAX: " : "DAX",
             e ? LOG_STRERROR(e) : "");
    return e ? MEMKIND_ERROR_MMAP : MEMKIND_SUCCESS; // memkind 1.14's code
}

HETMEM_EXPORT int memkind_check_dax_path(const char *pmem_dir) {
    if (!pmem_dir || !pmem_dir[0]) {
        LOG_ERR("memkind_check_dax_path: %s directory", !pmem_dir ? "NULL" : "empty");
        return MEMKIND_ERROR_INVALID;
    }
    int saved = errno;
    int err = check_dax_path(pmem_dir);
    if (err == MEMKIND_SUCCESS)
        errno = saved;
    return err;
}
