// SPDX-License-Identifier: MIT
/*
 * The AzurePlatform* tags on a real lab (root; spec 19.4, docs/nsg-semantics.md): a VM's DNS query
 * to 168.63.129.16 passes a Deny-all outbound rule, is dropped in the fabric once a live edit adds
 * a Deny AzurePlatformDNS rule (the probe names the rule from the agent's NFLOG, explain agrees),
 * other NICs keep resolving, and deleting the rule removes its platform chain. `dig` and `nft` are
 * the witnesses.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"

static const char topo[] =
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.61.0.0/16]\n"
    "    subnets:\n"
    "      - {name: a, addressPrefix: 10.61.1.0/24, networkSecurityGroup: sub-nsg}\n"
    "networkSecurityGroups:\n"
    "  - name: nic-nsg\n"
    "    securityRules:\n"
    "      - {name: deny-all-out, priority: 200, direction: Outbound, access: Deny, protocol: \"*\",\n"
    "         sourceAddressPrefix: \"*\", sourcePortRange: \"*\", destinationAddressPrefix: \"*\",\n"
    "         destinationPortRange: \"*\"}\n"
    "  - name: sub-nsg\n"
    "    securityRules: []\n"
    "vms:\n"
    "  - {name: pv1, subnet: a, networkSecurityGroup: nic-nsg}\n"
    "  - {name: pv2, subnet: a}\n";

static void setup(void)
{
	th_lab_up("pf", topo);
}

TestSuite(platform_lab, .init = setup, .fini = th_lab_down, .timeout = 90);

/* dig's short answer for NAME asked of 168.63.129.16 from endpoint FROM over UDP. */
static char *dig(const char *from, const char *name)
{
	return th_run(NULL, "%s exec %s %s -- dig +short +time=1 +tries=1 @168.63.129.16 %s 2>&1", th_vnetlab(),
		      th_lab.name, from, name);
}

/* `vnetlab nsg rule VERB <lab> nic-nsg no-dns ARGS` */
static char *rule(int *st, const char *verb, const char *args)
{
	return th_run(st, "%s nsg rule %s %s nic-nsg no-dns %s 2>&1", th_vnetlab(), verb, th_lab.name, args);
}

static char *fabric_table(void)
{
	return th_run(NULL, "ip netns exec vl-%s-fabric.v nft list table ip vnetlab 2>&1", th_lab.name);
}

Test(platform_lab, deny_azure_platform_dns_blocks_dns_and_probe_and_explain_agree)
{
	char *out, *json, *table;
	int st;

	/* the Deny * does not apply: platform traffic bypasses NSGs */
	out = dig("pv1", "pv2");
	cr_assert_str_eq(out, "10.61.1.5\n", "DNS before any platform rule: %s", out);
	free(out);
	json = th_explain("pv1", "168.63.129.16", 53, "udp");
	th_assert_key(json, "access", "Allow", "explain before the rule");
	cr_expect(strstr(json, "no rule names an AzurePlatform tag: platform traffic bypasses NSGs"), "%s", json);
	free(json);

	out = rule(&st, "add",
		   "--priority 100 --direction Outbound --access Deny "
		   "--destination-address-prefixes AzurePlatformDNS --destination-port-ranges 53");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	table = fabric_table();
	cr_expect(strstr(table, "\"n0\" : jump plat-nic-nsg"), "%s", table);
	cr_expect(strstr(table, "ip daddr 168.63.129.16 th dport 53 meta mark set"), "%s", table);
	free(table);

	out = dig("pv1", "pv2");
	cr_expect(strstr(out, "timed out") || strstr(out, "no servers could be reached"),
		  "DNS from pv1 after the Deny AzurePlatformDNS rule: %s", out);
	free(out);
	out = dig("pv2", "pv1");
	cr_expect_str_eq(out, "10.61.1.4\n", "pv2's NIC has no such rule: %s", out);
	free(out);

	json = th_probe("pv1", "168.63.129.16", 53, "udp", 1000);
	th_assert_key(json, "result", "dropped", "probe");
	th_assert_key(json, "nsg", "nic-nsg", "probe");
	th_assert_key(json, "rule", "no-dns", "probe");
	free(json);
	json = th_explain("pv1", "168.63.129.16", 53, "udp");
	th_assert_key(json, "access", "Deny", "explain");
	th_assert_key(json, "nsg", "nic-nsg", "explain");
	th_assert_key(json, "rule", "no-dns", "explain");
	free(json);
	/* TCP 80 to 168.63.129.16 is not the DNS service: the bypass still holds for it */
	json = th_explain("pv1", "168.63.129.16", 80, "tcp");
	th_assert_key(json, "access", "Allow", "explain tcp/80");
	free(json);

	out = rule(&st, "delete", "");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	out = dig("pv1", "pv2");
	cr_expect_str_eq(out, "10.61.1.5\n", "DNS after deleting the rule: %s", out);
	free(out);
	table = fabric_table();
	cr_expect_not(strstr(table, "plat-nic-nsg"), "the chain goes with the NSG's last platform rule:\n%s",
		      table);
	free(table);
}
