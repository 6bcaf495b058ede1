// SPDX-License-Identifier: MIT
/*
 * A flow to a Service weighed over every backend it may get (spec 15.4): the load balancer hashes a
 * flow from the Internet onto one healthy backend node, and kube-proxy on that node (or on the
 * source's node, from inside the cluster; or on the node whose NodePort it is sent to: with
 * externalTrafficPolicy Local only that node's pods) DNATs it to one of the pods it may pick
 * (vl_eff_kproxy_pods), at random. One evaluation per (node, pod): when their outcomes differ, the
 * verdict depends on the pick, and explain and verify say which backend does what.
 */
#include <stdlib.h>
#include <string.h>

#include "path-int.h"

static bool listens(const struct vl_endpoint *e, enum vl_proto proto, uint16_t port)
{
	if (e->app == VL_APP_NONE || (proto == VL_PROTO_UDP && e->app != VL_APP_ECHO) ||
	    (proto != VL_PROTO_TCP && proto != VL_PROTO_UDP))
		return false;
	for (size_t i = 0; i < e->n_ports; i++)
		if (e->ports[i] == port)
			return true;
	return false;
}

static void summarize(const struct vl_lab *lab, const struct vl_verdict *v, int node, enum vl_proto proto,
		      struct vl_backend_verdict *b)
{
	memset(b, 0, sizeof(*b));
	b->node = node;
	b->pod = VL_NONE;
	b->outcome = v->outcome;
	b->access = v->access;
	b->nsg = v->nsg;
	b->rule = v->rule;
	b->policy_cluster = v->policy_cluster;
	b->policy = v->policy;
	b->np_pod = VL_NONE;
	for (size_t i = 0; i < v->n_hops; i++) {
		const struct vl_hop *h = &v->hops[i];

		if (h->type == VL_HT_KPROXY && h->pod != VL_NONE) {
			b->pod = h->pod;
			b->port = h->flow.dport;
		}
		if (h->type == VL_HT_POLICY && h->access == VL_DENY) {
			b->np_pod = h->endpoint;
			b->np_dir = h->dir;
		}
	}
	if (v->outcome == VL_OUT_DELIVERED && v->dst_ep != VL_NONE)
		for (size_t i = 0; i < v->n_hops; i++)
			if (v->hops[i].type == VL_HT_KPROXY && v->hops[i].pod == v->dst_ep)
				b->listens = listens(&lab->eps[v->dst_ep], proto, v->hops[i].flow.dport);
}

bool vl_backend_same(const struct vl_backend_verdict *a, const struct vl_backend_verdict *b)
{
	if (a->outcome != b->outcome)
		return false;
	if (a->outcome == VL_OUT_DELIVERED)
		return a->listens == b->listens;
	if (a->outcome != VL_OUT_DENIED)
		return true;
	return a->nsg == b->nsg && a->rule == b->rule && a->policy_cluster == b->policy_cluster &&
	       a->policy == b->policy && (a->np_pod == VL_NONE) == (b->np_pod == VL_NONE) &&
	       (a->np_pod == VL_NONE || a->np_dir == b->np_dir);
}

struct walk {
	const struct vl_lab *lab;
	int from;
	uint32_t dst;
	enum vl_proto proto;
	uint16_t sport, dport;
	struct vl_verdict *scratch;
	struct vl_backend_verdict *out, first;
	size_t cap, n;
	bool mixed;
};

/* The flow with kube-proxy on `node` picking `pod`, and the load balancer `lb_node` (or none). */
static void one(struct walk *w, int node, int lb_node, int pod)
{
	struct vl_backend_verdict b;

	if (vl_eval_path_pick(w->lab, w->from, w->dst, w->proto, w->sport, w->dport, lb_node, pod,
			      w->scratch))
		return;
	summarize(w->lab, w->scratch, node, w->proto, &b);
	if (!w->n)
		w->first = b;
	else if (!vl_backend_same(&w->first, &b))
		w->mixed = true;
	if (w->n < w->cap)
		w->out[w->n] = b;
	w->n++;
}

/* Every pod kube-proxy on `node` may pick, each evaluated with the load balancer's pick lb_node. */
static void pods_of(struct walk *w, const struct vlev_service_flow *sf, int node, int lb_node, bool local)
{
	size_t n = vl_eff_kproxy_pods(w->lab, sf->cluster, sf->service, node, local, NULL, 0);
	int *pods = malloc((n ? n : 1) * sizeof(*pods));

	if (!pods)
		return;
	vl_eff_kproxy_pods(w->lab, sf->cluster, sf->service, node, local, pods, n);
	if (!n)
		one(w, node, lb_node, VL_NONE);
	for (size_t i = 0; i < n; i++)
		one(w, node, lb_node, pods[i]);
	free(pods);
}

static size_t walk(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		   uint16_t dport, struct vl_backend_verdict *out, size_t cap, bool *mixed)
{
	struct walk w = {lab, from, dst, proto, sport, dport, NULL, out, {0}, cap, 0, false};
	struct vlev_service_flow sf;

	*mixed = false;
	if (!lab || !lab->eff || !vlev_valid_ep(lab, from) ||
	    !vlev_service_flow(lab, from, dst, proto, dport, &sf))
		return 0;
	w.scratch = malloc(sizeof(*w.scratch));
	if (!w.scratch)
		return 0;
	if (sf.fe) {
		bool local = lab->aks[sf.cluster].services[sf.service].local;

		for (size_t i = 0; i < sf.fe->n_backends; i++)
			if (sf.fe->backends[i].healthy)
				pods_of(&w, &sf, sf.fe->backends[i].node, sf.fe->backends[i].node, local);
	} else {
		pods_of(&w, &sf, sf.node, VL_NONE, sf.local); /* the source's node, or the NodePort's */
	}
	free(w.scratch);
	*mixed = w.mixed;
	return w.n;
}

size_t vl_eval_backends(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
			uint16_t dport, struct vl_backend_verdict *out, size_t cap)
{
	bool mixed;

	return walk(lab, from, dst, proto, sport, dport, out, cap, &mixed);
}

void vlev_backends_fill(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
			uint16_t dport, struct vl_verdict *v)
{
	v->n_backends = walk(lab, from, dst, proto, sport, dport, v->backends, VL_MAX_BACKENDS, &v->mixed);
}
