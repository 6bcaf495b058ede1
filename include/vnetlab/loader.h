/* SPDX-License-Identifier: MIT */
/*
 * Topology loader: YAML (libyaml) → validated, resolved struct vl_lab.
 * JSON is YAML too, so `az network nsg show -o json` exports (flattened or
 * REST-shaped) load through the same parser with lines and columns intact.
 */
#ifndef VNETLAB_LOADER_H
#define VNETLAB_LOADER_H

#include "vnetlab/model.h"

/*
 * Load, validate and resolve a topology file. On success *out owns a lab
 * (free with vl_lab_free). On failure returns -EINVAL (or -errno for I/O)
 * and err says file:line:col and what is wrong; *out is NULL.
 */
int vl_load_file(const char *path, struct vl_lab **out, struct vl_error *err);
/* Same, from memory; name is used in messages. */
int vl_load_buffer(const char *name, const char *buf, size_t len, struct vl_lab **out, struct vl_error *err);

/*
 * The files a topology imported, by the reference it gives (`import:` value). Loading with
 * replay false reads them from disk and records them here (`up` copies them into the lab's
 * state); with replay true they come from here only and the disk is never read.
 */
struct vl_import {
	char *ref;
	char *data;
	size_t len;
};
struct vl_imports {
	struct vl_import *v;
	size_t n;
	bool replay;
};
int vl_load_buffer_imports(const char *name, const char *buf, size_t len, struct vl_imports *imports,
			   struct vl_lab **out, struct vl_error *err);
void vl_imports_free(struct vl_imports *imports);
/* The store's file format: records "import <ref bytes> <data bytes>\n<ref><data>\n". */
int vl_imports_format(const struct vl_imports *imports, char **out, size_t *len);
int vl_imports_parse(const char *buf, size_t len, struct vl_imports *out);

/*
 * Replace the checks and scenario of a loaded lab with those of a checks file
 * (top-level keys `checks` and `scenario` only, as in a topology), validated
 * against the lab's endpoints and NSGs. On failure the lab has no checks.
 */
int vl_load_checks_file(const char *path, struct vl_lab *lab, struct vl_error *err);
int vl_load_checks_buffer(const char *name, const char *buf, size_t len, struct vl_lab *lab,
			  struct vl_error *err);

/*
 * Import an NSG from an `az network nsg show -o json` or REST GET export
 * (also a bare rule array as printed by `az network nsg rule list -o json`).
 * Default rules in the export are checked against the built-in ones and not
 * copied. On success *out holds the NSG (name from the export, or name_hint).
 */
int vl_nsg_import_file(const char *path, const char *name_hint, struct vl_nsg *out, struct vl_error *err);
int vl_nsg_import_buffer(const char *name, const char *buf, size_t len, const char *name_hint,
			 struct vl_nsg *out, struct vl_error *err);

/*
 * `netpol apply`: NetworkPolicy (and Namespace, List) documents of a YAML stream ("---" between
 * documents) into cluster `cluster` of a loaded lab; a policy replaces the one of the same
 * namespace and name. On error the cluster keeps its policies. 0 or -errno with err set.
 * Recompute the effective model's policies afterwards (vl_eff_netpol_build).
 */
int vl_netpol_load_buffer(const char *name, const char *buf, size_t len, struct vl_lab *lab, int cluster,
			  struct vl_error *err);
/* `netpol delete`: the policy ns/name of cluster `cluster`. 0 or -ENOENT. */
int vl_netpol_delete(struct vl_lab *lab, int cluster, const char *ns, const char *name);

#endif
