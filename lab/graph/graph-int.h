/* SPDX-License-Identifier: MIT */
/* Shared by the graph's builders (the lab's parts) and writers (text walked safely, boxes' contents). */
#ifndef VNETLAB_GRAPH_INT_H
#define VNETLAB_GRAPH_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vnetlab/graph.h"

enum gch_type {
	GCH_END,
	GCH_NEWLINE,
	GCH_TEXT, /* bytes [0, len) are one printable character (ASCII or valid UTF-8) */
	GCH_BYTE, /* a byte that is not valid UTF-8 or is a control character: shown as \xNN */
	GCH_CODE, /* a valid but dangerous code point (bidi controls, line separators): \uXXXX */
};

struct gch {
	enum gch_type type;
	size_t len;    /* bytes consumed */
	uint32_t code; /* GCH_TEXT, GCH_CODE: the code point; GCH_BYTE: the byte */
};

/* The next character of s; never reads past its NUL. */
struct gch gch_next(const char *s);

/* What builds a graph: the lab, the graph so far, the first failure (every later add is a no-op). */
struct gb {
	const struct vl_lab *lab;
	struct vl_graph *g;
	int rc;
	int *ep_node; /* per endpoint: its node, or VL_NONE */
	int internet; /* the Internet node */
	int internet_c;
};

/* desc.c. Strings come from gb_fmt (NULL and b->rc set on failure); the adds take over id, label
 * and edge labels (freed on failure) and return the index or VL_NONE. */
char *gb_fmt(struct gb *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
/* s + "\n" + line, s freed; NULL stays NULL. */
char *gb_cat(struct gb *b, char *s, const char *line);
int gb_add_cluster(struct gb *b, char *id, char *label, enum vl_gcluster_kind kind, int parent, int ref);
int gb_add_node(struct gb *b, char *id, char *label, enum vl_gnode_kind kind, int cluster, int ref);
/* An edge with an end VL_NONE is left out. */
void gb_add_edge(struct gb *b, struct vl_gend a, struct vl_gend z, enum vl_gedge_kind kind, char *label,
		 bool directed, bool weak);
struct vl_gend gb_node(int i);
struct vl_gend gb_cluster(int i);

/* aks.c: an AKS cluster's box in subnet box sc; the LoadBalancer frontends (after every endpoint
 * has its node). "8080/TCP, 53/UDP" for a Service's ports. */
void gb_aks_cluster(struct gb *b, int c, int sc);
/* The virtual node of cluster c and its pods (container groups), a box in its subnet's box sc. */
void gb_aks_vnode(struct gb *b, int c, int sc);
void gb_frontends(struct gb *b);
char *gb_svc_ports(struct gb *b, const struct vl_service *s);

/* walk.c: what a text writer emits for each piece of the walk, each line after depth indents. */
struct graph_emit {
	const char *indent; /* one level of indentation */
	const char *close;  /* the line that ends a box */
	void (*node)(FILE *f, const struct vl_graph *g, size_t n, int depth); /* node n's line */
	void (*open)(FILE *f, const struct vl_graph *g, size_t c, int depth); /* box c, before its contents */
};
/* The nodes of box c (VL_NONE: the top), then each child box: open, its contents at depth + 1, close. */
void graph_walk(const struct vl_graph *g, int c, int depth, const struct graph_emit *em, FILE *f);
/* How a writer spells label text: a line break, the start of a \xNN / \uXXXX escape (for bytes that
 * are not UTF-8 and dangerous code points), and one printable character (its bytes [s, s + c.len)). */
struct graph_text {
	const char *newline, *escape;
	void (*text)(FILE *f, const char *s, struct gch c);
};
void graph_put_text(FILE *f, const char *s, const struct graph_text *t);
void graph_indent(FILE *f, int depth, const char *unit);

/* The first node at or under cluster c (its own nodes first, then its children's), or VL_NONE. */
int graph_rep_node(const struct vl_graph *g, int c);

#endif
