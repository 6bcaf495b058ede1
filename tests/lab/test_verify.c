// SPDX-License-Identifier: MIT
/*
 * `verify` on real labs: a lab with NSG allows and denies, a peering, an unjoined VNet, a
 * kubenet cluster and Internet hosts agrees with the evaluator on every flow; a rule changed in
 * the kernel behind vnetlab's back shows up as a disagreement; 300 pods; 20 labs with the same
 * addresses up at once stay apart.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"
#include "common/verify_lab.h"

static const char mixed[] = VERIFY_LAB;

static char *verify(const char *extra, int *status)
{
	return th_run(status, "%s verify %s %s -o json 2>&1", th_vnetlab(), th_lab.name, extra);
}

static void fini(void)
{
	th_lab_down();
}

TestSuite(verify_lab, .fini = fini, .timeout = 600);

Test(verify_lab, mixed_lab_agrees)
{
	char *out, *v;
	int st;

	th_lab_up("vfm", mixed);
	out = verify("", &st);
	v = th_json_get(out, "disagreements");
	cr_expect_str_eq(v, "0", "%s", out);
	free(v);
	v = th_json_get(out, "flows");
	cr_expect_str_eq(v, "209", "%s", out); /* as test_verify (unit) counts them */
	free(v);
	v = th_json_get(out, "dropped");
	cr_expect_neq(atoi(v), 0, "%s", out);
	free(v);
	v = th_json_get(out, "unreachable");
	cr_expect_neq(atoi(v), 0, "%s", out);
	free(v);
	v = th_json_get(out, "timeout");
	cr_expect_neq(atoi(v), 0, "%s", out);
	free(v);
	cr_expect_eq(st, 0, "%s", out);
	free(out);
	/* --from/--to restrict it */
	out = verify("--from web1 --to app1", &st);
	v = th_json_get(out, "flows");
	cr_expect_str_eq(v, "4", "%s", out);
	free(v);
	cr_expect_eq(st, 0, "%s", out);
	free(out);
}

/*
 * 100 VMs behind an NSG that denies every flow between them: 9,900 drops at once. Each is known
 * from its drop record, none from a timeout: the log limits give each pair of addresses its own
 * bucket (one bucket for the fabric starved all past the first 5,000), and the agent sends a
 * watcher its records a batch a message (one a message overran the watcher's socket).
 */
Test(verify_lab, every_flow_denied_is_attributed)
{
	char lab[8192], *out, *v;
	int st, off;

	off = snprintf(lab, sizeof(lab),
		       "vnets: [{name: v, addressSpace: [10.64.0.0/16], subnets: [{name: s, addressPrefix: "
		       "10.64.0.0/20, networkSecurityGroup: n}]}]\n"
		       "networkSecurityGroups:\n"
		       "  - name: n\n"
		       "    securityRules:\n"
		       "      - {name: deny-vnet, priority: 100, direction: Inbound, access: Deny, protocol: '*',\n"
		       "         sourceAddressPrefix: VirtualNetwork, sourcePortRange: '*', destinationAddressPrefix: "
		       "'*', destinationPortRange: '*'}\n"
		       "vms:\n");
	for (int i = 0; i < 100; i++)
		off += snprintf(lab + off, sizeof(lab) - (size_t)off, "  - {name: vm%d, subnet: s, app: hello, ports: [80]}\n",
				i);
	cr_assert_lt((size_t)off, sizeof(lab));
	th_lab_up("vfd", lab);
	out = verify("", &st);
	v = th_json_get(out, "flows");
	cr_expect_str_eq(v, "9900", "%s", out);
	free(v);
	v = th_json_get(out, "dropped");
	cr_expect_str_eq(v, "9900", "every drop attributed: %s", out);
	free(v);
	v = th_json_get(out, "retried");
	cr_expect_str_eq(v, "0", "no flow waited for a record that never came: %s", out);
	free(v);
	v = th_json_get(out, "disagreements");
	cr_expect_str_eq(v, "0", "%.2000s", out);
	free(v);
	cr_expect_eq(st, 0, "%.2000s", out);
	free(out);
}

Test(verify_lab, kernel_changed_behind_its_back)
{
	char *out, *v;
	int st;

	th_lab_up("vfk", "vnets: [{name: v, addressSpace: [10.61.0.0/16], subnets: [{name: s, addressPrefix: "
			 "10.61.1.0/24, networkSecurityGroup: n}]}]\n"
			 "networkSecurityGroups:\n"
			 "  - name: n\n"
			 "    securityRules:\n"
			 "      - {name: deny-http, priority: 100, direction: Inbound, access: Deny, protocol: Tcp,\n"
			 "         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"
			 "         destinationPortRange: '80'}\n"
			 "vms:\n"
			 "  - {name: vm1, subnet: s, app: hello, ports: [80]}\n"
			 "  - {name: vm2, subnet: s, app: hello, ports: [80]}\n");
	out = verify("", &st);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	/* an accept before the NSG stages, put there with nft rather than vnetlab */
	free(th_run(&st, "ip netns exec vl-%s-fabric.v nft insert rule ip vnetlab forward tcp dport 80 accept 2>&1",
		    th_lab.name));
	cr_assert_eq(st, 0);
	out = verify("", &st);
	cr_expect_eq(st, 1, "%s", out);
	v = th_json_get(out, "disagreements");
	cr_expect_str_eq(v, "2", "%s", out);
	free(v);
	cr_expect(strstr(th_compact(out), "\"explain\":{\"outcome\":\"denied\""), "%s", out);
	cr_expect(strstr(out, "\"kernel\":{\"result\":\"connected\""), "%s", out);
	free(out);
	out = th_run(&st, "%s verify %s 2>&1", th_vnetlab(), th_lab.name);
	cr_expect(strstr(out, "DISAGREE  vm1 -> vm2"), "%s", out);
	cr_expect(strstr(out, "explain: denied (Deny n/deny-http)"), "%s", out);
	free(out);
}

Test(verify_lab, three_hundred_pods)
{
	char *out, *v, *left;
	int st;

	th_lab_up("vfp", "vnets: [{name: v, addressSpace: [10.62.0.0/16], subnets: [{name: aks, addressPrefix: "
			 "10.62.1.0/24}]}]\n"
			 "aksClusters:\n"
			 "  - {name: k, subnet: aks, networkPlugin: kubenet, nodeCount: 3,\n"
			 "     pods: [{name: p, replicas: 300, app: hello, ports: [80]}]}\n");
	out = verify("", &st);
	v = th_json_get(out, "flows");
	cr_expect_str_eq(v, "90600", "%s", out); /* 300 targets x 302 sources */
	free(v);
	v = th_json_get(out, "disagreements");
	cr_expect_str_eq(v, "0", "%.2000s", out);
	free(v);
	cr_expect_eq(st, 0, "%.2000s", out);
	free(out);
	th_lab_down();
	left = th_run(NULL, "ls /run/netns | grep -c '^vl-vfp' || true");
	cr_expect_str_eq(left, "0\n");
	free(left);
}

#define N_LABS 20

/* 20 labs of the same addresses, up at once: each reaches its own VMs and only those. */
Test(verify_lab, twenty_labs_side_by_side)
{
	char names[N_LABS][16], *files[N_LABS], cmd[8192], *out, *before, *after;
	size_t n = 0;
	int st;

	if (!th_is_root())
		cr_skip_test("needs root");
	before = th_root_snapshot();
	for (int k = 0; k < N_LABS; k++) {
		char *text;

		snprintf(names[k], sizeof(names[k]), "w%02u%u", (unsigned)k % 100u, (unsigned)getpid() % 100000u);
		cr_assert(asprintf(&text,
				   "name: %s\n"
				   "vnets: [{name: v, addressSpace: [10.63.0.0/16], subnets: [{name: s, addressPrefix: "
				   "10.63.1.0/24}]}]\n"
				   "vms:\n"
				   "  - {name: l%dvm0, subnet: s, app: hello, ports: [80]}\n"
				   "  - {name: l%dvm1, subnet: s, app: hello, ports: [80]}\n"
				   "  - {name: l%dvm2, subnet: s, app: echo, ports: [7]}\n"
				   "internet: {hosts: [{name: l%dweb, app: hello, ports: [80]}]}\n",
				   names[k], k, k, k, k) > 0);
		files[k] = th_write_temp(text);
		free(text);
	}
	for (int k = 0; k < N_LABS; k++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s up %s >/dev/null 2>&1 & ", th_vnetlab(), files[k]);
	snprintf(cmd + n, sizeof(cmd) - n, "wait");
	free(th_run(&st, "%s", cmd));
	for (int k = 0; k < N_LABS; k++) {
		char *v, want[32];
		int other = (k + 1) % N_LABS;

		out = th_run(&st, "%s verify %s -o json 2>&1", th_vnetlab(), names[k]);
		v = th_json_get(out, "flows");
		cr_expect_str_eq(v, "15", "lab %s: %s", names[k], out); /* 5 target flows (hello 1, echo 2) x 3 sources */
		free(v);
		v = th_json_get(out, "disagreements");
		cr_expect_str_eq(v, "0", "lab %s: %s", names[k], out);
		free(v);
		free(out);
		/* the same address in every lab: this lab's VM answers, never the neighbour lab's */
		out = th_run(&st, "ip netns exec vl-%s-l%dvm0 curl -s --max-time 3 http://10.63.1.5/ 2>&1", names[k], k);
		snprintf(want, sizeof(want), "l%dvm1", k);
		cr_expect(strstr(out, want), "lab %s: %s", names[k], out);
		snprintf(want, sizeof(want), "l%dvm1", other);
		cr_expect(!strstr(out, want) || other == k, "lab %s reached lab %d: %s", names[k], other, out);
		free(out);
	}
	n = 0;
	for (int k = 0; k < N_LABS; k++)
		n += (size_t)snprintf(cmd + n, sizeof(cmd) - n, "%s down %s >/dev/null 2>&1 & ", th_vnetlab(), names[k]);
	snprintf(cmd + n, sizeof(cmd) - n, "wait");
	free(th_run(&st, "%s", cmd));
	for (int k = 0; k < N_LABS; k++) {
		out = th_run(NULL, "ls /run/netns | grep -c '^vl-%s-' || true", names[k]);
		cr_expect_str_eq(out, "0\n", "lab %s left namespaces", names[k]);
		free(out);
		unlink(files[k]);
		free(files[k]);
	}
	after = th_root_snapshot();
	cr_expect_str_eq(after, before, "the root namespace changed");
	free(after);
	free(before);
}
