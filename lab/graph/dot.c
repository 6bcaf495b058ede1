// SPDX-License-Identifier: MIT
/*
 * The graph as Graphviz dot: clusters as nested "cluster_" subgraphs, shapes and colours by
 * kind. An edge to a cluster (a peering) is drawn from a node inside it, clipped at the box
 * (compound=true, ltail/lhead). Text is escaped for a quoted dot string; '&' is written as
 * &amp; because Graphviz reads entities in labels.
 */
#include <errno.h>
#include <stdio.h>

#include "graph-int.h"

static const char *const cluster_style[] = {
    [VL_GC_VNET] = "style=\"rounded,filled,bold\", color=\"#1f5fa8\", fillcolor=\"#eaf2fb\", fontsize=13",
    [VL_GC_SUBNET] = "style=\"rounded,filled\", color=\"#6c8ebf\", fillcolor=\"#ffffff\", fontsize=11",
    [VL_GC_AKS] = "style=\"rounded,filled,dashed\", color=\"#326ce5\", fillcolor=\"#f2f6ff\", fontsize=11",
    [VL_GC_ONPREM] = "style=\"rounded,filled,bold\", color=\"#666666\", fillcolor=\"#f2f2f2\", fontsize=13",
    [VL_GC_INTERNET] = "style=\"rounded,filled,bold\", color=\"#d79b00\", fillcolor=\"#fff8e6\", fontsize=13",
};

static const char *const node_style[] = {
    [VL_GN_VM] = "fillcolor=\"#dae8fc\", color=\"#6c8ebf\"",
    [VL_GN_CG] = "shape=box3d, style=filled, fillcolor=\"#dae8fc\", color=\"#6c8ebf\"",
    [VL_GN_NODE] = "fillcolor=\"#d5e8d4\", color=\"#82b366\"",
    [VL_GN_POD] = "shape=ellipse, style=filled, fillcolor=\"#eef7ea\", color=\"#82b366\"",
    [VL_GN_HOST] = "fillcolor=\"#fff2cc\", color=\"#d6b656\"",
    [VL_GN_NSG] = "shape=octagon, style=filled, fillcolor=\"#f8cecc\", color=\"#b85450\"",
    [VL_GN_ROUTE_TABLE] = "shape=note, style=filled, fillcolor=\"#fff2cc\", color=\"#d6b656\"",
    [VL_GN_GATEWAY] = "shape=hexagon, style=filled, fillcolor=\"#e1d5e7\", color=\"#9673a6\"",
    [VL_GN_LOCAL_GATEWAY] = "shape=hexagon, style=filled, fillcolor=\"#e1d5e7\", color=\"#9673a6\"",
    [VL_GN_INTERNET] = "shape=ellipse, style=\"filled,bold\", fillcolor=\"#ffe6cc\", color=\"#d79b00\"",
    [VL_GN_SERVICE] = "shape=component, style=filled, fillcolor=\"#e6eeff\", color=\"#326ce5\"",
    [VL_GN_FRONTEND] = "shape=invhouse, style=filled, fillcolor=\"#ffe6cc\", color=\"#d79b00\"",
    [VL_GN_PUBLIC_IP] = "fillcolor=\"#ffe6cc\", color=\"#d79b00\"",
    [VL_GN_NATGW] = "shape=cds, style=filled, fillcolor=\"#ffe6cc\", color=\"#d79b00\"",
    [VL_GN_EMPTY] = "shape=plaintext, style=\"\", fontcolor=\"#888888\"",
};

static const char *const edge_style[] = {
    [VL_GE_PEERING] = "color=\"#1f5fa8\", fontcolor=\"#1f5fa8\", penwidth=2",
    [VL_GE_CONNECTION] = "color=\"#9673a6\", fontcolor=\"#9673a6\", penwidth=2",
    [VL_GE_NIC_NSG] = "color=\"#b85450\", style=dashed, arrowhead=none",
    [VL_GE_POD] = "color=\"#82b366\"",
    [VL_GE_NEXT_HOP] = "color=\"#d79b00\", fontcolor=\"#d79b00\"",
    [VL_GE_BACKEND] = "color=\"#d79b00\", fontcolor=\"#d79b00\"",
    [VL_GE_SELECTS] = "color=\"#326ce5\"",
    [VL_GE_PUBLIC_IP] = "color=\"#d79b00\", fontcolor=\"#d79b00\"",
    [VL_GE_OUTBOUND] = "color=\"#999999\", fontcolor=\"#777777\"",
};

static void put_char(FILE *f, const char *s, struct gch c)
{
	if (*s == '"')
		fputs("\\\"", f);
	else if (*s == '\\')
		fputs("\\\\", f);
	else if (*s == '&')
		fputs("&amp;", f);
	else
		fwrite(s, 1, c.len, f);
}

static const struct graph_text dot_text = {.newline = "\\n", .escape = "\\\\", .text = put_char};

static void put_text(FILE *f, const char *s)
{
	graph_put_text(f, s, &dot_text);
}

/*
 * An id: printable ASCII other than '"', '\\' and '%' as itself, every other byte as %XX, so distinct
 * ids stay distinct and read back exactly (libcgraph keeps a backslash in a quoted id).
 */
static void put_id_as(FILE *f, const char *prefix, const char *s)
{
	fprintf(f, "\"%s", prefix);
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if (*u >= 0x20 && *u < 0x7f && *u != '"' && *u != '\\' && *u != '%')
			fputc(*u, f);
		else
			fprintf(f, "%%%02X", *u);
	fputc('"', f);
}

static void put_id(FILE *f, const char *s)
{
	put_id_as(f, "", s);
}

static void put_str(FILE *f, const char *s)
{
	fputc('"', f);
	put_text(f, s);
	fputc('"', f);
}

/* "cluster_" makes a subgraph a box; the readable id names it (and titles it in SVG). */
static void put_cluster_name(FILE *f, const struct vl_graph *g, int c)
{
	put_id_as(f, "cluster_", g->clusters[c].id);
}

static void put_node(FILE *f, const struct vl_graph *g, size_t i, int depth)
{
	const struct vl_gnode *n = &g->nodes[i];

	(void)depth;
	put_id(f, n->id);
	fputs(" [label=", f);
	put_str(f, n->label);
	fprintf(f, ", %s];\n", node_style[n->kind]);
}

static void open_cluster(FILE *f, const struct vl_graph *g, size_t c, int depth)
{
	const struct vl_gcluster *k = &g->clusters[c];

	fputs("subgraph ", f);
	put_cluster_name(f, g, (int)c);
	fputs(" {\n", f);
	graph_indent(f, depth + 1, "  ");
	fputs("graph [label=", f);
	put_str(f, k->label);
	fprintf(f, ", %s];\n", cluster_style[k->kind]);
}

static const struct graph_emit dot_emit = {
    .indent = "  ", .close = "}\n", .node = put_node, .open = open_cluster};

/*
 * One edge a -- z, or, with mid, one half of an edge drawn through the node mid (a is then the
 * end on this side: the head when head is set).
 */
static void put_edge(FILE *f, const struct vl_graph *g, const struct vl_gedge *e, int a, int z,
		     const char *mid, bool head)
{
	bool clip_tail = mid ? (!head && e->a.cluster) : e->a.cluster;
	bool clip_head = mid ? (head && e->b.cluster) : e->b.cluster;

	fputs("  ", f);
	if (mid && head)
		fprintf(f, "\"%s\"", mid);
	else
		put_id(f, g->nodes[a].id);
	fputs(" -- ", f);
	if (mid && !head)
		fprintf(f, "\"%s\"", mid);
	else
		put_id(f, g->nodes[mid ? a : z].id);
	fprintf(f, " [%s", edge_style[e->kind]);
	if (e->label && !mid) {
		fputs(", label=", f);
		put_str(f, e->label);
	}
	if (e->directed && (!mid || head))
		fputs(", dir=forward", f);
	else if (mid)
		fputs(", dir=none", f);
	if (e->weak)
		fputs(", style=dashed", f);
	if (clip_tail) {
		fputs(", ltail=", f);
		put_cluster_name(f, g, e->a.index);
	}
	if (clip_head) {
		fputs(", lhead=", f);
		put_cluster_name(f, g, e->b.index);
	}
	fputs("];\n", f);
}

int vl_graph_write_dot(const struct vl_graph *g, FILE *f)
{
	fputs("graph ", f);
	put_id(f, g->name);
	fputs(" {\n"
	      "  graph [compound=true, newrank=true, rankdir=TB, nodesep=0.3, ranksep=0.5, labelloc=t, "
	      "fontname=\"Helvetica,Arial,sans-serif\", fontsize=14, label=",
	      f);
	fputs("\"vnetlab lab ", f);
	put_text(f, g->name);
	fputs("\"];\n"
	      "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica,Arial,sans-serif\", "
	      "fontsize=10, "
	      "margin=\"0.12,0.06\"];\n"
	      "  edge [fontname=\"Helvetica,Arial,sans-serif\", fontsize=9];\n",
	      f);
	graph_walk(g, VL_NONE, 1, &dot_emit, f);
	for (size_t i = 0; i < g->n_edges; i++) {
		const struct vl_gedge *e = &g->edges[i];
		int a = e->a.cluster ? graph_rep_node(g, e->a.index) : e->a.index;
		int z = e->b.cluster ? graph_rep_node(g, e->b.index) : e->b.index;

		if (a == VL_NONE || z == VL_NONE)
			continue;
		if (e->kind == VL_GE_PEERING && e->label) {
			/* A peering is a resource of its own: a label between two boxes sits best on a node.
			 */
			char mid[40];

			snprintf(mid, sizeof(mid), "peering:%zu", i);
			fprintf(f, "  \"%s\" [label=", mid);
			put_str(f, e->label);
			fprintf(f,
				", shape=box, style=\"rounded,filled%s\", fillcolor=\"#ffffff\", "
				"color=\"#1f5fa8\", "
				"fontcolor=\"#1f5fa8\", fontsize=9];\n",
				e->weak ? ",dashed" : "");
			put_edge(f, g, e, a, VL_NONE, mid, false);
			put_edge(f, g, e, z, VL_NONE, mid, true);
			continue;
		}
		put_edge(f, g, e, a, z, NULL, false);
	}
	fputs("}\n", f);
	return ferror(f) ? -EIO : 0;
}
