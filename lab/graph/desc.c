// SPDX-License-Identifier: MIT
/*
 * The graph description's primitives: growing its arrays, adding boxes, nodes and edges (a
 * failed allocation is kept in the builder and every later add is a no-op, so the builders
 * read straight), freeing it, and the lookups the writers and tests use.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"

char *gb_fmt(struct gb *b, const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0) {
		s = NULL;
		b->rc = -ENOMEM;
	}
	va_end(ap);
	return s;
}

/* s + line (a newline between), s freed; NULL stays NULL. */
char *gb_cat(struct gb *b, char *s, const char *line)
{
	char *r;

	if (!s)
		return NULL;
	r = gb_fmt(b, "%s\n%s", s, line);
	free(s);
	return r;
}

static void *grow(struct gb *b, void *arr, size_t n, size_t size)
{
	void *p;

	if (n && (n < 8 || (n & (n - 1))))
		return arr;
	p = realloc(arr, (n ? 2 * n : 8) * size);
	if (!p)
		b->rc = -ENOMEM;
	return p;
}

/* id and label are taken over (freed on failure). */
int gb_add_cluster(struct gb *b, char *id, char *label, enum vl_gcluster_kind kind, int parent, int ref)
{
	struct vl_graph *g = b->g;
	struct vl_gcluster *p;

	if (b->rc || !id || !label || !(p = grow(b, g->clusters, g->n_clusters, sizeof(*p)))) {
		free(id);
		free(label);
		if (!b->rc)
			b->rc = -ENOMEM;
		return VL_NONE;
	}
	g->clusters = p;
	g->clusters[g->n_clusters] = (struct vl_gcluster){id, label, kind, parent, ref};
	return (int)g->n_clusters++;
}

int gb_add_node(struct gb *b, char *id, char *label, enum vl_gnode_kind kind, int cluster, int ref)
{
	struct vl_graph *g = b->g;
	struct vl_gnode *p;

	if (b->rc || !id || !label || !(p = grow(b, g->nodes, g->n_nodes, sizeof(*p)))) {
		free(id);
		free(label);
		if (!b->rc)
			b->rc = -ENOMEM;
		return VL_NONE;
	}
	g->nodes = p;
	g->nodes[g->n_nodes] = (struct vl_gnode){id, label, kind, cluster, ref};
	return (int)g->n_nodes++;
}

void gb_add_edge(struct gb *b, struct vl_gend a, struct vl_gend z, enum vl_gedge_kind kind, char *label,
		 bool directed, bool weak)
{
	struct vl_graph *g = b->g;
	struct vl_gedge *p;

	if (b->rc || a.index == VL_NONE || z.index == VL_NONE ||
	    !(p = grow(b, g->edges, g->n_edges, sizeof(*p)))) {
		free(label);
		return;
	}
	g->edges = p;
	g->edges[g->n_edges++] = (struct vl_gedge){a, z, kind, label, directed, weak};
}

struct vl_gend gb_node(int i)
{
	return (struct vl_gend){false, i};
}

struct vl_gend gb_cluster(int i)
{
	return (struct vl_gend){true, i};
}

void vl_graph_free(struct vl_graph *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n_clusters; i++) {
		free(g->clusters[i].id);
		free(g->clusters[i].label);
	}
	for (size_t i = 0; i < g->n_nodes; i++) {
		free(g->nodes[i].id);
		free(g->nodes[i].label);
	}
	for (size_t i = 0; i < g->n_edges; i++)
		free(g->edges[i].label);
	free(g->clusters);
	free(g->nodes);
	free(g->edges);
	free(g->name);
	free(g);
}

int vl_graph_find_node(const struct vl_graph *g, const char *id)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		if (!strcmp(g->nodes[i].id, id))
			return (int)i;
	return VL_NONE;
}

int vl_graph_find_cluster(const struct vl_graph *g, const char *id)
{
	for (size_t i = 0; i < g->n_clusters; i++)
		if (!strcmp(g->clusters[i].id, id))
			return (int)i;
	return VL_NONE;
}

bool vl_graph_cluster_within(const struct vl_graph *g, int c, int outer)
{
	for (int depth = 0; c != VL_NONE && depth <= (int)g->n_clusters; depth++) {
		if (c == outer)
			return true;
		c = g->clusters[c].parent;
	}
	return false;
}

int graph_rep_node(const struct vl_graph *g, int c)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].cluster == c)
			return (int)i;
	for (size_t i = 0; i < g->n_clusters; i++)
		if (g->clusters[i].parent == c) {
			int n = graph_rep_node(g, (int)i);

			if (n != VL_NONE)
				return n;
		}
	return VL_NONE;
}
