// SPDX-License-Identifier: MIT
/*
 * SVG in this process: the dot text of the graph read back by libcgraph, laid out by
 * Graphviz's dot layout and rendered by its core SVG renderer (libgvc), so the picture and
 * `--format dot` are the same graph and no `dot` program is needed. Graphviz reports through
 * a global hook; its messages are kept for the caller instead of being printed.
 *
 * One Graphviz context serves the whole process and is never freed: Graphviz 2.42/2.43 caches
 * the last font it measured in a static that gvFreeContext() frees, so a second context reads
 * freed memory (seen under AddressSanitizer when a test renders twice).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "graph-int.h"

static char gv_msg[256];

static int keep_msg(char *msg)
{
	size_t n;

	snprintf(gv_msg, sizeof(gv_msg), "%s", msg);
	n = strlen(gv_msg);
	while (n && (gv_msg[n - 1] == '\n' || gv_msg[n - 1] == ' '))
		gv_msg[--n] = '\0';
	return 0;
}

static int fail(char *why, size_t len, int rc, const char *what)
{
	snprintf(why, len, "%s%s%s", what, gv_msg[0] ? ": " : "", gv_msg);
	return rc;
}

int vl_graph_write_svg(const struct vl_graph *g, FILE *f, char *why, size_t why_len)
{
	char *dot = NULL, *data = NULL;
	size_t dot_len = 0;
	unsigned int len = 0;
	static GVC_t *gvc;
	Agraph_t *ag = NULL;
	FILE *mem;
	int rc = 0;

	gv_msg[0] = '\0';
	mem = open_memstream(&dot, &dot_len);
	if (!mem)
		return fail(why, why_len, -errno, "out of memory");
	rc = vl_graph_write_dot(g, mem);
	if (fclose(mem) || rc) {
		free(dot);
		return fail(why, why_len, -ENOMEM, "out of memory");
	}
	agseterr(AGERR);
	agseterrf(keep_msg);
	if (!gvc)
		gvc = gvContext();
	if (!gvc) {
		rc = fail(why, why_len, -ENOMEM, "graphviz: no context");
		goto out;
	}
	ag = agmemread(dot);
	if (!ag) {
		rc = fail(why, why_len, -EINVAL, "graphviz could not read the graph");
		goto out;
	}
	if (gvLayout(gvc, ag, "dot")) {
		rc = fail(why, why_len, -ENOTSUP,
			  "graphviz: no dot layout (is libgvc's plugin configuration installed?)");
		goto out;
	}
	if (gvRenderData(gvc, ag, "svg", &data, &len) || !data) {
		rc = fail(why, why_len, -ENOTSUP, "graphviz: no SVG renderer");
		gvFreeLayout(gvc, ag);
		goto out;
	}
	if (fwrite(data, 1, len, f) != len || fflush(f))
		rc = fail(why, why_len, -EIO, "write failed");
	gvFreeRenderData(data);
	gvFreeLayout(gvc, ag);
out:
	if (ag)
		agclose(ag);
	agseterrf(NULL);
	free(dot);
	return rc;
}
