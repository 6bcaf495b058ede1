// SPDX-License-Identifier: MIT
/*
 * A Kubernetes pod template (a Pod's spec, a workload's spec.template) → a pod spec of the model:
 * container ports and their names, the app that serves them, and the scheduling fields
 * (nodeSelector, tolerations, node affinity, nodeName). Fields that do not change where packets go
 * (images, resources, probes, env, volumes…) are read past. Also the cluster's virtual node and
 * the call to the scheduler, whose failure is located at the pod's own document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

#define APP_ANNOTATION "vnetlab.io/app"
#define PORT_NAME_MAX 15

static const char *const effects[] = {"", "NoSchedule", "PreferNoSchedule", "NoExecute", NULL};

static int effect(struct tl *t, const struct ynode *n, enum vl_effect *out)
{
	int r;

	*out = VL_EFFECT_ANY;
	if (!n)
		return 0;
	if ((r = tl_want_scalar(t, n, "effect")))
		return r;
	for (int i = 1; effects[i]; i++)
		if (!strcmp(n->str, effects[i])) {
			*out = (enum vl_effect)i;
			return 0;
		}
	return ld_fail(&t->c, n, "invalid effect; expected one of: NoSchedule, PreferNoSchedule, NoExecute");
}

static int toleration(struct tl *t, const struct ynode *m, struct vl_toleration *o)
{
	const struct ynode *n, *op;
	int r;

	if ((r = ld_map(&t->c, m, "toleration")))
		return r;
	if ((n = ld_get(m, "key")) && (r = ld_str(&t->c, n, "key", &o->key)))
		return r;
	if (o->key && !*o->key) {
		free(o->key);
		o->key = NULL;
	}
	if ((op = ld_get(m, "operator"))) {
		if ((r = tl_want_scalar(t, op, "operator")))
			return r;
		if (!strcmp(op->str, "Exists"))
			o->exists = true;
		else if (strcmp(op->str, "Equal"))
			return ld_fail(&t->c, op, "invalid toleration operator; expected Equal or Exists");
	}
	if ((n = ld_get(m, "value")) && (r = ld_str(&t->c, n, "value", &o->value)))
		return r;
	if (o->exists && o->value && *o->value)
		return ld_fail(&t->c, n, "a toleration with operator Exists takes no value");
	if (!o->key && !o->exists)
		return ld_fail(&t->c, m, "a toleration without key needs operator Exists");
	return effect(t, ld_get(m, "effect"), &o->effect);
}

static const char *const node_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", NULL};

/* One NodeSelectorRequirement; fields: matchFields (metadata.name, In/NotIn only). */
static int node_expr(struct tl *t, const struct ynode *m, bool fields, struct vl_sel_expr *e)
{
	static const char *const keys[] = {"key", "operator", "values", NULL};
	const char *what = fields ? "matchFields entry" : "matchExpressions entry";
	const struct ynode *n, *vals;
	int r, op;

	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, keys)) ||
	    (r = ld_need(&t->c, m, "key", what, &n)) || (r = ld_str(&t->c, n, "key", &e->key)))
		return r;
	if (fields && strcmp(e->key, "metadata.name"))
		return ld_fail(&t->c, n, "matchFields supports only the key metadata.name");
	if ((r = ld_need(&t->c, m, "operator", what, &n)) || (r = tl_want_scalar(t, n, "operator")))
		return r;
	for (op = 0; node_ops[op]; op++)
		if (!strcmp(n->str, node_ops[op]))
			break;
	if (!node_ops[op] || (fields && op > VL_SEL_NOT_IN))
		return ld_fail(&t->c, n, "invalid operator in %s; expected one of: %s", what,
			       fields ? "In, NotIn" : "In, NotIn, Exists, DoesNotExist, Gt, Lt");
	e->op = (enum vl_sel_op)op;
	vals = ld_get(m, "values");
	if (vals && (r = ld_seq(&t->c, vals, "values")))
		return r;
	for (size_t i = 0; vals && i < vals->n; i++) {
		if ((r = tl_want_scalar(t, vals->kids[i], "values")) || (r = vl_strv_push(&e->values, vals->kids[i]->str)))
			return r;
		if (e->op >= VL_SEL_GT) {
			char *end;

			strtol(vals->kids[i]->str, &end, 10);
			if (*end)
				return ld_fail(&t->c, vals->kids[i], "operator %s needs an integer value", node_ops[op]);
		}
	}
	if ((e->op == VL_SEL_IN || e->op == VL_SEL_NOT_IN) && !e->values.n)
		return ld_fail(&t->c, vals ? vals : m, "operator %s needs a non-empty list of values", node_ops[op]);
	if ((e->op == VL_SEL_EXISTS || e->op == VL_SEL_DOES_NOT_EXIST) && e->values.n)
		return ld_fail(&t->c, vals, "operator %s takes no values", node_ops[op]);
	if (e->op >= VL_SEL_GT && e->values.n != 1)
		return ld_fail(&t->c, vals ? vals : m, "operator %s needs exactly one value", node_ops[op]);
	return 0;
}

static int exprs(struct tl *t, const struct ynode *seq, bool fields, struct vl_sel_expr **out, size_t *n)
{
	int r;

	if (!seq)
		return 0;
	if ((r = ld_seq(&t->c, seq, fields ? "matchFields" : "matchExpressions")))
		return r;
	if (!(*out = calloc(seq->n ? seq->n : 1, sizeof(**out))))
		return -ENOMEM;
	for (size_t i = 0; i < seq->n; i++) {
		++*n;
		if ((r = node_expr(t, seq->kids[i], fields, &(*out)[i])))
			return r;
	}
	return 0;
}

static int node_term(struct tl *t, const struct ynode *m, const char *what, struct vl_node_term *term)
{
	static const char *const keys[] = {"matchExpressions", "matchFields", NULL};
	int r;

	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, keys)) ||
	    (r = exprs(t, ld_get(m, "matchExpressions"), false, &term->exprs, &term->n_exprs)))
		return r;
	return exprs(t, ld_get(m, "matchFields"), true, &term->fields, &term->n_fields);
}

static int node_affinity(struct tl *t, const struct ynode *m, struct vl_pod_sched *s)
{
	const struct ynode *req, *pref, *terms;
	int r;

	if ((r = ld_map(&t->c, m, "nodeAffinity")))
		return r;
	if ((req = ld_get(m, "requiredDuringSchedulingIgnoredDuringExecution"))) {
		if ((r = ld_map(&t->c, req, "requiredDuringSchedulingIgnoredDuringExecution")) ||
		    (r = ld_need(&t->c, req, "nodeSelectorTerms", "requiredDuringSchedulingIgnoredDuringExecution",
				 &terms)) ||
		    (r = ld_seq(&t->c, terms, "nodeSelectorTerms")))
			return r;
		if (!terms->n)
			return ld_fail(&t->c, terms, "nodeSelectorTerms needs at least one term");
		if (!(s->required = calloc(terms->n, sizeof(*s->required))))
			return -ENOMEM;
		for (size_t i = 0; i < terms->n; i++) {
			s->n_required++;
			if ((r = node_term(t, terms->kids[i], "nodeSelectorTerm", &s->required[i])))
				return r;
		}
	}
	if ((pref = ld_get(m, "preferredDuringSchedulingIgnoredDuringExecution"))) {
		if ((r = ld_seq(&t->c, pref, "preferredDuringSchedulingIgnoredDuringExecution")))
			return r;
		if (!(s->preferred = calloc(pref->n ? pref->n : 1, sizeof(*s->preferred))))
			return -ENOMEM;
		for (size_t i = 0; i < pref->n; i++) {
			const struct ynode *it = pref->kids[i], *w, *p;

			s->n_preferred++;
			if ((r = ld_map(&t->c, it, "preferred scheduling term")) ||
			    (r = ld_need(&t->c, it, "weight", "preferred scheduling term", &w)) ||
			    (r = ld_int(&t->c, w, "weight", 1, 100, &s->preferred[i].weight)) ||
			    (r = ld_need(&t->c, it, "preference", "preferred scheduling term", &p)) ||
			    (r = node_term(t, p, "preference", &s->preferred[i].term)))
				return r;
		}
	}
	return 0;
}

/* nodeName: a node of the cluster by its Kubernetes name (no scheduler, no taints). */
static int node_name(struct tl *t, const struct ynode *n, const struct vl_aks *a, struct vl_pod_spec *p)
{
	char name[VL_ENDPOINT_NAME_MAX + 16], q[96];
	int r, total = a->node_count + a->has_vnode;

	if ((r = tl_want_scalar(t, n, "nodeName")))
		return r;
	for (int i = 0; i < total; i++)
		if (!strcmp(n->str, vl_aks_node_name(a, i, name, sizeof(name)))) {
			p->node = i;
			return 0;
		}
	return ld_fail(&t->c, n, "nodeName '%s' is no node of cluster '%s' (its nodes are %s-node-0 to %s-node-%d%s)",
		       ld_quote(&t->c, n->str, q, sizeof(q)), a->name, a->name, a->name, a->node_count - 1,
		       a->has_vnode ? " and virtual-node-aci-linux" : "");
}

static int container_ports(struct tl *t, const struct ynode *seq, struct vl_pod_spec *p)
{
	int r;

	if ((r = ld_seq(&t->c, seq, "containers")))
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *c = seq->kids[i], *ports;

		if ((r = ld_map(&t->c, c, "container")))
			return r;
		if (!(ports = ld_get(c, "ports")))
			continue;
		if ((r = ld_seq(&t->c, ports, "ports")))
			return r;
		for (size_t j = 0; j < ports->n; j++) {
			const struct ynode *pm = ports->kids[j], *n;
			uint16_t *np;
			char **nn;
			int v;

			if ((r = ld_map(&t->c, pm, "container port")) ||
			    (r = ld_need(&t->c, pm, "containerPort", "container port", &n)) ||
			    (r = ld_int(&t->c, n, "containerPort", 1, 65535, &v)))
				return r;
			for (size_t k = 0; k < p->n_ports; k++)
				if (p->ports[k] == v)
					return ld_fail(&t->c, n, "containerPort %d is listed twice in pod '%s'", v,
						       p->name);
			np = realloc(p->ports, (p->n_ports + 1) * sizeof(*np));
			if (np)
				p->ports = np;
			nn = realloc(p->port_names, (p->n_ports + 1) * sizeof(*nn));
			if (nn)
				p->port_names = nn;
			if (!np || !nn)
				return -ENOMEM;
			p->ports[p->n_ports] = (uint16_t)v;
			p->port_names[p->n_ports] = NULL;
			p->n_ports++;
			if ((n = ld_get(pm, "name"))) {
				if ((r = ld_str(&t->c, n, "port name", &p->port_names[p->n_ports - 1])))
					return r;
				if (strlen(n->str) > PORT_NAME_MAX)
					return ld_fail(&t->c, n, "a port name has at most %d characters", PORT_NAME_MAX);
			}
		}
	}
	return 0;
}

static int app_annotation(struct tl *t, const struct ynode *ann, struct vl_pod_spec *p)
{
	const struct ynode *n;
	int r;

	p->app = p->n_ports ? VL_APP_HELLO : VL_APP_NONE;
	if (!ann)
		return 0;
	if ((r = ld_map(&t->c, ann, "annotations")))
		return r;
	if (!(n = ld_get(ann, APP_ANNOTATION)))
		return 0;
	if ((r = tl_want_scalar(t, n, APP_ANNOTATION)))
		return r;
	if (!strcmp(n->str, "hello"))
		p->app = VL_APP_HELLO;
	else if (!strcmp(n->str, "echo"))
		p->app = VL_APP_ECHO;
	else
		return ld_fail(&t->c, n, "unknown app in annotation " APP_ANNOTATION "; expected hello or echo");
	if (!p->n_ports)
		return ld_fail(&t->c, n, "annotation " APP_ANNOTATION " needs a containerPort to serve");
	return 0;
}

int tl_pod_template(struct tl *t, const struct ynode *meta, const struct ynode *spec, struct vl_aks *a,
		    struct vl_pod_spec *p)
{
	const struct ynode *n, *aff;
	int r;

	p->node = VL_NONE;
	if ((n = ld_get(meta, "labels")) && !n->null && (r = tl_labels(t, n, "labels", &p->labels)))
		return r;
	if ((r = ld_map(&t->c, spec, "pod spec")))
		return r;
	if ((n = ld_get(spec, "hostNetwork")) && n->kind == YN_SCALAR && !strcmp(n->str, "true"))
		return ld_fail(&t->c, n, "hostNetwork pods are not emulated (they would share the node's namespace)");
	if ((r = ld_need(&t->c, spec, "containers", "pod spec", &n)) || (r = container_ports(t, n, p)))
		return r;
	if ((r = app_annotation(t, ld_get(meta, "annotations"), p)))
		return r;
	if ((n = ld_get(spec, "nodeSelector")) && (r = tl_labels(t, n, "nodeSelector", &p->sched.node_selector)))
		return r;
	if ((n = ld_get(spec, "tolerations"))) {
		if ((r = ld_seq(&t->c, n, "tolerations")))
			return r;
		if (!(p->sched.tols = calloc(n->n ? n->n : 1, sizeof(*p->sched.tols))))
			return -ENOMEM;
		for (size_t i = 0; i < n->n; i++) {
			p->sched.n_tols++;
			if ((r = toleration(t, n->kids[i], &p->sched.tols[i])))
				return r;
		}
	}
	if ((aff = ld_get(spec, "affinity"))) {
		if ((r = ld_map(&t->c, aff, "affinity")))
			return r;
		if ((n = ld_get(aff, "nodeAffinity")) && (r = node_affinity(t, n, &p->sched)))
			return r;
		/* podAffinity / podAntiAffinity: not emulated; placement ignores them */
	}
	if ((n = ld_get(spec, "nodeName")) && (r = node_name(t, n, a, p)))
		return r;
	return 0;
}

int tl_pod_claim(struct tl *t, const struct vl_pod_spec *p, const struct ynode *at)
{
	char name[VL_ENDPOINT_NAME_MAX + 16];
	int reps = p->replicas ? p->replicas : 1, r = 0;

	for (int k = 0; k < reps && !r; k++) {
		if (p->replicas)
			snprintf(name, sizeof(name), "%s-%d", p->name, k);
		else
			snprintf(name, sizeof(name), "%s", p->name);
		r = tl_claim(t, name, at, "pod");
	}
	return r;
}

int tl_virtual_node(struct tl *t, const struct ynode *m, struct vl_aks *a)
{
	static const char *const keys[] = {"subnet", NULL};
	const struct vl_subnet *s;
	int r;

	if ((r = ld_map(&t->c, m, "virtualNode")) || (r = ld_keys(&t->c, m, "virtualNode", keys)))
		return r;
	if (a->plugin != VL_PLUGIN_AZURE)
		return ld_fail(&t->c, m,
			       "virtualNode needs networkPlugin azure (AKS's virtual-node add-on refuses kubenet "
			       "clusters)");
	if ((r = tl_subnet_ref(t, m, "virtual node", "virtual-node-aci-linux", true, &a->vnode_subnet)))
		return r;
	s = &t->lab->subnets[a->vnode_subnet];
	if (s->vnet != t->lab->subnets[a->subnet].vnet)
		return ld_fail(&t->c, ld_get(m, "subnet"),
			       "subnet '%s' of the virtual node must be in the cluster's VNet (no VNet peering for "
			       "virtual nodes)",
			       s->name);
	a->vnode_loc = m->loc;
	a->has_vnode = true;
	return 0;
}

int tl_schedule(struct tl *t, struct vl_aks *a)
{
	int bad, r = vl_aks_schedule(a, &bad, t->c.err->msg, sizeof(t->c.err->msg));
	char msg[sizeof(t->c.err->msg)];

	if (r != -EINVAL)
		return r;
	snprintf(msg, sizeof(msg), "%s", t->c.err->msg);
	vl_error_set(t->c.err, a->pods[bad].file ? a->pods[bad].file : t->c.file, a->pods[bad].loc, "%s", msg);
	return r;
}
