/* SPDX-License-Identifier: MIT */
/*
 * A VNet fabric's ruleset as one nftables transaction.
 *
 *   table ip vnetlab
 *     set vnet, vnet/<k>  VirtualNetwork of the system scope and of scope k (interval)
 *     set notinet         everything outside the Internet tag (interval)
 *     set tcpudp          { tcp, udp }: protocol `*` with ports
 *     chain in-/out-<nsg>[/<k>]  one rule per NSG rule, defaults last
 *     map nic_out, subnet_out, subnet_in, nic_in   ifname : jump in-/out-<nsg>
 *     chain forward       ct established,related accept; then the four vmaps;
 *                         then reject for appliances that do not forward;
 *                         then the flow log of allowed new flows (NFLOG group 8)
 *     chain nsg_deny      every Deny rule's goto: limit, log (group 7), drop
 *     map route_marks     ifname : mark; chain prerouting sets it (per-subnet routes)
 *     chain postrouting   oifname "edge" snat to the default outbound address
 *
 *     set a<hash>/p<hash> an address or port list of 3+ intervals, one per
 *                         distinct content, shared by the rules that have it
 *
 * Maps keep the forward chain at six rules whatever the number of NICs.
 * A live edit rewrites the changed rules of one NSG; in the same transaction
 * it creates the list sets the lab now needs that the kernel lacks (before
 * the rules) and deletes those no rule of the lab uses any more (after), so
 * the table is the same as after a fresh full commit (set order aside: new
 * sets are listed last).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include "vnetlab/nft.h"
#include "vnetlab/plan.h"
#include "nft-int.h"
#include "nft-emit.h"


/* One nft rule of an NSG chain; before = handle to insert before, 0 = append. */
static int emit_nsg_rule(struct vlnft_batch *b, const char *nsg, const char *chain,
			 const struct vlnft_crule *cr, uint64_t before)
{
	struct vlnft_rx x;
	uint32_t id;

	if (vlnft_rx_begin(&x, chain))
		return b->err = x.err;
	if (before)
		vlnft_rx_position(&x, before);
	if (cr->pk == VLNFT_P_ONE) {
		vlnft_rx_meta(&x, NFT_META_L4PROTO);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, &cr->l4, 1);
	} else if (cr->pk == VLNFT_P_TCPUDP) {
		vlnft_rx_meta(&x, NFT_META_L4PROTO);
		vlnft_rx_lookup(&x, VLNFT_SET_TCPUDP, 0, false, false);
	}
	vlnft_match_addr(b, &x, 12, &cr->src);
	vlnft_match_addr(b, &x, 16, &cr->dst);
	vlnft_match_ports(&x, 0, &cr->sport);
	vlnft_match_ports(&x, 2, &cr->dport);
	vlnft_rx_counter(&x);
	vlnft_rx_comment(&x, cr->rule->name, vlnft_crule_fp(chain, nsg, cr));
	/* The mark names the rule for the logs (the flow log at the end of forward, nsg_deny). */
	id = (uint32_t)vl_rule_id(nsg, cr->rule->name);
	vlnft_rx_imm_host(&x, NFT_REG_1, cr->rule->access == VL_ALLOW ? VL_FLOW_MARK_ALLOW | id : id);
	vlnft_rx_meta_set(&x, NFT_META_MARK);
	if (cr->rule->access == VL_ALLOW)
		vlnft_rx_verdict(&x, NFT_RETURN);
	else
		vlnft_rx_goto(&x, VLNFT_CHAIN_DENY);
	return vlnft_rx_end(&x, b, chain);
}

/*
 * The rules of one NSG chain pair. A full commit appends them all. A live
 * edit compares the kernel's rules (handle + fingerprint, from a dump) with
 * the new ones: the rules between the common head and the common tail are
 * deleted by handle and the new ones inserted before the tail (the default
 * rules end every chain, so there nearly always is one), so a one-rule edit
 * of a 1,000-rule NSG is a handful of messages and the kernel keeps the
 * other rules (and their counters). Unknown kernel rules: flush and refill.
 */
struct old_rules {
	struct vlnft_krule **v; /* [2 * pair + dir]: the kernel's rules of that chain */
	size_t *n;
	bool known; /* false: the kernel's rules are unknown, flush and refill */
	/* The kernel's list sets; sets_known false (an offline batch): assume
	 * those of the last full commit, create and delete none. */
	const char (*sets)[VLNFT_SET_NAME_MAX];
	size_t n_sets;
	bool sets_known;
	bool platform_had; /* the kernel holds a platform chain of the NSG (platform.c) */
};

static int edit_chain(struct vlnft_batch *b, const struct vl_nsg *nsg, const char *chain,
		      const struct vlnft_crule *cr, size_t n, const struct vlnft_krule *old, size_t n_old,
		      bool known)
{
	uint64_t *fp = calloc(n ? n : 1, sizeof(*fp));
	size_t head = 0, tail = 0, i;

	if (!fp)
		return b->err = -ENOMEM;
	for (i = 0; i < n; i++)
		fp[i] = vlnft_crule_fp(chain, nsg->name, &cr[i]);
	while (head < n && head < n_old && old[head].fp == fp[head])
		head++;
	while (tail < n - head && tail < n_old - head && old[n_old - 1 - tail].fp == fp[n - 1 - tail])
		tail++;
	for (i = 0; i < n_old; i++)
		if (!old[i].fp)
			break;
	if (i < n_old || !known) {
		/* Rules we did not write (or no knowledge of them): rewrite the chain. */
		vlnft_emit_flush_chain(b, chain);
		for (i = 0; i < n && !b->err; i++)
			emit_nsg_rule(b, nsg->name, chain, &cr[i], 0);
	} else {
		/* Insert before the common tail, or append when there is none. */
		uint64_t before = tail ? old[n_old - tail].handle : 0;

		for (i = head; i < n_old - tail && !b->err; i++)
			vlnft_emit_del_rule(b, chain, old[i].handle);
		for (i = head; i < n - tail && !b->err; i++)
			emit_nsg_rule(b, nsg->name, chain, &cr[i], before);
	}
	free(fp);
	return b->err;
}

static const enum vl_dir dirs[2] = {VL_DIR_IN, VL_DIR_OUT};

/* The chains of pair k: rules appended (old NULL), or edited against old. */
static int emit_pair_rules(struct vlnft_ctx *c, struct vlnft_batch *b, size_t k, const struct old_rules *old,
			   char *why, size_t why_len)
{
	const struct vl_nsg *nsg = &c->lab->nsgs[c->pairs[k].nsg];
	char chain[VLNFT_CHAIN_NAME_MAX];
	struct vlnft_crule *cr;
	size_t i, n;
	int d, err;

	err = vlnft_ctx_scope(c, c->pairs[k].scope, why, why_len);
	for (d = 0; d < 2 && !err; d++) {
		err = vlnft_compile_nsg(c, nsg, dirs[d], &cr, &n, why, why_len);
		if (err)
			return err;
		vlnft_chain_name(chain, c, nsg->name, c->pairs[k].scope, dirs[d]);
		if (old)
			edit_chain(b, nsg, chain, cr, n, old->v ? old->v[2 * k + (size_t)d] : NULL,
				   old->n ? old->n[2 * k + (size_t)d] : 0, old->known);
		else
			for (i = 0; i < n && !b->err; i++)
				emit_nsg_rule(b, nsg->name, chain, &cr[i], 0);
		vlnft_crules_free(cr, n);
		if (b->err) {
			snprintf(why, why_len, "NSG %s: building rules: %s", nsg->name, strerror(-b->err));
			return b->err;
		}
	}
	return err;
}

static int emit_stage_maps(const struct vlnft_shape *sh, struct vlnft_batch *b)
{
	int err = 0;

	for (int s = 0; s < VLNFT_N_STAGES && !err; s++) {
		struct vlnft_set_spec spec = {
		    .name = vlnft_stage_map[s],
		    .flags = NFT_SET_MAP,
		    .key_type = VLNFT_TYPE_IFNAME,
		    .key_len = IFNAMSIZ,
		};
		struct vlnft_elem *e = calloc(sh->n_stage[s] ? sh->n_stage[s] : 1, sizeof(*e));

		if (!e)
			return b->err = -ENOMEM;
		for (size_t i = 0; i < sh->n_stage[s]; i++) {
			memcpy(e[i].key, sh->stage[s][i].ifname, strnlen(sh->stage[s][i].ifname, IFNAMSIZ - 1));
			e[i].chain = sh->stage[s][i].chain;
		}
		err = vlnft_emit_set(b, &spec, e, sh->n_stage[s], NULL);
		free(e);
	}
	return err;
}

/*
 * nsg_deny, where every Deny rule goes with its rule id in the mark: log (at most
 * VL_NFT_LOG_RATE a second, so a flood cannot flood the agent or its disk), then drop.
 * Past the rate the limit stops the first rule and the second drops unlogged.
 */
static int emit_deny_chain(struct vlnft_batch *b)
{
	struct vlnft_rx x;

	if (vlnft_rx_begin(&x, VLNFT_CHAIN_DENY))
		return b->err = x.err;
	vlnft_rx_limit(&x, VL_NFT_LOG_RATE, VL_NFT_LOG_BURST);
	vlnft_rx_counter(&x);
	vlnft_rx_log(&x, VL_NFLOG_PREFIX_DENY, VL_NFLOG_GROUP);
	if (vlnft_rx_end(&x, b, "nsg_deny: limit, log"))
		return b->err;
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_DENY))
		return b->err = x.err;
	vlnft_rx_counter(&x);
	vlnft_rx_verdict(&x, NF_DROP);
	return vlnft_rx_end(&x, b, "nsg_deny: drop");
}

/* The flow log of what the NSGs allowed: a new flow whose mark names an Allow rule (the last one
 * that returned), at most VL_NFT_LOG_RATE a second. */
static int emit_flow_log(struct vlnft_batch *b)
{
	uint32_t allow = VL_FLOW_MARK_ALLOW, newbit = NF_CT_STATE_BIT(IP_CT_NEW), zero = 0;
	struct vlnft_rx x;

	if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
		return b->err = x.err;
	vlnft_rx_meta(&x, NFT_META_MARK);
	vlnft_rx_bitwise(&x, &allow, 4);
	vlnft_rx_cmp(&x, NFT_CMP_NEQ, &zero, 4);
	vlnft_rx_ct_state(&x, newbit);
	vlnft_rx_limit(&x, VL_NFT_LOG_RATE, VL_NFT_LOG_BURST);
	vlnft_rx_counter(&x);
	vlnft_rx_log(&x, VL_NFLOG_PREFIX_ALLOW, VL_NFLOG_FLOW_GROUP);
	return vlnft_rx_end(&x, b, "forward: flow log of allowed flows");
}

static int emit_forward(const struct vlnft_shape *sh, struct vlnft_batch *b)
{
	static const uint32_t stage_meta[VLNFT_N_STAGES] = {
	    [VLNFT_NIC_OUT] = NFT_META_IIFNAME,
	    [VLNFT_SUBNET_OUT] = NFT_META_IIFNAME,
	    [VLNFT_SUBNET_IN] = NFT_META_OIFNAME,
	    [VLNFT_NIC_IN] = NFT_META_OIFNAME,
	};
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	struct vlnft_rx x;
	int s;

	if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
		return b->err = x.err;
	vlnft_rx_ct_state(&x, mask);
	vlnft_rx_counter(&x);
	vlnft_rx_verdict(&x, NF_ACCEPT);
	if (vlnft_rx_end(&x, b, "forward: ct state established,related accept"))
		return b->err;
	/* Forwarded traffic a peering does not admit (spec 12.4), before this VNet's NSGs. */
	for (size_t i = 0; i < sh->n_fwd; i++) {
		char name[IFNAMSIZ] = {0}, set[32];

		if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
			return b->err = x.err;
		memcpy(name, sh->fwd_if[i], strnlen(sh->fwd_if[i], IFNAMSIZ - 1));
		snprintf(set, sizeof(set), VLNFT_SET_FWD_PREFIX "%s", sh->fwd_if[i] + 2);
		vlnft_rx_meta(&x, NFT_META_IIFNAME);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, name, IFNAMSIZ);
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		vlnft_rx_lookup(&x, set, 0, true, false);
		vlnft_rx_counter(&x);
		/* Silently, as Azure does: an ICMP error could not go back to a source from elsewhere. */
		vlnft_rx_verdict(&x, NF_DROP);
		if (vlnft_rx_end(&x, b, "forward: forwarded traffic the peering does not admit"))
			return b->err;
	}
	for (s = 0; s < VLNFT_N_STAGES; s++) {
		if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
			return b->err = x.err;
		vlnft_rx_meta(&x, stage_meta[s]);
		vlnft_rx_lookup(&x, vlnft_stage_map[s], 0, false, true);
		if (vlnft_rx_end(&x, b, vlnft_stage_map[s]))
			return b->err;
	}
	/* After the NSGs, as Azure drops at the appliance that does not forward (spec 23.3). */
	for (size_t i = 0; i < sh->n_nofwd; i++) {
		char name[IFNAMSIZ] = {0};
		uint8_t ip[4];

		if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
			return b->err = x.err;
		memcpy(name, sh->nofwd[i].ifname, strnlen(sh->nofwd[i].ifname, IFNAMSIZ - 1));
		vlnft_rx_meta(&x, NFT_META_OIFNAME);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, name, IFNAMSIZ);
		vlnft_key_be(ip, sh->nofwd[i].value, 4);
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		vlnft_rx_cmp(&x, NFT_CMP_NEQ, ip, 4);
		vlnft_rx_counter(&x);
		vlnft_rx_reject_host_unreach(&x);
		if (vlnft_rx_end(&x, b, "forward: appliance without IP forwarding"))
			return b->err;
	}
	return emit_flow_log(b);
}

/* prerouting: NICs of subnets with their own route table get that table's fwmark. */
static int emit_marks(const struct vlnft_shape *sh, struct vlnft_batch *b)
{
	static const struct vlnft_hook pre = {NF_INET_PRE_ROUTING, -150, "filter"};
	struct vlnft_set_spec spec = {
	    .name = VLNFT_MAP_MARKS,
	    .flags = NFT_SET_MAP,
	    .key_type = VLNFT_TYPE_IFNAME,
	    .key_len = IFNAMSIZ,
	    .data_type = VLNFT_TYPE_MARK,
	    .data_len = 4,
	};
	struct vlnft_elem *e = calloc(sh->n_marks ? sh->n_marks : 1, sizeof(*e));
	struct vlnft_rx x;

	if (!e)
		return b->err = -ENOMEM;
	for (size_t i = 0; i < sh->n_marks; i++) {
		memcpy(e[i].key, sh->marks[i].ifname, strnlen(sh->marks[i].ifname, IFNAMSIZ - 1));
		e[i].data = sh->marks[i].value;
	}
	vlnft_emit_set(b, &spec, e, sh->n_marks, NULL);
	free(e);
	vlnft_emit_chain(b, VLNFT_CHAIN_PREROUTING, &pre);
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_PREROUTING))
		return b->err = x.err;
	vlnft_rx_meta(&x, NFT_META_IIFNAME);
	vlnft_rx_map(&x, VLNFT_MAP_MARKS);
	vlnft_rx_meta_set(&x, NFT_META_MARK);
	return vlnft_rx_end(&x, b, "prerouting: meta mark set iifname map @route_marks");
}

static int emit_addr_map(struct vlnft_batch *b, const char *name, const struct vlnft_kv *kv, size_t n)
{
	struct vlnft_set_spec spec = {
	    .name = name,
	    .flags = NFT_SET_MAP,
	    .key_type = VLNFT_TYPE_IPADDR,
	    .key_len = 4,
	    .data_type = VLNFT_TYPE_IPADDR,
	    .data_len = 4,
	};
	struct vlnft_elem *e = calloc(n ? n : 1, sizeof(*e));
	int err;

	if (!e)
		return b->err = -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		vlnft_key_be(e[i].key, kv[i].key, 4);
		e[i].data = htonl(kv[i].value); /* an address: network order in the register */
	}
	err = vlnft_emit_set(b, &spec, e, n, NULL);
	free(e);
	return err;
}

/* edge_in (nat prerouting): an instance public IP is DNATed 1:1 to its VM before routing, so the
 * VM's NSGs see the private destination (spec 14.1). */
static int emit_edge_dnat(const struct vlnft_shape *sh, struct vlnft_batch *b)
{
	static const struct vlnft_hook pre = {NF_INET_PRE_ROUTING, -100, "nat"};
	char name[IFNAMSIZ] = VL_EDGE_IFNAME;
	struct vlnft_rx x;

	emit_addr_map(b, VLNFT_MAP_DNAT, sh->ilpip, sh->n_ilpip);
	vlnft_emit_chain(b, VLNFT_CHAIN_EDGE_IN, &pre);
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_EDGE_IN))
		return b->err = x.err;
	vlnft_rx_meta(&x, NFT_META_IIFNAME);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, name, IFNAMSIZ);
	vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
	vlnft_rx_map(&x, VLNFT_MAP_DNAT);
	vlnft_rx_counter(&x);
	vlnft_rx_dnat(&x, false);
	return vlnft_rx_end(&x, b, "edge_in: dnat to ip daddr map @edge_dnat");
}

/* prerouting: a frontend's packet from the edge gets the mark of one healthy backend, by a hash
 * of the client's address and port (Azure LB: 5-tuple hash); the mark's table routes it to that
 * node with the frontend address kept (floating IP, spec 15.4). */
static int emit_lb(const struct vlnft_shape *sh, struct vlnft_batch *b)
{
	char name[IFNAMSIZ] = VL_EDGE_IFNAME;

	for (size_t i = 0; i < sh->n_lb; i++) {
		const struct vlnft_lbport *l = &sh->lb[i];
		uint8_t ip[4], port[2];

		vlnft_key_be(ip, l->ip, 4);
		vlnft_key_be(port, l->port, 2);
		for (size_t k = 0; k < l->n_marks; k++) {
			struct vlnft_rx x;
			uint32_t slot = (uint32_t)k;

			if (vlnft_rx_begin(&x, VLNFT_CHAIN_PREROUTING))
				return b->err = x.err;
			vlnft_rx_meta(&x, NFT_META_IIFNAME);
			vlnft_rx_cmp(&x, NFT_CMP_EQ, name, IFNAMSIZ);
			vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
			vlnft_rx_cmp(&x, NFT_CMP_EQ, ip, 4);
			vlnft_rx_meta(&x, NFT_META_L4PROTO);
			vlnft_rx_cmp(&x, NFT_CMP_EQ, &l->l4, 1);
			vlnft_rx_payload(&x, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
			vlnft_rx_cmp(&x, NFT_CMP_EQ, port, 2);
			if (l->n_marks > 1) {
				vlnft_rx_jhash_client(&x, (uint32_t)l->n_marks);
				vlnft_rx_cmp(&x, NFT_CMP_EQ, &slot, 4);
			}
			vlnft_rx_counter(&x);
			vlnft_rx_imm_host(&x, NFT_REG_1, l->marks[k]);
			vlnft_rx_meta_set(&x, NFT_META_MARK);
			if (vlnft_rx_end(&x, b, "prerouting: load balancer frontend to a backend"))
				return b->err;
		}
	}
	return 0;
}

/* postrouting: on the edge, after the NSGs (spec 3.6, 23.7), each NIC's outbound address by
 * spec 14.1 (NAT gateway, instance public IP, the cluster's outbound IP), else the VNet's default
 * outbound address. */
static int emit_edge_snat(const struct vlnft_shape *sh, struct vlnft_batch *b)
{
	static const struct vlnft_hook post = {NF_INET_POST_ROUTING, 100, "nat"};
	char name[IFNAMSIZ] = VL_EDGE_IFNAME;
	struct vlnft_rx x;

	emit_addr_map(b, VLNFT_MAP_SNAT, sh->snat, sh->n_snat);
	vlnft_emit_chain(b, VLNFT_CHAIN_POSTROUTING, &post);
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_POSTROUTING))
		return b->err = x.err;
	vlnft_rx_meta(&x, NFT_META_OIFNAME);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, name, IFNAMSIZ);
	vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
	vlnft_rx_map(&x, VLNFT_MAP_SNAT);
	vlnft_rx_counter(&x);
	vlnft_rx_snat(&x);
	if (vlnft_rx_end(&x, b, "postrouting: snat to ip saddr map @edge_snat"))
		return b->err;
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_POSTROUTING))
		return b->err = x.err;
	vlnft_rx_meta(&x, NFT_META_OIFNAME);
	vlnft_rx_cmp(&x, NFT_CMP_EQ, name, IFNAMSIZ);
	vlnft_rx_counter(&x);
	vlnft_rx_imm(&x, sh->outbound);
	vlnft_rx_snat(&x);
	return vlnft_rx_end(&x, b, "postrouting: snat on the edge");
}

static int emit_addr_set(struct vlnft_batch *b, const char *name, const struct vlnft_ivals *iv)
{
	struct vlnft_set_spec spec = {
	    .name = name,
	    .flags = NFT_SET_INTERVAL,
	    .key_type = VLNFT_TYPE_IPADDR,
	    .key_len = 4,
	};
	struct vlnft_elem *e;
	size_t n;
	int err = vlnft_ival_elems(iv, 4, &e, &n);

	if (err)
		return b->err = err;
	err = vlnft_emit_set(b, &spec, e, n, NULL);
	free(e);
	return err;
}

static int build_full(struct vlnft_ctx *c, struct vlnft_batch *b, char *why, size_t why_len)
{
	static const struct vlnft_hook fwd = {NF_INET_FORWARD, 0, "filter"};
	/* Shared by every `*` rule with ports: an anonymous set per rule would
	 * cost the kernel a walk over all sets of the table each. */
	static const struct vlnft_set_spec tcpudp = {
	    .name = VLNFT_SET_TCPUDP,
	    .flags = NFT_SET_CONSTANT,
	    .key_type = VLNFT_TYPE_INET_PROTOCOL,
	    .key_len = 1,
	};
	static const struct vlnft_elem tcpudp_elems[2] = {{.key = {6}}, {.key = {17}}};
	char chain[VLNFT_CHAIN_NAME_MAX], set[VLNFT_VNET_SET_MAX];
	struct vlnft_named *lists;
	struct vlnft_shape sh;
	size_t i, n_lists;
	int err;

	err = vlnft_shape_init(&sh, c);
	if (err) {
		snprintf(why, why_len, "fabric ruleset: %s", strerror(-err));
		return err;
	}
	err = vlnft_lab_sets(c, &lists, &n_lists, why, why_len);
	if (err)
		goto out;
	vlnft_emit_table(b, true);
	for (i = 0; i < sh.n_scopes && !err; i++) {
		err = vlnft_ctx_scope(c, sh.scopes[i], why, why_len);
		vlnft_vnet_set_name(set, c, sh.scopes[i]);
		if (!err)
			err = emit_addr_set(b, set, &c->vnet_tag);
	}
	if (!err)
		err = emit_addr_set(b, VLNFT_SET_NOTINET, &c->notinet);
	for (i = 0; i < sh.n_fwd && !err; i++) {
		char fwd[32];

		snprintf(fwd, sizeof(fwd), VLNFT_SET_FWD_PREFIX "%s", sh.fwd_if[i] + 2);
		err = emit_addr_set(b, fwd, &sh.fwd[i]);
	}
	vlnft_emit_set(b, &tcpudp, tcpudp_elems, 2, NULL);
	for (i = 0; i < n_lists && !b->err; i++)
		vlnft_emit_list_set(b, &lists[i]);
	vlnft_named_free(lists, n_lists);
	vlnft_emit_chain(b, VLNFT_CHAIN_FORWARD, &fwd);
	vlnft_emit_chain(b, VLNFT_CHAIN_DENY, NULL);
	emit_deny_chain(b);
	for (i = 0; i < c->n_pairs && !b->err; i++) {
		const char *nsg = c->lab->nsgs[c->pairs[i].nsg].name;

		vlnft_chain_name(chain, c, nsg, c->pairs[i].scope, VL_DIR_IN);
		vlnft_emit_chain(b, chain, NULL);
		vlnft_chain_name(chain, c, nsg, c->pairs[i].scope, VL_DIR_OUT);
		vlnft_emit_chain(b, chain, NULL);
	}
	emit_stage_maps(&sh, b);
	emit_forward(&sh, b);
	emit_marks(&sh, b);
	emit_lb(&sh, b);
	emit_edge_dnat(&sh, b);
	emit_edge_snat(&sh, b);
	for (i = 0; i < c->n_pairs && !b->err && !err; i++)
		err = emit_pair_rules(c, b, i, NULL, why, why_len);
	if (!err && !b->err)
		err = vlnft_platform_emit(c, b, &sh, why, why_len);
	if (!err && b->err) {
		snprintf(why, why_len, "fabric ruleset: %s", strerror(-b->err));
		err = b->err;
	}
out:
	vlnft_shape_fini(&sh);
	return err;
}

static int build_one(struct vlnft_ctx *c, int nsg, const struct old_rules *old, struct vlnft_batch *b,
		     char *why, size_t why_len)
{
	static const struct old_rules none = {NULL, NULL, false, NULL, 0, false, false};
	struct vlnft_named *lists = NULL;
	size_t i, j, n_lists = 0;
	int err = 0;

	/* No knowledge of the kernel's rules: flush the chains and refill. */
	if (!old)
		old = &none;
	if (!old->sets_known) {
		for (i = 0; i < c->n_pairs && !err; i++)
			if (c->pairs[i].nsg == nsg)
				err = emit_pair_rules(c, b, i, old, why, why_len);
		return err ? err : vlnft_platform_edit(c, b, nsg, old->platform_had, why, why_len);
	}
	err = vlnft_lab_sets(c, &lists, &n_lists, why, why_len);
	if (err)
		return err;
	/* Both sorted by name: create what the kernel lacks, rules, delete what the lab no longer uses. */
	for (i = j = 0; i < n_lists && !b->err; i++) {
		while (j < old->n_sets && strcmp(old->sets[j], lists[i].name) < 0)
			j++;
		if (j == old->n_sets || strcmp(old->sets[j], lists[i].name))
			vlnft_emit_list_set(b, &lists[i]);
	}
	err = b->err;
	for (i = 0; i < c->n_pairs && !err; i++)
		if (c->pairs[i].nsg == nsg)
			err = emit_pair_rules(c, b, i, old, why, why_len);
	if (!err)
		err = vlnft_platform_edit(c, b, nsg, old->platform_had, why, why_len);
	for (i = j = 0; i < old->n_sets && !err && !b->err; i++) {
		while (j < n_lists && strcmp(lists[j].name, old->sets[i]) < 0)
			j++;
		if (j == n_lists || strcmp(lists[j].name, old->sets[i]))
			vlnft_emit_del_set(b, old->sets[i]);
	}
	vlnft_named_free(lists, n_lists);
	if (!err)
		err = b->err;
	/* A failure while making or dropping list sets has not said so yet. */
	if (err && !why[0])
		snprintf(why, why_len, "NSG %s: list sets: %s", c->lab->nsgs[nsg].name, strerror(-err));
	return err;
}

static int build(const struct vl_lab *lab, int vnet, int nsg, const struct old_rules *old,
		 struct vlnft_batch *b, char *why, size_t why_len)
{
	struct vlnft_ctx c;
	int err;

	if (nsg != VL_NONE && (nsg < 0 || (size_t)nsg >= lab->n_nsgs)) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	err = vlnft_ctx_init(&c, lab, vnet, why, why_len);
	if (err)
		return err;
	err = vlnft_batch_init(b);
	if (!err)
		err = nsg == VL_NONE ? build_full(&c, b, why, why_len)
				     : build_one(&c, nsg, old, b, why, why_len);
	if (!err)
		err = vlnft_batch_finish(b);
	if (err && !why[0])
		snprintf(why, why_len, "fabric ruleset: %s", strerror(-err));
	vlnft_ctx_fini(&c);
	if (err)
		vlnft_batch_fini(b);
	return err;
}

int vlnft_nsg_build(const struct vl_lab *lab, int vnet, int nsg, struct vlnft_batch *b, char *why,
		    size_t why_len)
{
	return build(lab, vnet, nsg, NULL, b, why, why_len);
}

/* Hand a batch just built (err: the builder's result) to the caller. */
static int hand_out(struct vlnft_batch *b, int err, void **buf, size_t *len)
{
	if (err)
		return err; /* the builder freed it */
	*buf = b->buf;
	*len = b->len;
	b->buf = NULL;
	vlnft_batch_fini(b);
	return 0;
}

/* Send a batch just built (err: the builder's result) and free it. */
static int send_and_free(struct vlnft_batch *b, int err, int nsfd, char *why, size_t why_len)
{
	if (err)
		return err; /* the builder freed it */
	err = vlnft_batch_send(b, nsfd, why, why_len);
	vlnft_batch_fini(b);
	return err;
}

int vl_nft_nsg_batch(const struct vl_lab *lab, int vnet, int nsg, void **buf, size_t *len, char *why,
		     size_t why_len)
{
	struct vlnft_batch b;

	VLNFT_WHY_INIT(why, why_len);
	return hand_out(&b, vlnft_nsg_build(lab, vnet, nsg, &b, why, why_len), buf, len);
}

int vl_nft_masq_batch(const struct vl_lab *lab, int node_ep, void **buf, size_t *len, char *why,
		      size_t why_len)
{
	struct vlnft_batch b;

	VLNFT_WHY_INIT(why, why_len);
	return hand_out(&b, vlnft_masq_build(lab, node_ep, &b, why, why_len), buf, len);
}

/**
 * vl_nft_masq_commit - install the ip-masq-agent ruleset of an AKS node
 */
int vl_nft_masq_commit(const struct vl_lab *lab, int node_ep, int node_nsfd, char *why, size_t why_len)
{
	struct vlnft_batch b;

	VLNFT_WHY_INIT(why, why_len);
	return send_and_free(&b, vlnft_masq_build(lab, node_ep, &b, why, why_len), node_nsfd, why, why_len);
}

static int send_built(const struct vl_lab *lab, int vnet, int nsg, const struct old_rules *old, int nsfd,
		      char *why, size_t why_len)
{
	struct vlnft_batch b;

	why[0] = '\0';
	return send_and_free(&b, build(lab, vnet, nsg, old, &b, why, why_len), nsfd, why, why_len);
}

/* The kernel's list sets into old; no table: unknown (the edit then fails naming its chain). */
static int dump_sets(int nsfd, struct old_rules *old, char (**sets)[VLNFT_SET_NAME_MAX], char *why,
		     size_t why_len)
{
	int err = vlnft_dump_sets(nsfd, sets, &old->n_sets, why, why_len);

	old->sets = (const char(*)[VLNFT_SET_NAME_MAX]) * sets;
	old->sets_known = err == 0;
	if (err == -ENOENT) {
		why[0] = '\0';
		return 0;
	}
	return err;
}

static int commit(const struct vl_lab *lab, int vnet, int nsg, int nsfd, char *why, size_t why_len)
{
	struct old_rules old = {NULL, NULL, true, NULL, 0, true, false};
	char chain[VLNFT_CHAIN_NAME_MAX], (*sets)[VLNFT_SET_NAME_MAX] = NULL;
	struct vlnft_ctx c;
	size_t total = 0;
	int err;

	if (nsg == VL_NONE)
		return send_built(lab, vnet, nsg, NULL, nsfd, why, why_len);
	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	err = vlnft_ctx_init(&c, lab, vnet, why, why_len);
	if (err)
		return err;
	old.v = calloc(2 * c.n_pairs + 1, sizeof(*old.v));
	old.n = calloc(2 * c.n_pairs + 1, sizeof(*old.n));
	if (!old.v || !old.n)
		err = -ENOMEM;
	for (size_t k = 0; k < c.n_pairs && !err; k++)
		for (int d = 0; d < 2 && !err; d++) {
			if (c.pairs[k].nsg != nsg)
				continue;
			vlnft_chain_name(chain, &c, lab->nsgs[nsg].name, c.pairs[k].scope, dirs[d]);
			err = vlnft_dump_chain(nsfd, chain, &old.v[2 * k + (size_t)d], &old.n[2 * k + (size_t)d],
					       why, why_len);
			total += old.n[2 * k + (size_t)d];
		}
	if (!err)
		err = dump_sets(nsfd, &old, &sets, why, why_len);
	old.platform_had = !err && vlnft_platform_in_kernel(nsfd, &c, nsg);
	if (!err)
		err = send_built(lab, vnet, nsg, &old, nsfd, why, why_len);
	/* Rules or sets changed under us (another editor): rewrite the chains whole. */
	if (err == -ENOENT && total > 0) {
		free(sets);
		sets = NULL;
		old.known = false;
		err = dump_sets(nsfd, &old, &sets, why, why_len);
		if (!err)
			err = send_built(lab, vnet, nsg, &old, nsfd, why, why_len);
	}
	free(sets);
	for (size_t k = 0; old.v && k < 2 * c.n_pairs; k++)
		free(old.v[k]);
	free(old.v);
	free(old.n);
	vlnft_ctx_fini(&c);
	return err;
}

/**
 * vl_nft_fabric_commit - replace a VNet fabric's table ip vnetlab in one transaction
 *
 * Established flows survive: conntrack is never touched.
 */
int vl_nft_fabric_commit(const struct vl_lab *lab, int vnet, int fabric_nsfd, char *why, size_t why_len)
{
	VLNFT_WHY_INIT(why, why_len);
	return commit(lab, vnet, VL_NONE, fabric_nsfd, why, why_len);
}

/**
 * vl_nft_nsg_commit_one - rewrite the chains of one NSG in one fabric atomically
 */
int vl_nft_nsg_commit_one(const struct vl_lab *lab, int vnet, int nsg, int fabric_nsfd, char *why,
			  size_t why_len)
{
	VLNFT_WHY_INIT(why, why_len);
	if (nsg < 0) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	return commit(lab, vnet, nsg, fabric_nsfd, why, why_len);
}

/* The kernel layer commits any ruleset of a plan through this table. */
struct ruleset_ops {
	const char *name;
	int (*commit)(const struct vl_lab *lab, int index, int nsfd, char *why, size_t why_len);
};

static const struct ruleset_ops ruleset_ops[VL_RULESET_N_KINDS] = {
    [VL_RULESET_FABRIC] = {"fabric", vl_nft_fabric_commit},
    [VL_RULESET_MASQ] = {"masquerade", vl_nft_masq_commit},
};

int vl_nft_ruleset_commit(const struct vl_lab *lab, const struct vl_plan_ruleset *rs, int nsfd, char *why,
			  size_t why_len)
{
	VLNFT_WHY_INIT(why, why_len);
	if ((unsigned)rs->kind >= VL_RULESET_N_KINDS || !ruleset_ops[rs->kind].commit) {
		snprintf(why, why_len, "no ruleset of kind %d", (int)rs->kind);
		return -EINVAL;
	}
	return ruleset_ops[rs->kind].commit(lab, rs->index, nsfd, why, why_len);
}

const char *vl_nft_ruleset_name(enum vl_ruleset_kind kind)
{
	return (unsigned)kind < VL_RULESET_N_KINDS && ruleset_ops[kind].name ? ruleset_ops[kind].name : "?";
}
