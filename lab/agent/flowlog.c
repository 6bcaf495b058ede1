// SPDX-License-Identifier: MIT
/* NSG flow records: the agent's line format and NSG flow log version 2 (spec 20.1). Pure. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnetlab/agent.h"
#include "vnetlab/flowlog.h"
#include "vnetlab/ip.h"

static int put(size_t len, int n)
{
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= len ? -ENOSPC : n;
}

int vl_flow_format(char *buf, size_t len, const struct vl_flow *f)
{
	char src[VL_IP_STRLEN], dst[VL_IP_STRLEN];
	int n = snprintf(buf, len, "flow %" PRId64 " %c %s %s %u %s %u %c ", f->ms, f->allowed ? 'A' : 'D',
			 vl_wire_proto_word(f->proto), vl_ip_fmt(f->src, src), f->sport, vl_ip_fmt(f->dst, dst),
			 f->dport, f->dir == 'I' || f->dir == 'O' ? f->dir : '?');

	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	if (!f->nsg[0])
		return put(len, n + snprintf(buf + n, len - (size_t)n, "~%016" PRIx64 "\n", f->id));
	return put(len, n + snprintf(buf + n, len - (size_t)n, "%s/%s\n", f->nsg, f->rule));
}

int vl_flow_parse(const char *line, struct vl_flow *f)
{
	char ad, dir, proto[8], src[VL_IP_STRLEN], dst[VL_IP_STRLEN], tag[200];
	long long ms;
	unsigned sport, dport;
	int end = 0;

	memset(f, 0, sizeof(*f));
	if (sscanf(line, "flow %lld %c %7s %15s %u %15s %u %c %199s%n", &ms, &ad, proto, src, &sport, dst,
		   &dport, &dir, tag, &end) != 9)
		return -EINVAL;
	if (line[end] != '\0' && strcmp(line + end, "\n") != 0)
		return -EINVAL;
	if ((ad != 'A' && ad != 'D') || (dir != 'I' && dir != 'O' && dir != '?') || ms < 0 || sport > 65535 ||
	    dport > 65535 || vl_ip_parse(src, &f->src) < 0 || vl_ip_parse(dst, &f->dst) < 0 ||
	    vl_wire_proto_parse(proto, &f->proto) < 0)
		return -EINVAL;
	f->ms = ms;
	f->allowed = ad == 'A';
	f->sport = (uint16_t)sport;
	f->dport = (uint16_t)dport;
	f->dir = dir;
	if (tag[0] == '~') {
		size_t n = strspn(tag + 1, "0123456789abcdef");

		if (n != 16 || tag[17])
			return -EINVAL;
		f->id = strtoull(tag + 1, NULL, 16);
		return f->id ? 0 : -EINVAL;
	} else {
		const char *slash = strchr(tag, '/');
		size_t nl = slash ? (size_t)(slash - tag) : 0, rl = slash ? strlen(slash + 1) : 0;

		if (!slash || !nl || !rl || nl >= sizeof(f->nsg) || rl >= sizeof(f->rule))
			return -EINVAL;
		memcpy(f->nsg, tag, nl);
		f->nsg[nl] = '\0';
		memcpy(f->rule, slash + 1, rl + 1);
	}
	return 0;
}

/* Does rule r of NSG g name f (by id, or by names when f has them)? */
static bool names(const struct vl_flow *f, const char *nsg, const struct vl_rule *r)
{
	if (f->nsg[0])
		return !strcmp(f->nsg, nsg) && !strcmp(f->rule, r->name);
	return vl_rule_id(nsg, r->name) == f->id;
}

static int take(struct vl_flow *f, const char *nsg, const struct vl_rule *r)
{
	if (strlen(nsg) >= sizeof(f->nsg) || strlen(r->name) >= sizeof(f->rule))
		return -ENOENT;
	snprintf(f->nsg, sizeof(f->nsg), "%s", nsg);
	snprintf(f->rule, sizeof(f->rule), "%s", r->name);
	f->id = vl_rule_id(nsg, r->name);
	f->dir = r->dir == VL_DIR_IN ? 'I' : 'O';
	f->default_rule = r->is_default;
	return 0;
}

int vl_flow_resolve(const struct vl_lab *lab, struct vl_flow *f)
{
	size_t n_def;
	const struct vl_rule *def = vl_default_rules(&n_def);

	for (size_t i = 0; i < lab->n_nsgs; i++) {
		const struct vl_nsg *g = &lab->nsgs[i];

		if (f->nsg[0] && strcmp(f->nsg, g->name))
			continue;
		for (size_t j = 0; j < g->n_rules; j++)
			if (names(f, g->name, &g->rules[j]))
				return take(f, g->name, &g->rules[j]);
		for (size_t j = 0; j < n_def; j++)
			if (names(f, g->name, &def[j]))
				return take(f, g->name, &def[j]);
	}
	return -ENOENT;
}

int vl_flow_v2_tuple(char *buf, size_t len, const struct vl_flow *f)
{
	char src[VL_IP_STRLEN], dst[VL_IP_STRLEN];

	if ((f->proto != VL_PROTO_TCP && f->proto != VL_PROTO_UDP) || (f->dir != 'I' && f->dir != 'O'))
		return -EINVAL;
	return put(len, snprintf(buf, len, "%" PRId64 ",%s,%s,%u,%u,%c,%c,%c,B,,,,", f->ms / 1000,
				 vl_ip_fmt(f->src, src), vl_ip_fmt(f->dst, dst), f->sport, f->dport,
				 f->proto == VL_PROTO_TCP ? 'T' : 'U', f->dir, f->allowed ? 'A' : 'D'));
}

void vl_flow_v2_rule(char *buf, size_t len, const struct vl_flow *f)
{
	snprintf(buf, len, "%s_%.*s", f->default_rule ? "DefaultRule" : "UserRule", VL_FLOW_V2_RULE_MAX,
		 f->rule);
}

void vl_flow_v2_mac(char buf[13], uint32_t nic_ip)
{
	snprintf(buf, 13, "000D3A%06X", nic_ip & 0xffffffu);
}

static void json_s(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(out, "\\u%04x",
				*p); /* names are ASCII in Azure; anything else stays valid JSON */
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void upper(char *dst, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		dst[i] = (char)toupper((unsigned char)s[i]);
	dst[i] = '\0';
}

/* A GUID of the lab, the same every time (Azure's systemId names the host that logged). */
static void system_id(char buf[37], const char *lab)
{
	uint64_t h = 0xcbf29ce484222325ull, g;

	for (const char *p = lab; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	g = h * 0x9e3779b97f4a7c15ull;
	snprintf(buf, 37, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(h >> 32), (unsigned)(h >> 16) & 0xffff,
		 (unsigned)h & 0xffff, (unsigned)(g >> 48), (unsigned long long)(g & 0xffffffffffffull));
}

static uint32_t nic_of(const struct vl_flow *f)
{
	return f->dir == 'I' ? f->dst : f->src;
}

int vl_flow_v2_record(FILE *out, const char *lab, const struct vl_flow *f, size_t n)
{
	char when[40], sys[37], res[512], up_lab[64], up_nsg[VL_FLOW_V2_NSG_MAX + 1], rule[128], mac[13];
	bool *done_rule = calloc(n ? n : 1, sizeof(bool)), *done_mac = calloc(n ? n : 1, sizeof(bool));
	time_t secs = n ? (time_t)(f[0].ms / 1000) : 0;
	struct tm tm;

	if (!done_rule || !done_mac) {
		free(done_rule);
		free(done_mac);
		return -ENOMEM;
	}
	gmtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	system_id(sys, lab);
	upper(up_lab, sizeof(up_lab), lab);
	snprintf(rule, sizeof(rule), "%.*s", VL_FLOW_V2_NSG_MAX, n ? f[0].nsg : "");
	upper(up_nsg, sizeof(up_nsg), rule);
	snprintf(res, sizeof(res),
		 "/SUBSCRIPTIONS/" VL_FLOW_SUBSCRIPTION "/RESOURCEGROUPS/%s/PROVIDERS/MICROSOFT.NETWORK/"
		 "NETWORKSECURITYGROUPS/%s",
		 up_lab, up_nsg);
	fprintf(out, "{\"time\":\"%s.%03d0000Z\",\"systemId\":\"%s\",", when, n ? (int)(f[0].ms % 1000) : 0,
		sys);
	fputs("\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":", out);
	json_s(out, res);
	fputs(
	    ",\"operationName\":\"NetworkSecurityGroupFlowEvents\",\"properties\":{\"Version\":2,\"flows\":[",
	    out);
	for (size_t i = 0, nr = 0; i < n; i++) {
		if (done_rule[i])
			continue;
		vl_flow_v2_rule(rule, sizeof(rule), &f[i]);
		fprintf(out, "%s{\"rule\":", nr++ ? "," : "");
		json_s(out, rule);
		fputs(",\"flows\":[", out);
		for (size_t j = i, nm = 0; j < n; j++) {
			if (done_rule[j] || done_mac[j] || strcmp(f[j].rule, f[i].rule))
				continue;
			vl_flow_v2_mac(mac, nic_of(&f[j]));
			fprintf(out, "%s{\"mac\":\"%s\",\"flowTuples\":[", nm++ ? "," : "", mac);
			for (size_t k = j, nt = 0; k < n; k++) {
				char tuple[128];

				if (done_rule[k] || done_mac[k] || strcmp(f[k].rule, f[i].rule) ||
				    nic_of(&f[k]) != nic_of(&f[j]))
					continue;
				done_mac[k] = true;
				if (vl_flow_v2_tuple(tuple, sizeof(tuple), &f[k]) > 0)
					fprintf(out, "%s\"%s\"", nt++ ? "," : "", tuple);
			}
			fputs("]}", out);
		}
		for (size_t j = i; j < n; j++)
			if (!strcmp(f[j].rule, f[i].rule))
				done_rule[j] = true;
		fputs("]}", out);
	}
	fputs("]}}", out);
	free(done_rule);
	free(done_mac);
	return ferror(out) ? -ENOMEM : 0;
}
