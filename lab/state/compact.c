// SPDX-License-Identifier: MIT
/*
 * Compaction of the edit journal. Past its threshold (vl_journal_compact_threshold: a sixteenth
 * of the topology, 4 to 64 KiB) the journal is folded to a
 * snapshot of the lab's edits, at most two records per rule (a delete of the file's rule, then
 * one add or set with every field it now has from the edits), checked by replaying it over the
 * topology copy (the lab must come out the same as with the whole journal, or nothing is
 * rewritten), and written in place of the journal atomically: a temporary file written and
 * fsync'd, renamed over "edits", the directory fsync'd. Under the lab's lock, after an edit's
 * outcome, so the snapshot has no open intent; a crash before the rename leaves the old journal
 * (and a stale temporary file the next compaction truncates), after it the new one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetlab/journal.h"
#include "vnetlab/state.h"

void (*vl_journal_crash_hook)(const char *step);

static void crash_point(const char *step)
{
	if (vl_journal_crash_hook)
		vl_journal_crash_hook(step);
}

static int copy_edit(struct vl_rule_edit *d, const struct vl_rule_edit *s)
{
	int rc = 0;

	memset(d, 0, sizeof(*d));
	d->kind = s->kind;
	d->nsg = strdup(s->nsg);
	d->rule = strdup(s->rule);
	if (!d->nsg || !d->rule)
		return -ENOMEM;
	for (size_t i = 0; i < s->keys.n && !rc; i++) {
		rc = vl_strv_push(&d->keys, s->keys.v[i]);
		rc = rc ?: vl_strv_push(&d->values, s->values.v[i]);
	}
	return rc;
}

/* A singular field and its plural set one rule field each: the one given last decides both. */
static const char *partner(const char *key)
{
	static const char *const pairs[][2] = {
	    {"sourceAddressPrefix", "sourceAddressPrefixes"},
	    {"destinationAddressPrefix", "destinationAddressPrefixes"},
	    {"sourcePortRange", "sourcePortRanges"},
	    {"destinationPortRange", "destinationPortRanges"},
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(*pairs); i++)
		for (int k = 0; k < 2; k++)
			if (!strcasecmp(key, pairs[i][k]))
				return pairs[i][!k];
	return NULL;
}

static void drop_key(struct vl_rule_edit *d, const char *key)
{
	for (size_t k = 0; key && k < d->keys.n; k++) {
		if (strcasecmp(d->keys.v[k], key))
			continue;
		free(d->keys.v[k]);
		free(d->values.v[k]);
		memmove(&d->keys.v[k], &d->keys.v[k + 1], (d->keys.n - k - 1) * sizeof(char *));
		memmove(&d->values.v[k], &d->values.v[k + 1], (d->values.n - k - 1) * sizeof(char *));
		d->keys.n--;
		d->values.n--;
		return;
	}
}

/*
 * s's fields into d: a field d has already takes s's value in place, a new one goes last, and
 * the other of a singular/plural pair goes (it would otherwise be applied after the later one).
 */
static int merge_keys(struct vl_rule_edit *d, const struct vl_rule_edit *s)
{
	for (size_t i = 0; i < s->keys.n; i++) {
		size_t k;

		drop_key(d, partner(s->keys.v[i]));
		for (k = 0; k < d->keys.n && strcasecmp(d->keys.v[k], s->keys.v[i]); k++)
			;
		if (k < d->keys.n) {
			char *v = strdup(s->values.v[i]);

			if (!v)
				return -ENOMEM;
			free(d->values.v[k]);
			d->values.v[k] = v;
		} else if (vl_strv_push(&d->keys, s->keys.v[i]) || vl_strv_push(&d->values, s->values.v[i])) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* The net edits of one rule so far: an optional delete of the file's rule, then an add or set. */
struct net {
	const char *nsg, *rule;
	bool del;
	bool has; /* edit holds an add or a set */
	struct vl_rule_edit edit;
	size_t first;	 /* where the rule was first edited */
	size_t last_add; /* where it was last added */
};

/*
 * The snapshot's order: a rule the edits end with adding goes where it was last added (adds go
 * last in an NSG, so the NSG's rules come out in the order the journal gave them); the others,
 * whose place in the NSG no edit changes, where they were first edited.
 */
static size_t net_key(const struct net *n)
{
	return n->has && n->edit.kind == VL_EDIT_ADD ? n->last_add : n->first;
}

static int net_cmp(const void *a, const void *b)
{
	size_t x = net_key(a), y = net_key(b);

	return x < y ? -1 : x > y;
}

static int fold_one(struct net *n, const struct vl_rule_edit *e)
{
	switch (e->kind) {
	case VL_EDIT_DELETE:
		/* added here and deleted again: nothing; set then deleted: the file's rule deleted */
		if (n->has && n->edit.kind == VL_EDIT_ADD && !n->del) {
			vl_rule_edit_clear(&n->edit);
			n->has = false;
			return 0;
		}
		if (n->has)
			vl_rule_edit_clear(&n->edit);
		n->has = false;
		n->del = true;
		return 0;
	case VL_EDIT_ADD:
	case VL_EDIT_SET:
		if (!n->has) {
			n->has = true;
			return copy_edit(&n->edit, e);
		}
		return merge_keys(&n->edit, e); /* a set of an added rule stays an add */
	}
	return -EINVAL;
}

static size_t hash_ci(size_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 1099511628211u;
	return h;
}

/* The net entry of e's rule in idx (net index + 1, 0 empty): found, or the free slot for it. */
static size_t net_slot(const struct net *v, const size_t *idx, size_t mask, const struct vl_rule_edit *e)
{
	size_t at = hash_ci(hash_ci(1469598103934665603u, e->nsg) * 31, e->rule) & mask;

	while (idx[at] &&
	       (strcasecmp(v[idx[at] - 1].nsg, e->nsg) || strcasecmp(v[idx[at] - 1].rule, e->rule)))
		at = (at + 1) & mask;
	return at;
}

int vl_journal_fold(const struct vl_journal *j, struct vl_journal *out)
{
	struct net *v = calloc(j->n ? j->n : 1, sizeof(*v));
	size_t n = 0, slots = 16, *idx;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	/* rules found by a hash of their names: a journal of many rules folds in one pass */
	while (slots < 2 * (j->n + 1))
		slots *= 2;
	idx = calloc(slots, sizeof(*idx));
	if (!v || !idx) {
		free(v);
		free(idx);
		return -ENOMEM;
	}
	if (j->pending)
		rc = -EBUSY; /* an open intent is the journal's to roll forward, not the snapshot's */
	for (size_t i = 0; i < j->n && !rc; i++) {
		const struct vl_rule_edit *e = &j->edits[i];
		size_t at = net_slot(v, idx, slots - 1, e), k;

		if (!idx[at]) {
			v[n] = (struct net){.nsg = e->nsg, .rule = e->rule, .first = i};
			idx[at] = ++n;
		}
		k = idx[at] - 1;
		if (e->kind == VL_EDIT_ADD)
			v[k].last_add = i;
		rc = fold_one(&v[k], e);
	}
	free(idx);
	if (!rc && n > 1)
		qsort(v, n, sizeof(*v), net_cmp);
	out->edits = calloc(2 * n + 1, sizeof(*out->edits));
	if (!out->edits && !rc)
		rc = -ENOMEM;
	for (size_t k = 0; k < n && !rc; k++) {
		if (v[k].del) {
			struct vl_rule_edit *d = &out->edits[out->n++];

			d->kind = VL_EDIT_DELETE;
			d->nsg = strdup(v[k].nsg);
			d->rule = strdup(v[k].rule);
			if (!d->nsg || !d->rule)
				rc = -ENOMEM;
		}
		if (v[k].has && !rc) {
			out->edits[out->n++] = v[k].edit;
			v[k].has = false;
		}
	}
	for (size_t k = 0; k < n; k++)
		if (v[k].has)
			vl_rule_edit_clear(&v[k].edit);
	free(v);
	if (rc)
		vl_journal_clear(out);
	return rc;
}

int vl_journal_format(const struct vl_journal *j, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int rc = 0;

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < j->n && !rc; i++) {
		char *line = NULL;
		size_t n = 0;

		rc = vl_journal_format_intent(&j->edits[i], &line, &n);
		/* a record without "intent" counts as done: half the bytes of intent + done */
		if (!rc && fwrite(line + 7, 1, n - 7, f) != n - 7)
			rc = -ENOMEM;
		free(line);
	}
	if (fclose(f) && !rc)
		rc = -ENOMEM;
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ENOSPC;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int vl_journal_rewrite(const char *lab, const char *text, size_t len)
{
	char dir[256], tmp[300], path[300];
	int fd, dfd, rc;

	vl_state_dir(dir, sizeof(dir), lab);
	snprintf(tmp, sizeof(tmp), "%s/edits.tmp", dir);
	snprintf(path, sizeof(path), "%s/edits", dir);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, text, len);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	crash_point("written");
	if (rename(tmp, path) < 0) {
		rc = -errno;
		unlink(tmp);
		return rc;
	}
	crash_point("renamed");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	rc = fsync(dfd) < 0 ? -errno : 0;
	close(dfd);
	return rc;
}

int vl_state_compact_edits(const char *lab, const struct vl_lab *now, size_t threshold)
{
	struct vl_journal j = {0}, snap = {0};
	struct vl_strv diffs = {0};
	struct vl_lab *check = NULL;
	struct vl_error err = {0};
	char *text = NULL;
	size_t len = 0;
	int rc = vl_journal_load(lab, &j);

	if (rc || j.good_len <= threshold || j.pending || j.torn)
		goto out;
	rc = vl_journal_fold(&j, &snap);
	if (!rc)
		rc = vl_journal_format(&snap, &text, &len);
	/* not worth a rewrite (a lab whose edits are that many rules): leave it */
	if (rc || len > j.good_len / 2)
		goto out;
	/* The snapshot must make the same lab as the whole journal, or it is not written. */
	rc = vl_state_load_lab_as_built(lab, &check, &err);
	if (!rc)
		rc = vl_lab_apply_edits(check, snap.edits, snap.n, &err);
	if (!rc)
		rc = vl_lab_diff(check, now, &diffs);
	if (!rc && diffs.n)
		rc = -EILSEQ;
	if (!rc)
		rc = vl_journal_rewrite(lab, text, len);
out:
	vl_strv_free(&diffs);
	vl_lab_free(check);
	free(text);
	vl_journal_clear(&snap);
	vl_journal_clear(&j);
	return rc;
}

size_t vl_journal_compact_threshold(size_t topology_bytes)
{
	size_t t = topology_bytes / VL_JOURNAL_COMPACT_SHARE;

	return t < VL_JOURNAL_COMPACT_MIN     ? VL_JOURNAL_COMPACT_MIN
	       : t > VL_JOURNAL_COMPACT_BYTES ? VL_JOURNAL_COMPACT_BYTES
					      : t;
}

size_t vl_state_compact_threshold(const char *lab)
{
	static const char *const files[] = {"topology", "imports"};
	char dir[256], path[300];
	size_t bytes = 0;
	struct stat st;

	vl_state_dir(dir, sizeof(dir), lab);
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &st) == 0)
			bytes += (size_t)st.st_size;
		else if (i == 0)
			return VL_JOURNAL_COMPACT_BYTES;
	}
	return vl_journal_compact_threshold(bytes);
}
