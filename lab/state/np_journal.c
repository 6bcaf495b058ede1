// SPDX-License-Identifier: MIT
/*
 * The live network policy journal, /run/vnetlab/<lab>/netpols, one record a line, each one
 * write(2) + fsync(2), written ahead of the kernel by vl_ops_netpol (state/netpol.c):
 *   apply \t <cluster> \t <file name> \t <the YAML text, \\ \\t \\n escaped>
 *   delete \t <cluster> \t <namespace>/<name>
 *   abort                       (the record before it never reached the kernel)
 * Replayed over the topology copy after the NSG edits (vl_state_netpol_replay), so every later
 * command sees the policies as they are now.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "np-journal.h"
#include "vnetlab/effective.h"
#include "vnetlab/loader.h"
#include "vnetlab/state.h"

#define NP_JOURNAL "netpols"
#define NP_JOURNAL_MAX (16u << 20)

static void path_of(char *buf, size_t len, const char *lab)
{
	char dir[200];

	vl_state_dir(dir, sizeof(dir), lab);
	snprintf(buf, len, "%s/%s", dir, NP_JOURNAL);
}

char *vlnp_escape(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *o = malloc(2 * n + 1);

	if (!o)
		return NULL;
	for (; *s; s++) {
		if (*s == '\\' || *s == '\t' || *s == '\n') {
			o[k++] = '\\';
			o[k++] = *s == '\t' ? 't' : *s == '\n' ? 'n' : '\\';
		} else {
			o[k++] = *s;
		}
	}
	o[k] = '\0';
	return o;
}

static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*d++ = *s == 't' ? '\t' : *s == 'n' ? '\n' : *s;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

int vlnp_append(const char *lab, const char *rec)
{
	char path[256];
	size_t len = strlen(rec);
	int fd, rc = 0;

	path_of(path, sizeof(path), lab);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, rec, len) != (ssize_t)len || fsync(fd))
		rc = errno ? -errno : -EIO;
	close(fd);
	return rc;
}

int vlnp_find_cluster(const struct vl_lab *lab, const char *name, struct vl_error *err)
{
	int found = VL_NONE;

	for (size_t i = 0; i < lab->n_aks; i++)
		if (name ? !strcmp(lab->aks[i].name, name) : lab->aks[i].netpol != VL_NETPOL_NONE) {
			if (found != VL_NONE && !name) {
				vl_error_set(err, NULL, (struct vl_loc){0, 0},
					     "lab '%s' has more than one cluster with network policies: give "
					     "--cluster",
					     lab->name);
				return -EINVAL;
			}
			found = (int)i;
		}
	if (found == VL_NONE && !name && lab->n_aks == 1)
		found = 0;
	if (found == VL_NONE)
		vl_error_set(err, NULL, (struct vl_loc){0, 0},
			     name ? "lab '%s' has no AKS cluster '%s'" : "lab '%s' has no AKS cluster%s",
			     lab->name, name ? name : "");
	return found == VL_NONE ? -ENOENT : found;
}

/* One record applied to the model (no kernel). */
static int apply_record(struct vl_lab *lab, char *line, struct vl_error *err)
{
	char *f[4] = {0}, *s = line;
	int n = 0, c;

	for (; n < 4; n++) {
		f[n] = s;
		s = strchr(s, '\t');
		if (!s)
			break;
		*s++ = '\0';
	}
	if (n < 2)
		return -EINVAL;
	c = vlnp_find_cluster(lab, f[1], err);
	if (c < 0)
		return c;
	if (!strcmp(f[0], "apply") && n == 3) {
		unescape(f[3]);
		return vl_netpol_load_buffer(f[2], f[3], strlen(f[3]), lab, c, err);
	}
	if (!strcmp(f[0], "delete") && n == 2) {
		char *slash = strchr(f[2], '/');

		if (!slash)
			return -EINVAL;
		*slash = '\0';
		vl_netpol_delete(lab, c, f[2], slash + 1); /* gone already: nothing to do */
		return 0;
	}
	return -EINVAL;
}

int vl_state_netpol_replay(const char *lab, struct vl_lab *l, struct vl_error *err)
{
	char path[256], *buf = NULL, **lines = NULL;
	size_t n = 0, cap = 0;
	struct stat st;
	int fd, rc = 0;

	path_of(path, sizeof(path), lab);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) || st.st_size > NP_JOURNAL_MAX || !(buf = calloc(1, (size_t)st.st_size + 1))) {
		close(fd);
		return -EFBIG;
	}
	if (read(fd, buf, (size_t)st.st_size) != st.st_size)
		rc = -EIO;
	close(fd);
	for (char *s = buf, *nl; !rc && (nl = strchr(s, '\n')); s = nl + 1) {
		*nl = '\0';
		if (!strcmp(s, "abort")) {
			if (n)
				n--;
			continue;
		}
		if (n == cap) {
			char **v = realloc(lines, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!v) {
				rc = -ENOMEM;
				break;
			}
			lines = v;
		}
		lines[n++] = s;
	}
	for (size_t i = 0; i < n && !rc; i++)
		if ((rc = apply_record(l, lines[i], err)) && !err->msg[0])
			vl_error_set(err, path, (struct vl_loc){0, 0}, "unreadable network policy record");
	if (!rc && n)
		rc = vl_eff_netpol_build(l);
	free(lines);
	free(buf);
	return rc;
}

