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
#include "vnetlab/agent.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"
#include "vnetlab/effective.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"
#include "vnetlab/ops.h"
#include "vnetlab/plan.h"
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
			rc |= down_one(labs.v[i]);
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

int cmd_ls(int argc, char **argv)
{
	struct vl_strv labs = {0};
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "o:")) != -1)
		if (c != 'o' || parse_output(optarg, &json))
			return usage("ls");
	if (optind != argc)
		return usage("ls");
	if (vl_state_list_labs(&labs)) {
		fprintf(stderr, "vnetlab: cannot read %s\n", VL_STATE_ROOT);
		return 1;
	}
	if (json)
		printf("[");
	else if (labs.n)
		printf("%-14s %-10s %-10s %s\n", "LAB", "STATUS", "ENDPOINTS", "SOURCE");
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
		if (json) {
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, labs.v[i]);
			printf(",\"status\":\"%s\",\"endpoints\":%zu,\"source\":", status,
			       lab ? lab->n_eps : 0);
			json_str(stdout, src);
			printf("}");
		} else {
			printf("%-14s %-10s %-10zu %s\n", labs.v[i], status, lab ? lab->n_eps : 0, src);
		}
		vl_lab_free(lab);
	}
	if (json)
		printf("]\n");
	vl_strv_free(&labs);
	return 0;
}

static void show_json(const struct vl_lab *lab, bool running)
{
	char a[VL_PREFIX_STRLEN], ns[VL_NS_NAME_MAX], where[160];

	printf("{\"name\":");
	json_str(stdout, lab->name);
	printf(",\"running\":%s,\"source\":", running ? "true" : "false");
	json_str(stdout, lab->file);
	printf(",\"vnets\":[");
	for (size_t v = 0; v < lab->n_vnets; v++) {
		const struct vl_vnet *vn = &lab->vnets[v];

		printf("%s{\"name\":", v ? "," : "");
		json_str(stdout, vn->name);
		printf(",\"addressSpace\":[");
		for (size_t i = 0; i < vn->n_spaces; i++)
			printf("%s\"%s\"", i ? "," : "", vl_prefix_fmt(vn->spaces[i], a));
		printf("],\"subnets\":[");
		for (size_t i = 0; i < vn->n_subnets; i++) {
			const struct vl_subnet *s = &lab->subnets[vn->subnets[i]];

			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, s->name);
			printf(",\"addressPrefix\":\"%s\",\"networkSecurityGroup\":",
			       vl_prefix_fmt(s->prefix, a));
			json_str(stdout, s->nsg != VL_NONE ? lab->nsgs[s->nsg].name : NULL);
			printf(",\"delegation\":");
			json_str(stdout, s->delegation);
			printf(",\"routeTable\":");
			json_str(stdout, s->route_table != VL_NONE ? lab->route_tables[s->route_table].name : NULL);
			printf("}");
		}
		printf("],\"virtualNetworkPeerings\":[");
		for (size_t i = 0; i < vn->n_peerings; i++) {
			const struct vl_peering *pe = &vn->peerings[i];

			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, pe->name);
			printf(",\"remoteVirtualNetwork\":");
			json_str(stdout, lab->vnets[pe->remote].name);
			printf(",\"peeringState\":\"%s\",\"allowVirtualNetworkAccess\":%s,\"allowForwardedTraffic\":%s,"
			       "\"allowGatewayTransit\":%s,\"useRemoteGateways\":%s}",
			       vl_peer_state_name(lab->eff->peer_state[v][i]), pe->allow_vnet_access ? "true" : "false",
			       pe->allow_forwarded ? "true" : "false", pe->allow_gateway_transit ? "true" : "false",
			       pe->use_remote_gateways ? "true" : "false");
		}
		printf("],\"defaultOutboundAddress\":\"%s\"}", vl_ip_fmt(lab->eff->outbound_ip[v], a));
	}
	printf("],\"virtualNetworkGateways\":[");
	for (size_t i = 0; i < lab->n_gateways; i++) {
		const struct vl_vnet_gateway *g = &lab->gateways[i];

		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, g->name);
		printf(",\"vnet\":");
		json_str(stdout, lab->vnets[g->vnet].name);
		printf(",\"gatewayType\":\"%s\",\"ip\":\"%s\"}", g->type == VL_GW_VPN ? "Vpn" : "ExpressRoute",
		       vl_ip_fmt(g->ip, a));
	}
	printf("],\"localNetworkGateways\":[");
	for (size_t i = 0; i < lab->n_local_gateways; i++) {
		const struct vl_local_gateway *l = &lab->local_gateways[i];

		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, l->name);
		printf(",\"addressPrefixes\":[");
		for (size_t j = 0; j < l->n_prefixes; j++)
			printf("%s\"%s\"", j ? "," : "", vl_prefix_fmt(l->prefixes[j], a));
		printf("]}");
	}
	printf("],\"connections\":[");
	for (size_t i = 0; i < lab->n_connections; i++) {
		const struct vl_connection *c = &lab->connections[i];

		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, c->name);
		printf(",\"virtualNetworkGateway\":");
		json_str(stdout, lab->gateways[c->gateway].name);
		printf(",\"localNetworkGateway\":");
		json_str(stdout, lab->local_gateways[c->local_gateway].name);
		printf(",\"connectionType\":\"%s\",\"connectionStatus\":\"Connected\"}",
		       c->type == VL_CONN_IPSEC ? "IPsec" : "ExpressRoute");
	}
	printf("],\"networkSecurityGroups\":[");
	for (size_t i = 0; i < lab->n_nsgs; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, lab->nsgs[i].name);
		printf(",\"rules\":%zu}", lab->nsgs[i].n_rules);
	}
	printf("],\"endpoints\":[");
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		vl_ns_name(ns, lab->name, e->name);
		printf("%s{\"name\":", i ? "," : "");
		json_str(stdout, e->name);
		printf(",\"kind\":\"%s\",\"subnet\":", vl_ep_kind_name(e->kind));
		json_str(stdout, e->subnet != VL_NONE ? lab->subnets[e->subnet].name : NULL);
		printf(",\"vnet\":");
		json_str(stdout, e->subnet != VL_NONE ? lab->vnets[lab->subnets[e->subnet].vnet].name : NULL);
		printf(",\"where\":");
		json_str(stdout, ep_where(lab, e, where, sizeof(where)));
		printf(",\"ip\":\"%s\",\"namespace\":", vl_ip_fmt(e->ip, a));
		json_str(stdout, ns);
		printf(",\"nicNetworkSecurityGroup\":");
		json_str(stdout, ep_nsg_name(lab, e));
		printf(",\"app\":");
		json_str(stdout, e->app ? vl_app_name(e->app) : NULL);
		printf(",\"ports\":[");
		for (size_t p = 0; p < e->n_ports; p++)
			printf("%s%u", p ? "," : "", e->ports[p]);
		printf("]");
		if (e->kind == VL_EP_POD) {
			printf(",\"node\":");
			json_str(stdout, vl_pod_node_name(lab, e));
			if (e->virtual_node)
				printf(",\"virtualNode\":true");
		}
		if (e->kind == VL_EP_NODE || e->kind == VL_EP_POD) {
			printf(",\"cluster\":");
			json_str(stdout, lab->aks[e->owner].name);
		}
		if (e->kind == VL_EP_NODE && e->pod_cidr.len)
			printf(",\"podCidr\":\"%s\"", vl_prefix_fmt(e->pod_cidr, a));
		printf("}");
	}
	printf("]}\n");
}

int cmd_show(int argc, char **argv)
{
	char a[VL_PREFIX_STRLEN];
	struct vl_lab *lab;
	bool json = false, running;
	int c;

	optind = 1;
	while ((c = getopt(argc, argv, "o:")) != -1)
		if (c != 'o' || parse_output(optarg, &json))
			return usage("show");
	if (optind != argc - 1)
		return usage("show");
	lab = load_lab_or_file(argv[optind], &running);
	if (!lab)
		return 1;
	if (json) {
		show_json(lab, running);
		vl_lab_free(lab);
		return 0;
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
	struct vl_error err = {0};
	struct vl_lab *lab;
	size_t rules = 0;

	if (argc != 2)
		return usage("validate");
	if (vl_load_file(argv[1], &lab, &err)) {
		print_error(&err);
		return 1;
	}
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
