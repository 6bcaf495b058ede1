// SPDX-License-Identifier: MIT
/*
 * Address and port lists of 3+ intervals, shared as named sets (fabric.c "set a<hash>/p<hash>"):
 * each named after its content, so that the rules that have the same list share one set, and a
 * live edit can tell by name which sets the kernel already has (nsgrules.c). Gathered from the
 * compiled rules of a lab, or of one NSG.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft-int.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *c = p;

	while (n--)
		h = (h ^ *c++) * 0x100000001b3ull;
	return h;
}

static uint64_t fnv_ivals(uint64_t h, const struct vlnft_ivals *iv)
{
	h = fnv(h, &iv->n, sizeof(iv->n));
	return iv->n ? fnv(h, iv->v, iv->n * sizeof(*iv->v)) : h;
}

void vlnft_set_name(char *buf, bool addr, const struct vlnft_ivals *iv)
{
	uint64_t h = fnv_ivals(addr ? 0x84222325cbf29ce4ull : 0xcbf29ce484222325ull, iv);

	snprintf(buf, VLNFT_SET_NAME_MAX, "%c%016llx", addr ? 'a' : 'p', (unsigned long long)h);
}

bool vlnft_is_list_set(const char *name)
{
	size_t i;

	if ((name[0] != 'a' && name[0] != 'p') || strlen(name) != 17)
		return false;
	for (i = 1; i < 17; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return true;
}

void vlnft_named_free(struct vlnft_named *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		vlnft_ivals_free(&v[i].iv);
	free(v);
}

static int named_add(struct vlnft_lists *l, bool addr, const struct vlnft_ivals *iv)
{
	struct vlnft_named *x;

	if (iv->n < VLNFT_SET_MIN)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct vlnft_named *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	x = &l->v[l->n++];
	memset(x, 0, sizeof(*x));
	vlnft_set_name(x->name, addr, iv);
	x->addr = addr;
	return vlnft_ivals_copy(&x->iv, iv);
}

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vlnft_named *)a)->name, ((const struct vlnft_named *)b)->name);
}

static bool ivals_eq(const struct vlnft_ivals *a, const struct vlnft_ivals *b)
{
	return a->n == b->n && !memcmp(a->v, b->v, a->n * sizeof(*a->v));
}

/* The lists of one compiled rule. A list of VLNFT_SET_MIN or more intervals survives expand()
 * whole, so a rule compiled but not expanded has the same lists as its expansions. */
static int lists_of(struct vlnft_lists *l, const struct vlnft_crule *cr)
{
	int err = 0;

	if (cr->src.kind == VLNFT_A_IVALS)
		err = named_add(l, true, &cr->src.iv);
	if (!err && cr->dst.kind == VLNFT_A_IVALS)
		err = named_add(l, true, &cr->dst.iv);
	if (!err)
		err = named_add(l, false, &cr->sport);
	if (!err)
		err = named_add(l, false, &cr->dport);
	return err;
}

int vlnft_lists_add(struct vlnft_lists *l, const struct vlnft_crule *cr, size_t n)
{
	int err = 0;

	for (size_t i = 0; i < n && !err; i++)
		err = lists_of(l, &cr[i]);
	return err;
}

void vlnft_lists_fini(struct vlnft_lists *l)
{
	vlnft_named_free(l->v, l->n);
	memset(l, 0, sizeof(*l));
}

int vlnft_lists_finish(struct vlnft_lists *l, struct vlnft_named **out, size_t *n, char *why, size_t why_len)
{
	size_t i, o, k;

	*out = NULL;
	*n = 0;
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), named_cmp);
	for (i = 0, o = 0; i < l->n; i++) {
		if (o && !strcmp(l->v[o - 1].name, l->v[i].name)) {
			if (l->v[o - 1].addr != l->v[i].addr || !ivals_eq(&l->v[o - 1].iv, &l->v[i].iv)) {
				/* 64-bit hashes of two different lists: never seen, but never wrong either.
				 */
				snprintf(why, why_len, "list sets: two lists hash to %s", l->v[i].name);
				for (k = i; k < l->n; k++)
					vlnft_ivals_free(&l->v[k].iv);
				vlnft_named_free(l->v, o);
				memset(l, 0, sizeof(*l));
				return -EEXIST;
			}
			vlnft_ivals_free(&l->v[i].iv);
			continue;
		}
		l->v[o++] = l->v[i];
	}
	*out = l->v;
	*n = o;
	memset(l, 0, sizeof(*l));
	return 0;
}

int vlnft_lab_sets(struct vlnft_ctx *c, struct vlnft_named **out, size_t *n, char *why, size_t why_len)
{
	return vlnft_nsg_sets(c, VL_NONE, out, n, why, why_len);
}

int vlnft_nsg_sets(struct vlnft_ctx *c, int nsg, struct vlnft_named **out, size_t *n, char *why,
		   size_t why_len)
{
	static const enum vl_dir dirs[2] = {VL_DIR_IN, VL_DIR_OUT};
	struct vlnft_lists l = {0};
	int err = 0;

	*out = NULL;
	*n = 0;
	for (size_t g = 0; g < c->n_pairs && !err; g++)
		for (int d = 0; d < 2 && !err && (nsg == VL_NONE || c->pairs[g].nsg == nsg); d++) {
			err = vlnft_ctx_scope(c, c->pairs[g].scope, why, why_len);
			if (!err)
				err = vlnft_lists_add_nsg(c, &l, &c->lab->nsgs[c->pairs[g].nsg], dirs[d], why,
							  why_len);
		}
	if (err) {
		vlnft_lists_fini(&l);
		return err;
	}
	return vlnft_lists_finish(&l, out, n, why, why_len);
}
