// SPDX-License-Identifier: MIT
/* NSG import from `az network nsg show -o json`, a REST GET response, or
 * `az network nsg rule list -o json` (JSON is YAML: one parser, located errors). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

int ld_import_buffer(const char *name, const char *buf, size_t len, const char *name_hint, bool hide,
		     struct vl_nsg *out, struct vl_error *err)
{
	struct vl_error scratch;
	struct ld c = {.file = name ? name : "<buffer>", .err = err ? err : &scratch, .hide = hide};
	struct ynode *root = NULL;
	const struct ynode *nsg;
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
	if (root->kind == YN_SEQ) {
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
		r = vl_nsg_validate(out, c.file, c.err);
		/* its messages quote names and values: keep only where it is */
		if (r == -EINVAL && hide)
			vl_error_set(c.err, c.file, (struct vl_loc){c.err->line, c.err->col},
				     "invalid security rule (an imported file's values are not shown)");
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
	return ld_import_buffer(name, buf, len, name_hint, false, out, err);
}

int vl_nsg_import_file(const char *path, const char *name_hint, struct vl_nsg *out, struct vl_error *err)
{
	char *buf;
	size_t len;
	int r;

	memset(out, 0, sizeof(*out));
	r = ld_read_file(path, "NSG export", &buf, &len, err);
	if (r)
		return r;
	r = vl_nsg_import_buffer(path, buf, len, name_hint, out, err);
	free(buf);
	return r;
}
