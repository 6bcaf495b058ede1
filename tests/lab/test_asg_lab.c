// SPDX-License-Identifier: MIT
/*
 * A real export in a real lab: tests/data/good/asg.yaml imports a shop's NSGs from an
 * `az network nsg list` array (application security groups, the regional service tag
 * Storage.WestEurope from a Service Tags file). For each flow the evaluator (`explain`) and the
 * kernel (`probe`) agree on the access and the deciding rule. Then `capture` during a probe
 * writes a pcap that tcpdump reads, and prints one line per packet without -w.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/helpers.h"

#define PROBE_TIMEOUT_MS 1500

/* The file with its `name:` line dropped (th_lab_up names the lab) and its paths made absolute. */
static char *topology(void)
{
	char cwd[512], *text, *out, *line;
	size_t cap, n = 0;
	FILE *f = fopen("tests/data/good/asg.yaml", "r");
	long len;

	cr_assert_not_null(f, "run from the repository root");
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	cr_assert_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	cap = (size_t)len * 2 + 4096;
	out = calloc(1, cap);
	line = strchr(text, '\n') + 1; /* "name: asg" */
	for (const char *p = line; *p;) {
		const char *hit = strstr(p, "../azure/");

		if (!hit) {
			n += (size_t)snprintf(out + n, cap - n, "%s", p);
			break;
		}
		n += (size_t)snprintf(out + n, cap - n, "%.*s%s/tests/data/azure/", (int)(hit - p), p, cwd);
		p = hit + strlen("../azure/");
	}
	free(text);
	return out;
}

static void setup(void)
{
	char *t = topology();

	th_lab_up("ag", t);
	free(t);
}

TestSuite(asg_export, .init = setup, .fini = th_lab_down, .timeout = 180);

/* web1 10.70.1.4 (asg-web), logic1 10.70.1.5 (asg-logic), db1 10.70.1.6 (asg-db), jump 10.70.2.4,
 * partner 10.71.1.4 (peered VNet), blob 192.0.2.10 (Internet, inside Storage.WestEurope) */
struct flow {
	const char *from, *to;
	int port;
	const char *access, *nsg, *rule, *result, *why;
};

static const struct flow flows[] = {
    {"logic1", "db1", 1433, "Allow", "app-nsg", "allow-logic-to-db", "connected",
     "source ASG and destination ASG (the docs' AsgLogic -> AsgDb at 110 before the deny at 120)"},
    {"web1", "db1", 1433, "Deny", "app-nsg", "deny-db", "dropped", "not in asg-logic: falls to the deny"},
    {"jump", "db1", 1433, "Deny", "app-nsg", "deny-db", "dropped", "another subnet, no ASG"},
    {"web1", "logic1", 8080, "Allow", "app-nsg", "allow-web-to-logic", "connected", "asg-web -> asg-logic"},
    {"logic1", "blob", 443, "Allow", "app-nsg", "allow-logic-storage", "connected",
     "Storage.WestEurope from the Service Tags file, before the Internet deny"},
    {"web1", "blob", 443, "Deny", "app-nsg", "deny-internet-out", "dropped",
     "asg-web is not in the storage rule's source ASG"},
    {"partner", "web1", 80, "Deny", "partner-nsg", "deny-vnet-out", "dropped",
     "an ASG of shop-vnet matches nothing in the peered VNet's NSG"},
};

Test(asg_export, explain_and_kernel_agree)
{
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		const struct flow *f = &flows[i];
		char what[256], *e, *p;

		snprintf(what, sizeof(what), "row %zu %s -> %s:%d (%s)", i, f->from, f->to, f->port, f->why);
		e = th_explain(f->from, f->to, f->port, "tcp");
		th_assert_key(e, "access", f->access, what);
		th_assert_key(e, "nsg", f->nsg, what);
		th_assert_key(e, "rule", f->rule, what);
		free(e);
		p = th_probe(f->from, f->to, f->port, "tcp", PROBE_TIMEOUT_MS);
		th_assert_key(p, "result", f->result, what);
		if (!strcmp(f->access, "Deny")) {
			th_assert_key(p, "nsg", f->nsg, what);
			th_assert_key(p, "rule", f->rule, what);
		}
		free(p);
	}
}

/* Start a capture in the background, wait until it listens, probe, wait for the capture. */
static char *capture_during_probe(const char *args, const char *err_file)
{
	int status;
	char *out = th_run(
	    &status,
	    "V=%s; rm -f %s; $V capture %s db1 %s 2>%s & pid=$!; "
	    "for i in $(seq 100); do grep -q capturing %s 2>/dev/null && break; sleep 0.05; done; "
	    "$V probe %s logic1 db1:1433 --timeout %d -o json >/dev/null; wait $pid",
	    th_vnetlab(), err_file, th_lab.name, args, err_file, err_file, th_lab.name, PROBE_TIMEOUT_MS);

	cr_assert_eq(status, 0, "capture failed: %s", out);
	return out;
}

Test(asg_export, capture_writes_a_pcap_tcpdump_reads)
{
	char pcap[] = "/tmp/vnetlab-capture-XXXXXX", errf[64], args[160], *out;
	int fd = mkstemp(pcap), status;

	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(errf, sizeof(errf), "%s.err", pcap);
	snprintf(args, sizeof(args), "-w %s --filter 'tcp port 1433' --count 4 --timeout 8000", pcap);
	free(capture_during_probe(args, errf));
	out = th_run(&status, "tcpdump -nn -r %s 2>&1", pcap);
	cr_expect_eq(status, 0, "tcpdump -r: %s", out);
	cr_expect(strstr(out, "10.70.1.5.") && strstr(out, "> 10.70.1.6.1433: Flags [S]"),
		  "no SYN to db1:1433 in the capture:\n%s", out);
	cr_expect(strstr(out, "10.70.1.6.1433 > 10.70.1.5."), "no reply from db1 in the capture:\n%s", out);
	free(out);
	out = th_run(&status, "cat %s", errf);
	cr_expect(strstr(out, "4 packets captured"), "%s", out);
	free(out);
	unlink(errf);
	unlink(pcap);
}

Test(asg_export, capture_prints_a_line_per_packet)
{
	char errf[] = "/tmp/vnetlab-capture-text.XXXXXX", *out;
	int fd = mkstemp(errf);

	cr_assert_geq(fd, 0);
	close(fd);
	out = capture_during_probe("--filter 'tcp port 1433' --count 2 --timeout 8000", errf);
	cr_expect(strstr(out, "TCP 10.70.1.5:") && strstr(out, "> 10.70.1.6:1433 [S] len "),
		  "no SYN line:\n%s", out);
	cr_expect(strstr(out, "TCP 10.70.1.6:1433 > 10.70.1.5:"), "no reply line:\n%s", out);
	free(out);
	unlink(errf);
}

Test(asg_export, capture_refuses_bad_input)
{
	int status;
	char *out = th_run(&status, "%s capture %s nobody --count 1 2>&1", th_vnetlab(), th_lab.name);

	cr_expect_eq(status, 1, "%s", out);
	cr_expect(strstr(out, "has no endpoint 'nobody'"), "%s", out);
	free(out);
	out = th_run(&status, "%s capture %s db1 --filter 'tcp port banana' --count 1 2>&1", th_vnetlab(),
		     th_lab.name);
	cr_expect_eq(status, 1, "%s", out);
	cr_expect(strstr(out, "bad filter"), "%s", out);
	free(out);
}
