// SPDX-License-Identifier: MIT
/* verify: every flow of a lab, the evaluator and the kernel side by side. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "vnetlab/ip.h"
#include "vnetlab/state.h"
#include "vnetlab/verify.h"

struct verify_args {
	const char *lab, *from, *to;
	struct vl_verify_opts opts;
	bool json;
};

static int parse_args(int argc, char **argv, struct verify_args *a)
{
	static const struct option longopts[] = {
	    {"from", required_argument, NULL, 'f'},	{"to", required_argument, NULL, 't'},
	    {"timeout", required_argument, NULL, 'T'},	{"deadline", required_argument, NULL, 'D'},
	    {"window", required_argument, NULL, 'W'},	{"output", required_argument, NULL, 'o'},
	    {0},
	};
	char *end;
	long v;
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			a->from = optarg;
			break;
		case 't':
			a->to = optarg;
			break;
		case 'T':
		case 'D':
		case 'W':
			v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > 3600000)
				return usage("verify");
			if (c == 'T')
				a->opts.timeout_ms = (int)v;
			else if (c == 'D')
				a->opts.deadline_ms = (int)v;
			else
				a->opts.window = (size_t)v;
			break;
		case 'o':
			if (parse_output(optarg, &a->json))
				return usage("verify");
			break;
		default:
			return usage("verify");
		}
	}
	if (argc - optind != 1)
		return usage("verify");
	a->lab = argv[optind];
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Where this run's source ports start: a different place each run, so no tuple of the last run is reused. */
static uint16_t port_base(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint16_t)(VL_VERIFY_PORT_LO +
			  ((unsigned long)ts.tv_nsec / 1000 + (unsigned long)ts.tv_sec * 7919u +
			   (unsigned long)getpid() * 104729u) % VL_VERIFY_PORT_SPAN);
}

static const char *target_name(const struct vl_lab *lab, const struct vl_verify_flow *f)
{
	return lab->eps[f->to].name;
}

static void print_mismatch_json(const struct vl_lab *lab, const struct vl_verify_flow *f, const char *sep)
{
	struct vl_verdict v;
	char ip[VL_IP_STRLEN];
	const char *slash = f->drop ? strchr(f->drop, '/') : NULL;

	if (vl_eval_path(lab, f->from, f->dst, f->proto, f->sport, f->dport, &v))
		v.why[0] = '\0';
	printf("%s{\"from\":", sep);
	json_str(stdout, lab->eps[f->from].name);
	printf(",\"to\":");
	json_str(stdout, target_name(lab, f));
	printf(",\"ip\":\"%s\",\"protocol\":\"%s\",\"port\":%u,\"sourcePort\":%u,\"explain\":{\"outcome\":\"%s\","
	       "\"access\":\"%s\",\"nsg\":",
	       vl_ip_fmt(f->dst, ip), proto_lc(f->proto), f->dport, f->sport, vl_outcome_name(f->outcome),
	       f->outcome == VL_OUT_DELIVERED || f->outcome == VL_OUT_NO_HOST ? "Allow" : "Deny");
	json_str(stdout, f->nsg != VL_NONE ? lab->nsgs[f->nsg].name : NULL);
	printf(",\"rule\":");
	json_str(stdout, f->rule ? f->rule->name : NULL);
	printf(",\"why\":");
	json_str(stdout, v.why[0] ? v.why : NULL);
	printf("},\"kernel\":{\"result\":");
	json_str(stdout, f->err ? NULL : vl_probe_status_name(f->status));
	printf(",\"nsg\":");
	if (slash) {
		char nsg[128];

		snprintf(nsg, sizeof(nsg), "%.*s", (int)(slash - f->drop), f->drop);
		json_str(stdout, nsg);
	} else {
		json_str(stdout, NULL);
	}
	printf(",\"rule\":");
	json_str(stdout, slash ? slash + 1 : NULL);
	printf(",\"error\":");
	json_str(stdout, f->err ? strerror(-f->err) : NULL);
	printf(",\"ms\":%.1f}}", f->ms);
}

static void print_mismatch(const struct vl_lab *lab, const struct vl_verify_flow *f)
{
	struct vl_verdict v;
	char ip[VL_IP_STRLEN];

	if (vl_eval_path(lab, f->from, f->dst, f->proto, f->sport, f->dport, &v))
		v.why[0] = '\0';
	printf("DISAGREE  %s -> %s (%s:%u/%s, source port %u)\n", lab->eps[f->from].name, target_name(lab, f),
	       vl_ip_fmt(f->dst, ip), f->dport, proto_lc(f->proto), f->sport);
	printf("    explain: %s", vl_outcome_name(f->outcome));
	if (f->rule && f->nsg != VL_NONE)
		printf(" (%s %s/%s)", vl_access_name(f->rule->access), lab->nsgs[f->nsg].name, f->rule->name);
	if (v.why[0])
		printf(": %s", v.why);
	printf("\n    kernel:  ");
	if (f->err)
		printf("not probed: %s\n", strerror(-f->err));
	else if (f->status == VL_PROBE_DROPPED)
		printf("dropped by %s after %.1f ms\n", f->drop ? f->drop : "?", f->ms);
	else
		printf("%s after %.1f ms\n", vl_probe_status_name(f->status), f->ms);
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a;
	struct vl_verify v = {0};
	struct vl_lab *lab;
	size_t results[VL_PROBE_UNREACHABLE + 1] = {0}, allowed = 0, disagree = 0, errors = 0;
	char dir[256];
	double t0 = now_s(), secs;
	int rc;

	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	if (need_root("verify"))
		return EXIT_USAGE;
	lab = load_lab_or_file(a.lab, NULL);
	if (!lab)
		return 1;
	if (!vl_state_exists(lab->name)) {
		fprintf(stderr, "vnetlab: lab '%s' is not up (see 'vnetlab ls')\n", lab->name);
		vl_lab_free(lab);
		return 1;
	}
	if (enter_lab(lab->name)) {
		vl_lab_free(lab);
		return 1;
	}
	rc = vl_verify_plan(lab, a.from, a.to, port_base(), &v);
	if (rc == -ENOENT) {
		fprintf(stderr, "vnetlab: lab '%s' has no endpoint '%s'\n", lab->name,
			a.from && vl_lab_find_endpoint(lab, a.from) == VL_NONE ? a.from : a.to);
		goto fail;
	}
	if (rc) {
		die_errno("verify", rc);
		goto fail;
	}
	vl_state_dir(dir, sizeof(dir), lab->name);
	rc = vl_verify_run(lab, dir, &v, &a.opts);
	if (rc) {
		die_errno("verify", rc);
		goto fail;
	}
	secs = now_s() - t0;
	if (!v.watched && v.n_flows)
		fprintf(stderr, "vnetlab: the lab's agent sends no drop records: NSG drops look like timeouts\n");
	for (size_t i = 0; i < v.n_flows; i++) {
		const struct vl_verify_flow *f = &v.flows[i];

		if (f->err)
			errors++;
		else
			results[f->status]++;
		allowed += vl_verify_allowed(f);
		disagree += !vl_verify_agrees(lab, f);
	}
	if (a.json) {
		const char *sep = "";

		printf("{\"lab\":");
		json_str(stdout, lab->name);
		printf(",\"flows\":%zu,\"allowed\":%zu,\"denied\":%zu,\"disagreements\":%zu,\"seconds\":%.3f,"
		       "\"results\":{",
		       v.n_flows, allowed, v.n_flows - allowed, disagree, secs);
		for (int s = 0; s <= VL_PROBE_UNREACHABLE; s++)
			printf("%s\"%s\":%zu", s ? "," : "", vl_probe_status_name((enum vl_probe_status)s), results[s]);
		printf(",\"error\":%zu},\"retried\":%zu,\"dropRecords\":%s,\"mismatches\":[", errors, v.retried,
		       v.watched ? "true" : "false");
		for (size_t i = 0; i < v.n_flows; i++)
			if (!vl_verify_agrees(lab, &v.flows[i])) {
				print_mismatch_json(lab, &v.flows[i], sep);
				sep = ",";
			}
		printf("]}\n");
	} else {
		for (size_t i = 0; i < v.n_flows; i++)
			if (!vl_verify_agrees(lab, &v.flows[i]))
				print_mismatch(lab, &v.flows[i]);
		printf("verify %s: %zu flows, %zu allowed, %zu denied, %zu disagreements in %.2f s\n", lab->name,
		       v.n_flows, allowed, v.n_flows - allowed, disagree, secs);
		printf("  kernel: %zu connected, %zu refused, %zu dropped, %zu unreachable, %zu timeout", results[0],
		       results[1], results[3], results[4], results[2]);
		if (errors)
			printf(", %zu not probed", errors);
		printf("\n");
	}
	rc = disagree ? 1 : 0;
	vl_verify_free(&v);
	vl_lab_free(lab);
	return rc;
fail:
	vl_verify_free(&v);
	vl_lab_free(lab);
	return 1;
}
