// SPDX-License-Identifier: MIT
/* Azure resources of a topology: NSGs, route tables, VNets and subnets, VMs, container groups, AKS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tl.h"
#include "vnetlab/ip.h"

int tl_nsgs(struct tl *t, const struct ynode *root)
{
	const struct ynode *seq;
	struct vl_lab *lab = t->lab;
	int r = tl_objects(t, root, "networkSecurityGroups", &lab->nsgs, &lab->n_nsgs, sizeof(*lab->nsgs), &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *nn;
		struct vl_nsg *g = &lab->nsgs[i];
		bool imported;

		r = ld_nsg(&t->c, m, t->dir, g, &imported);
		if (r)
			return r;
		nn = ld_get(m, "name");
		if (!g->name)
			return ld_fail(&t->c, m, "missing 'name' in network security group");
		if (nn) {
			char *tmp = NULL;

			r = tl_resource_name(t, nn, "network security group name", &tmp);
			free(tmp);
			if (r)
				return r;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->nsgs[j].name, g->name))
				return ld_fail(&t->c, nn ? nn : m,
					       "duplicate network security group name '%s'", g->name);
		if (!imported) {
			r = vl_nsg_validate_lab(t->lab, g, t->c.file, t->c.err);
			if (r)
				return r;
		}
	}
	return 0;
}

/* In enum vl_next_hop order. */
static const char *const hop_words[] = {"VirtualAppliance", "VnetLocal", "Internet", "None",
					"VirtualNetworkGateway", NULL};

int tl_route_tables(struct tl *t, const struct ynode *root)
{
	static const char *const rt_keys[] = {"name", "routes", "disableBgpRoutePropagation", NULL};
	static const char *const route_keys[] = {"name", "addressPrefix", "nextHopType", "nextHopIpAddress",
						 NULL};
	const struct ynode *seq;
	struct vl_lab *lab = t->lab;
	int r = tl_objects(t, root, "routeTables", &lab->route_tables, &lab->n_route_tables,
			sizeof(*lab->route_tables), &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n, *routes;
		struct vl_route_table *rt = &lab->route_tables[i];

		if ((r = tl_named(t, m, "route table", rt_keys, 0, &rt->name, &n)))
			return r;
		rt->loc = m->loc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->route_tables[j].name, rt->name))
				return ld_fail(&t->c, n, "duplicate route table name '%s'", rt->name);
		if ((n = ld_get(m, "disableBgpRoutePropagation")) &&
		    (r = tl_bool(t, n, "disableBgpRoutePropagation", &rt->disable_bgp)))
			return r;
		r = tl_objects(t, m, "routes", &rt->routes, &rt->n_routes, sizeof(*rt->routes), &routes);
		if (r)
			return r;
		for (size_t j = 0; routes && j < routes->n; j++) {
			const struct ynode *rm = routes->kids[j], *hop, *ip;
			struct vl_route *ro = &rt->routes[j];
			int w;

			if ((r = tl_named(t, rm, "route", route_keys, 0, &ro->name, &n)))
				return r;
			ro->loc = rm->loc;
			for (size_t k = 0; k < j; k++)
				if (!strcmp(rt->routes[k].name, ro->name))
					return ld_fail(&t->c, n,
						       "duplicate route name '%s' in route table '%s'",
						       ro->name, rt->name);
			if ((r = ld_need(&t->c, rm, "addressPrefix", "route", &n)) ||
			    (r = tl_cidr(t, n, "addressPrefix", &ro->prefix)) ||
			    (r = ld_need(&t->c, rm, "nextHopType", "route", &hop)) ||
			    (r = tl_want_scalar(t, hop, "nextHopType")))
				return r;
			for (w = 0; hop_words[w]; w++)
				if (!strcasecmp(hop->str, hop_words[w]))
					break;
			if (!hop_words[w])
				return ld_fail(&t->c, hop,
					       "invalid nextHopType '%s'; expected one of: VirtualAppliance, "
					       "VirtualNetworkGateway, VnetLocal, Internet, None",
					       hop->str);
			ro->type = (enum vl_next_hop)w;
			ip = ld_get(rm, "nextHopIpAddress");
			if (ro->type == VL_HOP_APPLIANCE && !ip)
				return ld_fail(&t->c, rm,
					       "route '%s': nextHopType VirtualAppliance needs "
					       "nextHopIpAddress",
					       ro->name);
			if (ro->type != VL_HOP_APPLIANCE && ip)
				return ld_fail(&t->c, ip,
					       "route '%s': nextHopIpAddress is only allowed with "
					       "nextHopType VirtualAppliance",
					       ro->name);
			if (ip && (r = tl_ipv4(t, ip, "nextHopIpAddress", &ro->next_hop)))
				return r;
		}
	}
	return 0;
}

static int subnet(struct tl *t, const struct ynode *m, int vi, int si)
{
	static const char *const keys[] = {"name",	 "addressPrefix", "networkSecurityGroup",
					   "routeTable", "delegation",	  "natGateway", NULL};
	struct vl_lab *lab = t->lab;
	struct vl_subnet *s = &lab->subnets[si];
	struct vl_vnet *v = &lab->vnets[vi];
	const struct ynode *n;
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN];
	bool inside = false;
	int r;

	if ((r = tl_named(t, m, "subnet", keys, 0, &s->name, &n)))
		return r;
	s->loc = m->loc;
	for (int j = 0; j < si; j++)
		if (lab->subnets[j].vnet == vi && !strcmp(lab->subnets[j].name, s->name))
			return ld_fail(&t->c, n, "duplicate subnet name '%s' in vnet '%s'", s->name, v->name);
	if ((r = ld_need(&t->c, m, "addressPrefix", "subnet", &n)) ||
	    (r = tl_cidr(t, n, "addressPrefix", &s->prefix)))
		return r;
	if (s->prefix.len > 29)
		return ld_fail(&t->c, n, "subnet '%s' is a /%u; Azure's smallest subnet is a /29", s->name,
			       s->prefix.len);
	for (size_t j = 0; j < v->n_spaces; j++)
		inside |= vl_prefix_inside(s->prefix, v->spaces[j]);
	if (!inside)
		return ld_fail(&t->c, n, "subnet '%s' (%s) is not inside the address space of vnet '%s'",
			       s->name, vl_prefix_fmt(s->prefix, buf), v->name);
	for (int j = 0; j < si; j++)
		if (lab->subnets[j].vnet == vi && vl_prefix_overlaps(s->prefix, lab->subnets[j].prefix))
			return ld_fail(&t->c, n, "subnet '%s' (%s) overlaps subnet '%s' (%s)", s->name,
				       vl_prefix_fmt(s->prefix, buf), lab->subnets[j].name,
				       vl_prefix_fmt(lab->subnets[j].prefix, buf2));
	if ((n = ld_get(m, "networkSecurityGroup"))) {
		s->nsg_loc = n->loc;
		if ((r = tl_nsg_ref(t, n, &s->nsg)))
			return r;
		if (!strcmp(s->name, GATEWAY_SUBNET))
			return ld_fail(&t->c, n,
				       "an NSG on " GATEWAY_SUBNET " blocks the gateway; Azure refuses it (vnet '%s')",
				       v->name);
	}
	if ((n = ld_get(m, "routeTable"))) {
		if ((r = tl_want_scalar(t, n, "routeTable")))
			return r;
		for (size_t j = 0; j < lab->n_route_tables; j++)
			if (!strcmp(lab->route_tables[j].name, n->str))
				s->route_table = (int)j;
		if (s->route_table == VL_NONE)
			return ld_fail(&t->c, n, "unknown route table '%s'", n->str);
		const struct vl_route_table *rt = &lab->route_tables[s->route_table];
		for (size_t j = 0; !strcmp(s->name, GATEWAY_SUBNET) && j < rt->n_routes; j++)
			if (!rt->routes[j].prefix.len)
				return ld_fail(&t->c, n,
					       "route table '%s' has a 0.0.0.0/0 route ('%s'); on " GATEWAY_SUBNET
					       " it breaks the gateway and Azure refuses it",
					       rt->name, rt->routes[j].name);
	}
	if ((n = ld_get(m, "delegation"))) {
		if ((r = tl_want_scalar(t, n, "delegation")))
			return r;
		if (!strchr(n->str, '/') || !n->str[0])
			return ld_fail(
			    &t->c, n, "invalid delegation '%s': expected a service name like " ACI_DELEGATION,
			    n->str);
		if ((r = ld_str(&t->c, n, "delegation", &s->delegation)))
			return r;
	}
	if ((n = ld_get(m, "natGateway")) && (r = tl_nat_gateway(t, n, s)))
		return r;
	return 0;
}

static int vnet_subnets(struct tl *t, const struct ynode *subs, size_t i)
{
	struct vl_lab *lab = t->lab;
	struct vl_vnet *v = &lab->vnets[i];
	struct vl_subnet *ns = realloc(lab->subnets, (lab->n_subnets + subs->n) * sizeof(*ns));
	size_t first = lab->n_subnets;
	int r;

	if (!ns)
		return -ENOMEM;
	lab->subnets = ns;
	v->subnets = calloc(subs->n, sizeof(*v->subnets));
	if (!v->subnets)
		return -ENOMEM;
	for (size_t j = 0; j < subs->n; j++) {
		struct vl_subnet *s = &lab->subnets[first + j];

		memset(s, 0, sizeof(*s));
		s->vnet = (int)i;
		s->nsg = VL_NONE;
		s->route_table = VL_NONE;
		v->subnets[j] = (int)(first + j);
	}
	lab->n_subnets += subs->n;
	v->n_subnets = subs->n;
	for (size_t j = 0; j < subs->n; j++)
		if ((r = subnet(t, subs->kids[j], (int)i, (int)(first + j))))
			return r;
	return 0;
}

static int vnet_spaces(struct tl *t, const struct ynode *m, int vi)
{
	struct vl_lab *lab = t->lab;
	struct vl_vnet *v = &lab->vnets[vi];
	const struct ynode *n, *list;
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN];
	const char *why;
	int r = ld_need(&t->c, m, "addressSpace", "vnet", &n);

	if (r)
		return r;
	list = n;
	if (n->kind == YN_MAP) { /* ARM shape: addressSpace: {addressPrefixes: [...]} */
		static const char *const keys[] = {"addressPrefixes", NULL};

		if ((r = ld_keys(&t->c, n, "addressSpace", keys)) ||
		    (r = ld_need(&t->c, n, "addressPrefixes", "addressSpace", &list)))
			return r;
	}
	if (list->kind == YN_MAP)
		return ld_fail(&t->c, list, "expected a list of CIDRs for addressSpace, got a mapping");
	size_t k = list->kind == YN_SEQ ? list->n : 1;
	if (!k)
		return ld_fail(&t->c, list, "vnet '%s' needs at least one address space", v->name);
	v->spaces = calloc(k, sizeof(*v->spaces));
	if (!v->spaces)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		const struct ynode *e = list->kind == YN_SEQ ? list->kids[i] : list;
		struct vl_prefix p;

		if ((r = tl_cidr(t, e, "addressSpace", &p)))
			return r;
		if ((why = tl_reserved_overlap(p)))
			return ld_fail(&t->c, e, "address space %s of vnet '%s' overlaps %s, which Azure reserves",
				       vl_prefix_fmt(p, buf), v->name, why);
		/* Other VNets may overlap this one unless a peering joins them (tl_peerings). */
		for (size_t j = 0; j < v->n_spaces; j++)
			if (vl_prefix_overlaps(p, v->spaces[j]))
				return ld_fail(&t->c, e, "address space %s of vnet '%s' overlaps its %s",
					       vl_prefix_fmt(p, buf), v->name, vl_prefix_fmt(v->spaces[j], buf2));
		v->spaces[v->n_spaces++] = p;
	}
	return 0;
}

int tl_vnets(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"name", "addressSpace", "subnets", "virtualNetworkPeerings", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = tl_objects(t, root, "vnets", &lab->vnets, &lab->n_vnets, sizeof(*lab->vnets), &seq);

	if (r || !seq)
		return r;
	t->vnet_maps = calloc(seq->n, sizeof(*t->vnet_maps));
	if (!t->vnet_maps)
		return -ENOMEM;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n, *subs;
		struct vl_vnet *v = &lab->vnets[i];

		if ((r = tl_named(t, m, "vnet", keys, 0, &v->name, &n)))
			return r;
		v->loc = m->loc;
		t->vnet_maps[i] = m;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->vnets[j].name, v->name))
				return ld_fail(&t->c, n, "duplicate vnet name '%s'", v->name);
		if ((r = vnet_spaces(t, m, (int)i)) || (r = tl_list_of(t, m, "subnets", &subs)))
			return r;
		if (subs && subs->n && (r = vnet_subnets(t, subs, i)))
			return r;
		if ((r = tl_vnet_peerings(t, m, (int)i)))
			return r;
	}
	return 0;
}

int tl_vms(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"name",
					   "subnet",
					   "privateIpAddress",
					   "networkSecurityGroup",
					   "app",
					   "ports",
					   "enableIpForwarding",
					   "enableIPForwarding", /* ARM's spelling */
					   "publicIpAddress",
					   "applicationSecurityGroups", /* tl_asg_members() */
					   NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = tl_objects(t, root, "vms", &lab->vms, &lab->n_vms, sizeof(*lab->vms), &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n;
		struct vl_vm *vm = &lab->vms[i];

		vm->subnet = VL_NONE;
		vm->nsg = VL_NONE;
		if ((r = tl_named(t, m, "vm", keys, VL_ENDPOINT_NAME_MAX, &vm->name, &n)) ||
		    (r = tl_claim(t, vm->name, n, "vm")) ||
		    (r = tl_subnet_ref(t, m, "vm", vm->name, false, &vm->subnet)))
			return r;
		vm->loc = m->loc;
		if ((n = ld_get(m, "privateIpAddress")) &&
		    (r = tl_ipv4(t, n, "privateIpAddress", &vm->static_ip)))
			return r;
		if ((n = ld_get(m, "networkSecurityGroup")) && (r = tl_nsg_ref(t, n, &vm->nsg)))
			return r;
		if ((r = tl_app_ports(t, m, &vm->app, &vm->ports, &vm->n_ports)))
			return r;
		if ((n = ld_get(m, "publicIpAddress"))) {
			vm->has_public_ip = true;
			vm->public_ip_loc = n->loc;
			if (n->kind == YN_SCALAR && n->plain && !strcmp(n->str, "false"))
				vm->has_public_ip = false;
			else if ((r = tl_public_ip(t, n, "publicIpAddress", &vm->public_ip)))
				return r;
		}
		const struct ynode *fwd = ld_get(m, "enableIpForwarding"), *fwd2 = ld_get(m, "enableIPForwarding");
		if (fwd && fwd2)
			return ld_fail(&t->c, fwd2,
				       "enableIpForwarding and enableIPForwarding are one setting; give it once");
		if ((fwd || fwd2) &&
		    (r = tl_bool(t, fwd ? fwd : fwd2, fwd ? "enableIpForwarding" : "enableIPForwarding",
				 &vm->ip_forwarding)))
			return r;
	}
	return 0;
}

int tl_cgs(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"name", "subnet", "app", "ports", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = tl_objects(t, root, "containerGroups", &lab->cgs, &lab->n_cgs, sizeof(*lab->cgs), &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n;
		struct vl_container_group *cg = &lab->cgs[i];

		cg->subnet = VL_NONE;
		if ((r = tl_named(t, m, "container group", keys, VL_ENDPOINT_NAME_MAX, &cg->name, &n)) ||
		    (r = tl_claim(t, cg->name, n, "container group")) ||
		    (r = tl_subnet_ref(t, m, "container group", cg->name, true, &cg->subnet)))
			return r;
		cg->loc = m->loc;
		if ((r = tl_app_ports(t, m, &cg->app, &cg->ports, &cg->n_ports)))
			return r;
	}
	return 0;
}

static int no_vnet_overlap(struct tl *t, const struct ynode *at, const char *what, const char *cluster,
			   struct vl_prefix p, bool dflt)
{
	const struct vl_lab *lab = t->lab;
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN];

	for (size_t i = 0; i < lab->n_vnets; i++)
		for (size_t j = 0; j < lab->vnets[i].n_spaces; j++)
			if (vl_prefix_overlaps(p, lab->vnets[i].spaces[j]))
				return ld_fail(
				    &t->c, at,
				    "%s%s %s of cluster '%s' overlaps address space %s of vnet '%s'%s",
				    dflt ? "default " : "", what, vl_prefix_fmt(p, buf), cluster,
				    vl_prefix_fmt(lab->vnets[i].spaces[j], buf2), lab->vnets[i].name,
				    dflt ? "; set another one" : "");
	return 0;
}

/* An inline pod's Kubernetes namespace (default "default") and labels (default app=<name>). */
static int pod_meta(struct tl *t, const struct ynode *m, struct vl_aks *a, struct vl_pod_spec *p)
{
	const struct ynode *n = ld_get(m, "namespace");
	int r;

	if (n && (r = ld_str(&t->c, n, "namespace", &p->ns)))
		return r;
	if (!p->ns && !(p->ns = strdup("default")))
		return -ENOMEM;
	if ((r = tl_k8s_ns(t, a, p->ns, n ? n : m, NULL)))
		return r;
	if ((n = ld_get(m, "labels")) && !n->null)
		return tl_labels(t, n, "labels", &p->labels);
	return vl_labels_set(&p->labels, "app", p->name);
}

static int pods(struct tl *t, const struct ynode *seq, struct vl_aks *a)
{
	static const char *const keys[] = {"name", "replicas", "node", "app", "ports", "labels", "namespace", NULL};
	char name[VL_ENDPOINT_NAME_MAX + 16];
	int r = 0;

	a->pods = calloc(seq->n, sizeof(*a->pods));
	if (!a->pods)
		return -ENOMEM;
	a->n_pods = seq->n;
	for (size_t i = 0; i < seq->n && !r; i++) {
		const struct ynode *m = seq->kids[i], *n, *nn;
		struct vl_pod_spec *p = &a->pods[i];

		p->node = VL_NONE;
		if ((r = ld_map(&t->c, m, "pod")) || (r = ld_keys(&t->c, m, "pod", keys)) ||
		    (r = ld_need(&t->c, m, "name", "pod", &nn)))
			break;
		p->loc = m->loc;
		/* replicas == 0 means "not given": one endpoint named like the pod.
		 * Given replicas make endpoints name-0, name-1, … */
		if ((n = ld_get(m, "replicas")) &&
		    (r = ld_int(&t->c, n, "replicas", 1, VL_ENDPOINTS_MAX, &p->replicas)))
			break;
		if ((r = tl_endpoint_name(t, nn, "pod name",
				       p->replicas
					   ? VL_ENDPOINT_NAME_MAX - 1 -
						 (size_t)snprintf(name, sizeof(name), "%d", p->replicas - 1)
					   : VL_ENDPOINT_NAME_MAX,
				       &p->name)))
			break;
		if ((n = ld_get(m, "node")) &&
		    (r = ld_int(&t->c, n, "node", 0, a->node_count - 1, &p->node))) {
			snprintf(
			    t->c.err->msg, sizeof(t->c.err->msg),
			    "node must be a node index from 0 to %d (cluster '%s' has nodeCount %d), got %s",
			    a->node_count - 1, a->name, a->node_count, n->str);
			break;
		}
		if ((r = tl_app_ports(t, m, &p->app, &p->ports, &p->n_ports)))
			break;
		if ((r = pod_meta(t, m, a, p)))
			break;
		r = tl_pod_claim(t, p, nn);
	}
	return r;
}

static int aks_one(struct tl *t, const struct ynode *m, size_t i)
{
	static const char *const keys[] = {"name",
					   "subnet",
					   "networkPlugin",
					   "podCidr",
					   "serviceCidr",
					   "nodeCount",
					   "maxPods",
					   "nodeNetworkSecurityGroup",
					   "nonMasqueradeCidrs",
					   "networkPolicy",
					   "npmCompat",
					   "networkPolicies",
					   "namespaces",
					   "pods",
					   "kubernetesVersion",
					   "outboundType",
					   "outboundIp",
					   "services",
					   "manifests",
					   "virtualNode",
					   NULL};
	struct vl_lab *lab = t->lab;
	struct vl_aks *a = &lab->aks[i];
	const struct ynode *n, *nn, *pc;
	char name[VL_ENDPOINT_NAME_MAX + 16], buf[VL_PREFIX_STRLEN];
	int r;

	a->subnet = VL_NONE;
	a->node_nsg = VL_NONE;
	/* room for the node endpoints "<name>-node-<i>", i < 100 */
	if ((r = tl_named(t, m, "AKS cluster", keys, VL_ENDPOINT_NAME_MAX - 9, &a->name, &nn)))
		return r;
	a->loc = m->loc;
	for (size_t j = 0; j < i; j++)
		if (!strcmp(lab->aks[j].name, a->name))
			return ld_fail(&t->c, nn, "duplicate AKS cluster name '%s'", a->name);
	if ((r = tl_subnet_ref(t, m, "AKS cluster", a->name, false, &a->subnet)))
		return r;
	if ((r = tl_aks_outbound(t, m, a)))
		return r;
	a->plugin = VL_PLUGIN_KUBENET;
	if ((n = ld_get(m, "networkPlugin"))) {
		if ((r = tl_want_scalar(t, n, "networkPlugin")))
			return r;
		if (!strcasecmp(n->str, "azure"))
			a->plugin = VL_PLUGIN_AZURE;
		else if (strcasecmp(n->str, "kubenet"))
			return ld_fail(&t->c, n,
				       "invalid networkPlugin '%s'; expected one of: kubenet, azure", n->str);
	}
	/* A kubenet cluster owns its subnet's route table (its pod CIDR routes): one per subnet. */
	for (size_t j = 0; a->plugin == VL_PLUGIN_KUBENET && j < i; j++)
		if (lab->aks[j].plugin == VL_PLUGIN_KUBENET && lab->aks[j].subnet == a->subnet)
			return ld_fail(&t->c, ld_get(m, "subnet"),
				       "subnet '%s' already holds kubenet cluster '%s'; Azure allows one kubenet "
				       "cluster per subnet",
				       lab->subnets[a->subnet].name, lab->aks[j].name);
	if ((r = tl_netpol_engine(t, m, a)))
		return r;
	a->node_count = 3;
	if ((n = ld_get(m, "nodeCount")) && (r = ld_int(&t->c, n, "nodeCount", 1, 100, &a->node_count)))
		return r;
	a->max_pods = a->plugin == VL_PLUGIN_KUBENET ? 110 : 30;
	if ((n = ld_get(m, "maxPods")) && (r = ld_int(&t->c, n, "maxPods", 1, 250, &a->max_pods)))
		return r;
	if ((n = ld_get(m, "nodeNetworkSecurityGroup")) && (r = tl_nsg_ref(t, n, &a->node_nsg)))
		return r;

	pc = ld_get(m, "podCidr");
	a->pod_cidr = (struct vl_prefix){0x0af40000u, 16}; /* 10.244.0.0/16 */
	if (pc && a->plugin == VL_PLUGIN_AZURE)
		return ld_fail(&t->c, pc,
			       "podCidr applies to networkPlugin kubenet only (Azure CNI pods take "
			       "addresses from the subnet)");
	if (pc && (r = tl_cidr(t, pc, "podCidr", &a->pod_cidr)))
		return r;
	if (a->plugin == VL_PLUGIN_KUBENET) {
		if (a->pod_cidr.len > 24 ||
		    (a->pod_cidr.len > 17 && (1 << (24 - a->pod_cidr.len)) < a->node_count))
			return ld_fail(&t->c, pc ? pc : m,
				       "podCidr %s of cluster '%s' has no room for %d node /24s",
				       vl_prefix_fmt(a->pod_cidr, buf), a->name, a->node_count);
		if ((r = no_vnet_overlap(t, pc ? pc : m, "podCidr", a->name, a->pod_cidr, !pc)))
			return r;
		for (size_t j = 0; j < i; j++)
			if (lab->aks[j].plugin == VL_PLUGIN_KUBENET &&
			    vl_prefix_overlaps(a->pod_cidr, lab->aks[j].pod_cidr))
				return ld_fail(
				    &t->c, pc ? pc : m,
				    "podCidr %s of cluster '%s' overlaps the podCidr of cluster '%s'; "
				    "kubenet clusters in one lab need their own pod CIDRs",
				    vl_prefix_fmt(a->pod_cidr, buf), a->name, lab->aks[j].name);
	}
	n = ld_get(m, "serviceCidr");
	a->service_cidr = (struct vl_prefix){0x0a000000u, 16}; /* 10.0.0.0/16 */
	if (n && (r = tl_cidr(t, n, "serviceCidr", &a->service_cidr)))
		return r;
	if ((r = no_vnet_overlap(t, n ? n : m, "serviceCidr", a->name, a->service_cidr, !n)))
		return r;
	if (a->plugin == VL_PLUGIN_KUBENET && vl_prefix_overlaps(a->service_cidr, a->pod_cidr))
		return ld_fail(&t->c, n ? n : m, "serviceCidr of cluster '%s' overlaps its podCidr", a->name);
	if ((n = ld_get(m, "nonMasqueradeCidrs")) &&
	    (r = tl_cidr_list(t, n, "nonMasqueradeCidrs", &a->non_masq, &a->n_non_masq)))
		return r;
	for (int k = 0; k < a->node_count; k++) {
		snprintf(name, sizeof(name), "%s-node-%d", a->name, k);
		if ((r = tl_claim(t, name, nn, "node")))
			return r;
	}
	if ((n = ld_get(m, "virtualNode")) && (r = tl_virtual_node(t, n, a)))
		return r;
	if ((r = tl_list_of(t, m, "pods", &n)))
		return r;
	if (n && n->n && (r = pods(t, n, a)))
		return r;
	if ((r = tl_netpol_cluster(t, m, a)))
		return r;
	if ((n = ld_get(m, "manifests")) && (r = tl_manifests(t, n, a)))
		return r;
	if ((r = tl_services(t, m, a)))
		return r;
	return tl_schedule(t, a);
}

int tl_aks(struct tl *t, const struct ynode *root)
{
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = tl_objects(t, root, "aksClusters", &lab->aks, &lab->n_aks, sizeof(*lab->aks), &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++)
		r = aks_one(t, seq->kids[i], i);
	return r;
}
