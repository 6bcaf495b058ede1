/* SPDX-License-Identifier: MIT */
/*
 * Internal to lab/nft: netlink attributes as libnftnl lays them out, written
 * with libmnl into a message (emit.c: objects, rule.c: rules). libmnl leaves
 * an attribute's padding as it was; these zero it, so that a batch is the
 * same bytes whatever the buffer held before.
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

static inline void vlnft_put_data(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data)
{
	size_t pad = MNL_ALIGN(len) - len;

	mnl_attr_put(nlh, type, len, data);
	if (pad)
		memset((char *)mnl_nlmsg_get_payload_tail(nlh) - pad, 0, pad);
}

static inline void vlnft_put_strz(struct nlmsghdr *nlh, uint16_t type, const char *s)
{
	vlnft_put_data(nlh, type, strlen(s) + 1, s);
}

/* u32 and u64 attributes are in network order */
static inline void vlnft_put_be32(struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
	mnl_attr_put_u32(nlh, type, htonl(v));
}

static inline void vlnft_put_be64(struct nlmsghdr *nlh, uint16_t type, uint64_t v)
{
	mnl_attr_put_u64(nlh, type, htobe64(v));
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
