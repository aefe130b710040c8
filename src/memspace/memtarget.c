// SPDX-License-Identifier: MIT
// Memory targets (umfMemtarget*): a NUMA node with memory, identified by
// its kernel node id. Capacity is read from the topology layer (the node's
// MemTotal), so it is the same figure hetmem-info shows and the one that
// HighestCapacity and umfMemspaceFilterByCapacity compare.
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "memspace/memspace_priv.h"
#include "os/meta.h"
#include "topology/topo.h"

static handle_graveyard_t memtarget_graves = HANDLE_GRAVEYARD_INIT;

bool memtarget_ok(umf_const_memtarget_handle_t t, const char *fn) {
    return handle_ok(t, MEMTARGET_TAG, "memory target", fn);
}

static struct umf_memtarget_t *memtarget_new(umf_memtarget_type_t type, unsigned id) {
    struct umf_memtarget_t *t = memspace_handle_alloc(&memtarget_graves, sizeof *t);
    if (!t)
        return NULL;
    t->type = type;
    t->id = id;
    handle_set_live(&t->hdr, MEMTARGET_TAG);
    return t;
}

// The callers check `id` against the topology (memspace.c) or copy a target
// that was checked when it was made; here it is only recorded.
umf_result_t memtarget_create_numa(unsigned id, struct umf_memtarget_t **out) {
    struct umf_memtarget_t *t = memtarget_new(UMF_MEMTARGET_TYPE_NUMA, id);
    if (!t)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    *out = t;
    return UMF_RESULT_SUCCESS;
}

// umfMemspaceMemtargetAdd stores copies (UMF: "duplicates the target"), so
// a target never belongs to two memspaces.
umf_result_t memtarget_clone(const struct umf_memtarget_t *t, struct umf_memtarget_t **out) {
    struct umf_memtarget_t *c = memtarget_new(t->type, t->id);
    if (!c)
        return UMF_RESULT_ERROR_OUT_OF_HOST_MEMORY;
    *out = c;
    return UMF_RESULT_SUCCESS;
}

// A target removed from its memspace (or with it): handles to it that a
// caller kept are refused from now on.
void memtarget_destroy(struct umf_memtarget_t *t) {
    if (!t)
        return;
    handle_retire(&memtarget_graves, &t->hdr, MEMTARGET_TAG);
}

// Two handles name the same target when they name the same node: Remove
// takes a target of any memspace.
bool memtarget_equal(const struct umf_memtarget_t *a, const struct umf_memtarget_t *b) {
    return a->type == b->type && a->id == b->id;
}

HETMEM_EXPORT umf_result_t umfMemtargetGetType(umf_const_memtarget_handle_t hMemtarget,
                                               umf_memtarget_type_t *type) {
    if (!memtarget_ok(hMemtarget, __func__) || !memspace_out_ok(type, "type", __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    *type = hMemtarget->type;
    return UMF_RESULT_SUCCESS;
}

// The topology is read-only once discovered, so the figure is stable for
// the life of the process (hot-plugged memory is not seen, as in UMF).
HETMEM_EXPORT umf_result_t umfMemtargetGetCapacity(umf_const_memtarget_handle_t hMemtarget,
                                                   size_t *capacity) {
    if (!memtarget_ok(hMemtarget, __func__) || !memspace_out_ok(capacity, "capacity", __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    int saved = errno; // the topology's first reads may set it
    (void)topo_init();
    errno = saved;
    const topo_node_t *n = topo_node(hMemtarget->id);
    if (!n) {
        // Targets are checked when made; only a topology that cannot be
        // read (or was reset by a test) gets here.
        LOG_ERR("NUMA node %u is not in the topology", hMemtarget->id);
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    }
    *capacity = (size_t)n->capacity;
    return UMF_RESULT_SUCCESS;
}

HETMEM_EXPORT umf_result_t umfMemtargetGetId(umf_const_memtarget_handle_t hMemtarget,
                                             unsigned *id) {
    if (!memtarget_ok(hMemtarget, __func__) || !memspace_out_ok(id, "id", __func__))
        return UMF_RESULT_ERROR_INVALID_ARGUMENT;
    *id = hMemtarget->id;
    return UMF_RESULT_SUCCESS;
}
