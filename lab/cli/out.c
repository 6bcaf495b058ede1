// SPDX-License-Identifier: MIT
/* The one writer of the verbs' results: a jansson tree rendered as json, jsonc, tsv or yaml (out.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "cli.h"
#include "out.h"

int out_parse(const char *v, enum out_fmt *fmt)
{
	static const char *const names[] = {
	    [OUT_TABLE] = "table", [OUT_JSON] = "json", [OUT_JSONC] = "jsonc",
	    [OUT_TSV] = "tsv",	   [OUT_YAML] = "yaml", [OUT_NONE] = "none",
	};

	for (size_t i = 0; v && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(v, names[i])) {
			*fmt = (enum out_fmt)i;
			return 0;
		}
	return -1;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *s)
{
	size_t n = s[0] < 0x80			  ? 1
		   : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
		   : s[0] >= 0xe0 && s[0] <= 0xef ? 3
		   : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
						  : 0;

	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) || (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0; /* overlong, surrogate or past U+10FFFF */
	return n;
}

json_t *out_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, n = 0;
	json_t *v;
	char *buf;

	if (!s)
		return json_null();
	len = strlen(s);
	buf = malloc(len * 3 + 1); /* each bad byte becomes the 3 bytes of U+FFFD */
	if (!buf)
		return NULL;
	while (*p) {
		size_t k = utf8_len(p);

		if (k) {
			memcpy(buf + n, p, k);
			n += k;
			p += k;
		} else {
			memcpy(buf + n, "\xef\xbf\xbd", 3);
			n += 3;
			p++;
		}
	}
	v = json_stringn(buf, n);
	free(buf);
	return v;
}

json_t *out_strf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	json_t *v;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	v = out_str(s);
	free(s);
	return v;
}

json_t *out_int(long long v)
{
	return json_integer(v);
}

json_t *out_bool(bool v)
{
	return json_boolean(v);
}

json_t *out_real(double v)
{
	return json_real(v);
}

json_t *out_strv(const struct vl_strv *sv)
{
	json_t *a = json_array();

	for (size_t i = 0; a && sv && i < sv->n; i++)
		out_add(a, out_str(sv->v[i]));
	return a;
}

void out_set(json_t *obj, const char *key, json_t *v)
{
	if (obj && v)
		json_object_set_new(obj, key, v);
	else
		json_decref(v);
}

void out_add(json_t *arr, json_t *v)
{
	if (arr && v)
		json_array_append_new(arr, v);
	else
		json_decref(v);
}

/* ---- json, jsonc ---- */

/*
 * jansson escapes what JSON requires; DEL and the C1 controls (U+0080-U+009F) are legal in a
 * JSON string but act on a terminal: escape them too. They can only be inside strings.
 */
static int put_json_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == 0x7f)
			fputs("\\u007f", f);
		else if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f)
			fprintf(f, "\\u%04x", (unsigned char)*++s);
		else
			fputc(c, f);
	}
	return 0;
}

#define C_KEY "\033[94m"
#define C_STR "\033[32m"
#define C_NUM "\033[36m"
#define C_LIT "\033[35m"
#define C_OFF "\033[0m"

/* The dumped text with keys, strings, numbers and literals coloured (the text is jansson's). */
static void put_json_colour(FILE *f, const char *s)
{
	while (*s) {
		if (*s == '"') {
			const char *e = s + 1, *after;
			char *piece;

			while (*e && *e != '"')
				e += *e == '\\' && e[1] ? 2 : 1;
			if (*e)
				e++;
			for (after = e; *after == ' '; after++)
				;
			piece = strndup(s, (size_t)(e - s));
			fputs(*after == ':' ? C_KEY : C_STR, f);
			put_json_text(f, piece ? piece : "");
			fputs(C_OFF, f);
			free(piece);
			s = e;
		} else if (*s == '-' || (*s >= '0' && *s <= '9')) {
			size_t n = strspn(s, "-+.0123456789eE");

			fprintf(f, C_NUM "%.*s" C_OFF, (int)n, s);
			s += n;
		} else if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4) || !strncmp(s, "false", 5)) {
			size_t n = s[0] == 'f' ? 5 : 4;

			fprintf(f, C_LIT "%.*s" C_OFF, (int)n, s);
			s += n;
		} else {
			fputc(*s++, f);
		}
	}
}

static int write_json(FILE *f, const json_t *doc, bool colour, bool line)
{
	char *s = json_dumps(doc, (line ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER |
				      JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));

	if (!s)
		return -ENOMEM;
	if (colour)
		put_json_colour(f, s);
	else
		put_json_text(f, s);
	fputc('\n', f);
	free(s);
	return 0;
}

/* ---- tsv ---- */

/* A field: tabs, newlines and other control characters escaped so a line stays a line. */
static void tsv_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\t')
			fputs("\\t", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else if (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] <= 0x9f)
			fprintf(f, "\\x%02x", (unsigned char)*++s);
		else
			fputc(c, f);
	}
}

/* One value in a field, as az's tsv writes it. */
static void tsv_value(FILE *f, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_ARRAY:
		fprintf(f, "%zu", json_array_size(v));
		break;
	case JSON_OBJECT:
		break;
	case JSON_STRING:
		tsv_text(f, json_string_value(v));
		break;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(f, "%.10g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("True", f);
		break;
	case JSON_FALSE:
		fputs("False", f);
		break;
	case JSON_NULL:
		fputs("None", f);
		break;
	}
}

static void tsv_line(FILE *f, const json_t *v)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		bool first = true;

		json_object_foreach((json_t *)v, k, x)
		{
			if (!first)
				fputc('\t', f);
			first = false;
			tsv_value(f, x);
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				fputc('\t', f);
			tsv_value(f, json_array_get(v, i));
		}
	} else {
		tsv_value(f, v);
	}
	fputc('\n', f);
}

static int write_tsv(FILE *f, const json_t *doc, const char *rows)
{
	const json_t *list = rows && json_is_object(doc) ? json_object_get(doc, rows) : doc;

	if (!json_is_array(list)) {
		tsv_line(f, list ? list : doc);
		return 0;
	}
	for (size_t i = 0; i < json_array_size(list); i++)
		tsv_line(f, json_array_get(list, i));
	return 0;
}

/* ---- yaml ---- */

/* A string that a plain scalar would turn into something else (a number, a boolean, null). */
static bool needs_quotes(const char *s)
{
	static const char *const words[] = {"null", "~", "true", "false", "yes", "no", "on", "off", "y", "n"};
	char *end;

	if (!*s)
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	strtod(s, &end);
	if (!*end || !strcmp(s, ".inf") || !strcasecmp(s, ".nan") || !strcasecmp(s, "-.inf"))
		return true;
	/* YAML 1.1 timestamps (2026-12-01, 2026-12-01T15:01:12.884Z) and base-60 numbers (1:20) */
	if (strspn(s, "0123456789") == 4 && s[4] == '-' && s[5] >= '0' && s[5] <= '9')
		return true;
	if (strchr(s, ':') && s[strspn(s, "+-")] >= '0' && s[strspn(s, "+-")] <= '9' &&
	    !s[strspn(s, "+-0123456789_:.")])
		return true;
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'o'); /* YAML 1.1/1.2 hex and octal */
}

static int y_scalar(yaml_emitter_t *em, const char *s, bool quote)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)s, (int)strlen(s),
				     !quote, 1,
				     quote ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
	return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
}

static int y_value(yaml_emitter_t *em, const json_t *v)
{
	yaml_event_t ev;
	char num[64];
	int r = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;

		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		if (!yaml_emitter_emit(em, &ev))
			return -EIO;
		json_object_foreach((json_t *)v, k, x)
		{
			if ((r = y_scalar(em, k, needs_quotes(k))) || (r = y_value(em, x)))
				return r;
		}
		yaml_mapping_end_event_initialize(&ev);
		return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
	}
	case JSON_ARRAY:
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		if (!yaml_emitter_emit(em, &ev))
			return -EIO;
		for (size_t i = 0; !r && i < json_array_size(v); i++)
			r = y_value(em, json_array_get(v, i));
		if (r)
			return r;
		yaml_sequence_end_event_initialize(&ev);
		return yaml_emitter_emit(em, &ev) ? 0 : -EIO;
	case JSON_STRING:
		return y_scalar(em, json_string_value(v), needs_quotes(json_string_value(v)));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.10g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(num, sizeof(num), "true");
		break;
	case JSON_FALSE:
		snprintf(num, sizeof(num), "false");
		break;
	case JSON_NULL:
		snprintf(num, sizeof(num), "null");
		break;
	}
	return y_scalar(em, num, false);
}

/* A stream of one document; its "---" written when the document is one record of several. */
static int write_yaml(FILE *f, const json_t *doc, bool record)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	int r = -EIO;

	if (!yaml_emitter_initialize(&em))
		return -ENOMEM;
	yaml_emitter_set_output_file(&em, f);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	if (!yaml_emitter_emit(&em, &ev))
		goto out;
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, !record);
	if (!yaml_emitter_emit(&em, &ev) || y_value(&em, doc))
		goto out;
	yaml_document_end_event_initialize(&ev, 1);
	if (!yaml_emitter_emit(&em, &ev))
		goto out;
	yaml_stream_end_event_initialize(&ev);
	if (!yaml_emitter_emit(&em, &ev) || !yaml_emitter_flush(&em))
		goto out;
	r = 0;
out:
	yaml_emitter_delete(&em);
	return r;
}

/* A document (record false) or one record of a stream. */
static int write_any(FILE *f, const json_t *doc, enum out_fmt fmt, const char *tsv_rows, bool record)
{
	int r = 0;

	switch (fmt) {
	case OUT_TABLE: /* the verb's own; json is the fallback of a verb without a table */
	case OUT_JSON:
		r = write_json(f, doc, false, record);
		break;
	case OUT_JSONC:
		r = write_json(f, doc, isatty(fileno(f)), record);
		break;
	case OUT_TSV:
		if (record)
			tsv_line(f, doc);
		else
			r = write_tsv(f, doc, tsv_rows);
		break;
	case OUT_YAML:
		r = write_yaml(f, doc, record);
		break;
	case OUT_NONE:
		break;
	}
	if (!r && fflush(f))
		r = -errno;
	return r;
}

int out_write(FILE *f, const json_t *doc, enum out_fmt fmt, const char *tsv_rows)
{
	return write_any(f, doc, fmt, tsv_rows, false);
}

int out_record(FILE *f, const json_t *rec, enum out_fmt fmt)
{
	return write_any(f, rec, fmt, NULL, true);
}

int out_emit(const json_t *doc, enum out_fmt fmt, const char *tsv_rows)
{
	int r = out_write(stdout, doc, fmt, tsv_rows);

	if (r)
		fprintf(stderr, "vnetlab: writing the output: %s\n", strerror(-r));
	return r;
}

/* ---- az-style tables ---- */

struct out_table {
	size_t ncols, nrows;
	char **cells; /* (nrows + 1) * ncols, the headers first */
};

static char *cell_dup(const char *s)
{
	size_t len = s ? strlen(s) : 0, n = 0;
	char *d = malloc(len * 4 + 1);

	if (!d)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			n += (size_t)sprintf(d + n, "\\x%02x", c);
		else
			d[n++] = (char)c;
	}
	d[n] = '\0';
	return d;
}

static int add_row(struct out_table *t, const char *const *cells)
{
	char **c = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*c));

	if (!c)
		return -ENOMEM;
	t->cells = c;
	c += t->nrows * t->ncols;
	for (size_t i = 0; i < t->ncols; i++)
		c[i] = NULL;
	t->nrows++; /* counted before filling: out_table_free frees what was copied */
	for (size_t i = 0; i < t->ncols; i++)
		if (!(c[i] = cell_dup(cells[i])))
			return -ENOMEM;
	return 0;
}

struct out_table *out_table_new(size_t ncols, const char *const *headers)
{
	struct out_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	if (add_row(t, headers)) {
		out_table_free(t);
		return NULL;
	}
	return t;
}

int out_table_row(struct out_table *t, const char *const *cells)
{
	return add_row(t, cells);
}

/* Display width: UTF-8 continuation bytes take no column. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void put_line(FILE *f, char *const *cells, size_t ncols, const size_t *w)
{
	size_t last = ncols;

	while (last > 0 && !*cells[last - 1])
		last--; /* no trailing blanks: az's tables end at the last non-empty cell */
	for (size_t i = 0; i < last; i++) {
		fputs(cells[i], f);
		if (i + 1 < last)
			fprintf(f, "%*s", (int)(w[i] - width(cells[i]) + 2), "");
	}
	fputc('\n', f);
}

void out_table_print(const struct out_table *t, FILE *f)
{
	size_t *w = calloc(t->ncols, sizeof(*w));
	char **dash;

	if (!w)
		return;
	for (size_t i = 0; i < t->ncols; i++)
		w[i] =
		    width(t->cells[i]) + 2; /* az's tables (tabulate): a column is at least its header + 2 */
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++)
			if (width(t->cells[r * t->ncols + i]) > w[i])
				w[i] = width(t->cells[r * t->ncols + i]);
	dash = calloc(t->ncols, sizeof(*dash));
	for (size_t i = 0; dash && i < t->ncols; i++) {
		dash[i] = malloc(w[i] + 1);
		if (dash[i]) {
			memset(dash[i], '-', w[i]);
			dash[i][w[i]] = '\0';
		}
	}
	put_line(f, t->cells, t->ncols, w);
	for (size_t i = 0; dash && i < t->ncols; i++)
		if (!dash[i])
			goto out;
	if (dash)
		put_line(f, dash, t->ncols, w);
	for (size_t r = 1; r < t->nrows; r++)
		put_line(f, t->cells + r * t->ncols, t->ncols, w);
out:
	for (size_t i = 0; dash && i < t->ncols; i++)
		free(dash[i]);
	free(dash);
	free(w);
}

void out_table_free(struct out_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
