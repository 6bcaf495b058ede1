// SPDX-License-Identifier: MIT
/* libFuzzer target: the edit journal's text → vl_journal_parse; what parses formats and parses back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vnetlab/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_edit(const struct vl_rule_edit *a, const struct vl_rule_edit *b)
{
	if (a->kind != b->kind || strcmp(a->nsg, b->nsg) || strcmp(a->rule, b->rule) || a->keys.n != b->keys.n ||
	    a->values.n != b->values.n)
		abort();
	for (size_t i = 0; i < a->keys.n; i++)
		if (strcmp(a->keys.v[i], b->keys.v[i]) || strcmp(a->values.v[i], b->values.v[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_journal j, back;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (vl_journal_parse((const char *)data, size, &j)) {
		if (j.n || j.edits || !j.line)
			abort();
		return 0;
	}
	if (j.good_len > size || j.torn != (j.good_len < size) || (j.pending && !j.n))
		abort();
	f = open_memstream(&text, &len);
	for (size_t i = 0; i < j.n; i++) {
		char *line;
		size_t n;

		if (vl_journal_format_intent(&j.edits[i], &line, &n))
			abort();
		if (!n || line[n - 1] != '\n' || memchr(line, '\n', n - 1))
			abort(); /* one record, one line, whatever the values hold */
		fwrite(line, 1, n, f);
		fputs("done\n", f);
		free(line);
	}
	fclose(f);
	/* an empty field (e.g. "set\t\t\t") cannot be written back: strtok_r skips it; skip those */
	if (!vl_journal_parse(text, len, &back)) {
		if (back.n != j.n || back.pending || back.torn)
			abort();
		for (size_t i = 0; i < j.n; i++)
			same_edit(&j.edits[i], &back.edits[i]);
		vl_journal_clear(&back);
	}
	free(text);
	vl_journal_clear(&j);
	return 0;
}
