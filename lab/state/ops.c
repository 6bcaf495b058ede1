// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnetlab/agent.h"
#include "vnetlab/apply.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"
#include "vnetlab/ops.h"
#include "vnetlab/plan.h"
#include "vnetlab/state.h"

static vl_ops_progress_fn progress_fn;
static void *progress_arg;

void vl_ops_on_progress(vl_ops_progress_fn fn, void *arg)
{
	progress_fn = fn;
	progress_arg = arg;
}

struct up_ctx {
	const char *lab;
	size_t done, total;
};

/* Called before each namespace is made: the journal, and the only count of progress there is. */
static int record_ns(const char *ns, bool claim, void *arg)
{
	struct up_ctx *u = arg;

	if (claim && progress_fn)
		progress_fn(++u->done, u->total, progress_arg);
	return claim ? vl_state_record_ns(u->lab, ns) : vl_state_forget_ns(u->lab, ns);
}

/* A clear refusal up front; apply still handles a name taken in the meantime. */
static int check_names_free(const struct vl_plan *plan, struct vl_error *err)
{
	char path[VL_NS_NAME_MAX + 16];

	for (size_t i = 0; i < plan->n_ns; i++) {
		snprintf(path, sizeof(path), "%s/%s", VL_NETNS_DIR, plan->ns[i].name);
		if (access(path, F_OK) == 0) {
			vl_error_set(
			    err, NULL, (struct vl_loc){0, 0},
			    "namespace %s already exists and is not part of lab '%s'; nothing was built",
			    plan->ns[i].name, plan->lab->name);
			return -EEXIST;
		}
	}
	return 0;
}

static bool interrupted(void)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
	       sigismember(&pending, SIGHUP);
}

int vl_ops_up(const struct vl_lab *lab, const char *source, const char *content, size_t len,
	      struct vl_error *err)
{
	char dir[256], why[512] = "";
	struct vl_plan *plan = NULL;
	sigset_t block, old;
	int rc;

	if (vl_state_exists(lab->name)) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0},
			     "lab '%s' is already up; nothing changed (run 'vnetlab down %s' first)",
			     lab->name, lab->name);
		return -EEXIST;
	}
	rc = vl_plan_build(lab, &plan);
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "planning lab '%s': %s", lab->name,
			     strerror(-rc));
		return rc;
	}
	rc = check_names_free(plan, err);
	if (rc) {
		vl_plan_free(plan);
		return rc;
	}
	/* SIGINT/SIGTERM wait until the kernel work is done, then roll it back. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	rc = vl_state_create(lab->name, source, content, len);
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "creating %s/%s: %s", VL_STATE_ROOT, lab->name,
			     strerror(-rc));
		goto out;
	}
	struct up_ctx u = {lab->name, 0, plan->n_ns};

	rc = vl_apply_up(plan, record_ns, &u, err);
	if (progress_fn)
		progress_fn(u.total, u.total, progress_arg);
	if (!rc && interrupted()) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "interrupted: lab '%s' rolled back",
			     lab->name);
		rc = -EINTR;
	}
	if (!rc) {
		vl_state_dir(dir, sizeof(dir), lab->name);
		rc = vl_agent_start(lab, dir, why, sizeof(why));
		if (rc)
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "starting the agent of lab '%s': %s",
				     lab->name, why[0] ? why : strerror(-rc));
	}
	if (!rc && interrupted()) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "interrupted: lab '%s' rolled back",
			     lab->name);
		rc = -EINTR;
	}
	if (rc)
		vl_ops_down(lab->name, NULL);
out:
	if (rc) {
		/* Drop what is pending: the rollback is the answer to it. */
		struct timespec zero = {0, 0};

		while (sigtimedwait(&block, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	vl_plan_free(plan);
	return rc;
}

int vl_ops_down(const char *name, struct vl_error *err)
{
	struct vl_strv ns = {0};
	char dir[256];
	int rc, first = 0;

	if (!vl_state_exists(name))
		return 0;
	vl_state_dir(dir, sizeof(dir), name);
	vl_agent_stop(dir);
	vl_nft_release(); /* cached netfilter sockets keep their namespaces alive */
	rc = vl_state_list_ns(name, &ns);
	if (rc)
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "reading the namespaces of lab '%s': %s", name,
			     strerror(-rc));
	for (size_t i = 0; !rc && i < ns.n; i++) {
		int r = vl_netns_delete(ns.v[i]);

		if (r && !first) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "deleting namespace %s: %s", ns.v[i],
				     strerror(-r));
			first = r;
		}
	}
	vl_strv_free(&ns);
	rc = rc ?: first;
	if (!rc) {
		rc = vl_state_remove(name);
		if (rc)
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "removing %s: %s", dir, strerror(-rc));
	}
	return rc;
}

int vl_ops_edit(const char *name, struct vl_lab *lab, const struct vl_rule_edit *e, struct vl_error *err)
{
	char ns[VL_NS_NAME_MAX], why[512] = "";
	int nsg, fd, rc;

	rc = vl_lab_apply_edit(lab, e, err);
	if (rc)
		return rc;
	nsg = vl_lab_find_nsg(lab, e->nsg);
	/* Every fabric has the NSG's chains: one transaction in each. */
	for (size_t v = 0; v < lab->n_vnets; v++) {
		vl_fabric_ns_name(ns, lab, (int)v);
		rc = vl_netns_open(ns, &fd);
		if (rc) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "opening %s: %s", ns, strerror(-rc));
			return rc;
		}
		rc = vl_nft_nsg_commit_one(lab, (int)v, nsg, fd, why, sizeof(why));
		close(fd);
		if (rc) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "committing NSG '%s' in %s: %s", e->nsg,
				     ns, why[0] ? why : strerror(-rc));
			return rc;
		}
	}
	rc = vl_state_append_edit(name, e);
	if (rc)
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "recording the edit of lab '%s': %s", name,
			     strerror(-rc));
	return rc;
}

/*
 * The lab back to its file: every fabric's ruleset rewritten from the topology copy (one
 * transaction each), then the journal cleared. A fabric that fails gets the edited rules back,
 * so the kernel and the journal keep saying the same thing.
 */
int vl_ops_reset(const char *name, size_t *undone, struct vl_error *err)
{
	struct vl_lab *file = NULL, *now = NULL;
	char ns[VL_NS_NAME_MAX], why[512] = "";
	size_t v = 0;
	int fd, rc;

	*undone = 0;
	rc = vl_state_count_edits(name, undone);
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "reading the edits of lab '%s': %s", name,
			     strerror(-rc));
		return rc;
	}
	rc = vl_state_load_lab_as_built(name, &file, err);
	if (!rc)
		rc = vl_state_load_lab(name, &now, err);
	for (; !rc && v < file->n_vnets; v++) {
		vl_fabric_ns_name(ns, file, (int)v);
		rc = vl_netns_open(ns, &fd);
		if (rc) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "opening %s: %s", ns, strerror(-rc));
			break;
		}
		rc = vl_nft_fabric_commit(file, (int)v, fd, why, sizeof(why));
		close(fd);
		if (rc)
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "committing the rules of %s: %s", ns,
				     why[0] ? why : strerror(-rc));
	}
	if (rc && now) {
		/* the fabrics done so far and the failed one (a transaction is all or nothing) */
		for (size_t u = 0; u < v && u < now->n_vnets; u++) {
			vl_fabric_ns_name(ns, now, (int)u);
			if (vl_netns_open(ns, &fd))
				continue;
			vl_nft_fabric_commit(now, (int)u, fd, why, sizeof(why));
			close(fd);
		}
	}
	if (!rc) {
		rc = vl_state_clear_edits(name);
		if (rc)
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "clearing the edits of lab '%s': %s", name,
				     strerror(-rc));
	}
	vl_lab_free(file);
	vl_lab_free(now);
	return rc;
}
