// SPDX-License-Identifier: MIT
/*
 * flows: the flows a running lab's NSGs decided, allowed and denied, from the agent's flow
 * records (<state>/flows.1, then <state>/flows); --follow keeps reading the file (across its
 * rotation) until interrupted. Rules the agent could not name are named with the lab as it is now.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "out.h"
#include "vnetlab/flowlog.h"
#include "vnetlab/ip.h"
#include "vnetlab/state.h"

#define FOLLOW_POLL_MS 200

struct out {
	const struct vl_lab *lab; /* NULL: names as the agent wrote them */
	enum out_fmt fmt;
	bool follow;
	json_t *list;	 /* fmt other than table, not following: the records, printed at the end */
	size_t n;	 /* records taken */
	char tail[1024]; /* a line not yet complete (the agent writes whole lines; a reader may be early) */
	size_t tail_len;
};

static void when(char *buf, size_t len, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03dZ", (int)(ms % 1000));
}

static const char *direction(const struct vl_flow *f)
{
	return f->dir == 'I' ? "Inbound" : f->dir == 'O' ? "Outbound" : "?";
}

/* The rule's name, or what the agent knew of it. */
static void rule_name(char *buf, size_t len, const struct vl_flow *f)
{
	if (!f->nsg[0])
		snprintf(buf, len, "(unknown rule ~%016" PRIx64 ")", f->id);
	else
		snprintf(buf, len, "%s", f->rule);
}

static json_t *flow_json(const struct vl_flow *f)
{
	char t[40], ip[VL_IP_STRLEN], buf[160];
	json_t *o = json_object();

	when(t, sizeof(t), f->ms);
	out_set(o, "time", out_str(t));
	out_set(o, "unixMs", out_int(f->ms));
	out_set(o, "decision", out_str(f->allowed ? "Allow" : "Deny"));
	out_set(o, "protocol", out_str(proto_lc(f->proto)));
	out_set(o, "source", out_str(vl_ip_fmt(f->src, ip)));
	out_set(o, "sourcePort", out_int(f->sport));
	out_set(o, "destination", out_str(vl_ip_fmt(f->dst, ip)));
	out_set(o, "destinationPort", out_int(f->dport));
	out_set(o, "direction", out_str(direction(f)));
	out_set(o, "nsg", out_str(f->nsg[0] ? f->nsg : NULL));
	rule_name(buf, sizeof(buf), f);
	out_set(o, "rule", out_str(buf));
	if (f->nsg[0]) {
		vl_flow_v2_rule(buf, sizeof(buf), f);
		out_set(o, "flowLogRule", out_str(buf));
	} else {
		out_set(o, "flowLogRule", json_null());
	}
	out_set(o, "flowTuple", vl_flow_v2_tuple(buf, sizeof(buf), f) > 0 ? out_str(buf) : json_null());
	return o;
}

static void print_row(const struct out *o, const struct vl_flow *f)
{
	char t[40], src[VL_IP_STRLEN], dst[VL_IP_STRLEN], tuple[128], rule[160], a[64], b[64];

	when(t, sizeof(t), f->ms);
	vl_ip_fmt(f->src, src);
	vl_ip_fmt(f->dst, dst);
	rule_name(rule, sizeof(rule), f);
	if (!o->n)
		printf("%-24s %-6s %-21s %-21s %-9s %-16s %-24s %s\n", "TIME", "PROTO", "SOURCE",
		       "DESTINATION", "DIRECTION", "NSG", "RULE", "DECISION");
	snprintf(tuple, sizeof(tuple), "%s:%u", src, f->sport);
	printf("%-24s %-6s %-21s ", t, proto_lc(f->proto), tuple);
	snprintf(tuple, sizeof(tuple), "%s:%u", dst, f->dport);
	printf("%-21s %-9s %-16s %-24s %s\n", tuple, direction(f),
	       cli_printable(f->nsg[0] ? f->nsg : "-", a, sizeof(a)), cli_printable(rule, b, sizeof(b)),
	       f->allowed ? "Allow" : "Deny");
}

static void take_flow(struct out *o, struct vl_flow *f)
{
	if (!f->nsg[0] && o->lab)
		vl_flow_resolve(o->lab, f);
	if (o->fmt == OUT_TABLE) {
		print_row(o, f);
	} else if (!o->follow) {
		out_add(o->list, flow_json(f));
	} else {
		json_t *rec = flow_json(f);

		out_record(stdout, rec, o->fmt);
		json_decref(rec);
	}
	o->n++;
	if (o->follow)
		fflush(stdout);
}

/* Whole lines of buf[0..len) (after what was left over); a partial last line is kept. */
static void take(struct out *o, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n') {
			if (o->tail_len < sizeof(o->tail) - 1)
				o->tail[o->tail_len++] = buf[i];
			continue;
		}
		o->tail[o->tail_len] = '\0';
		o->tail_len = 0;
		struct vl_flow f;

		if (vl_flow_parse(o->tail, &f) == 0)
			take_flow(o, &f);
	}
}

/* Read fd to its end. */
static void drain(struct out *o, int fd)
{
	char buf[8192];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		take(o, buf, (size_t)n);
}

static int open_file(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Until interrupted: what the agent appends, and after a rotation the new file from its start. */
static void follow(struct out *o, const char *dir, int fd, const char *lab)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/" VL_FLOW_FILE, dir);
	catch_signals();
	while (!stopped()) {
		struct stat now, cur;

		if (fd >= 0)
			drain(o, fd);
		if (stat(path, &now) == 0 && (fd < 0 || (fstat(fd, &cur) == 0 && cur.st_ino != now.st_ino))) {
			if (fd >= 0) {
				drain(o, fd); /* the rest of what became flows.1 */
				close(fd);
			}
			o->tail_len = 0;
			fd = open_file(dir, VL_FLOW_FILE);
			continue;
		}
		if (!vl_state_exists(lab))
			break; /* the lab went down */
		sleep_ms(FOLLOW_POLL_MS);
	}
	if (fd >= 0)
		close(fd);
}

int cmd_flows(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"output", required_argument, NULL, 'o'}, {"follow", no_argument, NULL, 'f'}, {0}};
	struct out o = {0};
	char dir[256];
	struct vl_error err = {0};
	struct vl_lab *lab = NULL;
	int c, fd, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:f", longopts, NULL)) != -1) {
		if (c == 'o' && !out_parse(optarg, &o.fmt))
			continue;
		if (c == 'f') {
			o.follow = true;
			continue;
		}
		return usage("flows");
	}
	if (argc - optind != 1)
		return usage("flows");
	if (need_root("flows"))
		return EXIT_USAGE;
	if (!lab_arg_ok(argv[optind]))
		return EXIT_USAGE;
	if (!vl_state_exists(argv[optind])) {
		fprintf(stderr, "vnetlab: no lab '%s' is up\n", argv[optind]);
		return 1;
	}
	/* Only to name rules the agent could not; the records stand without it. */
	if (vl_state_load_lab(argv[optind], &lab, &err) == 0)
		o.lab = lab;
	vl_state_dir(dir, sizeof(dir), argv[optind]);
	if (o.fmt != OUT_TABLE && !o.follow && !(o.list = json_array())) {
		vl_lab_free(lab);
		die_errno("flows", -ENOMEM);
		return 1;
	}
	fd = open_file(dir, VL_FLOW_FILE ".1");
	if (fd >= 0) {
		drain(&o, fd);
		close(fd);
		o.tail_len = 0;
	}
	fd = open_file(dir, VL_FLOW_FILE);
	if (fd >= 0)
		drain(&o, fd);
	if (o.follow) {
		follow(&o, dir, fd, argv[optind]);
	} else {
		if (fd >= 0)
			close(fd);
		if (o.list) {
			json_t *doc = json_object();

			out_set(doc, "flows", o.list);
			rc = out_emit(doc, o.fmt, "flows") ? 1 : 0;
			json_decref(doc);
		} else if (!o.n) {
			printf("no flows recorded yet in lab %s\n", argv[optind]);
		}
	}
	vl_lab_free(lab);
	return rc;
}
