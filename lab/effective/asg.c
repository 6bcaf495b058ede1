// SPDX-License-Identifier: MIT
/*
 * Application security groups and service tags, resolved once: each ASG to its members' NIC
 * addresses, each service tag to its merged prefixes. The evaluator and the nftables compiler
 * read these and nothing else (spec section 18).
 */
#include <errno.h>
#include <stdlib.h>

#include "eff-int.h"
#include "vnetlab/ip.h"

static int cmp_ip(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int asg_members(const struct vl_lab *lab, int asg, uint32_t **out, size_t *n)
{
	size_t k = 0, cap = 0;
	uint32_t *v = NULL;

	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *ep = &lab->eps[i];
		const struct vl_vm *vm;
		bool member = false;

		if (ep->kind != VL_EP_VM)
			continue;
		vm = &lab->vms[ep->owner];
		for (size_t j = 0; j < vm->n_asgs && !member; j++)
			member = vm->asgs[j] == asg;
		if (!member)
			continue;
		if (k == cap) {
			uint32_t *nv = realloc(v, (cap = cap ? cap * 2 : 8) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[k++] = ep->ip;
	}
	if (k > 1)
		qsort(v, k, sizeof(*v), cmp_ip);
	*out = v;
	*n = k;
	return 0;
}

int vleff_asgs_build(const struct vl_lab *lab, struct vl_effective *e)
{
	int rc = 0;

	e->asg_ips = calloc(lab->n_asgs + 1, sizeof(*e->asg_ips));
	e->n_asg_ips = calloc(lab->n_asgs + 1, sizeof(*e->n_asg_ips));
	e->tag_prefixes = calloc(lab->n_service_tags + 1, sizeof(*e->tag_prefixes));
	e->n_tag_prefixes = calloc(lab->n_service_tags + 1, sizeof(*e->n_tag_prefixes));
	if (!e->asg_ips || !e->n_asg_ips || !e->tag_prefixes || !e->n_tag_prefixes)
		return -ENOMEM;
	for (size_t a = 0; a < lab->n_asgs && !rc; a++)
		rc = asg_members(lab, (int)a, &e->asg_ips[a], &e->n_asg_ips[a]);
	for (size_t t = 0; t < lab->n_service_tags && !rc; t++) {
		const struct vl_service_tag *st = &lab->service_tags[t];
		struct vleff_plist l = {0};

		for (size_t i = 0; i < st->n_prefixes && !rc; i++)
			rc = vleff_plist_push(&l, st->prefixes[i]);
		vleff_plist_merge(&l);
		e->tag_prefixes[t] = l.v;
		e->n_tag_prefixes[t] = l.n;
	}
	return rc;
}

void vleff_asgs_free(struct vl_effective *e, const struct vl_lab *lab)
{
	if (e->asg_ips)
		for (size_t a = 0; a < lab->n_asgs; a++)
			free(e->asg_ips[a]);
	if (e->tag_prefixes)
		for (size_t t = 0; t < lab->n_service_tags; t++)
			free(e->tag_prefixes[t]);
	free(e->asg_ips);
	free(e->n_asg_ips);
	free(e->tag_prefixes);
	free(e->n_tag_prefixes);
}

bool vl_eff_asg_applies(const struct vl_lab *lab, int asg, int scope)
{
	const struct vl_effective *e = lab->eff;

	if (!e || !e->asg_ips || asg < 0 || (size_t)asg >= lab->n_asgs || scope < 0 ||
	    (size_t)scope >= e->n_scopes)
		return false;
	return lab->asgs[asg].vnet != VL_NONE && lab->asgs[asg].vnet == e->scopes[scope].vnet;
}

bool vl_eff_in_asg(const struct vl_lab *lab, int asg, int scope, uint32_t ip)
{
	const struct vl_effective *e = lab->eff;

	if (!vl_eff_asg_applies(lab, asg, scope))
		return false;
	return bsearch(&ip, e->asg_ips[asg], e->n_asg_ips[asg], sizeof(ip), cmp_ip) != NULL;
}

bool vl_eff_in_service_tag(const struct vl_effective *e, int tag, uint32_t ip)
{
	if (!e || !e->tag_prefixes || tag < 0)
		return false;
	return vleff_plist_contains(e->tag_prefixes[tag], e->n_tag_prefixes[tag], ip);
}
