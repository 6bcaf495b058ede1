// SPDX-License-Identifier: MIT
/* check and run: checks as real probes, scenarios step by step. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/ops.h"
#include "vnetlab/probe.h"
#include "vnetlab/state.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Ctrl-C, SIGTERM or SIGHUP end a run or check between steps; the lab it built is removed. */
bool stopped(void)
{
	return stop;
}

void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* expectSource: an IP, an endpoint name, or "node" (the node of `from`). */
static int expected_source(const struct vl_lab *lab, const struct vl_check *c, int from, uint32_t *ip)
{
	int ep;

	if (!strcmp(c->expect_source, "node")) {
		if (lab->eps[from].kind != VL_EP_POD || lab->eps[from].virtual_node)
			return -EINVAL;
		*ip = lab->eps[lab->eps[from].node].ip;
		return 0;
	}
	return resolve_target(lab, VL_NONE, c->expect_source, ip, &ep);
}

/* The evaluator's account of the flow under the result, like IP flow verify but hop by hop. */
static void print_path(const struct vl_lab *lab, const struct vl_verdict *v, FILE *out)
{
	char words[256];

	if (v->note[0])
		fprintf(out, "      %s\n", v->note);
	for (size_t i = 0; i < v->n_hops; i++) {
		const struct vl_hop *h = &v->hops[i];

		if (h->type == VL_HT_NSG)
			fprintf(out, "      %s %s (%s): %s by %s (priority %d)\n", vl_dir_name(h->dir),
				lab->nsgs[h->nsg].name, hop_where(lab, h, words, sizeof(words)),
				vl_access_name(h->access), h->rule ? h->rule->name : "?",
				h->rule ? h->rule->priority : 0);
		else if (v->hops[i].type == VL_HT_PEERING || v->hops[i].type == VL_HT_GATEWAY ||
			 v->hops[i].type == VL_HT_APPLIANCE || v->hops[i].type == VL_HT_LB ||
			 v->hops[i].type == VL_HT_KPROXY ||
			 (v->hops[i].type == VL_HT_NAT && v->hops[i].endpoint == VL_NONE)) {
			hop_words(lab, &v->hops[i], words, sizeof(words));
			fprintf(out, "      %s\n", words);
		}
	}
	if (v->why[0])
		fprintf(out, "      %s: %s\n", vl_outcome_name(v->outcome), v->why);
	if (!v->n_hops && !v->note[0])
		fprintf(out, "      no NSG on the path\n");
}

int run_check(const struct vl_lab *lab, const struct vl_check *c, struct json_t *into, FILE *out, bool *pass)
{
	struct vl_probe_result r = {0};
	struct vl_verdict v = {0};
	char dir[256], dst_s[VL_IP_STRLEN], want_s[VL_IP_STRLEN], why[512] = "", got_rule[200] = "";
	const char *name = c->name ? c->name : "(inline)";
	bool allowed, ok;
	uint32_t dst, want = 0;
	int from, to, rc;
	size_t n = 0;

	*pass = false;
	from = vl_lab_find_endpoint(lab, c->from);
	if (from == VL_NONE || resolve_target(lab, from, c->to, &dst, &to)) {
		if (out || into)
			fprintf(stderr, "vnetlab: check %s: lab %s has no endpoint '%s'\n", name, lab->name,
				from == VL_NONE ? c->from : c->to);
		return -EINVAL;
	}
	vl_state_dir(dir, sizeof(dir), lab->name);
	rc = vl_probe_run(lab, dir, from, dst, c->proto, (uint16_t)c->port, 2000, &r);
	if (rc) {
		if (out || into)
			fprintf(stderr, "vnetlab: check %s: probe: %s\n", name, strerror(-rc));
		return rc;
	}
	/* a flow to a Service: the verdict of the pod the kernel picked, when it is known */
	vl_eval_path_pick(lab, from, dst, c->proto, r.sport, (uint16_t)c->port, r.backend_node, r.backend_pod,
			  &v);
	/* refused: the packet got there; dropped, timeout and unreachable: it did not */
	allowed = r.status == VL_PROBE_CONNECTED || r.status == VL_PROBE_REFUSED;
	ok = allowed == (c->expect == VL_EXPECT_ALLOW);
	if (!ok)
		n += (size_t)snprintf(why + n, sizeof(why) - n, "; expected %s",
				      c->expect == VL_EXPECT_ALLOW ? "allow" : "deny");
	if (r.status == VL_PROBE_DROPPED && !strncmp(r.nsg, "np:", 3) && v.nsg == VL_NONE &&
	    v.policy != VL_NONE) {
		char ref[200];

		snprintf(got_rule, sizeof(got_rule), "network policy %s (%s of pod %s)",
			 policy_ref(lab, v.policy_cluster, v.policy, ref, sizeof(ref)),
			 strcmp(r.nsg, "np:in") ? "egress" : "ingress", r.rule);
	} else if (r.status == VL_PROBE_DROPPED) {
		snprintf(got_rule, sizeof(got_rule), "%s/%s", r.nsg, r.rule);
	} else if (v.rule && (allowed || r.status == VL_PROBE_TIMEOUT || r.status == VL_PROBE_UNREACHABLE))
		snprintf(got_rule, sizeof(got_rule), "%s/%s", lab->nsgs[v.nsg].name, v.rule->name);
	if (c->expect_source) {
		if (expected_source(lab, c, from, &want)) {
			n += (size_t)snprintf(why + n, sizeof(why) - n,
					      "; expectSource '%s' is not an address", c->expect_source);
			ok = false;
		} else if (strcmp(r.seen_source, vl_ip_fmt(want, want_s))) {
			n +=
			    (size_t)snprintf(why + n, sizeof(why) - n, "; expected source %s, the app saw %s",
					     want_s, r.seen_source[0] ? r.seen_source : "nothing");
			ok = false;
		}
	}
	if (c->expect_rule && strcmp(c->expect_rule, got_rule)) {
		n += (size_t)snprintf(why + n, sizeof(why) - n, "; expected rule %s, got %s", c->expect_rule,
				      got_rule[0] ? got_rule : "none");
		ok = false;
	}
	if ((v.access == VL_ALLOW) != allowed && r.status != VL_PROBE_TIMEOUT)
		n += (size_t)snprintf(why + n, sizeof(why) - n, "; note: the evaluator says %s",
				      vl_access_name(v.access));
	*pass = ok;
	vl_ip_fmt(dst, dst_s);
	if (into) {
		json_t *o = json_object();

		out_set(o, "name", out_str(c->name));
		out_set(o, "from", out_str(c->from));
		out_set(o, "to", out_str(c->to));
		out_set(o, "ip", out_str(dst_s));
		out_set(o, "port", out_int(c->port));
		out_set(o, "protocol", out_str(proto_lc(c->proto)));
		out_set(o, "expect", out_str(c->expect == VL_EXPECT_ALLOW ? "allow" : "deny"));
		out_set(o, "result", out_str(vl_probe_status_name(r.status)));
		out_set(o, "seenSource", out_str(r.seen_source[0] ? r.seen_source : NULL));
		out_set(o, "answeredBy", out_str(r.answered_by[0] ? r.answered_by : NULL));
		out_set(o, "rule", out_str(got_rule[0] ? got_rule : NULL));
		out_set(o, "pass", out_bool(ok));
		out_set(o, "passed", out_bool(ok));
		out_set(o, "points", out_int(ok ? c->points : 0));
		out_set(o, "maxPoints", out_int(c->points));
		out_set(o, "description", out_str(c->description));
		out_set(o, "hint", out_str(c->hint));
		out_set(o, "detail", out_str(why[0] ? why + 2 : NULL));
		out_add(into, o);
		return 0;
	}
	if (!out)
		return 0;
	{
		char sn[200], sf[200], st[200];

		/* a newline in a name would start a line of its own: a forged PASS */
		fprintf(out, "%s  %-24s %s -> %s:%d/%s: %s", ok ? "PASS" : "FAIL",
			cli_printable(name, sn, sizeof(sn)), cli_printable(c->from, sf, sizeof(sf)),
			cli_printable(c->to, st, sizeof(st)), c->port, proto_lc(c->proto),
			vl_probe_status_name(r.status));
	}
	if (r.status == VL_PROBE_DROPPED)
		fprintf(out, " by %s after %.1f ms", got_rule, r.ms);
	if (r.seen_source[0]) {
		uint32_t seen;
		int who = vl_ip_parse(r.seen_source, &seen) ? VL_NONE : vl_lab_find_endpoint_by_ip(lab, seen);

		fprintf(out, "; the app saw %s", r.seen_source);
		if (who != VL_NONE && who == lab->eps[from].node)
			fprintf(out, " (%s, the node of %s)", lab->eps[who].name, c->from);
		else if (who != VL_NONE)
			fprintf(out, " (%s)", lab->eps[who].name);
	}
	if (r.answered_by[0] && strcmp(r.answered_by, c->to))
		fprintf(out, "; %s answered", r.answered_by);
	if (got_rule[0] && r.status != VL_PROBE_DROPPED)
		fprintf(out, "; rule %s", got_rule);
	fprintf(out, "%s\n", why);
	if (c->description)
		fprintf(out, "      %s\n", c->description);
	print_path(lab, &v, out);
	if (!ok && c->hint)
		fprintf(out, "      hint: %s\n", c->hint);
	return 0;
}

void run_checks(const struct vl_lab *lab, struct json_t *into, FILE *out, struct check_tally *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < lab->n_checks && !stop; i++) {
		const struct vl_check *c = &lab->checks[i];
		bool pass = false;

		if (!c->name)
			continue; /* scenario-only inline checks */
		if (run_check(lab, c, into, out, &pass)) {
			t->errors++;
			if (out && !into)
				fprintf(out, "FAIL  %-24s could not run (see above)\n", c->name);
		}
		t->max_points += c->points;
		if (pass) {
			t->passed++;
			t->points += c->points;
		} else {
			t->failed++;
			vl_strv_push(&t->failing, c->name);
		}
		if (out)
			fflush(out);
	}
}

static void vl_ops_progress(size_t done, size_t total, void *arg)
{
	static struct timespec last;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done < total && (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 < 100)
		return;
	last = now;
	if (done < total)
		printf("\rbuilding lab %s: %zu/%zu namespaces", (const char *)arg, done, total);
	else
		printf("\r\033[K");
	fflush(stdout);
}

/* A progress line on a terminal for labs of this many namespaces and more. */
#define PROGRESS_MIN_NS 100

int load_topology(const char *path, const char *name, char **content, size_t *len, struct vl_imports *imports,
		  struct vl_lab **lab)
{
	struct vl_error err = {0};
	char safe[300];
	int rc;

	*lab = NULL;
	rc = vl_state_read_file(path, VL_FILE_MAX, content, len);
	if (rc) {
		fprintf(stderr, "vnetlab: %s: %s\n", cli_printable(path, safe, sizeof(safe)),
			rc == -EINVAL  ? "not a regular file"
			: rc == -EFBIG ? "file too large"
				       : strerror(-rc));
		return rc;
	}
	rc = vl_load_buffer_imports(path, *content, *len, imports, lab, &err);
	if (rc) {
		print_error(&err);
	} else if (name && (rc = vl_lab_set_name(*lab, name))) {
		fprintf(stderr, "vnetlab: invalid lab name '%s': 1-%d characters of a-z and 0-9\n",
			cli_printable(name, safe, sizeof(safe)), VL_LAB_NAME_MAX);
		vl_lab_free(*lab);
		*lab = NULL;
	}
	if (rc) {
		vl_imports_free(imports);
		free(*content);
		*content = NULL;
	}
	return rc;
}

int build_lab(const struct vl_lab *lab, const char *path, const char *content, size_t len,
	      const struct vl_imports *imports, bool keep_signals_blocked)
{
	struct vl_error err = {0};
	char *abs = realpath(path, NULL);
	sigset_t block, old;
	int rc, lock;

	if (enter_lab(lab->name)) {
		free(abs);
		return 1;
	}
	if (isatty(STDOUT_FILENO) && lab->n_eps >= PROGRESS_MIN_NS)
		vl_ops_on_progress(vl_ops_progress, lab->name);
	rc = vl_state_lock(lab->name, &lock, &err);
	if (rc) {
		print_error(&err);
	} else {
		/* blocked only now: waiting for the lock must stay interruptible (vl_ops_up rolls back
		 * on a signal until the lab is built) */
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGHUP);
		sigprocmask(SIG_BLOCK, &block, &old);
		rc = vl_ops_up(lab, abs ? abs : path, content, len, imports, &err);
		vl_state_unlock(lab->name, lock);
		if (!keep_signals_blocked)
			sigprocmask(SIG_SETMASK, &old, NULL);
		if (rc)
			print_error(&err);
	}
	vl_ops_on_progress(NULL, NULL);
	free(abs);
	return rc;
}

static int up_from_file(const char *path, const char *name, struct vl_lab **lab)
{
	struct vl_imports imports = {0};
	char *content;
	size_t len;
	int rc = load_topology(path, name, &content, &len, &imports, lab);

	if (rc)
		return rc;
	rc = build_lab(*lab, path, content, len, &imports, false);
	if (rc) {
		vl_lab_free(*lab);
		*lab = NULL;
	}
	vl_imports_free(&imports);
	free(content);
	return rc;
}

static void down_quietly(const char *name)
{
	struct vl_error err = {0};
	int lock;

	if (vl_state_lock(name, &lock, &err)) {
		print_error(&err);
		return;
	}
	if (vl_ops_down(name, &err))
		print_error(&err);
	vl_state_unlock(name, lock);
}

/*
 * A file whose lab is up: its checks run against that lab, as it runs now. Say so, and
 * say when the file no longer builds what runs (the file was edited after `up`) or the
 * lab has live edits; *diffs gets the differences.
 */
static struct vl_lab *file_against_running(const char *path, const char *name, struct vl_lab *file,
					   bool quiet, struct vl_strv *diffs)
{
	struct vl_error err = {0};
	struct vl_lab *built = NULL, *now = NULL;
	FILE *say = quiet ? stderr : stdout;
	size_t edits = 0;

	if (vl_state_load_lab_as_built(file->name, &built, &err) ||
	    vl_state_load_lab(file->name, &now, &err)) {
		print_error(&err);
		vl_lab_free(built);
		return NULL;
	}
	vl_state_count_edits(file->name, &edits);
	vl_lab_diff(built, file, diffs);
	fprintf(say, "lab %s is up: checking the checks of %s against it as it runs", file->name, path);
	if (edits)
		fprintf(say, " (%zu live edit%s; 'vnetlab reset %s' undoes them)", edits,
			edits == 1 ? "" : "s", file->name);
	fprintf(say, "\n");
	if (diffs->n) {
		fprintf(stderr, "warning: %s no longer matches the running lab %s:", path, file->name);
		for (size_t i = 0; i < diffs->n; i++)
			fprintf(stderr, "%s %s", i ? "," : "", diffs->v[i]);
		fprintf(stderr,
			" differ%s; to rebuild it from the file: vnetlab down %s && vnetlab up %s%s%s\n",
			diffs->n == 1 ? "s" : "", file->name, path, name ? " --name " : "", name ? name : "");
	}
	vl_lab_take_checks(now, file);
	vl_lab_free(built);
	return now;
}

static void print_summary(FILE *out, const struct check_tally *t)
{
	fprintf(out, "%d passed, %d failed; %d/%d points\n", t->passed, t->failed, t->points, t->max_points);
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {{"name", required_argument, NULL, 'n'},
						 {"checks", required_argument, NULL, 'c'},
						 {"output", required_argument, NULL, 'o'},
						 {0}};
	struct vl_strv diffs = {0};
	struct check_tally t = {0};
	struct vl_lab *lab = NULL;
	const char *name = NULL, *checks = NULL, *target;
	enum out_fmt fmt = OUT_TABLE;
	bool ours = false, file = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'c')
			checks = optarg;
		else if (c != 'o' || out_parse(optarg, &fmt))
			return usage("check");
	}
	if (optind != argc - 1)
		return usage("check");
	target = argv[optind];
	file = is_file(target);
	if (name && !file) {
		fprintf(stderr, "vnetlab: --name goes with a topology file ('%s' is not one)\n", target);
		return usage("check");
	}
	if (need_root("check"))
		return EXIT_USAGE;
	if (file) {
		struct vl_imports imports = {0};
		char *content;
		size_t len;

		if (load_topology(target, name, &content, &len, &imports, &lab))
			return 1;
		vl_imports_free(&imports);
		free(content);
		if (enter_lab(lab->name)) {
			vl_lab_free(lab);
			return 1;
		}
		if (!vl_state_exists(lab->name)) {
			/* Not up yet: build it for the checks and remove it afterwards. */
			char labname[VL_LAB_NAME_MAX + 1];

			snprintf(labname, sizeof(labname), "%s", lab->name);
			vl_lab_free(lab);
			catch_signals();
			if (up_from_file(target, labname, &lab))
				return 1;
			ours = true;
		} else {
			struct vl_lab *now = file_against_running(target, name, lab, fmt != OUT_TABLE, &diffs);

			vl_lab_free(lab);
			lab = now;
		}
	} else {
		lab = load_lab_or_file(target, NULL);
		if (lab && enter_lab(lab->name)) {
			vl_lab_free(lab);
			return 1;
		}
	}
	if (!lab)
		return 1;
	if (checks) {
		struct vl_error err = {0};

		if (vl_load_checks_file(checks, lab, &err)) {
			print_error(&err);
			if (ours)
				down_quietly(lab->name);
			vl_lab_free(lab);
			vl_strv_free(&diffs);
			return 1;
		}
	}
	if (!lab->n_checks && fmt == OUT_TABLE)
		printf("lab %s has no checks\n", lab->name);
	if (fmt != OUT_TABLE) {
		json_t *doc = json_object(), *list = json_array();

		out_set(doc, "lab", out_str(lab->name));
		out_set(doc, "checksFile", out_str(checks ? checks : file ? target : NULL));
		out_set(doc, "differences", out_strv(&diffs));
		run_checks(lab, list, NULL, &t);
		out_set(doc, "checks", list);
		out_set(doc, "passed", out_int(t.passed));
		out_set(doc, "failed", out_int(t.failed));
		out_set(doc, "total", out_int(t.passed + t.failed));
		out_set(doc, "points", out_int(t.points));
		out_set(doc, "maxPoints", out_int(t.max_points));
		if (out_emit(doc, fmt, "checks"))
			t.errors++;
		json_decref(doc);
	} else {
		run_checks(lab, NULL, stdout, &t);
		print_summary(stdout, &t);
	}
	if (ours)
		down_quietly(lab->name);
	vl_lab_free(lab);
	vl_strv_free(&diffs);
	vl_strv_free(&t.failing);
	return t.errors || t.failed || stop ? 1 : 0;
}

static void describe_edit(const struct vl_rule_edit *e)
{
	static const char *const verbs[] = {"set", "add", "delete"};

	printf(">> nsg rule %s %s/%s", verbs[e->kind], e->nsg, e->rule);
	for (size_t i = 0; i < e->keys.n; i++)
		printf(" %s=%s", e->keys.v[i], e->values.v[i]);
	printf("\n");
}

/* Waits for Enter on a terminal; elsewhere (a script, a test, CI) it is skipped. */
static void pause_step(const struct vl_step *s)
{
	char c;

	if (!isatty(STDIN_FILENO)) {
		if (s->text)
			printf("\n-- %s\n", s->text);
		return;
	}
	printf("\n.. %s [Enter] ", s->text ? s->text : "press Enter to go on");
	fflush(stdout);
	for (;;) {
		ssize_t n = read(STDIN_FILENO, &c, 1);

		if (n <= 0 && (n == 0 || errno != EINTR || stop))
			break;
		if (n == 1 && c == '\n')
			break;
	}
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {{"name", required_argument, NULL, 'n'},
						 {"checks", required_argument, NULL, 'c'},
						 {"keep", no_argument, NULL, 'k'},
						 {0}};
	struct vl_lab *lab = NULL;
	const char *name = NULL, *checks = NULL;
	int passed = 0, failed = 0, points = 0, max_points = 0, rc = 0, c;
	bool keep = false;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'c')
			checks = optarg;
		else if (c == 'k')
			keep = true;
		else
			return usage("run");
	}
	if (optind != argc - 1)
		return usage("run");
	if (need_root("run"))
		return EXIT_USAGE;
	catch_signals(); /* before up: a signal right after it must still lead to down */
	if (up_from_file(argv[optind], name, &lab))
		return 1;
	if (checks) {
		struct vl_error err = {0};

		if (vl_load_checks_file(checks, lab, &err)) {
			print_error(&err);
			down_quietly(lab->name);
			vl_lab_free(lab);
			return 1;
		}
	}
	printf("== lab %s is up (%zu endpoints); %zu steps\n", lab->name, lab->n_eps, lab->n_steps);
	fflush(stdout);
	for (size_t i = 0; i < lab->n_steps && !stop && !rc; i++) {
		const struct vl_step *s = &lab->steps[i];
		struct vl_error err = {0};
		bool pass;

		switch (s->kind) {
		case VL_STEP_SAY:
			printf("\n-- %s\n", s->text);
			break;
		case VL_STEP_CHECK: {
			/* the lab as it is now: another command may have edited it meanwhile */
			struct vl_lab *now = NULL;

			if (vl_state_load_lab(lab->name, &now, &err))
				now = NULL;
			rc = run_check(now ? now : lab, &(now ? now : lab)->checks[s->check], NULL, stdout,
				       &pass);
			vl_lab_free(now);
			pass ? passed++ : failed++;
			max_points += lab->checks[s->check].points;
			points += pass ? lab->checks[s->check].points : 0;
			break;
		}
		case VL_STEP_EDIT:
			describe_edit(&s->edit);
			rc = vl_ops_edit_live(lab->name, &s->edit, NULL, &err);
			if (rc)
				print_error(&err);
			break;
		case VL_STEP_WAIT: {
			struct timespec ts = {s->wait_ms / 1000, (long)(s->wait_ms % 1000) * 1000000L};

			while (nanosleep(&ts, &ts) && !stop)
				;
			break;
		}
		case VL_STEP_PAUSE:
			pause_step(s);
			break;
		}
		fflush(stdout);
	}
	if (stop)
		printf("\ninterrupted\n");
	if (keep && !stop) {
		printf("\n== lab %s is still up (--keep): %d checks passed, %d failed; %d/%d points\n",
		       lab->name, passed, failed, points, max_points);
		printf("   'vnetlab reset %s' undoes the scenario's edits, 'vnetlab down %s' removes it\n",
		       lab->name, lab->name);
	} else {
		down_quietly(lab->name);
		printf("\n== lab %s is down: %d checks passed, %d failed; %d/%d points\n", lab->name, passed,
		       failed, points, max_points);
	}
	vl_lab_free(lab);
	return rc || failed || stop ? 1 : 0;
}
