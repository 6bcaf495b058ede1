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
	f->np_pod = VL_NONE;
	f->reached_pod = f->reached_node = VL_NONE;
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

/* Every backend of flow f (a flow to a Service) into v->backends. */
static int keep_backends(const struct vl_lab *lab, struct vl_verify *v, size_t *cap, struct vl_verify_flow *f,
			 const struct vl_verdict *vd)
{
	size_t n = vd->n_backends;

	f->backend0 = v->n_backends;
	f->n_backends = 0;
	f->mixed = vd->mixed;
	if (!n)
		return 0;
	if (v->n_backends + n > *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct vl_backend_verdict *p;

		while (nc < v->n_backends + n)
			nc *= 2;
		p = realloc(v->backends, nc * sizeof(*p));
		if (!p)
			return -ENOMEM;
		v->backends = p;
		*cap = nc;
	}
	if (n <= VL_MAX_BACKENDS)
		memcpy(v->backends + v->n_backends, vd->backends, n * sizeof(*vd->backends));
	else if (vl_eval_backends(lab, f->from, f->dst, f->proto, f->sport, f->dport,
				  v->backends + v->n_backends, n) != n)
		return -EIO; /* the same evaluation twice gives the same list */
	v->n_backends += n;
	f->n_backends = n;
	return 0;
}

/* The service named s (a clusterIP flow's target), as cluster and index; false when none. */
static bool find_service(const struct vl_lab *lab, const char *s, int *c, int *svc)
{
	for (size_t i = 0; i < lab->n_aks; i++)
		for (size_t k = 0; k < lab->aks[i].n_services; k++)
			if (!strcmp(lab->aks[i].services[k].name, s)) {
				*c = (int)i;
				*svc = (int)k;
				return true;
			}
	return false;
}

/* May endpoint e send to service s of cluster c at address ip: a pod or node of c to its clusterIP,
 * an Internet host to its frontend? */
static bool service_source(const struct vl_endpoint *e, int c, const struct vl_service *sv, uint32_t ip)
{
	if (ip == sv->cluster_ip)
		return (e->kind == VL_EP_POD || e->kind == VL_EP_NODE) && e->owner == c && !e->virtual_node;
	return e->kind == VL_EP_INTERNET;
}

struct plan {
	const struct vl_lab *lab;
	struct vl_verify *out;
	struct port_map *pm;
	struct vl_verdict *vd;
	size_t cap, bcap;
	uint16_t port_base;
	const bool *shared; /* per endpoint: another one holds its address */
};

/* One flow to every port of each Service (only_c/only_s: that one) from every source it has. */
static int service_flows(struct plan *p, int only_from, int only_c, int only_s)
{
	const struct vl_lab *lab = p->lab;
	int err = 0;

	for (size_t c = 0; c < lab->n_aks && !err; c++) {
		for (size_t s = 0; s < lab->aks[c].n_services && !err; s++) {
			const struct vl_service *sv = &lab->aks[c].services[s];
			uint32_t ips[2] = {sv->cluster_ip, sv->type == VL_SVC_LB ? sv->frontend_ip : 0};

			if (only_c != VL_NONE && ((int)c != only_c || (int)s != only_s))
				continue;
			for (int k = 0; k < 2 && !err; k++) {
				if (!ips[k])
					continue;
				for (size_t e = 0; e < lab->n_eps && !err; e++) {
					const struct vl_endpoint *src = &lab->eps[e];
					int nic = src->nic >= 0 && (size_t)src->nic < lab->n_eps ? src->nic
												 : (int)e;

					if ((only_from != VL_NONE && (int)e != only_from) ||
					    !service_source(src, (int)c, sv, ips[k]))
						continue;
					for (size_t q = 0; q < sv->n_ports && !err; q++) {
						struct vl_verify_flow f = {
						    .from = (int)e,
						    .to = VL_NONE,
						    .svc_cluster = (int)c,
						    .svc = (int)s,
						    .dst = ips[k],
						    .proto = sv->ports[q].proto,
						    .dport = sv->ports[q].port,
						    .sport = port_take(p->pm, lab->eps[nic].ip, p->port_base),
						};

						if (f.proto != VL_PROTO_TCP && f.proto != VL_PROTO_UDP)
							continue;
						judge(lab, &f, p->vd);
						err = keep_backends(lab, p->out, &p->bcap, &f, p->vd);
						if (!err)
							err = push(p->out, &p->cap, &f);
					}
				}
			}
		}
	}
	return err;
}

/* May endpoint e send to node n's NodePort the way kube-proxy takes it? Not from the node itself or
 * its pods (kube-proxy matches what comes in on eth0), nor from the Internet (nodes have no public
 * address); from any other endpoint (VMs, other nodes and their pods, on-premises hosts...): the
 * evaluator says whether the flow gets there. */
static bool node_port_source(const struct vl_lab *lab, const bool *shared, int e, int n)
{
	const struct vl_endpoint *src = &lab->eps[e];

	if (e == n || src->kind == VL_EP_INTERNET || (src->kind == VL_EP_POD && src->node == n))
		return false;
	/* the node's address means another endpoint from the source's side (overlapping spaces) */
	return !shared[n] || vl_lab_find_endpoint_near(lab, e, lab->eps[n].ip) == n;
}

/*
 * One flow to each node's NodePort of each NodePort and LoadBalancer Service (only_c/only_s: that
 * one; only_to: that node) from every source that may send to it: sources x nodes x ports, the
 * growth of the pairs of endpoints when the nodes are fewer than the endpoints with an app.
 */
static int node_port_flows(struct plan *p, int only_from, int only_to, int only_c, int only_s)
{
	const struct vl_lab *lab = p->lab;
	int err = 0;

	for (size_t n = 0; n < lab->n_eps && !err; n++) {
		const struct vl_endpoint *node = &lab->eps[n];
		const struct vl_aks *a;

		if (node->kind != VL_EP_NODE || node->virtual_node || node->owner < 0 ||
		    (size_t)node->owner >= lab->n_aks || (only_to != VL_NONE && (int)n != only_to) ||
		    (only_c != VL_NONE && node->owner != only_c))
			continue;
		a = &lab->aks[node->owner];
		for (size_t s = 0; s < a->n_services && !err; s++) {
			const struct vl_service *sv = &a->services[s];

			/* kube-proxy drops what reaches a node without a pod of a Local Service that has pods
			 * elsewhere; the node's chains (lab/nft/kproxy.c) have no such rule yet, so the node
			 * refuses it: left out of the plan, counted */
			bool dropped = sv->local && vl_eff_service_pods(lab, node->owner, (int)s)->n &&
				       !vl_eff_kproxy_pods(lab, node->owner, (int)s, (int)n, true, NULL, 0);

			if (sv->type == VL_SVC_CLUSTER_IP || (only_c != VL_NONE && (int)s != only_s))
				continue;
			for (size_t e = 0; e < lab->n_eps && !err; e++) {
				const struct vl_endpoint *src = &lab->eps[e];
				int nic = src->nic >= 0 && (size_t)src->nic < lab->n_eps ? src->nic : (int)e;

				if ((only_from != VL_NONE && (int)e != only_from) ||
				    !node_port_source(lab, p->shared, (int)e, (int)n))
					continue;
				for (size_t q = 0; q < sv->n_ports && !err; q++) {
					struct vl_verify_flow f = {
					    .from = (int)e,
					    .to = (int)n,
					    .svc_cluster = node->owner,
					    .svc = (int)s,
					    .dst = node->ip,
					    .proto = sv->ports[q].proto,
					    .dport = sv->ports[q].node_port,
					};

					if ((f.proto != VL_PROTO_TCP && f.proto != VL_PROTO_UDP) || !f.dport)
						continue;
					if (dropped) {
						p->out->not_planned++;
						continue;
					}
					f.sport = port_take(p->pm, lab->eps[nic].ip, p->port_base);
					judge(lab, &f, p->vd);
					err = keep_backends(lab, p->out, &p->bcap, &f, p->vd);
					if (!err)
						err = push(p->out, &p->cap, &f);
				}
			}
		}
	}
	return err;
}

int vl_verify_plan(const struct vl_lab *lab, const char *from, const char *to, uint16_t port_base,
		   struct vl_verify *out)
{
	int only_from = VL_NONE, only_to = VL_NONE, only_c = VL_NONE, only_s = VL_NONE, err;
	struct vl_verdict *vd = NULL;
	struct port_map pm = {0};
	bool *shared = NULL;
	struct plan p = {0};
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (port_base < VL_VERIFY_PORT_LO || port_base >= VL_VERIFY_PORT_LO + VL_VERIFY_PORT_SPAN)
		port_base = VL_VERIFY_PORT_LO;
	if (from && (only_from = find_ep(lab, from)) == VL_NONE)
		return -ENOENT;
	if (to && (only_to = find_ep(lab, to)) == VL_NONE && !find_service(lab, to, &only_c, &only_s))
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

			if (t == s || ((only_to != VL_NONE || only_c != VL_NONE) && (int)t != only_to) ||
			    !dst->n_ports || dst->app == VL_APP_NONE)
				continue;
			if (shared[t] && vl_lab_find_endpoint_near(lab, (int)s, dst->ip) != (int)t)
				continue;
			for (size_t p = 0; p < dst->n_ports && !err; p++) {
				for (int k = 0; k < (dst->app == VL_APP_ECHO ? 2 : 1) && !err; k++) {
					struct vl_verify_flow f = {
					    .from = (int)s,
					    .to = (int)t,
					    .svc_cluster = VL_NONE,
					    .svc = VL_NONE,
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
	p = (struct plan){lab, out, &pm, vd, cap, 0, port_base, shared};
	if (!err && only_to == VL_NONE)
		err = service_flows(&p, only_from, only_c, only_s);
	if (!err && (only_to == VL_NONE || lab->eps[only_to].kind == VL_EP_NODE))
		err = node_port_flows(&p, only_from, only_to, only_c, only_s);
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
	free(v->backends);
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

/* What the evaluator expects of a flow (its own verdict, or one backend's). */
struct expect {
	enum vl_outcome outcome;
	int nsg;
	const struct vl_rule *rule;
	int np_pod;
	enum vl_dir np_dir;
	bool strict; /* a Service's backend: connected only when its pod listens, refused only when not */
	bool listens;
};

static bool agrees(const struct vl_lab *lab, const struct vl_verify_flow *f, const struct expect *e)
{
	char want[128]; /* the NFLOG prefix the fabric logs: "<nsg>/<rule>", as long as a prefix can be */

	switch (f->status) {
	case VL_PROBE_CONNECTED:
	case VL_PROBE_REFUSED:
		if (e->strict && e->outcome == VL_OUT_DELIVERED &&
		    e->listens != (f->status == VL_PROBE_CONNECTED))
			return false;
		return e->outcome == VL_OUT_DELIVERED;
	case VL_PROBE_DROPPED:
		if (e->outcome != VL_OUT_DENIED || !f->drop)
			return false;
		if (e->nsg == VL_NONE && e->np_pod != VL_NONE) /* the node's policy chain (nft/netpol.c) */
			snprintf(want, sizeof(want), "np:%s/%s", e->np_dir == VL_DIR_IN ? "in" : "out",
				 lab->eps[e->np_pod].name);
		else if (e->nsg == VL_NONE || !e->rule)
			return false;
		else
			snprintf(want, sizeof(want), "%s/%s", lab->nsgs[e->nsg].name, e->rule->name);
		return !strcmp(f->drop, want);
	case VL_PROBE_UNREACHABLE:
		return e->outcome == VL_OUT_UNREACHABLE;
	case VL_PROBE_TIMEOUT:
		return e->outcome == VL_OUT_NO_HOST;
	}
	return false;
}

static bool matches_reached(const struct vl_verify_flow *f, const struct vl_backend_verdict *b)
{
	return f->reached_pod != VL_NONE && b->pod == f->reached_pod &&
	       (f->reached_node == VL_NONE || b->node == f->reached_node);
}

const struct vl_backend_verdict *vl_verify_reached(const struct vl_verify *v, const struct vl_verify_flow *f)
{
	for (size_t i = 0; v && i < f->n_backends; i++)
		if (matches_reached(f, &v->backends[f->backend0 + i]))
			return &v->backends[f->backend0 + i];
	return NULL;
}

bool vl_verify_agrees(const struct vl_lab *lab, const struct vl_verify *v, const struct vl_verify_flow *f)
{
	struct expect e = {f->outcome, f->nsg, f->rule, f->np_pod, f->np_dir, false, false};
	bool known = false;

	if (!f->probed || f->err)
		return false;
	if (!v || !f->n_backends)
		return agrees(lab, f, &e);
	/* the backend the kernel reached when it is known (a pod may be reached through several
	 * nodes: any of them), else any backend the flow may have had */
	for (size_t i = 0; i < f->n_backends; i++)
		known |= matches_reached(f, &v->backends[f->backend0 + i]);
	for (size_t i = 0; i < f->n_backends; i++) {
		const struct vl_backend_verdict *b = &v->backends[f->backend0 + i];

		if (known && !matches_reached(f, b))
			continue;
		e = (struct expect){b->outcome, b->nsg, b->rule, b->np_pod, b->np_dir, true, b->listens};
		if (agrees(lab, f, &e))
			return true;
	}
	return false;
}
