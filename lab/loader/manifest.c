// SPDX-License-Identifier: MIT
/*
 * An AKS cluster's `manifests:`: Kubernetes documents as `kubectl apply -f` takes them (files of
 * one or more `---`-separated documents, a `kind: List` as `kubectl get -o yaml` prints it, or
 * documents written inline) → namespaces, pod specs, services and network policies of the
 * cluster. Files are copied into the lab's state like NSG imports (ld_import_data), so a running
 * lab never reads them again. Errors are located in the manifest that holds the document.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"

#define LIST_DEPTH_MAX 1

/* One document and the file it came from (NULL: the topology itself). */
struct mdoc {
	const struct ynode *n;
	const char *file;
};

struct mset {
	struct mdoc *v;
	size_t n;
	struct ynode **trees; /* parsed files, freed at the end */
	size_t n_trees;
	char **files;
	size_t n_files;
};

static const char *const kinds[] = {"Namespace",   "Pod",	  "Deployment", "ReplicaSet",
				    "StatefulSet", "Service", "NetworkPolicy", NULL};

static int add_doc(struct tl *t, struct mset *ms, const struct ynode *n, const char *file, int depth)
{
	const struct ynode *kind, *items;
	struct mdoc *d;
	int r;

	if ((r = ld_map(&t->c, n, "a Kubernetes document")))
		return r;
	if ((r = ld_need(&t->c, n, "kind", "Kubernetes document", &kind)) || (r = tl_want_scalar(t, kind, "kind")))
		return r;
	if (!strcmp(kind->str, "List") || (strlen(kind->str) > 4 && !strcmp(kind->str + strlen(kind->str) - 4, "List"))) {
		if (depth >= LIST_DEPTH_MAX)
			return ld_fail(&t->c, kind, "a List inside a List");
		if ((r = ld_need(&t->c, n, "items", "List", &items)) || (r = ld_seq(&t->c, items, "items")))
			return r;
		for (size_t i = 0; i < items->n; i++)
			if ((r = add_doc(t, ms, items->kids[i], file, depth + 1)))
				return r;
		return 0;
	}
	if (!(d = tl_grow(&ms->v, &ms->n, sizeof(*ms->v))))
		return -ENOMEM;
	d->n = n;
	d->file = file;
	return 0;
}

static int read_file(struct tl *t, struct mset *ms, const struct ynode *ref)
{
	char *path, *buf = NULL, **f;
	struct ynode *docs = NULL, **tr;
	size_t len;
	int r;

	if (!*ref->str)
		return ld_fail(&t->c, ref, "empty manifest path");
	if (ref->str[0] == '/')
		path = strdup(ref->str);
	else if (asprintf(&path, "%s/%s", t->dir, ref->str) < 0)
		path = NULL;
	if (!path)
		return -ENOMEM;
	if (!(f = realloc(ms->files, (ms->n_files + 1) * sizeof(*f)))) {
		free(path);
		return -ENOMEM;
	}
	ms->files = f;
	ms->files[ms->n_files++] = path;
	if ((r = ld_import_data(&t->c, ref, path, "manifest", &buf, &len)))
		return r;
	r = yn_parse_docs(path, buf, len, &docs, t->c.err);
	free(buf);
	if (r)
		return r;
	if (!(tr = realloc(ms->trees, (ms->n_trees + 1) * sizeof(*tr)))) {
		yn_free(docs);
		return -ENOMEM;
	}
	ms->trees = tr;
	ms->trees[ms->n_trees++] = docs;
	if (!docs->n) {
		vl_error_set(t->c.err, path, (struct vl_loc){1, 1}, "manifest holds no document");
		return -EINVAL;
	}
	t->c.file = path;
	t->c.hide = true; /* any file root can read: its values are never quoted (like NSG imports) */
	for (size_t i = 0; i < docs->n && !r; i++)
		r = add_doc(t, ms, docs->kids[i], path, 0);
	return r;
}

/* metadata: name and namespace; *ns is "default" when absent. */
static int metadata(struct tl *t, const struct ynode *doc, const struct ynode **meta, const struct ynode **nn)
{
	int r;

	if ((r = ld_need(&t->c, doc, "metadata", "Kubernetes document", meta)) ||
	    (r = ld_map(&t->c, *meta, "metadata")) || (r = ld_need(&t->c, *meta, "name", "metadata", nn)))
		return r;
	return tl_want_scalar(t, *nn, "metadata.name");
}

/* Made by a controller the set holds too (kubectl get all): the owner makes it again. */
static bool owned(const struct mset *ms, const struct ynode *meta)
{
	const struct ynode *refs = ld_get(meta, "ownerReferences");

	for (size_t i = 0; refs && refs->kind == YN_SEQ && i < refs->n; i++) {
		const struct ynode *k = ld_get(refs->kids[i], "kind"), *nm = ld_get(refs->kids[i], "name");

		if (refs->kids[i]->kind != YN_MAP || !k || !nm || k->kind != YN_SCALAR || nm->kind != YN_SCALAR)
			continue;
		for (size_t d = 0; d < ms->n; d++) {
			const struct ynode *dk = ld_get(ms->v[d].n, "kind"), *dm = ld_get(ms->v[d].n, "metadata");
			const struct ynode *dn = dm && dm->kind == YN_MAP ? ld_get(dm, "name") : NULL;

			if (dk && dn && dn->kind == YN_SCALAR && !strcmp(dk->str, k->str) && !strcmp(dn->str, nm->str))
				return true;
		}
	}
	return false;
}

static int workload(struct tl *t, const struct mdoc *d, const char *kind, struct vl_aks *a)
{
	const struct ynode *meta, *nn, *spec, *tmpl, *tmeta, *tspec, *n, *sel;
	const bool pod = !strcmp(kind, "Pod");
	struct vl_selector selector = {0};
	struct vl_pod_spec *p;
	char digits[16];
	int replicas = 1, r;

	if ((r = metadata(t, d->n, &meta, &nn)) || (r = ld_need(&t->c, d->n, "spec", kind, &spec)) ||
	    (r = ld_map(&t->c, spec, "spec")))
		return r;
	if (pod) {
		tmeta = meta;
		tspec = spec;
	} else {
		if ((n = ld_get(spec, "replicas")) && (r = ld_int(&t->c, n, "replicas", 0, VL_ENDPOINTS_MAX, &replicas)))
			return r;
		if ((r = ld_need(&t->c, spec, "template", "spec", &tmpl)) || (r = ld_map(&t->c, tmpl, "template")) ||
		    (r = ld_need(&t->c, tmpl, "spec", "template", &tspec)))
			return r;
		tmeta = ld_get(tmpl, "metadata");
		if (tmeta && (r = ld_map(&t->c, tmeta, "template metadata")))
			return r;
	}
	if (!(p = tl_grow(&a->pods, &a->n_pods, sizeof(*a->pods))))
		return -ENOMEM;
	p->loc = d->n->loc;
	p->node = VL_NONE;
	if ((d->file && !(p->file = strdup(d->file))) || !(p->kind = strdup(kind)))
		return -ENOMEM;
	p->replicas = pod ? 0 : replicas;
	snprintf(digits, sizeof(digits), "%d", replicas ? replicas - 1 : 0);
	if ((r = tl_endpoint_name(t, nn, "pod name", pod ? VL_ENDPOINT_NAME_MAX : VL_ENDPOINT_NAME_MAX - 1 - strlen(digits),
				  &p->name)))
		return r;
	if ((n = ld_get(meta, "namespace")) && (r = ld_str(&t->c, n, "namespace", &p->ns)))
		return r;
	if (!p->ns && !(p->ns = strdup("default")))
		return -ENOMEM;
	if ((r = tl_k8s_ns(t, a, p->ns, n ? n : meta, NULL)))
		return r;
	if ((r = tl_pod_template(t, tmeta ? tmeta : meta, tspec, a, p)))
		return r;
	if (!pod) {
		/* apps/v1 needs the selector; older API versions defaulted it to the template's labels */
		if ((sel = ld_get(spec, "selector"))) {
			r = tl_selector(t, sel, "selector", &selector);
			if (!r && !vl_selector_matches(&selector, &p->labels))
				r = ld_fail(&t->c, sel,
					    "%s '%s': selector does not match template labels (Kubernetes refuses it)",
					    kind, p->name);
			vl_selector_free(&selector);
			if (r)
				return r;
		} else if (!p->labels.n) {
			return ld_fail(&t->c, spec, "%s '%s' needs a selector and template labels", kind, p->name);
		}
	}
	if (!pod && !replicas) { /* scaled to zero: no pod */
		vl_pod_sched_free(&p->sched);
		vl_labels_free(&p->labels);
		for (size_t k = 0; p->port_names && k < p->n_ports; k++)
			free(p->port_names[k]);
		free(p->port_names);
		free(p->ports);
		free(p->ns);
		free(p->name);
		free(p->kind);
		free(p->file);
		a->n_pods--;
		return 0;
	}
	for (size_t j = 0; j + 1 < a->n_pods; j++)
		if (!strcmp(a->pods[j].name, p->name) && a->pods[j].kind && !strcmp(a->pods[j].kind, kind))
			return ld_fail(&t->c, nn, "duplicate %s '%s' in cluster '%s'", kind, p->name, a->name);
	return tl_pod_claim(t, p, nn);
}

static int service(struct tl *t, const struct mdoc *d, struct vl_aks *a)
{
	const struct ynode *meta, *nn, *spec;
	int r;

	if ((r = metadata(t, d->n, &meta, &nn)) || (r = ld_need(&t->c, d->n, "spec", "Service", &spec)) ||
	    (r = ld_map(&t->c, spec, "spec")))
		return r;
	if (!tl_grow(&a->services, &a->n_services, sizeof(*a->services)))
		return -ENOMEM;
	return tl_service_obj(t, spec, meta, nn, a, a->n_services - 1, true);
}

/* Pass 0: namespaces; pass 1: workloads (pods); pass 2: what selects pods (services, policies). */
static int doc_pass(struct tl *t, const struct mset *ms, const struct mdoc *d, int pass, struct vl_aks *a)
{
	const struct ynode *kind = ld_get(d->n, "kind"), *meta = ld_get(d->n, "metadata"), *api;
	char q[96];
	int k, r;

	for (k = 0; kinds[k]; k++)
		if (!strcmp(kind->str, kinds[k]))
			break;
	if (!kinds[k])
		return ld_fail(&t->c, kind,
			       "unknown kind '%s'; manifests hold Namespace, Pod, Deployment, ReplicaSet, "
			       "StatefulSet, Service, NetworkPolicy or a List of them",
			       ld_quote(&t->c, kind->str, q, sizeof(q)));
	if (pass == 0 && (r = ld_need(&t->c, d->n, "apiVersion", kind->str, &api)))
		return r;
	if (pass == 0 && (r = tl_want_scalar(t, api, "apiVersion")))
		return r;
	if (meta && meta->kind == YN_MAP && owned(ms, meta))
		return 0;
	switch (k) {
	case 0:
		return pass == 0 ? tl_namespace_doc(t, d->n, a) : 0;
	case 1:
	case 2:
	case 3:
	case 4:
		return pass == 1 ? workload(t, d, kind->str, a) : 0;
	case 5:
		return pass == 2 ? service(t, d, a) : 0;
	default:
		return pass == 2 ? tl_netpol_doc(t, d->n, a) : 0;
	}
}

int tl_manifests(struct tl *t, const struct ynode *n, struct vl_aks *a)
{
	const char *topology = t->c.file;
	struct mset ms = {0};
	int r;

	if ((r = ld_seq(&t->c, n, "manifests")))
		return r;
	for (size_t i = 0; i < n->n && !r; i++) {
		const struct ynode *it = n->kids[i];

		if (it->kind == YN_SCALAR && !it->null)
			r = read_file(t, &ms, it);
		else
			r = add_doc(t, &ms, it, NULL, 0);
		t->c.file = topology;
		t->c.hide = false;
	}
	for (int pass = 0; pass < 3 && !r; pass++)
		for (size_t i = 0; i < ms.n && !r; i++) {
			t->c.file = ms.v[i].file ? ms.v[i].file : topology;
			t->c.hide = ms.v[i].file != NULL;
			r = doc_pass(t, &ms, &ms.v[i], pass, a);
		}
	t->c.file = topology;
	t->c.hide = false;
	for (size_t i = 0; i < ms.n_trees; i++)
		yn_free(ms.trees[i]);
	free(ms.trees);
	for (size_t i = 0; i < ms.n_files; i++)
		free(ms.files[i]);
	free(ms.files);
	free(ms.v);
	return r;
}
