// SPDX-License-Identifier: MIT
/*
 * A flow across the lab as Azure sees it (spec §3.3, §5, §6, §7): the
 * source address after the node's masquerade, then source NIC out, source
 * subnet out, destination subnet in, destination NIC in.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vnetlab/eval.h"
#include "vnetlab/ip.h"

#define EPHEMERAL_PORT 50000

static void note_add(struct vl_verdict *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note_add(struct vl_verdict *v, const char *fmt, ...)
{
	size_t used = strlen(v->note);
	va_list ap;

	if (used + 3 >= sizeof(v->note))
		return;
	if (used) {
		memcpy(v->note + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(v->note + used, sizeof(v->note) - used, fmt, ap);
	va_end(ap);
}

static bool valid_ep(const struct vl_lab *lab, int i)
{
	return i >= 0 && (size_t)i < lab->n_eps;
}

static bool valid_subnet(const struct vl_lab *lab, int i)
{
	return i >= 0 && (size_t)i < lab->n_subnets;
}

static int subnet_nsg(const struct vl_lab *lab, int s)
{
	return valid_subnet(lab, s) ? lab->subnets[s].nsg : VL_NONE;
}

static int subnet_vnet(const struct vl_lab *lab, int s)
{
	return valid_subnet(lab, s) ? lab->subnets[s].vnet : VL_NONE;
}

static bool in_prefixes(const struct vl_prefix *p, size_t n, uint32_t ip)
{
	for (size_t i = 0; i < n; i++)
		if (vl_prefix_contains(p[i], ip))
			return true;
	return false;
}

/* ip-masq-agent: is dst inside the cluster's nonMasqueradeCIDRs? */
static bool non_masq(const struct vl_lab *lab, const struct vl_aks *a, uint32_t dst)
{
	int vn;

	if (a->non_masq)
		return in_prefixes(a->non_masq, a->n_non_masq, dst);
	if (a->plugin == VL_PLUGIN_KUBENET)
		return vl_prefix_contains(a->pod_cidr, dst);
	vn = subnet_vnet(lab, a->subnet);
	if (vn < 0 || (size_t)vn >= lab->n_vnets)
		return false;
	return in_prefixes(lab->vnets[vn].spaces, lab->vnets[vn].n_spaces, dst);
}

static const struct vl_aks *ep_cluster(const struct vl_lab *lab, const struct vl_endpoint *e)
{
	if ((e->kind != VL_EP_POD && e->kind != VL_EP_NODE) || e->owner < 0 || (size_t)e->owner >= lab->n_aks)
		return NULL;
	return &lab->aks[e->owner];
}

static bool is_kubenet_pod(const struct vl_lab *lab, const struct vl_endpoint *e)
{
	const struct vl_aks *a = ep_cluster(lab, e);

	return e->kind == VL_EP_POD && a && a->plugin == VL_PLUGIN_KUBENET;
}

/*
 * The endpoint that owns dst. VNet addresses are unique; kubenet pod
 * addresses may repeat across clusters, so the source's own cluster wins.
 */
static int find_owner(const struct vl_lab *lab, uint32_t dst, int prefer_cluster)
{
	int pod = VL_NONE;

	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->ip != dst)
			continue;
		if (!is_kubenet_pod(lab, e))
			return (int)i;
		if (pod == VL_NONE || e->owner == prefer_cluster)
			pod = (int)i;
	}
	return pod;
}

/* The kubenet node whose pod /24 holds dst: where the cluster's UDR sends it. */
static int find_udr_node(const struct vl_lab *lab, uint32_t dst, int prefer_cluster)
{
	int node = VL_NONE;

	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->kind != VL_EP_NODE || !e->pod_cidr.len || !vl_prefix_contains(e->pod_cidr, dst))
			continue;
		if (node == VL_NONE || e->owner == prefer_cluster)
			node = (int)i;
	}
	return node;
}

static int find_subnet(const struct vl_lab *lab, uint32_t dst, int prefer_vnet)
{
	int s = VL_NONE;

	for (size_t i = 0; i < lab->n_subnets; i++) {
		if (!vl_prefix_contains(lab->subnets[i].prefix, dst))
			continue;
		if (s == VL_NONE || lab->subnets[i].vnet == prefer_vnet)
			s = (int)i;
	}
	return s;
}

struct path_end {
	int ep;	    /* the endpoint itself or VL_NONE */
	int nic;    /* endpoint whose NIC carries it or VL_NONE */
	int subnet; /* or VL_NONE */
};

static void resolve_dst(const struct vl_lab *lab, uint32_t dst, int prefer_cluster, int prefer_vnet,
			struct path_end *d, struct vl_verdict *v)
{
	char ip[VL_IP_STRLEN];

	d->ep = find_owner(lab, dst, prefer_cluster);
	d->nic = VL_NONE;
	d->subnet = VL_NONE;
	if (d->ep != VL_NONE) {
		const struct vl_endpoint *e = &lab->eps[d->ep];

		d->subnet = e->subnet;
		d->nic = valid_ep(lab, e->nic) ? e->nic : d->ep;
		if (is_kubenet_pod(lab, e) && valid_ep(lab, e->node))
			d->nic = e->node;
		if (e->kind == VL_EP_POD && valid_ep(lab, d->nic) && d->nic != d->ep)
			d->subnet = lab->eps[d->nic].subnet;
		return;
	}
	d->nic = find_udr_node(lab, dst, prefer_cluster);
	if (d->nic != VL_NONE) {
		d->subnet = lab->eps[d->nic].subnet;
		note_add(v, "%s is in the pod range of %s (routed there by the cluster's route table)",
			 vl_ip_fmt(dst, ip), lab->eps[d->nic].name);
		return;
	}
	d->subnet = find_subnet(lab, dst, prefer_vnet);
	if (d->subnet == VL_NONE)
		note_add(v, "%s is outside every subnet: no inbound NSG applies", vl_ip_fmt(dst, ip));
	else
		note_add(v, "no endpoint holds %s in subnet %s", vl_ip_fmt(dst, ip),
			 lab->subnets[d->subnet].name);
}

static int nic_nsg_of(const struct vl_lab *lab, int nic)
{
	if (!valid_ep(lab, nic) || lab->eps[nic].kind == VL_EP_CG)
		return VL_NONE; /* a container group has no NIC to carry an NSG */
	return lab->eps[nic].nic_nsg;
}

static bool hop(const struct vl_lab *lab, struct vl_verdict *v, int nsg, enum vl_dir dir,
		enum vl_hop_level lvl, int ep, int subnet, const struct vl_flow *f)
{
	struct vl_hop *h;

	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs || v->n_hops >= VL_MAX_HOPS)
		return true;
	h = &v->hops[v->n_hops++];
	h->nsg = nsg;
	h->dir = dir;
	h->level = lvl;
	h->endpoint = ep;
	h->subnet = subnet;
	h->flow = *f;
	h->rule = vl_eval_nsg(lab, nsg, dir, f);
	h->access = h->rule ? h->rule->access : VL_DENY;
	v->nsg = nsg;
	v->rule = h->rule;
	v->access = h->access;
	return h->access == VL_ALLOW;
}

static void verdict_init(struct vl_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->access = VL_ALLOW;
	v->nsg = VL_NONE;
	v->rule = NULL;
	v->dst_ep = VL_NONE;
}

static void evaluate(const struct vl_lab *lab, const struct path_end *s, const struct path_end *d,
		     const struct vl_flow *f, struct vl_verdict *v)
{
	int d_ep = d->ep != VL_NONE ? d->ep : d->nic;
	bool ok;

	ok = hop(lab, v, nic_nsg_of(lab, s->nic), VL_DIR_OUT, VL_HOP_NIC, s->nic, s->subnet, f);
	ok = ok && hop(lab, v, subnet_nsg(lab, s->subnet), VL_DIR_OUT, VL_HOP_SUBNET, s->ep, s->subnet, f);
	ok = ok && hop(lab, v, subnet_nsg(lab, d->subnet), VL_DIR_IN, VL_HOP_SUBNET, d_ep, d->subnet, f);
	ok = ok && hop(lab, v, nic_nsg_of(lab, d->nic), VL_DIR_IN, VL_HOP_NIC, d->nic, d->subnet, f);
	if (!v->n_hops)
		note_add(v, "no NSG on the path");
}

int vl_eval_path(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		 uint16_t dport, struct vl_verdict *v)
{
	const struct vl_endpoint *src;
	const struct vl_aks *cluster;
	struct path_end s, d;
	struct vl_flow f;
	char a[VL_IP_STRLEN], b[VL_IP_STRLEN], dnote[sizeof(v->note)];

	if (!lab || !v || !valid_ep(lab, from) || proto == VL_PROTO_ANY || (unsigned)proto > VL_PROTO_AH)
		return -EINVAL;
	verdict_init(v);
	src = &lab->eps[from];
	cluster = ep_cluster(lab, src);
	s.ep = from;
	s.nic = valid_ep(lab, src->nic) ? src->nic : from;
	s.subnet = src->subnet;
	if (src->kind == VL_EP_POD && s.nic != from)
		s.subnet = lab->eps[s.nic].subnet;

	f = (struct vl_flow){.proto = proto,
			     .src = src->ip,
			     .sport = sport ? sport : EPHEMERAL_PORT,
			     .dst = dst,
			     .dport = dport};
	/* the destination's note goes after the source's */
	resolve_dst(lab, dst, cluster ? src->owner : VL_NONE, subnet_vnet(lab, s.subnet), &d, v);
	snprintf(dnote, sizeof(dnote), "%s", v->note);
	v->note[0] = '\0';
	v->dst_ep = d.ep;

	if (d.nic != VL_NONE && d.nic == s.nic) {
		/* bridged or local inside one namespace: the fabric never sees it */
		v->seen_src = src->ip;
		if (src->kind == VL_EP_POD || (d.ep != VL_NONE && lab->eps[d.ep].kind == VL_EP_POD))
			note_add(v, "same node %s: crosses no NSG", lab->eps[s.nic].name);
		else
			note_add(v, "own address: crosses no NSG");
		return 0;
	}

	if (src->kind == VL_EP_POD && cluster && s.nic != from && !non_masq(lab, cluster, dst)) {
		f.src = lab->eps[s.nic].ip;
		note_add(v, "masqueraded to node %s (%s) by ip-masq-agent: %s is outside nonMasqueradeCIDRs",
			 vl_ip_fmt(f.src, a), lab->eps[s.nic].name, vl_ip_fmt(dst, b));
	} else if (src->kind == VL_EP_POD && cluster) {
		note_add(v, "pod address %s kept: %s is inside nonMasqueradeCIDRs", vl_ip_fmt(f.src, a),
			 vl_ip_fmt(dst, b));
	}
	if (dnote[0])
		note_add(v, "%s", dnote);
	v->seen_src = f.src;
	evaluate(lab, &s, &d, &f, v);
	return 0;
}
