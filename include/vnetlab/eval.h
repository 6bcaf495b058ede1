/* SPDX-License-Identifier: MIT */
/*
 * The NSG evaluator: Azure's semantics on the model alone, like Network
 * Watcher's IP flow verify, hop by hop. Pure C, no I/O.
 */
#ifndef VNETLAB_EVAL_H
#define VNETLAB_EVAL_H

#include "vnetlab/effective.h"
#include "vnetlab/model.h"

struct vl_flow {
	enum vl_proto proto; /* TCP, UDP, ICMP (never ANY) */
	uint32_t src;
	uint16_t sport;
	uint32_t dst;
	uint16_t dport;
};

/* First matching rule of one NSG for one direction (custom rules by priority, then defaults),
 * VirtualNetwork read from the effective model's scope `scope` (vnetlab/effective.h). */
const struct vl_rule *vl_eval_nsg(const struct vl_lab *lab, int nsg, int scope, enum vl_dir dir,
				  const struct vl_flow *f);
/* Does rule r match flow f, with the VirtualNetwork tag of `scope`? */
bool vl_eval_rule_matches(const struct vl_lab *lab, int scope, const struct vl_rule *r, const struct vl_flow *f);

enum vl_hop_level { VL_HOP_NIC, VL_HOP_SUBNET };

/* A step of a flow's way through the lab, like Network Watcher's hops. */
enum vl_hop_type {
	VL_HT_NSG,	 /* an NSG evaluated (nsg, dir, level, rule...) */
	VL_HT_ROUTE,	 /* a route chosen: `route` of scope `scope` */
	VL_HT_PEERING,	 /* across the peering from vnet to remote_vnet */
	VL_HT_GATEWAY,	 /* through virtual network gateway `gateway` to local network gateway `local_gateway` */
	VL_HT_APPLIANCE, /* through the NIC of endpoint `endpoint` (a VirtualAppliance next hop) */
	VL_HT_NAT,	 /* source address nat_from rewritten to nat_to (`endpoint`: the node that masquerades,
			  * VL_NONE: the VNet's edge, default outbound access) */
	VL_HT_EDGE,	 /* out of vnet's edge to the Internet */
	VL_HT_LB,	 /* Azure LB frontend nat_from (service `service` of `cluster`) to backend node `endpoint`,
			  * floating IP: the destination is kept */
	VL_HT_KPROXY,	 /* kube-proxy on node `endpoint`: destination nat_from:port DNATed to pod `pod`
			  * (nat_to:targetPort), masquerade when `masq` */
	VL_HT_POLICY,	 /* network policies of pod `endpoint` (cluster `cluster`) for direction `dir`
			  * (Outbound: egress, Inbound: ingress): `np` says how, `policy` which decided */
};

struct vl_hop {
	enum vl_hop_type type;
	/* NSG */
	int nsg; /* index into lab->nsgs */
	enum vl_dir dir;
	enum vl_hop_level level;
	int endpoint; /* NSG: endpoint whose NIC or subnet this is; APPLIANCE, NAT: that endpoint */
	enum vl_access access;
	const struct vl_rule *rule; /* deciding rule (points into the lab or the defaults) */
	struct vl_flow flow;	    /* the flow as this hop sees it (after NAT) */
	int subnet; /* NSG: index into lab->subnets of this hop's subnet (NIC hops: the NIC's subnet);
		     * endpoint is VL_NONE for a subnet hop toward an address no endpoint holds */
	int scope;  /* NSG: whose VirtualNetwork tag; ROUTE: whose route table */
	const struct vl_eroute *route; /* ROUTE */
	int vnet;		       /* ROUTE, PEERING, EDGE, GATEWAY: the VNet it happens in */
	int remote_vnet;	       /* PEERING */
	int gateway;		       /* GATEWAY */
	int local_gateway;	       /* GATEWAY */
	uint32_t nat_from, nat_to;     /* NAT, LB, KPROXY */
	bool dnat;		       /* NAT: the destination was rewritten (an instance public IP, inbound) */
	enum vl_snat_kind snat;	       /* NAT at the edge: why that address (spec 14.1) */
	int cluster, service;	       /* LB, KPROXY */
	int pod;		       /* KPROXY: the pod endpoint chosen */
	bool masq;		       /* KPROXY: externalTrafficPolicy Cluster masquerades to the node */
	int candidates;		       /* LB: healthy backends; KPROXY: pods to choose from */
	enum vl_np_result np;	       /* POLICY: allowed by a rule, denied, not selected, own node... */
	int policy;		       /* POLICY: index into the cluster's policies, or VL_NONE */
	int np_rule;		       /* POLICY: the rule of `policy` that allowed, or VL_NONE */
};

#define VL_MAX_HOPS 32

/* How the flow ends. */
enum vl_outcome {
	VL_OUT_DELIVERED,   /* reaches its destination (which may still refuse it) */
	VL_OUT_DENIED,	    /* an NSG rule drops it */
	VL_OUT_UNREACHABLE, /* the routing drops it: a None route, an appliance that does not forward,
			     * no route at all */
	VL_OUT_NO_HOST,	    /* silently lost: nobody holds the destination address, or a peering without
			     * allowForwardedTraffic drops it, or no reply can come back */
};

/*
 * A flow to a Service reaches one of several pods: the load balancer picks a healthy backend node
 * (from the Internet to a frontend), kube-proxy on that node (or on the source's node) a pod at
 * random. One backend the flow may get, and how the flow ends with it.
 */
struct vl_backend_verdict {
	int node; /* whose kube-proxy DNATs: the LB's backend node, or the source's node */
	int pod;  /* VL_NONE: that node has no pod to pick (the flow ends there) */
	enum vl_outcome outcome;
	enum vl_access access;
	int nsg;		    /* deciding NSG or VL_NONE */
	const struct vl_rule *rule; /* its rule or NULL */
	int policy_cluster, policy; /* deciding network policy or VL_NONE */
	int np_pod;		    /* denied by a network policy: the pod whose policies did, else VL_NONE */
	enum vl_dir np_dir;	    /* ... ingress or egress */
	uint16_t port;		    /* the pod's target port (0 when the flow ends before kube-proxy) */
	bool listens; /* delivered, and the pod's app listens on the target port (else it refuses) */
};

#define VL_MAX_BACKENDS 16

struct vl_verdict {
	enum vl_access access; /* Deny when DENIED or UNREACHABLE */
	enum vl_outcome outcome;
	int nsg;		    /* deciding NSG or VL_NONE when no NSG is on the path */
	const struct vl_rule *rule; /* deciding rule or NULL */
	struct vl_hop hops[VL_MAX_HOPS];
	size_t n_hops;
	uint32_t seen_src; /* source address the destination sees */
	int dst_ep;	   /* destination endpoint or VL_NONE */
	/* The network policy that denied (outcome DENIED with nsg VL_NONE), else the last that allowed;
	 * policy VL_NONE when no policy decided. */
	int policy_cluster;
	int policy;
	char why[320];	   /* UNREACHABLE, NO_HOST: where and why, e.g. "route None 10.0.0.0/8 (Default)" */
	char
	    note[256]; /* e.g. "masqueraded to node 10.1.0.4 by ip-masq-agent", "same node: crosses no NSG" */
	/* A flow to a Service: every backend it may get (the first VL_MAX_BACKENDS of n_backends),
	 * in node then pod order; n_backends 0 for any other flow. The fields above follow the
	 * backend the hops show (a pod on the node when there is one, else the first). mixed: the
	 * backends' outcomes differ (outcome, deciding rule or policy, or whether the pod listens). */
	struct vl_backend_verdict backends[VL_MAX_BACKENDS];
	size_t n_backends;
	bool mixed;
};

/*
 * Evaluate a flow from endpoint `from` (any endpoint: VM, pod, node, container
 * group, Internet or on-premises host) to address `dst` as Azure sees it: the
 * source address after the node's masquerade; each trip through a VNet's
 * fabric reads the effective route of the sending subnet, then the NSGs on the
 * way (source NIC out, source subnet out, destination subnet in, destination
 * NIC in); peerings, gateways, appliances and the edge are hops of their own.
 * The first Deny decides; when all allow, the last evaluated rule is reported.
 * sport 0 means "an ephemeral port" (evaluated as 50000). 0 or -EINVAL.
 */
int vl_eval_path(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		 uint16_t dport, struct vl_verdict *v);

/*
 * vl_eval_path() as if the load balancer picked backend node `node` (VL_NONE: as vl_eval_path
 * does) and kube-proxy picked pod `pod` (VL_NONE: likewise); a pick the flow cannot get is ignored.
 * v->backends is left empty. 0 or -EINVAL.
 */
int vl_eval_path_pick(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		      uint16_t dport, int node, int pod, struct vl_verdict *v);

/*
 * Every backend a flow to a Service may get (lab/eval/backends.c): the first cap of them into
 * out, in node then pod order. Returns how many there are: 0 when the flow meets no Service.
 */
size_t vl_eval_backends(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
			uint16_t dport, struct vl_backend_verdict *out, size_t cap);

/* Do two backends end the same way (outcome, deciding NSG rule or policy, listening)? */
bool vl_backend_same(const struct vl_backend_verdict *a, const struct vl_backend_verdict *b);

/* The policy hops of a verdict vl_eval_path() made (lab/eval/netpol.c): the source pod's egress
 * first, the destination pod's ingress last (spec 16.2). */
void vl_eval_netpol(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t dport,
		    struct vl_verdict *v);

const char *vl_outcome_name(enum vl_outcome o); /* "delivered", "denied", "unreachable", "nohost" */

#endif
