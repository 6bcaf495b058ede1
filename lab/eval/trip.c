// SPDX-License-Identifier: MIT
/*
 * Trip by trip through the VNets (spec §3.3, §5-7, §12, §13, §23), on the effective model alone:
 * the sending subnet's effective route, the NSGs out of the sending NIC, the next hop (deliver,
 * appliance, peering, gateway, the edge), the NSGs into the receiving NIC; and the verdict's
 * primitives (notes, the end, hops) the other parts of the walk write with. The kernel plan reads
 * the same routes (lab/plan): the two agree by design.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path-int.h"
#include "vnetlab/ip.h"

#define MAX_TRIPS 8


void vlev_note(struct vl_verdict *v, const char *fmt, ...)
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

void vlev_end(struct vl_verdict *v, enum vl_outcome o, const char *fmt, ...)
{
	va_list ap;

	v->outcome = o;
	if (o == VL_OUT_UNREACHABLE)
		v->access = VL_DENY;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

bool vlev_valid_ep(const struct vl_lab *lab, int i)
{
	return i >= 0 && (size_t)i < lab->n_eps;
}

int vlev_ep_vnet(const struct vl_lab *lab, int ep)
{
	int s = lab->eps[ep].subnet;

	return s >= 0 && (size_t)s < lab->n_subnets ? lab->subnets[s].vnet : VL_NONE;
}

const struct vl_aks *vlev_ep_cluster(const struct vl_lab *lab, const struct vl_endpoint *e)
{
	if ((e->kind != VL_EP_POD && e->kind != VL_EP_NODE) || e->owner < 0 || (size_t)e->owner >= lab->n_aks)
		return NULL;
	return &lab->aks[e->owner];
}

bool vlev_is_kubenet_pod(const struct vl_lab *lab, const struct vl_endpoint *e)
{
	const struct vl_aks *a = vlev_ep_cluster(lab, e);

	return e->kind == VL_EP_POD && a && a->plugin == VL_PLUGIN_KUBENET;
}

/* The endpoint of VNet `vnet` that the fabric delivers dst to: a NIC or an Azure CNI pod. */
static int vnet_holder(const struct vl_lab *lab, int vnet, uint32_t dst)
{
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->ip == dst && !vlev_is_kubenet_pod(lab, e) && vlev_ep_vnet(lab, (int)i) == vnet)
			return (int)i;
	}
	return VL_NONE;
}

int vlev_outside_holder(const struct vl_lab *lab, enum vl_ep_kind kind, int owner, uint32_t dst)
{
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->ip == dst && e->kind == kind && (kind == VL_EP_INTERNET || e->owner == owner))
			return (int)i;
	}
	return VL_NONE;
}

/* A kubenet pod of node `node` holding dst. */
static int pod_on_node(const struct vl_lab *lab, int node, uint32_t dst)
{
	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].ip == dst && lab->eps[i].kind == VL_EP_POD && lab->eps[i].node == node)
			return (int)i;
	return VL_NONE;
}

int vlev_nic_nsg(const struct vl_lab *lab, int nic)
{
	if (!vlev_valid_ep(lab, nic) || lab->eps[nic].kind == VL_EP_CG)
		return VL_NONE; /* a container group has no NIC to carry an NSG */
	return lab->eps[nic].nic_nsg;
}

int vlev_subnet_nsg(const struct vl_lab *lab, int s)
{
	return s >= 0 && (size_t)s < lab->n_subnets ? lab->subnets[s].nsg : VL_NONE;
}

struct vl_hop *vlev_hop_new(struct vl_verdict *v, enum vl_hop_type t)
{
	static struct vl_hop spare; /* past VL_MAX_HOPS: written, never reported */
	struct vl_hop *h = v->n_hops < VL_MAX_HOPS ? &v->hops[v->n_hops++] : &spare;

	memset(h, 0, sizeof(*h));
	h->type = t;
	h->nsg = h->endpoint = h->subnet = h->scope = h->vnet = h->remote_vnet = VL_NONE;
	h->gateway = h->local_gateway = VL_NONE;
	h->cluster = h->service = h->pod = VL_NONE;
	h->policy = h->np_rule = VL_NONE;
	return h;
}

static bool nsg_hop(const struct vl_lab *lab, struct vl_verdict *v, int nsg, int scope, enum vl_dir dir,
		    enum vl_hop_level lvl, int ep, int subnet, const struct vl_flow *f)
{
	struct vl_hop *h;

	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs)
		return true;
	h = vlev_hop_new(v, VL_HT_NSG);
	h->nsg = nsg;
	h->dir = dir;
	h->level = lvl;
	h->endpoint = ep;
	h->subnet = subnet;
	h->scope = scope;
	h->flow = *f;
	h->rule = vl_eval_nsg(lab, nsg, scope, dir, f);
	h->access = h->rule ? h->rule->access : VL_DENY;
	v->nsg = nsg;
	v->rule = h->rule;
	v->access = h->access;
	if (h->access == VL_DENY)
		v->outcome = VL_OUT_DENIED;
	return h->access == VL_ALLOW;
}

/* Out of the NIC of endpoint nic (its own NSG, then its subnet's). */
static bool nsgs_out(const struct vl_lab *lab, struct vl_verdict *v, int nic, int src_ep, const struct vl_flow *f)
{
	int s = lab->eps[nic].subnet, k = vl_eff_endpoint_scope(lab, nic);

	return nsg_hop(lab, v, vlev_nic_nsg(lab, nic), k, VL_DIR_OUT, VL_HOP_NIC, nic, s, f) &&
	       nsg_hop(lab, v, vlev_subnet_nsg(lab, s), k, VL_DIR_OUT, VL_HOP_SUBNET, src_ep, s, f);
}

/* Into the NIC of endpoint nic for endpoint dst_ep (itself or a pod behind it). */
bool vlev_nsgs_in(const struct vl_lab *lab, struct vl_verdict *v, int nic, int dst_ep, const struct vl_flow *f)
{
	int s = lab->eps[nic].subnet, k = vl_eff_endpoint_scope(lab, nic);

	return nsg_hop(lab, v, vlev_subnet_nsg(lab, s), k, VL_DIR_IN, VL_HOP_SUBNET, dst_ep, s, f) &&
	       nsg_hop(lab, v, vlev_nic_nsg(lab, nic), k, VL_DIR_IN, VL_HOP_NIC, nic, s, f);
}

static void deliver(const struct vl_lab *lab, struct vl_verdict *v, int nic, int dst_ep, const struct vl_flow *f)
{
	if (!vlev_nsgs_in(lab, v, nic, dst_ep, f))
		return;
	v->dst_ep = dst_ep;
	v->outcome = VL_OUT_DELIVERED;
}

static void route_hop(struct vl_verdict *v, int vnet, int scope, const struct vl_eroute *r, const struct vl_flow *f)
{
	struct vl_hop *h = vlev_hop_new(v, VL_HT_ROUTE);

	h->vnet = vnet;
	h->scope = scope;
	h->route = r;
	h->flow = *f;
}

const char *vlev_route_words(const struct vl_lab *lab, const struct vl_eroute *r, char *buf, size_t len)
{
	char p[VL_PREFIX_STRLEN];

	if (r->table != VL_NONE)
		snprintf(buf, len, "route '%s' of route table '%s' (%s %s)",
			 lab->route_tables[r->table].routes[r->route].name, lab->route_tables[r->table].name,
			 vl_prefix_fmt(r->prefix, p), vl_nh_name(r->hop));
	else
		snprintf(buf, len, "%s route %s %s", vl_route_src_name(r->source), vl_prefix_fmt(r->prefix, p),
			 vl_nh_name(r->hop));
	return buf;
}

/* Through gateway g to the on-premises network that holds dst. */
static void to_onprem(const struct vl_lab *lab, struct vl_verdict *v, int g, int vnet, const struct vl_flow *f)
{
	struct vl_hop *h = vlev_hop_new(v, VL_HT_GATEWAY);
	char ip[VL_IP_STRLEN];

	h->vnet = vnet;
	h->gateway = g;
	h->flow = *f;
	for (size_t c = 0; c < lab->n_connections; c++) {
		const struct vl_local_gateway *lg = &lab->local_gateways[lab->connections[c].local_gateway];
		int host;

		if (lab->connections[c].gateway != g)
			continue;
		for (size_t i = 0; i < lg->n_prefixes; i++) {
			if (!vl_prefix_contains(lg->prefixes[i], f->dst))
				continue;
			h->local_gateway = lab->connections[c].local_gateway;
			host = vlev_outside_holder(lab, VL_EP_ONPREM, h->local_gateway, f->dst);
			if (host == VL_NONE) {
				vlev_end(v, VL_OUT_NO_HOST, "no host of on-premises network %s holds %s", lg->name,
				    vl_ip_fmt(f->dst, ip));
				return;
			}
			v->dst_ep = host;
			v->outcome = VL_OUT_DELIVERED;
			return;
		}
	}
	vlev_end(v, VL_OUT_NO_HOST, "gateway %s has no connection toward %s", lab->gateways[g].name, vl_ip_fmt(f->dst, ip));
}

static void to_internet(const struct vl_lab *lab, struct vl_verdict *v, int vnet, struct vl_flow *f)
{
	struct vl_hop *h = vlev_hop_new(v, VL_HT_EDGE);
	char ip[VL_IP_STRLEN];
	int host;

	h->vnet = vnet;
	h->flow = *f;
	h = vlev_hop_new(v, VL_HT_NAT);
	h->vnet = vnet;
	h->nat_from = f->src;
	/* spec 14.1: NAT gateway, instance public IP, LB outbound, default outbound (lab/effective/lb.c) */
	h->nat_to = vl_eff_snat_for(lab, vnet, f->src, &h->snat);
	f->src = h->nat_to;
	h->flow = *f;
	v->seen_src = f->src;
	host = vlev_outside_holder(lab, VL_EP_INTERNET, VL_NONE, f->dst);
	if (host == VL_NONE) {
		vlev_end(v, VL_OUT_NO_HOST, "no Internet host holds %s: dropped at the edge", vl_ip_fmt(f->dst, ip));
		return;
	}
	v->dst_ep = host;
	v->outcome = VL_OUT_DELIVERED;
}

/* Into VNet `to` over its peering with `from`, if that peering admits the source (spec 12.4). */
static bool cross_peering(const struct vl_lab *lab, struct vl_verdict *v, int from, int to, const struct vl_flow *f)
{
	struct vl_hop *h = vlev_hop_new(v, VL_HT_PEERING);
	char ip[VL_IP_STRLEN];

	h->vnet = from;
	h->remote_vnet = to;
	h->flow = *f;
	if (vl_eff_peering_admits(lab, from, to, f->src))
		return true;
	vlev_end(v, VL_OUT_NO_HOST,
	    "dropped silently: peering %s of vnet %s does not allow forwarded traffic, and %s is not an address of vnet %s",
	    vl_eff_peering(lab, to, from)->name, lab->vnets[to].name, vl_ip_fmt(f->src, ip), lab->vnets[from].name);
	return false;
}

/*
 * Trips through the fabrics, starting in `vnet` from the NIC of endpoint `nic`
 * (VL_NONE: the packet enters the VNet from a peering or a gateway, and its
 * system scope routes it).
 */
void vlev_travel(const struct vl_lab *lab, struct vl_verdict *v, int vnet, int nic, int src_ep,
		 struct vl_flow *f, const struct vlev_pick *pick)
{
	char words[200], ip[VL_IP_STRLEN];
	int forwarded_by = VL_NONE; /* the last appliance that forwarded the packet */

	for (int trip = 0; trip < MAX_TRIPS; trip++) {
		int scope = nic != VL_NONE ? vl_eff_endpoint_scope(lab, nic) : vnet;
		const struct vl_eroute *r = vl_eff_route(lab->eff, scope, f->dst);
		int to;

		if (!r) {
			vlev_end(v, VL_OUT_UNREACHABLE, "no route to %s in vnet %s", vl_ip_fmt(f->dst, ip),
			    lab->vnets[vnet].name);
			return;
		}
		route_hop(v, vnet, scope, r, f);
		if (r->hop == VL_NH_NONE || (r->hop == VL_NH_GATEWAY && r->gateway == VL_NONE)) {
			vlev_end(v, VL_OUT_UNREACHABLE, "dropped by %s", vlev_route_words(lab, r, words, sizeof(words)));
			return;
		}
		if (nic != VL_NONE && !nsgs_out(lab, v, nic, src_ep, f))
			return;
		switch (r->hop) {
		case VL_NH_VNET_LOCAL:
			to = vnet_holder(lab, vnet, f->dst);
			if (to == VL_NONE) {
				vlev_end(v, VL_OUT_NO_HOST, "no endpoint of vnet %s holds %s", lab->vnets[vnet].name,
				    vl_ip_fmt(f->dst, ip));
				return;
			}
			if (!vlev_to_node_port(lab, v, to, src_ep, f, pick))
				deliver(lab, v, lab->eps[to].nic, to, f);
			return;
		case VL_NH_APPLIANCE: {
			int nva = r->cluster != VL_NONE ? r->route : vl_eff_appliance(lab, vnet, r->hop_ip);
			struct vl_hop *h;

			if (!vlev_valid_ep(lab, nva)) {
				vlev_end(v, VL_OUT_UNREACHABLE, "no NIC holds next hop %s", vl_ip_fmt(r->hop_ip, ip));
				return;
			}
			if (r->cluster != VL_NONE) { /* the cluster's route table: the node bridges to its pod */
				int pod = pod_on_node(lab, nva, f->dst);

				if (pod == VL_NONE) {
					if (vlev_nsgs_in(lab, v, nva, nva, f))
						vlev_end(v, VL_OUT_NO_HOST, "no pod of %s holds %s", lab->eps[nva].name,
						    vl_ip_fmt(f->dst, ip));
					return;
				}
				deliver(lab, v, nva, pod, f);
				return;
			}
			if (vlev_ep_vnet(lab, nva) != vnet) { /* the hub's appliance, across the peering */
				if (!cross_peering(lab, v, vnet, vlev_ep_vnet(lab, nva), f))
					return;
				vnet = vlev_ep_vnet(lab, nva);
			}
			h = vlev_hop_new(v, VL_HT_APPLIANCE);
			h->endpoint = nva;
			h->vnet = vnet;
			h->flow = *f;
			if (f->dst == lab->eps[nva].ip) {
				deliver(lab, v, nva, nva, f);
				return;
			}
			if (!vlev_nsgs_in(lab, v, nva, nva, f))
				return;
			if (lab->eps[nva].kind == VL_EP_VM && !lab->vms[lab->eps[nva].owner].ip_forwarding) {
				vlev_end(v, VL_OUT_UNREACHABLE,
				    "appliance %s does not forward (enableIpForwarding is off on its NIC), next hop of %s",
				    lab->eps[nva].name, vlev_route_words(lab, r, words, sizeof(words)));
				return;
			}
			nic = src_ep = forwarded_by = nva;
			continue;
		}
		case VL_NH_PEERING:
			if (!cross_peering(lab, v, vnet, r->remote_vnet, f))
				return;
			vnet = r->remote_vnet;
			nic = VL_NONE;
			continue;
		case VL_NH_GATEWAY:
			/* gateway transit: through the hub first */
			if (r->remote_vnet != vnet && !cross_peering(lab, v, vnet, r->remote_vnet, f))
				return;
			to_onprem(lab, v, r->gateway, r->remote_vnet, f);
			return;
		case VL_NH_INTERNET:
			if (forwarded_by != VL_NONE && f->src != lab->eps[forwarded_by].ip) {
				/* The SDN translates a NIC's own address only (spec 19.2: the NVA must SNAT). */
				vlev_hop_new(v, VL_HT_EDGE)->vnet = vnet;
				vlev_end(v, VL_OUT_NO_HOST,
				    "appliance %s forwards with source %s, not its own address: the default outbound "
				    "SNAT covers a NIC's own address only, so no reply comes back (the appliance must SNAT)",
				    lab->eps[forwarded_by].name, vl_ip_fmt(f->src, ip));
				return;
			}
			to_internet(lab, v, vnet, f);
			return;
		case VL_NH_NONE:
			break;
		}
	}
	vlev_end(v, VL_OUT_UNREACHABLE, "routing loop: more than %d trips", MAX_TRIPS);
}
