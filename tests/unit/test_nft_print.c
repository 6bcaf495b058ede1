// SPDX-License-Identifier: MIT
/*
 * The `nft -f` text of up --dry-run (vl_nft_fabric_print, vl_nft_masq_print) against the
 * transaction the builders send (vl_nft_nsg_batch, vl_nft_masq_batch), without a kernel: the same
 * sets and maps and chains in the same order (the order `nft list` shows them in), as many rules
 * in each chain, as many elements in each map. tests/lab/test_dryrun.c compares the two listings
 * in real namespaces.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "common/helpers.h"
#include "vnetlab/effective.h"
#include "vnetlab/nft.h"
#include "vnetlab/plan.h"

/* What a table holds, by name, in the order its objects are made. */
struct object {
	char kind; /* 's'et (or map), 'c'hain, 'o'bject */
	char name[128];
	size_t rules;	 /* chains */
	size_t elements; /* maps: elements (an interval set's elements are not counted) */
	bool map;
};

struct table {
	struct object *v;
	size_t n;
};

static struct object *find(struct table *t, char kind, const char *name, bool add)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].kind == kind && !strcmp(t->v[i].name, name))
			return &t->v[i];
	if (!add)
		return NULL;
	t->v = realloc(t->v, (t->n + 1) * sizeof(*t->v));
	cr_assert_not_null(t->v);
	memset(&t->v[t->n], 0, sizeof(t->v[0]));
	t->v[t->n].kind = kind;
	snprintf(t->v[t->n].name, sizeof(t->v[0].name), "%s", name);
	return &t->v[t->n++];
}

static const char *attr_str(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) ==
							       type) return mnl_attr_get_str(a);
	return NULL;
}

static const struct nlattr *attr(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) == type) return a;
	return NULL;
}

static struct table from_batch(void *buf, size_t len)
{
	struct table t = {0};
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		const struct nlattr *a;
		struct object *o;
		const char *name;
		size_t n = 0;

		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END)
			continue;
		switch (NFNL_MSG_TYPE(nlh->nlmsg_type)) {
		case NFT_MSG_NEWCHAIN:
			find(&t, 'c', attr_str(nlh, NFTA_CHAIN_NAME), true);
			break;
		case NFT_MSG_NEWRULE:
			o = find(&t, 'c', attr_str(nlh, NFTA_RULE_CHAIN), false);
			cr_assert_not_null(o, "a rule of chain %s before the chain",
					   attr_str(nlh, NFTA_RULE_CHAIN));
			o->rules++;
			break;
		case NFT_MSG_NEWSET:
			name = attr_str(nlh, NFTA_SET_NAME);
			if (!strncmp(name, "__set", 5))
				break; /* anonymous: part of a rule */
			o = find(&t, 's', name, true);
			a = attr(nlh, NFTA_SET_FLAGS);
			o->map = a && (ntohl(mnl_attr_get_u32(a)) & NFT_SET_MAP);
			break;
		case NFT_MSG_NEWSETELEM:
			o = find(&t, 's', attr_str(nlh, NFTA_SET_ELEM_LIST_SET), false);
			if (!o)
				break;
			a = attr(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
			cr_assert_not_null(a);
			{
				const struct nlattr *e;

				mnl_attr_for_each_nested(e, a) n++;
			}
			o->elements += n;
			break;
		case NFT_MSG_NEWOBJ:
			find(&t, 'o', attr_str(nlh, NFTA_OBJ_NAME), true);
			break;
		default:
			break;
		}
	}
	cr_assert_eq(left, 0);
	return t;
}

/* Elements of a map on one line of its text: each is "key : value". */
static size_t count_elements(const char *p)
{
	size_t n = 0;

	for (; (p = strstr(p, " : ")); p += 3)
		n++;
	return n;
}

static struct table from_text(const char *text)
{
	struct table t = {0};
	struct object *cur = NULL;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096], name[128];

		snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) - 1 ? len : sizeof(line) - 1),
			 p);
		p += len + (nl ? 1 : 0);
		if (sscanf(line, "\tchain %127s {", name) == 1) {
			cur = find(&t, 'c', name, true);
		} else if (sscanf(line, "\tset %127s {", name) == 1 ||
			   sscanf(line, "\tmap %127s {", name) == 1) {
			cur = find(&t, 's', name, true);
			cur->map = !strncmp(line, "\tmap ", 5);
		} else if (sscanf(line, "\tlimit %127s {", name) == 1) {
			cur = find(&t, 'o', name, true);
		} else if (!strcmp(line, "\t}")) {
			cur = NULL;
		} else if (cur && cur->kind == 'c' && !strncmp(line, "\t\t", 2) &&
			   strncmp(line, "\t\ttype ", 7) && strncmp(line, "\t\t#", 3)) {
			cur->rules++;
		} else if (cur && cur->kind == 's' && cur->map && strncmp(line, "\t\ttype ", 7)) {
			cur->elements += count_elements(line);
		}
	}
	return t;
}

static void expect_same(struct table *want, struct table *got, const char *what)
{
	size_t i;

	for (i = 0; i < want->n && i < got->n; i++) {
		struct object *w = &want->v[i], *g = &got->v[i];

		cr_expect(w->kind == g->kind && !strcmp(w->name, g->name),
			  "%s: object %zu: the builder makes %c %s, the printer %c %s", what, i, w->kind,
			  w->name, g->kind, g->name);
		if (w->kind != g->kind || strcmp(w->name, g->name))
			return;
		cr_expect_eq(w->rules, g->rules, "%s: chain %s: %zu rules built, %zu printed", what, w->name,
			     w->rules, g->rules);
		if (w->map)
			cr_expect_eq(w->elements, g->elements, "%s: map %s: %zu elements built, %zu printed",
				     what, w->name, w->elements, g->elements);
	}
	cr_expect_eq(want->n, got->n, "%s: %zu objects built, %zu printed (next: %s)", what, want->n, got->n,
		     i < want->n  ? want->v[i].name
		     : i < got->n ? got->v[i].name
				  : "");
}

/* Objects in the order `nft list` shows them: objects, then sets, then chains, each as made. */
static void by_kind(struct table *t)
{
	struct table o = {0};
	static const char kinds[] = "osc";

	for (int k = 0; k < 3; k++)
		for (size_t i = 0; i < t->n; i++)
			if (t->v[i].kind == kinds[k]) {
				o.v = realloc(o.v, (o.n + 1) * sizeof(*o.v));
				o.v[o.n++] = t->v[i];
			}
	free(t->v);
	*t = o;
}

static char *printed(const struct vl_lab *lab, int index, bool fabric)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (fabric)
		vl_nft_fabric_print(lab, index, f);
	else
		vl_nft_masq_print(lab, index, f);
	fclose(f);
	return text;
}

/* Every ruleset of the lab's plan: the printer against the builder. */
static void check_lab(const struct vl_lab *lab)
{
	struct vl_plan *plan;

	cr_assert_eq(vl_plan_build(lab, &plan), 0);
	cr_assert_gt(plan->n_rulesets, 0);
	for (size_t i = 0; i < plan->n_rulesets; i++) {
		const struct vl_plan_ruleset *rs = &plan->rulesets[i];
		bool fabric = rs->kind == VL_RULESET_FABRIC;
		char why[256] = "", *text;
		struct table want, got;
		void *buf;
		size_t len;
		int err = fabric ? vl_nft_nsg_batch(lab, rs->index, VL_NONE, &buf, &len, why, sizeof(why))
				 : vl_nft_masq_batch(lab, rs->index, &buf, &len, why, sizeof(why));

		cr_assert_eq(err, 0, "%s", why);
		want = from_batch(buf, len);
		text = printed(lab, rs->index, fabric);
		got = from_text(text);
		by_kind(&want);
		by_kind(&got);
		expect_same(&want, &got, plan->ns[rs->ns].name);
		free(want.v);
		free(got.v);
		free(text);
		free(buf);
	}
	vl_plan_free(plan);
}

static const char *const lb_topo =
    "name: lb\n"
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.71.0.0/16]\n"
    "    subnets:\n"
    "      - {name: aks, addressPrefix: 10.71.0.0/24}\n"
    "      - {name: pip, addressPrefix: 10.71.1.0/24}\n"
    "      - name: nat\n"
    "        addressPrefix: 10.71.2.0/24\n"
    "        natGateway: {name: ngw, publicIpAddresses: [198.51.100.101]}\n"
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
    "198.51.100.111, externalTrafficPolicy: Local}\n"
    "      - {name: inner, selector: a, port: 90, targetPort: 8080}\n"
    "vms:\n"
    "  - {name: vm, subnet: pip, privateIpAddress: 10.71.1.10, publicIpAddress: 198.51.100.100}\n"
    "  - {name: natvm, subnet: nat, privateIpAddress: 10.71.2.4}\n";

static const char *const np_topo =
    "name: np\n"
    "vnets:\n"
    "  - name: v\n"
    "    addressSpace: [10.74.0.0/16]\n"
    "    subnets:\n"
    "      - {name: aks, addressPrefix: 10.74.0.0/24}\n"
    "      - {name: jump, addressPrefix: 10.74.1.0/24}\n"
    "aksClusters:\n"
    "  - name: c\n"
    "    subnet: aks\n"
    "    networkPlugin: kubenet\n"
    "    networkPolicy: calico\n"
    "    nodeCount: 2\n"
    "    pods:\n"
    "      - {name: db, labels: {role: db}, app: hello, ports: [6379], node: 0}\n"
    "      - {name: fe, labels: {role: frontend}, app: hello, ports: [80], node: 1}\n"
    "    services:\n"
    "      - {name: dbs, selector: {role: db}, port: 6379, targetPort: 6379}\n"
    "    networkPolicies:\n"
    "      - apiVersion: networking.k8s.io/v1\n"
    "        kind: NetworkPolicy\n"
    "        metadata: {name: db, namespace: default}\n"
    "        spec:\n"
    "          podSelector: {matchLabels: {role: db}}\n"
    "          policyTypes: [Ingress, Egress]\n"
    "          ingress:\n"
    "            - from: [{ipBlock: {cidr: 10.74.1.0/24, except: [10.74.1.5/32]}}]\n"
    "              ports: [{protocol: TCP, port: 6379}]\n"
    "            - from: [{podSelector: {matchLabels: {role: frontend}}}]\n"
    "          egress:\n"
    "            - to: [{ipBlock: {cidr: 10.74.1.4/32}}]\n"
    "              ports: [{protocol: UDP, port: 7000, endPort: 7010}]\n";

Test(nft_print, load_balancer_and_edge_nat_as_built)
{
	struct vl_lab *lab = th_load(lb_topo);

	check_lab(lab);
	vl_lab_free(lab);
}

Test(nft_print, network_policy_and_kube_proxy_as_built)
{
	struct vl_lab *lab = th_load(np_topo);

	check_lab(lab);
	vl_lab_free(lab);
}

/* The words of what the kernel lists, for the edge and the load balancer (each was missing). */
Test(nft_print, edge_and_frontends_in_nft_words)
{
	struct vl_lab *lab = th_load(lb_topo);
	char *fab = printed(lab, 0, true), want[256];
	int node0 = -1;

	cr_assert(strstr(fab,
			 "\tchain edge_in {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
			 "\t\tiifname \"edge\" counter dnat to ip daddr map @edge_dnat\n\t}\n"),
		  "%s", fab);
	cr_assert(strstr(fab, "\t\toifname \"edge\" counter snat to ip saddr map @edge_snat\n"), "%s", fab);
	cr_assert(strstr(fab, "\tmap edge_dnat {\n\t\ttype ipv4_addr : ipv4_addr\n"
			      "\t\telements = { 198.51.100.100 : 10.71.1.10 }\n"),
		  "%s", fab);
	cr_assert(strstr(fab, "10.71.1.10 : 198.51.100.100"), "%s", fab);
	cr_assert(strstr(fab, "10.71.2.4 : 198.51.100.101"), "%s", fab);
	snprintf(
	    want, sizeof(want),
	    "\t\tiifname \"edge\" ip daddr 198.51.100.110 tcp dport 80 jhash ip saddr . tcp sport mod 2 seed "
	    "0x7a11 1 counter meta mark set 0x%08x\n",
	    vl_lb_mark(0, 1));
	cr_assert(strstr(fab, want), "%s\n%s", want, fab);
	snprintf(want, sizeof(want),
		 "\t\tiifname \"edge\" ip daddr 198.51.100.111 tcp dport 81 counter meta mark set 0x%08x\n",
		 vl_lb_mark(1, 1)); /* Local: node 1 is the healthy backend */
	cr_assert(strstr(fab, want), "%s\n%s", want, fab);
	free(fab);
	for (size_t i = 0; i < lab->n_eps && node0 < 0; i++)
		if (lab->eps[i].kind == VL_EP_NODE)
			node0 = (int)i;
	fab = printed(lab, node0, false);
	cr_assert(
	    strstr(fab, "\tchain kube-pre {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n"),
	    "%s", fab);
	cr_assert(
	    strstr(fab, "\t\tip daddr 198.51.100.110 tcp dport 80 numgen random mod 2 0 counter dnat to "),
	    "%s", fab);
	cr_assert(strstr(fab, "\t\tmeta mark & 0x00004000 != 0x00000000 counter masquerade\n"), "%s", fab);
	free(fab);
	vl_lab_free(lab);
}
