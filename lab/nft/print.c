/* SPDX-License-Identifier: MIT */
/*
 * The same rulesets in nft syntax, from the same compiled rules as the
 * netlink builder. The output is valid `nft -f` input (it replaces the table).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/nft.h"
#include "vnetlab/plan.h"
#include "nft-int.h"

static void put_ip(FILE *f, uint32_t a)
{
	fprintf(f, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

static void put_ival(FILE *f, const struct vlnft_ival *i, bool ip)
{
	int plen = ip ? vlnft_ival_prefix_len(i) : -1;

	if (i->lo == i->hi) {
		if (ip)
			put_ip(f, i->lo);
		else
			fprintf(f, "%u", i->lo);
	} else if (plen >= 0) {
		put_ip(f, i->lo);
		fprintf(f, "/%d", plen);
	} else if (ip) {
		put_ip(f, i->lo);
		fputc('-', f);
		put_ip(f, i->hi);
	} else {
		fprintf(f, "%u-%u", i->lo, i->hi);
	}
}

static void put_ivals(FILE *f, const struct vlnft_ivals *iv, bool ip)
{
	size_t i;

	if (iv->n == 1) {
		put_ival(f, &iv->v[0], ip);
		return;
	}
	fputs("{ ", f);
	for (i = 0; i < iv->n; i++) {
		if (i)
			fputs(", ", f);
		put_ival(f, &iv->v[i], ip);
	}
	fputs(" }", f);
}

/* One interval, or a list set (compile.c leaves only lists of VLNFT_SET_MIN or more). */
static void put_list(FILE *f, const struct vlnft_ivals *iv, bool ip)
{
	char name[VLNFT_SET_NAME_MAX];

	if (iv->n == 1) {
		put_ivals(f, iv, ip);
		return;
	}
	vlnft_set_name(name, ip, iv);
	fprintf(f, "@%s", name);
}

static void put_addr(FILE *f, const char *what, const struct vlnft_addr *a)
{
	switch (a->kind) {
	case VLNFT_A_ANY:
		return;
	case VLNFT_A_VNET:
		fprintf(f, "ip %s @%s ", what, a->set);
		return;
	case VLNFT_A_INTERNET:
		fprintf(f, "ip %s != @%s ", what, VLNFT_SET_NOTINET);
		return;
	case VLNFT_A_IVALS:
		break;
	}
	fprintf(f, "ip %s ", what);
	if (a->iv.n == 0)
		fputs("< 0.0.0.0", f);
	else
		put_list(f, &a->iv, true);
	fputc(' ', f);
}

static const char *l4_name(uint8_t l4)
{
	switch (l4) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 50:
		return "esp";
	case 51:
		return "ah";
	}
	return "0";
}

void vlnft_print_pair_meter(FILE *f, const struct vl_lab *lab, const char *name)
{
	_Static_assert(VL_NFT_LOG_PAIR_TIMEOUT_S % 60 == 0, "nft lists whole minutes as 1m");
	fprintf(f,
		"\tset %s {\n\t\ttype ipv4_addr . ipv4_addr\n\t\tsize %u\n\t\tflags dynamic,timeout\n"
		"\t\ttimeout %dm\n\t}\n\n",
		name, vlnft_log_pairs(lab), VL_NFT_LOG_PAIR_TIMEOUT_S / 60);
}

void vlnft_print_log_ceiling(FILE *f)
{
	fprintf(f, "\tlimit %s {\n\t\trate %d/second burst %d packets\n\t}\n\n", VLNFT_OBJ_LOG_CEILING,
		VL_NFT_LOG_MAX_RATE, VL_NFT_LOG_MAX_BURST);
}

void vlnft_print_log_limits(FILE *f, const char *set)
{
	fprintf(f,
		"update @%s { ip saddr . ip daddr limit rate %d/second burst %d packets } limit name \"%s\" ",
		set, VL_NFT_LOG_RATE, VL_NFT_LOG_BURST, VLNFT_OBJ_LOG_CEILING);
}

void vlnft_print_match(FILE *f, const struct vlnft_crule *cr)
{
	fputs("\t\t", f);
	if (cr->pk == VLNFT_P_ONE)
		fprintf(f, "meta l4proto %s ", l4_name(cr->l4));
	else if (cr->pk == VLNFT_P_TCPUDP)
		fprintf(f, "meta l4proto @%s ", VLNFT_SET_TCPUDP);
	put_addr(f, "saddr", &cr->src);
	put_addr(f, "daddr", &cr->dst);
	if (cr->sport.n) {
		fputs("th sport ", f);
		put_list(f, &cr->sport, false);
		fputc(' ', f);
	}
	if (cr->dport.n) {
		fputs("th dport ", f);
		put_list(f, &cr->dport, false);
		fputc(' ', f);
	}
}

static void put_rule(FILE *f, const char *nsg, const struct vlnft_crule *cr)
{
	uint32_t id = (uint32_t)vl_rule_id(nsg, cr->rule->name);

	vlnft_print_match(f, cr);
	if (cr->rule->access == VL_ALLOW)
		fprintf(f, "meta mark set 0x%08x return comment \"%s\"\n", VL_FLOW_MARK_ALLOW | id, cr->rule->name);
	else
		fprintf(f, "meta mark set 0x%08x goto %s comment \"%s\"\n", id, VLNFT_CHAIN_DENY, cr->rule->name);
}

/* One field of a keyed element's key (4 bytes, network order), as nft writes it. */
static void put_key_field(FILE *f, unsigned bit, const uint8_t *k)
{
	if (bit == VLNFT_KEY_PROTO)
		fputs(l4_name(k[0]), f);
	else if (bit == VLNFT_KEY_SADDR || bit == VLNFT_KEY_DADDR)
		put_ip(f, (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3]);
	else
		fprintf(f, "%u", (unsigned)k[0] << 8 | k[1]);
}

/* A keyed chunk (keyed.c): its map, then its chain. */
static void put_keyed(FILE *f, const struct vlnft_layout *l, const struct vlnft_chunk *k)
{
	static const char *const type[] = {"inet_proto", "ipv4_addr", "ipv4_addr", "inet_service", "inet_service"};
	static const char *const expr[] = {"meta l4proto", "ip saddr", "ip daddr", "th sport", "th dport"};
	struct vlnft_keyed_elem *e;
	size_t n, i;
	int b, o;

	if (vlnft_keyed_elems(l, k, &e, &n)) {
		fprintf(f, "\n\t# error: chunk %s: out of memory\n", k->name);
		return;
	}
	fprintf(f, "\n\tmap %s {\n\t\ttype ", k->name);
	for (b = 0, o = 0; b < 5; b++)
		if (k->shape & (1u << b))
			fprintf(f, "%s%s", o++ ? " . " : "", type[b]);
	fputs(" : mark\n", f);
	for (i = 0; i < n; i++) {
		fputs(i ? ",\n\t\t\t     " : "\t\telements = { ", f);
		for (b = 0, o = 0; b < 5; b++)
			if (k->shape & (1u << b)) {
				if (o)
					fputs(" . ", f);
				put_key_field(f, 1u << b, e[i].key + 4 * o++);
			}
		fprintf(f, " comment \"%s\" : 0x%08x", e[i].cr->rule->name, e[i].mark);
	}
	if (n)
		fputs(" }\n", f);
	fprintf(f, "\t}\n\n\tchain %s {\n\t\tmeta mark set ", k->name);
	for (b = 0, o = 0; b < 5; b++)
		if (k->shape & (1u << b))
			fprintf(f, "%s%s", o++ ? " . " : "", expr[b]);
	fprintf(f, " map @%s\n", k->name);
	fprintf(f, "\t\tmeta mark & 0x%08x != 0x00000000 return\n", VL_FLOW_MARK_ALLOW);
	fprintf(f, "\t\tmeta mark != 0x00000000 goto %s\n\t}\n", VLNFT_CHAIN_DENY);
	free(e);
}

/* One NSG chain as nsgchain.c lays it out: its rules, or its head and then its chunks. */
static void put_layout(FILE *f, const struct vlnft_ctx *c, const struct vl_nsg *nsg, int scope, enum vl_dir dir)
{
	struct vlnft_layout l;
	char why[256] = "";

	if (vlnft_layout_nsg(c, nsg, scope, dir, &l, why, sizeof(why))) {
		char chain[VLNFT_CHAIN_NAME_MAX];

		vlnft_chain_name(chain, c, nsg->name, scope, dir);
		fprintf(f, "\n\tchain %s {\n\t\t# error: %s\n\t}\n", chain, why);
		return;
	}
	fprintf(f, "\n\tchain %s {\n", l.chain);
	if (!l.n_chunks)
		for (size_t i = 0; i < l.n; i++)
			put_rule(f, nsg->name, &l.cr[i]);
	else
		fputs("\t\tmeta mark set 0x00000000\n", f);
	for (size_t k = 0; k < l.n_chunks; k++)
		fprintf(f, "\t\t%s%s %s\n", k ? "meta mark 0x00000000 " : "", k + 1 < l.n_chunks ? "jump" : "goto",
			l.chunks[k].name);
	fputs("\t}\n", f);
	for (size_t k = 0; k < l.n_chunks; k++) {
		if (l.chunks[k].shape) {
			put_keyed(f, &l, &l.chunks[k]);
			continue;
		}
		fprintf(f, "\n\tchain %s {\n", l.chunks[k].name);
		for (size_t i = l.chunks[k].first; i < l.chunks[k].first + l.chunks[k].n; i++)
			put_rule(f, nsg->name, &l.cr[i]);
		fputs("\t}\n", f);
	}
	vlnft_layout_fini(&l);
}

static void put_map(FILE *f, const struct vlnft_shape *sh, int stage)
{
	fprintf(f, "\tmap %s {\n\t\ttype ifname : verdict\n", vlnft_stage_map[stage]);
	for (size_t i = 0; i < sh->n_stage[stage]; i++)
		fprintf(f, "%s\"%s\" : jump %s", i ? ",\n\t\t\t     " : "\t\telements = { ",
			sh->stage[stage][i].ifname, sh->stage[stage][i].chain);
	if (sh->n_stage[stage])
		fputs(" }\n", f);
	fputs("\t}\n\n", f);
}

static void put_marks(FILE *f, const struct vlnft_shape *sh)
{
	fprintf(f, "\tmap %s {\n\t\ttype ifname : mark\n", VLNFT_MAP_MARKS);
	for (size_t i = 0; i < sh->n_marks; i++)
		fprintf(f, "%s\"%s\" : 0x%08x", i ? ",\n\t\t\t     " : "\t\telements = { ",
			sh->marks[i].ifname, sh->marks[i].value);
	if (sh->n_marks)
		fputs(" }\n", f);
	fputs("\t}\n\n", f);
}

static void put_set(FILE *f, const char *name, const struct vlnft_ivals *iv)
{
	fprintf(f, "\tset %s {\n\t\ttype ipv4_addr\n\t\tflags interval\n", name);
	if (iv->n) {
		struct vlnft_ivals one = {0};
		size_t i;

		fputs("\t\telements = { ", f);
		for (i = 0; i < iv->n; i++) {
			if (i)
				fputs(", ", f);
			one.v = &iv->v[i];
			one.n = 1;
			put_ivals(f, &one, true);
		}
		fputs(" }\n", f);
	}
	fputs("\t}\n\n", f);
}

static void put_header(FILE *f)
{
	/* Replace atomically, as the netlink transaction does. */
	fprintf(f, "table ip %s\ndelete table ip %s\n", VL_NFT_TABLE, VL_NFT_TABLE);
	fprintf(f, "table ip %s {\n", VL_NFT_TABLE);
}

/*
 * The parts of a fabric's table besides the NSG chains, each in the order build_full()
 * (fabric.c) makes them, from the same vlnft_shape: `nft list table` of what `nft -f` makes of
 * this text is then the listing of what the builder sent (tests/lab/test_dryrun.c).
 */

/* The sets build_full() makes before the NSG ones' list sets: tag sets, peerings, tcpudp. */
static void put_tag_sets(FILE *f, struct vlnft_ctx *c, const struct vlnft_shape *sh)
{
	char why[256] = "", set[VLNFT_VNET_SET_MAX + 8];

	for (size_t i = 0; i < sh->n_scopes; i++) {
		vlnft_ctx_scope(c, sh->scopes[i], why, sizeof(why));
		vlnft_vnet_set_name(set, c, sh->scopes[i]);
		put_set(f, set, &c->vnet_tag);
	}
	put_set(f, VLNFT_SET_NOTINET, &c->notinet);
	for (size_t i = 0; i < sh->n_fwd; i++) {
		snprintf(set, sizeof(set), VLNFT_SET_FWD_PREFIX "%s", sh->fwd_if[i] + 2);
		put_set(f, set, &sh->fwd[i]);
	}
	fprintf(f,
		"\tset %s {\n\t\ttype inet_proto\n\t\tflags constant\n\t\telements = { tcp, udp }\n\t}\n\n",
		VLNFT_SET_TCPUDP);
}

static void put_list_sets(FILE *f, const struct vlnft_named *lists, size_t n_lists)
{
	for (size_t i = 0; i < n_lists; i++) {
		fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags constant,interval\n\t\telements = ",
			lists[i].name, lists[i].addr ? "ipv4_addr" : "inet_service");
		put_ivals(f, &lists[i].iv, lists[i].addr);
		fputs("\n\t}\n\n", f);
	}
}

/* address : address, as emit_addr_map() makes edge_dnat and edge_snat. */
static void put_addr_map(FILE *f, const char *name, const struct vlnft_kv *kv, size_t n)
{
	fprintf(f, "\tmap %s {\n\t\ttype ipv4_addr : ipv4_addr\n", name);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n\t\t\t     " : "\t\telements = { ", f);
		put_ip(f, kv[i].key);
		fputs(" : ", f);
		put_ip(f, kv[i].value);
	}
	if (n)
		fputs(" }\n", f);
	fputs("\t}\n\n", f);
}

/* The sets and maps from nsg_deny's meter to the edge's NAT maps (platform.c prints its own). */
static void put_fabric_maps(FILE *f, const struct vl_lab *lab, const struct vlnft_shape *sh)
{
	vlnft_print_log_ceiling(f);
	vlnft_print_pair_meter(f, lab, VLNFT_SET_LOG_DENY);
	for (int s = 0; s < VLNFT_N_STAGES; s++)
		put_map(f, sh, s);
	vlnft_print_pair_meter(f, lab, VLNFT_SET_LOG_ALLOW);
	put_marks(f, sh);
	put_addr_map(f, VLNFT_MAP_DNAT, sh->ilpip, sh->n_ilpip);
	put_addr_map(f, VLNFT_MAP_SNAT, sh->snat, sh->n_snat);
}

static void put_forward(FILE *f, const struct vlnft_shape *sh)
{
	fprintf(f, "\tchain %s {\n\t\ttype filter hook forward priority filter; policy accept;\n",
		VLNFT_CHAIN_FORWARD);
	fputs("\t\tct state established,related counter accept\n", f);
	for (size_t i = 0; i < sh->n_fwd; i++)
		fprintf(f, "\t\tiifname \"%s\" ip saddr != @" VLNFT_SET_FWD_PREFIX "%s counter drop\n",
			sh->fwd_if[i], sh->fwd_if[i] + 2);
	fprintf(f, "\t\tiifname vmap @%s\n", vlnft_stage_map[VLNFT_NIC_OUT]);
	fprintf(f, "\t\tiifname vmap @%s\n", vlnft_stage_map[VLNFT_SUBNET_OUT]);
	fprintf(f, "\t\toifname vmap @%s\n", vlnft_stage_map[VLNFT_SUBNET_IN]);
	fprintf(f, "\t\toifname vmap @%s\n", vlnft_stage_map[VLNFT_NIC_IN]);
	for (size_t i = 0; i < sh->n_nofwd; i++) {
		fprintf(f, "\t\toifname \"%s\" ip daddr != ", sh->nofwd[i].ifname);
		put_ip(f, sh->nofwd[i].value);
		fputs(" counter reject with icmp host-unreachable\n", f);
	}
	fprintf(f, "\t\tmeta mark & 0x%08x != 0 ct state new ", VL_FLOW_MARK_ALLOW);
	vlnft_print_log_limits(f, VLNFT_SET_LOG_ALLOW);
	fprintf(f, "counter log prefix \"%s\" group %d\n", VL_NFLOG_PREFIX_ALLOW, VL_NFLOG_FLOW_GROUP);
	fputs("\t}\n\n", f);
	fprintf(f, "\tchain %s {\n\t\t", VLNFT_CHAIN_DENY);
	vlnft_print_log_limits(f, VLNFT_SET_LOG_DENY);
	fprintf(f, "counter log prefix \"%s\" group %d\n\t\tcounter drop\n\t}\n\n", VL_NFLOG_PREFIX_DENY,
		VL_NFLOG_GROUP);
}

/* The NSG chains, empty, where build_full() makes them (before prerouting): their rules and
 * chunks come later (put_layout), as the builder fills them after the edge's chains. */
static void put_nsg_chains_first(FILE *f, const struct vlnft_ctx *c)
{
	char chain[VLNFT_CHAIN_NAME_MAX];

	for (size_t i = 0; i < c->n_pairs; i++) {
		const char *nsg = c->lab->nsgs[c->pairs[i].nsg].name;

		vlnft_chain_name(chain, c, nsg, c->pairs[i].scope, VL_DIR_IN);
		fprintf(f, "\tchain %s {\n\t}\n\n", chain);
		vlnft_chain_name(chain, c, nsg, c->pairs[i].scope, VL_DIR_OUT);
		fprintf(f, "\tchain %s {\n\t}\n\n", chain);
	}
}

/* prerouting: the route marks, then each frontend port's backends (emit_lb). */
static void put_prerouting(FILE *f, const struct vlnft_shape *sh)
{
	fprintf(f, "\tchain %s {\n\t\ttype filter hook prerouting priority mangle; policy accept;\n",
		VLNFT_CHAIN_PREROUTING);
	fprintf(f, "\t\tmeta mark set iifname map @%s\n", VLNFT_MAP_MARKS);
	for (size_t i = 0; i < sh->n_lb; i++) {
		const struct vlnft_lbport *l = &sh->lb[i];
		const char *proto = l->l4 == 17 ? "udp" : "tcp";

		for (size_t k = 0; k < l->n_marks; k++) {
			fprintf(f, "\t\tiifname \"%s\" ip daddr ", VL_EDGE_IFNAME);
			put_ip(f, l->ip);
			fprintf(f, " %s dport %u ", proto, l->port);
			if (l->n_marks > 1)
				fprintf(f, "jhash ip saddr . %s sport mod %zu seed 0x7a11 %zu ", proto,
					l->n_marks, k);
			fprintf(f, "counter meta mark set 0x%08x\n", l->marks[k]);
		}
	}
	fputs("\t}\n\n", f);
}

/* edge_in and postrouting: the edge's DNAT of instance public IPs and its SNAT (emit_edge_dnat,
 * emit_edge_snat). */
static void put_edge_nat(FILE *f, const struct vlnft_shape *sh)
{
	fprintf(f, "\tchain %s {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n",
		VLNFT_CHAIN_EDGE_IN);
	fprintf(f, "\t\tiifname \"%s\" counter dnat to ip daddr map @%s\n\t}\n\n", VL_EDGE_IFNAME,
		VLNFT_MAP_DNAT);
	fprintf(f, "\tchain %s {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n",
		VLNFT_CHAIN_POSTROUTING);
	fprintf(f, "\t\toifname \"%s\" counter snat to ip saddr map @%s\n", VL_EDGE_IFNAME, VLNFT_MAP_SNAT);
	fprintf(f, "\t\toifname \"%s\" counter snat to ", VL_EDGE_IFNAME);
	put_ip(f, sh->outbound);
	fputs("\n\t}\n", f);
}

/**
 * vl_nft_fabric_print - a VNet fabric's ruleset as `nft -f` input
 */
void vl_nft_fabric_print(const struct vl_lab *lab, int vnet, FILE *f)
{
	char why[256] = "";
	struct vlnft_named *lists;
	struct vlnft_shape sh;
	struct vlnft_ctx c;
	size_t g, n_lists;
	int d;

	if (vlnft_ctx_init(&c, lab, vnet, why, sizeof(why))) {
		fprintf(f, "# error: %s\n", why);
		return;
	}
	if (vlnft_shape_init(&sh, &c)) {
		fprintf(f, "# error: out of memory\n");
		vlnft_ctx_fini(&c);
		return;
	}
	if (vlnft_lab_sets(&c, &lists, &n_lists, why, sizeof(why))) {
		fprintf(f, "# error: %s\n", why);
		goto out;
	}
	put_header(f);
	put_tag_sets(f, &c, &sh);
	put_list_sets(f, lists, n_lists);
	vlnft_named_free(lists, n_lists);
	put_fabric_maps(f, lab, &sh);
	put_forward(f, &sh);
	put_nsg_chains_first(f, &c);
	put_prerouting(f, &sh);
	put_edge_nat(f, &sh);
	for (g = 0; g < c.n_pairs; g++) {
		static const enum vl_dir dirs[2] = {VL_DIR_IN, VL_DIR_OUT};
		const struct vl_nsg *nsg = &lab->nsgs[c.pairs[g].nsg];

		vlnft_ctx_scope(&c, c.pairs[g].scope, why, sizeof(why));
		for (d = 0; d < 2; d++)
			put_layout(f, &c, nsg, c.pairs[g].scope, dirs[d]);
	}
	vlnft_platform_print(&c, &sh, f);
	fputs("}\n", f);
out:
	vlnft_shape_fini(&sh);
	vlnft_ctx_fini(&c);
}

/**
 * vl_nft_masq_print - a node's ip-masq-agent ruleset as `nft -f` input
 */
void vl_nft_masq_print(const struct vl_lab *lab, int node_ep, FILE *f)
{
	struct vlnft_masq m;
	char why[256] = "";

	if (vlnft_masq_params(lab, node_ep, &m, why, sizeof(why))) {
		fprintf(f, "# error: %s\n", why);
		return;
	}
	put_header(f);
	put_set(f, VLNFT_SET_NONMASQ, &m.nonmasq);
	fprintf(f, "\tchain %s {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n",
		VLNFT_CHAIN_POSTROUTING);
	fputs("\t\tip saddr ", f);
	if (m.plugin == VL_PLUGIN_KUBENET) {
		put_ip(f, m.pod_cidr.addr);
		fprintf(f, "/%u", m.pod_cidr.len);
	} else {
		fputs("!= ", f);
		put_ip(f, m.node_ip);
	}
	fprintf(f, " oifname \"eth0\" ip daddr != @%s counter masquerade\n\t}\n", VLNFT_SET_NONMASQ);
	vlnft_kproxy_print(lab, node_ep, f);
	vlnft_netpol_print(lab, node_ep, f);
	fputs("}\n", f);
	vlnft_ivals_free(&m.nonmasq);
}
