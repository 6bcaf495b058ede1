// SPDX-License-Identifier: MIT
/*
 * The evaluator against spec §2–3, §5–7: one table row per Azure behaviour.
 * The lab is built in C (no loader) and resolved with vl_lab_resolve().
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/effective.h"
#include "vnetlab/eval.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/model.h"

/* ---- building a lab by hand ---- */

#define GROW(arr, n)                                                                                         \
	do {                                                                                                 \
		arr = realloc(arr, ((n) + 1) * sizeof(*(arr)));                                              \
		cr_assert(arr);                                                                              \
		memset(&(arr)[n], 0, sizeof(*(arr)));                                                        \
	} while (0)

static struct vl_prefix P(const char *s) {
	struct vl_prefix p;

	cr_assert_eq(vl_prefix_parse(s, true, &p), 0, "bad prefix %s", s);
	return p;
}

static uint32_t
IP(const char *s)
{
	uint32_t ip;

	cr_assert_eq(vl_ip_parse(s, &ip), 0, "bad ip %s", s);
	return ip;
}

/* A field with a space is a plural list, otherwise the singular. */
static void field(char **sing, struct vl_strv *plur, const char *v)
{
	if (!v)
		return;
	if (!strchr(v, ' ')) {
		*sing = strdup(v);
		return;
	}
	char *tmp = strdup(v), *save = NULL;

	for (char *t = strtok_r(tmp, " ", &save); t; t = strtok_r(NULL, " ", &save))
		vl_strv_push(plur, t);
	free(tmp);
}

static int nsg_add(struct vl_lab *lab, const char *name)
{
	GROW(lab->nsgs, lab->n_nsgs);
	lab->nsgs[lab->n_nsgs].name = strdup(name);
	return (int)lab->n_nsgs++;
}

static void rule_add(struct vl_lab *lab, int nsg, const char *name, int pri, enum vl_dir dir,
		     enum vl_access acc, enum vl_proto proto, const char *src, const char *sport,
		     const char *dst, const char *dport)
{
	struct vl_nsg *g = &lab->nsgs[nsg];
	struct vl_rule *r;

	GROW(g->rules, g->n_rules);
	r = &g->rules[g->n_rules++];
	r->name = strdup(name);
	r->priority = pri;
	r->dir = dir;
	r->access = acc;
	r->proto = proto;
	r->loc = (struct vl_loc){(int)g->n_rules + 10, 5};
	field(&r->src_prefix, &r->src_prefixes, src);
	field(&r->dst_prefix, &r->dst_prefixes, dst);
	field(&r->src_port, &r->src_ports, sport);
	field(&r->dst_port, &r->dst_ports, dport);
}

static int vnet_add(struct vl_lab *lab, const char *name, const char *space)
{
	struct vl_vnet *v;

	GROW(lab->vnets, lab->n_vnets);
	v = &lab->vnets[lab->n_vnets];
	v->name = strdup(name);
	v->spaces = malloc(sizeof(*v->spaces));
	v->spaces[0] = P(space);
	v->n_spaces = 1;
	return (int)lab->n_vnets++;
}

static int subnet_add(struct vl_lab *lab, int vnet, const char *name, const char *prefix, int nsg)
{
	struct vl_vnet *v = &lab->vnets[vnet];
	struct vl_subnet *s;

	GROW(lab->subnets, lab->n_subnets);
	s = &lab->subnets[lab->n_subnets];
	s->name = strdup(name);
	s->prefix = P(prefix);
	s->vnet = vnet;
	s->nsg = nsg;
	s->route_table = VL_NONE;
	GROW(v->subnets, v->n_subnets);
	v->subnets[v->n_subnets++] = (int)lab->n_subnets;
	return (int)lab->n_subnets++;
}

static void vm_add(struct vl_lab *lab, const char *name, int subnet, int nsg)
{
	GROW(lab->vms, lab->n_vms);
	lab->vms[lab->n_vms].name = strdup(name);
	lab->vms[lab->n_vms].subnet = subnet;
	lab->vms[lab->n_vms].nsg = nsg;
	lab->vms[lab->n_vms].loc = (struct vl_loc){100 + (int)lab->n_vms, 3};
	lab->n_vms++;
}

static void cg_add(struct vl_lab *lab, const char *name, int subnet)
{
	GROW(lab->cgs, lab->n_cgs);
	lab->cgs[lab->n_cgs].name = strdup(name);
	lab->cgs[lab->n_cgs].subnet = subnet;
	lab->cgs[lab->n_cgs].loc = (struct vl_loc){200 + (int)lab->n_cgs, 3};
	lab->n_cgs++;
}

static int aks_add(struct vl_lab *lab, const char *name, int subnet, enum vl_plugin plugin, int nodes,
		   int nsg)
{
	struct vl_aks *a;

	GROW(lab->aks, lab->n_aks);
	a = &lab->aks[lab->n_aks];
	a->name = strdup(name);
	a->subnet = subnet;
	a->plugin = plugin;
	a->pod_cidr = P("10.244.0.0/16");
	a->service_cidr = P("10.0.0.0/16");
	a->node_count = nodes;
	a->max_pods = plugin == VL_PLUGIN_KUBENET ? 110 : 30;
	a->node_nsg = nsg;
	a->loc = (struct vl_loc){300 + (int)lab->n_aks * 10, 3};
	return (int)lab->n_aks++;
}

static void pod_add(struct vl_lab *lab, int aks, const char *name, int node)
{
	struct vl_aks *a = &lab->aks[aks];

	GROW(a->pods, a->n_pods);
	a->pods[a->n_pods].name = strdup(name);
	a->pods[a->n_pods].node = node;
	a->pods[a->n_pods].loc = a->loc;
	a->n_pods++;
}

/*
 * vnet 10.1.0.0/16
 *   web  10.1.1.0/24  NSG web-subnet-nsg; web1, web2 with NIC NSG web-nic-nsg
 *   app  10.1.2.0/24  no NSG; app1
 *   aci  10.1.3.0/24  NSG aci-nsg; container group aci1
 *   bare 10.1.4.0/24  no NSG; bare1, bare2
 *   aks  10.1.8.0/22  kubenet cluster k (2 nodes, NIC NSG aks-nsg), pods ka, kb on node 0, kc on node 1
 *   cni  10.1.16.0/22 Azure CNI cluster c (2 nodes, NIC NSG cni-nsg), pods ca on node 0, cb on node 1
 * nsg t-nsg is unattached: it carries the rows that test one NSG alone.
 */
static struct vl_lab *build_lab(void)
{
	struct vl_lab *lab = vl_lab_new();
	struct vl_error err = {0};
	int vn, web_s, web_n, aci, aks, cni, t, k, c;

	cr_assert(lab);
	lab->name = strdup("evtest");
	lab->file = strdup("eval.yaml");
	vn = vnet_add(lab, "vnet", "10.1.0.0/16");

	t = nsg_add(lab, "t-nsg");
	rule_add(lab, t, "allow-http-internet", 100, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "Internet", "*", "*",
		 "80");
	rule_add(lab, t, "deny-8080", 200, VL_DIR_IN, VL_DENY, VL_PROTO_TCP, "*", "*", "*", "8080");
	rule_add(lab, t, "allow-8080", 300, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "*", "*", "*", "8080");
	rule_add(lab, t, "deny-9090", 310, VL_DIR_IN, VL_DENY, VL_PROTO_TCP, "*", "*", "*", "9090");
	rule_add(lab, t, "allow-9090", 210, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "*", "*", "*", "9090");
	rule_add(lab, t, "allow-partners", 400, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP,
		 "198.51.100.0/24 192.0.2.7", "*", "*", "443 8000-8100");
	rule_add(lab, t, "deny-any-proto", 600, VL_DIR_IN, VL_DENY, VL_PROTO_ANY, "198.51.100.66", "*", "*",
		 "*");
	rule_add(lab, t, "allow-icmp-port", 700, VL_DIR_IN, VL_ALLOW, VL_PROTO_ICMP, "192.0.2.50", "*", "*",
		 "22");
	rule_add(lab, t, "allow-vnet-3000", 800, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "VirtualNetwork", "*",
		 "VirtualNetwork", "3000");
	rule_add(lab, t, "deny-internet-3000", 810, VL_DIR_IN, VL_DENY, VL_PROTO_TCP, "Internet", "*", "*",
		 "3000");
	rule_add(lab, t, "allow-any-443-from-60", 900, VL_DIR_IN, VL_ALLOW, VL_PROTO_ANY, "192.0.2.60", "*",
		 "*", "443");
	rule_add(lab, t, "allow-sport", 950, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "192.0.2.70", "1000-2000",
		 "*", "*");
	rule_add(lab, t, "allow-lb-6000", 960, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "AzureLoadBalancer", "*",
		 "*", "6000");
	rule_add(lab, t, "deny-out-smtp", 100, VL_DIR_OUT, VL_DENY, VL_PROTO_TCP, "*", "*", "Internet", "25");

	web_s = nsg_add(lab, "web-subnet-nsg");
	rule_add(lab, web_s, "allow-http-internet", 100, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "Internet", "*",
		 "*", "80");
	rule_add(lab, web_s, "deny-from-app", 500, VL_DIR_IN, VL_DENY, VL_PROTO_ANY, "10.1.2.0/24", "*", "*",
		 "*");
	rule_add(lab, web_s, "deny-out-6000", 100, VL_DIR_OUT, VL_DENY, VL_PROTO_TCP, "*", "*", "*", "6000");
	web_n = nsg_add(lab, "web-nic-nsg");
	rule_add(lab, web_n, "deny-ssh", 100, VL_DIR_IN, VL_DENY, VL_PROTO_TCP, "*", "*", "*", "22");
	rule_add(lab, web_n, "deny-out-5000", 100, VL_DIR_OUT, VL_DENY, VL_PROTO_TCP, "*", "*", "*", "5000");
	aci = nsg_add(lab, "aci-nsg");
	rule_add(lab, aci, "deny-pod-cidr", 100, VL_DIR_IN, VL_DENY, VL_PROTO_ANY, "10.244.0.0/16", "*", "*",
		 "*");
	rule_add(lab, aci, "allow-aks-nodes", 200, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "10.1.8.0/22", "*", "*",
		 "80");
	rule_add(lab, aci, "deny-vnet", 300, VL_DIR_IN, VL_DENY, VL_PROTO_ANY, "VirtualNetwork", "*", "*",
		 "*");
	aks = nsg_add(lab, "aks-nsg");
	cni = nsg_add(lab, "cni-nsg");
	rule_add(lab, cni, "allow-pods-only", 100, VL_DIR_IN, VL_ALLOW, VL_PROTO_TCP, "10.1.16.0/22", "*",
		 "*", "8080");
	rule_add(lab, cni, "deny-8080", 110, VL_DIR_IN, VL_DENY, VL_PROTO_TCP, "*", "*", "*", "8080");

	int s_web = subnet_add(lab, vn, "web", "10.1.1.0/24", web_s);
	int s_app = subnet_add(lab, vn, "app", "10.1.2.0/24", VL_NONE);
	int s_aci = subnet_add(lab, vn, "aci", "10.1.3.0/24", aci);
	int s_bare = subnet_add(lab, vn, "bare", "10.1.4.0/24", VL_NONE);
	int s_aks = subnet_add(lab, vn, "aks", "10.1.8.0/22", VL_NONE);
	int s_cni = subnet_add(lab, vn, "cni", "10.1.16.0/22", VL_NONE);

	vm_add(lab, "web1", s_web, web_n);
	vm_add(lab, "web2", s_web, web_n);
	vm_add(lab, "app1", s_app, VL_NONE);
	vm_add(lab, "bare1", s_bare, VL_NONE);
	vm_add(lab, "bare2", s_bare, VL_NONE);
	cg_add(lab, "aci1", s_aci);
	k = aks_add(lab, "k", s_aks, VL_PLUGIN_KUBENET, 2, aks);
	pod_add(lab, k, "ka", 0);
	pod_add(lab, k, "kb", 0);
	pod_add(lab, k, "kc", 1);
	c = aks_add(lab, "c", s_cni, VL_PLUGIN_AZURE, 2, cni);
	pod_add(lab, c, "ca", 0);
	pod_add(lab, c, "cb", 1);

	cr_assert_eq(vl_lab_resolve(lab, &err), 0, "resolve: %s", err.msg);
	for (size_t i = 0; i < lab->n_nsgs; i++)
		cr_assert_eq(vl_nsg_validate(&lab->nsgs[i], lab->file, &err), 0, "validate: %s", err.msg);
	return lab;
}

static uint32_t addr_of(const struct vl_lab *lab, const char *s)
{
	int ep = vl_lab_find_endpoint(lab, s);

	if (ep != VL_NONE)
		return lab->eps[ep].ip;
	return IP(s);
}

static const char *nsg_name(const struct vl_lab *lab, int i)
{
	return i == VL_NONE ? NULL : lab->nsgs[i].name;
}

static void cr_assert_str_or_null(const char *got, const char *want, const char *what, const char *row)
{
	if (!*want)
		cr_assert_null(got, "%s: %s: want none, got %s", row, what, got);
	else
		cr_assert(got && !strcmp(got, want), "%s: %s: want %s, got %s", row, what, want,
			  got ? got : "(none)");
}

/* ---- one NSG ---- */

/* Criterion runs each parameter in a fresh process: rows hold arrays, not pointers. */
struct nsg_row {
	char what[96];
	enum vl_dir dir;
	enum vl_proto proto;
	char src[20];
	uint16_t sport;
	char dst[20];
	uint16_t dport;
	enum vl_access access;
	char rule[48];
};

static struct nsg_row nsg_rows[] = {
    {"default AllowVnetInBound", VL_DIR_IN, VL_PROTO_TCP, "10.1.2.4", 50000, "10.1.1.4", 5432, VL_ALLOW,
     "AllowVnetInBound"},
    {"default DenyAllInBound from an Internet address", VL_DIR_IN, VL_PROTO_TCP, "203.0.113.5", 50000,
     "10.1.1.4", 5432, VL_DENY, "DenyAllInBound"},
    {"default AllowInternetOutBound", VL_DIR_OUT, VL_PROTO_TCP, "10.1.1.4", 50000, "203.0.113.5", 443,
     VL_ALLOW, "AllowInternetOutBound"},
    {"default AllowVnetOutBound", VL_DIR_OUT, VL_PROTO_UDP, "10.1.1.4", 50000, "10.1.2.4", 53, VL_ALLOW,
     "AllowVnetOutBound"},
    {"default AllowAzureLoadBalancerInBound (probe to a frontend IP)", VL_DIR_IN, VL_PROTO_TCP,
     "168.63.129.16", 50000, "203.0.113.10", 8081, VL_ALLOW, "AllowAzureLoadBalancerInBound"},
    {"168.63.129.16 is inside VirtualNetwork", VL_DIR_IN, VL_PROTO_TCP, "168.63.129.16", 50000, "10.1.1.4",
     8081, VL_ALLOW, "AllowVnetInBound"},
    {"tag AzureLoadBalancer in a custom rule", VL_DIR_IN, VL_PROTO_TCP, "168.63.129.16", 50000, "10.1.1.4",
     6000, VL_ALLOW, "allow-lb-6000"},
    {"default DenyAllOutBound (public source to a VNet address)", VL_DIR_OUT, VL_PROTO_TCP, "203.0.113.5",
     50000, "10.1.2.4", 80, VL_DENY, "DenyAllOutBound"},
    {"custom outbound deny before AllowInternetOutBound", VL_DIR_OUT, VL_PROTO_TCP, "10.1.1.4", 50000,
     "203.0.113.5", 25, VL_DENY, "deny-out-smtp"},
    {"tag Internet matches a public source", VL_DIR_IN, VL_PROTO_TCP, "203.0.113.5", 50000, "10.1.1.4", 80,
     VL_ALLOW, "allow-http-internet"},
    {"tag Internet does not match a VNet source", VL_DIR_IN, VL_PROTO_TCP, "10.1.2.4", 50000, "10.1.1.4", 80,
     VL_ALLOW, "AllowVnetInBound"},
    {"tag VirtualNetwork covers kubenet pod /24 routes (in the cluster subnet)", VL_DIR_IN, VL_PROTO_TCP,
     "10.244.1.5", 50000, "10.1.1.4", 3000, VL_ALLOW, "allow-vnet-3000"},
    {"an unused pod CIDR address is neither VirtualNetwork nor Internet (private)", VL_DIR_IN, VL_PROTO_TCP,
     "10.244.9.5", 50000, "10.1.1.4", 3000, VL_DENY, "DenyAllInBound"},
    {"first match by priority: Deny 200 before Allow 300", VL_DIR_IN, VL_PROTO_TCP, "10.1.2.4", 50000,
     "10.1.1.4", 8080, VL_DENY, "deny-8080"},
    {"first match by priority: Allow 210 before Deny 310 (file order irrelevant)", VL_DIR_IN, VL_PROTO_TCP,
     "10.1.2.4", 50000, "10.1.1.4", 9090, VL_ALLOW, "allow-9090"},
    {"plural source list, second element", VL_DIR_IN, VL_PROTO_TCP, "192.0.2.7", 50000, "10.1.1.4", 443,
     VL_ALLOW, "allow-partners"},
    {"plural source list, address not listed", VL_DIR_IN, VL_PROTO_TCP, "192.0.2.8", 50000, "10.1.1.4", 443,
     VL_DENY, "DenyAllInBound"},
    {"port range inside", VL_DIR_IN, VL_PROTO_TCP, "198.51.100.9", 50000, "10.1.1.4", 8050, VL_ALLOW,
     "allow-partners"},
    {"port range low edge", VL_DIR_IN, VL_PROTO_TCP, "198.51.100.9", 50000, "10.1.1.4", 8000, VL_ALLOW,
     "allow-partners"},
    {"port range high edge", VL_DIR_IN, VL_PROTO_TCP, "198.51.100.9", 50000, "10.1.1.4", 8100, VL_ALLOW,
     "allow-partners"},
    {"port range just outside", VL_DIR_IN, VL_PROTO_TCP, "198.51.100.9", 50000, "10.1.1.4", 8101, VL_DENY,
     "DenyAllInBound"},
    {"protocol * matches UDP", VL_DIR_IN, VL_PROTO_UDP, "198.51.100.66", 50000, "10.1.1.4", 53, VL_DENY,
     "deny-any-proto"},
    {"protocol * matches ESP", VL_DIR_IN, VL_PROTO_ESP, "198.51.100.66", 0, "10.1.1.4", 0, VL_DENY,
     "deny-any-proto"},
    {"protocol Tcp does not match UDP", VL_DIR_IN, VL_PROTO_UDP, "198.51.100.9", 50000, "10.1.1.4", 443,
     VL_DENY, "DenyAllInBound"},
    {"ICMP ignores the rule's port", VL_DIR_IN, VL_PROTO_ICMP, "192.0.2.50", 0, "10.1.1.4", 0, VL_ALLOW,
     "allow-icmp-port"},
    {"a * rule with ports matches only TCP and UDP", VL_DIR_IN, VL_PROTO_ICMP, "192.0.2.60", 0, "10.1.1.4", 0,
     VL_DENY, "DenyAllInBound"},
    {"a * rule with ports matches UDP on that port", VL_DIR_IN, VL_PROTO_UDP, "192.0.2.60", 50000, "10.1.1.4",
     443, VL_ALLOW, "allow-any-443-from-60"},
    {"a * rule without ports matches ICMP", VL_DIR_IN, VL_PROTO_ICMP, "198.51.100.66", 0, "10.1.1.4", 0,
     VL_DENY, "deny-any-proto"},
    {"UDP honours ports of a * rule", VL_DIR_IN, VL_PROTO_UDP, "192.0.2.60", 50000, "10.1.1.4", 53, VL_DENY,
     "DenyAllInBound"},
    {"source port range matches", VL_DIR_IN, VL_PROTO_TCP, "192.0.2.70", 1500, "10.1.1.4", 22, VL_ALLOW,
     "allow-sport"},
    {"source port range does not match an ephemeral port", VL_DIR_IN, VL_PROTO_TCP, "192.0.2.70", 50000,
     "10.1.1.4", 22, VL_DENY, "DenyAllInBound"},
};

static struct vl_lab *lab;

static void setup(void)
{
	lab = build_lab();
}

static void teardown(void)
{
	vl_lab_free(lab);
	lab = NULL;
}

TestSuite(eval, .init = setup, .fini = teardown);

ParameterizedTestParameters(eval, nsg)
{
	return cr_make_param_array(struct nsg_row, nsg_rows, sizeof(nsg_rows) / sizeof(nsg_rows[0]));
}

ParameterizedTest(struct nsg_row *row, eval, nsg)
{
	struct vl_flow f = {.proto = row->proto,
			    .src = IP(row->src),
			    .sport = row->sport,
			    .dst = IP(row->dst),
			    .dport = row->dport};
	/* The VirtualNetwork tag of the cluster subnet: it holds the cluster's pod routes. */
	int scope = lab->eff->subnet_scope[vl_lab_find_subnet(lab, "aks")];
	const struct vl_rule *r = vl_eval_nsg(lab, vl_lab_find_nsg(lab, "t-nsg"), scope, row->dir, &f);

	cr_assert(r, "%s: no rule matched", row->what);
	cr_assert_str_eq(r->name, row->rule, "%s: want %s, got %s", row->what, row->rule, r->name);
	cr_assert_eq(r->access, row->access, "%s: access", row->what);
	cr_assert(vl_eval_rule_matches(lab, scope, r, &f), "%s: vl_eval_rule_matches disagrees", row->what);
}

/* ---- whole paths ---- */

struct path_row {
	char what[96];
	char from[24];
	char to[24]; /* endpoint name or address */
	enum vl_proto proto;
	uint16_t port;
	enum vl_access access;
	char nsg[24];  /* deciding NSG or "" */
	char rule[48]; /* deciding rule or "" */
	size_t n_hops;
	char hops[160]; /* "nsg:O|I:N|S:Allow|Deny" joined by spaces; "" = not checked */
	char seen[24];	/* endpoint name or address the destination sees */
	char note[32];	/* substring of the note or "" */
};

static struct path_row path_rows[] = {
    {"no NSG anywhere: Allow, no rule", "bare1", "bare2", VL_PROTO_TCP, 22, VL_ALLOW, "", "", 0, "", "bare1",
     "no NSG"},
    {"inbound: subnet NSG, then NIC NSG", "bare1", "web1", VL_PROTO_TCP, 22, VL_DENY, "web-nic-nsg",
     "deny-ssh", 2, "web-subnet-nsg:I:S:Allow web-nic-nsg:I:N:Deny", "bare1", ""},
    {"inbound: a subnet Deny ends before the NIC", "app1", "web1", VL_PROTO_TCP, 22, VL_DENY,
     "web-subnet-nsg", "deny-from-app", 1, "web-subnet-nsg:I:S:Deny", "app1", ""},
    {"outbound: NIC NSG first", "web1", "bare1", VL_PROTO_TCP, 5000, VL_DENY, "web-nic-nsg", "deny-out-5000",
     1, "web-nic-nsg:O:N:Deny", "web1", ""},
    {"outbound: then the subnet NSG", "web1", "bare1", VL_PROTO_TCP, 6000, VL_DENY, "web-subnet-nsg",
     "deny-out-6000", 2, "web-nic-nsg:O:N:Allow web-subnet-nsg:O:S:Deny", "web1", ""},
    {"intra-subnet traffic crosses all four NSGs", "web2", "web1", VL_PROTO_TCP, 22, VL_DENY, "web-nic-nsg",
     "deny-ssh", 4,
     "web-nic-nsg:O:N:Allow web-subnet-nsg:O:S:Allow web-subnet-nsg:I:S:Allow web-nic-nsg:I:N:Deny", "web2",
     ""},
    {"all allow: the last evaluated rule is reported", "web2", "web1", VL_PROTO_TCP, 443, VL_ALLOW,
     "web-nic-nsg", "AllowVnetInBound", 4, "", "web2", ""},
    {"to the Internet: only source hops", "web1", "203.0.113.5", VL_PROTO_TCP, 443, VL_ALLOW,
     "web-subnet-nsg", "AllowInternetOutBound", 2, "web-nic-nsg:O:N:Allow web-subnet-nsg:O:S:Allow", "web1",
     ""},
    {"an unused address in a subnet: lost after the source NSGs", "web1", "10.1.1.200", VL_PROTO_TCP, 22,
     VL_ALLOW, "web-subnet-nsg", "AllowVnetOutBound", 2, "web-nic-nsg:O:N:Allow web-subnet-nsg:O:S:Allow",
     "web1", ""},
    {"ICMP through defaults", "web1", "web2", VL_PROTO_ICMP, 0, VL_ALLOW, "web-nic-nsg", "AllowVnetInBound",
     4, "", "web1", ""},
    {"kubenet pod to ACI is seen as its node", "ka", "aci1", VL_PROTO_TCP, 80, VL_ALLOW, "aci-nsg",
     "allow-aks-nodes", 2, "aks-nsg:O:N:Allow aci-nsg:I:S:Allow", "k-node-0", "masqueraded"},
    {"kubenet pod on node 1 is seen as node 1", "kc", "aci1", VL_PROTO_TCP, 80, VL_ALLOW, "aci-nsg",
     "allow-aks-nodes", 2, "", "k-node-1", "masqueraded"},
    {"container group has no NIC NSG; subnet decides", "app1", "aci1", VL_PROTO_TCP, 443, VL_DENY, "aci-nsg",
     "deny-vnet", 1, "aci-nsg:I:S:Deny", "app1", ""},
    {"kubenet pod to pod across nodes keeps its address (UDR, no NAT)", "ka", "kc", VL_PROTO_TCP, 80,
     VL_ALLOW, "aks-nsg", "AllowVnetInBound", 2, "aks-nsg:O:N:Allow aks-nsg:I:N:Allow", "ka", "kept"},
    {"kubenet pods on the same node cross no NSG", "ka", "kb", VL_PROTO_TCP, 80, VL_ALLOW, "", "", 0, "",
     "ka", "same node"},
    {"kubenet pod to its own node crosses no NSG", "ka", "k-node-0", VL_PROTO_TCP, 10250, VL_ALLOW, "", "", 0,
     "", "ka", "same node"},
    {"kubenet pod to the Internet is seen as its node", "kb", "203.0.113.5", VL_PROTO_TCP, 443, VL_ALLOW,
     "aks-nsg", "AllowInternetOutBound", 1, "aks-nsg:O:N:Allow", "k-node-0", "masqueraded"},
    {"VM of another subnet to a kubenet pod: the None route of 10/8 drops it (spec 23.4)", "web1", "kc",
     VL_PROTO_TCP, 80, VL_DENY, "", "", 0, "", "web1", ""},
    {"kubenet node to a pod of another node: routed by the cluster's table, node NIC NSG applies",
     "k-node-0", "kc", VL_PROTO_TCP, 80, VL_ALLOW, "aks-nsg", "AllowVnetInBound", 2,
     "aks-nsg:O:N:Allow aks-nsg:I:N:Allow", "k-node-0", ""},
    {"Azure CNI pod keeps its IP inside the VNet", "ca", "cb", VL_PROTO_TCP, 8080, VL_ALLOW, "cni-nsg",
     "allow-pods-only", 2, "cni-nsg:O:N:Allow cni-nsg:I:N:Allow", "ca", "kept"},
    {"Azure CNI pod keeps its IP toward a VM", "ca", "web1", VL_PROTO_TCP, 443, VL_ALLOW, "web-nic-nsg",
     "AllowVnetInBound", 3, "", "ca", ""},
    {"Azure CNI pod is seen as its node outside the VNet", "cb", "203.0.113.5", VL_PROTO_TCP, 443, VL_ALLOW,
     "cni-nsg", "AllowInternetOutBound", 1, "", "c-node-1", "masqueraded"},
    {"Azure CNI pod as destination: its node's NIC NSG", "web1", "cb", VL_PROTO_TCP, 8080, VL_DENY, "cni-nsg",
     "deny-8080", 3, "web-nic-nsg:O:N:Allow web-subnet-nsg:O:S:Allow cni-nsg:I:N:Deny", "web1", ""},
    {"Azure CNI pods on the same node cross no NSG", "ca", "c-node-0", VL_PROTO_TCP, 8080, VL_ALLOW, "", "",
     0, "", "ca", "same node"},
};

ParameterizedTestParameters(eval, path)
{
	return cr_make_param_array(struct path_row, path_rows, sizeof(path_rows) / sizeof(path_rows[0]));
}

static void check_hops(const struct vl_verdict *v, const char *want, const char *row)
{
	char got[512] = "";

	if (!*want)
		return;
	for (size_t i = 0; i < v->n_hops; i++) {
		const struct vl_hop *h = &v->hops[i];
		size_t n = strlen(got);

		if (h->type != VL_HT_NSG)
			continue;
		snprintf(got + n, sizeof(got) - n, "%s%s:%c:%c:%s", n ? " " : "", lab->nsgs[h->nsg].name,
			 h->dir == VL_DIR_IN ? 'I' : 'O', h->level == VL_HOP_NIC ? 'N' : 'S',
			 vl_access_name(h->access));
	}
	cr_assert_str_eq(got, want, "%s: hops\n  got  %s\n  want %s", row, got, want);
}

static size_t nsg_hops(const struct vl_verdict *v)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n_hops; i++)
		n += v->hops[i].type == VL_HT_NSG;
	return n;
}

/* The source the NSGs saw: what the destination sees, unless the edge translated it after them. */
static uint32_t nsg_src(const struct vl_verdict *v)
{
	for (size_t i = 0; i < v->n_hops; i++)
		if (v->hops[i].type == VL_HT_EDGE && i + 1 < v->n_hops && v->hops[i + 1].type == VL_HT_NAT)
			return v->hops[i + 1].nat_from;
	return v->seen_src;
}

ParameterizedTest(struct path_row *row, eval, path)
{
	struct vl_verdict v;
	int from = vl_lab_find_endpoint(lab, row->from);
	char a[VL_IP_STRLEN], b[VL_IP_STRLEN];

	cr_assert_neq(from, VL_NONE, "%s: no endpoint %s", row->what, row->from);
	cr_assert_eq(vl_eval_path(lab, from, addr_of(lab, row->to), row->proto, 0, row->port, &v), 0);
	cr_assert_eq(v.access, row->access, "%s: access %s (note: %s)", row->what, vl_access_name(v.access),
		     v.note);
	cr_assert_str_or_null(nsg_name(lab, v.nsg), row->nsg, "nsg", row->what);
	cr_assert_str_or_null(v.rule ? v.rule->name : NULL, row->rule, "rule", row->what);
	cr_assert_eq(nsg_hops(&v), row->n_hops, "%s: %zu NSG hops, want %zu", row->what, nsg_hops(&v),
		     row->n_hops);
	check_hops(&v, row->hops, row->what);
	cr_assert_eq(nsg_src(&v), addr_of(lab, row->seen), "%s: NSGs saw %s, want %s (%s)", row->what,
		     vl_ip_fmt(nsg_src(&v), a), vl_ip_fmt(addr_of(lab, row->seen), b), row->seen);
	for (size_t i = 0; i < v.n_hops; i++) {
		if (v.hops[i].type != VL_HT_NSG)
			continue;
		cr_assert_eq(v.hops[i].flow.src, nsg_src(&v), "%s: hop %zu sees another source", row->what, i);
		cr_assert_eq(v.hops[i].flow.sport, 50000, "%s: ephemeral source port", row->what);
	}
	if (*row->note)
		cr_assert(strstr(v.note, row->note), "%s: note \"%s\" lacks \"%s\"", row->what, v.note,
			  row->note);
}

/* ---- the rest ---- */

Test(eval, nonmasq_override)
{
	struct vl_verdict v;
	struct vl_aks *k = &lab->aks[0];

	/* ip-masq-agent configured with the whole VNet: the ACI sees the pod */
	k->non_masq = malloc(2 * sizeof(*k->non_masq));
	k->non_masq[0] = P("10.244.0.0/16");
	k->non_masq[1] = P("10.1.0.0/16");
	k->n_non_masq = 2;
	cr_assert_eq(vl_eff_build(lab, NULL), 0);
	cr_assert_eq(
	    vl_eval_path(lab, vl_lab_find_endpoint(lab, "ka"), addr_of(lab, "aci1"), VL_PROTO_TCP, 0, 80, &v),
	    0);
	cr_assert_eq(v.seen_src, addr_of(lab, "ka"));
	cr_assert_eq(v.access, VL_DENY);
	cr_assert_str_eq(v.rule->name, "deny-pod-cidr");
}

Test(eval, bad_arguments)
{
	struct vl_verdict v;

	cr_assert_eq(vl_eval_path(lab, -1, 1, VL_PROTO_TCP, 0, 80, &v), -EINVAL);
	cr_assert_eq(vl_eval_path(lab, (int)lab->n_eps, 1, VL_PROTO_TCP, 0, 80, &v), -EINVAL);
	cr_assert_eq(vl_eval_path(lab, 0, 1, VL_PROTO_ANY, 0, 80, &v), -EINVAL);
	cr_assert_null(vl_eval_nsg(lab, VL_NONE, 0, VL_DIR_IN, &(struct vl_flow){.proto = VL_PROTO_TCP}));
}

Test(eval, explicit_source_port)
{
	struct vl_verdict v;

	cr_assert_eq(vl_eval_path(lab, vl_lab_find_endpoint(lab, "web1"), addr_of(lab, "web2"), VL_PROTO_TCP,
				  1234, 80, &v),
		     0);
	cr_assert_eq(v.hops[0].flow.sport, 1234);
	cr_assert_eq(v.dst_ep, vl_lab_find_endpoint(lab, "web2"));
}

static const struct vl_hop *nth_nsg_hop(const struct vl_verdict *v, size_t n)
{
	for (size_t i = 0; i < v->n_hops; i++)
		if (v->hops[i].type == VL_HT_NSG && !n--)
			return &v->hops[i];
	cr_assert_fail("no NSG hop #%zu", n);
	return NULL;
}

Test(eval, hop_subnets)
{
	struct vl_verdict v;
	int web1 = vl_lab_find_endpoint(lab, "web1"), web = vl_lab_find_subnet(lab, "web");

	/* Nobody holds the address: the route is VnetLocal, the packet is lost after the source NSGs. */
	cr_assert_eq(vl_eval_path(lab, web1, IP("10.1.1.200"), VL_PROTO_TCP, 0, 80, &v), 0);
	cr_assert_eq(nsg_hops(&v), 2);
	cr_assert_eq(v.outcome, VL_OUT_NO_HOST);
	cr_assert_eq(v.dst_ep, VL_NONE);
	cr_assert_eq(v.hops[0].type, VL_HT_ROUTE, "the route is chosen before the NSGs");
	cr_assert_eq(v.hops[0].route->hop, VL_NH_VNET_LOCAL);
	cr_assert_eq(nth_nsg_hop(&v, 0)->endpoint, web1);
	cr_assert_eq(nth_nsg_hop(&v, 0)->subnet, web);
	cr_assert_eq(
	    vl_eval_path(lab, vl_lab_find_endpoint(lab, "kc"), addr_of(lab, "web1"), VL_PROTO_TCP, 0, 80, &v),
	    0);
	cr_assert_eq(nth_nsg_hop(&v, 0)->endpoint, vl_lab_find_endpoint(lab, "k-node-1"), "a pod's NIC is its node's");
	cr_assert_eq(nth_nsg_hop(&v, 0)->subnet, vl_lab_find_subnet(lab, "aks"));
	cr_assert_eq(nth_nsg_hop(&v, 1)->subnet, web);
	cr_assert_eq(nth_nsg_hop(&v, 2)->endpoint, web1);
}

static void tag_of(const char *subnet, char *all)
{
	const struct vl_scope *sc = &lab->eff->scopes[lab->eff->subnet_scope[vl_lab_find_subnet(lab, subnet)]];
	char buf[VL_PREFIX_STRLEN];

	all[0] = '\0';
	for (size_t i = 0; i < sc->n_vnet_tag; i++) {
		strcat(all, vl_prefix_fmt(sc->vnet_tag[i], buf));
		strcat(all, " ");
	}
}

/* VirtualNetwork is per subnet (spec 23.5): the kubenet routes are in the cluster subnet's only. */
Test(eval, vnet_prefixes)
{
	char all[512];

	tag_of("aks", all);
	cr_assert_str_eq(all, "10.1.0.0/16 10.244.0.0/24 10.244.1.0/24 168.63.129.16/32 ");
	tag_of("web", all);
	cr_assert_str_eq(all, "10.1.0.0/16 168.63.129.16/32 ");
}

/* A route table's prefixes join the VirtualNetwork tag of its subnets only (spec 23.5). */
Test(eval, udr_prefix_joins_vnet_tag)
{
	struct vl_route_table *rt;
	struct vl_error err = {0};
	struct vl_flow f = {.proto = VL_PROTO_TCP,
			    .src = IP("192.168.50.7"),
			    .sport = 50000,
			    .dst = IP("10.1.1.4"),
			    .dport = 3000};
	int web = vl_lab_find_subnet(lab, "web"), app = vl_lab_find_subnet(lab, "app");
	int g = vl_lab_find_nsg(lab, "t-nsg");
	const struct vl_rule *r = vl_eval_nsg(lab, g, lab->eff->subnet_scope[web], VL_DIR_IN, &f);

	cr_assert_str_eq(r->name, "DenyAllInBound", "a private address outside the VNet is not Internet either");
	lab->route_tables = calloc(1, sizeof(*lab->route_tables));
	lab->n_route_tables = 1;
	rt = &lab->route_tables[0];
	rt->name = strdup("rt");
	rt->routes = calloc(1, sizeof(*rt->routes));
	rt->n_routes = 1;
	rt->routes[0].name = strdup("onprem");
	rt->routes[0].prefix = P("192.168.0.0/16");
	rt->routes[0].type = VL_HOP_NONE;
	lab->subnets[web].route_table = 0;
	cr_assert_eq(vl_eff_build(lab, &err), 0, "%s", err.msg);
	r = vl_eval_nsg(lab, g, lab->eff->subnet_scope[web], VL_DIR_IN, &f);
	cr_assert_str_eq(r->name, "allow-vnet-3000");
	r = vl_eval_nsg(lab, g, lab->eff->subnet_scope[app], VL_DIR_IN, &f);
	cr_assert_str_eq(r->name, "DenyAllInBound", "another subnet's tag is unchanged");
}

/* The first article's finding, through the real loader. */
Test(eval, kubenet_outbound_topology)
{
	struct vl_lab *l = NULL;
	struct vl_error e = {0};
	struct vl_verdict v;
	int obs;

	cr_assert_eq(vl_load_file("topologies/kubenet-outbound.yaml", &l, &e), 0, "%s:%d: %s", e.file, e.line,
		     e.msg);
	obs = vl_lab_find_endpoint(l, "observer");
	cr_assert_eq(vl_eval_path(l, obs, l->eps[vl_lab_find_endpoint(l, "myContainerGroup")].ip,
				  VL_PROTO_TCP, 0, 80, &v),
		     0);
	cr_assert_eq(v.access, VL_ALLOW);
	cr_assert_str_eq(v.rule->name, "allow-aks-subnet");
	cr_assert_eq(v.seen_src, l->eps[l->eps[obs].node].ip, "the container group sees the node");
	vl_lab_free(l);
}
