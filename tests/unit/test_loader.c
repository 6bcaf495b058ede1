// SPDX-License-Identifier: MIT
/*
 * The topology loader: good files load with every field mapped; bad input is
 * refused with the exact line:col and a clear message, and nothing leaks.
 * Run from the repository root (paths are relative to it).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/ip.h"
#include "vnetlab/loader.h"

#define DATA "tests/data/"

static struct vl_lab *load_ok(const char *path)
{
	struct vl_lab *lab = NULL;
	struct vl_error err = {0};
	int r = vl_load_file(path, &lab, &err);

	cr_assert_eq(r, 0, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	cr_assert_not_null(lab);
	return lab;
}

static const struct vl_nsg *nsg(const struct vl_lab *lab, const char *name)
{
	int i = vl_lab_find_nsg(lab, name);

	cr_assert_neq(i, VL_NONE, "no NSG %s", name);
	return &lab->nsgs[i];
}

static const struct vl_rule *rule(const struct vl_nsg *g, const char *name)
{
	int i = vl_nsg_find_rule(g, name);

	cr_assert_neq(i, VL_NONE, "no rule %s in %s", name, g->name);
	return &g->rules[i];
}

static uint32_t IP(const char *s)
{
	uint32_t ip;

	cr_assert_eq(vl_ip_parse(s, &ip), 0);
	return ip;
}

TestSuite(loader);

Test(loader, good_files_load)
{
	static const char *const files[] = {"basic.yaml", "nsg.yaml",	  "full.yaml",	  "kubenet.yaml",
					    "flow.json",  "minimal.yaml", "routing.yaml"};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[256];

		snprintf(path, sizeof(path), DATA "good/%s", files[i]);
		vl_lab_free(load_ok(path));
	}
}

Test(loader, full_maps_every_field)
{
	struct vl_lab *lab = load_ok(DATA "good/full.yaml");
	const struct vl_nsg *g;
	const struct vl_rule *r;

	cr_expect_str_eq(lab->name, "full");
	cr_expect_str_eq(lab->file, DATA "good/full.yaml");
	cr_assert_eq(lab->n_nsgs, 4);

	g = nsg(lab, "vm-nsg");
	cr_assert_eq(g->n_rules, 2); /* defaultSecurityRules are checked, not copied */
	r = rule(g, "allow-ssh");
	cr_expect_eq(r->priority, 100);
	cr_expect_eq(r->dir, VL_DIR_IN);
	cr_expect_eq(r->access, VL_ALLOW);
	cr_expect_eq(r->proto, VL_PROTO_TCP);
	cr_expect_str_eq(r->src_prefix, "VirtualNetwork");
	cr_expect_str_eq(r->dst_port, "22");
	cr_expect_str_eq(r->description, "ssh from the VNet");
	cr_expect_eq(r->loc.line, 6);
	cr_expect_eq(r->loc.col, 9);
	/* the rule pasted from az rule list */
	r = rule(g, "deny-alt");
	cr_expect_eq(r->priority, 200);
	cr_expect_eq(r->access, VL_DENY);
	cr_expect_eq(r->proto, VL_PROTO_TCP);
	cr_expect_null(r->src_prefix);
	cr_expect_null(r->description);
	cr_assert_eq(r->src_prefixes.n, 2);
	cr_expect_str_eq(r->src_prefixes.v[1], "10.20.1.0/24");
	cr_assert_eq(r->dst_ports.n, 2);
	cr_expect_str_eq(r->dst_ports.v[1], "9000-9100");
	cr_expect_eq(r->dst_prefixes.n, 0);
	cr_assert_eq(r->n_dport, 2); /* validated: match sets filled */
	cr_expect_eq(r->dport[1].lo, 9000);
	cr_expect_eq(r->dport[1].hi, 9100);

	g = nsg(lab, "aci-nsg"); /* REST `properties` shape, priority as a string */
	cr_assert_eq(g->n_rules, 1);
	cr_expect_eq(g->rules[0].priority, 110);
	cr_expect_eq(g->rules[0].proto, VL_PROTO_TCP);

	g = nsg(lab, "imported");
	cr_assert_eq(g->n_rules, 1);
	cr_expect_str_eq(g->rules[0].name, "rule1");
	cr_expect_eq(g->rules[0].priority, 130);
	cr_expect_str_eq(g->rules[0].dst_port, "80");
	cr_expect_eq(nsg(lab, "node-nsg")->n_rules, 0);

	cr_assert_eq(lab->n_route_tables, 1);
	cr_assert_eq(lab->route_tables[0].n_routes, 2);
	cr_expect_eq(lab->route_tables[0].routes[0].type, VL_HOP_APPLIANCE);
	cr_expect_eq(lab->route_tables[0].routes[0].next_hop, IP("10.10.1.10"));
	cr_expect_eq(lab->route_tables[0].routes[0].prefix.len, 0);
	cr_expect_eq(lab->route_tables[0].routes[1].type, VL_HOP_NONE);
	cr_expect_eq(lab->route_tables[0].routes[1].next_hop, 0);

	cr_assert_eq(lab->n_vnets, 2);
	cr_expect_eq(lab->vnets[0].n_spaces, 2);
	cr_expect_eq(lab->vnets[1].n_spaces, 1); /* addressSpace as one string */
	cr_assert_eq(lab->n_subnets, 4);
	int s = vl_lab_find_subnet(lab, "vms");
	cr_expect_eq(lab->subnets[s].nsg, vl_lab_find_nsg(lab, "vm-nsg"));
	cr_expect_eq(lab->subnets[s].route_table, 0);
	cr_expect_eq(lab->subnets[s].vnet, 0);
	s = vl_lab_find_subnet(lab, "aci");
	cr_expect_str_eq(lab->subnets[s].delegation, "Microsoft.ContainerInstance/containerGroups");
	cr_expect_eq(lab->subnets[vl_lab_find_subnet(lab, "cni")].vnet, 1);
	cr_expect_eq(lab->subnets[vl_lab_find_subnet(lab, "aks")].nsg, VL_NONE);

	cr_assert_eq(lab->n_vms, 2);
	cr_expect_eq(lab->vms[0].static_ip, IP("10.10.1.10"));
	cr_expect_eq(lab->vms[0].nsg, vl_lab_find_nsg(lab, "imported"));
	cr_expect_eq(lab->vms[0].app, VL_APP_HELLO);
	cr_expect_str_eq(lab->vms[1].name, "Web01");
	cr_expect_eq(lab->vms[1].static_ip, 0);
	cr_expect_eq(lab->vms[1].nsg, VL_NONE);
	cr_assert_eq(lab->vms[1].n_ports, 2);
	cr_expect_eq(lab->vms[1].ports[1], 9000);
	cr_assert_eq(lab->n_cgs, 1);
	cr_expect_eq(lab->cgs[0].app, VL_APP_HELLO);

	cr_assert_eq(lab->n_aks, 2);
	const struct vl_aks *a = &lab->aks[0];
	cr_expect_eq(a->plugin, VL_PLUGIN_KUBENET);
	cr_expect_eq(a->node_count, 2);
	cr_expect_eq(a->max_pods, 30);
	cr_expect_eq(a->node_nsg, vl_lab_find_nsg(lab, "node-nsg"));
	cr_assert_eq(a->n_non_masq, 1);
	cr_assert_eq(a->n_pods, 2);
	cr_expect_eq(a->pods[0].replicas, 0); /* omitted: one endpoint named like the pod */
	cr_expect_eq(a->pods[0].node, 1);
	cr_expect_eq(a->pods[1].replicas, 3);
	cr_expect_eq(a->pods[1].node, VL_NONE);
	a = &lab->aks[1];
	cr_expect_eq(a->plugin, VL_PLUGIN_AZURE);
	cr_expect_eq(a->max_pods, 30);
	cr_expect_eq(a->node_count, 1);
	cr_expect_null(a->non_masq);

	/* endpoints from vl_lab_resolve */
	static const char *const eps[] = {"jump",  "Web01", "cg",    "k1-node-0", "k1-node-1", "client",
					  "web-0", "web-1", "web-2", "k2-node-0", "api"};
	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++)
		cr_expect_neq(vl_lab_find_endpoint(lab, eps[i]), VL_NONE, "no endpoint %s", eps[i]);
	cr_expect_eq(lab->n_eps, 11);

	cr_assert_eq(lab->n_checks, 4);
	cr_expect_str_eq(lab->checks[0].name, "pod-to-aci");
	cr_expect_str_eq(lab->checks[0].expect_source, "node");
	cr_expect_eq(lab->checks[0].proto, VL_PROTO_TCP);
	cr_expect_eq(lab->checks[1].proto, VL_PROTO_TCP);
	cr_expect_eq(lab->checks[1].expect, VL_EXPECT_DENY);
	cr_expect_str_eq(lab->checks[1].expect_rule, "vm-nsg/deny-alt");
	cr_expect_eq(lab->checks[2].proto, VL_PROTO_ICMP);
	cr_expect_eq(lab->checks[2].port, 0);
	cr_expect_null(lab->checks[3].name); /* inline scenario check */
	cr_expect_str_eq(lab->checks[3].expect_rule, "aci-nsg/deny-aks-nodes");

	cr_assert_eq(lab->n_steps, 7);
	cr_expect_eq(lab->steps[0].kind, VL_STEP_SAY);
	cr_expect_str_eq(lab->steps[0].text, "The pod reaches the container group with its node's address.");
	cr_expect_eq(lab->steps[1].kind, VL_STEP_CHECK);
	cr_expect_eq(lab->steps[1].check, 0);
	const struct vl_rule_edit *e = &lab->steps[2].edit;
	cr_expect_eq(lab->steps[2].kind, VL_STEP_EDIT);
	cr_expect_eq(e->kind, VL_EDIT_SET);
	cr_expect_str_eq(e->nsg, "vm-nsg");
	cr_expect_str_eq(e->rule, "deny-alt");
	cr_assert_eq(e->keys.n, 2);
	cr_expect_str_eq(e->keys.v[0], "priority");
	cr_expect_str_eq(e->values.v[0], "150");
	cr_expect_str_eq(e->keys.v[1], "destinationPortRanges");
	cr_expect_str_eq(e->values.v[1], "8080 9000");
	cr_expect_eq(lab->steps[3].edit.kind, VL_EDIT_ADD);
	cr_expect_eq(lab->steps[3].edit.keys.n, 8);
	cr_expect_eq(lab->steps[4].kind, VL_STEP_WAIT);
	cr_expect_eq(lab->steps[4].wait_ms, 100);
	cr_expect_eq(lab->steps[5].kind, VL_STEP_CHECK);
	cr_expect_eq(lab->steps[5].check, 3);
	cr_expect_eq(lab->steps[6].edit.kind, VL_EDIT_DELETE);
	cr_expect_eq(lab->steps[6].edit.keys.n, 0);
	vl_lab_free(lab);
}

static uint32_t ep_ip(const struct vl_lab *lab, const char *name)
{
	int i = vl_lab_find_endpoint(lab, name);

	cr_assert_neq(i, VL_NONE, "no endpoint %s", name);
	return lab->eps[i].ip;
}

/* Peerings, gateways, on-premises and Internet hosts, overlapping unpeered VNets. */
Test(loader, routing_maps_every_field)
{
	struct vl_lab *lab = load_ok(DATA "good/routing.yaml");
	int hub = vl_lab_find_vnet(lab, "hub"), spoke = vl_lab_find_vnet(lab, "spoke");
	int iso = vl_lab_find_vnet(lab, "isolated");
	const struct vl_peering *p;
	char buf[VL_PREFIX_STRLEN];

	cr_assert(hub == 0 && spoke == 1 && iso == 2);
	cr_expect_eq(vl_lab_find_vnet(lab, "nope"), VL_NONE);

	/* peerings: the id form, flags and defaults */
	cr_assert_eq(lab->vnets[hub].n_peerings, 1);
	p = &lab->vnets[hub].peerings[0];
	cr_expect_str_eq(p->name, "hub-to-spoke");
	cr_expect_eq(p->remote, spoke); /* a forward reference, by id */
	cr_expect(p->allow_vnet_access);  /* default */
	cr_expect(p->allow_forwarded);
	cr_expect(p->allow_gateway_transit);
	cr_expect_not(p->use_remote_gateways);
	cr_expect_eq(p->loc.line, 14);
	cr_assert_eq(lab->vnets[spoke].n_peerings, 1);
	p = &lab->vnets[spoke].peerings[0];
	cr_expect_eq(p->remote, hub);
	cr_expect_not(p->allow_vnet_access);
	cr_expect_not(p->allow_forwarded);	 /* default */
	cr_expect_not(p->allow_gateway_transit); /* default */
	cr_expect(p->use_remote_gateways);
	cr_expect_eq(lab->vnets[iso].n_peerings, 0);

	/* subnets: names are per VNet; VNET/SUBNET picks one, a bare name in two VNets none */
	int ws = vl_lab_find_subnet(lab, "spoke/workload"), wi = vl_lab_find_subnet(lab, "isolated/workload");
	int found[2];
	cr_assert_neq(ws, VL_NONE);
	cr_assert_neq(wi, VL_NONE);
	cr_expect_neq(ws, wi);
	cr_expect_eq(lab->subnets[ws].vnet, spoke);
	cr_expect_eq(lab->subnets[wi].vnet, iso);
	cr_expect_eq(vl_lab_find_subnet(lab, "workload"), VL_NONE);
	cr_expect_eq(vl_lab_match_subnet(lab, "workload", found), 2);
	cr_expect(found[0] == ws && found[1] == wi);
	cr_expect_eq(vl_lab_match_subnet(lab, "hub/workload", found), 0);
	cr_expect_eq(vl_lab_match_subnet(lab, "nope/nva", found), 0);
	cr_expect_eq(vl_lab_find_subnet(lab, "nva"), vl_lab_find_subnet(lab, "hub/nva"));

	/* route table */
	const struct vl_route_table *rt = &lab->route_tables[0];
	cr_expect(rt->disable_bgp);
	cr_assert_eq(rt->n_routes, 2);
	cr_expect_eq(rt->routes[0].type, VL_HOP_GATEWAY);
	cr_expect_eq(rt->routes[0].next_hop, 0);
	cr_expect_eq(rt->routes[1].type, VL_HOP_APPLIANCE);
	cr_expect_eq(lab->subnets[ws].route_table, 0);

	/* gateways */
	cr_assert_eq(lab->n_gateways, 2);
	cr_expect_str_eq(lab->gateways[0].name, "hub-vpn");
	cr_expect_eq(lab->gateways[0].vnet, hub);
	cr_expect_eq(lab->gateways[0].subnet, vl_lab_find_subnet(lab, "hub/GatewaySubnet"));
	cr_expect_eq(lab->gateways[0].type, VL_GW_VPN);
	cr_expect_eq(lab->gateways[0].ip, IP("10.0.255.4"));
	cr_expect_eq(lab->gateways[1].type, VL_GW_EXPRESSROUTE);
	cr_expect_eq(lab->gateways[1].ip, IP("10.0.255.5"), "two gateways in one GatewaySubnet take .4 and .5");

	/* local network gateways: both spellings of the prefixes; hosts given and assigned */
	cr_assert_eq(lab->n_local_gateways, 2);
	const struct vl_local_gateway *lg = &lab->local_gateways[0];
	cr_expect_str_eq(lg->name, "branch");
	cr_assert_eq(lg->n_prefixes, 2);
	cr_expect_str_eq(vl_prefix_fmt(lg->prefixes[1], buf), "192.168.20.0/24");
	cr_assert_eq(lg->n_hosts, 3);
	cr_expect_eq(lg->hosts[0].address, IP("192.168.20.10"));
	cr_expect_eq(lg->hosts[0].app, VL_APP_HELLO);
	cr_expect_eq(lg->hosts[1].address, 0); /* the spec keeps "assigned" */
	lg = &lab->local_gateways[1];
	cr_assert_eq(lg->n_prefixes, 1);
	cr_expect_str_eq(vl_prefix_fmt(lg->prefixes[0], buf), "172.16.0.0/24");
	cr_expect_eq(ep_ip(lab, "branch-srv"), IP("192.168.20.10"));
	cr_expect_eq(ep_ip(lab, "branch-pc"), IP("192.168.10.4")); /* first prefix, .4 upward */
	cr_expect_eq(ep_ip(lab, "branch-pc2"), IP("192.168.10.5"));
	cr_expect_eq(ep_ip(lab, "dc-a"), IP("172.16.0.4"));
	cr_expect_eq(ep_ip(lab, "dc-b"), IP("172.16.0.5")); /* skips the given .4 */

	/* connections */
	cr_assert_eq(lab->n_connections, 2);
	cr_expect_eq(lab->connections[0].gateway, 0);
	cr_expect_eq(lab->connections[0].local_gateway, 0);
	cr_expect_eq(lab->connections[0].type, VL_CONN_IPSEC);
	cr_expect_eq(lab->connections[1].gateway, 1);
	cr_expect_eq(lab->connections[1].local_gateway, 1);
	cr_expect_eq(lab->connections[1].type, VL_CONN_EXPRESSROUTE);

	/* Internet hosts: 203.0.113.4 upward, skipping given addresses */
	cr_assert_eq(lab->n_internet_hosts, 4);
	cr_expect_eq(ep_ip(lab, "web"), IP("203.0.113.4"));
	cr_expect_eq(ep_ip(lab, "client"), IP("203.0.113.5"));
	cr_expect_eq(ep_ip(lab, "docs"), IP("192.0.2.10"));
	cr_expect_eq(ep_ip(lab, "client2"), IP("203.0.113.6"));

	/* VMs: forwarding in both spellings; the overlapping VNets reuse one address */
	cr_assert_eq(lab->n_vms, 5);
	cr_expect(lab->vms[0].ip_forwarding);
	cr_expect_not(lab->vms[1].ip_forwarding);
	cr_expect_not(lab->vms[4].ip_forwarding);
	cr_expect_eq(ep_ip(lab, "nva1"), IP("10.0.1.4"));
	cr_expect_eq(ep_ip(lab, "nva2"), IP("10.0.1.5"));
	cr_expect_eq(ep_ip(lab, "plain"), IP("10.0.1.6"));
	cr_expect_eq(ep_ip(lab, "app1"), IP("10.1.1.4"));
	cr_expect_eq(ep_ip(lab, "iso1"), IP("10.1.1.4"));

	/* endpoints: VMs, then Internet hosts, then on-premises hosts, in file order */
	static const char *const order[] = {"nva1", "nva2",	  "app1",	"iso1", "plain",
					    "web",  "client",	  "docs",	"client2", "branch-srv",
					    "branch-pc", "branch-pc2", "dc-a", "dc-b"};
	cr_assert_eq(lab->n_eps, sizeof(order) / sizeof(order[0]));
	for (size_t i = 0; i < lab->n_eps; i++)
		cr_expect_str_eq(lab->eps[i].name, order[i]);
	const struct vl_endpoint *e = &lab->eps[vl_lab_find_endpoint(lab, "client2")];
	cr_expect_eq(e->kind, VL_EP_INTERNET);
	cr_expect_eq(e->subnet, VL_NONE);
	cr_expect_eq(e->owner, 3);
	cr_expect_eq(e->nic, vl_lab_find_endpoint(lab, "client2"));
	cr_expect_eq(e->nic_nsg, VL_NONE);
	cr_expect_str_eq(vl_ep_kind_name(e->kind), "internet");
	e = &lab->eps[vl_lab_find_endpoint(lab, "dc-b")];
	cr_expect_eq(e->kind, VL_EP_ONPREM);
	cr_expect_eq(e->subnet, VL_NONE);
	cr_expect_eq(e->owner, 1);
	cr_expect_eq(e->nic_nsg, VL_NONE);
	cr_expect_str_eq(vl_ep_kind_name(e->kind), "onprem");
	e = &lab->eps[vl_lab_find_endpoint(lab, "branch-srv")];
	cr_expect_eq(e->app, VL_APP_HELLO);
	cr_expect_eq(e->n_ports, 1);
	vl_lab_free(lab);
}

Test(loader, kubenet_defaults)
{
	struct vl_lab *lab = load_ok(DATA "good/kubenet.yaml");
	const struct vl_aks *a = &lab->aks[0];
	char buf[VL_PREFIX_STRLEN];

	cr_expect_str_eq(vl_prefix_fmt(a->pod_cidr, buf), "10.244.0.0/16");
	cr_expect_str_eq(vl_prefix_fmt(a->service_cidr, buf), "10.0.0.0/16");
	cr_expect_eq(a->max_pods, 110);
	cr_expect_eq(a->plugin, VL_PLUGIN_KUBENET);
	cr_expect_null(a->non_masq);
	cr_expect_eq(lab->checks[0].proto, VL_PROTO_TCP);
	vl_lab_free(lab);
}

Test(loader, json_topology_and_static_ip)
{
	struct vl_lab *lab = load_ok(DATA "good/flow.json");
	int b = vl_lab_find_endpoint(lab, "b");

	cr_assert_neq(b, VL_NONE);
	cr_expect_eq(lab->eps[b].ip, IP("10.0.1.100"));
	vl_lab_free(lab);
}

/* Several objects on one line (flow style) still get addresses in the order written. */
Test(loader, flow_style_addresses_follow_the_text)
{
	static const char t[] = "name: flow\n"
				"vnets: [{name: v, addressSpace: [10.9.0.0/16], subnets: [{name: s, addressPrefix: "
				"10.9.1.0/24}]}]\n"
				"vms: [{name: c, subnet: s}, {name: a, subnet: s}, {name: b, subnet: s}]\n";
	static const char *const order[] = {"c", "a", "b"};
	struct vl_lab *lab = NULL;
	struct vl_error err = {0};

	cr_assert_eq(vl_load_buffer("flow.yaml", t, strlen(t), &lab, &err), 0, "%s", err.msg);
	for (int i = 0; i < 3; i++) {
		int ep = vl_lab_find_endpoint(lab, order[i]);

		cr_assert_neq(ep, VL_NONE);
		cr_expect_eq(lab->eps[ep].ip, IP("10.9.1.4") + (uint32_t)i, "%s", order[i]);
	}
	vl_lab_free(lab);
}

/* Many NICs in one subnet, statics in the way of the dynamic ones: every address once, .4 upward. */
Test(loader, many_endpoints_get_distinct_addresses)
{
	enum { N = 4000 };
	size_t cap = 256 + (size_t)N * 64, len;
	char *t = malloc(cap);
	struct vl_lab *lab = NULL;
	struct vl_error err = {0};
	uint8_t *seen = calloc(1u << 14, 1);

	cr_assert(t && seen);
	len = (size_t)snprintf(t, cap,
			       "name: big\nvnets: [{name: v, addressSpace: [10.8.0.0/16], subnets: [{name: s, "
			       "addressPrefix: 10.8.0.0/18}]}, {name: w, addressSpace: [10.8.0.0/16], subnets: "
			       "[{name: s, addressPrefix: 10.8.0.0/18}]}]\nvms:\n");
	for (int i = 0; i < N; i++)
		len += (size_t)snprintf(t + len, cap - len,
					i % 10 == 9 ? "  - {name: vm%d, subnet: v/s, privateIpAddress: 10.8.%d.%d}\n"
						    : "  - {name: vm%d, subnet: v/s}\n",
					i, (4 + i * 2) / 256, (4 + i * 2) % 256);
	len += (size_t)snprintf(t + len, cap - len, "  - {name: other, subnet: w/s}\n");
	cr_assert_eq(vl_load_buffer("big.yaml", t, len, &lab, &err), 0, "%d:%d: %s", err.line, err.col,
		     err.msg);
	for (int i = 0; i < N; i++) {
		uint32_t ip = lab->eps[i].ip - IP("10.8.0.0");

		cr_assert(ip >= 4 && ip < (1u << 14) - 1, "vm%d: %u", i, ip);
		cr_assert_not(seen[ip], "vm%d: address %u twice", i, ip);
		seen[ip] = 1;
	}
	cr_expect_eq(lab->eps[0].ip, IP("10.8.0.4"));
	cr_expect_eq(lab->eps[N].ip, IP("10.8.0.4")); /* another VNet: the same address again */
	vl_lab_free(lab);
	free(seen);
	free(t);
}

/* Rule names are unique case-insensitively, so lookups ignore case too. */
Test(loader, rule_lookup_ignores_case)
{
	struct vl_lab *lab = load_ok(DATA "good/full.yaml");
	const struct vl_nsg *g = nsg(lab, "vm-nsg");

	cr_expect_eq(vl_nsg_find_rule(g, "ALLOW-SSH"), vl_nsg_find_rule(g, "allow-ssh"));
	cr_expect_neq(vl_nsg_find_rule(g, "ALLOW-SSH"), VL_NONE);
	vl_lab_free(lab);
}

Test(loader, missing_file)
{
	struct vl_lab *lab = (struct vl_lab *)1;
	struct vl_error err = {0};

	cr_expect_eq(vl_load_file(DATA "good/does-not-exist.yaml", &lab, &err), -ENOENT);
	cr_expect_null(lab);
	cr_expect(strstr(err.msg, "No such file"), "%s", err.msg);
	cr_expect_eq(vl_load_file(DATA "good", &lab, &err), -EISDIR);
}

/* ---- bad input: exact place and message ---- */

struct bad {
	const char *id;
	const char *text; /* inline topology, or NULL to load `file` */
	size_t len;	  /* 0: strlen(text) */
	const char *file;
	int line, col;
	const char *msg;
};

/* 10 lines: a VNet with a plain subnet `s` and a delegated subnet `aci`. */
#define HDR                                                                                                  \
	"name: t\n"                                                                                          \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - name: s\n"                                                                                  \
	"        addressPrefix: 10.1.1.0/24\n"                                                               \
	"      - name: aci\n"                                                                                \
	"        addressPrefix: 10.1.2.0/24\n"                                                               \
	"        delegation: Microsoft.ContainerInstance/containerGroups\n"
/* 11 lines: NSG n with one rule r (priority 100), after HDR (lines 11-21). */
#define NSG                                                                                                  \
	"networkSecurityGroups:\n"                                                                           \
	"  - name: n\n"                                                                                      \
	"    securityRules:\n"                                                                               \
	"      - name: r\n"                                                                                  \
	"        priority: 100\n"                                                                            \
	"        direction: Inbound\n"                                                                       \
	"        access: Deny\n"                                                                             \
	"        protocol: Tcp\n"                                                                            \
	"        sourceAddressPrefix: '*'\n"                                                                 \
	"        sourcePortRange: '*'\n"                                                                     \
	"        destinationAddressPrefix: '*'\n"
#define RULE_END "        destinationPortRange: '80'\n" /* line 22 */
/* 2 lines: a third subnet s2 in v, right after HDR (lines 11-12). */
#define S2 "      - name: s2\n        addressPrefix: 10.1.3.0/24\n"
/* a VM and a check around it */
#define VM "vms:\n  - name: a\n    subnet: s\n  - name: b\n    subnet: s\n"
#define AKS(extra)                                                                                           \
	"aksClusters:\n  - name: k\n    subnet: s\n    serviceCidr: 10.2.0.0/16\n    podCidr: "              \
	"10.244.0.0/16\n" extra

/* 14 lines: VNet hub (GatewaySubnet, s) and VNet spoke (s); the subnet name s is in both. */
#define HUB                                                                                                  \
	"name: t\n"                                                                                          \
	"vnets:\n"                                                                                           \
	"  - name: hub\n"                                                                                    \
	"    addressSpace: [10.0.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - name: GatewaySubnet\n"                                                                      \
	"        addressPrefix: 10.0.255.0/27\n"                                                             \
	"      - name: s\n"                                                                                  \
	"        addressPrefix: 10.0.1.0/24\n"                                                               \
	"  - name: spoke\n"                                                                                  \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - name: s\n"                                                                                  \
	"        addressPrefix: 10.1.1.0/24\n"
/* spoke's peerings (line 15) and its peering to hub (lines 16-17) */
#define PEERS "    virtualNetworkPeerings:\n"
#define TO_HUB "      - name: to-hub\n        remoteVirtualNetwork: hub\n"
/* 2 lines: a Vpn gateway gw in hub */
#define GW "virtualNetworkGateways:\n  - {name: gw, vnet: hub}\n"
/* 3 lines: local network gateway branch with 192.168.1.0/24 */
#define LNG "localNetworkGateways:\n  - name: branch\n    addressPrefixes: [192.168.1.0/24]\n"

static const struct bad bad_cases[] = {
    /* YAML itself */
    {"syntax-unclosed-flow", "name: t\nvnets: [\n  {name: v\n", 0, NULL, 4, 1, "YAML syntax error"},
    {"syntax-indent", "name: t\n  vnets: x\n", 0, NULL, 2, 8, "mapping values are not allowed"},
    {"syntax-quote", "name: \"t\nvnets: []\n", 0, NULL, 3, 1, "found unexpected end of stream"},
    {"syntax-json", "{\"name\": \"t\" \"vnets\": []}", 0, NULL, 1, 14, "did not find expected ',' or '}'"},
    {"truncated", NULL, 0, DATA "bad/truncated.yaml", 8, 1, "YAML syntax error"},
    {"binary-control", "name: t\nvnets: \x01\x02\x03\n", 0, NULL, 2, 8, "not a text file"},
    {"binary-nul", "name: t\n\0\0\0\0", 12, NULL, 2, 1, "NUL byte"},
    {"binary-utf8", "name: t\x80\xff\n", 0, NULL, 1, 8, "not a text file"},
    {"binary-file", NULL, 0, DATA "bad/binary.yaml", 1, 8, "not a text file"},
    {"empty", "", 0, NULL, 1, 1, "empty topology file"},
    {"comments-only", "# nothing\n", 0, NULL, 1, 1, "empty topology file"},
    {"top-list", "- name: t\n", 0, NULL, 1, 1, "expected a mapping for the topology, got a list"},
    {"two-documents", "name: a\n---\nname: b\n", 0, NULL, 2, 1, "one YAML document"},
    {"duplicate-key", "name: a\nvnets: []\nname: b\n", 0, NULL, 3, 1,
     "duplicate key 'name' (first at line 1)"},
    {"alias", "name: &x t\nvnets: *x\n", 0, NULL, 2, 8, "aliases"},
    {"deep-nesting",
     "name: t\nvnets: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]"
     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
     0, NULL, 2, 72, "nesting deeper than 64"},
    {"non-scalar-key", "name: t\n[a]: 1\n", 0, NULL, 2, 1, "mapping keys must be strings"},
    /* top level */
    {"unknown-top-key", "name: t\nvnet: []\n", 0, NULL, 2, 1,
     "unknown key 'vnet' in topology; expected one of: name, vnets, networkSecurityGroups"},
    {"missing-name", "vnets: []\n", 0, NULL, 1, 1, "missing 'name' in topology"},
    {"lab-name-chars", "name: Lab_1\n", 0, NULL, 1, 7, "invalid lab name 'Lab_1'"},
    {"lab-name-hyphen", "name: my-lab\n", 0, NULL, 1, 7, "no '-'"},
    {"lab-name-long", "name: abcdefghijklm\n", 0, NULL, 1, 7, "1-12 characters"},
    {"name-not-string", "name: [t]\n", 0, NULL, 1, 7, "expected a string for name, got a list"},
    {"vnets-not-list", "name: t\nvnets: {name: v}\n", 0, NULL, 2, 8,
     "expected a list for vnets, got a mapping"},
    /* vnets and subnets */
    {"cidr-host-bits", "name: t\nvnets:\n  - name: v\n    addressSpace: [10.0.0.1/16]\n", 0, NULL, 4, 20,
     "10.0.0.1/16 is not a network address; did you mean 10.0.0.0/16?"},
    {"cidr-garbage", "name: t\nvnets:\n  - name: v\n    addressSpace: 10.0.0/16\n", 0, NULL, 4, 19,
     "invalid addressSpace '10.0.0/16'"},
    {"cidr-no-len", "name: t\nvnets:\n  - name: v\n    addressSpace: [10.0.0.0]\n", 0, NULL, 4, 20,
     "expected an IPv4 CIDR"},
    {"vnet-no-space", "name: t\nvnets:\n  - name: v\n", 0, NULL, 3, 5, "missing 'addressSpace' in vnet"},
    {"vnet-unknown-key", "name: t\nvnets:\n  - name: v\n    addressSpaces: [10.0.0.0/16]\n", 0, NULL, 4, 5,
     "unknown key 'addressSpaces' in vnet; expected one of: name, addressSpace, subnets"},
    /* VNets that nothing joins may overlap (each is its own routing domain); peered ones may not */
    {"vnets-overlap-unpeered", HDR "  - name: w\n    addressSpace: [10.1.128.0/17]\n", 0, NULL, 0, 0, NULL},
    {"vnets-overlap-peered",
     HDR "  - name: w\n    addressSpace: [10.1.128.0/17]\n    virtualNetworkPeerings:\n"
	 "      - {name: p, remoteVirtualNetwork: v}\n",
     0, NULL, 14, 41,
     "address space 10.1.128.0/17 of vnet 'w' overlaps 10.1.0.0/16 of vnet 'v'; peered VNets need address "
     "spaces that do not overlap"},
    {"vnets-overlap-peered-forward",
     "name: t\nvnets:\n  - {name: a, addressSpace: [10.0.0.0/16], virtualNetworkPeerings: [{name: p, "
     "remoteVirtualNetwork: b}]}\n  - {name: b, addressSpace: [10.0.128.0/17]}\n",
     0, NULL, 3, 101, "address space 10.0.0.0/16 of vnet 'a' overlaps 10.0.128.0/17 of vnet 'b'"},
    {"vnet-space-overlaps-itself", "name: t\nvnets:\n  - {name: a, addressSpace: [10.0.0.0/16, 10.0.1.0/24]}\n",
     0, NULL, 3, 43, "address space 10.0.1.0/24 of vnet 'a' overlaps its 10.0.0.0/16"},
    {"vnet-dup-name", HDR "  - name: v\n    addressSpace: [10.3.0.0/16]\n", 0, NULL, 11, 11,
     "duplicate vnet name 'v'"},
    {"subnet-outside", HDR "      - name: x\n        addressPrefix: 10.9.0.0/24\n", 0, NULL, 12, 24,
     "subnet 'x' (10.9.0.0/24) is not inside the address space of vnet 'v'"},
    {"subnet-overlap", HDR "      - name: x\n        addressPrefix: 10.1.1.128/25\n", 0, NULL, 12, 24,
     "subnet 'x' (10.1.1.128/25) overlaps subnet 's' (10.1.1.0/24)"},
    {"subnet-dup-name", HDR "      - name: s\n        addressPrefix: 10.1.3.0/24\n", 0, NULL, 11, 15,
     "duplicate subnet name 's' in vnet 'v'"},
    {"subnet-name-in-two-vnets", /* subnet names are unique per VNet */
     HDR "  - name: w\n    addressSpace: [10.3.0.0/16]\n    subnets:\n      - name: s\n"
	 "        addressPrefix: 10.3.0.0/24\n",
     0, NULL, 0, 0, NULL},
    {"subnet-too-small", HDR "      - name: x\n        addressPrefix: 10.1.3.0/30\n", 0, NULL, 12, 24,
     "Azure's smallest subnet is a /29"},
    {"subnet-unknown-nsg", HDR "        networkSecurityGroup: nope\n", 0, NULL, 11, 31,
     "unknown network security group 'nope'"},
    {"subnet-unknown-rt", HDR "        routeTable: rt\n", 0, NULL, 11, 21, "unknown route table 'rt'"},
    {"subnet-unknown-key", HDR "        delegations: []\n", 0, NULL, 11, 9,
     "unknown key 'delegations' in subnet"},
    /* NSGs and rules */
    {"rule-unknown-key", HDR NSG "        destinationPort: '80'\n", 0, NULL, 22, 9,
     "unknown key 'destinationPort' in security rule"},
    {"rule-priority-text", HDR NSG RULE_END "      - name: r2\n        priority: high\n", 0, NULL, 24, 19,
     "expected a number for priority, got 'high'"},
    {"rule-protocol",
     HDR "networkSecurityGroups:\n  - name: n\n    securityRules:\n      - {name: r, priority: "
	 "100, direction: Inbound, access: Allow, protocol: Sctp}\n",
     0, NULL, 14, 79, "invalid protocol 'Sctp'; expected one of: *, Tcp, Udp, Icmp, Esp, Ah"},
    {"rule-no-direction",
     HDR "networkSecurityGroups:\n  - name: n\n    securityRules:\n      - {name: r, "
	 "priority: 100}\n",
     0, NULL, 14, 9, "missing 'direction' in security rule 'r'"},
    {"rule-conflict",
     HDR NSG RULE_END "      - name: r2\n        priority: 100\n        direction: inbound\n"
		      "        access: Allow\n        protocol: '*'\n        sourceAddressPrefix: '*'\n"
		      "        sourcePortRange: '*'\n        destinationAddressPrefix: '*'\n"
		      "        destinationPortRange: '*'\n",
     0, NULL, 23, 9, "SecurityRuleConflict"},
    {"rule-asg", HDR NSG RULE_END "        sourceApplicationSecurityGroups: [{id: x}]\n", 0, NULL, 14, 9,
     "sourceApplicationSecurityGroups and sourceAddressPrefix are both set"},
    {"rule-no-ports",
     HDR "networkSecurityGroups:\n  - name: n\n    securityRules:\n      - {name: r, "
	 "priority: 100, direction: Inbound, access: Allow, sourceAddressPrefix: '*', "
	 "destinationAddressPrefix: '*', sourcePortRange: '*'}\n",
     0, NULL, 14, 9, "no destinationPortRange"},
    {"nsg-dup-name", HDR NSG RULE_END "  - name: n\n", 0, NULL, 23, 11,
     "duplicate network security group name 'n'"},
    {"nsg-default-changed",
     HDR NSG RULE_END "    defaultSecurityRules:\n      - {name: DenyAllInBound, priority: "
		      "65500, direction: Inbound, access: Allow}\n",
     0, NULL, 24, 9, "default security rule 'DenyAllInBound' differs from Azure's"},
    {"nsg-default-unknown",
     HDR NSG RULE_END "    defaultSecurityRules:\n      - {name: AllowAll, priority: "
		      "65000, direction: Inbound, access: Allow}\n",
     0, NULL, 24, 9, "'AllowAll' is not one of Azure's default security rules"},
    {"nsg-import-missing", HDR "networkSecurityGroups:\n  - name: n\n    import: nope.json\n", 0, NULL, 13,
     13, "cannot import 'tests/data/bad/nope.json': No such file or directory"},
    {"nsg-import-and-rules",
     HDR "networkSecurityGroups:\n  - name: n\n    import: x.json\n    securityRules: []\n", 0, NULL, 13, 13,
     "'import' replaces securityRules"},
    {"nsg-unknown-key", HDR "networkSecurityGroups:\n  - name: n\n    rules: []\n", 0, NULL, 13, 5,
     "unknown key 'rules' in network security group"},
    {"nsg-properties-twice",
     HDR "networkSecurityGroups:\n  - name: n\n    securityRules: []\n    properties:\n"
	 "      securityRules: []\n",
     0, NULL, 15, 7, "'securityRules' given both in the network security group and in its properties"},
    /* route tables */
    {"route-no-next-hop-ip",
     HDR "routeTables:\n  - name: rt\n    routes:\n      - name: r\n        addressPrefix: "
	 "0.0.0.0/0\n        nextHopType: VirtualAppliance\n",
     0, NULL, 14, 9, "nextHopType VirtualAppliance needs nextHopIpAddress"},
    {"route-bad-hop-type",
     HDR "routeTables:\n  - name: rt\n    routes:\n      - name: r\n        addressPrefix: "
	 "0.0.0.0/0\n        nextHopType: Gateway\n",
     0, NULL, 16, 22, "invalid nextHopType 'Gateway'"},
    {"route-ip-not-allowed",
     HDR "routeTables:\n  - name: rt\n    routes:\n      - name: r\n        addressPrefix: "
	 "0.0.0.0/0\n        nextHopType: Internet\n        nextHopIpAddress: 10.1.1.4\n",
     0, NULL, 17, 27, "nextHopIpAddress is only allowed with nextHopType VirtualAppliance"},
    /* VMs and container groups */
    {"vm-unknown-subnet", HDR "vms:\n  - name: a\n    subnet: nope\n", 0, NULL, 13, 13,
     "unknown subnet 'nope'"},
    {"vm-no-subnet", HDR "vms:\n  - name: a\n", 0, NULL, 12, 5, "missing 'subnet' in vm"},
    {"vm-bad-name", HDR "vms:\n  - name: web_1\n    subnet: s\n", 0, NULL, 12, 11, "invalid vm name 'web_1'"},
    {"vm-name-hyphen-end", HDR "vms:\n  - name: web-\n    subnet: s\n", 0, NULL, 12, 11,
     "invalid vm name 'web-'"},
    {"vm-name-long",
     HDR "vms:\n  - name: a123456789012345678901234567890123456789012345678901234567890123\n"
	 "    subnet: s\n",
     0, NULL, 12, 11, "1-63 letters"},
    {"vm-reserved", HDR "vms:\n  - name: fabric\n    subnet: s\n", 0, NULL, 12, 11,
     "vm name 'fabric' is reserved"},
    {"vm-dup", HDR VM "  - name: a\n    subnet: s\n", 0, NULL, 16, 11,
     "endpoint name 'a' is already used (line 12)"},
    {"vm-cg-dup", HDR VM "containerGroups:\n  - name: b\n    subnet: aci\n", 0, NULL, 17, 11,
     "endpoint name 'b' is already used (line 14)"},
    {"vm-unknown-key", HDR "vms:\n  - name: a\n    subnet: s\n    image: ubuntu\n", 0, NULL, 14, 5,
     "unknown key 'image' in vm; expected one of: name, subnet, privateIpAddress, networkSecurityGroup, app, "
     "ports"},
    {"vm-in-delegated", HDR "vms:\n  - name: a\n    subnet: aci\n", 0, NULL, 13, 13,
     "subnet 'aci' is delegated to Microsoft.ContainerInstance/containerGroups; only that service may use "
     "it, "
     "not vm 'a'"},
    {"cg-not-delegated", HDR "containerGroups:\n  - name: c\n    subnet: s\n", 0, NULL, 13, 13,
     "container group 'c' needs a subnet delegated to Microsoft.ContainerInstance/containerGroups; subnet "
     "'s' has "
     "no delegation"},
    {"vm-port-range", HDR "vms:\n  - name: a\n    subnet: s\n    ports: [80, 70000]\n", 0, NULL, 14, 17,
     "port must be between 1 and 65535, got 70000"},
    {"vm-port-dup", HDR "vms:\n  - name: a\n    subnet: s\n    ports: [80, 80]\n", 0, NULL, 14, 17,
     "port 80 is listed twice"},
    {"vm-ports-map", HDR "vms:\n  - name: a\n    subnet: s\n    ports: {http: 80}\n", 0, NULL, 14, 12,
     "expected a list of ports"},
    {"vm-bad-ip", HDR "vms:\n  - name: a\n    subnet: s\n    privateIpAddress: 10.1.1.300\n", 0, NULL, 14, 23,
     "invalid privateIpAddress '10.1.1.300'"},
    {"vm-ip-outside", HDR "vms:\n  - name: a\n    subnet: s\n    privateIpAddress: 10.1.2.10\n", 0, NULL, 12,
     5, "10.1.2.10"},
    {"vm-unknown-app", HDR "vms:\n  - name: a\n    subnet: s\n    app: nginx\n", 0, NULL, 14, 10,
     "unknown app 'nginx'; expected one of: hello, echo"},
    {"vm-unknown-nsg", HDR "vms:\n  - name: a\n    subnet: s\n    networkSecurityGroup: n\n", 0, NULL, 14, 27,
     "unknown network security group 'n'"},
    {"vm-static-taken", HDR "vms:\n  - {name: a, subnet: s, privateIpAddress: 10.1.1.10}\n  - {name: b, subnet: s}\n  - {name: c, subnet: s, privateIpAddress: 10.1.1.10}\n", 0, NULL, 14, 5, "privateIpAddress 10.1.1.10 of vm 'c' is already taken"},
    {"vm-static-other-vnet", HDR "  - name: w\n    addressSpace: [10.1.0.0/16]\n    subnets: [{name: s, addressPrefix: 10.1.1.0/24}]\nvms:\n  - {name: a, subnet: v/s, privateIpAddress: 10.1.1.10}\n  - {name: b, subnet: w/s, privateIpAddress: 10.1.1.10}\n", 0, NULL, 0, 0, NULL},
    {"subnet-full", "name: t\nvnets: [{name: v, addressSpace: [10.1.0.0/16], subnets: [{name: x, addressPrefix: 10.1.0.0/29}]}]\nvms:\n  - {name: a, subnet: x}\n  - {name: b, subnet: x, privateIpAddress: 10.1.0.5}\n  - {name: c, subnet: x}\n  - {name: d, subnet: x}\n", 0, NULL, 7, 5, "subnet 'x' (3 usable addresses) has no free address left for 'd'"},

    /* AKS */
    {"aks-default-service-cidr",
     "name: t\nvnets:\n  - name: v\n    addressSpace: [10.0.0.0/8]\n    subnets:\n"
     "      - name: s\n        addressPrefix: 10.240.0.0/16\naksClusters:\n  - name: k\n"
     "    subnet: s\n    podCidr: 192.168.0.0/16\n",
     0, NULL, 9, 5,
     "default serviceCidr 10.0.0.0/16 of cluster 'k' overlaps address space 10.0.0.0/8 of vnet 'v'"},
    {"aks-pod-cidr-overlap", HDR AKS("") "    networkPlugin: kubenet\n", 0, NULL, 0, 0,
     NULL}, /* fine: control */
    {"aks-pod-cidr-vnet",
     HDR "aksClusters:\n  - name: k\n    subnet: s\n    serviceCidr: 10.2.0.0/16\n"
	 "    podCidr: 10.1.128.0/17\n",
     0, NULL, 15, 14, "podCidr 10.1.128.0/17 of cluster 'k' overlaps address space 10.1.0.0/16 of vnet 'v'"},
    {"aks-service-cidr-vnet", HDR "aksClusters:\n  - name: k\n    subnet: s\n    serviceCidr: 10.1.0.0/16\n",
     0, NULL, 14, 18,
     "serviceCidr 10.1.0.0/16 of cluster 'k' overlaps address space 10.1.0.0/16 of vnet 'v'"},
    {"aks-plugin", HDR AKS("    networkPlugin: cilium\n"), 0, NULL, 16, 20,
     "invalid networkPlugin 'cilium'; expected one of: kubenet, azure"},
    {"aks-pod-cidr-azure", HDR AKS("    networkPlugin: azure\n"), 0, NULL, 15, 14,
     "podCidr applies to networkPlugin kubenet only"},
    {"aks-node-count", HDR AKS("    nodeCount: 101\n"), 0, NULL, 16, 16,
     "nodeCount must be between 1 and 100"},
    {"aks-node-index", HDR AKS("    nodeCount: 2\n    pods:\n      - name: p\n        node: 2\n"), 0, NULL,
     19, 15, "node must be a node index from 0 to 1 (cluster 'k' has nodeCount 2), got 2"},
    {"aks-max-pods",
     HDR AKS("    nodeCount: 2\n    maxPods: 3\n    pods:\n      - name: p\n        replicas: 7\n"), 0, NULL,
     19, 9, "pod 'p-6' of cluster 'k' cannot be scheduled (FailedScheduling): 0/2 nodes are available: 2 Too many pods (maxPods 3)."},
    {"aks-max-pods-pinned",
     HDR AKS("    nodeCount: 2\n    maxPods: 1\n    pods:\n      - name: p\n        replicas: 2\n"
	     "      - name: q\n        node: 0\n"),
     0, NULL, 21, 9, "node 0 of cluster 'k' would run more than maxPods (1) pods"},
    {"aks-pod-node-name", HDR AKS("    pods:\n      - name: k-node-1\n"), 0, NULL, 17, 15,
     "endpoint name 'k-node-1' is already used"},
    {"aks-replica-name", HDR VM AKS("    pods:\n      - name: a\n        replicas: 2\n      - name: a-1\n"),
     0, NULL, 24, 15, "endpoint name 'a-1' is already used (line 22)"},
    {"aks-replicas-zero", HDR AKS("    pods:\n      - name: p\n        replicas: 0\n"), 0, NULL, 18, 19,
     "replicas must be between 1 and 5000"},
    {"aks-pod-unknown-key", HDR AKS("    pods:\n      - name: p\n        image: nginx\n"), 0, NULL, 18, 9,
     "unknown key 'image' in pod"},
    {"aks-no-room",
     HDR S2 AKS("    nodeCount: 2\n") "  - name: k2\n    subnet: s2\n    serviceCidr: 10.3.0.0/16\n"
				      "    podCidr: 10.244.5.0/24\n    nodeCount: 2\n",
     0, NULL, 22, 14, "podCidr 10.244.5.0/24 of cluster 'k2' has no room for 2 node /24s"},
    {"aks-pod-cidr-clusters",
     HDR S2 AKS("    nodeCount: 1\n") "  - name: k2\n    subnet: s2\n    serviceCidr: 10.3.0.0/16\n"
				      "    podCidr: 10.244.0.0/24\n    nodeCount: 1\n",
     0, NULL, 22, 14, "overlaps the podCidr of cluster 'k'"},
    {"aks-kubenet-shared-subnet", /* spec 23.9: a kubenet cluster owns its subnet's route table */
     HDR AKS("    nodeCount: 1\n") "  - name: k2\n    subnet: s\n    serviceCidr: 10.3.0.0/16\n"
				   "    podCidr: 10.245.0.0/16\n    nodeCount: 1\n",
     0, NULL, 18, 13,
     "subnet 's' already holds kubenet cluster 'k'; Azure allows one kubenet cluster per subnet"},
    {"aks-azure-shares-subnet",
     HDR AKS("    nodeCount: 1\n") "  - name: k2\n    subnet: s\n    networkPlugin: azure\n"
				   "    serviceCidr: 10.3.0.0/16\n    nodeCount: 1\n",
     0, NULL, 0, 0, NULL},
    /* peerings, gateways, on-premises and Internet hosts (spec sections 12, 13, 23) */
    {"peer-unknown-remote", HUB PEERS "      - name: p\n        remoteVirtualNetwork: nope\n", 0, NULL, 17, 31, "unknown vnet 'nope' in remoteVirtualNetwork of peering 'p'"},
    {"peer-self", HUB PEERS "      - name: p\n        remoteVirtualNetwork: spoke\n", 0, NULL, 17, 31, "peering 'p': vnet 'spoke' cannot peer with itself"},
    {"peer-id", HUB PEERS "      - name: p\n        remoteVirtualNetwork: {id: /subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/hub}\n", 0, NULL, 0, 0, NULL},
    {"peer-bad-id", HUB PEERS "      - name: p\n        remoteVirtualNetwork: {id: /subscriptions/0/networks/hub}\n", 0, NULL, 17, 36, "invalid remoteVirtualNetwork id '/subscriptions/0/networks/hub'"},
    {"peer-id-unknown-key", HUB PEERS "      - name: p\n        remoteVirtualNetwork: {name: hub}\n", 0, NULL, 17, 32, "unknown key 'name' in remoteVirtualNetwork; expected one of: id"},
    {"peer-no-remote", HUB PEERS "      - name: p\n", 0, NULL, 16, 9, "missing 'remoteVirtualNetwork' in peering"},
    {"peer-unknown-key", HUB PEERS TO_HUB "        peeringState: Connected\n", 0, NULL, 18, 9, "unknown key 'peeringState' in peering"},
    {"peer-dup-name", HUB PEERS TO_HUB "      - name: to-hub\n        remoteVirtualNetwork: hub\n", 0, NULL, 18, 15, "duplicate peering name 'to-hub' in vnet 'spoke'"},
    {"peer-same-remote", HUB PEERS TO_HUB "      - name: again\n        remoteVirtualNetwork: hub\n", 0, NULL, 19, 31, "vnet 'spoke' already has peering 'to-hub' to vnet 'hub'; one peering per remote VNet"},
    {"peer-flag", HUB PEERS TO_HUB "        allowForwardedTraffic: maybe\n", 0, NULL, 18, 32, "expected true or false for allowForwardedTraffic, got 'maybe'"},
    {"peer-urg-no-gateway", HUB PEERS TO_HUB "        useRemoteGateways: true\n", 0, NULL, 18, 28, "useRemoteGateways: vnet 'hub' has no virtual network gateway; Azure refuses the peering"},
    {"peer-urg-ok", HUB PEERS TO_HUB "        useRemoteGateways: true\n" GW, 0, NULL, 0, 0, NULL},
    {"peer-urg-own-gateway", HUB "      - name: GatewaySubnet\n        addressPrefix: 10.1.255.0/27\n" PEERS TO_HUB "        useRemoteGateways: true\n" GW "  - {name: gw2, vnet: spoke}\n", 0, NULL, 20, 28, "vnet 'spoke' has its own virtual network gateway 'gw2'; it cannot use remote gateways"},
    {"peer-urg-twice", HUB PEERS TO_HUB "        useRemoteGateways: true\n      - {name: to-hub2, remoteVirtualNetwork: hub2, useRemoteGateways: true}\n  - name: hub2\n    addressSpace: [10.2.0.0/16]\n    subnets: [{name: GatewaySubnet, addressPrefix: 10.2.255.0/27}]\n" GW "  - {name: gw2, vnet: hub2}\n", 0, NULL, 19, 72, "vnet 'spoke' already uses the remote gateways of peering 'to-hub'; a VNet may set useRemoteGateways on one peering only"},
    {"gw-unknown-vnet", HUB "virtualNetworkGateways:\n  - {name: gw, vnet: nope}\n", 0, NULL, 16, 22, "unknown vnet 'nope'"},
    {"gw-no-gateway-subnet", HUB "virtualNetworkGateways:\n  - {name: gw, vnet: spoke}\n", 0, NULL, 16, 22, "vnet 'spoke' has no subnet named GatewaySubnet; virtual network gateway 'gw' needs one"},
    {"gw-dup-name", HUB GW "  - {name: gw, vnet: hub, gatewayType: ExpressRoute}\n", 0, NULL, 17, 12, "duplicate virtual network gateway name 'gw'"},
    {"gw-two-vpn", HUB GW "  - {name: gw2, vnet: hub, gatewayType: vpn}\n", 0, NULL, 17, 23, "vnet 'hub' already has the Vpn gateway 'gw'; a VNet has at most one gateway of each type"},
    {"gw-type", HUB "virtualNetworkGateways:\n  - {name: gw, vnet: hub, gatewayType: LocalGateway}\n", 0, NULL, 16, 40, "invalid gatewayType 'LocalGateway'; expected one of: Vpn, ExpressRoute"},
    {"gw-vpn-type", HUB "virtualNetworkGateways:\n  - {name: gw, vnet: hub, vpnType: Static}\n", 0, NULL, 16, 36, "invalid vpnType 'Static'; expected one of: RouteBased, PolicyBased"},
    {"gw-bad-name", HUB "virtualNetworkGateways:\n  - {name: -gw, vnet: hub}\n", 0, NULL, 16, 12, "invalid virtual network gateway name '-gw'"},
    {"gw-unknown-key", HUB "virtualNetworkGateways:\n  - {name: gw, vnet: hub, subnet: GatewaySubnet}\n", 0, NULL, 16, 27, "unknown key 'subnet' in virtual network gateway"},
    {"gwsubnet-nsg", "name: t\nnetworkSecurityGroups: [{name: n, securityRules: []}]\nvnets:\n  - name: hub\n    addressSpace: [10.0.0.0/16]\n    subnets:\n      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27, networkSecurityGroup: n}\n", 0, NULL, 7, 83, "an NSG on GatewaySubnet blocks the gateway; Azure refuses it (vnet 'hub')"},
    {"gwsubnet-default-route", "name: t\nrouteTables: [{name: rt, routes: [{name: all, addressPrefix: 0.0.0.0/0, nextHopType: Internet}]}]\nvnets:\n  - name: hub\n    addressSpace: [10.0.0.0/16]\n    subnets:\n      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27, routeTable: rt}\n", 0, NULL, 7, 73, "route table 'rt' has a 0.0.0.0/0 route ('all'); on GatewaySubnet it breaks the gateway and Azure refuses it"},
    {"gwsubnet-route-ok", "name: t\nrouteTables: [{name: rt, routes: [{name: r, addressPrefix: 10.9.0.0/16, nextHopType: None}]}]\nvnets:\n  - name: hub\n    addressSpace: [10.0.0.0/16]\n    subnets:\n      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27, routeTable: rt}\n", 0, NULL, 0, 0, NULL},
    {"gwsubnet-vm", HUB "vms:\n  - {name: a, subnet: GatewaySubnet}\n", 0, NULL, 16, 23, "GatewaySubnet holds only virtual network gateways, not vm 'a'"},
    {"gwsubnet-cg", HUB "containerGroups:\n  - {name: c, subnet: hub/GatewaySubnet}\n", 0, NULL, 16, 23, "GatewaySubnet holds only virtual network gateways, not container group 'c'"},
    {"gwsubnet-aks", HUB "aksClusters:\n  - {name: k, subnet: GatewaySubnet, serviceCidr: 10.9.0.0/16}\n", 0, NULL, 16, 23, "GatewaySubnet holds only virtual network gateways, not AKS cluster 'k'"},
    {"subnet-ambiguous", HUB "vms:\n  - {name: a, subnet: s}\n", 0, NULL, 16, 23, "subnet name 's' is in vnet 'hub' and in vnet 'spoke'; write VNET/SUBNET, e.g. 'hub/s'"},
    {"subnet-qualified", HUB "vms:\n  - {name: a, subnet: spoke/s}\n  - {name: b, subnet: hub/s}\n", 0, NULL, 0, 0, NULL},
    {"subnet-qualified-unknown", HUB "vms:\n  - {name: a, subnet: spoke/GatewaySubnet}\n", 0, NULL, 16, 23, "unknown subnet 'spoke/GatewaySubnet'"},
    {"subnet-qualified-vnet", HUB "vms:\n  - {name: a, subnet: nope/s}\n", 0, NULL, 16, 23, "unknown subnet 'nope/s'"},
    {"vnet-space-platform", "name: t\nvnets:\n  - {name: a, addressSpace: [168.63.0.0/16]}\n", 0, NULL, 3, 30, "address space 168.63.0.0/16 of vnet 'a' overlaps 168.63.129.16/32 (Azure's platform address), which Azure reserves"},
    {"vnet-space-link-local", "name: t\nvnets:\n  - {name: a, addressSpace: [10.0.0.0/16, 169.254.0.0/24]}\n", 0, NULL, 3, 43, "overlaps 169.254.0.0/16 (link-local)"},
    {"vnet-space-loopback", "name: t\nvnets:\n  - {name: a, addressSpace: [127.0.0.0/16]}\n", 0, NULL, 3, 30, "overlaps 127.0.0.0/8 (loopback)"},
    {"vnet-space-multicast", "name: t\nvnets:\n  - {name: a, addressSpace: [224.0.0.0/8]}\n", 0, NULL, 3, 30, "overlaps 224.0.0.0/4 (multicast)"},
    {"vnet-space-broadcast", "name: t\nvnets:\n  - {name: a, addressSpace: [255.255.255.0/24]}\n", 0, NULL, 3, 30, "overlaps 255.255.255.255/32 (broadcast)"},
    {"route-gateway-hop", HDR "routeTables:\n  - name: rt\n    disableBgpRoutePropagation: true\n    routes:\n      - {name: r, addressPrefix: 0.0.0.0/0, nextHopType: virtualnetworkgateway}\n", 0, NULL, 0, 0, NULL},
    {"route-gateway-ip", HDR "routeTables:\n  - name: rt\n    routes:\n      - {name: r, addressPrefix: 0.0.0.0/0, nextHopType: VirtualNetworkGateway, nextHopIpAddress: 10.1.1.4}\n", 0, NULL, 14, 99, "route 'r': nextHopIpAddress is only allowed with nextHopType VirtualAppliance"},
    {"route-disable-bgp", HDR "routeTables:\n  - name: rt\n    disableBgpRoutePropagation: yes please\n", 0, NULL, 13, 33, "expected true or false for disableBgpRoutePropagation, got 'yes please'"},
    {"vm-forwarding", HDR "vms:\n  - {name: a, subnet: s, enableIpForwarding: on}\n", 0, NULL, 12, 46, "expected true or false for enableIpForwarding, got 'on'"},
    {"vm-forwarding-twice", HDR "vms:\n  - {name: a, subnet: s, enableIpForwarding: true, enableIPForwarding: true}\n", 0, NULL, 12, 72, "enableIpForwarding and enableIPForwarding are one setting; give it once"},
    {"lng-no-prefixes", HUB "localNetworkGateways:\n  - name: branch\n", 0, NULL, 16, 5, "local network gateway 'branch' needs addressPrefixes (its on-premises ranges)"},
    {"lng-empty-prefixes", HUB "localNetworkGateways:\n  - name: branch\n    addressPrefixes: []\n", 0, NULL, 17, 22, "addressPrefixes needs at least one CIDR"},
    {"lng-both-spellings", "name: t\n" LNG "    localNetworkAddressSpace: {addressPrefixes: [192.168.2.0/24]}\n", 0, NULL, 5, 31, "give addressPrefixes or localNetworkAddressSpace.addressPrefixes, not both"},
    {"lng-arm-no-prefixes", "name: t\nlocalNetworkGateways:\n  - name: branch\n    localNetworkAddressSpace: {}\n", 0, NULL, 4, 31, "missing 'addressPrefixes' in localNetworkAddressSpace"},
    {"lng-arm-key", "name: t\nlocalNetworkGateways:\n  - name: branch\n    localNetworkAddressSpace: {prefixes: [192.168.2.0/24]}\n", 0, NULL, 4, 32, "unknown key 'prefixes' in localNetworkAddressSpace; expected one of: addressPrefixes"},
    {"lng-reserved", "name: t\nlocalNetworkGateways:\n  - name: branch\n    addressPrefixes: [192.168.1.0/24, 169.254.0.0/16]\n", 0, NULL, 4, 39, "on-premises prefix 169.254.0.0/16 overlaps 169.254.0.0/16 (link-local), which Azure reserves"},
    {"lng-overlap-within", "name: t\nlocalNetworkGateways:\n  - name: branch\n    addressPrefixes: [192.168.0.0/16, 192.168.1.0/24]\n", 0, NULL, 4, 39, "on-premises prefix 192.168.1.0/24 of local network gateway 'branch' overlaps 192.168.0.0/16 of local network gateway 'branch'"},
    {"lng-overlap-across", "name: t\n" LNG "  - name: dc\n    addressPrefixes: [192.168.0.0/16]\n", 0, NULL, 6, 23, "on-premises prefix 192.168.0.0/16 of local network gateway 'dc' overlaps 192.168.1.0/24 of local network gateway 'branch'"},
    {"lng-dup-name", "name: t\n" LNG "  - name: branch\n    addressPrefixes: [192.168.2.0/24]\n", 0, NULL, 5, 11, "duplicate local network gateway name 'branch'"},
    {"lng-gateway-ip", "name: t\n" LNG "    gatewayIpAddress: vpn.example.com\n", 0, NULL, 5, 23, "invalid gatewayIpAddress 'vpn.example.com': expected an IPv4 address"},
    {"lng-host-outside", "name: t\n" LNG "    hosts:\n      - {name: h, address: 192.168.2.10}\n", 0, NULL, 6, 28, "address 192.168.2.10 of on-premises host 'h' is outside the addressPrefixes of local network gateway 'branch'"},
    {"lng-host-router", "name: t\n" LNG "    hosts:\n      - {name: h, address: 192.168.1.1}\n", 0, NULL, 6, 28, "address 192.168.1.1 of on-premises host 'h' is reserved in 192.168.1.0/24 (the network address, .1 for the on-premises router, .2, .3 and the last address)"},
    {"lng-host-last", "name: t\n" LNG "    hosts:\n      - {name: h, address: 192.168.1.255}\n", 0, NULL, 6, 28, "address 192.168.1.255 of on-premises host 'h' is reserved in 192.168.1.0/24"},
    {"lng-host-dup", "name: t\n" LNG "    hosts:\n      - {name: h, address: 192.168.1.9}\n      - {name: i}\n      - {name: j, address: 192.168.1.9}\n", 0, NULL, 8, 28, "address 192.168.1.9 of on-premises host 'j' is already taken by 'h'"},
    {"lng-host-name", HDR "vms:\n  - {name: a, subnet: s}\n" "localNetworkGateways:\n  - name: branch\n    addressPrefixes: [192.168.1.0/24]\n    hosts:\n      - {name: a}\n", 0, NULL, 17, 16, "endpoint name 'a' is already used (line 12)"},
    {"lng-host-reserved-name", "name: t\n" LNG "    hosts:\n      - {name: internet}\n", 0, NULL, 6, 16, "on-premises host name 'internet' is reserved for the lab's own namespaces"},
    {"lng-host-key", "name: t\n" LNG "    hosts:\n      - {name: h, subnet: s}\n", 0, NULL, 6, 19, "unknown key 'subnet' in on-premises host; expected one of: name, address, app, ports"},
    {"lng-host-full", "name: t\nlocalNetworkGateways:\n  - name: branch\n    addressPrefixes: [192.168.1.0/29]\n    hosts: [{name: a}, {name: b}, {name: c}, {name: d}]\n", 0, NULL, 5, 46, "local network gateway 'branch': no free address left in 192.168.1.0/29 for host 'd'"},
    {"conn-ok-peered-transit", HUB PEERS TO_HUB GW LNG "connections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch, connectionType: ipsec, sharedKey: abc}\n", 0, NULL, 0, 0, NULL},
    {"conn-unknown-gw", HUB GW LNG "connections:\n  - {name: c, virtualNetworkGateway: vpn, localNetworkGateway: branch}\n", 0, NULL, 21, 38, "unknown virtual network gateway 'vpn'"},
    {"conn-unknown-lng", HUB GW LNG "connections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: dc}\n", 0, NULL, 21, 63, "unknown local network gateway 'dc'"},
    {"conn-no-lng", HUB GW LNG "connections:\n  - {name: c, virtualNetworkGateway: gw}\n", 0, NULL, 21, 5, "missing 'localNetworkGateway' in connection"},
    {"conn-type", HUB GW LNG "connections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch, connectionType: Vnet2Vnet}\n", 0, NULL, 21, 87, "invalid connectionType 'Vnet2Vnet'; expected one of: IPsec, ExpressRoute"},
    {"conn-type-mismatch", HUB GW LNG "connections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch, connectionType: ExpressRoute}\n", 0, NULL, 21, 87, "connection 'c' is ExpressRoute but gateway 'gw' has gatewayType Vpn (IPsec needs a Vpn gateway, ExpressRoute an ExpressRoute gateway)"},
    {"conn-type-mismatch-default", HUB "virtualNetworkGateways:\n  - {name: er, vnet: hub, gatewayType: ExpressRoute}\n" LNG "connections:\n  - {name: c, virtualNetworkGateway: er, localNetworkGateway: branch}\n", 0, NULL, 21, 5, "connection 'c' is IPsec but gateway 'er' has gatewayType ExpressRoute"},
    {"conn-dup-name", HUB GW LNG "  - {name: dc, addressPrefixes: [192.168.2.0/24]}\nconnections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch}\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: dc}\n", 0, NULL, 23, 12, "duplicate connection name 'c'"},
    {"conn-dup-pair", HUB GW LNG "connections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch}\n  - {name: c2, virtualNetworkGateway: gw, localNetworkGateway: branch}\n", 0, NULL, 22, 64, "connection 'c' already joins gateway 'gw' to local network gateway 'branch'"},
    {"conn-overlap-vnet", HUB GW "localNetworkGateways:\n  - {name: branch, addressPrefixes: [10.0.128.0/17]}\nconnections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch}\n", 0, NULL, 20, 63, "on-premises prefix 10.0.128.0/17 of local network gateway 'branch' overlaps address space 10.0.0.0/16 of vnet 'hub', which connection 'c' joins to it"},
    {"conn-overlap-peer", HUB PEERS TO_HUB GW "localNetworkGateways:\n  - {name: branch, addressPrefixes: [10.1.0.0/24]}\nconnections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch}\n", 0, NULL, 23, 63, "on-premises prefix 10.1.0.0/24 of local network gateway 'branch' overlaps address space 10.1.0.0/16 of vnet 'spoke', which connection 'c' joins to it"},
    {"conn-overlap-unjoined", HUB GW "localNetworkGateways:\n  - {name: branch, addressPrefixes: [10.1.0.0/24]}\nconnections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch}\n", 0, NULL, 0, 0, NULL},
    {"inet-outside", HDR "internet:\n  hosts:\n    - {name: w, address: 8.8.8.8}\n", 0, NULL, 13, 26, "address 8.8.8.8 of Internet host 'w' is outside the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24"},
    {"inet-edge", HDR "internet:\n  hosts:\n    - {name: w, address: 192.0.2.1}\n", 0, NULL, 13, 26, "address 192.0.2.1 of Internet host 'w' is reserved (.0 is the network, .1 the edge router, .255 the broadcast address)"},
    {"inet-broadcast", HDR "internet:\n  hosts:\n    - {name: w, address: 203.0.113.255}\n", 0, NULL, 13, 26, "address 203.0.113.255 of Internet host 'w' is reserved"},
    {"inet-lab-public", HDR "internet:\n  hosts:\n    - {name: w, address: 198.51.100.20}\n", 0, NULL, 13, 26, "address 198.51.100.20 of Internet host 'w' is in 198.51.100.0/25, which the lab keeps for its Azure public addresses"},
    {"inet-upper-half", HDR "internet:\n  hosts:\n    - {name: w, address: 198.51.100.130}\n", 0, NULL, 0, 0, NULL},
    {"inet-dup", HDR "internet:\n  hosts:\n    - {name: w, address: 203.0.113.9}\n    - {name: x, address: 203.0.113.9}\n", 0, NULL, 14, 26, "address 203.0.113.9 of Internet host 'x' is already taken by 'w'"},
    {"inet-in-vnet", "name: t\nvnets:\n  - {name: v, addressSpace: [203.0.113.0/24]}\ninternet:\n  hosts:\n    - {name: w, address: 203.0.113.9}\n", 0, NULL, 6, 26, "address 203.0.113.9 of Internet host 'w' is inside address space 203.0.113.0/24 of vnet 'v'"},
    {"inet-skips-vnet", "name: t\nvnets:\n  - {name: v, addressSpace: [203.0.113.0/25]}\ninternet:\n  hosts:\n    - {name: w}\n", 0, NULL, 0, 0, NULL},
    {"inet-in-onprem", "name: t\nlocalNetworkGateways:\n  - {name: l, addressPrefixes: [192.0.2.0/24]}\ninternet:\n  hosts:\n    - {name: w, address: 192.0.2.9}\n", 0, NULL, 6, 26, "address 192.0.2.9 of Internet host 'w' is inside on-premises prefix 192.0.2.0/24 of local network gateway 'l'"},
    {"inet-name", HDR "vms:\n  - {name: a, subnet: s}\ninternet:\n  hosts:\n    - {name: a}\n", 0, NULL, 15, 14, "endpoint name 'a' is already used (line 12)"},
    {"inet-key", HDR "internet:\n  routers: []\n", 0, NULL, 12, 3, "unknown key 'routers' in internet; expected one of: hosts"},
    {"inet-not-map", HDR "internet: [a]\n", 0, NULL, 11, 11, "expected a mapping for internet, got a list"},
    {"inet-host-key", HDR "internet:\n  hosts:\n    - {name: w, ip: 203.0.113.9}\n", 0, NULL, 13, 17, "unknown key 'ip' in Internet host"},
    {"inet-bad-ip", HDR "internet:\n  hosts:\n    - {name: w, address: 203.0.113}\n", 0, NULL, 13, 26, "invalid address '203.0.113': expected an IPv4 address"},
    {"inet-check-target", HDR "vms:\n  - {name: a, subnet: s}\ninternet:\n  hosts:\n    - {name: w, app: hello, ports: [80]}\nchecks:\n  - {name: c, from: a, to: w, port: 80, expect: allow}\n", 0, NULL, 0, 0, NULL},
    {"conn-overlap-pod-cidr", HUB PEERS TO_HUB GW "localNetworkGateways:\n  - {name: branch, addressPrefixes: [10.244.0.0/24]}\naksClusters:\n  - {name: k, subnet: spoke/s, serviceCidr: 10.9.0.0/16}\nconnections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch}\n", 0, NULL, 25, 63, "on-premises prefix 10.244.0.0/24 of local network gateway 'branch' overlaps podCidr 10.244.0.0/16 of cluster 'k', which connection 'c' joins to it"},
    {"conn-overlap-service-cidr", HUB GW "localNetworkGateways:\n  - {name: branch, addressPrefixes: [10.9.0.0/24]}\naksClusters:\n  - {name: k, subnet: hub/s, networkPlugin: azure, serviceCidr: 10.9.0.0/16}\nconnections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch}\n", 0, NULL, 22, 63, "overlaps serviceCidr 10.9.0.0/16 of cluster 'k'"},
    {"conn-pod-cidr-unjoined", HUB GW "localNetworkGateways:\n  - {name: branch, addressPrefixes: [10.244.0.0/24]}\naksClusters:\n  - {name: k, subnet: spoke/s, serviceCidr: 10.9.0.0/16}\nconnections:\n  - {name: c, virtualNetworkGateway: gw, localNetworkGateway: branch}\n", 0, NULL, 0, 0, NULL},
    /* checks */
    {"check-unknown-from", HDR VM "checks:\n  - {name: c, from: x, to: b, port: 80, expect: allow}\n", 0,
     NULL, 17, 21, "unknown endpoint 'x' in from"},
    {"check-unknown-to", HDR VM "checks:\n  - {name: c, from: a, to: 10.1.1, port: 80, expect: allow}\n", 0,
     NULL, 17, 28, "unknown endpoint '10.1.1' in to"},
    {"check-expect", HDR VM "checks:\n  - {name: c, from: a, to: b, port: 80, expect: maybe}\n", 0, NULL, 17,
     49, "invalid expect 'maybe'; expected one of: allow, deny"},
    {"check-no-port", HDR VM "checks:\n  - {name: c, from: a, to: b, expect: deny}\n", 0, NULL, 17, 5,
     "missing 'port' in check (tcp needs one)"},
    {"check-icmp-port",
     HDR VM "checks:\n  - {name: c, from: a, to: b, protocol: ICMP, port: 1, expect: deny}\n", 0, NULL, 17,
     53, "an icmp check has no port"},
    {"check-protocol",
     HDR VM "checks:\n  - {name: c, from: a, to: b, protocol: sctp, port: 1, expect: deny}\n", 0, NULL, 17,
     41, "invalid protocol 'sctp'; expected one of: tcp, udp, icmp"},
    {"check-dup",
     HDR VM "checks:\n  - {name: c, from: a, to: b, port: 1, expect: deny}\n"
	    "  - {name: c, from: a, to: b, port: 2, expect: deny}\n",
     0, NULL, 18, 12, "duplicate check name 'c'"},
    {"check-expect-rule",
     HDR VM "checks:\n  - {name: c, from: a, to: b, port: 1, expect: deny, expectRule: r}\n", 0, NULL, 17, 66,
     "invalid expectRule 'r': expected nsg/rule"},
    {"check-expect-rule-nsg",
     HDR VM "checks:\n  - {name: c, from: a, to: b, port: 1, expect: deny, expectRule: "
	    "x/r}\n",
     0, NULL, 17, 66, "unknown network security group in expectRule 'x/r'"},
    {"check-expect-source",
     HDR VM "checks:\n  - {name: c, from: a, to: b, port: 1, expect: deny, expectSource: "
	    "pod}\n",
     0, NULL, 17, 68, "unknown endpoint 'pod' in expectSource"},
    {"check-expect-rule-name",
     HDR NSG RULE_END VM "checks:\n  - {name: c, from: a, to: b, port: 1, expect: deny, "
			 "expectRule: n/x}\n",
     0, NULL, 29, 66, "expectRule 'n/x': NSG 'n' has no rule 'x'"},
    {"check-expect-rule-default",
     HDR NSG RULE_END VM "checks:\n  - {name: c, from: a, to: b, port: 1, expect: deny, "
			 "expectRule: n/DenyAllInBound}\n",
     0, NULL, 0, 0, NULL},
    {"check-expect-rule-added",
     HDR NSG RULE_END VM "checks:\n  - {name: c, from: a, to: b, port: 1, expect: deny, "
			 "expectRule: n/later}\nscenario:\n  - add: {nsg: n, rule: later, priority: 300}\n",
     0, NULL, 0, 0, NULL},
    /* scenario */
    {"step-two-keys", HDR "scenario:\n  - {say: hi, wait: 10}\n", 0, NULL, 12, 5,
     "a scenario step has exactly one of"},
    {"step-unknown", HDR "scenario:\n  - sleep: 10\n", 0, NULL, 12, 5,
     "unknown key 'sleep' in scenario step; expected one of: say, check, set, add, delete, wait"},
    {"step-unknown-check", HDR "scenario:\n  - check: nope\n", 0, NULL, 12, 12, "unknown check 'nope'"},
    {"step-wait", HDR "scenario:\n  - wait: -5\n", 0, NULL, 12, 11, "wait (milliseconds) must be between 0"},
    {"step-inline-name", HDR VM "scenario:\n  - check: {name: x, from: a, to: b, port: 1, expect: deny}\n", 0,
     NULL, 17, 13, "unknown key 'name' in scenario check"},
    {"step-set-unknown-rule", HDR NSG RULE_END "scenario:\n  - set: {nsg: n, rule: zz, priority: 200}\n", 0,
     NULL, 24, 25, "set: no rule 'zz' in NSG 'n' at this step"},
    {"step-set-unknown-nsg", HDR NSG RULE_END "scenario:\n  - set: {nsg: m, rule: r, priority: 200}\n", 0,
     NULL, 24, 16, "unknown network security group 'm'"},
    {"step-add-existing", HDR NSG RULE_END "scenario:\n  - add: {nsg: n, rule: R, priority: 200}\n", 0, NULL,
     24, 25, "add: rule 'R' already exists in NSG 'n'"},
    {"step-delete-twice",
     HDR NSG RULE_END "scenario:\n  - delete: {nsg: n, rule: r}\n  - delete: {nsg: n, rule: r}\n", 0, NULL,
     25, 28, "delete: no rule 'r' in NSG 'n' at this step"},
    {"step-edit-field", HDR NSG RULE_END "scenario:\n  - set: {nsg: n, rule: r, prio: 200}\n", 0, NULL, 24,
     28, "unknown key 'prio' in set"},
    {"step-set-nothing", HDR NSG RULE_END "scenario:\n  - set: {nsg: n, rule: r}\n", 0, NULL, 24, 10,
     "changes nothing"},
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

/* Criterion may re-exec the test binary: pass indexes, not pointers. */
ParameterizedTestParameters(loader, bad)
{
	size_t *idx = cr_malloc(N_BAD * sizeof(*idx));

	for (size_t i = 0; i < N_BAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_BAD);
}

ParameterizedTest(size_t *i, loader, bad)
{
	const struct bad *c = &bad_cases[*i];
	struct vl_lab *lab = (struct vl_lab *)1;
	struct vl_error err = {0};
	int r;

	if (c->text)
		r = vl_load_buffer(DATA "bad/inline.yaml", c->text, c->len ? c->len : strlen(c->text), &lab,
				   &err);
	else
		r = vl_load_file(c->file, &lab, &err);
	if (!c->msg) { /* control rows: must load */
		cr_assert_eq(r, 0, "%s: %d:%d: %s", c->id, err.line, err.col, err.msg);
		vl_lab_free(lab);
		return;
	}
	cr_assert_eq(r, -EINVAL, "%s: loaded (r=%d)", c->id, r);
	cr_expect_null(lab, "%s: *out must be NULL", c->id);
	cr_expect(strstr(err.msg, c->msg), "%s: message \"%s\" lacks \"%s\"", c->id, err.msg, c->msg);
	cr_expect(err.line == c->line && err.col == c->col, "%s: at %d:%d, want %d:%d (%s)", c->id, err.line,
		  err.col, c->line, c->col, err.msg);
	cr_expect_str_eq(err.file, c->text ? DATA "bad/inline.yaml" : c->file);
}

/* Every file in tests/data/bad (fuzz crashers included) is refused with a located message. */
Test(loader, bad_files_refused)
{
	char *out;
	int status;
	FILE *p = popen("ls tests/data/bad/*.yaml", "r");
	char path[512];
	int n = 0;

	(void)out;
	(void)status;
	cr_assert_not_null(p);
	while (fgets(path, sizeof(path), p)) {
		struct vl_lab *lab = NULL;
		struct vl_error err = {0};

		path[strcspn(path, "\n")] = '\0';
		cr_expect_neq(vl_load_file(path, &lab, &err), 0, "%s loaded", path);
		cr_expect_null(lab);
		cr_expect(err.msg[0], "%s: no message", path);
		n++;
	}
	pclose(p);
	cr_expect_geq(n, 2);
}
