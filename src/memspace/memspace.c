// SPDX-License-Identifier: MIT
// Memspaces (umfMemspace* except the predefined ones and providers): an
// ordered set of memory targets with no node twice. Creation, the target
// list (Num/Get/Add/Remove), Clone and the filters.
//
// Every operation either completes or leaves the memspace as it was: the
// filters first ask about every target, then remove - removal cannot fail -
// so UMF's "UMF_RESULT_ERROR_UNKNOWN: the memspace is corrupted" never
// happens here. Predefined memspaces are immutable: Add, Remove, the
// filters and Destroy refuse them (they are const handles in the API; a
// caller casting the const away gets an error, not a broken library).
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "memspace/memspace_priv.h"
#include "os/meta.h"
#include "topology/topo.h"

static handle_graveyard_t memspace_graves = HANDLE_GRAVEYARD_INIT;

void *memspace_handle_alloc(handle_graveyard_t *g, size_t size) {
    void *p = handle_graveyard_take(g, size);
    return p ? p : meta_alloc(size); // zeroed
}

bool memspace_out_ok(const void *out, const char *what, const char *fn) {
    if (!out)
        LOG_ERR("%s: NULL %s", fn, what);
    return out != NULL;
}

bool memspace_ok(umf_const_memspace_handle_t ms, const char *fn) {
    return handle_ok(ms, MEMSPACE_TAG, "memspace", fn);
}

// Capacity of the target array when the first target comes; it doubles.
#define MEMSPACE_MIN_CAP 4

// A zeroed memspace: no targets, no array yet, not predefined.
umf_result_t memspace_create(struct umf_memspace_t **out) {
    struct umf_memspace_t *ms = memspace_handle_alloc(&memspace_graves, sizeof *ms);
    if (!ms)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    handle_set_live(&ms->hdr, MEMSPACE_TAG);
    *out = ms;
    return UMF_RESULT_SUCCESS;
}

// Targets first (each is its own block), then the array, then the memspace
// (to its free list, tagged dead).
void memspace_free(struct umf_memspace_t *ms) {
    if (!ms)
        return;
    atomic_store_explicit(&ms->hdr.tag, handle_dead_tag(MEMSPACE_TAG), memory_order_release);
    for (size_t i = 0; i < ms->n; i++)
        memtarget_destroy(ms->targets[i]);
    meta_free(ms->targets, ms->cap * sizeof *ms->targets);
    handle_retire(&memspace_graves, &ms->hdr, MEMSPACE_TAG);
}

// Room for one more target pointer. The array holds pointers, so growing it
// moves no target: handles given out by umfMemspaceMemtargetGet stay valid.
static bool reserve_one(struct umf_memspace_t *ms) {
    if (ms->n < ms->cap)
        return true;
    size_t cap = ms->cap ? ms->cap * 2 : MEMSPACE_MIN_CAP;
    struct umf_memtarget_t **t = meta_alloc(cap * sizeof *t);
    if (!t)
        return false;
    if (ms->n)
        memcpy(t, ms->targets, ms->n * sizeof *t);
    meta_free(ms->targets, ms->cap * sizeof *ms->targets);
    ms->targets = t;
    ms->cap = cap;
    return true;
}

// Linear: memspaces hold a handful of nodes, and this runs at set-up only.
bool memspace_has_node(const struct umf_memspace_t *ms, unsigned id) {
    for (size_t i = 0; i < ms->n; i++)
        if (ms->targets[i]->type == UMF_MEMTARGET_TYPE_NUMA && ms->targets[i]->id == id)
            return true;
    return false;
}

// Appends a new NUMA target (the caller checked node and duplicates).
static umf_result_t append_node(struct umf_memspace_t *ms, unsigned id) {
    if (!reserve_one(ms))
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    umf_result_t r = memtarget_create_numa(id, &ms->targets[ms->n]);
    if (r == UMF_RESULT_SUCCESS)
        ms->n++;
    return r;
}

// Ascending id order: the order of HostAll, and of every predefined memspace.
umf_result_t memspace_from_nodeset(const nodeset_t *nodes, struct umf_memspace_t **out) {
    struct umf_memspace_t *ms;
    umf_result_t r = memspace_create(&ms);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    for (int n = nodeset_next(nodes, 0); n >= 0; n = nodeset_next(nodes, (unsigned)n + 1)) {
        r = append_node(ms, (unsigned)n);
        if (r != UMF_RESULT_SUCCESS) {
            memspace_free(ms);
            return r;
        }
    }
    *out = ms;
    return UMF_RESULT_SUCCESS;
}

// A node of the machine that has memory (the topology lists only those).
static bool node_usable(unsigned id) {
    (void)topo_init(); // EINVAL (a malformed override) still leaves a usable topology
    return topo_node(id) != NULL;
}

// Every id is checked before the memspace is returned: a node without
// memory, one the machine does not have, or one given twice makes the whole
// call fail and nothing is left behind.
HETMEM_EXPORT umf_result_t umfMemspaceCreateFromNumaArray(unsigned *nodeIds, size_t numIds,
                                                          umf_memspace_handle_t *hMemspace) {
    if (!nodeIds || numIds == 0 || !hMemspace) {
        LOG_ERR("invalid arguments: nodeIds %p, numIds %zu, hMemspace %p", (void *)nodeIds,
                numIds, (void *)hMemspace);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    int saved = errno; // the topology's first reads may set it
    struct umf_memspace_t *ms;
    umf_result_t r = memspace_create(&ms);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    for (size_t i = 0; i < numIds; i++) {
        if (!node_usable(nodeIds[i])) {
            LOG_ERR("NUMA node %u does not exist or has no memory", nodeIds[i]);
            r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        } else if (memspace_has_node(ms, nodeIds[i])) {
            LOG_ERR("NUMA node %u is given twice", nodeIds[i]);
            r = UMF_RESULT_ERROR_INVALID_ARGUMENT;
        } else {
            r = append_node(ms, nodeIds[i]);
        }
        if (r != UMF_RESULT_SUCCESS) {
            memspace_free(ms);
            return r;
        }
    }
    *hMemspace = ms;
    errno = saved;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfMemspaceNew(umf_memspace_handle_t *hMemspace) {
    if (!hMemspace) {
        LOG_ERR("NULL hMemspace");
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return memspace_create(hMemspace);
}

// NULL is ignored; a predefined memspace (owned by the library), a
// destroyed one or garbage is ignored with a log line.
HETMEM_EXPORT void umfMemspaceDestroy(umf_memspace_handle_t hMemspace) {
    if (!hMemspace)
        return;
    if (!memspace_ok(hMemspace, __func__))
        return;
    if (hMemspace->predefined) {
        LOG_ERR("a predefined memspace is owned by the library: not destroyed");
        return;
    }
    memspace_free(hMemspace);
}

// Num and Get accept NULL (0 and NULL), as UMF's do: they are queries. A
// garbage or destroyed handle gets the same answers and a log line.
HETMEM_EXPORT size_t umfMemspaceMemtargetNum(umf_const_memspace_handle_t hMemspace) {
    if (!hMemspace || !memspace_ok(hMemspace, __func__))
        return 0;
    return hMemspace->n;
}

HETMEM_EXPORT umf_const_memtarget_handle_t
umfMemspaceMemtargetGet(umf_const_memspace_handle_t hMemspace, unsigned targetNum) {
    if (!hMemspace || !memspace_ok(hMemspace, __func__) || targetNum >= hMemspace->n)
        return NULL;
    return hMemspace->targets[targetNum];
}

// The common refusal of every operation that changes a memspace.
static bool mutable_memspace(umf_memspace_handle_t ms, const char *op) {
    if (!memspace_ok(ms, op))
        return false;
    if (ms->predefined) {
        LOG_ERR("%s: a predefined memspace cannot be changed (clone it first)", op);
        return false;
    }
    return true;
}

// The index of the target naming the same node as t, or -1.
static long find(const struct umf_memspace_t *ms, const struct umf_memtarget_t *t) {
    for (size_t i = 0; i < ms->n; i++)
        if (memtarget_equal(ms->targets[i], t))
            return (long)i;
    return -1;
}

// The target must be valid for this machine: an added copy of a target of
// another memspace always is (it was checked when first made).
HETMEM_EXPORT umf_result_t umfMemspaceMemtargetAdd(umf_memspace_handle_t hMemspace,
                                                   umf_const_memtarget_handle_t hMemtarget) {
    if (!mutable_memspace(hMemspace, "umfMemspaceMemtargetAdd") ||
        !memtarget_ok(hMemtarget, "umfMemspaceMemtargetAdd"))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    if (find(hMemspace, hMemtarget) >= 0) {
        LOG_ERR("NUMA node %u is already in the memspace", hMemtarget->id);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    return append_node(hMemspace, hMemtarget->id); // a copy: NUMA is the only type
}

// Drops target i, keeping the order of the others.
static void remove_at(struct umf_memspace_t *ms, size_t i) {
    memtarget_destroy(ms->targets[i]);
    memmove(&ms->targets[i], &ms->targets[i + 1], (ms->n - i - 1) * sizeof *ms->targets);
    ms->n--;
}

HETMEM_EXPORT umf_result_t umfMemspaceMemtargetRemove(umf_memspace_handle_t hMemspace,
                                                      umf_const_memtarget_handle_t hMemtarget) {
    if (!mutable_memspace(hMemspace, "umfMemspaceMemtargetRemove") ||
        !memtarget_ok(hMemtarget, "umfMemspaceMemtargetRemove"))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    long i = find(hMemspace, hMemtarget);
    if (i < 0) {
        LOG_ERR("NUMA node %u is not in the memspace", hMemtarget->id);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    remove_at(hMemspace, (size_t)i);
    return UMF_RESULT_SUCCESS;
}

// A deep copy (new target blocks), never predefined, whatever the source.
HETMEM_EXPORT umf_result_t umfMemspaceClone(umf_const_memspace_handle_t hMemspace,
                                            umf_memspace_handle_t *hNewMemspace) {
    if (!memspace_ok(hMemspace, __func__) || !memspace_out_ok(hNewMemspace, "hNewMemspace", __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    struct umf_memspace_t *c = NULL;
    umf_result_t r = memspace_create(&c);
    if (r != UMF_RESULT_SUCCESS)
        return r;
    for (size_t i = 0; r == UMF_RESULT_SUCCESS && i < hMemspace->n; i++) {
        if (!reserve_one(c))
            r = UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
        else if ((r = memtarget_clone(hMemspace->targets[i], &c->targets[c->n])) ==
                 UMF_RESULT_SUCCESS)
            c->n++;
    }
    if (r != UMF_RESULT_SUCCESS) {
        memspace_free(c);
        return r;
    }
    *hNewMemspace = c;
    return UMF_RESULT_SUCCESS;
}

// ---- filters -----------------------------------------------------------------------

// Asks `keep` about every target first (nothing changes while it runs, so
// a callback may look at the whole memspace), then removes the rejected
// ones. A negative answer stops with USER_SPECIFIC and no change.
static umf_result_t filter(struct umf_memspace_t *ms, umf_memspace_filter_func_t keep,
                           void *args) {
    if (ms->n == 0)
        return UMF_RESULT_SUCCESS;
    bool *drop = meta_alloc(ms->n * sizeof *drop);
    if (!drop)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    size_t n = ms->n;
    umf_result_t r = UMF_RESULT_SUCCESS;
    for (size_t i = 0; i < n; i++) {
        int v = keep(ms, ms->targets[i], args);
        if (v < 0) {
            LOG_INFO("memspace filter failed (%d) on NUMA node %u", v, ms->targets[i]->id);
            r = UMF_RESULT_ERROR_USER_SPECIFIC;
            goto out;
        }
        drop[i] = v == 0;
    }
    for (size_t i = n; i-- > 0;) // backwards: indices below i stay valid
        if (drop[i])
            remove_at(ms, i);
out:
    meta_free(drop, n * sizeof *drop);
    return r;
}

// The argument of keep_by_id: the ids the caller gave (not copied: the
// filter runs within the call).
typedef struct ids_arg_t {
    const unsigned *ids;
    size_t n;
} ids_arg_t;

static int keep_by_id(umf_const_memspace_handle_t ms, umf_const_memtarget_handle_t t, void *arg) {
    (void)ms;
    const ids_arg_t *a = arg;
    for (size_t i = 0; i < a->n; i++)
        if (a->ids[i] == t->id)
            return 1;
    return 0;
}

HETMEM_EXPORT umf_result_t umfMemspaceFilterById(umf_memspace_handle_t hMemspace, unsigned *ids,
                                                 size_t size) {
    if (!mutable_memspace(hMemspace, "umfMemspaceFilterById") || !ids || size == 0)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    ids_arg_t a = {ids, size};
    return filter(hMemspace, keep_by_id, &a);
}

// Capacities come from the topology; a target without one (impossible for
// targets made by this library) is an error, reported as UMF does.
static int keep_by_capacity(umf_const_memspace_handle_t ms, umf_const_memtarget_handle_t t,
                            void *arg) {
    (void)ms;
    size_t cap;
    if (umfMemtargetGetCapacity(t, &cap) != UMF_RESULT_SUCCESS)
        return -1;
    return (uint64_t)cap >= *(const uint64_t *)arg;
}

HETMEM_EXPORT umf_result_t umfMemspaceFilterByCapacity(umf_memspace_handle_t hMemspace,
                                                       int64_t size) {
    if (!mutable_memspace(hMemspace, "umfMemspaceFilterByCapacity"))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    if (size < 0) {
        // UMF reserves negative sizes for a later "at most" filter.
        LOG_ERR("negative capacity %lld is reserved", (long long)size);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    uint64_t min = (uint64_t)size;
    int saved = errno;
    umf_result_t r = filter(hMemspace, keep_by_capacity, &min);
    if (r == UMF_RESULT_SUCCESS)
        errno = saved;
    // The callback's -1 means "no capacity": not the user's fault.
    return r == UMF_RESULT_ERROR_USER_SPECIFIC ? UMF_RESULT_ERROR_INVALID_ARGUMENT : r;
}

HETMEM_EXPORT umf_result_t umfMemspaceUserFilter(umf_memspace_handle_t hMemspace,
                                                 umf_memspace_filter_func_t filterFn,
                                                 void *args) {
    if (!mutable_memspace(hMemspace, "umfMemspaceUserFilter") || !filterFn)
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    return filter(hMemspace, filterFn, args);
}
