/* SPDX-License-Identifier: MIT */
/*
 * Internal to lab/nft: netlink attributes as libnftnl lays them out, written
 * into a message (emit.c: objects, rule.c: rules): nests with libmnl, plain
 * attributes by an inline mnl_attr_put() that also zeroes the padding (libmnl
 * leaves it as it was), so that a batch is the same bytes whatever the
 * buffer held before.
 */
#ifndef VNETLAB_NFT_ATTR_H
#define VNETLAB_NFT_ATTR_H

#include <arpa/inet.h>
#include <endian.h>
#include <stdint.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>

/* Room an attribute with a payload of len bytes takes. */
static inline size_t vlnft_attr_room(size_t len)
{
	return MNL_ATTR_HDRLEN + MNL_ALIGN(len);
}

static inline size_t vlnft_str_room(const char *s)
{
	return vlnft_attr_room(strlen(s) + 1);
}

/* mnl_attr_put(), inline: a rule has some 20 attributes, a 1,000-rule NSG 20,000 rules'
 * worth, and the calls into libmnl were a fifth of building its batch. */
static inline void vlnft_put_data(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data)
{
	struct nlattr *attr = (struct nlattr *)((char *)nlh + MNL_ALIGN(nlh->nlmsg_len));
	size_t pad = MNL_ALIGN(len) - len;

	attr->nla_type = type;
	attr->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
	memcpy((char *)attr + MNL_ATTR_HDRLEN, data, len);
	if (pad)
		memset((char *)attr + MNL_ATTR_HDRLEN + len, 0, pad);
	nlh->nlmsg_len += (uint32_t)MNL_ALIGN(attr->nla_len);
}

static inline void vlnft_put_strz(struct nlmsghdr *nlh, uint16_t type, const char *s)
{
	vlnft_put_data(nlh, type, strlen(s) + 1, s);
}

/* u32 and u64 attributes are in network order */
static inline void vlnft_put_be32(struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
	v = htonl(v);
	vlnft_put_data(nlh, type, sizeof(v), &v);
}

static inline void vlnft_put_be64(struct nlmsghdr *nlh, uint16_t type, uint64_t v)
{
	v = htobe64(v);
	vlnft_put_data(nlh, type, sizeof(v), &v);
}

/* type { NFTA_DATA_VALUE data } */
static inline void vlnft_put_value(struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	vlnft_put_data(nlh, NFTA_DATA_VALUE, len, data);
	mnl_attr_nest_end(nlh, nest);
}

#define VLNFT_VALUE_ROOM(len) (MNL_ATTR_HDRLEN + vlnft_attr_room(len))

/* type { NFTA_DATA_VERDICT { NFTA_VERDICT_CODE code, NFTA_VERDICT_CHAIN chain (if any) } } */
static inline void vlnft_put_verdict(struct nlmsghdr *nlh, uint16_t type, uint32_t code, const char *chain)
{
	struct nlattr *outer = mnl_attr_nest_start(nlh, type);
	struct nlattr *inner = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);

	vlnft_put_be32(nlh, NFTA_VERDICT_CODE, code);
	if (chain)
		vlnft_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
	mnl_attr_nest_end(nlh, inner);
	mnl_attr_nest_end(nlh, outer);
}

#define VLNFT_VERDICT_ROOM(chain)                                                                            \
	(2 * MNL_ATTR_HDRLEN + vlnft_attr_room(4) + ((chain) ? vlnft_str_room(chain) : 0))

#endif
