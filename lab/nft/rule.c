// SPDX-License-Identifier: MIT
/*
 * nftables rules built expression by expression (struct vlnft_rx), each
 * expression written with libmnl (nft-attr.h) straight into the rule's buffer
 * as libnftnl lays it out, without libnftnl objects or an allocation per
 * expression: a 1,000-rule NSG is some 20,000 expressions, and making,
 * filling and freeing an object for each was most of the time building its
 * transaction took. They know nothing of NSGs; fabric.c and the others say
 * what to match.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <net/if.h>

#include <libmnl/libmnl.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "vnetlab/nft.h"
#include "nft-attr.h"
#include "nft-emit.h"
#include "nft-int.h"

/* --- rules ---
 *
 * A rule's expressions go into x->msg (a message header and attributes, so
 * that libmnl writes them) as one NFTA_RULE_EXPRESSIONS nest; vlnft_rx_end()
 * writes table, chain and userdata into the batch (appended to the chain) and copies the
 * nest after them (the order libnftnl gives: the kernel does not mind, a byte
 * comparison with libnftnl's output does).
 */

static struct nlmsghdr *rx_nlh(struct vlnft_rx *x)
{
	return &x->msg.nlh;
}

/*
 * Start expression `name` whose data takes at most `room` bytes:
 * NFTA_LIST_ELEM { NFTA_EXPR_NAME name, NFTA_EXPR_DATA { ... } }. NULL (x->err
 * set, or already set) if it does not fit; else close it with ex_end().
 */
static struct nlmsghdr *ex_begin(struct vlnft_rx *x, const char *name, size_t room, struct nlattr **nest)
{
	struct nlmsghdr *nlh = rx_nlh(x);

	if (x->err)
		return NULL;
	room += 2 * MNL_ATTR_HDRLEN + vlnft_str_room(name);
	if (!x->exprs)
		room += MNL_ATTR_HDRLEN;
	if (nlh->nlmsg_len + room > sizeof(x->msg)) {
		x->err = -EMSGSIZE;
		return NULL;
	}
	if (!x->exprs)
		x->exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	nest[0] = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	vlnft_put_strz(nlh, NFTA_EXPR_NAME, name);
	nest[1] = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	return nlh;
}

static void ex_end(struct nlmsghdr *nlh, struct nlattr **nest)
{
	mnl_attr_nest_end(nlh, nest[1]);
	mnl_attr_nest_end(nlh, nest[0]);
}

#define U32S(n) ((n)*vlnft_attr_room(4))

int vlnft_rx_begin(struct vlnft_rx *x, const char *chain)
{
	size_t len = strlen(chain) + 1;

	x->err = 0;
	x->udata_len = 0;
	x->exprs = NULL;
	x->msg.nlh.nlmsg_len = MNL_NLMSG_HDRLEN;
	if (len > sizeof(x->chain))
		return x->err = -ENAMETOOLONG;
	memcpy(x->chain, chain, len);
	return 0;
}

int vlnft_rx_end(struct vlnft_rx *x, struct vlnft_batch *b, const char *label)
{
	return vlnft_rx_end_at(x, b, label, VLNFT_AT_END, 0);
}

int vlnft_rx_end_at(struct vlnft_rx *x, struct vlnft_batch *b, const char *label, enum vlnft_at at,
		    uint64_t handle)
{
	static const uint16_t flags[] = {
	    [VLNFT_AT_END] = NLM_F_CREATE | NLM_F_APPEND,
	    [VLNFT_AT_REPLACE] = NLM_F_REPLACE,
	    [VLNFT_AT_BEFORE] = NLM_F_CREATE,
	};
	struct nlmsghdr *nlh;
	size_t elen;

	if (x->err) {
		b->err = b->err ? b->err : x->err;
		return b->err;
	}
	elen = 0;
	if (x->exprs) {
		mnl_attr_nest_end(rx_nlh(x), x->exprs);
		elen = x->exprs->nla_len;
	}
	nlh = vlnft_batch_msg(b,
			      64 + vlnft_str_room(VL_NFT_TABLE) + vlnft_str_room(x->chain) +
				  vlnft_attr_room(x->udata_len) + vlnft_attr_room(8) + elen,
			      NFT_MSG_NEWRULE, flags[at], "%s", label);
	if (!nlh)
		return b->err;
	vlnft_put_strz(nlh, NFTA_RULE_TABLE, VL_NFT_TABLE);
	vlnft_put_strz(nlh, NFTA_RULE_CHAIN, x->chain);
	if (at == VLNFT_AT_REPLACE)
		vlnft_put_be64(nlh, NFTA_RULE_HANDLE, handle);
	else if (at == VLNFT_AT_BEFORE)
		vlnft_put_be64(nlh, NFTA_RULE_POSITION, handle);
	if (x->udata_len)
		vlnft_put_data(nlh, NFTA_RULE_USERDATA, x->udata_len, x->udata);
	if (elen) {
		memcpy(mnl_nlmsg_get_payload_tail(nlh), x->exprs, elen);
		nlh->nlmsg_len += (uint32_t)MNL_ALIGN(elen);
	}
	vlnft_batch_done(b, nlh);
	return b->err;
}

/* The rule name as the rule's comment, so `nft list` shows which NSG rule it is; and the
 * fingerprint (0: none). Neither when both do not fit the kernel's 256 bytes of userdata. */
void vlnft_rx_comment(struct vlnft_rx *x, const char *text, uint64_t fp)
{
	size_t len = strlen(text) + 1, n = 2 + len + (fp ? 2 + sizeof(fp) : 0);

	if (len > UINT8_MAX || n > sizeof(x->udata))
		return;
	x->udata[0] = NFTNL_UDATA_RULE_COMMENT;
	x->udata[1] = (uint8_t)len;
	memcpy(x->udata + 2, text, len);
	if (fp) {
		x->udata[2 + len] = VLNFT_UDATA_RULE_FP;
		x->udata[3 + len] = sizeof(fp);
		memcpy(x->udata + 4 + len, &fp, sizeof(fp));
	}
	x->udata_len = n;
}

/* The fingerprint alone as the rule's userdata (a rule without a comment). */
void vlnft_rx_fp(struct vlnft_rx *x, uint64_t fp)
{
	x->udata[0] = VLNFT_UDATA_RULE_FP;
	x->udata[1] = sizeof(fp);
	memcpy(x->udata + 2, &fp, sizeof(fp));
	x->udata_len = 2 + sizeof(fp);
}

int vlnft_emit_del_rule(struct vlnft_batch *b, const char *chain, uint64_t handle)
{
	struct nlmsghdr *nlh =
	    vlnft_batch_msg(b, 64 + vlnft_str_room(VL_NFT_TABLE) + vlnft_str_room(chain) + vlnft_attr_room(8),
			    NFT_MSG_DELRULE, 0, "delete rule in %s", chain);

	if (!nlh)
		return b->err;
	vlnft_put_strz(nlh, NFTA_RULE_TABLE, VL_NFT_TABLE);
	vlnft_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	vlnft_put_be64(nlh, NFTA_RULE_HANDLE, handle);
	vlnft_batch_done(b, nlh);
	return b->err;
}

/* --- expressions --- */

void vlnft_rx_meta_to(struct vlnft_rx *x, uint32_t key, uint32_t dreg)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "meta", U32S(2), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_META_KEY, key);
	vlnft_put_be32(nlh, NFTA_META_DREG, dreg);
	ex_end(nlh, nest);
}

void vlnft_rx_meta(struct vlnft_rx *x, uint32_t key)
{
	vlnft_rx_meta_to(x, key, NFT_REG_1);
}

void vlnft_rx_ifname(struct vlnft_rx *x, uint32_t key, const char *name)
{
	char pad[IFNAMSIZ] = {0};

	memcpy(pad, name, strnlen(name, IFNAMSIZ - 1));
	vlnft_rx_meta(x, key);
	vlnft_rx_cmp(x, NFT_CMP_EQ, pad, IFNAMSIZ);
}

void vlnft_rx_meta_set(struct vlnft_rx *x, uint32_t key)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "meta", U32S(2), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_META_KEY, key);
	vlnft_put_be32(nlh, NFTA_META_SREG, NFT_REG_1);
	ex_end(nlh, nest);
}

static void rx_payload_reg(struct vlnft_rx *x, uint32_t dreg, uint32_t base, uint32_t off, uint32_t len)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "payload", U32S(4), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_PAYLOAD_DREG, dreg);
	vlnft_put_be32(nlh, NFTA_PAYLOAD_BASE, base);
	vlnft_put_be32(nlh, NFTA_PAYLOAD_OFFSET, off);
	vlnft_put_be32(nlh, NFTA_PAYLOAD_LEN, len);
	ex_end(nlh, nest);
}

void vlnft_rx_payload_to(struct vlnft_rx *x, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	rx_payload_reg(x, dreg, base, off, len);
}

void vlnft_rx_payload(struct vlnft_rx *x, uint32_t base, uint32_t off, uint32_t len)
{
	rx_payload_reg(x, NFT_REG_1, base, off, len);
}

void vlnft_rx_cmp(struct vlnft_rx *x, uint32_t op, const void *data, uint32_t len)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "cmp", U32S(2) + VLNFT_VALUE_ROOM(len), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_CMP_SREG, NFT_REG_1);
	vlnft_put_be32(nlh, NFTA_CMP_OP, op);
	vlnft_put_value(nlh, NFTA_CMP_DATA, data, len);
	ex_end(nlh, nest);
}

void vlnft_rx_bitwise(struct vlnft_rx *x, const void *mask, uint32_t len)
{
	static const uint8_t zero[NFT_DATA_VALUE_MAXLEN];
	struct nlattr *nest[2];
	struct nlmsghdr *nlh;

	if (len > sizeof(zero)) {
		x->err = x->err ? x->err : -EINVAL;
		return;
	}
	nlh = ex_begin(x, "bitwise", U32S(3) + 2 * VLNFT_VALUE_ROOM(len), nest);
	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_BITWISE_SREG, NFT_REG_1);
	vlnft_put_be32(nlh, NFTA_BITWISE_DREG, NFT_REG_1);
	vlnft_put_be32(nlh, NFTA_BITWISE_LEN, len);
	vlnft_put_value(nlh, NFTA_BITWISE_MASK, mask, len);
	vlnft_put_value(nlh, NFTA_BITWISE_XOR, zero, len);
	ex_end(nlh, nest);
}

void vlnft_rx_ct_state(struct vlnft_rx *x, uint32_t bits)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "ct", U32S(2), nest);
	uint32_t zero = 0;

	if (nlh) {
		vlnft_put_be32(nlh, NFTA_CT_KEY, NFT_CT_STATE);
		vlnft_put_be32(nlh, NFTA_CT_DREG, NFT_REG_1);
		ex_end(nlh, nest);
	}
	vlnft_rx_bitwise(x, &bits, 4);
	vlnft_rx_cmp(x, NFT_CMP_NEQ, &zero, 4);
}

static void rx_range(struct vlnft_rx *x, const void *from, const void *to, uint32_t len)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "range", U32S(2) + 2 * VLNFT_VALUE_ROOM(len), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_RANGE_SREG, NFT_REG_1);
	vlnft_put_be32(nlh, NFTA_RANGE_OP, NFT_RANGE_EQ);
	vlnft_put_value(nlh, NFTA_RANGE_FROM_DATA, from, len);
	vlnft_put_value(nlh, NFTA_RANGE_TO_DATA, to, len);
	ex_end(nlh, nest);
}

/* A set's lookup (dreg < 0), or a map's, its value into register dreg (NFT_REG_VERDICT: a vmap). */
static void rx_lookup(struct vlnft_rx *x, const char *set, uint32_t id, int dreg, bool inv)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "lookup", U32S(4) + vlnft_str_room(set), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_LOOKUP_SREG, NFT_REG_1);
	if (dreg >= 0)
		vlnft_put_be32(nlh, NFTA_LOOKUP_DREG, (uint32_t)dreg);
	vlnft_put_strz(nlh, NFTA_LOOKUP_SET, set);
	if (id)
		vlnft_put_be32(nlh, NFTA_LOOKUP_SET_ID, id);
	if (inv)
		vlnft_put_be32(nlh, NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	ex_end(nlh, nest);
}

void vlnft_rx_lookup(struct vlnft_rx *x, const char *set, uint32_t id, bool inv, bool vmap)
{
	rx_lookup(x, set, id, vmap ? NFT_REG_VERDICT : -1, inv);
}

void vlnft_rx_map(struct vlnft_rx *x, const char *set)
{
	rx_lookup(x, set, 0, NFT_REG_1, false);
}

static void rx_limit_pair(struct vlnft_rx *x, const char *set, uint64_t per_second, uint32_t burst)
{
	struct nlattr *nest[2], *in[2];
	struct nlmsghdr *nlh;

	rx_payload_reg(x, NFT_REG_1, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);    /* ip saddr */
	rx_payload_reg(x, NFT_REG32_01, NFT_PAYLOAD_NETWORK_HEADER, 16, 4); /* . ip daddr */
	nlh = ex_begin(x, "dynset",
		       U32S(2) + vlnft_str_room(set) + 2 * MNL_ATTR_HDRLEN + vlnft_str_room("limit") +
			   2 * vlnft_attr_room(8) + U32S(3),
		       nest);
	if (!nlh)
		return;
	vlnft_put_strz(nlh, NFTA_DYNSET_SET_NAME, set);
	vlnft_put_be32(nlh, NFTA_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	vlnft_put_be32(nlh, NFTA_DYNSET_SREG_KEY, NFT_REG_1);
	in[0] = mnl_attr_nest_start(nlh, NFTA_DYNSET_EXPR);
	vlnft_put_strz(nlh, NFTA_EXPR_NAME, "limit");
	in[1] = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
	vlnft_put_be64(nlh, NFTA_LIMIT_RATE, per_second);
	vlnft_put_be64(nlh, NFTA_LIMIT_UNIT, 1);
	vlnft_put_be32(nlh, NFTA_LIMIT_BURST, burst);
	vlnft_put_be32(nlh, NFTA_LIMIT_TYPE, NFT_LIMIT_PKTS);
	vlnft_put_be32(nlh, NFTA_LIMIT_FLAGS, 0);
	mnl_attr_nest_end(nlh, in[1]);
	mnl_attr_nest_end(nlh, in[0]);
	ex_end(nlh, nest);
}

/* limit name "<name>": a named limit object of the table. */
static void rx_limit_obj(struct vlnft_rx *x, const char *name)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "objref", U32S(1) + vlnft_str_room(name), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_OBJREF_IMM_TYPE, NFT_OBJECT_LIMIT);
	vlnft_put_strz(nlh, NFTA_OBJREF_IMM_NAME, name);
	ex_end(nlh, nest);
}

void vlnft_rx_log_limits(struct vlnft_rx *x, const char *set)
{
	rx_limit_pair(x, set, VL_NFT_LOG_RATE, VL_NFT_LOG_BURST);
	rx_limit_obj(x, VLNFT_OBJ_LOG_CEILING);
}

/* An expression without attributes (counter, masq). */
static void rx_bare(struct vlnft_rx *x, const char *name)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, name, 0, nest);

	if (nlh)
		ex_end(nlh, nest);
}

void vlnft_rx_counter(struct vlnft_rx *x)
{
	rx_bare(x, "counter");
}

void vlnft_rx_masq(struct vlnft_rx *x)
{
	rx_bare(x, "masq");
}

static void rx_imm_verdict(struct vlnft_rx *x, uint32_t code, const char *chain)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "immediate", U32S(1) + VLNFT_VERDICT_ROOM(chain), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	vlnft_put_verdict(nlh, NFTA_IMMEDIATE_DATA, code, chain);
	ex_end(nlh, nest);
}

void vlnft_rx_verdict(struct vlnft_rx *x, int verdict)
{
	rx_imm_verdict(x, (uint32_t)verdict, NULL);
}

void vlnft_rx_goto(struct vlnft_rx *x, const char *chain)
{
	rx_imm_verdict(x, (uint32_t)NFT_GOTO, chain);
}

void vlnft_rx_jump(struct vlnft_rx *x, const char *chain)
{
	rx_imm_verdict(x, (uint32_t)NFT_JUMP, chain);
}

static void rx_imm_data(struct vlnft_rx *x, uint32_t dreg, const void *data, uint32_t len)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "immediate", U32S(1) + VLNFT_VALUE_ROOM(len), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_IMMEDIATE_DREG, dreg);
	vlnft_put_value(nlh, NFTA_IMMEDIATE_DATA, data, len);
	ex_end(nlh, nest);
}

void vlnft_rx_imm(struct vlnft_rx *x, uint32_t host_value)
{
	uint32_t be = htonl(host_value);

	rx_imm_data(x, NFT_REG_1, &be, sizeof(be));
}

void vlnft_rx_imm_host(struct vlnft_rx *x, uint32_t reg, uint32_t value)
{
	rx_imm_data(x, reg, &value, sizeof(value));
}

void vlnft_rx_imm_port(struct vlnft_rx *x, uint32_t reg, uint16_t port)
{
	uint16_t be = htons(port);

	rx_imm_data(x, reg, &be, sizeof(be));
}

void vlnft_rx_log(struct vlnft_rx *x, const char *prefix, uint16_t group)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "log", vlnft_str_room(prefix) + vlnft_attr_room(2), nest);

	if (!nlh)
		return;
	vlnft_put_strz(nlh, NFTA_LOG_PREFIX, prefix);
	mnl_attr_put_u16(nlh, NFTA_LOG_GROUP, htons(group));
	memset((char *)mnl_nlmsg_get_payload_tail(nlh) - 2, 0, 2); /* the padding */
	ex_end(nlh, nest);
}

void vlnft_rx_limit(struct vlnft_rx *x, uint64_t per_second, uint32_t burst)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "limit", 2 * vlnft_attr_room(8) + U32S(3), nest);

	if (!nlh)
		return;
	vlnft_put_be64(nlh, NFTA_LIMIT_RATE, per_second);
	vlnft_put_be64(nlh, NFTA_LIMIT_UNIT, 1);
	vlnft_put_be32(nlh, NFTA_LIMIT_BURST, burst);
	vlnft_put_be32(nlh, NFTA_LIMIT_TYPE, NFT_LIMIT_PKTS);
	vlnft_put_be32(nlh, NFTA_LIMIT_FLAGS, 0);
	ex_end(nlh, nest);
}

void vlnft_rx_reject_host_unreach(struct vlnft_rx *x)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "reject", U32S(1) + vlnft_attr_room(1), nest);
	uint8_t code = 1; /* ICMP_HOST_UNREACH */

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_REJECT_TYPE, NFT_REJECT_ICMP_UNREACH);
	vlnft_put_data(nlh, NFTA_REJECT_ICMP_CODE, sizeof(code), &code);
	ex_end(nlh, nest);
}

static void rx_nat(struct vlnft_rx *x, uint32_t type, bool port)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "nat", U32S(4), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_NAT_TYPE, type);
	vlnft_put_be32(nlh, NFTA_NAT_FAMILY, NFPROTO_IPV4);
	vlnft_put_be32(nlh, NFTA_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (port)
		vlnft_put_be32(nlh, NFTA_NAT_REG_PROTO_MIN, NFT_REG_2);
	ex_end(nlh, nest);
}

void vlnft_rx_snat(struct vlnft_rx *x)
{
	rx_nat(x, NFT_NAT_SNAT, false);
}

void vlnft_rx_dnat(struct vlnft_rx *x, bool port)
{
	rx_nat(x, NFT_NAT_DNAT, port);
}

void vlnft_rx_jhash_client(struct vlnft_rx *x, uint32_t n)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh;

	vlnft_rx_payload(x, NFT_PAYLOAD_NETWORK_HEADER, 12, 4); /* register 1 */
	rx_payload_reg(x, NFT_REG32_01, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);
	nlh = ex_begin(x, "hash", U32S(7), nest);
	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_HASH_SREG, NFT_REG_1);
	vlnft_put_be32(nlh, NFTA_HASH_DREG, NFT_REG_1);
	vlnft_put_be32(nlh, NFTA_HASH_LEN, 8);
	vlnft_put_be32(nlh, NFTA_HASH_MODULUS, n);
	vlnft_put_be32(nlh, NFTA_HASH_SEED, 0x7a11);
	vlnft_put_be32(nlh, NFTA_HASH_OFFSET, 0);
	vlnft_put_be32(nlh, NFTA_HASH_TYPE, NFT_HASH_JENKINS);
	ex_end(nlh, nest);
}

void vlnft_rx_numgen(struct vlnft_rx *x, uint32_t n)
{
	struct nlattr *nest[2];
	struct nlmsghdr *nlh = ex_begin(x, "numgen", U32S(4), nest);

	if (!nlh)
		return;
	vlnft_put_be32(nlh, NFTA_NG_DREG, NFT_REG_1);
	vlnft_put_be32(nlh, NFTA_NG_MODULUS, n);
	vlnft_put_be32(nlh, NFTA_NG_TYPE, NFT_NG_RANDOM);
	vlnft_put_be32(nlh, NFTA_NG_OFFSET, 0);
	ex_end(nlh, nest);
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
		/* Only lists of VLNFT_SET_MIN or more get here (compile.c); the set is in the batch or the
		 * kernel. */
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
