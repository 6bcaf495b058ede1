// SPDX-License-Identifier: MIT
/*
 * Application security groups and service tags (spec sections 1.1 and 18): a realistic export
 * loads, its flows get the verdicts Azure gives, the nftables compiler uses the same sets, and
 * every new validation is refused at its line and column. Run from the repository root.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/nft.h"

#define DATA "tests/data/"

static struct vl_lab *load_ok(const char *path)
{
	struct vl_lab *lab = NULL;
	struct vl_error err = {0};

	cr_assert_eq(vl_load_file(path, &lab, &err), 0, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
	return lab;
}

static uint32_t IP(const char *s)
{
	uint32_t ip;

	cr_assert_eq(vl_ip_parse(s, &ip), 0);
	return ip;
}

TestSuite(asg);

Test(asg, export_loads_with_asgs_and_service_tags)
{
	struct vl_lab *lab = load_ok(DATA "good/asg.yaml");
	int db = vl_lab_find_asg(lab, "ASG-DB"), st = vl_lab_find_service_tag(lab, "storage.westeurope");
	const struct vl_nsg *g = &lab->nsgs[vl_lab_find_nsg(lab, "app-nsg")];
	const struct vl_rule *r = &g->rules[vl_nsg_find_rule(g, "allow-logic-to-db")];

	cr_assert_eq(lab->n_asgs, 3);
	cr_assert_neq(db, VL_NONE, "ASG names are case-insensitive");
	cr_expect_eq(lab->asgs[db].vnet, vl_lab_find_vnet(lab, "shop-vnet"));
	cr_expect_eq(lab->eff->n_asg_ips[db], 1);
	cr_expect_eq(lab->eff->asg_ips[db][0], IP("10.70.1.6"));
	cr_expect_eq(lab->vms[1].n_asgs, 1, "an {id: …/applicationSecurityGroups/asg-logic} reference");
	cr_expect_eq(lab->vms[1].asgs[0], vl_lab_find_asg(lab, "asg-logic"));
	/* four tags in the file; IPv6 prefixes skipped */
	cr_expect_eq(lab->n_service_tags, 4);
	cr_assert_neq(st, VL_NONE);
	cr_expect_eq(lab->service_tags[st].n_prefixes, 3);
	cr_expect(vl_eff_in_service_tag(lab->eff, st, IP("192.0.2.10")));
	cr_expect_not(vl_eff_in_service_tag(lab->eff, st, IP("192.0.2.200")));
	/* the NSG list gave both NSGs, each by its name */
	cr_expect_eq(g->n_rules, 6);
	cr_expect_eq(lab->nsgs[vl_lab_find_nsg(lab, "mgmt-nsg")].n_rules, 1);
	cr_assert_eq(r->n_src, 1);
	cr_expect_eq(r->src[0].kind, VL_ADDR_ASG);
	cr_expect_eq(r->src[0].ref, vl_lab_find_asg(lab, "asg-logic"));
	cr_expect_eq(r->dst[0].kind, VL_ADDR_ASG);
	r = &g->rules[vl_nsg_find_rule(g, "allow-logic-storage")];
	cr_expect_eq(r->dst[0].kind, VL_ADDR_TAG_SERVICE);
	cr_expect_eq(r->dst[0].ref, st);
	vl_lab_free(lab);
}

struct flow {
	const char *from, *to;
	int port;
	enum vl_access access;
	const char *nsg, *rule;
};

Test(asg, evaluator_verdicts)
{
	static const struct flow flows[] = {
	    {"logic1", "db1", 1433, VL_ALLOW, "app-nsg", "allow-logic-to-db"},
	    {"web1", "db1", 1433, VL_DENY, "app-nsg", "deny-db"},
	    {"jump", "db1", 1433, VL_DENY, "app-nsg", "deny-db"},
	    {"web1", "logic1", 8080, VL_ALLOW, "app-nsg", "allow-web-to-logic"},
	    {"db1", "logic1", 8080, VL_ALLOW, "app-nsg", "AllowVnetInBound"},
	    {"logic1", "blob", 443, VL_ALLOW, "app-nsg", "allow-logic-storage"},
	    {"web1", "blob", 443, VL_DENY, "app-nsg", "deny-internet-out"},
	    {"partner", "web1", 80, VL_DENY, "partner-nsg", "deny-vnet-out"},
	};
	struct vl_lab *lab = load_ok(DATA "good/asg.yaml");

	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		const struct flow *f = &flows[i];
		int from = vl_lab_find_endpoint(lab, f->from), to = vl_lab_find_endpoint(lab, f->to);
		struct vl_verdict v;

		cr_assert_eq(vl_eval_path(lab, from, lab->eps[to].ip, VL_PROTO_TCP, 0, (uint16_t)f->port, &v),
			     0);
		cr_expect_eq(v.access, f->access, "%s -> %s:%d", f->from, f->to, f->port);
		cr_expect_str_eq(v.nsg >= 0 ? lab->nsgs[v.nsg].name : "", f->nsg, "%s -> %s", f->from, f->to);
		cr_expect_str_eq(v.rule ? v.rule->name : "", f->rule, "%s -> %s", f->from, f->to);
	}
	vl_lab_free(lab);
}

static char *fabric_text(const struct vl_lab *lab, int vnet)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	vl_nft_fabric_print(lab, vnet, f);
	fclose(f);
	return buf;
}

/* The line of the chain `chain` holding the rule commented `rule`, in a printed ruleset. */
static char *rule_line(const char *text, const char *chain, const char *rule)
{
	char head[128], tail[128];
	const char *c, *r, *b;

	snprintf(head, sizeof(head), "chain %s {", chain);
	snprintf(tail, sizeof(tail), "comment \"%s\"", rule);
	c = strstr(text, head);
	cr_assert_not_null(c, "no %s", head);
	r = strstr(c, tail);
	cr_assert_not_null(r, "no rule %s in %s", rule, chain);
	for (b = r; b > c && b[-1] != '\n'; b--)
		;
	return strndup(b, (size_t)(r - b));
}

Test(asg, nft_compiles_the_same_sets)
{
	struct vl_lab *lab = load_ok(DATA "good/asg.yaml");
	char *shop = fabric_text(lab, 0), *partner = fabric_text(lab, 1), *l;

	l = rule_line(shop, "in-app-nsg", "allow-logic-to-db");
	cr_expect(strstr(l, "ip saddr 10.70.1.5 ip daddr 10.70.1.6"), "%s", l);
	free(l);
	cr_expect(strstr(shop, "20.38.108.0/23, 20.60.0.0/21, 192.0.2.0/25"),
		  "Storage.WestEurope's prefixes");
	/* in the peered VNet's fabric shop-vnet's ASGs match nothing */
	l = rule_line(partner, "out-partner-nsg", "allow-shop-web");
	cr_expect_null(strstr(l, "10.70.1.4"), "%s", l);
	free(l);
	free(shop);
	free(partner);
	vl_lab_free(lab);
}

Test(asg, standalone_import)
{
	struct vl_nsg g;
	struct vl_error err = {0};

	/* outside a topology no ASG is declared */
	cr_expect_eq(vl_nsg_import_file(DATA "azure/az-nsg-asg.json", NULL, &g, &err), -EINVAL);
	cr_expect(strstr(err.msg, "no application security group named \"asg-web\""), "%s", err.msg);
	/* an `az network nsg list` array: the NSG named by the hint, or an error naming the count */
	memset(&err, 0, sizeof(err));
	cr_assert_eq(vl_nsg_import_file(DATA "azure/az-nsg-list.json", "mgmt-nsg", &g, &err), 0, "%s",
		     err.msg);
	cr_expect_str_eq(g.name, "mgmt-nsg");
	cr_expect_eq(g.n_rules, 1);
	for (size_t i = 0; i < g.n_rules; i++)
		vl_rule_clear(&g.rules[i]);
	free(g.rules);
	free(g.name);
	cr_expect_eq(vl_nsg_import_file(DATA "azure/az-nsg-list.json", "web-nsg", &g, &err), -EINVAL);
	cr_expect(strstr(err.msg, "holds 2 network security groups and none is named 'web-nsg'"), "%s",
		  err.msg);
	cr_expect_eq(err.line, 1);
}

/* ---- located errors ---- */

/* 10 lines: VNets v (10.1.0.0/16, subnet s) and w (10.2.0.0/16, subnet t). */
#define HDR                                                                                                  \
	"name: t\n"                                                                                          \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: s, addressPrefix: 10.1.1.0/24}\n"                                                    \
	"  - name: w\n"                                                                                      \
	"    addressSpace: [10.2.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: t, addressPrefix: 10.2.1.0/24}\n"
/* 2 lines (11-12): ASGs a and b */
#define ASGS "applicationSecurityGroups:\n  - {name: a}\n  - {name: b}\n"
/* a rule in NSG n (line 14, after ASGS at 11-13: "networkSecurityGroups:" on 14, the rule on 16) */
#define NSG(fields)                                                                                          \
	"networkSecurityGroups:\n  - name: n\n    securityRules:\n      - {name: r, priority: 100, "         \
	"direction: Inbound, access: Allow, protocol: Tcp, sourcePortRange: '*', "                           \
	"destinationPortRange: '80', " fields "}\n"
#define ANY_SRC "sourceAddressPrefix: '*'"
#define ANY_DST "destinationAddressPrefix: '*'"

struct bad {
	const char *id;
	const char *text;
	int line, col;
	const char *msg; /* NULL: must load */
};

static const struct bad bad_cases[] = {
    {"asg-rule-loads", HDR ASGS NSG("sourceApplicationSecurityGroups: [a], " ANY_DST), 0, 0, NULL},
    {"asg-unknown", HDR ASGS NSG("sourceApplicationSecurityGroups: [zz], " ANY_DST), 17, 9,
     "no application security group named \"zz\""},
    {"asg-mixed",
     HDR ASGS NSG(ANY_SRC ", destinationApplicationSecurityGroups: [a], destinationAddressPrefixes: "
			  "[10.1.1.0/24]"),
     17, 9, "destinationApplicationSecurityGroups and destinationAddressPrefixes are both set"},
    {"asg-eleven",
     HDR "applicationSecurityGroups: [{name: a1}, {name: a2}, {name: a3}, {name: a4}, {name: "
	 "a5}, {name: a6}, "
	 "{name: a7}, {name: a8}, {name: a9}, {name: a10}, {name: a11}]\n" NSG(
	     ANY_SRC ", destinationApplicationSecurityGroups: [a1, a2, a3, a4, a5, a6, a7, a8, "
		     "a9, a10, a11]"),
     15, 9, "11 application security groups; Azure allows at most 10 per side"},
    {"asg-bad-id",
     HDR ASGS NSG("sourceApplicationSecurityGroups: [{id: "
		  "/subscriptions/x/providers/Microsoft.Network/networkSecurityGroups/a}], " ANY_DST),
     17, 173, "is not an application security group id"},
    {"asg-duplicate", HDR "applicationSecurityGroups:\n  - {name: a}\n  - {name: A}\n", 13, 12,
     "duplicate application security group name 'A'"},
    {"asg-bad-key", HDR "applicationSecurityGroups:\n  - {name: a, vnet: v}\n", 12, 15,
     "unknown key 'vnet' in application security group"},
    {"vm-asg-unknown", HDR ASGS "vms:\n  - {name: x, subnet: s, applicationSecurityGroups: [c]}\n", 15, 54,
     "vm x: unknown application security group 'c'"},
    {"vm-asg-twice",
     HDR ASGS "vms:\n  - {name: x, subnet: s, applicationSecurityGroups: [a, {id: "
	      "/s/applicationSecurityGroups/a}]}\n",
     15, 62, "application security group 'a' is listed twice"},
    {"asg-two-vnets",
     HDR ASGS "vms:\n  - {name: x, subnet: s, applicationSecurityGroups: [a]}\n"
	      "  - {name: y, subnet: t, applicationSecurityGroups: [a]}\n",
     16, 5,
     "application security group a already has members in VNet v; all members of an ASG are in "
     "one VNet"},
    {"asg-rule-two-vnets",
     HDR ASGS NSG("sourceApplicationSecurityGroups: [a], destinationApplicationSecurityGroups: "
		  "[b]") "vms:\n  - {name: x, subnet: s, applicationSecurityGroups: [a]}\n"
			 "  - {name: y, subnet: t, applicationSecurityGroups: [b]}\n",
     17, 9, "a rule's source and destination ASGs must be in one VNet"},
    {"tag-unknown", HDR NSG(ANY_SRC ", destinationAddressPrefix: Storage.WestEurope"), 14, 9,
     "unknown service tag \"Storage.WestEurope\""},
    {"tag-inline-loads",
     HDR "serviceTags:\n  - {name: Storage.WestEurope, addressPrefixes: [20.38.108.0/23, "
	 "'2603:1020::/46']}\n" NSG(ANY_SRC ", destinationAddressPrefix: storage.westeurope"),
     0, 0, NULL},
    {"tag-in-plural",
     HDR "serviceTags:\n  - {name: Sql, addressPrefixes: [20.38.108.0/23]}\n" NSG(
	 ANY_SRC ", destinationAddressPrefixes: [Sql, 10.1.1.0/24]"),
     16, 9, "SecurityRuleParameterContainsUnsupportedValue"},
    {"tag-builtin", HDR "serviceTags:\n  - {name: Internet, addressPrefixes: [20.0.0.0/8]}\n", 12, 12,
     "Internet is a built-in service tag"},
    {"tag-duplicate",
     HDR "serviceTags:\n  - {name: Sql, addressPrefixes: [20.0.0.0/8]}\n  - {name: SQL, "
	 "addressPrefixes: []}\n",
     13, 12, "duplicate service tag 'SQL'"},
    {"tag-bad-prefix", HDR "serviceTags:\n  - {name: Sql, addressPrefixes: [20.38.108.1/23]}\n", 12, 35,
     "service tag Sql: '20.38.108.1/23' is not an IPv4 CIDR without host bits"},
    {"tag-no-prefixes", HDR "serviceTags:\n  - {name: Sql}\n", 12, 5,
     "missing 'addressPrefixes' in service tag"},
    {"tag-file-missing", HDR "serviceTags: nope.json\n", 11, 14, "cannot read service tags file"},
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

ParameterizedTestParameters(asg, bad)
{
	size_t *idx = cr_malloc(N_BAD * sizeof(*idx));

	for (size_t i = 0; i < N_BAD; i++)
		idx[i] = i;
	return cr_make_param_array(size_t, idx, N_BAD);
}

ParameterizedTest(size_t *i, asg, bad)
{
	const struct bad *c = &bad_cases[*i];
	struct vl_lab *lab = NULL;
	struct vl_error err = {0};
	int r = vl_load_buffer(DATA "bad/inline.yaml", c->text, strlen(c->text), &lab, &err);

	if (!c->msg) {
		cr_assert_eq(r, 0, "%s: %d:%d: %s", c->id, err.line, err.col, err.msg);
		vl_lab_free(lab);
		return;
	}
	cr_assert_eq(r, -EINVAL, "%s: loaded (r=%d)", c->id, r);
	cr_expect_null(lab);
	cr_expect(strstr(err.msg, c->msg), "%s: message \"%s\" lacks \"%s\"", c->id, err.msg, c->msg);
	cr_expect(err.line == c->line && err.col == c->col, "%s: at %d:%d, want %d:%d (%s)", c->id, err.line,
		  err.col, c->line, c->col, err.msg);
}

/* A service tags file's own errors are located in that file. */
Test(asg, service_tags_file_error_in_the_file)
{
	struct vl_lab *lab = NULL;
	struct vl_error err = {0};
	const char *t = "name: t\nserviceTags: ../azure/az-nsg-show.json\n";

	cr_assert_eq(vl_load_buffer(DATA "good/inline.yaml", t, strlen(t), &lab, &err), -EINVAL);
	cr_expect_str_eq(err.file, DATA "good/../azure/az-nsg-show.json");
	cr_expect_eq(err.line, 1);
	cr_expect(strstr(err.msg, "no 'values' in the service tags file"), "%s", err.msg);
}

/* A live edit keeps a rule's ASGs; giving an ASG side prefixes too is refused and changes nothing. */
Test(asg, live_edit_keeps_asgs)
{
	struct vl_lab *lab = load_ok(DATA "good/asg.yaml");
	struct vl_rule_edit e = {.kind = VL_EDIT_SET};
	struct vl_error err = {0};
	int ni = vl_lab_find_nsg(lab, "app-nsg");
	const struct vl_rule *r;

	e.nsg = strdup("app-nsg");
	e.rule = strdup("allow-logic-to-db");
	vl_strv_push(&e.keys, "priority");
	vl_strv_push(&e.values, "115");
	cr_assert_eq(vl_lab_apply_edit(lab, &e, &err), 0, "%s", err.msg);
	r = &lab->nsgs[ni].rules[vl_nsg_find_rule(&lab->nsgs[ni], "allow-logic-to-db")];
	cr_expect_eq(r->priority, 115);
	cr_expect_eq(r->src_asgs.n, 1);
	cr_expect_eq(r->src[0].kind, VL_ADDR_ASG);
	vl_strv_free(&e.keys);
	vl_strv_free(&e.values);
	vl_strv_push(&e.keys, "sourceAddressPrefix");
	vl_strv_push(&e.values, "10.70.1.0/24");
	cr_expect_eq(vl_lab_apply_edit(lab, &e, &err), -EINVAL);
	cr_expect(strstr(err.msg, "sourceApplicationSecurityGroups and sourceAddressPrefix are both set"),
		  "%s", err.msg);
	r = &lab->nsgs[ni].rules[vl_nsg_find_rule(&lab->nsgs[ni], "allow-logic-to-db")];
	cr_expect_null(r->src_prefix);
	vl_rule_edit_clear(&e);
	vl_lab_free(lab);
}
