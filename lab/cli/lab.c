// SPDX-License-Identifier: MIT
/* up, down, ls, show, exec, validate. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/agent.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/effective.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"
#include "vnetlab/ops.h"
#include "vnetlab/plan.h"
#include "vnetlab/rootless.h"
#include "vnetlab/state.h"

static const char *ep_nsg_name(const struct vl_lab *lab, const struct vl_endpoint *e)
{
	return e->nic_nsg != VL_NONE ? lab->nsgs[e->nic_nsg].name : NULL;
}

/* Where an endpoint sits: its subnet, or outside Azure ("internet", "onprem/<local gateway>"). */
static const char *ep_where(const struct vl_lab *lab, const struct vl_endpoint *e, char *buf, size_t len)
{
	if (e->kind == VL_EP_INTERNET)
		snprintf(buf, len, "internet");
	else if (e->kind == VL_EP_ONPREM)
		snprintf(buf, len, "onprem/%s", lab->local_gateways[e->owner].name);
	else
		snprintf(buf, len, "%s", lab->subnets[e->subnet].name);
	return buf;
}

static void print_endpoints(const struct vl_lab *lab, FILE *f)
{
	char ip[VL_IP_STRLEN], ns[VL_NS_NAME_MAX], pc[VL_PREFIX_STRLEN], where[160];

	fprintf(f, "%-24s %-15s %-16s %-15s %-14s %-18s %s\n", "ENDPOINT", "KIND", "SUBNET", "ADDRESS",
		"NIC NSG", "NODE / POD CIDR", "NAMESPACE");
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		const char *extra = "";

		if (e->kind == VL_EP_POD)
			extra = vl_pod_node_name(lab, e);
		else if (e->kind == VL_EP_NODE && e->pod_cidr.len)
			extra = vl_prefix_fmt(e->pod_cidr, pc);
		vl_ns_name(ns, lab->name, e->name);
		fprintf(f, "%-24s %-15s %-16s %-15s %-14s %-18s %s\n", e->name, vl_ep_kind_name(e->kind),
			ep_where(lab, e, where, sizeof(where)), vl_ip_fmt(e->ip, ip),
			ep_nsg_name(lab, e) ? ep_nsg_name(lab, e)
					    : (e->kind == VL_EP_CG || e->virtual_node ? "n/a" : "-"),
			extra, ns);
	}
}

/* What the lab emulates but Azure would not do, said once on stderr. */
static void print_warnings(const struct vl_lab *lab)
{
	struct vl_strv w = {0};

	if (vl_eff_vnode_warnings(lab, &w) == 0)
		for (size_t i = 0; i < w.n; i++)
			fprintf(stderr, "warning: %s\n", w.v[i]);
	vl_strv_free(&w);
}

int cmd_up(int argc, char **argv)
{
	static const struct option longopts[] = {{"dry-run", no_argument, NULL, 'n'},
						 {"name", required_argument, NULL, 'N'},
						 {"quiet", no_argument, NULL, 'q'},
						 {0}};
	struct vl_imports imports = {0};
	struct vl_lab *lab = NULL;
	bool dry = false, quiet = false;
	const char *name = NULL;
	char *content = NULL;
	size_t len;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		if (c == 'n')
			dry = true;
		else if (c == 'N')
			name = optarg;
		else if (c == 'q')
			quiet = true;
		else
			return usage("up");
	}
	if (optind != argc - 1)
		return usage("up");
	if (!dry && need_root("up"))
		return EXIT_USAGE;
	if (load_topology(argv[optind], name, &content, &len, &imports, &lab))
		return 1;
	print_warnings(lab);
	if (dry) {
		struct vl_plan *plan;

		rc = vl_plan_build(lab, &plan);
		if (!rc) {
			printf("# lab %s: %zu endpoints (dry run: nothing is built)\n", lab->name,
			       lab->n_eps);
			vl_plan_print(plan, stdout);
			for (size_t i = 0; i < plan->n_rulesets; i++) {
				const struct vl_plan_ruleset *rs = &plan->rulesets[i];

				printf("\n# %s: %s ruleset\n", plan->ns[rs->ns].name, vl_nft_ruleset_name(rs->kind));
				if (rs->kind == VL_RULESET_FABRIC)
					vl_nft_fabric_print(lab, rs->index, stdout);
				else
					vl_nft_masq_print(lab, rs->index, stdout);
			}
			vl_plan_free(plan);
		}
		goto out;
	}
	/* Once the lab is built a signal must not kill us while printing: build_lab keeps them blocked. */
	rc = build_lab(lab, argv[optind], content, len, &imports, true);
	if (rc)
		goto out;
	printf("lab %s is up: %zu endpoints\n", lab->name, lab->n_eps);
	if (!quiet)
		print_endpoints(lab, stdout);
out:
	vl_imports_free(&imports);
	free(content);
	vl_lab_free(lab);
	return rc ? 1 : 0;
}

static int down_one(const char *name)
{
	struct vl_error err = {0};
	int lock, rc;

	if (!lab_arg_ok(name))
		return EXIT_USAGE;
	if (enter_lab(name))
		return 1;
	rc = vl_state_lock(name, &lock, &err);
	if (rc) {
		print_error(&err);
		return 1;
	}
	if (!vl_state_exists(name)) {
		printf("lab %s is not up\n", name);
		vl_state_unlock(name, lock);
		return 0;
	}
	rc = vl_ops_down(name, &err);
	vl_state_unlock(name, lock);
	if (rc) {
		print_error(&err);
		return 1;
	}
	printf("lab %s is down\n", name);
	return 0;
}

static int down_in(const char *name, void *arg)
{
	(void)arg;
	return down_one(name);
}

int cmd_down(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"all", no_argument, NULL, 'a'}, {"name", required_argument, NULL, 'N'}, {0}};
	struct vl_strv labs = {0};
	const char *name = NULL;
	bool all = false;
	int rc = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'N')
			name = optarg;
		else
			return usage("down");
	}
	if (all ? optind != argc || name : optind != argc - 1)
		return usage("down");
	if (need_root("down"))
		return EXIT_USAGE;
	if (all) {
		rc = vl_state_list_labs(&labs);
		if (rc) {
			die_errno("listing labs", rc);
			return 1;
		}
		for (size_t i = 0; i < labs.n; i++)
			rc |= in_lab(labs.v[i], down_in, NULL);
		vl_strv_free(&labs);
		return rc;
	}
	if (is_file(argv[optind])) {
		struct vl_error err = {0};
		struct vl_lab *lab;

		if (name)
			return lab_arg_ok(name) ? down_one(name) : 1;
		/* A file names its lab; a broken file cannot, so say so instead of guessing. */
		if (vl_load_file(argv[optind], &lab, &err)) {
			print_error(&err);
			return 1;
		}
		rc = down_one(lab->name);
		vl_lab_free(lab);
		return rc;
	}
	if (name)
		return usage("down");
	return lab_arg_ok(argv[optind]) ? down_one(argv[optind]) : 1;
}

/* The labs of the current state root; user (or NULL) heads each row with its owner. A list
 * (not NULL) gets one object per lab; otherwise rows are printed, the header once. */
static int ls_root(const char *user, json_t *list, bool *header)
{
	struct vl_strv labs = {0};

	if (vl_state_list_labs(&labs))
		return -1;
	if (!list && labs.n && !*header) {
		if (user)
			printf("%-12s ", "USER");
		printf("%-14s %-10s %-10s %s\n", "LAB", "STATUS", "ENDPOINTS", "SOURCE");
		*header = true;
	}
	for (size_t i = 0; i < labs.n; i++) {
		struct vl_error err = {0};
		struct vl_lab *lab = NULL;
		char src[4096] = "", dir[256];
		const char *status;

		vl_state_source(labs.v[i], src, sizeof(src));
		vl_state_load_lab(labs.v[i], &lab, &err);
		vl_state_dir(dir, sizeof(dir), labs.v[i]);
		/* An up that was killed leaves state but no agent: `down` finishes it. */
		status = vl_agent_running(dir) ? "up" : "broken";
		if (list) {
			json_t *o = json_object();

			out_set(o, "name", out_str(labs.v[i]));
			if (user)
				out_set(o, "user", out_str(user));
			out_set(o, "status", out_str(status));
			out_set(o, "endpoints", out_int(lab ? (long long)lab->n_eps : 0));
			out_set(o, "source", out_str(src));
			out_add(list, o);
		} else {
			if (user)
				printf("%-12s ", user);
			printf("%-14s %-10s %-10zu %s\n", labs.v[i], status, lab ? lab->n_eps : 0, src);
		}
		vl_lab_free(lab);
	}
	vl_strv_free(&labs);
	return 0;
}

/* root's own labs, then every rootless user's (the two places their state can be). */
static int ls_all_users(json_t *list, bool *header)
{
	struct vl_strv roots = {0};
	int rc = ls_root("root", list, header);

	if (rc || vl_state_user_roots(&roots))
		return -1;
	for (size_t i = 0; i < roots.n; i++) {
		char user[64];

		if (vl_state_use_root(roots.v[i], user, sizeof(user)) == 0)
			ls_root(user, list, header);
	}
	vl_state_use_root(NULL, NULL, 0);
	vl_strv_free(&roots);
	return 0;
}

int cmd_ls(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'}, {"all-users", no_argument, NULL, 'A'}, {0}};
	enum out_fmt fmt = OUT_TABLE;
	bool all = false, header = false;
	json_t *list;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		if (c == 'A')
			all = true;
		else if (c != 'o' || out_parse(optarg, &fmt))
			return usage("ls");
	}
	if (optind != argc)
		return usage("ls");
	if (all && vl_rootless()) {
		fprintf(stderr, "vnetlab: ls --all-users needs root (other users' labs are theirs alone)\n");
		return EXIT_USAGE;
	}
	list = fmt != OUT_TABLE ? json_array() : NULL;
	rc = all ? ls_all_users(list, &header) : ls_root(NULL, list, &header);
	if (rc) {
		fprintf(stderr, "vnetlab: cannot read %s\n", vl_state_root());
		json_decref(list);
		return 1;
	}
	if (list) {
		rc = out_emit(list, fmt, NULL) ? 1 : 0;
		json_decref(list);
	}
	return rc;
}

static json_t *prefixes(const struct vl_prefix *p, size_t n)
{
	char a[VL_PREFIX_STRLEN];
	json_t *l = json_array();

	for (size_t i = 0; i < n; i++)
		out_add(l, out_str(vl_prefix_fmt(p[i], a)));
	return l;
}

static json_t *show_vnet(const struct vl_lab *lab, size_t v)
{
	const struct vl_vnet *vn = &lab->vnets[v];
	json_t *o = json_object(), *subs = json_array(), *peers = json_array();
	char a[VL_PREFIX_STRLEN];

	out_set(o, "name", out_str(vn->name));
	out_set(o, "addressSpace", prefixes(vn->spaces, vn->n_spaces));
	for (size_t i = 0; i < vn->n_subnets; i++) {
		const struct vl_subnet *s = &lab->subnets[vn->subnets[i]];
		json_t *x = json_object();

		out_set(x, "name", out_str(s->name));
		out_set(x, "addressPrefix", out_str(vl_prefix_fmt(s->prefix, a)));
		out_set(x, "networkSecurityGroup", out_str(s->nsg != VL_NONE ? lab->nsgs[s->nsg].name : NULL));
		out_set(x, "delegation", out_str(s->delegation));
		out_set(x, "routeTable",
			out_str(s->route_table != VL_NONE ? lab->route_tables[s->route_table].name : NULL));
		out_add(subs, x);
	}
	out_set(o, "subnets", subs);
	for (size_t i = 0; i < vn->n_peerings; i++) {
		const struct vl_peering *pe = &vn->peerings[i];
		json_t *x = json_object();

		out_set(x, "name", out_str(pe->name));
		out_set(x, "remoteVirtualNetwork", out_str(lab->vnets[pe->remote].name));
		out_set(x, "peeringState", out_str(vl_peer_state_name(lab->eff->peer_state[v][i])));
		out_set(x, "allowVirtualNetworkAccess", out_bool(pe->allow_vnet_access));
		out_set(x, "allowForwardedTraffic", out_bool(pe->allow_forwarded));
		out_set(x, "allowGatewayTransit", out_bool(pe->allow_gateway_transit));
		out_set(x, "useRemoteGateways", out_bool(pe->use_remote_gateways));
		out_add(peers, x);
	}
	out_set(o, "virtualNetworkPeerings", peers);
	out_set(o, "defaultOutboundAddress", out_str(vl_ip_fmt(lab->eff->outbound_ip[v], a)));
	return o;
}

static json_t *show_endpoint(const struct vl_lab *lab, const struct vl_endpoint *e)
{
	char a[VL_PREFIX_STRLEN], ns[VL_NS_NAME_MAX], where[160];
	json_t *o = json_object(), *ports = json_array();

	vl_ns_name(ns, lab->name, e->name);
	out_set(o, "name", out_str(e->name));
	out_set(o, "kind", out_str(vl_ep_kind_name(e->kind)));
	out_set(o, "subnet", out_str(e->subnet != VL_NONE ? lab->subnets[e->subnet].name : NULL));
	out_set(o, "vnet", out_str(e->subnet != VL_NONE ? lab->vnets[lab->subnets[e->subnet].vnet].name : NULL));
	out_set(o, "where", out_str(ep_where(lab, e, where, sizeof(where))));
	out_set(o, "ip", out_str(vl_ip_fmt(e->ip, a)));
	out_set(o, "namespace", out_str(ns));
	out_set(o, "nicNetworkSecurityGroup", out_str(ep_nsg_name(lab, e)));
	out_set(o, "app", out_str(e->app ? vl_app_name(e->app) : NULL));
	for (size_t p = 0; p < e->n_ports; p++)
		out_add(ports, out_int(e->ports[p]));
	out_set(o, "ports", ports);
	if (e->kind == VL_EP_POD) {
		out_set(o, "node", out_str(vl_pod_node_name(lab, e)));
		if (e->virtual_node)
			out_set(o, "virtualNode", out_bool(true));
	}
	if (e->kind == VL_EP_NODE || e->kind == VL_EP_POD)
		out_set(o, "cluster", out_str(lab->aks[e->owner].name));
	if (e->kind == VL_EP_NODE && e->pod_cidr.len)
		out_set(o, "podCidr", out_str(vl_prefix_fmt(e->pod_cidr, a)));
	return o;
}

static json_t *show_tree(const struct vl_lab *lab, bool running)
{
	json_t *o = json_object(), *l;
	char a[VL_PREFIX_STRLEN];

	out_set(o, "name", out_str(lab->name));
	out_set(o, "running", out_bool(running));
	out_set(o, "source", out_str(lab->file));
	l = json_array();
	for (size_t v = 0; v < lab->n_vnets; v++)
		out_add(l, show_vnet(lab, v));
	out_set(o, "vnets", l);
	l = json_array();
	for (size_t i = 0; i < lab->n_gateways; i++) {
		const struct vl_vnet_gateway *g = &lab->gateways[i];
		json_t *x = json_object();

		out_set(x, "name", out_str(g->name));
		out_set(x, "vnet", out_str(lab->vnets[g->vnet].name));
		out_set(x, "gatewayType", out_str(g->type == VL_GW_VPN ? "Vpn" : "ExpressRoute"));
		out_set(x, "ip", out_str(vl_ip_fmt(g->ip, a)));
		out_add(l, x);
	}
	out_set(o, "virtualNetworkGateways", l);
	l = json_array();
	for (size_t i = 0; i < lab->n_local_gateways; i++) {
		const struct vl_local_gateway *lg = &lab->local_gateways[i];
		json_t *x = json_object();

		out_set(x, "name", out_str(lg->name));
		out_set(x, "addressPrefixes", prefixes(lg->prefixes, lg->n_prefixes));
		out_add(l, x);
	}
	out_set(o, "localNetworkGateways", l);
	l = json_array();
	for (size_t i = 0; i < lab->n_connections; i++) {
		const struct vl_connection *c = &lab->connections[i];
		json_t *x = json_object();

		out_set(x, "name", out_str(c->name));
		out_set(x, "virtualNetworkGateway", out_str(lab->gateways[c->gateway].name));
		out_set(x, "localNetworkGateway", out_str(lab->local_gateways[c->local_gateway].name));
		out_set(x, "connectionType", out_str(c->type == VL_CONN_IPSEC ? "IPsec" : "ExpressRoute"));
		out_set(x, "connectionStatus", out_str("Connected"));
		out_add(l, x);
	}
	out_set(o, "connections", l);
	l = json_array();
	for (size_t i = 0; i < lab->n_nsgs; i++) {
		json_t *x = json_object();

		out_set(x, "name", out_str(lab->nsgs[i].name));
		out_set(x, "rules", out_int((long long)lab->nsgs[i].n_rules));
		out_add(l, x);
	}
	out_set(o, "networkSecurityGroups", l);
	l = json_array();
	for (size_t i = 0; i < lab->n_eps; i++)
		out_add(l, show_endpoint(lab, &lab->eps[i]));
	out_set(o, "endpoints", l);
	return o;
}

int cmd_show(int argc, char **argv)
{
	char a[VL_PREFIX_STRLEN];
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'}, {0}};
	enum out_fmt fmt = OUT_TABLE;
	struct vl_lab *lab;
	bool running;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1)
		if (c != 'o' || out_parse(optarg, &fmt))
			return usage("show");
	if (optind != argc - 1)
		return usage("show");
	lab = load_lab_or_file(argv[optind], &running);
	if (!lab)
		return 1;
	if (fmt != OUT_TABLE) {
		json_t *doc = show_tree(lab, running);

		c = out_emit(doc, fmt, NULL) ? 1 : 0;
		json_decref(doc);
		vl_lab_free(lab);
		return c;
	}
	printf("lab %s (%s)%s\n\n", lab->name, lab->file, running ? "" : " — not up");
	printf("%-12s %-16s %-18s %-14s %s\n", "VNET", "SUBNET", "PREFIX", "NSG", "DELEGATION");
	for (size_t i = 0; i < lab->n_subnets; i++) {
		const struct vl_subnet *s = &lab->subnets[i];

		printf("%-12s %-16s %-18s %-14s %s\n", lab->vnets[s->vnet].name, s->name,
		       vl_prefix_fmt(s->prefix, a), s->nsg != VL_NONE ? lab->nsgs[s->nsg].name : "-",
		       s->delegation ? s->delegation : "");
	}
	for (size_t v = 0; v < lab->n_vnets; v++)
		for (size_t i = 0; i < lab->vnets[v].n_peerings; i++) {
			const struct vl_peering *pe = &lab->vnets[v].peerings[i];

			if (!v && !i)
				printf("\n%-12s %-20s %-12s %-10s %s\n", "VNET", "PEERING", "REMOTE", "STATE", "FLAGS");
			printf("%-12s %-20s %-12s %-10s%s%s%s%s\n", lab->vnets[v].name, pe->name,
			       lab->vnets[pe->remote].name, vl_peer_state_name(lab->eff->peer_state[v][i]),
			       pe->allow_vnet_access ? " allowVirtualNetworkAccess" : "",
			       pe->allow_forwarded ? " allowForwardedTraffic" : "",
			       pe->allow_gateway_transit ? " allowGatewayTransit" : "",
			       pe->use_remote_gateways ? " useRemoteGateways" : "");
		}
	for (size_t c = 0; c < lab->n_connections; c++) {
		const struct vl_connection *cn = &lab->connections[c];
		const struct vl_vnet_gateway *g = &lab->gateways[cn->gateway];

		printf("%sconnection %s: gateway %s (%s, vnet %s, %s) <-> %s", c ? "" : "\n", cn->name, g->name,
		       g->type == VL_GW_VPN ? "Vpn" : "ExpressRoute", lab->vnets[g->vnet].name, vl_ip_fmt(g->ip, a),
		       lab->local_gateways[cn->local_gateway].name);
		for (size_t i = 0; i < lab->local_gateways[cn->local_gateway].n_prefixes; i++)
			printf(" %s", vl_prefix_fmt(lab->local_gateways[cn->local_gateway].prefixes[i], a));
		printf("\n");
	}
	printf("\n");
	for (size_t v = 0; v < lab->n_vnets; v++)
		printf("vnet %s: default outbound address %s\n", lab->vnets[v].name,
		       vl_ip_fmt(lab->eff->outbound_ip[v], a));
	for (size_t i = 0; i < lab->n_aks; i++) {
		const struct vl_aks *k = &lab->aks[i];

		printf("\ncluster %s: %s, %d nodes, pod CIDR %s", k->name,
		       k->plugin == VL_PLUGIN_KUBENET ? "kubenet" : "Azure CNI", k->node_count,
		       k->plugin == VL_PLUGIN_KUBENET ? vl_prefix_fmt(k->pod_cidr, a) : "(subnet)");
		printf(", service CIDR %s, maxPods %d\n", vl_prefix_fmt(k->service_cidr, a), k->max_pods);
		if (k->has_vnode) {
			char vn[VL_ENDPOINT_NAME_MAX + 16];

			printf("  virtual node %s: subnet %s (container groups; taint virtual-kubelet.io/provider=azure:NoSchedule)\n",
			       vl_aks_node_name(k, k->node_count, vn, sizeof(vn)), lab->subnets[k->vnode_subnet].name);
			for (size_t e = 0; e < lab->n_eps; e++)
				if (lab->eps[e].virtual_node && lab->eps[e].owner == (int)i)
					printf("    pod %-24s %s\n", lab->eps[e].name, vl_ip_fmt(lab->eps[e].ip, a));
		}
		show_services(lab, (int)i, stdout);
	}
	show_public(lab, stdout);
	printf("\n");
	print_endpoints(lab, stdout);
	vl_lab_free(lab);
	return 0;
}

int cmd_exec(int argc, char **argv)
{
	char ns[VL_NS_NAME_MAX], why[600];
	int rc;

	if (argc < 5 || strcmp(argv[3], "--"))
		return usage("exec");
	if (need_root("exec"))
		return EXIT_USAGE;
	if (!lab_arg_ok(argv[1]))
		return EXIT_USAGE;
	if (!vl_state_exists(argv[1])) {
		fprintf(stderr, "vnetlab: lab '%s' is not up\n", argv[1]);
		return 1;
	}
	{
		struct vl_lab *lab = load_lab_or_file(argv[1], NULL);

		if (!lab)
			return 1;
		/* The lab's own namespaces: "fabric" (the first VNet's), "fabric.<vnet>", "internet",
		 * "gw.<gateway>", "onprem.<local gateway>" (names with a '.' are never endpoints). */
		if (!strcmp(argv[2], "fabric") && lab->n_vnets)
			vl_fabric_ns_name(ns, lab, 0);
		else if (!strcmp(argv[2], "internet") || strchr(argv[2], '.'))
			vl_ns_name(ns, argv[1], argv[2]);
		else if (vl_lab_find_endpoint(lab, argv[2]) == VL_NONE) {
			fprintf(stderr, "vnetlab: lab '%s' has no endpoint '%s'\n", argv[1], argv[2]);
			vl_lab_free(lab);
			return 1;
		} else
			vl_ns_name(ns, argv[1], argv[2]);
		vl_lab_free(lab);
	}
	if (enter_lab(argv[1]))
		return 1;
	rc = vl_netns_exec_enter(ns, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "vnetlab: exec in %s: %s\n", ns, why);
		return 1;
	}
	execvp(argv[4], argv + 4);
	fprintf(stderr, "vnetlab: %s: %s\n", argv[4], strerror(errno));
	return 127;
}

int cmd_validate(int argc, char **argv)
{
	struct vl_errors *errs;
	struct vl_lab *lab;
	size_t rules = 0;

	if (argc != 2)
		return usage("validate");
	errs = malloc(sizeof(*errs));
	if (!errs) {
		die_errno("validate", -ENOMEM);
		return 1;
	}
	if (vl_load_file_all(argv[1], &lab, errs)) {
		for (size_t i = 0; i < errs->n; i++)
			print_error(&errs->v[i]);
		if (errs->more)
			fprintf(stderr, "...and more: the first %d errors are shown; fix them and validate again\n",
				VL_ERRORS_MAX);
		free(errs);
		return 1;
	}
	free(errs);
	for (size_t i = 0; i < lab->n_nsgs; i++)
		rules += lab->nsgs[i].n_rules;
	print_warnings(lab);
	printf(
	    "%s: lab %s is valid: %zu vnets, %zu subnets, %zu NSGs (%zu rules), %zu endpoints, %zu checks, "
	    "%zu scenario steps\n",
	    argv[1], lab->name, lab->n_vnets, lab->n_subnets, lab->n_nsgs, rules, lab->n_eps, lab->n_checks,
	    lab->n_steps);
	vl_lab_free(lab);
	return 0;
}
