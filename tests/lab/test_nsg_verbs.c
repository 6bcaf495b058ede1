// SPDX-License-Identifier: MIT
/*
 * az's NSG verbs on a running lab: nsg rule create|update|show|list|delete (and the older add,
 * set) with az's flags in any order, -o after a multi-word flag (`--priority 350 -o json` is a
 * priority and a format), nsg list, and the kernel following each edit (probe).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"

static const char topo[] = "vnets:\n"
			   "  - name: v\n"
			   "    addressSpace: [10.77.0.0/16]\n"
			   "    subnets:\n"
			   "      - {name: s, addressPrefix: 10.77.1.0/24, networkSecurityGroup: n}\n"
			   "networkSecurityGroups:\n"
			   "  - name: n\n"
			   "    securityRules: []\n"
			   "vms:\n"
			   "  - {name: a, subnet: s}\n"
			   "  - {name: b, subnet: s, app: echo, ports: [80, 81]}\n";

static void setup(void)
{
	th_lab_up("az", topo);
}

TestSuite(nsg_verbs, .init = setup, .fini = th_lab_down, .timeout = 120);

/* `vnetlab ARGS 2>&1` with the lab's name for the %s of ARGS. */
#define vl(st, args) th_run(st, "%s " args " 2>&1", th_vnetlab(), th_lab.name)

static void expect_probe(const char *result, int port)
{
	char to[16], *out;

	snprintf(to, sizeof(to), "b:%d", port);
	out = th_probe("a", to, 0, "tcp", 1500);
	th_assert_key(out, "result", result, to);
	free(out);
}

Test(nsg_verbs, create_update_show_list_delete)
{
	char *out, *v, rg[64];
	int st;

	expect_probe("connected", 80); /* the default rules: VirtualNetwork to VirtualNetwork */
	/* create, options in az's order, -o json right after a value */
	out = vl(&st, "nsg rule create -g %s --nsg-name n -n deny-web --priority 350 -o json --access Deny "
		      "--destination-port-ranges 80 --protocol Tcp");
	cr_assert_eq(st, 0, "%s", out);
	th_compact(out);
	cr_expect(strstr(out, "\"name\":\"deny-web\",\"priority\":350,"), "%s", out);
	cr_expect(strstr(out, "\"access\":\"Deny\""), "%s", out);
	cr_expect(strstr(out, "\"destinationPortRanges\":[\"80\"]") ||
		      strstr(out, "\"destinationPortRange\":\"80\""),
		  "%s", out);
	snprintf(rg, sizeof(rg), "\"resourceGroup\":\"%s\"", th_lab.name);
	cr_expect(strstr(out, rg), "the lab is the resource group: %s", out);
	free(out);
	expect_probe("dropped", 80);
	expect_probe("connected", 81);
	/* update: positional names, --output=, a list of ports */
	out = vl(&st, "nsg rule update %s n deny-web --destination-port-ranges 80 81 --output=json");
	cr_assert_eq(st, 0, "%s", out);
	th_compact(out);
	cr_expect(strstr(out, "\"destinationPortRanges\":[\"80\",\"81\"]"), "%s", out);
	free(out);
	expect_probe("dropped", 81);
	/* a change of direction: the kernel leaves the old direction's chain and takes the new one */
	out = vl(&st, "nsg rule update %s n deny-web --direction Outbound -o none");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	expect_probe("dropped", 80); /* now on a's way out */
	out = vl(&st, "nsg rule update %s n deny-web --direction Inbound --source-address-prefixes 10.77.9.9 -o none");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	expect_probe("connected", 80); /* neither way any more */
	/* show and list */
	out = vl(&st, "nsg rule show %s --nsg-name n --name deny-web -o tsv");
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(!strncmp(out, "deny-web\t350\tInbound\tDeny\tTcp\t", 30), "%s", out);
	cr_expect_eq(strchr(out, '\n'), strrchr(out, '\n'), "one line: %s", out);
	free(out);
	out = vl(&st, "nsg rule list %s n --include-default");
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(strstr(out, "Name") && strstr(out, "ResourceGroup") && strstr(out, "SourceASG") &&
		      strstr(out, "DestinationASG"),
		  "az's columns: %s", out);
	cr_expect(strstr(out, "deny-web "), "%s", out);
	cr_expect(strstr(out, "80 81"), "az joins a list with spaces: %s", out);
	cr_expect(strstr(out, "DenyAllInBound"), "%s", out);
	free(out);
	out = vl(&st, "nsg list %s -o json");
	cr_expect_eq(st, 0, "%s", out);
	v = th_json_get(out, "name");
	cr_expect_str_eq(v, "n", "%s", out);
	free(v);
	cr_expect(strstr(out, "deny-web"), "the NSG's rules: %s", out);
	free(out);
	/* the older names */
	out = vl(&st, "nsg rule set %s n deny-web --access Allow");
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(strstr(out, "set rule deny-web of NSG n"), "%s", out);
	free(out);
	expect_probe("connected", 80);
	out = vl(&st,
		 "nsg rule add %s n extra --priority 400 --access Deny --destination-port-ranges 81 -o none");
	cr_expect_eq(st, 0, "%s", out);
	cr_expect_str_eq(out, "", "-o none: %s", out);
	free(out);
	/* delete, then the rule is gone */
	out = vl(&st, "nsg rule delete -g %s --nsg-name n --name deny-web");
	cr_expect_eq(st, 0, "%s", out);
	cr_expect(strstr(out, "deleted rule deny-web"), "%s", out);
	free(out);
	out = vl(&st, "nsg rule show %s n deny-web");
	cr_expect_eq(st, 1, "%s", out);
	free(out);
	expect_probe("connected", 80);
	expect_probe("dropped", 81); /* extra: priority 400 */
}

Test(nsg_verbs, bad_edits_are_refused)
{
	char *out;
	int st;

	out = vl(&st, "nsg rule create %s n p1 --priority 350 -o xml");
	cr_expect_eq(st, 2, "a bad format is a usage error: %s", out);
	free(out);
	out = vl(&st, "nsg rule update %s n no-such --priority 300");
	cr_expect_eq(st, 1, "update of a rule that is not there: %s", out);
	free(out);
	out = vl(&st, "nsg rule create %s n DenyAllInBound --priority 300");
	cr_expect_eq(st, 1, "a default rule's name: %s", out);
	free(out);
	out = vl(&st, "nsg rule delete %s n p1 --priority 300");
	cr_expect_eq(st, 2, "delete takes no fields: %s", out);
	free(out);
}
