// SPDX-License-Identifier: MIT
/*
 * A Service whose pods end a flow differently (spec 15.4, 16): kube-proxy picks web-a (node 0,
 * connects), web-b (node 1, isolated by a network policy) or web-c (node 1, no app: refuses) at
 * random, and the load balancer either node. explain names the mixed outcome; verify compares each
 * probe with the backend the kernel reached and never disagrees, run after run; probe names that
 * backend; a kernel that lets web-b through behind vnetlab's back is caught on that backend.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/backends_lab.h"
#include "common/helpers.h"

static const char topo[] = BACKENDS_LAB;

static void setup(void)
{
	th_lab_up("lbc", topo);
}

TestSuite(backends_lab, .init = setup, .fini = th_lab_down, .timeout = 240);

Test(backends_lab, verify_never_disagrees_run_after_run)
{
	int known = 0;

	for (int run = 0; run < 6; run++) {
		int st;
		char *out = th_run(&st, "%s verify %s -o json 2>&1", th_vnetlab(), th_lab.name);

		cr_expect_eq(th_json_int(out, "disagreements"), 0, "run %d: %s", run, out);
		cr_expect_eq(st, 0, "run %d: %s", run, out);
		/* the clusterIPs from 4 pods and 2 nodes, twice; the frontend from the Internet host; each
		 * node's NodePort of front from the other node and its 2 pods */
		cr_expect_eq(th_json_int(out, "serviceFlows"), 19, "%s", out);
		cr_expect_eq(th_json_int(out, "nodePortFlows"), 6, "%s", out);
		cr_expect_eq(th_json_int(out, "dependOnBackend"), 19, "%s", out);
		known += th_json_int(out, "backendKnown");
		free(out);
	}
	cr_expect_gt(known, 0, "conntrack named the pod of some flow in six runs");
}

Test(backends_lab, explain_names_the_mixed_outcome)
{
	int st;
	char *out = th_run(&st, "%s explain %s client web:80 2>&1", th_vnetlab(), th_lab.name), *js;

	cr_assert_eq(st, 0, "%s", out);
	cr_expect(
	    strstr(out,
		   "depends on the backend kube-proxy picks: pod web-a connects; pod web-b is denied by "
		   "network policy default/deny-b (ingress of pod web-b); pod web-c refuses (no app listens "
		   "on port 8080)"),
	    "%s", out);
	free(out);
	js = th_explain("surfer", "front", 80, "tcp");
	th_compact(js);
	cr_expect(strstr(js, "\"dependsOnBackend\":true"), "%s", js);
	cr_expect(strstr(js, "\"backendCount\":6"), "2 healthy nodes x 3 pods: %s", js);
	cr_expect(strstr(js, "{\"node\":\"k-node-1\",\"pod\":\"web-b\",\"port\":8080,\"result\":\"denied\""),
		  "%s", js);
	free(js);
}

Test(backends_lab, probe_names_the_pod_it_reached)
{
	bool seen_a = false, seen_b = false;

	for (int i = 0; i < 40 && !(seen_a && seen_b); i++) {
		char *out = th_probe("client", "web", 80, "tcp", 1500);
		char *res = th_json_get(out, "result"), *by = th_json_get(out, "answeredBy"),
		     *be = th_json_get(out, "backend");

		if (!strcmp(res, "connected")) {
			cr_expect_str_eq(be, "web-a", "%s", out);
			cr_expect_str_eq(by, "web-a", "%s", out);
			seen_a = true;
		} else if (!strcmp(res, "dropped")) {
			cr_expect_str_eq(be, "web-b", "%s", out);
			seen_b = true;
		} else {
			cr_expect_str_eq(res, "refused", "web-c has no app: %s", out);
		}
		free(res);
		free(by);
		free(be);
		free(out);
	}
	cr_expect(seen_a && seen_b, "40 probes reached web-a and web-b");
}

Test(backends_lab, a_kernel_that_lets_web_b_through_is_caught_on_that_backend)
{
	int st, bad = 0;
	bool caught = false;
	char *out = NULL;

	th_skip_rootless("changes a node's ruleset with nft"); /* the suite's lab goes first (th_skip) */
	/* web-b's policy chain emptied with nft rather than vnetlab: the kernel now lets web-b answer */
	free(th_run(&st, "ip netns exec vl-%s-k-node-1 nft flush chain ip vnetlab np-in/web-b 2>&1",
		    th_lab.name));
	cr_assert_eq(st, 0);
	/* each flow reaches web-b one time in three: within six runs some flow does, and is caught there */
	for (int run = 0; run < 6 && !caught; run++) {
		free(out);
		out = th_run(&st, "%s verify %s -o json 2>&1", th_vnetlab(), th_lab.name);
		bad += th_json_int(out, "disagreements");
		th_compact(out);
		caught = strstr(out, "\"kernel\":{\"result\":\"connected\"") &&
			 strstr(out, "\"reachedPod\":\"web-b\"");
		if (caught)
			cr_expect_eq(st, 1, "%s", out);
	}
	cr_expect_gt(bad, 0, "%s", out);
	cr_expect(caught, "a connection to web-b, which the evaluator denies, was reported: %s", out);
	free(out);
}
