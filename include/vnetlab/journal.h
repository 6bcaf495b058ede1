/* SPDX-License-Identifier: MIT */
/*
 * The live-edit journal of a lab (lab/state/journal.c): write-ahead records,
 * replayed over the topology copy by vl_state_load_lab.
 */
#ifndef VNETLAB_JOURNAL_H
#define VNETLAB_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "vnetlab/model.h"

struct vl_journal {
	struct vl_rule_edit *edits; /* committed edits, in order; the last one pending if pending */
	size_t n;
	bool pending;	 /* the last edit has an intent and no outcome: roll it forward */
	bool torn;	 /* the text ends in a partial record (ignored) */
	size_t good_len; /* bytes of whole records */
	size_t line;	 /* on -EINVAL: the bad record's line */
};

/* Parse a journal's text (pure). 0, -EINVAL (j->line says where) or -ENOMEM. */
int vl_journal_parse(const char *buf, size_t len, struct vl_journal *j);
void vl_journal_clear(struct vl_journal *j);
/* The intent record of e, one line with its newline (malloc'd). */
int vl_journal_format_intent(const struct vl_rule_edit *e, char **line, size_t *len);
/* Read the lab's journal; an absent one is empty. */
int vl_journal_load(const char *lab, struct vl_journal *j);
/*
 * Under the lab's lock: append e's intent (cutting off a torn tail that now reports), or the
 * outcome of the open intent. Each is one write and an fsync.
 */
int vl_journal_intent(const char *lab, const struct vl_rule_edit *e, const struct vl_journal *now);
int vl_journal_outcome(const char *lab, bool done);

/*
 * Compaction (lab/state/compact.c). Past a threshold, an edit leaves the journal as a snapshot of
 * the lab's edits (vl_state_compact_edits). The threshold is a sixteenth of the topology the
 * journal is replayed over (the copy and its imports), kept within these bounds: replaying the
 * journal then costs a small part of loading the topology (a journal byte replays in about half
 * the time a topology byte loads in), and a compaction, which costs about one load, comes once
 * per that many bytes of edits, so neither grows with the number of edits made.
 */
#define VL_JOURNAL_COMPACT_SHARE 16
#define VL_JOURNAL_COMPACT_MIN (4u << 10)
#define VL_JOURNAL_COMPACT_BYTES (64u << 10)
/* The threshold for a topology of that many bytes (pure). */
size_t vl_journal_compact_threshold(size_t topology_bytes);
/*
 * The net edits of j, at most two per rule (a delete, then one add or set with the fields the
 * edits gave it), in the order rules were first edited, except that a rule the edits end with
 * adding goes where it was last added, so an NSG's rules replay in the journal's order (pure).
 * -EBUSY with an open intent.
 */
int vl_journal_fold(const struct vl_journal *j, struct vl_journal *out);
/* j as journal text: one record per edit, each counting as done (malloc'd). */
int vl_journal_format(const struct vl_journal *j, char **buf, size_t *len);
/*
 * Under the lab's lock: replace the journal with text atomically (a temporary file written and
 * fsync'd, renamed over it, the directory fsync'd). 0 or -errno; the old journal stays on failure.
 */
int vl_journal_rewrite(const char *lab, const char *text, size_t len);
/* Tests: called at "written" (temporary file complete) and "renamed" (journal replaced). */
extern void (*vl_journal_crash_hook)(const char *step);
#endif
