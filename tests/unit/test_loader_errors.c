// SPDX-License-Identifier: MIT
/*
 * The loader reports every error it finds (up to VL_ERRORS_MAX), each at its line and column and in
 * the file's order, not only the first; vl_load_file still says the first one.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"
#include "vnetlab/loader.h"

#define HEAD                                                                                                 \
	"name: le\n"                                                                                         \
	"vnets:\n"                                                                                           \
	"  - name: v\n"                                                                                      \
	"    addressSpace: [10.1.0.0/16]\n"                                                                  \
	"    subnets:\n"                                                                                     \
	"      - {name: s, addressPrefix: 10.1.1.0/24}\n"
#define RULE(name, prio, dir, src, port)                                                                     \
	"      - {name: " name ", priority: " prio ", direction: " dir ", access: Allow, protocol: Tcp, "      \
	"sourceAddressPrefix: '" src "', sourcePortRange: '*', destinationAddressPrefix: '*', "              \
	"destinationPortRange: '" port "'}\n"

static struct vl_errors errs;

static int load(const char *text, struct vl_lab **lab)
{
	return vl_load_buffer_all("t.yaml", text, strlen(text), lab, &errs);
}

TestSuite(loader_errors, .timeout = 30);

Test(loader_errors, errors_of_rules_and_nsgs_in_order)
{
	/* a port out of range (line 10), an unknown service tag (line 11), a bad direction (line 12, a
	 * field error found before the values of the rules above it), a bad priority in another NSG
	 * (line 16) and a VM on a subnet that does not exist (line 19) are all reported */
	static const char text[] = HEAD "networkSecurityGroups:\n"
					"  - name: n1\n"
					"    securityRules:\n" RULE("r1", "100", "Inbound", "*", "99999")
					    RULE("r2", "200", "Inbound", "Storage.WestEurope", "80")
						RULE("r3", "300", "Sideways", "*", "80") "  - name: n2\n"
											 "    securityRules:\n" RULE(
											     "r1", "5000", "Inbound", "*", "80")
					"vms:\n"
					"  - {name: vm1, subnet: s}\n"
					"  - {name: vm2, subnet: nowhere}\n";
	static const int lines[] = {10, 11, 12, 15};
	struct vl_lab *lab = NULL;

	cr_assert_eq(load(text, &lab), -EINVAL);
	cr_assert_null(lab);
	/* the VMs are not read: an NSG skipped there would show up as the VMs' errors */
	cr_assert_eq(errs.n, 4, "%zu errors, first: %s", errs.n, errs.v[0].msg);
	cr_assert(!errs.more);
	for (size_t i = 0; i < errs.n; i++) {
		cr_assert_eq(errs.v[i].line, lines[i], "error %zu at line %d: %s", i, errs.v[i].line, errs.v[i].msg);
		cr_assert_str_eq(errs.v[i].file, "t.yaml");
		cr_assert_gt(errs.v[i].col, 0);
	}
	cr_assert(strstr(errs.v[0].msg, "99999"), "%s", errs.v[0].msg);
	cr_assert(strstr(errs.v[1].msg, "Storage.WestEurope"), "%s", errs.v[1].msg);
	cr_assert(strstr(errs.v[2].msg, "Sideways"), "%s", errs.v[2].msg);
	cr_assert(strstr(errs.v[3].msg, "NSG n2") && strstr(errs.v[3].msg, "5000"), "%s", errs.v[3].msg);
}

Test(loader_errors, an_export_refused_for_three_reasons_says_all_three)
{
	/* the case: a source ASG, a destination ASG and a service tag the lab does not know */
	static const char text[] =
	    HEAD "networkSecurityGroups:\n"
		 "  - name: n1\n"
		 "    securityRules:\n"
		 "      - {name: a, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, sourcePortRange: '*',\n"
		 "         sourceApplicationSecurityGroups: [{id: /x/applicationSecurityGroups/web}],\n"
		 "         destinationAddressPrefix: '*', destinationPortRange: '80'}\n"
		 "      - {name: b, priority: 110, direction: Inbound, access: Allow, protocol: Tcp, sourcePortRange: '*',\n"
		 "         sourceAddressPrefix: '*', destinationPortRange: '80',\n"
		 "         destinationApplicationSecurityGroups: [{id: /x/applicationSecurityGroups/db}]}\n" RULE(
		     "c", "120", "Inbound", "Storage.WestEurope", "443");
	struct vl_lab *lab = NULL;

	cr_assert_eq(load(text, &lab), -EINVAL);
	cr_assert_eq(errs.n, 3, "%zu errors, first: %s", errs.n, errs.v[0].msg);
	cr_assert_eq(errs.v[0].line, 10, "%d: %s", errs.v[0].line, errs.v[0].msg);
	cr_assert(strstr(errs.v[0].msg, "web"), "%s", errs.v[0].msg);
	cr_assert_eq(errs.v[1].line, 13, "%d: %s", errs.v[1].line, errs.v[1].msg);
	cr_assert(strstr(errs.v[1].msg, "db"), "%s", errs.v[1].msg);
	cr_assert_eq(errs.v[2].line, 16, "%d: %s", errs.v[2].line, errs.v[2].msg);
	cr_assert(strstr(errs.v[2].msg, "Storage.WestEurope"), "%s", errs.v[2].msg);
}

Test(loader_errors, vms_each_reported)
{
	static const char text[] = HEAD "vms:\n"
					"  - {name: vm1, subnet: nowhere}\n"
					"  - {name: vm2, subnet: s, privateIpAddress: 10.1.1.300}\n"
					"  - {name: vm3, subnet: s, bogus: 1}\n";
	struct vl_lab *lab = NULL;

	cr_assert_eq(load(text, &lab), -EINVAL);
	cr_assert_eq(errs.n, 3, "%zu errors, first: %s", errs.n, errs.v[0].msg);
	for (size_t i = 0; i < 3; i++)
		cr_assert_eq(errs.v[i].line, 8 + (int)i, "error %zu at line %d: %s", i, errs.v[i].line, errs.v[i].msg);
}

Test(loader_errors, twenty_five_errors_give_twenty_and_more)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct vl_lab *lab = NULL;

	fputs(HEAD "networkSecurityGroups:\n  - name: n1\n    securityRules:\n", f);
	for (int i = 0; i < 25; i++)
		fprintf(f, RULE("r%d", "%d", "Inbound", "*", "80"), i, 5000 + i);
	fclose(f);
	cr_assert_eq(load(text, &lab), -EINVAL);
	cr_assert_eq(errs.n, VL_ERRORS_MAX);
	cr_assert(errs.more);
	for (size_t i = 0; i < errs.n; i++)
		cr_assert_eq(errs.v[i].line, 10 + (int)i, "error %zu at line %d", i, errs.v[i].line);
	free(text);
}

Test(loader_errors, the_first_error_alone_as_before)
{
	static const char text[] = HEAD "networkSecurityGroups:\n  - name: n1\n    securityRules:\n" RULE(
	    "r1", "100", "Inbound", "*", "99999") RULE("r2", "99", "Inbound", "*", "80");
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;

	cr_assert_eq(vl_load_buffer("t.yaml", text, strlen(text), &lab, &err), -EINVAL);
	cr_assert_eq(err.line, 10, "%d: %s", err.line, err.msg);
	cr_assert_eq(load(text, &lab), -EINVAL);
	cr_assert_eq(errs.n, 2);
	cr_assert_eq(errs.v[0].line, 10);
	cr_assert_eq(errs.v[1].line, 11);
}

Test(loader_errors, a_good_file_has_none)
{
	struct vl_lab *lab = NULL;

	cr_assert_eq(vl_load_file_all("topologies/kubenet-outbound.yaml", &lab, &errs), 0, "%s", errs.v[0].msg);
	cr_assert_eq(errs.n, 0);
	vl_lab_free(lab);
}

Test(loader_errors, a_file_that_cannot_be_read_is_one_error)
{
	struct vl_lab *lab = NULL;

	cr_assert_neq(vl_load_file_all("/nonexistent/x.yaml", &lab, &errs), 0);
	cr_assert_eq(errs.n, 1);
	cr_assert(strstr(errs.v[0].msg, "cannot read"), "%s", errs.v[0].msg);
}

/* `vnetlab validate` prints them, one located line each, then the note; exit 1 as before. */
Test(loader_errors, validate_prints_twenty_and_the_note)
{
	char *text = NULL, *path, *out;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int st, lines = 0;

	fputs(HEAD "networkSecurityGroups:\n  - name: n1\n    securityRules:\n", f);
	for (int i = 0; i < 25; i++)
		fprintf(f, RULE("r%d", "%d", "Inbound", "*", "80"), i, 5000 + i);
	fclose(f);
	path = th_write_temp(text);
	out = th_run(&st, "%s validate %s 2>&1", th_vnetlab(), path);
	cr_assert_eq(st, 1, "%s", out);
	for (char *p = out; (p = strstr(p, ": NSG n1: rule r")); p++)
		lines++;
	cr_expect_eq(lines, 20, "%d located errors: %s", lines, out);
	cr_expect(strstr(out, ":10:9: NSG n1: rule r0: priority 5000"), "the first, located: %s", out);
	cr_expect(strstr(out, "...and more"), "no note: %s", out);
	remove(path);
	free(path);
	free(out);
	free(text);
}
