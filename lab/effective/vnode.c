// SPDX-License-Identifier: MIT
/*
 * What the virtual node leaves out (spec 17): network policies are not enforced on its pods.
 * Each policy that selects one is worth a warning, said where the lab is built or validated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/effective.h"

int vl_eff_vnode_warnings(const struct vl_lab *lab, struct vl_strv *out)
{
	char *w;
	int r;

	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		const struct vl_aks *a;
		const struct vl_pod_spec *p;

		if (e->kind != VL_EP_POD || !e->virtual_node)
			continue;
		a = &lab->aks[e->owner];
		p = &a->pods[e->pod_spec];
		if (a->netpol == VL_NETPOL_NONE)
			continue;
		for (size_t k = 0; k < a->n_policies; k++) {
			const struct vl_netpol *np = &a->policies[k];

			if (strcmp(np->ns, p->ns) || !vl_selector_matches(&np->pods, &p->labels))
				continue;
			if (asprintf(&w,
				     "NetworkPolicy %s/%s of cluster '%s' selects pod %s on the virtual node: "
				     "network policies are not enforced on virtual-node pods (AKS), so it is not",
				     np->ns, np->name, a->name, e->name) < 0)
				return -ENOMEM;
			r = vl_strv_push(out, w);
			free(w);
			if (r)
				return r;
		}
	}
	return 0;
}
