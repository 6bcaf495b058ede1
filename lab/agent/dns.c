// SPDX-License-Identifier: MIT
/*
 * Azure-provided DNS (168.63.129.16:53) as the agent serves it: one query in,
 * one response out, pure. Every length in a message is checked against the
 * message before it is used; each compression pointer of a name must point
 * before where the name or the previous pointer's target began, so no pointer
 * chain can loop.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vnetlab/agent.h"

#define HDR 12
#define F_QR 0x8000
#define F_AA 0x0400
#define F_RD 0x0100
#define F_RA 0x0080
#define OPCODE(f) (((f) >> 11) & 0xf)
#define NAME_TEXT_MAX 253 /* 255 wire octets: length bytes and the root label included */
#define MAX_JUMPS 64

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The name at off, dotted, without a trailing dot ("" for the root), into out
 * (VL_DNS_NAME_MAX). *next: the offset just past the name where it starts
 * (past its first pointer, if any). 0 or -EBADMSG.
 */
static int name_read(const uint8_t *m, size_t len, size_t off, char *out, size_t *next)
{
	size_t o = off, n = 0, limit = off;
	int jumps = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (o >= len)
			return -EBADMSG;
		l = m[o];
		if ((l & 0xc0) == 0xc0) {
			size_t p;

			if (o + 1 >= len)
				return -EBADMSG;
			p = (size_t)(l & 0x3f) << 8 | m[o + 1];
			if (p >= limit || ++jumps > MAX_JUMPS)
				return -EBADMSG;
			limit = p;
			if (!jumped)
				*next = o + 2;
			jumped = true;
			o = p;
			continue;
		}
		if (l & 0xc0) /* the 0x40 and 0x80 label types are not in use */
			return -EBADMSG;
		if (l == 0)
			break;
		if (o + 1 + l > len || n + (n ? 1 : 0) + l > NAME_TEXT_MAX)
			return -EBADMSG;
		if (n)
			out[n++] = '.';
		for (size_t i = 0; i < l; i++) {
			uint8_t c = m[o + 1 + i];

			/* a dot or NUL inside a label could pass for another name */
			if (c == '.' || c == '\0')
				return -EBADMSG;
			out[n++] = (char)c;
		}
		o += 1 + (size_t)l;
	}
	out[n] = '\0';
	if (!jumped)
		*next = o + 1;
	return 0;
}

int vl_dns_query_parse(const void *msg, size_t len, struct vl_dns_query *q)
{
	const uint8_t *m = msg;
	size_t end;

	memset(q, 0, sizeof(*q));
	if (!msg || len < HDR)
		return -EINVAL;
	q->id = get16(m);
	q->flags = get16(m + 2);
	if (q->flags & F_QR) /* a response: answering it could start a loop */
		return -EINVAL;
	if (OPCODE(q->flags) != 0)
		return -EOPNOTSUPP;
	if (get16(m + 4) != 1)
		return -EBADMSG;
	if (name_read(m, len, HDR, q->name, &end) < 0 || end + 4 > len)
		return -EBADMSG;
	q->qtype = get16(m + end);
	q->qclass = get16(m + end + 2);
	q->qend = end + 4;
	return 0;
}

int vl_dns_lookup(const struct vl_lab *lab, int vnet, const char *name, uint32_t *ip)
{
	static const char suffix[] = "." VL_DNS_SUFFIX;
	size_t n = name ? strlen(name) : 0;

	if (n && name[n - 1] == '.')
		n--;
	if (n > sizeof(suffix) - 1 &&
	    !strncasecmp(name + n - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1))
		n -= sizeof(suffix) - 1;
	if (!n || vnet < 0 || (size_t)vnet >= lab->n_vnets)
		return -ENOENT;
	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->subnet < 0 || (size_t)e->subnet >= lab->n_subnets ||
		    lab->subnets[e->subnet].vnet != vnet)
			continue;
		if (strlen(e->name) == n && !strncasecmp(e->name, name, n)) {
			*ip = e->ip;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * name (dotted, no trailing dot, "" for the root) in wire form at o; its length.
 * The caller has checked the name: labels of 1..63 bytes, at most 253 in all.
 */
static size_t name_write(uint8_t *o, const char *name)
{
	size_t w = 0;

	for (const char *p = name; *p;) {
		size_t l = strcspn(p, ".");

		o[w++] = (uint8_t)l;
		memcpy(o + w, p, l);
		w += l;
		p += l;
		if (*p == '.')
			p++;
	}
	o[w++] = 0;
	return w;
}

/* A header-only response: FORMERR, NOTIMP. */
static int bare_response(const uint8_t *m, uint8_t *o, size_t out_len, int rcode)
{
	uint16_t f = get16(m + 2);

	if (out_len < HDR)
		return -ENOSPC;
	memset(o, 0, HDR);
	memcpy(o, m, 2);
	put16(o + 2, (uint16_t)(F_QR | (f & 0x7800) | (f & F_RD) | F_RA | rcode));
	return HDR;
}

int vl_dns_answer(const struct vl_lab *lab, int vnet, const void *query, size_t len, void *out,
		  size_t out_len)
{
	const uint8_t *m = query;
	uint8_t *o = out;
	struct vl_dns_query q;
	uint32_t ip = 0;
	bool known, give_a;
	size_t qlen, need;
	int rc;

	rc = vl_dns_query_parse(query, len, &q);
	if (rc == -EINVAL)
		return -EINVAL;
	if (rc == -EOPNOTSUPP)
		return bare_response(m, o, out_len, VL_DNS_NOTIMP);
	if (rc < 0)
		return bare_response(m, o, out_len, VL_DNS_FORMERR);
	known = vl_dns_lookup(lab, vnet, q.name, &ip) == 0;
	give_a = known && (q.qtype == VL_DNS_TYPE_A || q.qtype == VL_DNS_TYPE_ANY) &&
		 (q.qclass == VL_DNS_CLASS_IN || q.qclass == VL_DNS_CLASS_ANY);
	/* the question's name written out in full: a pointer in it would point into our header */
	qlen = strlen(q.name) + (q.name[0] ? 2 : 1) + 4;
	need = HDR + qlen + (give_a ? 16 : 0);
	if (out_len < need)
		return -ENOSPC;
	memset(o, 0, HDR);
	memcpy(o, m, 2);
	put16(o + 2,
	      (uint16_t)(F_QR | F_AA | (q.flags & F_RD) | F_RA | (known ? VL_DNS_NOERROR : VL_DNS_NXDOMAIN)));
	put16(o + 4, 1);
	put16(o + 6, give_a ? 1 : 0);
	name_write(o + HDR, q.name); /* as asked, case and all */
	put16(o + HDR + qlen - 4, q.qtype);
	put16(o + HDR + qlen - 2, q.qclass);
	if (give_a) {
		uint8_t *a = o + HDR + qlen;

		put16(a, 0xc000 | HDR); /* the name: a pointer to the question's */
		put16(a + 2, VL_DNS_TYPE_A);
		put16(a + 4, VL_DNS_CLASS_IN);
		put16(a + 6, 0);
		put16(a + 8, VL_DNS_TTL);
		put16(a + 10, 4);
		put16(a + 12, (uint16_t)(ip >> 16));
		put16(a + 14, (uint16_t)ip);
	}
	return (int)need;
}

int vl_dns_answer_tcp(const struct vl_lab *lab, int vnet, const void *in, size_t len, void *out,
		      size_t out_len)
{
	const uint8_t *m = in;
	size_t l;
	int n;

	if (len < 2)
		return -EAGAIN;
	l = get16(m);
	if (l == 0)
		return -EINVAL;
	if (len < 2 + l)
		return -EAGAIN;
	if (out_len < 2)
		return -ENOSPC;
	n = vl_dns_answer(lab, vnet, m + 2, l, (uint8_t *)out + 2, out_len - 2);
	if (n < 0)
		return n;
	put16(out, (uint16_t)n);
	return n + 2;
}

int vl_dns_query_build(void *buf, size_t len, uint16_t id, const char *name, uint16_t qtype)
{
	uint8_t *o = buf;
	size_t n = name ? strlen(name) : 0, w = HDR;

	if (n && name[n - 1] == '.')
		n--;
	if (!n || n > NAME_TEXT_MAX)
		return -EINVAL;
	if (len < HDR + n + 2 + 4)
		return -ENOSPC;
	memset(o, 0, HDR);
	put16(o, id);
	put16(o + 2, F_RD);
	put16(o + 4, 1);
	for (size_t i = 0; i < n;) {
		size_t l = strcspn(name + i, ".");

		if (i + l > n)
			l = n - i;
		if (l == 0 || l > 63)
			return -EINVAL;
		o[w++] = (uint8_t)l;
		memcpy(o + w, name + i, l);
		w += l;
		i += l + 1;
	}
	o[w++] = 0;
	put16(o + w, qtype);
	put16(o + w + 2, VL_DNS_CLASS_IN);
	return (int)(w + 4);
}

int vl_dns_reply_parse(const void *msg, size_t len, struct vl_dns_reply *r)
{
	const uint8_t *m = msg;
	char name[VL_DNS_NAME_MAX];
	size_t off = HDR, next;
	unsigned qd, an;

	memset(r, 0, sizeof(*r));
	if (!msg || len < HDR || !(get16(m + 2) & F_QR))
		return -EINVAL;
	r->id = get16(m);
	r->rcode = get16(m + 2) & 0xf;
	qd = get16(m + 4);
	an = get16(m + 6);
	for (unsigned i = 0; i < qd; i++) {
		if (name_read(m, len, off, name, &next) < 0 || next + 4 > len)
			return -EINVAL;
		if (i == 0)
			snprintf(r->name, sizeof(r->name), "%s", name);
		off = next + 4;
	}
	for (unsigned i = 0; i < an; i++) {
		uint16_t type, class, rdlen;

		if (name_read(m, len, off, name, &next) < 0 || next + 10 > len)
			return -EINVAL;
		type = get16(m + next);
		class = get16(m + next + 2);
		rdlen = get16(m + next + 8);
		off = next + 10;
		if (off + rdlen > len)
			return -EINVAL;
		r->n_answers++;
		if (type == VL_DNS_TYPE_A && class == VL_DNS_CLASS_IN && rdlen == 4 && !r->has_a) {
			r->has_a = true;
			r->a = (uint32_t)get16(m + off) << 16 | get16(m + off + 2);
			r->ttl = (uint32_t)get16(m + next + 4) << 16 | get16(m + next + 6);
		}
		off += rdlen;
	}
	return 0;
}
