// SPDX-License-Identifier: MIT
// meta_alloc (see meta.h): power-of-two size classes over 64 KiB OS chunks,
// a free list per class. Freed blocks go back to their class list and are
// reused; chunks stay mapped for the life of the process (metadata is small
// and this keeps lock-free readers of recycled nodes from ever faulting).
#include "os/meta.h"

#include <string.h>

#include "base/assert.h"
#include "base/lock.h"
#include "base/util.h"
#include "os/os.h"

#define META_MIN_SHIFT 4  // 16 B
#define META_MAX_SHIFT 12 // 4 KiB
#define META_CLASSES (META_MAX_SHIFT - META_MIN_SHIFT + 1)
#define META_CHUNK ((size_t)64 << 10)
#define META_CHUNK_ALIGN ((size_t)4096) // chunks are page-aligned mappings
#define MIN(a, b) ((a) < (b) ? (a) : (b))

typedef struct meta_free_t {
    struct meta_free_t *next;
} meta_free_t;

typedef struct meta_class_t {
    lock_t lock;       // LOCK_RANK_META: classes never nest
    meta_free_t *free; // protected by: lock
    char *bump;        // protected by: lock; next unused byte of the current chunk
    char *end;         // protected by: lock
} meta_class_t;

static meta_class_t classes[META_CLASSES] = {
    [0 ... META_CLASSES - 1] = {LOCK_INITIALIZER(LOCK_RANK_META, "meta class"), NULL, NULL, NULL}};

__attribute__((constructor)) static void meta_locks_register(void) {
    for (unsigned c = 0; c < META_CLASSES; c++)
        lock_register(&classes[c].lock);
}

static unsigned class_of(size_t size) {
    unsigned shift = META_MIN_SHIFT;
    while (((size_t)1 << shift) < size)
        shift++;
    return shift - META_MIN_SHIFT;
}

static size_t big_size(size_t size) { return ALIGN_UP(size, os_page_size()); }

void *meta_alloc(size_t size) {
    if (size == 0)
        return NULL;
    if (size > ((size_t)1 << META_MAX_SHIFT)) {
        void *p;
        if (size > SIZE_MAX / 2 ||
            os_map_anon(NULL, big_size(size), 0, OS_PROT_READ | OS_PROT_WRITE, 0, &p))
            return NULL;
        return p; // fresh anonymous pages are zero
    }
    unsigned c = class_of(size);
    size_t bsize = (size_t)1 << (c + META_MIN_SHIFT);
    meta_class_t *mc = &classes[c];
    void *p = NULL;
    lock_acquire(&mc->lock);
    if (mc->free) {
        p = mc->free;
        mc->free = mc->free->next;
    } else {
        if (!mc->bump || mc->bump + bsize > mc->end) {
            void *chunk;
            if (os_map_anon(NULL, META_CHUNK, 0, OS_PROT_READ | OS_PROT_WRITE, 0, &chunk) == 0) {
                mc->bump = chunk;
                mc->end = (char *)chunk + META_CHUNK;
            }
        }
        if (mc->bump && mc->bump + bsize <= mc->end) {
            p = mc->bump;
            mc->bump += bsize;
        }
    }
    lock_release(&mc->lock);
    HM_ASSERT(!p || ((uintptr_t)p & (MIN(bsize, META_CHUNK_ALIGN) - 1)) == 0);
    if (p)
        memset(p, 0, bsize);
    return p;
}

void meta_free(void *p, size_t size) {
    if (!p)
        return;
    if (size > ((size_t)1 << META_MAX_SHIFT)) {
        os_unmap(p, big_size(size));
        return;
    }
    unsigned c = class_of(size);
    // A block of this class starts at a multiple of the class size in its
    // chunk: a wrong `size` (another class) usually breaks this.
    HM_ASSERT(((uintptr_t)p & (MIN((size_t)1 << (c + META_MIN_SHIFT), META_CHUNK_ALIGN) - 1)) ==
              0);
    meta_class_t *mc = &classes[c];
    lock_acquire(&mc->lock);
    ((meta_free_t *)p)->next = mc->free;
    mc->free = p;
    lock_release(&mc->lock);
}

char *meta_strdup(const char *s) {
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = meta_alloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}
