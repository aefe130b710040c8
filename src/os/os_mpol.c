// SPDX-License-Identifier: MIT
// Which memory policy modes the running kernel has (os_mpol_supported):
// asked once per mode and process, by binding a scratch page with the mode
// (mbind answers EINVAL for a mode it does not know). Callers decide their
// fallback once from the answer, not on every mbind.
#include <errno.h>
#include <stdatomic.h>

#include "os/os.h"

enum { PROBE_UNKNOWN, PROBE_YES, PROBE_NO };

// Per mode: PROBE_*. Two threads asking first both probe; they get the
// same answer, so the last store is as good as the first.
static _Atomic int probed[OS_MPOL_WEIGHTED_INTERLEAVE + 1];

#ifdef HETMEM_TEST_HOOKS
static _Atomic int forced_no; // bit per mode: the probe reports "not supported"

void os_mpol_unsupported_for_testing(os_mpol_t mode, bool unsupported) {
    if ((unsigned)mode > OS_MPOL_WEIGHTED_INTERLEAVE)
        return;
    if (unsupported)
        atomic_fetch_or(&forced_no, 1 << mode);
    else
        atomic_fetch_and(&forced_no, ~(1 << mode));
    atomic_store(&probed[mode], PROBE_UNKNOWN);
}
#define forced_unsupported(mode) (atomic_load(&forced_no) & (1 << (mode)))
#else
#define forced_unsupported(mode) 0
#endif

static int probe(os_mpol_t mode) {
    if (forced_unsupported(mode))
        return PROBE_NO;
    size_t ps = os_page_size();
    void *page;
    if (os_map_anon(NULL, ps, 0, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_NORESERVE, &page) != 0)
        return PROBE_UNKNOWN; // ask again next time
    // The node of a touched page has memory and is allowed to this process
    // (a memoryless node would make mbind answer EINVAL for any mode).
    *(volatile char *)page = 1;
    int node = -1;
    if (os_page_node(page, &node) != 0 || node < 0)
        node = 0;
    nodeset_t nodes;
    nodeset_zero(&nodes);
    nodeset_set(&nodes, (unsigned)node);
    int err = os_mbind(page, ps, mode, &nodes, 0);
    (void)os_unmap(page, ps);
    return err == EINVAL ? PROBE_NO : PROBE_YES; // other errors: not the mode's fault
}

bool os_mpol_supported(os_mpol_t mode) {
    if ((unsigned)mode > OS_MPOL_WEIGHTED_INTERLEAVE)
        return false;
    int v = atomic_load_explicit(&probed[mode], memory_order_relaxed);
    if (v == PROBE_UNKNOWN) {
        v = probe(mode);
        atomic_store_explicit(&probed[mode], v, memory_order_relaxed);
    }
    return v == PROBE_YES;
}
