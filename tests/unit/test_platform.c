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

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/model.h"

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
		       "printf 'name: imp\\nvnets: [{name: v, addressSpace: [10.9.0.0/16], subnets: [{name: s, "
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
