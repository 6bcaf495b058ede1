// SPDX-License-Identifier: MIT
/*
 * The kernel's side of `verify`: every flow of the plan at once. Sockets are
 * made inside each source namespace (enter, socket, bind, connect or send,
 * back) and then watched from one epoll loop with the agent's drop records
 * (one watch connection), so an NSG drop ends a flow as soon as the fabric
 * logs it, an ICMP unreachable as soon as it comes back, and only a silence
 * waits for the timeout. Flows are started in source order, a window at a
 * time, so descriptors and each target's accept queue stay bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vnetlab/agent.h"
#include "vnetlab/netns.h"
#include "vnetlab/plan.h"
#include "vnetlab/probe.h"
#include "vnetlab/verify.h"

#define DEFAULT_TIMEOUT_MS 1000
#define DEFAULT_DEADLINE_MS 300000
#define MAX_WINDOW 4096
#define RETRY_WINDOW 256
#define WATCH_ACK_MS 1000
#define WATCH_TAG UINT64_MAX
#define RETRY_PORT_SHIFT (VL_VERIFY_PORT_SPAN / 2)

struct run {
	const struct vl_lab *lab;
	struct vl_verify *v;
	int epfd, wfd, home;
	int cur;     /* endpoint whose namespace we are in, VL_NONE: our own */
	int *fd;     /* per flow: its socket while in flight, else -1 */
	double *t0;  /* per flow: when its first packet left */
	double *not_before; /* per flow: do not start it before this time (pacing of the retries) */
	int *bucket; /* drop index: (proto, dst, dport, sport) -> flows in flight, chained */
	int *chain;
	int *sbucket; /* flows to Services, dropped after kube-proxy's DNAT: (proto, sport) -> flows */
	int *schain;
	size_t nb;
	size_t *queue; /* flows in flight in start order: the head times out first */
	size_t qhead, qtail, inflight;
	int timeout_ms;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t key_hash(const struct run *r, enum vl_proto proto, uint32_t dst, uint16_t dport, uint16_t sport)
{
	uint64_t k = ((uint64_t)dst << 32 | (uint64_t)dport << 16 | sport) * 0x9e3779b97f4a7c15ull;

	return (size_t)((k >> 17) ^ (uint64_t)proto) & (r->nb - 1);
}

/* Subscribe to the agent's drop records; -1 when no agent answers (drops then look like silence). */
static int watch_open(const char *dir)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct pollfd p;
	char buf[64];
	int fd;

	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/agent.sock", dir) >= sizeof(sun.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || send(fd, "watch\n", 6, MSG_NOSIGNAL) != 6)
		goto fail;
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, WATCH_ACK_MS) != 1 || recv(fd, buf, sizeof(buf), 0) < 2 || strncmp(buf, "ok", 2))
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static size_t default_window(void)
{
	struct rlimit rl;
	size_t w = MAX_WINDOW;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < w + 128)
		w = rl.rlim_cur > 192 ? (size_t)rl.rlim_cur - 128 : 64;
	return w;
}

/* Into the namespace of endpoint ep (from wherever we are). 0 or -errno. */
static int go_to(struct run *r, int ep)
{
	char ns[VL_NS_NAME_MAX];
	int nsfd, err;

	if (r->cur == ep)
		return 0;
	if (ep == VL_NONE) {
		if (setns(r->home, CLONE_NEWNET) < 0)
			return -errno;
		r->cur = VL_NONE;
		return 0;
	}
	vl_ns_name(ns, r->lab->name, r->lab->eps[ep].name);
	err = vl_netns_open(ns, &nsfd);
	if (err < 0)
		return err;
	err = setns(nsfd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(nsfd);
	if (!err)
		r->cur = ep;
	return err;
}

static size_t skey_hash(const struct run *r, enum vl_proto proto, uint16_t sport)
{
	return (size_t)(((uint64_t)sport * 0x9e3779b97f4a7c15ull >> 17) ^ (uint64_t)proto) & (r->nb - 1);
}

/* The backend of flow f at address ip (and target port, 0: any), or NULL. */
static const struct vl_backend_verdict *backend_at(const struct run *r, const struct vl_verify_flow *f,
						   uint32_t ip, uint16_t port)
{
	for (size_t k = 0; k < f->n_backends; k++) {
		const struct vl_backend_verdict *b = &r->v->backends[f->backend0 + k];

		if (b->pod != VL_NONE && r->lab->eps[b->pod].ip == ip && (!port || b->port == port))
			return b;
	}
	return NULL;
}

/*
 * A flow to a Service: ask each node whose kube-proxy may have DNATed it (the conntrack entry of
 * its original tuple there) which pod it went to. Unknown when no node has the entry (a packet
 * dropped before it left the node leaves none).
 */
static void find_backend(struct run *r, struct vl_verify_flow *f)
{
	const struct vl_endpoint *e = &r->lab->eps[f->from];
	uint32_t src = e->ip, pod_ip;
	/* a pod's flow to another node's NodePort comes there masqueraded to its own node */
	uint32_t masq = e->nic >= 0 && (size_t)e->nic < r->lab->n_eps ? r->lab->eps[e->nic].ip : src;

	for (size_t k = 0; k < f->n_backends && f->reached_pod == VL_NONE; k++) {
		int node = r->v->backends[f->backend0 + k].node;
		const struct vl_backend_verdict *b;
		bool asked = false;

		for (size_t j = 0; j < k && !asked; j++)
			asked = r->v->backends[f->backend0 + j].node == node;
		if (asked || go_to(r, node) < 0 ||
		    (vl_ct_reply_source(f->proto, src, f->sport, f->dst, f->dport, &pod_ip) &&
		     (masq == src ||
		      vl_ct_reply_source(f->proto, masq, f->sport, f->dst, f->dport, &pod_ip))))
			continue;
		b = backend_at(r, f, pod_ip, 0);
		if (b) {
			f->reached_pod = b->pod;
			f->reached_node = node;
		}
	}
}

static void finish(struct run *r, size_t i, enum vl_probe_status st, int err)
{
	struct vl_verify_flow *f = &r->v->flows[i];

	if (f->n_backends && !err && f->reached_pod == VL_NONE)
		find_backend(r, f);
	f->probed = true;
	f->status = st;
	f->err = err;
	f->ms = now_ms() - r->t0[i];
	if (r->fd[i] >= 0) {
		if (f->proto == VL_PROTO_TCP) {
			/* a reset, not a FIN: no TIME_WAIT holds the port for the next run */
			struct linger lg = {.l_onoff = 1, .l_linger = 0};

			setsockopt(r->fd[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(r->fd[i]);
		r->fd[i] = -1;
		r->inflight--;
	}
}

/* A socket of flow i in the current namespace, bound to port (0: any), connected; -errno. */
static int open_flow(const struct vl_verify_flow *f, uint16_t port, int *out)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons(f->dport), .sin_addr.s_addr = htonl(f->dst)};
	int type = f->proto == VL_PROTO_TCP ? SOCK_STREAM : SOCK_DGRAM, one = 1, fd, err = 0;

	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (f->proto == VL_PROTO_UDP)
		setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	if (port && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		err = -errno;
	else if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS)
		err = -errno;
	else if (f->proto == VL_PROTO_UDP && send(fd, "probe\n", 6, 0) < 0)
		err = -errno;
	*out = fd;
	return err;
}

static void start(struct run *r, size_t i, uint16_t port)
{
	struct vl_verify_flow *f = &r->v->flows[i];
	struct epoll_event ev = {.data.u64 = i};
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int err, fd = -1, s;
	size_t h;

	r->t0[i] = now_ms();
	err = go_to(r, f->from);
	if (err < 0) {
		finish(r, i, VL_PROBE_TIMEOUT, err);
		return;
	}
	err = open_flow(f, port, &fd);
	if (err == -EADDRINUSE || err == -EADDRNOTAVAIL) {
		/* someone holds the planned port (an app, a leftover of a run): let the kernel pick */
		close(fd);
		fd = -1;
		err = open_flow(f, 0, &fd);
	}
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&sin, &sl) == 0)
		f->sport = ntohs(sin.sin_port);
	if (err < 0) {
		if (fd >= 0)
			close(fd);
		s = vl_probe_errno_status(-err);
		finish(r, i, s >= 0 ? (enum vl_probe_status)s : VL_PROBE_TIMEOUT, s >= 0 ? 0 : err);
		return;
	}
	ev.events = f->proto == VL_PROTO_TCP ? EPOLLOUT : EPOLLIN;
	if (epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		err = -errno;
		close(fd);
		finish(r, i, VL_PROBE_TIMEOUT, err);
		return;
	}
	r->fd[i] = fd;
	r->inflight++;
	r->queue[r->qtail++] = i;
	h = key_hash(r, f->proto, f->dst, f->dport, f->sport);
	r->chain[i] = r->bucket[h];
	r->bucket[h] = (int)i;
	if (f->n_backends) {
		h = skey_hash(r, f->proto, f->sport);
		r->schain[i] = r->sbucket[h];
		r->sbucket[h] = (int)i;
	}
}


static void flow_ready(struct run *r, size_t i)
{
	struct vl_verify_flow *f = &r->v->flows[i];
	socklen_t sl = sizeof(int);
	char buf[512];
	int soerr = 0, s;

	if (r->fd[i] < 0)
		return;
	if (f->proto == VL_PROTO_TCP) {
		if (getsockopt(r->fd[i], SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			soerr = errno;
		if (!soerr) {
			finish(r, i, VL_PROBE_CONNECTED, 0);
			return;
		}
		s = vl_probe_errno_status(soerr);
		finish(r, i, s >= 0 ? (enum vl_probe_status)s : VL_PROBE_TIMEOUT, s >= 0 ? 0 : -soerr);
		return;
	}
	s = vl_probe_udp_error(r->fd[i], f->dst);
	if (s >= 0) {
		finish(r, i, (enum vl_probe_status)s, 0);
		return;
	}
	if (recv(r->fd[i], buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
		finish(r, i, VL_PROBE_CONNECTED, 0);
		return;
	}
	if (errno == EAGAIN || errno == EINTR)
		return;
	s = vl_probe_errno_status(errno);
	finish(r, i, s >= 0 ? (enum vl_probe_status)s : VL_PROBE_TIMEOUT, s >= 0 ? 0 : -errno);
}

/* Does drop record d name flow f? Behind its node's masquerade the fabric sees the node's address. */
static bool drop_is(const struct run *r, const struct vl_verify_flow *f, const struct vl_drop *d)
{
	const struct vl_endpoint *e = &r->lab->eps[f->from];

	if (d->proto != f->proto || d->dst != f->dst || d->dport != f->dport || d->sport != f->sport)
		return false;
	return d->src == e->ip || (e->nic >= 0 && (size_t)e->nic < r->lab->n_eps && d->src == r->lab->eps[e->nic].ip);
}

/* A drop record of flow f to a Service after kube-proxy's DNAT: the fabric or the pod's node logs the
 * pod's address and target port, and the source masqueraded to a node (externalTrafficPolicy
 * Cluster) or not. Returns the backend it names, or NULL. */
static const struct vl_backend_verdict *dnat_drop_is(const struct run *r, const struct vl_verify_flow *f,
						     const struct vl_drop *d)
{
	const struct vl_endpoint *e = &r->lab->eps[f->from];
	bool src = d->src == e->ip ||
		   (e->nic >= 0 && (size_t)e->nic < r->lab->n_eps && d->src == r->lab->eps[e->nic].ip);

	if (!f->n_backends || d->proto != f->proto || d->sport != f->sport)
		return NULL;
	for (size_t k = 0; k < f->n_backends && !src; k++)
		src = d->src == r->lab->eps[r->v->backends[f->backend0 + k].node].ip;
	return src ? backend_at(r, f, d->dst, d->dport) : NULL;
}

/* The flow in flight drop record d (named `name`) is about, by its own addresses: true when found. */
static bool drop_flow(struct run *r, const struct vl_drop *d, const char *name)
{
	for (int i = r->bucket[key_hash(r, d->proto, d->dst, d->dport, d->sport)]; i >= 0; i = r->chain[i]) {
		struct vl_verify_flow *f = &r->v->flows[i];

		if (r->fd[i] < 0 || !drop_is(r, f, d))
			continue;
		f->drop = vl_verify_intern(r->v, name);
		finish(r, (size_t)i, VL_PROBE_DROPPED, 0);
		return true;
	}
	return false;
}

/* A drop record: finish the flow it names, if one is waiting (by its own addresses, else by a
 * Service's backend after kube-proxy's DNAT). Never stops the caller. */
static bool take_drop(const struct vl_drop *logged, void *arg)
{
	struct run *r = arg;
	struct vl_drop d = *logged;
	char name[200];

	if (d.proto != VL_PROTO_TCP && d.proto != VL_PROTO_UDP)
		return false;
	if (vl_drop_resolve(r->lab, &d))
		snprintf(d.rule, sizeof(d.rule), "~%016llx", (unsigned long long)d.id);
	snprintf(name, sizeof(name), "%s/%s", d.nsg, d.rule);
	if (drop_flow(r, &d, name))
		return false;
	for (int i = r->sbucket[skey_hash(r, d.proto, d.sport)]; i >= 0; i = r->schain[i]) {
		struct vl_verify_flow *f = &r->v->flows[i];
		const struct vl_backend_verdict *b;

		if (r->fd[i] < 0 || !(b = dnat_drop_is(r, f, &d)))
			continue;
		f->drop = vl_verify_intern(r->v, name);
		f->reached_pod = b->pod;
		finish(r, (size_t)i, VL_PROBE_DROPPED, 0);
		break;
	}
	return false;
}

static void watch_readable(struct run *r)
{
	char buf[VL_WATCH_MSG_MAX + 1];

	for (;;) {
		ssize_t n = recv(r->wfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				epoll_ctl(r->epfd, EPOLL_CTL_DEL, r->wfd, NULL);
				close(r->wfd);
				r->wfd = -1;
			}
			return;
		}
		vl_drop_each(buf, (size_t)n, take_drop, r);
	}
}

/* Time out the flows at the head of the queue that waited long enough; ms to the next expiry. */
static int expire(struct run *r)
{
	double now = now_ms();

	while (r->qhead < r->qtail) {
		size_t i = r->queue[r->qhead];
		double left;

		if (r->fd[i] < 0) {
			r->qhead++;
			continue;
		}
		left = r->t0[i] + r->timeout_ms - now;
		if (left > 0)
			return (int)left + 1;
		finish(r, i, VL_PROBE_TIMEOUT, 0);
		r->qhead++;
	}
	return -1;
}

/* One pass over the flows in list: at most `window` in flight. 0 or -errno. */
static int pass(struct run *r, const size_t *list, size_t n, size_t window, int port_shift, double deadline)
{
	struct epoll_event evs[256];
	size_t next = 0;
	int err = 0;

	for (size_t b = 0; b < r->nb; b++)
		r->bucket[b] = r->sbucket[b] = -1;
	r->qhead = r->qtail = 0;
	while (next < n || r->inflight) {
		int wait, k, m;

		while (next < n && r->inflight < window && r->not_before[list[next]] <= now_ms()) {
			size_t i = list[next++];
			struct vl_verify_flow *f = &r->v->flows[i];
			uint16_t port = f->sport;

			if (port_shift)
				port = (uint16_t)(VL_VERIFY_PORT_LO +
						  (port - VL_VERIFY_PORT_LO + port_shift) % VL_VERIFY_PORT_SPAN);
			f->probed = false;
			f->drop = NULL;
			f->err = 0;
			f->reached_pod = f->reached_node = VL_NONE;
			start(r, i, port);
		}
		err = go_to(r, VL_NONE);
		if (err < 0)
			return err;
		wait = expire(r);
		if ((next >= n && !r->inflight) || now_ms() >= deadline)
			break;
		if (wait < 0 || wait > deadline - now_ms())
			wait = (int)(deadline - now_ms()) + 1;
		if (next < n && r->inflight < window) {
			double nb = r->not_before[list[next]] - now_ms();

			if (wait < 0 || nb < wait)
				wait = nb > 0 ? (int)nb + 1 : 0;
		}
		k = epoll_wait(r->epfd, evs, (int)(sizeof(evs) / sizeof(evs[0])), wait);
		if (k < 0 && errno != EINTR)
			return -errno;
		/* drop records first: a flow they name must not be taken for a silence */
		for (m = 0; m < k; m++)
			if (evs[m].data.u64 == WATCH_TAG && r->wfd >= 0)
				watch_readable(r);
		for (m = 0; m < k; m++)
			if (evs[m].data.u64 != WATCH_TAG)
				flow_ready(r, (size_t)evs[m].data.u64);
	}
	/* past the deadline: what is left was not probed */
	for (size_t q = r->qhead; q < r->qtail; q++)
		if (r->fd[r->queue[q]] >= 0)
			finish(r, r->queue[q], VL_PROBE_TIMEOUT, -ETIMEDOUT);
	for (; next < n; next++) {
		r->v->flows[list[next]].probed = true;
		r->v->flows[list[next]].err = -ETIMEDOUT;
	}
	return 0;
}

/* A silence, or a local error, that the evaluator did not foresee: worth a second, quieter try. */
static bool worth_retry(const struct vl_verify *v, const struct vl_verify_flow *f)
{
	if (f->err && f->err != -ETIMEDOUT)
		return true;
	if (f->err || f->status != VL_PROBE_TIMEOUT)
		return false;
	for (size_t k = 0; k < f->n_backends; k++) /* a backend the flow may have got is silent */
		if (v->backends[f->backend0 + k].outcome == VL_OUT_NO_HOST)
			return false;
	return f->outcome != VL_OUT_NO_HOST;
}

static const struct run *sort_run;

static int by_start(const void *a, const void *b)
{
	double x = sort_run->not_before[*(const size_t *)a], y = sort_run->not_before[*(const size_t *)b];

	if (x != y)
		return x < y ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/*
 * A route that drops (None, an appliance that does not forward) answers with an ICMP
 * unreachable from ip_error(), which the kernel limits per source address: a burst of 6, then
 * one a second (net.ipv4.route.error_cost and error_burst, global sysctls of the host, which a
 * lab must not touch). The flows that met that limit are tried again one every
 * ICMP_RETRY_GAP_MS per source, the first one gap after the first pass, in the order of the plan;
 * the others at once. The kernel counts the second from the last error it sent (a TCP flow's
 * retransmitted SYN takes one too), so retries a second apart, the first at once, found the
 * budget empty now and then on a loaded machine or a sanitizer build and timed out.
 */
#define ICMP_RETRY_GAP_MS 1250.0

static int pace(struct run *r, size_t *list, size_t n)
{
	struct { uint32_t ip; size_t k; } *seen = calloc(n, sizeof(*seen));
	size_t n_seen = 0;
	double t = now_ms();

	if (!seen)
		return -ENOMEM;
	for (size_t j = 0; j < n; j++) {
		const struct vl_verify_flow *f = &r->v->flows[list[j]];
		const struct vl_endpoint *e = &r->lab->eps[f->from];
		uint32_t ip = e->nic >= 0 && (size_t)e->nic < r->lab->n_eps ? r->lab->eps[e->nic].ip : e->ip;
		size_t s = 0;

		r->not_before[list[j]] = t;
		if (f->outcome != VL_OUT_UNREACHABLE || f->err)
			continue;
		while (s < n_seen && seen[s].ip != ip)
			s++;
		if (s == n_seen)
			seen[n_seen++].ip = ip;
		r->not_before[list[j]] = t + ICMP_RETRY_GAP_MS * (double)++seen[s].k;
	}
	free(seen);
	sort_run = r;
	qsort(list, n, sizeof(*list), by_start);
	return 0;
}

int vl_verify_run(const struct vl_lab *lab, const char *dir, struct vl_verify *v,
		  const struct vl_verify_opts *opts)
{
	struct run r = {.lab = lab, .v = v, .epfd = -1, .wfd = -1, .home = -1, .cur = VL_NONE};
	size_t n = v->n_flows, window, *list = NULL, n_retry = 0;
	double deadline;
	int err = 0;

	if (!n)
		return 0;
	r.timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	deadline = now_ms() + (opts && opts->deadline_ms > 0 ? opts->deadline_ms : DEFAULT_DEADLINE_MS);
	raise_nofile();
	window = default_window();
	if (opts && opts->window && opts->window < window)
		window = opts->window;
	for (r.nb = 16; r.nb < n * 2; r.nb *= 2)
		;
	r.fd = malloc(n * sizeof(*r.fd));
	r.t0 = calloc(n, sizeof(*r.t0));
	r.not_before = calloc(n, sizeof(*r.not_before));
	r.chain = malloc(n * sizeof(*r.chain));
	r.queue = malloc(n * sizeof(*r.queue));
	r.bucket = malloc(r.nb * sizeof(*r.bucket));
	r.sbucket = malloc(r.nb * sizeof(*r.sbucket));
	r.schain = malloc(n * sizeof(*r.schain));
	list = malloc(n * sizeof(*list));
	if (!r.fd || !r.t0 || !r.not_before || !r.chain || !r.queue || !r.bucket || !r.sbucket || !r.schain ||
	    !list) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r.fd[i] = -1;
		list[i] = i;
	}
	r.home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	r.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r.home < 0 || r.epfd < 0) {
		err = -errno;
		goto out;
	}
	r.wfd = watch_open(dir);
	v->watched = r.wfd >= 0;
	if (r.wfd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WATCH_TAG};

		epoll_ctl(r.epfd, EPOLL_CTL_ADD, r.wfd, &ev);
	}
	err = pass(&r, list, n, window, 0, deadline);
	for (size_t i = 0; i < n && !err; i++)
		if (worth_retry(v, &v->flows[i]))
			list[n_retry++] = i;
	v->retried = n_retry;
	if (!err && n_retry) {
		err = pace(&r, list, n_retry);
		if (!err)
			err = pass(&r, list, n_retry, RETRY_WINDOW < window ? RETRY_WINDOW : window, RETRY_PORT_SHIFT,
				   deadline);
	}
out:
	if (r.cur != VL_NONE && go_to(&r, VL_NONE) < 0 && !err)
		err = -EIO;
	for (size_t i = 0; r.fd && i < n; i++)
		if (r.fd[i] >= 0)
			close(r.fd[i]);
	if (r.wfd >= 0)
		close(r.wfd);
	if (r.epfd >= 0)
		close(r.epfd);
	if (r.home >= 0)
		close(r.home);
	free(r.fd);
	free(r.t0);
	free(r.not_before);
	free(r.chain);
	free(r.queue);
	free(r.bucket);
	free(r.sbucket);
	free(r.schain);
	free(list);
	return err;
}
