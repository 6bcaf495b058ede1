// SPDX-License-Identifier: MIT
/*
 * The plan of `verify` (pure): which flows a lab has, the source port each one
 * uses, the evaluator's verdict on each, and whether a probe result agrees
 * with it. The run (verify_run.c) only fills in the kernel's side.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/ip.h"
#include "vnetlab/verify.h"

/* An endpoint given by name, or by an address it holds (as IP flow verify takes one). */
static int find_ep(const struct vl_lab *lab, const char *s)
{
	uint32_t ip;
	int i = vl_lab_find_endpoint(lab, s);

	if (i == VL_NONE && !vl_ip_parse(s, &ip))
		i = vl_lab_find_endpoint_by_ip(lab, ip);
	return i;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Per endpoint: does another endpoint hold the same address? */
static int shared_addresses(const struct vl_lab *lab, bool *shared)
{
	uint32_t *ips = malloc((lab->n_eps ? lab->n_eps : 1) * sizeof(*ips));

	if (!ips)
		return -ENOMEM;
	for (size_t i = 0; i < lab->n_eps; i++)
		ips[i] = lab->eps[i].ip;
	qsort(ips, lab->n_eps, sizeof(*ips), cmp_u32);
	for (size_t i = 0; i < lab->n_eps; i++) {
		uint32_t *p = bsearch(&lab->eps[i].ip, ips, lab->n_eps, sizeof(*ips), cmp_u32);

		shared[i] = (p > ips && p[-1] == lab->eps[i].ip) ||
			    ((size_t)(p - ips) + 1 < lab->n_eps && p[1] == lab->eps[i].ip);
	}
	free(ips);
	return 0;
}

/* Source-port counters, one per NIC address: open addressing, linear probing. */
struct port_map {
	uint32_t *key;
	uint32_t *next;
	bool *used;
	size_t cap;
};

static int port_map_init(struct port_map *m, size_t n)
{
	m->cap = 16;
	while (m->cap < n * 2)
		m->cap *= 2;
	m->key = calloc(m->cap, sizeof(*m->key));
	m->next = calloc(m->cap, sizeof(*m->next));
	m->used = calloc(m->cap, sizeof(*m->used));
	return m->key && m->next && m->used ? 0 : -ENOMEM;
}

static void port_map_free(struct port_map *m)
{
	free(m->key);
	free(m->next);
	free(m->used);
}

static uint16_t port_take(struct port_map *m, uint32_t ip, uint16_t base)
{
	size_t h = (ip * 2654435761u) & (m->cap - 1);
	uint32_t k;

	while (m->used[h] && m->key[h] != ip)
		h = (h + 1) & (m->cap - 1);
	m->used[h] = true;
	m->key[h] = ip;
	k = m->next[h]++;
	return (uint16_t)(VL_VERIFY_PORT_LO + (base - VL_VERIFY_PORT_LO + k) % VL_VERIFY_PORT_SPAN);
}

static int push(struct vl_verify *v, size_t *cap, const struct vl_verify_flow *f)
{
	if (v->n_flows == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct vl_verify_flow *p = realloc(v->flows, nc * sizeof(*p));

		if (!p)
			return -ENOMEM;
		v->flows = p;
		*cap = nc;
	}
	v->flows[v->n_flows++] = *f;
	return 0;
}

static void judge(const struct vl_lab *lab, struct vl_verify_flow *f, struct vl_verdict *vd)
{
	if (vl_eval_path(lab, f->from, f->dst, f->proto, f->sport, f->dport, vd)) {
		f->outcome = VL_OUT_UNREACHABLE;
		f->nsg = VL_NONE;
		f->rule = NULL;
		return;
	}
	f->outcome = vd->outcome;
	f->nsg = vd->nsg;
	f->rule = vd->rule;
	f->np_pod = VL_NONE;
	for (size_t i = 0; i < vd->n_hops; i++)
		if (vd->hops[i].type == VL_HT_POLICY && vd->hops[i].access == VL_DENY) {
			f->np_pod = vd->hops[i].endpoint;
			f->np_dir = vd->hops[i].dir;
		}
}

int vl_verify_plan(const struct vl_lab *lab, const char *from, const char *to, uint16_t port_base,
		   struct vl_verify *out)
{
	int only_from = VL_NONE, only_to = VL_NONE, err;
	struct vl_verdict *vd = NULL;
	struct port_map pm = {0};
	bool *shared = NULL;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (port_base < VL_VERIFY_PORT_LO || port_base >= VL_VERIFY_PORT_LO + VL_VERIFY_PORT_SPAN)
		port_base = VL_VERIFY_PORT_LO;
	if (from && (only_from = find_ep(lab, from)) == VL_NONE)
		return -ENOENT;
	if (to && (only_to = find_ep(lab, to)) == VL_NONE)
		return -ENOENT;
	shared = calloc(lab->n_eps ? lab->n_eps : 1, sizeof(*shared));
	vd = malloc(sizeof(*vd));
	err = !shared || !vd ? -ENOMEM : shared_addresses(lab, shared);
	if (!err)
		err = port_map_init(&pm, lab->n_eps);
	for (size_t s = 0; s < lab->n_eps && !err; s++) {
		const struct vl_endpoint *src = &lab->eps[s];
		int nic = src->nic >= 0 && (size_t)src->nic < lab->n_eps ? src->nic : (int)s;

		if (only_from != VL_NONE && (int)s != only_from)
			continue;
		for (size_t t = 0; t < lab->n_eps && !err; t++) {
			const struct vl_endpoint *dst = &lab->eps[t];

			if (t == s || (only_to != VL_NONE && (int)t != only_to) || !dst->n_ports ||
			    dst->app == VL_APP_NONE)
				continue;
			if (shared[t] && vl_lab_find_endpoint_near(lab, (int)s, dst->ip) != (int)t)
				continue;
			for (size_t p = 0; p < dst->n_ports && !err; p++) {
				for (int k = 0; k < (dst->app == VL_APP_ECHO ? 2 : 1) && !err; k++) {
					struct vl_verify_flow f = {
					    .from = (int)s,
					    .to = (int)t,
					    .dst = dst->ip,
					    .proto = k ? VL_PROTO_UDP : VL_PROTO_TCP,
					    .dport = dst->ports[p],
					    .sport = port_take(&pm, lab->eps[nic].ip, port_base),
					};

					judge(lab, &f, vd);
					err = push(out, &cap, &f);
				}
			}
		}
	}
	port_map_free(&pm);
	free(shared);
	free(vd);
	if (err)
		vl_verify_free(out);
	return err;
}

void vl_verify_free(struct vl_verify *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_strings; i++)
		free(v->strings[i]);
	free(v->strings);
	free(v->flows);
	memset(v, 0, sizeof(*v));
}

const char *vl_verify_intern(struct vl_verify *v, const char *s)
{
	char **p, *c;

	for (size_t i = 0; i < v->n_strings; i++)
		if (!strcmp(v->strings[i], s))
			return v->strings[i];
	p = realloc(v->strings, (v->n_strings + 1) * sizeof(*p));
	if (!p)
		return NULL;
	v->strings = p;
	c = strdup(s);
	if (!c)
		return NULL;
	v->strings[v->n_strings++] = c;
	return c;
}

bool vl_verify_allowed(const struct vl_verify_flow *f)
{
	return f->probed && !f->err && (f->status == VL_PROBE_CONNECTED || f->status == VL_PROBE_REFUSED);
}

bool vl_verify_agrees(const struct vl_lab *lab, const struct vl_verify_flow *f)
{
	char want[128]; /* the NFLOG prefix the fabric logs: "<nsg>/<rule>", as long as a prefix can be */

	if (!f->probed || f->err)
		return false;
	switch (f->status) {
	case VL_PROBE_CONNECTED:
	case VL_PROBE_REFUSED:
		return f->outcome == VL_OUT_DELIVERED;
	case VL_PROBE_DROPPED:
		if (f->outcome != VL_OUT_DENIED || !f->drop)
			return false;
		if (f->nsg == VL_NONE && f->np_pod != VL_NONE) /* the node's policy chain (nft/netpol.c) */
			snprintf(want, sizeof(want), "np:%s/%s", f->np_dir == VL_DIR_IN ? "in" : "out",
				 lab->eps[f->np_pod].name);
		else if (f->nsg == VL_NONE || !f->rule)
			return false;
		else
			snprintf(want, sizeof(want), "%s/%s", lab->nsgs[f->nsg].name, f->rule->name);
		return !strcmp(f->drop, want);
	case VL_PROBE_UNREACHABLE:
		return f->outcome == VL_OUT_UNREACHABLE;
	case VL_PROBE_TIMEOUT:
		return f->outcome == VL_OUT_NO_HOST;
	}
	return false;
}
