// SPDX-License-Identifier: MIT
/* Model → plan: the kernel objects of a lab, per namespace. Pure. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/effective.h"
#include "vnetlab/ip.h"
#include "vnetlab/plan.h"

static void pod_ifname(char *buf, int endpoint)
{
	snprintf(buf, IFNAMSIZ, "p%d", endpoint % 100000);
}

/* Grow-by-doubling append; `cap` tracks capacity beside the count. */
#define PUSH(arr, n, cap, val)                                                                               \
	({                                                                                                   \
		int _rc = 0;                                                                                 \
		if ((n) == (cap)) {                                                                          \
			size_t _c = (cap) ? (cap)*2 : 64;                                                    \
			void *_p = realloc((arr), _c * sizeof(*(arr)));                                      \
			if (_p) {                                                                            \
				(arr) = _p;                                                                  \
				(cap) = _c;                                                                  \
			} else {                                                                             \
				_rc = -ENOMEM;                                                               \
			}                                                                                    \
		}                                                                                            \
		if (!_rc)                                                                                    \
			(arr)[(n)++] = (val);                                                                \
		_rc;                                                                                         \
	})

struct builder {
	struct vl_plan *p;
	size_t c_ns, c_links, c_addrs, c_routes, c_rules, c_sysctls, c_rulesets;
	int *ep_ns;	 /* namespace of each endpoint */
	int *fabric_ns;	 /* namespace of each VNet's routing domain */
	int *gw_ns;	 /* namespace of each gateway */
	int *onprem_ns;	 /* namespace of each local network gateway */
	int internet_ns; /* the Internet namespace */
	uint32_t links;	 /* point-to-point links numbered so far */
	int rc;
};

static int ns_add(struct builder *b, enum vl_ns_role role, int ep, int index, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int ns_add(struct builder *b, enum vl_ns_role role, int ep, int index, const char *fmt, ...)
{
	struct vl_plan_ns ns = {.role = role, .endpoint = ep, .index = index};
	char suffix[VL_NS_NAME_MAX - 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(suffix, sizeof(suffix), fmt, ap);
	va_end(ap);
	vl_ns_name(ns.name, b->p->lab->name, suffix);
	b->rc = b->rc ?: PUSH(b->p->ns, b->p->n_ns, b->c_ns, ns);
	return (int)b->p->n_ns - 1;
}

static void sysctl_add(struct builder *b, int ns, const char *key, const char *value)
{
	struct vl_plan_sysctl s = {.ns = ns};

	snprintf(s.key, sizeof(s.key), "%s", key);
	snprintf(s.value, sizeof(s.value), "%s", value);
	b->rc = b->rc ?: PUSH(b->p->sysctls, b->p->n_sysctls, b->c_sysctls, s);
}

static void veth_add(struct builder *b, int ns, const char *name, const char *master, int peer_ns,
		     const char *peer_name)
{
	struct vl_plan_link l = {.kind = VL_LINK_VETH, .ns = ns, .peer_ns = peer_ns};

	snprintf(l.name, IFNAMSIZ, "%s", name);
	snprintf(l.master, IFNAMSIZ, "%s", master);
	snprintf(l.peer_name, IFNAMSIZ, "%s", peer_name);
	b->rc = b->rc ?: PUSH(b->p->links, b->p->n_links, b->c_links, l);
}

/* The veth just added: its far end (an endpoint's eth0) without IPv6. */
static void link_no_ipv6(struct builder *b)
{
	if (!b->rc && b->p->n_links)
		b->p->links[b->p->n_links - 1].peer_no_ipv6 = true;
}

/* The veth just added: its near end, a port of its bridge, in hairpin mode. */
static void link_hairpin(struct builder *b)
{
	if (!b->rc && b->p->n_links)
		b->p->links[b->p->n_links - 1].hairpin = true;
}

static void bridge_add(struct builder *b, int ns, const char *name)
{
	struct vl_plan_link l = {.kind = VL_LINK_BRIDGE, .ns = ns, .peer_ns = VL_NONE};

	snprintf(l.name, IFNAMSIZ, "%s", name);
	b->rc = b->rc ?: PUSH(b->p->links, b->p->n_links, b->c_links, l);
}

static void addr_add(struct builder *b, int ns, const char *dev, uint32_t ip, uint8_t len)
{
	struct vl_plan_addr a = {.ns = ns, .addr = {ip, len}};

	snprintf(a.dev, IFNAMSIZ, "%s", dev);
	b->rc = b->rc ?: PUSH(b->p->addrs, b->p->n_addrs, b->c_addrs, a);
}

/* An endpoint's address: everything, its own subnet included, goes through its gateway. */
static void ep_addr_add(struct builder *b, int ns, const char *dev, uint32_t ip, uint8_t len)
{
	addr_add(b, ns, dev, ip, len);
	if (!b->rc)
		b->p->addrs[b->p->n_addrs - 1].via_gateway = true;
}

static void route_full(struct builder *b, int ns, uint32_t table, enum vl_route_type type, struct vl_prefix dst,
		       uint32_t gw, const char *dev)
{
	struct vl_plan_route r = {.ns = ns, .dst = dst, .gateway = gw, .type = type, .table = table};

	snprintf(r.dev, IFNAMSIZ, "%s", dev ? dev : "");
	b->rc = b->rc ?: PUSH(b->p->routes, b->p->n_routes, b->c_routes, r);
}

static void route_add(struct builder *b, int ns, struct vl_prefix dst, uint32_t gw, const char *dev)
{
	route_full(b, ns, VL_RT_MAIN, VL_RT_UNICAST, dst, gw, dev);
}

static void rule_add(struct builder *b, int ns, uint32_t mark, const char *iif, struct vl_prefix src,
		     uint32_t table, uint32_t prio)
{
	struct vl_plan_rule r = {.ns = ns, .mark = mark, .src = src, .table = table, .priority = prio};

	snprintf(r.iif, IFNAMSIZ, "%s", iif ? iif : "");
	b->rc = b->rc ?: PUSH(b->p->rules, b->p->n_rules, b->c_rules, r);
}

static void ruleset_add(struct builder *b, int ns, enum vl_ruleset_kind kind, int index)
{
	struct vl_plan_ruleset r = {.ns = ns, .kind = kind, .index = index};

	b->rc = b->rc ?: PUSH(b->p->rulesets, b->p->n_rulesets, b->c_rulesets, r);
}

/*
 * Labs are IPv4: IPv6 on every link makes bridge labs quadratic (DESIGN.md, known traps).
 * `default` covers every link made afterwards; lo, the only older one, sends no RS, DAD or MLD.
 */
static void base_sysctls(struct builder *b, int ns)
{
	sysctl_add(b, ns, "net/ipv6/conf/default/disable_ipv6", "1");
}

/* Forwarding and rp_filter off before links exist, so every new link inherits them. */
static void router_sysctls(struct builder *b, int ns)
{
	sysctl_add(b, ns, "net/ipv4/ip_forward", "1");
	sysctl_add(b, ns, "net/ipv4/conf/all/rp_filter", "0");
	sysctl_add(b, ns, "net/ipv4/conf/default/rp_filter", "0");
}

/* A router that answers ARP for what it routes elsewhere, and never redirects. */
static void proxy_router_sysctls(struct builder *b, int ns)
{
	router_sysctls(b, ns);
	sysctl_add(b, ns, "net/ipv4/conf/all/proxy_arp", "1");
	sysctl_add(b, ns, "net/ipv4/conf/default/proxy_arp", "1");
	sysctl_add(b, ns, "net/ipv4/conf/all/send_redirects", "0");
	sysctl_add(b, ns, "net/ipv4/conf/default/send_redirects", "0");
	/* Routing drops answer every probe (host unreachable), not the first few of a burst. */
	sysctl_add(b, ns, "net/ipv4/icmp_ratemask", "0");
}

/* Proxy ARP answers after a random delay of up to 0.8 s unless told otherwise, per device. */
static void no_proxy_delay(struct builder *b, int ns, const char *dev)
{
	char key[96];

	snprintf(key, sizeof(key), "net/ipv4/neigh/%s/proxy_delay", dev);
	sysctl_add(b, ns, key, "0");
}

static int subnet_vnet(const struct vl_lab *lab, int s)
{
	return s >= 0 && (size_t)s < lab->n_subnets ? lab->subnets[s].vnet : VL_NONE;
}

int vl_public_vnet(const struct vl_lab *lab, uint32_t ip)
{
	for (size_t i = 0; i < lab->n_vms; i++)
		if (lab->vms[i].has_public_ip && lab->vms[i].public_ip == ip)
			return subnet_vnet(lab, lab->vms[i].subnet);
	for (size_t s = 0; s < lab->n_subnets; s++)
		for (size_t i = 0; i < lab->subnets[s].n_natgw_ips; i++)
			if (lab->subnets[s].natgw_ips[i] == ip)
				return lab->subnets[s].vnet;
	for (size_t c = 0; c < lab->n_aks; c++) {
		if (lab->aks[c].outbound_type == VL_OUTBOUND_LB && lab->aks[c].outbound_ip == ip)
			return subnet_vnet(lab, lab->aks[c].subnet);
		for (size_t i = 0; i < lab->aks[c].n_services; i++)
			if (lab->aks[c].services[i].type == VL_SVC_LB && lab->aks[c].services[i].frontend_ip == ip)
				return subnet_vnet(lab, lab->aks[c].subnet);
	}
	return VL_NONE;
}

/* Every public address of the lab's resources, each once: calls fn(ip, vnet). */
static void each_public(struct builder *b, void (*fn)(struct builder *, uint32_t, int, void *), void *arg)
{
	const struct vl_lab *lab = b->p->lab;

	for (size_t i = 0; i < lab->n_vms; i++)
		if (lab->vms[i].has_public_ip)
			fn(b, lab->vms[i].public_ip, subnet_vnet(lab, lab->vms[i].subnet), arg);
	for (size_t s = 0; s < lab->n_subnets; s++)
		for (size_t i = 0; i < lab->subnets[s].n_natgw_ips; i++)
			fn(b, lab->subnets[s].natgw_ips[i], lab->subnets[s].vnet, arg);
	for (size_t c = 0; c < lab->n_aks; c++) {
		int v = subnet_vnet(lab, lab->aks[c].subnet);

		if (lab->aks[c].outbound_type == VL_OUTBOUND_LB)
			fn(b, lab->aks[c].outbound_ip, v, arg);
		for (size_t i = 0; i < lab->aks[c].n_services; i++)
			if (lab->aks[c].services[i].type == VL_SVC_LB)
				fn(b, lab->aks[c].services[i].frontend_ip, v, arg);
	}
}

/* Point-to-point links between routers: 169.254.0.0/17, a /31 each (never an Azure address space). */
#define LINK_BASE 0xa9fe0000u
#define LINKS_MAX 16384u

struct p2p {
	uint32_t a, z; /* the two ends' addresses */
};

static struct p2p p2p_add(struct builder *b, int ns_a, const char *name_a, int ns_z, const char *name_z)
{
	struct p2p l = {LINK_BASE + 2 * b->links, LINK_BASE + 2 * b->links + 1};

	if (++b->links > LINKS_MAX && !b->rc)
		b->rc = -E2BIG;
	veth_add(b, ns_a, name_a, "", ns_z, name_z);
	no_proxy_delay(b, ns_a, name_a);
	no_proxy_delay(b, ns_z, name_z);
	addr_add(b, ns_a, name_a, l.a, 31);
	addr_add(b, ns_z, name_z, l.z, 31);
	return l;
}

/*
 * A host or NIC attached to a router like an Azure NIC: a /32 route to the host, proxy ARP for
 * the rest. The router holds its networks' gateway addresses (.1) once each on lo, where ARP
 * answers for them on every port (arp_ignore 0): one copy per NIC would make a hash chain as
 * long as the subnet in the kernel's address table (DESIGN.md, known traps).
 */
static void attach(struct builder *b, int router, int ep)
{
	const struct vl_endpoint *e = &b->p->lab->eps[ep];
	char ifn[IFNAMSIZ];

	vl_fabric_ifname(ifn, ep);
	veth_add(b, router, ifn, "", b->ep_ns[ep], "eth0");
	if (e->kind != VL_EP_NODE) /* a node's namespace has IPv6 off (base_sysctls) */
		link_no_ipv6(b);
	no_proxy_delay(b, router, ifn);
	route_add(b, router, (struct vl_prefix){e->ip, 32}, 0, ifn);
}

/* The gateway address (.1) of net on the router's lo, once per router and net. */
static void gateway_addr(struct builder *b, int router, struct vl_prefix net)
{
	for (size_t i = 0; i < b->p->n_addrs; i++)
		if (b->p->addrs[i].ns == router && b->p->addrs[i].addr.addr == net.addr + 1 &&
		    !strcmp(b->p->addrs[i].dev, "lo"))
			return;
	addr_add(b, router, "lo", net.addr + 1, 32);
}

static bool in_vnet(const struct vl_lab *lab, const struct vl_endpoint *e, int v)
{
	return e->subnet >= 0 && lab->subnets[e->subnet].vnet == v;
}

static void peer_ifname(char *buf, int vnet)
{
	snprintf(buf, IFNAMSIZ, "pr%d", vnet % 1000);
}

struct fabric_links {
	uint32_t *peer;	  /* per remote VNet: the far end of our link to it, 0 if none */
	uint32_t edge;	  /* the Internet namespace's end of our edge link */
};

/* One route of a scope in table `table` of VNet v's fabric. */
static void scope_route(struct builder *b, int v, uint32_t table, const struct vl_eroute *r,
			const struct fabric_links *fl)
{
	const struct vl_lab *lab = b->p->lab;
	int ns = b->fabric_ns[v];
	char ifn[IFNAMSIZ];
	int hop;

	switch (r->hop) {
	case VL_NH_VNET_LOCAL:
		/* The NICs' /32s live in main: a scope's table hands VNet-local lookups over to it. */
		route_full(b, ns, table, table == VL_RT_MAIN ? VL_RT_BLACKHOLE : VL_RT_THROW, r->prefix, 0, NULL);
		return;
	case VL_NH_PEERING:
		peer_ifname(ifn, r->remote_vnet);
		route_full(b, ns, table, VL_RT_UNICAST, r->prefix, fl->peer[r->remote_vnet], ifn);
		return;
	case VL_NH_GATEWAY:
		if (r->gateway == VL_NONE)
			break;
		if (r->remote_vnet != v) { /* gateway transit: the hub's fabric routes it on */
			peer_ifname(ifn, r->remote_vnet);
			route_full(b, ns, table, VL_RT_UNICAST, r->prefix, fl->peer[r->remote_vnet], ifn);
		} else {
			snprintf(ifn, IFNAMSIZ, "g%d", r->gateway % 100000);
			route_full(b, ns, table, VL_RT_UNICAST, r->prefix, r->hop_ip, ifn);
		}
		return;
	case VL_NH_INTERNET:
		route_full(b, ns, table, VL_RT_UNICAST, r->prefix, fl->edge, VL_EDGE_IFNAME);
		return;
	case VL_NH_APPLIANCE:
		hop = vl_eff_appliance(lab, v, r->hop_ip);
		if (hop == VL_NONE)
			break;
		if (!in_vnet(lab, &lab->eps[hop], v)) { /* the hub's appliance: the hub's fabric takes it on */
			int hub = lab->subnets[lab->eps[hop].subnet].vnet;

			peer_ifname(ifn, hub);
			route_full(b, ns, table, VL_RT_UNICAST, r->prefix, fl->peer[hub], ifn);
			return;
		}
		vl_fabric_ifname(ifn, hop);
		route_full(b, ns, table, VL_RT_UNICAST, r->prefix, r->hop_ip, ifn);
		return;
	case VL_NH_NONE:
		break;
	}
	route_full(b, ns, table, VL_RT_UNICAST, r->prefix, 0, VL_NONE_IFNAME);
}

/*
 * A spoke's packets for an appliance of this hub arrive by the peering with
 * their final destination: the hub reads the sending subnet's routes again,
 * in a table of that scope chosen by the peering link and the source subnet,
 * where the appliance routes lead to the appliance and the others hand over
 * to the hub's own routes.
 */
static void plan_transit(struct builder *b, int v)
{
	const struct vl_lab *lab = b->p->lab;
	const struct vl_effective *eff = lab->eff;
	char ifn[IFNAMSIZ], nic[IFNAMSIZ];

	for (size_t k = 0; k < eff->n_scopes; k++) {
		const struct vl_scope *sc = &eff->scopes[k];
		int w = sc->vnet, hop;
		bool uses = false;

		if (!vl_eff_peered(lab, v, w))
			continue;
		for (size_t i = 0; i < sc->n_routes; i++) {
			hop = sc->routes[i].hop == VL_NH_APPLIANCE && sc->routes[i].active
				  ? vl_eff_appliance(lab, w, sc->routes[i].hop_ip)
				  : VL_NONE;
			uses |= hop != VL_NONE && in_vnet(lab, &lab->eps[hop], v);
		}
		if (!uses)
			continue;
		for (size_t i = 0; i < sc->n_routes; i++) {
			const struct vl_eroute *r = &sc->routes[i];

			if (!r->active)
				continue;
			hop = r->hop == VL_NH_APPLIANCE ? vl_eff_appliance(lab, w, r->hop_ip) : VL_NONE;
			if (hop != VL_NONE && in_vnet(lab, &lab->eps[hop], v)) {
				vl_fabric_ifname(nic, hop);
				route_full(b, b->fabric_ns[v], vl_transit_table((int)k), VL_RT_UNICAST, r->prefix, r->hop_ip,
					   nic);
			} else {
				route_full(b, b->fabric_ns[v], vl_transit_table((int)k), VL_RT_THROW, r->prefix, 0, NULL);
			}
		}
		peer_ifname(ifn, w);
		for (size_t sn = 0; sn < lab->n_subnets; sn++)
			if (eff->subnet_scope[sn] == (int)k)
				rule_add(b, b->fabric_ns[v], 0, ifn, lab->subnets[sn].prefix, vl_transit_table((int)k),
					 2000u + (uint32_t)k);
	}
}

static void fabric_blackhole(struct builder *b, uint32_t ip, int vnet, void *arg)
{
	if (vnet == *(int *)arg && vl_eff_ilpip_owner(b->p->lab, ip) == VL_NONE)
		route_full(b, b->fabric_ns[vnet], VL_RT_MAIN, VL_RT_BLACKHOLE, (struct vl_prefix){ip, 32}, 0, NULL);
}

static void internet_route(struct builder *b, uint32_t ip, int vnet, void *arg)
{
	const uint32_t *edge_a = arg; /* per VNet: the fabric end of its edge link */
	char zn[IFNAMSIZ];

	if (vnet == VL_NONE)
		return;
	snprintf(zn, IFNAMSIZ, "v%d", vnet % 100000);
	route_add(b, b->internet_ns, (struct vl_prefix){ip, 32}, edge_a[vnet], zn);
}

/* LoadBalancer frontends of VNet v: one table per backend node, chosen by the fabric's
 * prerouting (a hash of the client's address and port over the healthy backends). */
static void plan_frontends(struct builder *b, int v)
{
	const struct vl_lab *lab = b->p->lab;
	char ifn[IFNAMSIZ];

	for (size_t f = 0; f < lab->eff->n_frontends; f++) {
		const struct vl_frontend *fe = &lab->eff->frontends[f];

		if (subnet_vnet(lab, lab->aks[fe->cluster].subnet) != v)
			continue;
		for (size_t k = 0; k < fe->n_backends; k++) {
			uint32_t m = vl_lb_mark((int)f, (int)k);
			int node = fe->backends[k].node;

			rule_add(b, b->fabric_ns[v], m, NULL, (struct vl_prefix){0, 0}, m, 500);
			vl_fabric_ifname(ifn, node);
			route_full(b, b->fabric_ns[v], m, VL_RT_UNICAST, (struct vl_prefix){0, 0}, lab->eps[node].ip, ifn);
		}
	}
}

static void plan_fabric(struct builder *b, int v, struct fabric_links *fl)
{
	const struct vl_lab *lab = b->p->lab;
	const struct vl_effective *eff = lab->eff;
	int ns = b->fabric_ns[v];
	char ifn[IFNAMSIZ];
	bool *table_done;

	base_sysctls(b, ns);
	proxy_router_sysctls(b, ns);
	bridge_add(b, ns, VL_NONE_IFNAME);
	/* Azure-provided DNS and the metadata service answer here (spec 19.4): local, never forwarded,
	 * so no NSG sees them. */
	addr_add(b, ns, "lo", VL_IP_AZURE_PLATFORM, 32);
	addr_add(b, ns, "lo", VL_IP_IMDS, 32);
	for (size_t s = 0; s < lab->n_subnets; s++)
		if (lab->subnets[s].vnet == v)
			addr_add(b, ns, "lo", lab->subnets[s].prefix.addr + 1, 32);
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->nic == (int)i && in_vnet(lab, e, v))
			attach(b, ns, (int)i);
	}
	/* Azure CNI pods: secondary addresses of their node's NIC. */
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->kind != VL_EP_POD || e->virtual_node || !in_vnet(lab, e, v) ||
		    lab->aks[e->owner].plugin != VL_PLUGIN_AZURE)
			continue;
		vl_fabric_ifname(ifn, e->nic);
		route_add(b, ns, (struct vl_prefix){e->ip, 32}, lab->eps[e->nic].ip, ifn);
	}
	for (size_t g = 0; g < lab->n_gateways; g++) {
		const struct vl_vnet_gateway *gw = &lab->gateways[g];

		if (gw->vnet != v)
			continue;
		snprintf(ifn, IFNAMSIZ, "g%d", (int)(g % 100000));
		veth_add(b, ns, ifn, "", b->gw_ns[g], "eth0");
		no_proxy_delay(b, ns, ifn);
		route_add(b, ns, (struct vl_prefix){gw->ip, 32}, 0, ifn);
	}
	/* Unsolicited packets to the default outbound address end here; replies are un-NATed before. */
	route_full(b, ns, VL_RT_MAIN, VL_RT_BLACKHOLE, (struct vl_prefix){eff->outbound_ip[v], 32}, 0, NULL);
	/* So do those to the VNet's other public addresses that nothing takes: a NAT gateway or an
	 * outbound IP admits no unsolicited inbound, a frontend port without a rule or a healthy
	 * backend goes nowhere. (Instance public IPs are DNATed before routing.) */
	each_public(b, fabric_blackhole, &v);
	plan_frontends(b, v);
	for (size_t i = 0; i < eff->scopes[v].n_routes; i++)
		if (eff->scopes[v].routes[i].active)
			scope_route(b, v, VL_RT_MAIN, &eff->scopes[v].routes[i], fl);
	/* Subnets with their own route table: marked by NIC in prerouting, one table each. */
	table_done = calloc(eff->n_scopes, sizeof(*table_done));
	if (!table_done) {
		b->rc = b->rc ?: -ENOMEM;
		return;
	}
	for (size_t s = 0; s < lab->n_subnets; s++) {
		int k = eff->subnet_scope[s];
		const struct vl_scope *sc = &eff->scopes[k];

		if (lab->subnets[s].vnet != v || k == v || table_done[k])
			continue;
		table_done[k] = true;
		rule_add(b, ns, vl_scope_mark(k), NULL, (struct vl_prefix){0, 0}, vl_scope_table(k),
			 1000u + (uint32_t)k);
		for (size_t i = 0; i < sc->n_routes; i++)
			if (sc->routes[i].active)
				scope_route(b, v, vl_scope_table(k), &sc->routes[i], fl);
	}
	free(table_done);
	plan_transit(b, v);
	ruleset_add(b, ns, VL_RULESET_FABRIC, v);
}

/* Peerings (both sides declared), each VNet's edge, gateways and on-premises networks. */
static void plan_links(struct builder *b, struct fabric_links *fl)
{
	const struct vl_lab *lab = b->p->lab;
	char an[IFNAMSIZ], zn[IFNAMSIZ];
	struct p2p l;

	for (size_t v = 0; v < lab->n_vnets; v++)
		for (size_t w = v + 1; w < lab->n_vnets; w++) {
			if (!vl_eff_peered(lab, (int)v, (int)w))
				continue;
			peer_ifname(an, (int)w);
			peer_ifname(zn, (int)v);
			l = p2p_add(b, b->fabric_ns[v], an, b->fabric_ns[w], zn);
			fl[v].peer[w] = l.z;
			fl[w].peer[v] = l.a;
		}
	uint32_t *edge_a = calloc(lab->n_vnets ? lab->n_vnets : 1, sizeof(*edge_a));

	if (!edge_a) {
		b->rc = b->rc ?: -ENOMEM;
		return;
	}
	for (size_t v = 0; v < lab->n_vnets; v++) {
		snprintf(zn, IFNAMSIZ, "v%d", (int)(v % 100000));
		l = p2p_add(b, b->fabric_ns[v], VL_EDGE_IFNAME, b->internet_ns, zn);
		fl[v].edge = l.z;
		edge_a[v] = l.a;
		route_add(b, b->internet_ns, (struct vl_prefix){lab->eff->outbound_ip[v], 32}, l.a, zn);
	}
	/* Public IPs, NAT gateways, outbound IPs and frontends: to the edge of their VNet. */
	each_public(b, internet_route, edge_a);
	free(edge_a);
	for (size_t c = 0; c < lab->n_connections; c++) {
		const struct vl_connection *cn = &lab->connections[c];
		const struct vl_vnet_gateway *gw = &lab->gateways[cn->gateway];
		const struct vl_local_gateway *lg = &lab->local_gateways[cn->local_gateway];
		int gns = b->gw_ns[cn->gateway], ons = b->onprem_ns[cn->local_gateway];

		snprintf(an, IFNAMSIZ, "c%d", (int)(c % 100000));
		l = p2p_add(b, gns, an, ons, an);
		for (size_t i = 0; i < lg->n_prefixes; i++)
			route_add(b, gns, lg->prefixes[i], l.z, an);
		/* The on-premises router learns the hub's and its transit spokes' spaces (spec 12.5). */
		for (size_t v = 0; v < lab->n_vnets; v++) {
			if (!vl_eff_uses_gateway(lab, (int)v, cn->gateway))
				continue;
			for (size_t i = 0; i < lab->vnets[v].n_spaces; i++)
				route_add(b, ons, lab->vnets[v].spaces[i], l.a, an);
		}
		(void)gw;
	}
}

static void plan_gateway(struct builder *b, int g)
{
	const struct vl_lab *lab = b->p->lab;
	const struct vl_vnet_gateway *gw = &lab->gateways[g];
	struct vl_prefix sn = lab->subnets[gw->subnet].prefix;
	int ns = b->gw_ns[g];

	base_sysctls(b, ns);
	router_sysctls(b, ns);
	sysctl_add(b, ns, "net/ipv4/conf/all/send_redirects", "0");
	sysctl_add(b, ns, "net/ipv4/conf/default/send_redirects", "0");
	addr_add(b, ns, "eth0", gw->ip, sn.len);
	/* Back into Azure only for the spaces whose routes use this gateway; nothing else leaves it. */
	route_full(b, ns, VL_RT_MAIN, VL_RT_BLACKHOLE, (struct vl_prefix){0, 0}, 0, NULL);
	for (size_t v = 0; v < lab->n_vnets; v++) {
		if (!vl_eff_uses_gateway(lab, (int)v, g))
			continue;
		for (size_t i = 0; i < lab->vnets[v].n_spaces; i++)
			route_add(b, ns, lab->vnets[v].spaces[i], sn.addr + 1, "eth0");
	}
}

/* The on-premises router and the Internet: a router with its hosts attached like NICs. */
static void plan_outside(struct builder *b)
{
	const struct vl_lab *lab = b->p->lab;
	int ns = b->internet_ns;

	base_sysctls(b, ns);
	proxy_router_sysctls(b, ns);
	/* An Internet address no host holds: silently dropped at the edge (spec 23.7). */
	route_full(b, ns, VL_RT_MAIN, VL_RT_BLACKHOLE, (struct vl_prefix){0, 0}, 0, NULL);
	for (size_t g = 0; g < lab->n_local_gateways; g++) {
		const struct vl_local_gateway *lg = &lab->local_gateways[g];

		base_sysctls(b, b->onprem_ns[g]);
		proxy_router_sysctls(b, b->onprem_ns[g]);
		for (size_t i = 0; i < lg->n_prefixes; i++)
			route_full(b, b->onprem_ns[g], VL_RT_MAIN, VL_RT_BLACKHOLE, lg->prefixes[i], 0, NULL);
	}
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->kind == VL_EP_INTERNET) {
			gateway_addr(b, ns, vl_outside_net(lab, (int)i));
			attach(b, ns, (int)i);
		} else if (e->kind == VL_EP_ONPREM) {
			gateway_addr(b, b->onprem_ns[e->owner], vl_outside_net(lab, (int)i));
			attach(b, b->onprem_ns[e->owner], (int)i);
		}
	}
}

struct vl_prefix vl_outside_net(const struct vl_lab *lab, int ep)
{
	const struct vl_endpoint *e = &lab->eps[ep];

	if (e->kind == VL_EP_ONPREM) {
		const struct vl_local_gateway *lg = &lab->local_gateways[e->owner];

		for (size_t i = 0; i < lg->n_prefixes; i++)
			if (vl_prefix_contains(lg->prefixes[i], e->ip))
				return lg->prefixes[i];
	}
	return (struct vl_prefix){e->ip & 0xffffff00u, 24}; /* a documentation /24 */
}

static void plan_endpoint(struct builder *b, int i)
{
	const struct vl_lab *lab = b->p->lab;
	const struct vl_endpoint *e = &lab->eps[i];
	struct vl_prefix any = {0, 0};
	int ns = b->ep_ns[i];
	char ifn[IFNAMSIZ];

	/*
	 * IPv6 off: in a node's namespace by a sysctl (its bridge would flood the chatter of every
	 * pod); a VM's, a host's or a pod's eth0 is made without IPv6 by its link (attach(),
	 * link_no_ipv6()), with no /proc/sys write in its namespace: each costs a lookup among the
	 * same names in all the others (the kernel's sysctl dentries share one hash chain per
	 * name), quadratic in the number of endpoints. Without it, each eth0 got a link-local
	 * address when its carrier came: DAD, MLD and router solicitations, RTNL work of the
	 * kernel's during and after `up`.
	 */
	if (e->kind == VL_EP_NODE)
		base_sysctls(b, ns); /* a pod's one link is made without IPv6 instead (peer_no_ipv6) */
	if (e->kind == VL_EP_INTERNET || e->kind == VL_EP_ONPREM) {
		struct vl_prefix net = vl_outside_net(lab, i);

		addr_add(b, ns, "eth0", e->ip, net.len);
		route_add(b, ns, any, net.addr + 1, "eth0");
		return;
	}
	struct vl_prefix sn = lab->subnets[e->subnet].prefix;

	if (e->kind == VL_EP_NODE ||
	    (e->kind == VL_EP_VM && lab->vms[e->owner].ip_forwarding)) {
		router_sysctls(b, ns);
		sysctl_add(b, ns, "net/ipv4/conf/all/send_redirects", "0");
		sysctl_add(b, ns, "net/ipv4/conf/default/send_redirects", "0");
	}
	if (e->kind == VL_EP_NODE && lab->aks[e->owner].plugin == VL_PLUGIN_AZURE)
		sysctl_add(b, ns, "net/ipv4/conf/default/proxy_arp", "1");
	/* a virtual-node pod is a container group: its own eth0 in its subnet, like a VM's (spec 17) */
	if (e->kind != VL_EP_POD || e->virtual_node) {
		ep_addr_add(b, ns, "eth0", e->ip, sn.len);
		route_add(b, ns, any, sn.addr + 1, "eth0");
	}
	if (e->kind == VL_EP_NODE) {
		if (e->pod_cidr.len) {
			bridge_add(b, ns, "cbr0");
			addr_add(b, ns, "cbr0", e->pod_cidr.addr + 1, 24);
		}
		ruleset_add(b, ns, VL_RULESET_MASQ, i);
	} else if (e->kind == VL_EP_POD && !e->virtual_node) {
		int node_ns = b->ep_ns[e->node];
		const struct vl_endpoint *node = &lab->eps[e->node];

		pod_ifname(ifn, i);
		if (node->pod_cidr.len) { /* kubenet: a port of cbr0, gateway cbr0's .1 */
			veth_add(b, node_ns, ifn, "cbr0", ns, "eth0");
			link_no_ipv6(b);
			link_hairpin(b);
			ep_addr_add(b, ns, "eth0", e->ip, 24);
			route_add(b, ns, any, node->pod_cidr.addr + 1, "eth0");
		} else { /* Azure CNI: routed to the pod; the node answers ARP for the subnet */
			veth_add(b, node_ns, ifn, "", ns, "eth0");
			link_no_ipv6(b);
			no_proxy_delay(b, node_ns, ifn);
			ep_addr_add(b, ns, "eth0", e->ip, sn.len);
			route_add(b, ns, any, sn.addr + 1, "eth0");
			route_add(b, node_ns, (struct vl_prefix){e->ip, 32}, 0, ifn);
		}
	}
}

/* The namespace table: fabrics, the Internet, gateways, on-premises routers, then endpoints. */
static void plan_namespaces(struct builder *b)
{
	const struct vl_lab *lab = b->p->lab;

	for (size_t v = 0; v < lab->n_vnets; v++)
		b->fabric_ns[v] = ns_add(b, VL_NS_FABRIC, VL_NONE, (int)v, "fabric.%s", lab->vnets[v].name);
	b->internet_ns = ns_add(b, VL_NS_INTERNET, VL_NONE, VL_NONE, "internet");
	for (size_t g = 0; g < lab->n_gateways; g++)
		b->gw_ns[g] = ns_add(b, VL_NS_GATEWAY, VL_NONE, (int)g, "gw.%s", lab->gateways[g].name);
	for (size_t g = 0; g < lab->n_local_gateways; g++)
		b->onprem_ns[g] =
		    ns_add(b, VL_NS_ONPREM, VL_NONE, (int)g, "onprem.%s", lab->local_gateways[g].name);
	for (size_t i = 0; i < lab->n_eps; i++)
		b->ep_ns[i] = ns_add(b, VL_NS_ENDPOINT, (int)i, VL_NONE, "%s", lab->eps[i].name);
}

static void *zalloc(size_t n, size_t size)
{
	return calloc(n ? n : 1, size);
}

int vl_plan_build(const struct vl_lab *lab, struct vl_plan **out)
{
	struct builder b = {0};
	struct fabric_links *fl = NULL;

	*out = NULL;
	if (!lab->eff)
		return -EINVAL;
	b.p = calloc(1, sizeof(*b.p));
	b.ep_ns = zalloc(lab->n_eps, sizeof(int));
	b.fabric_ns = zalloc(lab->n_vnets, sizeof(int));
	b.gw_ns = zalloc(lab->n_gateways, sizeof(int));
	b.onprem_ns = zalloc(lab->n_local_gateways, sizeof(int));
	fl = zalloc(lab->n_vnets, sizeof(*fl));
	if (!b.p || !b.ep_ns || !b.fabric_ns || !b.gw_ns || !b.onprem_ns || !fl) {
		b.rc = -ENOMEM;
		goto out;
	}
	for (size_t v = 0; v < lab->n_vnets && !b.rc; v++)
		if (!(fl[v].peer = zalloc(lab->n_vnets, sizeof(uint32_t))))
			b.rc = -ENOMEM;
	b.p->lab = lab;
	plan_namespaces(&b);
	plan_links(&b, fl);
	for (size_t v = 0; v < lab->n_vnets; v++)
		plan_fabric(&b, (int)v, &fl[v]);
	for (size_t g = 0; g < lab->n_gateways; g++)
		plan_gateway(&b, (int)g);
	plan_outside(&b);
	for (size_t i = 0; i < lab->n_eps; i++)
		plan_endpoint(&b, (int)i);
out:
	for (size_t v = 0; fl && v < lab->n_vnets; v++)
		free(fl[v].peer);
	free(fl);
	free(b.ep_ns);
	free(b.fabric_ns);
	free(b.gw_ns);
	free(b.onprem_ns);
	if (b.rc) {
		vl_plan_free(b.p);
		return b.rc;
	}
	*out = b.p;
	return 0;
}

void vl_plan_free(struct vl_plan *plan)
{
	if (!plan)
		return;
	free(plan->ns);
	free(plan->links);
	free(plan->addrs);
	free(plan->routes);
	free(plan->rules);
	free(plan->sysctls);
	free(plan->rulesets);
	free(plan);
}
