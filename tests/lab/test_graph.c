// SPDX-License-Identifier: MIT
/*
 * `vnetlab graph LAB` on a running lab: drawn from the lab's saved state, the same picture as its
 * file until a live edit, and the edit shows (the NSG's rule count) while the file's picture stays.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"

static const char topo[] =
    "vnets:\n"
    "  - name: gvnet\n"
    "    addressSpace: [10.77.0.0/16]\n"
    "    subnets:\n"
    "      - {name: web, addressPrefix: 10.77.1.0/24, networkSecurityGroup: web-nsg}\n"
    "networkSecurityGroups:\n"
    "  - name: web-nsg\n"
    "    securityRules:\n"
    "      - {name: allow-http, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"
    "         sourceAddressPrefix: \"*\", sourcePortRange: \"*\", destinationAddressPrefix: \"*\",\n"
    "         destinationPortRange: \"80\"}\n"
    "vms:\n"
    "  - {name: gweb, subnet: web, app: hello, ports: [80]}\n";

static void setup(void)
{
	th_lab_up("gr", topo);
}

TestSuite(graph_lab, .init = setup, .fini = th_lab_down, .timeout = 60);

static char *vl(int *st, const char *args)
{
	return th_run(st, "%s %s 2>&1", th_vnetlab(), args);
}

Test(graph_lab, a_running_lab_is_drawn_as_it_runs)
{
	char args[512], *lab, *file, *edited, *svg;
	int st;

	snprintf(args, sizeof(args), "graph %s", th_lab.name);
	lab = vl(&st, args);
	cr_assert_eq(st, 0, "%s", lab);
	snprintf(args, sizeof(args), "graph %s", th_lab.file);
	file = vl(&st, args);
	cr_assert_eq(st, 0, "%s", file);
	cr_expect_str_eq(lab, file, "before any edit the lab and its file are one picture");
	cr_expect(strstr(lab, "\"nsg:web-nsg@gvnet/web\" [label=\"NSG web-nsg\\n1 rule\""), "%s", lab);

	snprintf(args, sizeof(args),
		 "nsg rule add %s web-nsg deny-ssh --priority 200 --access Deny --direction Inbound "
		 "--protocol Tcp "
		 "--destination-port-ranges 22",
		 th_lab.name);
	free(vl(&st, args));
	cr_assert_eq(st, 0, "the live edit failed");
	snprintf(args, sizeof(args), "graph %s", th_lab.name);
	edited = vl(&st, args);
	cr_assert_eq(st, 0, "%s", edited);
	cr_expect(strstr(edited, "[label=\"NSG web-nsg\\n2 rules\""),
		  "the running lab's NSG has the new rule: %s", edited);
	free(file);
	snprintf(args, sizeof(args), "graph %s", th_lab.file);
	file = vl(&st, args);
	cr_expect(strstr(file, "[label=\"NSG web-nsg\\n1 rule\""), "the file is drawn as written: %s", file);

	snprintf(args, sizeof(args), "graph %s --format svg", th_lab.name);
	svg = vl(&st, args);
	cr_assert_eq(st, 0, "%s", svg);
	cr_expect(strstr(svg, ">VNet gvnet</text>") && strstr(svg, ">2 rules</text>"), "%s", svg);
	free(svg);
	free(edited);
	free(file);
	free(lab);
}
