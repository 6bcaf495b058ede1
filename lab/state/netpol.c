// SPDX-License-Identifier: MIT
/*
 * Live network policy edits (`netpol apply`, `netpol delete`): the model changed, the record
 * written ahead (np_journal.c), then the kernel: each node ruleset of the cluster rebuilt (a
 * table replace, one transaction per node). Conntrack is never touched: established connections
 * survive.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "np-journal.h"
#include "vnetlab/effective.h"
#include "vnetlab/loader.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"
#include "vnetlab/plan.h"
#include "vnetlab/state.h"

/* Every node of cluster c: its table rebuilt, one transaction each. */
static int commit_nodes(const struct vl_lab *lab, int c, struct vl_error *err)
{
	char ns[VL_NS_NAME_MAX], why[512] = "";
	int rc = 0, fd;

	for (size_t i = 0; i < lab->n_eps && !rc; i++) {
		if (lab->eps[i].kind != VL_EP_NODE || lab->eps[i].owner != c)
			continue;
		vl_ns_name(ns, lab->name, lab->eps[i].name);
		rc = vl_netns_open(ns, &fd);
		if (rc) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "opening %s: %s", ns, strerror(-rc));
			return rc;
		}
		rc = vl_nft_masq_commit(lab, (int)i, fd, why, sizeof(why));
		close(fd);
		if (rc)
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "committing the policies in %s: %s",
				     ns, why[0] ? why : strerror(-rc));
	}
	return rc;
}

int vl_ops_netpol(const char *name, const char *cluster, const char *file, const char *text, const char *del,
		  struct vl_lab **now, struct vl_error *err)
{
	struct vl_lab *lab = NULL;
	char *rec = NULL, *esc = NULL;
	int lock, rc, c = VL_NONE;
	size_t len;

	*now = NULL;
	rc = vl_state_lock(name, &lock, err);
	if (rc)
		return rc;
	if (!vl_state_exists(name)) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "lab '%s' is not up", name);
		rc = -ENOENT;
	}
	if (!rc)
		rc = vl_state_load_lab(name, &lab, err);
	if (!rc && (c = vlnp_find_cluster(lab, cluster, err)) < 0)
		rc = c;
	if (!rc && del) {
		char ns[128];
		const char *slash = strchr(del, '/');

		snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - del) : 0, del);
		if (!slash || vl_netpol_delete(lab, c, ns, slash + 1)) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0},
				     "cluster '%s' has no network policy '%s'", lab->aks[c].name, del);
			rc = -ENOENT;
		}
	} else if (!rc) {
		rc = vl_netpol_load_buffer(file, text, strlen(text), lab, c, err);
	}
	if (!rc)
		rc = vl_eff_netpol_build(lab);
	if (!rc) {
		esc = vlnp_escape(del ? del : text);
		len = strlen(lab->aks[c].name) + strlen(file ? file : "") + (esc ? strlen(esc) : 0) + 32;
		rec = esc ? malloc(len) : NULL;
		if (!rec) {
			rc = -ENOMEM;
		} else {
			if (del)
				snprintf(rec, len, "delete\t%s\t%s\n", lab->aks[c].name, esc);
			else
				snprintf(rec, len, "apply\t%s\t%s\t%s\n", lab->aks[c].name, file, esc);
			rc = vlnp_append(name, rec);
			if (rc)
				vl_error_set(err, NULL, (struct vl_loc){0, 0},
					     "recording the edit of lab '%s': %s", name, strerror(-rc));
		}
	}
	if (!rc && (rc = commit_nodes(lab, c, err)))
		vlnp_append(name, "abort\n"); /* the kernel kept the policies as they were, or some nodes did */
	free(rec);
	free(esc);
	vl_state_unlock(name, lock);
	if (!rc)
		*now = lab;
	else
		vl_lab_free(lab);
	return rc;
}
