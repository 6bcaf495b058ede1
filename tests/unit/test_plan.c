// SPDX-License-Identifier: MIT
/* Address assignment and the plan of small topologies: exactly which kernel objects. */
#include <criterion/criterion.h>
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
	cr_assert_eq(p->n_links, 5, "one veth per NIC and the edge");
	cr_assert_eq(p->n_rulesets, 1, "the fabric's ruleset only");
	cr_assert_eq(p->rulesets[0].kind, VL_RULESET_FABRIC);
	cr_assert_eq(p->rulesets[0].index, 0, "of vnet v");
	cr_assert_eq(p->rulesets[0].ns, 0);
	/* every NIC: veth in the fabric, peer eth0 in the endpoint, gateway .1/32, /32 route, default via .1
	 */
	cr_assert(strstr(text, "link   vl-t-fabric.v n0 type veth peer eth0 netns vl-t-vm1\n"), "%s", text);
	cr_assert(strstr(text, "link   vl-t-fabric.v n3 type veth peer eth0 netns vl-t-cg\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v n0 10.5.1.1/32\n"));
	cr_assert(strstr(text, "addr   vl-t-fabric.v n3 10.5.2.1/32\n"));
	cr_assert(strstr(text, "addr   vl-t-vm1 eth0 10.5.1.5/24\n"));
	cr_assert(strstr(text, "addr   vl-t-cg eth0 10.5.2.4/28\n"));
	cr_assert(strstr(text, "route  vl-t-fabric.v 10.5.1.5/32 dev n0\n"));
	cr_assert(strstr(text, "route  vl-t-vm1 default via 10.5.1.1 dev eth0\n"));
	cr_assert(strstr(text, "route  vl-t-cg default via 10.5.2.1 dev eth0\n"));
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv4/conf/default/proxy_arp=1\n"));
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv4/ip_forward=1\n"));
	cr_assert(strstr(text, "sysctl vl-t-vm1 net/ipv6/conf/default/disable_ipv6=1\n"));
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv4/neigh/n3/proxy_delay=0\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v lo 168.63.129.16/32\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v lo 169.254.169.254/32\n"), "%s", text);
	cr_assert(strstr(text, "sysctl vl-t-fabric.v net/ipv4/icmp_ratemask=0\n"), "%s", text);
	/* the edge: a /31 to the Internet namespace, the VNet's outbound address routed back over it */
	cr_assert(strstr(text, "link   vl-t-fabric.v edge type veth peer v0 netns vl-t-internet\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-fabric.v edge 169.254.0.0/31\n"), "%s", text);
	cr_assert(strstr(text, "addr   vl-t-internet v0 169.254.0.1/31\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-internet 198.51.100.4/32 via 169.254.0.0 dev v0\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-internet blackhole default\n"), "%s", text);
	/* the system routes in main: VNet-local is the NICs' /32s, else dropped without a word */
	cr_assert(strstr(text, "route  vl-t-fabric.v blackhole 10.5.0.0/16\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-fabric.v blackhole 198.51.100.4/32\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-fabric.v unreachable 10.0.0.0/8\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-fabric.v unreachable 100.64.0.0/10\n"), "%s", text);
	cr_assert(strstr(text, "route  vl-t-fabric.v default via 169.254.0.1 dev edge\n"), "%s", text);
	cr_assert(!strstr(text, "table"), "no route table, no kubenet: main only\n%s", text);
	cr_assert_eq(p->n_rules, 0);
	cr_assert_eq(p->n_addrs, 12, "4 NIC ends, 4 eth0, 2 on lo, 2 on the edge");
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
	cr_assert(strstr(text, "link   vl-k-c-node-0 p2 type veth peer eth0 netns vl-k-web-0 master cbr0\n"));
	cr_assert(strstr(text, "addr   vl-k-web-0 eth0 10.244.0.2/24\n"));
	cr_assert(strstr(text, "route  vl-k-web-0 default via 10.244.0.1 dev eth0\n"));
	/* the cluster route table: pod /24 via the node */
	/* the cluster's subnet is a scope of its own: marked, looked up in its table; main has no pod route */
	{
		int k = lab->eff->subnet_scope[vl_lab_find_subnet(lab, "aks")];
		char want[160];

		cr_assert_neq(k, 0, "not the VNet's system scope");
		snprintf(want, sizeof(want), "rule   vl-k-fabric.v pref %u fwmark %u lookup %u\n", 1000u + k,
			 vl_scope_mark(k), vl_scope_table(k));
		cr_assert(strstr(text, want), "%s\n%s", want, text);
		snprintf(want, sizeof(want), "route  vl-k-fabric.v 10.244.1.0/24 via 10.10.1.5 dev n1 table %u\n",
			 vl_scope_table(k));
		cr_assert(strstr(text, want), "%s\n%s", want, text);
		snprintf(want, sizeof(want), "route  vl-k-fabric.v throw 10.10.0.0/16 table %u\n", vl_scope_table(k));
		cr_assert(strstr(text, want), "%s\n%s", want, text);
		cr_assert(!strstr(text, "route  vl-k-fabric.v 10.244.1.0/24 via 10.10.1.5 dev n1\n"), "%s", text);
		cr_assert(strstr(text, "route  vl-k-fabric.v unreachable 10.0.0.0/8\n"), "%s", text);
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
