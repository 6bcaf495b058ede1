// SPDX-License-Identifier: MIT
/*
 * capture: libpcap on an endpoint's eth0, from inside its namespace. -w writes a pcap file
 * (tcpdump and Wireshark read it; "-" is stdout); otherwise one line per packet.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <pcap/pcap.h>

#include "cli.h"
#include "vnetlab/netns.h"
#include "vnetlab/plan.h"
#include "vnetlab/state.h"

#define SNAPLEN 262144

struct cap_args {
	const char *lab, *ep, *file, *filter;
	long count;	 /* 0: no limit */
	long timeout_ms; /* 0: until interrupted */
};

struct cap {
	pcap_dumper_t *dump;
	long seen;
	int linktype;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int parse_args(int argc, char **argv, struct cap_args *a)
{
	int pos = 0;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool has = i + 1 < argc;

		if (!strcmp(o, "-w") && has)
			a->file = argv[++i];
		else if ((!strcmp(o, "--count") || !strcmp(o, "-c")) && has) {
			if (parse_long(argv[++i], 1, LONG_MAX, &a->count))
				return -1;
		} else if (!strcmp(o, "--filter") && has)
			a->filter = argv[++i];
		else if (!strcmp(o, "--timeout") && has) {
			if (parse_long(argv[++i], 1, 86400000L, &a->timeout_ms))
				return -1;
		} else if (o[0] == '-' && o[1])
			return -1;
		else if (pos == 0 && ++pos)
			a->lab = o;
		else if (pos == 1 && ++pos)
			a->ep = o;
		else
			return -1;
	}
	return pos == 2 ? 0 : -1;
}

static const char *tcp_flags(uint8_t f, char *buf)
{
	static const char names[] = "FSRPAUEC";
	size_t k = 0;

	for (int i = 0; i < 8; i++)
		if (f & (1u << i))
			buf[k++] = names[i];
	buf[k] = '\0';
	return buf;
}

/* "time proto src[:port] > dst[:port] len N", read from an Ethernet frame. */
static void print_packet(const struct pcap_pkthdr *h, const u_char *p, int linktype)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], tbuf[16], fl[9];
	struct tm tm;
	time_t sec = h->ts.tv_sec;
	size_t n = h->caplen, off = 0;
	unsigned type;

	localtime_r(&sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	printf("%s.%06ld ", tbuf, (long)h->ts.tv_usec);
	if (linktype != DLT_EN10MB || n < 14) {
		printf("? len %u\n", h->len);
		return;
	}
	type = (unsigned)p[12] << 8 | p[13];
	off = 14;
	if (type == 0x0806 && n >= off + 28) {
		inet_ntop(AF_INET, p + off + 14, src, sizeof(src));
		inet_ntop(AF_INET, p + off + 24, dst, sizeof(dst));
		printf("ARP %s %s > %s len %u\n", p[off + 7] == 1 ? "request" : "reply", src, dst, h->len);
		return;
	}
	if (type != 0x0800 || n < off + 20) {
		printf("ethertype 0x%04x len %u\n", type, h->len);
		return;
	}
	{
		const u_char *ip = p + off;
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4, l4 = off + ihl;
		uint8_t proto = ip[9];
		unsigned sport = 0, dport = 0;

		inet_ntop(AF_INET, ip + 12, src, sizeof(src));
		inet_ntop(AF_INET, ip + 16, dst, sizeof(dst));
		if ((proto == 6 || proto == 17) && n >= l4 + 4) {
			sport = (unsigned)p[l4] << 8 | p[l4 + 1];
			dport = (unsigned)p[l4 + 2] << 8 | p[l4 + 3];
		}
		if (proto == 6 && n >= l4 + 14)
			printf("TCP %s:%u > %s:%u [%s] len %u\n", src, sport, dst, dport,
			       tcp_flags(p[l4 + 13], fl), h->len);
		else if (proto == 6 || proto == 17)
			printf("%s %s:%u > %s:%u len %u\n", proto == 6 ? "TCP" : "UDP", src, sport, dst,
			       dport, h->len);
		else if (proto == 1 && n >= l4 + 2)
			printf("ICMP %s > %s type %u code %u len %u\n", src, dst, p[l4], p[l4 + 1], h->len);
		else
			printf("IP proto %u %s > %s len %u\n", proto, src, dst, h->len);
	}
}

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct cap *c = (struct cap *)user;

	c->seen++;
	if (c->dump)
		pcap_dump((u_char *)c->dump, h, bytes);
	else
		print_packet(h, bytes, c->linktype);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int capture_loop(pcap_t *p, struct cap *c, const struct cap_args *a)
{
	long deadline = a->timeout_ms ? now_ms() + a->timeout_ms : 0;
	struct pollfd pfd = {.fd = pcap_get_selectable_fd(p), .events = POLLIN};

	while (!stop && (!a->count || c->seen < a->count)) {
		long wait = 200;
		int n;

		if (deadline) {
			long left = deadline - now_ms();

			if (left <= 0)
				break;
			if (left < wait)
				wait = left;
		}
		if (poll(&pfd, 1, (int)wait) < 0 && errno != EINTR)
			return -errno;
		n = pcap_dispatch(p, a->count ? (int)(a->count - c->seen) : -1, on_packet, (u_char *)c);
		if (n < 0)
			return n == PCAP_ERROR_BREAK ? 0 : -EIO;
		if (c->dump)
			pcap_dump_flush(c->dump);
		else
			fflush(stdout);
	}
	return 0;
}

static int endpoint_ns(const struct cap_args *a, char *ns)
{
	struct vl_lab *lab;
	int rc = 0;

	if (!vl_state_exists(a->lab)) {
		fprintf(stderr, "vnetlab: lab '%s' is not up\n", a->lab);
		return -1;
	}
	lab = load_lab_or_file(a->lab, NULL);
	if (!lab)
		return -1;
	if (vl_lab_find_endpoint(lab, a->ep) == VL_NONE) {
		char q[200];

		fprintf(stderr, "vnetlab: lab '%s' has no endpoint '%s'\n", a->lab,
			cli_printable(a->ep, q, sizeof(q)));
		rc = -1;
	} else
		vl_ns_name(ns, a->lab, a->ep);
	vl_lab_free(lab);
	return rc;
}

int cmd_capture(int argc, char **argv)
{
	char ns[VL_NS_NAME_MAX], why[600], errbuf[PCAP_ERRBUF_SIZE];
	struct cap c = {0};
	struct cap_args a;
	struct bpf_program prog;
	FILE *out = NULL;
	pcap_t *p = NULL;
	int rc, ret = 1;

	if (parse_args(argc, argv, &a))
		return usage("capture");
	if (need_root("capture") || !lab_arg_ok(a.lab))
		return EXIT_USAGE;
	if (endpoint_ns(&a, ns))
		return 1;
	/* the file is opened where the user stands, before entering the lab */
	if (a.file) {
		out = strcmp(a.file, "-") ? fopen(a.file, "wb") : stdout;
		if (!out) {
			fprintf(stderr, "vnetlab: capture: cannot write %s: %s\n", a.file, strerror(errno));
			return 1;
		}
	}
	if (enter_lab(a.lab))
		goto out;
	rc = vl_netns_exec_enter(ns, why, sizeof(why));
	if (rc) {
		fprintf(stderr, "vnetlab: capture in %s: %s\n", ns, why);
		goto out;
	}
	p = pcap_create("eth0", errbuf);
	if (!p) {
		fprintf(stderr, "vnetlab: capture: %s\n", errbuf);
		goto out;
	}
	pcap_set_snaplen(p, SNAPLEN);
	pcap_set_promisc(p, 1);
	pcap_set_immediate_mode(p, 1);
	rc = pcap_activate(p);
	if (rc < 0) {
		fprintf(stderr, "vnetlab: capture on eth0 of %s: %s\n", a.ep, pcap_geterr(p));
		goto out;
	}
	if (a.filter) {
		if (pcap_compile(p, &prog, a.filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
			fprintf(stderr, "vnetlab: capture: bad filter: %s\n", pcap_geterr(p));
			goto out;
		}
		rc = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (rc < 0) {
			fprintf(stderr, "vnetlab: capture: %s\n", pcap_geterr(p));
			goto out;
		}
	}
	if (pcap_setnonblock(p, 1, errbuf) < 0) {
		fprintf(stderr, "vnetlab: capture: %s\n", errbuf);
		goto out;
	}
	c.linktype = pcap_datalink(p);
	if (out) {
		c.dump = pcap_dump_fopen(p, out);
		if (!c.dump) {
			fprintf(stderr, "vnetlab: capture: %s\n", pcap_geterr(p));
			goto out;
		}
		out = NULL; /* the dumper owns it now */
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	fprintf(stderr, "capturing on eth0 of %s (%s)%s%s\n", a.ep, ns, a.file ? ", writing " : "",
		a.file ? a.file : "");
	rc = capture_loop(p, &c, &a);
	if (rc)
		fprintf(stderr, "vnetlab: capture: %s\n", rc == -EIO ? pcap_geterr(p) : strerror(-rc));
	else
		ret = 0;
	fprintf(stderr, "%ld packet%s captured\n", c.seen, c.seen == 1 ? "" : "s");
out:
	if (c.dump)
		pcap_dump_close(c.dump);
	if (out && out != stdout)
		fclose(out);
	if (p)
		pcap_close(p);
	return ret;
}
