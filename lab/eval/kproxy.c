// SPDX-License-Identifier: MIT
/*
 * A flow to a Kubernetes Service on the effective model (spec 15): kube-proxy's DNAT to a pod of
 * the Service (vl_eff_service_pods), with its masquerade, from a pod or node of the cluster or
 * from a LoadBalancer frontend's healthy backend node. The path walk (path.c) hands flows here.
 */
#include <stdlib.h>
#include <string.h>

#include "path-int.h"
#include "vnetlab/ip.h"

/* The pod kube-proxy sends a flow for service `s` of cluster `c` to, from node `node`: `want` when
 * it may pick it, else a pod on that node when there is one (Local allows no other), else the first. */
static int kproxy_pod(const struct vl_lab *lab, int c, int s, int node, bool local_only, int want,
		      int *candidates)
{
	int first = VL_NONE, here = VL_NONE;

	const struct vl_svc_pods *sel = vl_eff_service_pods(lab, c, s);

	*candidates = 0;
	for (size_t k = 0; k < sel->n; k++) {
		const struct vl_endpoint *e = &lab->eps[sel->pods[k]];

		if (local_only && e->node != node)
			continue;
		++*candidates;
		if (sel->pods[k] == want)
			here = first = want;
		if (first == VL_NONE)
			first = sel->pods[k];
		if (here == VL_NONE && e->node == node)
			here = sel->pods[k];
	}
	return here != VL_NONE ? here : first;
}

/* The port of service s a flow to port dport/proto hits, or NULL. */
static const struct vl_svc_port *svc_port(const struct vl_service *s, enum vl_proto proto, uint16_t dport)
{
	for (size_t i = 0; i < s->n_ports; i++)
		if (s->ports[i].port == dport && s->ports[i].proto == proto)
			return &s->ports[i];
	return NULL;
}

/* kube-proxy on node `node`: DNAT to a pod of the service, masquerade when asked. false: no pod. */
static bool kproxy(const struct vl_lab *lab, struct vl_verdict *v, int node, int c, int s,
		   const struct vl_svc_port *sp, bool local_only, bool masq, struct vl_flow *f, int want,
		   int *pod)
{
	struct vl_hop *h;
	int n;

	*pod = kproxy_pod(lab, c, s, node, local_only, want, &n);
	h = vlev_hop_new(v, VL_HT_KPROXY);
	h->endpoint = node;
	h->cluster = c;
	h->service = s;
	h->nat_from = f->dst;
	h->candidates = n;
	h->masq = masq;
	if (*pod == VL_NONE && local_only && vl_eff_service_pods(lab, c, s)->n) {
		/* kube-proxy's "has no local endpoints" rule: DROP, where no endpoint at all REJECTs */
		h->flow = *f;
		vlev_end(v, VL_OUT_NO_HOST,
			 "kube-proxy on %s drops it: service %s has no endpoint on this node "
			 "(externalTrafficPolicy Local)",
			 lab->eps[node].name, lab->aks[c].services[s].name);
		return false;
	}
	if (*pod == VL_NONE) {
		h->flow = *f;
		vlev_end(v, VL_OUT_UNREACHABLE, "service %s has no endpoints: kube-proxy rejects the connection",
		    lab->aks[c].services[s].name);
		return false;
	}
	h->pod = *pod;
	h->nat_to = f->dst = lab->eps[*pod].ip;
	f->dport = sp->target_port;
	/* masquerade takes the address of the way out: a kubenet pod of this node is behind cbr0; a
	 * pod's flow sent back to itself (hairpin) is masqueraded too (kube-proxy's KUBE-SEP rule) */
	if (masq || f->src == lab->eps[*pod].ip) {
		if (!masq)
			vlev_note(v, "hairpin: kube-proxy sends %s back to itself, masqueraded to its node",
				  lab->eps[*pod].name);
		f->src = lab->eps[node].pod_cidr.len && lab->eps[*pod].node == node ? lab->eps[node].pod_cidr.addr + 1
										    : lab->eps[node].ip;
		v->seen_src = f->src;
	}
	h->flow = *f;
	return true;
}

/* From the Internet to a LoadBalancer frontend: a healthy backend node (floating IP: the node's
 * NSGs see the frontend address), then kube-proxy on it (spec 15.4). */
void vlev_to_frontend(const struct vl_lab *lab, struct vl_verdict *v, const struct vl_frontend *fe,
		      struct vl_flow *f, const struct vlev_pick *pick)
{
	const struct vl_service *sv = &lab->aks[fe->cluster].services[fe->service];
	const struct vl_svc_port *sp = svc_port(sv, f->proto, f->dport);
	const struct vl_backend *be = NULL;
	char ip[VL_IP_STRLEN];
	struct vl_hop *h;
	int healthy = 0, pod, node;

	vl_ip_fmt(fe->ip, ip);
	if (!sp) {
		vlev_end(v, VL_OUT_NO_HOST, "load balancer frontend %s (service %s) has no rule for %s port %u", ip,
		    sv->name, vl_proto_name(f->proto), f->dport);
		return;
	}
	for (size_t i = 0; i < fe->n_backends; i++)
		if (fe->backends[i].healthy && (!healthy++ || (pick && fe->backends[i].node == pick->node)))
			be = &fe->backends[i];
	h = vlev_hop_new(v, VL_HT_LB);
	h->cluster = fe->cluster;
	h->service = fe->service;
	h->nat_from = fe->ip;
	h->candidates = healthy;
	h->flow = *f;
	if (!be) {
		vlev_end(v, VL_OUT_NO_HOST, "every backend of frontend %s (service %s) is down: %s", ip, sv->name,
		    fe->n_backends ? fe->backends[0].why : "the cluster has no node");
		return;
	}
	node = be->node;
	h->endpoint = node;
	h->vnet = vlev_ep_vnet(lab, node);
	if (!vlev_nsgs_in(lab, v, node, node, f))
		return;
	if (!kproxy(lab, v, node, fe->cluster, fe->service, sp, sv->local, !sv->local, f,
		    pick ? pick->pod : VL_NONE, &pod))
		return;
	v->seen_src = f->src;
	if (lab->eps[pod].node == node) {
		v->dst_ep = pod;
		v->outcome = VL_OUT_DELIVERED;
		return;
	}
	vlev_travel(lab, v, h->vnet, node, node, f, NULL);
}

/*
 * To a node's NodePort from outside that node (kube-proxy matches what comes in on eth0 only: not
 * the node's own flows, nor its pods'): the node's NSGs see node:nodePort, then kube-proxy DNATs
 * it to a pod of the Service (externalTrafficPolicy Local: a pod of this node, the client address
 * kept; Cluster: any pod, masqueraded to the node), as in vlev_to_frontend after the load
 * balancer; pick->pod when kube-proxy may pick it. false when node:dport is no NodePort for this
 * flow. vlev_service_flow() says the same of a flow before it is walked.
 */
bool vlev_to_node_port(const struct vl_lab *lab, struct vl_verdict *v, int node, int src_ep,
		       struct vl_flow *f, const struct vlev_pick *pick)
{
	const struct vl_endpoint *n = &lab->eps[node];
	const struct vl_svc_port *sp;
	const struct vl_aks *a;
	int s, pod;

	if (n->kind != VL_EP_NODE || n->virtual_node || !vlev_ep_cluster(lab, n))
		return false;
	if (src_ep == node ||
	    (src_ep != VL_NONE && lab->eps[src_ep].kind == VL_EP_POD && lab->eps[src_ep].node == node))
		return false;
	s = vl_eff_node_port(lab, n->owner, f->proto, f->dport, &sp);
	if (s == VL_NONE)
		return false;
	a = &lab->aks[n->owner];
	if (!vlev_nsgs_in(lab, v, n->nic, node, f))
		return true;
	if (!kproxy(lab, v, node, n->owner, s, sp, a->services[s].local, !a->services[s].local, f,
		    pick ? pick->pod : VL_NONE, &pod))
		return true;
	v->seen_src = f->src;
	if (lab->eps[pod].node == node) {
		v->dst_ep = pod;
		v->outcome = VL_OUT_DELIVERED;
		return true;
	}
	vlev_travel(lab, v, vlev_ep_vnet(lab, node), node, node, f, NULL);
	return true;
}

/* A pod or node to a clusterIP or a frontend of its own cluster: kube-proxy on its node DNATs it
 * before it leaves (no masquerade, no load balancer). true when it did (or found no pod). */
bool vlev_in_cluster_service(const struct vl_lab *lab, struct vl_verdict *v, const struct vl_endpoint *src,
			     int node, struct vl_flow *f, const struct vlev_pick *pick)
{
	const struct vl_frontend *fe = vl_eff_frontend(lab->eff, f->dst);
	int c = src->owner, s = vl_eff_cluster_ip(lab, c, f->dst), pod;
	const struct vl_svc_port *sp;

	if (s == VL_NONE && fe && fe->cluster == c)
		s = fe->service;
	if (s == VL_NONE)
		return false;
	sp = svc_port(&lab->aks[c].services[s], f->proto, f->dport);
	if (!sp)
		return false; /* no rule for that port: the packet goes on as it is */
	kproxy(lab, v, node, c, s, sp, false, false, f, pick ? pick->pod : VL_NONE, &pod);
	return true;
}

/* From outside a node (not the node, nor its pods: kube-proxy matches eth0) to its nodeIP:nodePort,
 * as vlev_to_node_port() takes it when the flow gets there. */
static bool node_port_flow(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto,
			   uint16_t dport, struct vlev_service_flow *out)
{
	const struct vl_endpoint *src = &lab->eps[from];
	int node = vl_lab_find_endpoint_near(lab, from, dst), s;
	const struct vl_endpoint *n;

	if (node == VL_NONE || node == from || src->kind == VL_EP_INTERNET)
		return false;
	n = &lab->eps[node];
	if (n->kind != VL_EP_NODE || n->virtual_node || !vlev_ep_cluster(lab, n) ||
	    (src->kind == VL_EP_POD && src->node == node))
		return false;
	s = vl_eff_node_port(lab, n->owner, proto, dport, NULL);
	if (s == VL_NONE)
		return false;
	out->cluster = n->owner;
	out->service = s;
	out->node = node;
	out->node_port = true;
	out->local = lab->aks[n->owner].services[s].local;
	return true;
}

bool vlev_service_flow(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t dport,
		       struct vlev_service_flow *out)
{
	const struct vl_endpoint *src = &lab->eps[from];
	const struct vl_frontend *fe = vl_eff_frontend(lab->eff, dst);
	int s;

	memset(out, 0, sizeof(*out));
	out->node = VL_NONE;
	if (src->kind == VL_EP_INTERNET) {
		if (!fe || !svc_port(&lab->aks[fe->cluster].services[fe->service], proto, dport))
			return false;
		out->cluster = fe->cluster;
		out->service = fe->service;
		out->fe = fe;
		return true;
	}
	if ((src->kind != VL_EP_POD && src->kind != VL_EP_NODE) || src->virtual_node ||
	    !vlev_ep_cluster(lab, src))
		return node_port_flow(lab, from, dst, proto, dport, out);
	s = vl_eff_cluster_ip(lab, src->owner, dst);
	if (s == VL_NONE && fe && fe->cluster == src->owner)
		s = fe->service;
	if (s == VL_NONE || !svc_port(&lab->aks[src->owner].services[s], proto, dport))
		return node_port_flow(lab, from, dst, proto, dport, out);
	out->cluster = src->owner;
	out->service = s;
	out->node = vlev_valid_ep(lab, src->nic) ? src->nic : from;
	return true;
}
