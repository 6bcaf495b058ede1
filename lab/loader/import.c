// SPDX-License-Identifier: MIT
/* NSG import from `az network nsg show -o json`, a REST GET response, or
 * `az network nsg rule list -o json` (JSON is YAML: one parser, located errors). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ld.h"
#include "vnetlab/loader.h"

/* REST example files wrap the NSG: {"parameters": …, "responses": {"200": {"body": NSG}}}. */
static int unwrap(struct ld *c, const struct ynode *root, const struct ynode **nsg)
{
	static const char *const keys[] = {"parameters", "responses", "title", "operationId", NULL};
	const struct ynode *resp, *ok, *body;
	int r;

	*nsg = root;
	if (!ld_get(root, "responses"))
		return 0;
	if ((r = ld_keys(c, root, "REST example", keys)))
		return r;
	resp = ld_get(root, "responses");
	if ((r = ld_map(c, resp, "responses")))
		return r;
	ok = ld_get(resp, "200");
	if (!ok)
		return ld_fail(c, resp, "no \"200\" response with the NSG in 'responses'");
	if ((r = ld_map(c, ok, "response 200")) || (r = ld_need(c, ok, "body", "response 200", &body)))
		return r;
	*nsg = body;
	return 0;
}

static bool is_nsg_object(const struct ynode *m)
{
	const struct ynode *t = ld_get(m, "type"), *p = ld_get(m, "properties");
	static const char suffix[] = "/networkSecurityGroups";
	size_t n = sizeof(suffix) - 1;

	if (m->kind != YN_MAP)
		return false;
	if (t && t->kind == YN_SCALAR && strlen(t->str) >= n &&
	    !strcasecmp(t->str + strlen(t->str) - n, suffix))
		return true;
	if (ld_get(m, "securityRules") || ld_get(m, "defaultSecurityRules"))
		return true;
	return p && p->kind == YN_MAP && (ld_get(p, "securityRules") || ld_get(p, "defaultSecurityRules"));
}

static const char *nsg_name(const struct ynode *m)
{
	const struct ynode *n = ld_get(m, "name");

	return n && n->kind == YN_SCALAR ? n->str : NULL;
}

/* `az network nsg list -o json`: the NSG named name_hint, or the only one. */
static int pick_from_list(struct ld *c, const struct ynode *seq, const char *name_hint,
			  const struct ynode **nsg)
{
	const struct ynode *found = NULL;

	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->kids[i];

		if (!is_nsg_object(m))
			return ld_fail(c, m, "item %zu of the NSG list is not a network security group",
				       i + 1);
		if (name_hint && nsg_name(m) && !strcasecmp(nsg_name(m), name_hint))
			found = m;
	}
	if (!found && seq->n == 1)
		found = seq->kids[0];
	if (!found) {
		char q[400];

		return ld_fail(c, seq,
			       "the NSG list holds %zu network security groups and none is named '%s'; "
			       "name the one to import",
			       seq->n, ld_quote(c, name_hint ? name_hint : "", q, sizeof(q)));
	}
	*nsg = found;
	return 0;
}

static void hide_values(const struct ld *c, struct vl_error *e)
{
	vl_error_set(e, c->file, (struct vl_loc){e->line, e->col},
		     "invalid security rule (an imported file's values are not shown)");
}

int ld_import_buffer(const char *name, const char *buf, size_t len, const char *name_hint, bool hide,
		     const struct vl_lab *lab, struct vl_nsg *out, struct vl_error *err, struct vl_errors *errs)
{
	struct vl_error scratch;
	struct ld c = {.file = name ? name : "<buffer>",
		       .err = err ? err : &scratch,
		       .hide = hide,
		       .lab = lab,
		       .errs = errs};
	size_t n0 = errs ? errs->n : 0;
	struct ynode *root = NULL;
	const struct ynode *nsg = NULL;
	bool imported;
	int r;

	memset(out, 0, sizeof(*out));
	memset(c.err, 0, sizeof(*c.err));
	r = yn_parse(c.file, buf, len, &root, c.err);
	if (r)
		return r;
	if (!root) {
		vl_error_set(c.err, c.file, (struct vl_loc){1, 1},
			     "empty file; expected an NSG or a list of rules");
		return -EINVAL;
	}
	if (root->kind == YN_SEQ && root->n && is_nsg_object(root->kids[0])) {
		r = pick_from_list(&c, root, name_hint, &nsg);
		if (!r)
			r = ld_nsg(&c, nsg, NULL, out, &imported);
	} else if (root->kind == YN_SEQ) {
		r = ld_rule_array(&c, root, out);
		out->loc = root->loc;
	} else if (root->kind == YN_MAP) {
		r = unwrap(&c, root, &nsg);
		if (!r)
			r = ld_nsg(&c, nsg, NULL, out, &imported);
	} else {
		r = ld_fail(&c, root, "expected an NSG object or a list of security rules, got %s",
			    ld_kind(root));
	}
	if (!r && !out->name)
		out->name = strdup(name_hint ? name_hint : "imported-nsg");
	if (!r && !out->name)
		r = -ENOMEM;
	if (!r) {
		r = vl_nsg_validate_all(lab, out, c.file, c.err, errs);
		/* its messages quote names and values: keep only where it is */
		if (r == -EINVAL && hide) {
			hide_values(&c, c.err);
			for (size_t i = n0; errs && i < errs->n; i++)
				hide_values(&c, &errs->v[i]);
		}
	}
	yn_free(root);
	if (r) {
		if (r == -ENOMEM && !c.err->msg[0])
			vl_error_set(c.err, c.file, (struct vl_loc){0, 0}, "out of memory");
		ld_nsg_clear(out);
	}
	return r;
}

int vl_nsg_import_buffer(const char *name, const char *buf, size_t len, const char *name_hint,
			 struct vl_nsg *out, struct vl_error *err)
{
	return ld_import_buffer(name, buf, len, name_hint, false, NULL, out, err, NULL);
}

int vl_nsg_import_file_in(const struct vl_lab *lab, const char *path, const char *name_hint, struct vl_nsg *out,
			  struct vl_error *err)
{
	char *buf;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	r = ld_read_file(path, "NSG export", &buf, &len, err);
	if (r)
		return r;
	r = ld_import_buffer(path, buf, len, name_hint, false, lab, out, err, NULL);
	free(buf);
	return r;
}

int vl_nsg_import_file(const char *path, const char *name_hint, struct vl_nsg *out, struct vl_error *err)
{
	return vl_nsg_import_file_in(NULL, path, name_hint, out, err);
}

void vl_nsg_clear(struct vl_nsg *nsg)
{
	ld_nsg_clear(nsg);
}
