/* SPDX-License-Identifier: MIT */
/*
 * Rootless labs: run by a user who is not root, a lab lives in a user namespace (and a
 * mount namespace) that user owns. The caller's uid and gid map to 0 inside, a private
 * tmpfs covers /run/netns there, and the named-namespace code runs as it does for root.
 * The lab's agent (started inside) keeps both namespaces alive; every later command of
 * that user joins them through the agent's pidfd. State lives in the user's own
 * directory (vl_state_root), not in /run/vnetlab.
 */
#ifndef VNETLAB_ROOTLESS_H
#define VNETLAB_ROOTLESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vnetlab/model.h"

/*
 * True when this process is not root: euid is not 0, or it is uid 0 of a user namespace that maps
 * that one id (a rootless lab's). Root of a container's user namespace (a range mapped) is root.
 * Decided once, at the first call, so it stays true after joining a lab's user namespace.
 */
bool vl_rootless(void);
/* The uid and gid outside every user namespace (the user who ran vnetlab). */
uid_t vl_rootless_uid(void);
gid_t vl_rootless_gid(void);

/*
 * Why unprivileged user namespaces are refused, read from procsys (normally "/proc/sys"):
 * kernel.unprivileged_userns_clone=0, user.max_user_namespaces=0 or
 * kernel.apparmor_restrict_unprivileged_userns=1. Writes one sentence naming the setting and
 * returns true when one of them forbids it; false (buf untouched) when none does.
 */
bool vl_userns_forbidden(const char *procsys, char *buf, size_t len);

/*
 * A new user namespace (uid -> 0, gid -> 0), mount namespace (a private tmpfs on /run/netns)
 * and an empty network namespace to return to, for this (single-threaded) process. keep is a directory that
 * must stay visible (the state root) when /run itself has to be covered. 0 or -errno, why says which step.
 */
int vl_userns_create(uid_t uid, gid_t gid, const char *keep, char *why, size_t why_len);
/* Join the user, mount and network namespaces of the process behind pidfd. 0 or -errno. */
int vl_userns_join(int pidfd, char *why, size_t why_len);

/*
 * Make this process ready to work on lab: nothing for root; rootless, join the namespaces
 * of the lab's agent (pid and start time checked) or, when no agent runs (the lab is not up,
 * or its up died), make a fresh, empty pair. A process serves one rootless lab: -EXDEV when
 * it already joined another. 0 or -errno with err set.
 */
int vl_state_enter_lab(const char *lab, struct vl_error *err);

#endif
