// SPDX-License-Identifier: MIT
/* The apps' replies, the drop records and NFLOG parsing: pure, no root. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <string.h>

#include "../../lab/agent/nflog.h"
#include "../../lab/nft/nft-int.h"
#include "vnetlab/agent.h"
#include "vnetlab/nft.h"
#include "vnetlab/ip.h"
#include "vnetlab/probe.h"

TestSuite(app);

Test(app, hello_page_is_http_with_client)
{
	char buf[1024], ip[16];
	const char *body;
	int n = vl_app_hello_page(buf, sizeof(buf), "cg", "10.123.1.4", 40123);

	cr_assert_gt(n, 0);
	cr_assert_eq((size_t)n, strlen(buf));
	cr_assert(!strncmp(buf, "HTTP/1.0 200 OK\r\n", 17));
	cr_assert_not_null(strstr(buf, "Content-Type: text/html"));
	cr_assert_not_null(strstr(buf, "Server: vnetlab\r\n"));
	body = strstr(buf, "\r\n\r\n");
	cr_assert_not_null(body);
	body += 4;
	cr_assert_not_null(strstr(body, "<h3>Hello World!</h3><b>Hostname:</b> cg<br/>"));
	cr_assert_not_null(strstr(body, "10.123.1.4:40123"));
	{
		char want[64];

		snprintf(want, sizeof(want), "Content-Length: %zu\r\n", strlen(body));
		cr_assert_not_null(strstr(buf, want), "%s", buf);
	}
	cr_assert_eq(vl_app_parse_seen(buf, ip, sizeof(ip)), 0);
	cr_assert_str_eq(ip, "10.123.1.4");
}

Test(app, echo_reply_round_trip)
{
	char buf[256], ip[16];
	int n = vl_app_echo_reply(buf, sizeof(buf), "vm2", "10.244.1.2", 7);

	cr_assert_gt(n, 0);
	cr_assert_str_eq(buf, "vnetlab-echo vm2 seen-source=10.244.1.2:7\n");
	cr_assert_eq(vl_app_parse_seen(buf, ip, sizeof(ip)), 0);
	cr_assert_str_eq(ip, "10.244.1.2");
}

Test(app, small_buffers_are_refused)
{
	char buf[16];

	cr_assert_eq(vl_app_echo_reply(buf, sizeof(buf), "vm2", "10.244.1.2", 7), -ENOSPC);
	cr_assert_eq(vl_app_hello_page(buf, sizeof(buf), "vm2", "10.244.1.2", 7), -ENOSPC);
}

/* inline arrays, not pointers: criterion may run each parameter in a fresh process image */
struct parse_case {
	char reply[64];
	int rc;
	char ip[16];
};

static const struct parse_case parse_cases[] = {
    {"vnetlab-echo a seen-source=1.2.3.4:5\n", 0, "1.2.3.4"},
    {"<b>Client:</b> 255.255.255.255:65535", 0, "255.255.255.255"},
    {"vnetlab-echo a seen-source=1.2.3.4\n", -ENOENT, ""},     /* no port */
    {"vnetlab-echo a seen-source=1.2.3:5\n", -ENOENT, ""},     /* not an address */
    {"vnetlab-echo a seen-source=300.2.3.4:5\n", -ENOENT, ""}, /* octet too big */
    {"vnetlab-echo a seen-source=:5\n", -ENOENT, ""},
    {"<b>Client:</b> 10.0.0.1.1.1.1.1.1:80", -ENOENT, ""},	   /* too long */
    {"HTTP/1.0 200 OK\r\n\r\n<h3>Hello World!</h3>", -ENOENT, ""}, /* nothing to find */
    {"", -ENOENT, ""},
};

ParameterizedTestParameters(app, parse_seen)
{
	return cr_make_param_array(struct parse_case, parse_cases,
				   sizeof(parse_cases) / sizeof(parse_cases[0]));
}

ParameterizedTest(const struct parse_case *c, app, parse_seen)
{
	char ip[16] = "";

	cr_assert_eq(vl_app_parse_seen(c->reply, ip, sizeof(ip)), c->rc, "%s", c->reply);
	if (c->ip[0])
		cr_assert_str_eq(ip, c->ip);
}

Test(app, parse_seen_null_and_short_buffer)
{
	char ip[4];

	cr_assert_eq(vl_app_parse_seen(NULL, ip, sizeof(ip)), -ENOENT);
	cr_assert_eq(vl_app_parse_seen("seen-source=10.0.0.1:1", ip, sizeof(ip)), -ENOENT);
}

Test(app, probe_status_names)
{
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_CONNECTED), "connected");
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_REFUSED), "refused");
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_TIMEOUT), "timeout");
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_DROPPED), "dropped");
}

TestSuite(drop);

Test(drop, format_parse_round_trip)
{
	struct vl_drop d = {.proto = VL_PROTO_TCP, .sport = 40000, .dport = 9000}, back;
	char line[256];

	vl_ip_parse("10.123.2.4", &d.src);
	vl_ip_parse("10.123.1.4", &d.dst);
	strcpy(d.nsg, "vms-nsg");
	strcpy(d.rule, "deny-9000");
	cr_assert_gt(vl_drop_format(line, sizeof(line), &d), 0);
	cr_assert_str_eq(line, "drop tcp 10.123.2.4 40000 10.123.1.4 9000 vms-nsg/deny-9000\n");
	cr_assert_eq(vl_drop_parse(line, &back), 0);
	cr_assert_eq(back.proto, d.proto);
	cr_assert_eq(back.src, d.src);
	cr_assert_eq(back.dst, d.dst);
	cr_assert_eq(back.sport, d.sport);
	cr_assert_eq(back.dport, d.dport);
	cr_assert_str_eq(back.nsg, "vms-nsg");
	cr_assert_str_eq(back.rule, "deny-9000");

	d.proto = VL_PROTO_ICMP;
	d.dport = 0;
	vl_drop_format(line, sizeof(line), &d);
	cr_assert_eq(vl_drop_parse(line, &back), 0);
	cr_assert_eq(back.proto, VL_PROTO_ICMP);
}

Test(drop, parse_rejects)
{
	static const char *bad[] = {
	    "drop tcp 10.0.0.1 1 10.0.0.2 2 nsg\n",	/* no rule */
	    "drop tcp 10.0.0.1 1 10.0.0.2 2 /rule\n",	/* no nsg */
	    "drop xyz 10.0.0.1 1 10.0.0.2 2 n/r\n",	/* proto */
	    "drop tcp 10.0.0.1 70000 10.0.0.2 2 n/r\n", /* port */
	    "drop tcp 10.0.0 1 10.0.0.2 2 n/r\n",	/* address */
	    "drop tcp 10.0.0.1 1 10.0.0.2 2 n/r trailing\n",
	    "watch\n",
	    "",
	};
	struct vl_drop d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(vl_drop_parse(bad[i], &d), -EINVAL, "%s", bad[i]);
}

struct seen_drops {
	int n;
	uint16_t dports[8];
	uint16_t stop_at; /* fn returns true on this port */
};

static bool collect_drop(const struct vl_drop *d, void *arg)
{
	struct seen_drops *s = arg;

	if (s->n < 8)
		s->dports[s->n++] = d->dport;
	return d->dport == s->stop_at;
}

/* A watch message holds several records (one NFLOG batch): each is parsed, a bad line skipped,
 * the last needs no newline, and the walk stops where fn says. */
Test(drop, each_record_of_a_watch_message)
{
	char msg[512];
	struct seen_drops s = {0};
	int len = snprintf(msg, sizeof(msg), "%s",
			   "drop tcp 10.0.0.1 1 10.0.0.2 80 n/a\n"
			   "garbage\n"
			   "drop udp 10.0.0.1 2 10.0.0.2 53 n/b\n"
			   "drop tcp 10.0.0.3 3 10.0.0.4 443 n/c");

	cr_assert_not(vl_drop_each(msg, (size_t)len, collect_drop, &s));
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.dports[0], 80);
	cr_assert_eq(s.dports[1], 53);
	cr_assert_eq(s.dports[2], 443);

	len = snprintf(msg, sizeof(msg), "%s",
		       "drop tcp 10.0.0.1 1 10.0.0.2 80 n/a\ndrop tcp 10.0.0.1 1 10.0.0.2 81 n/a\n"
		       "drop tcp 10.0.0.1 1 10.0.0.2 82 n/a\n");
	s = (struct seen_drops){.stop_at = 81};
	cr_assert(vl_drop_each(msg, (size_t)len, collect_drop, &s));
	cr_assert_eq(s.n, 2, "the walk goes on past the record fn took");
	s = (struct seen_drops){0};
	cr_assert_not(vl_drop_each(msg, 0, collect_drop, &s));
	cr_assert_eq(s.n, 0);
}

static size_t make_packet(uint8_t *p, uint8_t proto, const char *src, const char *dst, uint16_t a, uint16_t b)
{
	uint32_t s, d;

	memset(p, 0, 48);
	p[0] = 0x45;
	p[9] = proto;
	vl_ip_parse(src, &s);
	vl_ip_parse(dst, &d);
	s = htonl(s);
	d = htonl(d);
	memcpy(p + 12, &s, 4);
	memcpy(p + 16, &d, 4);
	if (proto == IPPROTO_ICMP) {
		p[20] = 8;
		p[24] = (uint8_t)(a >> 8);
		p[25] = (uint8_t)a;
	} else {
		p[20] = (uint8_t)(a >> 8);
		p[21] = (uint8_t)a;
		p[22] = (uint8_t)(b >> 8);
		p[23] = (uint8_t)b;
	}
	return 48;
}

Test(drop, from_packet)
{
	uint8_t p[48];
	struct vl_drop d;
	char ip[16];

	cr_assert_eq(vl_drop_from_packet(p, make_packet(p, IPPROTO_UDP, "10.0.0.4", "10.0.1.4", 5353, 7), &d),
		     0);
	cr_assert_eq(d.proto, VL_PROTO_UDP);
	cr_assert_str_eq(vl_ip_fmt(d.src, ip), "10.0.0.4");
	cr_assert_str_eq(vl_ip_fmt(d.dst, ip), "10.0.1.4");
	cr_assert_eq(d.sport, 5353);
	cr_assert_eq(d.dport, 7);
	cr_assert_eq(
	    vl_drop_from_packet(p, make_packet(p, IPPROTO_ICMP, "10.0.0.4", "10.0.1.4", 0xbeef, 0), &d), 0);
	cr_assert_eq(d.proto, VL_PROTO_ICMP);
	cr_assert_eq(d.sport, 0xbeef);
	cr_assert_eq(d.dport, 0);
	cr_assert_eq(vl_drop_from_packet(p, 10, &d), -EINVAL);
	p[0] = 0x65;
	cr_assert_eq(vl_drop_from_packet(p, 48, &d), -EINVAL);
}

static void collect(const struct vl_drop *d, void *data)
{
	struct vl_drop *out = data;

	*out = *d;
	out[1].sport++; /* count */
}

Test(drop, nflog_message)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct vl_drop got[2] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	uint8_t p[48];
	char ip[16];

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(7);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "aciNsg/deny-aks");
	mnl_attr_put(nlh, NFULA_PAYLOAD, make_packet(p, IPPROTO_TCP, "10.240.0.4", "10.241.0.4", 41000, 80),
		     p);
	cr_assert_eq(vl_nflog_parse(buf, nlh->nlmsg_len, collect, got), 0);
	cr_assert_eq(got[1].sport, 1);
	cr_assert_eq(got[0].proto, VL_PROTO_TCP);
	cr_assert_str_eq(vl_ip_fmt(got[0].src, ip), "10.240.0.4");
	cr_assert_eq(got[0].dport, 80);
	cr_assert_str_eq(got[0].nsg, "aciNsg");
	cr_assert_str_eq(got[0].rule, "deny-aks");
}

Test(drop, from_packet_later_fragment_has_no_ports)
{
	uint8_t p[48];
	struct vl_drop d;

	make_packet(p, IPPROTO_UDP, "10.0.0.4", "10.0.1.4", 5353, 7);
	p[6] = 0x00; /* fragment offset 185 * 8: payload bytes, not a UDP header */
	p[7] = 0xb9;
	cr_assert_eq(vl_drop_from_packet(p, 48, &d), 0);
	cr_assert_eq(d.proto, VL_PROTO_UDP);
	cr_assert_eq(d.sport, 0);
	cr_assert_eq(d.dport, 0);
	p[6] = 0x20; /* MF only: the first fragment has the header */
	p[7] = 0x00;
	cr_assert_eq(vl_drop_from_packet(p, 48, &d), 0);
	cr_assert_eq(d.sport, 5353);
	cr_assert_eq(d.dport, 7);
}

Test(drop, from_packet_stops_at_total_length)
{
	uint8_t p[48];
	struct vl_drop d;

	make_packet(p, IPPROTO_TCP, "10.0.0.4", "10.0.1.4", 41000, 80);
	p[3] = 22; /* total length 22: two bytes of TCP; the rest is not the packet's */
	cr_assert_eq(vl_drop_from_packet(p, 48, &d), 0);
	cr_assert_eq(d.proto, VL_PROTO_TCP);
	cr_assert_eq(d.sport, 0);
	cr_assert_eq(d.dport, 0);
	p[3] = 0; /* 0 (GSO): the captured length rules */
	cr_assert_eq(vl_drop_from_packet(p, 48, &d), 0);
	cr_assert_eq(d.dport, 80);
}

Test(drop, nflog_message_without_header_is_ignored)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct vl_drop got[2] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	/* No nfgenmsg: nothing to parse, nothing reported, no read past the message. */
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	cr_assert_eq(vl_nflog_parse(buf, nlh->nlmsg_len, collect, got), 0);
	cr_assert_eq(got[1].sport, 0);
}

/*
 * Finding 9: names at Azure's limits (80 characters each) do not fit an NFLOG prefix (127 bytes):
 * the fabric puts the rule's short id in the packet mark, NFLOG carries it, the drop line keeps
 * it, and the model maps it back (default rules included).
 */
Test(drop, long_names_go_by_id_and_map_back)
{
	char nsg[81], rule[81], buf[MNL_SOCKET_BUFFER_SIZE], line[512];
	struct vl_rule rules[2] = {{.name = "short"}, {.name = rule}};
	struct vl_nsg nsgs[1] = {{.name = nsg, .rules = rules, .n_rules = 2}};
	struct vl_lab lab = {.name = "l", .nsgs = nsgs, .n_nsgs = 1};
	struct vl_drop got[2] = {0}, back, d = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	uint8_t p[48];

	memset(nsg, 'n', 80);
	nsg[80] = '\0';
	memset(rule, 'r', 80);
	rule[79] = 'Z'; /* a truncated name would lose exactly this */
	rule[80] = '\0';
	cr_assert_leq(vl_rule_id(nsg, rule), VL_FLOW_MARK_ID, "the id fits the mark");
	cr_assert_neq(vl_rule_id(nsg, rule), vl_rule_id(nsg, "short"));
	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(VL_NFLOG_GROUP);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, VL_NFLOG_PREFIX_DENY);
	mnl_attr_put_u32(nlh, NFULA_MARK, htonl((uint32_t)vl_rule_id(nsg, rule)));
	mnl_attr_put(nlh, NFULA_PAYLOAD, make_packet(p, IPPROTO_UDP, "10.0.0.4", "10.0.1.4", 5000, 53), p);
	cr_assert_eq(vl_nflog_parse(buf, nlh->nlmsg_len, collect, got), 0);
	cr_assert_eq(got[1].sport, 1);
	cr_assert_not(got[0].allowed);
	cr_assert_eq(got[0].id, vl_rule_id(nsg, rule));
	cr_assert_gt(vl_drop_format(line, sizeof(line), &got[0]), 0);
	cr_assert_eq(vl_drop_parse(line, &back), 0, "%s", line);
	cr_assert_eq(vl_drop_resolve(&lab, &back), 0);
	cr_assert_str_eq(back.nsg, nsg);
	cr_assert_str_eq(back.rule, rule);

	/* a default rule by id */
	d.id = vl_rule_id(nsg, "DenyAllInBound");
	cr_assert_eq(vl_drop_resolve(&lab, &d), 0);
	cr_assert_str_eq(d.rule, "DenyAllInBound");
}

/* The allow log (group 8): the same message shape, the mark without its Allow bit. */
Test(drop, allowed_flow_message)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct vl_drop got[2] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	uint8_t p[48];

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->res_id = htons(VL_NFLOG_FLOW_GROUP);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, VL_NFLOG_PREFIX_ALLOW);
	mnl_attr_put_u32(nlh, NFULA_MARK, htonl(VL_FLOW_MARK_ALLOW | (uint32_t)vl_rule_id("web", "allow-http")));
	mnl_attr_put(nlh, NFULA_PAYLOAD, make_packet(p, IPPROTO_TCP, "10.0.0.4", "10.0.1.4", 41000, 80), p);
	cr_assert_eq(vl_nflog_parse(buf, nlh->nlmsg_len, collect, got), 0);
	cr_assert_eq(got[1].sport, 1);
	cr_assert(got[0].allowed);
	cr_assert_eq(got[0].id, vl_rule_id("web", "allow-http"));
	cr_assert_eq(got[0].dport, 80);
}

/* Our prefix without a mark names no rule: nothing is reported. */
Test(drop, own_prefix_without_mark_is_ignored)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct vl_drop got[2] = {0};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	uint8_t p[48];

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	mnl_attr_put_strz(nlh, NFULA_PREFIX, VL_NFLOG_PREFIX_DENY);
	mnl_attr_put(nlh, NFULA_PAYLOAD, make_packet(p, IPPROTO_TCP, "10.0.0.4", "10.0.1.4", 41000, 80), p);
	cr_assert_eq(vl_nflog_parse(buf, nlh->nlmsg_len, collect, got), 0);
	cr_assert_eq(got[1].sport, 0);
}

static void never_called(const struct vl_drop *d, void *data)
{
	(void)d;
	(void)data;
	cr_assert_fail("a drop from a malformed message");
}

/* Found by fuzz_wire: a length near UINT32_MAX sent libmnl's walk past the buffer, or round forever. */
Test(nflog, malformed_lengths_are_refused, .timeout = 5)
{
	static const uint32_t lens[] = {0xffffffffu, 0xfffffffcu, 0xfffffff0u, 8, 0, 4096};

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t buf[16] = {0};

		buf[0] = lens[i];
		cr_expect_eq(vl_nflog_parse(buf, sizeof(buf), never_called, NULL), -EINVAL, "nlmsg_len %#x",
			     lens[i]);
	}
}
