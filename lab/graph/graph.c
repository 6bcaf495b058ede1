// SPDX-License-Identifier: MIT
/*
 * The graph of a lab: what is drawn, nested how, in file order (AKS in aks.c). VNets hold their subnets;
 * a subnet holds its NSG, route table, NAT gateway, gateway, VMs, container groups and AKS
 * clusters (which hold nodes, pods and Services); NIC NSGs sit in the subnet of their NICs with
 * an edge to each; on-premises networks and the Internet are boxes of their own. Peering states,
 * backend health and addresses come from the effective model, never recomputed here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph-int.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"

#define ROUTES_SHOWN 6

static char *prefixes(struct gb *b, const struct vl_prefix *p, size_t n)
{
	char a[VL_PREFIX_STRLEN];
	char *s = gb_fmt(b, "%s", n ? vl_prefix_fmt(p[0], a) : "");

	for (size_t i = 1; i < n && s; i++) {
		char *r = gb_fmt(b, "%s, %s", s, vl_prefix_fmt(p[i], a));

		free(s);
		s = r;
	}
	return s;
}

static const char *hop_type(enum vl_next_hop t)
{
	switch (t) {
	case VL_HOP_APPLIANCE:
		return "VirtualAppliance";
	case VL_HOP_VNET_LOCAL:
		return "VnetLocal";
	case VL_HOP_INTERNET:
		return "Internet";
	case VL_HOP_NONE:
		return "None";
	case VL_HOP_GATEWAY:
		return "VirtualNetworkGateway";
	}
	return "?";
}

static void nsg_node(struct gb *b, int nsg, int sc, const char *where, bool nic)
{
	const struct vl_nsg *n = &b->lab->nsgs[nsg];

	gb_add_node(b, gb_fmt(b, "%s:%s@%s", nic ? "nicnsg" : "nsg", n->name, where),
		    gb_fmt(b, "NSG %s%s\n%zu rule%s", n->name, nic ? " (NIC)" : "", n->n_rules,
			   n->n_rules == 1 ? "" : "s"),
		    VL_GN_NSG, sc, nsg);
}

static void route_table_node(struct gb *b, int s, int sc, const char *where)
{
	const struct vl_lab *lab = b->lab;
	const struct vl_route_table *rt = &lab->route_tables[lab->subnets[s].route_table];
	char a[VL_PREFIX_STRLEN], ip[VL_IP_STRLEN], *l;

	l = gb_fmt(b, "route table %s", rt->name);
	for (size_t i = 0; i < rt->n_routes && i < ROUTES_SHOWN; i++) {
		char *line = gb_fmt(b, "%s → %s%s%s", vl_prefix_fmt(rt->routes[i].prefix, a),
				    hop_type(rt->routes[i].type), rt->routes[i].next_hop ? " " : "",
				    rt->routes[i].next_hop ? vl_ip_fmt(rt->routes[i].next_hop, ip) : "");

		if (line)
			l = gb_cat(b, l, line);
		free(line);
	}
	if (rt->n_routes > ROUTES_SHOWN) {
		char *line = gb_fmt(b, "… %zu more", rt->n_routes - ROUTES_SHOWN);

		if (line)
			l = gb_cat(b, l, line);
		free(line);
	}
	gb_add_node(b, gb_fmt(b, "rt:%s@%s", rt->name, where), l, VL_GN_ROUTE_TABLE, sc,
		    lab->subnets[s].route_table);
}

/* A kubenet cluster's route table: each node's pod /24 via the node. */
static void cluster_routes_node(struct gb *b, int c, int sc, const char *where)
{
	const struct vl_lab *lab = b->lab;
	char a[VL_PREFIX_STRLEN], *l = gb_fmt(b, "route table of AKS %s (kubenet)", lab->aks[c].name);
	size_t shown = 0, all = 0;

	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		char *line;

		if (e->kind != VL_EP_NODE || e->owner != c || !e->pod_cidr.len)
			continue;
		if (all++ >= ROUTES_SHOWN)
			continue;
		shown++;
		line = gb_fmt(b, "%s → %s", vl_prefix_fmt(e->pod_cidr, a), e->name);
		if (line)
			l = gb_cat(b, l, line);
		free(line);
	}
	if (all > shown) {
		char *line = gb_fmt(b, "… %zu more", all - shown);

		if (line)
			l = gb_cat(b, l, line);
		free(line);
	}
	gb_add_node(b, gb_fmt(b, "rt:aks:%s@%s", lab->aks[c].name, where), l, VL_GN_ROUTE_TABLE, sc, VL_NONE);
}

static char *vm_label(struct gb *b, const struct vl_endpoint *e)
{
	const struct vl_lab *lab = b->lab;
	const struct vl_vm *vm = &lab->vms[e->owner];
	char ip[VL_IP_STRLEN];
	char *l = gb_fmt(b, "VM %s\n%s", e->name, vl_ip_fmt(e->ip, ip));

	if (vm->ip_forwarding)
		l = gb_cat(b, l, "IP forwarding");
	for (size_t i = 0; i < vm->n_asgs && l; i++) {
		char *line = gb_fmt(b, "ASG %s", lab->asgs[vm->asgs[i]].name);

		if (line)
			l = gb_cat(b, l, line);
		free(line);
	}
	return l;
}

/* NIC NSGs of the subnet's VMs and nodes: one node per NSG, an edge to each NIC. */
static void nic_nsgs(struct gb *b, int s, int sc, const char *where)
{
	const struct vl_lab *lab = b->lab;

	for (size_t nsg = 0; nsg < lab->n_nsgs; nsg++) {
		int n = VL_NONE;

		for (size_t i = 0; i < lab->n_eps; i++) {
			const struct vl_endpoint *e = &lab->eps[i];

			if (e->subnet != s || e->nic != (int)i || e->nic_nsg != (int)nsg ||
			    b->ep_node[i] == VL_NONE)
				continue;
			if (n == VL_NONE) {
				nsg_node(b, (int)nsg, sc, where, true);
				n = (int)b->g->n_nodes - 1;
			}
			gb_add_edge(b, gb_node(n), gb_node(b->ep_node[i]), VL_GE_NIC_NSG, NULL, false, false);
		}
	}
}

static bool has_content(const struct vl_graph *g, int c)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].cluster == c)
			return true;
	for (size_t i = 0; i < g->n_clusters; i++)
		if (g->clusters[i].parent == c)
			return true;
	return false;
}

static void subnet(struct gb *b, int s, int vc)
{
	const struct vl_lab *lab = b->lab;
	const struct vl_subnet *sn = &lab->subnets[s];
	const struct vl_scope *scope = &lab->eff->scopes[lab->eff->subnet_scope[s]];
	char a[VL_PREFIX_STRLEN], ip[VL_IP_STRLEN], *where, *l;
	int sc;

	where = gb_fmt(b, "%s/%s", lab->vnets[sn->vnet].name, sn->name);
	if (!where)
		return;
	l = gb_fmt(b, "subnet %s\n%s", sn->name, vl_prefix_fmt(sn->prefix, a));
	if (sn->delegation) {
		const char *d = strrchr(sn->delegation, '/');
		char *line = gb_fmt(b, "delegated to %s", d ? d + 1 : sn->delegation);

		if (line)
			l = gb_cat(b, l, line);
		free(line);
	}
	sc = gb_add_cluster(b, gb_fmt(b, "subnet:%s", where), l, VL_GC_SUBNET, vc, s);
	if (sn->nsg != VL_NONE)
		nsg_node(b, sn->nsg, sc, where, false);
	if (sn->route_table != VL_NONE)
		route_table_node(b, s, sc, where);
	if (scope->cluster != VL_NONE)
		cluster_routes_node(b, scope->cluster, sc, where);
	if (sn->natgw) {
		char *ips = gb_fmt(b, "%s", "");

		for (size_t i = 0; i < sn->n_natgw_ips && ips; i++) {
			char *r = gb_fmt(b, "%s%s%s", ips, i ? ", " : "", vl_ip_fmt(sn->natgw_ips[i], ip));

			free(ips);
			ips = r;
		}
		if (ips) {
			int n =
			    gb_add_node(b, gb_fmt(b, "natgw:%s@%s", sn->natgw, where),
					gb_fmt(b, "NAT gateway %s\n%s", sn->natgw, ips), VL_GN_NATGW, sc, s);

			gb_add_edge(b, gb_node(n), gb_node(b->internet), VL_GE_OUTBOUND, gb_fmt(b, "SNAT"),
				    true, false);
		}
		free(ips);
	}
	for (size_t i = 0; i < lab->n_gateways; i++) {
		const struct vl_vnet_gateway *gw = &lab->gateways[i];

		if (gw->subnet == s)
			gb_add_node(b, gb_fmt(b, "gw:%s", gw->name),
				    gb_fmt(b, "%s gateway %s\n%s",
					   gw->type == VL_GW_VPN ? "VPN" : "ExpressRoute", gw->name,
					   vl_ip_fmt(gw->ip, ip)),
				    VL_GN_GATEWAY, sc, (int)i);
	}
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->subnet != s)
			continue;
		if (e->kind == VL_EP_VM)
			b->ep_node[i] =
			    gb_add_node(b, gb_fmt(b, "ep:%s", e->name), vm_label(b, e), VL_GN_VM, sc, (int)i);
		else if (e->kind == VL_EP_CG)
			b->ep_node[i] =
			    gb_add_node(b, gb_fmt(b, "ep:%s", e->name),
					gb_fmt(b, "container group %s\n%s", e->name, vl_ip_fmt(e->ip, ip)),
					VL_GN_CG, sc, (int)i);
	}
	for (size_t c = 0; c < lab->n_aks; c++)
		if (lab->aks[c].subnet == s)
			gb_aks_cluster(b, (int)c, sc);
	for (size_t c = 0; c < lab->n_aks; c++)
		if (lab->aks[c].has_vnode && lab->aks[c].vnode_subnet == s)
			gb_aks_vnode(b, (int)c, sc);
	nic_nsgs(b, s, sc, where);
	if (!b->rc && !has_content(b->g, sc))
		gb_add_node(b, gb_fmt(b, "empty:%s", where), gb_fmt(b, "no NICs"), VL_GN_EMPTY, sc, VL_NONE);
	free(where);
}

static void peerings(struct gb *b, const int *vnet_c)
{
	const struct vl_lab *lab = b->lab;

	for (size_t v = 0; v < lab->n_vnets; v++)
		for (size_t i = 0; i < lab->vnets[v].n_peerings; i++) {
			const struct vl_peering *p = &lab->vnets[v].peerings[i];
			const struct vl_peering *back = vl_eff_peering(lab, p->remote, (int)v);
			const char *state = vl_peer_state_name(lab->eff->peer_state[v][i]);
			char *l;

			if (p->remote == (int)v || (back && p->remote < (int)v))
				continue;
			if (!back) {
				gb_add_edge(b, gb_cluster(vnet_c[v]), gb_cluster(vnet_c[p->remote]),
					    VL_GE_PEERING, gb_fmt(b, "peering %s\n%s", p->name, state), true,
					    true);
				continue;
			}
			l = gb_fmt(b, "peering %s", state);
			if ((p->allow_gateway_transit && back->use_remote_gateways) ||
			    (back->allow_gateway_transit && p->use_remote_gateways))
				l = gb_cat(b, l, "gateway transit");
			if (!p->allow_vnet_access || !back->allow_vnet_access)
				l = gb_cat(b, l, "VNet access off");
			gb_add_edge(b, gb_cluster(vnet_c[v]), gb_cluster(vnet_c[p->remote]), VL_GE_PEERING, l,
				    false, !p->allow_vnet_access || !back->allow_vnet_access);
		}
}

static void outside(struct gb *b)
{
	const struct vl_lab *lab = b->lab;
	char ip[VL_IP_STRLEN];

	for (size_t g = 0; g < lab->n_local_gateways; g++) {
		const struct vl_local_gateway *lg = &lab->local_gateways[g];
		char *pl = prefixes(b, lg->prefixes, lg->n_prefixes);
		int oc = gb_add_cluster(b, gb_fmt(b, "onprem:%s", lg->name),
					pl ? gb_fmt(b, "on-premises %s\n%s", lg->name, pl) : NULL,
					VL_GC_ONPREM, VL_NONE, (int)g);

		free(pl);
		gb_add_node(b, gb_fmt(b, "lgw:%s", lg->name), gb_fmt(b, "local network gateway %s", lg->name),
			    VL_GN_LOCAL_GATEWAY, oc, (int)g);
		for (size_t i = 0; i < lab->n_eps; i++) {
			const struct vl_endpoint *e = &lab->eps[i];

			if (e->kind == VL_EP_ONPREM && e->owner == (int)g)
				b->ep_node[i] =
				    gb_add_node(b, gb_fmt(b, "ep:%s", e->name),
						gb_fmt(b, "%s\n%s", e->name, vl_ip_fmt(e->ip, ip)),
						VL_GN_HOST, oc, (int)i);
		}
	}
	b->internet_c =
	    gb_add_cluster(b, gb_fmt(b, "internet"), gb_fmt(b, "Internet"), VL_GC_INTERNET, VL_NONE, VL_NONE);
	b->internet = gb_add_node(b, gb_fmt(b, "internet"), gb_fmt(b, "any public address"), VL_GN_INTERNET,
				  b->internet_c, VL_NONE);
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->kind == VL_EP_INTERNET)
			b->ep_node[i] = gb_add_node(b, gb_fmt(b, "ep:%s", e->name),
						    gb_fmt(b, "%s\n%s", e->name, vl_ip_fmt(e->ip, ip)),
						    VL_GN_HOST, b->internet_c, (int)i);
	}
}

/* Instance public IPs (in the Internet box), once the endpoints have nodes. */
static void public_ips(struct gb *b)
{
	const struct vl_lab *lab = b->lab;
	char ip[VL_IP_STRLEN];

	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		int n;

		if (e->kind != VL_EP_VM || !lab->vms[e->owner].has_public_ip)
			continue;
		n = gb_add_node(
		    b, gb_fmt(b, "pip:%s", e->name),
		    gb_fmt(b, "public IP of %s\n%s", e->name, vl_ip_fmt(lab->vms[e->owner].public_ip, ip)),
		    VL_GN_PUBLIC_IP, b->internet_c, (int)i);
		gb_add_edge(b, gb_node(n), gb_node(b->ep_node[i]), VL_GE_PUBLIC_IP, gb_fmt(b, "1:1 NAT"),
			    true, false);
	}
}

static void appliances(struct gb *b)
{
	const struct vl_lab *lab = b->lab;
	const struct vl_graph *g = b->g;

	for (size_t i = 0; i < g->n_nodes && !b->rc; i++) {
		const struct vl_gnode *n = &g->nodes[i];
		const struct vl_route_table *rt;
		const struct vl_subnet *sn;

		if (n->kind != VL_GN_ROUTE_TABLE || n->ref == VL_NONE)
			continue;
		rt = &lab->route_tables[n->ref];
		sn = &lab->subnets[g->clusters[n->cluster].ref];
		for (size_t r = 0; r < rt->n_routes; r++) {
			int ep;
			bool seen = false;

			if (rt->routes[r].type != VL_HOP_APPLIANCE || !rt->routes[r].next_hop)
				continue;
			ep = vl_eff_appliance(lab, sn->vnet, rt->routes[r].next_hop);
			if (ep == VL_NONE || b->ep_node[ep] == VL_NONE)
				continue;
			for (size_t q = 0; q < r; q++)
				seen |= rt->routes[q].type == VL_HOP_APPLIANCE &&
					rt->routes[q].next_hop == rt->routes[r].next_hop;
			if (!seen)
				gb_add_edge(b, gb_node((int)i), gb_node(b->ep_node[ep]), VL_GE_NEXT_HOP,
					    gb_fmt(b, "next hop"), true, false);
		}
	}
}

int vl_graph_build(const struct vl_lab *lab, struct vl_graph **out)
{
	struct gb b = {.lab = lab};
	int *vnet_c = NULL;
	char ip[VL_IP_STRLEN];

	*out = NULL;
	b.g = calloc(1, sizeof(*b.g));
	b.ep_node = malloc((lab->n_eps ? lab->n_eps : 1) * sizeof(*b.ep_node));
	vnet_c = malloc((lab->n_vnets ? lab->n_vnets : 1) * sizeof(*vnet_c));
	if (!b.g || !b.ep_node || !vnet_c || !(b.g->name = strdup(lab->name))) {
		b.rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < lab->n_eps; i++)
		b.ep_node[i] = VL_NONE;
	outside(&b);
	for (size_t v = 0; v < lab->n_vnets && !b.rc; v++) {
		const struct vl_vnet *vn = &lab->vnets[v];
		char *sp = prefixes(&b, vn->spaces, vn->n_spaces);

		vnet_c[v] = gb_add_cluster(&b, gb_fmt(&b, "vnet:%s", vn->name),
					   sp ? gb_fmt(&b, "VNet %s\n%s\ndefault outbound %s", vn->name, sp,
						       vl_ip_fmt(lab->eff->outbound_ip[v], ip))
					      : NULL,
					   VL_GC_VNET, VL_NONE, (int)v);
		free(sp);
		for (size_t s = 0; s < vn->n_subnets; s++)
			subnet(&b, vn->subnets[s], vnet_c[v]);
		gb_add_edge(&b, gb_cluster(vnet_c[v]), gb_node(b.internet), VL_GE_OUTBOUND, NULL, true, true);
	}
	if (!b.rc)
		peerings(&b, vnet_c);
	for (size_t c = 0; c < lab->n_connections && !b.rc; c++) {
		const struct vl_connection *cn = &lab->connections[c];
		char *id = gb_fmt(&b, "gw:%s", lab->gateways[cn->gateway].name);
		char *lid = gb_fmt(&b, "lgw:%s", lab->local_gateways[cn->local_gateway].name);

		if (id && lid)
			gb_add_edge(&b, gb_node(vl_graph_find_node(b.g, id)),
				    gb_node(vl_graph_find_node(b.g, lid)), VL_GE_CONNECTION,
				    gb_fmt(&b, "%s\n%s", cn->name,
					   cn->type == VL_CONN_IPSEC ? "IPsec" : "ExpressRoute"),
				    false, false);
		free(id);
		free(lid);
	}
	if (!b.rc)
		public_ips(&b);
	if (!b.rc)
		gb_frontends(&b);
	if (!b.rc)
		appliances(&b);
out:
	free(b.ep_node);
	free(vnet_c);
	if (b.rc) {
		vl_graph_free(b.g);
		return b.rc;
	}
	*out = b.g;
	return 0;
}
