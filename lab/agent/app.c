// SPDX-License-Identifier: MIT
/* What the built-in apps say, and the drop records the agent broadcasts: pure text. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/agent.h"
#include "vnetlab/flowlog.h"
#include "vnetlab/ip.h"

#define HELLO_CLIENT "<b>Client:</b> "
#define ECHO_SEEN "seen-source="

static int put(size_t len, int n)
{
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENOSPC;
	return n;
}

int vl_app_hello_page(char *buf, size_t len, const char *endpoint, const char *client_ip, int client_port)
{
	char body[512];
	int n;

	n = snprintf(body, sizeof(body),
		     "<h3>Hello World!</h3><b>Hostname:</b> %s<br/>" HELLO_CLIENT "%s:%d\n", endpoint,
		     client_ip, client_port);
	if (n < 0 || (size_t)n >= sizeof(body))
		return -ENOSPC;
	return put(
	    len,
	    snprintf(buf, len,
		     "HTTP/1.0 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n"
		     "Server: vnetlab\r\nConnection: close\r\n\r\n%s",
		     n, body));
}

int vl_app_echo_reply(char *buf, size_t len, const char *endpoint, const char *client_ip, int client_port)
{
	return put(len, snprintf(buf, len, "vnetlab-echo %s " ECHO_SEEN "%s:%d\n", endpoint, client_ip,
				 client_port));
}

/* The dotted quad at s, followed by ':'. */
static int take_ip(const char *s, char *ip, size_t len)
{
	char tmp[VL_IP_STRLEN];
	size_t n = strspn(s, "0123456789.");
	uint32_t a;

	if (n == 0 || n >= sizeof(tmp) || s[n] != ':')
		return -ENOENT;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (vl_ip_parse(tmp, &a) < 0 || n >= len)
		return -ENOENT;
	memcpy(ip, tmp, n + 1);
	return 0;
}

int vl_app_parse_seen(const char *reply, char *ip, size_t len)
{
	const char *p;

	if (!reply)
		return -ENOENT;
	p = strstr(reply, HELLO_CLIENT);
	if (p)
		return take_ip(p + strlen(HELLO_CLIENT), ip, len);
	p = strstr(reply, ECHO_SEEN);
	if (p)
		return take_ip(p + strlen(ECHO_SEEN), ip, len);
	return -ENOENT;
}

int vl_app_parse_name(const char *reply, char *name, size_t len)
{
	static const char hello[] = "<b>Hostname:</b> ", echo[] = "vnetlab-echo ";
	const char *p;
	size_t n;

	if (!reply || !len)
		return -ENOENT;
	if ((p = strstr(reply, hello)))
		p += sizeof(hello) - 1, n = strcspn(p, "<\r\n ");
	else if (!strncmp(reply, echo, sizeof(echo) - 1))
		p = reply + sizeof(echo) - 1, n = strcspn(p, " \r\n");
	else
		return -ENOENT;
	if (!n || n >= len)
		return -ENOENT;
	memcpy(name, p, n);
	name[n] = '\0';
	return 0;
}

/* The protocol words of the agent's wire lines (drop and flow records), in one table. */
static const struct {
	const char *w;
	enum vl_proto p;
} wire_protos[] = {{"tcp", VL_PROTO_TCP}, {"udp", VL_PROTO_UDP}, {"icmp", VL_PROTO_ICMP},
		   {"esp", VL_PROTO_ESP}, {"ah", VL_PROTO_AH},	 {"ip", VL_PROTO_ANY}};

const char *vl_wire_proto_word(enum vl_proto p)
{
	for (size_t i = 0; i < sizeof(wire_protos) / sizeof(wire_protos[0]); i++)
		if (wire_protos[i].p == p)
			return wire_protos[i].w;
	return "ip";
}

int vl_wire_proto_parse(const char *w, enum vl_proto *p)
{
	for (size_t i = 0; i < sizeof(wire_protos) / sizeof(wire_protos[0]); i++)
		if (!strcmp(w, wire_protos[i].w)) {
			*p = wire_protos[i].p;
			return 0;
		}
	return -EINVAL;
}

int vl_drop_format(char *buf, size_t len, const struct vl_drop *d)
{
	char src[VL_IP_STRLEN], dst[VL_IP_STRLEN];

	if (d->id && !d->nsg[0])
		return put(len, snprintf(buf, len, "drop %s %s %u %s %u ~%016llx\n", vl_wire_proto_word(d->proto),
					 vl_ip_fmt(d->src, src), d->sport, vl_ip_fmt(d->dst, dst), d->dport,
					 (unsigned long long)d->id));
	return put(len, snprintf(buf, len, "drop %s %s %u %s %u %s/%s\n", vl_wire_proto_word(d->proto),
				 vl_ip_fmt(d->src, src), d->sport, vl_ip_fmt(d->dst, dst), d->dport, d->nsg,
				 d->rule));
}

int vl_drop_set_prefix(struct vl_drop *d, const char *prefix)
{
	const char *slash = strchr(prefix, '/');
	size_t nl, rl;

	if (prefix[0] == '~') {
		size_t n = strspn(prefix + 1, "0123456789abcdef");

		if (n != 16 || (prefix[17] && prefix[17] != ' ' && prefix[17] != '\n'))
			return -EINVAL;
		d->id = strtoull(prefix + 1, NULL, 16);
		d->nsg[0] = d->rule[0] = '\0';
		return d->id ? 0 : -EINVAL;
	}
	if (!slash)
		return -EINVAL;
	nl = (size_t)(slash - prefix);
	rl = strcspn(slash + 1, " \n");
	if (nl == 0 || rl == 0 || nl >= sizeof(d->nsg) || rl >= sizeof(d->rule))
		return -EINVAL;
	memcpy(d->nsg, prefix, nl);
	d->nsg[nl] = '\0';
	memcpy(d->rule, slash + 1, rl);
	d->rule[rl] = '\0';
	return 0;
}

int vl_drop_resolve(const struct vl_lab *lab, struct vl_drop *d)
{
	struct vl_flow f = {.id = d->id};

	if (!d->id || d->nsg[0])
		return 0;
	if (vl_flow_resolve(lab, &f) < 0 || strlen(f.nsg) >= sizeof(d->nsg) || strlen(f.rule) >= sizeof(d->rule))
		return -ENOENT;
	snprintf(d->nsg, sizeof(d->nsg), "%s", f.nsg);
	snprintf(d->rule, sizeof(d->rule), "%s", f.rule);
	return 0;
}

int vl_drop_parse(const char *line, struct vl_drop *d)
{
	char proto[8], src[VL_IP_STRLEN], dst[VL_IP_STRLEN], tag[200];
	unsigned sport, dport;
	int end = 0;

	memset(d, 0, sizeof(*d));
	if (sscanf(line, "drop %7s %15s %u %15s %u %199s%n", proto, src, &sport, dst, &dport, tag, &end) != 6)
		return -EINVAL;
	if (line[end] != '\0' && strcmp(line + end, "\n") != 0)
		return -EINVAL;
	if (sport > 65535 || dport > 65535 || vl_ip_parse(src, &d->src) < 0 || vl_ip_parse(dst, &d->dst) < 0)
		return -EINVAL;
	if (vl_wire_proto_parse(proto, &d->proto) < 0)
		return -EINVAL;
	d->sport = (uint16_t)sport;
	d->dport = (uint16_t)dport;
	return vl_drop_set_prefix(d, tag);
}

bool vl_drop_each(char *msg, size_t len, bool (*fn)(const struct vl_drop *d, void *arg), void *arg)
{
	char *line = msg, *end = msg + len;

	msg[len] = '\0';
	while (line < end) {
		char *nl = memchr(line, '\n', (size_t)(end - line));
		struct vl_drop d;

		if (nl)
			*nl = '\0';
		if (vl_drop_parse(line, &d) == 0 && fn(&d, arg))
			return true;
		if (!nl)
			break;
		line = nl + 1;
	}
	return false;
}

int vl_drop_from_packet(const void *pkt, size_t len, struct vl_drop *d)
{
	const uint8_t *p = pkt;
	size_t ihl, tot;
	bool later_frag;
	uint32_t a;

	if (len < 20 || (p[0] >> 4) != 4)
		return -EINVAL;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl)
		return -EINVAL;
	/* Bytes past the IP total length are not the packet's; 0 (GSO) says nothing. */
	tot = (size_t)(p[2] << 8 | p[3]);
	if (tot >= ihl && tot < len)
		len = tot;
	/* A fragment other than the first carries no transport header: no ports to read. */
	later_frag = (p[6] << 8 | p[7]) & 0x1fff;
	memcpy(&a, p + 12, 4);
	d->src = ntohl(a);
	memcpy(&a, p + 16, 4);
	d->dst = ntohl(a);
	d->sport = d->dport = 0;
	p += ihl;
	len -= ihl;
	switch (((const uint8_t *)pkt)[9]) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		d->proto = ((const uint8_t *)pkt)[9] == IPPROTO_TCP ? VL_PROTO_TCP : VL_PROTO_UDP;
		if (len >= 4 && !later_frag) {
			d->sport = (uint16_t)(p[0] << 8 | p[1]);
			d->dport = (uint16_t)(p[2] << 8 | p[3]);
		}
		break;
	case IPPROTO_ICMP:
		d->proto = VL_PROTO_ICMP;
		/* echo request/reply: the id plays the source port, as conntrack treats it */
		if (len >= 6 && !later_frag && (p[0] == 8 || p[0] == 0))
			d->sport = (uint16_t)(p[4] << 8 | p[5]);
		break;
	case IPPROTO_ESP:
		d->proto = VL_PROTO_ESP;
		break;
	case IPPROTO_AH:
		d->proto = VL_PROTO_AH;
		break;
	default:
		d->proto = VL_PROTO_ANY;
	}
	return 0;
}
