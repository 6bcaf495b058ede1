// SPDX-License-Identifier: MIT
/*
 * The per-lab agent process: built-in apps served from sockets held inside
 * each endpoint namespace; in each VNet fabric, NSG drops read from its NFLOG
 * group and broadcast to watchers of agent.sock, and Azure-provided DNS at
 * 168.63.129.16:53. One epoll loop serves all of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent-int.h"
#include "life.h"
#include "nflog.h"
#include "vnetlab/agent.h"
#include "vnetlab/ip.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"
#include "vnetlab/plan.h"

int64_t vlag_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Past VL_AGENT_LOG_MAX the log becomes agent.log.1 (replacing the one before): two at most on /run. */
static void log_rotate(struct agent *a, size_t more)
{
	char old[sizeof(a->log_path) + 2];
	struct stat st;
	int fd;

	if (fstat(a->logfd, &st) < 0 || (size_t)st.st_size + more <= VL_AGENT_LOG_MAX)
		return;
	snprintf(old, sizeof(old), "%s.1", a->log_path);
	if (rename(a->log_path, old) < 0)
		return;
	fd = open(a->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	dup2(fd, a->logfd);
	close(fd);
	dup2(a->logfd, 1);
	dup2(a->logfd, 2);
}

void vlag_log(struct agent *a, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = (int)strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += snprintf(line + n, sizeof(line) - (size_t)n, ".%03ldZ agent[%d]: ", ts.tv_nsec / 1000000,
		      getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	log_rotate(a, (size_t)n);
	if (write(a->logfd, line, (size_t)n) < 0) {
		/* nowhere left to report it */
	}
}

int vlag_ep_add(struct agent *a, struct obj *o, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = o};

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, o->fd, &ev) < 0 ? -errno : 0;
}

/* ---- startup: listeners inside each endpoint namespace ---- */

static int listen_one(struct agent *a, struct listener *l, int type, char *why, size_t why_len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(l->port)};
	const char *name = a->lab->eps[l->ep].name;
	int one = 1;
	int fd, err;

	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "%s: socket: %s", name, strerror(errno));
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		err = -errno;
		snprintf(why, why_len, "%s: bind %s/%u: %s", name, type == SOCK_STREAM ? "tcp" : "udp",
			 l->port, strerror(errno));
		close(fd);
		return err;
	}
	l->o.fd = fd;
	l->o.kind = type == SOCK_STREAM ? K_TCP_LISTEN : K_UDP;
	err = vlag_ep_add(a, &l->o, EPOLLIN);
	if (err < 0) {
		snprintf(why, why_len, "%s: epoll: %s", name, strerror(-err));
		return err;
	}
	vlag_log(a, "listen %s %s/%u %s", name, type == SOCK_STREAM ? "tcp" : "udp", l->port,
	      vl_app_name(l->app));
	return 0;
}

size_t vl_agent_listener_count(const struct vl_lab *lab)
{
	size_t n = 0;

	for (size_t i = 0; i < lab->n_eps; i++)
		if (lab->eps[i].app != VL_APP_NONE)
			n += lab->eps[i].n_ports * (lab->eps[i].app == VL_APP_ECHO ? 2 : 1);
	return n;
}

static void raise_nofile(size_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	need += 1024;
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need; /* root may raise the hard limit; otherwise fall back */
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int open_listeners(struct agent *a, char *why, size_t why_len)
{
	const struct vl_lab *lab = a->lab;
	char ns[VL_NS_NAME_MAX];
	int saved = -1, err = 0;
	size_t k = 0;

	a->n_ls = vl_agent_listener_count(lab);
	if (!a->n_ls)
		return 0;
	raise_nofile(a->n_ls);
	a->ls = calloc(a->n_ls, sizeof(*a->ls));
	if (!a->ls)
		return -ENOMEM;
	for (size_t i = 0; i < lab->n_eps && !err; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		int nsfd, s;

		if (e->app == VL_APP_NONE || !e->n_ports)
			continue;
		vl_ns_name(ns, lab->name, e->name);
		err = vl_netns_open(ns, &nsfd);
		if (err < 0) {
			snprintf(why, why_len, "open namespace %s: %s", ns, strerror(-err));
			break;
		}
		/* hop from namespace to namespace; return to ours once, at the end */
		if (saved < 0) {
			err = vl_netns_enter(nsfd, &saved);
		} else if (setns(nsfd, CLONE_NEWNET) < 0) {
			err = -errno;
		}
		close(nsfd);
		if (err < 0) {
			snprintf(why, why_len, "enter namespace %s: %s", ns, strerror(-err));
			break;
		}
		for (size_t p = 0; p < e->n_ports && !err; p++) {
			for (s = 0; s < (e->app == VL_APP_ECHO ? 2 : 1) && !err; s++) {
				struct listener *l = &a->ls[k++];

				l->ep = (int)i;
				l->app = e->app;
				l->port = e->ports[p];
				err = listen_one(a, l, s == 0 ? SOCK_STREAM : SOCK_DGRAM, why, why_len);
			}
		}
	}
	if (saved >= 0 && vl_netns_leave(saved) < 0 && !err) {
		err = -errno;
		snprintf(why, why_len, "return to the agent's namespace: %s", strerror(errno));
	}
	a->n_ls = k;
	return err;
}

static int open_ctl(struct agent *a, char *why, size_t why_len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd, err;

	memcpy(sun.sun_path, a->sock_path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(a->sock_path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 64) < 0) {
		err = -errno;
		snprintf(why, why_len, "%s: %s", a->sock_path, strerror(errno));
		close(fd);
		return err;
	}
	a->ctl_listen.kind = K_CTL_LISTEN;
	a->ctl_listen.fd = fd;
	vlag_log(a, "control socket %s", a->sock_path);
	return vlag_ep_add(a, &a->ctl_listen, EPOLLIN);
}

static int open_signals(struct agent *a)
{
	sigset_t set;
	int fd;

	/* the caller may ignore these (a blocked or ignored signal never reaches a signalfd) */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	a->sig_obj.kind = K_SIGNAL;
	a->sig_obj.fd = fd;
	return vlag_ep_add(a, &a->sig_obj, EPOLLIN);
}

/* ---- serving ---- */

static void node_close(struct node **head, struct node *x)
{
	close(x->o.fd);
	if (x->prev)
		x->prev->next = x->next;
	else
		*head = x->next;
	if (x->next)
		x->next->prev = x->prev;
	free(x);
}

/* Put x (fd open) on the list at *head and into epoll; on failure it is closed and freed. */
static int node_add(struct agent *a, struct node **head, struct node *x, enum kind kind, int fd,
		    uint32_t events)
{
	x->o.kind = kind;
	x->o.fd = fd;
	x->prev = NULL;
	x->next = *head;
	if (*head)
		(*head)->prev = x;
	*head = x;
	if (vlag_ep_add(a, &x->o, events) < 0) {
		node_close(head, x);
		return -1;
	}
	return 0;
}

static void conn_close(struct agent *a, struct conn *c)
{
	node_close(&a->conns, &c->n);
}

static void conn_events(struct agent *a, struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = &c->n.o};

	if (c->events == events)
		return;
	c->events = events;
	epoll_ctl(a->epfd, EPOLL_CTL_MOD, c->n.o.fd, &ev);
}

/* Write what is pending; false if the connection was closed. */
static bool conn_flush(struct agent *a, struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->n.o.fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			conn_events(a, c, EPOLLOUT);
			return true;
		}
		if (n < 0) {
			conn_close(a, c);
			return false;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	if ((c->app == VL_APP_HELLO || c->dns) && !c->answered) {
		/* HTTP/1.0, DNS: one answer, then EOF; linger to drain the client, so close sends no RST */
		shutdown(c->n.o.fd, SHUT_WR);
		c->answered = true;
		c->deadline = vlag_now_ms() + HELLO_LINGER_MS;
	}
	conn_events(a, c, EPOLLIN);
	return true;
}

static void hello_answer(struct agent *a, struct conn *c)
{
	int n = vl_app_hello_page(c->out, sizeof(c->out), a->lab->eps[c->ep].name, c->peer, c->peer_port);

	if (n < 0) {
		conn_close(a, c);
		return;
	}
	c->out_off = 0;
	c->out_len = (size_t)n;
	conn_flush(a, c);
}

static bool request_complete(const struct conn *c)
{
	return memmem(c->in, c->in_len, "\r\n\r\n", 4) || memmem(c->in, c->in_len, "\n\n", 2) ||
	       c->in_len == sizeof(c->in);
}

static void conn_readable(struct agent *a, struct conn *c)
{
	char buf[4096];
	ssize_t n;

	if (c->dns && !c->answered) {
		int m;

		n = recv(c->n.o.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(a, c);
			return;
		}
		c->in_len += (size_t)n;
		m = vl_dns_answer_tcp(a->lab, c->vnet, c->in, c->in_len, c->out, sizeof(c->out));
		if (m == -EAGAIN && c->in_len < sizeof(c->in))
			return;
		a->dns_queries++;
		if (m < 0) {
			conn_close(a, c);
			return;
		}
		c->out_off = 0;
		c->out_len = (size_t)m;
		conn_flush(a, c);
		return;
	}
	if (c->app == VL_APP_HELLO || c->dns) {
		if (c->answered) {
			n = recv(c->n.o.fd, buf, sizeof(buf), 0);
			if (n <= 0 && !(n < 0 && errno == EAGAIN))
				conn_close(a, c);
			return;
		}
		n = recv(c->n.o.fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			conn_close(a, c);
			return;
		}
		c->in_len += (size_t)n;
		if (n == 0 || request_complete(c))
			hello_answer(a, c);
		return;
	}
	/* echo: read only when nothing is pending, so a slow reader is not buffered without bound */
	n = recv(c->n.o.fd, c->out, sizeof(c->out), 0);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_close(a, c);
		return;
	}
	c->out_off = 0;
	c->out_len = (size_t)n;
	c->deadline = vlag_now_ms() + ECHO_IDLE_MS;
	conn_flush(a, c);
}

static void peer_str(const struct sockaddr_in *sin, char *ip, int *port)
{
	vl_ip_fmt(ntohl(sin->sin_addr.s_addr), ip);
	*port = ntohs(sin->sin_port);
}

static void listeners_events(struct agent *a, uint32_t events)
{
	struct epoll_event cev = {.events = events, .data.ptr = &a->ctl_listen};

	/* The control socket stays served while the reserve can accept a client: a probe waiting for
	 * its watch to be acknowledged would otherwise lose its drop to a pause of the app listeners. */
	if (a->ctl_listen.fd > 0 && (events || a->reserve_fd < 0))
		epoll_ctl(a->epfd, EPOLL_CTL_MOD, a->ctl_listen.fd, &cev);
	for (size_t i = 0; i < a->n_ls; i++) {
		struct epoll_event ev = {.events = events, .data.ptr = &a->ls[i].o};

		if (a->ls[i].o.kind == K_TCP_LISTEN)
			epoll_ctl(a->epfd, EPOLL_CTL_MOD, a->ls[i].o.fd, &ev);
	}
}

static void reserve_take(struct agent *a)
{
	if (a->reserve_fd < 0)
		a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/*
 * At the descriptor limit a pending connection keeps its listener readable: shed it (the
 * reserve descriptor makes room to accept and close it) and take the TCP listeners off epoll
 * for a while, doubling up to a second, instead of spinning.
 */
static void out_of_fds(struct agent *a, struct listener *l, int err)
{
	int fd;

	if (a->reserve_fd >= 0) {
		close(a->reserve_fd);
		a->reserve_fd = -1;
		fd = accept4(l->o.fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		reserve_take(a);
	}
	a->backoff_ms = a->backoff_ms ? (a->backoff_ms * 2 > 1000 ? 1000 : a->backoff_ms * 2) : 50;
	a->paused_until = vlag_now_ms() + a->backoff_ms;
	listeners_events(a, 0);
	vlag_log(a, "accept on %s/%u: %s: connections refused for %d ms", a->lab->eps[l->ep].name, l->port,
	      strerror(err), a->backoff_ms);
}

static void tcp_accept(struct agent *a, struct listener *l)
{
	for (;;) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		struct conn *c;
		int fd = accept4(l->o.fd, (struct sockaddr *)&sin, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				out_of_fds(a, l, errno);
				return;
			}
			if (errno != EAGAIN && errno != EINTR && !a->accept_paused_logged) {
				vlag_log(a, "accept on %s/%u: %s", l->dns ? "dns" : a->lab->eps[l->ep].name,
				      l->port, strerror(errno));
				a->accept_paused_logged = true;
			}
			return;
		}
		a->backoff_ms = 0;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		c->ep = l->ep;
		c->app = l->app;
		peer_str(&sin, c->peer, &c->peer_port);
		c->events = EPOLLIN;
		if (node_add(a, &a->conns, &c->n, K_CONN, fd, EPOLLIN) < 0)
			continue;
		if (l->dns) {
			c->dns = true;
			c->vnet = l->vnet;
			c->deadline = vlag_now_ms() + DNS_QUERY_WAIT_MS;
			continue;
		}
		if (c->app == VL_APP_HELLO) {
			/* answer a client that sends nothing too (nc, a bare connect) */
			c->deadline = vlag_now_ms() + HELLO_REQUEST_WAIT_MS;
			continue;
		}
		c->deadline = vlag_now_ms() + ECHO_IDLE_MS;
		int n =
		    vl_app_echo_reply(c->out, sizeof(c->out), a->lab->eps[c->ep].name, c->peer, c->peer_port);
		if (n < 0) {
			conn_close(a, c);
			continue;
		}
		c->out_len = (size_t)n;
		conn_flush(a, c);
	}
}

static void udp_echo(struct agent *a, struct listener *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		char buf[2048], ip[VL_IP_STRLEN];
		int port, n;

		if (recvfrom(l->o.fd, buf, sizeof(buf), 0, (struct sockaddr *)&sin, &sl) < 0)
			return;
		peer_str(&sin, ip, &port);
		n = vl_app_echo_reply(buf, sizeof(buf), a->lab->eps[l->ep].name, ip, port);
		if (n > 0)
			sendto(l->o.fd, buf, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&sin, sl);
	}
}

static void ctl_close(struct agent *a, struct ctl *c)
{
	node_close(&a->ctls, &c->n);
	reserve_take(a);
}

static void ctl_accept(struct agent *a)
{
	for (;;) {
		int fd = accept4(a->ctl_listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct ctl *c;

		if (fd < 0 && (errno == EMFILE || errno == ENFILE) && a->reserve_fd >= 0) {
			/* the control socket comes first: probes still get their drops */
			close(a->reserve_fd);
			a->reserve_fd = -1;
			fd = accept4(a->ctl_listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		}
		if (fd < 0 && (errno == EMFILE || errno == ENFILE)) {
			a->backoff_ms = a->backoff_ms ? (a->backoff_ms * 2 > 1000 ? 1000 : a->backoff_ms * 2) : 50;
			a->paused_until = vlag_now_ms() + a->backoff_ms;
			listeners_events(a, 0);
			return;
		}
		if (fd < 0)
			return;
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		node_add(a, &a->ctls, &c->n, K_CTL, fd, EPOLLIN);
	}
}

static void ctl_readable(struct agent *a, struct ctl *c)
{
	char buf[256];
	ssize_t n = recv(c->n.o.fd, buf, sizeof(buf) - 1, 0);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		ctl_close(a, c);
		return;
	}
	buf[n] = '\0';
	if (!strcmp(buf, "watch\n") || !strcmp(buf, "watch")) {
		int room = VL_WATCH_SNDBUF;

		c->watching = true;
		c->pend_len = 0;
		/* Room for a verify's burst of records; past net.core.wmem_max only as root. */
		if (setsockopt(c->n.o.fd, SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof(room)) < 0)
			setsockopt(c->n.o.fd, SOL_SOCKET, SO_SNDBUF, &room, sizeof(room));
		/* the client waits for this, so no drop after it can be missed */
		send(c->n.o.fd, "ok\n", 3, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else if (!strcmp(buf, "ping\n") || !strcmp(buf, "ping")) {
		send(c->n.o.fd, "pong\n", 5, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else {
		send(c->n.o.fd, "error unknown command\n", 22, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
}

/* Returns true when the agent should stop. */
static bool signal_readable(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->sig_obj.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		vlag_log(a, "signal %u from pid %u: stopping (%lu drops seen, %lu flows recorded, %lu DNS queries)",
			 si.ssi_signo, si.ssi_pid, a->drops, a->flows, a->dns_queries);
		return true;
	}
	return false;
}

static int next_timeout(struct agent *a, int64_t now)
{
	int64_t first = -1;

	for (struct node *x = a->conns; x; x = x->next) {
		const struct conn *c = (const struct conn *)x;

		if (first < 0 || c->deadline < first)
			first = c->deadline;
	}
	if (a->paused_until && (first < 0 || a->paused_until < first))
		first = a->paused_until;
	if (first < 0)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

static void expire(struct agent *a, int64_t now)
{
	struct node *x, *next;

	if (a->paused_until && a->paused_until <= now) {
		a->paused_until = 0;
		listeners_events(a, EPOLLIN);
	}
	for (x = a->conns; x; x = next) {
		struct conn *c = (struct conn *)x;

		next = x->next;
		if (c->deadline > now)
			continue;
		if (c->app == VL_APP_HELLO && !c->answered)
			hello_answer(a, c);
		else
			conn_close(a, c);
	}
}

static void serve(struct agent *a)
{
	struct epoll_event evs[256];

	for (;;) {
		int n = epoll_wait(a->epfd, evs, 256, next_timeout(a, vlag_now_ms()));

		if (n < 0 && errno != EINTR) {
			vlag_log(a, "epoll_wait: %s", strerror(errno));
			return;
		}
		for (int i = 0; i < n; i++) {
			struct obj *o = evs[i].data.ptr;

			switch (o->kind) {
			case K_TCP_LISTEN:
				tcp_accept(a, (struct listener *)o);
				break;
			case K_UDP:
				udp_echo(a, (struct listener *)o);
				break;
			case K_CONN: {
				struct conn *c = (struct conn *)o;

				if (evs[i].events & EPOLLOUT)
					conn_flush(a, c);
				else
					conn_readable(a, c);
				break;
			}
			case K_CTL_LISTEN:
				ctl_accept(a);
				break;
			case K_CTL:
				ctl_readable(a, (struct ctl *)o);
				break;
			case K_DNS_UDP:
				vlag_dns_udp(a, (struct listener *)o);
				break;
			case K_NFLOG:
				vlag_nflog_readable(a, o->fd);
				break;
			case K_SIGNAL:
				if (signal_readable(a))
					return;
				break;
			}
		}
		expire(a, vlag_now_ms());
	}
}

/* ---- process plumbing ---- */

void vl_agent_report(int pipefd, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	if (write(pipefd, buf, (size_t)n) < 0) {
		/* the parent gave up waiting */
	}
}

void vl_agent_main(const struct vl_lab *lab, const char *dir, int pipefd)
{
	struct agent a = {.lab = lab, .epfd = -1, .reserve_fd = -1, .flow_file.fd = -1, .v2_file.fd = -1};
	char why[512] = "";
	int err, fd, pidfd;

	prctl(PR_SET_NAME, "vnetlab-agent");
	/* Recorded before anything else: whoever stops the lab can find us from here on. */
	snprintf(a.pid_path, sizeof(a.pid_path), "%s/agent.pid", dir);
	err = vl_agent_claim_pidfile(a.pid_path, &pidfd);
	if (err < 0) {
		vl_agent_report(pipefd, "E%d %s: %s\n", -err, a.pid_path, strerror(-err));
		_exit(1);
	}
	snprintf(a.log_path, sizeof(a.log_path), "%s/agent.log", dir);
	snprintf(a.state_dir, sizeof(a.state_dir), "%s", dir);
	a.logfd = open(a.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a.logfd < 0) {
		vl_agent_report(pipefd, "E%d %s: %s\n", errno, a.log_path, strerror(errno));
		_exit(1);
	}
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		close(fd);
	}
	dup2(a.logfd, 1);
	dup2(a.logfd, 2);
	if ((size_t)snprintf(a.sock_path, sizeof(a.sock_path), "%s/agent.sock", dir) >= sizeof(a.sock_path)) {
		vl_agent_report(pipefd, "E%d %s/agent.sock: path too long\n", ENAMETOOLONG, dir);
		_exit(1);
	}
	vl_agent_report(pipefd, "P%d\n", getpid());
	vlag_log(&a, "starting for lab %s: %zu endpoints", lab->name, lab->n_eps);

	a.epfd = epoll_create1(EPOLL_CLOEXEC);
	err = a.epfd < 0 ? -errno : 0;
	if (!err)
		err = open_signals(&a);
	if (!err)
		err = open_listeners(&a, why, sizeof(why));
	if (!err)
		err = vlag_open_fabrics(&a, why, sizeof(why));
	if (!err)
		err = open_ctl(&a, why, sizeof(why));
	if (err < 0) {
		if (!why[0])
			snprintf(why, sizeof(why), "%s", strerror(-err));
		vlag_log(&a, "startup failed: %s", why);
		vl_agent_report(pipefd, "E%d %s\n", -err, why);
		unlink(a.sock_path);
		_exit(1);
	}
	vlag_flow_open(&a);
	reserve_take(&a);
	vlag_log(&a, "ready: %zu listeners", a.n_ls);
	vl_agent_report(pipefd, "OK\n");
	close(pipefd);

	serve(&a);
	unlink(a.sock_path);
	/* still holding the lock: nobody takes a recorded pid of ours for a live agent */
	unlink(a.pid_path);
	vlag_log(&a, "stopped");
	_exit(0);
}
