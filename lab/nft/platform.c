// SPDX-License-Identifier: MIT
/*
 * The AzurePlatform* rules in a VNet fabric (spec 19.4, docs/nsg-semantics.md; the layout is
 * drawn in nft-int.h). Traffic to the platform addresses ends in the fabric (input hook), so the
 * NSG chains of the forward hook never see it; here only the platform rules of the sender's NIC
 * and subnet NSGs (vl_eff_platform_rules, as the evaluator reads them) judge it, and without a
 * match it passes. NSGs without platform rules get no chain.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>

#include "vnetlab/effective.h"
#include "vnetlab/ip.h"
#include "vnetlab/nft.h"
#include "nft-emit.h"
#include "nft-int.h"

void vlnft_platform_chain_name(char *buf, const struct vlnft_ctx *c, const char *nsg, int scope)
{
	if (scope == c->vnet)
		snprintf(buf, VLNFT_CHAIN_NAME_MAX, "plat-%s", nsg);
	else
		snprintf(buf, VLNFT_CHAIN_NAME_MAX, "plat-%s/%d", nsg, scope);
}

static bool dport_has(const struct vlnft_ivals *p, uint16_t port)
{
	if (!p->n)
		return true;
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].lo <= port && port <= p->v[i].hi)
			return true;
	return false;
}

/* AzurePlatformDNS as the destination is the DNS service: TCP and UDP port 53 (as match.c).
 * false: the rule matches no DNS packet. */
static bool narrow_dns(struct vlnft_crule *cr)
{
	const struct vl_rule *r = cr->rule;
	bool dns = false;

	for (size_t i = 0; i < r->n_dst; i++)
		dns |= r->dst[i].kind == VL_ADDR_TAG_PLATFORM_DNS;
	if (!dns)
		return true;
	if (cr->pk == VLNFT_P_ONE && cr->l4 != 6 && cr->l4 != 17)
		return false;
	if (!dport_has(&cr->dport, VL_PLATFORM_DNS_PORT))
		return false;
	vlnft_ivals_free(&cr->dport);
	if (vlnft_ivals_push(&cr->dport, VL_PLATFORM_DNS_PORT, VL_PLATFORM_DNS_PORT))
		return false;
	if (cr->pk == VLNFT_P_ANY)
		cr->pk = VLNFT_P_TCPUDP;
	return true;
}

/* The platform rules of pair k compiled, by priority. Caller frees with vlnft_crules_free(). */
static int compile_pair(struct vlnft_ctx *c, size_t k, struct vlnft_crule **out, size_t *n, char *why,
			size_t why_len)
{
	const struct vl_nsg *nsg = &c->lab->nsgs[c->pairs[k].nsg];
	struct vlnft_crule *all = NULL, *v = NULL;
	const struct vl_rule **pr = NULL;
	size_t n_all = 0, n_pr = 0, m = 0;
	int err;

	*out = NULL;
	*n = 0;
	err = vlnft_ctx_scope(c, c->pairs[k].scope, why, why_len);
	if (!err)
		err = vl_eff_platform_rules(c->lab, c->pairs[k].nsg, &pr, &n_pr);
	if (err || !n_pr)
		return err;
	err = vlnft_compile_nsg(c, nsg, VL_DIR_OUT, &all, &n_all, why, why_len);
	if (!err && !(v = calloc(n_pr, sizeof(*v))))
		err = -ENOMEM;
	for (size_t i = 0; i < n_pr && !err; i++)
		for (size_t j = 0; j < n_all; j++) {
			if (all[j].rule != pr[i])
				continue;
			if (narrow_dns(&all[j])) {
				v[m++] = all[j];
				memset(&all[j], 0, sizeof(all[j]));
			}
			break;
		}
	vlnft_crules_free(all, n_all);
	free(pr);
	if (err) {
		vlnft_crules_free(v, m);
		if (err == -ENOMEM)
			snprintf(why, why_len, "NSG %s: platform rules: out of memory", nsg->name);
		return err;
	}
	*out = v;
	*n = m;
	return 0;
}

/* One rule of a platform chain: Deny goes to nsg_deny with the rule's id in the mark, as the NSG
 * chains' Deny rules do (so the agent attributes it); Allow returns to the platform chain (the
 * subnet's NSG comes next). */
static int emit_rule(struct vlnft_batch *b, const char *nsg, const char *chain, const struct vlnft_crule *cr)
{
	struct vlnft_rx x;

	if (vlnft_rx_begin(&x, chain))
		return b->err = x.err;
	vlnft_rx_nsg_match(b, &x, cr);
	vlnft_rx_comment(&x, cr->rule->name, vlnft_crule_fp(chain, nsg, cr));
	if (cr->rule->access == VL_ALLOW) {
		vlnft_rx_verdict(&x, NFT_RETURN);
	} else {
		/* As an NSG chain's Deny: the mark names the rule, nsg_deny logs (rate-limited) and drops. */
		vlnft_rx_imm_host(&x, NFT_REG_1, (uint32_t)vl_rule_id(nsg, cr->rule->name));
		vlnft_rx_meta_set(&x, NFT_META_MARK);
		vlnft_rx_goto(&x, VLNFT_CHAIN_DENY);
	}
	return vlnft_rx_end(&x, b, chain);
}

static int fill_pair(struct vlnft_ctx *c, struct vlnft_batch *b, size_t k, char *why, size_t why_len)
{
	const char *nsg = c->lab->nsgs[c->pairs[k].nsg].name;
	char chain[VLNFT_CHAIN_NAME_MAX];
	struct vlnft_crule *cr;
	size_t n;
	int err = compile_pair(c, k, &cr, &n, why, why_len);

	if (err)
		return err;
	vlnft_platform_chain_name(chain, c, nsg, c->pairs[k].scope);
	for (size_t i = 0; i < n && !b->err; i++)
		emit_rule(b, nsg, chain, &cr[i]);
	vlnft_crules_free(cr, n);
	if (b->err)
		snprintf(why, why_len, "NSG %s: platform rules: %s", nsg, strerror(-b->err));
	return b->err;
}

/* platform_nic and platform_subnet: the stage maps' NICs whose NSG has platform rules. */
/* vl_eff_has_platform_rules(), as vlnft_ctx_init() asked it */
static bool has_platform(const struct vlnft_ctx *c, int nsg)
{
	return nsg >= 0 && (size_t)nsg < c->lab->n_nsgs && c->has_platform[nsg];
}

static int emit_maps(const struct vlnft_ctx *c, struct vlnft_batch *b, const struct vlnft_shape *sh)
{
	static const struct {
		const char *name;
		enum vlnft_stage stage;
	} maps[2] = {{VLNFT_MAP_PLATFORM_NIC, VLNFT_NIC_OUT}, {VLNFT_MAP_PLATFORM_SUBNET, VLNFT_SUBNET_OUT}};

	for (int m = 0; m < 2 && !b->err; m++) {
		const struct vlnft_jump *j = sh->stage[maps[m].stage];
		size_t nj = sh->n_stage[maps[m].stage], n = 0;
		struct vlnft_set_spec spec = {
		    .name = maps[m].name,
		    .flags = NFT_SET_MAP,
		    .key_type = VLNFT_TYPE_IFNAME,
		    .key_len = IFNAMSIZ,
		};
		struct vlnft_elem *e = calloc(nj ? nj : 1, sizeof(*e));
		char(*names)[VLNFT_CHAIN_NAME_MAX] = calloc(nj ? nj : 1, sizeof(*names));

		if (!e || !names) {
			free(e);
			free(names);
			return b->err = -ENOMEM;
		}
		for (size_t i = 0; i < nj; i++) {
			if (!has_platform(c, j[i].nsg))
				continue;
			memcpy(e[n].key, j[i].ifname, strnlen(j[i].ifname, IFNAMSIZ - 1));
			vlnft_platform_chain_name(names[n], c, c->lab->nsgs[j[i].nsg].name, j[i].scope);
			e[n].chain = names[n];
			n++;
		}
		vlnft_emit_set(b, &spec, e, n, NULL);
		free(e);
		free(names);
	}
	return b->err;
}

static int emit_base(struct vlnft_batch *b)
{
	static const struct vlnft_hook input = {NF_INET_LOCAL_IN, 0, "filter"};
	static const struct vlnft_set_spec ips = {
	    .name = VLNFT_SET_PLATFORM,
	    .flags = NFT_SET_CONSTANT,
	    .key_type = VLNFT_TYPE_IPADDR,
	    .key_len = 4,
	};
	static const char *const maps[2] = {VLNFT_MAP_PLATFORM_NIC, VLNFT_MAP_PLATFORM_SUBNET};
	uint32_t mask = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
	struct vlnft_elem e[2] = {{.key = {0}}, {.key = {0}}};
	struct vlnft_rx x;

	vlnft_key_be(e[0].key, VL_IP_AZURE_PLATFORM, 4);
	vlnft_key_be(e[1].key, VL_IP_IMDS, 4);
	vlnft_emit_set(b, &ips, e, 2, NULL);
	vlnft_emit_chain(b, VLNFT_CHAIN_PLATFORM, &input);
	if (vlnft_rx_begin(&x, VLNFT_CHAIN_PLATFORM))
		return b->err = x.err;
	vlnft_rx_ct_state(&x, mask);
	vlnft_rx_counter(&x);
	vlnft_rx_verdict(&x, NF_ACCEPT);
	if (vlnft_rx_end(&x, b, "platform: ct state established,related accept"))
		return b->err;
	for (int m = 0; m < 2; m++) {
		if (vlnft_rx_begin(&x, VLNFT_CHAIN_PLATFORM))
			return b->err = x.err;
		vlnft_rx_payload(&x, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		vlnft_rx_lookup(&x, VLNFT_SET_PLATFORM, 0, false, false);
		vlnft_rx_meta(&x, NFT_META_IIFNAME);
		vlnft_rx_lookup(&x, maps[m], 0, false, true);
		if (vlnft_rx_end(&x, b, maps[m]))
			return b->err;
	}
	return 0;
}

/* ---- the same as `nft -f` text (print.c) ---- */

static void print_rule(FILE *f, const char *nsg, const struct vlnft_crule *cr)
{
	/* the NSG chains' printer has the address and port syntax; only the verdict differs */
	vlnft_print_match(f, cr);
	if (cr->rule->access == VL_ALLOW)
		fprintf(f, "return comment \"%s\"\n", cr->rule->name);
	else
		fprintf(f, "meta mark set 0x%08x goto %s comment \"%s\"\n",
			(uint32_t)vl_rule_id(nsg, cr->rule->name), VLNFT_CHAIN_DENY, cr->rule->name);
}

void vlnft_platform_print(struct vlnft_ctx *c, const struct vlnft_shape *sh, FILE *f)
{
	static const char *const maps[2] = {VLNFT_MAP_PLATFORM_NIC, VLNFT_MAP_PLATFORM_SUBNET};
	static const enum vlnft_stage stages[2] = {VLNFT_NIC_OUT, VLNFT_SUBNET_OUT};
	char chain[VLNFT_CHAIN_NAME_MAX], why[256];

	for (int m = 0; m < 2; m++) {
		size_t n = 0;

		fprintf(f, "\n\tmap %s {\n\t\ttype ifname : verdict\n", maps[m]);
		for (size_t i = 0; i < sh->n_stage[stages[m]]; i++) {
			const struct vlnft_jump *j = &sh->stage[stages[m]][i];

			if (!has_platform(c, j->nsg))
				continue;
			vlnft_platform_chain_name(chain, c, c->lab->nsgs[j->nsg].name, j->scope);
			fprintf(f, "%s\"%s\" : jump %s", n++ ? ",\n\t\t\t     " : "\t\telements = { ", j->ifname, chain);
		}
		if (n)
			fputs(" }\n", f);
		fputs("\t}\n", f);
	}
	fprintf(f,
		"\n\tset %s {\n\t\ttype ipv4_addr\n\t\tflags constant\n\t\telements = { 168.63.129.16, "
		"169.254.169.254 }\n\t}\n",
		VLNFT_SET_PLATFORM);
	for (size_t k = 0; k < c->n_pairs; k++) {
		const char *nsg = c->lab->nsgs[c->pairs[k].nsg].name;
		struct vlnft_crule *cr;
		size_t n;

		if (!has_platform(c, c->pairs[k].nsg))
			continue;
		vlnft_platform_chain_name(chain, c, nsg, c->pairs[k].scope);
		fprintf(f, "\n\tchain %s {\n", chain);
		if (compile_pair(c, k, &cr, &n, why, sizeof(why)) == 0) {
			for (size_t i = 0; i < n; i++)
				print_rule(f, nsg, &cr[i]);
			vlnft_crules_free(cr, n);
		} else {
			fprintf(f, "\t\t# error: %s\n", why);
		}
		fputs("\t}\n", f);
	}
	fprintf(f, "\n\tchain %s {\n\t\ttype filter hook input priority filter; policy accept;\n",
		VLNFT_CHAIN_PLATFORM);
	fputs("\t\tct state established,related counter accept\n", f);
	for (int m = 0; m < 2; m++)
		fprintf(f, "\t\tip daddr @%s iifname vmap @%s\n", VLNFT_SET_PLATFORM, maps[m]);
	fputs("\t}\n", f);
}

int vlnft_platform_emit(struct vlnft_ctx *c, struct vlnft_batch *b, const struct vlnft_shape *sh, char *why,
			size_t why_len)
{
	char chain[VLNFT_CHAIN_NAME_MAX];
	int err = 0;

	for (size_t k = 0; k < c->n_pairs && !b->err; k++) {
		if (!has_platform(c, c->pairs[k].nsg))
			continue;
		vlnft_platform_chain_name(chain, c, c->lab->nsgs[c->pairs[k].nsg].name, c->pairs[k].scope);
		vlnft_emit_chain(b, chain, NULL);
	}
	emit_maps(c, b, sh);
	emit_base(b);
	for (size_t k = 0; k < c->n_pairs && !b->err && !err; k++)
		if (has_platform(c, c->pairs[k].nsg))
			err = fill_pair(c, b, k, why, why_len);
	if (!err && b->err) {
		snprintf(why, why_len, "platform chains: %s", strerror(-b->err));
		err = b->err;
	}
	return err;
}

int vlnft_platform_edit(struct vlnft_ctx *c, struct vlnft_batch *b, int nsg, bool had, char *why,
			size_t why_len)
{
	bool has = has_platform(c, nsg);
	char chain[VLNFT_CHAIN_NAME_MAX];
	struct vlnft_shape sh;
	int err;

	if (!has && !had)
		return 0;
	err = vlnft_shape_init(&sh, c);
	if (err) {
		snprintf(why, why_len, "platform chains: %s", strerror(-err));
		return err;
	}
	/* Emptying the maps first drops every jump to the NSG's chains: they can then go. */
	vlnft_emit_flush_set(b, VLNFT_MAP_PLATFORM_NIC);
	vlnft_emit_flush_set(b, VLNFT_MAP_PLATFORM_SUBNET);
	for (size_t k = 0; k < c->n_pairs && !b->err && !err; k++) {
		if (c->pairs[k].nsg != nsg)
			continue;
		vlnft_platform_chain_name(chain, c, c->lab->nsgs[nsg].name, c->pairs[k].scope);
		vlnft_emit_chain(b, chain, NULL); /* made if missing */
		vlnft_emit_flush_chain(b, chain);
		if (has)
			err = fill_pair(c, b, k, why, why_len);
	}
	if (!err)
		emit_maps(c, b, &sh);
	for (size_t k = 0; k < c->n_pairs && !has && !b->err; k++) {
		if (c->pairs[k].nsg != nsg)
			continue;
		vlnft_platform_chain_name(chain, c, c->lab->nsgs[nsg].name, c->pairs[k].scope);
		vlnft_emit_del_chain(b, chain);
	}
	vlnft_shape_fini(&sh);
	if (!err && b->err) {
		snprintf(why, why_len, "platform chains: %s", strerror(-b->err));
		err = b->err;
	}
	return err;
}
