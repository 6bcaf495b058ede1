// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state-int.h"
#include "vnetlab/journal.h"
#include "vnetlab/loader.h"
#include "vnetlab/plan.h"
#include "vnetlab/state.h"

void vl_state_dir(char *buf, size_t len, const char *lab)
{
	snprintf(buf, len, "%s/%s", vl_state_root(), lab);
}

static void state_file(char *buf, size_t len, const char *lab, const char *name)
{
	snprintf(buf, len, "%s/%s/%s", vl_state_root(), lab, name);
}

bool vl_state_exists(const char *lab)
{
	char path[256];
	struct stat st;

	if (!vl_lab_name_ok(lab))
		return false;
	vl_state_dir(path, sizeof(path), lab);
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int write_file(const char *path, const char *data, size_t len, int flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | flags, 0600);
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
	/* O_NONBLOCK: a FIFO with no writer is refused below, not waited on */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	struct stat st;
	FILE *f;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || fcntl(fd, F_SETFL, 0) < 0) {
		int rc = fstat(fd, &st) < 0 ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;

		close(fd);
		return rc;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
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

int vl_state_create(const char *lab, const char *source, const char *content, size_t len,
		    const struct vl_imports *imports)
{
	char path[256], *data = NULL;
	size_t n = 0;
	int rc;

	rc = vl_state_root_ready();
	if (rc)
		return rc;
	vl_state_dir(path, sizeof(path), lab);
	if (mkdir(path, 0700))
		return -errno;
	state_file(path, sizeof(path), lab, "topology");
	rc = write_file(path, content, len, O_TRUNC);
	if (!rc) {
		state_file(path, sizeof(path), lab, "source");
		rc = write_file(path, source, strlen(source), O_TRUNC);
	}
	if (!rc && imports) {
		rc = vl_imports_format(imports, &data, &n);
		state_file(path, sizeof(path), lab, "imports");
		if (!rc)
			rc = write_file(path, data, n, O_TRUNC);
		free(data);
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
	int rc, fd;

	state_file(path, sizeof(path), lab, "namespaces");
	rc = read_lines(path, &names);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
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

bool vl_state_ns_ours(const char *lab, const char *ns)
{
	size_t n = strlen(lab), len = strlen(ns);

	if (strncmp(ns, "vl-", 3) || strncmp(ns + 3, lab, n) || ns[3 + n] != '-' || len == 4 + n ||
	    len >= VL_NS_NAME_MAX || !isalnum((unsigned char)ns[4 + n]))
		return false;
	for (const char *p = ns + 4 + n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '.' || *p == '_'))
			return false;
	return true;
}

int vl_state_list_ns(const char *lab, struct vl_strv *out, size_t *foreign)
{
	struct vl_strv all = {0};
	char path[256];
	int rc;

	if (foreign)
		*foreign = 0;
	state_file(path, sizeof(path), lab, "namespaces");
	rc = read_lines(path, &all);
	for (size_t i = 0; !rc && i < all.n; i++) {
		if (vl_state_ns_ours(lab, all.v[i]))
			rc = vl_strv_push(out, all.v[i]);
		else if (foreign)
			(*foreign)++;
	}
	vl_strv_free(&all);
	return rc == -ENOENT ? 0 : rc;
}

/*
 * Everything in the directory is ours (it is root's, 0700): files and sockets are removed
 * whatever their names, so a stray one cannot keep a lab from going down; a directory
 * vnetlab never makes is left to a human.
 */
int vl_state_remove(const char *lab)
{
	char path[256];
	struct dirent *de;
	int dfd, rc = 0;
	DIR *d;

	if (!vl_lab_name_ok(lab))
		return -EINVAL;
	vl_state_dir(path, sizeof(path), lab);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT && !rc)
			rc = -errno;
	}
	closedir(d);
	if (rc)
		return rc;
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
	DIR *d = opendir(vl_state_root());
	struct dirent *de;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!rc && (de = readdir(d)))
		if (de->d_type == DT_DIR && vl_lab_name_ok(de->d_name))
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

static int load_imports(const char *lab, struct vl_imports *out)
{
	char path[256], *buf;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	state_file(path, sizeof(path), lab, "imports");
	rc = read_file(path, &buf, &len);
	if (rc)
		return rc == -ENOENT ? 0 : rc;
	rc = vl_imports_parse(buf, len, out);
	free(buf);
	return rc;
}

static int load(const char *lab, bool with_edits, struct vl_lab **out, struct vl_journal *jout,
		struct vl_error *err)
{
	struct vl_imports imports = {0};
	char path[256], source[4096];
	struct vl_journal j = {0};
	struct vl_lab *l = NULL;
	char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if (!vl_lab_name_ok(lab)) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0},
			     "invalid lab name: 1-%d characters of a-z and 0-9", VL_LAB_NAME_MAX);
		return -EINVAL;
	}
	state_file(path, sizeof(path), lab, "topology");
	rc = read_file(path, &buf, &len);
	if (rc) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "lab '%s' is not up", lab);
		return rc;
	}
	if (vl_state_source(lab, source, sizeof(source)))
		snprintf(source, sizeof(source), "%s", path);
	rc = load_imports(lab, &imports);
	if (rc) {
		free(buf);
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "reading the imports of lab '%s': %s", lab,
			     strerror(-rc));
		return rc;
	}
	/* a lab brought up before imports were kept: they are read from disk as before */
	rc = vl_load_buffer_imports(source, buf, len, imports.replay ? &imports : NULL, &l, err);
	vl_imports_free(&imports);
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
	rc = with_edits ? vl_journal_load(lab, &j) : 0;
	if (rc == -EINVAL)
		vl_error_set(err, path, (struct vl_loc){(int)j.line, 1}, "unreadable edit record");
	else if (rc == -EFBIG)
		vl_error_set(
		    err, path, (struct vl_loc){0, 0},
		    "the edit journal is larger than %u MiB (edits compact it past at most %u KiB; this one "
		    "could not be folded): 'vnetlab down %s' and up again",
		    VL_FILE_MAX >> 20, VL_JOURNAL_COMPACT_BYTES >> 10, lab);
	else if (rc)
		vl_error_set(err, path, (struct vl_loc){0, 0}, "%s", strerror(-rc));
	/* one validation per edited NSG, not one per edit: a long journal costs what a short one does */
	if (!rc)
		rc = vl_lab_apply_edits(l, j.edits, j.n, err);
	if (!rc && with_edits)
		rc = vl_state_netpol_replay(lab, l, err);
	if (rc) {
		vl_journal_clear(&j);
		vl_lab_free(l);
		return rc;
	}
	if (jout)
		*jout = j;
	else
		vl_journal_clear(&j);
	*out = l;
	return 0;
}

int vl_state_load_lab_journal(const char *lab, struct vl_lab **out, struct vl_journal *j, struct vl_error *err)
{
	return load(lab, true, out, j, err);
}

int vl_state_load_lab(const char *lab, struct vl_lab **out, struct vl_error *err)
{
	return load(lab, true, out, NULL, err);
}

int vl_state_load_lab_as_built(const char *lab, struct vl_lab **out, struct vl_error *err)
{
	return load(lab, false, out, NULL, err);
}

int vl_state_count_edits(const char *lab, size_t *n)
{
	struct vl_journal j = {0};
	int rc = vl_journal_load(lab, &j);

	*n = rc ? 0 : j.n;
	vl_journal_clear(&j);
	return rc == -ENOENT ? 0 : rc;
}

int vl_state_clear_edits(const char *lab)
{
	char path[256];

	state_file(path, sizeof(path), lab, "edits");
	return unlink(path) && errno != ENOENT ? -errno : 0;
}
