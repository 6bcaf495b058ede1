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
#include "out.h"
#include "vnetlab/ip.h"
#include "vnetlab/state.h"
#include "vnetlab/verify.h"

struct verify_args {
	const char *lab, *from, *to;
	struct vl_verify_opts opts;
	enum out_fmt fmt;
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
			if (out_parse(optarg, &a->fmt))
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
	if (f->to == VL_NONE)
		return lab->aks[f->svc_cluster].services[f->svc].name;
	return lab->eps[f->to].name;
}

/* A flow to a node's NodePort (to: the node, svc: the Service)? */
static bool node_port(const struct vl_verify_flow *f)
{
	return f->to != VL_NONE && f->svc_cluster != VL_NONE;
}

/* A flow to a Service: which pod the kernel reached, and every backend's verdict. */
static void backends_into(const struct vl_lab *lab, const struct vl_verify *v, const struct vl_verify_flow *f,
			  json_t *o)
{
	json_t *a = json_array();

	out_set(o, "service", out_str(lab->aks[f->svc_cluster].services[f->svc].name));
	out_set(o, "nodePort", out_bool(node_port(f)));
	out_set(o, "reachedPod", out_str(f->reached_pod != VL_NONE ? lab->eps[f->reached_pod].name : NULL));
	out_set(o, "reachedNode",
		out_str(f->reached_node != VL_NONE ? lab->eps[f->reached_node].name : NULL));
	out_set(o, "dependsOnBackend", out_bool(f->mixed));
	for (size_t i = 0; i < f->n_backends; i++) {
		const struct vl_backend_verdict *b = &v->backends[f->backend0 + i];
		json_t *e = json_object();

		out_set(e, "node", out_str(lab->eps[b->node].name));
		out_set(e, "pod", out_str(b->pod != VL_NONE ? lab->eps[b->pod].name : NULL));
		out_set(e, "result", out_str(backend_result_name(b)));
		out_set(e, "nsg", out_str(b->nsg != VL_NONE ? lab->nsgs[b->nsg].name : NULL));
		out_set(e, "rule", out_str(b->rule ? b->rule->name : NULL));
		out_add(a, e);
	}
	out_set(o, "backends", a);
}

/* A rounded real: how many ms, as the table prints them. */
static json_t *ms(double v, int digits)
{
	double f = digits == 3 ? 1000 : 10;

	return out_real((double)(long long)(v * f + 0.5) / f);
}

static json_t *mismatch_tree(const struct vl_lab *lab, const struct vl_verify *vv,
			     const struct vl_verify_flow *f)
{
	struct vl_verdict v;
	char ip[VL_IP_STRLEN], nsg[128] = "";
	const char *slash = f->drop ? strchr(f->drop, '/') : NULL;
	json_t *o = json_object(), *ex = json_object(), *k = json_object();

	if (vl_eval_path(lab, f->from, f->dst, f->proto, f->sport, f->dport, &v))
		v.why[0] = '\0';
	out_set(o, "from", out_str(lab->eps[f->from].name));
	out_set(o, "to", out_str(target_name(lab, f)));
	out_set(o, "ip", out_str(vl_ip_fmt(f->dst, ip)));
	out_set(o, "protocol", out_str(proto_lc(f->proto)));
	out_set(o, "port", out_int(f->dport));
	out_set(o, "sourcePort", out_int(f->sport));
	out_set(ex, "outcome", out_str(vl_outcome_name(f->outcome)));
	out_set(ex, "access",
		out_str(f->outcome == VL_OUT_DELIVERED || f->outcome == VL_OUT_NO_HOST ? "Allow" : "Deny"));
	out_set(ex, "nsg", out_str(f->nsg != VL_NONE ? lab->nsgs[f->nsg].name : NULL));
	out_set(ex, "rule", out_str(f->rule ? f->rule->name : NULL));
	out_set(ex, "why", out_str(v.why[0] ? v.why : NULL));
	out_set(o, "explain", ex);
	if (slash)
		snprintf(nsg, sizeof(nsg), "%.*s", (int)(slash - f->drop), f->drop);
	out_set(k, "result", out_str(f->err ? NULL : vl_probe_status_name(f->status)));
	out_set(k, "nsg", out_str(slash ? nsg : NULL));
	out_set(k, "rule", out_str(slash ? slash + 1 : NULL));
	out_set(k, "error", out_str(f->err ? strerror(-f->err) : NULL));
	out_set(k, "ms", ms(f->ms, 1));
	out_set(o, "kernel", k);
	if (f->n_backends)
		backends_into(lab, vv, f, o);
	return o;
}

static void print_mismatch(const struct vl_lab *lab, const struct vl_verify *vv,
			   const struct vl_verify_flow *f)
{
	struct vl_verdict v;
	char ip[VL_IP_STRLEN];

	if (vl_eval_path(lab, f->from, f->dst, f->proto, f->sport, f->dport, &v))
		v.why[0] = '\0';
	printf("DISAGREE  %s -> %s%s%s (%s:%u/%s, source port %u)\n", lab->eps[f->from].name,
	       target_name(lab, f), node_port(f) ? ", NodePort of " : "",
	       node_port(f) ? lab->aks[f->svc_cluster].services[f->svc].name : "", vl_ip_fmt(f->dst, ip),
	       f->dport, proto_lc(f->proto), f->sport);
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
	if (!f->n_backends)
		return;
	printf("    backend: %s%s%s\n",
	       f->reached_pod != VL_NONE ? lab->eps[f->reached_pod].name : "not known",
	       f->reached_node != VL_NONE ? " via " : "",
	       f->reached_node != VL_NONE ? lab->eps[f->reached_node].name : "");
	for (size_t i = 0; i < f->n_backends; i++) {
		const struct vl_backend_verdict *b = &vv->backends[f->backend0 + i];

		printf("      %s via %s: %s", b->pod != VL_NONE ? lab->eps[b->pod].name : "no pod",
		       lab->eps[b->node].name, backend_result_name(b));
		if (b->outcome == VL_OUT_DENIED && b->rule && b->nsg != VL_NONE)
			printf(" (%s/%s)", lab->nsgs[b->nsg].name, b->rule->name);
		else if (b->outcome == VL_OUT_DENIED && b->np_pod != VL_NONE)
			printf(" (network policy, %s of pod %s)",
			       b->np_dir == VL_DIR_IN ? "ingress" : "egress", lab->eps[b->np_pod].name);
		printf("\n");
	}
}

int cmd_verify(int argc, char **argv)
{
	struct verify_args a;
	struct vl_verify v = {0};
	struct vl_lab *lab;
	size_t results[VL_PROBE_UNREACHABLE + 1] = {0}, allowed = 0, disagree = 0, errors = 0, svc = 0,
					      mixed = 0, reached = 0, nodeport = 0;
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
		svc += f->n_backends > 0;
		nodeport += node_port(f);
		mixed += f->mixed;
		reached += f->n_backends && f->reached_pod != VL_NONE;
		disagree += !vl_verify_agrees(lab, &v, f);
	}
	rc = disagree ? 1 : 0;
	if (a.fmt != OUT_TABLE) {
		json_t *doc = json_object(), *res = json_object(), *mis = json_array();

		out_set(doc, "lab", out_str(lab->name));
		out_set(doc, "flows", out_int((long long)v.n_flows));
		out_set(doc, "allowed", out_int((long long)allowed));
		out_set(doc, "denied", out_int((long long)(v.n_flows - allowed)));
		out_set(doc, "disagreements", out_int((long long)disagree));
		out_set(doc, "seconds", ms(secs, 3));
		for (int s = 0; s <= VL_PROBE_UNREACHABLE; s++)
			out_set(res, vl_probe_status_name((enum vl_probe_status)s), out_int((long long)results[s]));
		out_set(res, "error", out_int((long long)errors));
		out_set(doc, "results", res);
		out_set(doc, "retried", out_int((long long)v.retried));
		out_set(doc, "dropRecords", out_bool(v.watched));
		out_set(doc, "serviceFlows", out_int((long long)svc));
		out_set(doc, "nodePortFlows", out_int((long long)nodeport));
		out_set(doc, "notPlanned", out_int((long long)v.not_planned));
		out_set(doc, "dependOnBackend", out_int((long long)mixed));
		out_set(doc, "backendKnown", out_int((long long)reached));
		for (size_t i = 0; i < v.n_flows; i++)
			if (!vl_verify_agrees(lab, &v, &v.flows[i]))
				out_add(mis, mismatch_tree(lab, &v, &v.flows[i]));
		out_set(doc, "mismatches", mis);
		if (out_emit(doc, a.fmt, NULL))
			rc = 1;
		json_decref(doc);
	} else {
		for (size_t i = 0; i < v.n_flows; i++)
			if (!vl_verify_agrees(lab, &v, &v.flows[i]))
				print_mismatch(lab, &v, &v.flows[i]);
		printf("verify %s: %zu flows, %zu allowed, %zu denied, %zu disagreements in %.2f s\n", lab->name,
		       v.n_flows, allowed, v.n_flows - allowed, disagree, secs);
		printf("  kernel: %zu connected, %zu refused, %zu dropped, %zu unreachable, %zu timeout", results[0],
		       results[1], results[3], results[4], results[2]);
		if (errors)
			printf(", %zu not probed", errors);
		printf("\n");
		if (svc)
			printf(
			    "  %zu flows to Services (%zu to NodePorts), %zu with an outcome that depends on "
			    "the backend; the pod the kernel reached known for %zu\n",
			    svc, nodeport, mixed, reached);
		if (v.not_planned)
			printf("  %zu NodePort flows not probed: to a node without a pod of a Local Service "
			       "(kube-proxy drops them, this lab's node refuses them)\n",
			       v.not_planned);
	}
	vl_verify_free(&v);
	vl_lab_free(lab);
	return rc;
fail:
	vl_verify_free(&v);
	vl_lab_free(lab);
	return 1;
}
