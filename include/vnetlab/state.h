/* SPDX-License-Identifier: MIT */
/*
 * Lab state under /run/vnetlab/<lab>/:
 *   source      absolute path of the topology file
 *   topology    a copy of the file as it was at `up`
 *   namespaces  every namespace of the lab, appended *before* it is created
 *   edits       the live NSG edits, one per line, replayed over the topology
 *   agent.*     the agent's pid, log and socket
 * Commands on one lab are serialised by an flock on /run/vnetlab/.<lab>.lock,
 * which exists only while a command holds it or the lab is up.
 */
#ifndef VNETLAB_STATE_H
#define VNETLAB_STATE_H

#include <stddef.h>

#include "vnetlab/model.h"

#define VL_STATE_ROOT "/run/vnetlab"

#define VL_FILE_MAX (16u << 20) /* topology files and state files: 16 MiB at most */

void vl_state_dir(char *buf, size_t len, const char *lab);
/* Read a whole file (NUL-terminated, *len without the NUL); -EFBIG past max bytes. */
int vl_state_read_file(const char *path, size_t max, char **out, size_t *len);
/* Take the lab's lock (blocking). *fd is released by vl_state_unlock. */
int vl_state_lock(const char *lab, int *fd);
/* Release it; the lock file is removed when the lab no longer exists. */
void vl_state_unlock(const char *lab, int fd);
bool vl_state_exists(const char *lab);
/* Create the state dir with the topology copy; -EEXIST when the lab exists. */
int vl_state_create(const char *lab, const char *source, const char *content, size_t len);
int vl_state_record_ns(const char *lab, const char *ns);
/* Drop a recorded name that turned out not to be ours. */
int vl_state_forget_ns(const char *lab, const char *ns);
int vl_state_list_ns(const char *lab, struct vl_strv *out);
/* Remove the state dir (after the namespaces are gone). */
int vl_state_remove(const char *lab);
/* Names of every lab with state, sorted. */
int vl_state_list_labs(struct vl_strv *out);
/* The lab as it runs now: the topology copy with every recorded edit replayed. */
int vl_state_load_lab(const char *lab, struct vl_lab **out, struct vl_error *err);
/* The lab as `up` built it: the topology copy without the edits. */
int vl_state_load_lab_as_built(const char *lab, struct vl_lab **out, struct vl_error *err);
/* How many live edits are recorded (0 when none). */
int vl_state_count_edits(const char *lab, size_t *n);
/* Forget every recorded edit (after `reset` has put the file's rules back). */
int vl_state_clear_edits(const char *lab);
int vl_state_append_edit(const char *lab, const struct vl_rule_edit *e);
int vl_state_source(const char *lab, char *buf, size_t len);

#endif
