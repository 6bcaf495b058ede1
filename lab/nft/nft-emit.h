/* SPDX-License-Identifier: MIT */
/* Internal to lab/nft: object and expression emitters (fabric.c), written with libmnl. */
#ifndef VNETLAB_NFT_EMIT_H
#define VNETLAB_NFT_EMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/netlink.h>

#include "nft-int.h"

struct vlnft_hook {
	uint32_t hooknum;
	int32_t prio;
	const char *type;
};

struct vlnft_set_spec {
	const char *name; /* NULL: anonymous ("__set%d", referenced by id) */
	uint32_t flags;   /* NFT_SET_* */
	uint32_t key_type;
	uint32_t key_len;
	uint32_t data_type; /* data maps (NFT_SET_MAP without verdicts): type and length of values */
	uint32_t data_len;
	uint64_t timeout_ms; /* elements expire this long after they were last updated (0: never) */
	uint32_t size;	     /* elements at most (0: the kernel's default) */
};

struct vlnft_elem {
	uint8_t key[VLNFT_KEY_MAX];
	uint32_t flags;	     /* NFT_SET_ELEM_INTERVAL_END */
	char *chain;	     /* verdict maps: jump target */
	uint32_t data;	     /* data maps: the value (host order, 4 bytes) */
	const char *comment; /* NULL: none (`nft list` shows it after the key) */
};

/* Bytes of the expressions of one rule (the largest built so far takes under 2 KiB). */
#define VLNFT_RX_ROOM 4096

/* A rule being built (vlnft_rx_begin ... vlnft_rx_end); the first failure sticks in err.
 * Its expressions are serialised as they are added, into msg; the struct is not copied. */
struct vlnft_rx {
	int err;
	size_t udata_len;	 /* 0: no comment */
	uint8_t udata[256];	 /* NFT_USERDATA_MAXLEN */
	char chain[256];	 /* NFT_CHAIN_MAXNAMELEN */
	struct nlattr *exprs;	 /* the NFTA_RULE_EXPRESSIONS nest in msg; NULL before the first one */
	union {
		struct nlmsghdr nlh; /* only its length is used: libmnl appends at its tail */
		uint8_t bytes[VLNFT_RX_ROOM];
	} msg;
};

int vlnft_emit_table(struct vlnft_batch *b, bool replace);
int vlnft_emit_chain(struct vlnft_batch *b, const char *name, const struct vlnft_hook *hook);
int vlnft_emit_flush_chain(struct vlnft_batch *b, const char *name);
int vlnft_emit_del_chain(struct vlnft_batch *b, const char *name);
/* Empty a named set or map (its elements; the set stays). */
int vlnft_emit_flush_set(struct vlnft_batch *b, const char *name);
int vlnft_emit_list_set(struct vlnft_batch *b, const struct vlnft_named *l);
int vlnft_emit_del_set(struct vlnft_batch *b, const char *name);
int vlnft_emit_set(struct vlnft_batch *b, const struct vlnft_set_spec *s, const struct vlnft_elem *e, size_t n,
		   uint32_t *id_out);
/* The dynamic set of address pairs vlnft_rx_log_limits keeps its buckets in, sized for lab. */
int vlnft_emit_pair_meter(struct vlnft_batch *b, const struct vl_lab *lab, const char *name);
/* The named limit every log rule of the table shares (before the first rule that uses it). */
int vlnft_emit_log_ceiling(struct vlnft_batch *b);
int vlnft_ival_elems(const struct vlnft_ivals *iv, int key_len, struct vlnft_elem **out, size_t *n);
void vlnft_key_be(uint8_t *key, uint32_t v, int len);

int vlnft_rx_begin(struct vlnft_rx *x, const char *chain);
int vlnft_rx_end(struct vlnft_rx *x, struct vlnft_batch *b, const char *label);
/* Where vlnft_rx_end_at puts the rule in its chain: last, in place of the rule `handle`, or
 * just before it. */
enum vlnft_at { VLNFT_AT_END, VLNFT_AT_REPLACE, VLNFT_AT_BEFORE };
int vlnft_rx_end_at(struct vlnft_rx *x, struct vlnft_batch *b, const char *label, enum vlnft_at at,
		    uint64_t handle);
/* The rule `handle` of chain deleted. */
int vlnft_emit_del_rule(struct vlnft_batch *b, const char *chain, uint64_t handle);
/* A fingerprint (nft-int.h) as the rule's only userdata: `nft list` shows no comment. */
void vlnft_rx_fp(struct vlnft_rx *x, uint64_t fp);
void vlnft_rx_meta(struct vlnft_rx *x, uint32_t key);
void vlnft_rx_payload(struct vlnft_rx *x, uint32_t base, uint32_t off, uint32_t len);
void vlnft_rx_cmp(struct vlnft_rx *x, uint32_t op, const void *data, uint32_t len);
void vlnft_rx_bitwise(struct vlnft_rx *x, const void *mask, uint32_t len);
/* ct state & bits != 0 (bits of NF_CT_STATE_BIT), as `ct state established,related`. */
void vlnft_rx_ct_state(struct vlnft_rx *x, uint32_t bits);
void vlnft_rx_lookup(struct vlnft_rx *x, const char *set, uint32_t id, bool inv, bool vmap);
void vlnft_rx_counter(struct vlnft_rx *x);
void vlnft_rx_verdict(struct vlnft_rx *x, int verdict);
/* masquerade (to the output interface's address). */
void vlnft_rx_masq(struct vlnft_rx *x);
void vlnft_rx_log(struct vlnft_rx *x, const char *prefix, uint16_t group);
/* limit rate per_second/second burst burst packets: the rule stops here past the rate. */
void vlnft_rx_limit(struct vlnft_rx *x, uint64_t per_second, uint32_t burst);
/* The limits of what is logged: VL_NFT_LOG_RATE a second from one address to another (a bucket
 * per pair in `set`, made by vlnft_emit_pair_meter), VL_NFT_LOG_MAX_RATE in all (the table's
 * named limit, made by vlnft_emit_log_ceiling); the rule stops here past either.
 * vlnft_print_log_limits says the same in nft syntax. */
void vlnft_rx_log_limits(struct vlnft_rx *x, const char *set);
/* goto chain. */
void vlnft_rx_goto(struct vlnft_rx *x, const char *chain);
/* jump chain (its return comes back here). */
void vlnft_rx_jump(struct vlnft_rx *x, const char *chain);
/* The rule's comment and its fingerprint (0: none) as its userdata; neither if both do not fit. */
void vlnft_rx_comment(struct vlnft_rx *x, const char *text, uint64_t fp);
/* Load a 4-byte value into register 1. */
void vlnft_rx_imm(struct vlnft_rx *x, uint32_t host_value);
/* meta iifname/oifname (key NFT_META_IIFNAME, _OIFNAME) == name: the name zero-padded to IFNAMSIZ,
 * as the kernel compares it. */
void vlnft_rx_ifname(struct vlnft_rx *x, uint32_t key, const char *name);
/* meta <key> (into 32-bit register dreg, NFT_REG32_00...: a concatenation's field). */
void vlnft_rx_meta_to(struct vlnft_rx *x, uint32_t key, uint32_t dreg);
/* A payload load into 32-bit register dreg (NFT_REG32_00...). */
void vlnft_rx_payload_to(struct vlnft_rx *x, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg);
/* meta <key> set <register 1> (e.g. NFT_META_MARK). */
void vlnft_rx_meta_set(struct vlnft_rx *x, uint32_t key);
/* A lookup in data map `set` whose value lands in register 1. */
void vlnft_rx_map(struct vlnft_rx *x, const char *set);
/* reject with icmp type host-unreachable. */
void vlnft_rx_reject_host_unreach(struct vlnft_rx *x);
/* snat to the address in register 1. */
void vlnft_rx_snat(struct vlnft_rx *x);
/* dnat to the address in register 1 (and, with a port, the port in register 2). */
void vlnft_rx_dnat(struct vlnft_rx *x, bool port);
/* Load a 4-byte value into register `reg` as is (host order: marks, hash results). */
void vlnft_rx_imm_host(struct vlnft_rx *x, uint32_t reg, uint32_t value);
/* Load a 2-byte value in network order into register `reg` (a port). */
void vlnft_rx_imm_port(struct vlnft_rx *x, uint32_t reg, uint16_t port);
/* register 1 = jhash(ip saddr . th sport) mod n (the client's address and port). */
void vlnft_rx_jhash_client(struct vlnft_rx *x, uint32_t n);
/* register 1 = numgen random mod n. */
void vlnft_rx_numgen(struct vlnft_rx *x, uint32_t n);
int vlnft_match_addr(struct vlnft_batch *b, struct vlnft_rx *x, uint32_t off, const struct vlnft_addr *a);
int vlnft_match_ports(struct vlnft_rx *x, uint32_t off, const struct vlnft_ivals *p);
/* The match of a compiled NSG rule (protocol, addresses, ports), as the NSG and platform chains
 * have it; print.c's vlnft_print_match says the same in nft syntax. */
void vlnft_rx_nsg_match(struct vlnft_batch *b, struct vlnft_rx *x, const struct vlnft_crule *cr);

#endif
