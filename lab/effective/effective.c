// SPDX-License-Identifier: MIT
/*
 * The effective model (vnetlab/effective.h): scopes and their routes, the
 * VirtualNetwork tag per scope (spec 23.5), the Internet tag (23.6), peering
 * states, default outbound addresses and masquerade lists, computed once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eff-int.h"
#include "vnetlab/ip.h"

/* Never Internet (spec 23.6), besides the lab's own address spaces. */
static const struct vl_prefix not_public[] = {
    {0x0a000000u, 8},  {0xac100000u, 12}, {0xc0a80000u, 16}, {0x64400000u, 10}, {0x7f000000u, 8},
    {0xa9fe0000u, 16}, {0x00000000u, 8},  {0xe0000000u, 4},  {0xf0000000u, 4},
};

/* Default outbound addresses: one per VNet from 198.51.100.4 (the loader keeps hosts out of /25). */
#define OUTBOUND_BASE 0xc6336404u
#define OUTBOUND_MAX 120

int vleff_plist_push(struct vleff_plist *l, struct vl_prefix p)
{
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 16;
		struct vl_prefix *v = realloc(l->v, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = c;
	}
	l->v[l->n++] = p;
	return 0;
}

static int cmp_prefix(const void *a, const void *b)
{
	const struct vl_prefix *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (int)x->len - (int)y->len; /* the wider first */
}

void vleff_plist_merge(struct vleff_plist *l)
{
	size_t k = 0;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_prefix);
	for (size_t i = 0; i < l->n; i++)
		if (!k || !vl_prefix_inside(l->v[i], l->v[k - 1]))
			l->v[k++] = l->v[i];
	l->n = k;
}

bool vleff_plist_contains(const struct vl_prefix *v, size_t n, uint32_t ip)
{
	for (size_t i = 0; i < n; i++)
		if (vl_prefix_contains(v[i], ip))
			return true;
	return false;
}

const struct vl_peering *vl_eff_peering(const struct vl_lab *lab, int from, int to)
{
	if (from < 0 || (size_t)from >= lab->n_vnets)
		return NULL;
	for (size_t i = 0; i < lab->vnets[from].n_peerings; i++)
		if (lab->vnets[from].peerings[i].remote == to)
			return &lab->vnets[from].peerings[i];
	return NULL;
}

int vl_eff_peering_sources(const struct vl_lab *lab, int from, struct vl_prefix **out, size_t *n)
{
	struct vleff_plist l = {0};
	int rc = 0;

	for (size_t i = 0; i < lab->vnets[from].n_spaces && !rc; i++)
		rc = vleff_plist_push(&l, lab->vnets[from].spaces[i]);
	for (size_t c = 0; c < lab->n_connections && !rc; c++) {
		const struct vl_local_gateway *lg = &lab->local_gateways[lab->connections[c].local_gateway];

		if (lab->gateways[lab->connections[c].gateway].vnet != from)
			continue;
		for (size_t i = 0; i < lg->n_prefixes && !rc; i++)
			rc = vleff_plist_push(&l, lg->prefixes[i]);
	}
	if (rc) {
		free(l.v);
		return rc;
	}
	*out = l.v;
	*n = l.n;
	return 0;
}

bool vl_eff_peering_admits(const struct vl_lab *lab, int from, int to, uint32_t src)
{
	const struct vl_peering *p = vl_eff_peering(lab, to, from);

	if (!p || p->allow_forwarded || vleff_plist_contains(lab->vnets[from].spaces, lab->vnets[from].n_spaces, src))
		return true;
	for (size_t c = 0; c < lab->n_connections; c++) {
		const struct vl_local_gateway *lg = &lab->local_gateways[lab->connections[c].local_gateway];

		if (lab->gateways[lab->connections[c].gateway].vnet == from &&
		    vleff_plist_contains(lg->prefixes, lg->n_prefixes, src))
			return true;
	}
	return false;
}

bool vl_eff_peered(const struct vl_lab *lab, int a, int b)
{
	return a != b && vl_eff_peering(lab, a, b) && vl_eff_peering(lab, b, a);
}

/* The kubenet cluster whose route table a subnet uses: its own cluster, or one sharing its table. */
static int subnet_cluster(const struct vl_lab *lab, int s)
{
	const struct vl_subnet *sn = &lab->subnets[s];

	for (size_t c = 0; c < lab->n_aks; c++) {
		const struct vl_subnet *cs = &lab->subnets[lab->aks[c].subnet];

		if (lab->aks[c].plugin != VL_PLUGIN_KUBENET)
			continue;
		if (lab->aks[c].subnet == s ||
		    (sn->route_table != VL_NONE && cs->route_table == sn->route_table && cs->vnet == sn->vnet))
			return (int)c;
	}
	return VL_NONE;
}

static int scope_for(struct vl_effective *e, int vnet, int table, int cluster)
{
	struct vl_scope *s;

	for (size_t i = 0; i < e->n_scopes; i++)
		if (e->scopes[i].vnet == vnet && e->scopes[i].route_table == table &&
		    e->scopes[i].cluster == cluster)
			return (int)i;
	s = realloc(e->scopes, (e->n_scopes + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	e->scopes = s;
	s = &e->scopes[e->n_scopes];
	memset(s, 0, sizeof(*s));
	s->vnet = vnet;
	s->route_table = table;
	s->cluster = cluster;
	return (int)e->n_scopes++;
}

static int scope_tag(const struct vl_lab *lab, struct vl_scope *s)
{
	const struct vl_vnet *v = &lab->vnets[s->vnet];
	struct vleff_plist l = {0};
	int rc = vleff_plist_push(&l, (struct vl_prefix){VL_IP_AZURE_PLATFORM, 32});

	for (size_t i = 0; i < v->n_spaces && !rc; i++)
		rc = vleff_plist_push(&l, v->spaces[i]);
	for (size_t p = 0; p < v->n_peerings && !rc; p++) {
		const struct vl_peering *pe = &v->peerings[p];

		/* allowVirtualNetworkAccess off: the route stays, the tag loses the peer (spec 12.3). */
		if (!pe->allow_vnet_access || !vl_eff_peered(lab, s->vnet, pe->remote))
			continue;
		for (size_t i = 0; i < lab->vnets[pe->remote].n_spaces && !rc; i++)
			rc = vleff_plist_push(&l, lab->vnets[pe->remote].spaces[i]);
	}
	for (size_t i = 0; i < s->n_routes && !rc; i++)
		if (s->routes[i].source != VL_RSRC_DEFAULT)
			rc = vleff_plist_push(&l, s->routes[i].prefix);
	if (rc) {
		free(l.v);
		return rc;
	}
	vleff_plist_merge(&l);
	s->vnet_tag = l.v;
	s->n_vnet_tag = l.n;
	return 0;
}

static int not_internet(const struct vl_lab *lab, struct vl_effective *e)
{
	struct vleff_plist l = {0};
	int rc = 0;

	for (size_t i = 0; i < sizeof(not_public) / sizeof(not_public[0]) && !rc; i++)
		rc = vleff_plist_push(&l, not_public[i]);
	for (size_t v = 0; v < lab->n_vnets; v++)
		for (size_t i = 0; i < lab->vnets[v].n_spaces && !rc; i++)
			rc = vleff_plist_push(&l, lab->vnets[v].spaces[i]);
	for (size_t g = 0; g < lab->n_local_gateways; g++)
		for (size_t i = 0; i < lab->local_gateways[g].n_prefixes && !rc; i++)
			rc = vleff_plist_push(&l, lab->local_gateways[g].prefixes[i]);
	if (rc) {
		free(l.v);
		return rc;
	}
	vleff_plist_merge(&l);
	e->not_internet = l.v;
	e->n_not_internet = l.n;
	return 0;
}

static int nonmasq(const struct vl_lab *lab, struct vl_effective *e)
{
	e->nonmasq = calloc(lab->n_aks ? lab->n_aks : 1, sizeof(*e->nonmasq));
	e->n_nonmasq = calloc(lab->n_aks ? lab->n_aks : 1, sizeof(*e->n_nonmasq));
	if (!e->nonmasq || !e->n_nonmasq)
		return -ENOMEM;
	for (size_t c = 0; c < lab->n_aks; c++) {
		const struct vl_aks *a = &lab->aks[c];
		const struct vl_vnet *v = &lab->vnets[lab->subnets[a->subnet].vnet];
		const struct vl_prefix *src = a->non_masq ? a->non_masq
					      : a->plugin == VL_PLUGIN_KUBENET ? &a->pod_cidr
									       : v->spaces;
		size_t n = a->non_masq ? a->n_non_masq : a->plugin == VL_PLUGIN_KUBENET ? 1 : v->n_spaces;

		e->nonmasq[c] = malloc((n ? n : 1) * sizeof(**e->nonmasq));
		if (!e->nonmasq[c])
			return -ENOMEM;
		memcpy(e->nonmasq[c], src, n * sizeof(*src));
		e->n_nonmasq[c] = n;
	}
	return 0;
}

static int nic_in_vnet(const struct vl_lab *lab, int vnet, uint32_t ip)
{
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *n = &lab->eps[i];

		if (n->ip == ip && n->nic == (int)i && (n->kind == VL_EP_VM || n->kind == VL_EP_NODE) &&
		    lab->subnets[n->subnet].vnet == vnet)
			return (int)i;
	}
	return VL_NONE;
}

int vl_eff_appliance(const struct vl_lab *lab, int vnet, uint32_t ip)
{
	int ep = nic_in_vnet(lab, vnet, ip);

	/* A hub's appliance serves its spokes through their peerings (spec 12.2.3). */
	for (size_t p = 0; ep == VL_NONE && p < lab->vnets[vnet].n_peerings; p++)
		if (vl_eff_peered(lab, vnet, lab->vnets[vnet].peerings[p].remote))
			ep = nic_in_vnet(lab, lab->vnets[vnet].peerings[p].remote, ip);
	return ep;
}

static int check_appliances(const struct vl_lab *lab, const struct vl_scope *s, struct vl_error *err)
{
	char a[VL_IP_STRLEN];

	for (size_t i = 0; i < s->n_routes; i++) {
		const struct vl_eroute *r = &s->routes[i];
		const struct vl_route *ro;

		if (r->hop != VL_NH_APPLIANCE || r->table == VL_NONE ||
		    vl_eff_appliance(lab, s->vnet, r->hop_ip) != VL_NONE)
			continue;
		ro = &lab->route_tables[r->table].routes[r->route];
		vl_error_set(err, lab->file, ro->loc,
			     "route '%s' of route table '%s': nextHopIpAddress %s is not the address of a VM "
			     "or node NIC in vnet '%s' or a VNet peered with it",
			     ro->name, lab->route_tables[r->table].name, vl_ip_fmt(r->hop_ip, a),
			     lab->vnets[s->vnet].name);
		return -EINVAL;
	}
	return 0;
}

static int peer_states(const struct vl_lab *lab, struct vl_effective *e)
{
	e->peer_state = calloc(lab->n_vnets ? lab->n_vnets : 1, sizeof(*e->peer_state));
	if (!e->peer_state)
		return -ENOMEM;
	for (size_t v = 0; v < lab->n_vnets; v++) {
		const struct vl_vnet *vn = &lab->vnets[v];

		e->peer_state[v] = calloc(vn->n_peerings ? vn->n_peerings : 1, sizeof(**e->peer_state));
		if (!e->peer_state[v])
			return -ENOMEM;
		for (size_t p = 0; p < vn->n_peerings; p++)
			e->peer_state[v][p] = vl_eff_peered(lab, (int)v, vn->peerings[p].remote)
						  ? VL_PEER_CONNECTED
						  : VL_PEER_INITIATED;
	}
	return 0;
}

int vl_eff_build(struct vl_lab *lab, struct vl_error *err)
{
	struct vl_effective *e = calloc(1, sizeof(*e));
	int rc = 0;

	if (!e)
		return -ENOMEM;
	vl_eff_free(lab->eff, lab);
	lab->eff = e;
	if (lab->n_vnets > OUTBOUND_MAX) {
		vl_error_set(err, lab->file, lab->vnets[OUTBOUND_MAX].loc,
			     "a lab has at most %d VNets (one default outbound address each)", OUTBOUND_MAX);
		return -EINVAL;
	}
	e->subnet_scope = calloc(lab->n_subnets ? lab->n_subnets : 1, sizeof(*e->subnet_scope));
	e->outbound_ip = calloc(lab->n_vnets ? lab->n_vnets : 1, sizeof(*e->outbound_ip));
	if (!e->subnet_scope || !e->outbound_ip)
		return -ENOMEM;
	/* Scope v is VNet v's system scope, used by subnets without a route table and by
	 * packets that enter the VNet through a peering, a gateway or the edge. */
	for (size_t v = 0; v < lab->n_vnets && rc >= 0; v++) {
		rc = scope_for(e, (int)v, VL_NONE, VL_NONE);
		e->outbound_ip[v] = OUTBOUND_BASE + (uint32_t)v;
	}
	for (size_t s = 0; s < lab->n_subnets && rc >= 0; s++) {
		rc = scope_for(e, lab->subnets[s].vnet, lab->subnets[s].route_table, subnet_cluster(lab, (int)s));
		e->subnet_scope[s] = rc;
	}
	if (rc < 0)
		return rc;
	rc = peer_states(lab, e);
	for (size_t i = 0; i < e->n_scopes && !rc; i++) {
		rc = vleff_scope_routes(lab, &e->scopes[i]);
		if (!rc)
			rc = scope_tag(lab, &e->scopes[i]);
		if (!rc)
			rc = check_appliances(lab, &e->scopes[i], err);
	}
	if (!rc)
		rc = not_internet(lab, e);
	if (!rc)
		rc = nonmasq(lab, e);
	/* ASG members first: the load balancer's health probes cross NSGs that may name them. */
	if (!rc)
		rc = vleff_asgs_build(lab, e);
	if (!rc)
		rc = vleff_services_build(lab, e);
	if (!rc)
		rc = vleff_lb_build(lab, e);
	if (!rc)
		vl_eff_lb_health(lab);
	if (!rc)
		rc = vl_eff_netpol_build(lab);
	return rc;
}

void vl_eff_free(struct vl_effective *e, const struct vl_lab *lab)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_scopes; i++) {
		free(e->scopes[i].routes);
		free(e->scopes[i].vnet_tag);
	}
	free(e->scopes);
	free(e->subnet_scope);
	if (e->peer_state)
		for (size_t v = 0; v < lab->n_vnets; v++)
			free(e->peer_state[v]);
	free(e->peer_state);
	free(e->not_internet);
	free(e->outbound_ip);
	if (e->nonmasq)
		for (size_t c = 0; c < lab->n_aks; c++)
			free(e->nonmasq[c]);
	free(e->nonmasq);
	free(e->n_nonmasq);
	vleff_lb_free(e);
	vleff_services_free(e, lab);
	vleff_asgs_free(e, lab);
	vleff_netpol_free(e);
	free(e);
}

bool vl_eff_in_vnet_tag(const struct vl_effective *e, int scope, uint32_t ip)
{
	if (!e || scope < 0 || (size_t)scope >= e->n_scopes)
		return false;
	return vleff_plist_contains(e->scopes[scope].vnet_tag, e->scopes[scope].n_vnet_tag, ip);
}

bool vl_eff_is_internet(const struct vl_effective *e, uint32_t ip)
{
	return e && !vleff_plist_contains(e->not_internet, e->n_not_internet, ip);
}

bool vl_eff_non_masq(const struct vl_effective *e, int cluster, uint32_t dst)
{
	if (!e || cluster < 0 || !e->nonmasq)
		return false;
	return vleff_plist_contains(e->nonmasq[cluster], e->n_nonmasq[cluster], dst);
}

int vl_eff_endpoint_scope(const struct vl_lab *lab, int ep)
{
	const struct vl_endpoint *n;

	if (!lab->eff || ep < 0 || (size_t)ep >= lab->n_eps)
		return VL_NONE;
	n = &lab->eps[lab->eps[ep].nic >= 0 ? lab->eps[ep].nic : ep];
	if (n->subnet < 0 || (size_t)n->subnet >= lab->n_subnets)
		return VL_NONE;
	return lab->eff->subnet_scope[n->subnet];
}

const char *vl_peer_state_name(enum vl_peer_state s)
{
	return s == VL_PEER_CONNECTED ? "Connected" : "Initiated";
}
