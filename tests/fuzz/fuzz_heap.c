// SPDX-License-Identifier: MIT
// The differential heap fuzzer (issue 17, item 1): random sequences of
// malloc, calloc, realloc, aligned allocation, free and usable size on
// every pool x provider pair and through both front ends (memkind,
// hmalloc), checked against a model of the live blocks:
//   - no two live blocks overlap, and every block lies where its pool's
//     provider can put it (the fixed provider's buffer);
//   - contents are kept (each block holds its own pattern, checked before
//     every free and after every realloc), calloc memory is zero;
//   - usable size >= requested, alignments hold;
//   - misuse is refused and changes nothing: a double free and a free of
//     an interior pointer get an error (UMF) or are ignored (front ends),
//     and the block keeps its contents.
// Input: a target byte, then 4-byte operations (op, slot, two size bytes).
// Built like fuzz_ipc_open: with clang a libFuzzer target; always a replay
// program that generates HETMEM_FUZZ_RUNS inputs from HETMEM_FUZZ_SEED.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hmalloc.h>
#include <memkind.h>
#include <umf/memory_pool.h>
#include <umf/pools/pool_disjoint.h>
#include <umf/pools/pool_proxy.h>
#include <umf/pools/pool_scalable.h>
#include <umf/providers/provider_fixed_memory.h>
#include <umf/providers/provider_os_memory.h>

#define SLOTS 48
#define FIXED_SIZE ((size_t)64 << 20)

typedef enum { T_SCALABLE_OS, T_DISJOINT_OS, T_PROXY_OS, T_SCALABLE_FIXED, T_DISJOINT_FIXED,
               T_MEMKIND, T_HMALLOC, T_COUNT } target_t;
static const char *const target_names[T_COUNT] = {"scalable/os", "disjoint/os", "proxy/os",
                                                  "scalable/fixed", "disjoint/fixed",
                                                  "memkind/default", "hmalloc"};

typedef struct slot_t {
    unsigned char *p;
    size_t size;
    unsigned char pat;
} slot_t;

static struct {
    bool ready;
    umf_memory_pool_handle_t pool[T_COUNT];
    unsigned char *fixed[T_COUNT]; // the buffer of a fixed-provider target
    unsigned long ops, refused;
} st;

static void die(const char *what, target_t t, const void *p, size_t n) {
    fprintf(stderr, "fuzz_heap: %s (%s, %p, %zu)\n", what, target_names[t], p, n);
    abort();
}

static umf_memory_provider_handle_t os_provider(void) {
    umf_os_memory_provider_params_handle_t pp;
    umf_memory_provider_handle_t h = NULL;
    if (umfOsMemoryProviderParamsCreate(&pp) ||
        umfMemoryProviderCreate(umfOsMemoryProviderOps(), pp, &h))
        abort();
    umfOsMemoryProviderParamsDestroy(pp);
    return h;
}

static umf_memory_provider_handle_t fixed_provider(target_t t) {
    static unsigned char bufs[2][FIXED_SIZE] __attribute__((aligned(4096)));
    unsigned char *b = bufs[t == T_DISJOINT_FIXED];
    umf_fixed_memory_provider_params_handle_t fp;
    umf_memory_provider_handle_t h = NULL;
    if (umfFixedMemoryProviderParamsCreate(&fp, b, FIXED_SIZE) ||
        umfMemoryProviderCreate(umfFixedMemoryProviderOps(), fp, &h))
        abort();
    umfFixedMemoryProviderParamsDestroy(fp);
    st.fixed[t] = b;
    return h;
}

static void init(void) {
    for (target_t t = 0; t < T_MEMKIND; t++) {
        bool fixed = t == T_SCALABLE_FIXED || t == T_DISJOINT_FIXED;
        umf_memory_provider_handle_t prov = fixed ? fixed_provider(t) : os_provider();
        umf_memory_pool_ops_t *ops = t == T_PROXY_OS ? umfProxyPoolOps()
                                     : (t == T_DISJOINT_OS || t == T_DISJOINT_FIXED)
                                         ? umfDisjointPoolOps()
                                         : umfScalablePoolOps();
        if (umfPoolCreate(ops, prov, NULL, UMF_POOL_CREATE_FLAG_OWN_PROVIDER, &st.pool[t]))
            abort();
    }
    st.ready = true;
}

// ---- the target's calls ---------------------------------------------------------------

static void *t_alloc(target_t t, size_t size, size_t align, bool zero) {
    switch (t) {
    case T_MEMKIND:
        if (align) {
            void *p = NULL;
            return memkind_posix_memalign(MEMKIND_DEFAULT, &p, align, size) ? NULL : p;
        }
        return zero ? memkind_calloc(MEMKIND_DEFAULT, 1, size) : memkind_malloc(MEMKIND_DEFAULT, size);
    case T_HMALLOC:
        if (align)
            return haligned_alloc(align, (size + align - 1) / align * align);
        return zero ? hcalloc(1, size) : hmalloc(size);
    default:
        if (align)
            return umfPoolAlignedMalloc(st.pool[t], size, align);
        return zero && t != T_PROXY_OS ? umfPoolCalloc(st.pool[t], 1, size)
                                       : umfPoolMalloc(st.pool[t], size);
    }
}

static void *t_realloc(target_t t, void *p, size_t size) {
    switch (t) {
    case T_MEMKIND: return memkind_realloc(MEMKIND_DEFAULT, p, size);
    case T_HMALLOC: return hrealloc(p, size);
    default: return umfPoolRealloc(st.pool[t], p, size);
    }
}

// 0 freed, 1 refused (UMF's INVALID_ARGUMENT; the front ends' frees are
// void: "refused" there is only checked by what follows).
static int t_free(target_t t, void *p) {
    switch (t) {
    case T_MEMKIND: memkind_free(MEMKIND_DEFAULT, p); return 0;
    case T_HMALLOC: hfree(p); return 0;
    default: return umfPoolFree(st.pool[t], p) != UMF_RESULT_SUCCESS;
    }
}

static size_t t_usable(target_t t, void *p) {
    switch (t) {
    case T_MEMKIND: return memkind_malloc_usable_size(MEMKIND_DEFAULT, p);
    case T_HMALLOC: return hmalloc_usable_size(p);
    case T_PROXY_OS: return SIZE_MAX; // the proxy pool does not know sizes (UMF)
    default: return umfPoolMallocUsableSize(st.pool[t], p);
    }
}

// ---- the model ---------------------------------------------------------------------------

static void fill(slot_t *s) {
    memset(s->p, s->pat, s->size);
}

static void check(target_t t, const slot_t *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != s->pat)
            die("contents changed", t, s->p + i, i);
}

static void placed(target_t t, slot_t *slots, int self) {
    const slot_t *s = &slots[self];
    if (st.fixed[t] && (s->p < st.fixed[t] || s->p + s->size > st.fixed[t] + FIXED_SIZE))
        die("a block outside the fixed provider's buffer", t, s->p, s->size);
    for (int i = 0; i < SLOTS; i++) {
        const slot_t *o = &slots[i];
        if (i != self && o->p && s->p < o->p + (o->size ? o->size : 1) &&
            o->p < s->p + (s->size ? s->size : 1))
            die("two live blocks overlap", t, s->p, s->size);
    }
}

static bool live_at(const slot_t *slots, const unsigned char *p) {
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p == p)
            return true;
    return false;
}

static size_t size_of(const uint8_t *b) {
    size_t v = (size_t)b[0] | (size_t)b[1] << 8;
    switch (v >> 13) { // a quarter tiny, most small, an eighth up to 256 KiB
    case 0: case 1: return v & 63;
    case 7: return (v & 0x1fff) << 5;
    default: return v & 4095;
    }
}

static void run(target_t t, const uint8_t *data, size_t size) {
    slot_t slots[SLOTS];
    memset(slots, 0, sizeof slots);
    unsigned char *freed[4] = {NULL}; // recently freed pointers, for double frees
    unsigned nfreed = 0;
    unsigned char pat = 1;
    for (size_t i = 0; i + 4 <= size; i += 4) {
        unsigned op = data[i] % 8;
        slot_t *s = &slots[data[i + 1] % SLOTS];
        size_t n = size_of(data + i + 2);
        st.ops++;
        if (!s->p && op < 5) { // an empty slot: allocate
            size_t align = op == 3 ? (size_t)8 << (data[i + 2] % 10) : 0; // 8 B .. 4 KiB
            bool zero = op == 2 && t != T_PROXY_OS;
            unsigned char *p = t_alloc(t, n, align, zero);
            if (!p) { // size 0 may give NULL (memkind without allow_zero_allocs)
                if (n && n <= 4096)
                    die("a small allocation failed", t, NULL, n);
                continue;
            }
            if (align && (uintptr_t)p % align)
                die("misaligned", t, p, align);
            if (zero)
                for (size_t k = 0; k < n; k++)
                    if (p[k])
                        die("calloc memory is not zero", t, p + k, n);
            size_t u = t_usable(t, p);
            if (u < n)
                die("usable size below the request", t, p, u);
            pat = (unsigned char)(pat % 255 + 1); // never 0 (calloc's)
            *s = (slot_t){p, n, pat};
            placed(t, slots, (int)(s - slots));
            fill(s);
        } else if (s->p && op < 3) { // free
            check(t, s, s->size);
            if (t_free(t, s->p))
                die("the free of a live block was refused", t, s->p, s->size);
            freed[nfreed++ % 4] = s->p;
            s->p = NULL;
        } else if (s->p && op < 5 && t != T_PROXY_OS) { // realloc
            check(t, s, s->size);
            unsigned char *q = t_realloc(t, s->p, n ? n : 1);
            if (!q) {
                check(t, s, s->size); // a failed realloc keeps the block
                continue;
            }
            s->p = q;
            check(t, s, n < s->size ? n : s->size);
            s->size = n ? n : 1;
            placed(t, slots, (int)(s - slots));
            fill(s);
        } else if (s->p && op == 5 && s->size > 16) { // free of an interior pointer
            int r = t_free(t, s->p + 8);
            if (t < T_MEMKIND && !r)
                die("an interior free was accepted", t, s->p + 8, 8);
            st.refused++;
            check(t, s, s->size); // and the block is untouched
        } else if (op == 6 && nfreed) { // double free of a freed pointer
            unsigned char *p = freed[data[i + 2] % (nfreed < 4 ? nfreed : 4)];
            if (!p || live_at(slots, p))
                continue; // reused since: not a double free
            int r = t_free(t, p);
            if (t < T_MEMKIND && !r)
                die("a double free was accepted", t, p, 0);
            st.refused++;
        } else if (s->p) { // usable size and contents
            if (t_usable(t, s->p) < s->size)
                die("usable size below the size", t, s->p, s->size);
            check(t, s, s->size);
        }
    }
    for (int k = 0; k < SLOTS; k++) // the input's blocks go back
        if (slots[k].p) {
            check(t, &slots[k], slots[k].size);
            if (t_free(t, slots[k].p))
                die("the final free was refused", t, slots[k].p, slots[k].size);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!st.ready)
        init();
    if (size < 1)
        return 0;
    run((target_t)(data[0] % T_COUNT), data + 1, size - 1);
    return 0;
}

#ifndef HETMEM_LIBFUZZER
#include "fuzz_replay.h"

int main(void) {
    long runs = fuzz_replay_start("fuzz_heap", 2000);
    static uint8_t in[1 + 4 * 400];
    for (long n = 0; n < runs; n++) {
        size_t len = 1 + 4 * (1 + fuzz_next() % 400);
        for (size_t i = 0; i < len; i++)
            in[i] = (uint8_t)fuzz_next();
        in[0] = (uint8_t)(n % T_COUNT); // every target as often
        LLVMFuzzerTestOneInput(in, len);
    }
    printf("fuzz_heap: %ld inputs on %d targets, %lu operations, %lu misuses refused; no "
           "overlap, no lost contents\n",
           runs, (int)T_COUNT, st.ops, st.refused);
    if (runs >= (long)T_COUNT && (st.ops == 0 || st.refused == 0)) {
        printf("fuzz_heap: FAIL: the inputs tried no operation or no misuse\n");
        return 1; // a run that checked nothing proves nothing
    }
    return 0;
}
#endif
