// SPDX-License-Identifier: MIT
/*
 * -o|--output on every reporting verb that runs on a file (no root): json parses (python3's json),
 * yaml parses (libyaml; and equals the json when python3 has PyYAML), tsv has one line per item
 * with one field per key, none prints nothing with the same exit status, jsonc off a terminal is
 * the json. Options go anywhere after the verb, in every spelling az takes. Strings are valid UTF-8
 * and control characters escaped whatever the input held.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "common/helpers.h"

#define TOPO "topologies/kubenet-outbound.yaml"

/* Verb lines that report, each given "-o FORMAT" at its end. */
static const char *const verbs[] = {
    "show " TOPO,
    "explain " TOPO " observer myContainerGroup:80",
    "explain " TOPO " aks-node-0 10.123.1.4:80",
    "routes " TOPO " aks-node-0",
    "nsg show " TOPO " aciNsg --include-default",
    "nsg list " TOPO,
    "nsg list " TOPO " --include-default",
    "nsg rule list " TOPO " aciNsg",
    "nsg rule list tests/data/good/nsg.yaml vms-nsg", /* ports: strings that look like numbers */
    "nsg rule show " TOPO " aciNsg DenyAllInBound",
    "nsg import tests/data/azure/NetworkSecurityGroupGet.json",
    "nsg import tests/data/azure/az-nsg-asg.json -g tests/data/good/asg.yaml",
    "netpol list topologies/netpol-deny-all.yaml",
    "netpol list " TOPO, /* no policies: an empty list */
    "ls", /* last: the labs that are up may change between two runs (see stable()) */
};

/* Two runs give the same document: not so for ls while other labs come and go. */
static bool stable(const char *verb)
{
	return strcmp(verb, "ls") != 0;
}

/* stdout of `vnetlab ARGS` and its exit status. */
static char *vl(int *st, const char *args, const char *fmt)
{
	return th_run(st, "%s %s -o %s 2>/dev/null", th_vnetlab(), args, fmt);
}

/* Runs python3 code on text (its stdin); returns what it printed. */
static char *py(int *st, const char *code, const char *text)
{
	char *file = th_write_temp(text), *out;

	out = th_run(st, "python3 -c '%s' < %s 2>&1", code, file);
	remove(file);
	free(file);
	return out;
}

TestSuite(output, .timeout = 120);

Test(output, json_parses_and_is_indented_like_az)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		int st, pst;
		char *out = vl(&st, verbs[i], "json"), *r;

		r = py(&pst, "import json,sys; d=json.load(sys.stdin); print(type(d).__name__)", out);
		cr_expect_eq(pst, 0, "%s -o json is not JSON: %s\n%s", verbs[i], r, out);
		/* az: 2 spaces, "key": value */
		if (strchr(out, '\n') != strrchr(out, '\n'))
			cr_expect(strstr(out, "\n  \"") || strstr(out, "\n  {"),
				  "%s -o json is not indented: %s", verbs[i], out);
		free(r);
		free(out);
	}
}

/* Parses a whole YAML stream with libyaml; false (and why) when it is not YAML. */
static bool yaml_ok(const char *text, char *why, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	bool ok = true, done = false;
	int docs = 0;

	yaml_parser_initialize(&p);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	while (ok && !done) {
		if (!yaml_parser_parse(&p, &ev)) {
			snprintf(why, len, "%s at line %zu", p.problem ? p.problem : "?",
				 p.problem_mark.line + 1);
			ok = false;
			break;
		}
		docs += ev.type == YAML_DOCUMENT_START_EVENT;
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (ok && docs != 1) {
		snprintf(why, len, "%d documents", docs);
		ok = false;
	}
	return ok;
}

Test(output, yaml_parses_and_holds_the_json)
{
	int st;
	char *have = th_run(&st, "python3 -c 'import yaml' 2>&1");
	bool pyyaml = st == 0;

	free(have);
	if (!pyyaml)
		cr_log_warn("python3 has no yaml module (PyYAML): yaml checked with libyaml only, not "
			    "against the json");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		char why[200] = "", *y = vl(&st, verbs[i], "yaml"), *j, *both, *r;

		cr_expect(yaml_ok(y, why, sizeof(why)), "%s -o yaml: %s\n%s", verbs[i], why, y);
		if (pyyaml && !strstr(verbs[i], "nsg import") &&
		    stable(verbs[i])) { /* import: yaml is the topology form */
			j = vl(&st, verbs[i], "json");
			cr_assert(asprintf(&both, "%s\n---SPLIT---\n%s", y, j) > 0);
			r = py(&st,
			       "import json,sys,yaml; a,b=sys.stdin.read().split(\"\\n---SPLIT---\\n\"); "
			       "sys.exit(0 if yaml.safe_load(a)==json.loads(b) else 1)",
			       both);
			cr_expect_eq(st, 0, "%s: -o yaml and -o json differ: %s\n%s", verbs[i], r, y);
			free(r);
			free(both);
			free(j);
		}
		free(y);
	}
}

Test(output, tsv_one_line_per_item_one_field_per_key)
{
	/* the lines and fields the json says there should be: a list gives a line per item (routes:
	 * its value list), an object one line; a line has a field per key */
	static const char code[] =
	    "import json,sys; t,j,rows=sys.stdin.read().split(\"\\n---SPLIT---\\n\"); d=json.loads(j); "
	    "d=d[rows.strip()] if rows.strip() else d; items=d if isinstance(d,list) else [d]; "
	    "lines=t.split(\"\\n\")[:-1] if t else []; "
	    "assert len(lines)==len(items), (len(lines),len(items)); "
	    "[(_ for _ in ()).throw(AssertionError((l,len(i)))) for l,i in zip(lines,items) "
	    "if len(l.split(\"\\t\"))!=(len(i) if isinstance(i,(dict,list)) else 1)]";

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		int st;
		const char *rows = !strncmp(verbs[i], "routes", 6)  ? "value"
				   : strstr(verbs[i], "nsg import") ? "x"
								    : "";
		char *t, *j, *both, *r;

		if (*rows == 'x' || !stable(verbs[i]))
			continue; /* import's yaml and json differ in shape by design */
		t = vl(&st, verbs[i], "tsv");
		j = vl(&st, verbs[i], "json");
		cr_assert(asprintf(&both, "%s\n---SPLIT---\n%s\n---SPLIT---\n%s", t, j, rows) > 0);
		r = py(&st, code, both);
		cr_expect_eq(st, 0, "%s -o tsv: %s\n%s", verbs[i], r, t);
		cr_expect_not(strstr(t, "Name\t") || strstr(t, "name\t"), "%s -o tsv has a header: %s",
			      verbs[i], t);
		free(r);
		free(both);
		free(j);
		free(t);
	}
}

Test(output, none_prints_nothing_and_keeps_the_exit_status)
{
	static const char *const more[] = {
	    "explain " TOPO " observer nowhere:80", /* an error: exit 1 either way */
	    "nsg show " TOPO " noSuchNsg",
	};

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]) + 2; i++) {
		const char *v = i < sizeof(verbs) / sizeof(verbs[0])
				    ? verbs[i]
				    : more[i - sizeof(verbs) / sizeof(verbs[0])];
		int st_json, st_none;
		char *j = vl(&st_json, v, "json"), *n = vl(&st_none, v, "none");

		cr_expect_str_eq(n, "", "%s -o none printed: %s", v, n);
		cr_expect_eq(st_none, st_json, "%s: -o none exit %d, -o json exit %d", v, st_none, st_json);
		free(j);
		free(n);
	}
}

Test(output, jsonc_off_a_terminal_is_json)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		int st;
		char *j = vl(&st, verbs[i], "json"), *c = vl(&st, verbs[i], "jsonc");

		if (stable(verbs[i]))
			cr_expect_str_eq(c, j, "%s: jsonc into a pipe is not the json", verbs[i]);
		free(j);
		free(c);
	}
}

Test(output, jsonc_on_a_terminal_is_coloured_json)
{
	int st;
	char *out = th_run(&st,
			   "command -v script >/dev/null || exit 77; "
			   "script -qec '%s nsg show " TOPO " aciNsg -o jsonc' /dev/null",
			   th_vnetlab());

	if (st == 77)
		cr_skip_test("no script(1) to give the command a terminal");
	cr_assert(strstr(out, "\033["), "no colour on a terminal: %s", out);
	cr_assert(strstr(out, "aciNsg") || strstr(out, "allow"), "%s", out);
	free(out);
}

/* The same output whatever the order and spelling of the options. */
Test(output, options_anywhere_in_every_spelling)
{
	static const char *const forms[][2] = {
	    {"nsg show " TOPO " aciNsg --include-default -o json",
	     "nsg show -o json --include-default " TOPO " aciNsg"},
	    {"nsg show " TOPO " aciNsg -o json", "nsg show " TOPO " --output json aciNsg"},
	    {"nsg show " TOPO " aciNsg -o json", "nsg show " TOPO " aciNsg --output=json"},
	    {"nsg show " TOPO " aciNsg -o json", "nsg show " TOPO " aciNsg -ojson"},
	    {"nsg show " TOPO " aciNsg -o json", "nsg show -g " TOPO " -n aciNsg -o json"},
	    {"nsg rule list " TOPO " aciNsg -o json", "nsg rule list -o json --nsg-name aciNsg " TOPO},
	    {"nsg rule show " TOPO " aciNsg DenyAllInBound -o json",
	     "nsg rule show --name DenyAllInBound -o json -g " TOPO " --nsg-name aciNsg"},
	    {"explain " TOPO " observer myContainerGroup:80 -o json",
	     "explain -o json " TOPO " observer myContainerGroup:80"},
	    {"explain " TOPO " observer myContainerGroup:80 -o json",
	     "explain " TOPO " --output=json observer myContainerGroup:80 --proto tcp"},
	    {"routes " TOPO " aks-node-0 -o yaml", "routes -oyaml " TOPO " aks-node-0"},
	    {"show " TOPO " -o tsv", "show --output tsv " TOPO},
	    {"netpol list topologies/netpol-deny-all.yaml -o json",
	     "netpol list -ojson topologies/netpol-deny-all.yaml"},
	    {"netpol list topologies/netpol-deny-all.yaml -o yaml",
	     "netpol list --output=yaml topologies/netpol-deny-all.yaml"},
	    {"netpol list topologies/netpol-deny-all.yaml -o tsv",
	     "netpol list --output tsv topologies/netpol-deny-all.yaml"},
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		int st1, st2;
		char *a = th_run(&st1, "%s %s 2>&1", th_vnetlab(), forms[i][0]);
		char *b = th_run(&st2, "%s %s 2>&1", th_vnetlab(), forms[i][1]);

		cr_expect_eq(st1, 0, "%s: %s", forms[i][0], a);
		cr_expect_eq(st2, 0, "%s: %s", forms[i][1], b);
		cr_expect_str_eq(a, b, "'%s' and '%s' differ", forms[i][0], forms[i][1]);
		free(a);
		free(b);
	}
}

Test(output, a_bad_format_is_a_usage_error)
{
	static const char *const lines[] = {
	    "nsg show " TOPO " aciNsg -o xml",
	    "netpol list topologies/netpol-deny-all.yaml -o xml",
	    "netpol list -otable,json topologies/netpol-deny-all.yaml",
	    "flows nolabhere -o xml", /* options are read before the lab is looked for */
	    "flows --output=html --follow nolabhere",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int st;
		char *out = th_run(&st, "%s %s 2>&1", th_vnetlab(), lines[i]);

		cr_expect_eq(st, 2, "%s: %s", lines[i], out);
		cr_expect(strstr(out, "usage:"), "%s: %s", lines[i], out);
		free(out);
	}
}

/* flows takes every format in every spelling: past the options, only the missing lab is an error. */
Test(output, flows_takes_every_format)
{
	static const char *const forms[] = {"-o table", "-o json", "-ojsonc", "--output tsv", "--output=yaml",
					    "-o none --follow", "--follow -oyaml"};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		int st;
		char *out = th_run(&st, "%s flows %s nolabhere 2>&1", th_vnetlab(), forms[i]);

		cr_expect_eq(st, 1, "flows %s: exit %d: %s", forms[i], st, out);
		cr_expect(strstr(out, "no lab 'nolabhere' is up"), "flows %s: %s", forms[i], out);
		free(out);
	}
}

/* Strings YAML 1.1 reads as timestamps or base-60 numbers are quoted, so they read back as strings. */
Test(output, yaml_quotes_what_would_read_back_as_a_time)
{
	static const char *const values[] = {"2026-12-01T15:01:12.884Z", "2026-12-01", "1:20", "-1:20:30"};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		int st;
		char *out = th_run(&st,
				   "d=$(mktemp -d /tmp/vnetlab-yq-XXXXXX); printf 'name: yq\\nvnets: [{name: v, "
				   "addressSpace: [10.201.0.0/16], subnets: [{name: s, addressPrefix: "
				   "10.201.0.0/24, networkSecurityGroup: g}]}]\\nnetworkSecurityGroups: [{name: g, "
				   "securityRules: [{name: r, priority: 100, direction: Inbound, access: Allow, "
				   "protocol: Tcp, sourceAddressPrefix: \"*\", sourcePortRange: \"*\", destinationAddressPrefix: "
				   "\"*\", destinationPortRange: \"80\", description: \"%s\"}]}]\\n' > "
				   "$d/t.yaml; %s nsg rule show $d/t.yaml g r -o yaml 2>&1; rc=$?; rm -rf $d; exit $rc",
				   values[i], th_vnetlab());
		char want[80];

		snprintf(want, sizeof(want), "description: '%s'\n", values[i]);
		cr_expect_eq(st, 0, "%s", out);
		cr_expect(strstr(out, want), "%s is not quoted: %s", values[i], out);
		free(out);
	}
}

/* A file name is the user's: bad UTF-8 and control characters in it come out as valid, escaped JSON. */
Test(output, strings_are_valid_utf8_with_controls_escaped)
{
	int st;
	char *out, *r;

	out = th_run(&st,
		     "d=$(mktemp -d /tmp/vnetlab-utf-XXXXXX); f=\"$d/$(printf "
		     "'a\\001b\\377c\\177d\\302\\205.yaml')\"; "
		     "cp " TOPO " \"$f\"; %s show \"$f\" -o json; rc=$?; rm -rf \"$d\"; exit $rc",
		     th_vnetlab());
	cr_assert_eq(st, 0, "%s", out);
	cr_expect(strstr(out, "a\\u0001b\xef\xbf\xbd"
			      "c\\u007fd\\u0085.yaml"),
		  "the source is not escaped: %s", out);
	r = py(&st,
	       "import json,sys; d=json.loads(sys.stdin.buffer.read().decode(\"utf-8\")); "
	       "print(repr(d[\"source\"]))",
	       out);
	cr_expect_eq(st, 0, "not valid UTF-8 JSON: %s", r);
	cr_expect(strstr(r, "\\x01b\xef\xbf\xbd"
			    "c\\x7fd\\x85"),
		  "%s", r);
	free(r);
	free(out);
	/* and the table, the tsv and the yaml keep a terminal safe too */
	out = th_run(&st,
		     "d=$(mktemp -d /tmp/vnetlab-utf-XXXXXX); f=\"$d/$(printf 'e\\033[31mf.yaml')\"; "
		     "cp " TOPO " \"$f\"; %s show \"$f\" -o tsv; %s show \"$f\" -o yaml; rm -rf \"$d\"",
		     th_vnetlab(), th_vnetlab());
	cr_expect_not(strchr(out, '\033'), "an escape reached the terminal: %s", out);
	free(out);
}

/* nsg import's YAML, pasted under a topology, is the NSG an `import:` of the export gives. */
Test(output, nsg_import_yaml_is_the_imported_nsg)
{
	static const char *const exports[] = {"az-nsg-show.json", "NetworkSecurityGroupGet.json",
					      "az-rule-list.json"};

	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++) {
		int st1, st2;
		char *pasted, *imported;

		pasted = th_run(
		    &st1,
		    "d=$(mktemp -d /tmp/vnetlab-nimp-XXXXXX); %s nsg import tests/data/azure/%s --name g > "
		    "$d/n.yaml || exit 1; sed -i 's/^- name: .*/- name: g/' $d/n.yaml; "
		    "{ printf 'name: imp\\nvnets: [{name: v, addressSpace: [10.200.0.0/16], subnets: [{name: "
		    "s, addressPrefix: 10.200.0.0/24}]}]\\n'; cat $d/n.yaml; } > $d/t.yaml; "
		    "%s nsg show $d/t.yaml g --include-default -o json 2>&1; rc=$?; rm -rf $d; exit $rc",
		    th_vnetlab(), exports[i], th_vnetlab());
		imported = th_run(
		    &st2,
		    "d=$(mktemp -d /tmp/vnetlab-nimp-XXXXXX); printf 'name: imp\\nvnets: [{name: v, "
		    "addressSpace: [10.200.0.0/16], subnets: [{name: s, addressPrefix: 10.200.0.0/24}]}]\\n"
		    "networkSecurityGroups: [{name: g, import: %%s/tests/data/azure/%s}]\\n' \"$(pwd)\" > "
		    "$d/t.yaml; %s nsg show $d/t.yaml g --include-default -o json 2>&1; rc=$?; rm -rf $d; "
		    "exit $rc",
		    exports[i], th_vnetlab());
		cr_expect_eq(st1, 0, "%s: %s", exports[i], pasted);
		cr_expect_eq(st2, 0, "%s: %s", exports[i], imported);
		cr_expect_str_eq(pasted, imported, "%s: the pasted YAML is not the import", exports[i]);
		free(pasted);
		free(imported);
	}
}
