// SPDX-License-Identifier: MIT
/* AKS in real namespaces: kubenet masquerade, Azure CNI pod addresses, pod-to-pod paths, the demo. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"

static const char *const topo = "vnets:\n"
				"  - name: v\n"
				"    addressSpace: [10.62.0.0/16]\n"
				"    subnets:\n"
				"      - {name: kube, addressPrefix: 10.62.1.0/24}\n"
				"      - {name: cni, addressPrefix: 10.62.2.0/24}\n"
				"      - name: aci\n"
				"        addressPrefix: 10.62.3.0/24\n"
				"        delegation: Microsoft.ContainerInstance/containerGroups\n"
				"aksClusters:\n"
				"  - name: kn\n"
				"    subnet: kube\n"
				"    networkPlugin: kubenet\n"
				"    nodeCount: 2\n"
				"    pods:\n"
				"      - {name: a, node: 0, app: hello, ports: [8080]}\n"
				"      - {name: b, node: 0, app: hello, ports: [8080]}\n"
				"      - {name: c, node: 1, app: hello, ports: [8080]}\n"
				"  - name: az\n"
				"    subnet: cni\n"
				"    networkPlugin: azure\n"
				"    nodeCount: 2\n"
				"    pods:\n"
				"      - {name: d, node: 1, app: echo, ports: [7]}\n"
				"containerGroups:\n"
				"  - {name: cg, subnet: aci, app: hello, ports: [80]}\n";

static void setup(void)
{
	th_lab_up("ta", topo);
}

TestSuite(aks, .init = setup, .fini = th_lab_down, .timeout = 60);

/* Probe FROM → TO:PORT and return what the target's app saw (asserting it connected). */
static char *seen(const char *from, const char *to)
{
	char *out, *res, *src;
	int st;

	out = th_run(&st, "%s probe %s %s %s -o json 2>&1", th_vnetlab(), th_lab.name, from, to);
	res = th_json_get(out, "result");
	cr_assert_str_eq(res, "connected", "%s -> %s: %s", from, to, out);
	src = th_json_get(out, "seenSource");
	free(res);
	free(out);
	return src;
}

static char *ip_of(const char *ep)
{
	char *out, *p, *ip;

	out = th_compact(th_run(NULL, "%s show %s -o json", th_vnetlab(), th_lab.name));
	p = strstr(out, ep);
	cr_assert_not_null(p);
	p = strstr(p, "\"ip\":\"");
	cr_assert_not_null(p);
	ip = strndup(p + 6, strcspn(p + 6, "\""));
	free(out);
	return ip;
}

Test(aks, kubenet_pod_to_vnet_carries_the_node_address)
{
	char *s = seen("c", "cg:80"), *node = ip_of("kn-node-1");

	cr_assert_str_eq(s, node, "kubenet masquerades to the node: saw %s, node is %s", s, node);
	cr_assert_str_eq(node, "10.62.1.5");
	free(s);
	free(node);
}

Test(aks, kubenet_pod_to_pod_on_another_node_keeps_the_pod_address)
{
	char *s = seen("a", "c:8080");

	cr_assert_str_eq(s, "10.244.0.2", "no NAT between pods: %s", s);
	free(s);
}

Test(aks, kubenet_pod_reaches_its_neighbour_through_cbr0)
{
	char *s = seen("b", "a:8080"), *out;

	cr_assert_str_eq(s, "10.244.0.3");
	free(s);
	/* witness: both pods hang off cbr0 on the node */
	out = th_run(NULL, "ip netns exec vl-%s-kn-node-0 ip -o link show master cbr0 2>/dev/null | wc -l",
		     th_lab.name);
	cr_assert_str_eq(out, "2\n", "ports on cbr0: %s", out);
	free(out);
}

/* Pods are made without IPv6 by their link (no /proc/sys write in 1,000 namespaces), and every veth
 * with one queue each way (the kernel's cut from one per CPU waited for an RCU grace period). */
Test(aks, pods_have_no_ipv6_and_veths_one_queue)
{
	static const char *const pods[] = {"a", "d"}; /* kubenet on cbr0; Azure CNI routed */
	char *out;

	for (size_t i = 0; i < sizeof(pods) / sizeof(pods[0]); i++) {
		out = th_run(NULL, "ip -n vl-%s-%s -6 -o addr show dev eth0 2>&1 | wc -l", th_lab.name,
			     pods[i]);
		cr_expect_str_eq(out, "0\n", "pod %s has IPv6 addresses on eth0", pods[i]);
		free(out);
		out = th_run(NULL, "ip -n vl-%s-%s -d link show dev eth0 2>&1", th_lab.name, pods[i]);
		cr_expect(strstr(out, "addrgenmode none"), "pod %s: %s", pods[i], out);
		cr_expect(strstr(out, "numtxqueues 1 numrxqueues 1 "), "pod %s: %s", pods[i], out);
		free(out);
	}
	/* the node ends and the fabric's NIC ends alike */
	out = th_run(
	    NULL,
	    "ip -n vl-%s-fabric.v -d -o link show type veth 2>&1 | grep -vc 'numtxqueues 1 numrxqueues 1 '",
	    th_lab.name);
	cr_expect_str_eq(out, "0\n", "fabric veths with more than one queue: %s", out);
	free(out);
}

Test(aks, azure_cni_pod_keeps_its_address_in_the_vnet)
{
	char *s = seen("d", "cg:80"), *pod = ip_of("\"d\"");

	cr_assert_str_eq(s, pod, "Azure CNI: the VNet sees the pod IP (%s), got %s", pod, s);
	free(s);
	free(pod);
	s = seen("cg", "d:7");
	cr_assert_str_eq(s, "10.62.3.4", "the pod is reachable on its own address: %s", s);
	free(s);
}

Test(aks, explain_agrees_with_the_kernel_on_the_source)
{
	char *out = th_run(NULL, "%s explain %s c cg:80 -o json", th_vnetlab(), th_lab.name), *v;

	v = th_json_get(out, "seenSource");
	cr_assert_str_eq(v, "10.62.1.5", "%s", out);
	free(v);
	free(out);
}

/*
 * A kubenet pod's flow to a Service that kube-proxy sends back to that same pod (hairpin): the
 * bridge must let the frame out by the port it came in (hairpin mode on the pod's port of cbr0,
 * as kubenet's bridge plugin sets it), and kube-proxy masquerades it to cbr0's address, as
 * explain says. Without hairpin mode the flow timed out while explain said it connected.
 */
TestSuite(hairpin, .fini = th_lab_down, .timeout = 60);

Test(hairpin, kubenet_pod_reaches_itself_through_its_service)
{
	char *out, *res, *seen, target[64];
	int st;

	th_lab_up("th", "vnets: [{name: v, addressSpace: [10.63.0.0/16], subnets: [{name: kube, addressPrefix: "
			"10.63.1.0/24}]}]\n"
			"aksClusters:\n"
			"  - name: kn\n"
			"    subnet: kube\n"
			"    networkPlugin: kubenet\n"
			"    nodeCount: 1\n"
			"    pods:\n"
			"      - {name: a, node: 0, app: hello, ports: [8080], labels: {app: solo}}\n"
			"      - {name: b, node: 0, app: hello, ports: [8080], labels: {app: other}}\n"
			"    services:\n"
			"      - {name: solo, selector: {app: solo}, port: 80, targetPort: 8080}\n");
	snprintf(target, sizeof(target), "solo:80"); /* the Service by name: its clusterIP */
	out = th_run(&st, "%s probe %s a %s -o json 2>&1", th_vnetlab(), th_lab.name, target);
	res = th_json_get(out, "result");
	seen = th_json_get(out, "seenSource");
	cr_expect_str_eq(res, "connected", "a -> its own Service: %s", out);
	cr_expect_str_eq(seen, "10.244.0.1", "masqueraded to cbr0: %s", out);
	free(res);
	free(seen);
	free(out);
	out = th_run(&st, "%s explain %s a %s 2>&1", th_vnetlab(), th_lab.name, target);
	cr_expect(strstr(out, "the destination sees the source as 10.244.0.1"), "%s", out);
	free(out);
	out = th_run(&st, "ip netns exec vl-%s-kn-node-0 bridge -d link show 2>&1", th_lab.name);
	cr_expect(strstr(out, "hairpin on"), "%s", out);
	cr_expect(!strstr(out, "hairpin off"), "%s", out);
	free(out);
}

/*
 * A VM to a node's NodePort: kube-proxy on that node DNATs it to the Service's pod on the other
 * node and masquerades it to itself (externalTrafficPolicy Cluster); a pod a policy isolates is
 * denied. probe and explain say the same.
 */
TestSuite(nodeport, .fini = th_lab_down, .timeout = 60);

static int node_port_of(const char *svc)
{
	char *out = th_run(NULL, "%s show %s | sed -n 's/.*service %s: .*(nodePort \\([0-9]*\\)).*/\\1/p'",
			   th_vnetlab(), th_lab.name, svc);
	int port = atoi(out);

	free(out);
	cr_assert_geq(port, 30000, "no nodePort for %s", svc);
	return port;
}

Test(nodeport, a_vm_reaches_a_pod_through_a_node_port)
{
	char *out, *res, *seen, *node0;
	int st, web, iso;

	th_lab_up("tn", "vnets: [{name: v, addressSpace: [10.66.0.0/16], subnets: [{name: aks, addressPrefix: "
			"10.66.1.0/24}, {name: vms, addressPrefix: 10.66.2.0/24}]}]\n"
			"aksClusters:\n"
			"  - name: k\n"
			"    subnet: aks\n"
			"    networkPlugin: azure\n"
			"    networkPolicy: azure\n"
			"    nodeCount: 2\n"
			"    pods:\n"
			"      - {name: web, labels: {app: web}, app: hello, ports: [8080], node: 1}\n"
			"      - {name: iso, labels: {app: iso}, app: hello, ports: [8080], node: 1}\n"
			"    services:\n"
			"      - {name: websvc, type: NodePort, selector: {app: web}, port: 80, targetPort: 8080}\n"
			"      - {name: isosvc, type: NodePort, selector: {app: iso}, port: 80, targetPort: 8080}\n"
			"    networkPolicies:\n"
			"      - apiVersion: networking.k8s.io/v1\n"
			"        kind: NetworkPolicy\n"
			"        metadata: {name: deny-iso, namespace: default}\n"
			"        spec: {podSelector: {matchLabels: {app: iso}}, policyTypes: [Ingress]}\n"
			"vms: [{name: vm, subnet: vms}]\n");
	web = node_port_of("websvc");
	iso = node_port_of("isosvc");
	node0 = strdup("10.66.1.4"); /* the first node: the subnet's first host address */
	out = th_run(&st, "%s probe %s vm k-node-0:%d -o json 2>&1", th_vnetlab(), th_lab.name, web);
	res = th_json_get(out, "result");
	seen = th_json_get(out, "seenSource");
	cr_expect_str_eq(res, "connected", "%s", out);
	cr_expect_str_eq(seen, node0, "masqueraded to the node it came in by: %s", out);
	free(res);
	free(seen);
	free(out);
	out = th_run(&st, "%s explain %s vm k-node-0:%d 2>&1", th_vnetlab(), th_lab.name, web);
	cr_expect(strstr(out, "kube-proxy on k-node-0"), "%s", out);
	cr_expect(strstr(out, "the destination sees the source as 10.66.1.4"), "%s", out);
	free(out);
	out = th_run(&st, "%s probe %s vm k-node-0:%d -o json --timeout 1000 2>&1", th_vnetlab(), th_lab.name, iso);
	res = th_json_get(out, "result");
	cr_expect_str_neq(res, "connected", "the policy isolates iso: %s", out);
	free(res);
	free(out);
	out = th_run(&st, "%s explain %s vm k-node-0:%d 2>&1", th_vnetlab(), th_lab.name, iso);
	cr_expect(strstr(out, "deny-iso"), "%s", out);
	free(out);
	free(node0);
}

TestSuite(demo, .timeout = 120);

Test(demo, kubenet_outbound_scenario_replays_the_article)
{
	char *out;
	int st;

	if (!th_is_root())
		cr_skip_test("needs root");
	/* --name: a user's own "kubenet" lab may be up on this machine */
	out = th_run(&st, "%s run topologies/kubenet-outbound.yaml --name td%d 2>&1", th_vnetlab(), getpid() % 100000);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "the app saw 10.10.1.5 (aks-node-1, the node of observer)"), "%s", out);
	cr_assert(strstr(out, "dropped by aciNsg/deny-all"), "%s", out);
	cr_assert(strstr(out, "2 checks passed, 0 failed"), "%s", out);
	free(out);
	free(th_run(NULL, "%s down td%d 2>&1", th_vnetlab(), getpid() % 100000));
}

Test(demo, every_shipped_topology_passes_its_checks)
{
	char *out;
	int st;

	if (!th_is_root())
		cr_skip_test("needs root");
	/* `check FILE` builds each lab, runs its checks as real probes, and removes it */
	out = th_run(&st,
		     "rc=0; for f in topologies/*.yaml tests/data/good/*.yaml; do "
		     "grep -q '^checks:' $f || continue; echo \"== $f\"; %s check $f --name tv%d 2>&1 || rc=1; done; "
		     "exit $rc",
		     th_vnetlab(), getpid() % 100000);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "== topologies/azure-cni-nsg.yaml"), "%s", out);
	cr_assert_not(strstr(out, "FAIL"), "%s", out);
	free(out);
}
