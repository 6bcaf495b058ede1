// SPDX-License-Identifier: MIT
/*
 * The shape of a fabric's ruleset (nft-int.h): which NIC jumps to which NSG
 * chain at each stage, which NICs are marked for a subnet's route table,
 * which appliances do not forward, which VirtualNetwork sets exist. Read
 * from the effective model; the builder and the printer both use it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft-int.h"
#include "vnetlab/effective.h"
#include "vnetlab/plan.h"

static void *grow(void *v, size_t n, size_t size)
{
	/* Capacity doubles at powers of two. */
	if (n && (n & (n - 1)))
		return v;
	return realloc(v, (n ? n * 2 : 8) * size);
}

static int jump_add(struct vlnft_shape *s, const struct vlnft_ctx *c, int stage, int ep, int nsg)
{
	struct vlnft_jump *j;
	enum vl_dir dir = stage == VLNFT_NIC_OUT || stage == VLNFT_SUBNET_OUT ? VL_DIR_OUT : VL_DIR_IN;

	if (nsg < 0)
		return 0;
	j = grow(s->stage[stage], s->n_stage[stage], sizeof(*j));
	if (!j)
		return -ENOMEM;
	s->stage[stage] = j;
	j = &j[s->n_stage[stage]++];
	vl_fabric_ifname(j->ifname, ep);
	j->nsg = nsg;
	j->scope = vlnft_ep_scope(c->lab, ep);
	vlnft_chain_name(j->chain, c, c->lab->nsgs[nsg].name, j->scope, dir);
	return 0;
}

static int ifval_add(struct vlnft_ifval **v, size_t *n, int ep, uint32_t value)
{
	struct vlnft_ifval *x = grow(*v, *n, sizeof(*x));

	if (!x)
		return -ENOMEM;
	*v = x;
	vl_fabric_ifname(x[*n].ifname, ep);
	x[*n].value = value;
	(*n)++;
	return 0;
}

/* Is endpoint ep the target of a VirtualAppliance route (of this VNet or of a spoke of it)? */
static bool appliance_target(const struct vlnft_ctx *c, int ep)
{
	const struct vl_effective *e = c->lab->eff;

	for (size_t k = 0; k < e->n_scopes; k++)
		for (size_t i = 0; i < e->scopes[k].n_routes; i++) {
			const struct vl_eroute *r = &e->scopes[k].routes[i];

			if (r->hop == VL_NH_APPLIANCE && r->cluster == VL_NONE && r->hop_ip == c->lab->eps[ep].ip &&
			    vl_eff_appliance(c->lab, e->scopes[k].vnet, r->hop_ip) == ep)
				return true;
		}
	return false;
}

static int kv_add(struct vlnft_kv **v, size_t *n, uint32_t key, uint32_t value)
{
	struct vlnft_kv *p = realloc(*v, (*n + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	*v = p;
	p[(*n)++] = (struct vlnft_kv){key, value};
	return 0;
}

/* The edge's NAT (spec 14.1) and the frontends' backend choice (spec 15.4), from the effective model. */
static int edge_shape(struct vlnft_shape *s, const struct vlnft_ctx *c)
{
	const struct vl_lab *lab = c->lab;
	const struct vl_effective *e = lab->eff;
	int err = 0;

	for (size_t i = 0; i < lab->n_eps && !err; i++) {
		const struct vl_endpoint *ep = &lab->eps[i];

		if (ep->nic != (int)i || ep->subnet == VL_NONE || lab->subnets[ep->subnet].vnet != c->vnet)
			continue;
		if (e->snat_ip[i] && e->snat_ip[i] != s->outbound)
			err = kv_add(&s->snat, &s->n_snat, ep->ip, e->snat_ip[i]);
		if (!err && ep->kind == VL_EP_VM && lab->vms[ep->owner].has_public_ip)
			err = kv_add(&s->ilpip, &s->n_ilpip, lab->vms[ep->owner].public_ip, ep->ip);
	}
	for (size_t f = 0; f < e->n_frontends && !err; f++) {
		const struct vl_frontend *fe = &e->frontends[f];
		const struct vl_service *sv = &lab->aks[fe->cluster].services[fe->service];

		if (lab->subnets[lab->aks[fe->cluster].subnet].vnet != c->vnet)
			continue;
		for (size_t p = 0; p < sv->n_ports && !err; p++) {
			struct vlnft_lbport *v = realloc(s->lb, (s->n_lb + 1) * sizeof(*v)), *l;

			if (!v)
				return -ENOMEM;
			s->lb = v;
			l = &v[s->n_lb++];
			memset(l, 0, sizeof(*l));
			l->ip = fe->ip;
			l->l4 = sv->ports[p].proto == VL_PROTO_UDP ? 17 : 6;
			l->port = sv->ports[p].port;
			l->marks = calloc(fe->n_backends ? fe->n_backends : 1, sizeof(*l->marks));
			if (!l->marks)
				return -ENOMEM;
			for (size_t k = 0; k < fe->n_backends; k++)
				if (fe->backends[k].healthy)
					l->marks[l->n_marks++] = vl_lb_mark((int)f, (int)k);
		}
	}
	return err;
}

int vlnft_shape_init(struct vlnft_shape *s, const struct vlnft_ctx *c)
{
	const struct vl_lab *lab = c->lab;
	int err = 0;

	memset(s, 0, sizeof(*s));
	s->outbound = lab->eff->outbound_ip[c->vnet];
	err = edge_shape(s, c);
	for (size_t i = 0; i < lab->n_eps && !err; i++) {
		const struct vl_endpoint *ep = &lab->eps[i];
		int sub, k;

		if (ep->nic != (int)i || ep->subnet < 0 || lab->subnets[ep->subnet].vnet != c->vnet)
			continue; /* another endpoint's NIC carries it, or another fabric has it */
		sub = lab->subnets[ep->subnet].nsg;
		err = jump_add(s, c, VLNFT_NIC_OUT, (int)i, ep->nic_nsg);
		if (!err)
			err = jump_add(s, c, VLNFT_NIC_IN, (int)i, ep->nic_nsg);
		if (!err)
			err = jump_add(s, c, VLNFT_SUBNET_OUT, (int)i, sub);
		if (!err)
			err = jump_add(s, c, VLNFT_SUBNET_IN, (int)i, sub);
		k = vlnft_ep_scope(lab, (int)i);
		if (!err && k != c->vnet)
			err = ifval_add(&s->marks, &s->n_marks, (int)i, vl_scope_mark(k));
		if (!err && ep->kind == VL_EP_VM && !lab->vms[ep->owner].ip_forwarding && appliance_target(c, (int)i))
			err = ifval_add(&s->nofwd, &s->n_nofwd, (int)i, ep->ip);
	}
	for (size_t w = 0; w < lab->n_vnets && !err; w++) {
		const struct vl_peering *pe = vl_eff_peering(lab, c->vnet, (int)w);
		struct vl_prefix *p = NULL;
		size_t n = 0;

		if (!pe || pe->allow_forwarded || !vl_eff_peered(lab, c->vnet, (int)w))
			continue;
		struct vlnft_ivals *iv = grow(s->fwd, s->n_fwd, sizeof(*s->fwd));

		if (iv)
			s->fwd = iv;
		char(*ifs)[16] = iv ? grow(s->fwd_if, s->n_fwd, sizeof(*s->fwd_if)) : NULL;

		if (ifs)
			s->fwd_if = ifs;
		err = iv && ifs ? vl_eff_peering_sources(lab, (int)w, &p, &n) : -ENOMEM;
		if (err)
			break;
		memset(&s->fwd[s->n_fwd], 0, sizeof(*s->fwd));
		snprintf(s->fwd_if[s->n_fwd], sizeof(s->fwd_if[0]), "pr%d", (int)w % 1000);
		for (size_t i = 0; i < n && !err; i++)
			err = vlnft_ivals_push(&s->fwd[s->n_fwd], p[i].addr, vlnft_prefix_last(p[i]));
		vlnft_ivals_merge(&s->fwd[s->n_fwd]);
		s->n_fwd++;
		free(p);
	}
	for (size_t i = 0; i < c->n_pairs && !err; i++) {
		int k = c->pairs[i].scope;
		bool seen = false;

		for (size_t j = 0; j < s->n_scopes; j++)
			seen |= s->scopes[j] == k;
		if (seen)
			continue;
		int *v = grow(s->scopes, s->n_scopes, sizeof(*v));

		if (!v) {
			err = -ENOMEM;
			break;
		}
		s->scopes = v;
		v[s->n_scopes++] = k;
	}
	if (err)
		vlnft_shape_fini(s);
	return err;
}

void vlnft_shape_fini(struct vlnft_shape *s)
{
	for (int i = 0; i < VLNFT_N_STAGES; i++)
		free(s->stage[i]);
	free(s->marks);
	free(s->nofwd);
	for (size_t i = 0; i < s->n_fwd; i++)
		vlnft_ivals_free(&s->fwd[i]);
	free(s->fwd);
	free(s->fwd_if);
	free(s->scopes);
	free(s->snat);
	free(s->ilpip);
	for (size_t i = 0; i < s->n_lb; i++)
		free(s->lb[i].marks);
	free(s->lb);
	memset(s, 0, sizeof(*s));
}
