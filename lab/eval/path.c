// SPDX-License-Identifier: MIT
/*
 * A flow across the lab as Azure sees it (spec §3.3, §5-7, §12-15, §19, §23), on the effective
 * model alone: where it starts (a NIC, a pod behind its node's masquerade, the Internet,
 * on-premises), the address it is sent to (the same NIC, a platform address: platform.c; a
 * Service: kproxy.c), then trip by trip through the VNets (trip.c), and whether the reply finds
 * its way back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "path-int.h"
#include "vnetlab/ip.h"

#define EPHEMERAL_PORT 50000

/* From the Internet to an instance public IP: 1:1 NAT at the edge, then the VM's NSGs see the
 * private destination (spec 14.1). */
static void to_ilpip(const struct vl_lab *lab, struct vl_verdict *v, int vm, struct vl_flow *f)
{
	struct vl_hop *h = vlev_hop_new(v, VL_HT_NAT);
	int vnet = vlev_ep_vnet(lab, vm);

	h->vnet = vnet;
	h->dnat = true;
	h->snat = VL_SNAT_ILPIP;
	h->nat_from = f->dst;
	h->nat_to = f->dst = lab->eps[vm].ip;
	h->flow = *f;
	vlev_travel(lab, v, vnet, VL_NONE, VL_NONE, f, NULL);
}

/* From the Internet: its hosts, instance public IPs and LoadBalancer frontends; replies to the
 * VNets' outbound addresses. */
static void from_internet(const struct vl_lab *lab, struct vl_verdict *v, struct vl_flow *f,
			  const struct vlev_pick *pick)
{
	const struct vl_frontend *fe = vl_eff_frontend(lab->eff, f->dst);
	char ip[VL_IP_STRLEN];
	int host = vlev_outside_holder(lab, VL_EP_INTERNET, VL_NONE, f->dst), vm = vl_eff_ilpip_owner(lab, f->dst);

	if (host != VL_NONE) {
		v->dst_ep = host;
		v->outcome = VL_OUT_DELIVERED;
		return;
	}
	if (vm != VL_NONE) {
		to_ilpip(lab, v, vm, f);
		return;
	}
	if (fe) {
		vlev_to_frontend(lab, v, fe, f, pick);
		return;
	}
	vlev_end(v, VL_OUT_NO_HOST, "nothing on the Internet answers for %s (no inbound path to private addresses)",
	    vl_ip_fmt(f->dst, ip));
}

/* From on-premises: its own hosts, or through its gateway to the hub and its transit spokes. */
static void from_onprem(const struct vl_lab *lab, struct vl_verdict *v, const struct vl_endpoint *src,
			struct vl_flow *f, const struct vlev_pick *pick)
{
	const struct vl_local_gateway *lg = &lab->local_gateways[src->owner];
	char ip[VL_IP_STRLEN];
	int host = vlev_outside_holder(lab, VL_EP_ONPREM, src->owner, f->dst);

	if (host != VL_NONE) {
		v->dst_ep = host;
		v->outcome = VL_OUT_DELIVERED;
		return;
	}
	for (size_t i = 0; i < lg->n_prefixes; i++)
		if (vl_prefix_contains(lg->prefixes[i], f->dst)) {
			vlev_end(v, VL_OUT_NO_HOST, "no host of %s holds %s", lg->name, vl_ip_fmt(f->dst, ip));
			return;
		}
	for (size_t c = 0; c < lab->n_connections; c++) {
		int g = lab->connections[c].gateway;

		if (lab->connections[c].local_gateway != src->owner)
			continue;
		for (size_t w = 0; w < lab->n_vnets; w++) {
			const struct vl_vnet *vn = &lab->vnets[w];
			if (!vl_eff_uses_gateway(lab, (int)w, g))
				continue;
			for (size_t i = 0; i < vn->n_spaces; i++) {
				struct vl_hop *h;

				if (!vl_prefix_contains(vn->spaces[i], f->dst))
					continue;
				h = vlev_hop_new(v, VL_HT_GATEWAY);
				h->vnet = lab->gateways[g].vnet;
				h->gateway = g;
				h->local_gateway = src->owner;
				h->flow = *f;
				vlev_travel(lab, v, lab->gateways[g].vnet, VL_NONE, VL_NONE, f, pick);
				return;
			}
		}
	}
	vlev_end(v, VL_OUT_UNREACHABLE, "on-premises network %s has no route to %s", lg->name, vl_ip_fmt(f->dst, ip));
}

/*
 * Replies follow the destination subnet's routes, not the way the request came: a flow sent
 * through an appliance by one side's route table dies if the other side routes the reply into
 * a None route (spec 23.3). Checked for the first trip back.
 */
static void reply_route(const struct vl_lab *lab, struct vl_verdict *v)
{
	const struct vl_eroute *r;
	char words[200];
	int scope;

	if (v->outcome != VL_OUT_DELIVERED || v->dst_ep == VL_NONE)
		return;
	scope = vl_eff_endpoint_scope(lab, v->dst_ep);
	if (scope == VL_NONE)
		return;
	r = vl_eff_route(lab->eff, scope, v->seen_src);
	if (!r || r->hop == VL_NH_NONE || (r->hop == VL_NH_GATEWAY && r->gateway == VL_NONE))
		vlev_end(v, VL_OUT_NO_HOST, "the reply is dropped: from %s, %s", lab->eps[v->dst_ep].name,
		    r ? vlev_route_words(lab, r, words, sizeof(words)) : "no route back");
}

static void verdict_init(struct vl_verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->access = VL_ALLOW;
	v->outcome = VL_OUT_DELIVERED;
	v->nsg = VL_NONE;
	v->rule = NULL;
	v->dst_ep = VL_NONE;
	v->policy_cluster = v->policy = VL_NONE;
}

/* The endpoint sharing the source's NIC that holds dst: bridged or local, the fabric never sees it. */
static int same_nic(const struct vl_lab *lab, int nic, uint32_t dst)
{
	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].ip == dst && lab->eps[i].nic == nic && lab->eps[i].kind != VL_EP_INTERNET &&
		    lab->eps[i].kind != VL_EP_ONPREM)
			return (int)i;
	return VL_NONE;
}

static int path(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		uint16_t dport, const struct vlev_pick *pick, struct vl_verdict *v)
{
	const struct vl_endpoint *src;
	const struct vl_aks *cluster;
	struct vl_flow f;
	char a[VL_IP_STRLEN], b[VL_IP_STRLEN];
	int nic, here, vnet;

	if (!lab || !lab->eff || !v || !vlev_valid_ep(lab, from) || proto == VL_PROTO_ANY ||
	    (unsigned)proto > VL_PROTO_AH)
		return -EINVAL;
	verdict_init(v);
	src = &lab->eps[from];
	f = (struct vl_flow){.proto = proto,
			     .src = src->ip,
			     .sport = sport ? sport : EPHEMERAL_PORT,
			     .dst = dst,
			     .dport = dport};
	v->seen_src = src->ip;
	if (src->kind == VL_EP_INTERNET) {
		from_internet(lab, v, &f, pick);
		if (v->outcome == VL_OUT_DELIVERED)
			reply_route(lab, v);
		return 0;
	}
	if (src->kind == VL_EP_ONPREM) {
		from_onprem(lab, v, src, &f, pick);
		v->seen_src = f.src;
		return 0;
	}
	nic = vlev_valid_ep(lab, src->nic) ? src->nic : from;
	vnet = vlev_ep_vnet(lab, nic);
	here = same_nic(lab, nic, dst);
	if (here != VL_NONE) {
		v->dst_ep = here;
		if (src->kind == VL_EP_POD || lab->eps[here].kind == VL_EP_POD)
			vlev_note(v, "same node %s: crosses no NSG", lab->eps[nic].name);
		else
			vlev_note(v, "own address: crosses no NSG");
		return 0;
	}
	if (vl_eff_is_platform_addr(dst)) {
		vlev_platform_path(lab, v, nic, from, &f);
		return 0;
	}
	cluster = vlev_ep_cluster(lab, src);
	if (src->virtual_node) { /* a container group: no node, no ip-masq-agent, no kube-proxy here */
		cluster = NULL;
		vlev_note(v, "%s runs on the virtual node: a container group in subnet %s", src->name,
			 lab->subnets[src->subnet].name);
	}
	if (cluster && vlev_in_cluster_service(lab, v, src, nic, &f, pick)) {
		dst = f.dst;
		if (v->outcome != VL_OUT_DELIVERED)
			return 0;
		here = same_nic(lab, nic, dst);
		if (here != VL_NONE) {
			v->dst_ep = here;
			vlev_note(v, "same node %s: crosses no NSG", lab->eps[nic].name);
			return 0;
		}
	}
	if (src->kind == VL_EP_POD && cluster && nic != from && !vl_eff_non_masq(lab->eff, src->owner, dst)) {
		struct vl_hop *h = vlev_hop_new(v, VL_HT_NAT);

		h->endpoint = nic;
		h->nat_from = f.src;
		h->nat_to = lab->eps[nic].ip;
		f.src = h->nat_to;
		h->flow = f;
		vlev_note(v, "masqueraded to node %s (%s) by ip-masq-agent: %s is outside nonMasqueradeCIDRs",
			 vl_ip_fmt(f.src, a), lab->eps[nic].name, vl_ip_fmt(dst, b));
	} else if (src->kind == VL_EP_POD && cluster) {
		vlev_note(v, "pod address %s kept: %s is inside nonMasqueradeCIDRs", vl_ip_fmt(f.src, a),
			 vl_ip_fmt(dst, b));
	}
	v->seen_src = f.src;
	vlev_travel(lab, v, vnet, nic, from, &f, pick);
	reply_route(lab, v);
	if (v->outcome == VL_OUT_DELIVERED && v->dst_ep != VL_NONE && lab->eps[v->dst_ep].kind == VL_EP_POD &&
	    vlev_is_kubenet_pod(lab, &lab->eps[v->dst_ep]))
		vlev_note(v, "%s is in the pod range of %s (routed there by the cluster's route table)",
			 vl_ip_fmt(dst, a), lab->eps[lab->eps[v->dst_ep].node].name);
	if (v->outcome == VL_OUT_DELIVERED && v->dst_ep != VL_NONE && lab->eps[v->dst_ep].virtual_node)
		vlev_note(v, "%s runs on the virtual node: a container group, only subnet %s's NSG applies",
			 lab->eps[v->dst_ep].name, lab->subnets[lab->eps[v->dst_ep].subnet].name);
	if (!v->n_hops || v->nsg == VL_NONE)
		vlev_note(v, "no NSG on the path");
	return 0;
}

int vl_eval_path_pick(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		      uint16_t dport, int node, int pod, struct vl_verdict *v)
{
	struct vlev_pick pick = {node, pod};
	int rc = path(lab, from, dst, proto, sport, dport, &pick, v);

	if (!rc)
		vl_eval_netpol(lab, from, dst, proto, dport, v);
	return rc;
}

int vl_eval_path(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		 uint16_t dport, struct vl_verdict *v)
{
	int rc = vl_eval_path_pick(lab, from, dst, proto, sport, dport, VL_NONE, VL_NONE, v);

	if (!rc)
		vlev_backends_fill(lab, from, dst, proto, sport, dport, v);
	return rc;
}

const char *vl_outcome_name(enum vl_outcome o)
{
	static const char *const names[] = {"delivered", "denied", "unreachable", "nohost"};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}
