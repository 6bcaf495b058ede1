// SPDX-License-Identifier: MIT
/*
 * applicationSecurityGroups, VM membership and serviceTags of a topology. Service tags come
 * from a file in the format of Azure's published Service Tags JSON (values[].name,
 * values[].properties.addressPrefixes; IPv6 prefixes skipped) or from an inline list of
 * {name, addressPrefixes}; a file is recorded with the lab's imports, so a running lab never
 * reads it again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tl.h"
#include "vnetlab/ip.h"

static bool builtin_tag(const char *s)
{
	return !strcasecmp(s, "VirtualNetwork") || !strcasecmp(s, "Internet") ||
	       !strcasecmp(s, "AzureLoadBalancer") || !strcasecmp(s, "AzurePlatformDNS") ||
	       !strcasecmp(s, "AzurePlatformIMDS") || !strcasecmp(s, "AzurePlatformLKM") || !strcmp(s, "*");
}

/* The IPv4 prefixes of one tag's addressPrefixes list into st (IPv6 skipped). */
static int tag_prefixes(struct ld *c, const struct ynode *seq, struct vl_service_tag *st)
{
	int r = ld_seq(c, seq, "addressPrefixes");

	for (size_t i = 0; !r && i < seq->n; i++) {
		const struct ynode *n = seq->kids[i];
		struct vl_prefix p, *slot;
		char q[400];

		if (n->kind != YN_SCALAR || n->null)
			return ld_fail(c, n, "expected a prefix in addressPrefixes, got %s", ld_kind(n));
		if (strchr(n->str, ':'))
			continue;
		if (vl_prefix_parse(n->str, true, &p))
			return ld_fail(c, n, "service tag %s: '%s' is not an IPv4 CIDR without host bits",
				       st->name, ld_quote(c, n->str, q, sizeof(q)));
		slot = tl_grow(&st->prefixes, &st->n_prefixes, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		*slot = p;
	}
	return r;
}

static struct vl_service_tag *tag_add(struct vl_lab *lab, const char *name, struct vl_loc loc)
{
	struct vl_service_tag *st = tl_grow(&lab->service_tags, &lab->n_service_tags, sizeof(*st));

	if (!st)
		return NULL;
	st->loc = loc;
	st->name = strdup(name);
	if (!st->name) {
		lab->n_service_tags--;
		return NULL;
	}
	return st;
}

/* One file of Azure's Service Tags format; a tag seen before (or a built-in one) is skipped. */
static int tags_file(struct tl *t, const struct ynode *ref)
{
	struct ld c = {.err = t->c.err, .imports = t->c.imports, .hide = true};
	struct ynode *root = NULL;
	const struct ynode *values = NULL;
	char *path = NULL, *buf = NULL;
	size_t len;
	int r;

	if (ref->kind != YN_SCALAR || ref->null || !*ref->str)
		return ld_fail(&t->c, ref, "expected a file name for serviceTags, got %s", ld_kind(ref));
	if (ref->str[0] == '/' || !*t->dir)
		path = strdup(ref->str);
	else if (asprintf(&path, "%s/%s", t->dir, ref->str) < 0)
		path = NULL;
	if (!path)
		return -ENOMEM;
	r = ld_import_data(&t->c, ref, path, "service tags file", &buf, &len);
	c.file = path;
	if (!r)
		r = yn_parse(path, buf, len, &root, c.err);
	if (!r && !root)
		r = ld_fail(&t->c, ref, "service tags file '%s' is empty", ref->str);
	if (!r)
		r = ld_map(&c, root, "a service tags file");
	if (!r && !(values = ld_get(root, "values")))
		r = ld_fail(&c, root,
			    "no 'values' in the service tags file (Azure's Service Tags JSON format)");
	if (!r)
		r = ld_seq(&c, values, "values");
	for (size_t i = 0; !r && i < values->n; i++) {
		const struct ynode *v = values->kids[i], *nm, *props, *pre;
		struct vl_service_tag *st;

		if ((r = ld_map(&c, v, "a service tag")) || (r = ld_need(&c, v, "name", "service tag", &nm)))
			break;
		if (nm->kind != YN_SCALAR || nm->null || !*nm->str) {
			r = ld_fail(&c, nm, "expected a string for a service tag's name, got %s",
				    ld_kind(nm));
			break;
		}
		if (builtin_tag(nm->str) || vl_lab_find_service_tag(t->lab, nm->str) != VL_NONE)
			continue;
		props = ld_get(v, "properties");
		pre = props && props->kind == YN_MAP ? ld_get(props, "addressPrefixes") : NULL;
		if (!(st = tag_add(t->lab, nm->str, nm->loc))) {
			r = -ENOMEM;
			break;
		}
		if (pre)
			r = tag_prefixes(&c, pre, st);
	}
	yn_free(root);
	free(buf);
	free(path);
	return r;
}

int tl_service_tags(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"name", "addressPrefixes", NULL};
	const struct ynode *n = ld_get(root, "serviceTags");
	int r = 0;

	if (!n)
		return 0;
	if (n->kind == YN_SCALAR)
		return tags_file(t, n);
	if ((r = ld_seq(&t->c, n, "serviceTags")))
		return r;
	for (size_t i = 0; !r && i < n->n; i++) {
		const struct ynode *m = n->kids[i], *nm, *pre;
		struct vl_service_tag *st;

		if (m->kind == YN_SCALAR) {
			r = tags_file(t, m);
			continue;
		}
		if ((r = ld_map(&t->c, m, "service tag")) || (r = ld_keys(&t->c, m, "service tag", keys)) ||
		    (r = ld_need(&t->c, m, "name", "service tag", &nm)) ||
		    (r = tl_want_scalar(t, nm, "name")) ||
		    (r = ld_need(&t->c, m, "addressPrefixes", "service tag", &pre)))
			return r;
		if (builtin_tag(nm->str))
			return ld_fail(&t->c, nm, "%s is a built-in service tag; it cannot be redefined",
				       nm->str);
		if (vl_lab_find_service_tag(t->lab, nm->str) != VL_NONE)
			return ld_fail(&t->c, nm, "duplicate service tag '%s'", nm->str);
		if (!(st = tag_add(t->lab, nm->str, nm->loc)))
			return -ENOMEM;
		r = tag_prefixes(&t->c, pre, st);
	}
	return r;
}

int tl_asgs(struct tl *t, const struct ynode *root)
{
	static const char *const keys[] = {"name", "id", "location", "resourceGroup", "tags", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *seq;
	int r = tl_objects(t, root, "applicationSecurityGroups", &lab->asgs, &lab->n_asgs, sizeof(*lab->asgs),
			   &seq);

	if (r || !seq)
		return r;
	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i], *n;
		struct vl_asg *g = &lab->asgs[i];

		g->vnet = VL_NONE;
		if ((r = tl_named(t, m, "application security group", keys, 0, &g->name, &n)))
			return r;
		g->loc = m->loc;
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(lab->asgs[j].name, g->name))
				return ld_fail(&t->c, n, "duplicate application security group name '%s'",
					       g->name);
	}
	return 0;
}

/* vms[].applicationSecurityGroups: names or {id: …/applicationSecurityGroups/NAME}. */
static int vm_asgs(struct tl *t, const struct ynode *list, struct vl_vm *vm)
{
	int r = ld_seq(&t->c, list, "applicationSecurityGroups");

	for (size_t i = 0; !r && i < list->n; i++) {
		const struct ynode *e = list->kids[i];
		const char *s, *slash;
		int a, *slot;

		if (e->kind == YN_MAP) {
			static const char *const keys[] = {"id", "name", "resourceGroup", NULL};
			const struct ynode *id;

			if ((r = ld_keys(&t->c, e, "application security group reference", keys)))
				return r;
			if (!(id = ld_get(e, "id")) && !(id = ld_get(e, "name")))
				return ld_fail(&t->c, e,
					       "an application security group reference needs an 'id'");
			e = id;
		}
		if ((r = tl_want_scalar(t, e, "applicationSecurityGroups")))
			return r;
		slash = strrchr(e->str, '/');
		s = slash ? slash + 1 : e->str;
		a = vl_lab_find_asg(t->lab, s);
		if (a == VL_NONE)
			return ld_fail(&t->c, e, "vm %s: unknown application security group '%s'", vm->name,
				       s);
		for (size_t k = 0; k < vm->n_asgs; k++)
			if (vm->asgs[k] == a)
				return ld_fail(&t->c, e,
					       "vm %s: application security group '%s' is listed twice",
					       vm->name, t->lab->asgs[a].name);
		slot = tl_grow(&vm->asgs, &vm->n_asgs, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		*slot = a;
	}
	return r;
}

int tl_asg_members(struct tl *t, const struct ynode *root)
{
	const struct ynode *seq = ld_get(root, "vms"), *n;
	int r = 0;

	for (size_t i = 0; seq && seq->kind == YN_SEQ && i < seq->n && i < t->lab->n_vms && !r; i++)
		if ((n = ld_get(seq->kids[i], "applicationSecurityGroups")))
			r = vm_asgs(t, n, &t->lab->vms[i]);
	return r ? r : vl_lab_check_asgs(t->lab, t->c.err);
}
