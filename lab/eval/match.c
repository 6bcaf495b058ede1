// SPDX-License-Identifier: MIT
/* One NSG against one flow: Azure's first match by priority (spec §3.1, §3.4). */
#include <stddef.h>

#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"

/* Tag membership is computed at most once per address per NSG evaluation. */
struct match_ctx {
	const struct vl_lab *lab;
	int scope;
	const struct vl_flow *f;
	signed char src_vnet; /* -1 unknown, 0 no, 1 yes */
	signed char dst_vnet;
};

static bool ctx_in_vnet(struct match_ctx *c, bool src)
{
	signed char *cache = src ? &c->src_vnet : &c->dst_vnet;

	if (*cache < 0)
		*cache = vl_eff_in_vnet_tag(c->lab->eff, c->scope, src ? c->f->src : c->f->dst) ? 1 : 0;
	return *cache;
}

static bool addr_matches(struct match_ctx *c, const struct vl_addr_match *m, size_t n, bool src)
{
	uint32_t ip = src ? c->f->src : c->f->dst;

	for (size_t i = 0; i < n; i++) {
		switch (m[i].kind) {
		case VL_ADDR_ANY:
			return true;
		case VL_ADDR_PREFIX:
			if (vl_prefix_contains(m[i].prefix, ip))
				return true;
			break;
		case VL_ADDR_TAG_VNET:
			if (ctx_in_vnet(c, src))
				return true;
			break;
		case VL_ADDR_TAG_INTERNET:
			if (vl_eff_is_internet(c->lab->eff, ip))
				return true;
			break;
		case VL_ADDR_TAG_LB:
			if (ip == VL_IP_AZURE_PLATFORM)
				return true;
			break;
		case VL_ADDR_ASG:
			if (vl_eff_in_asg(c->lab, m[i].ref, c->scope, ip))
				return true;
			break;
		case VL_ADDR_TAG_SERVICE:
			if (vl_eff_in_service_tag(c->lab->eff, m[i].ref, ip))
				return true;
			break;
		case VL_ADDR_TAG_PLATFORM_DNS:
			/* the DNS service: as a destination, TCP and UDP port 53 only */
			if (ip == VL_IP_AZURE_PLATFORM &&
			    (src || ((c->f->proto == VL_PROTO_TCP || c->f->proto == VL_PROTO_UDP) &&
				     c->f->dport == VL_PLATFORM_DNS_PORT)))
				return true;
			break;
		case VL_ADDR_TAG_PLATFORM_IMDS:
			if (ip == VL_IP_IMDS)
				return true;
			break;
		case VL_ADDR_TAG_PLATFORM_LKM:
			break; /* Azure's KMS endpoints: no lab address (docs/nsg-semantics.md) */
		}
	}
	return false;
}

static bool port_matches(const struct vl_port_range *r, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (port >= r[i].lo && port <= r[i].hi)
			return true;
	return false;
}

static bool has_ports(enum vl_proto p)
{
	return p == VL_PROTO_TCP || p == VL_PROTO_UDP || p == VL_PROTO_ANY;
}

static bool all_ports(const struct vl_port_range *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r[i].lo == 0 && r[i].hi == 65535)
			return true;
	return false;
}

static bool rule_matches(struct match_ctx *c, const struct vl_rule *r)
{
	const struct vl_flow *f = c->f;

	/*
	 * "*" matches every protocol, not only Tcp/Udp/Icmp; but a "*" rule
	 * that names ports can only be about TCP and UDP (the kernel path
	 * compiles it the same way, lab/nft/compile.c).
	 */
	if (r->proto != VL_PROTO_ANY && r->proto != f->proto)
		return false;
	if (r->proto == VL_PROTO_ANY && !has_ports(f->proto) &&
	    (!all_ports(r->sport, r->n_sport) || !all_ports(r->dport, r->n_dport)))
		return false;
	if (has_ports(f->proto) &&
	    (!port_matches(r->dport, r->n_dport, f->dport) || !port_matches(r->sport, r->n_sport, f->sport)))
		return false;
	return addr_matches(c, r->dst, r->n_dst, false) && addr_matches(c, r->src, r->n_src, true);
}

bool vl_eval_rule_matches(const struct vl_lab *lab, int scope, const struct vl_rule *r, const struct vl_flow *f)
{
	struct match_ctx c = {.lab = lab, .scope = scope, .f = f, .src_vnet = -1, .dst_vnet = -1};

	return rule_matches(&c, r);
}

const struct vl_rule *vl_eval_nsg(const struct vl_lab *lab, int nsg, int scope, enum vl_dir dir,
				  const struct vl_flow *f)
{
	struct match_ctx c = {.lab = lab, .scope = scope, .f = f, .src_vnet = -1, .dst_vnet = -1};
	const struct vl_rule *best = NULL, *defs;
	const struct vl_nsg *g;
	size_t n_defs;

	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs)
		return NULL;
	g = &lab->nsgs[nsg];
	/*
	 * The lowest-priority matching rule is the first match of the sorted
	 * list; scanning avoids sorting per flow. Priorities are unique per
	 * direction once validated; on a tie, file order wins.
	 */
	for (size_t i = 0; i < g->n_rules; i++) {
		const struct vl_rule *r = &g->rules[i];

		if (r->dir != dir || (best && r->priority >= best->priority))
			continue;
		if (rule_matches(&c, r))
			best = r;
	}
	if (best)
		return best;
	defs = vl_default_rules(&n_defs);
	for (size_t i = 0; i < n_defs; i++)
		if (defs[i].dir == dir && rule_matches(&c, &defs[i]))
			return &defs[i];
	return NULL;
}
