// SPDX-License-Identifier: MIT
/*
 * Rootless labs seen from outside, run as root: a lab that nobody (uid 65534, via setpriv)
 * brings up changes nothing of the host (no /run/netns entry, root namespace unchanged), is
 * not in root's `ls` but in `ls --all-users`, and another unprivileged user (uid 65533) can
 * neither see nor touch it; a state directory planted by someone else is refused.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/helpers.h"

#define USER_A 65534
#define USER_B 65533

static const char *const topo = "vnets:\n"
				"  - name: v\n"
				"    addressSpace: [10.62.0.0/16]\n"
				"    subnets:\n"
				"      - name: vms\n"
				"        addressPrefix: 10.62.1.0/24\n"
				"        networkSecurityGroup: nsg\n"
				"networkSecurityGroups:\n"
				"  - name: nsg\n"
				"    securityRules:\n"
				"      - name: deny-9000\n"
				"        priority: 100\n"
				"        direction: Inbound\n"
				"        access: Deny\n"
				"        protocol: Tcp\n"
				"        sourceAddressPrefix: '*'\n"
				"        sourcePortRange: '*'\n"
				"        destinationAddressPrefix: '*'\n"
				"        destinationPortRange: '9000'\n"
				"vms:\n"
				"  - name: vm1\n"
				"    subnet: vms\n"
				"    app: echo\n"
				"    ports: [7]\n"
				"  - name: vm2\n"
				"    subnet: vms\n"
				"    app: hello\n"
				"    ports: [80, 9000]\n";

static char dir_a[64], dir_b[64], lab[16], *file, *before;

/* A command as uid (its own private XDG_RUNTIME_DIR); stdout and stderr. */
__attribute__((format(printf, 4, 5))) static char *as(int uid, const char *xdg, int *st, const char *fmt, ...)
{
	char args[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	return th_run(
	    st,
	    "setpriv --reuid=%d --regid=%d --clear-groups env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "
	    "XDG_RUNTIME_DIR=%s %s %s 2>&1",
	    uid, uid, xdg, th_vnetlab(), args);
}

static void private_dir(char *buf, size_t len, const char *tag, int uid)
{
	snprintf(buf, len, "/tmp/vl-rl%s-%d", tag, getpid());
	cr_assert_eq(mkdir(buf, 0700), 0);
	cr_assert_eq(chown(buf, (uid_t)uid, (gid_t)uid), 0);
}

static void setup(void)
{
	char *out, *text;
	int st;

	if (geteuid() != 0)
		cr_skip_test("needs root (it runs labs as two other users)");
	out = th_run(&st, "setpriv --reuid=%d --regid=%d --clear-groups test -x %s && echo ok", USER_A,
		     USER_A, th_vnetlab());
	if (strcmp(out, "ok\n")) {
		free(out);
		cr_skip_test("nobody cannot run %s (a private source tree): make check-rootless stages one",
			     th_vnetlab());
	}
	free(out);
	out =
	    th_run(&st, "setpriv --reuid=%d --regid=%d --clear-groups unshare -Ur true 2>&1", USER_A, USER_A);
	if (st) {
		cr_skip_test("unprivileged user namespaces are refused here: %s", out);
	}
	free(out);
	snprintf(lab, sizeof(lab), "rl%d", getpid() % 100000);
	private_dir(dir_a, sizeof(dir_a), "a", USER_A);
	private_dir(dir_b, sizeof(dir_b), "b", USER_B);
	cr_assert(asprintf(&text, "name: %s\n%s", lab, topo) > 0);
	file = th_write_temp(text);
	free(text);
	chmod(file, 0644);
	before = th_root_snapshot();
}

static void teardown(void)
{
	char *after;

	if (!file)
		return;
	free(as(USER_A, dir_a, NULL, "down %s", lab));
	after = th_root_snapshot();
	cr_expect_str_eq(after, before, "the root namespace changed");
	free(after);
	free(before);
	unlink(file);
	free(file);
	file = NULL;
	free(th_run(NULL, "rm -rf %s %s", dir_a, dir_b));
}

TestSuite(rootless, .init = setup, .fini = teardown, .timeout = 120);

Test(rootless, a_users_lab_leaves_the_host_alone_and_others_out)
{
	char *out, *v, path[128];
	struct stat st_dir;
	int st;

	out = as(USER_A, dir_a, &st, "up %s --quiet", file);
	cr_assert_eq(st, 0, "rootless up: %s", out);
	free(out);

	/* the host: nothing in /run/netns, nothing in /run/vnetlab, no route or link */
	out = th_run(NULL, "ls /run/netns | grep -c '^vl-%s-' ; ls /run/vnetlab | grep -c '%s'", lab, lab);
	cr_assert_str_eq(out, "0\n0\n", "the lab reached the host's /run/netns or /run/vnetlab: %s", out);
	free(out);
	v = th_root_snapshot();
	cr_assert_str_eq(v, before, "the root namespace changed while the lab is up");
	free(v);

	/* it works for its user: a probe, a drop named by its rule, exec */
	out = as(USER_A, dir_a, &st, "probe %s vm1 vm2:80 -o json", lab);
	cr_assert_eq(st, 0, "%s", out);
	v = th_json_get(out, "seenSource");
	cr_assert_str_eq(v, "10.62.1.4", "%s", out);
	free(v);
	free(out);
	out = as(USER_A, dir_a, &st, "probe %s vm1 vm2:9000 --timeout 3000 -o json", lab);
	v = th_json_get(out, "rule");
	cr_assert_str_eq(v, "deny-9000", "the drop is attributed in a user-owned namespace: %s", out);
	free(v);
	free(out);
	out = as(USER_A, dir_a, &st, "exec %s vm1 -- cat /proc/net/dev", lab);
	cr_assert(st == 0 && strstr(out, "eth0"), "exec: %s", out);
	free(out);

	/* its state is the user's alone */
	snprintf(path, sizeof(path), "%s/vnetlab/%s", dir_a, lab);
	cr_assert_eq(lstat(path, &st_dir), 0, "%s", path);
	cr_assert_eq(st_dir.st_uid, USER_A);
	cr_assert_eq(st_dir.st_mode & 077, 0, "%s is mode %o", path, st_dir.st_mode & 0777);

	/* root's ls does not list it; ls --all-users does, only for root */
	out = th_run(NULL, "%s ls 2>&1", th_vnetlab());
	cr_assert_null(strstr(out, lab), "root's ls lists a rootless lab: %s", out);
	free(out);
	out = as(USER_A, dir_a, &st, "ls --all-users");
	cr_assert_eq(st, 2, "ls --all-users is root's: %s", out);
	free(out);

	/* another user: not in its ls, cannot bring it down, cannot enter its namespaces */
	out = as(USER_B, dir_b, &st, "ls");
	cr_assert_eq(st, 0, "%s", out);
	cr_assert_null(strstr(out, lab), "another user sees the lab: %s", out);
	free(out);
	out = as(USER_B, dir_a, &st, "down %s", lab);
	cr_assert_neq(st, 0, "another user brought the lab down: %s", out);
	free(out);
	out = as(USER_B, dir_a, &st, "probe %s vm1 vm2:80", lab);
	cr_assert_neq(st, 0, "another user probed the lab: %s", out);
	free(out);
	out =
	    th_run(&st,
		   "p=$(cut -d' ' -f1 %s/vnetlab/%s/agent.pid); setpriv --reuid=%d --regid=%d --clear-groups "
		   "nsenter -t $p -U -m -n --preserve-credentials true 2>&1",
		   dir_a, lab, USER_B, USER_B);
	cr_assert_neq(st, 0, "another user entered the lab's namespaces: %s", out);
	free(out);
	out = as(USER_A, dir_a, &st, "ls");
	cr_assert(strstr(out, lab) && strstr(out, " up "), "the lab is still up for its user: %s", out);
	free(out);

	out = as(USER_A, dir_a, &st, "down %s", lab);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	snprintf(path, sizeof(path), "%s/vnetlab/%s", dir_a, lab);
	cr_assert_neq(access(path, F_OK), 0, "down left %s", path);
}

Test(rootless, root_lists_all_users_labs)
{
	char *out;
	int st;

	/* root finds a user's labs where they can be: /tmp/vnetlab-<uid> (no XDG_RUNTIME_DIR) here */
	free(th_run(NULL, "mkdir -p /tmp/vnetlab-%d && chown %d /tmp/vnetlab-%d && chmod 700 /tmp/vnetlab-%d",
		    USER_B, USER_B, USER_B, USER_B));
	out = th_run(
	    &st,
	    "setpriv --reuid=%d --regid=%d --clear-groups env -i PATH=/usr/bin:/bin %s up %s --quiet 2>&1",
	    USER_B, USER_B, th_vnetlab(), file);
	cr_assert_eq(st, 0, "rootless up in /tmp/vnetlab-<uid>: %s", out);
	free(out);
	out = th_run(&st, "%s ls --all-users 2>&1", th_vnetlab());
	cr_assert_eq(st, 0, "%s", out);
	cr_assert(strstr(out, "USER") && strstr(out, "65533") && strstr(out, lab), "ls --all-users: %s", out);
	free(out);
	out = th_run(&st,
		     "setpriv --reuid=%d --regid=%d --clear-groups env -i PATH=/usr/bin:/bin %s down %s 2>&1",
		     USER_B, USER_B, th_vnetlab(), lab);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	free(th_run(NULL, "rm -rf /tmp/vnetlab-%d", USER_B));
}

Test(rootless, a_planted_state_directory_is_refused)
{
	char *out;
	int st;

	/* /tmp/vnetlab-<uid> made by someone else (root here), or a symlink: never used */
	free(th_run(NULL, "rm -rf /tmp/vnetlab-%d; mkdir -m 700 /tmp/vnetlab-%d", USER_B, USER_B));
	out = th_run(&st,
		     "setpriv --reuid=%d --regid=%d --clear-groups env -i PATH=/usr/bin:/bin %s up %s 2>&1",
		     USER_B, USER_B, th_vnetlab(), file);
	cr_assert_neq(st, 0, "up used a directory root made: %s", out);
	cr_assert(strstr(out, "/tmp/vnetlab-65533") && strstr(out, "not a directory of yours"), "%s", out);
	free(out);
	free(th_run(NULL, "rmdir /tmp/vnetlab-%d; ln -s %s /tmp/vnetlab-%d", USER_B, dir_b, USER_B));
	out = th_run(&st,
		     "setpriv --reuid=%d --regid=%d --clear-groups env -i PATH=/usr/bin:/bin %s up %s 2>&1",
		     USER_B, USER_B, th_vnetlab(), file);
	cr_assert_neq(st, 0, "up followed a symlink: %s", out);
	free(out);
	free(th_run(NULL, "rm -f /tmp/vnetlab-%d", USER_B));
	out = th_run(NULL, "ls -A %s", dir_b);
	cr_assert_str_eq(out, "", "nothing was made through the symlink: %s", out);
	free(out);
}
