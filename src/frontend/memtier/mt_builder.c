// SPDX-License-Identifier: MIT
// memtier's TIER MANAGEMENT and PROPERTY MANAGEMENT (libmemtier(3)):
// builders, memtier_ctl_set's names, and the tiered memory made from a
// builder (docs/memkind.md, "memtier").
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "frontend/memtier/mt_priv.h"
#include "os/meta.h"

static bool builder_ok(const struct memtier_builder *b, const char *fn) {
    if (b && b->magic == MT_BUILDER_MAGIC)
        return true;
    if (log_level() >= LOG_LEVEL_ERROR)
        log_write(LOG_LEVEL_ERROR, fn, "%s builder %p; refused", b ? "not a live" : "NULL",
                  (const void *)b);
    errno = EINVAL;
    return false;
}

HETMEM_EXPORT struct memtier_builder *memtier_builder_new(memtier_policy_t policy) {
    // DATA_HOTNESS (2 in later memkind) is not offered: docs/memkind.md.
    if ((unsigned)policy >= MEMTIER_POLICY_MAX_VALUE) {
        LOG_ERR("policy %u is not STATIC_RATIO or DYNAMIC_THRESHOLD%s; refused", (unsigned)policy,
                policy == 2 ? " (DATA_HOTNESS is not supported)" : "");
        errno = EINVAL;
        return NULL;
    }
    struct memtier_builder *b = meta_alloc(sizeof *b); // zeroed
    if (!b) {
        LOG_ERR("no memory for a builder");
        errno = ENOMEM;
        return NULL;
    }
    b->magic = MT_BUILDER_MAGIC;
    b->cfg.policy = policy;
    b->cfg.check_cnt = MT_CHECK_CNT;
    b->cfg.trigger = MT_TRIGGER;
    b->cfg.degree = MT_DEGREE;
    return b;
}

HETMEM_EXPORT void memtier_builder_delete(struct memtier_builder *builder) {
    if (!builder_ok(builder, __func__))
        return;
    builder->magic = 0;
    meta_free(builder, sizeof *builder);
}

HETMEM_EXPORT int memtier_builder_add_tier(struct memtier_builder *builder, memkind_t kind,
                                           unsigned kind_ratio) {
    if (!builder_ok(builder, __func__) || !mt_kind_ok(kind, __func__))
        return -1;
    mt_config_t *c = &builder->cfg;
    if (kind_ratio == 0) {
        LOG_ERR("ratio 0 for a tier; refused");
        return -1;
    }
    for (unsigned i = 0; i < c->ntiers; i++) {
        if (c->tiers[i].kind == kind) {
            LOG_ERR("kind %p is already tier %u; refused", (void *)kind, i);
            return -1;
        }
    }
    if (c->ntiers == MT_MAX_TIERS) {
        LOG_ERR("a builder holds at most %u tiers; refused", MT_MAX_TIERS);
        return -1;
    }
    unsigned n = c->ntiers;
    if (n > 0) { // the threshold between the last tier and this one
        mt_threshold_t *t = &c->thresholds[n - 1];
        t->min = (size_t)MT_STEP * (n - 1) + MT_STEP / 2;
        atomic_store_explicit(&t->val, (size_t)MT_STEP * n, memory_order_relaxed);
        t->max = (size_t)MT_STEP * (n - 1) + MT_STEP + MT_STEP / 2 - 1;
    }
    c->tiers[n] = (mt_tier_t){kind, kind_ratio};
    c->ntiers = n + 1;
    return 0;
}

// ---- memtier_ctl_set ------------------------------------------------------------

#define DT_PREFIX "policy.dynamic_threshold."

// "thresholds[ID].val|min|max" (after the prefix): the field, or NULL.
static size_t *threshold_field(mt_config_t *c, const char *rest, const char *name) {
    unsigned id;
    int used = 0;
    char field[4];
    if (sscanf(rest, "thresholds[%u].%3[a-z]%n", &id, field, &used) != 2 || rest[used] != '\0' ||
        strncmp(rest, "thresholds[", 11) != 0 || rest[11] < '0' || rest[11] > '9') {
        LOG_ERR("unknown memtier property \"%s\"; refused", name);
        return NULL;
    }
    if (id + 1 >= c->ntiers) {
        LOG_ERR("\"%s\": threshold %u needs %u tiers, the builder has %u; refused", name, id,
                id + 2, c->ntiers);
        return NULL;
    }
    mt_threshold_t *t = &c->thresholds[id];
    if (strcmp(field, "val") == 0)
        return (size_t *)&t->val; // the builder's copy: not shared yet
    if (strcmp(field, "min") == 0)
        return &t->min;
    if (strcmp(field, "max") == 0)
        return &t->max;
    LOG_ERR("unknown memtier property \"%s\"; refused", name);
    return NULL;
}

static int set_float(float *dst, const void *val, const char *name) {
    float f;
    memcpy(&f, val, sizeof f);
    if (!isfinite(f) || f < 0) {
        LOG_ERR("\"%s\" = %g: must be a finite value >= 0; refused", name, (double)f);
        return -1;
    }
    *dst = f;
    return 0;
}

HETMEM_EXPORT int memtier_ctl_set(struct memtier_builder *builder, const char *name,
                                  const void *val) {
    if (!builder_ok(builder, __func__))
        return -1;
    if (!name || !val) {
        LOG_ERR("NULL %s; refused", name ? "value" : "name");
        return -1;
    }
    mt_config_t *c = &builder->cfg;
    if (c->policy != MEMTIER_POLICY_DYNAMIC_THRESHOLD ||
        strncmp(name, DT_PREFIX, sizeof DT_PREFIX - 1) != 0) {
        LOG_ERR("unknown memtier property \"%s\" for this builder's policy; refused", name);
        return -1;
    }
    const char *rest = name + sizeof DT_PREFIX - 1;
    if (strcmp(rest, "check_cnt") == 0) {
        unsigned n;
        memcpy(&n, val, sizeof n);
        if (n == 0) {
            LOG_ERR("\"%s\" = 0: must be at least 1; refused", name);
            return -1;
        }
        c->check_cnt = n;
        return 0;
    }
    if (strcmp(rest, "trigger") == 0)
        return set_float(&c->trigger, val, name);
    if (strcmp(rest, "degree") == 0)
        return set_float(&c->degree, val, name);
    size_t *field = threshold_field(c, rest, name);
    if (!field)
        return -1;
    memcpy(field, val, sizeof *field);
    return 0;
}

// ---- the tiered memory ----------------------------------------------------------

HETMEM_EXPORT struct memtier_memory *
memtier_builder_construct_memtier_memory(struct memtier_builder *builder) {
    if (!builder_ok(builder, __func__))
        return NULL;
    const mt_config_t *c = &builder->cfg;
    if (c->ntiers == 0) {
        LOG_ERR("the builder has no tier; refused");
        errno = EINVAL;
        return NULL;
    }
    if (c->policy == MEMTIER_POLICY_DYNAMIC_THRESHOLD &&
        (c->ntiers < 2 || !mt_thresholds_valid(c))) {
        if (c->ntiers < 2)
            LOG_ERR("DYNAMIC_THRESHOLD needs at least 2 tiers, the builder has 1; refused");
        errno = EINVAL;
        return NULL;
    }
    struct memtier_memory *m = meta_alloc(sizeof *m);
    if (!m) {
        LOG_ERR("no memory for a tiered memory");
        errno = ENOMEM;
        return NULL;
    }
    memcpy(&m->cfg, c, sizeof *c);
    atomic_init(&m->countdown, c->check_cnt);
    lock_init(&m->update, LOCK_RANK_MEMTIER, "memtier update");
    m->magic = MT_MEMORY_MAGIC;
    return m;
}

HETMEM_EXPORT void memtier_delete_memtier_memory(struct memtier_memory *memory) {
    if (!memory || memory->magic != MT_MEMORY_MAGIC) {
        LOG_ERR("%s memory %p; refused", memory ? "not a live" : "NULL", (void *)memory);
        return;
    }
    memory->magic = 0;
    lock_fini(&memory->update);
    meta_free(memory, sizeof *memory);
}
