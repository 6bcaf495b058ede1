// SPDX-License-Identifier: MIT
/*
 * Keyed chunks of an NSG chain (nft-int.h, "Keyed chunks"): which rules can be keyed (their
 * shape), the map that stands for a run of them (an element a rule: key : mark), and the three
 * rules of the chunk's chain. nsgchain.c decides which runs are keyed, nsgrules.c sends them with
 * the other chunks, and print.c writes the same map as text from vlnft_keyed_elems.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "vnetlab/nft.h"
#include "nft-int.h"
#include "nft-emit.h"

static bool one_addr(const struct vlnft_addr *a)
{
	return a->kind == VLNFT_A_IVALS && a->iv.n == 1 && a->iv.v[0].lo == a->iv.v[0].hi;
}

static bool one_port(const struct vlnft_ivals *p)
{
	return p->n == 1 && p->v[0].lo == p->v[0].hi;
}

unsigned vlnft_crule_shape(const struct vlnft_crule *cr)
{
	unsigned s = 0;

	if (cr->pk == VLNFT_P_ONE)
		s |= VLNFT_KEY_PROTO;
	else if (cr->pk != VLNFT_P_ANY)
		return 0;
	if (one_addr(&cr->src))
		s |= VLNFT_KEY_SADDR;
	else if (cr->src.kind != VLNFT_A_ANY)
		return 0;
	if (one_addr(&cr->dst))
		s |= VLNFT_KEY_DADDR;
	else if (cr->dst.kind != VLNFT_A_ANY)
		return 0;
	if (one_port(&cr->sport))
		s |= VLNFT_KEY_SPORT;
	else if (cr->sport.n)
		return 0;
	if (one_port(&cr->dport))
		s |= VLNFT_KEY_DPORT;
	else if (cr->dport.n)
		return 0;
	/* Ports are read at the transport header whatever the protocol: only with it in the key. */
	if ((s & (VLNFT_KEY_SPORT | VLNFT_KEY_DPORT)) && !(s & VLNFT_KEY_PROTO))
		return 0;
	/* The protocol alone: a handful of keys, and nft would list a lone 4-byte inet_proto key as a
	 * number. */
	return s == VLNFT_KEY_PROTO ? 0 : s;
}

bool vlnft_is_keyed_chunk(const char *name)
{
	const char *p = strrchr(name, '/');

	return p && p[1] == 'k' && strlen(p + 2) == 16;
}

int vlnft_keyed_fields(unsigned shape)
{
	return __builtin_popcount(shape & 31u);
}

uint32_t vlnft_keyed_key_type(unsigned shape)
{
	static const uint32_t types[] = {VLNFT_TYPE_INET_PROTOCOL, VLNFT_TYPE_IPADDR, VLNFT_TYPE_IPADDR,
					 VLNFT_TYPE_INET_SERVICE, VLNFT_TYPE_INET_SERVICE};
	uint32_t t = 0;

	for (int i = 0; i < 5; i++)
		if (shape & (1u << i))
			t = t << VLNFT_TYPE_BITS | types[i];
	return t;
}

/* Rule cr's key as the registers hold it: each field in 4 bytes, in network order, zero-padded
 * (the protocol one byte, a port two). */
static void key_of(const struct vlnft_crule *cr, unsigned shape, uint8_t *key)
{
	size_t o = 0;

	memset(key, 0, VLNFT_KEY_MAX);
	if (shape & VLNFT_KEY_PROTO)
		key[o] = cr->l4, o += 4;
	if (shape & VLNFT_KEY_SADDR)
		vlnft_key_be(key + o, cr->src.iv.v[0].lo, 4), o += 4;
	if (shape & VLNFT_KEY_DADDR)
		vlnft_key_be(key + o, cr->dst.iv.v[0].lo, 4), o += 4;
	if (shape & VLNFT_KEY_SPORT)
		vlnft_key_be(key + o, cr->sport.v[0].lo, 2), o += 4;
	if (shape & VLNFT_KEY_DPORT)
		vlnft_key_be(key + o, cr->dport.v[0].lo, 2);
}

int vlnft_keyed_elems(const struct vlnft_layout *l, const struct vlnft_chunk *k, struct vlnft_keyed_elem **out,
		      size_t *n_out)
{
	size_t len = 4 * (size_t)vlnft_keyed_fields(k->shape), n = 0;
	struct vlnft_keyed_elem *v = calloc(k->n ? k->n : 1, sizeof(*v));

	*out = NULL;
	*n_out = 0;
	if (!v)
		return -ENOMEM;
	for (size_t i = k->first; i < k->first + k->n; i++) {
		const struct vlnft_crule *cr = &l->cr[i];
		struct vlnft_keyed_elem *e = &v[n];
		uint32_t id = (uint32_t)vl_rule_id(l->nsg, cr->rule->name);
		size_t j;

		key_of(cr, k->shape, e->key);
		for (j = 0; j < n && memcmp(v[j].key, e->key, len); j++)
			;
		if (j < n)
			continue; /* an earlier rule has this key: this one is never reached */
		e->cr = cr;
		e->mark = cr->rule->access == VL_ALLOW ? VL_FLOW_MARK_ALLOW | id : id;
		n++;
	}
	*out = v;
	*n_out = n;
	return 0;
}

int vlnft_keyed_emit(struct vlnft_batch *b, const struct vlnft_layout *l, const struct vlnft_chunk *k, bool blind)
{
	static const uint32_t zero, allow = VL_FLOW_MARK_ALLOW;
	static const struct {
		unsigned bit;
		int base; /* -1: meta l4proto */
		uint32_t off, len;
	} fields[] = {{VLNFT_KEY_PROTO, -1, NFT_META_L4PROTO, 0},
		      {VLNFT_KEY_SADDR, NFT_PAYLOAD_NETWORK_HEADER, 12, 4},
		      {VLNFT_KEY_DADDR, NFT_PAYLOAD_NETWORK_HEADER, 16, 4},
		      {VLNFT_KEY_SPORT, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2},
		      {VLNFT_KEY_DPORT, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2}};
	struct vlnft_set_spec spec = {
	    .name = k->name,
	    .flags = NFT_SET_MAP,
	    .key_type = vlnft_keyed_key_type(k->shape),
	    .key_len = 4 * (uint32_t)vlnft_keyed_fields(k->shape),
	    .data_type = VLNFT_TYPE_MARK,
	    .data_len = 4,
	};
	struct vlnft_keyed_elem *ke;
	struct vlnft_elem *e;
	struct vlnft_rx x;
	uint32_t reg = NFT_REG32_00;
	size_t n;
	int err = vlnft_keyed_elems(l, k, &ke, &n);

	if (err)
		return b->err = err;
	e = calloc(n ? n : 1, sizeof(*e));
	if (!e) {
		free(ke);
		return b->err = -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		memcpy(e[i].key, ke[i].key, sizeof(e[i].key));
		e[i].data = ke[i].mark;
		e[i].comment = ke[i].cr->rule->name;
	}
	if (blind) { /* the map may be there with what it held: emptied, then filled */
		vlnft_emit_set(b, &spec, NULL, 0, NULL);
		vlnft_emit_flush_set(b, k->name);
	}
	vlnft_emit_set(b, &spec, e, n, NULL);
	free(e);
	free(ke);
	if (b->err || vlnft_rx_begin(&x, k->name))
		return b->err ? b->err : (b->err = x.err);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!(k->shape & fields[i].bit))
			continue;
		if (fields[i].base < 0)
			vlnft_rx_meta_to(&x, fields[i].off, reg++);
		else
			vlnft_rx_payload_to(&x, (uint32_t)fields[i].base, fields[i].off, fields[i].len, reg++);
	}
	vlnft_rx_map(&x, k->name);
	vlnft_rx_meta_set(&x, NFT_META_MARK);
	vlnft_rx_end(&x, b, k->name);
	/* An Allow returns (to the head, which enters no later chunk), a Deny goes to nsg_deny; no
	 * match leaves the mark 0 and the head goes on. */
	if (!vlnft_rx_begin(&x, k->name)) {
		vlnft_rx_meta(&x, NFT_META_MARK);
		vlnft_rx_bitwise(&x, &allow, 4);
		vlnft_rx_cmp(&x, NFT_CMP_NEQ, &zero, 4);
		vlnft_rx_verdict(&x, NFT_RETURN);
		vlnft_rx_end(&x, b, k->name);
	}
	if (!vlnft_rx_begin(&x, k->name)) {
		vlnft_rx_meta(&x, NFT_META_MARK);
		vlnft_rx_cmp(&x, NFT_CMP_NEQ, &zero, 4);
		vlnft_rx_goto(&x, VLNFT_CHAIN_DENY);
		vlnft_rx_end(&x, b, k->name);
	}
	return b->err;
}
