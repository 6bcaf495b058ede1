/* SPDX-License-Identifier: MIT */
/*
 * Whole-lab operations shared by the verbs: up, down, live edits.
 * The caller holds the lab's lock (vl_state_lock) for up and down; vl_ops_edit_live takes it.
 */
#ifndef VNETLAB_OPS_H
#define VNETLAB_OPS_H

#include "vnetlab/model.h"

/*
 * Build a loaded lab: state dir (with the topology copy), every kernel object,
 * the agent. On failure, or when SIGINT/SIGTERM arrives meanwhile, everything
 * made is removed again. -EEXIST when the lab is already up.
 */
struct vl_imports;
int vl_ops_up(const struct vl_lab *lab, const char *source, const char *content, size_t len,
	      const struct vl_imports *imports, struct vl_error *err);
/* Remove a lab (also a half-built one): agent, recorded namespaces, state. Idempotent. */
int vl_ops_down(const char *name, struct vl_error *err);
/*
 * A live NSG edit: take the lock, load the lab as it is now (topology copy and journal), journal
 * the intent, commit the NSG (one transaction), journal the outcome, unlock. *now (when now is
 * not NULL) receives the model after the edit.
 */
int vl_ops_edit_live(const char *name, const struct vl_rule_edit *e, struct vl_lab **now,
		     struct vl_error *err);

/*
 * The lab back to its file: the NSG rules of the topology copy in every fabric (one
 * transaction per fabric; established flows survive), the edit journal cleared. *undone
 * gets the number of edits it undid. On failure the kernel keeps the edited rules.
 */
int vl_ops_reset(const char *name, size_t *undone, struct vl_error *err);

/* Told before each namespace vl_ops_up makes (done of total), and once at the end. */
typedef void (*vl_ops_progress_fn)(size_t done, size_t total, void *arg);
void vl_ops_on_progress(vl_ops_progress_fn fn, void *arg);

#endif
