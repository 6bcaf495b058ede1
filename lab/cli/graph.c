// SPDX-License-Identifier: MIT
/* graph: a picture of a lab (a running lab's saved state, or a file) as dot, mermaid or SVG. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/graph.h"

enum format { FMT_NONE, FMT_DOT, FMT_MERMAID, FMT_SVG };

static enum format format_named(const char *s)
{
	if (!strcmp(s, "dot") || !strcmp(s, "gv"))
		return FMT_DOT;
	if (!strcmp(s, "mermaid") || !strcmp(s, "mmd"))
		return FMT_MERMAID;
	if (!strcmp(s, "svg"))
		return FMT_SVG;
	return FMT_NONE;
}

/* -o x.svg, x.mmd, x.dot: the format its extension names; dot otherwise. */
static enum format format_of_path(const char *path)
{
	const char *dot = strrchr(path, '.');
	enum format f = dot && !strchr(dot, '/') ? format_named(dot + 1) : FMT_NONE;

	return f == FMT_NONE ? FMT_DOT : f;
}

static int write_graph(const struct vl_graph *g, enum format fmt, FILE *f)
{
	char why[320];
	int rc;

	if (fmt == FMT_MERMAID)
		rc = vl_graph_write_mermaid(g, f);
	else if (fmt == FMT_SVG) {
		rc = vl_graph_write_svg(g, f, why, sizeof(why));
		if (rc) {
			char safe[sizeof(why) * 2];

			fprintf(stderr, "vnetlab: graph: %s\n", cli_printable(why, safe, sizeof(safe)));
			return rc;
		}
	} else
		rc = vl_graph_write_dot(g, f);
	if (!rc && fflush(f))
		rc = -errno;
	if (rc)
		die_errno("graph: write", rc);
	return rc;
}

/* Written next to the target and renamed over it: a failure leaves no half-written picture. */
static int write_file(const struct vl_graph *g, enum format fmt, const char *path)
{
	char *tmp, safe[256];
	FILE *f;
	int fd, rc;

	if (asprintf(&tmp, "%s.tmp%d", path, (int)getpid()) < 0) {
		die_errno("graph", -ENOMEM);
		return -ENOMEM;
	}
	/* O_EXCL: never through a link someone left at the temporary name (this may run as root) */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		fprintf(stderr, "vnetlab: graph: %s: %s\n", cli_printable(path, safe, sizeof(safe)),
			strerror(-rc));
		free(tmp);
		return rc;
	}
	rc = write_graph(g, fmt, f);
	if (fclose(f) && !rc) {
		rc = -errno;
		die_errno("graph: write", rc);
	}
	if (!rc && rename(tmp, path)) {
		rc = -errno;
		fprintf(stderr, "vnetlab: graph: %s: %s\n", cli_printable(path, safe, sizeof(safe)),
			strerror(-rc));
	}
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}

int cmd_graph(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'}, {0}};
	enum format fmt = FMT_NONE;
	const char *out = NULL;
	struct vl_graph *g = NULL;
	struct vl_lab *lab;
	char safe[64];
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:w:", longopts, NULL)) != -1) {
		if (c == 'f') {
			fmt = format_named(optarg);
			if (fmt == FMT_NONE) {
				fprintf(stderr, "vnetlab: graph: unknown format '%s' (dot, mermaid or svg)\n",
					cli_printable(optarg, safe, sizeof(safe)));
				return EXIT_USAGE;
			}
		} else if (c == 'o' && format_named(optarg) != FMT_NONE) {
			/* az's habit: -o names the format (dot, mermaid, svg) ... */
			fmt = format_named(optarg);
		} else if (c == 'o' && out_parse(optarg, &(enum out_fmt){0}) == 0) {
			fprintf(stderr, "vnetlab: graph draws dot, mermaid or svg, not '%s' (-o FORMAT or -o FILE)\n",
				cli_printable(optarg, safe, sizeof(safe)));
			return EXIT_USAGE;
		} else if (c == 'o' || c == 'w') {
			out = optarg; /* ... anything else is the file to write (-w FILE as capture takes it) */
		} else {
			return usage("graph");
		}
	}
	if (argc - optind != 1)
		return usage("graph");
	if (out && !strcmp(out, "-"))
		out = NULL;
	if (fmt == FMT_NONE)
		fmt = out ? format_of_path(out) : FMT_DOT;
	lab = load_lab_or_file(argv[optind], NULL);
	if (!lab)
		return 1;
	rc = vl_graph_build(lab, &g);
	vl_lab_free(lab);
	if (rc) {
		die_errno("graph", rc);
		return 1;
	}
	rc = out ? write_file(g, fmt, out) : write_graph(g, fmt, stdout);
	vl_graph_free(g);
	return rc ? 1 : 0;
}
