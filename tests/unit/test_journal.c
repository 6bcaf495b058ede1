// SPDX-License-Identifier: MIT
/* The edit journal's records (pure): write-ahead outcomes, torn tails, legacy lines, garbage. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/journal.h"

static struct vl_journal parse_ok(const char *text)
{
	struct vl_journal j;
	int rc = vl_journal_parse(text, strlen(text), &j);

	cr_assert_eq(rc, 0, "parse failed (%d) at line %zu: %s", rc, j.line, text);
	return j;
}

Test(journal, done_applies_abort_does_not)
{
	struct vl_journal j = parse_ok("intent\tset\tn\tr\tpriority=200\ndone\n"
				       "intent\tadd\tn\tx\tpriority=300\nabort\n"
				       "intent\tdelete\tn\tr\ndone\n");

	cr_assert_eq(j.n, 2);
	cr_assert_eq(j.edits[0].kind, VL_EDIT_SET);
	cr_assert_str_eq(j.edits[0].values.v[0], "200");
	cr_assert_eq(j.edits[1].kind, VL_EDIT_DELETE);
	cr_assert_not(j.pending);
	cr_assert_not(j.torn);
	vl_journal_clear(&j);
}

Test(journal, intent_without_outcome_is_pending_and_rolled_forward)
{
	struct vl_journal j = parse_ok("intent\tset\tn\tr\tpriority=200\ndone\nintent\tset\tn\tr\tpriority=300\n");

	cr_assert_eq(j.n, 2);
	cr_assert(j.pending);
	cr_assert_str_eq(j.edits[1].values.v[0], "300");
	vl_journal_clear(&j);
}

Test(journal, torn_last_line_is_ignored_and_measured)
{
	const char *text = "intent\tset\tn\tr\tpriority=200\ndone\nintent\tset\tn\tr\tprio";
	struct vl_journal j = parse_ok(text);

	cr_assert_eq(j.n, 1);
	cr_assert_not(j.pending);
	cr_assert(j.torn);
	cr_assert_eq(j.good_len, strlen("intent\tset\tn\tr\tpriority=200\ndone\n"));
	vl_journal_clear(&j);
	/* a torn "done": the intent is pending, to be committed again */
	j = parse_ok("intent\tset\tn\tr\tpriority=200\ndo");
	cr_assert(j.pending);
	cr_assert(j.torn);
	vl_journal_clear(&j);
}

Test(journal, legacy_lines_count_as_done)
{
	struct vl_journal j = parse_ok("set\tn\tr\tpriority=200\nadd\tn\tx\tpriority=300\taccess=Deny\n");

	cr_assert_eq(j.n, 2);
	cr_assert_not(j.pending);
	vl_journal_clear(&j);
}

Test(journal, garbage_is_refused_with_its_line)
{
	static const char *const bad[] = {"done\n", "intent\tset\tn\tr\nintent\tset\tn\tr\n", "frob\tn\tr\n",
					  "set\tn\n", "set\tn\tr\tnokey\n", "ok\nset\tn\tr\n"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vl_journal j;

		cr_expect_eq(vl_journal_parse(bad[i], strlen(bad[i]), &j), -EINVAL, "accepted: %s", bad[i]);
		cr_expect_gt(j.line, 0, "no line for: %s", bad[i]);
	}
}

Test(journal, format_parses_back_with_escapes)
{
	struct vl_rule_edit e = {.kind = VL_EDIT_ADD, .nsg = "n\tg", .rule = "r\\1"};
	struct vl_journal j;
	char *line, *text;
	size_t len;

	vl_strv_push(&e.keys, "description");
	vl_strv_push(&e.values, "two\nlines\r=x");
	cr_assert_eq(vl_journal_format_intent(&e, &line, &len), 0);
	cr_assert_eq(line[len - 1], '\n');
	cr_assert_null(memchr(line, '\n', len - 1));
	cr_assert(asprintf(&text, "%sdone\n", line) > 0);
	j = parse_ok(text);
	cr_assert_eq(j.n, 1);
	cr_assert_str_eq(j.edits[0].nsg, "n\tg");
	cr_assert_str_eq(j.edits[0].rule, "r\\1");
	cr_assert_str_eq(j.edits[0].values.v[0], "two\nlines\r=x");
	vl_journal_clear(&j);
	vl_strv_free(&e.keys);
	vl_strv_free(&e.values);
	free(line);
	free(text);
}

/* Compaction: what the snapshot of a journal keeps, per rule. */
static char *folded(const char *text)
{
	struct vl_journal j = parse_ok(text), f;
	char *out = NULL;
	size_t len = 0;

	cr_assert_eq(vl_journal_fold(&j, &f), 0);
	cr_assert_eq(vl_journal_format(&f, &out, &len), 0);
	vl_journal_clear(&j);
	vl_journal_clear(&f);
	return out;
}

Test(journal_compact, sets_merge_last_value_wins)
{
	char *t = folded("intent\tset\tn\tr\tpriority=200\ndone\n"
			 "intent\tset\tn\tr\tpriority=300\taccess=Deny\ndone\n"
			 "intent\tset\tn\tq\tpriority=310\ndone\n"
			 "intent\tset\tN\tR\tpriority=400\ndone\n");

	/* names are case-insensitive, as the model finds them; the first spelling is kept */
	cr_assert_str_eq(t, "set\tn\tr\tpriority=400\taccess=Deny\nset\tn\tq\tpriority=310\n");
	free(t);
}

Test(journal_compact, added_then_deleted_is_nothing_deleted_then_added_stays_both)
{
	char *t = folded("intent\tadd\tn\tx\tpriority=300\tprotocol=Udp\ndone\n"
			 "intent\tset\tn\tx\tpriority=301\ndone\n"
			 "intent\tdelete\tn\tx\ndone\n"
			 "intent\tdelete\tn\tr\ndone\n"
			 "intent\tadd\tn\tr\tpriority=100\ndone\n"
			 "intent\tset\tn\tr\tdestinationPortRange=80\ndone\n"
			 "intent\tset\tn\ts\tpriority=120\ndone\n"
			 "intent\tdelete\tn\ts\ndone\n");

	cr_assert_str_eq(t, "delete\tn\tr\nadd\tn\tr\tpriority=100\tdestinationPortRange=80\ndelete\tn\ts\n");
	free(t);
}

Test(journal_compact, aborted_edits_are_gone_and_the_snapshot_parses_back)
{
	const char *text = "intent\tset\tn\tr\tpriority=200\ndone\nintent\tset\tn\tr\tpriority=999\nabort\n"
			   "intent\tset\tn\tr\tdescription=a\\tb\ndone\n";
	char *t = folded(text);
	struct vl_journal back = parse_ok(t);

	cr_assert_eq(back.n, 1);
	cr_assert_str_eq(back.edits[0].values.v[0], "200");
	cr_assert_str_eq(back.edits[0].values.v[1], "a\tb", "escapes survive the rewrite");
	cr_assert_not(back.pending);
	vl_journal_clear(&back);
	free(t);
}

Test(journal_compact, an_open_intent_is_not_folded)
{
	struct vl_journal j = parse_ok("intent\tset\tn\tr\tpriority=200\n"), f;

	cr_assert_eq(vl_journal_fold(&j, &f), -EBUSY);
	vl_journal_clear(&j);
}

/* Two thousand edits of a few rules fold to a few records. */
Test(journal_compact, many_edits_fold_small)
{
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap), *t;

	for (int i = 0; i < 2000; i++)
		len += (size_t)snprintf(text + len, cap - len, "intent\tset\tn\tr%d\tpriority=%d\ndone\n", i % 3,
					200 + i);
	t = folded(text);
	cr_assert_str_eq(t, "set\tn\tr0\tpriority=2198\nset\tn\tr1\tpriority=2199\nset\tn\tr2\tpriority=2197\n");
	free(t);
	free(text);
}

/* A singular field and its plural are one rule field: the one set last decides it in the snapshot. */
Test(journal_compact, singular_and_plural_fold_to_the_last_given)
{
	char *t =
	    folded("intent\tset\tn\tr\tsourceAddressPrefix=*\tdestinationPortRanges=80 443\ndone\n"
		   "intent\tset\tn\tr\tsourceAddressPrefixes=10.0.0.0/8 10.1.0.0/16\ndone\n"
		   "intent\tset\tn\tr\tsourceAddressPrefix=10.2.0.0/16\tdestinationPortRange=22\ndone\n");

	cr_assert_str_eq(t, "set\tn\tr\tsourceAddressPrefix=10.2.0.0/16\tdestinationPortRange=22\n");
	free(t);
}
