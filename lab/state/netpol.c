// SPDX-License-Identifier: MIT
/*
 * Live network policy edits (`netpol apply`, `netpol delete`), written ahead of the kernel in
 * /run/vnetlab/<lab>/netpols, one record a line, each one write(2) + fsync(2):
 *   apply \t <cluster> \t <file name> \t <the YAML text, \ \t \n escaped>
 *   delete \t <cluster> \t <namespace>/<name>
 *   abort                       (the record before it never reached the kernel)
 * and replayed over the topology copy after the NSG edits, so every later command sees the
 * policies as they are now. An edit rebuilds each node ruleset of the cluster (table replace in
 * one transaction per node); conntrack is never touched, so established connections survive.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnetlab/effective.h"
#include "vnetlab/loader.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"
#include "vnetlab/plan.h"
#include "vnetlab/state.h"

#define NP_JOURNAL "netpols"
#define NP_JOURNAL_MAX (16u << 20)

static void path_of(char *buf, size_t len, const char *lab)
{
	char dir[200];

	vl_state_dir(dir, sizeof(dir), lab);
	snprintf(buf, len, "%s/%s", dir, NP_JOURNAL);
}

static char *escape(const char *s)
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

static int append(const char *lab, const char *rec)
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

static int find_cluster(const struct vl_lab *lab, const char *name, struct vl_error *err)
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
	c = find_cluster(lab, f[1], err);
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

/* Every node of cluster c: its table rebuilt, one transaction each. */
static int commit_nodes(const struct vl_lab *lab, int c, struct vl_error *err)
{
	char ns[VL_NS_NAME_MAX], why[512] = "";
	int rc = 0, fd;

	for (size_t i = 0; i < lab->n_eps && !rc; i++) {
		if (lab->eps[i].kind != VL_EP_NODE || lab->eps[i].owner != c)
			continue;
		vl_ns_name(ns, lab->name, lab->eps[i].name);
		rc = vl_netns_open(ns, &fd);
		if (rc) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "opening %s: %s", ns, strerror(-rc));
			return rc;
		}
		rc = vl_nft_masq_commit(lab, (int)i, fd, why, sizeof(why));
		close(fd);
		if (rc)
			vl_error_set(err, NULL, (struct vl_loc){0, 0}, "committing the policies in %s: %s",
				     ns, why[0] ? why : strerror(-rc));
	}
	return rc;
}

int vl_ops_netpol(const char *name, const char *cluster, const char *file, const char *text, const char *del,
		  struct vl_lab **now, struct vl_error *err)
{
	struct vl_lab *lab = NULL;
	char *rec = NULL, *esc = NULL;
	int lock, rc, c = VL_NONE;
	size_t len;

	*now = NULL;
	rc = vl_state_lock(name, &lock, err);
	if (rc)
		return rc;
	if (!vl_state_exists(name)) {
		vl_error_set(err, NULL, (struct vl_loc){0, 0}, "lab '%s' is not up", name);
		rc = -ENOENT;
	}
	if (!rc)
		rc = vl_state_load_lab(name, &lab, err);
	if (!rc && (c = find_cluster(lab, cluster, err)) < 0)
		rc = c;
	if (!rc && del) {
		char ns[128];
		const char *slash = strchr(del, '/');

		snprintf(ns, sizeof(ns), "%.*s", slash ? (int)(slash - del) : 0, del);
		if (!slash || vl_netpol_delete(lab, c, ns, slash + 1)) {
			vl_error_set(err, NULL, (struct vl_loc){0, 0},
				     "cluster '%s' has no network policy '%s'", lab->aks[c].name, del);
			rc = -ENOENT;
		}
	} else if (!rc) {
		rc = vl_netpol_load_buffer(file, text, strlen(text), lab, c, err);
	}
	if (!rc)
		rc = vl_eff_netpol_build(lab);
	if (!rc) {
		esc = escape(del ? del : text);
		len = strlen(lab->aks[c].name) + strlen(file ? file : "") + (esc ? strlen(esc) : 0) + 32;
		rec = esc ? malloc(len) : NULL;
		if (!rec) {
			rc = -ENOMEM;
		} else {
			if (del)
				snprintf(rec, len, "delete\t%s\t%s\n", lab->aks[c].name, esc);
			else
				snprintf(rec, len, "apply\t%s\t%s\t%s\n", lab->aks[c].name, file, esc);
			rc = append(name, rec);
			if (rc)
				vl_error_set(err, NULL, (struct vl_loc){0, 0},
					     "recording the edit of lab '%s': %s", name, strerror(-rc));
		}
	}
	if (!rc && (rc = commit_nodes(lab, c, err)))
		append(name, "abort\n"); /* the kernel kept the policies as they were, or some nodes did */
	free(rec);
	free(esc);
	vl_state_unlock(name, lock);
	if (!rc)
		*now = lab;
	else
		vl_lab_free(lab);
	return rc;
}
