// SPDX-License-Identifier: MIT
/* Address assignment and the plan of small topologies: exactly which kernel objects. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"
#include "vnetlab/nft.h"
#include "vnetlab/plan.h"

static const char *basic = "name: t\n"
			   "vnets:\n"
			   "  - name: v\n"
			   "    addressSpace: [10.5.0.0/16]\n"
			   "    subnets:\n"
			   "      - name: a\n"
			   "        addressPrefix: 10.5.1.0/24\n"
			   "      - name: c\n"
			   "        addressPrefix: 10.5.2.0/28\n"
			   "        delegation: Microsoft.ContainerInstance/containerGroups\n"
			   "vms:\n"
			   "  - name: vm1\n"
			   "    subnet: a\n"
			   "  - name: vm2\n"
			   "    subnet: a\n"
			   "    privateIpAddress: 10.5.1.4\n"
			   "  - name: vm3\n"
			   "    subnet: a\n"
			   "containerGroups:\n"
			   "  - name: cg\n"
			   "    subnet: c\n"
			   "    app: hello\n"
			   "    ports: [80]\n";

static char *ip(uint32_t a)
{
	static char buf[4][VL_IP_STRLEN];
	static int i;

	return vl_ip_fmt(a, buf[i++ % 4]);
}

static char *plan_text(const struct vl_plan *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vl_plan_print(p, f);
	fclose(f);
	return buf;
}

Test(resolve, azure_assigns_from_dot4_in_file_order_around_static)
{
	struct vl_lab *lab = th_load(basic);
	int vm1 = vl_lab_find_endpoint(lab, "vm1"), vm2 = vl_lab_find_endpoint(lab, "vm2");
	int vm3 = vl_lab_find_endpoint(lab, "vm3"), cg = vl_lab_find_endpoint(lab, "cg");

	cr_assert_str_eq(ip(lab->eps[vm2].ip), "10.5.1.4", "static address kept");
	cr_assert_str_eq(ip(lab->eps[vm1].ip), "10.5.1.5", "first dynamic skips the static .4");
	cr_assert_str_eq(ip(lab->eps[vm3].ip), "10.5.1.6");
	cr_assert_str_eq(ip(lab->eps[cg].ip), "10.5.2.4");
	vl_lab_free(lab);
}

Test(resolve, reserved_and_outside_static_addresses_refused)
{
	char *y = malloc(strlen(basic) + 1);
	const char *e;

	strcpy(y, basic);
	memcpy(strstr(y, "10.5.1.4\n"), "10.5.1.3\n", 9);
	e = th_load_error(y);
	cr_assert(strstr(e, "reserved"), "got %s", e);
	memcpy(strstr(y, "10.5.1.3\n"), "10.5.9.9\n", 9);
	e = th_load_error(y);
	cr_assert(strstr(e, "outside"), "got %s", e);
	free(y);
}

Test(resolve, full_subnet_refused)
{
	/* a /29 has 8 addresses: .0-.3 and .7 reserved, so three NICs fit */
	const char *y =
	    "name: t\nvnets:\n  - name: v\n    addressSpace: [10.5.0.0/16]\n    subnets:\n"
	    "      - name: a\n        addressPrefix: 10.5.1.0/29\n"
	    "vms:\n  - {name: a1, subnet: a}\n  - {name: a2, subnet: a}\n  - {name: a3, subnet: a}\n"
	    "  - {name: a4, subnet: a}\n";
	const char *e = th_load_error(y);

	cr_assert(strstr(e, "no free address"), "got %s", e);
}

Test(plan, basic_topology_objects)
{
	struct vl_lab *lab = th_load(basic);
	struct vl_plan *p;
	char *text;

	cr_assert_eq(vl_plan_build(lab, &p), 0);
	text = plan_text(p);
	cr_assert_eq(p->n_ns, 6, "the fabric of v, the Internet, four endpoints");
	cr_assert_str_eq(p->ns[0].name, "vl-t-fabric.v");
	cr_assert_eq(p->ns[0].role, VL_NS_FABRIC);
	cr_assert_eq(p->ns[0].index, 0);
	cr_assert_str_eq(p->ns[1].name, "vl-t-internet");
	cr_assert_eq(p->ns[1].role, VL_NS_INTERNET);
	cr_assert_eq(p->n_links, 6, "one veth per NIC, the edge, and the fabric's bridge of next hop None");
	cr_assert(strstr(text, "link   vl-t-fabric.v none type bridge\n"), "%s", text);
	cr_assert_eq(p->n_rulesets, 1, "the fabric's ruleset only");
	cr_assert_eq(p->rulesets[0].kind, VL_RULESET_FABRIC);
	cr_assert_eq(p->rulesets[0].index, 0, "of vnet v");
	cr_assert_eq(p->rulesets[0].ns, 0);
	/* every NIC: veth in the fabric, peer eth0 in the endpoint (made without IPv6), /32 route,
	 * default via .1; each subnet's gateway .1/32 once, on the fabric's lo */
	cr_assert(strstr(text, "link   vl-t-fabric.v n0 type veth peer eth0 netns vl-t-vm1 peer-no-ipv6\n"), "%s", text);
	cr_assert(strstr(text, "link   vl-t-fabric.v n3 type veth peer eth0 netns vl-t-cg peer-no-ipv6\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v lo 10.5.1.1/32\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v lo 10.5.2.1/32\n"), "%s", text);
	cr_assert_null(strstr(text, "addr   vl-t-fabric.v n0 "), "no address on a NIC's fabric end: %s", text);
	cr_assert(strstr(text, "addr   vl-t-vm1 eth0 10.5.1.5/24\n"));
	cr_assert(strstr(text, "addr   vl-t-cg eth0 10.5.2.4/28\n"));
	cr_assert(strstr(text, "route  vl-t-fabric.v 10.5.1.5/32 dev n0\n"));
	cr_assert(strstr(text, "route  vl-t-vm1 default via 10.5.1.1 dev eth0\n"));
	cr_assert(strstr(text, "route  vl-t-cg default via 10.5.2.1 dev eth0\n"));
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv4/conf/default/proxy_arp=1\n"));
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv4/ip_forward=1\n"));
	/* IPv6 off in the routers; a VM's namespace gets no sysctl at all (one write each would be
	 * a lookup among the same name in every other namespace: quadratic) */
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv6/conf/default/disable_ipv6=1\n"), "%s", text);
	cr_assert_null(strstr(text, "sysctl vl-t-vm1 "), "%s", text);
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv4/neigh/n3/proxy_delay=0\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v lo 168.63.129.16/32\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v lo 169.254.169.254/32\n"), "%s", text);
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv4/icmp_ratemask=0\n"), "%s", text);
	/* the edge: a /31 to the Internet namespace, the VNet's outbound address routed back over it */
	cr_assert(strstr(text, "link   vl-t-fabric.v edge type veth peer v0 netns vl-t-internet\n"), "%s",
		  text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v edge 169.254.0.0/31\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-internet v0 169.254.0.1/31\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-internet 198.51.100.4/32 via 169.254.0.0 dev v0\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-internet blackhole default\n"), "%s", text);
	/* the system routes in main: VNet-local is the NICs' /32s, else dropped without a word */
	cr_assert(strstr(text, "route  vl-t-fabric.v blackhole 10.5.0.0/16\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-fabric.v blackhole 198.51.100.4/32\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-fabric.v 10.0.0.0/8 dev none\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-fabric.v 100.64.0.0/10 dev none\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-fabric.v default via 169.254.0.1 dev edge\n"), "%s", text);
	cr_assert(!strstr(text, "table"), "no route table, no kubenet: main only\n%s", text);
	cr_assert_eq(p->n_rules, 0);
	cr_assert_eq(p->n_addrs, 10, "4 eth0, 2 platform and 2 subnet gateways on lo, 2 on the edge");
	cr_assert_eq(p->n_routes, 17, "4 /32s, 4 defaults, 6 system, outbound, and 2 in the Internet");
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

static const char *kubenet = "name: k\n"
			     "vnets:\n"
			     "  - name: v\n"
			     "    addressSpace: [10.10.0.0/16]\n"
			     "    subnets:\n"
			     "      - name: aks\n"
			     "        addressPrefix: 10.10.1.0/24\n"
			     "aksClusters:\n"
			     "  - name: c\n"
			     "    subnet: aks\n"
			     "    networkPlugin: kubenet\n"
			     "    nodeCount: 2\n"
			     "    pods:\n"
			     "      - name: web\n"
			     "        replicas: 3\n"
			     "      - name: solo\n"
			     "        node: 1\n";

Test(plan, kubenet_cluster)
{
	struct vl_lab *lab = th_load(kubenet);
	struct vl_plan *p;
	char *text;

	cr_assert_eq(lab->n_eps, 6);
	cr_assert_str_eq(lab->eps[0].name, "c-node-0");
	cr_assert_str_eq(ip(lab->eps[0].ip), "10.10.1.4");
	cr_assert_str_eq(ip(lab->eps[1].ip), "10.10.1.5");
	/* pods spread in order over the nodes; replicas are name-i; node /24s in order; pods from .2 */
	cr_assert_str_eq(lab->eps[2].name, "web-0");
	cr_assert_str_eq(ip(lab->eps[2].ip), "10.244.0.2");
	cr_assert_str_eq(ip(lab->eps[3].ip), "10.244.1.2");
	cr_assert_str_eq(ip(lab->eps[4].ip), "10.244.0.3");
	cr_assert_str_eq(lab->eps[5].name, "solo");
	cr_assert_str_eq(ip(lab->eps[5].ip), "10.244.1.3");
	cr_assert_eq(lab->eps[5].node, 1);
	cr_assert_eq(vl_plan_build(lab, &p), 0);
	text = plan_text(p);
	cr_assert(strstr(text, "link   vl-k-c-node-0 cbr0 type bridge\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-k-c-node-0 cbr0 10.244.0.1/24\n"));
	cr_assert(strstr(text, "link   vl-k-c-node-0 p2 type veth peer eth0 netns vl-k-web-0 master cbr0 hairpin peer-no-ipv6\n"),
		  "%s", text);
	/* a pod's IPv6 is off by its link, not by a sysctl (a /proc/sys write each was quadratic) */
	cr_assert_null(strstr(text, "sysctl vl-k-web-0 "), "%s", text);
	cr_assert(strstr(text, "sysctl vl-k-c-node-0 net/ipv6/conf/default/disable_ipv6=1\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-k-web-0 eth0 10.244.0.2/24\n"));
	cr_assert(strstr(text, "route  vl-k-web-0 default via 10.244.0.1 dev eth0\n"));
	/* the cluster route table: pod /24 via the node */
	/* the cluster's subnet is a scope of its own: marked, looked up in its table; main has no pod route
	 */
	{
		int k = lab->eff->subnet_scope[vl_lab_find_subnet(lab, "aks")];
		char want[160];

		cr_assert_neq(k, 0, "not the VNet's system scope");
		snprintf(want, sizeof(want), "rule   vl-k-fabric.v pref %u fwmark %u lookup %u\n", 1000u + k,
			 vl_scope_mark(k), vl_scope_table(k));
		cr_assert(strstr(text, want), "%s\n%s", want, text);
		snprintf(want, sizeof(want),
			 "route  vl-k-fabric.v 10.244.1.0/24 via 10.10.1.5 dev n1 table %u\n",
			 vl_scope_table(k));
		cr_assert(strstr(text, want), "%s\n%s", want, text);
		snprintf(want, sizeof(want), "route  vl-k-fabric.v throw 10.10.0.0/16 table %u\n",
			 vl_scope_table(k));
		cr_assert(strstr(text, want), "%s\n%s", want, text);
		cr_assert(!strstr(text, "route  vl-k-fabric.v 10.244.1.0/24 via 10.10.1.5 dev n1\n"), "%s",
			  text);
		cr_assert(strstr(text, "route  vl-k-fabric.v 10.0.0.0/8 dev none\n"), "%s", text);
	}
	cr_assert(strstr(text, "sysctl vl-k-c-node-1 net/ipv4/ip_forward=1\n"));
	cr_assert(strstr(text, "nft    vl-k-c-node-0 masquerade\n"));
	cr_assert(strstr(text, "nft    vl-k-c-node-1 masquerade\n"));
	cr_assert_eq(p->n_rulesets, 3);
	free(text);
	/* ip-masq-agent of node 1: its pod /24 leaving eth0 for anything outside the pod CIDR */
	{
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		vl_nft_masq_print(lab, 1, f);
		fclose(f);
	}
	cr_assert(strstr(text, "elements = { 10.244.0.0/16 }"), "%s", text);
	cr_assert(strstr(text, "type nat hook postrouting priority srcnat"), "%s", text);
	cr_assert(
	    strstr(text, "ip saddr 10.244.1.0/24 oifname \"eth0\" ip daddr != @nonmasq counter masquerade"),
	    "%s", text);
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

Test(plan, azure_cni_cluster)
{
	const char *y =
	    "name: z\nvnets:\n  - name: v\n    addressSpace: [10.13.0.0/16]\n    subnets:\n"
	    "      - name: aks\n        addressPrefix: 10.13.0.0/24\n"
	    "vms:\n  - {name: vm, subnet: aks}\n"
	    "aksClusters:\n  - name: c\n    subnet: aks\n    networkPlugin: azure\n    nodeCount: 2\n"
	    "    pods:\n      - {name: p, replicas: 3}\n";
	struct vl_lab *lab = th_load(y);
	struct vl_plan *p;
	char *text;

	/* the VM first (file order), then the nodes, then the pods after the nodes */
	cr_assert_str_eq(ip(lab->eps[vl_lab_find_endpoint(lab, "vm")].ip), "10.13.0.4");
	cr_assert_str_eq(ip(lab->eps[vl_lab_find_endpoint(lab, "c-node-0")].ip), "10.13.0.5");
	cr_assert_str_eq(ip(lab->eps[vl_lab_find_endpoint(lab, "c-node-1")].ip), "10.13.0.6");
	cr_assert_str_eq(ip(lab->eps[vl_lab_find_endpoint(lab, "p-0")].ip), "10.13.0.7");
	cr_assert_str_eq(ip(lab->eps[vl_lab_find_endpoint(lab, "p-2")].ip), "10.13.0.9");
	cr_assert_eq(vl_plan_build(lab, &p), 0);
	text = plan_text(p);
	cr_assert(!strstr(text, "cbr0"), "no bridge in Azure CNI");
	cr_assert(strstr(text, "route  vl-z-fabric.v 10.13.0.7/32 via 10.13.0.5 dev n1\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-z-c-node-0 10.13.0.7/32 dev p3\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-z-p-0 eth0 10.13.0.7/24\n"));
	cr_assert(strstr(text, "route  vl-z-p-0 default via 10.13.0.1 dev eth0\n"));
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

/* ---- routing domains: peerings, route tables, gateways, the Internet, hub appliances ---- */

static bool has(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool has(const char *text, const char *fmt, ...)
{
	char want[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	return strstr(text, want) != NULL;
}

static int ns_of(const struct vl_plan *p, const char *name)
{
	for (size_t i = 0; i < p->n_ns; i++)
		if (!strcmp(p->ns[i].name, name))
			return (int)i;
	cr_assert_fail("no namespace %s", name);
	return VL_NONE;
}

/* The address a plan gives dev in ns (the first one). */
static uint32_t addr_on(const struct vl_plan *p, const char *ns, const char *dev)
{
	int n = ns_of(p, ns);

	for (size_t i = 0; i < p->n_addrs; i++)
		if (p->addrs[i].ns == n && !strcmp(p->addrs[i].dev, dev))
			return p->addrs[i].addr.addr;
	cr_assert_fail("no address on %s in %s", dev, ns);
	return 0;
}

static const struct vl_plan_route *lpm(const struct vl_plan *p, int ns, uint32_t table, uint32_t dst)
{
	const struct vl_plan_route *best = NULL;

	for (size_t i = 0; i < p->n_routes; i++) {
		const struct vl_plan_route *r = &p->routes[i];

		if (r->ns == ns && r->table == table && vl_prefix_contains(r->dst, dst) &&
		    (!best || r->dst.len > best->dst.len))
			best = &p->routes[i];
	}
	return best;
}

/* What the kernel of namespace ns does with a packet from src (NULL: 0.0.0.0) to dst that came in
 * on iif with fwmark mark: rules by priority (a throw or no match goes on to the next), then main. */
static const struct vl_plan_route *route_from(const struct vl_plan *p, const char *ns, const char *iif,
					      uint32_t mark, const char *src, const char *dst)
{
	int n = ns_of(p, ns);
	uint32_t d, sa = 0, last = 0;
	const struct vl_plan_route *r;

	cr_assert_eq(vl_ip_parse(dst, &d), 0);
	if (src)
		cr_assert_eq(vl_ip_parse(src, &sa), 0);
	for (;;) {
		const struct vl_plan_rule *next = NULL;

		for (size_t i = 0; i < p->n_rules; i++) {
			const struct vl_plan_rule *u = &p->rules[i];

			if (u->ns != n || u->priority <= last || (u->mark && u->mark != mark) ||
			    (u->iif[0] && strcmp(u->iif, iif)) || (u->src.len && !vl_prefix_contains(u->src, sa)))
				continue;
			if (!next || u->priority < next->priority)
				next = u;
		}
		if (!next)
			break;
		last = next->priority;
		r = lpm(p, n, next->table, d);
		if (r && r->type != VL_RT_THROW)
			return r;
	}
	r = lpm(p, n, VL_RT_MAIN, d);
	cr_assert_not_null(r, "%s: no route to %s", ns, dst);
	return r;
}

static const struct vl_plan_route *route_for(const struct vl_plan *p, const char *ns, const char *iif,
					     uint32_t mark, const char *dst)
{
	return route_from(p, ns, iif, mark, NULL, dst);
}

/* "unicast via 10.0.0.1 dev n0", "blackhole", "unicast dev none" (next hop None), ... */
static char *hop_text(const struct vl_plan_route *r)
{
	static const char *const types[] = {"unicast", "blackhole", "unreachable", "throw"};
	static char buf[4][96];
	static int n;
	char *b = buf[n++ % 4], g[VL_IP_STRLEN];

	snprintf(b, 96, "%s", types[r->type]);
	if (r->gateway)
		snprintf(b + strlen(b), 96 - strlen(b), " via %s", vl_ip_fmt(r->gateway, g));
	if (r->dev[0])
		snprintf(b + strlen(b), 96 - strlen(b), " dev %s", r->dev);
	return b;
}

/* The kernel refuses a second route with one destination in one table (NLM_F_EXCL). */
static void assert_routes_unique(const struct vl_plan *p)
{
	char a[VL_PREFIX_STRLEN];

	for (size_t i = 0; i < p->n_routes; i++)
		for (size_t j = i + 1; j < p->n_routes; j++) {
			const struct vl_plan_route *x = &p->routes[i], *y = &p->routes[j];

			cr_assert(x->ns != y->ns || x->table != y->table || x->dst.addr != y->dst.addr ||
				      x->dst.len != y->dst.len,
				  "two routes to %s in table %u of %s", vl_prefix_fmt(x->dst, a), x->table,
				  p->ns[x->ns].name);
		}
}

static struct vl_plan *plan_of(const struct vl_lab *lab, char **text)
{
	struct vl_plan *p;

	cr_assert_eq(vl_plan_build(lab, &p), 0);
	*text = plan_text(p);
	return p;
}

static const char *peered = "name: p\n"
			    "vnets:\n"
			    "  - name: a\n"
			    "    addressSpace: [10.1.0.0/16]\n"
			    "    subnets: [{name: s, addressPrefix: 10.1.1.0/24}]\n"
			    "    virtualNetworkPeerings: [{name: to-b, remoteVirtualNetwork: b}]\n"
			    "  - name: b\n"
			    "    addressSpace: [10.2.0.0/16]\n"
			    "    subnets: [{name: s, addressPrefix: 10.2.1.0/24}]\n"
			    "    virtualNetworkPeerings: [{name: to-a, remoteVirtualNetwork: a}]\n"
			    "  - name: c\n"
			    "    addressSpace: [10.3.0.0/16]\n"
			    "    subnets: [{name: s, addressPrefix: 10.3.1.0/24}]\n"
			    "    virtualNetworkPeerings: [{name: to-a, remoteVirtualNetwork: a}]\n"
			    "vms:\n"
			    "  - {name: va, subnet: a/s}\n"
			    "  - {name: vb, subnet: b/s}\n";

Test(plan, peered_vnets)
{
	struct vl_lab *lab = th_load(peered);
	char *text, ip_a[VL_IP_STRLEN], ip_b[VL_IP_STRLEN];
	struct vl_plan *p = plan_of(lab, &text);
	uint32_t a, b;

	cr_assert_eq(p->ns[ns_of(p, "vl-p-fabric.b")].role, VL_NS_FABRIC);
	cr_assert_eq(p->ns[ns_of(p, "vl-p-fabric.b")].index, 1);
	/* both sides declared: one veth between the fabrics, pr<the other VNet> at each end, a /31 */
	cr_assert(has(text, "link   vl-p-fabric.a pr1 type veth peer pr0 netns vl-p-fabric.b\n"), "%s", text);
	a = addr_on(p, "vl-p-fabric.a", "pr1");
	b = addr_on(p, "vl-p-fabric.b", "pr0");
	cr_assert_eq(a & 0xffff8000u, 0xa9fe0000u, "in 169.254.0.0/17");
	cr_assert_eq(a ^ 1, b, "the two ends of one /31");
	cr_assert(has(text, "addr   vl-p-fabric.a pr1 %s/31\n", vl_ip_fmt(a, ip_a)), "%s", text);
	cr_assert(has(text, "addr   vl-p-fabric.b pr0 %s/31\n", vl_ip_fmt(b, ip_b)), "%s", text);
	/* each side routes the other's space over it */
	cr_assert(has(text, "route  vl-p-fabric.a 10.2.0.0/16 via %s dev pr1\n", ip_b), "%s", text);
	cr_assert(has(text, "route  vl-p-fabric.b 10.1.0.0/16 via %s dev pr0\n", ip_a), "%s", text);
	cr_assert_str_eq(hop_text(route_for(p, "vl-p-fabric.a", "n0", 0, "10.2.1.4")),
			 hop_text(lpm(p, ns_of(p, "vl-p-fabric.a"), VL_RT_MAIN, 0x0a020104u)));
	cr_assert_str_eq(hop_text(route_for(p, "vl-p-fabric.b", "pr0", 0, "10.2.1.4")), "unicast dev n1");
	/* c declared its side only: no link, and c's space is the 10/8 None route in a (and back) */
	cr_assert(!strstr(text, "netns vl-p-fabric.c\n"), "%s", text);
	cr_assert_str_eq(hop_text(route_for(p, "vl-p-fabric.a", "n0", 0, "10.3.1.4")), "unicast dev none");
	cr_assert_str_eq(hop_text(route_for(p, "vl-p-fabric.c", "edge", 0, "10.1.1.4")), "unicast dev none");
	/* no transit: b has no route to c */
	cr_assert_str_eq(hop_text(route_for(p, "vl-p-fabric.b", "n1", 0, "10.3.1.4")), "unicast dev none");
	assert_routes_unique(p);
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

static const char *udr =
    "name: r\n"
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.1.0.0/16]\n"
    "    subnets:\n"
    "      - {name: a, addressPrefix: 10.1.1.0/24, routeTable: rt}\n"
    "      - {name: b, addressPrefix: 10.1.2.0/24}\n"
    "      - {name: nva, addressPrefix: 10.1.3.0/24}\n"
    "routeTables:\n"
    "  - name: rt\n"
    "    routes:\n"
    "      - {name: all-via-nva, addressPrefix: 10.1.0.0/16, nextHopType: VirtualAppliance,\n"
    "         nextHopIpAddress: 10.1.3.4}\n"
    "      - {name: nva-direct, addressPrefix: 10.1.3.0/24, nextHopType: VnetLocal}\n"
    "      - {name: drop, addressPrefix: 10.60.0.0/16, nextHopType: None}\n"
    "vms:\n"
    "  - {name: nva1, subnet: nva, enableIpForwarding: true}\n"
    "  - {name: a1, subnet: a}\n"
    "  - {name: b1, subnet: b}\n";

Test(plan, route_table)
{
	struct vl_lab *lab = th_load(udr);
	char *text;
	struct vl_plan *p = plan_of(lab, &text);
	int k = lab->eff->subnet_scope[vl_lab_find_subnet(lab, "a")];
	uint32_t t = vl_scope_table(k), m = vl_scope_mark(k);

	cr_assert_neq(k, lab->eff->subnet_scope[vl_lab_find_subnet(lab, "b")]);
	cr_assert_eq(lab->eff->subnet_scope[vl_lab_find_subnet(lab, "b")], 0, "b: the VNet's system scope");
	/* a's packets (marked by their NIC) read a's table first; one rule, b has none */
	cr_assert(has(text, "rule   vl-r-fabric.v pref %u fwmark %u lookup %u\n", 1000u + k, m, t), "%s",
		  text);
	cr_assert_eq(p->n_rules, 1);
	cr_assert(has(text, "route  vl-r-fabric.v 10.1.0.0/16 via 10.1.3.4 dev n0 table %u\n", t), "%s",
		  text);
	cr_assert(has(text, "route  vl-r-fabric.v throw 10.1.3.0/24 table %u\n", t),
		  "VnetLocal hands over to main");
	cr_assert(has(text, "route  vl-r-fabric.v 10.60.0.0/16 dev none table %u\n", t), "%s", text);
	cr_assert(!has(text, "route  vl-r-fabric.v 10.60.0.0/16 dev none\n"), "not in main");
	/* the kernel's verdicts */
	cr_assert_str_eq(hop_text(route_for(p, "vl-r-fabric.v", "n1", m, "10.1.2.4")),
			 "unicast via 10.1.3.4 dev n0");
	cr_assert_str_eq(hop_text(route_for(p, "vl-r-fabric.v", "n1", m, "10.1.3.4")), "unicast dev n0");
	cr_assert_str_eq(hop_text(route_for(p, "vl-r-fabric.v", "n1", m, "10.60.0.1")), "unicast dev none");
	cr_assert_str_eq(hop_text(route_for(p, "vl-r-fabric.v", "n1", m, "10.1.9.9")),
			 "unicast via 10.1.3.4 dev n0");
	cr_assert_str_eq(hop_text(route_for(p, "vl-r-fabric.v", "n2", 0, "10.1.1.4")), "unicast dev n1");
	cr_assert_str_eq(hop_text(route_for(p, "vl-r-fabric.v", "n2", 0, "10.1.9.9")), "blackhole");
	cr_assert_str_eq(hop_text(route_for(p, "vl-r-fabric.v", "n2", 0, "10.60.0.1")), "unicast dev none");
	/* the appliance forwards from its own NIC: unmarked, main */
	cr_assert_str_eq(hop_text(route_for(p, "vl-r-fabric.v", "n0", 0, "10.1.2.4")), "unicast dev n2");
	assert_routes_unique(p);
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

static const char *gateway =
    "name: g\n"
    "vnets:\n"
    "  - name: hub\n"
    "    addressSpace: [10.0.0.0/16]\n"
    "    subnets:\n"
    "      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27}\n"
    "      - {name: s, addressPrefix: 10.0.1.0/24}\n"
    "    virtualNetworkPeerings:\n"
    "      - {name: to-spoke, remoteVirtualNetwork: spoke, allowGatewayTransit: true}\n"
    "  - name: spoke\n"
    "    addressSpace: [10.1.0.0/16]\n"
    "    subnets: [{name: s, addressPrefix: 10.1.1.0/24}]\n"
    "    virtualNetworkPeerings:\n"
    "      - {name: to-hub, remoteVirtualNetwork: hub, useRemoteGateways: true}\n"
    "virtualNetworkGateways: [{name: vpn, vnet: hub}]\n"
    "localNetworkGateways:\n"
    "  - name: branch\n"
    "    addressPrefixes: [192.168.10.0/24]\n"
    "    hosts: [{name: srv, address: 192.168.10.10}, {name: pc}]\n"
    "connections: [{name: to-branch, virtualNetworkGateway: vpn, localNetworkGateway: branch}]\n"
    "vms: [{name: h1, subnet: hub/s}, {name: s1, subnet: spoke/s}]\n"
    "internet:\n"
    "  hosts: [{name: web}, {name: docs, address: 192.0.2.10}]\n";

Test(plan, gateway_and_on_premises)
{
	struct vl_lab *lab = th_load(gateway);
	char *text, gw_end[VL_IP_STRLEN], op_end[VL_IP_STRLEN], pr[VL_IP_STRLEN];
	struct vl_plan *p = plan_of(lab, &text);

	cr_assert_eq(p->ns[ns_of(p, "vl-g-gw.vpn")].role, VL_NS_GATEWAY);
	cr_assert_eq(p->ns[ns_of(p, "vl-g-gw.vpn")].index, 0);
	cr_assert_eq(p->ns[ns_of(p, "vl-g-onprem.branch")].role, VL_NS_ONPREM);
	cr_assert_eq(p->ns[ns_of(p, "vl-g-onprem.branch")].index, 0);
	/* the gateway: a NIC of the hub's fabric at GatewaySubnet's .4 */
	cr_assert(has(text, "link   vl-g-fabric.hub g0 type veth peer eth0 netns vl-g-gw.vpn\n"), "%s", text);
	cr_assert(has(text, "addr   vl-g-fabric.hub lo 10.0.255.1/32\n"), "%s", text);
	cr_assert(has(text, "addr   vl-g-gw.vpn eth0 10.0.255.4/27\n"), "%s", text);
	cr_assert(has(text, "route  vl-g-fabric.hub 10.0.255.4/32 dev g0\n"), "%s", text);
	/* the connection: a /31 from the gateway to the on-premises router */
	cr_assert(has(text, "link   vl-g-gw.vpn c0 type veth peer c0 netns vl-g-onprem.branch\n"), "%s",
		  text);
	vl_ip_fmt(addr_on(p, "vl-g-gw.vpn", "c0"), gw_end);
	vl_ip_fmt(addr_on(p, "vl-g-onprem.branch", "c0"), op_end);
	/* Azure's side: the hub to the gateway, the spoke (transit) over the peering to the hub */
	cr_assert(has(text, "route  vl-g-fabric.hub 192.168.10.0/24 via 10.0.255.4 dev g0\n"), "%s", text);
	vl_ip_fmt(addr_on(p, "vl-g-fabric.hub", "pr1"), pr);
	cr_assert(has(text, "route  vl-g-fabric.spoke 192.168.10.0/24 via %s dev pr0\n", pr), "%s", text);
	/* the gateway: on-premises over the connection, the spaces using it back into the hub, else drop */
	cr_assert(has(text, "route  vl-g-gw.vpn 192.168.10.0/24 via %s dev c0\n", op_end), "%s", text);
	cr_assert(has(text, "route  vl-g-gw.vpn 10.0.0.0/16 via 10.0.255.1 dev eth0\n"), "%s", text);
	cr_assert(has(text, "route  vl-g-gw.vpn 10.1.0.0/16 via 10.0.255.1 dev eth0\n"), "%s", text);
	cr_assert(has(text, "route  vl-g-gw.vpn blackhole default\n"), "%s", text);
	cr_assert(has(text, "sysctl vl-g-gw.vpn net/ipv4/ip_forward=1\n"), "%s", text);
	/* on premises: the hub's and its transit spoke's spaces to the gateway; its hosts like NICs */
	cr_assert(has(text, "route  vl-g-onprem.branch 10.0.0.0/16 via %s dev c0\n", gw_end), "%s", text);
	cr_assert(has(text, "route  vl-g-onprem.branch 10.1.0.0/16 via %s dev c0\n", gw_end), "%s", text);
	cr_assert(has(text, "route  vl-g-onprem.branch blackhole 192.168.10.0/24\n"), "%s", text);
	cr_assert(has(text, "link   vl-g-onprem.branch n4 type veth peer eth0 netns vl-g-srv peer-no-ipv6\n"), "%s", text);
	cr_assert(has(text, "addr   vl-g-onprem.branch lo 192.168.10.1/32\n"), "%s", text);
	cr_assert(has(text, "route  vl-g-onprem.branch 192.168.10.10/32 dev n4\n"), "%s", text);
	cr_assert(has(text, "addr   vl-g-pc eth0 192.168.10.4/24\n"), "%s", text);
	cr_assert(has(text, "route  vl-g-srv default via 192.168.10.1 dev eth0\n"), "%s", text);
	/* the whole way, hop by hop: spoke -> hub -> gateway -> on premises, and back */
	cr_assert_str_eq(hop_text(route_for(p, "vl-g-fabric.hub", "pr1", 0, "192.168.10.10")),
			 "unicast via 10.0.255.4 dev g0");
	cr_assert_str_eq(hop_text(route_for(p, "vl-g-onprem.branch", "n4", 0, "10.1.1.4")),
			 hop_text(lpm(p, ns_of(p, "vl-g-onprem.branch"), VL_RT_MAIN, 0x0a010000u)));
	cr_assert_str_eq(hop_text(route_for(p, "vl-g-fabric.hub", "g0", 0, "10.1.1.4")),
			 hop_text(lpm(p, ns_of(p, "vl-g-fabric.hub"), VL_RT_MAIN, 0x0a010000u)));
	assert_routes_unique(p);
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

Test(plan, internet_hosts)
{
	struct vl_lab *lab = th_load(gateway);
	char *text;
	struct vl_plan *p = plan_of(lab, &text);

	cr_assert_eq(p->ns[ns_of(p, "vl-g-internet")].role, VL_NS_INTERNET);
	cr_assert_eq(p->ns[ns_of(p, "vl-g-web")].role, VL_NS_ENDPOINT);
	/* attached to the Internet namespace like NICs: .1/32 once on its lo, a /24 documentation net */
	cr_assert(has(text, "link   vl-g-internet n2 type veth peer eth0 netns vl-g-web peer-no-ipv6\n"), "%s", text);
	cr_assert(has(text, "addr   vl-g-internet lo 203.0.113.1/32\n"), "%s", text);
	cr_assert(has(text, "addr   vl-g-web eth0 203.0.113.4/24\n"), "%s", text);
	cr_assert(has(text, "route  vl-g-internet 203.0.113.4/32 dev n2\n"), "%s", text);
	cr_assert(has(text, "route  vl-g-web default via 203.0.113.1 dev eth0\n"), "%s", text);
	cr_assert(has(text, "link   vl-g-internet n3 type veth peer eth0 netns vl-g-docs peer-no-ipv6\n"), "%s", text);
	cr_assert(has(text, "addr   vl-g-docs eth0 192.0.2.10/24\n"), "%s", text);
	cr_assert(has(text, "route  vl-g-docs default via 192.0.2.1 dev eth0\n"), "%s", text);
	/* every VNet's edge ends in the Internet namespace, its outbound address routed back over it */
	cr_assert(has(text, "link   vl-g-fabric.hub edge type veth peer v0 netns vl-g-internet\n"), "%s",
		  text);
	cr_assert(has(text, "link   vl-g-fabric.spoke edge type veth peer v1 netns vl-g-internet\n"), "%s",
		  text);
	cr_assert_str_eq(hop_text(route_for(p, "vl-g-internet", "n2", 0, "198.51.100.5")),
			 hop_text(lpm(p, ns_of(p, "vl-g-internet"), VL_RT_MAIN, 0xc6336405u)));
	cr_assert(has(text, "route  vl-g-internet 198.51.100.5/32 via "), "%s", text);
	cr_assert_str_eq(route_for(p, "vl-g-internet", "n2", 0, "198.51.100.5")->dev, "v1");
	/* an Internet address no host holds: dropped silently (spec 23.7); VNet spaces are not routed */
	cr_assert_str_eq(hop_text(route_for(p, "vl-g-internet", "n2", 0, "203.0.113.99")), "blackhole");
	cr_assert_str_eq(hop_text(route_for(p, "vl-g-internet", "n2", 0, "10.0.1.4")), "blackhole");
	/* from a VM: out through its VNet's edge */
	cr_assert_str_eq(route_for(p, "vl-g-fabric.spoke", "n1", 0, "203.0.113.4")->dev, VL_EDGE_IFNAME);
	assert_routes_unique(p);
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

#define HUB_NVA(extra_routes, extra_vms)                                                                     \
	"name: n\n"                                                                                          \
	"vnets:\n"                                                                                           \
	"  - name: hub\n"                                                                                    \
	"    addressSpace: [10.0.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: fw, addressPrefix: 10.0.1.0/24}\n"                                                   \
	"      - {name: shared, addressPrefix: 10.0.5.0/24}\n"                                               \
	"    virtualNetworkPeerings:\n"                                                                      \
	"      - {name: to-spoke, remoteVirtualNetwork: spoke, allowForwardedTraffic: true}\n"               \
	"  - name: spoke\n"                                                                                  \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: app, addressPrefix: 10.1.1.0/24, routeTable: rt}\n"                                  \
	"      - {name: plain, addressPrefix: 10.1.2.0/24}\n"                                                \
	"    virtualNetworkPeerings:\n"                                                                      \
	"      - {name: to-hub, remoteVirtualNetwork: hub, allowForwardedTraffic: true}\n"                   \
	"routeTables:\n"                                                                                     \
	"  - name: rt\n"                                                                                     \
	"    routes:\n"                                                                                      \
	"      - {name: via-fw, addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance,\n"                  \
	"         nextHopIpAddress: 10.0.1.4}\n" extra_routes "vms:\n"                                       \
	"  - {name: fw1, subnet: hub/fw, enableIpForwarding: true}\n"                                        \
	"  - {name: app1, subnet: spoke/app}\n"                                                              \
	"  - {name: plain1, subnet: spoke/plain}\n" extra_vms

Test(plan, hub_appliance_serves_a_spoke)
{
	struct vl_lab *lab = th_load(HUB_NVA("", ""));
	char *text, hub_end[VL_IP_STRLEN];
	struct vl_plan *p = plan_of(lab, &text);
	int spoke = vl_lab_find_vnet(lab, "spoke");
	int k = lab->eff->subnet_scope[vl_lab_find_subnet(lab, "spoke/app")];
	uint32_t tt = vl_transit_table(k);

	vl_ip_fmt(addr_on(p, "vl-n-fabric.hub", "pr1"), hub_end);
	/* the spoke: app's table sends everything over the peering to the hub */
	cr_assert(has(text, "rule   vl-n-fabric.spoke pref %u fwmark %u lookup %u\n", 1000u + k,
		      vl_scope_mark(k), vl_scope_table(k)),
		  "%s", text);
	cr_assert(has(text, "route  vl-n-fabric.spoke default via %s dev pr0 table %u\n", hub_end,
		      vl_scope_table(k)),
		  "%s", text);
	/* the hub: what comes in over the peering from the app subnet reads its routes again */
	(void)spoke;
	cr_assert(has(text, "rule   vl-n-fabric.hub pref %u from 10.1.1.0/24 iif pr1 lookup %u\n", 2000u + k, tt),
		  "%s", text);
	cr_assert(has(text, "route  vl-n-fabric.hub default via 10.0.1.4 dev n0 table %u\n", tt), "%s", text);
	cr_assert(has(text, "route  vl-n-fabric.hub throw 10.0.0.0/16 table %u\n", tt), "%s", text);
	cr_assert(has(text, "route  vl-n-fabric.hub throw 10.1.0.0/16 table %u\n", tt), "%s", text);
	cr_assert_eq(p->n_rules, 2, "the spoke's scope rule and the hub's transit rule");
	/* the whole way: app1 -> spoke -> hub -> fw1 -> hub's edge */
	cr_assert_str_eq(route_for(p, "vl-n-fabric.spoke", "n1", vl_scope_mark(k), "203.0.113.9")->dev,
			 "pr0");
	cr_assert_str_eq(hop_text(route_from(p, "vl-n-fabric.hub", "pr1", 0, "10.1.1.4", "203.0.113.9")),
			 "unicast via 10.0.1.4 dev n0");
	cr_assert_str_eq(route_for(p, "vl-n-fabric.hub", "n0", 0, "203.0.113.9")->dev, VL_EDGE_IFNAME);
	/* the hub's own subnets and the spoke's space are not sent to the appliance */
	cr_assert_str_eq(hop_text(route_from(p, "vl-n-fabric.hub", "pr1", 0, "10.1.1.4", "10.0.1.4")),
			 "unicast dev n0");
	cr_assert_str_eq(route_for(p, "vl-n-fabric.hub", "n0", 0, "10.1.1.4")->dev, "pr1");
	/* plain has no route table: its Internet traffic leaves by the spoke's own edge */
	cr_assert_str_eq(route_for(p, "vl-n-fabric.spoke", "n2", 0, "203.0.113.9")->dev, VL_EDGE_IFNAME);
	assert_routes_unique(p);
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

/*
 * The hub's transit table is chosen by the peering and the source subnet: subnet plain, which has
 * no route table, is not sent to fw1 (plain1 -> shared1 is a VNetPeering route for plain), while
 * app's packets to shared1 are.
 */
Test(plan, hub_appliance_only_for_the_subnets_routed_to_it)
{
	struct vl_lab *lab = th_load(HUB_NVA(
	    "      - {name: shared-via-fw, addressPrefix: 10.0.5.0/24, nextHopType: VirtualAppliance,\n"
	    "         nextHopIpAddress: 10.0.1.4}\n",
	    "  - {name: shared1, subnet: hub/shared}\n"));
	char *text, nic[IFNAMSIZ];
	struct vl_plan *p = plan_of(lab, &text);
	int plain = lab->eff->subnet_scope[vl_lab_find_subnet(lab, "spoke/plain")];
	const struct vl_eroute *r = vl_eff_route(lab->eff, plain, 0x0a000504u);

	cr_assert_str_eq(vl_nh_name(r->hop), "VNetPeering", "plain's effective route to shared1");
	cr_assert_str_eq(route_for(p, "vl-n-fabric.spoke", "n2", 0, "10.0.5.4")->dev, "pr0");
	vl_fabric_ifname(nic, vl_lab_find_endpoint(lab, "shared1"));
	cr_assert_str_eq(
	    route_from(p, "vl-n-fabric.hub", "pr1", 0, "10.1.2.4", "10.0.5.4")->dev, nic,
	    "plain1 -> shared1 in the hub: %s, want dev %s (direct, as plain's VNetPeering route)",
	    hop_text(route_from(p, "vl-n-fabric.hub", "pr1", 0, "10.1.2.4", "10.0.5.4")), nic);
	cr_assert_str_eq(hop_text(route_from(p, "vl-n-fabric.hub", "pr1", 0, "10.1.1.4", "10.0.5.4")),
			 "unicast via 10.0.1.4 dev n0", "app1 -> shared1 goes through fw1");
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}

/*
 * Bug: a VPN and an ExpressRoute gateway in one VNet (allowed, spec 13.2) both get GatewaySubnet's
 * .4, so the hub's main table holds 10.0.255.4/32 twice (the kernel refuses the second), and only
 * the first gateway's connections make routes: dc behind the ExpressRoute gateway is unreachable.
 */
Test(plan, two_gateways_of_one_vnet)
{
	struct vl_lab *lab =
	    th_load("name: two\n"
		    "vnets:\n"
		    "  - name: hub\n"
		    "    addressSpace: [10.0.0.0/16]\n"
		    "    subnets:\n"
		    "      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27}\n"
		    "      - {name: s, addressPrefix: 10.0.1.0/24}\n"
		    "virtualNetworkGateways:\n"
		    "  - {name: vpn, vnet: hub, gatewayType: Vpn}\n"
		    "  - {name: er, vnet: hub, gatewayType: ExpressRoute}\n"
		    "localNetworkGateways:\n"
		    "  - {name: branch, addressPrefixes: [192.168.10.0/24]}\n"
		    "  - {name: dc, addressPrefixes: [172.16.0.0/24]}\n"
		    "connections:\n"
		    "  - {name: to-branch, virtualNetworkGateway: vpn, localNetworkGateway: branch}\n"
		    "  - {name: to-dc, virtualNetworkGateway: er, localNetworkGateway: dc,\n"
		    "     connectionType: ExpressRoute}\n");
	char *text;
	struct vl_plan *p = plan_of(lab, &text);

	cr_expect_neq(addr_on(p, "vl-two-gw.vpn", "eth0"), addr_on(p, "vl-two-gw.er", "eth0"),
		      "two gateways, one address");
	cr_expect_str_eq(route_for(p, "vl-two-fabric.hub", "n0", 0, "192.168.10.5")->dev, "g0");
	cr_expect_str_eq(route_for(p, "vl-two-fabric.hub", "n0", 0, "172.16.0.5")->dev, "g1", "hub -> dc: %s",
			 hop_text(route_for(p, "vl-two-fabric.hub", "n0", 0, "172.16.0.5")));
	cr_expect(has(text, "route  vl-two-gw.er 10.0.0.0/16 via 10.0.255.1 dev eth0\n"),
		  "the ExpressRoute gateway routes nothing back into the hub");
	cr_expect(has(text, "route  vl-two-onprem.dc 10.0.0.0/16 via "), "dc has no route to the hub");
	assert_routes_unique(p);
	free(text);
	vl_plan_free(p);
	vl_lab_free(lab);
}
