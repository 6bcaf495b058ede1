// SPDX-License-Identifier: MIT
/*
 * Where lab state lives and which namespaces a command works in. Root: /run/vnetlab and the
 * host's namespaces. Anyone else (rootless): $XDG_RUNTIME_DIR/vnetlab, or /tmp/vnetlab-<uid>
 * when that is unset, and the user and mount namespaces of the lab's agent (rootless.h).
 * The decision is taken once, before any namespace is joined: inside one we are uid 0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state-int.h"
#include "vnetlab/agent.h"
#include "vnetlab/rootless.h"
#include "vnetlab/state.h"

/* room for "/<lab>/agent.sock" in a unix socket's 108 bytes */
#define ROOT_MAX 80

static struct {
	bool known, rootless;
	uid_t uid;
	gid_t gid;
	char root[ROOT_MAX + 32];
	bool too_long;
	char entered[VL_LAB_NAME_MAX + 1];
} self;

/*
 * The outer id that maps to inner in a /proc/self/{uid,gid}_map (inner itself for the identity);
 * *single: inner's range maps that one id alone, as a rootless lab's "0 <uid> 1" does.
 */
static unsigned outer_id(const char *file, unsigned inner, bool *single)
{
	unsigned in, out, count, res = inner;
	char buf[512];
	FILE *f = fopen(file, "re");

	*single = false;
	if (!f)
		return inner;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "%u %u %u", &in, &out, &count) == 3 && inner >= in && inner - in < count) {
			res = out + (inner - in);
			*single = count == 1;
		}
	fclose(f);
	return res;
}

static void decide(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	bool single_u, single_g;

	if (self.known)
		return;
	self.known = true;
	/*
	 * Root of a container's user namespace (a range of ids mapped) keeps root mode, as before;
	 * uid 0 of a single-id map is a user inside a rootless lab (vnetlab run from vnetlab exec).
	 */
	self.uid = outer_id("/proc/self/uid_map", geteuid(), &single_u);
	self.gid = outer_id("/proc/self/gid_map", getegid(), &single_g);
	self.rootless = geteuid() != 0 || (single_u && self.uid != 0);
	if (!self.rootless) {
		self.uid = geteuid();
		self.gid = getegid();
	}
	if (!self.rootless)
		snprintf(self.root, sizeof(self.root), "%s", VL_STATE_ROOT);
	else if (xdg && xdg[0] == '/' && strlen(xdg) + strlen("/vnetlab") <= ROOT_MAX)
		snprintf(self.root, sizeof(self.root), "%s/vnetlab", xdg);
	else if (xdg && xdg[0])
		self.too_long = true;
	else
		snprintf(self.root, sizeof(self.root), "/tmp/vnetlab-%u", (unsigned)self.uid);
}

bool vl_rootless(void)
{
	decide();
	return self.rootless;
}

uid_t vl_rootless_uid(void)
{
	decide();
	return self.uid;
}

gid_t vl_rootless_gid(void)
{
	decide();
	return self.gid;
}

const char *vl_state_root(void)
{
	decide();
	/* an unusable XDG_RUNTIME_DIR names a path nothing can be made in; ready() says why */
	return self.too_long ? "/nonexistent/XDG_RUNTIME_DIR-is-not-usable" : self.root;
}

/* A directory of ours (lstat: never through a symlink) that nobody else may write to. */
static int dir_ours(const char *path, bool tighten)
{
	struct stat st;

	if (lstat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return -EPERM;
	if ((st.st_mode & 077) && (!tighten || chmod(path, 0700)))
		return -EPERM;
	return 0;
}

int vl_state_root_ready(void)
{
	const char *root = vl_state_root();
	char parent[ROOT_MAX + 32], *slash;
	int rc;

	if (self.too_long)
		return -ENAMETOOLONG;
	if (self.rootless && strncmp(root, "/tmp/", 5)) {
		/* $XDG_RUNTIME_DIR: the user's own (0700 by its specification) */
		snprintf(parent, sizeof(parent), "%s", root);
		slash = strrchr(parent, '/');
		*slash = '\0';
		rc = dir_ours(parent, false);
		if (rc == -EPERM) {
			struct stat st;

			/* group or others may only read and enter it */
			if (!lstat(parent, &st) && S_ISDIR(st.st_mode) && st.st_uid == geteuid() &&
			    !(st.st_mode & 022))
				rc = 0;
		}
		if (rc)
			return rc;
	}
	if (mkdir(root, 0700) && errno != EEXIST)
		return -errno;
	/* /tmp/vnetlab-<uid> made by someone else is refused, never reused */
	return dir_ours(root, true);
}

const char *vl_state_root_problem(int rc, char *buf, size_t len)
{
	decide();
	if (rc == -ENAMETOOLONG)
		snprintf(buf, len, "XDG_RUNTIME_DIR must be an absolute path of at most %zu characters",
			 (size_t)ROOT_MAX - strlen("/vnetlab"));
	else if (rc == -EPERM)
		snprintf(buf, len,
			 "%s (or its parent) is not a directory of yours that only you can write to; "
			 "nothing was done (remove it, or set XDG_RUNTIME_DIR to a private directory)",
			 self.root);
	else
		snprintf(buf, len, "%s: %s", self.root, strerror(-rc));
	return buf;
}

int vl_state_enter_lab(const char *lab, struct vl_error *err)
{
	char dir[256], why[512] = "";
	int pidfd = -1, rc;

	if (!vl_rootless())
		return 0;
	if (!vl_lab_name_ok(lab)) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0},
			     "invalid lab name: 1-%d characters of a-z and 0-9", VL_LAB_NAME_MAX);
		return -EINVAL;
	}
	if (self.entered[0]) {
		if (!strcmp(self.entered, lab))
			return 0;
		vl_error_set(err, NULL, (struct vl_loc){0, 0},
			     "this process already works in rootless lab '%s'; one lab per process",
			     self.entered);
		return -EXDEV;
	}
	rc = vl_state_root_ready();
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "state directory: %s",
			     vl_state_root_problem(rc, why, sizeof(why)));
		return rc;
	}
	vl_state_dir(dir, sizeof(dir), lab);
	rc = -ESRCH;
	if (vl_agent_pidfd(dir, &pidfd) == 0) {
		rc = vl_userns_join(pidfd, why, sizeof(why));
		close(pidfd);
	}
	/* no agent (or it ended just now): the lab's namespaces are gone with it; start afresh */
	if (rc == -ESRCH)
		rc = vl_userns_create(self.uid, self.gid, self.root, why, sizeof(why));
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "rootless lab '%s': %s", lab, why);
		return rc;
	}
	snprintf(self.entered, sizeof(self.entered), "%s", lab);
	return 0;
}

static int add_root(struct vl_strv *out, const char *path)
{
	struct stat st;

	/* a rootless user's own directory only: root's and symlinks are skipped */
	if (lstat(path, &st) || !S_ISDIR(st.st_mode) || st.st_uid == 0)
		return 0;
	return vl_strv_push(out, path);
}

int vl_state_user_roots(struct vl_strv *out)
{
	char path[ROOT_MAX + 32];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir("/run/user");
	while (!rc && d && (de = readdir(d)))
		if (de->d_name[0] != '.' && strlen(de->d_name) < 16) {
			snprintf(path, sizeof(path), "/run/user/%.15s/vnetlab", de->d_name); /* < 16, checked */
			rc = add_root(out, path);
		}
	if (d)
		closedir(d);
	d = opendir("/tmp");
	while (!rc && d && (de = readdir(d)))
		if (!strncmp(de->d_name, "vnetlab-", 8) && strlen(de->d_name) < 24 &&
		    strspn(de->d_name + 8, "0123456789") == strlen(de->d_name + 8) && de->d_name[8]) {
			snprintf(path, sizeof(path), "/tmp/%.23s", de->d_name); /* < 24, checked */
			rc = add_root(out, path);
		}
	if (d)
		closedir(d);
	return rc;
}

int vl_state_use_root(const char *root, char *user, size_t len)
{
	static char saved[sizeof(self.root)];
	struct passwd *pw;
	struct stat st;

	decide();
	if (!saved[0])
		snprintf(saved, sizeof(saved), "%s", self.root);
	if (!root) {
		snprintf(self.root, sizeof(self.root), "%s", saved);
		return 0;
	}
	if (strlen(root) > ROOT_MAX || lstat(root, &st) || !S_ISDIR(st.st_mode))
		return -EINVAL;
	snprintf(self.root, sizeof(self.root), "%s", root);
	pw = getpwuid(st.st_uid);
	if (pw)
		snprintf(user, len, "%s", pw->pw_name);
	else
		snprintf(user, len, "%u", (unsigned)st.st_uid);
	return 0;
}
