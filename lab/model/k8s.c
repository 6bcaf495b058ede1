// SPDX-License-Identifier: MIT
/* Kubernetes objects of the model: labels, label selectors, namespaces, network policies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/model.h"

void vl_labels_free(struct vl_labels *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void vl_selector_free(struct vl_selector *s)
{
	vl_labels_free(&s->match);
	for (size_t i = 0; i < s->n_exprs; i++) {
		free(s->exprs[i].key);
		vl_strv_free(&s->exprs[i].values);
	}
	free(s->exprs);
	s->exprs = NULL;
	s->n_exprs = 0;
}

static void rules_free(struct vl_np_rule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < r[i].n_peers; j++) {
			vl_selector_free(&r[i].peers[j].pods);
			vl_selector_free(&r[i].peers[j].namespaces);
			free(r[i].peers[j].except);
		}
		free(r[i].peers);
		for (size_t j = 0; j < r[i].n_ports; j++)
			free(r[i].ports[j].name);
		free(r[i].ports);
	}
	free(r);
}

void vl_netpol_free(struct vl_netpol *p)
{
	free(p->name);
	free(p->ns);
	vl_selector_free(&p->pods);
	rules_free(p->in, p->n_in);
	rules_free(p->out, p->n_out);
	memset(p, 0, sizeof(*p));
}

void vl_k8s_ns_free(struct vl_k8s_ns *n)
{
	free(n->name);
	vl_labels_free(&n->labels);
	n->name = NULL;
}

const char *vl_labels_get(const struct vl_labels *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return l->v[i].value;
	return NULL;
}

int vl_labels_set(struct vl_labels *l, const char *key, const char *value)
{
	char *v = strdup(value), *k;
	struct vl_label *nv;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key)) {
			free(l->v[i].value);
			l->v[i].value = v;
			return 0;
		}
	k = strdup(key);
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!k || !nv) {
		free(k);
		free(v);
		if (nv)
			l->v = nv;
		return -ENOMEM;
	}
	l->v = nv;
	l->v[l->n].key = k;
	l->v[l->n].value = v;
	l->n++;
	return 0;
}

static bool in_values(const struct vl_strv *vals, const char *v)
{
	for (size_t i = 0; i < vals->n; i++)
		if (!strcmp(vals->v[i], v))
			return true;
	return false;
}

bool vl_sel_expr_matches(const struct vl_sel_expr *e, const char *v)
{
	char *end;
	long have, want;

	switch (e->op) {
	case VL_SEL_IN:
		return v && in_values(&e->values, v);
	case VL_SEL_NOT_IN:
		return !v || !in_values(&e->values, v);
	case VL_SEL_EXISTS:
		return v != NULL;
	case VL_SEL_DOES_NOT_EXIST:
		return v == NULL;
	case VL_SEL_GT:
	case VL_SEL_LT:
		/* Kubernetes: both sides parse as integers, else the requirement does not hold */
		if (!v || e->values.n != 1)
			return false;
		have = strtol(v, &end, 10);
		if (!*v || *end)
			return false;
		want = strtol(e->values.v[0], &end, 10);
		if (!*e->values.v[0] || *end)
			return false;
		return e->op == VL_SEL_GT ? have > want : have < want;
	}
	return false;
}

bool vl_selector_matches(const struct vl_selector *s, const struct vl_labels *l)
{
	if (!s->present)
		return false;
	for (size_t i = 0; i < s->match.n; i++) {
		const char *v = vl_labels_get(l, s->match.v[i].key);

		if (!v || strcmp(v, s->match.v[i].value))
			return false;
	}
	for (size_t i = 0; i < s->n_exprs; i++)
		if (!vl_sel_expr_matches(&s->exprs[i], vl_labels_get(l, s->exprs[i].key)))
			return false;
	return true;
}

bool vl_labels_subset(const struct vl_labels *want, const struct vl_labels *have)
{
	for (size_t i = 0; i < want->n; i++) {
		const char *v = vl_labels_get(have, want->v[i].key);

		if (!v || strcmp(v, want->v[i].value))
			return false;
	}
	return true;
}

const struct vl_k8s_ns *vl_aks_find_ns(const struct vl_aks *a, const char *name)
{
	for (size_t i = 0; i < a->n_namespaces; i++)
		if (!strcmp(a->namespaces[i].name, name))
			return &a->namespaces[i];
	return NULL;
}
