// SPDX-License-Identifier: MIT
/*
 * One real connection attempt from inside an endpoint's namespace. The socket
 * is created inside the namespace and used from ours; the agent's drop
 * records (agent.sock) turn a silent NSG drop into an early, named result.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vnetlab/agent.h"
#include "vnetlab/effective.h"
#include "vnetlab/ip.h"
#include "vnetlab/netns.h"
#include "vnetlab/plan.h"
#include "vnetlab/probe.h"

#define WATCH_ACK_MS 500
#define REPLY_WAIT_MS 1000
#define DEFAULT_TIMEOUT_MS 3000

/* What a drop record must look like to be ours. */
struct match {
	enum vl_proto proto;
	uint32_t src;
	uint16_t sport;
	uint32_t dst;
	uint16_t dport;
	uint32_t node_ip; /* NIC address our traffic may be masqueraded to; 0 if none */
	int from;		  /* the probing endpoint */
	const struct vl_lab *lab; /* maps a drop's short rule id back to names */
	int svc_cluster, svc; /* dst is this ClusterIP or frontend (svc_cluster VL_NONE: none): kube-proxy */
	uint16_t svc_target;	  /* DNATs it to one of its pods' target port before any NSG */
	bool via_lb; /* ... from the Internet or to a NodePort: a node may have masqueraded it (Cluster) */
};

/* A ClusterIP flow is dropped after kube-proxy's DNAT: the fabric logs the pod's address. */
static bool dnat_matches(const struct vl_drop *d, const struct match *m)
{
	const struct vl_svc_pods *l;

	if (m->svc_cluster == VL_NONE || d->dport != m->svc_target)
		return false;
	l = vl_eff_service_pods(m->lab, m->svc_cluster, m->svc);
	for (size_t i = 0; i < l->n; i++)
		if (m->lab->eps[l->pods[i]].ip == d->dst)
			return true;
	return false;
}

/* To a node's NodePort from outside that node: kube-proxy there DNATs it to a pod (masqueraded to
 * the node with externalTrafficPolicy Cluster), so a drop after it names the pod. */
static void node_port_match(const struct vl_lab *lab, int from, uint32_t dst, enum vl_proto proto,
			    uint16_t port, struct match *m)
{
	int n = vl_lab_find_endpoint_near(lab, from, dst), s;
	const struct vl_svc_port *sp;

	if (n == VL_NONE || n == from || lab->eps[n].kind != VL_EP_NODE || lab->eps[n].virtual_node ||
	    (lab->eps[from].kind == VL_EP_POD && lab->eps[from].node == n))
		return;
	s = vl_eff_node_port(lab, lab->eps[n].owner, proto, port, &sp);
	if (s == VL_NONE)
		return;
	m->svc_cluster = lab->eps[n].owner;
	m->svc = s;
	m->svc_target = sp->target_port;
	m->via_lb = true; /* a node's address, as after the load balancer */
}

const char *vl_probe_status_name(enum vl_probe_status s)
{
	switch (s) {
	case VL_PROBE_CONNECTED:
		return "connected";
	case VL_PROBE_REFUSED:
		return "refused";
	case VL_PROBE_TIMEOUT:
		return "timeout";
	case VL_PROBE_DROPPED:
		return "dropped";
	case VL_PROBE_UNREACHABLE:
		return "unreachable";
	}
	return "?";
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double now_fms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Subscribe to the agent's drop records; -1 when no agent answers (probe without attribution). */
static int watch_open(const char *dir)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct pollfd p;
	char buf[64];
	int fd;

	if (!dir || (size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/agent.sock", dir) >=
			sizeof(sun.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send(fd, "watch\n", 6, MSG_NOSIGNAL) != 6)
		goto fail;
	/* wait for the ack: a drop logged before the agent saw "watch" would be lost */
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, WATCH_ACK_MS) != 1 || recv(fd, buf, sizeof(buf), 0) < 2 || strncmp(buf, "ok", 2) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static bool drop_matches(const struct vl_drop *d, const struct match *m)
{
	if (d->proto != m->proto)
		return false;
	if (d->dst != m->dst || (m->proto != VL_PROTO_ICMP && d->dport != m->dport)) {
		if (!dnat_matches(d, m))
			return false;
	}
	if (d->sport != m->sport)
		return false;
	/* Masqueraded behind our node, the fabric sees the node address. NAT keeps
	 * the port (the echo id) unless it clashes, so the port still tells our
	 * packet from the node's or another pod's to the same destination. */
	if (d->src == m->src || (m->node_ip && d->src == m->node_ip))
		return true;
	if (m->via_lb) /* externalTrafficPolicy Cluster: the backend node's address */
		for (size_t i = 0; i < m->lab->n_eps; i++)
			if (m->lab->eps[i].kind == VL_EP_NODE && m->lab->eps[i].owner == m->svc_cluster &&
			    m->lab->eps[i].ip == d->src)
				return true;
	return false;
}

struct ours {
	const struct match *m;
	struct vl_probe_result *r;
};

static bool take_ours(const struct vl_drop *logged, void *arg)
{
	struct ours *o = arg;
	struct vl_drop d = *logged;

	if (!drop_matches(&d, o->m))
		return false;
	if (vl_drop_resolve(o->m->lab, &d))
		snprintf(d.rule, sizeof(d.rule), "(unknown rule ~%016llx)", (unsigned long long)d.id);
	o->r->status = VL_PROBE_DROPPED;
	if (dnat_matches(&d, o->m)) /* after kube-proxy's DNAT: the pod it went to */
		o->r->backend_pod = vl_lab_find_endpoint_by_ip(o->m->lab, d.dst);
	snprintf(o->r->nsg, sizeof(o->r->nsg), "%s", d.nsg);
	snprintf(o->r->rule, sizeof(o->r->rule), "%s", d.rule);
	return true;
}

/* Drain drop records; true (and r filled) when one is ours. Closes *wfd when the agent went away. */
static bool watch_read(int *wfd, const struct match *m, struct vl_probe_result *r)
{
	char buf[VL_WATCH_MSG_MAX + 1];
	struct ours o = {m, r};

	for (;;) {
		ssize_t n = recv(*wfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

		if (n <= 0) {
			if (n == 0 || errno != EAGAIN) {
				close(*wfd);
				*wfd = -1;
			}
			return false;
		}
		if (vl_drop_each(buf, (size_t)n, take_ours, &o))
			return true;
	}
}

enum { WAIT_TIMEOUT, WAIT_READY, WAIT_DROPPED };

/* Wait for `events` on fd, a matching drop, or the deadline. WAIT_* or -errno. */
static int wait_fd(int fd, short events, int *wfd, const struct match *m, int64_t deadline,
		   struct vl_probe_result *r)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = events}, {.fd = *wfd, .events = POLLIN}};
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return WAIT_TIMEOUT;
		n = poll(p, *wfd >= 0 ? 2 : 1, (int)left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (p[0].revents)
			return WAIT_READY;
		if (*wfd >= 0 && p[1].revents && watch_read(wfd, m, r))
			return WAIT_DROPPED;
	}
}

static int socket_in(const struct vl_lab *lab, int from, int type, int proto)
{
	char ns[VL_NS_NAME_MAX];
	int saved, fd, err, leave;

	vl_ns_name(ns, lab->name, lab->eps[from].name);
	err = vl_netns_enter_name(ns, &saved);
	if (err < 0)
		return err;
	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	err = fd < 0 ? -errno : 0;
	leave = vl_netns_leave(saved);
	if (leave < 0) {
		/* the socket is fine, but the caller must not go on in the endpoint's namespace */
		if (fd >= 0)
			close(fd);
		return leave;
	}
	return err < 0 ? err : fd;
}

int vl_probe_errno_status(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return VL_PROBE_REFUSED;
	case EHOSTUNREACH: /* ICMP host unreachable, admin prohibited; an unreachable route */
	case ENETUNREACH:  /* ICMP net unreachable; no route */
	case EACCES:	   /* a prohibit route */
	case EHOSTDOWN:
	case ENONET:
	case ENOPROTOOPT: /* ICMP protocol unreachable */
		return VL_PROBE_UNREACHABLE;
	case ETIMEDOUT:
		return VL_PROBE_TIMEOUT;
	}
	return -1;
}

int vl_probe_icmp_status(uint8_t type, uint8_t code, bool from_target)
{
	if (type == ICMP_DEST_UNREACH)
		return code == ICMP_PORT_UNREACH && from_target ? VL_PROBE_REFUSED : VL_PROBE_UNREACHABLE;
	if (type == ICMP_TIME_EXCEEDED)
		return VL_PROBE_UNREACHABLE;
	return -1;
}

/* A connect or send that failed at once (errno e): what the network said, else -e. */
static int failed_at_once(int e, struct vl_probe_result *r, double t0)
{
	int s = vl_probe_errno_status(e);

	if (s < 0)
		return -e;
	r->status = (enum vl_probe_status)s;
	r->ms = now_fms() - t0;
	return 0;
}

/* Which app serves dst:port, as the lab file says: HELLO, ECHO, NONE; -1 when dst is no endpoint. */
static int target_app(const struct vl_lab *lab, int from, uint32_t dst, uint16_t port)
{
	int t = vl_lab_find_endpoint_near(lab, from, dst);

	if (dst == VL_IP_AZURE_PLATFORM) /* DNS and the agent ports: nothing says who it saw */
		return VL_APP_NONE;
	if (t == VL_NONE)
		return -1;
	/* a NodePort: the app of the pod kube-proxy sends it to */
	if (lab->eps[t].kind == VL_EP_NODE &&
	    vl_eff_node_port(lab, lab->eps[t].owner, VL_PROTO_TCP, port, NULL) != VL_NONE)
		return -1;
	for (size_t i = 0; i < lab->eps[t].n_ports; i++)
		if (lab->eps[t].ports[i] == port)
			return (int)lab->eps[t].app;
	return VL_APP_NONE;
}

/* Read what the app says (at most REPLY_WAIT_MS) and keep the client address it saw. */
static void read_seen(int fd, int app, struct vl_probe_result *r)
{
	static const char get[] = "GET / HTTP/1.0\r\nHost: vnetlab\r\nUser-Agent: vnetlab-probe\r\n\r\n";
	int64_t deadline = now_ms() + REPLY_WAIT_MS;
	char buf[4096];
	size_t have = 0;

	if (app == VL_APP_NONE)
		return;
	if (app == VL_APP_HELLO && send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL) < 0)
		return;
	/* app < 0 (a service or public address): both apps speak unprompted, hello after a short wait */
	while (have < sizeof(buf) - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = recv(fd, buf + have, sizeof(buf) - 1 - have, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (vl_app_parse_name(buf, r->answered_by, sizeof(r->answered_by)) < 0)
			r->answered_by[0] = '\0';
		if (vl_app_parse_seen(buf, r->seen_source, sizeof(r->seen_source)) == 0)
			return;
	}
	buf[have] = '\0';
	if (vl_app_parse_seen(buf, r->seen_source, sizeof(r->seen_source)) < 0)
		r->seen_source[0] = '\0';
	if (vl_app_parse_name(buf, r->answered_by, sizeof(r->answered_by)) < 0)
		r->answered_by[0] = '\0';
}

static void local_addr(int fd, struct match *m)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &sl) == 0 && sin.sin_family == AF_INET) {
		if (sin.sin_addr.s_addr)
			m->src = ntohl(sin.sin_addr.s_addr);
		m->sport = ntohs(sin.sin_port);
	}
}

static int probe_tcp(int fd, const struct vl_lab *lab, struct match *m, int *wfd, int64_t deadline,
		     struct vl_probe_result *r, double t0)
{
	struct sockaddr_in sin = {
	    .sin_family = AF_INET, .sin_port = htons(m->dport), .sin_addr.s_addr = htonl(m->dst)};
	socklen_t sl = sizeof(int);
	int rc, soerr = 0;

	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS)
		return failed_at_once(errno, r, t0);
	local_addr(fd, m);
	r->sport = m->sport;
	rc = wait_fd(fd, POLLOUT, wfd, m, deadline, r);
	if (rc < 0)
		return rc;
	r->ms = now_fms() - t0;
	if (rc == WAIT_TIMEOUT) {
		r->status = VL_PROBE_TIMEOUT;
		return 0;
	}
	if (rc == WAIT_DROPPED)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -errno;
	if (soerr == 0) {
		r->status = VL_PROBE_CONNECTED;
		read_seen(fd, target_app(lab, m->from, m->dst, m->dport), r);
	} else if (vl_probe_errno_status(soerr) >= 0) {
		r->status = (enum vl_probe_status)vl_probe_errno_status(soerr);
	} else {
		return -soerr;
	}
	return 0;
}

int vl_probe_udp_error(int fd, uint32_t dst)
{
	char data[64], ctl[512];
	struct sockaddr_in from;
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr mh = {.msg_name = &from,
			    .msg_namelen = sizeof(from),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = sizeof(ctl)};

	if (recvmsg(fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		const struct sock_extended_err *ee;
		const struct sockaddr_in *off;

		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
			continue;
		ee = (const void *)CMSG_DATA(c);
		if (ee->ee_origin == SO_EE_ORIGIN_ICMP) {
			off = (const void *)SO_EE_OFFENDER(ee);
			return vl_probe_icmp_status(ee->ee_type, ee->ee_code,
						    off->sin_family == AF_INET &&
							ntohl(off->sin_addr.s_addr) == dst);
		}
		return vl_probe_errno_status((int)ee->ee_errno);
	}
	return -1;
}

static uint16_t fresh_id(void)
{
	static unsigned counter;

	return (uint16_t)((unsigned)getpid() * 2654435761u + (unsigned)now_ms() + ++counter * 7919u);
}

/*
 * A datagram out; a full device queue (ENOBUFS, EAGAIN: a flood just before, on a busy host)
 * is waited out until the deadline rather than reported as the probe's failure.
 */
static ssize_t send_retry(int fd, const void *buf, size_t len, const struct sockaddr_in *to, int64_t deadline)
{
	for (;;) {
		ssize_t n = to ? sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof(*to))
			       : send(fd, buf, len, 0);

		if (n >= 0 || (errno != ENOBUFS && errno != EAGAIN) || now_ms() >= deadline)
			return n;
		usleep(10000);
	}
}

static int probe_udp(int fd, const struct vl_lab *lab, int from, struct match *m, int *wfd, int64_t deadline,
		     struct vl_probe_result *r, double t0)
{
	struct sockaddr_in sin = {
	    .sin_family = AF_INET, .sin_port = htons(m->dport), .sin_addr.s_addr = htonl(m->dst)};
	struct vl_dns_reply dr;
	char buf[2048];
	size_t len = 6;
	uint16_t id = 0;
	int one = 1;
	ssize_t n;
	int rc, s;

	/* ICMP net and host unreachable reach a UDP socket only with IP_RECVERR */
	setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return failed_at_once(errno, r, t0);
	local_addr(fd, m);
	r->sport = m->sport;
	memcpy(buf, "probe\n", 6);
	if (m->dport == VL_DNS_PORT) {
		id = fresh_id();
		rc = vl_dns_query_build(buf, sizeof(buf), id, lab->eps[from].name, VL_DNS_TYPE_A);
		if (rc < 0)
			return rc;
		len = (size_t)rc;
	}
	if (send_retry(fd, buf, len, NULL, deadline) < 0)
		return failed_at_once(errno, r, t0);
	rc = wait_fd(fd, POLLIN, wfd, m, deadline, r);
	r->ms = now_fms() - t0;
	if (rc < 0)
		return rc;
	if (rc == WAIT_TIMEOUT)
		r->status = VL_PROBE_TIMEOUT;
	if (rc != WAIT_READY)
		return 0;
	s = vl_probe_udp_error(fd, m->dst);
	if (s >= 0) {
		r->status = (enum vl_probe_status)s;
		return 0;
	}
	n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (n < 0) {
		s = vl_probe_errno_status(errno);
		if (s < 0)
			return -errno;
		r->status = (enum vl_probe_status)s;
		return 0;
	}
	r->status = VL_PROBE_CONNECTED;
	/* a DNS response says nothing about who asked */
	if (m->dport == VL_DNS_PORT && vl_dns_reply_parse(buf, (size_t)n, &dr) == 0 && dr.id == id)
		return 0;
	buf[n] = '\0';
	if (vl_app_parse_seen(buf, r->seen_source, sizeof(r->seen_source)) < 0)
		r->seen_source[0] = '\0';
	if (vl_app_parse_name(buf, r->answered_by, sizeof(r->answered_by)) < 0)
		r->answered_by[0] = '\0';
	return 0;
}

static uint16_t csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

int vl_probe_icmp_verdict(const void *msg, size_t len, uint32_t dst, uint16_t id)
{
	const uint8_t *pkt = msg, *ic, *in;
	size_t ihl, iihl;
	uint32_t src, qdst;

	if (len < 20 || (pkt[0] >> 4) != 4)
		return -1;
	ihl = (size_t)(pkt[0] & 0x0f) * 4;
	if (ihl < 20 || len < ihl + 8)
		return -1;
	ic = pkt + ihl;
	memcpy(&src, pkt + 12, 4);
	if (ic[0] == ICMP_ECHOREPLY)
		return ntohl(src) == dst && (uint16_t)(ic[4] << 8 | ic[5]) == id ? VL_PROBE_CONNECTED : -1;
	if (ic[0] != ICMP_DEST_UNREACH && ic[0] != ICMP_TIME_EXCEEDED)
		return -1;
	/* the error quotes our IP header and the first 8 bytes of our echo */
	in = ic + 8;
	if (len < ihl + 8 + 20)
		return -1;
	iihl = (size_t)(in[0] & 0x0f) * 4;
	if (iihl < 20 || in[9] != IPPROTO_ICMP || len < ihl + 8 + iihl + 8)
		return -1;
	memcpy(&qdst, in + 16, 4);
	if (ntohl(qdst) != dst || in[iihl] != ICMP_ECHO || (uint16_t)(in[iihl + 4] << 8 | in[iihl + 5]) != id)
		return -1;
	return vl_probe_icmp_status(ic[0], ic[1], ntohl(src) == dst);
}

static int probe_icmp(int fd, struct match *m, int *wfd, int64_t deadline, struct vl_probe_result *r,
		      double t0)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(m->dst)};
	uint8_t pkt[64] = {0};
	uint16_t id;

	id = fresh_id();
	m->sport = id;
	r->sport = id;
	pkt[0] = ICMP_ECHO;
	pkt[4] = (uint8_t)(id >> 8);
	pkt[5] = (uint8_t)id;
	pkt[7] = 1;
	memcpy(pkt + 8, "vnetlab-probe", 13);
	{
		uint16_t c = csum(pkt, sizeof(pkt));

		memcpy(pkt + 2, &c, 2);
	}
	if (send_retry(fd, pkt, sizeof(pkt), &sin, deadline) < 0)
		return failed_at_once(errno, r, t0);
	for (;;) {
		uint8_t buf[1500];
		ssize_t n;
		int rc = wait_fd(fd, POLLIN, wfd, m, deadline, r), k;

		r->ms = now_fms() - t0;
		if (rc < 0)
			return rc;
		if (rc == WAIT_TIMEOUT)
			r->status = VL_PROBE_TIMEOUT;
		if (rc != WAIT_READY)
			return 0;
		/* a raw socket sees every ICMP message of the namespace: keep only ours */
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			k = vl_probe_icmp_verdict(buf, (size_t)n, m->dst, id);
			if (k >= 0) {
				r->status = (enum vl_probe_status)k;
				r->ms = now_fms() - t0;
				return 0;
			}
		}
		if (n < 0 && errno != EAGAIN && vl_probe_errno_status(errno) < 0)
			return -errno;
	}
}

int vl_probe_run(const struct vl_lab *lab, const char *dir, int from, uint32_t dst, enum vl_proto proto,
		 uint16_t port, int timeout_ms, struct vl_probe_result *r)
{
	const struct vl_endpoint *e;
	struct match m = {.proto = proto, .dst = dst, .dport = port, .from = from, .lab = lab};
	int64_t deadline;
	double t0;
	int fd, wfd, err;

	memset(r, 0, sizeof(*r));
	r->backend_pod = r->backend_node = VL_NONE;
	if (from < 0 || (size_t)from >= lab->n_eps)
		return -EINVAL;
	if (proto != VL_PROTO_TCP && proto != VL_PROTO_UDP && proto != VL_PROTO_ICMP)
		return -EPROTONOSUPPORT;
	e = &lab->eps[from];
	m.src = e->ip;
	if (e->nic >= 0 && (size_t)e->nic < lab->n_eps && e->nic != from)
		m.node_ip = lab->eps[e->nic].ip;
	m.svc_cluster = VL_NONE;
	if ((e->kind == VL_EP_POD || e->kind == VL_EP_NODE) && !e->virtual_node &&
	    (m.svc = vl_eff_cluster_ip(lab, e->owner, dst)) != VL_NONE) {
		const struct vl_service *sv = &lab->aks[e->owner].services[m.svc];

		for (size_t i = 0; i < sv->n_ports; i++)
			if (sv->ports[i].port == port && sv->ports[i].proto == proto) {
				m.svc_cluster = e->owner;
				m.svc_target = sv->ports[i].target_port;
			}
	}
	if (e->kind == VL_EP_INTERNET && vl_eff_frontend(lab->eff, dst)) {
		const struct vl_frontend *fe = vl_eff_frontend(lab->eff, dst);
		const struct vl_service *sv = &lab->aks[fe->cluster].services[fe->service];

		for (size_t i = 0; i < sv->n_ports; i++)
			if (sv->ports[i].port == port && sv->ports[i].proto == proto) {
				m.svc_cluster = fe->cluster;
				m.svc = fe->service;
				m.svc_target = sv->ports[i].target_port;
				m.via_lb = true;
			}
	}
	if (m.svc_cluster == VL_NONE)
		node_port_match(lab, from, dst, proto, port, &m);
	if (timeout_ms <= 0)
		timeout_ms = DEFAULT_TIMEOUT_MS;

	if (proto == VL_PROTO_TCP)
		fd = socket_in(lab, from, SOCK_STREAM, 0);
	else if (proto == VL_PROTO_UDP)
		fd = socket_in(lab, from, SOCK_DGRAM, 0);
	else
		fd = socket_in(lab, from, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0)
		return fd;
	wfd = watch_open(dir);

	t0 = now_fms();
	deadline = now_ms() + timeout_ms;
	if (proto == VL_PROTO_TCP)
		err = probe_tcp(fd, lab, &m, &wfd, deadline, r, t0);
	else if (proto == VL_PROTO_UDP)
		err = probe_udp(fd, lab, from, &m, &wfd, deadline, r, t0);
	else
		err = probe_icmp(fd, &m, &wfd, deadline, r, t0);
	if (r->ms == 0)
		r->ms = now_fms() - t0;
	/* a flow to a Service: which pod the kernel sent it to (asked before the socket closes) */
	if (!err && proto != VL_PROTO_ICMP) {
		int pod, node;

		if (!vl_probe_backend(lab, from, dst, proto, r->sport, port, &pod, &node)) {
			r->backend_pod = pod;
			r->backend_node = node;
		}
	}
	close(fd);
	if (wfd >= 0)
		close(wfd);
	return err;
}
