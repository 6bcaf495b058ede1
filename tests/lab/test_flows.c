// SPDX-License-Identifier: MIT
/*
 * Flow logs and the ruleset's log limits (root): an allowed and a denied probe become flow
 * records and NSG flow log version 2 records (parsed here with python3's json); a UDP flood to
 * a denied port logs at most the ruleset's limit and still names its rule; many live edits
 * compact the journal and the kernel keeps agreeing with `nsg show`, also after a compaction
 * cut short between its steps. `flows` in tsv, yaml and none holds the json, and --follow -o json
 * is JSON Lines of the same records. Each test uses the suite's lab (fl<pid>), removed by .fini.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/helpers.h"
#include "vnetlab/flowlog.h"
#include "vnetlab/journal.h"
#include "vnetlab/nft.h"
#include "vnetlab/ops.h"
#include "vnetlab/state.h"

#define LAB                                                                                                \
	"vnets:\n"                                                                                         \
	"  - name: v\n"                                                                                    \
	"    addressSpace: [10.63.0.0/16]\n"                                                               \
	"    subnets:\n"                                                                                   \
	"      - {name: a, addressPrefix: 10.63.1.0/24}\n"                                                 \
	"      - {name: b, addressPrefix: 10.63.2.0/24, networkSecurityGroup: bnsg}\n"                     \
	"networkSecurityGroups:\n"                                                                         \
	"  - name: bnsg\n"                                                                                 \
	"    securityRules:\n"                                                                             \
	"      - {name: allow-web, priority: 100, direction: Inbound, access: Allow, protocol: Tcp,\n"     \
	"         sourceAddressPrefix: VirtualNetwork, sourcePortRange: '*', destinationAddressPrefix: '*',\n" \
	"         destinationPortRange: '80'}\n"                                                           \
	"      - {name: deny-9000, priority: 200, direction: Inbound, access: Deny, protocol: '*',\n"      \
	"         sourceAddressPrefix: '*', sourcePortRange: '*', destinationAddressPrefix: '*',\n"        \
	"         destinationPortRange: '9000'}\n"                                                         \
	"vms:\n"                                                                                           \
	"  - {name: c1, subnet: a}\n"                                                                      \
	"  - {name: s1, subnet: b, app: hello, ports: [80]}\n"

static void teardown(void);

static void setup(void)
{
	th_skip_cleanup = teardown; /* a skipped test's .fini does not run */
}

static void teardown(void)
{
	char name[sizeof(th_lab.name)];

	snprintf(name, sizeof(name), "%s", th_lab.name);
	th_lab_down();
	if (name[0])
		free(th_run(NULL,
			    "for n in $(ls /run/netns 2>/dev/null | grep '^vl-%s-'); do ip netns del $n; done;"
			    " rm -rf /run/vnetlab/%s /run/vnetlab/.%s.lock",
			    name, name, name));
}

TestSuite(flows, .init = setup, .fini = teardown, .timeout = 300);

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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Lines of the lab's flows file that contain needle. */
static int flow_lines(const char *needle)
{
	char *out = th_run(NULL, "grep -c -- '%s' /run/vnetlab/%s/" VL_FLOW_FILE " 2>/dev/null", needle, th_lab.name);
	int n = atoi(out);

	free(out);
	return n;
}

/* The agent writes a record as NFLOG delivers it: wait (bounded) until it is there. */
static bool wait_flow_line(const char *needle)
{
	for (int i = 0; i < 100; i++) {
		if (flow_lines(needle) > 0)
			return true;
		sleep_ms(50);
	}
	return false;
}

static char *probe_port(const char *to, const char *proto)
{
	char *out = th_probe("c1", to, 0, proto, 1000), *p = th_json_get(out, "sourcePort");

	free(out);
	return p;
}

/* The lab's flows in tsv, yaml and none hold what -o json holds, record by record. */
static void formats_hold_the_json(void)
{
	int st;
	char *out = th_run(&st,
			   "V=%s; L=%s; d=$(mktemp -d /tmp/fl-fmt-XXXXXX); $V flows $L -o json > $d/j && "
			   "$V flows $L -o tsv > $d/t && $V flows $L -o yaml > $d/y && $V flows $L -o none > $d/n && "
			   "python3 - $d 2>&1 <<'EOF'; rc=$?; rm -rf $d; exit $rc\n"
			   "import json, sys\n"
			   "d = sys.argv[1]\n"
			   "j = json.load(open(d + '/j'))['flows']\n"
			   "t = open(d + '/t').read().split('\\n')[:-1]\n"
			   "assert len(j) >= 3 and len(t) == len(j), (len(t), len(j))\n"
			   "for line, f in zip(t, j):\n"
			   "    x = line.split('\\t')\n"
			   "    assert len(x) == 13 and x[1] == str(f['unixMs']) and x[5] == str(f['sourcePort']), (x, f)\n"
			   "    assert x[10] == f['rule'] and x[12] == (f['flowTuple'] or 'None'), (x, f)\n"
			   "assert open(d + '/n').read() == '', 'none printed something'\n"
			   "y = open(d + '/y').read()\n"
			   "try:\n"
			   "    import yaml\n"
			   "except ImportError:\n"
			   "    assert y.startswith('flows:') and y.count('- time: ') == len(j), y\n"
			   "else:\n"
			   "    assert yaml.safe_load(y) == {'flows': j}, y\n"
			   "print('ok')\n"
			   "EOF",
			   th_vnetlab(), th_lab.name);

	cr_expect_eq(st, 0, "flows -o tsv|yaml|none against -o json: %s", out);
	free(out);
}

/* --follow -o json: what is there, then each new record as it comes, one JSON object a line. */
static void follow_prints_json_lines(void)
{
	char path[] = "/tmp/fl-follow-XXXXXX", needle[64], *port, *out;
	int fd = mkstemp(path), st;
	bool seen = false;
	pid_t pid;

	cr_assert_geq(fd, 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		execl(th_vnetlab(), "vnetlab", "flows", th_lab.name, "-o", "json", "--follow", (char *)NULL);
		_exit(127);
	}
	close(fd);
	port = probe_port("s1:80", "tcp");
	snprintf(needle, sizeof(needle), "\"sourcePort\":%s,", port);
	for (int i = 0; i < 200 && !seen; i++) { /* bounded wait for the agent and the poll */
		char *text = th_run(NULL, "cat %s", path);

		seen = strstr(text, needle) != NULL;
		free(text);
		if (!seen)
			sleep_ms(50);
	}
	kill(pid, SIGINT);
	waitpid(pid, &st, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "flows --follow ended with %#x", st);
	cr_expect(seen, "the new flow (source port %s) never came", port);
	out = th_run(&st,
		     "%s flows %s -o json > %s.all; python3 - %s %s 2>&1 <<'EOF'\n"
		     "import json, sys\n"
		     "lines = open(sys.argv[1]).read().split('\\n')\n"
		     "assert lines[-1] == '', 'the last line is not ended'\n"
		     "recs = [json.loads(l) for l in lines[:-1]]\n"
		     "allr = json.load(open(sys.argv[1] + '.all'))['flows']\n"
		     "assert recs == allr[:len(recs)], (recs, allr)\n"
		     "assert any(r['sourcePort'] == int(sys.argv[2]) and r['rule'] == 'allow-web' for r in recs), recs\n"
		     "print('ok')\n"
		     "EOF",
		     th_vnetlab(), th_lab.name, path, path, port);
	cr_expect_eq(st, 0, "flows -o json --follow is not JSON Lines of the records: %s", out);
	free(out);
	free(th_run(NULL, "rm -f %s %s.all", path, path));
	free(port);
}

/* Spec 20.1: an allowed and a denied probe in the version 2 shape, and `flows -o json`. */
Test(flows, allowed_and_denied_probes_in_v2_shape)
{
	char *allow_port, *deny_port, *udp_port, *out, want[256];
	int st;

	th_lab_up("fl", LAB);
	allow_port = probe_port("s1:80", "tcp");
	deny_port = probe_port("s1:9000", "tcp");
	udp_port = probe_port("s1:9000", "udp");
	snprintf(want, sizeof(want), " A tcp 10.63.1.4 %s 10.63.2.4 80 I bnsg/allow-web", allow_port);
	cr_assert(wait_flow_line(want), "no allowed flow record %s", want);
	snprintf(want, sizeof(want), " D tcp 10.63.1.4 %s 10.63.2.4 9000 I bnsg/deny-9000", deny_port);
	cr_assert(wait_flow_line(want), "no denied flow record %s", want);
	snprintf(want, sizeof(want), " D udp 10.63.1.4 %s 10.63.2.4 9000 I bnsg/deny-9000", udp_port);
	cr_assert(wait_flow_line(want), "no denied UDP flow record %s", want);

	/* The v2 document: parsed, its records and tuples checked field by field. */
	out = th_run(&st,
		     "python3 - /run/vnetlab/%s/" VL_FLOW_V2_FILE " %s %s %s 2>&1 <<'EOF'\n"
		     "import json, sys\n"
		     "doc = json.load(open(sys.argv[1]))\n"
		     "seen = {}\n"
		     "for r in doc['records']:\n"
		     "    assert r['category'] == 'NetworkSecurityGroupFlowEvent', r\n"
		     "    assert r['operationName'] == 'NetworkSecurityGroupFlowEvents', r\n"
		     "    assert r['resourceId'].endswith('/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/BNSG'), r\n"
		     "    assert r['resourceId'] == r['resourceId'].upper() and r['time'].endswith('Z'), r\n"
		     "    assert r['properties']['Version'] == 2, r\n"
		     "    for g in r['properties']['flows']:\n"
		     "        for m in g['flows']:\n"
		     "            assert len(m['mac']) == 12, m\n"
		     "            for t in m['flowTuples']:\n"
		     "                f = t.split(',')\n"
		     "                assert len(f) == 13 and f[8] == 'B' and f[9:] == ['', '', '', ''], t\n"
		     "                seen[(g['rule'], f[3], f[4], f[5], f[6], f[7])] = f\n"
		     "for want in [('UserRule_allow-web', sys.argv[2], '80', 'T', 'I', 'A'),\n"
		     "             ('UserRule_deny-9000', sys.argv[3], '9000', 'T', 'I', 'D'),\n"
		     "             ('UserRule_deny-9000', sys.argv[4], '9000', 'U', 'I', 'D')]:\n"
		     "    f = seen[want]\n"
		     "    assert f[1] == '10.63.1.4' and f[2] == '10.63.2.4', f\n"
		     "print('ok')\n"
		     "EOF",
		     th_lab.name, allow_port, deny_port, udp_port);
	cr_expect_eq(st, 0, "the v2 document: %s", out);
	free(out);

	out = vl(&st, "flows %s -o json > /tmp/fl-%s.json; python3 -c \"import json,sys; "
		      "d=json.load(open('/tmp/fl-%s.json'))['flows']; "
		      "a=[f for f in d if f['decision']=='Allow' and f['sourcePort']==%s]; "
		      "x=[f for f in d if f['decision']=='Deny' and f['sourcePort']==%s]; "
		      "assert a and a[0]['rule']=='allow-web' and a[0]['nsg']=='bnsg' and a[0]['direction']=='Inbound', d; "
		      "assert x and x[0]['rule']=='deny-9000' and x[0]['destinationPort']==9000, d; "
		      "assert a[0]['flowTuple'].endswith(',80,T,I,A,B,,,,'), a; print('ok')\"; rm -f /tmp/fl-%s.json",
		      th_lab.name, th_lab.name, th_lab.name, allow_port, deny_port, th_lab.name);
	cr_expect_eq(st, 0, "flows -o json: %s", out);
	free(out);
	out = vl(&st, "flows %s", th_lab.name);
	cr_expect(st == 0 && strstr(out, "allow-web") && strstr(out, "Deny"), "flows: %s", out);
	free(out);
	formats_hold_the_json();
	follow_prints_json_lines();
	free(allow_port);
	free(deny_port);
	free(udp_port);
}

/* An nft counter of rule `index` of a fabric chain, from nft's JSON (the kernel's own count): the
 * nsg_deny chain counts what it logs and what it drops (NSG rules themselves have no counter). */
static long chain_counter(const char *chain, int index)
{
	char *out = th_run(NULL,
			   "ip netns exec vl-%s-fabric.v nft -j list chain ip vnetlab %s | python3 -c \""
			   "import json,sys; r=[x['rule'] for x in json.load(sys.stdin)['nftables'] if 'rule' in x]; "
			   "print([e['counter']['packets'] for e in r[%d]['expr'] if 'counter' in e][0])\"",
			   th_lab.name, chain, index);
	long n = atol(out);

	free(out);
	return n;
}

/*
 * Finding 6 of issue 9: a UDP flood to a denied port logs at most the ruleset's limit (counted
 * by the kernel's own counters and the agent's records, not timed), the files stay capped, and
 * a drop after the flood is still attributed.
 */
Test(flows, flood_to_a_denied_port_logs_at_most_the_limit)
{
	const int sent = 60000;
	char *out, *res, *rule;
	long logged, dropped;
	double t0, secs, bound;
	struct stat st_flows, st_v2;
	int st;

	th_lab_up("fl", LAB);
	t0 = now_s();
	out = vl(&st,
		 "exec %s c1 -- python3 -c \"import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
		 "for i in range(%d):\n  s.sendto(b'x', ('10.63.2.4', 9000))\"",
		 th_lab.name, sent);
	secs = now_s() - t0;
	cr_assert_eq(st, 0, "flood: %s", out);
	free(out);
	logged = chain_counter("nsg_deny", 0);
	dropped = chain_counter("nsg_deny", 1);
	/* the token bucket: the burst, then the rate for as long as the flood lasted (and a second) */
	bound = VL_NFT_LOG_BURST + VL_NFT_LOG_RATE * (secs + 1.0);
	cr_log_info("flood of %d packets in %.2f s: %ld logged, %ld dropped (bound %.0f)", sent, secs, logged,
		    dropped, bound);
	cr_expect_leq((double)logged, bound, "logged %ld of %d packets, past the limit %.0f", logged, sent, bound);
	cr_expect_gt(logged, 0);
	cr_expect_geq(dropped, sent - 100, "every denied packet was dropped, logged or not");
	if (bound < sent)
		cr_expect_lt(logged, dropped, "the limit let every packet be logged");
	/* The agent records no more than the kernel logged, and keeps its files capped. */
	sleep_ms(300);
	cr_expect_leq(flow_lines(" D udp 10.63.1.4 "), logged);
	cr_expect_gt(flow_lines("bnsg/deny-9000"), 0, "the flood's records name their rule");
	cr_expect_eq(stat(th_state_root(), &st_flows), 0);
	{
		char p1[4200], p2[4200];

		snprintf(p1, sizeof(p1), "%s/%s/" VL_FLOW_FILE, th_state_root(), th_lab.name);
		snprintf(p2, sizeof(p2), "%s/%s/" VL_FLOW_V2_FILE, th_state_root(), th_lab.name);
		cr_assert_eq(stat(p1, &st_flows), 0);
		cr_assert_eq(stat(p2, &st_v2), 0);
		cr_expect_leq(st_flows.st_size, VL_FLOW_FILE_MAX);
		cr_expect_leq(st_v2.st_size, VL_FLOW_FILE_MAX);
	}
	/* After the flood a drop is still attributed (the bucket refills at the rate). */
	out = th_probe("c1", "s1:9000", 0, "udp", 2000);
	res = th_json_get(out, "result");
	rule = th_json_get(out, "rule");
	cr_expect_str_eq(res, "dropped", "%s", out);
	cr_expect_str_eq(rule, "deny-9000", "%s", out);
	free(res);
	free(rule);
	free(out);
}

static struct vl_rule_edit edit(enum vl_edit_kind kind, const char *rule, const char *key, const char *value,
				int n_desc)
{
	struct vl_rule_edit e = {.kind = kind, .nsg = strdup("bnsg"), .rule = strdup(rule)};
	char desc[256];

	if (key) {
		vl_strv_push(&e.keys, key);
		vl_strv_push(&e.values, value);
	}
	if (n_desc) {
		/* long records reach the compaction threshold in fewer edits */
		snprintf(desc, sizeof(desc), "edit %d %0200d", n_desc, 0);
		vl_strv_push(&e.keys, "description");
		vl_strv_push(&e.values, desc);
	}
	return e;
}

static int do_edit(enum vl_edit_kind kind, const char *rule, const char *key, const char *value, int n)
{
	struct vl_rule_edit e = edit(kind, rule, key, value, n);
	struct vl_error err = {0};
	int rc = vl_ops_edit_live(th_lab.name, &e, NULL, &err);

	cr_assert_eq(rc, 0, "edit %d of %s: %s", n, rule, err.msg);
	vl_rule_edit_clear(&e);
	return rc;
}

static long journal_size(void)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/edits", th_state_root(), th_lab.name);
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* The kernel (a probe) and `nsg show` (the journal) agree on allow-web's access. */
static void kernel_agrees(const char *access)
{
	char *out, *res;
	int st;

	out = vl(&st,
		 "nsg show %s bnsg -o json | python3 -c \"import json,sys; "
		 "print([r['access'] for r in json.load(sys.stdin) if r['name'] == 'allow-web'][0])\"",
		 th_lab.name);
	cr_assert_eq(st, 0, "nsg show: %s", out);
	cr_expect(!strncmp(out, access + 1, strlen(access) - 2), "nsg show says allow-web is %s, not %s", out, access);
	free(out);
	out = th_probe("c1", "s1:80", 0, "tcp", 1000);
	res = th_json_get(out, "result");
	cr_expect_str_eq(res, strcmp(access, "\"Deny\"") ? "connected" : "dropped", "%s", out);
	free(res);
	free(out);
}

/* Issue 9 finding 12: past the threshold the journal is compacted; the lab stays usable. */
Test(flows, many_edits_compact_the_journal)
{
	int n = 0, compactions = 0;
	long last = 0, size, threshold;
	char prio[16];

	th_skip_rootless("edits the lab in-process (vl_ops_edit_live), which needs the lab's namespaces; "
			 "a rootless lab's agent holds them");
	th_lab_up("fl", LAB);
	/* a small topology: the journal is compacted past VL_JOURNAL_COMPACT_MIN */
	threshold = (long)vl_state_compact_threshold(th_lab.name);
	cr_expect_eq(threshold, (long)VL_JOURNAL_COMPACT_MIN);
	/* allow-web's priority back and forth, a new rule added and deleted, deny-9000 toggled */
	while (n < 600) {
		snprintf(prio, sizeof(prio), "%d", 100 + n % 7);
		do_edit(VL_EDIT_SET, "allow-web", "priority", prio, ++n);
		if (n % 50 == 0) {
			do_edit(VL_EDIT_ADD, "tmp-rule", "priority", "3000", ++n);
			do_edit(VL_EDIT_DELETE, "tmp-rule", NULL, NULL, 0);
		}
		size = journal_size();
		if (size < last)
			compactions++;
		last = size;
		cr_assert_lt(size, threshold + 4096, "not compacted: %ld bytes after %d edits", size, n);
	}
	cr_log_info("%d edits, %d compactions, journal %ld bytes", n, compactions, last);
	cr_expect_gt(compactions, 0);
	do_edit(VL_EDIT_SET, "allow-web", "access", "Deny", 0);
	kernel_agrees("\"Deny\"");
	do_edit(VL_EDIT_SET, "allow-web", "access", "Allow", 0);
	kernel_agrees("\"Allow\"");
	{
		char *out = vl(NULL, "nsg show %s bnsg -o json", th_lab.name);

		cr_expect_null(strstr(out, "tmp-rule"), "a rule added and deleted came back: %s", out);
		free(out);
	}
}

static const char *crash_at;

static void crash(const char *step)
{
	if (!strcmp(step, crash_at))
		_exit(42);
}

/* A child that edits until its compaction stops at `step` (killed there); its exit status. */
static int edits_until_crash(const char *step, int from)
{
	pid_t pid = fork();
	int st = 0;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		crash_at = step;
		vl_journal_crash_hook = crash;
		for (int i = from; i < from + 2000; i++) {
			struct vl_rule_edit e = edit(VL_EDIT_SET, "allow-web", "priority", i % 2 ? "101" : "102", i);
			struct vl_error err = {0};

			if (vl_ops_edit_live(th_lab.name, &e, NULL, &err))
				_exit(1);
			vl_rule_edit_clear(&e);
		}
		_exit(0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A compaction cut short after its temporary file, or after its rename: the lab recovers. */
Test(flows, compaction_cut_short_is_recovered)
{
	char tmp[4200];
	long before, threshold;

	th_skip_rootless("edits the lab in-process (vl_ops_edit_live), which needs the lab's namespaces; "
			 "a rootless lab's agent holds them");
	th_lab_up("fl", LAB);
	threshold = (long)vl_state_compact_threshold(th_lab.name);
	snprintf(tmp, sizeof(tmp), "%s/%s/edits.tmp", th_state_root(), th_lab.name);
	cr_assert_eq(edits_until_crash("written", 1), 42, "the compaction never reached its temporary file");
	before = journal_size();
	cr_expect_gt(before, threshold, "the old journal is still whole: %ld", before);
	cr_expect_eq(access(tmp, F_OK), 0, "the temporary file is there");
	kernel_agrees("\"Allow\"");
	/* the next edit compacts (truncating the stale temporary file) */
	do_edit(VL_EDIT_SET, "allow-web", "access", "Deny", 0);
	cr_expect_lt(journal_size(), before / 2);
	kernel_agrees("\"Deny\"");
	do_edit(VL_EDIT_SET, "allow-web", "access", "Allow", 0);

	cr_assert_eq(edits_until_crash("renamed", 5000), 42, "the compaction never reached its rename");
	cr_expect_lt(journal_size(), threshold, "the snapshot is in place");
	cr_expect_neq(access(tmp, F_OK), 0, "renamed away");
	kernel_agrees("\"Allow\"");
	do_edit(VL_EDIT_SET, "allow-web", "access", "Deny", 0);
	kernel_agrees("\"Deny\"");
}
