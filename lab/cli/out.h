/* SPDX-License-Identifier: MIT */
/*
 * The one writer of what a verb reports. A verb builds its result once, as a jansson tree
 * (json_t), and hands it to out_emit() with the format the user chose with -o/--output;
 * out_emit() renders it as az does:
 *   json   indented by 2 spaces, keys in the order the verb added them;
 *   jsonc  the same, coloured when stdout is a terminal;
 *   tsv    no header; a list gives one line per item, an object one line; a line holds the
 *          values of an object in order, tab-separated (a nested list as its length, a nested
 *          object as an empty field, null as None, booleans as True/False);
 *   yaml   block style (libyaml's emitter);
 *   none   nothing (the verb's exit status still tells).
 * `table` is the verb's own: it prints its table (out_table helps) and does not call out_emit.
 * Strings are made valid UTF-8 when they enter the tree (out_str: a bad byte becomes U+FFFD);
 * control characters are escaped in every format.
 *
 * A verb in four lines:
 *	enum out_fmt fmt = OUT_TABLE;
 *	case 'o': if (out_parse(optarg, &fmt)) return usage("verb"); break;   (getopt "o:", "output")
 *	json_t *doc = json_object(); out_set(doc, "name", out_str(name)); …
 *	if (fmt != OUT_TABLE) rc = out_emit(doc, fmt, NULL); else print the table; json_decref(doc);
 */
#ifndef VNETLAB_CLI_OUT_H
#define VNETLAB_CLI_OUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "vnetlab/model.h"

enum out_fmt { OUT_TABLE, OUT_JSON, OUT_JSONC, OUT_TSV, OUT_YAML, OUT_NONE };

/* "table", "json", "jsonc", "tsv", "yaml" or "none" into *fmt; -1 (and *fmt unchanged) otherwise. */
int out_parse(const char *v, enum out_fmt *fmt);
/* The -o/--output words, for usage lines and completion. */
#define OUT_FORMATS "table|json|jsonc|tsv|yaml|none"

/*
 * Values for the tree. Each returns a new reference (NULL only when out of memory; out_set and
 * out_add accept NULL and then do nothing). out_str(NULL) is null.
 */
json_t *out_str(const char *s);
json_t *out_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
json_t *out_int(long long v);
json_t *out_bool(bool v);
json_t *out_real(double v);		    /* printed with at most 10 significant digits */
json_t *out_strv(const struct vl_strv *sv); /* a list of strings */
/* obj[key] = v, after the keys already there; takes v's reference. */
void out_set(json_t *obj, const char *key, json_t *v);
/* Appends v to the list arr; takes v's reference. */
void out_add(json_t *arr, json_t *v);

/*
 * Render doc on stdout as fmt (not OUT_TABLE). tsv_rows, when not NULL, names a list member of
 * doc whose items are the TSV lines (e.g. "value" of an effective route table); else az's rule
 * applies to doc itself. 0, or -errno when writing failed. doc stays the caller's.
 */
int out_emit(const json_t *doc, enum out_fmt fmt, const char *tsv_rows);
/* The same on any stream; colour (jsonc) only when f is a terminal. */
int out_write(FILE *f, const json_t *doc, enum out_fmt fmt, const char *tsv_rows);

/*
 * One record of a stream on f (e.g. `flows --follow`), each readable as it comes: json and jsonc
 * as one compact line (JSON Lines; colour only on a terminal), tsv as one line, yaml as one
 * document that starts with "---", none as nothing; table is the verb's own (json here). Flushed.
 * 0, or -errno when writing failed. rec stays the caller's.
 */
int out_record(FILE *f, const json_t *rec, enum out_fmt fmt);

/*
 * An az-style text table: a header line, a line of dashes, then the rows; each column as wide as
 * its widest cell and at least its header and 2, two spaces between columns, no trailing blanks. Cells are copied (NULL is
 * empty) with control characters escaped.
 */
struct out_table;
struct out_table *out_table_new(size_t ncols, const char *const *headers);
/* One row of ncols cells; -ENOMEM. */
int out_table_row(struct out_table *t, const char *const *cells);
void out_table_print(const struct out_table *t, FILE *f);
void out_table_free(struct out_table *t);

#endif
