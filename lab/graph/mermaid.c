// SPDX-License-Identifier: MIT
/*
 * The graph as a mermaid flowchart: clusters as nested subgraphs, nodes and subgraphs named by
 * index (n3, c1: mermaid ids are words, and names are not), labels quoted with every character
 * outside a small safe set written as a mermaid entity (#34; for '"'), so no name can end a
 * label, open markup or reach a terminal raw.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "graph-int.h"

struct shape {
	const char *open, *close;
};

static const struct shape node_shape[] = {
    [VL_GN_VM] = {"[\"", "\"]"},
    [VL_GN_CG] = {"[[\"", "\"]]"},
    [VL_GN_NODE] = {"[\"", "\"]"},
    [VL_GN_POD] = {"([\"", "\"])"},
    [VL_GN_HOST] = {"[\"", "\"]"},
    [VL_GN_NSG] = {"{{\"", "\"}}"},
    [VL_GN_ROUTE_TABLE] = {"[/\"", "\"/]"},
    [VL_GN_GATEWAY] = {"{{\"", "\"}}"},
    [VL_GN_LOCAL_GATEWAY] = {"{{\"", "\"}}"},
    [VL_GN_INTERNET] = {"((\"", "\"))"},
    [VL_GN_SERVICE] = {"[[\"", "\"]]"},
    [VL_GN_FRONTEND] = {"[\\\"", "\"/]"},
    [VL_GN_PUBLIC_IP] = {"([\"", "\"])"},
    [VL_GN_NATGW] = {">\"", "\"]"},
    [VL_GN_EMPTY] = {"[\"", "\"]"},
};

static const char *const node_class[] = {
    [VL_GN_VM] = "vlvm",	  [VL_GN_CG] = "vlvm",	     [VL_GN_NODE] = "vlnode",
    [VL_GN_POD] = "vlpod",	  [VL_GN_HOST] = "vlhost",   [VL_GN_NSG] = "vlnsg",
    [VL_GN_ROUTE_TABLE] = "vlrt", [VL_GN_GATEWAY] = "vlgw",  [VL_GN_LOCAL_GATEWAY] = "vlgw",
    [VL_GN_INTERNET] = "vlpub",	  [VL_GN_SERVICE] = "vlsvc", [VL_GN_FRONTEND] = "vlpub",
    [VL_GN_PUBLIC_IP] = "vlpub",  [VL_GN_NATGW] = "vlpub",   [VL_GN_EMPTY] = "vlempty",
};

static const char *const class_defs[][2] = {
    {"vlvm", "fill:#dae8fc,stroke:#6c8ebf"},  {"vlnode", "fill:#d5e8d4,stroke:#82b366"},
    {"vlpod", "fill:#eef7ea,stroke:#82b366"}, {"vlhost", "fill:#fff2cc,stroke:#d6b656"},
    {"vlnsg", "fill:#f8cecc,stroke:#b85450"}, {"vlrt", "fill:#fff2cc,stroke:#d6b656"},
    {"vlgw", "fill:#e1d5e7,stroke:#9673a6"},  {"vlsvc", "fill:#e6eeff,stroke:#326ce5"},
    {"vlpub", "fill:#ffe6cc,stroke:#d79b00"}, {"vlempty", "fill:#ffffff,stroke:#bbbbbb,color:#888888"},
};

static const char *const cluster_fill[] = {
    [VL_GC_VNET] = "fill:#eaf2fb,stroke:#1f5fa8,stroke-width:2px",
    [VL_GC_SUBNET] = "fill:#ffffff,stroke:#6c8ebf",
    [VL_GC_AKS] = "fill:#f2f6ff,stroke:#326ce5,stroke-dasharray:5 3",
    [VL_GC_ONPREM] = "fill:#f2f2f2,stroke:#666666,stroke-width:2px",
    [VL_GC_INTERNET] = "fill:#fff8e6,stroke:#d79b00,stroke-width:2px",
};

static const char *const edge_color[] = {
    [VL_GE_PEERING] = "stroke:#1f5fa8,stroke-width:2px",
    [VL_GE_CONNECTION] = "stroke:#9673a6,stroke-width:2px",
    [VL_GE_NIC_NSG] = "stroke:#b85450",
    [VL_GE_POD] = "stroke:#82b366",
    [VL_GE_NEXT_HOP] = "stroke:#d79b00",
    [VL_GE_BACKEND] = "stroke:#d79b00",
    [VL_GE_SELECTS] = "stroke:#326ce5",
    [VL_GE_PUBLIC_IP] = "stroke:#d79b00",
    [VL_GE_OUTBOUND] = "stroke:#999999",
};

static bool safe(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr(" .,:/-_+=@", c);
}

static void put_char(FILE *f, const char *s, struct gch c)
{
	if (c.len == 1 && safe(*s))
		fputc(*s, f);
	else
		fprintf(f, "#%u;", c.code);
}

static const struct graph_text mermaid_text = {.newline = "<br/>", .escape = "#92;", .text = put_char};

static void put_text(FILE *f, const char *s)
{
	graph_put_text(f, s, &mermaid_text);
}

static void put_node(FILE *f, const struct vl_graph *g, size_t i, int depth)
{
	const struct vl_gnode *n = &g->nodes[i];

	(void)depth;
	fprintf(f, "n%zu%s", i, node_shape[n->kind].open);
	put_text(f, n->label);
	fprintf(f, "%s\n", node_shape[n->kind].close);
}

static void open_cluster(FILE *f, const struct vl_graph *g, size_t c, int depth)
{
	(void)depth;
	fprintf(f, "subgraph c%zu[\"", c);
	put_text(f, g->clusters[c].label);
	fputs("\"]\n", f);
}

static const struct graph_emit mermaid_emit = {
    .indent = "    ", .close = "end\n", .node = put_node, .open = open_cluster};

static void put_end(FILE *f, struct vl_gend e)
{
	fprintf(f, "%c%d", e.cluster ? 'c' : 'n', e.index);
}

int vl_graph_write_mermaid(const struct vl_graph *g, FILE *f)
{
	fputs("%% vnetlab lab ", f);
	put_text(f, g->name);
	fputs("\nflowchart TB\n", f);
	graph_walk(g, VL_NONE, 1, &mermaid_emit, f);
	for (size_t i = 0; i < g->n_edges; i++) {
		const struct vl_gedge *e = &g->edges[i];

		fputs("    ", f);
		put_end(f, e->a);
		fputs(e->directed ? (e->weak ? " -.->" : " -->") : (e->weak ? " -.-" : " ---"), f);
		if (e->label) {
			fputs("|\"", f);
			put_text(f, e->label);
			fputs("\"|", f);
		}
		fputc(' ', f);
		put_end(f, e->b);
		fputc('\n', f);
	}
	for (size_t k = 0; k < sizeof(class_defs) / sizeof(class_defs[0]); k++) {
		bool any = false;

		for (size_t i = 0; i < g->n_nodes; i++) {
			if (strcmp(node_class[g->nodes[i].kind], class_defs[k][0]))
				continue;
			fprintf(f, any ? ",n%zu" : "    class n%zu", i);
			any = true;
		}
		if (any)
			fprintf(f, " %s\n", class_defs[k][0]);
	}
	for (size_t k = 0; k < sizeof(class_defs) / sizeof(class_defs[0]); k++)
		fprintf(f, "    classDef %s %s\n", class_defs[k][0], class_defs[k][1]);
	for (size_t i = 0; i < g->n_clusters; i++)
		fprintf(f, "    style c%zu %s\n", i, cluster_fill[g->clusters[i].kind]);
	for (size_t i = 0; i < g->n_edges; i++)
		fprintf(f, "    linkStyle %zu %s\n", i, edge_color[g->edges[i].kind]);
	return ferror(f) ? -EIO : 0;
}
