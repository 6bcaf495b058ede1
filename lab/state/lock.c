// SPDX-License-Identifier: MIT
/*
 * The per-lab lock: an flock on /run/vnetlab/.<lab>.lock (0600 in a 0700
 * directory, so only root can take it). Waiting is bounded and interruptible,
 * and the holder writes who it is into the file so that a waiter that gives up
 * can say whom it waited for.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "state-int.h"
#include "vnetlab/state.h"

#define LOCK_POLL_MS 20

static void lock_path(char *buf, size_t len, const char *lab)
{
	snprintf(buf, len, "%s/.%s.lock", vl_state_root(), lab);
}

/* VNETLAB_LOCK_TIMEOUT (seconds, decimals allowed) or VL_LOCK_TIMEOUT_MS. */
static long timeout_ms(void)
{
	const char *v = getenv("VNETLAB_LOCK_TIMEOUT");
	char *end;
	double s;

	if (!v || !*v)
		return VL_LOCK_TIMEOUT_MS;
	s = strtod(v, &end);
	if (*end || s < 0 || s > 86400)
		return VL_LOCK_TIMEOUT_MS;
	return (long)(s * 1000);
}

static bool stop_pending(void)
{
	sigset_t pending;

	sigpending(&pending);
	return sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM) ||
	       sigismember(&pending, SIGHUP);
}

/* "pid 123 (vnetlab nsg rule set …)": printable, bounded. */
static void describe_self(char *buf, size_t len)
{
	char cmd[256] = "";
	ssize_t n = 0;
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
	}
	for (ssize_t i = 0; i < n; i++)
		if ((unsigned char)cmd[i] < 0x20 || (unsigned char)cmd[i] >= 0x7f)
			cmd[i] = cmd[i] ? '?' : ' ';
	cmd[n > 0 ? n : 0] = '\0';
	while (n > 0 && cmd[n - 1] == ' ')
		cmd[--n] = '\0';
	snprintf(buf, len, "pid %d (%s)\n", (int)getpid(), cmd);
}

static void holder_of(int fd, char *buf, size_t len)
{
	ssize_t n = pread(fd, buf, len - 1, 0);
	size_t i;

	buf[n > 0 ? n : 0] = '\0';
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || (unsigned char)buf[i] >= 0x7f)
			break;
	buf[i] = '\0';
	if (!buf[0])
		snprintf(buf, len, "an unknown process");
}

/*
 * The lock file goes away with its lab (vl_state_unlock), so a waiter may get
 * a lock on a file that was just unlinked: it then tries again.
 */
int vl_state_lock(const char *lab, int *fd, struct vl_error *err)
{
	struct timespec start, now;
	struct stat held, cur;
	char path[256], who[300];
	long limit = timeout_ms(), waited;
	int rc;

	*fd = -1;
	if (!vl_lab_name_ok(lab)) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0},
			     "invalid lab name: 1-%d characters of a-z and 0-9", VL_LAB_NAME_MAX);
		return -EINVAL;
	}
	rc = vl_state_root_ready();
	if (rc) {
		char why[512];

		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "state directory: %s",
			     vl_state_root_problem(rc, why, sizeof(why)));
		return rc;
	}
	lock_path(path, sizeof(path), lab);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (*fd < 0) {
			rc = -errno;
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "%s: %s", path, strerror(errno));
			return rc;
		}
		while (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
			struct timespec ts = {0, LOCK_POLL_MS * 1000000L};

			if (errno != EWOULDBLOCK && errno != EINTR) {
				rc = -errno;
				vl_error_set(err, NULL, (struct vl_loc){0, 0}, "locking %s: %s", path,
					     strerror(errno));
				goto fail;
			}
			clock_gettime(CLOCK_MONOTONIC, &now);
			waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
			if (stop_pending() || (nanosleep(&ts, NULL) < 0 && errno == EINTR)) {
				holder_of(*fd, who, sizeof(who));
				vl_error_set(err, NULL, (struct vl_loc){0, 0},
					     "interrupted while waiting for lab '%s', locked by %s", lab,
					     who);
				rc = -EINTR;
				goto fail;
			}
			if (waited >= limit) {
				holder_of(*fd, who, sizeof(who));
				vl_error_set(err, NULL, (struct vl_loc){0, 0},
					     "lab '%s' is locked by %s; gave up after %.1f s (%s; "
					     "VNETLAB_LOCK_TIMEOUT sets the wait)",
					     lab, who, (double)waited / 1000, path);
				rc = -ETIMEDOUT;
				goto fail;
			}
		}
		if (!fstat(*fd, &held) && !stat(path, &cur) && held.st_dev == cur.st_dev &&
		    held.st_ino == cur.st_ino)
			break;
		close(*fd);
	}
	describe_self(who, sizeof(who));
	if (ftruncate(*fd, 0) == 0 && pwrite(*fd, who, strlen(who), 0) < 0) {
		/* the record only names us to waiters */
	}
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return rc;
}

void vl_state_unlock(const char *lab, int fd)
{
	char path[256];

	if (fd < 0)
		return;
	if (ftruncate(fd, 0) < 0) {
		/* a stale record names a process that is gone: harmless */
	}
	if (!vl_state_exists(lab)) {
		lock_path(path, sizeof(path), lab);
		unlink(path);
	}
	close(fd);
}
