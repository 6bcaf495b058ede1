// SPDX-License-Identifier: MIT
/*
 * NSG import from az / REST JSON: the three shapes load, default rules are
 * checked and dropped, and bad exports are refused at the right line:col.
 * Run from the repository root.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vnetlab/loader.h"

#define AZ "tests/data/azure/"

static void import_ok(const char *path, const char *hint, struct vl_nsg *g)
{
	struct vl_error err = {0};
	int r = vl_nsg_import_file(path, hint, g, &err);

	cr_assert_eq(r, 0, "%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
}

static void nsg_clear(struct vl_nsg *g)
{
	for (size_t i = 0; i < g->n_rules; i++)
		vl_rule_clear(&g->rules[i]);
	free(g->rules);
	free(g->name);
}

TestSuite(import);

Test(import, rest_get_example)
{
	struct vl_nsg g;
	const struct vl_rule *r;

	import_ok(AZ "NetworkSecurityGroupGet.json", "hint", &g);
	cr_expect_str_eq(g.name, "testnsg");
	cr_assert_eq(g.n_rules, 1); /* the six defaults are checked, not copied */
	r = &g.rules[0];
	cr_expect_str_eq(r->name, "rule1");
	cr_expect_eq(r->priority, 130);
	cr_expect_eq(r->dir, VL_DIR_IN);
	cr_expect_eq(r->access, VL_ALLOW);
	cr_expect_eq(r->proto, VL_PROTO_ANY);
	cr_expect_str_eq(r->dst_port, "80");
	cr_expect_str_eq(r->src_prefix, "*");
	cr_assert_eq(r->n_dport, 1);
	cr_expect_eq(r->dport[0].lo, 80);
	cr_expect_eq(r->dport[0].hi, 80);
	cr_expect_eq(r->loc.line, 18);
	cr_expect_eq(r->loc.col, 13);
	nsg_clear(&g);
}

Test(import, az_show_flattened)
{
	struct vl_nsg g;
	const struct vl_rule *r;

	import_ok(AZ "az-nsg-show.json", NULL, &g);
	cr_expect_str_eq(g.name, "web-nsg");
	cr_assert_eq(g.n_rules, 1);
	r = &g.rules[0];
	cr_expect_str_eq(r->name, "allow-web");
	cr_expect_eq(r->priority, 200);
	cr_expect_eq(r->proto, VL_PROTO_TCP);
	cr_expect_null(r->src_prefix);
	cr_expect_null(r->dst_port);
	cr_assert_eq(r->src_prefixes.n, 2);
	cr_expect_str_eq(r->src_prefixes.v[1], "198.51.100.7");
	cr_assert_eq(r->dst_ports.n, 2);
	cr_expect_str_eq(r->dst_ports.v[1], "8000-8100");
	cr_expect_str_eq(r->description, "web from partners");
	cr_expect_eq(r->n_src, 2);
	nsg_clear(&g);
}

Test(import, az_rule_list_array)
{
	struct vl_nsg g;

	import_ok(AZ "az-rule-list.json", "aks-nsg", &g);
	cr_expect_str_eq(g.name, "aks-nsg");
	cr_assert_eq(g.n_rules, 2); /* --include-default rows dropped */
	cr_expect_str_eq(g.rules[0].name, "deny-ssh");
	cr_expect_eq(g.rules[0].proto, VL_PROTO_TCP); /* "TCP" */
	cr_expect_eq(g.rules[0].access, VL_DENY);
	cr_expect_null(g.rules[0].description);
	cr_expect_eq(g.rules[1].priority, 310);	      /* "310" */
	cr_expect_eq(g.rules[1].proto, VL_PROTO_TCP); /* "tcp" */
	cr_expect_eq(g.rules[1].dst_prefixes.n, 1);
	nsg_clear(&g);
}

Test(import, default_name_when_none)
{
	struct vl_nsg g;
	struct vl_error err = {0};
	const char *j = "[]";

	cr_assert_eq(vl_nsg_import_buffer("x.json", j, strlen(j), NULL, &g, &err), 0, "%s", err.msg);
	cr_expect_str_eq(g.name, "imported-nsg");
	cr_expect_eq(g.n_rules, 0);
	nsg_clear(&g);
}

Test(import, missing_file)
{
	struct vl_nsg g;
	struct vl_error err = {0};

	cr_expect_eq(vl_nsg_import_file(AZ "nope.json", NULL, &g, &err), -ENOENT);
	cr_expect_null(g.rules);
	cr_expect_null(g.name);
	cr_expect(strstr(err.msg, "No such file"), "%s", err.msg);
}

/* An import error in a topology is reported in the JSON file, where it is. */
Test(import, error_located_in_export)
{
	struct vl_lab *lab = (struct vl_lab *)1;
	struct vl_error err = {0};
	const char *t =
	    "name: t\nnetworkSecurityGroups:\n  - name: n\n    import: ../azure/bad-default.json\n";

	cr_assert_eq(vl_load_buffer("tests/data/good/inline.yaml", t, strlen(t), &lab, &err), -EINVAL);
	cr_expect_null(lab);
	cr_expect_str_eq(err.file, "tests/data/good/../azure/bad-default.json");
	cr_expect_eq(err.line, 5);
	cr_expect_eq(err.col, 5);
	cr_expect(strstr(err.msg, "default security rule 'AllowInternetOutBound' differs"), "%s", err.msg);
}

struct bad {
	const char *id;
	const char *json;
	int line, col;
	const char *msg;
};

static const struct bad bad_cases[] = {
    {"syntax", "{\"name\": \"n\", \"securityRules\": [}", 1, 33, "YAML syntax error"},
    {"scalar", "\"hello\"", 1, 1, "expected an NSG object or a list of security rules, got a string"},
    {"empty", "", 1, 1, "empty file"},
    {"no-200", "{\"parameters\": {}, \"responses\": {\"404\": {}}}", 1, 33, "no \"200\" response"},
    {"no-body", "{\"responses\": {\"200\": {\"headers\": {}}}}", 1, 23, "missing 'body' in response 200"},
    {"unknown-nsg-key", "{\"name\": \"n\", \"securityRulez\": []}", 1, 15,
     "unknown key 'securityRulez' in network security group"},
    {"import-in-export", "{\"name\": \"n\", \"import\": \"x.json\"}", 1, 25,
     "'import' is only allowed in a topology"},
    {"rule-not-map", "[1]", 1, 2, "expected a mapping for security rule, got a string"},
    {"rule-asg",
     "[{\"name\": \"r\", \"priority\": 100, \"direction\": \"Inbound\", \"access\": \"Allow\",\n"
     "  \"sourceApplicationSecurityGroups\": [{\"id\": \"/x\"}]}]",
     2, 46, "'/x' is not an application security group id"},
    {"rule-access",
     "[{\"name\": \"r\", \"priority\": 100, \"direction\": \"Inbound\", \"access\": \"Permit\"}]", 1, 67,
     "invalid access 'Permit'; expected one of: Allow, Deny"},
    {"rule-direction", "[{\"name\": \"r\", \"priority\": 100, \"direction\": \"In\", \"access\": \"Allow\"}]",
     1, 46, "invalid direction 'In'"},
    {"rule-priority-float", "[{\"name\": \"r\", \"priority\": 100.5}]", 1, 28,
     "expected a number for priority, got '100.5'"},
    {"rule-both-levels", "[{\"name\": \"r\", \"priority\": 100, \"properties\": {\"priority\": 200}}]", 1, 48,
     "'priority' given both in the security rule and in its properties"},
    {"duplicate-rule-names",
     "[{\"name\": \"r\", \"priority\": 100, \"direction\": \"Inbound\", \"access\": \"Allow\", \"protocol\": "
     "\"*\",\n"
     "  \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", \"sourcePortRange\": \"*\",\n"
     "  \"destinationPortRange\": \"*\"},\n"
     " {\"name\": \"R\", \"priority\": 101, \"direction\": \"Inbound\", \"access\": \"Allow\", \"protocol\": "
     "\"*\",\n"
     "  \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", \"sourcePortRange\": \"*\",\n"
     "  \"destinationPortRange\": \"*\"}]",
     4, 2, "duplicate rule name"},
    {"default-twice",
     "{\"defaultSecurityRules\": [\n"
     " {\"name\": \"DenyAllOutBound\", \"priority\": 65500, \"direction\": \"Outbound\", \"access\": "
     "\"Deny\"},\n"
     " {\"name\": \"DenyAllOutBound\", \"priority\": 65500, \"direction\": \"Outbound\", \"access\": "
     "\"Deny\"}]}",
     3, 2, "default security rule 'DenyAllOutBound' is listed twice"},
    {"duplicate-json-key", "{\"name\": \"a\", \"name\": \"b\"}", 1, 15, "duplicate key 'name'"},
};

#define N_BAD (sizeof(bad_cases) / sizeof(bad_cases[0]))

Test(import, bad_exports)
{
	for (size_t i = 0; i < N_BAD; i++) {
		const struct bad *c = &bad_cases[i];
		struct vl_nsg g;
		struct vl_error err = {0};
		int r = vl_nsg_import_buffer("bad.json", c->json, strlen(c->json), "hint", &g, &err);

		cr_expect_eq(r, -EINVAL, "%s: r=%d", c->id, r);
		if (r)
			cr_expect(!g.rules && !g.name && !g.n_rules, "%s: partial NSG left", c->id);
		else
			nsg_clear(&g);
		cr_expect(strstr(err.msg, c->msg), "%s: message \"%s\" lacks \"%s\"", c->id, err.msg, c->msg);
		cr_expect(err.line == c->line && err.col == c->col, "%s: at %d:%d, want %d:%d (%s)", c->id,
			  err.line, err.col, c->line, c->col, err.msg);
		cr_expect_str_eq(err.file, "bad.json");
	}
}
