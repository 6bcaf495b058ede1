/* SPDX-License-Identifier: MIT */
/*
 * NSG rules → match intervals. Every address match set becomes a union of
 * intervals (tags expanded against the VirtualNetwork prefixes), except a
 * lone VirtualNetwork / Internet tag, which stays a lookup in the shared
 * @vnet set so the ruleset reads like the NSG.
 *
 * Protocol choice: "*" with port ranges other than "*" matches TCP and UDP
 * only (Azure has ports only for those); ports are ignored for ICMP/ESP/AH.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft-int.h"
#include "vnetlab/ip.h"


const char *const vlnft_stage_map[VLNFT_N_STAGES] = {
    [VLNFT_NIC_OUT] = "nic_out",
    [VLNFT_SUBNET_OUT] = "subnet_out",
    [VLNFT_SUBNET_IN] = "subnet_in",
    [VLNFT_NIC_IN] = "nic_in",
};

int vlnft_ivals_push(struct vlnft_ivals *iv, uint32_t lo, uint32_t hi)
{
	if (iv->n == iv->cap) {
		size_t cap = iv->cap ? iv->cap * 2 : 4;
		struct vlnft_ival *v = realloc(iv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		iv->v = v;
		iv->cap = cap;
	}
	iv->v[iv->n].lo = lo;
	iv->v[iv->n].hi = hi;
	iv->n++;
	return 0;
}

static int ival_cmp(const void *a, const void *b)
{
	const struct vlnft_ival *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

void vlnft_ivals_merge(struct vlnft_ivals *iv)
{
	size_t i, o = 0;

	if (iv->n < 2)
		return;
	qsort(iv->v, iv->n, sizeof(*iv->v), ival_cmp);
	for (i = 1; i < iv->n; i++) {
		struct vlnft_ival *cur = &iv->v[o];

		if (cur->hi == UINT32_MAX || iv->v[i].lo <= cur->hi + 1) {
			if (iv->v[i].hi > cur->hi)
				cur->hi = iv->v[i].hi;
		} else {
			iv->v[++o] = iv->v[i];
		}
	}
	iv->n = o + 1;
}

void vlnft_ivals_free(struct vlnft_ivals *iv)
{
	free(iv->v);
	iv->v = NULL;
	iv->n = iv->cap = 0;
}

int vlnft_ival_prefix_len(const struct vlnft_ival *i)
{
	uint32_t size = i->hi - i->lo; /* size - 1 */
	int len;

	if (i->lo == 0 && i->hi == UINT32_MAX)
		return 0;
	if ((size & (size + 1)) != 0 || (i->lo & size) != 0)
		return -1;
	for (len = 32; size; size >>= 1)
		len--;
	return len;
}

uint32_t vlnft_prefix_last(struct vl_prefix p)
{
	if (p.len == 0)
		return UINT32_MAX;
	return p.len >= 32 ? p.addr : p.addr | (UINT32_MAX >> p.len);
}

/* Append s to the name in buf (at *at), as snprintf would into VLNFT_CHAIN_NAME_MAX bytes. */
static void name_cat(char *buf, size_t *at, const char *s)
{
	size_t n = strlen(s), room = VLNFT_CHAIN_NAME_MAX - 1 - *at;

	if (n > room)
		n = room;

	memcpy(buf + *at, s, n);
	*at += n;
	buf[*at] = '\0';
}

void vlnft_chain_name(char *buf, const struct vlnft_ctx *c, const char *nsg, int scope, enum vl_dir dir)
{
	size_t at = 0;

	/* Prefixed so that the name is an nft identifier even when the NSG name starts with a digit;
	 * '/' is in no NSG name, so "<nsg>/<scope>" cannot meet another NSG's chain. A fabric has a
	 * chain name per NIC and stage (vlnft_shape_init): no snprintf for the usual case. */
	name_cat(buf, &at, dir == VL_DIR_IN ? "in-" : "out-");
	name_cat(buf, &at, nsg);
	if (scope != c->vnet) {
		char num[16];

		snprintf(num, sizeof(num), "/%d", scope);
		name_cat(buf, &at, num);
	}
}

void vlnft_vnet_set_name(char *buf, const struct vlnft_ctx *c, int scope)
{
	if (scope == c->vnet)
		snprintf(buf, VLNFT_VNET_SET_MAX, "%s", VLNFT_SET_VNET);
	else
		snprintf(buf, VLNFT_VNET_SET_MAX, "%s/%d", VLNFT_SET_VNET, scope);
}

int vlnft_ep_scope(const struct vl_lab *lab, int ep)
{
	return vl_eff_endpoint_scope(lab, ep);
}

static int prefixes_ivals(struct vlnft_ivals *iv, const struct vl_prefix *p, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = vlnft_ivals_push(iv, p[i].addr, vlnft_prefix_last(p[i]));
	vlnft_ivals_merge(iv);
	return err;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct vlnft_pair *x = a, *y = b;

	return x->scope != y->scope ? x->scope - y->scope : x->nsg - y->nsg;
}

static int pairs_add(struct vlnft_ctx *c, int nsg, int scope, size_t *cap)
{
	if (nsg < 0 || scope < 0)
		return 0;
	for (size_t i = 0; i < c->n_pairs; i++)
		if (c->pairs[i].nsg == nsg && c->pairs[i].scope == scope)
			return 0;
	if (c->n_pairs == *cap) {
		size_t n = *cap ? *cap * 2 : 16;
		struct vlnft_pair *p = realloc(c->pairs, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->pairs = p;
		*cap = n;
	}
	c->pairs[c->n_pairs++] = (struct vlnft_pair){nsg, scope};
	return 0;
}

static int fabric_pairs(struct vlnft_ctx *c)
{
	const struct vl_lab *lab = c->lab;
	size_t cap = 0;
	int err = 0;

	for (size_t g = 0; g < lab->n_nsgs && !err; g++)
		err = pairs_add(c, (int)g, c->vnet, &cap);
	for (size_t s = 0; s < lab->n_subnets && !err; s++)
		if (lab->subnets[s].vnet == c->vnet)
			err = pairs_add(c, lab->subnets[s].nsg, lab->eff->subnet_scope[s], &cap);
	for (size_t i = 0; i < lab->n_eps && !err; i++) {
		const struct vl_endpoint *e = &lab->eps[i];

		if (e->nic == (int)i && e->subnet >= 0 && lab->subnets[e->subnet].vnet == c->vnet)
			err = pairs_add(c, e->nic_nsg, vlnft_ep_scope(lab, (int)i), &cap);
	}
	if (!err && c->n_pairs > 1)
		qsort(c->pairs, c->n_pairs, sizeof(*c->pairs), pair_cmp);
	return err;
}

/* Which NSGs have platform rules: read per NIC and per chain pair (platform.c), so asked once. */
static int platform_nsgs(struct vlnft_ctx *c)
{
	size_t n = c->lab->n_nsgs;

	c->has_platform = calloc(n ? n : 1, sizeof(*c->has_platform));
	if (!c->has_platform)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		c->has_platform[i] = vl_eff_has_platform_rules(c->lab, (int)i);
	return 0;
}

int vlnft_ctx_init(struct vlnft_ctx *c, const struct vl_lab *lab, int vnet, char *why, size_t why_len)
{
	const struct vl_effective *e = lab->eff;
	int err;

	memset(c, 0, sizeof(*c));
	c->lab = lab;
	c->vnet = vnet;
	c->scope = VL_NONE;
	c->defaults = vl_default_rules(&c->n_defaults);
	if (!e || vnet < 0 || (size_t)vnet >= lab->n_vnets) {
		snprintf(why, why_len, "no VNet #%d", vnet);
		return -EINVAL;
	}
	err = prefixes_ivals(&c->notinet, e->not_internet, e->n_not_internet);
	if (!err)
		err = platform_nsgs(c);
	if (!err)
		err = fabric_pairs(c);
	if (!err)
		err = vlnft_ctx_scope(c, vnet, why, why_len);
	if (err) {
		if (!why[0])
			snprintf(why, why_len, "fabric of vnet %s: %s", lab->vnets[vnet].name, strerror(-err));
		vlnft_ctx_fini(c);
	}
	return err;
}

int vlnft_ctx_scope(struct vlnft_ctx *c, int scope, char *why, size_t why_len)
{
	const struct vl_scope *s;
	int err;

	if (scope == c->scope)
		return 0;
	vlnft_ivals_free(&c->vnet_tag);
	c->scope = scope;
	s = &c->lab->eff->scopes[scope];
	err = prefixes_ivals(&c->vnet_tag, s->vnet_tag, s->n_vnet_tag);
	if (err)
		snprintf(why, why_len, "VirtualNetwork prefixes: %s", strerror(-err));
	return err;
}

void vlnft_ctx_fini(struct vlnft_ctx *c)
{
	vlnft_ivals_free(&c->vnet_tag);
	vlnft_ivals_free(&c->notinet);
	free(c->pairs);
	c->pairs = NULL;
	c->n_pairs = 0;
	free(c->has_platform);
	c->has_platform = NULL;
}

static int push_complement(struct vlnft_ivals *out, const struct vlnft_ivals *in)
{
	uint64_t next = 0; /* first address not yet covered */
	size_t i;
	int err;

	for (i = 0; i < in->n; i++) {
		if (in->v[i].lo > next) {
			err = vlnft_ivals_push(out, (uint32_t)next, in->v[i].lo - 1);
			if (err)
				return err;
		}
		next = (uint64_t)in->v[i].hi + 1;
	}
	if (next <= UINT32_MAX)
		return vlnft_ivals_push(out, (uint32_t)next, UINT32_MAX);
	return 0;
}

static int compile_addr(const struct vlnft_ctx *c, const struct vl_addr_match *m, size_t n,
			struct vlnft_addr *out)
{
	size_t i;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (m[i].kind == VL_ADDR_ANY)
			return 0;
	if (n == 1 && m[0].kind == VL_ADDR_TAG_VNET) {
		out->kind = VLNFT_A_VNET;
		vlnft_vnet_set_name(out->set, c, c->scope);
		return 0;
	}
	if (n == 1 && m[0].kind == VL_ADDR_TAG_INTERNET) {
		out->kind = VLNFT_A_INTERNET;
		return 0;
	}
	for (i = 0; i < n && !err; i++) {
		switch (m[i].kind) {
		case VL_ADDR_PREFIX:
			err = vlnft_ivals_push(&out->iv, m[i].prefix.addr, vlnft_prefix_last(m[i].prefix));
			break;
		case VL_ADDR_TAG_LB:
			err = vlnft_ivals_push(&out->iv, VL_IP_AZURE_PLATFORM, VL_IP_AZURE_PLATFORM);
			break;
		case VL_ADDR_TAG_VNET:
			for (size_t j = 0; j < c->vnet_tag.n && !err; j++)
				err = vlnft_ivals_push(&out->iv, c->vnet_tag.v[j].lo, c->vnet_tag.v[j].hi);
			break;
		case VL_ADDR_TAG_INTERNET:
			err = push_complement(&out->iv, &c->notinet);
			break;
		case VL_ADDR_ASG:
			/* the members' addresses, in the ASG's own VNet only (vl_eff_in_asg) */
			if (!vl_eff_asg_applies(c->lab, m[i].ref, c->scope))
				break;
			for (size_t j = 0; j < c->lab->eff->n_asg_ips[m[i].ref] && !err; j++) {
				uint32_t ip = c->lab->eff->asg_ips[m[i].ref][j];

				err = vlnft_ivals_push(&out->iv, ip, ip);
			}
			break;
		case VL_ADDR_TAG_SERVICE:
			for (size_t j = 0; j < c->lab->eff->n_tag_prefixes[m[i].ref] && !err; j++) {
				struct vl_prefix p = c->lab->eff->tag_prefixes[m[i].ref][j];

				err = vlnft_ivals_push(&out->iv, p.addr, vlnft_prefix_last(p));
			}
			break;
		case VL_ADDR_TAG_PLATFORM_DNS:
			/* Its port 53 is matched in the platform chains (platform.c); the NSG chains
			 * of the forward hook never see a platform address. */
			err = vlnft_ivals_push(&out->iv, VL_IP_AZURE_PLATFORM, VL_IP_AZURE_PLATFORM);
			break;
		case VL_ADDR_TAG_PLATFORM_IMDS:
			err = vlnft_ivals_push(&out->iv, VL_IP_IMDS, VL_IP_IMDS);
			break;
		case VL_ADDR_TAG_PLATFORM_LKM: /* no lab address: matches nothing */
		case VL_ADDR_ANY:
			break;
		}
	}
	if (err) {
		vlnft_ivals_free(&out->iv);
		return err;
	}
	vlnft_ivals_merge(&out->iv);
	if (out->iv.n == 1 && out->iv.v[0].lo == 0 && out->iv.v[0].hi == UINT32_MAX) {
		vlnft_ivals_free(&out->iv);
		return 0; /* everything */
	}
	/* An empty union (Internet when VirtualNetwork is everything) matches
	 * nothing: keep kind IVALS with n == 0 and let the emitters say so. */
	out->kind = VLNFT_A_IVALS;
	return 0;
}

static int compile_ports(const struct vl_port_range *p, size_t n, struct vlnft_ivals *out)
{
	size_t i;
	int err;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		err = vlnft_ivals_push(out, p[i].lo, p[i].hi);
		if (err) {
			vlnft_ivals_free(out);
			return err;
		}
	}
	vlnft_ivals_merge(out);
	if (out->n == 1 && out->v[0].lo == 0 && out->v[0].hi >= 65535)
		vlnft_ivals_free(out);
	return 0;
}

static uint8_t proto_l4(enum vl_proto p)
{
	switch (p) {
	case VL_PROTO_TCP:
		return 6;
	case VL_PROTO_UDP:
		return 17;
	case VL_PROTO_ICMP:
		return 1;
	case VL_PROTO_ESP:
		return 50;
	case VL_PROTO_AH:
		return 51;
	case VL_PROTO_ANY:
		break;
	}
	return 0;
}

static int compile_rule(const struct vlnft_ctx *c, const struct vl_rule *r, struct vlnft_crule *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	out->rule = r;
	err = compile_addr(c, r->src, r->n_src, &out->src);
	if (!err)
		err = compile_addr(c, r->dst, r->n_dst, &out->dst);
	if (!err && (r->proto == VL_PROTO_ANY || r->proto == VL_PROTO_TCP || r->proto == VL_PROTO_UDP)) {
		err = compile_ports(r->sport, r->n_sport, &out->sport);
		if (!err)
			err = compile_ports(r->dport, r->n_dport, &out->dport);
	}
	if (err)
		return err;
	if (r->proto != VL_PROTO_ANY) {
		out->pk = VLNFT_P_ONE;
		out->l4 = proto_l4(r->proto);
	} else if (out->sport.n || out->dport.n) {
		out->pk = VLNFT_P_TCPUDP;
	}
	return 0;
}

static void crule_clear(struct vlnft_crule *r)
{
	vlnft_ivals_free(&r->src.iv);
	vlnft_ivals_free(&r->dst.iv);
	vlnft_ivals_free(&r->sport);
	vlnft_ivals_free(&r->dport);
}

void vlnft_crules_free(struct vlnft_crule *r, size_t n)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < n; i++)
		crule_clear(&r[i]);
	free(r);
}

static int rule_prio_cmp(const void *a, const void *b)
{
	const struct vl_rule *x = *(const struct vl_rule *const *)a, *y = *(const struct vl_rule *const *)b;

	return (x->priority > y->priority) - (x->priority < y->priority);
}

/* Growable output of compiled rules. */
struct crules {
	struct vlnft_crule *v;
	size_t n;
	size_t cap;
};

static struct vlnft_crule *crules_add(struct crules *o)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct vlnft_crule *v = realloc(o->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		o->v = v;
		o->cap = cap;
	}
	memset(&o->v[o->n], 0, sizeof(o->v[0]));
	return &o->v[o->n++];
}

static size_t dim(const struct vlnft_ivals *iv)
{
	return iv->n > 1 ? iv->n : 1;
}

static int one_of(struct vlnft_ivals *dst, const struct vlnft_ivals *src, size_t i)
{
	if (src->n <= 1)
		return src->n ? vlnft_ivals_push(dst, src->v[0].lo, src->v[0].hi) : 0;
	return vlnft_ivals_push(dst, src->v[i].lo, src->v[i].hi);
}

int vlnft_ivals_copy(struct vlnft_ivals *dst, const struct vlnft_ivals *src)
{
	size_t i;
	int err = 0;

	for (i = 0; i < src->n && !err; i++)
		err = vlnft_ivals_push(dst, src->v[i].lo, src->v[i].hi);
	return err;
}

/*
 * Every set costs the kernel far more than a rule (measured: a rule ~12 us, a
 * set ~30 us, and an anonymous one also a walk over all sets of the table), so
 * a list of one or two intervals is expanded into one nft rule per
 * combination (same verdict, consecutive, so first-match order is kept; at
 * most 2^4 rules) and only lists of VLNFT_SET_MIN or more become a lookup in
 * a named set shared by every rule with the same list. `*` with ports looks
 * its protocol up in the one shared set @tcpudp.
 */
static int expand(struct vlnft_crule *cr, struct crules *o)
{
	bool es = cr->src.kind == VLNFT_A_IVALS && cr->src.iv.n < VLNFT_SET_MIN;
	bool ed = cr->dst.kind == VLNFT_A_IVALS && cr->dst.iv.n < VLNFT_SET_MIN;
	bool esp = cr->sport.n < VLNFT_SET_MIN, edp = cr->dport.n < VLNFT_SET_MIN;
	size_t ns = es ? dim(&cr->src.iv) : 1, nd = ed ? dim(&cr->dst.iv) : 1;
	size_t nsp = esp ? dim(&cr->sport) : 1, ndp = edp ? dim(&cr->dport) : 1;
	size_t a, b, c, d;
	int err = 0;

	/* One nft rule (most NSG rules): it takes the compiled rule's lists as they are. */
	if (ns * nd * nsp * ndp == 1) {
		struct vlnft_crule *x = crules_add(o);

		if (!x)
			return -ENOMEM;
		*x = *cr;
		memset(&cr->src.iv, 0, sizeof(cr->src.iv));
		memset(&cr->dst.iv, 0, sizeof(cr->dst.iv));
		memset(&cr->sport, 0, sizeof(cr->sport));
		memset(&cr->dport, 0, sizeof(cr->dport));
		return 0;
	}
	for (a = 0; a < ns; a++)
		for (b = 0; b < nd; b++)
			for (c = 0; c < nsp; c++)
				for (d = 0; d < ndp; d++) {
					struct vlnft_crule *x = crules_add(o);

					if (!x)
						return -ENOMEM;
					x->rule = cr->rule;
					x->pk = cr->pk;
					x->l4 = cr->l4;
					x->src.kind = cr->src.kind;
					x->dst.kind = cr->dst.kind;
					memcpy(x->src.set, cr->src.set, sizeof(x->src.set));
					memcpy(x->dst.set, cr->dst.set, sizeof(x->dst.set));
					err = es ? one_of(&x->src.iv, &cr->src.iv, a)
						 : vlnft_ivals_copy(&x->src.iv, &cr->src.iv);
					if (!err)
						err = ed ? one_of(&x->dst.iv, &cr->dst.iv, b)
							 : vlnft_ivals_copy(&x->dst.iv, &cr->dst.iv);
					if (!err)
						err = esp ? one_of(&x->sport, &cr->sport, c)
							  : vlnft_ivals_copy(&x->sport, &cr->sport);
					if (!err)
						err = edp ? one_of(&x->dport, &cr->dport, d)
							  : vlnft_ivals_copy(&x->dport, &cr->dport);
					if (err)
						return err;
				}
	return 0;
}

int vlnft_compile_nsg(const struct vlnft_ctx *c, const struct vl_nsg *nsg, enum vl_dir dir,
		      struct vlnft_crule **out, size_t *n, char *why, size_t why_len)
{
	const struct vl_rule **order;
	struct crules o = {0};
	struct vlnft_crule cr;
	size_t i, k = 0, max = nsg->n_rules + c->n_defaults;
	int err = 0;

	*out = NULL;
	*n = 0;
	order = calloc(max ? max : 1, sizeof(*order));
	if (!order) {
		snprintf(why, why_len, "NSG %s: out of memory", nsg->name);
		return -ENOMEM;
	}
	for (i = 0; i < nsg->n_rules; i++)
		if (nsg->rules[i].dir == dir)
			order[k++] = &nsg->rules[i];
	for (i = 0; i < c->n_defaults; i++)
		if (c->defaults[i].dir == dir)
			order[k++] = &c->defaults[i];
	/* Priorities are unique per direction (SecurityRuleConflict). */
	qsort(order, k, sizeof(*order), rule_prio_cmp);
	for (i = 0; i < k && !err; i++) {
		err = compile_rule(c, order[i], &cr);
		if (!err)
			err = expand(&cr, &o);
		crule_clear(&cr);
		if (err)
			snprintf(why, why_len, "NSG %s rule %s: %s", nsg->name, order[i]->name,
				 strerror(-err));
	}
	free(order);
	if (err) {
		vlnft_crules_free(o.v, o.n);
		return err;
	}
	*out = o.v;
	*n = o.n;
	return 0;
}

int vlnft_lists_add_nsg(const struct vlnft_ctx *c, struct vlnft_lists *l, const struct vl_nsg *nsg,
			enum vl_dir dir, char *why, size_t why_len)
{
	struct vlnft_crule cr;
	int err = 0;

	/* Only which lists there are: no order, no expansion. */
	for (size_t i = 0; i < nsg->n_rules + c->n_defaults && !err; i++) {
		const struct vl_rule *r = i < nsg->n_rules ? &nsg->rules[i] : &c->defaults[i - nsg->n_rules];

		if (r->dir != dir)
			continue;
		err = compile_rule(c, r, &cr);
		if (!err)
			err = vlnft_lists_add(l, &cr, 1);
		crule_clear(&cr);
		if (err)
			snprintf(why, why_len, "NSG %s rule %s: list sets: %s", nsg->name, r->name,
				 strerror(-err));
	}
	return err;
}
