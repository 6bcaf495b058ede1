// SPDX-License-Identifier: MIT
/* score: a workshop's scoreboard, one row per lab, from the labs' checks or a teacher's file. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/loader.h"
#include "vnetlab/rootless.h"
#include "vnetlab/state.h"

struct row {
	const char *lab;
	const char *status; /* "up", "down", "error" */
	struct check_tally t;
};

static void score_one(const char *name, const char *checks, struct row *r)
{
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;

	memset(r, 0, sizeof(*r));
	r->lab = name;
	r->status = "down";
	if (!vl_state_exists(name))
		return;
	r->status = "error";
	if (vl_state_load_lab(name, &lab, &err)) {
		print_error(&err);
		return;
	}
	/* Loaded per lab: a teacher's checks are validated against each student's lab. */
	if (checks && vl_load_checks_file(checks, lab, &err)) {
		print_error(&err);
		vl_lab_free(lab);
		return;
	}
	run_checks(lab, NULL, NULL, &r->t);
	r->status = "up";
	vl_lab_free(lab);
}

struct score_pipe {
	const char *checks;
	int fd;
};

/* In the child that entered a rootless lab: the row as lines "status n n n n n", then failing names. */
static int score_in(const char *name, void *arg)
{
	struct score_pipe *sp = arg;
	struct row r;

	score_one(name, sp->checks, &r);
	dprintf(sp->fd, "%s %d %d %d %d %d\n", r.status, r.t.passed, r.t.failed, r.t.errors, r.t.points,
		r.t.max_points);
	for (size_t i = 0; i < r.t.failing.n; i++)
		dprintf(sp->fd, "%s\n", r.t.failing.v[i]);
	vl_strv_free(&r.t.failing);
	return 0;
}

/* score_one, in a child of its own when the lab is rootless (a process enters one lab). */
static void score_lab(const char *name, const char *checks, struct row *r)
{
	struct score_pipe sp = {checks, -1};
	char status[16] = "", line[512];
	int pfd[2];
	FILE *f;

	if (!vl_rootless()) {
		score_one(name, checks, r);
		return;
	}
	memset(r, 0, sizeof(*r));
	r->lab = name;
	r->status = "error";
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return;
	sp.fd = pfd[1];
	in_lab(name, score_in, &sp);
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f) {
		close(pfd[0]);
		return;
	}
	if (fgets(line, sizeof(line), f) &&
	    sscanf(line, "%15s %d %d %d %d %d", status, &r->t.passed, &r->t.failed, &r->t.errors, &r->t.points,
		   &r->t.max_points) == 6) {
		r->status = !strcmp(status, "up") ? "up" : !strcmp(status, "down") ? "down" : "error";
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			vl_strv_push(&r->t.failing, line);
		}
	}
	fclose(f);
}

static void print_failing(FILE *f, const struct vl_strv *v, const char *sep)
{
	for (size_t i = 0; i < v->n; i++)
		fprintf(f, "%s%s", i ? sep : "", v->v[i]);
}

/* The failing checks as one field: a tsv line keeps their names (az's rule would print how many). */
static json_t *failing_field(const struct vl_strv *v)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	json_t *j;

	if (!f)
		return NULL;
	print_failing(f, v, ",");
	fclose(f);
	j = out_str(s);
	free(s);
	return j;
}

static void print_rows(const struct row *rows, size_t n, enum out_fmt fmt)
{
	if (fmt != OUT_TABLE) {
		json_t *doc = json_object(), *labs = json_array();

		for (size_t i = 0; i < n; i++) {
			const struct row *r = &rows[i];
			json_t *o = json_object();

			out_set(o, "lab", out_str(r->lab));
			out_set(o, "status", out_str(r->status));
			out_set(o, "points", out_int(r->t.points));
			out_set(o, "maxPoints", out_int(r->t.max_points));
			out_set(o, "passed", out_int(r->t.passed));
			out_set(o, "failed", out_int(r->t.failed));
			out_set(o, "total", out_int(r->t.passed + r->t.failed));
			out_set(o, "failing", fmt == OUT_TSV ? failing_field(&r->t.failing) : out_strv(&r->t.failing));
			out_add(labs, o);
		}
		out_set(doc, "labs", labs);
		out_emit(doc, fmt, "labs");
		json_decref(doc);
		return;
	}
	printf("%-14s %-7s %-9s %-8s %s\n", "LAB", "STATUS", "POINTS", "PASSED", "FAILING");
	for (size_t i = 0; i < n; i++) {
		const struct row *r = &rows[i];
		char pts[32], passed[32];

		snprintf(pts, sizeof(pts), "%d/%d", r->t.points, r->t.max_points);
		snprintf(passed, sizeof(passed), "%d/%d", r->t.passed, r->t.passed + r->t.failed);
		printf("%-14s %-7s %-9s %-8s ", r->lab, r->status, pts, passed);
		print_failing(stdout, &r->t.failing, ", ");
		printf("%s\n", r->t.failing.n ? "" : "-");
	}
}

int cmd_score(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"checks", required_argument, NULL, 'c'}, {"output", required_argument, NULL, 'o'},
	    {"watch", no_argument, NULL, 'w'},	      {"interval", required_argument, NULL, 'i'},
	    {"all", no_argument, NULL, 'a'},	      {0}};
	struct vl_strv labs = {0};
	const char *checks = NULL;
	enum out_fmt fmt = OUT_TABLE;
	bool watch = false, all = false, every_up = true;
	long interval = 5;
	struct row *rows;
	char *end;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			checks = optarg;
			break;
		case 'o':
			if (out_parse(optarg, &fmt))
				return usage("score");
			break;
		case 'w':
			watch = true;
			break;
		case 'i':
			interval = strtol(optarg, &end, 10);
			if (*end || interval < 1 || interval > 3600)
				return usage("score");
			break;
		case 'a':
			all = true;
			break;
		default:
			return usage("score");
		}
	}
	if (all == (optind < argc))
		return usage("score");
	if (need_root("score"))
		return EXIT_USAGE;
	if (checks && access(checks, R_OK)) {
		die_errno(checks, -errno);
		return 1;
	}
	if (all) {
		rc = vl_state_list_labs(&labs);
		if (rc) {
			die_errno("listing labs", rc);
			return 1;
		}
	}
	for (int i = optind; i < argc; i++) {
		if (!lab_arg_ok(argv[i])) {
			vl_strv_free(&labs);
			return 1;
		}
		vl_strv_push(&labs, argv[i]);
	}
	rows = calloc(labs.n ? labs.n : 1, sizeof(*rows));
	if (!rows) {
		vl_strv_free(&labs);
		return 1;
	}
	/* --watch refreshes on a terminal; elsewhere (a pipe, a test) it scores once. */
	watch = watch && isatty(STDOUT_FILENO);
	if (watch)
		catch_signals();
	do {
		every_up = true;
		for (size_t i = 0; i < labs.n && !stopped(); i++) {
			score_lab(labs.v[i], checks, &rows[i]);
			every_up &= !strcmp(rows[i].status, "up");
		}
		if (stopped())
			break;
		if (watch) {
			char when[32];
			time_t now = time(NULL);

			strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
			printf("\033[H\033[2J");
			printf("vnetlab score — %s, every %lds (Ctrl-C to stop)\n\n", when, interval);
		}
		print_rows(rows, labs.n, fmt);
		fflush(stdout);
		for (size_t i = 0; i < labs.n; i++)
			vl_strv_free(&rows[i].t.failing);
		for (long s = 0; watch && s < interval * 10 && !stopped(); s++)
			nanosleep(&(struct timespec){0, 100000000L}, NULL);
	} while (watch && !stopped());
	free(rows);
	vl_strv_free(&labs);
	return watch || every_up ? 0 : 1;
}
