// SPDX-License-Identifier: MIT
// The policies of a tiered memory (libmemtier(7), "POLICIES"):
// STATIC_RATIO picks the tier that lags most behind tier 0 in allocated
// bytes per unit of ratio; DYNAMIC_THRESHOLD picks by size and moves the
// thresholds every check_cnt operations (docs/memkind.md, "memtier").
#include <math.h>

#include "base/log.h"
#include "frontend/memtier/mt_priv.h"

// STATIC_RATIO, memkind's rule: tier i (i >= 1) is behind when
// bytes_i / ratio_i < bytes_0 / ratio_0; the last tier behind gets the
// allocation, tier 0 when none is. Integer cross products: exact.
static memkind_t pick_static(const mt_config_t *c) {
    unsigned __int128 b0 = mt_count_peek(c->tiers[0].kind);
    unsigned dest = 0;
    for (unsigned i = 1; i < c->ntiers; i++) {
        unsigned __int128 bi = mt_count_peek(c->tiers[i].kind);
        if (bi * c->tiers[0].ratio < b0 * c->tiers[i].ratio)
            dest = i;
    }
    return c->tiers[dest].kind;
}

// DYNAMIC_THRESHOLD: the first tier whose upper threshold is above size.
static memkind_t pick_dynamic(struct memtier_memory *m, size_t size) {
    unsigned i = 0;
    while (i + 1 < m->cfg.ntiers &&
           size >= atomic_load_explicit(&m->cfg.thresholds[i].val, memory_order_relaxed))
        i++;
    return m->cfg.tiers[i].kind;
}

memkind_t mt_pick(struct memtier_memory *m, size_t size) {
    if (m->cfg.policy == MEMTIER_POLICY_DYNAMIC_THRESHOLD)
        return pick_dynamic(m, size);
    return m->cfg.ntiers == 1 ? m->cfg.tiers[0].kind : pick_static(&m->cfg);
}

// One threshold check between tier i and i + 1 (expected bytes ratio
// ratio_{i+1} / ratio_i). Left alone when the actual ratio is within
// `trigger` of it or closer than at the last check; else moved by `degree`
// of its value within [min, max]: up when tier i + 1 has too much (more
// sizes stay below), down when it has too little.
static void check_threshold(struct memtier_memory *m, unsigned i) {
    mt_threshold_t *t = &m->cfg.thresholds[i];
    uint64_t lo = mt_count_exact(m->cfg.tiers[i].kind);
    uint64_t hi = mt_count_exact(m->cfg.tiers[i + 1].kind);
    float expected = (float)m->cfg.tiers[i + 1].ratio / (float)m->cfg.tiers[i].ratio;
    bool up = true; // tier i empty: send more to it
    if (lo > 0) {
        float current = (float)hi / (float)lo;
        float prev = t->diff;
        t->diff = fabsf(current - expected);
        if (t->diff < m->cfg.trigger || t->diff < prev)
            return;
        up = current > expected;
    }
    size_t val = atomic_load_explicit(&t->val, memory_order_relaxed);
    size_t step = (size_t)ceilf((float)val * m->cfg.degree);
    if (up && val <= t->max && step <= t->max - val)
        val += step;
    else if (!up && val >= t->min && step <= val - t->min)
        val -= step;
    atomic_store_explicit(&t->val, val, memory_order_relaxed);
}

void mt_after_op(struct memtier_memory *m) {
    if (m->cfg.policy != MEMTIER_POLICY_DYNAMIC_THRESHOLD)
        return;
    if (atomic_fetch_sub_explicit(&m->countdown, 1, memory_order_relaxed) != 1)
        return;
    if (lock_try(&m->update)) { // another thread checking: this check is its
        for (unsigned i = 0; i + 1 < m->cfg.ntiers; i++)
            check_threshold(m, i);
        lock_release(&m->update);
    }
    atomic_store_explicit(&m->countdown, m->cfg.check_cnt, memory_order_relaxed);
}

bool mt_thresholds_valid(const mt_config_t *c) {
    for (unsigned i = 0; i + 1 < c->ntiers; i++) {
        const mt_threshold_t *t = &c->thresholds[i];
        size_t val = atomic_load_explicit(&t->val, memory_order_relaxed);
        if (t->min > val || val > t->max) {
            LOG_ERR("threshold %u: value %zu outside [min %zu, max %zu]; refused", i, val, t->min,
                    t->max);
            return false;
        }
        if (i > 0 && c->thresholds[i - 1].max > t->min) {
            LOG_ERR("threshold %u's max %zu is above threshold %u's min %zu; refused", i - 1,
                    c->thresholds[i - 1].max, i, t->min);
            return false;
        }
    }
    return true;
}
