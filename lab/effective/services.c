// SPDX-License-Identifier: MIT
/*
 * Each Service's endpoints, computed once: the pods of its namespace whose labels carry every
 * key=value of its selector (Kubernetes' EndpointSlice controller), virtual-node pods included
 * (spec 17: kube-proxy on the VM nodes DNATs to them), and the ones kube-proxy on a node may pick.
 * kube-proxy's rules, the load balancer's backends and the evaluator all read these lists.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eff-int.h"

static bool selects(const struct vl_aks *a, const struct vl_service *sv, const struct vl_endpoint *e)
{
	const struct vl_pod_spec *p = &a->pods[e->pod_spec];

	if (!sv->selector.n) /* a Service without a selector has no automatic endpoints */
		return false;
	if (strcmp(p->ns ? p->ns : "default", sv->ns ? sv->ns : "default"))
		return false;
	return vl_labels_subset(&sv->selector, &p->labels);
}

int vleff_services_build(const struct vl_lab *lab, struct vl_effective *e)
{
	e->svc_pods = calloc(lab->n_aks ? lab->n_aks : 1, sizeof(*e->svc_pods));
	e->n_svc_pods = calloc(lab->n_aks ? lab->n_aks : 1, sizeof(*e->n_svc_pods));
	if (!e->svc_pods || !e->n_svc_pods)
		return -ENOMEM;
	for (size_t c = 0; c < lab->n_aks; c++) {
		const struct vl_aks *a = &lab->aks[c];

		e->svc_pods[c] = calloc(a->n_services ? a->n_services : 1, sizeof(**e->svc_pods));
		if (!e->svc_pods[c])
			return -ENOMEM;
		e->n_svc_pods[c] = a->n_services;
		for (size_t s = 0; s < a->n_services; s++) {
			struct vl_svc_pods *l = &e->svc_pods[c][s];

			for (size_t i = 0; i < lab->n_eps; i++) {
				const struct vl_endpoint *ep = &lab->eps[i];
				int *v;

				if (ep->kind != VL_EP_POD || ep->owner != (int)c || !selects(a, &a->services[s], ep))
					continue;
				if (!(v = realloc(l->pods, (l->n + 1) * sizeof(*v))))
					return -ENOMEM;
				l->pods = v;
				l->pods[l->n++] = (int)i;
			}
		}
	}
	return 0;
}

void vleff_services_free(struct vl_effective *e, const struct vl_lab *lab)
{
	if (!e->svc_pods)
		return;
	for (size_t c = 0; c < lab->n_aks; c++) {
		for (size_t s = 0; e->svc_pods[c] && e->n_svc_pods && s < e->n_svc_pods[c]; s++)
			free(e->svc_pods[c][s].pods);
		free(e->svc_pods[c]);
	}
	free(e->svc_pods);
	free(e->n_svc_pods);
	e->svc_pods = NULL;
	e->n_svc_pods = NULL;
}

const struct vl_svc_pods *vl_eff_service_pods(const struct vl_lab *lab, int c, int s)
{
	static const struct vl_svc_pods none;

	if (!lab->eff || !lab->eff->svc_pods || c < 0 || (size_t)c >= lab->n_aks || s < 0 ||
	    !lab->eff->svc_pods[c] || (size_t)s >= lab->eff->n_svc_pods[c])
		return &none;
	return &lab->eff->svc_pods[c][s];
}

size_t vl_eff_kproxy_pods(const struct vl_lab *lab, int c, int s, int node, bool local_only, int *pods,
			  size_t cap)
{
	const struct vl_svc_pods *sel = vl_eff_service_pods(lab, c, s);
	size_t n = 0;

	for (size_t i = 0; i < sel->n; i++) {
		if (local_only && lab->eps[sel->pods[i]].node != node)
			continue;
		if (n < cap)
			pods[n] = sel->pods[i];
		n++;
	}
	return n;
}
