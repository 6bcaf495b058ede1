// SPDX-License-Identifier: MIT
/* Typed fields of topology objects: names, CIDRs, addresses, ports, references. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tl.h"
#include "vnetlab/ip.h"

/* Grows *arr by one zeroed element; returns it or NULL. */
void *tl_grow(void *arr, size_t *n, size_t size)
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

int tl_list_of(struct tl *t, const struct ynode *map, const char *key, const struct ynode **seq)
{
	*seq = ld_get(map, key);
	return *seq ? ld_seq(&t->c, *seq, key) : 0;
}

/*
 * A list of objects under key: *seq is its node (NULL when absent or empty)
 * and *arr gets one zeroed element of `size` per item, counted in *n.
 */
int tl_objects(struct tl *t, const struct ynode *map, const char *key, void *arr, size_t *n, size_t size,
		   const struct ynode **seq)
{
	void *v;
	int r = tl_list_of(t, map, key, seq);

	if (r || !*seq || !(*seq)->n) {
		*seq = NULL;
		return r;
	}
	v = calloc((*seq)->n, size);
	if (!v)
		return -ENOMEM;
	memcpy(arr, &v, sizeof(v)); /* arr points to a T *, as in tl_grow() */
	*n = (*seq)->n;
	return 0;
}

int tl_want_scalar(struct tl *t, const struct ynode *n, const char *what)
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
int tl_bool(struct tl *t, const struct ynode *n, const char *what, bool *out)
{
	int r = tl_want_scalar(t, n, what);

	if (r)
		return r;
	if (!strcasecmp(n->str, "true"))
		*out = true;
	else if (!strcasecmp(n->str, "false"))
		*out = false;
	else
		return ld_fail(&t->c, n, "expected true or false for %s, got '%s'", what, n->str);
	return 0;
}

int tl_resource_name(struct tl *t, const struct ynode *n, const char *what, char **out)
{
	const char *s;
	size_t len;
	int r = tl_want_scalar(t, n, what);

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

int tl_endpoint_name(struct tl *t, const struct ynode *n, const char *what, size_t max, char **out)
{
	int r = tl_want_scalar(t, n, what);

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
int tl_claim(struct tl *t, const char *name, const struct ynode *at, const char *what)
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
				       "are unique across VMs, container groups, nodes, pods and hosts",
				       name, o->at->loc.line);
	}
	if (t->n_eps >= VL_ENDPOINTS_MAX)
		return ld_fail(&t->c, at, "more than %d endpoints in one lab", VL_ENDPOINTS_MAX);
	e = tl_grow(&t->eps, &t->n_eps, sizeof(*t->eps));
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
int tl_named(struct tl *t, const struct ynode *m, const char *what, const char *const *keys,
		 size_t ep_max, char **name, const struct ynode **at)
{
	char label[64];
	int r;

	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, keys)) ||
	    (r = ld_need(&t->c, m, "name", what, at)))
		return r;
	snprintf(label, sizeof(label), "%s name", what);
	return ep_max ? tl_endpoint_name(t, *at, label, ep_max, name) : tl_resource_name(t, *at, label, name);
}

int tl_cidr(struct tl *t, const struct ynode *n, const char *what, struct vl_prefix *p)
{
	struct vl_prefix loose;
	char buf[VL_PREFIX_STRLEN];
	int r = tl_want_scalar(t, n, what);

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

int tl_cidrs(struct tl *t, const struct ynode *n, const char *what, struct vl_prefix **out, size_t *count)
{
	size_t k = n->kind == YN_SEQ ? n->n : 1;
	int r;

	if (n->kind == YN_MAP)
		return ld_fail(&t->c, n, "expected a list of CIDRs for %s, got a mapping", what);
	if (!k)
		return ld_fail(&t->c, n, "%s needs at least one CIDR", what);
	*out = calloc(k, sizeof(**out));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		if ((r = tl_cidr(t, n->kind == YN_SEQ ? n->kids[i] : n, what, &(*out)[i])))
			return r;
		*count = i + 1;
	}
	return 0;
}

const char *tl_reserved_overlap(struct vl_prefix p)
{
	static const struct {
		struct vl_prefix p;
		const char *what;
	} reserved[] = {
	    {{VL_IP_AZURE_PLATFORM, 32}, "168.63.129.16/32 (Azure's platform address)"},
	    {{0xa9fe0000u, 16}, "169.254.0.0/16 (link-local)"},
	    {{0x7f000000u, 8}, "127.0.0.0/8 (loopback)"},
	    {{0xe0000000u, 4}, "224.0.0.0/4 (multicast)"},
	    {{0xffffffffu, 32}, "255.255.255.255/32 (broadcast)"},
	};

	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (vl_prefix_overlaps(p, reserved[i].p))
			return reserved[i].what;
	return NULL;
}

int tl_ipv4(struct tl *t, const struct ynode *n, const char *what, uint32_t *ip)
{
	int r = tl_want_scalar(t, n, what);

	if (r)
		return r;
	if (vl_ip_parse(n->str, ip))
		return ld_fail(&t->c, n, "invalid %s '%s': expected an IPv4 address", what, n->str);
	return 0;
}

int tl_port_list(struct tl *t, const struct ynode *n, uint16_t **out, size_t *count)
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
int tl_app_ports(struct tl *t, const struct ynode *m, enum vl_app *a, uint16_t **ports, size_t *n_ports)
{
	const struct ynode *n = ld_get(m, "app");
	int r;

	if (n) {
		if ((r = tl_want_scalar(t, n, "app")))
			return r;
		if (!strcasecmp(n->str, "hello"))
			*a = VL_APP_HELLO;
		else if (!strcasecmp(n->str, "echo"))
			*a = VL_APP_ECHO;
		else
			return ld_fail(&t->c, n, "unknown app '%s'; expected one of: hello, echo", n->str);
	}
	n = ld_get(m, "ports");
	return n ? tl_port_list(t, n, ports, n_ports) : 0;
}

int tl_nsg_ref(struct tl *t, const struct ynode *n, int *idx)
{
	int r = tl_want_scalar(t, n, "networkSecurityGroup");

	if (r)
		return r;
	*idx = vl_lab_find_nsg(t->lab, n->str);
	if (*idx == VL_NONE)
		return ld_fail(&t->c, n, "unknown network security group '%s'", n->str);
	return 0;
}

int tl_subnet_ref(struct tl *t, const struct ynode *map, const char *what, const char *name, bool for_aci,
		  int *idx)
{
	const struct ynode *n;
	const struct vl_subnet *s;
	int found[2], r = ld_need(&t->c, map, "subnet", what, &n);

	if (!r)
		r = tl_want_scalar(t, n, "subnet");
	if (r)
		return r;
	switch (vl_lab_match_subnet(t->lab, n->str, found)) {
	case 0:
		return ld_fail(&t->c, n, "unknown subnet '%s'", n->str);
	case 2:
		return ld_fail(&t->c, n,
			       "subnet name '%s' is in vnet '%s' and in vnet '%s'; write VNET/SUBNET, e.g. '%s/%s'",
			       n->str, t->lab->vnets[t->lab->subnets[found[0]].vnet].name,
			       t->lab->vnets[t->lab->subnets[found[1]].vnet].name,
			       t->lab->vnets[t->lab->subnets[found[0]].vnet].name, n->str);
	}
	*idx = found[0];
	s = &t->lab->subnets[*idx];
	if (!strcmp(s->name, GATEWAY_SUBNET))
		return ld_fail(&t->c, n, GATEWAY_SUBNET " holds only virtual network gateways, not %s '%s'", what,
			       name);
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

int tl_cidr_list(struct tl *t, const struct ynode *n, const char *what, struct vl_prefix **out,
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
		if ((r = tl_cidr(t, n->kids[i], what, &(*out)[i])))
			return r;
		*count = i + 1;
	}
	return 0;
}
