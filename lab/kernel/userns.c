// SPDX-License-Identifier: MIT
/*
 * The user and mount namespaces of a rootless lab, and a network namespace to come back to
 * (the host's belongs to the initial user namespace: setns() back into it is refused, so the
 * lab's processes stand in an empty one of their own). Made with unshare() by the process that
 * brings the lab up (its agent, forked later, inherits them and keeps them alive); joined by
 * setns() on the agent's pidfd. Inside, /run/netns is a private tmpfs, so the named
 * namespaces of the lab are seen by the lab's processes only and the host's /run/netns is
 * never touched; when the last process of the user namespace ends, everything goes with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetlab/netns.h"
#include "vnetlab/rootless.h"

static int read_int(const char *procsys, const char *key, long *v)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", procsys, key);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*v = strtol(buf, NULL, 10);
	return 0;
}

bool vl_userns_forbidden(const char *procsys, char *buf, size_t len)
{
	static const struct {
		const char *key, *name;
		long bad;
		const char *fix;
	} knobs[] = {
	    {"kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone", 0,
	     "sysctl -w kernel.unprivileged_userns_clone=1"},
	    {"user/max_user_namespaces", "user.max_user_namespaces", 0,
	     "sysctl -w user.max_user_namespaces=10000"},
	    {"kernel/apparmor_restrict_unprivileged_userns", "kernel.apparmor_restrict_unprivileged_userns",
	     1,
	     "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile allowing "
	     "userns "
	     "for vnetlab"},
	};
	long v;

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (!read_int(procsys, knobs[i].key, &v) && v == knobs[i].bad) {
			snprintf(
			    buf, len,
			    "this host forbids unprivileged user namespaces (%s = %ld), which rootless labs "
			    "need; an administrator can allow them (%s) or you can run vnetlab with sudo",
			    knobs[i].name, v, knobs[i].fix);
			return true;
		}
	return false;
}

static int write_proc(const char *path, const char *text, char *why, size_t why_len)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		rc = -errno ?: -EIO;
	if (fd >= 0)
		close(fd);
	if (rc)
		snprintf(why, why_len, "writing %s: %s", path, strerror(-rc));
	return rc;
}

/* Back to the directory we stood in: setns(CLONE_NEWNS) moved us to the new root. */
static void back_to(const char *cwd)
{
	if (cwd[0] && chdir(cwd) < 0 && chdir("/") < 0) {
		/* harmless: "/" always exists */
	}
}

/*
 * /run/netns exists on most hosts (iproute2 makes it); cover it. When it does not, cover
 * /run and make it there, then put keep (the state root, if under /run) back in place.
 */
static int cover_netns_dir(const char *keep, char *why, size_t why_len)
{
	char path[PATH_MAX], fdpath[64];
	struct stat st;
	int fd = -1, rc = 0;

	if (mount("none", VL_NETNS_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") == 0)
		return 0;
	if (errno != ENOENT) {
		rc = -errno;
		snprintf(why, why_len, "mounting a tmpfs on %s: %s", VL_NETNS_DIR, strerror(errno));
		return rc;
	}
	if (keep && !strncmp(keep, "/run/", 5)) {
		fd = open(keep, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			rc = -errno;
			snprintf(why, why_len, "%s: %s", keep, strerror(errno));
			return rc;
		}
	}
	if (mount("none", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
		rc = -errno;
		snprintf(why, why_len, "mounting a tmpfs on /run: %s", strerror(errno));
		goto out;
	}
	if (mkdir(VL_NETNS_DIR, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(why, why_len, "mkdir %s: %s", VL_NETNS_DIR, strerror(errno));
		goto out;
	}
	if (fd >= 0) {
		/* every component of keep below /run, then keep itself bound over the last one */
		snprintf(path, sizeof(path), "%s", keep);
		for (char *p = path + 5; (p = strchr(p, '/')); p++) {
			*p = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST)
				break;
			*p = '/';
		}
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			rc = -errno;
		} else {
			snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fd);
			if (stat(fdpath, &st) < 0 || mount(fdpath, path, "none", MS_BIND, NULL) < 0)
				rc = -errno;
		}
		if (rc)
			snprintf(why, why_len, "putting %s back over the new /run: %s", keep, strerror(-rc));
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int vl_userns_create(uid_t uid, gid_t gid, const char *keep, char *why, size_t why_len)
{
	char map[64], cwd[PATH_MAX] = "";
	int rc;

	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) < 0) {
		rc = -errno;
		if (!vl_userns_forbidden("/proc/sys", why, why_len))
			snprintf(why, why_len, "cannot create a user namespace: %s", strerror(-rc));
		return rc;
	}
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
	rc = write_proc("/proc/self/uid_map", map, why, why_len);
	if (!rc)
		rc = write_proc("/proc/self/setgroups", "deny", why, why_len);
	snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
	if (!rc)
		rc = write_proc("/proc/self/gid_map", map, why, why_len);
	if (rc)
		return rc;
	/* nothing mounted here may reach the host, and nothing of the host's later mounts here */
	if (mount("", "/", "none", MS_PRIVATE | MS_REC, NULL) < 0) {
		rc = -errno;
		snprintf(why, why_len, "making / private: %s", strerror(errno));
		return rc;
	}
	rc = cover_netns_dir(keep, why, why_len);
	if (!rc)
		back_to(cwd);
	return rc;
}

int vl_userns_join(int pidfd, char *why, size_t why_len)
{
	char cwd[PATH_MAX] = "";

	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	/* EINVAL: already in that user namespace (a vnetlab run from inside the lab): the rest only */
	if (setns(pidfd, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) < 0 &&
	    (errno != EINVAL || setns(pidfd, CLONE_NEWNS | CLONE_NEWNET) < 0)) {
		int rc = -errno;

		snprintf(why, why_len, "joining the lab's user, mount and network namespaces: %s",
			 strerror(errno));
		return rc;
	}
	back_to(cwd);
	return 0;
}
