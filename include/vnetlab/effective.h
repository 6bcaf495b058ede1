/* SPDX-License-Identifier: MIT */
/*
 * The effective model: what Azure derives from a topology, computed once by
 * vl_lab_resolve() and read by everyone downstream (the plan and its
 * nftables rulesets, the evaluator, `routes`, `show`). Spec sections 12,
 * 13, 19 and 23.
 *
 * A scope is a set of subnets that see the same effective routes and the
 * same VirtualNetwork tag: one VNet, one route table (the subnet's own, or
 * for a kubenet cluster's subnet the cluster's route table). Routes of a
 * scope are sorted longest prefix first; ties keep User > gateway > System.
 *
 * Ownership: struct vl_effective owns its arrays; lab->eff is freed with the lab.
 */
#ifndef VNETLAB_EFFECTIVE_H
#define VNETLAB_EFFECTIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vnetlab/model.h"

/* Route source, as `az network nic show-effective-route-table` prints it. */
enum vl_route_src { VL_RSRC_DEFAULT, VL_RSRC_USER, VL_RSRC_GATEWAY };

/* Next hop type of an effective route. */
enum vl_nh {
	VL_NH_VNET_LOCAL, /* deliver in the VNet */
	VL_NH_PEERING,	  /* VNetPeering: into remote_vnet */
	VL_NH_GATEWAY,	  /* VirtualNetworkGateway: the gateway `gateway` (maybe a hub's, by transit) */
	VL_NH_INTERNET,	  /* out through the edge */
	VL_NH_APPLIANCE,  /* VirtualAppliance: to the NIC holding hop_ip */
	VL_NH_NONE,	  /* dropped */
};

struct vl_eroute {
	struct vl_prefix prefix;
	enum vl_route_src source;
	enum vl_nh hop;
	uint32_t hop_ip; /* APPLIANCE: nextHopIpAddress; GATEWAY: the gateway's address; else 0 */
	bool active;	 /* false: overridden by a route of higher precedence (State Invalid) */
	int table;	 /* USER: index into lab->route_tables, or VL_NONE for a cluster's route */
	int route;	 /* USER: index into that table's routes; cluster routes: node endpoint */
	int remote_vnet; /* PEERING: the peer; GATEWAY: the VNet of the gateway; else VL_NONE */
	int gateway;	 /* GATEWAY: index into lab->gateways, else VL_NONE */
	int cluster;	 /* kubenet pod-CIDR route: index into lab->aks, else VL_NONE */
};

struct vl_scope {
	int vnet;
	int route_table; /* VL_NONE: no route table */
	int cluster;	 /* kubenet cluster whose route table applies, VL_NONE if none */
	struct vl_eroute *routes;
	size_t n_routes;
	struct vl_prefix *vnet_tag; /* VirtualNetwork for this scope, sorted, merged */
	size_t n_vnet_tag;
};

enum vl_peer_state { VL_PEER_INITIATED, VL_PEER_CONNECTED };

/* How a NIC reaches the Internet, first match of spec 14.1 (a 0/0 UDR to an appliance or a
 * gateway is a route: the packet never gets to the edge with this NIC's address). */
enum vl_snat_kind {
	VL_SNAT_DEFAULT, /* default outbound access: the VNet's outbound address */
	VL_SNAT_NATGW,	 /* the subnet's NAT gateway */
	VL_SNAT_ILPIP,	 /* the VM's instance-level public IP (1:1, inbound too) */
	VL_SNAT_LB,	 /* the cluster's load balancer outbound rule (outboundType loadBalancer) */
	VL_SNAT_ROUTE,	 /* a 0/0 UDR to an appliance or a gateway takes it first */
};

/* One backend of a LoadBalancer frontend: a node, and what its health probe gets (spec 15.4). */
struct vl_backend {
	int node;	     /* endpoint index of the node */
	bool healthy;	     /* the probe from 168.63.129.16 passes the NSGs and is answered */
	int local_pods;	     /* selected pods on this node */
	int nsg;	     /* NSG that dropped the probe, or VL_NONE */
	const struct vl_rule *rule; /* ... its rule */
	char why[96];	     /* unhealthy: why, e.g. "no local pod (externalTrafficPolicy Local)" */
};

/* A LoadBalancer Service's frontend (Azure LB `kubernetes`, floating IP on). */
struct vl_frontend {
	int cluster;
	int service;
	uint32_t ip;
	struct vl_backend *backends; /* every node of the cluster, node order */
	size_t n_backends;
	int *pods; /* endpoint indexes of the selected pods */
	size_t n_pods;
	uint16_t probe_port; /* NodePort of the first port (TCP probe), or healthCheckNodePort (HTTP, Local) */
};

/* A Service's endpoints: the pods its selector picks (effective/services.c). */
struct vl_svc_pods {
	int *pods; /* endpoint indexes, endpoint order */
	size_t n;
};

struct vl_effective {
	struct vl_scope *scopes;
	size_t n_scopes;
	int *subnet_scope;		/* per subnet: index into scopes */
	enum vl_peer_state **peer_state; /* [vnet][peering] */
	struct vl_prefix *not_internet; /* private, reserved, VNet and on-premises ranges, merged */
	size_t n_not_internet;
	uint32_t *outbound_ip; /* per VNet: its default outbound address (SNAT at the edge) */
	struct vl_prefix **nonmasq; /* per cluster: ip-masq-agent's nonMasqueradeCIDRs */
	size_t *n_nonmasq;
	/* Per endpoint: the address the Internet sees for traffic from its NIC (spec 14.1) and how
	 * it got it; 0 / VL_SNAT_DEFAULT for endpoints without a NIC of their own. */
	uint32_t *snat_ip;
	enum vl_snat_kind *snat_kind;
	struct vl_frontend *frontends; /* one per LoadBalancer Service, cluster then service order */
	size_t n_frontends;
	uint32_t **asg_ips; /* per ASG: its members' NIC addresses, sorted (spec section 18) */
	size_t *n_asg_ips;
	struct vl_prefix **tag_prefixes; /* per service tag: its prefixes, sorted and merged */
	size_t *n_tag_prefixes;
	struct vl_svc_pods **svc_pods; /* [cluster][service] */
	size_t *n_svc_pods;		/* per cluster: its services (freed without the model) */
	struct vl_np_pod *np; /* per endpoint: network policies of a pod (zeroed for the rest) */
	size_t n_np;
};

/* Compute lab->eff from a resolved model. 0, -ENOMEM, or -EINVAL with err set. */
int vl_eff_build(struct vl_lab *lab, struct vl_error *err);
void vl_eff_free(struct vl_effective *e, const struct vl_lab *lab);

/* The active route of a scope for dst (longest prefix), or NULL when none matches. */
const struct vl_eroute *vl_eff_route(const struct vl_effective *e, int scope, uint32_t dst);
/* Is ip in the VirtualNetwork tag of the subnet's scope? */
bool vl_eff_in_vnet_tag(const struct vl_effective *e, int scope, uint32_t ip);
/* Is ip in the lab's Internet tag? */
bool vl_eff_is_internet(const struct vl_effective *e, uint32_t ip);
/*
 * Does application security group `asg` hold ip, for an NSG evaluated in `scope`? Membership is
 * VNet-local: an ASG matches nothing in another VNet's scopes, so never traffic evaluated in a
 * peered VNet (spec section 18 [U]).
 */
bool vl_eff_in_asg(const struct vl_lab *lab, int asg, int scope, uint32_t ip);
/* Does an ASG apply in `scope` at all (its VNet is the scope's)? */
bool vl_eff_asg_applies(const struct vl_lab *lab, int asg, int scope);
/* Is ip in service tag `tag` (lab->service_tags)? */
bool vl_eff_in_service_tag(const struct vl_effective *e, int tag, uint32_t ip);
/*
 * The AzurePlatform* tags (spec section 19.4, docs/nsg-semantics.md). Traffic to a platform
 * address (168.63.129.16, 169.254.169.254) is judged only by the platform rules of the sender's
 * outbound NSGs: its custom Outbound rules that name an AzurePlatform* tag, by priority. When none
 * matches it passes (the bypass); default rules never apply to it.
 */
bool vl_eff_is_platform_addr(uint32_t ip);
/* Is r a platform rule (custom, Outbound, an AzurePlatform* tag on either side)? */
bool vl_rule_is_platform(const struct vl_rule *r);
/* The platform rules of NSG nsg by priority (pointers into the lab); *out NULL when none.
 * Caller frees *out. 0 or -ENOMEM. */
int vl_eff_platform_rules(const struct vl_lab *lab, int nsg, const struct vl_rule ***out, size_t *n);
bool vl_eff_has_platform_rules(const struct vl_lab *lab, int nsg);
/* Is dst in the cluster's nonMasqueradeCIDRs (no masquerade toward it)? */
bool vl_eff_non_masq(const struct vl_effective *e, int cluster, uint32_t dst);
/* The scope of an endpoint's traffic (its NIC's subnet), VL_NONE for hosts outside Azure. */
int vl_eff_endpoint_scope(const struct vl_lab *lab, int ep);
/* The endpoint (VM or node NIC) holding ip in `vnet`, else in a VNet peered with it: the target
 * of a VirtualAppliance route; or VL_NONE. */
int vl_eff_appliance(const struct vl_lab *lab, int vnet, uint32_t ip);
/* The VNet whose gateways a VNet's routes use: itself when it has one, else its hub's by
 * gateway transit (spec 12.5), else VL_NONE. */
int vl_eff_gateway_vnet(const struct vl_lab *lab, int vnet);
/* Do vnet's routes use gateway `gateway` (its own, or its hub's by transit)? */
bool vl_eff_uses_gateway(const struct vl_lab *lab, int vnet, int gateway);
/* The peering of vnet `from` to vnet `to`, or NULL. */
const struct vl_peering *vl_eff_peering(const struct vl_lab *lab, int from, int to);
/*
 * Does VNet `to` admit a packet from source `src` arriving over its peering with `from`?
 * Without allowForwardedTraffic on `to`'s side, only sources in `from`'s address spaces and
 * behind `from`'s gateway (a VPN gateway's forwarding needs no flag) get in (spec 12.4).
 */
bool vl_eff_peering_admits(const struct vl_lab *lab, int from, int to, uint32_t src);
/* The prefixes vl_eff_peering_admits() admits from `from`: appended to *out (caller frees). */
int vl_eff_peering_sources(const struct vl_lab *lab, int from, struct vl_prefix **out, size_t *n);
/* Both sides exist: traffic flows. */
bool vl_eff_peered(const struct vl_lab *lab, int a, int b);

/* ---- public addresses, LoadBalancer Services (lab/effective/public.c, cpa.c, lb.c) ---- */

/* Allocate the public addresses written `true` or left out (198.51.100.127 downward), the
 * clusterIPs, nodePorts, healthCheckNodePorts and UIDs, and check that no two resources share
 * an address. Called by vl_lab_resolve() before endpoints exist. 0 or -EINVAL with err set. */
int vl_public_assign(struct vl_lab *lab, struct vl_error *err);
/* The NSG rules cloud-provider-azure keeps in cluster c's node NSG for its LoadBalancer
 * Services (spec 15.2, legacy 15.3 before Kubernetes 1.29): managed rules of services that are
 * gone are removed, existing ones keep their priority, new ones take the lowest free priority
 * from 500 (deny-all: the highest free from 4095). Creates the node NSG ("aks-agentpool-<c>-nsg",
 * default rules only) when the cluster names none and has a LoadBalancer. 0 or -errno. */
int vl_cpa_reconcile(struct vl_lab *lab, int c, struct vl_error *err);
/* k8s-azure-lb_allow_IPv4_<md5hex("<proto>_<srcs>_<ports>")> (spec 15.2): srcs and ports
 * sorted as strings and joined with ','. */
void vl_cpa_allow_name(char *buf, size_t len, enum vl_proto proto, const char *const *srcs, size_t n_srcs,
		       const uint16_t *ports, size_t n_ports);
/* Legacy: a<uid without dashes, cut to 32>-<TCP|UDP>-<port>-<src with / -> _ and : -> .> */
void vl_cpa_legacy_name(char *buf, size_t len, const char *uid, enum vl_proto proto, uint16_t port,
			const char *src);
/* Is the rule one cloud-provider-azure owns (name prefix and priority 500-4096)? */
bool vl_cpa_is_managed(const struct vl_rule *r);
/* Recompute every backend's health (after an NSG edit: probes are subject to NSGs). */
void vl_eff_lb_health(struct vl_lab *lab);
/* The endpoints of service s of cluster c (an empty list when there is none). */
const struct vl_svc_pods *vl_eff_service_pods(const struct vl_lab *lab, int c, int s);
/*
 * The pods kube-proxy on node `node` may DNAT a flow for service s of cluster c to (spec 15.4):
 * every endpoint of the service, or with local_only (externalTrafficPolicy Local, a flow from
 * outside the node) those on that node. kube-proxy's rules (lab/nft/kproxy.c) pick one at random;
 * the evaluator weighs each. Fills at most cap of them into pods (NULL with cap 0: count only)
 * and returns how many there are.
 */
size_t vl_eff_kproxy_pods(const struct vl_lab *lab, int c, int s, int node, bool local_only, int *pods,
			  size_t cap);
/* One warning per network policy that selects a virtual-node pod (not enforced there, spec 17),
 * appended to *out. 0 or -ENOMEM. */
int vl_eff_vnode_warnings(const struct vl_lab *lab, struct vl_strv *out);
/* The frontend holding ip, or NULL. */
const struct vl_frontend *vl_eff_frontend(const struct vl_effective *e, uint32_t ip);
/* The service of cluster c whose clusterIP is ip, or VL_NONE. */
int vl_eff_cluster_ip(const struct vl_lab *lab, int c, uint32_t ip);
/* The service of cluster c with NodePort proto/port (NodePort and LoadBalancer services), or
 * VL_NONE; *sp, when given, its port. */
int vl_eff_node_port(const struct vl_lab *lab, int c, enum vl_proto proto, uint16_t port,
		     const struct vl_svc_port **sp);
/* The VM whose instance public IP is ip, as its endpoint index, or VL_NONE. */
int vl_eff_ilpip_owner(const struct vl_lab *lab, uint32_t ip);
/* The address the Internet sees for a packet leaving VNet vnet's edge with source src (a NIC's
 * address: its snat_ip; anything else: the default outbound address). */
uint32_t vl_eff_snat_for(const struct vl_lab *lab, int vnet, uint32_t src, enum vl_snat_kind *kind);
const char *vl_snat_kind_name(enum vl_snat_kind k); /* "default outbound access", "NAT gateway", ... */

/* ---- Kubernetes network policies (lab/effective/netpol.c, spec 16) ---- */

/* What one rule of a policy allows a pod, for one direction: its peers' addresses (any_peer:
 * every address) on proto and ports lo-hi (proto VL_PROTO_ANY: every protocol and port; named
 * ports are resolved to numbers here, against the destination pod's containerPort names). */
struct vl_np_allow {
	int policy; /* index into the cluster's policies */
	int rule;   /* index into that policy's in or out rules */
	bool any_peer;
	struct vl_prefix *peers; /* sorted, merged */
	size_t n_peers;
	enum vl_proto proto;
	uint16_t lo, hi;
};

/* A pod's policies: computed once, read by the nftables compiler (lab/nft/netpol.c) and the
 * evaluator. Index [VL_DIR_IN] is ingress, [VL_DIR_OUT] egress. */
struct vl_np_pod {
	bool enforced;	   /* a pod of a cluster whose networkPolicy enforces (azure, calico) */
	bool isolated[2];  /* some policy selecting it lists that direction in policyTypes */
	int *policies;	   /* the policies selecting it, in the cluster's order */
	size_t n_policies;
	struct vl_np_allow *allow[2];
	size_t n_allow[2];
};

enum vl_np_result {
	VL_NP_NOT_SELECTED, /* no policy isolates the pod in that direction: allowed */
	VL_NP_ALLOW,	    /* a rule of `policy` allows it */
	VL_NP_DENY,	    /* isolated (by `policy`, the first that isolates), no rule allows it */
	VL_NP_NODE,	    /* the pod's own node: always allowed (spec 16.1.4, 16.4.5) */
	VL_NP_UNENFORCED,   /* the cluster enforces no policy (networkPolicy none) */
};

struct vl_np_verdict {
	enum vl_np_result result;
	int pod;     /* endpoint index of the pod whose policies decided */
	enum vl_dir dir;
	int cluster; /* index into lab->aks */
	int policy;  /* index into its policies, or VL_NONE */
	int rule;    /* ALLOW: the rule that allowed, else VL_NONE */
};

/* (Re)compute lab->eff->np from the clusters' policies (after vl_eff_build or a live edit). */
int vl_eff_netpol_build(struct vl_lab *lab);
/*
 * The policy verdict for pod endpoint `pod` in direction dir: ingress, a packet from `peer` to
 * the pod's port; egress, a packet from the pod to `peer`:port. Addresses as the node's forward
 * hook sees them (after kube-proxy's DNAT, before the node's own masquerade). -EINVAL if pod
 * is not a pod.
 */
int vl_np_decide(const struct vl_lab *lab, int pod, enum vl_dir dir, uint32_t peer, enum vl_proto proto,
		 uint16_t port, struct vl_np_verdict *v);
/* Does pod endpoint `pod` have a containerPort named name (*port its number)? */
bool vl_np_named_port(const struct vl_lab *lab, int pod, const char *name, uint16_t *port);
const char *vl_netpol_engine_name(enum vl_netpol_engine e); /* "none", "azure", "calico" */

const char *vl_nh_name(enum vl_nh h);		/* "VnetLocal", "VNetPeering", "VirtualNetworkGateway", ... */
const char *vl_route_src_name(enum vl_route_src s); /* "Default", "User", "VirtualNetworkGateway" */
const char *vl_peer_state_name(enum vl_peer_state s); /* "Initiated", "Connected" */

#endif
