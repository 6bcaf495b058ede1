// SPDX-License-Identifier: MIT
/*
 * verify's NodePort flows on a real lab (spec 15.4, 16): from the VM, the other node and its pods to
 * each node's nodePort, kube-proxy on that node sends the flow to web-a (connects) or web-b (isolated
 * by a network policy; Cluster: masqueraded to the node) at random, or with Local (solo) to its own
 * pod. verify probes every one, compares it with the pod conntrack names and never disagrees; a drop
 * put into a node's table with nft, behind vnetlab's back, is a disagreement on that NodePort; explain
 * weighs the same backends.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"

#define WEB_NODE_PORT 30080

static const char topo[] =
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.68.0.0/16]\n"
    "    subnets: [{name: aks, addressPrefix: 10.68.1.0/24}, {name: vms, addressPrefix: 10.68.2.0/24}]\n"
    "aksClusters:\n"
    "  - name: k\n"
    "    subnet: aks\n"
    "    networkPlugin: kubenet\n"
    "    podCidr: 10.244.0.0/16\n"
    "    networkPolicy: calico\n"
    "    nodeCount: 2\n"
    "    pods:\n"
    "      - {name: web-a, labels: {app: web, side: a}, app: hello, ports: [8080], node: 0}\n"
    "      - {name: web-b, labels: {app: web, side: b}, app: hello, ports: [8080], node: 1}\n"
    "      - {name: solo, labels: {app: solo}, app: hello, ports: [8080], node: 1}\n"
    "    services:\n"
    "      - {name: websvc, type: NodePort, selector: {app: web},\n"
    "         ports: [{port: 80, targetPort: 8080, nodePort: 30080}]}\n"
    "      - {name: solosvc, type: NodePort, selector: {app: solo}, externalTrafficPolicy: Local,\n"
    "         ports: [{port: 80, targetPort: 8080, nodePort: 30081}]}\n"
    "    networkPolicies:\n"
    "      - apiVersion: networking.k8s.io/v1\n"
    "        kind: NetworkPolicy\n"
    "        metadata: {name: deny-b, namespace: default}\n"
    "        spec: {podSelector: {matchLabels: {side: b}}, policyTypes: [Ingress]}\n"
    "vms: [{name: vm, subnet: vms}]\n";

static void setup(void)
{
	th_lab_up("nbv", topo);
}

TestSuite(verify_nodeport, .init = setup, .fini = th_lab_down, .timeout = 240);

Test(verify_nodeport, every_node_port_flow_agrees_run_after_run)
{
	int known = 0;

	for (int run = 0; run < 4; run++) {
		int st;
		char *out = th_run(&st, "%s verify %s -o json 2>&1", th_vnetlab(), th_lab.name);

		cr_expect_eq(th_json_int(out, "disagreements"), 0, "run %d: %s", run, out);
		cr_expect_eq(st, 0, "run %d: %s", run, out);
		/* websvc: node 0's from the VM, node 1, web-b, solo; node 1's from the VM, node 0, web-a;
		 * solosvc (Local): node 1's from the VM, node 0, web-a; node 0 has no pod of it */
		cr_expect_eq(th_json_int(out, "nodePortFlows"), 10, "%s", out);
		cr_expect_eq(th_json_int(out, "notPlanned"), 4, "%s", out);
		/* websvc's 7 NodePort flows, and its clusterIP from web-a, solo and node 0 (web-b's own
		 * flow back to itself, and node 1's to its own pod, cross no policy): web-a or web-b */
		cr_expect_eq(th_json_int(out, "dependOnBackend"), 10, "%s", out);
		known += th_json_int(out, "backendKnown");
		free(out);
	}
	cr_expect_gt(known, 0, "conntrack named the pod of some flow in four runs");
}

Test(verify_nodeport, a_drop_behind_its_back_is_a_node_port_disagreement)
{
	int st;
	char *out;

	if (th_rootless())
		th_lab_down(); /* a skipped test's .fini does not run */
	th_skip_rootless("changes a node's ruleset with nft");
	/* a chain in node 0's own table, before kube-proxy's DNAT, dropping its nodePort of websvc (what
	 * comes in on eth0 to its address: not its pods' flows to node 1's) */
	free(th_run(
	    &st,
	    "ip netns exec vl-%s-k-node-0 nft add chain ip vnetlab nbdrop "
	    "'{ type filter hook prerouting priority -150; }' && "
	    "ip netns exec vl-%s-k-node-0 nft add rule ip vnetlab nbdrop iifname eth0 ip daddr 10.68.1.4 "
	    "tcp dport %d drop 2>&1",
	    th_lab.name, th_lab.name, WEB_NODE_PORT));
	cr_assert_eq(st, 0);
	out = th_run(&st, "%s verify %s -o json 2>&1", th_vnetlab(), th_lab.name);
	cr_expect_eq(st, 1, "%s", out);
	/* the VM, node 1, web-b and solo to node 0's nodePort time out where the evaluator lets them in */
	cr_expect_eq(th_json_int(out, "disagreements"), 4, "%s", out);
	th_compact(out);
	cr_expect(strstr(out, "\"to\":\"k-node-0\",\"ip\":\"10.68.1.4\",\"protocol\":\"tcp\",\"port\":30080"),
		  "%s", out);
	cr_expect(strstr(out, "\"kernel\":{\"result\":\"timeout\""), "%s", out);
	cr_expect(strstr(out, "\"service\":\"websvc\",\"nodePort\":true"), "%s", out);
	free(out);
	out = th_run(&st, "%s verify %s --from vm 2>&1", th_vnetlab(), th_lab.name);
	cr_expect_eq(st, 1, "%s", out);
	cr_expect(strstr(out, "DISAGREE  vm -> k-node-0, NodePort of websvc (10.68.1.4:30080/tcp"), "%s",
		  out);
	free(out);
	/* node 1's nodePort is untouched: restricted to it, verify agrees */
	out = th_run(&st, "%s verify %s --to k-node-1 -o json 2>&1", th_vnetlab(), th_lab.name);
	cr_expect_eq(st, 0, "%s", out);
	cr_expect_eq(th_json_int(out, "nodePortFlows"), 6, "%s", out);
	free(out);
	free(
	    th_run(&st, "ip netns exec vl-%s-k-node-0 nft delete chain ip vnetlab nbdrop 2>&1", th_lab.name));
	cr_assert_eq(st, 0);
	out = th_run(&st, "%s verify %s -o json 2>&1", th_vnetlab(), th_lab.name);
	cr_expect_eq(th_json_int(out, "disagreements"), 0, "the chain gone, the kernel agrees again: %s", out);
	free(out);
}

Test(verify_nodeport, explain_weighs_the_node_ports_backends)
{
	char *out, *js;
	int st;

	out = th_run(&st, "%s explain %s vm k-node-0:%d 2>&1", th_vnetlab(), th_lab.name, WEB_NODE_PORT);
	cr_assert_eq(st, 0, "%s", out);
	cr_expect(strstr(out, "kube-proxy on k-node-0: 10.68.1.4 -> pod web-a"), "%s", out);
	cr_expect(
	    strstr(out, "depends on the backend kube-proxy picks: pod web-a connects; pod web-b is denied by "
			"network policy default/deny-b (ingress of pod web-b)"),
	    "%s", out);
	free(out);
	js = th_explain("vm", "k-node-0", WEB_NODE_PORT, "tcp");
	th_compact(js);
	cr_expect(strstr(js, "\"backendCount\":2"), "Cluster: both pods through node 0: %s", js);
	cr_expect(strstr(js, "\"dependsOnBackend\":true"), "%s", js);
	cr_expect(strstr(js, "{\"node\":\"k-node-0\",\"pod\":\"web-b\",\"port\":8080,\"result\":\"denied\""),
		  "%s", js);
	free(js);
	/* solosvc is Local and its pod runs on node 1: node 0's kube-proxy drops the flow */
	out = th_run(&st, "%s explain %s vm k-node-0:30081 2>&1", th_vnetlab(), th_lab.name);
	cr_expect(strstr(out, "kube-proxy on k-node-0: service solosvc has no endpoint on this node"), "%s",
		  out);
	cr_expect(strstr(out, "nohost: kube-proxy on k-node-0 drops it"), "%s", out);
	free(out);
	js = th_explain("vm", "k-node-1", 30081, "tcp");
	th_compact(js);
	cr_expect(strstr(js, "\"backendCount\":1"), "Local: node 1's own pod only: %s", js);
	cr_expect(strstr(js, "\"dependsOnBackend\":false"), "%s", js);
	free(js);
}
