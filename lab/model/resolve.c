// SPDX-License-Identifier: MIT
/* Endpoints and addresses, derived from the validated topology as Azure assigns them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/effective.h"
#include "vnetlab/ip.h"
#include "vnetlab/model.h"

/* Where an endpoint that needs a subnet address was written: addresses go in file order. */
struct claim {
	int line;
	int col;
	int seq; /* within one object: node index, Azure CNI pods after the nodes */
	int ep;
};

static int add_ep(struct vl_lab *lab, const char *name, enum vl_ep_kind kind, int subnet, int owner,
		  enum vl_app app, uint16_t *ports, size_t n_ports)
{
	struct vl_endpoint *e;

	if (lab->n_eps >= VL_ENDPOINTS_MAX)
		return -E2BIG;
	e = &lab->eps[lab->n_eps];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	if (!e->name)
		return -ENOMEM;
	e->kind = kind;
	e->subnet = subnet;
	e->owner = owner;
	e->nic = (int)lab->n_eps;
	e->nic_nsg = VL_NONE;
	e->node = VL_NONE;
	e->app = app;
	e->ports = ports;
	e->n_ports = n_ports;
	return (int)lab->n_eps++;
}

static size_t count_eps(const struct vl_lab *lab)
{
	size_t n = lab->n_vms + lab->n_cgs + lab->n_internet_hosts;

	for (size_t i = 0; i < lab->n_local_gateways; i++)
		n += lab->local_gateways[i].n_hosts;

	for (size_t i = 0; i < lab->n_aks; i++) {
		n += (size_t)lab->aks[i].node_count;
		for (size_t j = 0; j < lab->aks[i].n_pods; j++) {
			int r = lab->aks[i].pods[j].replicas;

			n += r > 0 ? (size_t)r : 1;
		}
	}
	return n;
}

static int cmp_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col) /* flow style puts several objects on one line */
		return x->col < y->col ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->ep < y->ep ? -1 : x->ep > y->ep;
}

static bool reserved(struct vl_prefix p, uint32_t ip)
{
	return ip - p.addr < 4 || ip == vl_prefix_last(p);
}

/*
 * Static addresses first, then .4 upward in file order, skipping the statics.
 * The n claims can only be pushed past as many addresses as there are statics
 * in the subnet, so a window of n + n_static bits from .4 is enough.
 */
static int assign_subnet(struct vl_lab *lab, int s, struct claim *claims, size_t n, const uint32_t *statics,
			 size_t n_static, uint8_t *taken, struct vl_error *err)
{
	struct vl_prefix p = lab->subnets[s].prefix;
	uint32_t first = p.addr + 4, off = 0;
	size_t window = n + n_static;

	if (!n)
		return 0;
	memset(taken, 0, (window + 7) / 8);
	for (size_t i = 0; i < n_static; i++)
		if (statics[i] - first < window)
			taken[(statics[i] - first) / 8] |= (uint8_t)(1u << ((statics[i] - first) % 8));
	qsort(claims, n, sizeof(*claims), cmp_claim);
	for (size_t i = 0; i < n; i++) {
		struct vl_endpoint *e = &lab->eps[claims[i].ep];

		while (off < window && taken[off / 8] & (1u << (off % 8)))
			off++;
		if (first + off >= vl_prefix_last(p)) {
			vl_error_set(err, lab->file, (struct vl_loc){claims[i].line, claims[i].col},
				     "subnet '%s' (%u usable addresses) has no free address left for '%s'",
				     lab->subnets[s].name,
				     p.len >= 30 ? 0 : (unsigned)(vl_prefix_last(p) - p.addr - 4), e->name);
			return -EINVAL;
		}
		e->ip = first + off++;
	}
	return 0;
}

struct static_ip {
	int subnet;
	uint32_t ip;
	int vm;
};

static int cmp_static(const void *a, const void *b)
{
	const struct static_ip *x = a, *y = b;

	if (x->subnet != y->subnet)
		return x->subnet < y->subnet ? -1 : 1;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (x->vm > y->vm) - (x->vm < y->vm);
}

/* Two VMs of one subnet with one privateIpAddress: the later one in the file is refused. */
static int check_statics(struct vl_lab *lab, struct vl_error *err)
{
	struct static_ip *st = calloc(lab->n_vms ? lab->n_vms : 1, sizeof(*st));
	size_t n = 0;
	int dup = VL_NONE;
	char a[VL_IP_STRLEN];

	if (!st)
		return -ENOMEM;
	for (size_t i = 0; i < lab->n_vms; i++)
		if (lab->vms[i].static_ip)
			st[n++] = (struct static_ip){lab->vms[i].subnet, lab->vms[i].static_ip, (int)i};
	qsort(st, n, sizeof(*st), cmp_static);
	for (size_t i = 1; i < n; i++)
		if (st[i].subnet == st[i - 1].subnet && st[i].ip == st[i - 1].ip &&
		    (dup == VL_NONE || st[i].vm < dup))
			dup = st[i].vm;
	free(st);
	if (dup == VL_NONE)
		return 0;
	vl_error_set(err, lab->file, lab->vms[dup].loc, "privateIpAddress %s of vm '%s' is already taken",
		     vl_ip_fmt(lab->vms[dup].static_ip, a), lab->vms[dup].name);
	return -EINVAL;
}

static int resolve_vms(struct vl_lab *lab, struct vl_error *err)
{
	for (size_t i = 0; i < lab->n_vms; i++) {
		struct vl_vm *vm = &lab->vms[i];
		struct vl_prefix p = lab->subnets[vm->subnet].prefix;
		char a[VL_IP_STRLEN], b[VL_PREFIX_STRLEN];
		int ep = add_ep(lab, vm->name, VL_EP_VM, vm->subnet, (int)i, vm->app, vm->ports, vm->n_ports);

		if (ep < 0)
			return ep;
		lab->eps[ep].nic_nsg = vm->nsg;
		if (!vm->static_ip)
			continue;
		if (!vl_prefix_contains(p, vm->static_ip) || reserved(p, vm->static_ip)) {
			vl_error_set(
			    err, lab->file, vm->loc,
			    "privateIpAddress %s of vm '%s' is %s subnet '%s' (%s); Azure reserves the "
			    "first four and the last address",
			    vl_ip_fmt(vm->static_ip, a), vm->name,
			    vl_prefix_contains(p, vm->static_ip) ? "reserved in" : "outside",
			    lab->subnets[vm->subnet].name, vl_prefix_fmt(p, b));
			return -EINVAL;
		}
		lab->eps[ep].ip = vm->static_ip;
	}
	for (size_t i = 0; i < lab->n_cgs; i++) {
		struct vl_container_group *cg = &lab->cgs[i];
		int ep = add_ep(lab, cg->name, VL_EP_CG, cg->subnet, (int)i, cg->app, cg->ports, cg->n_ports);

		if (ep < 0)
			return ep;
	}
	return check_statics(lab, err);
}

static int resolve_cluster(struct vl_lab *lab, int c, struct vl_error *err)
{
	struct vl_aks *a = &lab->aks[c];
	char name[VL_ENDPOINT_NAME_MAX + 32];
	int first_node = (int)lab->n_eps;
	int *on_node = calloc((size_t)a->node_count, sizeof(int));
	int rc = 0;

	if (!on_node)
		return -ENOMEM;
	if (a->plugin == VL_PLUGIN_KUBENET &&
	    (a->pod_cidr.len > 24 || (uint64_t)a->node_count > (1ull << (24 - a->pod_cidr.len)))) {
		vl_error_set(err, lab->file, a->loc, "podCidr of cluster '%s' has no room for %d node /24s",
			     a->name, a->node_count);
		rc = -EINVAL;
		goto out;
	}
	for (int n = 0; n < a->node_count; n++) {
		int ep;

		snprintf(name, sizeof(name), "%s-node-%d", a->name, n);
		ep = add_ep(lab, name, VL_EP_NODE, a->subnet, c, VL_APP_NONE, NULL, 0);
		if (ep < 0) {
			rc = ep;
			goto out;
		}
		lab->eps[ep].nic_nsg = a->node_nsg;
		lab->eps[ep].node = n;
		if (a->plugin == VL_PLUGIN_KUBENET)
			lab->eps[ep].pod_cidr = (struct vl_prefix){a->pod_cidr.addr + ((uint32_t)n << 8), 24};
	}
	if (a->n_pods && !a->pods[0].placed) { /* a model not made by the loader */
		int bad;
		char why[sizeof(err->msg)];

		rc = vl_aks_schedule(a, &bad, why, sizeof(why));
		if (rc == -EINVAL)
			vl_error_set(err, a->pods[bad].file ? a->pods[bad].file : lab->file, a->pods[bad].loc, "%s",
				     why);
		if (rc)
			goto out;
	}
	for (size_t j = 0; j < a->n_pods; j++) {
		struct vl_pod_spec *ps = &a->pods[j];
		int reps = ps->replicas > 0 ? ps->replicas : 1;

		for (int r = 0; r < reps; r++) {
			int node = ps->placed[r];
			bool virt = node == a->node_count;
			int ep;

			if (ps->replicas > 0)
				snprintf(name, sizeof(name), "%s-%d", ps->name, r);
			else
				snprintf(name, sizeof(name), "%s", ps->name);
			ep = add_ep(lab, name, VL_EP_POD, virt ? a->vnode_subnet : a->subnet, c, ps->app, ps->ports,
				    ps->n_ports);
			if (ep < 0) {
				rc = ep;
				goto out;
			}
			lab->eps[ep].pod_spec = (int)j;
			if (virt) { /* a container group in the virtual node's subnet: its own NIC (spec 17) */
				lab->eps[ep].virtual_node = true;
				continue;
			}
			++on_node[node];
			lab->eps[ep].node = first_node + node;
			lab->eps[ep].nic = first_node + node;
			lab->eps[ep].nic_nsg = a->node_nsg;
			if (a->plugin == VL_PLUGIN_KUBENET) {
				/* host-local IPAM: .1 is cbr0, pods from .2 */
				lab->eps[ep].ip =
				    lab->eps[first_node + node].pod_cidr.addr + 1 + (uint32_t)on_node[node];
			}
		}
	}
out:
	free(on_node);
	return rc;
}

static int cmp_ep_name(const void *a, const void *b, void *arg)
{
	const struct vl_endpoint *eps = arg;

	return strcmp(eps[*(const int *)a].name, eps[*(const int *)b].name);
}

static int check_names(struct vl_lab *lab, struct vl_error *err)
{
	int *order = malloc((lab->n_eps ? lab->n_eps : 1) * sizeof(*order));
	int rc = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < lab->n_eps; i++) {
		const char *n = lab->eps[i].name;

		order[i] = (int)i;
		if (!strcmp(n, "fabric") || !strcmp(n, "internet")) {
			vl_error_set(err, lab->file, (struct vl_loc){0, 0},
				     "endpoint name '%s' is reserved for the lab's own namespaces", n);
			rc = -EINVAL;
			goto out;
		}
		if (strlen(n) > VL_ENDPOINT_NAME_MAX) {
			vl_error_set(err, lab->file, (struct vl_loc){0, 0},
				     "endpoint name '%s' is longer than %d characters", n,
				     VL_ENDPOINT_NAME_MAX);
			rc = -EINVAL;
			goto out;
		}
	}
	qsort_r(order, lab->n_eps, sizeof(*order), cmp_ep_name, lab->eps);
	for (size_t i = 1; i < lab->n_eps; i++)
		if (!strcmp(lab->eps[order[i - 1]].name, lab->eps[order[i]].name)) {
			vl_error_set(err, lab->file, (struct vl_loc){0, 0},
				     "two endpoints are named '%s' (names are unique in a lab)",
				     lab->eps[order[i]].name);
			rc = -EINVAL;
			goto out;
		}
out:
	free(order);
	return rc;
}

/* Does endpoint i need an address from its subnet? Then *c says where it was written. */
static bool subnet_claim(const struct vl_lab *lab, size_t i, struct claim *c)
{
	const struct vl_endpoint *e = &lab->eps[i];
	struct vl_loc at;
	int seq = 0;

	if (e->subnet == VL_NONE || e->ip)
		return false;
	if (e->kind == VL_EP_VM)
		at = lab->vms[e->owner].loc;
	else if (e->kind == VL_EP_CG)
		at = lab->cgs[e->owner].loc;
	else if (e->kind == VL_EP_NODE)
		at = lab->aks[e->owner].loc, seq = e->node;
	else if (e->kind == VL_EP_POD && e->virtual_node)
		at = lab->aks[e->owner].vnode_loc, seq = (int)i;
	else if (e->kind == VL_EP_POD && lab->aks[e->owner].plugin == VL_PLUGIN_AZURE)
		at = lab->aks[e->owner].loc, seq = 1000000 + (int)i; /* after the nodes */
	else
		return false;
	*c = (struct claim){at.line, at.col, seq, (int)i};
	return true;
}

/*
 * Addresses are unique per subnet (so per VNet: VNets that nothing joins may
 * overlap). Claims and statics are bucketed by subnet in one pass each.
 */
static int assign_subnets(struct vl_lab *lab, struct vl_error *err)
{
	size_t ns = lab->n_subnets, window = 0;
	size_t *c_off = calloc(ns + 2, sizeof(*c_off)), *s_off = calloc(ns + 2, sizeof(*s_off));
	struct claim *claims = calloc(lab->n_eps ? lab->n_eps : 1, sizeof(*claims));
	uint32_t *statics = calloc(lab->n_vms ? lab->n_vms : 1, sizeof(*statics));
	uint8_t *taken = NULL;
	struct claim c;
	int rc = -ENOMEM;

	if (!c_off || !s_off || !claims || !statics)
		goto out;
	for (size_t i = 0; i < lab->n_eps; i++)
		if (subnet_claim(lab, i, &c))
			c_off[lab->eps[i].subnet + 2]++;
	for (size_t i = 0; i < lab->n_vms; i++)
		if (lab->vms[i].static_ip)
			s_off[lab->vms[i].subnet + 2]++;
	for (size_t s = 0; s < ns; s++) {
		if (c_off[s + 2] + s_off[s + 2] > window)
			window = c_off[s + 2] + s_off[s + 2];
		c_off[s + 2] += c_off[s + 1];
		s_off[s + 2] += s_off[s + 1];
	}
	/* [s + 1] is the write cursor of subnet s; after filling, [s] .. [s + 1] is its slice */
	for (size_t i = 0; i < lab->n_eps; i++)
		if (subnet_claim(lab, i, &c))
			claims[c_off[lab->eps[i].subnet + 1]++] = c;
	for (size_t i = 0; i < lab->n_vms; i++)
		if (lab->vms[i].static_ip)
			statics[s_off[lab->vms[i].subnet + 1]++] = lab->vms[i].static_ip;
	taken = malloc(window / 8 + 1);
	if (!taken)
		goto out;
	rc = 0;
	for (size_t s = 0; !rc && s < ns; s++)
		rc = assign_subnet(lab, (int)s, claims + c_off[s], c_off[s + 1] - c_off[s], statics + s_off[s],
				   s_off[s + 1] - s_off[s], taken, err);
out:
	free(c_off);
	free(s_off);
	free(claims);
	free(statics);
	free(taken);
	return rc;
}

/* Where Internet hosts get addresses, in this order (spec: documentation ranges; 198.51.100.0/25
 * is the lab's own Azure public addresses). */
static const struct {
	uint32_t net;
	uint32_t first; /* offsets in the /24 */
} pools[] = {{0xcb007100u, 4}, {0xc0000200u, 4}, {0xc6336400u, 132}}; /* 203.0.113, 192.0.2, 198.51.100 */

#define N_POOLS (sizeof(pools) / sizeof(pools[0]))
#define POOL_LAST 254

static void mark_pools(uint8_t taken[][32], struct vl_prefix q)
{
	for (size_t k = 0; k < N_POOLS; k++) {
		struct vl_prefix pool = {pools[k].net, 24};

		if (!vl_prefix_overlaps(q, pool))
			continue;
		uint32_t lo = q.addr > pool.addr ? q.addr : pool.addr;
		uint32_t hi = vl_prefix_last(q) < vl_prefix_last(pool) ? vl_prefix_last(q) : vl_prefix_last(pool);
		for (uint32_t a = lo - pool.addr; a <= hi - pool.addr; a++)
			taken[k][a / 8] |= (uint8_t)(1u << (a % 8));
	}
}

/* Internet hosts without an address: 203.0.113.4 upward, then 192.0.2.4, then 198.51.100.132,
 * skipping given addresses and anything inside a VNet or on-premises address space. */
static int assign_internet(struct vl_lab *lab, size_t first_ep, struct vl_error *err)
{
	uint8_t taken[N_POOLS][32] = {{0}};
	size_t k = 0;
	uint32_t off = pools[0].first;

	for (size_t i = 0; i < lab->n_internet_hosts; i++)
		mark_pools(taken, (struct vl_prefix){lab->internet_hosts[i].address, 32});
	/* Azure public addresses written in the file (vl_public_assign) are nobody's host address. */
	for (size_t i = 0; i < lab->n_vms; i++)
		if (lab->vms[i].public_ip)
			mark_pools(taken, (struct vl_prefix){lab->vms[i].public_ip, 32});
	for (size_t s = 0; s < lab->n_subnets; s++)
		for (size_t i = 0; i < lab->subnets[s].n_natgw_ips; i++)
			mark_pools(taken, (struct vl_prefix){lab->subnets[s].natgw_ips[i], 32});
	for (size_t c = 0; c < lab->n_aks; c++) {
		if (lab->aks[c].outbound_ip)
			mark_pools(taken, (struct vl_prefix){lab->aks[c].outbound_ip, 32});
		for (size_t i = 0; i < lab->aks[c].n_services; i++)
			if (lab->aks[c].services[i].frontend_ip)
				mark_pools(taken, (struct vl_prefix){lab->aks[c].services[i].frontend_ip, 32});
	}
	for (size_t v = 0; v < lab->n_vnets; v++)
		for (size_t j = 0; j < lab->vnets[v].n_spaces; j++)
			mark_pools(taken, lab->vnets[v].spaces[j]);
	for (size_t g = 0; g < lab->n_local_gateways; g++)
		for (size_t j = 0; j < lab->local_gateways[g].n_prefixes; j++)
			mark_pools(taken, lab->local_gateways[g].prefixes[j]);
	for (size_t i = 0; i < lab->n_internet_hosts; i++) {
		struct vl_endpoint *e = &lab->eps[first_ep + i];

		if (e->ip)
			continue;
		for (;;) {
			if (k == N_POOLS) {
				vl_error_set(err, lab->file, lab->internet_hosts[i].loc,
					     "no Internet address left for host '%s' (203.0.113.0/24, 192.0.2.0/24 "
					     "and 198.51.100.128/25 are used up)",
					     e->name);
				return -EINVAL;
			}
			if (off > POOL_LAST) {
				if (++k < N_POOLS)
					off = pools[k].first;
			} else if (taken[k][off / 8] & (1u << (off % 8))) {
				off++;
			} else {
				break;
			}
		}
		e->ip = pools[k].net + off++;
	}
	return 0;
}

/* On-premises hosts without an address: their local gateway's first prefix, .4 upward,
 * skipping given addresses (.1 is the on-premises router). */
static int assign_onprem(struct vl_lab *lab, size_t first_ep, struct vl_error *err)
{
	size_t ep = first_ep, window = 0;
	uint8_t *taken;
	char buf[VL_PREFIX_STRLEN];
	int rc = 0;

	for (size_t g = 0; g < lab->n_local_gateways; g++)
		if (lab->local_gateways[g].n_hosts > window)
			window = lab->local_gateways[g].n_hosts;
	taken = malloc(window / 8 + 1);
	if (!taken)
		return -ENOMEM;
	for (size_t g = 0; !rc && g < lab->n_local_gateways; g++) {
		const struct vl_local_gateway *lg = &lab->local_gateways[g];
		struct vl_prefix p = lg->n_prefixes ? lg->prefixes[0] : (struct vl_prefix){0, 32};
		uint64_t first = (uint64_t)p.addr + 4;
		uint32_t off = 0;

		memset(taken, 0, window / 8 + 1);
		for (size_t i = 0; i < lg->n_hosts; i++)
			if (lg->hosts[i].address && lg->hosts[i].address - first < lg->n_hosts)
				taken[(lg->hosts[i].address - first) / 8] |=
				    (uint8_t)(1u << ((lg->hosts[i].address - first) % 8));
		for (size_t i = 0; !rc && i < lg->n_hosts; i++, ep++) {
			struct vl_endpoint *e = &lab->eps[ep];

			if (e->ip)
				continue;
			while (off < lg->n_hosts && taken[off / 8] & (1u << (off % 8)))
				off++;
			if (!lg->n_prefixes || first + off >= vl_prefix_last(p)) {
				vl_error_set(err, lab->file, lg->hosts[i].loc,
					     "local network gateway '%s': no free address left in %s for host '%s'",
					     lg->name, vl_prefix_fmt(p, buf), e->name);
				rc = -EINVAL;
				break;
			}
			e->ip = (uint32_t)(first + off++);
		}
	}
	free(taken);
	return rc;
}

static int resolve_hosts(struct vl_lab *lab, struct vl_error *err)
{
	size_t first_internet = lab->n_eps, first_onprem;
	int ep;

	for (size_t i = 0; i < lab->n_internet_hosts; i++) {
		const struct vl_host_spec *h = &lab->internet_hosts[i];

		if ((ep = add_ep(lab, h->name, VL_EP_INTERNET, VL_NONE, (int)i, h->app, h->ports, h->n_ports)) < 0)
			return ep;
		lab->eps[ep].ip = h->address;
	}
	first_onprem = lab->n_eps;
	for (size_t g = 0; g < lab->n_local_gateways; g++)
		for (size_t i = 0; i < lab->local_gateways[g].n_hosts; i++) {
			const struct vl_host_spec *h = &lab->local_gateways[g].hosts[i];

			if ((ep = add_ep(lab, h->name, VL_EP_ONPREM, VL_NONE, (int)g, h->app, h->ports,
					 h->n_ports)) < 0)
				return ep;
			lab->eps[ep].ip = h->address;
		}
	/* Gateways of one GatewaySubnet (a Vpn and an ExpressRoute one) take .4, .5 in file order. */
	for (size_t i = 0; i < lab->n_gateways; i++) {
		struct vl_vnet_gateway *gw = &lab->gateways[i];
		uint32_t before = 0;

		for (size_t j = 0; j < i; j++)
			before += lab->gateways[j].subnet == gw->subnet;
		if (gw->subnet != VL_NONE)
			gw->ip = lab->subnets[gw->subnet].prefix.addr + 4 + before;
	}
	int rc = assign_internet(lab, first_internet, err);
	return rc ? rc : assign_onprem(lab, first_onprem, err);
}

int vl_lab_resolve(struct vl_lab *lab, struct vl_error *err)
{
	size_t total = count_eps(lab);
	int rc;

	if (total > VL_ENDPOINTS_MAX) {
		vl_error_set(err, lab->file, (struct vl_loc){1, 1},
			     "the lab has %zu endpoints; at most %d are supported", total, VL_ENDPOINTS_MAX);
		return -EINVAL;
	}
	lab->eps = calloc(total ? total : 1, sizeof(*lab->eps));
	if (!lab->eps)
		return -ENOMEM;
	/* Public addresses and the node NSG rules first: endpoints take the node NSG. */
	rc = vl_public_assign(lab, err);
	for (size_t c = 0; !rc && c < lab->n_aks; c++)
		rc = vl_cpa_reconcile(lab, (int)c, err);
	if (!rc)
		rc = resolve_vms(lab, err);
	for (size_t c = 0; !rc && c < lab->n_aks; c++)
		rc = resolve_cluster(lab, (int)c, err);
	if (!rc)
		rc = resolve_hosts(lab, err);
	if (!rc)
		rc = check_names(lab, err);
	if (!rc)
		rc = assign_subnets(lab, err);
	if (!rc)
		rc = vl_eff_build(lab, err);
	return rc;
}
