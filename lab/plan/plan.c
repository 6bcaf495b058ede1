// SPDX-License-Identifier: MIT
/* Model → plan: the kernel objects of a lab, per namespace. Pure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/ip.h"
#include "vnetlab/plan.h"

#define FABRIC 0

void vl_ns_name(char *buf, const char *lab, const char *suffix)
{
	snprintf(buf, VL_NS_NAME_MAX, "vl-%s-%s", lab, suffix);
}

void vl_fabric_ns_name(char *buf, const struct vl_lab *lab, int vnet)
{
	snprintf(buf, VL_NS_NAME_MAX, "vl-%s-fabric.%s", lab->name, lab->vnets[vnet].name);
}

void vl_fabric_ifname(char *buf, int endpoint)
{
	snprintf(buf, IFNAMSIZ, "n%d", endpoint % 100000);
}

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
	size_t c_ns, c_links, c_addrs, c_routes, c_sysctls, c_rulesets;
	int rc;
};

static void ns_add(struct builder *b, enum vl_ns_role role, int ep, const char *suffix)
{
	struct vl_plan_ns ns = {.role = role, .endpoint = ep};

	vl_ns_name(ns.name, b->p->lab->name, suffix);
	b->rc = b->rc ?: PUSH(b->p->ns, b->p->n_ns, b->c_ns, ns);
}

static void sysctl_add(struct builder *b, int ns, const char *key, const char *value)
{
	struct vl_plan_sysctl s = {.ns = ns};

	snprintf(s.key, sizeof(s.key), "%s", key);
	snprintf(s.value, sizeof(s.value), "%s", value);
	b->rc = b->rc ?: PUSH(b->p->sysctls, b->p->n_sysctls, b->c_sysctls, s);
}

static void veth_add(struct builder *b, int ns, const char *name, const char *master, int peer_ns)
{
	struct vl_plan_link l = {.kind = VL_LINK_VETH, .ns = ns, .peer_ns = peer_ns};

	snprintf(l.name, IFNAMSIZ, "%s", name);
	snprintf(l.master, IFNAMSIZ, "%s", master);
	snprintf(l.peer_name, IFNAMSIZ, "eth0");
	b->rc = b->rc ?: PUSH(b->p->links, b->p->n_links, b->c_links, l);
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

static void route_add(struct builder *b, int ns, struct vl_prefix dst, uint32_t gw, const char *dev)
{
	struct vl_plan_route r = {.ns = ns, .dst = dst, .gateway = gw};

	snprintf(r.dev, IFNAMSIZ, "%s", dev);
	b->rc = b->rc ?: PUSH(b->p->routes, b->p->n_routes, b->c_routes, r);
}

static void ruleset_add(struct builder *b, int ns, enum vl_ruleset_kind kind, int ep)
{
	struct vl_plan_ruleset r = {.ns = ns, .kind = kind, .endpoint = ep};

	b->rc = b->rc ?: PUSH(b->p->rulesets, b->p->n_rulesets, b->c_rulesets, r);
}

static int ep_ns(int ep)
{
	return ep + 1;
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

/* Proxy ARP answers after a random delay of up to 0.8 s unless told otherwise, per device. */
static void no_proxy_delay(struct builder *b, int ns, const char *dev)
{
	char key[96];

	snprintf(key, sizeof(key), "net/ipv4/neigh/%s/proxy_delay", dev);
	sysctl_add(b, ns, key, "0");
}

static void plan_fabric(struct builder *b)
{
	const struct vl_lab *lab = b->p->lab;
	char ifn[IFNAMSIZ];

	ns_add(b, VL_NS_FABRIC, VL_NONE, "fabric");
	base_sysctls(b, FABRIC);
	router_sysctls(b, FABRIC);
	sysctl_add(b, FABRIC, "net/ipv4/conf/all/proxy_arp", "1");
	sysctl_add(b, FABRIC, "net/ipv4/conf/default/proxy_arp", "1");
	sysctl_add(b, FABRIC, "net/ipv4/conf/all/send_redirects", "0");
	sysctl_add(b, FABRIC, "net/ipv4/conf/default/send_redirects", "0");
	/* Azure-provided DNS: the agent answers at this address inside the fabric */
	addr_add(b, FABRIC, "lo", VL_IP_AZURE_PLATFORM, 32);
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		struct vl_prefix sn = lab->subnets[e->subnet].prefix;

		if (e->nic != (int)i)
			continue;
		vl_fabric_ifname(ifn, (int)i);
		veth_add(b, FABRIC, ifn, "", ep_ns((int)i));
		no_proxy_delay(b, FABRIC, ifn);
		addr_add(b, FABRIC, ifn, sn.addr + 1, 32);
		route_add(b, FABRIC, (struct vl_prefix){e->ip, 32}, 0, ifn);
	}
	/* The cluster route tables: kubenet pod /24 and Azure CNI pod /32 via the node. */
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		vl_fabric_ifname(ifn, e->nic);
		if (e->kind == VL_EP_NODE && e->pod_cidr.len)
			route_add(b, FABRIC, e->pod_cidr, e->ip, ifn);
		else if (e->kind == VL_EP_POD && lab->aks[e->owner].plugin == VL_PLUGIN_AZURE)
			route_add(b, FABRIC, (struct vl_prefix){e->ip, 32}, lab->eps[e->nic].ip, ifn);
	}
	/* User route tables: VirtualAppliance next hops that are lab endpoints. */
	for (size_t t = 0; t < lab->n_route_tables; t++)
		for (size_t r = 0; r < lab->route_tables[t].n_routes; r++) {
			const struct vl_route *rt = &lab->route_tables[t].routes[r];
			int hop = rt->next_hop ? vl_lab_find_endpoint_by_ip(lab, rt->next_hop) : VL_NONE;

			if (hop == VL_NONE || lab->eps[hop].nic != hop)
				continue;
			vl_fabric_ifname(ifn, hop);
			route_add(b, FABRIC, rt->prefix, rt->next_hop, ifn);
		}
	ruleset_add(b, FABRIC, VL_RULESET_NSG, VL_NONE);
}

static void plan_endpoint(struct builder *b, int i)
{
	const struct vl_lab *lab = b->p->lab;
	const struct vl_endpoint *e = &lab->eps[i];
	struct vl_prefix sn = lab->subnets[e->subnet].prefix;
	struct vl_prefix any = {0, 0};
	int ns = ep_ns(i);
	char ifn[IFNAMSIZ];

	ns_add(b, VL_NS_ENDPOINT, i, e->name);
	base_sysctls(b, ns);
	if (e->kind == VL_EP_NODE) {
		router_sysctls(b, ns);
		if (lab->aks[e->owner].plugin == VL_PLUGIN_AZURE)
			sysctl_add(b, ns, "net/ipv4/conf/default/proxy_arp", "1");
	}
	if (e->kind != VL_EP_POD) {
		addr_add(b, ns, "eth0", e->ip, sn.len);
		route_add(b, ns, any, sn.addr + 1, "eth0");
	}
	if (e->kind == VL_EP_NODE) {
		if (e->pod_cidr.len) {
			bridge_add(b, ns, "cbr0");
			addr_add(b, ns, "cbr0", e->pod_cidr.addr + 1, 24);
		}
		ruleset_add(b, ns, VL_RULESET_MASQ, i);
	} else if (e->kind == VL_EP_POD) {
		int node_ns = ep_ns(e->node);
		const struct vl_endpoint *node = &lab->eps[e->node];

		pod_ifname(ifn, i);
		if (node->pod_cidr.len) { /* kubenet: a port of cbr0, gateway cbr0's .1 */
			veth_add(b, node_ns, ifn, "cbr0", ns);
			addr_add(b, ns, "eth0", e->ip, 24);
			route_add(b, ns, any, node->pod_cidr.addr + 1, "eth0");
		} else { /* Azure CNI: routed to the pod; the node answers ARP for the subnet */
			veth_add(b, node_ns, ifn, "", ns);
			no_proxy_delay(b, node_ns, ifn);
			addr_add(b, ns, "eth0", e->ip, sn.len);
			route_add(b, ns, any, sn.addr + 1, "eth0");
			route_add(b, node_ns, (struct vl_prefix){e->ip, 32}, 0, ifn);
		}
	}
}

int vl_plan_build(const struct vl_lab *lab, struct vl_plan **out)
{
	struct builder b = {0};

	*out = NULL;
	b.p = calloc(1, sizeof(*b.p));
	if (!b.p)
		return -ENOMEM;
	b.p->lab = lab;
	plan_fabric(&b);
	for (size_t i = 0; i < lab->n_eps; i++)
		plan_endpoint(&b, (int)i);
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
	free(plan->sysctls);
	free(plan->rulesets);
	free(plan);
}

void vl_plan_print(const struct vl_plan *p, FILE *f)
{
	char a[VL_PREFIX_STRLEN], g[VL_IP_STRLEN];

	for (size_t i = 0; i < p->n_ns; i++)
		fprintf(f, "netns  %s\n", p->ns[i].name);
	for (size_t i = 0; i < p->n_sysctls; i++)
		fprintf(f, "sysctl %s %s=%s\n", p->ns[p->sysctls[i].ns].name, p->sysctls[i].key,
			p->sysctls[i].value);
	for (size_t i = 0; i < p->n_links; i++) {
		const struct vl_plan_link *l = &p->links[i];

		if (l->kind == VL_LINK_BRIDGE)
			fprintf(f, "link   %s %s type bridge\n", p->ns[l->ns].name, l->name);
		else
			fprintf(f, "link   %s %s type veth peer %s netns %s%s%s\n", p->ns[l->ns].name,
				l->name, l->peer_name, p->ns[l->peer_ns].name, l->master[0] ? " master " : "",
				l->master);
	}
	for (size_t i = 0; i < p->n_addrs; i++)
		fprintf(f, "addr   %s %s %s\n", p->ns[p->addrs[i].ns].name, p->addrs[i].dev,
			vl_prefix_fmt(p->addrs[i].addr, a));
	for (size_t i = 0; i < p->n_routes; i++) {
		const struct vl_plan_route *r = &p->routes[i];

		fprintf(f, "route  %s %s", p->ns[r->ns].name,
			r->dst.len ? vl_prefix_fmt(r->dst, a) : "default");
		if (r->gateway)
			fprintf(f, " via %s", vl_ip_fmt(r->gateway, g));
		fprintf(f, " dev %s\n", r->dev);
	}
	for (size_t i = 0; i < p->n_rulesets; i++)
		fprintf(f, "nft    %s %s\n", p->ns[p->rulesets[i].ns].name,
			p->rulesets[i].kind == VL_RULESET_NSG ? "nsg" : "masquerade");
}
