// SPDX-License-Identifier: MIT
/*
 * The agent's life: started by a double fork, stopped by pidfd. agent.pid is
 * created by the starter and locked (POSIX write lock) by the agent as its first
 * act, so the kernel says whether an agent of the lab may run and which pid it
 * is; the pid and start time written there must match before anything is signalled.
 * A stopper that gets the lock unlinks the file while holding it: an agent still
 * on its way up then finds it gone (ESTALE) and exits without touching the lab.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "life.h"
#include "vnetlab/agent.h"

#define START_WAIT_MS 10000
#define TERM_WAIT_MS 2000
#define KILL_WAIT_MS 2000

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int vl_proc_start_time(pid_t pid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -EIO;
	if (p[2] == 'Z' || p[2] == 'X')
		return -ESRCH;
	p += 2; /* fields 3.. follow ") "; the start time is field 22 */
	for (int i = 3; i < 22; i++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

int vl_agent_claim_pidfile(const char *path, int *fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	unsigned long long start = 0;
	struct stat st;
	char buf[64];
	int n, rc;

	*fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (*fd < 0)
		return errno == ENOENT ? -ESTALE : -errno;
	if (fcntl(*fd, F_SETLK, &fl) < 0) {
		rc = errno == EAGAIN || errno == EACCES ? -EEXIST : -errno;
		goto fail;
	}
	if (fstat(*fd, &st) < 0 || st.st_nlink == 0) {
		rc = -ESTALE;
		goto fail;
	}
	rc = vl_proc_start_time(getpid(), &start);
	if (rc < 0)
		goto fail;
	n = snprintf(buf, sizeof(buf), "%d %llu\n", (int)getpid(), start);
	if (ftruncate(*fd, 0) < 0 || pwrite(*fd, buf, (size_t)n, 0) != n || fsync(*fd) < 0) {
		rc = -EIO;
		goto fail;
	}
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return rc;
}

static void pidfile_path(char *buf, size_t len, const char *dir)
{
	snprintf(buf, len, "%s/agent.pid", dir);
}

/* The pid holding fd's lock, 0 when nobody does, or -errno. */
static pid_t lock_holder(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fcntl(fd, F_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

bool vl_agent_running(const char *dir)
{
	char path[4096];
	int fd = -1;
	pid_t holder;

	pidfile_path(path, sizeof(path), dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	holder = lock_holder(fd);
	close(fd);
	return holder > 0;
}

static int wait_exit(int pidfd, int ms)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	int64_t deadline = now_ms() + ms;

	for (;;) {
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int read_record(int fd, pid_t *pid, unsigned long long *start)
{
	char buf[64];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return vl_agent_parse_pidfile(buf, pid, start);
}

static bool named_agent(pid_t pid)
{
	char path[64], comm[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	return !strcmp(comm, "vnetlab-agent\n");
}

/* SIGTERM by pidfd, SIGKILL if it outlives the wait; only once pid and start time match. */
static int stop_pid(pid_t holder, unsigned long long want)
{
	unsigned long long start = 0;
	int pidfd, rc;

	pidfd = pidfd_open(holder, 0);
	if (pidfd < 0)
		return errno == ESRCH ? 0 : -errno;
	rc = vl_proc_start_time(holder, &start);
	if (rc == -ESRCH) {
		close(pidfd);
		return 0;
	}
	if (rc || start != want) {
		close(pidfd);
		return -ESRCH;
	}
	rc = 0;
	if (pidfd_send_signal(pidfd, SIGTERM, NULL, 0) < 0 && errno != ESRCH)
		rc = -errno;
	else if (wait_exit(pidfd, TERM_WAIT_MS) == 0)
		rc = 0;
	else if (pidfd_send_signal(pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		rc = -errno;
	else
		rc = wait_exit(pidfd, KILL_WAIT_MS) == 0 ? 0 : -EBUSY;
	close(pidfd);
	return rc;
}

/*
 * Stop the process holding the pid file's lock, but only when it is the agent the
 * file records (same pid, same start time): a pidfd taken after that check cannot
 * be a recycled pid.
 */
static int stop_holder(int fd, pid_t holder)
{
	unsigned long long want = 0;
	pid_t pid = 0;
	int rc = -EINVAL;

	/* the agent writes its record right after locking: give it a moment */
	for (int i = 0; i < 100; i++) {
		rc = read_record(fd, &pid, &want);
		if (!rc && pid == holder)
			break;
		usleep(2000);
	}
	if (rc || pid != holder)
		return -ESRCH;
	return stop_pid(holder, want);
}

/*
 * An agent started by a vnetlab from before the lock (it wrote its record at the end of its
 * start-up and holds no lock): stopped when the record's pid, start time and name match.
 */
static int stop_unlocked(int fd)
{
	unsigned long long want = 0, start = 0;
	pid_t pid = 0;

	if (read_record(fd, &pid, &want) || vl_proc_start_time(pid, &start) || start != want ||
	    !named_agent(pid))
		return 0;
	return stop_pid(pid, want);
}

int vl_agent_pidfd(const char *dir, int *pidfd)
{
	unsigned long long want = 0, start = 0;
	char path[4096];
	pid_t holder, pid = 0;
	int fd, rc = -ESRCH;

	pidfile_path(path, sizeof(path), dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	holder = lock_holder(fd);
	if (holder <= 0) {
		close(fd);
		return holder < 0 ? holder : -ESRCH;
	}
	for (int i = 0; i < 100; i++) {
		rc = read_record(fd, &pid, &want);
		if (!rc && pid == holder)
			break;
		usleep(2000);
	}
	close(fd);
	if (rc || pid != holder)
		return -ESRCH;
	*pidfd = pidfd_open(holder, 0);
	if (*pidfd < 0)
		return -ESRCH;
	/* checked after the pidfd is open: it cannot name a recycled pid */
	if (vl_proc_start_time(holder, &start) || start != want) {
		close(*pidfd);
		*pidfd = -1;
		return -ESRCH;
	}
	return 0;
}

int vl_agent_stop(const char *dir)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[4096];
	int fd, rc = -EBUSY;

	pidfile_path(path, sizeof(path), dir);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int round = 0; round < 3; round++) {
		pid_t holder;

		if (fcntl(fd, F_SETLK, &fl) == 0) {
			rc = stop_unlocked(fd);
			if (rc)
				break;
			/* no agent holds it, and none can take it once it is unlinked */
			unlink(path);
			snprintf(path, sizeof(path), "%s/agent.sock", dir);
			unlink(path);
			close(fd);
			return 0;
		}
		if (errno != EAGAIN && errno != EACCES) {
			rc = -errno;
			break;
		}
		holder = lock_holder(fd);
		if (holder < 0) {
			rc = holder;
			break;
		}
		if (holder > 0) {
			rc = stop_holder(fd, holder);
			if (rc)
				break;
		}
		rc = -EBUSY;
	}
	close(fd);
	return rc;
}

int vl_agent_start(const struct vl_lab *lab, const char *dir, char *why, size_t why_len)
{
	char buf[1024], path[4096];
	size_t have = 0;
	int64_t deadline;
	pid_t pid;
	int pfd[2], status, fd, err = 0;

	snprintf(why, why_len, "%s", "");
	if (vl_agent_running(dir)) {
		snprintf(why, why_len, "an agent already runs for this lab");
		return -EEXIST;
	}
	pidfile_path(path, sizeof(path), dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "%.300s: %s", path, strerror(errno));
		return err;
	}
	close(fd);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (pid == 0) {
		close(pfd[0]);
		setsid();
		if (fork() != 0)
			_exit(0);
		/* drop every descriptor of the caller (netlink sockets, test pipes) but the pipe */
		if (pfd[1] > 3)
			close_range(3, (unsigned)pfd[1] - 1, 0);
		close_range((unsigned)pfd[1] + 1, ~0U, 0);
		if (chdir("/") < 0) {
			/* harmless: every path we use is absolute */
		}
		umask(077);
		vl_agent_main(lab, dir, pfd[1]);
	}
	close(pfd[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	deadline = now_ms() + START_WAIT_MS;
	for (;;) {
		struct pollfd p = {.fd = pfd[0], .events = POLLIN};
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			err = -ETIMEDOUT;
			break;
		}
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		n = read(pfd[0], buf + have, sizeof(buf) - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		if (have == sizeof(buf) - 1)
			break;
	}
	close(pfd[0]);
	buf[have] = '\0';

	for (char *line = buf, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		*nl = '\0';
		if (!strcmp(line, "OK")) {
			return 0;
		} else if (line[0] == 'E') {
			char *sp = strchr(line, ' ');

			snprintf(why, why_len, "agent: %s", sp ? sp + 1 : line);
			return -(atoi(line + 1) ?: EIO);
		}
	}
	if (err == -ETIMEDOUT) {
		snprintf(why, why_len, "agent not ready after %d ms (see %s/agent.log)", START_WAIT_MS, dir);
		vl_agent_stop(dir);
		return err;
	}
	snprintf(why, why_len, "agent exited during startup (see %s/agent.log)", dir);
	return err ?: -EIO;
}
