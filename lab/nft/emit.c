// SPDX-License-Identifier: MIT
/*
 * nftables emitters of objects: tables, chains, sets and their elements, each
 * serialised into a batch (one transaction), attribute by attribute with
 * libmnl (nft-attr.h) in the order and layout libnftnl gives them, without
 * libnftnl objects: a 5,000-VM fabric's four ifname maps are 20,000 elements.
 * Rules are rule.c's. They know nothing of NSGs or routes; fabric.c and
 * masq.c say what to emit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "vnetlab/nft.h"
#include "nft-attr.h"
#include "nft-emit.h"
#include "nft-int.h"

#define ELEMS_PER_MSG 128

/* --- tables, chains, sets --- */

/* A message of table ip vnetlab naming one object: its table and name attributes. */
static struct nlmsghdr *msg_named(struct vlnft_batch *b, uint16_t type, uint16_t flags, uint16_t table_attr,
				  uint16_t name_attr, const char *name, size_t more, const char *what)
{
	struct nlmsghdr *nlh =
	    vlnft_batch_msg(b, 64 + vlnft_str_room(VL_NFT_TABLE) + vlnft_str_room(name) + more, type, flags,
			    "%s%s", what, name);

	if (!nlh)
		return NULL;
	vlnft_put_strz(nlh, table_attr, VL_NFT_TABLE);
	vlnft_put_strz(nlh, name_attr, name);
	return nlh;
}

int vlnft_emit_table(struct vlnft_batch *b, bool replace)
{
	static const struct {
		uint16_t type, flags;
		const char *label;
	} msgs[] = {
	    /* add (no-op if present), delete, add: an atomic replace. */
	    {NFT_MSG_NEWTABLE, NLM_F_CREATE, "table ip " VL_NFT_TABLE},
	    {NFT_MSG_DELTABLE, 0, "delete table ip " VL_NFT_TABLE},
	    {NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, "table ip " VL_NFT_TABLE},
	};
	size_t i;

	for (i = replace ? 0 : 2; i < 3; i++) {
		struct nlmsghdr *nlh = vlnft_batch_msg(b, 64 + vlnft_str_room(VL_NFT_TABLE), msgs[i].type,
						       msgs[i].flags, "%s", msgs[i].label);

		if (!nlh)
			break;
		vlnft_put_strz(nlh, NFTA_TABLE_NAME, VL_NFT_TABLE);
		vlnft_batch_done(b, nlh);
	}
	return b->err;
}

int vlnft_emit_chain(struct vlnft_batch *b, const char *name, const struct vlnft_hook *hook)
{
	struct nlmsghdr *nlh = msg_named(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME,
					 name, hook ? 64 + vlnft_str_room(hook->type) : 0, "chain ");

	if (!nlh)
		return b->err;
	if (hook) {
		struct nlattr *nest = mnl_attr_nest_start(nlh, NFTA_CHAIN_HOOK);

		vlnft_put_be32(nlh, NFTA_HOOK_HOOKNUM, hook->hooknum);
		vlnft_put_be32(nlh, NFTA_HOOK_PRIORITY, (uint32_t)hook->prio);
		mnl_attr_nest_end(nlh, nest);
		vlnft_put_be32(nlh, NFTA_CHAIN_POLICY, NF_ACCEPT);
		vlnft_put_strz(nlh, NFTA_CHAIN_TYPE, hook->type);
	}
	vlnft_batch_done(b, nlh);
	return b->err;
}

int vlnft_emit_flush_chain(struct vlnft_batch *b, const char *name)
{
	struct nlmsghdr *nlh =
	    msg_named(b, NFT_MSG_DELRULE, 0, NFTA_RULE_TABLE, NFTA_RULE_CHAIN, name, 0, "flush chain ");

	if (nlh)
		vlnft_batch_done(b, nlh);
	return b->err;
}

int vlnft_emit_del_chain(struct vlnft_batch *b, const char *name)
{
	struct nlmsghdr *nlh =
	    msg_named(b, NFT_MSG_DELCHAIN, 0, NFTA_CHAIN_TABLE, NFTA_CHAIN_NAME, name, 0, "delete chain ");

	if (nlh)
		vlnft_batch_done(b, nlh);
	return b->err;
}

int vlnft_emit_flush_set(struct vlnft_batch *b, const char *name)
{
	/* DELSETELEM without elements: the kernel empties the set */
	struct nlmsghdr *nlh = vlnft_batch_msg(b, 64 + vlnft_str_room(name) + vlnft_str_room(VL_NFT_TABLE),
					       NFT_MSG_DELSETELEM, 0, "flush set %s", name);

	if (!nlh)
		return b->err;
	vlnft_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
	vlnft_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, VL_NFT_TABLE);
	vlnft_batch_done(b, nlh);
	return b->err;
}

/* nft shows keys by this byte order: ifname is host order, addresses and ports big (set userdata). */
static size_t set_udata(const struct vlnft_set_spec *s, uint8_t *u)
{
	uint32_t v = s->key_type == VLNFT_TYPE_IFNAME ? 1 : 2;
	size_t n = 0;

	u[n++] = NFTNL_UDATA_SET_KEYBYTEORDER;
	u[n++] = sizeof(v);
	memcpy(u + n, &v, sizeof(v));
	n += sizeof(v);
	if (s->data_len && s->data_type == VLNFT_TYPE_MARK) { /* marks: host order; addresses: network */
		v = 1;
		u[n++] = NFTNL_UDATA_SET_DATABYTEORDER;
		u[n++] = sizeof(v);
		memcpy(u + n, &v, sizeof(v));
		n += sizeof(v);
	}
	return n;
}

/* Room element e takes in a NEWSETELEM message. */
static size_t elem_room(const struct vlnft_set_spec *s, const struct vlnft_elem *e)
{
	size_t n = MNL_ATTR_HDRLEN + MNL_ATTR_HDRLEN + vlnft_attr_room(s->key_len);

	if (e->flags)
		n += vlnft_attr_room(4);
	if (e->chain)
		n += VLNFT_VERDICT_ROOM(e->chain);
	else if (s->data_len)
		n += MNL_ATTR_HDRLEN + vlnft_attr_room(4);
	if (e->comment)
		n += vlnft_attr_room(2 + strlen(e->comment) + 1);
	return n;
}

static void put_elem(struct nlmsghdr *nlh, const struct vlnft_set_spec *s, const struct vlnft_elem *e,
		     uint16_t index)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, index);

	if (e->flags)
		vlnft_put_be32(nlh, NFTA_SET_ELEM_FLAGS, e->flags);
	vlnft_put_value(nlh, NFTA_SET_ELEM_KEY, e->key, s->key_len);
	if (e->chain)
		vlnft_put_verdict(nlh, NFTA_SET_ELEM_DATA, (uint32_t)NFT_JUMP, e->chain);
	else if (s->data_len)
		vlnft_put_value(nlh, NFTA_SET_ELEM_DATA, &e->data, sizeof(e->data));
	if (e->comment) { /* libnftnl's udata TLV, as `nft` writes an element's comment */
		uint8_t u[256]; /* NFT_USERDATA_MAXLEN */
		size_t len = strlen(e->comment) + 1;

		if (len > sizeof(u) - 2)
			len = sizeof(u) - 2;
		u[0] = NFTNL_UDATA_SET_ELEM_COMMENT;
		u[1] = (uint8_t)len;
		memcpy(u + 2, e->comment, len - 1);
		u[len + 1] = '\0';
		vlnft_put_data(nlh, NFTA_SET_ELEM_USERDATA, 2 + len, u);
	}
	mnl_attr_nest_end(nlh, nest);
}

int vlnft_emit_set(struct vlnft_batch *b, const struct vlnft_set_spec *s, const struct vlnft_elem *e,
		   size_t n, uint32_t *id_out)
{
	const char *name = s->name ? s->name : "__set%d";
	const char *shown = s->name ? s->name : "(anonymous)";
	uint32_t id = ++b->set_id;
	struct nlmsghdr *nlh;
	uint8_t udata[16];
	size_t ulen = 0, i, j;

	if (s->key_len > sizeof(e->key))
		return b->err = -EINVAL;
	if (s->name)
		ulen = set_udata(s, udata);
	nlh = vlnft_batch_msg(b,
			      64 + vlnft_str_room(VL_NFT_TABLE) + vlnft_str_room(name) +
				  9 * vlnft_attr_room(4) + vlnft_attr_room(8) + vlnft_attr_room(ulen),
			      NFT_MSG_NEWSET, NLM_F_CREATE, "set %s", shown);
	if (!nlh)
		return b->err;
	vlnft_put_strz(nlh, NFTA_SET_TABLE, VL_NFT_TABLE);
	vlnft_put_strz(nlh, NFTA_SET_NAME, name);
	vlnft_put_be32(nlh, NFTA_SET_FLAGS, s->flags);
	vlnft_put_be32(nlh, NFTA_SET_KEY_TYPE, s->key_type);
	vlnft_put_be32(nlh, NFTA_SET_KEY_LEN, s->key_len);
	if (s->flags & NFT_SET_MAP) {
		vlnft_put_be32(nlh, NFTA_SET_DATA_TYPE, s->data_len ? s->data_type : NFT_DATA_VERDICT);
		vlnft_put_be32(nlh, NFTA_SET_DATA_LEN, s->data_len);
	}
	vlnft_put_be32(nlh, NFTA_SET_ID, id);
	if (s->timeout_ms)
		vlnft_put_be64(nlh, NFTA_SET_TIMEOUT, s->timeout_ms);
	if (s->size) {
		struct nlattr *desc = mnl_attr_nest_start(nlh, NFTA_SET_DESC);

		vlnft_put_be32(nlh, NFTA_SET_DESC_SIZE, s->size);
		mnl_attr_nest_end(nlh, desc);
	}
	if (ulen)
		vlnft_put_data(nlh, NFTA_SET_USERDATA, ulen, udata);
	vlnft_batch_done(b, nlh);
	for (i = 0; i < n && !b->err; i += ELEMS_PER_MSG) {
		size_t end = i + ELEMS_PER_MSG < n ? i + ELEMS_PER_MSG : n, room = 0;
		struct nlattr *list;

		for (j = i; j < end; j++)
			room += elem_room(s, &e[j]);
		nlh = vlnft_batch_msg(
		    b, 64 + vlnft_str_room(name) + vlnft_attr_room(4) + vlnft_str_room(VL_NFT_TABLE) + room,
		    NFT_MSG_NEWSETELEM, NLM_F_CREATE, "elements of set %s", shown);
		if (!nlh)
			break;
		vlnft_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, name);
		vlnft_put_be32(nlh, NFTA_SET_ELEM_LIST_SET_ID, id);
		vlnft_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, VL_NFT_TABLE);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (j = i; j < end; j++)
			put_elem(nlh, s, &e[j], (uint16_t)(j - i + 1));
		mnl_attr_nest_end(nlh, list);
		vlnft_batch_done(b, nlh);
	}
	if (id_out)
		*id_out = id;
	return b->err;
}

uint32_t vlnft_log_pairs(const struct vl_lab *lab)
{
	uint64_t n = (uint64_t)lab->n_eps * lab->n_eps;

	return n < VL_NFT_LOG_PAIRS_MIN	  ? VL_NFT_LOG_PAIRS_MIN
	       : n > VL_NFT_LOG_PAIRS_MAX ? VL_NFT_LOG_PAIRS_MAX
					  : (uint32_t)n;
}

int vlnft_emit_pair_meter(struct vlnft_batch *b, const struct vl_lab *lab, const char *name)
{
	struct vlnft_set_spec spec = {
	    .name = name,
	    .flags = NFT_SET_EVAL | NFT_SET_TIMEOUT,
	    .key_type = VLNFT_TYPE_IPADDR << VLNFT_TYPE_BITS | VLNFT_TYPE_IPADDR, /* ipv4_addr . ipv4_addr */
	    .key_len = 8,
	    .timeout_ms = VL_NFT_LOG_PAIR_TIMEOUT_S * 1000ULL,
	    .size = vlnft_log_pairs(lab),
	};

	return vlnft_emit_set(b, &spec, NULL, 0, NULL);
}

int vlnft_emit_log_ceiling(struct vlnft_batch *b)
{
	struct nlmsghdr *nlh =
	    vlnft_batch_msg(b,
			    64 + vlnft_str_room(VL_NFT_TABLE) + vlnft_str_room(VLNFT_OBJ_LOG_CEILING) +
				MNL_ATTR_HDRLEN + 2 * vlnft_attr_room(8) + 4 * vlnft_attr_room(4),
			    NFT_MSG_NEWOBJ, NLM_F_CREATE, "limit %s", VLNFT_OBJ_LOG_CEILING);
	struct nlattr *data;

	if (!nlh)
		return b->err;
	vlnft_put_strz(nlh, NFTA_OBJ_TABLE, VL_NFT_TABLE);
	vlnft_put_strz(nlh, NFTA_OBJ_NAME, VLNFT_OBJ_LOG_CEILING);
	vlnft_put_be32(nlh, NFTA_OBJ_TYPE, NFT_OBJECT_LIMIT);
	data = mnl_attr_nest_start(nlh, NFTA_OBJ_DATA);
	vlnft_put_be64(nlh, NFTA_LIMIT_RATE, VL_NFT_LOG_MAX_RATE);
	vlnft_put_be64(nlh, NFTA_LIMIT_UNIT, 1);
	vlnft_put_be32(nlh, NFTA_LIMIT_BURST, VL_NFT_LOG_MAX_BURST);
	vlnft_put_be32(nlh, NFTA_LIMIT_TYPE, NFT_LIMIT_PKTS);
	vlnft_put_be32(nlh, NFTA_LIMIT_FLAGS, 0);
	mnl_attr_nest_end(nlh, data);
	vlnft_batch_done(b, nlh);
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
	struct nlmsghdr *nlh =
	    msg_named(b, NFT_MSG_DELSET, 0, NFTA_SET_TABLE, NFTA_SET_NAME, name, 0, "delete set ");

	if (nlh)
		vlnft_batch_done(b, nlh);
	return b->err;
}
