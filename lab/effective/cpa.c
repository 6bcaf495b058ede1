// SPDX-License-Identifier: MIT
/*
 * The NSG rules cloud-provider-azure keeps in a cluster's node NSG for its
 * LoadBalancer Services (spec 8, 15.2, 15.3): written into the NSG itself,
 * as Azure patches the NSG resource, so that `nsg show`, the evaluator, the
 * nftables chains and live edits (deleting the rule) all see one NSG.
 *
 * Current scheme (Kubernetes 1.29 and later): one rule per (protocol,
 * sources, ports), shared by the services that have the same, named
 * k8s-azure-lb_allow_IPv4_<md5>, destinations = frontend IPs, plural ports.
 * Legacy scheme (before 1.29): one rule per port and source, named
 * a<uid>-TCP-<port>-<source>, singular fields.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eff-int.h"
#include "vnetlab/ip.h"

#define PRIO_LO 500
#define PRIO_HI 4096
#define DENY_TOP 4095
#define NAME_MAX_LEN 200

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void vl_cpa_allow_name(char *buf, size_t len, enum vl_proto proto, const char *const *srcs, size_t n_srcs,
		       const uint16_t *ports, size_t n_ports)
{
	const char **s = calloc(n_srcs + 1, sizeof(*s));
	char(*p)[8] = calloc(n_ports + 1, sizeof(*p));
	const char **pp = calloc(n_ports + 1, sizeof(*pp));
	char text[4096], hex[33];
	size_t n = 0;

	if (!s || !p || !pp) {
		snprintf(buf, len, "k8s-azure-lb_allow_IPv4_");
		goto out;
	}
	memcpy(s, srcs, n_srcs * sizeof(*s));
	qsort(s, n_srcs, sizeof(*s), cmp_str);
	for (size_t i = 0; i < n_ports; i++) {
		snprintf(p[i], sizeof(p[i]), "%u", ports[i]);
		pp[i] = p[i];
	}
	qsort(pp, n_ports, sizeof(*pp), cmp_str);
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s_", vl_proto_name(proto));
	for (size_t i = 0; i < n_srcs && n < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", i ? "," : "", s[i]);
	for (size_t i = 0; i < n_ports && n < sizeof(text); i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", i ? "," : "_", pp[i]);
	vleff_md5_hex(text, hex);
	snprintf(buf, len, "k8s-azure-lb_allow_IPv4_%s", hex);
out:
	free(s);
	free(p);
	free(pp);
}

static void legacy_prefix(char *buf, size_t len, const char *uid)
{
	char id[40];
	size_t n = 0;

	for (const char *c = uid; *c && n < sizeof(id) - 1; c++)
		if (*c != '-')
			id[n++] = *c;
	id[n] = '\0';
	snprintf(buf, len, "a%.31s", id); /* DefaultLoadBalancerName: 32 characters */
}

void vl_cpa_legacy_name(char *buf, size_t len, const char *uid, enum vl_proto proto, uint16_t port,
			const char *src)
{
	char prefix[40], s[128];
	size_t i;

	legacy_prefix(prefix, sizeof(prefix), uid);
	for (i = 0; src[i] && i < sizeof(s) - 1; i++)
		s[i] = src[i] == '/' ? '_' : src[i] == ':' ? '.' : src[i];
	s[i] = '\0';
	snprintf(buf, len, "%s-%s-%u-%s", prefix, proto == VL_PROTO_UDP ? "UDP" : "TCP", port, s);
}

static bool hex32_dash(const char *n)
{
	if (n[0] != 'a')
		return false;
	for (int i = 1; i < 32; i++) /* "a" + 31 hex digits of the UID */
		if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
			return false;
	return n[32] == '-';
}

bool vl_cpa_is_managed(const struct vl_rule *r)
{
	bool named =
	    !strncmp(r->name, "k8s-azure-lb", 12) || !strncmp(r->name, "shared-", 7) || hex32_dash(r->name);

	return named && r->priority >= PRIO_LO && r->priority <= PRIO_HI && r->dir == VL_DIR_IN;
}

/* A rule cloud-provider-azure wants, before it has a priority. */
struct want {
	char name[NAME_MAX_LEN];
	enum vl_proto proto;
	enum vl_access access;
	struct vl_strv srcs;
	struct vl_strv dsts;
	struct vl_strv ports;
	bool plural; /* current scheme: plural ports always, plural addresses when more than one */
	bool deny_all;
	struct vl_loc loc;
};

struct wants {
	struct want *v;
	size_t n, cap;
};

static void wants_free(struct wants *w)
{
	for (size_t i = 0; i < w->n; i++) {
		vl_strv_free(&w->v[i].srcs);
		vl_strv_free(&w->v[i].dsts);
		vl_strv_free(&w->v[i].ports);
	}
	free(w->v);
}

static struct want *want_get(struct wants *w, const char *name)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->v[i].name, name))
			return &w->v[i];
	if (w->n == w->cap) {
		size_t c = w->cap ? 2 * w->cap : 8;
		struct want *v = realloc(w->v, c * sizeof(*v));

		if (!v)
			return NULL;
		w->v = v;
		w->cap = c;
	}
	memset(&w->v[w->n], 0, sizeof(w->v[0]));
	snprintf(w->v[w->n].name, NAME_MAX_LEN, "%s", name);
	return &w->v[w->n++];
}

static bool strv_has(const struct vl_strv *v, const char *s)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], s))
			return true;
	return false;
}

static int strv_add_unique(struct vl_strv *v, const char *s)
{
	return strv_has(v, s) ? 0 : vl_strv_push(v, s);
}

/* The source groups of a service (spec 15.2): its ranges (one group), else one per allowed tag,
 * else Internet. Returns the number of groups; group g's members are filled into *out. */
static size_t source_groups(const struct vl_service *s, size_t g, struct vl_strv *out, int *rc)
{
	char p[VL_PREFIX_STRLEN];

	if (s->n_source_ranges) {
		if (g == 0)
			for (size_t i = 0; i < s->n_source_ranges && !*rc; i++)
				*rc = strv_add_unique(out, vl_prefix_fmt(s->source_ranges[i], p));
		return 1;
	}
	if (s->allowed_tags.n) {
		if (g < s->allowed_tags.n)
			*rc = vl_strv_push(out, s->allowed_tags.v[g]);
		return s->allowed_tags.n;
	}
	if (g == 0)
		*rc = vl_strv_push(out, "Internet");
	return 1;
}

static int want_current(struct wants *w, const struct vl_service *s)
{
	char ip[VL_IP_STRLEN], name[NAME_MAX_LEN], port[8];
	static const enum vl_proto protos[2] = {VL_PROTO_TCP, VL_PROTO_UDP};
	int rc = 0;

	vl_ip_fmt(s->frontend_ip, ip);
	for (size_t g = 0, ng = 1; g < ng && !rc; g++) {
		struct vl_strv srcs = {0};

		ng = source_groups(s, g, &srcs, &rc);
		for (int k = 0; k < 2 && !rc; k++) {
			uint16_t ports[64];
			size_t np = 0;
			struct want *x;

			for (size_t i = 0; i < s->n_ports && np < 64; i++)
				if (s->ports[i].proto == protos[k])
					ports[np++] = s->ports[i].port;
			if (!np)
				continue;
			vl_cpa_allow_name(name, sizeof(name), protos[k], (const char *const *)srcs.v, srcs.n,
					  ports, np);
			if (!(x = want_get(w, name))) {
				rc = -ENOMEM;
				break;
			}
			x->proto = protos[k];
			x->access = VL_ALLOW;
			x->plural = true;
			x->loc = s->loc;
			for (size_t i = 0; i < srcs.n && !rc; i++)
				rc = strv_add_unique(&x->srcs, srcs.v[i]);
			for (size_t i = 0; i < np && !rc; i++) {
				snprintf(port, sizeof(port), "%u", ports[i]);
				rc = strv_add_unique(&x->ports, port);
			}
			if (!rc)
				rc = strv_add_unique(&x->dsts, ip);
		}
		vl_strv_free(&srcs);
	}
	if (!rc && s->deny_all_except && s->n_source_ranges) {
		struct want *x = want_get(w, "k8s-azure-lb_deny-all_IPv4");

		if (!x)
			return -ENOMEM;
		x->proto = VL_PROTO_ANY;
		x->access = VL_DENY;
		x->deny_all = true;
		x->plural = true;
		x->loc = s->loc;
		if (!x->srcs.n)
			rc = vl_strv_push(&x->srcs, "*");
		if (!rc && !x->ports.n)
			rc = vl_strv_push(&x->ports, "*");
		if (!rc)
			rc = strv_add_unique(&x->dsts, ip);
	}
	return rc;
}

static int want_legacy(struct wants *w, const struct vl_service *s)
{
	char ip[VL_IP_STRLEN], name[NAME_MAX_LEN], port[8], prefix[40];
	int rc = 0;

	vl_ip_fmt(s->frontend_ip, ip);
	legacy_prefix(prefix, sizeof(prefix), s->uid);
	for (size_t i = 0; i < s->n_ports && !rc; i++) {
		const struct vl_svc_port *sp = &s->ports[i];
		struct vl_strv srcs = {0};
		struct want *x;

		snprintf(port, sizeof(port), "%u", sp->port);
		for (size_t g = 0, ng = 1; g < ng && !rc; g++) {
			size_t first = srcs.n;

			ng = source_groups(s, g, &srcs, &rc);
			for (size_t m = first; m < srcs.n && !rc; m++) {
				vl_cpa_legacy_name(name, sizeof(name), s->shared_rule ? "shared" : s->uid,
						   sp->proto, sp->port, srcs.v[m]);
				if (s->shared_rule) /* "shared-TCP-80-Internet" */
					snprintf(name, sizeof(name), "shared-%s-%u-%s",
						 sp->proto == VL_PROTO_UDP ? "UDP" : "TCP", sp->port,
						 strrchr(name, '-') + 1);
				if (!(x = want_get(w, name))) {
					rc = -ENOMEM;
					break;
				}
				x->proto = sp->proto;
				x->access = VL_ALLOW;
				x->loc = s->loc;
				rc = strv_add_unique(&x->srcs, srcs.v[m]);
				if (!rc)
					rc = strv_add_unique(&x->ports, port);
				if (!rc)
					rc = strv_add_unique(&x->dsts, ip);
			}
		}
		vl_strv_free(&srcs);
		if (!rc && s->deny_all_except && s->n_source_ranges) {
			snprintf(name, sizeof(name), "%s-%s-%u-deny_all", prefix,
				 sp->proto == VL_PROTO_UDP ? "UDP" : "TCP", sp->port);
			if (!(x = want_get(w, name)))
				return -ENOMEM;
			x->proto = sp->proto;
			x->access = VL_DENY;
			x->loc = s->loc;
			if (!x->srcs.n)
				rc = vl_strv_push(&x->srcs, "*");
			if (!rc)
				rc = strv_add_unique(&x->ports, port);
			if (!rc)
				rc = strv_add_unique(&x->dsts, ip);
		}
	}
	return rc;
}

static bool prio_free(const struct vl_nsg *nsg, int prio)
{
	for (size_t i = 0; i < nsg->n_rules; i++)
		if (nsg->rules[i].dir == VL_DIR_IN && nsg->rules[i].priority == prio)
			return false;
	return true;
}

static int strv_copy_sorted(struct vl_strv *dst, const struct vl_strv *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (vl_strv_push(dst, src->v[i]))
			return -ENOMEM;
	qsort(dst->v, dst->n, sizeof(*dst->v), cmp_str);
	return 0;
}

/* r's fields (name and priority kept) from the wanted rule. */
static int fill_rule(struct vl_rule *r, const struct want *x, char *why, size_t why_len)
{
	int prio = r->priority;
	char *name = r->name;
	struct vl_loc loc = r->loc;

	r->name = NULL;
	vl_rule_clear(r);
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->priority = prio;
	r->loc = loc;
	r->dir = VL_DIR_IN;
	r->access = x->access;
	r->proto = x->proto;
	if (!(r->src_port = strdup("*")))
		return -ENOMEM;
	if (x->srcs.n == 1) {
		if (!(r->src_prefix = strdup(x->srcs.v[0])))
			return -ENOMEM;
	} else if (strv_copy_sorted(&r->src_prefixes, &x->srcs)) {
		return -ENOMEM;
	}
	if (x->dsts.n == 1) {
		if (!(r->dst_prefix = strdup(x->dsts.v[0])))
			return -ENOMEM;
	} else if (strv_copy_sorted(&r->dst_prefixes, &x->dsts)) {
		return -ENOMEM;
	}
	if (x->plural && !x->deny_all) {
		if (strv_copy_sorted(&r->dst_ports, &x->ports))
			return -ENOMEM;
	} else if (x->ports.n == 1) {
		if (!(r->dst_port = strdup(x->ports.v[0])))
			return -ENOMEM;
	} else if (strv_copy_sorted(&r->dst_ports, &x->ports)) {
		return -ENOMEM;
	}
	return vl_rule_parse(r, why, why_len);
}

static int make_node_nsg(struct vl_lab *lab, struct vl_aks *a)
{
	char name[VL_ENDPOINT_NAME_MAX + 32];
	struct vl_nsg *v;
	int i;

	snprintf(name, sizeof(name), "aks-agentpool-%s-nsg", a->name);
	i = vl_lab_find_nsg(lab, name);
	if (i == VL_NONE) {
		v = realloc(lab->nsgs, (lab->n_nsgs + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		lab->nsgs = v;
		memset(&v[lab->n_nsgs], 0, sizeof(*v));
		if (!(v[lab->n_nsgs].name = strdup(name)))
			return -ENOMEM;
		v[lab->n_nsgs].loc = a->loc;
		i = (int)lab->n_nsgs++;
	}
	a->node_nsg = i;
	a->made_node_nsg = true;
	return 0;
}

int vl_cpa_reconcile(struct vl_lab *lab, int c, struct vl_error *err)
{
	struct vl_aks *a = &lab->aks[c];
	struct wants w = {0};
	struct vl_nsg *nsg;
	bool legacy = a->k8s_major == 1 && a->k8s_minor < 29, any = false;
	char why[256] = "";
	int rc = 0;

	for (size_t i = 0; i < a->n_services; i++)
		any |= a->services[i].type == VL_SVC_LB;
	if (a->node_nsg == VL_NONE) {
		if (!any)
			return 0;
		if ((rc = make_node_nsg(lab, a)))
			return rc;
	}
	for (size_t i = 0; i < a->n_services && !rc; i++)
		if (a->services[i].type == VL_SVC_LB && !a->services[i].no_nsg_rule)
			rc = legacy ? want_legacy(&w, &a->services[i]) : want_current(&w, &a->services[i]);
	nsg = &lab->nsgs[a->node_nsg];
	/* Managed rules nobody wants any more go; wanted ones that exist keep their priority. */
	for (size_t i = 0; i < nsg->n_rules && !rc;) {
		struct vl_rule *r = &nsg->rules[i];
		struct want *x = NULL;

		for (size_t k = 0; k < w.n && !x; k++)
			if (!strcmp(w.v[k].name, r->name))
				x = &w.v[k];
		if (x) {
			rc = fill_rule(r, x, why, sizeof(why));
			x->name[0] = '\0';
			i++;
		} else if (vl_cpa_is_managed(r)) {
			vl_rule_clear(r);
			memmove(r, r + 1, (nsg->n_rules - i - 1) * sizeof(*r));
			nsg->n_rules--;
		} else {
			i++;
		}
	}
	for (size_t k = 0; k < w.n && !rc; k++) {
		struct want *x = &w.v[k];
		struct vl_rule *v, *r;
		int prio;

		if (!x->name[0])
			continue;
		if (nsg->n_rules >= VL_NSG_RULES_MAX) {
			vl_error_set(err, lab->file, x->loc, "NSG '%s' would have more than %d rules",
				     nsg->name, VL_NSG_RULES_MAX);
			rc = -EINVAL;
			break;
		}
		if (x->deny_all)
			for (prio = DENY_TOP; prio >= PRIO_LO && !prio_free(nsg, prio); prio--)
				;
		else
			for (prio = PRIO_LO; prio <= PRIO_HI && !prio_free(nsg, prio); prio++)
				;
		if (prio < PRIO_LO || prio > PRIO_HI) {
			vl_error_set(err, lab->file, x->loc,
				     "NSG '%s' has no free priority in %d-%d for rule '%s'", nsg->name,
				     PRIO_LO, PRIO_HI, x->name);
			rc = -EINVAL;
			break;
		}
		v = realloc(nsg->rules, (nsg->n_rules + 1) * sizeof(*v));
		if (!v) {
			rc = -ENOMEM;
			break;
		}
		nsg->rules = v;
		r = &v[nsg->n_rules];
		memset(r, 0, sizeof(*r));
		r->name = strdup(x->name);
		r->priority = prio;
		r->loc = x->loc;
		nsg->n_rules++;
		if (!r->name) {
			rc = -ENOMEM;
			break;
		}
		rc = fill_rule(r, x, why, sizeof(why));
	}
	if (rc == -EINVAL && why[0])
		vl_error_set(err, lab->file, a->loc,
			     "cluster '%s': the NSG rule for a LoadBalancer service: %s", a->name, why);
	wants_free(&w);
	return rc;
}
