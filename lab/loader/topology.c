// SPDX-License-Identifier: MIT
/* Topology file → validated, resolved struct vl_lab: the order of the sections. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tl.h"
#include "vnetlab/loader.h"

static int lab_name(struct tl *t, const struct ynode *root)
{
	const struct ynode *n;
	const char *s;
	int r = ld_need(&t->c, root, "name", "topology", &n);

	if (!r)
		r = tl_want_scalar(t, n, "name");
	if (r)
		return r;
	s = n->str;
	if (!vl_lab_name_ok(s))
		return ld_fail(&t->c, n,
			       "invalid lab name '%s': 1-%d characters of a-z and 0-9 (no '-': namespaces "
			       "are vl-<lab>-<endpoint>)",
			       s, VL_LAB_NAME_MAX);
	return ld_str(&t->c, n, "name", &t->lab->name);
}

static const char *const top_keys[] = {"name",
				       "vnets",
				       "networkSecurityGroups",
				       "routeTables",
				       "virtualNetworkGateways",
				       "localNetworkGateways",
				       "connections",
				       "vms",
				       "containerGroups",
				       "aksClusters",
				       "internet",
				       "applicationSecurityGroups",
				       "serviceTags",
				       "checks",
				       "scenario",
				       NULL};

/*
 * A section ends the load when it found errors: the sections after it refer to its items by
 * name, and an item it skipped would show up there as errors that are not the user's.
 */
static int section(const struct tl *t, int r)
{
	return !r && t->c.errs && t->c.errs->n ? -EINVAL : r;
}

static char *dir_of(const char *file)
{
	const char *slash = strrchr(file, '/');

	if (!slash)
		return strdup(".");
	if (slash == file)
		return strdup("/");
	return strndup(file, (size_t)(slash - file));
}

static int load(const char *name, const char *buf, size_t len, struct vl_imports *imports, struct vl_lab **out,
		struct vl_error *err, struct vl_errors *errs)
{
	struct vl_error scratch;
	struct tl t = {
	    .c = {.file = name ? name : "<buffer>", .err = err ? err : &scratch, .imports = imports, .errs = errs}};
	struct ynode *root = NULL;
	int r;

	*out = NULL;
	memset(t.c.err, 0, sizeof(*t.c.err));
	r = yn_parse(t.c.file, buf, len, &root, t.c.err);
	if (r)
		return r;
	if (!root) {
		vl_error_set(t.c.err, t.c.file, (struct vl_loc){1, 1}, "empty topology file");
		return -EINVAL;
	}
	t.lab = vl_lab_new();
	t.c.lab = t.lab;
	t.dir = dir_of(t.c.file);
	if (!t.lab || !t.dir || !(t.lab->file = strdup(t.c.file))) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = ld_map(&t.c, root, "the topology")) || (r = ld_keys(&t.c, root, "topology", top_keys)) ||
	    (r = lab_name(&t, root)) || (r = tl_service_tags(&t, root)) || (r = tl_asgs(&t, root)) ||
	    (r = section(&t, tl_nsgs(&t, root))) || (r = tl_route_tables(&t, root)) || (r = tl_vnets(&t, root)) ||
	    (r = tl_gateways(&t, root)) || (r = tl_peerings(&t)) || (r = section(&t, tl_vms(&t, root))) ||
	    (r = tl_asg_members(&t, root)) || (r = tl_cgs(&t, root)) || (r = tl_aks(&t, root)) ||
	    (r = tl_local_gateways(&t, root)) || (r = tl_connections(&t, root)) || (r = tl_internet(&t, root)) ||
	    (r = section(&t, tl_checks(&t, root))))
		goto out;
	r = vl_lab_resolve(t.lab, t.c.err);
	/* After resolve: a step or an expectRule may name a rule cloud-provider-azure added to a node NSG. */
	if (!r)
		r = tl_scenario(&t, root);
	if (!r)
		r = tl_check_expect_rules(&t);
	if (!r)
		r = tl_check_targets(&t);
out:
	if (r == -ENOMEM && !t.c.err->msg[0])
		vl_error_set(t.c.err, t.c.file, (struct vl_loc){0, 0}, "out of memory");
	if (r == -EINVAL && errs) {
		ld_keep(&t.c, r); /* the error that ended the load, unless it is listed already */
		*t.c.err = errs->v[0]; /* the first, as a caller without the list has always seen it */
	}
	for (size_t i = 0; i < t.n_eps; i++)
		free(t.eps[i].name);
	free(t.eps);
	free(t.ep_hash);
	free(t.check_maps);
	free(t.vnet_maps);
	free(t.dir);
	yn_free(root);
	if (r) {
		vl_lab_free(t.lab);
		return r;
	}
	*out = t.lab;
	return 0;
}

int vl_load_buffer(const char *name, const char *buf, size_t len, struct vl_lab **out, struct vl_error *err)
{
	return vl_load_buffer_imports(name, buf, len, NULL, out, err);
}

int vl_load_buffer_imports(const char *name, const char *buf, size_t len, struct vl_imports *imports,
			   struct vl_lab **out, struct vl_error *err)
{
	return load(name, buf, len, imports, out, err, NULL);
}

int vl_load_buffer_all(const char *name, const char *buf, size_t len, struct vl_lab **out, struct vl_errors *errs)
{
	struct vl_error err;
	int r;

	memset(errs, 0, sizeof(*errs));
	r = load(name, buf, len, NULL, out, &err, errs);
	if (r && !errs->n)
		vl_errors_add(errs, &err);
	return r;
}

int vl_load_file_all(const char *path, struct vl_lab **out, struct vl_errors *errs)
{
	struct vl_error err;
	char *buf;
	size_t len;
	int r;

	*out = NULL;
	memset(errs, 0, sizeof(*errs));
	r = ld_read_file(path, "topology", &buf, &len, &err);
	if (r) {
		vl_errors_add(errs, &err);
		return r;
	}
	r = vl_load_buffer_all(path, buf, len, out, errs);
	free(buf);
	return r;
}

int vl_load_file(const char *path, struct vl_lab **out, struct vl_error *err)
{
	char *buf;
	size_t len;
	int r;

	*out = NULL;
	r = ld_read_file(path, "topology", &buf, &len, err);
	if (r)
		return r;
	r = vl_load_buffer(path, buf, len, out, err);
	free(buf);
	return r;
}

/* A file of checks (and a scenario) for a lab that exists already: a teacher's hidden checks. */
int vl_load_checks_buffer(const char *name, const char *buf, size_t len, struct vl_lab *lab,
			  struct vl_error *err)
{
	static const char *const keys[] = {"checks", "scenario", NULL};
	struct vl_error scratch;
	struct tl t = {.c = {.file = name ? name : "<buffer>", .err = err ? err : &scratch}, .lab = lab, .checks_file = true};
	struct ynode *root = NULL;
	int r;

	memset(t.c.err, 0, sizeof(*t.c.err));
	vl_lab_clear_checks(lab);
	r = yn_parse(t.c.file, buf, len, &root, t.c.err);
	if (r)
		return r;
	if (!root) {
		vl_error_set(t.c.err, t.c.file, (struct vl_loc){1, 1}, "empty checks file");
		return -EINVAL;
	}
	if (!(r = ld_map(&t.c, root, "a checks file")) && !(r = ld_keys(&t.c, root, "checks file", keys)) &&
	    !(r = tl_checks(&t, root)) && !(r = tl_scenario(&t, root)) && !(r = tl_check_expect_rules(&t)))
		r = tl_check_targets(&t);
	if (r == -ENOMEM && !t.c.err->msg[0])
		vl_error_set(t.c.err, t.c.file, (struct vl_loc){0, 0}, "out of memory");
	free(t.check_maps);
	yn_free(root);
	if (r)
		vl_lab_clear_checks(lab);
	return r;
}

int vl_load_checks_file(const char *path, struct vl_lab *lab, struct vl_error *err)
{
	char *buf;
	size_t len;
	int r;

	r = ld_read_file(path, "checks file", &buf, &len, err);
	if (r)
		return r;
	r = vl_load_checks_buffer(path, buf, len, lab, err);
	free(buf);
	return r;
}
