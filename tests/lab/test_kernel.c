// SPDX-License-Identifier: MIT
/* Lab tests of lab/kernel: real namespaces, `ip` as an independent witness. Root only. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/helpers.h"
#include "vnetlab/apply.h"
#include "vnetlab/netns.h"
#include "vnetlab/plan.h"

static char prefix[64];

static void setup(void)
{
	snprintf(prefix, sizeof(prefix), "vl-ktest%d-", (int)getpid());
}

/* Delete every namespace this test process made, whatever happened. */
static void teardown(void)
{
	DIR *d = opendir(VL_NETNS_DIR);
	struct dirent *e;

	if (!d || !prefix[0])
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			vl_netns_delete(e->d_name);
	closedir(d);
}

static void skip_unless_root(void)
{
	th_enter_or_skip();
}

/* Output of a shell command (the witness), or NULL. Caller frees. */
static char *run(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	if (!p)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		char *b = realloc(buf, len + n + 1);

		if (!b)
			break;
		buf = b;
		memcpy(buf + len, chunk, n);
		len += n;
		buf[len] = 0;
	}
	pclose(p);
	return buf ? buf : strdup("");
}

static char *runf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *runf(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return run(cmd);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WEXITSTATUS(st);
}

/* One retry: the machine is shared and a loaded host may miss a 1 s deadline. */
static int ping_from(const char *ns, const char *ip)
{
	if (!sh("ip netns exec %s ping -c1 -W1 %s >/dev/null", ns, ip))
		return 0;
	return sh("ip netns exec %s ping -c1 -W2 %s >/dev/null", ns, ip);
}

static char *root_snapshot(void)
{
	return run("ip -o link show | sed 's/ state [A-Z]* / /'; ip -o addr show; ip route show; "
		   "ip -6 route show; cat /proc/sys/net/ipv4/ip_forward");
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

TestSuite(kernel, .init = setup, .fini = teardown);

Test(kernel, netns_create_delete)
{
	char name[VL_NS_NAME_MAX];
	int fd = -1, fd2 = -1;
	char *out;

	skip_unless_root();
	snprintf(name, sizeof(name), "%sa", prefix);
	cr_assert_eq(vl_netns_create(name, &fd), 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(sh("ip netns list | awk '{print $1}' | grep -qx -- '%s'", name), 0,
		     "not listed by ip netns list");
	cr_assert_eq(sh("ip netns exec %s true", name), 0);
	cr_assert_eq(vl_netns_create(name, &fd2), -EEXIST);

	cr_assert_eq(vl_netns_sysctl(fd, "net/ipv4/ip_forward", "1"), 0);
	out = runf("ip netns exec %s cat /proc/sys/net/ipv4/ip_forward", name);
	cr_assert_str_eq(out, "1\n", "sysctl not written inside the namespace");
	free(out);

	cr_assert_eq(vl_netns_open(name, &fd2), 0);
	close(fd2);
	cr_assert_eq(vl_netns_delete(name), 0);
	cr_assert_eq(sh("ip netns list | awk '{print $1}' | grep -qx -- '%s'", name), 1, "still listed");
	cr_assert_eq(vl_netns_delete(name), 0, "deleting twice is fine");
	cr_assert_eq(vl_netns_open(name, &fd2), -ENOENT);
	cr_assert_eq(vl_netns_create("a/b", &fd2), -EINVAL);
	close(fd);
}

Test(kernel, netns_enter_leave)
{
	char name[VL_NS_NAME_MAX];
	int fd, saved;

	skip_unless_root();
	th_skip_rootless("the namespace a rootless run comes back to is an empty one of its own");
	snprintf(name, sizeof(name), "%sb", prefix);
	cr_assert_eq(vl_netns_create(name, &fd), 0);
	cr_assert_eq(vl_netns_enter(fd, &saved), 0);
	char *out = run("ip -o link show | wc -l");
	cr_assert_str_eq(out, "1\n", "a new namespace holds only lo");
	free(out);
	cr_assert_eq(vl_netns_leave(saved), 0);
	out = run("ip -o link show | wc -l");
	cr_assert_str_neq(out, "1\n");
	free(out);
	close(fd);
}

/* Fabric + n endpoints on 10.9.1.0/24, the layout of DESIGN.md. */
struct test_plan {
	struct vl_plan plan;
	struct vl_plan_ns ns[260];
	struct vl_plan_link links[256];
	struct vl_plan_addr addrs[512];
	struct vl_plan_route routes[512];
	struct vl_plan_sysctl sysctls[1024];
};

static void add_sysctl(struct test_plan *t, int ns, const char *key, const char *value)
{
	struct vl_plan_sysctl *s = &t->sysctls[t->plan.n_sysctls++];

	s->ns = ns;
	snprintf(s->key, sizeof(s->key), "%s", key);
	snprintf(s->value, sizeof(s->value), "%s", value);
}

static struct test_plan *make_plan(const char *lab, int n)
{
	struct test_plan *t = calloc(1, sizeof(*t));
	struct vl_plan *p = &t->plan;

	cr_assert_not_null(t);
	cr_assert_leq(n, 250);
	p->ns = t->ns;
	p->links = t->links;
	p->addrs = t->addrs;
	p->routes = t->routes;
	p->sysctls = t->sysctls;
	snprintf(t->ns[0].name, VL_NS_NAME_MAX, "%sfabric", lab);
	t->ns[0].role = VL_NS_FABRIC;
	t->ns[0].endpoint = VL_NONE;
	p->n_ns = 1;
	add_sysctl(t, 0, "net/ipv6/conf/all/disable_ipv6", "1");
	add_sysctl(t, 0, "net/ipv6/conf/default/disable_ipv6", "1");
	add_sysctl(t, 0, "net/ipv4/conf/all/forwarding", "1");
	for (int i = 0; i < n; i++) {
		int ns = (int)p->n_ns++;
		uint32_t ip = (10u << 24) | (9u << 16) | (1u << 8) | (uint32_t)(4 + i);
		struct vl_plan_link *l = &t->links[p->n_links++];
		struct vl_plan_addr *a;
		struct vl_plan_route *r;
		char key[96];

		snprintf(t->ns[ns].name, VL_NS_NAME_MAX, "%se%d", lab, i);
		t->ns[ns].role = VL_NS_ENDPOINT;
		t->ns[ns].endpoint = i;
		add_sysctl(t, ns, "net/ipv6/conf/all/disable_ipv6", "1");
		add_sysctl(t, ns, "net/ipv6/conf/default/disable_ipv6", "1");

		l->kind = VL_LINK_VETH;
		l->ns = 0;
		snprintf(l->name, IFNAMSIZ, "n%d", i);
		l->peer_ns = ns;
		snprintf(l->peer_name, IFNAMSIZ, "eth0");
		snprintf(key, sizeof(key), "net/ipv4/conf/n%d/proxy_arp", i);
		add_sysctl(t, 0, key, "1");
		/* Proxy ARP otherwise answers after a random delay of up to 0.8 s. */
		snprintf(key, sizeof(key), "net/ipv4/neigh/n%d/proxy_delay", i);
		add_sysctl(t, 0, key, "0");

		a = &t->addrs[p->n_addrs++];
		a->ns = 0;
		snprintf(a->dev, IFNAMSIZ, "n%d", i);
		a->addr = (struct vl_prefix){(10u << 24) | (9u << 16) | (1u << 8) | 1u, 32};
		a = &t->addrs[p->n_addrs++];
		a->ns = ns;
		snprintf(a->dev, IFNAMSIZ, "eth0");
		a->addr = (struct vl_prefix){ip, 24};

		r = &t->routes[p->n_routes++];
		r->ns = 0;
		r->dst = (struct vl_prefix){ip, 32};
		snprintf(r->dev, IFNAMSIZ, "n%d", i);
		r = &t->routes[p->n_routes++];
		r->ns = ns;
		r->dst = (struct vl_prefix){0, 0};
		r->gateway = (10u << 24) | (9u << 16) | (1u << 8) | 1u;
		snprintf(r->dev, IFNAMSIZ, "eth0");
	}
	return t;
}

struct recorded {
	int n;
	char last[VL_NS_NAME_MAX];
};

static int record(const char *name, bool claim, void *arg)
{
	struct recorded *r = arg;

	if (!claim)
		return 0;
	r->n++;
	snprintf(r->last, sizeof(r->last), "%s", name);
	return 0;
}

Test(kernel, apply_two_endpoints_ping)
{
	struct vl_error err = {0};
	struct recorded rec = {0};
	char lab[80];
	struct test_plan *t;
	char *before, *after, *out;

	skip_unless_root();
	snprintf(lab, sizeof(lab), "%sp-", prefix);
	t = make_plan(lab, 2);
	before = root_snapshot();
	cr_assert_eq(vl_apply_up(&t->plan, record, &rec, &err), 0, "apply: %s", err.msg);
	cr_assert_eq(rec.n, 3);
	cr_assert_str_eq(rec.last, t->ns[2].name);

	if (ping_from(t->ns[1].name, "10.9.1.5")) {
		sh("for n in %s %s %s; do echo == $n; ip -n $n -br link; ip -n $n -br addr; ip -n $n route; "
		   "ip -n $n neigh; done >&2",
		   t->ns[0].name, t->ns[1].name, t->ns[2].name);
		cr_assert_fail("e0 cannot ping e1");
	}
	cr_assert_eq(ping_from(t->ns[2].name, "10.9.1.1"), 0, "e1 cannot ping its gateway");

	out = runf("ip -n %s -o -4 addr show dev eth0 | awk '{print $4}'; ip -n %s route show", t->ns[1].name,
		   t->ns[1].name);
	cr_assert(strstr(out, "10.9.1.4/24"), "%s", out);
	cr_assert(strstr(out, "default via 10.9.1.1 dev eth0"), "%s", out);
	free(out);
	out = runf("ip -n %s route show; ip netns exec %s cat /proc/sys/net/ipv4/conf/n1/proxy_arp "
		   "/proc/sys/net/ipv6/conf/n1/disable_ipv6",
		   t->ns[0].name, t->ns[0].name);
	cr_assert(strstr(out, "10.9.1.5 dev n1 scope link"), "%s", out);
	cr_assert(strstr(out, "\n1\n1\n"), "proxy_arp and disable_ipv6 on n1: %s", out);
	free(out);

	after = root_snapshot();
	cr_assert_str_eq(before, after, "the root namespace changed");
	free(before);
	free(after);
	free(t);
}

Test(kernel, apply_error_names_object_and_namespace)
{
	struct vl_error err = {0};
	char lab[80], want[200];
	struct test_plan *t;

	skip_unless_root();
	snprintf(lab, sizeof(lab), "%sx-", prefix);
	t = make_plan(lab, 2);
	/* Both veths named n0 in the fabric. */
	snprintf(t->links[1].name, IFNAMSIZ, "n0");
	cr_assert_lt(vl_apply_up(&t->plan, NULL, NULL, &err), 0);
	snprintf(want, sizeof(want), "creating veth n0 in %sfabric: File exists", lab);
	cr_assert(strstr(err.msg, want), "got \"%s\"", err.msg);
	cr_assert_str_eq(err.file, "");
	free(t);
}

/* Descriptors this process has open. */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* 200 endpoints: up, a ping across, and down by several threads, which hold every namespace open
 * until all are unmounted: none is left, and no descriptor either. (Times are logged, not asserted:
 * `make bench` measures speed.) */
Test(kernel, apply_200_endpoints_and_delete_them_all)
{
	struct vl_error err = {0};
	const char *names[260];
	char lab[80], path[PATH_MAX];
	struct test_plan *t;
	double t0, t1, t2;
	int fds;

	skip_unless_root();
	snprintf(lab, sizeof(lab), "%ss-", prefix);
	t = make_plan(lab, 200);
	t0 = now();
	cr_assert_eq(vl_apply_up(&t->plan, NULL, NULL, &err), 0, "apply: %s", err.msg);
	t1 = now();
	cr_assert_eq(ping_from(t->ns[1].name, "10.9.1.203"), 0, "e0 cannot ping e199");
	for (size_t i = 0; i < t->plan.n_ns; i++)
		names[i] = t->ns[i].name;
	fds = open_fds();
	t2 = now();
	cr_assert_eq(vl_apply_delete_all(names, t->plan.n_ns), 0);
	cr_log_info("200 endpoints: up %.3f s, down %.3f s", t1 - t0, now() - t2);
	fprintf(stderr, "kernel: 200 endpoints (201 namespaces): up %.3f s, down %.3f s\n", t1 - t0,
		now() - t2);
	cr_assert_eq(open_fds(), fds, "descriptors left open by the delete");
	for (size_t i = 0; i < t->plan.n_ns; i++) {
		snprintf(path, sizeof(path), "/run/netns/%s", names[i]);
		cr_assert_neq(access(path, F_OK), 0, "%s is still there", path);
	}
	free(t);
}

/* kubenet shape: a node with bridge cbr0, two pods whose host ends are its ports. */
Test(kernel, apply_bridge_with_ports)
{
	struct vl_error err = {0};
	struct test_plan *t = calloc(1, sizeof(*t));
	struct vl_plan *p = &t->plan;
	char lab[80], *out;

	skip_unless_root();
	snprintf(lab, sizeof(lab), "%sk-", prefix);
	p->ns = t->ns;
	p->links = t->links;
	p->addrs = t->addrs;
	p->routes = t->routes;
	p->sysctls = t->sysctls;
	p->n_ns = 3;
	snprintf(t->ns[0].name, VL_NS_NAME_MAX, "%snode", lab);
	snprintf(t->ns[1].name, VL_NS_NAME_MAX, "%spod-0", lab);
	snprintf(t->ns[2].name, VL_NS_NAME_MAX, "%spod-1", lab);
	for (int i = 0; i < 3; i++) {
		t->ns[i].role = VL_NS_ENDPOINT;
		t->ns[i].endpoint = i;
		add_sysctl(t, i, "net/ipv6/conf/all/disable_ipv6", "1");
		add_sysctl(t, i, "net/ipv6/conf/default/disable_ipv6", "1");
	}
	/* Veths listed before the bridge: apply must still make the bridge first. */
	for (int i = 0; i < 2; i++) {
		struct vl_plan_link *l = &t->links[p->n_links++];
		struct vl_plan_addr *a = &t->addrs[p->n_addrs++];

		*l = (struct vl_plan_link){.kind = VL_LINK_VETH, .ns = 0, .peer_ns = 1 + i};
		snprintf(l->name, IFNAMSIZ, "veth%d", i);
		snprintf(l->master, IFNAMSIZ, "cbr0");
		snprintf(l->peer_name, IFNAMSIZ, "eth0");
		a->ns = 1 + i;
		snprintf(a->dev, IFNAMSIZ, "eth0");
		a->addr = (struct vl_prefix){0x0af40002u + (uint32_t)i, 24};
	}
	t->links[p->n_links++] = (struct vl_plan_link){.kind = VL_LINK_BRIDGE, .ns = 0, .name = "cbr0"};
	t->addrs[p->n_addrs++] = (struct vl_plan_addr){.ns = 0, .dev = "cbr0", .addr = {0x0af40001u, 24}};

	cr_assert_eq(vl_apply_up(p, NULL, NULL, &err), 0, "apply: %s", err.msg);
	cr_assert_eq(ping_from(t->ns[1].name, "10.244.0.3"), 0, "pod-0 cannot ping pod-1");
	cr_assert_eq(ping_from(t->ns[2].name, "10.244.0.1"), 0, "pod-1 cannot ping cbr0");
	out = runf("ip -n %s -o link show veth1", t->ns[0].name);
	cr_assert(strstr(out, "master cbr0") && strstr(out, "state UP"), "%s", out);
	free(out);
	free(t);
}

struct claimed {
	int n;
	char names[260][VL_NS_NAME_MAX];
};

static int claim_all(const char *name, bool claim, void *arg)
{
	struct claimed *c = arg;

	if (claim)
		snprintf(c->names[c->n++], VL_NS_NAME_MAX, "%s", name);
	return 0;
}

/*
 * More links in one namespace than a send window: the duplicate's EEXIST
 * comes back while later links are queued. The failed run frees what it
 * built (the ASan build checks) and leaves only namespaces it recorded.
 */
Test(kernel, apply_failure_past_a_window_leaves_only_recorded)
{
	struct vl_error err = {0};
	struct claimed *c = calloc(1, sizeof(*c));
	char lab[80], want[200];
	struct test_plan *t;
	struct dirent *e;
	DIR *d;
	int left = 0;

	skip_unless_root();
	cr_assert_not_null(c);
	snprintf(lab, sizeof(lab), "%sw-", prefix);
	t = make_plan(lab, 140);
	snprintf(t->links[1].name, IFNAMSIZ, "n0");
	cr_assert_lt(vl_apply_up(&t->plan, claim_all, c, &err), 0);
	snprintf(want, sizeof(want), "creating veth n0 in %sfabric: File exists", lab);
	cr_assert(strstr(err.msg, want), "got \"%s\"", err.msg);
	d = opendir(VL_NETNS_DIR);
	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		bool recorded = false;

		if (strncmp(e->d_name, lab, strlen(lab)))
			continue;
		left++;
		for (int i = 0; i < c->n && !recorded; i++)
			recorded = !strcmp(c->names[i], e->d_name);
		cr_assert(recorded, "%s exists but was not recorded", e->d_name);
	}
	closedir(d);
	/* links are made while namespaces still are: the failure may stop that early */
	cr_assert(left >= 2 && left <= (int)t->plan.n_ns, "%d of %zu namespaces", left, t->plan.n_ns);
	for (int i = 0; i < c->n; i++)
		cr_assert_eq(vl_netns_delete(c->names[i]), 0);
	free(c);
	free(t);
}
