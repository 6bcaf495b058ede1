// SPDX-License-Identifier: MIT
/*
 * The AzurePlatform* service tags (spec section 19.4, docs/nsg-semantics.md): which rules of an
 * NSG judge traffic to the platform addresses. The evaluator (lab/eval/path.c) and the nftables
 * platform chains (lab/nft/platform.c) both read vl_eff_platform_rules() and nothing else.
 */
#include <errno.h>
#include <stdlib.h>

#include "vnetlab/effective.h"
#include "vnetlab/ip.h"

bool vl_eff_is_platform_addr(uint32_t ip)
{
	return ip == VL_IP_AZURE_PLATFORM || ip == VL_IP_IMDS;
}

static bool names_platform(const struct vl_addr_match *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vl_addr_kind_platform(m[i].kind))
			return true;
	return false;
}

bool vl_rule_is_platform(const struct vl_rule *r)
{
	return r->dir == VL_DIR_OUT && !r->is_default &&
	       (names_platform(r->dst, r->n_dst) || names_platform(r->src, r->n_src));
}

static int by_priority(const void *a, const void *b)
{
	const struct vl_rule *x = *(const struct vl_rule *const *)a, *y = *(const struct vl_rule *const *)b;

	if (x->priority != y->priority)
		return (x->priority > y->priority) - (x->priority < y->priority);
	return (x > y) - (x < y); /* file order on a tie (never after validation) */
}

int vl_eff_platform_rules(const struct vl_lab *lab, int nsg, const struct vl_rule ***out, size_t *n)
{
	const struct vl_nsg *g;
	const struct vl_rule **v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs)
		return 0;
	g = &lab->nsgs[nsg];
	for (size_t i = 0; i < g->n_rules; i++)
		k += vl_rule_is_platform(&g->rules[i]);
	if (!k)
		return 0;
	v = calloc(k, sizeof(*v));
	if (!v)
		return -ENOMEM;
	k = 0;
	for (size_t i = 0; i < g->n_rules; i++)
		if (vl_rule_is_platform(&g->rules[i]))
			v[k++] = &g->rules[i];
	qsort(v, k, sizeof(*v), by_priority);
	*out = v;
	*n = k;
	return 0;
}

bool vl_eff_has_platform_rules(const struct vl_lab *lab, int nsg)
{
	if (nsg < 0 || (size_t)nsg >= lab->n_nsgs)
		return false;
	for (size_t i = 0; i < lab->nsgs[nsg].n_rules; i++)
		if (vl_rule_is_platform(&lab->nsgs[nsg].rules[i]))
			return true;
	return false;
}
