// SPDX-License-Identifier: MIT
/*
 * What joins VNets to each other and to the world (spec sections 12, 13, 23):
 * peerings, virtual network gateways, local network gateways with their
 * on-premises hosts, connections, and the Internet's hosts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tl.h"
#include "vnetlab/ip.h"

/* ---- peerings ---- */

static const char *const peering_keys[] = {"name",
					   "remoteVirtualNetwork",
					   "allowVirtualNetworkAccess",
					   "allowForwardedTraffic",
					   "allowGatewayTransit",
					   "useRemoteGateways",
					   "doNotVerifyRemoteGateways", /* accepted, ignored */
					   NULL};

/* The remote VNet's name: a name, or {id: ".../virtualNetworks/NAME"} (its last segment).
 * *at is the node holding it; *len its length in (*at)->str. */
static int remote_name(struct tl *t, const struct ynode *n, const struct ynode **at, const char **name,
		       size_t *len)
{
	static const char *const keys[] = {"id", NULL};
	const char *s, *slash;
	int r;

	*at = n;
	if (n->kind == YN_MAP && ((r = ld_keys(&t->c, n, "remoteVirtualNetwork", keys)) ||
				  (r = ld_need(&t->c, n, "id", "remoteVirtualNetwork", at))))
		return r;
	if ((r = tl_want_scalar(t, *at, n == *at ? "remoteVirtualNetwork" : "remoteVirtualNetwork id")))
		return r;
	s = (*at)->str;
	*name = s;
	*len = strlen(s);
	if (n == *at)
		return 0;
	slash = strrchr(s, '/');
	if (!slash || !slash[1] || slash - s < 16 || strncasecmp(slash - 16, "/virtualNetworks", 16))
		return ld_fail(&t->c, *at,
			       "invalid remoteVirtualNetwork id '%s': expected "
			       "/subscriptions/…/virtualNetworks/NAME",
			       s);
	*name = slash + 1;
	*len = strlen(slash + 1);
	return 0;
}

static const struct ynode *peering_map(struct tl *t, int vi, size_t j)
{
	return ld_get(t->vnet_maps[vi], "virtualNetworkPeerings")->kids[j];
}

int tl_vnet_peerings(struct tl *t, const struct ynode *m, int vi)
{
	struct vl_vnet *v = &t->lab->vnets[vi];
	const struct ynode *seq;
	int r = tl_objects(t, m, "virtualNetworkPeerings", &v->peerings, &v->n_peerings, sizeof(*v->peerings),
			   &seq);

	for (size_t j = 0; !r && seq && j < seq->n; j++) {
		const struct ynode *pm = seq->kids[j], *n, *at;
		struct vl_peering *p = &v->peerings[j];
		const char *name;
		size_t len;

		p->remote = VL_NONE;
		p->allow_vnet_access = true;
		if ((r = tl_named(t, pm, "peering", peering_keys, 0, &p->name, &n)))
			return r;
		p->loc = pm->loc;
		for (size_t k = 0; k < j; k++)
			if (!strcmp(v->peerings[k].name, p->name))
				return ld_fail(&t->c, n, "duplicate peering name '%s' in vnet '%s'", p->name,
					       v->name);
		if ((r = ld_need(&t->c, pm, "remoteVirtualNetwork", "peering", &n)) ||
		    (r = remote_name(t, n, &at, &name, &len)))
			return r;
		if ((n = ld_get(pm, "allowVirtualNetworkAccess")) &&
		    (r = tl_bool(t, n, "allowVirtualNetworkAccess", &p->allow_vnet_access)))
			return r;
		if ((n = ld_get(pm, "allowForwardedTraffic")) &&
		    (r = tl_bool(t, n, "allowForwardedTraffic", &p->allow_forwarded)))
			return r;
		if ((n = ld_get(pm, "allowGatewayTransit")) &&
		    (r = tl_bool(t, n, "allowGatewayTransit", &p->allow_gateway_transit)))
			return r;
		if ((n = ld_get(pm, "useRemoteGateways")) &&
		    (r = tl_bool(t, n, "useRemoteGateways", &p->use_remote_gateways)))
			return r;
		if ((n = ld_get(pm, "doNotVerifyRemoteGateways"))) {
			bool ignored;

			if ((r = tl_bool(t, n, "doNotVerifyRemoteGateways", &ignored)))
				return r;
		}
	}
	return r;
}

static int gateway_of(const struct vl_lab *lab, int vnet, enum vl_gw_type type)
{
	for (size_t i = 0; i < lab->n_gateways; i++)
		if (lab->gateways[i].vnet == vnet && lab->gateways[i].type == type)
			return (int)i;
	return VL_NONE;
}

static int any_gateway_of(const struct vl_lab *lab, int vnet)
{
	int g = gateway_of(lab, vnet, VL_GW_VPN);

	return g != VL_NONE ? g : gateway_of(lab, vnet, VL_GW_EXPRESSROUTE);
}

/* A peering joins two routing domains: their address spaces must be disjoint. */
static int peered_disjoint(struct tl *t, const struct ynode *at, int a, int b)
{
	const struct vl_vnet *x = &t->lab->vnets[a], *y = &t->lab->vnets[b];
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN];

	for (size_t i = 0; i < x->n_spaces; i++)
		for (size_t j = 0; j < y->n_spaces; j++)
			if (vl_prefix_overlaps(x->spaces[i], y->spaces[j]))
				return ld_fail(
				    &t->c, at,
				    "address space %s of vnet '%s' overlaps %s of vnet '%s'; peered "
				    "VNets need address spaces that do not overlap",
				    vl_prefix_fmt(x->spaces[i], buf), x->name,
				    vl_prefix_fmt(y->spaces[j], buf2), y->name);
	return 0;
}

int tl_peerings(struct tl *t)
{
	struct vl_lab *lab = t->lab;

	for (size_t vi = 0; vi < lab->n_vnets; vi++) {
		struct vl_vnet *v = &lab->vnets[vi];
		int uses = VL_NONE, r;

		for (size_t j = 0; j < v->n_peerings; j++) {
			const struct ynode *pm = peering_map(t, (int)vi, j), *at, *urg;
			struct vl_peering *p = &v->peerings[j];
			const char *name;
			size_t len;
			int own;

			if ((r = remote_name(t, ld_get(pm, "remoteVirtualNetwork"), &at, &name, &len)))
				return r;
			for (size_t k = 0; p->remote == VL_NONE && k < lab->n_vnets; k++)
				if (strlen(lab->vnets[k].name) == len &&
				    !strncmp(lab->vnets[k].name, name, len))
					p->remote = (int)k;
			if (p->remote == VL_NONE)
				return ld_fail(&t->c, at,
					       "unknown vnet '%.*s' in remoteVirtualNetwork of peering '%s'",
					       (int)len, name, p->name);
			if (p->remote == (int)vi)
				return ld_fail(&t->c, at, "peering '%s': vnet '%s' cannot peer with itself",
					       p->name, v->name);
			for (size_t k = 0; k < j; k++)
				if (v->peerings[k].remote == p->remote)
					return ld_fail(
					    &t->c, at,
					    "vnet '%s' already has peering '%s' to vnet '%s'; one peering "
					    "per remote VNet",
					    v->name, v->peerings[k].name, lab->vnets[p->remote].name);
			if ((r = peered_disjoint(t, at, (int)vi, p->remote)))
				return r;
			if (!p->use_remote_gateways)
				continue;
			urg = ld_get(pm, "useRemoteGateways");
			if (uses != VL_NONE)
				return ld_fail(
				    &t->c, urg,
				    "vnet '%s' already uses the remote gateways of peering '%s'; a VNet "
				    "may set useRemoteGateways on one peering only",
				    v->name, v->peerings[uses].name);
			uses = (int)j;
			if ((own = any_gateway_of(lab, (int)vi)) != VL_NONE)
				return ld_fail(
				    &t->c, urg,
				    "vnet '%s' has its own virtual network gateway '%s'; it cannot use "
				    "remote gateways",
				    v->name, lab->gateways[own].name);
			if (any_gateway_of(lab, p->remote) == VL_NONE)
				return ld_fail(
				    &t->c, urg,
				    "useRemoteGateways: vnet '%s' has no virtual network gateway; Azure "
				    "refuses the peering",
				    lab->vnets[p->remote].name);
		}
	}
	return 0;
}

/* ---- virtual network gateways ---- */

static const char *const gw_type_words[] = {"Vpn", "ExpressRoute", NULL}; /* enum vl_gw_type order */

static int word(struct tl *t, const struct ynode *n, const char *what, const char *const *words, int *out)
{
	char list[128] = "";
	int r = tl_want_scalar(t, n, what);

	if (r)
		return r;
	for (int w = 0; words[w]; w++)
		if (!strcasecmp(n->str, words[w])) {
			*out = w;
			return 0;
		}
	for (int w = 0; words[w]; w++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", w ? ", " : "", words[w]);
	return ld_fail(&t->c, n, "invalid %s '%s'; expected one of: %s", what, n->str, list);
}

int tl_gateways(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"name", "vnet", "gatewayType", "vpnType", "sku", NULL};
	static const char *const vpn_types[] = {"RouteBased", "PolicyBased", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = tl_objects(t, root, "virtualNetworkGateways", &lab->gateways, &lab->n_gateways,
			   sizeof(*lab->gateways), &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n, *vn;
		struct vl_vnet_gateway *g = &lab->gateways[i];
		int type = VL_GW_VPN, other, ignored;

		g->vnet = g->subnet = VL_NONE;
		if ((r = tl_named(t, m, "virtual network gateway", keys, 0, &g->name, &n)))
			return r;
		g->loc = m->loc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->gateways[j].name, g->name))
				return ld_fail(&t->c, n, "duplicate virtual network gateway name '%s'",
					       g->name);
		if ((r = ld_need(&t->c, m, "vnet", "virtual network gateway", &vn)) ||
		    (r = tl_want_scalar(t, vn, "vnet")))
			return r;
		if ((g->vnet = vl_lab_find_vnet(lab, vn->str)) == VL_NONE)
			return ld_fail(&t->c, vn, "unknown vnet '%s'", vn->str);
		for (size_t j = 0; j < lab->vnets[g->vnet].n_subnets; j++)
			if (!strcmp(lab->subnets[lab->vnets[g->vnet].subnets[j]].name, GATEWAY_SUBNET))
				g->subnet = lab->vnets[g->vnet].subnets[j];
		if (g->subnet == VL_NONE)
			return ld_fail(&t->c, vn,
				       "vnet '%s' has no subnet named " GATEWAY_SUBNET
				       "; virtual network gateway '%s' needs one",
				       vn->str, g->name);
		if ((n = ld_get(m, "gatewayType")) && (r = word(t, n, "gatewayType", gw_type_words, &type)))
			return r;
		g->type = (enum vl_gw_type)type;
		if ((n = ld_get(m, "vpnType")) && (r = word(t, n, "vpnType", vpn_types, &ignored)))
			return r;
		if ((n = ld_get(m, "sku")) && (r = tl_want_scalar(t, n, "sku")))
			return r;
		other = gateway_of(lab, g->vnet, g->type);
		if (other != VL_NONE && other != (int)i)
			return ld_fail(&t->c, vn,
				       "vnet '%s' already has the %s gateway '%s'; a VNet has at most one "
				       "gateway of each type",
				       vn->str, gw_type_words[g->type], lab->gateways[other].name);
	}
	return r;
}

/* ---- local network gateways and their hosts ---- */

struct addr_idx {
	uint32_t addr;
	size_t idx;
};

static int cmp_addr_idx(const void *a, const void *b)
{
	const struct addr_idx *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* The first host in file order that repeats an earlier given address, or n; *earlier is that one. */
static size_t first_repeat(const struct vl_host_spec *h, size_t n, size_t *earlier, int *err)
{
	struct addr_idx *v = calloc(n ? n : 1, sizeof(*v));
	size_t k = 0, rep = n;

	*err = v ? 0 : -ENOMEM;
	if (!v)
		return n;
	for (size_t i = 0; i < n; i++)
		if (h[i].address)
			v[k++] = (struct addr_idx){h[i].address, i};
	qsort(v, k, sizeof(*v), cmp_addr_idx);
	for (size_t i = 1; i < k; i++)
		if (v[i].addr == v[i - 1].addr && v[i].idx < rep) {
			rep = v[i].idx;
			*earlier = v[i - 1].idx;
		}
	free(v);
	return rep;
}

/* {name, address, app, ports}; the name is an endpoint name. */
static int host(struct tl *t, const struct ynode *m, const char *what, struct vl_host_spec *h,
		const struct ynode **addr)
{
	static const char *const keys[] = {"name", "address", "app", "ports", NULL};
	const struct ynode *n;
	int r;

	if ((r = tl_named(t, m, what, keys, VL_ENDPOINT_NAME_MAX, &h->name, &n)) ||
	    (r = tl_claim(t, h->name, n, what)))
		return r;
	h->loc = m->loc;
	if ((*addr = ld_get(m, "address")) && (r = tl_ipv4(t, *addr, "address", &h->address)))
		return r;
	return tl_app_ports(t, m, &h->app, &h->ports, &h->n_ports);
}

static int repeated(struct tl *t, const struct ynode *seq, const struct vl_host_spec *h, size_t n,
		    const char *what)
{
	size_t earlier = 0, i;
	char a[VL_IP_STRLEN];
	int r;

	i = first_repeat(h, n, &earlier, &r);
	if (r || i == n)
		return r;
	return ld_fail(&t->c, ld_get(seq->kids[i], "address"),
		       "address %s of %s '%s' is already taken by '%s'", vl_ip_fmt(h[i].address, a), what,
		       h[i].name, h[earlier].name);
}

static int lng_prefixes(struct tl *t, const struct ynode *m, size_t gi)
{
	static const char *const space_keys[] = {"addressPrefixes", NULL};
	struct vl_lab *lab = t->lab;
	struct vl_local_gateway *g = &lab->local_gateways[gi];
	const struct ynode *flat = ld_get(m, "addressPrefixes"), *arm = ld_get(m, "localNetworkAddressSpace"),
			   *n;
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN];
	const char *why;
	int r;

	if (flat && arm)
		return ld_fail(&t->c, arm,
			       "give addressPrefixes or localNetworkAddressSpace.addressPrefixes, not both");
	if (arm && ((r = ld_map(&t->c, arm, "localNetworkAddressSpace")) ||
		    (r = ld_keys(&t->c, arm, "localNetworkAddressSpace", space_keys)) ||
		    (r = ld_need(&t->c, arm, "addressPrefixes", "localNetworkAddressSpace", &flat))))
		return r;
	if (!flat)
		return ld_fail(&t->c, m,
			       "local network gateway '%s' needs addressPrefixes (its on-premises ranges)",
			       g->name);
	if ((r = tl_cidrs(t, flat, "addressPrefixes", &g->prefixes, &g->n_prefixes)))
		return r;
	for (size_t i = 0; i < g->n_prefixes; i++) {
		struct vl_prefix p = g->prefixes[i];

		n = flat->kind == YN_SEQ ? flat->kids[i] : flat;
		if ((why = tl_reserved_overlap(p)))
			return ld_fail(&t->c, n, "on-premises prefix %s overlaps %s, which Azure reserves",
				       vl_prefix_fmt(p, buf), why);
		for (size_t o = 0; o <= gi; o++) {
			const struct vl_local_gateway *og = &lab->local_gateways[o];

			for (size_t j = 0; j < (o == gi ? i : og->n_prefixes); j++)
				if (vl_prefix_overlaps(p, og->prefixes[j]))
					return ld_fail(&t->c, n,
						       "on-premises prefix %s of local network gateway '%s' "
						       "overlaps %s of local network gateway '%s'",
						       vl_prefix_fmt(p, buf), g->name,
						       vl_prefix_fmt(og->prefixes[j], buf2), og->name);
		}
	}
	return 0;
}

/* .1 is the on-premises router; .0, .2, .3 and the last address stay free as in Azure. */
static int onprem_address(struct tl *t, const struct ynode *at, const struct vl_local_gateway *g,
			  const struct vl_host_spec *h)
{
	char a[VL_IP_STRLEN], buf[VL_PREFIX_STRLEN];

	for (size_t i = 0; i < g->n_prefixes; i++) {
		struct vl_prefix p = g->prefixes[i];

		if (!vl_prefix_contains(p, h->address))
			continue;
		if (h->address - p.addr < 4 || h->address == vl_prefix_last(p))
			return ld_fail(&t->c, at,
				       "address %s of on-premises host '%s' is reserved in %s (the network "
				       "address, .1 for the on-premises router, .2, .3 and the last address)",
				       vl_ip_fmt(h->address, a), h->name, vl_prefix_fmt(p, buf));
		return 0;
	}
	return ld_fail(&t->c, at,
		       "address %s of on-premises host '%s' is outside the addressPrefixes of local "
		       "network gateway '%s'",
		       vl_ip_fmt(h->address, a), h->name, g->name);
}

int tl_local_gateways(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {
	    "name", "addressPrefixes", "localNetworkAddressSpace", "gatewayIpAddress", "hosts", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = tl_objects(t, root, "localNetworkGateways", &lab->local_gateways, &lab->n_local_gateways,
			   sizeof(*lab->local_gateways), &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n, *hosts;
		struct vl_local_gateway *g = &lab->local_gateways[i];
		uint32_t ignored;

		if ((r = tl_named(t, m, "local network gateway", keys, 0, &g->name, &n)))
			return r;
		g->loc = m->loc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->local_gateways[j].name, g->name))
				return ld_fail(&t->c, n, "duplicate local network gateway name '%s'",
					       g->name);
		if ((r = lng_prefixes(t, m, i)))
			return r;
		if ((n = ld_get(m, "gatewayIpAddress")) && (r = tl_ipv4(t, n, "gatewayIpAddress", &ignored)))
			return r;
		if ((r = tl_objects(t, m, "hosts", &g->hosts, &g->n_hosts, sizeof(*g->hosts), &hosts)))
			return r;
		for (size_t j = 0; hosts && j < hosts->n; j++) {
			const struct ynode *addr;

			if ((r = host(t, hosts->kids[j], "on-premises host", &g->hosts[j], &addr)))
				return r;
			if (addr && (r = onprem_address(t, addr, g, &g->hosts[j])))
				return r;
		}
		if (hosts && (r = repeated(t, hosts, g->hosts, g->n_hosts, "on-premises host")))
			return r;
	}
	return r;
}

/* ---- connections ---- */

static int named_ref(struct tl *t, const struct ynode *m, const char *key, const char *what, int *idx,
		     const struct ynode **at)
{
	const struct vl_lab *lab = t->lab;
	int r = ld_need(&t->c, m, key, "connection", at);

	if (!r)
		r = tl_want_scalar(t, *at, key);
	if (r)
		return r;
	*idx = VL_NONE;
	if (!strcmp(key, "virtualNetworkGateway")) {
		for (size_t i = 0; *idx == VL_NONE && i < lab->n_gateways; i++)
			if (!strcmp(lab->gateways[i].name, (*at)->str))
				*idx = (int)i;
	} else {
		for (size_t i = 0; *idx == VL_NONE && i < lab->n_local_gateways; i++)
			if (!strcmp(lab->local_gateways[i].name, (*at)->str))
				*idx = (int)i;
	}
	if (*idx == VL_NONE)
		return ld_fail(&t->c, *at, "unknown %s '%s'", what, (*at)->str);
	return 0;
}

static bool peered_either_way(const struct vl_lab *lab, int a, int b)
{
	for (size_t j = 0; j < lab->vnets[a].n_peerings; j++)
		if (lab->vnets[a].peerings[j].remote == b)
			return true;
	for (size_t j = 0; j < lab->vnets[b].n_peerings; j++)
		if (lab->vnets[b].peerings[j].remote == a)
			return true;
	return false;
}

/* On-premises prefixes join the gateway's VNet and the VNets peered with it. */
static int onprem_disjoint(struct tl *t, const struct ynode *at, const struct vl_connection *c)
{
	const struct vl_lab *lab = t->lab;
	const struct vl_local_gateway *g = &lab->local_gateways[c->local_gateway];
	int gv = lab->gateways[c->gateway].vnet;
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN];

	for (size_t v = 0; v < lab->n_vnets; v++) {
		if ((int)v != gv && !peered_either_way(lab, gv, (int)v))
			continue;
		for (size_t i = 0; i < g->n_prefixes; i++)
			for (size_t j = 0; j < lab->vnets[v].n_spaces; j++)
				if (vl_prefix_overlaps(g->prefixes[i], lab->vnets[v].spaces[j]))
					return ld_fail(
					    &t->c, at,
					    "on-premises prefix %s of local network gateway '%s' overlaps "
					    "address space %s of vnet '%s', which connection '%s' joins to "
					    "it",
					    vl_prefix_fmt(g->prefixes[i], buf), g->name,
					    vl_prefix_fmt(lab->vnets[v].spaces[j], buf2), lab->vnets[v].name,
					    c->name);
	}
	/* Spec 13.3: a cluster's pod and service CIDRs must not overlap on-premises ranges. */
	for (size_t k = 0; k < lab->n_aks; k++) {
		const struct vl_aks *a = &lab->aks[k];
		int v = lab->subnets[a->subnet].vnet;

		if (v != gv && !peered_either_way(lab, gv, v))
			continue;
		for (size_t i = 0; i < g->n_prefixes; i++) {
			bool pod =
			    a->plugin == VL_PLUGIN_KUBENET && vl_prefix_overlaps(g->prefixes[i], a->pod_cidr);

			if (pod || vl_prefix_overlaps(g->prefixes[i], a->service_cidr))
				return ld_fail(
				    &t->c, at,
				    "on-premises prefix %s of local network gateway '%s' overlaps %s %s "
				    "of cluster '%s', which connection '%s' joins to it",
				    vl_prefix_fmt(g->prefixes[i], buf), g->name,
				    pod ? "podCidr" : "serviceCidr",
				    vl_prefix_fmt(pod ? a->pod_cidr : a->service_cidr, buf2), a->name,
				    c->name);
		}
	}
	return 0;
}

int tl_connections(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {
	    "name", "virtualNetworkGateway", "localNetworkGateway", "connectionType", "sharedKey", NULL};
	static const char *const conn_words[] = {"IPsec", "ExpressRoute", NULL}; /* enum vl_conn_type */
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = tl_objects(t, root, "connections", &lab->connections, &lab->n_connections,
			   sizeof(*lab->connections), &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n, *gn, *ln, *tn;
		struct vl_connection *c = &lab->connections[i];
		const struct vl_vnet_gateway *gw;
		int type = VL_CONN_IPSEC;

		c->gateway = c->local_gateway = VL_NONE;
		if ((r = tl_named(t, m, "connection", keys, 0, &c->name, &n)))
			return r;
		c->loc = m->loc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->connections[j].name, c->name))
				return ld_fail(&t->c, n, "duplicate connection name '%s'", c->name);
		if ((r = named_ref(t, m, "virtualNetworkGateway", "virtual network gateway", &c->gateway,
				   &gn)) ||
		    (r = named_ref(t, m, "localNetworkGateway", "local network gateway", &c->local_gateway,
				   &ln)))
			return r;
		gw = &lab->gateways[c->gateway];
		if ((tn = ld_get(m, "connectionType")) &&
		    (r = word(t, tn, "connectionType", conn_words, &type)))
			return r;
		c->type = (enum vl_conn_type)type;
		if ((c->type == VL_CONN_IPSEC) != (gw->type == VL_GW_VPN))
			return ld_fail(
			    &t->c, tn ? tn : m,
			    "connection '%s' is %s but gateway '%s' has gatewayType %s (IPsec needs "
			    "a Vpn gateway, ExpressRoute an ExpressRoute gateway)",
			    c->name, conn_words[c->type], gw->name, gw_type_words[gw->type]);
		if ((n = ld_get(m, "sharedKey")) && (r = tl_want_scalar(t, n, "sharedKey")))
			return r;
		for (size_t j = 0; j < i; j++)
			if (lab->connections[j].gateway == c->gateway &&
			    lab->connections[j].local_gateway == c->local_gateway)
				return ld_fail(&t->c, ln,
					       "connection '%s' already joins gateway '%s' to local network "
					       "gateway '%s'",
					       lab->connections[j].name, gw->name, ln->str);
		if ((r = onprem_disjoint(t, ln, c)))
			return r;
	}
	return r;
}

/* ---- the Internet ---- */

/* An Internet host's address: in a documentation range, not .0, .1 (the edge router) or .255,
 * not in 198.51.100.0/25 (the lab's Azure public addresses), and no VNet or on-premises address. */
static int internet_address(struct tl *t, const struct ynode *at, const struct vl_host_spec *h)
{
	static const struct vl_prefix docs[] = {{0xc0000200u, 24}, {0xc6336400u, 24}, {0xcb007100u, 24}};
	static const struct vl_prefix lab_public = {0xc6336400u, 25};
	const struct vl_lab *lab = t->lab;
	char a[VL_IP_STRLEN], buf[VL_PREFIX_STRLEN];
	uint32_t low = h->address & 0xffu;
	bool inside = false;

	vl_ip_fmt(h->address, a);
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		inside |= vl_prefix_contains(docs[i], h->address);
	if (!inside)
		return ld_fail(&t->c, at,
			       "address %s of Internet host '%s' is outside the documentation ranges "
			       "192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24",
			       a, h->name);
	if (low == 0 || low == 1 || low == 255)
		return ld_fail(&t->c, at,
			       "address %s of Internet host '%s' is reserved (.0 is the network, .1 the edge "
			       "router, .255 the broadcast address)",
			       a, h->name);
	if (vl_prefix_contains(lab_public, h->address))
		return ld_fail(
		    &t->c, at,
		    "address %s of Internet host '%s' is in 198.51.100.0/25, which the lab keeps for "
		    "its Azure public addresses",
		    a, h->name);
	for (size_t v = 0; v < lab->n_vnets; v++)
		for (size_t j = 0; j < lab->vnets[v].n_spaces; j++)
			if (vl_prefix_contains(lab->vnets[v].spaces[j], h->address))
				return ld_fail(
				    &t->c, at,
				    "address %s of Internet host '%s' is inside address space %s of "
				    "vnet '%s'",
				    a, h->name, vl_prefix_fmt(lab->vnets[v].spaces[j], buf),
				    lab->vnets[v].name);
	for (size_t g = 0; g < lab->n_local_gateways; g++)
		for (size_t j = 0; j < lab->local_gateways[g].n_prefixes; j++)
			if (vl_prefix_contains(lab->local_gateways[g].prefixes[j], h->address))
				return ld_fail(
				    &t->c, at,
				    "address %s of Internet host '%s' is inside on-premises prefix %s "
				    "of local network gateway '%s'",
				    a, h->name, vl_prefix_fmt(lab->local_gateways[g].prefixes[j], buf),
				    lab->local_gateways[g].name);
	return 0;
}

int tl_internet(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"hosts", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *m = ld_get(root, "internet"), *hosts;
	int r;

	if (!m)
		return 0;
	if ((r = ld_map(&t->c, m, "internet")) || (r = ld_keys(&t->c, m, "internet", keys)) ||
	    (r = tl_objects(t, m, "hosts", &lab->internet_hosts, &lab->n_internet_hosts,
			    sizeof(*lab->internet_hosts), &hosts)))
		return r;
	for (size_t i = 0; hosts && i < hosts->n; i++) {
		const struct ynode *addr;

		if ((r = host(t, hosts->kids[i], "Internet host", &lab->internet_hosts[i], &addr)))
			return r;
		if (addr && (r = internet_address(t, addr, &lab->internet_hosts[i])))
			return r;
	}
	return hosts ? repeated(t, hosts, lab->internet_hosts, lab->n_internet_hosts, "Internet host") : 0;
}
