// SPDX-License-Identifier: MIT
/*
 * The effective model against spec sections 12, 13, 19 and 23: one row per
 * rule. Each row loads a small topology (the loader fills lab->eff through
 * vl_lab_resolve()) and asks one question of one subnet: the effective route
 * to an address, whether an address is in its VirtualNetwork tag, whether it
 * is Internet, whether a cluster masquerades toward it.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"

/* ---- topologies ---- */

/* One VNet: subnet a has route table rt (everything in the VNet via the NVA except the NVA's
 * subnet, a dropped prefix), b has none, f is forced-tunnelled to the NVA. */
#define ONE                                                                                                  \
	"name: one\n"                                                                                        \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: a, addressPrefix: 10.1.1.0/24, routeTable: rt}\n"                                    \
	"      - {name: b, addressPrefix: 10.1.2.0/24}\n"                                                    \
	"      - {name: nva, addressPrefix: 10.1.3.0/24}\n"                                                  \
	"      - {name: f, addressPrefix: 10.1.4.0/24, routeTable: forced}\n"                                \
	"routeTables:\n"                                                                                     \
	"  - name: rt\n"                                                                                     \
	"    routes:\n"                                                                                      \
	"      - {name: all-via-nva, addressPrefix: 10.1.0.0/16, nextHopType: VirtualAppliance,\n"           \
	"         nextHopIpAddress: 10.1.3.4}\n"                                                             \
	"      - {name: nva-direct, addressPrefix: 10.1.3.0/24, nextHopType: VnetLocal}\n"                   \
	"      - {name: drop, addressPrefix: 10.60.0.0/16, nextHopType: None}\n"                             \
	"  - name: forced\n"                                                                                 \
	"    routes:\n"                                                                                      \
	"      - {name: default, addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance,\n"                 \
	"         nextHopIpAddress: 10.1.3.4}\n"                                                             \
	"vms:\n"                                                                                             \
	"  - {name: nva1, subnet: nva, enableIpForwarding: true}\n"

/* Peerings: a-b and b-c both sides, a-e both sides with a's access off, a to d one side only. */
#define PEERS                                                                                                \
	"name: peers\n"                                                                                      \
	"vnets:\n"                                                                                           \
	"  - name: a\n"                                                                                      \
	"    addressSpace: [10.1.0.0/24]\n"                                                                  \
	"    subnets: [{name: s, addressPrefix: 10.1.0.0/24}]\n"                                             \
	"    virtualNetworkPeerings:\n"                                                                      \
	"      - {name: to-b, remoteVirtualNetwork: b}\n"                                                    \
	"      - {name: to-d, remoteVirtualNetwork: d}\n"                                                    \
	"      - {name: to-e, remoteVirtualNetwork: e, allowVirtualNetworkAccess: false}\n"                  \
	"  - name: b\n"                                                                                      \
	"    addressSpace: [10.2.0.0/24]\n"                                                                  \
	"    subnets: [{name: s, addressPrefix: 10.2.0.0/24}]\n"                                             \
	"    virtualNetworkPeerings:\n"                                                                      \
	"      - {name: to-a, remoteVirtualNetwork: a}\n"                                                    \
	"      - {name: to-c, remoteVirtualNetwork: c}\n"                                                    \
	"  - name: c\n"                                                                                      \
	"    addressSpace: [10.3.0.0/24]\n"                                                                  \
	"    subnets: [{name: s, addressPrefix: 10.3.0.0/24}]\n"                                             \
	"    virtualNetworkPeerings: [{name: to-b, remoteVirtualNetwork: b}]\n"                              \
	"  - name: d\n"                                                                                      \
	"    addressSpace: [10.4.0.0/24]\n"                                                                  \
	"    subnets: [{name: s, addressPrefix: 10.4.0.0/24}]\n"                                             \
	"  - name: e\n"                                                                                      \
	"    addressSpace: [10.5.0.0/24]\n"                                                                  \
	"    subnets: [{name: s, addressPrefix: 10.5.0.0/24}]\n"                                             \
	"    virtualNetworkPeerings: [{name: to-a, remoteVirtualNetwork: a}]\n"

/* A hub with a VPN gateway and two on-premises networks (one of them a whole reserved range);
 * spoke uses the hub's gateway by transit, spoke2 is peered without it; in the hub, u's table
 * drops one branch prefix, d's table disables gateway route propagation. */
#define GW                                                                                                   \
	"name: gw\n"                                                                                         \
	"vnets:\n"                                                                                           \
	"  - name: hub\n"                                                                                    \
	"    addressSpace: [10.0.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27}\n"                                      \
	"      - {name: s, addressPrefix: 10.0.1.0/24}\n"                                                    \
	"      - {name: u, addressPrefix: 10.0.2.0/24, routeTable: rt-u}\n"                                  \
	"      - {name: d, addressPrefix: 10.0.3.0/24, routeTable: rt-d}\n"                                  \
	"    virtualNetworkPeerings:\n"                                                                      \
	"      - {name: to-spoke, remoteVirtualNetwork: spoke, allowGatewayTransit: true}\n"                 \
	"      - {name: to-spoke2, remoteVirtualNetwork: spoke2}\n"                                          \
	"  - name: spoke\n"                                                                                  \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets: [{name: s, addressPrefix: 10.1.1.0/24}]\n"                                             \
	"    virtualNetworkPeerings: [{name: to-hub, remoteVirtualNetwork: hub, useRemoteGateways: true}]\n" \
	"  - name: spoke2\n"                                                                                 \
	"    addressSpace: [10.2.0.0/16]\n"                                                                  \
	"    subnets: [{name: s, addressPrefix: 10.2.1.0/24}]\n"                                             \
	"    virtualNetworkPeerings: [{name: to-hub, remoteVirtualNetwork: hub}]\n"                          \
	"routeTables:\n"                                                                                     \
	"  - name: rt-u\n"                                                                                   \
	"    routes: [{name: drop-branch, addressPrefix: 192.168.10.0/24, nextHopType: None}]\n"             \
	"  - name: rt-d\n"                                                                                   \
	"    disableBgpRoutePropagation: true\n"                                                             \
	"    routes: [{name: web, addressPrefix: 203.0.113.0/24, nextHopType: Internet}]\n"                  \
	"virtualNetworkGateways: [{name: vpn, vnet: hub}]\n"                                                 \
	"localNetworkGateways:\n"                                                                            \
	"  - {name: branch, addressPrefixes: [192.168.10.0/24, 192.168.20.0/24]}\n"                          \
	"  - {name: dc, addressPrefixes: [172.16.0.0/12]}\n"                                                 \
	"connections:\n"                                                                                     \
	"  - {name: to-branch, virtualNetworkGateway: vpn, localNetworkGateway: branch}\n"                   \
	"  - {name: to-dc, virtualNetworkGateway: vpn, localNetworkGateway: dc}\n"

/* A hub with both a VPN and an ExpressRoute gateway (spec 13.2 allows one of each). */
#define TWO_GW                                                                                               \
	"name: twogw\n"                                                                                      \
	"vnets:\n"                                                                                           \
	"  - name: hub\n"                                                                                    \
	"    addressSpace: [10.0.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: GatewaySubnet, addressPrefix: 10.0.255.0/27}\n"                                      \
	"      - {name: s, addressPrefix: 10.0.1.0/24}\n"                                                    \
	"virtualNetworkGateways:\n"                                                                          \
	"  - {name: vpn, vnet: hub, gatewayType: Vpn}\n"                                                     \
	"  - {name: er, vnet: hub, gatewayType: ExpressRoute}\n"                                             \
	"localNetworkGateways:\n"                                                                            \
	"  - {name: branch, addressPrefixes: [192.168.10.0/24]}\n"                                           \
	"  - {name: dc, addressPrefixes: [172.16.0.0/24]}\n"                                                 \
	"connections:\n"                                                                                     \
	"  - {name: to-branch, virtualNetworkGateway: vpn, localNetworkGateway: branch}\n"                   \
	"  - {name: to-dc, virtualNetworkGateway: er, localNetworkGateway: dc, connectionType: "             \
	"ExpressRoute}\n"

/* A kubenet cluster in subnet aks; subnet other and the peered VNet p have no pod routes. */
#define KUBE                                                                                                 \
	"name: kube\n"                                                                                       \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.10.0.0/16]\n"                                                                 \
	"    subnets:\n"                                                                                     \
	"      - {name: aks, addressPrefix: 10.10.1.0/24}\n"                                                 \
	"      - {name: other, addressPrefix: 10.10.2.0/24}\n"                                               \
	"    virtualNetworkPeerings: [{name: to-p, remoteVirtualNetwork: p}]\n"                              \
	"  - name: p\n"                                                                                      \
	"    addressSpace: [10.20.0.0/16]\n"                                                                 \
	"    subnets: [{name: s, addressPrefix: 10.20.1.0/24}]\n"                                            \
	"    virtualNetworkPeerings: [{name: to-v, remoteVirtualNetwork: v}]\n"                              \
	"aksClusters:\n"                                                                                     \
	"  - {name: k, subnet: aks, networkPlugin: kubenet, nodeCount: 2}\n"                                 \
	"  - {name: z, subnet: p/s, networkPlugin: azure, nodeCount: 1}\n"

/* VNet spaces containing reserved ranges: 10.0.0.0/8 whole, and a /24 of 192.168/16. */
#define BIG                                                                                                  \
	"name: big\n"                                                                                        \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.0.0.0/8, 192.168.1.0/24]\n"                                                   \
	"    subnets: [{name: s, addressPrefix: 10.1.1.0/24}]\n"

/* Public address spaces in Azure and on premises, and a route table that must not shrink Internet. */
#define PUBLIC                                                                                               \
	"name: pub\n"                                                                                        \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [20.1.0.0/16, 10.1.0.0/16]\n"                                                     \
	"    subnets:\n"                                                                                     \
	"      - {name: GatewaySubnet, addressPrefix: 10.1.255.0/27}\n"                                      \
	"      - {name: s, addressPrefix: 20.1.1.0/24, routeTable: rt}\n"                                    \
	"      - {name: nva, addressPrefix: 10.1.1.0/24}\n"                                                  \
	"routeTables:\n"                                                                                     \
	"  - name: rt\n"                                                                                     \
	"    routes:\n"                                                                                      \
	"      - {name: default, addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance,\n"                 \
	"         nextHopIpAddress: 10.1.1.4}\n"                                                             \
	"      - {name: google, addressPrefix: 8.8.0.0/16, nextHopType: None}\n"                             \
	"vms: [{name: nva1, subnet: nva, enableIpForwarding: true}]\n"                                       \
	"virtualNetworkGateways: [{name: vpn, vnet: v}]\n"                                                   \
	"localNetworkGateways: [{name: branch, addressPrefixes: [30.1.0.0/16]}]\n"                           \
	"connections: [{name: c, virtualNetworkGateway: vpn, localNetworkGateway: branch}]\n"

/* ---- effective routes ---- */

struct route_row {
	const char *id;
	const char *yaml;
	const char *subnet; /* "VNET/SUBNET" or a unique name */
	const char *dst;
	const char *prefix; /* the active route's prefix; NULL: no route at all */
	const char *hop;    /* vl_nh_name() */
	const char *source; /* vl_route_src_name() */
	const char *hop_ip; /* NULL: not checked */
	const char *via;    /* remote_vnet's name, "" for VL_NONE; NULL: not checked */
	const char *loser;  /* "Source Hop" of an inactive route with the same prefix, NULL: none asked */
	const char *absent; /* "prefix Source Hop" the scope must not hold at all, NULL: none asked */
};

static const struct route_row route_rows[] = {
    /* 19.1 system routes, 19.3 selection */
    {"longest prefix: the VNet range beats 10/8 None", ONE, "b", "10.1.1.9", "10.1.0.0/16", "VnetLocal",
     "Default", "0.0.0.0", "", NULL, NULL},
    {"a private address outside the VNet: 10/8 None", ONE, "b", "10.2.0.1", "10.0.0.0/8", "None", "Default",
     "0.0.0.0", NULL, NULL, NULL},
    {"172.16/12 None", ONE, "b", "172.20.0.1", "172.16.0.0/12", "None", "Default", NULL, NULL, NULL, NULL},
    {"192.168/16 None", ONE, "b", "192.168.7.7", "192.168.0.0/16", "None", "Default", NULL, NULL, NULL, NULL},
    {"100.64/10 None", ONE, "b", "100.100.1.1", "100.64.0.0/10", "None", "Default", NULL, NULL, NULL, NULL},
    {"0.0.0.0/0 Internet", ONE, "b", "203.0.113.9", "0.0.0.0/0", "Internet", "Default", "0.0.0.0", "", NULL,
     NULL},
    /* 19.2 UDR next hops, 19.3 ties */
    {"tie User > System: a UDR on the VNet range wins, VnetLocal stays inactive", ONE, "a", "10.1.2.5",
     "10.1.0.0/16", "VirtualAppliance", "User", "10.1.3.4", NULL, "Default VnetLocal", NULL},
    {"VnetLocal UDR exempts a /24 from the /16 sent to the appliance", ONE, "a", "10.1.3.4", "10.1.3.0/24",
     "VnetLocal", "User", NULL, NULL, NULL, NULL},
    {"a None UDR drops", ONE, "a", "10.60.1.1", "10.60.0.0/16", "None", "User", NULL, NULL, NULL, NULL},
    {"a 0/0 UDR to an appliance overrides the Internet route", ONE, "f", "203.0.113.9", "0.0.0.0/0",
     "VirtualAppliance", "User", "10.1.3.4", NULL, "Default Internet", NULL},
    {"per-subnet UDRs: b does not see a's table", ONE, "b", "10.60.1.1", "10.0.0.0/8", "None", "Default",
     NULL, NULL, NULL, "10.60.0.0/16 User None"},
    {"per-subnet UDRs: f does not see a's table either", ONE, "f", "10.1.2.5", "10.1.0.0/16", "VnetLocal",
     "Default", NULL, NULL, NULL, NULL},
    /* 12.2 peering */
    {"peered both sides: VNetPeering route to b", PEERS, "a/s", "10.2.0.9", "10.2.0.0/24", "VNetPeering",
     "Default", "0.0.0.0", "b", NULL, NULL},
    {"peered both sides: and back from b to a", PEERS, "b/s", "10.1.0.9", "10.1.0.0/24", "VNetPeering",
     "Default", NULL, "a", NULL, NULL},
    {"peered one side only (a to d): no route, 10/8 None", PEERS, "a/s", "10.4.0.9", "10.0.0.0/8", "None",
     "Default", NULL, NULL, NULL, "10.4.0.0/24 Default VNetPeering"},
    {"peered one side only: nothing from d either", PEERS, "d/s", "10.1.0.9", "10.0.0.0/8", "None", "Default",
     NULL, NULL, NULL, NULL},
    {"non-transitive: a-b and b-c give a no route to c", PEERS, "a/s", "10.3.0.9", "10.0.0.0/8", "None",
     "Default", NULL, NULL, NULL, "10.3.0.0/24 Default VNetPeering"},
    {"non-transitive: nor c to a", PEERS, "c/s", "10.1.0.9", "10.0.0.0/8", "None", "Default", NULL, NULL,
     NULL, NULL},
    {"allowVirtualNetworkAccess false keeps the route", PEERS, "a/s", "10.5.0.9", "10.5.0.0/24",
     "VNetPeering", "Default", NULL, "e", NULL, NULL},
    /* 13.2 gateways, 12.5 transit */
    {"local network gateway prefix: VirtualNetworkGateway via the gateway's .4", GW, "hub/s", "192.168.10.5",
     "192.168.10.0/24", "VirtualNetworkGateway", "VirtualNetworkGateway", "10.0.255.4", "hub", NULL, NULL},
    {"tie User > gateway: a None UDR on a branch prefix, the gateway route inactive", GW, "hub/u",
     "192.168.10.5", "192.168.10.0/24", "None", "User", NULL, NULL,
     "VirtualNetworkGateway VirtualNetworkGateway", NULL},
    {"a route table without disableBgpRoutePropagation keeps the other gateway routes", GW, "hub/u",
     "192.168.20.5", "192.168.20.0/24", "VirtualNetworkGateway", "VirtualNetworkGateway", "10.0.255.4", NULL,
     NULL, NULL},
    {"tie gateway > System: an on-premises 172.16/12, the system None inactive", GW, "hub/s", "172.20.0.1",
     "172.16.0.0/12", "VirtualNetworkGateway", "VirtualNetworkGateway", "10.0.255.4", NULL, "Default None",
     NULL},
    {"disableBgpRoutePropagation keeps gateway routes out", GW, "hub/d", "192.168.20.5", "192.168.0.0/16",
     "None", "Default", NULL, NULL, NULL, "192.168.20.0/24 VirtualNetworkGateway VirtualNetworkGateway"},
    {"gateway transit: the spoke gets the hub's gateway routes", GW, "spoke/s", "192.168.20.5",
     "192.168.20.0/24", "VirtualNetworkGateway", "VirtualNetworkGateway", "10.0.255.4", "hub", NULL, NULL},
    {"no transit (spoke2 without useRemoteGateways): no gateway routes", GW, "spoke2/s", "192.168.20.5",
     "192.168.0.0/16", "None", "Default", NULL, NULL, NULL,
     "192.168.20.0/24 VirtualNetworkGateway VirtualNetworkGateway"},
    {"VPN and ExpressRoute gateways in one VNet: the VPN connection's routes", TWO_GW, "hub/s",
     "192.168.10.5", "192.168.10.0/24", "VirtualNetworkGateway", "VirtualNetworkGateway", NULL, "hub", NULL,
     NULL},
    {"VPN and ExpressRoute gateways in one VNet: the ExpressRoute connection's routes too", TWO_GW, "hub/s",
     "172.16.0.5", "172.16.0.0/24", "VirtualNetworkGateway", "VirtualNetworkGateway", NULL, "hub", NULL,
     NULL},
    /* 23.4 kubenet */
    {"kubenet: a pod /24 via its node, in the cluster's subnet", KUBE, "aks", "10.244.1.7", "10.244.1.0/24",
     "VirtualAppliance", "User", "10.10.1.5", NULL, NULL, NULL},
    {"kubenet: node 0's /24 via node 0", KUBE, "aks", "10.244.0.7", "10.244.0.0/24", "VirtualAppliance",
     "User", "10.10.1.4", NULL, NULL, NULL},
    {"kubenet: from another subnet a pod address hits 10/8 None", KUBE, "other", "10.244.1.7", "10.0.0.0/8",
     "None", "Default", NULL, NULL, NULL, "10.244.1.0/24 User VirtualAppliance"},
    {"kubenet: from a peered VNet too", KUBE, "p/s", "10.244.1.7", "10.0.0.0/8", "None", "Default", NULL,
     NULL, NULL, NULL},
    /* 19.1 reserved ranges */
    {"an address space of 10.0.0.0/8 replaces the 10/8 None route", BIG, "s", "10.200.0.1", "10.0.0.0/8",
     "VnetLocal", "Default", NULL, NULL, NULL, "10.0.0.0/8 Default None"},
    {"a /24 of 192.168/16 in the space is VnetLocal", BIG, "s", "192.168.1.9", "192.168.1.0/24", "VnetLocal",
     "Default", NULL, NULL, NULL, NULL},
    {"the rest of 192.168/16 stays None", BIG, "s", "192.168.2.9", "192.168.0.0/16", "None", "Default", NULL,
     NULL, NULL, NULL},
    {"other reserved ranges stay None", BIG, "s", "172.16.0.1", "172.16.0.0/12", "None", "Default", NULL,
     NULL, NULL, NULL},
};

#define N_ROUTE_ROWS (sizeof(route_rows) / sizeof(route_rows[0]))

/* Criterion may re-exec the test binary: pass indexes, not pointers. */
static struct criterion_test_params indexes(size_t n)
{
	size_t *idx = cr_malloc(n * sizeof(*idx));

	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, n);
}

static uint32_t ip_of(const char *s)
{
	uint32_t ip;

	cr_assert_eq(vl_ip_parse(s, &ip), 0, "bad address %s", s);
	return ip;
}

static int scope_of(const struct vl_lab *lab, const char *subnet)
{
	int s = vl_lab_find_subnet(lab, subnet);

	cr_assert_neq(s, VL_NONE, "no subnet %s", subnet);
	return lab->eff->subnet_scope[s];
}

/* "prefix Source Hop" of a route. */
static void route_words(const struct vl_eroute *r, char *buf, size_t len)
{
	char p[VL_PREFIX_STRLEN];

	snprintf(buf, len, "%s %s %s", vl_prefix_fmt(r->prefix, p), vl_route_src_name(r->source),
		 vl_nh_name(r->hop));
}

static const char *vnet_name(const struct vl_lab *lab, int v)
{
	return v == VL_NONE ? "" : lab->vnets[v].name;
}

ParameterizedTestParameters(effective, route)
{
	return indexes(N_ROUTE_ROWS);
}

ParameterizedTest(size_t *i, effective, route)
{
	const struct route_row *row = &route_rows[*i];
	struct vl_lab *lab = th_load(row->yaml);
	int k = scope_of(lab, row->subnet);
	const struct vl_scope *sc = &lab->eff->scopes[k];
	const struct vl_eroute *r = vl_eff_route(lab->eff, k, ip_of(row->dst));
	char p[VL_PREFIX_STRLEN], a[VL_IP_STRLEN], w[96], want[96];

	if (!row->prefix) {
		cr_assert_null(r, "%s: want no route", row->id);
		vl_lab_free(lab);
		return;
	}
	cr_assert_not_null(r, "%s: no route to %s", row->id, row->dst);
	route_words(r, w, sizeof(w));
	snprintf(want, sizeof(want), "%s %s %s", row->prefix, row->source, row->hop);
	cr_assert_str_eq(w, want, "%s: route to %s\n  got  %s\n  want %s", row->id, row->dst, w, want);
	cr_assert(r->active, "%s", row->id);
	if (row->hop_ip)
		cr_assert_str_eq(vl_ip_fmt(r->hop_ip, a), row->hop_ip, "%s: next hop IP", row->id);
	if (row->via)
		cr_assert_str_eq(vnet_name(lab, r->remote_vnet), row->via, "%s: remote VNet", row->id);
	if (row->loser) {
		bool found = false;

		snprintf(want, sizeof(want), "%s %s", vl_prefix_fmt(r->prefix, p), row->loser);
		for (size_t j = 0; j < sc->n_routes; j++) {
			route_words(&sc->routes[j], w, sizeof(w));
			found |= !sc->routes[j].active && !strcmp(w, want);
		}
		cr_assert(found, "%s: no inactive route %s in the scope", row->id, want);
	}
	for (size_t j = 0; row->absent && j < sc->n_routes; j++) {
		route_words(&sc->routes[j], w, sizeof(w));
		cr_assert_str_neq(w, row->absent, "%s: the scope holds %s (active %d)", row->id, w,
				  sc->routes[j].active);
	}
	vl_lab_free(lab);
}

/* Every scope keeps its routes longest prefix first, one active route per prefix. */
Test(effective, routes_sorted_one_active_per_prefix)
{
	const char *yamls[] = {ONE, PEERS, GW, KUBE, BIG, PUBLIC};

	for (size_t y = 0; y < sizeof(yamls) / sizeof(yamls[0]); y++) {
		struct vl_lab *lab = th_load(yamls[y]);

		for (size_t k = 0; k < lab->eff->n_scopes; k++) {
			const struct vl_scope *sc = &lab->eff->scopes[k];

			for (size_t j = 0; j < sc->n_routes; j++) {
				const struct vl_eroute *r = &sc->routes[j];
				size_t active = 0;

				cr_assert(j == 0 || sc->routes[j - 1].prefix.len >= r->prefix.len,
					  "%s: scope %zu", lab->name, k);
				for (size_t m = 0; m < sc->n_routes; m++)
					active += sc->routes[m].active &&
						  sc->routes[m].prefix.addr == r->prefix.addr &&
						  sc->routes[m].prefix.len == r->prefix.len;
				cr_assert_eq(active, 1, "%s: scope %zu", lab->name, k);
			}
		}
		vl_lab_free(lab);
	}
}

/* ---- peering states (12.1) ---- */

Test(effective, peering_state_initiated_until_both_sides)
{
	struct vl_lab *lab = th_load(PEERS);
	int a = vl_lab_find_vnet(lab, "a");

	cr_assert_str_eq(lab->vnets[a].peerings[0].name, "to-b");
	cr_assert_str_eq(vl_peer_state_name(lab->eff->peer_state[a][0]), "Connected");
	cr_assert_str_eq(lab->vnets[a].peerings[1].name, "to-d");
	cr_assert_str_eq(vl_peer_state_name(lab->eff->peer_state[a][1]), "Initiated");
	cr_assert(!vl_eff_peered(lab, a, vl_lab_find_vnet(lab, "d")));
	cr_assert(vl_eff_peered(lab, a, vl_lab_find_vnet(lab, "b")));
	vl_lab_free(lab);
}

/* ---- the VirtualNetwork tag per subnet (12.6, 23.5) ---- */

struct tag_row {
	const char *id;
	const char *yaml;
	const char *subnet;
	const char *addr;
	bool in;
};

static const struct tag_row tag_rows[] = {
    {"the VNet's own range", ONE, "b", "10.1.9.9", true},
    {"168.63.129.16", ONE, "b", "168.63.129.16", true},
    {"168.63.129.16 is a /32", ONE, "b", "168.63.129.17", false},
    {"a private address outside the VNet", ONE, "b", "10.2.0.1", false},
    {"the prefixes of the subnet's own route table", ONE, "a", "10.60.1.1", true},
    {"not another subnet's route table", ONE, "b", "10.60.1.1", false},
    {"a 0/0 UDR puts everything in the tag (forced tunnelling)", ONE, "f", "203.0.113.9", true},
    {"but only in its own subnets", ONE, "b", "203.0.113.9", false},
    {"a peer reached with access allowed", PEERS, "a/s", "10.2.0.9", true},
    {"allowVirtualNetworkAccess false removes the peer from the tag", PEERS, "a/s", "10.5.0.9", false},
    {"the peer's own side has access: a is in e's tag", PEERS, "e/s", "10.1.0.9", true},
    {"a one-sided peering adds nothing", PEERS, "a/s", "10.4.0.9", false},
    {"nor on the other side", PEERS, "d/s", "10.1.0.9", false},
    {"no transitive peer", PEERS, "a/s", "10.3.0.9", false},
    {"gateway prefixes the subnet sees", GW, "hub/s", "192.168.20.5", true},
    {"a UDR's prefix though it drops", GW, "hub/u", "192.168.10.5", true},
    {"gateway prefixes by transit", GW, "spoke/s", "192.168.20.5", true},
    {"no gateway prefixes without transit", GW, "spoke2/s", "192.168.20.5", false},
    {"no gateway prefixes with propagation disabled", GW, "hub/d", "192.168.20.5", false},
    {"the route table's prefix with propagation disabled", GW, "hub/d", "203.0.113.7", true},
    {"the spoke's peers: the hub", GW, "spoke/s", "10.0.1.4", true},
    {"but not the hub's other spoke", GW, "spoke/s", "10.2.1.4", false},
    {"kubenet: the cluster's pod routes are its route table", KUBE, "aks", "10.244.1.7", true},
    {"kubenet: not in another subnet's tag", KUBE, "other", "10.244.1.7", false},
};

#define N_TAG_ROWS (sizeof(tag_rows) / sizeof(tag_rows[0]))

ParameterizedTestParameters(effective, vnet_tag)
{
	return indexes(N_TAG_ROWS);
}

ParameterizedTest(size_t *i, effective, vnet_tag)
{
	const struct tag_row *row = &tag_rows[*i];
	struct vl_lab *lab = th_load(row->yaml);
	int k = scope_of(lab, row->subnet);

	cr_assert_eq(vl_eff_in_vnet_tag(lab->eff, k, ip_of(row->addr)), row->in,
		     "%s: %s %s VirtualNetwork of %s", row->id, row->addr, row->in ? "not in" : "in",
		     row->subnet);
	vl_lab_free(lab);
}

/* ---- the Internet tag (23.6), lab-wide ---- */

struct inet_row {
	const char *addr;
	bool internet;
};

static const struct inet_row inet_rows[] = {
    {"203.0.113.9", true},	{"192.0.2.10", true},	    {"198.51.100.200", true},
    {"198.51.100.4", true},	{"8.8.8.8", true}, /* a 0/0 and an 8.8/16 UDR do not shrink it */
    {"100.63.255.255", true},	{"172.32.0.1", true},	    {"11.0.0.1", true},
    {"10.9.9.9", false},	{"172.16.0.1", false},	    {"172.31.255.255", false},
    {"192.168.1.1", false},	{"100.64.0.1", false},	    {"100.127.255.255", false},
    {"127.0.0.1", false},	{"169.254.169.254", false}, {"0.1.2.3", false},
    {"224.0.0.5", false},	{"239.255.255.250", false}, {"240.0.0.1", false},
    {"255.255.255.255", false}, {"20.1.2.3", false}, /* a VNet space */
    {"20.2.0.1", true},				     /* beside it */
    {"30.1.2.3", false},			     /* an on-premises space */
    {"168.63.129.16", true},			     /* public, in VirtualNetwork, and Internet too */
};

#define N_INET_ROWS (sizeof(inet_rows) / sizeof(inet_rows[0]))

ParameterizedTestParameters(effective, internet_tag)
{
	return indexes(N_INET_ROWS);
}

ParameterizedTest(size_t *i, effective, internet_tag)
{
	const struct inet_row *row = &inet_rows[*i];
	struct vl_lab *lab = th_load(PUBLIC);

	cr_assert_eq(vl_eff_is_internet(lab->eff, ip_of(row->addr)), row->internet,
		     "%s: Internet %d, want %d", row->addr, !row->internet, row->internet);
	vl_lab_free(lab);
}

/* ---- ip-masq-agent's nonMasqueradeCIDRs defaults (12.7) ---- */

struct masq_row {
	const char *id;
	const char *cluster;
	const char *dst;
	bool non_masq;
};

static const struct masq_row masq_rows[] = {
    {"kubenet: the pod CIDR is not masqueraded", "k", "10.244.5.5", true},
    {"kubenet: its own VNet is", "k", "10.10.2.4", false},
    {"kubenet: the Internet is", "k", "203.0.113.9", false},
    {"Azure CNI: its VNet is not masqueraded", "z", "10.20.1.9", true},
    {"Azure CNI: the peered VNet is", "z", "10.10.2.4", false},
    {"Azure CNI: the Internet is", "z", "203.0.113.9", false},
};

#define N_MASQ_ROWS (sizeof(masq_rows) / sizeof(masq_rows[0]))

ParameterizedTestParameters(effective, non_masq)
{
	return indexes(N_MASQ_ROWS);
}

ParameterizedTest(size_t *i, effective, non_masq)
{
	const struct masq_row *row = &masq_rows[*i];
	struct vl_lab *lab = th_load(KUBE);
	int c = VL_NONE;

	for (size_t j = 0; j < lab->n_aks; j++)
		if (!strcmp(lab->aks[j].name, row->cluster))
			c = (int)j;
	cr_assert_neq(c, VL_NONE);
	cr_assert_eq(vl_eff_non_masq(lab->eff, c, ip_of(row->dst)), row->non_masq, "%s", row->id);
	vl_lab_free(lab);
}

/* ---- validation: VirtualAppliance next hops (23.9) ---- */

#define NVA_HUB(spoke_peering, nva_ip)                                                                       \
	"name: nva\n"                                                                                        \
	"vnets:\n"                                                                                           \
	"  - name: hub\n"                                                                                    \
	"    addressSpace: [10.0.0.0/16]\n"                                                                  \
	"    subnets: [{name: fw, addressPrefix: 10.0.1.0/24}]\n"                                            \
	"    virtualNetworkPeerings: [{name: to-spoke, remoteVirtualNetwork: spoke, allowForwardedTraffic: " \
	"true}]\n"                                                                                           \
	"  - name: spoke\n"                                                                                  \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets: [{name: app, addressPrefix: 10.1.1.0/24, routeTable: rt}]\n" spoke_peering             \
	"routeTables:\n"                                                                                     \
	"  - name: rt\n"                                                                                     \
	"    routes:\n"                                                                                      \
	"      - {name: via-fw, addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance,\n"                  \
	"         nextHopIpAddress: " nva_ip "}\n"                                                           \
	"vms: [{name: fw1, subnet: hub/fw, enableIpForwarding: true}]\n"
#define SPOKE_TO_HUB "    virtualNetworkPeerings: [{name: to-hub, remoteVirtualNetwork: hub}]\n"

Test(effective, appliance_in_a_peered_hub_accepted)
{
	struct vl_lab *lab = th_load(NVA_HUB(SPOKE_TO_HUB, "10.0.1.4"));
	int k = scope_of(lab, "spoke/app");
	const struct vl_eroute *r = vl_eff_route(lab->eff, k, ip_of("203.0.113.9"));
	char a[VL_IP_STRLEN];

	cr_assert_str_eq(vl_nh_name(r->hop), "VirtualAppliance");
	cr_assert_str_eq(vl_ip_fmt(r->hop_ip, a), "10.0.1.4");
	cr_assert_eq(vl_eff_appliance(lab, lab->eff->scopes[k].vnet, r->hop_ip),
		     vl_lab_find_endpoint(lab, "fw1"));
	vl_lab_free(lab);
}

struct nva_bad {
	const char *id;
	const char *yaml;
	const char *err; /* "line:col: message" prefix */
};

static const struct nva_bad nva_bad_rows[] = {
    {"no NIC holds the address", NVA_HUB(SPOKE_TO_HUB, "10.0.1.9"),
     "14:9: route 'via-fw' of route table 'rt': nextHopIpAddress 10.0.1.9 is not the address of a VM or node "
     "NIC in vnet 'spoke' or a VNet peered with it"},
    {"the NIC is in a VNet peered one side only", NVA_HUB("", "10.0.1.4"),
     "13:9: route 'via-fw' of route table 'rt': nextHopIpAddress 10.0.1.4 is not the address of a VM or node "
     "NIC in vnet 'spoke' or a VNet peered with it"},
};

#define N_NVA_BAD (sizeof(nva_bad_rows) / sizeof(nva_bad_rows[0]))

ParameterizedTestParameters(effective, appliance_refused)
{
	return indexes(N_NVA_BAD);
}

ParameterizedTest(size_t *i, effective, appliance_refused)
{
	const struct nva_bad *row = &nva_bad_rows[*i];
	const char *e = th_load_error(row->yaml);

	cr_assert_str_eq(e, row->err, "%s:\n  got  %s\n  want %s", row->id, e, row->err);
}
