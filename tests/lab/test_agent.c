// SPDX-License-Identifier: MIT
/*
 * The agent and the probe on real namespaces (root). A lab built by hand with
 * `ip` as a witness: a (10.77.1.4) -- fabric -- b (10.77.2.4), the fabric
 * forwarding and, for the drop tests, an nftables rule logging to NFLOG.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetlab/agent.h"
#include "vnetlab/ip.h"
#include "vnetlab/probe.h"

static char lab_name[16];
static char dir[64];
static uint16_t echo_ports[] = {7};
static uint16_t hello_ports[] = {80};
static struct vl_endpoint eps[2];
static struct vl_lab lab;
static uint32_t ip_a, ip_b;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static void teardown(void)
{
	if (dir[0]) {
		vl_agent_stop(dir);
		sh("rm -rf %s", dir);
	}
	sh("ip netns del vl-%s-a 2>/dev/null; ip netns del vl-%s-b 2>/dev/null; ip netns del vl-%s-fabric "
	   "2>/dev/null",
	   lab_name, lab_name, lab_name);
}

static void setup(void)
{
	const char *l = lab_name;

	snprintf(lab_name, sizeof(lab_name), "ta%d", getpid() % 100000);
	snprintf(dir, sizeof(dir), "/tmp/vl-agent-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	vl_ip_parse("10.77.1.4", &ip_a);
	vl_ip_parse("10.77.2.4", &ip_b);
	eps[0] = (struct vl_endpoint){
	    .name = "a", .ip = ip_a, .nic = 0, .app = VL_APP_ECHO, .ports = echo_ports, .n_ports = 1};
	eps[1] = (struct vl_endpoint){
	    .name = "b", .ip = ip_b, .nic = 1, .app = VL_APP_HELLO, .ports = hello_ports, .n_ports = 1};
	lab = (struct vl_lab){.name = lab_name, .eps = eps, .n_eps = 2};

	int rc =
	    sh("set -e; for n in a b fabric; do ip netns add vl-%s-$n; ip -n vl-%s-$n link set lo up; done;"
	       "ip -n vl-%s-fabric link add n0 type veth peer name eth0 netns vl-%s-a;"
	       "ip -n vl-%s-fabric link add n1 type veth peer name eth0 netns vl-%s-b;"
	       "ip netns exec vl-%s-fabric sysctl -qw net.ipv4.ip_forward=1;"
	       "ip -n vl-%s-fabric addr add 10.77.1.1/24 dev n0; ip -n vl-%s-fabric addr add 10.77.2.1/24 "
	       "dev n1;"
	       "ip -n vl-%s-fabric link set n0 up; ip -n vl-%s-fabric link set n1 up;"
	       "ip -n vl-%s-a addr add 10.77.1.4/24 dev eth0; ip -n vl-%s-a link set eth0 up;"
	       "ip -n vl-%s-b addr add 10.77.2.4/24 dev eth0; ip -n vl-%s-b link set eth0 up;"
	       "ip -n vl-%s-a route add default via 10.77.1.1; ip -n vl-%s-b route add default via 10.77.2.1",
	       l, l, l, l, l, l, l, l, l, l, l, l, l, l, l, l, l);
	cr_assert_eq(rc, 0, "lab setup with ip failed");
}

static void setup_nft(void)
{
	setup();
	cr_assert_eq(
	    sh("ip netns exec vl-%s-fabric nft -f - <<'EOF'\n"
	       "table ip vnetlab {\n"
	       " chain forward {\n"
	       "  type filter hook forward priority 0; policy accept;\n"
	       "  ct state established,related accept\n"
	       "  tcp dport 9000 log group 7 prefix \"nsg1/deny-x\" drop\n"
	       "  udp dport 9001 log group 7 prefix \"nsg1/deny-udp\" drop\n"
	       "  icmp type echo-request ip daddr 10.77.2.4 log group 7 prefix \"nsg2/deny-icmp\" drop\n"
	       " }\n"
	       "}\n"
	       "EOF",
	       lab_name),
	    0, "nft setup failed");
}

static void start(void)
{
	char why[512] = "";
	int rc = vl_agent_start(&lab, dir, why, sizeof(why));

	cr_assert_eq(rc, 0, "agent start: %d %s", rc, why);
}

static void probe(int from, uint32_t dst, enum vl_proto proto, uint16_t port, int timeout,
		  struct vl_probe_result *r)
{
	int rc = vl_probe_run(&lab, dir, from, dst, proto, port, timeout, r);

	cr_assert_eq(rc, 0, "probe: %s", strerror(-rc));
}

TestSuite(agent, .init = setup, .fini = teardown, .timeout = 60);

Test(agent, hello_echo_refused_icmp)
{
	struct vl_probe_result r;
	char want[16];

	start();
	probe(0, ip_b, VL_PROTO_TCP, 80, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED, "%s", vl_probe_status_name(r.status));
	cr_assert_str_eq(r.seen_source, vl_ip_fmt(ip_a, want));
	cr_assert_neq(r.sport, 0);

	probe(0, ip_b, VL_PROTO_TCP, 81, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_REFUSED, "%s", vl_probe_status_name(r.status));

	probe(1, ip_a, VL_PROTO_TCP, 7, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED);
	cr_assert_str_eq(r.seen_source, vl_ip_fmt(ip_b, want));

	probe(1, ip_a, VL_PROTO_UDP, 7, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED, "%s", vl_probe_status_name(r.status));
	cr_assert_str_eq(r.seen_source, vl_ip_fmt(ip_b, want));

	probe(1, ip_a, VL_PROTO_UDP, 8, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_REFUSED, "%s", vl_probe_status_name(r.status));

	probe(0, ip_b, VL_PROTO_ICMP, 0, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED, "%s", vl_probe_status_name(r.status));

	/* nothing answers at 10.77.3.9: the fabric has no route, so ICMP unreachable */
	vl_ip_parse("10.77.3.9", &ip_b);
	probe(0, ip_b, VL_PROTO_ICMP, 0, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_REFUSED, "%s", vl_probe_status_name(r.status));
}

Test(agent, curl_sees_client_address)
{
	FILE *f;
	char cmd[256], page[1024] = "";
	size_t n;

	start();
	snprintf(cmd, sizeof(cmd), "ip netns exec vl-%s-a curl -s --max-time 2 http://10.77.2.4/", lab_name);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	n = fread(page, 1, sizeof(page) - 1, f);
	page[n] = '\0';
	pclose(f);
	cr_assert_not_null(strstr(page, "10.77.1.4:"), "page: %s", page);
	cr_assert_not_null(strstr(page, "Hostname:</b> b"), "page: %s", page);
}

Test(agent, stop_removes_process_and_files)
{
	char path[128], buf[64] = "";
	FILE *f;
	int pid;

	start();
	snprintf(path, sizeof(path), "%s/agent.pid", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	pid = atoi(buf);
	cr_assert_gt(pid, 1);
	cr_assert_eq(kill(pid, 0), 0);
	{
		char why[256];

		cr_assert_eq(vl_agent_start(&lab, dir, why, sizeof(why)), -EEXIST);
	}
	cr_assert_eq(vl_agent_stop(dir), 0);
	cr_assert(kill(pid, 0) < 0 || access(path, F_OK) < 0);
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (access(path, F_OK) == 0) {
		/* only a zombie may remain, waiting for its (foreign) reaper */
		char st[512], *p;

		f = fopen(path, "r");
		cr_assert(fgets(st, sizeof(st), f));
		fclose(f);
		p = strrchr(st, ')');
		cr_assert(p && p[2] == 'Z', "agent still running: %s", st);
	}
	snprintf(path, sizeof(path), "%s/agent.sock", dir);
	cr_assert_neq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/agent.log", dir);
	cr_assert_eq(access(path, F_OK), 0);
	cr_assert_eq(vl_agent_stop(dir), 0, "stop is idempotent");
}

Test(agent, start_fails_with_reason)
{
	char why[512] = "";
	int rc;

	eps[1].name = "missing";
	rc = vl_agent_start(&lab, dir, why, sizeof(why));
	eps[1].name = "b";
	cr_assert_lt(rc, 0);
	cr_assert_not_null(strstr(why, "missing"), "why: %s", why);
}

Test(agent, probe_without_agent)
{
	struct vl_probe_result r;

	probe(0, ip_b, VL_PROTO_TCP, 81, 1000, &r);
	cr_assert_eq(r.status, VL_PROBE_REFUSED, "%s", vl_probe_status_name(r.status));
	probe(0, ip_b, VL_PROTO_ICMP, 0, 1000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED, "%s", vl_probe_status_name(r.status));
}

TestSuite(drops, .init = setup_nft, .fini = teardown, .timeout = 60);

Test(drops, attributed_before_timeout)
{
	struct vl_probe_result r;
	char path[128], log[8192];
	FILE *f;
	size_t n;

	start();
	probe(0, ip_b, VL_PROTO_TCP, 9000, 3000, &r);
	cr_assert_eq(r.status, VL_PROBE_DROPPED, "%s", vl_probe_status_name(r.status));
	cr_assert_str_eq(r.nsg, "nsg1");
	cr_assert_str_eq(r.rule, "deny-x");
	cr_assert_lt(r.ms, 1000, "attribution took %.1f ms", r.ms);

	probe(0, ip_b, VL_PROTO_UDP, 9001, 3000, &r);
	cr_assert_eq(r.status, VL_PROBE_DROPPED, "%s", vl_probe_status_name(r.status));
	cr_assert_str_eq(r.rule, "deny-udp");

	probe(0, ip_b, VL_PROTO_ICMP, 0, 3000, &r);
	cr_assert_eq(r.status, VL_PROBE_DROPPED, "%s", vl_probe_status_name(r.status));
	cr_assert_str_eq(r.nsg, "nsg2");

	/* the other direction and allowed ports are untouched */
	probe(0, ip_b, VL_PROTO_TCP, 80, 3000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED);

	snprintf(path, sizeof(path), "%s/agent.log", dir);
	f = fopen(path, "r");
	cr_assert_not_null(f);
	n = fread(log, 1, sizeof(log) - 1, f);
	log[n] = '\0';
	fclose(f);
	cr_assert_not_null(strstr(log, "drop tcp 10.77.1.4 "), "%s", log);
	cr_assert_not_null(strstr(log, " 10.77.2.4 9000 nsg1/deny-x"), "%s", log);
}

Test(drops, without_agent_it_is_a_timeout)
{
	struct vl_probe_result r;

	probe(0, ip_b, VL_PROTO_TCP, 9000, 500, &r);
	cr_assert_eq(r.status, VL_PROBE_TIMEOUT, "%s", vl_probe_status_name(r.status));
	cr_assert_geq(r.ms, 450);
}
