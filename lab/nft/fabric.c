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


/* One nft rule of an NSG chain: the match, the rule id in the mark, return or nsg_deny. No
 * counter: each expression costs the kernel ~2 us to take in (it looks each up by name among
 * every expression type it has), and a counter is one of ten in a rule. */
static int emit_nsg_rule(struct vlnft_batch *b, const char *nsg, const char *chain,
			 const struct vlnft_crule *cr, uint64_t fp)
{
	struct vlnft_rx x;
	uint32_t id;

	if (vlnft_rx_begin(&x, chain))
		return b->err = x.err;
	vlnft_rx_nsg_match(b, &x, cr);
	vlnft_rx_comment(&x, cr->rule->name, fp);
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

static int emit_rules(struct vlnft_batch *b, const struct vlnft_layout *l, const char *chain, size_t first,
		      size_t n)
{
	for (size_t i = first; i < first + n && !b->err; i++)
		emit_nsg_rule(b, l->nsg, chain, &l->cr[i], l->fp[i]);
	return b->err;
}

/* A chunked chain's own rules: the mark to 0, then each chunk in turn until one decided (an Allow
 * leaves its id in the mark and returns; a Deny goes to nsg_deny), the last by goto. */
static int emit_head(struct vlnft_batch *b, const struct vlnft_layout *l)
{
	static const uint32_t zero;
	struct vlnft_rx x;

	if (vlnft_rx_begin(&x, l->chain))
		return b->err = x.err;
	vlnft_rx_imm_host(&x, NFT_REG_1, 0);
	vlnft_rx_meta_set(&x, NFT_META_MARK);
	if (vlnft_rx_end(&x, b, l->chain))
		return b->err;
	for (size_t k = 0; k < l->n_chunks; k++) {
		bool last = k + 1 == l->n_chunks;

		if (vlnft_rx_begin(&x, l->chain))
			return b->err = x.err;
		if (last)
			vlnft_rx_goto(&x, l->chunks[k].name);
		else
			vlnft_rx_jump(&x, l->chunks[k].name);
		if (vlnft_rx_end(&x, b, l->chain) || last)
			return b->err;
		if (vlnft_rx_begin(&x, l->chain))
			return b->err = x.err;
		vlnft_rx_meta(&x, NFT_META_MARK);
		vlnft_rx_cmp(&x, NFT_CMP_NEQ, &zero, 4);
		vlnft_rx_verdict(&x, NFT_RETURN);
		if (vlnft_rx_end(&x, b, l->chain))
			return b->err;
	}
	return b->err;
}

/*
 * What a batch knows of the kernel's table. A full commit makes the table anew (none). A live
 * edit reads the names of its chains and list sets first (known); an offline edit batch
 * (vl_nft_nsg_batch) knows nothing and writes what is right whatever the kernel holds.
 */
struct kstate {
	bool known;
	const char (*chains)[VLNFT_CHAIN_NAME_MAX]; /* sorted */
	size_t n_chains;
	const char (*sets)[VLNFT_SET_NAME_MAX]; /* sorted */
	size_t n_sets;
	bool platform_had; /* the kernel holds a platform chain of the NSG (platform.c) */
};

static int cmp_chain(const void *key, const void *elem)
{
	return strcmp(key, elem);
}

static bool kernel_has_chain(const struct kstate *ks, const char *name)
{
	return ks && ks->known && bsearch(name, ks->chains, ks->n_chains, sizeof(*ks->chains), cmp_chain);
}

static bool layout_has_chunk(const struct vlnft_layout *l, const char *name)
{
	for (size_t k = 0; k < l->n_chunks; k++)
		if (!strcmp(l->chunks[k].name, name))
			return true;
	return false;
}

/*
 * Fill one laid-out chain. A full commit (ks NULL) made the chain already and has no chunks yet.
 * An edit makes what the kernel lacks (the chain itself if the NSG is new there, and the chunks
 * whose content is new: a chunk the kernel has by name holds those very rules), rewrites the
 * chain's own rules, then deletes the chunks it no longer jumps to. Blind (ks not known), every
 * chunk is made, emptied and filled, and stale ones stay (unreferenced). A chunked chain whose
 * chunks the kernel has, all and only those, is left as it is.
 */
/* Does the kernel hold exactly the chunk chains of l (so that its head, which jumps to them by
 * name, need not change)? */
static bool kernel_has_layout(const struct kstate *ks, const struct vlnft_layout *l)
{
	size_t found = 0;

	if (!l->n_chunks || !kernel_has_chain(ks, l->chain))
		return false;
	for (size_t i = 0; i < ks->n_chains; i++)
		if (vlnft_is_chunk_of(ks->chains[i], l->chain)) {
			if (!layout_has_chunk(l, ks->chains[i]))
				return false;
			found++;
		}
	return found == l->n_chunks;
}

static int fill_layout(struct vlnft_batch *b, const struct vlnft_layout *l, const struct kstate *ks)
{
	bool blind = ks && !ks->known;

	/* An edit of the NSG's other direction, or of nothing: this chain's chunks are all there. */
	if (ks && ks->known && kernel_has_layout(ks, l))
		return 0;
	if (ks && ks->known && !kernel_has_chain(ks, l->chain))
		vlnft_emit_chain(b, l->chain, NULL); /* blind: the chain is there since the full commit */
	for (size_t k = 0; k < l->n_chunks && !b->err; k++) {
		if (kernel_has_chain(ks, l->chunks[k].name))
			continue;
		vlnft_emit_chain(b, l->chunks[k].name, NULL);
		if (blind)
			vlnft_emit_flush_chain(b, l->chunks[k].name);
		emit_rules(b, l, l->chunks[k].name, l->chunks[k].first, l->chunks[k].n);
	}
	if (ks)
		vlnft_emit_flush_chain(b, l->chain);
	if (l->n_chunks)
		emit_head(b, l);
	else
		emit_rules(b, l, l->chain, 0, l->n);
	for (size_t i = 0; ks && ks->known && i < ks->n_chains && !b->err; i++)
		if (vlnft_is_chunk_of(ks->chains[i], l->chain) && !layout_has_chunk(l, ks->chains[i]))
			vlnft_emit_del_chain(b, ks->chains[i]);
	return b->err;
}

static const enum vl_dir dirs[2] = {VL_DIR_IN, VL_DIR_OUT};

/* The chains of pair k, for a full commit (ks NULL) or an edit. */
static int emit_pair_rules(struct vlnft_ctx *c, struct vlnft_batch *b, size_t k, const struct kstate *ks,
			   char *why, size_t why_len)
{
	const struct vl_nsg *nsg = &c->lab->nsgs[c->pairs[k].nsg];
	struct vlnft_layout l;
	int err;

	err = vlnft_ctx_scope(c, c->pairs[k].scope, why, why_len);
	for (int d = 0; d < 2 && !err; d++) {
		err = vlnft_layout_nsg(c, nsg, c->pairs[k].scope, dirs[d], &l, why, why_len);
		if (err)
			return err;
		fill_layout(b, &l, ks);
		vlnft_layout_fini(&l);
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

static int build_one(struct vlnft_ctx *c, int nsg, const struct kstate *ks, struct vlnft_batch *b,
		     char *why, size_t why_len)
{
	static const struct kstate blind = {false, NULL, 0, NULL, 0, false};
	struct vlnft_named *lists = NULL;
	size_t i, j, n_lists = 0;
	int err = 0;

	if (!ks)
		ks = &blind;
	/* Blind: the list sets are those of the last full commit; make and delete none. */
	if (!ks->known) {
		for (i = 0; i < c->n_pairs && !err; i++)
			if (c->pairs[i].nsg == nsg)
				err = emit_pair_rules(c, b, i, ks, why, why_len);
		return err ? err : vlnft_platform_edit(c, b, nsg, ks->platform_had, why, why_len);
	}
	/* With no list set in the kernel, none is the other NSGs' and none can go: only this NSG's
	 * lists matter (one compile of its rules fewer than all the lab's). */
	err = vlnft_nsg_sets(c, ks->n_sets ? VL_NONE : nsg, &lists, &n_lists, why, why_len);
	if (err)
		return err;
	/* Both sorted by name: create what the kernel lacks, rules, delete what the lab no longer uses. */
	for (i = j = 0; i < n_lists && !b->err; i++) {
		while (j < ks->n_sets && strcmp(ks->sets[j], lists[i].name) < 0)
			j++;
		if (j == ks->n_sets || strcmp(ks->sets[j], lists[i].name))
			vlnft_emit_list_set(b, &lists[i]);
	}
	err = b->err;
	for (i = 0; i < c->n_pairs && !err; i++)
		if (c->pairs[i].nsg == nsg)
			err = emit_pair_rules(c, b, i, ks, why, why_len);
	if (!err)
		err = vlnft_platform_edit(c, b, nsg, ks->platform_had, why, why_len);
	for (i = j = 0; i < ks->n_sets && !err && !b->err; i++) {
		while (j < n_lists && strcmp(lists[j].name, ks->sets[i]) < 0)
			j++;
		if (j == n_lists || strcmp(lists[j].name, ks->sets[i]))
			vlnft_emit_del_set(b, ks->sets[i]);
	}
	vlnft_named_free(lists, n_lists);
	if (!err)
		err = b->err;
	/* A failure while making or dropping list sets has not said so yet. */
	if (err && !why[0])
		snprintf(why, why_len, "NSG %s: list sets: %s", c->lab->nsgs[nsg].name, strerror(-err));
	return err;
}

static int build(const struct vl_lab *lab, int vnet, int nsg, const struct kstate *ks,
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
				     : build_one(&c, nsg, ks, b, why, why_len);
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

static int send_built(const struct vl_lab *lab, int vnet, int nsg, const struct kstate *ks, int nsfd,
		      char *why, size_t why_len)
{
	struct vlnft_batch b;

	why[0] = '\0';
	return send_and_free(&b, build(lab, vnet, nsg, ks, &b, why, why_len), nsfd, why, why_len);
}

/* The kernel's chain and list-set names, and so whether it holds the NSG's platform chain. No
 * table: not known (the edit then fails naming its chain). */
static int read_kernel(int nsfd, const struct vl_lab *lab, int vnet, int nsg, struct kstate *ks,
		       char (**chains)[VLNFT_CHAIN_NAME_MAX], char (**sets)[VLNFT_SET_NAME_MAX], char *why,
		       size_t why_len)
{
	struct vlnft_ctx c;
	int err;

	memset(ks, 0, sizeof(*ks));
	*chains = NULL;
	*sets = NULL;
	err = vlnft_dump_chains(nsfd, chains, &ks->n_chains, why, why_len);
	if (!err)
		err = vlnft_dump_sets(nsfd, sets, &ks->n_sets, why, why_len);
	if (err == -ENOENT) {
		why[0] = '\0';
		return 0;
	}
	if (err)
		return err;
	ks->chains = (const char(*)[VLNFT_CHAIN_NAME_MAX]) * chains;
	ks->sets = (const char(*)[VLNFT_SET_NAME_MAX]) * sets;
	ks->known = true;
	err = vlnft_ctx_init(&c, lab, vnet, why, why_len);
	if (err)
		return err;
	for (size_t k = 0; k < c.n_pairs && !ks->platform_had; k++) {
		char chain[VLNFT_CHAIN_NAME_MAX];

		if (c.pairs[k].nsg != nsg)
			continue;
		vlnft_platform_chain_name(chain, &c, lab->nsgs[nsg].name, c.pairs[k].scope);
		ks->platform_had = kernel_has_chain(ks, chain);
	}
	vlnft_ctx_fini(&c);
	return 0;
}

/* A live edit of one NSG: read the kernel's names, send; once more if the table changed between. */
static int commit_one(const struct vl_lab *lab, int vnet, int nsg, int nsfd, char *why, size_t why_len)
{
	int err = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		char(*chains)[VLNFT_CHAIN_NAME_MAX], (*sets)[VLNFT_SET_NAME_MAX];
		struct kstate ks;

		err = read_kernel(nsfd, lab, vnet, nsg, &ks, &chains, &sets, why, why_len);
		if (!err)
			err = send_built(lab, vnet, nsg, &ks, nsfd, why, why_len);
		free(chains);
		free(sets);
		/* Another editor between our read and our batch: chains or sets came or went. */
		if (err != -ENOENT && err != -EEXIST && err != -EBUSY)
			break;
	}
	return err;
}

static int commit(const struct vl_lab *lab, int vnet, int nsg, int nsfd, char *why, size_t why_len)
{
	if (nsg == VL_NONE)
		return send_built(lab, vnet, nsg, NULL, nsfd, why, why_len);
	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	return commit_one(lab, vnet, nsg, nsfd, why, why_len);
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
