// SPDX-License-Identifier: MIT
/*
 * Network policies of a cluster: `networkPolicy: azure|calico|none`, `namespaces:` and
 * `networkPolicies:` (NetworkPolicy objects in Kubernetes' shape), and the two document parsers
 * a manifest loader calls for `kind: NetworkPolicy` and `kind: Namespace`. Validation follows
 * the API server's (networking.k8s.io/v1, spec 16.1): one error, at the node that caused it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tl.h"
#include "vnetlab/ip.h"
#include "vnetlab/loader.h"

/* metadata keys `kubectl get -o yaml` prints; only name, namespace and labels mean anything here */
static const char *const meta_keys[] = {"name",
					"namespace",
					"labels",
					"annotations",
					"uid",
					"resourceVersion",
					"generation",
					"creationTimestamp",
					"managedFields",
					"selfLink",
					"finalizers",
					"generateName",
					"ownerReferences",
					"deletionTimestamp",
					NULL};

static int want_kind(struct tl *t, const struct ynode *doc, const char *api, const char *kind)
{
	const struct ynode *n;
	char q[96];
	int r;

	if ((r = ld_map(&t->c, doc, kind)) || (r = ld_need(&t->c, doc, "kind", kind, &n)) ||
	    (r = tl_want_scalar(t, n, "kind")))
		return r;
	if (strcmp(n->str, kind))
		return ld_fail(&t->c, n, "expected kind %s, got '%s'", kind,
			       ld_quote(&t->c, n->str, q, sizeof(q)));
	if ((n = ld_get(doc, "apiVersion"))) {
		if ((r = tl_want_scalar(t, n, "apiVersion")))
			return r;
		if (strcmp(n->str, api))
			return ld_fail(&t->c, n, "apiVersion of a %s is %s, got '%s'", kind, api,
				       ld_quote(&t->c, n->str, q, sizeof(q)));
	}
	return 0;
}

/* metadata.name (a DNS subdomain, like the API server's) and metadata.namespace. */
static int meta(struct tl *t, const struct ynode *doc, const char *what, char **name, char **ns,
		const struct ynode **md)
{
	const struct ynode *n;
	char q[96];
	int r;

	if ((r = ld_need(&t->c, doc, "metadata", what, md)) || (r = ld_map(&t->c, *md, "metadata")) ||
	    (r = ld_keys(&t->c, *md, "metadata", meta_keys)) ||
	    (r = ld_need(&t->c, *md, "name", "metadata", &n)) ||
	    (r = ld_str(&t->c, n, "metadata.name", name)))
		return r;
	if (!**name || strlen(*name) > 253 ||
	    strspn(*name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen(*name) ||
	    !strchr("abcdefghijklmnopqrstuvwxyz0123456789", (*name)[0]) ||
	    !strchr("abcdefghijklmnopqrstuvwxyz0123456789", (*name)[strlen(*name) - 1]))
		return ld_fail(&t->c, n,
			       "invalid %s name '%s': lower-case letters, digits, '-' and '.', starting and "
			       "ending alphanumeric",
			       what, ld_quote(&t->c, *name, q, sizeof(q)));
	if (!ns)
		return 0;
	if ((n = ld_get(*md, "namespace")) && (r = ld_str(&t->c, n, "metadata.namespace", ns)))
		return r;
	if (!*ns && !(*ns = strdup("default")))
		return -ENOMEM;
	return 0;
}

static int port_one(struct tl *t, const struct ynode *m, struct vl_np_port *p)
{
	static const char *const keys[] = {"protocol", "port", "endPort", NULL};
	const struct ynode *n, *pn;
	char q[96];
	int r, v;

	p->loc = m->loc;
	p->proto = VL_PROTO_TCP;
	if ((r = ld_map(&t->c, m, "ports entry")) || (r = ld_keys(&t->c, m, "ports entry", keys)))
		return r;
	if ((n = ld_get(m, "protocol"))) {
		if ((r = tl_want_scalar(t, n, "protocol")))
			return r;
		if (!strcmp(n->str, "UDP"))
			p->proto = VL_PROTO_UDP;
		else if (!strcmp(n->str, "SCTP"))
			return ld_fail(
			    &t->c, n,
			    "protocol SCTP is not supported by vnetlab's network policies (TCP, UDP)");
		else if (strcmp(n->str, "TCP"))
			return ld_fail(&t->c, n, "unsupported protocol '%s'; expected one of: TCP, UDP, SCTP",
				       ld_quote(&t->c, n->str, q, sizeof(q)));
	}
	if ((pn = ld_get(m, "port"))) {
		if (pn->kind != YN_SCALAR)
			return ld_fail(&t->c, pn, "expected a number or a port name for port, got %s",
				       ld_kind(pn));
		if (pn->str[0] >= '0' && pn->str[0] <= '9') {
			if ((r = ld_int(&t->c, pn, "port", 1, 65535, &v)))
				return r;
			p->port = (uint16_t)v;
		} else {
			/* an IANA_SVC_NAME: 1-15 of [a-z0-9-], a letter, no leading/trailing or double '-' */
			size_t len = strlen(pn->str);

			if (!len || len > 15 ||
			    strspn(pn->str, "abcdefghijklmnopqrstuvwxyz0123456789-") != len ||
			    !strpbrk(pn->str, "abcdefghijklmnopqrstuvwxyz") || pn->str[0] == '-' ||
			    pn->str[len - 1] == '-' || strstr(pn->str, "--"))
				return ld_fail(
				    &t->c, pn,
				    "invalid port name '%s': 1-15 lower-case letters, digits and '-', "
				    "with at least one letter",
				    ld_quote(&t->c, pn->str, q, sizeof(q)));
			if (!(p->name = strdup(pn->str)))
				return -ENOMEM;
		}
	}
	if ((n = ld_get(m, "endPort"))) {
		if (!pn)
			return ld_fail(&t->c, n, "endPort needs a port");
		if (p->name)
			return ld_fail(&t->c, n, "endPort needs a numeric port, not the named port '%s'",
				       p->name);
		if ((r = ld_int(&t->c, n, "endPort", 1, 65535, &v)))
			return r;
		if (v < p->port)
			return ld_fail(&t->c, n, "endPort %d is below port %u", v, p->port);
		p->end_port = (uint16_t)v;
	}
	return 0;
}

static int ip_block(struct tl *t, const struct ynode *m, struct vl_np_peer *p)
{
	static const char *const keys[] = {"cidr", "except", NULL};
	const struct ynode *n, *ex;
	char buf[VL_PREFIX_STRLEN], buf2[VL_PREFIX_STRLEN], q[96];
	int r;

	p->is_block = true;
	if ((r = ld_map(&t->c, m, "ipBlock")) || (r = ld_keys(&t->c, m, "ipBlock", keys)) ||
	    (r = ld_need(&t->c, m, "cidr", "ipBlock", &n)) || (r = tl_want_scalar(t, n, "cidr")))
		return r;
	/* the API server takes host bits (it keeps the string); the match is on the network */
	if (!strchr(n->str, '/') || vl_prefix_parse(n->str, false, &p->block))
		return ld_fail(&t->c, n,
			       "invalid ipBlock cidr '%s': expected an IPv4 CIDR like 172.17.0.0/16",
			       ld_quote(&t->c, n->str, q, sizeof(q)));
	p->block.addr &= vl_prefix_mask(p->block.len);
	if (!(ex = ld_get(m, "except")))
		return 0;
	if ((r = ld_seq(&t->c, ex, "except")))
		return r;
	p->except = calloc(ex->n ? ex->n : 1, sizeof(*p->except));
	if (!p->except)
		return -ENOMEM;
	for (size_t i = 0; i < ex->n; i++) {
		const struct ynode *e = ex->kids[i];
		struct vl_prefix x;

		if ((r = tl_want_scalar(t, e, "except")))
			return r;
		if (!strchr(e->str, '/') || vl_prefix_parse(e->str, false, &x))
			return ld_fail(&t->c, e, "invalid except entry '%s': expected an IPv4 CIDR",
				       ld_quote(&t->c, e->str, q, sizeof(q)));
		x.addr &= vl_prefix_mask(x.len);
		if (x.len <= p->block.len || !vl_prefix_inside(x, p->block))
			return ld_fail(&t->c, e, "except %s must be strictly within the cidr %s",
				       vl_prefix_fmt(x, buf), vl_prefix_fmt(p->block, buf2));
		p->except[p->n_except++] = x;
	}
	return 0;
}

static int peer_one(struct tl *t, const struct ynode *m, const char *what, struct vl_np_peer *p)
{
	static const char *const keys[] = {"podSelector", "namespaceSelector", "ipBlock", NULL};
	const struct ynode *ps, *ns, *ib;
	int r;

	p->loc = m->loc;
	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, keys)))
		return r;
	/* ld_get hides a null value: `podSelector:` alone is {} */
	ps = ld_get(m, "podSelector");
	ns = ld_get(m, "namespaceSelector");
	ib = ld_get(m, "ipBlock");
	for (size_t i = 0; i < m->n; i++) {
		const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];

		if (v->null && !strcmp(k->str, "podSelector"))
			ps = v;
		else if (v->null && !strcmp(k->str, "namespaceSelector"))
			ns = v;
	}
	if (!ps && !ns && !ib)
		return ld_fail(&t->c, m, "%s needs a podSelector, a namespaceSelector or an ipBlock", what);
	if (ib && (ps || ns))
		return ld_fail(&t->c, ib,
			       "ipBlock cannot be combined with a podSelector or namespaceSelector in one %s",
			       what);
	if (ib)
		return ip_block(t, ib, p);
	if (ps && (r = tl_selector(t, ps, "podSelector", &p->pods)))
		return r;
	if (ns && (r = tl_selector(t, ns, "namespaceSelector", &p->namespaces)))
		return r;
	return 0;
}

static int rule_one(struct tl *t, const struct ynode *m, bool ingress, struct vl_np_rule *rl)
{
	static const char *const in_keys[] = {"from", "ports", NULL}, *const out_keys[] = {"to", "ports",
											   NULL};
	const char *what = ingress ? "ingress rule" : "egress rule", *pk = ingress ? "from" : "to";
	const struct ynode *n;
	int r;

	rl->loc = m->loc;
	if (m->null)
		return 0; /* `- {}` written as `-`: every peer, every port */
	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, ingress ? in_keys : out_keys)))
		return r;
	if ((n = ld_get(m, pk))) {
		if ((r = ld_seq(&t->c, n, pk)))
			return r;
		rl->peers_present = true;
		if (!(rl->peers = calloc(n->n ? n->n : 1, sizeof(*rl->peers))))
			return -ENOMEM;
		for (size_t i = 0; i < n->n; i++) {
			rl->n_peers++;
			if ((r = peer_one(t, n->kids[i], ingress ? "from entry" : "to entry", &rl->peers[i])))
				return r;
		}
	}
	if ((n = ld_get(m, "ports"))) {
		if ((r = ld_seq(&t->c, n, "ports")))
			return r;
		rl->ports_present = true;
		if (!(rl->ports = calloc(n->n ? n->n : 1, sizeof(*rl->ports))))
			return -ENOMEM;
		for (size_t i = 0; i < n->n; i++) {
			rl->n_ports++;
			if ((r = port_one(t, n->kids[i], &rl->ports[i])))
				return r;
		}
	}
	return 0;
}

static int rules(struct tl *t, const struct ynode *n, bool ingress, struct vl_np_rule **out, size_t *count)
{
	int r;

	if ((r = ld_seq(&t->c, n, ingress ? "ingress" : "egress")))
		return r;
	if (!(*out = calloc(n->n ? n->n : 1, sizeof(**out))))
		return -ENOMEM;
	for (size_t i = 0; i < n->n; i++) {
		(*count)++;
		if ((r = rule_one(t, n->kids[i], ingress, &(*out)[i])))
			return r;
	}
	return 0;
}

static int spec(struct tl *t, const struct ynode *s, struct vl_netpol *p)
{
	static const char *const keys[] = {"podSelector", "policyTypes", "ingress", "egress", NULL};
	const struct ynode *n, *in, *out, *types;
	char q[96];
	int r;

	if ((r = ld_map(&t->c, s, "spec")) || (r = ld_keys(&t->c, s, "spec", keys)))
		return r;
	n = NULL;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->kids[2 * i]->str, "podSelector"))
			n = s->kids[2 * i + 1];
	if (!n)
		return ld_fail(&t->c, s,
			       "missing 'podSelector' in spec (podSelector: {} selects every pod of the "
			       "namespace)");
	if ((r = tl_selector(t, n, "podSelector", &p->pods)))
		return r;
	in = ld_get(s, "ingress");
	out = ld_get(s, "egress");
	if (in && (r = rules(t, in, true, &p->in, &p->n_in)))
		return r;
	if (out && (r = rules(t, out, false, &p->out, &p->n_out)))
		return r;
	if (!(types = ld_get(s, "policyTypes"))) {
		p->ingress = true;
		p->egress = p->n_out > 0;
		return 0;
	}
	if ((r = ld_seq(&t->c, types, "policyTypes")))
		return r;
	for (size_t i = 0; i < types->n; i++) {
		const struct ynode *v = types->kids[i];
		bool *b;

		if ((r = tl_want_scalar(t, v, "policyTypes entry")))
			return r;
		if (!strcmp(v->str, "Ingress"))
			b = &p->ingress;
		else if (!strcmp(v->str, "Egress"))
			b = &p->egress;
		else
			return ld_fail(&t->c, v,
				       "invalid policyTypes entry '%s'; expected one of: Ingress, Egress",
				       ld_quote(&t->c, v->str, q, sizeof(q)));
		if (*b)
			return ld_fail(&t->c, v, "duplicate policyTypes entry '%s'", v->str);
		*b = true;
	}
	return 0;
}

int tl_netpol_doc(struct tl *t, const struct ynode *doc, struct vl_aks *a)
{
	static const char *const keys[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
	const struct ynode *md, *s;
	struct vl_netpol *p;
	int r;

	if ((r = want_kind(t, doc, "networking.k8s.io/v1", "NetworkPolicy")) ||
	    (r = ld_keys(&t->c, doc, "NetworkPolicy", keys)))
		return r;
	if (!(p = tl_grow(&a->policies, &a->n_policies, sizeof(*a->policies))))
		return -ENOMEM;
	p->loc = doc->loc;
	if ((r = meta(t, doc, "NetworkPolicy", &p->name, &p->ns, &md)))
		return r;
	for (size_t i = t->np_base; i + 1 < a->n_policies; i++)
		if (!strcmp(a->policies[i].name, p->name) && !strcmp(a->policies[i].ns, p->ns))
			return ld_fail(&t->c, ld_get(md, "name"),
				       "duplicate NetworkPolicy %s/%s in cluster '%s'", p->ns, p->name,
				       a->name);
	if ((r = tl_k8s_ns(t, a, p->ns, ld_get(md, "namespace") ? ld_get(md, "namespace") : md, NULL)))
		return r;
	if ((r = ld_need(&t->c, doc, "spec", "NetworkPolicy", &s)))
		return r;
	return spec(t, s, p);
}

/* A namespace's name and labels into the cluster (merged into one a pod or policy implied). */
static int ns_labels(struct tl *t, struct vl_aks *a, const char *name, const struct ynode *at,
		     const struct ynode *labels)
{
	struct vl_labels l = {0};
	struct vl_k8s_ns *ns;
	const char *v;
	int r, idx;

	if ((r = tl_k8s_ns(t, a, name, at, &idx)))
		return r;
	ns = &a->namespaces[idx];
	ns->loc = at->loc;
	if (!labels)
		return 0;
	if ((r = tl_labels(t, labels, "namespace labels", &l)))
		goto out;
	if ((v = vl_labels_get(&l, "kubernetes.io/metadata.name")) && strcmp(v, name)) {
		r = ld_fail(&t->c, labels,
			    "label kubernetes.io/metadata.name of namespace '%s' is its name, not '%s'", name,
			    v);
		goto out;
	}
	for (size_t i = 0; i < l.n && !r; i++)
		r = vl_labels_set(&ns->labels, l.v[i].key, l.v[i].value);
out:
	vl_labels_free(&l);
	return r;
}

int tl_namespace_doc(struct tl *t, const struct ynode *doc, struct vl_aks *a)
{
	static const char *const keys[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
	const struct ynode *md;
	char *name = NULL;
	int r;

	if ((r = want_kind(t, doc, "v1", "Namespace")) || (r = ld_keys(&t->c, doc, "Namespace", keys)) ||
	    (r = meta(t, doc, "Namespace", &name, NULL, &md)))
		goto out;
	r = ns_labels(t, a, name, ld_get(md, "name"), ld_get(md, "labels"));
out:
	free(name);
	return r;
}

static int namespaces(struct tl *t, const struct ynode *seq, struct vl_aks *a)
{
	static const char *const keys[] = {"name", "labels", NULL};
	int r;

	if ((r = ld_seq(&t->c, seq, "namespaces")))
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n;

		if ((r = ld_map(&t->c, m, "namespace")) || (r = ld_keys(&t->c, m, "namespace", keys)) ||
		    (r = ld_need(&t->c, m, "name", "namespace", &n)) ||
		    (r = tl_want_scalar(t, n, "namespace name")))
			return r;
		for (size_t j = 0; j < i; j++) {
			const struct ynode *o = ld_get(seq->kids[j], "name");

			if (o && !strcmp(o->str, n->str))
				return ld_fail(&t->c, n, "duplicate namespace '%s'", n->str);
		}
		if ((r = ns_labels(t, a, n->str, n, ld_get(m, "labels"))))
			return r;
	}
	return 0;
}

int tl_netpol_engine(struct tl *t, const struct ynode *m, struct vl_aks *a)
{
	const struct ynode *n = ld_get(m, "networkPolicy");
	char q[96];
	int r;

	a->netpol = VL_NETPOL_NONE;
	if (!n)
		return 0;
	if ((r = tl_want_scalar(t, n, "networkPolicy")))
		return r;
	if (!strcasecmp(n->str, "azure"))
		a->netpol = VL_NETPOL_AZURE;
	else if (!strcasecmp(n->str, "calico"))
		a->netpol = VL_NETPOL_CALICO;
	else if (strcasecmp(n->str, "none"))
		return ld_fail(&t->c, n, "invalid networkPolicy '%s'; expected one of: azure, calico, none",
			       ld_quote(&t->c, n->str, q, sizeof(q)));
	/* what `az aks create --network-plugin kubenet --network-policy azure` answers */
	if (a->netpol == VL_NETPOL_AZURE && a->plugin == VL_PLUGIN_KUBENET)
		return ld_fail(
		    &t->c, n,
		    "(NetworkPolicyAzureNotSupportedForKubenet) NetworkPolicy azure is not supported "
		    "for network plugin kubenet; use networkPolicy calico or networkPlugin azure");
	if ((n = ld_get(m, "npmCompat"))) {
		if ((r = tl_want_scalar(t, n, "npmCompat")))
			return r;
		if (!strcmp(n->str, "legacy"))
			a->npm_legacy = true;
		else if (strcmp(n->str, "current"))
			return ld_fail(&t->c, n, "invalid npmCompat '%s'; expected one of: current, legacy",
				       ld_quote(&t->c, n->str, q, sizeof(q)));
	}
	return 0;
}

int tl_netpol_cluster(struct tl *t, const struct ynode *m, struct vl_aks *a)
{
	const struct ynode *n;
	int r;

	if ((n = ld_get(m, "namespaces")) && (r = namespaces(t, n, a)))
		return r;
	if (!(n = ld_get(m, "networkPolicies")))
		return 0;
	if ((r = ld_seq(&t->c, n, "networkPolicies")))
		return r;
	for (size_t i = 0; i < n->n; i++)
		if ((r = tl_netpol_doc(t, n->kids[i], a)))
			return r;
	return 0;
}

/* The next document of a multi-document stream: [*pos, end of doc), split on "---" lines. */
static size_t next_doc(const char *buf, size_t len, size_t *pos, size_t *line)
{
	size_t start = *pos, i = start;

	while (i < len) {
		size_t eol = i;

		while (eol < len && buf[eol] != '\n')
			eol++;
		if (eol - i >= 3 && !strncmp(buf + i, "---", 3) &&
		    strspn(buf + i + 3, " \t\r") >= eol - i - 3 && i > start) {
			*pos = i;
			return i - start;
		}
		if (eol - i >= 3 && !strncmp(buf + i, "---", 3) && i == start)
			start = i; /* a leading separator belongs to this document */
		i = eol + (eol < len);
		(void)line;
	}
	*pos = len;
	return len - start;
}

static int live_doc(struct tl *t, const struct ynode *doc, struct vl_aks *a)
{
	const struct ynode *k = doc->kind == YN_MAP ? ld_get(doc, "kind") : NULL;
	const struct ynode *items;
	char q[96];
	int r;

	if (k && k->kind == YN_SCALAR && !strcmp(k->str, "Namespace"))
		return tl_namespace_doc(t, doc, a);
	if (k && k->kind == YN_SCALAR && !strcmp(k->str, "List")) {
		if ((r = ld_need(&t->c, doc, "items", "List", &items)) || (r = ld_seq(&t->c, items, "items")))
			return r;
		for (size_t i = 0; i < items->n; i++)
			if ((r = live_doc(t, items->kids[i], a)))
				return r;
		return 0;
	}
	if (k && k->kind == YN_SCALAR && strcmp(k->str, "NetworkPolicy"))
		return ld_fail(&t->c, k,
			       "unsupported kind '%s' here; expected NetworkPolicy, Namespace or List",
			       ld_quote(&t->c, k->str, q, sizeof(q)));
	return tl_netpol_doc(t, doc, a);
}

int vl_netpol_load_buffer(const char *name, const char *buf, size_t len, struct vl_lab *lab, int cluster,
			  struct vl_error *err)
{
	struct vl_aks *a = &lab->aks[cluster];
	struct tl t = {
	    .c = {.file = name ? name : "<buffer>", .err = err}, .lab = lab, .np_base = a->n_policies};
	size_t pos = 0, line = 1, base = a->n_policies, docs = 0;
	int r = 0;

	memset(err, 0, sizeof(*err));
	while (pos < len && !r) {
		size_t at = pos, n = next_doc(buf, len, &pos, &line);
		struct ynode *root = NULL;
		char *copy;

		/* blank lines keep the document's line numbers those of the whole file */
		if (!(copy = calloc(1, at + n + 1)))
			return -ENOMEM;
		for (size_t i = 0; i < at; i++)
			copy[i] = buf[i] == '\n' ? '\n' : ' ';
		memcpy(copy + at, buf + at, n);
		for (size_t i = 0; i < at; i++)
			if (copy[i] != '\n')
				copy[i] = ' ';
		r = yn_parse(t.c.file, copy, at + n, &root, err);
		if (!r && root) {
			docs++;
			r = live_doc(&t, root, a);
		}
		yn_free(root);
		free(copy);
	}
	if (!r && !docs) {
		vl_error_set(err, t.c.file, (struct vl_loc){1, 1}, "no NetworkPolicy in the file");
		r = -EINVAL;
	}
	if (r) {
		for (size_t i = base; i < a->n_policies; i++)
			vl_netpol_free(&a->policies[i]);
		a->n_policies = base;
		return r;
	}
	/* the new ones replace the policies of the same namespace and name (kubectl apply) */
	for (size_t i = base; i < a->n_policies; i++)
		for (size_t j = 0; j < base; j++)
			if (!strcmp(a->policies[j].name, a->policies[i].name) &&
			    !strcmp(a->policies[j].ns, a->policies[i].ns)) {
				vl_netpol_free(&a->policies[j]);
				memmove(&a->policies[j], &a->policies[j + 1],
					(a->n_policies - j - 1) * sizeof(*a->policies));
				a->n_policies--;
				base--;
				i--;
				break;
			}
	return 0;
}

int vl_netpol_delete(struct vl_lab *lab, int cluster, const char *ns, const char *name)
{
	struct vl_aks *a = &lab->aks[cluster];

	for (size_t j = 0; j < a->n_policies; j++)
		if (!strcmp(a->policies[j].name, name) && !strcmp(a->policies[j].ns, ns)) {
			vl_netpol_free(&a->policies[j]);
			memmove(&a->policies[j], &a->policies[j + 1],
				(a->n_policies - j - 1) * sizeof(*a->policies));
			a->n_policies--;
			return 0;
		}
	return -ENOENT;
}
