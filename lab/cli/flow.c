// SPDX-License-Identifier: MIT
/* probe and explain. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/probe.h"
#include "vnetlab/state.h"

struct flow_args {
	char *lab;
	char *from;
	char *to;
	int port;
	enum vl_proto proto;
	int timeout_ms;
	int sport;
	enum out_fmt fmt;
};

static int parse_flow_args(const char *verb, int argc, char **argv, struct flow_args *a)
{
	static const struct option longopts[] = {
	    {"proto", required_argument, NULL, 'p'},   {"protocol", required_argument, NULL, 'p'},
	    {"timeout", required_argument, NULL, 't'}, {"source-port", required_argument, NULL, 's'},
	    {"output", required_argument, NULL, 'o'},  {0},
	};
	char *end;
	long v;
	int c;

	memset(a, 0, sizeof(*a));
	a->proto = VL_PROTO_TCP;
	a->timeout_ms = 2000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_proto(optarg, &a->proto))
				return usage(verb);
			break;
		case 't':
			v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > 600000)
				return usage(verb);
			a->timeout_ms = (int)v;
			break;
		case 's':
			v = strtol(optarg, &end, 10);
			if (*end || v <= 0 || v > 65535)
				return usage(verb);
			a->sport = (int)v;
			break;
		case 'o':
			if (out_parse(optarg, &a->fmt))
				return usage(verb);
			break;
		default:
			return usage(verb);
		}
	}
	if (argc - optind != 3)
		return usage(verb);
	a->lab = argv[optind];
	a->from = argv[optind + 1];
	if (split_target(argv[optind + 2], &a->to, &a->port))
		return usage(verb);
	return 0;
}

/*
 * The lab and the two ends of a flow. A TCP/UDP flow needs a port: the
 * target app's first port when none is given. Prints what is wrong and
 * returns NULL on failure.
 */
static struct vl_lab *flow_open(struct flow_args *a, int *from, uint32_t *dst, int *to)
{
	struct vl_lab *lab = load_lab_or_file(a->lab, NULL);

	if (!lab)
		return NULL;
	*from = vl_lab_find_endpoint(lab, a->from);
	if (*from == VL_NONE) {
		uint32_t ip;

		/* As IP flow verify takes an address: the endpoint that holds it. */
		if (!vl_ip_parse(a->from, &ip))
			*from = vl_lab_find_endpoint_by_ip(lab, ip);
	}
	if (*from == VL_NONE) {
		fprintf(stderr, "vnetlab: lab '%s' has no endpoint '%s'\n", lab->name, a->from);
		goto fail;
	}
	if (resolve_target(lab, *from, a->to, dst, to)) {
		fprintf(stderr, "vnetlab: '%s' is neither an endpoint of lab '%s' nor an IPv4 address\n",
			a->to, lab->name);
		goto fail;
	}
	if (a->proto == VL_PROTO_ICMP || a->port)
		return lab;
	if (*to != VL_NONE && lab->eps[*to].n_ports) {
		a->port = lab->eps[*to].ports[0];
		return lab;
	}
	fprintf(stderr, "vnetlab: give a port (TO:PORT): '%s' runs no app with a port\n", a->to);
fail:
	vl_lab_free(lab);
	return NULL;
}

int cmd_probe(int argc, char **argv)
{
	struct vl_probe_result r = {0};
	struct vl_verdict v;
	char why[sizeof(v.why)] = "", policy[200] = "";
	struct flow_args a;
	char dir[256], ip[VL_IP_STRLEN];
	struct vl_lab *lab;
	uint32_t dst;
	int from, to, rc;

	rc = parse_flow_args("probe", argc, argv, &a);
	if (rc)
		return rc;
	if (need_root("probe"))
		return EXIT_USAGE;
	if (!lab_arg_ok(a.lab))
		return EXIT_USAGE;
	if (!vl_state_exists(a.lab)) {
		fprintf(stderr, "vnetlab: lab '%s' is not up (see 'vnetlab ls')\n", a.lab);
		return 1;
	}
	if (enter_lab(a.lab))
		return 1;
	lab = flow_open(&a, &from, &dst, &to);
	if (!lab)
		return 1;
	vl_state_dir(dir, sizeof(dir), a.lab);
	rc = vl_probe_run(lab, dir, from, dst, a.proto, (uint16_t)a.port, a.timeout_ms, &r);
	if (rc) {
		die_errno("probe", rc);
		rc = 1;
		goto out;
	}
	vl_ip_fmt(dst, ip);
	/* A node's policy chain dropped it ("np:<in|out>/<pod>"): the evaluator names the policy. */
	if (r.status == VL_PROBE_DROPPED && !strncmp(r.nsg, "np:", 3)) {
		if (!vl_eval_path_pick(lab, from, dst, a.proto, r.sport, (uint16_t)a.port, r.backend_node,
				       r.backend_pod, &v) &&
		    v.nsg == VL_NONE && v.policy != VL_NONE)
			policy_ref(lab, v.policy_cluster, v.policy, policy, sizeof(policy));
		else
			snprintf(policy, sizeof(policy), "(a policy of pod %.96s)", r.rule);
		snprintf(why, sizeof(why), "%s of pod %s", strcmp(r.nsg, "np:in") ? "egress" : "ingress", r.rule);
		r.nsg[0] = r.rule[0] = '\0';
	}
	/*
	 * The kernel said where it stopped (an ICMP unreachable, silence); the routes the plan
	 * installed say which one did it: name it from the same effective model.
	 */
	if ((r.status == VL_PROBE_UNREACHABLE || r.status == VL_PROBE_TIMEOUT) &&
	    !vl_eval_path_pick(lab, from, dst, a.proto, r.sport, (uint16_t)a.port, r.backend_node,
			       r.backend_pod, &v) &&
	    (v.outcome == VL_OUT_UNREACHABLE || v.outcome == VL_OUT_NO_HOST))
		snprintf(why, sizeof(why), "%s", v.why);
	rc = r.status == VL_PROBE_CONNECTED ? 0 : 1;
	if (a.fmt != OUT_TABLE) {
		json_t *o = json_object();

		out_set(o, "lab", out_str(a.lab));
		out_set(o, "from", out_str(a.from));
		out_set(o, "to", out_str(to != VL_NONE ? lab->eps[to].name : NULL));
		out_set(o, "ip", out_str(ip));
		out_set(o, "protocol", out_str(proto_lc(a.proto)));
		out_set(o, "port", out_int(a.port));
		out_set(o, "result", out_str(vl_probe_status_name(r.status)));
		out_set(o, "seenSource", out_str(r.seen_source[0] ? r.seen_source : NULL));
		out_set(o, "answeredBy", out_str(r.answered_by[0] ? r.answered_by : NULL));
		out_set(o, "backend",
			out_str(r.backend_pod != VL_NONE ? lab->eps[r.backend_pod].name : NULL));
		out_set(o, "backendNode",
			out_str(r.backend_node != VL_NONE ? lab->eps[r.backend_node].name : NULL));
		out_set(o, "nsg", out_str(r.nsg[0] ? r.nsg : NULL));
		out_set(o, "rule", out_str(r.rule[0] ? r.rule : NULL));
		out_set(o, "policy", out_str(policy[0] ? policy : NULL));
		out_set(o, "why", out_str(why[0] ? why : NULL));
		out_set(o, "sourcePort", out_int(r.sport));
		out_set(o, "ms", out_real((double)(long long)(r.ms * 10 + 0.5) / 10));
		if (out_emit(o, a.fmt, NULL))
			rc = 1;
		json_decref(o);
	} else {
		printf("%s -> %s", a.from, to != VL_NONE ? lab->eps[to].name : ip);
		if (a.proto == VL_PROTO_ICMP)
			printf(" (%s) icmp: ", ip);
		else
			printf(" (%s:%d/%s): ", ip, a.port, proto_lc(a.proto));
		printf("%s", vl_probe_status_name(r.status));
		if (r.status == VL_PROBE_DROPPED && policy[0])
			printf(" by network policy %s", policy);
		else if (r.status == VL_PROBE_DROPPED)
			printf(" by NSG %s, rule %s", r.nsg, r.rule);
		if (why[0])
			printf(" (%s)", why);
		printf(" after %.1f ms", r.ms);
		if (r.seen_source[0])
			printf("; the app saw the client as %s", r.seen_source);
		if (r.answered_by[0] && (to == VL_NONE || strcmp(r.answered_by, lab->eps[to].name)))
			printf("; %s answered", r.answered_by);
		if (r.backend_pod != VL_NONE)
			printf("; kube-proxy%s%s sent it to pod %s", r.backend_node != VL_NONE ? " on " : "",
			       r.backend_node != VL_NONE ? lab->eps[r.backend_node].name : "",
			       lab->eps[r.backend_pod].name);
		printf("\n");
	}
out:
	vl_lab_free(lab);
	return rc;
}

static const char *rule_ref(const struct vl_rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", r->is_default ? "defaultSecurityRules" : "securityRules", r->name);
	return buf;
}

/* The pod the hops of a verdict went to (kube-proxy's hop), NULL when they stop before it. */
static const char *shown_pod(const struct vl_lab *lab, const struct vl_verdict *v)
{
	for (size_t i = 0; i < v->n_hops; i++)
		if (v->hops[i].type == VL_HT_KPROXY && v->hops[i].pod != VL_NONE)
			return lab->eps[v->hops[i].pod].name;
	return NULL;
}

int cmd_explain(int argc, char **argv)
{
	struct vl_verdict v;
	struct flow_args a;
	char ip[VL_IP_STRLEN], s1[VL_IP_STRLEN], where[256], ref[160], mixed[1024];
	struct vl_lab *lab;
	uint32_t dst;
	int from, to, rc;

	rc = parse_flow_args("explain", argc, argv, &a);
	if (rc)
		return rc;
	lab = flow_open(&a, &from, &dst, &to);
	if (!lab)
		return 1;
	rc = 1;
	if (vl_eval_path(lab, from, dst, a.proto, (uint16_t)a.sport, (uint16_t)a.port, &v)) {
		fprintf(stderr, "vnetlab: cannot evaluate this flow\n");
		goto out;
	}
	vl_ip_fmt(dst, ip);
	if (a.fmt != OUT_TABLE) {
		json_t *o = json_object(), *hops = json_array();

		out_set(o, "access", out_str(vl_access_name(v.access)));
		out_set(o, "nsg", out_str(v.nsg != VL_NONE ? lab->nsgs[v.nsg].name : NULL));
		out_set(o, "rule", out_str(v.rule ? v.rule->name : NULL));
		out_set(o, "ruleName", out_str(v.rule ? rule_ref(v.rule, ref, sizeof(ref)) : NULL));
		out_set(o, "policy", out_str(policy_ref(lab, v.policy_cluster, v.policy, ref, sizeof(ref))));
		out_set(o, "from", out_str(a.from));
		out_set(o, "to", out_str(to != VL_NONE ? lab->eps[to].name : NULL));
		out_set(o, "ip", out_str(ip));
		out_set(o, "protocol", out_str(proto_lc(a.proto)));
		out_set(o, "port", out_int(a.port));
		out_set(o, "seenSource", out_str(vl_ip_fmt(v.seen_src, s1)));
		out_set(o, "note", out_str(v.note[0] ? v.note : NULL));
		out_set(o, "outcome", out_str(vl_outcome_name(v.outcome)));
		out_set(o, "why", out_str(v.why[0] ? v.why : NULL));
		for (size_t i = 0; i < v.n_hops; i++)
			out_add(hops, hop_tree(lab, &v.hops[i]));
		out_set(o, "hops", hops);
		if (v.n_backends) {
			out_set(o, "backends", backends_tree(lab, &v));
			out_set(o, "backendCount", out_int((long long)v.n_backends));
			out_set(o, "dependsOnBackend", out_bool(v.mixed));
			out_set(o, "backendSummary",
				out_str(backends_words(lab, &v, mixed, sizeof(mixed)) ? mixed : NULL));
		}
		rc = out_emit(o, a.fmt, NULL) ? 1 : 0;
		json_decref(o);
		goto out;
	}
	printf("flow %s (%s) -> %s", a.from, vl_ip_fmt(lab->eps[from].ip, s1),
	       to != VL_NONE ? lab->eps[to].name : ip);
	if (a.proto == VL_PROTO_ICMP)
		printf(" (%s) icmp\n", ip);
	else
		printf(" (%s:%d/%s)\n", ip, a.port, proto_lc(a.proto));
	if (v.note[0])
		printf("  %s\n", v.note);
	printf("  the destination sees the source as %s\n", vl_ip_fmt(v.seen_src, s1));
	for (size_t i = 0; i < v.n_hops; i++) {
		hop_words(lab, &v.hops[i], where, sizeof(where));
		printf("  %zu. %s\n", i + 1, where);
	}
	if (v.why[0])
		printf("  %s: %s\n", vl_outcome_name(v.outcome), v.why);
	if (backends_words(lab, &v, mixed, sizeof(mixed))) {
		printf("  %s\n", mixed);
		if (shown_pod(lab, &v))
			printf("  the hops above and the verdict below are those of pod %s\n",
			       shown_pod(lab, &v));
	}
	if (v.outcome == VL_OUT_UNREACHABLE)
		printf("verdict: %s (unreachable: %s)\n", vl_access_name(v.access), v.why);
	else if (v.outcome == VL_OUT_DENIED && v.nsg == VL_NONE && v.policy != VL_NONE)
		printf("verdict: %s (network policy %s)\n", vl_access_name(v.access),
		       policy_ref(lab, v.policy_cluster, v.policy, ref, sizeof(ref)));
	else if (v.rule)
		printf("verdict: %s (%s, %s)%s\n", vl_access_name(v.access), lab->nsgs[v.nsg].name,
		       rule_ref(v.rule, ref, sizeof(ref)), v.outcome == VL_OUT_NO_HOST ? "; then lost (see above)" : "");
	else if (v.policy != VL_NONE)
		printf("verdict: %s (network policy %s)%s\n", vl_access_name(v.access),
		       policy_ref(lab, v.policy_cluster, v.policy, ref, sizeof(ref)),
		       v.outcome == VL_OUT_NO_HOST ? "; then lost (see above)" : "");
	else
		printf("verdict: %s%s\n", vl_access_name(v.access), v.outcome == VL_OUT_NO_HOST ? "; then lost (see above)" : "");
	rc = 0;
out:
	vl_lab_free(lab);
	return rc;
}
