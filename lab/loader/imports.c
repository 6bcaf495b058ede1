// SPDX-License-Identifier: MIT
/*
 * What a topology imported, kept with the lab: recorded when `up` loads the file,
 * replayed (never read from disk again) by every later command, so that the lab's
 * state is self-contained.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ld.h"
#include "vnetlab/loader.h"

#define IMPORTS_MAX 1024
#define VL_IMPORT_MAX LD_FILE_MAX

void vl_imports_free(struct vl_imports *imports)
{
	if (!imports)
		return;
	for (size_t i = 0; i < imports->n; i++) {
		free(imports->v[i].ref);
		free(imports->v[i].data);
	}
	free(imports->v);
	imports->v = NULL;
	imports->n = 0;
}

static const struct vl_import *find(const struct vl_imports *imports, const char *ref)
{
	for (size_t i = 0; i < imports->n; i++)
		if (!strcmp(imports->v[i].ref, ref))
			return &imports->v[i];
	return NULL;
}

static int record(struct vl_imports *imports, const char *ref, const char *data, size_t len)
{
	struct vl_import *v;

	if (find(imports, ref))
		return 0;
	if (imports->n >= IMPORTS_MAX)
		return -E2BIG;
	v = realloc(imports->v, (imports->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	imports->v = v;
	v = &v[imports->n];
	v->ref = strdup(ref);
	v->data = malloc(len + 1);
	if (!v->ref || !v->data) {
		free(v->ref);
		free(v->data);
		return -ENOMEM;
	}
	memcpy(v->data, data, len);
	v->data[len] = '\0';
	v->len = len;
	imports->n++;
	return 0;
}

int ld_import(struct ld *c, const struct ynode *imp, const char *path, const char *name_hint,
	      struct vl_nsg *got)
{
	const struct vl_import *saved;
	char *buf;
	size_t len;
	int e;

	if (c->imports && c->imports->replay) {
		saved = find(c->imports, imp->str);
		if (!saved)
			return ld_fail(c, imp, "import was not copied into the lab's state");
		return ld_import_buffer(path, saved->data, saved->len, name_hint, true, c->lab, got, c->err, c->errs)
			   ? -EINVAL
			   : 0;
	}
	e = ld_read_file(path, "NSG export", &buf, &len, c->err);
	if (e) {
		if (e != -ENOMEM) /* say where the import was asked for */
			ld_fail(c, imp, "cannot import '%s': %s", path, ld_read_reason(e));
		return -EINVAL;
	}
	e = ld_import_buffer(path, buf, len, name_hint, true, c->lab, got, c->err, c->errs);
	if (!e && c->imports)
		e = record(c->imports, imp->str, buf, len);
	free(buf);
	return e == -ENOMEM || e == -E2BIG ? e : e ? -EINVAL : 0;
}

int ld_import_data(struct ld *c, const struct ynode *ref, const char *path, const char *what, char **buf,
		   size_t *len)
{
	const struct vl_import *saved;
	int e;

	*buf = NULL;
	if (c->imports && c->imports->replay) {
		saved = find(c->imports, ref->str);
		if (!saved)
			return ld_fail(c, ref, "%s was not copied into the lab's state", what);
		*buf = malloc(saved->len + 1);
		if (!*buf)
			return -ENOMEM;
		memcpy(*buf, saved->data, saved->len + 1);
		*len = saved->len;
		return 0;
	}
	e = ld_read_file(path, what, buf, len, c->err);
	if (e) {
		if (e != -ENOMEM)
			ld_fail(c, ref, "cannot read %s '%s': %s", what, path, ld_read_reason(e));
		return e == -ENOMEM ? e : -EINVAL;
	}
	if (c->imports) {
		e = record(c->imports, ref->str, *buf, *len);
		if (e) {
			free(*buf);
			*buf = NULL;
			return e;
		}
	}
	return 0;
}

int vl_imports_format(const struct vl_imports *imports, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < imports->n; i++) {
		const struct vl_import *v = &imports->v[i];

		fprintf(f, "import %zu %zu\n", strlen(v->ref), v->len);
		fwrite(v->ref, 1, strlen(v->ref), f);
		fwrite(v->data, 1, v->len, f);
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* "<number> " or "<number>\n" at *p, within end; advances *p. */
static int number(const char **p, const char *end, char stop, size_t *v)
{
	const char *s = *p;
	size_t n = 0;

	if (s >= end || *s < '0' || *s > '9' || (*s == '0' && s + 1 < end && s[1] >= '0' && s[1] <= '9'))
		return -EINVAL; /* one spelling per number: no leading zeros */
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (n > (VL_IMPORT_MAX / 10))
			return -EINVAL;
		n = n * 10 + (size_t)(*s - '0');
	}
	if (s >= end || *s != stop || n > VL_IMPORT_MAX)
		return -EINVAL;
	*p = s + 1;
	*v = n;
	return 0;
}

int vl_imports_parse(const char *buf, size_t len, struct vl_imports *out)
{
	const char *p = buf, *end = buf + len;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->replay = true;
	while (!rc && p < end) {
		size_t rl, dl;
		char *ref;

		if ((size_t)(end - p) < 7 || memcmp(p, "import ", 7)) {
			rc = -EINVAL;
			break;
		}
		p += 7;
		if ((rc = number(&p, end, ' ', &rl)) || (rc = number(&p, end, '\n', &dl)))
			break;
		if (!rl || rl > 4096 || (size_t)(end - p) < rl + dl + 1 || p[rl + dl] != '\n' ||
		    memchr(p, '\0', rl)) {
			rc = -EINVAL;
			break;
		}
		ref = strndup(p, rl);
		if (!ref) {
			rc = -ENOMEM;
			break;
		}
		rc = find(out, ref) ? -EINVAL : record(out, ref, p + rl, dl);
		free(ref);
		p += rl + dl + 1;
	}
	if (rc)
		vl_imports_free(out);
	return rc;
}
