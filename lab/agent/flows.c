// SPDX-License-Identifier: MIT
/*
 * The agent's flow records: each flow an NSG decided (the fabric logs the first packet of an
 * allowed flow and each denied packet, both rate-limited in the ruleset) becomes one line in
 * <state>/flows and, batched per read of the NFLOG sockets, one version 2 record per NSG in
 * <state>/nsg-flowlog.json. Each file is capped at VL_FLOW_FILE_MAX and rotated to ".1", so two
 * of each at most live on /run. Rules are named with the lab as it is now: the model `up` built,
 * then the state (topology and live edits) read again when a rule id is not in it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent-int.h"
#include "vnetlab/flowlog.h"
#include "vnetlab/state.h"

#define V2_TAIL "\n]}\n"

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *lab_name(const struct agent *a)
{
	const char *slash = strrchr(a->state_dir, '/');

	return slash ? slash + 1 : a->state_dir;
}

int vlag_name_rule(struct agent *a, struct vl_flow *f)
{
	char path[4200];
	struct vl_error err;
	struct vl_lab *now;
	struct stat st;
	int64_t stamp;

	if (vl_flow_resolve(a->lab, f) == 0 || (a->names && vl_flow_resolve(a->names, f) == 0))
		return 0;
	/* Only a live edit (a change of the journal) can bring a rule the models lack. */
	snprintf(path, sizeof(path), "%s/edits", a->state_dir);
	if (stat(path, &st) < 0)
		return -ENOENT;
	stamp = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec + st.st_size;
	if (stamp == a->names_at)
		return -ENOENT;
	a->names_at = stamp;
	if (vl_state_load_lab(lab_name(a), &now, &err) < 0)
		return -ENOENT;
	vl_lab_free(a->names);
	a->names = now;
	return vl_flow_resolve(a->names, f);
}

/*
 * The descriptor of state file `name`, kept open, with room for `more` bytes: past
 * VL_FLOW_FILE_MAX the file becomes name.1 (replacing that) and a new one is started.
 */
static int capped(struct agent *a, struct capped_file *c, const char *name, size_t more, int flags)
{
	char path[4200], old[4210];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", a->state_dir, name);
	for (int tries = 0; tries < 2; tries++) {
		if (c->fd >= 0 && (size_t)c->size + more <= VL_FLOW_FILE_MAX)
			return c->fd;
		if (c->fd >= 0) {
			snprintf(old, sizeof(old), "%s.1", path);
			if (rename(path, old) < 0)
				return -errno;
			close(c->fd);
			c->fd = -1;
		}
		c->fd = open(path, flags | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (c->fd < 0)
			return -errno; /* at the descriptor limit: tried again with the next record */
		c->size = fstat(c->fd, &st) == 0 ? st.st_size : 0;
	}
	return c->fd;
}

/*
 * Open both flow files at start-up, before the agent is ready: their descriptors are then
 * counted with the others from the start, and a file opened at the first flow cannot take the
 * last descriptor the reserve needs at the limit (found by harden::agent_at_its_descriptor_limit).
 */
void vlag_flow_open(struct agent *a)
{
	if (capped(a, &a->flow_file, VL_FLOW_FILE, 0, O_WRONLY | O_APPEND) < 0)
		vlag_log(a, "flow log %s: %s", VL_FLOW_FILE, strerror(errno));
	if (capped(a, &a->v2_file, VL_FLOW_V2_FILE, 0, O_RDWR) < 0) {
		vlag_log(a, "flow log %s: %s", VL_FLOW_V2_FILE, strerror(errno));
		return;
	}
	/* A valid document with no record, still short enough for the first record to rewrite it. */
	if (a->v2_file.size == 0 && pwrite(a->v2_file.fd, "{\"records\":[]}\n", 15, 0) == 15)
		a->v2_file.size = 15;
}

static void write_line(struct agent *a, const char *line, size_t n)
{
	int fd = capped(a, &a->flow_file, VL_FLOW_FILE, n, O_WRONLY | O_APPEND);

	if (fd < 0)
		return;
	if (write(fd, line, n) == (ssize_t)n)
		a->flow_file.size += (off_t)n;
	/* else a full /run loses flow lines, nothing else */
}

void vlag_flow_record(struct agent *a, const struct vl_drop *d)
{
	struct vl_flow f = {.ms = wall_ms(),
			    .allowed = d->allowed,
			    .proto = d->proto,
			    .src = d->src,
			    .dst = d->dst,
			    .sport = d->sport,
			    .dport = d->dport,
			    .dir = '?',
			    .id = d->id};
	char line[512];
	int n;

	if (d->nsg[0]) {
		snprintf(f.nsg, sizeof(f.nsg), "%s", d->nsg);
		snprintf(f.rule, sizeof(f.rule), "%s", d->rule);
	}
	if (vlag_name_rule(a, &f) < 0 && !f.id)
		f.id = vl_rule_id(f.nsg, f.rule);
	if (f.dir == '?')
		f.nsg[0] = f.rule[0] = '\0'; /* unknown: the line keeps the id for a reader with the model */
	n = vl_flow_format(line, sizeof(line), &f);
	if (n > 0)
		write_line(a, line, (size_t)n);
	a->flows++;
	if (f.dir == '?' || (f.proto != VL_PROTO_TCP && f.proto != VL_PROTO_UDP))
		return; /* version 2 defines TCP and UDP tuples only */
	if (a->n_pend == a->cap_pend) {
		size_t cap = a->cap_pend ? 2 * a->cap_pend : 64;
		struct vl_flow *v = realloc(a->pend, cap * sizeof(*v));

		if (!v)
			return;
		a->pend = v;
		a->cap_pend = cap;
	}
	a->pend[a->n_pend++] = f;
	if (a->n_pend >= 1024)
		vlag_flow_flush(a);
}

/* Append one record to the version 2 document, which stays valid JSON after every write. */
static void v2_append(struct agent *a, const char *rec, size_t n)
{
	static const char head[] = "{\"records\":[\n";
	size_t tail = strlen(V2_TAIL);
	int fd = capped(a, &a->v2_file, VL_FLOW_V2_FILE, n + sizeof(head) + tail, O_RDWR);
	bool fresh;
	char *buf;
	int m;

	if (fd < 0)
		return;
	fresh = a->v2_file.size < (off_t)(strlen(head) + tail);
	buf = malloc(n + 64);
	if (!buf)
		return;
	m = snprintf(buf, n + 64, "%s%.*s" V2_TAIL, fresh ? head : ",\n", (int)n, rec);
	if (fresh && ftruncate(fd, 0) < 0)
		m = -1;
	if (m > 0 && pwrite(fd, buf, (size_t)m, fresh ? 0 : a->v2_file.size - (off_t)tail) == m)
		a->v2_file.size = (fresh ? 0 : a->v2_file.size - (off_t)tail) + m;
	/* else a full /run loses records, nothing else */
	free(buf);
}

void vlag_flow_flush(struct agent *a)
{
	bool *done;

	if (!a->n_pend)
		return;
	done = calloc(a->n_pend, sizeof(*done));
	for (size_t i = 0; done && i < a->n_pend; i++) {
		struct vl_flow *same;
		size_t k = 0;
		char *rec = NULL;
		size_t len = 0;
		FILE *f;

		if (done[i])
			continue;
		same = malloc((a->n_pend - i) * sizeof(*same));
		if (!same)
			break;
		for (size_t j = i; j < a->n_pend; j++)
			if (!done[j] && !strcmp(a->pend[j].nsg, a->pend[i].nsg)) {
				same[k++] = a->pend[j];
				done[j] = true;
			}
		f = open_memstream(&rec, &len);
		if (f) {
			int err = vl_flow_v2_record(f, lab_name(a), same, k);

			if (fclose(f) == 0 && !err)
				v2_append(a, rec, len);
		}
		free(rec);
		free(same);
	}
	free(done);
	a->n_pend = 0;
}
