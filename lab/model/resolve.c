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
	size_t n = lab->n_vms + lab->n_cgs;

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

/* Static addresses first, then .4 upward in file order, skipping the statics. */
static int assign_subnet(struct vl_lab *lab, int s, struct claim *claims, size_t n, struct vl_error *err)
{
	struct vl_prefix p = lab->subnets[s].prefix;
	uint32_t next = p.addr + 4;

	qsort(claims, n, sizeof(*claims), cmp_claim);
	for (size_t i = 0; i < n; i++) {
		struct vl_endpoint *e = &lab->eps[claims[i].ep];

		for (;;) {
			if (next >= vl_prefix_last(p)) {
				vl_error_set(
				    err, lab->file, (struct vl_loc){claims[i].line, claims[i].col},
				    "subnet '%s' (%u usable addresses) has no free address left for '%s'",
				    lab->subnets[s].name,
				    p.len >= 30 ? 0 : (unsigned)(vl_prefix_last(p) - p.addr - 4), e->name);
				return -EINVAL;
			}
			if (vl_lab_find_endpoint_by_ip(lab, next) == VL_NONE)
				break;
			next++;
		}
		e->ip = next++;
	}
	return 0;
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
		if (vl_lab_find_endpoint_by_ip(lab, vm->static_ip) != VL_NONE) {
			vl_error_set(err, lab->file, vm->loc,
				     "privateIpAddress %s of vm '%s' is already taken",
				     vl_ip_fmt(vm->static_ip, a), vm->name);
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
	return 0;
}

static int resolve_cluster(struct vl_lab *lab, int c, struct vl_error *err)
{
	struct vl_aks *a = &lab->aks[c];
	char name[VL_ENDPOINT_NAME_MAX + 32];
	int first_node = (int)lab->n_eps;
	int *on_node = calloc((size_t)a->node_count, sizeof(int));
	int spread = 0, rc = 0;

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
	for (size_t j = 0; j < a->n_pods; j++) {
		struct vl_pod_spec *ps = &a->pods[j];
		int reps = ps->replicas > 0 ? ps->replicas : 1;

		for (int r = 0; r < reps; r++) {
			int node = ps->node != VL_NONE ? ps->node : spread++ % a->node_count;
			int ep;

			if (ps->replicas > 0)
				snprintf(name, sizeof(name), "%s-%d", ps->name, r);
			else
				snprintf(name, sizeof(name), "%s", ps->name);
			if (++on_node[node] > a->max_pods) {
				vl_error_set(err, lab->file, ps->loc,
					     "node %d of cluster '%s' would run more than maxPods (%d) pods",
					     node, a->name, a->max_pods);
				rc = -EINVAL;
				goto out;
			}
			ep = add_ep(lab, name, VL_EP_POD, a->subnet, c, ps->app, ps->ports, ps->n_ports);
			if (ep < 0) {
				rc = ep;
				goto out;
			}
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

int vl_lab_resolve(struct vl_lab *lab, struct vl_error *err)
{
	size_t total = count_eps(lab);
	struct claim *claims = NULL;
	int rc;

	if (total > VL_ENDPOINTS_MAX) {
		vl_error_set(err, lab->file, (struct vl_loc){1, 1},
			     "the lab has %zu endpoints; at most %d are supported", total, VL_ENDPOINTS_MAX);
		return -EINVAL;
	}
	lab->eps = calloc(total ? total : 1, sizeof(*lab->eps));
	claims = calloc(total ? total : 1, sizeof(*claims));
	if (!lab->eps || !claims) {
		rc = -ENOMEM;
		goto out;
	}
	rc = resolve_vms(lab, err);
	for (size_t c = 0; !rc && c < lab->n_aks; c++)
		rc = resolve_cluster(lab, (int)c, err);
	if (!rc)
		rc = check_names(lab, err);
	for (size_t s = 0; !rc && s < lab->n_subnets; s++) {
		size_t n = 0;

		for (size_t i = 0; i < lab->n_eps; i++) {
			struct vl_endpoint *e = &lab->eps[i];
			struct vl_loc at;
			int seq = 0;

			if (e->subnet != (int)s || e->ip)
				continue;
			if (e->kind == VL_EP_VM)
				at = lab->vms[e->owner].loc;
			else if (e->kind == VL_EP_CG)
				at = lab->cgs[e->owner].loc;
			else if (e->kind == VL_EP_NODE)
				at = lab->aks[e->owner].loc, seq = e->node;
			else if (lab->aks[e->owner].plugin == VL_PLUGIN_AZURE)
				at = lab->aks[e->owner].loc, seq = 1000000 + (int)i; /* after the nodes */
			else
				continue;
			claims[n++] = (struct claim){at.line, at.col, seq, (int)i};
		}
		rc = assign_subnet(lab, (int)s, claims, n, err);
	}
	if (!rc)
		rc = vl_eff_build(lab, err);
out:
	free(claims);
	return rc;
}
