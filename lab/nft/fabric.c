/* SPDX-License-Identifier: MIT */
/*
 * The fabric's NSG ruleset as one nftables transaction.
 *
 *   table ip vnetlab
 *     set vnet            VirtualNetwork prefixes (interval)
 *     set tcpudp          { tcp, udp }: protocol `*` with ports
 *     chain in-/out-<nsg> one rule per NSG rule, defaults last
 *     map nic_out, subnet_out, subnet_in, nic_in   ifname : jump in-/out-<nsg>
 *     chain forward       ct established,related accept; then the four vmaps
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

#define ELEMS_PER_MSG 128
#define ROOM_SMALL 4096
#define ROOM_RULE 16384
#define ROOM_ELEMS (ELEMS_PER_MSG * 192 + 1024)

/* --- generic emitters, shared with masq.c --- */

int vlnft_emit_table(struct vlnft_batch *b, bool replace)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t)
		return b->err = -ENOMEM;
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, VL_NFT_TABLE);
	if (replace) {
		/* add (no-op if present), delete, add: an atomic replace. */
		nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_NEWTABLE, NLM_F_CREATE, "table ip %s",
				      VL_NFT_TABLE);
		if (nlh) {
			nftnl_table_nlmsg_build_payload(nlh, t);
			vlnft_batch_done(b, nlh);
		}
		nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_DELTABLE, 0, "delete table ip %s", VL_NFT_TABLE);
		if (nlh) {
			nftnl_table_nlmsg_build_payload(nlh, t);
			vlnft_batch_done(b, nlh);
		}
	}
	nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, "table ip %s",
			      VL_NFT_TABLE);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		vlnft_batch_done(b, nlh);
	}
	nftnl_table_free(t);
	return b->err;
}

int vlnft_emit_chain(struct vlnft_batch *b, const char *name, const struct vlnft_hook *hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return b->err = -ENOMEM;
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, VL_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook->hooknum);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, hook->prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, hook->type);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_NEWCHAIN, NLM_F_CREATE, "chain %s", name);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		vlnft_batch_done(b, nlh);
	}
	nftnl_chain_free(c);
	return b->err;
}

int vlnft_emit_flush_chain(struct vlnft_batch *b, const char *name)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r)
		return b->err = -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VL_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, name);
	nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_DELRULE, 0, "flush chain %s", name);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		vlnft_batch_done(b, nlh);
	}
	nftnl_rule_free(r);
	return b->err;
}

static int emit_del_rule(struct vlnft_batch *b, const char *chain, uint64_t handle)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r)
		return b->err = -ENOMEM;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, VL_NFT_TABLE);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_DELRULE, 0, "delete rule %s handle %llu", chain,
			      (unsigned long long)handle);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		vlnft_batch_done(b, nlh);
	}
	nftnl_rule_free(r);
	return b->err;
}

/* A set and its elements. keys: n_keys * key_len bytes; for interval sets the
 * caller passes start/end pairs already encoded with end flags in `eflags`. */
static struct nftnl_set *set_new(const struct vlnft_set_spec *s, uint32_t id)
{
	struct nftnl_set *set = nftnl_set_alloc();

	if (!set)
		return NULL;
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(set, NFTNL_SET_TABLE, VL_NFT_TABLE);
	nftnl_set_set_str(set, NFTNL_SET_NAME, s->name ? s->name : "__set%d");
	nftnl_set_set_u32(set, NFTNL_SET_ID, id);
	return set;
}

int vlnft_emit_set(struct vlnft_batch *b, const struct vlnft_set_spec *s, const struct vlnft_elem *e,
		   size_t n, uint32_t *id_out)
{
	uint32_t id = ++b->set_id;
	struct nftnl_set *set = set_new(s, id);
	struct nlmsghdr *nlh;
	size_t i, j;

	if (!set)
		return b->err = -ENOMEM;
	nftnl_set_set_u32(set, NFTNL_SET_FLAGS, s->flags);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_TYPE, s->key_type);
	nftnl_set_set_u32(set, NFTNL_SET_KEY_LEN, s->key_len);
	if (s->flags & NFT_SET_MAP) {
		nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(set, NFTNL_SET_DATA_LEN, 0);
	}
	if (s->name) {
		/* nft shows keys by this byte order: ifname is host order, addresses and ports big. */
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);

		if (!u) {
			nftnl_set_free(set);
			return b->err = -ENOMEM;
		}
		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER,
				    s->key_type == VLNFT_TYPE_IFNAME ? 1 : 2);
		nftnl_set_set_data(set, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_NEWSET, NLM_F_CREATE, "set %s",
			      s->name ? s->name : "(anonymous)");
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, set);
		vlnft_batch_done(b, nlh);
	}
	nftnl_set_free(set);
	for (i = 0; i < n && !b->err; i += ELEMS_PER_MSG) {
		set = set_new(s, id);
		if (!set)
			return b->err = -ENOMEM;
		for (j = i; j < n && j < i + ELEMS_PER_MSG; j++) {
			struct nftnl_set_elem *el = nftnl_set_elem_alloc();

			if (!el) {
				nftnl_set_free(set);
				return b->err = -ENOMEM;
			}
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, e[j].key, s->key_len);
			if (e[j].flags)
				nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_FLAGS, e[j].flags);
			if (e[j].chain) {
				nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT, NFT_JUMP);
				nftnl_set_elem_set_str(el, NFTNL_SET_ELEM_CHAIN, e[j].chain);
			}
			nftnl_set_elem_add(set, el);
		}
		nlh = vlnft_batch_msg(b, ROOM_ELEMS, NFT_MSG_NEWSETELEM, NLM_F_CREATE, "elements of set %s",
				      s->name ? s->name : "(anonymous)");
		if (nlh) {
			nftnl_set_elems_nlmsg_build_payload(nlh, set);
			vlnft_batch_done(b, nlh);
		}
		nftnl_set_free(set);
	}
	if (id_out)
		*id_out = id;
	return b->err;
}

/* Interval elements for [lo,hi] ranges of `len`-byte big-endian keys. */
int vlnft_ival_elems(const struct vlnft_ivals *iv, int key_len, struct vlnft_elem **out, size_t *n)
{
	uint32_t max = key_len == 4 ? UINT32_MAX : (1u << (8 * key_len)) - 1;
	struct vlnft_elem *e = calloc(iv->n * 2 + 1, sizeof(*e));
	size_t i, k = 0;

	if (!e)
		return -ENOMEM;
	for (i = 0; i < iv->n; i++) {
		vlnft_key_be(e[k++].key, iv->v[i].lo, key_len);
		if (iv->v[i].hi != max) {
			vlnft_key_be(e[k].key, iv->v[i].hi + 1, key_len);
			e[k++].flags = NFT_SET_ELEM_INTERVAL_END;
		}
	}
	*out = e;
	*n = k;
	return 0;
}

void vlnft_key_be(uint8_t *key, uint32_t v, int len)
{
	int i;

	for (i = len - 1; i >= 0; i--, v >>= 8)
		key[i] = (uint8_t)v;
}

/* A list set (nft-int.h): constant, interval, named after its content. */
static int emit_list_set(struct vlnft_batch *b, const struct vlnft_named *l)
{
	struct vlnft_set_spec s = {
	    .name = l->name,
	    .flags = NFT_SET_CONSTANT | NFT_SET_INTERVAL,
	    .key_type = l->addr ? VLNFT_TYPE_IPADDR : VLNFT_TYPE_INET_SERVICE,
	    .key_len = l->addr ? 4 : 2,
	};
	struct vlnft_elem *e;
	size_t n;
	int err = vlnft_ival_elems(&l->iv, (int)s.key_len, &e, &n);

	if (err)
		return b->err = err;
	err = vlnft_emit_set(b, &s, e, n, NULL);
	free(e);
	return err;
}

static int emit_del_set(struct vlnft_batch *b, const char *name)
{
	struct nftnl_set *set = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!set)
		return b->err = -ENOMEM;
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(set, NFTNL_SET_TABLE, VL_NFT_TABLE);
	nftnl_set_set_str(set, NFTNL_SET_NAME, name);
	nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_DELSET, 0, "delete set %s", name);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, set);
		vlnft_batch_done(b, nlh);
	}
	nftnl_set_free(set);
	return b->err;
}

/* --- expressions --- */

static void rx_add(struct vlnft_rx *x, struct nftnl_expr *e)
{
	if (!e) {
		x->err = -ENOMEM;
		return;
	}
	nftnl_rule_add_expr(x->r, e);
}

void vlnft_rx_meta(struct vlnft_rx *x, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	rx_add(x, e);
}

void vlnft_rx_payload(struct vlnft_rx *x, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	rx_add(x, e);
}

void vlnft_rx_cmp(struct vlnft_rx *x, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	rx_add(x, e);
}

void vlnft_rx_bitwise(struct vlnft_rx *x, const void *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	rx_add(x, e);
}

static void rx_range(struct vlnft_rx *x, const void *from, const void *to, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("range");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, from, len);
		nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, to, len);
	}
	rx_add(x, e);
}

void vlnft_rx_lookup(struct vlnft_rx *x, const char *set, uint32_t id, bool inv, bool vmap)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		if (id)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
		if (vmap)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
		if (inv)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	}
	rx_add(x, e);
}

void vlnft_rx_counter(struct vlnft_rx *x)
{
	rx_add(x, nftnl_expr_alloc("counter"));
}

void vlnft_rx_verdict(struct vlnft_rx *x, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	}
	rx_add(x, e);
}

static void rx_log(struct vlnft_rx *x, const char *prefix)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	if (e) {
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, VL_NFLOG_GROUP);
	}
	rx_add(x, e);
}

/* The rule name as the rule's comment, so `nft list` shows which NSG rule it is. */
static void rx_comment(struct vlnft_rx *x, const char *text, uint64_t fp)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);

	if (!u) {
		x->err = -ENOMEM;
		return;
	}
	if (nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, text) &&
	    (!fp || nftnl_udata_put(u, VLNFT_UDATA_RULE_FP, sizeof(fp), &fp)))
		nftnl_rule_set_data(x->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
				    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

int vlnft_rx_begin(struct vlnft_rx *x, const char *chain)
{
	memset(x, 0, sizeof(*x));
	x->r = nftnl_rule_alloc();
	if (!x->r)
		return x->err = -ENOMEM;
	nftnl_rule_set_u32(x->r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(x->r, NFTNL_RULE_TABLE, VL_NFT_TABLE);
	nftnl_rule_set_str(x->r, NFTNL_RULE_CHAIN, chain);
	return 0;
}

int vlnft_rx_end(struct vlnft_rx *x, struct vlnft_batch *b, const char *label)
{
	struct nlmsghdr *nlh;

	if (x->err) {
		b->err = b->err ? b->err : x->err;
	} else {
		/* With a position: insert before that rule; else append. */
		uint16_t where = nftnl_rule_is_set(x->r, NFTNL_RULE_POSITION) ? 0 : NLM_F_APPEND;

		nlh = vlnft_batch_msg(b, ROOM_RULE, NFT_MSG_NEWRULE, NLM_F_CREATE | where, "%s", label);
		if (nlh) {
			nftnl_rule_nlmsg_build_payload(nlh, x->r);
			vlnft_batch_done(b, nlh);
		}
	}
	nftnl_rule_free(x->r);
	x->r = NULL;
	return b->err;
}

/* ip saddr/daddr (off 12/16) against a compiled address match. */
int vlnft_match_addr(struct vlnft_batch *b, struct vlnft_rx *x, uint32_t off, const struct vlnft_addr *a)
{
	char name[VLNFT_SET_NAME_MAX];
	uint8_t lo[4], hi[4], mask[4];
	int plen;

	(void)b; /* list sets are emitted ahead of the rules (build_full, build_one) */
	switch (a->kind) {
	case VLNFT_A_ANY:
		return 0;
	case VLNFT_A_VNET:
	case VLNFT_A_NOTVNET:
		vlnft_rx_payload(x, NFT_PAYLOAD_NETWORK_HEADER, off, 4);
		vlnft_rx_lookup(x, VLNFT_SET_VNET, 0, a->kind == VLNFT_A_NOTVNET, false);
		return 0;
	case VLNFT_A_IVALS:
		break;
	}
	vlnft_rx_payload(x, NFT_PAYLOAD_NETWORK_HEADER, off, 4);
	if (a->iv.n == 0) {
		/* Nothing matches: 0.0.0.0 < x < 0.0.0.0 is impossible. */
		vlnft_key_be(lo, 0, 4);
		vlnft_rx_cmp(x, NFT_CMP_LT, lo, 4);
		return 0;
	}
	if (a->iv.n > 1) {
		/* Only lists of VLNFT_SET_MIN or more get here (compile.c); the set is in the batch or the kernel. */
		vlnft_set_name(name, true, &a->iv);
		vlnft_rx_lookup(x, name, 0, false, false);
		return 0;
	}
	vlnft_key_be(lo, a->iv.v[0].lo, 4);
	vlnft_key_be(hi, a->iv.v[0].hi, 4);
	plen = vlnft_ival_prefix_len(&a->iv.v[0]);
	if (a->iv.v[0].lo == a->iv.v[0].hi) {
		vlnft_rx_cmp(x, NFT_CMP_EQ, lo, 4);
	} else if (plen >= 0) {
		vlnft_key_be(mask, plen ? UINT32_MAX << (32 - plen) : 0, 4);
		vlnft_rx_bitwise(x, mask, 4);
		vlnft_rx_cmp(x, NFT_CMP_EQ, lo, 4);
	} else {
		rx_range(x, lo, hi, 4);
	}
	return 0;
}

static int match_ports(struct vlnft_rx *x, uint32_t off, const struct vlnft_ivals *p)
{
	char name[VLNFT_SET_NAME_MAX];
	uint8_t lo[2], hi[2];

	if (p->n == 0)
		return 0;
	vlnft_rx_payload(x, NFT_PAYLOAD_TRANSPORT_HEADER, off, 2);
	if (p->n > 1) {
		vlnft_set_name(name, false, p);
		vlnft_rx_lookup(x, name, 0, false, false);
		return 0;
	}
	vlnft_key_be(lo, p->v[0].lo, 2);
	vlnft_key_be(hi, p->v[0].hi, 2);
	if (p->v[0].lo == p->v[0].hi)
		vlnft_rx_cmp(x, NFT_CMP_EQ, lo, 2);
	else
		rx_range(x, lo, hi, 2);
	return 0;
}

/* One nft rule of an NSG chain; before = handle to insert before, 0 = append. */
static int emit_nsg_rule(struct vlnft_batch *b, const char *nsg, const char *chain,
			 const struct vlnft_crule *cr, uint64_t before)
{
	char prefix[VLNFT_LOG_PREFIX_MAX + 1];
	struct vlnft_rx x;

	if (vlnft_rx_begin(&x, chain))
		return b->err = x.err;
	if (before)
		nftnl_rule_set_u64(x.r, NFTNL_RULE_POSITION, before);
	if (cr->pk == VLNFT_P_ONE) {
		vlnft_rx_meta(&x, NFT_META_L4PROTO);
		vlnft_rx_cmp(&x, NFT_CMP_EQ, &cr->l4, 1);
	} else if (cr->pk == VLNFT_P_TCPUDP) {
		vlnft_rx_meta(&x, NFT_META_L4PROTO);
		vlnft_rx_lookup(&x, VLNFT_SET_TCPUDP, 0, false, false);
	}
	vlnft_match_addr(b, &x, 12, &cr->src);
	vlnft_match_addr(b, &x, 16, &cr->dst);
	match_ports(&x, 0, &cr->sport);
	match_ports(&x, 2, &cr->dport);
	vlnft_rx_counter(&x);
	rx_comment(&x, cr->rule->name, vlnft_crule_fp(chain, nsg, cr));
	if (cr->rule->access == VL_ALLOW) {
		vlnft_rx_verdict(&x, NFT_RETURN);
	} else {
		vlnft_log_prefix(prefix, nsg, cr->rule->name);
		rx_log(&x, prefix);
		vlnft_rx_verdict(&x, NF_DROP);
	}
	return vlnft_rx_end(&x, b, chain);
}

/*
 * The rules of one NSG. A full commit appends them all. A live edit compares
 * the kernel's rules (handle + fingerprint, from a dump) with the new ones:
 * the rules between the common head and the common tail are deleted by
 * handle and the new ones inserted before the tail (the default rules end
 * every chain, so there nearly always is one), so a one-rule edit of a
 * 1,000-rule NSG is a handful of messages and the kernel keeps the other
 * rules (and their counters). Unknown kernel rules: flush and refill.
 */
struct old_rules {
	const struct vlnft_krule *v[2]; /* by direction: [VL_DIR_IN], [VL_DIR_OUT] */
	size_t n[2];
	bool known; /* false: the kernel's rules are unknown, flush and refill */
	/* The kernel's list sets; sets_known false (an offline batch): assume
	 * those of the last full commit, create and delete none. */
	const char (*sets)[VLNFT_SET_NAME_MAX];
	size_t n_sets;
	bool sets_known;
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
			emit_del_rule(b, chain, old[i].handle);
		for (i = head; i < n - tail && !b->err; i++)
			emit_nsg_rule(b, nsg->name, chain, &cr[i], before);
	}
	free(fp);
	return b->err;
}

static int emit_nsg_rules(const struct vlnft_ctx *c, struct vlnft_batch *b, const struct vl_nsg *nsg,
			  const struct old_rules *old, char *why, size_t why_len)
{
	static const enum vl_dir dirs[2] = {VL_DIR_IN, VL_DIR_OUT};
	char chain[VLNFT_CHAIN_NAME_MAX];
	struct vlnft_crule *cr;
	size_t i, n;
	int d, err;

	for (d = 0; d < 2; d++) {
		err = vlnft_compile_nsg(c, nsg, dirs[d], &cr, &n, why, why_len);
		if (err)
			return err;
		vlnft_chain_name(chain, nsg->name, dirs[d]);
		if (old)
			edit_chain(b, nsg, chain, cr, n, old->v[dirs[d]], old->n[dirs[d]], old->known);
		else
			for (i = 0; i < n && !b->err; i++)
				emit_nsg_rule(b, nsg->name, chain, &cr[i], 0);
		vlnft_crules_free(cr, n);
		if (b->err) {
			snprintf(why, why_len, "NSG %s: building rules: %s", nsg->name, strerror(-b->err));
			return b->err;
		}
	}
	return 0;
}

static int ifname_elem(struct vlnft_elem *e, int ep, const char *nsg, enum vl_dir dir)
{
	char name[IFNAMSIZ + 16];

	vl_fabric_ifname(name, ep);
	memset(e->key, 0, sizeof(e->key));
	memcpy(e->key, name, strnlen(name, IFNAMSIZ - 1));
	e->chain = malloc(VLNFT_CHAIN_NAME_MAX);
	if (!e->chain)
		return -ENOMEM;
	vlnft_chain_name(e->chain, nsg, dir);
	return 0;
}

static int emit_stage_maps(const struct vl_lab *lab, struct vlnft_batch *b)
{
	struct vlnft_elem *e[VLNFT_N_STAGES] = {0};
	size_t n[VLNFT_N_STAGES] = {0};
	size_t i;
	int s, err = 0;

	for (s = 0; s < VLNFT_N_STAGES; s++) {
		e[s] = calloc(lab->n_eps ? lab->n_eps : 1, sizeof(**e));
		if (!e[s]) {
			err = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < lab->n_eps && !err; i++) {
		const struct vl_endpoint *ep = &lab->eps[i];
		int nic = ep->nic_nsg, sub = VL_NONE;

		if (ep->nic != (int)i)
			continue; /* its traffic uses another endpoint's NIC */
		if (ep->subnet >= 0 && (size_t)ep->subnet < lab->n_subnets)
			sub = lab->subnets[ep->subnet].nsg;
		if (nic >= 0) {
			err = ifname_elem(&e[VLNFT_NIC_OUT][n[VLNFT_NIC_OUT]++], (int)i, lab->nsgs[nic].name,
					  VL_DIR_OUT);
			if (!err)
				err = ifname_elem(&e[VLNFT_NIC_IN][n[VLNFT_NIC_IN]++], (int)i,
						  lab->nsgs[nic].name, VL_DIR_IN);
		}
		if (!err && sub >= 0) {
			err = ifname_elem(&e[VLNFT_SUBNET_OUT][n[VLNFT_SUBNET_OUT]++], (int)i,
					  lab->nsgs[sub].name, VL_DIR_OUT);
			if (!err)
				err = ifname_elem(&e[VLNFT_SUBNET_IN][n[VLNFT_SUBNET_IN]++], (int)i,
						  lab->nsgs[sub].name, VL_DIR_IN);
		}
	}
	for (s = 0; s < VLNFT_N_STAGES && !err; s++) {
		struct vlnft_set_spec spec = {
		    .name = vlnft_stage_map[s],
		    .flags = NFT_SET_MAP,
		    .key_type = VLNFT_TYPE_IFNAME,
		    .key_len = IFNAMSIZ,
		};

		err = vlnft_emit_set(b, &spec, e[s], n[s], NULL);
	}
out:
	for (s = 0; s < VLNFT_N_STAGES; s++) {
		for (i = 0; e[s] && i < n[s]; i++)
			free(e[s][i].chain);
		free(e[s]);
	}
	if (err && !b->err)
		b->err = err;
	return err;
}

static int emit_forward(struct vlnft_batch *b)
{
	static const uint32_t stage_meta[VLNFT_N_STAGES] = {
	    [VLNFT_NIC_OUT] = NFT_META_IIFNAME,
	    [VLNFT_SUBNET_OUT] = NFT_META_IIFNAME,
	    [VLNFT_SUBNET_IN] = NFT_META_OIFNAME,
	    [VLNFT_NIC_IN] = NFT_META_OIFNAME,
	};
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED), zero = 0;
	struct nftnl_expr *e;
	struct vlnft_rx x;
	int s;

	if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
		return b->err = x.err;
	e = nftnl_expr_alloc("ct");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	rx_add(&x, e);
	vlnft_rx_bitwise(&x, &mask, 4);
	vlnft_rx_cmp(&x, NFT_CMP_NEQ, &zero, 4);
	vlnft_rx_counter(&x);
	vlnft_rx_verdict(&x, NF_ACCEPT);
	if (vlnft_rx_end(&x, b, "forward: ct state established,related accept"))
		return b->err;
	for (s = 0; s < VLNFT_N_STAGES; s++) {
		if (vlnft_rx_begin(&x, VLNFT_CHAIN_FORWARD))
			return b->err = x.err;
		vlnft_rx_meta(&x, stage_meta[s]);
		vlnft_rx_lookup(&x, vlnft_stage_map[s], 0, false, true);
		if (vlnft_rx_end(&x, b, vlnft_stage_map[s]))
			return b->err;
	}
	return 0;
}

static int build_full(const struct vlnft_ctx *c, struct vlnft_batch *b, char *why, size_t why_len)
{
	static const struct vlnft_hook fwd = {NF_INET_FORWARD, 0, "filter"};
	const struct vl_lab *lab = c->lab;
	struct vlnft_set_spec vnet = {
	    .name = VLNFT_SET_VNET,
	    .flags = NFT_SET_INTERVAL,
	    .key_type = VLNFT_TYPE_IPADDR,
	    .key_len = 4,
	};
	/* Shared by every `*` rule with ports: an anonymous set per rule would
	 * cost the kernel a walk over all sets of the table each. */
	static const struct vlnft_set_spec tcpudp = {
	    .name = VLNFT_SET_TCPUDP,
	    .flags = NFT_SET_CONSTANT,
	    .key_type = VLNFT_TYPE_INET_PROTOCOL,
	    .key_len = 1,
	};
	static const struct vlnft_elem tcpudp_elems[2] = {{.key = {6}}, {.key = {17}}};
	char chain[VLNFT_CHAIN_NAME_MAX];
	struct vlnft_named *lists;
	struct vlnft_elem *e;
	size_t i, n, n_lists;
	int err;

	err = vlnft_lab_sets(c, &lists, &n_lists, why, why_len);
	if (err)
		return err;
	vlnft_emit_table(b, true);
	err = vlnft_ival_elems(&c->vnet, 4, &e, &n);
	if (err) {
		vlnft_named_free(lists, n_lists);
		snprintf(why, why_len, "set vnet: %s", strerror(-err));
		return err;
	}
	vlnft_emit_set(b, &vnet, e, n, NULL);
	free(e);
	vlnft_emit_set(b, &tcpudp, tcpudp_elems, 2, NULL);
	for (i = 0; i < n_lists && !b->err; i++)
		emit_list_set(b, &lists[i]);
	vlnft_named_free(lists, n_lists);
	vlnft_emit_chain(b, VLNFT_CHAIN_FORWARD, &fwd);
	for (i = 0; i < lab->n_nsgs && !b->err; i++) {
		vlnft_chain_name(chain, lab->nsgs[i].name, VL_DIR_IN);
		vlnft_emit_chain(b, chain, NULL);
		vlnft_chain_name(chain, lab->nsgs[i].name, VL_DIR_OUT);
		vlnft_emit_chain(b, chain, NULL);
	}
	emit_stage_maps(lab, b);
	emit_forward(b);
	for (i = 0; i < lab->n_nsgs && !b->err; i++) {
		err = emit_nsg_rules(c, b, &lab->nsgs[i], NULL, why, why_len);
		if (err)
			return err;
	}
	if (b->err) {
		snprintf(why, why_len, "fabric ruleset: %s", strerror(-b->err));
		return b->err;
	}
	return 0;
}

static int build_one(const struct vlnft_ctx *c, int nsg, const struct old_rules *old, struct vlnft_batch *b,
		     char *why, size_t why_len)
{
	static const struct old_rules none = {{NULL, NULL}, {0, 0}, false, NULL, 0, false};
	struct vlnft_named *lists = NULL;
	size_t i, j, n_lists = 0;
	int err;

	/* No knowledge of the kernel's rules: flush both chains and refill. */
	if (!old)
		old = &none;
	if (!old->sets_known)
		return emit_nsg_rules(c, b, &c->lab->nsgs[nsg], old, why, why_len);
	err = vlnft_lab_sets(c, &lists, &n_lists, why, why_len);
	if (err)
		return err;
	/* Both sorted by name: create what the kernel lacks, rules, delete what the lab no longer uses. */
	for (i = j = 0; i < n_lists && !b->err; i++) {
		while (j < old->n_sets && strcmp(old->sets[j], lists[i].name) < 0)
			j++;
		if (j == old->n_sets || strcmp(old->sets[j], lists[i].name))
			emit_list_set(b, &lists[i]);
	}
	err = b->err ? b->err : emit_nsg_rules(c, b, &c->lab->nsgs[nsg], old, why, why_len);
	for (i = j = 0; i < old->n_sets && !err && !b->err; i++) {
		while (j < n_lists && strcmp(lists[j].name, old->sets[i]) < 0)
			j++;
		if (j == n_lists || strcmp(lists[j].name, old->sets[i]))
			emit_del_set(b, old->sets[i]);
	}
	vlnft_named_free(lists, n_lists);
	if (!err)
		err = b->err;
	/* A failure while making or dropping list sets has not said so yet. */
	if (err && !why[0])
		snprintf(why, why_len, "NSG %s: list sets: %s", c->lab->nsgs[nsg].name, strerror(-err));
	return err;
}

static int build(const struct vl_lab *lab, int nsg, const struct old_rules *old, struct vlnft_batch *b,
		 char *why, size_t why_len)
{
	struct vlnft_ctx c;
	int err;

	if (nsg != VL_NONE && (nsg < 0 || (size_t)nsg >= lab->n_nsgs)) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	err = vlnft_ctx_init(&c, lab, why, why_len);
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

int vlnft_nsg_build(const struct vl_lab *lab, int nsg, struct vlnft_batch *b, char *why, size_t why_len)
{
	return build(lab, nsg, NULL, b, why, why_len);
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

int vl_nft_nsg_batch(const struct vl_lab *lab, int nsg, void **buf, size_t *len, char *why, size_t why_len)
{
	struct vlnft_batch b;

	VLNFT_WHY_INIT(why, why_len);
	return hand_out(&b, vlnft_nsg_build(lab, nsg, &b, why, why_len), buf, len);
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

static int send_built(const struct vl_lab *lab, int nsg, const struct old_rules *old, int nsfd, char *why,
		      size_t why_len)
{
	struct vlnft_batch b;

	why[0] = '\0';
	return send_and_free(&b, build(lab, nsg, old, &b, why, why_len), nsfd, why, why_len);
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

static int commit(const struct vl_lab *lab, int nsg, int nsfd, char *why, size_t why_len)
{
	struct vlnft_krule *k[2] = {NULL, NULL};
	struct old_rules old = {{NULL, NULL}, {0, 0}, true, NULL, 0, true};
	char chain[VLNFT_CHAIN_NAME_MAX], (*sets)[VLNFT_SET_NAME_MAX] = NULL;
	int d, err = 0;

	if (nsg == VL_NONE)
		return send_built(lab, nsg, NULL, nsfd, why, why_len);
	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	for (d = 0; d < 2 && !err; d++) {
		vlnft_chain_name(chain, lab->nsgs[nsg].name, d == VL_DIR_IN ? VL_DIR_IN : VL_DIR_OUT);
		err = vlnft_dump_chain(nsfd, chain, &k[d], &old.n[d], why, why_len);
		old.v[d] = k[d];
	}
	if (!err)
		err = dump_sets(nsfd, &old, &sets, why, why_len);
	if (!err)
		err = send_built(lab, nsg, &old, nsfd, why, why_len);
	/* Rules or sets changed under us (another editor): rewrite both chains whole. */
	if (err == -ENOENT && old.n[0] + old.n[1] > 0) {
		free(sets);
		sets = NULL;
		old.known = false;
		err = dump_sets(nsfd, &old, &sets, why, why_len);
		if (!err)
			err = send_built(lab, nsg, &old, nsfd, why, why_len);
	}
	free(sets);
	free(k[0]);
	free(k[1]);
	return err;
}

/**
 * vl_nft_nsg_commit - replace the fabric's table ip vnetlab in one transaction
 *
 * Established flows survive: conntrack is never touched.
 */
int vl_nft_nsg_commit(const struct vl_lab *lab, int fabric_nsfd, char *why, size_t why_len)
{
	VLNFT_WHY_INIT(why, why_len);
	return commit(lab, VL_NONE, fabric_nsfd, why, why_len);
}

/**
 * vl_nft_nsg_commit_one - flush and refill the two chains of one NSG atomically
 */
int vl_nft_nsg_commit_one(const struct vl_lab *lab, int nsg, int fabric_nsfd, char *why, size_t why_len)
{
	VLNFT_WHY_INIT(why, why_len);
	if (nsg < 0) {
		snprintf(why, why_len, "no NSG #%d", nsg);
		return -EINVAL;
	}
	return commit(lab, nsg, fabric_nsfd, why, why_len);
}
