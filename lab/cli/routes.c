// SPDX-License-Identifier: MIT
/* routes: an endpoint's effective routes, like `az network nic show-effective-route-table`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"

/* az lists the system routes first, then those of gateways, then the user's. */
static int group(const struct vl_eroute *r)
{
	return r->source == VL_RSRC_DEFAULT ? 0 : r->source == VL_RSRC_GATEWAY ? 1 : 2;
}

static int cmp_display(const void *a, const void *b)
{
	const struct vl_eroute *x = *(const struct vl_eroute *const *)a, *y = *(const struct vl_eroute *const *)b;

	if (group(x) != group(y))
		return group(x) - group(y);
	if (x->hop != y->hop)
		return (int)x->hop - (int)y->hop;
	if (x->prefix.addr != y->prefix.addr)
		return x->prefix.addr < y->prefix.addr ? -1 : 1;
	return (int)x->prefix.len - (int)y->prefix.len;
}

static const char *route_name(const struct vl_lab *lab, const struct vl_eroute *r)
{
	if (r->table != VL_NONE)
		return lab->route_tables[r->table].routes[r->route].name;
	if (r->cluster != VL_NONE)
		return lab->eps[r->route].name;
	return NULL;
}

int cmd_routes(int argc, char **argv)
{
	static const struct option longopts[] = {{"output", required_argument, NULL, 'o'}, {0}};
	const struct vl_eroute **order = NULL;
	const struct vl_scope *sc;
	char p[VL_PREFIX_STRLEN], ip[VL_IP_STRLEN];
	struct vl_lab *lab;
	bool json = false;
	int c, ep, scope, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1)
		if (c != 'o' || parse_output(optarg, &json))
			return usage("routes");
	if (argc - optind != 2)
		return usage("routes");
	lab = load_lab_or_file(argv[optind], NULL);
	if (!lab)
		return 1;
	ep = vl_lab_find_endpoint(lab, argv[optind + 1]);
	if (ep == VL_NONE) {
		fprintf(stderr, "vnetlab: lab '%s' has no endpoint '%s'\n", lab->name, argv[optind + 1]);
		goto out;
	}
	scope = vl_eff_endpoint_scope(lab, ep);
	if (scope == VL_NONE) {
		fprintf(stderr, "vnetlab: %s is outside Azure (%s): it has no effective routes\n", lab->eps[ep].name,
			vl_ep_kind_name(lab->eps[ep].kind));
		goto out;
	}
	sc = &lab->eff->scopes[scope];
	order = calloc(sc->n_routes ? sc->n_routes : 1, sizeof(*order));
	if (!order) {
		die_errno("routes", -ENOMEM);
		goto out;
	}
	for (size_t i = 0; i < sc->n_routes; i++)
		order[i] = &sc->routes[i];
	qsort(order, sc->n_routes, sizeof(*order), cmp_display);
	if (json) {
		printf("{\"nextLink\":null,\"value\":[");
		for (size_t i = 0; i < sc->n_routes; i++) {
			const struct vl_eroute *r = order[i];

			printf("%s{\"source\":\"%s\",\"state\":\"%s\",\"addressPrefix\":[\"%s\"],\"nextHopType\":\"%s\","
			       "\"nextHopIpAddress\":[",
			       i ? "," : "", vl_route_src_name(r->source), r->active ? "Active" : "Invalid",
			       vl_prefix_fmt(r->prefix, p), vl_nh_name(r->hop));
			if (r->hop_ip)
				printf("\"%s\"", vl_ip_fmt(r->hop_ip, ip));
			printf("],\"disableBgpRoutePropagation\":%s,\"hasBgpOverride\":false,\"name\":",
			       sc->route_table != VL_NONE && lab->route_tables[sc->route_table].disable_bgp ? "true"
													  : "false");
			json_str(stdout, route_name(lab, r));
			printf("}");
		}
		printf("]}\n");
	} else {
		printf("%-22s %-8s %-18s %-22s %s\n", "Source", "State", "Address Prefix", "Next Hop Type",
		       "Next Hop IP");
		printf("%-22s %-8s %-18s %-22s %s\n", "----------------------", "--------", "------------------",
		       "----------------------", "-------------");
		for (size_t i = 0; i < sc->n_routes; i++) {
			const struct vl_eroute *r = order[i];

			printf("%-22s %-8s %-18s %-22s %s\n", vl_route_src_name(r->source),
			       r->active ? "Active" : "Invalid", vl_prefix_fmt(r->prefix, p), vl_nh_name(r->hop),
			       r->hop_ip ? vl_ip_fmt(r->hop_ip, ip) : "");
		}
	}
	rc = 0;
out:
	free(order);
	vl_lab_free(lab);
	return rc;
}
