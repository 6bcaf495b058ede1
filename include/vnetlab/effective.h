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
	uint32_t **asg_ips; /* per ASG: its members' NIC addresses, sorted (spec section 18) */
	size_t *n_asg_ips;
	struct vl_prefix **tag_prefixes; /* per service tag: its prefixes, sorted and merged */
	size_t *n_tag_prefixes;
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

const char *vl_nh_name(enum vl_nh h);		/* "VnetLocal", "VNetPeering", "VirtualNetworkGateway", ... */
const char *vl_route_src_name(enum vl_route_src s); /* "Default", "User", "VirtualNetworkGateway" */
const char *vl_peer_state_name(enum vl_peer_state s); /* "Initiated", "Connected" */

#endif
