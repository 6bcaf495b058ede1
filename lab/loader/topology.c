// SPDX-License-Identifier: MIT
/* Topology file → validated, resolved struct vl_lab. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ld.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"

#define ACI_DELEGATION "Microsoft.ContainerInstance/containerGroups"
#define RESOURCE_NAME_MAX 80
#define CHECK_NAME_MAX 120
#define WAIT_MS_MAX 3600000

struct epname {
	char *name;
	const struct ynode *at;
};

struct tl {
	struct ld c;
	struct vl_lab *lab;
	char *dir;
	struct epname *eps; /* endpoint names claimed so far */
	size_t n_eps;
	int *ep_hash;			 /* open addressing over eps: index + 1, 0 = empty */
	const struct ynode **check_maps; /* parallel to lab->checks */
};

/* Grows *arr by one zeroed element; returns it or NULL. */
static void *grow(void *arr, size_t *n, size_t size)
{
	void *base;
	char *v;

	memcpy(&base, arr, sizeof(base)); /* arr points to a T *; memcpy keeps aliasing rules */
	v = realloc(base, (*n + 1) * size);
	if (!v)
		return NULL;
	memcpy(arr, &v, sizeof(v));
	memset(v + *n * size, 0, size);
	return v + (*n)++ * size;
}

static int list_of(struct tl *t, const struct ynode *map, const char *key, const struct ynode **seq)
{
	*seq = ld_get(map, key);
	return *seq ? ld_seq(&t->c, *seq, key) : 0;
}

/*
 * A list of objects under key: *seq is its node (NULL when absent or empty)
 * and *arr gets one zeroed element of `size` per item, counted in *n.
 */
static int objects(struct tl *t, const struct ynode *map, const char *key, void *arr, size_t *n, size_t size,
		   const struct ynode **seq)
{
	void *v;
	int r = list_of(t, map, key, seq);

	if (r || !*seq || !(*seq)->n) {
		*seq = NULL;
		return r;
	}
	v = calloc((*seq)->n, size);
	if (!v)
		return -ENOMEM;
	memcpy(arr, &v, sizeof(v)); /* arr points to a T *, as in grow() */
	*n = (*seq)->n;
	return 0;
}

static int want_scalar(struct tl *t, const struct ynode *n, const char *what)
{
	if (n->kind != YN_SCALAR || n->null)
		return ld_fail(&t->c, n, "expected a string for %s, got %s", what, ld_kind(n));
	return 0;
}

static bool alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Azure resource names: 1-80 of letters, digits, '_', '.', '-'; starts with a letter or digit. */
static int resource_name(struct tl *t, const struct ynode *n, const char *what, char **out)
{
	const char *s;
	size_t len;
	int r = want_scalar(t, n, what);

	if (r)
		return r;
	s = n->str;
	len = strlen(s);
	if (len < 1 || len > RESOURCE_NAME_MAX || !alnum(s[0]))
		goto bad;
	for (size_t i = 0; i < len; i++)
		if (!alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			goto bad;
	return ld_str(&t->c, n, what, out);
bad:
	return ld_fail(
	    &t->c, n,
	    "invalid %s '%s': 1-%d letters, digits, '_', '.' or '-', starting with a letter or digit", what,
	    s, RESOURCE_NAME_MAX);
}

/* Endpoint names become namespace names and DNS-like labels:
 * [A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?, at most 63 characters (Azure VM names allow upper case). */
static bool endpoint_name_ok(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len < 1 || len > max || !alnum(s[0]) || !alnum(s[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static int endpoint_name(struct tl *t, const struct ynode *n, const char *what, size_t max, char **out)
{
	int r = want_scalar(t, n, what);

	if (r)
		return r;
	if (!endpoint_name_ok(n->str, max))
		return ld_fail(&t->c, n,
			       "invalid %s '%s': 1-%zu letters, digits or '-', starting and ending with a "
			       "letter or digit",
			       what, n->str, max);
	return ld_str(&t->c, n, what, out);
}

#define EP_HASH_SLOTS 16384 /* > 2 * VL_ENDPOINTS_MAX, a power of two */

static unsigned name_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Claims an endpoint name lab-wide (VMs, container groups, nodes, pods). */
static int claim(struct tl *t, const char *name, const struct ynode *at, const char *what)
{
	struct epname *e;
	unsigned slot;

	if (!strcmp(name, "fabric") || !strcmp(name, "internet"))
		return ld_fail(&t->c, at, "%s name '%s' is reserved for the lab's own namespaces", what,
			       name);
	if (!t->ep_hash && !(t->ep_hash = calloc(EP_HASH_SLOTS, sizeof(*t->ep_hash))))
		return -ENOMEM;
	for (slot = name_hash(name) & (EP_HASH_SLOTS - 1); t->ep_hash[slot];
	     slot = (slot + 1) & (EP_HASH_SLOTS - 1)) {
		const struct epname *o = &t->eps[t->ep_hash[slot] - 1];

		if (!strcmp(o->name, name))
			return ld_fail(&t->c, at,
				       "endpoint name '%s' is already used (line %d); endpoint names "
				       "are unique across VMs, container groups, nodes and pods",
				       name, o->at->loc.line);
	}
	if (t->n_eps >= VL_ENDPOINTS_MAX)
		return ld_fail(&t->c, at, "more than %d endpoints in one lab", VL_ENDPOINTS_MAX);
	e = grow(&t->eps, &t->n_eps, sizeof(*t->eps));
	if (!e)
		return -ENOMEM;
	e->at = at;
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	t->ep_hash[slot] = (int)t->n_eps;
	return 0;
}

/*
 * An object: a mapping with only `keys` and a "name", a resource name or,
 * when ep_max is not 0, an endpoint name of at most ep_max characters.
 * *at is the name's node.
 */
static int named(struct tl *t, const struct ynode *m, const char *what, const char *const *keys,
		 size_t ep_max, char **name, const struct ynode **at)
{
	char label[64];
	int r;

	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, keys)) ||
	    (r = ld_need(&t->c, m, "name", what, at)))
		return r;
	snprintf(label, sizeof(label), "%s name", what);
	return ep_max ? endpoint_name(t, *at, label, ep_max, name) : resource_name(t, *at, label, name);
}

static int cidr(struct tl *t, const struct ynode *n, const char *what, struct vl_prefix *p)
{
	struct vl_prefix loose;
	char buf[VL_PREFIX_STRLEN];
	int r = want_scalar(t, n, what);

	if (r)
		return r;
	if (!strchr(n->str, '/') || vl_prefix_parse(n->str, false, &loose))
		return ld_fail(&t->c, n, "invalid %s '%s': expected an IPv4 CIDR like 10.0.0.0/16", what,
			       n->str);
	if (vl_prefix_parse(n->str, true, p))
		return ld_fail(&t->c, n, "%s is not a network address; did you mean %s?", n->str,
			       vl_prefix_fmt(loose, buf));
	return 0;
}

static int ipv4(struct tl *t, const struct ynode *n, const char *what, uint32_t *ip)
{
	int r = want_scalar(t, n, what);

	if (r)
		return r;
	if (vl_ip_parse(n->str, ip))
		return ld_fail(&t->c, n, "invalid %s '%s': expected an IPv4 address", what, n->str);
	return 0;
}

static int port_list(struct tl *t, const struct ynode *n, uint16_t **out, size_t *count)
{
	size_t k = n->kind == YN_SEQ ? n->n : 1;
	uint64_t seen[65536 / 64] = {0}; /* linear in the list, not quadratic */
	int r;

	if (n->kind == YN_MAP)
		return ld_fail(&t->c, n, "expected a list of ports, got a mapping");
	*out = calloc(k ? k : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		const struct ynode *e = n->kind == YN_SEQ ? n->kids[i] : n;
		int v;

		r = ld_int(&t->c, e, "port", 1, 65535, &v);
		if (r)
			return r;
		if (seen[v / 64] & (1ull << (v % 64)))
			return ld_fail(&t->c, e, "port %d is listed twice", v);
		seen[v / 64] |= 1ull << (v % 64);
		(*out)[i] = (uint16_t)v;
		*count = i + 1;
	}
	return 0;
}

/* The optional app and ports of a VM, a container group or a pod. */
static int app_ports(struct tl *t, const struct ynode *m, enum vl_app *a, uint16_t **ports, size_t *n_ports)
{
	const struct ynode *n = ld_get(m, "app");
	int r;

	if (n) {
		if ((r = want_scalar(t, n, "app")))
			return r;
		if (!strcasecmp(n->str, "hello"))
			*a = VL_APP_HELLO;
		else if (!strcasecmp(n->str, "echo"))
			*a = VL_APP_ECHO;
		else
			return ld_fail(&t->c, n, "unknown app '%s'; expected one of: hello, echo", n->str);
	}
	n = ld_get(m, "ports");
	return n ? port_list(t, n, ports, n_ports) : 0;
}

static int nsg_ref(struct tl *t, const struct ynode *n, int *idx)
{
	int r = want_scalar(t, n, "networkSecurityGroup");

	if (r)
		return r;
	*idx = vl_lab_find_nsg(t->lab, n->str);
	if (*idx == VL_NONE)
		return ld_fail(&t->c, n, "unknown network security group '%s'", n->str);
	return 0;
}

/* Subnets hold either container groups (delegated) or NICs, never both. */
static int subnet_ref(struct tl *t, const struct ynode *map, const char *what, const char *name, bool for_aci,
		      int *idx)
{
	const struct ynode *n;
	const struct vl_subnet *s;
	int r = ld_need(&t->c, map, "subnet", what, &n);

	if (!r)
		r = want_scalar(t, n, "subnet");
	if (r)
		return r;
	*idx = vl_lab_find_subnet(t->lab, n->str);
	if (*idx == VL_NONE)
		return ld_fail(&t->c, n, "unknown subnet '%s'", n->str);
	s = &t->lab->subnets[*idx];
	if (for_aci && !s->delegation)
		return ld_fail(&t->c, n,
			       "container group '%s' needs a subnet delegated to " ACI_DELEGATION
			       "; subnet '%s' has no delegation",
			       name, s->name);
	if (for_aci && strcasecmp(s->delegation, ACI_DELEGATION))
		return ld_fail(&t->c, n,
			       "container group '%s' needs a subnet delegated to " ACI_DELEGATION
			       "; subnet '%s' is delegated to %s",
			       name, s->name, s->delegation);
	if (!for_aci && s->delegation)
		return ld_fail(&t->c, n,
			       "subnet '%s' is delegated to %s; only that service may use it, not %s '%s'",
			       s->name, s->delegation, what, name);
	return 0;
}

/* ---- sections ---- */

static int lab_name(struct tl *t, const struct ynode *root)
{
	const struct ynode *n;
	const char *s;
	int r = ld_need(&t->c, root, "name", "topology", &n);

	if (!r)
		r = want_scalar(t, n, "name");
	if (r)
		return r;
	s = n->str;
	if (!vl_lab_name_ok(s))
		return ld_fail(&t->c, n,
			       "invalid lab name '%s': 1-%d characters of a-z and 0-9 (no '-': namespaces "
			       "are vl-<lab>-<endpoint>)",
			       s, VL_LAB_NAME_MAX);
	return ld_str(&t->c, n, "name", &t->lab->name);
}

static int nsgs(struct tl *t, const struct ynode *root)
{
	const struct ynode *seq;
	struct vl_lab *lab = t->lab;
	int r = objects(t, root, "networkSecurityGroups", &lab->nsgs, &lab->n_nsgs, sizeof(*lab->nsgs), &seq);

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

			r = resource_name(t, nn, "network security group name", &tmp);
			free(tmp);
			if (r)
				return r;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->nsgs[j].name, g->name))
				return ld_fail(&t->c, nn ? nn : m,
					       "duplicate network security group name '%s'", g->name);
		if (!imported) {
			r = vl_nsg_validate(g, t->c.file, t->c.err);
			if (r)
				return r;
		}
	}
	return 0;
}

static const char *const hop_words[] = {"VirtualAppliance", "VnetLocal", "Internet", "None", NULL};

static int route_tables(struct tl *t, const struct ynode *root)
{
	static const char *const rt_keys[] = {"name", "routes", NULL};
	static const char *const route_keys[] = {"name", "addressPrefix", "nextHopType", "nextHopIpAddress",
						 NULL};
	const struct ynode *seq;
	struct vl_lab *lab = t->lab;
	int r = objects(t, root, "routeTables", &lab->route_tables, &lab->n_route_tables,
			sizeof(*lab->route_tables), &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n, *routes;
		struct vl_route_table *rt = &lab->route_tables[i];

		if ((r = named(t, m, "route table", rt_keys, 0, &rt->name, &n)))
			return r;
		rt->loc = m->loc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->route_tables[j].name, rt->name))
				return ld_fail(&t->c, n, "duplicate route table name '%s'", rt->name);
		r = objects(t, m, "routes", &rt->routes, &rt->n_routes, sizeof(*rt->routes), &routes);
		if (r)
			return r;
		for (size_t j = 0; routes && j < routes->n; j++) {
			const struct ynode *rm = routes->kids[j], *hop, *ip;
			struct vl_route *ro = &rt->routes[j];
			int w;

			if ((r = named(t, rm, "route", route_keys, 0, &ro->name, &n)))
				return r;
			ro->loc = rm->loc;
			for (size_t k = 0; k < j; k++)
				if (!strcmp(rt->routes[k].name, ro->name))
					return ld_fail(&t->c, n,
						       "duplicate route name '%s' in route table '%s'",
						       ro->name, rt->name);
			if ((r = ld_need(&t->c, rm, "addressPrefix", "route", &n)) ||
			    (r = cidr(t, n, "addressPrefix", &ro->prefix)) ||
			    (r = ld_need(&t->c, rm, "nextHopType", "route", &hop)) ||
			    (r = want_scalar(t, hop, "nextHopType")))
				return r;
			for (w = 0; hop_words[w]; w++)
				if (!strcasecmp(hop->str, hop_words[w]))
					break;
			if (!hop_words[w])
				return ld_fail(&t->c, hop,
					       "invalid nextHopType '%s'; expected one of: VirtualAppliance, "
					       "VnetLocal, Internet, None",
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
			if (ip && (r = ipv4(t, ip, "nextHopIpAddress", &ro->next_hop)))
				return r;
		}
	}
	return 0;
}

static int subnet(struct tl *t, const struct ynode *m, int vi, int si)
{
	static const char *const keys[] = {"name",	 "addressPrefix", "networkSecurityGroup",
					   "routeTable", "delegation",	  NULL};
	struct vl_lab *lab = t->lab;
	struct vl_subnet *s = &lab->subnets[si];
	struct vl_vnet *v = &lab->vnets[vi];
	const struct ynode *n;
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN];
	bool inside = false;
	int r;

	if ((r = named(t, m, "subnet", keys, 0, &s->name, &n)))
		return r;
	s->loc = m->loc;
	for (int j = 0; j < si; j++)
		if (!strcmp(lab->subnets[j].name, s->name))
			return ld_fail(&t->c, n,
				       "duplicate subnet name '%s' (subnet names are unique in a lab)",
				       s->name);
	if ((r = ld_need(&t->c, m, "addressPrefix", "subnet", &n)) ||
	    (r = cidr(t, n, "addressPrefix", &s->prefix)))
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
		if ((r = nsg_ref(t, n, &s->nsg)))
			return r;
	}
	if ((n = ld_get(m, "routeTable"))) {
		if ((r = want_scalar(t, n, "routeTable")))
			return r;
		for (size_t j = 0; j < lab->n_route_tables; j++)
			if (!strcmp(lab->route_tables[j].name, n->str))
				s->route_table = (int)j;
		if (s->route_table == VL_NONE)
			return ld_fail(&t->c, n, "unknown route table '%s'", n->str);
	}
	if ((n = ld_get(m, "delegation"))) {
		if ((r = want_scalar(t, n, "delegation")))
			return r;
		if (!strchr(n->str, '/') || !n->str[0])
			return ld_fail(
			    &t->c, n, "invalid delegation '%s': expected a service name like " ACI_DELEGATION,
			    n->str);
		if ((r = ld_str(&t->c, n, "delegation", &s->delegation)))
			return r;
	}
	return 0;
}

static int vnet_spaces(struct tl *t, const struct ynode *m, int vi)
{
	struct vl_lab *lab = t->lab;
	struct vl_vnet *v = &lab->vnets[vi];
	const struct ynode *n, *list;
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN];
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

		if ((r = cidr(t, e, "addressSpace", &p)))
			return r;
		for (int w = 0; w <= vi; w++) {
			const struct vl_vnet *o = &lab->vnets[w];
			size_t ns = w == vi ? v->n_spaces : o->n_spaces;

			for (size_t j = 0; j < ns; j++)
				if (vl_prefix_overlaps(p, o->spaces[j]))
					return ld_fail(
					    &t->c, e,
					    "address space %s of vnet '%s' overlaps %s of vnet '%s'",
					    vl_prefix_fmt(p, buf), v->name, vl_prefix_fmt(o->spaces[j], buf2),
					    o->name);
		}
		v->spaces[v->n_spaces++] = p;
	}
	return 0;
}

static int vnets(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"name", "addressSpace", "subnets", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = objects(t, root, "vnets", &lab->vnets, &lab->n_vnets, sizeof(*lab->vnets), &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n, *subs;
		struct vl_vnet *v = &lab->vnets[i];

		if ((r = named(t, m, "vnet", keys, 0, &v->name, &n)))
			return r;
		v->loc = m->loc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(lab->vnets[j].name, v->name))
				return ld_fail(&t->c, n, "duplicate vnet name '%s'", v->name);
		if ((r = vnet_spaces(t, m, (int)i)) || (r = list_of(t, m, "subnets", &subs)))
			return r;
		if (!subs || !subs->n)
			continue;
		struct vl_subnet *ns = realloc(lab->subnets, (lab->n_subnets + subs->n) * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		lab->subnets = ns;
		v->subnets = calloc(subs->n, sizeof(*v->subnets));
		if (!v->subnets)
			return -ENOMEM;
		size_t first = lab->n_subnets;
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
	}
	return 0;
}

static int vms(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {
	    "name", "subnet", "privateIpAddress", "networkSecurityGroup", "app", "ports", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = objects(t, root, "vms", &lab->vms, &lab->n_vms, sizeof(*lab->vms), &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n;
		struct vl_vm *vm = &lab->vms[i];

		vm->subnet = VL_NONE;
		vm->nsg = VL_NONE;
		if ((r = named(t, m, "vm", keys, VL_ENDPOINT_NAME_MAX, &vm->name, &n)) ||
		    (r = claim(t, vm->name, n, "vm")) ||
		    (r = subnet_ref(t, m, "vm", vm->name, false, &vm->subnet)))
			return r;
		vm->loc = m->loc;
		if ((n = ld_get(m, "privateIpAddress")) &&
		    (r = ipv4(t, n, "privateIpAddress", &vm->static_ip)))
			return r;
		if ((n = ld_get(m, "networkSecurityGroup")) && (r = nsg_ref(t, n, &vm->nsg)))
			return r;
		if ((r = app_ports(t, m, &vm->app, &vm->ports, &vm->n_ports)))
			return r;
	}
	return 0;
}

static int cgs(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"name", "subnet", "app", "ports", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = objects(t, root, "containerGroups", &lab->cgs, &lab->n_cgs, sizeof(*lab->cgs), &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n;
		struct vl_container_group *cg = &lab->cgs[i];

		cg->subnet = VL_NONE;
		if ((r = named(t, m, "container group", keys, VL_ENDPOINT_NAME_MAX, &cg->name, &n)) ||
		    (r = claim(t, cg->name, n, "container group")) ||
		    (r = subnet_ref(t, m, "container group", cg->name, true, &cg->subnet)))
			return r;
		cg->loc = m->loc;
		if ((r = app_ports(t, m, &cg->app, &cg->ports, &cg->n_ports)))
			return r;
	}
	return 0;
}

static int cidr_list(struct tl *t, const struct ynode *n, const char *what, struct vl_prefix **out,
		     size_t *count)
{
	size_t k;
	int r = ld_seq(&t->c, n, what);

	if (r)
		return r;
	k = n->n;
	/* An explicit empty list is kept apart from "absent" (plugin default) by a non-NULL array. */
	*out = calloc(k ? k : 1, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		if ((r = cidr(t, n->kids[i], what, &(*out)[i])))
			return r;
		*count = i + 1;
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

static int pods(struct tl *t, const struct ynode *seq, struct vl_aks *a)
{
	static const char *const keys[] = {"name", "replicas", "node", "app", "ports", NULL};
	int *on_node, spread = 0, r = 0;
	char name[VL_ENDPOINT_NAME_MAX + 16];

	a->pods = calloc(seq->n, sizeof(*a->pods));
	on_node = calloc((size_t)a->node_count, sizeof(*on_node));
	if (!a->pods || !on_node) {
		free(on_node);
		return -ENOMEM;
	}
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
		if ((r = endpoint_name(t, nn, "pod name",
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
		if ((r = app_ports(t, m, &p->app, &p->ports, &p->n_ports)))
			break;
		int reps = p->replicas ? p->replicas : 1;
		for (int k = 0; k < reps && !r; k++) {
			int node = p->node != VL_NONE ? p->node : spread++ % a->node_count;

			if (p->replicas)
				snprintf(name, sizeof(name), "%s-%d", p->name, k);
			else
				snprintf(name, sizeof(name), "%s", p->name);
			r = claim(t, name, nn, "pod");
			if (!r && ++on_node[node] > a->max_pods)
				r = ld_fail(&t->c, m,
					    "node %d of cluster '%s' would run more than maxPods (%d) pods",
					    node, a->name, a->max_pods);
		}
	}
	free(on_node);
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
					   "pods",
					   NULL};
	struct vl_lab *lab = t->lab;
	struct vl_aks *a = &lab->aks[i];
	const struct ynode *n, *nn, *pc;
	char name[VL_ENDPOINT_NAME_MAX + 16], buf[VL_PREFIX_STRLEN];
	int r;

	a->subnet = VL_NONE;
	a->node_nsg = VL_NONE;
	/* room for the node endpoints "<name>-node-<i>", i < 100 */
	if ((r = named(t, m, "AKS cluster", keys, VL_ENDPOINT_NAME_MAX - 9, &a->name, &nn)))
		return r;
	a->loc = m->loc;
	for (size_t j = 0; j < i; j++)
		if (!strcmp(lab->aks[j].name, a->name))
			return ld_fail(&t->c, nn, "duplicate AKS cluster name '%s'", a->name);
	if ((r = subnet_ref(t, m, "AKS cluster", a->name, false, &a->subnet)))
		return r;
	a->plugin = VL_PLUGIN_KUBENET;
	if ((n = ld_get(m, "networkPlugin"))) {
		if ((r = want_scalar(t, n, "networkPlugin")))
			return r;
		if (!strcasecmp(n->str, "azure"))
			a->plugin = VL_PLUGIN_AZURE;
		else if (strcasecmp(n->str, "kubenet"))
			return ld_fail(&t->c, n,
				       "invalid networkPlugin '%s'; expected one of: kubenet, azure", n->str);
	}
	a->node_count = 3;
	if ((n = ld_get(m, "nodeCount")) && (r = ld_int(&t->c, n, "nodeCount", 1, 100, &a->node_count)))
		return r;
	a->max_pods = a->plugin == VL_PLUGIN_KUBENET ? 110 : 30;
	if ((n = ld_get(m, "maxPods")) && (r = ld_int(&t->c, n, "maxPods", 1, 250, &a->max_pods)))
		return r;
	if ((n = ld_get(m, "nodeNetworkSecurityGroup")) && (r = nsg_ref(t, n, &a->node_nsg)))
		return r;

	pc = ld_get(m, "podCidr");
	a->pod_cidr = (struct vl_prefix){0x0af40000u, 16}; /* 10.244.0.0/16 */
	if (pc && a->plugin == VL_PLUGIN_AZURE)
		return ld_fail(&t->c, pc,
			       "podCidr applies to networkPlugin kubenet only (Azure CNI pods take "
			       "addresses from the subnet)");
	if (pc && (r = cidr(t, pc, "podCidr", &a->pod_cidr)))
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
	if (n && (r = cidr(t, n, "serviceCidr", &a->service_cidr)))
		return r;
	if ((r = no_vnet_overlap(t, n ? n : m, "serviceCidr", a->name, a->service_cidr, !n)))
		return r;
	if (a->plugin == VL_PLUGIN_KUBENET && vl_prefix_overlaps(a->service_cidr, a->pod_cidr))
		return ld_fail(&t->c, n ? n : m, "serviceCidr of cluster '%s' overlaps its podCidr", a->name);
	if ((n = ld_get(m, "nonMasqueradeCidrs")) &&
	    (r = cidr_list(t, n, "nonMasqueradeCidrs", &a->non_masq, &a->n_non_masq)))
		return r;
	for (int k = 0; k < a->node_count; k++) {
		snprintf(name, sizeof(name), "%s-node-%d", a->name, k);
		if ((r = claim(t, name, nn, "node")))
			return r;
	}
	if ((r = list_of(t, m, "pods", &n)))
		return r;
	if (n && n->n)
		return pods(t, n, a);
	return 0;
}

static int aks(struct tl *t, const struct ynode *root)
{
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = objects(t, root, "aksClusters", &lab->aks, &lab->n_aks, sizeof(*lab->aks), &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++)
		r = aks_one(t, seq->kids[i], i);
	return r;
}

/* ---- checks and scenario ---- */

static int check_one(struct tl *t, const struct ynode *m, bool inline_check, int *idx)
{
	static const char *const keys[] = {"name",   "from",	     "to",	   "port", "protocol",
					   "expect", "expectSource", "expectRule", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *n, *pn;
	struct vl_check *c;
	const char *what = inline_check ? "scenario check" : "check";
	int r;

	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, keys + (inline_check ? 1 : 0))))
		return r;
	const struct ynode **cm = realloc(t->check_maps, (lab->n_checks + 1) * sizeof(*cm));
	if (!cm)
		return -ENOMEM;
	t->check_maps = cm;
	cm[lab->n_checks] = m;
	c = grow(&lab->checks, &lab->n_checks, sizeof(*lab->checks));
	if (!c)
		return -ENOMEM;
	*idx = (int)lab->n_checks - 1;
	c->loc = m->loc;
	if (!inline_check) {
		if ((r = ld_need(&t->c, m, "name", "check", &n)) || (r = want_scalar(t, n, "check name")))
			return r;
		if (!n->str[0] || strlen(n->str) > CHECK_NAME_MAX)
			return ld_fail(&t->c, n, "check name must be 1-%d characters", CHECK_NAME_MAX);
		for (size_t j = 0; j + 1 < lab->n_checks; j++)
			if (lab->checks[j].name && !strcmp(lab->checks[j].name, n->str))
				return ld_fail(&t->c, n, "duplicate check name '%s'", n->str);
		if ((r = ld_str(&t->c, n, "check name", &c->name)))
			return r;
	}
	if ((r = ld_need(&t->c, m, "from", what, &n)) || (r = ld_str(&t->c, n, "from", &c->from)) ||
	    (r = ld_need(&t->c, m, "to", what, &n)) || (r = ld_str(&t->c, n, "to", &c->to)))
		return r;
	c->proto = VL_PROTO_TCP;
	if ((n = ld_get(m, "protocol"))) {
		if ((r = want_scalar(t, n, "protocol")))
			return r;
		if (!strcasecmp(n->str, "tcp"))
			c->proto = VL_PROTO_TCP;
		else if (!strcasecmp(n->str, "udp"))
			c->proto = VL_PROTO_UDP;
		else if (!strcasecmp(n->str, "icmp"))
			c->proto = VL_PROTO_ICMP;
		else
			return ld_fail(&t->c, n, "invalid protocol '%s'; expected one of: tcp, udp, icmp",
				       n->str);
	}
	pn = ld_get(m, "port");
	if (c->proto == VL_PROTO_ICMP && pn)
		return ld_fail(&t->c, pn, "an icmp check has no port");
	if (c->proto != VL_PROTO_ICMP && !pn)
		return ld_fail(&t->c, m, "missing 'port' in %s (%s needs one)", what,
			       c->proto == VL_PROTO_TCP ? "tcp" : "udp");
	if (pn && (r = ld_int(&t->c, pn, "port", 1, 65535, &c->port)))
		return r;
	if ((r = ld_need(&t->c, m, "expect", what, &n)) || (r = want_scalar(t, n, "expect")))
		return r;
	if (!strcasecmp(n->str, "allow"))
		c->expect = VL_EXPECT_ALLOW;
	else if (!strcasecmp(n->str, "deny"))
		c->expect = VL_EXPECT_DENY;
	else
		return ld_fail(&t->c, n, "invalid expect '%s'; expected one of: allow, deny", n->str);
	if ((n = ld_get(m, "expectSource")) && (r = ld_str(&t->c, n, "expectSource", &c->expect_source)))
		return r;
	if ((n = ld_get(m, "expectRule"))) {
		const char *slash;

		if ((r = ld_str(&t->c, n, "expectRule", &c->expect_rule)))
			return r;
		slash = strchr(c->expect_rule, '/');
		if (!slash || slash == c->expect_rule || !slash[1] || strchr(slash + 1, '/'))
			return ld_fail(&t->c, n, "invalid expectRule '%s': expected nsg/rule",
				       c->expect_rule);
		*(char *)slash = '\0';
		bool known = vl_lab_find_nsg(lab, c->expect_rule) != VL_NONE;
		*(char *)slash = '/';
		if (!known)
			return ld_fail(&t->c, n, "unknown network security group in expectRule '%s'",
				       c->expect_rule);
	}
	return 0;
}

static int checks(struct tl *t, const struct ynode *root)
{
	const struct ynode *seq;
	int idx, r = list_of(t, root, "checks", &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++)
		r = check_one(t, seq->kids[i], false, &idx);
	return r;
}

/* A scenario edit names its rule and sets ARM fields; a delete only names it. */
static const char *const edit_keys[] = {"nsg", "rule", LD_RULE_FIELDS, NULL};
static const char *const delete_keys[] = {"nsg", "rule", NULL};

/* Rules as the scenario changes them, to catch set/delete of a rule that is not there. */
struct rule_state {
	int nsg;
	const char *name;
	bool present;
};

static int edit_value(struct tl *t, const struct ynode *v, char **out)
{
	size_t len = 0;
	char *s;

	if (v->null) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	if (v->kind == YN_SCALAR) {
		*out = strdup(v->str);
		return *out ? 0 : -ENOMEM;
	}
	if (v->kind == YN_MAP)
		return ld_fail(&t->c, v, "expected a string or a list, got a mapping");
	for (size_t i = 0; i < v->n; i++) {
		if (v->kids[i]->kind != YN_SCALAR || v->kids[i]->null)
			return ld_fail(&t->c, v->kids[i], "expected a string in the list, got %s",
				       ld_kind(v->kids[i]));
		len += strlen(v->kids[i]->str) + 1;
	}
	s = calloc(1, len + 1);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v->kids[i]->str);
	}
	*out = s;
	return 0;
}

static int edit(struct tl *t, const struct ynode *m, enum vl_edit_kind kind, struct vl_rule_edit *e,
		struct rule_state **rs, size_t *n_rs)
{
	static const char *const kind_names[] = {"set", "add", "delete"};
	const char *what = kind_names[kind];
	const struct ynode *n, *rn;
	struct rule_state *st = NULL;
	int nsg, r;

	e->kind = kind;
	e->loc = m->loc;
	if ((r = ld_map(&t->c, m, what)))
		return r;
	if ((r = ld_keys(&t->c, m, what, kind == VL_EDIT_DELETE ? delete_keys : edit_keys)))
		return r;
	for (size_t i = 0; i < m->n; i++) {
		const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];

		if (!strcmp(k->str, "nsg") || !strcmp(k->str, "rule"))
			continue;
		char *val = NULL;
		if ((r = edit_value(t, v, &val)))
			return r;
		r = vl_strv_push(&e->values, val);
		free(val);
		if (!r)
			r = vl_strv_push(&e->keys, k->str);
		if (r)
			return r;
	}
	if ((r = ld_need(&t->c, m, "nsg", what, &n)) || (r = nsg_ref(t, n, &nsg)) ||
	    (r = ld_str(&t->c, n, "nsg", &e->nsg)) || (r = ld_need(&t->c, m, "rule", what, &rn)) ||
	    (r = ld_str(&t->c, rn, "rule", &e->rule)))
		return r;
	if (kind == VL_EDIT_SET && !e->keys.n)
		return ld_fail(&t->c, m, "set of rule '%s' changes nothing; give the fields to change",
			       e->rule);
	for (size_t i = 0; i < *n_rs; i++)
		if ((*rs)[i].nsg == nsg && !strcasecmp((*rs)[i].name, e->rule))
			st = &(*rs)[i];
	if (!st) {
		const struct vl_nsg *g = &t->lab->nsgs[nsg];
		bool in_file = false;

		for (size_t i = 0; i < g->n_rules; i++)
			in_file |= !strcasecmp(g->rules[i].name, e->rule);
		st = grow(rs, n_rs, sizeof(**rs));
		if (!st)
			return -ENOMEM;
		st->nsg = nsg;
		st->name = rn->str;
		st->present = in_file;
	}
	if (kind == VL_EDIT_ADD && st->present)
		return ld_fail(&t->c, rn, "add: rule '%s' already exists in NSG '%s'; use set to change it",
			       e->rule, e->nsg);
	if (kind != VL_EDIT_ADD && !st->present)
		return ld_fail(&t->c, rn, "%s: no rule '%s' in NSG '%s' at this step", what, e->rule, e->nsg);
	st->present = kind != VL_EDIT_DELETE;
	return 0;
}

static int step_one(struct tl *t, const struct ynode *m, struct rule_state **rs, size_t *n_rs)
{
	static const char *const keys[] = {"say", "check", "set", "add", "delete", "wait", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *k, *v;
	struct vl_step *s;
	int r;

	if ((r = ld_map(&t->c, m, "scenario step")) || (r = ld_keys(&t->c, m, "scenario step", keys)))
		return r;
	if (m->n != 1)
		return ld_fail(&t->c, m,
			       "a scenario step has exactly one of: say, check, set, add, delete, wait");
	k = m->kids[0];
	v = m->kids[1];
	s = grow(&lab->steps, &lab->n_steps, sizeof(*lab->steps));
	if (!s)
		return -ENOMEM;
	s->loc = m->loc;
	s->check = VL_NONE;
	if (!strcmp(k->str, "say")) {
		s->kind = VL_STEP_SAY;
		return ld_str(&t->c, v, "say", &s->text);
	}
	if (!strcmp(k->str, "wait")) {
		s->kind = VL_STEP_WAIT;
		return ld_int(&t->c, v, "wait (milliseconds)", 0, WAIT_MS_MAX, &s->wait_ms);
	}
	if (!strcmp(k->str, "check")) {
		int idx;

		s->kind = VL_STEP_CHECK;
		if (v->kind == YN_MAP) {
			if ((r = check_one(t, v, true, &idx)))
				return r;
			lab->steps[lab->n_steps - 1].check = idx; /* check_one does not move steps */
			return 0;
		}
		if ((r = want_scalar(t, v, "check")))
			return r;
		for (size_t i = 0; i < lab->n_checks; i++)
			if (lab->checks[i].name && !strcmp(lab->checks[i].name, v->str))
				s->check = (int)i;
		if (s->check == VL_NONE)
			return ld_fail(&t->c, v, "unknown check '%s'", v->str);
		return 0;
	}
	s->kind = VL_STEP_EDIT;
	return edit(t, v,
		    !strcmp(k->str, "set")   ? VL_EDIT_SET
		    : !strcmp(k->str, "add") ? VL_EDIT_ADD
					     : VL_EDIT_DELETE,
		    &s->edit, rs, n_rs);
}

static int scenario(struct tl *t, const struct ynode *root)
{
	struct rule_state *rs = NULL;
	size_t n_rs = 0;
	const struct ynode *seq;
	int r = list_of(t, root, "scenario", &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++)
		r = step_one(t, seq->kids[i], &rs, &n_rs);
	free(rs);
	return r;
}

/* expectRule names a rule of the file, a default rule, or one a scenario step adds. */
static int check_expect_rules(struct tl *t)
{
	const struct vl_lab *lab = t->lab;
	size_t n_defs;
	const struct vl_rule *defs = vl_default_rules(&n_defs);

	for (size_t i = 0; i < lab->n_checks; i++) {
		const char *er = lab->checks[i].expect_rule, *rule;
		const struct vl_nsg *g = NULL;
		size_t nlen;
		bool found = false;

		if (!er)
			continue;
		rule = strchr(er, '/') + 1;
		nlen = (size_t)(rule - 1 - er);
		for (size_t j = 0; j < lab->n_nsgs; j++)
			if (strlen(lab->nsgs[j].name) == nlen && !strncmp(lab->nsgs[j].name, er, nlen))
				g = &lab->nsgs[j];
		if (!g) /* checked when the check was read */
			continue;
		for (size_t j = 0; !found && j < g->n_rules; j++)
			found = !strcasecmp(g->rules[j].name, rule);
		for (size_t j = 0; !found && j < n_defs; j++)
			found = !strcasecmp(defs[j].name, rule);
		for (size_t j = 0; !found && j < lab->n_steps; j++) {
			const struct vl_rule_edit *e = &lab->steps[j].edit;

			found = lab->steps[j].kind == VL_STEP_EDIT && e->kind == VL_EDIT_ADD &&
				!strcmp(e->nsg, g->name) && !strcasecmp(e->rule, rule);
		}
		if (!found)
			return ld_fail(
			    &t->c, ld_get(t->check_maps[i], "expectRule"),
			    "expectRule '%s': NSG '%s' has no rule '%s' (nor does the scenario add one)", er,
			    g->name, rule);
	}
	return 0;
}

/* Endpoint names exist only after vl_lab_resolve(). */
static int check_targets(struct tl *t)
{
	const struct vl_lab *lab = t->lab;
	uint32_t ip;

	for (size_t i = 0; i < lab->n_checks; i++) {
		const struct vl_check *c = &lab->checks[i];
		const struct ynode *m = t->check_maps[i];
		const char *fields[] = {c->from, c->to, c->expect_source};
		const char *keys[] = {"from", "to", "expectSource"};

		for (int f = 0; f < 3; f++) {
			const char *s = fields[f];
			int ep = s ? vl_lab_find_endpoint(lab, s) : VL_NONE;

			/* A probe starts inside an endpoint, so `from` must name one. */
			if (!s || ep != VL_NONE || (f > 0 && !vl_ip_parse(s, &ip)) ||
			    (f == 2 && !strcmp(s, "node")))
				continue;
			return ld_fail(&t->c, ld_get(m, keys[f]), "unknown endpoint '%s' in %s; expected %s",
				       s, keys[f],
				       f == 0	? "the name of an endpoint of this lab"
				       : f == 2 ? "an endpoint name, an IPv4 address or 'node'"
						: "an endpoint name or an IPv4 address");
		}
		if (c->expect_source && !strcmp(c->expect_source, "node") &&
		    lab->eps[vl_lab_find_endpoint(lab, c->from)].kind != VL_EP_POD)
			return ld_fail(&t->c, ld_get(m, "expectSource"),
				       "expectSource 'node' needs a pod in from ('%s' is not a pod)",
				       c->from);
	}
	return 0;
}

static const char *const top_keys[] = {"name",	      "vnets",	"networkSecurityGroups",
				       "routeTables", "vms",	"containerGroups",
				       "aksClusters", "checks", "scenario",
				       NULL};

static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

int vl_load_buffer(const char *name, const char *buf, size_t len, struct vl_lab **out, struct vl_error *err)
{
	return vl_load_buffer_imports(name, buf, len, NULL, out, err);
}

int vl_load_buffer_imports(const char *name, const char *buf, size_t len, struct vl_imports *imports,
			   struct vl_lab **out, struct vl_error *err)
{
	struct vl_error scratch;
	struct tl t = {.c = {.file = name ? name : "<buffer>", .err = err ? err : &scratch, .imports = imports}};
	struct ynode *root = NULL;
	int r;

	*out = NULL;
	memset(t.c.err, 0, sizeof(*t.c.err));
	r = yn_parse(t.c.file, buf, len, &root, t.c.err);
	if (r)
		return r;
	if (!root) {
		vl_error_set(t.c.err, t.c.file, (struct vl_loc){1, 1}, "empty topology file");
		return -EINVAL;
	}
	t.lab = vl_lab_new();
	t.dir = dir_of(t.c.file);
	if (!t.lab || !t.dir || !(t.lab->file = strdup(t.c.file))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = ld_map(&t.c, root, "the topology")) || (r = ld_keys(&t.c, root, "topology", top_keys)) ||
	    (r = lab_name(&t, root)) || (r = nsgs(&t, root)) || (r = route_tables(&t, root)) ||
	    (r = vnets(&t, root)) || (r = vms(&t, root)) || (r = cgs(&t, root)) || (r = aks(&t, root)) ||
	    (r = checks(&t, root)) || (r = scenario(&t, root)) || (r = check_expect_rules(&t)))
		goto out;
	r = vl_lab_resolve(t.lab, t.c.err);
	if (!r)
		r = check_targets(&t);
out:
	if (r == -ENOMEM && !t.c.err->msg[0])
		vl_error_set(t.c.err, t.c.file, (struct vl_loc){0, 0}, "out of memory");
	for (size_t i = 0; i < t.n_eps; i++)
		free(t.eps[i].name);
	free(t.eps);
	free(t.ep_hash);
	free(t.check_maps);
	free(t.dir);
	yn_free(root);
	if (r) {
		vl_lab_free(t.lab);
		return r;
	}
	*out = t.lab;
	return 0;
}

int vl_load_file(const char *path, struct vl_lab **out, struct vl_error *err)
{
	char *buf;
	size_t len;
	int r;

	*out = NULL;
	r = ld_read_file(path, "topology", &buf, &len, err);
	if (r)
		return r;
	r = vl_load_buffer(path, buf, len, out, err);
	free(buf);
	return r;
}
