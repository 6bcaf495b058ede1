// SPDX-License-Identifier: MIT
/*
 * Routing in real namespaces (spec §12, §13, §19, §23): VNet isolation and
 * overlapping spaces, peerings (both sides, one side, non-transitive),
 * appliances (UDR next hops, with and without IP forwarding, a hub NVA for its
 * spokes), on-premises through a VPN gateway and gateway transit, the
 * Internet (default outbound address, NSG drops, nobody home), AKS sources
 * across peerings and gateways, Azure DNS. Each test builds its own lab (own
 * name, shared fixture) and checks the kernel (probe and independent
 * witnesses: ping, curl, dig, /proc/net/snmp) and the evaluator (explain).
 * The last test runs every lab's flow table and asserts that explain and the
 * kernel agree on each flow.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"

#define PROBE_TIMEOUT_MS 1500

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                     */

static char *probe(const char *from, const char *to, int port, const char *proto)
{
	return th_probe(from, to, port, proto, PROBE_TIMEOUT_MS);
}

#define explain th_explain
#define assert_key th_assert_key

/* probe FROM TO:PORT must give `result` (and seenSource `seen` when not NULL). */
static void expect_probe(const char *from, const char *to, int port, const char *proto, const char *result,
			 const char *seen)
{
	char what[160], *p = probe(from, to, port, proto);

	snprintf(what, sizeof(what), "probe %s -> %s:%d/%s", from, to, port, proto);
	assert_key(p, "result", result, what);
	if (seen)
		assert_key(p, "seenSource", seen, what);
	free(p);
}

/* explain FROM TO:PORT must give `outcome` (and seenSource `seen` when not NULL). */
static void expect_explain(const char *from, const char *to, int port, const char *proto, const char *outcome,
			   const char *seen)
{
	char what[160], *e = explain(from, to, port, proto);

	snprintf(what, sizeof(what), "explain %s -> %s:%d/%s", from, to, port, proto);
	assert_key(e, "outcome", outcome, what);
	if (seen)
		assert_key(e, "seenSource", seen, what);
	free(e);
}

/* A shell command run inside an endpoint's namespace; its output. */
static char *in_ep(int *st, const char *ep, const char *cmd)
{
	return th_run(st, "ip netns exec vl-%s-%s sh -c '%s' 2>&1", th_lab.name, ep, cmd);
}

/* Packets the namespace of endpoint ep forwarded so far (Ip ForwDatagrams of /proc/net/snmp). */
static long forwarded(const char *ep)
{
	char *out = th_run(NULL,
			   "ip netns exec vl-%s-%s awk '/^Ip:/ {n++; if (n == 1) for (i = 1; i <= NF; i++) "
			   "if ($i == \"ForwDatagrams\") c = i; if (n == 2) print $c}' /proc/net/snmp",
			   th_lab.name, ep);
	long n = strtol(out, NULL, 10);

	free(out);
	return n;
}

/* What the kernel of a namespace routes: for a failure message. */
static char *diag(const char *ns)
{
	return th_run(NULL,
		      "echo '# ip -n %1$s rule'; ip -n %1$s rule; echo '# ip -n %1$s route show table all'; "
		      "ip -n %1$s route show table all | grep -v '^local\\|^broadcast\\|fe80\\|ff00'; 2>&1",
		      ns);
}

/* ------------------------------------------------------------------------------------------ */
/* The labs                                                                                    */

/* 1. Isolation: a and b overlap (10.50.0.0/16), c is private but not peered, d is public. */
#define ISO_TOPO                                                                                   \
	"vnets:\n"                                                                                 \
	"  - name: a\n"                                                                            \
	"    addressSpace: [10.50.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.50.1.0/24}]\n"                                  \
	"  - name: b\n"                                                                            \
	"    addressSpace: [10.50.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.50.1.0/24}]\n"                                  \
	"  - name: c\n"                                                                            \
	"    addressSpace: [10.51.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.51.1.0/24}]\n"                                  \
	"  - name: d\n"                                                                            \
	"    addressSpace: [20.1.0.0/16]\n"                                                        \
	"    subnets: [{name: s, addressPrefix: 20.1.1.0/24}]\n"                                   \
	"vms:\n"                                                                                   \
	"  - {name: a1, subnet: a/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: a2, subnet: a/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: b1, subnet: b/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: b2, subnet: b/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: c1, subnet: c/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: d1, subnet: d/s, app: echo, ports: [7]}\n"
/* a1 10.50.1.4, a2 10.50.1.5, b1 10.50.1.4, b2 10.50.1.5, c1 10.51.1.4, d1 20.1.1.4 */

/* 2-3. Peerings: a-b and b-c both sides, a-d only on a's side (Initiated). */
#define PEER_TOPO                                                                                  \
	"vnets:\n"                                                                                 \
	"  - name: a\n"                                                                            \
	"    addressSpace: [10.60.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.60.1.0/24}]\n"                                  \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: a-to-b, remoteVirtualNetwork: b}\n"                                        \
	"      - {name: a-to-d, remoteVirtualNetwork: d}\n"                                        \
	"  - name: b\n"                                                                            \
	"    addressSpace: [10.61.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.61.1.0/24}]\n"                                  \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: b-to-a, remoteVirtualNetwork: a}\n"                                        \
	"      - {name: b-to-c, remoteVirtualNetwork: c}\n"                                        \
	"  - name: c\n"                                                                            \
	"    addressSpace: [10.62.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.62.1.0/24}]\n"                                  \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: c-to-b, remoteVirtualNetwork: b}\n"                                        \
	"  - name: d\n"                                                                            \
	"    addressSpace: [10.63.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.63.1.0/24}]\n"                                  \
	"vms:\n"                                                                                   \
	"  - {name: a1, subnet: a/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: b1, subnet: b/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: c1, subnet: c/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: d1, subnet: d/s, app: echo, ports: [7]}\n"
/* a1 10.60.1.4, b1 10.61.1.4, c1 10.62.1.4, d1 10.63.1.4 */

/*
 * 4. Appliances. In hub: subnet app routes web's prefix to nva1 (forwards; its
 * NIC NSG denies TCP 5001), subnet app2 routes it to plain1 (no IP
 * forwarding), subnet app3 sends 0.0.0.0/0 to nva1. Spokes s1, s2 reach each
 * other through the hub's nva1 (peered both sides, forwarded traffic allowed).
 */
#define NVA_TOPO                                                                                   \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    addressSpace: [10.70.0.0/16]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: nva, addressPrefix: 10.70.1.0/24}\n"                                       \
	"      - {name: app, addressPrefix: 10.70.2.0/24, routeTable: rt-app}\n"                   \
	"      - {name: web, addressPrefix: 10.70.3.0/24}\n"                                       \
	"      - {name: app2, addressPrefix: 10.70.4.0/24, routeTable: rt-app2}\n"                 \
	"      - {name: app3, addressPrefix: 10.70.5.0/24, routeTable: rt-app3}\n"                 \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: hub-to-s1, remoteVirtualNetwork: s1, allowForwardedTraffic: true}\n"       \
	"      - {name: hub-to-s2, remoteVirtualNetwork: s2, allowForwardedTraffic: true}\n"       \
	"  - name: s1\n"                                                                           \
	"    addressSpace: [10.71.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.71.1.0/24, routeTable: rt-s1}]\n"               \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: s1-to-hub, remoteVirtualNetwork: hub, allowForwardedTraffic: true}\n"      \
	"  - name: s2\n"                                                                           \
	"    addressSpace: [10.72.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.72.1.0/24, routeTable: rt-s2}]\n"               \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: s2-to-hub, remoteVirtualNetwork: hub, allowForwardedTraffic: true}\n"      \
	"networkSecurityGroups:\n"                                                                 \
	"  - name: nvaNic\n"                                                                       \
	"    securityRules:\n"                                                                     \
	"      - {name: nva-deny-5001, priority: 100, direction: Inbound, access: Deny, "          \
	"protocol: Tcp, sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '5001'}\n"                           \
	"      - {name: nva-allow-web-in, priority: 110, direction: Inbound, access: Allow, "      \
	"protocol: Tcp, sourceAddressPrefix: 10.70.5.0/24, sourcePortRange: '*', "                 \
	"destinationAddressPrefix: Internet, destinationPortRange: '80'}\n"                        \
	"routeTables:\n"                                                                           \
	"  - name: rt-app\n"                                                                       \
	"    routes:\n"                                                                            \
	"      - {name: web-via-nva, addressPrefix: 10.70.3.0/24, nextHopType: VirtualAppliance, " \
	"nextHopIpAddress: 10.70.1.4}\n"                                                           \
	"  - name: rt-app2\n"                                                                      \
	"    routes:\n"                                                                            \
	"      - {name: web-via-plain, addressPrefix: 10.70.3.0/24, nextHopType: VirtualAppliance, " \
	"nextHopIpAddress: 10.70.1.5}\n"                                                           \
	"  - name: rt-app3\n"                                                                      \
	"    routes:\n"                                                                            \
	"      - {name: all-via-nva, addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance, "    \
	"nextHopIpAddress: 10.70.1.4}\n"                                                           \
	"  - name: rt-s1\n"                                                                        \
	"    routes:\n"                                                                            \
	"      - {name: s2-via-hub, addressPrefix: 10.72.0.0/16, nextHopType: VirtualAppliance, "  \
	"nextHopIpAddress: 10.70.1.4}\n"                                                           \
	"  - name: rt-s2\n"                                                                        \
	"    routes:\n"                                                                            \
	"      - {name: s1-via-hub, addressPrefix: 10.71.0.0/16, nextHopType: VirtualAppliance, "  \
	"nextHopIpAddress: 10.70.1.4}\n"                                                           \
	"vms:\n"                                                                                   \
	"  - {name: nva1, subnet: hub/nva, enableIpForwarding: true, networkSecurityGroup: nvaNic, " \
	"app: echo, ports: [7]}\n"                                                                 \
	"  - {name: plain1, subnet: hub/nva, app: echo, ports: [7]}\n"                             \
	"  - {name: app1, subnet: hub/app, app: echo, ports: [7]}\n"                               \
	"  - {name: web1, subnet: hub/web, app: echo, ports: [7, 5001]}\n"                         \
	"  - {name: app2, subnet: hub/app2, app: echo, ports: [7]}\n"                              \
	"  - {name: app3, subnet: hub/app3, app: echo, ports: [7]}\n"                              \
	"  - {name: sp1, subnet: s1/s, app: echo, ports: [7]}\n"                                   \
	"  - {name: sp2, subnet: s2/s, app: echo, ports: [7]}\n"                                   \
	"internet:\n"                                                                              \
	"  hosts: [{name: web, address: 203.0.113.4, app: hello, ports: [80]}]\n"
/* nva1 10.70.1.4, plain1 10.70.1.5, app1 10.70.2.4, web1 10.70.3.4, app2 10.70.4.4,
 * app3 10.70.5.4, sp1 10.71.1.4, sp2 10.72.1.4 */

/* 5. On-premises: hub with a VPN gateway and branch; spoke t uses it (transit), spoke n does not. */
#define GW_TOPO                                                                                    \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    addressSpace: [10.80.0.0/16]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: GatewaySubnet, addressPrefix: 10.80.255.0/27}\n"                           \
	"      - {name: vms, addressPrefix: 10.80.1.0/24}\n"                                       \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: hub-to-t, remoteVirtualNetwork: t, allowGatewayTransit: true}\n"           \
	"      - {name: hub-to-n, remoteVirtualNetwork: n}\n"                                      \
	"  - name: t\n"                                                                            \
	"    addressSpace: [10.81.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.81.1.0/24}]\n"                                  \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: t-to-hub, remoteVirtualNetwork: hub, useRemoteGateways: true}\n"           \
	"  - name: n\n"                                                                            \
	"    addressSpace: [10.82.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.82.1.0/24}]\n"                                  \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: n-to-hub, remoteVirtualNetwork: hub}\n"                                    \
	"virtualNetworkGateways:\n"                                                                \
	"  - {name: hub-vpn, vnet: hub, gatewayType: Vpn}\n"                                       \
	"localNetworkGateways:\n"                                                                  \
	"  - name: branch\n"                                                                       \
	"    addressPrefixes: [192.168.50.0/24]\n"                                                 \
	"    hosts:\n"                                                                             \
	"      - {name: srv, address: 192.168.50.10, app: echo, ports: [7]}\n"                     \
	"      - {name: pc, app: hello, ports: [80]}\n"                                            \
	"connections:\n"                                                                           \
	"  - {name: hub-to-branch, virtualNetworkGateway: hub-vpn, localNetworkGateway: branch, "  \
	"connectionType: IPsec}\n"                                                                 \
	"vms:\n"                                                                                   \
	"  - {name: h1, subnet: hub/vms, app: echo, ports: [7]}\n"                                 \
	"  - {name: t1, subnet: t/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: n1, subnet: n/s, app: echo, ports: [7]}\n"
/* h1 10.80.1.4, t1 10.81.1.4, n1 10.82.1.4, srv 192.168.50.10, pc 192.168.50.4, gateway 10.80.255.4 */

/* 6, 8. The Internet and Azure DNS: v's subnet d denies Internet, then everything, outbound. */
#define NET_TOPO                                                                                   \
	"vnets:\n"                                                                                 \
	"  - name: v\n"                                                                            \
	"    addressSpace: [10.90.0.0/16]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: s, addressPrefix: 10.90.1.0/24}\n"                                         \
	"      - {name: d, addressPrefix: 10.90.2.0/24, networkSecurityGroup: dNsg}\n"             \
	"  - name: w\n"                                                                            \
	"    addressSpace: [10.91.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.91.1.0/24}]\n"                                  \
	"networkSecurityGroups:\n"                                                                 \
	"  - name: dNsg\n"                                                                         \
	"    securityRules:\n"                                                                     \
	"      - {name: deny-internet-out, priority: 100, direction: Outbound, access: Deny, "     \
	"protocol: '*', sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: Internet, destinationPortRange: '*'}\n"                         \
	"      - {name: deny-all-out, priority: 4000, direction: Outbound, access: Deny, "         \
	"protocol: '*', sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '*'}\n"                              \
	"vms:\n"                                                                                   \
	"  - {name: v1, subnet: v/s, app: echo, ports: [7]}\n"                                     \
	"  - {name: dv1, subnet: v/d, app: echo, ports: [7]}\n"                                    \
	"  - {name: w1, subnet: w/s, app: echo, ports: [7]}\n"                                     \
	"internet:\n"                                                                              \
	"  hosts:\n"                                                                               \
	"    - {name: web, address: 203.0.113.4, app: hello, ports: [80]}\n"                       \
	"    - {name: echo, address: 192.0.2.10, app: echo, ports: [7]}\n"
/* v1 10.90.1.4, dv1 10.90.2.4, w1 10.91.1.4; v's outbound 198.51.100.4, w's 198.51.100.5 */

/* 7. AKS: kubenet and Azure CNI clusters in a hub with a gateway, a peered VNet, a branch. */
#define AKS_TOPO                                                                                   \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    addressSpace: [10.100.0.0/16]\n"                                                      \
	"    subnets:\n"                                                                           \
	"      - {name: GatewaySubnet, addressPrefix: 10.100.255.0/27}\n"                          \
	"      - {name: kube, addressPrefix: 10.100.1.0/24}\n"                                     \
	"      - {name: cni, addressPrefix: 10.100.2.0/24}\n"                                      \
	"      - {name: vms, addressPrefix: 10.100.3.0/24}\n"                                      \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: hub-to-p, remoteVirtualNetwork: p}\n"                                      \
	"  - name: p\n"                                                                            \
	"    addressSpace: [10.101.0.0/16]\n"                                                      \
	"    subnets: [{name: s, addressPrefix: 10.101.1.0/24}]\n"                                 \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: p-to-hub, remoteVirtualNetwork: hub}\n"                                    \
	"virtualNetworkGateways:\n"                                                                \
	"  - {name: hub-vpn, vnet: hub}\n"                                                         \
	"localNetworkGateways:\n"                                                                  \
	"  - name: branch\n"                                                                       \
	"    addressPrefixes: [192.168.60.0/24]\n"                                                 \
	"    hosts: [{name: srv, address: 192.168.60.10, app: echo, ports: [7]}]\n"                \
	"connections:\n"                                                                           \
	"  - {name: hub-to-branch, virtualNetworkGateway: hub-vpn, localNetworkGateway: branch}\n" \
	"aksClusters:\n"                                                                           \
	"  - name: kn\n"                                                                           \
	"    subnet: kube\n"                                                                       \
	"    networkPlugin: kubenet\n"                                                             \
	"    nodeCount: 1\n"                                                                       \
	"    pods: [{name: kp}]\n"                                                                 \
	"  - name: az\n"                                                                           \
	"    subnet: cni\n"                                                                        \
	"    networkPlugin: azure\n"                                                               \
	"    nodeCount: 1\n"                                                                       \
	"    pods: [{name: cp}]\n"                                                                 \
	"vms:\n"                                                                                   \
	"  - {name: h1, subnet: hub/vms, app: echo, ports: [7]}\n"                                 \
	"  - {name: x1, subnet: p/s, app: echo, ports: [7]}\n"
/* kn-node-0 10.100.1.4 (kp 10.244.0.2), az-node-0 10.100.2.4 (cp 10.100.2.5), h1 10.100.3.4,
 * x1 10.101.1.4, srv 192.168.60.10 */

/*
 * Peering flags and route tables: s1 sends 0/0 and s3's prefix to the hub's
 * nva1; s3's peering refuses forwarded traffic; s4's peering has
 * allowVirtualNetworkAccess off; s5 uses the hub's gateway but its route
 * table disables propagation and drops a /24; s6 routes to s1 through nva1,
 * but s1 has no route back to s6 (10/8 None beats its 0/0 UDR).
 */
#define FLAGS_TOPO                                                                                 \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    addressSpace: [10.70.0.0/16]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: nva, addressPrefix: 10.70.1.0/24}\n"                                       \
	"      - {name: GatewaySubnet, addressPrefix: 10.70.255.0/27}\n"                           \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: hub-to-s1, remoteVirtualNetwork: s1, allowForwardedTraffic: true}\n"       \
	"      - {name: hub-to-s3, remoteVirtualNetwork: s3}\n"                                    \
	"      - {name: hub-to-s4, remoteVirtualNetwork: s4}\n"                                    \
	"      - {name: hub-to-s5, remoteVirtualNetwork: s5, allowGatewayTransit: true}\n"         \
	"      - {name: hub-to-s6, remoteVirtualNetwork: s6}\n"                                    \
	"  - name: s1\n"                                                                           \
	"    addressSpace: [10.71.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.71.1.0/24, routeTable: rt-s1}]\n"               \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: s1-to-hub, remoteVirtualNetwork: hub, allowForwardedTraffic: true}\n"      \
	"  - name: s3\n"                                                                           \
	"    addressSpace: [10.73.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.73.1.0/24, routeTable: rt-s3}]\n"               \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: s3-to-hub, remoteVirtualNetwork: hub, allowForwardedTraffic: false}\n"     \
	"  - name: s4\n"                                                                           \
	"    addressSpace: [10.74.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.74.1.0/24, networkSecurityGroup: s4Nsg}]\n"     \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: s4-to-hub, remoteVirtualNetwork: hub, allowVirtualNetworkAccess: false}\n" \
	"  - name: s5\n"                                                                           \
	"    addressSpace: [10.75.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.75.1.0/24, routeTable: rt-s5}]\n"               \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: s5-to-hub, remoteVirtualNetwork: hub, useRemoteGateways: true}\n"          \
	"  - name: s6\n"                                                                           \
	"    addressSpace: [10.76.0.0/16]\n"                                                       \
	"    subnets: [{name: s, addressPrefix: 10.76.1.0/24, routeTable: rt-s6}]\n"               \
	"    virtualNetworkPeerings:\n"                                                            \
	"      - {name: s6-to-hub, remoteVirtualNetwork: hub, allowForwardedTraffic: true}\n"      \
	"networkSecurityGroups:\n"                                                                 \
	"  - name: s4Nsg\n"                                                                        \
	"    securityRules:\n"                                                                     \
	"      - {name: allow-hub-5001, priority: 100, direction: Inbound, access: Allow, "        \
	"protocol: Tcp, sourceAddressPrefix: 10.70.0.0/16, sourcePortRange: '*', "                 \
	"destinationAddressPrefix: '*', destinationPortRange: '5001'}\n"                           \
	"  - name: nvaNic\n"                                                                       \
	"    securityRules:\n"                                                                     \
	"      - {name: nva-deny-out-5002, priority: 100, direction: Outbound, access: Deny, "     \
	"protocol: Tcp, sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '5002'}\n"                           \
	"      - {name: nva-allow-web-in, priority: 110, direction: Inbound, access: Allow, "      \
	"protocol: Tcp, sourceAddressPrefix: 10.71.0.0/16, sourcePortRange: '*', "                 \
	"destinationAddressPrefix: Internet, destinationPortRange: '80'}\n"                        \
	"routeTables:\n"                                                                           \
	"  - name: rt-s1\n"                                                                        \
	"    routes:\n"                                                                            \
	"      - {name: all-via-hub, addressPrefix: 0.0.0.0/0, nextHopType: VirtualAppliance, "    \
	"nextHopIpAddress: 10.70.1.4}\n"                                                           \
	"      - {name: s3-via-hub, addressPrefix: 10.73.0.0/16, nextHopType: VirtualAppliance, "  \
	"nextHopIpAddress: 10.70.1.4}\n"                                                           \
	"  - name: rt-s3\n"                                                                        \
	"    routes:\n"                                                                            \
	"      - {name: s1-via-hub, addressPrefix: 10.71.0.0/16, nextHopType: VirtualAppliance, "  \
	"nextHopIpAddress: 10.70.1.4}\n"                                                           \
	"  - name: rt-s5\n"                                                                        \
	"    disableBgpRoutePropagation: true\n"                                                   \
	"    routes:\n"                                                                            \
	"      - {name: drop-x, addressPrefix: 10.70.9.0/24, nextHopType: None}\n"                 \
	"  - name: rt-s6\n"                                                                        \
	"    routes:\n"                                                                            \
	"      - {name: s1-via-hub, addressPrefix: 10.71.0.0/16, nextHopType: VirtualAppliance, "  \
	"nextHopIpAddress: 10.70.1.4}\n"                                                           \
	"virtualNetworkGateways:\n"                                                                \
	"  - {name: vpn, vnet: hub, gatewayType: Vpn}\n"                                           \
	"localNetworkGateways:\n"                                                                  \
	"  - name: branch\n"                                                                       \
	"    addressPrefixes: [192.168.50.0/24]\n"                                                 \
	"    hosts: [{name: srv, address: 192.168.50.10, app: echo, ports: [7]}]\n"                \
	"connections:\n"                                                                           \
	"  - {name: c1, virtualNetworkGateway: vpn, localNetworkGateway: branch}\n"                \
	"vms:\n"                                                                                   \
	"  - {name: nva1, subnet: hub/nva, enableIpForwarding: true, networkSecurityGroup: nvaNic, " \
	"app: echo, ports: [7]}\n"                                                                 \
	"  - {name: h9, subnet: hub/nva, app: echo, ports: [7]}\n"                                 \
	"  - {name: sp1, subnet: s1/s, app: echo, ports: [7, 5002]}\n"                             \
	"  - {name: sp3, subnet: s3/s, app: echo, ports: [7, 5002]}\n"                             \
	"  - {name: sp4, subnet: s4/s, app: echo, ports: [7, 5001]}\n"                             \
	"  - {name: sp5, subnet: s5/s, app: echo, ports: [7]}\n"                                   \
	"  - {name: sp6, subnet: s6/s, app: echo, ports: [7]}\n"                                   \
	"internet:\n"                                                                              \
	"  hosts: [{name: web, address: 203.0.113.4, app: hello, ports: [80]}]\n"
/* nva1 10.70.1.4, h9 10.70.1.5, sp1 10.71.1.4, sp3 10.73.1.4, sp4 10.74.1.4, sp5 10.75.1.4,
 * sp6 10.76.1.4; hub's outbound address 198.51.100.4 */

/* Two gateways (Vpn and ExpressRoute) in one hub, as tests/data/good/routing.yaml has. */
#define TWOGW_TOPO                                                                                 \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    addressSpace: [10.86.0.0/16]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: GatewaySubnet, addressPrefix: 10.86.255.0/27}\n"                           \
	"      - {name: vms, addressPrefix: 10.86.1.0/24}\n"                                       \
	"virtualNetworkGateways:\n"                                                                \
	"  - {name: vpn, vnet: hub, gatewayType: Vpn}\n"                                           \
	"  - {name: er, vnet: hub, gatewayType: ExpressRoute}\n"                                   \
	"localNetworkGateways:\n"                                                                  \
	"  - name: branch\n"                                                                       \
	"    addressPrefixes: [192.168.70.0/24]\n"                                                 \
	"    hosts: [{name: bsrv, app: echo, ports: [7]}]\n"                                       \
	"  - name: dc\n"                                                                           \
	"    addressPrefixes: [172.16.7.0/24]\n"                                                   \
	"    hosts: [{name: dsrv, app: echo, ports: [7]}]\n"                                       \
	"connections:\n"                                                                           \
	"  - {name: to-branch, virtualNetworkGateway: vpn, localNetworkGateway: branch}\n"         \
	"  - {name: to-dc, virtualNetworkGateway: er, localNetworkGateway: dc, "                   \
	"connectionType: ExpressRoute}\n"                                                          \
	"vms:\n"                                                                                   \
	"  - {name: h1, subnet: hub/vms, app: echo, ports: [7]}\n"
/* h1 10.86.1.4, bsrv 192.168.70.4, dsrv 172.16.7.4 */

/* An ExpressRoute gateway alone; an on-premises host and no Internet host. */
#define ER_TOPO                                                                                    \
	"vnets:\n"                                                                                 \
	"  - name: hub\n"                                                                          \
	"    addressSpace: [10.85.0.0/16]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: GatewaySubnet, addressPrefix: 10.85.255.0/27}\n"                           \
	"      - {name: vms, addressPrefix: 10.85.1.0/24}\n"                                       \
	"virtualNetworkGateways:\n"                                                                \
	"  - {name: er, vnet: hub, gatewayType: ExpressRoute}\n"                                   \
	"localNetworkGateways:\n"                                                                  \
	"  - name: dc\n"                                                                           \
	"    addressPrefixes: [172.16.5.0/24]\n"                                                   \
	"    hosts: [{name: dca, app: echo, ports: [7]}]\n"                                        \
	"connections:\n"                                                                           \
	"  - {name: to-dc, virtualNetworkGateway: er, localNetworkGateway: dc, "                   \
	"connectionType: ExpressRoute}\n"                                                          \
	"vms:\n"                                                                                   \
	"  - {name: h1, subnet: vms, app: echo, ports: [7]}\n"
/* h1 10.85.1.4, dca 172.16.5.4 */

/* ------------------------------------------------------------------------------------------ */
/* The scenario tests                                                                          */

TestSuite(routing, .fini = th_lab_down, .timeout = 180);

Test(routing, vnets_without_peering_are_isolated_even_when_they_overlap)
{
	char *out;
	int st;

	th_lab_up("ri", ISO_TOPO);
	/* each VM reaches its own neighbour by name, the two 10.50.1.4 coexist */
	expect_probe("a1", "a2", 7, "tcp", "connected", "10.50.1.4");
	expect_probe("b1", "b2", 7, "tcp", "connected", "10.50.1.4");
	expect_probe("b2", "b1", 7, "tcp", "connected", "10.50.1.5");
	expect_probe("a2", "a1", 7, "udp", "connected", "10.50.1.5");
	/* an address names the holder in the sender's own VNet */
	expect_probe("a1", "10.50.1.5", 7, "tcp", "connected", "10.50.1.4");
	expect_probe("b1", "10.50.1.5", 7, "tcp", "connected", "10.50.1.4");
	/* independent witness: ping inside b1 reaches b2 (its own VNet), each has its own eth0 */
	out = in_ep(&st, "b1", "ping -c1 -W1 10.50.1.5 >/dev/null && ip -o -4 addr show eth0");
	cr_assert_eq(st, 0, "ping b1 -> 10.50.1.5: %s", out);
	cr_assert(strstr(out, "10.50.1.4/"), "b1 holds 10.50.1.4: %s", out);
	free(out);
	/* another private VNet, not peered: the None route of 10/8 */
	expect_probe("a1", "c1", 7, "tcp", "unreachable", NULL);
	expect_probe("c1", "a1", 7, "tcp", "unreachable", NULL);
	expect_explain("a1", "c1", 7, "tcp", "unreachable", NULL);
	out = in_ep(&st, "a1", "ping -c1 -W1 10.51.1.4");
	cr_assert_neq(st, 0, "ping a1 -> c1 answered: %s", out);
	free(out);
	/* ... and it answers every packet, a burst too: 30 pings 10 ms apart get 30 host unreachables
	 * (an `unreachable` route answered 5 of them: the kernel limits the errors of routes per source) */
	out = in_ep(&st, "a1", "ping -c 30 -i 0.01 -W 1 10.51.1.4 | grep -c 'Destination Host Unreachable'");
	cr_assert_eq(atoi(out), 30, "host unreachables for 30 pings to the None route: %s", out);
	free(out);
	/* a public VNet space: Internet route, nobody on the Internet holds it */
	expect_probe("a1", "d1", 7, "tcp", "timeout", NULL);
	expect_explain("a1", "d1", 7, "tcp", "nohost", NULL);
	expect_probe("d1", "a1", 7, "tcp", "unreachable", NULL);
}

/* "peeringState" in `show -o json` if it is there (another branch adds it); NULL if absent. */
static char *peering_state(const char *name)
{
	char *out = th_compact(th_run(NULL, "%s show %s -o json 2>&1", th_vnetlab(), th_lab.name)), *p, *v = NULL;
	char pat[96];

	snprintf(pat, sizeof(pat), "\"name\":\"%s\"", name);
	p = strstr(out, pat);
	if (p && strstr(p, "\"peeringState\":"))
		v = th_json_get(p, "peeringState");
	free(out);
	return v;
}

Test(routing, peering_needs_both_sides_and_is_not_transitive)
{
	char *out, *st_ab, *st_ad;
	int st;

	th_lab_up("rp", PEER_TOPO);
	expect_probe("a1", "b1", 7, "tcp", "connected", "10.60.1.4");
	expect_probe("b1", "a1", 7, "tcp", "connected", "10.61.1.4");
	expect_probe("b1", "c1", 7, "udp", "connected", "10.61.1.4");
	expect_probe("c1", "b1", 0, "icmp", "connected", NULL);
	out = in_ep(&st, "a1", "ping -c1 -W1 10.61.1.4");
	cr_assert_eq(st, 0, "ping a1 -> b1: %s", out);
	free(out);
	/* a-b and b-c do not make a-c */
	expect_probe("a1", "c1", 7, "tcp", "unreachable", NULL);
	expect_probe("c1", "a1", 7, "tcp", "unreachable", NULL);
	expect_explain("a1", "c1", 7, "tcp", "unreachable", NULL);
	/* a-d declared on a's side only: Initiated, no traffic either way */
	expect_probe("a1", "d1", 7, "tcp", "unreachable", NULL);
	expect_probe("d1", "a1", 7, "tcp", "unreachable", NULL);
	expect_explain("a1", "d1", 7, "tcp", "unreachable", NULL);
	/* the effective routes: a peering route toward b only */
	out = th_run(NULL, "%s routes %s a1 2>&1", th_vnetlab(), th_lab.name);
	cr_assert(strstr(out, "10.61.0.0/16") && strstr(out, "VNetPeering"), "a1's routes: %s", out);
	cr_assert_not(strstr(out, "10.62.0.0/16"), "a1 has a route to c: %s", out);
	cr_assert_not(strstr(out, "10.63.0.0/16"), "a1 has a route to d (Initiated): %s", out);
	free(out);
	/* the peering state, when show lists it */
	st_ab = peering_state("a-to-b");
	st_ad = peering_state("a-to-d");
	if (st_ab)
		cr_expect_str_eq(st_ab, "Connected", "a-to-b is %s", st_ab);
	if (st_ad)
		cr_expect_str_eq(st_ad, "Initiated", "a-to-d is %s", st_ad);
	if (!st_ab || !st_ad)
		cr_log_warn("show -o json lists no peeringState: that assertion skipped");
	free(st_ab);
	free(st_ad);
}

Test(routing, appliance_next_hop_forwards_only_with_ip_forwarding)
{
	char *p;
	long before, after;

	th_lab_up("rn", NVA_TOPO);
	/* app -> web through nva1: it gets there, with the original source, and nva1 forwarded it */
	before = forwarded("nva1");
	expect_probe("app1", "web1", 7, "tcp", "connected", "10.70.2.4");
	after = forwarded("nva1");
	cr_assert_gt(after, before, "nva1 forwarded nothing (%ld -> %ld)", before, after);
	expect_explain("app1", "web1", 7, "tcp", "delivered", "10.70.2.4");
	/* the appliance's inbound NSG judges the forwarded flow */
	p = probe("app1", "web1", 5001, "tcp");
	assert_key(p, "result", "dropped", "app1 -> web1:5001 through nva1");
	assert_key(p, "nsg", "nvaNic", "app1 -> web1:5001 through nva1");
	assert_key(p, "rule", "nva-deny-5001", "app1 -> web1:5001 through nva1");
	free(p);
	p = explain("app1", "web1", 5001, "tcp");
	assert_key(p, "outcome", "denied", "explain app1 -> web1:5001");
	assert_key(p, "rule", "nva-deny-5001", "explain app1 -> web1:5001");
	cr_assert(strstr(th_compact(p), "\"type\":\"appliance\""), "no appliance hop: %s", p);
	free(p);
	/* web1 -> app1 is direct (web's subnet has no route table): no forwarding needed either way */
	expect_probe("web1", "app1", 7, "tcp", "connected", "10.70.3.4");
	/* the appliance itself is an ordinary destination */
	expect_probe("app1", "nva1", 7, "tcp", "connected", "10.70.2.4");
	/* the same route to a VM without enableIpForwarding: dropped there */
	before = forwarded("plain1");
	expect_probe("app2", "web1", 7, "tcp", "unreachable", NULL);
	after = forwarded("plain1");
	cr_assert_eq(after, before, "plain1 forwarded (%ld -> %ld)", before, after);
	expect_explain("app2", "web1", 7, "tcp", "unreachable", NULL);
	/* 0.0.0.0/0 to the appliance: the VNet's own ranges stay VnetLocal, other traffic takes the NVA */
	expect_probe("app3", "web1", 7, "tcp", "connected", "10.70.5.4");
	/* a hub appliance serves its spokes (peered both sides, forwarded traffic allowed) */
	before = forwarded("nva1");
	expect_probe("sp1", "sp2", 7, "tcp", "connected", "10.71.1.4");
	expect_probe("sp2", "sp1", 7, "udp", "connected", "10.72.1.4");
	after = forwarded("nva1");
	cr_assert_gt(after, before, "nva1 forwarded nothing between the spokes (%ld -> %ld)", before, after);
	expect_explain("sp1", "sp2", 7, "tcp", "delivered", "10.71.1.4");
	p = probe("sp1", "sp2", 5001, "tcp");
	assert_key(p, "result", "dropped", "sp1 -> sp2:5001 through the hub's nva1");
	assert_key(p, "rule", "nva-deny-5001", "sp1 -> sp2:5001 through the hub's nva1");
	free(p);
}

Test(routing, on_premises_through_the_gateway_and_gateway_transit)
{
	char *out;
	int st;

	th_lab_up("rg", GW_TOPO);
	/* hub VM -> on-prem host: on-prem sees the VM's own address */
	expect_probe("h1", "srv", 7, "tcp", "connected", "10.80.1.4");
	expect_explain("h1", "srv", 7, "tcp", "delivered", "10.80.1.4");
	out = in_ep(&st, "h1", "curl -s --max-time 3 http://192.168.50.4/");
	cr_assert(strstr(out, "10.80.1.4"), "curl h1 -> pc: %s", out);
	free(out);
	/* on-prem host -> hub VM: the VM sees the on-prem address */
	expect_probe("srv", "h1", 7, "tcp", "connected", "192.168.50.10");
	expect_probe("pc", "h1", 7, "udp", "connected", "192.168.50.4");
	out = in_ep(&st, "pc", "ping -c1 -W1 10.80.1.4");
	cr_assert_eq(st, 0, "ping pc -> h1: %s", out);
	free(out);
	/* gateway transit: spoke t uses the hub's gateway */
	expect_probe("t1", "srv", 7, "tcp", "connected", "10.81.1.4");
	expect_probe("srv", "t1", 7, "tcp", "connected", "192.168.50.10");
	expect_explain("t1", "srv", 7, "tcp", "delivered", "10.81.1.4");
	out = th_run(NULL, "%s routes %s t1 2>&1", th_vnetlab(), th_lab.name);
	cr_assert(strstr(out, "192.168.50.0/24") && strstr(out, "VirtualNetworkGateway"), "t1's routes: %s", out);
	free(out);
	/* spoke n is peered with the hub but uses no remote gateway: no route to on-prem */
	expect_probe("n1", "srv", 7, "tcp", "unreachable", NULL);
	expect_explain("n1", "srv", 7, "tcp", "unreachable", NULL);
	expect_probe("srv", "n1", 7, "tcp", "unreachable", NULL);
	expect_explain("srv", "n1", 7, "tcp", "unreachable", NULL);
	/* but n and hub talk over their peering */
	expect_probe("n1", "h1", 7, "tcp", "connected", "10.82.1.4");
}

Test(routing, the_internet_default_outbound_nsg_and_nobody_home)
{
	char *out, *p;
	int st;

	th_lab_up("rw", NET_TOPO);
	/* SNAT at the VNet's edge to its default outbound address */
	expect_probe("v1", "web", 80, "tcp", "connected", "198.51.100.4");
	expect_explain("v1", "web", 80, "tcp", "delivered", "198.51.100.4");
	expect_probe("w1", "web", 80, "tcp", "connected", "198.51.100.5");
	expect_probe("w1", "echo", 7, "udp", "connected", "198.51.100.5");
	out = in_ep(&st, "v1", "curl -s --max-time 3 http://203.0.113.4/");
	cr_assert(strstr(out, "198.51.100.4"), "curl v1 -> web: %s", out);
	free(out);
	out = in_ep(&st, "v1", "ping -c1 -W1 192.0.2.10");
	cr_assert_eq(st, 0, "ping v1 -> echo: %s", out);
	free(out);
	/* an NSG outbound deny toward Internet: dropped with the rule, never refused */
	p = probe("dv1", "web", 80, "tcp");
	assert_key(p, "result", "dropped", "dv1 -> web:80");
	assert_key(p, "nsg", "dNsg", "dv1 -> web:80");
	assert_key(p, "rule", "deny-internet-out", "dv1 -> web:80");
	free(p);
	p = explain("dv1", "web", 80, "tcp");
	assert_key(p, "outcome", "denied", "explain dv1 -> web:80");
	assert_key(p, "rule", "deny-internet-out", "explain dv1 -> web:80");
	free(p);
	/* an Internet address nobody holds: lost at the edge, no refusal, no unreachable */
	expect_probe("v1", "203.0.113.99", 80, "tcp", "timeout", NULL);
	expect_explain("v1", "203.0.113.99", 80, "tcp", "nohost", NULL);
	/* nothing on the Internet reaches a private address, nor the outbound address unasked */
	expect_probe("web", "10.90.1.4", 7, "tcp", "timeout", NULL);
	expect_explain("web", "10.90.1.4", 7, "tcp", "nohost", NULL);
	expect_probe("echo", "198.51.100.4", 7, "tcp", "timeout", NULL);
}

Test(routing, aks_pods_toward_a_peered_vnet_and_on_premises_show_the_node)
{
	th_lab_up("rk", AKS_TOPO);
	/* kubenet: always the node */
	expect_probe("kp", "x1", 7, "tcp", "connected", "10.100.1.4");
	expect_probe("kp", "srv", 7, "tcp", "connected", "10.100.1.4");
	expect_probe("kp", "h1", 7, "tcp", "connected", "10.100.1.4");
	expect_explain("kp", "x1", 7, "tcp", "delivered", "10.100.1.4");
	expect_explain("kp", "srv", 7, "tcp", "delivered", "10.100.1.4");
	/* Azure CNI: the pod inside its own VNet, the node outside it */
	expect_probe("cp", "h1", 7, "tcp", "connected", "10.100.2.5");
	expect_probe("cp", "x1", 7, "tcp", "connected", "10.100.2.4");
	expect_probe("cp", "srv", 7, "tcp", "connected", "10.100.2.4");
	expect_explain("cp", "h1", 7, "tcp", "delivered", "10.100.2.5");
	expect_explain("cp", "x1", 7, "tcp", "delivered", "10.100.2.4");
	expect_explain("cp", "srv", 7, "tcp", "delivered", "10.100.2.4");
}

Test(routing, azure_dns_answers_through_an_nsg_that_denies_everything)
{
	char *out, *p;
	int st;

	th_lab_up("rd", NET_TOPO);
	/* dv1's subnet NSG denies all outbound: the platform address is exempt */
	p = probe("dv1", "168.63.129.16", 53, "udp");
	assert_key(p, "result", "connected", "dv1 -> 168.63.129.16:53/udp");
	free(p);
	expect_explain("dv1", "168.63.129.16", 53, "udp", "delivered", NULL);
	/* while an ordinary neighbour is denied */
	p = probe("dv1", "v1", 7, "tcp");
	assert_key(p, "result", "dropped", "dv1 -> v1:7");
	assert_key(p, "rule", "deny-all-out", "dv1 -> v1:7");
	free(p);
	out = in_ep(&st, "dv1", "dig +short +time=2 +tries=1 @168.63.129.16 dv1");
	cr_assert_eq(st, 0, "dig: %s", out);
	cr_assert_str_eq(out, "10.90.2.4\n", "dig dv1 from dv1");
	free(out);
	out = in_ep(&st, "dv1", "dig +short +time=2 +tries=1 @168.63.129.16 v1");
	cr_assert_str_eq(out, "10.90.1.4\n", "dig v1 from dv1");
	free(out);
	out = in_ep(&st, "v1", "dig +short +tcp +time=2 +tries=1 @168.63.129.16 v1");
	cr_assert_str_eq(out, "10.90.1.4\n", "dig over TCP v1 from v1");
	free(out);
	/* names are per VNet: w1 is not known in v */
	out = in_ep(&st, "v1", "dig +time=2 +tries=1 @168.63.129.16 w1 | grep -o NXDOMAIN");
	cr_assert_str_eq(out, "NXDOMAIN\n", "w1 from v: %s", out);
	free(out);
}

Test(routing, peering_access_off_untags_the_peer_and_propagation_off_keeps_gateway_routes_out)
{
	char *p, *out;

	th_lab_up("rf", FLAGS_TOPO);
	/* allowVirtualNetworkAccess off on s4's side: the route stays, the tag loses the hub */
	p = probe("h9", "sp4", 7, "tcp");
	assert_key(p, "result", "dropped", "h9 -> sp4:7 (access off)");
	assert_key(p, "rule", "DenyAllInBound", "h9 -> sp4:7 (access off)");
	free(p);
	expect_probe("h9", "sp4", 5001, "tcp", "connected", "10.70.1.5");
	p = probe("sp4", "h9", 7, "tcp");
	assert_key(p, "result", "dropped", "sp4 -> h9:7 (access off)");
	assert_key(p, "rule", "DenyAllOutBound", "sp4 -> h9:7 (access off)");
	free(p);
	/* useRemoteGateways, but the route table disables propagation: no route to on-premises */
	expect_probe("sp5", "srv", 7, "tcp", "unreachable", NULL);
	expect_explain("sp5", "srv", 7, "tcp", "unreachable", NULL);
	out = th_run(NULL, "%s routes %s sp5 2>&1", th_vnetlab(), th_lab.name);
	cr_assert_not(strstr(out, "192.168.50.0/24"), "sp5 has the gateway route: %s", out);
	free(out);
	/* a UDR None drops a /24 of the peered hub; the rest of the hub is reachable */
	expect_probe("sp5", "10.70.9.9", 7, "tcp", "unreachable", NULL);
	expect_explain("sp5", "10.70.9.9", 7, "tcp", "unreachable", NULL);
	expect_probe("sp5", "h9", 7, "tcp", "connected", "10.75.1.4");
	/* the appliance's NIC NSG outbound judges the second trip */
	p = probe("sp3", "sp1", 5002, "tcp");
	assert_key(p, "result", "dropped", "sp3 -> sp1:5002 (nva out)");
	assert_key(p, "rule", "nva-deny-out-5002", "sp3 -> sp1:5002 (nva out)");
	free(p);
}

/*
 * A spoke's 0/0 through the hub's appliance to the Internet: the appliance forwards with the
 * spoke's address, and the default outbound SNAT covers a NIC's own address only (spec 19.2:
 * the NVA must SNAT to itself), so no reply comes back. The kernel shows it the same way: the
 * SYN crosses the hub fabric twice and conntrack decides on the first pass (out a NIC: no SNAT),
 * so the packet leaves the edge untranslated and the Internet has no way back.
 */
Test(routing, spoke_through_the_hub_appliance_gets_no_internet_reply_without_snat)
{
	char *p, *e, *res;

	th_lab_up("rs", FLAGS_TOPO);
	e = explain("sp1", "web", 80, "tcp");
	res = th_json_get(e, "outcome");
	cr_expect_str_eq(res, "nohost", "explain: %s", e);
	free(res);
	cr_expect(strstr(e, "must SNAT"), "explain says why: %s", e);
	p = probe("sp1", "web", 80, "tcp");
	res = th_json_get(p, "result");
	cr_expect_str_eq(res, "timeout", "kernel: %s", p);
	free(res);
	free(e);
	free(p);
}

/*
 * Spec 12.4: with allowForwardedTraffic false on s3's peering to the hub, packets arriving in s3
 * from the hub whose source is outside the hub's ranges (sp1 10.71.1.4, forwarded by nva1) are
 * dropped.
 */
Test(routing, allow_forwarded_traffic_off_drops_what_the_hub_appliance_forwards)
{
	char *p, *e, *res, *out;

	th_lab_up("rz", FLAGS_TOPO);
	p = probe("sp1", "sp3", 7, "tcp");
	e = explain("sp1", "sp3", 7, "tcp");
	res = th_json_get(p, "result");
	out = th_json_get(e, "outcome");
	cr_expect(strcmp(res, "connected"), "kernel: sp1 -> sp3 through nva1 into s3 (allowForwardedTraffic "
					    "false) connected: %s",
		  p);
	cr_expect(strcmp(out, "delivered"), "explain: sp1 -> sp3 through nva1 into s3 (allowForwardedTraffic "
					    "false) delivered: %s",
		  e);
	free(res);
	free(out);
	free(p);
	free(e);
	/* control: s1 accepts forwarded traffic, so sp3 -> sp1 (reply forwarded into s3 again) fails too */
}

/*
 * Explain evaluates the return path too. sp6 -> sp1 goes through nva1 (rt-s6) and arrives; sp1's answer to
 * 10.76.1.4 takes sp1's own routes, where 10.0.0.0/8 None is longer than the
 * 0/0 UDR: the kernel drops the SYN-ACK in vl-LAB-fabric.s1 (table 1005
 * "unreachable 10.0.0.0/8", IcmpOutDestUnreachs rises), the probe times out,
 * while explain says delivered.
 */
Test(routing, explain_ignores_a_return_path_that_the_kernel_drops)
{
	char *p, *e, *res, *out, *snmp;

	th_lab_up("rr", FLAGS_TOPO);
	p = probe("sp6", "sp1", 7, "tcp");
	e = explain("sp6", "sp1", 7, "tcp");
	res = th_json_get(p, "result");
	out = th_json_get(e, "outcome");
	snmp = th_run(NULL, "ip netns exec vl-%s-fabric.s1 nstat -az IcmpOutDestUnreachs 2>&1 | tail -1",
		      th_lab.name);
	/* the kernel is right: no return route in Azure either */
	cr_expect_str_eq(res, "timeout", "kernel: %s", p);
	cr_expect(!(!strcmp(res, "timeout") && !strcmp(out, "delivered")),
		  "sp6 -> sp1:7: kernel %s, explain %s (no return path from s1 to s6; fabric.s1 %s)\nprobe: %s\n"
		  "explain: %s",
		  res, out, snmp, p, e);
	free(snmp);
	free(res);
	free(out);
	free(p);
	free(e);
}

/* A Vpn and an ExpressRoute gateway in one VNet take .4 and .5 of GatewaySubnet and both come up. */
Test(routing, vpn_and_expressroute_gateways_in_one_hub_come_up)
{
	th_lab_up("r2", TWOGW_TOPO);
	expect_probe("h1", "bsrv", 7, "tcp", "connected", "10.86.1.4");
	expect_probe("h1", "dsrv", 7, "tcp", "connected", "10.86.1.4");
	expect_probe("dsrv", "h1", 7, "tcp", "connected", "172.16.7.4");
	expect_explain("h1", "dsrv", 7, "tcp", "delivered", "10.86.1.4");
}

/* `up` and `show` of a lab with on-premises and Internet hosts (no subnet) do not crash. */
Test(routing, up_and_show_of_an_expressroute_lab_do_not_crash)
{
	char *out;
	int st;

	th_lab_write("re", ER_TOPO);
	out = th_run(&st, "%s up %s 2>&1", th_vnetlab(), th_lab.file);
	cr_expect_eq(st, 0, "up exited %d: %s", st, out);
	free(out);
	out = th_run(&st, "%s show %s 2>&1", th_vnetlab(), th_lab.name);
	cr_expect_eq(st, 0, "show exited %d: %s", st, out);
	free(out);
	/* the lab itself works */
	expect_probe("h1", "dca", 7, "tcp", "connected", "10.85.1.4");
	expect_probe("dca", "h1", 7, "tcp", "connected", "172.16.5.4");
	expect_explain("h1", "dca", 7, "tcp", "delivered", "10.85.1.4");
}

/* explain -o json route hops carry no key twice (routeSource beside the flow's source). */
Test(routing, explain_json_has_no_duplicate_keys)
{
	char *out, *path, *e;
	int st;

	th_lab_up("rj", PEER_TOPO);
	e = explain("a1", "b1", 7, "tcp");
	path = th_write_temp(e);
	out = th_run(&st,
		     "python3 -c 'import json,sys\n"
		     "def hook(pairs):\n"
		     "    keys = [k for k, _ in pairs]\n"
		     "    dup = sorted(set(k for k in keys if keys.count(k) > 1))\n"
		     "    if dup: print(\"duplicate keys:\", dup); sys.exit(1)\n"
		     "    return dict(pairs)\n"
		     "json.load(open(sys.argv[1]), object_pairs_hook=hook)' %s 2>&1",
		     path);
	cr_expect_eq(st, 0, "%s\n%s", out, e);
	unlink(path);
	free(path);
	free(out);
	free(e);
}

/* ------------------------------------------------------------------------------------------ */
/* 9. The agreement table: explain and the kernel, flow by flow, in every lab above            */

struct flow {
	const char *from, *to;
	int port; /* 0: icmp */
	const char *proto;
	const char *why;
};

static const struct flow iso_flows[] = {
    {"a1", "a2", 7, "tcp", "own VNet neighbour"},
    {"b1", "b2", 7, "tcp", "own VNet neighbour, same addresses as a's"},
    {"a1", "10.50.1.5", 7, "udp", "address resolved in the sender's VNet"},
    {"b2", "10.50.1.4", 0, "icmp", "address resolved in the sender's VNet"},
    {"a1", "c1", 7, "tcp", "not peered: None route of 10/8"},
    {"c1", "b1", 7, "udp", "not peered: None route of 10/8"},
    {"a1", "d1", 7, "tcp", "not peered, public space: the Internet, nobody there"},
    {"d1", "a1", 7, "tcp", "from a public space to 10/8: None"},
    {NULL},
};

static const struct flow peer_flows[] = {
    {"a1", "b1", 7, "tcp", "peered both sides"},
    {"b1", "a1", 7, "udp", "peered both sides"},
    {"b1", "c1", 0, "icmp", "peered both sides"},
    {"c1", "b1", 7, "tcp", "peered both sides"},
    {"a1", "c1", 7, "tcp", "non-transitive"},
    {"c1", "a1", 7, "tcp", "non-transitive"},
    {"a1", "d1", 7, "tcp", "one side only (Initiated)"},
    {"d1", "a1", 7, "tcp", "one side only (Initiated)"},
    {NULL},
};

static const struct flow nva_flows[] = {
    {"app1", "web1", 7, "tcp", "UDR to a forwarding appliance"},
    {"app1", "web1", 7, "udp", "UDR to a forwarding appliance"},
    {"app1", "web1", 5001, "tcp", "the appliance's NIC NSG denies"},
    {"web1", "app1", 7, "tcp", "back, directly"},
    {"app1", "nva1", 7, "tcp", "the appliance as a destination"},
    {"app2", "web1", 7, "tcp", "UDR to a VM without IP forwarding"},
    {"app2", "web1", 0, "icmp", "UDR to a VM without IP forwarding"},
    {"app3", "web1", 7, "tcp", "0/0 to the appliance, VNet range stays local"},
    {"app3", "sp1", 7, "tcp", "0/0 to the appliance, the peering route is longer"},
    {"sp1", "sp2", 7, "tcp", "spoke to spoke through the hub appliance"},
    {"sp2", "sp1", 7, "udp", "spoke to spoke through the hub appliance"},
    {"sp1", "sp2", 5001, "tcp", "the hub appliance's NIC NSG denies"},
    {"sp1", "web1", 7, "tcp", "spoke to hub over the peering"},
    {"app1", "web", 80, "tcp", "the Internet, no UDR for it"},
    {"app3", "web", 80, "tcp", "0/0 through the appliance to the Internet: no SNAT, no reply"},
    {NULL},
};

static const struct flow gw_flows[] = {
    {"h1", "srv", 7, "tcp", "hub to on-premises"},
    {"h1", "pc", 80, "tcp", "hub to on-premises"},
    {"srv", "h1", 7, "tcp", "on-premises to hub"},
    {"pc", "h1", 7, "udp", "on-premises to hub"},
    {"pc", "h1", 0, "icmp", "on-premises to hub"},
    {"t1", "srv", 7, "tcp", "gateway transit"},
    {"srv", "t1", 7, "tcp", "gateway transit, back"},
    {"n1", "srv", 7, "tcp", "peered without transit"},
    {"srv", "n1", 7, "tcp", "peered without transit, back"},
    {"n1", "h1", 7, "tcp", "peered"},
    {"h1", "192.168.50.99", 7, "tcp", "an on-premises address nobody holds"},
    {"srv", "pc", 80, "tcp", "on-premises to on-premises"},
    {NULL},
};

static const struct flow net_flows[] = {
    {"v1", "web", 80, "tcp", "the Internet"},
    {"w1", "web", 80, "tcp", "the Internet from the second VNet"},
    {"v1", "echo", 7, "udp", "the Internet, UDP"},
    {"v1", "echo", 0, "icmp", "the Internet, ICMP"},
    {"dv1", "web", 80, "tcp", "an NSG denies Internet outbound"},
    {"dv1", "echo", 7, "udp", "an NSG denies Internet outbound"},
    {"v1", "203.0.113.99", 80, "tcp", "an Internet address nobody holds"},
    {"web", "10.90.1.4", 7, "tcp", "Internet to a private address"},
    {"web", "echo", 7, "tcp", "Internet to Internet"},
    {"dv1", "168.63.129.16", 53, "udp", "Azure DNS through a deny-all NSG"},
    {"v1", "168.63.129.16", 53, "udp", "Azure DNS"},
    {"dv1", "v1", 7, "tcp", "deny-all-out"},
    {"v1", "dv1", 7, "tcp", "into the denying subnet (inbound allowed)"},
    {NULL},
};

static const struct flow aks_flows[] = {
    {"kp", "x1", 7, "tcp", "kubenet pod to a peered VNet"},
    {"kp", "srv", 7, "tcp", "kubenet pod to on-premises"},
    {"kp", "h1", 7, "tcp", "kubenet pod in its VNet"},
    {"cp", "x1", 7, "tcp", "Azure CNI pod to a peered VNet"},
    {"cp", "srv", 7, "tcp", "Azure CNI pod to on-premises"},
    {"cp", "h1", 7, "tcp", "Azure CNI pod in its VNet"},
    {"x1", "cp", 0, "icmp", "peered VNet to an Azure CNI pod"},
    {"x1", "10.244.0.2", 0, "icmp", "peered VNet to a kubenet pod: None"},
    {"srv", "h1", 7, "tcp", "on-premises to the hub"},
    {NULL},
};

static const struct flow flags_flows[] = {
    {"h9", "sp4", 7, "tcp", "peering access off: the hub leaves s4's VirtualNetwork tag"},
    {"h9", "sp4", 5001, "tcp", "peering access off: an explicit allow still works"},
    {"sp4", "h9", 7, "tcp", "peering access off, outbound"},
    {"sp5", "srv", 7, "tcp", "useRemoteGateways with propagation disabled"},
    {"sp5", "10.70.9.9", 7, "tcp", "UDR None inside the peered hub"},
    {"sp5", "h9", 7, "tcp", "peered hub"},
    {"sp3", "sp1", 5002, "tcp", "the appliance's NIC NSG outbound"},
    {"sp1", "web", 80, "tcp", "spoke 0/0 through the hub appliance to the Internet: no SNAT, no reply"},
    {"sp1", "h9", 7, "tcp", "spoke to hub (peering route beats 0/0)"},
    {"sp6", "sp1", 7, "tcp", "forward path through nva1, no return route (10/8 None in s1)"},
    {"srv", "web", 80, "tcp", "on-premises to the Internet"},
    {"web", "srv", 7, "tcp", "the Internet to on-premises"},
    {NULL},
};

static const struct {
	const char *prefix, *topo;
	const struct flow *flows;
} table_labs[] = {
    {"ai", ISO_TOPO, iso_flows}, {"ap", PEER_TOPO, peer_flows}, {"an", NVA_TOPO, nva_flows},
    {"ag", GW_TOPO, gw_flows},	 {"aw", NET_TOPO, net_flows},	{"ak", AKS_TOPO, aks_flows},
    {"af", FLAGS_TOPO, flags_flows},
};

/* The kernel result explain's verdict stands for (see the mapping in the header). */
static bool agree(const char *outcome, const char *access, const char *result, const char *proto)
{
	if (!strcmp(result, "connected") || !strcmp(result, "refused"))
		return !strcmp(outcome, "delivered") && !strcmp(access, "Allow");
	if (!strcmp(result, "dropped"))
		return !strcmp(outcome, "denied");
	if (!strcmp(result, "unreachable"))
		return !strcmp(outcome, "unreachable");
	if (!strcmp(result, "timeout"))
		return !strcmp(outcome, "nohost") || (!strcmp(outcome, "delivered") && strcmp(proto, "tcp"));
	return false;
}

static int run_flows(const struct flow *flows, char **report)
{
	int bad = 0;

	for (const struct flow *f = flows; f->from; f++) {
		char *e = explain(f->from, f->to, f->port, f->proto), *p = probe(f->from, f->to, f->port, f->proto);
		char *out = th_json_get(e, "outcome"), *acc = th_json_get(e, "access"), *res = th_json_get(p, "result");
		char *en = th_json_get(e, "nsg"), *er = th_json_get(e, "rule"), *pn = th_json_get(p, "nsg"),
		     *pr = th_json_get(p, "rule"), *es = th_json_get(e, "seenSource"),
		     *ps = th_json_get(p, "seenSource");
		bool ok = agree(out, acc, res, f->proto);
		char *line = NULL;

		if (ok && !strcmp(res, "dropped"))
			ok = !strcmp(en, pn) && !strcmp(er, pr);
		/* a connection through an app reports what the far end saw */
		if (ok && !strcmp(res, "connected") && strcmp(ps, "null") && *ps)
			ok = !strcmp(es, ps);
		printf("  %-5s %-4s %-14s -> %-14s %5d  probe %-11s %s/%s seen %-14s | explain %-11s %s %s/%s seen "
		       "%s  (%s)%s\n",
		       th_lab.name, f->proto, f->from, f->to, f->port, res, pn, pr, ps, out, acc, en, er, es, f->why,
		       ok ? "" : "  <-- DISAGREE");
		if (!ok) {
			char ns[64], *d;

			bad++;
			snprintf(ns, sizeof(ns), "vl-%s-%s", th_lab.name, f->from);
			d = diag(ns);
			if (asprintf(&line, "%s%s %s -> %s:%d/%s (%s)\n  probe:   %s\n  explain: %s\n%s", *report,
				     th_lab.name, f->from, f->to, f->port, f->proto, f->why, p, e, d) > 0) {
				free(*report);
				*report = line;
			}
			free(d);
		}
		free(out);
		free(acc);
		free(res);
		free(en);
		free(er);
		free(pn);
		free(pr);
		free(es);
		free(ps);
		free(e);
		free(p);
	}
	return bad;
}

Test(routing, explain_and_kernel_agree_on_every_flow_of_every_lab, .timeout = 600)
{
	char *report = strdup("");
	int bad = 0, n = 0;

	for (size_t i = 0; i < sizeof(table_labs) / sizeof(table_labs[0]); i++) {
		th_lab_up(table_labs[i].prefix, table_labs[i].topo);
		for (const struct flow *f = table_labs[i].flows; f->from; f++)
			n++;
		bad += run_flows(table_labs[i].flows, &report);
		fflush(stdout);
		th_lab_down();
	}
	cr_expect_eq(bad, 0, "%d of %d flows disagree:\n%s", bad, n, report);
	free(report);
}
