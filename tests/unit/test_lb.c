// SPDX-License-Identifier: MIT
/*
 * Pure tests of public IPs, outbound precedence and LoadBalancer Services (spec 8, 14, 15):
 * cloud-provider-azure's rule names for known inputs, priorities with gaps, shared rules,
 * source ranges, deletion, outbound precedence, the evaluator's LB and kube-proxy hops, and
 * located validation errors.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/plan.h"

Test(cpa, current_names_match_spec_examples)
{
	const char *inet[] = {"Internet"};
	uint16_t p80[] = {80}, p8080[] = {8080}, p80_443[] = {80, 443};
	char b[128];

	vl_cpa_allow_name(b, sizeof(b), VL_PROTO_TCP, inet, 1, p80, 1);
	cr_assert_str_eq(b, "k8s-azure-lb_allow_IPv4_d39272f7f57ed937951650d93992ad77");
	vl_cpa_allow_name(b, sizeof(b), VL_PROTO_TCP, inet, 1, p8080, 1);
	cr_assert_str_eq(b, "k8s-azure-lb_allow_IPv4_598ac966df67dd73c4c2eb44fab6896c");
	/* ports sorted as strings: "443" before "80" */
	vl_cpa_allow_name(b, sizeof(b), VL_PROTO_TCP, inet, 1, p80_443, 2);
	cr_assert_str_eq(b, "k8s-azure-lb_allow_IPv4_556f7044ec033071ec0dfcf7cd85bc93");
}

Test(cpa, legacy_name_of_the_article)
{
	char b[128];

	vl_cpa_legacy_name(b, sizeof(b), "094204ca-555d-11e9-b161-9a6af7601360", VL_PROTO_TCP, 8080,
			   "Internet");
	cr_assert_str_eq(b, "a094204ca555d11e9b1619a6af760136-TCP-8080-Internet");
	vl_cpa_legacy_name(b, sizeof(b), "094204ca-555d-11e9-b161-9a6af7601360", VL_PROTO_UDP, 53,
			   "10.0.0.0/8");
	cr_assert_str_eq(b, "a094204ca555d11e9b1619a6af760136-UDP-53-10.0.0.0_8");
}

#define HEAD                                                                                                 \
	"name: u\n"                                                                                          \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.5.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: aks, addressPrefix: 10.5.0.0/24}\n"                                                  \
	"      - {name: other, addressPrefix: 10.5.1.0/24}\n"                                                \
	"      - name: nat\n"                                                                                \
	"        addressPrefix: 10.5.2.0/24\n"                                                               \
	"        natGateway: {name: ngw, publicIpAddresses: [203.0.113.200]}\n"

static const struct vl_rule *rule(const struct vl_lab *lab, const char *nsg, const char *name)
{
	int n = vl_lab_find_nsg(lab, nsg);

	cr_assert_neq(n, VL_NONE, "no NSG %s", nsg);
	int r = vl_nsg_find_rule(&lab->nsgs[n], name);

	return r == VL_NONE ? NULL : &lab->nsgs[n].rules[r];
}

Test(cpa, priorities_fill_gaps_from_500_and_shared_rules_merge_destinations)
{
	struct vl_lab *lab = th_load(
	    HEAD
	    "networkSecurityGroups:\n"
	    "  - name: nodes\n"
	    "    securityRules:\n"
	    "      - {name: mine, priority: 500, direction: Inbound, access: Allow, protocol: Tcp,\n"
	    "         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"
	    "         destinationPortRange: '22'}\n"
	    "      - {name: mine2, priority: 502, direction: Inbound, access: Allow, protocol: Tcp,\n"
	    "         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"
	    "         destinationPortRange: '23'}\n"
	    "aksClusters:\n"
	    "  - name: k\n"
	    "    subnet: aks\n"
	    "    networkPlugin: azure\n"
	    "    nodeCount: 1\n"
	    "    nodeNetworkSecurityGroup: nodes\n"
	    "    pods: [{name: p, app: hello, ports: [80]}]\n"
	    "    services:\n"
	    "      - {name: a, type: LoadBalancer, selector: p, port: 80, loadBalancerIP: 198.51.100.50}\n"
	    "      - {name: b, type: LoadBalancer, selector: p, port: 80, loadBalancerIP: 198.51.100.51}\n"
	    "      - name: c\n"
	    "        type: LoadBalancer\n"
	    "        selector: p\n"
	    "        port: 443\n"
	    "        loadBalancerIP: 198.51.100.52\n"
	    "        loadBalancerSourceRanges: [192.0.2.0/24, 203.0.113.0/24]\n"
	    "        annotations: "
	    "{service.beta.kubernetes.io/azure-deny-all-except-load-balancer-source-ranges: 'true'}\n");
	const struct vl_rule *shared =
	    rule(lab, "nodes", "k8s-azure-lb_allow_IPv4_d39272f7f57ed937951650d93992ad77");
	const struct vl_rule *deny = rule(lab, "nodes", "k8s-azure-lb_deny-all_IPv4");
	char name[128];
	const char *ranges[] = {"192.0.2.0/24", "203.0.113.0/24"};
	uint16_t p443[] = {443};

	cr_assert_not_null(shared);
	cr_assert_eq(shared->priority, 501, "the lowest free priority from 500");
	cr_assert_null(shared->dst_prefix);
	cr_assert_eq(shared->dst_prefixes.n, 2, "services a and b share one rule");
	cr_assert_str_eq(shared->dst_prefixes.v[0], "198.51.100.50");
	cr_assert_str_eq(shared->dst_prefixes.v[1], "198.51.100.51");
	cr_assert_eq(shared->dst_ports.n, 1, "ports are always plural");
	vl_cpa_allow_name(name, sizeof(name), VL_PROTO_TCP, ranges, 2, p443, 1);
	cr_assert_not_null(rule(lab, "nodes", name));
	cr_assert_eq(rule(lab, "nodes", name)->priority, 503);
	cr_assert_eq(rule(lab, "nodes", name)->src_prefixes.n, 2);
	cr_assert_not_null(deny);
	cr_assert_eq(deny->priority, 4095, "deny-all: the highest free priority from 4095");
	cr_assert_str_eq(deny->dst_prefix, "198.51.100.52");
	vl_lab_free(lab);
}

Test(cpa, deleting_a_service_removes_its_rules_and_keeps_the_others)
{
	struct vl_lab *lab = th_load(HEAD "aksClusters:\n"
					  "  - name: k\n"
					  "    subnet: aks\n"
					  "    networkPlugin: azure\n"
					  "    nodeCount: 1\n"
					  "    kubernetesVersion: 1.28.3\n"
					  "    pods: [{name: p, app: hello, ports: [80]}]\n"
					  "    services:\n"
					  "      - {name: a, type: LoadBalancer, selector: p, port: 80, uid: "
					  "11111111-2222-3333-4444-555555555555}\n"
					  "      - {name: b, type: LoadBalancer, selector: p, port: 81, uid: "
					  "66666666-7777-8888-9999-000000000000}\n");
	const char *ra = "a1111111122223333444455555555555-TCP-80-Internet";
	const char *rb = "a6666666677778888999900000000000-TCP-81-Internet";
	struct vl_error err = {0};
	struct vl_aks *a = &lab->aks[0];

	cr_assert_not_null(rule(lab, "aks-agentpool-k-nsg", ra), "the node NSG is made for the rules");
	cr_assert_eq(rule(lab, "aks-agentpool-k-nsg", ra)->priority, 500);
	cr_assert_eq(rule(lab, "aks-agentpool-k-nsg", rb)->priority, 501);
	cr_assert_str_eq(rule(lab, "aks-agentpool-k-nsg", ra)->dst_port, "80", "legacy: singular fields");
	/* EnsureLoadBalancerDeleted for `a`: its rule goes, b keeps priority 501 */
	a->services[0].type = VL_SVC_CLUSTER_IP;
	cr_assert_eq(vl_cpa_reconcile(lab, 0, &err), 0, "%s", err.msg);
	cr_assert_null(rule(lab, "aks-agentpool-k-nsg", ra));
	cr_assert_eq(rule(lab, "aks-agentpool-k-nsg", rb)->priority, 501);
	/* back again: the gap at 500 is taken first */
	a->services[0].type = VL_SVC_LB;
	cr_assert_eq(vl_cpa_reconcile(lab, 0, &err), 0, "%s", err.msg);
	cr_assert_eq(rule(lab, "aks-agentpool-k-nsg", ra)->priority, 500);
	vl_lab_free(lab);
}

Test(outbound, precedence_nat_gateway_then_public_ip_then_lb_then_default)
{
	struct vl_lab *lab = th_load(
	    HEAD "aksClusters:\n"
		 "  - {name: k, subnet: aks, networkPlugin: azure, nodeCount: 1, outboundIp: 198.51.100.90}\n"
		 "vms:\n"
		 "  - {name: both, subnet: nat, publicIpAddress: true}\n"
		 "  - {name: pip, subnet: other, publicIpAddress: 192.0.2.77}\n"
		 "  - {name: plain, subnet: other}\n");
	const struct vl_effective *e = lab->eff;
	int both = vl_lab_find_endpoint(lab, "both"), pip = vl_lab_find_endpoint(lab, "pip");
	int plain = vl_lab_find_endpoint(lab, "plain"), node = vl_lab_find_endpoint(lab, "k-node-0");
	char a[VL_IP_STRLEN];

	cr_assert_eq(e->snat_kind[both], VL_SNAT_NATGW, "a NAT gateway wins over an instance public IP");
	cr_assert_str_eq(vl_ip_fmt(e->snat_ip[both], a), "203.0.113.200");
	cr_assert_eq(e->snat_kind[pip], VL_SNAT_ILPIP);
	cr_assert_str_eq(vl_ip_fmt(e->snat_ip[pip], a), "192.0.2.77");
	cr_assert_eq(e->snat_kind[node], VL_SNAT_LB);
	cr_assert_str_eq(vl_ip_fmt(e->snat_ip[node], a), "198.51.100.90");
	cr_assert_eq(e->snat_kind[plain], VL_SNAT_DEFAULT);
	cr_assert_str_eq(vl_ip_fmt(e->snat_ip[plain], a), "198.51.100.4");
	cr_assert_str_eq(vl_ip_fmt(lab->vms[0].public_ip, a), "198.51.100.127", "allocated from the top");
	vl_lab_free(lab);
}

Test(outbound, a_default_route_to_an_appliance_comes_first)
{
	struct vl_lab *lab =
	    th_load("name: u\n"
		    "routeTables:\n"
		    "  - name: rt\n"
		    "    routes: [{name: all, addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance,\n"
		    "              nextHopIpAddress: 10.6.1.4}]\n"
		    "vnets:\n"
		    "  - name: v\n"
		    "    addressSpace: [10.6.0.0/16]\n"
		    "    subnets:\n"
		    "      - {name: aks, addressPrefix: 10.6.0.0/24, routeTable: rt}\n"
		    "      - {name: hub, addressPrefix: 10.6.1.0/24}\n"
		    "aksClusters:\n"
		    "  - {name: k, subnet: aks, networkPlugin: azure, nodeCount: 1, outboundType: "
		    "userDefinedRouting}\n"
		    "vms:\n"
		    "  - {name: nva, subnet: hub, enableIpForwarding: true}\n");
	int node = vl_lab_find_endpoint(lab, "k-node-0");

	cr_assert_eq(lab->eff->snat_kind[node], VL_SNAT_ROUTE);
	vl_lab_free(lab);
}

Test(eval, internet_client_to_frontend_names_lb_nsg_and_kube_proxy_hops)
{
	struct vl_lab *lab =
	    th_load(HEAD "aksClusters:\n"
			 "  - name: k\n"
			 "    subnet: aks\n"
			 "    networkPlugin: azure\n"
			 "    nodeCount: 2\n"
			 "    pods: [{name: p, node: 1, app: hello, ports: [8080]}]\n"
			 "    services:\n"
			 "      - {name: s, type: LoadBalancer, selector: p, port: 80, targetPort: 8080,\n"
			 "         externalTrafficPolicy: Local, loadBalancerIP: 198.51.100.60}\n"
			 "internet: {hosts: [{name: c}]}\n");
	struct vl_verdict v;
	uint32_t fe;
	const struct vl_frontend *f;

	cr_assert_eq(vl_ip_parse("198.51.100.60", &fe), 0);
	f = vl_eff_frontend(lab->eff, fe);
	cr_assert_not_null(f);
	cr_assert_not(f->backends[0].healthy, "Local: node 0 has no pod");
	cr_assert(f->backends[1].healthy);
	cr_assert_eq(vl_eval_path(lab, vl_lab_find_endpoint(lab, "c"), fe, VL_PROTO_TCP, 0, 80, &v), 0);
	cr_assert_eq(v.outcome, VL_OUT_DELIVERED, "%s", v.why);
	cr_assert_eq(v.dst_ep, vl_lab_find_endpoint(lab, "p"));
	cr_assert_eq(v.seen_src, lab->eps[vl_lab_find_endpoint(lab, "c")].ip,
		     "Local keeps the client address");
	cr_assert_eq(v.hops[0].type, VL_HT_LB);
	cr_assert_eq(v.hops[0].endpoint, vl_lab_find_endpoint(lab, "k-node-1"));
	cr_assert_eq(v.hops[1].type, VL_HT_NSG);
	cr_assert_str_eq(v.hops[1].rule->name, "k8s-azure-lb_allow_IPv4_d39272f7f57ed937951650d93992ad77");
	cr_assert_eq(v.hops[1].flow.dst, fe, "floating IP: the node NSG sees the frontend");
	cr_assert_eq(v.hops[2].type, VL_HT_KPROXY);
	/* a port without a rule goes nowhere */
	vl_eval_path(lab, vl_lab_find_endpoint(lab, "c"), fe, VL_PROTO_TCP, 0, 81, &v);
	cr_assert_eq(v.outcome, VL_OUT_NO_HOST);
	vl_lab_free(lab);
}

Test(eval, frontends_and_public_ips_are_routed_to_their_vnet_edge)
{
	struct vl_lab *lab = th_load(HEAD "vms: [{name: w, subnet: other, publicIpAddress: 192.0.2.40}]\n");
	struct vl_plan *p = NULL;
	uint32_t ip;
	bool found = false;

	cr_assert_eq(vl_ip_parse("192.0.2.40", &ip), 0);
	cr_assert_eq(vl_public_vnet(lab, ip), 0);
	cr_assert_eq(vl_plan_build(lab, &p), 0);
	for (size_t i = 0; i < p->n_routes; i++)
		found |= p->routes[i].dst.addr == ip && p->routes[i].dst.len == 32 &&
			 p->ns[p->routes[i].ns].role == VL_NS_INTERNET && !strcmp(p->routes[i].dev, "v0");
	cr_assert(found, "the Internet routes the instance public IP to vnet v's edge");
	vl_plan_free(p);
	vl_lab_free(lab);
}

struct bad {
	const char *yaml;
	const char *err;
};

#define CL                                                                                                   \
	"aksClusters:\n  - name: k\n    subnet: aks\n    networkPlugin: azure\n    nodeCount: 1\n    pods: " \
	"[{name: p}]\n"

static const struct bad bads[] = {
    {HEAD "vms: [{name: w, subnet: other, publicIpAddress: 8.8.8.8}]\n",
     "11:49: publicIpAddress 8.8.8.8 is outside the documentation ranges"},
    {HEAD CL "    services: [{name: s, type: LoadBalancer, selector: nope, port: 80}]\n",
     "17:56: selector of service 's' matches no pod of cluster 'k'"},
    {HEAD CL "    services:\n"
	     "      - {name: s, type: LoadBalancer, selector: p, port: 80, loadBalancerIP: 198.51.100.20}\n"
	     "      - {name: t, type: LoadBalancer, selector: p, port: 80, loadBalancerIP: 198.51.100.20}\n",
     "19:78: service 't' and service 's' both use frontend 198.51.100.20 port 80/Tcp"},
    {HEAD CL
     "    services: [{name: s, type: LoadBalancer, selector: p, port: 80, loadBalancerIP: 203.0.113.200}]\n",
     "17:85: frontend of service 's' of cluster 'k': 203.0.113.200 is already the public IP of NAT gateway "
     "'ngw'"},
    {HEAD CL "    services: [{name: s, selector: p, port: 80, externalTrafficPolicy: Local}]\n",
     "17:72: externalTrafficPolicy needs type NodePort or LoadBalancer"},
};

Test(validate, located_errors)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const char *e = th_load_error(bads[i].yaml);

		cr_expect(strstr(e, bads[i].err) != NULL, "row %zu: got %s", i, e);
	}
}
