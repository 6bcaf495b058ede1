/* SPDX-License-Identifier: MIT */
/*
 * The NSG evaluator: Azure's semantics on the model alone, like Network
 * Watcher's IP flow verify, hop by hop. Pure C, no I/O.
 */
#ifndef VNETLAB_EVAL_H
#define VNETLAB_EVAL_H

#include "vnetlab/model.h"

struct vl_flow {
	enum vl_proto proto; /* TCP, UDP, ICMP (never ANY) */
	uint32_t src;
	uint16_t sport;
	uint32_t dst;
	uint16_t dport;
};

/* First matching rule of one NSG for one direction (custom rules by priority, then defaults). */
const struct vl_rule *vl_eval_nsg(const struct vl_lab *lab, int nsg, enum vl_dir dir,
				  const struct vl_flow *f);
/* Does rule r match flow f? (tags expand with vl_lab_vnet_prefixes semantics) */
bool vl_eval_rule_matches(const struct vl_lab *lab, const struct vl_rule *r, const struct vl_flow *f);

enum vl_hop_level { VL_HOP_NIC, VL_HOP_SUBNET };

struct vl_hop {
	int nsg; /* index into lab->nsgs */
	enum vl_dir dir;
	enum vl_hop_level level;
	int endpoint; /* endpoint whose NIC or subnet this is */
	enum vl_access access;
	const struct vl_rule *rule; /* deciding rule (points into the lab or the defaults) */
	struct vl_flow flow;	    /* the flow as this NSG sees it (after NAT) */
	int subnet; /* index into lab->subnets of this hop's subnet (NIC hops: the NIC's subnet);
		     * endpoint is VL_NONE for a subnet hop toward an address no endpoint holds */
};

#define VL_MAX_HOPS 4

struct vl_verdict {
	enum vl_access access;
	int nsg;		    /* deciding NSG or VL_NONE when no NSG is on the path */
	const struct vl_rule *rule; /* deciding rule or NULL */
	struct vl_hop hops[VL_MAX_HOPS];
	size_t n_hops;
	uint32_t seen_src; /* source address the destination sees */
	int dst_ep;	   /* destination endpoint or VL_NONE */
	char
	    note[256]; /* e.g. "masqueraded to node 10.1.0.4 by ip-masq-agent", "same node: crosses no NSG" */
};

/*
 * Evaluate a flow from endpoint `from` to address `dst` (an endpoint's IP or
 * any other address) as Azure sees it: the source address after the node's
 * masquerade (kubenet, Azure CNI outside the VNet), NSGs in order source NIC
 * out, source subnet out, destination subnet in, destination NIC in; the
 * first Deny decides; when all allow, the last evaluated rule is reported.
 * sport 0 means "an ephemeral port" (evaluated as 50000). 0 or -EINVAL.
 */
int vl_eval_path(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto, uint16_t sport,
		 uint16_t dport, struct vl_verdict *v);

#endif
