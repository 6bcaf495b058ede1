// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/ip.h"

int vl_ip_parse(const char *s, uint32_t *ip)
{
	uint32_t v = 0;
	int parts = 0;

	while (parts < 4) {
		unsigned n = 0;
		int digits = 0;

		while (*s >= '0' && *s <= '9') {
			if (digits && n == 0)
				return -EINVAL; /* leading zero: octal in some tools */
			n = n * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || n > 255)
				return -EINVAL;
		}
		if (!digits)
			return -EINVAL;
		v = v << 8 | n;
		if (++parts < 4 && *s++ != '.')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	*ip = v;
	return 0;
}

uint32_t vl_prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : 0xffffffffu << (32 - len);
}

int vl_prefix_parse(const char *s, bool strict, struct vl_prefix *p)
{
	char buf[VL_IP_STRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned len = 32;
	uint32_t ip;

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (vl_ip_parse(buf, &ip))
		return -EINVAL;
	if (slash) {
		const char *d = slash + 1;
		char *end;

		if (*d < '0' || *d > '9' || (d[0] == '0' && d[1]))
			return -EINVAL;
		len = (unsigned)strtoul(d, &end, 10);
		if (*end || len > 32)
			return -EINVAL;
	}
	if (strict && (ip & ~vl_prefix_mask((uint8_t)len)))
		return -EINVAL;
	p->addr = ip & vl_prefix_mask((uint8_t)len);
	p->len = (uint8_t)len;
	return 0;
}

char *vl_ip_fmt(uint32_t ip, char *buf)
{
	snprintf(buf, VL_IP_STRLEN, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
	return buf;
}

char *vl_prefix_fmt(struct vl_prefix p, char *buf)
{
	char ip[VL_IP_STRLEN];

	snprintf(buf, VL_PREFIX_STRLEN, "%s/%u", vl_ip_fmt(p.addr, ip), (unsigned)(p.len & 63));
	return buf;
}

uint32_t vl_prefix_last(struct vl_prefix p)
{
	return p.addr | ~vl_prefix_mask(p.len);
}

bool vl_prefix_contains(struct vl_prefix p, uint32_t ip)
{
	return (ip & vl_prefix_mask(p.len)) == p.addr;
}

bool vl_prefix_inside(struct vl_prefix inner, struct vl_prefix outer)
{
	return inner.len >= outer.len && vl_prefix_contains(outer, inner.addr);
}

bool vl_prefix_overlaps(struct vl_prefix a, struct vl_prefix b)
{
	return vl_prefix_inside(a, b) || vl_prefix_inside(b, a);
}
