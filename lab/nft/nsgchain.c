// SPDX-License-Identifier: MIT
/*
 * The layout of one NSG chain (one NSG, scope and direction): its compiled rules, and, for a
 * long one, the chunks they are cut into (nft-int.h, "NSG chain layout"). The netlink builder
 * (fabric.c) and the text printer (print.c) both lay chains out here, so both say the same.
 *
 * Cuts are content-defined: after a rule whose fingerprint is 0 modulo VLNFT_CHUNK_AVG, once a
 * chunk has VLNFT_CHUNK_MIN rules, and always at VLNFT_CHUNK_MAX. A chunk is named after what
 * it holds, so a one-rule edit renames only the chunk that holds the rule (two when the edit
 * moves a cut), and every other chunk keeps its name and, in the kernel, its chain and rules.
 * The rules' fingerprints (vlnft_crule_fp, last in this file) place the cuts and name the chunks.
 * A run of rules that can be keyed (keyed.c) is cut apart from the rules around it, into keyed
 * chunks ("/k" names) by the same rule with VLNFT_KEYED_MIN, _AVG and _MAX.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft-int.h"

/* Changes whenever what a compiled rule becomes in the kernel changes, so that a chunk chain a
 * build of another encoding made is never taken for one of this build's. */
#define VLNFT_ENCODING 3u

static uint64_t mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void name_chunk(struct vlnft_chunk *k, const char *chain, const uint64_t *fp)
{
	uint64_t h = mix(0xcbf29ce484222325ull, VLNFT_ENCODING);

	h = mix(h, k->shape);
	for (size_t i = 0; i < k->n; i++)
		h = mix(h, fp[k->first + i]);
	/* A chain name is at most 95 characters ("out-", 80 of the NSG's, "/" and a scope). */
	snprintf(k->name, sizeof(k->name), "%.*s/%c%016llx", (int)sizeof(k->name) - 19, chain,
		 k->shape ? 'k' : 'c', (unsigned long long)h);
}

/* Each rule's shape where it is in a run that is keyed (VLNFT_KEYED_RUN rules or more of one
 * shape in a row), else 0. */
static unsigned *keyed_runs(const struct vlnft_crule *cr, size_t n)
{
	unsigned *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = vlnft_crule_shape(&cr[i]);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && v[j] == v[i]; j++)
			;
		if (j - i < VLNFT_KEYED_RUN)
			memset(v + i, 0, (j - i) * sizeof(*v));
	}
	return v;
}

/* Cut n rules into chunks; *out NULL and *n_out 0 when they stay in the chain itself. Plain and
 * keyed runs are cut apart, each by its own bounds. */
static int cut(const char *chain, const struct vlnft_crule *cr, const uint64_t *fp, size_t n,
	       struct vlnft_chunk **out, size_t *n_out)
{
	struct vlnft_chunk *v;
	size_t k = 0, first = 0;
	unsigned *shape;

	*out = NULL;
	*n_out = 0;
	if (n <= VLNFT_CHUNK_AT)
		return 0;
	shape = keyed_runs(cr, n);
	v = calloc(n + 1, sizeof(*v));
	if (!v || !shape) {
		free(v);
		free(shape);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len = i + 1 - first;
		bool keyed = shape[i] != 0;
		size_t min = keyed ? VLNFT_KEYED_MIN : VLNFT_CHUNK_MIN, max = keyed ? VLNFT_KEYED_MAX : VLNFT_CHUNK_MAX;
		uint64_t avg = keyed ? VLNFT_KEYED_AVG : VLNFT_CHUNK_AVG;

		if (i + 1 < n && shape[i + 1] == shape[i] && len < max && (len < min || fp[i] % avg))
			continue;
		v[k].first = first;
		v[k].n = len;
		v[k].shape = shape[i];
		name_chunk(&v[k], chain, fp);
		k++;
		first = i + 1;
	}
	free(shape);
	*out = v;
	*n_out = k;
	return 0;
}

int vlnft_layout_nsg(const struct vlnft_ctx *c, const struct vl_nsg *nsg, int scope, enum vl_dir dir,
		     struct vlnft_layout *l, char *why, size_t why_len)
{
	int err;

	memset(l, 0, sizeof(*l));
	l->nsg = nsg->name;
	vlnft_chain_name(l->chain, c, nsg->name, scope, dir);
	err = vlnft_compile_nsg(c, nsg, dir, &l->cr, &l->n, why, why_len);
	if (err)
		return err;
	l->fp = calloc(l->n ? l->n : 1, sizeof(*l->fp));
	if (!l->fp) {
		err = -ENOMEM;
	} else {
		uint64_t seed = vlnft_crule_fp_seed(l->chain, nsg->name);

		for (size_t i = 0; i < l->n; i++)
			l->fp[i] = vlnft_crule_fp_from(seed, &l->cr[i]);
		err = cut(l->chain, l->cr, l->fp, l->n, &l->chunks, &l->n_chunks);
	}
	if (err) {
		snprintf(why, why_len, "NSG %s: laying out chain %s: %s", nsg->name, l->chain,
			 strerror(-err));
		vlnft_layout_fini(l);
	}
	return err;
}

void vlnft_layout_fini(struct vlnft_layout *l)
{
	vlnft_crules_free(l->cr, l->n);
	free(l->fp);
	free(l->chunks);
	memset(l, 0, sizeof(*l));
}

bool vlnft_is_chunk_of(const char *name, const char *chain)
{
	size_t n = strlen(chain);

	if (strncmp(name, chain, n) || name[n] != '/' || (name[n + 1] != 'c' && name[n + 1] != 'k') ||
	    strlen(name + n + 2) != 16)
		return false;
	for (const char *p = name + n + 2; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/*
 * Rule fingerprints are taken of every rule of a chain at each edit: hashed 8 bytes a step (the
 * tail zero-padded, with its length), and mixed at the end (murmur3's finaliser) so that every
 * bit, the low ones that place the cuts (nsgchain.c) too, depends on all of the input.
 */
static uint64_t words(uint64_t h, const void *p, size_t n)
{
	const uint8_t *c = p;
	uint64_t w;

	for (; n >= 8; n -= 8, c += 8) {
		memcpy(&w, c, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 32;
	}
	if (n) {
		w = 0;
		memcpy(&w, c, n);
		h = (h ^ w ^ ((uint64_t)n << 56)) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 32;
	}
	return h;
}

static uint64_t words_ivals(uint64_t h, const struct vlnft_ivals *iv)
{
	h = words(h, &iv->n, sizeof(iv->n));
	return iv->n ? words(h, iv->v, iv->n * sizeof(*iv->v)) : h;
}

uint64_t vlnft_crule_fp_seed(const char *chain, const char *nsg)
{
	uint64_t h = words(0xcbf29ce484222325ull, chain, strlen(chain) + 1);

	return words(h, nsg, strlen(nsg) + 1);
}

uint64_t vlnft_crule_fp(const char *chain, const char *nsg, const struct vlnft_crule *cr)
{
	return vlnft_crule_fp_from(vlnft_crule_fp_seed(chain, nsg), cr);
}

uint64_t vlnft_crule_fp_from(uint64_t seed, const struct vlnft_crule *cr)
{
	uint64_t h = seed;
	int v[4] = {cr->rule->access, cr->pk, cr->l4, 0};

	h = words(h, cr->rule->name, strlen(cr->rule->name) + 1);
	h = words(h, v, sizeof(v));
	v[0] = cr->src.kind;
	v[1] = cr->dst.kind;
	h = words(h, v, sizeof(v));
	h = words_ivals(h, &cr->src.iv);
	h = words_ivals(h, &cr->dst.iv);
	h = words_ivals(h, &cr->sport);
	h = words_ivals(h, &cr->dport);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}
