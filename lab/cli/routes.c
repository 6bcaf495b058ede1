// SPDX-License-Identifier: MIT
/* routes: an endpoint's effective routes, like `az network nic show-effective-route-table`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "out.h"
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
	enum out_fmt fmt = OUT_TABLE;
	int c, ep, scope, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1)
		if (c != 'o' || out_parse(optarg, &fmt))
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
	if (fmt != OUT_TABLE) {
		json_t *doc = json_object(), *value = json_array();

		out_set(doc, "nextLink", json_null());
		for (size_t i = 0; i < sc->n_routes; i++) {
			const struct vl_eroute *r = order[i];
			json_t *o = json_object(), *pre = json_array(), *hop = json_array();

			out_set(o, "source", out_str(vl_route_src_name(r->source)));
			out_set(o, "state", out_str(r->active ? "Active" : "Invalid"));
			out_add(pre, out_str(vl_prefix_fmt(r->prefix, p)));
			out_set(o, "addressPrefix", pre);
			out_set(o, "nextHopType", out_str(vl_nh_name(r->hop)));
			if (r->hop_ip)
				out_add(hop, out_str(vl_ip_fmt(r->hop_ip, ip)));
			out_set(o, "nextHopIpAddress", hop);
			out_set(o, "disableBgpRoutePropagation",
				out_bool(sc->route_table != VL_NONE && lab->route_tables[sc->route_table].disable_bgp));
			out_set(o, "hasBgpOverride", out_bool(false));
			out_set(o, "name", out_str(route_name(lab, r)));
			out_add(value, o);
		}
		out_set(doc, "value", value);
		rc = out_emit(doc, fmt, "value") ? 1 : 0;
		json_decref(doc);
		goto out;
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
