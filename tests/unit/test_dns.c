// SPDX-License-Identifier: MIT
/* Azure-provided DNS as the agent answers it: queries in, responses out; pure, no root. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vnetlab/agent.h"
#include "vnetlab/ip.h"

/* Two VNets: web1 and Db-2 in v0, other in v1; inet is an Internet host (no subnet). */
static struct vl_subnet subnets[] = {{.name = "s0", .vnet = 0}, {.name = "s1", .vnet = 1}};
static struct vl_endpoint eps[] = {
    {.name = "web1", .subnet = 0, .ip = 0x0a010104u},
    {.name = "Db-2", .subnet = 0, .ip = 0x0a010105u},
    {.name = "other", .subnet = 1, .ip = 0x0a020104u},
    {.name = "inet", .subnet = VL_NONE, .ip = 0xc000020au},
};
static struct vl_vnet vnets[] = {{.name = "v0"}, {.name = "v1"}};
static struct vl_lab lab = {.name = "t",
			    .vnets = vnets,
			    .n_vnets = 2,
			    .subnets = subnets,
			    .n_subnets = 2,
			    .eps = eps,
			    .n_eps = 4};

/* inline arrays, not pointers: criterion may run each parameter in a fresh process image */
struct row {
	char what[48];
	char name[40]; /* asked with vl_dns_query_build, or "": raw below */
	uint16_t qtype;
	char raw[48];
	size_t raw_len;
	int vnet;
	int want; /* > 0: a response with rcode below; else this error */
	int rcode;
	uint32_t a; /* expected A record, 0 for none */
};

#define RAW(s) .raw = s, .raw_len = sizeof(s) - 1
/* header: id 0x1234, RD, one question */
#define H "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"

static struct row rows[] = {
    {"known name", "web1", VL_DNS_TYPE_A, .vnet = 0, .want = 1, .rcode = VL_DNS_NOERROR, .a = 0x0a010104u},
    {"with the suffix", "web1.internal.cloudapp.net", VL_DNS_TYPE_A, .vnet = 0, .want = 1, .a = 0x0a010104u},
    {"suffix and trailing dot", "web1.internal.cloudapp.net.", VL_DNS_TYPE_A, .vnet = 0, .want = 1,
     .a = 0x0a010104u},
    {"case does not matter", "DB-2.Internal.CloudApp.NET", VL_DNS_TYPE_A, .vnet = 0, .want = 1,
     .a = 0x0a010105u},
    {"ANY gives the A record", "db-2", VL_DNS_TYPE_ANY, .vnet = 0, .want = 1, .a = 0x0a010105u},
    {"AAAA of a known name: no data", "web1", VL_DNS_TYPE_AAAA, .vnet = 0, .want = 1,
     .rcode = VL_DNS_NOERROR},
    {"unknown name", "nobody", VL_DNS_TYPE_A, .vnet = 0, .want = 1, .rcode = VL_DNS_NXDOMAIN},
    {"the suffix alone", "internal.cloudapp.net", VL_DNS_TYPE_A, .vnet = 0, .want = 1,
     .rcode = VL_DNS_NXDOMAIN},
    {"a name with a longer suffix", "web1.internal.cloudapp.net.evil", VL_DNS_TYPE_A, .vnet = 0, .want = 1,
     .rcode = VL_DNS_NXDOMAIN},
    {"a prefix of a name", "web", VL_DNS_TYPE_A, .vnet = 0, .want = 1, .rcode = VL_DNS_NXDOMAIN},
    {"another VNet's name does not resolve", "other", VL_DNS_TYPE_A, .vnet = 0, .want = 1,
     .rcode = VL_DNS_NXDOMAIN},
    {"it does in its own VNet", "other", VL_DNS_TYPE_A, .vnet = 1, .want = 1, .a = 0x0a020104u},
    {"Internet hosts have no name", "inet", VL_DNS_TYPE_A, .vnet = 0, .want = 1, .rcode = VL_DNS_NXDOMAIN},
    {"no VNet, no names", "web1", VL_DNS_TYPE_A, .vnet = VL_NONE, .want = 1, .rcode = VL_DNS_NXDOMAIN},
    {"empty", "", 0, RAW(""), .want = -EINVAL},
    {"truncated header", "", 0, RAW("\x12\x34\x01\x00\x00"), .want = -EINVAL},
    {"a response is never answered", "", 0, RAW("\x12\x34\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01"),
     .want = -EINVAL},
    {"header only", "", 0, RAW(H), .want = 1, .rcode = VL_DNS_FORMERR},
    {"truncated label", "", 0, RAW(H "\x04web"), .want = 1, .rcode = VL_DNS_FORMERR},
    {"no type and class", "", 0, RAW(H "\x04web1\x00\x00"), .want = 1, .rcode = VL_DNS_FORMERR},
    {"two questions", "", 0, RAW("\x12\x34\x01\x00\x00\x02\x00\x00\x00\x00\x00\x00\x04web1\x00\x00\x01\x00\x01"),
     .want = 1, .rcode = VL_DNS_FORMERR},
    {"no question", "", 0, RAW("\x12\x34\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), .want = 1,
     .rcode = VL_DNS_FORMERR},
    {"opcode STATUS", "", 0, RAW("\x12\x34\x11\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04web1\x00\x00\x01\x00\x01"),
     .want = 1, .rcode = VL_DNS_NOTIMP},
    {"pointer to itself", "", 0, RAW(H "\xc0\x0c\x00\x01\x00\x01"), .want = 1, .rcode = VL_DNS_FORMERR},
    {"pointer forwards", "", 0, RAW(H "\xc0\x0e\x00\x04web1\x00\x00\x01\x00\x01"), .want = 1,
     .rcode = VL_DNS_FORMERR},
    {"a label, then a pointer back to it", "", 0, RAW(H "\x01x\xc0\x0c\x00\x01\x00\x01"), .want = 1,
     .rcode = VL_DNS_FORMERR},
    {"two pointers in a loop", "", 0, RAW("\x12\x34\x01\x00\x00\x01\xc0\x08\xc0\x06\x00\x00\xc0\x08\x00\x01\x00\x01"), .want = 1,
     .rcode = VL_DNS_FORMERR},
    {"pointer cut short", "", 0, RAW(H "\xc0"), .want = 1, .rcode = VL_DNS_FORMERR},
    {"label type 0x40", "", 0, RAW(H "\x41web1\x00\x00\x01\x00\x01"), .want = 1, .rcode = VL_DNS_FORMERR},
    {"label longer than the message", "", 0, RAW(H "\x3fweb1\x00\x00\x01\x00\x01"), .want = 1,
     .rcode = VL_DNS_FORMERR},
    {"a dot inside a label", "", 0, RAW(H "\x09web1.t\x00\x00\x00\x00\x01\x00\x01"), .want = 1,
     .rcode = VL_DNS_FORMERR},
    {"a pointer into the header, written out", "", 0,
     RAW("\x00\x02\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x04web1\xc0\x00\x00\x01\x00\x01"), .want = 1,
     .a = 0x0a010104u},
    {"EDNS OPT record ignored", "", 0,
     RAW("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x01\x04WEB1\x00\x00\x01\x00\x01"
	 "\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00"),
     .want = 1, .a = 0x0a010104u},
};

ParameterizedTestParameters(dns, answers)
{
	return cr_make_param_array(struct row, rows, sizeof(rows) / sizeof(rows[0]));
}

ParameterizedTest(struct row *r, dns, answers)
{
	uint8_t q[600], out[600];
	struct vl_dns_reply rep;
	size_t qlen;
	int n;

	if (r->name[0]) {
		n = vl_dns_query_build(q, sizeof(q), 0x1234, r->name, r->qtype);
		cr_assert_gt(n, 0, "%s: build", r->what);
		qlen = (size_t)n;
	} else {
		memcpy(q, r->raw, r->raw_len);
		qlen = r->raw_len;
	}
	n = vl_dns_answer(&lab, r->vnet, q, qlen, out, sizeof(out));
	if (r->want <= 0) {
		cr_assert_eq(n, r->want, "%s: %d", r->what, n);
		return;
	}
	cr_assert_gt(n, 0, "%s: %d", r->what, n);
	cr_assert_eq(vl_dns_reply_parse(out, (size_t)n, &rep), 0, "%s: parse", r->what);
	cr_assert_eq(rep.id, q[0] << 8 | q[1], "%s", r->what);
	cr_assert_eq(rep.rcode, r->rcode, "%s: rcode %d", r->what, rep.rcode);
	cr_assert_eq(rep.has_a, r->a != 0, "%s: has_a %d", r->what, rep.has_a);
	cr_assert_eq(rep.n_answers, r->a ? 1u : 0u, "%s", r->what);
	if (r->a) {
		cr_assert_eq(rep.a, r->a, "%s: %08x", r->what, rep.a);
		cr_assert_eq(rep.ttl, VL_DNS_TTL);
	}
	if (r->name[0] && r->rcode != VL_DNS_FORMERR) {
		char want[VL_DNS_NAME_MAX];
		size_t l = strlen(r->name);

		/* the question comes back as asked, case included */
		snprintf(want, sizeof(want), "%.*s", (int)(l && r->name[l - 1] == '.' ? l - 1 : l), r->name);
		cr_assert_str_eq(rep.name, want, "%s", r->what);
	}
}

TestSuite(dns);

Test(dns, tcp_framing)
{
	uint8_t in[600], out[600];
	struct vl_dns_reply rep;
	int n = vl_dns_query_build(in + 2, sizeof(in) - 2, 7, "web1.internal.cloudapp.net", VL_DNS_TYPE_A);
	int m;

	cr_assert_gt(n, 0);
	in[0] = (uint8_t)(n >> 8);
	in[1] = (uint8_t)n;
	cr_assert_eq(vl_dns_answer_tcp(&lab, 0, in, 0, out, sizeof(out)), -EAGAIN);
	cr_assert_eq(vl_dns_answer_tcp(&lab, 0, in, 1, out, sizeof(out)), -EAGAIN);
	cr_assert_eq(vl_dns_answer_tcp(&lab, 0, in, (size_t)n + 1, out, sizeof(out)), -EAGAIN, "one byte short");
	m = vl_dns_answer_tcp(&lab, 0, in, (size_t)n + 2, out, sizeof(out));
	cr_assert_gt(m, 2);
	cr_assert_eq((out[0] << 8 | out[1]) + 2, m, "the length prefix covers the message");
	cr_assert_eq(vl_dns_reply_parse(out + 2, (size_t)m - 2, &rep), 0);
	cr_assert_eq(rep.id, 7);
	cr_assert(rep.has_a);
	cr_assert_eq(rep.a, 0x0a010104u);
	cr_assert_eq(vl_dns_answer_tcp(&lab, 0, "\x00\x00", 2, out, sizeof(out)), -EINVAL, "an empty message");
	cr_assert_eq(vl_dns_answer_tcp(&lab, 0, "\xff\xff\x00", 3, out, sizeof(out)), -EAGAIN,
		     "a length the buffer will never hold: the caller gives up when it is full");
}

Test(dns, build_refuses_bad_names)
{
	uint8_t q[600];
	char big[300];

	cr_assert_eq(vl_dns_query_build(q, sizeof(q), 1, "", VL_DNS_TYPE_A), -EINVAL);
	cr_assert_eq(vl_dns_query_build(q, sizeof(q), 1, ".", VL_DNS_TYPE_A), -EINVAL);
	cr_assert_eq(vl_dns_query_build(q, sizeof(q), 1, "a..b", VL_DNS_TYPE_A), -EINVAL);
	cr_assert_eq(vl_dns_query_build(q, sizeof(q), 1, ".a", VL_DNS_TYPE_A), -EINVAL);
	memset(big, 'a', 64);
	big[64] = '\0';
	cr_assert_eq(vl_dns_query_build(q, sizeof(q), 1, big, VL_DNS_TYPE_A), -EINVAL, "a 64-byte label");
	big[63] = '\0';
	cr_assert_gt(vl_dns_query_build(q, sizeof(q), 1, big, VL_DNS_TYPE_A), 0, "a 63-byte label");
	for (int i = 0; i < 299; i++)
		big[i] = i % 2 ? '.' : 'a';
	big[299] = '\0';
	cr_assert_eq(vl_dns_query_build(q, sizeof(q), 1, big, VL_DNS_TYPE_A), -EINVAL, "longer than 253");
	cr_assert_eq(vl_dns_query_build(q, 20, 1, "web1.internal.cloudapp.net", VL_DNS_TYPE_A), -ENOSPC);
}

Test(dns, oversized_names_in_a_query)
{
	uint8_t q[600], out[600];
	struct vl_dns_reply rep;
	size_t w = 12;
	int n;

	/* 5 labels of 63: 320 wire octets, over the 255 a name may have */
	memcpy(q, H, 12);
	for (int l = 0; l < 5; l++) {
		q[w++] = 63;
		memset(q + w, 'a', 63);
		w += 63;
	}
	q[w++] = 0;
	memcpy(q + w, "\x00\x01\x00\x01", 4);
	w += 4;
	n = vl_dns_answer(&lab, 0, q, w, out, sizeof(out));
	cr_assert_eq(n, 12);
	cr_assert_eq(vl_dns_reply_parse(out, (size_t)n, &rep), 0);
	cr_assert_eq(rep.rcode, VL_DNS_FORMERR);
	cr_assert_eq(vl_dns_answer(&lab, 0, q, w, out, 11), -ENOSPC);
}

Test(dns, small_output_is_refused)
{
	uint8_t q[600], out[600];
	int n = vl_dns_query_build(q, sizeof(q), 1, "web1", VL_DNS_TYPE_A);
	int full = vl_dns_answer(&lab, 0, q, (size_t)n, out, sizeof(out));

	cr_assert_gt(full, 0);
	cr_assert_eq(vl_dns_answer(&lab, 0, q, (size_t)n, out, (size_t)full - 1), -ENOSPC);
	cr_assert_eq(vl_dns_answer(&lab, 0, q, (size_t)n, out, (size_t)full), full);
}

Test(dns, reply_parse_follows_pointers_and_rejects_garbage)
{
	struct vl_dns_reply rep;
	/* a response with the answer's name compressed, as real servers send */
	static const char ok[] = "\x00\x09\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
				 "\x01x\x00\x00\x01\x00\x01"
				 "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x0a\x00\x04\x0a\x01\x01\x04";
	/* the answer's name points at itself */
	static const char loop[] = "\x00\x09\x81\x80\x00\x00\x00\x01\x00\x00\x00\x00"
				   "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x0a\x00\x04\x0a\x01\x01\x04";
	/* a label, then a pointer back to it: x.x.x.… for ever without the rule */
	static const char loop2[] = "\x00\x09\x81\x80\x00\x01\x00\x00\x00\x00\x00\x00"
				    "\x01x\xc0\x0c\x00\x01\x00\x01";
	/* rdlength past the end */
	static const char longrd[] = "\x00\x09\x81\x80\x00\x00\x00\x01\x00\x00\x00\x00"
				     "\x00\x00\x01\x00\x01\x00\x00\x00\x0a\x00\x40\x0a\x01\x01\x04";

	cr_assert_eq(vl_dns_reply_parse(ok, sizeof(ok) - 1, &rep), 0);
	cr_assert_eq(rep.id, 9);
	cr_assert_str_eq(rep.name, "x");
	cr_assert(rep.has_a);
	cr_assert_eq(rep.a, 0x0a010104u);
	cr_assert_eq(vl_dns_reply_parse(loop, sizeof(loop) - 1, &rep), -EINVAL);
	cr_assert_eq(vl_dns_reply_parse(loop2, sizeof(loop2) - 1, &rep), -EINVAL);
	cr_assert_eq(vl_dns_reply_parse(longrd, sizeof(longrd) - 1, &rep), -EINVAL);
	cr_assert_eq(vl_dns_reply_parse(ok, 11, &rep), -EINVAL);
	for (size_t l = 12; l < sizeof(ok) - 1; l++)
		cr_assert_eq(vl_dns_reply_parse(ok, l, &rep), -EINVAL, "cut at %zu", l);
	cr_assert_eq(vl_dns_reply_parse(H, 12, &rep), -EINVAL, "a query is no reply");
}

Test(dns, every_truncation_of_a_query_is_safe)
{
	uint8_t q[600], out[600];
	int n = vl_dns_query_build(q, sizeof(q), 3, "web1.internal.cloudapp.net", VL_DNS_TYPE_A);

	for (int l = 0; l < n; l++) {
		int m = vl_dns_answer(&lab, 0, q, (size_t)l, out, sizeof(out));
		struct vl_dns_reply rep;

		if (l < 12) {
			cr_assert_eq(m, -EINVAL, "cut at %d", l);
			continue;
		}
		cr_assert_eq(m, 12, "cut at %d: FORMERR, header only", l);
		cr_assert_eq(vl_dns_reply_parse(out, (size_t)m, &rep), 0);
		cr_assert_eq(rep.rcode, VL_DNS_FORMERR);
		cr_assert_eq(rep.id, 3);
	}
}

Test(dns, lookup)
{
	uint32_t ip = 0;

	cr_assert_eq(vl_dns_lookup(&lab, 0, "web1.", &ip), 0);
	cr_assert_eq(ip, 0x0a010104u);
	cr_assert_eq(vl_dns_lookup(&lab, 0, ".internal.cloudapp.net", &ip), -ENOENT);
	cr_assert_eq(vl_dns_lookup(&lab, 0, "", &ip), -ENOENT);
	cr_assert_eq(vl_dns_lookup(&lab, 0, NULL, &ip), -ENOENT);
	cr_assert_eq(vl_dns_lookup(&lab, 5, "web1", &ip), -ENOENT);
}
