/* SPDX-License-Identifier: MIT */
/* Shared by the graph writers: walking label text safely, and the clusters' contents. */
#ifndef VNETLAB_GRAPH_INT_H
#define VNETLAB_GRAPH_INT_H

#include <stddef.h>
#include <stdint.h>

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

/* The first node at or under cluster c (its own nodes first, then its children's), or VL_NONE. */
int graph_rep_node(const struct vl_graph *g, int c);

#endif
