// SPDX-License-Identifier: MIT
/*
 * Lab tests of the foundation through the CLI: up → probe → down, the root
 * namespace unchanged. Each test has its own lab name and removes it in .fini.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"
#include "vnetlab/state.h"

static const char *const topo = "vnets:\n"
				"  - name: v\n"
				"    addressSpace: [10.61.0.0/16]\n"
				"    subnets:\n"
				"      - name: vms\n"
				"        addressPrefix: 10.61.1.0/24\n"
				"      - name: aci\n"
				"        addressPrefix: 10.61.2.0/24\n"
				"        delegation: Microsoft.ContainerInstance/containerGroups\n"
				"vms:\n"
				"  - name: vm1\n"
				"    subnet: vms\n"
				"    app: echo\n"
				"    ports: [7]\n"
				"containerGroups:\n"
				"  - name: cg\n"
				"    subnet: aci\n"
				"    app: hello\n"
				"    ports: [80]\n";

static void setup(void)
{
	th_lab_write("tf", topo);
}

TestSuite(foundation, .init = setup, .fini = th_lab_down, .timeout = 60);

static char *vl(int *st, const char *args)
{
	return th_run(st, "%s %s 2>&1", th_vnetlab(), args);
}

Test(foundation, up_probe_down_leaves_host_untouched)
{
	char cmd[512], *out, *v, *after;
	int st;

	snprintf(cmd, sizeof(cmd), "up %s", th_lab.file);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "up failed: %s", out);
	free(out);

	/* a second up of the same lab is refused and changes nothing */
	out = vl(&st, cmd);
	cr_assert_neq(st, 0);
	cr_assert(strstr(out, "already up"), "%s", out);
	free(out);

	snprintf(cmd, sizeof(cmd), "probe %s vm1 cg:80 -o json", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "%s", out);
	v = th_json_get(out, "result");
	cr_assert_str_eq(v, "connected", "%s", out);
	free(v);
	v = th_json_get(out, "seenSource");
	cr_assert_str_eq(v, "10.61.1.4", "the hello app saw the VM: %s", out);
	free(v);
	free(out);

	snprintf(cmd, sizeof(cmd), "probe %s vm1 cg:81 -o json", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 1);
	v = th_json_get(out, "result");
	cr_assert_str_eq(v, "refused", "%s", out);
	free(v);
	free(out);

	/* curl, an independent client, inside the namespace as iproute2 sees it */
	out = th_run(&st, "ip netns exec vl-%s-vm1 curl -s --max-time 3 http://10.61.2.4/", th_lab.name);
	cr_assert(strstr(out, "10.61.1.4"), "curl got: %s", out);
	free(out);

	snprintf(cmd, sizeof(cmd), "down %s", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "down is idempotent: %s", out);
	free(out);
	out = th_run(NULL, "ls /run/netns | grep '^vl-%s-' || true", th_lab.name);
	cr_assert_str_eq(out, "", "namespaces left: %s", out);
	free(out);
	out = th_run(NULL, "ls -a /run/vnetlab | grep -F '%s' || true", th_lab.name);
	cr_assert_str_eq(out, "", "state or lock file left in /run/vnetlab: %s", out);
	free(out);
	after = th_root_snapshot();
	cr_assert_str_eq(th_lab.before, after, "the root namespace changed");
	free(after);
}

Test(foundation, down_finishes_a_half_built_lab)
{
	char cmd[512], *out;
	int st;

	/* SIGKILL the up as soon as its state exists: down must still remove everything */
	out = th_run(&st,
		     "%s up %s >/dev/null 2>&1 & pid=$!; "
		     "for i in $(seq 200); do [ -s /run/vnetlab/%s/namespaces ] && break; sleep 0.005; done; "
		     "kill -9 $pid; wait $pid 2>/dev/null; echo killed",
		     th_vnetlab(), th_lab.file, th_lab.name);
	free(out);
	/* killed before its agent started: ls says the lab is broken */
	out = th_run(&st, "%s ls | awk '$1 == \"%s\" {print $2}'", th_vnetlab(), th_lab.name);
	cr_assert(!strcmp(out, "broken\n") || !strcmp(out, "up\n"), "ls: '%s'", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "down %s", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	out = th_run(NULL, "ls /run/netns | grep '^vl-%s-' || true; ls -d /run/vnetlab/%s 2>/dev/null",
		     th_lab.name, th_lab.name);
	cr_assert_str_eq(out, "", "left: %s", out);
	free(out);
}

Test(foundation, udp_icmp_and_exec)
{
	char cmd[512], *out, *v;
	int st;

	snprintf(cmd, sizeof(cmd), "up %s", th_lab.file);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "up failed: %s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "probe %s cg vm1:7 --proto udp -o json", th_lab.name);
	out = vl(&st, cmd);
	v = th_json_get(out, "seenSource");
	cr_assert_str_eq(v, "10.61.2.4", "udp echo saw the container group: %s", out);
	free(v);
	free(out);
	snprintf(cmd, sizeof(cmd), "probe %s vm1 cg --proto icmp", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "icmp: %s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "exec %s vm1 -- cat /proc/net/dev", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0);
	cr_assert(strstr(out, "eth0"), "exec runs inside the VM: %s", out);
	free(out);
}

Test(foundation, up_leaves_a_namespace_it_did_not_make_alone)
{
	char cmd[512], *out;
	int st;

	th_skip_rootless("a rootless lab's /run/netns is its own: nobody else's namespace can hold one of its names");
	/* someone else's namespace with the name one of the lab's would get */
	free(th_run(&st, "ip netns add vl-%s-cg", th_lab.name));
	cr_assert_eq(st, 0);
	snprintf(cmd, sizeof(cmd), "up %s", th_lab.file);
	out = vl(&st, cmd);
	cr_assert_eq(st, 1, "%s", out);
	cr_assert(strstr(out, "vl-"), "%s", out);
	cr_assert(strstr(out, "already exists"), "the refusal names the namespace: %s", out);
	free(out);
	out = th_run(NULL, "ls /run/netns | grep '^vl-%s-' | tr '\\n' ' '; ls -d /run/vnetlab/%s 2>/dev/null",
		     th_lab.name, th_lab.name);
	cr_assert(strstr(out, "-cg "), "the other namespace is intact: %s", out);
	cr_assert(!strstr(out, "-fabric"), "nothing of the lab was built: %s", out);
	cr_assert(!strstr(out, "/run/vnetlab"), "no state left: %s", out);
	free(out);
	snprintf(cmd, sizeof(cmd), "down %s", th_lab.name);
	free(vl(&st, cmd));
	out = th_run(&st, "ip netns list | grep -c '^vl-%s-cg'", th_lab.name);
	cr_assert_str_eq(out, "1\n", "down did not touch it");
	free(out);
	free(th_run(NULL, "ip netns del vl-%s-cg", th_lab.name));
}

Test(foundation, a_name_taken_meanwhile_is_forgotten_not_deleted)
{
	struct vl_strv ns = {0};
	char a[96], b[96];

	/* what apply does when creating a recorded name fails with EEXIST */
	snprintf(a, sizeof(a), "vl-%s-fabric", th_lab.name);
	snprintf(b, sizeof(b), "vl-%s-cg", th_lab.name);
	cr_assert_eq(vl_state_create(th_lab.name, th_lab.file, "x", 1, NULL), 0);
	cr_assert_eq(vl_state_record_ns(th_lab.name, a), 0);
	cr_assert_eq(vl_state_record_ns(th_lab.name, b), 0);
	cr_assert_eq(vl_state_forget_ns(th_lab.name, b), 0);
	cr_assert_eq(vl_state_list_ns(th_lab.name, &ns, NULL), 0);
	cr_assert_eq(ns.n, 1);
	cr_assert_str_eq(ns.v[0], a);
	vl_strv_free(&ns);
	cr_assert_eq(vl_state_remove(th_lab.name), 0);
	cr_assert_not(vl_state_exists(th_lab.name));
}

/* Platform DNS and unreachable routes through the CLI, with NSGs that deny everything. */
static const char *const topo_platform =
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.66.0.0/16]\n"
    "    subnets:\n"
    "      - {name: s, addressPrefix: 10.66.1.0/24, networkSecurityGroup: closed}\n"
    "networkSecurityGroups:\n"
    "  - name: closed\n"
    "    securityRules:\n"
    "      - {name: deny-out, priority: 100, direction: Outbound, access: Deny, protocol: '*', "
    "sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: '*'}\n"
    "      - {name: deny-in, priority: 100, direction: Inbound, access: Deny, protocol: '*', "
    "sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*', destinationPortRange: '*'}\n"
    "vms:\n"
    "  - {name: vm1, subnet: s, app: echo, ports: [7]}\n"
    "  - {name: vm2, subnet: s, app: echo, ports: [7]}\n"
    "checks:\n"
    "  - {name: no-way-there, from: vm1, to: 10.66.9.9, port: 80, expect: deny}\n";

static void setup_platform(void)
{
	th_lab_write("tp", topo_platform);
}

TestSuite(platform, .init = setup_platform, .fini = th_lab_down, .timeout = 60);

Test(platform, dns_whatever_the_nsgs_and_unreachable)
{
	char cmd[512], *out, *v;
	int st;

	snprintf(cmd, sizeof(cmd), "up %s", th_lab.file);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "up failed: %s", out);
	free(out);

	/* the NSG is there: VM to VM is dropped */
	snprintf(cmd, sizeof(cmd), "probe %s vm1 vm2:7 -o json", th_lab.name);
	out = vl(&st, cmd);
	v = th_json_get(out, "result");
	cr_assert_str_eq(v, "dropped", "%s", out);
	free(v);
	free(out);

	/* Azure-provided DNS is not: a UDP probe to 53 is a DNS query, answered */
	snprintf(cmd, sizeof(cmd), "probe %s vm1 168.63.129.16:53 --proto udp -o json", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "%s", out);
	v = th_json_get(out, "result");
	cr_assert_str_eq(v, "connected", "%s", out);
	free(v);
	v = th_json_get(out, "seenSource");
	cr_assert(!strcmp(v, "") || !strcmp(v, "null"), "no client address from DNS: %s", out);
	free(v);
	free(out);
	out = th_run(&st, "ip netns exec vl-%s-vm1 dig +short +time=1 +tries=1 @168.63.129.16 -q vm2 2>&1",
		     th_lab.name);
	cr_assert_str_eq(out, "10.66.1.5\n", "%s", out);
	free(out);
	out = th_run(&st,
		     "ip netns exec vl-%s-vm2 dig +tcp +short +time=1 +tries=1 @168.63.129.16 "
		     "VM1.internal.cloudapp.net 2>&1",
		     th_lab.name);
	cr_assert_str_eq(out, "10.66.1.4\n", "over TCP: %s", out);
	free(out);

	/* an unreachable route in the VM: the probe says so, and a check counts it as deny */
	free(th_run(&st, "ip -n vl-%s-vm1 route add unreachable 10.66.9.0/24", th_lab.name));
	cr_assert_eq(st, 0);
	snprintf(cmd, sizeof(cmd), "probe %s vm1 10.66.9.9:80 -o json", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 1, "%s", out);
	v = th_json_get(out, "result");
	cr_assert_str_eq(v, "unreachable", "%s", out);
	free(v);
	free(out);
	snprintf(cmd, sizeof(cmd), "check %s", th_lab.name);
	out = vl(&st, cmd);
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "PASS  no-way-there") && strstr(out, "unreachable"), "%s", out);
	free(out);
}
