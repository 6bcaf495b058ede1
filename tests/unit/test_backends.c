// SPDX-License-Identifier: MIT
/*
 * Pure tests of a flow to a Service weighed over every backend (spec 15.4, 16): kube-proxy picks a
 * pod at random and the load balancer a healthy node, so the evaluator lists each (node, pod) with
 * its own outcome and says when they differ.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"

/* web-a on node 0, web-b on node 1; POLICY (optional) isolates web-b for ingress. */
#define LAB(POLICY, ETP)                                                                                     \
	"name: lbcu\n"                                                                                       \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.72.0.0/16]\n"                                                                 \
	"    subnets: [{name: aks, addressPrefix: 10.72.0.0/24}]\n"                                          \
	"aksClusters:\n"                                                                                     \
	"  - name: k\n"                                                                                      \
	"    subnet: aks\n"                                                                                  \
	"    networkPlugin: azure\n"                                                                         \
	"    networkPolicy: azure\n"                                                                         \
	"    nodeCount: 2\n"                                                                                 \
	"    pods:\n"                                                                                        \
	"      - {name: web-a, labels: {app: web, side: a}, app: hello, ports: [8080], node: 0}\n"           \
	"      - {name: web-b, labels: {app: web, side: b}, app: hello, ports: [8080], node: 1}\n"           \
	"      - {name: client, labels: {app: client}, app: hello, ports: [80], node: 0}\n"                  \
	"    services:\n"                                                                                    \
	"      - {name: web, selector: {app: web}, port: 80, targetPort: 8080}\n"                            \
	"      - {name: front, type: LoadBalancer, selector: {app: web}, port: 80, targetPort: 8080,\n"      \
	"         loadBalancerIP: 198.51.100.120, externalTrafficPolicy: " ETP "}\n" POLICY                  \
	"internet: {hosts: [{name: surfer, address: 203.0.113.70}]}\n"

#define DENY_B                                                                                               \
	"    networkPolicies:\n"                                                                             \
	"      - apiVersion: networking.k8s.io/v1\n"                                                         \
	"        kind: NetworkPolicy\n"                                                                      \
	"        metadata: {name: deny-b, namespace: default}\n"                                             \
	"        spec: {podSelector: {matchLabels: {side: b}}, policyTypes: [Ingress]}\n"

static int ep(const struct vl_lab *lab, const char *name)
{
	int i = vl_lab_find_endpoint(lab, name);

	cr_assert_neq(i, VL_NONE, "no endpoint %s", name);
	return i;
}

static const struct vl_backend_verdict *backend_of(const struct vl_verdict *v, int node, int pod)
{
	for (size_t i = 0; i < v->n_backends && i < VL_MAX_BACKENDS; i++)
		if (v->backends[i].node == node && v->backends[i].pod == pod)
			return &v->backends[i];
	cr_assert_fail("no backend (node %d, pod %d) among %zu", node, pod, v->n_backends);
	return NULL;
}

Test(backends, cluster_ip_lists_each_pod_and_a_policy_denying_one_makes_it_mixed)
{
	struct vl_lab *lab = th_load(LAB(DENY_B, "Cluster"));
	int client = ep(lab, "client"), a = ep(lab, "web-a"), b = ep(lab, "web-b"),
	    node0 = ep(lab, "k-node-0");
	const struct vl_backend_verdict *ba, *bb;
	struct vl_verdict v;
	uint32_t vip = lab->aks[0].services[0].cluster_ip;

	cr_assert_eq(vl_eval_path(lab, client, vip, VL_PROTO_TCP, 0, 80, &v), 0);
	cr_assert_eq(v.n_backends, 2);
	cr_assert(v.mixed, "web-a connects, web-b is denied: the verdict depends on kube-proxy's pick");
	ba = backend_of(&v, node0, a);
	bb = backend_of(&v, node0, b);
	cr_assert_eq(ba->outcome, VL_OUT_DELIVERED);
	cr_assert(ba->listens);
	cr_assert_eq(ba->port, 8080);
	cr_assert_eq(bb->outcome, VL_OUT_DENIED);
	cr_assert_eq(bb->access, VL_DENY);
	cr_assert_eq(bb->nsg, VL_NONE);
	cr_assert_str_eq(lab->aks[0].policies[bb->policy].name, "deny-b");
	cr_assert_eq(bb->np_pod, b);
	cr_assert_eq(bb->np_dir, VL_DIR_IN);
	/* the hops and the top-level verdict stay those of the pod on the source's node */
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	cr_assert_eq(v.dst_ep, a);
	/* vl_eval_backends gives the same list */
	{
		struct vl_backend_verdict out[4];

		cr_assert_eq(vl_eval_backends(lab, client, vip, VL_PROTO_TCP, 0, 80, out, 4), 2);
		cr_assert_eq(out[1].outcome, bb->outcome);
		cr_assert_eq(out[1].pod, b);
	}
	vl_lab_free(lab);
}

Test(backends, a_pick_is_evaluated_as_the_kernel_would_take_it)
{
	struct vl_lab *lab = th_load(LAB(DENY_B, "Cluster"));
	int client = ep(lab, "client"), b = ep(lab, "web-b");
	struct vl_verdict v;
	uint32_t vip = lab->aks[0].services[0].cluster_ip;

	cr_assert_eq(vl_eval_path_pick(lab, client, vip, VL_PROTO_TCP, 0, 80, VL_NONE, b, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DENIED);
	cr_assert_str_eq(lab->aks[0].policies[v.policy].name, "deny-b");
	cr_assert_eq(v.n_backends, 0, "a pick is one backend: no list");
	/* a pod the service does not have is no pick: the evaluator's own choice */
	cr_assert_eq(vl_eval_path_pick(lab, client, vip, VL_PROTO_TCP, 0, 80, VL_NONE, client, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	cr_assert_eq(v.dst_ep, ep(lab, "web-a"));
	vl_lab_free(lab);
}

Test(backends, without_the_policy_every_pod_connects_and_nothing_is_mixed)
{
	struct vl_lab *lab = th_load(LAB("", "Cluster"));
	struct vl_verdict v;

	cr_assert_eq(
	    vl_eval_path(lab, ep(lab, "client"), lab->aks[0].services[0].cluster_ip, VL_PROTO_TCP, 0, 80, &v),
	    0);
	cr_assert_eq(v.n_backends, 2);
	cr_assert_not(v.mixed);
	for (size_t i = 0; i < v.n_backends; i++)
		cr_assert(v.backends[i].outcome == VL_OUT_DELIVERED && v.backends[i].listens);
	/* a flow to no Service lists no backend */
	cr_assert_eq(
	    vl_eval_path(lab, ep(lab, "client"), lab->eps[ep(lab, "web-b")].ip, VL_PROTO_TCP, 0, 8080, &v),
	    0);
	cr_assert_eq(v.n_backends, 0);
	vl_lab_free(lab);
}

Test(backends, a_pod_without_an_app_on_the_target_port_refuses)
{
	struct vl_lab *lab = th_load(LAB("", "Cluster"));
	struct vl_verdict v;
	int b = ep(lab, "web-b");

	lab->eps[b].app = VL_APP_NONE;
	cr_assert_eq(
	    vl_eval_path(lab, ep(lab, "client"), lab->aks[0].services[0].cluster_ip, VL_PROTO_TCP, 0, 80, &v),
	    0);
	cr_assert(v.mixed);
	cr_assert_not(backend_of(&v, ep(lab, "k-node-0"), b)->listens);
	cr_assert_eq(backend_of(&v, ep(lab, "k-node-0"), b)->outcome, VL_OUT_DELIVERED);
	vl_lab_free(lab);
}

Test(backends, load_balancer_cluster_policy_crosses_every_healthy_node_and_pod)
{
	struct vl_lab *lab = th_load(LAB(DENY_B, "Cluster"));
	int surfer = ep(lab, "surfer"), n0 = ep(lab, "k-node-0"), n1 = ep(lab, "k-node-1"),
	    a = ep(lab, "web-a"), b = ep(lab, "web-b");
	struct vl_verdict v;
	uint32_t fe;

	cr_assert_eq(vl_ip_parse("198.51.100.120", &fe), 0);
	cr_assert_eq(vl_eval_path(lab, surfer, fe, VL_PROTO_TCP, 0, 80, &v), 0);
	cr_assert_eq(v.n_backends, 4, "2 healthy nodes x 2 pods");
	cr_assert(v.mixed);
	cr_assert_eq(backend_of(&v, n0, a)->outcome, VL_OUT_DELIVERED);
	cr_assert_eq(backend_of(&v, n1, a)->outcome, VL_OUT_DELIVERED);
	cr_assert_eq(backend_of(&v, n0, b)->outcome, VL_OUT_DENIED,
		     "masqueraded by node 0: another node's address");
	cr_assert_eq(backend_of(&v, n1, b)->outcome, VL_OUT_DENIED,
		     "node 1's masquerade comes after the forward hook: the policy sees the client");
	vl_lab_free(lab);
}

Test(backends, load_balancer_local_policy_keeps_each_node_to_its_own_pods)
{
	struct vl_lab *lab = th_load(LAB(DENY_B, "Local"));
	int n0 = ep(lab, "k-node-0"), n1 = ep(lab, "k-node-1");
	struct vl_verdict v;
	uint32_t fe;

	cr_assert_eq(vl_eff_kproxy_pods(lab, 0, 1, n0, true, NULL, 0), 1);
	cr_assert_eq(vl_eff_kproxy_pods(lab, 0, 1, n1, true, NULL, 0), 1);
	cr_assert_eq(vl_eff_kproxy_pods(lab, 0, 1, n1, false, NULL, 0), 2);
	cr_assert_eq(vl_ip_parse("198.51.100.120", &fe), 0);
	cr_assert_eq(vl_eval_path(lab, ep(lab, "surfer"), fe, VL_PROTO_TCP, 0, 80, &v), 0);
	cr_assert_eq(v.n_backends, 2);
	cr_assert(v.mixed);
	cr_assert_eq(backend_of(&v, n0, ep(lab, "web-a"))->outcome, VL_OUT_DELIVERED);
	cr_assert_eq(backend_of(&v, n1, ep(lab, "web-b"))->outcome, VL_OUT_DENIED);
	vl_lab_free(lab);
}

Test(backends, a_pod_sent_back_to_itself_is_masqueraded_to_its_node)
{
	struct vl_lab *lab = th_load(LAB(DENY_B, "Cluster"));
	int a = ep(lab, "web-a"), b = ep(lab, "web-b");
	struct vl_verdict v;

	/* kube-proxy's KUBE-SEP -s <pod> -j KUBE-MARK-MASQ: else the pod would answer itself locally */
	cr_assert_eq(vl_eval_path_pick(lab, a, lab->aks[0].services[0].cluster_ip, VL_PROTO_TCP, 0, 80, VL_NONE, a, &v),
		     0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	cr_assert_eq(v.dst_ep, a);
	cr_assert_eq(v.seen_src, lab->eps[ep(lab, "k-node-0")].ip);
	cr_assert(strstr(v.note, "hairpin"), "%s", v.note);
	/* a pod cannot block itself: web-b's isolation does not stop its own flow back */
	cr_assert_eq(vl_eval_path_pick(lab, b, lab->aks[0].services[0].cluster_ip, VL_PROTO_TCP, 0, 80, VL_NONE, b, &v),
		     0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	/* another pod's flow keeps its own address */
	cr_assert_eq(vl_eval_path_pick(lab, ep(lab, "client"), lab->aks[0].services[0].cluster_ip, VL_PROTO_TCP, 0, 80,
				       VL_NONE, a, &v),
		     0);
	cr_assert_eq(v.seen_src, lab->eps[ep(lab, "client")].ip);
	vl_lab_free(lab);
}

/* web on node 1, a VM outside the cluster; NodePort Services with either traffic policy. */
#define NODEPORT_LAB(ETP, POLICY)                                                                            \
	"name: npu\n"                                                                                        \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.66.0.0/16]\n"                                                                 \
	"    subnets: [{name: aks, addressPrefix: 10.66.1.0/24}, {name: vms, addressPrefix: 10.66.2.0/24}]\n" \
	"aksClusters:\n"                                                                                     \
	"  - name: k\n"                                                                                      \
	"    subnet: aks\n"                                                                                  \
	"    networkPlugin: azure\n"                                                                         \
	"    networkPolicy: azure\n"                                                                         \
	"    nodeCount: 2\n"                                                                                 \
	"    pods: [{name: web, labels: {app: web}, app: hello, ports: [8080], node: 1}]\n"                  \
	"    services:\n"                                                                                    \
	"      - {name: websvc, type: NodePort, selector: {app: web}, port: 80, targetPort: 8080,\n"         \
	"         externalTrafficPolicy: " ETP "}\n" POLICY "vms: [{name: vm, subnet: vms}]\n"

#define DENY_WEB                                                                                             \
	"    networkPolicies:\n"                                                                             \
	"      - apiVersion: networking.k8s.io/v1\n"                                                         \
	"        kind: NetworkPolicy\n"                                                                      \
	"        metadata: {name: deny-web, namespace: default}\n"                                           \
	"        spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}\n"

/*
 * A VM to a node's NodePort: kube-proxy on that node sends it to the Service's pod (on the other
 * node), masqueraded to the node (Cluster); with Local, node 0 has no pod of it; a policy
 * isolating the pod denies it. Before, the flow ended at the node as if it were the app.
 */
Test(backends, a_vm_to_a_node_port_goes_through_kube_proxy)
{
	struct vl_lab *lab = th_load(NODEPORT_LAB("Cluster", ""));
	int vm = ep(lab, "vm"), web = ep(lab, "web"), node0 = ep(lab, "k-node-0");
	uint16_t np = lab->aks[0].services[0].ports[0].node_port;
	struct vl_verdict v;

	cr_assert_geq(np, 30000);
	cr_assert_eq(vl_eval_path(lab, vm, lab->eps[node0].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED, "%s", v.why);
	cr_assert_eq(v.dst_ep, web);
	cr_assert_eq(v.seen_src, lab->eps[node0].ip, "Cluster: masqueraded to the node it came in by");
	/* the node's own NodePort from the node itself is not kube-proxy's (it matches eth0 only) */
	cr_assert_eq(vl_eval_path(lab, node0, lab->eps[node0].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_neq(v.dst_ep, web);
	/* another port of the node: no NodePort, the node itself */
	cr_assert_eq(vl_eval_path(lab, vm, lab->eps[node0].ip, VL_PROTO_TCP, 0, 22, &v), 0);
	cr_assert_eq(v.dst_ep, node0);
	vl_lab_free(lab);

	lab = th_load(NODEPORT_LAB("Local", ""));
	vm = ep(lab, "vm");
	node0 = ep(lab, "k-node-0");
	np = lab->aks[0].services[0].ports[0].node_port;
	cr_assert_eq(vl_eval_path(lab, vm, lab->eps[node0].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_NO_HOST,
		     "Local: node 0 has no pod of the Service, kube-proxy drops it");
	cr_assert(strstr(v.why, "no endpoint on this node"), "%s", v.why);
	cr_assert_eq(v.n_backends, 1);
	cr_assert_eq(v.backends[0].pod, VL_NONE);
	cr_assert_eq(vl_eval_path(lab, vm, lab->eps[ep(lab, "k-node-1")].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED, "%s", v.why);
	cr_assert_eq(v.seen_src, lab->eps[vm].ip, "Local keeps the client's address");
	vl_lab_free(lab);

	lab = th_load(NODEPORT_LAB("Cluster", DENY_WEB));
	vm = ep(lab, "vm");
	node0 = ep(lab, "k-node-0");
	np = lab->aks[0].services[0].ports[0].node_port;
	cr_assert_eq(vl_eval_path(lab, vm, lab->eps[node0].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DENIED, "the pod's ingress policy: %s", v.why);
	vl_lab_free(lab);
}

/* web-a on node 0, web-b on node 1, a client pod on node 1 and a VM outside the cluster: a NodePort
 * Service of both pods; POLICY (optional) isolates web-b for ingress. */
#define NP2_LAB(ETP, POLICY)                                                                                 \
	"name: npb\n"                                                                                        \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.67.0.0/16]\n"                                                                 \
	"    subnets: [{name: aks, addressPrefix: 10.67.1.0/24}, {name: vms, addressPrefix: "                \
	"10.67.2.0/24}]\n"                                                                                   \
	"aksClusters:\n"                                                                                     \
	"  - name: k\n"                                                                                      \
	"    subnet: aks\n"                                                                                  \
	"    networkPlugin: azure\n"                                                                         \
	"    networkPolicy: azure\n"                                                                         \
	"    nodeCount: 2\n"                                                                                 \
	"    pods:\n"                                                                                        \
	"      - {name: web-a, labels: {app: web, side: a}, app: hello, ports: [8080], node: 0}\n"           \
	"      - {name: web-b, labels: {app: web, side: b}, app: hello, ports: [8080], node: 1}\n"           \
	"      - {name: client, labels: {app: client}, node: 1}\n"                                           \
	"    services:\n"                                                                                    \
	"      - {name: websvc, type: NodePort, selector: {app: web}, port: 80, targetPort: 8080,\n"         \
	"         externalTrafficPolicy: " ETP "}\n" POLICY "vms: [{name: vm, subnet: vms}]\n"

/* Every backend of a flow lists kube-proxy's node `node` (the NodePort's, whatever the source). */
static void all_on_node(const struct vl_verdict *v, int node)
{
	for (size_t i = 0; i < v->n_backends; i++)
		cr_assert_eq(v->backends[i].node, node, "backend %zu: node %d, not the NodePort's %d", i,
			     v->backends[i].node, node);
}

Test(backends, a_node_port_with_cluster_policy_weighs_every_pod_of_the_service)
{
	struct vl_lab *lab = th_load(NP2_LAB("Cluster", DENY_B));
	int vm = ep(lab, "vm"), a = ep(lab, "web-a"), b = ep(lab, "web-b"), n0 = ep(lab, "k-node-0"),
	    n1 = ep(lab, "k-node-1");
	uint16_t np = lab->aks[0].services[0].ports[0].node_port;
	const struct vl_backend_verdict *ba, *bb;
	struct vl_verdict v;

	for (int k = 0; k < 2; k++) {
		int node = k ? n1 : n0;

		cr_assert_eq(vl_eval_path(lab, vm, lab->eps[node].ip, VL_PROTO_TCP, 0, np, &v), 0);
		cr_assert_eq(v.n_backends, 2, "Cluster: any pod of the Service, from either node");
		all_on_node(&v, node);
		cr_assert(v.mixed, "web-a connects, web-b is denied by its policy");
		ba = backend_of(&v, node, a);
		bb = backend_of(&v, node, b);
		cr_assert_eq(ba->outcome, VL_OUT_DELIVERED);
		cr_assert(ba->listens);
		cr_assert_eq(ba->port, 8080);
		cr_assert_eq(bb->outcome, VL_OUT_DENIED);
		cr_assert_eq(bb->nsg, VL_NONE);
		cr_assert_str_eq(lab->aks[0].policies[bb->policy].name, "deny-b");
		cr_assert_eq(bb->np_pod, b);
		cr_assert_eq(bb->np_dir, VL_DIR_IN);
		/* the hops are those of the node's own pod */
		cr_assert_eq(v.dst_ep, k ? b : a, "node %d", k);
		cr_assert_eq(v.outcome, k ? VL_OUT_DENIED : VL_OUT_DELIVERED);
	}
	/* a pick is taken as the kernel would: web-b through node 0 is masqueraded to node 0 and denied */
	cr_assert_eq(vl_eval_path_pick(lab, vm, lab->eps[n0].ip, VL_PROTO_TCP, 0, np, VL_NONE, b, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DENIED);
	cr_assert_eq(v.n_backends, 0);
	cr_assert_eq(vl_eval_path_pick(lab, vm, lab->eps[n1].ip, VL_PROTO_TCP, 0, np, VL_NONE, a, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED);
	cr_assert_eq(v.dst_ep, a);
	cr_assert_eq(v.seen_src, lab->eps[n1].ip, "Cluster: masqueraded to the node it came in by");
	/* without the policy both connect: nothing depends on the pick */
	vl_lab_free(lab);
	lab = th_load(NP2_LAB("Cluster", ""));
	cr_assert_eq(
	    vl_eval_path(lab, ep(lab, "vm"), lab->eps[ep(lab, "k-node-0")].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.n_backends, 2);
	cr_assert_not(v.mixed);
	vl_lab_free(lab);
}

Test(backends, a_node_port_with_local_policy_weighs_only_that_nodes_pods)
{
	struct vl_lab *lab = th_load(NP2_LAB("Local", DENY_B));
	int vm = ep(lab, "vm"), a = ep(lab, "web-a"), b = ep(lab, "web-b"), n0 = ep(lab, "k-node-0"),
	    n1 = ep(lab, "k-node-1");
	uint16_t np = lab->aks[0].services[0].ports[0].node_port;
	struct vl_verdict v;

	cr_assert_eq(vl_eval_path(lab, vm, lab->eps[n0].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.n_backends, 1, "Local: node 0's pod only");
	cr_assert_eq(v.backends[0].pod, a);
	cr_assert_eq(v.backends[0].node, n0);
	cr_assert_eq(v.backends[0].outcome, VL_OUT_DELIVERED);
	cr_assert_not(v.mixed);
	cr_assert_eq(v.seen_src, lab->eps[vm].ip, "Local keeps the client's address");
	cr_assert_eq(vl_eval_path(lab, vm, lab->eps[n1].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.n_backends, 1);
	cr_assert_eq(v.backends[0].pod, b);
	cr_assert_eq(v.backends[0].outcome, VL_OUT_DENIED);
	/* a pick of another node's pod is no pick with Local: node 1's own */
	cr_assert_eq(vl_eval_path_pick(lab, vm, lab->eps[n1].ip, VL_PROTO_TCP, 0, np, VL_NONE, a, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DENIED);
	cr_assert_neq(v.dst_ep, a);
	vl_lab_free(lab);
}

Test(backends, a_node_port_from_a_pod_counts_only_from_another_node)
{
	struct vl_lab *lab = th_load(NP2_LAB("Cluster", DENY_B));
	int client = ep(lab, "client"), n0 = ep(lab, "k-node-0"), n1 = ep(lab, "k-node-1");
	uint16_t np = lab->aks[0].services[0].ports[0].node_port;
	struct vl_verdict v;

	/* client runs on node 1: node 0's NodePort is kube-proxy's there */
	cr_assert_eq(vl_eval_path(lab, client, lab->eps[n0].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.n_backends, 2);
	all_on_node(&v, n0);
	cr_assert(v.mixed);
	/* node 1 to node 0: the same */
	cr_assert_eq(vl_eval_path(lab, n1, lab->eps[n0].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.n_backends, 2);
	all_on_node(&v, n0);
	/* web-b (node 1, isolated) to node 0's NodePort, sent back to itself masqueraded to node 0: its
	 * ingress policy sees node 0, not its own flow */
	cr_assert_eq(vl_eval_path_pick(lab, ep(lab, "web-b"), lab->eps[n0].ip, VL_PROTO_TCP, 0, np, VL_NONE,
				       ep(lab, "web-b"), &v),
		     0);
	cr_assert_eq(v.outcome, VL_OUT_DENIED, "deny-b applies to what node 0 sends");
	cr_assert_str_eq(lab->aks[0].policies[v.policy].name, "deny-b");
	/* its own node's NodePort is not (kube-proxy matches what comes in on eth0), nor the node's own */
	cr_assert_eq(vl_eval_path(lab, client, lab->eps[n1].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.n_backends, 0);
	cr_assert_eq(vl_eval_path(lab, n1, lab->eps[n1].ip, VL_PROTO_TCP, 0, np, &v), 0);
	cr_assert_eq(v.n_backends, 0);
	/* another port, or UDP to the TCP NodePort: no Service */
	cr_assert_eq(vl_eval_path(lab, client, lab->eps[n0].ip, VL_PROTO_TCP, 0, (uint16_t)(np + 1), &v), 0);
	cr_assert_eq(v.n_backends, 0);
	cr_assert_eq(vl_eval_path(lab, client, lab->eps[n0].ip, VL_PROTO_UDP, 0, np, &v), 0);
	cr_assert_eq(v.n_backends, 0);
	vl_lab_free(lab);
}
