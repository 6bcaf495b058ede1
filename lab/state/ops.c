// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vnetlab/agent.h"
#include "vnetlab/effective.h"
#include "vnetlab/apply.h"
#include "vnetlab/journal.h"
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
	      const struct vl_imports *imports, struct vl_error *err)
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
	if (vl_agent_listener_count(lab) > VL_AGENT_LISTENERS_MAX) {
		vl_error_set(
		    err, NULL, (struct vl_loc){0, 0},
		    "lab '%s' has %zu app sockets (ports of hello and echo apps; echo counts twice), "
		    "more than one agent holds (%d); nothing was built",
		    lab->name, vl_agent_listener_count(lab), VL_AGENT_LISTENERS_MAX);
		return -E2BIG;
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
	rc = vl_state_create(lab->name, source, content, len, imports);
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "creating %s/%s: %s", vl_state_root(), lab->name,
			     strerror(-rc));
		/* a half-written state dir would pass for a broken lab and block the next up */
		if (rc != -EEXIST)
			vl_state_remove(lab->name);
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
		vl_nft_release(); /* the agent must not inherit sockets into the lab, even for an instant */
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

	if (!vl_lab_name_ok(name)) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0},
			     "invalid lab name: 1-%d characters of a-z and 0-9", VL_LAB_NAME_MAX);
		return -EINVAL;
	}
	if (!vl_state_exists(name))
		return 0;
	vl_state_dir(dir, sizeof(dir), name);
	/* An agent that may still run keeps the namespaces alive: never call such a lab down. */
	rc = vl_agent_stop(dir);
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0},
			     "the agent of lab '%s' could not be stopped (%s); nothing was removed", name,
			     rc == -ESRCH ? "agent.pid is held by a process that is not the agent it records"
					  : strerror(-rc));
		return rc;
	}
	vl_nft_release();			/* cached netfilter sockets keep their namespaces alive */
	rc = vl_state_list_ns(name, &ns, NULL); /* only vl-<lab>-* names: never another's */
	if (rc)
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "reading the namespaces of lab '%s': %s", name,
			     strerror(-rc));
	if (!rc) {
		size_t failed;

		first = vl_apply_delete_all_at((const char *const *)ns.v, ns.n, &failed);
		if (first)
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "deleting namespace %s: %s",
				     ns.v[failed], strerror(-first));
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

/* Bring NSG nsg_name's rules of the directions in `dirs` (VL_NFT_DIR_*) into every fabric. */
static int commit_nsg(const struct vl_lab *lab, const char *nsg_name, unsigned dirs, struct vl_error *err)
{
	char ns[VL_NS_NAME_MAX] = "", why[512] = "";
	int nsg = vl_lab_find_nsg(lab, nsg_name), fd, rc = 0;

	if (nsg == VL_NONE)
		return 0; /* a deleted NSG has nothing in the kernel to bring in line */
	/* Every fabric has the NSG's chains: one transaction in each. */
	for (size_t v = 0; v < lab->n_vnets; v++) {
		vl_fabric_ns_name(ns, lab, (int)v);
		rc = vl_netns_open(ns, &fd);
		if (rc) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "opening %s: %s", ns, strerror(-rc));
			return rc;
		}
		/* With LoadBalancer frontends an edit may change which backends pass their probes
		 * (spec 15.4): the whole fabric ruleset, still one transaction; conntrack keeps flows. */
		rc = lab->eff && lab->eff->n_frontends
			 ? vl_nft_fabric_commit(lab, (int)v, fd, why, sizeof(why))
			 : vl_nft_nsg_commit_dirs(lab, (int)v, nsg, dirs, fd, why, sizeof(why));
		close(fd);
		if (rc)
			break;
	}
	if (rc)
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "committing NSG '%s' in %s: %s", nsg_name, ns,
			     why[0] ? why : strerror(-rc));
	return rc;
}

static int journal_err(struct vl_error *err, const char *name, int rc)
{
	vl_error_set(err, NULL, (struct vl_loc){0, 0}, "recording the edit of lab '%s': %s", name,
		     strerror(-rc));
	return rc;
}

/* The direction of the rule an edit names, as VL_NFT_DIR_* (0: no such rule, or no such NSG). */
static unsigned rule_dir(const struct vl_lab *lab, const struct vl_rule_edit *e)
{
	int g = e->nsg ? vl_lab_find_nsg(lab, e->nsg) : VL_NONE, r;

	if (g == VL_NONE || !e->rule)
		return 0;
	r = vl_nsg_find_rule(&lab->nsgs[g], e->rule);
	return r == VL_NONE ? 0 : 1u << lab->nsgs[g].rules[r].dir;
}

/*
 * Write ahead: the intent is on disk before the kernel changes, its outcome after.
 * A command that died in between left an intent with no outcome: it is committed
 * again (the model already includes it) before anything else.
 */
static int edit_locked(const char *name, struct vl_lab *lab, struct vl_journal *j,
		       const struct vl_rule_edit *e, struct vl_error *err)
{
	unsigned dirs;
	int rc;

	if (j->pending) {
		/* what the interrupted edit changed is not known: both directions */
		rc = commit_nsg(lab, j->edits[j->n - 1].nsg, VL_NFT_DIRS, err);
		if (rc)
			return rc;
		rc = vl_journal_outcome(name, true);
		if (rc)
			return journal_err(err, name, rc);
		j->pending = false;
	}
	/* Only the directions the rule had and has change in the kernel. */
	dirs = rule_dir(lab, e);
	rc = vl_lab_apply_edit(lab, e, err);
	if (rc)
		return rc;
	dirs |= rule_dir(lab, e);
	rc = vl_journal_intent(name, e, j);
	if (rc)
		return journal_err(err, name, rc);
	j->torn = false;
	rc = commit_nsg(lab, e->nsg, dirs ? dirs : VL_NFT_DIRS, err);
	if (rc) {
		/* the kernel kept the NSG as it was: say so, or the edit would be rolled forward */
		vl_journal_outcome(name, false);
		return rc;
	}
	rc = vl_journal_outcome(name, true);
	if (rc)
		return journal_err(err, name, rc);
	/* The edit is done whatever compaction says: a journal it could not fold stays as it is. */
	vl_state_compact_edits(name, lab, vl_state_compact_threshold(name));
	return 0;
}

int vl_ops_edit_live(const char *name, const struct vl_rule_edit *e, struct vl_lab **now,
		     struct vl_error *err)
{
	struct vl_journal j = {0};
	struct vl_lab *lab = NULL;
	int lock, rc;

	if (now)
		*now = NULL;
	rc = vl_state_lock(name, &lock, err);
	if (rc)
		return rc;
	if (!vl_state_exists(name)) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "lab '%s' is not up", name);
		rc = -ENOENT;
	}
	if (!rc)
		rc = vl_state_load_lab_journal(name, &lab, &j, err);
	if (!rc)
		rc = edit_locked(name, lab, &j, e, err);
	vl_journal_clear(&j);
	vl_state_unlock(name, lock);
	if (!rc && now)
		*now = lab;
	else
		vl_lab_free(lab);
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
	if (!rc)
		rc = vl_state_netpol_reset(name, file, undone, err); /* network policies (state/netpol.c) */
	vl_lab_free(file);
	vl_lab_free(now);
	return rc;
}
