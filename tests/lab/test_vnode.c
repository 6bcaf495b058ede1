// SPDX-License-Identifier: MIT
/*
 * The second article's cluster in real namespaces: its manifest (topologies/manifests/) applied to
 * an Azure CNI cluster with the virtual node (spec 17). The pods run where the affinities put
 * them; a virtual-node pod is a container group of the ACI subnet, which only that subnet's NSG
 * guards (never the node NIC's), and Services reach it through kube-proxy on the VM node. Every
 * probe is asked of the evaluator too: explain and the kernel must agree.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"

static const char *const topo_fmt =
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.72.0.0/16]\n"
    "    subnets:\n"
    "      - {name: aks, addressPrefix: 10.72.0.0/24}\n"
    "      - {name: aci, addressPrefix: 10.72.2.0/24, networkSecurityGroup: aci-nsg,\n"
    "         delegation: Microsoft.ContainerInstance/containerGroups}\n"
    "      - {name: jump, addressPrefix: 10.72.1.0/24}\n"
    "networkSecurityGroups:\n"
    "  - {name: node-nsg, securityRules: []}\n"
    "  - name: aci-nsg\n"
    "    securityRules:\n"
    "      - {name: allow-jump-http, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"
    "         sourceAddressPrefix: 10.72.1.0/24, sourcePortRange: '*', destinationAddressPrefix: '*',\n"
    "         destinationPortRange: '80'}\n"
    "      - {name: allow-aks, priority: 110, direction: Inbound, access: Allow, protocol: '*',\n"
    "         sourceAddressPrefix: 10.72.0.0/24, sourcePortRange: '*', destinationAddressPrefix: '*',\n"
    "         destinationPortRange: '*'}\n"
    "      - {name: deny-vnet, priority: 4000, direction: Inbound, access: Deny, protocol: '*',\n"
    "         sourceAddressPrefix: VirtualNetwork, sourcePortRange: '*', destinationAddressPrefix: '*',\n"
    "         destinationPortRange: '*'}\n"
    "aksClusters:\n"
    "  - name: kv\n"
    "    subnet: aks\n"
    "    networkPlugin: azure\n"
    "    kubernetesVersion: 1.12.7\n"
    "    nodeCount: 1\n"
    "    nodeNetworkSecurityGroup: node-nsg\n"
    "    virtualNode: {subnet: aci}\n"
    "    manifests: [%s/topologies/manifests/kuard-vnode.yaml, %s/topologies/manifests/aci-helloworld.yaml]\n"
    "vms: [{name: jumpbox, subnet: jump, app: echo, ports: [7]}]\n"
    "internet: {hosts: [{name: client}]}\n";

static void setup(void)
{
	char cwd[512], *body;

	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert(asprintf(&body, topo_fmt, cwd, cwd) > 0);
	th_lab_up("kv", body);
	free(body);
}

TestSuite(vnode, .init = setup, .fini = th_lab_down, .timeout = 120);

struct probe {
	char *result, *seen, *by, *rule;
};

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
	cr_assert_eq(!strcmp(acc, "delivered"), !strcmp(p.result, "connected"), "%s -> %s: kernel %s, explain %s",
		     from, to, p.result, ex);
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

/* `nsg rule VERB <lab> ARGS…` must succeed. */
static void edit(const char *verb, const char *args)
{
	int st;
	char *out = th_run(&st, "%s nsg rule %s %s %s 2>&1", th_vnetlab(), verb, th_lab.name, args);

	cr_assert_eq(st, 0, "nsg rule %s %s: %s", verb, args, out);
	free(out);
}

/* show -o json: the node of each pod, as the scheduler placed it. */
Test(vnode, pods_run_where_the_affinities_put_them)
{
	char *out = th_compact(th_run(NULL, "%s show %s -o json 2>&1", th_vnetlab(), th_lab.name)), *at;

	for (int i = 0; i < 2; i++) {
		char name[48];

		snprintf(name, sizeof(name), "\"name\":\"kuard-vnode-%d\"", i);
		at = strstr(out, name);
		cr_assert_not_null(at, "%s", out);
		at = strstr(at, "\"node\":");
		cr_assert(at && !strncmp(at, "\"node\":\"kv-node-0\"", 18),
			  "the preferred affinity keeps kuard on the VM node: %.200s", at);
	}
	at = strstr(out, "\"name\":\"aci-helloworld-0\"");
	cr_assert_not_null(at, "%s", out);
	at = strstr(at, "\"node\":");
	cr_assert(at && !strncmp(at, "\"node\":\"virtual-node-aci-linux\",\"virtualNode\":true", 50),
		  "the nodeSelector sends aci-helloworld to the virtual node: %.200s", at);
	free(out);
	/* and the kernel agrees: the container group has its own address in the ACI subnet */
	struct probe p = probe("aci-helloworld-0", "jumpbox:7");

	cr_assert_str_eq(p.result, "connected");
	cr_assert_str_eq(p.seen, "10.72.2.4");
	probe_free(&p);
	p = probe("kuard-vnode-1", "jumpbox:7");
	cr_assert_str_eq(p.result, "connected");
	cr_assert_str_eq(p.seen, "10.72.0.6", "an Azure CNI pod keeps its address in the VNet");
	probe_free(&p);
}

/* The node NIC's NSG stops the VM-node pods, not the container group; the subnet NSG stops it. */
Test(vnode, subnet_nsg_not_node_nsg_guards_a_virtual_node_pod)
{
	struct probe p = probe("jumpbox", "aci-helloworld-0:80");

	cr_assert_str_eq(p.result, "connected");
	probe_free(&p);
	edit("add", "node-nsg deny-jump --priority 100 --access Deny --source-address-prefixes 10.72.1.0/24 "
		    "--destination-port-ranges '*'");
	p = probe("jumpbox", "kuard-vnode-0:8080");
	cr_assert_str_eq(p.result, "dropped");
	cr_assert_str_eq(p.rule, "deny-jump");
	probe_free(&p);
	p = probe("jumpbox", "aci-helloworld-0:80");
	cr_assert_str_eq(p.result, "connected", "no node NIC stands before a container group");
	probe_free(&p);
	edit("set", "aci-nsg allow-jump-http --priority 4050");
	p = probe("jumpbox", "aci-helloworld-0:80");
	cr_assert_str_eq(p.result, "dropped");
	cr_assert_str_eq(p.rule, "deny-vnet", "the subnet NSG decides for the virtual-node pod");
	probe_free(&p);
	edit("set", "aci-nsg allow-jump-http --priority 100");
	p = probe("jumpbox", "aci-helloworld-0:80");
	cr_assert_str_eq(p.result, "connected");
	probe_free(&p);
}

/* kube-proxy on the VM node DNATs to the container group; the LB sends the Internet to kuard. */
Test(vnode, services_reach_virtual_node_pods_through_a_vm_node)
{
	struct probe p = probe("kuard-vnode-0", "aci-helloworld:80");

	cr_assert_str_eq(p.result, "connected");
	cr_assert_str_eq(p.by, "aci-helloworld-0");
	cr_assert_str_eq(p.seen, "10.72.0.5", "ClusterIP from a pod: no masquerade");
	probe_free(&p);
	edit("delete", "aci-nsg allow-aks");
	p = probe("kuard-vnode-0", "aci-helloworld:80");
	cr_assert_str_eq(p.result, "dropped", "after the DNAT, the ACI subnet's NSG sees the pod");
	cr_assert_str_eq(p.rule, "deny-vnet");
	probe_free(&p);
	p = probe("client", "kuard-vnode:8080");
	cr_assert_str_eq(p.result, "connected");
	cr_assert(!strcmp(p.by, "kuard-vnode-0") || !strcmp(p.by, "kuard-vnode-1"), "answered by %s", p.by);
	probe_free(&p);
}
