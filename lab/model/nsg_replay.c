// SPDX-License-Identifier: MIT
/*
 * A run of live edits (the edit journal's replay) applied at once: each NSG the edits touch is
 * copied once, its rules found by name through a hash index rather than a scan, and validated
 * once after its last edit, instead of a copy and a validation of the whole NSG per edit. The
 * journal's edits were each validated when they were made, so the NSG after the last one
 * validates too, and it is the one the edits applied one by one make: a delete marks its rule
 * (the marks go at the end, keeping the order a memmove keeps), an add goes last.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nsg-edit.h"
#include "vnetlab/effective.h"
#include "vnetlab/model.h"

#define TOMB SIZE_MAX

/* One NSG under edit. idx holds rule index + 1 (0: empty slot, TOMB: a deleted rule's). */
struct work {
	struct vl_rule *rules;
	bool *dead;
	size_t n, cap;
	size_t *idx, mask;
};

static size_t hash_name(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 1099511628211u;
	return h;
}

/* The slot of name in w->idx, or (found false) the first free slot on its probe path. */
static size_t probe(const struct work *w, const char *name, bool *found)
{
	size_t at = hash_name(name) & w->mask, free_at = SIZE_MAX;

	for (;; at = (at + 1) & w->mask) {
		size_t v = w->idx[at];

		if (!v) {
			*found = false;
			return free_at != SIZE_MAX ? free_at : at;
		}
		if (v == TOMB) {
			if (free_at == SIZE_MAX)
				free_at = at;
		} else if (!strcasecmp(w->rules[v - 1].name, name)) {
			*found = true;
			return at;
		}
	}
}

static int work_init(struct work *w, const struct vl_nsg *nsg, size_t adds)
{
	size_t slots = 16;
	bool found;

	w->cap = nsg->n_rules + adds;
	/* live rules and tombstones together stay under half the slots */
	while (slots < 4 * (w->cap + 1))
		slots *= 2;
	w->mask = slots - 1;
	w->idx = calloc(slots, sizeof(*w->idx));
	w->dead = calloc(w->cap + 1, sizeof(*w->dead));
	if (!w->idx || !w->dead || vl_nsg_rules_copy(nsg, adds, &w->rules))
		return -ENOMEM;
	w->n = nsg->n_rules;
	for (size_t i = 0; i < w->n; i++) {
		size_t at = probe(w, w->rules[i].name, &found);

		if (!found) /* a duplicate name is the validation's to refuse */
			w->idx[at] = i + 1;
	}
	return 0;
}

static void work_free(struct work *w)
{
	if (w->rules)
		vl_nsg_rules_free(w->rules, w->n);
	free(w->dead);
	free(w->idx);
	memset(w, 0, sizeof(*w));
}

static int work_edit(const struct vl_lab *lab, struct work *w, const struct vl_rule_edit *e,
		     struct vl_error *err)
{
	bool found;
	size_t at = probe(w, e->rule, &found), ri = found ? w->idx[at] - 1 : 0;
	int rc = vl_nsg_edit_check(lab, e, found ? &w->rules[ri] : NULL, err);

	if (rc)
		return rc;
	if (e->kind == VL_EDIT_DELETE) {
		vl_rule_clear(&w->rules[ri]);
		w->dead[ri] = true;
		w->idx[at] = TOMB;
		return 0;
	}
	if (e->kind == VL_EDIT_ADD) {
		if (w->n == w->cap)
			return -EOVERFLOW; /* counted up front: cannot happen */
		ri = w->n++;
		rc = vl_nsg_edit_fill(lab, e, &w->rules[ri], err);
		if (!rc)
			w->idx[at] = ri + 1;
		return rc;
	}
	/* a set keeps the rule's place in the file for later errors, as vl_lab_apply_edit does */
	return vl_nsg_edit_fill(lab, e, &w->rules[ri], err);
}

/* Deleted rules out, the others in their order. */
static void work_pack(struct work *w)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n; i++)
		if (!w->dead[i])
			w->rules[k++] = w->rules[i];
	w->n = k;
}

static int batch(struct vl_lab *lab, const struct vl_rule_edit *e, size_t n, struct work *w, int *nsg_of,
		 struct vl_error *err)
{
	size_t *adds = calloc(lab->n_nsgs + 1, sizeof(*adds));
	int rc = 0;

	if (!adds)
		return -ENOMEM;
	for (size_t i = 0; i < n && !rc; i++) {
		rc = vl_nsg_edit_target(lab, &e[i], &nsg_of[i], err);
		if (!rc && e[i].kind == VL_EDIT_ADD)
			adds[nsg_of[i]]++;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct work *g = &w[nsg_of[i]];

		if (!g->idx)
			rc = work_init(g, &lab->nsgs[nsg_of[i]], adds[nsg_of[i]]);
		if (!rc)
			rc = work_edit(lab, g, &e[i], err);
	}
	free(adds);
	/* every touched NSG must validate before any is swapped in */
	for (size_t g = 0; g < lab->n_nsgs && !rc; g++) {
		struct vl_nsg tmp;

		if (!w[g].idx)
			continue;
		work_pack(&w[g]);
		tmp = lab->nsgs[g];
		tmp.rules = w[g].rules;
		tmp.n_rules = w[g].n;
		rc = vl_nsg_validate_lab(lab, &tmp, lab->file, err);
	}
	if (rc)
		return rc;
	for (size_t g = 0; g < lab->n_nsgs; g++) {
		if (!w[g].idx)
			continue;
		vl_nsg_rules_free(lab->nsgs[g].rules, lab->nsgs[g].n_rules);
		lab->nsgs[g].rules = w[g].rules;
		lab->nsgs[g].n_rules = w[g].n;
		w[g].rules = NULL;
		w[g].n = 0;
	}
	return 0;
}

int vl_lab_apply_edits(struct vl_lab *lab, const struct vl_rule_edit *e, size_t n, struct vl_error *err)
{
	struct work *w;
	int *nsg_of, rc;

	if (!n)
		return 0;
	w = calloc(lab->n_nsgs + 1, sizeof(*w));
	nsg_of = calloc(n, sizeof(*nsg_of));
	rc = w && nsg_of ? batch(lab, e, n, w, nsg_of, err) : -ENOMEM;
	for (size_t g = 0; w && g < lab->n_nsgs; g++)
		work_free(&w[g]);
	free(w);
	free(nsg_of);
	if (!rc) {
		/* Health probes are subject to NSGs (spec 15.4): once, for the NSGs as they now are. */
		vl_eff_lb_health(lab);
		return 0;
	}
	/* Nothing was swapped in: one by one, for vl_lab_apply_edit's own error at the edit it meets. */
	for (size_t i = 0; i < n && !(rc = vl_lab_apply_edit(lab, &e[i], err)); i++)
		;
	return rc;
}
