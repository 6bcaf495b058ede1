// SPDX-License-Identifier: MIT
/* NSG rules: parsing, Azure's validation, the default rules and live edits (spec §1–2). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/ip.h"
#include "vnetlab/model.h"

/* A field with a space is a plural list, otherwise the singular. */
static void field(char **sing, struct vl_strv *plur, const char *v)
{
	char *tmp, *save = NULL;

	if (!v)
		return;
	if (!strchr(v, ' ')) {
		*sing = strdup(v);
		return;
	}
	tmp = strdup(v);
	for (char *t = strtok_r(tmp, " ", &save); t; t = strtok_r(NULL, " ", &save))
		vl_strv_push(plur, t);
	free(tmp);
}

static struct vl_rule *rule_add(struct vl_nsg *g, const char *name, int pri, enum vl_dir dir, const char *src,
				const char *dst, const char *dport)
{
	struct vl_rule *r;

	g->rules = realloc(g->rules, (g->n_rules + 1) * sizeof(*g->rules));
	cr_assert(g->rules);
	r = &g->rules[g->n_rules++];
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	r->priority = pri;
	r->dir = dir;
	r->access = VL_ALLOW;
	r->proto = VL_PROTO_TCP;
	r->loc = (struct vl_loc){(int)g->n_rules * 10, 7};
	field(&r->src_prefix, &r->src_prefixes, src);
	field(&r->dst_prefix, &r->dst_prefixes, dst);
	field(&r->src_port, &r->src_ports, "*");
	field(&r->dst_port, &r->dst_ports, dport);
	return r;
}

static struct vl_lab *lab;
static struct vl_nsg *nsg;
static struct vl_error err;

static void setup(void)
{
	lab = vl_lab_new();
	lab->name = strdup("nsgtest");
	lab->file = strdup("nsg.yaml");
	lab->nsgs = calloc(1, sizeof(*lab->nsgs));
	lab->n_nsgs = 1;
	nsg = &lab->nsgs[0];
	nsg->name = strdup("web-nsg");
	rule_add(nsg, "allow-web", 200, VL_DIR_IN, "Internet", "*", "80");
	rule_add(nsg, "allow-ssh", 300, VL_DIR_IN, "10.0.0.0/8 192.168.1.0/24", "*", "22");
	memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
	vl_lab_free(lab);
	lab = NULL;
}

TestSuite(nsg, .init = setup, .fini = teardown);

/* ---- default rules ---- */

Test(nsg, default_rules_exact)
{
	static const struct {
		const char *name, *desc, *src, *dst;
		int pri;
		enum vl_dir dir;
		enum vl_access access;
		enum vl_addr_kind sk, dk;
	} want[] = {
	    {"AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "VirtualNetwork",
	     "VirtualNetwork", 65000, VL_DIR_IN, VL_ALLOW, VL_ADDR_TAG_VNET, VL_ADDR_TAG_VNET},
	    {"AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer",
	     "AzureLoadBalancer", "*", 65001, VL_DIR_IN, VL_ALLOW, VL_ADDR_TAG_LB, VL_ADDR_ANY},
	    {"DenyAllInBound", "Deny all inbound traffic", "*", "*", 65500, VL_DIR_IN, VL_DENY, VL_ADDR_ANY,
	     VL_ADDR_ANY},
	    {"AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", "VirtualNetwork",
	     "VirtualNetwork", 65000, VL_DIR_OUT, VL_ALLOW, VL_ADDR_TAG_VNET, VL_ADDR_TAG_VNET},
	    {"AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "*", "Internet",
	     65001, VL_DIR_OUT, VL_ALLOW, VL_ADDR_ANY, VL_ADDR_TAG_INTERNET},
	    {"DenyAllOutBound", "Deny all outbound traffic", "*", "*", 65500, VL_DIR_OUT, VL_DENY,
	     VL_ADDR_ANY, VL_ADDR_ANY},
	};
	size_t n;
	const struct vl_rule *d = vl_default_rules(&n);

	cr_assert_eq(n, 6);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(d[i].name, want[i].name);
		cr_assert_str_eq(d[i].description, want[i].desc);
		cr_assert_str_eq(d[i].src_prefix, want[i].src);
		cr_assert_str_eq(d[i].dst_prefix, want[i].dst);
		cr_assert_str_eq(d[i].src_port, "*");
		cr_assert_str_eq(d[i].dst_port, "*");
		cr_assert_eq(d[i].priority, want[i].pri, "%s", d[i].name);
		cr_assert_eq(d[i].dir, want[i].dir);
		cr_assert_eq(d[i].access, want[i].access);
		cr_assert_eq(d[i].proto, VL_PROTO_ANY);
		cr_assert(d[i].is_default);
		cr_assert_eq(d[i].n_src, 1);
		cr_assert_eq(d[i].n_dst, 1);
		cr_assert_eq(d[i].src[0].kind, want[i].sk, "%s", d[i].name);
		cr_assert_eq(d[i].dst[0].kind, want[i].dk, "%s", d[i].name);
		cr_assert_eq(d[i].n_sport, 1);
		cr_assert_eq(d[i].sport[0].lo, 0);
		cr_assert_eq(d[i].sport[0].hi, 65535);
		cr_assert_eq(d[i].n_dport, 1);
		cr_assert_eq(d[i].dport[0].hi, 65535);
		cr_assert_eq(d[i].src_prefixes.n, 0);
	}
}

/* ---- parsing ---- */

Test(nsg, parse_fills_match_sets)
{
	struct vl_rule *r;

	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s", err.msg);
	r = &nsg->rules[1];
	cr_assert_eq(r->n_src, 2);
	cr_assert_eq(r->src[0].kind, VL_ADDR_PREFIX);
	cr_assert_eq(r->src[0].prefix.len, 8);
	cr_assert_eq(r->src[1].prefix.len, 24);
	cr_assert_eq(r->n_dst, 1);
	cr_assert_eq(r->dst[0].kind, VL_ADDR_ANY);
	cr_assert_eq(r->n_dport, 1);
	cr_assert_eq(r->dport[0].lo, 22);
	cr_assert_eq(r->dport[0].hi, 22);
	cr_assert_eq(nsg->rules[0].src[0].kind, VL_ADDR_TAG_INTERNET);
	/* validating twice replaces the sets without leaking */
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s", err.msg);
}

Test(nsg, parse_values)
{
	struct vl_rule r = {0};
	char why[256];

	r.proto = VL_PROTO_UDP;
	r.src_prefix = strdup("0.0.0.0/0");
	r.dst_prefix = strdup("10.1.2.3");
	r.src_port = strdup("1024-65535");
	vl_strv_push(&r.dst_ports, "53");
	vl_strv_push(&r.dst_ports, "5000-5010");
	vl_strv_push(&r.dst_ports, "0");
	cr_assert_eq(vl_rule_parse(&r, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(r.src[0].kind, VL_ADDR_ANY);
	cr_assert_eq(r.dst[0].kind, VL_ADDR_PREFIX);
	cr_assert_eq(r.dst[0].prefix.len, 32);
	cr_assert_eq(r.sport[0].lo, 1024);
	cr_assert_eq(r.sport[0].hi, 65535);
	cr_assert_eq(r.n_dport, 3);
	cr_assert_eq(r.dport[1].lo, 5000);
	cr_assert_eq(r.dport[1].hi, 5010);
	cr_assert_eq(r.dport[2].hi, 0);
	free(r.dst_prefix);
	r.dst_prefix = strdup("azureloadbalancer");
	cr_assert_eq(vl_rule_parse(&r, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(r.dst[0].kind, VL_ADDR_TAG_LB);
	vl_rule_clear(&r);
}

/* ---- validation failures, one row each ---- */

enum mutation {
	M_PRIORITY,
	M_SRC,
	M_DST,
	M_DPORT,
	M_SPORT,
	M_NAME,
	M_BOTH_SRC,
	M_NO_SRC,
	M_NO_DPORT,
	M_PROTO,
};

/* Criterion runs each parameter in a fresh process: rows hold arrays, not pointers. */
struct bad_row {
	char what[64];
	enum mutation m;
	char value[100];
	char msg[80]; /* substring of the message */
};

static struct bad_row bad_rows[] = {
    {"priority below 100", M_PRIORITY, "99", "priority 99 is out of range (100-4096)"},
    {"priority above 4096", M_PRIORITY, "4097", "priority 4097 is out of range"},
    {"missing priority", M_PRIORITY, "0", "missing priority"},
    {"tag in a plural list", M_SRC, "10.0.0.0/8 VirtualNetwork",
     "SecurityRuleParameterContainsUnsupportedValue"},
    {"* in a plural list", M_DST, "10.0.0.0/8 *", "SecurityRuleParameterContainsUnsupportedValue"},
    {"* in a plural port list", M_DPORT, "80 *", "SecurityRuleParameterContainsUnsupportedValue"},
    {"unknown service tag", M_SRC, "Storage", "unknown service tag \"Storage\""},
    {"host bits set", M_DST, "10.1.1.5/24", "host bits set (did you mean 10.1.1.0/24?)"},
    {"not an address", M_DST, "10.1.1", "not an IPv4 address or CIDR"},
    {"port above 65535", M_DPORT, "65536", "\"65536\" is not a port"},
    {"port range backwards", M_DPORT, "90-80", "runs backwards"},
    {"port range half open", M_DPORT, "80-", "is not a port"},
    {"port not a number", M_SPORT, "http", "sourcePortRange: \"http\" is not a port"},
    {"port with sign", M_DPORT, "-5", "is not a port"},
    {"name starting with -", M_NAME, "-bad", "invalid rule name \"-bad\""},
    {"name ending with .", M_NAME, "bad.", "invalid rule name"},
    {"name with a space", M_NAME, "a b", "invalid rule name"},
    {"name of 81 characters", M_NAME,
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
     "invalid rule name"},
    {"empty name", M_NAME, "", "invalid rule name \"\""},
    {"duplicate name, other case", M_NAME, "ALLOW-WEB", "duplicate rule name \"ALLOW-WEB\""},
    {"singular and plural together", M_BOTH_SRC, "", "both sourceAddressPrefix and sourceAddressPrefixes"},
    {"no source prefix", M_NO_SRC, "", "no sourceAddressPrefix (or sourceAddressPrefixes) given"},
    {"no destination port", M_NO_DPORT, "", "no destinationPortRange (or destinationPortRanges) given"},
    {"bad protocol value", M_PROTO, "", "protocol must be one of"},
};

ParameterizedTestParameters(nsg, invalid)
{
	return cr_make_param_array(struct bad_row, bad_rows, sizeof(bad_rows) / sizeof(bad_rows[0]));
}

ParameterizedTest(struct bad_row *row, nsg, invalid)
{
	struct vl_rule *r = &nsg->rules[1];

	switch (row->m) {
	case M_PRIORITY:
		r->priority = atoi(row->value);
		break;
	case M_SRC:
		free(r->src_prefix);
		r->src_prefix = NULL;
		vl_strv_free(&r->src_prefixes);
		field(&r->src_prefix, &r->src_prefixes, row->value);
		break;
	case M_DST:
		free(r->dst_prefix);
		r->dst_prefix = NULL;
		field(&r->dst_prefix, &r->dst_prefixes, row->value);
		break;
	case M_DPORT:
		free(r->dst_port);
		r->dst_port = NULL;
		field(&r->dst_port, &r->dst_ports, row->value);
		break;
	case M_SPORT:
		free(r->src_port);
		r->src_port = NULL;
		field(&r->src_port, &r->src_ports, row->value);
		break;
	case M_NAME:
		free(r->name);
		r->name = strdup(row->value);
		break;
	case M_BOTH_SRC:
		r->src_prefix = strdup("10.9.0.0/16");
		break;
	case M_NO_SRC:
		vl_strv_free(&r->src_prefixes);
		break;
	case M_NO_DPORT:
		free(r->dst_port);
		r->dst_port = NULL;
		break;
	case M_PROTO:
		r->proto = (enum vl_proto)42;
		break;
	}
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), -EINVAL, "%s: accepted", row->what);
	cr_assert(strstr(err.msg, row->msg), "%s: message \"%s\" lacks \"%s\"", row->what, err.msg, row->msg);
	cr_assert(strstr(err.msg, "web-nsg"), "%s: message does not name the NSG: %s", row->what, err.msg);
	cr_assert_str_eq(err.file, "nsg.yaml");
	cr_assert_eq(err.line, 20, "%s: located at line %d", row->what, err.line);
	cr_assert_eq(err.col, 7);
}

Test(nsg, good_names)
{
	static const char *const names[] = {"a",     "_",      "a_",
					    "x.y-z", "Rule_1", "k8s-azure-lb_allow_IPv4_d39272f7"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		free(nsg->rules[1].name);
		nsg->rules[1].name = strdup(names[i]);
		cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s: %s", names[i], err.msg);
	}
}

/* One pass with an index of the good rules so far: a duplicate or a conflict is found however far
 * apart, and names that share a hash slot are told apart. */
Test(nsg, duplicates_and_conflicts_among_a_thousand_rules)
{
	char name[32];

	for (int i = 0; i < 997; i++) { /* with the two of setup, 1,000 with the one added below */
		snprintf(name, sizeof(name), "r%d", i);
		rule_add(nsg, name, 1000 + i / 2, i % 2 ? VL_DIR_OUT : VL_DIR_IN, "*", "*", "80");
	}
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s", err.msg);
	rule_add(nsg, "R17", 4000, VL_DIR_IN, "*", "*", "80");
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), -EINVAL);
	cr_assert(strstr(err.msg, "duplicate rule name \"R17\" (same as \"r17\""), "%s", err.msg);
	free(nsg->rules[nsg->n_rules - 1].name);
	nsg->rules[nsg->n_rules - 1].name = strdup("last");
	nsg->rules[nsg->n_rules - 1].priority = 1497;
	nsg->rules[nsg->n_rules - 1].dir = VL_DIR_OUT;
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), -EINVAL);
	cr_assert(strstr(err.msg, "SecurityRuleConflict: rules \"r995\" and \"last\" have the same priority 1497 "
				  "and direction Outbound"),
		  "%s", err.msg);
	nsg->rules[nsg->n_rules - 1].priority = 4001;
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s", err.msg);
}

Test(nsg, priority_conflict)
{
	nsg->rules[1].priority = 200;
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), -EINVAL);
	cr_assert(strstr(err.msg, "SecurityRuleConflict"), "%s", err.msg);
	cr_assert(strstr(err.msg, "allow-web") && strstr(err.msg, "allow-ssh"), "%s", err.msg);
	cr_assert_eq(err.line, 20);
}

Test(nsg, same_priority_other_direction_is_fine)
{
	rule_add(nsg, "out-200", 200, VL_DIR_OUT, "*", "*", "*");
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s", err.msg);
}

Test(nsg, priority_bounds_accepted)
{
	nsg->rules[0].priority = 100;
	nsg->rules[1].priority = 4096;
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s", err.msg);
}

Test(nsg, thousand_rules)
{
	char name[32];

	for (int i = 0; i < 998; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		rule_add(nsg, name, 1000 + i, VL_DIR_OUT, "*", "*", "*");
	}
	cr_assert_eq(nsg->n_rules, 1000);
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s", err.msg);
	rule_add(nsg, "one-too-many", 3000, VL_DIR_IN, "*", "*", "*");
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), -EINVAL);
	cr_assert(strstr(err.msg, "at most 1000"), "%s", err.msg);
	cr_assert_eq(err.line, 10010);
}

/* ---- live edits ---- */

static struct vl_rule_edit edit;

static void edit_init(enum vl_edit_kind kind, const char *rule, ...)
{
	va_list ap;
	const char *k;

	memset(&edit, 0, sizeof(edit));
	edit.kind = kind;
	edit.nsg = strdup("web-nsg");
	edit.rule = strdup(rule);
	va_start(ap, rule);
	while ((k = va_arg(ap, const char *))) {
		vl_strv_push(&edit.keys, k);
		vl_strv_push(&edit.values, va_arg(ap, const char *));
	}
	va_end(ap);
}

static int apply(void)
{
	int rc = vl_lab_apply_edit(lab, &edit, &err);

	free(edit.nsg);
	free(edit.rule);
	vl_strv_free(&edit.keys);
	vl_strv_free(&edit.values);
	return rc;
}

static void validated_setup(void)
{
	setup();
	cr_assert_eq(vl_nsg_validate(nsg, lab->file, &err), 0, "%s", err.msg);
}

TestSuite(edit, .init = validated_setup, .fini = teardown);

Test(edit, set_priority)
{
	edit_init(VL_EDIT_SET, "allow-ssh", "priority", "150", NULL);
	cr_assert_eq(apply(), 0, "%s", err.msg);
	cr_assert_eq(nsg->rules[1].priority, 150);
	cr_assert_eq(nsg->rules[1].n_src, 2, "match sets are refilled");
	cr_assert_eq(nsg->rules[1].loc.line, 20, "the rule keeps its place in the file");
}

Test(edit, rule_names_are_case_insensitive)
{
	edit_init(VL_EDIT_SET, "ALLOW-SSH", "access", "deny", NULL);
	cr_assert_eq(apply(), 0, "%s", err.msg);
	cr_assert_eq(nsg->rules[1].access, VL_DENY);
}

Test(edit, several_fields)
{
	edit_init(VL_EDIT_SET, "allow-web", "direction", "Outbound", "protocol", "Udp", "access", "Deny",
		  "description", "no more web", "destinationPortRange", "8000-8080", NULL);
	cr_assert_eq(apply(), 0, "%s", err.msg);
	cr_assert_eq(nsg->rules[0].dir, VL_DIR_OUT);
	cr_assert_eq(nsg->rules[0].proto, VL_PROTO_UDP);
	cr_assert_eq(nsg->rules[0].access, VL_DENY);
	cr_assert_str_eq(nsg->rules[0].description, "no more web");
	cr_assert_eq(nsg->rules[0].dport[0].lo, 8000);
	cr_assert_eq(nsg->rules[0].dport[0].hi, 8080);
}

Test(edit, plural_key_with_one_value_goes_singular)
{
	edit_init(VL_EDIT_SET, "allow-ssh", "sourceAddressPrefixes", "10.5.0.0/16", NULL);
	cr_assert_eq(apply(), 0, "%s", err.msg);
	cr_assert_str_eq(nsg->rules[1].src_prefix, "10.5.0.0/16");
	cr_assert_eq(nsg->rules[1].src_prefixes.n, 0);
	cr_assert_eq(nsg->rules[1].n_src, 1);
}

Test(edit, plural_key_with_several_values_clears_singular)
{
	edit_init(VL_EDIT_SET, "allow-web", "sourceAddressPrefixes", "203.0.113.0/24 198.51.100.7", NULL);
	cr_assert_eq(apply(), 0, "%s", err.msg);
	cr_assert_null(nsg->rules[0].src_prefix);
	cr_assert_eq(nsg->rules[0].src_prefixes.n, 2);
	cr_assert_str_eq(nsg->rules[0].src_prefixes.v[1], "198.51.100.7");
	cr_assert_eq(nsg->rules[0].n_src, 2);
}

Test(edit, singular_key_clears_plural)
{
	edit_init(VL_EDIT_SET, "allow-ssh", "sourceAddressPrefix", "VirtualNetwork", "destinationPortRanges",
		  "22 2222", NULL);
	cr_assert_eq(apply(), 0, "%s", err.msg);
	cr_assert_str_eq(nsg->rules[1].src_prefix, "VirtualNetwork");
	cr_assert_eq(nsg->rules[1].src_prefixes.n, 0);
	cr_assert_null(nsg->rules[1].dst_port);
	cr_assert_eq(nsg->rules[1].dst_ports.n, 2);
	cr_assert_eq(nsg->rules[1].src[0].kind, VL_ADDR_TAG_VNET);
}

Test(edit, add_with_az_defaults)
{
	struct vl_rule *r;

	edit_init(VL_EDIT_ADD, "new-rule", "priority", "400", NULL);
	cr_assert_eq(apply(), 0, "%s", err.msg);
	cr_assert_eq(nsg->n_rules, 3);
	r = &nsg->rules[2];
	cr_assert_str_eq(r->name, "new-rule");
	cr_assert_eq(r->priority, 400);
	cr_assert_eq(r->proto, VL_PROTO_ANY);
	cr_assert_eq(r->dir, VL_DIR_IN);
	cr_assert_eq(r->access, VL_ALLOW);
	cr_assert_str_eq(r->src_prefix, "*");
	cr_assert_str_eq(r->src_port, "*");
	cr_assert_str_eq(r->dst_prefix, "*");
	cr_assert_str_eq(r->dst_port, "80");
	cr_assert_eq(r->dport[0].lo, 80);
	cr_assert(!r->is_default);
}

Test(edit, add_needs_priority)
{
	edit_init(VL_EDIT_ADD, "new-rule", "access", "Deny", NULL);
	cr_assert_eq(apply(), -EINVAL);
	cr_assert(strstr(err.msg, "priority"), "%s", err.msg);
	cr_assert_eq(nsg->n_rules, 2);
}

Test(edit, add_existing_name)
{
	edit_init(VL_EDIT_ADD, "Allow-Web", "priority", "400", NULL);
	cr_assert_eq(apply(), -EEXIST);
	cr_assert(strstr(err.msg, "allow-web"), "%s", err.msg);
}

Test(edit, add_conflicting_priority)
{
	edit_init(VL_EDIT_ADD, "dup", "priority", "300", NULL);
	cr_assert_eq(apply(), -EINVAL);
	cr_assert(strstr(err.msg, "SecurityRuleConflict") && strstr(err.msg, "dup") &&
		      strstr(err.msg, "allow-ssh"),
		  "%s", err.msg);
	cr_assert_eq(nsg->n_rules, 2);
}

Test(edit, delete)
{
	edit_init(VL_EDIT_DELETE, "allow-web", NULL);
	cr_assert_eq(apply(), 0, "%s", err.msg);
	cr_assert_eq(nsg->n_rules, 1);
	cr_assert_str_eq(nsg->rules[0].name, "allow-ssh");
	cr_assert_eq(nsg->rules[0].n_src, 2);
}

Test(edit, default_rules_are_read_only)
{
	edit_init(VL_EDIT_DELETE, "DenyAllInBound", NULL);
	cr_assert_eq(apply(), -EPERM);
	cr_assert(strstr(err.msg, "default rule") && strstr(err.msg, "DenyAllInBound"), "%s", err.msg);
	edit_init(VL_EDIT_SET, "AllowVnetInBound", "access", "Deny", NULL);
	cr_assert_eq(apply(), -EPERM);
	cr_assert(strstr(err.msg, "cannot be edited or deleted"), "%s", err.msg);
	edit_init(VL_EDIT_ADD, "AllowInternetOutBound", "priority", "500", NULL);
	cr_assert_eq(apply(), -EINVAL);
	cr_assert_eq(nsg->n_rules, 2);
}

Test(edit, unknown_names)
{
	edit_init(VL_EDIT_SET, "nope", "priority", "500", NULL);
	cr_assert_eq(apply(), -ENOENT);
	cr_assert(strstr(err.msg, "nope") && strstr(err.msg, "web-nsg"), "%s", err.msg);
	edit_init(VL_EDIT_SET, "allow-web", "priority", "500", NULL);
	free(edit.nsg);
	edit.nsg = strdup("other-nsg");
	cr_assert_eq(apply(), -ENOENT);
	cr_assert(strstr(err.msg, "other-nsg"), "%s", err.msg);
	edit_init(VL_EDIT_SET, "allow-web", "sourcePrefix", "*", NULL);
	cr_assert_eq(apply(), -EINVAL);
	cr_assert(strstr(err.msg, "unknown field \"sourcePrefix\""), "%s", err.msg);
	edit_init(VL_EDIT_SET, "allow-web", "access", "Maybe", NULL);
	cr_assert_eq(apply(), -EINVAL);
	cr_assert(strstr(err.msg, "Allow or Deny"), "%s", err.msg);
}

Test(edit, invalid_edit_leaves_nsg_unchanged)
{
	struct vl_rule *before = nsg->rules;

	edit_init(VL_EDIT_SET, "allow-ssh", "priority", "150", "sourceAddressPrefixes", "10.0.0.0/8 Internet",
		  NULL);
	edit.loc = (struct vl_loc){42, 9};
	cr_assert_eq(apply(), -EINVAL);
	cr_assert(strstr(err.msg, "SecurityRuleParameterContainsUnsupportedValue"), "%s", err.msg);
	cr_assert_eq(err.line, 42, "error located at the edit");
	cr_assert_eq(nsg->rules, before);
	cr_assert_eq(nsg->rules[1].priority, 300);
	cr_assert_eq(nsg->rules[1].src_prefixes.n, 2);
	cr_assert_str_eq(nsg->rules[1].src_prefixes.v[0], "10.0.0.0/8");
	cr_assert_eq(nsg->rules[1].n_src, 2);

	edit_init(VL_EDIT_SET, "allow-ssh", "priority", "5000", NULL);
	cr_assert_eq(apply(), -EINVAL);
	cr_assert(strstr(err.msg, "5000"), "%s", err.msg);
	cr_assert_eq(nsg->rules[1].priority, 300);
}
