// SPDX-License-Identifier: MIT
// The topology sections of hetmem-info: a summary line (node count, HMAT,
// HBW threshold, rejected overrides), the node table (class, tier, CPUs,
// capacity/free, HMAT figures from the best initiator, huge pages, kmem)
// and the SLIT distance matrix, each as text and as JSON.
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "hetmem.h"
#include "hetmem_info.h"
#include "topology/topo.h"

#define MIB ((uint64_t)1 << 20)
#define GIB ((uint64_t)1 << 30)

// The overrides, by the TOPO_ENV_* bit topo_env_rejected() reports.
static const struct {
    unsigned bit;
    const char *name;
} env_names[] = {
    {TOPO_ENV_HBW_NODES, "MEMKIND_HBW_NODES"},
    {TOPO_ENV_DAX_KMEM_NODES, "MEMKIND_DAX_KMEM_NODES"},
    {TOPO_ENV_HBW_THRESHOLD, "MEMKIND_HBW_THRESHOLD"},
};

// "7.8 GiB", "512 MiB", "12 KiB": a short human size for the table.
static const char *human(uint64_t b, char *buf, size_t len) {
    if (b >= GIB)
        snprintf(buf, len, "%.1f GiB", (double)b / (double)GIB);
    else if (b >= MIB)
        snprintf(buf, len, "%" PRIu64 " MiB", b / MIB);
    else
        snprintf(buf, len, "%" PRIu64 " KiB", b >> 10);
    return buf;
}

// A number, or "-" when the figure is not reported (0).
static const char *num_or_dash(uint64_t v, char *buf, size_t len) {
    if (v)
        snprintf(buf, len, "%" PRIu64, v);
    else
        snprintf(buf, len, "-");
    return buf;
}

static void free_pages(const topo_node_t *n, size_t size, uint64_t *out) {
    if (topo_node_hugepages_free(n->id, size, out) != 0)
        *out = 0;
}

void info_machine_text(FILE *out) {
    fprintf(out, "hetmem %s: %u NUMA node(s) with memory; HMAT %s; HBW threshold %" PRIu64
                 " MB/s\n",
            hetmem_get_version(), topo_node_count(),
            topo_has_hmat() ? "present" : "absent (no bandwidth/latency figures)",
            topo_hbw_threshold());
    unsigned bad = topo_env_rejected();
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        if (bad & env_names[i].bit)
            fprintf(out, "warning: %s is malformed and was ignored\n", env_names[i].name);
}

void info_machine_json(json_out_t *j) {
    json_key(j, "version");
    json_string(j, hetmem_get_version());
    json_key(j, "hmat");
    json_bool(j, topo_has_hmat());
    json_key(j, "hbw_threshold_mbps");
    json_u64(j, topo_hbw_threshold());
    json_key(j, "rejected_env");
    json_begin_array(j, true);
    unsigned bad = topo_env_rejected();
    for (size_t i = 0; i < sizeof env_names / sizeof env_names[0]; i++)
        if (bad & env_names[i].bit)
            json_string(j, env_names[i].name);
    json_end_array(j);
    // Which nodes each class holds, as node lists.
    json_key(j, "classes");
    json_begin_object(j);
    for (int c = TOPO_CLASS_DRAM; c <= TOPO_CLASS_PMEM; c++) {
        nodeset_t set;
        char list[8192]; // 1024 nodes as "0,2,4,..." fit
        topo_nodes_of_class((topo_class_t)c, &set);
        nodeset_format(&set, list, sizeof list);
        json_key(j, topo_class_name((topo_class_t)c));
        json_string(j, list);
    }
    json_end_object(j);
}

void info_nodes_text(FILE *out) {
    bool overrides = false, derived = false;
    fprintf(out, "\n%4s %-5s %-5s %-12s %10s %10s %8s %8s %6s %6s %4s %13s %11s  %s\n", "node",
            "class", "tier", "cpus", "capacity", "free", "rd MB/s", "wr MB/s", "rd ns", "wr ns",
            "from", "2M total/free", "1G tot/free", "kmem");
    for (unsigned i = 0; i < topo_node_count(); i++) {
        const topo_node_t *n = topo_node_at(i);
        char cpus[64], cap[24], fr[24], rb[24], wb[24], rl[24], wl[24], from[16], tier[16];
        char cls[8], hp2[48], hp1[48];
        uint64_t f = 0, f2 = 0, f1 = 0;
        if (nodeset_format(&n->cpus, cpus, sizeof cpus) >= sizeof cpus)
            strcpy(cpus + sizeof cpus - 4, "...");
        if (!cpus[0])
            strcpy(cpus, "-");
        if (topo_node_free(n->id, &f) != 0)
            f = 0;
        free_pages(n, 2 * MIB, &f2);
        free_pages(n, GIB, &f1);
        snprintf(tier, sizeof tier, "%d%s", n->tier, n->tier_from_kernel ? "" : "*");
        snprintf(cls, sizeof cls, "%s%s", topo_class_name(n->cls),
                 n->hbw_override || n->kmem_override ? "!" : "");
        overrides |= n->hbw_override || n->kmem_override;
        derived |= !n->tier_from_kernel;
        if (n->perf_initiator == TOPO_NODE_NONE)
            snprintf(from, sizeof from, "-");
        else
            snprintf(from, sizeof from, "%u", n->perf_initiator);
        snprintf(hp2, sizeof hp2, "%" PRIu64 "/%" PRIu64, n->hugepages_2m, f2);
        snprintf(hp1, sizeof hp1, "%" PRIu64 "/%" PRIu64, n->hugepages_1g, f1);
        fprintf(out, "%4u %-5s %-5s %-12s %10s %10s %8s %8s %6s %6s %4s %13s %11s  %s\n", n->id,
                cls, tier, cpus, human(n->capacity, cap, sizeof cap), human(f, fr, sizeof fr),
                num_or_dash(n->perf.read_bw_mbps ? n->perf.read_bw_mbps : n->perf.bw_mbps, rb,
                            sizeof rb),
                num_or_dash(n->perf.write_bw_mbps ? n->perf.write_bw_mbps : n->perf.bw_mbps, wb,
                            sizeof wb),
                num_or_dash(n->perf.read_lat_ns ? n->perf.read_lat_ns : n->perf.lat_ns, rl,
                            sizeof rl),
                num_or_dash(n->perf.write_lat_ns ? n->perf.write_lat_ns : n->perf.lat_ns, wl,
                            sizeof wl),
                from, hp2, hp1, n->dax_kmem ? n->dax_device : "-");
    }
    if (derived)
        fprintf(out, "tier*: derived by hetmem, the kernel lists no memory tier for the node\n");
    if (overrides)
        fprintf(out, "class!: set by MEMKIND_HBW_NODES / MEMKIND_DAX_KMEM_NODES\n");
    if (topo_has_hmat())
        fprintf(out, "MB/s, ns: HMAT figures from the best initiator node (\"from\")\n");
}

// A figure, or null when it is not reported.
static void json_figure(json_out_t *j, const char *key, uint64_t v) {
    json_key(j, key);
    if (v)
        json_u64(j, v);
    else
        json_null(j);
}

static void node_json(json_out_t *j, const topo_node_t *n) {
    char cpus[8192]; // 1024 CPUs as "0,2,4,..." fit
    uint64_t f = 0, f2 = 0, f1 = 0;
    nodeset_format(&n->cpus, cpus, sizeof cpus);
    if (topo_node_free(n->id, &f) != 0)
        f = 0;
    free_pages(n, 2 * MIB, &f2);
    free_pages(n, GIB, &f1);
    json_begin_object(j);
    json_key(j, "id");
    json_u64(j, n->id);
    json_key(j, "class");
    json_string(j, topo_class_name(n->cls));
    json_key(j, "tier");
    json_i64(j, n->tier);
    json_key(j, "tier_source");
    json_string(j, n->tier_from_kernel ? "kernel" : "derived");
    json_key(j, "cpus");
    json_string(j, cpus);
    json_key(j, "capacity_bytes");
    json_u64(j, n->capacity);
    json_key(j, "free_bytes");
    json_u64(j, f);
    json_figure(j, "bandwidth_mbps", n->perf.bw_mbps);
    json_figure(j, "read_bandwidth_mbps", n->perf.read_bw_mbps);
    json_figure(j, "write_bandwidth_mbps", n->perf.write_bw_mbps);
    json_figure(j, "latency_ns", n->perf.lat_ns);
    json_figure(j, "read_latency_ns", n->perf.read_lat_ns);
    json_figure(j, "write_latency_ns", n->perf.write_lat_ns);
    json_key(j, "initiator");
    if (n->perf_initiator == TOPO_NODE_NONE)
        json_null(j);
    else
        json_u64(j, n->perf_initiator);
    json_key(j, "hugepages_2m");
    json_u64(j, n->hugepages_2m);
    json_key(j, "hugepages_2m_free");
    json_u64(j, f2);
    json_key(j, "hugepages_1g");
    json_u64(j, n->hugepages_1g);
    json_key(j, "hugepages_1g_free");
    json_u64(j, f1);
    json_key(j, "dax_kmem");
    json_string(j, n->dax_kmem ? n->dax_device : NULL);
    json_key(j, "hbw_override");
    json_bool(j, n->hbw_override);
    json_key(j, "kmem_override");
    json_bool(j, n->kmem_override);
    json_end_object(j);
}

void info_nodes_json(json_out_t *j) {
    json_key(j, "nodes");
    json_begin_array(j, false);
    for (unsigned i = 0; i < topo_node_count(); i++)
        node_json(j, topo_node_at(i));
    json_end_array(j);
}

#define TEXT_MATRIX_MAX 16 // wider matrices only in --json

void info_distances_text(FILE *out) {
    unsigned n = topo_node_count();
    if (n > TEXT_MATRIX_MAX) {
        fprintf(out, "\ndistances: %u x %u matrix (see --json)\n", n, n);
        return;
    }
    fprintf(out, "\ndistances (SLIT, 10 = local):\n%5s", "");
    for (unsigned i = 0; i < n; i++)
        fprintf(out, " %4u", topo_node_at(i)->id);
    fputc('\n', out);
    for (unsigned i = 0; i < n; i++) {
        fprintf(out, "%5u", topo_node_at(i)->id);
        for (unsigned k = 0; k < n; k++) {
            int d = topo_distance(topo_node_at(i)->id, topo_node_at(k)->id);
            if (d < 0)
                fprintf(out, " %4s", "-");
            else
                fprintf(out, " %4d", d);
        }
        fputc('\n', out);
    }
}

void info_distances_json(json_out_t *j) {
    unsigned n = topo_node_count();
    // Rows and columns follow "nodes"; distance_nodes names them again.
    json_key(j, "distance_nodes");
    json_begin_array(j, true);
    for (unsigned i = 0; i < n; i++)
        json_u64(j, topo_node_at(i)->id);
    json_end_array(j);
    json_key(j, "distances");
    json_begin_array(j, false);
    for (unsigned i = 0; i < n; i++) {
        json_begin_array(j, true);
        for (unsigned k = 0; k < n; k++) {
            int d = topo_distance(topo_node_at(i)->id, topo_node_at(k)->id);
            if (d < 0)
                json_null(j);
            else
                json_i64(j, d);
        }
        json_end_array(j);
    }
    json_end_array(j);
}
