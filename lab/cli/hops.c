// SPDX-License-Identifier: MIT
/* The evaluator's hops in words and in JSON, shared by explain, check and run. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"

const char *hop_where(const struct vl_lab *lab, const struct vl_hop *h, char *buf, size_t len)
{
	if (h->level == VL_HOP_NIC)
		snprintf(buf, len, "NIC of %s", lab->eps[h->endpoint].name);
	else
		snprintf(buf, len, "subnet %s", lab->subnets[h->subnet].name);
	return buf;
}

static const char *route_name(const struct vl_lab *lab, const struct vl_eroute *r)
{
	if (r->table != VL_NONE)
		return lab->route_tables[r->table].routes[r->route].name;
	if (r->cluster != VL_NONE)
		return lab->eps[r->route].name; /* cloud-provider-azure names a node's route after the node */
	return NULL;
}

static const char *route_table_name(const struct vl_lab *lab, const struct vl_eroute *r)
{
	if (r->table != VL_NONE)
		return lab->route_tables[r->table].name;
	if (r->cluster != VL_NONE)
		return lab->aks[r->cluster].name;
	return NULL;
}

const char *policy_ref(const struct vl_lab *lab, int cluster, int policy, char *buf, size_t len)
{
	const struct vl_netpol *p;

	if (cluster < 0 || policy < 0)
		return NULL;
	p = &lab->aks[cluster].policies[policy];
	snprintf(buf, len, "%s/%s", p->ns, p->name);
	return buf;
}

static const char *const np_reason[] = {[VL_NP_NOT_SELECTED] = "notSelected",
					[VL_NP_ALLOW] = "allowed",
					[VL_NP_DENY] = "denied",
					[VL_NP_NODE] = "ownNode",
					[VL_NP_UNENFORCED] = "notEnforced"};

static void policy_words(const struct vl_lab *lab, const struct vl_hop *h, char *buf, size_t len)
{
	const char *dir = h->dir == VL_DIR_OUT ? "egress" : "ingress", *pod = lab->eps[h->endpoint].name;
	char ref[200];

	policy_ref(lab, h->cluster, h->policy, ref, sizeof(ref));
	switch (h->np) {
	case VL_NP_ALLOW:
		snprintf(buf, len, "%-9s policy of pod %s: Allow by %s (%s rule #%d)", dir, pod, ref, dir,
			 h->np_rule + 1);
		return;
	case VL_NP_DENY:
		snprintf(buf, len,
			 "%-9s policy of pod %s: Deny (isolated by %s; no %s rule of its policies allows it)",
			 dir, pod, ref, dir);
		return;
	case VL_NP_NODE:
		snprintf(buf, len, "%-9s policy of pod %s: Allow (its own node: never filtered)", dir, pod);
		return;
	case VL_NP_NOT_SELECTED:
	case VL_NP_UNENFORCED:
		break;
	}
	snprintf(buf, len, "%-9s policy of pod %s: Allow (no policy selects this pod for %s)", dir, pod, dir);
}

void hop_words(const struct vl_lab *lab, const struct vl_hop *h, char *buf, size_t len)
{
	char where[128], p[VL_PREFIX_STRLEN], a[VL_IP_STRLEN], b[VL_IP_STRLEN];

	switch (h->type) {
	case VL_HT_NSG:
		snprintf(buf, len, "%-9s %-18s %-28s %s by %s (priority %d)", vl_dir_name(h->dir),
			 lab->nsgs[h->nsg].name, hop_where(lab, h, where, sizeof(where)),
			 vl_access_name(h->access), h->rule ? h->rule->name : "?",
			 h->rule ? h->rule->priority : 0);
		return;
	case VL_HT_ROUTE: {
		const struct vl_eroute *r = h->route;
		const char *rt = route_table_name(lab, r);

		snprintf(buf, len, "route     %s -> %s%s%s in vnet %s (%s%s%s%s%s)",
			 vl_prefix_fmt(r->prefix, p), vl_nh_name(r->hop), r->hop_ip ? " " : "",
			 r->hop_ip ? vl_ip_fmt(r->hop_ip, a) : "", lab->vnets[h->vnet].name,
			 vl_route_src_name(r->source), rt ? ", table " : "", rt ? rt : "",
			 rt ? ", route " : "", rt ? route_name(lab, r) : "");
		return;
	}
	case VL_HT_PEERING:
		snprintf(buf, len, "peering   %s -> %s (%s)", lab->vnets[h->vnet].name,
			 lab->vnets[h->remote_vnet].name,
			 vl_eff_peering(lab, h->vnet, h->remote_vnet)
			     ? vl_eff_peering(lab, h->vnet, h->remote_vnet)->name
			     : "?");
		return;
	case VL_HT_GATEWAY:
		snprintf(buf, len, "gateway   %s (%s)%s%s", lab->gateways[h->gateway].name,
			 lab->gateways[h->gateway].type == VL_GW_VPN ? "Vpn" : "ExpressRoute",
			 h->local_gateway != VL_NONE ? " <-> on-premises " : "",
			 h->local_gateway != VL_NONE ? lab->local_gateways[h->local_gateway].name : "");
		return;
	case VL_HT_APPLIANCE:
		snprintf(buf, len, "appliance %s (%s)", lab->eps[h->endpoint].name,
			 vl_ip_fmt(lab->eps[h->endpoint].ip, a));
		return;
	case VL_HT_NAT:
		if (h->dnat)
			snprintf(
			    buf, len,
			    "nat       destination %s -> %s (instance public IP, 1:1 at the edge of vnet %s)",
			    vl_ip_fmt(h->nat_from, a), vl_ip_fmt(h->nat_to, b), lab->vnets[h->vnet].name);
		else if (h->endpoint != VL_NONE)
			snprintf(buf, len, "nat       %s -> %s (ip-masq-agent on %s)",
				 vl_ip_fmt(h->nat_from, a), vl_ip_fmt(h->nat_to, b),
				 lab->eps[h->endpoint].name);
		else
			snprintf(buf, len, "nat       %s -> %s (%s)", vl_ip_fmt(h->nat_from, a),
				 vl_ip_fmt(h->nat_to, b), vl_snat_kind_name(h->snat));
		return;
	case VL_HT_LB:
		snprintf(buf, len,
			 "lb        frontend %s (service %s/%s) -> backend %s, floating IP (%d healthy)",
			 vl_ip_fmt(h->nat_from, a), lab->aks[h->cluster].name,
			 lab->aks[h->cluster].services[h->service].name,
			 h->endpoint != VL_NONE ? lab->eps[h->endpoint].name : "none", h->candidates);
		return;
	case VL_HT_KPROXY:
		if (h->pod == VL_NONE)
			snprintf(buf, len, "kube-proxy on %s: service %s has no endpoint%s",
				 lab->eps[h->endpoint].name, lab->aks[h->cluster].services[h->service].name,
				 vl_eff_service_pods(lab, h->cluster, h->service)->n ? " on this node" : "s");
		else
			snprintf(buf, len, "kube-proxy on %s: %s -> pod %s (%s:%u, one of %d)%s%s",
				 lab->eps[h->endpoint].name, vl_ip_fmt(h->nat_from, a), lab->eps[h->pod].name,
				 vl_ip_fmt(h->nat_to, b), h->flow.dport, h->candidates,
				 h->masq ? ", masquerade to " : "",
				 h->masq ? lab->eps[h->endpoint].name : "");
		return;
	case VL_HT_EDGE:
		snprintf(buf, len, "edge      vnet %s -> Internet", lab->vnets[h->vnet].name);
		return;
	case VL_HT_POLICY:
		policy_words(lab, h, buf, len);
		return;
	}
	snprintf(buf, len, "?");
}

static const char *const hop_type_names[] = {
    [VL_HT_NSG] = "nsg",
    [VL_HT_ROUTE] = "route",
    [VL_HT_PEERING] = "peering",
    [VL_HT_GATEWAY] = "gateway",
    [VL_HT_APPLIANCE] = "appliance",
    [VL_HT_NAT] = "nat",
    [VL_HT_EDGE] = "edge",
    [VL_HT_LB] = "loadBalancer",
    [VL_HT_KPROXY] = "kubeProxy",
    [VL_HT_POLICY] = "networkPolicy",
};

json_t *hop_tree(const struct vl_lab *lab, const struct vl_hop *h)
{
	char s1[VL_IP_STRLEN], s2[VL_IP_STRLEN], p[VL_PREFIX_STRLEN];
	json_t *o = json_object();

	out_set(o, "type", out_str(hop_type_names[h->type]));
	switch (h->type) {
	case VL_HT_NSG:
		out_set(o, "nsg", out_str(lab->nsgs[h->nsg].name));
		out_set(o, "level", out_str(h->level == VL_HOP_NIC ? "nic" : "subnet"));
		out_set(o, "endpoint", out_str(h->endpoint != VL_NONE ? lab->eps[h->endpoint].name : NULL));
		out_set(o, "subnet", out_str(lab->subnets[h->subnet].name));
		out_set(o, "direction", out_str(vl_dir_name(h->dir)));
		out_set(o, "access", out_str(vl_access_name(h->access)));
		out_set(o, "rule", out_str(h->rule ? h->rule->name : NULL));
		out_set(o, "priority", out_int(h->rule ? h->rule->priority : 0));
		break;
	case VL_HT_ROUTE:
		out_set(o, "vnet", out_str(lab->vnets[h->vnet].name));
		out_set(o, "addressPrefix", out_str(vl_prefix_fmt(h->route->prefix, p)));
		out_set(o, "nextHopType", out_str(vl_nh_name(h->route->hop)));
		out_set(o, "nextHopIpAddress", out_str(h->route->hop_ip ? vl_ip_fmt(h->route->hop_ip, s1) : NULL));
		out_set(o, "routeSource", out_str(vl_route_src_name(h->route->source)));
		out_set(o, "routeTable", out_str(route_table_name(lab, h->route)));
		out_set(o, "route", out_str(route_name(lab, h->route)));
		break;
	case VL_HT_PEERING:
		out_set(o, "vnet", out_str(lab->vnets[h->vnet].name));
		out_set(o, "remoteVirtualNetwork", out_str(lab->vnets[h->remote_vnet].name));
		break;
	case VL_HT_GATEWAY:
		out_set(o, "virtualNetworkGateway", out_str(lab->gateways[h->gateway].name));
		out_set(o, "localNetworkGateway",
			out_str(h->local_gateway != VL_NONE ? lab->local_gateways[h->local_gateway].name : NULL));
		break;
	case VL_HT_APPLIANCE:
		out_set(o, "endpoint", out_str(lab->eps[h->endpoint].name));
		break;
	case VL_HT_NAT: {
		static const char *const by[] = {"defaultOutboundAccess", "natGateway", "instancePublicIp",
						 "loadBalancerOutbound", "userDefinedRoute"};

		out_set(o, "from", out_str(vl_ip_fmt(h->nat_from, s1)));
		out_set(o, "to", out_str(vl_ip_fmt(h->nat_to, s2)));
		out_set(o, "field", out_str(h->dnat ? "destination" : "source"));
		out_set(o, "by", out_str(h->endpoint != VL_NONE ? lab->eps[h->endpoint].name : by[h->snat]));
		break;
	}
	case VL_HT_LB:
		out_set(o, "frontend", out_str(vl_ip_fmt(h->nat_from, s1)));
		out_set(o, "service", out_str(lab->aks[h->cluster].services[h->service].name));
		out_set(o, "backend", out_str(h->endpoint != VL_NONE ? lab->eps[h->endpoint].name : NULL));
		out_set(o, "healthyBackends", out_int(h->candidates));
		out_set(o, "floatingIp", out_bool(true));
		break;
	case VL_HT_KPROXY:
		out_set(o, "node", out_str(lab->eps[h->endpoint].name));
		out_set(o, "service", out_str(lab->aks[h->cluster].services[h->service].name));
		out_set(o, "pod", out_str(h->pod != VL_NONE ? lab->eps[h->pod].name : NULL));
		out_set(o, "masquerade", out_bool(h->masq));
		break;
	case VL_HT_EDGE:
		out_set(o, "vnet", out_str(lab->vnets[h->vnet].name));
		break;
	case VL_HT_POLICY: {
		char ref[200];

		out_set(o, "pod", out_str(lab->eps[h->endpoint].name));
		out_set(o, "direction", out_str(vl_dir_name(h->dir)));
		out_set(o, "access", out_str(vl_access_name(h->access)));
		out_set(o, "reason", out_str(np_reason[h->np]));
		out_set(o, "policy", out_str(policy_ref(lab, h->cluster, h->policy, ref, sizeof(ref))));
		if (h->np_rule != VL_NONE)
			out_set(o, "policyRule", out_int(h->np_rule + 1));
		break;
	}
	}
	out_set(o, "source", out_strf("%s:%u", vl_ip_fmt(h->flow.src, s1), h->flow.sport));
	out_set(o, "destination", out_strf("%s:%u", vl_ip_fmt(h->flow.dst, s2), h->flow.dport));
	return o;
}
