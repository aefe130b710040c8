// SPDX-License-Identifier: MIT
// meta_alloc (see meta.h): power-of-two size classes over 64 KiB OS chunks,
// a free list per class. Freed blocks go back to their class list and are
// reused; chunks stay mapped for the life of the process (metadata is small
// and this keeps lock-free readers of recycled nodes from ever faulting).
#include "os/meta.h"

#include <pthread.h>
#include <string.h>

#include "base/util.h"
#include "os/os.h"

#define META_MIN_SHIFT 4  // 16 B
#define META_MAX_SHIFT 12 // 4 KiB
#define META_CLASSES (META_MAX_SHIFT - META_MIN_SHIFT + 1)
#define META_CHUNK ((size_t)64 << 10)

typedef struct meta_free_t {
    struct meta_free_t *next;
} meta_free_t;

typedef struct meta_class_t {
    pthread_mutex_t lock;
    meta_free_t *free; // protected by: lock
    char *bump;        // protected by: lock; next unused byte of the current chunk
    char *end;         // protected by: lock
} meta_class_t;

static meta_class_t classes[META_CLASSES] = {
    [0 ... META_CLASSES - 1] = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL}};

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
    pthread_mutex_lock(&mc->lock);
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
    pthread_mutex_unlock(&mc->lock);
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
    meta_class_t *mc = &classes[class_of(size)];
    pthread_mutex_lock(&mc->lock);
    ((meta_free_t *)p)->next = mc->free;
    mc->free = p;
    pthread_mutex_unlock(&mc->lock);
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

void meta_fork_prepare(void) {
    for (unsigned c = 0; c < META_CLASSES; c++)
        pthread_mutex_lock(&classes[c].lock);
}

void meta_fork_parent(void) {
    for (unsigned c = META_CLASSES; c-- > 0;)
        pthread_mutex_unlock(&classes[c].lock);
}

void meta_fork_child(void) { meta_fork_parent(); }
