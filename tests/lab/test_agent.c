// SPDX-License-Identifier: MIT
/*
 * The agent and the probe on real namespaces (root). A lab built by hand with
 * `ip` as a witness, two VNets each with its own fabric holding 168.63.129.16
 * on lo: a (10.77.1.4) -- fabric.v1 -- b (10.77.2.4), and c (10.78.1.4) --
 * fabric.v2; the fabrics forwarding and, for the drop tests, nftables rules
 * logging to NFLOG. `dig` witnesses the DNS answers.
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
static struct vl_endpoint eps[3];
static struct vl_vnet vnets[] = {{.name = "v1"}, {.name = "v2"}};
static struct vl_subnet subnets[] = {{.name = "s1", .vnet = 0}, {.name = "s2", .vnet = 0}, {.name = "s3", .vnet = 1}};
static struct vl_lab lab;
static uint32_t ip_a, ip_b, ip_c, ip_dns = VL_IP_AZURE_PLATFORM;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_lt(n, (int)sizeof(cmd), "command too long");
	return system(cmd);
}

static void teardown(void)
{
	if (dir[0]) {
		vl_agent_stop(dir);
		sh("rm -rf %s", dir);
	}
	if (lab_name[0])
		sh("for n in a b c fabric.v1 fabric.v2; do ip netns del vl-%s-$n 2>/dev/null; done; true", lab_name);
}

static void setup(void)
{
	const char *l = lab_name;

	snprintf(lab_name, sizeof(lab_name), "ta%d", getpid() % 100000);
	snprintf(dir, sizeof(dir), "/tmp/vl-agent-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	vl_ip_parse("10.77.1.4", &ip_a);
	vl_ip_parse("10.77.2.4", &ip_b);
	vl_ip_parse("10.78.1.4", &ip_c);
	eps[0] = (struct vl_endpoint){.name = "a",
				      .subnet = 0,
				      .ip = ip_a,
				      .nic = 0,
				      .app = VL_APP_ECHO,
				      .ports = echo_ports,
				      .n_ports = 1};
	eps[1] = (struct vl_endpoint){.name = "b",
				      .subnet = 1,
				      .ip = ip_b,
				      .nic = 1,
				      .app = VL_APP_HELLO,
				      .ports = hello_ports,
				      .n_ports = 1};
	eps[2] = (struct vl_endpoint){.name = "c", .subnet = 2, .ip = ip_c, .nic = 2};
	lab = (struct vl_lab){.name = lab_name,
			      .vnets = vnets,
			      .n_vnets = 2,
			      .subnets = subnets,
			      .n_subnets = 3,
			      .eps = eps,
			      .n_eps = 3};

	int rc = sh(
	    "set -e; L=vl-%s; for n in a b c fabric.v1 fabric.v2; do ip netns add $L-$n; ip -n $L-$n link set lo up; "
	    "done;"
	    "for f in v1 v2; do ip netns exec $L-fabric.$f sysctl -qw net.ipv4.ip_forward=1;"
	    " ip -n $L-fabric.$f addr add 168.63.129.16/32 dev lo; done;"
	    "ip -n $L-fabric.v1 link add n0 type veth peer name eth0 netns $L-a;"
	    "ip -n $L-fabric.v1 link add n1 type veth peer name eth0 netns $L-b;"
	    "ip -n $L-fabric.v2 link add n2 type veth peer name eth0 netns $L-c;"
	    "ip -n $L-fabric.v1 addr add 10.77.1.1/24 dev n0; ip -n $L-fabric.v1 addr add 10.77.2.1/24 dev n1;"
	    "ip -n $L-fabric.v2 addr add 10.78.1.1/24 dev n2;"
	    "ip -n $L-fabric.v1 link set n0 up; ip -n $L-fabric.v1 link set n1 up; ip -n $L-fabric.v2 link set n2 up;"
	    "ip -n $L-a addr add 10.77.1.4/24 dev eth0; ip -n $L-a link set eth0 up;"
	    "ip -n $L-b addr add 10.77.2.4/24 dev eth0; ip -n $L-b link set eth0 up;"
	    "ip -n $L-c addr add 10.78.1.4/24 dev eth0; ip -n $L-c link set eth0 up;"
	    "ip -n $L-a route add default via 10.77.1.1; ip -n $L-b route add default via 10.77.2.1;"
	    "ip -n $L-c route add default via 10.78.1.1",
	    l);
	if (rc != 0)
		teardown(); /* criterion skips .fini when .init fails */
	cr_assert_eq(rc, 0, "lab setup with ip failed");
}

static void setup_nft(void)
{
	int rc;

	setup();
	rc = sh("ip netns exec vl-%s-fabric.v1 nft -f - <<'EOF'\n"
	       "table ip vnetlab {\n"
	       " chain forward {\n"
	       "  type filter hook forward priority 0; policy accept;\n"
	       "  ct state established,related accept\n"
	       "  tcp dport 9000 log group 7 prefix \"nsg1/deny-x\" drop\n"
	       "  udp dport 9001 log group 7 prefix \"nsg1/deny-udp\" drop\n"
	       "  icmp type echo-request ip daddr 10.77.2.4 log group 7 prefix \"nsg2/deny-icmp\" drop\n"
	       " }\n"
	       "}\n"
	       "EOF\n"
	       "ip netns exec vl-%s-fabric.v2 nft -f - <<'EOF'\n"
	       "table ip vnetlab {\n"
	       " chain input {\n"
	       "  type filter hook input priority 0; policy accept;\n"
	       "  tcp dport 9002 log group 7 prefix \"nsg3/deny-c\" drop\n"
	       " }\n"
	       "}\n"
	       "EOF",
	       lab_name, lab_name);
	if (rc != 0)
		teardown();
	cr_assert_eq(rc, 0, "nft setup failed");
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

	/* nothing answers at 10.77.3.9: the fabric has no route, so ICMP net unreachable */
	vl_ip_parse("10.77.3.9", &ip_b);
	probe(0, ip_b, VL_PROTO_ICMP, 0, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_UNREACHABLE, "%s", vl_probe_status_name(r.status));
}

/* A file's contents (the agent log), malloc'd. */
static char *slurp(const char *path)
{
	static char buf[16384];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* What a command prints (first 4 KiB). */
static char *out_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *out_of(const char *fmt, ...)
{
	static char buf[4096];
	char cmd[1024];
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	pclose(f);
	return buf;
}

Test(agent, dns_in_every_vnet_fabric)
{
	struct vl_probe_result r;
	char *out;

	/* the NSG stages deny everything: platform DNS still answers (it is not forwarded) */
	cr_assert_eq(sh("for f in v1 v2; do ip netns exec vl-%s-fabric.$f nft 'add table ip t; "
			"add chain ip t deny { type filter hook forward priority 0; policy drop; }'; done",
			lab_name),
		     0);
	start();
	probe(0, ip_dns, VL_PROTO_UDP, 53, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED, "%s", vl_probe_status_name(r.status));
	cr_assert_str_eq(r.seen_source, "", "a DNS answer names no client");
	probe(2, ip_dns, VL_PROTO_UDP, 53, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED, "from the other VNet: %s", vl_probe_status_name(r.status));
	probe(1, ip_dns, VL_PROTO_TCP, 53, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED, "%s", vl_probe_status_name(r.status));
	cr_assert_lt(r.ms, 500, "a TCP probe to the platform address waits for no app: %.1f ms", r.ms);

	out = out_of("ip netns exec vl-%s-a dig +short +time=1 +tries=1 @168.63.129.16 -q b 2>&1", lab_name);
	cr_assert_str_eq(out, "10.77.2.4\n");
	out = out_of("ip netns exec vl-%s-a dig +short +time=1 +tries=1 @168.63.129.16 B.Internal.CloudApp.Net. 2>&1",
		     lab_name);
	cr_assert_str_eq(out, "10.77.2.4\n");
	out = out_of("ip netns exec vl-%s-b dig +tcp +short +time=1 +tries=1 @168.63.129.16 a.internal.cloudapp.net "
		     "2>&1",
		     lab_name);
	cr_assert_str_eq(out, "10.77.1.4\n", "over TCP: %s", out);
	out = out_of("ip netns exec vl-%s-a dig +time=1 +tries=1 @168.63.129.16 -q a -t AAAA 2>&1", lab_name);
	cr_assert_not_null(strstr(out, "status: NOERROR"), "%s", out);
	cr_assert_not_null(strstr(out, "ANSWER: 0"), "%s", out);
	cr_assert_not_null(strstr(out, "flags: qr aa rd ra;"), "%s", out);

	/* names do not resolve across VNets: each fabric's DNS knows its own VNet only */
	out = out_of("ip netns exec vl-%s-a dig +time=1 +tries=1 @168.63.129.16 -q c 2>&1", lab_name);
	cr_assert_not_null(strstr(out, "status: NXDOMAIN"), "%s", out);
	out = out_of("ip netns exec vl-%s-c dig +tcp +time=1 +tries=1 @168.63.129.16 -q a 2>&1", lab_name);
	cr_assert_not_null(strstr(out, "status: NXDOMAIN"), "%s", out);
	out = out_of("ip netns exec vl-%s-c dig +short +time=1 +tries=1 @168.63.129.16 c.internal.cloudapp.net 2>&1",
		     lab_name);
	cr_assert_str_eq(out, "10.78.1.4\n");
	{
		char path[128];

		snprintf(path, sizeof(path), "%s/agent.log", dir);
		out = slurp(path);
		cr_assert_not_null(strstr(out, "dns 168.63.129.16:53 udp+tcp in vl-"), "%s", out);
		cr_assert_not_null(strstr(out, "-fabric.v2\n"), "%s", out);
	}
}

Test(agent, dns_without_the_platform_address)
{
	struct vl_probe_result r;
	char path[128];

	cr_assert_eq(sh("ip -n vl-%s-fabric.v2 addr del 168.63.129.16/32 dev lo", lab_name), 0);
	start();
	snprintf(path, sizeof(path), "%s/agent.log", dir);
	cr_assert_not_null(strstr(slurp(path), "no 168.63.129.16 in vl-"), "%s", slurp(path));
	probe(0, ip_dns, VL_PROTO_UDP, 53, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_CONNECTED, "the other fabric still answers: %s",
		     vl_probe_status_name(r.status));
}

Test(agent, unreachable_means_no_way_there)
{
	struct vl_probe_result r;
	uint32_t t;
	static const enum vl_proto protos[] = {VL_PROTO_TCP, VL_PROTO_UDP, VL_PROTO_ICMP};

	/* in the endpoint: an unreachable and a prohibit route (the socket call fails at once) */
	cr_assert_eq(sh("ip -n vl-%s-a route add unreachable 10.77.9.0/24 && "
			"ip -n vl-%s-a route add prohibit 10.77.7.0/24 && "
			"ip -n vl-%s-fabric.v1 route add unreachable 10.77.8.0/24 && "
			"ip netns exec vl-%s-fabric.v1 sysctl -qw net.ipv4.icmp_ratemask=0",
			lab_name, lab_name, lab_name, lab_name),
		     0);
	start();
	for (size_t i = 0; i < 3; i++) {
		const char *what[] = {"tcp", "udp", "icmp"};

		vl_ip_parse("10.77.9.9", &t);
		probe(0, t, protos[i], 80, 2000, &r);
		cr_assert_eq(r.status, VL_PROBE_UNREACHABLE, "%s, local unreachable route: %s", what[i],
			     vl_probe_status_name(r.status));
		vl_ip_parse("10.77.7.7", &t);
		probe(0, t, protos[i], 80, 2000, &r);
		cr_assert_eq(r.status, VL_PROBE_UNREACHABLE, "%s, prohibit route: %s", what[i],
			     vl_probe_status_name(r.status));
		/*
		 * In the fabric: it answers ICMP host unreachable. The kernel sends at most 5 such
		 * errors in a burst per source address (net.ipv4.route.error_cost/burst, not per
		 * namespace) on top of icmp_ratelimit (off above): a and b share the six.
		 */
		vl_ip_parse("10.77.8.8", &t);
		probe(0, t, protos[i], 80, 2000, &r);
		cr_assert_eq(r.status, VL_PROBE_UNREACHABLE, "%s, the fabric's unreachable route: %s", what[i],
			     vl_probe_status_name(r.status));
		cr_assert_lt(r.ms, 1000, "%s: the ICMP error ends the wait (%.1f ms)", what[i], r.ms);
		/* no route at all in the fabric: net unreachable */
		vl_ip_parse("10.99.0.1", &t);
		probe(1, t, protos[i], 80, 2000, &r);
		cr_assert_eq(r.status, VL_PROBE_UNREACHABLE, "%s, no route: %s", what[i],
			     vl_probe_status_name(r.status));
	}
	/* the target itself saying no stays refused */
	probe(0, ip_b, VL_PROTO_TCP, 81, 2000, &r);
	cr_assert_eq(r.status, VL_PROBE_REFUSED, "%s", vl_probe_status_name(r.status));
	probe(1, ip_a, VL_PROTO_UDP, 8, 2000, &r);
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

	/* the other VNet's fabric reports its drops too */
	probe(2, ip_dns, VL_PROTO_TCP, 9002, 3000, &r);
	cr_assert_eq(r.status, VL_PROBE_DROPPED, "fabric.v2: %s", vl_probe_status_name(r.status));
	cr_assert_str_eq(r.nsg, "nsg3");
	cr_assert_str_eq(r.rule, "deny-c");

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
