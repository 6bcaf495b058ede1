// SPDX-License-Identifier: MIT
/*
 * The AzurePlatform* service tags (spec section 19.4, docs/nsg-semantics.md): the tags parse
 * (case-insensitively, on either side, in the singular field only), round-trip through az JSON,
 * and traffic to the platform addresses is judged by the platform rules alone. Run from the
 * repository root.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/model.h"
#include "vnetlab/nft.h"

#define HEAD                                                                                                 \
	"name: pfu\n"                                                                                        \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.60.0.0/16]\n"                                                                 \
	"    subnets:\n"                                                                                     \
	"      - {name: a, addressPrefix: 10.60.1.0/24, networkSecurityGroup: sub-nsg}\n"                    \
	"vms:\n"                                                                                             \
	"  - {name: vm1, subnet: a, networkSecurityGroup: nic-nsg}\n"                                        \
	"  - {name: vm2, subnet: a}\n"

#define RULE(name, pri, acc, dst, dport)                                                                     \
	"      - {name: " name ", priority: " #pri ", direction: Outbound, access: " acc ", protocol: \"*\", " \
	"sourceAddressPrefix: \"*\", sourcePortRange: \"*\", destinationAddressPrefix: " dst                 \
	", destinationPortRange: \"" dport "\"}\n"

static struct vl_lab *lab_with(const char *nic_rules, const char *sub_rules)
{
	char yaml[4096];

	snprintf(yaml, sizeof(yaml),
		 HEAD "networkSecurityGroups:\n"
		      "  - name: nic-nsg\n"
		      "    securityRules:%s\n%s"
		      "  - name: sub-nsg\n"
		      "    securityRules:%s\n%s",
		 *nic_rules ? "" : " []", nic_rules, *sub_rules ? "" : " []", sub_rules);
	return th_load(yaml);
}

static int ep(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_eps; i++)
		if (!strcmp(lab->eps[i].name, name))
			return (int)i;
	cr_assert_fail("no endpoint %s", name);
	return -1;
}

static void verdict(const struct vl_lab *lab, const char *from, uint32_t dst, enum vl_proto p, uint16_t port,
		    struct vl_verdict *v)
{
	cr_assert_eq(vl_eval_path(lab, ep(lab, from), dst, p, 0, port, v), 0);
}

TestSuite(platform);

Test(platform, tags_parse_case_insensitively_on_either_side)
{
	static const struct {
		const char *s;
		enum vl_addr_kind k;
	} tags[] = {{"AzurePlatformDNS", VL_ADDR_TAG_PLATFORM_DNS},
		    {"azureplatformdns", VL_ADDR_TAG_PLATFORM_DNS},
		    {"AZUREPLATFORMIMDS", VL_ADDR_TAG_PLATFORM_IMDS},
		    {"AzurePlatformLKM", VL_ADDR_TAG_PLATFORM_LKM}};

	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		struct vl_rule r = {.priority = 100, .dir = VL_DIR_OUT, .proto = VL_PROTO_UDP};
		char why[300];

		r.name = strdup("r");
		r.src_prefix = strdup("*");
		r.src_port = strdup("*");
		r.dst_prefix = strdup(tags[i].s);
		r.dst_port = strdup("53");
		cr_assert_eq(vl_rule_parse(&r, why, sizeof(why)), 0, "%s: %s", tags[i].s, why);
		cr_assert_eq(r.n_dst, 1);
		cr_expect_eq(r.dst[0].kind, tags[i].k, "%s", tags[i].s);
		cr_expect(vl_rule_is_platform(&r));
		/* as a source too (Azure accepts it there) */
		free(r.src_prefix);
		r.src_prefix = strdup(tags[i].s);
		free(r.dst_prefix);
		r.dst_prefix = strdup("*");
		cr_assert_eq(vl_rule_parse(&r, why, sizeof(why)), 0, "%s: %s", tags[i].s, why);
		cr_expect_eq(r.src[0].kind, tags[i].k);
		r.dir = VL_DIR_IN;
		cr_expect_not(vl_rule_is_platform(&r), "an Inbound rule never judges platform traffic");
		vl_rule_clear(&r);
	}
}

Test(platform, tag_in_a_plural_field_is_refused)
{
	struct vl_rule r = {.priority = 100, .dir = VL_DIR_OUT};
	char why[300];

	r.name = strdup("r");
	r.src_prefix = strdup("*");
	r.src_port = strdup("*");
	r.dst_port = strdup("*");
	vl_strv_push(&r.dst_prefixes, "AzurePlatformDNS");
	vl_strv_push(&r.dst_prefixes, "10.0.0.0/8");
	cr_expect_neq(vl_rule_parse(&r, why, sizeof(why)), 0);
	cr_expect(strstr(why, "AzurePlatformDNS"), "%s", why);
	vl_rule_clear(&r);
}

Test(platform, unknown_tag_message_names_them)
{
	const char *e = th_load_error(HEAD "networkSecurityGroups:\n"
					   "  - name: nic-nsg\n"
					   "    securityRules:\n" RULE("x", 100, "Deny", "AzurePlatformFoo", "*")
					   "  - {name: sub-nsg}\n");

	cr_expect(strstr(e, "AzurePlatformDNS, AzurePlatformIMDS, AzurePlatformLKM"), "%s", e);
}

Test(platform, no_rule_names_a_tag_dns_bypasses_a_deny_all)
{
	struct vl_lab *lab = lab_with(RULE("deny-all", 100, "Deny", "\"*\"", "*"), "");
	struct vl_verdict v;

	verdict(lab, "vm1", VL_IP_AZURE_PLATFORM, VL_PROTO_UDP, 53, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED, "a Deny * rule does not block platform DNS");
	cr_expect_eq(v.n_hops, 0);
	cr_expect(strstr(v.note, "no rule names an AzurePlatform tag: platform traffic bypasses NSGs"), "%s",
		  v.note);
	verdict(lab, "vm1", VL_IP_IMDS, VL_PROTO_TCP, 80, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED);
	/* the Deny still applies to the rest */
	verdict(lab, "vm1", lab->eps[ep(lab, "vm2")].ip, VL_PROTO_TCP, 80, &v);
	cr_expect_eq(v.outcome, VL_OUT_DENIED);
	vl_lab_free(lab);
}

Test(platform, deny_dns_at_100_blocks_dns_from_that_nic)
{
	struct vl_lab *lab = lab_with(RULE("no-dns", 100, "Deny", "AzurePlatformDNS", "*"), "");
	struct vl_verdict v;

	verdict(lab, "vm1", VL_IP_AZURE_PLATFORM, VL_PROTO_UDP, 53, &v);
	cr_expect_eq(v.outcome, VL_OUT_DENIED);
	cr_assert(v.rule);
	cr_expect_str_eq(v.rule->name, "no-dns");
	cr_expect_eq(v.nsg, vl_lab_find_nsg(lab, "nic-nsg"));
	cr_assert_eq(v.n_hops, 1);
	cr_expect_eq(v.hops[0].type, VL_HT_NSG);
	cr_expect_eq(v.hops[0].level, VL_HOP_NIC);
	cr_expect_eq(v.hops[0].dir, VL_DIR_OUT);
	verdict(lab, "vm1", VL_IP_AZURE_PLATFORM, VL_PROTO_TCP, 53, &v);
	cr_expect_eq(v.outcome, VL_OUT_DENIED, "DNS over TCP too");
	/* the tag is the DNS service: the wireserver ports and IMDS are not it */
	verdict(lab, "vm1", VL_IP_AZURE_PLATFORM, VL_PROTO_TCP, 80, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED);
	cr_expect(strstr(v.note, "none of its 1 AzurePlatform rule matches"), "%s", v.note);
	cr_expect(strstr(v.note, "no AzurePlatform rule matches: platform traffic bypasses NSGs"), "%s", v.note);
	verdict(lab, "vm1", VL_IP_IMDS, VL_PROTO_TCP, 80, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED);
	/* another NIC of the subnet has no such rule */
	verdict(lab, "vm2", VL_IP_AZURE_PLATFORM, VL_PROTO_UDP, 53, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED);
	vl_lab_free(lab);
}

Test(platform, allow_above_deny_allows)
{
	struct vl_lab *lab = lab_with(RULE("allow-dns", 100, "Allow", "AzurePlatformDNS", "*")
					  RULE("deny-dns", 200, "Deny", "AzurePlatformDNS", "*"),
				      "");
	struct vl_verdict v;

	verdict(lab, "vm1", VL_IP_AZURE_PLATFORM, VL_PROTO_UDP, 53, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED);
	cr_assert(v.rule);
	cr_expect_str_eq(v.rule->name, "allow-dns");
	cr_expect_eq(v.n_hops, 1);
	cr_expect(strstr(v.note, "allowed by AzurePlatform rule allow-dns"), "%s", v.note);
	vl_lab_free(lab);
}

Test(platform, nic_allow_then_subnet_deny_denies)
{
	struct vl_lab *lab = lab_with(RULE("allow-imds", 300, "Allow", "AzurePlatformIMDS", "*"),
				      RULE("deny-imds", 4000, "Deny", "AzurePlatformIMDS", "80"));
	struct vl_verdict v;

	verdict(lab, "vm1", VL_IP_IMDS, VL_PROTO_TCP, 80, &v);
	cr_expect_eq(v.outcome, VL_OUT_DENIED);
	cr_assert_eq(v.n_hops, 2);
	cr_expect_eq(v.hops[0].access, VL_ALLOW);
	cr_expect_eq(v.hops[1].level, VL_HOP_SUBNET);
	cr_expect_str_eq(v.rule->name, "deny-imds");
	verdict(lab, "vm1", VL_IP_IMDS, VL_PROTO_TCP, 443, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED, "the rule's own ports narrow it");
	/* the subnet's rule judges vm2 (no NIC NSG) alone */
	verdict(lab, "vm2", VL_IP_IMDS, VL_PROTO_TCP, 80, &v);
	cr_expect_eq(v.outcome, VL_OUT_DENIED);
	cr_expect_eq(v.n_hops, 1);
	vl_lab_free(lab);
}

Test(platform, lkm_matches_no_lab_address)
{
	struct vl_lab *lab = lab_with(RULE("no-kms", 100, "Deny", "AzurePlatformLKM", "*"), "");
	struct vl_verdict v;

	verdict(lab, "vm1", VL_IP_AZURE_PLATFORM, VL_PROTO_TCP, 1688, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED);
	verdict(lab, "vm1", VL_IP_IMDS, VL_PROTO_TCP, 80, &v);
	cr_expect_eq(v.outcome, VL_OUT_DELIVERED);
	vl_lab_free(lab);
}

Test(platform, platform_rules_by_priority_outbound_only)
{
	struct vl_lab *lab = lab_with(RULE("b", 300, "Deny", "AzurePlatformDNS", "*")
					  RULE("plain", 150, "Deny", "\"*\"", "*")
					  RULE("a", 200, "Allow", "AzurePlatformIMDS", "*")
					  "      - {name: in, priority: 100, direction: Inbound, access: Deny, protocol: "
					  "\"*\", sourceAddressPrefix: AzurePlatformDNS, sourcePortRange: \"*\", "
					  "destinationAddressPrefix: \"*\", destinationPortRange: \"*\"}\n",
				      "");
	const struct vl_rule **r;
	size_t n;

	cr_assert_eq(vl_eff_platform_rules(lab, vl_lab_find_nsg(lab, "nic-nsg"), &r, &n), 0);
	cr_assert_eq(n, 2);
	cr_expect_str_eq(r[0]->name, "a");
	cr_expect_str_eq(r[1]->name, "b");
	free(r);
	cr_expect_not(vl_eff_has_platform_rules(lab, vl_lab_find_nsg(lab, "sub-nsg")));
	vl_lab_free(lab);
}

Test(platform, az_json_round_trip_keeps_the_tags)
{
	char *first, *again, *file;
	int st;

	file = th_write_temp(HEAD "networkSecurityGroups:\n"
				  "  - name: nic-nsg\n"
				  "    securityRules:\n" RULE("no-dns", 100, "Deny", "AzurePlatformDNS", "53")
				      RULE("imds", 110, "Allow", "azureplatformimds", "*")
				  "      - {name: kms, priority: 120, direction: Outbound, access: Deny, protocol: Tcp, "
				  "sourceAddressPrefix: AzurePlatformLKM, sourcePortRange: \"*\", "
				  "destinationAddressPrefix: \"*\", destinationPortRange: \"1688\"}\n"
				  "  - {name: sub-nsg}\n");
	first = th_run(&st, "%s nsg show %s nic-nsg -o json", th_vnetlab(), file);
	cr_assert_eq(st, 0, "%s", first);
	cr_expect(strstr(first, "\"AzurePlatformDNS\""), "%s", first);
	cr_expect(strstr(first, "\"azureplatformimds\""), "%s", first);
	cr_expect(strstr(first, "\"AzurePlatformLKM\""), "%s", first);
	again = th_run(&st,
		       "d=$(mktemp -d /tmp/vnetlab-pf-XXXXXX); %s nsg show %s nic-nsg -o json > $d/rules.json; "
		       "printf 'name: pfu\\nvnets: [{name: v, addressSpace: [10.9.0.0/16], subnets: [{name: s, "
		       "addressPrefix: 10.9.1.0/24, networkSecurityGroup: nic-nsg}]}]\\n"
		       "networkSecurityGroups: [{name: nic-nsg, import: rules.json}]\\n' > $d/t.yaml; "
		       "%s nsg show $d/t.yaml nic-nsg -o json 2>&1; rc=$?; rm -rf $d; exit $rc",
		       th_vnetlab(), file, th_vnetlab());
	cr_assert_eq(st, 0, "%s", again);
	cr_expect_str_eq(again, first, "az-shaped platform rules round-trip through import");
	unlink(file);
	free(file);
	free(first);
	free(again);
}

/* ---- the kernel side, without a kernel: the fabric's batch, one line per message ---- */

static void expr_names(struct nftnl_rule *r, char *out, size_t len)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;

	while ((e = nftnl_expr_iter_next(it))) {
		strncat(out, ",", len - strlen(out) - 1);
		strncat(out, nftnl_expr_get_str(e, NFTNL_EXPR_NAME), len - strlen(out) - 1);
		if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "immediate") &&
		    nftnl_expr_is_set(e, NFTNL_EXPR_IMM_VERDICT)) {
			char v[16];

			snprintf(v, sizeof(v), "=%d", (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT));
			strncat(out, v, len - strlen(out) - 1);
		}
		if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "log")) {
			strncat(out, "=", len - strlen(out) - 1);
			strncat(out, nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX), len - strlen(out) - 1);
		}
	}
	nftnl_expr_iter_destroy(it);
}

/* "newchain plat-nic-nsg\nnewrule plat-nic-nsg,meta,...\nnewsetelem platform_nic n1:plat-nic-nsg\n..." */
static char *batch_lines(const struct vl_lab *lab, int nsg)
{
	char why[256] = "", *out = calloc(1, 1 << 16);
	void *buf = NULL;
	size_t len = 0, cap = 1 << 16;
	const struct nlmsghdr *nlh;
	int left;

	cr_assert(out);
	cr_assert_eq(vl_nft_nsg_batch(lab, 0, nsg, &buf, &len, why, sizeof(why)), 0, "%s", why);
	nlh = buf;
	left = (int)len;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		char line[2048] = "";

		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END)
			continue;
		switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
		case NFT_MSG_NEWCHAIN:
		case NFT_MSG_DELCHAIN: {
			struct nftnl_chain *c = nftnl_chain_alloc();

			cr_assert_eq(nftnl_chain_nlmsg_parse(nlh, c), 0);
			snprintf(line, sizeof(line), "%s %s",
				 NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWCHAIN ? "newchain" : "delchain",
				 nftnl_chain_get_str(c, NFTNL_CHAIN_NAME));
			nftnl_chain_free(c);
			break;
		}
		case NFT_MSG_NEWRULE:
		case NFT_MSG_DELRULE: {
			struct nftnl_rule *r = nftnl_rule_alloc();

			cr_assert_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
			snprintf(line, sizeof(line), "%s %s",
				 NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWRULE ? "newrule" : "delrule",
				 nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
			expr_names(r, line, sizeof(line));
			nftnl_rule_free(r);
			break;
		}
		case NFT_MSG_NEWSETELEM:
		case NFT_MSG_DELSETELEM: {
			struct nftnl_set *s = nftnl_set_alloc();
			struct nftnl_set_elems_iter *it;
			struct nftnl_set_elem *e;

			if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) { /* not every kind of element parses */
				nftnl_set_free(s);
				continue;
			}
			snprintf(line, sizeof(line), "%s %s",
				 NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWSETELEM ? "newsetelem" : "flushset",
				 nftnl_set_get_str(s, NFTNL_SET_NAME));
			it = nftnl_set_elems_iter_create(s);
			while ((e = nftnl_set_elems_iter_next(it)))
				if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)) {
					uint32_t kl;
					const char *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &kl);

					strncat(line, " ", sizeof(line) - strlen(line) - 1);
					strncat(line, k, sizeof(line) - strlen(line) - 1);
					strncat(line, ":", sizeof(line) - strlen(line) - 1);
					strncat(line, nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN),
						sizeof(line) - strlen(line) - 1);
				}
			nftnl_set_elems_iter_destroy(it);
			nftnl_set_free(s);
			break;
		}
		default:
			continue;
		}
		cr_assert_lt(strlen(out) + strlen(line) + 2, cap);
		strcat(out, line);
		strcat(out, "\n");
	}
	free(buf);
	return out;
}

static int lines_with(const char *text, const char *what)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

Test(platform, fabric_gets_platform_chains_only_for_nsgs_with_platform_rules)
{
	struct vl_lab *lab = lab_with(RULE("allow-dns", 100, "Allow", "AzurePlatformDNS", "*")
					  RULE("deny-dns", 200, "Deny", "AzurePlatformDNS", "*")
					  RULE("deny-all", 300, "Deny", "\"*\"", "*"),
				      "");
	char *b = batch_lines(lab, VL_NONE);

	cr_expect(strstr(b, "newchain plat-nic-nsg\n"), "%s", b);
	cr_expect_not(strstr(b, "plat-sub-nsg"), "sub-nsg has no platform rule: no chain\n%s", b);
	cr_expect(strstr(b, "newchain platform\n"), "%s", b);
	/* only the two platform rules, in priority order; the Deny * is not one */
	cr_expect_eq(lines_with(b, "newrule plat-nic-nsg"), 2, "%s", b);
	/* DNS: l4proto tcp/udp, daddr 168.63.129.16, dport 53; Allow returns, Deny logs and drops */
	cr_expect(strstr(b, "newrule plat-nic-nsg,meta,lookup,payload,cmp,payload,cmp,immediate=-5\n"),
		  "%s", b);
	/* Deny: the rule's id into the mark, then goto nsg_deny (rate-limited log, drop) */
	cr_expect(strstr(b, "newrule plat-nic-nsg,meta,lookup,payload,cmp,payload,cmp,immediate,meta,"
			    "immediate=-4\n"),
		  "%s", b);
	cr_expect_lt(strstr(b, "newrule plat-nic-nsg,meta,lookup,payload,cmp,payload,cmp,immediate=-5"),
		     strstr(b, "plat-nic-nsg,meta,lookup,payload,cmp,payload,cmp,immediate,meta,immediate=-4"),
		     "by priority\n%s", b);
	/* vm1's NIC jumps there; the subnet map is empty */
	cr_expect(strstr(b, ":plat-nic-nsg"), "%s", b);
	cr_expect(strstr(b, "newrule platform,payload,lookup,meta,lookup\n"), "%s", b);
	free(b);
	vl_lab_free(lab);
}

Test(platform, fabric_without_platform_rules_has_only_the_base_chain)
{
	struct vl_lab *lab = lab_with(RULE("deny-all", 300, "Deny", "\"*\"", "*"), "");
	char *b = batch_lines(lab, VL_NONE), *e;

	cr_expect_not(strstr(b, "plat-"), "%s", b);
	cr_expect_eq(lines_with(b, "newrule platform"), 3, "%s", b);
	/* an edit of an NSG that never had platform rules leaves the platform part alone */
	e = batch_lines(lab, vl_lab_find_nsg(lab, "nic-nsg"));
	cr_expect_not(strstr(e, "platform"), "%s", e);
	free(e);
	free(b);
	vl_lab_free(lab);
}

Test(platform, live_edit_refills_the_platform_chain_and_maps)
{
	struct vl_lab *lab = lab_with(RULE("deny-dns", 200, "Deny", "AzurePlatformDNS", "*"), "");
	char *e = batch_lines(lab, vl_lab_find_nsg(lab, "nic-nsg"));
	const char *flush = strstr(e, "flushset platform_nic\n"), *fill = strstr(e, "newsetelem platform_nic");

	cr_expect(flush && fill && flush < fill, "maps emptied, then refilled:\n%s", e);
	cr_expect(strstr(e, "flushset platform_subnet\n"), "%s", e);
	cr_expect(strstr(e, "newchain plat-nic-nsg\ndelrule plat-nic-nsg\nnewrule plat-nic-nsg"), "%s", e);
	cr_expect_not(strstr(e, "delchain"), "%s", e);
	cr_expect_not(strstr(e, "newchain platform\n"), "the base chain stays: %s", e);
	free(e);
	vl_lab_free(lab);
}
