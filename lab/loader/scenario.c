// SPDX-License-Identifier: MIT
/* What a topology asks of the lab: checks, scenario steps and their rule edits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tl.h"
#include "vnetlab/ip.h"

static int check_one(struct tl *t, const struct ynode *m, bool inline_check, int *idx)
{
	static const char *const keys[] = {"name",	 "from",	 "to",	       "port",
					   "protocol",	 "expect",	 "expectSource", "expectRule",
					   "description", "hint",	 "points",	 NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *n, *pn;
	struct vl_check *c;
	const char *what = inline_check ? "scenario check" : "check";
	int r;

	if ((r = ld_map(&t->c, m, what)) || (r = ld_keys(&t->c, m, what, keys + (inline_check ? 1 : 0))))
		return r;
	const struct ynode **cm = realloc(t->check_maps, (lab->n_checks + 1) * sizeof(*cm));
	if (!cm)
		return -ENOMEM;
	t->check_maps = cm;
	cm[lab->n_checks] = m;
	c = tl_grow(&lab->checks, &lab->n_checks, sizeof(*lab->checks));
	if (!c)
		return -ENOMEM;
	*idx = (int)lab->n_checks - 1;
	c->loc = m->loc;
	c->points = 1;
	if ((n = ld_get(m, "description")) && (r = ld_str(&t->c, n, "description", &c->description)))
		return r;
	if ((n = ld_get(m, "hint")) && (r = ld_str(&t->c, n, "hint", &c->hint)))
		return r;
	if ((n = ld_get(m, "points")) && (r = ld_int(&t->c, n, "points", 0, POINTS_MAX, &c->points)))
		return r;
	if (!inline_check) {
		if ((r = ld_need(&t->c, m, "name", "check", &n)) || (r = tl_want_scalar(t, n, "check name")))
			return r;
		if (!n->str[0] || strlen(n->str) > CHECK_NAME_MAX)
			return ld_fail(&t->c, n, "check name must be 1-%d characters", CHECK_NAME_MAX);
		for (size_t j = 0; j + 1 < lab->n_checks; j++)
			if (lab->checks[j].name && !strcmp(lab->checks[j].name, n->str))
				return ld_fail(&t->c, n, "duplicate check name '%s'", n->str);
		if ((r = ld_str(&t->c, n, "check name", &c->name)))
			return r;
	}
	if ((r = ld_need(&t->c, m, "from", what, &n)) || (r = ld_str(&t->c, n, "from", &c->from)) ||
	    (r = ld_need(&t->c, m, "to", what, &n)) || (r = ld_str(&t->c, n, "to", &c->to)))
		return r;
	c->proto = VL_PROTO_TCP;
	if ((n = ld_get(m, "protocol"))) {
		if ((r = tl_want_scalar(t, n, "protocol")))
			return r;
		if (!strcasecmp(n->str, "tcp"))
			c->proto = VL_PROTO_TCP;
		else if (!strcasecmp(n->str, "udp"))
			c->proto = VL_PROTO_UDP;
		else if (!strcasecmp(n->str, "icmp"))
			c->proto = VL_PROTO_ICMP;
		else
			return ld_fail(&t->c, n, "invalid protocol '%s'; expected one of: tcp, udp, icmp",
				       n->str);
	}
	pn = ld_get(m, "port");
	if (c->proto == VL_PROTO_ICMP && pn)
		return ld_fail(&t->c, pn, "an icmp check has no port");
	if (c->proto != VL_PROTO_ICMP && !pn)
		return ld_fail(&t->c, m, "missing 'port' in %s (%s needs one)", what,
			       c->proto == VL_PROTO_TCP ? "tcp" : "udp");
	if (pn && (r = ld_int(&t->c, pn, "port", 1, 65535, &c->port)))
		return r;
	if ((r = ld_need(&t->c, m, "expect", what, &n)) || (r = tl_want_scalar(t, n, "expect")))
		return r;
	if (!strcasecmp(n->str, "allow"))
		c->expect = VL_EXPECT_ALLOW;
	else if (!strcasecmp(n->str, "deny"))
		c->expect = VL_EXPECT_DENY;
	else
		return ld_fail(&t->c, n, "invalid expect '%s'; expected one of: allow, deny", n->str);
	if ((n = ld_get(m, "expectSource")) && (r = ld_str(&t->c, n, "expectSource", &c->expect_source)))
		return r;
	if ((n = ld_get(m, "expectRule"))) {
		const char *slash;

		if ((r = ld_str(&t->c, n, "expectRule", &c->expect_rule)))
			return r;
		slash = strchr(c->expect_rule, '/');
		if (!slash || slash == c->expect_rule || !slash[1] || strchr(slash + 1, '/'))
			return ld_fail(&t->c, n, "invalid expectRule '%s': expected nsg/rule",
				       c->expect_rule);
		*(char *)slash = '\0';
		bool known = vl_lab_find_nsg(lab, c->expect_rule) != VL_NONE;
		*(char *)slash = '/';
		if (!known)
			return ld_fail(&t->c, n, "unknown network security group in expectRule '%s'",
				       c->expect_rule);
	}
	return 0;
}

int tl_checks(struct tl *t, const struct ynode *root)
{
	const struct ynode *seq;
	int idx, r = tl_list_of(t, root, "checks", &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++)
		r = check_one(t, seq->kids[i], false, &idx);
	return r;
}

/* A scenario edit names its rule and sets ARM fields; a delete only names it. */
static const char *const edit_keys[] = {"nsg", "rule", LD_RULE_FIELDS, NULL};
static const char *const delete_keys[] = {"nsg", "rule", NULL};

/* Rules as the scenario changes them, to catch set/delete of a rule that is not there. */
struct rule_state {
	int nsg;
	const char *name;
	bool present;
};

static int edit_value(struct tl *t, const struct ynode *v, char **out)
{
	size_t len = 0;
	char *s;

	if (v->null) {
		*out = strdup("");
		return *out ? 0 : -ENOMEM;
	}
	if (v->kind == YN_SCALAR) {
		*out = strdup(v->str);
		return *out ? 0 : -ENOMEM;
	}
	if (v->kind == YN_MAP)
		return ld_fail(&t->c, v, "expected a string or a list, got a mapping");
	for (size_t i = 0; i < v->n; i++) {
		if (v->kids[i]->kind != YN_SCALAR || v->kids[i]->null)
			return ld_fail(&t->c, v->kids[i], "expected a string in the list, got %s",
				       ld_kind(v->kids[i]));
		len += strlen(v->kids[i]->str) + 1;
	}
	s = calloc(1, len + 1);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, v->kids[i]->str);
	}
	*out = s;
	return 0;
}

static int edit(struct tl *t, const struct ynode *m, enum vl_edit_kind kind, struct vl_rule_edit *e,
		struct rule_state **rs, size_t *n_rs)
{
	static const char *const kind_names[] = {"set", "add", "delete"};
	const char *what = kind_names[kind];
	const struct ynode *n, *rn;
	struct rule_state *st = NULL;
	int nsg, r;

	e->kind = kind;
	e->loc = m->loc;
	if ((r = ld_map(&t->c, m, what)))
		return r;
	if ((r = ld_keys(&t->c, m, what, kind == VL_EDIT_DELETE ? delete_keys : edit_keys)))
		return r;
	for (size_t i = 0; i < m->n; i++) {
		const struct ynode *k = m->kids[2 * i], *v = m->kids[2 * i + 1];

		if (!strcmp(k->str, "nsg") || !strcmp(k->str, "rule"))
			continue;
		char *val = NULL;
		if ((r = edit_value(t, v, &val)))
			return r;
		r = vl_strv_push(&e->values, val);
		free(val);
		if (!r)
			r = vl_strv_push(&e->keys, k->str);
		if (r)
			return r;
	}
	if ((r = ld_need(&t->c, m, "nsg", what, &n)) || (r = tl_nsg_ref(t, n, &nsg)) ||
	    (r = ld_str(&t->c, n, "nsg", &e->nsg)) || (r = ld_need(&t->c, m, "rule", what, &rn)) ||
	    (r = ld_str(&t->c, rn, "rule", &e->rule)))
		return r;
	if (kind == VL_EDIT_SET && !e->keys.n)
		return ld_fail(&t->c, m, "set of rule '%s' changes nothing; give the fields to change",
			       e->rule);
	for (size_t i = 0; i < *n_rs; i++)
		if ((*rs)[i].nsg == nsg && !strcasecmp((*rs)[i].name, e->rule))
			st = &(*rs)[i];
	if (!st) {
		const struct vl_nsg *g = &t->lab->nsgs[nsg];
		bool in_file = false;

		for (size_t i = 0; i < g->n_rules; i++)
			in_file |= !strcasecmp(g->rules[i].name, e->rule);
		st = tl_grow(rs, n_rs, sizeof(**rs));
		if (!st)
			return -ENOMEM;
		st->nsg = nsg;
		st->name = rn->str;
		st->present = in_file;
	}
	if (kind == VL_EDIT_ADD && st->present)
		return ld_fail(&t->c, rn, "add: rule '%s' already exists in NSG '%s'; use set to change it",
			       e->rule, e->nsg);
	if (kind != VL_EDIT_ADD && !st->present)
		return ld_fail(&t->c, rn, "%s: no rule '%s' in NSG '%s' at this step", what, e->rule, e->nsg);
	st->present = kind != VL_EDIT_DELETE;
	return 0;
}

static int step_one(struct tl *t, const struct ynode *m, struct rule_state **rs, size_t *n_rs)
{
	static const char *const keys[] = {"say", "check", "set", "add", "delete", "wait", "pause", NULL};
	struct vl_lab *lab = t->lab;
	const struct ynode *k, *v;
	struct vl_step *s;
	int r;

	if ((r = ld_map(&t->c, m, "scenario step")) || (r = ld_keys(&t->c, m, "scenario step", keys)))
		return r;
	if (m->n != 1)
		return ld_fail(&t->c, m,
			       "a scenario step has exactly one of: say, check, set, add, delete, wait, pause");
	k = m->kids[0];
	v = m->kids[1];
	s = tl_grow(&lab->steps, &lab->n_steps, sizeof(*lab->steps));
	if (!s)
		return -ENOMEM;
	s->loc = m->loc;
	s->check = VL_NONE;
	if (!strcmp(k->str, "say")) {
		s->kind = VL_STEP_SAY;
		return ld_str(&t->c, v, "say", &s->text);
	}
	if (!strcmp(k->str, "pause")) {
		s->kind = VL_STEP_PAUSE;
		return v->null ? 0 : ld_str(&t->c, v, "pause", &s->text);
	}
	if (!strcmp(k->str, "wait")) {
		s->kind = VL_STEP_WAIT;
		return ld_int(&t->c, v, "wait (milliseconds)", 0, WAIT_MS_MAX, &s->wait_ms);
	}
	if (!strcmp(k->str, "check")) {
		int idx;

		s->kind = VL_STEP_CHECK;
		if (v->kind == YN_MAP) {
			if ((r = check_one(t, v, true, &idx)))
				return r;
			lab->steps[lab->n_steps - 1].check = idx; /* check_one does not move steps */
			return 0;
		}
		if ((r = tl_want_scalar(t, v, "check")))
			return r;
		for (size_t i = 0; i < lab->n_checks; i++)
			if (lab->checks[i].name && !strcmp(lab->checks[i].name, v->str))
				s->check = (int)i;
		if (s->check == VL_NONE)
			return ld_fail(&t->c, v, "unknown check '%s'", v->str);
		return 0;
	}
	s->kind = VL_STEP_EDIT;
	return edit(t, v,
		    !strcmp(k->str, "set")   ? VL_EDIT_SET
		    : !strcmp(k->str, "add") ? VL_EDIT_ADD
					     : VL_EDIT_DELETE,
		    &s->edit, rs, n_rs);
}

int tl_scenario(struct tl *t, const struct ynode *root)
{
	struct rule_state *rs = NULL;
	size_t n_rs = 0;
	const struct ynode *seq;
	int r = tl_list_of(t, root, "scenario", &seq);

	for (size_t i = 0; !r && seq && i < seq->n; i++)
		r = step_one(t, seq->kids[i], &rs, &n_rs);
	free(rs);
	return r;
}

/* expectRule names a rule of the file, a default rule, or one a scenario step adds. */
int tl_check_expect_rules(struct tl *t)
{
	const struct vl_lab *lab = t->lab;
	size_t n_defs;
	const struct vl_rule *defs = vl_default_rules(&n_defs);

	for (size_t i = 0; i < lab->n_checks; i++) {
		const char *er = lab->checks[i].expect_rule, *rule;
		const struct vl_nsg *g = NULL;
		size_t nlen;
		bool found = false;

		/* a student's lab may have lost the rule: that check fails, the others still run */
		if (!er || t->checks_file)
			continue;
		rule = strchr(er, '/') + 1;
		nlen = (size_t)(rule - 1 - er);
		for (size_t j = 0; j < lab->n_nsgs; j++)
			if (strlen(lab->nsgs[j].name) == nlen && !strncmp(lab->nsgs[j].name, er, nlen))
				g = &lab->nsgs[j];
		if (!g) /* checked when the check was read */
			continue;
		for (size_t j = 0; !found && j < g->n_rules; j++)
			found = !strcasecmp(g->rules[j].name, rule);
		for (size_t j = 0; !found && j < n_defs; j++)
			found = !strcasecmp(defs[j].name, rule);
		for (size_t j = 0; !found && j < lab->n_steps; j++) {
			const struct vl_rule_edit *e = &lab->steps[j].edit;

			found = lab->steps[j].kind == VL_STEP_EDIT && e->kind == VL_EDIT_ADD &&
				!strcmp(e->nsg, g->name) && !strcasecmp(e->rule, rule);
		}
		if (!found)
			return ld_fail(
			    &t->c, ld_get(t->check_maps[i], "expectRule"),
			    "expectRule '%s': NSG '%s' has no rule '%s' (nor does the scenario add one)", er,
			    g->name, rule);
	}
	return 0;
}

/* Endpoint names exist only after vl_lab_resolve(). */
int tl_check_targets(struct tl *t)
{
	const struct vl_lab *lab = t->lab;
	uint32_t ip;

	for (size_t i = 0; i < lab->n_checks; i++) {
		const struct vl_check *c = &lab->checks[i];
		const struct ynode *m = t->check_maps[i];
		const char *fields[] = {c->from, c->to, c->expect_source};
		const char *keys[] = {"from", "to", "expectSource"};

		for (int f = 0; f < 3; f++) {
			const char *s = fields[f];
			int ep = s ? vl_lab_find_endpoint(lab, s) : VL_NONE;

			/* A probe starts inside an endpoint, so `from` must name one. */
			int cl, sv;

			if (!s || ep != VL_NONE || (f > 0 && !vl_ip_parse(s, &ip)) ||
			    (f == 2 && !strcmp(s, "node")) || (f == 1 && !vl_lab_find_service(lab, s, &cl, &sv)))
				continue;
			return ld_fail(&t->c, ld_get(m, keys[f]), "unknown endpoint '%s' in %s; expected %s",
				       s, keys[f],
				       f == 0	? "the name of an endpoint of this lab"
				       : f == 2 ? "an endpoint name, an IPv4 address or 'node'"
						: "an endpoint name, a service name or an IPv4 address");
		}
		if (c->expect_source && !strcmp(c->expect_source, "node") &&
		    (lab->eps[vl_lab_find_endpoint(lab, c->from)].kind != VL_EP_POD ||
		     lab->eps[vl_lab_find_endpoint(lab, c->from)].virtual_node))
			return ld_fail(&t->c, ld_get(m, "expectSource"),
				       "expectSource 'node' needs a pod on a VM node in from ('%s' is not one)",
				       c->from);
	}
	return 0;
}
