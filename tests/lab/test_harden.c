// SPDX-License-Identifier: MIT
/*
 * Hardening through the CLI (root): the agent's life, the state's privacy and
 * locking, lab names, edits and imports. Each test uses the suite's lab
 * (hd<pid>) and .fini removes it, its namespaces, its agents and its files.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/helpers.h"
#include "vnetlab/agent.h"
#include "vnetlab/state.h"

#define MAX_PATHS 16

static char *paths[MAX_PATHS];
static int n_paths;

static const char *remember(char *path)
{
	cr_assert_lt(n_paths, MAX_PATHS);
	paths[n_paths++] = path;
	return path;
}

static char *vl(int *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *vl(int *st, const char *fmt, ...)
{
	char args[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return th_run(st, "%s %s 2>&1", th_vnetlab(), args);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Live (not zombie) vnetlab-agent processes whose command line names file. */
static int agents_of(const char *file, pid_t *pids, int max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		char path[300], buf[4096];
		ssize_t len;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		if (!strstr(buf, "(vnetlab-agent) ") || strstr(buf, ") Z ") || strstr(buf, ") X "))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		for (ssize_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len] = '\0';
		if (strstr(buf, file) && n < max)
			pids[n++] = atoi(de->d_name);
	}
	closedir(d);
	return n;
}

static void teardown(void);

static void setup(void)
{
	if (!th_is_root())
		cr_skip_test("needs root");
	n_paths = 0;
	th_skip_cleanup = teardown; /* a skipped test's .fini does not run */
}

static void teardown(void)
{
	pid_t pids[16];
	char name[16];
	int n;

	snprintf(name, sizeof(name), "%s", th_lab.name);
	if (th_lab.file) {
		/* agents this test started and the CLI could not stop: ours, by pid */
		n = agents_of(th_lab.file, pids, 16);
		for (int i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
	}
	th_lab_down();
	if (name[0]) {
		free(th_run(NULL,
			    "for n in $(ls /run/netns 2>/dev/null | grep '^vl-%s-'); do ip netns del $n; done;"
			    " rm -rf /run/vnetlab/%s /run/vnetlab/.%s.lock",
			    name, name, name));
	}
	for (int i = 0; i < n_paths; i++) {
		if (paths[i])
			free(th_run(NULL, "rm -rf '%s'", paths[i]));
		free(paths[i]);
	}
	n_paths = 0;
}

TestSuite(harden, .init = setup, .fini = teardown, .timeout = 240);

#define SUBNET_VMS                                                                                         \
	"vnets:\n"                                                                                         \
	"  - name: v\n"                                                                                    \
	"    addressSpace: [10.62.0.0/16]\n"                                                               \
	"    subnets:\n"                                                                                   \
	"      - name: vms\n"                                                                              \
	"        addressPrefix: 10.62.0.0/20\n"                                                            \
	"vms:\n"

/* n VMs serving hello on port 80. */
static char *many_apps(int n)
{
	size_t cap = 64 + (size_t)n * 80, len;
	char *buf = malloc(cap);

	cr_assert_not_null(buf);
	len = (size_t)snprintf(buf, cap, "%s", SUBNET_VMS);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"  - name: w%d\n    subnet: vms\n    app: hello\n    ports: [80]\n", i);
	return buf;
}

static pid_t spawn_up(const char *file)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(th_vnetlab(), th_vnetlab(), "up", file, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Finding 1: SIGKILL `up` while its agent starts; `down` must not say "down" while that agent runs. */
Test(harden, killed_up_leaves_no_agent_behind)
{
	char *body = many_apps(300);
	int seen = 0;

	th_lab_write("hd", body);
	free(body);
	for (int round = 0; round < 5; round++) {
		pid_t up = spawn_up(th_lab.file), pids[4];
		int st, n = 0;
		char *out;

		for (int i = 0; i < 20000 && !n; i++) {
			n = agents_of(th_lab.file, pids, 4);
			if (!n) {
				if (waitpid(up, &st, WNOHANG) == up) {
					up = 0;
					break;
				}
				sleep_ms(1);
			}
		}
		if (up) {
			kill(up, SIGKILL);
			waitpid(up, &st, 0);
		}
		seen += n > 0;
		out = vl(&st, "down %s", th_lab.name);
		n = agents_of(th_lab.file, pids, 4);
		cr_assert(st != 0 || n == 0, "round %d: down said '%s' but agent %d of the lab still runs", round,
			  out, n ? pids[0] : 0);
		cr_assert_eq(st, 0, "round %d: down: %s", round, out);
		free(out);
	}
	cr_assert_gt(seen, 0, "never caught the agent starting");
}

#define SMALL                                                                                              \
	SUBNET_VMS                                                                                         \
	"  - name: a\n"                                                                                    \
	"    subnet: vms\n"                                                                                \
	"    app: hello\n"                                                                                 \
	"    ports: [80]\n"                                                                                \
	"  - name: b\n"                                                                                    \
	"    subnet: vms\n"

static void assert_private(const char *path)
{
	struct stat st;

	cr_assert_eq(lstat(path, &st), 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(st.st_uid, 0, "%s is not root's", path);
	cr_assert_eq(st.st_mode & 077, 0, "%s is mode %o: readable by others", path, st.st_mode & 0777);
}

/* Open path as nobody; the errno it got (0 if it opened). */
static int open_as_nobody(const char *path)
{
	pid_t pid = fork();
	int st;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(200);
		_exit(open(path, O_RDONLY) < 0 ? errno : 0);
	}
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) != 200);
	return WEXITSTATUS(st);
}

/* Finding 4: state is root's alone (0700 directories, 0600 files); nobody can open the lock. */
Test(harden, state_is_private_to_root)
{
	char dir[128], path[512], *out;
	struct dirent *de;
	int st;
	DIR *d;

	th_skip_rootless("checks root's ownership; test_rootless checks the user's private directory");
	th_lab_up("hd", SMALL);
	chmod(th_lab.file, 0600);
	assert_private(th_state_root());
	snprintf(dir, sizeof(dir), "%s/%s", th_state_root(), th_lab.name);
	assert_private(dir);
	d = opendir(dir);
	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			assert_private(path);
		}
	closedir(d);
	snprintf(path, sizeof(path), "%s/.%s.lock", th_state_root(), th_lab.name);
	out = vl(&st, "nsg show %s x 2>&1 >/dev/null; true", th_lab.name); /* takes no lock: fine */
	free(out);
	cr_assert_neq(open_as_nobody(path), 0, "nobody opened %s", path);
	snprintf(path, sizeof(path), "%s/topology", dir);
	cr_assert_neq(open_as_nobody(path), 0, "nobody read %s", path);
}

static int wait_for(pid_t pid, int ms)
{
	int st;

	for (int i = 0; i < ms / 10; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

/* Finding 4: a waiter for a held lock gives up in time naming the holder, and dies of SIGTERM. */
Test(harden, lock_wait_is_bounded_named_and_interruptible)
{
	struct vl_error err = {0};
	struct timespec t0, t1;
	char *out, needle[64];
	int fd, st;
	pid_t up;

	th_lab_up("hd", SMALL);
	cr_assert_eq(vl_state_lock(th_lab.name, &fd, &err), 0, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out = th_run(&st, "VNETLAB_LOCK_TIMEOUT=0.5 timeout 10 %s nsg rule set %s nsg r --priority 200 2>&1",
		     th_vnetlab(), th_lab.name);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	snprintf(needle, sizeof(needle), "locked by pid %d", getpid());
	cr_expect_eq(st, 1, "exit %d: %s", st, out);
	cr_expect_not_null(strstr(out, needle), "no holder named: %s", out);
	cr_expect_lt(t1.tv_sec - t0.tv_sec, 5, "waited %ld s", (long)(t1.tv_sec - t0.tv_sec));
	free(out);

	up = spawn_up(th_lab.file); /* the lab is up: it waits for the lock first */
	sleep_ms(300);
	kill(up, SIGTERM);
	st = wait_for(up, 3000);
	vl_state_unlock(th_lab.name, fd);
	cr_assert_neq(st, -1, "a blocked up ignored SIGTERM");
}

/* A process of ours to act as the "unrelated process" a planted pid file names. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "60", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static unsigned long long start_time(pid_t pid)
{
	char *out = th_run(NULL, "awk '{print $22}' /proc/%d/stat", (int)pid);
	unsigned long long v = strtoull(out, NULL, 10);

	free(out);
	return v;
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* Finding 7: a lab name with a path in it is refused by every verb; nothing planted is acted on. */
Test(harden, lab_names_checked_planted_state_untouched)
{
	static const char *const verbs[][2] = {{"down", ""},
						{"show", ""},
						{"exec", "a -- true"},
						{"probe", "a b:80"},
						{"nsg rule set", "n r --priority 300"},
						{"nsg show", "n"},
						{"check", ""},
						{"explain", "a b:80"}};
	char dir[128], decoy[32], cmd[256], *out, *ns;
	pid_t victim;
	FILE *f;
	int st;

	th_skip_rootless("plants a namespace in the host's /run/netns (root's)");
	victim = spawn_sleeper(); /* after the skip: a skipped test would leave it sleeping */
	th_lab_write("hd", SMALL);
	snprintf(decoy, sizeof(decoy), "%sdecoy", th_lab.name);
	snprintf(dir, sizeof(dir), "/tmp/%s-planted", th_lab.name);
	remember(strdup(dir));
	free(th_run(NULL, "mkdir -p %s/x && chmod 1777 %s && ip netns add %s", dir, dir, decoy));
	snprintf(cmd, sizeof(cmd), "%s/x/namespaces", dir);
	f = fopen(cmd, "w");
	fprintf(f, "%s\n", decoy);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/x/agent.pid", dir);
	f = fopen(cmd, "w");
	fprintf(f, "%d %llu\n", (int)victim, start_time(victim));
	fclose(f);
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		char name[160], args[300];

		snprintf(name, sizeof(name), "./../..%s/x", dir);
		snprintf(args, sizeof(args), "%s %s %s", verbs[i][0], name, verbs[i][1]);
		out = vl(&st, "%s", args);
		cr_expect_neq(st, 0, "'%s' accepted the name: %s", args, out);
		cr_expect_not_null(strstr(out, "invalid lab name"), "'%s': %s", args, out);
		free(out);
	}
	ns = th_run(NULL, "ls /run/netns | grep -x %s", decoy);
	free(th_run(NULL, "ip netns del %s 2>/dev/null", decoy));
	cr_expect_neq(ns[0], '\0', "down deleted namespace %s, listed in a planted directory", decoy);
	free(ns);
	cr_expect(alive(victim), "the planted pid was killed");
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	snprintf(cmd, sizeof(cmd), "%s/x/namespaces", dir);
	cr_expect_eq(access(cmd, F_OK), 0, "the planted files were removed");
}

/* Finding 7: tampered state of a real lab: a foreign namespace line and a foreign pid are left alone. */
Test(harden, down_deletes_only_lab_names_and_signals_only_its_agent)
{
	char path[128], decoy[32], *out, *ns;
	pid_t victim;
	FILE *f;
	int st;

	th_skip_rootless("plants a namespace in the host's /run/netns (root's); a rootless lab never sees it (test_rootless checks that)");
	victim = spawn_sleeper(); /* after the skip: a skipped test would leave it sleeping */
	th_lab_up("hd", SMALL);
	snprintf(decoy, sizeof(decoy), "%sdecoy", th_lab.name);
	free(th_run(NULL, "ip netns add %s", decoy));
	snprintf(path, sizeof(path), "%s/%s/namespaces", th_state_root(), th_lab.name);
	f = fopen(path, "a");
	fprintf(f, "%s\n../../../tmp\n", decoy);
	fclose(f);
	/* the agent runs; stop it so that the pid file names only our victim, unlocked */
	free(th_run(NULL, "kill -9 $(cut -d' ' -f1 /run/vnetlab/%s/agent.pid)", th_lab.name));
	sleep_ms(100);
	snprintf(path, sizeof(path), "%s/%s/agent.pid", th_state_root(), th_lab.name);
	f = fopen(path, "w");
	fprintf(f, "%d %llu\n", (int)victim, start_time(victim));
	fclose(f);
	out = vl(&st, "down %s", th_lab.name);
	cr_expect_eq(st, 0, "down: %s", out);
	free(out);
	cr_expect(alive(victim), "down killed a process that is not the lab's agent");
	kill(victim, SIGKILL);
	waitpid(victim, NULL, 0);
	ns = th_run(NULL, "ls /run/netns | grep -x %s", decoy);
	free(th_run(NULL, "ip netns del %s 2>/dev/null", decoy));
	cr_expect_neq(ns[0], '\0', "down deleted namespace %s, not one of the lab's", decoy);
	free(ns);
}

#define EDIT_RACE                                                                                          \
	"vnets:\n"                                                                                         \
	"  - name: v\n"                                                                                    \
	"    addressSpace: [10.62.0.0/16]\n"                                                               \
	"    subnets:\n"                                                                                   \
	"      - name: vms\n"                                                                              \
	"        addressPrefix: 10.62.1.0/24\n"                                                            \
	"        networkSecurityGroup: nsg\n"                                                              \
	"networkSecurityGroups:\n"                                                                         \
	"  - name: nsg\n"                                                                                  \
	"    securityRules:\n"                                                                             \
	"      - {name: r, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"            \
	"         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"        \
	"         destinationPortRange: '80'}\n"                                                          \
	"vms:\n"                                                                                           \
	"  - {name: a, subnet: vms, app: hello, ports: [80]}\n"                                           \
	"  - {name: b, subnet: vms}\n"                                                                     \
	"scenario:\n"                                                                                      \
	"  - wait: 1500\n"                                                                                 \
	"  - set: {nsg: nsg, rule: r, priority: 200}\n"                                                    \
	"  - wait: 1500\n"

/* Finding 2: a `run` edit takes the lock and edits the lab as it is now, keeping a rule added meanwhile. */
Test(harden, run_edits_the_lab_as_it_is_now)
{
	char *out, *ruleset;
	int st;
	pid_t run;

	th_lab_write("hd", EDIT_RACE);
	run = fork();
	cr_assert_geq(run, 0);
	if (run == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(th_vnetlab(), th_vnetlab(), "run", th_lab.file, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && access(th_state_root(), F_OK) == 0; i++) {
		char p[128];

		snprintf(p, sizeof(p), "%s/%s/agent.sock", th_state_root(), th_lab.name);
		if (access(p, F_OK) == 0)
			break;
		sleep_ms(20);
	}
	out = vl(&st, "nsg rule add %s nsg added --priority 3000 --access Deny --direction Inbound "
		      "--protocol Udp --destination-port-ranges 4444",
		 th_lab.name);
	cr_assert_eq(st, 0, "add: %s", out);
	free(out);
	sleep_ms(2200); /* past run's edit, before its down */
	ruleset = th_run(NULL, "ip netns exec vl-%s-fabric.v nft list ruleset 2>&1", th_lab.name);
	out = vl(&st, "nsg show %s nsg", th_lab.name);
	waitpid(run, &st, 0);
	cr_expect_not_null(strstr(out, "added"), "nsg show lost the rule: %s", out);
	cr_expect_not_null(strstr(ruleset, "comment \"added\""), "the kernel lost the rule added meanwhile:\n%s", ruleset);
	free(out);
	free(ruleset);
}

#define IMPORTING                                                                                          \
	"vnets:\n"                                                                                         \
	"  - name: v\n"                                                                                    \
	"    addressSpace: [10.62.0.0/16]\n"                                                               \
	"    subnets:\n"                                                                                   \
	"      - name: vms\n"                                                                              \
	"        addressPrefix: 10.62.1.0/24\n"                                                            \
	"        networkSecurityGroup: nsg\n"                                                              \
	"networkSecurityGroups:\n"                                                                         \
	"  - name: nsg\n"                                                                                  \
	"    import: rules.json\n"                                                                         \
	"vms:\n"                                                                                           \
	"  - {name: a, subnet: vms}\n"                                                                     \
	"  - {name: b, subnet: vms, app: hello, ports: [80]}\n"

static void write_rules(const char *path, const char *name, const char *access)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f,
		"[{\"name\": \"%s\", \"priority\": 100, \"direction\": \"Inbound\", \"access\": \"%s\","
		" \"protocol\": \"Tcp\", \"sourceAddressPrefix\": \"*\", \"sourcePortRange\": \"*\","
		" \"destinationAddressPrefix\": \"*\", \"destinationPortRange\": \"80\"}]\n",
		name, access);
	fclose(f);
}

static void assert_lab_sees_import(const char *when)
{
	char *out;
	int st;

	out = vl(&st, "explain %s a b:80 -o json", th_lab.name);
	cr_expect_eq(st, 0, "%s: explain: %s", when, out);
	cr_expect_not_null(strstr(th_compact(out), "\"rule\":\"imp-deny\""), "%s: explain: %s", when, out);
	free(out);
	out = vl(&st, "show %s", th_lab.name);
	cr_expect_eq(st, 0, "%s: show: %s", when, out);
	free(out);
}

/* Finding 3: the lab keeps what it imported at up: editing, deleting or not finding the file changes nothing. */
Test(harden, imports_are_copied_into_the_state)
{
	char a[128], b[128], path[300], *text, *out;
	int st;

	th_lab_write("hd", IMPORTING);
	snprintf(a, sizeof(a), "/tmp/%s-imp-a", th_lab.name);
	snprintf(b, sizeof(b), "/tmp/%s-imp-b", th_lab.name);
	remember(strdup(a));
	remember(strdup(b));
	free(th_run(NULL, "mkdir -p %s %s && cp %s %s/topo.yaml && ln -s %s/topo.yaml %s/link.yaml", a, b,
		    th_lab.file, a, a, b));
	snprintf(path, sizeof(path), "%s/rules.json", a);
	write_rules(path, "imp-deny", "Deny");
	snprintf(path, sizeof(path), "%s/topo.yaml", a);
	out = vl(&st, "up %s", path);
	cr_assert_eq(st, 0, "up: %s", out);
	free(out);
	assert_lab_sees_import("after up");
	snprintf(path, sizeof(path), "%s/rules.json", a);
	write_rules(path, "changed", "Allow");
	assert_lab_sees_import("after the import was edited");
	unlink(path);
	assert_lab_sees_import("after the import was deleted");
	out = vl(&st, "nsg rule set %s nsg imp-deny --priority 110", th_lab.name);
	cr_expect_eq(st, 0, "edit: %s", out);
	free(out);
	free(vl(NULL, "down %s", th_lab.name));

	/* a symlinked topology whose relative import sits next to the link, not the target */
	snprintf(path, sizeof(path), "%s/rules.json", b);
	write_rules(path, "imp-deny", "Deny");
	snprintf(path, sizeof(path), "%s/link.yaml", b);
	out = vl(&st, "up %s", path);
	cr_assert_eq(st, 0, "up via symlink: %s", out);
	free(out);
	assert_lab_sees_import("up via a symlink");
	text = vl(&st, "down %s", th_lab.name);
	cr_expect_eq(st, 0, "%s", text);
	free(text);
}

static void append_text(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", th_state_root(), th_lab.name, name);
	f = fopen(path, "a");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static char *fabric_ruleset(void)
{
	return th_run(NULL, "ip netns exec vl-%s-fabric.v nft list ruleset 2>&1", th_lab.name);
}

/* Finding 8: a torn last record (a failed write) is cut off; an intent with no outcome is rolled forward. */
Test(harden, journal_survives_torn_records_and_interrupted_edits)
{
	char *out, *rs;
	int st;

	th_lab_up("hd", EDIT_RACE);
	out = vl(&st, "nsg rule set %s nsg r --priority 200", th_lab.name);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	append_text("edits", "intent\tset\tnsg\tr\tprio"); /* a write that failed half way */
	out = vl(&st, "nsg show %s nsg", th_lab.name);
	cr_expect_eq(st, 0, "show after a torn record: %s", out);
	free(out);
	out = vl(&st, "nsg rule set %s nsg r --priority 300", th_lab.name);
	cr_expect_eq(st, 0, "edit after a torn record: %s", out);
	free(out);
	out = vl(&st, "nsg show %s nsg -o json", th_lab.name);
	cr_expect_eq(st, 0, "show: %s", out);
	cr_expect_not_null(strstr(th_compact(out), "\"priority\":300"), "the edit after the torn record is lost: %s", out);
	free(out);

	/* killed between the intent and the commit: the next edit commits it too */
	append_text("edits", "intent\tadd\tnsg\tpend\tpriority=3000\taccess=Deny\tdirection=Inbound\tprotocol=Udp\t"
			     "destinationPortRange=5555\n");
	rs = fabric_ruleset();
	cr_assert_null(strstr(rs, "comment \"pend\""), "test setup: the kernel has the rule already");
	free(rs);
	out = vl(&st, "nsg show %s nsg", th_lab.name);
	cr_expect(st == 0 && strstr(out, "pend"), "show does not roll the intent forward: %s", out);
	free(out);
	out = vl(&st, "nsg rule set %s nsg r --priority 310", th_lab.name);
	cr_expect_eq(st, 0, "edit after an interrupted one: %s", out);
	free(out);
	rs = fabric_ruleset();
	cr_expect_not_null(strstr(rs, "comment \"pend\""), "the interrupted edit never reached the kernel:\n%s", rs);
	free(rs);
	out = th_run(NULL, "tail -c 200 /run/vnetlab/%s/edits", th_lab.name);
	cr_expect(strlen(out) > 5 && !strcmp(out + strlen(out) - 5, "done\n"), "journal ends with: %s", out);
	free(out);
}

/* Finding 5: exec sees the endpoint's own /sys and its /etc/netns files, and the host's mounts stay as they were. */
Test(harden, exec_has_the_namespace_sysfs_and_etc_netns)
{
	char etc[128], *mac, *seen, *links, *hosts, *mounts_before, *mounts_after;
	bool made_etc_netns = access("/etc/netns", F_OK) != 0;
	int st;

	th_skip_rootless("writes /etc/netns (root's)");
	th_lab_up("hd", SMALL);
	mounts_before = th_run(NULL, "findmnt -rn -o TARGET,SOURCE,FSTYPE /sys; grep -c ' sysfs ' /proc/self/mounts");
	mac = th_run(NULL, "ip -n vl-%s-a -o link show eth0 | grep -o 'link/ether [^ ]*' | cut -d' ' -f2",
		     th_lab.name);
	seen = vl(&st, "exec %s a -- cat /sys/class/net/eth0/address", th_lab.name);
	cr_expect_eq(st, 0, "%s", seen);
	cr_expect_str_eq(seen, mac, "exec saw the host's /sys: eth0 is %s there, %s in the endpoint", seen, mac);
	links = vl(&st, "exec %s a -- ls /sys/class/net", th_lab.name);
	cr_expect_str_eq(links, "eth0\nlo\n", "/sys/class/net in the endpoint: %s", links);
	snprintf(etc, sizeof(etc), "/etc/netns/vl-%s-a", th_lab.name);
	free(th_run(NULL, "mkdir -p %s && echo '10.62.0.99 marker-%s' > %s/hosts", etc, th_lab.name, etc));
	hosts = vl(&st, "exec %s a -- cat /etc/hosts", th_lab.name);
	free(th_run(NULL, "rm -rf %s", etc));
	if (made_etc_netns)
		rmdir("/etc/netns");
	cr_expect_not_null(strstr(hosts, "marker-"), "%s/hosts not bound over /etc/hosts: %s", etc,
			   hosts);
	mounts_after = th_run(NULL, "findmnt -rn -o TARGET,SOURCE,FSTYPE /sys; grep -c ' sysfs ' /proc/self/mounts");
	cr_expect_str_eq(mounts_after, mounts_before, "the host's mounts changed");
	free(mac);
	free(seen);
	free(links);
	free(hosts);
	free(mounts_before);
	free(mounts_after);
}

#define FLOOD                                                                                              \
	"vnets:\n"                                                                                         \
	"  - name: v\n"                                                                                    \
	"    addressSpace: [10.62.0.0/16]\n"                                                               \
	"    subnets:\n"                                                                                   \
	"      - name: vms\n"                                                                              \
	"        addressPrefix: 10.62.1.0/24\n"                                                            \
	"        networkSecurityGroup: nsg\n"                                                              \
	"networkSecurityGroups:\n"                                                                         \
	"  - name: nsg\n"                                                                                  \
	"    securityRules:\n"                                                                             \
	"      - {name: deny-udp, priority: 100, direction: Inbound, access: Deny, protocol: Udp,\n"       \
	"         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"        \
	"         destinationPortRange: '9999'}\n"                                                        \
	"vms:\n"                                                                                           \
	"  - {name: a, subnet: vms}\n"                                                                     \
	"  - {name: b, subnet: vms}\n"

static long file_size(const char *name)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/%s", th_state_root(), th_lab.name, name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Finding 6: a UDP flood to a denied port adds little to the log; past its cap the log rotates. */
Test(harden, drop_log_is_rate_limited_capped_and_rotated)
{
	long before, after, n;
	char *out, *res;
	int st;

	th_lab_up("hd", FLOOD);
	before = file_size("agent.log");
	out = vl(&st,
		 "exec %s a -- python3 -c \"import socket,time\n"
		 "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); t=time.time()+2; n=0\n"
		 "while time.time()<t:\n s.sendto(b'x',('10.62.1.5',9999)); n+=1\n"
		 "print(n)\"",
		 th_lab.name);
	cr_assert_eq(st, 0, "flood: %s", out);
	n = atol(out);
	free(out);
	sleep_ms(200);
	after = file_size("agent.log");
	cr_log_info("flood of %ld packets: agent.log grew by %ld bytes", n, after - before);
	cr_expect_gt(n, 1000, "the flood sent only %ld packets", n);
	cr_expect_lt(after - before, 64 * 1024, "a %ld-packet flood added %ld bytes to agent.log", n, after - before);

	/* fill the log to its cap: the next line (once the flood's second is over) rotates it */
	sleep_ms(1500);
	free(th_run(NULL, "head -c %u /dev/zero | tr '\\0' x >> /run/vnetlab/%s/agent.log", VL_AGENT_LOG_MAX,
		    th_lab.name));
	out = vl(&st, "probe %s a b:9999 --proto udp -o json", th_lab.name);
	res = th_json_get(out, "result");
	cr_expect_str_eq(res, "dropped", "%s", out);
	free(res);
	free(out);
	sleep_ms(100);
	cr_expect_gt(file_size("agent.log.1"), (long)VL_AGENT_LOG_MAX / 2, "agent.log did not rotate (%ld, %ld bytes)",
		     file_size("agent.log"), file_size("agent.log.1"));
	cr_expect_lt(file_size("agent.log"), 64 * 1024, "agent.log is %ld bytes after rotating",
		     file_size("agent.log"));
}

static pid_t agent_pid(void)
{
	char *out = th_run(NULL, "cut -d' ' -f1 /run/vnetlab/%s/agent.pid", th_lab.name);
	pid_t pid = atoi(out);

	free(out);
	return pid;
}

static long cpu_ticks(pid_t pid)
{
	char *out = th_run(NULL, "awk '{print $14 + $15}' /proc/%d/stat", (int)pid);
	long v = atol(out);

	free(out);
	return v;
}

/* Finding 10: at its descriptor limit the agent backs off instead of spinning, and still attributes drops. */
Test(harden, agent_at_its_descriptor_limit_backs_off)
{
	struct rlimit rl;
	char *out, *res, *nfd;
	long t0, t1;
	pid_t agent, client;
	int st;

	th_lab_up("hd", FLOOD "  - {name: c, subnet: vms, app: hello, ports: [80]}\n");
	agent = agent_pid();
	cr_assert_gt(agent, 1);
	nfd = th_run(NULL, "ls /proc/%d/fd | wc -l", (int)agent);
	rl.rlim_cur = rl.rlim_max = (rlim_t)atol(nfd);
	free(nfd);
	cr_assert_eq(prlimit(agent, RLIMIT_NOFILE, &rl, NULL), 0, "prlimit: %s", strerror(errno));
	client = fork();
	cr_assert_geq(client, 0);
	if (client == 0) {
		char prog[300];

		snprintf(prog, sizeof(prog),
			 "import socket,time\nss=[]\nfor i in range(20):\n s=socket.socket(); s.connect(('10.62.1.6',80)); "
			 "ss.append(s)\ntime.sleep(4)\n");
		execl(th_vnetlab(), th_vnetlab(), "exec", th_lab.name, "a", "--", "python3", "-c", prog, (char *)NULL);
		_exit(127);
	}
	sleep_ms(500);
	t0 = cpu_ticks(agent);
	sleep_ms(1000);
	t1 = cpu_ticks(agent);
	cr_log_info("agent at its descriptor limit: %ld ticks of CPU in 1 s", t1 - t0);
	out = vl(&st, "probe %s a b:9999 --proto udp -o json", th_lab.name);
	res = th_json_get(out, "result");
	kill(client, SIGKILL);
	waitpid(client, NULL, 0);
	cr_expect_lt(t1 - t0, 30, "the agent spins at its descriptor limit: %ld%% CPU", t1 - t0);
	cr_expect_str_eq(res, "dropped", "no drop attribution at the descriptor limit: %s", out);
	free(res);
	free(out);
}

/* Finding 10: more app sockets than one agent holds is refused at up, clearly, with nothing built. */
Test(harden, up_refuses_more_listeners_than_an_agent_holds)
{
	size_t cap = 1 << 20, len;
	char *body = malloc(cap), *out, *ns;
	int st;

	cr_assert_not_null(body);
	len = (size_t)snprintf(body, cap, "%s", SUBNET_VMS);
	for (int v = 0; v < 3; v++) {
		len += (size_t)snprintf(body + len, cap - len, "  - name: e%d\n    subnet: vms\n    app: echo\n    ports: [", v);
		for (int p = 0; p < 3400; p++)
			len += (size_t)snprintf(body + len, cap - len, "%s%d", p ? "," : "", 1000 + p);
		len += (size_t)snprintf(body + len, cap - len, "]\n");
	}
	th_lab_write("hd", body);
	free(body);
	out = vl(&st, "up %s", th_lab.file);
	cr_expect_eq(st, 1, "up: %s", out);
	cr_expect_not_null(strstr(out, "20400 app sockets"), "%s", out);
	free(out);
	ns = th_run(NULL, "ls /run/netns | grep '^vl-%s-' || true", th_lab.name);
	cr_expect_str_eq(ns, "", "up built namespaces: %s", ns);
	free(ns);
}

/* Finding 12: an up whose state could not be written leaves nothing that blocks the next up. */
Test(harden, failed_state_creation_leaves_no_broken_lab)
{
	char *out;
	int st;

	th_lab_write("hd", SMALL);
	/* files cannot grow: writing the topology copy fails (EFBIG, SIGXFSZ ignored) */
	out = th_run(&st, "sh -c \"trap '' XFSZ; ulimit -f 0; exec %s up %s\" 2>&1", th_vnetlab(), th_lab.file);
	cr_assert_neq(st, 0, "up with no room succeeded: %s", out);
	free(out);
	out = vl(&st, "ls");
	cr_expect_null(strstr(out, th_lab.name), "a broken lab is left: %s", out);
	free(out);
	out = vl(&st, "up %s", th_lab.file);
	cr_expect_eq(st, 0, "the next up: %s", out);
	free(out);
}

/* Finding 12: tampered state (an extra file, a garbage pid) does not keep down from finishing. */
Test(harden, down_finishes_despite_tampered_state)
{
	char path[128], *out, *ns;
	FILE *f;
	int st;

	th_lab_up("hd", SMALL);
	snprintf(path, sizeof(path), "%s/%s/stray", th_state_root(), th_lab.name);
	f = fopen(path, "w");
	fclose(f);
	free(th_run(NULL, "kill -9 $(cut -d' ' -f1 /run/vnetlab/%s/agent.pid)", th_lab.name));
	sleep_ms(100);
	snprintf(path, sizeof(path), "%s/%s/agent.pid", th_state_root(), th_lab.name);
	f = fopen(path, "w");
	fputs("-1 garbage\n", f);
	fclose(f);
	out = vl(&st, "down %s", th_lab.name);
	cr_expect_eq(st, 0, "down: %s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/%s", th_state_root(), th_lab.name);
	cr_expect_neq(access(path, F_OK), 0, "%s is left", path);
	ns = th_run(NULL, "ls /run/netns | grep '^vl-%s-' || true", th_lab.name);
	cr_expect_str_eq(ns, "", "namespaces left: %s", ns);
	free(ns);
}

/* Finding 9: an 80-character NSG with an 80-character rule (Azure's limits) is attributed whole. */
Test(harden, long_names_are_attributed_whole)
{
	char nsg[81], rule[81], *body, *out;
	int st;

	memset(nsg, 'n', 80);
	memset(rule, 'r', 80);
	nsg[0] = 'N';
	nsg[80] = rule[80] = '\0';
	rule[79] = 'Z';
	cr_assert(asprintf(&body,
			   "vnets:\n  - name: v\n    addressSpace: [10.62.0.0/16]\n    subnets:\n"
			   "      - {name: vms, addressPrefix: 10.62.1.0/24, networkSecurityGroup: %s}\n"
			   "networkSecurityGroups:\n  - name: %s\n    securityRules:\n"
			   "      - {name: %s, priority: 100, direction: Inbound, access: Deny, protocol: Tcp,\n"
			   "         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"
			   "         destinationPortRange: '81'}\n"
			   "vms:\n  - {name: a, subnet: vms}\n  - {name: b, subnet: vms, app: hello, ports: [81]}\n"
			   "checks:\n  - {name: long, from: a, to: b, port: 81, expect: deny, expectRule: %s/%s}\n",
			   nsg, nsg, rule, nsg, rule) > 0);
	th_lab_write("hd", body);
	free(body);
	out = vl(&st, "check %s", th_lab.file);
	cr_expect_eq(st, 0, "check: %s", out);
	cr_expect_not_null(strstr(out, "PASS"), "%s", out);
	free(out);
}
