// SPDX-License-Identifier: MIT
/* check and run: checks as real probes, scenarios step by step. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
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
static void catch_signals(void)
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
		if (lab->eps[from].kind != VL_EP_POD)
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
		else if (v->hops[i].type == VL_HT_PEERING ||
		    v->hops[i].type == VL_HT_GATEWAY || v->hops[i].type == VL_HT_APPLIANCE ||
		    v->hops[i].type == VL_HT_LB || v->hops[i].type == VL_HT_KPROXY ||
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

int run_check(const struct vl_lab *lab, const struct vl_check *c, bool json, const char *sep, FILE *out,
	      bool *pass)
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
		fprintf(stderr, "vnetlab: check %s: unknown endpoint\n", name);
		return -EINVAL;
	}
	vl_state_dir(dir, sizeof(dir), lab->name);
	rc = vl_probe_run(lab, dir, from, dst, c->proto, (uint16_t)c->port, 2000, &r);
	if (rc) {
		fprintf(stderr, "vnetlab: check %s: probe: %s\n", name, strerror(-rc));
		return rc;
	}
	vl_eval_path(lab, from, dst, c->proto, r.sport, (uint16_t)c->port, &v);
	/* refused: the packet got there; dropped, timeout and unreachable: it did not */
	allowed = r.status == VL_PROBE_CONNECTED || r.status == VL_PROBE_REFUSED;
	ok = allowed == (c->expect == VL_EXPECT_ALLOW);
	if (!ok)
		n += (size_t)snprintf(why + n, sizeof(why) - n, "; expected %s",
				      c->expect == VL_EXPECT_ALLOW ? "allow" : "deny");
	if (r.status == VL_PROBE_DROPPED)
		snprintf(got_rule, sizeof(got_rule), "%s/%s", r.nsg, r.rule);
	else if (v.rule && (allowed || r.status == VL_PROBE_TIMEOUT || r.status == VL_PROBE_UNREACHABLE))
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
	if (json) {
		fprintf(out, "%s{\"name\":", sep);
		json_str(out, c->name);
		fprintf(out, ",\"from\":");
		json_str(out, c->from);
		fprintf(out, ",\"to\":");
		json_str(out, c->to);
		fprintf(out,
			",\"ip\":\"%s\",\"port\":%d,\"protocol\":\"%s\",\"expect\":\"%s\",\"result\":\"%s\","
			"\"seenSource\":",
			dst_s, c->port, proto_lc(c->proto), c->expect == VL_EXPECT_ALLOW ? "allow" : "deny",
			vl_probe_status_name(r.status));
		json_str(out, r.seen_source[0] ? r.seen_source : NULL);
		fprintf(out, ",\"answeredBy\":");
		json_str(out, r.answered_by[0] ? r.answered_by : NULL);
		fprintf(out, ",\"rule\":");
		json_str(out, got_rule[0] ? got_rule : NULL);
		fprintf(out, ",\"pass\":%s,\"detail\":", ok ? "true" : "false");
		json_str(out, why[0] ? why + 2 : NULL);
		fprintf(out, "}");
		return 0;
	}
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
	print_path(lab, &v, out);
	return 0;
}

static int run_checks(const struct vl_lab *lab, bool json, int *failed)
{
	int rc = 0, passed = 0;

	*failed = 0;
	if (json) {
		printf("{\"lab\":");
		json_str(stdout, lab->name);
		printf(",\"checks\":[");
	}
	for (size_t i = 0; i < lab->n_checks && !rc && !stop; i++) {
		bool pass;

		if (!lab->checks[i].name)
			continue; /* scenario-only inline checks */
		rc = run_check(lab, &lab->checks[i], json, passed + *failed ? "," : "", stdout, &pass);
		pass ? passed++ : (*failed)++;
	}
	if (json)
		printf("],\"passed\":%d,\"failed\":%d}\n", passed, *failed);
	else
		printf("%d passed, %d failed\n", passed, *failed);
	return rc;
}

static int up_from_file(const char *path, struct vl_lab **lab)
{
	struct vl_imports imports = {0};
	struct vl_error err = {0};
	char *content, *abs;
	size_t len;
	int rc, lock;

	rc = vl_state_read_file(path, VL_FILE_MAX, &content, &len);
	if (rc) {
		die_errno(path, rc);
		return rc;
	}
	rc = vl_load_buffer_imports(path, content, len, &imports, lab, &err);
	if (!rc) {
		abs = realpath(path, NULL);
		rc = vl_state_lock((*lab)->name, &lock, &err);
		if (!rc) {
			rc = vl_ops_up(*lab, abs ? abs : path, content, len, &imports, &err);
			vl_state_unlock((*lab)->name, lock);
		}
		free(abs);
	}
	if (rc) {
		print_error(&err);
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

int cmd_check(int argc, char **argv)
{
	struct vl_lab *lab = NULL;
	bool json = false, ours = false;
	char *name;
	int failed = 0, rc;

	if (argc == 4 && !strcmp(argv[2], "-o")) {
		if (parse_output(argv[3], &json))
			return usage("check");
	} else if (argc != 2) {
		return usage("check");
	}
	if (need_root("check"))
		return EXIT_USAGE;
	if (is_file(argv[1])) {
		struct vl_error err = {0};

		if (vl_load_file(argv[1], &lab, &err)) {
			print_error(&err);
			return 1;
		}
		if (!vl_state_exists(lab->name)) {
			/* Not up yet: build it for the checks and remove it afterwards. */
			name = argv[1];
			vl_lab_free(lab);
			catch_signals();
			if (up_from_file(name, &lab))
				return 1;
			ours = true;
		} else {
			char labname[VL_LAB_NAME_MAX + 1];

			snprintf(labname, sizeof(labname), "%s", lab->name);
			vl_lab_free(lab);
			lab = load_lab_or_file(labname, NULL);
		}
	} else {
		lab = load_lab_or_file(argv[1], NULL);
	}
	if (!lab)
		return 1;
	if (!lab->n_checks && !json)
		printf("lab %s has no checks\n", lab->name);
	rc = run_checks(lab, json, &failed);
	if (ours)
		down_quietly(lab->name);
	vl_lab_free(lab);
	return rc || failed || stop ? 1 : 0;
}

static void describe_edit(const struct vl_rule_edit *e)
{
	static const char *const verbs[] = {"set", "add", "delete"};

	printf(">> nsg rule %s %s/%s", verbs[e->kind], e->nsg, e->rule);
	for (size_t i = 0; i < e->keys.n; i++)
		printf(" %s=%s", e->keys.v[i], e->values.v[i]);
	printf("\n");
}

int cmd_run(int argc, char **argv)
{
	struct vl_lab *lab = NULL;
	int passed = 0, failed = 0, rc = 0;

	if (argc != 2)
		return usage("run");
	if (need_root("run"))
		return EXIT_USAGE;
	catch_signals(); /* before up: a signal right after it must still lead to down */
	if (up_from_file(argv[1], &lab))
		return 1;
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
			rc = run_check(now ? now : lab, &(now ? now : lab)->checks[s->check], false, "", stdout,
				       &pass);
			vl_lab_free(now);
			pass ? passed++ : failed++;
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
		}
		fflush(stdout);
	}
	if (stop)
		printf("\ninterrupted\n");
	down_quietly(lab->name);
	printf("\n== lab %s is down: %d checks passed, %d failed\n", lab->name, passed, failed);
	vl_lab_free(lab);
	return rc || failed || stop ? 1 : 0;
}
