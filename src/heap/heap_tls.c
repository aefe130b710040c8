// SPDX-License-Identifier: MIT
// Threads and heaps: the registry that gives each live heap a small id and
// a process-unique uid, the per-thread slot array that finds "my local in
// this heap" in O(1) (slot[id], valid while slot.uid == heap.uid, so a slot
// left behind by a destroyed heap is never followed), local creation and
// adoption of orphans, and the thread-exit destructor that orphans a
// thread's locals instead of freeing or leaking their slabs.
//
// Thread identity: what heap_local_t.thread and its bins' copies
// (heap_local_set_thread) hold, and what the free fast path compares, is
// the owner's thread pointer (heap_thread_id). A thread's heap_tls_t is
// allocated on its first local and freed when the thread exits; threads
// without one point heap_tls_self at `tls_empty` (no slots).
#include <string.h>

#include "base/log.h"
#include "heap/heap_priv.h"
#include "os/meta.h"

// First size of a thread's slot array; it doubles when a heap id needs it.
#define HEAP_TLS_INLINE 16

static heap_tls_t tls_empty = {0, 0, {0, NULL}};
__thread heap_tls_t *heap_tls_self __attribute__((tls_model("initial-exec"))) = &tls_empty;

static size_t tls_bytes(uint32_t cap) { return sizeof(heap_tls_t) + cap * sizeof(heap_slot_t); }

// ---- registry -------------------------------------------------------------------------

LOCK_STATIC(registry_lock, LOCK_RANK_HEAP_REGISTRY);
static heap_t **registry;      // protected by: registry_lock; [id] = live heap or NULL
static uint32_t registry_cap;  // protected by: registry_lock
static uint64_t registry_uid;  // protected by: registry_lock; last uid given

int heap_registry_add(heap_t *h) {
    lock_acquire(&registry_lock);
    uint32_t id = 0;
    while (id < registry_cap && registry[id])
        id++;
    if (id == registry_cap) {
        uint32_t cap = registry_cap ? registry_cap * 2 : 64;
        heap_t **r = meta_alloc(cap * sizeof(heap_t *));
        if (!r) {
            lock_release(&registry_lock);
            return -1;
        }
        if (registry)
            memcpy(r, registry, registry_cap * sizeof(heap_t *));
        meta_free(registry, registry_cap * sizeof(heap_t *));
        registry = r;
        registry_cap = cap;
    }
    registry[id] = h;
    h->id = id;
    h->uid = ++registry_uid;
    lock_release(&registry_lock);
    return 0;
}

void heap_registry_remove(heap_t *h) {
    lock_acquire(&registry_lock);
    if (h->id < registry_cap && registry[h->id] == h)
        registry[h->id] = NULL;
    lock_release(&registry_lock);
}

unsigned heap_set_owner_for_provider(umf_memory_provider_handle_t provider, void *owner,
                                     bool direct) {
    unsigned n = 0;
    lock_acquire(&registry_lock);
    for (uint32_t id = 0; id < registry_cap; id++)
        if (registry[id] && registry[id]->provider == provider) {
            heap_set_owner(registry[id], owner, direct);
            n++;
        }
    lock_release(&registry_lock);
    return n;
}

// ---- thread exit -------------------------------------------------------------------------

static pthread_key_t tls_key;
static pthread_once_t tls_key_once = PTHREAD_ONCE_INIT;
static bool tls_key_ok;

// Runs at thread exit with the thread's heap_tls_t: each local of a heap
// that is still alive becomes an orphan of that heap.
static void tls_destructor(void *arg) {
    heap_tls_t *t = arg;
    if (heap_tls_self == t)
        heap_tls_self = &tls_empty;
    lock_acquire(&registry_lock);
    for (uint32_t id = 0; id < t->cap; id++) {
        heap_slot_t *sl = &t->slots[id];
        if (!sl->uid || id >= registry_cap)
            continue;
        heap_t *h = registry[id];
        if (!h || h->uid != sl->uid)
            continue; // that heap was destroyed: its locals are gone
        lock_acquire(&h->lock);
        heap_lcache_flush_locked(h, sl->tl); // cached large extents back to the page heap
        heap_local_orphan_locked(h, sl->tl);
        lock_release(&h->lock);
    }
    lock_release(&registry_lock);
    meta_free(t, tls_bytes(t->cap));
}

// A fork child has one thread, but the locals of the parent's other
// threads still name their thread pointers, which the child's new threads
// may get again (glibc reuses the parent threads' stacks): they become
// orphans here, as if those threads had exited (heap_thread_id).
static void fork_child_orphan(void) {
    void *self = heap_thread_id();
    lock_acquire(&registry_lock);
    for (uint32_t id = 0; id < registry_cap; id++) {
        heap_t *h = registry[id];
        if (!h)
            continue;
        lock_acquire(&h->lock);
        for (heap_local_t *tl = h->locals; tl; tl = tl->next_all) {
            void *owner = load_relaxed(&tl->thread);
            if (owner && owner != self) {
                heap_lcache_flush_locked(h, tl);
                heap_local_orphan_locked(h, tl);
            }
        }
        lock_release(&h->lock);
    }
    lock_release(&registry_lock);
}

static void tls_key_init(void) {
    tls_key_ok = pthread_key_create(&tls_key, tls_destructor) == 0;
    if (pthread_atfork(NULL, NULL, fork_child_orphan) != 0)
        LOG_WARN("cannot register the fork hook; a fork child may leak its parent's caches");
}

// Makes the calling thread's slot array hold index `id` (the heap_tls_t
// is reallocated when it grows; the thread's identity does not change).
static heap_tls_t *tls_reserve(uint32_t id) {
    heap_tls_t *t = heap_tls_self;
    if (id < t->cap)
        return t;
    pthread_once(&tls_key_once, tls_key_init);
    if (!tls_key_ok)
        return NULL;
    uint32_t cap = t->cap ? t->cap : HEAP_TLS_INLINE;
    while (cap <= id)
        cap *= 2;
    heap_tls_t *n = meta_alloc(tls_bytes(cap));
    if (!n)
        return NULL;
    n->cap = cap;
    if (t != &tls_empty) {
        memcpy(n->slots, t->slots, t->cap * sizeof(heap_slot_t));
        meta_free(t, tls_bytes(t->cap));
    }
    heap_tls_self = n;
    if (pthread_setspecific(tls_key, n) != 0)
        LOG_WARN("cannot register the thread-exit hook; locals will not be orphaned");
    return n;
}

// ---- locals ---------------------------------------------------------------------------------

static heap_local_t *local_new(heap_t *h) {
    heap_local_t *tl = meta_alloc(sizeof *tl);
    if (!tl)
        return NULL;
    for (unsigned c = 0; c <= HEAP_NCLASSES; c++)
        tl->bins[c].cur = &heap_sentinel;
    tl->heap = h;
    atomic_init(&tl->remote_slabs, NULL);
    tl->next_all = h->locals;
    h->locals = tl;
    return tl;
}

heap_local_t *heap_local_acquire(heap_t *h) {
    heap_tls_t *t = tls_reserve(h->id);
    if (!t)
        return NULL;
    lock_acquire(&h->lock);
    heap_local_t *tl = h->orphans;
    if (tl)
        h->orphans = tl->next_orphan;
    else
        tl = local_new(h);
    if (tl) {
        tl->next_orphan = NULL;
        heap_local_set_thread(tl, heap_thread_id());
    }
    lock_release(&h->lock);
    if (!tl)
        return NULL;
    t->slots[h->id].uid = h->uid;
    t->slots[h->id].tl = tl;
    return tl;
}
