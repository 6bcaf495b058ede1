// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel.h"
#include "vnetlab/netns.h"

/* The thread's own namespace: the process may have other threads elsewhere. */
#define SELF_NET "/proc/thread-self/ns/net"

static bool run_dir_ready;

static int ns_path(char *buf, size_t len, const char *name)
{
	if (!name || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", VL_NETNS_DIR, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * As iproute2 does: /run/netns must be a shared mount so that namespace
 * files bind-mounted into it propagate to every mount namespace. If it is
 * not a mount point yet, MS_SHARED fails with EINVAL: bind it onto itself.
 */
int vl_netns_prepare(void)
{
	bool bound = false;

	if (run_dir_ready)
		return 0;
	if (mkdir(VL_NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	while (mount("", VL_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || bound)
			return -errno;
		if (mount(VL_NETNS_DIR, VL_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -errno;
		bound = true;
	}
	run_dir_ready = true;
	return 0;
}

int vl_netns_create_with(const char *name, int *fd, int (*inside)(void *arg), void *arg)
{
	char path[PATH_MAX];
	int saved = -1, nsfd = -1, ret;
	bool mounted = false;

	ret = ns_path(path, sizeof(path), name);
	if (ret < 0)
		return ret;
	ret = vl_netns_prepare();
	if (ret < 0)
		return ret;
	saved = open(SELF_NET, O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		return -errno;
	ret = vlk_netns_mount_point(path);
	if (ret < 0) {
		close(saved);
		return ret;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		ret = -errno;
		goto fail;
	}
	nsfd = open(SELF_NET, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		ret = -errno;
		goto fail_back;
	}
	if (mount(SELF_NET, path, "none", MS_BIND, NULL) < 0) {
		ret = -errno;
		goto fail_back;
	}
	mounted = true;
	if (inside) {
		ret = inside(arg);
		if (ret < 0)
			goto fail_back;
	}
	if (setns(saved, CLONE_NEWNET) < 0) {
		/* Stuck in the new namespace: nothing sane to roll back to. */
		ret = -errno;
		goto fail;
	}
	close(saved);
	if (fd)
		*fd = nsfd;
	else
		close(nsfd);
	return 0;

fail_back:
	setns(saved, CLONE_NEWNET);
fail:
	if (nsfd >= 0)
		close(nsfd);
	if (mounted)
		umount2(path, MNT_DETACH);
	unlink(path);
	close(saved);
	return ret;
}

int vl_netns_create(const char *name, int *fd)
{
	return vl_netns_create_with(name, fd, NULL, NULL);
}

int vl_netns_open(const char *name, int *fd)
{
	char path[PATH_MAX];
	int ret = ns_path(path, sizeof(path), name);

	if (ret < 0)
		return ret;
	ret = open(path, O_RDONLY | O_CLOEXEC);
	if (ret < 0)
		return -errno;
	*fd = ret;
	return 0;
}

int vl_netns_delete(const char *name)
{
	char path[PATH_MAX];
	int ret = ns_path(path, sizeof(path), name);

	if (ret < 0)
		return ret;
	/* EINVAL: not a mount point (a half-made entry); still unlink it. */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int vl_netns_enter(int nsfd, int *saved)
{
	int s = open(SELF_NET, O_RDONLY | O_CLOEXEC);

	if (s < 0)
		return -errno;
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		int ret = -errno;

		close(s);
		return ret;
	}
	*saved = s;
	return 0;
}

int vl_netns_enter_name(const char *name, int *saved)
{
	int nsfd, err = vl_netns_open(name, &nsfd);

	if (err < 0)
		return err;
	err = vl_netns_enter(nsfd, saved);
	close(nsfd);
	return err;
}

int vl_netns_leave(int saved)
{
	int ret = 0;

	if (setns(saved, CLONE_NEWNET) < 0)
		ret = -errno;
	close(saved);
	return ret;
}

int vl_netns_sysctl(int nsfd, const char *key, const char *value)
{
	char path[PATH_MAX];
	size_t len = strlen(value);
	int saved, f, ret;

	if (strstr(key, ".."))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "/proc/sys/%s", key) >= sizeof(path))
		return -ENAMETOOLONG;
	ret = vl_netns_enter(nsfd, &saved);
	if (ret < 0)
		return ret;
	/* /proc/sys/net belongs to the namespace we were in at open time. */
	f = open(path, O_WRONLY | O_CLOEXEC);
	ret = f < 0 ? -errno : 0;
	if (vl_netns_leave(saved) < 0 && !ret)
		ret = -EIO;
	if (f < 0)
		return ret;
	if (ret == 0) {
		ssize_t n = write(f, value, len);

		if (n < 0)
			ret = -errno;
		else if ((size_t)n != len)
			ret = -EIO;
	}
	close(f);
	return ret;
}
