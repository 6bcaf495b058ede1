// SPDX-License-Identifier: MIT
/*
 * Kubernetes NetworkPolicy semantics (spec 16.1), computed once per pod: which policies select
 * it, whether it is isolated per direction, and what each rule allows as addresses and ports,
 * selectors and named ports already resolved. The nftables compiler turns these allow lists into
 * the node's chains and the evaluator scans the same lists, so the two agree by construction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eff-int.h"
#include "vnetlab/ip.h"

const char *vl_netpol_engine_name(enum vl_netpol_engine e)
{
	return e == VL_NETPOL_AZURE ? "azure" : e == VL_NETPOL_CALICO ? "calico" : "none";
}

static const struct vl_pod_spec *pod_spec(const struct vl_lab *lab, int ep)
{
	const struct vl_endpoint *e = &lab->eps[ep];

	if (e->kind != VL_EP_POD || e->owner < 0 || (size_t)e->owner >= lab->n_aks || e->pod_spec < 0 ||
	    (size_t)e->pod_spec >= lab->aks[e->owner].n_pods)
		return NULL;
	return &lab->aks[e->owner].pods[e->pod_spec];
}

bool vl_np_named_port(const struct vl_lab *lab, int pod, const char *name, uint16_t *port)
{
	const struct vl_pod_spec *ps = pod_spec(lab, pod);

	for (size_t i = 0; ps && ps->port_names && i < ps->n_ports; i++)
		if (ps->port_names[i] && !strcmp(ps->port_names[i], name)) {
			*port = ps->ports[i];
			return true;
		}
	return false;
}

static const struct vl_labels no_labels;

static const struct vl_labels *ns_labels(const struct vl_aks *a, const char *ns)
{
	const struct vl_k8s_ns *n = vl_aks_find_ns(a, ns);

	return n ? &n->labels : &no_labels;
}

/* Does a selector peer (podSelector and/or namespaceSelector) of a policy in namespace pol_ns
 * select pod endpoint ep? One peer with both is their AND (spec 16.1.5). */
static bool peer_selects(const struct vl_lab *lab, const struct vl_aks *a, const char *pol_ns,
			 const struct vl_np_peer *p, int ep)
{
	const struct vl_pod_spec *ps = pod_spec(lab, ep);

	if (!ps || &lab->aks[lab->eps[ep].owner] != a)
		return false;
	if (p->namespaces.present) {
		if (!vl_selector_matches(&p->namespaces, ns_labels(a, ps->ns)))
			return false;
	} else if (strcmp(ps->ns, pol_ns)) {
		return false; /* podSelector alone: the policy's namespace */
	}
	return !p->pods.present || vl_selector_matches(&p->pods, &ps->labels);
}

static bool block_has(const struct vl_np_peer *p, uint32_t ip)
{
	if (!vl_prefix_contains(p->block, ip))
		return false;
	for (size_t i = 0; i < p->n_except; i++)
		if (vl_prefix_contains(p->except[i], ip))
			return false;
	return true;
}

/* Range lo-hi (inclusive) as the fewest prefixes. */
static int range_push(struct vleff_plist *l, uint64_t lo, uint64_t hi)
{
	int r = 0;

	while (lo <= hi && !r) {
		uint8_t len = 32;

		while (len > 0) {
			uint64_t size = 1ull << (32 - (len - 1));

			if (lo % size || lo + size - 1 > hi)
				break;
			len--;
		}
		r = vleff_plist_push(l, (struct vl_prefix){(uint32_t)lo, len});
		lo += 1ull << (32 - len);
	}
	return r;
}

/* cidr minus except as prefixes (spec 16.1.6). */
static int block_push(struct vleff_plist *l, const struct vl_np_peer *p)
{
	uint64_t lo = p->block.addr, hi = vl_prefix_last(p->block);
	struct vl_prefix *ex = NULL;
	size_t n = p->n_except;
	int r = 0;

	if (n && !(ex = malloc(n * sizeof(*ex))))
		return -ENOMEM;
	if (n)
		memcpy(ex, p->except, n * sizeof(*ex));
	/* sort by address; overlapping excepts are skipped by the cursor */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && ex[j - 1].addr > ex[j].addr; j--) {
			struct vl_prefix t = ex[j];

			ex[j] = ex[j - 1];
			ex[j - 1] = t;
		}
	for (size_t i = 0; i < n && !r; i++) {
		uint64_t elo = ex[i].addr, ehi = vl_prefix_last(ex[i]);

		if (ehi < lo)
			continue;
		if (elo > lo)
			r = range_push(l, lo, elo - 1);
		lo = ehi + 1;
	}
	if (!r && lo <= hi)
		r = range_push(l, lo, hi);
	free(ex);
	return r;
}

struct builder {
	const struct vl_lab *lab;
	const struct vl_aks *a;
	int cluster;
	struct vl_np_pod *np;
	int ep;
};

static int allow_add(struct builder *b, enum vl_dir d, int pol, int rule, bool any, struct vleff_plist *peers,
		     enum vl_proto proto, uint16_t lo, uint16_t hi)
{
	struct vl_np_allow *v = realloc(b->np->allow[d], (b->np->n_allow[d] + 1) * sizeof(*v)), *x;

	if (!v)
		return -ENOMEM;
	b->np->allow[d] = v;
	x = &v[b->np->n_allow[d]++];
	memset(x, 0, sizeof(*x));
	x->policy = pol;
	x->rule = rule;
	x->any_peer = any;
	x->proto = proto;
	x->lo = lo;
	x->hi = hi;
	if (!any && peers->n) {
		vleff_plist_merge(peers);
		if (!(x->peers = malloc(peers->n * sizeof(*x->peers))))
			return -ENOMEM;
		memcpy(x->peers, peers->v, peers->n * sizeof(*x->peers));
		x->n_peers = peers->n;
	}
	return 0;
}

/* The addresses a rule's peers stand for: pod selectors as their pods' addresses, ipBlocks as
 * prefixes. *any: the rule names no peer (every address). only_ep != VL_NONE: only that pod's
 * address, if a peer covers it (egress to a named port of that pod). */
static int peer_addrs(struct builder *b, const struct vl_netpol *p, const struct vl_np_rule *r, int only_ep,
		      bool *any, struct vleff_plist *out)
{
	const struct vl_lab *lab = b->lab;
	int rc = 0;

	*any = false;
	if (!r->n_peers) {
		if (only_ep == VL_NONE) {
			*any = true;
			return 0;
		}
		return vleff_plist_push(out, (struct vl_prefix){lab->eps[only_ep].ip, 32});
	}
	for (size_t i = 0; i < r->n_peers && !rc; i++) {
		const struct vl_np_peer *pe = &r->peers[i];

		if (pe->is_block) {
			if (only_ep == VL_NONE)
				rc = block_push(out, pe);
			else if (block_has(pe, lab->eps[only_ep].ip))
				rc = vleff_plist_push(out, (struct vl_prefix){lab->eps[only_ep].ip, 32});
			continue;
		}
		for (size_t e = 0; e < lab->n_eps && !rc; e++) {
			if (only_ep != VL_NONE && (int)e != only_ep)
				continue;
			if (peer_selects(lab, b->a, p->ns, pe, (int)e))
				rc = vleff_plist_push(out, (struct vl_prefix){lab->eps[e].ip, 32});
		}
	}
	return rc;
}

static int rule_allows(struct builder *b, enum vl_dir d, int pi, int ri)
{
	const struct vl_netpol *p = &b->a->policies[pi];
	const struct vl_np_rule *r = d == VL_DIR_IN ? &p->in[ri] : &p->out[ri];
	struct vleff_plist peers = {0};
	bool any;
	int rc;

	if (!r->n_ports) {
		rc = peer_addrs(b, p, r, VL_NONE, &any, &peers);
		if (!rc && (any || peers.n))
			rc = allow_add(b, d, pi, ri, any, &peers, VL_PROTO_ANY, 0, 0);
		free(peers.v);
		return rc;
	}
	for (size_t k = 0; k < r->n_ports; k++) {
		const struct vl_np_port *pt = &r->ports[k];
		/* legacy Azure NPM opened only `port` of a range and ignored named ports (spec 16.4) */
		bool legacy = b->a->npm_legacy && b->a->netpol == VL_NETPOL_AZURE;
		uint16_t num, end = legacy ? 0 : pt->end_port;

		if (pt->name && legacy)
			continue;
		if (!pt->name) {
			peers.n = 0;
			rc = peer_addrs(b, p, r, VL_NONE, &any, &peers);
			if (!rc && (any || peers.n))
				rc = allow_add(b, d, pi, ri, any, &peers, pt->proto, pt->port ? pt->port : 1,
					       pt->port ? (end ? end : pt->port) : 65535);
		} else if (d == VL_DIR_IN) {
			/* the destination is this pod: its own containerPort names */
			rc = 0;
			peers.n = 0;
			if (vl_np_named_port(b->lab, b->ep, pt->name, &num)) {
				rc = peer_addrs(b, p, r, VL_NONE, &any, &peers);
				if (!rc && (any || peers.n))
					rc = allow_add(b, d, pi, ri, any, &peers, pt->proto, num, num);
			}
		} else {
			/* egress to a named port: every pod with that name, each its own number */
			rc = 0;
			for (size_t e = 0; e < b->lab->n_eps && !rc; e++) {
				if (b->lab->eps[e].kind != VL_EP_POD || b->lab->eps[e].owner != b->cluster ||
				    !vl_np_named_port(b->lab, (int)e, pt->name, &num))
					continue;
				peers.n = 0;
				rc = peer_addrs(b, p, r, (int)e, &any, &peers);
				if (!rc && peers.n)
					rc = allow_add(b, d, pi, ri, false, &peers, pt->proto, num, num);
			}
		}
		if (rc)
			break;
	}
	free(peers.v);
	return rc;
}

static void pod_free(struct vl_np_pod *np)
{
	for (int d = 0; d < 2; d++) {
		for (size_t i = 0; i < np->n_allow[d]; i++)
			free(np->allow[d][i].peers);
		free(np->allow[d]);
	}
	free(np->policies);
	memset(np, 0, sizeof(*np));
}

void vleff_netpol_free(struct vl_effective *e)
{
	for (size_t i = 0; e->np && i < e->n_np; i++)
		pod_free(&e->np[i]);
	free(e->np);
	e->np = NULL;
	e->n_np = 0;
}

static int pod_build(struct builder *b)
{
	const struct vl_pod_spec *ps = pod_spec(b->lab, b->ep);
	int rc = 0;

	/* never on the virtual node: a container group has no node to enforce them (spec 17) */
	b->np->enforced = b->a->netpol != VL_NETPOL_NONE && !b->lab->eps[b->ep].virtual_node;
	for (size_t i = 0; i < b->a->n_policies && !rc; i++) {
		const struct vl_netpol *p = &b->a->policies[i];
		int *v;

		if (strcmp(p->ns, ps->ns) || !vl_selector_matches(&p->pods, &ps->labels))
			continue;
		if (!(v = realloc(b->np->policies, (b->np->n_policies + 1) * sizeof(*v))))
			return -ENOMEM;
		b->np->policies = v;
		v[b->np->n_policies++] = (int)i;
		b->np->isolated[VL_DIR_IN] |= p->ingress;
		b->np->isolated[VL_DIR_OUT] |= p->egress;
		for (size_t r = 0; p->ingress && r < p->n_in && !rc; r++)
			rc = rule_allows(b, VL_DIR_IN, (int)i, (int)r);
		for (size_t r = 0; p->egress && r < p->n_out && !rc; r++)
			rc = rule_allows(b, VL_DIR_OUT, (int)i, (int)r);
	}
	return rc;
}

int vl_eff_netpol_build(struct vl_lab *lab)
{
	struct vl_effective *e = lab->eff;
	int rc = 0;

	if (!e)
		return -EINVAL;
	vleff_netpol_free(e);
	if (!(e->np = calloc(lab->n_eps ? lab->n_eps : 1, sizeof(*e->np))))
		return -ENOMEM;
	e->n_np = lab->n_eps;
	for (size_t i = 0; i < lab->n_eps && !rc; i++) {
		struct builder b = {.lab = lab, .np = &e->np[i], .ep = (int)i};

		if (!pod_spec(lab, (int)i))
			continue;
		b.cluster = lab->eps[i].owner;
		b.a = &lab->aks[b.cluster];
		rc = pod_build(&b);
	}
	return rc;
}

static bool allow_matches(const struct vl_np_allow *x, uint32_t peer, enum vl_proto proto, uint16_t port)
{
	if (x->proto != VL_PROTO_ANY && (x->proto != proto || port < x->lo || port > x->hi))
		return false;
	return x->any_peer || vleff_plist_contains(x->peers, x->n_peers, peer);
}

int vl_np_decide(const struct vl_lab *lab, int pod, enum vl_dir dir, uint32_t peer, enum vl_proto proto,
		 uint16_t port, struct vl_np_verdict *v)
{
	const struct vl_np_pod *np;
	const struct vl_endpoint *e;

	memset(v, 0, sizeof(*v));
	v->pod = pod;
	v->dir = dir;
	v->policy = v->rule = v->cluster = VL_NONE;
	if (!lab || !lab->eff || pod < 0 || (size_t)pod >= lab->n_eps || (size_t)pod >= lab->eff->n_np ||
	    !pod_spec(lab, pod))
		return -EINVAL;
	e = &lab->eps[pod];
	np = &lab->eff->np[pod];
	v->cluster = e->owner;
	if (!np->enforced) {
		v->result = VL_NP_UNENFORCED;
		return 0;
	}
	/* its node's own addresses (eth0, and cbr0's .1 for kubenet) are local there: never forwarded */
	if (e->node >= 0 && (size_t)e->node < lab->n_eps &&
	    (lab->eps[e->node].ip == peer ||
	     (lab->eps[e->node].pod_cidr.len && lab->eps[e->node].pod_cidr.addr + 1 == peer))) {
		v->result = VL_NP_NODE;
		return 0;
	}
	if (!np->isolated[dir]) {
		v->result = VL_NP_NOT_SELECTED;
		return 0;
	}
	for (size_t i = 0; i < np->n_allow[dir]; i++)
		if (allow_matches(&np->allow[dir][i], peer, proto, port)) {
			v->result = VL_NP_ALLOW;
			v->policy = np->allow[dir][i].policy;
			v->rule = np->allow[dir][i].rule;
			return 0;
		}
	v->result = VL_NP_DENY;
	for (size_t i = 0; i < np->n_policies; i++) {
		const struct vl_netpol *p = &lab->aks[e->owner].policies[np->policies[i]];

		if (dir == VL_DIR_IN ? p->ingress : p->egress) {
			v->policy = np->policies[i];
			break;
		}
	}
	return 0;
}
