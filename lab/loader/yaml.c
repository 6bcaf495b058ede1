// SPDX-License-Identifier: MIT
/* YAML text → a tree of located nodes, built from libyaml's parser events. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ld.h"

#define MAP_PAIRS_MAX 1000
#define SEQ_ITEMS_MAX 200000

struct yp {
	yaml_parser_t parser;
	const char *file;
	const char *buf;
	size_t len;
	struct vl_error *err;
};

static struct vl_loc mark_loc(yaml_mark_t m)
{
	return (struct vl_loc){(int)m.line + 1, (int)m.column + 1};
}

/* libyaml reports reader errors (bad UTF-8, control characters) by byte offset. */
static struct vl_loc offset_loc(const char *buf, size_t len, size_t off)
{
	struct vl_loc loc = {1, 1};

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		unsigned char ch = (unsigned char)buf[i];

		if (ch == '\n') {
			loc.line++;
			loc.col = 1;
		} else if ((ch & 0xc0) != 0x80) {
			loc.col++;
		}
	}
	return loc;
}

static int parser_error(struct yp *p)
{
	yaml_parser_t *ps = &p->parser;
	const char *problem = ps->problem ? ps->problem : "unknown problem";

	switch (ps->error) {
	case YAML_MEMORY_ERROR:
		vl_error_set(p->err, p->file, (struct vl_loc){0, 0}, "out of memory");
		return -ENOMEM;
	case YAML_READER_ERROR:
		vl_error_set(p->err, p->file, offset_loc(p->buf, p->len, ps->problem_offset),
			     "not a text file: %s (byte 0x%02x)", problem,
			     (unsigned)ps->problem_value & 0xff);
		return -EINVAL;
	default:
		if (ps->context)
			vl_error_set(p->err, p->file, mark_loc(ps->problem_mark), "YAML syntax error: %s %s",
				     problem, ps->context);
		else
			vl_error_set(p->err, p->file, mark_loc(ps->problem_mark), "YAML syntax error: %s",
				     problem);
		return -EINVAL;
	}
}

static int next_event(struct yp *p, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&p->parser, ev))
		return parser_error(p);
	return 0;
}

void yn_free(struct ynode *n)
{
	if (!n)
		return;
	if (n->kind != YN_SCALAR) {
		size_t k = n->kind == YN_MAP ? 2 * n->n : n->n;

		for (size_t i = 0; i < k; i++)
			yn_free(n->kids[i]);
		free(n->kids);
	}
	free(n->str);
	free(n);
}

static int push(struct ynode *n, struct ynode *kid, size_t *cap, size_t used)
{
	if (used == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		struct ynode **k = realloc(n->kids, nc * sizeof(*k));

		if (!k)
			return -ENOMEM;
		n->kids = k;
		*cap = nc;
	}
	n->kids[used] = kid;
	return 0;
}

static bool is_null_text(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int parse_node(struct yp *p, yaml_event_t *ev, int depth, struct ynode **out);

static int parse_scalar(struct yp *p, yaml_event_t *ev, struct ynode *n)
{
	size_t len = ev->data.scalar.length;

	if (memchr(ev->data.scalar.value, '\0', len)) {
		vl_error_set(p->err, p->file, n->loc, "string contains a NUL character");
		return -EINVAL;
	}
	/*
	 * Escapes ("\e", "\x1b", "\u009b") make control characters the file itself may not hold;
	 * printed, a name could retitle a terminal or forge a line. Tab and newline stay (descriptions).
	 */
	for (size_t i = 0; i < len; i++) {
		const unsigned char *v = ev->data.scalar.value;

		if ((v[i] < 0x20 && v[i] != '\t' && v[i] != '\n') || v[i] == 0x7f ||
		    (v[i] == 0xc2 && i + 1 < len && v[i + 1] >= 0x80 && v[i + 1] <= 0x9f)) {
			vl_error_set(p->err, p->file, n->loc, "string contains a control character (0x%02x)",
				     v[i] == 0xc2 ? v[i + 1] : v[i]);
			return -EINVAL;
		}
	}
	n->str = strndup((const char *)ev->data.scalar.value, len);
	if (!n->str)
		return -ENOMEM;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	n->null = n->plain && is_null_text(n->str);
	return 0;
}

static int parse_seq(struct yp *p, struct ynode *n, int depth)
{
	size_t cap = 0;

	for (;;) {
		yaml_event_t ev;
		struct ynode *kid = NULL;
		int r = next_event(p, &ev);

		if (r)
			return r;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (n->n >= SEQ_ITEMS_MAX) {
			vl_error_set(p->err, p->file, mark_loc(ev.start_mark), "list has more than %d items",
				     SEQ_ITEMS_MAX);
			yaml_event_delete(&ev);
			return -EINVAL;
		}
		r = parse_node(p, &ev, depth + 1, &kid);
		if (!r)
			r = push(n, kid, &cap, n->n);
		if (r) {
			yn_free(kid);
			return r;
		}
		n->n++;
	}
}

static int parse_map(struct yp *p, struct ynode *n, int depth)
{
	size_t cap = 0;

	for (;;) {
		yaml_event_t ev;
		struct ynode *key = NULL, *val = NULL;
		int r = next_event(p, &ev);

		if (r)
			return r;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (n->n >= MAP_PAIRS_MAX) {
			vl_error_set(p->err, p->file, mark_loc(ev.start_mark),
				     "mapping has more than %d keys", MAP_PAIRS_MAX);
			yaml_event_delete(&ev);
			return -EINVAL;
		}
		r = parse_node(p, &ev, depth + 1, &key);
		if (r)
			return r;
		if (key->kind != YN_SCALAR || key->null) {
			vl_error_set(p->err, p->file, key->loc, "mapping keys must be strings");
			yn_free(key);
			return -EINVAL;
		}
		for (size_t i = 0; i < n->n; i++) {
			const struct ynode *k = n->kids[2 * i];

			if (!strcmp(k->str, key->str)) {
				char q[160];

				vl_error_set(p->err, p->file, key->loc, "duplicate key '%s' (first at line %d)",
					     ld_quote_key(NULL, key->str, q, sizeof(q)), k->loc.line);
				yn_free(key);
				return -EINVAL;
			}
		}
		r = push(n, key, &cap, 2 * n->n);
		if (r) {
			yn_free(key);
			return r;
		}
		r = next_event(p, &ev);
		if (!r)
			r = parse_node(p, &ev, depth + 1, &val);
		if (!r)
			r = push(n, val, &cap, 2 * n->n + 1);
		if (r) {
			/* the key is in kids but not counted yet */
			yn_free(key);
			yn_free(val);
			return r;
		}
		n->n++;
	}
}

/* Consumes *ev. */
static int parse_node(struct yp *p, yaml_event_t *ev, int depth, struct ynode **out)
{
	struct ynode *n;
	int r;

	*out = NULL;
	if (depth > LD_DEPTH_MAX) {
		vl_error_set(p->err, p->file, mark_loc(ev->start_mark), "nesting deeper than %d levels",
			     LD_DEPTH_MAX);
		yaml_event_delete(ev);
		return -EINVAL;
	}
	if (ev->type == YAML_ALIAS_EVENT) {
		vl_error_set(p->err, p->file, mark_loc(ev->start_mark),
			     "YAML aliases (*%s) are not supported", (const char *)ev->data.alias.anchor);
		yaml_event_delete(ev);
		return -EINVAL;
	}
	if (ev->type != YAML_SCALAR_EVENT && ev->type != YAML_SEQUENCE_START_EVENT &&
	    ev->type != YAML_MAPPING_START_EVENT) {
		vl_error_set(p->err, p->file, mark_loc(ev->start_mark),
			     "YAML syntax error: unexpected event");
		yaml_event_delete(ev);
		return -EINVAL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		yaml_event_delete(ev);
		return -ENOMEM;
	}
	n->loc = mark_loc(ev->start_mark);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n->kind = YN_SCALAR;
		r = parse_scalar(p, ev, n);
		yaml_event_delete(ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		n->kind = YN_SEQ;
		yaml_event_delete(ev);
		r = parse_seq(p, n, depth);
		break;
	default:
		n->kind = YN_MAP;
		yaml_event_delete(ev);
		r = parse_map(p, n, depth);
		break;
	}
	if (r) {
		yn_free(n);
		return r;
	}
	*out = n;
	return 0;
}

static int expect_event(struct yp *p, yaml_event_type_t type, yaml_event_t *ev)
{
	int r = next_event(p, ev);

	if (r)
		return r;
	if (ev->type != type) {
		vl_error_set(p->err, p->file, mark_loc(ev->start_mark),
			     "a file holds one YAML document; found another one here");
		yaml_event_delete(ev);
		return -EINVAL;
	}
	return 0;
}

int yn_parse(const char *file, const char *buf, size_t len, struct ynode **out, struct vl_error *err)
{
	struct yp p = {.file = file, .buf = buf, .len = len, .err = err};
	struct ynode *root = NULL;
	yaml_event_t ev;
	int r;

	*out = NULL;
	if (len > LD_FILE_MAX) {
		vl_error_set(err, file, (struct vl_loc){0, 0}, "file is larger than %u bytes", LD_FILE_MAX);
		return -EFBIG;
	}
	const char *nul = memchr(buf, '\0', len);
	if (nul) {
		vl_error_set(err, file, offset_loc(buf, len, (size_t)(nul - buf)),
			     "not a text file: NUL byte at offset %zu", (size_t)(nul - buf));
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&p.parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p.parser, YAML_UTF8_ENCODING);
	r = next_event(&p, &ev); /* STREAM_START */
	if (r)
		goto out;
	yaml_event_delete(&ev);
	r = next_event(&p, &ev);
	if (r)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		goto out; /* empty */
	}
	yaml_event_delete(&ev); /* DOCUMENT_START */
	r = next_event(&p, &ev);
	if (!r)
		r = parse_node(&p, &ev, 0, &root);
	if (!r)
		r = expect_event(&p, YAML_DOCUMENT_END_EVENT, &ev);
	if (!r) {
		yaml_event_delete(&ev);
		r = expect_event(&p, YAML_STREAM_END_EVENT, &ev);
	}
	if (!r)
		yaml_event_delete(&ev);
out:
	yaml_parser_delete(&p.parser);
	if (r) {
		yn_free(root);
		return r;
	}
	*out = root;
	return 0;
}

int yn_parse_docs(const char *file, const char *buf, size_t len, struct ynode **out, struct vl_error *err)
{
	struct yp p = {.file = file, .buf = buf, .len = len, .err = err};
	struct ynode *docs = calloc(1, sizeof(*docs)), *doc;
	size_t cap = 0;
	yaml_event_t ev;
	int r;

	*out = NULL;
	if (!docs)
		return -ENOMEM;
	docs->kind = YN_SEQ;
	docs->loc = (struct vl_loc){1, 1};
	if (len > LD_FILE_MAX) {
		vl_error_set(err, file, (struct vl_loc){0, 0}, "file is larger than %u bytes", LD_FILE_MAX);
		free(docs);
		return -EFBIG;
	}
	if (memchr(buf, '\0', len)) {
		size_t at = (size_t)((const char *)memchr(buf, '\0', len) - buf);

		vl_error_set(err, file, offset_loc(buf, len, at), "not a text file: NUL byte at offset %zu", at);
		free(docs);
		return -EINVAL;
	}
	if (!yaml_parser_initialize(&p.parser)) {
		free(docs);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p.parser, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p.parser, YAML_UTF8_ENCODING);
	r = next_event(&p, &ev); /* STREAM_START */
	if (!r)
		yaml_event_delete(&ev);
	while (!r) {
		if ((r = next_event(&p, &ev)))
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev); /* DOCUMENT_START */
		if ((r = next_event(&p, &ev)))
			break;
		doc = NULL;
		if ((r = parse_node(&p, &ev, 0, &doc)))
			break;
		if (doc->kind == YN_SCALAR && doc->null) { /* `---` with nothing after it */
			yn_free(doc);
		} else if (docs->n >= SEQ_ITEMS_MAX) {
			vl_error_set(err, file, doc->loc, "more than %d documents", SEQ_ITEMS_MAX);
			yn_free(doc);
			r = -EINVAL;
			break;
		} else if ((r = push(docs, doc, &cap, docs->n))) {
			yn_free(doc);
			break;
		} else {
			docs->n++;
		}
		if ((r = next_event(&p, &ev)))
			break;
		yaml_event_delete(&ev); /* DOCUMENT_END */
	}
	yaml_parser_delete(&p.parser);
	if (r) {
		yn_free(docs);
		return r;
	}
	*out = docs;
	return 0;
}
