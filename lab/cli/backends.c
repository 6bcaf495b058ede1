// SPDX-License-Identifier: MIT
/* The backends a flow to a Service may get (vl_verdict.backends) in words and in JSON: explain, verify. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/eval.h"

const char *backend_result_name(const struct vl_backend_verdict *b)
{
	if (b->outcome == VL_OUT_DELIVERED)
		return b->listens ? "connected" : "refused";
	return vl_outcome_name(b->outcome);
}

/* What the backend does with the flow, as a verb phrase of the backend: "connects", "is denied by ...". */
static void result_words(const struct vl_lab *lab, const struct vl_backend_verdict *b, bool plural, char *buf,
			 size_t len)
{
	char ref[200];

	switch (b->outcome) {
	case VL_OUT_DELIVERED:
		if (b->listens)
			snprintf(buf, len, "%s", plural ? "connect" : "connects");
		else
			snprintf(buf, len, "%s (no app listens on port %u)", plural ? "refuse" : "refuses",
				 b->port);
		return;
	case VL_OUT_DENIED:
		if (b->nsg == VL_NONE && b->policy != VL_NONE)
			snprintf(buf, len, "%s denied by network policy %s (%s of pod %s)",
				 plural ? "are" : "is",
				 policy_ref(lab, b->policy_cluster, b->policy, ref, sizeof(ref)),
				 b->np_dir == VL_DIR_IN ? "ingress" : "egress",
				 b->np_pod != VL_NONE ? lab->eps[b->np_pod].name : "?");
		else if (b->nsg != VL_NONE && b->rule)
			snprintf(buf, len, "%s denied by NSG %s, rule %s", plural ? "are" : "is",
				 lab->nsgs[b->nsg].name, b->rule->name);
		else
			snprintf(buf, len, "%s denied", plural ? "are" : "is");
		return;
	case VL_OUT_UNREACHABLE:
		snprintf(buf, len, "%s unreachable", plural ? "are" : "is");
		return;
	case VL_OUT_NO_HOST:
		snprintf(buf, len, "%s lost on the way (no answer)", plural ? "are" : "is");
		return;
	}
	snprintf(buf, len, "?");
}

/* "web-1", or "web-1 via aks-node-0" when a load balancer picked the node. */
static int backend_name(const struct vl_lab *lab, const struct vl_backend_verdict *b, bool lb, char *buf,
			size_t len)
{
	const char *pod = b->pod != VL_NONE ? lab->eps[b->pod].name : "no pod";

	if (lb)
		return snprintf(buf, len, "%s via %s", pod, lab->eps[b->node].name);
	return snprintf(buf, len, "%s", pod);
}

static bool via_lb(const struct vl_verdict *v)
{
	for (size_t i = 0; i < v->n_hops; i++)
		if (v->hops[i].type == VL_HT_LB)
			return true;
	return false;
}

bool backends_words(const struct vl_lab *lab, const struct vl_verdict *v, char *buf, size_t len)
{
	size_t listed = v->n_backends < VL_MAX_BACKENDS ? v->n_backends : VL_MAX_BACKENDS, n = 0;
	bool done[VL_MAX_BACKENDS] = {false}, lb = via_lb(v);

	if (!v->mixed || !len)
		return false;
	n += (size_t)snprintf(buf, len, "depends on the backend %s: ",
			      lb ? "the load balancer and kube-proxy pick" : "kube-proxy picks");
	for (size_t i = 0; i < listed && n < len; i++) {
		size_t count = 0, names = 0;
		char words[300], name[160];

		if (done[i])
			continue;
		for (size_t j = i; j < listed; j++)
			if (!done[j] && vl_backend_same(&v->backends[i], &v->backends[j]))
				count++;
		result_words(lab, &v->backends[i], count > 1, words, sizeof(words));
		if (i)
			n += (size_t)snprintf(buf + n, len - n, "; ");
		if (n < len)
			n += count > 1 ? (size_t)snprintf(buf + n, len - n, "%zu of %zu %s (", count,
							  v->n_backends, lb ? "backends" : "pods")
				       : (size_t)snprintf(buf + n, len - n, "pod ");
		for (size_t j = i; j < listed && n < len; j++) {
			if (done[j] || !vl_backend_same(&v->backends[i], &v->backends[j]))
				continue;
			done[j] = true;
			backend_name(lab, &v->backends[j], lb, name, sizeof(name));
			n += (size_t)snprintf(buf + n, len - n, "%s%s", names++ ? ", " : "", name);
		}
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s %s", count > 1 ? ")" : "", words);
	}
	if (v->n_backends > listed && n < len)
		snprintf(buf + n, len - n, "; and %zu more not listed", v->n_backends - listed);
	return true;
}

json_t *backends_tree(const struct vl_lab *lab, const struct vl_verdict *v)
{
	size_t listed = v->n_backends < VL_MAX_BACKENDS ? v->n_backends : VL_MAX_BACKENDS;
	json_t *a = json_array();

	for (size_t i = 0; i < listed; i++) {
		const struct vl_backend_verdict *b = &v->backends[i];
		json_t *o = json_object();
		char ref[200];

		out_set(o, "node", out_str(lab->eps[b->node].name));
		out_set(o, "pod", out_str(b->pod != VL_NONE ? lab->eps[b->pod].name : NULL));
		out_set(o, "port", b->port ? out_int(b->port) : NULL);
		out_set(o, "result", out_str(backend_result_name(b)));
		out_set(o, "outcome", out_str(vl_outcome_name(b->outcome)));
		out_set(o, "access", out_str(vl_access_name(b->access)));
		out_set(o, "nsg", out_str(b->nsg != VL_NONE ? lab->nsgs[b->nsg].name : NULL));
		out_set(o, "rule", out_str(b->rule ? b->rule->name : NULL));
		out_set(o, "policy",
			out_str(policy_ref(lab, b->policy_cluster, b->policy, ref, sizeof(ref))));
		out_add(a, o);
	}
	return a;
}
