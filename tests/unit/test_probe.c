// SPDX-License-Identifier: MIT
/* What the network's answers mean to a probe: errno values and ICMP messages; pure, no root. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <string.h>

#include "vnetlab/probe.h"

TestSuite(probe);

Test(probe, status_names)
{
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_CONNECTED), "connected");
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_REFUSED), "refused");
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_TIMEOUT), "timeout");
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_DROPPED), "dropped");
	cr_assert_str_eq(vl_probe_status_name(VL_PROBE_UNREACHABLE), "unreachable");
}

struct errno_row {
	int e;
	int want;
};

static const struct errno_row errno_rows[] = {
    {ECONNREFUSED, VL_PROBE_REFUSED}, {EHOSTUNREACH, VL_PROBE_UNREACHABLE}, {ENETUNREACH, VL_PROBE_UNREACHABLE},
    {EACCES, VL_PROBE_UNREACHABLE},   {EHOSTDOWN, VL_PROBE_UNREACHABLE},	{ENONET, VL_PROBE_UNREACHABLE},
    {ENOPROTOOPT, VL_PROBE_UNREACHABLE}, {ETIMEDOUT, VL_PROBE_TIMEOUT},	{EBADF, -1},
    {ENOMEM, -1},		      {EPERM, -1},			{0, -1},
};

ParameterizedTestParameters(probe, errno_status)
{
	return cr_make_param_array(struct errno_row, errno_rows, sizeof(errno_rows) / sizeof(errno_rows[0]));
}

ParameterizedTest(const struct errno_row *r, probe, errno_status)
{
	cr_assert_eq(vl_probe_errno_status(r->e), r->want, "%s", strerror(r->e));
}

struct icmp_row {
	uint8_t type, code;
	bool from_target;
	int want;
};

static const struct icmp_row icmp_rows[] = {
    {ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, true, VL_PROBE_REFUSED},
    {ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, false, VL_PROBE_UNREACHABLE}, /* a router's: not the target */
    {ICMP_DEST_UNREACH, ICMP_NET_UNREACH, false, VL_PROBE_UNREACHABLE},
    {ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, false, VL_PROBE_UNREACHABLE},
    {ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, true, VL_PROBE_UNREACHABLE},
    {ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, true, VL_PROBE_UNREACHABLE},
    {ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, false, VL_PROBE_UNREACHABLE},
    {ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, false, VL_PROBE_UNREACHABLE},
    {ICMP_ECHOREPLY, 0, true, -1},
    {ICMP_REDIRECT, 0, false, -1},
    {ICMP_SOURCE_QUENCH, 0, false, -1},
};

ParameterizedTestParameters(probe, icmp_status)
{
	return cr_make_param_array(struct icmp_row, icmp_rows, sizeof(icmp_rows) / sizeof(icmp_rows[0]));
}

ParameterizedTest(const struct icmp_row *r, probe, icmp_status)
{
	cr_assert_eq(vl_probe_icmp_status(r->type, r->code, r->from_target), r->want, "type %d code %d", r->type,
		     r->code);
}

#define DST 0x0a010204u
#define ROUTER 0x0a010101u
#define ID 0x4242

static void ip_hdr(uint8_t *p, uint32_t src, uint32_t dst)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[9] = IPPROTO_ICMP;
	p[12] = (uint8_t)(src >> 24), p[13] = (uint8_t)(src >> 16), p[14] = (uint8_t)(src >> 8),
	p[15] = (uint8_t)src;
	p[16] = (uint8_t)(dst >> 24), p[17] = (uint8_t)(dst >> 16), p[18] = (uint8_t)(dst >> 8),
	p[19] = (uint8_t)dst;
}

/* An ICMP error from `from` quoting our echo to `qdst` with `id`; its length. */
static size_t icmp_error(uint8_t *p, uint32_t from, uint8_t type, uint8_t code, uint32_t qdst, uint16_t id)
{
	ip_hdr(p, from, 0x0a010104u);
	memset(p + 20, 0, 8);
	p[20] = type;
	p[21] = code;
	ip_hdr(p + 28, 0x0a010104u, qdst);
	memset(p + 48, 0, 8);
	p[48] = ICMP_ECHO;
	p[52] = (uint8_t)(id >> 8);
	p[53] = (uint8_t)id;
	return 56;
}

Test(probe, icmp_verdict)
{
	uint8_t p[128];
	size_t n;

	ip_hdr(p, DST, 0x0a010104u);
	memset(p + 20, 0, 8);
	p[20] = ICMP_ECHOREPLY;
	p[24] = ID >> 8;
	p[25] = ID & 0xff;
	cr_assert_eq(vl_probe_icmp_verdict(p, 28, DST, ID), VL_PROBE_CONNECTED);
	cr_assert_eq(vl_probe_icmp_verdict(p, 28, DST, ID + 1), -1, "someone else's echo");
	cr_assert_eq(vl_probe_icmp_verdict(p, 28, ROUTER, ID), -1, "a reply from elsewhere");

	n = icmp_error(p, ROUTER, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, DST, ID);
	cr_assert_eq(vl_probe_icmp_verdict(p, n, DST, ID), VL_PROBE_UNREACHABLE);
	n = icmp_error(p, ROUTER, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, DST, ID);
	cr_assert_eq(vl_probe_icmp_verdict(p, n, DST, ID), VL_PROBE_UNREACHABLE);
	n = icmp_error(p, DST, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, DST, ID);
	cr_assert_eq(vl_probe_icmp_verdict(p, n, DST, ID), VL_PROBE_REFUSED);
	n = icmp_error(p, ROUTER, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, DST, ID);
	cr_assert_eq(vl_probe_icmp_verdict(p, n, DST, ID), VL_PROBE_UNREACHABLE);
	n = icmp_error(p, ROUTER, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, DST + 1, ID);
	cr_assert_eq(vl_probe_icmp_verdict(p, n, DST, ID), -1, "about a packet to another address");
	n = icmp_error(p, ROUTER, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, DST, ID + 1);
	cr_assert_eq(vl_probe_icmp_verdict(p, n, DST, ID), -1, "about another echo");
	n = icmp_error(p, ROUTER, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, DST, ID);
	for (size_t l = 0; l < n; l++)
		cr_assert_eq(vl_probe_icmp_verdict(p, l, DST, ID), -1, "cut at %zu", l);
	p[28] = 0x41; /* a quoted header shorter than an IP header */
	cr_assert_eq(vl_probe_icmp_verdict(p, n, DST, ID), -1);
	p[0] = 0x41;
	cr_assert_eq(vl_probe_icmp_verdict(p, n, DST, ID), -1);
}
