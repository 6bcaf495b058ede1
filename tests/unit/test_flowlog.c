// SPDX-License-Identifier: MIT
/* NSG flow records (pure): the agent's lines, version 2 tuples, rule names and records (spec 20.1). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/flowlog.h"
#include "vnetlab/ip.h"

static struct vl_flow flow(bool allowed, enum vl_proto p, const char *src, int sport, const char *dst,
			   int dport, char dir, const char *nsg, const char *rule)
{
	struct vl_flow f = {.ms = 1542110437123, .allowed = allowed, .proto = p, .dir = dir};

	cr_assert_eq(vl_ip_parse(src, &f.src), 0);
	cr_assert_eq(vl_ip_parse(dst, &f.dst), 0);
	f.sport = (uint16_t)sport;
	f.dport = (uint16_t)dport;
	snprintf(f.nsg, sizeof(f.nsg), "%s", nsg);
	snprintf(f.rule, sizeof(f.rule), "%s", rule);
	f.id = vl_rule_id(nsg, rule);
	return f;
}

/* The spec's example: a denied inbound TCP flow, state B, counters empty. */
Test(flowlog, v2_tuple_has_13_fields)
{
	struct vl_flow f =
	    flow(false, VL_PROTO_TCP, "125.64.94.197", 59752, "10.5.16.4", 18264, 'I', "n", "DenyAllInBound");
	char t[128];
	int commas = 0;

	cr_assert_gt(vl_flow_v2_tuple(t, sizeof(t), &f), 0);
	cr_assert_str_eq(t, "1542110437,125.64.94.197,10.5.16.4,59752,18264,T,I,D,B,,,,");
	for (const char *p = t; *p; p++)
		commas += *p == ',';
	cr_assert_eq(commas, 12);
	f = flow(true, VL_PROTO_UDP, "10.0.0.4", 5000, "10.0.1.4", 53, 'O', "n", "r");
	cr_assert_gt(vl_flow_v2_tuple(t, sizeof(t), &f), 0);
	cr_assert_str_eq(t, "1542110437,10.0.0.4,10.0.1.4,5000,53,U,O,A,B,,,,");
	/* version 2 defines T and U only; an unknown direction has no tuple either */
	f.proto = VL_PROTO_ICMP;
	cr_assert_eq(vl_flow_v2_tuple(t, sizeof(t), &f), -EINVAL);
	f.proto = VL_PROTO_TCP;
	f.dir = '?';
	cr_assert_eq(vl_flow_v2_tuple(t, sizeof(t), &f), -EINVAL);
}

Test(flowlog, rule_names_as_the_log_spells_them)
{
	struct vl_flow f =
	    flow(true, VL_PROTO_TCP, "10.0.0.4", 1, "10.0.0.5", 3389, 'I', "n", "default-allow-rdp");
	char long_rule[81], name[128];

	vl_flow_v2_rule(name, sizeof(name), &f);
	cr_assert_str_eq(name, "UserRule_default-allow-rdp");
	f.default_rule = true;
	snprintf(f.rule, sizeof(f.rule), "DenyAllInBound");
	vl_flow_v2_rule(name, sizeof(name), &f);
	cr_assert_str_eq(name, "DefaultRule_DenyAllInBound");
	memset(long_rule, 'r', 80);
	long_rule[80] = '\0';
	f.default_rule = false;
	snprintf(f.rule, sizeof(f.rule), "%s", long_rule);
	vl_flow_v2_rule(name, sizeof(name), &f);
	cr_assert_eq(strlen(name), strlen("UserRule_") + VL_FLOW_V2_RULE_MAX, "rule names past 65 are cut");
}

Test(flowlog, lines_round_trip_by_name_and_by_id)
{
	struct vl_flow f = flow(true, VL_PROTO_TCP, "10.0.0.4", 41000, "10.0.1.4", 80, 'I', "web",
				"allow-http"),
		       b;
	char line[512];

	cr_assert_gt(vl_flow_format(line, sizeof(line), &f), 0);
	cr_assert_str_eq(line, "flow 1542110437123 A tcp 10.0.0.4 41000 10.0.1.4 80 I web/allow-http\n");
	cr_assert_eq(vl_flow_parse(line, &b), 0);
	cr_assert(b.allowed && b.ms == f.ms && b.src == f.src && b.dport == 80 && b.dir == 'I');
	cr_assert_str_eq(b.rule, "allow-http");
	f.nsg[0] = f.rule[0] = '\0';
	f.dir = '?';
	f.allowed = false;
	cr_assert_gt(vl_flow_format(line, sizeof(line), &f), 0);
	cr_assert_eq(vl_flow_parse(line, &b), 0, "%s", line);
	cr_assert_eq(b.id, vl_rule_id("web", "allow-http"));
	cr_assert_str_eq(b.nsg, "");
	cr_assert_eq(vl_flow_parse("flow 1 X tcp 10.0.0.4 1 10.0.0.5 2 I a/b", &b), -EINVAL);
	cr_assert_eq(vl_flow_parse("flow 1 A tcp 10.0.0.4 1 10.0.0.5 70000 I a/b", &b), -EINVAL);
	cr_assert_eq(vl_flow_parse("flow 1 A tcp 10.0.0.4 1 10.0.0.5 2 I ~0123", &b), -EINVAL);
	cr_assert_eq(vl_flow_parse("flow 1 A tcp 10.0.0.4 1 10.0.0.5 2 I a/b junk", &b), -EINVAL);
}

Test(flowlog, resolve_by_id_names_rule_direction_and_default)
{
	struct vl_rule rules[1] = {{.name = "allow-http", .dir = VL_DIR_IN, .access = VL_ALLOW}};
	struct vl_nsg nsgs[1] = {{.name = "web", .rules = rules, .n_rules = 1}};
	struct vl_lab lab = {.name = "l", .nsgs = nsgs, .n_nsgs = 1};
	struct vl_flow f = {.id = vl_rule_id("web", "allow-http"), .dir = '?'};

	cr_assert_eq(vl_flow_resolve(&lab, &f), 0);
	cr_assert_str_eq(f.nsg, "web");
	cr_assert_eq(f.dir, 'I');
	cr_assert_not(f.default_rule);
	f = (struct vl_flow){.id = vl_rule_id("web", "AllowInternetOutBound"), .dir = '?'};
	cr_assert_eq(vl_flow_resolve(&lab, &f), 0);
	cr_assert_eq(f.dir, 'O');
	cr_assert(f.default_rule);
	f = (struct vl_flow){.id = vl_rule_id("web", "gone"), .dir = '?'};
	cr_assert_eq(vl_flow_resolve(&lab, &f), -ENOENT);
}

/* One record per NSG: grouped by rule, then by NIC, as Azure writes PT1H.json. */
Test(flowlog, v2_record_shape)
{
	struct vl_flow f[3] = {
	    flow(true, VL_PROTO_TCP, "10.0.0.4", 41000, "10.0.1.4", 80, 'I', "web-nsg", "allow-http"),
	    flow(false, VL_PROTO_UDP, "10.0.0.4", 5000, "10.0.1.5", 9000, 'I', "web-nsg", "DenyAllInBound"),
	    flow(true, VL_PROTO_TCP, "10.0.0.6", 41001, "10.0.1.4", 80, 'I', "web-nsg", "allow-http"),
	};
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	f[1].default_rule = true;
	cr_assert_eq(vl_flow_v2_record(m, "mylab", f, 3), 0);
	fclose(m);
	cr_assert(strstr(out, "\"category\":\"NetworkSecurityGroupFlowEvent\""), "%s", out);
	cr_assert(strstr(out, "\"operationName\":\"NetworkSecurityGroupFlowEvents\""), "%s", out);
	cr_assert(strstr(out,
			 "\"resourceId\":\"/SUBSCRIPTIONS/" VL_FLOW_SUBSCRIPTION
			 "/RESOURCEGROUPS/MYLAB/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WEB-NSG\""),
		  "%s", out);
	cr_assert(strstr(out, "\"time\":\"2018-11-13T12:00:37.1230000Z\""), "%s", out);
	cr_assert(
	    strstr(out,
		   "\"properties\":{\"Version\":2,\"flows\":[{\"rule\":\"UserRule_allow-http\",\"flows\":"
		   "[{\"mac\":\"000D3A000104\",\"flowTuples\":[\"1542110437,10.0.0.4,10.0.1.4,41000,80,T,I,A,"
		   "B,,,,\","
		   "\"1542110437,10.0.0.6,10.0.1.4,41001,80,T,I,A,B,,,,\"]}]},"
		   "{\"rule\":\"DefaultRule_DenyAllInBound\",\"flows\":[{\"mac\":\"000D3A000105\","
		   "\"flowTuples\":"
		   "[\"1542110437,10.0.0.4,10.0.1.5,5000,9000,U,I,D,B,,,,\"]}]}]}}"),
	    "%s", out);
	free(out);
}
