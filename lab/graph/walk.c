// SPDX-License-Identifier: MIT
/*
 * The walk the text writers (dot.c, mermaid.c) share: the boxes depth first, each box's nodes
 * before its child boxes, and label text a character at a time (gch_next); each writer emits
 * the pieces in its own syntax.
 */
#include <stdio.h>

#include "graph-int.h"

void graph_walk(const struct vl_graph *g, int c, int depth, const struct graph_emit *em, FILE *f)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		if (g->nodes[i].cluster != c)
			continue;
		graph_indent(f, depth, em->indent);
		em->node(f, g, i, depth);
	}
	for (size_t i = 0; i < g->n_clusters; i++) {
		if (g->clusters[i].parent != c)
			continue;
		graph_indent(f, depth, em->indent);
		em->open(f, g, i, depth);
		graph_walk(g, (int)i, depth + 1, em, f);
		graph_indent(f, depth, em->indent);
		fputs(em->close, f);
	}
}

void graph_put_text(FILE *f, const char *s, const struct graph_text *t)
{
	while (*s) {
		struct gch c = gch_next(s);

		switch (c.type) {
		case GCH_NEWLINE:
			fputs(t->newline, f);
			break;
		case GCH_BYTE:
			fputs(t->escape, f);
			fprintf(f, "x%02x", c.code);
			break;
		case GCH_CODE:
			fputs(t->escape, f);
			fprintf(f, "u%04x", c.code);
			break;
		case GCH_TEXT:
			t->text(f, s, c);
			break;
		case GCH_END:
			break;
		}
		s += c.len;
	}
}

void graph_indent(FILE *f, int depth, const char *unit)
{
	for (int i = 0; i < depth; i++)
		fputs(unit, f);
}
