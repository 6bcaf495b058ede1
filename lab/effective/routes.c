// SPDX-License-Identifier: MIT
/*
 * Effective routes per scope (spec sections 19 and 23.2-23.4): system routes
 * of the VNet, its peerings and gateways, then the scope's own route table
 * and its kubenet cluster's routes; the longest prefix wins, on a tie
 * User > gateway > System.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eff-int.h"
#include "vnetlab/ip.h"

static const struct vl_prefix none_ranges[] = {
    {0x0a000000u, 8},  /* 10.0.0.0/8 */
    {0xac100000u, 12}, /* 172.16.0.0/12 */
    {0xc0a80000u, 16}, /* 192.168.0.0/16 */
    {0x64400000u, 10}, /* 100.64.0.0/10 */
};

static int push(struct vl_scope *s, size_t *cap, struct vl_eroute r)
{
	if (s->n_routes == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct vl_eroute *v = realloc(s->routes, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->routes = v;
		*cap = c;
	}
	s->routes[s->n_routes++] = r;
	return 0;
}

static struct vl_eroute route(struct vl_prefix p, enum vl_route_src src, enum vl_nh hop)
{
	return (struct vl_eroute){.prefix = p,
				  .source = src,
				  .hop = hop,
				  .active = true,
				  .table = VL_NONE,
				  .route = VL_NONE,
				  .remote_vnet = VL_NONE,
				  .gateway = VL_NONE,
				  .cluster = VL_NONE};
}

int vl_eff_gateway_vnet(const struct vl_lab *lab, int vnet)
{
	const struct vl_vnet *v = &lab->vnets[vnet];

	for (size_t g = 0; g < lab->n_gateways; g++)
		if (lab->gateways[g].vnet == vnet)
			return vnet;
	for (size_t p = 0; p < v->n_peerings; p++) {
		const struct vl_peering *me = &v->peerings[p];

		if (!me->use_remote_gateways || !vl_eff_peered(lab, vnet, me->remote) ||
		    !vl_eff_peering(lab, me->remote, vnet)->allow_gateway_transit)
			continue;
		for (size_t g = 0; g < lab->n_gateways; g++)
			if (lab->gateways[g].vnet == me->remote)
				return me->remote;
	}
	return VL_NONE;
}

bool vl_eff_uses_gateway(const struct vl_lab *lab, int vnet, int gateway)
{
	int via = vl_eff_gateway_vnet(lab, vnet);

	return via != VL_NONE && lab->gateways[gateway].vnet == via;
}

static int system_routes(const struct vl_lab *lab, struct vl_scope *s, size_t *cap, bool with_gateway)
{
	const struct vl_vnet *v = &lab->vnets[s->vnet];
	int rc = 0, via = vl_eff_gateway_vnet(lab, s->vnet);

	for (size_t i = 0; i < v->n_spaces && !rc; i++)
		rc = push(s, cap, route(v->spaces[i], VL_RSRC_DEFAULT, VL_NH_VNET_LOCAL));
	for (size_t p = 0; p < v->n_peerings && !rc; p++) {
		int r = v->peerings[p].remote;

		if (!vl_eff_peered(lab, s->vnet, r))
			continue;
		for (size_t i = 0; i < lab->vnets[r].n_spaces && !rc; i++) {
			struct vl_eroute e = route(lab->vnets[r].spaces[i], VL_RSRC_DEFAULT, VL_NH_PEERING);

			e.remote_vnet = r;
			rc = push(s, cap, e);
		}
	}
	for (size_t c = 0; with_gateway && via != VL_NONE && c < lab->n_connections && !rc; c++) {
		const struct vl_local_gateway *l;
		int g = lab->connections[c].gateway;

		if (lab->gateways[g].vnet != via)
			continue;
		l = &lab->local_gateways[lab->connections[c].local_gateway];
		for (size_t i = 0; i < l->n_prefixes && !rc; i++) {
			struct vl_eroute e = route(l->prefixes[i], VL_RSRC_GATEWAY, VL_NH_GATEWAY);

			e.gateway = g;
			e.remote_vnet = via;
			e.hop_ip = lab->gateways[g].ip;
			rc = push(s, cap, e);
		}
	}
	if (!rc)
		rc = push(s, cap, route((struct vl_prefix){0, 0}, VL_RSRC_DEFAULT, VL_NH_INTERNET));
	for (size_t n = 0; n < sizeof(none_ranges) / sizeof(none_ranges[0]) && !rc; n++) {
		bool replaced = false;

		/* "A space that contains a reserved range replaces that range's route." */
		for (size_t i = 0; i < v->n_spaces; i++)
			replaced |= vl_prefix_inside(none_ranges[n], v->spaces[i]);
		if (!replaced)
			rc = push(s, cap, route(none_ranges[n], VL_RSRC_DEFAULT, VL_NH_NONE));
	}
	return rc;
}

static enum vl_nh user_hop(enum vl_next_hop t)
{
	switch (t) {
	case VL_HOP_APPLIANCE:
		return VL_NH_APPLIANCE;
	case VL_HOP_VNET_LOCAL:
		return VL_NH_VNET_LOCAL;
	case VL_HOP_INTERNET:
		return VL_NH_INTERNET;
	case VL_HOP_GATEWAY:
		return VL_NH_GATEWAY;
	case VL_HOP_NONE:
		break;
	}
	return VL_NH_NONE;
}

static int user_routes(const struct vl_lab *lab, struct vl_scope *s, size_t *cap)
{
	int rc = 0;

	if (s->route_table != VL_NONE) {
		const struct vl_route_table *t = &lab->route_tables[s->route_table];

		for (size_t i = 0; i < t->n_routes && !rc; i++) {
			const struct vl_route *ro = &t->routes[i];
			struct vl_eroute e = route(ro->prefix, VL_RSRC_USER, user_hop(ro->type));

			e.table = s->route_table;
			e.route = (int)i;
			e.hop_ip = ro->next_hop;
			if (e.hop == VL_NH_GATEWAY) {
				/* VPN gateways only (spec 19.2): without one, the route drops. */
				e.remote_vnet = vl_eff_gateway_vnet(lab, s->vnet);
				for (size_t g = 0; e.remote_vnet != VL_NONE && g < lab->n_gateways; g++)
					if (lab->gateways[g].vnet == e.remote_vnet && lab->gateways[g].type == VL_GW_VPN &&
					    e.gateway == VL_NONE)
						e.gateway = (int)g;
				e.hop_ip = e.gateway != VL_NONE ? lab->gateways[e.gateway].ip : 0;
			}
			rc = push(s, cap, e);
		}
	}
	if (s->cluster != VL_NONE)
		for (size_t i = 0; i < lab->n_eps && !rc; i++) {
			const struct vl_endpoint *n = &lab->eps[i];
			struct vl_eroute e;

			if (n->kind != VL_EP_NODE || n->owner != s->cluster || !n->pod_cidr.len)
				continue;
			e = route(n->pod_cidr, VL_RSRC_USER, VL_NH_APPLIANCE);
			e.cluster = s->cluster;
			e.route = (int)i;
			e.hop_ip = n->ip;
			rc = push(s, cap, e);
		}
	return rc;
}

static int rank(const struct vl_eroute *r)
{
	return r->source == VL_RSRC_USER ? 0 : r->source == VL_RSRC_GATEWAY ? 1 : 2;
}

static int cmp_route(const void *a, const void *b)
{
	const struct vl_eroute *x = a, *y = b;

	if (x->prefix.len != y->prefix.len)
		return x->prefix.len > y->prefix.len ? -1 : 1;
	if (x->prefix.addr != y->prefix.addr)
		return x->prefix.addr < y->prefix.addr ? -1 : 1;
	if (rank(x) != rank(y))
		return rank(x) - rank(y);
	/* Two system routes of one prefix (a peer's space equal to a reserved range): None loses. */
	return (x->hop == VL_NH_NONE) - (y->hop == VL_NH_NONE);
}

int vleff_scope_routes(const struct vl_lab *lab, struct vl_scope *s)
{
	size_t cap = 0;
	bool gw = s->route_table == VL_NONE || !lab->route_tables[s->route_table].disable_bgp;
	int rc = system_routes(lab, s, &cap, gw);

	if (!rc)
		rc = user_routes(lab, s, &cap);
	if (rc)
		return rc;
	/* Stable order for equal keys: qsort is not stable, so rank breaks ties fully
	 * except between two routes of one source, which validation keeps apart. */
	qsort(s->routes, s->n_routes, sizeof(*s->routes), cmp_route);
	for (size_t i = 1; i < s->n_routes; i++) {
		const struct vl_eroute *p = &s->routes[i - 1];

		if (p->prefix.len == s->routes[i].prefix.len && p->prefix.addr == s->routes[i].prefix.addr)
			s->routes[i].active = false;
	}
	return 0;
}

const struct vl_eroute *vl_eff_route(const struct vl_effective *e, int scope, uint32_t dst)
{
	const struct vl_scope *s;

	if (!e || scope < 0 || (size_t)scope >= e->n_scopes)
		return NULL;
	s = &e->scopes[scope];
	for (size_t i = 0; i < s->n_routes; i++)
		if (s->routes[i].active && vl_prefix_contains(s->routes[i].prefix, dst))
			return &s->routes[i];
	return NULL;
}

const char *vl_nh_name(enum vl_nh h)
{
	static const char *const names[] = {"VnetLocal", "VNetPeering",	     "VirtualNetworkGateway",
					    "Internet",	 "VirtualAppliance", "None"};

	return (unsigned)h < sizeof(names) / sizeof(names[0]) ? names[h] : "?";
}

const char *vl_route_src_name(enum vl_route_src s)
{
	return s == VL_RSRC_USER ? "User" : s == VL_RSRC_GATEWAY ? "VirtualNetworkGateway" : "Default";
}
