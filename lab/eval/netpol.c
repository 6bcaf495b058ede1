// SPDX-License-Identifier: MIT
/*
 * Network policy hops of a flow (spec 16.2): the source pod's egress before everything else, the
 * destination pod's ingress after everything else, each decided by vl_np_decide() on the
 * addresses the node's forward hook sees: egress after kube-proxy's DNAT on the source node,
 * ingress with the source as the destination node receives it (masqueraded by another node, the
 * node's address; by its own node's kube-proxy, still the client's: that masquerade comes after).
 */
#include <string.h>

#include "vnetlab/effective.h"
#include "vnetlab/eval.h"

static bool is_pod(const struct vl_lab *lab, int ep)
{
	return ep >= 0 && (size_t)ep < lab->n_eps && lab->eps[ep].kind == VL_EP_POD && lab->eff &&
	       (size_t)ep < lab->eff->n_np;
}

static void fill(struct vl_hop *h, const struct vl_np_verdict *nv, const struct vl_flow *f)
{
	memset(h, 0, sizeof(*h));
	h->type = VL_HT_POLICY;
	h->nsg = h->subnet = h->scope = h->vnet = h->remote_vnet = h->gateway = h->local_gateway = VL_NONE;
	h->service = h->pod = VL_NONE;
	h->endpoint = nv->pod;
	h->cluster = nv->cluster;
	h->dir = nv->dir;
	h->np = nv->result;
	h->policy = nv->policy;
	h->np_rule = nv->rule;
	h->access = nv->result == VL_NP_DENY ? VL_DENY : VL_ALLOW;
	h->flow = *f;
}

static void decided(struct vl_verdict *v, const struct vl_np_verdict *nv)
{
	if (nv->policy == VL_NONE)
		return;
	v->policy_cluster = nv->cluster;
	v->policy = nv->policy;
	if (nv->result == VL_NP_DENY) {
		v->access = VL_DENY;
		v->outcome = VL_OUT_DENIED;
		v->nsg = VL_NONE;
		v->rule = NULL;
	}
}

static void egress(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t dport,
		   struct vl_verdict *v)
{
	const struct vl_endpoint *src = &lab->eps[from];
	struct vl_flow f = {.proto = proto, .src = src->ip, .sport = 0, .dst = dst, .dport = dport};
	struct vl_np_verdict nv;

	/* kube-proxy on the source's node rewrote the destination before the forward hook */
	for (size_t i = 0; i < v->n_hops; i++)
		if (v->hops[i].type == VL_HT_KPROXY && v->hops[i].endpoint == src->node &&
		    v->hops[i].pod != VL_NONE) {
			f.dst = v->hops[i].flow.dst;
			f.dport = v->hops[i].flow.dport;
			break;
		}
	if (vl_np_decide(lab, from, VL_DIR_OUT, f.dst, proto, f.dport, &nv) || nv.result == VL_NP_UNENFORCED)
		return;
	if (nv.result == VL_NP_DENY)
		v->n_hops = 0; /* dropped as it leaves the pod: nothing after happens */
	else if (v->n_hops == VL_MAX_HOPS)
		v->n_hops--;
	memmove(&v->hops[1], &v->hops[0], v->n_hops * sizeof(v->hops[0]));
	v->n_hops++;
	fill(&v->hops[0], &nv, &f);
	decided(v, &nv);
}

static void ingress(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t dport,
		    struct vl_verdict *v)
{
	const struct vl_endpoint *pod = &lab->eps[v->dst_ep];
	struct vl_flow f = {.proto = proto, .src = lab->eps[from].ip, .dst = dst, .dport = dport};
	struct vl_np_verdict nv;

	for (size_t i = 0; i < v->n_hops; i++) {
		const struct vl_hop *h = &v->hops[i];

		if (h->type == VL_HT_POLICY)
			continue;
		if (h->type == VL_HT_KPROXY && h->masq && h->endpoint == pod->node) {
			f.dst = h->flow.dst;
			f.dport = h->flow.dport;
			continue;
		}
		f = h->flow;
	}
	f.proto = proto;
	if (vl_np_decide(lab, v->dst_ep, VL_DIR_IN, f.src, proto, f.dport, &nv) ||
	    nv.result == VL_NP_UNENFORCED)
		return;
	if (v->n_hops < VL_MAX_HOPS)
		fill(&v->hops[v->n_hops++], &nv, &f);
	decided(v, &nv);
}

/* A pod's own flow back to itself, not through another node (its own address, or hairpin by its own
 * node's kube-proxy): no policy of its own applies. One that another node's NodePort sends back
 * comes in from that node like any other. */
static bool own_flow(const struct vl_lab *lab, int from, const struct vl_verdict *v)
{
	if (v->dst_ep != from)
		return false;
	for (size_t i = 0; i < v->n_hops; i++)
		if (v->hops[i].type == VL_HT_KPROXY && v->hops[i].endpoint != lab->eps[from].node)
			return false;
	return true;
}

void vl_eval_netpol(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t dport,
		    struct vl_verdict *v)
{
	if (!lab->eff || !lab->eff->np)
		return;
	if (is_pod(lab, from))
		egress(lab, from, dst, proto, dport, v);
	if (v->outcome == VL_OUT_DELIVERED && is_pod(lab, v->dst_ep) && !own_flow(lab, from, v))
		ingress(lab, from, dst, proto, dport, v);
}
