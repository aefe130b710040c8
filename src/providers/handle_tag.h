// SPDX-License-Identifier: MIT
// Tags of handles given to callers (providers, memspaces, memtargets,
// mempolicies): the first word of each handle holds its type's LIVE tag
// while it lives and the DEAD tag once destroyed. Every entry point checks
// the tag before it reads anything else, so that a garbage handle, or one
// used after its destroy, gets UMF_RESULT_ERROR_INVALID_ARGUMENT and one
// log line instead of a crash - as long as the handle's memory is readable
// (a handle pointing at unmapped memory still faults: the documented limit).
//
// A destroyed handle's memory is not given back for other uses: it goes to
// the tail of its type's queue of dead handles (handle_cache_t), and is
// reused only once HANDLE_CACHE_KEEP newer dead handles of the type stand
// behind it, so that its tag reads DEAD for at least that many destroys. A
// stale handle used after its block was reused names the new object (an
// ABA that tags cannot see): the documented limit.
#ifndef HETMEM_PROVIDERS_HANDLE_TAG_H
#define HETMEM_PROVIDERS_HANDLE_TAG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// The DEAD tag of a type whose LIVE tag is `live`.
#define HANDLE_DEAD(live) ((live) ^ UINT64_C(0xdeadbeef00000000))

/// True when the handle's first word (its tag, an _Atomic uint64_t at
/// offset 0 of every tagged type) holds `live`. Otherwise logs one line
/// (NULL handle, destroyed handle or garbage) naming `what` and `fn`, and
/// returns false.
bool handle_check(const void *h, uint64_t live, const char *what, const char *fn);

/// LIVE -> DEAD, once: false (with a log line) when the handle is NULL,
/// already dead or not a handle of this type.
bool handle_kill(void *h, uint64_t live, const char *what, const char *fn);

/// Dead handles kept before one is reused.
#define HANDLE_CACHE_KEEP 64u

/// A FIFO of dead handles of one type and size. The link lives in the
/// handle's second word: the tag stays readable. One lock (handle_tag.c)
/// guards every queue; it is held across fork().
typedef struct handle_cache_t {
    void *head, *tail; // protected by: the queues' lock
    size_t n;          // protected by: the queues' lock
    size_t size;
} handle_cache_t;

#define HANDLE_CACHE_INIT(sz) {.size = (sz)}

/// A zeroed block of c->size bytes: the oldest dead handle of the type when
/// more than HANDLE_CACHE_KEEP are kept, else new meta memory. NULL when out
/// of memory.
void *handle_cache_get(handle_cache_t *c);

/// Keeps a dead handle (its tag already DEAD) for handle_cache_get.
void handle_cache_put(handle_cache_t *c, void *h);

#endif // HETMEM_PROVIDERS_HANDLE_TAG_H
