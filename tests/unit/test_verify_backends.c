// SPDX-License-Identifier: MIT
/* verify's flows to Services (pure): which ones, their backends, and how a probe is compared with the
 * backend the kernel reached, or with every backend when that is not known. */
#include <criterion/criterion.h>
#include <string.h>

#include "common/backends_lab.h"
#include "common/helpers.h"
#include "vnetlab/verify.h"

static const char lab_yaml[] = "name: lbcv\n" BACKENDS_LAB;

static int ep(const struct vl_lab *lab, const char *name)
{
	int i = vl_lab_find_endpoint(lab, name);

	cr_assert_neq(i, VL_NONE, "%s", name);
	return i;
}

/* The flow from `from` to service `svc` (its clusterIP, or its frontend when frontend). */
static struct vl_verify_flow *to_service(struct vl_verify *v, const struct vl_lab *lab, const char *from,
					 const char *svc, bool frontend)
{
	for (size_t i = 0; i < v->n_flows; i++) {
		struct vl_verify_flow *f = &v->flows[i];
		const struct vl_service *sv;

		if (f->to != VL_NONE || f->from != ep(lab, from))
			continue;
		sv = &lab->aks[f->svc_cluster].services[f->svc];
		if (!strcmp(sv->name, svc) && f->dst == (frontend ? sv->frontend_ip : sv->cluster_ip))
			return f;
	}
	cr_assert_fail("no flow %s -> service %s", from, svc);
	return NULL;
}

Test(verify_backends, every_service_port_from_its_sources_with_every_backend)
{
	struct vl_lab *lab = th_load(lab_yaml);
	struct vl_verify v;
	size_t svc = 0;

	cr_assert_eq(vl_verify_plan(lab, NULL, NULL, 20000, &v), 0);
	for (size_t i = 0; i < v.n_flows; i++)
		if (v.flows[i].to == VL_NONE) {
			svc++;
			cr_assert(v.flows[i].mixed, "every flow here depends on the pod");
			cr_assert_eq(v.flows[i].n_backends,
				     v.flows[i].dst == lab->aks[0].services[1].frontend_ip ? 6 : 3);
		}
	cr_assert_eq(svc, 13, "4 pods and 2 nodes to 2 clusterIPs, the Internet host to the frontend");
	cr_assert_eq(to_service(&v, lab, "surfer", "front", true)->n_backends, 6, "2 nodes x 3 pods");
	vl_verify_free(&v);
	/* --to a Service: its flows only */
	cr_assert_eq(vl_verify_plan(lab, NULL, "web", 20000, &v), 0);
	cr_assert_eq(v.n_flows, 6);
	vl_verify_free(&v);
	cr_assert_eq(vl_verify_plan(lab, "client", "web", 20000, &v), 0);
	cr_assert_eq(v.n_flows, 1);
	vl_verify_free(&v);
	vl_lab_free(lab);
}

Test(verify_backends, a_probe_is_compared_with_the_backend_it_reached)
{
	struct vl_lab *lab = th_load(lab_yaml);
	int a = ep(lab, "web-a"), b = ep(lab, "web-b"), c = ep(lab, "web-c"), n0 = ep(lab, "k-node-0");
	struct vl_verify v;
	struct vl_verify_flow *f;

	cr_assert_eq(vl_verify_plan(lab, "client", "web", 20000, &v), 0);
	f = to_service(&v, lab, "client", "web", false);
	f->probed = true;
	/* known: that backend's outcome, and only that one */
	f->status = VL_PROBE_CONNECTED;
	f->reached_pod = a;
	f->reached_node = n0;
	cr_assert(vl_verify_agrees(lab, &v, f));
	cr_assert_eq(vl_verify_reached(&v, f)->pod, a);
	f->status = VL_PROBE_REFUSED;
	cr_assert_not(vl_verify_agrees(lab, &v, f), "web-a listens: a refusal is a real disagreement");
	f->reached_pod = b;
	f->status = VL_PROBE_CONNECTED;
	cr_assert_not(vl_verify_agrees(lab, &v, f), "web-b is isolated: connected is a real disagreement");
	f->status = VL_PROBE_DROPPED;
	f->drop = "np:in/web-b";
	cr_assert(vl_verify_agrees(lab, &v, f));
	f->drop = "np:in/web-a";
	cr_assert_not(vl_verify_agrees(lab, &v, f));
	f->reached_pod = c;
	f->reached_node = VL_NONE; /* known from a drop record: the pod, not the node */
	f->status = VL_PROBE_REFUSED;
	cr_assert(vl_verify_agrees(lab, &v, f), "web-c runs no app");
	f->status = VL_PROBE_CONNECTED;
	cr_assert_not(vl_verify_agrees(lab, &v, f));
	/* unknown: agrees when some backend ends that way */
	f->reached_pod = f->reached_node = VL_NONE;
	cr_assert_null(vl_verify_reached(&v, f));
	cr_assert(vl_verify_agrees(lab, &v, f));
	f->status = VL_PROBE_REFUSED;
	cr_assert(vl_verify_agrees(lab, &v, f));
	f->status = VL_PROBE_DROPPED;
	f->drop = "np:in/web-b";
	cr_assert(vl_verify_agrees(lab, &v, f));
	f->status = VL_PROBE_TIMEOUT;
	cr_assert_not(vl_verify_agrees(lab, &v, f), "no backend is silent");
	f->status = VL_PROBE_UNREACHABLE;
	cr_assert_not(vl_verify_agrees(lab, &v, f));
	vl_verify_free(&v);
	vl_lab_free(lab);
}

/* Two nodes, a VM, kubenet pods: web (Cluster: web-a on node 0, web-b on node 1) and solo (Local,
 * its pod on node 1 only). */
static const char np_yaml[] =
    "name: npv\n"
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.68.0.0/16]\n"
    "    subnets: [{name: aks, addressPrefix: 10.68.1.0/24}, {name: vms, addressPrefix: "
    "10.68.2.0/24}]\n"
    "aksClusters:\n"
    "  - name: k\n"
    "    subnet: aks\n"
    "    networkPlugin: kubenet\n"
    "    nodeCount: 2\n"
    "    pods:\n"
    "      - {name: web-a, labels: {app: web}, app: hello, ports: [8080], node: 0}\n"
    "      - {name: web-b, labels: {app: web}, app: hello, ports: [8080], node: 1}\n"
    "      - {name: solo, labels: {app: solo}, app: hello, ports: [8080], node: 1}\n"
    "    services:\n"
    "      - {name: websvc, type: NodePort, selector: {app: web}, port: 80, targetPort: 8080}\n"
    "      - {name: solosvc, type: NodePort, selector: {app: solo}, port: 80, targetPort: 8080,\n"
    "         externalTrafficPolicy: Local}\n"
    "vms: [{name: vm, subnet: vms}]\n";

/* How many flows of v go to node `node`'s NodePort of service svc, and from `from` (NULL: any). */
static size_t node_port_flows(const struct vl_verify *v, const struct vl_lab *lab, const char *from,
			      const char *node, const char *svc)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n_flows; i++) {
		const struct vl_verify_flow *f = &v->flows[i];

		if (f->to != ep(lab, node) || f->svc_cluster == VL_NONE ||
		    strcmp(lab->aks[f->svc_cluster].services[f->svc].name, svc) ||
		    (from && f->from != ep(lab, from)))
			continue;
		cr_assert_eq(f->dst, lab->eps[f->to].ip);
		cr_assert_eq(f->dport, lab->aks[f->svc_cluster].services[f->svc].ports[0].node_port);
		cr_assert_geq(f->n_backends, 1, "a NodePort flow carries its backends");
		n++;
	}
	return n;
}

Test(verify_backends, every_nodes_node_port_from_outside_that_node)
{
	struct vl_lab *lab = th_load(np_yaml);
	struct vl_verify v;

	cr_assert_eq(vl_verify_plan(lab, NULL, NULL, 20000, &v), 0);
	/* node 0's from the VM, node 1, web-b and solo; node 1's from the VM, node 0 and web-a */
	cr_assert_eq(node_port_flows(&v, lab, NULL, "k-node-0", "websvc"), 4);
	cr_assert_eq(node_port_flows(&v, lab, NULL, "k-node-1", "websvc"), 3);
	cr_assert_eq(node_port_flows(&v, lab, "web-a", "k-node-0", "websvc"), 0, "its own node");
	cr_assert_eq(node_port_flows(&v, lab, "k-node-0", "k-node-0", "websvc"), 0, "the node itself");
	for (size_t i = 0; i < v.n_flows; i++)
		if (v.flows[i].to == ep(lab, "k-node-0") && v.flows[i].svc_cluster != VL_NONE)
			cr_assert_eq(v.flows[i].n_backends, 2, "Cluster: both pods, through node 0");
	/* solo is Local: node 1's NodePort weighs solo only; node 0 has no pod of it and is left out */
	cr_assert_eq(node_port_flows(&v, lab, NULL, "k-node-1", "solosvc"), 3);
	cr_assert_eq(node_port_flows(&v, lab, NULL, "k-node-0", "solosvc"), 0);
	cr_assert_eq(v.not_planned, 4, "the 4 flows to node 0's NodePort of solosvc");
	vl_verify_free(&v);
	/* --to a node: its NodePorts (and the pairs to it: the nodes run no app) */
	cr_assert_eq(vl_verify_plan(lab, NULL, "k-node-1", 20000, &v), 0);
	cr_assert_eq(v.n_flows, 6);
	cr_assert_eq(node_port_flows(&v, lab, NULL, "k-node-1", "websvc"), 3);
	vl_verify_free(&v);
	/* --to a Service: its NodePort on every node; --from keeps one source */
	cr_assert_eq(vl_verify_plan(lab, NULL, "websvc", 20000, &v), 0);
	cr_assert_eq(node_port_flows(&v, lab, NULL, "k-node-0", "websvc") +
			 node_port_flows(&v, lab, NULL, "k-node-1", "websvc"),
		     7);
	cr_assert_eq(v.n_flows, 7 + 5, "and its clusterIP from 3 pods and 2 nodes");
	vl_verify_free(&v);
	cr_assert_eq(vl_verify_plan(lab, "vm", "websvc", 20000, &v), 0);
	cr_assert_eq(v.n_flows, 2, "the VM to each node's NodePort");
	vl_verify_free(&v);
	/* --to another endpoint: no NodePort flow */
	cr_assert_eq(vl_verify_plan(lab, NULL, "web-a", 20000, &v), 0);
	for (size_t i = 0; i < v.n_flows; i++)
		cr_assert_eq(v.flows[i].svc_cluster, VL_NONE);
	vl_verify_free(&v);
	vl_lab_free(lab);
}

/* Overlapping VNets that nothing joins: the node's address means b1 from VNet b's side. */
Test(verify_backends, a_node_port_is_planned_only_from_where_its_address_means_the_node)
{
	struct vl_lab *lab = th_load("name: npo\n"
				     "vnets:\n"
				     "  - name: a\n"
				     "    addressSpace: [10.9.0.0/16]\n"
				     "    subnets: [{name: aks, addressPrefix: 10.9.1.0/24}, {name: vms, addressPrefix: "
				     "10.9.2.0/24}]\n"
				     "  - {name: b, addressSpace: [10.9.0.0/16], subnets: [{name: s, addressPrefix: "
				     "10.9.1.0/24}]}\n"
				     "aksClusters:\n"
				     "  - name: k\n"
				     "    subnet: a/aks\n"
				     "    networkPlugin: azure\n"
				     "    nodeCount: 1\n"
				     "    pods: [{name: web, labels: {app: web}, app: hello, ports: [8080], node: 0}]\n"
				     "    services: [{name: websvc, type: NodePort, selector: {app: web}, port: 80, "
				     "targetPort: 8080}]\n"
				     "vms:\n"
				     "  - {name: a2, subnet: a/vms}\n"
				     "  - {name: b1, subnet: b/s, privateIpAddress: 10.9.1.4}\n"
				     "  - {name: b2, subnet: b/s, privateIpAddress: 10.9.1.5}\n");
	struct vl_verify v;

	cr_assert_eq(lab->eps[ep(lab, "k-node-0")].ip, lab->eps[ep(lab, "b1")].ip, "the lab's premise");
	cr_assert_eq(vl_verify_plan(lab, NULL, NULL, 20000, &v), 0);
	cr_assert_eq(node_port_flows(&v, lab, NULL, "k-node-0", "websvc"), 1, "from a2 only");
	cr_assert_eq(node_port_flows(&v, lab, "a2", "k-node-0", "websvc"), 1);
	vl_verify_free(&v);
	vl_lab_free(lab);
}
