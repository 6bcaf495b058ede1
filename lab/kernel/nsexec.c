// SPDX-License-Identifier: MIT
/*
 * Entering a named namespace to run a command there, as `ip netns exec` does
 * (iproute2 lib/namespace.c netns_switch): the network namespace, then a
 * private mount namespace in which /sys is the namespace's own sysfs (not the
 * host's, where a write would change a host device) and the files of
 * /etc/netns/<name>/ are bind-mounted over those of /etc.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "vnetlab/netns.h"

#define ETC_NETNS "/etc/netns"

static int bind_etc(const char *name, char *why, size_t why_len)
{
	char dir[PATH_MAX], from[PATH_MAX + 256], to[300];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/%s", ETC_NETNS, name);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(from, sizeof(from), "%s/%s", dir, de->d_name);
		snprintf(to, sizeof(to), "/etc/%s", de->d_name);
		if (mount(from, to, "none", MS_BIND, NULL) < 0) {
			rc = -errno;
			snprintf(why, why_len, "bind %s on %s: %s", from, to, strerror(errno));
		}
	}
	closedir(d);
	return rc;
}

int vl_netns_exec_enter(const char *name, char *why, size_t why_len)
{
	unsigned long flags = 0;
	struct statvfs sv;
	int fd, saved, rc;

	rc = vl_netns_open(name, &fd);
	if (!rc)
		rc = vl_netns_enter(fd, &saved);
	if (rc) {
		snprintf(why, why_len, "%s: %s", name, strerror(-rc));
		return rc;
	}
	close(fd);
	close(saved);
	if (unshare(CLONE_NEWNS) < 0) {
		rc = -errno;
		snprintf(why, why_len, "unshare the mount namespace: %s", strerror(errno));
		return rc;
	}
	/* nothing done below may reach the host's mounts */
	if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) < 0) {
		rc = -errno;
		snprintf(why, why_len, "make / a slave mount: %s", strerror(errno));
		return rc;
	}
	if (statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY))
		flags = MS_RDONLY;
	if (umount2("/sys", MNT_DETACH) < 0 && errno != EINVAL) {
		rc = -errno;
		snprintf(why, why_len, "unmount the host's /sys: %s", strerror(errno));
		return rc;
	}
	/* sysfs shows the network devices of the namespace that mounts it */
	if (mount(name, "/sys", "sysfs", flags, NULL) < 0) {
		rc = -errno;
		snprintf(why, why_len, "mount /sys for %s: %s", name, strerror(errno));
		return rc;
	}
	return bind_etc(name, why, why_len);
}
