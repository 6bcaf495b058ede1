// SPDX-License-Identifier: MIT
/*
 * Live edits of an NSG's rules (`nsg rule create|update|delete`; the edit journal's replay,
 * nsg_replay.c, shares the steps through nsg-edit.h): az's field names and defaults applied to a
 * copy of the NSG's rules, which replaces them only once the whole NSG validates (nsg.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vnetlab/effective.h"
#include "vnetlab/model.h"
#include "nsg-edit.h"

static const struct vl_rule *find_default(const char *name)
{
	size_t n;
	const struct vl_rule *d = vl_default_rules(&n);

	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(d[i].name, name))
			return &d[i];
	return NULL;
}

static int strv_copy(struct vl_strv *dst, const struct vl_strv *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < src->n; i++)
		if (vl_strv_push(dst, src->v[i]))
			return -ENOMEM;
	return 0;
}

static int str_copy(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* Deep copy of the ARM fields; match sets are left empty (validation refills them). */
static int rule_copy(struct vl_rule *d, const struct vl_rule *s)
{
	int rc = 0;

	memset(d, 0, sizeof(*d));
	d->priority = s->priority;
	d->dir = s->dir;
	d->access = s->access;
	d->proto = s->proto;
	d->is_default = s->is_default;
	d->loc = s->loc;
	rc |= str_copy(&d->name, s->name);
	rc |= str_copy(&d->description, s->description);
	rc |= str_copy(&d->src_prefix, s->src_prefix);
	rc |= str_copy(&d->dst_prefix, s->dst_prefix);
	rc |= str_copy(&d->src_port, s->src_port);
	rc |= str_copy(&d->dst_port, s->dst_port);
	rc |= strv_copy(&d->src_prefixes, &s->src_prefixes);
	rc |= strv_copy(&d->dst_prefixes, &s->dst_prefixes);
	rc |= strv_copy(&d->src_ports, &s->src_ports);
	rc |= strv_copy(&d->dst_ports, &s->dst_ports);
	rc |= strv_copy(&d->src_asgs, &s->src_asgs);
	rc |= strv_copy(&d->dst_asgs, &s->dst_asgs);
	return rc ? -ENOMEM : 0;
}

static void rules_free(struct vl_rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vl_rule_clear(&rules[i]);
	free(rules);
}

static int set_str(char **field, const char *v)
{
	char *d = strdup(v);

	if (!d)
		return -ENOMEM;
	free(*field);
	*field = d;
	return 0;
}

/* Split a space-separated list into sv (emptied first). */
static int split_list(struct vl_strv *sv, const char *v)
{
	char *tmp = strdup(v), *save = NULL;

	if (!tmp)
		return -ENOMEM;
	vl_strv_free(sv);
	for (char *t = strtok_r(tmp, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
		if (vl_strv_push(sv, t)) {
			free(tmp);
			return -ENOMEM;
		}
	}
	free(tmp);
	return 0;
}

/* az semantics: one value lands in the singular field, several in the plural. */
static int set_pair(char **sing, struct vl_strv *plur, const char *v, bool plural_key)
{
	int rc;

	if (!plural_key) {
		rc = set_str(sing, v);
		if (!rc)
			vl_strv_free(plur);
		return rc;
	}
	rc = split_list(plur, v);
	if (rc)
		return rc;
	if (plur->n == 1) {
		rc = set_str(sing, plur->v[0]);
		vl_strv_free(plur);
		return rc;
	}
	free(*sing);
	*sing = NULL;
	return 0;
}

static int parse_priority(const char *v, int *out)
{
	char *end;
	long n;

	if (!*v || !isdigit((unsigned char)*v))
		return -EINVAL;
	n = strtol(v, &end, 10);
	if (*end || n > 1000000)
		return -EINVAL;
	*out = (int)n;
	return 0;
}

static int parse_proto(const char *v, enum vl_proto *p)
{
	for (enum vl_proto i = VL_PROTO_ANY; i <= VL_PROTO_AH; i++) {
		if (!strcasecmp(v, vl_proto_name(i))) {
			*p = i;
			return 0;
		}
	}
	if (!strcasecmp(v, "Any")) {
		*p = VL_PROTO_ANY;
		return 0;
	}
	return -EINVAL;
}

struct edit_ctx {
	const char *file;
	struct vl_loc loc;
	const char *nsg;
	const char *rule;
	struct vl_error *err;
};

static int bad_value(const struct edit_ctx *c, const char *key, const char *v, const char *want)
{
	vl_error_set(c->err, c->file, c->loc, "NSG %s: rule %s: %s: invalid value \"%s\" (%s)", c->nsg,
		     c->rule, key, v, want);
	return -EINVAL;
}

static int apply_key(const struct edit_ctx *c, struct vl_rule *r, const char *key, const char *v)
{
	if (!strcasecmp(key, "priority")) {
		if (parse_priority(v, &r->priority))
			return bad_value(c, key, v, "a number, 100-4096");
		return 0;
	}
	if (!strcasecmp(key, "access")) {
		if (!strcasecmp(v, "Allow"))
			r->access = VL_ALLOW;
		else if (!strcasecmp(v, "Deny"))
			r->access = VL_DENY;
		else
			return bad_value(c, key, v, "Allow or Deny");
		return 0;
	}
	if (!strcasecmp(key, "direction")) {
		if (!strcasecmp(v, "Inbound"))
			r->dir = VL_DIR_IN;
		else if (!strcasecmp(v, "Outbound"))
			r->dir = VL_DIR_OUT;
		else
			return bad_value(c, key, v, "Inbound or Outbound");
		return 0;
	}
	if (!strcasecmp(key, "protocol")) {
		if (parse_proto(v, &r->proto))
			return bad_value(c, key, v, "Tcp, Udp, Icmp, Esp, Ah or *");
		return 0;
	}
	if (!strcasecmp(key, "description"))
		return set_str(&r->description, v);
	if (!strcasecmp(key, "sourceAddressPrefix"))
		return set_pair(&r->src_prefix, &r->src_prefixes, v, false);
	if (!strcasecmp(key, "sourceAddressPrefixes"))
		return set_pair(&r->src_prefix, &r->src_prefixes, v, true);
	if (!strcasecmp(key, "destinationAddressPrefix"))
		return set_pair(&r->dst_prefix, &r->dst_prefixes, v, false);
	if (!strcasecmp(key, "destinationAddressPrefixes"))
		return set_pair(&r->dst_prefix, &r->dst_prefixes, v, true);
	if (!strcasecmp(key, "sourcePortRange"))
		return set_pair(&r->src_port, &r->src_ports, v, false);
	if (!strcasecmp(key, "sourcePortRanges"))
		return set_pair(&r->src_port, &r->src_ports, v, true);
	if (!strcasecmp(key, "destinationPortRange"))
		return set_pair(&r->dst_port, &r->dst_ports, v, false);
	if (!strcasecmp(key, "destinationPortRanges"))
		return set_pair(&r->dst_port, &r->dst_ports, v, true);
	vl_error_set(c->err, c->file, c->loc,
		     "NSG %s: rule %s: unknown field \"%s\" (priority, access, direction, protocol, "
		     "sourceAddressPrefix(es), sourcePortRange(s), destinationAddressPrefix(es), "
		     "destinationPortRange(s), description)",
		     c->nsg, c->rule, key);
	return -EINVAL;
}

static bool has_key(const struct vl_rule_edit *e, const char *key)
{
	for (size_t i = 0; i < e->keys.n; i++)
		if (!strcasecmp(e->keys.v[i], key))
			return true;
	return false;
}

static int add_defaults(struct vl_rule *r, const char *name, struct vl_loc loc)
{
	/* `az network nsg rule create` defaults */
	r->proto = VL_PROTO_ANY;
	r->dir = VL_DIR_IN;
	r->access = VL_ALLOW;
	r->loc = loc;
	if (!(r->name = strdup(name)) || !(r->src_prefix = strdup("*")) || !(r->src_port = strdup("*")) ||
	    !(r->dst_prefix = strdup("*")) || !(r->dst_port = strdup("80")))
		return -ENOMEM;
	return 0;
}

int vl_nsg_edit_target(const struct vl_lab *lab, const struct vl_rule_edit *e, int *ni, struct vl_error *err)
{
	if (!e->nsg || !e->rule) {
		vl_error_set(err, lab->file, e->loc, "rule edit needs an NSG and a rule name");
		return -EINVAL;
	}
	if (e->keys.n != e->values.n) {
		vl_error_set(err, lab->file, e->loc, "NSG %s: rule %s: %zu fields but %zu values", e->nsg,
			     e->rule, e->keys.n, e->values.n);
		return -EINVAL;
	}
	*ni = vl_lab_find_nsg(lab, e->nsg);
	if (*ni == VL_NONE) {
		vl_error_set(err, lab->file, e->loc, "no NSG named \"%s\" in lab %s", e->nsg,
			     lab->name ? lab->name : "");
		return -ENOENT;
	}
	return 0;
}

int vl_nsg_edit_check(const struct vl_lab *lab, const struct vl_rule_edit *e, const struct vl_rule *have,
		      struct vl_error *err)
{
	if (!have && e->kind != VL_EDIT_ADD && find_default(e->rule)) {
		vl_error_set(err, lab->file, e->loc,
			     "NSG %s: %s is a default rule: default rules cannot be edited or deleted (add a "
			     "custom rule with a priority below 65000 to override it)",
			     e->nsg, find_default(e->rule)->name);
		return -EPERM;
	}
	if (!have && e->kind != VL_EDIT_ADD) {
		vl_error_set(err, lab->file, e->loc, "NSG %s has no rule named \"%s\"", e->nsg, e->rule);
		return -ENOENT;
	}
	if (have && e->kind == VL_EDIT_ADD) {
		vl_error_set(err, lab->file, e->loc,
			     "NSG %s already has a rule named \"%s\" (use set to change it)", e->nsg,
			     have->name);
		return -EEXIST;
	}
	if (e->kind == VL_EDIT_ADD && find_default(e->rule)) {
		vl_error_set(
		    err, lab->file, e->loc,
		    "NSG %s: %s is the name of a default rule; choose another name for a custom rule", e->nsg,
		    find_default(e->rule)->name);
		return -EINVAL;
	}
	if (e->kind == VL_EDIT_ADD && !has_key(e, "priority")) {
		vl_error_set(err, lab->file, e->loc,
			     "NSG %s: rule %s: adding a rule needs a priority (100-4096)", e->nsg, e->rule);
		return -EINVAL;
	}
	return 0;
}

int vl_nsg_edit_fill(const struct vl_lab *lab, const struct vl_rule_edit *e, struct vl_rule *r,
		     struct vl_error *err)
{
	struct edit_ctx c = {.file = lab->file, .loc = e->loc, .nsg = e->nsg, .rule = e->rule, .err = err};
	int rc;

	if (e->kind == VL_EDIT_ADD && add_defaults(r, e->rule, e->loc))
		goto nomem;
	for (size_t i = 0; i < e->keys.n; i++) {
		rc = apply_key(&c, r, e->keys.v[i], e->values.v[i]);
		if (rc == -ENOMEM)
			goto nomem;
		if (rc)
			return rc;
	}
	return 0;
nomem:
	vl_error_set(err, lab->file, e->loc, "out of memory");
	return -ENOMEM;
}

int vl_nsg_rules_copy(const struct vl_nsg *nsg, size_t extra, struct vl_rule **out)
{
	struct vl_rule *rules = calloc(nsg->n_rules + extra + 1, sizeof(*rules));

	*out = NULL;
	if (!rules)
		return -ENOMEM;
	for (size_t i = 0; i < nsg->n_rules; i++) {
		if (rule_copy(&rules[i], &nsg->rules[i])) {
			vl_nsg_rules_free(rules, i + 1);
			return -ENOMEM;
		}
	}
	*out = rules;
	return 0;
}

void vl_nsg_rules_free(struct vl_rule *rules, size_t n)
{
	rules_free(rules, n);
}

int vl_lab_apply_edit(struct vl_lab *lab, const struct vl_rule_edit *e, struct vl_error *err)
{
	struct vl_rule *rules = NULL;
	struct vl_nsg tmp;
	size_t n = 0;
	int ni, ri, rc;

	rc = vl_nsg_edit_target(lab, e, &ni, err);
	if (rc)
		return rc;
	ri = vl_nsg_find_rule(&lab->nsgs[ni], e->rule);
	rc = vl_nsg_edit_check(lab, e, ri == VL_NONE ? NULL : &lab->nsgs[ni].rules[ri], err);
	if (rc)
		return rc;

	/* Work on a copy; swap it in only once it validates. */
	n = lab->nsgs[ni].n_rules;
	if (vl_nsg_rules_copy(&lab->nsgs[ni], 1, &rules)) {
		vl_error_set(err, lab->file, e->loc, "out of memory");
		return -ENOMEM;
	}
	if (e->kind == VL_EDIT_DELETE) {
		vl_rule_clear(&rules[ri]);
		memmove(&rules[ri], &rules[ri + 1], (n - (size_t)ri - 1) * sizeof(*rules));
		n--;
	} else {
		if (e->kind == VL_EDIT_ADD)
			ri = (int)n++;
		rc = vl_nsg_edit_fill(lab, e, &rules[ri], err);
		if (rc)
			goto fail;
		/* errors about this rule point at the edit when it has a place */
		if (e->loc.line)
			rules[ri].loc = e->loc;
	}
	tmp = lab->nsgs[ni];
	tmp.rules = rules;
	tmp.n_rules = n;
	rc = vl_nsg_validate_lab(lab, &tmp, lab->file, err);
	if (rc)
		goto fail;
	if (e->kind != VL_EDIT_ADD && e->kind != VL_EDIT_DELETE)
		rules[ri].loc = lab->nsgs[ni].rules[ri].loc;
	rules_free(lab->nsgs[ni].rules, lab->nsgs[ni].n_rules);
	lab->nsgs[ni].rules = rules;
	lab->nsgs[ni].n_rules = n;
	/* Health probes are subject to NSGs (spec 15.4): an edit may take a backend in or out. */
	vl_eff_lb_health(lab);
	return 0;
fail:
	rules_free(rules, n);
	return rc;
}
