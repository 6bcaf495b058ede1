// SPDX-License-Identifier: MIT
/*
 * libnftnl emitters: tables, chains, sets and their elements, rules built
 * expression by expression, each serialised into a batch (one transaction).
 * They know nothing of NSGs or routes; fabric.c and masq.c say what to emit.
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
#include <linux/netfilter/nf_tables.h>

#include "vnetlab/nft.h"
#include "nft-emit.h"
#include "nft-int.h"

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

int vlnft_emit_del_chain(struct vlnft_batch *b, const char *name)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c)
		return b->err = -ENOMEM;
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_IPV4);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, VL_NFT_TABLE);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_DELCHAIN, 0, "delete chain %s", name);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		vlnft_batch_done(b, nlh);
	}
	nftnl_chain_free(c);
	return b->err;
}

int vlnft_emit_flush_set(struct vlnft_batch *b, const char *name)
{
	struct nftnl_set *set = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!set)
		return b->err = -ENOMEM;
	nftnl_set_set_u32(set, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_str(set, NFTNL_SET_TABLE, VL_NFT_TABLE);
	nftnl_set_set_str(set, NFTNL_SET_NAME, name);
	/* DELSETELEM without elements: the kernel empties the set */
	nlh = vlnft_batch_msg(b, ROOM_SMALL, NFT_MSG_DELSETELEM, 0, "flush set %s", name);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, set);
		vlnft_batch_done(b, nlh);
	}
	nftnl_set_free(set);
	return b->err;
}

int vlnft_emit_del_rule(struct vlnft_batch *b, const char *chain, uint64_t handle)
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
		nftnl_set_set_u32(set, NFTNL_SET_DATA_TYPE, s->data_len ? s->data_type : NFT_DATA_VERDICT);
		nftnl_set_set_u32(set, NFTNL_SET_DATA_LEN, s->data_len);
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
		if (s->data_len && s->data_type == VLNFT_TYPE_MARK) /* marks: host order; addresses: network */
			nftnl_udata_put_u32(u, NFTNL_UDATA_SET_DATABYTEORDER, 1);
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
			} else if (s->data_len) {
				nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_DATA, e[j].data);
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
int vlnft_emit_list_set(struct vlnft_batch *b, const struct vlnft_named *l)
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

int vlnft_emit_del_set(struct vlnft_batch *b, const char *name)
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

void vlnft_rx_add(struct vlnft_rx *x, struct nftnl_expr *e)
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
	vlnft_rx_add(x, e);
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
	vlnft_rx_add(x, e);
}

void vlnft_rx_cmp(struct vlnft_rx *x, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	vlnft_rx_add(x, e);
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
	vlnft_rx_add(x, e);
}

void vlnft_rx_ct_state(struct vlnft_rx *x, uint32_t bits)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	uint32_t zero = 0;

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	vlnft_rx_add(x, e);
	vlnft_rx_bitwise(x, &bits, 4);
	vlnft_rx_cmp(x, NFT_CMP_NEQ, &zero, 4);
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
	vlnft_rx_add(x, e);
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
	vlnft_rx_add(x, e);
}

void vlnft_rx_counter(struct vlnft_rx *x)
{
	vlnft_rx_add(x, nftnl_expr_alloc("counter"));
}

void vlnft_rx_verdict(struct vlnft_rx *x, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_log(struct vlnft_rx *x, const char *prefix, uint16_t group)
{
	struct nftnl_expr *e = nftnl_expr_alloc("log");

	if (e) {
		nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_limit(struct vlnft_rx *x, uint64_t per_second, uint32_t burst)
{
	struct nftnl_expr *e = nftnl_expr_alloc("limit");

	if (e) {
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, per_second);
		nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, burst);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	}
	vlnft_rx_add(x, e);
}

static void rx_to_chain(struct vlnft_rx *x, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_goto(struct vlnft_rx *x, const char *chain)
{
	rx_to_chain(x, NFT_GOTO, chain);
}

void vlnft_rx_jump(struct vlnft_rx *x, const char *chain)
{
	rx_to_chain(x, NFT_JUMP, chain);
}

/* The rule name as the rule's comment, so `nft list` shows which NSG rule it is. */
void vlnft_rx_comment(struct vlnft_rx *x, const char *text, uint64_t fp)
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
		vlnft_rx_payload(x, NFT_PAYLOAD_NETWORK_HEADER, off, 4);
		vlnft_rx_lookup(x, a->set, 0, false, false);
		return 0;
	case VLNFT_A_INTERNET:
		vlnft_rx_payload(x, NFT_PAYLOAD_NETWORK_HEADER, off, 4);
		vlnft_rx_lookup(x, VLNFT_SET_NOTINET, 0, true, false);
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

int vlnft_match_ports(struct vlnft_rx *x, uint32_t off, const struct vlnft_ivals *p)
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

void vlnft_rx_imm(struct vlnft_rx *x, uint32_t host_value)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	uint32_t be = htonl(host_value);

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &be, sizeof(be));
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_meta_set(struct vlnft_rx *x, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_map(struct vlnft_rx *x, const char *set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_reject_host_unreach(struct vlnft_rx *x)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 1 /* ICMP_HOST_UNREACH */);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_snat(struct vlnft_rx *x)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_SNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_dnat(struct vlnft_rx *x, bool port)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
		if (port)
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_imm_host(struct vlnft_rx *x, uint32_t reg, uint32_t value)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &value, sizeof(value));
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_imm_port(struct vlnft_rx *x, uint32_t reg, uint16_t port)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	uint16_t be = htons(port);

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &be, sizeof(be));
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_jhash_client(struct vlnft_rx *x, uint32_t n)
{
	struct nftnl_expr *e;

	vlnft_rx_payload(x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4); /* register 1 */
	e = nftnl_expr_alloc("payload");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG32_01);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_TRANSPORT_HEADER);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 0);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 2);
	}
	vlnft_rx_add(x, e);
	e = nftnl_expr_alloc("hash");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_TYPE, NFT_HASH_JENKINS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_LEN, 8);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_MODULUS, n);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_SEED, 0x7a11);
		nftnl_expr_set_u32(e, NFTNL_EXPR_HASH_OFFSET, 0);
	}
	vlnft_rx_add(x, e);
}

void vlnft_rx_numgen(struct vlnft_rx *x, uint32_t n)
{
	struct nftnl_expr *e = nftnl_expr_alloc("numgen");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, n);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
	}
	vlnft_rx_add(x, e);
}

/* The match of a compiled NSG rule: protocol, then addresses, then ports (NSG and platform chains). */
void vlnft_rx_nsg_match(struct vlnft_batch *b, struct vlnft_rx *x, const struct vlnft_crule *cr)
{
	if (cr->pk == VLNFT_P_ONE) {
		vlnft_rx_meta(x, NFT_META_L4PROTO);
		vlnft_rx_cmp(x, NFT_CMP_EQ, &cr->l4, 1);
	} else if (cr->pk == VLNFT_P_TCPUDP) {
		vlnft_rx_meta(x, NFT_META_L4PROTO);
		vlnft_rx_lookup(x, VLNFT_SET_TCPUDP, 0, false, false);
	}
	vlnft_match_addr(b, x, 12, &cr->src);
	vlnft_match_addr(b, x, 16, &cr->dst);
	vlnft_match_ports(x, 0, &cr->sport);
	vlnft_match_ports(x, 2, &cr->dport);
}
