// SPDX-License-Identifier: MIT
// The decay policy of the page heap (h->lock held): checked on slow paths,
// at most every decay/8. Whole idle chunks are returned after decay_ms, at
// once when more than max(retain_max, active/4) bytes are cached; free
// spans idle that long are purged (purge_lazy, purge_force where lazy is
// not supported). keep_all_memory turns both off.
#include "base/log.h"
#include "heap/heap_priv.h"
#include "os/os.h"

#define PURGE_MIN_BYTES ((size_t)64 << 10)

// ---- decay and purge ---------------------------------------------------------------

// Purges the provider-page-aligned inside of a free span. purge_lazy is
// preferred (cheap, the pages stay usable); providers without it get
// purge_force. A span is tried once: PURGED is cleared only when it is
// reused or merged with used pages.
static void purge_span(heap_t *h, heap_span_t *s, bool force) {
    uintptr_t a = ALIGN_UP(s->base, h->prov_page);
    uintptr_t e = ALIGN_DOWN(s->base + heap_span_bytes(s), h->prov_page);
    if (e > a) {
        umf_result_t r = UMF_RESULT_ERROR_NOT_SUPPORTED;
        if (!force)
            r = umfMemoryProviderPurgeLazy(h->provider, (void *)a, e - a);
        if (r == UMF_RESULT_ERROR_NOT_SUPPORTED) {
            r = umfMemoryProviderPurgeForce(h->provider, (void *)a, e - a);
            // Forced pages read back as zeros (the provider contract).
            if (r == UMF_RESULT_SUCCESS && a == s->base && e == s->base + heap_span_bytes(s))
                s->flags |= HEAP_SPAN_ZEROED;
        }
        if (r != UMF_RESULT_SUCCESS && r != UMF_RESULT_ERROR_NOT_SUPPORTED)
            LOG_INFO("purge of %p+%zu failed: %d", (void *)a, (size_t)(e - a), (int)r);
    }
    s->flags |= HEAP_SPAN_PURGED; // tried: do not try again until reused
    h->purged += heap_span_bytes(s);
}

static void purge_idle(heap_t *h, uint64_t now, uint64_t min_idle_ns, size_t min_bytes,
                       bool force) {
    for (unsigned b = 0; b < HEAP_FREE_BINS; b++)
        for (heap_span_t *s = h->bins[b]; s; s = s->next)
            if (!(s->flags & HEAP_SPAN_PURGED) && heap_span_bytes(s) >= min_bytes &&
                now - s->stamp >= min_idle_ns)
                purge_span(h, s, force);
}

void heap_decay_locked(heap_t *h, uint64_t now, bool force) {
    if (h->cfg.keep_all_memory)
        return;
    if (!force && now < h->next_decay)
        return;
    h->next_decay = now + (h->decay_ns / 8 ? h->decay_ns / 8 : 1);
    heap_orphans_trim_locked(h);
    uint64_t idle = force ? 0 : h->decay_ns;
    heap_release_idle_locked(h, now, idle);
    purge_idle(h, now, idle, force ? 0 : PURGE_MIN_BYTES, false);
}

void heap_purge_all_locked(heap_t *h, bool force) {
    uint64_t now = os_now_coarse_ns();
    heap_orphans_trim_locked(h);
    if (!h->cfg.keep_all_memory)
        heap_release_idle_locked(h, now, 0);
    purge_idle(h, now, 0, 0, force);
}
