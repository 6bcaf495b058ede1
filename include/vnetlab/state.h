/* SPDX-License-Identifier: MIT */
/*
 * Lab state under /run/vnetlab/<lab>/:
 *   source      absolute path of the topology file
 *   topology    a copy of the file as it was at `up`
 *   imports     copies of the files it imported (vl_imports_format), read instead of them
 *   namespaces  every namespace of the lab, appended *before* it is created
 *   edits       the live NSG edits, write-ahead (journal.h), replayed over the topology
 *   agent.*     the agent's pid, log and socket
 * Commands on one lab are serialised by an flock on /run/vnetlab/.<lab>.lock,
 * which exists only while a command holds it or the lab is up.
 * Everything is root's alone: /run/vnetlab and each lab's directory 0700, files 0600.
 * A rootless user's labs live the same way under vl_state_root(), private to that user.
 */
#ifndef VNETLAB_STATE_H
#define VNETLAB_STATE_H

#include <stddef.h>

#include "vnetlab/model.h"

#define VL_STATE_ROOT "/run/vnetlab" /* root's; a rootless user's is elsewhere (vl_state_root) */

/* VL_STATE_ROOT for root, the user's own directory for a rootless user (rootless.h). */
const char *vl_state_root(void);
/*
 * For root's `ls --all-users`: the state roots of rootless users (/run/user/<uid>/vnetlab,
 * /tmp/vnetlab-<uid>: directories owned by that uid, not symlinks), and a switch of
 * vl_state_root() to one of them (user gets its owner's name) or back (NULL). Read-only use.
 */
int vl_state_user_roots(struct vl_strv *out);
int vl_state_use_root(const char *root, char *user, size_t len);
/* A sentence for a failure of the state root's checks (-EPERM: not the user's own, private). */
const char *vl_state_root_problem(int rc, char *buf, size_t len);

#define VL_FILE_MAX (16u << 20) /* topology files and state files: 16 MiB at most */

/* Every function here refuses (false, -EINVAL) a lab name that vl_lab_name_ok refuses. */
void vl_state_dir(char *buf, size_t len, const char *lab);
/* Read a whole file (NUL-terminated, *len without the NUL); -EFBIG past max bytes. */
int vl_state_read_file(const char *path, size_t max, char **out, size_t *len);
#define VL_LOCK_TIMEOUT_MS 30000 /* VNETLAB_LOCK_TIMEOUT (seconds) overrides it */
/*
 * Take the lab's lock, waiting at most the timeout; -ETIMEDOUT (err names the holder),
 * -EINTR when SIGINT/SIGTERM/SIGHUP arrives (pending or handled) meanwhile.
 * *fd is released by vl_state_unlock.
 */
int vl_state_lock(const char *lab, int *fd, struct vl_error *err);
/* Release it; the lock file is removed when the lab no longer exists. */
void vl_state_unlock(const char *lab, int fd);
bool vl_state_exists(const char *lab);
/* Create the state dir with the topology copy and what it imported; -EEXIST when the lab exists. */
struct vl_imports;
int vl_state_create(const char *lab, const char *source, const char *content, size_t len,
		    const struct vl_imports *imports);
int vl_state_record_ns(const char *lab, const char *ns);
/* Drop a recorded name that turned out not to be ours. */
int vl_state_forget_ns(const char *lab, const char *ns);
/*
 * The recorded namespaces that are this lab's (vl-<lab>-<name>); *foreign (if given) counts the
 * lines that are not, which nobody may delete.
 */
int vl_state_list_ns(const char *lab, struct vl_strv *out, size_t *foreign);
bool vl_state_ns_ours(const char *lab, const char *ns);
/* Remove the state dir (after the namespaces are gone). */
int vl_state_remove(const char *lab);
/* Names of every lab with state, sorted. */
int vl_state_list_labs(struct vl_strv *out);
/* The lab as it runs now: the topology copy with every recorded edit replayed. */
int vl_state_load_lab(const char *lab, struct vl_lab **out, struct vl_error *err);
/* Same, and the journal it replayed (for the writer that holds the lock; clear it after). */
struct vl_journal;
int vl_state_load_lab_journal(const char *lab, struct vl_lab **out, struct vl_journal *j,
			      struct vl_error *err);
/* The lab as `up` built it: the topology copy without the edits. */
int vl_state_load_lab_as_built(const char *lab, struct vl_lab **out, struct vl_error *err);
/* How many live edits are recorded (0 when none). */
int vl_state_count_edits(const char *lab, size_t *n);
/*
 * Under the lock, after an edit's outcome: past `threshold` bytes, rewrite the journal as a
 * snapshot of its edits, once replaying it over the topology makes `now` (the lab with every
 * edit). 0 when compacted or not needed; -errno (the journal untouched) otherwise.
 */
int vl_state_compact_edits(const char *lab, const struct vl_lab *now, size_t threshold);
/* vl_journal_compact_threshold of the lab's topology copy and imports (the largest on failure). */
size_t vl_state_compact_threshold(const char *lab);
/* Forget every recorded edit (after `reset` has put the file's rules back). */
int vl_state_clear_edits(const char *lab);
int vl_state_source(const char *lab, char *buf, size_t len);

/* ---- live network policies (state/netpol.c) ---- */
/* Replay /run/vnetlab/<lab>/netpols over a loaded lab (after its NSG edits). 0 or -errno. */
int vl_state_netpol_replay(const char *lab, struct vl_lab *l, struct vl_error *err);
/*
 * `netpol apply` (text: YAML documents, file: its name for errors) or `netpol delete` (del:
 * "NAMESPACE/NAME") on cluster `cluster` (NULL: the lab's only cluster with policies), under the
 * lab lock: the model changed, the record written ahead, every node of the cluster recommitted.
 * *now: the lab after it. 0 or -errno with err set.
 */
int vl_ops_netpol(const char *name, const char *cluster, const char *file, const char *text, const char *del,
		  struct vl_lab **now, struct vl_error *err);
/* `reset`: every policy-enforcing node's table rebuilt from `file` (the lab as built), then the
 * policy journal removed; *undone grows by its records. 0 or -errno with err set. */
int vl_state_netpol_reset(const char *name, const struct vl_lab *file, size_t *undone, struct vl_error *err);

#endif
