// SPDX-License-Identifier: MIT
/*
 * NSG semantics in real namespaces: for a table of flows, the evaluator
 * (`explain`) and the kernel (`probe`) must agree on the access and on the
 * NSG/rule that decided. Then live edits: an edit changes new flows only,
 * a conflicting edit is refused and changes nothing, add/delete take effect.
 * Each suite has its own lab (unique name) and removes it in .fini.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/helpers.h"
#include "vnetlab/rootless.h"

#define PROBE_TIMEOUT_MS 1500

static void lab_up(const char *prefix, const char *topo)
{
	th_lab_up(prefix, topo);
}

static char *probe(const char *from, const char *to, int port, const char *proto)
{
	return th_probe(from, to, port, proto, PROBE_TIMEOUT_MS);
}

#define explain th_explain
#define assert_key th_assert_key

/* ------------------------------------------------------------------------------------------ */
/* 1. The agreement table                                                                      */

#define TABLE_TOPO                                                                                 \
	"vnets:\n"                                                                                 \
	"  - name: v\n"                                                                            \
	"    addressSpace: [10.63.0.0/16]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: front, addressPrefix: 10.63.1.0/24, networkSecurityGroup: frontNsg}\n"     \
	"      - {name: back, addressPrefix: 10.63.2.0/24, networkSecurityGroup: backNsg}\n"       \
	"      - name: aci\n"                                                                      \
	"        addressPrefix: 10.63.3.0/24\n"                                                    \
	"        delegation: Microsoft.ContainerInstance/containerGroups\n"                        \
	"        networkSecurityGroup: aciNsg\n"                                                   \
	"networkSecurityGroups:\n"                                                                 \
	"  - name: frontNsg\n"                                                                     \
	"    securityRules:\n"                                                                     \
	"      - {name: deny-intra-http, priority: 100, direction: Inbound, access: Deny, "        \
	"protocol: Tcp, sourceAddressPrefix: 10.63.1.4, sourcePortRange: '*', "                    \
	"destinationAddressPrefix: 10.63.1.5, destinationPortRange: '80'}\n"                       \
	"      - {name: deny-port-list, priority: 200, direction: Inbound, access: Deny, "         \
	"protocol: Tcp, sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRanges: ['22', '8443-8444']}\n"             \
	"      - {name: deny-8080, priority: 300, direction: Inbound, access: Deny, "              \
	"protocol: Tcp, sourceAddressPrefix: 10.63.2.0/24, sourcePortRange: '*', "                 \
	"destinationAddressPrefix: '*', destinationPortRange: '8080'}\n"                           \
	"      - {name: allow-8080, priority: 310, direction: Inbound, access: Allow, "            \
	"protocol: Tcp, sourceAddressPrefix: 10.63.2.0/24, sourcePortRange: '*', "                 \
	"destinationAddressPrefix: '*', destinationPortRange: '8080'}\n"                           \
	"      - {name: subnet-deny-aci, priority: 100, direction: Outbound, access: Deny, "       \
	"protocol: '*', sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: 10.63.3.0/24, destinationPortRange: '80'}\n"                    \
	"  - name: f1Nic\n"                                                                        \
	"    securityRules:\n"                                                                     \
	"      - {name: nic-deny-aci, priority: 100, direction: Outbound, access: Deny, "          \
	"protocol: '*', sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: 10.63.3.0/24, destinationPortRange: '80'}\n"                    \
	"  - name: backNsg\n"                                                                      \
	"    securityRules:\n"                                                                     \
	"      - {name: allow-front-5000, priority: 100, direction: Inbound, access: Allow, "      \
	"protocol: Tcp, sourceAddressPrefix: 10.63.1.0/24, sourcePortRange: '*', "                 \
	"destinationAddressPrefix: '*', destinationPortRange: '5000-5001'}\n"                      \
	"      - {name: deny-5000-5999, priority: 110, direction: Inbound, access: Deny, "         \
	"protocol: '*', sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '5000-5999'}\n"                      \
	"      - {name: deny-6000, priority: 120, direction: Inbound, access: Deny, "              \
	"protocol: '*', sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '6000'}\n"                           \
	"  - name: b1Nic\n"                                                                        \
	"    securityRules:\n"                                                                     \
	"      - {name: deny-ssh, priority: 100, direction: Inbound, access: Deny, "               \
	"protocol: Tcp, sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '22'}\n"                             \
	"      - {name: allow-6000, priority: 110, direction: Inbound, access: Allow, "            \
	"protocol: Tcp, sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '6000'}\n"                           \
	"      - {name: deny-udp-echo, priority: 130, direction: Inbound, access: Deny, "          \
	"protocol: Udp, sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '7'}\n"                              \
	"      - {name: deny-icmp, priority: 140, direction: Inbound, access: Deny, "              \
	"protocol: Icmp, sourceAddressPrefix: '*', sourcePortRange: '*', "                         \
	"destinationAddressPrefix: '*', destinationPortRange: '*'}\n"                              \
	"      - {name: allow-vnet-5000, priority: 150, direction: Inbound, access: Allow, "       \
	"protocol: Tcp, sourceAddressPrefix: VirtualNetwork, sourcePortRange: '*', "               \
	"destinationAddressPrefix: VirtualNetwork, destinationPortRange: '5000-5001'}\n"           \
	"  - name: aciNsg\n"                                                                       \
	"    securityRules:\n"                                                                     \
	"      - {name: allow-back-http, priority: 100, direction: Inbound, access: Allow, "       \
	"protocol: Tcp, sourceAddressPrefixes: [10.63.2.4/32, 10.63.2.5], sourcePortRange: '*', "  \
	"destinationAddressPrefix: '*', destinationPortRange: '80'}\n"                             \
	"      - {name: deny-all-in, priority: 200, direction: Inbound, access: Deny, "            \
	"protocol: '*', sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '*'}\n"                              \
	"vms:\n"                                                                                   \
	"  - {name: f1, subnet: front, networkSecurityGroup: f1Nic, app: echo, ports: [7, 22, 8080]}\n" \
	"  - {name: f2, subnet: front, app: hello, ports: [80]}\n"                                 \
	"  - {name: b1, subnet: back, networkSecurityGroup: b1Nic, app: echo, "                    \
	"ports: [7, 22, 5001, 6000]}\n"                                                            \
	"  - {name: b2, subnet: back, app: echo, ports: [7, 5000, 5002, 6000]}\n"                  \
	"containerGroups:\n"                                                                       \
	"  - {name: cg, subnet: aci, app: hello, ports: [80]}\n"

/* f1 10.63.1.4 (NIC f1Nic), f2 10.63.1.5, b1 10.63.2.4 (NIC b1Nic), b2 10.63.2.5, cg 10.63.3.4 */
struct flow {
	const char *from, *to;
	int port; /* 0: icmp */
	const char *proto;
	const char *access, *nsg, *rule;
	const char *result; /* what the kernel must say */
	const char *seen;   /* seenSource when connected through an app, or NULL */
	const char *why;
};

static const struct flow flows[] = {
    {"f1", "b2", 5000, "tcp", "Allow", "backNsg", "allow-front-5000", "connected", "10.63.1.4",
     "first match: Allow 100 before Deny 110 that also matches"},
    {"f1", "b2", 5002, "tcp", "Deny", "backNsg", "deny-5000-5999", "dropped", NULL,
     "port range N-M; 5002 outside the allow's 5000-5001"},
    {"cg", "b2", 5000, "tcp", "Deny", "backNsg", "deny-5000-5999", "dropped", NULL,
     "source outside the allow's prefix falls through to the deny"},
    {"b2", "f1", 8080, "tcp", "Deny", "frontNsg", "deny-8080", "dropped", NULL,
     "equal match: Deny 300 wins over Allow 310"},
    {"b2", "f1", 22, "tcp", "Deny", "frontNsg", "deny-port-list", "dropped", NULL,
     "destinationPortRanges list ['22', '8443-8444']"},
    {"f1", "b1", 22, "tcp", "Deny", "b1Nic", "deny-ssh", "dropped", NULL,
     "inbound: subnet allows, NIC denies -> NIC rule"},
    {"f1", "b1", 6000, "tcp", "Deny", "backNsg", "deny-6000", "dropped", NULL,
     "inbound: subnet denies though the NIC allows -> subnet rule"},
    {"f1", "cg", 80, "tcp", "Deny", "f1Nic", "nic-deny-aci", "dropped", NULL,
     "outbound: NIC NSG before subnet NSG (both deny)"},
    {"f2", "cg", 80, "tcp", "Deny", "frontNsg", "subnet-deny-aci", "dropped", NULL,
     "outbound: no NIC NSG, the subnet NSG decides"},
    {"b1", "cg", 80, "tcp", "Allow", "aciNsg", "allow-back-http", "connected", "10.63.2.4",
     "plural sourceAddressPrefixes; ACI: subnet NSG only"},
    {"f1", "f2", 80, "tcp", "Deny", "frontNsg", "deny-intra-http", "dropped", NULL,
     "intra-subnet traffic crosses the subnet NSG"},
    {"b2", "b1", 22, "tcp", "Deny", "b1Nic", "deny-ssh", "dropped", NULL,
     "intra-subnet traffic crosses the NIC NSG"},
    {"b1", "b2", 7, "tcp", "Allow", "backNsg", "AllowVnetInBound", "connected", "10.63.2.4",
     "intra-subnet allowed by the default AllowVnetInBound"},
    {"f1", "b1", 7, "udp", "Deny", "b1Nic", "deny-udp-echo", "dropped", NULL, "Udp deny"},
    {"f1", "b1", 7, "tcp", "Allow", "b1Nic", "AllowVnetInBound", "connected", "10.63.1.4",
     "the Udp deny does not touch Tcp"},
    {"f1", "b2", 6000, "udp", "Deny", "backNsg", "deny-6000", "dropped", NULL,
     "protocol * covers Udp"},
    {"f1", "b1", 0, "icmp", "Deny", "b1Nic", "deny-icmp", "dropped", NULL, "Icmp deny"},
    {"f1", "b2", 0, "icmp", "Allow", "backNsg", "AllowVnetInBound", "connected", NULL,
     "protocol * rules that name ports do not catch ICMP"},
    {"f1", "b1", 5001, "tcp", "Allow", "b1Nic", "allow-vnet-5000", "connected", "10.63.1.4",
     "service tag VirtualNetwork in a custom rule"},
    {"f1", "b2", 9, "tcp", "Allow", "backNsg", "AllowVnetInBound", "refused", NULL,
     "allowed to a closed port: a reset, not a drop"},
    {"cg", "f1", 7, "udp", "Allow", "f1Nic", "AllowVnetInBound", "connected", "10.63.3.4",
     "allowed through every NSG: the last one (NIC) reports"},
};

static void table_setup(void)
{
	lab_up("tn", TABLE_TOPO);
}

TestSuite(nsg_table, .init = table_setup, .fini = th_lab_down, .timeout = 120);

Test(nsg_table, explain_and_kernel_agree_on_every_flow)
{
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		const struct flow *f = &flows[i];
		char what[256], *e, *p;

		snprintf(what, sizeof(what), "row %zu %s -> %s:%d/%s (%s)", i, f->from, f->to, f->port,
			 f->proto, f->why);
		e = explain(f->from, f->to, f->port, f->proto);
		assert_key(e, "access", f->access, what);
		assert_key(e, "nsg", f->nsg, what);
		assert_key(e, "rule", f->rule, what);
		free(e);

		p = probe(f->from, f->to, f->port, f->proto);
		assert_key(p, "result", f->result, what);
		if (!strcmp(f->access, "Deny")) {
			assert_key(p, "nsg", f->nsg, what);
			assert_key(p, "rule", f->rule, what);
		}
		if (f->seen)
			assert_key(p, "seenSource", f->seen, what);
		free(p);
	}
}

/* ------------------------------------------------------------------------------------------ */
/* 2–3. Live edits                                                                             */

#define EDIT_TOPO                                                                                  \
	"vnets:\n"                                                                                 \
	"  - name: v\n"                                                                            \
	"    addressSpace: [10.64.0.0/16]\n"                                                       \
	"    subnets:\n"                                                                           \
	"      - {name: s, addressPrefix: 10.64.1.0/24}\n"                                         \
	"networkSecurityGroups:\n"                                                                 \
	"  - name: n2\n"                                                                           \
	"    securityRules:\n"                                                                     \
	"      - {name: allow-echo, priority: 100, direction: Inbound, access: Allow, "            \
	"protocol: Tcp, sourceAddressPrefix: 10.64.1.4, sourcePortRange: '*', "                    \
	"destinationAddressPrefix: '*', destinationPortRange: '7'}\n"                              \
	"      - {name: deny-all, priority: 300, direction: Inbound, access: Deny, "               \
	"protocol: '*', sourceAddressPrefix: '*', sourcePortRange: '*', "                          \
	"destinationAddressPrefix: '*', destinationPortRange: '*'}\n"                              \
	"vms:\n"                                                                                   \
	"  - {name: vm1, subnet: s, app: echo, ports: [7]}\n"                                      \
	"  - {name: vm2, subnet: s, networkSecurityGroup: n2, app: echo, ports: [7]}\n"

#define VM1_IP "10.64.1.4"
#define VM2_IP "10.64.1.5"

static void edit_setup(void)
{
	lab_up("te", EDIT_TOPO);
}

TestSuite(nsg_edit, .init = edit_setup, .fini = th_lab_down, .timeout = 60);

/* vnetlab nsg rule VERB LAB n2 RULE ARGS */
static char *edit(int *st, const char *verb, const char *rule, const char *args)
{
	return th_run(st, "%s nsg rule %s %s n2 %s %s 2>&1", th_vnetlab(), verb, th_lab.name, rule, args);
}

static void expect_probe(const char *result, const char *rule)
{
	char *p = probe("vm1", "vm2", 7, "tcp"), *ms;

	assert_key(p, "result", result, "vm1 -> vm2:7");
	if (rule) {
		assert_key(p, "nsg", "n2", "vm1 -> vm2:7");
		assert_key(p, "rule", rule, "vm1 -> vm2:7");
		/* the drop is attributed as it happens, not found by waiting out the timeout */
		ms = th_json_get(p, "ms");
		cr_assert(*ms && atof(ms) < PROBE_TIMEOUT_MS, "dropped only at the timeout: %s", p);
		free(ms);
	} else {
		assert_key(p, "seenSource", VM1_IP, "vm1 -> vm2:7");
	}
	free(p);
}

static void expect_explain(const char *access, const char *rule)
{
	char *e = explain("vm1", "vm2", 7, "tcp");

	assert_key(e, "access", access, "explain vm1 -> vm2:7");
	assert_key(e, "nsg", "n2", "explain vm1 -> vm2:7");
	assert_key(e, "rule", rule, "explain vm1 -> vm2:7");
	free(e);
}

/* Read until a newline (or len-1 bytes) with an overall deadline; returns bytes read. */
static size_t read_line(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t n = 0;

	while (n + 1 < len && (n == 0 || buf[n - 1] != '\n')) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			break;
		r = read(fd, buf + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	return n;
}

/*
 * Rootless, the lab's /run/netns is seen from its user and mount namespaces only, which a
 * threaded process cannot join: a child joins, makes the socket in vm1 and hands it over.
 */
static int connect_rootless(const char *path)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0}, byte = 0;
	struct iovec iov = {&byte, 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(7)};
	struct timeval tv = {.tv_sec = 3};
	int sp[2], fd = -1, st;
	pid_t pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct vl_error e = {0};
		int ns, s;

		if (vl_state_enter_lab(th_lab.name, &e) || (ns = open(path, O_RDONLY | O_CLOEXEC)) < 0 ||
		    setns(ns, CLONE_NEWNET) < 0 || (s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
			_exit(1);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &s, sizeof(int));
		_exit(sendmsg(sp[1], &mh, 0) == 1 ? 0 : 1);
	}
	close(sp[1]);
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child could not make a socket in %s", path);
	cr_assert_eq(recvmsg(sp[0], &mh, 0), 1);
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&mh)), sizeof(int));
	close(sp[0]);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, VM2_IP, &sin.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "connect vm1 -> %s:7: %s", VM2_IP,
		     strerror(errno));
	return fd;
}

/* A TCP connection vm1 → vm2:7 made by this process from inside vm1's namespace. */
static int connect_from_vm1(void)
{
	char path[128];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(7)};
	struct timeval tv = {.tv_sec = 3};
	int self, ns, fd, r, err;

	snprintf(path, sizeof(path), "/run/netns/vl-%s-vm1", th_lab.name);
	if (th_rootless())
		return connect_rootless(path);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cr_assert(self >= 0, "open own netns: %s", strerror(errno));
	ns = open(path, O_RDONLY | O_CLOEXEC);
	cr_assert(ns >= 0, "open %s: %s", path, strerror(errno));
	cr_assert_eq(setns(ns, CLONE_NEWNET), 0, "setns %s: %s", path, strerror(errno));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	err = errno;
	/* back to our own namespace before anything can fail */
	cr_assert_eq(setns(self, CLONE_NEWNET), 0, "restore netns: %s", strerror(errno));
	close(ns);
	close(self);
	cr_assert(fd >= 0, "socket: %s", strerror(err));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, VM2_IP, &sin.sin_addr);
	r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	cr_assert_eq(r, 0, "connect vm1 -> %s:7: %s", VM2_IP, strerror(errno));
	return fd;
}

Test(nsg_edit, live_edit_changes_new_flows_only)
{
	char buf[256], *out;
	int fd, st;

	expect_probe("connected", NULL);
	fd = connect_from_vm1();
	read_line(fd, buf, sizeof(buf), 2000);
	cr_assert(strstr(buf, "vnetlab-echo") && strstr(buf, "seen-source=" VM1_IP),
		  "greeting from the echo app: '%s'", buf);

	out = edit(&st, "set", "allow-echo", "--priority 400");
	cr_assert_eq(st, 0, "set priority 400: %s", out);
	free(out);
	expect_explain("Deny", "deny-all");
	expect_probe("dropped", "deny-all");

	/* the flow established before the edit lives on */
	cr_assert_eq(write(fd, "ping\n", 5), 5);
	read_line(fd, buf, sizeof(buf), 2000);
	cr_assert_str_eq(buf, "ping\n", "the established connection no longer echoes");
	close(fd);

	out = edit(&st, "set", "allow-echo", "--priority 100");
	cr_assert_eq(st, 0, "set priority 100: %s", out);
	free(out);
	expect_explain("Allow", "allow-echo");
	expect_probe("connected", NULL);
}

Test(nsg_edit, refused_edits_change_nothing_and_add_delete_take_effect)
{
	char *out;
	int st;

	expect_probe("connected", NULL);

	/* same priority and direction as deny-all */
	out = edit(&st, "set", "allow-echo", "--priority 300");
	cr_assert_neq(st, 0, "a conflicting priority was accepted: %s", out);
	cr_assert(strstr(out, "SecurityRuleConflict"), "%s", out);
	free(out);
	expect_explain("Allow", "allow-echo");
	expect_probe("connected", NULL);

	/* default rules cannot be deleted or changed */
	out = edit(&st, "delete", "DenyAllInBound", "");
	cr_assert_neq(st, 0, "deleting a default rule was accepted: %s", out);
	free(out);
	out = edit(&st, "set", "DenyAllInBound", "--access Allow");
	cr_assert_neq(st, 0, "changing a default rule was accepted: %s", out);
	free(out);
	expect_probe("connected", NULL);

	/* a new Deny between the allow (100) and deny-all (300) */
	out = edit(&st, "add", "too-low", "--priority 90 --access Deny --protocol Tcp --destination-port-ranges 7");
	cr_assert_neq(st, 0, "priority 90 (< 100) was accepted: %s", out);
	free(out);
	out = edit(&st, "add", "block-echo", "--priority 150 --access Deny --protocol Tcp --destination-port-ranges 7");
	cr_assert_eq(st, 0, "add: %s", out);
	free(out);
	/* allow-echo (100) still comes first: first match wins */
	expect_explain("Allow", "allow-echo");
	expect_probe("connected", NULL);
	/* move it behind the new rule */
	out = edit(&st, "set", "allow-echo", "--priority 200");
	cr_assert_eq(st, 0, "set 200: %s", out);
	free(out);
	expect_explain("Deny", "block-echo");
	expect_probe("dropped", "block-echo");

	out = edit(&st, "delete", "block-echo", "");
	cr_assert_eq(st, 0, "delete: %s", out);
	free(out);
	expect_explain("Allow", "allow-echo");
	expect_probe("connected", NULL);

	/* a second delete of the same rule is an error */
	out = edit(&st, "delete", "block-echo", "");
	cr_assert_neq(st, 0, "deleting a missing rule succeeded: %s", out);
	free(out);
}

/* Lists of three or more ranges live in shared named sets: edits create and remove them. */
static void expect_list_sets(const char *n, const char *what)
{
	char *sets = th_run(NULL, "ip netns exec vl-%s-fabric.v nft list sets ip 2>&1 | grep -c 'set [ap][0-9a-f]'",
			    th_lab.name);

	cr_assert_str_eq(sets, n, "%s: %s", what, sets);
	free(sets);
}

Test(nsg_edit, edits_bring_in_and_drop_list_sets)
{
	char *out;
	int st;

	expect_list_sets("0\n", "no list sets before");
	out = edit(&st, "set", "allow-echo", "--destination-port-ranges 5 7 9-11");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	expect_list_sets("1\n", "the port list became one set");
	expect_probe("connected", NULL);
	expect_explain("Allow", "allow-echo");
	out = edit(&st, "set", "allow-echo", "--destination-port-ranges 5 9 12");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	expect_list_sets("1\n", "the old set replaced by the new one");
	expect_probe("dropped", "deny-all");
	expect_explain("Deny", "deny-all");
	out = edit(&st, "set", "allow-echo", "--destination-port-ranges 7");
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	expect_list_sets("0\n", "the unused set is gone");
	expect_probe("connected", NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* 4. A long NSG: its chain is cut into chunks (lab/nft/nsgchain.c)                            */

#define LONG_N 200

/* Subnet NSG "big": LONG_N Inbound rules, all Deny of addresses outside the lab but r100 (Allow
 * lv0 -> :7) and r150 (Deny lv1 -> :7); then the defaults (AllowVnetInBound lets the rest in). */
static void long_setup(void)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);

	fputs("vnets:\n  - name: v\n    addressSpace: [10.65.0.0/16]\n    subnets:\n"
	      "      - {name: s, addressPrefix: 10.65.1.0/24, networkSecurityGroup: big}\n"
	      "networkSecurityGroups:\n  - name: big\n    securityRules:\n",
	      f);
	for (int i = 0; i < LONG_N; i++) {
		const char *src = i == 100 ? "10.65.1.4" : i == 150 ? "10.65.1.5" : NULL;

		fprintf(f, "      - {name: r%d, priority: %d, direction: Inbound, access: %s, protocol: Tcp, ", i,
			100 + i, i == 100 ? "Allow" : "Deny");
		if (src) /* r150's range cuts the run of keyable rules: a plain chunk between keyed ones */
			fprintf(f, "sourceAddressPrefix: %s, sourcePortRange: '*', destinationAddressPrefix: '*', "
				   "destinationPortRange: '%s'}\n",
				src, i == 150 ? "6-7" : "7");
		else
			fprintf(f, "sourceAddressPrefix: 172.17.%d.%d, sourcePortRange: '*', "
				   "destinationAddressPrefix: '*', destinationPortRange: '%d'}\n",
				i / 256, i % 256, 2000 + i);
	}
	fputs("vms:\n  - {name: lv0, subnet: s, app: echo, ports: [7, 8]}\n"
	      "  - {name: lv1, subnet: s, app: echo, ports: [7, 8]}\n",
	      f);
	fclose(f);
	lab_up("tl", yaml);
	free(yaml);
}

TestSuite(nsg_long, .init = long_setup, .fini = th_lab_down, .timeout = 60);

static void long_flow(const char *from, const char *to, int port, const char *access, const char *rule,
		      const char *result)
{
	char what[128], *e, *p;

	snprintf(what, sizeof(what), "%s -> %s:%d", from, to, port);
	e = explain(from, to, port, "tcp");
	assert_key(e, "access", access, what);
	assert_key(e, "rule", rule, what);
	free(e);
	p = probe(from, to, port, "tcp");
	assert_key(p, "result", result, what);
	if (!strcmp(access, "Deny"))
		assert_key(p, "rule", rule, what);
	free(p);
}

Test(nsg_long, chunked_chain_decides_as_the_evaluator_and_edits_live)
{
	char *out;
	int st;

	out = th_run(&st, "ip netns exec vl-%s-fabric.v nft list chain ip vnetlab in-big", th_lab.name);
	/* keyed chunks (one map lookup each), and plain ones: r150's (a port range) and the defaults' */
	cr_assert(strstr(out, "jump in-big/k"), "%d rules are cut into chunks: %s", LONG_N, out);
	cr_assert(strstr(out, "jump in-big/c"), "r150 is in a plain chunk: %s", out);
	free(out);
	out = th_run(&st, "ip netns exec vl-%s-fabric.v nft list ruleset", th_lab.name);
	cr_assert(strstr(out, "10.65.1.4 . 7 comment \"r100\""), "r100 is an element of a keyed chunk's map");
	free(out);
	long_flow("lv0", "lv1", 7, "Allow", "r100", "connected"); /* a middle chunk's Allow */
	long_flow("lv1", "lv0", 7, "Deny", "r150", "dropped");	  /* a later chunk's Deny */
	long_flow("lv0", "lv1", 8, "Allow", "AllowVnetInBound", "connected"); /* the last chunk */
	out = th_run(&st, "%s nsg rule update %s big r100 --access Deny 2>&1", th_vnetlab(), th_lab.name);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	long_flow("lv0", "lv1", 7, "Deny", "r100", "dropped");
	out = th_run(&st, "%s nsg rule delete %s big r150 2>&1", th_vnetlab(), th_lab.name);
	cr_assert_eq(st, 0, "%s", out);
	free(out);
	long_flow("lv1", "lv0", 7, "Allow", "AllowVnetInBound", "connected");
}
