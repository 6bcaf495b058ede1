/* SPDX-License-Identifier: MIT */
/*
 * The plan: every kernel object a lab needs, per namespace. Pure data built
 * from a resolved model; `up --dry-run` prints it and the apply layer makes it.
 *
 * Apply order: namespaces (with their sysctls, written before any link is
 * made), links (bridges before veths), link up, addresses, routes, rulesets.
 * A veth is created in `ns` with its peer moved into `peer_ns`; both ends
 * start down and are brought up afterwards (see DESIGN.md, known traps).
 */
#ifndef VNETLAB_PLAN_H
#define VNETLAB_PLAN_H

#include <net/if.h>
#include <stdio.h>

#include "vnetlab/model.h"

#define VL_NS_NAME_MAX 128

/*
 * Namespaces by role. Names: an endpoint's is "vl-<lab>-<endpoint>"; the
 * lab's own contain a '.', which endpoint names never do:
 *   FABRIC   "vl-<lab>-fabric.<vnet>"   one routing domain per VNet (its SDN, its NSGs)
 *   INTERNET "vl-<lab>-internet"        the edge routers' far side and the Internet hosts' router
 *   GATEWAY  "vl-<lab>-gw.<gateway>"    a virtual network gateway in its VNet's GatewaySubnet
 *   ONPREM   "vl-<lab>-onprem.<lng>"    the on-premises router of a local network gateway
 */
enum vl_ns_role { VL_NS_FABRIC, VL_NS_ENDPOINT, VL_NS_INTERNET, VL_NS_GATEWAY, VL_NS_ONPREM };

struct vl_plan_ns {
	char name[VL_NS_NAME_MAX];
	enum vl_ns_role role;
	int endpoint; /* ENDPOINT: index into lab->eps, else VL_NONE */
	int index;    /* FABRIC: vnet; GATEWAY: gateway; ONPREM: local gateway; else VL_NONE */
};

enum vl_link_kind { VL_LINK_VETH, VL_LINK_BRIDGE };

struct vl_plan_link {
	enum vl_link_kind kind;
	int ns; /* index into plan->ns */
	char name[IFNAMSIZ];
	char master[IFNAMSIZ];	  /* bridge this end is enslaved to, "" if none */
	int peer_ns;		  /* veth only */
	char peer_name[IFNAMSIZ]; /* veth only: "eth0" for a NIC, else the far end's own name */
	/* veth only: the far end comes up with no IPv6 address (address generation mode none, set
	 * before it is up), so it sends no RS, DAD or MLD, as with disable_ipv6 but without a
	 * /proc/sys write in its namespace (each such write looks its first name up among those of
	 * every namespace: quadratic in a lab of 1,000 pods). */
	bool peer_no_ipv6;
	/* veth only, a port of master: a frame may leave by the port it came in (hairpin mode, as
	 * kubenet's bridge plugin sets it), so a pod's flow that kube-proxy sends back to that very
	 * pod through a Service gets back to it. */
	bool hairpin;
};

struct vl_plan_addr {
	int ns;
	char dev[IFNAMSIZ];
	struct vl_prefix addr; /* addr.addr is the host address, len its prefix length */
	/* No prefix route (IFA_F_NOPREFIXROUTE): an endpoint sends even to its subnet through the
	 * gateway, so it keeps one neighbour entry, not one per peer. The kernel's ARP table is one
	 * for the whole host (gc_thresh3, 1,024 by default, and entries used in the last 5 s are not
	 * reclaimed): all pairs of 100 endpoints talking directly would need 9,900. */
	bool via_gateway;
};

enum vl_route_type { VL_RT_UNICAST, VL_RT_BLACKHOLE, VL_RT_UNREACHABLE, VL_RT_THROW };

#define VL_RT_MAIN 254 /* RT_TABLE_MAIN */

struct vl_plan_route {
	int ns;
	struct vl_prefix dst;
	uint32_t gateway; /* 0 = on-link through dev */
	char dev[IFNAMSIZ]; /* unicast only */
	enum vl_route_type type;
	uint32_t table; /* VL_RT_MAIN or a scope's table */
};

/* A policy rule: packets with fwmark `mark` (per-subnet route tables), or arriving on `iif`
 * from `src` (a spoke subnet's packets for the hub's appliance), look up `table` first. */
struct vl_plan_rule {
	int ns;
	uint32_t mark;	       /* 0: none */
	char iif[IFNAMSIZ];    /* "": any */
	struct vl_prefix src;  /* len 0: any */
	uint32_t table;
	uint32_t priority;
};

struct vl_plan_sysctl {
	int ns;
	char key[96]; /* path under /proc/sys, e.g. "net/ipv4/conf/all/forwarding" */
	char value[16];
};

enum vl_ruleset_kind {
	VL_RULESET_FABRIC, /* a VNet's routing domain: NSGs, route marks, edge SNAT */
	VL_RULESET_MASQ,   /* AKS node: ip-masq-agent */
	VL_RULESET_N_KINDS,
};

struct vl_plan_ruleset {
	int ns;
	enum vl_ruleset_kind kind;
	int index; /* FABRIC: the vnet; MASQ: the node endpoint */
};

struct vl_plan {
	const struct vl_lab *lab; /* borrowed */
	struct vl_plan_ns *ns;
	size_t n_ns;
	struct vl_plan_link *links;
	size_t n_links;
	struct vl_plan_addr *addrs;
	size_t n_addrs;
	struct vl_plan_route *routes;
	size_t n_routes;
	struct vl_plan_rule *rules;
	size_t n_rules;
	struct vl_plan_sysctl *sysctls;
	size_t n_sysctls;
	struct vl_plan_ruleset *rulesets;
	size_t n_rulesets;
};

/* Build the plan of a resolved lab. 0 or -ENOMEM. The plan borrows lab. */
int vl_plan_build(const struct vl_lab *lab, struct vl_plan **out);
void vl_plan_free(struct vl_plan *plan);

/* "vl-<lab>-<suffix>" into buf of VL_NS_NAME_MAX. */
void vl_ns_name(char *buf, const char *lab, const char *suffix);
/* The namespace of VNet `vnet`'s routing domain, "vl-<lab>-fabric.<vnet name>". */
void vl_fabric_ns_name(char *buf, const struct vl_lab *lab, int vnet);
/* The fabric-side interface of an endpoint's NIC: "n<endpoint index>". */
void vl_fabric_ifname(char *buf, int endpoint);
/* A fabric's interface toward the Internet namespace. */
#define VL_EDGE_IFNAME "edge"
/* A fabric's bridge without ports that routes with next hop None lead to: the fabric's forward
 * chain rejects what is routed there (ICMP host unreachable, as an unreachable route would answer,
 * but not limited to one a second per source as the kernel limits the errors of routes). */
#define VL_NONE_IFNAME "none"
/* The kernel routing table and fwmark of a scope that is not its VNet's system scope. */
uint32_t vl_scope_table(int scope);
uint32_t vl_scope_mark(int scope);
/* The table a hub's fabric reads for packets of a spoke's scope (its routes to the hub's appliances). */
uint32_t vl_transit_table(int scope);

/* The fwmark and routing table that take frontend f's packets to its backend b (floating IP: the
 * destination stays the frontend; the fabric routes it to the node). */
uint32_t vl_lb_mark(int frontend, int backend);
/* The VNet whose edge a public address of the lab belongs to, or VL_NONE (not one of ours). */
int vl_public_vnet(const struct vl_lab *lab, uint32_t ip);

/* The network an Internet or on-premises host's eth0 is on (its router holds .1). */
struct vl_prefix vl_outside_net(const struct vl_lab *lab, int ep);

/* Human-readable listing, one object per line (for `up --dry-run`). */
void vl_plan_print(const struct vl_plan *plan, FILE *f);

#endif
