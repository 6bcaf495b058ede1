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
#include "vnetlab/flowlog.h"
#include "vnetlab/ip.h"
#include "vnetlab/state.h"

#define FOLLOW_POLL_MS 200

struct out {
	const struct vl_lab *lab; /* NULL: names as the agent wrote them */
	bool json, follow;
	size_t n;	 /* records printed */
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

static void print_flow(struct out *o, struct vl_flow *f)
{
	char t[40], src[VL_IP_STRLEN], dst[VL_IP_STRLEN], tuple[128], rule[160], a[64], b[64];
	const char *dir = f->dir == 'I' ? "Inbound" : f->dir == 'O' ? "Outbound" : "?";

	if (!f->nsg[0] && o->lab)
		vl_flow_resolve(o->lab, f);
	dir = f->dir == 'I' ? "Inbound" : f->dir == 'O' ? "Outbound" : "?";
	when(t, sizeof(t), f->ms);
	vl_ip_fmt(f->src, src);
	vl_ip_fmt(f->dst, dst);
	if (!f->nsg[0])
		snprintf(rule, sizeof(rule), "(unknown rule ~%016" PRIx64 ")", f->id);
	else
		snprintf(rule, sizeof(rule), "%s", f->rule);
	if (o->json) {
		if (!o->follow)
			fputs(o->n ? ",\n  " : "\n  ", stdout);
		printf("{\"time\":\"%s\",\"unixMs\":%" PRId64
		       ",\"decision\":\"%s\",\"protocol\":\"%s\",\"source\":\"%s\","
		       "\"sourcePort\":%u,\"destination\":\"%s\",\"destinationPort\":%u,\"direction\":\"%s\","
		       "\"nsg\":",
		       t, f->ms, f->allowed ? "Allow" : "Deny", proto_lc(f->proto), src, f->sport, dst,
		       f->dport, dir);
		if (f->nsg[0])
			json_str(stdout, f->nsg);
		else
			fputs("null", stdout);
		fputs(",\"rule\":", stdout);
		json_str(stdout, rule);
		fputs(",\"flowLogRule\":", stdout);
		if (f->nsg[0]) {
			vl_flow_v2_rule(rule, sizeof(rule), f);
			json_str(stdout, rule);
		} else {
			fputs("null", stdout);
		}
		fputs(",\"flowTuple\":", stdout);
		if (vl_flow_v2_tuple(tuple, sizeof(tuple), f) > 0)
			json_str(stdout, tuple);
		else
			fputs("null", stdout);
		fputc('}', stdout);
		if (o->follow)
			fputc('\n', stdout);
	} else {
		if (!o->n)
			printf("%-24s %-6s %-21s %-21s %-9s %-16s %-24s %s\n", "TIME", "PROTO", "SOURCE",
			       "DESTINATION", "DIRECTION", "NSG", "RULE", "DECISION");
		snprintf(tuple, sizeof(tuple), "%s:%u", src, f->sport);
		printf("%-24s %-6s %-21s ", t, proto_lc(f->proto), tuple);
		snprintf(tuple, sizeof(tuple), "%s:%u", dst, f->dport);
		printf("%-21s %-9s %-16s %-24s %s\n", tuple, dir,
		       cli_printable(f->nsg[0] ? f->nsg : "-", a, sizeof(a)),
		       cli_printable(rule, b, sizeof(b)), f->allowed ? "Allow" : "Deny");
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
			print_flow(o, &f);
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
	int c, fd;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:f", longopts, NULL)) != -1) {
		if (c == 'o' && !parse_output(optarg, &o.json))
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
	if (o.json && !o.follow)
		fputs("{\"flows\":[", stdout);
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
		if (o.json)
			fputs(o.n ? "\n]}\n" : "]}\n", stdout);
		else if (!o.n)
			printf("no flows recorded yet in lab %s\n", argv[optind]);
	}
	vl_lab_free(lab);
	return 0;
}
