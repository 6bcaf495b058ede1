// SPDX-License-Identifier: MIT
/*
 * The agent in the VNet fabrics: each fabric's NFLOG group (NSG drops, broadcast
 * to the watchers of agent.sock) and Azure-provided DNS at 168.63.129.16:53.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent-int.h"
#include "nflog.h"
#include "vnetlab/agent.h"
#include "vnetlab/ip.h"
#include "vnetlab/netns.h"
#include "vnetlab/nft.h"
#include "vnetlab/plan.h"

/* One DNS socket bound to 168.63.129.16:53 in the current namespace; 1 if the address is not here. */
static int dns_listen(struct agent *a, struct fabric *f, struct listener *l, int type, int vnet, char *why,
		      size_t why_len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(VL_DNS_PORT),
				  .sin_addr.s_addr = htonl(VL_IP_AZURE_PLATFORM)};
	const char *t = type == SOCK_STREAM ? "tcp" : "udp";
	int one = 1;
	int fd, err;

	*l = (struct listener){.o.fd = -1, .ep = VL_NONE, .port = VL_DNS_PORT, .dns = true, .vnet = vnet};
	fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "%s: DNS socket: %s", f->ns, strerror(errno));
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 128) < 0)) {
		err = -errno;
		close(fd);
		if (err == -EADDRNOTAVAIL) /* a plan without the platform address */
			return 1;
		snprintf(why, why_len, "%s: bind DNS %s/%d: %s", f->ns, t, VL_DNS_PORT, strerror(-err));
		return err;
	}
	l->o.fd = fd;
	l->o.kind = type == SOCK_STREAM ? K_TCP_LISTEN : K_DNS_UDP;
	err = vlag_ep_add(a, &l->o, EPOLLIN);
	if (err < 0)
		snprintf(why, why_len, "%s: epoll: %s", f->ns, strerror(-err));
	return err;
}

/* Enter namespace ns (*saved: the agent's own, for vl_netns_leave). -ENOENT, silently, when it does not exist. */
static int enter_ns(const char *ns, int *saved, char *why, size_t why_len)
{
	int nsfd, err = vl_netns_open(ns, &nsfd);

	if (err == -ENOENT)
		return err;
	if (err < 0) {
		snprintf(why, why_len, "open namespace %s: %s", ns, strerror(-err));
		return err;
	}
	err = vl_netns_enter(nsfd, saved);
	close(nsfd);
	if (err < 0)
		snprintf(why, why_len, "enter namespace %s: %s", ns, strerror(-err));
	return err;
}

/* NFLOG and DNS in fabric namespace f->ns (answering for `vnet`). -ENOENT when it does not exist. */
static int open_fabric(struct agent *a, struct fabric *f, int vnet, char *why, size_t why_len)
{
	int saved, err, u = 0, t = 0;

	f->dns_udp.o.fd = f->dns_tcp.o.fd = -1;
	if ((err = enter_ns(f->ns, &saved, why, why_len)) < 0)
		return err;
	err = vl_nflog_open((const uint16_t[]){VL_NFLOG_GROUP, VL_NFLOG_FLOW_GROUP}, 2, NFLOG_COPY, &f->nflog);
	if (err < 0)
		snprintf(why, why_len, "NFLOG groups %d and %d in %s: %s", VL_NFLOG_GROUP, VL_NFLOG_FLOW_GROUP,
			 f->ns, strerror(-err));
	if (!err)
		err = u = dns_listen(a, f, &f->dns_udp, SOCK_DGRAM, vnet, why, why_len);
	if (err >= 0)
		err = t = dns_listen(a, f, &f->dns_tcp, SOCK_STREAM, vnet, why, why_len);
	if (vl_netns_leave(saved) < 0 && err >= 0) {
		err = -errno;
		snprintf(why, why_len, "return to the agent's namespace: %s", strerror(errno));
	}
	if (err < 0)
		return err;
	f->nflog_obj.kind = K_NFLOG;
	f->nflog_obj.fd = mnl_socket_get_fd(f->nflog);
	vlag_log(a, "nflog groups %d (drops) and %d (allowed flows) in %s", VL_NFLOG_GROUP, VL_NFLOG_FLOW_GROUP,
		 f->ns);
	if (u || t)
		vlag_log(a, "no 168.63.129.16 in %s: Azure-provided DNS not served there", f->ns);
	else
		vlag_log(a, "dns 168.63.129.16:%d udp+tcp in %s", VL_DNS_PORT, f->ns);
	return vlag_ep_add(a, &f->nflog_obj, EPOLLIN);
}

/* NFLOG alone in an AKS node's namespace (its network policy drops). -ENOENT when it does not exist. */
static int open_node(struct agent *a, struct fabric *f, char *why, size_t why_len)
{
	int saved, err;

	f->dns_udp.o.fd = f->dns_tcp.o.fd = -1;
	if ((err = enter_ns(f->ns, &saved, why, why_len)) < 0)
		return err;
	err = vl_nflog_open((const uint16_t[]){VL_NFLOG_GROUP}, 1, NFLOG_COPY, &f->nflog);
	if (err < 0)
		snprintf(why, why_len, "NFLOG group %d in %s: %s", VL_NFLOG_GROUP, f->ns, strerror(-err));
	if (vl_netns_leave(saved) < 0 && err >= 0) {
		err = -errno;
		snprintf(why, why_len, "return to the agent's namespace: %s", strerror(errno));
	}
	if (err < 0)
		return err;
	f->nflog_obj.kind = K_NFLOG;
	f->nflog_obj.fd = mnl_socket_get_fd(f->nflog);
	vlag_log(a, "nflog group %d in %s (network policies)", VL_NFLOG_GROUP, f->ns);
	return vlag_ep_add(a, &f->nflog_obj, EPOLLIN);
}

/* The nodes of clusters that enforce network policies. */
static int open_nodes(struct agent *a, char *why, size_t why_len)
{
	const struct vl_lab *lab = a->lab;

	for (size_t i = 0; i < lab->n_eps; i++) {
		const struct vl_endpoint *e = &lab->eps[i];
		struct fabric *f = &a->fabrics[a->n_fabrics];
		int err;

		if (e->kind != VL_EP_NODE || lab->aks[e->owner].netpol == VL_NETPOL_NONE)
			continue;
		vl_ns_name(f->ns, lab->name, e->name);
		err = open_node(a, f, why, why_len);
		if (err == -ENOENT)
			continue;
		if (err < 0)
			return err;
		a->n_fabrics++;
	}
	return 0;
}

/* Every VNet's fabric, and the nodes that enforce network policies. */
int vlag_open_fabrics(struct agent *a, char *why, size_t why_len)
{
	const struct vl_lab *lab = a->lab;
	int err;

	a->fabrics = calloc(lab->n_vnets + lab->n_eps + 1, sizeof(*a->fabrics));
	if (!a->fabrics)
		return -ENOMEM;
	for (size_t v = 0; v < lab->n_vnets; v++) {
		struct fabric *f = &a->fabrics[a->n_fabrics];

		vl_fabric_ns_name(f->ns, lab, (int)v);
		err = open_fabric(a, f, (int)v, why, why_len);
		if (err == -ENOENT)
			continue;
		if (err < 0)
			return err;
		a->n_fabrics++;
	}
	if (!a->n_fabrics)
		vlag_log(a, "no fabric namespace: drops will not be attributed, DNS not served");
	return open_nodes(a, why, why_len);
}

void vlag_dns_udp(struct agent *a, struct listener *l)
{
	for (int i = 0; i < 64; i++) {
		struct sockaddr_in sin;
		socklen_t sl = sizeof(sin);
		uint8_t in[1500], out[1024];
		ssize_t n = recvfrom(l->o.fd, in, sizeof(in), 0, (struct sockaddr *)&sin, &sl);
		int m;

		if (n < 0)
			return;
		a->dns_queries++;
		m = vl_dns_answer(a->lab, l->vnet, in, (size_t)n, out, sizeof(out));
		if (m > 0)
			sendto(l->o.fd, out, (size_t)m, MSG_DONTWAIT, (struct sockaddr *)&sin, sl);
	}
}

static void watch_send(struct ctl *c);

static void on_drop(const struct vl_drop *logged, void *data)
{
	struct agent *a = data;
	struct vl_drop named = *logged, *d = &named;
	char line[512];
	int n;

	vlag_flow_record(a, logged);
	if (logged->allowed)
		return;
	/* Named here when the agent can: watchers then need no model of their own. */
	if (d->id && !d->nsg[0]) {
		struct vl_flow f = {.id = d->id};

		if (vlag_name_rule(a, &f) == 0 && strlen(f.nsg) < sizeof(d->nsg) && strlen(f.rule) < sizeof(d->rule) &&
		    strlen(f.nsg) + strlen(f.rule) + 1 < 200) {
			snprintf(d->nsg, sizeof(d->nsg), "%s", f.nsg);
			snprintf(d->rule, sizeof(d->rule), "%s", f.rule);
		}
	}
	n = vl_drop_format(line, sizeof(line), d);
	if (n < 0)
		return;
	a->drops++;
	/* a flood is summed up, not written line by line: the log lives on a small tmpfs */
	if (vlag_now_ms() / 1000 != a->drop_sec) {
		if (a->suppressed)
			vlag_log(a, "%lu more drops in that second not logged", a->suppressed);
		a->drop_sec = vlag_now_ms() / 1000;
		a->drops_logged = 0;
		a->suppressed = 0;
	}
	if (a->drops_logged < VL_AGENT_DROP_LINES_PER_S) {
		a->drops_logged++;
		vlag_log(a, "%.*s", n - 1, line);
	} else {
		a->suppressed++;
	}
	for (struct node *x = a->ctls; x; x = x->next) {
		struct ctl *c = (struct ctl *)x;

		if (!c->watching)
			continue;
		if (c->pend_len + (size_t)n > sizeof(c->pend)) {
			watch_send(c);
			if (!c->watching)
				continue;
		}
		memcpy(c->pend + c->pend_len, line, (size_t)n);
		c->pend_len += (size_t)n;
	}
}

/*
 * A watcher's pending records as one message. One message a record overran the watcher's socket
 * when thousands of flows were dropped at once (verify): the socket's buffer is counted in
 * buffers, each far larger than a line. A watcher that does not keep up loses records (a whole
 * message of them when its socket is full), it does not stall the agent. A broken one is shut down, not
 * freed: it may be in this epoll batch; its EOF frees it.
 */
static void watch_send(struct ctl *c)
{
	if (!c->pend_len)
		return;
	if (send(c->n.o.fd, c->pend, c->pend_len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
		c->watching = false;
		shutdown(c->n.o.fd, SHUT_RDWR);
	}
	c->pend_len = 0;
}

static void watch_flush(struct agent *a)
{
	for (struct node *x = a->ctls; x; x = x->next)
		if (((struct ctl *)x)->watching)
			watch_send((struct ctl *)x);
}

void vlag_nflog_readable(struct agent *a, int fd)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == ENOBUFS) {
				vlag_log(a, "nflog: receive queue overrun, some drops were not reported");
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				vlag_log(a, "nflog: %s", strerror(errno));
			return;
		}
		vl_nflog_parse(buf, (size_t)n, on_drop, a);
		watch_flush(a);
		vlag_flow_flush(a);
	}
}
