// SPDX-License-Identifier: MIT
/*
 * The edit journal, /run/vnetlab/<lab>/edits: written ahead of the kernel.
 * An edit is an "intent" record before its commit and a "done" (or "abort")
 * record after it, each one line in one write(2) followed by fsync(2):
 *   intent \t kind \t nsg \t rule { \t key=value }
 *   done | abort
 * (a bare "kind \t nsg …" line, as older versions wrote, counts as done).
 * An intent with no outcome is the last record of a command that died between
 * the two: it is rolled forward (the commit replaces the NSG's chains whole, so
 * committing it again is safe) by the next command that takes the lock. A last
 * line with no newline was torn by a failed write: it is ignored and cut off.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetlab/journal.h"
#include "vnetlab/state.h"

static const char *const edit_kinds[] = {"set", "add", "delete"};

/* Tabs and newlines separate fields and records, so a value (a description) must not carry them raw. */
static void put_field(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\r')
			fputs("\\r", f);
		else
			fputc(*s, f);
	}
}

/* Undoes put_field in place. */
static char *get_field(char *s)
{
	char *d = s, *start = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s == 'r' ? '\r' : *s;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
	return start;
}

int vl_journal_format_intent(const struct vl_rule_edit *e, char **line, size_t *len)
{
	FILE *f = open_memstream(line, len);

	if (!f)
		return -ENOMEM;
	fputs("intent\t", f);
	fputs(edit_kinds[e->kind], f);
	fputc('\t', f);
	put_field(f, e->nsg);
	fputc('\t', f);
	put_field(f, e->rule);
	for (size_t i = 0; i < e->keys.n; i++) {
		fputc('\t', f);
		put_field(f, e->keys.v[i]);
		fputc('=', f);
		put_field(f, e->values.v[i]);
	}
	fputc('\n', f);
	if (fclose(f)) {
		free(*line);
		*line = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* kind \t nsg \t rule { \t key=value }, in place. */
static int parse_edit(char *line, struct vl_rule_edit *e)
{
	char *save = NULL, *f[3];
	int kind, rc = 0;

	memset(e, 0, sizeof(*e));
	for (int i = 0; i < 3; i++)
		if (!(f[i] = strtok_r(i ? NULL : line, "\t", &save)))
			return -EINVAL;
	for (kind = 0; kind < 3 && strcmp(f[0], edit_kinds[kind]); kind++)
		;
	if (kind == 3)
		return -EINVAL;
	e->kind = (enum vl_edit_kind)kind;
	e->nsg = strdup(get_field(f[1]));
	e->rule = strdup(get_field(f[2]));
	if (!e->nsg || !e->rule)
		return -ENOMEM;
	for (char *kv = strtok_r(NULL, "\t", &save); kv && !rc; kv = strtok_r(NULL, "\t", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			return -EINVAL;
		*eq = '\0';
		rc = vl_strv_push(&e->keys, get_field(kv));
		rc = rc ?: vl_strv_push(&e->values, get_field(eq + 1));
	}
	return rc;
}

void vl_journal_clear(struct vl_journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		vl_rule_edit_clear(&j->edits[i]);
	free(j->edits);
	memset(j, 0, sizeof(*j));
}

static int push(struct vl_journal *j, struct vl_rule_edit *e)
{
	struct vl_rule_edit *v = realloc(j->edits, (j->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	j->edits = v;
	v[j->n++] = *e;
	return 0;
}

int vl_journal_parse(const char *buf, size_t len, struct vl_journal *j)
{
	const char *p = buf, *end = buf + len;
	bool open_intent = false;
	int rc = 0;

	memset(j, 0, sizeof(*j));
	j->good_len = 0;
	while (!rc && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct vl_rule_edit e;
		char *line;

		if (!nl)
			break; /* torn: never acted on */
		j->line++;
		line = strndup(p, (size_t)(nl - p));
		if (!line) {
			rc = -ENOMEM;
			break;
		}
		if (memchr(p, '\0', (size_t)(nl - p))) {
			rc = -EINVAL;
		} else if (!strcmp(line, "done") || !strcmp(line, "abort")) {
			if (!open_intent)
				rc = -EINVAL;
			else if (line[0] == 'a')
				vl_rule_edit_clear(&j->edits[--j->n]);
			open_intent = false;
		} else if (open_intent) {
			rc = -EINVAL; /* a new record before the outcome of the last: not ours */
		} else {
			bool intent = !strncmp(line, "intent\t", 7);

			rc = parse_edit(line + (intent ? 7 : 0), &e);
			if (!rc)
				rc = push(j, &e);
			if (rc)
				vl_rule_edit_clear(&e);
			open_intent = intent;
		}
		free(line);
		p = nl + 1;
		if (!rc)
			j->good_len = (size_t)(p - buf);
	}
	if (rc) {
		size_t at = j->line;

		vl_journal_clear(j);
		j->line = at;
		return rc;
	}
	j->line = 0;
	j->pending = open_intent;
	j->torn = j->good_len < len;
	return 0;
}

static void journal_path(char *buf, size_t len, const char *lab)
{
	vl_state_dir(buf, len, lab);
	snprintf(buf + strlen(buf), len - strlen(buf), "/edits");
}

/* One record: one write(2), then fsync(2); a short write is cut off again. */
static int append(const char *lab, const char *rec, size_t len, size_t cut_to, bool cut)
{
	char path[256];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	journal_path(path, sizeof(path), lab);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (cut && ftruncate(fd, (off_t)cut_to) < 0)
		rc = -errno;
	if (!rc && fstat(fd, &st) < 0)
		rc = -errno;
	if (!rc) {
		n = write(fd, rec, len);
		if (n != (ssize_t)len) {
			rc = n < 0 ? -errno : -ENOSPC;
			if (ftruncate(fd, st.st_size) < 0) {
				/* the torn line is ignored and cut off by the next writer */
			}
		} else if (fsync(fd) < 0) {
			rc = -errno;
		}
	}
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

int vl_journal_intent(const char *lab, const struct vl_rule_edit *e, const struct vl_journal *now)
{
	char *line = NULL;
	size_t len = 0;
	int rc = vl_journal_format_intent(e, &line, &len);

	if (rc)
		return rc;
	rc = append(lab, line, len, now ? now->good_len : 0, now && now->torn);
	free(line);
	return rc;
}

int vl_journal_outcome(const char *lab, bool done)
{
	return done ? append(lab, "done\n", 5, 0, false) : append(lab, "abort\n", 6, 0, false);
}

int vl_journal_load(const char *lab, struct vl_journal *j)
{
	char path[256], *buf;
	size_t len;
	int rc;

	memset(j, 0, sizeof(*j));
	journal_path(path, sizeof(path), lab);
	rc = vl_state_read_file(path, VL_FILE_MAX, &buf, &len);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = vl_journal_parse(buf, len, j);
	free(buf);
	return rc;
}
