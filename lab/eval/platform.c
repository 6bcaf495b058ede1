// SPDX-License-Identifier: MIT
/*
 * A flow to an Azure platform address (168.63.129.16, 169.254.169.254; spec 19.4): answered in
 * the VNet's fabric, judged only by AzurePlatform* rules, never by default rules. The path walk
 * (path.c) hands such flows here.
 */
#include <stdlib.h>
#include <string.h>

#include "path-int.h"
#include "vnetlab/ip.h"

/*
 * To a platform address (spec 19.4, docs/nsg-semantics.md): answered by the platform in the
 * VNet's fabric, judged only by the platform rules (vl_eff_platform_rules) of the sender's NIC
 * NSG, then its subnet's; a Deny decides, an Allow passes on to the next NSG, and when no platform
 * rule matches the traffic bypasses NSGs. Default rules never apply.
 */
void vlev_platform_path(const struct vl_lab *lab, struct vl_verdict *v, int nic, int src_ep,
			  const struct vl_flow *f)
{
	int s = lab->eps[nic].subnet, k = vl_eff_endpoint_scope(lab, nic);
	int nsgs[2] = {vlev_nic_nsg(lab, nic), s >= 0 ? vlev_subnet_nsg(lab, s) : VL_NONE};
	bool named = false, matched = false;
	char a[VL_IP_STRLEN];

	for (int l = 0; l < 2 && v->outcome == VL_OUT_DELIVERED; l++) {
		const struct vl_rule **r = NULL, *hit = NULL;
		struct vl_hop *h;
		size_t n = 0;

		if (vl_eff_platform_rules(lab, nsgs[l], &r, &n) || !n) {
			free(r);
			continue;
		}
		named = true;
		for (size_t i = 0; i < n && !hit; i++)
			if (vl_eval_rule_matches(lab, k, r[i], f))
				hit = r[i];
		if (!hit) {
			vlev_note(v, "NSG %s: none of its %zu AzurePlatform rule%s matches", lab->nsgs[nsgs[l]].name, n,
				 n == 1 ? "" : "s");
			free(r);
			continue;
		}
		matched = true;
		h = vlev_hop_new(v, VL_HT_NSG);
		h->nsg = nsgs[l];
		h->dir = VL_DIR_OUT;
		h->level = l ? VL_HOP_SUBNET : VL_HOP_NIC;
		h->endpoint = l ? src_ep : nic;
		h->subnet = s;
		h->scope = k;
		h->flow = *f;
		h->rule = hit;
		h->access = hit->access;
		v->nsg = nsgs[l];
		v->rule = hit;
		v->access = hit->access;
		if (hit->access == VL_DENY)
			v->outcome = VL_OUT_DENIED;
		free(r);
	}
	if (!named)
		vlev_note(v, "%s is an Azure platform address: no rule names an AzurePlatform tag: platform "
			    "traffic bypasses NSGs",
			 vl_ip_fmt(f->dst, a));
	else if (!matched)
		vlev_note(v, "%s is an Azure platform address: no AzurePlatform rule matches: platform traffic "
			    "bypasses NSGs",
			 vl_ip_fmt(f->dst, a));
	else if (v->outcome == VL_OUT_DELIVERED)
		vlev_note(v, "%s is an Azure platform address: allowed by AzurePlatform rule %s",
			 vl_ip_fmt(f->dst, a), v->rule->name);
}
