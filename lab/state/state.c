// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetlab/loader.h"
#include "vnetlab/state.h"

void vl_state_dir(char *buf, size_t len, const char *lab)
{
	snprintf(buf, len, "%s/%s", VL_STATE_ROOT, lab);
}

static void state_file(char *buf, size_t len, const char *lab, const char *name)
{
	snprintf(buf, len, "%s/%s/%s", VL_STATE_ROOT, lab, name);
}

static void lock_path(char *buf, size_t len, const char *lab)
{
	snprintf(buf, len, "%s/.%s.lock", VL_STATE_ROOT, lab);
}

/*
 * The lock file goes away with its lab (vl_state_unlock), so a waiter may wake
 * up holding a lock on a file that was just unlinked: it then tries again.
 */
int vl_state_lock(const char *lab, int *fd)
{
	struct stat held, now;
	char path[256];

	if (mkdir(VL_STATE_ROOT, 0755) && errno != EEXIST)
		return -errno;
	lock_path(path, sizeof(path), lab);
	for (;;) {
		*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (*fd < 0)
			return -errno;
		if (flock(*fd, LOCK_EX)) {
			int rc = -errno;

			close(*fd);
			*fd = -1;
			return rc;
		}
		if (!fstat(*fd, &held) && !stat(path, &now) && held.st_dev == now.st_dev &&
		    held.st_ino == now.st_ino)
			return 0;
		close(*fd);
	}
}

void vl_state_unlock(const char *lab, int fd)
{
	char path[256];

	if (fd < 0)
		return;
	if (!vl_state_exists(lab)) {
		lock_path(path, sizeof(path), lab);
		unlink(path);
	}
	close(fd);
}

bool vl_state_exists(const char *lab)
{
	char path[256];
	struct stat st;

	vl_state_dir(path, sizeof(path), lab);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int write_file(const char *path, const char *data, size_t len, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | flags, 0644);
	int rc = 0;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

int vl_state_read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return -errno;
	do {
		if (n > max) { /* a FIFO or /dev/zero would otherwise fill memory */
			free(buf);
			fclose(f);
			return -EFBIG;
		}
		if (cap - n < 4096) {
			char *p = realloc(buf, cap = cap ? cap * 2 : 16384);

			if (!p) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = p;
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
	} while (r);
	fclose(f);
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	return 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
	return vl_state_read_file(path, VL_FILE_MAX, out, len);
}

int vl_state_create(const char *lab, const char *source, const char *content, size_t len)
{
	char path[256];
	int rc;

	if (mkdir(VL_STATE_ROOT, 0755) && errno != EEXIST)
		return -errno;
	vl_state_dir(path, sizeof(path), lab);
	if (mkdir(path, 0755))
		return -errno;
	state_file(path, sizeof(path), lab, "topology");
	rc = write_file(path, content, len, O_TRUNC);
	if (!rc) {
		state_file(path, sizeof(path), lab, "source");
		rc = write_file(path, source, strlen(source), O_TRUNC);
	}
	return rc;
}

int vl_state_record_ns(const char *lab, const char *ns)
{
	char path[256], line[128];

	state_file(path, sizeof(path), lab, "namespaces");
	snprintf(line, sizeof(line), "%s\n", ns);
	return write_file(path, line, strlen(line), O_APPEND);
}

static int read_lines(const char *path, struct vl_strv *out)
{
	char *buf, *save = NULL;
	int rc = read_file(path, &buf, NULL);

	if (rc)
		return rc;
	for (char *l = strtok_r(buf, "\n", &save); l && !rc; l = strtok_r(NULL, "\n", &save))
		if (*l)
			rc = vl_strv_push(out, l);
	free(buf);
	return rc;
}

int vl_state_forget_ns(const char *lab, const char *ns)
{
	struct vl_strv names = {0};
	char path[256], tmp[280];
	FILE *f;
	int rc;

	state_file(path, sizeof(path), lab, "namespaces");
	rc = read_lines(path, &names);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "we");
	if (!f) {
		rc = -errno;
		goto out;
	}
	for (size_t i = 0; i < names.n; i++)
		if (strcmp(names.v[i], ns))
			fprintf(f, "%s\n", names.v[i]);
	if (fclose(f) || rename(tmp, path))
		rc = -errno;
out:
	vl_strv_free(&names);
	return rc;
}

int vl_state_list_ns(const char *lab, struct vl_strv *out)
{
	char path[256];
	int rc;

	state_file(path, sizeof(path), lab, "namespaces");
	rc = read_lines(path, out);
	return rc == -ENOENT ? 0 : rc;
}

int vl_state_remove(const char *lab)
{
	static const char *const files[] = {"topology",	 "source",    "namespaces", "edits",
					    "agent.pid", "agent.log", "agent.sock", "namespaces.new"};
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		state_file(path, sizeof(path), lab, files[i]);
		if (unlink(path) && errno != ENOENT)
			return -errno;
	}
	vl_state_dir(path, sizeof(path), lab);
	if (rmdir(path) && errno != ENOENT)
		return -errno;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int vl_state_list_labs(struct vl_strv *out)
{
	DIR *d = opendir(VL_STATE_ROOT);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && (de = readdir(d)))
		if (de->d_name[0] != '.' && de->d_type == DT_DIR)
			rc = vl_strv_push(out, de->d_name);
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return rc;
}

int vl_state_source(const char *lab, char *buf, size_t len)
{
	char path[256], *s;
	int rc;

	state_file(path, sizeof(path), lab, "source");
	rc = read_file(path, &s, NULL);
	if (rc)
		return rc;
	snprintf(buf, len, "%s", s);
	free(s);
	return 0;
}

static const char *const edit_kinds[] = {"set", "add", "delete"};

/* Tabs and newlines separate fields and edits, so a value (a description) must not carry them raw. */
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

/* An edit is one line: kind \t nsg \t rule { \t key=value }. */
int vl_state_append_edit(const char *lab, const struct vl_rule_edit *e)
{
	char path[256], *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	int rc;

	if (!f)
		return -ENOMEM;
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
		free(line);
		return -ENOMEM;
	}
	state_file(path, sizeof(path), lab, "edits");
	rc = write_file(path, line, len, O_APPEND);
	free(line);
	return rc;
}

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

static int load_lab(const char *lab, bool with_edits, struct vl_lab **out, struct vl_error *err)
{
	char path[256], source[4096];
	struct vl_strv edits = {0};
	struct vl_lab *l = NULL;
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	state_file(path, sizeof(path), lab, "topology");
	rc = read_file(path, &buf, &len);
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "lab '%s' is not up", lab);
		return rc;
	}
	if (vl_state_source(lab, source, sizeof(source)))
		snprintf(source, sizeof(source), "%s", path);
	rc = vl_load_buffer(source, buf, len, &l, err);
	free(buf);
	if (rc)
		return rc;
	/* The state directory names the lab: `up --name` gives a file's lab another name. */
	rc = vl_lab_set_name(l, lab);
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "invalid lab name '%s'", lab);
		vl_lab_free(l);
		return rc;
	}
	state_file(path, sizeof(path), lab, "edits");
	rc = with_edits ? read_lines(path, &edits) : 0;
	if (rc == -ENOENT)
		rc = 0;
	for (size_t i = 0; i < edits.n && !rc; i++) {
		struct vl_rule_edit e;

		rc = parse_edit(edits.v[i], &e);
		if (!rc)
			rc = vl_lab_apply_edit(l, &e, err);
		else
			vl_error_set(err, path, (struct vl_loc){(int)i + 1, 1}, "unreadable edit");
		vl_rule_edit_clear(&e);
	}
	vl_strv_free(&edits);
	if (rc) {
		vl_lab_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

int vl_state_load_lab(const char *lab, struct vl_lab **out, struct vl_error *err)
{
	return load_lab(lab, true, out, err);
}

int vl_state_load_lab_as_built(const char *lab, struct vl_lab **out, struct vl_error *err)
{
	return load_lab(lab, false, out, err);
}

int vl_state_count_edits(const char *lab, size_t *n)
{
	struct vl_strv edits = {0};
	char path[256];
	int rc;

	*n = 0;
	state_file(path, sizeof(path), lab, "edits");
	rc = read_lines(path, &edits);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	*n = edits.n;
	vl_strv_free(&edits);
	return 0;
}

int vl_state_clear_edits(const char *lab)
{
	char path[256];

	state_file(path, sizeof(path), lab, "edits");
	return unlink(path) && errno != ENOENT ? -errno : 0;
}
