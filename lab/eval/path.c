// SPDX-License-Identifier: MIT
/*
 * A flow across the lab as Azure sees it (spec §3.3, §5-7, §12, §13, §19,
 * §23), on the effective model alone: the source address after the node's
 * masquerade; then trip by trip through each VNet, the sending subnet's
 * effective route, the NSGs out of the sending NIC, the next hop (deliver,
 * appliance, peering, gateway, the edge), the NSGs into the receiving NIC.
 * The kernel plan reads the same routes (lab/plan): the two agree by design.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"

#define EPHEMERAL_PORT 50000
#define MAX_TRIPS 8

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

static void end(struct vl_verdict *v, enum vl_outcome o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void end(struct vl_verdict *v, enum vl_outcome o, const char *fmt, ...)
{
	va_list ap;

	v->outcome = o;
	if (o == VL_OUT_UNREACHABLE)
		v->access = VL_DENY;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

static bool valid_ep(const struct vl_lab *lab, int i)
{
	return i >= 0 && (size_t)i < lab->n_eps;
}

static int ep_vnet(const struct vl_lab *lab, int ep)
{
	int s = lab->eps[ep].subnet;

	return s >= 0 && (size_t)s < lab->n_subnets ? lab->subnets[s].vnet : VL_NONE;
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

/* The endpoint of VNet `vnet` that the fabric delivers dst to: a NIC or an Azure CNI pod. */
static int vnet_holder(const struct vl_lab *lab, int vnet, uint32_t dst)
{
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->ip == dst && !is_kubenet_pod(lab, e) && ep_vnet(lab, (int)i) == vnet)
			return (int)i;
	}
	return VL_NONE;
}

static int outside_holder(const struct vl_lab *lab, enum vl_ep_kind kind, int owner, uint32_t dst)
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

static int nic_nsg_of(const struct vl_lab *lab, int nic)
{
	if (!valid_ep(lab, nic) || lab->eps[nic].kind == VL_EP_CG)
		return VL_NONE; /* a container group has no NIC to carry an NSG */
	return lab->eps[nic].nic_nsg;
}

static int subnet_nsg(const struct vl_lab *lab, int s)
{
	return s >= 0 && (size_t)s < lab->n_subnets ? lab->subnets[s].nsg : VL_NONE;
}

static struct vl_hop *hop_new(struct vl_verdict *v, enum vl_hop_type t)
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
	h = hop_new(v, VL_HT_NSG);
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

	return nsg_hop(lab, v, nic_nsg_of(lab, nic), k, VL_DIR_OUT, VL_HOP_NIC, nic, s, f) &&
	       nsg_hop(lab, v, subnet_nsg(lab, s), k, VL_DIR_OUT, VL_HOP_SUBNET, src_ep, s, f);
}

/* Into the NIC of endpoint nic for endpoint dst_ep (itself or a pod behind it). */
static bool nsgs_in(const struct vl_lab *lab, struct vl_verdict *v, int nic, int dst_ep, const struct vl_flow *f)
{
	int s = lab->eps[nic].subnet, k = vl_eff_endpoint_scope(lab, nic);

	return nsg_hop(lab, v, subnet_nsg(lab, s), k, VL_DIR_IN, VL_HOP_SUBNET, dst_ep, s, f) &&
	       nsg_hop(lab, v, nic_nsg_of(lab, nic), k, VL_DIR_IN, VL_HOP_NIC, nic, s, f);
}

static void deliver(const struct vl_lab *lab, struct vl_verdict *v, int nic, int dst_ep, const struct vl_flow *f)
{
	if (!nsgs_in(lab, v, nic, dst_ep, f))
		return;
	v->dst_ep = dst_ep;
	v->outcome = VL_OUT_DELIVERED;
}

static void route_hop(struct vl_verdict *v, int vnet, int scope, const struct vl_eroute *r, const struct vl_flow *f)
{
	struct vl_hop *h = hop_new(v, VL_HT_ROUTE);

	h->vnet = vnet;
	h->scope = scope;
	h->route = r;
	h->flow = *f;
}

static const char *route_words(const struct vl_lab *lab, const struct vl_eroute *r, char *buf, size_t len)
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
	struct vl_hop *h = hop_new(v, VL_HT_GATEWAY);
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
			host = outside_holder(lab, VL_EP_ONPREM, h->local_gateway, f->dst);
			if (host == VL_NONE) {
				end(v, VL_OUT_NO_HOST, "no host of on-premises network %s holds %s", lg->name,
				    vl_ip_fmt(f->dst, ip));
				return;
			}
			v->dst_ep = host;
			v->outcome = VL_OUT_DELIVERED;
			return;
		}
	}
	end(v, VL_OUT_NO_HOST, "gateway %s has no connection toward %s", lab->gateways[g].name, vl_ip_fmt(f->dst, ip));
}

static void to_internet(const struct vl_lab *lab, struct vl_verdict *v, int vnet, struct vl_flow *f)
{
	struct vl_hop *h = hop_new(v, VL_HT_EDGE);
	char ip[VL_IP_STRLEN];
	int host;

	h->vnet = vnet;
	h->flow = *f;
	h = hop_new(v, VL_HT_NAT);
	h->vnet = vnet;
	h->nat_from = f->src;
	/* spec 14.1: NAT gateway, instance public IP, LB outbound, default outbound (lab/effective/lb.c) */
	h->nat_to = vl_eff_snat_for(lab, vnet, f->src, &h->snat);
	f->src = h->nat_to;
	h->flow = *f;
	v->seen_src = f->src;
	host = outside_holder(lab, VL_EP_INTERNET, VL_NONE, f->dst);
	if (host == VL_NONE) {
		end(v, VL_OUT_NO_HOST, "no Internet host holds %s: dropped at the edge", vl_ip_fmt(f->dst, ip));
		return;
	}
	v->dst_ep = host;
	v->outcome = VL_OUT_DELIVERED;
}

/* Into VNet `to` over its peering with `from`, if that peering admits the source (spec 12.4). */
static bool cross_peering(const struct vl_lab *lab, struct vl_verdict *v, int from, int to, const struct vl_flow *f)
{
	struct vl_hop *h = hop_new(v, VL_HT_PEERING);
	char ip[VL_IP_STRLEN];

	h->vnet = from;
	h->remote_vnet = to;
	h->flow = *f;
	if (vl_eff_peering_admits(lab, from, to, f->src))
		return true;
	end(v, VL_OUT_NO_HOST,
	    "dropped silently: peering %s of vnet %s does not allow forwarded traffic, and %s is not an address of vnet %s",
	    vl_eff_peering(lab, to, from)->name, lab->vnets[to].name, vl_ip_fmt(f->src, ip), lab->vnets[from].name);
	return false;
}

/*
 * Trips through the fabrics, starting in `vnet` from the NIC of endpoint `nic`
 * (VL_NONE: the packet enters the VNet from a peering or a gateway, and its
 * system scope routes it).
 */
static void travel(const struct vl_lab *lab, struct vl_verdict *v, int vnet, int nic, int src_ep, struct vl_flow *f)
{
	char words[200], ip[VL_IP_STRLEN];
	int forwarded_by = VL_NONE; /* the last appliance that forwarded the packet */

	for (int trip = 0; trip < MAX_TRIPS; trip++) {
		int scope = nic != VL_NONE ? vl_eff_endpoint_scope(lab, nic) : vnet;
		const struct vl_eroute *r = vl_eff_route(lab->eff, scope, f->dst);
		int to;

		if (!r) {
			end(v, VL_OUT_UNREACHABLE, "no route to %s in vnet %s", vl_ip_fmt(f->dst, ip),
			    lab->vnets[vnet].name);
			return;
		}
		route_hop(v, vnet, scope, r, f);
		if (r->hop == VL_NH_NONE || (r->hop == VL_NH_GATEWAY && r->gateway == VL_NONE)) {
			end(v, VL_OUT_UNREACHABLE, "dropped by %s", route_words(lab, r, words, sizeof(words)));
			return;
		}
		if (nic != VL_NONE && !nsgs_out(lab, v, nic, src_ep, f))
			return;
		switch (r->hop) {
		case VL_NH_VNET_LOCAL:
			to = vnet_holder(lab, vnet, f->dst);
			if (to == VL_NONE) {
				end(v, VL_OUT_NO_HOST, "no endpoint of vnet %s holds %s", lab->vnets[vnet].name,
				    vl_ip_fmt(f->dst, ip));
				return;
			}
			deliver(lab, v, lab->eps[to].nic, to, f);
			return;
		case VL_NH_APPLIANCE: {
			int nva = r->cluster != VL_NONE ? r->route : vl_eff_appliance(lab, vnet, r->hop_ip);
			struct vl_hop *h;

			if (!valid_ep(lab, nva)) {
				end(v, VL_OUT_UNREACHABLE, "no NIC holds next hop %s", vl_ip_fmt(r->hop_ip, ip));
				return;
			}
			if (r->cluster != VL_NONE) { /* the cluster's route table: the node bridges to its pod */
				int pod = pod_on_node(lab, nva, f->dst);

				if (pod == VL_NONE) {
					if (nsgs_in(lab, v, nva, nva, f))
						end(v, VL_OUT_NO_HOST, "no pod of %s holds %s", lab->eps[nva].name,
						    vl_ip_fmt(f->dst, ip));
					return;
				}
				deliver(lab, v, nva, pod, f);
				return;
			}
			if (ep_vnet(lab, nva) != vnet) { /* the hub's appliance, across the peering */
				if (!cross_peering(lab, v, vnet, ep_vnet(lab, nva), f))
					return;
				vnet = ep_vnet(lab, nva);
			}
			h = hop_new(v, VL_HT_APPLIANCE);
			h->endpoint = nva;
			h->vnet = vnet;
			h->flow = *f;
			if (f->dst == lab->eps[nva].ip) {
				deliver(lab, v, nva, nva, f);
				return;
			}
			if (!nsgs_in(lab, v, nva, nva, f))
				return;
			if (lab->eps[nva].kind == VL_EP_VM && !lab->vms[lab->eps[nva].owner].ip_forwarding) {
				end(v, VL_OUT_UNREACHABLE,
				    "appliance %s does not forward (enableIpForwarding is off on its NIC), next hop of %s",
				    lab->eps[nva].name, route_words(lab, r, words, sizeof(words)));
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
				hop_new(v, VL_HT_EDGE)->vnet = vnet;
				end(v, VL_OUT_NO_HOST,
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
	end(v, VL_OUT_UNREACHABLE, "routing loop: more than %d trips", MAX_TRIPS);
}

static void travel(const struct vl_lab *lab, struct vl_verdict *v, int vnet, int nic, int src_ep, struct vl_flow *f);

/* The pod kube-proxy sends a flow for service `s` of cluster `c` to, from node `node` (VL_NONE: any):
 * a pod on that node when there is one (Local allows no other), else the first. */
static int kproxy_pod(const struct vl_lab *lab, int c, int s, int node, bool local_only, int *candidates)
{
	int first = VL_NONE, here = VL_NONE;

	const struct vl_svc_pods *sel = vl_eff_service_pods(lab, c, s);

	*candidates = 0;
	for (size_t k = 0; k < sel->n; k++) {
		const struct vl_endpoint *e = &lab->eps[sel->pods[k]];

		if (local_only && e->node != node)
			continue;
		++*candidates;
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
		   const struct vl_svc_port *sp, bool local_only, bool masq, struct vl_flow *f, int *pod)
{
	struct vl_hop *h;
	int n;

	*pod = kproxy_pod(lab, c, s, node, local_only, &n);
	h = hop_new(v, VL_HT_KPROXY);
	h->endpoint = node;
	h->cluster = c;
	h->service = s;
	h->nat_from = f->dst;
	h->candidates = n;
	h->masq = masq;
	if (*pod == VL_NONE) {
		h->flow = *f;
		end(v, VL_OUT_UNREACHABLE, "service %s has no endpoints: kube-proxy rejects the connection",
		    lab->aks[c].services[s].name);
		return false;
	}
	h->pod = *pod;
	h->nat_to = f->dst = lab->eps[*pod].ip;
	f->dport = sp->target_port;
	/* masquerade takes the address of the way out: a kubenet pod of this node is behind cbr0 */
	if (masq)
		f->src = lab->eps[node].pod_cidr.len && lab->eps[*pod].node == node ? lab->eps[node].pod_cidr.addr + 1
										    : lab->eps[node].ip;
	h->flow = *f;
	return true;
}

/* From the Internet to an instance public IP: 1:1 NAT at the edge, then the VM's NSGs see the
 * private destination (spec 14.1). */
static void to_ilpip(const struct vl_lab *lab, struct vl_verdict *v, int vm, struct vl_flow *f)
{
	struct vl_hop *h = hop_new(v, VL_HT_NAT);
	int vnet = ep_vnet(lab, vm);

	h->vnet = vnet;
	h->dnat = true;
	h->snat = VL_SNAT_ILPIP;
	h->nat_from = f->dst;
	h->nat_to = f->dst = lab->eps[vm].ip;
	h->flow = *f;
	travel(lab, v, vnet, VL_NONE, VL_NONE, f);
}

/* From the Internet to a LoadBalancer frontend: a healthy backend node (floating IP: the node's
 * NSGs see the frontend address), then kube-proxy on it (spec 15.4). */
static void to_frontend(const struct vl_lab *lab, struct vl_verdict *v, const struct vl_frontend *fe,
			struct vl_flow *f)
{
	const struct vl_service *sv = &lab->aks[fe->cluster].services[fe->service];
	const struct vl_svc_port *sp = svc_port(sv, f->proto, f->dport);
	const struct vl_backend *be = NULL;
	char ip[VL_IP_STRLEN];
	struct vl_hop *h;
	int healthy = 0, pod, node;

	vl_ip_fmt(fe->ip, ip);
	if (!sp) {
		end(v, VL_OUT_NO_HOST, "load balancer frontend %s (service %s) has no rule for %s port %u", ip,
		    sv->name, vl_proto_name(f->proto), f->dport);
		return;
	}
	for (size_t i = 0; i < fe->n_backends; i++)
		if (fe->backends[i].healthy && !healthy++)
			be = &fe->backends[i];
	h = hop_new(v, VL_HT_LB);
	h->cluster = fe->cluster;
	h->service = fe->service;
	h->nat_from = fe->ip;
	h->candidates = healthy;
	h->flow = *f;
	if (!be) {
		end(v, VL_OUT_NO_HOST, "every backend of frontend %s (service %s) is down: %s", ip, sv->name,
		    fe->n_backends ? fe->backends[0].why : "the cluster has no node");
		return;
	}
	node = be->node;
	h->endpoint = node;
	h->vnet = ep_vnet(lab, node);
	if (!nsgs_in(lab, v, node, node, f))
		return;
	if (!kproxy(lab, v, node, fe->cluster, fe->service, sp, sv->local, !sv->local, f, &pod))
		return;
	v->seen_src = f->src;
	if (lab->eps[pod].node == node) {
		v->dst_ep = pod;
		v->outcome = VL_OUT_DELIVERED;
		return;
	}
	travel(lab, v, h->vnet, node, node, f);
}

/* From the Internet: its hosts, instance public IPs and LoadBalancer frontends; replies to the
 * VNets' outbound addresses. */
static void from_internet(const struct vl_lab *lab, struct vl_verdict *v, struct vl_flow *f)
{
	const struct vl_frontend *fe = vl_eff_frontend(lab->eff, f->dst);
	char ip[VL_IP_STRLEN];
	int host = outside_holder(lab, VL_EP_INTERNET, VL_NONE, f->dst), vm = vl_eff_ilpip_owner(lab, f->dst);

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
		to_frontend(lab, v, fe, f);
		return;
	}
	end(v, VL_OUT_NO_HOST, "nothing on the Internet answers for %s (no inbound path to private addresses)",
	    vl_ip_fmt(f->dst, ip));
}

/* From on-premises: its own hosts, or through its gateway to the hub and its transit spokes. */
static void from_onprem(const struct vl_lab *lab, struct vl_verdict *v, const struct vl_endpoint *src,
			struct vl_flow *f)
{
	const struct vl_local_gateway *lg = &lab->local_gateways[src->owner];
	char ip[VL_IP_STRLEN];
	int host = outside_holder(lab, VL_EP_ONPREM, src->owner, f->dst);

	if (host != VL_NONE) {
		v->dst_ep = host;
		v->outcome = VL_OUT_DELIVERED;
		return;
	}
	for (size_t i = 0; i < lg->n_prefixes; i++)
		if (vl_prefix_contains(lg->prefixes[i], f->dst)) {
			end(v, VL_OUT_NO_HOST, "no host of %s holds %s", lg->name, vl_ip_fmt(f->dst, ip));
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
				h = hop_new(v, VL_HT_GATEWAY);
				h->vnet = lab->gateways[g].vnet;
				h->gateway = g;
				h->local_gateway = src->owner;
				h->flow = *f;
				travel(lab, v, lab->gateways[g].vnet, VL_NONE, VL_NONE, f);
				return;
			}
		}
	}
	end(v, VL_OUT_UNREACHABLE, "on-premises network %s has no route to %s", lg->name, vl_ip_fmt(f->dst, ip));
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
		end(v, VL_OUT_NO_HOST, "the reply is dropped: from %s, %s", lab->eps[v->dst_ep].name,
		    r ? route_words(lab, r, words, sizeof(words)) : "no route back");
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

/* A pod or node to a clusterIP or a frontend of its own cluster: kube-proxy on its node DNATs it
 * before it leaves (no masquerade, no load balancer). true when it did (or found no pod). */
static bool in_cluster_service(const struct vl_lab *lab, struct vl_verdict *v, const struct vl_endpoint *src,
			       int node, struct vl_flow *f)
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
	kproxy(lab, v, node, c, s, sp, false, false, f, &pod);
	return true;
}

/*
 * To a platform address (spec 19.4, docs/nsg-semantics.md): answered by the platform in the
 * VNet's fabric, judged only by the platform rules (vl_eff_platform_rules) of the sender's NIC
 * NSG, then its subnet's; a Deny decides, an Allow passes on to the next NSG, and when no platform
 * rule matches the traffic bypasses NSGs. Default rules never apply.
 */
static void platform_path(const struct vl_lab *lab, struct vl_verdict *v, int nic, int src_ep,
			  const struct vl_flow *f)
{
	int s = lab->eps[nic].subnet, k = vl_eff_endpoint_scope(lab, nic);
	int nsgs[2] = {nic_nsg_of(lab, nic), s >= 0 ? subnet_nsg(lab, s) : VL_NONE};
	bool named = false, matched = false;
	char a[VL_IP_STRLEN];

	for (int l = 0; l < 2 && v->outcome == VL_OUT_DELIVERED; l++) {
		const struct vl_rule **r = NULL, *hit = NULL;
		struct vl_hop *h;
		size_t n = 0;

		if (vl_eff_platform_rules(lab, nsgs[l], &r, &n) || !n) {
			free(r);
			continue;
		}
		named = true;
		for (size_t i = 0; i < n && !hit; i++)
			if (vl_eval_rule_matches(lab, k, r[i], f))
				hit = r[i];
		if (!hit) {
			note_add(v, "NSG %s: none of its %zu AzurePlatform rule%s matches", lab->nsgs[nsgs[l]].name, n,
				 n == 1 ? "" : "s");
			free(r);
			continue;
		}
		matched = true;
		h = hop_new(v, VL_HT_NSG);
		h->nsg = nsgs[l];
		h->dir = VL_DIR_OUT;
		h->level = l ? VL_HOP_SUBNET : VL_HOP_NIC;
		h->endpoint = l ? src_ep : nic;
		h->subnet = s;
		h->scope = k;
		h->flow = *f;
		h->rule = hit;
		h->access = hit->access;
		v->nsg = nsgs[l];
		v->rule = hit;
		v->access = hit->access;
		if (hit->access == VL_DENY)
			v->outcome = VL_OUT_DENIED;
		free(r);
	}
	if (!named)
		note_add(v, "%s is an Azure platform address: no rule names an AzurePlatform tag: platform "
			    "traffic bypasses NSGs",
			 vl_ip_fmt(f->dst, a));
	else if (!matched)
		note_add(v, "%s is an Azure platform address: no AzurePlatform rule matches: platform traffic "
			    "bypasses NSGs",
			 vl_ip_fmt(f->dst, a));
	else if (v->outcome == VL_OUT_DELIVERED)
		note_add(v, "%s is an Azure platform address: allowed by AzurePlatform rule %s",
			 vl_ip_fmt(f->dst, a), v->rule->name);
}

static int path(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		uint16_t dport, struct vl_verdict *v)
{
	const struct vl_endpoint *src;
	const struct vl_aks *cluster;
	struct vl_flow f;
	char a[VL_IP_STRLEN], b[VL_IP_STRLEN];
	int nic, here, vnet;

	if (!lab || !lab->eff || !v || !valid_ep(lab, from) || proto == VL_PROTO_ANY ||
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
		from_internet(lab, v, &f);
		if (v->outcome == VL_OUT_DELIVERED)
			reply_route(lab, v);
		return 0;
	}
	if (src->kind == VL_EP_ONPREM) {
		from_onprem(lab, v, src, &f);
		v->seen_src = f.src;
		return 0;
	}
	nic = valid_ep(lab, src->nic) ? src->nic : from;
	vnet = ep_vnet(lab, nic);
	here = same_nic(lab, nic, dst);
	if (here != VL_NONE) {
		v->dst_ep = here;
		if (src->kind == VL_EP_POD || lab->eps[here].kind == VL_EP_POD)
			note_add(v, "same node %s: crosses no NSG", lab->eps[nic].name);
		else
			note_add(v, "own address: crosses no NSG");
		return 0;
	}
	if (vl_eff_is_platform_addr(dst)) {
		platform_path(lab, v, nic, from, &f);
		return 0;
	}
	cluster = ep_cluster(lab, src);
	if (src->virtual_node) { /* a container group: no node, no ip-masq-agent, no kube-proxy here */
		cluster = NULL;
		note_add(v, "%s runs on the virtual node: a container group in subnet %s", src->name,
			 lab->subnets[src->subnet].name);
	}
	if (cluster && in_cluster_service(lab, v, src, nic, &f)) {
		dst = f.dst;
		if (v->outcome != VL_OUT_DELIVERED)
			return 0;
		here = same_nic(lab, nic, dst);
		if (here != VL_NONE) {
			v->dst_ep = here;
			note_add(v, "same node %s: crosses no NSG", lab->eps[nic].name);
			return 0;
		}
	}
	if (src->kind == VL_EP_POD && cluster && nic != from && !vl_eff_non_masq(lab->eff, src->owner, dst)) {
		struct vl_hop *h = hop_new(v, VL_HT_NAT);

		h->endpoint = nic;
		h->nat_from = f.src;
		h->nat_to = lab->eps[nic].ip;
		f.src = h->nat_to;
		h->flow = f;
		note_add(v, "masqueraded to node %s (%s) by ip-masq-agent: %s is outside nonMasqueradeCIDRs",
			 vl_ip_fmt(f.src, a), lab->eps[nic].name, vl_ip_fmt(dst, b));
	} else if (src->kind == VL_EP_POD && cluster) {
		note_add(v, "pod address %s kept: %s is inside nonMasqueradeCIDRs", vl_ip_fmt(f.src, a),
			 vl_ip_fmt(dst, b));
	}
	v->seen_src = f.src;
	travel(lab, v, vnet, nic, from, &f);
	reply_route(lab, v);
	if (v->outcome == VL_OUT_DELIVERED && v->dst_ep != VL_NONE && lab->eps[v->dst_ep].kind == VL_EP_POD &&
	    is_kubenet_pod(lab, &lab->eps[v->dst_ep]))
		note_add(v, "%s is in the pod range of %s (routed there by the cluster's route table)",
			 vl_ip_fmt(dst, a), lab->eps[lab->eps[v->dst_ep].node].name);
	if (v->outcome == VL_OUT_DELIVERED && v->dst_ep != VL_NONE && lab->eps[v->dst_ep].virtual_node)
		note_add(v, "%s runs on the virtual node: a container group, only subnet %s's NSG applies",
			 lab->eps[v->dst_ep].name, lab->subnets[lab->eps[v->dst_ep].subnet].name);
	if (!v->n_hops || v->nsg == VL_NONE)
		note_add(v, "no NSG on the path");
	return 0;
}

int vl_eval_path(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		 uint16_t dport, struct vl_verdict *v)
{
	int rc = path(lab, from, dst, proto, sport, dport, v);

	if (!rc)
		vl_eval_netpol(lab, from, dst, proto, dport, v);
	return rc;
}

const char *vl_outcome_name(enum vl_outcome o)
{
	static const char *const names[] = {"delivered", "denied", "unreachable", "nohost"};

	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}
