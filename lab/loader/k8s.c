// SPDX-License-Identifier: MIT
/* Kubernetes fields of a cluster: labels, label selectors, namespaces (shared by inline pods,
 * manifests and network policies). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

#define K8S_NAME_MAX 63
#define K8S_PREFIX_MAX 253

/* Kubernetes' "name" part of a label key and a label value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, ≤63. */
static bool label_word(const char *s, bool empty_ok)
{
	size_t n = strlen(s);

	if (!n)
		return empty_ok;
	if (n > K8S_NAME_MAX || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return false;
	return true;
}

/* A DNS subdomain (a key's prefix): lower-case alphanumerics, '-' and '.', ≤253. */
static bool dns_subdomain(const char *s, size_t n)
{
	if (!n || n > K8S_PREFIX_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-' || s[i] == '.'))
			return false;
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

static bool label_key(const char *k)
{
	const char *slash = strchr(k, '/');

	if (!slash)
		return label_word(k, false);
	return dns_subdomain(k, (size_t)(slash - k)) && label_word(slash + 1, false);
}

int tl_labels(struct tl *t, const struct ynode *n, const char *what, struct vl_labels *out)
{
	char q[96];
	int r;

	if ((r = ld_map(&t->c, n, what)))
		return r;
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *k = n->kids[2 * i], *v = n->kids[2 * i + 1];

		if (!label_key(k->str))
			return ld_fail(&t->c, k,
				       "invalid label key '%s' in %s: a name of up to 63 characters "
				       "([A-Za-z0-9-_.], starting and ending alphanumeric), optionally "
				       "prefixed by a DNS subdomain and '/'",
				       ld_quote(&t->c, k->str, q, sizeof(q)), what);
		if (v->kind != YN_SCALAR)
			return ld_fail(&t->c, v, "expected a string for label '%s' in %s, got %s",
				       ld_quote(&t->c, k->str, q, sizeof(q)), what, ld_kind(v));
		if (!label_word(v->null ? "" : v->str, true))
			return ld_fail(&t->c, v,
				       "invalid value of label '%s' in %s: up to 63 characters "
				       "([A-Za-z0-9-_.], starting and ending alphanumeric) or empty",
				       ld_quote(&t->c, k->str, q, sizeof(q)), what);
		if (vl_labels_get(out, k->str))
			return ld_fail(&t->c, k, "duplicate label '%s' in %s",
				       ld_quote(&t->c, k->str, q, sizeof(q)), what);
		if ((r = vl_labels_set(out, k->str, v->null ? "" : v->str)))
			return r;
	}
	return 0;
}

static const char *const sel_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};

static int sel_expr(struct tl *t, const struct ynode *m, const char *what, struct vl_sel_expr *e)
{
	static const char *const keys[] = {"key", "operator", "values", NULL};
	const struct ynode *n, *vals;
	int r, op;

	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, keys)) ||
	    (r = ld_need(&t->c, m, "key", what, &n)) || (r = ld_str(&t->c, n, "key", &e->key)))
		return r;
	if (!label_key(e->key))
		return ld_fail(&t->c, n, "invalid label key in %s", what);
	if ((r = ld_need(&t->c, m, "operator", what, &n)) || (r = tl_want_scalar(t, n, "operator")))
		return r;
	for (op = 0; sel_ops[op]; op++)
		if (!strcmp(n->str, sel_ops[op]))
			break;
	if (!sel_ops[op])
		return ld_fail(&t->c, n, "invalid operator in %s; expected one of: In, NotIn, Exists, DoesNotExist",
			       what);
	e->op = (enum vl_sel_op)op;
	vals = ld_get(m, "values");
	if (e->op == VL_SEL_IN || e->op == VL_SEL_NOT_IN) {
		if (!vals || vals->kind != YN_SEQ || !vals->n)
			return ld_fail(&t->c, vals ? vals : m, "operator %s in %s needs a non-empty list of values",
				       sel_ops[op], what);
		for (size_t i = 0; i < vals->n; i++) {
			if ((r = tl_want_scalar(t, vals->kids[i], "values")))
				return r;
			if ((r = vl_strv_push(&e->values, vals->kids[i]->str)))
				return r;
		}
	} else if (vals && !(vals->kind == YN_SEQ && !vals->n) && !vals->null) {
		return ld_fail(&t->c, vals, "operator %s in %s takes no values", sel_ops[op], what);
	}
	return 0;
}

int tl_selector(struct tl *t, const struct ynode *n, const char *what, struct vl_selector *out)
{
	static const char *const keys[] = {"matchLabels", "matchExpressions", NULL};
	const struct ynode *ml, *me;
	int r;

	out->present = true;
	if (n->null) /* `podSelector:` with nothing: {} */
		return 0;
	if ((r = ld_map(&t->c, n, what)) || (r = ld_keys(&t->c, n, what, keys)))
		return r;
	if ((ml = ld_get(n, "matchLabels")) && !ml->null && (r = tl_labels(t, ml, what, &out->match)))
		return r;
	if ((me = ld_get(n, "matchExpressions")) && !me->null) {
		if ((r = ld_seq(&t->c, me, "matchExpressions")))
			return r;
		out->exprs = calloc(me->n ? me->n : 1, sizeof(*out->exprs));
		if (!out->exprs)
			return -ENOMEM;
		for (size_t i = 0; i < me->n; i++) {
			out->n_exprs++;
			if ((r = sel_expr(t, me->kids[i], "matchExpressions entry", &out->exprs[i])))
				return r;
		}
	}
	return 0;
}

int tl_k8s_ns(struct tl *t, struct vl_aks *a, const char *name, const struct ynode *at, int *idx)
{
	struct vl_k8s_ns *ns;
	char q[96];
	int r;

	for (size_t i = 0; i < a->n_namespaces; i++)
		if (!strcmp(a->namespaces[i].name, name)) {
			if (idx)
				*idx = (int)i;
			return 0;
		}
	/* A namespace name is a DNS label: lower-case alphanumerics and '-', ≤63. */
	if (!*name || strlen(name) > K8S_NAME_MAX || !dns_subdomain(name, strlen(name)) || strchr(name, '.'))
		return ld_fail(&t->c, at,
			       "invalid namespace '%s': lower-case letters, digits and '-', up to 63 "
			       "characters, starting and ending alphanumeric",
			       ld_quote(&t->c, name, q, sizeof(q)));
	if (!(ns = tl_grow(&a->namespaces, &a->n_namespaces, sizeof(*a->namespaces))))
		return -ENOMEM;
	ns->loc = at ? at->loc : a->loc;
	if (!(ns->name = strdup(name)))
		return -ENOMEM;
	if ((r = vl_labels_set(&ns->labels, "kubernetes.io/metadata.name", name)))
		return r;
	if (idx)
		*idx = (int)(a->n_namespaces - 1);
	return 0;
}
