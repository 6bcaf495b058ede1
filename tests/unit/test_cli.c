// SPDX-License-Identifier: MIT
/*
 * The CLI contract without root: bad arguments get a "usage:" line and exit 2,
 * validate/explain/graph work on files, and up/down/probe run by an unprivileged
 * user say they need root (exit 2). Drives the built binary (build/vnetlab or
 * $VNETLAB); nothing here builds a lab.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"

/* stderr of `vnetlab ARGS` (stdout dropped); *st its exit status. */
static char *vl_err(int *st, const char *args)
{
	return th_run(st, "%s %s 2>&1 >/dev/null", th_vnetlab(), args);
}

static char *vl_out(int *st, const char *args)
{
	return th_run(st, "%s %s 2>/dev/null", th_vnetlab(), args);
}

TestSuite(cli, .timeout = 60);

Test(cli, bad_arguments_exit_2_with_usage)
{
	static const char *const bad[] = {
		"",
		"frobnicate",
		"--frobnicate",
		"up",
		"up a.yaml b.yaml",
		"up --bogus topologies/kubenet-outbound.yaml",
		"down",
		"down a b",
		"down -x",
		"ls extra",
		"ls -o xml",
		"show",
		"show -o xml topologies/kubenet-outbound.yaml",
		"exec",
		"exec lab ep",
		"exec lab ep cmd",
		"probe",
		"probe lab",
		"probe lab from",
		"probe lab from to extra",
		"probe lab from to:80 --proto sctp",
		"probe lab from to:80 --proto",
		"probe lab from to:80 --timeout abc",
		"probe lab from to:80 --timeout -5",
		"probe lab from to:80 --timeout 0",
		"probe lab from to:80 --timeout 10ms",
		"probe lab from to:80 -o yml",
		"probe lab from to:99999",
		"probe lab from to:http",
		"probe lab from to:80 --bogus",
		"explain",
		"explain topologies/kubenet-outbound.yaml observer",
		"explain topologies/kubenet-outbound.yaml observer myContainerGroup:80 --proto gre",
		"explain topologies/kubenet-outbound.yaml observer myContainerGroup:80 -o xml",
		"explain topologies/kubenet-outbound.yaml observer myContainerGroup:-1",
		"nsg",
		"nsg frob",
		"nsg show",
		"nsg show topologies/kubenet-outbound.yaml",
		"nsg show topologies/kubenet-outbound.yaml aciNsg extra",
		"nsg show topologies/kubenet-outbound.yaml aciNsg -o xml",
		"nsg rule",
		"nsg rule set lab",
		"nsg rule frob lab nsg rule",
		"nsg rule set lab nsg rule --bogus 1",
		"nsg rule set lab nsg rule --priority",
		"nsg rule delete lab nsg rule --priority 100",
		"check",
		"check -o xml topologies/kubenet-outbound.yaml",
		"run",
		"validate",
		"validate a.yaml b.yaml",
		"graph",
		"graph a b",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int st;
		char *err = vl_err(&st, bad[i]);

		cr_expect_eq(st, 2, "'vnetlab %s': exit %d (want 2): %s", bad[i], st, err);
		cr_expect(strstr(err, "usage:"), "'vnetlab %s': no usage line: %s", bad[i], err);
		free(err);
	}
}

Test(cli, usage_names_the_verb)
{
	int st;
	char *err = vl_err(&st, "probe lab from to:80 --proto sctp");

	cr_assert_eq(st, 2);
	cr_assert(strstr(err, "usage: vnetlab probe"), "%s", err);
	free(err);
	err = vl_err(&st, "frobnicate");
	cr_assert_eq(st, 2);
	cr_assert(strstr(err, "frobnicate"), "the unknown verb is named: %s", err);
	free(err);
}

Test(cli, help_exits_0)
{
	int st;
	char *out = vl_out(&st, "--help");

	cr_assert_eq(st, 0);
	cr_assert(strstr(out, "usage:"), "%s", out);
	free(out);
	out = vl_out(&st, "probe --help");
	cr_assert_eq(st, 0);
	cr_assert(strstr(out, "usage: vnetlab probe"), "%s", out);
	free(out);
}

Test(cli, validate_good_files)
{
	char *list = th_run(NULL, "ls topologies/*.yaml tests/data/good/*.yaml 2>/dev/null"), *save = NULL;
	int n = 0;

	for (char *f = strtok_r(list, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
		char args[512], *out;
		int st;

		snprintf(args, sizeof(args), "validate %s", f);
		out = th_run(&st, "%s %s 2>&1", th_vnetlab(), args);
		cr_expect_eq(st, 0, "%s: %s", args, out);
		cr_expect(strstr(out, "is valid"), "%s: %s", args, out);
		free(out);
		n++;
	}
	free(list);
	cr_assert_geq(n, 3, "no topology files found (run from the repository root)");
}

Test(cli, validate_bad_file_exit_1_with_location)
{
	int st;
	char *f = th_write_temp("name: x\nvnets:\n  - name: v\n    addressSpace: [10.0.0.0/33]\n");
	char args[256], *err, want[256];

	snprintf(args, sizeof(args), "validate %s", f);
	err = vl_err(&st, args);
	cr_assert_eq(st, 1, "%s", err);
	snprintf(want, sizeof(want), "%s:4:", f);
	cr_assert(!strncmp(err, want, strlen(want)), "want %s…, got %s", want, err);
	free(err);
	err = vl_err(&st, "validate /nonexistent/vnetlab.yaml");
	cr_assert_eq(st, 1, "%s", err);
	cr_assert(strstr(err, "/nonexistent/vnetlab.yaml"), "%s", err);
	free(err);
	unlink(f);
	free(f);
}

static void check_explain(const char *prefix)
{
	char *out, *v;
	int st;

	out = th_run(&st, "%s%s explain topologies/kubenet-outbound.yaml observer myContainerGroup:80 -o json 2>&1",
		     prefix, th_vnetlab());
	cr_assert_eq(st, 0, "%s", out);
	v = th_json_get(out, "access");
	cr_assert_str_eq(v, "Allow", "%s", out);
	free(v);
	v = th_json_get(out, "nsg");
	cr_assert_str_eq(v, "aciNsg", "%s", out);
	free(v);
	v = th_json_get(out, "rule");
	cr_assert_str_eq(v, "allow-aks-subnet", "%s", out);
	free(v);
	cr_assert(strstr(th_compact(out), "\"hops\":["), "%s", out);
	free(out);
}

/* graph of a file, as dot (the default): VNet and subnet boxes, the NSG in its subnet, pods on nodes. */
static void check_graph(const char *prefix)
{
	char *out;
	int st;

	out = th_run(&st, "%s%s graph topologies/kubenet-outbound.yaml 2>&1", prefix, th_vnetlab());
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(!strncmp(out, "graph \"kubenet\" {\n", 18), "%s", out);
	cr_assert(strstr(out, "label=\"VNet cluster-vnet\\n10.10.0.0/16\\ndefault outbound 198.51.100.4\""),
		  "the VNet's box: %s", out);
	cr_assert(strstr(out, "\"nsg:aciNsg@cluster-vnet/aci\" [label=\"NSG aciNsg\\n3 rules\""), "%s", out);
	cr_assert(strstr(out, "\"ep:observer\" -- \"ep:aks-node-1\""), "pods hang off their node: %s", out);
	cr_assert(strstr(out, "\"ep:myContainerGroup\" [label=\"container group myContainerGroup\\n10.10.2.4\""),
		  "%s", out);
	cr_assert(strlen(out) >= 2 && !strcmp(out + strlen(out) - 2, "}\n"), "%s", out);
	free(out);
}

static bool have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* An independent witness where Graphviz's own program is installed; skipped, with the reason, where
 * it is not (tests/unit/test_graph.c reads the same text with libcgraph everywhere). */
Test(cli, graph_is_accepted_by_dot)
{
	char *out;
	int st;

	if (!have("dot"))
		cr_skip_test("dot (graphviz) is not installed: the graph cannot be checked by it");
	out = th_run(&st, "g=$(%s graph topologies/kubenet-outbound.yaml) || exit 3; printf '%%s\\n' \"$g\" | dot -Tsvg 2>&1 >/dev/null",
		     th_vnetlab());
	cr_assert_eq(st, 0, "dot rejected the graph: %s", out);
	free(out);
}

/* --format and -o: the file's extension picks the format; a bad format is a usage error. */
Test(cli, graph_formats_and_output_files)
{
	char *out, *dir, *svg, *mmd;
	int st;

	dir = th_run(&st, "mktemp -d");
	cr_assert_eq(st, 0);
	dir[strcspn(dir, "\n")] = '\0';
	out = th_run(&st, "%s graph topologies/kubenet-hybrid.yaml -o %s/h.svg 2>&1 && "
			  "%s graph --format mermaid topologies/kubenet-hybrid.yaml -o %s/h.txt 2>&1 && "
			  "%s graph topologies/kubenet-hybrid.yaml -o %s/h.mmd --format dot 2>&1",
		     th_vnetlab(), dir, th_vnetlab(), dir, th_vnetlab(), dir);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	svg = th_run(&st, "cat %s/h.svg", dir);
	cr_expect(strstr(svg, "<svg") && strstr(svg, "</svg>"), "-o x.svg writes SVG: %.200s", svg);
	cr_expect(strstr(svg, ">VNet spoke</text>"), "%.200s", svg);
	mmd = th_run(&st, "cat %s/h.txt", dir);
	cr_expect(strstr(mmd, "\nflowchart TB\n"), "--format mermaid: %.200s", mmd);
	free(mmd);
	mmd = th_run(&st, "cat %s/h.mmd", dir);
	cr_expect(!strncmp(mmd, "graph \"hybrid\" {", 16), "--format wins over the extension: %.200s", mmd);
	free(mmd);
	free(svg);
	out = th_run(&st, "%s graph topologies/kubenet-hybrid.yaml --format png 2>&1", th_vnetlab());
	cr_expect_eq(st, 2, "%s", out);
	cr_expect(strstr(out, "unknown format 'png'"), "%s", out);
	free(out);
	/* az's habit: -o FORMAT names a format (dot, mermaid, svg); az's own formats are refused */
	out = th_run(&st, "%s graph topologies/kubenet-hybrid.yaml -o mermaid 2>&1", th_vnetlab());
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(strstr(out, "\nflowchart TB\n"), "-o mermaid prints mermaid: %.200s", out);
	free(out);
	out = th_run(&st, "%s graph topologies/kubenet-hybrid.yaml -o json 2>&1; ls json 2>&1", th_vnetlab());
	cr_expect(strstr(out, "graph draws dot, mermaid or svg, not 'json'"), "%s", out);
	cr_expect(strstr(out, "No such file"), "-o json writes no file named json: %s", out);
	free(out);
	out = th_run(&st, "%s graph topologies/kubenet-hybrid.yaml -w %s/w.svg 2>&1 && head -c 600 %s/w.svg", th_vnetlab(),
		     dir, dir);
	cr_expect(strstr(out, "<svg"), "-w FILE writes the file, its extension the format: %.200s", out);
	free(out);
	out = th_run(&st, "%s graph topologies/kubenet-hybrid.yaml -o %s/no/such/dir.svg 2>&1; ls %s", th_vnetlab(), dir,
		     dir);
	cr_expect(strstr(out, "No such file or directory"), "%s", out);
	cr_expect(!strstr(out, ".tmp"), "a failed write leaves nothing behind: %s", out);
	free(out);
	out = th_run(&st, "rm -r %s", dir);
	free(out);
	free(dir);
}

Test(cli, explain_and_graph_of_a_file)
{
	check_explain("");
	check_graph("");
}

/* As an unprivileged user: run directly when not root, via setpriv when root. */
static const char *unprivileged(void)
{
	int st;
	char *out;

	if (!th_is_root())
		return "";
	out = th_run(&st, "command -v setpriv");
	free(out);
	if (st)
		return NULL;
	out = th_run(&st, "setpriv --reuid=65534 --regid=65534 --clear-groups %s validate "
			  "topologies/kubenet-outbound.yaml >/dev/null 2>&1", th_vnetlab());
	free(out);
	return st ? NULL : "setpriv --reuid=65534 --regid=65534 --clear-groups ";
}

/* Lab verbs without root are rootless (docs/rootless.md): never "needs root", and with no state dir
 * they can make (XDG_RUNTIME_DIR where nothing can be made) they fail cleanly, building nothing. */
Test(cli, without_root_files_work_and_lab_verbs_are_rootless)
{
	static const char *const needs[] = {
		"down kubenet",
		"down topologies/kubenet-outbound.yaml",
		"down --all",
		"probe kubenet observer myContainerGroup:80",
		"probe kubenet observer myContainerGroup:80 --proto udp -o json",
		"exec kubenet observer -- true",
		"nsg rule set kubenet aciNsg deny-all --priority 350",
	};
	const char *pre = unprivileged();
	char *out;
	int st;

	if (!pre)
		cr_skip_test("no way to run as an unprivileged user (setpriv missing or cannot run the binary)");
	out = th_run(&st, "%s%s validate topologies/kubenet-outbound.yaml 2>&1", pre, th_vnetlab());
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	check_explain(pre);
	check_graph(pre);
	out = th_run(&st, "%s%s up --dry-run topologies/kubenet-outbound.yaml 2>&1", pre, th_vnetlab());
	cr_expect_eq(st, 0, "up --dry-run needs no root: %s", out);
	free(out);

	for (size_t i = 0; i < sizeof(needs) / sizeof(needs[0]); i++) {
		out = th_run(&st, "%senv XDG_RUNTIME_DIR=/nonexistent/vl %s %s 2>&1", pre, th_vnetlab(), needs[i]);
		cr_expect_neq(st, 2, "'vnetlab %s' unprivileged: exit %d: %s", needs[i], st, out);
		cr_expect_null(strstr(out, "needs root"), "'vnetlab %s' unprivileged: %s", needs[i], out);
		cr_expect(!strstr(out, "is down") && !strstr(out, "is up"), "'vnetlab %s' did something: %s", needs[i],
			  out);
		free(out);
	}
	out = th_run(&st, "%senv XDG_RUNTIME_DIR=/nonexistent/vl %s up topologies/kubenet-outbound.yaml 2>&1", pre,
		     th_vnetlab());
	cr_expect_eq(st, 1, "%s", out);
	cr_expect(strstr(out, "XDG_RUNTIME_DIR") || strstr(out, "/nonexistent/vl"), "names the state directory: %s", out);
	free(out);
}

/* Every -o json of a file is one valid JSON document; rules carry the ARM plural field names. */
Test(cli, json_output_of_a_file_is_valid)
{
	static const char *const verbs[] = {
		"show topologies/kubenet-outbound.yaml -o json",
		"explain topologies/kubenet-outbound.yaml observer myContainerGroup:80 -o json",
		"nsg show topologies/kubenet-outbound.yaml aciNsg --include-default -o json",
	};
	char *out;
	int st;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]) && have("python3"); i++) {
		out = th_run(&st, "j=$(%s %s) || exit 3; printf '%%s\\n' \"$j\" | python3 -m json.tool 2>&1 >/dev/null",
			     th_vnetlab(), verbs[i]);
		cr_expect_eq(st, 0, "'vnetlab %s' is not valid JSON: %s", verbs[i], out);
		free(out);
	}
	out = vl_out(&st, "nsg show topologies/kubenet-outbound.yaml aciNsg -o json");
	cr_assert_eq(st, 0);
	cr_expect(strstr(out, "\"sourceAddressPrefixes\":"), "%s", out);
	cr_expect(strstr(out, "\"destinationAddressPrefixes\":"), "%s", out);
	cr_expect_null(strstr(out, "Prefixs"), "%s", out);
	free(out);
	if (!have("python3"))
		cr_skip_test("python3 is not installed: the JSON was not parsed (only its field names were checked)");
}

Test(cli, the_documented_topology_example_loads)
{
	char *out;
	int st;

	/* each ```yaml block is a topology of its own */
	out = th_run(&st,
		     "d=$(mktemp -d /tmp/vnetlab-doc-XXXXXX); "
		     "awk -v d=$d '/^```yaml/{n++;f=1;next}/^```/{f=0}f{print > (d \"/\" n \".yaml\")}' "
		     "docs/topology.md; rc=0; n=0; for f in $d/*.yaml; do n=$((n+1)); %s validate $f 2>&1 || rc=1; "
		     "done; rm -rf $d; [ $n -ge 2 ] || { echo \"$n examples\"; rc=1; }; exit $rc",
		     th_vnetlab());
	cr_assert_eq(st, 0, "docs/topology.md's examples: %s", out);
	free(out);
}

Test(cli, nsg_show_json_imports_back_unchanged)
{
	char *first, *again;
	int st;

	first = th_run(&st, "%s nsg show topologies/kubenet-outbound.yaml aciNsg --include-default -o json",
		       th_vnetlab());
	cr_assert_eq(st, 0);
	again = th_run(&st,
		       "d=$(mktemp -d /tmp/vnetlab-imp-XXXXXX); %s nsg show topologies/kubenet-outbound.yaml aciNsg "
		       "--include-default -o json > $d/rules.json; "
		       /* the same lab name: the rules' resourceGroup is the lab's */
		       "printf 'name: kubenet\\nvnets: [{name: v, addressSpace: [10.9.0.0/16], subnets: [{name: s, "
		       "addressPrefix: 10.9.1.0/24, networkSecurityGroup: aciNsg}]}]\\n"
		       "networkSecurityGroups: [{name: aciNsg, import: rules.json}]\\n' > $d/t.yaml; "
		       "%s nsg show $d/t.yaml aciNsg --include-default -o json 2>&1; rc=$?; rm -rf $d; exit $rc",
		       th_vnetlab(), th_vnetlab());
	cr_assert_eq(st, 0, "%s", again);
	cr_assert_str_eq(again, first, "az-shaped rules round-trip through import");
	free(first);
	free(again);
}
