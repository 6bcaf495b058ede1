// SPDX-License-Identifier: MIT
/*
 * Where two labs' resources differ (not their names, checks or scenarios): a file
 * edited after `up` against the lab that runs. Objects are matched by name, so a
 * reordered file is no difference; each difference is named once, in words.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vnetlab/model.h"

__attribute__((format(printf, 2, 3))) static int add(struct vl_strv *out, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < out->n; i++)
		if (!strcmp(out->v[i], buf))
			return 0;
	return vl_strv_push(out, buf);
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool strv_eq(const struct vl_strv *a, const struct vl_strv *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

static bool rule_eq(const struct vl_rule *a, const struct vl_rule *b)
{
	return a->priority == b->priority && a->dir == b->dir && a->access == b->access &&
	       a->proto == b->proto && str_eq(a->src_prefix, b->src_prefix) &&
	       strv_eq(&a->src_prefixes, &b->src_prefixes) && str_eq(a->dst_prefix, b->dst_prefix) &&
	       strv_eq(&a->dst_prefixes, &b->dst_prefixes) && str_eq(a->src_port, b->src_port) &&
	       strv_eq(&a->src_ports, &b->src_ports) && str_eq(a->dst_port, b->dst_port) &&
	       strv_eq(&a->dst_ports, &b->dst_ports);
}

static const char *nsg_of(const struct vl_lab *lab, int i)
{
	return i == VL_NONE ? NULL : lab->nsgs[i].name;
}

static int diff_nsgs(const struct vl_lab *a, const struct vl_lab *b, struct vl_strv *out)
{
	int r = 0;

	for (size_t i = 0; i < a->n_nsgs && !r; i++) {
		const struct vl_nsg *x = &a->nsgs[i];
		int j = vl_lab_find_nsg(b, x->name);
		bool same = j != VL_NONE && b->nsgs[j].n_rules == x->n_rules;

		for (size_t k = 0; same && k < x->n_rules; k++) {
			int m = vl_nsg_find_rule(&b->nsgs[j], x->rules[k].name);

			same = m >= 0 && rule_eq(&x->rules[k], &b->nsgs[j].rules[m]);
		}
		if (!same)
			r = add(out, "NSG %s%s", x->name, j == VL_NONE ? " (only in one)" : "");
	}
	for (size_t i = 0; i < b->n_nsgs && !r; i++)
		if (vl_lab_find_nsg(a, b->nsgs[i].name) == VL_NONE)
			r = add(out, "NSG %s (only in one)", b->nsgs[i].name);
	return r;
}

static const struct vl_route_table *find_rt(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_route_tables; i++)
		if (!strcmp(lab->route_tables[i].name, name))
			return &lab->route_tables[i];
	return NULL;
}

static bool rt_eq(const struct vl_route_table *x, const struct vl_route_table *y)
{
	if (!y || x->n_routes != y->n_routes || x->disable_bgp != y->disable_bgp)
		return false;
	for (size_t i = 0; i < x->n_routes; i++) {
		const struct vl_route *p = &x->routes[i], *q = &y->routes[i];

		if (strcmp(p->name, q->name) || p->prefix.addr != q->prefix.addr ||
		    p->prefix.len != q->prefix.len || p->type != q->type || p->next_hop != q->next_hop)
			return false;
	}
	return true;
}

static int diff_route_tables(const struct vl_lab *a, const struct vl_lab *b, struct vl_strv *out)
{
	int r = 0;

	for (size_t i = 0; i < a->n_route_tables && !r; i++)
		if (!rt_eq(&a->route_tables[i], find_rt(b, a->route_tables[i].name)))
			r = add(out, "route table %s", a->route_tables[i].name);
	for (size_t i = 0; i < b->n_route_tables && !r; i++)
		if (!find_rt(a, b->route_tables[i].name))
			r = add(out, "route table %s", b->route_tables[i].name);
	return r;
}

static const struct vl_subnet *find_subnet(const struct vl_lab *lab, const char *vnet, const char *name)
{
	for (size_t i = 0; i < lab->n_subnets; i++)
		if (!strcmp(lab->subnets[i].name, name) &&
		    !strcmp(lab->vnets[lab->subnets[i].vnet].name, vnet))
			return &lab->subnets[i];
	return NULL;
}

static bool subnet_eq(const struct vl_lab *a, const struct vl_subnet *x, const struct vl_lab *b,
		      const struct vl_subnet *y)
{
	return y && x->prefix.addr == y->prefix.addr && x->prefix.len == y->prefix.len &&
	       str_eq(nsg_of(a, x->nsg), nsg_of(b, y->nsg)) && str_eq(x->delegation, y->delegation) &&
	       str_eq(x->route_table == VL_NONE ? NULL : a->route_tables[x->route_table].name,
		      y->route_table == VL_NONE ? NULL : b->route_tables[y->route_table].name);
}

static const struct vl_vnet *find_vnet(const struct vl_lab *lab, const char *name)
{
	for (size_t i = 0; i < lab->n_vnets; i++)
		if (!strcmp(lab->vnets[i].name, name))
			return &lab->vnets[i];
	return NULL;
}

static bool vnet_eq(const struct vl_lab *a, const struct vl_vnet *x, const struct vl_lab *b,
		    const struct vl_vnet *y)
{
	if (!y || x->n_spaces != y->n_spaces || x->n_subnets != y->n_subnets ||
	    x->n_peerings != y->n_peerings)
		return false;
	for (size_t i = 0; i < x->n_spaces; i++)
		if (x->spaces[i].addr != y->spaces[i].addr || x->spaces[i].len != y->spaces[i].len)
			return false;
	for (size_t i = 0; i < x->n_peerings; i++) {
		const struct vl_peering *p = &x->peerings[i], *q = &y->peerings[i];

		if (strcmp(p->name, q->name) || strcmp(a->vnets[p->remote].name, b->vnets[q->remote].name) ||
		    p->allow_vnet_access != q->allow_vnet_access ||
		    p->allow_forwarded != q->allow_forwarded ||
		    p->allow_gateway_transit != q->allow_gateway_transit ||
		    p->use_remote_gateways != q->use_remote_gateways)
			return false;
	}
	return true;
}

static int diff_network(const struct vl_lab *a, const struct vl_lab *b, struct vl_strv *out)
{
	int r = 0;

	for (size_t i = 0; i < a->n_vnets && !r; i++)
		if (!vnet_eq(a, &a->vnets[i], b, find_vnet(b, a->vnets[i].name)))
			r = add(out, "VNet %s", a->vnets[i].name);
	for (size_t i = 0; i < b->n_vnets && !r; i++)
		if (!find_vnet(a, b->vnets[i].name))
			r = add(out, "VNet %s", b->vnets[i].name);
	for (size_t i = 0; i < a->n_subnets && !r; i++) {
		const struct vl_subnet *x = &a->subnets[i];

		if (!subnet_eq(a, x, b, find_subnet(b, a->vnets[x->vnet].name, x->name)))
			r = add(out, "subnet %s/%s", a->vnets[x->vnet].name, x->name);
	}
	for (size_t i = 0; i < b->n_subnets && !r; i++) {
		const struct vl_subnet *y = &b->subnets[i];

		if (!find_subnet(a, b->vnets[y->vnet].name, y->name))
			r = add(out, "subnet %s/%s", b->vnets[y->vnet].name, y->name);
	}
	return r;
}

static bool ep_eq(const struct vl_lab *a, const struct vl_endpoint *x, const struct vl_lab *b,
		  const struct vl_endpoint *y)
{
	if (x->kind != y->kind || x->ip != y->ip || x->app != y->app || x->n_ports != y->n_ports ||
	    !str_eq(nsg_of(a, x->nic_nsg), nsg_of(b, y->nic_nsg)))
		return false;
	if ((x->subnet == VL_NONE) != (y->subnet == VL_NONE) ||
	    (x->subnet != VL_NONE && strcmp(a->subnets[x->subnet].name, b->subnets[y->subnet].name)))
		return false;
	for (size_t i = 0; i < x->n_ports; i++)
		if (x->ports[i] != y->ports[i])
			return false;
	return true;
}

static int diff_endpoints(const struct vl_lab *a, const struct vl_lab *b, struct vl_strv *out)
{
	int r = 0;

	for (size_t i = 0; i < a->n_eps && !r; i++) {
		int j = vl_lab_find_endpoint(b, a->eps[i].name);

		if (j == VL_NONE || !ep_eq(a, &a->eps[i], b, &b->eps[j]))
			r = add(out, "endpoint %s%s", a->eps[i].name, j == VL_NONE ? " (only in one)" : "");
	}
	for (size_t i = 0; i < b->n_eps && !r; i++)
		if (vl_lab_find_endpoint(a, b->eps[i].name) == VL_NONE)
			r = add(out, "endpoint %s (only in one)", b->eps[i].name);
	return r;
}

int vl_lab_diff(const struct vl_lab *a, const struct vl_lab *b, struct vl_strv *out)
{
	int r = diff_network(a, b, out);

	r = r ?: diff_nsgs(a, b, out);
	r = r ?: diff_route_tables(a, b, out);
	r = r ?: diff_endpoints(a, b, out);
	if (!r && (a->n_gateways != b->n_gateways || a->n_local_gateways != b->n_local_gateways ||
		   a->n_connections != b->n_connections || a->n_aks != b->n_aks))
		r = add(out, "gateways, on-premises networks or clusters");
	return r;
}
