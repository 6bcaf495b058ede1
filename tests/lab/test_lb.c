// SPDX-License-Identifier: MIT
/*
 * Public IPs, outbound SNAT and LoadBalancer Services in real namespaces (spec 14, 15, 19.4):
 * what the Internet and the pods see, and how NSG edits take the frontend's path and backends
 * away. Every flow is also asked of the evaluator: explain and the kernel must agree.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/helpers.h"

static const char *const topo =
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.71.0.0/16]\n"
    "    subnets:\n"
    "      - {name: aks, addressPrefix: 10.71.0.0/24}\n"
    "      - {name: pip, addressPrefix: 10.71.1.0/24}\n"
    "      - name: nat\n"
    "        addressPrefix: 10.71.2.0/24\n"
    "        natGateway: {name: ngw, publicIpAddresses: [198.51.100.101]}\n"
    "networkSecurityGroups:\n"
    "  - name: vmnsg\n"
    "    securityRules:\n"
    "      - {name: echo-by-private, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"
    "         sourceAddressPrefix: Internet, sourcePortRange: '*', destinationAddressPrefix: 10.71.1.10,\n"
    "         destinationPortRange: '7'}\n"
    "aksClusters:\n"
    "  - name: k\n"
    "    subnet: aks\n"
    "    networkPlugin: azure\n"
    "    nodeCount: 2\n"
    "    outboundIp: 198.51.100.102\n"
    "    pods:\n"
    "      - {name: a, replicas: 2, app: hello, ports: [8080]}\n"
    "      - {name: l, node: 1, app: hello, ports: [8080]}\n"
    "    services:\n"
    "      - {name: web, type: LoadBalancer, selector: a, port: 80, targetPort: 8080, loadBalancerIP: "
    "198.51.100.110}\n"
    "      - {name: loc, type: LoadBalancer, selector: l, port: 81, targetPort: 8080, loadBalancerIP: "
    "198.51.100.111,\n"
    "         externalTrafficPolicy: Local}\n"
    "      - {name: inner, selector: a, port: 90, targetPort: 8080}\n"
    "vms:\n"
    "  - {name: vm, subnet: pip, privateIpAddress: 10.71.1.10, publicIpAddress: 198.51.100.100,\n"
    "     networkSecurityGroup: vmnsg, app: echo, ports: [7]}\n"
    "  - {name: natvm, subnet: nat}\n"
    "internet:\n"
    "  hosts:\n"
    "    - {name: srv, address: 203.0.113.50, app: echo, ports: [7]}\n"
    "    - {name: client, address: 203.0.113.60}\n";

#define WEB_RULE "k8s-azure-lb_allow_IPv4_d39272f7f57ed937951650d93992ad77" /* Tcp_Internet_80 */

static void setup(void)
{
	th_lab_up("tlb", topo);
	/* Under load the first SYNs right after `up` are sometimes lost in the fabric (seen on the
	 * shared 2-core machine, cause not found yet): wait until one flow to the Internet works. */
	for (int i = 0; i < 5; i++) {
		int st;
		char *out = th_run(&st, "%s probe %s vm srv:7 --timeout 1000 >/dev/null 2>&1", th_vnetlab(), th_lab.name);

		free(out);
		if (st == 0)
			break;
	}
}

TestSuite(lb, .init = setup, .fini = th_lab_down, .timeout = 90);

struct probe {
	char *result, *seen, *by, *rule;
};

/* probe FROM TO, and explain must say the same (Allow iff connected). */
static struct probe probe(const char *from, const char *to)
{
	struct probe p;
	char *out = th_run(NULL, "%s probe %s %s %s -o json 2>&1", th_vnetlab(), th_lab.name, from, to), *ex,
	     *acc;

	p.result = th_json_get(out, "result");
	p.seen = th_json_get(out, "seenSource");
	p.by = th_json_get(out, "answeredBy");
	p.rule = th_json_get(out, "rule");
	free(out);
	ex = th_run(NULL, "%s explain %s %s %s -o json 2>&1", th_vnetlab(), th_lab.name, from, to);
	acc = th_json_get(ex, "outcome");
	cr_assert_eq(!strcmp(acc, "delivered"), !strcmp(p.result, "connected"),
		     "%s -> %s: kernel %s, explain %s", from, to, p.result, ex);
	free(acc);
	free(ex);
	return p;
}

static void probe_free(struct probe *p)
{
	free(p->result);
	free(p->seen);
	free(p->by);
	free(p->rule);
}

Test(lb, internet_to_cluster_frontend_reaches_a_pod_seen_from_a_node)
{
	struct probe p = probe("client", "web:80");

	cr_assert_str_eq(p.result, "connected");
	cr_assert(!strcmp(p.seen, "10.71.0.4") || !strcmp(p.seen, "10.71.0.5"),
		  "Cluster masquerades to a node: saw %s", p.seen);
	cr_assert(!strcmp(p.by, "a-0") || !strcmp(p.by, "a-1"), "answered by %s", p.by);
	probe_free(&p);
}

Test(lb, internet_to_local_frontend_keeps_the_client_address)
{
	struct probe p = probe("client", "198.51.100.111:81");

	cr_assert_str_eq(p.result, "connected");
	cr_assert_str_eq(p.seen, "203.0.113.60", "Local keeps the client address");
	cr_assert_str_eq(p.by, "l");
	probe_free(&p);
}

Test(lb, internet_to_pod_or_node_address_does_not_connect)
{
	struct probe p = probe("client", "a-0:8080"), q = probe("client", "k-node-0:30000");

	cr_assert_str_neq(p.result, "connected");
	cr_assert_str_neq(q.result, "connected");
	probe_free(&p);
	probe_free(&q);
}

Test(lb, pod_to_internet_is_seen_with_the_cluster_outbound_ip)
{
	struct probe p = probe("a-0", "srv:7");

	cr_assert_str_eq(p.result, "connected");
	cr_assert_str_eq(p.seen, "198.51.100.102");
	probe_free(&p);
}

Test(lb, vm_with_public_ip_is_seen_with_it_and_reachable_by_its_private_nsg_rule)
{
	struct probe p = probe("vm", "srv:7"), q = probe("client", "198.51.100.100:7");

	cr_assert_str_eq(p.result, "connected");
	cr_assert_str_eq(p.seen, "198.51.100.100");
	cr_assert_str_eq(q.result, "connected", "the NSG rule names the private destination");
	cr_assert_str_eq(q.seen, "203.0.113.60");
	probe_free(&p);
	probe_free(&q);
}

Test(lb, nat_gateway_subnet_is_seen_with_the_gateway_address)
{
	struct probe p = probe("natvm", "srv:7"), q = probe("client", "198.51.100.101:7");

	cr_assert_str_eq(p.result, "connected");
	cr_assert_str_eq(p.seen, "198.51.100.101");
	cr_assert_str_neq(q.result, "connected", "a NAT gateway admits no unsolicited inbound");
	probe_free(&p);
	probe_free(&q);
}

Test(lb, pod_to_cluster_ip_reaches_a_pod)
{
	struct probe p = probe("l", "inner:90");

	cr_assert_str_eq(p.result, "connected");
	cr_assert_str_eq(p.seen, "10.71.0.8", "no masquerade inside the cluster: the pod's own address");
	probe_free(&p);
}

Test(lb, deleting_the_generated_rule_drops_the_next_connection_by_deny_all_inbound)
{
	int st;
	char *out = th_run(&st, "%s nsg rule delete %s aks-agentpool-k-nsg " WEB_RULE " 2>&1", th_vnetlab(),
			   th_lab.name);
	struct probe p;

	cr_assert_eq(st, 0, "%s", out);
	free(out);
	p = probe("client", "web:80");
	cr_assert_str_eq(p.result, "dropped");
	cr_assert_str_eq(p.rule, "DenyAllInBound");
	probe_free(&p);
}

Test(lb, a_deny_of_the_probe_source_takes_the_backends_out)
{
	int st;
	char *out = th_run(
	    &st,
	    "%s nsg rule add %s aks-agentpool-k-nsg no-probe --priority 400 --access Deny "
	    "--direction Inbound --protocol '*' --source 168.63.129.16 --destination '*' --port '*' 2>&1",
	    th_vnetlab(), th_lab.name);
	struct probe p;

	cr_assert_eq(st, 0, "%s", out);
	free(out);
	p = probe("client", "web:80");
	cr_assert_str_eq(p.result, "timeout", "no healthy backend: the frontend takes no new flow");
	probe_free(&p);
	out = th_run(NULL, "%s show %s 2>&1", th_vnetlab(), th_lab.name);
	cr_assert(strstr(out, "no-probe"), "show names the rule that fails the probe: %s", out);
	free(out);
}
