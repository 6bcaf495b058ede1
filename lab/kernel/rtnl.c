// SPDX-License-Identifier: MIT
/*
 * The rtnetlink transport of apply. Every namespace gets one socket opened
 * inside it. Requests are queued per socket and sent many to a send(); the
 * kernel handles them in order and queues one ACK each, which we collect
 * afterwards. Interface indexes are chosen by us (each namespace is new, lo
 * is 1), so addresses, routes and masters can be queued without asking the
 * kernel.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel.h"
#include "vnetlab/model.h"

/* Outstanding requests per socket: their ACKs must fit the receive buffer. */
#define WINDOW 128
#define SEND_MAX (48 * 1024)
#define SOCK_BUF (1 << 20)

struct vlk_pending {
	uint32_t seq;
	int op;
	size_t idx;
};

struct vlk_dev {
	const char *name;
	int ifindex;
};

/**
 * vlk_nlerr_to_errno - map a libnl -NLE_* code to -errno (unknown ones: -EIO)
 */
int vlk_nlerr_to_errno(int nlerr)
{
	static const int map[] = {
	    [NLE_SUCCESS] = 0,
	    [NLE_FAILURE] = EIO,
	    [NLE_INTR] = EINTR,
	    [NLE_BAD_SOCK] = EBADF,
	    [NLE_AGAIN] = EAGAIN,
	    [NLE_NOMEM] = ENOMEM,
	    [NLE_EXIST] = EEXIST,
	    [NLE_INVAL] = EINVAL,
	    [NLE_RANGE] = ERANGE,
	    [NLE_MSGSIZE] = EMSGSIZE,
	    [NLE_OPNOTSUPP] = EOPNOTSUPP,
	    [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
	    [NLE_OBJ_NOTFOUND] = ENOENT,
	    [NLE_NOATTR] = ENOENT,
	    [NLE_MISSING_ATTR] = EINVAL,
	    [NLE_AF_MISMATCH] = EAFNOSUPPORT,
	    [NLE_SEQ_MISMATCH] = EPROTO,
	    [NLE_MSG_OVERFLOW] = EOVERFLOW,
	    [NLE_MSG_TRUNC] = EMSGSIZE,
	    [NLE_NOADDR] = EADDRNOTAVAIL,
	    [NLE_SRCRT_NOSUPPORT] = EOPNOTSUPP,
	    [NLE_MSG_TOOSHORT] = EPROTO,
	    [NLE_MSGTYPE_NOSUPPORT] = EOPNOTSUPP,
	    [NLE_OBJ_MISMATCH] = EINVAL,
	    [NLE_NOCACHE] = ENOENT,
	    [NLE_BUSY] = EBUSY,
	    [NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
	    [NLE_NOACCESS] = EACCES,
	    [NLE_PERM] = EPERM,
	    [NLE_PKTLOC_FILE] = ENOENT,
	    [NLE_PARSE_ERR] = EINVAL,
	    [NLE_NODEV] = ENODEV,
	    [NLE_IMMUTABLE] = EPERM,
	    [NLE_DUMP_INTR] = EINTR,
	    [NLE_ATTRSIZE] = EINVAL,
	};
	int e = nlerr < 0 ? -nlerr : nlerr;

	if (e == 0)
		return 0;
	if ((size_t)e >= sizeof(map) / sizeof(map[0]) || !map[e])
		return -EIO;
	return -map[e];
}

/**
 * vlk_fail - record the first failure of an apply and its message
 */
void vlk_fail(struct vlk_rtnl *r, int ret, const char *fmt, ...)
{
	char what[400];
	va_list ap;

	pthread_mutex_lock(&r->lock);
	if (!r->first_err) {
		r->first_err = ret;
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		vl_error_set(r->err, NULL, (struct vl_loc){0, 0}, "%s", what);
	}
	pthread_mutex_unlock(&r->lock);
}

/**
 * vlk_failed - whether any thread has failed yet
 *
 * first_err is written under the lock by any thread: read it there too.
 */
bool vlk_failed(struct vlk_rtnl *r)
{
	bool f;

	pthread_mutex_lock(&r->lock);
	f = r->first_err != 0;
	pthread_mutex_unlock(&r->lock);
	return f;
}

/**
 * vlk_ns_init - a namespace context before the namespace exists
 */
void vlk_ns_init(struct vlk_ns *c, const char *name)
{
	*c = (struct vlk_ns){.name = name, .fd = -1, .next_ifindex = VLK_LOOPBACK_IFINDEX + 1};
}

/**
 * vlk_ns_open - open the namespace's rtnetlink socket from inside it
 */
int vlk_ns_open(struct vlk_ns *c)
{
	int one = 1, ret;

	c->sk = nl_socket_alloc();
	if (!c->sk)
		return -ENOMEM;
	ret = nl_connect(c->sk, NETLINK_ROUTE);
	if (ret < 0) {
		ret = vlk_nlerr_to_errno(ret);
		goto err;
	}
	ret = nl_socket_set_buffer_size(c->sk, SOCK_BUF, SOCK_BUF);
	if (ret < 0) {
		ret = vlk_nlerr_to_errno(ret);
		goto err;
	}
	/* Best effort: without it an error message has no kernel text, nothing else changes. */
	setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	return 0;
err:
	nl_socket_free(c->sk);
	c->sk = NULL;
	return ret;
}

/**
 * vlk_ns_close - close a namespace context's socket and file, free its buffers
 */
void vlk_ns_close(struct vlk_ns *c)
{
	if (c->sk)
		nl_socket_free(c->sk);
	if (c->fd >= 0)
		close(c->fd);
	free(c->devs);
	free(c->buf);
	free(c->pend);
	c->sk = NULL;
	c->fd = -1;
	c->devs = NULL;
	c->buf = NULL;
	c->pend = NULL;
}

static size_t name_hash(const char *name)
{
	size_t h = 2166136261u; /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 16777619u;
	return h;
}

/* The slot of name in the table of devices (open addressing; cap_devs a power of two). */
static struct vlk_dev *dev_slot(const struct vlk_ns *c, const char *name)
{
	size_t mask = c->cap_devs - 1, i = name_hash(name) & mask;

	while (c->devs[i].name && strcmp(c->devs[i].name, name))
		i = (i + 1) & mask;
	return &c->devs[i];
}

/**
 * vlk_dev_add - give a device the namespace's next free interface index
 *
 * The names are in a hash table: a fabric has a device per NIC, and every link, address and
 * route looks its device up (a list made that quadratic: 0.2 s of CPU at 5,000 VMs).
 */
int vlk_dev_add(struct vlk_ns *c, const char *name)
{
	int ifindex = c->next_ifindex++;
	struct vlk_dev *d;

	if (2 * (c->n_devs + 1) > c->cap_devs) {
		struct vlk_ns grown = *c;

		grown.cap_devs = c->cap_devs ? 2 * c->cap_devs : 16;
		grown.devs = calloc(grown.cap_devs, sizeof(*grown.devs));
		if (!grown.devs)
			return -ENOMEM;
		for (size_t i = 0; i < c->cap_devs; i++)
			if (c->devs[i].name)
				*dev_slot(&grown, c->devs[i].name) = c->devs[i];
		free(c->devs);
		c->devs = grown.devs;
		c->cap_devs = grown.cap_devs;
	}
	d = dev_slot(c, name);
	if (!d->name)
		c->n_devs++;
	*d = (struct vlk_dev){name, ifindex}; /* a name given twice: the later device */
	return ifindex;
}

/**
 * vlk_dev_index - the interface index given to a device, or 0
 */
int vlk_dev_index(const struct vlk_ns *c, const char *name)
{
	if (!strcmp(name, "lo"))
		return VLK_LOOPBACK_IFINDEX;
	if (!c->cap_devs)
		return 0;
	return dev_slot(c, name)->ifindex;
}

/* The kernel's own words on a failed request (NETLINK_EXT_ACK), or NULL. */
static const char *nlmsgerr_text(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	const char *end = (const char *)h + h->nlmsg_len;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	for (const char *p = (const char *)h + NLMSG_ALIGN(off); p + sizeof(struct nlattr) <= end;) {
		const struct nlattr *at = (const void *)p;

		if (at->nla_len < sizeof(*at) || p + at->nla_len > end)
			break;
		if ((at->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG && at->nla_len > sizeof(*at))
			return (const char *)(at + 1);
		p += NLA_ALIGN(at->nla_len);
	}
	return NULL;
}

/**
 * vlk_rtnl_flush - send a namespace's queued requests and collect their ACKs
 */
int vlk_rtnl_flush(struct vlk_rtnl *r, struct vlk_ns *c)
{
	char rbuf[64 * 1024];
	size_t got = 0;
	int fd;

	if (!c->n_pend)
		return 0;
	fd = nl_socket_get_fd(c->sk);
	if (send(fd, c->buf, c->len, 0) < 0) {
		int ret = -errno;

		vlk_fail(r, ret, "sending netlink requests in %s: %s", c->name, strerror(-ret));
		c->len = c->n_pend = 0;
		return ret;
	}
	while (got < c->n_pend) {
		ssize_t n = recv(fd, rbuf, sizeof(rbuf), 0);

		if (n < 0) {
			int ret = -errno;

			if (ret == -EINTR)
				continue;
			vlk_fail(r, ret, "reading netlink acks in %s: %s", c->name, strerror(-ret));
			c->len = c->n_pend = 0;
			return ret;
		}
		/* n > 0 first: NLMSG_NEXT may take n below zero after an unpadded last message. */
		for (struct nlmsghdr *h = (void *)rbuf; n > 0 && NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			const struct nlmsgerr *e = NLMSG_DATA(h);
			uint32_t k = h->nlmsg_seq - c->pend[0].seq;
			char what[300];
			const char *ext;

			if (h->nlmsg_type != NLMSG_ERROR || k >= c->n_pend)
				continue;
			got++;
			if (!e->error)
				continue;
			r->describe(r->describe_arg, c->name, c->pend[k].op, c->pend[k].idx, what,
				    sizeof(what));
			ext = nlmsgerr_text(h);
			vlk_fail(r, e->error, "%s: %s%s%s%s", what, strerror(-e->error), ext ? " (" : "",
				 ext ? ext : "", ext ? ")" : "");
		}
	}
	c->len = c->n_pend = 0;
	return r->first_err;
}

/**
 * vlk_rtnl_queue - append a request to a namespace's batch, sending the batch when full
 */
int vlk_rtnl_queue(struct vlk_rtnl *r, struct vlk_ns *c, struct nl_msg *msg, int op, size_t idx)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	size_t len = NLMSG_ALIGN(h->nlmsg_len);
	int ret = 0;

	if (c->n_pend >= WINDOW || c->len + len > SEND_MAX) {
		ret = vlk_rtnl_flush(r, c);
		if (ret < 0)
			goto out;
	}
	if (c->len + len > c->cap) {
		size_t cap = c->cap ? c->cap : 4096;
		char *b;

		while (cap < c->len + len)
			cap *= 2;
		b = realloc(c->buf, cap);
		if (!b) {
			ret = -ENOMEM;
			goto out;
		}
		c->buf = b;
		c->cap = cap;
	}
	if (!c->pend) {
		c->pend = calloc(WINDOW, sizeof(*c->pend));
		if (!c->pend) {
			ret = -ENOMEM;
			goto out;
		}
	}
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = ++c->seq;
	h->nlmsg_pid = 0;
	memcpy(c->buf + c->len, h, h->nlmsg_len);
	memset(c->buf + c->len + h->nlmsg_len, 0, len - h->nlmsg_len);
	c->len += len;
	c->pend[c->n_pend++] = (struct vlk_pending){h->nlmsg_seq, op, idx};
out:
	nlmsg_free(msg);
	if (ret == -ENOMEM)
		vlk_fail(r, ret, "queueing a netlink request in %s: %s", c->name, strerror(ENOMEM));
	return ret;
}

/**
 * vlk_rtnl_flush_all - flush every namespace, going on past failures
 */
int vlk_rtnl_flush_all(struct vlk_rtnl *r, struct vlk_ns *ns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vlk_rtnl_flush(r, &ns[i]);
	return r->first_err;
}
