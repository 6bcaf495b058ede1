/* SPDX-License-Identifier: MIT */
/*
 * A VNet fabric's ruleset as one nftables transaction.
 *
 *   table ip vnetlab
 *     set vnet, vnet/<k>  VirtualNetwork of the system scope and of scope k (interval)
 *     set notinet         everything outside the Internet tag (interval)
 *     set tcpudp          { tcp, udp }: protocol `*` with ports
 *     chain in-/out-<nsg>[/<k>]  one rule per NSG rule, defaults last; past 32 rules, a
 *                         head jumping to chunk chains "<chain>/c<hash>" (nsgchain.c), and
 *                         for a run of exact rules "<chain>/k<hash>" with its map (keyed.c)
 *     map nic_out, subnet_out, subnet_in, nic_in   ifname : jump in-/out-<nsg>
 *     chain forward       reject what is routed to "none" (next hop None);
 *                         ct established,related accept; then the four vmaps;
 *                         then reject for appliances that do not forward;
 *                         then the flow log of allowed new flows (NFLOG group 8)
 *     chain nsg_deny      every Deny rule's goto: limits, log (group 7), drop
 *     set log_deny, log_allow  the log limits' buckets, one per pair of addresses (dynamic)
 *     limit log_ceiling   what every log rule of the table logs in all
 *     map route_marks     ifname : mark; chain prerouting sets it (per-subnet routes)
 *     chain postrouting   oifname "edge" snat to the default outbound address
 *
 *     set a<hash>/p<hash> an address or port list of 3+ intervals, one per
 *                         distinct content, shared by the rules that have it
 *
 * Maps keep the forward chain at six rules whatever the number of NICs.
 * A live edit (nsgrules.c) rewrites the chains of one NSG, of the directions it is
 * told changed, by name (the chunks the kernel lacks; the heads patched by handle);
 * in the same transaction it creates the list sets the
 * lab now needs that the kernel lacks (before the rules) and deletes those no
 * rule of the lab uses any more (after), so the table is the same as after a
 * fresh full commit (chain and set order aside: new ones are listed last).
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
 * nsg_deny, where every Deny rule goes with its rule id in the mark: log (within
 * vlnft_rx_log_limits, so that a flood neither floods the agent or its disk nor starves the
 * attribution of other flows), then drop. Past a limit the first rule stops and the second drops
 * unlogged.
 */
static int emit_deny_chain(const struct vl_lab *lab, struct vlnft_batch *b)
{
	struct vlnft_rx x;

	if (vlnft_emit_log_ceiling(b) || vlnft_emit_pair_meter(b, lab, VLNFT_SET_LOG_DENY) ||
	    vlnft_rx_begin(&x, VLNFT_CHAIN_DENY))
		return b->err ?: (b->err = x.err);
	vlnft_rx_log_limits(&x, VLNFT_SET_LOG_DENY);
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
 * that returned), within vlnft_rx_log_limits. */
static int emit_flow_log(const struct vl_lab *lab, struct vlnft_batch *b)
{
	uint32_t allow = VL_FLOW_MARK_ALLOW, newbit = NF_CT_STATE_BIT(IP_CT_NEW), zero = 0;
	struct vlnft_rx x;

	if (vlnft_emit_pair_meter(b, lab, VLNFT_SET_LOG_ALLOW) || vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
		return b->err ?: (b->err = x.err);
	vlnft_rx_meta(&x, NFT_META_MARK);
	vlnft_rx_bitwise(&x, &allow, 4);
	vlnft_rx_cmp(&x, NFT_CMP_NEQ, &zero, 4);
	vlnft_rx_ct_state(&x, newbit);
	vlnft_rx_log_limits(&x, VLNFT_SET_LOG_ALLOW);
	vlnft_rx_counter(&x);
	vlnft_rx_log(&x, VL_NFLOG_PREFIX_ALLOW, VL_NFLOG_FLOW_GROUP);
	return vlnft_rx_end(&x, b, "forward: flow log of allowed flows");
}

static int emit_forward(const struct vl_lab *lab, const struct vlnft_shape *sh, struct vlnft_batch *b)
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

	/* Next hop None (plan.c routes it to a bridge of its own): host unreachable, every time, as the
	 * route would answer the first few of a burst. Before conntrack's accept: every packet. */
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
		return b->err = x.err;
	vlnft_rx_ifname(&x, NFT_META_OIFNAME, VL_NONE_IFNAME);
	vlnft_rx_counter(&x);
	vlnft_rx_reject_host_unreach(&x);
	if (vlnft_rx_end(&x, b, "forward: next hop None"))
		return b->err;
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
		return b->err = x.err;
	vlnft_rx_ct_state(&x, mask);
	vlnft_rx_counter(&x);
	vlnft_rx_verdict(&x, NF_ACCEPT);
	if (vlnft_rx_end(&x, b, "forward: ct state established,related accept"))
		return b->err;
	/* Forwarded traffic a peering does not admit (spec 12.4), before this VNet's NSGs. */
	for (size_t i = 0; i < sh->n_fwd; i++) {
		char set[32];

		if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
			return b->err = x.err;
		snprintf(set, sizeof(set), VLNFT_SET_FWD_PREFIX "%s", sh->fwd_if[i] + 2);
		vlnft_rx_ifname(&x, NFT_META_IIFNAME, sh->fwd_if[i]);
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
		uint8_t ip[4];

		if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
			return b->err = x.err;
		vlnft_rx_ifname(&x, NFT_META_OIFNAME, sh->nofwd[i].ifname);
		vlnft_key_be(ip, sh->nofwd[i].value, 4);
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		vlnft_rx_cmp(&x, NFT_CMP_NEQ, ip, 4);
		vlnft_rx_counter(&x);
		vlnft_rx_reject_host_unreach(&x);
		if (vlnft_rx_end(&x, b, "forward: appliance without IP forwarding"))
			return b->err;
	}
	return emit_flow_log(lab, b);
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
	struct vlnft_rx x;

	emit_addr_map(b, VLNFT_MAP_DNAT, sh->ilpip, sh->n_ilpip);
	vlnft_emit_chain(b, VLNFT_CHAIN_EDGE_IN, &pre);
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_EDGE_IN))
		return b->err = x.err;
	vlnft_rx_ifname(&x, NFT_META_IIFNAME, VL_EDGE_IFNAME);
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
			vlnft_rx_ifname(&x, NFT_META_IIFNAME, VL_EDGE_IFNAME);
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
	struct vlnft_rx x;

	emit_addr_map(b, VLNFT_MAP_SNAT, sh->snat, sh->n_snat);
	vlnft_emit_chain(b, VLNFT_CHAIN_POSTROUTING, &post);
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_POSTROUTING))
		return b->err = x.err;
	vlnft_rx_ifname(&x, NFT_META_OIFNAME, VL_EDGE_IFNAME);
	vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
	vlnft_rx_map(&x, VLNFT_MAP_SNAT);
	vlnft_rx_counter(&x);
	vlnft_rx_snat(&x);
	if (vlnft_rx_end(&x, b, "postrouting: snat to ip saddr map @edge_snat"))
		return b->err;
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_POSTROUTING))
		return b->err = x.err;
	vlnft_rx_ifname(&x, NFT_META_OIFNAME, VL_EDGE_IFNAME);
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
	emit_deny_chain(c->lab, b);
	for (i = 0; i < c->n_pairs && !b->err; i++) {
		const char *nsg = c->lab->nsgs[c->pairs[i].nsg].name;

		vlnft_chain_name(chain, c, nsg, c->pairs[i].scope, VL_DIR_IN);
		vlnft_emit_chain(b, chain, NULL);
		vlnft_chain_name(chain, c, nsg, c->pairs[i].scope, VL_DIR_OUT);
		vlnft_emit_chain(b, chain, NULL);
	}
	emit_stage_maps(&sh, b);
	emit_forward(c->lab, &sh, b);
	emit_marks(&sh, b);
	emit_lb(&sh, b);
	emit_edge_dnat(&sh, b);
	emit_edge_snat(&sh, b);
	for (i = 0; i < c->n_pairs && !b->err && !err; i++)
		err = vlnft_nsg_pair_emit(c, b, i, NULL, why, why_len);
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

static int build(const struct vl_lab *lab, int vnet, int nsg, unsigned dirs, const struct vlnft_kstate *ks,
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
				     : vlnft_nsg_edit_build(&c, nsg, dirs, ks, b, why, why_len);
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
	return build(lab, vnet, nsg, VL_NFT_DIRS, NULL, b, why, why_len);
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

static int send_built(const struct vl_lab *lab, int vnet, int nsg, unsigned dirs,
		      const struct vlnft_kstate *ks, int nsfd, char *why, size_t why_len)
{
	struct vlnft_batch b;

	why[0] = '\0';
	return send_and_free(&b, build(lab, vnet, nsg, dirs, ks, &b, why, why_len), nsfd, why, why_len);
}

/* A live edit of one NSG: read the kernel's names, send; once more if the table changed between. */
static int commit_one(const struct vl_lab *lab, int vnet, int nsg, unsigned dirs, int nsfd, char *why,
		      size_t why_len)
{
	int err = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		char(*chains)[VLNFT_CHAIN_NAME_MAX], (*sets)[VLNFT_SET_NAME_MAX];
		struct vlnft_kstate ks;

		err = vlnft_read_kernel(nsfd, &ks, &chains, &sets, why, why_len);
		if (!err)
			err = send_built(lab, vnet, nsg, dirs, &ks, nsfd, why, why_len);
		free(chains);
		free(sets);
		/* Another editor between our read and our batch: chains or sets came or went. */
		if (err != -ENOENT && err != -EEXIST && err != -EBUSY)
			break;
	}
	return err;
}

static int commit(const struct vl_lab *lab, int vnet, int nsg, unsigned dirs, int nsfd, char *why,
		  size_t why_len)
{
	if (nsg == VL_NONE)
		return send_built(lab, vnet, nsg, VL_NFT_DIRS, NULL, nsfd, why, why_len);
	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	if (!dirs || (dirs & ~VL_NFT_DIRS)) {
		snprintf(why, why_len, "NSG %s: no direction to commit (0x%x)", lab->nsgs[nsg].name, dirs);
		return -EINVAL;
	}
	return commit_one(lab, vnet, nsg, dirs, nsfd, why, why_len);
}

/**
 * vl_nft_fabric_commit - replace a VNet fabric's table ip vnetlab in one transaction
 *
 * Established flows survive: conntrack is never touched.
 */
int vl_nft_fabric_commit(const struct vl_lab *lab, int vnet, int fabric_nsfd, char *why, size_t why_len)
{
	VLNFT_WHY_INIT(why, why_len);
	return commit(lab, vnet, VL_NONE, VL_NFT_DIRS, fabric_nsfd, why, why_len);
}

/**
 * vl_nft_nsg_commit_one - rewrite the chains of one NSG in one fabric atomically
 */
int vl_nft_nsg_commit_one(const struct vl_lab *lab, int vnet, int nsg, int fabric_nsfd, char *why,
			  size_t why_len)
{
	return vl_nft_nsg_commit_dirs(lab, vnet, nsg, VL_NFT_DIRS, fabric_nsfd, why, why_len);
}

/**
 * vl_nft_nsg_commit_dirs - rewrite the chains of one direction (or both) of one NSG atomically
 */
int vl_nft_nsg_commit_dirs(const struct vl_lab *lab, int vnet, int nsg, unsigned dirs, int fabric_nsfd,
			   char *why, size_t why_len)
{
	VLNFT_WHY_INIT(why, why_len);
	if (nsg < 0) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	return commit(lab, vnet, nsg, dirs, fabric_nsfd, why, why_len);
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
