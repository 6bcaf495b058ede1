// SPDX-License-Identifier: MIT
/*
 * Where a cluster's pods run: AKS's node labels and taints (the virtual node's from spec 17) and
 * kube-scheduler's filters (nodeSelector, taints and tolerations, required node affinity, maxPods)
 * and scores (preferred node affinity, PreferNoSchedule taints), made deterministic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/model.h"

#define NODE_POOL "nodepool1"
#define VNODE_NAME "virtual-node-aci-linux"

static const struct vl_taint vnode_taints[] = {
    {"virtual-kubelet.io/provider", "azure", VL_EFFECT_NO_SCHEDULE},
};

void vl_pod_sched_free(struct vl_pod_sched *s)
{
	vl_labels_free(&s->node_selector);
	for (size_t i = 0; i < s->n_tols; i++) {
		free(s->tols[i].key);
		free(s->tols[i].value);
	}
	free(s->tols);
	for (size_t i = 0; i < s->n_required; i++)
		vl_node_term_free(&s->required[i]);
	free(s->required);
	for (size_t i = 0; i < s->n_preferred; i++)
		vl_node_term_free(&s->preferred[i].term);
	free(s->preferred);
	memset(s, 0, sizeof(*s));
}

static void exprs_free(struct vl_sel_expr *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].key);
		vl_strv_free(&e[i].values);
	}
	free(e);
}

void vl_node_term_free(struct vl_node_term *t)
{
	exprs_free(t->exprs, t->n_exprs);
	exprs_free(t->fields, t->n_fields);
	memset(t, 0, sizeof(*t));
}

static bool is_vnode(const struct vl_aks *a, int node)
{
	return node == a->node_count;
}

const char *vl_aks_node_name(const struct vl_aks *a, int node, char *buf, size_t len)
{
	if (is_vnode(a, node))
		snprintf(buf, len, "%s", VNODE_NAME);
	else
		snprintf(buf, len, "%s-node-%d", a->name, node);
	return buf;
}

int vl_aks_node_labels(const struct vl_aks *a, int node, struct vl_labels *out)
{
	static const char *const vm[][2] = {
	    {"agentpool", NODE_POOL},
	    {"beta.kubernetes.io/arch", "amd64"},
	    {"beta.kubernetes.io/os", "linux"},
	    {"kubernetes.azure.com/agentpool", NODE_POOL},
	    {"kubernetes.azure.com/mode", "system"},
	    {"kubernetes.azure.com/role", "agent"},
	    {"kubernetes.io/arch", "amd64"},
	    {"kubernetes.io/os", "linux"},
	    {"kubernetes.io/role", "agent"},
	    {"node-role.kubernetes.io/agent", ""},
	};
	/* virtual-kubelet's ACI provider and the AKS add-on (spec 17) */
	static const char *const vk[][2] = {
	    {"alpha.service-controller.kubernetes.io/exclude-balancer", "true"},
	    {"beta.kubernetes.io/os", "linux"},
	    {"kubernetes.azure.com/managed", "false"},
	    {"kubernetes.io/os", "linux"},
	    {"kubernetes.io/role", "agent"},
	    {"node.kubernetes.io/exclude-from-external-load-balancers", "true"},
	    {"type", "virtual-kubelet"},
	};
	const char *const(*set)[2] = is_vnode(a, node) ? vk : vm;
	size_t n = is_vnode(a, node) ? sizeof(vk) / sizeof(vk[0]) : sizeof(vm) / sizeof(vm[0]);
	char name[VL_ENDPOINT_NAME_MAX + 16], mc[VL_ENDPOINT_NAME_MAX + 16];
	int r = 0;

	for (size_t i = 0; !r && i < n; i++)
		r = vl_labels_set(out, set[i][0], set[i][1]);
	if (!r)
		r = vl_labels_set(out, "kubernetes.io/hostname", vl_aks_node_name(a, node, name, sizeof(name)));
	if (!r && !is_vnode(a, node)) {
		snprintf(mc, sizeof(mc), "MC_%s", a->name);
		r = vl_labels_set(out, "kubernetes.azure.com/cluster", mc);
	}
	return r;
}

const struct vl_taint *vl_aks_node_taints(const struct vl_aks *a, int node, size_t *n)
{
	*n = is_vnode(a, node) ? sizeof(vnode_taints) / sizeof(vnode_taints[0]) : 0;
	return *n ? vnode_taints : NULL;
}

int vl_aks_node_capacity(const struct vl_aks *a, int node)
{
	return is_vnode(a, node) ? VL_VNODE_PODS : a->max_pods;
}

static int n_nodes(const struct vl_aks *a)
{
	return a->node_count + a->has_vnode;
}

/* Kubernetes' ToleratesTaint. */
static bool tolerates(const struct vl_toleration *t, const struct vl_taint *taint)
{
	if (t->effect != VL_EFFECT_ANY && t->effect != taint->effect)
		return false;
	if (t->key && strcmp(t->key, taint->key))
		return false;
	return t->exists || !strcmp(t->value ? t->value : "", taint->value);
}

static bool tolerated(const struct vl_pod_sched *s, const struct vl_taint *taint)
{
	for (size_t i = 0; i < s->n_tols; i++)
		if (tolerates(&s->tols[i], taint))
			return true;
	return false;
}

static bool term_matches(const struct vl_node_term *t, const struct vl_labels *l, const char *name)
{
	for (size_t i = 0; i < t->n_exprs; i++)
		if (!vl_sel_expr_matches(&t->exprs[i], vl_labels_get(l, t->exprs[i].key)))
			return false;
	for (size_t i = 0; i < t->n_fields; i++) /* metadata.name, the one field Kubernetes allows */
		if (!vl_sel_expr_matches(&t->fields[i], name))
			return false;
	return true;
}

static const char *effect_name(enum vl_effect e)
{
	static const char *const names[] = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"};

	return names[e];
}

/* Why a node is filtered out, one of kube-scheduler's reasons. */
enum reason { FIT, R_AFFINITY, R_TAINT, R_PODS, N_REASONS };

static enum reason filter(const struct vl_aks *a, const struct vl_pod_spec *p, int node, const int *load,
			  char *why, size_t why_len)
{
	struct vl_labels l = {0};
	char name[VL_ENDPOINT_NAME_MAX + 16];
	const struct vl_taint *taints;
	enum reason r = FIT;
	size_t n;

	if (why && why_len)
		why[0] = '\0';
	taints = vl_aks_node_taints(a, node, &n);
	for (size_t i = 0; i < n && r == FIT; i++)
		if (taints[i].effect != VL_EFFECT_PREFER_NO_SCHEDULE && !tolerated(&p->sched, &taints[i])) {
			r = R_TAINT;
			if (why)
				snprintf(why, why_len, "untolerated taint {%s: %s} (%s)", taints[i].key,
					 taints[i].value, effect_name(taints[i].effect));
		}
	vl_aks_node_name(a, node, name, sizeof(name));
	if (r == FIT && vl_aks_node_labels(a, node, &l) == 0) {
		if (!vl_labels_subset(&p->sched.node_selector, &l)) {
			r = R_AFFINITY;
			if (why)
				snprintf(why, why_len, "didn't match Pod's node affinity/selector (nodeSelector)");
		} else if (p->sched.n_required) {
			bool any = false;

			for (size_t i = 0; i < p->sched.n_required && !any; i++)
				any = term_matches(&p->sched.required[i], &l, name);
			if (!any) {
				r = R_AFFINITY;
				if (why)
					snprintf(why, why_len,
						 "didn't match Pod's node affinity/selector (required node affinity)");
			}
		}
	}
	vl_labels_free(&l);
	if (r == FIT && load && load[node] >= vl_aks_node_capacity(a, node)) {
		r = R_PODS;
		if (why)
			snprintf(why, why_len, "Too many pods (maxPods %d)", vl_aks_node_capacity(a, node));
	}
	return r;
}

bool vl_pod_fits(const struct vl_aks *a, const struct vl_pod_spec *p, int node, char *why, size_t why_len)
{
	return filter(a, p, node, NULL, why, why_len) == FIT;
}

/* Score: the preferred terms' weights, then (negated) untolerated PreferNoSchedule taints. */
static void score(const struct vl_aks *a, const struct vl_pod_spec *p, int node, long *weight, long *prefer)
{
	struct vl_labels l = {0};
	char name[VL_ENDPOINT_NAME_MAX + 16];
	size_t n;
	const struct vl_taint *taints = vl_aks_node_taints(a, node, &n);

	*weight = *prefer = 0;
	for (size_t i = 0; i < n; i++)
		*prefer += taints[i].effect == VL_EFFECT_PREFER_NO_SCHEDULE && !tolerated(&p->sched, &taints[i]);
	if (vl_aks_node_labels(a, node, &l))
		goto out;
	vl_aks_node_name(a, node, name, sizeof(name));
	for (size_t i = 0; i < p->sched.n_preferred; i++)
		if (term_matches(&p->sched.preferred[i].term, &l, name))
			*weight += p->sched.preferred[i].weight;
out:
	vl_labels_free(&l);
}

/* kubectl's "0/3 nodes are available: 1 node(s) had untolerated taint {…}, 2 Too many pods." */
static void failed_scheduling(const struct vl_aks *a, const struct vl_pod_spec *p, const int *load, int replica,
			      char *why, size_t why_len)
{
	static const char *const words[N_REASONS] = {"", "node(s) didn't match Pod's node affinity/selector",
						     "node(s) had untolerated taint", "Too many pods"};
	char pod[VL_ENDPOINT_NAME_MAX + 16], one[160], taint[160] = "";
	int count[N_REASONS] = {0}, total = n_nodes(a);
	size_t at;

	for (int node = 0; node < total; node++) {
		enum reason r = filter(a, p, node, load, one, sizeof(one));

		count[r]++;
		if (r == R_TAINT && !taint[0]) {
			snprintf(taint, sizeof(taint), " %s", strchr(one, '{'));
			if (strchr(taint, '}'))
				strchr(taint, '}')[1] = '\0';
		}
	}
	if (p->replicas)
		snprintf(pod, sizeof(pod), "%s-%d", p->name, replica);
	else
		snprintf(pod, sizeof(pod), "%s", p->name);
	at = (size_t)snprintf(why, why_len, "pod '%s' of cluster '%s' cannot be scheduled (FailedScheduling): "
				      "0/%d nodes are available:",
			      pod, a->name, total);
	for (int r = 1; r < N_REASONS && at < why_len; r++)
		if (count[r])
			at += (size_t)snprintf(why + at, why_len - at, "%s %d %s%s", why[at - 1] == ':' ? "" : ",",
					       count[r], words[r], r == R_TAINT ? taint : "");
	if (count[R_PODS] && at < why_len)
		at += (size_t)snprintf(why + at, why_len - at, " (maxPods %d)", a->max_pods);
	if (at < why_len)
		snprintf(why + at, why_len - at, ".");
}

int vl_aks_schedule(struct vl_aks *a, int *bad, char *why, size_t why_len)
{
	int total = n_nodes(a), rr = 0, rc = 0;
	int *load = calloc((size_t)total + 1, sizeof(*load)), *best = calloc((size_t)total + 1, sizeof(*best));

	*bad = VL_NONE;
	if (!load || !best) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t j = 0; j < a->n_pods && !rc; j++) {
		struct vl_pod_spec *p = &a->pods[j];
		int reps = p->replicas > 0 ? p->replicas : 1;

		free(p->placed);
		if (!(p->placed = calloc((size_t)reps, sizeof(*p->placed)))) {
			rc = -ENOMEM;
			break;
		}
		for (int k = 0; k < reps; k++) {
			long bw = 0, bp = 0;
			int nb = 0;

			if (p->node != VL_NONE) { /* `node:` of an inline pod: nodeName, no scheduler */
				if (++load[p->node] > vl_aks_node_capacity(a, p->node)) {
					snprintf(why, why_len, "node %d of cluster '%s' would run more than maxPods (%d) pods",
						 p->node, a->name, vl_aks_node_capacity(a, p->node));
					rc = -EINVAL;
					break;
				}
				p->placed[k] = p->node;
				continue;
			}
			for (int node = 0; node < total; node++) {
				long w, pr;

				if (filter(a, p, node, load, NULL, 0) != FIT)
					continue;
				score(a, p, node, &w, &pr);
				if (nb && (w < bw || (w == bw && pr > bp)))
					continue;
				if (!nb || w > bw || pr < bp)
					nb = 0;
				bw = w;
				bp = pr;
				best[nb++] = node;
			}
			if (!nb) {
				failed_scheduling(a, p, load, k, why, why_len);
				rc = -EINVAL;
				break;
			}
			p->placed[k] = best[rr++ % nb];
			load[p->placed[k]]++;
		}
		if (rc)
			*bad = (int)j;
	}
out:
	free(load);
	free(best);
	return rc;
}

const char *vl_pod_node_name(const struct vl_lab *lab, const struct vl_endpoint *e)
{
	if (e->kind != VL_EP_POD)
		return NULL;
	if (e->virtual_node)
		return VNODE_NAME;
	return e->node >= 0 && (size_t)e->node < lab->n_eps ? lab->eps[e->node].name : NULL;
}
