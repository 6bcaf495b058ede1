// SPDX-License-Identifier: MIT
/*
 * The chains of an NSG in a fabric's transaction, as nsgchain.c lays them out: every rule of a
 * full commit, or a live edit of the directions that changed, which knows the kernel's chain and
 * set names (vlnft_read_kernel) and sends only the chunks the kernel lacks, the head rules that
 * changed (it reads the heads' rules) and the list sets that come or go.
 * fabric.c builds the rest of the fabric and sends.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "vnetlab/nft.h"
#include "nft-int.h"
#include "nft-emit.h"

/* One nft rule of an NSG chain: the match, the rule id in the mark, return or nsg_deny. No
 * counter: each expression costs the kernel ~2 us to take in (it looks each up by name among
 * every expression type it has), and a counter is one of ten in a rule. */
static int emit_nsg_rule(struct vlnft_batch *b, const char *nsg, const char *chain,
			 const struct vlnft_crule *cr, uint64_t fp)
{
	struct vlnft_rx x;
	uint32_t id;

	if (vlnft_rx_begin(&x, chain))
		return b->err = x.err;
	vlnft_rx_nsg_match(b, &x, cr);
	vlnft_rx_comment(&x, cr->rule->name, fp);
	/* The mark names the rule for the logs (the flow log at the end of forward, nsg_deny). */
	id = (uint32_t)vl_rule_id(nsg, cr->rule->name);
	vlnft_rx_imm_host(&x, NFT_REG_1, cr->rule->access == VL_ALLOW ? VL_FLOW_MARK_ALLOW | id : id);
	vlnft_rx_meta_set(&x, NFT_META_MARK);
	if (cr->rule->access == VL_ALLOW)
		vlnft_rx_verdict(&x, NFT_RETURN);
	else
		vlnft_rx_goto(&x, VLNFT_CHAIN_DENY);
	return vlnft_rx_end(&x, b, chain);
}

static int emit_rules(struct vlnft_batch *b, const struct vlnft_layout *l, const char *chain, size_t first,
		      size_t n)
{
	for (size_t i = first; i < first + n && !b->err; i++)
		emit_nsg_rule(b, l->nsg, chain, &l->cr[i], l->fp[i]);
	return b->err;
}

/*
 * A chunked chain's own rules (its head): the mark to 0, then for each chunk in turn
 * "meta mark 0 jump <chunk>" (an Allow leaves its id in the mark and returns, so no later chunk is
 * entered; a Deny goes to nsg_deny), the last by goto. One rule and three expressions a chunk.
 * Each carries a fingerprint of what it does (no comment: `nft list` shows none), so that an edit
 * can keep the head rules that still hold and replace only the others.
 */
#define HEAD_MARK ((size_t)-1) /* the head's first rule, the mark to 0 */

static uint64_t head_fp(const struct vlnft_layout *l, size_t k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *name = k == HEAD_MARK ? "" : l->chunks[k].name;
	/* what decides the rule besides its target: with a compare (not the first), goto (the last) */
	uint8_t kind = k == HEAD_MARK ? 0 : (uint8_t)(1 + (k > 0) + 2 * (k + 1 == l->n_chunks));

	h = (h ^ kind) * 0x100000001b3ull;
	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	return h ? h : 1; /* 0 is no fingerprint */
}

static int emit_head_rule(struct vlnft_batch *b, const struct vlnft_layout *l, size_t k, enum vlnft_at at,
			  uint64_t handle)
{
	static const uint32_t zero;
	struct vlnft_rx x;

	if (vlnft_rx_begin(&x, l->chain))
		return b->err = x.err;
	if (k == HEAD_MARK) {
		vlnft_rx_imm_host(&x, NFT_REG_1, 0);
		vlnft_rx_meta_set(&x, NFT_META_MARK);
	} else {
		if (k) { /* the first is entered with the mark just set to 0 */
			vlnft_rx_meta(&x, NFT_META_MARK);
			vlnft_rx_cmp(&x, NFT_CMP_EQ, &zero, 4);
		}
		if (k + 1 == l->n_chunks)
			vlnft_rx_goto(&x, l->chunks[k].name);
		else
			vlnft_rx_jump(&x, l->chunks[k].name);
	}
	vlnft_rx_fp(&x, head_fp(l, k));
	return vlnft_rx_end_at(&x, b, l->chain, at, handle);
}

static int emit_head(struct vlnft_batch *b, const struct vlnft_layout *l)
{
	emit_head_rule(b, l, HEAD_MARK, VLNFT_AT_END, 0);
	for (size_t k = 0; k < l->n_chunks && !b->err; k++)
		emit_head_rule(b, l, k, VLNFT_AT_END, 0);
	return b->err;
}

/* Head rule i of the layout: 0 the mark, then the chunks' jumps. */
static size_t head_index(size_t i)
{
	return i ? i - 1 : HEAD_MARK;
}

/*
 * Turn the kernel's head (old, n_old rules) into l's: the rules both start and end with stay,
 * those between are replaced in place one for one, and what is left over is inserted before the
 * first rule that stays at the end (or appended), or deleted. A one-rule edit replaces one jump
 * (two when it moved a cut). A rule's fingerprint says all it does, so a rule kept is right.
 */
static int patch_head(struct vlnft_batch *b, const struct vlnft_layout *l, const struct vlnft_krule *old,
		      size_t n_old)
{
	size_t n_new = l->n_chunks + 1, p = 0, s = 0, mo, mn, i;

	while (p < n_old && p < n_new && old[p].fp == head_fp(l, head_index(p)))
		p++;
	while (s < n_old - p && s < n_new - p &&
	       old[n_old - 1 - s].fp == head_fp(l, head_index(n_new - 1 - s)))
		s++;
	mo = n_old - p - s;
	mn = n_new - p - s;
	for (i = 0; i < mo && i < mn && !b->err; i++)
		emit_head_rule(b, l, head_index(p + i), VLNFT_AT_REPLACE, old[p + i].handle);
	for (; i < mn && !b->err; i++)
		emit_head_rule(b, l, head_index(p + i), s ? VLNFT_AT_BEFORE : VLNFT_AT_END,
			       s ? old[n_old - s].handle : 0);
	for (; i < mo && !b->err; i++)
		vlnft_emit_del_rule(b, l->chain, old[p + i].handle);
	return b->err;
}

/* An edit's head of a chunked chain the kernel has: patched when the kernel's head is one
 * (fingerprints on all its rules), else flushed and written anew. */
static int rewrite_head(struct vlnft_batch *b, const struct vlnft_layout *l, const struct vlnft_kstate *ks)
{
	struct vlnft_krule *old = NULL;
	size_t n_old = 0, i;
	char why[256];
	int err;

	if (ks->nsfd < 0 || vlnft_dump_rules(ks->nsfd, l->chain, &old, &n_old, why, sizeof(why)))
		n_old = 0; /* not known: written anew */
	for (i = 0; i < n_old && old[i].fp; i++)
		;
	if (n_old && i == n_old) {
		err = patch_head(b, l, old, n_old);
	} else {
		vlnft_emit_flush_chain(b, l->chain);
		err = emit_head(b, l);
	}
	free(old);
	return err;
}

static int cmp_chain(const void *key, const void *elem)
{
	return strcmp(key, elem);
}

static bool kernel_has_chain(const struct vlnft_kstate *ks, const char *name)
{
	return ks && ks->known && bsearch(name, ks->chains, ks->n_chains, sizeof(*ks->chains), cmp_chain);
}

static bool layout_has_chunk(const struct vlnft_layout *l, const char *name)
{
	for (size_t k = 0; k < l->n_chunks; k++)
		if (!strcmp(l->chunks[k].name, name))
			return true;
	return false;
}

/* Does the kernel hold exactly the chunk chains of l (so that its head, which jumps to them by
 * name, need not change)? */
static bool kernel_has_layout(const struct vlnft_kstate *ks, const struct vlnft_layout *l)
{
	size_t found = 0;

	if (!l->n_chunks || !kernel_has_chain(ks, l->chain))
		return false;
	for (size_t i = 0; i < ks->n_chains; i++)
		if (vlnft_is_chunk_of(ks->chains[i], l->chain)) {
			if (!layout_has_chunk(l, ks->chains[i]))
				return false;
			found++;
		}
	return found == l->n_chunks;
}

/*
 * Fill one laid-out chain. A full commit (ks NULL) made the chain already and has no chunks yet.
 * An edit makes what the kernel lacks (the chain itself if the NSG is new there, and the chunks
 * whose content is new: a chunk the kernel has by name holds those very rules), rewrites the
 * chain's own rules, then deletes the chunks it no longer jumps to. Blind (ks not known), every
 * chunk is made, emptied and filled, and stale ones stay (unreferenced). A chunked chain whose
 * chunks the kernel has, all and only those, is left as it is.
 */
static int fill_layout(struct vlnft_batch *b, const struct vlnft_layout *l, const struct vlnft_kstate *ks)
{
	bool blind = ks && !ks->known;

	/* An edit of the NSG's other direction, or of nothing: this chain's chunks are all there. */
	if (ks && ks->known && kernel_has_layout(ks, l))
		return 0;
	/* (Blind, the chain is taken to be there since the full commit, as edits keep associations.) */
	if (ks && ks->known && !kernel_has_chain(ks, l->chain))
		vlnft_emit_chain(b, l->chain, NULL);
	for (size_t k = 0; k < l->n_chunks && !b->err; k++) {
		if (kernel_has_chain(ks, l->chunks[k].name))
			continue;
		vlnft_emit_chain(b, l->chunks[k].name, NULL);
		if (blind)
			vlnft_emit_flush_chain(b, l->chunks[k].name);
		if (l->chunks[k].shape)
			vlnft_keyed_emit(b, l, &l->chunks[k], blind);
		else
			emit_rules(b, l, l->chunks[k].name, l->chunks[k].first, l->chunks[k].n);
	}
	if (l->n_chunks && ks && ks->known && kernel_has_chain(ks, l->chain)) {
		rewrite_head(b, l, ks);
	} else {
		if (ks)
			vlnft_emit_flush_chain(b, l->chain);
		if (l->n_chunks)
			emit_head(b, l);
		else
			emit_rules(b, l, l->chain, 0, l->n);
	}
	for (size_t i = 0; ks && ks->known && i < ks->n_chains && !b->err; i++)
		if (vlnft_is_chunk_of(ks->chains[i], l->chain) && !layout_has_chunk(l, ks->chains[i])) {
			vlnft_emit_del_chain(b, ks->chains[i]);
			if (vlnft_is_keyed_chunk(ks->chains[i])) /* and its map, which only it used */
				vlnft_emit_del_set(b, ks->chains[i]);
		}
	return b->err;
}

static const enum vl_dir dirs_[2] = {VL_DIR_IN, VL_DIR_OUT};

/* The chains of pair k, for a full commit (ks NULL) or an edit. */
int vlnft_nsg_pair_emit(struct vlnft_ctx *c, struct vlnft_batch *b, size_t k, const struct vlnft_kstate *ks,
			char *why, size_t why_len)
{
	const struct vl_nsg *nsg = &c->lab->nsgs[c->pairs[k].nsg];
	struct vlnft_layout l;
	int err;

	err = vlnft_ctx_scope(c, c->pairs[k].scope, why, why_len);
	for (int d = 0; d < 2 && !err; d++) {
		err = vlnft_layout_nsg(c, nsg, c->pairs[k].scope, dirs_[d], &l, why, why_len);
		if (err)
			return err;
		fill_layout(b, &l, ks);
		vlnft_layout_fini(&l);
		if (b->err) {
			snprintf(why, why_len, "NSG %s: building rules: %s", nsg->name, strerror(-b->err));
			return b->err;
		}
	}
	return err;
}

/* Does the kernel hold a platform chain of NSG nsg (for one of its pairs)? */
static bool kernel_has_platform(const struct vlnft_ctx *c, int nsg, const struct vlnft_kstate *ks)
{
	char chain[VLNFT_CHAIN_NAME_MAX];

	for (size_t k = 0; ks->known && k < c->n_pairs; k++) {
		if (c->pairs[k].nsg != nsg)
			continue;
		vlnft_platform_chain_name(chain, c, c->lab->nsgs[nsg].name, c->pairs[k].scope);
		if (kernel_has_chain(ks, chain))
			return true;
	}
	return false;
}

/* The chains of NSG nsg an edit of directions `dirs` rewrites: one layout per pair and direction. */
struct edit_layouts {
	struct vlnft_layout *v;
	size_t n;
};

static void edit_layouts_fini(struct edit_layouts *e)
{
	for (size_t i = 0; i < e->n; i++)
		vlnft_layout_fini(&e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

static int lay_out_edit(struct vlnft_ctx *c, int nsg, unsigned dirs, struct edit_layouts *e, char *why,
			size_t why_len)
{
	int err = 0;

	memset(e, 0, sizeof(*e));
	e->v = calloc(2 * c->n_pairs + 1, sizeof(*e->v));
	if (!e->v) {
		snprintf(why, why_len, "NSG %s: out of memory", c->lab->nsgs[nsg].name);
		return -ENOMEM;
	}
	for (size_t k = 0; k < c->n_pairs && !err; k++) {
		if (c->pairs[k].nsg != nsg)
			continue;
		err = vlnft_ctx_scope(c, c->pairs[k].scope, why, why_len);
		for (int d = 0; d < 2 && !err; d++)
			if (dirs & (1u << dirs_[d])) {
				err = vlnft_layout_nsg(c, &c->lab->nsgs[nsg], c->pairs[k].scope, dirs_[d],
						       &e->v[e->n], why, why_len);
				if (!err)
					e->n++;
			}
	}
	if (err)
		edit_layouts_fini(e);
	return err;
}

/*
 * The list sets an edit must see: those of the chains it rewrites and, when the kernel has any
 * (some may now be unused), those of every other chain of the fabric, compiled for their lists
 * alone. With none in the kernel, no other chain uses one and none can go.
 */
static int edit_lists(struct vlnft_ctx *c, int nsg, unsigned dirs, const struct edit_layouts *e,
		      const struct vlnft_kstate *ks, struct vlnft_named **out, size_t *n, char *why,
		      size_t why_len)
{
	struct vlnft_lists l = {0};
	int err = 0;

	for (size_t i = 0; i < e->n && !err; i++)
		err = vlnft_lists_add(&l, e->v[i].cr, e->v[i].n);
	if (err)
		snprintf(why, why_len, "list sets: %s", strerror(-err));
	for (size_t k = 0; ks->n_sets && k < c->n_pairs && !err; k++)
		for (int d = 0; d < 2 && !err; d++) {
			if (c->pairs[k].nsg == nsg && (dirs & (1u << dirs_[d])))
				continue; /* laid out above */
			err = vlnft_ctx_scope(c, c->pairs[k].scope, why, why_len);
			if (!err)
				err = vlnft_lists_add_nsg(c, &l, &c->lab->nsgs[c->pairs[k].nsg], dirs_[d],
							  why, why_len);
		}
	if (err) {
		vlnft_lists_fini(&l);
		return err;
	}
	return vlnft_lists_finish(&l, out, n, why, why_len);
}

int vlnft_nsg_edit_build(struct vlnft_ctx *c, int nsg, unsigned dirs, const struct vlnft_kstate *ks,
			 struct vlnft_batch *b, char *why, size_t why_len)
{
	static const struct vlnft_kstate blind = {false, NULL, 0, NULL, 0, -1};
	struct vlnft_named *lists = NULL;
	struct edit_layouts e;
	size_t i, j, n_lists = 0;
	bool had;
	int err = 0;

	if (!ks)
		ks = &blind;
	/* Blind (an offline batch): both directions, the list sets are those of the last full commit;
	 * make and delete none. */
	if (!ks->known) {
		for (i = 0; i < c->n_pairs && !err; i++)
			if (c->pairs[i].nsg == nsg)
				err = vlnft_nsg_pair_emit(c, b, i, ks, why, why_len);
		return err ? err : vlnft_platform_edit(c, b, nsg, false, why, why_len);
	}
	/* Every rule a direction not in dirs holds is as the kernel has it: its chains, and the
	 * platform chains (outbound rules only, vl_rule_is_platform), stay as they are. */
	had = (dirs & VL_NFT_DIR_OUT) && kernel_has_platform(c, nsg, ks);
	err = lay_out_edit(c, nsg, dirs, &e, why, why_len);
	if (err)
		return err;
	err = edit_lists(c, nsg, dirs, &e, ks, &lists, &n_lists, why, why_len);
	if (err) {
		edit_layouts_fini(&e);
		return err;
	}
	/* Both sorted by name: create what the kernel lacks, rules, delete what the lab no longer uses. */
	for (i = j = 0; i < n_lists && !b->err; i++) {
		while (j < ks->n_sets && strcmp(ks->sets[j], lists[i].name) < 0)
			j++;
		if (j == ks->n_sets || strcmp(ks->sets[j], lists[i].name))
			vlnft_emit_list_set(b, &lists[i]);
	}
	for (i = 0; i < e.n && !b->err; i++)
		fill_layout(b, &e.v[i], ks);
	if (b->err)
		snprintf(why, why_len, "NSG %s: building rules: %s", c->lab->nsgs[nsg].name,
			 strerror(-b->err));
	err = b->err;
	edit_layouts_fini(&e);
	if (!err && (dirs & VL_NFT_DIR_OUT))
		err = vlnft_platform_edit(c, b, nsg, had, why, why_len);
	for (i = j = 0; i < ks->n_sets && !err && !b->err; i++) {
		while (j < n_lists && strcmp(lists[j].name, ks->sets[i]) < 0)
			j++;
		if (j == n_lists || strcmp(lists[j].name, ks->sets[i]))
			vlnft_emit_del_set(b, ks->sets[i]);
	}
	vlnft_named_free(lists, n_lists);
	if (!err)
		err = b->err;
	/* A failure while making or dropping list sets has not said so yet. */
	if (err && !why[0])
		snprintf(why, why_len, "NSG %s: list sets: %s", c->lab->nsgs[nsg].name, strerror(-err));
	return err;
}

/* The kernel's chain and list-set names. No table: not known (the edit then fails naming its
 * chain). */
int vlnft_read_kernel(int nsfd, struct vlnft_kstate *ks, char (**chains)[VLNFT_CHAIN_NAME_MAX],
		      char (**sets)[VLNFT_SET_NAME_MAX], char *why, size_t why_len)
{
	int err;

	memset(ks, 0, sizeof(*ks));
	ks->nsfd = nsfd;
	*chains = NULL;
	*sets = NULL;
	err = vlnft_dump_chains(nsfd, chains, &ks->n_chains, why, why_len);
	if (!err)
		err = vlnft_dump_sets(nsfd, sets, &ks->n_sets, why, why_len);
	if (err == -ENOENT) {
		why[0] = '\0';
		return 0;
	}
	if (err)
		return err;
	ks->chains = (const char(*)[VLNFT_CHAIN_NAME_MAX]) * chains;
	ks->sets = (const char(*)[VLNFT_SET_NAME_MAX]) * sets;
	ks->known = true;
	return 0;
}
